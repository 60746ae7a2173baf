"""Counterfactuals bring in no pair of categories the training data lack."""

import warnings

import numpy as np
import pandas as pd
import pytest
from cf_testing import FAST, FAST_AUTOENCODER
from hypothesis import given, settings
from hypothesis import strategies as st

from cfexplain import (
    CounterfactualAE,
    CounterfactualCVAE,
    CounterfactualGAN,
    ImplausibleCounterfactualWarning,
    UnreachedTargetWarning,
)
from cfexplain._plausibility import (
    MIN_EXPECTED_ROWS,
    RARE_FRACTION,
    CategoryPairs,
    number_range_edges,
)
from cfexplain.exceptions import InvalidDataError
from cfexplain.metrics import unseen_category_pairs
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


def test_a_pair_the_data_hold_only_as_an_error_is_repaired_too():
    # 800 households and one married child, where independence predicts
    # about 200: the explainer treats the pair as lacking, as if absent.
    X = make_households(n=800)
    X.loc[0, ["status", "role"]] = ["married", "child"]
    singles = X[X["status"] == "single"].iloc[:40]
    explainer = CounterfactualGAN(**FAST).fit(X, status_proba)
    X_cf = explainer.transform(singles)
    assert (status_proba(X_cf)[:, 1] > 0.5).all()
    assert not unseen_pairs(X_cf).any()
    assert unseen_category_pairs(singles, X_cf, X) == 0.0


def test_without_a_plausible_answer_the_valid_one_stays(households):
    # With the role immutable no valid answer is plausible: the check must
    # not cost validity.
    # It is reported: every answer is a married child, and transform says
    # so; without the constraint no answer keeps a lacking pair, and no
    # warning comes.
    X, singles = households
    explainer = CounterfactualGAN(**FAST).fit(X, status_proba)
    with pytest.warns(ImplausibleCounterfactualWarning) as record:
        X_cf = explainer.transform(singles, immutable=["role"])
    assert (status_proba(X_cf)[:, 1] > 0.5).all()
    assert (X_cf["role"] == singles["role"]).all()
    n = int(unseen_pairs(X_cf).sum())
    assert n == len(singles)
    assert str(record[0].message).startswith(f"{n} of {len(singles)} counterfactuals")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImplausibleCounterfactualWarning)
        explainer.transform(singles)
        explainer.set_params(plausible_categories=False)
        explainer.transform(singles, immutable=["role"])


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


def test_a_pair_held_far_below_its_expected_rows_counts_as_unseen():
    # 2,000 rows: (0, 0) and (1, 1) in 999 each, (0, 1) in 2 (a data
    # error, expected in ~500 were the features independent: 0.4 %), and
    # (1, 0) absent. Both count; at 0.2 % the pair held by 2 rows does not.
    codes = np.array([[0, 0]] * 999 + [[1, 1]] * 999 + [[0, 1]] * 2)
    originals = np.array([[1, 1], [0, 0]])
    counterfactuals = np.array([[0, 1], [1, 0]])
    pairs = CategoryPairs(codes, [2, 2])
    assert pairs.introduced_unseen(originals, counterfactuals).tolist() == [True, True]
    assert RARE_FRACTION == 0.01
    # The two training rows that hold the rare pair hold an unseen pair.
    assert np.flatnonzero(pairs.holds_unseen(codes)).tolist() == [1998, 1999]
    for fraction in (0.0, 0.002):
        absent_only = CategoryPairs(codes, [2, 2], rare_fraction=fraction)
        flagged = absent_only.introduced_unseen(originals, counterfactuals)
        assert flagged.tolist() == [False, True]


