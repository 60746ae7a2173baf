"""Tiny data, module-level models (they pickle) and fast training settings."""

import numpy as np
import pandas as pd
import sklearn
import torch
from scipy.special import expit
from sklearn.utils import get_tags
from sklearn.utils.fixes import parse_version

#: Settings that make every explainer train in about a second.
FAST = {
    "max_epochs": 2,
    "batch_size": 64,
    "generator_hidden": (32, 32),
    "discriminator_hidden": (32, 32),
    "surrogate_hidden": (16,),
    "surrogate_epochs": 3,
    "surrogate_refresh_rows": 64,
    "noise_dim": 4,
    "random_state": 0,
}


def expected_failed_checks(estimator):
    """scikit-learn's estimator checks that the installed release gets wrong.

    For ``parametrize_with_checks(..., expected_failed_checks=...)``: these
    are bugs of the check, not of the estimator, so the list depends on the
    scikit-learn release only.
    """
    old = parse_version(sklearn.__version__) < parse_version("1.8")
    if old and get_tags(estimator).input_tags.categorical:
        return {
            "check_positive_only_tag_during_fit": (
                "before 1.8 the check subtracts a float mean in place from the "
                "int32 data it makes for an estimator that takes categorical "
                "input, and can fail before fitting"
            )
        }
    return {}


def make_mixed_frame(n=160, seed=0):
    rng = np.random.RandomState(seed)
    return pd.DataFrame(
        {
            "age": rng.randint(18, 70, size=n).astype("int64"),
            "hours": rng.normal(40, 8, size=n).round(1),
            "color": rng.choice(["red", "green", "blue"], size=n),
            "member": rng.rand(n) > 0.5,
        },
        index=pd.RangeIndex(100, 100 + n, name="id"),
    )


class NamedModel:
    """A model function whose repr is its name.

    scikit-learn's estimator checks put the estimator's repr in the test
    ids; a plain function's repr holds its memory address, which differs
    between pytest-xdist's workers, and they refuse to run differing ids.
    """

    def __init__(self, function):
        self.function = function

    def __call__(self, X):
        return self.function(X)

    def __repr__(self):
        return self.function.__name__


def _numbers(column):
    """A column as float64; pandas 2.0 gives nullable columns as objects."""
    return np.asarray(column, dtype=np.float64)


def frame_proba(X):
    """A binary classifier on the mixed frame (module level: it pickles)."""
    score = (
        (_numbers(X["age"]) - 44) / 8
        + (X["color"].to_numpy() == "red") * 1.5
        - (_numbers(X["hours"]) - 40) / 10
    )
    # expit: a score far from 0 gives 0 or 1 without an overflow warning.
    p = expit(score)
    return np.column_stack([1 - p, p])


class CategoryModel:
    """:func:`frame_proba` as a model that reads text only as ``category`` columns.

    It refuses other text columns as XGBoost's ``enable_categorical`` does
    ("DataFrame.dtypes for data must be int, float, bool or category"), and
    columns named in ``categories`` unless they are ``category`` columns.
    """

    def __init__(self, categories=()):
        self.categories = list(categories)

    def predict_proba(self, X):
        # As XGBoost: first the dtypes it takes at all, then the training's.
        text = [
            name
            for name in X.columns
            if not pd.api.types.is_numeric_dtype(X[name].dtype)
            and not isinstance(X[name].dtype, pd.CategoricalDtype)
        ]
        if text:
            raise ValueError(f"dtypes must be int, float, bool or category: {text}")
        for name in self.categories:
            if not isinstance(X[name].dtype, pd.CategoricalDtype):
                raise ValueError(f"column {name!r} must be a category")
        return frame_proba(X.astype({name: str for name in ("color",) if name in X}))


def frame_proba_3(X):
    """A three-class classifier on the mixed frame."""
    age = _numbers(X["age"])
    logits = np.column_stack([(40 - age) / 6, np.zeros(len(age)), (age - 50) / 6])
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def frame_value(X):
    """A regression model on the mixed frame."""
    return _numbers(X["age"]) * 2.0 + _numbers(X["hours"])


