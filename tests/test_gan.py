import pickle
from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest
import torch
from cf_testing import (
    FAST,
    array_proba,
    frame_proba,
    frame_proba_3,
    frame_value,
    make_mixed_frame,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.pipeline import Pipeline

from cfexplain import ConstraintError, CounterfactualGAN, Explanation
from cfexplain.exceptions import (
    InvalidDataError,
    PredictorError,
    TargetError,
    TrainingError,
)


@pytest.fixture(scope="module")
def fitted(mixed_frame):
    return CounterfactualGAN(**FAST).fit(mixed_frame, predict_fn=frame_proba)


def test_fit_signatures(mixed_frame):
    X = mixed_frame.iloc[:64]
    y = np.zeros(len(X))
    a = CounterfactualGAN(**FAST).fit(X, frame_proba).transform(X)
    b = CounterfactualGAN(**FAST).fit(X, y, predict_fn=frame_proba).transform(X)
    c = CounterfactualGAN(predictor=frame_proba, **FAST).fit(X).transform(X)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)


def test_set_output_pandas():
    X = np.random.RandomState(0).normal(size=(80, 3))
    cf = CounterfactualGAN(**FAST).set_output(transform="pandas").fit(X, array_proba)
    out = cf.transform(X[:5])
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["x0", "x1", "x2"]


def test_no_model_and_bad_model(mixed_frame):
    with pytest.raises(PredictorError, match="no model to explain"):
        CounterfactualGAN(**FAST).fit(mixed_frame)
    with pytest.raises(PredictorError, match=r"shape \(8,\)"):
        CounterfactualGAN(task="classification", **FAST).fit(
            mixed_frame, lambda X: np.ones(len(X))
        )


def test_bad_input_at_transform(fitted, mixed_frame):
    with pytest.raises(InvalidDataError, match="hours"):
        fitted.transform(mixed_frame.drop(columns="hours"))
    broken = mixed_frame.iloc[:5].copy()
    broken.loc[broken.index[0], "color"] = "purple"
    with pytest.raises(InvalidDataError, match="purple"):
        fitted.transform(broken)
    nan = mixed_frame.iloc[:5].copy()
    nan["hours"] = nan["hours"].astype(float)
    nan.loc[nan.index[1], "hours"] = np.nan
    with pytest.raises(InvalidDataError, match="hours"):
        fitted.transform(nan)
    with pytest.raises(TargetError, match="not one of the model's classes"):
        fitted.transform(mixed_frame.iloc[:5], target="maybe")


def test_fit_needs_two_rows(mixed_frame):
    with pytest.raises(InvalidDataError, match="at least 2 samples"):
        CounterfactualGAN(**FAST).fit(mixed_frame.iloc[:1], frame_proba)


def test_constructor_constraints_and_override(mixed_frame):
    cf = CounterfactualGAN(immutable=["age"], **FAST).fit(mixed_frame, frame_proba)
    X = mixed_frame.iloc[:20]
    pd.testing.assert_series_equal(cf.transform(X)["age"], X["age"])
    free = cf.transform(X, immutable=[])
    assert isinstance(free, pd.DataFrame)
    with pytest.raises(ConstraintError, match="unknown feature 'agee'"):
        cf.transform(X, immutable=["agee"])
    with pytest.raises(ConstraintError, match="only supported on numerical"):
        cf.transform(X, bounds={"color": (0, 1)})


def test_explanation_index_and_change_text(fitted, mixed_frame):
    X = mixed_frame.iloc[:4]
    exp = fitted.explain(X, n_counterfactuals=3)
    assert isinstance(exp, Explanation)
    assert len(exp.counterfactuals) == 12
    assert exp.counterfactuals.index.names == ["id", "counterfactual"]
    for row_changes in exp.changes:
        for changes in row_changes:
            for change in changes:
                assert " -> " in change and change.split(":")[0] in X.columns
    assert "row" in str(exp)
    # The repr is one line that sums up, not the frames in full.
    share = exp.valid.mean()
    assert repr(exp) == (
        f"Explanation(4 rows x 3 counterfactuals, tabular, validity {share:.3f}; "
        "print() it for the changes, .to_frame() for a table)"
    )