def test_metric_takes_the_rare_fraction():
    reference = pd.DataFrame(
        {"a": ["x"] * 999 + ["y"] * 999 + ["x"] * 2, "b": ["u"] * 999 + ["v"] * 1001}
    )
    X = pd.DataFrame({"a": ["y"], "b": ["v"]})
    X_cf = pd.DataFrame({"a": ["x"], "b": ["v"]})
    assert unseen_category_pairs(X, X_cf, reference) == 1.0
    assert unseen_category_pairs(X, X_cf, reference, rare_fraction=0) == 0.0


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
def test_small_tables_never_flag_their_training_rows(training, data):
    # Up to 30 rows: no pair is expected in 100 rows or more, so only
    # absent pairs count (RARE_FRACTION), and every training row's pairs are
    # present.
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


def test_explain_marks_answers_that_keep_a_lacking_pair(households):
    X, singles = households
    explainer = CounterfactualGAN(**FAST).fit(X, status_proba)
    rows = singles.iloc[:5]
    kept = explainer.explain(rows, immutable=["role"], n_counterfactuals=2)
    assert kept.plausible.shape == (5, 2)
    frame = kept.to_frame()
    np.testing.assert_array_equal(frame["plausible"], ~unseen_pairs(frame))
    assert not kept.plausible[:, 0].any()
    assert "brings in a category pair the data lack" in str(kept)
    free = explainer.explain(rows)
    assert free.plausible.all() and "category pair" not in str(free)
    explainer.set_params(plausible_categories=False)
    unchecked = explainer.explain(rows)
    assert unchecked.plausible is None
    assert "plausible" not in unchecked.to_frame().columns


def test_explain_marks_every_answer_plausible_where_no_pair_lacks():
    # Independent categories: the training rows hold every pair, so no
    # answer can bring one in; the mask says so rather than None.
    rng = np.random.RandomState(0)
    X = pd.DataFrame(
        {
            "x": rng.normal(size=240).round(2),
            "a": rng.choice(["a0", "a1"], 240),
            "b": rng.choice(["b0", "b1", "b2"], 240),
        }
    )

    def x_proba(frame):
        p = 1 / (1 + np.exp(-4.0 * frame["x"].to_numpy()))
        return np.column_stack([1 - p, p])

    explainer = CounterfactualGAN(**FAST).fit(X, x_proba)
    explanation = explainer.explain(X.iloc[:4], n_counterfactuals=2)
    assert explanation.plausible.shape == (4, 2) and explanation.plausible.all()
    explainer.set_params(plausible_categories=False)
    assert explainer.explain(X.iloc[:4]).plausible is None


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
    n_categorical = len(encoder.categorical_features_)
    np.testing.assert_array_equal(keys[:, :n_categorical], encoder.category_codes(X))
    # Then the number's range, read off its encoding as off the rows.
    edges = adapter.number_range_edges_[0]
    np.testing.assert_array_equal(
        keys[:, n_categorical], np.searchsorted(edges, X["x"], side="right")
    )
    assert keys.dtype == np.int64


def test_number_ranges_cut_halfway_between_training_values():
    values = np.repeat(np.arange(18, 70), 3).astype(float)
    edges = number_range_edges(values, n_ranges=4)
    assert len(edges) == 3
    assert np.all(edges % 1 == 0.5)  # between whole numbers
    ranges = np.searchsorted(edges, values, side="right")
    np.testing.assert_array_equal(np.bincount(ranges), [39, 39, 39, 39])
    # A count that is mostly 0 gets the ranges its values allow.
    counts = np.r_[np.zeros(95), np.arange(1, 6)]
    np.testing.assert_array_equal(number_range_edges(counts), [0.5])
    assert len(number_range_edges(np.full(10, 3.0))) == 0


def test_numbers_pair_with_categories_not_with_each_other():
    # Columns 0 and 1 are numbers' ranges, 2 a category; range 0 of each
    # number never meets range 1 of the other, nor category 1.
    rows = np.array([[0, 0, 0]] * 40 + [[1, 1, 1]] * 40)
    pairs = CategoryPairs(rows, [2, 2, 2], numeric_columns=[0, 1])
    assert {(i, j) for i, j, *_ in pairs.pairs_} == {(0, 2), (1, 2)}
    assert pairs.holds_unseen(np.array([[0, 0, 0], [0, 0, 1]])).tolist() == [
        False,
        True,
    ]


