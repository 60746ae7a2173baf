"""Plausibility of a table's counterfactual: no pair of categories the data lack.

A generator moves categorical features one by one, and the real model only
checks where the row lands: on Adult (MLP, defaults, without this check)
6.4 % of the GAN's counterfactuals hold a pair of values no training row
has, nearly all a marital status changed while the relationship stayed (a
"Never-Married" "Husband"). Such a row may be valid but is not a realistic explanation.
:class:`CategoryPairs` records which pairs of categories the training rows
lack though their frequencies say they should hold them; the candidate
engine accepts a counterfactual when the model puts it at its target *and*
it brings in no such pair (a pair the original already holds is the user's
data, not the counterfactual's doing), and repairs the others.

"Lack" means absent or nearly so: Adult's training rows hold 1 male
"Wife" where the two categories' frequencies predict 819, and 12
"Married" "Not-in-family" rows of 3,045 expected. Such rows are
data-entry errors or rare exceptions, not a region of the data a
counterfactual should move into; with absence alone as the rule, 21 % of
the autoencoder's Adult answers held one of them (27 % hold an absent or
rare pair without any check). A pair counts when the
training rows hold it in under :data:`RARE_FRACTION` (1 %) of the rows
independence predicts.

A number pairs with categories through its range (:data:`NUMBER_RANGES`
quantile ranges of its training values), not with other numbers: a column
derived from another (COMPAS's age category from the age) then stays
consistent, where a generator moving the age alone made a 27-year-old
"Less than 25".

Pairwise co-occurrence is the simplest of the data-manifold checks of the
counterfactual literature (the "feasibility" of Mahajan et al. 2019, the
density checks of FACE, Poyiadzi et al. 2020): it needs no model, and the
repairs' training-row path copies values from real rows, which almost
never hold a lacking pair (14 of Adult's 26,048 training rows do).
"""

from __future__ import annotations

import itertools

import numpy as np

__all__ = [
    "MIN_EXPECTED_ROWS",
    "NUMBER_RANGES",
    "RARE_FRACTION",
    "CategoryPairs",
    "number_range_edges",
]

#: Training rows a pair of categories would have if the two features were
#: independent, at least, for its absence from the training rows to count:
#: a pair of two rare categories is absent from a small table by chance
#: (on German credit's 1,000 rows most pairs of its rarer categories are),
#: a pair the margins expect in five or more rows is absent (or rare,
#: :data:`RARE_FRACTION`) for a reason.
#: Five is the expected count the chi-squared test of independence asks of
#: each cell (Cochran 1954). On Adult's 26,048 training rows, "Husband" and
#: "Never-Married" would share about 3,480 and share none; 25 of the 130
#: absent pairs count. On German credit's 800, 3 of the 65 absent pairs do.
MIN_EXPECTED_ROWS = 5

#: Share of the rows independence predicts for a pair, below which the
#: pair counts as lacking from the training rows although some rows hold
#: it. At 1 %, a pair expected in 100 rows or fewer counts only when
#: absent (as with :data:`MIN_EXPECTED_ROWS` alone). On Adult's 26,048
#: training rows (80 % split, seed 0) it adds 3 pairs to the 25 absent
#: ones: the married "Not-in-family" (12 rows of 3,045 expected), the female
#: "Husband" (1 of 3,485) and the male "Wife" (1 of 819); German credit's
#: 3 stay 3.
RARE_FRACTION = 0.01

#: Ranges a number is cut into, at quantiles of its training values, to
#: pair it with categories: a category and a range of a number count as a
#: pair too. A column derived from another (COMPAS's age category from the
#: age) then holds: a 27-year-old "Less than 25" is a pair the training rows
#: lack. Without ranges, of the COMPAS answers (500 test rows, defaults)
#: that moved the age or its category, 69 % (GAN) to 96 % (CVAE) were
#: consistent with a logistic regression, 72-95 % with boosted trees;
#: with them, all, at the same validity (1.000) and sparsity. Twenty
#: ranges (5 % of the rows each) resolve such a cut to within a few years
#: of age while a pair with a frequent category still reaches the
#: expected rows of :data:`MIN_EXPECTED_ROWS` on a few thousand rows.
NUMBER_RANGES = 20