def test_pickle_with_lambda_model_names_the_fix(mixed_frame):
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, lambda X: frame_proba(X))
    with pytest.raises(PredictorError, match="cannot be pickled"):
        pickle.dumps(cf)


def test_pipeline_step(mixed_frame):
    pipe = Pipeline([("cf", CounterfactualGAN(**FAST))])
    pipe.fit(mixed_frame, cf__predict_fn=frame_proba)
    assert pipe.transform(mixed_frame.iloc[:3]).shape == (3, 4)


def test_multiclass_label_and_soft_targets(mixed_frame):
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, frame_proba_3)
    assert cf.n_classes_ == 3
    exp = cf.explain(mixed_frame.iloc[:6], target=2)
    assert exp.target.tolist() == [2] * 6
    soft = cf.transform(mixed_frame.iloc[:6], target=np.array([0.1, 0.1, 0.8]))
    assert soft.shape == (6, 4)


def test_regression_interval(mixed_frame):
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, frame_value)
    assert cf.predictor_.task_ == "regression"
    exp = cf.explain(mixed_frame.iloc[:5], target=(100.0, 120.0))
    assert exp.target.shape == (5, 2)
    with pytest.raises(TargetError, match="not meaningful for a regression"):
        cf.transform(mixed_frame.iloc[:5])


def test_diverging_training_raises(mixed_frame):
    nan = torch.tensor(float("nan"))
    with patch("cfexplain.backends.nets._base.prediction_loss", return_value=nan):
        with pytest.raises(TrainingError, match="training diverged"):
            CounterfactualGAN(**FAST).fit(mixed_frame, frame_proba)


def test_callbacks_history_and_verbose(mixed_frame, capsys):
    from skorch.callbacks import EpochScoring  # noqa: F401 - import check only

    cf = CounterfactualGAN(**{**FAST, "verbose": 1}).fit(mixed_frame, frame_proba)
    assert len(cf.net_.history) == FAST["max_epochs"]
    assert "train_loss" in capsys.readouterr().out
    assert "surrogate_cf_agreement" in cf.net_.history[-1]
    assert 0 <= cf.surrogate_.fidelity_ <= 1


def test_the_epoch_table_shows_the_surrogate_agreement_from_the_first_epoch(
    mixed_frame, capsys
):
    # skorch's table takes its columns from the first epoch: a measure
    # recorded every third epoch only was left out of it.
    params = {**FAST, "verbose": 1, "max_epochs": 4, "surrogate_refresh_every": 3}
    cf = CounterfactualGAN(**params).fit(mixed_frame, frame_proba)
    header = capsys.readouterr().out.splitlines()[0]
    assert "surrogate_cf_agreement" in header
    measured = cf.net_.history[:, "surrogate_cf_agreement"]
    assert np.isnan(measured[:2]).all()
    assert measured[2] == measured[3] and 0 <= measured[2] <= 1


def test_unavailable_device(mixed_frame):
    with patch("torch.cuda.is_available", return_value=False):
        with pytest.raises(ValueError, match="CUDA is not available"):
            CounterfactualGAN(device="cuda", **FAST).fit(mixed_frame, frame_proba)


def test_other_frame_same_format():
    X = make_mixed_frame(n=90, seed=3)
    cf = CounterfactualGAN(**FAST).fit(X, frame_proba)
    out = cf.transform(X.iloc[:7])
    assert out["age"].dtype == np.int64 and out["member"].dtype == bool


