"""Sparsity (L0, L1) and MMD² on hand-computed and naive reference values."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

from cfexplain.exceptions import InvalidDataError
from cfexplain.metrics import class_conditional_mmd2, l0, l1, mmd2
from cfexplain.metrics._mmd import _median_bandwidth
from cfexplain.metrics._representation import OneHotStandardScaler, split_features


def three_rows():
    """Three originals and counterfactuals with known changes.

    row 0: color changes; hours moves by 1e-9 (within tolerance)
    row 1: age 40 -> 45, member False -> True
    row 2: hours 20 -> 25, member True -> False
    """
    X = pd.DataFrame(
        {
            "age": np.array([30, 40, 50], dtype="int64"),
            "hours": [40.0, 35.5, 20.0],
            "color": pd.Series(["red", "green", "blue"], dtype="str"),
            "member": [True, False, True],
        }
    )
    X_cf = pd.DataFrame(
        {
            "age": [30.0, 45.0, 50.0],
            "hours": [40.0 + 1e-9, 35.5, 25.0],
            "color": pd.Series(["blue", "green", "blue"], dtype="str"),
            "member": [True, True, False],
        }
    )
    return X, X_cf


def naive_mmd2(A, B, bandwidth=None):
    """Direct unbiased MMD² with full kernel matrices of exact differences."""
    pooled = np.concatenate([A, B])
    if bandwidth is None:
        diff = pooled[:, None, :] - pooled[None, :, :]
        distances = np.sqrt((diff**2).sum(axis=-1))
        bandwidth = np.median(distances[np.triu_indices(len(pooled), k=1)])

    def kernel(P, Q):
        d2 = ((P[:, None, :] - Q[None, :, :]) ** 2).sum(axis=-1)
        return np.exp(-d2 / (2 * bandwidth**2))

    m, n = len(A), len(B)
    k_xx, k_yy, k_xy = kernel(A, A), kernel(B, B), kernel(A, B)
    return (
        (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
        + (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
        - 2 * k_xy.mean()
    )


def mixed_frame(n, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(shift, 1.0, size=n),
            "y": rng.normal(10.0, 5.0, size=n),
            "kind": pd.Series(rng.choice(["a", "b", "c"], size=n), dtype="str"),
            "flag": rng.random(n) > 0.5,
            "level": pd.Categorical(rng.choice(["lo", "hi"], size=n)),
        }
    )


# --------------------------------------------------------------------------- L0


def test_l0_hand_computed():
    X, X_cf = three_rows()
    assert l0(X, X_cf) == pytest.approx(5 / 3)
    assert l0(X, X_cf, features="categorical") == pytest.approx(1.0)
    assert l0(X, X_cf, features="numerical") == pytest.approx(2 / 3)
    per_row = l0(X, X_cf, reduce=None)
    assert per_row.dtype == np.int64
    assert per_row.tolist() == [1, 2, 2]
    assert l0(X, X_cf, features="categorical", reduce=None).tolist() == [1, 1, 1]
    assert l0(X, X_cf, features="numerical", reduce=None).tolist() == [0, 1, 1]


def test_l0_tolerance():
    X = np.array([[0.0, 1000.0]])
    X_cf = np.array([[1e-7, 1000.001]])
    # 1e-7 > 1e-8 counts; 0.001 <= 1e-8 + 1e-5 * 1000 does not
    assert l0(X, X_cf, reduce=None).tolist() == [1]
    assert l0(X, X_cf, atol=1e-6) == 0.0
    assert l0(X, X_cf, rtol=0.0) == 2.0


def test_l0_categorical_missing_and_dtypes():
    X = pd.DataFrame(
        {
            "c": pd.Categorical(["a", None, "b", None]),
            "s": pd.Series(["x", "y", None, "z"], dtype="object"),
        }
    )
    X_cf = pd.DataFrame(
        {
            "c": pd.Series(["a", None, None, "a"], dtype="str"),
            "s": pd.Series(["x", "q", None, "z"], dtype="str"),
        }
    )
    # missing equals missing; a category compares equal to the same string
    assert l0(X, X_cf, reduce=None).tolist() == [0, 1, 1, 1]


def test_l0_categorical_features_override():
    X, X_cf = three_rows()
    counts = l0(X, X_cf, features="categorical", categorical_features=["age", "color"])
    assert counts == pytest.approx(2 / 3)  # age in row 1, color in row 0
    # member is then numerical (bool -> 0/1)
    assert l0(
        X, X_cf, features="numerical", categorical_features=["color"], reduce=None
    ).tolist() == [0, 2, 2]


def test_l0_no_feature_of_the_kind():
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert l0(X, X + 1, features="categorical") == 0.0


def test_l0_columns_matched_by_name_and_arrays_read_with_frame_columns():
    X, X_cf = three_rows()
    reordered = X_cf[["member", "color", "hours", "age"]]
    assert l0(X, reordered, reduce=None).tolist() == [1, 2, 2]
    as_array = X_cf.to_numpy(dtype=object)
    assert l0(X, as_array, reduce=None).tolist() == [1, 2, 2]
    # the index is ignored: rows are paired by position
    assert l0(X, X_cf.set_axis([7, 8, 9]), reduce=None).tolist() == [1, 2, 2]


def test_l0_images_flattened():
    X = np.zeros((4, 2, 3, 3))
    X_cf = X.copy()
    X_cf[1, 0, 0, 0] = 1.0
    X_cf[2, 1] = 2.0
    assert l0(X, X_cf, reduce=None).tolist() == [0, 1, 9, 0]


# --------------------------------------------------------------------------- L1


def test_l1_hand_computed_with_reference():
    X, X_cf = three_rows()
    reference = pd.DataFrame(
        {
            "age": [0.0, 10.0],  # population std 5
            "hours": [0.0, 4.0],  # population std 2
            "color": ["red", "blue"],
            "member": [True, False],
            "label": [0, 1],  # extra reference columns are ignored
        }
    )
    tiny = (40.0 + 1e-9) - 40.0  # the float64 change of row 0
    # row 0: tiny / 2 / 2; row 1: (5 / 5) / 2; row 2: (5 / 2) / 2
    per_row = l1(X, X_cf, reference=reference, reduce=None)
    np.testing.assert_allclose(per_row, [tiny / 4, 0.5, 1.25], rtol=1e-12)
    assert l1(X, X_cf, reference=reference) == pytest.approx((tiny / 4 + 1.75) / 3)


def test_l1_reference_defaults_to_x():
    X, X_cf = three_rows()
    std_age = np.std([30.0, 40.0, 50.0])
    std_hours = np.std([40.0, 35.5, 20.0])
    tiny = (40.0 + 1e-9) - 40.0
    expected = np.array([tiny / std_hours, 5 / std_age, 5 / std_hours]).sum() / 6
    assert l1(X, X_cf) == pytest.approx(expected, rel=1e-12)


def test_l1_zero_std_uses_one_and_arrays_flattened():
    X = np.zeros((3, 2, 2))
    X_cf = np.full((3, 2, 2), 0.5)
    # every feature is constant in X: std 0 -> 1
    assert l1(X, X_cf) == pytest.approx(0.5)
    reference = np.arange(8.0).reshape(2, 2, 2)  # std 2 for every feature
    assert l1(X, X_cf, reference=reference) == pytest.approx(0.25)
    assert l1(X, X_cf, reference=reference.reshape(2, 4)) == pytest.approx(0.25)


def test_l1_without_numerical_features_is_nan():
    X = pd.DataFrame({"c": ["a", "b"]})
    assert np.isnan(l1(X, X.assign(c=["b", "b"])))
    assert np.isnan(l1(X, X, reduce=None)).all()


# ------------------------------------------------------------- validation errors


@pytest.mark.parametrize(
    ("X_cf", "match"),
    [
        (
            lambda X_cf: X_cf.drop(columns="color"),
            r"X_cf is missing columns \['color'\]",
        ),
        (lambda X_cf: X_cf.assign(extra=1), r"X_cf has columns \['extra'\]"),
        (lambda X_cf: X_cf.iloc[:2], "X has 3 rows but X_cf has 2"),
        (
            lambda X_cf: X_cf.assign(hours=[1.0, np.nan, 2.0]),
            r"X_cf has NaN or infinite values in columns \['hours'\]",
        ),
        (lambda X_cf: X_cf.assign(age=["1", "x", "3"]), "column 'age' of X_cf"),
        (lambda X_cf: X_cf.to_numpy()[:, :3], "array with 3 features per row"),
        (lambda X_cf: X_cf["age"], "pandas Series"),
    ],
)
def test_sparsity_errors(X_cf, match):
    X, good = three_rows()
    for metric in (l0, l1):
        with pytest.raises(InvalidDataError, match=match):
            metric(X, X_cf(good))


def test_sparsity_array_errors_and_parameters():
    X = np.ones((3, 2))
    with pytest.raises(InvalidDataError, match="at least 2 dimensions"):
        l0(np.ones(3), np.ones(3))
    with pytest.raises(InvalidDataError, match="X_cf has 3 features per row but X"):
        l1(X, np.ones((3, 3)))
    with pytest.raises(InvalidDataError, match="no rows"):
        l0(np.ones((0, 2)), np.ones((0, 2)))
    with pytest.raises(InvalidDataError, match="must be numeric"):
        l0(X.astype(str), X.astype(str))
    with pytest.raises(InvalidDataError, match="reference is missing columns"):
        l1(pd.DataFrame(X, columns=["a", "b"]), X, reference=pd.DataFrame({"a": [1]}))
    with pytest.raises(ValueError, match="features must be one of"):
        l0(X, X, features="some")
    with pytest.raises(ValueError, match="reduce must be one of"):
        l1(X, X, reduce="sum")
    with pytest.raises(ValueError, match="atol must be a non-negative"):
        l0(X, X, atol=-1.0)


def test_split_features():
    X = mixed_frame(5, 0).assign(
        n=np.arange(5), o=pd.Series(list("abcde"), dtype=object)
    )
    assert split_features(X) == (["kind", "flag", "level", "o"], ["x", "y", "n"])
    assert split_features(X[["x", "n"]], categorical_features=["n"]) == (["n"], ["x"])
    assert split_features(np.ones((2, 3)), categorical_features=[2]) == ([2], [0, 1])
    with pytest.raises(InvalidDataError, match=r"\['nope'\] are not columns"):
        split_features(X, categorical_features=["nope"])
    # Text is dtype str under pandas 3 and object before.
    with pytest.raises(
        InvalidDataError, match="'kind' has dtype (str|object) but is not in"
    ):
        split_features(X, categorical_features=["flag"])
    with pytest.raises(InvalidDataError, match=r"\[3\] are not feature positions"):
        split_features(np.ones((2, 3)), categorical_features=[3])
    with pytest.raises(InvalidDataError, match="neither numerical nor categorical"):
        split_features(pd.DataFrame({"t": pd.date_range("2020", periods=2)}))
    with pytest.raises(ValueError, match="list of column names"):
        split_features(X, categorical_features="kind")


# ----------------------------------------------------------------- representation


def test_representation_one_hot_and_z_scores():
    reference = pd.DataFrame(
        {"age": [20.0, 40.0], "const": [3.0, 3.0], "job": ["a", "b"]}
    )
    rep = OneHotStandardScaler().fit(reference)
    assert rep.categorical_features_ == ["job"]
    assert rep.numerical_features_ == ["age", "const"]
    assert rep.n_output_features_ == 4
    out = rep.transform(
        pd.DataFrame({"job": ["b", "zzz"], "age": [50.0, 30.0], "const": [4.0, 3.0]})
    )
    assert out.dtype == np.float64
    # one-hot (unknown -> zeros), then (x - 30) / 10 and (x - 3) / 1
    np.testing.assert_allclose(out, [[0, 1, 2.0, 1.0], [0, 0, 0.0, 0.0]])
    with pytest.raises(InvalidDataError, match=r"X is missing columns \['job'\]"):
        rep.transform(reference[["age", "const"]])


def test_representation_arrays_and_mixed_categories():
    rep = OneHotStandardScaler().fit(np.array([[0.0, 1.0], [2.0, 1.0]]))
    np.testing.assert_allclose(rep.transform(np.array([[1.0, 5.0]])), [[0.0, 4.0]])
    with pytest.raises(InvalidDataError, match="2 features per row"):
        rep.transform(np.ones((1, 3)))
    mixed = pd.DataFrame({"c": pd.Series(["a", 1, "b"], dtype=object)})
    with pytest.raises(InvalidDataError, match=r"columns \['c'\] of reference mix"):
        OneHotStandardScaler().fit(mixed)


# --------------------------------------------------------------------------- MMD²


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mmd2_matches_naive_on_arrays(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(23, 4)) * [1, 2, 3, 4] + 100.0
    Y = rng.normal(0.5, 1.5, size=(31, 4)) * [1, 2, 3, 4] + 100.0
    expected = naive_mmd2(X, Y)  # encode=False: the values as they are
    assert mmd2(X, Y, encode=False) == pytest.approx(expected, abs=1e-10)
    encoded = OneHotStandardScaler().fit(Y)
    expected = naive_mmd2(encoded.transform(X), encoded.transform(Y))
    assert mmd2(X, Y) == pytest.approx(expected, abs=1e-10)
    assert mmd2(X, Y, bandwidth=0.7) == pytest.approx(
        naive_mmd2(encoded.transform(X), encoded.transform(Y), bandwidth=0.7),
        abs=1e-10,
    )


def test_mmd2_matches_naive_on_mixed_frames():
    X, Y, reference = (
        mixed_frame(25, 0, shift=0.5),
        mixed_frame(30, 1),
        mixed_frame(40, 2),
    )
    rep = OneHotStandardScaler().fit(reference)
    expected = naive_mmd2(rep.transform(X), rep.transform(Y))
    assert mmd2(X, Y, reference=reference) == pytest.approx(expected, abs=1e-10)
    rep = OneHotStandardScaler().fit(Y)  # the default reference is Y
    expected = naive_mmd2(rep.transform(X), rep.transform(Y))
    assert mmd2(X, Y) == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("block_size", [1, 2, 5, 16, 10_000])
def test_mmd2_block_size_invariance(block_size):
    X, Y = mixed_frame(37, 3, shift=1.0), mixed_frame(29, 4)
    assert mmd2(X, Y, block_size=block_size) == pytest.approx(mmd2(X, Y), abs=1e-12)


def test_mmd2_same_distribution_near_zero_and_shift_larger():
    Y = mixed_frame(400, 5)
    same = mmd2(mixed_frame(400, 6), Y)
    shifted = mmd2(mixed_frame(400, 7, shift=1.5), Y)
    assert abs(same) < 0.01
    assert shifted > 0.1
    assert shifted > 20 * abs(same)
    # a sample against itself: the unbiased estimate is slightly negative
    itself = mmd2(Y, Y)
    assert -2 / len(Y) < itself < 0


def test_mmd2_format_invariance_and_reference():
    X, Y = mixed_frame(30, 8, shift=0.5), mixed_frame(30, 9)
    X_num, Y_num = X[["x", "y"]], Y[["x", "y"]]
    frame_value = mmd2(X_num, Y_num)
    assert mmd2(X_num.to_numpy(), Y_num.to_numpy()) == pytest.approx(frame_value)
    assert mmd2(X, Y) == mmd2(X, Y, reference=Y)
    assert mmd2(X, Y, reference=X) != pytest.approx(mmd2(X, Y))
    # an array next to a frame is read with the frame's columns
    assert mmd2(X.to_numpy(dtype=object), Y) == pytest.approx(mmd2(X, Y))
    # unseen categories are all-zero one-hot blocks, not errors
    unseen = X.assign(kind=pd.Series(["new"] * len(X), dtype="str"))
    assert mmd2(unseen, Y) > mmd2(X, Y)


def test_mmd2_categorical_positions_on_arrays():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=20), rng.integers(0, 3, size=20)])
    Y = np.column_stack([rng.normal(size=25), rng.integers(0, 3, size=25)])
    frame = mmd2(
        pd.DataFrame(X, columns=["a", "b"]),
        pd.DataFrame(Y, columns=["a", "b"]),
        categorical_features=["b"],
    )
    assert mmd2(X, Y, categorical_features=[1]) == pytest.approx(frame, abs=1e-12)


def test_median_bandwidth_subsample_is_deterministic_and_close():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(1500, 3)), rng.normal(size=(1500, 3))
    first, second = _median_bandwidth(A, B), _median_bandwidth(A, B)
    assert first == second
    exact = np.median(np.sqrt(((A[:300, None] - B[None, :300]) ** 2).sum(-1)))
    assert first == pytest.approx(exact, rel=0.05)
    small = rng.normal(size=(10, 2))
    distances = np.sqrt(((small[:, None] - small[None]) ** 2).sum(-1))
    assert _median_bandwidth(small[:4], small[4:]) == pytest.approx(
        np.median(distances[np.triu_indices(10, k=1)])
    )


def test_mmd2_duplicated_rows():
    X = np.ones((5, 2))
    assert mmd2(X, X, encode=False) == 0.0
    # most distances are 0: the median of the positive ones is the bandwidth
    X = np.vstack([np.zeros((8, 1)), [[1.0]]])
    Y = np.vstack([np.zeros((8, 1)), [[2.0]]])
    assert _median_bandwidth(X, Y) == pytest.approx(1.0)
    assert np.isfinite(mmd2(X, Y))


def test_mmd2_errors():
    X = mixed_frame(10, 0)
    with pytest.raises(InvalidDataError, match="X has 1 rows; the unbiased MMD"):
        mmd2(X.iloc[:1], X)
    with pytest.raises(InvalidDataError, match="Y has 0 rows"):
        mmd2(X, X.iloc[:0])
    with pytest.raises(InvalidDataError, match="X has 0 rows"):
        mmd2(np.ones((0, 2)), np.ones((3, 2)))
    with pytest.raises(InvalidDataError, match="reference has no rows"):
        mmd2(X, X, reference=X.iloc[:0])
    with pytest.raises(InvalidDataError, match=r"Y is missing columns \['flag'\]"):
        mmd2(X, X.drop(columns="flag"))
    with pytest.raises(InvalidDataError, match=r"reference is missing columns"):
        mmd2(X, X, reference=X[["x"]])
    with pytest.raises(InvalidDataError, match="encode=False needs numerical"):
        mmd2(X, X, encode=False)
    with pytest.raises(InvalidDataError, match="infinite values in columns"):
        mmd2(X.assign(x=np.inf), X)
    with pytest.raises(ValueError, match="bandwidth must be"):
        mmd2(X, X, bandwidth=0.0)
    with pytest.raises(ValueError, match="block_size must be"):
        mmd2(X, X, block_size=0)
    with pytest.raises(ValueError, match="encode must be"):
        mmd2(X, X, encode="auto")


# ----------------------------------------------------------- class-conditional MMD²


def test_class_conditional_mmd2_values_keys_and_nan():
    X_ref, X_cf = mixed_frame(60, 10), mixed_frame(40, 11, shift=0.5)
    labels_ref = np.where(X_ref["x"].to_numpy() > 0, 1, 0)
    labels_cf = np.array([0] * 30 + [1] * 9 + [2])
    scores = class_conditional_mmd2(X_cf, X_ref, labels_cf, labels_ref)
    assert list(scores) == [0, 1, 2]
    assert all(type(key) is int for key in scores)
    assert np.isnan(scores[2])  # one counterfactual, no reference row
    for c in (0, 1):
        # same representation (fitted on all of X_ref), bandwidth of the pair
        expected = mmd2(X_cf[labels_cf == c], X_ref[labels_ref == c], reference=X_ref)
        assert scores[c] == pytest.approx(expected, abs=1e-12)


def test_class_conditional_mmd2_classes_and_labels():
    rng = np.random.default_rng(0)
    X_ref, X_cf = rng.normal(size=(50, 3)), rng.normal(size=(20, 3))
    labels_ref = pd.Series(rng.choice(["no", "yes"], size=50))
    labels_cf = ["yes"] * 19 + ["no"]
    scores = class_conditional_mmd2(
        X_cf, X_ref, labels_cf, labels_ref, classes=np.array(["yes", "no", "maybe"])
    )
    assert list(scores) == ["yes", "no", "maybe"]
    assert np.isfinite(scores["yes"])
    assert np.isnan(scores["no"]) and np.isnan(scores["maybe"])
    fixed = class_conditional_mmd2(
        X_cf, X_ref, labels_cf, labels_ref, bandwidth=2.0, encode=False
    )
    mask = labels_ref.to_numpy() == "yes"
    assert fixed["yes"] == pytest.approx(
        naive_mmd2(X_cf[:19], X_ref[mask], bandwidth=2.0), abs=1e-10
    )
    empty = class_conditional_mmd2(X_cf[:0], X_ref, [], labels_ref)
    assert list(empty) == ["no", "yes"] and np.isnan(list(empty.values())).all()
    with pytest.raises(InvalidDataError, match="labels_cf has 3 labels for 20 rows"):
        class_conditional_mmd2(X_cf, X_ref, [0, 1, 0], labels_ref)
    with pytest.raises(InvalidDataError, match="labels_ref must be 1-D"):
        class_conditional_mmd2(X_cf, X_ref, labels_cf, np.ones((50, 2)))


# -------------------------------------------------------------- inputs untouched


def test_inputs_not_mutated():
    X, X_cf = three_rows()
    reference = mixed_frame(5, 0)
    frames = [X, X_cf]
    copies = [frame.copy(deep=True) for frame in frames]
    l0(X, X_cf)
    l1(X, X_cf, reference=X)
    mmd2(X_cf, X, reference=X)
    class_conditional_mmd2(X_cf, X, [0, 0, 1], [0, 0, 1])
    for frame, copy in zip(frames, copies, strict=True):
        pd.testing.assert_frame_equal(frame, copy)
    arrays = [np.random.default_rng(0).normal(size=(6, 2, 2)) for _ in range(2)]
    array_copies = [array.copy() for array in arrays]
    l0(*arrays)
    l1(*arrays)
    mmd2(*arrays)
    mmd2(*arrays, encode=False)
    for array, copy in zip(arrays, array_copies, strict=True):
        np.testing.assert_array_equal(array, copy)
    ref_copy = reference.copy(deep=True)
    OneHotStandardScaler().fit(reference).transform(reference)
    pd.testing.assert_frame_equal(reference, ref_copy)


@settings(deadline=None, max_examples=30)
@given(
    data_frames(
        [
            column("num", elements=st.floats(-1e6, 1e6), dtype=float),
            column("cat", elements=st.sampled_from(["a", "b", "c"]), dtype=object),
            column("flag", elements=st.booleans(), dtype=bool),
        ],
        index=range_indexes(min_size=2, max_size=12),
    )
)
def test_identical_rows_change_nothing(X):
    copy = X.copy(deep=True)
    assert l0(X, X) == 0.0
    assert l1(X, X.copy()) == 0.0
    assert np.isfinite(mmd2(X, X))
    pd.testing.assert_frame_equal(X, copy)
