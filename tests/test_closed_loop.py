"""Validity for the model the user has: budget, fit-time self-check, repairs."""

import warnings

import numpy as np
import pandas as pd
import pytest
from cf_testing import (
    FAST,
    FAST_AUTOENCODER,
    ShiftedPredict,
    frame_proba,
    frame_proba_3,
    frame_value,
    make_mixed_frame,
    make_series,
    series_proba,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from joblib import Parallel, delayed
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from cfexplain import (
    AmbiguousTargetWarning,
    CounterfactualAE,
    CounterfactualCVAE,
    CounterfactualGAN,
    LowValidityWarning,
    PredictMismatchWarning,
    UnreachedTargetWarning,
    WeakGeneratorWarning,
)
from cfexplain import _closed_loop as closed_loop
from cfexplain._base import REGRESSION_PREDICTION_WEIGHT
from cfexplain.modalities import ADAPTERS


@pytest.fixture(scope="module")
def forest(mixed_frame):
    """A random forest on the mixed frame: a black box with steps."""
    X = pd.get_dummies(mixed_frame, dtype=float)
    y = frame_proba(mixed_frame)[:, 1] > 0.5
    model = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    columns = X.columns

    def predict_proba(frame):
        return model.predict_proba(
            pd.get_dummies(frame, dtype=float).reindex(columns=columns, fill_value=0)
        )

    return predict_proba


@pytest.mark.parametrize(
    "n_rows, batch, epochs",
    [(800, 50, 94), (26048, 512, 30), (1_000_000, 512, 1), (100, 32, 500)],
)
def test_auto_budget_scales_with_the_data(n_rows, batch, epochs):
    gan = CounterfactualGAN()
    gan.adapter_ = ADAPTERS["tabular"]()
    assert gan._training_budget(n_rows) == (batch, epochs)
    assert (gan.batch_size_, gan.max_epochs_) == (batch, epochs)


def test_explicit_budget_is_kept():
    gan = CounterfactualGAN(batch_size=64, max_epochs=7)
    gan.adapter_ = ADAPTERS["tabular"]()
    assert gan._training_budget(1000) == (64, 7)
    assert gan._training_budget(40) == (40, 7)  # a batch never exceeds the data
    ae = CounterfactualAE()
    ae.adapter_ = ADAPTERS["tabular"]()
    assert ae._training_budget(26048) == (256, 30)


@pytest.mark.parametrize(
    "n_rows, batch, epochs",
    [(3600, 256, 30), (60_000, 256, 30), (1167, 256, 105), (200, 200, 540)],
)
@pytest.mark.parametrize("make", [CounterfactualAE, CounterfactualCVAE])
def test_images_train_30_epochs_and_a_small_set_as_many_steps(
    make, n_rows, batch, epochs
):
    # Convolutional steps are costly: 30 epochs of the paper's batch; fewer
    # than 3,600 images get the 420 steps of 30 epochs of 3,600.
    explainer = make()
    explainer.adapter_ = ADAPTERS["image"]()
    assert explainer._training_budget(n_rows) == (batch, epochs)
    explainer = make(max_epochs=4)
    explainer.adapter_ = ADAPTERS["image"]()
    assert explainer._training_budget(n_rows) == (batch, 4)


@pytest.mark.parametrize(
    "make",
    [
        lambda: CounterfactualGAN(**FAST),
        lambda: CounterfactualCVAE(**FAST_AUTOENCODER),
        lambda: CounterfactualAE(**FAST_AUTOENCODER),
    ],
)
def test_fit_report_measures_validity_on_held_out_rows(make, mixed_frame):
    cf = make().fit(mixed_frame, frame_proba)
    report = cf.fit_report_
    assert report["held_out"] and report["n_rows"] == 16  # 10 % of 160
    for key in ("validity_opposite", "generator_validity_opposite"):
        assert 0.0 <= report[key] <= 1.0
    # Repairs never lower validity.
    assert report["validity_opposite"] >= report["generator_validity_opposite"]
    assert cf.net_.history[-1]["fit_validity_opposite"] == report["validity_opposite"]


def test_fit_report_for_multiclass_and_regression(mixed_frame):
    multi = CounterfactualGAN(**FAST).fit(mixed_frame, frame_proba_3)
    assert "validity_other_class" in multi.fit_report_
    assert 0.0 <= multi.fit_report_["surrogate_balanced_agreement"] <= 1.0
    regression = CounterfactualAE(**FAST_AUTOENCODER).fit(mixed_frame, frame_value)
    assert {"validity_value", "validity_interval"} <= set(regression.fit_report_)
    # R² has no classes to balance over.
    assert "surrogate_balanced_agreement" not in regression.fit_report_
    assert "surrogate_agreement" in regression.fit_report_


def test_regression_self_check_gives_no_credit_for_changing_nothing(mixed_frame):
    # Without a prediction loss the autoencoder learns to keep each row; its
    # self-check targets must be values the rows do not already meet.
    with pytest.warns(WeakGeneratorWarning, match="the generator alone reached"):
        cf = CounterfactualAE(
            **{**FAST_AUTOENCODER, "prediction_weight": 0.0, "mmd_weight": 0.0}
        ).fit(mixed_frame, frame_value)
    assert cf.fit_report_["generator_validity_value"] == 0.0
    assert cf.fit_report_["generator_validity_interval"] == 0.0


def test_auto_prediction_weight_pulls_harder_towards_regression_targets(
    mixed_frame,
):
    regression = CounterfactualGAN(**FAST).fit(mixed_frame, frame_value)
    assert regression.prediction_weight_ == REGRESSION_PREDICTION_WEIGHT
    assert regression.net_.prediction_weight == REGRESSION_PREDICTION_WEIGHT
    classification = CounterfactualGAN(**FAST).fit(mixed_frame, frame_proba)
    assert classification.prediction_weight_ == classification.net_.prediction_weight
    assert classification.prediction_weight_ == 1.0
    given = CounterfactualGAN(**FAST, prediction_weight=3.0).fit(
        mixed_frame, frame_value
    )
    assert given.prediction_weight_ == given.net_.prediction_weight == 3.0
    # The autoencoder keeps paper 1's weight (its parameter entry says why).
    autoencoder = CounterfactualAE(**FAST_AUTOENCODER).fit(mixed_frame, frame_value)
    assert autoencoder.net_.prediction_weight == 1.0


@settings(max_examples=50, deadline=None)
@given(
    own=st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=40).map(
        np.array
    ),
    half=st.floats(0.0, 10.0),
    seed=st.integers(0, 2**16),
)
def test_values_elsewhere_avoids_the_rows_own_output(own, half, seed):
    values = closed_loop.values_elsewhere(own, half, np.random.RandomState(seed))
    assert values.shape == own.shape
    assert np.isin(values, own).all()
    # Wherever some other output lies outside a row's interval, so does its
    # target (16 draws make missing one that exists unlikely, but only when
    # most outputs are far: checked on those rows).
    far_share = (np.abs(own[None, :] - own[:, None]) > half).mean(axis=1)
    sure = far_share > 0.75
    assert (np.abs(values - own)[sure] > half).all()


def test_self_check_warning_says_when_the_surrogate_misses_a_class(
    mixed_frame, forest, monkeypatch
):
    # A surrogate that predicts one class everywhere (balanced agreement
    # 0.5: a model that puts 2 % of the rows in the other) teaches the
    # generator nothing; the warning says so, not only "train more".
    from cfexplain._surrogate import Surrogate

    fidelity = Surrogate.fidelity

    def one_class_everywhere(self, Xt, y_model, *, balanced=False):
        return 0.5 if balanced else fidelity(self, Xt, y_model)

    monkeypatch.setattr(Surrogate, "fidelity", one_class_everywhere)
    with pytest.warns(LowValidityWarning, match="surrogate .* only 50%") as w:
        CounterfactualGAN(max_rounds=0, **FAST).fit(mixed_frame, forest)
    assert "torch module" in str(w[0].message)


def test_low_self_check_validity_warns_with_advice(mixed_frame, forest):
    with pytest.warns(LowValidityWarning, match="prediction_weight.*max_epochs") as w:
        CounterfactualGAN(max_rounds=0, **FAST).fit(mixed_frame, forest)
    # 10 % of 160 rows: the warning says the figure is rough.
    message = str(w[0].message)
    assert "only 16 rows were held out: a rough figure" in message
    assert "fit_report_ has the figures" in message
    with pytest.warns(LowValidityWarning) as w:
        CounterfactualGAN(max_rounds=0, validation_fraction=0.0, **FAST).fit(
            mixed_frame, forest
        )
    message = str(w[0].message)
    assert "measured on 160 of the training rows" in message
    assert "held out" not in message.replace("held none out", "")


