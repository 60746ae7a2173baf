import numpy as np
import pandas as pd
import pytest

from cfexplain._targets import align_target, per_row_labels, resolve_target
from cfexplain.exceptions import TargetError

Y3 = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3]])
CLASSES = np.array(["a", "b", "c"])


def resolve(target, y=Y3, classes=CLASSES):
    return resolve_target(target, y, task="classification", classes=classes)


def test_opposite_binary_and_multiclass():
    binary = np.array([[0.9, 0.1], [0.2, 0.8]])
    assert resolve("opposite", binary, None).labels.tolist() == [1, 0]
    # most likely other class
    assert resolve("opposite").labels.tolist() == [1, 1, 2]


def test_label_and_per_row_labels():
    assert resolve("c").labels.tolist() == [2, 2, 2]
    assert resolve(["b", "a", "c"]).labels.tolist() == [1, 0, 2]
    target = resolve(np.array(["b", "a", "c"]))
    np.testing.assert_array_equal(target.proba, np.eye(3)[[1, 0, 2]])


def test_numeric_labels_match_numeric_classes():
    y = np.array([[0.9, 0.1], [0.2, 0.8]])
    assert resolve(1, y, np.array([0, 1])).labels.tolist() == [1, 1]
    assert resolve(np.int64(0), y, np.array([0, 1])).labels.tolist() == [0, 0]


def test_soft_targets():
    vector = resolve(np.array([0.2, 0.3, 0.5]))
    assert vector.proba.shape == (3, 3)
    np.testing.assert_allclose(vector.proba[1], [0.2, 0.3, 0.5])
    matrix = resolve(np.array([[0.1, 0.1, 0.8]] * 3))
    assert matrix.labels.tolist() == [2, 2, 2]


def test_is_met_and_take():
    target = resolve(["b", "a", "c"])
    y_cf = np.array([[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.0, 0.1, 0.9]])
    assert target.is_met(y_cf).tolist() == [True, False, True]
    assert target.take([2]).labels.tolist() == [2]


def test_a_tie_between_classes_reaches_no_target():
    binary = np.array([[0.9, 0.1], [0.2, 0.8], [0.9, 0.1]])
    target = resolve("opposite", binary, None)  # labels 1, 0, 1
    tied = np.array([[0.5, 0.5], [0.5, 0.5], [0.4, 0.6]])
    # argmax would call the second row valid (class 0 wins the tie).
    assert target.is_met(tied).tolist() == [False, False, True]
    three = resolve(["a", "b", "c"])
    y_cf = np.array([[0.4, 0.4, 0.2], [0.3, 0.4, 0.3], [0.2, 0.4, 0.4]])
    assert three.is_met(y_cf).tolist() == [False, True, False]


@pytest.mark.parametrize(
    "target, match",
    [
        ("z", r"target 'z' is not one of the model's classes \['a', 'b', 'c'\]"),
        (["a", "b"], r"one label per instance \(3\), got 2"),
        (np.array([0.5, 0.6, 0.1]), r"must sum to 1"),
        (np.array([[0.5, 0.5]]), r"needs 3 values per row"),
        (np.array([[-0.5, 1.0, 0.5]]), r"within \[0, 1\]"),
        (None, r"no target given"),
        (np.zeros((2, 2, 2)), r"cannot read a classification target"),
        # Validity is judged by the target's most likely class: a tie has none.
        (np.array([0.4, 0.4, 0.2]), r"classes \['a', 'b'\] tie: give the class"),
        (np.array([[0.1, 0.8, 0.1]] * 2 + [[0.5, 0.0, 0.5]]), r"tie in row 2"),
        (np.array([0.1, 0.9]), r"a probability vector needs one value per class"),
    ],
)
def test_impossible_classification_targets(target, match):
    with pytest.raises(TargetError, match=match):
        resolve(target)


def test_a_class_name_asked_of_positional_classes_says_what_they_are():
    # A plain function returning a DataFrame of probabilities named
    # "malignant", "benign": its classes are the positions 0 and 1.
    binary = np.array([[0.9, 0.1], [0.2, 0.8]])
    with pytest.raises(TargetError, match=r"positions of its output columns"):
        resolve("benign", binary, np.arange(2))
    with pytest.raises(TargetError) as named:
        resolve("z")  # classes with names: no such hint
    assert "positions" not in str(named.value)


