"""Parse the ``target=`` a user asks for into per-row target vectors.

A target says what the model should predict for the counterfactual. Users
write it in whatever form is natural for their task (see
:func:`resolve_target`); the generators need it as numbers per row: a target
probability vector for classifiers (paper 1, section 3.1: :math:`y_T`), an
interval for regressors. :class:`ResolvedTarget` holds those numbers and knows
whether a model output reaches them.
"""

from __future__ import annotations

import difflib
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._predictor import CLASSIFICATION, REGRESSION
from ._stacklevel import user_stacklevel
from .exceptions import AmbiguousTargetWarning, TargetError

__all__ = ["ResolvedTarget", "align_target", "per_row_labels", "resolve_target"]

_PROBA_ATOL = 1e-3
#: Probabilities of a soft target closer than this tie: float32 arithmetic
#: (a target computed by a network) leaves differences of about 1e-7.
_TIE_ATOL = 1e-6


@dataclass(frozen=True)
class ResolvedTarget:
    """Per-row targets, ready for a generator and for checking validity.

    Parameters
    ----------
    task : {"classification", "regression"}
        The model's task.
    proba : numpy.ndarray of shape (n, n_classes) or None
        Target distribution per row (classification). A hard target is one
        hot; a soft target is any probability vector (paper 1, figure 8).
    low, high : numpy.ndarray of shape (n,) or None
        Closed interval the model's value must fall in (regression).
    """

    task: str
    proba: np.ndarray | None = None
    low: np.ndarray | None = None
    high: np.ndarray | None = None

    def __len__(self):
        return len(self.proba) if self.task == CLASSIFICATION else len(self.low)

    @property
    def labels(self) -> np.ndarray:
        """Index of the target class per row: the argmax of :attr:`proba`."""
        if self.task != CLASSIFICATION:
            raise AttributeError("regression targets have no class labels")
        return self.proba.argmax(axis=1)

    def is_met(self, y_model) -> np.ndarray:
        """Return which rows of a model output reach the target.

        Parameters
        ----------
        y_model : numpy.ndarray
            The model's probabilities ``(n, n_classes)`` or values ``(n,)``
            for the counterfactuals.

        Returns
        -------
        numpy.ndarray of bool, shape (n,)
            Classification: the target's most likely class is strictly the
            model's most likely class (for soft targets too); a tie such as
            ``[0.5, 0.5]`` reaches no class, whatever ``argmax`` picks.
            Regression: the value lies in ``[low, high]``.
        """
        y_model = np.asarray(y_model)
        if self.task == CLASSIFICATION:
            top = y_model.max(axis=1, keepdims=True)
            unique_top = (y_model == top).sum(axis=1) == 1
            return (y_model.argmax(axis=1) == self.labels) & unique_top
        return (y_model >= self.low) & (y_model <= self.high)

    def condition(self, output_range=None) -> np.ndarray:
        """Return the target as float32 conditioning input for a generator.

        Parameters
        ----------
        output_range : tuple of float, optional
            ``(lowest, highest)`` output of the model on its training rows.
            An open side of an interval (``±inf``) is closed there for the
            generator, which saw only targets inside that range while
            training: ``(45, inf)`` conditions like ``(45, highest)`` (or
            like the value 45 where 45 is beyond it). Validity still
            counts every value above 45.

        Returns
        -------
        numpy.ndarray of float32
            ``proba`` for classifiers; for regressors two columns, the
            interval's middle and half-width.

        Raises
        ------
        TargetError
            An interval is open and no ``output_range`` is given.
        """
        if self.task == CLASSIFICATION:
            return self.proba.astype(np.float32)
        low, high = self.low, self.high
        open_low, open_high = np.isinf(low), np.isinf(high)
        if open_low.any() or open_high.any():
            if output_range is None:
                raise TargetError(
                    "a half-open interval needs the range of the model's "
                    "outputs on its training rows, which this explainer does "
                    "not hold (it was fit by an older version): fit it again, "
                    "or give both bounds"
                )
            lowest, highest = output_range
            low = np.where(open_low, np.minimum(lowest, high), low)
            high = np.where(open_high, np.maximum(highest, low), high)
        middle = (low + high) / 2
        half_width = (high - low) / 2
        return np.column_stack([middle, half_width]).astype(np.float32)

    def take(self, index) -> ResolvedTarget:
        """Return the targets of a subset of rows.

        Parameters
        ----------
        index : array-like of int or bool
            Rows to keep.

        Returns
        -------
        ResolvedTarget
        """
        if self.task == CLASSIFICATION:
            return ResolvedTarget(self.task, proba=self.proba[index])
        return ResolvedTarget(self.task, low=self.low[index], high=self.high[index])