def make_ages(n=1200, seed=0):
    """A band derived from the age, as COMPAS's age category is."""
    rng = np.random.RandomState(seed)
    age = rng.randint(18, 70, size=n)
    return pd.DataFrame(
        {
            "age": age,
            "band": np.where(age < 30, "young", "older"),
            "x": rng.normal(size=n).round(2),
        }
    )


def age_proba(X):
    """A classifier of the age alone: class 1 from about 40."""
    p = 1 / (1 + np.exp(-(X["age"].to_numpy() - 40.0) / 3.0))
    return np.column_stack([1 - p, p])


@pytest.mark.parametrize("name", EXPLAINERS)
def test_a_band_derived_from_a_number_stays_consistent(name):
    X = make_ages()
    young = X[X["age"] < 26].iloc[:20]
    explainer = EXPLAINERS[name]().fit(X, age_proba)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exp = explainer.explain(young)
    answers = exp.counterfactuals.xs(0, level="counterfactual")
    consistent = answers["band"].eq(np.where(answers["age"] < 30, "young", "older"))
    # Every answer marked plausible is consistent; the valid ones are
    # plausible wherever some answer could be.
    assert consistent[exp.plausible[:, 0]].all()
    assert consistent[exp.valid[:, 0]].mean() >= 0.9


# -- the metric: cfexplain.metrics.unseen_category_pairs --------------------------


def test_metric_counts_answers_bringing_in_an_unseen_pair(households):
    X, singles = households
    originals = singles.iloc[:4]
    answers = originals.copy()
    # A married child (unseen), a married spouse (seen), a single child
    # (the original itself), a job change only (seen).
    answers["status"] = ["married", "married", "single", "single"]
    answers["role"] = ["child", "spouse", "child", "child"]
    answers["job"] = ["a", "a", originals["job"].iloc[2], "c"]
    flagged = unseen_category_pairs(originals, answers, X, reduce=None)
    assert flagged.dtype == bool and flagged.tolist() == [True, False, False, False]
    assert unseen_category_pairs(originals, answers, X) == 0.25


def test_metric_agrees_with_the_explainers_check(households):
    X, singles = households
    explainer = CounterfactualGAN(plausible_categories=False, **FAST).fit(
        X, status_proba
    )
    X_cf = explainer.transform(singles)
    adapter = explainer.adapter_
    keys = adapter.plausibility_keys(explainer.encoder_.transform(singles))
    np.testing.assert_array_equal(
        unseen_category_pairs(singles, X_cf, X, reduce=None),
        adapter.introduced_implausibility(keys, X_cf),
    )
    assert unseen_category_pairs(singles, X_cf, X) == unseen_pairs(X_cf).mean() > 0


def test_metric_values_the_reference_lacks_and_missing_values():
    reference = pd.DataFrame(
        {"a": ["x"] * 10 + ["y"] * 10, "b": ["u"] * 10 + ["v"] * 10, "n": 1.0}
    )
    X = pd.DataFrame({"a": ["x", "x"], "b": ["u", "u"], "n": [1.0, 2.0]})
    # A category the reference never holds says nothing about its pairs;
    # a missing value is a category the reference does not hold either.
    X_cf = pd.DataFrame({"a": ["new", None], "b": ["v", "v"], "n": [1.0, 2.0]})
    assert not unseen_category_pairs(X, X_cf, reference, reduce=None).any()
    X_cf.loc[0, "a"] = "y"
    X_cf.loc[1, "b"] = "u"
    assert unseen_category_pairs(X, X_cf, reference, reduce=None).tolist() == [
        False,
        False,
    ]
    X_cf.loc[1, "a"] = "x"
    X_cf.loc[1, "b"] = "v"
    assert unseen_category_pairs(X, X_cf, reference, reduce=None).tolist() == [
        False,
        True,
    ]
    # A higher bar for "expected": 10 x 10 / 20 = 5 rows, not 6.
    assert unseen_category_pairs(X, X_cf, reference, min_expected_rows=6) == 0.0


