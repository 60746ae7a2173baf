"""Torch modules for images: flat values in [0, 1] of ``(channels, height, width)``.

* :class:`ImageCVAE`: paper 2's CVAE with its Colored-MNIST architecture
  (section 5.2): two strided convolutions reduce the image to a
  256-dimensional vector, concatenated with ``c``; the decoder mirrors it
  with transposed convolutions.
* :class:`ImagePerturbationAE`: paper 1's appendix-B autoencoder; the change
  is added to the pixels as they are.
* :class:`ImageGenerator` and :class:`ImageDiscriminator`: paper 1's
  counterfactual GAN for images (section 3.2, appendix A.1), BigGAN's
  residual blocks: class-conditional BatchNorm in the generator (Dumoulin
  et al., 2017), conditioned on separate embeddings of ``y_M`` and ``y_T``
  concatenated with a noise chunk per block (BigGAN's skip-z), and a
  projection discriminator (Miyato & Koyama, 2018).

Modules read and write flat rows and reshape them to images themselves.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import spectral_norm

from ._base import ConditionalVAE, CounterfactualModule, PerturbationAutoencoder
from ._layers import IMAGE_FEATURES, ConvDecoder, ConvFeatures, channels_last

__all__ = [
    "ConditionalBatchNorm2d",
    "ImageCVAE",
    "ImageDiscriminator",
    "ImageGenerator",
    "ImagePerturbationAE",
]

#: Width of the embeddings of ``y_M`` and ``y_T`` (paper 1, appendix A.1).
EMBEDDING_DIM = 64


class ImageCVAE(ConditionalVAE):
    """Paper 2's CVAE on images.

    Parameters
    ----------
    layout : FeatureLayout
        One ``sigmoid`` span over all values (the image encoder's).
    n_condition : int
        Number of classes.
    latent_dim : int
        Width of the latent code.
    hidden_sizes : tuple of int
        Widths between the image features concatenated with ``c`` and the
        latent code.
    image_shape : tuple of int
        ``(channels, height, width)``.
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
        image_shape,
        mode="enc-dec",
        mix=1.0,
    ):
        super().__init__(
            layout,
            n_condition,
            latent_dim,
            hidden_sizes,
            features=ConvFeatures(image_shape),
            n_features=IMAGE_FEATURES,
            decoder=ConvDecoder(latent_dim + n_condition, image_shape),
            mode=mode,
            mix=mix,
        )


class ImagePerturbationAE(PerturbationAutoencoder):
    """Paper 1's appendix-B autoencoder on images.

    The encoder is :class:`~cfexplain.backends.modules.ConvFeatures` and a
    linear map to ``h``; the decoder a
    :class:`~cfexplain.backends.modules.ConvDecoder` from ``[h, y_M, y_T]``.
    Constraints are applied by copying pixels, so the decoder reads no mask.

    Parameters
    ----------
    layout : FeatureLayout
        One ``sigmoid`` span over all values.
    n_condition : int
        Width of ``y_M`` and ``y_T``.
    latent_dim : int
        Width of ``h = E(x)``.
    hidden_sizes : tuple of int
        Unused (the bodies are convolutional); accepted so every
        autoencoder module takes the same arguments.
    image_shape : tuple of int
        ``(channels, height, width)``.
    tau : float, default=0.2
        Unused (images have no one-hot spans).
    """

    def __init__(
        self, layout, n_condition, latent_dim, hidden_sizes, image_shape, tau=0.2
    ):
        # Encoder first: the order the weights are drawn in (seeds reproduce).
        encoder = nn.Sequential(
            ConvFeatures(image_shape), nn.Linear(IMAGE_FEATURES, latent_dim)
        )
        decoder = ConvDecoder(latent_dim + 2 * n_condition, image_shape)
        super().__init__(
            layout,
            encoder=encoder,
            decoder=decoder,
            last_layer=decoder.last_layer,
            tau=tau,
        )

    def apply_change(self, X, change, sample, generator):
        """Return ``x + change``.

        Paper 1's sum, unbounded while training (decoding clips it to the
        pixel range). Bounding it here, by clipping or a sigmoid on the
        logits, lets the first updates push every pixel to black, where the
        bound stops all gradients and training never recovers.
        """
        return X + change


