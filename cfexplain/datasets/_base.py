"""Access to the data files and descriptions shipped inside the package."""

from __future__ import annotations

from importlib import resources

__all__ = ["load_descr", "open_data_file", "select_splits"]

_PACKAGE = "cfexplain.datasets"


def open_data_file(name):
    """Open one of the shipped data files for reading in binary mode.

    Parameters
    ----------
    name : str
        File name inside the package's ``data`` folder, e.g. ``"adult.data.gz"``.

    Returns
    -------
    file object
        A binary file object; the caller closes it (use it in a ``with``).
    """
    return resources.files(_PACKAGE).joinpath("data").joinpath(name).open("rb")


def load_descr(name):
    """Read the reStructuredText description of a dataset.

    Parameters
    ----------
    name : str
        File name inside the package's ``descr`` folder, e.g. ``"adult.rst"``.

    Returns
    -------
    str
        The description text.
    """
    path = resources.files(_PACKAGE).joinpath("descr").joinpath(name)
    return path.read_text(encoding="utf-8")


def select_splits(split, names, return_X_y):
    """Check a loader's ``split`` and ``return_X_y``; return the splits to load.

    Parameters
    ----------
    split : {None, "train", "test"}
        The user's ``split``; ``None`` selects every split, in order.
    names : sequence of str
        The dataset's splits.
    return_X_y : object
        The user's ``return_X_y``, which must be a boolean.

    Returns
    -------
    list of str

    Raises
    ------
    ValueError
        For another ``split`` or a non-boolean ``return_X_y``.
    """
    import numpy as np

    if not isinstance(return_X_y, (bool, np.bool_)):
        raise ValueError(f"return_X_y must be True or False, got {return_X_y!r}")
    if split is None:
        return list(names)
    if isinstance(split, str) and split in names:
        return [split]
    raise ValueError(f"split must be None, 'train' or 'test', got {split!r}")
