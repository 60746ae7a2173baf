"""Regression targets: the smallest move of one number onto the target.

A regression target is met inside a band (a value within
``regression_tolerance`` output standard deviations, or an interval), which
copying whole values from training rows seldom lands on: the training-row
path then copies feature after feature until the model's output falls
inside it. On scikit-learn's diabetes data with a Ridge pipeline its answers
changed 4.6 of 10 features, where a move of one number alone reached the
target of 99 % of the rows, at a third of the distance (a RandomForest: 66 %
of the rows, at a fifth). This search moves each free number of a row alone,
the way a line search does: it tries the number at a few of its training
values (:data:`GRID_VALUES` quantiles), finds the two neighbouring values,
the original among them, between which the model's output enters (or
jumps over) the target nearest the original (:func:`nearest_crossing`),
and bisects there (:data:`BISECTION_STEPS` model calls at most, every row
and number in each) towards the edge of the target on the original's
side, keeping the nearest point the model puts inside. A model that jumps
over the band (a tree ensemble's steps) leaves that number unreached.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "BISECTION_STEPS",
    "GRID_VALUES",
    "LINE_SEARCH_CANDIDATES",
    "grid_values",
    "nearest_crossing",
    "side_of_target",
    "with_values",
]

#: Training values of a number tried first (its quantiles).
GRID_VALUES = 16
#: Most halvings of the bracket around a crossing (one model call each).
BISECTION_STEPS = 10
#: Most candidates scored in one batch (bounds memory on large inputs).
LINE_SEARCH_CANDIDATES = 2**18


def side_of_target(target, y_model):
    """Return where each regression output lies: -1 below, 0 on, 1 above.

    Parameters
    ----------
    target : ResolvedTarget
        Regression targets (``low`` and ``high`` per row).
    y_model : numpy.ndarray of shape (n,)
        The model's values.

    Returns
    -------
    numpy.ndarray of int, shape (n,)
    """
    y_model = np.asarray(y_model, dtype=np.float64)
    return np.where(y_model < target.low, -1, np.where(y_model > target.high, 1, 0))


def grid_values(values):
    """Return a number's training values at :data:`GRID_VALUES` quantiles.

    Parameters
    ----------
    values : numpy.ndarray of shape (m,)
        The number's values on training rows.

    Returns
    -------
    numpy.ndarray of float64
        Sorted, distinct, each a value the rows hold.
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if not len(values):
        return values
    quantiles = np.linspace(0.0, 1.0, GRID_VALUES)
    return np.unique(np.quantile(values, quantiles, method="inverted_cdf"))


def nearest_crossing(points, sides, origin):
    """Find, per row, where the output enters the target nearest the origin.

    Parameters
    ----------
    points : numpy.ndarray of shape (r, g)
        Each row's values of one number, sorted along the row; the row's
        original value among them.
    sides : numpy.ndarray of int, shape (r, g)
        :func:`side_of_target` of the model's output at each point.
    origin : numpy.ndarray of shape (r,)
        Each row's original value.

    Returns
    -------
    outside, across : numpy.ndarray of float64, shape (r,)
        The two neighbouring points between which the output changes side
        nearest the origin: ``outside`` off the target, ``across`` on it or
        on its other side (``nan`` where the output never changes side
        between neighbours). Between two such points, a point inside the
        target's band lies nearer ``outside`` than ``across`` does when
        ``across`` is inside, or somewhere between them when it is on the
        other side.
    outside_side : numpy.ndarray of int, shape (r,)
        The side of the output at ``outside`` (-1 or 1; 0 where none).
    """
    points = np.asarray(points, dtype=np.float64)
    sides = np.asarray(sides)
    left, right = points[:, :-1], points[:, 1:]
    left_side, right_side = sides[:, :-1], sides[:, 1:]
    # Into the band (-1 -> 0, 1 -> 0, and back) or over it (-1 -> 1).
    changes = left_side != right_side
    # Distance from the origin to the bracket (0 when it is one of its ends).
    distance = np.minimum(
        np.abs(left - origin[:, None]), np.abs(right - origin[:, None])
    )
    distance = np.where(changes, distance, np.inf)
    best = distance.argmin(axis=1)
    rows = np.arange(len(points))
    found = np.isfinite(distance[rows, best])
    # The end off the target is the one bisection moves from.
    left_outside = left_side[rows, best] != 0
    outside = np.where(left_outside, left[rows, best], right[rows, best])
    across = np.where(left_outside, right[rows, best], left[rows, best])
    outside_side = np.where(left_outside, left_side[rows, best], right_side[rows, best])
    return (
        np.where(found, outside, np.nan),
        np.where(found, across, np.nan),
        np.where(found, outside_side, 0),
    )


def with_values(rows, label, values, *, whole=False):
    """Return a copy of ``rows`` whose column ``label`` holds ``values``.

    The values are rounded for an integer (or nullable integer) column, and
    with ``whole`` (a feature fitted as integers, given as floats), as the
    decoder gives integer features whole numbers; the column keeps its
    dtype.
    """
    rows = rows.copy()
    dtype = rows[label].dtype
    values = np.asarray(values, dtype=np.float64)
    if whole or pd.api.types.is_integer_dtype(dtype):
        values = np.round(values)
    rows[label] = pd.Series(values, index=rows.index).astype(dtype)
    return rows
