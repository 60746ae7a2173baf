"""Sparsity of counterfactuals: how many features change, and by how much.

Both metrics compare each counterfactual with its own original row (rows are
paired by position, not by index label) and work on the output of any
counterfactual method.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.preprocessing import StandardScaler

from ..exceptions import InvalidDataError
from ._representation import _categorical_values, _coerce_samples, _numerical_values

__all__ = ["l0", "l1"]

_FEATURES = ("all", "categorical", "numerical")
_REDUCE = ("mean", None)


def _check_option(value, options, name):
    if not any(value is option or value == option for option in options):
        raise ValueError(f"{name} must be one of {list(options)}, got {value!r}")


def _check_real(value, name, within, requirement):
    """Return ``value`` as a float if it is a real number (not a bool) ``within``."""
    if (
        not isinstance(value, numbers.Real)
        or isinstance(value, bool)
        or not within(value)
    ):
        raise ValueError(f"{name} must be {requirement}, got {value!r}")
    return float(value)


def _check_tolerance(value, name):
    return _check_real(
        value, name, lambda v: np.isfinite(v) and v >= 0, "a non-negative number"
    )


def _paired(X, X_cf, categorical_features, reference=None):
    samples = {"X": X, "X_cf": X_cf}
    if reference is not None:
        samples["reference"] = reference
    data, categorical, numerical = _coerce_samples(
        samples, categorical_features=categorical_features, subset_ok={"reference"}
    )
    n, n_cf = len(data["X"]), len(data["X_cf"])
    if n != n_cf:
        raise InvalidDataError(
            f"X has {n} rows but X_cf has {n_cf}; pass one counterfactual per "
            "original row, in the same order"
        )
    if n == 0:
        raise InvalidDataError("X and X_cf have no rows")
    return data, categorical, numerical


def _reduce(per_row, reduce):
    if reduce is None:
        return per_row
    return float(np.mean(per_row))


def l0(
    X,
    X_cf,
    *,
    features="all",
    categorical_features=None,
    atol=1e-8,
    rtol=1e-5,
    reduce="mean",
):
    r"""Count the features a counterfactual changes (L0), averaged over rows.

    For an original row :math:`x` and its counterfactual :math:`x_{CF}`,

    .. math::

        L_0(x, x_{CF}) = \#\{j : x_{CF,j} \neq x_j\},

    counted over the chosen features. With ``features="categorical"`` this is
    the :math:`L_0` of paper 1 (section 4.3, table 3): "the average number of
    categories changed by going from the original instance to a
    counterfactual one".

    A categorical value is changed when it is not equal (``==``) to the
    original; a missing value equals a missing value. A numerical value is
    changed when

    .. math:: |x_{CF,j} - x_j| > \mathrm{atol} + \mathrm{rtol} \cdot |x_j|,

    the rule of :func:`numpy.isclose` with the original as reference, so
    that round-off of a decoded value (e.g. 45 returned as 45.000003 by a
    float32 network) is not a change. Raise ``atol`` for features of small
    magnitude that come back with float32 noise.

    Parameters
    ----------
    X : pandas.DataFrame or array-like of shape (n_samples, ...)
        Original rows. Arrays must be numeric; rows of arrays with more than
        two dimensions are flattened.
    X_cf : pandas.DataFrame or array-like of shape (n_samples, ...)
        One counterfactual per row of ``X``, in the same order, with the same
        columns (matched by name; an array next to a DataFrame ``X`` is read
        with ``X``'s columns).
    features : {"all", "categorical", "numerical"}, default="all"
        Which features to count.
    categorical_features : list, optional
        Overrides the detection of categorical features: column names for
        DataFrames, positions for arrays (see
        :func:`~cfexplain.metrics._representation.split_features`). By
        default ``category``, boolean and string columns are categorical.
    atol : float, default=1e-8
        Absolute tolerance for numerical features.
    rtol : float, default=1e-5
        Relative tolerance for numerical features, relative to ``|x_j|``.
    reduce : {"mean", None}, default="mean"
        ``"mean"`` returns the average over rows; None returns the count of
        each row.

    Returns
    -------
    float or numpy.ndarray of int64, shape (n_samples,)
        Mean number of changed features, or the number per row. 0 when there
        are no features of the chosen kind.

    Raises
    ------
    InvalidDataError
        If ``X`` and ``X_cf`` differ in columns or number of rows, are empty,
        or have missing or infinite numerical values.

    References
    ----------
    .. [1] A. Van Looveren, J. Klaise, G. Vacanti and O. Cobb, "Conditional
       Generative Models for Counterfactual Explanations", arXiv:2101.10123,
       2021.

    Examples
    --------
    >>> import pandas as pd
    >>> from cfexplain.metrics import l0
    >>> X = pd.DataFrame({"age": [30, 40], "job": ["a", "b"]})
    >>> X_cf = pd.DataFrame({"age": [30, 45], "job": ["c", "b"]})
    >>> l0(X, X_cf)
    1.0
    >>> l0(X, X_cf, features="categorical", reduce=None)
    array([1, 0])
    """
    _check_option(features, _FEATURES, "features")
    _check_option(reduce, _REDUCE, "reduce")
    atol = _check_tolerance(atol, "atol")
    rtol = _check_tolerance(rtol, "rtol")
    data, categorical, numerical = _paired(X, X_cf, categorical_features)
    X, X_cf = data["X"], data["X_cf"]
    counts = np.zeros(len(X), dtype=np.int64)
    if features in ("all", "numerical") and numerical:
        original = _numerical_values(X, numerical, "X")
        counterfactual = _numerical_values(X_cf, numerical, "X_cf")
        changed = np.abs(counterfactual - original) > atol + rtol * np.abs(original)
        counts += changed.sum(axis=1)
    if features in ("all", "categorical") and categorical:
        original = _categorical_values(X, categorical)
        counterfactual = _categorical_values(X_cf, categorical)
        both_missing = np.asarray(
            (original != original) & (counterfactual != counterfactual), dtype=bool
        )
        equal = np.asarray(original == counterfactual, dtype=bool)
        counts += (~(equal | both_missing)).sum(axis=1)
    return _reduce(counts, reduce)


def l1(X, X_cf, *, reference=None, categorical_features=None, reduce="mean"):
    r"""Mean absolute change of the standardised numerical features (L1).

    For an original row :math:`x` and its counterfactual :math:`x_{CF}`,

    .. math::

        L_1(x, x_{CF}) = \frac{1}{p} \sum_{j=1}^{p}
            \frac{|x_{CF,j} - x_j|}{\sigma_j},

    over the :math:`p` numerical features, where :math:`\sigma_j` is the
    (population) standard deviation of feature :math:`j` in ``reference``; a
    feature with zero standard deviation uses :math:`\sigma_j = 1`, as
    :class:`~sklearn.preprocessing.StandardScaler` does. This is the
    :math:`L_1` of paper 1 (section 4.3, table 3), "reported on the
    standardized numerical columns", averaged over rows. For numeric arrays
    (images and time series flattened per row) every feature is numerical.

    Parameters
    ----------
    X : pandas.DataFrame or array-like of shape (n_samples, ...)
        Original rows.
    X_cf : pandas.DataFrame or array-like of shape (n_samples, ...)
        One counterfactual per row of ``X``, in the same order, with the same
        columns.
    reference : pandas.DataFrame or array-like, optional
        Sample of the data distribution (e.g. the training rows) whose
        standard deviations scale the features. It must have ``X``'s columns;
        extra columns are ignored. Defaults to ``X``.
    categorical_features : list, optional
        Overrides the detection of categorical features, which are left out
        (see :func:`l0`).
    reduce : {"mean", None}, default="mean"
        ``"mean"`` returns the average over rows; None returns the value of
        each row.

    Returns
    -------
    float or numpy.ndarray of float64, shape (n_samples,)
        Mean standardised L1 distance, or the distance per row. NaN when the
        data have no numerical feature.

    Raises
    ------
    InvalidDataError
        If ``X``, ``X_cf`` and ``reference`` do not share the columns, ``X``
        and ``X_cf`` differ in number of rows, an input is empty, or a
        numerical value is missing or infinite.

    References
    ----------
    .. [1] A. Van Looveren, J. Klaise, G. Vacanti and O. Cobb, "Conditional
       Generative Models for Counterfactual Explanations", arXiv:2101.10123,
       2021.

    Examples
    --------
    >>> import pandas as pd
    >>> from cfexplain.metrics import l1
    >>> X = pd.DataFrame({"age": [30.0, 50.0], "job": ["a", "b"]})
    >>> X_cf = pd.DataFrame({"age": [40.0, 50.0], "job": ["c", "b"]})
    >>> l1(X, X_cf)  # the std of age in X is 10
    0.5
    """
    _check_option(reduce, _REDUCE, "reduce")
    data, _, numerical = _paired(X, X_cf, categorical_features, reference)
    X, X_cf = data["X"], data["X_cf"]
    if not numerical:
        return _reduce(np.full(len(X), np.nan), reduce)
    original = _numerical_values(X, numerical, "X")
    counterfactual = _numerical_values(X_cf, numerical, "X_cf")
    if reference is None:
        scale_source = original
    else:
        if len(data["reference"]) == 0:
            raise InvalidDataError("reference has no rows")
        scale_source = _numerical_values(data["reference"], numerical, "reference")
    scale = StandardScaler(with_mean=False).fit(scale_source).scale_
    per_row = (np.abs(counterfactual - original) / scale).mean(axis=1)
    return _reduce(per_row, reduce)
