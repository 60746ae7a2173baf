import warnings

import numpy as np
import pandas as pd
import pytest
from cf_testing import FAST, frame_proba, make_mixed_frame
from hypothesis import given, settings
from hypothesis import strategies as st

from cfexplain import (
    ConstraintError,
    CounterfactualGAN,
    OutsideBoundsWarning,
    OutsideTrainingRangeWarning,
)
from cfexplain._constraints import (
    apply_constraints,
    bounds_in_dtype,
    parse_constraints,
)

FEATURES = ["age", "hours", "color", "member"]
NUMERICAL = ["age", "hours"]


def parse(immutable=None, bounds=None, monotonic=None):
    return parse_constraints(
        immutable,
        bounds,
        monotonic,
        feature_names=FEATURES,
        numerical_features=NUMERICAL,
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"immutable": ["height"]}, "unknown feature 'height'"),
        ({"immutable": [7]}, "feature index 7"),
        ({"bounds": {"age": (5, 1)}}, r"low <= high, got \(5.0, 1.0\)"),
        ({"bounds": {"age": 3}}, "must be a pair"),
        ({"bounds": {"color": (0, 1)}}, "only supported on numerical"),
        ({"monotonic": {"age": "up"}}, "'increasing' or 'decreasing'"),
        ({"monotonic": {"member": 1}}, "only supported on numerical"),
        ({"bounds": [("age", (1, 5))]}, r"bounds must be a dict \{feature"),
        ({"monotonic": "age"}, r"monotonic must be a dict \{feature"),
        ({"bounds": {"age": ("a", 5)}}, r"must be numbers \(None for an open"),
        ({"monotonic": {"age": ["up"]}}, "'increasing' or 'decreasing'"),
    ],
)
def test_invalid_constraints(kwargs, match):
    # Of the library's own exception family, and still a ValueError.
    with pytest.raises(ConstraintError, match=match):
        parse(**kwargs)


@pytest.mark.parametrize(
    "immutable",
    [
        pd.Index(["color", "age"]),
        pd.Series(["color", "age"]),
        np.array(["color", "age"]),
        ("color", "age"),
        {"color", "age"},
    ],
    ids=["Index", "Series", "array", "tuple", "set"],
)
def test_immutable_takes_any_list_like_of_names(immutable):
    assert set(parse(immutable=immutable).immutable) == {"color", "age"}


def test_immutable_takes_a_numpy_integer_position():
    # As np.flatnonzero(...)[0] gives it.
    assert parse(immutable=np.int64(2)).immutable == ("color",)


def test_bounds_and_directions_take_a_series_keyed_by_feature():
    constraints = parse(
        bounds=pd.Series({"age": (18, 70)}),
        monotonic=pd.Series({"hours": "increasing"}),
    )
    assert constraints.bounds == {"age": (18.0, 70.0)}
    assert constraints.monotonic == {"hours": 1}


def test_pandas_containers_as_constraints_at_fit_and_transform():
    # X.columns[...] is how pandas users pick columns; its truth value is
    # ambiguous, which once crashed deep inside the parser.
    X = make_mixed_frame(n=60)
    explainer = CounterfactualGAN(immutable=X.columns[[2]], **FAST).fit(
        make_mixed_frame(), frame_proba
    )
    X_cf = explainer.transform(
        X,
        immutable=X.columns[[2, 3]],
        bounds=pd.Series({"hours": (0.0, 80.0)}),
    )
    for name in X.columns[[2, 3]]:
        pd.testing.assert_series_equal(X_cf[name], X[name])
    assert X_cf["hours"].between(0.0, 80.0).all()
    # The constructor's Index holds too.
    kept = X.columns[2]
    pd.testing.assert_series_equal(explainer.transform(X)[kept], X[kept])
    # And its Series of bounds.
    bounded = CounterfactualGAN(bounds=pd.Series({"hours": (0.0, 80.0)}), **FAST)
    assert (
        bounded.fit(make_mixed_frame(), frame_proba)
        .transform(X)["hours"]
        .between(0.0, 80.0)
        .all()
    )


def test_parse_accepts_positions_and_open_bounds():
    constraints = parse(immutable=2, bounds={0: (None, 50)}, monotonic={"hours": -1})
    assert constraints.immutable == ("color",)
    assert constraints.bounds == {"age": (-np.inf, 50.0)}
    assert constraints.monotonic == {"hours": -1}
    assert constraints.frozen_features().tolist() == [0, 0, 1, 0]


