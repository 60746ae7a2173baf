"""Access to the data files and descriptions shipped inside the package."""

from __future__ import annotations

from importlib import resources

__all__ = ["load_descr", "open_data_file"]

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
