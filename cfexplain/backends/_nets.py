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

__all__ = ["CounterfactualNet", "GANNet"]


class _NoCriterion(torch.nn.Module):
    """Placeholder criterion: the nets compute their losses in ``train_step``."""

    def forward(self, *args):
        raise RuntimeError("counterfactual nets compute their losses in train_step")


class CounterfactualNet(NeuralNet):
    """What every counterfactual generator's skorch net shares.

    The training data ``X`` is a dict with the encoded rows ``"X"`` and the
    model's predictions as conditioning vectors ``"y_model"``; ``y`` is
    unused. The generator is skorch's ``module``; the model under
    explanation is a frozen ``predictor_module`` that gets no optimizer.

    Parameters
    ----------
    module : type of torch.nn.Module
        The generator class.
    predictor_module : torch.nn.Module or None
        Differentiable stand-in for the model under explanation, on encoded
        rows: returns log-probabilities (classification) or standardised
        values (regression). It is never trained by this net. ``None`` when
        the generator needs no prediction loss.
    feature_of_column : numpy.ndarray of int
        Original feature index of each encoded column (for frozen masks and
        the per-feature sparsity loss).
    task : {"classification", "regression"}
        The model's task.
    prediction_weight, sparsity_weight : float
        Weights of the prediction and sparsity losses.
    mask_probability : float
        Share of training rows that get a random set of frozen features.
    prediction_margin : float
        Hinge margin of the prediction loss (see
        :func:`~cfexplain.backends.losses.prediction_loss`).
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
        predictor_module=None,
        feature_of_column=(0,),
        task="classification",
        prediction_weight=1.0,
        sparsity_weight=10.0,
        mask_probability=0.5,
        prediction_margin=0.0,
        numeric_decodings=(),
        numeric_stds=(),
        seed=0,
        **kwargs,
    ):
        # Set before skorch's __init__: afterwards skorch refuses torch modules
        # (predictor_module) assigned outside of its initialize methods.
        self.predictor_module = predictor_module
        self.feature_of_column = feature_of_column
        self.task = task
        self.prediction_weight = prediction_weight
        self.sparsity_weight = sparsity_weight
        self.mask_probability = mask_probability
        self.prediction_margin = prediction_margin
        self.numeric_decodings = numeric_decodings
        self.numeric_stds = numeric_stds
        self.seed = seed
        kwargs.setdefault("criterion", _NoCriterion)
        super().__init__(module, *args, **kwargs)

    # -- initialisation --------------------------------------------------------

    def initialize_module(self):
        """Create the generator and the frozen predictor."""
        super().initialize_module()
        predictor = self.predictor_module
        if predictor is not None:
            predictor = predictor.to(self.device)
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
        """Create the generator's optimizer; the predictor gets none."""
        args, kwargs = self.get_params_for_optimizer(
            "optimizer", self.module_.named_parameters()
        )
        self.optimizer_ = self.optimizer(*args, **kwargs)
        return self

    # -- shared pieces of a training step ----------------------------------------

    def _tensors(self, batch):
        Xi, _ = batch
        return (
            to_tensor(Xi["X"], device=self.device),
            to_tensor(Xi["y_model"], device=self.device),
        )

    def _sample_frozen(self, n):
        """Random frozen-column masks: ``mask_probability`` of rows get one."""
        g = self.sampling_generator_
        feature_mask = sample_feature_masks(
            n, self.n_features_, self.mask_probability, generator=g
        ).to(self.device)
        return expand_feature_mask(feature_mask, self.feature_of_column_)

    def _randn(self, *shape):
        """Draw standard normal values from the seeded generator, on the device."""
        return torch.randn(*shape, generator=self.sampling_generator_).to(self.device)

    def _model_output(self, X_cf):
        self.predictor_module_.eval()
        return self.predictor_module_(X_cf)

    def _prediction_loss(self, X_cf, y_target):
        return prediction_loss(
            self._model_output(X_cf), y_target, self.task, self.prediction_margin
        )

    def _sparsity_loss(self, X, X_cf):
        return sparsity_loss(
            X, X_cf, self.n_features_, self.category_columns_, self.numeric_values_
        )

    def _record(self, loss, losses):
        """Record the batch's losses; stop with a clear error if one diverged."""
        if not all(math.isfinite(v) for v in [loss.item(), *losses.values()]):
            raise TrainingError(
                f"training diverged at epoch {len(self.history)}: losses "
                f"{losses}, total loss {loss.item()}. Lower the learning "
                "rates or the loss weights"
            )
        for name, value in losses.items():
            self.history.record_batch(name, value)

    def _in_batches(self, function, arrays, batch_size):
        """Apply ``function`` to float32 tensors of ``arrays``, batch by batch."""
        parts = []
        with torch.no_grad():
            for start in range(0, len(arrays[0]), batch_size):
                rows = slice(start, start + batch_size)
                tensors = [
                    torch.tensor(a[rows], dtype=torch.float32, device=self.device)
                    for a in arrays
                ]
                parts.append(function(*tensors).cpu().numpy())
        if not parts:
            return np.empty((0, arrays[0].shape[1]), dtype=np.float32)
        return np.concatenate(parts).astype(np.float32, copy=False)

    def _generate_in_batches(self, arrays, sample, generator, batch_size):
        """Run the generator in evaluation mode on ``arrays``, batch by batch."""
        module = self.module_
        module.eval()

        def forward(*tensors):
            return module(*tensors, sample=sample, generator=generator)

        return self._in_batches(forward, arrays, batch_size)