@pytest.mark.parametrize(
    "bounds", [(None, 50), (-np.inf, 50), (25, None), (25, np.inf)]
)
def test_half_open_bounds_on_an_integer_feature(bounds):
    # age is int64: its finite side rounds inwards, the open one stays open.
    X = make_mixed_frame(n=40)
    X = X[(X["age"] >= 25) & (X["age"] <= 50)]
    explainer = CounterfactualGAN(**FAST).fit(make_mixed_frame(), frame_proba)
    X_cf = explainer.transform(X, bounds={"age": bounds})
    low = -np.inf if bounds[0] is None else bounds[0]
    high = np.inf if bounds[1] is None else bounds[1]
    assert X_cf["age"].between(low, high).all()
    assert X_cf["age"].dtype == np.int64


def test_apply_rules_on_a_hand_made_case():
    X = pd.DataFrame({"age": [30, 60], "hours": [40.0, 40.0]})
    X_cf = pd.DataFrame({"age": [20, 70], "hours": [10.0, 55.5]})
    constraints = parse_constraints(
        None,
        {"age": (25.5, 65), "hours": (35, 50)},
        {"age": "increasing"},
        feature_names=["age", "hours"],
        numerical_features=["age", "hours"],
    )
    out = apply_constraints(X, X_cf.copy(), constraints)
    assert out["age"].tolist() == [30, 65]  # never below the original, ceil/floor
    assert out["hours"].tolist() == [35.0, 50.0]
    assert out["age"].dtype == np.int64


@pytest.fixture(scope="module")
def explainer(mixed_frame):
    return CounterfactualGAN(**FAST).fit(mixed_frame, frame_proba)


constraint_sets = st.fixed_dictionaries(
    {
        "immutable": st.lists(st.sampled_from(FEATURES), unique=True, max_size=3),
        "age_bounds": st.one_of(
            st.none(),
            st.tuples(st.integers(0, 80), st.integers(0, 40)).map(
                lambda t: (t[0], t[0] + t[1])
            ),
        ),
        "hours_bounds": st.one_of(
            st.none(),
            st.tuples(st.floats(0, 80), st.floats(0, 40)).map(
                lambda t: (t[0], t[0] + t[1])
            ),
        ),
        "age_direction": st.sampled_from([None, "increasing", "decreasing"]),
        "hours_direction": st.sampled_from([None, "increasing", "decreasing"]),
        "seed": st.integers(0, 10_000),
        "n": st.integers(1, 40),
    }
)


def conflicting_rows(X, immutable, bounds, monotonic):
    """Rows no counterfactual can serve, by the documented conflict rules."""
    bad = np.zeros(len(X), dtype=bool)
    for name, (low, high) in bounds.items():
        x = X[name].to_numpy(float)
        if name == "age":  # an integer column
            low, high = np.ceil(low), np.floor(high)
        if name in immutable:
            bad |= (x < low) | (x > high)
        if monotonic.get(name) == "increasing":
            bad |= x > high
        if monotonic.get(name) == "decreasing":
            bad |= x < low
    return bad


@settings(deadline=None, max_examples=40)
@given(spec=constraint_sets)
def test_constraints_never_violated(explainer, spec):
    X = make_mixed_frame(n=spec["n"], seed=spec["seed"])
    bounds = {
        name: spec[f"{name}_bounds"]
        for name in NUMERICAL
        if spec[f"{name}_bounds"] is not None
    }
    monotonic = {
        name: spec[f"{name}_direction"]
        for name in NUMERICAL
        if spec[f"{name}_direction"] is not None
    }
    constraints = dict(immutable=spec["immutable"], bounds=bounds, monotonic=monotonic)
    bad = conflicting_rows(X, spec["immutable"], bounds, monotonic)
    if bad.any():
        with pytest.raises(ConstraintError, match="no counterfactual can satisfy"):
            explainer.transform(X, **constraints)
        X = X[~bad]
        if not len(X):
            return
    before = X.copy()
    X_cf = explainer.transform(X, **constraints)
    pd.testing.assert_frame_equal(X, before)
    assert (X_cf.dtypes == X.dtypes).all()
    for name in spec["immutable"]:
        pd.testing.assert_series_equal(X_cf[name], X[name])
    for name in NUMERICAL:
        if name in spec["immutable"]:
            continue
        x, x_cf = X[name].to_numpy(float), X_cf[name].to_numpy(float)
        direction = monotonic.get(name)
        if direction == "increasing":
            assert (x_cf >= x).all()
        if direction == "decreasing":
            assert (x_cf <= x).all()
        if name in bounds:
            low, high = bounds[name]
            if name == "age":
                low, high = np.ceil(low), np.floor(high)
            assert (x_cf >= low - 1e-9).all() and (x_cf <= high + 1e-9).all()