def test_metric_leaves_out_rows_a_method_could_not_answer(households):
    X, singles = households
    originals = singles.iloc[:2]
    answers = originals.copy()
    answers["status"] = ["married", None]  # row 1: no answer
    answers["role"] = ["child", None]
    answers["x"] = [originals["x"].iloc[0], np.nan]
    assert unseen_category_pairs(originals, answers, X) == 1.0
    assert unseen_category_pairs(originals, answers, X, reduce=None).tolist() == [
        True,
        False,
    ]
    assert np.isnan(unseen_category_pairs(originals.iloc[1:], answers.iloc[1:], X))


def test_metric_on_arrays_with_categorical_positions_and_few_categories():
    reference = np.repeat(np.array([[0, 0, 1.5], [1, 1, 2.5]]), 10, axis=0)
    X = np.array([[0, 0, 1.5]])
    X_cf = np.array([[0, 1, 1.5]])
    assert unseen_category_pairs(X, X_cf, reference, categorical_features=[0, 1]) == 1
    # Without categorical features (or with one) no pair can be unseen.
    assert unseen_category_pairs(X, X_cf, reference) == 0.0
    assert unseen_category_pairs(X, X_cf, reference, categorical_features=[0]) == 0.0


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"min_expected_rows": 0}, ValueError, "positive number"),
        ({"min_expected_rows": True}, ValueError, "positive number"),
        ({"reduce": "sum"}, ValueError, "reduce must be one of"),
        ({"rare_fraction": 1.0}, ValueError, r"a number in \[0, 1\)"),
        ({"rare_fraction": -0.1}, ValueError, "rare_fraction must be"),
        ({"rare_fraction": "1%"}, ValueError, "rare_fraction must be"),
        ({"rare_fraction": True}, ValueError, "rare_fraction must be"),
        ({"rare_fraction": float("nan")}, ValueError, "rare_fraction must be"),
    ],
)
def test_metric_rejects_bad_parameters(households, kwargs, error, match):
    X, singles = households
    with pytest.raises(error, match=match):
        unseen_category_pairs(singles, singles, X, **kwargs)


def test_metric_rejects_unpaired_or_empty_rows(households):
    X, singles = households
    with pytest.raises(InvalidDataError, match="one counterfactual per"):
        unseen_category_pairs(singles, singles.iloc[:3], X)
    with pytest.raises(InvalidDataError, match="reference has no rows"):
        unseen_category_pairs(singles, singles, X.iloc[:0])
    with pytest.raises(InvalidDataError, match="missing columns"):
        unseen_category_pairs(singles, singles, X.drop(columns="role"))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("ab"), st.sampled_from("uvw"), st.sampled_from("pq")),
        min_size=1,
        max_size=40,
    ),
    st.data(),
    st.floats(0.5, 20),
)
def test_metric_properties(rows, data, threshold):
    reference = pd.DataFrame(rows, columns=["f", "g", "h"])
    originals = reference.sample(
        frac=1, random_state=data.draw(st.integers(0, 100))
    ).reset_index(drop=True)
    answers = reference.reset_index(drop=True)
    # Rows of the reference hold only pairs the reference shows.
    assert unseen_category_pairs(originals, answers, reference) == 0.0
    # A stricter bar flags a subset of the rows a looser one flags.
    shuffled = pd.DataFrame(
        {c: reference[c].to_numpy()[::-1] for c in ["f", "g"]} | {"h": answers["h"]}
    )
    loose = unseen_category_pairs(
        originals, shuffled, reference, min_expected_rows=threshold, reduce=None
    )
    strict = unseen_category_pairs(
        originals, shuffled, reference, min_expected_rows=threshold * 2, reduce=None
    )
    assert not (strict & ~loose).any()


