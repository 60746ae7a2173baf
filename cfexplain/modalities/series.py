"""Time series: arrays of shape ``(n_cases, n_channels, n_timepoints)``.

The layout is aeon's and sktime's. Series are standardised per channel by
:class:`~cfexplain.preprocessing.SeriesEncoder`; constraints freeze channels
and time windows (``immutable``) and bound each channel's amplitude
(``bounds``); changes read as windows of time points raised or lowered.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .._constraints import parse_series_constraints
from ..preprocessing import SeriesEncoder
from ..preprocessing._series_encoder import as_series_array
from ._base import ArrayAdapter

__all__ = ["SeriesAdapter", "as_series_array"]

#: Windows described per series and channel, the largest changes first.
_DESCRIBED_WINDOWS = 3


class SeriesFromEncoding(nn.Module):
    """Turn encoded series (flat, standardised) into the model's input tensors.

    Parameters
    ----------
    module : torch.nn.Module
        The model, taking ``(n, n_channels, n_timepoints)`` float tensors in
        the series' own units.
    series_shape : tuple of int
        ``(n_channels, n_timepoints)``.
    mean, scale : numpy.ndarray of shape (n_channels,)
        The encoder's per-channel standardisation.
    """

    def __init__(self, module, series_shape, mean, scale):
        super().__init__()
        self.module = module
        self.series_shape = tuple(series_shape)
        self.register_buffer(
            "mean", torch.as_tensor(mean, dtype=torch.float32).reshape(-1, 1)
        )
        self.register_buffer(
            "scale", torch.as_tensor(scale, dtype=torch.float32).reshape(-1, 1)
        )

    def forward(self, X):
        """Return the model's output on encoded series ``X`` of shape (n, n_values)."""
        series = X.reshape(X.shape[0], *self.series_shape)
        return self.module(series * self.scale + self.mean)


def _describe_channel(delta):
    """Describe one channel's changed windows (see ``describe_changes``)."""
    windows = _runs(delta != 0)
    windows.sort(key=lambda w: -np.abs(delta[w[0] : w[1]]).sum())
    parts = []
    for start, stop in windows[:_DESCRIBED_WINDOWS]:
        change = delta[start:stop]
        single = stop - start == 1
        steps = f"step {start}" if single else f"steps {start}-{stop - 1}"
        average = "" if single else " on average"
        if (change > 0).all():
            parts.append(f"{steps} raised by {change.mean():.2g}{average}")
        elif (change < 0).all():
            parts.append(f"{steps} lowered by {-change.mean():.2g}{average}")
        else:
            # A mean of mixed signs would hide how much the window moved.
            size = np.abs(change).mean()
            parts.append(f"{steps} changed by {size:.2g} on average (up and down)")
    more = len(windows) - _DESCRIBED_WINDOWS
    if more > 0:
        parts.append(f"{more} smaller window{'s' if more > 1 else ''}")
    return parts


def _runs(flags):
    """Return ``(start, stop)`` of each run of ``True`` in a 1-D boolean array."""
    padded = np.concatenate([[False], flags, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[::2], edges[1::2], strict=True))


