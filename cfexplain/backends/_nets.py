"""skorch nets that train the counterfactual generators.

Training runs on skorch so users get its callbacks, history, progress output,
early stopping and device handling. A GAN needs two optimizers and its own
step, which skorch supports through subclassing (its customization guide):
the discriminator is created in :meth:`GANNet.initialize_module`, one
optimizer per network in :meth:`GANNet.initialize_optimizer`, and
:meth:`GANNet.train_step` alternates their updates.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from skorch import NeuralNet
from skorch.utils import to_tensor

from ..exceptions import TrainingError
from .losses import (
    discriminator_hinge_loss,
    generator_hinge_loss,
    prediction_loss,
    sparsity_loss,
)
from .networks import NumericValues
from .sampling import expand_feature_mask, sample_feature_masks, sample_targets

__all__ = ["GANNet"]


class _NoCriterion(torch.nn.Module):
    """Placeholder criterion: the GAN computes its losses in ``train_step``."""

    def forward(self, *args):
        raise RuntimeError("GANNet computes its losses in train_step")


class GANNet(NeuralNet):
    """skorch net for paper 1's counterfactual GAN on encoded tabular rows.

    The training data ``X`` is a dict with the encoded rows ``"X"`` and the
    model's predictions as conditioning vectors ``"y_model"``; ``y`` is
    unused. The generator is skorch's ``module``.

    Parameters
    ----------
    module : type of torch.nn.Module
        The generator class (``TabularGenerator``).
    discriminator : type of torch.nn.Module
        The discriminator class; its arguments are given as
        ``discriminator__<name>``.
    predictor_module : torch.nn.Module
        Differentiable stand-in for the model under explanation, on encoded
        rows: returns log-probabilities (classification) or standardised
        values (regression). It is never trained by this net.
    feature_of_column : numpy.ndarray of int
        Original feature index of each encoded column (for frozen masks).
    task : {"classification", "regression"}
        The model's task.
    prediction_weight, sparsity_weight, adversarial_weight : float
        Paper 1's :math:`w_M`, :math:`w_{l_1}` and :math:`w_G`.
    noise_dim : int
        Width of the noise ``z``.
    mask_probability : float
        Share of training rows that get a random set of frozen features.
    prediction_margin : float
        Hinge margin of the prediction loss (see
        :func:`~cfexplain.backends.losses.prediction_loss`).
    lr_discriminator : float
        Adam learning rate of the discriminator (the generator's is ``lr``).
    numeric_decodings : tuple of NumericDecoding
        How numerical features decode; the sparsity loss then measures them
        in standardised units (see :func:`~cfexplain.backends.losses.sparsity_loss`).
    numeric_stds : tuple of float
        Training standard deviation of each numerical feature.
    seed : int
        Seed of the sampling of noise, targets and masks during training.
    **kwargs
        Passed to :class:`skorch.NeuralNet`.
    """

    def __init__(
        self,
        module,
        *args,
        discriminator,
        predictor_module,
        feature_of_column,
        task="classification",
        prediction_weight=1.0,
        sparsity_weight=10.0,
        adversarial_weight=1.0,
        noise_dim=16,
        mask_probability=0.5,
        prediction_margin=0.0,
        lr_discriminator=2e-4,
        numeric_decodings=(),
        numeric_stds=(),
        seed=0,
        **kwargs,
    ):
        # Set before skorch's __init__: afterwards skorch refuses torch modules
        # (predictor_module) assigned outside of its initialize methods.
        self.discriminator = discriminator
        self.predictor_module = predictor_module
        self.feature_of_column = feature_of_column
        self.task = task
        self.prediction_weight = prediction_weight
        self.sparsity_weight = sparsity_weight
        self.adversarial_weight = adversarial_weight
        self.noise_dim = noise_dim
        self.mask_probability = mask_probability
        self.prediction_margin = prediction_margin
        self.lr_discriminator = lr_discriminator
        self.numeric_decodings = numeric_decodings
        self.numeric_stds = numeric_stds
        self.seed = seed
        kwargs.setdefault("criterion", _NoCriterion)
        super().__init__(module, *args, **kwargs)

    # -- initialisation --------------------------------------------------------

    def initialize_module(self):
        """Create the generator, the discriminator and the frozen predictor."""
        super().initialize_module()
        params = self.get_params_for("discriminator")
        self.discriminator_ = self.initialized_instance(self.discriminator, params)
        predictor = self.predictor_module.to(self.device)
        predictor.requires_grad_(False)
        self.predictor_module_ = predictor
        self.feature_of_column_ = torch.as_tensor(
            np.asarray(self.feature_of_column), dtype=torch.long, device=self.device
        )
        self.n_features_ = int(np.max(self.feature_of_column)) + 1
        if self.numeric_decodings:
            self.numeric_values_ = NumericValues(
                self.numeric_decodings, self.numeric_stds
            ).to(self.device)
            categorical = np.ones(len(self.feature_of_column), dtype=np.float32)
            for decoding in self.numeric_decodings:
                categorical[decoding.scalar_column] = 0.0
                if decoding.mode_start is not None:
                    categorical[decoding.mode_start : decoding.mode_stop] = 0.0
            self.category_columns_ = torch.as_tensor(categorical, device=self.device)
        else:
            self.numeric_values_ = None
            self.category_columns_ = None
        self.sampling_generator_ = torch.Generator().manual_seed(int(self.seed))
        return self

    def initialize_optimizer(self, *_, **__):
        """Create one Adam optimizer per network; the predictor gets none."""
        args, kwargs = self.get_params_for_optimizer(
            "optimizer", self.module_.named_parameters()
        )
        self.optimizer_ = self.optimizer(*args, **kwargs)
        args, kwargs = self.get_params_for_optimizer(
            "optimizer_discriminator", self.discriminator_.named_parameters()
        )
        kwargs["lr"] = self.lr_discriminator
        self.optimizer_discriminator_ = self.optimizer(*args, **kwargs)
        return self

    # -- training --------------------------------------------------------------

    def _sample_batch_inputs(self, y_model):
        n = y_model.shape[0]
        g = self.sampling_generator_
        y_target = sample_targets(y_model, self.task, generator=g)
        feature_mask = sample_feature_masks(
            n,
            self.n_features_,
            self.mask_probability,
            generator=g,
        ).to(self.device)
        mask = expand_feature_mask(feature_mask, self.feature_of_column_)
        noise = torch.randn(n, self.noise_dim, generator=g).to(self.device)
        return y_target, noise, mask

    def _model_output(self, X_cf):
        self.predictor_module_.eval()
        return self.predictor_module_(X_cf)

    def train_step(self, batch, **fit_params):
        """Update the discriminator once, then the generator once.

        Parameters
        ----------
        batch : tuple
            ``(Xi, yi)`` from skorch's data loader; ``Xi`` is a dict with the
            encoded rows ``"X"`` and conditioning vectors ``"y_model"``.
        **fit_params : dict
            Unused.

        Returns
        -------
        dict
            ``{"loss": generator loss, "y_pred": counterfactuals}``.

        Raises
        ------
        TrainingError
            If a loss becomes NaN or infinite.
        """
        Xi, _ = batch
        X = to_tensor(Xi["X"], device=self.device)
        y_model = to_tensor(Xi["y_model"], device=self.device)
        y_target, noise, mask = self._sample_batch_inputs(y_model)
        generator, discriminator = self.module_, self.discriminator_
        generator.train()
        discriminator.train()
        g = self.sampling_generator_

        # Discriminator: real rows with y_M against counterfactuals with y_T.
        with torch.no_grad():
            X_cf = generator(X, y_model, y_target, noise, mask, generator=g)
        self.optimizer_discriminator_.zero_grad()
        loss_d = discriminator_hinge_loss(
            discriminator(X, y_model), discriminator(X_cf, y_target)
        )
        loss_d.backward()
        self.optimizer_discriminator_.step()

        # Generator: adversarial + prediction + sparsity (paper 1, eq. 2 and 5).
        self.optimizer_.zero_grad()
        X_cf = generator(X, y_model, y_target, noise, mask, generator=g)
        loss_adv = generator_hinge_loss(discriminator(X_cf, y_target))
        loss_pred = prediction_loss(
            self._model_output(X_cf), y_target, self.task, self.prediction_margin
        )
        loss_l1 = sparsity_loss(
            X, X_cf, self.n_features_, self.category_columns_, self.numeric_values_
        )
        loss = (
            self.adversarial_weight * loss_adv
            + self.prediction_weight * loss_pred
            + self.sparsity_weight * loss_l1
        )
        losses = {
            "discriminator_loss": loss_d.item(),
            "prediction_loss": loss_pred.item(),
            "sparsity_loss": loss_l1.item(),
            "adversarial_loss": loss_adv.item(),
        }
        if not all(math.isfinite(v) for v in [loss.item(), *losses.values()]):
            raise TrainingError(
                f"training diverged at epoch {len(self.history)}: losses "
                f"{losses}, generator loss {loss.item()}. Lower the learning "
                "rates (lr_generator, lr_discriminator) or the loss weights"
            )
        loss.backward()
        self.optimizer_.step()
        for name, value in losses.items():
            self.history.record_batch(name, value)
        return {"loss": loss, "y_pred": X_cf}

    # -- inference -------------------------------------------------------------

    def generate(
        self,
        X,
        y_model,
        y_target,
        mask,
        noise=None,
        sample=None,
        generator=None,
        batch_size=4096,
    ):
        """Generate counterfactuals in batches, without gradients.

        Parameters
        ----------
        X : numpy.ndarray of shape (n, n_encoded)
            Encoded originals.
        y_model, y_target : numpy.ndarray of shape (n, n_condition)
            Conditioning vectors.
        mask : numpy.ndarray of shape (n, n_encoded)
            1 where an encoded column is frozen.
        noise : numpy.ndarray of shape (n, noise_dim), optional
            Noise; ``None`` means zeros and argmax one-hots: the deterministic
            answer used by ``transform``. With noise, one-hot spans are
            sampled with ``generator``.
        sample : bool, optional
            Whether one-hot spans are sampled (Gumbel) or take the argmax;
            defaults to sampling exactly when ``noise`` is given.
        generator : torch.Generator, optional
            Source of the Gumbel noise when sampling.
        batch_size : int, default=4096
            Rows per forward pass.

        Returns
        -------
        numpy.ndarray of float32, shape (n, n_encoded)
        """
        module = self.module_
        module.eval()
        if sample is None:
            sample = noise is not None
        if noise is None:
            noise = np.zeros((len(X), self.noise_dim), dtype=np.float32)
        parts = []
        with torch.no_grad():
            for start in range(0, len(X), batch_size):
                rows = slice(start, start + batch_size)
                tensors = [
                    torch.tensor(a[rows], dtype=torch.float32, device=self.device)
                    for a in (X, y_model, y_target, noise, mask)
                ]
                out = module(*tensors, sample=sample, generator=generator)
                parts.append(out.cpu().numpy())
        if not parts:
            return np.empty((0, X.shape[1]), dtype=np.float32)
        return np.concatenate(parts).astype(np.float32, copy=False)
