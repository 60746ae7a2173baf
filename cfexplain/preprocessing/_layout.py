"""Description of the encoded feature vector, shared by encoders and backends.

The backends never see pandas. They receive float tensors plus a
:class:`FeatureLayout`: an ordered tuple of :class:`FeatureSpan` saying which
columns of the encoded vector belong to which original feature and how they
are encoded. A backend reads it to put the right activation on each span
(``tanh`` on a mode-specific scalar, a softmax or Gumbel-softmax on a one-hot
block) and to freeze single features when the user sets constraints. This is
the role CTGAN's ``SpanInfo`` plays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "CATEGORY",
    "CONTINUOUS",
    "MODE",
    "FeatureLayout",
    "FeatureSpan",
    "NumericDecoding",
]

#: A single real-valued column: a scaled number (standard, min-max) or the
#: scalar part of a mode-specific normalised number.
CONTINUOUS = "continuous"
#: The one-hot block saying which mixture mode a numerical value belongs to.
MODE = "mode"
#: The one-hot block of a categorical feature.
CATEGORY = "category"

_KINDS = (CONTINUOUS, MODE, CATEGORY)
_ACTIVATIONS = ("identity", "tanh", "sigmoid", "softmax")


@dataclass(frozen=True)
class FeatureSpan:
    """One contiguous slice ``[start, stop)`` of the encoded vector.

    Parameters
    ----------
    feature : str
        Name of the original column the span encodes.
    kind : {"continuous", "mode", "category"}
        What the span holds: a scalar, a one-hot of mixture modes, or a
        one-hot of categories.
    start : int
        First column of the span in the encoded vector.
    stop : int
        One past the last column of the span.
    activation : {"identity", "tanh", "sigmoid", "softmax"}
        The output activation that maps a network's scores into the range the
        encoder produces: ``tanh`` for mode-specific scalars (CTGAN, paper
        section 4.2), ``sigmoid`` for min-max scaled numbers, ``identity`` for
        standardised numbers and ``softmax`` for one-hot blocks.
    """

    feature: str
    kind: str
    start: int
    stop: int
    activation: str

    def __post_init__(self):
        if self.kind not in _KINDS:
            raise ValueError(f"kind must be one of {_KINDS}, got {self.kind!r}")
        if self.activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {_ACTIVATIONS}, got {self.activation!r}"
            )
        if not 0 <= self.start < self.stop:
            raise ValueError(
                f"a span needs 0 <= start < stop, got [{self.start}, {self.stop})"
            )

    @property
    def width(self) -> int:
        """Number of encoded columns in the span."""
        return self.stop - self.start

    @property
    def is_one_hot(self) -> bool:
        """Whether the span is a one-hot block (modes or categories)."""
        return self.kind in (MODE, CATEGORY)

    @property
    def n_categories(self) -> int | None:
        """Number of categories or modes of a one-hot span, else ``None``."""
        return self.width if self.is_one_hot else None

    def as_slice(self) -> slice:
        """Return the span as a :class:`slice` of the encoded vector."""
        return slice(self.start, self.stop)


@dataclass(frozen=True)
class FeatureLayout:
    """The ordered spans of an encoded vector, covering it without gaps.

    Parameters
    ----------
    spans : tuple of FeatureSpan
        Spans in the order of the encoded columns.
    """

    spans: tuple[FeatureSpan, ...]

    def __post_init__(self):
        expected_start = 0
        for span in self.spans:
            if span.start != expected_start:
                raise ValueError(
                    f"span of {span.feature!r} starts at {span.start}, "
                    f"expected {expected_start}: spans must be contiguous"
                )
            expected_start = span.stop

    @property
    def n_columns(self) -> int:
        """Width of the encoded vector."""
        return self.spans[-1].stop if self.spans else 0

    @property
    def features(self) -> tuple[str, ...]:
        """Names of the original features, in order of first appearance."""
        return tuple(dict.fromkeys(span.feature for span in self.spans))

    def spans_of(self, feature: str) -> tuple[FeatureSpan, ...]:
        """Return the spans that encode one original feature.

        Parameters
        ----------
        feature : str
            Name of an original column.

        Returns
        -------
        tuple of FeatureSpan
            The feature's spans in encoded order (a continuous scalar and,
            for mode-specific normalisation, its mode one-hot).

        Raises
        ------
        KeyError
            If no span encodes ``feature``.
        """
        found = tuple(span for span in self.spans if span.feature == feature)
        if not found:
            raise KeyError(f"no encoded span for feature {feature!r}")
        return found

    def columns_of(self, feature: str) -> list[int]:
        """Return the encoded column indices of one original feature.

        Parameters
        ----------
        feature : str
            Name of an original column.

        Returns
        -------
        list of int
            Indices into the encoded vector.
        """
        spans = self.spans_of(feature)
        return [i for span in spans for i in range(span.start, span.stop)]


@dataclass(frozen=True)
class NumericDecoding:
    """How to read a numerical feature's value back off its encoded spans.

    The value is ``scales[k] * x[scalar_column] + offsets[k]`` where ``k`` is
    the hot column of the mode block ``[mode_start, mode_stop)``, or ``k = 0``
    when the feature has no mode block (standard or min-max scaling). With a
    one-hot (or straight-through one-hot) mode block ``m`` this is the
    differentiable ``x[scalar] * (m @ scales) + m @ offsets``, which lets a
    backend measure changes in the feature's own units.

    Parameters
    ----------
    feature : str
        Name of the original column.
    scalar_column : int
        Encoded column of the scalar.
    mode_start, mode_stop : int or None
        The mode one-hot block, if any.
    scales, offsets : tuple of float
        One per mode (or a single pair).
    """

    feature: str
    scalar_column: int
    mode_start: int | None
    mode_stop: int | None
    scales: tuple
    offsets: tuple

    def values(self, Xt):
        """Return the feature's values read off encoded rows (numpy, no clipping).

        Parameters
        ----------
        Xt : numpy.ndarray of shape (n, n_encoded)
            Encoded rows.

        Returns
        -------
        numpy.ndarray of float64, shape (n,)
        """
        Xt = np.asarray(Xt)
        if self.mode_start is None:
            mode = np.zeros(len(Xt), dtype=np.int64)
        else:
            mode = Xt[:, self.mode_start : self.mode_stop].argmax(axis=1)
        scalar = Xt[:, self.scalar_column].astype(np.float64)
        return np.asarray(self.scales)[mode] * scalar + np.asarray(self.offsets)[mode]
