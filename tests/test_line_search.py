"""The line search of one number for regression targets (cfexplain._line_search)."""

import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from cf_testing import FAST, FAST_AUTOENCODER
from hypothesis import given, settings
from hypothesis import strategies as st

from cfexplain import CounterfactualAE, CounterfactualGAN
from cfexplain._line_search import (
    GRID_VALUES,
    grid_values,
    nearest_crossing,
    side_of_target,
    with_values,
)


def test_sides_of_a_band():
    target = SimpleNamespace(low=np.array([1.0, 1.0, 1.0]), high=np.array([2.0] * 3))
    np.testing.assert_array_equal(side_of_target(target, [0.5, 1.5, 2.5]), [-1, 0, 1])


def test_grid_values_are_sorted_training_values():
    values = np.random.RandomState(0).normal(size=500)
    grid = grid_values(values)
    assert len(grid) == GRID_VALUES
    assert np.all(np.diff(grid) > 0) and np.isin(grid, values).all()
    assert list(grid_values(np.array([3.0, 1.0, 3.0]))) == [1.0, 3.0]


def test_the_crossing_nearest_the_origin_is_bracketed():
    # Crossings between 1 and 2 and between 4 and 5; the origin is 4.
    points = np.array([[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]])
    sides = np.array([[-1, -1, 1, 1, 1, -1]])
    outside, across, side = nearest_crossing(points, sides, np.array([4.0]))
    assert (outside[0], across[0], side[0]) == (4.0, 5.0, 1)
    # No change of side: nothing to bisect.
    outside, _, _ = nearest_crossing(points, np.ones_like(sides), np.array([4.0]))
    assert np.isnan(outside[0])


def test_entering_the_band_is_a_bracket_too():
    # An interval's band is entered (-1 -> 0) more often than jumped over.
    points = np.array([[0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 2.0, 3.0]])
    sides = np.array([[-1, -1, 0, 0], [0, 0, 1, 1]])
    outside, across, side = nearest_crossing(points, sides, np.array([0.0, 3.0]))
    # The end off the target is the one bisection starts from.
    np.testing.assert_array_equal(outside, [1.0, 2.0])
    np.testing.assert_array_equal(across, [2.0, 1.0])
    np.testing.assert_array_equal(side, [-1, 1])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([-1, 0, 1]), min_size=2, max_size=12), st.data())
def test_a_bracket_found_has_sides_that_differ(sides, data):
    points = np.arange(len(sides), dtype=float)[None, :]
    origin = np.array([float(data.draw(st.integers(0, len(sides) - 1)))])
    sides = np.array([sides])
    outside, across, side = nearest_crossing(points, sides, origin)
    changes = np.flatnonzero(sides[0, :-1] != sides[0, 1:])
    if not len(changes):
        assert np.isnan(outside[0])
        return
    assert abs(across[0] - outside[0]) == 1
    assert side[0] != 0 and sides[0, int(outside[0])] == side[0]
    assert sides[0, int(across[0])] != side[0]
    # None nearer the origin.
    nearest = np.min(np.minimum(abs(changes - origin[0]), abs(changes + 1 - origin[0])))
    assert min(abs(outside[0] - origin[0]), abs(across[0] - origin[0])) == nearest


def test_values_set_in_an_integer_column_are_whole():
    rows = pd.DataFrame({"n": pd.array([1, 2], dtype="Int64"), "x": [0.5, 1.5]})
    out = with_values(rows, "n", [2.4, 7.6])
    assert out["n"].dtype == "Int64" and list(out["n"]) == [2, 8]
    assert list(rows["n"]) == [1, 2]  # a copy
    assert list(with_values(rows, "x", [3.25, 4.0])["x"]) == [3.25, 4.0]
    # A feature fitted as integers, given as floats, stays whole.
    assert list(with_values(rows, "x", [3.25, 4.6], whole=True)["x"]) == [3.0, 5.0]


def _linear_table(n=300, seed=0):
    rng = np.random.RandomState(seed)
    return pd.DataFrame(
        {
            "a": rng.normal(0, 1, n),
            "b": rng.normal(5, 2, n),
            "count": rng.randint(0, 20, n).astype("int64"),
            "kind": rng.choice(["p", "q"], n),
        }
    )


