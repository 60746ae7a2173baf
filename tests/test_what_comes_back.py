"""What goes in comes back: column names, dtypes, the model's task, conflicts.

Each kind of input is handled at one root shared by every explainer (the
tabular adapter, the predictor wrapper, the constraints), so each kind is
tested over all three explainers, and with hypothesis over generated names,
dtypes and values.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from cf_testing import (
    FAST,
    FAST_AUTOENCODER,
    CategoryModel,
    frame_proba,
    make_mixed_frame,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.special import expit
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from cfexplain import (
    ConstraintError,
    CounterfactualAE,
    CounterfactualCVAE,
    CounterfactualGAN,
    InvalidDataError,
    TaskGuessWarning,
    UnreachedTargetWarning,
    metrics,
)

ESTIMATORS = {
    "gan": lambda **kw: CounterfactualGAN(**{**FAST, **kw}),
    "ae": lambda **kw: CounterfactualAE(**{**FAST_AUTOENCODER, **kw}),
    "cvae": lambda **kw: CounterfactualCVAE(**{**FAST_AUTOENCODER, **kw}),
}


def renamed(frame, names):
    """The mixed frame with other column labels, and a model reading them."""
    out = frame.copy()
    out.columns = names
    return out


class ByPosition:
    """``frame_proba`` reading the mixed frame's columns by position."""

    def __call__(self, X):
        return frame_proba(renamed(X, ["age", "hours", "color", "member"]))


def nullable(frame):
    return frame.astype(
        {"age": "Int64", "hours": "Float64", "color": "string", "member": "boolean"}
    )


@pytest.fixture(scope="module", params=sorted(ESTIMATORS))
def fitted(request):
    """Each explainer fitted on the mixed frame (plain numpy dtypes)."""
    return ESTIMATORS[request.param]().fit(make_mixed_frame(), frame_proba)


# -- 1. column names ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@pytest.mark.parametrize("labels", [[0, 1, 2, 3], [10, 20, 5, 7], [0.5, 1.5, 2.5, 3.5]])
def test_non_string_column_labels_work_end_to_end(name, labels):
    X = renamed(make_mixed_frame(), labels)
    cf = ESTIMATORS[name](immutable=[labels[2]]).fit(X, ByPosition())
    X_cf = cf.transform(X.iloc[:7])
    assert list(X_cf.columns) == labels
    assert (X_cf.dtypes == X.dtypes).all()
    pd.testing.assert_index_equal(X_cf.index, X.index[:7], exact="equiv")
    # The immutable label names the column, not a position.
    pd.testing.assert_series_equal(X_cf[labels[2]], X[labels[2]].iloc[:7])


def test_integer_labels_are_names_before_positions():
    X = renamed(make_mixed_frame(), [3, 2, 1, 0])
    cf = CounterfactualGAN(**FAST).fit(X, ByPosition())
    X_cf = cf.transform(X.iloc[:20], immutable=[0])
    # Label 0 is the last column ("member"), not the first.
    pd.testing.assert_series_equal(X_cf[0], X[0].iloc[:20])


def test_mixed_type_column_names_get_scikit_learns_message():
    X = renamed(make_mixed_frame(), ["age", 1, "color", "member"])
    with pytest.raises(InvalidDataError, match="all input features have string names"):
        CounterfactualGAN(**FAST).fit(X, ByPosition())


def test_multiindex_columns_are_rejected_with_the_fix():
    X = make_mixed_frame()
    X.columns = pd.MultiIndex.from_tuples([("a", c) for c in X.columns])
    with pytest.raises(InvalidDataError, match="MultiIndex columns; flatten"):
        CounterfactualGAN(**FAST).fit(X, ByPosition())


def test_multiindex_columns_at_transform_are_rejected(fitted):
    X = make_mixed_frame(n=5)
    X.columns = pd.MultiIndex.from_tuples([("a", c) for c in X.columns])
    with pytest.raises(InvalidDataError, match="MultiIndex"):
        fitted.transform(X)


