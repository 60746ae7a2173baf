import pickle

import numpy as np
import pandas as pd
import pytest
from cf_testing import expected_failed_checks
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from hypothesis.extra.pandas import column, data_frames, range_indexes
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from cfexplain.exceptions import InvalidDataError
from cfexplain.preprocessing import (
    CATEGORY,
    CONTINUOUS,
    MODE,
    FeatureLayout,
    ModeSpecificNormalizer,
    TabularEncoder,
)

NUMERICAL = ["mode_specific", "standard", "minmax"]
SCALAR_ACTIVATION = {
    "mode_specific": "tanh",
    "standard": "identity",
    "minmax": "sigmoid",
}
LEVELS = pd.CategoricalDtype(["low", "mid", "high", "unused"], ordered=True)


@parametrize_with_checks(
    [
        ModeSpecificNormalizer(),
        TabularEncoder(),
        TabularEncoder(numerical="minmax", dtype=np.float64),
    ],
    # Every check passes; some scikit-learn releases get one wrong.
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# -- data ---------------------------------------------------------------------


def bimodal(n, rng):
    return np.where(rng.random(n) < 0.4, rng.normal(-5, 1, n), rng.normal(20, 3, n))


def make_table(n=120, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(17, 90, n),
            "color": pd.Series(rng.choice(["red", "green", "blue"], n), dtype="str"),
            "income": np.where(rng.random(n) < 0.5, 0.0, rng.lognormal(10, 1, n)),
            "level": pd.Series(rng.choice(["low", "mid", "high"], n)).astype(LEVELS),
            "score": rng.normal(size=n).astype(np.float32),
            "member": rng.random(n) < 0.3,
            "code": pd.Series([[7, "a", (1, 2)][i] for i in rng.integers(0, 3, n)]),
            "small": rng.integers(0, 5, n).astype(np.int8),
        }
    )


@pytest.fixture(scope="module")
def table():
    return make_table()


@pytest.fixture(scope="module", params=NUMERICAL)
def fitted(request, table):
    return TabularEncoder(numerical=request.param, random_state=0).fit(table)


# -- ModeSpecificNormalizer ---------------------------------------------------


def scalar_columns(normalizer):
    return np.concatenate([[0], np.cumsum(normalizer.output_widths_)[:-1]])


def test_mode_specific_round_trip_and_range():
    rng = np.random.default_rng(0)
    X = np.column_stack([bimodal(800, rng), rng.exponential(100, 800)])
    normalizer = ModeSpecificNormalizer(random_state=0).fit(X)
    Xt = normalizer.transform(X)

    assert Xt.shape == (800, normalizer.output_widths_.sum())
    np.testing.assert_array_equal(normalizer.output_widths_, 1 + normalizer.n_modes_)
    scalars = Xt[:, scalar_columns(normalizer)]
    assert np.abs(scalars).max() <= 1.0
    modes = np.delete(Xt, scalar_columns(normalizer), axis=1)
    assert set(np.unique(modes)) == {0.0, 1.0}
    assert modes.sum() == 2 * 800  # one mode per value and column
    np.testing.assert_allclose(normalizer.inverse_transform(Xt), X, rtol=1e-12)


def test_mode_specific_finds_separate_modes():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(0, 1, 500), rng.normal(100, 1, 500)])
    normalizer = ModeSpecificNormalizer(random_state=0).fit(x[:, None])
    means = normalizer.means_[0]
    assert np.all(np.diff(means) > 0)  # modes are sorted by mean
    assert np.all(normalizer.weights_[0] > normalizer.weight_threshold)
    assert np.all(normalizer.stds_[0] >= normalizer.mixture_stds_[0])
    # Each cluster's values go to a mode near that cluster.
    Xt = normalizer.transform(x[:, None])
    chosen = means[np.argmax(Xt[:, 1:], axis=1)]
    assert np.all(np.abs(chosen[:500]) < 10)
    assert np.all(np.abs(chosen[500:] - 100) < 10)