def test_without_held_out_rows_the_self_check_uses_training_rows(mixed_frame):
    cf = CounterfactualGAN(validation_fraction=0.0, **FAST).fit(
        mixed_frame, frame_proba
    )
    assert not cf.fit_report_["held_out"]
    assert cf.fit_report_["n_rows"] == len(mixed_frame)


def _validity(model, X, X_cf):
    return np.mean(model(X_cf).argmax(axis=1) != model(X).argmax(axis=1))


def test_repairs_reach_the_targets_of_a_tree_model(mixed_frame, forest):
    raw = CounterfactualGAN(max_rounds=0, training_row_candidates=False, **FAST).fit(
        mixed_frame, forest
    )
    repaired = CounterfactualGAN(**FAST).fit(mixed_frame, forest)
    X = mixed_frame
    before = _validity(forest, X, raw.transform(X))
    after = _validity(forest, X, repaired.transform(X))
    assert after >= 0.95 and after > before


def test_repairs_keep_the_constraints(mixed_frame, forest):
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, forest)
    X = mixed_frame
    X_cf = cf.transform(
        X,
        immutable=["color"],
        bounds={"hours": (30, 50)},
        monotonic={"age": "increasing"},
    )
    pd.testing.assert_series_equal(X_cf["color"], X["color"])
    assert (X_cf["age"] >= X["age"]).all()
    inside = X["hours"].between(30, 50)
    assert X_cf.loc[inside, "hours"].between(30, 50).all()
    # Still one row per input row, in the input's format.
    assert X_cf.index.equals(X.index) and (X_cf.dtypes == X.dtypes).all()


def repairs_run(explainer, X, monkeypatch):
    """Return the repair rounds ``transform(X)`` runs, in order, with their rows."""
    rounds = []
    run_round = closed_loop.ClosedLoopMixin._repair_round

    def spy(self, repair, batch, rows, counterfactuals, y_cf):
        rounds.append((repair.__name__, len(rows)))
        return run_round(self, repair, batch, rows, counterfactuals, y_cf)

    monkeypatch.setattr(closed_loop.ClosedLoopMixin, "_repair_round", spy)
    explainer.transform(X)
    monkeypatch.undo()
    return rounds


def test_the_generator_is_judged_on_the_targets_it_is_trained_to_reach():
    from cfexplain._closed_loop import weakest_generator_figure

    # A regression's single value is a point the generator seldom lands on:
    # its figure is reported, the interval's is judged.
    report = {
        "generator_validity_value": 0.06,
        "validity_value": 1.0,
        "generator_validity_interval": 0.34,
        "validity_interval": 1.0,
    }
    assert weakest_generator_figure(report) == ("interval", 0.34)
    report = {
        "generator_validity_opposite": 0.5,
        "generator_validity_other_class": 0.07,
        "validity_opposite": 1.0,
    }
    assert weakest_generator_figure(report) == ("other_class", 0.07)


def test_a_weak_generator_warning_names_the_kind_of_target(mixed_frame):
    with pytest.warns(WeakGeneratorWarning, match="of the self-check's opposite "):
        CounterfactualGAN(**FAST, prediction_weight=0.0).fit(mixed_frame, frame_proba)


def test_a_weak_generator_on_a_table_is_advised_a_weight_to_try(mixed_frame):
    # For a classifier on a table, ten times the weight used comes first.
    with pytest.warns(WeakGeneratorWarning) as caught:
        CounterfactualGAN(**FAST, prediction_weight=0.001).fit(mixed_frame, frame_proba)
    message = str(caught[0].message)
    assert "Try a larger prediction_weight first (e.g. 0.01, ten times the 0.001 " in (
        message
    )
    # Measured for classifiers only: a regression model is told no value.
    with pytest.warns(WeakGeneratorWarning) as caught:
        CounterfactualAE(
            **{**FAST_AUTOENCODER, "prediction_weight": 0.001, "mmd_weight": 0.0}
        ).fit(mixed_frame, frame_value)
    message = str(caught[0].message)
    assert message.endswith(
        "Try a larger prediction_weight or more training (max_epochs); "
        + closed_loop.WEAK_GENERATOR_TRADE_OFF
    )


def test_only_a_weak_generator_is_told_its_answers_can_be_worse(mixed_frame):
    # Valid answers from the repairs: a remedy changes who makes them, and
    # the message says the generator's own can be the worse ones.
    with pytest.warns(WeakGeneratorWarning) as caught:
        CounterfactualGAN(**FAST, prediction_weight=0.0).fit(mixed_frame, frame_proba)
    assert str(caught[0].message).endswith(closed_loop.WEAK_GENERATOR_TRADE_OFF)
    # Invalid answers: no such remark, only the remedies.
    with pytest.warns(LowValidityWarning) as caught:
        CounterfactualGAN(
            **FAST,
            prediction_weight=0.0,
            max_rounds=0,
            training_row_candidates=False,
        ).fit(mixed_frame, frame_proba)
    low = [w for w in caught if w.category is LowValidityWarning]
    assert low and closed_loop.WEAK_GENERATOR_TRADE_OFF not in str(low[0].message)


def test_tables_take_the_path_before_the_generators_second_step(
    mixed_frame, forest, monkeypatch
):
    # The path answers the rows it is given; the generator's second step
    # only gets those it leaves rejected. Series keep the generator first.
    cf = CounterfactualGAN(**FAST, training_row_candidates=False)
    cf.fit(mixed_frame, forest)
    rounds = repairs_run(cf, mixed_frame, monkeypatch)
    assert rounds[0][0] == "_repair_by_training_rows" and rounds[0][1] > 0
    later = [n for name, n in rounds[1:] if name == "_repair_by_generator"]
    assert all(n <= rounds[0][1] for n in later)
    X = make_series(n=96, length=24)
    series = CounterfactualAE(
        **FAST_AUTOENCODER, modality="series", prediction_weight=0.0
    )
    with pytest.warns(WeakGeneratorWarning):
        series.fit(X[:64], predict_fn=series_proba)
    rounds = repairs_run(series, X[64:], monkeypatch)
    assert [name for name, _ in rounds] == [
        "_repair_by_generator",
        "_repair_by_training_rows",
    ]


def test_training_row_paths_give_back_unneeded_changes(mixed_frame, forest):
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, forest)
    X = mixed_frame
    X_cf = cf.transform(X)
    changed = (X_cf != X).sum(axis=1)
    # A counterfactual copied whole from a training row would change almost
    # every feature; the paths keep only what the model needs.
    assert changed.mean() < X.shape[1] - 1


def _four_floats():
    """400 rows of four float64 features; a model that reads only a and b."""
    X = pd.DataFrame(
        np.random.RandomState(0).normal(size=(400, 4)), columns=list("abcd")
    )

    def proba(frame):
        p = 1.0 / (1.0 + np.exp(-4.0 * (frame["a"] + frame["b"]).to_numpy()))
        return np.column_stack([1 - p, p])

    return X, proba


def test_without_repairs_transform_still_reports_the_rows_it_missed():
    # max_rounds=0 hands back the generator's answers as they are; one model
    # call still tells the user how many miss (a tuning run on the
    # generator alone had returned 49 of 50 rows off target in silence).
    X, proba = _four_floats()
    cf = CounterfactualGAN(
        **{**FAST, "prediction_weight": 0.0},
        max_rounds=0,
        training_row_candidates=False,
    )
    with pytest.warns(LowValidityWarning):
        cf.fit(X, proba)
    queries = X.iloc[:40]
    with pytest.warns(UnreachedTargetWarning, match="max_rounds=2") as record:
        X_cf = cf.transform(queries)
    missed = int(((proba(X_cf) > 0.5) == (proba(queries) > 0.5)).all(axis=1).sum())
    assert missed > 0 and f"{missed} of 40" in str(record[0].message)