def test_constraints_that_freeze_everything_raise():
    explainer = CounterfactualGAN(**FAST).fit(make_mixed_frame(), frame_proba)
    with pytest.raises(ConstraintError, match="freeze every feature"):
        explainer.transform(make_mixed_frame(n=5), immutable=FEATURES)


def test_rows_outside_the_bounds_are_clipped_with_a_warning():
    X = make_mixed_frame(n=160)
    explainer = CounterfactualGAN(**FAST).fit(X, frame_proba)
    rows = X.iloc[:20]
    outside = int((rows["hours"] > 45).sum())
    assert 0 < outside < 20
    with pytest.warns(OutsideBoundsWarning, match=f"{outside} of 20 .*'hours'"):
        X_cf = explainer.transform(rows, bounds={"hours": (None, 45)})
    assert (X_cf["hours"] <= 45).all()
    with pytest.warns(OutsideBoundsWarning, match=f"{outside} of 20"):
        explainer.explain(rows, bounds={"hours": (None, 45)})
    # Bounds every original respects say nothing.
    with warnings.catch_warnings():
        warnings.simplefilter("error", OutsideBoundsWarning)
        explainer.transform(rows, bounds={"hours": (0, 100)})


def test_numbers_outside_the_training_range_warn_with_their_features():
    X = make_mixed_frame(n=160)
    explainer = CounterfactualGAN(**FAST).fit(X, frame_proba)
    rows = X.iloc[:20].copy()
    rows.loc[rows.index[:3], "age"] = 120
    rows.loc[rows.index[3], "hours"] = -5.0
    low, high = X["age"].min(), X["age"].max()
    message = (
        rf"4 of 20 originals .* 'age' \(3 rows; training values {low} to {high}\)"
        r", 'hours' \(1 row; "
    )
    with pytest.warns(OutsideTrainingRangeWarning, match=message) as caught:
        explainer.transform(rows)
    # Pointed at the caller's line, past the wrappers.
    assert caught[0].filename == __file__
    with pytest.warns(OutsideTrainingRangeWarning, match="4 of 20"):
        explainer.explain(rows)
    # The training rows themselves say nothing.
    with warnings.catch_warnings():
        warnings.simplefilter("error", OutsideTrainingRangeWarning)
        explainer.transform(X.iloc[:20])
        explainer.explain(X.iloc[:20])


def age_color_proba(X):
    """A classifier that ignores ``hours``."""
    score = (X["age"].to_numpy() - 44) / 8 + (X["color"].to_numpy() == "red") * 1.5
    p = 1 / (1 + np.exp(-score))
    return np.column_stack([1 - p, p])


def hours_proba(X):
    """A classifier on ``hours`` alone: class 1 below 40 hours."""
    p = 1 / (1 + np.exp((X["hours"].to_numpy() - 40) / 3))
    return np.column_stack([1 - p, p])


def test_a_number_outside_the_training_range_keeps_its_value_unless_needed():
    # The decoder answers within the training range: every answer of a row
    # with 300 hours held at most the longest training week, whether or not
    # the model needed it.
    X = make_mixed_frame(n=160)
    rows = X.iloc[:20].copy()
    rows["hours"] = np.where(np.arange(20) % 2, 300.0, -5.0)
    low, high = X["hours"].min(), X["hours"].max()
    # The generator's answers alone (max_rounds=0): the decoder's are kept
    # where the model accepts them, but not their clipped hours.
    alone = {"max_rounds": 0, "training_row_candidates": False}
    for model, needed in ((age_color_proba, False), (hours_proba, True)):
        explainer = CounterfactualGAN(**FAST, **({} if needed else alone))
        explainer.fit(X, model)
        with pytest.warns(OutsideTrainingRangeWarning, match="20 of 20"):
            X_cf = explainer.transform(rows)
        valid = model(X_cf).argmax(axis=1) != model(rows).argmax(axis=1)
        if needed:
            assert valid.all()
            # Every row's class hangs on its hours: they change.
            assert (X_cf["hours"] != rows["hours"]).all()
        else:
            assert (X_cf["hours"] == rows["hours"]).all()
            assert not X_cf["hours"].between(low, high).any()


def test_the_scorers_measure_rows_outside_the_training_range_without_the_warning():
    from cfexplain.metrics import counterfactual_scorers

    X = make_mixed_frame(n=160)
    explainer = CounterfactualGAN(**FAST).fit(X, frame_proba)
    rows = X.iloc[:20].copy()
    rows.loc[rows.index[0], "age"] = 120
    with warnings.catch_warnings():
        warnings.simplefilter("error", OutsideTrainingRangeWarning)
        for scorer in counterfactual_scorers().values():
            assert np.isfinite(scorer(explainer, rows))