@pytest.mark.parametrize(
    "x",
    [
        np.full(50, 3.5),  # constant
        np.array([7.0]),  # a single row
        np.tile([0.0, 1.0], 40),  # binary
        np.repeat([1.0, 2.0, 1000.0], [300, 300, 1]),  # a value in a dropped mode
        np.repeat([1e9, 1e9 + 1], 20),  # far from zero, tiny spread
        np.array([-2.0, 0.5, 0.5, 0.5, 9.0]),
    ],
    ids=["constant", "one-row", "binary", "rare", "offset", "few"],
)
def test_mode_specific_degenerate_columns_round_trip(x):
    normalizer = ModeSpecificNormalizer(random_state=0).fit(x[:, None])
    Xt = normalizer.transform(x[:, None])
    assert np.abs(Xt[:, 0]).max() <= 1.0
    np.testing.assert_allclose(normalizer.inverse_transform(Xt)[:, 0], x, rtol=1e-12)


def test_mode_specific_values_between_fitted_values_round_trip():
    # Integer-valued data gives narrow modes; values between them still
    # encode inside [-1, 1] and come back.
    x = np.repeat(np.arange(5.0), 50)
    normalizer = ModeSpecificNormalizer(random_state=0).fit(x[:, None])
    grid = np.linspace(0, 4, 1001)[:, None]
    Xt = normalizer.transform(grid)
    assert np.abs(Xt[:, 0]).max() <= 1.0
    np.testing.assert_allclose(normalizer.inverse_transform(Xt), grid, rtol=1e-9)


def test_mode_specific_seeded_and_batch_independent():
    rng = np.random.default_rng(2)
    X = np.column_stack([bimodal(600, rng), bimodal(600, rng)])
    a = ModeSpecificNormalizer(random_state=3).fit(X)
    b = ModeSpecificNormalizer(random_state=3).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    np.testing.assert_array_equal(a.transform(X[:7]), a.transform(X)[:7])


def test_mode_specific_subsample_keeps_full_range():
    rng = np.random.default_rng(3)
    x = bimodal(5000, rng)[:, None]
    normalizer = ModeSpecificNormalizer(subsample=200, random_state=0).fit(x)
    assert normalizer.data_min_[0] == x.min()
    assert normalizer.data_max_[0] == x.max()
    Xt = normalizer.transform(x)
    assert np.abs(Xt[:, 0]).max() <= 1.0
    np.testing.assert_allclose(normalizer.inverse_transform(Xt), x, rtol=1e-12)


def test_mode_specific_inverse_accepts_scores():
    rng = np.random.default_rng(4)
    normalizer = ModeSpecificNormalizer(random_state=0).fit(bimodal(500, rng)[:, None])
    k = normalizer.n_modes_[0]
    scores = rng.normal(size=(6, k))
    out_of_range = np.array([5.0, -7.0, np.inf, -np.inf, 0.3, -0.3])
    decoded = normalizer.inverse_transform(np.column_stack([out_of_range, scores]))
    mode = np.argmax(scores, axis=1)
    mean, std = normalizer.means_[0][mode], normalizer.stds_[0][mode]
    expected = mean + 4 * std * np.clip(out_of_range, -1, 1)
    np.testing.assert_allclose(decoded[:, 0], expected)


def test_mode_specific_feature_names():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 0.0, 0.0]})
    normalizer = ModeSpecificNormalizer(random_state=0).fit(X)
    names = normalizer.get_feature_names_out()
    assert names[0] == "a" and names[1] == "a_mode_0"
    assert names[-2:].tolist() == ["b", "b_mode_0"]
    assert len(names) == normalizer.transform(X).shape[1]


def test_mode_specific_errors():
    normalizer = ModeSpecificNormalizer(random_state=0).fit(np.arange(10.0)[:, None])
    width = normalizer.output_widths_[0]
    with pytest.raises(InvalidDataError, match=rf"has {width + 1} columns.*produces"):
        normalizer.inverse_transform(np.zeros((2, width + 1)))
    with pytest.raises(InvalidDataError, match="contains NaN"):
        normalizer.inverse_transform(np.full((1, width), np.nan))
    with pytest.raises(InvalidDataError, match="NaN"):
        ModeSpecificNormalizer().fit([[1.0], [np.nan]])
    with pytest.raises(ValueError, match="max_modes"):
        ModeSpecificNormalizer(max_modes=0).fit([[1.0]])
    with pytest.raises(ValueError, match="weight_threshold"):
        ModeSpecificNormalizer(weight_threshold=1.0).fit([[1.0]])


# -- TabularEncoder: layout ----------------------------------------------------