def _class_index(classes, label):
    """Position of ``label`` in ``classes``, or ``None``."""
    for i, known in enumerate(classes.tolist()):
        if known == label or (
            isinstance(known, numbers.Number)
            and isinstance(label, numbers.Number)
            and not isinstance(label, bool)
            and float(known) == float(label)
        ):
            return i
    return None


def _labels_to_index(labels, classes):
    index = []
    for label in labels:
        found = _class_index(classes, label)
        if found is None:
            hint = ""
            if isinstance(label, str) and difflib.get_close_matches(
                label.lower(), ["opposite"], cutoff=0.75
            ):
                # "Opposite", "opposit": the keyword, misspelt.
                hint = "; for the model's most likely other class, pass 'opposite'"
            elif _positional(classes) and not _is_integer(label):
                # A plain function or module has no class labels: its
                # classes are its output columns' positions, whatever a
                # DataFrame it returns calls them.
                hint = (
                    "; the classes of a model given as a plain function or "
                    "module are the positions of its output columns (a "
                    "DataFrame's column names are not read): ask for the "
                    "position (target=1), or give the fitted classifier or "
                    "its bound predict_proba, whose classes_ name them"
                )
            raise TargetError(
                f"target {label!r} is not one of the model's classes "
                f"{classes.tolist()}{hint}"
            )
        index.append(found)
    return np.asarray(index, dtype=int)


def _positional(classes):
    """Whether ``classes`` are the positions ``0 .. k-1`` a plain function gets."""
    return np.asarray(classes).dtype.kind in "iu" and np.array_equal(
        classes, np.arange(len(classes))
    )


def _is_integer(label):
    return isinstance(label, (numbers.Integral, np.integer)) and not isinstance(
        label, (bool, np.bool_)
    )


def _check_proba(proba, n_classes, classes=None):
    if proba.shape[-1] != n_classes:
        raise TargetError(
            f"a probability target needs {n_classes} values per row (one per "
            f"class), got {proba.shape[-1]}"
        )
    problem = _probability_problem(proba)
    if problem is not None:
        raise TargetError(problem)
    proba = proba / proba.sum(axis=-1, keepdims=True)
    # Validity of a soft target is judged by its most likely class
    # (ResolvedTarget.is_met): a tie names none, and argmax would
    # quietly pick the first.
    top = proba.max(axis=-1, keepdims=True)
    tied = np.flatnonzero((proba >= top - _TIE_ATOL).sum(axis=-1) > 1)
    if len(tied):
        row = np.atleast_2d(proba)[tied[0]]
        names = np.arange(n_classes) if classes is None else np.asarray(classes)
        tie = names[np.flatnonzero(row >= row.max() - _TIE_ATOL)].tolist()
        raise TargetError(
            "a probability target is reached when the model's most likely "
            "class is the target's, so it needs a single most likely class; "
            f"classes {tie} tie"
            f"{f' in row {tied[0]}' if proba.ndim == 2 else ''}: give the class "
            "you aim for a higher probability than the others"
        )
    return proba


