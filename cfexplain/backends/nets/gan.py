"""skorch net for paper 1's counterfactual GAN.

A GAN needs two optimizers and its own step, which skorch supports through
subclassing (its customization guide): the discriminator is created in
:meth:`GANNet.initialize_module`, one optimizer per network in
:meth:`GANNet.initialize_optimizer`, and :meth:`GANNet.train_step` alternates
their updates. The generator's loss is open: besides the adversarial,
prediction and sparsity terms of paper 1 it adds any weighted
:class:`GeneratorTerm`, the cycle-consistency loss of eq. 3 first.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from ..losses import (
    class_mmd_to_reference,
    discriminator_hinge_loss,
    generator_hinge_loss,
)
from ..sampling import sample_targets
from ._base import CounterfactualNet

__all__ = [
    "GANNet",
    "GeneratorBatch",
    "GeneratorTerm",
    "batch_class_mmd_loss",
    "cycle_consistency_loss",
]


@dataclass(frozen=True)
class GeneratorBatch:
    """What a generator loss term can read about the current batch.

    Parameters
    ----------
    X : torch.Tensor of shape (n, n_encoded)
        Encoded originals.
    y_model, y_target : torch.Tensor of shape (n, n_condition)
        The model's predictions and the sampled targets.
    mask : torch.Tensor of shape (n, n_encoded)
        The sampled frozen columns.
    noise : torch.Tensor of shape (n, noise_width)
        The generator's noise.
    X_cf : torch.Tensor of shape (n, n_encoded)
        The counterfactuals, with gradients.
    reference : dict or None, default=None
        The net's fit parameters ``reference_rows`` and ``reference_labels``
        (encoded training rows and the model's class of each) when ``fit``
        was given them.
    model_output : torch.Tensor or None, default=None
        :meth:`~cfexplain.backends.nets.CounterfactualNet.model_output` on
        ``X_cf`` (with gradients), as the prediction loss computed it;
        ``None`` where the step did not.
    """

    X: torch.Tensor
    y_model: torch.Tensor
    y_target: torch.Tensor
    mask: torch.Tensor
    noise: torch.Tensor
    X_cf: torch.Tensor
    reference: dict | None = None
    model_output: torch.Tensor | None = None


@dataclass(frozen=True)
class GeneratorTerm:
    """A weighted term of the generator's loss.

    Parameters
    ----------
    name : str
        Recorded in the net's history as ``<name>`` per batch.
    weight : float
        Its weight; terms of weight 0 are not computed.
    loss : callable
        ``loss(net, batch) -> scalar tensor`` with ``batch`` a
        :class:`GeneratorBatch`.
    """

    name: str
    weight: float
    loss: object


def cycle_consistency_loss(net, batch):
    r"""Paper 1's cycle-consistency loss (section 3.2, eq. 3).

    .. math::

        L_{CC} = \lVert x - G(x_{CF}, y_{CF}, y_M, z) \rVert_1

    with :math:`y_{CF} = M(x_{CF})` the model's (or surrogate's) prediction
    on the counterfactual, used as a condition without gradient: mapping
    the counterfactual back to the original class must give the original.
    The prediction is ``batch.model_output``, the one the step's prediction
    loss computed, where the batch holds it; else the model is called.
    The distance is measured like the sparsity loss (per original feature,
    numbers in standard deviations), so its weight compares with
    ``sparsity_weight``.

    Parameters
    ----------
    net : GANNet
        The net being trained (its generator, predictor and sparsity loss).
    batch : GeneratorBatch
        The batch.

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    # The prediction loss's output on the same counterfactuals, where the
    # step kept it: a second pass of the model (a torch network under
    # explanation, often the largest network in the step) gives the same.
    if batch.model_output is not None:
        output = batch.model_output.detach()
    else:
        with torch.no_grad():
            output = net.model_output(batch.X_cf)
    with torch.no_grad():
        y_cf = net.output_as_condition(output)
    X_back = net.module_(
        batch.X_cf,
        y_cf,
        batch.y_model,
        batch.mask,
        batch.noise,
        generator=net.sampling_generator_,
    )
    return net.sparsity(batch.X, X_back)