def test_features_a_path_leaves_keep_their_exact_float_values():
    # Float64 numbers pass through a float32 encoding; those a training-row
    # path does not copy come back exactly, so that only real changes read
    # as changes (a new-user trial saw "b: 0.4002 -> 0.4002"). Without a
    # prediction loss the generator answers nothing: the path answers all.
    X, proba = _four_floats()
    cf = CounterfactualGAN(**{**FAST, "prediction_weight": 0.0})
    with pytest.warns(LowValidityWarning):
        cf.fit(X, proba)
    queries = X.iloc[:40]
    X_cf = cf.transform(queries)
    assert ((proba(X_cf) > 0.5) != (proba(queries) > 0.5)).all(axis=1).all()
    # The path copies a or b, the features the model reads; c and d are the
    # originals' own values, to the last bit, and so is anything not copied.
    pd.testing.assert_frame_equal(X_cf[["c", "d"]], queries[["c", "d"]])
    moved = (X_cf - queries).abs()
    assert not ((moved > 0) & (moved < 1e-6)).any().any()
    lines = cf.explain(queries.iloc[:10]).changes
    assert all(len(row[0]) <= 2 for row in lines)


def test_a_path_copies_its_training_rows_values_exactly():
    # The values a training-row path copies are its training row's own,
    # not their float32 encoding decoded (9.87654321012345, not
    # 9.876543045043945): a real value, which the user can find in the
    # data. Without a prediction loss the generator answers nothing, and
    # without training-row candidates nothing shortens the copied moves.
    X, proba = _four_floats()
    cf = CounterfactualGAN(
        **{**FAST, "prediction_weight": 0.0}, training_row_candidates=False
    )
    with pytest.warns(LowValidityWarning):
        cf.fit(X, proba)
    queries = X.iloc[:40]
    X_cf = cf.transform(queries)
    assert ((proba(X_cf) > 0.5) != (proba(queries) > 0.5)).all()
    for name in ["a", "b"]:
        moved = X_cf[name] != queries[name]
        assert moved.any()
        assert X_cf.loc[moved, name].isin(set(X[name])).all(), name


def _three_bands_of_age(X):
    """Classes "young", "mid", "old" by age, as one-hot probabilities."""
    band = np.digitize(np.asarray(X["age"]), [35, 52])
    return np.eye(3)[band]


def test_fit_warns_when_the_model_puts_no_training_row_in_a_class(mixed_frame):
    # Rows sorted by the model's class and cut: the explainer never sees
    # an "old" row, which the warning names (not more training).
    X = mixed_frame.sort_values("age")
    young_and_mid = X[X["age"] < 52]
    cf = CounterfactualGAN(**FAST)
    with pytest.warns(LowValidityWarning, match="none of the .* in class 2"):
        cf.fit(young_and_mid, _three_bands_of_age)


def _age_decides(X):
    """A classifier reading only the age: frozen, no row changes class."""
    p = 1 / (1 + np.exp(-(X["age"].to_numpy(dtype=float) - 44.5) / 2))
    return np.column_stack([1 - p, p])


def test_transform_reports_rows_it_could_not_repair(mixed_frame):
    cf = CounterfactualGAN(**FAST, training_row_candidates=False)
    cf.fit(make_mixed_frame(), _age_decides)
    with pytest.warns(UnreachedTargetWarning, match="30 of 30") as caught:
        cf.transform(mixed_frame.iloc[:30], immutable=["age"])
    # The advice names what this explainer has: the constraints and
    # n_candidates, and max_rounds only when it is below 2.
    message = str(caught[0].message)
    assert "mask); looser constraints" in message and "n_candidates" in message
    assert "max_rounds" not in message
    exp = cf.explain(mixed_frame.iloc[:5], immutable=["age"])
    assert not exp.valid.any()
    ae = CounterfactualAE(
        **{**FAST_AUTOENCODER, "max_rounds": 1}, training_row_candidates=False
    )
    ae.fit(make_mixed_frame(), _age_decides)
    with pytest.warns(UnreachedTargetWarning) as caught:
        ae.transform(mixed_frame.iloc[:30], immutable=["age"])
    message = str(caught[0].message)
    assert "max_rounds=2" in message and "n_candidates" not in message
    # max_rounds=2 needs training rows that a fit with max_rounds=1 did not
    # keep: the error says to fit again.
    ae.set_params(max_rounds=2)
    with pytest.raises(ValueError, match="fit it again"):
        ae.transform(mixed_frame.iloc[:30])
    # With nothing but training to suggest, the advice is one clean phrase.
    assert ae._remedies() == "more training (max_epochs)"


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("immutable", [None, ["age", "hours"]])
def test_explain_starts_with_the_repaired_answer(mixed_frame, forest, k, immutable):
    # Under constraints too: a row's first path looks as deep as transform's,
    # whatever the depth its later answers need.
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, forest)
    X = mixed_frame.iloc[:30]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnreachedTargetWarning)
        exp = cf.explain(X, n_counterfactuals=k, immutable=immutable)
        answers = cf.transform(X, immutable=immutable)
    first = exp.counterfactuals.xs(0, level="counterfactual")
    pd.testing.assert_frame_equal(first, answers, check_names=False)


def step_on_age(X):
    """A step function of the first column, for frames and arrays alike."""
    first = np.asarray(X, dtype=float)[:, 0]
    p = np.where(first > 45, 0.9, 0.1)
    return np.column_stack([1 - p, p])


def test_repairs_of_a_table_fitted_on_a_frame_and_given_an_array(mixed_frame):
    numbers = mixed_frame[["age", "hours"]]
    cf = CounterfactualGAN(**FAST).fit(numbers, step_on_age)
    X_cf = cf.transform(numbers.to_numpy()[:40])  # rows come back as an array
    assert isinstance(X_cf, np.ndarray) and X_cf.shape == (40, 2)
    flipped = step_on_age(X_cf).argmax(1) != step_on_age(numbers[:40]).argmax(1)
    assert flipped.mean() >= 0.95


def test_labels_of_the_wrong_length_are_refused(mixed_frame):
    from cfexplain import InvalidDataError

    with pytest.raises(InvalidDataError, match="y has 3 entries for 160 rows"):
        CounterfactualGAN(**FAST).fit(mixed_frame, [0, 1, 0], predict_fn=frame_proba)


def test_no_training_rows_are_kept_when_no_path_can_run(mixed_frame):
    assert (
        CounterfactualGAN(**FAST).fit(mixed_frame, frame_proba).reference_ is not None
    )
    one_round = CounterfactualGAN(max_rounds=1, training_row_candidates=False, **FAST)
    assert one_round.fit(mixed_frame, frame_proba).reference_ is None
    # On a small table "auto" takes the training-row candidates, which need it.
    auto = CounterfactualGAN(max_rounds=1, **FAST).fit(mixed_frame, frame_proba)
    assert auto.training_row_candidates_ and auto.reference_ is not None


def test_noise_free_generators_make_no_repeated_candidates(mixed_frame):
    cf = CounterfactualGAN(
        **{**FAST, "noise_dim": 0, "n_candidates": 4, "max_rounds": 0},
        training_row_candidates=False,
    )
    cf.fit(mixed_frame, frame_proba)
    calls = []
    cf.predictor_.predict_fn = lambda X: calls.append(len(X)) or frame_proba(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnreachedTargetWarning)
        cf.transform(mixed_frame.iloc[:10])
    # The originals, then the one deterministic answer a row has (checked to
    # report misses): no ranking of 4 identical candidates.
    assert calls == [10, 10]


def _either_of_two_twins(frame):
    """Class 1 when c > 0.5 and a or b (near copies of each other) > 0.5."""
    a, b, c = (frame[name].to_numpy() for name in "abc")
    p = ((c > 0.5) & ((a > 0.5) | (b > 0.5))).astype(float) * 0.8 + 0.1
    return np.column_stack([1 - p, p])


def test_path_answers_are_the_rows_they_scored(monkeypatch):
    # A path copies a, b and c; a alone and b alone can be given back, not
    # both: every way the path picks its answer (forward, all given back
    # together, the largest alone) comes up. Each answer must be its own
    # row's (row labels travel with the rows) and carry the model's output.
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.uniform(0, 1, (600, 3)), columns=list("abc"))
    X["b"] = np.clip(X["a"] + rng.normal(0, 0.02, 600), 0, 1)
    X["c"] = 0.3 + 0.4 * X["c"]
    X["k"] = rng.choice(["x", "y", "z"], 600)
    cf = CounterfactualGAN(
        **{**FAST, "max_epochs": 1}, training_row_candidates=False
    ).fit(X, _either_of_two_twins)
    path, gather = type(cf)._repair_by_training_rows, type(cf)._gather_scored
    sources, checked = np.zeros(3, dtype=int), []

    def counting_gather(self, scored, y_scored, source, position):
        sources[:] += np.bincount(source, minlength=3)
        return gather(self, scored, y_scored, source, position)

    def checking_path(self, batch, rejected, current, y_current):
        found, rows, y_rows = path(self, batch, rejected, current, y_current)
        assert rows.index.equals(batch.rows.index[rejected])
        np.testing.assert_allclose(y_rows[found], _either_of_two_twins(rows)[found])
        assert batch.target.take(rejected[found]).is_met(y_rows[found]).all()
        checked.append(int(found.sum()))
        return found, rows, y_rows

    monkeypatch.setattr(type(cf), "_gather_scored", counting_gather)
    monkeypatch.setattr(type(cf), "_repair_by_training_rows", checking_path)
    cf.transform(X)
    assert sum(checked) > 0
    assert (sources > 0).all(), sources