def test_layout_covers_encoding(fitted, table):
    Xt = fitted.transform(table)
    layout = fitted.layout_
    assert isinstance(layout, FeatureLayout)
    assert layout.n_columns == Xt.shape[1] == len(fitted.get_feature_names_out())
    # Contiguous spans, grouped by feature in column order.
    assert layout.spans[0].start == 0
    assert all(
        a.stop == b.start
        for a, b in zip(layout.spans[:-1], layout.spans[1:], strict=True)
    )
    assert layout.features == tuple(table.columns)
    for name in table.columns:
        spans = layout.spans_of(name)
        columns = layout.columns_of(name)
        assert columns == list(range(columns[0], columns[-1] + 1))
        if name in fitted.categorical_features_:
            (span,) = spans
            assert (span.kind, span.activation) == (CATEGORY, "softmax")
            assert span.width == len(fitted.categories_[name])
            np.testing.assert_array_equal(Xt[:, span.as_slice()].sum(axis=1), 1)
        else:
            assert spans[0].kind == CONTINUOUS and spans[0].width == 1
            assert spans[0].activation == SCALAR_ACTIVATION[fitted.numerical]
            if fitted.numerical == "mode_specific":
                assert (spans[1].kind, spans[1].activation) == (MODE, "softmax")
                assert np.abs(Xt[:, spans[0].start]).max() <= 1
                np.testing.assert_array_equal(Xt[:, spans[1].as_slice()].sum(axis=1), 1)
            else:
                assert len(spans) == 1
    if fitted.numerical == "minmax":
        numeric = [layout.spans_of(n)[0].start for n in fitted.numerical_features_]
        assert Xt[:, numeric].min() >= 0 and Xt[:, numeric].max() <= 1


def test_transform_matches_its_column_transformer(fitted, table):
    # transform writes each column's encoding itself (the one-hot from the
    # category code); it must equal what its fitted ColumnTransformer gives
    # on the codes and numbers.
    Z = np.column_stack(
        [
            table[name].map({c: i for i, c in enumerate(fitted.categories_[name])})
            if name in fitted.categorical_features_
            else table[name]
            for name in table.columns
        ]
    ).astype(np.float64)
    expected = fitted.column_transformer_.transform(Z).astype(np.float32)
    Xt = fitted.transform(table)
    assert Xt.dtype == np.float32
    np.testing.assert_array_equal(Xt, expected)


def test_detected_kinds_and_fitted_attributes(fitted, table):
    assert fitted.categorical_features_ == ["color", "level", "member", "code"]
    assert fitted.numerical_features_ == ["age", "income", "score", "small"]
    np.testing.assert_array_equal(fitted.feature_names_in_, table.columns)
    assert fitted.n_features_in_ == table.shape[1]
    assert fitted.categories_["color"].tolist() == ["blue", "green", "red"]
    assert fitted.categories_["level"].tolist() == ["low", "mid", "high", "unused"]
    assert fitted.categories_["member"].tolist() == [False, True]
    assert fitted.data_min_["age"] == table["age"].min()
    assert fitted.data_max_["income"] == table["income"].max()
    assert fitted.dtypes_ == dict(table.dtypes)


def test_feature_names(table):
    encoder = TabularEncoder(numerical="standard").fit(table[["age", "color"]])
    names = encoder.get_feature_names_out().tolist()
    assert names == ["age", "color_blue", "color_green", "color_red"]
    encoder = TabularEncoder(random_state=0).fit(table[["age", "color"]])
    names = encoder.get_feature_names_out().tolist()
    assert names[0] == "age" and names[1] == "age_mode_0"
    assert names[-3:] == ["color_blue", "color_green", "color_red"]


# -- TabularEncoder: round trips -----------------------------------------------


def test_round_trip_keeps_dtypes_and_values(fitted, table):
    Xt = fitted.transform(table)
    assert Xt.dtype == np.float32
    decoded = fitted.inverse_transform(Xt)
    assert isinstance(decoded, pd.DataFrame)
    pd.testing.assert_series_equal(decoded.dtypes, table.dtypes)
    exact = table.drop(columns=["income", "score"])
    pd.testing.assert_frame_equal(decoded[exact.columns], exact)
    for name in ["income", "score"]:
        scale = table[name].max() - table[name].min()
        np.testing.assert_allclose(
            decoded[name], table[name], rtol=1e-6, atol=1e-6 * scale
        )