def test_integer_labels_in_another_order_at_transform_are_rejected():
    X = renamed(make_mixed_frame(), [0, 1, 2, 3])
    cf = CounterfactualGAN(**FAST).fit(X, ByPosition())
    with pytest.raises(InvalidDataError, match=r"columns \[1, 0, 2, 3\], but fit"):
        cf.transform(X[[1, 0, 2, 3]])


@settings(
    deadline=None,
    max_examples=8,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    names=st.one_of(
        st.lists(st.text(min_size=1, max_size=8), min_size=4, max_size=4, unique=True),
        st.lists(st.integers(-50, 50), min_size=4, max_size=4, unique=True),
    )
)
def test_any_unique_column_names_round_trip(names):
    X = renamed(make_mixed_frame(n=40), names)
    cf = CounterfactualGAN(**{**FAST, "max_epochs": 1}).fit(X, ByPosition())
    X_cf = cf.transform(X.iloc[:5], immutable=[names[3]])
    assert list(X_cf.columns) == names
    assert (X_cf.dtypes == X.dtypes).all()
    pd.testing.assert_series_equal(X_cf[names[3]], X[names[3]].iloc[:5])


# -- 2. output dtypes -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_nullable_dtypes_fitted_come_back_exactly(name):
    X = nullable(make_mixed_frame()).astype({"age": "UInt8"})
    cf = ESTIMATORS[name]().fit(X, frame_proba)
    for constraints in ({}, {"immutable": ["age"]}, {"bounds": {"age": (30, 40)}}):
        X_cf = cf.transform(X.iloc[:9], **constraints)
        pd.testing.assert_series_equal(X_cf.dtypes, X.dtypes)


# Transform-time dtypes of each column, other than the plain ones of fit.
OTHER_DTYPES = {
    "age": ["int64", "float64", "Int64", "int32", "UInt8", "Float64", "float32"],
    "hours": ["float64", "float32", "Float64"],
    "color": ["object", "string", "category"],
    "member": ["bool", "boolean", "object"],
}


@settings(
    deadline=None,
    max_examples=25,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    dtypes=st.fixed_dictionaries(
        {c: st.sampled_from(d) for c, d in OTHER_DTYPES.items()}
    ),
    immutable=st.lists(st.sampled_from(sorted(OTHER_DTYPES)), unique=True, max_size=2),
    revert=st.booleans(),
)
def test_transform_returns_the_dtypes_of_its_input(fitted, dtypes, immutable, revert):
    X = make_mixed_frame(n=12, seed=3).astype(dtypes)
    X_cf = fitted.set_params(numeric_tolerance=0.5 if revert else 0.0).transform(
        X, immutable=immutable
    )
    pd.testing.assert_series_equal(X_cf.dtypes, X.dtypes)
    for column in immutable:
        pd.testing.assert_series_equal(X_cf[column], X[column])
    if str(X["age"].dtype) in ("float64", "float32", "Float64"):
        # Fitted on integers: the decoder's integers, whatever the dtype.
        assert (X_cf["age"] == np.round(X_cf["age"])).all()


def test_float_fitted_column_given_as_integers_comes_back_as_integers():
    X = make_mixed_frame().astype({"age": "float64"})
    cf = CounterfactualGAN(**FAST).fit(X, frame_proba)
    X_int = make_mixed_frame(n=10)
    X_cf = cf.transform(X_int)
    assert X_cf["age"].dtype == np.int64


def test_explain_keeps_the_input_dtypes(fitted):
    X = nullable(make_mixed_frame(n=6))
    explanation = fitted.explain(X, n_counterfactuals=2)
    pd.testing.assert_series_equal(explanation.counterfactuals.dtypes, X.dtypes)


def test_array_input_comes_back_in_its_dtype():
    rng = np.random.RandomState(0)
    X = rng.randint(0, 10, size=(80, 3)).astype(np.int64)
    cf = CounterfactualGAN(**FAST).fit(X, lambda_free_proba)
    out = cf.transform(X[:5].astype(np.float32))
    assert out.dtype == np.float32 and out.shape == (5, 3)