def test_a_path_scores_only_the_prefixes_a_row_has(mixed_frame, forest, monkeypatch):
    # A row that differs from its training row in t features has t prefixes
    # to try: the forward batch holds those and no padding up to the
    # longest path of the batch. (One path: the repair of rejected rows,
    # without the candidates' paths.)
    import cfexplain._closed_loop as closed_loop

    cf = CounterfactualGAN(**FAST, training_row_candidates=False)
    cf.fit(mixed_frame, forest)
    order, grade = closed_loop.path_order, type(cf)._grade
    movable, scored = [], []

    def recording_order(distances, frozen):
        result = order(distances, frozen)
        movable.append(result[1])
        return result

    def recording_grade(self, batch, row_of, decoded):
        scored.append(len(row_of))
        return grade(self, batch, row_of, decoded)

    monkeypatch.setattr(closed_loop, "path_order", recording_order)
    monkeypatch.setattr(type(cf), "_grade", recording_grade)
    monkeypatch.setattr(type(cf), "_repair_by_generator", _nothing_repaired)
    cf.transform(mixed_frame)
    assert len(movable) == 1
    n_movable = movable[0]
    assert n_movable.min() < n_movable.max()  # padding would have cost rows
    # The path's first model call is its first forward batch: every row's
    # shortest prefixes, as many as it has up to FIRST_PREFIXES.
    first = closed_loop.FIRST_PREFIXES
    assert scored[0] == np.minimum(n_movable, first).sum()
    assert scored[0] < n_movable.sum()  # the longer ones wait for a second batch


def _both_high(frame):
    """Class 1 where age and hours are both high: most paths copy two features."""
    both = (frame["age"].to_numpy() > 45) & (frame["hours"].to_numpy() > 42)
    return np.column_stack([~both, both]).astype(float)


def test_a_path_scores_no_candidate_twice(mixed_frame, monkeypatch):
    # The forward batches score each prefix once; the backward batch leaves
    # out giving back the last copied feature, which is the prefix before
    # the answer (or the original), already rejected. (One path: the
    # repair of rejected rows, without the candidates' paths.)
    cf = CounterfactualGAN(**FAST, training_row_candidates=False)
    cf.fit(mixed_frame, _both_high)
    grade = type(cf)._grade
    seen = []

    def recording_grade(self, batch, row_of, decoded):
        frame = self.adapter_.in_fit_format(decoded).reset_index(drop=True)
        frame.insert(0, "row_of", np.asarray(row_of))
        seen.append(frame)
        return grade(self, batch, row_of, decoded)

    monkeypatch.setattr(type(cf), "_grade", recording_grade)
    monkeypatch.setattr(type(cf), "_repair_by_generator", _nothing_repaired)
    X = mixed_frame[_both_high(mixed_frame)[:, 1] == 0]
    X_cf = cf.transform(X, target=1)
    assert (_both_high(X_cf)[:, 1] == 1).all()
    # Every call is the path's (the generator's candidates are graded
    # without a call of _grade): forward, backward (each copied feature but
    # the last given back), together.
    assert len(seen) >= 2
    path = pd.concat(seen, ignore_index=True)
    assert not path.astype(str).duplicated().any()
    # No candidate of the path is an original: those are rejected already.
    originals = X.reset_index(drop=True).iloc[path["row_of"]].astype(str)
    assert (
        not (path.drop(columns="row_of").astype(str).to_numpy() == originals.to_numpy())
        .all(axis=1)
        .any()
    )


def _nothing_repaired(self, batch, rejected, current, y_current):
    """A repair round that repairs nothing, so every rejected row takes a path."""
    return np.zeros(len(rejected), dtype=bool), current, y_current


def test_one_row_transforms_without_warnings(mixed_frame, forest):
    # The frozen-column mask of a single row was a read-only broadcast view,
    # which torch warns about when it wraps it.
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, forest)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        one = cf.transform(mixed_frame.iloc[:1])
    assert one.shape == (1, mixed_frame.shape[1])


def test_explain_repairs_every_answer_and_puts_repeats_last(mixed_frame, forest):
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, forest)
    X = mixed_frame.iloc[:30]
    k = 4
    exp = cf.explain(X, n_counterfactuals=k)
    # Every answer had the repairs: as valid as the first ones.
    assert exp.valid.mean(axis=0).min() >= exp.valid[:, 0].mean() - 0.1
    for i in range(len(X)):
        answers = exp.counterfactuals.xs(X.index[i], level=0)
        repeat = answers.duplicated().to_numpy()
        # Repeats of an earlier answer come after every distinct one.
        assert not (repeat[:-1] & ~repeat[1:]).any()
        distinct = ~repeat
        distinct[0] = False
        valid = exp.valid[i]
        # Among the distinct answers after the first, valid ones come first.
        assert not (~valid[distinct][:-1] & valid[distinct][1:]).any()


def test_answers_within_the_numeric_tolerance_are_repeats(mixed_frame, forest):
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, forest)
    X = mixed_frame.iloc[:10].reset_index(drop=True)
    hours = X["hours"].std()
    near, far = X.copy(), X.copy()
    near["hours"] += 0.5 * cf.numeric_tolerance * hours
    far["hours"] += 2.0 * cf.numeric_tolerance * hours
    repeat = cf._repeats(pd.concat([X, near, far], ignore_index=True), 3)
    repeat = repeat.reshape(3, 10)
    assert not repeat[0].any() and repeat[1].all() and not repeat[2].any()


def test_a_row_already_at_its_target_is_each_of_its_answers(mixed_frame, forest):
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, forest)
    X = mixed_frame.iloc[:20]
    labels = forest(X).argmax(axis=1)
    exp = cf.explain(X, target=np.asarray(cf.classes_)[labels], n_counterfactuals=3)
    for row in X.index:
        answers = exp.counterfactuals.xs(row, level=0)
        pd.testing.assert_frame_equal(
            answers.reset_index(drop=True),
            X.loc[[row] * 3].reset_index(drop=True),
            check_names=False,
        )
    assert exp.valid.all()


def test_training_row_candidates_keep_the_cheaper_valid_answer(
    mixed_frame, monkeypatch
):
    from cfexplain._candidates import CandidateSet

    cf = CounterfactualGAN(**FAST, training_row_candidates=False)
    cf.fit(mixed_frame, frame_proba)
    X = mixed_frame

    def far_training_rows(batch, k):
        # A stand-in generator whose answers are valid but far: each row's
        # 20th nearest training row of its target class.
        n = len(batch.Xt)
        far = cf.reference_.nearest(
            batch.Xt, batch.target, batch.frozen_features, rank=np.full(n, 19)
        )
        decoded = cf._decode(batch, np.arange(n), cf.reference_.Xt[far])
        return CandidateSet(batch.rows, batch.y_model, batch.target, decoded, None)

    monkeypatch.setattr(cf, "_generated_candidates", far_training_rows)
    default = cf.transform(X)
    compared = cf.set_params(training_row_candidates=True).transform(X)
    batch = cf._batch(X, None, (None, None, None))
    rows = np.arange(len(X))
    graded = [
        cf._answer_costs(batch, rows, answer, frame_proba(answer))
        for answer in (default, compared)
    ]
    # No answer loses its grade (valid and plausible, valid, invalid).
    assert (graded[1][0] >= graded[0][0]).all()
    costs = [cost for _, cost in graded]
    # Each row keeps the cheaper of its two answers (an invalid one costs
    # inf): none costs more than the stand-in's, most cost less.
    assert (costs[1] <= costs[0] + 1e-9).all()
    assert np.isfinite(costs[1]).all()
    assert (costs[1] < costs[0] - 1e-6).mean() > 0.5
    # The cheaper answers are the sparser ones: the paths give back what the
    # model does not need.
    changed = [(answer != X).sum(axis=1).mean() for answer in (default, compared)]
    assert changed[1] < changed[0]
    assert compared.index.equals(X.index) and (compared.dtypes == X.dtypes).all()


