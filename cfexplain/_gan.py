"""CounterfactualGAN: paper 1's conditional GAN for tables, images and time series."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import (
    CHANGE_GENERATOR_PARAMETERS,
    NON_NEGATIVE,
    POSITIVE,
    REGRESSION_PREDICTION_WEIGHT,
    SURROGATE_PARAMETERS,
    WIDTHS,
    BaseCounterfactualExplainer,
)
from ._closed_loop import FEW_SELF_CHECK_ROWS
from ._docstrings import fill_shared_docs
from ._epoch_selection import MostRealisticEpoch
from ._guidance import _Relabel
from ._predictor import CLASSIFICATION
from ._random import draw_seed
from .backends.modules import (
    ImageDiscriminator,
    ImageGenerator,
    SeriesDiscriminator,
    SeriesGenerator,
    TabularDiscriminator,
    TabularGenerator,
)
from .backends.nets import GANNet

__all__ = ["CounterfactualGAN"]


@fill_shared_docs
class CounterfactualGAN(BaseCounterfactualExplainer):
    r"""Counterfactuals from a conditional GAN for any model of tables, images, series.

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

    Images ``(n, channels, height, width)`` get paper 1's image GAN
    (section 3.2, appendix A.1; :class:`~cfexplain.backends.modules.ImageGenerator`):
    residual blocks with class-conditional BatchNorm on separate embeddings
    of ``y_M`` and ``y_T`` and a noise chunk per block, a projection
    discriminator, the cycle loss on, and answers from an exponential
    moving average of the generator's weights. Its widths and training
    budget are sized for a CPU (see ``generator_hidden`` and
    ``max_epochs``).

    Time series ``(n_cases, n_channels, n_timepoints)`` (``modality="series"``)
    get paper 1's counterfactual RCGAN (section 3.3, appendix A.2): LSTM
    generator and discriminator
    (:class:`~cfexplain.backends.modules.SeriesGenerator`), noise drawn per
    time step, the adversarial loss per step, and the cycle loss on.

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
    prediction_weight : float or "auto", default="auto"
        :math:`w_M`, weight of the prediction loss. ``"auto"``: paper 1's 1
        for tables and series, 25 for a table explained for a regression
        model; 2 for images (paper 1: 0.5 over 60,000 steps
        on a GPU). With the class-conditional MMD term at 20 and weight 1, the
        CPU-sized budget reached the target for 80 % of Colored MNIST's 30
        classes (self-check warning); weight 2 reached 94 %, and on MNIST
        it moved the class MMD² from 0.030 to 0.036 at validity 1.0. Weight 3
        with a weaker MMD term (1) had reached 96 % on Colored MNIST with
        counterfactuals that fool the CNN without looking like digits (class
        MMD² 0.37). The regression loss is the squared distance from the
        model's standardised output to the target interval, whose pull
        fades as the answer nears it: at weight 1 the generator stopped
        short. Share of the self-check's interval targets the generator
        reached alone (before repairs), weights 1 / 10 / 25 / 50, seed 0:
        diabetes with a Ridge 0.09 / 0.48 / 0.61 / 0.57, with a
        RandomForest 0.11 / 0.16 / 0.11 / 0.30; German credit's
        ``credit_amount`` with boosted trees 0.17 / 0.29 / 0.31 / 0.43. The
        repairs reached every target at each weight, with the same number
        of changes.
    sparsity_weight : float or "auto", default="auto"
        :math:`w_{l_1}`, weight of the L1 distance on the encoding, averaged
        over features. ``"auto"``: paper 1's 10 for tables; 5 for images,
        whose L1 here is the mean over pixel values; 6 for time series.
        Paper 1 uses 2 for images (A.1), at which our
        generator painted one template of the target digit over every
        image (mean pixel change 0.157 on the MNIST sample); 10 kept the
        original's strokes (0.081) but reached the target for 92 % of
        rows before repairs, 5 for 99 % at 0.12. Paper 1 uses 2 for series
        too (A.2); with the MMD term below, it moves the beats further than
        they need. On ECG5000 with the BiLSTM of ``benchmarks/ecg5000.py``
        (validity 1.000 throughout; scratch runs of one seed), L1 per time
        point / class MMD² of the two classes: 2: 0.588 / 0.032, 0.050; 4:
        0.534 / 0.045, 0.066; 5: 0.483 / 0.067, 0.075; 6: 0.452 / 0.081,
        0.095; 6.5: 0.395 / 0.125, 0.144; 7: 0.389 / 0.134, 0.139; 8: 0.247
        / 0.251, 0.309 (the beats keep looking like their own class). What
        counts is its ratio to ``mmd_weight``: 7 with ``mmd_weight`` 4.5
        gave 0.516 / 0.055, 0.080. Past a ratio of 2 the beats' class MMD²
        rises fast: 6 is the largest weight tried whose class MMD² stays
        below paper 1's RCGAN (0.096, 0.15). The seed moves these figures
        as much as a step of the weight: at 6, seeds 1 and 2 gave 0.439 /
        0.082, 0.102 and 0.425 / 0.106, 0.108; 6.25 gave 0.433 / 0.088,
        0.108 (seed 0), 0.436 / 0.083, 0.109 (seed 1) and 0.403 / 0.124,
        0.124 (seed 2). No weight near 6 keeps every seed within paper 1's
        RCGAN and CFProto's L1 of 0.45 at once. On a slower CPU (other float
        rounding), 6 gave seeds 0, 1 and 2 0.422 / 0.115, 0.127; 0.402 /
        0.148, 0.130; 0.387 / 0.178, 0.145 (``benchmarks/ecg5000.py --seeds
        0,1,2``): sparser answers, less like class 0. These figures come
        from CTGAN's Adam 2e-4, which left the series GAN unconverged (see
        ``lr_generator``); with the series' 1e-3 and ``keep_best_epoch``,
        6 gave seeds 0, 1 and 2 0.399 / 0.092, 0.100; 0.392 / 0.091,
        0.082; 0.386 / 0.090, 0.103 on the same slower CPU: every seed
        below paper 1's RCGAN (0.096, 0.15) and CFProto's L1 (0.45) at
        once.
    adversarial_weight : float, default=1.0
        :math:`w_G`, weight of the adversarial loss (paper 1: 1).
    cycle_weight : float or "auto", default="auto"
        :math:`w_{CC}`, weight of the cycle-consistency loss. ``"auto"``:
        paper 1 uses it for images and time series (2) but not for tables
        (section 3.4), hence 0 for tables and 2 for images and series.
    mmd_weight : float or "auto", default="auto"
        Weight of a class-conditional MMD² between the counterfactuals aimed
        at a class and training rows the model puts in that class, at least
        a batch of them per class
        (:func:`~cfexplain.backends.nets.batch_class_mmd_loss`; paper 1's
        appendix-B term of the AE, not part of its GAN). 0 leaves it out.
        ``"auto"``: 20 for images, 3 for series (the AE's weight there), 0
        for tables. On the MNIST sample (``benchmarks/mnist.py``), class
        MMD² of the GAN's counterfactuals / mean pixel change / validity:
        without the term 0.240 / 0.121 / 1.000; weight 1 0.087 / 0.095 /
        0.989; 5 0.049 / 0.090 / 0.997; 20 0.030 / 0.096 / 0.997; 30 0.032
        / 0.100 / 0.996; 50 0.042 / 0.101 / 0.979 (with the kernel's
        default bandwidths and about 750 steps; images now use finer
        bandwidths as well, ``cfexplain.modalities.image.IMAGE_MMD_SCALES``).
        On ECG5000 with the
        BiLSTM of ``benchmarks/ecg5000.py``, class MMD² of the two classes
        / L1 per time point / validity: without the term 0.567, 0.570 /
        0.056 / 0.994 (changes that flip the LSTM and leave the beat looking
        like its own class); weight 3 0.122, 0.088 / 0.515 / 1.000; 20
        0.042, 0.035 / 0.715 / 1.000 (with the forwards generator and
        ``sparsity_weight`` 2, series' defaults then); with both
        directions, weight 3 and ``sparsity_weight`` 2 (L1 0.588):
        0.032, 0.050; weight 1.5, 0.054, 0.062 at L1 0.528.
    {shared.budget}
        For images, ``"auto"`` is a batch of 64 and about 1,100 optimiser
        steps (whatever the number of images; fewer than the table rule's
        1,500 since a convolutional GAN step costs far more).
    lr_generator, lr_discriminator : float or "auto", default="auto"
        Adam learning rates, with CTGAN's betas (0.5, 0.9). ``"auto"``:
        2e-4 for tables (paper 1, A.3) and images, 1e-3 for time series
        (paper 1, A.2). For images paper 1 (A.1) slows the generator to
        5e-5 over 60,000 steps; the CPU-sized budget of about 1,100 steps
        keeps 2e-4. On series, 2e-4 left the GAN unconverged after its
        ~1,500 steps: on ECG5000 (``benchmarks/ecg5000.py``, the BiLSTM,
        seed 2) the class MMD² of its counterfactuals was still falling
        epoch by epoch at the end (class 0: 0.326, 0.246, 0.178 over the
        last three of 12 epochs, while L1 rose 0.23, 0.31, 0.39); with
        1e-3 it reached 0.09-0.13 from the ninth epoch on, at L1 0.33-0.40
        (seeds 0 and 2).
    noise_dim : int, default=16
        Width of the noise ``z`` (for images: per residual block, BigGAN's
        skip-z; paper 1 uses 20). Paper 1 is silent for tabular data; noise
        diversifies ``explain(n_counterfactuals>1)`` and the candidates of
        ``n_candidates > 1``, so it is small.
    generator_hidden, discriminator_hidden : tuple of int or "auto", default="auto"
        Layer widths. ``"auto"``: CTGAN's (256, 256) for tables; for images
        three generator blocks of 64 channels and discriminator blocks of
        32, 64 and 64 channels (paper 1: five and six blocks at a channel
        multiplier of 24, for 128x128 images); for series one LSTM layer
        of 64 units a direction in the generator (bidirectional, see
        :class:`~cfexplain.backends.modules.SeriesGenerator`) and of 128
        units in the discriminator (paper 1: 512, which a CPU trains about
        eight times slower per step).
    ema_decay : float or "auto", default="auto"
        Decay of the exponential moving average of the generator's weights
        that answers :meth:`transform` (BigGAN's sampling). ``"auto"``:
        0.999 for images (paper 1, A.1: 0.9999 over 60,000 steps), 0 (no
        average) for tables and series.
    keep_best_epoch : bool or "auto", default="auto"
        Keep the generator of the training epoch whose counterfactuals of
        the held-out rows (``validation_fraction``) are most realistic
        instead of the last epoch's: the lowest class-conditional MMD² to
        training rows of their target class (the largest over the classes:
        an epoch is as realistic as its least realistic class) among the
        epochs about as valid as the best (:mod:`cfexplain._epoch_selection`; paper 1
        keeps its BIN baseline's most realistic epoch the same way, A.1).
        Adversarial training swings from epoch to epoch: on ECG5000 the
        last four epochs' class MMD² for class 0 went 0.090, 0.127,
        0.097, 0.134 (seed 2). Each epoch costs one generation and one
        model call on the held-out rows. Classifiers only. ``"auto"``: on
        for time series when at least 50 rows are held out; off for
        tables, where on Adult it made the answers to an MLP sparser (L1
        0.354 instead of 0.423) and those to boosted trees less so (0.403
        instead of 0.334, ``benchmarks/adult.py``), and for images, where it
        has not been measured. ``True`` raises a ``ValueError`` for a
        regression model or without held-out rows.
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
        be the same. On ECG5000 with the BiLSTM of ``benchmarks/ecg5000.py``
        (validity 1.000 throughout) more candidates trade realism for
        sparsity: 1 gave L1 0.451 and class MMD² 0.081 / 0.094 at 584 beats/s,
        4 gave 0.437 and 0.102 / 0.092 at 353, 8 gave 0.418 and 0.104 /
        0.113 at 189; ranking them by L1 plus the mean L1 distance to the 10
        nearest training series of the target class (a realism critic)
        instead of L1 alone moved these figures by at most 0.002 (all
        with Adam 2e-4 and the last epoch, the series defaults then).
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
    prediction_weight_, sparsity_weight_, cycle_weight_, mmd_weight_ : float
        The weights used (``"auto"`` resolved for the modality).
    generator_hidden_, discriminator_hidden_ : tuple of int
        The widths used (``"auto"`` resolved for the modality).
    ema_decay_ : float
        The decay used (``"auto"`` resolved for the modality).
    lr_generator_, lr_discriminator_ : float
        The learning rates used (``"auto"`` resolved for the modality).
    keep_best_epoch_ : bool
        Whether ``fit`` chose the epoch (``"auto"`` resolved).
    best_epoch_ : int or None
        The epoch (from 1) whose generator answers; ``None`` when
        ``keep_best_epoch_`` is False (the last epoch answers). The net's
        history holds each epoch's ``held_out_validity`` and
        ``held_out_class_mmd2``.

    Examples
    --------
    {shared.example}
    """

    _parameter_constraints: dict = {
        **BaseCounterfactualExplainer._parameter_constraints,
        **SURROGATE_PARAMETERS,
        **CHANGE_GENERATOR_PARAMETERS,
        "prediction_weight": [*NON_NEGATIVE, StrOptions({"auto"})],
        "sparsity_weight": [*NON_NEGATIVE, StrOptions({"auto"})],
        "adversarial_weight": NON_NEGATIVE,
        "mmd_weight": [*NON_NEGATIVE, StrOptions({"auto"})],
        "cycle_weight": [*NON_NEGATIVE, StrOptions({"auto"})],
        "keep_best_epoch": ["boolean", StrOptions({"auto"})],
        "lr_generator": [*POSITIVE, StrOptions({"auto"})],
        "lr_discriminator": [*POSITIVE, StrOptions({"auto"})],
        "noise_dim": [Interval(numbers.Integral, 0, None, closed="left")],
        "generator_hidden": [*WIDTHS, StrOptions({"auto"})],
        "discriminator_hidden": [*WIDTHS, StrOptions({"auto"})],
        "ema_decay": [
            Interval(numbers.Real, 0, 1, closed="left"),
            StrOptions({"auto"}),
        ],
    }

    #: What ``"auto"`` means per modality: paper 1's settings for tables
    #: (section 3.4, appendix A.3: CTGAN's widths, w_l1 = 10, no cycle loss),
    #: for images (A.1: w_CC = 2, an averaged generator; w_l1 and the
    #: widths are discussed in the class docstring) and for time series
    #: (appendix A.2: w_CC = 2; w_l1 = 6 instead of 2, and a bidirectional
    #: generator, both discussed in the class docstring; one LSTM layer of
    #: 64 units a direction and 128 in the discriminator instead of the
    #: paper's 512, which train ~1,500 steps of 32 ECG beats in minutes on a
    #: 2-core CPU instead of hours).
    _AUTO = {
        "tabular": {
            "prediction_weight": 1.0,
            "mmd_weight": 0.0,
            "sparsity_weight": 10.0,
            "cycle_weight": 0.0,
            "generator_hidden": (256, 256),
            "discriminator_hidden": (256, 256),
            "ema_decay": 0.0,
            "lr_generator": 2e-4,
            "lr_discriminator": 2e-4,
        },
        "image": {
            "prediction_weight": 2.0,
            "mmd_weight": 20.0,
            "sparsity_weight": 5.0,
            "cycle_weight": 2.0,
            "generator_hidden": (64, 64, 64),
            "discriminator_hidden": (32, 64, 64),
            "ema_decay": 0.999,
            "lr_generator": 2e-4,
            "lr_discriminator": 2e-4,
        },
        "series": {
            "prediction_weight": 1.0,
            "mmd_weight": 3.0,
            "sparsity_weight": 6.0,
            "cycle_weight": 2.0,
            "generator_hidden": (64,),
            "discriminator_hidden": (128,),
            "ema_decay": 0.0,
            "lr_generator": 1e-3,
            "lr_discriminator": 1e-3,
        },
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
        prediction_weight="auto",
        sparsity_weight="auto",
        adversarial_weight=1.0,
        cycle_weight="auto",
        mmd_weight="auto",
        max_epochs="auto",
        batch_size="auto",
        lr_generator="auto",
        lr_discriminator="auto",
        noise_dim=16,
        generator_hidden="auto",
        discriminator_hidden="auto",
        ema_decay="auto",
        keep_best_epoch="auto",
        tau=0.2,
        mask_probability=0.5,
        prediction_margin=0.0,
        surrogate_hidden=(128, 128),
        surrogate_epochs="auto",
        surrogate_refresh_every="auto",
        surrogate_refresh_rows=1024,
        regression_tolerance=0.05,
        n_candidates=1,
        numeric_tolerance=0.05,
        max_rounds=2,
        training_row_candidates="auto",
        plausible_categories=True,
        handle_unknown="error",
        validation_fraction=0.1,
        chunk_size="auto",
        device="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self._store_parameters(locals())

    #: ``"auto"`` for a regression model, where it differs (see the
    #: ``prediction_weight`` entry).
    _AUTO_REGRESSION = {
        "tabular": {"prediction_weight": REGRESSION_PREDICTION_WEIGHT},
    }

    #: Generator and discriminator of each supported modality.
    _MODULES = {
        "tabular": (TabularGenerator, TabularDiscriminator),
        "image": (ImageGenerator, ImageDiscriminator),
        "series": (SeriesGenerator, SeriesDiscriminator),
    }
    _modalities = tuple(_MODULES)

    #: ``batch_size="auto"`` and the optimiser steps of ``max_epochs="auto"``
    #: on images: 64 is BigGAN's small-batch setting. About 750 steps
    #: reached validity 1.0 on the MNIST sample (14 epochs of its 3,600
    #: training images); about 1,100 (20 epochs) brought the class MMD² of
    #: its counterfactuals from 0.031 to 0.027 (``benchmarks/mnist.py``'s
    #: protocol, the MMD term's bandwidths of
    #: ``cfexplain.modalities.image.IMAGE_MMD_SCALES``) in a fit of
    #: about 3.5 minutes on 2 CPU cores. The paper trains 60,000 steps of 20
    #: images on a GPU.
    _IMAGE_BATCH_SIZE = 64
    _IMAGE_STEPS = 1100

    def _modality_budget(self):
        """Images train ``_IMAGE_STEPS`` steps of ``_IMAGE_BATCH_SIZE`` images."""
        if self.adapter_.name != "image":
            return super()._modality_budget()
        return self._IMAGE_BATCH_SIZE, None, self._IMAGE_STEPS

    def _make_net(self, n_condition, shared):
        generator, discriminator = self._MODULES[self.modality_]
        layout = self.encoder_.layout_
        self._resolve_auto()
        return GANNet(
            generator,
            module__layout=layout,
            module__n_condition=n_condition,
            module__noise_dim=self.noise_dim,
            module__hidden_sizes=tuple(self.generator_hidden_),
            module__tau=self.tau,
            discriminator=discriminator,
            discriminator__n_data=layout.n_columns,
            discriminator__n_condition=n_condition,
            discriminator__hidden_sizes=tuple(self.discriminator_hidden_),
            **{
                f"discriminator__{name}": value
                for name, value in self.adapter_.network_arguments().items()
            },
            prediction_weight=self.prediction_weight_,
            sparsity_weight=self.sparsity_weight_,
            adversarial_weight=self.adversarial_weight,
            cycle_weight=self.cycle_weight_,
            mmd_weight=self.mmd_weight_,
            mask_probability=self._mask_probability(),
            prediction_margin=self.prediction_margin,
            lr_discriminator=self.lr_discriminator_,
            ema_decay=self.ema_decay_,
            optimizer__betas=(0.5, 0.9),
            lr=self.lr_generator_,
            **shared,
        )

    def _training_callbacks(self, Xt, y_model, held_out):
        """Add :class:`MostRealisticEpoch` where ``keep_best_epoch`` asks for it."""
        self.keep_best_epoch_ = self._resolve_keep_best_epoch(held_out)
        if not self.keep_best_epoch_:
            return []
        Xt_held, y_held = held_out
        target = self._target_condition(self._resolve("opposite", y_held))
        choice = MostRealisticEpoch(
            Xt_held,
            self._condition(y_held),
            target,
            target.argmax(axis=1),
            Xt,
            np.asarray(y_model).argmax(axis=1),
            _Relabel(self.encoder_, self.predictor_),
            seed=draw_seed(self.random_seed_ + 6),
        )
        return [("most_realistic_epoch", choice)]

    def _resolve_keep_best_epoch(self, held_out):
        """Resolve ``keep_best_epoch`` for this fit (see the parameter)."""
        n_held = 0 if held_out is None else len(held_out[0])
        classifier = self.predictor_.task_ == CLASSIFICATION
        if self.keep_best_epoch == "auto":
            return bool(
                self.modality_ == "series"
                and classifier
                and n_held >= FEW_SELF_CHECK_ROWS
            )
        if self.keep_best_epoch and not classifier:
            raise ValueError(
                "keep_best_epoch=True compares counterfactuals with training rows "
                "of their target class, which a regression model does not have; "
                "use keep_best_epoch=False"
            )
        if self.keep_best_epoch and n_held < 2:
            raise ValueError(
                "keep_best_epoch=True chooses the epoch on rows held out of "
                f"training, and this fit holds out {n_held}; raise "
                "validation_fraction (e.g. 0.1) or use keep_best_epoch=False"
            )
        return bool(self.keep_best_epoch)

    def _after_training(self):
        """Record the epoch whose generator answers (``best_epoch_``)."""
        choice = dict(self.net_.callbacks_).get("most_realistic_epoch")
        self.best_epoch_ = None if choice is None else choice.best_epoch_

    def _net_fit_params(self, Xt, y_model):
        """Return the MMD term's real rows: the training set, by model class."""
        if self.mmd_weight_ == 0:
            return {}
        return self._class_reference(Xt, y_model)
