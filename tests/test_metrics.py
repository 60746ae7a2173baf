import warnings

import numpy as np
import pandas as pd
import pytest
from cf_testing import FAST, frame_proba, frame_value
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from cfexplain import CounterfactualGAN, metrics
from cfexplain.exceptions import CfexplainWarning, InvalidDataError, TargetError


def flipped(X):
    """Counterfactuals that surely flip frame_proba: extreme ages."""
    X_cf = X.copy()
    p = frame_proba(X)[:, 1]
    X_cf["age"] = np.where(p > 0.5, 18, 69)
    X_cf["color"] = np.where(p > 0.5, "blue", "red")
    X_cf["hours"] = np.where(p > 0.5, 60.0, 20.0)
    return X_cf


def test_validity_hand_checked(mixed_frame):
    X = mixed_frame.iloc[:20]
    assert metrics.validity(frame_proba, flipped(X), X=X) == 1.0
    assert metrics.validity(frame_proba, X, X=X) == 0.0
    mask = metrics.validity(frame_proba, flipped(X), X=X, reduce=None)
    assert mask.dtype == bool and mask.all()
    # an explicit class needs no originals
    labels = frame_proba(flipped(X)).argmax(axis=1)
    assert metrics.validity(frame_proba, flipped(X), target=labels) == 1.0
    with pytest.raises(TargetError, match="pass X="):
        metrics.validity(frame_proba, X)


def test_validity_counts_missing_rows_as_invalid(mixed_frame):
    X = mixed_frame.iloc[:10]
    X_cf = flipped(X).astype({"age": float, "member": object})
    X_cf.iloc[:3] = np.nan
    assert metrics.validity(frame_proba, X_cf, X=X) == pytest.approx(0.7)


def test_validity_regression_interval(mixed_frame):
    X = mixed_frame.iloc[:10]
    values = frame_value(X)
    assert metrics.validity(frame_value, X, target=(values.min(), values.max())) == 1
    assert metrics.validity(frame_value, X, target=(-5, -1)) == 0


def test_report_columns_and_values(mixed_frame):
    X = mixed_frame.iloc[:60]
    X_cf = flipped(X)
    report = metrics.counterfactual_report(frame_proba, X, X_cf, name="oracle")
    assert list(report.index) == ["oracle"]
    expected = {"n", "coverage", "validity", "l0", "l0_categorical", "l1", "mmd2"}
    assert expected <= set(report.columns)
    assert {"mmd2_0", "mmd2_1"} <= set(report.columns)
    row = report.iloc[0]
    assert row["n"] == 60 and row["coverage"] == 1.0 and row["validity"] == 1.0
    assert row["l0_categorical"] == metrics.l0(X, X_cf, features="categorical")
    # color and member: two categorical features, so pairs are checked.
    assert row["unseen_category_pairs"] == metrics.unseen_category_pairs(X, X_cf, X)
    same = metrics.counterfactual_report(frame_proba, X, X).iloc[0]
    assert same["l0"] == 0 and same["l1"] == 0 and same["validity"] == 0
    assert same["unseen_category_pairs"] == 0
    numbers_only = metrics.counterfactual_report(
        frame_proba, X, X_cf, categorical_features=["color"]
    )
    assert "unseen_category_pairs" not in numbers_only.columns


def test_scorers_in_grid_search_multi_metric(mixed_frame):
    scoring = metrics.counterfactual_scorers(
        [
            "validity",
            "l0",
            "l0_categorical",
            "l1",
            "mmd2",
            "class_mmd2",
            "unseen_category_pairs",
        ]
    )
    search = GridSearchCV(
        CounterfactualGAN(**FAST),
        {"sparsity_weight": [1.0, 50.0]},
        scoring=scoring,
        refit="validity",
        cv=2,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CfexplainWarning)
        search.fit(mixed_frame, predict_fn=frame_proba)
    # Warnings from the fits and the scorers that the search runs name the
    # line that started it, not scikit-learn's or cfexplain's internals.
    ours = [w for w in caught if issubclass(w.category, CfexplainWarning)]
    assert ours
    assert {w.filename for w in ours} == {__file__}
    results = pd.DataFrame(search.cv_results_)
    for name in scoring:
        assert np.isfinite(results[f"mean_test_{name}"]).all()
    assert (results["mean_test_validity"].between(0, 1)).all()
    assert (results["mean_test_l0"] <= 0).all()  # negated: greater is better
    assert search.best_estimator_.predictor_ is not None
    assert isinstance(
        search.best_estimator_.transform(mixed_frame.iloc[:3]), pd.DataFrame
    )