def test_a_float_vector_that_reads_two_ways_raises():
    # 2 rows of a binary model: labels (1, 0) or probabilities (1, 0)?
    binary = np.array([[0.9, 0.1], [0.2, 0.8]])
    with pytest.raises(TargetError, match=r"reads both as one label per row"):
        resolve([1.0, 0.0], binary, None)
    # Each written unambiguously, it is read as written.
    assert resolve(np.array([1, 0]), binary, None).labels.tolist() == [1, 0]
    assert resolve(np.array([[1.0, 0.0]]), binary, None).labels.tolist() == [0, 0]
    # Values that are not probabilities can only be labels; with 3 rows the
    # vector can only be probabilities.
    assert resolve([1.0, 1.0], binary, None).labels.tolist() == [1, 1]
    three_rows = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    assert resolve([1.0, 0.0], three_rows, None).labels.tolist() == [0, 0, 0]


def test_an_interval_given_to_a_classifier_says_intervals_are_for_regression():
    binary = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    with pytest.raises(TargetError, match=r"sum to 1.*interval is a target for regr"):
        resolve((0.1, 0.5), binary, None)


def test_pandas_targets_follow_the_index_of_x():
    X = pd.DataFrame({"a": [1, 2, 3]}, index=[10, 11, 12])
    labels = pd.Series(["a", "b", "c"], index=[12, 10, 11])
    np.testing.assert_array_equal(align_target(labels, X), ["b", "c", "a"])
    # A superset of X's labels (a whole column, X a slice of its frame).
    column = pd.Series([5.0, 6.0, 7.0, 8.0], index=[13, 12, 11, 10])
    np.testing.assert_array_equal(align_target(column, X), [8.0, 7.0, 6.0])
    rows = pd.DataFrame([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]], index=[11, 12, 10])
    np.testing.assert_array_equal(
        align_target(rows, X), [[0.3, 0.7], [0.1, 0.9], [0.8, 0.2]]
    )
    # Arrays have no index: by position. Other targets pass through.
    np.testing.assert_array_equal(align_target(labels, X.to_numpy()), labels)
    assert align_target("opposite", X) == "opposite"
    with pytest.raises(TargetError, match=r"lacks labels of X's index, e.g. \[12\]"):
        align_target(pd.Series([1, 2, 3], index=[10, 11, 13]), X)
    with pytest.raises(TargetError, match="repeats labels"):
        align_target(pd.Series([1, 2, 3], index=[10, 11, 11]), X.set_axis([10, 10, 11]))
    # Targets without one entry per row are not per-row targets: a soft
    # target indexed by class, a single row of probabilities.
    soft = pd.Series([0.3, 0.7], index=["no", "yes"])
    np.testing.assert_array_equal(align_target(soft, X), [0.3, 0.7])
    one_row = pd.DataFrame([[0.2, 0.8]], columns=["no", "yes"])
    np.testing.assert_array_equal(align_target(one_row, X), [[0.2, 0.8]])
    # explain's counterfactuals: (row, counterfactual) against row labels.
    answers = pd.DataFrame(
        {"a": range(6)},
        index=pd.MultiIndex.from_product([[10, 11, 12], [0, 1]]),
    )
    np.testing.assert_array_equal(
        align_target(labels, answers), ["b", "b", "c", "c", "a", "a"]
    )


def test_per_row_labels_are_never_read_as_probabilities():
    # A chunk or partition of per-row float labels as long as the model has
    # classes: read as labels, as the whole target was.
    binary = np.array([[0.9, 0.1], [0.2, 0.8]])
    labels = per_row_labels(np.array([1.0, 0.0]))
    assert resolve(labels, binary, np.array([0.0, 1.0])).labels.tolist() == [1, 0]
    values = resolve_target(
        per_row_labels(np.array([2.0, 3.0])), binary[:, 0], task="regression"
    )
    assert values.low.tolist() == [2.0, 3.0]
    rows = np.array([[0.2, 0.8], [0.6, 0.4]])
    assert per_row_labels(rows) is rows