@settings(deadline=None, max_examples=200)
@given(
    low=st.floats(-1e6, 1e6),
    width=st.floats(0, 1e6),
    open_side=st.sampled_from([None, "low", "high"]),
    dtype=st.sampled_from(
        [np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8]
    ),
)
def test_bounds_in_dtype_are_inside_the_bounds_and_held_exactly(
    low, width, open_side, dtype
):
    high = low + width
    low = -np.inf if open_side == "low" else low
    high = np.inf if open_side == "high" else high
    inside_low, inside_high = bounds_in_dtype(low, high, dtype)
    assert float(inside_low) >= low and float(inside_high) <= high
    if inside_low > inside_high:
        return  # no value of the dtype lies within the bounds
    kind = np.dtype(dtype).type
    for limit in (inside_low, inside_high):
        if np.isfinite(limit):
            # The dtype stores the limit as it is.
            assert float(kind(limit)) == float(limit)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        assert info.min <= inside_low and inside_high <= info.max


def test_a_float32_column_is_clipped_inside_bounds_float32_cannot_hold():
    X = pd.DataFrame({"x": np.array([0.0, 0.5, -0.5], dtype=np.float32)})
    X_cf = pd.DataFrame({"x": np.array([0.3, 0.05, 0.7], dtype=np.float32)})
    constraints = parse_constraints(
        None, {"x": (-1.0, 0.1)}, None, feature_names=["x"], numerical_features=["x"]
    )
    out = apply_constraints(X, X_cf, constraints)
    assert out["x"].dtype == np.float32
    assert (out["x"].to_numpy(dtype=np.float64) <= 0.1).all()
    assert out["x"].to_numpy()[1] == np.float32(0.05)  # inside: untouched


ORDER = ["blue", "green", "red"]


def test_monotonic_takes_an_ordered_category_only():
    orders = {"color": ORDER}
    constraints = parse_constraints(
        None,
        None,
        {"color": "increasing"},
        feature_names=FEATURES,
        numerical_features=NUMERICAL,
        category_orders=orders,
    )
    assert constraints.monotonic == {"color": 1}
    assert constraints.category_orders == {"color": tuple(ORDER)}
    ranks = constraints.as_numbers("color", np.array(["red", "blue", "pink"], object))
    np.testing.assert_array_equal(ranks, [2.0, 0.0, np.nan])
    with pytest.raises(ConstraintError, match=r"unordered.*ordered=True"):
        parse(monotonic={"color": "increasing"})


@pytest.mark.parametrize(
    "direction, expected",
    [(1, ["green", "green", "red"]), (-1, ["blue", "blue", "red"])],
)
def test_an_ordered_category_moved_against_its_direction_keeps_its_value(
    direction, expected
):
    dtype = pd.CategoricalDtype(ORDER, ordered=True)
    X = pd.DataFrame({"color": pd.Series(["green", "blue", "red"], dtype=dtype)})
    X_cf = pd.DataFrame({"color": pd.Series(["blue", "green", "red"], dtype=dtype)})
    constraints = parse_constraints(
        None,
        None,
        {"color": direction},
        feature_names=["color"],
        numerical_features=[],
        category_orders={"color": ORDER},
    )
    out = apply_constraints(X, X_cf, constraints)
    assert out["color"].tolist() == expected
    assert out["color"].dtype == dtype


def test_an_ordered_category_only_rises_end_to_end():
    # red makes class 1 likelier; with colour only allowed to rise, rows
    # already red keep it and reach class 0 through the numbers.
    dtype = pd.CategoricalDtype(ORDER, ordered=True)
    X = make_mixed_frame().astype({"color": dtype})
    explainer = CounterfactualGAN(**FAST).fit(X, frame_proba)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few rows may miss the target
        X_cf = explainer.transform(X, monotonic={"color": "increasing"})
    rank = X["color"].cat.codes.to_numpy()
    rank_cf = X_cf["color"].cat.codes.to_numpy()
    assert (rank_cf >= rank).all()
    assert X_cf["color"].dtype == dtype
    # Unconstrained, some answers lower it: the constraint did the work.
    free = explainer.transform(X)
    assert (free["color"].cat.codes.to_numpy() < rank).any()
    # A text column given at transform is read in the fitted order too.
    text = X.astype({"color": object})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X_cf = explainer.transform(text, monotonic={"color": "increasing"})
    ranks = pd.Categorical(X_cf["color"], categories=ORDER).codes
    assert (ranks >= rank).all()