def test_scorers_leave_out_rows_with_categories_the_fit_did_not_see(mixed_frame):
    # A cross-validation fold of a column with many categories holds some
    # the training folds lack; transform refuses those rows, and before the
    # scorers left them out every score of the search was NaN.
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, frame_proba)
    X = mixed_frame.iloc[:40].copy()
    X["color"] = X["color"].astype(object)
    X.iloc[[3, 7], X.columns.get_loc("color")] = "purple"
    kept = X.drop(index=X.index[[3, 7]])
    with pytest.warns(CfexplainWarning, match="2 of 40 rows hold a category"):
        score = metrics.l1_scorer(cf, X)
    assert score == pytest.approx(metrics.l1_scorer(cf, kept))
    scorers = metrics.counterfactual_scorers(["validity", "l1"])
    with pytest.warns(CfexplainWarning, match="2 of 40"):
        assert scorers["validity"](cf, X) == pytest.approx(
            metrics.validity_scorer(cf, kept)
        )
    # No row left: NaN, with the same warning.
    with pytest.warns(CfexplainWarning, match="40 of 40"):
        assert np.isnan(metrics.l1_scorer(cf, X.assign(color="purple")))


def test_single_scorers_match_metrics(mixed_frame):
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, frame_proba)
    X = mixed_frame.iloc[:40]
    X_cf = cf.transform(X)
    assert metrics.l1_scorer(cf, X) == pytest.approx(-metrics.l1(X, X_cf, reference=X))
    assert metrics.validity_scorer(cf, X) == pytest.approx(
        metrics.validity(frame_proba, X_cf, X=X)
    )
    assert metrics.unseen_category_pairs_scorer(cf, X) == pytest.approx(
        -metrics.unseen_category_pairs(X, X_cf, X)
    )
    with pytest.raises(ValueError, match="unknown counterfactual metric"):
        metrics.make_counterfactual_scorer("accuracy")


def test_report_of_a_method_that_answered_one_row(mixed_frame):
    X = mixed_frame.iloc[:20]
    X_cf = flipped(X).astype({"age": float, "member": object})
    X_cf.iloc[1:] = np.nan
    row = metrics.counterfactual_report(frame_proba, X, X_cf).iloc[0]
    assert row["coverage"] == pytest.approx(0.05) and row["validity"] == 0.05
    assert np.isnan(row["mmd2"]) and np.isfinite(row["l1"])


def test_validity_with_the_originals_as_target_says_where_they_go(mixed_frame):
    X = mixed_frame.iloc[:10]
    with pytest.raises(TargetError, match=r"validity\(model, X_cf, X=X\)"):
        metrics.validity(frame_proba, X, flipped(X))


def test_validity_with_original_series_as_target_says_where_they_go():
    def first_value_proba(X):
        p = 1 / (1 + np.exp(-np.asarray(X).reshape(len(X), -1)[:, 0]))
        return np.column_stack([1 - p, p])

    X = np.random.default_rng(0).normal(size=(6, 2, 5))
    with pytest.raises(TargetError, match=r"validity\(model, X_cf, X=X\)"):
        metrics.validity(first_value_proba, -X, X)
    # On a 2-column table, per-row intervals have the rows' shape: a target.
    table = X[:, 0, :2]
    intervals = np.column_stack([np.full(6, -1.0), np.full(6, 1.0)])
    valid = metrics.validity(lambda T: T[:, 0], table, intervals, reduce=None)
    np.testing.assert_array_equal(valid, np.abs(table[:, 0]) <= 1)


