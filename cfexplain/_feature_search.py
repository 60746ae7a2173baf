"""The last repair of a table's row that no training-row path reached.

Under constraints the training-row path can fail where a small change
would not: every target-class training row near the original differs from
it in frozen features, and copying only its free features leaves the model
unmoved, while the model reacts to a change no such row holds (on COMPAS
with sex, race and age immutable, a logistic regression's risk fell with
one more juvenile misdemeanour, and 8 of 500 rows went unreached that way).
This repair searches the free features themselves, greedily, as
"feature tweaking" and DiCE's random search do in their own ways: each step
tries every free feature at each of a few values real training rows hold
(:class:`FeatureValues`), in one batch and one model call, and keeps the
change that brings the model nearest to the target (:func:`target_margin`),
until the model accepts a row or :data:`SEARCH_STEPS` features have
changed. A row it reaches then gives back, in one more batch, any one
changed feature the model does not need.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._predictor import CLASSIFICATION

__all__ = [
    "CATEGORY_VALUES",
    "NUMERIC_VALUES",
    "SEARCH_STEPS",
    "FeatureValues",
    "target_margin",
]

#: Most features one row's search changes (one model call a step).
SEARCH_STEPS = 4
#: Values of a number tried: its training values at evenly spaced quantiles.
NUMERIC_VALUES = 16
#: Values of a category tried: its most frequent categories in training.
CATEGORY_VALUES = 64


@dataclass(frozen=True)
class FeatureValues:
    """Encoded values each feature takes in training rows, a few per feature.

    Parameters
    ----------
    columns : list of numpy.ndarray of int
        Per feature, its encoded columns.
    blocks : list of numpy.ndarray of float32
        Per feature, ``(q_f, len(columns[f]))``: the encoding of each value
        tried, copied from a training row that holds it, so that every value
        is one the data hold.
    """

    columns: list
    blocks: list

    @classmethod
    def from_rows(cls, Xt, feature_of_column, numbers):
        """Pick each feature's values from encoded training rows.

        Parameters
        ----------
        Xt : numpy.ndarray of shape (m, n_encoded)
            Encoded training rows (the repairs' pool).
        feature_of_column : numpy.ndarray of int, shape (n_encoded,)
            Original feature of each encoded column.
        numbers : list of (numpy.ndarray or None)
            Per feature, its decoded values on those rows, shape ``(m,)``,
            for a number; ``None`` for a category.

        Returns
        -------
        FeatureValues
            A number with more than :data:`NUMERIC_VALUES` distinct values
            gets those at evenly spaced quantiles of the rows (frequent
            values get more of them); a category gets its
            :data:`CATEGORY_VALUES` most frequent ones.
        """
        Xt = np.asarray(Xt, dtype=np.float32)
        columns, blocks = [], []
        for feature, values in enumerate(numbers):
            own = np.flatnonzero(feature_of_column == feature)
            block = Xt[:, own]
            if values is None:
                patterns, counts = np.unique(block, axis=0, return_counts=True)
                order = np.argsort(-counts, kind="stable")[:CATEGORY_VALUES]
                chosen = patterns[order]
            else:
                values = np.asarray(values, dtype=np.float64)
                distinct, first = np.unique(values, return_index=True)
                if len(distinct) > NUMERIC_VALUES:
                    order = np.argsort(values, kind="stable")
                    at = np.round(np.linspace(0, len(values) - 1, NUMERIC_VALUES))
                    rows = order[at.astype(np.int64)]
                    _, keep = np.unique(values[rows], return_index=True)
                    first = rows[keep]
                chosen = block[first]
            columns.append(own)
            blocks.append(np.ascontiguousarray(chosen, dtype=np.float32))
        return cls(columns, blocks)

    def candidates(self, current, free):
        """Return each row with one free feature set to one of its values.

        Parameters
        ----------
        current : numpy.ndarray of shape (r, n_encoded)
            The rows as they stand.
        free : numpy.ndarray of bool, shape (r, n_features)
            Features each row may still change.

        Returns
        -------
        owner : numpy.ndarray of int, shape (c,)
            The row of each candidate.
        feature : numpy.ndarray of int, shape (c,)
            The feature it changes.
        Xt : numpy.ndarray of float32, shape (c, n_encoded)
            The candidates; a value a row already holds is left out.
        """
        owners, features, parts = [], [], []
        for f, (own, block) in enumerate(zip(self.columns, self.blocks, strict=True)):
            rows = np.flatnonzero(free[:, f])
            if not len(rows) or not len(block):
                continue
            # Every row with every value, row-major.
            owner = np.repeat(rows, len(block))
            made = current[owner]
            made[:, own] = np.tile(block, (len(rows), 1))
            differs = (made[:, own] != current[owner][:, own]).any(axis=1)
            owners.append(owner[differs])
            features.append(np.full(differs.sum(), f, dtype=np.int64))
            parts.append(made[differs])
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros((0, current.shape[1]), np.float32)
        owner = np.concatenate(owners)
        order = np.argsort(owner, kind="stable")
        return (
            owner[order],
            np.concatenate(features)[order],
            np.concatenate(parts)[order].astype(np.float32),
        )

    def n_candidates(self):
        """Most candidates one row can get in a step (every feature free)."""
        return sum(len(block) for block in self.blocks)


def target_margin(target, y_model):
    """Return how far each model output lies on the target's side.

    Parameters
    ----------
    target : ResolvedTarget
        The rows' targets.
    y_model : numpy.ndarray
        The model's probabilities ``(n, k)`` or values ``(n,)``.

    Returns
    -------
    numpy.ndarray of float64, shape (n,)
        Classification: the target class's probability minus the largest
        other one (positive where the model puts the row in the target
        class). Regression: minus the distance from the value to the
        target's interval (0 inside it).
    """
    y_model = np.asarray(y_model, dtype=np.float64)
    if target.task == CLASSIFICATION:
        labels = target.labels
        rows = np.arange(len(y_model))
        own = y_model[rows, labels]
        others = y_model.copy()
        others[rows, labels] = -np.inf
        return own - others.max(axis=1)
    below = np.maximum(target.low - y_model, 0.0)
    above = np.maximum(y_model - target.high, 0.0)
    return -(below + above)