def _probability_problem(proba):
    """Say why rows are not probability vectors, or ``None`` if they are."""
    if not np.all(np.isfinite(proba)) or np.any(proba < 0) or np.any(proba > 1):
        return "probability targets must be finite and within [0, 1]"
    sums = np.ravel(proba.sum(axis=-1))
    if np.any(np.abs(sums - 1) > _PROBA_ATOL):
        return (
            "probability targets must sum to 1, got a row summing to "
            f"{sums[np.argmax(np.abs(sums - 1))]:.4g}"
        )
    return None


def _could_be_probabilities(array):
    return _probability_problem(np.asarray(array, dtype=float)) is None


def _opposite(y_model):
    """Return the most likely class other than the predicted one, as one-hot rows.

    Where several other classes share the largest probability (always, for
    a multi-class model given as ``predict``, read as one-hot rows), the
    first of them in ``classes_`` order is taken, with an
    :class:`~cfexplain.AmbiguousTargetWarning` counting those rows.
    """
    scores = np.array(y_model, dtype=float)
    rows = np.arange(len(scores))
    predicted = scores.argmax(axis=1)
    scores[rows, predicted] = -np.inf
    other = scores.argmax(axis=1)
    tied = (scores == scores[rows, other][:, None]).sum(axis=1) > 1
    if tied.any():
        warnings.warn(
            f"target 'opposite' is the most likely class other than the "
            f"predicted one, but for {int(tied.sum())} of {len(tied)} rows the "
            "model gives several other classes the same probability (all 0 "
            "for a model given as predict, which gives labels only, or for a "
            "forest whose trees agree); those rows take the first of them in "
            "classes_ order. Name the target class (or one per row), or, for "
            "a model given as predict, give its predict_proba (an SVC's "
            "probability=True) or its decision_function (an SVC's with "
            "break_ties=True)",
            AmbiguousTargetWarning,
            stacklevel=user_stacklevel(),
        )
    return np.eye(y_model.shape[1])[other]


def _resolve_classification(target, y_model, classes):
    n, n_classes = y_model.shape
    if isinstance(target, str) and target == "opposite":
        return _opposite(y_model)
    array = np.asarray(target)
    if array.dtype.kind in "f" and array.ndim == 2:
        proba = _check_proba(array.astype(float), n_classes, classes)
        if len(proba) not in (1, n):
            raise TargetError(
                f"a matrix of probability targets needs one row per instance "
                f"({n}) or a single row, got {len(proba)} rows"
            )
        return np.broadcast_to(proba, (n, n_classes)).copy()
    if array.ndim == 0:
        index = _labels_to_index([array.item()], classes)
        return np.eye(n_classes)[np.full(n, index[0])]
    if array.ndim == 1:
        labels_match = all(_class_index(classes, v) is not None for v in array.tolist())
        interval_hint = ""
        open_interval = isinstance(target, tuple) and all(
            v is None or (isinstance(v, numbers.Real) and not isinstance(v, bool))
            for v in target
        )
        if open_interval and len(target) == 2 and None in target:
            raise TargetError(
                f"target {target!r} is an interval, a target for regression "
                "models, and this model is a classifier: ask for 'opposite', "
                f"a class of {classes.tolist()} or class probabilities"
            )
        if len(array) == 2 and (array.dtype.kind in "iuf" or open_interval):
            interval_hint = (
                "; a (low, high) interval is a target for regression models, "
                "and this model is a classifier"
            )
        floats = array.dtype.kind == "f"
        if floats and len(array) == n_classes:
            if labels_match and len(array) == n:
                if _could_be_probabilities(array):
                    raise TargetError(
                        f"target {array.tolist()} reads both as one label per "
                        f"row ({n} rows) and as a probability vector over the "
                        f"{n_classes} classes: pass labels as integers or "
                        "strings, or probabilities as a one-row matrix "
                        f"([{array.tolist()}])"
                    )
            else:
                try:
                    proba = _check_proba(array.astype(float), n_classes, classes)
                except TargetError as error:
                    if interval_hint and isinstance(target, tuple):
                        raise TargetError(f"{error}{interval_hint}") from None
                    raise
                return np.broadcast_to(proba, (n, n_classes)).copy()
        if len(array) != n:
            hint = interval_hint
            if floats and _could_be_probabilities(array):
                hint = (
                    f"; a probability vector needs one value per class "
                    f"({n_classes}: {classes.tolist()})"
                )
            raise TargetError(
                f"a per-row target needs one label per instance ({n}), got "
                f"{len(array)}{hint}"
            )
        return np.eye(n_classes)[_labels_to_index(array.tolist(), classes)]
    raise TargetError(
        f"cannot read a classification target of shape {array.shape}: use "
        "'opposite', a class label, one label per row, a probability vector or "
        "a matrix of probabilities"
    )


