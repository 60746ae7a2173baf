"""Repairs for counterfactuals the real model does not accept.

The candidate engine's closed loop (:meth:`BaseCounterfactualExplainer._repair`)
gives rows whose counterfactual misses its target more chances, each one
batched round of generation or construction, decoding and model calls:

1. the generator applied to its own output (a second step from where the
   first one stopped); tables take it after the path, for the rows the
   path leaves;
2. a *training-row path*: the nearest training row that the real model
   already puts in the target class is valid and realistic by construction;
   the original moves towards it feature by feature, largest difference
   first, until the model agrees, then gives back the changes the model
   does not need (a batched backward elimination, in the spirit of Growing
   Spheres' feature selection step, Laugel et al. 2018, and DiCE's post-hoc
   sparsity enhancement, Mothilal et al. 2020); the training-row
   candidates of every row then also give back the part of each number's
   move the model does not need (DiCE's line search towards the original,
   on a grid of eighths). A series
   instead takes the nearest training series' values over the shortest
   window of time points the model accepts (Native Guide, Delaney et al.
   2021).

This module holds the pool of reference rows and the path geometry (pure
numpy); the engine decodes and scores the candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

from ._predictor import CLASSIFICATION

__all__ = ["ReferenceRows", "nearest_of_rank", "path_order"]

#: Weight of frozen features in the distance to reference rows: a row that
#: already shares the original's immutable values is far preferable, since
#: those values cannot be copied.
FROZEN_DISTANCE_WEIGHT = 10.0


@dataclass
class ReferenceRows:
    """Training rows and the real model's outputs on them.

    The pool of the training-row repairs and candidates, and the reference
    of their realism critic (:meth:`typicality_distance`).

    Parameters
    ----------
    Xt : numpy.ndarray of float32, shape (m, n_encoded)
        Encoded training rows (a seeded sample of at most ``max_rows``).
    y_model : numpy.ndarray
        The model's outputs on them: probabilities ``(m, k)`` or values
        ``(m,)``.
    task : {"classification", "regression"}
        The model's task.
    feature_of_column : numpy.ndarray of int, shape (n_encoded,)
        Original feature of each encoded column.
    positions : numpy.ndarray of int, shape (m,), optional
        Position of each pool row among the rows :meth:`sample` was given.
    rows : object, optional
        The pool's rows as the model reads them (the modality adapter's
        format), when the caller keeps them: a constrained copy equal to
        its training row is then graded with ``y_model`` instead of a model
        call.
    """

    Xt: np.ndarray
    y_model: np.ndarray
    task: str
    feature_of_column: np.ndarray
    positions: np.ndarray | None = None
    rows: object = None

    @classmethod
    def sample(cls, Xt, y_model, task, feature_of_column, max_rows, seed):
        """Keep a seeded sample of at most ``max_rows`` training rows.

        Parameters
        ----------
        Xt, y_model, task, feature_of_column
            As for the class.
        max_rows : int
            Rows kept; the pool is searched for every repaired row, so it
            bounds the repair's memory and time.
        seed : int
            Seed of the sample.

        Returns
        -------
        ReferenceRows
        """
        positions = np.arange(len(Xt))
        if len(Xt) > max_rows:
            positions = np.random.RandomState(seed).choice(
                len(Xt), max_rows, replace=False
            )
            Xt, y_model = Xt[positions], np.asarray(y_model)[positions]
        return cls(
            np.asarray(Xt, dtype=np.float32),
            np.asarray(y_model),
            task,
            np.asarray(feature_of_column),
            positions,
        )

    def subset(self, keep):
        """Return the pool of the rows ``keep`` flags (a boolean mask).

        The kept rows (``rows``) are left to the caller, which knows their
        format; ``positions`` follow the mask.
        """
        positions = None if self.positions is None else self.positions[keep]
        return type(self)(
            self.Xt[keep],
            self.y_model[keep],
            self.task,
            self.feature_of_column,
            positions,
        )

    @cached_property
    def n_features(self):
        """Number of original features."""
        return int(self.feature_of_column.max()) + 1

    @cached_property
    def binary_columns(self):
        """Which encoded columns of the pool hold only 0 and 1 (computed once)."""
        return _binary_columns(self.Xt)

    def reaches(self, resolved):
        """Return which reference rows reach each row's target, shape ``(r, m)``.

        Parameters
        ----------
        resolved : ResolvedTarget
            The targets of ``r`` rows.

        Returns
        -------
        numpy.ndarray of bool
        """
        if self.task == CLASSIFICATION:
            labels = self.y_model.argmax(axis=1)
            return labels[None, :] == resolved.labels[:, None]
        values = self.y_model[None, :]
        return (values >= resolved.low[:, None]) & (values <= resolved.high[:, None])

    def feature_distances(self, Xt, reference):
        """Return the L1 distance per original feature, shape ``(r, n_features)``.

        Parameters
        ----------
        Xt, reference : numpy.ndarray of shape (r, n_encoded)
            Rows and the reference row chosen for each.

        Returns
        -------
        numpy.ndarray of float64
        """
        # Column by column, in column order: the sums of np.add.at, which
        # took 7 ms of the AE's 190 ms Adult transform, in a twentieth of
        # its time or less. (np.add.reduceat would sum long runs pairwise:
        # other roundings, and so other ties in the path's order.)
        difference = np.abs(Xt - reference).T.astype(np.float64)
        distances = np.zeros((self.n_features, len(Xt)))
        for column, feature in enumerate(self.feature_of_column):
            distances[feature] += difference[column]
        return np.ascontiguousarray(distances.T)

    def nearest(self, Xt, resolved, frozen, rank=None, block=1024):
        """Return the nearest reference row reaching each row's target.

        The distance is L1 on the encoding, frozen features weighing
        :data:`FROZEN_DISTANCE_WEIGHT` times more (the weights are the same
        for every row of a call, so they scale the columns). For a
        classifier each target class is searched among the reference rows
        of that class only.

        Parameters
        ----------
        Xt : numpy.ndarray of shape (r, n_encoded)
            Encoded originals.
        resolved : ResolvedTarget
            Their targets.
        frozen : numpy.ndarray of shape (n_features,)
            1 where a feature is immutable.
        rank : numpy.ndarray of int, shape (r,), optional
            Per row, which reference row to return in order of distance: 0
            (the default) the nearest, ``j`` the ``j + 1``-th nearest, or
            the farthest there is when fewer reach the target.
        block : int, default=1024
            Rows compared with the pool at once (bounds memory).

        Returns
        -------
        numpy.ndarray of int, shape (r,)
            Index into the pool, or -1 where no reference row reaches the
            target.
        """
        rank = np.zeros(len(Xt), dtype=np.int64) if rank is None else np.asarray(rank)
        depth = int(rank.max()) + 1 if len(rank) else 1
        return nearest_of_rank(
            self.nearest_several(Xt, resolved, frozen, depth, block), rank
        )

    def nearest_several(self, Xt, resolved, frozen, depth, block=1024, allowed=None):
        """Return each row's ``depth`` nearest reference rows reaching its target.

        The distance is :meth:`nearest`'s.

        Parameters
        ----------
        Xt, resolved, frozen, block
            As for :meth:`nearest`.
        depth : int
            Reference rows per row.
        allowed : callable, optional
            ``allowed(rows, pool_rows)`` returns a boolean ``(len(rows),
            len(pool_rows))`` matrix; reference rows it rejects are skipped.

        Returns
        -------
        numpy.ndarray of int, shape (r, depth)
            Indices into the pool, nearest first; -1 after the last
            reference row that reaches the row's target (and that
            ``allowed`` keeps).
        """
        weights = 1.0 + (FROZEN_DISTANCE_WEIGHT - 1.0) * np.asarray(frozen)
        chosen = np.full((len(Xt), depth), -1, dtype=np.int64)
        for part, candidates, distance in self._distance_blocks(
            Xt, resolved, weights, block
        ):
            if allowed is not None:
                distance[~allowed(part, candidates)] = np.inf
            if depth == 1:
                order = distance.argmin(axis=1)[:, None]
            else:
                order = _nearest_columns(distance, depth)
            finite = np.isfinite(np.take_along_axis(distance, order, axis=1))
            chosen[part, : order.shape[1]] = np.where(finite, candidates[order], -1)
        return chosen

    def typicality_distance(self, Xt, resolved, n_neighbours=10, block=1024):
        """Return each row's mean L1 distance to its nearest target-class rows.

        A realism critic for candidates that are already valid: a row
        among many training rows of its target class is close to them, a
        row the class rarely looks like (e.g. a number out of the class's
        modes) is far. The mean over ``n_neighbours`` rows, rather than the
        nearest one, keeps a single odd training row from vouching for a
        candidate: the k-nearest-neighbour score of outlier detection
        (Ramaswamy et al. 2000 take the k-th neighbour's distance; the mean
        over the k is Angiulli and Pizzuti's 2002 variant).

        Parameters
        ----------
        Xt : numpy.ndarray of shape (r, n_encoded)
            Encoded candidates.
        resolved : ResolvedTarget
            Their targets.
        n_neighbours : int, default=10
            Reference rows averaged over (fewer where fewer reach the
            target).
        block : int, default=1024
            Rows compared with the pool at once (bounds memory).

        Returns
        -------
        numpy.ndarray of float64, shape (r,)
            Unweighted L1 distance on the encoding; ``inf`` where no
            reference row reaches the target.
        """
        typical = np.full(len(Xt), np.inf)
        weights = np.ones(self.n_features)
        for part, _, distance in self._distance_blocks(Xt, resolved, weights, block):
            depth = min(n_neighbours, distance.shape[1])
            nearest = np.partition(distance, depth - 1, axis=1)[:, :depth]
            n_finite = np.isfinite(nearest).sum(axis=1)
            total = np.where(np.isfinite(nearest), nearest, 0.0).sum(axis=1)
            typical[part] = np.where(
                n_finite > 0, total / np.maximum(n_finite, 1), np.inf
            )
        return typical

    def _distance_blocks(self, Xt, resolved, feature_weights, block):
        """Yield ``(rows, pool rows, distances)`` blocks towards each row's target.

        The distance is L1 on the encoding, each column weighted by its
        feature's weight; a classifier's rows are compared with the
        reference rows of their target class only, a regression's with all
        of them, ``inf`` where a reference row misses the row's target.
        """
        scale = torch.as_tensor(
            np.asarray(feature_weights)[self.feature_of_column], dtype=torch.float32
        )
        rows = torch.as_tensor(np.asarray(Xt, dtype=np.float32))
        pool = torch.as_tensor(self.Xt)
        if self.task == CLASSIFICATION:
            labels = self.y_model.argmax(axis=1)
            wanted = resolved.labels
            groups = [
                (np.flatnonzero(wanted == k), np.flatnonzero(labels == k), None)
                for k in np.unique(wanted)
            ]
        else:
            groups = [(np.arange(len(Xt)), np.arange(len(self.Xt)), resolved)]
        binary = self.binary_columns & _binary_columns(Xt)
        for members, candidates, per_row in groups:
            if not len(candidates):
                continue
            pool_part = pool[candidates]
            for start in range(0, len(members), block):
                part = members[start : start + block]
                distance = _l1_distances(rows[part], pool_part, scale, binary).numpy()
                if per_row is not None:
                    allowed = self.reaches(per_row.take(part))[:, candidates]
                    distance[~allowed] = np.inf
                yield part, candidates, distance


def nearest_of_rank(several, rank):
    """Pick each row's ``rank``-th reference row, or its farthest there is.

    Parameters
    ----------
    several : numpy.ndarray of int, shape (r, depth)
        :meth:`ReferenceRows.nearest_several`'s answer.
    rank : numpy.ndarray of int, shape (r,)
        The wanted rank per row (below ``depth``).

    Returns
    -------
    numpy.ndarray of int, shape (r,)
        Index into the pool, -1 where no reference row reaches the target.
    """
    n_found = (several >= 0).sum(axis=1)
    column = np.minimum(rank, np.maximum(n_found - 1, 0))
    return several[np.arange(len(several)), column]


def _nearest_columns(distance, depth):
    """Return each row's ``depth`` smallest columns, smallest first, ``(r, depth)``.

    The same as ``np.argsort(distance, axis=1, kind="stable")[:, :depth]``
    (equal distances keep the pool's order, as ``argmin`` does) without
    sorting whole rows: ``torch.topk`` finds each row's ``depth + 1``
    smallest, whose order is the answer where no two of them are equal;
    rows with such ties sort the columns up to their ``depth``-th smallest
    distance by (distance, column). With Race and Sex immutable on Adult,
    the full sorts took a fifth of the AE's transform.
    """
    r, m = distance.shape
    if 2 * depth >= m:
        # Most of each row is wanted: a full sort costs no more, and tied
        # rows would otherwise sort most of their columns one by one.
        return np.argsort(distance, axis=1, kind="stable")[:, :depth]
    values, chosen = torch.topk(
        torch.from_numpy(distance), depth + 1, dim=1, largest=False, sorted=True
    )
    values, chosen = values.numpy(), chosen.numpy()[:, :depth].astype(np.int64)
    tied = np.flatnonzero((values[:, 1:] == values[:, :-1]).any(axis=1))
    if not len(tied):
        return chosen
    part = distance[tied]
    kth = values[tied, depth - 1]
    rows, columns = np.nonzero(part <= kth[:, None])
    order = np.lexsort((columns, part[rows, columns], rows))
    rows, columns = rows[order], columns[order]
    # Position of each kept column within its row, nearest first.
    counts = np.bincount(rows, minlength=len(tied))
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    place = np.arange(len(rows)) - start[rows]
    first = place < depth
    chosen[tied[rows[first]], place[first]] = columns[first]
    return chosen


def _binary_columns(X):
    """Return which columns of ``X`` hold only 0 and 1, shape ``(n_columns,)``."""
    X = np.asarray(X)
    return ((X == 0) | (X == 1)).all(axis=0)


def _l1_distances(rows, pool, weights, binary):
    """Return the weighted L1 distances between ``rows`` and ``pool``, ``(r, m)``.

    Several times faster than ``torch.cdist(..., p=1)`` on one-hot
    encodings: on a column where both sides hold only 0 and 1,
    ``w |a - b| = w (a + b - 2ab)``, whose sum over the columns is a
    matrix product; the other columns go through ``cdist`` in float64.

    Parameters
    ----------
    rows : torch.Tensor of shape (r, n_encoded)
    pool : torch.Tensor of shape (m, n_encoded)
    weights : torch.Tensor of shape (n_encoded,)
        Weight of each column.
    binary : numpy.ndarray of bool, shape (n_encoded,)
        Columns where both sides hold only 0 and 1.

    Returns
    -------
    torch.Tensor of float64
    """
    # Near ties between reference rows (a few 1e-8 apart) are common on
    # tables: the continuous columns are summed in float64 so that float32
    # rounding does not pick among them at random. The 0/1 part is exact in
    # float32 (sums of whole numbers) while the weights are whole numbers.
    mask = torch.as_tensor(binary)
    other = ~mask
    distance = None
    if other.any():
        w = weights[other].double()
        distance = torch.cdist(
            rows[:, other].double() * w, pool[:, other].double() * w, p=1
        )
    if mask.any():
        w = weights[mask]
        a, b = rows[:, mask] * w, pool[:, mask]
        mismatches = a.sum(dim=1, keepdim=True) + (b * w).sum(dim=1)[None, :]
        mismatches -= 2.0 * a @ b.T
        if distance is None:
            distance = mismatches.double()
        else:
            # Added in float64 without a float64 copy of the (r, m) matrix:
            # that copy and a zero matrix to start from took a quarter of
            # this function's time on Adult.
            distance += mismatches
    if distance is None:
        distance = torch.zeros(len(rows), len(pool), dtype=torch.float64)
    # Equal rows could come out a rounding error below zero.
    return distance.clamp_(min=0.0)


def path_order(distances, frozen):
    """Order each row's features for a training-row path, largest change first.

    Parameters
    ----------
    distances : numpy.ndarray of shape (r, n_features)
        Per-feature distance to the reference row.
    frozen : numpy.ndarray of shape (r, n_features)
        1 where the feature may not change.

    Returns
    -------
    order : numpy.ndarray of int, shape (r, n_features)
        Features by decreasing distance.
    n_movable : numpy.ndarray of int, shape (r,)
        How many leading features of ``order`` differ and may change.
    """
    movable = (distances > 0) & (frozen == 0)
    key = np.where(movable, distances, -1.0)
    order = np.argsort(-key, axis=1, kind="stable")
    return order, movable.sum(axis=1)
