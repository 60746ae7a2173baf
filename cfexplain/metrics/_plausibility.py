"""Plausibility of counterfactuals: pairs of categories the data lack.

The metric twin of the explainers' ``plausible_categories`` check
(:mod:`cfexplain._plausibility`), for the output of any method: it tells
how many counterfactuals hold a combination of categories that real rows
lack (hold in none, or only as a rare data error), such as a
"Never-Married" "Husband" on Adult.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._plausibility import MIN_EXPECTED_ROWS, RARE_FRACTION, CategoryPairs
from ..exceptions import InvalidDataError
from ._representation import _categorical_values
from ._sparsity import _check_option, _check_real, _paired
from ._validity import covered_rows

__all__ = ["unseen_category_pairs"]


def _codes(reference, *samples):
    """Category positions of ``reference``'s categories, per column.

    A value ``reference`` does not hold gets the extra position
    ``n_categories``, which no reference row counts, so it is never part of
    an unseen pair (its absence from the reference says nothing about the
    pair). Missing values are a category of their own.
    """
    n_categories, reference_codes = [], []
    sample_codes = [[] for _ in samples]
    for column in range(reference.shape[1]):
        codes, uniques = pd.factorize(reference[:, column], use_na_sentinel=False)
        index = pd.Index(uniques)
        n_categories.append(len(uniques) + 1)
        reference_codes.append(codes)
        for out, sample in zip(sample_codes, samples, strict=True):
            found = index.get_indexer(sample[:, column])
            out.append(np.where(found < 0, len(uniques), found))
    stack = lambda columns: np.column_stack(columns).astype(np.int64)  # noqa: E731
    return n_categories, stack(reference_codes), [stack(c) for c in sample_codes]


def unseen_category_pairs(
    X,
    X_cf,
    reference,
    *,
    categorical_features=None,
    min_expected_rows=MIN_EXPECTED_ROWS,
    rare_fraction=RARE_FRACTION,
    reduce="mean",
):
    r"""Share of counterfactuals that bring in a pair of categories the data lack.

    A pair of values, category :math:`a` of feature :math:`i` and category
    :math:`b` of feature :math:`j`, is *unseen* when the rows of
    ``reference`` hold both in fewer than ``rare_fraction`` of the
    :math:`E_{ab}` rows independence would put them together in, or in
    none, although

    .. math:: E_{ab} = \frac{n_a \, n_b}{n} \ge \texttt{min\_expected\_rows}

    of its :math:`n` rows (:math:`n_a`, :math:`n_b`: rows holding each).
    The fraction counts a pair a handful of rows hold against thousands
    expected as lacking: on Adult, 1 male "Wife" of 819 expected is a
    data-entry error, not a place for a counterfactual to go.
    The threshold keeps out pairs of rare categories, which a small table
    lacks by chance; 5 is the expected count the chi-squared test of
    independence asks of each cell (Cochran 1954). A counterfactual brings
    in an unseen pair when it holds one and its original row does not (a
    pair the original holds is the data's, not the method's doing). This
    is pairwise co-occurrence, the simplest of the data-manifold checks of
    the counterfactual literature (the feasibility of Mahajan et al. 2019);
    it is the part of the explainers' check with
    ``plausible_categories=True`` (:class:`~cfexplain._plausibility.CategoryPairs`)
    that pairs two categories, here for the output of any method. The
    explainers also pair a category with a range of a number (a student
    aged 40), which this metric does not count: ``explain``'s
    ``plausible`` mask marks those answers too.

    Parameters
    ----------
    X : pandas.DataFrame or array-like of shape (n_samples, n_features)
        Original rows. Arrays count as categorical only the positions named
        in ``categorical_features``.
    X_cf : pandas.DataFrame or array-like of shape (n_samples, n_features)
        One counterfactual per row of ``X``, in the same order, with the
        same columns.
    reference : pandas.DataFrame or array-like of shape (n_rows, n_features)
        The rows that say which pairs occur, typically the model's training
        rows (the more rows, the more pairs are expected often enough for
        their absence or rarity to count). It must have ``X``'s columns;
        extra columns of a DataFrame are ignored.
    categorical_features : list, optional
        Overrides the detection of categorical features (see
        :func:`~cfexplain.metrics.l0`). By default ``category``, boolean
        and string columns are categorical.
    min_expected_rows : float, default=5
        :math:`E_{ab}`, the rows of ``reference`` a pair would have under
        independence, at least, for it to count as unseen.
    rare_fraction : float, default=0.01
        Share of :math:`E_{ab}` under which a pair that ``reference`` holds
        still counts as unseen; 0 counts absent pairs only. It matters
        only for pairs expected in more than ``1 / rare_fraction`` rows
        (100 at the default): on a small ``reference`` few pairs are, and
        the training rows, not a test split, are the reference to pass.
    reduce : {"mean", None}, default="mean"
        ``"mean"`` returns the share of counterfactuals (0 to 1) that bring
        in an unseen pair; None returns a boolean per row.

    Returns
    -------
    float or numpy.ndarray of bool, shape (n_samples,)
        Lower is better. Rows of ``X_cf`` with missing values (a method's
        unanswered rows, as :func:`validity` counts them) are left out of
        the share and are False per row; NaN when no row is answered. 0
        when the data have fewer than two categorical features.

    Raises
    ------
    InvalidDataError
        If ``X``, ``X_cf`` and ``reference`` do not share the columns, ``X``
        and ``X_cf`` differ in number of rows, or an input is empty.
    ValueError
        If ``min_expected_rows`` is not a positive number,
        ``rare_fraction`` is not in [0, 1) or ``reduce`` is not one of its
        options.

    References
    ----------
    .. [1] D. Mahajan, C. Tan and A. Sharma, "Preserving Causal Constraints
       in Counterfactual Explanations for Machine Learning Classifiers",
       arXiv:1912.03277, 2019.
    .. [2] W. G. Cochran, "Some Methods for Strengthening the Common
       :math:`\chi^2` Tests", Biometrics 10(4), 1954.

    Examples
    --------
    >>> import pandas as pd
    >>> from cfexplain.metrics import unseen_category_pairs
    >>> reference = pd.DataFrame(
    ...     {"relationship": ["Husband"] * 10 + ["Own-child"] * 10,
    ...      "marital": ["Married"] * 10 + ["Never-married"] * 10}
    ... )
    >>> X = pd.DataFrame({"relationship": ["Husband"], "marital": ["Married"]})
    >>> X_cf = pd.DataFrame({"relationship": ["Husband"], "marital": ["Never-married"]})
    >>> unseen_category_pairs(X, X_cf, reference)
    1.0
    """
    _check_option(reduce, ("mean", None), "reduce")
    min_expected_rows = _check_real(
        min_expected_rows, "min_expected_rows", lambda v: v > 0, "a positive number"
    )
    rare_fraction = _check_real(
        rare_fraction, "rare_fraction", lambda v: 0 <= v < 1, "a number in [0, 1)"
    )
    data, categorical, _ = _paired(X, X_cf, categorical_features, reference)
    if len(data["reference"]) == 0:
        raise InvalidDataError("reference has no rows")
    # Rows a method could not answer (missing values) hold no pair.
    covered = covered_rows(data["X_cf"])
    flagged = np.zeros(len(covered), dtype=bool)
    if len(categorical) >= 2 and covered.any():
        n_categories, reference_codes, (original, counterfactual) = _codes(
            _categorical_values(data["reference"], categorical),
            _categorical_values(data["X"], categorical)[covered],
            _categorical_values(data["X_cf"], categorical)[covered],
        )
        pairs = CategoryPairs(
            reference_codes,
            n_categories,
            min_expected_rows=min_expected_rows,
            rare_fraction=rare_fraction,
        )
        flagged[covered] = pairs.introduced_unseen(original, counterfactual)
    if reduce is None:
        return flagged
    return float(flagged[covered].mean()) if covered.any() else float("nan")