def linear_value(X):
    """A regression model every number moves (module level: it pickles)."""
    return (
        3.0 * X["a"].to_numpy()
        + X["b"].to_numpy()
        + 0.2 * X["count"].to_numpy()
        + (X["kind"].to_numpy() == "p") * 0.5
    )


def _fitted(explainer, X):
    """``explainer`` fitted to explain :func:`linear_value` on ``X``, quietly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return explainer.fit(X, linear_value)


@pytest.mark.parametrize(
    "make",
    [
        lambda: CounterfactualGAN(**FAST),
        lambda: CounterfactualAE(**FAST_AUTOENCODER),
    ],
)
def test_a_value_target_is_reached_by_moving_one_number(make, monkeypatch):
    from cfexplain._closed_loop import ClosedLoopMixin

    X = _linear_table()
    explainer = _fitted(make(), X)
    rows = X.iloc[:40]
    value = float(np.percentile(linear_value(X), 80))
    X_cf = explainer.transform(rows, target=value)
    tolerance = explainer.regression_tolerance * explainer.output_scale_
    assert (np.abs(linear_value(X_cf) - value) <= tolerance).all()
    assert X_cf["count"].dtype == np.int64
    # Copied training rows land in so narrow a band only with several
    # changes; a number moved alone is the answer of most rows, which then
    # change fewer features than without the search.
    changed = (X_cf != rows).sum(axis=1)
    assert (changed == 1).mean() >= 0.5
    monkeypatch.setattr(
        ClosedLoopMixin,
        "_one_number_answers",
        lambda self, batch, rows: (np.zeros(len(rows), dtype=bool), None, None),
    )
    without = (explainer.transform(rows, target=value) != rows).sum(axis=1)
    assert changed.mean() < without.mean()
    monkeypatch.undo()
    # Constraints hold for its answers too.
    held = explainer.transform(
        rows, target=value, immutable=["a"], bounds={"b": (0, 9)}
    )
    pd.testing.assert_series_equal(held["a"], rows["a"])
    inside = rows["b"].between(0, 9)
    assert held.loc[inside, "b"].between(0, 9).all()


def test_explains_first_answer_is_transforms():
    X = _linear_table()
    explainer = _fitted(CounterfactualGAN(**FAST), X)
    rows = X.iloc[:20]
    value = float(np.percentile(linear_value(X), 80))
    first = explainer.explain(rows, target=value, n_counterfactuals=3)
    answers = first.counterfactuals.xs(0, level="counterfactual")
    pd.testing.assert_frame_equal(
        answers.reset_index(drop=True),
        explainer.transform(rows, target=value).reset_index(drop=True),
    )


def test_integers_given_as_floats_come_back_whole():
    X = _linear_table()
    explainer = _fitted(CounterfactualGAN(**FAST), X)
    rows = X.iloc[:30].astype({"count": "float64"})
    value = float(np.percentile(linear_value(X), 80))
    X_cf = explainer.transform(rows, target=value)
    assert X_cf["count"].dtype == np.float64
    np.testing.assert_array_equal(X_cf["count"], np.round(X_cf["count"]))


def test_an_interval_is_reached_near_its_edge():
    # The smallest move of one number stops just inside the interval, not
    # at the first point bisection finds inside it.
    X = _linear_table()
    explainer = _fitted(CounterfactualAE(**FAST_AUTOENCODER), X)
    rows = X.iloc[:30]
    outputs = linear_value(X)
    low, high = np.percentile(outputs, [80, 100])
    X_cf = explainer.transform(rows, target=(low, None))
    y = linear_value(X_cf)
    single = ((X_cf != rows).sum(axis=1) == 1).to_numpy()
    below = linear_value(rows) < low
    assert (y >= low).all() and (single & below).sum() >= 10
    # Those answers land in the lowest tenth of the way to the interval's top.
    assert (y[single & below] - low <= 0.1 * (high - low)).all()


def test_series_regression_takes_training_row_candidates():
    from cf_testing import make_series

    def series_value(X):
        return np.asarray(X)[:, 0, -8:].mean(axis=1)

    X = make_series(n=64, length=24)
    explainer = CounterfactualAE(
        **FAST_AUTOENCODER, modality="series", training_row_candidates=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer.fit(X, predict_fn=series_value)
        assert explainer.transform(X[:8], target=(0.5, 1.0)).shape == X[:8].shape
