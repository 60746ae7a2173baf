"""Torch modules for time series: flat standardised values of ``(channels, steps)``.

* :class:`SeriesGenerator` and :class:`SeriesDiscriminator`: paper 1's
  counterfactual RCGAN (section 3.3, appendix A.2, after Esteban et al.,
  2017). The generator is an LSTM reading at each step ``x_n``, a noise
  vector ``z_n`` drawn for that step, and embeddings of ``y_M`` and ``y_T``
  (separate layers); it outputs the perturbation ``delta_CF`` and
  ``x_CF = x + delta_CF``. The discriminator is an LSTM with a logit per
  step, conditioned on an embedding of ``y_M`` (real series) or ``y_T``
  (counterfactuals).
* :class:`SeriesPerturbationAE`: paper 1's appendix-B autoencoder,
  ``x_CF = x + D(E(x), y_M, y_T)``, introduced there for ECGs.
* :class:`SeriesCVAE`: paper 2's CVAE with sequence bodies.

The paper gives no architecture for the autoencoders' bodies on series; they
use the 1-D counterpart of the image bodies (two strided convolutions, as
is common for ECG beats): :class:`SeriesConvFeatures` and
:class:`SeriesConvDecoder`. Modules read and write flat rows and reshape
them to ``(n, channels, steps)`` themselves.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ._base import ConditionalVAE, CounterfactualModule, PerturbationAutoencoder

__all__ = [
    "SeriesCVAE",
    "SeriesConvDecoder",
    "SeriesConvFeatures",
    "SeriesDiscriminator",
    "SeriesGenerator",
    "SeriesPerturbationAE",
]

#: Width of the feature vector of :class:`SeriesConvFeatures`.
SERIES_FEATURES = 128

#: Width of the embeddings of ``y_M`` and ``y_T`` (paper 1, appendix A.2).
EMBEDDING_DIM = 64


def _padding(length):
    """Time points to add so two stride-2 convolutions divide evenly."""
    return (-length) % 4


def _as_steps(X, series_shape):
    """Return flat rows as ``(n, steps, channels)``, the LSTMs' layout."""
    channels, steps = series_shape
    return X.reshape(X.shape[0], channels, steps).transpose(1, 2)


def _as_rows(steps):
    """Return ``(n, steps, channels)`` as flat rows, channel by channel."""
    return steps.transpose(1, 2).reshape(steps.shape[0], -1)


