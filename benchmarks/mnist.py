"""MNIST and Colored MNIST benchmark for the image explainers.

Paper 1's MNIST protocol, and paper 2's Colored-MNIST task (section 5.2)
with ``--dataset colored``: ``load_colored_mnist()``, the same 5,000 digits
drawn in red, green or blue, 30 classes (``3 * digit + colour``) of
``(3, 28, 28)`` images; everything below then reads "class" for "digit",
the CNN takes 3 channels and gives 30 logits, and the offsets of the
targets are drawn from 1..29.

Protocol: ``load_mnist_sample()`` (5,000 digits, 500 of each), split 4,000
train / 1,000 test with ``train_test_split(..., test_size=1000,
stratify=target, random_state=0)``. Images are float32 arrays of shape
``(n, 1, 28, 28)`` with values in [0, 1] (grey levels / 255), for the
classifier and the explainers alike. The classifier is a small CNN trained
here (two 3x3 convolutions with 32 and 64 filters, each followed by ReLU and
a 2x2 max-pool, dropout, a 128-unit hidden layer and 10 logits; Adam 1e-3,
batch 64, 10 epochs, ``torch.manual_seed(0)``; about 97% test accuracy).
The ``torch.nn.Module`` itself, in eval mode on the CPU with its parameters
frozen, is the model under explanation:
``explainer.fit(X_train, predict_fn=cnn)``.

Each explainer is fit on the 4,000 training images and asked, for each of the
1,000 test images, for a different digit: ``target = (predicted digit +
offset) % 10`` with ``offset`` drawn per row from 1..9 by
``np.random.RandomState(0)``, passed as one label per row:
``explainer.transform(X_test, target=targets)``.

Reported per setting:

* validity: share of the test rows whose counterfactual the CNN predicts as
  the target digit;
* L1: the mean absolute pixel change between an original and its
  counterfactual, pixels in [0, 1] units, averaged over the 784 pixels of an
  image and then over the 1,000 test images (times 784 it is the mean
  per-image L1 distance);
* MMD²: the unbiased MMD² (``cfexplain.metrics.mmd2(..., encode=False)``,
  median-heuristic bandwidth) between the counterfactuals and the real test
  images, both embedded by a randomly initialised convolutional encoder
  (``cfexplain.metrics.RandomImageEmbedding(random_state=0)``, paper 1,
  appendix A.1: three 7x7 stride-2 convolutions with 64, 128 and 256
  filters, padding 3 so 28 -> 14 -> 7 -> 4, each followed by
  LeakyReLU(0.01), then a linear layer to 32 dimensions; weights drawn after
  ``torch.manual_seed(0)``, the same encoder for every setting);
* class MMD²: for each digit d, the MMD² between the counterfactuals whose
  *target* is d and the real test images the CNN predicts as d
  (``class_conditional_mmd2`` on the embeddings), mean and max over the 10
  digits; the JSON also keeps each digit's value, and the mean when the
  counterfactuals are grouped by the CNN's prediction instead of the target;
* vs floor: the class MMD² (mean) over the noise floor below;
* IM1 and IM2 (Van Looveren & Klaise 2019, section 5; lower is better):
  ``cfexplain.metrics.InterpretabilityAutoencoders(random_state=0)``, one
  small autoencoder per class trained on the training images of that
  (true) class and one on all of them, 20 epochs each; the original class
  is the CNN's prediction on the original, the counterfactual's class the
  CNN's prediction on it; means over the test images;
* fit seconds, transform seconds and images/s for the 1,000 test images
  (after a 100-image warm-up call), the transform's time over one call of
  the CNN on the same images (``transform_over_predict``; the call's best of
  three is ``meta.predict_seconds``), and the process's peak memory
  (``ru_maxrss``, so it includes everything run before in the process).

Noise floor ("real vs real (floor)"), computed once: the same class MMD²
between two disjoint random halves of the test images of each predicted
digit (mean and max over digits), and the overall MMD² between two random
halves of the test set. The project's goal is a class MMD² within 2x that
floor.

Everything is seeded (NumPy, torch, the split, the targets, the halves, the
encoder, and the global RNGs again before each setting), so two runs on the
same machine and thread count give the same numbers, whichever settings run.

Usage::

    python benchmarks/mnist.py                           # the four settings
    python benchmarks/mnist.py --settings gan --max-epochs 5
    python benchmarks/mnist.py --settings ""             # classifier + floor only
    python benchmarks/mnist.py --dataset colored         # Colored MNIST

Writes ``benchmarks/results/mnist.json`` and ``mnist.md`` (Colored MNIST:
``colored_mnist.*``) and the grid of counterfactuals
``docs/_static/mnist_counterfactuals.png`` (``colored_mnist_...``; the
settings that ran, nothing when none ran). The JSON is merged: rows of
settings that did not run this time are kept from the existing file, rows of
settings that ran are
replaced, and ``meta`` (classifier, floor, environment) is the current run's.
The Markdown table is written from the merged rows; the grid only shows the
settings run this time.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch import nn

from cfexplain import datasets
from cfexplain.metrics import (
    InterpretabilityAutoencoders,
    RandomImageEmbedding,
    class_conditional_mmd2,
    mmd2,
)

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
STATIC = HERE.parent / "docs" / "_static"

#: Setting name -> (description, constructor keyword arguments).
SETTINGS = {
    "cvae_enc_dec": (
        'CounterfactualCVAE(mode="enc-dec")',
        {"mode": "enc-dec", "random_state": 0},
    ),
    "cvae_cond_mix": (
        'CounterfactualCVAE(mode="cond-mix")',
        {"mode": "cond-mix", "random_state": 0},
    ),
    # 1e-3: the AE's default of 2e-4 suits tables (many rows, many updates);
    # 4,000 images give 15 updates an epoch.
    "ae": ("CounterfactualAE(lr=1e-3)", {"lr": 1e-3, "random_state": 0}),
    "gan": ("CounterfactualGAN()", {"random_state": 0}),
}
#: Dataset name -> (loader name, number of classes, file stem).
DATASETS = {
    "mnist": ("load_mnist_sample", 10, "mnist"),
    "colored": ("load_colored_mnist", 30, "colored_mnist"),
}
N_TEST = 1000
WARM_UP_ROWS = 100
PREDICT_BATCH = 500


def _seconds(function):
    """Wall-clock seconds of one call of ``function``."""
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def seed_everything(seed=0):
    """Seed NumPy's and torch's global random number generators."""
    np.random.seed(seed)  # noqa: NPY002 - the explainers may use the global RNG
    torch.manual_seed(seed)


def peak_memory_mb():
    """Peak resident memory of this process so far, in MiB (Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_split(dataset="mnist"):
    """Load the MNIST sample (or Colored MNIST) and split it 4,000 / 1,000, stratified.

    Parameters
    ----------
    dataset : {"mnist", "colored"}
        Which images.

    Returns
    -------
    X_train, X_test : numpy.ndarray of shape (n, channels, 28, 28), float32
        Grey levels / 255, in [0, 1].
    y_train, y_test : numpy.ndarray of shape (n,), int64
        The true classes.
    """
    bunch = getattr(datasets, DATASETS[dataset][0])()
    X = bunch.images.astype(np.float32) / 255.0  # (n, channels, 28, 28)
    y = np.asarray(bunch.target, dtype=np.int64)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=N_TEST, stratify=y, random_state=0
    )
    return X_train, X_test, y_train, y_test


class SmallCNN(nn.Module):
    """Two 3x3 convolutions (32, 64) with max-pools, dropout, 128 units, logits.

    Padding 1 and a 2x2 max-pool after each convolution: 28 -> 14 -> 7.

    Parameters
    ----------
    in_channels : int, default=1
        Channels of the images.
    n_classes : int, default=10
        Logits.
    """

    def __init__(self, in_channels=1, n_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Dropout(0.25),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, 128),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(128, n_classes),
        )

    def forward(self, x):
        """Return the logits for a batch of shape (n, in_channels, 28, 28)."""
        return self.classifier(self.features(x))


def train_classifier(X, y, *, epochs=10, batch_size=64, lr=1e-3, seed=0, n_classes=10):
    """Train :class:`SmallCNN` with Adam and return it in eval mode, frozen.

    Parameters
    ----------
    X : numpy.ndarray of shape (n, channels, 28, 28), float32
        Training images in [0, 1].
    y : numpy.ndarray of shape (n,)
        Classes.
    epochs, batch_size, lr : int, int, float
        Training schedule.
    seed : int
        Seed of ``torch.manual_seed`` (weights, dropout) and of the shuffling.
    n_classes : int
        Logits of the network.

    Returns
    -------
    SmallCNN
        On the CPU, in eval mode, with ``requires_grad`` off for every
        parameter (gradients still flow to its inputs).
    """
    torch.manual_seed(seed)
    cnn = SmallCNN(X.shape[1], n_classes)
    optimizer = torch.optim.Adam(cnn.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    X_t = torch.from_numpy(X)
    y_t = torch.from_numpy(np.asarray(y, dtype=np.int64))
    shuffle = torch.Generator().manual_seed(seed)
    cnn.train()
    for _ in range(epochs):
        order = torch.randperm(len(X_t), generator=shuffle)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(cnn(X_t[batch]), y_t[batch])
            loss.backward()
            optimizer.step()
    cnn.eval()
    cnn.requires_grad_(False)
    return cnn


def predict_proba(cnn, X, batch_size=PREDICT_BATCH):
    """Class probabilities of the CNN, in batches under ``torch.no_grad()``.

    Parameters
    ----------
    cnn : torch.nn.Module
        The classifier (used in whatever mode it is in; it should be eval).
    X : numpy.ndarray of shape (n, channels, 28, 28)
        Images in [0, 1].
    batch_size : int
        Images per forward pass.

    Returns
    -------
    numpy.ndarray of shape (n, n_classes), float32
    """
    X = np.asarray(X, dtype=np.float32)
    out = []
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            logits = cnn(torch.from_numpy(X[start : start + batch_size]))
            out.append(torch.softmax(logits, dim=1).numpy())
    return np.concatenate(out)


def build_random_encoder(X, seed=0):
    """Paper 1's randomly initialised image encoder, fitted to the images' shape."""
    return RandomImageEmbedding(random_state=seed).fit(X)


def embed(encoder, X):
    """Embed images with the random encoder; returns float64 of shape (n, 32)."""
    return encoder.transform(X)


def choose_targets(predicted, seed=0, n_classes=10):
    """Target class per row: ``(predicted + offset) % k``, offset in 1..k-1."""
    offsets = np.random.RandomState(seed).randint(1, n_classes, size=len(predicted))
    return (np.asarray(predicted) + offsets) % n_classes


def _summary(per_class):
    values = np.array([v for v in per_class.values() if not math.isnan(v)])
    if values.size == 0:
        return float("nan"), float("nan")
    return float(values.mean()), float(values.max())


def _plain_dict(per_class):
    return {str(k): (None if math.isnan(v) else float(v)) for k, v in per_class.items()}


def noise_floor(Z_test, predicted, seed=0, classes=tuple(range(10))):
    """MMD² between disjoint random halves of the real test images.

    Parameters
    ----------
    Z_test : numpy.ndarray of shape (n, 32)
        Embedded test images.
    predicted : numpy.ndarray of shape (n,)
        The CNN's predicted digit per test image.
    seed : int
        Seed of the random halves.
    classes : sequence of int
        The classes.

    Returns
    -------
    dict
        ``mmd2`` (overall, two random halves of the test set),
        ``class_mmd2_mean`` / ``class_mmd2_max`` (per predicted digit, its
        test images split into two random halves) and ``class_mmd2``, the
        value per digit.
    """
    rng = np.random.RandomState(seed)
    order = rng.permutation(len(Z_test))
    half = len(order) // 2
    overall = mmd2(Z_test[order[:half]], Z_test[order[half:]], encode=False)
    first, second = [], []
    for digit in classes:
        rows = rng.permutation(np.flatnonzero(predicted == digit))
        first.append(rows[: len(rows) // 2])
        second.append(rows[len(rows) // 2 :])
    first, second = np.concatenate(first), np.concatenate(second)
    per_class = class_conditional_mmd2(
        Z_test[first],
        Z_test[second],
        predicted[first],
        predicted[second],
        classes=list(classes),
        encode=False,
    )
    mean, worst = _summary(per_class)
    return {
        "mmd2": float(overall),
        "class_mmd2_mean": mean,
        "class_mmd2_max": worst,
        "class_mmd2": _plain_dict(per_class),
    }


def vs_floor(class_mmd2_mean, floor):
    """Class MMD² (mean) over the floor's; NaN when the floor is not positive.

    The unbiased MMD² of two samples of one distribution is 0 on average, so
    the floor is a noise level and, by chance, may be 0 or negative.
    """
    if not floor["class_mmd2_mean"] > 0:
        return float("nan")
    return class_mmd2_mean / floor["class_mmd2_mean"]


def make_explainer(setting, max_epochs=None):
    """Build the explainer of a setting (imported here, at first use).

    Parameters
    ----------
    setting : str
        A key of :data:`SETTINGS`.
    max_epochs : int, optional
        Passed to the constructor when given; else its default is used.

    Returns
    -------
    estimator
        Unfitted: the class named by the setting's description.
    """
    _, params = SETTINGS[setting]
    params = dict(params)
    if max_epochs is not None:
        params["max_epochs"] = max_epochs
    import cfexplain

    estimator = SETTINGS[setting][0].split("(")[0]
    return getattr(cfexplain, estimator)(**params)


def score_counterfactuals(
    cnn, encoder, X_test, X_cf, targets, Z_test, predicted, classes, interpretability
):
    """Validity, L1, MMD² and IM1 / IM2 of counterfactuals of the test images.

    Parameters
    ----------
    cnn : torch.nn.Module
        The classifier.
    encoder : RandomImageEmbedding
        The fitted random encoder.
    X_test, X_cf : numpy.ndarray of shape (n, channels, 28, 28)
        Originals and their counterfactuals.
    targets : numpy.ndarray of shape (n,)
        Target class per row.
    Z_test : numpy.ndarray of shape (n, 32)
        Embedded test images.
    predicted : numpy.ndarray of shape (n,)
        The CNN's predicted class per test image.
    classes : list of int
        The classes.
    interpretability : InterpretabilityAutoencoders
        Fitted on the training images and their true classes.

    Returns
    -------
    dict
        The metrics (see the module docstring) and ``predicted_cf``, the
        CNN's class per counterfactual (an array, not for the JSON).
    """
    predicted_cf = predict_proba(cnn, X_cf).argmax(axis=1)
    n = len(X_test)
    l1 = np.abs(X_cf.astype(np.float64) - X_test).reshape(n, -1).mean(axis=1)
    Z_cf = embed(encoder, X_cf)
    per_target = class_conditional_mmd2(
        Z_cf, Z_test, targets, predicted, classes=classes, encode=False
    )
    per_prediction = class_conditional_mmd2(
        Z_cf, Z_test, predicted_cf, predicted, classes=classes, encode=False
    )
    mean, worst = _summary(per_target)
    im1 = interpretability.im1(
        X_cf, original_class=predicted, counterfactual_class=predicted_cf
    )
    im2 = interpretability.im2(X_cf, counterfactual_class=predicted_cf)
    return {
        "validity": float(np.mean(predicted_cf == targets)),
        "l1": float(l1.mean()),
        "mmd2": float(mmd2(Z_cf, Z_test, encode=False)),
        "class_mmd2_mean": mean,
        "class_mmd2_max": worst,
        "class_mmd2": _plain_dict(per_target),
        "class_mmd2_by_prediction_mean": _summary(per_prediction)[0],
        "im1": float(im1.mean()),
        "im2": float(im2.mean()),
        "predicted_cf": predicted_cf,
    }


def _state_copy(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _same_state(module, state):
    current = module.state_dict()
    return all(torch.equal(current[k], v) for k, v in state.items())


def run_setting(explainer, cnn, X_train, X_test, targets):
    """Fit an explainer on the training images and explain the test images.

    Parameters
    ----------
    explainer : estimator
        Unfitted; ``fit(X, predict_fn=...)`` and ``transform(X, target=...)``.
    cnn : torch.nn.Module
        The model under explanation, passed as ``predict_fn``.
    X_train, X_test : numpy.ndarray of shape (n, channels, 28, 28), float32
        Training and test images.
    targets : numpy.ndarray of shape (n_test,)
        Target digit per test image.

    Returns
    -------
    X_cf : numpy.ndarray of shape (n_test, channels, 28, 28)
        The counterfactuals.
    timings : dict
        ``fit_seconds``, ``transform_seconds``, ``images_per_s`` and
        ``classifier_unchanged`` (whether fitting and explaining left the
        CNN's weights and eval mode as they were).
    """
    state = _state_copy(cnn)
    start = time.perf_counter()
    explainer.fit(X_train, predict_fn=cnn)
    fit_seconds = time.perf_counter() - start

    explainer.transform(X_test[:WARM_UP_ROWS], target=targets[:WARM_UP_ROWS])
    start = time.perf_counter()
    X_cf = explainer.transform(X_test, target=targets)
    transform_seconds = time.perf_counter() - start

    X_cf = np.asarray(X_cf)
    if X_cf.shape != X_test.shape or X_cf.dtype != X_test.dtype:
        raise RuntimeError(
            f"transform returned {X_cf.dtype} {X_cf.shape}, expected "
            f"{X_test.dtype} {X_test.shape}"
        )
    unchanged = _same_state(cnn, state) and not cnn.training
    if not unchanged:
        print("warning: the explainer changed the classifier; restoring it")
        cnn.load_state_dict(state)
        cnn.eval()
    return X_cf, {
        "fit_seconds": fit_seconds,
        "transform_seconds": transform_seconds,
        "images_per_s": len(X_test) / transform_seconds,
        "classifier_unchanged": unchanged,
    }


def choose_grid_rows(y_test, predicted, n_rows=6):
    """First test images, in test order, of ``n_rows`` distinct classes.

    Only images the CNN classifies correctly are taken.
    """
    rows, seen = [], set()
    for i, (true, pred) in enumerate(zip(y_test, predicted, strict=True)):
        if true == pred and true not in seen:
            rows.append(i)
            seen.add(int(true))
        if len(rows) == n_rows:
            break
    return np.array(rows)


def plot_grid(X_test, predicted, targets, counterfactuals, rows, path, title):
    """Draw originals and each setting's counterfactual, one image per row.

    Parameters
    ----------
    X_test : numpy.ndarray of shape (n, channels, 28, 28)
        Test images.
    predicted, targets : numpy.ndarray of shape (n,)
        The CNN's class and the target class per test image.
    counterfactuals : dict
        Setting name -> ``(X_cf, predicted_cf)`` for the settings to show.
    rows : array-like of int
        Test rows to show.
    path : pathlib.Path
        Where to write the PNG.
    title : str
        The figure's title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = ["original", *counterfactuals]
    fig, axes = plt.subplots(
        len(rows),
        len(columns),
        figsize=(1.6 * len(columns) + 0.4, 1.6 * len(rows) + 0.4),
        squeeze=False,
    )
    for r, i in enumerate(rows):
        cells = [(X_test[i], int(predicted[i]), None)]
        for X_cf, predicted_cf in counterfactuals.values():
            cells.append((X_cf[i], int(predicted_cf[i]), int(targets[i])))
        for c, (image, digit, target) in enumerate(cells):
            ax = axes[r, c]
            if image.shape[0] == 1:
                ax.imshow(image[0], cmap="gray_r", vmin=0.0, vmax=1.0)
            else:  # RGB on black, as the network sees it
                ax.imshow(np.clip(np.moveaxis(image, 0, -1), 0.0, 1.0))
            ax.set_xticks([])
            ax.set_yticks([])
            if target is None:
                label, color = f"pred {digit}, target {targets[i]}", "black"
            else:
                label = f"pred {digit}"
                color = "tab:green" if digit == target else "tab:red"
            ax.set_xlabel(label, fontsize=8, color=color)
            if r == 0:
                ax.set_title(columns[c], fontsize=9, fontweight="bold")
    fig.suptitle(title, size=9, wrap=True)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _fmt(value, fmt):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return fmt.format(value)


def markdown_table(rows, floor):
    """The results table, with the noise floor as its last row."""
    columns = [
        ("setting", "setting", "{}"),
        ("validity", "validity", "{:.3f}"),
        ("l1", "L1 (mean abs. pixel change)", "{:.4f}"),
        ("mmd2", "MMD²", "{:.4f}"),
        ("class_mmd2_mean", "class MMD² (mean)", "{:.4f}"),
        ("class_mmd2_max", "class MMD² (max)", "{:.4f}"),
        ("vs_floor", "vs floor", "{:.1f}x"),
        ("im1", "IM1", "{:.3f}"),
        ("im2", "IM2", "{:.4f}"),
        ("fit_seconds", "fit s", "{:.0f}"),
        ("images_per_s", "images/s", "{:,.0f}"),
    ]
    floor_row = {
        "setting": "real vs real (floor)",
        "mmd2": floor["mmd2"],
        "class_mmd2_mean": floor["class_mmd2_mean"],
        "class_mmd2_max": floor["class_mmd2_max"],
    }
    lines = [
        "| " + " | ".join(title for _, title, _ in columns) + " |",
        "|" + "---|" * len(columns),
    ]
    for row in [*rows, floor_row]:
        cells = [_fmt(row.get(key), fmt) for key, _, fmt in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def merge_rows(path, rows):
    """Rows of an existing results file, updated with this run's rows."""
    merged = {}
    if path.exists():
        merged = {row["setting"]: row for row in json.loads(path.read_text())["rows"]}
    merged.update({row["setting"]: row for row in rows})
    order = [s for s in SETTINGS if s in merged]
    order += [s for s in merged if s not in SETTINGS]
    return [merged[s] for s in order]


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_results(meta, rows, floor, stem="mnist"):
    """Merge the rows into ``<stem>.json``, rewrite ``<stem>.md``; return the table."""
    RESULTS.mkdir(exist_ok=True)
    json_path = RESULTS / f"{stem}.json"
    merged = merge_rows(json_path, _json_safe(rows))
    json_path.write_text(
        json.dumps(_json_safe({"meta": meta, "rows": merged}), indent=2) + "\n"
    )
    table = markdown_table(merged, floor)
    (RESULTS / f"{stem}.md").write_text(table + "\n")
    return table


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset",
        default="mnist",
        choices=list(DATASETS),
        help="mnist (default) or colored (Colored MNIST, 30 classes)",
    )
    parser.add_argument(
        "--settings",
        default=",".join(SETTINGS),
        help="comma-separated settings to run, of " + ", ".join(SETTINGS),
    )
    parser.add_argument(
        "--max-epochs",
        type=int,
        default=None,
        help="pass max_epochs to the explainers (default: the estimators')",
    )
    parser.add_argument(
        "--cnn-epochs", type=int, default=10, help="epochs of the CNN (default 10)"
    )
    args = parser.parse_args()
    settings = [s for s in args.settings.split(",") if s]
    unknown = [s for s in settings if s not in SETTINGS]
    if unknown:
        parser.error(f"unknown settings {unknown}; choose from {list(SETTINGS)}")
    _, n_classes, stem = DATASETS[args.dataset]
    classes = list(range(n_classes))

    seed_everything(0)
    start = time.perf_counter()
    X_train, X_test, y_train, y_test = load_split(args.dataset)
    cnn = train_classifier(
        X_train, y_train, epochs=args.cnn_epochs, n_classes=n_classes
    )
    train_seconds = time.perf_counter() - start
    predicted = predict_proba(cnn, X_test).argmax(axis=1)
    accuracy = float(np.mean(predicted == y_test))
    print(
        f"CNN test accuracy {accuracy:.4f} ({args.cnn_epochs} epochs, "
        f"{train_seconds:.1f} s with loading)",
        flush=True,
    )
    targets = choose_targets(predicted, n_classes=n_classes)
    # One call of the model on the test images: what a transform is compared with.
    predict_seconds = min(
        _seconds(lambda: predict_proba(cnn, X_test, batch_size=len(X_test)))
        for _ in range(3)
    )

    start = time.perf_counter()
    encoder = build_random_encoder(X_test, seed=0)
    Z_test = embed(encoder, X_test)
    floor = noise_floor(Z_test, predicted, classes=classes)
    interpretability = InterpretabilityAutoencoders(random_state=0).fit(
        X_train, y_train
    )
    floor_seconds = time.perf_counter() - start
    print(
        f"floor: MMD² {floor['mmd2']:.5f}, class MMD² mean "
        f"{floor['class_mmd2_mean']:.5f} max {floor['class_mmd2_max']:.5f} "
        f"(with the IM autoencoders: {floor_seconds:.1f} s)",
        flush=True,
    )

    command = f"python benchmarks/mnist.py --settings {args.settings!r}"
    if args.dataset != "mnist":
        command += f" --dataset {args.dataset}"
    if args.max_epochs is not None:
        command += f" --max-epochs {args.max_epochs}"
    if args.cnn_epochs != 10:
        command += f" --cnn-epochs {args.cnn_epochs}"
    meta = {
        "command": command,
        "dataset": args.dataset,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "threads": torch.get_num_threads(),
        "n_train": len(X_train),
        "n_test": len(X_test),
        "classifier": {
            "architecture": "SmallCNN: conv3x3(32)-maxpool-conv3x3(64)-maxpool"
            f"-dropout-linear(128)-dropout-linear({n_classes})",
            "epochs": args.cnn_epochs,
            "accuracy": accuracy,
            "train_seconds": train_seconds,
        },
        "floor": floor,
        "floor_seconds": floor_seconds,
        "predict_seconds": predict_seconds,
        "l1": "mean absolute pixel change, pixels in [0, 1], averaged over the "
        "pixel values and the test images",
        "grid_rows": choose_grid_rows(y_test, predicted).tolist(),
    }
    title = (
        f"{'Colored MNIST' if args.dataset == 'colored' else 'MNIST'} "
        "counterfactuals: the CNN's class under each image (green: the target)"
    )

    rows, counterfactuals = [], {}
    for setting in settings:
        seed_everything(0)
        explainer = make_explainer(setting, args.max_epochs)
        X_cf, timings = run_setting(explainer, cnn, X_train, X_test, targets)
        scores = score_counterfactuals(
            cnn,
            encoder,
            X_test,
            X_cf,
            targets,
            Z_test,
            predicted,
            classes,
            interpretability,
        )
        counterfactuals[setting] = (X_cf, scores.pop("predicted_cf"))
        row = {
            "setting": setting,
            "estimator": SETTINGS[setting][0],
            "max_epochs": args.max_epochs,
            "command": command,
            **scores,
            "vs_floor": vs_floor(scores["class_mmd2_mean"], floor),
            **timings,
            "transform_over_predict": timings["transform_seconds"] / predict_seconds,
            "peak_memory_mb": peak_memory_mb(),
        }
        rows.append(row)
        print(
            f"{setting}: validity {row['validity']:.3f}, L1 {row['l1']:.4f}, "
            f"MMD² {row['mmd2']:.4f}, class MMD² mean {row['class_mmd2_mean']:.4f} "
            f"max {row['class_mmd2_max']:.4f}, {row['vs_floor']:.1f}x the floor, "
            f"IM1 {row['im1']:.3f}, IM2 {row['im2']:.4f}, "
            f"fit {row['fit_seconds']:.0f} s, {row['images_per_s']:,.0f} images/s "
            f"({row['transform_over_predict']:.1f}x one predict_proba call)",
            flush=True,
        )
        # Written after every setting, so a later failure loses nothing.
        table = write_results(meta, rows, floor, stem)
        plot_grid(
            X_test,
            predicted,
            targets,
            counterfactuals,
            meta["grid_rows"],
            STATIC / f"{stem}_counterfactuals.png",
            title,
        )
    if rows:
        print(table)


if __name__ == "__main__":
    main()