def test_a_reversed_interval_names_a_row_only_for_per_row_intervals():
    y = np.zeros(3)
    with pytest.raises(TargetError) as one:
        resolve_target((0.6, 0.2), y, task="regression")
    assert "at row" not in str(one.value)
    with pytest.raises(TargetError, match="at row 1"):
        resolve_target(np.array([[0, 1], [3, 1], [0, 1]]), y, task="regression")


def test_regression_targets():
    y = np.array([1.0, 2.0, 3.0])
    value = resolve_target(5.0, y, task="regression", tolerance=0.5)
    assert value.low.tolist() == [4.5] * 3 and value.high.tolist() == [5.5] * 3
    interval = resolve_target((0, 10), y, task="regression")
    assert interval.is_met(np.array([-1.0, 5.0, 10.0])).tolist() == [False, True, True]
    per_row = resolve_target(np.array([[0, 1], [1, 2], [2, 3]]), y, task="regression")
    np.testing.assert_array_equal(per_row.condition()[:, 0], [0.5, 1.5, 2.5])


def test_a_list_of_two_values_for_two_rows_asks_for_a_tuple_or_an_array():
    y = np.array([1.0, 2.0])
    with pytest.raises(TargetError, match=r"give \(100, 200\) \(a tuple\)"):
        resolve_target([100, 200], y, task="regression")
    interval = resolve_target((100, 200), y, task="regression")
    assert interval.low.tolist() == [100.0, 100.0]
    per_row = resolve_target(np.array([100, 200]), y, task="regression")
    assert per_row.low.tolist() == [100.0, 200.0]
    # Three rows leave a list of three unambiguous.
    three = resolve_target([1, 2, 3], np.zeros(3), task="regression")
    assert three.high.tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    "target, match",
    [
        ("opposite", "not meaningful for a regression model"),
        ((3, 1), r"low > high \(3.0 > 1.0\)"),
        (np.ones(4), r"cannot read a regression target of shape \(4,\)"),
        (np.nan, "must be numbers, not NaN"),
        (np.inf, r"cannot start at \+inf"),
    ],
)
def test_impossible_regression_targets(target, match):
    with pytest.raises(TargetError, match=match):
        resolve_target(target, np.zeros(3), task="regression")


@pytest.mark.parametrize(
    "target, low, high",
    [
        ((45, None), 45.0, np.inf),
        ((None, 10.5), -np.inf, 10.5),
        ((45, np.inf), 45.0, np.inf),
        ((-np.inf, 3), -np.inf, 3.0),
    ],
)
def test_half_open_intervals_leave_a_side_open(target, low, high):
    resolved = resolve_target(target, np.zeros(3), task="regression")
    np.testing.assert_array_equal(resolved.low, np.full(3, low))
    np.testing.assert_array_equal(resolved.high, np.full(3, high))
    met = resolved.is_met(np.array([-1e9, 20.0, 1e9]))
    expected = (np.array([-1e9, 20.0, 1e9]) >= low) & (
        np.array([-1e9, 20.0, 1e9]) <= high
    )
    np.testing.assert_array_equal(met, expected)


def test_per_row_intervals_may_be_open():
    target = np.array([[1.0, np.inf], [-np.inf, 2.0]])
    resolved = resolve_target(target, np.zeros(2), task="regression")
    assert resolved.is_met(np.array([1e12, -1e12])).all()


def test_a_list_of_per_row_intervals_and_values_reads_none_as_open():
    # As a user writes them: tuples with None for an open side, and a plain
    # value among them (read with the value target's tolerance).
    target = [(300, 320), (None, 250), (400, None), 330]
    resolved = resolve_target(target, np.zeros(4), task="regression", tolerance=2.0)
    np.testing.assert_array_equal(resolved.low, [300, -np.inf, 400, 328])
    np.testing.assert_array_equal(resolved.high, [320, 250, np.inf, 332])
    assert resolved.is_met(np.array([310, -1e9, 1e9, 331])).all()
    assert not resolved.is_met(np.array([321, 251, 399, 333])).any()