def test_float64_encoding_round_trips_wide_integers():
    X = pd.DataFrame({"big": np.array([0, 10**12, 3, 10**12 - 7, 123456789012])})
    encoder = TabularEncoder(random_state=0, dtype=np.float64).fit(X)
    assert encoder.transform(X).dtype == np.float64
    pd.testing.assert_frame_equal(encoder.inverse_transform(encoder.transform(X)), X)


def test_more_dtypes_round_trip():
    X = pd.DataFrame(
        {
            "nullable_int": pd.array([1, 5, 3, 9], dtype="Int64"),
            "nullable_bool": pd.array([True, False, True, True], dtype="boolean"),
            "unsigned": np.array([0, 200, 3, 255], dtype=np.uint8),
            "half": np.array([0.5, 1.5, -2.0, 3.25], dtype=np.float16),
            "when": pd.to_datetime(["2020-01-01", "2021-06-01"] * 2),
            "zip": [1001, 2002, 1001, 3003],
            "flag_number": [True, False, False, True],
        }
    )
    encoder = TabularEncoder(
        categorical_features=["when", "zip"],
        numerical_features=["flag_number"],
        random_state=0,
    ).fit(X)
    assert encoder.categorical_features_ == ["nullable_bool", "when", "zip"]
    assert encoder.layout_.spans_of("flag_number")[0].kind == CONTINUOUS
    decoded = encoder.inverse_transform(encoder.transform(X))
    pd.testing.assert_frame_equal(decoded, X)


def test_index_is_used_when_given(fitted, table):
    rows = table.iloc[[5, 2, 9]]
    decoded = fitted.inverse_transform(fitted.transform(rows), index=rows.index)
    pd.testing.assert_index_equal(decoded.index, rows.index)
    default = fitted.inverse_transform(fitted.transform(rows))
    pd.testing.assert_index_equal(default.index, pd.RangeIndex(3))


def test_arrays_in_arrays_out():
    rng = np.random.default_rng(5)
    X = np.column_stack([bimodal(100, rng), rng.integers(0, 3, 100)])
    encoder = TabularEncoder(random_state=0).fit(X)
    assert encoder.layout_.features == ("x0", "x1")
    assert encoder.numerical_features_ == ["x0", "x1"]
    decoded = encoder.inverse_transform(encoder.transform(X))
    assert isinstance(decoded, np.ndarray) and decoded.dtype == X.dtype
    np.testing.assert_allclose(decoded, X, rtol=1e-6, atol=1e-5)

    for override in ([1], ["x1"], [-1]):
        encoder = TabularEncoder(categorical_features=override, random_state=0).fit(X)
        assert encoder.categorical_features_ == ["x1"]
        assert encoder.categories_["x1"].tolist() == [0.0, 1.0, 2.0]
        decoded = encoder.inverse_transform(encoder.transform(X))
        np.testing.assert_array_equal(decoded[:, 1], X[:, 1])


def test_object_arrays_are_typed_per_column():
    X = np.array([["a", 1, 2.5], ["b", 2, 0.5], ["a", 3, 1.0]], dtype=object)
    encoder = TabularEncoder(numerical="standard").fit(X)
    assert encoder.categorical_features_ == ["x0"]
    assert encoder.numerical_features_ == ["x1", "x2"]
    decoded = encoder.inverse_transform(encoder.transform(X))
    assert decoded.dtype == object
    assert decoded[:, 0].tolist() == ["a", "b", "a"]
    assert decoded[:, 1].tolist() == [1, 2, 3]
    np.testing.assert_allclose(decoded[:, 2].astype(float), [2.5, 0.5, 1.0], rtol=1e-6)


def test_clip(table):
    encoder = TabularEncoder(numerical="standard").fit(table)
    huge = np.full((2, encoder.layout_.n_columns), 1e6)
    huge[1] = -1e6
    clipped = encoder.inverse_transform(huge)
    assert clipped["age"].tolist() == [table["age"].max(), table["age"].min()]
    unclipped = encoder.inverse_transform(huge, clip=False)
    assert unclipped["age"].iloc[0] > table["age"].max()
    assert unclipped["age"].dtype == table["age"].dtype
    default_off = TabularEncoder(numerical="standard", clip=False).fit(table)
    assert default_off.inverse_transform(huge)["age"].iloc[0] > table["age"].max()