class SeriesConvFeatures(nn.Module):
    """Reduce flat series to a feature vector with two strided 1-D convolutions.

    ``Conv(5, stride 2) - ReLU - Conv(5, stride 2) - ReLU - Linear - ReLU``
    with 32 and 64 filters; series whose length is not a multiple of 4 are
    zero-padded at the end.

    Parameters
    ----------
    series_shape : tuple of int
        ``(channels, steps)``.
    n_outputs : int, default=128
        Width of the feature vector.
    """

    def __init__(self, series_shape, n_outputs=SERIES_FEATURES):
        super().__init__()
        channels, steps = series_shape
        self.series_shape = tuple(series_shape)
        self.conv = nn.Sequential(
            nn.Conv1d(channels, 32, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.Conv1d(32, 64, 5, stride=2, padding=2),
            nn.ReLU(),
        )
        self.fc = nn.Linear(64 * ((steps + _padding(steps)) // 4), n_outputs)

    def forward(self, X):
        """Return features ``(n, n_outputs)`` of flat series ``X``."""
        channels, steps = self.series_shape
        series = F.pad(X.reshape(X.shape[0], channels, steps), (0, _padding(steps)))
        return F.relu(self.fc(self.conv(series).flatten(1)))


class SeriesConvDecoder(nn.Module):
    """Map a vector to flat series values with two transposed 1-D convolutions.

    ``Linear - ReLU - Linear - ReLU - ConvT(4, stride 2) - ReLU - ConvT(4,
    stride 2)``, mirroring :class:`SeriesConvFeatures`, cropped to the
    series length.

    Parameters
    ----------
    n_inputs : int
        Width of the input vector.
    series_shape : tuple of int
        ``(channels, steps)``.
    """

    def __init__(self, n_inputs, series_shape):
        super().__init__()
        channels, steps = series_shape
        self.series_shape = tuple(series_shape)
        self.cells = (steps + _padding(steps)) // 4
        self.fc = nn.Sequential(
            nn.Linear(n_inputs, SERIES_FEATURES),
            nn.ReLU(),
            nn.Linear(SERIES_FEATURES, 64 * self.cells),
            nn.ReLU(),
        )
        self.deconv = nn.Sequential(
            nn.ConvTranspose1d(64, 32, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose1d(32, channels, 4, stride=2, padding=1),
        )

    @property
    def last_layer(self):
        """The final transposed convolution (zero-initialised by the AE)."""
        return self.deconv[-1]

    def forward(self, Z):
        """Return values ``(n, channels * steps)`` for vectors ``(n, n_inputs)``."""
        _, steps = self.series_shape
        grid = self.fc(Z).reshape(Z.shape[0], 64, self.cells)
        return self.deconv(grid)[:, :, :steps].flatten(1)


class SeriesGenerator(CounterfactualModule):
    """Paper 1's RCGAN generator ``G_CF(x, y_M, y_T, z)`` on series.

    An LSTM reads at each step ``[x_n, z_n, e_M(y_M), e_T(y_T)]`` and a linear
    head gives the step's perturbation; ``x_CF = x + delta_CF``. The head
    starts at zero, so the untrained generator returns its input. The noise
    is ``noise_dim`` values per step (``noise_width = noise_dim * steps``),
    drawn independently per step as in appendix A.2.

    RCGAN's LSTM reads forwards only, so the change at step ``n`` is chosen
    without seeing the rest of the series; with ``bidirectional=True`` (the
    default) a second LSTM reads backwards and the head sees both, as
    appendix A.2's classifier does. On the ECG5000 protocol of
    ``benchmarks/ecg5000.py`` (``CounterfactualGAN``'s defaults with
    ``sparsity_weight=2``), class MMD² of the two classes / L1 per time
    point / validity: forwards, 128 units, 0.122, 0.088 / 0.515 / 1.000;
    both directions, 64 units each (fewer weights), 0.032, 0.050 / 0.588 /
    1.000 (a scratch run), which leaves room for a larger L1 weight.

    Parameters
    ----------
    layout : FeatureLayout
        One ``identity`` span (the series encoder's).
    n_condition : int
        Width of ``y_M`` and ``y_T``.
    noise_dim : int
        Noise values per step (paper: 64).
    hidden_sizes : tuple of int
        The LSTM's width (per direction) is the last one (paper: 512).
    series_shape : tuple of int
        ``(channels, steps)``.
    tau : float, default=0.2
        Unused (series have no one-hot spans); accepted so every generator
        takes the same arguments.
    bidirectional : bool, default=True
        Read the series in both directions; ``False`` is RCGAN's LSTM.
    """

    def __init__(
        self,
        layout,
        n_condition,
        noise_dim,
        hidden_sizes,
        series_shape,
        tau=0.2,
        bidirectional=True,
    ):
        super().__init__()
        channels, steps = series_shape
        self.series_shape = tuple(series_shape)
        self.noise_dim = noise_dim
        self.noise_width = noise_dim * steps
        hidden = tuple(hidden_sizes)[-1]
        # y_M and y_T get embedding layers of their own (appendix A.2).
        self.embed_model = nn.Linear(n_condition, EMBEDDING_DIM)
        self.embed_target = nn.Linear(n_condition, EMBEDDING_DIM)
        self.lstm = nn.LSTM(
            channels + noise_dim + 2 * EMBEDDING_DIM,
            hidden,
            batch_first=True,
            bidirectional=bidirectional,
        )
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), channels)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(
        self, X, y_model, y_target, mask=None, noise=None, sample=True, generator=None
    ):
        """Return encoded counterfactuals ``(n, channels * steps)``.

        See :meth:`CounterfactualModule.counterfactual`; ``noise`` is
        ``(n, noise_dim * steps)`` (``None``: zeros, the deterministic
        answer), ``sample`` and ``generator`` are unused.
        """
        n = X.shape[0]
        _, steps = self.series_shape
        x = _as_steps(X, self.series_shape)
        if noise is None:
            z = X.new_zeros((n, steps, self.noise_dim))
        else:
            z = noise.reshape(n, steps, self.noise_dim)
        embedded = torch.cat(
            [self.embed_model(y_model), self.embed_target(y_target)], dim=1
        )
        inputs = torch.cat([x, z, embedded[:, None, :].expand(n, steps, -1)], dim=2)
        hidden, _ = self.lstm(inputs)
        generated = _as_rows(x + self.head(hidden))
        return self.keep_frozen(X, generated, mask)

    def counterfactual(
        self, X, y_model, y_target, mask=None, noise=None, sample=False, generator=None
    ):
        """Return encoded counterfactuals; see :meth:`forward`."""
        return self.forward(X, y_model, y_target, mask, noise, sample, generator)


class SeriesDiscriminator(nn.Module):
    """Paper 1's RCGAN discriminator: an LSTM with a logit per step.

    Reads ``[x_n, e(y)]`` at each step, ``y`` being ``y_M`` for real series
    and ``y_T`` for counterfactuals; the hinge losses average the per-step
    logits (paper 1, eq. 4 sums them: the same up to a constant factor).

    Parameters
    ----------
    n_data : int
        Values per series.
    n_condition : int
        Width of the condition.
    hidden_sizes : tuple of int
        The LSTM's width is the last one.
    series_shape : tuple of int
        ``(channels, steps)``.
    """

    def __init__(self, n_data, n_condition, hidden_sizes, series_shape):
        super().__init__()
        channels, _ = series_shape
        self.series_shape = tuple(series_shape)
        self.embed = nn.Linear(n_condition, EMBEDDING_DIM)
        self.lstm = nn.LSTM(
            channels + EMBEDDING_DIM, tuple(hidden_sizes)[-1], batch_first=True
        )
        self.head = nn.Linear(tuple(hidden_sizes)[-1], 1)

    def forward(self, X, condition):
        """Return per-step scores ``(n, steps)``: higher is more real.

        Parameters
        ----------
        X : torch.Tensor of shape (n, channels * steps)
        condition : torch.Tensor of shape (n, n_condition)

        Returns
        -------
        torch.Tensor
        """
        x = _as_steps(X, self.series_shape)
        n, steps = x.shape[:2]
        embedded = self.embed(condition)[:, None, :].expand(n, steps, -1)
        hidden, _ = self.lstm(torch.cat([x, embedded], dim=2))
        return self.head(hidden)[..., 0]


class SeriesPerturbationAE(PerturbationAutoencoder):
    """Paper 1's appendix-B autoencoder on series.

    The encoder is :class:`SeriesConvFeatures` and a linear map to ``h``;
    the decoder a :class:`SeriesConvDecoder` from ``[h, y_M, y_T]`` giving
    the perturbation. Constraints are applied to the decoded series, so the
    decoder reads no mask.

    Parameters
    ----------
    layout : FeatureLayout
        One ``identity`` span.
    n_condition : int
        Width of ``y_M`` and ``y_T``.
    latent_dim : int
        Width of ``h = E(x)``.
    hidden_sizes : tuple of int
        Unused (the bodies are convolutional); accepted so every
        autoencoder module takes the same arguments.
    series_shape : tuple of int
        ``(channels, steps)``.
    tau : float, default=0.2
        Unused (series have no one-hot spans).
    """

    def __init__(
        self, layout, n_condition, latent_dim, hidden_sizes, series_shape, tau=0.2
    ):
        encoder = nn.Sequential(
            SeriesConvFeatures(series_shape), nn.Linear(SERIES_FEATURES, latent_dim)
        )
        decoder = SeriesConvDecoder(latent_dim + 2 * n_condition, series_shape)
        super().__init__(
            layout,
            encoder=encoder,
            decoder=decoder,
            last_layer=decoder.last_layer,
            tau=tau,
        )

    def apply_change(self, X, change, sample, generator):
        """Return ``x + change`` (equation 6)."""
        return X + change


class SeriesCVAE(ConditionalVAE):
    """Paper 2's CVAE on series, with 1-D convolutional bodies.

    Parameters
    ----------
    layout : FeatureLayout
        One ``identity`` span.
    n_condition : int
        Number of classes.
    latent_dim : int
        Width of the latent code.
    hidden_sizes : tuple of int
        Widths between the series features concatenated with ``c`` and the
        latent code.
    series_shape : tuple of int
        ``(channels, steps)``.
    mode : {"enc-dec", "cond-mix"}, default="enc-dec"
        How counterfactuals are conditioned.
    mix : float, default=1.0
        Weight of the target in COND-MIX.
    """

    def __init__(
        self,
        layout,
        n_condition,
        latent_dim,
        hidden_sizes,
        series_shape,
        mode="enc-dec",
        mix=1.0,
    ):
        super().__init__(
            layout,
            n_condition,
            latent_dim,
            hidden_sizes,
            features=SeriesConvFeatures(series_shape),
            n_features=SERIES_FEATURES,
            decoder=SeriesConvDecoder(latent_dim + n_condition, series_shape),
            mode=mode,
            mix=mix,
        )