def test_report_pairs_a_reordered_frame_by_label(mixed_frame):
    X = mixed_frame.iloc[:20].set_axis([f"id{i}" for i in range(20)])
    X_cf = flipped(X)
    X_cf.iloc[::3] = X.iloc[::3]  # a third left unchanged: invalid
    in_order = metrics.counterfactual_report(frame_proba, X, X_cf)
    shuffled = X_cf.sample(frac=1, random_state=0)
    pd.testing.assert_frame_equal(
        metrics.counterfactual_report(frame_proba, X, shuffled), in_order
    )
    # Other labels: paired by position, as documented.
    relabelled = X_cf.set_axis(range(20))
    pd.testing.assert_frame_equal(
        metrics.counterfactual_report(frame_proba, X, relabelled), in_order
    )


def test_validity_of_a_value_target_without_tolerance_warns(mixed_frame):
    X = mixed_frame.iloc[:10]
    with pytest.warns(CfexplainWarning, match="tolerance=0 is met only by exactly"):
        metrics.validity(frame_value, X, target=3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metrics.validity(frame_value, X, target=3.0, tolerance=0.5)
        metrics.validity(frame_value, X, target=(2.0, 4.0))


def test_missing_values_in_sparsity_metrics_say_what_to_do(mixed_frame):
    X = mixed_frame.iloc[:5]
    X_cf = X.copy()
    X_cf["hours"] = np.nan
    with pytest.raises(InvalidDataError, match="leave out rows a method could not"):
        metrics.l1(X, X_cf)


def test_class_mmd2_scorer_on_a_regression_says_which_scorers_fit(mixed_frame):
    values = frame_value(mixed_frame)
    interval = (float(values.min()), float(values.max()))
    cf = CounterfactualGAN(**FAST, target=interval).fit(mixed_frame, frame_value)
    with pytest.warns(CfexplainWarning, match="counterfactual_scorers"):
        assert np.isnan(metrics.class_mmd2_scorer(cf, mixed_frame.iloc[:10], None))


def test_class_mmd2_scorer_counts_a_missed_target_against_its_class(mixed_frame):
    # Answers that change nothing are their own class's rows: grouped by the
    # class the model gives them they would score as perfectly realistic.
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, frame_proba)
    X = mixed_frame.iloc[:80]
    cf.transform = lambda rows: rows.copy()
    assert metrics.validity_scorer(cf, X) == 0.0
    labels = frame_proba(X).argmax(axis=1)
    by_class = metrics.class_conditional_mmd2(X, X, 1 - labels, labels)
    expected = -np.mean([v for v in by_class.values() if np.isfinite(v)])
    assert metrics.class_mmd2_scorer(cf, X) == pytest.approx(expected)
    assert expected < -0.05


def test_scorers_rate_a_pipeline_ending_in_an_explainer(mixed_frame):
    scaled = mixed_frame.assign(hours=mixed_frame["hours"] / 10)
    pipe = make_pipeline(
        FunctionTransformer(lambda X: X.assign(hours=X["hours"] * 10)),
        CounterfactualGAN(**FAST),
    ).fit(scaled, counterfactualgan__predict_fn=frame_proba)
    explainer, rows = pipe[-1], pipe[:-1].transform(scaled.iloc[:30])
    for name, scorer in metrics.counterfactual_scorers().items():
        assert scorer(pipe, scaled.iloc[:30]) == pytest.approx(
            metrics.make_counterfactual_scorer(name)(explainer, rows)
        )
    with pytest.raises(TypeError, match="fitted cfexplain explainer"):
        metrics.l1_scorer(make_pipeline(FunctionTransformer()), mixed_frame)
    with pytest.raises(TypeError, match="not fitted yet: call fit first"):
        metrics.l1_scorer(CounterfactualGAN(), mixed_frame)


def test_report_on_series_leaves_out_categorical_sparsity():
    # Every value of a series is a number: l0_categorical would always be 0.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 2, 8)).astype(np.float32)
    X_cf = X + 0.5

    def proba(series):
        score = np.asarray(series).reshape(len(series), -1).mean(axis=1)
        return np.column_stack([score <= 0, score > 0]).astype(float)

    report = metrics.counterfactual_report(proba, X, X_cf)
    assert "l0_categorical" not in report.columns
    assert {"validity", "l0", "l1", "mmd2"} <= set(report.columns)
