"""The training-row path's geometry: nearest reference rows and path order."""

import numpy as np
import pandas as pd
import torch
from cf_testing import FAST, frame_proba, make_mixed_frame
from hypothesis import given, settings
from hypothesis import strategies as st

from cfexplain import CounterfactualGAN
from cfexplain._repair import _binary_columns, _l1_distances, _nearest_columns


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n_binary=st.integers(0, 6),
    n_continuous=st.integers(0, 4),
    heavy=st.lists(st.booleans(), min_size=10, max_size=10),
)
def test_l1_distances_equal_cdist_in_float64(seed, n_binary, n_continuous, heavy):
    rng = np.random.default_rng(seed)
    width = n_binary + n_continuous
    rows = np.zeros((7, width), dtype=np.float32)
    pool = np.zeros((11, width), dtype=np.float32)
    rows[:, :n_binary] = rng.integers(0, 2, (7, n_binary))
    pool[:, :n_binary] = rng.integers(0, 2, (11, n_binary))
    rows[:, n_binary:] = rng.normal(size=(7, n_continuous))
    pool[:, n_binary:] = rng.normal(size=(11, n_continuous))
    # Frozen features weigh 10, the others 1, as in ReferenceRows.nearest.
    weights = np.where(np.array(heavy[:width], dtype=bool), 10.0, 1.0)
    binary = _binary_columns(rows) & _binary_columns(pool)
    assert binary[:n_binary].all()
    got = _l1_distances(
        torch.as_tensor(rows),
        torch.as_tensor(pool),
        torch.as_tensor(weights, dtype=torch.float32),
        binary,
    )
    w = torch.as_tensor(weights)
    expected = torch.cdist(
        torch.as_tensor(rows).double() * w, torch.as_tensor(pool).double() * w, p=1
    )
    assert got.dtype == torch.float64 and got.shape == (7, 11)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got.argmin(dim=1), expected.argmin(dim=1))


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n_rows=st.integers(1, 12),
    n_columns=st.integers(1, 40),
    depth=st.integers(1, 45),
    levels=st.integers(1, 6),
    share_inf=st.sampled_from([0.0, 0.3, 0.9]),
)
def test_nearest_columns_equal_a_stable_sort(
    seed, n_rows, n_columns, depth, levels, share_inf
):
    # Few distinct distances make ties, which must keep the pool's order;
    # infinite distances (rows out of reach) sort last.
    rng = np.random.default_rng(seed)
    distance = rng.integers(0, levels, (n_rows, n_columns)).astype(np.float64)
    distance[rng.random(distance.shape) < share_inf] = np.inf
    expected = np.argsort(distance, axis=1, kind="stable")[:, :depth]
    got = _nearest_columns(distance, depth)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)


def test_binary_columns():
    X = np.array([[0.0, 1.0, 0.5], [1.0, 1.0, 0.0]])
    np.testing.assert_array_equal(_binary_columns(X), [True, True, False])


def _resolved(labels, n_classes=2):
    from cfexplain._targets import ResolvedTarget

    return ResolvedTarget("classification", proba=np.eye(n_classes)[labels])


def test_nearest_by_rank_follows_the_distance_order_within_the_target_class():
    from cfexplain._repair import ReferenceRows

    # One feature; pool rows of class 1 at 1, 2, 3 and of class 0 at 0.5.
    pool = np.array([[3.0], [0.5], [1.0], [2.0]], dtype=np.float32)
    y = np.array([[0, 1], [1, 0], [0, 1], [0, 1]], dtype=float)
    reference = ReferenceRows(pool, y, "classification", np.array([0]))
    rows = np.zeros((5, 1), dtype=np.float32)
    target = _resolved(np.ones(5, dtype=int))
    got = reference.nearest(rows, target, np.zeros(1), rank=np.array([0, 1, 2, 3, 9]))
    # Ranks past the class's three rows give its farthest.
    np.testing.assert_array_equal(got, [2, 3, 0, 0, 0])
    np.testing.assert_array_equal(reference.nearest(rows, target, np.zeros(1)), [2] * 5)
    # No reference row of the wanted class: -1 whatever the rank.
    lonely = ReferenceRows(pool[:1], y[:1], "classification", np.array([0]))
    np.testing.assert_array_equal(
        lonely.nearest(
            rows[:2],
            _resolved(np.zeros(2, dtype=int)),
            np.zeros(1),
            rank=np.array([0, 3]),
        ),
        [-1, -1],
    )


def test_typicality_is_the_mean_distance_to_the_nearest_target_class_rows():
    from cfexplain._repair import ReferenceRows

    # Class 1 at 1, 2, 3 and 10; class 0 at 0.5.
    pool = np.array([[3.0], [0.5], [1.0], [2.0], [10.0]], dtype=np.float32)
    y = np.array([[0, 1], [1, 0], [0, 1], [0, 1], [0, 1]], dtype=float)
    reference = ReferenceRows(pool, y, "classification", np.array([0]))
    rows = np.array([[0.0], [2.0], [2.0]], dtype=np.float32)
    target = _resolved(np.array([1, 1, 0]))
    got = reference.typicality_distance(rows, target, n_neighbours=3)
    # Row 0: 1, 2, 3 away; row 1: 1, 0, 1 (10 is not among the 3 nearest);
    # row 2 has one class-0 row only, 1.5 away.
    np.testing.assert_allclose(got, [2.0, 2.0 / 3.0, 1.5])
    lonely = ReferenceRows(pool[:1], y[:1], "classification", np.array([0]))
    assert np.isinf(lonely.typicality_distance(rows[:1], _resolved(np.array([0]))))