def test_unreached_answers_with_a_lacking_pair_are_counted_in_the_warning(
    households, monkeypatch
):
    # An answer that misses its target is the best attempt; when it also
    # holds a pair the data lack, the unreached-target warning says so (the
    # implausibility warning counts valid answers only).
    X, singles = households
    explainer = CounterfactualGAN(**FAST).fit(X, status_proba)
    queries = singles.iloc[:4]
    valid = np.array([False, False, True, True])
    implausible = np.array([True, False, True, False])
    monkeypatch.setattr(
        type(explainer),
        "_transform_with_validity",
        lambda self, X, target, constraints, **checks: (
            X,
            valid,
            implausible,
            None,
            None,
        ),
    )
    with pytest.warns(UnreachedTargetWarning, match="; 1 of them also hold a pair"):
        with pytest.warns(ImplausibleCounterfactualWarning, match="^1 of 4"):
            explainer.transform(queries)


def status_or_x_proba(X):
    """Class 1 for the married, or for anyone with x above 1."""
    positive = (X["status"].to_numpy() == "married") | (X["x"].to_numpy() > 1.0)
    p = np.where(positive, 0.9, 0.1)
    return np.column_stack([1 - p, p])


def test_a_lacking_pair_is_given_back_where_the_model_still_agrees(households):
    # Answers that make a child married (a pair the data lack) are valid;
    # where the raised x alone keeps them valid, giving the status back
    # makes them plausible too, and that answer replaces them. Where it
    # does not, they stay (the warning and mask report them).
    X, singles = households
    explainer = CounterfactualGAN(**FAST).fit(X, status_or_x_proba)
    queries = singles[singles["x"] < 0.5].iloc[:6]
    batch = explainer._batch(queries, 1, (["role"], None, None))
    answers = queries.copy()
    answers["status"] = "married"
    answers.loc[answers.index[:3], "x"] = 1.5
    y = status_or_x_proba(answers)
    rows = np.arange(len(queries))
    assert unseen_pairs(answers).all() and (y[:, 1] > 0.5).all()
    repaired, y_repaired = explainer._give_back_lacking_pairs(batch, rows, answers, y)
    assert repaired["status"].tolist() == ["single"] * 3 + ["married"] * 3
    assert repaired["x"].tolist() == answers["x"].tolist()
    assert (repaired["role"] == queries["role"]).all()
    np.testing.assert_allclose(y_repaired, status_or_x_proba(repaired))
    assert (y_repaired[:, 1] > 0.5).all()


def test_training_row_candidates_give_back_lacking_pairs_too(households, monkeypatch):
    # Where the training-row candidate is no better (here: the path finds
    # nothing), a valid answer that keeps a lacking pair still gets the
    # give-back, as it does after the repairs.
    X, singles = households
    explainer = CounterfactualGAN(**FAST, training_row_candidates=True)
    explainer.fit(X, status_or_x_proba)
    queries = singles[singles["x"] < 0.5].iloc[:6]
    batch = explainer._batch(queries, 1, (["role"], None, None))
    answers = queries.copy()
    answers["status"] = "married"
    answers.loc[answers.index[:3], "x"] = 1.5
    monkeypatch.setattr(
        type(explainer),
        "_repair_by_training_rows",
        lambda self, batch, rows, current, y_current, **kw: (
            np.zeros(len(rows), dtype=bool),
            current,
            y_current,
        ),
    )
    repaired, y_repaired = explainer._compare_training_rows(
        batch, answers, status_or_x_proba(answers)
    )
    assert repaired["status"].tolist() == ["single"] * 3 + ["married"] * 3
    np.testing.assert_allclose(y_repaired, status_or_x_proba(repaired))