def test_training_row_candidates_keep_the_constraints(mixed_frame, forest):
    cf = CounterfactualGAN(**FAST, training_row_candidates=True)
    cf.fit(mixed_frame, forest)
    X = mixed_frame
    frozen = cf.transform(X, immutable=["color"], monotonic={"age": "increasing"})
    pd.testing.assert_series_equal(frozen["color"], X["color"])
    assert (frozen["age"] >= X["age"]).all()
    exp = cf.explain(X.iloc[:10], n_counterfactuals=2)
    assert exp.valid.shape == (10, 2) and exp.valid[:, 0].mean() >= 0.9


def test_training_row_candidates_auto_is_on_for_small_tables_only(
    mixed_frame, forest, monkeypatch
):
    from cfexplain import _base

    cf = CounterfactualGAN(**FAST)
    assert cf.get_params()["training_row_candidates"] == "auto"
    assert cf.fit(mixed_frame, forest).training_row_candidates_ is True
    # Past SMALL_TABLE_ROWS (10,000) the generator answers alone.
    monkeypatch.setattr(_base, "SMALL_TABLE_ROWS", len(mixed_frame) - 1)
    assert cf.fit(mixed_frame, forest).training_row_candidates_ is False
    assert (
        CounterfactualGAN(**FAST, training_row_candidates=True)
        .fit(mixed_frame, forest)
        .training_row_candidates_
    )
    # Series and images keep it off unless asked.
    X = make_series(n=64, length=24)
    series = CounterfactualAE(**FAST_AUTOENCODER, modality="series")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert series.fit(X, predict_fn=series_proba).training_row_candidates_ is False


def test_explainers_pickled_before_auto_keep_their_choice(mixed_frame, forest):
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, forest)
    state = cf.__getstate__()
    state.pop("training_row_candidates_")
    state["training_row_candidates"] = False
    old = CounterfactualGAN.__new__(CounterfactualGAN)
    old.__setstate__(state)
    assert old.training_row_candidates_ is False
    # An unfitted one stays unfitted.
    unfitted = CounterfactualGAN(**FAST).__getstate__()
    fresh = CounterfactualGAN.__new__(CounterfactualGAN)
    fresh.__setstate__(unfitted)
    assert not hasattr(fresh, "training_row_candidates_")


def test_training_row_candidates_need_the_training_rows_fit_keeps(mixed_frame, forest):
    kept = CounterfactualGAN(
        **{**FAST, "max_rounds": 0}, training_row_candidates=True
    ).fit(mixed_frame, forest)
    assert kept.reference_ is not None
    assert kept.transform(mixed_frame.iloc[:20]).shape == (20, mixed_frame.shape[1])
    without = CounterfactualGAN(
        **{**FAST, "max_rounds": 1}, training_row_candidates=False
    ).fit(mixed_frame, forest)
    without.set_params(training_row_candidates=True)
    with pytest.raises(ValueError, match="training_row_candidates=True"):
        without.transform(mixed_frame.iloc[:20])


def test_training_row_candidates_move_numbers_only_as_far_as_needed(
    mixed_frame, monkeypatch
):
    numbers = mixed_frame[["age", "hours"]]
    cf = CounterfactualGAN(**FAST, training_row_candidates=True)
    cf.fit(numbers, step_on_age)
    X = numbers.iloc[:60]
    shortened = cf.transform(X)
    monkeypatch.setattr(
        cf, "_shorten_numeric_moves", lambda batch, rows, answers, y: (answers, y)
    )
    whole = cf.transform(X)
    for answers in (shortened, whole):
        assert (step_on_age(answers).argmax(1) != step_on_age(X).argmax(1)).all()
    moved = [(answers["age"] - X["age"]).abs() for answers in (shortened, whole)]
    assert (moved[0] <= moved[1]).all() and (moved[0] < moved[1]).any()
    # Rows moved up are still past the step at 45.
    up = X["age"] <= 45
    assert (shortened.loc[up, "age"] > 45).all()


def test_training_row_candidates_do_not_turn_answers_into_repeats(
    mixed_frame, monkeypatch
):
    cf = CounterfactualGAN(**FAST, training_row_candidates=True)
    cf.fit(mixed_frame, frame_proba)
    k, X = 3, mixed_frame.iloc[:12]
    batch = cf._repeated_batch(cf._batch(X, None, (None, None, None)), k)
    n = len(X)
    # Three distinct answers per row, all valid: each row's j-th nearest
    # training row of its target class.
    reference = cf.reference_
    rows = reference.nearest(
        batch.Xt, batch.target, batch.frozen_features, rank=batch.reference_rank
    )
    own = cf._decode(batch, np.arange(k * n), reference.Xt[rows])
    y_own = frame_proba(own)
    assert batch.target.is_met(y_own).all() and not cf._repeats(own, k).any()

    def same_for_every_answer(batch, counterfactuals, y_cf):
        # A comparison that gives each row's first answer to all of them.
        first = np.tile(np.arange(n), k)
        return cf.adapter_.take_rows(counterfactuals, first), y_cf[first]

    monkeypatch.setattr(cf, "_compare_training_rows", same_for_every_answer)
    kept, y_kept = cf._compare_keeping_distinct(batch, own, y_own, k)
    assert not cf._repeats(kept, k).any()
    pd.testing.assert_frame_equal(kept, own)
    np.testing.assert_allclose(y_kept, y_own)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 10, 16])
def test_window_lengths_are_scored_in_ascending_stages_of_doubling_size(n):
    from cfexplain._closed_loop import _ascending_stages

    stages = _ascending_stages(n)
    # Every length once, in ascending order, so the first accepted is the shortest.
    np.testing.assert_array_equal(
        np.concatenate(stages) if stages else np.array([], dtype=int), np.arange(n)
    )
    sizes = [len(stage) for stage in stages]
    assert sizes[:-1] == [2**i for i in range(len(sizes) - 1)]
    assert not sizes or 1 <= sizes[-1] <= 2 ** (len(sizes) - 1)


class _AOrB:
    """Class 1 where a > ``a`` or b > ``b``: a two-feature model with steps."""

    def __init__(self, a, b):
        self.a, self.b = a, b

    def __call__(self, X):
        positive = (X["a"].to_numpy() > self.a) | (X["b"].to_numpy() > self.b)
        return np.column_stack([~positive, positive]).astype(float)


def _weak_gan_on_two_features(model, high=1.0):
    """600 uniform rows of `a` and `b`, and a GAN of one epoch: repairs answer."""
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.uniform(0, high, (600, 2)), columns=["a", "b"])
    return X, CounterfactualGAN(**{**FAST, "max_epochs": 1}).fit(X, model)


def _without_unreached_warnings(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnreachedTargetWarning)
        return call(*args, **kwargs)


def test_paths_under_monotonic_constraints_move_towards_rows_on_the_allowed_side():
    # The nearest class-1 rows of a class-0 row mostly have a higher `a`;
    # with `a` decreasing, their copies fall back to the original's `a` and
    # stay in class 0. Rows with a very high `b` and a lower `a` reach it.
    model = _AOrB(a=0.6, b=0.9)
    X, cf = _weak_gan_on_two_features(model)
    rows = X[(model(X)[:, 1] == 0) & (X["a"] > 0.1)]
    X_cf = _without_unreached_warnings(
        cf.transform, rows, monotonic={"a": "decreasing"}
    )
    assert (X_cf["a"] <= rows["a"]).all()
    assert (model(X_cf)[:, 1] == 1).all()


def test_paths_under_bounds_move_towards_rows_within_them():
    # Bounding `a` below 0.65 clips every class-1 row with a high `a` back
    # into class 0: only rows with a very high `b` can be copied.
    model = _AOrB(a=0.7, b=0.9)
    X, cf = _weak_gan_on_two_features(model, high=0.99)
    rows = X[(model(X)[:, 1] == 0) & (X["a"] <= 0.65)]
    X_cf = _without_unreached_warnings(cf.transform, rows, bounds={"a": (0, 0.65)})
    assert X_cf["a"].between(0, 0.65).all()
    assert (model(X_cf)[:, 1] == 1).all()


