"""Time series: arrays of shape ``(n_cases, n_channels, n_timepoints)``.

The layout is aeon's and sktime's. Input checks are in place; the encoder
and the networks for series are not, so ``fit`` stops with a clear
"not yet supported" error after checking the input.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import InvalidDataError
from ._base import ModalityAdapter

__all__ = ["SeriesAdapter"]


def as_series_array(X, name="X"):
    """Return ``X`` as a float array ``(n_cases, n_channels, n_timepoints)``, or raise.

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
    try:
        array = np.asarray(X)
    except ValueError as exc:  # ragged nested lists
        raise InvalidDataError(
            f"{name} must hold equal-length series; unequal lengths are not "
            "supported: pad or resample them to one length"
        ) from exc
    if array.ndim != 3:
        raise InvalidDataError(
            f"{name} must hold series of shape (n_cases, n_channels, "
            f"n_timepoints), got an array of shape {array.shape}"
        )
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise InvalidDataError(
            f"{name} must hold equal-length numeric series, got dtype "
            f"{array.dtype}; unequal lengths are not supported"
        )
    if len(array) == 0:
        raise InvalidDataError(f"{name} has 0 series; at least one is required")
    if not np.isfinite(array).all():
        raise InvalidDataError(
            f"{name} contains missing or infinite values; impute them first"
        )
    return array


class SeriesAdapter(ModalityAdapter):
    """Time series in the aeon/sktime layout; not yet supported by any explainer.

    Checks the input, then :meth:`make_encoder` raises, naming what works
    today.
    """

    name = "series"

    def check_input(self, estimator, X, *, reset):
        """Validate equal-length series ``(n_cases, n_channels, n_timepoints)``.

        See :meth:`ModalityAdapter.check_input`.
        """
        array = as_series_array(X)
        if reset:
            estimator.n_features_in_ = int(np.prod(array.shape[1:]))
        return array

    def make_encoder(self, random_state):
        """Raise: no explainer has series networks yet."""
        raise InvalidDataError(
            "time series (n_cases, n_channels, n_timepoints) are not yet "
            "supported by the explainers; flatten them to a table of shape "
            "(n_cases, n_channels * n_timepoints) with modality='tabular' to "
            "explain them as tabular rows meanwhile"
        )
