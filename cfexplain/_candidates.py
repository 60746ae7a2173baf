"""The candidate engine: k counterfactuals for n rows as one (k·n) batch.

``transform``, ``explain`` and ``score`` all go through
:meth:`BaseCounterfactualExplainer._candidates`, which uses these pieces:
the candidates of every row are generated in one call of the net, decoded
in one call of the adapter and, when they must be ranked, scored in one
call of the real model. Batches are *candidate-major*: row ``i`` of
candidate ``j`` sits at position ``j * n + i``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ._random import torch_generator

__all__ = [
    "CandidateBatch",
    "CandidateSet",
    "fixed_noise",
    "rank_candidates",
    "repeat_rows",
]


def repeat_rows(array, k):
    """Stack ``k`` copies of ``array`` (candidate-major), shape ``(k * n, ...)``."""
    return np.tile(array, (k,) + (1,) * (array.ndim - 1))


def fixed_noise(width, n_rows, n_candidates, seed):
    """Return the noise of ``n_candidates`` deterministic candidates per row.

    Candidate 0 gets zeros (the noise-free answer); candidate ``j > 0`` one
    vector drawn from ``seed + j`` and shared by every row, so a row's
    candidates do not depend on the other rows of its batch.

    Parameters
    ----------
    width : int
        The module's noise width; 0 means it reads no noise.
    n_rows, n_candidates : int
        Rows and candidates per row.
    seed : int
        The explainer's fitted seed.

    Returns
    -------
    numpy.ndarray of float32, shape (n_candidates * n_rows, width), or None
    """
    if width == 0:
        return None
    blocks = [np.zeros((n_rows, width), dtype=np.float32)]
    for candidate in range(1, n_candidates):
        z = torch.randn(width, generator=torch_generator(seed + candidate)).numpy()
        blocks.append(np.broadcast_to(z, (n_rows, width)))
    return np.concatenate(blocks).astype(np.float32, copy=False)


def rank_candidates(costs, grade, n_first):
    """Order each row's candidates: the best of the first ``n_first``, then the rest.

    A higher grade comes first (valid before invalid), each grade by
    increasing cost; the sort is stable, so ties keep the candidate order
    (the noise-free one first).

    Parameters
    ----------
    costs : numpy.ndarray of float, shape (n, k)
        Lower is better.
    grade : numpy.ndarray of bool or int, shape (n, k)
        Each candidate's grade, higher is better (see
        ``cfexplain._engine.ACCEPTED``), or whether it reaches its target by
        the real model.
    n_first : int
        Column 0 of the answer is the best among the first ``n_first``
        candidates (``transform``'s answer).

    Returns
    -------
    numpy.ndarray of int, shape (n, k)
        Candidate numbers per row.
    """
    n = len(costs)
    worse = -np.asarray(grade, dtype=np.int64)
    best = np.lexsort((costs[:, :n_first], worse[:, :n_first]), axis=1)[:, 0]
    order = np.lexsort((costs, worse), axis=1)
    others = order[order != best[:, None]].reshape(n, -1)
    return np.column_stack([best, others])


@dataclass(frozen=True)
class CandidateBatch:
    """The rows one call of the engine explains, and what every round needs.

    Parameters
    ----------
    X : object
        What the user passed (its type is the model's input format).
    rows : object
        The checked rows in the adapter's format.
    Xt : numpy.ndarray of float32, shape (n, n_encoded)
        The encoded rows.
    y_model : numpy.ndarray
        The model's outputs on them.
    target : ResolvedTarget
        Each row's target.
    condition, target_condition : numpy.ndarray of float32
        ``y_M`` and ``y_T`` as the generator reads them.
    frozen_features : numpy.ndarray of float32, shape (n_features,)
        1 for each immutable feature.
    frozen_columns : numpy.ndarray of float32, shape (n, n_encoded)
        The same per encoded column and row.
    constraints : object
        The parsed constraints (``apply(X, X_cf)``).
    reference_rank : numpy.ndarray of int, shape (n,), optional
        Which target-class training row a training-row repair moves each
        row towards: 0 the nearest, ``j`` the ``j + 1``-th nearest. ``None``
        means 0 for every row; ``explain`` sets ``j`` for the ``j``-th
        counterfactual of a row, so that its repaired answers differ.
    plausibility_keys : numpy.ndarray, optional
        What the adapter's plausibility check compares a row's
        counterfactuals with (tables: the originals' category codes, see
        :meth:`~cfexplain.modalities.ModalityAdapter.plausibility_keys`);
        ``None`` where the modality checks nothing.
    """

    X: object
    rows: object
    Xt: np.ndarray
    y_model: np.ndarray
    target: object
    condition: np.ndarray
    target_condition: np.ndarray
    frozen_features: np.ndarray
    frozen_columns: np.ndarray
    constraints: object
    reference_rank: np.ndarray | None = None
    plausibility_keys: np.ndarray | None = None


@dataclass(frozen=True)
class CandidateSet:
    """What the engine returns for a batch of rows.

    Parameters
    ----------
    rows : object
        The checked originals in the adapter's row format.
    y_model : numpy.ndarray
        The model's outputs on them.
    target : ResolvedTarget
        The resolved target of each row.
    counterfactuals : object
        ``k`` counterfactuals per row, candidate-major (``k * n`` rows); the
        first ``n`` are ``transform``'s answer.
    y_counterfactual : numpy.ndarray or None
        The model's outputs on ``counterfactuals`` when ranking computed
        them, else ``None``.
    plausibility_keys : numpy.ndarray or None
        The originals' keys of the plausibility check (tables: category
        codes), ``None`` without the check.
    """

    rows: object
    y_model: np.ndarray
    target: object
    counterfactuals: object
    y_counterfactual: np.ndarray | None
    plausibility_keys: np.ndarray | None = None
