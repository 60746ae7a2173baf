"""Colored MNIST, made deterministically from the shipped MNIST sample."""

from __future__ import annotations

import numpy as np
from sklearn.utils import Bunch

from ._base import load_descr
from ._mnist import _mnist_arrays

__all__ = ["load_colored_mnist"]

#: The colours in the order of their index: red, green, blue (RGB channels).
COLOURS = ("red", "green", "blue")


def _colour_index(labels):
    """Colour of each image: its rank among the images of its digit, modulo 3.

    Every digit gets each colour a third of the time (500 images: 167, 167
    and 166), with no random draw.
    """
    rank = np.empty(len(labels), dtype=np.int64)
    for digit in np.unique(labels):
        rows = np.flatnonzero(labels == digit)
        rank[rows] = np.arange(len(rows))
    return rank % len(COLOURS)


def load_colored_mnist(*, return_X_y=False):
    """Load Colored MNIST: the MNIST sample with each digit drawn in red, green or blue.

    Paper 2's Colored-MNIST task (section 5.2): a third of the digits is
    coloured red, a third green and a third blue, which makes 30 classes
    (digit and colour) of 3-channel images. It is built from
    :func:`load_mnist_sample`, with no randomness: the ``j``-th image of a
    digit (in the file's order) gets colour ``j % 3``, and its grey levels
    go into that colour's channel (the other two channels are 0).

    =================   ==============================
    Samples             5,000 (about 167 per class)
    Image shape         (3, 28, 28), uint8, RGB
    Classes             30 (``3 * digit + colour``)
    =================   ==============================

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(images, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        images : ndarray of shape (5000, 3, 28, 28), dtype uint8
            The images, channels red, green, blue.
        data : ndarray of shape (5000, 2352), dtype uint8
            The images flattened in row-major order.
        target : ndarray of shape (5000,), dtype int64
            The class, ``3 * digit + colour`` (0 to 29).
        digit : ndarray of shape (5000,), dtype int64
            The digit, 0 to 9.
        colour : ndarray of shape (5000,), dtype int64
            The colour index: 0 red, 1 green, 2 blue.
        target_names : list of str
            ``"<digit> <colour>"`` for each class, e.g. ``"5 red"``.
        colour_names : tuple of str
            ``("red", "green", "blue")``.
        DESCR : str
            Description of the dataset: source, construction and licence.

    (images, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    ValueError
        If ``return_X_y`` is not a boolean.

    Notes
    -----
    Like the MNIST sample it is built from, the rows are sorted by digit:
    shuffle before splitting (e.g. ``train_test_split(..., stratify=target,
    random_state=0)``). Each call returns new arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from cfexplain.datasets import load_colored_mnist
    >>> colored = load_colored_mnist()
    >>> colored.images.shape, colored.images.dtype
    ((5000, 3, 28, 28), dtype('uint8'))
    >>> colored.target_names[colored.target[0]]
    '0 red'
    >>> np.bincount(colored.colour).tolist()
    [1670, 1670, 1660]
    """
    if not isinstance(return_X_y, (bool, np.bool_)):
        raise ValueError(f"return_X_y must be True or False, got {return_X_y!r}")
    pixels, labels = _mnist_arrays()
    digit = labels.copy()
    colour = _colour_index(digit)
    n = len(digit)
    images = np.zeros((n, len(COLOURS), 28, 28), dtype=np.uint8)
    images[np.arange(n), colour] = pixels.reshape(n, 28, 28)
    target = len(COLOURS) * digit + colour
    if return_X_y:
        return images, target
    return Bunch(
        images=images,
        data=images.reshape(n, -1).copy(),
        target=target,
        digit=digit,
        colour=colour,
        target_names=[f"{d} {c}" for d in range(10) for c in COLOURS],
        colour_names=COLOURS,
        DESCR=load_descr("colored_mnist.rst"),
    )