def _resolve_regression(target, n, tolerance):
    if isinstance(target, str):
        raise TargetError(
            f"target={target!r} is not meaningful for a regression model; give a "
            "value, an interval (low, high), or one value or interval per row. "
            "The model was read as a regression model because it returns one "
            "value per row: if it is a classifier, give the fitted classifier "
            "or a function returning probabilities of shape (n, n_classes); a "
            "torch module with one logit per row takes task='classification'"
        )
    if isinstance(target, tuple) and len(target) == 2:
        if any(
            bound is not None and not isinstance(bound, numbers.Real)
            for bound in target
        ):
            raise TargetError(
                f"a target interval needs two numbers, got {target!r}; for a "
                "half-open interval give None (or an infinite number) on the "
                "open side, e.g. (45, None)"
            )
        # None leaves a side open, as in bounds=.
        low, high = (
            np.full(n, default if bound is None else float(bound))
            for bound, default in zip(target, (-np.inf, np.inf), strict=True)
        )
    else:
        entries = (
            _object_entries(target) if _entries_with_open_sides(target) else target
        )
        if (
            isinstance(entries, np.ndarray)
            and entries.dtype == object
            and entries.ndim == 1
            and any(isinstance(item, tuple) for item in entries)
        ):
            return _check_bounds(*_per_row_bounds(entries, n, tolerance), target)
        if (
            isinstance(target, list)
            and len(target) == 2 == n
            and not any(isinstance(item, (tuple, list)) for item in target)
        ):
            # A tuple is an interval and an array is per row; a list of two
            # for two rows would be read per row while meant as either.
            raise TargetError(
                f"target {target!r} for 2 rows reads both as one value per "
                f"row and as an interval: give {tuple(target)!r} (a tuple) "
                f"for an interval, or np.array({target!r}) for one value per "
                "row"
            )
        array = np.asarray(target, dtype=float)
        if array.ndim == 0:
            low = np.full(n, array.item() - tolerance)
            high = np.full(n, array.item() + tolerance)
        elif array.ndim == 1 and len(array) == n:
            low, high = array - tolerance, array + tolerance
        elif array.ndim == 2 and array.shape == (n, 2):
            low, high = array[:, 0].copy(), array[:, 1].copy()
        else:
            raise TargetError(
                f"cannot read a regression target of shape {array.shape} for "
                f"{n} rows: use a value, (low, high), {n} values or an "
                f"array of shape ({n}, 2) of intervals"
            )
    return _check_bounds(low, high, target)


def _per_row_bounds(items, n, tolerance):
    """Read a list with a value or a ``(low, high)`` interval per row.

    ``None`` leaves a side of an interval open, as in a single tuple; a
    value gets the tolerance of a value target.
    """
    if len(items) != n:
        raise TargetError(
            f"a per-row target needs one value or (low, high) interval per row "
            f"({n}), got {len(items)}"
        )
    low, high = np.empty(n), np.empty(n)
    for row, item in enumerate(items):
        if isinstance(item, (tuple, list)):
            if len(item) != 2 or any(
                bound is not None
                and (not isinstance(bound, numbers.Real) or isinstance(bound, bool))
                for bound in item
            ):
                raise TargetError(
                    f"the target of row {row}, {item!r}, is not a (low, high) "
                    "interval of two numbers (None for an open side)"
                )
            low[row] = -np.inf if item[0] is None else float(item[0])
            high[row] = np.inf if item[1] is None else float(item[1])
        elif isinstance(item, numbers.Real) and not isinstance(item, bool):
            low[row], high[row] = item - tolerance, item + tolerance
        else:
            raise TargetError(
                f"the target of row {row}, {item!r}, is neither a value nor a "
                "(low, high) interval"
            )
    return low, high


