"""Torch modules for images: flat values in [0, 1] of ``(channels, height, width)``.

* :class:`ImageCVAE`: paper 2's CVAE with its Colored-MNIST architecture
  (section 5.2): two strided convolutions reduce the image to a
  256-dimensional vector, concatenated with ``c``; the decoder mirrors it
  with transposed convolutions.
* :class:`ImagePerturbationAE`: paper 1's appendix-B autoencoder; the change
  is added to the pixels as they are.

Modules read and write flat rows and reshape them to images themselves.
"""

from __future__ import annotations

from torch import nn

from ._base import ConditionalVAE, PerturbationAutoencoder
from ._layers import IMAGE_FEATURES, ConvDecoder, ConvFeatures

__all__ = ["ImageCVAE", "ImagePerturbationAE"]


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