def test_encoded_torch_pipeline_is_used_directly(mixed_frame):
    from skorch import NeuralNetClassifier

    from cfexplain.preprocessing import TabularEncoder

    y = (frame_proba(mixed_frame)[:, 1] > 0.5).astype("int64")
    encoder = TabularEncoder(random_state=0).fit(mixed_frame)
    width = encoder.layout_.n_columns
    net = NeuralNetClassifier(
        torch.nn.Sequential(
            torch.nn.Linear(width, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)
        ),
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=3,
        verbose=0,
    )
    model = Pipeline([("encoder", encoder), ("net", net)]).fit(mixed_frame, y)
    weights = [p.detach().clone() for p in net.module_.parameters()]
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, model.predict_proba)
    assert cf.surrogate_ is None and cf.encoder_ is encoder
    assert cf.encoded_model_[2] == "logits"
    X_cf = cf.transform(mixed_frame.iloc[:10])
    assert X_cf.shape == (10, 4)
    # the user's network is neither moved, frozen nor trained
    for before, after in zip(weights, net.module_.parameters(), strict=True):
        assert torch.equal(before, after) and after.requires_grad


def test_metadata_routing_in_a_pipeline(mixed_frame):
    from sklearn import config_context

    with config_context(enable_metadata_routing=True):
        cf = CounterfactualGAN(**FAST).set_fit_request(predict_fn=True)
        pipe = Pipeline([("cf", cf)]).fit(mixed_frame, predict_fn=frame_proba)
        assert pipe.transform(mixed_frame.iloc[:2]).shape == (2, 4)


def test_early_stopping_callback(mixed_frame):
    from skorch.callbacks import EarlyStopping

    params = {**FAST, "max_epochs": 50}
    stopper = EarlyStopping(monitor="train_loss", patience=1, threshold=1e9)
    cf = CounterfactualGAN(callbacks=[stopper], **params).fit(mixed_frame, frame_proba)
    assert len(cf.net_.history) < 50


def test_joblib_round_trip(fitted, mixed_frame, tmp_path):
    import joblib

    path = tmp_path / "cf.joblib"
    joblib.dump(fitted, path)
    restored = joblib.load(path)
    pd.testing.assert_frame_equal(
        restored.transform(mixed_frame), fitted.transform(mixed_frame)
    )


def test_candidates_never_lower_validity_and_stay_batch_independent(mixed_frame):
    from cfexplain.metrics import validity

    one = CounterfactualGAN(**FAST).fit(mixed_frame, frame_proba)
    four = CounterfactualGAN(n_candidates=4, **FAST).fit(mixed_frame, frame_proba)
    X = mixed_frame.iloc[:60]
    v1 = validity(frame_proba, one.transform(X), X=X, reduce=None)
    v4 = validity(frame_proba, four.transform(X), X=X, reduce=None)
    assert (v4 >= v1).all()
    full = four.transform(mixed_frame)
    part = four.transform(mixed_frame.iloc[[7, 2, 30]])
    pd.testing.assert_frame_equal(part, full.iloc[[7, 2, 30]])


def test_numeric_tolerance_reverts_small_moves(fitted, mixed_frame):
    from sklearn.base import clone

    # The generator's answers (one repair round, by the generator): the
    # training-row path copies real values and gives back every change the
    # model does not need, so its copies are not reverted.
    X = mixed_frame.iloc[:40]
    fitted.set_params(max_rounds=1, training_row_candidates=False)
    raw = fitted.set_params(numeric_tolerance=0.0).transform(X)
    huge = fitted.set_params(numeric_tolerance=1e6).transform(X)
    fitted.set_params(numeric_tolerance=0.05)
    pd.testing.assert_series_equal(huge["age"], X["age"])
    pd.testing.assert_series_equal(huge["hours"], X["hours"])
    moved = (raw["hours"] - X["hours"]).abs()
    kept = moved <= 0.05 * fitted.adapter_.numeric_std_["hours"]
    default = fitted.transform(X)
    assert (default["hours"][kept] == X["hours"][kept]).all()
    assert (default["hours"][~kept] == raw["hours"][~kept]).all()
    fitted.set_params(max_rounds=2, training_row_candidates="auto")
    assert clone(fitted).numeric_tolerance == 0.05