def _check_bounds(low, high, target):
    """Refuse per-row bounds that no value can meet, or that every value meets."""
    if np.isnan(low).any() or np.isnan(high).any():
        raise TargetError(
            "regression targets must be numbers, not NaN (None in an array "
            "becomes NaN); for a half-open interval give None on the open "
            "side of a (low, high) tuple, e.g. (45, None), or an infinite "
            "number, e.g. np.inf in an (n, 2) array of intervals"
        )
    if (np.isinf(low) & (low > 0)).any() or (np.isinf(high) & (high < 0)).any():
        raise TargetError(
            "a target interval cannot start at +inf or end at -inf: no value lies in it"
        )
    if (np.isinf(low) & np.isinf(high)).any():
        raise TargetError(
            "a target interval needs at least one finite bound: (-inf, inf) "
            "holds every value, so every row already reaches it"
        )
    if np.any(low > high):
        row = int(np.argmax(low > high))
        # One interval for every row needs no row number.
        where = "" if isinstance(target, tuple) else f" at row {row}"
        raise TargetError(
            f"target interval has low > high ({low[row]} > {high[row]}){where}"
        )
    return low, high


def _entries_with_open_sides(target):
    """Whether ``target`` is a list of intervals numpy cannot read as numbers.

    That is a list of per-row ``(low, high)`` intervals with ``None`` for
    an open side, or mixed with plain values; an ``(n, 2)`` list of numbers
    (or of probabilities) is left to ``np.asarray``.
    """
    if not isinstance(target, list) or not any(
        isinstance(item, (tuple, list)) for item in target
    ):
        return False
    return any(
        not isinstance(item, (tuple, list)) or any(bound is None for bound in item)
        for item in target
    )


def _object_entries(items):
    """Return a list as a 1-D object array, one entry (tuple or value) per row.

    Sliced like any per-row target (chunks, partitions, rows left out),
    where ``np.asarray`` of the list would fail on mixed entries or turn
    ``None`` into NaN.
    """
    entries = np.empty(len(items), dtype=object)
    for row, item in enumerate(items):
        entries[row] = tuple(item) if isinstance(item, list) else item
    return entries


def align_target(target, X):
    """Match a pandas per-row target to the rows of ``X`` by index label.

    A per-row target given as a :class:`pandas.Series` (labels, values) or
    :class:`pandas.DataFrame` (probability rows, intervals) belongs to the
    rows of ``X`` with the same index labels, whatever their order, as
    pandas aligns; read by position it would give rows each other's targets
    without a word. Against a :class:`pandas.MultiIndex` (``explain``'s
    counterfactuals, one level per original row and answer) a target
    indexed by the original rows matches the first level.

    Parameters
    ----------
    target : object
        The user's target; anything but a Series or DataFrame is returned
        as it is.
    X : object
        The rows to explain. Without an index (arrays) the target is read
        by position.

    Returns
    -------
    object
        ``target`` as a numpy array: in the order of ``X``'s rows when its
        index holds every label of ``X``'s index; as it is when it has not
        one entry per row either (a soft target over the classes, a single
        row of probabilities).

    Raises
    ------
    TargetError
        For a target with one entry per row of ``X`` whose index lacks
        labels of ``X``'s index or repeats labels.
    """
    if _entries_with_open_sides(target):
        return _object_entries(target)
    if not isinstance(target, (pd.Series, pd.DataFrame)):
        return target
    index = getattr(X, "index", None)
    if not isinstance(index, pd.Index):
        return target.to_numpy()
    if isinstance(index, pd.MultiIndex) and not isinstance(target.index, pd.MultiIndex):
        index = index.get_level_values(0)
    if target.index.equals(index):
        return target.to_numpy()
    if target.index.is_unique and index.isin(target.index).all():
        return target.reindex(index).to_numpy()
    if len(target) != len(index):
        return target.to_numpy()
    missing = index[~index.isin(target.index)]
    problem = (
        f"lacks labels of X's index, e.g. {missing[:5].tolist()}"
        if len(missing)
        else "repeats labels"
    )
    raise TargetError(
        "a pandas target with one entry per row is matched to the rows of X "
        f"by index label, and its index {problem}: give it X's index, or pass "
        "target.to_numpy() to match rows by position"
    )