def test_explain_under_constraints_keeps_its_answers_different():
    # With `a` immutable, the nearest class-1 rows of a row with `a` just
    # under 0.6 are rows with a higher `a`; copied with the original's `a`,
    # only those with b > 0.45 stay in class 1. Rank j of a row moves
    # towards the (j + 1)-th training row whose copy the model accepts, so
    # a row's answers differ.
    X, cf = _weak_gan_on_two_features(_AOrB(a=0.6, b=0.45))
    rows = X[X["a"].between(0.5, 0.6) & (X["b"] < 0.45)]
    explanation = _without_unreached_warnings(
        cf.explain, rows, n_counterfactuals=3, immutable=["a"]
    )
    answers = explanation.counterfactuals.to_numpy().reshape(len(rows), 3, 2)
    assert explanation.valid.all(axis=1).sum() >= 5
    for row_answers, valid in zip(answers, explanation.valid, strict=True):
        kept = [tuple(answer) for answer in row_answers[valid]]
        assert len(set(kept)) == len(kept)


def _late_mean_above_half(X):
    """Class 1 where the mean of the last 12 of 24 steps is above 0.5."""
    positive = np.asarray(X)[:, 0, 12:].mean(axis=1) > 0.5
    return np.column_stack([~positive, positive]).astype(float)


def test_series_windows_are_placed_among_the_free_time_points():
    # Class-1 series differ most from class 0 in their first six steps,
    # which the model ignores and the call freezes: a window placed by the
    # whole difference would sit there and copy nothing that matters.
    rng = np.random.RandomState(0)
    X = 0.05 * rng.normal(size=(96, 1, 24)).astype(np.float32)
    X[48:, 0, :6] += 5.0
    X[48:, 0, 12:] += 1.0
    cf = CounterfactualGAN(**{**FAST, "max_epochs": 1}, modality="series").fit(
        X, _late_mean_above_half
    )
    batch = cf._batch(X[:4], None, ({"windows": [(0, 8)]}, None, None))
    goal = np.repeat(cf.encoder_.transform(X[48:49]), 4, axis=0)
    reached, decoded, _ = cf._window_path(batch, np.arange(4), batch.Xt, goal)
    assert reached.all()
    changed = decoded[:, 0] != X[:4, 0]
    # Only late steps change, and fewer than the 12 that differ.
    assert not changed[:, :12].any()
    assert changed.sum(axis=1).max() <= 10


class _SumAbove:
    """Class 1 where a + b > 1: an interaction no single feature decides."""

    def __call__(self, X):
        positive = X["a"].to_numpy() + X["b"].to_numpy() > 1.0
        return np.column_stack([~positive, positive]).astype(float)


def test_rows_whose_nearest_copies_all_fail_look_deeper(monkeypatch):
    # With `b` immutable at 0, a copy needs a > 1. The class-1 rows nearest
    # to (0, 0) have b near 0.12 and a = 0.95: their copies (0.95, 0) stay
    # in class 0. Only 5 rows farther out, at b = 0.35 and a = 1.05, have
    # copies the model accepts.
    rng = np.random.RandomState(0)
    near = pd.DataFrame(
        {"a": 0.95 + 0.01 * rng.rand(40), "b": 0.12 + 0.02 * rng.rand(40)}
    )
    far = pd.DataFrame({"a": 1.05 + 0.01 * rng.rand(5), "b": 0.35 + 0.01 * rng.rand(5)})
    zeros = pd.DataFrame(rng.uniform(0, 0.45, (300, 2)), columns=["a", "b"])
    X = pd.concat([near, far, zeros], ignore_index=True)
    model = _SumAbove()
    cf = CounterfactualGAN(**{**FAST, "max_epochs": 1}).fit(X, model)
    rows = pd.DataFrame({"a": [0.0, 0.02, 0.05], "b": [0.0, 0.01, 0.02]})
    # The path alone: the search of single features would reach them too.
    monkeypatch.setattr(
        CounterfactualGAN, "_search_unreached", lambda self, batch, cf, y: (cf, y)
    )

    def answers(factor):
        monkeypatch.setattr(closed_loop, "DEEPER_REFERENCES_FACTOR", factor)
        return _without_unreached_warnings(cf.transform, rows, immutable=["b"])

    factor = closed_loop.DEEPER_REFERENCES_FACTOR
    shallow, deep = answers(1), answers(factor)
    assert (deep["b"] == rows["b"]).all()
    assert (model(deep)[:, 1] == 1).all()
    assert not (model(shallow)[:, 1] == 1).all()


class _HighAOrNegativeBWithY:
    """Class 1 where a > 0.9, or where b < 0 and c is "y"."""

    def __call__(self, X):
        a, b, c = X["a"].to_numpy(), X["b"].to_numpy(), X["c"].to_numpy()
        positive = (a > 0.9) | ((b < 0.0) & (c == "y"))
        return np.column_stack([~positive, positive]).astype(float)


def test_rows_no_path_reaches_get_a_search_of_their_free_features(monkeypatch):
    # The class-1 training rows all have a > 0.9; the rows to explain hold
    # a and c immutable (a < 0.5, c = "y"), so every constrained copy of a
    # class-1 row keeps their a and moves only b, to 0.2 or more: class 0.
    # A value of b below 0, which class-0 training rows (with c = "x")
    # hold, reaches class 1: the search of single features finds it.
    rng = np.random.RandomState(0)
    high = pd.DataFrame(
        {"a": rng.uniform(0.95, 1.0, 60), "b": rng.uniform(0.2, 1.0, 60), "c": "x"}
    )
    low = pd.DataFrame(
        {
            "a": rng.uniform(0.0, 0.5, 240),
            "b": rng.uniform(-0.4, 1.0, 240),
            "c": rng.choice(["x", "y"], 240),
        }
    )
    model = _HighAOrNegativeBWithY()
    low = low[model(low)[:, 1] == 0]
    X = pd.concat([high, low], ignore_index=True)
    cf = CounterfactualGAN(**{**FAST, "max_epochs": 1}).fit(X, model)
    rows = pd.DataFrame({"a": [0.1, 0.3, 0.2], "b": [0.5, 0.8, 0.3], "c": "y"})
    frozen = ["a", "c"]
    searched = _without_unreached_warnings(cf.transform, rows, immutable=frozen)
    assert (model(searched)[:, 1] == 1).all()
    assert (searched[frozen] == rows[frozen]).all().all()
    # A value of b that a training row holds (up to the float32 encoding).
    gap = np.abs(searched["b"].to_numpy()[:, None] - X["b"].to_numpy()[None, :])
    assert (gap.min(axis=1) < 1e-5).all() and (searched["b"] < 0).all()
    monkeypatch.setattr(
        CounterfactualGAN, "_search_unreached", lambda self, batch, cf, y: (cf, y)
    )
    unsearched = _without_unreached_warnings(cf.transform, rows, immutable=frozen)
    assert not (model(unsearched)[:, 1] == 1).any()


@pytest.mark.filterwarnings("ignore::cfexplain.LowValidityWarning")
def test_a_path_reaches_a_training_row_a_hair_across_the_boundary():
    # The model's boundary is at x = 0 and every training row of class 1
    # lies a hair across it (x = 0.01, under numeric_tolerance of x's
    # spread): a path's copy of such a row reaches the class only if that
    # small move is not reverted as a network's negligible change (it was:
    # both rows stayed in class 0).
    rng = np.random.RandomState(0)
    n = 400
    x = np.where(rng.rand(n) < 0.5, rng.uniform(-3, -0.02, n), 0.01)
    X = pd.DataFrame({"x": x.round(2), "z": rng.normal(size=n).round(2)})

    def proba(rows):
        p = (rows["x"].to_numpy() > 0).astype(float)
        return np.column_stack([1 - p, p])

    explainer = CounterfactualGAN(**{**FAST, "max_epochs": 1}).fit(X, proba)
    originals = pd.DataFrame({"x": [-0.02, -0.03], "z": [0.0, 0.5]})
    X_cf = explainer.transform(originals, target=1)
    assert (proba(X_cf)[:, 1] == 1).all()


