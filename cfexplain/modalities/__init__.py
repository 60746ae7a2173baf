"""Modality adapters: what the explainers need to know about each kind of data.

One small module per modality (:mod:`.tabular`, :mod:`.image`,
:mod:`.series`), each an adapter following :class:`ModalityAdapter`.
:func:`resolve_modality` applies the input convention:

* a DataFrame or a 2-D array is a table;
* a 4-D array ``(n, channels, height, width)`` holds images;
* a 3-D array is ambiguous, time series ``(n_cases, n_channels,
  n_timepoints)`` (aeon's and sktime's layout) or single-channel images
  ``(n, height, width)``, so it needs ``modality="series"`` or
  ``modality="image"``: a silent guess between the two is never made.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import InvalidDataError
from ._base import ArrayAdapter, ModalityAdapter
from .image import ImageAdapter
from .series import SeriesAdapter, as_series_array
from .tabular import TabularAdapter

__all__ = [
    "ArrayAdapter",
    "ADAPTERS",
    "ImageAdapter",
    "ModalityAdapter",
    "SeriesAdapter",
    "TabularAdapter",
    "resolve_modality",
]

#: Adapter class of each modality name.
ADAPTERS = {
    adapter.name: adapter for adapter in (TabularAdapter, ImageAdapter, SeriesAdapter)
}

#: Array dimensions each modality takes.
_DIMENSIONS = {"tabular": (2,), "image": (3, 4), "series": (3,)}

_SHAPES = {
    "tabular": "a DataFrame or a 2-D array (n_samples, n_features)",
    "image": "images of shape (n, height, width) or (n, channels, height, width)",
    "series": "series of shape (n_cases, n_channels, n_timepoints)",
}


def _ndim(X):
    ndim = getattr(X, "ndim", None)
    if isinstance(ndim, int):
        return ndim
    try:
        return np.asarray(X).ndim
    except ValueError:  # ragged nested lists
        pass
    try:
        return np.asarray(X, dtype=object).ndim
    except ValueError:
        # A list of arrays of unequal shapes, which numpy cannot even hold
        # as objects: the list adds an axis to its items', and the adapter
        # then names the unequal lengths.
        return 1 + _ndim(X[0])


def resolve_modality(X, modality, *, supported, estimator_name):
    """Return the modality of ``X`` under the ``modality`` parameter.

    Parameters
    ----------
    X : object
        What the user passed to ``fit``.
    modality : {"auto", "tabular", "image", "series"}
        The estimator's ``modality`` parameter.
    supported : collection of str
        The modalities the estimator has networks for.
    estimator_name : str
        For the error messages.

    Returns
    -------
    str
        A key of :data:`ADAPTERS`.

    Raises
    ------
    InvalidDataError
        When ``X`` does not fit the requested modality, when a 3-D array
        comes with ``modality="auto"``, or when the estimator does not
        support the modality.
    """
    is_frame = isinstance(X, pd.DataFrame)
    ndim = 2 if is_frame else _ndim(X)
    if modality == "auto":
        if ndim == 3:
            try:
                shape = tuple(np.shape(X))
            except ValueError:  # a ragged list of series
                as_series_array(X)
                raise
            raise InvalidDataError(
                f"X is a 3-D array of shape {shape}, which could be time series "
                f"(n_cases={shape[0]}, n_channels={shape[1]}, "
                f"n_timepoints={shape[2]}) or single-channel images (n={shape[0]}, "
                f"height={shape[1]}, width={shape[2]}); set modality='series' or "
                "modality='image' to say which"
            )
        modality = {2: "tabular", 4: "image"}.get(ndim)
        if modality is None:
            raise InvalidDataError(
                f"X has {ndim} dimensions; expected {_SHAPES['tabular']}, or "
                f"{_SHAPES['image']}"
            )
    elif is_frame and modality != "tabular":
        if modality == "series":
            # Its own checks name a nested or a flat frame for what it is.
            as_series_array(X)
        raise InvalidDataError(
            f"modality={modality!r} needs {_SHAPES[modality]}, got a DataFrame"
        )
    elif ndim not in _DIMENSIONS[modality]:
        if modality == "series":
            # Its own checks name ragged input (unequal lengths) for what it is.
            as_series_array(X)
        raise InvalidDataError(
            f"modality={modality!r} needs {_SHAPES[modality]}, got {ndim} dimensions"
        )
    if modality not in supported:
        raise InvalidDataError(
            f"{estimator_name} does not support modality {modality!r} yet; it "
            f"takes {', '.join(sorted(supported))}"
        )
    return modality