class GANNet(CounterfactualNet):
    """skorch net for paper 1's counterfactual GAN on encoded tabular rows.

    Adds a discriminator with its own optimizer to :class:`CounterfactualNet`;
    :meth:`train_step` alternates their updates.

    Parameters
    ----------
    module : type of torch.nn.Module
        The generator class (``TabularGenerator``).
    discriminator : type of torch.nn.Module
        The discriminator class; its arguments are given as
        ``discriminator__<name>``.
    adversarial_weight : float
        Paper 1's :math:`w_G` (:math:`w_M` and :math:`w_{l_1}` are
        ``prediction_weight`` and ``sparsity_weight``).
    noise_dim : int
        Width of the noise ``z``.
    lr_discriminator : float
        Adam learning rate of the discriminator (the generator's is ``lr``).
    **kwargs
        The parameters of :class:`CounterfactualNet` and of
        :class:`skorch.NeuralNet`.
    """

    def __init__(
        self,
        module,
        *args,
        discriminator,
        adversarial_weight=1.0,
        noise_dim=16,
        lr_discriminator=2e-4,
        **kwargs,
    ):
        self.discriminator = discriminator
        self.adversarial_weight = adversarial_weight
        self.noise_dim = noise_dim
        self.lr_discriminator = lr_discriminator
        super().__init__(module, *args, **kwargs)

    # -- initialisation --------------------------------------------------------

    def initialize_module(self):
        """Create the generator, the discriminator and the frozen predictor."""
        super().initialize_module()
        params = self.get_params_for("discriminator")
        self.discriminator_ = self.initialized_instance(self.discriminator, params)
        return self

    def initialize_optimizer(self, *_, **__):
        """Create one Adam optimizer per network; the predictor gets none."""
        super().initialize_optimizer()
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
        mask = self._sample_frozen(n)
        noise = self._randn(n, self.noise_dim)
        return y_target, noise, mask

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
        X, y_model = self._tensors(batch)
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
        loss_pred = self._prediction_loss(X_cf, y_target)
        loss_l1 = self._sparsity_loss(X, X_cf)
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
        self._record(loss, losses)
        loss.backward()
        self.optimizer_.step()
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
        if sample is None:
            sample = noise is not None
        if noise is None:
            noise = np.zeros((len(X), self.noise_dim), dtype=np.float32)
        return self._generate_in_batches(
            (X, y_model, y_target, noise, mask), sample, generator, batch_size
        )
