"""Encode images as flat float vectors in [0, 1] and decode them back."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._stacklevel import user_stacklevel
from ..exceptions import InvalidDataError, PixelScaleWarning
from ._layout import CONTINUOUS, FeatureLayout, FeatureSpan

__all__ = ["ImageEncoder"]

#: Integer images whose values all stay below this are probably not grey
#: levels 0-255 (scikit-learn's digits are 0-16): fit warns.
DARK_INTEGER_IMAGES = 32


def as_image_array(X, name="X"):
    """Return ``X`` as an array of 3 or 4 dimensions, or raise."""
    if hasattr(X, "detach"):  # a torch tensor
        X = X.detach().cpu().numpy()
    array = np.asarray(X)
    if array.ndim not in (3, 4):
        raise InvalidDataError(
            f"{name} must hold images of shape (n, height, width) or "
            f"(n, channels, height, width), got an array of shape {array.shape}"
        )
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise InvalidDataError(
            f"{name} must hold numbers (uint8 0-255 or floats in [0, 1]), got "
            f"dtype {array.dtype}"
        )
    if len(array) == 0:
        raise InvalidDataError(f"{name} has 0 images; at least one is required")
    return array


class ImageEncoder(TransformerMixin, BaseEstimator):
    """Scale images into [0, 1], flatten them, and decode network outputs back.

    Images come as arrays of shape ``(n, height, width)`` (one channel) or
    ``(n, channels, height, width)``. Integer images (``uint8``) hold grey
    levels 0-255 and are divided by 255; float images must already lie in
    [0, 1]. The encoding is a float32 matrix of shape ``(n, channels *
    height * width)``, which the image networks reshape to ``(n, channels,
    height, width)``; decoding clips into [0, 1], rescales, rounds integer
    images, and restores the input's shape and dtype.

    Attributes
    ----------
    input_shape_ : tuple of int
        Shape of one image as given to ``fit`` (without the batch axis).
    image_shape_ : tuple of int
        ``(channels, height, width)`` as the networks see it.
    dtype_ : numpy.dtype
        The dtype of the images given to ``fit``.
    scale_ : float
        255 for integer images, 1 for float images.
    n_features_in_ : int
        Number of values per image.
    layout_ : FeatureLayout
        A single ``sigmoid`` span over all pixel values.

    Examples
    --------
    >>> import numpy as np
    >>> from cfexplain.preprocessing import ImageEncoder
    >>> images = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10
    >>> encoder = ImageEncoder().fit(images)
    >>> encoder.transform(images).shape
    (2, 9)
    >>> bool((encoder.inverse_transform(encoder.transform(images)) == images).all())
    True
    """

    def fit(self, X, y=None):
        """Learn the image shape and pixel scale.

        Parameters
        ----------
        X : array-like of shape (n, height, width) or (n, channels, height, width)
            Training images: integers 0-255 or floats in [0, 1].
        y : ignored
            Not used, present for API consistency.

        Returns
        -------
        self : ImageEncoder
            The fitted encoder.

        Raises
        ------
        InvalidDataError
            For arrays of another rank, non-numeric, non-finite or
            out-of-range values.

        Warns
        -----
        PixelScaleWarning
            For integer images whose values all stay below 32: probably not
            grey levels 0-255.
        """
        array = as_image_array(X)
        self.input_shape_ = tuple(array.shape[1:])
        self.image_shape_ = (
            (1, *self.input_shape_) if array.ndim == 3 else self.input_shape_
        )
        self.dtype_ = array.dtype
        self.scale_ = 255.0 if np.issubdtype(array.dtype, np.integer) else 1.0
        self.n_features_in_ = int(np.prod(self.input_shape_))
        self.layout_ = FeatureLayout(
            (FeatureSpan("pixels", CONTINUOUS, 0, self.n_features_in_, "sigmoid"),)
        )
        self._check_values(array, "X")
        if self.scale_ == 255.0 and array.size and array.max() < DARK_INTEGER_IMAGES:
            warnings.warn(
                f"X holds integer images read as grey levels 0-255, but its "
                f"largest value is {array.max()}: every pixel will look nearly "
                "black. If they are on another scale (e.g. 0-16), pass them as "
                "floats in [0, 1] (divide by their maximum)",
                PixelScaleWarning,
                stacklevel=user_stacklevel(),
            )
        return self

    def _check_values(self, array, name):
        if self.scale_ == 1.0:
            if not np.isfinite(array).all():
                raise InvalidDataError(f"{name} contains NaN or infinite pixels")
            low, high = float(array.min()), float(array.max())
            if low < 0.0 or high > 1.0:
                raise InvalidDataError(
                    f"float images must lie in [0, 1], {name} spans [{low:.4g}, "
                    f"{high:.4g}]; divide 0-255 images by 255 or pass them as uint8"
                )
        elif array.min() < 0 or array.max() > 255:
            raise InvalidDataError(
                f"integer images must hold grey levels 0-255, {name} spans "
                f"[{array.min()}, {array.max()}]"
            )

    def check(self, X, name="X"):
        """Validate images against the fitted shape and range.

        Parameters
        ----------
        X : array-like
            Images.
        name : str, default="X"
            How the error messages call ``X``.

        Returns
        -------
        numpy.ndarray
            ``X`` as an array (not copied when it already is one).

        Raises
        ------
        InvalidDataError
            For a different image shape, integer images where float images
            were fitted (or the reverse), non-finite or out-of-range values.
        """
        check_is_fitted(self, "input_shape_")
        array = as_image_array(X, name)
        if tuple(array.shape[1:]) != self.input_shape_:
            hint = ""
            if tuple(array.shape) == self.input_shape_:
                # One image without its batch axis: X[0] instead of X[:1].
                hint = (
                    f"; {name} looks like one image without its batch axis: "
                    f"pass {name}[None] (or X[:1] instead of X[0])"
                )
            raise InvalidDataError(
                f"{name} has images of shape {tuple(array.shape[1:])}, but the "
                f"encoder was fitted on images of shape {self.input_shape_}{hint}"
            )
        if np.issubdtype(array.dtype, np.integer) != np.issubdtype(
            self.dtype_, np.integer
        ):
            raise InvalidDataError(
                f"{name} holds {array.dtype} images, but the encoder was fitted "
                f"on {self.dtype_} images; pass the same kind (integers 0-255 "
                "or floats in [0, 1])"
            )
        self._check_values(array, name)
        return array

    def transform(self, X):
        """Return the images as float32 rows in [0, 1].

        Parameters
        ----------
        X : array-like of images
            Images of the shape and kind given to ``fit``.

        Returns
        -------
        numpy.ndarray of float32, shape (n, n_values)
            ``n_values`` is ``n_features_in_``, the values per image.
        """
        array = self.check(X)
        flat = array.reshape(len(array), -1).astype(np.float32)
        return flat / np.float32(self.scale_)

    def inverse_transform(self, X):
        """Decode float rows (any real values) into images of the fitted format.

        Parameters
        ----------
        X : array-like of shape (n, n_values)
            Encoded images, e.g. network outputs, with ``n_features_in_``
            values each; values are clipped to [0, 1].

        Returns
        -------
        numpy.ndarray
            Images of the shape (``input_shape_``) and dtype seen in ``fit``
            (integer images rounded).
        """
        check_is_fitted(self, "input_shape_")
        values = np.asarray(X, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != self.n_features_in_:
            raise InvalidDataError(
                f"expected encoded images of shape (n, {self.n_features_in_}), "
                f"got {values.shape}"
            )
        values = np.clip(np.nan_to_num(values, nan=0.0), 0.0, 1.0) * self.scale_
        if np.issubdtype(self.dtype_, np.integer):
            values = np.rint(values)
        return values.astype(self.dtype_).reshape(len(values), *self.input_shape_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags
