"""Networks of the autoencoder-based counterfactual generators (pure torch).

Two generators share these parts:

* :class:`ConditionalVAE`, paper 2's CVAE: an encoder ``E(x, c) -> (mu,
  log sigma^2)`` and a decoder ``D(z, c) -> scores``, with ``c`` the one-hot
  of the class the model predicts. For tables the encoder and decoder are
  MLPs over the concatenation of the input and ``c`` (TVAE's layout, widths
  (128, 128)); for images, a convolutional network reduces the image to a
  256-dimensional vector that is concatenated with ``c`` and mapped to the
  latent code, and the decoder mirrors it with transposed convolutions
  (paper 2, section 5.2, its Colored-MNIST architecture).
* :class:`PerturbationAutoencoder`, paper 1's appendix B:
  ``x_CF = x + D(E(x), y_M, y_T)``. Its decoder's last layer starts at zero,
  so the untrained network returns its input and learns only the change.

Networks read and write flat encoded rows; image networks reshape them to
``(channels, height, width)`` themselves.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .networks import SpanActivation

__all__ = ["ConditionalVAE", "ConvDecoder", "ConvFeatures", "PerturbationAutoencoder"]

#: Width of the vector the convolutional encoder reduces an image to
#: (paper 2, section 5.2).
IMAGE_FEATURES = 256


def mlp(n_inputs, hidden_sizes, n_outputs):
    """Return ``Linear-ReLU`` layers of ``hidden_sizes``, then a linear output.

    Parameters
    ----------
    n_inputs, n_outputs : int
        Input and output widths.
    hidden_sizes : sequence of int
        Hidden widths (may be empty: a single linear layer).

    Returns
    -------
    torch.nn.Sequential
    """
    layers, width = [], n_inputs
    for size in hidden_sizes:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    layers.append(nn.Linear(width, n_outputs))
    return nn.Sequential(*layers)


def _padding(size):
    """Rows or columns to add so two stride-2 convolutions divide evenly."""
    return (-size) % 4


class ConvFeatures(nn.Module):
    """Reduce flat images to a feature vector with two strided convolutions.

    ``Conv(4x4, stride 2) - ReLU - Conv(4x4, stride 2) - ReLU - Linear -
    ReLU``, with 32 and 64 filters; images whose sides are not multiples of 4
    are zero-padded at the bottom and right.

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)``.
    n_outputs : int, default=256
        Width of the feature vector.
    """

    def __init__(self, image_shape, n_outputs=IMAGE_FEATURES):
        super().__init__()
        channels, height, width = image_shape
        self.image_shape = tuple(image_shape)
        self.conv = nn.Sequential(
            nn.Conv2d(channels, 32, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2, padding=1),
            nn.ReLU(),
        )
        cells = ((height + _padding(height)) // 4) * ((width + _padding(width)) // 4)
        self.fc = nn.Linear(64 * cells, n_outputs)

    def forward(self, X):
        """Return features of shape ``(n, n_outputs)`` for flat images ``X``.

        Parameters
        ----------
        X : torch.Tensor of shape (n, channels * height * width)

        Returns
        -------
        torch.Tensor
        """
        channels, height, width = self.image_shape
        images = X.reshape(X.shape[0], channels, height, width)
        images = F.pad(images, (0, _padding(width), 0, _padding(height)))
        return F.relu(self.fc(self.conv(images).flatten(1)))


class ConvDecoder(nn.Module):
    """Map a vector to flat image scores with two transposed convolutions.

    ``Linear - ReLU - Linear - ReLU - ConvT(4x4, stride 2) - ReLU -
    ConvT(4x4, stride 2)``, mirroring :class:`ConvFeatures`, cropped to the
    image size.

    Parameters
    ----------
    n_inputs : int
        Width of the input vector.
    image_shape : tuple of int
        ``(channels, height, width)``.
    """

    def __init__(self, n_inputs, image_shape):
        super().__init__()
        channels, height, width = image_shape
        self.image_shape = tuple(image_shape)
        self.grid = ((height + _padding(height)) // 4, (width + _padding(width)) // 4)
        self.fc = nn.Sequential(
            nn.Linear(n_inputs, IMAGE_FEATURES),
            nn.ReLU(),
            nn.Linear(IMAGE_FEATURES, 64 * self.grid[0] * self.grid[1]),
            nn.ReLU(),
        )
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(32, channels, 4, stride=2, padding=1),
        )

    @property
    def last_layer(self):
        """The final transposed convolution (zero-initialised by the AE)."""
        return self.deconv[-1]

    def forward(self, Z):
        """Return scores of shape ``(n, channels * height * width)``.

        Parameters
        ----------
        Z : torch.Tensor of shape (n, n_inputs)

        Returns
        -------
        torch.Tensor
        """
        _, height, width = self.image_shape
        grid = self.fc(Z).reshape(Z.shape[0], 64, *self.grid)
        return self.deconv(grid)[:, :, :height, :width].flatten(1)


def _code(mean, log_variance, noise):
    """Return the latent code ``mean + noise * sigma`` (the mean without noise)."""
    if noise is None:
        return mean
    return mean + noise * torch.exp(0.5 * log_variance)


class ConditionalVAE(nn.Module):
    """Paper 2's conditional VAE over flat encoded rows or images.

    Parameters
    ----------
    layout : FeatureLayout
        The encoder's description of the encoded vector.
    n_condition : int
        Width of the condition ``c`` (number of classes).
    latent_dim : int
        Width of the latent code ``z``.
    hidden_sizes : tuple of int
        Tabular: hidden widths of the encoder (the decoder uses them
        reversed). Images: widths between the image features concatenated
        with ``c`` and the latent code.
    image_shape : tuple of int, optional
        ``(channels, height, width)`` for images; ``None`` for tables.
    """

    def __init__(self, layout, n_condition, latent_dim, hidden_sizes, image_shape=None):
        super().__init__()
        n_data = layout.n_columns
        hidden_sizes = tuple(hidden_sizes)
        self.image_shape = image_shape
        if image_shape is None:
            self.features = nn.Identity()
            n_joint = n_data + n_condition
            self.decoder = mlp(latent_dim + n_condition, hidden_sizes[::-1], n_data)
        else:
            self.features = ConvFeatures(image_shape)
            n_joint = IMAGE_FEATURES + n_condition
            self.decoder = ConvDecoder(latent_dim + n_condition, image_shape)
        self.joint = mlp(n_joint, hidden_sizes[:-1], hidden_sizes[-1])
        self.mean = nn.Linear(hidden_sizes[-1], latent_dim)
        self.log_variance = nn.Linear(hidden_sizes[-1], latent_dim)
        self.activation = SpanActivation(layout)

    def encode(self, X, condition):
        """Return the posterior's mean and log-variance, each ``(n, latent_dim)``.

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_encoded)
        condition : torch.Tensor of shape (n, n_condition)

        Returns
        -------
        tuple of torch.Tensor
        """
        hidden = F.relu(self.joint(torch.cat([self.features(X), condition], dim=1)))
        return self.mean(hidden), self.log_variance(hidden).clamp(-10.0, 10.0)

    def decode(self, Z, condition):
        """Return the decoder's raw scores, ``(n, n_encoded)``.

        Parameters
        ----------
        Z : torch.Tensor of shape (n, latent_dim)
        condition : torch.Tensor of shape (n, n_condition)

        Returns
        -------
        torch.Tensor
        """
        return self.decoder(torch.cat([Z, condition], dim=1))

    def forward(self, X, condition, noise):
        """Reconstruct ``X`` through a sampled code (training).

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_encoded)
        condition : torch.Tensor of shape (n, n_condition)
        noise : torch.Tensor of shape (n, latent_dim)
            Standard normal draws of the reparametrisation.

        Returns
        -------
        scores, mean, log_variance : torch.Tensor
        """
        mean, log_variance = self.encode(X, condition)
        scores = self.decode(_code(mean, log_variance, noise), condition)
        return scores, mean, log_variance

    def counterfactual(self, X, condition, noise=None, sample=False, generator=None):
        """Encode and decode ``X`` under a (target or mixed) condition.

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_encoded)
        condition : torch.Tensor of shape (n, n_condition)
            ``c'`` (ENC-DEC) or ``c + mix * c'`` (COND-MIX).
        noise : torch.Tensor of shape (n, latent_dim), optional
            Standard normal draws; ``None`` decodes the posterior mean.
        sample : bool, default=False
            Gumbel-softmax sampling of one-hot spans instead of the argmax.
        generator : torch.Generator, optional
            Source of the Gumbel noise.

        Returns
        -------
        torch.Tensor of shape (n, n_encoded)
            Encoded counterfactuals.
        """
        mean, log_variance = self.encode(X, condition)
        Z = _code(mean, log_variance, noise)
        return self.activation(self.decode(Z, condition), sample, generator)


class PerturbationAutoencoder(nn.Module):
    """Paper 1's autoencoder generator: ``x_CF = x + D(E(x), y_M, y_T)``.

    For tables the change is added to the scores that map back to ``x``
    (:meth:`~cfexplain.backends.networks.SpanActivation.prior`) and each
    span gets its activation, so one-hot blocks stay one-hot; the decoder
    also reads the frozen-column mask, as the GAN's generator does. For
    images the change is added to the pixels as they are; the image
    encoder clips the counterfactual to [0, 1] when decoding it.

    Parameters
    ----------
    layout : FeatureLayout
        The encoder's description of the encoded vector.
    n_condition : int
        Width of ``y_M`` and ``y_T``.
    latent_dim : int
        Width of the hidden vector ``h = E(x)``.
    hidden_sizes : tuple of int
        Hidden widths of the tabular encoder (the decoder uses them
        reversed); unused for images.
    tau : float, default=0.2
        Gumbel-softmax temperature of the one-hot spans.
    image_shape : tuple of int, optional
        ``(channels, height, width)`` for images; ``None`` for tables.
    one_hot_logit : float, default=4.0
        Head start of the original category in each one-hot span.
    """

    def __init__(
        self,
        layout,
        n_condition,
        latent_dim,
        hidden_sizes,
        tau=0.2,
        image_shape=None,
        one_hot_logit=4.0,
    ):
        super().__init__()
        n_data = layout.n_columns
        hidden_sizes = tuple(hidden_sizes)
        self.is_image = image_shape is not None
        if self.is_image:
            self.encoder = nn.Sequential(
                ConvFeatures(image_shape), nn.Linear(IMAGE_FEATURES, latent_dim)
            )
            self.decoder = ConvDecoder(latent_dim + 2 * n_condition, image_shape)
            last = self.decoder.last_layer
        else:
            self.encoder = mlp(n_data, hidden_sizes, latent_dim)
            self.decoder = mlp(
                latent_dim + 2 * n_condition + n_data, hidden_sizes[::-1], n_data
            )
            last = self.decoder[-1]
        # The change starts at zero: the untrained network returns its input.
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.one_hot_logit = one_hot_logit
        self.activation = SpanActivation(layout, tau)

    def forward(self, X, y_model, y_target, mask, sample=True, generator=None):
        """Return encoded counterfactuals.

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_encoded)
            Encoded originals.
        y_model, y_target : torch.Tensor of shape (n, n_condition)
            The model's prediction and the target.
        mask : torch.Tensor of shape (n, n_encoded)
            1 where the encoded column must keep its original value.
        sample : bool, default=True
            Gumbel-softmax sampling of one-hot spans (training) or argmax.
        generator : torch.Generator, optional
            Source of the Gumbel noise.

        Returns
        -------
        torch.Tensor of shape (n, n_encoded)
        """
        hidden = F.relu(self.encoder(X))
        if self.is_image:
            change = self.decoder(torch.cat([hidden, y_model, y_target], dim=1))
            # Paper 1's sum, unbounded while training (decoding clips it to
            # the pixel range). Bounding it here, by clipping or a sigmoid on
            # the logits, lets the first updates push every pixel to black,
            # where the bound stops all gradients and training never recovers.
            generated = X + change
        else:
            change = self.decoder(torch.cat([hidden, y_model, y_target, mask], dim=1))
            scores = change + self.activation.prior(X, self.one_hot_logit)
            generated = self.activation(scores, sample, generator)
        return mask * X + (1 - mask) * generated