def test_set_output_pandas_and_pipeline(table):
    encoder = TabularEncoder(random_state=0).set_output(transform="pandas")
    Xt = encoder.fit_transform(table)
    assert list(Xt.columns) == encoder.get_feature_names_out().tolist()
    pipeline = make_pipeline(clone(TabularEncoder(numerical="minmax")))
    assert pipeline.fit_transform(table).shape[0] == len(table)


def test_pickle_round_trip(fitted, table):
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(table), fitted.transform(table))


def test_empty_batches(fitted, table):
    Xt = fitted.transform(table.iloc[:0])
    assert Xt.shape == (0, fitted.layout_.n_columns)
    decoded = fitted.inverse_transform(Xt)
    assert decoded.shape == (0, table.shape[1])
    pd.testing.assert_series_equal(decoded.dtypes, table.dtypes)


# -- TabularEncoder: errors ----------------------------------------------------


@pytest.fixture(scope="module")
def simple():
    X = pd.DataFrame(
        {
            "age": [25, 38, 51, 62],
            "color": ["red", "blue", "red", "green"],
            "income": [0.0, 1e4, 5e4, 2e3],
        }
    )
    return X, TabularEncoder(numerical="standard").fit(X)


def with_value(X, name, row, value):
    X = X.copy()
    if name == "color":
        X[name] = X[name].astype(object)
    elif isinstance(value, float):
        X[name] = X[name].astype(float)
    X.loc[row, name] = value
    return X


@pytest.mark.parametrize(
    "name, value, match",
    [
        ("color", "purple", "column 'color' has category 'purple' not seen during fit"),
        ("color", None, r"column 'color' contains a missing value \(None\) at row 1"),
        ("color", np.nan, r"column 'color' contains a missing value \(nan\).*'\?'"),
        ("age", np.nan, "column 'age' contains NaN at row 1"),
        ("income", np.inf, "column 'income' contains inf at row 1"),
        ("income", -np.inf, "column 'income' contains -inf at row 1"),
    ],
)
def test_bad_values_at_transform(simple, name, value, match):
    X, encoder = simple
    with pytest.raises(InvalidDataError, match=match):
        encoder.transform(with_value(X, name, 1, value))


@pytest.mark.parametrize(
    "name, value, match",
    [
        ("age", np.nan, r"column 'age' contains NaN at row 1 \(index 'b'\)"),
        ("color", None, r"a missing value \(None\) at row 1 \(index 'b'\)"),
    ],
)
def test_bad_values_name_the_index_label_too(simple, name, value, match):
    # Where a row's label is not its position, both are given: the unseen
    # category message names the label.
    X, encoder = simple
    X = with_value(X, name, 1, value).set_axis(list("abcd"))
    with pytest.raises(InvalidDataError, match=match):
        encoder.transform(X)


@pytest.mark.parametrize(
    "name, value, match",
    [
        ("color", None, "column 'color' contains a missing value"),
        ("age", np.nan, "column 'age' contains NaN at row 2"),
        ("income", np.inf, "column 'income' contains inf"),
    ],
)
def test_bad_values_at_fit(simple, name, value, match):
    X, _ = simple
    with pytest.raises(InvalidDataError, match=match):
        TabularEncoder().fit(with_value(X, name, 2, value))


def test_non_numeric_values_in_numerical_column(simple):
    X, encoder = simple
    bad = X.assign(age=["young", "old", "old", "young"])
    with pytest.raises(InvalidDataError, match="column 'age' must be numerical"):
        encoder.transform(bad)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_missing_extra_and_reordered_columns(simple):
    X, encoder = simple
    with pytest.raises(InvalidDataError, match=r"missing:\n- color"):
        encoder.transform(X.drop(columns="color"))
    with pytest.raises(InvalidDataError, match=r"unseen at fit time:\n- zz"):
        encoder.transform(X.assign(zz=1))
    with pytest.raises(InvalidDataError, match="same order"):
        encoder.transform(X[["color", "age", "income"]])
    with pytest.raises(InvalidDataError, match="X has 1 features, but"):
        encoder.transform(np.zeros((2, 1)))


def test_inverse_transform_errors(simple):
    _, encoder = simple
    width = encoder.layout_.n_columns
    with pytest.raises(
        InvalidDataError,
        match=rf"has 3 columns, but this TabularEncoder produces {width}",
    ):
        encoder.inverse_transform(np.zeros((2, 3)))
    nan = np.zeros((2, width))
    nan[1, 2] = np.nan
    with pytest.raises(InvalidDataError, match=r"contains NaN \(row 1, column 2\)"):
        encoder.inverse_transform(nan)
    with pytest.raises(InvalidDataError, match="index has 3 entries, but .* 2 rows"):
        encoder.inverse_transform(np.zeros((2, width)), index=[1, 2, 3])


