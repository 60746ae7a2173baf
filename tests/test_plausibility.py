"""Counterfactuals bring in no pair of categories the training data never shows."""

import numpy as np
import pandas as pd
import pytest
from cf_testing import FAST, FAST_AUTOENCODER
from hypothesis import given, settings
from hypothesis import strategies as st

from cfexplain import CounterfactualAE, CounterfactualCVAE, CounterfactualGAN
from cfexplain._plausibility import MIN_EXPECTED_ROWS, CategoryPairs
from cfexplain.exceptions import InvalidDataError
from cfexplain.preprocessing import TabularEncoder

EXPLAINERS = {
    "gan": lambda **kw: CounterfactualGAN(**{**FAST, **kw}),
    "ae": lambda **kw: CounterfactualAE(**{**FAST_AUTOENCODER, **kw}),
    "cvae": lambda **kw: CounterfactualCVAE(
        prediction_weight=1.0, **{**FAST_AUTOENCODER, **kw}
    ),
}


def make_households(n=240, seed=0):
    """Status and role always agree in the data (married spouse, single child)."""
    rng = np.random.RandomState(seed)
    married = rng.rand(n) > 0.5
    return pd.DataFrame(
        {
            "x": rng.normal(size=n).round(2),
            "status": np.where(married, "married", "single"),
            "role": np.where(married, "spouse", "child"),
            "job": rng.choice(["a", "b", "c"], size=n),
        }
    )


def status_proba(X):
    """A classifier that looks at the status only: changing it alone flips it."""
    married = X["status"].to_numpy() == "married"
    p = 1 / (1 + np.exp(-(4.0 * married - 2.0 + 0.1 * X["x"].to_numpy())))
    return np.column_stack([1 - p, p])


def unseen_pairs(X_cf):
    return ((X_cf["status"] == "married") & (X_cf["role"] == "child")) | (
        (X_cf["status"] == "single") & (X_cf["role"] == "spouse")
    )


@pytest.fixture(scope="module")
def households():
    X = make_households()
    return X, X[X["status"] == "single"]


@pytest.mark.parametrize("name", EXPLAINERS)
def test_answers_hold_only_pairs_the_data_shows(households, name):
    X, singles = households
    unchecked = EXPLAINERS[name](plausible_categories=False).fit(X, status_proba)
    X_unchecked = unchecked.transform(singles)
    # The shortest valid change is the status alone: a married child.
    assert unseen_pairs(X_unchecked).all()
    checked = EXPLAINERS[name]().fit(X, status_proba)
    X_cf = checked.transform(singles)
    assert not unseen_pairs(X_cf).any()
    assert (status_proba(X_cf)[:, 1] > 0.5).all()


def test_without_a_plausible_answer_the_valid_one_stays(households):
    # With the role immutable no valid answer is plausible: the check must
    # not cost validity.
    X, singles = households
    explainer = CounterfactualGAN(**FAST).fit(X, status_proba)
    X_cf = explainer.transform(singles, immutable=["role"])
    assert (status_proba(X_cf)[:, 1] > 0.5).all()
    assert (X_cf["role"] == singles["role"]).all()


def test_explain_answers_hold_only_seen_pairs(households):
    X, singles = households
    explainer = CounterfactualGAN(**FAST).fit(X, status_proba)
    explanation = explainer.explain(singles.iloc[:20], n_counterfactuals=2)
    frame = explanation.to_frame()
    answers = frame[frame["valid"]]
    assert len(answers) and not unseen_pairs(answers).any()


def test_an_original_s_own_unseen_pair_does_not_count():
    # 20 rows of each seen pair: independence would put 10 in each unseen one.
    codes = np.repeat(np.array([[0, 0], [1, 1]]), 20, axis=0)
    pairs = CategoryPairs(codes, [2, 2])
    odd = np.array([[0, 1], [0, 1], [1, 0]])
    counterfactuals = np.array([[0, 1], [1, 1], [1, 0]])
    # Row 0 keeps its original's unseen pair; row 1 leaves it for a seen
    # one; row 2's original holds (1, 0) too.
    assert pairs.introduced_unseen(odd, counterfactuals).tolist() == [
        False,
        False,
        False,
    ]
    originals = np.array([[0, 0], [1, 1]])
    assert pairs.introduced_unseen(originals, np.array([[0, 1], [1, 0]])).all()


def test_pairs_of_rare_categories_are_absent_by_chance():
    # Category 2 of each feature holds 2 of 100 rows: independence expects
    # 0.04 rows of (2, 2), under MIN_EXPECTED_ROWS, so its absence says
    # nothing; (0, 1) is expected in 24 rows and absent.
    codes = np.array([[0, 0]] * 49 + [[1, 1]] * 49 + [[2, 0], [0, 2]])
    pairs = CategoryPairs(codes, [3, 3])
    originals = np.array([[1, 1], [1, 1], [1, 1]])
    flagged = pairs.introduced_unseen(originals, np.array([[2, 2], [0, 1], [1, 0]]))
    assert flagged.tolist() == [False, True, True]
    assert MIN_EXPECTED_ROWS == 5


@settings(max_examples=50, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda k: st.lists(
            st.lists(st.integers(0, k - 1), min_size=3, max_size=3),
            min_size=1,
            max_size=30,
        ).map(lambda rows: (k, np.array(rows)))
    ),
    st.data(),
)
def test_training_rows_are_never_flagged(training, data):
    k, codes = training
    pairs = CategoryPairs(codes, [k, k, k])
    originals = np.array(
        data.draw(
            st.lists(
                st.lists(st.integers(0, k - 1), min_size=3, max_size=3),
                min_size=len(codes),
                max_size=len(codes),
            )
        )
    )
    assert not pairs.introduced_unseen(originals, codes).any()


def test_category_codes_agree_for_string_and_object_columns():
    X = make_households(n=50)
    encoder = TabularEncoder().fit(X)
    as_objects = X.astype({"status": object, "role": object, "job": object})
    codes = encoder.category_codes(X)
    np.testing.assert_array_equal(codes, encoder.category_codes(as_objects))
    assert codes.shape == (50, 3) and codes.dtype == np.int64
    for j, name in enumerate(encoder.categorical_features_):
        np.testing.assert_array_equal(
            encoder.categories_[name][codes[:, j]], X[name].to_numpy(dtype=object)
        )
    unseen = X.iloc[:3].copy()
    unseen.loc[unseen.index[0], "job"] = "z"
    with pytest.raises(InvalidDataError, match="'z' not seen during fit"):
        encoder.category_codes(unseen)


def test_explainers_fit_before_the_check_answer_as_before(households):
    # An explainer pickled before the check existed has no category pairs.
    X, singles = households
    explainer = CounterfactualGAN(**FAST).fit(X, status_proba)
    del explainer.adapter_.category_pairs_
    X_cf = explainer.transform(singles)
    assert len(X_cf) == len(singles)


def test_keys_read_off_the_encoding_are_the_category_codes(households):
    X, _ = households
    explainer = CounterfactualGAN(**FAST).fit(X, status_proba)
    adapter, encoder = explainer.adapter_, explainer.encoder_
    keys = adapter.plausibility_keys(encoder.transform(X))
    np.testing.assert_array_equal(keys, encoder.category_codes(X))
    assert keys.dtype == np.int64