def test_copies_that_are_their_training_rows_are_not_scored_again(
    mixed_frame, forest, monkeypatch
):
    # A constrained copy of a training row that shares the original's
    # frozen values decodes to that training row: its grade comes from the
    # output fit recorded, and only the other copies go through the model.
    # The grades are those of scoring all (an explainer without the pool's
    # rows, as one fit before they were kept).
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, forest)
    X = mixed_frame.iloc[:40]
    rows = np.arange(len(X))
    predict, scored = cf.predictor_.predict, []

    def counting_predict(frame):
        scored.append(len(frame))
        return predict(frame)

    monkeypatch.setattr(cf.predictor_, "predict", counting_predict)
    for constraints in [(["color"], None, None), (["color"], None, {"age": 1})]:
        batch = cf._batch(X, None, constraints)
        target = batch.target.take(rows)
        scored.clear()
        # Deep enough that some of the nearest rows hold another colour.
        several, graded = cf._scored_copies(batch, rows, batch.Xt, target, 60)
        owner, slot = np.nonzero(several >= 0)
        pool = several[owner, slot]
        copies = np.where(
            batch.frozen_columns[owner] > 0, batch.Xt[owner], cf.reference_.Xt[pool]
        )
        decoded = cf._decode(
            batch, owner, copies.astype(np.float32), revert_negligible=False
        )
        same = cf.adapter_.equal_rows(decoded, cf.reference_.rows.iloc[pool])
        assert 0 < same.sum() < len(owner)
        assert sum(scored) == (~same).sum()

        pool_rows = cf.reference_.rows
        monkeypatch.setattr(cf.reference_, "rows", None)
        scored.clear()
        several_all, graded_all = cf._scored_copies(batch, rows, batch.Xt, target, 60)
        monkeypatch.setattr(cf.reference_, "rows", pool_rows)
        assert sum(scored) == len(owner)
        np.testing.assert_array_equal(several_all, several)
        np.testing.assert_array_equal(graded_all, graded)


def test_the_pool_keeps_its_training_rows(mixed_frame, forest):
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, forest)
    reference = cf.reference_
    assert len(reference.rows) == len(reference.Xt) == len(reference.positions)
    # The rows are training rows, as fit read them, in the pool's order.
    pd.testing.assert_frame_equal(
        reference.rows,
        mixed_frame.iloc[reference.rows.index.map(mixed_frame.index.get_loc)],
    )
    np.testing.assert_allclose(
        cf.encoder_.transform(reference.rows), reference.Xt, atol=1e-6
    )


def _first_channel_late_mean_above_half(X):
    """Class 1 where channel 0's second half averages above 0.5."""
    late = np.asarray(X, dtype=float)[:, 0, 12:].mean(axis=1) > 0.5
    return np.column_stack([~late, late]).astype(float)


def test_a_series_window_is_copied_on_the_channels_the_model_needs():
    # Three channels, the class on channel 0 alone: the reference series
    # differs on all three, but the answer copies the window on channel 0
    # and leaves the other two as they were.
    rng = np.random.RandomState(0)
    X = 0.05 * rng.normal(size=(96, 3, 24)).astype(np.float32)
    X[48:, :, 12:] += 1.0  # the reference's late steps, every channel
    cf = CounterfactualGAN(**{**FAST, "max_epochs": 1}, modality="series").fit(
        X, _first_channel_late_mean_above_half
    )
    batch = cf._batch(X[:4], None, (None, None, None))
    goal = np.repeat(cf.encoder_.transform(X[48:49]), 4, axis=0)
    reached, decoded, y = cf._window_path(batch, np.arange(4), batch.Xt, goal)
    assert reached.all()
    assert (_first_channel_late_mean_above_half(decoded)[:, 1] == 1).all()
    np.testing.assert_array_equal(np.asarray(y).argmax(axis=1), 1)
    np.testing.assert_array_equal(decoded[:, 1:], X[:4, 1:])
    assert (decoded[:, 0] != X[:4, 0]).any(axis=1).all()


def test_equal_rows_compares_categoricals_of_other_categories():
    from cfexplain.modalities.tabular import TabularAdapter

    a = pd.DataFrame({"c": pd.Categorical(["x", "y"], categories=["x", "y", "z"])})
    b = pd.DataFrame({"c": pd.Categorical(["x", "z"], categories=["x", "z"])})
    assert TabularAdapter.equal_rows(a, b).tolist() == [True, False]


def test_numbers_in_an_object_array_keep_their_exact_values():
    rng = np.random.RandomState(0)
    X = np.empty((400, 3), dtype=object)
    X[:, 0], X[:, 1] = rng.normal(size=400), rng.normal(size=400)
    X[:, 2] = rng.choice(["u", "v"], 400)

    def proba(rows):
        p = 1 / (1 + np.exp(-4 * np.asarray(rows)[:, 0].astype(float)))
        return np.column_stack([1 - p, p])

    cf = CounterfactualGAN(**{**FAST, "prediction_weight": 0.0})
    with pytest.warns(LowValidityWarning):
        cf.fit(X, proba)
    X_cf = cf.transform(X[:40])
    # Only x0 counts for the model: x1 comes back to the last bit.
    assert (X_cf[:, 1] == X[:40, 1]).all()
    assert all(len(row[0]) == 1 for row in cf.explain(X[:5]).changes)


def _a_and_any_other_high(frame):
    """Class 1 where ``a`` and at least one of ``b``-``e`` exceed 0.5."""
    values = np.asarray(frame, dtype=float)
    one = (values[:, 0] > 0.5) & (values[:, 1:] > 0.5).any(axis=1)
    return np.column_stack([~one, one]).astype(float)


@pytest.fixture(scope="module")
def five_numbers():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(0, 1, (300, 5)), columns=list("abcde"))
    cf = CounterfactualGAN(**FAST, training_row_candidates=False)
    return cf.fit(X, _a_and_any_other_high)


def test_a_path_gives_back_every_feature_the_model_does_not_need(five_numbers):
    # From this original to this training row the path copies b, c, d, e
    # (largest difference first) and then a, which the model needs. Each
    # of b-e alone is needless, all four together are not: the backward
    # step gives back the three largest and keeps one (before, it gave back
    # all or else the largest only, keeping two). Which one it keeps
    # depends on the reference's distances, not asserted.
    cf = five_numbers
    original = pd.DataFrame([[0.45, 0.0, 0.0, 0.0, 0.0]], columns=list("abcde"))
    training_row = pd.DataFrame([[0.55, 0.9, 0.8, 0.7, 0.6]], columns=list("abcde"))
    batch = cf._batch(original, 1, (None, None, None))
    reached, decoded, y = cf._feature_path(
        batch, np.array([0]), batch.Xt, cf.encoder_.transform(training_row)
    )
    assert reached.tolist() == [True]
    changed = decoded.to_numpy() != original.to_numpy()
    assert changed[0, 0] and changed.sum() == 2
    np.testing.assert_array_equal(y, _a_and_any_other_high(decoded))


def test_valid_answers_get_their_unneeded_changes_given_back(five_numbers):
    # An answer that changes a, b and c, where a and one of b, c are enough,
    # comes back as well with the smaller of b and c given back; a rejected
    # answer comes back as it was.
    cf = five_numbers
    originals = pd.DataFrame(
        [[0.45, 0.0, 0.0, 0.0, 0.0], [0.4, 0.1, 0.1, 0.1, 0.1]], columns=list("abcde")
    )
    answers = originals.copy()
    answers.loc[0, ["a", "b", "c"]] = [0.6, 0.9, 0.7]
    answers.loc[1, ["b", "c"]] = [0.9, 0.9]  # a stays low: rejected
    batch = cf._batch(originals, 1, (None, None, None))
    options = [(answers, _a_and_any_other_high(answers))]
    ((sparse, y_sparse),) = cf._sparser_answers(batch, np.arange(2), options)
    expected = answers.copy()
    expected.loc[0, "c"] = originals.loc[0, "c"]
    pd.testing.assert_frame_equal(sparse, expected)
    np.testing.assert_array_equal(y_sparse, _a_and_any_other_high(expected))


def test_fit_does_not_warn_about_an_opposite_nobody_asked_for(mixed_frame):
    # A three-class model given as labels ties the two other classes: the
    # self-check's own "opposite" must not warn at fit; transform, asked
    # for "opposite", warns once.
    class LabelsOnly:
        classes_ = np.array(["low", "mid", "high"])

        def predict(self, X):
            return self.classes_[frame_proba_3(X).argmax(axis=1)]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        explainer = CounterfactualAE(**FAST_AUTOENCODER).fit(
            mixed_frame, LabelsOnly().predict
        )
    assert not [w for w in caught if w.category is AmbiguousTargetWarning]
    rows = mixed_frame.iloc[:20]
    calls = {
        "transform": lambda: explainer.transform(rows, target="opposite"),
        "explain": lambda: explainer.explain(rows, target="opposite"),
        # The explainer's own target, in a Pipeline (last: it sets it).
        "a Pipeline": lambda: make_pipeline(
            explainer.set_params(target="opposite")
        ).transform(rows),
    }
    for how, call in calls.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        ambiguous = [w for w in caught if w.category is AmbiguousTargetWarning]
        assert len(ambiguous) == 1, how
        # It names the user's line, whatever the depth it comes from.
        assert ambiguous[0].filename == __file__, (how, ambiguous[0].filename)


