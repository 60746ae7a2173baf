"""Explain-time constraints: immutable features, bounds and monotone directions.

Constraints hold *by construction*, never only through a loss: the generator
is told which features are frozen (it was trained with random frozen sets, so
it works around any of them), and the decoded counterfactuals are then
corrected column by column:

1. an immutable feature is copied from the original row, exactly;
2. a monotone feature may only move in its direction: ``"increasing"``
   keeps ``x_cf >= x``, ``"decreasing"`` keeps ``x_cf <= x`` (for an
   ordered ``category`` feature, in the order of its categories: a
   counterfactual that would move it the other way keeps the original's);
3. a bounded feature is clipped into ``[low, high]`` (for integer columns,
   ``[ceil(low), floor(high)]``).

**Conflicts.** Before anything is generated, the rows are checked against
the constraints (:meth:`Constraints.check_feasible`); constraints that no
counterfactual of a row can satisfy together raise a
:class:`~cfexplain.ConstraintError` naming the feature, the rows and the
constraints, so that every counterfactual returned satisfies every
constraint. The conflicts are: an immutable feature whose original value
lies outside its bounds; a monotone feature whose original value lies
beyond the bound it must move towards (``"increasing"`` and above ``high``,
``"decreasing"`` and below ``low``); and bounds of an integer feature that
hold no integer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .exceptions import ConstraintError

__all__ = [
    "Constraints",
    "ImageConstraints",
    "SeriesConstraints",
    "apply_constraints",
    "parse_constraints",
    "parse_image_constraints",
    "parse_series_constraints",
]

_DIRECTIONS = {"increasing": 1, "decreasing": -1, 1: 1, -1: -1}


@dataclass(frozen=True)
class Constraints:
    """Validated constraints, keyed by feature name.

    Parameters
    ----------
    immutable : tuple of str
        Features that must keep their value.
    bounds : dict of str to (float or None, float or None)
        Closed ranges of numerical features; ``None`` leaves a side open.
    monotonic : dict of str to {1, -1}
        Allowed direction of change of numerical features and of ordered
        categorical ones.
    feature_names : tuple of str
        All features, in order.
    category_orders : dict of str to tuple
        The categories, lowest first, of the monotone features that are
        ordered categories.
    """

    immutable: tuple = ()
    bounds: dict = field(default_factory=dict)
    monotonic: dict = field(default_factory=dict)
    feature_names: tuple = ()
    category_orders: dict = field(default_factory=dict)

    def as_numbers(self, name, values):
        """Return a monotone or bounded feature's values as float64 numbers.

        An ordered category's rank among its categories (lowest 0; a value
        outside them ``nan``), a number as it is, so that directions and
        bounds compare the same way for both.

        Parameters
        ----------
        name : str
            The feature.
        values : array-like of shape (n,)

        Returns
        -------
        numpy.ndarray of float64, shape (n,)
        """
        order = self.category_orders.get(name)
        if order is None:
            return np.asarray(values, dtype=np.float64)
        codes = pd.Index(order).get_indexer(np.asarray(values, dtype=object))
        return np.where(codes >= 0, codes, np.nan).astype(np.float64)

    def frozen_features(self) -> np.ndarray:
        """Return 1.0 for each feature the generator must leave unchanged.

        Returns
        -------
        numpy.ndarray of float32, shape (n_features,)
        """
        frozen = set(self.immutable)
        return np.array(
            [name in frozen for name in self.feature_names], dtype=np.float32
        )

    @property
    def alters_rows(self) -> bool:
        """Whether :meth:`apply` can change a row (a copied training row too)."""
        return bool(self.immutable or self.bounds or self.monotonic)

    def apply(self, X, X_cf):
        """Correct decoded counterfactuals in place; see :func:`apply_constraints`."""
        return apply_constraints(X, X_cf, self)

    def check_feasible(self, X):
        """Raise if some rows of ``X`` have no counterfactual within the constraints.

        Parameters
        ----------
        X : pandas.DataFrame
            Original rows, with the fitted features as columns.

        Raises
        ------
        ConstraintError
            Naming the feature, the rows (by position) and the constraints
            that conflict; see the module's docstring for the conflicts.
        """
        for name, conflict, values, why, fix in self._conflicts(X):
            _raise_for_rows(conflict, values, name, why, fix, X.index)

    def feasible(self, X):
        """Return which rows of ``X`` have counterfactuals within the constraints.

        Parameters
        ----------
        X : pandas.DataFrame
            Original rows, with the fitted features as columns.

        Returns
        -------
        numpy.ndarray of bool, shape (n_rows,)
        """
        ok = np.ones(len(X), dtype=bool)
        for _, conflict, *_ in self._conflicts(X):
            ok &= ~conflict
        return ok

    def outside_bounds(self, X):
        """Return which rows hold a value outside its feature's bounds.

        Their counterfactuals are clipped into the bounds whether or not
        the model needs it (``transform`` warns with
        :class:`~cfexplain.OutsideBoundsWarning`).

        Parameters
        ----------
        X : pandas.DataFrame
            Original rows, with the fitted features as columns.

        Returns
        -------
        rows : numpy.ndarray of bool, shape (n_rows,)
        features : list
            The bounded features some row lies outside of.
        """
        rows, features = np.zeros(len(X), dtype=bool), []
        for name, (low, high) in self.bounds.items():
            values = X[name].to_numpy(dtype=float)
            outside = (values < low) | (values > high)
            if outside.any():
                rows |= outside
                features.append(name)
        return rows, features

    def _conflicts(self, X):
        """Yield ``(feature, rows in conflict, values, why, fix)`` per conflict."""
        for name, (low, high) in self.bounds.items():
            column = X[name]
            values = column.to_numpy(dtype=float)
            if pd.api.types.is_integer_dtype(column.dtype):
                low, high = _integer_bounds(low, high)
                if low > high:
                    raise ConstraintError(
                        f"bounds {self.bounds[name]} of the integer feature "
                        f"{name!r} hold no integer; widen them"
                    )
            shown = f"bounds ({_show(low)}, {_show(high)})"
            if name in self.immutable:
                yield (
                    name,
                    (values < low) | (values > high),
                    values,
                    "it is immutable, so it keeps its original value, which "
                    f"lies outside its {shown}",
                    "Drop the bounds or immutable for this feature, or leave "
                    "these rows out",
                )
            direction = self.monotonic.get(name)
            if direction == 1:
                yield (
                    name,
                    values > high,
                    values,
                    "monotonic='increasing' forbids going below the original "
                    f"value, which lies above its {shown}",
                    "Relax the bounds or the direction, or leave these rows out",
                )
            elif direction == -1:
                yield (
                    name,
                    values < low,
                    values,
                    "monotonic='decreasing' forbids going above the original "
                    f"value, which lies below its {shown}",
                    "Relax the bounds or the direction, or leave these rows out",
                )


def _integer_bounds(low, high):
    """Return the bounds an integer can take; a half-open side stays infinite."""
    low = math.ceil(low) if np.isfinite(low) else low
    high = math.floor(high) if np.isfinite(high) else high
    return low, high


def bounds_in_dtype(low, high, dtype):
    """Return the limits within ``[low, high]`` that values of ``dtype`` can hold.

    A value clipped into ``[low, high]`` must stay there once stored in the
    counterfactual's dtype: integers take ``[ceil(low), floor(high)]``
    (an open side at the dtype's own end, which ``numpy.clip`` can write
    into an integer array); floats narrower than float64 take their
    nearest values inside the bounds (``float32(0.1)`` is above 0.1).

    Parameters
    ----------
    low, high : float
        The bounds, ``-inf`` / ``inf`` for an open side.
    dtype : numpy.dtype or pandas extension dtype
        The dtype of the values to clip.

    Returns
    -------
    (low, high)
        Python ints for integer dtypes, else scalars of ``dtype`` (floats
        for float64 and other dtypes). ``low > high`` where no value of
        ``dtype`` lies within the bounds.
    """
    dtype = np.dtype(getattr(dtype, "numpy_dtype", dtype))
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        low, high = _integer_bounds(low, high)
        low = int(info.min) if not np.isfinite(low) else max(int(low), int(info.min))
        high = int(info.max) if not np.isfinite(high) else min(int(high), int(info.max))
        return low, high
    if np.issubdtype(dtype, np.floating) and dtype.itemsize < 8:
        kind = dtype.type
        inside_low, inside_high = kind(low), kind(high)
        # Compared as Python floats: numpy compares float32 with a Python
        # float in float32, where float32(0.1) equals 0.1.
        if float(inside_low) < low:
            inside_low = np.nextafter(inside_low, kind(np.inf))
        if float(inside_high) > high:
            inside_high = np.nextafter(inside_high, kind(-np.inf))
        return inside_low, inside_high
    return low, high


def _show(bound):
    return f"{bound:g}" if math.isfinite(bound) else "None"


def _raise_for_rows(conflict, values, name, why, fix, index=None):
    """Raise a :class:`ConstraintError` for the rows flagged in ``conflict``.

    The rows are named by position, and by ``index`` label too where the
    index is not the positions themselves (ids read from a file).
    """
    rows = np.flatnonzero(conflict)
    if not len(rows):
        return
    more = ", ..." if len(rows) > 5 else ""
    listed = ", ".join(str(int(r)) for r in rows[:5]) + more
    if index is not None and not index.equals(pd.RangeIndex(len(index))):
        labels = [
            index[r].item() if hasattr(index[r], "item") else index[r] for r in rows[:5]
        ]
        listed += "; index " + ", ".join(repr(label) for label in labels) + more
    originals = ", ".join(f"{values[r]:g}" for r in rows[:5])
    raise ConstraintError(
        f"no counterfactual can satisfy the constraints on {name!r} for "
        f"{len(rows)} of {len(values)} rows (positions {listed}; original "
        f"values {originals}): {why}. {fix}"
    )


def _same_name(key, name):
    try:
        return bool(key == name) and type(key) is not bool
    except (TypeError, ValueError):
        return False


def _resolve_name(key, feature_names, what):
    names = list(feature_names)
    if any(_same_name(key, name) for name in names):
        # A column label first: integer labels are names, not positions.
        return key
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        if not 0 <= key < len(names):
            raise ConstraintError(
                f"{what} refers to feature index {key}, but there are "
                f"{len(names)} features"
            )
        return names[key]
    raise ConstraintError(
        f"{what} names unknown feature {key!r}; the features are {names}"
    )


def _check_immutable_is_a_list_of_features(immutable):
    """Refuse the forms of ``immutable`` that series and images take, on a table.

    A dict would be read by its keys (``{"a": False}`` freezing ``a``) and
    a boolean mask by its values; neither is what the user meant.
    """
    if immutable is None:
        return
    if isinstance(immutable, dict):
        raise ConstraintError(
            "immutable for a table is a list of feature names (or column "
            "positions), not a dict: for these flags pass "
            "[name for name, frozen in immutable.items() if frozen]"
        )
    values = np.asarray(immutable, dtype=object).reshape(-1)
    if len(values) and all(isinstance(v, (bool, np.bool_)) for v in values):
        raise ConstraintError(
            "immutable for a table is a list of feature names (or column "
            "positions), not a boolean mask: pass "
            "list(explainer.feature_names_in_[mask]) for the features it flags"
        )


def _bounds_pair(pair, what):
    """Return ``(low, high)`` as floats (``None`` sides open), or raise."""
    try:
        low, high = pair
    except (TypeError, ValueError) as exc:
        raise ConstraintError(
            f"bounds of {what} must be a pair (low, high), got {pair!r}"
        ) from exc
    try:
        low = -math.inf if low is None else float(low)
        high = math.inf if high is None else float(high)
    except (TypeError, ValueError) as exc:
        raise ConstraintError(
            f"bounds of {what} must be numbers (None for an open side), got {pair!r}"
        ) from exc
    if math.isnan(low) or math.isnan(high) or low > high:
        raise ConstraintError(
            f"bounds of {what} must satisfy low <= high, got ({low}, {high})"
        )
    return low, high


def plain_constraints(immutable, bounds, monotonic):
    """Return constraint arguments with pandas containers as Python ones.

    pandas users pick features as an Index (``X.columns[[0, 2]]``) or a
    Series, and may hold bounds or directions in a Series keyed by feature;
    their truth value is ambiguous, so they become a list (``immutable``)
    or a dict (``bounds``, ``monotonic``) before anything reads them. Other
    values pass unchanged, to be checked by the modality's parser.

    Parameters
    ----------
    immutable, bounds, monotonic : object
        As given to the estimator or to ``transform``/``explain``.

    Returns
    -------
    tuple
        ``(immutable, bounds, monotonic)``.
    """
    if isinstance(immutable, (pd.Index, pd.Series)):
        immutable = immutable.tolist()
    if isinstance(bounds, pd.Series):
        bounds = bounds.to_dict()
    if isinstance(monotonic, pd.Series):
        monotonic = monotonic.to_dict()
    return immutable, bounds, monotonic


def _mapping_items(value, what, form):
    """Return ``value.items()`` of a constraint given as a dict, or raise."""
    if value is None:
        return []
    if not hasattr(value, "items"):
        raise ConstraintError(
            f"{what} must be a dict {form}, got {type(value).__name__} {value!r}"
        )
    return list(value.items())


def parse_constraints(
    immutable,
    bounds,
    monotonic,
    *,
    feature_names,
    numerical_features,
    category_orders=None,
) -> Constraints:
    """Check user constraints against the fitted features.

    Parameters
    ----------
    immutable : sequence of str or int, or None
        Features that must not change (names, or column positions).
    bounds : dict or None
        ``{feature: (low, high)}`` for numerical features; either side may be
        ``None``.
    monotonic : dict or None
        ``{feature: "increasing" | "decreasing"}`` (or ``1`` / ``-1``) for
        numerical features and ordered categorical ones.
    feature_names : sequence of str
        The fitted features.
    numerical_features : sequence of str
        Those of them that are numerical.
    category_orders : dict of str to sequence, optional
        The categorical features fitted as an ordered ``category`` dtype,
        with their categories, lowest first.

    Returns
    -------
    Constraints

    Raises
    ------
    ConstraintError
        For an unknown feature, bounds on a categorical feature, a
        direction on an unordered one, ``low > high``, or an unknown
        direction.
    """
    numerical = set(numerical_features)
    if isinstance(immutable, (str, int, np.integer)):
        immutable = [immutable]
    _check_immutable_is_a_list_of_features(immutable)
    # Any iterable of names: a list, tuple, set or numpy array.
    names = tuple(
        _resolve_name(key, feature_names, "immutable")
        for key in ([] if immutable is None else list(immutable))
    )
    parsed_bounds = {}
    for key, pair in _mapping_items(bounds, "bounds", "{feature: (low, high)}"):
        name = _resolve_name(key, feature_names, "bounds")
        if name not in numerical:
            raise ConstraintError(
                f"bounds are only supported on numerical features; {name!r} is "
                "categorical (use immutable to keep it unchanged)"
            )
        parsed_bounds[name] = _bounds_pair(pair, repr(name))
    category_orders = category_orders or {}
    parsed_monotonic, orders = {}, {}
    for key, direction in _mapping_items(
        monotonic, "monotonic", "{feature: 'increasing' | 'decreasing'}"
    ):
        name = _resolve_name(key, feature_names, "monotonic")
        if name in category_orders:
            orders[name] = tuple(category_orders[name])
        elif name not in numerical:
            raise ConstraintError(
                f"monotonic is only supported on numerical features and ordered "
                f"categories; {name!r} is an unordered categorical feature. "
                f"Give it an order, lowest first, in the data the explainer and "
                f"the model are fitted on: X[{name!r}] = pd.Categorical("
                f"X[{name!r}], categories=[...], ordered=True)"
            )
        if not isinstance(direction, (str, int, np.integer)) or (
            direction not in _DIRECTIONS
        ):
            raise ConstraintError(
                f"monotonic direction of {name!r} must be 'increasing' or "
                f"'decreasing', got {direction!r}"
            )
        parsed_monotonic[name] = _DIRECTIONS[direction]
    return Constraints(
        names, parsed_bounds, parsed_monotonic, tuple(feature_names), orders
    )


def _apply_numeric(original, counterfactual, name, constraints, dtype):
    x = original.astype(float)
    x_cf = counterfactual.astype(float)
    direction = constraints.monotonic.get(name)
    if direction == 1:
        x_cf = np.maximum(x_cf, x)
    elif direction == -1:
        x_cf = np.minimum(x_cf, x)
    if name in constraints.bounds:
        # Limits the column's dtype holds, so that storing the clipped
        # values (rounded integers, float32) keeps them within the bounds.
        low, high = bounds_in_dtype(*constraints.bounds[name], dtype)
        # The rows passed Constraints.check_feasible, so an increasing
        # feature starts at most at `high` and a decreasing one at least at
        # `low`: clipping keeps the direction.
        x_cf = np.clip(x_cf, low, high)
    return x_cf


def apply_constraints(X, X_cf, constraints: Constraints):
    """Correct decoded counterfactuals so they satisfy the constraints.

    Parameters
    ----------
    X : pandas.DataFrame
        Original rows.
    X_cf : pandas.DataFrame
        Counterfactuals with the same columns, dtypes and index; modified in
        place and returned.
    constraints : Constraints
        What must hold.

    Returns
    -------
    pandas.DataFrame
        ``X_cf``, corrected.
    """
    for name in constraints.immutable:
        # By position, in the original's own dtype.
        X_cf[name] = X[name].set_axis(X_cf.index)
    ordered = set(constraints.category_orders) - set(constraints.immutable)
    for name in ordered:
        # An ordered category moved against its direction keeps the
        # original's category, as a number is clipped to its original.
        x = constraints.as_numbers(name, X[name])
        x_cf = constraints.as_numbers(name, X_cf[name])
        against = constraints.monotonic[name] * (x_cf - x) < 0
        if against.any():
            column = X_cf[name].copy()
            column[against] = X[name].to_numpy()[against]
            X_cf[name] = column
    numeric = (set(constraints.bounds) | set(constraints.monotonic)) - set(
        constraints.immutable
    )
    for name in numeric - ordered:
        dtype = X_cf[name].dtype
        is_integer = pd.api.types.is_integer_dtype(dtype)
        values = _apply_numeric(
            X[name].to_numpy(), X_cf[name].to_numpy(), name, constraints, dtype
        )
        if is_integer:
            values = np.round(values)
        X_cf[name] = pd.Series(values, index=X_cf.index).astype(dtype)
    return X_cf


@dataclass(frozen=True)
class ImageConstraints:
    """Validated constraints on images: a mask of values that must not change.

    Parameters
    ----------
    mask : numpy.ndarray of bool or None
        One flag per value of an image (the fitted input shape), ``True``
        where the value must keep its original level; ``None`` for no
        constraint.
    n_values : int
        Number of values per image.
    """

    mask: np.ndarray | None = None
    n_values: int = 0

    def frozen_features(self) -> np.ndarray:
        """Return 1.0 for each (flattened) value that must stay unchanged.

        Returns
        -------
        numpy.ndarray of float32, shape (n_values,)
        """
        if self.mask is None:
            return np.zeros(self.n_values, dtype=np.float32)
        return self.mask.reshape(-1).astype(np.float32)

    @property
    def alters_rows(self) -> bool:
        """Whether :meth:`apply` can change an image."""
        return self.mask is not None

    def apply(self, X, X_cf):
        """Copy the frozen values of ``X`` into ``X_cf``, in place.

        Parameters
        ----------
        X, X_cf : numpy.ndarray
            Original and counterfactual images of the same shape.

        Returns
        -------
        numpy.ndarray
            ``X_cf``, corrected.
        """
        if self.mask is not None:
            np.copyto(X_cf, X, where=np.broadcast_to(self.mask, X_cf.shape))
        return X_cf

    def check_feasible(self, X):
        """Do nothing: a mask of values to keep never conflicts with itself."""

    def feasible(self, X):
        """Return ``True`` for every image (see :meth:`check_feasible`)."""
        return np.ones(len(X), dtype=bool)

    def outside_bounds(self, X):
        """Return no row and no feature: images take no bounds."""
        return np.zeros(len(X), dtype=bool), []


def parse_image_constraints(immutable, bounds, monotonic, *, input_shape):
    """Check constraints given for images.

    Parameters
    ----------
    immutable : array-like of bool or None
        Values that must keep their level: a boolean mask of the image shape
        (or broadcastable to it, e.g. ``(height, width)`` for every channel).
    bounds, monotonic : None or empty
        Only tabular features take them.
    input_shape : tuple of int
        Shape of one image as given to ``fit``.

    Returns
    -------
    ImageConstraints

    Raises
    ------
    ConstraintError
        For bounds or monotone directions, or a mask that does not fit the
        images.
    """
    if bounds or monotonic:
        raise ConstraintError(
            "bounds and monotonic constrain tabular features; for images only "
            "immutable is supported, as a boolean mask of the pixels to keep"
        )
    n_values = int(np.prod(input_shape))
    if immutable is None or (
        isinstance(immutable, (list, tuple)) and len(immutable) == 0
    ):
        return ImageConstraints(n_values=n_values)
    mask = np.asarray(immutable)
    if mask.dtype != bool:
        raise ConstraintError(
            "immutable must be a boolean mask of the pixels to keep for images, "
            f"got an array of dtype {mask.dtype}"
        )
    try:
        mask = np.broadcast_to(mask, input_shape).copy()
    except ValueError as exc:
        raise ConstraintError(
            f"immutable mask of shape {mask.shape} does not fit images of shape "
            f"{tuple(input_shape)}"
        ) from exc
    return ImageConstraints(mask, n_values)


@dataclass(frozen=True)
class SeriesConstraints:
    """Validated constraints on time series: frozen values and channel bounds.

    Parameters
    ----------
    mask : numpy.ndarray of bool, shape (n_channels, n_timepoints), or None
        ``True`` where a value must keep its original level (frozen
        channels and time windows); ``None`` for none.
    bounds : dict of int to (float, float)
        Closed amplitude range of each bounded channel (by position).
    series_shape : tuple of int
        ``(n_channels, n_timepoints)``.
    dtype : numpy.dtype or None
        The dtype of the fitted series (``None``: the originals'); with the
        originals', it gives the counterfactuals' (``numpy.result_type``).
    """

    mask: np.ndarray | None = None
    bounds: dict = field(default_factory=dict)
    series_shape: tuple = (1, 1)
    dtype: np.dtype | None = None

    def frozen_features(self) -> np.ndarray:
        """Return 1.0 for each (flattened) value that must stay unchanged.

        Returns
        -------
        numpy.ndarray of float32, shape (n_channels * n_timepoints,)
        """
        if self.mask is None:
            return np.zeros(int(np.prod(self.series_shape)), dtype=np.float32)
        return self.mask.reshape(-1).astype(np.float32)

    @property
    def alters_rows(self) -> bool:
        """Whether :meth:`apply` can change a series (a copied training series too)."""
        return self.mask is not None or bool(self.bounds)

    def apply(self, X, X_cf):
        """Clip bounded channels, then copy the frozen values, in place.

        Parameters
        ----------
        X, X_cf : numpy.ndarray of shape (n, n_channels, n_timepoints)
            Original and counterfactual series.

        Returns
        -------
        numpy.ndarray
            ``X_cf``, corrected.
        """
        for channel, (low, high) in self.bounds.items():
            # Limits X_cf's dtype holds: an integer series is clipped to
            # whole numbers, a float32 one inside the bounds' float64 values.
            low, high = bounds_in_dtype(low, high, X_cf.dtype)
            np.clip(X_cf[:, channel], low, high, out=X_cf[:, channel])
        if self.mask is not None:
            np.copyto(X_cf, X, where=np.broadcast_to(self.mask, X_cf.shape))
        return X_cf

    def _conflicts(self, X):
        if self.mask is None:
            return
        for channel, (low, high) in self.bounds.items():
            frozen = X[:, channel][:, self.mask[channel]]
            outside = ((frozen < low) | (frozen > high)).any(axis=1)
            yield channel, outside

    def outside_bounds(self, X):
        """Return which series hold a value outside its channel's bounds.

        See :meth:`Constraints.outside_bounds`; ``X`` is an array of shape
        ``(n, n_channels, n_timepoints)`` and the features are channels.
        """
        X = np.asarray(X)
        rows, channels = np.zeros(len(X), dtype=bool), []
        for channel, (low, high) in self.bounds.items():
            values = X[:, channel]
            outside = ((values < low) | (values > high)).any(axis=1)
            if outside.any():
                rows |= outside
                channels.append(channel)
        return rows, channels

    def check_feasible(self, X):
        """Raise if frozen values of some series lie outside their channel's bounds.

        Parameters
        ----------
        X : numpy.ndarray of shape (n, n_channels, n_timepoints)

        Raises
        ------
        ConstraintError
            Naming the channel and the series (by position).
        """
        X = np.asarray(X)
        answers = X.dtype if self.dtype is None else np.result_type(self.dtype, X)
        for channel, (low, high) in self.bounds.items():
            whole_low, whole_high = bounds_in_dtype(low, high, answers)
            if np.issubdtype(answers, np.integer) and whole_low > whole_high:
                raise ConstraintError(
                    f"bounds ({_show(low)}, {_show(high)}) of channel {channel} "
                    f"hold no whole number, and the counterfactuals are "
                    f"{answers} series; widen them"
                )
        for channel, outside in self._conflicts(X):
            rows = np.flatnonzero(outside)
            if len(rows):
                low, high = self.bounds[channel]
                listed = ", ".join(str(int(r)) for r in rows[:5])
                raise ConstraintError(
                    f"no counterfactual can satisfy the constraints on channel "
                    f"{channel} for {len(rows)} of {len(X)} series (positions "
                    f"{listed}{', ...' if len(rows) > 5 else ''}): values frozen "
                    f"by immutable lie outside its bounds ({_show(low)}, "
                    f"{_show(high)}). Free those time points, widen the bounds, "
                    "or leave these series out"
                )

    def feasible(self, X):
        """Return which series have counterfactuals within the constraints.

        Parameters
        ----------
        X : numpy.ndarray of shape (n, n_channels, n_timepoints)

        Returns
        -------
        numpy.ndarray of bool, shape (n,)
        """
        ok = np.ones(len(X), dtype=bool)
        for _, outside in self._conflicts(X):
            ok &= ~outside
        return ok


def _series_mask(immutable, series_shape):
    """Read ``immutable`` for series into a boolean mask, or raise."""
    n_channels, n_timepoints = series_shape
    if isinstance(immutable, dict):
        unknown = set(immutable) - {"channels", "windows"}
        if unknown:
            raise ConstraintError(
                f"immutable for series takes the keys 'channels' and 'windows', "
                f"got {sorted(map(str, unknown))}"
            )
        mask = np.zeros(series_shape, dtype=bool)
        channels = immutable.get("channels", ())
        if isinstance(channels, (int, np.integer)):
            raise ConstraintError(
                f"immutable['channels'] is a list of channel positions: give "
                f"[{channels}] for one channel"
            )
        windows = list(immutable.get("windows", ()))
        if len(windows) == 2 and all(isinstance(v, (int, np.integer)) for v in windows):
            raise ConstraintError(
                f"immutable['windows'] is a list of (start, stop) pairs: give "
                f"[{tuple(int(v) for v in windows)}] for one window"
            )
        for channel in channels:
            if not isinstance(channel, (int, np.integer)) or not (
                0 <= channel < n_channels
            ):
                raise ConstraintError(
                    f"immutable channel {channel!r} is not one of the "
                    f"{n_channels} channels (0 to {n_channels - 1})"
                )
            mask[channel] = True
        for window in windows:
            try:
                start, stop = (int(v) for v in window)
            except (TypeError, ValueError) as exc:
                raise ConstraintError(
                    f"immutable windows are (start, stop) pairs of time points, "
                    f"got {window!r}"
                ) from exc
            if not 0 <= start < stop <= n_timepoints:
                raise ConstraintError(
                    f"immutable window ({start}, {stop}) must satisfy 0 <= start "
                    f"< stop <= {n_timepoints} (the series length)"
                )
            mask[:, start:stop] = True
        return mask
    mask = np.asarray(immutable)
    if mask.dtype != bool:
        raise ConstraintError(
            "immutable for series is a boolean mask of the values to keep, of "
            "shape (n_channels, n_timepoints) or broadcastable to it, or "
            "{'channels': [...], 'windows': [(start, stop), ...]}; got an array "
            f"of dtype {mask.dtype}"
        )
    try:
        return np.broadcast_to(mask, series_shape).copy()
    except ValueError as exc:
        raise ConstraintError(
            f"immutable mask of shape {mask.shape} does not fit series of shape "
            f"(n_channels, n_timepoints) = {tuple(series_shape)}"
        ) from exc


def parse_series_constraints(immutable, bounds, monotonic, *, series_shape, dtype=None):
    """Check constraints given for time series.

    Parameters
    ----------
    immutable : array-like of bool, dict or None
        Values that must keep their level: a boolean mask of shape
        ``(n_channels, n_timepoints)`` or broadcastable to it (``(1,
        n_timepoints)`` for windows of every channel, ``(n_channels, 1)`` for
        whole channels), or ``{"channels": [c, ...], "windows": [(start,
        stop), ...]}`` (windows frozen in every channel; ``stop`` excluded).
    bounds : dict or None
        ``{channel: (low, high)}``: amplitude range of a channel (by
        position), in the series' own units; either side may be ``None``.
    monotonic : None or empty
        Only tabular features take it.
    series_shape : tuple of int
        ``(n_channels, n_timepoints)`` as fitted.
    dtype : numpy.dtype or None, default=None
        The fitted series' dtype (see :class:`SeriesConstraints`).

    Returns
    -------
    SeriesConstraints

    Raises
    ------
    ConstraintError
        For monotone directions, a mask or window that does not fit the
        series, an unknown channel, or ``low > high``.
    """
    if monotonic:
        raise ConstraintError(
            "monotonic constrains tabular features; for series use immutable "
            "(frozen channels and windows) and bounds (per-channel amplitudes)"
        )
    n_channels = series_shape[0]
    mask = None
    if immutable is not None and not (
        isinstance(immutable, (list, tuple, dict)) and len(immutable) == 0
    ):
        mask = _series_mask(immutable, series_shape)
    if bounds is not None and not isinstance(bounds, dict):
        raise ConstraintError(
            "bounds for series is a dict {channel: (low, high)} of amplitude "
            f"ranges by channel position; got a {type(bounds).__name__}. For one "
            "pair per channel, pass dict(enumerate(pairs))"
        )
    parsed = {}
    for channel, pair in (bounds or {}).items():
        if not isinstance(channel, (int, np.integer)) or not 0 <= channel < n_channels:
            raise ConstraintError(
                f"bounds name channel {channel!r}; series have {n_channels} "
                f"channel(s), numbered 0 to {n_channels - 1}"
            )
        parsed[int(channel)] = _bounds_pair(pair, f"channel {channel}")
    return SeriesConstraints(mask, parsed, tuple(series_shape), dtype)