def test_a_frame_given_to_an_array_fitted_explainer_is_read_by_position():
    # As scikit-learn's estimators read it: after their warning, by
    # position, and answered in fit's format. It failed with pandas'
    # KeyError on the fitted names x0, x1, ...
    rng = np.random.RandomState(0)
    X = rng.randint(0, 10, size=(80, 3)).astype(np.int64)
    cf = CounterfactualGAN(**FAST).fit(X, lambda_free_proba)
    frame = pd.DataFrame(X[:5], columns=["a", "b", "c"])
    with pytest.warns(UserWarning, match="fitted without feature names"):
        out = cf.transform(frame)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, cf.transform(X[:5]))
    with pytest.warns(UserWarning, match="fitted without feature names"):
        explanation = cf.explain(frame)
    # explain answers the frame as it answers the array: the same frames,
    # index and all.
    from_array = cf.explain(X[:5])
    pd.testing.assert_frame_equal(explanation.original, from_array.original)
    pd.testing.assert_frame_equal(
        explanation.counterfactuals, from_array.counterfactuals
    )


def test_a_frame_with_an_unseen_category_given_to_an_array_fitted_explainer():
    # Its rows left unchanged are put back in the array it is answered as.
    rng = np.random.RandomState(0)
    X = np.column_stack(
        [rng.choice(["a", "b"], 80), rng.randint(0, 10, 80), rng.randint(0, 10, 80)]
    ).astype(object)
    X[:, 1:] = X[:, 1:].astype(np.int64)
    cf = CounterfactualGAN(**FAST, handle_unknown="warn").fit(X, _numbers_proba)
    frame = pd.DataFrame(X[:4], columns=["c", "m", "n"])
    frame.iloc[1, 0] = "z"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = cf.transform(frame)
        every_row_unseen = cf.transform(frame.iloc[[1]])
    assert isinstance(out, np.ndarray) and out.shape == (4, 3)
    assert list(out[1]) == list(frame.iloc[1])
    assert isinstance(every_row_unseen, np.ndarray)


def test_an_object_array_keeps_whole_numbers_and_decimals():
    # df.to_numpy() of a mixed table: ages (integers), amounts in cents,
    # text. Its answers hold whole ages and amounts of two decimals, as the
    # frame's would; the other columns' values come back exactly.
    rng = np.random.RandomState(0)
    X = np.empty((300, 3), dtype=object)
    X[:, 0] = rng.randint(18, 70, 300).tolist()
    X[:, 1] = np.round(rng.lognormal(8, 0.5, 300), 2).tolist()
    X[:, 2] = rng.choice(["a", "b"], 300).tolist()
    cf = CounterfactualGAN(**FAST).fit(X, _amount_proba)
    out = cf.transform(X[:40])
    assert out.dtype == object and out.shape == (40, 3)
    assert all(float(v).is_integer() for v in out[:, 0])
    assert all(round(float(v), 2) == float(v) for v in out[:, 1])
    assert (out[:, 1] != X[:40, 1]).any()  # the amounts the model reads moved


def _amount_proba(X):
    """A classifier of amounts above about 3,000 (column 1)."""
    amount = np.asarray(X[:, 1], dtype=float)
    p = 1 / (1 + np.exp(-(amount - 3000) / 500))
    return np.column_stack([1 - p, p])


def _numbers_proba(X):
    """A classifier of the sum of columns 1 and 2 (column 0 holds text)."""
    return lambda_free_proba(np.asarray(X)[:, 1:])


def lambda_free_proba(X):
    p = 1 / (1 + np.exp(-(np.asarray(X, float).sum(axis=1) - 13.5) / 3))
    return np.column_stack([1 - p, p])


# -- 3. the model's task --------------------------------------------------------------


def numeric_data(n=200):
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"u": rng.normal(size=n), "v": rng.normal(size=n)})
    return X, (X["u"] + 0.3 * X["v"] > 0).astype(int)


def test_pipeline_predict_is_read_as_a_classifier():
    X, y = numeric_data()
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TaskGuessWarning)
        cf = CounterfactualGAN(**FAST).fit(X, pipe.predict)
    assert cf.predictor_.task_ == "classification"
    np.testing.assert_array_equal(cf.classes_, [0, 1])
    explanation = cf.explain(X.iloc[:10], target="opposite")
    # One-hot outputs: the model's own label, through predict.
    np.testing.assert_array_equal(
        explanation.y_counterfactual.argmax(axis=1),
        pipe.predict(explanation.counterfactuals),
    )