def batch_class_mmd_loss(net, batch):
    r"""Class-conditional MMD² between counterfactuals and real rows.

    Paper 1's appendix-B term (eq. 7, the AE's :math:`w_\chi`) for the GAN:
    the counterfactuals aimed at class :math:`c` are compared with real rows
    the model puts in class :math:`c`, each class weighted by its share of
    the batch (:func:`~cfexplain.backends.losses.class_mmd_to_reference`).
    The real rows are drawn from the training set (``batch.reference``), at
    least ``net.batch_size`` of each class, because a batch of 64 images of
    10 digits holds about six of each: too few for a steady estimate. Without
    a reference the batch's own rows are used. Classes with fewer than two
    rows on either side are skipped. Classification only (0 for regression).

    Parameters
    ----------
    net : GANNet
        The net being trained.
    batch : GeneratorBatch
        The batch.

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    if net.task != "classification":
        return batch.X_cf.new_zeros(())
    aimed = batch.y_target.argmax(dim=1).cpu().numpy()
    if batch.reference is not None:
        rows = batch.reference["reference_rows"]
        labels = batch.reference["reference_labels"]
        minimum = int(net.batch_size)
    else:
        rows = batch.X.detach().cpu().numpy()
        labels = batch.y_model.argmax(dim=1).cpu().numpy()
        minimum = 0
    return class_mmd_to_reference(
        batch.X_cf,
        aimed,
        rows,
        labels,
        net.sampling_generator_,
        minimum,
        scales=net.mmd_scales,
    )


class GANNet(CounterfactualNet):
    """skorch net for paper 1's counterfactual GAN.

    Adds a discriminator with its own optimizer to :class:`CounterfactualNet`;
    :meth:`train_step` alternates their updates. The generator and its noise
    width come from the module; the discriminator scores ``(rows,
    condition)`` pairs.

    Parameters
    ----------
    module : type of CounterfactualModule
        The generator class (e.g. ``TabularGenerator``).
    discriminator : type of torch.nn.Module
        The discriminator class; its arguments are given as
        ``discriminator__<name>``.
    adversarial_weight : float
        Paper 1's :math:`w_G` (:math:`w_M` and :math:`w_{l_1}` are
        ``prediction_weight`` and ``sparsity_weight``).
    cycle_weight : float
        Paper 1's :math:`w_{CC}` of the cycle-consistency loss
        (:func:`cycle_consistency_loss`); 0 leaves it out.
    mmd_weight : float
        Weight of :func:`batch_class_mmd_loss`; 0 leaves it out.
    generator_terms : sequence of GeneratorTerm
        Further weighted terms of the generator's loss.
    lr_discriminator : float
        Adam learning rate of the discriminator (the generator's is ``lr``).
    ema_decay : float
        Decay of an exponential moving average of the generator's weights,
        which then answers :meth:`generate` (BigGAN's sampling; paper 1,
        appendix A.1, uses 0.9999). 0 keeps no average. The decay used at
        update ``t`` is ``min(ema_decay, (1 + t) / (10 + t))``, so the first
        updates, made by an untrained generator, are soon forgotten; buffers
        (BatchNorm statistics) are copied, not averaged.
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
        cycle_weight=0.0,
        mmd_weight=0.0,
        generator_terms=(),
        lr_discriminator=2e-4,
        ema_decay=0.0,
        **kwargs,
    ):
        self.ema_decay = ema_decay
        self.discriminator = discriminator
        self.adversarial_weight = adversarial_weight
        self.cycle_weight = cycle_weight
        self.mmd_weight = mmd_weight
        self.generator_terms = generator_terms
        self.lr_discriminator = lr_discriminator
        super().__init__(module, *args, **kwargs)

    # -- initialisation ----------------------------------------------------------------

    def initialize_module(self):
        """Create the generator, the discriminator and the frozen predictor."""
        super().initialize_module()
        params = self.get_params_for("discriminator")
        self.discriminator_ = self.initialized_instance(self.discriminator, params)
        self.ema_updates_ = 0
        if self.ema_decay > 0:
            self.generator_ema_ = copy.deepcopy(self.module_).requires_grad_(False)
        return self

    def inference_module(self):
        """Return the generator that answers :meth:`generate`: the average, if kept."""
        return self.generator_ema_ if self.ema_decay > 0 else self.module_

    @torch.no_grad()
    def _update_average(self):
        """Move the averaged generator towards the trained one (BigGAN's EMA)."""
        if self.ema_decay <= 0:
            return
        self.ema_updates_ += 1
        t = self.ema_updates_
        decay = min(self.ema_decay, (1 + t) / (10 + t))
        average, trained = self.generator_ema_, self.module_
        for mean, value in zip(average.parameters(), trained.parameters(), strict=True):
            mean.lerp_(value, 1.0 - decay)
        for mean, value in zip(average.buffers(), trained.buffers(), strict=True):
            mean.copy_(value)

    def initialize_optimizer(self, *_, **__):
        """Create one Adam optimizer per network; the predictor gets none."""
        super().initialize_optimizer()
        args, kwargs = self.get_params_for_optimizer(
            "optimizer_discriminator", self.discriminator_.named_parameters()
        )
        kwargs["lr"] = self.lr_discriminator
        self.optimizer_discriminator_ = self.optimizer(*args, **kwargs)
        return self

    # -- training ----------------------------------------------------------------------

    def extra_terms(self):
        """Return the weighted generator terms beyond paper 1's eq. 2 and 5."""
        terms = [
            GeneratorTerm("cycle_loss", self.cycle_weight, cycle_consistency_loss),
            GeneratorTerm("mmd_loss", self.mmd_weight, batch_class_mmd_loss),
        ]
        return [term for term in (*terms, *self.generator_terms) if term.weight > 0]

    def train_step(self, batch, **fit_params):
        """Update the discriminator once, then the generator once.

        Parameters
        ----------
        batch : tuple
            ``(Xi, yi)`` from skorch's data loader; ``Xi`` is a dict with the
            encoded rows ``"X"`` and conditioning vectors ``"y_model"``.
        **fit_params : dict
            ``reference_rows`` and ``reference_labels`` for the extra
            generator terms (:attr:`GeneratorBatch.reference`), when given.

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
        n = X.shape[0]
        g = self.sampling_generator_
        y_target = sample_targets(y_model, self.task, generator=g)
        mask = self._sample_frozen(n)
        generator, discriminator = self.module_, self.discriminator_
        noise = self._randn(n, generator.noise_width)
        generator.train()
        discriminator.train()

        # Discriminator: real rows with y_M against counterfactuals with y_T.
        with torch.no_grad():
            X_cf = generator(X, y_model, y_target, mask, noise, generator=g)
        self.optimizer_discriminator_.zero_grad()
        loss_d = discriminator_hinge_loss(
            discriminator(X, y_model), discriminator(X_cf, y_target)
        )
        loss_d.backward()
        self.optimizer_discriminator_.step()

        # Generator: adversarial + prediction + sparsity (paper 1, eq. 2 and 5),
        # then the extra terms (eq. 3's cycle loss, ...).
        self.optimizer_.zero_grad()
        X_cf = generator(X, y_model, y_target, mask, noise, generator=g)
        loss_adv = generator_hinge_loss(discriminator(X_cf, y_target))
        output = self.model_output(X_cf)
        loss_pred = self._prediction_loss(X_cf, y_target, output)
        loss_l1 = self.sparsity(X, X_cf)
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
        context = GeneratorBatch(
            X, y_model, y_target, mask, noise, X_cf, fit_params or None, output
        )
        for term in self.extra_terms():
            value = term.loss(self, context)
            loss = loss + term.weight * value
            losses[term.name] = value.item()
        self._record(loss, losses)
        loss.backward()
        self.optimizer_.step()
        self._update_average()
        return {"loss": loss, "y_pred": X_cf}
