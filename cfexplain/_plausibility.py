"""Plausibility of a table's counterfactual: no pair of categories the data never shows.

A generator moves categorical features one by one, and the real model only
checks where the row lands: on Adult 6.4 % of the GAN's counterfactuals
(MLP, defaults) held a pair of values no training row has, nearly all a
marital status changed while the relationship stayed (a "Never-married"
"Husband"). Such a row may be valid but is not a realistic explanation.
:class:`CategoryPairs` records which pairs of categories occur together in
the training rows; the candidate engine accepts a counterfactual when the
model puts it at its target *and* it brings in no unseen pair (a pair the
original already holds is the user's data, not the counterfactual's
doing), and repairs the others. Pairwise co-occurrence is the simplest of
the data-manifold checks of the counterfactual literature (the "feasibility"
of Mahajan et al. 2019, the density checks of FACE, Poyiadzi et al. 2020):
it needs no model, and the repairs' training-row path copies values from
real rows, which hold only seen pairs.
"""

from __future__ import annotations

import itertools

import numpy as np

__all__ = ["CategoryPairs"]


class CategoryPairs:
    """Which pairs of categorical values occur together in the training rows.

    Parameters
    ----------
    codes : numpy.ndarray of int, shape (n_rows, n_categorical)
        The training rows' category positions
        (:meth:`~cfexplain.preprocessing.TabularEncoder.category_codes`).
    n_categories : sequence of int
        Categories of each categorical feature.

    Attributes
    ----------
    pairs_ : list of tuple
        ``(i, j, seen)`` per pair of categorical features ``i < j``:
        ``seen[a, b]`` is True where a training row has category ``a`` of
        feature ``i`` and ``b`` of feature ``j``.
    """

    def __init__(self, codes, n_categories):
        codes = np.asarray(codes, dtype=np.int64)
        self.pairs_ = []
        for i, j in itertools.combinations(range(codes.shape[1]), 2):
            seen = np.zeros((n_categories[i], n_categories[j]), dtype=bool)
            seen[codes[:, i], codes[:, j]] = True
            if not seen.all():
                self.pairs_.append((i, j, seen))

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
        for i, j, seen in self.pairs_:
            new = (codes[:, i] != original_codes[:, i]) | (
                codes[:, j] != original_codes[:, j]
            )
            flagged |= new & ~seen[codes[:, i], codes[:, j]]
        return flagged