def test_typicality_of_a_regression_counts_rows_inside_the_target():
    from cfexplain._repair import ReferenceRows
    from cfexplain._targets import ResolvedTarget

    pool = np.array([[0.0], [1.0], [5.0]], dtype=np.float32)
    values = np.array([0.0, 1.0, 5.0])
    reference = ReferenceRows(pool, values, "regression", np.array([0]))
    target = ResolvedTarget("regression", low=np.array([4.0]), high=np.array([6.0]))
    got = reference.typicality_distance(np.zeros((1, 1), np.float32), target)
    np.testing.assert_allclose(got, [5.0])


def test_shortened_moves_keep_the_share_asked_for_in_the_columns_dtypes():
    X = make_mixed_frame(n=64)
    explainer = CounterfactualGAN(**FAST).fit(X, frame_proba)
    adapter = explainer.adapter_
    originals = X.iloc[:4]
    moved = originals.copy()
    moved["age"] += np.array([10, 4, -8, 0])
    moved["hours"] += np.array([4.0, -2.0, 0.0, 1.0])
    moved["color"] = ["green", "red", "blue", "green"]
    half = adapter.shorten_numeric_moves(originals, moved, 0.5)
    # A float moves half-way; an integer (maybe a code) to the held value
    # (a training value or an end of its move) nearest the rounded half.
    np.testing.assert_allclose(
        half["hours"], originals["hours"] + np.array([2.0, -1.0, 0.0, 0.5])
    )
    before, after = originals["age"].to_numpy(float), moved["age"].to_numpy(float)
    support = np.unique(X["age"].to_numpy(float))
    for b, a, got in zip(before, after, half["age"].to_numpy(float), strict=True):
        held = np.r_[support[(support >= min(a, b)) & (support <= max(a, b))], a, b]
        middle = np.round(b + 0.5 * (a - b))
        assert got in held
        assert abs(got - middle) == np.abs(held - middle).min()
    # Categories are the counterfactual's; dtypes and index are kept.
    pd.testing.assert_series_equal(half["color"], moved["color"])
    assert (half.dtypes == moved.dtypes).all() and half.index.equals(moved.index)
    pd.testing.assert_frame_equal(
        adapter.shorten_numeric_moves(originals, moved, 1.0), moved
    )
    back = adapter.shorten_numeric_moves(originals, moved, 0.0)
    pd.testing.assert_frame_equal(back[["age", "hours"]], originals[["age", "hours"]])


def test_shortened_moves_of_integer_codes_land_on_codes():
    rng = np.random.RandomState(0)
    X = pd.DataFrame(
        {"code": rng.choice([11, 22, 33, 44, 55], 80), "x": rng.normal(size=80)}
    )
    explainer = CounterfactualGAN(**FAST).fit(
        X, lambda F: np.column_stack([F["x"] < 0, F["x"] >= 0]).astype(float)
    )
    originals = pd.DataFrame({"code": [11, 22, 55], "x": [0.0, 0.0, 0.0]})
    moved = pd.DataFrame({"code": [55, 44, 11], "x": [1.0, 1.0, 1.0]})
    for keep in (0.125, 0.3, 0.5, 0.875):
        codes = explainer.adapter_.shorten_numeric_moves(originals, moved, keep)["code"]
        assert set(codes) <= {11, 22, 33, 44, 55}
        assert codes.dtype == moved["code"].dtype


@settings(max_examples=60, deadline=None)
@given(
    # Runs of up to 20 columns of a feature (a one-hot block of 20
    # categories), features in any order, possibly split or missing.
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(1, 20)), min_size=1, max_size=6
    ).map(lambda runs: [feature for feature, n in runs for _ in range(n)]),
    st.integers(1, 5),
    st.integers(0, 2**31 - 1),
)
def test_feature_distances_sum_each_feature_s_columns(columns, n_rows, seed):
    # Each feature's distance is the sum of its columns' absolute
    # differences, added in column order (as np.add.at adds them), whether
    # its columns are side by side or not, and 0 for a feature without
    # columns.
    from cfexplain._repair import ReferenceRows

    feature_of_column = np.array(columns)
    rng = np.random.RandomState(seed)
    # float64 values with magnitudes from 1e-3 to 1e3: their sums round,
    # so another order of the additions would show.
    scale = 10.0 ** rng.uniform(-3, 3, size=(n_rows, len(columns)))
    Xt = rng.normal(size=scale.shape) * scale
    goal = rng.normal(size=scale.shape)
    reference = ReferenceRows(
        goal, np.zeros((n_rows, 2)), "classification", feature_of_column
    )
    expected = np.zeros((n_rows, feature_of_column.max() + 1))
    for column, feature in enumerate(feature_of_column):
        expected[:, feature] += np.abs(Xt[:, column] - goal[:, column])
    distances = reference.feature_distances(Xt, goal)
    assert distances.dtype == np.float64
    np.testing.assert_array_equal(distances, expected)
