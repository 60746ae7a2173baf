"""Images: arrays ``(n, height, width)`` or ``(n, channels, height, width)``."""

from __future__ import annotations

import numpy as np
from torch import nn

from .._constraints import parse_image_constraints
from ..preprocessing import ImageEncoder
from ..preprocessing._image_encoder import as_image_array
from ._base import ArrayAdapter

__all__ = ["ImageAdapter"]


class ImagesFromEncoding(nn.Module):
    """Turn encoded images (flat, in [0, 1]) into the model's input tensors.

    Parameters
    ----------
    module : torch.nn.Module
        The model, taking images in the user's format.
    input_shape : tuple of int
        Shape of one image as the user gave it.
    scale : float
        255 when the user's images are 0-255 integers, else 1.
    """

    def __init__(self, module, input_shape, scale):
        super().__init__()
        self.module = module
        self.input_shape = tuple(input_shape)
        self.scale = float(scale)

    def forward(self, X):
        """Return the model's output on encoded images ``X`` of shape (n, n_values)."""
        return self.module(X.reshape(X.shape[0], *self.input_shape) * self.scale)


#: Bandwidths of the class-conditional MMD term's Gaussian kernel on images,
#: as multiples of the median squared distance between the pooled images
#: (:func:`~cfexplain.backends.losses.mmd_loss`). Two MNIST digits differ in
#: many pixels, so at the default's 0.5-2 times the median the kernel is
#: nearly linear in the squared distance and the term matches little more
#: than mean images; finer bandwidths also match the shapes of strokes
#: (generative moment matching networks mix bandwidths over a wide range
#: for the same reason: Li, Swersky & Zemel 2015, section 4). On the
#: protocol of ``benchmarks/mnist.py``, the image GAN's class MMD² with
#: about 750 steps: 0.035 at the default (0.5, 1, 2), 0.031 with these,
#: 0.030 with 1/32 and 1/16 added, 0.034 with 1/16 to 1/2 alone; with
#: about 1,100 steps, 0.027 with these and 0.032 with 4 and 8 added. The
#: image AE's stayed at 0.031 with or without them.
IMAGE_MMD_SCALES = (0.125, 0.25, 0.5, 1.0, 2.0)


def _displayable(image):
    """Bring an image of shape (H, W), (1, H, W) or (C, H, W) to imshow's layout."""
    image = np.asarray(image)
    if image.ndim == 3:
        image = image[0] if image.shape[0] == 1 else np.moveaxis(image, 0, -1)
    return image


class ImageAdapter(ArrayAdapter):
    """Images: grey levels (uint8 0-255 or floats in [0, 1]) in a fixed shape.

    Encoding is :class:`~cfexplain.preprocessing.ImageEncoder`'s (flat values
    in [0, 1]); the only constraint is ``immutable``, a boolean mask of the
    values to keep; a value is negligibly changed when it moved by at most
    ``numeric_tolerance`` of the full range.

    Attributes
    ----------
    encoder_ : ImageEncoder
    feature_of_column_ : numpy.ndarray of int
        Every value is its own feature.
    """

    name = "image"
    # A convolutional step costs far more than a tabular one: keep the
    # benchmarked 30 epochs of the paper's batch (MNIST sample: about 2.5
    # minutes per explainer on one CPU thread). A smaller set still gets
    # the steps of 30 epochs of the MNIST sample's 3,600 training images:
    # on scikit-learn's 1,297 8x8 digits, 30 epochs of batches of 256 were
    # 120 steps, after which the AE reached 17 % of its targets (100 %
    # after 100 epochs).
    auto_epochs = 30
    auto_epochs_min_rows = 3600

    #: The check of the input at fit (later calls use the encoder's).
    as_array = staticmethod(as_image_array)

    def make_encoder(self, random_state):
        """Return an :class:`~cfexplain.preprocessing.ImageEncoder`."""
        return ImageEncoder()

    def network_arguments(self):
        """Return ``{"image_shape": (channels, height, width)}``."""
        return {"image_shape": self.encoder_.image_shape_}

    def loss_arguments(self):
        """Return the bandwidths of the class-conditional MMD term's kernel.

        :data:`IMAGE_MMD_SCALES`: finer bandwidths than the default's on
        top of it, because pixel vectors are far apart.
        """
        return {"mmd_scales": IMAGE_MMD_SCALES}

    def torch_view(self, module):
        """Reshape and rescale encoded rows into the model's image tensors."""
        return ImagesFromEncoding(
            module, self.encoder_.input_shape_, self.encoder_.scale_
        )

    def parse_constraints(self, immutable, bounds, monotonic):
        """Parse a boolean mask of the values to keep."""
        return parse_image_constraints(
            immutable, bounds, monotonic, input_shape=self.encoder_.input_shape_
        )

    def change_unit(self):
        """Return the full grey range (255 for integer images, 1 for floats)."""
        return self.encoder_.scale_

    @staticmethod
    def describe_changes(original, counterfactual):
        """Summarise each image's change, e.g. ``"37 of 784 pixel values changed"``.

        The mean change is in units of the full range (255 for integer
        images, 1 for float images); an unchanged image gets no string.
        """
        n = len(original)
        before = np.asarray(original, dtype=np.float64).reshape(n, -1)
        after = np.asarray(counterfactual, dtype=np.float64).reshape(n, -1)
        integer = np.issubdtype(np.asarray(original).dtype, np.integer)
        scale = 255.0 if integer else 1.0
        changed = before != after
        descriptions = []
        for i in range(n):
            count = int(changed[i].sum())
            if not count:
                descriptions.append([])
                continue
            mean = np.abs(after[i] - before[i])[changed[i]].mean() / scale
            descriptions.append(
                [
                    f"{count} of {before.shape[1]} pixel values changed "
                    f"(mean change {mean:.2g})"
                ]
            )
        return descriptions

    @staticmethod
    def plot(explanation, ax=None):
        """One row per original (at most 10): the original, then its counterfactuals."""
        import matplotlib.pyplot as plt

        n = min(len(explanation.original), 10)
        k = explanation.n_counterfactuals
        fig, axes = plt.subplots(
            n, k + 1, figsize=(1.6 * (k + 1), 1.7 * n), squeeze=False
        )
        predicted = explanation.predicted(explanation.y_original)
        predicted_cf = explanation.predicted(explanation.y_counterfactual)
        for i in range(n):
            cells = [
                (
                    explanation.original[i],
                    f"original: {predicted[i]}\ntarget: {explanation._target_text(i)}",
                )
            ]
            for j in range(k):
                mark = "" if explanation.valid[i, j] else " (not valid)"
                title = f"{predicted_cf[i * k + j]}{mark}"
                cells.append((explanation.counterfactuals[i * k + j], title))
            for cell_ax, (image, title) in zip(axes[i], cells, strict=True):
                cell_ax.imshow(_displayable(image), cmap="gray")
                cell_ax.set_title(title, fontsize=8)
                cell_ax.set_axis_off()
        fig.tight_layout()
        return axes
