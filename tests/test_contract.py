"""The contract every explainer keeps on every modality it supports.

One suite, parametrised over estimator x modality: what goes in comes back in
its format, answers are deterministic and batch-independent, constraints
hold, explanations start with transform's answer, the score is what its
docstring says, fitted explainers pickle (also from a GPU to a CPU), seeds
reproduce and leave the global random streams alone.
"""

import pickle
import warnings
from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest
import torch
from cf_testing import (
    FAST,
    FAST_AUTOENCODER,
    HalfBrightness,
    frame_proba,
    make_images,
    make_mixed_frame,
    make_series,
    series_proba,
)
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from skorch import NeuralNet

from cfexplain import CounterfactualAE, CounterfactualCVAE, CounterfactualGAN

# The CVAEs are guided by the model here, so the contract covers the
# surrogate path too (their default on tables is unguided).
ESTIMATORS = {
    "gan": lambda **kw: CounterfactualGAN(**{**FAST, **kw}),
    "cvae_enc_dec": lambda **kw: CounterfactualCVAE(
        mode="enc-dec", prediction_weight=1.0, **{**FAST_AUTOENCODER, **kw}
    ),
    "cvae_cond_mix": lambda **kw: CounterfactualCVAE(
        mode="cond-mix", prediction_weight=1.0, **{**FAST_AUTOENCODER, **kw}
    ),
    "ae": lambda **kw: CounterfactualAE(**{**FAST_AUTOENCODER, **kw}),
}


def _tabular():
    return make_mixed_frame(), frame_proba, {}


def _image():
    # 4-D images need no modality; the 3-D form is covered in test_modalities.
    return make_images(channels=1), HalfBrightness(), {"max_epochs": 3}


def _series():
    # A black box: the series path through the surrogate.
    return make_series(), series_proba, {"modality": "series", "max_epochs": 3}


MODALITIES = {"tabular": _tabular, "image": _image, "series": _series}

CASES = [
    (name, modality)
    for name in ESTIMATORS
    for modality in MODALITIES
    if modality in ESTIMATORS[name]()._modalities
]


@pytest.fixture(scope="module", params=CASES, ids=["-".join(c) for c in CASES])
def case(request):
    name, modality = request.param
    X, model, extra = MODALITIES[modality]()
    return {
        "make": lambda **kw: ESTIMATORS[name](**{**extra, **kw}),
        "X": X,
        "model": model,
        "modality": modality,
    }


@pytest.fixture(scope="module")
def fitted(case):
    return case["make"]().fit(case["X"], predict_fn=case["model"])


def assert_same(a, b):
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    else:
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype


def take(X, rows):
    return X.iloc[rows] if isinstance(X, pd.DataFrame) else X[rows]


def test_transform_keeps_format_and_input(fitted, case):
    X = take(case["X"], slice(0, 30))
    before = X.copy()
    X_cf = fitted.transform(X)
    assert type(X_cf) is type(X) and X_cf.shape == X.shape
    if isinstance(X, pd.DataFrame):
        assert list(X_cf.columns) == list(X.columns)
        assert (X_cf.dtypes == X.dtypes).all()
        assert X_cf.index.equals(X.index)
        assert set(X_cf["color"]) <= {"red", "green", "blue"}
    else:
        assert X_cf.dtype == X.dtype
    assert_same(X, before)
    assert fitted.modality_ == case["modality"]


def test_transform_deterministic_and_batch_independent(fitted, case):
    X = case["X"]
    full = fitted.transform(X)
    assert_same(full, fitted.transform(X))
    part = fitted.transform(take(X, [5, 3, 40]))
    if case["modality"] == "series":
        # Float outputs straight from the network: matrix products of
        # another batch size may round the last float32 bit differently.
        np.testing.assert_allclose(part, full[[5, 3, 40]], rtol=0, atol=1e-5)
    else:
        assert_same(part, take(full, [5, 3, 40]))


def test_constraints_hold(fitted, case):
    X = take(case["X"], slice(0, 40))
    if case["modality"] == "image":
        mask = np.zeros((1, 8, 8), dtype=bool)
        mask[..., :4] = True
        X_cf = fitted.transform(X, immutable=mask)
        np.testing.assert_array_equal(X_cf[..., :4], X[..., :4])
        return
    if case["modality"] == "series":
        X_cf = fitted.transform(
            X, immutable={"windows": [(0, 6)]}, bounds={0: (-1.8, 2.6)}
        )
        np.testing.assert_array_equal(X_cf[..., :6], X[..., :6])
        assert X.min() < -1.8  # the bound is binding
        assert (X_cf >= -1.8).all() and (X_cf <= 2.6).all()
        return
    X_cf = fitted.transform(
        X,
        immutable=["color", "member"],
        bounds={"hours": (35, 45)},
        monotonic={"age": "increasing"},
    )
    pd.testing.assert_series_equal(X_cf["color"], X["color"])
    pd.testing.assert_series_equal(X_cf["member"], X["member"])
    assert (X_cf["age"] >= X["age"]).all()
    assert X_cf["hours"].between(35, 45).all()


def test_explain_starts_with_transform(fitted, case):
    X = take(case["X"], slice(0, 4))
    exp = fitted.explain(X, n_counterfactuals=3)
    assert exp.valid.shape == (4, 3) and len(exp.changes) == 4
    assert exp.modality == case["modality"]
    if isinstance(X, pd.DataFrame):
        first = exp.counterfactuals.xs(0, level="counterfactual")
        pd.testing.assert_frame_equal(first, fitted.transform(X), check_names=False)
    else:
        np.testing.assert_array_equal(exp.counterfactuals[::3], fitted.transform(X))
    predicted = exp.predicted(exp.y_counterfactual).reshape(4, 3)
    target = np.asarray(exp.target)[:, None]
    np.testing.assert_array_equal(exp.valid, predicted == target)
    assert {"prediction", "valid", "changes"} <= set(exp.to_frame().columns)
    with pytest.raises(ValueError, match="positive integer"):
        fitted.explain(X, n_counterfactuals=0)