def label_function(X):
    return (np.asarray(X, dtype=float)[:, 0] > 0).astype(int)


def test_whole_number_outputs_are_taken_as_regression_with_a_warning():
    X, _ = numeric_data()
    with pytest.warns(TaskGuessWarning, match=r"task='regression'.*") as record:
        cf = CounterfactualGAN(**FAST).fit(X, label_function)
    assert "label_function" in str(record[0].message)
    # The warning points at the line that called fit.
    assert record[0].filename == __file__
    assert cf.predictor_.task_ == "regression"


def test_declared_regression_does_not_warn():
    X, _ = numeric_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", TaskGuessWarning)
        cf = CounterfactualGAN(**FAST, task="regression").fit(X, label_function)
    assert cf.predictor_.task_ == "regression"


def positive_class_probability(X):
    """A binary classifier's P(class 1) alone, as predict_proba(X)[:, 1] gives."""
    X = np.asarray(X, dtype=float)
    return expit(X[:, 0] + 0.3 * X[:, 1])


def test_outputs_within_0_and_1_are_taken_as_regression_with_a_warning():
    X, _ = numeric_data()
    with pytest.warns(TaskGuessWarning, match=r"within \[0, 1\].*both columns"):
        cf = CounterfactualGAN(**FAST).fit(X, positive_class_probability)
    assert cf.predictor_.task_ == "regression"
    with warnings.catch_warnings():
        warnings.simplefilter("error", TaskGuessWarning)
        CounterfactualGAN(**FAST, task="regression").fit(X, positive_class_probability)


def test_the_task_guess_reads_rows_across_a_table_sorted_by_class():
    # A table sorted by class (as iris ships): P(class 1) is 0 on every one
    # of the first rows, which read alone looked like class labels.
    X, _ = numeric_data()
    X = X.copy()
    X.iloc[:8, 0] = -1000.0
    assert (positive_class_probability(X.iloc[:8]) == 0.0).all()
    with pytest.warns(TaskGuessWarning, match=r"within \[0, 1\]"):
        CounterfactualGAN(**FAST).fit(X, positive_class_probability)


def test_features_named_like_explain_s_columns_keep_their_values():
    names = ["age", "prediction", "color", "valid"]
    X = renamed(make_mixed_frame(), names)
    cf = CounterfactualGAN(**FAST).fit(X, ByPosition())
    explanation = cf.explain(X.iloc[:5], n_counterfactuals=2)
    frame = explanation.to_frame()
    pd.testing.assert_frame_equal(frame[names], explanation.counterfactuals)
    np.testing.assert_array_equal(
        frame["cf_prediction"], explanation.predicted(explanation.y_counterfactual)
    )
    np.testing.assert_array_equal(frame["cf_valid"], explanation.valid.reshape(-1))
    # Targets are class labels of the predictions' dtype, not objects.
    assert frame["target"].dtype == frame["cf_prediction"].dtype


def test_a_pandas_target_is_matched_to_the_rows_by_index(fitted):
    X = make_mixed_frame().iloc[:12]
    labels = fitted.predictor_.classes_[frame_proba(X).argmax(axis=1)]
    other = 1 - labels
    by_position = fitted.transform(X, target=other)
    shuffled = pd.Series(other, index=X.index).iloc[::-1]
    pd.testing.assert_frame_equal(fitted.transform(X, target=shuffled), by_position)
    explanation = fitted.explain(X, target=shuffled)
    np.testing.assert_array_equal(explanation.target, other)


def test_per_row_float_labels_survive_chunks_as_long_as_the_classes():
    # Float class labels; chunks of 4 leave a last chunk of 2 rows, as many
    # as the classes: still labels, as for the whole call.
    X, y = numeric_data()
    clf = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y.astype(float))
    cf = CounterfactualGAN(**FAST).fit(X, clf.predict_proba)
    rows = X.iloc[:6]
    target = 1.0 - clf.predict(rows)
    whole = cf.transform(rows, target=target)
    cf.set_params(chunk_size=4)
    pd.testing.assert_frame_equal(cf.transform(rows, target=target), whole)


