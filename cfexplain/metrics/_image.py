"""Image metrics: paper 1's random embedding and the IM1 / IM2 interpretability scores.

* :class:`RandomImageEmbedding`: the randomly initialised convolutional
  encoder of paper 1 (appendix A.1), under which the MMD² of images is
  measured (:func:`~cfexplain.metrics.mmd2` and
  :func:`~cfexplain.metrics.class_conditional_mmd2` with ``encode=False``).
* :class:`InterpretabilityAutoencoders`: IM1 and IM2 of Van Looveren &
  Klaise (2019, *Interpretable Counterfactual Explanations Guided by
  Prototypes*, section 5), from one small autoencoder per class and one on
  all the data.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ..exceptions import InvalidDataError
from ..preprocessing._image_encoder import as_image_array

__all__ = ["InterpretabilityAutoencoders", "RandomImageEmbedding"]

#: Images per forward pass when embedding or scoring.
_BATCH = 500


def _as_images(X, name, shape=None):
    """Return images as float32 ``(n, channels, height, width)`` in [0, 1].

    Integer images are read as grey levels 0-255; ``shape``, when given,
    is the ``(channels, height, width)`` they must have.
    """
    array = as_image_array(X, name)
    if array.ndim == 3:
        array = array[:, None]
    if np.issubdtype(array.dtype, np.integer):
        array = array.astype(np.float32) / 255.0
    array = np.ascontiguousarray(array, dtype=np.float32)
    if not np.isfinite(array).all():
        raise InvalidDataError(f"{name} holds NaN or infinite values")
    if shape is not None and array.shape[1:] != tuple(shape):
        raise InvalidDataError(
            f"{name} holds images of shape {array.shape[1:]}, but the metric was "
            f"fitted on {tuple(shape)}; give images of the fitted shape"
        )
    return array


def _in_batches(module, images):
    """Apply ``module`` to float32 images batch by batch, without gradients."""
    parts = []
    with torch.no_grad():
        for start in range(0, len(images), _BATCH):
            parts.append(module(torch.from_numpy(images[start : start + _BATCH])))
    return torch.cat(parts).numpy()


class RandomImageEmbedding(TransformerMixin, BaseEstimator):
    """Embed images with paper 1's randomly initialised convolutional encoder.

    Paper 1 (appendix A.1) measures the MMD² between counterfactual and
    real images on the output of an encoder that is never trained: three
    7x7 convolutions of stride 2 with 64, 128 and 256 filters (padding 3:
    28 -> 14 -> 7 -> 4 on MNIST), each followed by LeakyReLU(0.01), and a
    linear layer to ``n_components`` (32 in the paper). The weights are
    PyTorch's default initialisation drawn after
    ``torch.manual_seed(random_state)`` inside a forked random state (the
    caller's global torch generator is left as it was), so one seed gives
    one encoder on every machine and every call.

    Parameters
    ----------
    n_components : int, default=32
        Width of the embedding.
    random_state : int, default=0
        Seed of the encoder's weights.

    Attributes
    ----------
    image_shape_ : tuple of int
        ``(channels, height, width)`` of the images given to :meth:`fit`.
    encoder_ : torch.nn.Sequential
        The frozen encoder, on the CPU.

    Raises
    ------
    InvalidDataError
        From :meth:`fit` and :meth:`transform`: not an array of 3 or 4
        dimensions, not numbers, NaN values, or (transform) images of
        another shape than at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from cfexplain.metrics import RandomImageEmbedding, mmd2
    >>> rng = np.random.default_rng(0)
    >>> real = rng.random((60, 1, 28, 28), dtype=np.float32)
    >>> embedding = RandomImageEmbedding(random_state=0).fit(real)
    >>> embedding.transform(real).shape
    (60, 32)
    >>> value = mmd2(embedding.transform(real[:30]), embedding.transform(real[30:]),
    ...              encode=False)
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": [Interval(numbers.Integral, 0, None, closed="left")],
    }

    def __init__(self, *, n_components=32, random_state=0):
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, X, y=None):
        """Build the encoder for the images' shape.

        Parameters
        ----------
        X : array-like of shape (n, height, width) or (n, channels, height, width)
            Images: uint8 grey levels 0-255 or floats in [0, 1].
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self._validate_params()
        images = _as_images(X, "X")
        channels, height, width = images.shape[1:]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.random_state)
            convolutions = nn.Sequential(
                nn.Conv2d(channels, 64, kernel_size=7, stride=2, padding=3),
                nn.LeakyReLU(0.01),
                nn.Conv2d(64, 128, kernel_size=7, stride=2, padding=3),
                nn.LeakyReLU(0.01),
                nn.Conv2d(128, 256, kernel_size=7, stride=2, padding=3),
                nn.LeakyReLU(0.01),
                nn.Flatten(),
            )
            with torch.no_grad():
                n_flat = convolutions(torch.zeros(1, channels, height, width)).shape[1]
            encoder = nn.Sequential(*convolutions, nn.Linear(n_flat, self.n_components))
        self.encoder_ = encoder.eval().requires_grad_(False)
        self.image_shape_ = (channels, height, width)
        return self

    def transform(self, X):
        """Return the embeddings, float64 of shape (n, n_components).

        Parameters
        ----------
        X : array-like of shape (n, height, width) or (n, channels, height, width)
            Images of the fitted shape.

        Returns
        -------
        numpy.ndarray of float64
        """
        check_is_fitted(self, "encoder_")
        images = _as_images(X, "X", self.image_shape_)
        return _in_batches(self.encoder_, images).astype(np.float64)


class _SmallConvAutoencoder(nn.Module):
    """Two strided convolutions (16, 8 maps), two transposed ones back, a sigmoid."""

    def __init__(self, image_shape):
        super().__init__()
        channels = image_shape[0]
        self.image_shape = tuple(image_shape)
        self.encoder = nn.Sequential(
            nn.Conv2d(channels, 16, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 8, 3, stride=2, padding=1),
            nn.ReLU(),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(8, 16, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(16, channels, 4, stride=2, padding=1),
        )

    def forward(self, X):
        # Two halvings rounded up and two doublings give at least the input's
        # size: crop to it.
        height, width = self.image_shape[1:]
        return torch.sigmoid(self.decoder(self.encoder(X))[:, :, :height, :width])


class InterpretabilityAutoencoders(BaseEstimator):
    r"""IM1 and IM2 of Van Looveren & Klaise (2019), from autoencoders per class.

    *Interpretable Counterfactual Explanations Guided by Prototypes*, section
    5: a counterfactual is interpretable when it lies close to the data of
    the class it is predicted as. :meth:`fit` trains one small convolutional
    autoencoder per class (:math:`AE_c`, on the images of that class) and
    one on all images (:math:`AE`); then, for a counterfactual
    :math:`x_{CF}` predicted as class :math:`i` whose original was of class
    :math:`t_0`,

    .. math::

        IM1 = \frac{\lVert x_{CF} - AE_i(x_{CF}) \rVert_2^2}
                   {\lVert x_{CF} - AE_{t_0}(x_{CF}) \rVert_2^2 + \epsilon},
        \qquad
        IM2 = \frac{\lVert AE_i(x_{CF}) - AE(x_{CF}) \rVert_2^2}
                   {\lVert x_{CF} \rVert_1 + \epsilon}.

    Lower is better for both: IM1 below 1 means the new class's autoencoder
    reconstructs the counterfactual better than the original class's; a
    small IM2 means the new class's autoencoder agrees with the one that
    knows every class. The paper's autoencoders are not specified beyond
    being convolutional; these are small (two strided convolutions to 8
    maps of a quarter of the size, two transposed convolutions back,
    sigmoid output) and trained with the mean squared error, Adam 1e-3,
    batch 64.

    Parameters
    ----------
    epochs : int, default=20
        Training epochs of each autoencoder.
    epsilon : float, default=1e-8
        :math:`\epsilon` of the denominators.
    random_state : int, default=0
        Seed of the weights and the shuffling (in a forked torch state).

    Attributes
    ----------
    classes_ : numpy.ndarray
        The classes seen at fit.
    image_shape_ : tuple of int
        ``(channels, height, width)``.
    autoencoders_ : dict
        The autoencoder of each class.
    autoencoder_all_ : torch.nn.Module
        The autoencoder of all images.

    Raises
    ------
    InvalidDataError
        Images that are not images (see :class:`RandomImageEmbedding`),
        labels of another length, or a class with fewer than 2 images at
        fit; at scoring, a class not seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from cfexplain.metrics import InterpretabilityAutoencoders
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((40, 1, 8, 8), dtype=np.float32)
    >>> y = np.repeat([0, 1], 20)
    >>> scorer = InterpretabilityAutoencoders(epochs=1).fit(X, y)
    >>> scorer.im1(X[:5], original_class=y[:5], counterfactual_class=1 - y[:5]).shape
    (5,)
    """

    _parameter_constraints: dict = {
        "epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "epsilon": [Interval(numbers.Real, 0, None, closed="neither")],
        "random_state": [Interval(numbers.Integral, 0, None, closed="left")],
    }

    def __init__(self, *, epochs=20, epsilon=1e-8, random_state=0):
        self.epochs = epochs
        self.epsilon = epsilon
        self.random_state = random_state

    def _train(self, images, generator):
        autoencoder = _SmallConvAutoencoder(self.image_shape_)
        optimizer = torch.optim.Adam(autoencoder.parameters(), lr=1e-3)
        data = torch.from_numpy(images)
        for _ in range(self.epochs):
            order = torch.randperm(len(data), generator=generator)
            for start in range(0, len(order), 64):
                batch = data[order[start : start + 64]]
                optimizer.zero_grad()
                loss = nn.functional.mse_loss(autoencoder(batch), batch)
                loss.backward()
                optimizer.step()
        return autoencoder.eval().requires_grad_(False)

    def fit(self, X, y):
        """Train the autoencoder of each class and the one of all images.

        Parameters
        ----------
        X : array-like of shape (n, height, width) or (n, channels, height, width)
            Images: uint8 grey levels 0-255 or floats in [0, 1].
        y : array-like of shape (n,)
            The class of each image (the model's prediction or the truth).

        Returns
        -------
        self
        """
        self._validate_params()
        images = _as_images(X, "X")
        labels = self._labels(y, len(images), "y")
        self.image_shape_ = images.shape[1:]
        self.classes_, counts = np.unique(labels, return_counts=True)
        if counts.min() < 2:
            rare = self.classes_[counts.argmin()]
            raise InvalidDataError(
                f"class {rare!r} has {counts.min()} image(s); each class needs at "
                "least 2 to train its autoencoder"
            )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.random_state)
            generator = torch.Generator().manual_seed(self.random_state)
            self.autoencoders_ = {
                label: self._train(images[labels == label], generator)
                for label in self.classes_.tolist()
            }
            self.autoencoder_all_ = self._train(images, generator)
        return self

    @staticmethod
    def _labels(y, n, name):
        labels = np.asarray(y)
        if labels.ndim == 0:
            labels = np.full(n, labels)
        if labels.shape != (n,):
            raise InvalidDataError(
                f"{name} must hold one class per image ({n}), got shape {labels.shape}"
            )
        return labels

    def _reconstruct(self, images, labels):
        """Reconstruct each image with the autoencoder of its label."""
        unknown = sorted(set(labels.tolist()) - set(self.classes_.tolist()), key=str)
        if unknown:
            raise InvalidDataError(
                f"classes {unknown} were not seen at fit "
                f"(seen: {self.classes_.tolist()})"
            )
        out = np.empty_like(images)
        for label in np.unique(labels).tolist():
            rows = labels == label
            out[rows] = _in_batches(self.autoencoders_[label], images[rows])
        return out

    def _with_new_class_reconstruction(self, X_cf, counterfactual_class):
        """Check ``X_cf``; reconstruct each with the autoencoder of its new class."""
        check_is_fitted(self, "autoencoders_")
        images = _as_images(X_cf, "X_cf", self.image_shape_)
        labels = self._labels(counterfactual_class, len(images), "counterfactual_class")
        return images, self._reconstruct(images, labels)

    def im1(self, X_cf, *, original_class, counterfactual_class):
        """Return IM1 per counterfactual (lower is better).

        Parameters
        ----------
        X_cf : array-like of shape (n, height, width) or (n, channels, height, width)
            Counterfactual images of the fitted shape.
        original_class : array-like of shape (n,) or scalar
            :math:`t_0`: the class of each original.
        counterfactual_class : array-like of shape (n,) or scalar
            :math:`i`: the class the model predicts for each counterfactual.

        Returns
        -------
        numpy.ndarray of float64, shape (n,)
        """
        images, new = self._with_new_class_reconstruction(X_cf, counterfactual_class)
        n = len(images)
        old = self._reconstruct(
            images, self._labels(original_class, n, "original_class")
        )
        numerator = ((images - new) ** 2).reshape(n, -1).sum(axis=1)
        denominator = ((images - old) ** 2).reshape(n, -1).sum(axis=1)
        return numerator.astype(np.float64) / (denominator + self.epsilon)

    def im2(self, X_cf, *, counterfactual_class):
        """Return IM2 per counterfactual (lower is better).

        Parameters
        ----------
        X_cf : array-like of shape (n, height, width) or (n, channels, height, width)
            Counterfactual images of the fitted shape.
        counterfactual_class : array-like of shape (n,) or scalar
            :math:`i`: the class the model predicts for each counterfactual.

        Returns
        -------
        numpy.ndarray of float64, shape (n,)
        """
        images, new = self._with_new_class_reconstruction(X_cf, counterfactual_class)
        n = len(images)
        everything = _in_batches(self.autoencoder_all_, images)
        numerator = ((new - everything) ** 2).reshape(n, -1).sum(axis=1)
        denominator = np.abs(images).reshape(n, -1).sum(axis=1)
        return numerator.astype(np.float64) / (denominator + self.epsilon)