def per_row_labels(values):
    """Return a per-row target as an object array of labels.

    Where the library slices a per-row target itself (chunks, partitions,
    the self-check's rows), a slice as long as the model has classes must
    not be read as a probability vector (:func:`resolve_target` reads
    object arrays as labels or values only). Arrays of another rank are
    returned as they are.

    Parameters
    ----------
    values : array-like
        Labels or regression values, one per row.

    Returns
    -------
    numpy.ndarray
    """
    values = np.asarray(values)
    return values.astype(object) if values.ndim == 1 else values


def resolve_target(target, y_model, *, task, classes=None, tolerance=0.0):
    """Turn a user's ``target=`` into a :class:`ResolvedTarget`.

    Parameters
    ----------
    target : str, scalar, tuple, array-like
        Classification:

        * ``"opposite"``: the most likely class other than the predicted one
          (for a binary model, the other class);
        * a class label, as in the model's ``classes_`` (e.g. ``">50K"``);
        * one label per row;
        * a probability vector over the classes (a soft target, the same for
          every row), or a matrix ``(n, n_classes)`` of them. Give labels as
          integers or strings: a float vector of length ``n_classes`` that
          sums to one is read as probabilities (where it could also be one
          label per row, it raises). A soft target is reached when the
          model's most likely class is the target's, so it must have a
          single most likely class.

        Regression: a value (reached within ``tolerance``), an interval
        ``(low, high)`` (closed; ``None`` or an infinite bound leaves a side
        open: ``(45, None)`` is "at least 45"), one value per row, or an
        ``(n, 2)`` array of intervals (``±inf`` for open sides).
    y_model : numpy.ndarray
        The model's outputs on the original rows: probabilities ``(n, k)`` or
        values ``(n,)``. ``"opposite"`` is read off them, and they fix ``n``.
    task : {"classification", "regression"}
        The model's task.
    classes : array-like, optional
        The model's class labels in the order of its probability columns;
        defaults to ``0 .. k-1``.
    tolerance : float, default=0.0
        Half-width of the interval around a regression value target.

    Returns
    -------
    ResolvedTarget

    Raises
    ------
    TargetError
        For an unknown class, probabilities that are negative, do not sum to
        one or tie for the most likely class, a float vector that reads both
        as labels and as probabilities, a per-row target of the wrong
        length, an interval with ``low > high``, or a form that fits neither
        task.
    """
    y_model = np.asarray(y_model)
    if target is None:
        raise TargetError("no target given; use e.g. target='opposite'")
    if task == CLASSIFICATION:
        classes = (
            np.arange(y_model.shape[1]) if classes is None else np.asarray(classes)
        )
        proba = _resolve_classification(target, y_model, classes)
        return ResolvedTarget(CLASSIFICATION, proba=proba.astype(float))
    if task == REGRESSION:
        low, high = _resolve_regression(target, len(y_model), float(tolerance))
        return ResolvedTarget(REGRESSION, low=low, high=high)
    raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
