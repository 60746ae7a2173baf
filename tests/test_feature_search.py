"""The search of single features, the last repair of a table's unreached rows."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cfexplain._feature_search import (
    CATEGORY_VALUES,
    NUMERIC_VALUES,
    FeatureValues,
    target_margin,
)
from cfexplain._targets import ResolvedTarget


def _rows(numbers, categories, n_categories):
    """Encoded rows: one standardised number, then a one-hot category."""
    one_hot = np.eye(n_categories, dtype=np.float32)[categories]
    return np.column_stack([numbers.astype(np.float32), one_hot])


def test_values_are_quantiles_of_a_number_and_the_most_frequent_categories():
    rng = np.random.RandomState(0)
    numbers = rng.normal(size=1000)
    categories = rng.choice(80, size=1000, p=np.r_[0.5, np.full(79, 0.5 / 79)])
    Xt = _rows(numbers, categories, 80)
    feature_of_column = np.r_[0, np.ones(80, dtype=np.int64)]
    values = FeatureValues.from_rows(Xt, feature_of_column, [numbers, None])
    tried = values.blocks[0][:, 0]
    assert len(tried) == NUMERIC_VALUES
    # Training values, from the smallest to the largest.
    assert np.isin(tried, Xt[:, 0]).all()
    assert tried.min() == Xt[:, 0].min() and tried.max() == Xt[:, 0].max()
    blocks = values.blocks[1]
    assert blocks.shape == (CATEGORY_VALUES, 80)
    assert (blocks.sum(axis=1) == 1).all()
    assert blocks[0].argmax() == 0  # the most frequent first
    np.testing.assert_array_equal(values.columns[1], np.arange(1, 81))


def test_a_number_with_few_values_tries_each_of_them():
    numbers = np.repeat([0.0, 1.0, 4.0], 10)
    Xt = numbers[:, None].astype(np.float32)
    values = FeatureValues.from_rows(Xt, np.zeros(1, dtype=np.int64), [numbers])
    np.testing.assert_array_equal(np.sort(values.blocks[0][:, 0]), [0.0, 1.0, 4.0])


@settings(max_examples=30, deadline=None)
@given(
    free=st.lists(st.booleans(), min_size=2, max_size=2),
    current=st.lists(st.sampled_from([0.0, 1.0, 4.0]), min_size=1, max_size=1),
    category=st.integers(0, 2),
)
def test_candidates_change_one_free_feature_to_a_value_it_does_not_hold(
    free, current, category
):
    numbers = np.repeat([0.0, 1.0, 4.0], 4)
    Xt = _rows(numbers, np.tile([0, 1, 2], 4), 3)
    feature_of_column = np.array([0, 1, 1, 1])
    values = FeatureValues.from_rows(Xt, feature_of_column, [numbers, None])
    row = np.r_[current, np.eye(3)[category]].astype(np.float32)[None, :]
    owner, feature, made = values.candidates(row, np.array([free]))
    assert (owner == 0).all()
    assert sorted(set(feature.tolist())) == [f for f in (0, 1) if free[f]]
    for f, candidate in zip(feature, made, strict=True):
        own = feature_of_column == f
        assert (candidate[~own] == row[0, ~own]).all()
        assert (candidate[own] != row[0, own]).any()
    # Each free feature gets each of its other two values once.
    assert len(made) == 2 * sum(free)


def test_margin_is_the_distance_to_the_target_class_or_interval():
    classes = ResolvedTarget("classification", proba=np.eye(3)[[0, 2]])
    y = np.array([[0.5, 0.3, 0.2], [0.6, 0.1, 0.3]])
    np.testing.assert_allclose(target_margin(classes, y), [0.2, -0.3])
    interval = ResolvedTarget(
        "regression", low=np.array([1.0, -np.inf, 0.0]), high=np.array([2.0, 5.0, 1.0])
    )
    np.testing.assert_allclose(
        target_margin(interval, np.array([0.5, 7.0, 0.5])), [-0.5, -2.0, 0.0]
    )


@pytest.mark.parametrize("n_categories", [1, 2])
def test_a_feature_with_one_value_gives_no_candidate(n_categories):
    Xt = _rows(np.zeros(5), np.zeros(5, dtype=np.int64), n_categories)
    feature_of_column = np.r_[0, np.ones(n_categories, dtype=np.int64)]
    values = FeatureValues.from_rows(Xt, feature_of_column, [np.zeros(5), None])
    owner, _, made = values.candidates(Xt[:1], np.ones((1, 2), dtype=bool))
    assert len(owner) == len(made) == 0