def array_proba(X):
    """Sigmoid of the row sum, for any number of numeric columns."""
    s = np.asarray(X, dtype=float).sum(axis=1)
    p = 1 / (1 + np.exp(-s))
    return np.column_stack([1 - p, p])


#: Settings that make the autoencoder explainers train in about a second.
FAST_AUTOENCODER = {
    "max_epochs": 2,
    "batch_size": 64,
    "hidden_sizes": (16, 16),
    "latent_dim": 4,
    "surrogate_hidden": (16,),
    "surrogate_epochs": 3,
    "surrogate_refresh_rows": 64,
    "random_state": 0,
}


def make_images(n=96, seed=0, channels=None):
    """8x8 uint8 images with a bright blob in the left or the right half."""
    rng = np.random.RandomState(seed)
    images = rng.randint(0, 40, size=(n, 8, 8)).astype(np.uint8)
    right = rng.rand(n) > 0.5
    for i in range(n):
        columns = slice(5, 8) if right[i] else slice(0, 3)
        images[i, 2:6, columns] = rng.randint(180, 256)
    if channels is not None:
        images = np.repeat(images[:, None], channels, axis=1)
    return images


class HalfBrightness(torch.nn.Module):
    """A differentiable image 'classifier': is the right half brighter?

    Takes images as float tensors of shape (n, 8, 8) or (n, C, 8, 8) with
    grey levels 0-255 (or 0-1 with ``scale=255``) and returns two logits.
    """

    def __init__(self, scale=1.0):
        super().__init__()
        self.scale = scale

    def forward(self, X):
        X = X.reshape(X.shape[0], -1, 8, 8) * self.scale
        difference = X[..., 4:].mean(dim=(1, 2, 3)) - X[..., :4].mean(dim=(1, 2, 3))
        logit = difference / 20.0
        return torch.stack([-logit, logit], dim=1)


def image_proba(X):
    """HalfBrightness as a black-box callable on numpy images."""
    with torch.no_grad():
        logits = HalfBrightness()(torch.as_tensor(np.asarray(X, dtype=np.float32)))
    return torch.softmax(logits, dim=1).numpy()


def make_series(n=96, seed=0, channels=1, length=24):
    """Sine beats whose amplitude (1 or 2) is the class, plus noise."""
    rng = np.random.RandomState(seed)
    steps = np.linspace(0, 1, length)
    amplitude = 1.0 + rng.randint(0, 2, size=n)
    beat = np.sin(2 * np.pi * steps)[None, None, :] * amplitude[:, None, None]
    noise = 0.1 * rng.normal(size=(n, channels, length))
    return (beat + noise).astype(np.float32)


class PeakHeight(torch.nn.Module):
    """A differentiable series 'classifier': is the first channel's peak above 1.5?

    Takes float tensors ``(n, channels, steps)`` and returns two logits.
    """

    def forward(self, X):
        peak = torch.logsumexp(8.0 * X[:, 0], dim=1) / 8.0
        logit = 4.0 * (peak - 1.5)
        return torch.stack([-logit, logit], dim=1)


def series_proba(X):
    """PeakHeight as a black-box callable on numpy series."""
    with torch.no_grad():
        logits = PeakHeight()(torch.as_tensor(np.asarray(X, dtype=np.float32)))
    return torch.softmax(logits, dim=1).numpy()


class ShiftedPredict:
    """:func:`frame_proba` whose ``predict`` needs a score above 2, not 0.

    A classifier whose ``predict`` is not the argmax of its
    ``predict_proba``, as ``SVC(probability=True)`` near its boundary.
    """

    classes_ = np.array([0, 1])

    def __init__(self, threshold=2.0):
        self.threshold = threshold

    def predict_proba(self, X):
        return frame_proba(X)

    def predict(self, X):
        p = frame_proba(X)[:, 1]
        return (np.log(p / (1 - p)) > self.threshold).astype(int)
