"""Loader for the UCR ECG5000 heartbeat time series."""

from __future__ import annotations

import functools
import gzip

import numpy as np
from sklearn.utils import Bunch

from ._base import load_descr, open_data_file, select_splits

__all__ = ["load_ecg5000"]

_ECG_FILES = {
    "train": "ECG5000_TRAIN.txt.gz",
    "test": "ECG5000_TEST_reconstructed.txt.gz",
}
_ECG_LENGTH = 140
_ECG_MULTICLASS_NAMES = {
    1: "normal",
    2: "R-on-T premature ventricular contraction",
    3: "premature ventricular contraction",
    4: "supraventricular premature or ectopic beat",
    5: "unclassified beat",
    -1: "abnormal, subclass unknown",
}


def _read_ucr(name):
    """Read one UCR text file: label in column 0, then the series."""
    with open_data_file(name) as fh, gzip.open(fh, "rt", encoding="ascii") as text:
        values = np.loadtxt(text, dtype=np.float64)
    labels = np.rint(values[:, 0]).astype(np.int64)
    series = values[:, 1:].astype(np.float32)
    if series.shape[1] != _ECG_LENGTH:  # pragma: no cover - the shipped file is fixed
        raise ValueError(f"{name} has series of length {series.shape[1]}")
    return series, labels


@functools.lru_cache(maxsize=1)
def _ecg_arrays():
    """Parse both files once; the arrays are read-only, callers copy them."""
    parts = {split: _read_ucr(name) for split, name in _ECG_FILES.items()}
    result = {}
    for split, (series, labels) in parts.items():
        series = series[:, np.newaxis, :]
        series.setflags(write=False)
        labels.setflags(write=False)
        result[split] = (series, labels)
    return result


def load_ecg5000(*, return_X_y=False, split=None):
    """Load the UCR ECG5000 heartbeats as a binary normal/abnormal task.

    5,000 heartbeats of 140 samples each, every beat z-normalised (mean 0,
    standard deviation 1). As in Van Looveren et al. (2021), the normal
    beats (UCR class 1) are class 0 and the four abnormal classes (UCR
    classes 2-5) are merged into class 1. The time series follow the layout
    of aeon and sktime, ``(n_cases, n_channels, n_timepoints)``, here
    ``(n, 1, 140)``.

    The 500 training rows are the original UCR training file. The 4,500 test
    rows were reconstructed from public processed copies: each row's values
    and its binary label are those of the UCR test file, but the rows are in
    a different order (all normal beats first) and the five-class label of
    1,154 abnormal test beats is unknown. See ``DESCR`` for details.

    =================   ===========================================
    Samples             5,000 (500 train, 4,500 test)
    Shape               (n, 1, 140), float32
    Classes             2 (2,919 normal = 0, 2,081 abnormal = 1)
    =================   ===========================================

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    split : {None, "train", "test"}, default=None
        Which rows to return: ``"train"`` the 500 UCR training rows,
        ``"test"`` the 4,500 test rows, None all 5,000 (training rows first).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : ndarray of shape (n, 1, 140), dtype float32
            The heartbeats.
        target : ndarray of shape (n,), dtype int64
            0 for a normal beat, 1 for an abnormal one. Exact for all rows.
        target_names : list of str
            ``["normal", "abnormal"]``, indexed by the target value.
        target_multiclass : ndarray of shape (n,), dtype int64
            The UCR class, 1 (normal) to 5, or -1 for an abnormal test beat
            whose subclass is unknown.
        target_multiclass_names : dict of int to str
            The meaning of each value of ``target_multiclass``.
        split : ndarray of shape (n,), dtype str
            ``"train"`` or ``"test"`` for each returned row.
        DESCR : str
            Description of the dataset: source, citation, licence and how
            the test split was reconstructed.

    (data, target) : tuple if ``return_X_y`` is True
        The ``data`` and ``target`` described above.

    Raises
    ------
    ValueError
        If ``split`` is not None, ``"train"`` or ``"test"``, or
        ``return_X_y`` is not a boolean.

    Notes
    -----
    There is no ``as_frame`` option: the data are three-dimensional.

    Source: the UCR Time Series Classification Archive (Dau et al., 2019),
    freely available for research; the beats come from patient chf07 of the
    BIDMC Congestive Heart Failure Database on PhysioNet. The data ship inside
    the package; nothing is downloaded. Each call returns new arrays, so they
    can be modified freely.

    References
    ----------
    .. [1] H. A. Dau et al., "The UCR Time Series Archive", IEEE/CAA Journal of
       Automatica Sinica 6(6), 2019.
    .. [2] A. Van Looveren, J. Klaise, G. Vacanti and O. Cobb, "Conditional
       Generative Models for Counterfactual Explanations", arXiv:2101.10123,
       2021.

    Examples
    --------
    >>> from cfexplain.datasets import load_ecg5000
    >>> X_train, y_train = load_ecg5000(split="train", return_X_y=True)
    >>> X_train.shape, X_train.dtype
    ((500, 1, 140), dtype('float32'))
    >>> int((y_train == 0).sum())
    292
    """
    splits = select_splits(split, list(_ECG_FILES), return_X_y)
    arrays = _ecg_arrays()
    data = np.concatenate([arrays[name][0] for name in splits])
    multiclass = np.concatenate([arrays[name][1] for name in splits])
    target = (multiclass != 1).astype(np.int64)
    if return_X_y:
        return data, target
    row_split = np.concatenate(
        [np.full(len(arrays[name][1]), name, dtype="<U5") for name in splits]
    )
    return Bunch(
        data=data,
        target=target,
        target_names=["normal", "abnormal"],
        target_multiclass=multiclass,
        target_multiclass_names=dict(_ECG_MULTICLASS_NAMES),
        split=row_split,
        DESCR=load_descr("ecg5000.rst"),
    )