def test_fit_errors(simple):
    X, _ = simple
    with pytest.raises(
        InvalidDataError, match=r"categorical_features names columns not in X: \['zz'\]"
    ):
        TabularEncoder(categorical_features=["zz"]).fit(X)
    with pytest.raises(InvalidDataError, match=r"numerical_features names .*\[5\]"):
        TabularEncoder(numerical_features=[5]).fit(X.to_numpy())
    with pytest.raises(
        InvalidDataError, match="column 'color' is listed in numerical_features"
    ):
        TabularEncoder(numerical_features=["color"]).fit(X)
    with pytest.raises(ValueError, match=r"both categorical_features and .*'age'"):
        TabularEncoder(categorical_features=["age"], numerical_features=["age"]).fit(X)
    dates = X.assign(when=pd.to_datetime(["2020-01-01"] * 4))
    with pytest.raises(
        InvalidDataError, match="column 'when' has dtype .* neither numerical nor"
    ):
        TabularEncoder().fit(dates)
    twice = pd.concat([X, X[["age"]]], axis=1)
    with pytest.raises(InvalidDataError, match="Expected unique column names"):
        TabularEncoder().fit(twice)
    unhashable = X.assign(tags=[["a"], ["b"], ["a"], ["c"]])
    with pytest.raises(InvalidDataError, match="column 'tags' holds unhashable values"):
        TabularEncoder().fit(unhashable)
    with pytest.raises(InvalidDataError, match="0 sample"):
        TabularEncoder().fit(X.iloc[:0])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"numerical": "log"}, "numerical must be one of"),
        ({"max_modes": 0}, "max_modes"),
        ({"clip": "yes"}, "clip must be a bool"),
        ({"dtype": np.int32}, "dtype must be a numpy float dtype"),
    ],
)
def test_invalid_parameters(simple, params, match):
    X, _ = simple
    with pytest.raises(ValueError, match=match):
        TabularEncoder(**params).fit(X)


# -- TabularEncoder: properties ------------------------------------------------

# Tiny magnitudes are mapped to zero: below about 1e-30 a float32 encoding can
# no longer tell values apart (see the ``dtype`` parameter).
finite_floats = st.floats(-1e6, 1e6, allow_subnormal=False).map(
    lambda v: v if abs(v) >= 1e-3 else 0.0
)
mixed_frames = data_frames(
    columns=[
        column("f64", dtype=np.float64, elements=finite_floats),
        column("f32", dtype=np.float32, elements=st.floats(-1e4, 1e4, width=32)),
        column("i64", dtype=np.int64, elements=st.integers(-(10**6), 10**6)),
        column("i8", dtype=np.int8),
        column("flag", dtype=bool),
        column("color", dtype=object, elements=st.sampled_from(["red", "green", "b"])),
        column("level", dtype=object, elements=st.sampled_from(["low", "mid", "high"])),
        column("text", dtype=object, elements=st.text(max_size=3)),
    ],
    index=range_indexes(min_size=1, max_size=25),
).map(lambda df: df.astype({"color": "str", "level": LEVELS}))


def assert_round_trip(original, decoded):
    pd.testing.assert_series_equal(decoded.dtypes, original.dtypes)
    exact = original.drop(columns=["f64", "f32"])
    pd.testing.assert_frame_equal(decoded[exact.columns], exact)
    for name in ["f64", "f32"]:
        values = original[name].to_numpy(np.float64)
        scale = values.max() - values.min()
        np.testing.assert_allclose(
            decoded[name].to_numpy(np.float64), values, rtol=1e-6, atol=1e-6 * scale
        )


@settings(deadline=None, max_examples=30)
@given(X=mixed_frames, numerical=st.sampled_from(NUMERICAL))
def test_round_trip_property(X, numerical):
    before = X.copy(deep=True)
    encoder = TabularEncoder(numerical=numerical, random_state=0).fit(X)
    Xt = encoder.transform(X)
    Xt_before = Xt.copy()
    decoded = encoder.inverse_transform(Xt, index=X.index)

    pd.testing.assert_frame_equal(X, before)  # the input is never mutated
    np.testing.assert_array_equal(Xt, Xt_before)
    assert Xt.dtype == np.float32
    assert Xt.shape == (len(X), encoder.layout_.n_columns)
    assert_round_trip(X, decoded)


