"""Loader for the UCR GunPoint motion time series."""

from __future__ import annotations

import functools
import gzip

import numpy as np
from sklearn.utils import Bunch

from ._base import load_descr, open_data_file, select_splits

__all__ = ["load_gunpoint"]

_GUNPOINT_FILES = {"train": "GunPoint_TRAIN.ts.gz", "test": "GunPoint_TEST.ts.gz"}
_GUNPOINT_LENGTH = 150


def _read_ts(name):
    """Read one equal-length univariate ``.ts`` file (sktime/aeon format)."""
    series, labels = [], []
    with open_data_file(name) as fh, gzip.open(fh, "rt", encoding="ascii") as text:
        in_data = False
        for line in text:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                in_data = line.lower() == "@data"
                continue
            values, label = line.rsplit(":", 1)
            series.append(np.array(values.split(","), dtype=np.float64))
            labels.append(int(label))
    data = np.stack(series).astype(np.float32)[:, np.newaxis, :]
    if data.shape[2] != _GUNPOINT_LENGTH:  # pragma: no cover - the file is fixed
        raise ValueError(f"{name} has series of length {data.shape[2]}")
    return data, np.asarray(labels, dtype=np.int64)


@functools.lru_cache(maxsize=1)
def _gunpoint_arrays():
    """Parse both files once; the arrays are read-only, callers copy them."""
    result = {}
    for split, name in _GUNPOINT_FILES.items():
        data, labels = _read_ts(name)
        data.setflags(write=False)
        labels.setflags(write=False)
        result[split] = (data, labels)
    return result


def load_gunpoint(*, return_X_y=False, split=None):
    """Load the UCR GunPoint series: drawing a gun or pointing a finger.

    200 series of 150 time points: the X coordinate of an actor's hand
    centroid while drawing a replica gun from a hip holster and pointing it
    (``"gun"``), or pointing a finger (``"point"``). A small univariate
    binary task, quick to train on, for examples and tests.

    =================   ==============================
    Samples             200 (50 train, 150 test)
    Shape               (n, 1, 150), float32
    Classes             2 (gun 100, point 100)
    =================   ==============================

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    split : {None, "train", "test"}, default=None
        The UCR split to return; ``None`` returns both, train first.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray of shape (n, 1, 150), dtype float32
            The series, in the ``(n_cases, n_channels, n_timepoints)``
            layout of aeon and sktime.
        target : ndarray of shape (n,), dtype int64
            0 for gun (UCR class 1), 1 for point (UCR class 2).
        target_names : list of str
            ``["gun", "point"]``, indexed by the target value.
        split : ndarray of shape (n,), dtype str
            ``"train"`` or ``"test"`` for each returned row.
        DESCR : str
            Description of the dataset: source, citation and licence.

    (data, target) : tuple if ``return_X_y`` is True
        The ``data`` and ``target`` described above.

    Raises
    ------
    ValueError
        If ``split`` is not None, ``"train"`` or ``"test"``, or
        ``return_X_y`` is not a boolean.

    Notes
    -----
    Source: the UCR Time Series Classification Archive (Dau et al., 2019),
    freely available for research; GunPoint by Ratanamahatana and Keogh
    (2005). The files are sktime 1.2.0's copies (BSD-3-Clause code). The data
    ship inside the package; nothing is downloaded. Each call returns new
    arrays.

    References
    ----------
    .. [1] H. A. Dau et al., "The UCR Time Series Archive", IEEE/CAA Journal of
       Automatica Sinica 6(6), 2019.
    .. [2] C. A. Ratanamahatana and E. Keogh, "Three myths about dynamic time
       warping data mining", SIAM International Conference on Data Mining,
       2005.

    Examples
    --------
    >>> from cfexplain.datasets import load_gunpoint
    >>> X, y = load_gunpoint(return_X_y=True)
    >>> X.shape, X.dtype, int(y.sum())
    ((200, 1, 150), dtype('float32'), 100)
    """
    splits = select_splits(split, list(_GUNPOINT_FILES), return_X_y)
    arrays = _gunpoint_arrays()
    data = np.concatenate([arrays[name][0] for name in splits])
    target = np.concatenate([arrays[name][1] for name in splits]) - 1
    if return_X_y:
        return data, target
    row_split = np.concatenate(
        [np.full(len(arrays[name][1]), name, dtype="<U5") for name in splits]
    )
    return Bunch(
        data=data,
        target=target,
        target_names=["gun", "point"],
        split=row_split,
        DESCR=load_descr("gunpoint.rst"),
    )
