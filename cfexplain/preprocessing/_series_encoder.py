"""Encode equal-length time series as flat standardised vectors and decode them."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..exceptions import InvalidDataError
from ._layout import CONTINUOUS, FeatureLayout, FeatureSpan

__all__ = ["SeriesEncoder", "as_series_array"]


def as_series_array(X, name="X"):
    """Return ``X`` as an array ``(n_cases, n_channels, n_timepoints)``, or raise.

    Parameters
    ----------
    X : array-like
        Equal-length series.
    name : str, default="X"
        How the error messages call ``X``.

    Returns
    -------
    numpy.ndarray of 3 dimensions

    Raises
    ------
    InvalidDataError
        For another number of dimensions, ragged or non-numeric input,
        missing or infinite values, or no cases.
    """
    if hasattr(X, "detach"):  # a torch tensor
        X = X.detach().cpu().numpy()
    if isinstance(X, pd.DataFrame) and any(
        X[column].map(_is_sequence).any() for column in X.columns
    ):
        raise InvalidDataError(
            f"{name} is a DataFrame whose cells hold series (sktime's nested "
            "format); series are arrays of shape (n_cases, n_channels, "
            "n_timepoints): convert it, e.g. np.stack([np.stack([np.asarray"
            f"(cell) for cell in row]) for row in {name}.to_numpy()])"
        )
    kind = "a DataFrame" if isinstance(X, pd.DataFrame) else "an array"
    try:
        array = np.asarray(X)
    except ValueError as exc:  # ragged nested lists
        raise InvalidDataError(
            f"{name} must hold equal-length series; unequal lengths are not "
            "supported: pad or resample them to one length"
        ) from exc
    if array.dtype == object and array.ndim < 3:
        raise InvalidDataError(
            f"{name} must hold equal-length series; unequal lengths are not "
            "supported: pad or resample them to one length"
        )
    if array.ndim != 3:
        fix = ""
        if array.ndim == 2:
            values = f"{name}.to_numpy()" if kind == "a DataFrame" else name
            fix = (
                f"; univariate series of shape (n_cases, n_timepoints) take "
                f"a channel axis: {values}[:, None, :], and one multivariate "
                f"series of shape (n_channels, n_timepoints) a case axis: "
                f"{values}[None]"
            )
        elif array.ndim > 3 and 1 in array.shape[1:]:
            axes = tuple(i for i, size in enumerate(array.shape) if size == 1 and i)
            fix = (
                f"; drop its axes of length 1 after the first: "
                f"np.squeeze({name}, axis={axes if len(axes) > 1 else axes[0]})"
            )
        elif array.ndim == 1:
            fix = f"; one univariate series takes two axes: {name}[None, None, :]"
        raise InvalidDataError(
            f"{name} must hold series of shape (n_cases, n_channels, "
            f"n_timepoints), got {kind} of shape {array.shape}{fix}"
        )
    if (
        array.dtype == object
        or array.dtype == bool
        or not np.issubdtype(array.dtype, np.number)
        or np.issubdtype(array.dtype, np.complexfloating)
    ):
        raise InvalidDataError(
            f"{name} must hold equal-length real-valued series, got dtype "
            f"{array.dtype}; unequal lengths are not supported"
        )
    if len(array) == 0:
        raise InvalidDataError(f"{name} has 0 series; at least one is required")
    if not np.isfinite(array).all():
        raise InvalidDataError(
            f"{name} contains missing or infinite values; impute them first"
        )
    return array


def _is_sequence(cell):
    """Whether a DataFrame cell holds a series rather than a number."""
    return isinstance(cell, (pd.Series, np.ndarray, list, tuple))


class SeriesEncoder(TransformerMixin, BaseEstimator):
    """Standardise series per channel and flatten them; decode network outputs back.

    Series come in the aeon/sktime layout ``(n_cases, n_channels,
    n_timepoints)``. Each channel is standardised with the mean and standard
    deviation of the training series (over cases and time points: paper 1,
    appendix A.2 standardises the ECGs with the training set's), so a change
    of 1 in the encoding is one training standard deviation of its channel.
    The encoding is a float32 matrix ``(n_cases, n_channels * n_timepoints)``,
    channel by channel; decoding undoes the scaling and restores the shape
    and dtype (integer series are rounded).

    Attributes
    ----------
    series_shape_ : tuple of int
        ``(n_channels, n_timepoints)``.
    mean_, scale_ : numpy.ndarray of shape (n_channels,)
        Training mean and standard deviation of each channel (1 where a
        channel is constant, to float64 rounding).
    constant_channels_ : numpy.ndarray of bool, shape (n_channels,)
        Channels with no spread in the training series.
    dtype_ : numpy.dtype
        The dtype of the series given to ``fit``.
    n_features_in_ : int
        Values per series.
    layout_ : FeatureLayout
        One ``identity`` span over all values.

    Examples
    --------
    >>> import numpy as np
    >>> from cfexplain.preprocessing import SeriesEncoder
    >>> X = np.arange(24, dtype=float).reshape(2, 2, 6)
    >>> encoder = SeriesEncoder().fit(X)
    >>> encoder.transform(X).shape
    (2, 12)
    >>> back = encoder.inverse_transform(encoder.transform(X))
    >>> bool(np.allclose(back, X, atol=1e-5))  # float32 encoding
    True
    """

    def fit(self, X, y=None):
        """Learn the series shape and each channel's mean and spread.

        Parameters
        ----------
        X : array-like of shape (n_cases, n_channels, n_timepoints)
            Training series.
        y : ignored
            Not used, present for API consistency.

        Returns
        -------
        self : SeriesEncoder

        Raises
        ------
        InvalidDataError
            For arrays of another rank, unequal lengths, non-numeric or
            non-finite values.
        """
        array = as_series_array(X)
        self.series_shape_ = tuple(int(s) for s in array.shape[1:])
        self.dtype_ = array.dtype
        values = array.astype(np.float64)
        self.mean_ = values.mean(axis=(0, 2))
        scale = values.std(axis=(0, 2))
        # A channel whose spread is float64 rounding of its level is constant.
        constant = scale <= 1e-12 * (np.abs(self.mean_) + 1.0)
        self.constant_channels_ = constant
        self.scale_ = np.where(constant, 1.0, scale)
        self.n_features_in_ = int(np.prod(self.series_shape_))
        self.layout_ = FeatureLayout(
            (FeatureSpan("series", CONTINUOUS, 0, self.n_features_in_, "identity"),)
        )
        return self

    def check(self, X, name="X"):
        """Validate series against the fitted shape.

        Parameters
        ----------
        X : array-like
            Series.
        name : str, default="X"
            How the error messages call ``X``.

        Returns
        -------
        numpy.ndarray
            ``X`` as an array.

        Raises
        ------
        InvalidDataError
            For another number of channels or time points, or values
            :func:`as_series_array` refuses.
        """
        check_is_fitted(self, "series_shape_")
        array = as_series_array(X, name)
        if tuple(array.shape[1:]) != self.series_shape_:
            n_channels = array.shape[1]
            if tuple(array.shape[1:])[::-1] == self.series_shape_:
                fix = f"its last two axes are swapped: pass {name}.transpose(0, 2, 1)"
            elif n_channels != self.series_shape_[0]:
                fix = (
                    f"pass the {self.series_shape_[0]} channel(s) the explainer "
                    "was fitted on, in the same order, or fit it on these"
                )
            else:
                fix = "resample them to the fitted number of time points"
            raise InvalidDataError(
                f"{name} has series of shape (n_channels, n_timepoints) = "
                f"{tuple(array.shape[1:])}, but the encoder was fitted on "
                f"{self.series_shape_}; {fix}"
            )
        return array

    def transform(self, X):
        """Return the series standardised per channel, as float32 rows.

        Parameters
        ----------
        X : array-like of shape (n_cases, n_channels, n_timepoints)

        Returns
        -------
        numpy.ndarray of float32, shape (n_cases, n_channels * n_timepoints)
        """
        array = self.check(X).astype(np.float64)
        standardised = (array - self.mean_[:, None]) / self.scale_[:, None]
        return standardised.reshape(len(array), -1).astype(np.float32)

    def inverse_transform(self, Xt):
        """Return series from encoded rows, in the fitted shape and dtype.

        Parameters
        ----------
        Xt : array-like of shape (n_cases, n_channels * n_timepoints)

        Returns
        -------
        numpy.ndarray of shape (n_cases, n_channels, n_timepoints)
        """
        check_is_fitted(self, "series_shape_")
        rows = np.asarray(Xt, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != self.n_features_in_:
            raise InvalidDataError(
                f"encoded series must have shape (n, {self.n_features_in_}), got "
                f"{rows.shape}"
            )
        series = rows.reshape(len(rows), *self.series_shape_)
        series = series * self.scale_[:, None] + self.mean_[:, None]
        if np.issubdtype(self.dtype_, np.integer):
            info = np.iinfo(self.dtype_)
            series = np.clip(np.rint(series), info.min, info.max)
        return series.astype(self.dtype_)