def _evaluation_affine(norm):
    """Return ``(scale, shift)`` per channel of a BatchNorm in evaluation.

    With its running statistics a BatchNorm is the affine map ``x * scale
    + shift``: ``scale = weight / sqrt(running_var + eps)`` and ``shift =
    bias - running_mean * scale`` (weight 1 and bias 0 without affine
    parameters). Folding it into the layer beside it saves a pass over the
    features; plain tensor arithmetic, so gradients reach its parameters.
    """
    scale = torch.rsqrt(norm.running_var + norm.eps)
    if norm.weight is not None:
        scale = scale * norm.weight
    shift = -norm.running_mean * scale
    if norm.bias is not None:
        shift = shift + norm.bias
    return scale, shift


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm whose gain and bias are functions of a condition vector.

    Dumoulin et al. (2017), as used by BigGAN: the features are normalised
    without affine parameters, then scaled by ``1 + gain(c)`` and shifted by
    ``bias(c)``, two linear maps of the condition ``c``. Both maps start at
    zero, so the untrained layer is a plain BatchNorm.

    Parameters
    ----------
    n_channels : int
        Feature maps normalised.
    n_condition : int
        Width of the condition vector.
    """

    def __init__(self, n_channels, n_condition):
        super().__init__()
        self.norm = nn.BatchNorm2d(n_channels, affine=False)
        self.gain = nn.Linear(n_condition, n_channels)
        self.bias = nn.Linear(n_condition, n_channels)
        for layer in (self.gain, self.bias):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, X, condition):
        """Normalise ``X`` (n, c, h, w) under ``condition`` (n, n_condition)."""
        gain = 1.0 + self.gain(condition)
        bias = self.bias(condition)
        norm = self.norm
        if norm.training or norm.running_var is None:
            return norm(X) * gain[:, :, None, None] + bias[:, :, None, None]
        # In evaluation the running statistics make the normalisation an
        # affine map too: fold both into one scale and shift per row and
        # channel, and pass over the features once instead of three times.
        norm_scale, norm_shift = _evaluation_affine(norm)
        scale = gain * norm_scale
        shift = bias + gain * norm_shift
        return torch.addcmul(shift[:, :, None, None], X, scale[:, :, None, None])


class _GeneratorBlock(nn.Module):
    """BigGAN's generator ResBlock without upsampling.

    ``CBN - ReLU - Conv3x3 - CBN - ReLU - Conv3x3`` plus the input (through
    a 1x1 convolution when the width changes).
    """

    def __init__(self, n_in, n_out, n_condition):
        super().__init__()
        self.norm1 = ConditionalBatchNorm2d(n_in, n_condition)
        self.conv1 = nn.Conv2d(n_in, n_out, 3, padding=1)
        self.norm2 = ConditionalBatchNorm2d(n_out, n_condition)
        self.conv2 = nn.Conv2d(n_out, n_out, 3, padding=1)
        self.skip = nn.Conv2d(n_in, n_out, 1) if n_in != n_out else nn.Identity()

    def forward(self, X, condition):
        # In place: nothing keeps a normalisation's output for its gradient.
        hidden = self.conv1(F.relu(self.norm1(X, condition), inplace=True))
        hidden = self.conv2(F.relu(self.norm2(hidden, condition), inplace=True))
        return hidden + self.skip(X)


class ImageGenerator(CounterfactualModule):
    """Paper 1's image generator ``G_CF(x, y_M, y_T, z)`` (appendix A.1).

    ``G_CF`` reads the image ``x`` itself. Two strided 4x4 convolutions
    (``Conv - BN - ReLU``) take it to a quarter of its size, one BigGAN
    residual block per entry of ``hidden_sizes`` works there, and two
    transposed convolutions bring it back, the first one's output added to
    the features of the same size on the way down (a U-Net skip that keeps
    the strokes' detail). Every block's BatchNorm layers are
    class-conditional, on ``[e_M(y_M), e_T(y_T), z_b]``: separate
    64-dimensional embeddings of the model's prediction and the target, and
    the block's own ``noise_dim`` noise values (BigGAN's skip-z).

    The last layer outputs ``x_CF`` through a skip from ``x``
    (``x_CF = x + up(h)``, the layer starting at zero). In training the sum
    is not bounded, so the discriminator and the L1 term see any value
    outside the pixel range and push it back with a gradient; in evaluation
    it is clipped to [0, 1]. (Clipping in training stalls pixels at a bound
    where the gradient is zero; clipping forward with a straight-through
    gradient let whole regions drift far past 1, unseen by every loss, and
    the counterfactuals became saturated blobs.)

    What differs from the paper's BigGAN and why:

    * The paper's blocks run at the image's full resolution on 128x128
      faces, whose counterfactuals are local edits (a smile). Turning one
      digit into another reshapes the whole image, which needs a receptive
      field as large as the image: the blocks work on the quarter-size
      grid (7x7 on MNIST), the encoder-residual-decoder layout of
      image-to-image GANs such as StarGAN (Choi et al., 2018). It is also
      about 16 times cheaper per block, which is what lets a CPU train it.
    * The skip from ``x``: the paper models ``x_CF`` with none; at its
      60,000 steps the generator can afford to learn the identity first,
      a CPU-sized run of a few thousand steps cannot, and ``x_CF = x`` is
      what the L1 and cycle terms pull towards anyway.
    * Widths: ``"auto"`` is three blocks of 64 channels (the paper: five
      at a channel multiplier of 24), no spectral normalisation in the
      generator, and 16 noise values per block (the explainers'
      ``noise_dim``; the paper: 20).

    Parameters
    ----------
    layout : FeatureLayout
        One ``sigmoid`` span over all values (the image encoder's).
    n_condition : int
        Width of ``y_M`` and ``y_T``.
    noise_dim : int
        Noise values per block (``noise_width = noise_dim * len(hidden_sizes)``).
    hidden_sizes : tuple of int
        Channels of each residual block.
    image_shape : tuple of int
        ``(channels, height, width)``.
    tau : float, default=0.2
        Unused (images have no one-hot spans); accepted so every generator
        takes the same arguments.
    """

    #: Channels of the half-size features between the image and the blocks.
    _HALF_WIDTH = 32

    def __init__(
        self, layout, n_condition, noise_dim, hidden_sizes, image_shape, tau=0.2
    ):
        super().__init__()
        widths = tuple(hidden_sizes)
        channels, height, width = image_shape
        half = self._HALF_WIDTH
        self.image_shape = tuple(image_shape)
        self.half_shape = (height // 2, width // 2)  # what down_half gives
        self.noise_dim = noise_dim
        self.noise_width = noise_dim * len(widths)
        # y_M and y_T get embedding layers of their own (appendix A.1).
        self.embed_model = nn.Linear(n_condition, EMBEDDING_DIM)
        self.embed_target = nn.Linear(n_condition, EMBEDDING_DIM)
        self.down_half = nn.Sequential(
            nn.Conv2d(channels, half, 4, stride=2, padding=1),
            nn.BatchNorm2d(half),
            nn.ReLU(),
        )
        self.down_quarter = nn.Sequential(
            nn.Conv2d(half, widths[0], 4, stride=2, padding=1),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(),
        )
        n_block_condition = 2 * EMBEDDING_DIM + noise_dim
        self.blocks = nn.ModuleList(
            _GeneratorBlock(n_in, n_out, n_block_condition)
            for n_in, n_out in zip((widths[0], *widths[:-1]), widths, strict=True)
        )
        self.norm_out = nn.BatchNorm2d(widths[-1])
        self.up_half = nn.ConvTranspose2d(widths[-1], half, 4, stride=2, padding=1)
        self.norm_half = nn.BatchNorm2d(half)
        self.up_full = nn.ConvTranspose2d(half, channels, 4, stride=2, padding=1)
        nn.init.zeros_(self.up_full.weight)
        nn.init.zeros_(self.up_full.bias)
        channels_last(self)

    def forward(
        self, X, y_model, y_target, mask=None, noise=None, sample=True, generator=None
    ):
        """Return encoded counterfactuals ``(n, channels * height * width)``.

        See :meth:`CounterfactualModule.counterfactual`; ``noise`` is
        ``(n, noise_dim * n_blocks)`` (``None``: zeros, the deterministic
        answer); ``sample`` and ``generator`` are unused.
        """
        n = X.shape[0]
        images = X.reshape(n, *self.image_shape)
        embedded = torch.cat(
            [self.embed_model(y_model), self.embed_target(y_target)], dim=1
        )
        if noise is None:
            noise = X.new_zeros((n, self.noise_width))
        chunks = noise.reshape(n, len(self.blocks), self.noise_dim)
        half = self._conv_norm_relu(self.down_half, images)
        hidden = self._conv_norm_relu(self.down_quarter, half)
        for b, block in enumerate(self.blocks):
            hidden = block(hidden, torch.cat([embedded, chunks[:, b]], dim=1))
        hidden = self.up_half(
            F.relu(self.norm_out(hidden), inplace=True), output_size=self.half_shape
        )
        hidden = F.relu(self.norm_half(hidden + half), inplace=True)
        change = self.up_full(hidden, output_size=self.image_shape[1:])
        generated = (images + change).flatten(1)
        if not self.training:
            generated = generated.clamp(0.0, 1.0)
        return self.keep_frozen(X, generated, mask)

    def counterfactual(
        self, X, y_model, y_target, mask=None, noise=None, sample=False, generator=None
    ):
        """Return encoded counterfactuals; see :meth:`forward`."""
        return self.forward(X, y_model, y_target, mask, noise, sample, generator)

    def _conv_norm_relu(self, layers, X):
        """Apply a ``Conv - BatchNorm - ReLU`` stack; in evaluation, as one convolution.

        In evaluation the BatchNorm is an affine map per channel
        (:func:`_evaluation_affine`), folded into the convolution's weights
        and bias: the values are the same up to float rounding, one pass
        over the features less.
        """
        conv, norm, _ = layers
        if norm.training or norm.running_var is None:
            return layers(X)
        scale, shift = _evaluation_affine(norm)
        weight = conv.weight * scale[:, None, None, None]
        bias = conv.bias * scale + shift
        return F.relu(conv._conv_forward(X, weight, bias), inplace=True)


class _DiscriminatorBlock(nn.Module):
    """BigGAN's discriminator ResBlock: ``[ReLU] - Conv3x3 - ReLU - Conv3x3 [- pool]``.

    The first block skips the leading ReLU (its input is the image); the
    shortcut is a 1x1 convolution and the same average pooling. All
    convolutions are spectrally normalised (with the hook-based
    ``torch.nn.utils.spectral_norm``: parametrized modules cannot be
    pickled, and fitted explainers must be).
    """

    def __init__(self, n_in, n_out, downsample, first):
        super().__init__()
        self.first = first
        self.downsample = downsample
        self.conv1 = spectral_norm(nn.Conv2d(n_in, n_out, 3, padding=1))
        self.conv2 = spectral_norm(nn.Conv2d(n_out, n_out, 3, padding=1))
        self.skip = spectral_norm(nn.Conv2d(n_in, n_out, 1))

    def _pool(self, X):
        return F.avg_pool2d(X, 2, ceil_mode=True) if self.downsample else X

    def forward(self, X):
        hidden = X if self.first else F.relu(X)
        hidden = self.conv2(F.relu(self.conv1(hidden)))
        return self._pool(hidden) + self._pool(self.skip(X))


class ImageDiscriminator(nn.Module):
    """Paper 1's image discriminator: BigGAN's ResBlocks and a projection head.

    One downsampling residual block per entry of ``hidden_sizes`` (the last
    keeps its resolution), ReLU, a sum over positions to ``h``, then
    ``score = w . h + <e(y), h>``: the projection of Miyato & Koyama (2018),
    with ``e`` a linear embedding of the condition so that soft targets
    project too. ``y`` is ``y_M`` for real images and ``y_T`` for
    counterfactuals. Every layer is spectrally normalised, as in BigGAN.

    Parameters
    ----------
    n_data : int
        Values per image.
    n_condition : int
        Width of the condition.
    hidden_sizes : tuple of int
        Channels of each block (``auto``: 32, 64, 64 for two halvings of
        a 28x28 image; the paper uses six blocks for 128x128).
    image_shape : tuple of int
        ``(channels, height, width)``.
    """

    def __init__(self, n_data, n_condition, hidden_sizes, image_shape):
        super().__init__()
        widths = tuple(hidden_sizes)
        self.image_shape = tuple(image_shape)
        n_in = (image_shape[0], *widths[:-1])
        self.blocks = nn.Sequential(
            *(
                _DiscriminatorBlock(a, b, downsample=i < len(widths) - 1, first=i == 0)
                for i, (a, b) in enumerate(zip(n_in, widths, strict=True))
            )
        )
        self.linear = spectral_norm(nn.Linear(widths[-1], 1))
        self.embed = spectral_norm(nn.Linear(n_condition, widths[-1], bias=False))
        channels_last(self)

    def forward(self, X, condition):
        """Return scores ``(n,)``: higher is more like a real image of ``condition``.

        Parameters
        ----------
        X : torch.Tensor of shape (n, channels * height * width)
        condition : torch.Tensor of shape (n, n_condition)

        Returns
        -------
        torch.Tensor
        """
        hidden = self.blocks(X.reshape(X.shape[0], *self.image_shape))
        hidden = F.relu(hidden).sum(dim=(2, 3))
        projection = (self.embed(condition) * hidden).sum(dim=1)
        return self.linear(hidden)[:, 0] + projection