def scores(width):
    elements = st.floats(-1e12, 1e12) | st.sampled_from([np.inf, -np.inf, 0.0])
    shape = st.tuples(st.integers(1, 15), st.just(width))
    return arrays(np.float64, shape, elements=elements)


@settings(deadline=None, max_examples=25)
@given(data=st.data(), clip=st.booleans())
def test_decoding_any_matrix_gives_valid_rows(fitted, table, data, clip):
    Z = data.draw(scores(fitted.layout_.n_columns))
    Z_before = Z.copy()
    decoded = fitted.inverse_transform(Z, clip=clip)

    np.testing.assert_array_equal(Z, Z_before)
    pd.testing.assert_series_equal(decoded.dtypes, table.dtypes)
    for name in fitted.categorical_features_:
        assert decoded[name].isin(fitted.categories_[name]).all()
    if clip:
        for name in fitted.numerical_features_:
            values = decoded[name].to_numpy(np.float64)
            assert values.min() >= fitted.data_min_[name]
            assert values.max() <= fitted.data_max_[name]


def test_string_columns_take_the_fast_lookup_with_the_same_answers_and_errors():
    X = pd.DataFrame(
        {"c": pd.array(["a", "b", "a"], dtype="string"), "x": [1.0, 2.0, 3.0]}
    )
    encoder = TabularEncoder(numerical="minmax").fit(X)
    as_objects = X.astype({"c": object})
    np.testing.assert_array_equal(encoder.transform(X), encoder.transform(as_objects))
    unseen = X.assign(c=pd.array(["a", "z", "a"], dtype="string"))
    with pytest.raises(InvalidDataError, match="category 'z' not seen during fit"):
        encoder.transform(unseen)
    missing = X.assign(c=pd.array(["a", None, "a"], dtype="string"))
    with pytest.raises(InvalidDataError, match="missing value"):
        encoder.transform(missing)
    # A new fit brings new categories: no lookup of the old fit is reused.
    Y = pd.DataFrame({"c": pd.array(["b", "c"], dtype="string"), "x": [1.0, 2.0]})
    encoder.fit(Y)
    np.testing.assert_array_equal(encoder.transform(Y)[:, :2], np.eye(2))


def test_text_differing_only_after_a_nul_character_stays_apart():
    # pandas 2's pd.unique took "a\x00" for "a" (its text hash stops at NUL).
    X = pd.DataFrame(
        {"t": pd.Series(["", "\x00", "a", "a\x00", "a"], dtype=object), "x": 1.0}
    )
    encoder = TabularEncoder().fit(X)
    assert encoder.categories_["t"].tolist() == ["", "\x00", "a", "a\x00"]
    Xt = encoder.transform(X)
    np.testing.assert_array_equal(Xt[:, :4].argmax(axis=1), [0, 1, 2, 3, 2])
    assert encoder.inverse_transform(Xt)["t"].tolist() == X["t"].tolist()


@pytest.mark.parametrize("dtype", ["str", "string[pyarrow]", "string[python]", object])
def test_string_columns_decode_as_they_would_from_objects(dtype):
    if dtype == "string[pyarrow]":
        try:  # pyarrow is optional, and may be built for another NumPy
            pd.StringDtype("pyarrow")
        except ImportError as error:
            pytest.skip(str(error))
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {"c": pd.Series(rng.choice(["a", "bb", "ccc"], 50)).astype(dtype), "x": 1.0}
    )
    encoder = TabularEncoder(numerical="minmax").fit(X)
    scores = rng.normal(size=(50, encoder.layout_.n_columns))
    decoded = encoder.inverse_transform(scores, index=range(10, 60))
    expected = encoder.categories_["c"][scores[:, :3].argmax(axis=1)]
    pd.testing.assert_series_equal(
        decoded["c"],
        pd.Series(expected, index=range(10, 60), dtype=X["c"].dtype, name="c"),
    )
    # A new fit brings new categories: no decoding of the old fit is reused.
    encoder.fit(X.assign(c=X["c"].str.upper()))
    assert set(encoder.inverse_transform(scores)["c"]) <= {"A", "BB", "CCC"}