def _older_half(frame):
    older = frame["age"].to_numpy() > 44
    return np.column_stack([~older, older]).astype(float)


def test_a_move_that_reaches_no_training_value_is_reverted():
    # A loss that is 0 or at least 400 in every training row: 0 -> 120 and
    # 0 -> 350 pass no training value, whatever the standard deviation
    # says (0.05 of it is about 30 here), so they are reverted; a move that
    # reaches 400, or passes it, is kept. Down: 1900 -> 1600 passes none.
    rng = np.random.RandomState(0)
    loss = np.where(rng.rand(300) < 0.8, 0, rng.choice([400, 1500, 1900], 300))
    X = pd.DataFrame({"loss": loss, "age": rng.randint(18, 70, 300)})
    cf = CounterfactualGAN(**FAST).fit(X, _older_half)
    assert 120 > 0.05 * cf.adapter_.numeric_std_["loss"]
    # A move longer than a standard deviation (about 590) is deliberate:
    # 400 -> 1400 stays though it reaches no training value; 400 -> 900
    # does not.
    originals = pd.DataFrame({"loss": [0, 0, 0, 0, 1900, 1900, 400, 400], "age": 30})
    moved = pd.DataFrame(
        {"loss": [120, 350, 400, 600, 1600, 1500, 1400, 900], "age": 30}
    )
    reverted = moved.copy()
    cf.adapter_.revert_negligible_changes(originals, reverted, 0.05)
    assert reverted["loss"].tolist() == [0, 0, 400, 600, 1900, 1500, 1400, 400]
    # An explainer fit before the rule existed has no support kept: only the
    # standard deviations count.
    del cf.adapter_.numeric_support_
    older = moved.copy()
    cf.adapter_.revert_negligible_changes(originals, older, 0.05)
    pd.testing.assert_frame_equal(older, moved)
    assert reverted["loss"].dtype == moved["loss"].dtype
    # numeric_tolerance=0 keeps every raw output, these moves included.
    untouched = moved.copy()
    cf.adapter_.revert_negligible_changes(originals, untouched, 0.0)
    pd.testing.assert_frame_equal(untouched, moved)


@settings(max_examples=100, deadline=None)
@given(
    support=st.lists(st.integers(-20, 20), min_size=1, max_size=15, unique=True),
    moves=st.lists(st.tuples(st.integers(-25, 25), st.integers(-25, 25)), max_size=20),
)
def test_reaching_no_training_value_matches_counting_them(support, moves):
    from cfexplain.modalities.tabular import _reaches_no_training_value

    values = np.sort(np.array(support, dtype=float))
    before = np.array([m[0] for m in moves], dtype=float)
    after = np.array([m[1] for m in moves], dtype=float)
    got = _reaches_no_training_value(before, after, values)
    for b, a, flag in zip(before, after, got, strict=True):
        if a > b:
            reached = ((values > b) & (values <= a)).sum()
        else:
            reached = ((values >= a) & (values < b)).sum()
        assert flag == (a != b and reached == 0)


def test_half_open_regression_intervals(mixed_frame):
    # "At least 150": None (or inf) leaves a side open; every answer the
    # model puts at 150 or more counts, above the training outputs too.
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, frame_value)
    X = mixed_frame[frame_value(mixed_frame) < 150].iloc[:20]
    for target in [(150.0, None), (150.0, np.inf)]:
        X_cf = cf.transform(X, target=target)
        assert (frame_value(X_cf) >= 150.0).all()
    at_most = cf.transform(X.iloc[:5], target=(None, 90.0))
    assert (frame_value(at_most) <= 90.0).all()
    text = str(cf.explain(X.iloc[:2], target=(150.0, None)))
    assert "target at least 150" in text
    assert "target at most 90" in str(cf.explain(X.iloc[:1], target=(None, 90.0)))