def test_two_intervals_for_two_rows_are_per_row_intervals():
    # A list of two for two rows is ambiguous only when it holds two values.
    for target in ([(300, 320), (None, 250)], [(300, 320), (400, 420)]):
        resolved = resolve_target(target, np.zeros(2), task="regression")
        assert resolved.high[0] == 320 and resolved.low[1] in (-np.inf, 400)


def test_per_row_entries_survive_slicing_like_any_per_row_target():
    # Chunks and rows left out slice the target: the list becomes an object
    # array of its entries, not numbers (None would become NaN, a mix fail).
    target = [(0, 1), 0.5, (None, 0.0), 1.0]
    entries = align_target(target, np.zeros((4, 2)))
    assert entries.dtype == object and entries.shape == (4,)
    part = resolve_target(entries[[1, 2]], np.zeros(2), task="regression")
    np.testing.assert_array_equal(part.low, [0.5, -np.inf])
    np.testing.assert_array_equal(part.high, [0.5, 0.0])
    # Lists numpy reads as numbers (probability rows, closed intervals) stay.
    assert align_target([(0.2, 0.8), (0.5, 0.5)], np.zeros((2, 2))) == [
        (0.2, 0.8),
        (0.5, 0.5),
    ]


@pytest.mark.parametrize(
    "target, message",
    [
        ([(1, 2), (None, 4)], r"one value or \(low, high\) interval per row \(3\)"),
        ([(1, 2), (True, None), 5], r"row 1, \(True, None\), is not a \(low"),
        ([(1, 2), (3,), 5], r"row 1, \(3,\), is not a \(low, high\)"),
        ([(1, 2), "x", 5], r"row 1, 'x', is neither a value"),
        ([(1, 2), (5, 3), 5], r"low > high \(5.0 > 3.0\) at row 1"),
    ],
)
def test_a_bad_list_of_per_row_targets_names_the_row(target, message):
    with pytest.raises(TargetError, match=message):
        resolve_target(target, np.zeros(3), task="regression")


@pytest.mark.parametrize(
    "target, message",
    [
        ((None, None), "at least one finite bound"),
        ((-np.inf, np.inf), "at least one finite bound"),
        ((np.inf, None), "cannot start at \\+inf"),
        ((None, -np.inf), "cannot start at \\+inf or end at -inf"),
        ((np.nan, 3.0), "not NaN"),
        (("a", 3.0), "half-open interval give None"),
    ],
)
def test_unusable_intervals_raise(target, message):
    with pytest.raises(TargetError, match=message):
        resolve_target(target, np.zeros(2), task="regression")


def test_an_open_side_conditions_at_the_end_of_the_output_range():
    resolved = resolve_target(
        np.array([[45.0, np.inf], [-np.inf, 10.0], [200.0, np.inf], [5.0, 7.0]]),
        np.zeros(4),
        task="regression",
    )
    condition = resolved.condition((0.0, 100.0))
    # (45, 100), (0, 10), the value 200 (beyond the range), (5, 7): middle
    # and half-width.
    np.testing.assert_allclose(
        condition, [[72.5, 27.5], [5.0, 5.0], [200.0, 0.0], [6.0, 1.0]]
    )
    with pytest.raises(TargetError, match="fit it again, or give both bounds"):
        resolved.condition()


def test_opposite_among_tied_classes_warns_and_takes_the_first():
    import warnings as _warnings

    from cfexplain import AmbiguousTargetWarning
    from cfexplain._targets import _opposite

    # Labels read as one-hot rows: the two other classes always tie.
    one_hot = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    with pytest.warns(AmbiguousTargetWarning, match="for 2 of 2 rows"):
        chosen = _opposite(one_hot)
    np.testing.assert_array_equal(chosen.argmax(axis=1), [0, 1])
    # Probabilities that tell the others apart say nothing.
    with _warnings.catch_warnings():
        _warnings.simplefilter("error", AmbiguousTargetWarning)
        chosen = _opposite(np.array([[0.1, 0.3, 0.6], [0.5, 0.2, 0.3]]))
    np.testing.assert_array_equal(chosen.argmax(axis=1), [1, 2])
