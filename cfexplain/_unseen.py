"""Rows of a table that hold a category the explainer's ``fit`` did not see.

The encoder has no input for such a category, so no counterfactual of the
row can be generated. By default ``transform`` refuses the batch with an
:class:`~cfexplain.InvalidDataError` naming the row and the fix; with
``handle_unknown="warn"`` (as scikit-learn's ``OneHotEncoder`` names the
choice) the explainer answers the other rows, returns these unchanged and
says how many in an :class:`~cfexplain.UnseenCategoryWarning`. The scores
(``score`` and :mod:`cfexplain.metrics`' scorers) always leave such rows
out: in cross-validation every test fold of a zip-code column holds one.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ._stacklevel import user_stacklevel
from ._targets import _class_index, align_target
from .exceptions import UnseenCategoryWarning

__all__ = ["describe_unknown", "known_rows", "put_back", "rows_to_score", "take_rows"]


def known_rows(explainer, X):
    """Flag the rows of ``X`` whose every category ``fit`` saw.

    Returns
    -------
    numpy.ndarray of bool of shape (n_samples,), or None
        ``None`` where every row is known, or where the explainer's data
        have no categories (series, images, all-numeric tables).
    """
    flag = getattr(getattr(explainer, "encoder_", None), "known_category_rows", None)
    if flag is None:
        return None
    with warnings.catch_warnings():
        # An array given to an explainer fitted on a frame: the explainer's
        # own check says so to the user; its encoder, an internal object,
        # would say it a second time under its own name.
        warnings.filterwarnings(
            "ignore", "X does not have valid feature names", UserWarning
        )
        known = flag(X)
    return None if known.all() else known


def describe_unknown(X, known):
    """Say how many rows are unknown and name the first by label or position."""
    first = int(np.argmax(~known))
    index = getattr(X, "index", None)
    if isinstance(index, pd.Index):
        label = index[first]
        if isinstance(label, np.generic):
            label = label.item()  # 28150, not np.int64(28150)
        where = f"the first in the row with index {label!r}"
        if not index.is_unique:
            where += f" (position {first}; the index repeats labels)"
    else:
        where = f"the first at position {first}"
    return (
        f"{int((~known).sum())} of {len(known)} rows hold a category the "
        f"explainer's fit did not see ({where})"
    )


def take_rows(explainer, X, target, known):
    """Return the rows of ``X`` flagged by ``known`` and their part of ``target``.

    A pandas target is matched to ``X`` by index label first
    (:func:`~cfexplain._targets.align_target`). One entry per row is taken
    along with the rows; anything else holds for every row, including a
    probability vector as long as ``X`` (a float vector over the classes
    whose values are not all class labels, as ``transform`` reads it).
    """
    # Imported here: the base class imports this module.
    from ._base import _chunk_of_target, _n_rows, _take

    target, positions = align_target(target, X), np.flatnonzero(known)

    if not isinstance(X, (pd.DataFrame, np.ndarray)):
        X = np.asarray(X, dtype=object)  # a list of mixed rows stays mixed
    rows = _take(X, positions)
    classes = getattr(explainer, "classes_", None)
    vector = None
    if not (target is None or isinstance(target, (str, tuple))):
        vector = np.asarray(target)
    if (
        vector is not None
        and classes is not None
        and vector.ndim == 1
        and vector.dtype.kind == "f"
        and len(vector) == len(classes)
        and not all(_class_index(classes, v) is not None for v in vector.tolist())
    ):
        return rows, target
    return rows, _chunk_of_target(target, _n_rows(X), positions)


def rows_to_score(explainer, X, target=None):
    """Return the rows of ``X`` a score can use, and their part of ``target``.

    Rows holding a category ``fit`` did not see are left out with a
    :class:`~cfexplain.UnseenCategoryWarning` saying how many, whatever
    ``handle_unknown`` says: in a cross-validation fold of a column with
    many categories (zip codes) nearly every test fold holds one, and every
    score would fail. ``(None, None)`` when no row is left. The warning
    names the user's line.
    """
    known = known_rows(explainer, X)
    if known is None:
        return X, target
    warnings.warn(
        f"{describe_unknown(X, known)}; they are left out of the score (in "
        "cross-validation: a category missing from the training folds). To "
        "score them, fit on rows that hold every category or group rare "
        "categories together",
        UnseenCategoryWarning,
        stacklevel=user_stacklevel(),
    )
    if not known.any():
        # No row reaches the score's own checks: give the input's warnings
        # (an array to an explainer fitted on a frame) here.
        explainer.adapter_.check_input(explainer, X, reset=False)
        return None, None
    return take_rows(explainer, X, target, known)


def put_back(X, answers, known):
    """Return ``X`` in the answers' type with the known rows' answers in place.

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_samples, n_features)
        The rows given to ``transform``.
    answers : DataFrame, numpy.ndarray of shape (n_known, n_features) or None
        ``transform``'s answers for the rows flagged by ``known``, in
        ``X``'s type and dtypes; ``None`` where no row is known.
    known : numpy.ndarray of bool of shape (n_samples,)

    Returns
    -------
    DataFrame or numpy.ndarray of shape (n_samples, n_features)
        The answers at the known rows' places, the other rows as given.
    """
    positions, others = np.flatnonzero(known), np.flatnonzero(~known)
    if isinstance(X, pd.DataFrame):
        if answers is None:
            return X.copy()
        # Same columns and dtypes on both sides, so concat keeps them; the
        # index labels, duplicates included, travel with their rows.
        merged = pd.concat([answers, X.iloc[others]])
        return merged.iloc[np.argsort(np.concatenate([positions, others]))]
    if answers is None:
        return np.array(X, dtype=None if isinstance(X, np.ndarray) else object)
    merged = np.array(X, dtype=answers.dtype)
    merged[positions] = answers
    return merged
