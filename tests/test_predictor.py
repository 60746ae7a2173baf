import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC
from skorch import NeuralNetClassifier

from cfexplain._predictor import as_predictor
from cfexplain.exceptions import PredictorError, TaskGuessWarning


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    return X.astype(np.float32), y


def module_level_proba(X):
    p = 1 / (1 + np.exp(-np.asarray(X, dtype=float).sum(axis=1)))
    return np.column_stack([1 - p, p])


def test_estimator_uses_predict_proba_and_classes(data):
    X, y = data
    labels = np.where(y == 1, "yes", "no")
    clf = LogisticRegression().fit(X, labels)
    predictor = as_predictor(clf).check(X)
    assert predictor.task_ == "classification"
    assert list(predictor.classes_) == ["no", "yes"]
    np.testing.assert_allclose(predictor.predict(X), clf.predict_proba(X))


def test_bound_method_takes_classes_from_owner(data):
    X, y = data
    clf = LogisticRegression().fit(X, y + 3)
    predictor = as_predictor(clf.predict_proba).check(X)
    assert list(predictor.classes_) == [3, 4]


def test_classifier_with_labels_only_becomes_one_hot(data):
    X, y = data
    voting = VotingClassifier(
        [("a", LogisticRegression()), ("b", LinearSVC())], voting="hard"
    ).fit(X, y)
    out = as_predictor(voting).predict(X)
    assert out.shape == (len(X), 2)
    assert set(np.unique(out)) <= {0.0, 1.0}
    np.testing.assert_array_equal(out.argmax(axis=1), voting.predict(X))


@pytest.mark.parametrize(
    "svc, by",
    [
        (SVC(), None),  # predict: one-vs-one votes, ties broken by class order
        (SVC(break_ties=True), "decision_function"),
        (SVC(decision_function_shape="ovo"), None),  # a score per pair
    ],
)
def test_a_multiclass_svc_is_read_by_what_its_predict_follows(svc, by):
    # judged_by names the probabilities or scores read (None: predict's labels).
    X, y = make_classification(
        n_samples=90, n_features=4, n_informative=3, n_redundant=0,
        n_classes=3, random_state=0,
    )  # fmt: skip
    predictor = as_predictor(make_pipeline(StandardScaler(), svc).fit(X, y))
    assert predictor.check(X).judged_by == by


def test_classifier_without_proba_is_read_by_its_decision_function():
    # Scores rank every class where labels do not: "opposite" is then the
    # most likely other class, not an ambiguous choice among the others.
    X, y = make_classification(
        n_samples=90, n_features=4, n_informative=3, n_redundant=0,
        n_classes=3, random_state=0,
    )  # fmt: skip
    svc = make_pipeline(StandardScaler(), OneVsRestClassifier(LinearSVC()))
    svc.fit(X, y)
    predictor = as_predictor(svc).check(X)
    assert predictor.judged_by == "decision_function"
    proba = predictor.predict(X)
    assert len(np.unique(proba.round(6))) > 3  # graded, not one-hot
    np.testing.assert_array_equal(proba.argmax(axis=1), svc.predict(X))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_bound_decision_function_is_read_as_logits(n_classes):
    # A classifier without predict_proba given by its decision scores: one
    # per row for two classes (not a regression model's values), one per
    # class for more; the most likely class is the one it predicts.
    X, y = make_classification(
        n_samples=90, n_features=4, n_informative=3, n_redundant=0,
        n_classes=n_classes, random_state=0,
    )  # fmt: skip
    labels = np.array(["low", "mid", "high"])[y]
    svc = LinearSVC().fit(X, labels)
    predictor = as_predictor(svc.decision_function).check(X)
    assert predictor.task_ == "classification"
    assert list(predictor.classes_) == list(svc.classes_)
    proba = predictor.predict(X)
    assert proba.shape == (len(X), n_classes)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(svc.classes_[proba.argmax(axis=1)], svc.predict(X))


def test_regressor_detected(data):
    X, y = data
    reg = LinearRegression().fit(X, y.astype(float))
    predictor = as_predictor(reg).check(X)
    assert predictor.task_ == "regression"
    assert predictor.predict(X).shape == (len(X),)


def test_callable_in_batches_keeps_dataframe(data):
    X, _ = data
    frame = pd.DataFrame(X, columns=list("abcd"))
    seen = []

    def fn(batch):
        assert isinstance(batch, pd.DataFrame)
        assert list(batch.columns) == list("abcd")
        seen.append(len(batch))
        return module_level_proba(batch.to_numpy())

    out = as_predictor(fn, batch_size=25).predict(frame)
    assert out.shape == (60, 2)
    assert seen[-3:] == [25, 25, 10]