def test_training_row_candidates_shorten_the_generators_numbers(
    mixed_frame, monkeypatch
):
    from cfexplain._candidates import CandidateSet

    cf = CounterfactualGAN(**FAST, training_row_candidates=True)
    cf.fit(mixed_frame, frame_proba)
    X = mixed_frame

    def far_ages(batch, k):
        # A stand-in generator whose answers move age far past the model's
        # boundary (frame_proba rises with age), to the training extreme.
        rows = batch.rows.copy()
        up = batch.target.labels == 1
        rows.loc[up, "age"] = X["age"].max()
        rows.loc[~up, "age"] = X["age"].min()
        return CandidateSet(batch.rows, batch.y_model, batch.target, rows, None)

    monkeypatch.setattr(cf, "_generated_candidates", far_ages)
    batch = cf._batch(X, None, (None, None, None))
    far = far_ages(batch, 1).counterfactuals
    rows = np.arange(len(X))
    shorter, y_shorter = cf._shorten_numeric_moves(batch, rows, far, frame_proba(far))
    wanted = batch.target.labels
    reached = frame_proba(far).argmax(axis=1) == wanted
    assert reached.mean() > 0.8
    assert (frame_proba(shorter).argmax(axis=1) == wanted)[reached].all()
    # Each move stops within a step of the grid of the model's boundary: an
    # eighth of the stand-in's move less and the model no longer agrees
    # (but where whole years round both to one age; the grid of quarters
    # gave 42 %).
    share = (shorter["age"] - X["age"]) / (far["age"] - X["age"])
    moved = reached & (share.to_numpy() < 1)
    assert moved.sum() > 0.8 * reached.sum()
    back = X.copy()
    back["age"] = np.round(X["age"] + (share - 1 / 8) * (far["age"] - X["age"]))
    back = back.astype(X.dtypes)[moved]
    assert (frame_proba(back).argmax(axis=1) != wanted[moved]).mean() >= 0.85
    # transform offers the shortened answers: none it returns costs more.
    answers = cf.transform(X)
    costs = [
        cf._answer_costs(batch, rows, answer, frame_proba(answer))[1]
        for answer in (answers, shorter, far)
    ]
    assert (costs[0] <= costs[1] + 1e-9).all()
    assert (costs[0] < costs[2] - 1e-6).mean() > 0.5


class _FailingPredict(ShiftedPredict):
    def predict(self, X):
        raise RuntimeError("this model's predict is broken")


def test_fit_warns_when_predict_disagrees_with_the_probabilities_judged_by(
    mixed_frame,
):
    model = ShiftedPredict()
    with pytest.warns(PredictMismatchWarning, match="decision_function or predict"):
        cf = CounterfactualGAN(**FAST).fit(mixed_frame, model.predict_proba)
    report = cf.fit_report_
    assert report["predict_agreement_counterfactuals"] < closed_loop.PREDICT_AGREEMENT
    assert 0.0 <= report["predict_agreement"] <= 1.0
    # The same classifier whose predict is the argmax: agreement 1, no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", PredictMismatchWarning)
        cf = CounterfactualGAN(**FAST).fit(mixed_frame, ShiftedPredict(0.0))
    assert cf.fit_report_["predict_agreement_counterfactuals"] == 1.0
    # A plain function has no predict of its own to compare, and a predict
    # that fails leaves the check out rather than failing fit.
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, frame_proba)
    assert "predict_agreement_counterfactuals" not in cf.fit_report_
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, _FailingPredict().predict_proba)
    assert "predict_agreement_counterfactuals" not in cf.fit_report_


class _CountingShiftedPredict(ShiftedPredict):
    predict_calls = 0

    def predict(self, X):
        type(self).predict_calls += 1
        return super().predict(X)


def test_transform_and_explain_warn_where_predict_rejects_valid_answers(
    mixed_frame,
):
    # The self-check's 16 rows are too few to trust its agreement (on iris
    # its 10 answers all agreed while predict rejected 11 % of the test
    # rows' answers): transform and explain compare predict on theirs.
    model = ShiftedPredict(1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cf = CounterfactualGAN(**FAST).fit(mixed_frame, model.predict_proba)
    assert cf.fit_report_["n_rows"] < closed_loop.FEW_SELF_CHECK_ROWS
    explanation = cf.explain(mixed_frame, target="opposite")
    answers = explanation.counterfactuals
    rejected = explanation.valid[:, 0] & (
        model.predict(answers) != frame_proba(answers).argmax(axis=1)
    )
    assert rejected.any()
    expected = (
        f"{int(rejected.sum())} of {int(explanation.valid.sum())} "
        "counterfactuals judged valid by the model's predict_proba get another "
        "class from its predict"
    )
    for call in (cf.transform, cf.explain):
        with pytest.warns(PredictMismatchWarning, match=expected) as caught:
            call(mixed_frame, target="opposite")
        assert "CalibratedClassifierCV" in str(caught[0].message)
        assert caught[0].filename == __file__
    # In chunks, one warning with the whole call's count; run by joblib (as
    # cross_validate runs a scorer), it still names the caller's line.
    cf.set_params(chunk_size=len(mixed_frame) // 3)
    with pytest.warns(PredictMismatchWarning, match=expected) as caught:
        Parallel(n_jobs=1)(
            delayed(cf.transform)(mixed_frame, target="opposite") for _ in [0]
        )
    mismatches = [w for w in caught if w.category is PredictMismatchWarning]
    assert len(mismatches) == 1 and mismatches[0].filename == __file__


def test_transform_skips_the_predict_check_after_a_self_check_that_agreed():
    # 60 self-check rows agreeing: transform calls no predict of its own.
    X = make_mixed_frame(600)
    model = _CountingShiftedPredict(0.0)
    cf = CounterfactualGAN(**FAST).fit(X, model)
    report = cf.fit_report_
    assert report["n_rows"] >= closed_loop.FEW_SELF_CHECK_ROWS
    assert report["predict_agreement_counterfactuals"] == 1.0
    before = _CountingShiftedPredict.predict_calls
    cf.transform(X.iloc[:50], target="opposite")
    assert _CountingShiftedPredict.predict_calls == before


class _TieBreakingScores:
    """Three decision scores whose ``predict`` favours the first class.

    As a multi-class ``SVC`` breaking its vote ties by class order: near a
    boundary with class 0, ``predict`` says 0 where the scores say another.
    """

    classes_ = np.array(["low", "mid", "high"])

    def decision_function(self, X):
        return np.log(frame_proba_3(X))

    def predict(self, X):
        scores = self.decision_function(X) + np.array([0.5, 0.0, 0.0])
        return self.classes_[scores.argmax(axis=1)]


def test_a_decision_function_is_compared_with_its_owners_predict(mixed_frame):
    model = _TieBreakingScores()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cf = CounterfactualGAN(**FAST).fit(mixed_frame, model.decision_function)
    assert cf.predictor_.judged_by == "decision_function"
    assert "predict_agreement_counterfactuals" in cf.fit_report_
    with pytest.warns(PredictMismatchWarning, match="give predict as the model") as w:
        cf.transform(mixed_frame, target="mid")
    # break_ties is an SVC's parameter: not advised for other estimators.
    assert "break_ties" not in str(w[0].message)


@pytest.mark.parametrize("shape, advised", [("ovr", True), ("ovo", False)])
def test_an_svcs_tie_advice_names_break_ties_where_it_applies(shape, advised):
    # scikit-learn refuses break_ties with one-vs-one decision scores.
    X, y = make_classification(
        120, n_features=4, n_informative=3, n_redundant=0, n_classes=3,
        random_state=0,
    )  # fmt: skip
    svc = SVC(decision_function_shape=shape).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cf = CounterfactualGAN(**FAST).fit(X, svc.decision_function)
    assert ("break_ties=True" in cf._predict_mismatch_advice()) is advised


def _always_first_class(X):
    return np.tile([0.8, 0.2], (len(X), 1))


def test_a_model_predicting_one_class_is_not_told_to_train_more(mixed_frame):
    with pytest.warns(LowValidityWarning, match="single class"):
        cf = CounterfactualGAN(**FAST).fit(mixed_frame, _always_first_class)
    with pytest.warns(UnreachedTargetWarning) as caught:
        X_cf = cf.transform(mixed_frame.iloc[:10])
    message = str(caught[0].message)
    assert "10 of them ask for a class the model gives none" in message
    assert "max_epochs" not in message
    assert X_cf.shape == (10, mixed_frame.shape[1])