def test_reverts_give_back_the_category_that_brought_the_pair_in(households):
    # Only the answer holding a lacking pair gets a candidate, with the
    # changed side of the pair given back and the dtypes kept.
    X, singles = households
    explainer = CounterfactualGAN(**FAST).fit(X, status_proba)
    adapter = explainer.adapter_
    originals = singles.iloc[:2].reset_index(drop=True)
    answers = originals.copy()
    answers.loc[0, "status"] = "married"  # a married child
    answers.loc[1, ["status", "role"]] = ["married", "spouse"]  # plausible
    keys = adapter.plausibility_keys(explainer.encoder_.transform(originals))
    owner, candidates = adapter.plausible_reverts(keys, originals, answers)
    assert owner.tolist() == [0]
    assert candidates["status"].tolist() == ["single"]
    assert candidates.dtypes.equals(answers.dtypes)


def test_introduced_sides_flag_the_changed_features_of_unseen_pairs():
    # (0, 1) and (1, 0) are unseen. A change of the second feature brings
    # in (0, 1): that side is flagged; a change of both brings in (1, 0)
    # from (0, 1): both; a change to a seen pair flags nothing.
    codes = np.repeat(np.array([[0, 0], [1, 1]]), 20, axis=0)
    pairs = CategoryPairs(codes, [2, 2])
    originals = np.array([[0, 0], [0, 1], [0, 0]])
    counterfactuals = np.array([[0, 1], [1, 0], [1, 1]])
    sides = pairs.introduced_sides(originals, counterfactuals)
    assert sides.tolist() == [[False, True], [True, True], [False, False]]
    assert (
        sides.any(axis=1) == pairs.introduced_unseen(originals, counterfactuals)
    ).all()


def test_giving_back_prefers_the_answer_with_fewest_changes():
    # (a1, b1) is a pair the data lack and the model looks at x only: all
    # three give-backs are valid, and the one giving both back, which
    # changes fewest features, is kept.
    rng = np.random.RandomState(0)
    n = 400
    a = rng.choice(["a0", "a1"], n)
    b = np.where(a == "a1", "b0", rng.choice(["b0", "b1"], n))
    X = pd.DataFrame({"x": rng.normal(size=n).round(2), "a": a, "b": b})

    def x_proba(frame):
        p = np.where(frame["x"].to_numpy() > 0.5, 0.9, 0.1)
        return np.column_stack([1 - p, p])

    explainer = CounterfactualGAN(**FAST).fit(X, x_proba)
    queries = pd.DataFrame({"x": [0.0], "a": ["a0"], "b": ["b0"]})
    answers = pd.DataFrame({"x": [1.0], "a": ["a1"], "b": ["b1"]})
    # A loose bound: constrained, without changing these rows.
    batch = explainer._batch(queries, 1, (None, {"x": (-10.0, 10.0)}, None))
    keys = batch.plausibility_keys
    owner, candidates = explainer.adapter_.plausible_reverts(keys, queries, answers)
    assert owner.tolist() == [0, 0, 0]
    assert candidates[["a", "b"]].values.tolist()[0] == ["a0", "b0"]
    repaired, _ = explainer._give_back_lacking_pairs(
        batch, np.arange(1), answers, x_proba(answers)
    )
    assert repaired[["a", "b"]].values.tolist() == [["a0", "b0"]]


def test_category_pairs_pickled_before_expected_counts_still_read():
    # Explainers fitted before pairs needed an expected count kept
    # (i, j, seen) entries, every absent pair counting.
    seen = np.array([[True, False], [False, True]])
    old = CategoryPairs.__new__(CategoryPairs)
    old.__setstate__({"pairs_": [(0, 1, seen)]})
    originals = np.array([[0, 0], [1, 1]])
    assert old.introduced_unseen(originals, np.array([[0, 1], [1, 1]])).tolist() == [
        True,
        False,
    ]