def test_torch_module_logits_become_probabilities(data):
    X, _ = data
    torch.manual_seed(0)
    module = torch.nn.Linear(4, 3)
    out = as_predictor(module).predict(X)
    assert out.shape == (60, 3)
    np.testing.assert_allclose(out.sum(axis=1), 1, atol=1e-6)


def _net_with_batchnorm_and_dropout(dropout):
    """Linear - BatchNorm - Dropout - Linear on 4 features, two logits."""
    return torch.nn.Sequential(
        torch.nn.Linear(4, 8),
        torch.nn.BatchNorm1d(8),
        torch.nn.Dropout(dropout),
        torch.nn.Linear(8, 2),
    )


def test_a_torch_module_left_in_training_mode_is_called_in_evaluation(data):
    X, _ = data
    torch.manual_seed(0)
    module = _net_with_batchnorm_and_dropout(dropout=0.9)
    module.train()
    running_mean = module[1].running_mean.clone()
    predictor = as_predictor(module)
    # Dropout off: the same answer twice; BatchNorm's statistics untouched.
    np.testing.assert_array_equal(predictor.predict(X), predictor.predict(X))
    assert torch.equal(module[1].running_mean, running_mean)
    assert module.training  # the user's mode is given back


class _RecordingModule(torch.nn.Module):
    """A linear classifier on flattened inputs that records its batch sizes."""

    def __init__(self, n_values):
        super().__init__()
        self.linear = torch.nn.Linear(n_values, 2)
        self.seen = []

    def forward(self, X):
        self.seen.append(len(X))
        return self.linear(X.flatten(1))


@pytest.mark.parametrize(
    "shape, batch_size, expected",
    [
        # 784 values a row: 131,072 // 784 = 167 rows a call.
        ((1000, 1, 28, 28), 8192, [167] * 5 + [165]),
        # Wide rows: never fewer than 64 a call.
        ((130, 3, 64, 64), 8192, [64, 64, 2]),
        # Narrow rows: batch_size bounds the call.
        ((1000, 10), 8192, [1000]),
        ((1000, 10), 300, [300, 300, 300, 100]),
    ],
)
def test_a_cpu_torch_module_gets_cache_sized_batches(shape, batch_size, expected):
    torch.manual_seed(0)
    module = _RecordingModule(int(np.prod(shape[1:])))
    X = np.random.default_rng(0).random(shape, dtype=np.float32)
    out = as_predictor(module, batch_size=batch_size).predict(X)
    assert module.seen[-len(expected) :] == expected
    with torch.no_grad():
        whole = torch.softmax(module(torch.from_numpy(X)), dim=1).double().numpy()
    np.testing.assert_allclose(out, whole, atol=1e-6)


def test_a_torch_module_on_a_gpu_gets_batch_size_rows(monkeypatch):
    predictor = as_predictor(_RecordingModule(784), batch_size=8192)
    X = np.zeros((1000, 1, 28, 28), dtype=np.float32)
    assert predictor._rows_per_call(X) == 167
    monkeypatch.setattr(predictor, "_device", lambda: torch.device("cuda"))
    assert predictor._rows_per_call(X) == 8192
    assert predictor._rows_per_call(X.tolist()) == 8192


def test_a_list_of_rows_is_batched_by_its_first_row():
    predictor = as_predictor(_RecordingModule(784), batch_size=8192)
    assert predictor._rows_per_call([[[0.0] * 28] * 28] * 3) == 167
    assert predictor._rows_per_call([]) == 8192


def test_callables_keep_batch_size_whatever_the_row_width():
    seen = []

    def fn(batch):
        seen.append(len(batch))
        return np.full((len(batch), 2), 0.5)

    as_predictor(fn, batch_size=8192).predict(np.zeros((1000, 1, 28, 28)))
    assert seen[-1:] == [1000]


def test_every_submodule_gets_its_own_mode_back(data):
    X, _ = data
    module = _net_with_batchnorm_and_dropout(dropout=0.2)
    module.train()
    module[1].eval()  # fine-tuning with a frozen BatchNorm
    as_predictor(module).predict(X)
    assert [m.training for m in module.modules()] == [True, True, False, True, True]
    module.eval()
    module[2].train()
    as_predictor(module).predict(X)
    assert [m.training for m in module.modules()] == [False, False, False, True, False]


