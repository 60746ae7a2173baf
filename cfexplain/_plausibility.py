"""Plausibility of a table's counterfactual: no pair of categories the data never shows.

A generator moves categorical features one by one, and the real model only
checks where the row lands: on Adult 6.4 % of the GAN's counterfactuals
(MLP, defaults) held a pair of values no training row has, nearly all a
marital status changed while the relationship stayed (a "Never-Married"
"Husband"). Such a row may be valid but is not a realistic explanation.
:class:`CategoryPairs` records which pairs of categories never occur
together in the training rows though their frequencies say they should; the
candidate engine accepts a counterfactual when the model puts it at its
target *and* it brings in no unseen pair (a pair the original already holds
is the user's data, not the counterfactual's doing), and repairs the others.
Pairwise co-occurrence is the simplest of the data-manifold checks of the
counterfactual literature (the "feasibility" of Mahajan et al. 2019, the
density checks of FACE, Poyiadzi et al. 2020): it needs no model, and the
repairs' training-row path copies values from real rows, which hold only
seen pairs.
"""

from __future__ import annotations

import itertools

import numpy as np

__all__ = ["MIN_EXPECTED_ROWS", "CategoryPairs"]

#: Training rows a pair of categories would have if the two features were
#: independent, at least, for its absence from the training rows to count:
#: a pair of two rare categories is absent from a small table by chance
#: (on German credit's 1,000 rows most pairs of its rarer categories are),
#: a pair the margins expect in five or more rows is absent for a reason.
#: Five is the expected count the chi-squared test of independence asks of
#: each cell (Cochran 1954). On Adult's 26,048 training rows, "Husband" and
#: "Never-Married" would share about 3,480 and share none; 25 of the 130
#: absent pairs count. On German credit's 800, 3 of the 65 absent pairs do.
MIN_EXPECTED_ROWS = 5


class CategoryPairs:
    """Which pairs of categorical values the training rows never hold together.

    A pair of categories ``a`` of feature ``i`` and ``b`` of feature ``j``
    counts as unseen when no training row holds both although
    ``count(a) * count(b) / n_rows``, their expected number of rows were the
    features independent, is at least ``min_expected_rows``.

    Parameters
    ----------
    codes : numpy.ndarray of int, shape (n_rows, n_categorical)
        The training rows' category positions
        (:meth:`~cfexplain.preprocessing.TabularEncoder.category_codes`).
    n_categories : sequence of int
        Categories of each categorical feature.
    min_expected_rows : float, default=MIN_EXPECTED_ROWS
        Expected rows under independence, at least, for an absent pair to
        count.

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

    def __init__(self, codes, n_categories, *, min_expected_rows=MIN_EXPECTED_ROWS):
        codes = np.asarray(codes, dtype=np.int64)
        n_rows = len(codes)
        counts = [
            np.bincount(codes[:, f], minlength=n_categories[f])
            for f in range(codes.shape[1])
        ]
        self.pairs_ = []
        for i, j in itertools.combinations(range(codes.shape[1]), 2):
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
            seen = np.zeros((len(kept_i), len(kept_j)), dtype=bool)
            seen[rows_i[both], rows_j[both]] = True
            expected = np.outer(counts[i][kept_i], counts[j][kept_j]) / n_rows
            unseen = ~seen & (expected >= min_expected_rows)
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
        flagged = np.zeros(len(codes), dtype=bool)
        for i, j, position_i, position_j, unseen in self.pairs_:
            new = (codes[:, i] != original_codes[:, i]) | (
                codes[:, j] != original_codes[:, j]
            )
            flagged |= new & unseen[position_i[codes[:, i]], position_j[codes[:, j]]]
        return flagged
