"""The bad-input matrix: every awkward input gets a clear error or a right answer.

Each case is run on the three explainers (and the encoder's on the encoder).
A clear error is one of cfexplain's exceptions (or scikit-learn's parameter
and fitting errors), whose message matches what the case expects: the
problem and, where there is one, the fix. A right answer keeps the input's
format and satisfies what the case asks.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from cf_testing import (
    FAST,
    FAST_AUTOENCODER,
    frame_proba,
    make_mixed_frame,
)
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import InvalidParameterError

from cfexplain import (
    CfexplainWarning,
    ConstraintError,
    CounterfactualAE,
    CounterfactualCVAE,
    CounterfactualGAN,
    EncodedCategoriesWarning,
    HighCardinalityWarning,
    InvalidDataError,
    NumbersAsTextWarning,
    PredictorError,
    TargetError,
    UnseenCategoryWarning,
)
from cfexplain.modalities.tabular import one_hot_blocks
from cfexplain.preprocessing import TabularEncoder

ESTIMATORS = {
    "gan": lambda **kw: CounterfactualGAN(**{**FAST, **kw}),
    "ae": lambda **kw: CounterfactualAE(**{**FAST_AUTOENCODER, **kw}),
    "cvae": lambda **kw: CounterfactualCVAE(**{**FAST_AUTOENCODER, **kw}),
}


def X0(n=160):
    return make_mixed_frame(n=n)


def edit(**changes):
    """The mixed frame with columns replaced (callables get the frame)."""

    def build():
        X = X0()
        for column, value in changes.items():
            X[column] = value(X) if callable(value) else value
        return X

    return build


def with_value(column, row, value, dtype=None):
    def build():
        X = X0()
        if dtype is not None:
            X[column] = X[column].astype(dtype)
        X.iloc[row, X.columns.get_loc(column)] = value
        return X

    return build


# Module-level models, so that the failures are the data's, not pickling's.
def wrong_shape(X):
    return np.zeros((len(X), 3, 2))


def with_nan(X):
    out = frame_proba(X)
    out[0, 0] = np.nan
    return out


def not_summing(X):
    return frame_proba(X) * 0.5


def raising(X):
    raise RuntimeError("boom")


def fewer_rows(X):
    return frame_proba(X)[:-1]


def strings(X):
    return np.array(["yes"] * len(X))


# -- fit: (case, X builder, fit keywords, constructor keywords, error, match) -------

FIT_CASES = [
    ("nan", with_value("hours", 3, np.nan), {}, {}, InvalidDataError, "NaN at row 3"),
    ("inf", with_value("hours", 4, np.inf), {}, {}, InvalidDataError, "inf at row 4"),
    (
        "missing category",
        with_value("color", 2, None),
        {},
        {},
        InvalidDataError,
        "missing value.*fill missing categories",
    ),
    (
        "missing boolean",
        with_value("member", 2, None, dtype="boolean"),
        {},
        {},
        InvalidDataError,
        r"missing value.*fill or drop missing values first \(a boolean column",
    ),
    ("no rows", lambda: X0().iloc[:0], {}, {}, InvalidDataError, "0 samples"),
    ("one row", lambda: X0().iloc[:1], {}, {}, InvalidDataError, "at least 2 samples"),
    ("no columns", lambda: X0()[[]], {}, {}, InvalidDataError, "0 feature"),
    (
        "mixed name types",
        lambda: X0().set_axis(["age", 1, "color", "member"], axis=1),
        {},
        {},
        InvalidDataError,
        "string names",
    ),
    (
        "multiindex",
        lambda: X0().set_axis(
            pd.MultiIndex.from_product([["a"], ["w", "x", "y", "z"]]), axis=1
        ),
        {},
        {},
        InvalidDataError,
        "MultiIndex",
    ),
    (
        "repeated names",
        lambda: X0().set_axis(["age", "hours", "age", "member"], axis=1),
        {},
        {},
        InvalidDataError,
        "unique",
    ),
    (
        "datetime",
        edit(when=lambda X: pd.date_range("2020", periods=len(X))),
        {},
        {},
        InvalidDataError,
        "'when' has dtype datetime.*'category' dtype",
    ),
    (
        "timedelta",
        edit(gap=lambda X: pd.to_timedelta(np.arange(len(X)), unit="D")),
        {},
        {},
        InvalidDataError,
        "'gap' has dtype timedelta",
    ),
    (
        "complex",
        edit(z=lambda X: np.ones(len(X)) * (1 + 2j)),
        {},
        {},
        InvalidDataError,
        "'z'",
    ),
    (
        "unhashable",
        edit(tags=lambda X: [[1]] * len(X)),
        {},
        {},
        InvalidDataError,
        "unhashable",
    ),
    (
        "3-D array",
        lambda: np.zeros((10, 140, 1)),
        {},
        {},
        InvalidDataError,
        "modality='series'",
    ),
    ("no model", X0, {"predict_fn": None}, {}, PredictorError, "no model to explain"),
    (
        "unfitted model",
        X0,
        {"predict_fn": LogisticRegression()},
        {},
        PredictorError,
        "not fitted",
    ),
    ("wrong shape", X0, {"predict_fn": wrong_shape}, {}, PredictorError, "shape"),
    ("model nan", X0, {"predict_fn": with_nan}, {}, PredictorError, "non-finite"),
    ("not summing", X0, {"predict_fn": not_summing}, {}, PredictorError, "sum to 1"),
    (
        "model raises",
        X0,
        {"predict_fn": raising},
        {},
        PredictorError,
        "RuntimeError: boom",
    ),
    ("fewer outputs", X0, {"predict_fn": fewer_rows}, {}, PredictorError, "for 8 rows"),
    ("text outputs", X0, {"predict_fn": strings}, {}, PredictorError, "not numbers"),
    ("y length", X0, {"y": np.zeros(5)}, {}, InvalidDataError, "y has 5 entries"),
    (
        "bounds on a category",
        X0,
        {},
        {"bounds": {"color": (0, 1)}},
        ConstraintError,
        "only supported on numerical",
    ),
    (
        "unknown immutable",
        X0,
        {},
        {"immutable": ["salary"]},
        ConstraintError,
        "unknown feature 'salary'",
    ),
    (
        "bad direction",
        X0,
        {},
        {"monotonic": {"age": "up"}},
        ConstraintError,
        "'increasing' or 'decreasing'",
    ),
    (
        "reversed bounds",
        X0,
        {},
        {"bounds": {"age": (60, 20)}},
        ConstraintError,
        "low <= high",
    ),
    (
        "negative epochs",
        X0,
        {},
        {"max_epochs": -1},
        InvalidParameterError,
        "max_epochs",
    ),
    ("bad task", X0, {}, {"task": "ranking"}, InvalidParameterError, "task"),
    (
        "unknown default target",
        X0,
        {},
        {"target": "bogus"},
        TargetError,
        "'bogus' is not one of the model's classes",
    ),
    (
        "bad modality",
        X0,
        {},
        {"modality": "audio"},
        InvalidParameterError,
        "modality",
    ),
]


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@pytest.mark.parametrize(
    "build, fit_kwargs, params, error, match",
    [case[1:] for case in FIT_CASES],
    ids=[case[0] for case in FIT_CASES],
)
def test_bad_fit_input_gets_a_clear_error(
    name, build, fit_kwargs, params, error, match
):
    kwargs = {"predict_fn": frame_proba, **fit_kwargs}
    with pytest.raises(error, match=match):
        ESTIMATORS[name](**params).fit(build(), **kwargs)


# -- transform: a fitted explainer and (case, X builder, keywords, expectation) -------


@pytest.fixture(scope="module", params=sorted(ESTIMATORS))
def fitted(request):
    return ESTIMATORS[request.param]().fit(X0(), frame_proba)


def rows(n=6):
    return make_mixed_frame(n=n, seed=7)


def changed(**dtypes):
    return lambda: rows().astype(dtypes)


TRANSFORM_ERRORS = [
    (
        "missing column",
        lambda: rows().drop(columns="hours"),
        {},
        InvalidDataError,
        "hours",
    ),
    ("extra column", lambda: rows().assign(extra=1), {}, InvalidDataError, "extra"),
    (
        "columns reordered",
        lambda: rows()[["hours", "age", "color", "member"]],
        {},
        InvalidDataError,
        r"(?s)order.*pass X\[explainer.feature_names_in_\]",
    ),
    (
        "column renamed",
        lambda: rows().rename(columns={"age": "Age"}),
        {},
        InvalidDataError,
        "Age",
    ),
    ("nan", lambda: rows().assign(hours=np.nan), {}, InvalidDataError, "NaN"),
    ("inf", lambda: rows().assign(age=np.inf), {}, InvalidDataError, "inf"),
    (
        "missing category",
        lambda: rows().assign(color=None),
        {},
        InvalidDataError,
        "missing",
    ),
    (
        "unseen category",
        lambda: rows().assign(color="purple"),
        {},
        InvalidDataError,
        r"'purple' not seen during fit \(in the row with index 100, 6 rows in all;",
    ),
    (
        "unseen category in one row",
        lambda: (
            rows()
            .set_axis(list("abcdef"))
            .astype({"color": object})
            .assign(color=lambda X: X["color"].where(X.index != "c", "purple"))
        ),
        {},
        InvalidDataError,
        r"'purple' not seen during fit \(in the row with index 'c', known:",
    ),
    (
        "a boolean column read back as text",
        lambda: rows().astype({"member": str}),
        {},
        InvalidDataError,
        r"'True' \(str\) reads as the fitted category True \(bool\).*dtype it had",
    ),
    (
        "text in a number column",
        lambda: rows().assign(age="old"),
        {},
        InvalidDataError,
        "'age' must be numerical",
    ),
    ("no rows", lambda: rows().iloc[:0], {}, InvalidDataError, "0 samples"),
    (
        "array of the wrong width",
        lambda: np.zeros((3, 7)),
        {},
        InvalidDataError,
        "7 features",
    ),
    (
        "multiindex",
        lambda: rows().set_axis(
            pd.MultiIndex.from_product([["a"], ["w", "x", "y", "z"]]), axis=1
        ),
        {},
        InvalidDataError,
        "MultiIndex",
    ),
    (
        "unknown class",
        rows,
        {"target": 7},
        TargetError,
        "not one of the model's classes",
    ),
    (
        "misspelt opposite",
        rows,
        {"target": "Opposit"},
        TargetError,
        r"\[0, 1\]; for the model's most likely other class, pass 'opposite'",
    ),
    (
        "per-row target length",
        rows,
        {"target": [0, 1]},
        TargetError,
        "one label per instance",
    ),
    (
        "probabilities not summing",
        rows,
        {"target": [0.3, 0.3]},
        TargetError,
        "sum to 1",
    ),
    (
        "probabilities of the wrong width",
        rows,
        {"target": np.array([[0.2, 0.3, 0.5]])},
        TargetError,
        "2 values per row",
    ),
    (
        "unknown immutable",
        rows,
        {"immutable": ["salary"]},
        ConstraintError,
        "unknown feature",
    ),
    (
        "reversed bounds",
        rows,
        {"bounds": {"hours": (9, 1)}},
        ConstraintError,
        "low <= high",
    ),
    (
        "bounds and direction",
        lambda: rows().assign(age=75),
        {"bounds": {"age": (18, 70)}, "monotonic": {"age": "increasing"}},
        ConstraintError,
        "'age' for 6 of 6 rows",
    ),
    (
        "immutable outside bounds",
        rows,
        {"bounds": {"age": (80, 90)}, "immutable": ["age"]},
        ConstraintError,
        "immutable",
    ),
    (
        "one row as a Series",
        lambda: rows().iloc[0],
        {},
        InvalidDataError,
        r"X.iloc\[\[i\]\]",
    ),
    (
        "integer bounds without an integer",
        rows,
        {"bounds": {"age": (40.1, 40.9)}},
        ConstraintError,
        "hold no integer",
    ),
    (
        "immutable flags as a dict",
        rows,
        {"immutable": {"age": False, "hours": True}},
        ValueError,
        r"not a dict: for these flags pass \[name for name",
    ),
    (
        "immutable as a boolean mask",
        rows,
        {"immutable": np.array([False, True, False, False])},
        ValueError,
        r"not a boolean mask: pass list\(explainer.feature_names_in_\[mask\]\)",
    ),
    (
        "an open interval for a classifier",
        rows,
        {"target": (0.5, None)},
        TargetError,
        "an interval, a target for regression models, and this model is a classifier",
    ),
]


@pytest.mark.parametrize(
    "build, kwargs, error, match",
    [case[1:] for case in TRANSFORM_ERRORS],
    ids=[case[0] for case in TRANSFORM_ERRORS],
)
def test_bad_transform_input_gets_a_clear_error(fitted, build, kwargs, error, match):
    with pytest.raises(error, match=match):
        fitted.transform(build(), **kwargs)


def test_an_unseen_category_in_a_later_chunk_is_named_by_its_place(fitted):
    # An array given to an explainer fit on a frame is cut into chunks that
    # each start again at 0: the row is named by its place in the whole input.
    X = rows(12).astype({"color": object})
    X.iloc[9, X.columns.get_loc("color")] = "purple"
    fitted.set_params(chunk_size=4)
    try:
        with pytest.raises(InvalidDataError, match="in the row with index 9, known"):
            fitted.transform(X.to_numpy())
    finally:
        fitted.set_params(chunk_size="auto")


def test_a_repeated_index_label_is_told_apart_by_position(fitted):
    # Two rows labelled 7: the message says which of them holds the value.
    X = rows(4).astype({"color": object}).set_axis([7, 7, 8, 9])
    X.iloc[1, X.columns.get_loc("color")] = "purple"
    with pytest.raises(InvalidDataError, match=r"index 7 \(position 1\)"):
        fitted.transform(X)
    fitted.set_params(handle_unknown="warn")
    try:
        with pytest.warns(UnseenCategoryWarning, match=r"index 7 \(position 1;"):
            fitted.transform(X)
    finally:
        fitted.set_params(handle_unknown="error")


def test_an_unseen_category_error_gives_a_fix_that_works(fitted):
    # Many categories (zip codes): a test set holds some that fit did not
    # see. The error says how to keep the rows the explainer can read, and
    # that expression works as written.
    X = rows(12).astype({"color": object})
    X.iloc[[2, 9], X.columns.get_loc("color")] = "purple"
    with pytest.raises(InvalidDataError, match=r"X\[explainer\.encoder_\.known_cat"):
        fitted.transform(X)
    explainer = fitted
    kept = X[explainer.encoder_.known_category_rows(X)]
    assert list(kept.index) == [i for i in X.index if i not in X.index[[2, 9]]]
    assert fitted.transform(kept).index.equals(kept.index)


@pytest.fixture
def warns_unknown(fitted):
    """The fitted explainer with handle_unknown="warn", restored after."""
    fitted.set_params(handle_unknown="warn")
    yield fitted
    fitted.set_params(handle_unknown="error")


def with_unseen(n, positions):
    X = rows(n).astype({"color": object})
    X.iloc[positions, X.columns.get_loc("color")] = "purple"
    return X


@pytest.mark.parametrize("as_array", [False, True], ids=["frame", "array"])
def test_handle_unknown_warn_explains_the_other_rows(warns_unknown, as_array):
    X = with_unseen(12, [2, 9])
    known = np.ones(12, dtype=bool)
    known[[2, 9]] = False
    given = X.to_numpy() if as_array else X
    with pytest.warns(UnseenCategoryWarning, match="2 of 12 rows .* unchanged"):
        out = warns_unknown.transform(given)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # feature names of an array
        expected = warns_unknown.transform(given[known])
    if as_array:
        assert out.shape == X.shape and out.dtype == expected.dtype
        assert (out[~known] == given[~known]).all()
        out, expected = pd.DataFrame(out[known]), pd.DataFrame(expected)
    else:
        assert out.index.equals(X.index)
        assert out.dtypes.equals(X.dtypes)
        pd.testing.assert_frame_equal(out[~known], X[~known])
        out = out[known]
    # A row's answer does not depend on the batch it is explained with.
    pd.testing.assert_frame_equal(out, expected, check_exact=False, rtol=1e-5)


def test_an_array_to_a_frame_fitted_explainer_is_named_once(warns_unknown):
    # The explainer says the array has no feature names; its internal
    # encoder, checking the rows for unseen categories, does not repeat it.
    given = with_unseen(12, [2, 9]).to_numpy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warns_unknown.transform(given)
    names = [str(w.message) for w in caught if "feature names" in str(w.message)]
    assert len(names) == 1
    assert type(warns_unknown).__name__ in names[0]


def test_an_array_of_unseen_rows_only_is_still_named(warns_unknown):
    # No row is explained or scored, but the array is still said to lack
    # the feature names the explainer was fitted with, once per call.
    given = with_unseen(3, [0, 1, 2]).to_numpy()
    for call in (warns_unknown.transform, warns_unknown.score):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call(given)
        names = [str(w.message) for w in caught if "feature names" in str(w.message)]
        assert len(names) == 1
        assert type(warns_unknown).__name__ in names[0]


def test_handle_unknown_warn_keeps_each_rows_own_target(warns_unknown):
    X = with_unseen(6, [1])
    labels = pd.Series([0, 1, 0, 1, 1, 0], index=X.index[::-1])  # aligned by label
    with pytest.warns(UnseenCategoryWarning, match="left out of the explanation"):
        explanation = warns_unknown.explain(X, target=labels)
    kept = X.index[[0, 2, 3, 4, 5]]
    assert explanation.original.index.equals(kept)
    assert list(explanation.target) == list(labels.reindex(kept))
    # A probability vector as long as the batch stays one target for all.
    X2 = with_unseen(2, [0])
    with pytest.warns(UnseenCategoryWarning):
        explanation = warns_unknown.explain(X2, target=[0.2, 0.8])
    assert list(explanation.target) == [1]


def test_handle_unknown_warn_with_no_row_left(warns_unknown):
    X = with_unseen(3, [0, 1, 2])
    with pytest.warns(UnseenCategoryWarning, match="3 of 3 rows"):
        out = warns_unknown.transform(X)
    pd.testing.assert_frame_equal(out, X)
    with pytest.raises(InvalidDataError, match="not seen during fit"):
        warns_unknown.explain(X)


def test_score_leaves_out_rows_with_unseen_categories(fitted):
    X = with_unseen(12, [2, 9])
    with pytest.warns(
        UnseenCategoryWarning, match="2 of 12 rows .* left out of the score"
    ):
        score = fitted.score(X)
    assert score == fitted.score(X.drop(index=X.index[[2, 9]]))
    with pytest.warns(CfexplainWarning):
        assert np.isnan(fitted.score(with_unseen(2, [0, 1])))


def test_handle_unknown_is_checked():
    with pytest.raises(InvalidParameterError, match="handle_unknown"):
        ESTIMATORS["ae"](handle_unknown="ignore").fit(X0(), frame_proba)


def test_transform_before_fit_says_so():
    for make in ESTIMATORS.values():
        with pytest.raises(NotFittedError, match="not fitted yet"):
            make().transform(rows())


TRANSFORM_ANSWERS = [
    ("age as float", changed(age="float64")),
    ("age as Int64", changed(age="Int64")),
    ("age as int32", changed(age="int32")),
    ("hours as float32", changed(hours="float32")),
    ("hours as Float64", changed(hours="Float64")),
    ("color as category", changed(color="category")),
    ("color as string", changed(color="string")),
    ("member as object", changed(member="object")),
    ("member as boolean", changed(member="boolean")),
    ("duplicated index", lambda: rows().set_axis([5, 5, 1, 1, 0, 0], axis=0)),
    ("string index", lambda: rows().set_axis(list("abcdef"), axis=0)),
    ("one row", lambda: rows(1)),
    ("extreme numbers", lambda: rows().assign(hours=1e6)),
    ("negative numbers", lambda: rows().assign(age=-5)),
]


@pytest.mark.parametrize(
    "build",
    [case[1] for case in TRANSFORM_ANSWERS],
    ids=[c[0] for c in TRANSFORM_ANSWERS],
)
def test_awkward_but_valid_transform_input_gets_a_right_answer(fitted, build):
    X = build()
    before = X.copy()
    X_cf = fitted.transform(X, immutable=["member"])
    pd.testing.assert_frame_equal(X, before)
    assert list(X_cf.columns) == list(X.columns)
    pd.testing.assert_series_equal(X_cf.dtypes, X.dtypes)
    pd.testing.assert_index_equal(X_cf.index, X.index, exact="equiv")
    pd.testing.assert_series_equal(X_cf["member"], X["member"])
    assert set(X_cf["color"].astype(str)) <= {"red", "green", "blue"}


def test_an_array_given_to_a_frame_fitted_explainer(fitted):
    X = rows().to_numpy()
    out = fitted.transform(X)
    assert isinstance(out, np.ndarray) and out.shape == X.shape


# -- the encoder ---------------------------------------------------------------------

ENCODER_ERRORS = [
    ("nan", with_value("hours", 1, np.nan), InvalidDataError, "NaN at row 1"),
    ("missing category", with_value("color", 0, None), InvalidDataError, "missing"),
    (
        "missing value of a category column",
        lambda: with_value("color", 0, None)().astype({"color": "category"}),
        InvalidDataError,
        r"\.cat\.add_categories\('\?'\)\.fillna\('\?'\)",
    ),
    (
        "datetime",
        edit(when=lambda X: pd.date_range("2020", periods=len(X))),
        InvalidDataError,
        "'category' dtype",
    ),
    (
        "repeated names",
        lambda: X0().set_axis(["a", "b", "a", "c"], axis=1),
        InvalidDataError,
        "unique",
    ),
    ("unhashable", edit(tags=lambda X: [{}] * len(X)), InvalidDataError, "unhashable"),
    ("no rows", lambda: X0().iloc[:0], InvalidDataError, "0 sample"),
]


@pytest.mark.parametrize(
    "build, error, match",
    [case[1:] for case in ENCODER_ERRORS],
    ids=[case[0] for case in ENCODER_ERRORS],
)
def test_bad_encoder_input_gets_a_clear_error(build, error, match):
    with pytest.raises(error, match=match):
        TabularEncoder().fit(build())


ENCODER_ROUND_TRIPS = [
    ("plain", X0),
    ("integer names", lambda: X0().set_axis([0, 1, 2, 3], axis=1)),
    ("nullable", lambda: X0().astype({"age": "Int64", "color": "string"})),
    ("small ints", lambda: X0().astype({"age": "UInt8"})),
    ("category", lambda: X0().astype({"color": "category"})),
    ("object bools", lambda: X0().astype({"member": "object"})),
]


@pytest.mark.parametrize(
    "build",
    [c[1] for c in ENCODER_ROUND_TRIPS],
    ids=[c[0] for c in ENCODER_ROUND_TRIPS],
)
def test_encoder_round_trips_awkward_tables_exactly(build):
    X = build()
    encoder = TabularEncoder(numerical="minmax", dtype=np.float64).fit(X)
    back = encoder.inverse_transform(encoder.transform(X), index=X.index)
    pd.testing.assert_frame_equal(back, X)


@pytest.mark.parametrize(
    "build",
    [lambda: X0().drop(columns="age"), lambda: X0().assign(color="pink")],
    ids=["missing column", "unseen category"],
)
def test_bad_encoder_transform_input_gets_a_clear_error(build):
    encoder = TabularEncoder().fit(X0())
    with pytest.raises(InvalidDataError):
        encoder.transform(build())


def test_one_hot_encoded_columns_given_to_fit_get_a_warning():
    # A model fitted on one-hot arrays, explained on those arrays: each
    # dummy reads as a number and answers can set two categories or none.
    # fit names the run of columns and points to explaining the table.
    rng = np.random.RandomState(0)
    city = rng.randint(0, 5, 300)
    X = np.column_stack([rng.normal(size=300), np.eye(5)[city], rng.randint(0, 2, 300)])
    model = LogisticRegression().fit(X, (X[:, 0] + city > 2).astype(int))
    with pytest.warns(EncodedCategoriesWarning, match=r"'x1' \.\.\. 'x5' \(5 col"):
        CounterfactualGAN(**FAST).fit(X, model.predict_proba)
    # Lone flags and a dropped-first encoding (rows of zeros) are no block.
    assert one_hot_blocks(pd.DataFrame(X[:, [0, 6]]), [0, 1]) == []
    dropped = pd.DataFrame(np.eye(5)[city][:, 1:])
    assert one_hot_blocks(dropped, list(dropped.columns)) == []
    # Categories given as categories: nothing to warn about.
    table = pd.DataFrame({"income": X[:, 0], "city": city.astype(str)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", EncodedCategoriesWarning)
        CounterfactualGAN(**FAST).fit(table, _city_proba)


def _city_proba(table):
    """A classifier of the table above: high incomes and cities 3-4."""
    score = table["income"].to_numpy() + table["city"].astype(int).to_numpy()
    p = 1 / (1 + np.exp(-(score - 2)))
    return np.column_stack([1 - p, p])


def test_an_object_column_of_numbers_gets_a_warning_that_names_the_fix():
    # A column made object by a careless cast: read as a category of 52
    # values, where the model saw a number. fit says so and how to convert.
    X = make_mixed_frame().astype({"age": object})
    with pytest.warns(NumbersAsTextWarning, match=r"'age' \(\d+ values\).*to_numeric"):
        CounterfactualGAN(**FAST).fit(X, _ages_as_numbers_proba)
    # Said to be a category, or text that is not numbers: nothing to warn of.
    with warnings.catch_warnings():
        warnings.simplefilter("error", NumbersAsTextWarning)
        CounterfactualGAN(**FAST).fit(
            X.astype({"age": "category"}), _ages_as_numbers_proba
        )
        CounterfactualGAN(**FAST).fit(make_mixed_frame(), frame_proba)


def test_an_identifier_read_as_a_category_gets_a_warning_that_names_the_fix():
    # A customer number the model ignores: one category per row, so one
    # generator input per row. fit says so, and its advice is code to run.
    X = make_mixed_frame().assign(customer=[f"c{i:04d}" for i in range(160)])
    with pytest.warns(
        HighCardinalityWarning,
        match=r"'customer' \(160 values\).*X\.drop\(columns=\['customer'\]\)",
    ) as caught:
        CounterfactualGAN(**FAST).fit(X, frame_proba)
    # Text that is no number is not told to become one; digit strings are.
    assert "to_numeric" not in str(caught[0].message)
    digits = X.assign(customer=[f"{i:05d}" for i in range(160)])
    with pytest.warns(HighCardinalityWarning, match="take pd.to_numeric"):
        CounterfactualGAN(**FAST).fit(digits, frame_proba)
    # The advised table, and a category with few values: nothing to warn of.
    with warnings.catch_warnings():
        warnings.simplefilter("error", HighCardinalityWarning)
        CounterfactualGAN(**FAST).fit(X.drop(columns=["customer"]), frame_proba)
    # Fewer than 20 values is no identifier, even one per row.
    few = make_mixed_frame(n=19).assign(customer=[f"c{i}" for i in range(19)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", HighCardinalityWarning)
        CounterfactualGAN(**FAST).fit(few, frame_proba)


@pytest.mark.parametrize(
    ("n_rows", "n_values", "warns"),
    # At least 20 values, and more than half as many as rows.
    [(40, 20, False), (40, 21, True), (30, 19, False)],
)
def test_an_identifier_has_many_values_and_more_than_half_the_rows(
    n_rows, n_values, warns
):
    X = make_mixed_frame(n=n_rows).assign(
        customer=[f"c{i % n_values}" for i in range(n_rows)]
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", HighCardinalityWarning)
        CounterfactualGAN(**FAST).fit(X, frame_proba)
    found = [w for w in caught if issubclass(w.category, HighCardinalityWarning)]
    assert len(found) == warns
    if warns:
        message = str(found[0].message)
        assert message.startswith("category column 'customer' (21 values) has")
        assert "than half as many as the 40 training rows" in message
        # It names the user's line.
        assert found[0].filename == __file__


def test_unused_categories_count_as_generator_inputs():
    # The encoder makes an input of every declared category, used or not;
    # the warning says so and how to drop the unused ones.
    codes = pd.Categorical(
        [f"z{i % 10}" for i in range(160)],
        categories=[f"z{i}" for i in range(500)],
    )
    X = make_mixed_frame().assign(zip_code=codes)
    with pytest.warns(
        HighCardinalityWarning,
        match=r"'zip_code' \(500 categories, 10 used\).*"
        r"X\['zip_code'\]\.cat\.remove_unused_categories\(\)",
    ) as caught:
        CounterfactualGAN(**FAST).fit(X, frame_proba)
    # A category column is no text of numbers.
    assert all("to_numeric" not in str(w.message) for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("error", HighCardinalityWarning)
        CounterfactualGAN(**FAST).fit(
            X.assign(zip_code=codes.remove_unused_categories()), frame_proba
        )


def test_numbers_as_text_are_not_also_called_an_identifier():
    # 160 distinct incomes held as objects: the fix is pd.to_numeric, which
    # NumbersAsTextWarning gives; HighCardinalityWarning's would mislead.
    X = make_mixed_frame().assign(income=[1000 + i for i in range(160)])
    X = X.astype({"income": object})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        CounterfactualGAN(**FAST).fit(X, frame_proba)
    kinds = {w.category for w in caught}
    assert NumbersAsTextWarning in kinds
    assert HighCardinalityWarning not in kinds


def test_an_identifier_in_an_array_gets_the_array_fix():
    X = make_mixed_frame().assign(customer=[f"c{i:04d}" for i in range(160)])
    array = X.to_numpy(dtype=object)
    position = list(X.columns).index("customer")

    def proba(rows):
        frame = pd.DataFrame(rows, columns=X.columns).infer_objects()
        return frame_proba(frame)

    with pytest.warns(
        HighCardinalityWarning,
        match=rf"np\.delete\(X, \[{position}\], axis=1\)",
    ) as caught:
        CounterfactualGAN(**FAST).fit(array, proba)
    assert all("X.drop" not in str(w.message) for w in caught)


def _ages_as_numbers_proba(X):
    """:func:`frame_proba` of a frame whose ages are held as objects."""
    return frame_proba(X.astype({"age": np.int64}))


def test_a_missing_value_hint_fits_the_column_as_given():
    # Fitted on a category column, given the same values as text with a
    # None: the suggested fix must work on the user's text column.
    X = make_mixed_frame().astype({"color": "category"})
    explainer = CounterfactualGAN(**FAST).fit(X, frame_proba)
    given = rows().astype({"color": object})
    given.iloc[1, given.columns.get_loc("color")] = None
    with pytest.raises(InvalidDataError, match="missing value") as error:
        explainer.transform(given)
    assert ".cat." not in str(error.value)
    given["color"] = given["color"].fillna("?")  # the fix it suggests
    with pytest.raises(InvalidDataError, match="'?'"):  # then: unseen category
        explainer.transform(given)


@pytest.mark.parametrize("missing", [None, np.nan])
def test_handle_unknown_warn_refuses_a_missing_category_as_missing(
    warns_unknown, missing
):
    # Not left out as "a category fit did not see", whose fix (fit on rows
    # holding it) is the wrong one: refused as a missing number is.
    X = rows(5).astype({"color": object})
    X.iloc[2, X.columns.get_loc("color")] = missing
    assert warns_unknown.encoder_.known_category_rows(X).all()
    with pytest.raises(InvalidDataError, match="'color' contains a missing value"):
        warns_unknown.transform(X)


def test_a_missing_value_of_a_nullable_column_is_named_as_such(fitted):
    given = rows().astype({"age": "Int64"})
    given.iloc[2, given.columns.get_loc("age")] = pd.NA
    with pytest.raises(
        InvalidDataError, match=r"'age' contains a missing value \(<NA>\)"
    ):
        fitted.transform(given)