def test_a_read_only_array_reaches_a_torch_module_without_a_warning(data):
    X, _ = data
    X = X.copy()
    X.flags.writeable = False
    module = torch.nn.Linear(4, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = as_predictor(module).predict(X)
    assert out.shape == (len(X), 2)


def test_a_read_only_array_reaches_other_models_writable(data):
    # A skorch net would warn that torch cannot share it; a model may write.
    X, y = data
    X = X.copy()
    X.flags.writeable = False
    net = NeuralNetClassifier(
        torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.Softmax(dim=1)),
        max_epochs=1,
        train_split=None,
        verbose=0,
    ).fit(X.copy(), y.astype(np.int64))
    seen = []

    def proba(rows):
        seen.append(rows.flags.writeable)
        return module_level_proba(rows)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert as_predictor(net).predict(X).shape == (len(X), 2)
        as_predictor(proba).predict(X)
    assert seen and all(seen)
    assert not X.flags.writeable


def test_a_sigmoid_output_read_as_a_logit_warns(data):
    X, _ = data
    module = torch.nn.Sequential(torch.nn.Linear(4, 1), torch.nn.Sigmoid())
    with pytest.warns(TaskGuessWarning, match=r"as a sigmoid's are.*final sigmoid"):
        as_predictor(module, task="classification").check(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TaskGuessWarning)
        as_predictor(torch.nn.Linear(4, 1), task="classification").check(X * 100)


def test_torch_single_logit_binary_with_task(data):
    X, _ = data
    module = torch.nn.Linear(4, 1)
    predictor = as_predictor(module, task="classification").check(X)
    assert predictor.n_outputs_ == 2


def test_skorch_net(data):
    X, y = data
    net = NeuralNetClassifier(
        torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.Softmax(dim=-1)),
        max_epochs=1,
        verbose=0,
    ).fit(X, y)
    out = as_predictor(net).predict(X)
    np.testing.assert_allclose(out, net.predict_proba(X), rtol=1e-5)


@pytest.mark.parametrize(
    "fn, match",
    [
        (lambda X: np.ones(len(X)) * 2, r"shape \(8,\), expected \(8, n_classes\)"),
        # Labels: the fix is the classifier, not a second column.
        (lambda X: np.arange(len(X)) % 2, r"class labels: give the fitted classifier"),
        (lambda X: np.full(len(X), 0.3), r"\[1 - p, p\]$"),
        (lambda X: np.ones((len(X), 2)), r"do not sum to 1 \(row 0 sums to 2"),
        (lambda X: np.ones((len(X) + 1, 2)) / 2, r"shape \(9, 2\) for 8 rows"),
        (lambda X: np.full((len(X), 2), np.nan), r"non-finite value"),
        (lambda X: np.array([[1.5, -0.5]] * len(X)), r"outside \[0, 1\]"),
        (lambda X: 1 / 0, r"failed with ZeroDivisionError"),
    ],
)
def test_bad_outputs_raise(data, fn, match):
    X, _ = data
    with pytest.raises(PredictorError, match=match):
        as_predictor(fn, task="classification").predict(X[:8])


def test_width_change_after_check_raises(data):
    X, _ = data
    widths = iter([2, 3])

    def fn(batch):
        k = next(widths)
        return np.full((len(batch), k), 1 / k)

    predictor = as_predictor(fn).check(X)
    with pytest.raises(PredictorError, match="returned 3 probability columns"):
        predictor.predict(X)


def test_unfitted_estimator_and_none():
    with pytest.raises(PredictorError, match="not fitted"):
        as_predictor(LogisticRegression())
    with pytest.raises(PredictorError, match="no model to explain"):
        as_predictor(None)
    with pytest.raises(PredictorError, match="cannot explain a int"):
        as_predictor(3)
    with pytest.raises(ValueError, match="task must be one of"):
        as_predictor(module_level_proba, task="ranking")


def test_pickle_policy(data):
    X, _ = data
    good = as_predictor(module_level_proba).check(X)
    restored = pickle.loads(pickle.dumps(good))
    np.testing.assert_array_equal(restored.predict(X), good.predict(X))
    bad = as_predictor(lambda X: module_level_proba(X)).check(X)
    with pytest.raises(PredictorError, match="cannot be pickled"):
        pickle.dumps(bad)


def test_a_lambda_inside_the_model_fails_pickling_with_our_error(data):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, y = data
    pipeline = make_pipeline(
        FunctionTransformer(lambda X: np.asarray(X) * 2.0),
        LogisticRegression(),
    ).fit(X, y)
    predictor = as_predictor(pipeline.predict_proba).check(X)
    with pytest.raises(PredictorError, match="FunctionTransformer"):
        pickle.dumps(predictor)
    # A model and its method pickle together: one estimator comes back.
    clf = LogisticRegression().fit(X, y)
    restored = pickle.loads(pickle.dumps(as_predictor(clf).check(X)))
    assert restored.predict_fn.__self__ is restored.model