def test_validity_of_explain_answers_with_a_series_target():
    X, y = numeric_data()
    clf = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    cf = CounterfactualGAN(**FAST).fit(X, clf.predict_proba)
    rows = X.iloc[:8]
    target = pd.Series(1 - clf.predict(rows), index=rows.index).iloc[::-1]
    explanation = cf.explain(rows, target=target, n_counterfactuals=2)
    valid = metrics.validity(
        clf, explanation.counterfactuals, target=target, reduce=None
    )
    np.testing.assert_array_equal(valid, explanation.valid.reshape(-1))


def test_a_scikit_learn_regressor_of_a_rate_is_not_questioned():
    X, _ = numeric_data()
    rate = positive_class_probability(X)
    regressor = RandomForestRegressor(n_estimators=5, random_state=0).fit(X, rate)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TaskGuessWarning)
        for model in (regressor, regressor.predict):
            cf = CounterfactualGAN(**FAST).fit(X, model)
            assert cf.predictor_.task_ == "regression"


def step_value(X):
    """A regression model with two values only: 0 and 10."""
    return np.where(np.asarray(X, dtype=float)[:, 0] > 0, 10.0, 0.0)


def test_a_regression_target_between_the_model_s_values_is_named():
    X, _ = numeric_data()
    cf = CounterfactualAE(**FAST_AUTOENCODER, task="regression").fit(X, step_value)
    with pytest.warns(Warning, match=r"5 ask for values no training row's output"):
        cf.transform(X.iloc[:5], target=5.0)


def test_rows_at_their_target_still_hold_the_call_s_bounds():
    # Rows the model already puts at the target are answered with
    # themselves, unless the call's bounds would change them.
    X = make_mixed_frame()
    cf = CounterfactualGAN(**FAST).fit(X, frame_proba)
    rows = X.iloc[:20]
    own = frame_proba(rows).argmax(axis=1)
    high = float(rows["hours"].median())
    X_cf = _quietly(cf.transform, rows, target=own, bounds={"hours": (0, high)})
    assert (X_cf["hours"] <= high).all()
    inside = (rows["hours"] <= high).to_numpy()
    pd.testing.assert_frame_equal(X_cf[inside], rows[inside])