def number_range_edges(values, n_ranges=NUMBER_RANGES):
    """Return the edges that cut a number's training values into ranges.

    Parameters
    ----------
    values : array-like of shape (n,)
        The number's training values (NaN ignored).
    n_ranges : int, default=NUMBER_RANGES
        Ranges wanted; fewer where values repeat (a count that is mostly 0
        gets a few).

    Returns
    -------
    numpy.ndarray of float64
        Increasing edges, each halfway between two neighbouring distinct
        training values, so that a value read back off the float32
        encoding falls in its own range. ``np.searchsorted(edges, value,
        side="right")`` is a value's range.
    """
    values = np.asarray(values, dtype=np.float64)
    distinct = np.unique(values[np.isfinite(values)])
    if len(distinct) < 2:
        return np.zeros(0)
    cuts = np.quantile(values[np.isfinite(values)], np.linspace(0, 1, n_ranges + 1))
    above = np.unique(np.searchsorted(distinct, cuts[1:-1], side="left"))
    above = above[(above >= 1) & (above < len(distinct))]
    return (distinct[above - 1] + distinct[above]) / 2


class CategoryPairs:
    """Which pairs of categorical values the training rows lack.

    A pair of categories ``a`` of feature ``i`` and ``b`` of feature ``j``
    counts as unseen when the training rows hold both in no row, or in
    fewer than ``rare_fraction * expected`` rows, where
    ``expected = count(a) * count(b) / n_rows`` is their number of rows
    were the features independent, and ``expected`` is at least
    ``min_expected_rows``.

    Parameters
    ----------
    codes : numpy.ndarray of int, shape (n_rows, n_categorical)
        The training rows' category positions
        (:meth:`~cfexplain.preprocessing.TabularEncoder.category_codes`).
    n_categories : sequence of int
        Categories of each categorical feature.
    min_expected_rows : float, default=MIN_EXPECTED_ROWS
        Expected rows under independence, at least, for a pair to count.
    rare_fraction : float, default=RARE_FRACTION
        Share of the expected rows under which a pair counts; 0 counts only
        absent pairs.
    numeric_columns : sequence of int, default=()
        Columns of ``codes`` that hold the ranges of numbers
        (:func:`number_range_edges`) rather than categories: they pair with
        categories, not with each other (two numbers' joint spread is no
        category mistake).

    Attributes
    ----------
    pairs_ : list of tuple
        ``(i, j, position_i, position_j, unseen)`` per pair of categorical
        features ``i < j`` with an unseen pair: ``position_f`` maps each
        category of feature ``f`` to a row (column) of ``unseen``, -1 for
        categories too rare to be in an unseen pair, whose last row
        (column) is all False; ``unseen[position_i[a], position_j[b]]`` is
        True for an unseen pair.
    """

    def __init__(
        self,
        codes,
        n_categories,
        *,
        min_expected_rows=MIN_EXPECTED_ROWS,
        rare_fraction=RARE_FRACTION,
        numeric_columns=(),
    ):
        codes = np.asarray(codes, dtype=np.int64)
        numeric = set(numeric_columns)
        n_rows = len(codes)
        counts = [
            np.bincount(codes[:, f], minlength=n_categories[f])
            for f in range(codes.shape[1])
        ]
        self.pairs_ = []
        for i, j in itertools.combinations(range(codes.shape[1]), 2):
            if i in numeric and j in numeric:
                continue
            # Only categories frequent enough to be expected in some pair
            # get a row of the table: memory stays small with many rare
            # categories.
            threshold = min_expected_rows * n_rows
            kept_i = np.flatnonzero(counts[i] * counts[j].max() >= threshold)
            kept_j = np.flatnonzero(counts[j] * counts[i].max() >= threshold)
            if not len(kept_i) or not len(kept_j):
                continue
            position_i = np.full(n_categories[i], -1, dtype=np.int64)
            position_i[kept_i] = np.arange(len(kept_i))
            position_j = np.full(n_categories[j], -1, dtype=np.int64)
            position_j[kept_j] = np.arange(len(kept_j))
            rows_i, rows_j = position_i[codes[:, i]], position_j[codes[:, j]]
            both = (rows_i >= 0) & (rows_j >= 0)
            held = np.zeros((len(kept_i), len(kept_j)), dtype=np.int64)
            np.add.at(held, (rows_i[both], rows_j[both]), 1)
            expected = np.outer(counts[i][kept_i], counts[j][kept_j]) / n_rows
            unseen = (expected >= min_expected_rows) & (
                (held == 0) | (held < rare_fraction * expected)
            )
            if unseen.any():
                # A last all-False row and column answer position -1.
                table = np.zeros((len(kept_i) + 1, len(kept_j) + 1), dtype=bool)
                table[:-1, :-1] = unseen
                self.pairs_.append((i, j, position_i, position_j, table))

    def introduced_unseen(self, original_codes, codes):
        """Flag rows holding an unseen pair that their original does not hold.

        Parameters
        ----------
        original_codes, codes : numpy.ndarray of int, shape (n, n_categorical)
            The originals' and the counterfactuals' category positions.

        Returns
        -------
        numpy.ndarray of bool, shape (n,)
        """
        return self.introduced_sides(original_codes, codes).any(axis=1)

    def holds_unseen(self, codes):
        """Flag rows that hold an unseen pair, whatever their original.

        Parameters
        ----------
        codes : numpy.ndarray of int, shape (n, n_categorical)

        Returns
        -------
        numpy.ndarray of bool, shape (n,)
        """
        flagged = np.zeros(len(codes), dtype=bool)
        for _, _, held in self._held_pairs(codes):
            flagged |= held
        return flagged

    def __setstate__(self, state):
        """Read pickles of every version.

        Explainers fitted before pairs needed an expected count kept
        ``(i, j, seen)`` entries (every absent pair counted); they become
        this version's entries with the same meaning.
        """
        pairs = []
        for entry in state.get("pairs_", []):
            if len(entry) == 3:
                i, j, seen = entry
                table = np.zeros((seen.shape[0] + 1, seen.shape[1] + 1), dtype=bool)
                table[:-1, :-1] = ~seen
                entry = (
                    i,
                    j,
                    np.arange(seen.shape[0]),
                    np.arange(seen.shape[1]),
                    table,
                )
            pairs.append(entry)
        self.__dict__.update({**state, "pairs_": pairs})

    def introduced_sides(self, original_codes, codes):
        """Flag, per row, the categorical features of the unseen pairs it brings in.

        A pair counts as :meth:`introduced_unseen` counts it; of its two
        features, those whose category differs from the original's are
        flagged (the ones a change brought in).

        Parameters
        ----------
        original_codes, codes : numpy.ndarray of int, shape (n, n_categorical)

        Returns
        -------
        numpy.ndarray of bool, shape (n, n_categorical)
        """
        sides = np.zeros(codes.shape, dtype=bool)
        changed = codes != original_codes
        for i, j, held in self._held_pairs(codes):
            sides[:, i] |= held & changed[:, i]
            sides[:, j] |= held & changed[:, j]
        return sides

    def _held_pairs(self, codes):
        """Yield ``(i, j, held)``: which rows hold an unseen pair of features i, j."""
        for i, j, position_i, position_j, unseen in self.pairs_:
            yield i, j, unseen[position_i[codes[:, i]], position_j[codes[:, j]]]
