"""CounterfactualGAN: paper 1's conditional GAN for tabular counterfactuals."""

from __future__ import annotations

import numbers

from sklearn.utils._param_validation import Interval

from ._base import (
    CHANGE_GENERATOR_PARAMETERS,
    NON_NEGATIVE,
    POSITIVE,
    SURROGATE_PARAMETERS,
    WIDTHS,
    BaseCounterfactualExplainer,
)
from ._docstrings import fill_shared_docs
from .backends.modules import TabularDiscriminator, TabularGenerator
from .backends.nets import GANNet

__all__ = ["CounterfactualGAN"]


@fill_shared_docs
class CounterfactualGAN(BaseCounterfactualExplainer):
    r"""Counterfactuals from a conditional GAN, for any tabular model.

    Implements paper 1 (Van Looveren et al., "Conditional Generative Models
    for Counterfactual Explanations"), sections 3.1 and 3.4 with appendix
    A.3: a CTGAN-style generator :math:`G_{CF}(x, y_M, y_T, z)` trained once
    against a conditional discriminator, after which a whole batch is
    explained in one forward pass. The generator loss is

    .. math::

        L = w_M\,CE(M(x_{CF}), y_T) + w_{l_1}\,|x - x_{CF}|_1 + w_G\,L_G

    with the hinge loss for :math:`L_G` and the discriminator, plus
    :math:`w_{CC}\,\lVert x - G_{CF}(x_{CF}, y_{CF}, y_M, z)\rVert_1`, the
    cycle-consistency loss of section 3.2 (eq. 3), when ``cycle_weight`` is
    positive. Rows are
    encoded by :class:`~cfexplain.preprocessing.TabularEncoder` (mode-specific
    normalisation and one-hot encoding, as CTGAN).

    The model under explanation can be anything :meth:`fit` accepts. A
    ``Pipeline([("encoder", TabularEncoder()), ("net", <skorch net>)])`` is
    differentiable on the generator's own encoding, so its network gives the
    gradients directly. Any other model is a black box: the gradients come
    from a differentiable surrogate trained on its outputs and refreshed on
    generated rows, relabelled by the real model, during training. Validity
    is always measured with the real model.

    Parameters
    ----------
    {shared.predictor}
    target : default="opposite"
        Default target of :meth:`transform`, :meth:`explain` and
        :meth:`score`; see :meth:`transform`.
    task : {"auto", "classification", "regression"}, default="auto"
        The model's task; ``"auto"`` infers it from the model's output.
    {shared.modality}
    {shared.constraints}
    prediction_weight : float, default=1.0
        :math:`w_M`, weight of the prediction loss (paper 1: 1).
    sparsity_weight : float, default=10.0
        :math:`w_{l_1}`, weight of the L1 distance on the encoding (paper 1:
        10), averaged over encoded columns.
    adversarial_weight : float, default=1.0
        :math:`w_G`, weight of the adversarial loss (paper 1: 1).
    cycle_weight : float, default=0.0
        :math:`w_{CC}`, weight of the cycle-consistency loss. Paper 1 uses
        it for images and time series (2) but not for tables (section 3.4),
        hence 0 here.
    {shared.budget}
    lr_generator, lr_discriminator : float, default=2e-4
        Adam learning rates (paper 1, A.3), with CTGAN's betas (0.5, 0.9).
    noise_dim : int, default=16
        Width of the noise ``z``. Paper 1 is silent for tabular data; noise
        diversifies ``explain(n_counterfactuals>1)`` and the candidates of
        ``n_candidates > 1``, so it is small.
    generator_hidden, discriminator_hidden : tuple of int, default=(256, 256)
        CTGAN's layer widths.
    tau : float, default=0.2
        Gumbel-softmax temperature (CTGAN).
    mask_probability : float, default=0.5
        Share of training rows trained with a random set of frozen features,
        which lets ``immutable`` work at explain time without retraining.
    prediction_margin : float, default=0.0
        Hinge margin on the prediction loss: a counterfactual whose predicted
        distribution is within this Kullback-Leibler divergence of the target
        adds no prediction loss, so the generator stops pushing it further
        (``log(1 / 0.8)`` stops at 80 % for a one-hot target). 0 is paper 1's
        cross-entropy.
    {shared.surrogate}
    {shared.regression_tolerance}
    n_candidates : int, default=1
        Deterministic candidates per row in :meth:`transform`: the noise-free
        answer plus ``n_candidates - 1`` made with fixed noise vectors. The
        real model scores them and each row gets its closest valid one, which
        raises validity for black boxes at up to ``n_candidates`` times the
        model calls. Ignored with ``noise_dim=0``, where every candidate would
        be the same.
    {shared.numeric_tolerance}
    {shared.closed_loop}
    {shared.training}

    Attributes
    ----------
    encoder_ : TabularEncoder
        The fitted encoder.
    {shared.fitted}
    surrogate_ : object or None
        The differentiable surrogate; ``surrogate_.fidelity_`` is its agreement
        with the model on held-out training rows. ``None`` when the model is a
        ``Pipeline(TabularEncoder, skorch net)``, whose network is used
        directly.
    encoded_model_ : tuple or None
        For such a pipeline: its encoder, network and output kind.
    net_ : skorch.NeuralNet
        The trained GAN; ``net_.history`` holds the losses per epoch.

    Examples
    --------
    {shared.example}
    """

    _parameter_constraints: dict = {
        **BaseCounterfactualExplainer._parameter_constraints,
        **SURROGATE_PARAMETERS,
        **CHANGE_GENERATOR_PARAMETERS,
        "adversarial_weight": NON_NEGATIVE,
        "cycle_weight": NON_NEGATIVE,
        "lr_generator": POSITIVE,
        "lr_discriminator": POSITIVE,
        "noise_dim": [Interval(numbers.Integral, 0, None, closed="left")],
        "generator_hidden": WIDTHS,
        "discriminator_hidden": WIDTHS,
    }

    def __init__(
        self,
        *,
        predictor=None,
        target="opposite",
        task="auto",
        modality="auto",
        immutable=None,
        bounds=None,
        monotonic=None,
        prediction_weight=1.0,
        sparsity_weight=10.0,
        adversarial_weight=1.0,
        cycle_weight=0.0,
        max_epochs="auto",
        batch_size="auto",
        lr_generator=2e-4,
        lr_discriminator=2e-4,
        noise_dim=16,
        generator_hidden=(256, 256),
        discriminator_hidden=(256, 256),
        tau=0.2,
        mask_probability=0.5,
        prediction_margin=0.0,
        surrogate_hidden=(128, 128),
        surrogate_epochs=20,
        surrogate_refresh_every="auto",
        surrogate_refresh_rows=1024,
        regression_tolerance=0.05,
        n_candidates=1,
        numeric_tolerance=0.05,
        max_rounds=2,
        validation_fraction=0.1,
        device="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self._store_parameters(locals())

    #: Generator and discriminator of each supported modality.
    _MODULES = {"tabular": (TabularGenerator, TabularDiscriminator)}
    _modalities = tuple(_MODULES)

    def _make_net(self, n_condition, shared):
        generator, discriminator = self._MODULES[self.modality_]
        layout = self.encoder_.layout_
        return GANNet(
            generator,
            module__layout=layout,
            module__n_condition=n_condition,
            module__noise_dim=self.noise_dim,
            module__hidden_sizes=tuple(self.generator_hidden),
            module__tau=self.tau,
            discriminator=discriminator,
            discriminator__n_data=layout.n_columns,
            discriminator__n_condition=n_condition,
            discriminator__hidden_sizes=tuple(self.discriminator_hidden),
            prediction_weight=self.prediction_weight,
            sparsity_weight=self.sparsity_weight,
            adversarial_weight=self.adversarial_weight,
            cycle_weight=self.cycle_weight,
            mask_probability=self._mask_probability(),
            prediction_margin=self.prediction_margin,
            lr_discriminator=self.lr_discriminator,
            optimizer__betas=(0.5, 0.9),
            lr=self.lr_generator,
            **shared,
        )
