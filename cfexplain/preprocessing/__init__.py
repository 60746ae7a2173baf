"""Encoders that turn tables into the float vectors the networks work on.

:class:`TabularEncoder` encodes a mixed-type table (one-hot categories,
mode-specific normalised numbers) and decodes any network output back into a
table of the original columns and dtypes. :class:`ModeSpecificNormalizer` is
its CTGAN-style transformer for numerical columns. :class:`ImageEncoder` does
the same for images: flat float vectors in [0, 1], decoded back to the
input's shape and dtype, and :class:`SeriesEncoder` for time series
(standardised per channel, flattened). :func:`flatten_samples` puts a
scikit-learn model fitted on flattened series or images in front of the
explainers. :class:`FeatureLayout` and
:class:`FeatureSpan` describe the encoded vector to the backends.
"""

from ._flatten import flatten_samples
from ._image_encoder import ImageEncoder
from ._layout import (
    CATEGORY,
    CONTINUOUS,
    MODE,
    FeatureLayout,
    FeatureSpan,
    NumericDecoding,
)
from ._mode_specific import ModeSpecificNormalizer
from ._series_encoder import SeriesEncoder
from ._tabular_encoder import TabularEncoder

__all__ = [
    "CATEGORY",
    "CONTINUOUS",
    "MODE",
    "FeatureLayout",
    "FeatureSpan",
    "ImageEncoder",
    "ModeSpecificNormalizer",
    "NumericDecoding",
    "SeriesEncoder",
    "TabularEncoder",
    "flatten_samples",
]