def test_score_is_validity_times_unchanged_share(fitted, case):
    X = take(case["X"], slice(0, 50))
    X_cf = fitted.transform(X)
    y, y_cf = fitted.predictor_.predict(X), fitted.predictor_.predict(X_cf)
    valid = y_cf.argmax(axis=1) != y.argmax(axis=1)
    if isinstance(X, pd.DataFrame):
        unchanged = (X_cf == X).mean(axis=1).to_numpy()
    else:
        unchanged = (X_cf == X).reshape(len(X), -1).mean(axis=1)
    assert fitted.score(X) == pytest.approx(np.mean(valid * unchanged))


def test_pickle_round_trip(fitted, case):
    restored = pickle.loads(pickle.dumps(fitted))
    assert_same(restored.transform(case["X"]), fitted.transform(case["X"]))


def test_fitted_nets_carry_no_optimizer_state(fitted, case):
    # Adam's moments are twice the network's size and never used again.
    nets = [fitted.net_]
    if getattr(fitted, "surrogate_", None) is not None:
        nets.append(fitted.surrogate_.net_)
    for net in nets:
        assert net._optimizers
        for name in net._optimizers:
            optimizer = getattr(net, f"{name}_")
            assert optimizer.param_groups and not optimizer.state, name


def test_cuda_pickle_loads_on_cpu(fitted, case):
    # Simulate an explainer trained on a GPU: the device attributes say cuda.
    gpu = pickle.loads(pickle.dumps(fitted))
    gpu.device_ = "cuda"
    gpu.net_.device = "cuda"
    if gpu.surrogate_ is not None:
        gpu.surrogate_.device = "cuda"
    payload = pickle.dumps(gpu)
    with patch("torch.cuda.is_available", return_value=False):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            restored = pickle.loads(payload)
    assert restored.device_ == "cpu" and str(restored.net_.device) == "cpu"
    assert any("cuda" in str(w.message).lower() for w in caught)
    X = take(case["X"], slice(0, 10))
    assert_same(restored.transform(X), fitted.transform(X))


def _device_state_outside_skorch(obj, path, seen, found):
    """Paths of tensors and modules that skorch would not map to the CPU.

    skorch loads the attributes named in a net's ``cuda_dependent_attributes_``
    onto the device available at load time; a tensor pickled anywhere else
    keeps its CUDA storage and fails to load on a machine without a GPU.
    """
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, (torch.Tensor, torch.nn.Module)):
        found.append(path)
    elif isinstance(obj, NeuralNet):
        mapped = obj.cuda_dependent_attributes_
        for key, value in vars(obj).items():
            if not any(key.startswith(prefix) for prefix in mapped):
                _device_state_outside_skorch(value, f"{path}.{key}", seen, found)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            _device_state_outside_skorch(value, f"{path}[{key!r}]", seen, found)
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            _device_state_outside_skorch(value, f"{path}[{i}]", seen, found)
    elif type(obj).__module__.startswith(("cfexplain", "skorch")) and hasattr(
        obj, "__dict__"
    ):
        for key, value in vars(obj).items():
            _device_state_outside_skorch(value, f"{path}.{key}", seen, found)


def test_device_state_is_all_where_skorch_maps_it(fitted, case):
    # What test_cuda_pickle_loads_on_cpu cannot see on a CPU: on a GPU every
    # tensor and module of the explainer lives there, and each must be in
    # a skorch net's cuda-dependent attributes to load on a CPU. The user's
    # own model (predictor_.model) is theirs to place.
    found = []
    _device_state_outside_skorch(fitted, "explainer", set(), found)
    assert [p for p in found if p != "explainer.predictor_.model"] == []


def test_random_state_reproducible_and_global_rng_untouched(case):
    torch.manual_seed(7)
    np.random.seed(7)
    torch_before = torch.get_rng_state()
    numpy_before = np.random.get_state()[1].copy()
    a = case["make"]().fit(case["X"], case["model"])
    assert torch.equal(torch_before, torch.get_rng_state())
    assert np.array_equal(numpy_before, np.random.get_state()[1])
    b = case["make"]().fit(case["X"], case["model"])
    assert_same(a.transform(case["X"]), b.transform(case["X"]))
    X = take(case["X"], slice(0, 5))
    ea = a.explain(X, n_counterfactuals=2).counterfactuals
    assert_same(ea, b.explain(X, n_counterfactuals=2).counterfactuals)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_fitted_estimator_as_model_and_array_in_array_out(name):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3))
    clf = LogisticRegression().fit(X, X.sum(axis=1) > 0)
    cf = ESTIMATORS[name]().fit(X, clf)
    X_cf = cf.transform(X[:10])
    assert isinstance(X_cf, np.ndarray) and X_cf.shape == (10, 3)
    assert cf.classes_.tolist() == [False, True] and cf.modality_ == "tabular"
    exp = cf.explain(X[:3], target=True)
    assert exp.target.tolist() == [True] * 3


def test_clone_keeps_the_model_by_reference(case):
    explainer = case["make"](predictor=case["model"])
    copy = clone(explainer)
    assert copy.predictor is case["model"] and copy is not explainer
    assert copy.get_params()["modality"] == explainer.modality


def test_history_records_the_losses(fitted, case):
    names = set(fitted.net_.history[-1]["batches"][-1])
    assert "prediction_loss" in names
    assert len(fitted.net_.history) == fitted.max_epochs