def _quietly(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(*args, **kwargs)


def test_a_regression_target_outside_the_model_s_range_is_named():
    X, _ = numeric_data()
    cf = CounterfactualAE(**FAST_AUTOENCODER, task="regression").fit(
        X, positive_class_probability
    )
    low, high = cf.output_range_
    assert 0 < low < high < 1
    with pytest.warns(UnreachedTargetWarning, match=r"outside the range") as caught:
        cf.transform(X.iloc[:5], target=5.0)
    # Every row is out of reach: the advice to train more would mislead.
    message = str(caught[0].message)
    assert "5 of them ask for values outside" in message
    assert "max_epochs" not in message


# -- 4. constraints that cannot all hold ---------------------------------------------


def aged(ages):
    X = make_mixed_frame(n=len(ages))
    X["age"] = np.asarray(ages, dtype=np.int64)
    return X


@pytest.mark.parametrize(
    "constraints, ages, match",
    [
        (
            {"bounds": {"age": (18, 69)}, "monotonic": {"age": "increasing"}},
            [30, 75, 76, 40],
            r"'age' for 2 of 4 rows \(positions 1, 2; index 101, 102; original "
            r"values 75, 76\): "
            r"monotonic='increasing'",
        ),
        (
            {"bounds": {"age": (50, 60)}, "monotonic": {"age": "decreasing"}},
            [55, 20],
            r"'age' for 1 of 2 rows \(positions 1;.*monotonic='decreasing'",
        ),
        (
            {"bounds": {"age": (60, 65)}, "immutable": ["age"]},
            [67, 22, 62],
            r"'age' for 2 of 3 rows \(positions 0, 1;.*immutable",
        ),
        (
            {"bounds": {"age": (30.2, 30.8)}},
            [30, 31],
            r"bounds \(30.2, 30.8\) of the integer feature 'age' hold no integer",
        ),
    ],
)
def test_conflicting_constraints_raise_naming_feature_and_rows(
    fitted, constraints, ages, match
):
    with pytest.raises(ConstraintError, match=match):
        fitted.transform(aged(ages), **constraints)
    with pytest.raises(ConstraintError):
        fitted.explain(aged(ages), **constraints)


def test_constraint_error_is_a_value_error():
    assert issubclass(ConstraintError, ValueError)


def test_rows_without_conflict_are_served(fitted):
    X = aged([30, 45, 69])
    X_cf = fitted.transform(
        X, bounds={"age": (18, 69)}, monotonic={"age": "increasing"}
    )
    age, age_cf = X["age"].to_numpy(), X_cf["age"].to_numpy()
    assert ((age_cf >= age) & (age_cf <= 69)).all()


def test_fit_with_constraints_some_training_rows_conflict_with():
    X = make_mixed_frame()
    cf = CounterfactualGAN(
        **FAST, bounds={"age": (18, 50)}, monotonic={"age": "increasing"}
    ).fit(X, frame_proba)
    # The self-check measured only the rows it could explain.
    assert 0 < cf.fit_report_["n_rows"] < len(X)
    with pytest.raises(ConstraintError):
        cf.transform(X[X["age"] > 50].iloc[:3])


# -- 5. messages that point the right way --------------------------------------------


def test_a_datetime_column_is_told_what_exists():
    X = make_mixed_frame()
    X["when"] = pd.date_range("2020-01-01", periods=len(X))
    with pytest.raises(InvalidDataError) as info:
        CounterfactualGAN(**FAST).fit(X, frame_proba)
    message = str(info.value)
    assert "'category' dtype" in message and "categorical_features" not in message


def test_a_univariate_series_array_is_not_given_image_advice():
    X = np.random.RandomState(0).normal(size=(30, 140, 1))
    with pytest.raises(InvalidDataError) as info:
        CounterfactualAE(**FAST_AUTOENCODER).fit(X, label_function)
    message = str(info.value)
    assert "modality='series'" in message and "255" not in message


# -- rows already at their target ----------------------------------------------------


def test_rows_already_at_a_named_target_come_back_unchanged(fitted):
    X = make_mixed_frame(n=30, seed=5)
    labels = frame_proba(X).argmax(axis=1)
    at_target = labels == 1
    assert at_target.any() and (~at_target).any()
    X_cf = fitted.transform(X, target=1)
    changed = (X_cf != X).any(axis=1).to_numpy()
    assert not changed[at_target].any()
    # The other rows are still explained, not copied.
    assert changed[~at_target].any()
    explanation = fitted.explain(X, target=1, n_counterfactuals=2)
    assert explanation.valid[at_target, 0].all()


def test_a_regression_explanation_reads_with_rounded_values():
    from cfexplain import Explanation

    original = pd.DataFrame({"x": [1.0, 2.0]})
    explanation = Explanation(
        original=original,
        counterfactuals=pd.DataFrame({"x": [3.0, 2.0]}),
        y_original=np.array([101.23456789, 255.26058696768413]),
        y_counterfactual=np.array([151.987654, 255.26058696768413]),
        target=np.array([[150.0, 200.0], [246.68493542, 253.31506458]]),
        valid=np.array([[True], [False]]),
        changes=[[["x: 1 -> 3"]], [[]]],
        classes=None,
        modality="tabular",
    )
    assert str(explanation).splitlines() == [
        "row 0: predicted 101.2, target 150 to 200",
        "  [0] (valid, predicted 152) x: 1 -> 3",
        "row 1: predicted 255.3, target 246.7 to 253.3",
        "  [0] (not valid, predicted 255.3) no change",
    ]


def test_an_answer_equal_to_an_earlier_one_says_so():
    from cfexplain import Explanation

    explanation = Explanation(
        original=pd.DataFrame({"x": [1.0]}, index=["a"]),
        counterfactuals=pd.DataFrame(
            {"x": [3.0, 4.0, 3.0]},
            index=pd.MultiIndex.from_product([["a"], [0, 1, 2]]),
        ),
        y_original=np.array([[0.9, 0.1]]),
        y_counterfactual=np.array([[0.2, 0.8], [0.1, 0.9], [0.2, 0.8]]),
        target=np.array([1]),
        valid=np.array([[True, True, True]]),
        changes=[[["x: 1 -> 3"], ["x: 1 -> 4"], ["x: 1 -> 3"]]],
        classes=np.array([0, 1]),
    )
    assert str(explanation).splitlines() == [
        "row a: predicted 0, target 1",
        "  [0] (valid) x: 1 -> 3",
        "  [1] (valid) x: 1 -> 4",
        "  [2] (valid, same as [0]) x: 1 -> 3",
    ]


def test_image_answers_that_differ_are_not_called_the_same():
    # An image's description is a summary: two answers can read alike and
    # still differ; only an equal one is "same as" an earlier one.
    from cfexplain import Explanation

    original = np.zeros((1, 1, 2, 2), dtype=np.float32)
    answers = np.full((3, 1, 2, 2), 0.5, dtype=np.float32)
    answers[1, 0, 0, 0] = 0.6
    summary = ["4 of 4 pixel values changed (mean change 0.5)"]
    explanation = Explanation(
        original=original,
        counterfactuals=answers,
        y_original=np.array([[0.9, 0.1]]),
        y_counterfactual=np.tile([[0.2, 0.8]], (3, 1)),
        target=np.array([1]),
        valid=np.array([[True, True, True]]),
        changes=[[summary, summary, summary]],
        classes=np.array([0, 1]),
        modality="image",
    )
    lines = str(explanation).splitlines()
    assert "same as" not in lines[2]
    assert lines[3].startswith("  [2] (valid, same as [0])")


def test_float_features_come_back_at_the_precision_of_their_training_values():
    X = make_mixed_frame(n=160).astype({"age": "float32"})
    X["hours"] = X["hours"].round(1)  # one decimal
    cf = CounterfactualGAN(**FAST).fit(X, frame_proba)
    X_cf = cf.transform(X)
    assert X_cf["age"].dtype == np.float32
    np.testing.assert_array_equal(X_cf["age"], np.round(X_cf["age"]))
    hours = X_cf["hours"].to_numpy()
    np.testing.assert_allclose(hours, np.round(hours, 1), rtol=0, atol=1e-9)
    # Numbers the counterfactuals move come back on that grid; others are
    # the originals, not values a rounding step away from them.
    assert (X_cf["age"] != X["age"]).any()


SEX_CODES = (-0.044642, 0.05068)  # two standardised values, as in diabetes


def flagged_proba(X):
    """A classifier that the float flag ``sex`` moves, beside frame_proba's."""
    shift = np.where(X["sex"].to_numpy(dtype=float) > 0, 2.0, -2.0)
    p = frame_proba(X)[:, 1]
    p = 1 / (1 + np.exp(-(np.log(p / (1 - p)) + shift)))
    return np.column_stack([1 - p, p])


def test_a_float_flag_takes_one_of_its_two_training_values():
    X = make_mixed_frame(n=160)
    X["sex"] = np.random.RandomState(1).choice(SEX_CODES, size=len(X))
    cf = CounterfactualAE(**FAST_AUTOENCODER).fit(X, flagged_proba)
    X_cf = cf.transform(X)
    assert X_cf["sex"].dtype == np.float64
    assert X_cf["sex"].isin(SEX_CODES).all()
    assert (X_cf["sex"] != X["sex"]).any()
    # A changed flag takes the nearer value; a new row's third value stays
    # as decoded (noise around it is the reverting's to judge, not a flag).
    odd = X.iloc[:4].copy()
    odd["sex"] = [SEX_CODES[0], SEX_CODES[1], 0.003, SEX_CODES[0]]
    adapter = cf.adapter_
    kept = adapter.at_data_precision(odd, odd.copy())
    np.testing.assert_array_equal(kept["sex"], odd["sex"])
    moved = odd.copy()
    moved["sex"] = [0.04, -0.03, 0.0031, np.nan]
    snapped = adapter.at_data_precision(odd, moved)["sex"].to_numpy()
    np.testing.assert_array_equal(snapped, [SEX_CODES[1], SEX_CODES[0], 0.0031, np.nan])


def test_only_float_features_with_two_values_are_flags():
    from cfexplain.modalities.tabular import _flag_values

    float64 = np.dtype("float64")
    assert _flag_values(np.array([0.5, -0.5, 0.5, np.nan]), float64) == (-0.5, 0.5)
    assert _flag_values(np.array([0.0, 1.0, 2.0]), float64) is None
    assert _flag_values(np.array([1.0, 1.0]), float64) is None
    assert _flag_values(np.array([0, 1]), np.dtype("int64")) is None


def test_float_features_of_fine_precision_are_not_rounded():
    from cfexplain.modalities.tabular import _decimals

    assert _decimals(np.array([1.0, 2.0, 30.0]), np.dtype("float64")) == 0
    assert _decimals(np.array([1.25, 2.5]), np.dtype("float64")) == 2
    assert _decimals(np.array([0.1, 0.7], dtype=np.float32), np.dtype("float32")) == 1
    assert _decimals(np.array([np.pi, 1.0]), np.dtype("float64")) is None
    assert _decimals(np.array([1, 2]), np.dtype("int64")) is None


def test_one_odd_value_does_not_set_a_float_features_precision():
    from cfexplain.modalities.tabular import _decimals

    values = np.round(np.linspace(1, 13, 178), 2)
    values[40] = 9.899999  # as in scikit-learn's wine data
    assert _decimals(values, np.dtype("float64")) == 2
    # Two such values in 178 are more than 1 %: no rounding is safe.
    values[41] = 3.100001
    assert _decimals(values, np.dtype("float64")) == 6


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_text_columns_fitted_as_categories_reach_the_model_as_categories(name):
    # Rows read back from a CSV file hold text where fit saw categories; a
    # model trained on categories (XGBoost's enable_categorical) refuses text.
    X = make_mixed_frame(160).astype({"color": "category"})
    explainer = ESTIMATORS[name]().fit(X, CategoryModel(["color"]).predict_proba)
    rows = X.iloc[:20].astype({"color": object})
    X_cf = explainer.transform(rows)
    assert X_cf["color"].dtype == object
    assert set(X_cf["color"]) <= set(X["color"].cat.categories)
    assert explainer.explain(rows).counterfactuals["color"].dtype == object
    # A category fit did not see is still named as one.
    rows.loc[rows.index[3], "color"] = "purple"
    with pytest.raises(InvalidDataError, match="purple"):
        explainer.transform(rows)


def test_integer_codes_fitted_as_categories_reach_the_model_as_categories():
    X = make_mixed_frame(160).astype({"color": "category", "age": "category"})
    model = CategoryModel(["color", "age"])
    explainer = CounterfactualGAN(**FAST).fit(X, model.predict_proba)
    rows = X.iloc[:20].astype({"age": "int64", "color": object})
    X_cf = explainer.transform(rows)
    assert X_cf["age"].dtype == "int64"
    assert set(X_cf["age"]) <= set(X["age"].cat.categories)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_global_pandas_output_gives_frames_and_leaves_the_engine_its_arrays(name):
    import sklearn

    X = make_mixed_frame(n=120)
    # A KeyError from inside the engine before: the encoder followed the
    # global setting and answered a frame where the engine reads an array.
    with sklearn.config_context(transform_output="pandas"):
        explainer = ESTIMATORS[name]().fit(X, frame_proba)
        X_cf = explainer.transform(X.iloc[:8], target="opposite")
        explainer.explain(X.iloc[:2])
    pd.testing.assert_series_equal(X_cf.dtypes, X.dtypes)
    assert X_cf.index.tolist() == X.index[:8].tolist()
    # Set after the fit, it changes nothing either.
    with sklearn.config_context(transform_output="pandas"):
        again = explainer.transform(X.iloc[:8], target="opposite")
    pd.testing.assert_frame_equal(again, X_cf)