class SeriesAdapter(ArrayAdapter):
    """Equal-length time series in the aeon/sktime layout.

    Encoding is :class:`~cfexplain.preprocessing.SeriesEncoder`'s (values
    standardised per channel, flattened channel by channel). Constraints:
    ``immutable`` freezes values (a boolean mask, or ``{"channels": [...],
    "windows": [(start, stop), ...]}``) and ``bounds`` gives channels an
    amplitude range (:func:`~cfexplain._constraints.parse_series_constraints`);
    they are applied to the decoded series, so they need no retraining. A
    value is negligibly changed when it moved by at most
    ``numeric_tolerance`` training standard deviations of its channel.

    Attributes
    ----------
    encoder_ : SeriesEncoder
    feature_of_column_ : numpy.ndarray of int
        Every value is its own feature.
    """

    name = "series"
    # Paper 1, appendix A.2: batches of 32 series.
    auto_batch_size = 32
    training_row_path = "windows"

    #: The check of the input at fit (later calls use the encoder's).
    as_array = staticmethod(as_series_array)

    def make_encoder(self, random_state):
        """Return a :class:`~cfexplain.preprocessing.SeriesEncoder`."""
        return SeriesEncoder()

    def network_arguments(self):
        """Return ``{"series_shape": (n_channels, n_timepoints)}``."""
        return {"series_shape": self.encoder_.series_shape_}

    def torch_view(self, module):
        """Reshape and unstandardise encoded rows into the model's series tensors."""
        encoder = self.encoder_
        return SeriesFromEncoding(
            module, encoder.series_shape_, encoder.mean_, encoder.scale_
        )

    def parse_constraints(self, immutable, bounds, monotonic):
        """Parse frozen values and channel bounds (see the class docstring)."""
        return parse_series_constraints(
            immutable,
            bounds,
            monotonic,
            series_shape=self.encoder_.series_shape_,
            dtype=self.encoder_.dtype_,
        )

    def decode(self, Xt, originals):
        """Decode to the fitted shape; constant channels stay as they were.

        The dtype is numpy's common one of the fitted series and
        ``originals`` (``numpy.result_type``): the fitted dtype's rounding
        (whole numbers for integer series) applies, and the values a
        counterfactual keeps (frozen windows and channels) are the
        originals' exactly, float64 series explained by an explainer fitted
        on float32 ones included. A channel that never varies in the
        training series carries nothing a counterfactual could change: a
        reconstruction (the CVAE's) would otherwise move it by its
        reconstruction error. Encoders fitted before
        ``constant_channels_`` existed decode as before.
        """
        decoded = self.encoder_.inverse_transform(Xt)
        dtype = np.result_type(decoded.dtype, np.asarray(originals).dtype)
        if dtype != decoded.dtype:
            decoded = decoded.astype(dtype)
        constant = getattr(self.encoder_, "constant_channels_", None)
        if constant is not None and constant.any():
            decoded[:, constant] = np.asarray(originals)[:, constant]
        return decoded

    def change_unit(self):
        """Return each channel's training standard deviation, ``(n_channels, 1)``."""
        return self.encoder_.scale_[:, None]

    @staticmethod
    def describe_changes(original, counterfactual):
        """Describe each series' changed windows, e.g. ``"steps 40-62 raised by 1.3"``.

        Contiguous changed time points form a window, named by its first and
        last step (both included: ``"steps 40-62"`` is the slice
        ``40:63``). Up to three windows per channel are listed, largest
        total change first, with the mean change in the series' units:
        ``"raised"``/``"lowered"`` when every point of the window moves the
        same way, else ``"changed by"`` the mean absolute change ``"(up and
        down)"``. A multivariate series gets one string per changed channel
        (``"channel 1: steps 0-2 raised by 1 on average and step 8 ..."``).
        An unchanged series gets no string.
        """
        before = np.asarray(original, dtype=np.float64)
        after = np.asarray(counterfactual, dtype=np.float64)
        n_channels = before.shape[1]
        descriptions = []
        for b, a in zip(before, after, strict=True):
            lines = []
            for channel in range(n_channels):
                parts = _describe_channel(a[channel] - b[channel])
                if not parts:
                    continue
                if n_channels == 1:
                    lines.extend(parts)
                else:
                    lines.append(f"channel {channel}: " + " and ".join(parts))
            descriptions.append(lines)
        return descriptions

    @staticmethod
    def plot(explanation, ax=None):
        """One row per series (at most 6), one panel per channel (at most 6).

        Each panel overlays the channel's original (grey) and its
        counterfactuals (a colour each), and shades the change of the first
        counterfactual (counterfactual minus original). Channels get panels
        of their own so that each keeps its own scale.

        Parameters
        ----------
        explanation : Explanation
        ax : matplotlib Axes or array of them, optional
            Panels filled row by row, ``n_channels`` (at most 6) per
            series: as many series are drawn as whole rows fit; by default
            a new figure.

        Returns
        -------
        numpy.ndarray of Axes
            Shape ``(n_series,)`` for univariate series, else ``(n_series,
            n_channels)``.

        Raises
        ------
        ValueError
            ``ax`` holds fewer panels than one series' channels.
        """
        import matplotlib.pyplot as plt

        n = min(len(explanation.original), 6)
        k = explanation.n_counterfactuals
        n_channels = np.asarray(explanation.original[0]).shape[0]
        c = min(n_channels, 6)
        if ax is None:
            _, axes = plt.subplots(
                n,
                c,
                figsize=(4.0 + 3.2 * c, 2.2 * n),
                squeeze=False,
                layout="constrained",
            )
        else:
            given = np.asarray(ax, dtype=object).reshape(-1)
            if len(given) < c:
                raise ValueError(
                    f"one series takes {c} axes (one per channel), got "
                    f"{len(given)}; pass ax=None for a new figure"
                )
            n = min(n, len(given) // c)
            axes = given[: n * c].reshape(n, c)
        predicted = explanation.predicted(explanation.y_original)
        predicted_cf = explanation.predicted(explanation.y_counterfactual)
        for i in range(n):
            original = np.asarray(explanation.original[i], dtype=float)
            steps = np.arange(original.shape[-1])
            for channel in range(c):
                panel = axes[i, channel]
                panel.plot(
                    steps, original[channel], color="0.3", lw=1.2, label="original"
                )
                for j in range(k):
                    cf = np.asarray(explanation.counterfactuals[i * k + j], dtype=float)
                    mark = "" if explanation.valid[i, j] else " (not valid)"
                    panel.plot(
                        steps,
                        cf[channel],
                        color=f"C{j}",
                        lw=1.0,
                        label=(
                            f"counterfactual {j}: predicted "
                            f"{predicted_cf[i * k + j]}{mark}"
                        ),
                    )
                    if j == 0:
                        panel.fill_between(
                            steps, original[channel], cf[channel], color="C0", alpha=0.2
                        )
                title = (
                    f"original: predicted {predicted[i]}, "
                    f"target {explanation._target_text(i)}"
                )
                if n_channels > 1:
                    title = f"channel {channel}" + (
                        f"; {title}" if channel == 0 else ""
                    )
                panel.set_title(title, fontsize=9)
            # Beside the row: changes are often at the ends of the series.
            axes[i, -1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        for panel in axes[-1]:
            panel.set_xlabel("time point")
        if n_channels > c and ax is None:
            axes[0, -1].figure.suptitle(
                f"the first {c} of {n_channels} channels", fontsize=9
            )
        return axes[:, 0] if n_channels == 1 else axes
