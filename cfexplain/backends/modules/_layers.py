"""Layers the counterfactual modules are built from (pure torch).

* :class:`ResidualLayer`: CTGAN's residual block (Xu et al. 2019; paper 1,
  section 3.4 and appendix A.3).
* :class:`UniformDropout`: dropout whose mask comes from uniform draws, four
  times faster than torch's on a CPU.
* :class:`SpanActivation`: each encoded span's activation (``tanh``,
  ``sigmoid``, identity, Gumbel-softmax one-hots), and its inverse,
  :meth:`SpanActivation.prior`, which lets a module output a *change*.
* :class:`NumericValues`: numerical features read off encoded rows,
  differentiably, for the sparsity loss.
* :func:`mlp`, :class:`ConvFeatures`, :class:`ConvDecoder`: the encoder and
  decoder bodies of the autoencoders (paper 2, section 5.2, for images).
* :func:`residual_stack_inference`, :func:`mlp_inference`: the table
  modules' evaluation paths, without the copies of their training paths.
* :func:`channels_last`: the memory layout every image module keeps its
  convolution weights in.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ...preprocessing._layout import FeatureLayout

__all__ = [
    "IMAGE_FEATURES",
    "ConvDecoder",
    "ConvFeatures",
    "NumericValues",
    "ResidualLayer",
    "SpanActivation",
    "UniformDropout",
    "channels_last",
    "mlp",
    "mlp_inference",
    "residual_stack_inference",
]

#: Width of the vector the convolutional encoder reduces an image to
#: (paper 2, section 5.2).
IMAGE_FEATURES = 256


def channels_last(module):
    """Store ``module``'s convolution weights channels-last; return it.

    With channels-last weights, oneDNN (the CPU) and cuDNN run the
    convolutions channels-last whatever the input's layout, and the
    activations after them stay so. On the CPU that is what makes the image
    modules fast: on 1,000 MNIST images the image GAN's generator takes
    about 180 ms instead of 245 (with its folded normalisations; its first
    transposed convolution 15 ms instead of 41), a training step of 64
    images 177 ms instead of 206, the convolutional decoder 58 ms instead
    of 77. The values are the same up to float rounding; only
    the order of the operations differs. Only 4-D tensors change layout;
    ``Module.to(device)`` keeps it.

    Parameters
    ----------
    module : torch.nn.Module

    Returns
    -------
    torch.nn.Module
        ``module`` itself.
    """
    return module.to(memory_format=torch.channels_last)


class UniformDropout(nn.Dropout):
    """Dropout whose mask is drawn as uniform numbers compared with ``p``.

    The same layer as :class:`torch.nn.Dropout` (inverted dropout: each
    value is zeroed with probability ``p`` in training and the others scaled
    by ``1 / (1 - p)``; the identity in evaluation), with another way of
    drawing its mask on a CPU. Torch's CPU kernel draws one Bernoulli
    number after another on a single thread; ``torch.rand_like`` fills the
    tensor in vectorised blocks. On a batch of 512 rows of 256 units (the
    CTGAN discriminator's hidden layers), forward and backward took 0.38 ms
    instead of 1.35 ms on a 2-core CPU, and the discriminator's dropout had
    been a quarter of a GAN's fit on Adult (cProfile). The masks come from
    torch's global generator, as :class:`torch.nn.Dropout`'s do, so a
    seeded fit is reproducible; they are other draws than torch's, so a fit
    does not repeat one made with :class:`torch.nn.Dropout`. On a GPU, and
    for ``p`` of 0 or 1, torch's own dropout runs.

    Parameters
    ----------
    p : float, default=0.5
        Probability of zeroing each value, in ``[0, 1]``.
    inplace : bool, default=False
        Passed to torch's dropout where it runs; the uniform mask never
        works in place.

    Raises
    ------
    ValueError
        If ``p`` is outside ``[0, 1]`` (:class:`torch.nn.Dropout`'s check).
    """

    def forward(self, X):
        """Return ``X`` with dropout applied in training mode.

        Parameters
        ----------
        X : torch.Tensor of any shape

        Returns
        -------
        torch.Tensor
            The same shape and dtype.
        """
        if not self.training or X.device.type != "cpu" or self.p in (0.0, 1.0):
            return F.dropout(X, self.p, self.training, self.inplace)
        scale = (torch.rand_like(X) >= self.p).to(X.dtype) * (1.0 / (1.0 - self.p))
        return X * scale


class ResidualLayer(nn.Module):
    """CTGAN's residual block: ``concat(ReLU(BN(Linear(x))), x)``.

    Parameters
    ----------
    n_inputs : int
        Input width.
    n_outputs : int
        Width of the new features; the block outputs ``n_inputs + n_outputs``.
    """

    def __init__(self, n_inputs, n_outputs):
        super().__init__()
        self.fc = nn.Linear(n_inputs, n_outputs)
        self.bn = nn.BatchNorm1d(n_outputs)

    def forward(self, X):
        """Apply the block.

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_inputs)

        Returns
        -------
        torch.Tensor of shape (n, n_inputs + n_outputs)
        """
        return torch.cat([F.relu(self.bn(self.fc(X))), X], dim=1)


def residual_stack_inference(blocks, head, parts):
    """Apply ``head(blocks(cat(parts)))`` in evaluation, without the copies.

    Equal (to float rounding) to the module path for :class:`ResidualLayer`
    blocks in evaluation mode, and about twice as fast on a CPU: each
    BatchNorm is folded into its linear layer, each linear layer is applied
    to the pieces of its input one by one instead of to their concatenation
    (CTGAN's blocks concatenate every earlier output, so the concatenations
    are most of the memory traffic), and pieces known to be zero (the noise
    of ``transform``, an all-free mask) are skipped.

    Parameters
    ----------
    blocks : sequence of ResidualLayer
        In evaluation mode (running BatchNorm statistics).
    head : torch.nn.Linear
        Reads the last block's output.
    parts : list of torch.Tensor or int
        The stack's input as pieces of shape ``(n, width)``, in the order of
        the concatenation; an int stands for that many columns of zeros.

    Returns
    -------
    torch.Tensor of shape (n, head.out_features)
    """
    for block in blocks:
        bn = block.bn
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        weight = block.fc.weight * scale[:, None]
        bias = (block.fc.bias - bn.running_mean) * scale + bn.bias
        parts = [_linear_on_pieces(weight, bias, parts).relu_(), *parts]
    return _linear_on_pieces(head.weight, head.bias, parts)


def mlp_inference(layers, parts):
    """Apply an :func:`mlp` to ``cat(parts)`` in evaluation, without the copies.

    Equal (to float rounding) to ``layers(torch.cat(parts, dim=1))``: the
    first linear layer reads the pieces one by one and skips those known to
    be zero (an all-free mask), and every ReLU works in place. The
    autoencoder's pass over the 6,513 Adult test rows takes about 23 ms
    instead of 27 on 2 CPU cores.

    Parameters
    ----------
    layers : torch.nn.Sequential
        ``Linear, ReLU, ..., Linear`` as :func:`mlp` builds it.
    parts : list of torch.Tensor or int
        The input as pieces of shape ``(n, width)``, in the order of the
        concatenation; an int stands for that many columns of zeros.

    Returns
    -------
    torch.Tensor of shape (n, layers[-1].out_features)
    """
    first, *rest = layers
    out = _linear_on_pieces(first.weight, first.bias, parts)
    for layer in rest:
        out = out.relu_() if isinstance(layer, nn.ReLU) else layer(out)
    return out


def _linear_on_pieces(weight, bias, pieces):
    """Return ``cat(pieces) @ weight.T + bias``, one piece at a time.

    An int piece stands for that many columns of zeros and is skipped.
    """
    n = next(p for p in pieces if isinstance(p, torch.Tensor)).shape[0]
    out = bias.expand(n, -1).clone()
    start = 0
    for piece in pieces:
        width = piece if isinstance(piece, int) else piece.shape[1]
        if not isinstance(piece, int):
            out.addmm_(piece, weight[:, start : start + width].T)
        start += width
    return out


class SpanActivation(nn.Module):
    """Map raw generator scores to the encoder's range, span by span.

    Continuous spans get their layout activation (``tanh`` for mode-specific
    scalars as in CTGAN, ``sigmoid`` for min-max scaled values, identity for
    standardised ones). One-hot spans get a Gumbel-softmax with temperature
    ``tau`` (CTGAN uses 0.2) while training, made hard with the
    straight-through estimator, so that the forward pass holds exact one-hots
    that decode without ambiguity while gradients flow through the soft
    sample. Without sampling (``sample=False``, used by ``transform``) a
    one-hot span is the hard argmax of its scores: deterministic.

    Parameters
    ----------
    layout : FeatureLayout
        The encoder's description of the encoded vector.
    tau : float, default=0.2
        Gumbel-softmax temperature.
    """

    def __init__(self, layout: FeatureLayout, tau: float = 0.2):
        super().__init__()
        self.layout = layout
        self.tau = tau

    def forward(self, scores, sample=True, generator=None):
        """Apply each span's activation.

        Parameters
        ----------
        scores : torch.Tensor of shape (n, n_encoded)
            Raw generator output.
        sample : bool, default=True
            Whether one-hot spans draw a Gumbel-softmax sample; otherwise they
            take the argmax.
        generator : torch.Generator, optional
            Source of the Gumbel noise, for reproducible sampling.

        Returns
        -------
        torch.Tensor of shape (n, n_encoded)
        """
        parts = []
        for span in self.layout.spans:
            block = scores[:, span.start : span.stop]
            if span.activation == "tanh":
                parts.append(torch.tanh(block))
            elif span.activation == "sigmoid":
                parts.append(torch.sigmoid(block))
            elif span.activation == "identity":
                parts.append(block)
            else:
                parts.append(self._one_hot(block, sample, generator))
        return torch.cat(parts, dim=1)

    def prior(self, X, one_hot_logit=4.0):
        """Return the scores that this activation maps back to ``X``.

        The generator adds them to its output scores, so that a zero output
        reproduces the original row: a continuous value goes through the
        inverse of its activation, a one-hot block becomes logits favouring
        the original category by ``one_hot_logit``. Keeping a feature is then
        the default and changing it is what the generator must learn, which
        is what sparse counterfactuals need.

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_encoded)
            Encoded rows.
        one_hot_logit : float, default=4.0
            Logit of the original category over the others.

        Returns
        -------
        torch.Tensor of shape (n, n_encoded)
        """
        parts = []
        for span in self.layout.spans:
            block = X[:, span.start : span.stop]
            if span.activation == "tanh":
                parts.append(torch.atanh(block.clamp(-1 + 1e-6, 1 - 1e-6)))
            elif span.activation == "sigmoid":
                parts.append(torch.logit(block.clamp(1e-6, 1 - 1e-6)))
            elif span.activation == "identity":
                parts.append(block)
            else:
                parts.append(one_hot_logit * block)
        return torch.cat(parts, dim=1)

    def _one_hot(self, logits, sample, generator):
        if not sample and not torch.is_grad_enabled():
            # Inference: only the argmax matters, skip the softmax.
            return F.one_hot(logits.argmax(dim=1), logits.shape[1]).to(logits.dtype)
        if sample:
            # Drawn on the CPU, where the seeded generator lives, then moved.
            uniform = (
                torch.rand(logits.shape, generator=generator)
                .clamp_(1e-10, 1 - 1e-10)
                .to(logits.device)
            )
            logits = logits - torch.log(-torch.log(uniform))
            soft = torch.softmax(logits / self.tau, dim=1)
        else:
            soft = torch.softmax(logits, dim=1)
        hard = F.one_hot(soft.argmax(dim=1), soft.shape[1]).to(soft.dtype)
        # Straight-through: the value is the hard one-hot, the gradient the soft's.
        return hard + soft - soft.detach()


class NumericValues(nn.Module):
    """Read numerical features off encoded rows, standardised, differentiably.

    Built from the encoder's :class:`~cfexplain.preprocessing.NumericDecoding`
    maps; with straight-through one-hot mode blocks the decoded value has a
    gradient with respect to both the scalar and the mode scores.

    Parameters
    ----------
    decodings : sequence of NumericDecoding
        One per numerical feature.
    stds : sequence of float
        Standard deviation of each feature in the training data; values are
        divided by it, so a change of one standard deviation counts 1.
    """

    def __init__(self, decodings, stds):
        super().__init__()
        self.decodings = tuple(decodings)
        for i, (decoding, std) in enumerate(zip(self.decodings, stds, strict=True)):
            scale = float(std) if std > 0 else 1.0
            self.register_buffer(
                f"scales_{i}",
                torch.tensor(decoding.scales, dtype=torch.float32) / scale,
            )
            self.register_buffer(
                f"offsets_{i}",
                torch.tensor(decoding.offsets, dtype=torch.float32) / scale,
            )

    def forward(self, X):
        """Return the standardised values, shape ``(n, n_numerical)``.

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_encoded)
            Encoded rows.

        Returns
        -------
        torch.Tensor
        """
        columns = []
        for i, decoding in enumerate(self.decodings):
            scales = getattr(self, f"scales_{i}")
            offsets = getattr(self, f"offsets_{i}")
            scalar = X[:, decoding.scalar_column]
            if decoding.mode_start is None:
                columns.append(scalar * scales[0] + offsets[0])
                continue
            modes = X[:, decoding.mode_start : decoding.mode_stop]
            columns.append(scalar * (modes @ scales) + modes @ offsets)
        return torch.stack(columns, dim=1)


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
        channels_last(self)

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
        channels_last(self)

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
