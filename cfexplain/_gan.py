"""CounterfactualGAN: paper 1's conditional GAN for tabular counterfactuals."""

from __future__ import annotations

import numbers

from sklearn.utils._param_validation import Interval

from ._base import SURROGATE_PARAMETERS, BaseCounterfactualExplainer
from .backends.modules import TabularDiscriminator, TabularGenerator
from .backends.nets import GANNet

__all__ = ["CounterfactualGAN"]


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
    predictor : estimator, callable or torch.nn.Module, default=None
        The model under explanation, when not given to :meth:`fit`. Kept by
        reference by ``clone``.
    target : default="opposite"
        Default target of :meth:`transform`, :meth:`explain` and
        :meth:`score`; see :meth:`transform`.
    task : {"auto", "classification", "regression"}, default="auto"
        The model's task; ``"auto"`` infers it from the model's output.
    modality : {"auto", "tabular", "image", "series"}, default="auto"
        The kind of data. ``"auto"`` takes a DataFrame or 2-D array as a
        table and a 4-D array as images, and refuses a 3-D array (series or
        images?). This explainer has networks for tables only.
    immutable : list of str, default=None
        Features that must never change.
    bounds : dict, default=None
        ``{feature: (low, high)}`` for numerical features.
    monotonic : dict, default=None
        ``{feature: "increasing" | "decreasing"}`` for numerical features.
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
    max_epochs : int, default=30
        Training epochs. Paper 1 trains 1000; 30 epochs of CTGAN-sized
        networks keep fitting Adult's 26,000 training rows within about two
        minutes on two CPU cores (see ``benchmarks/adult.py``).
    batch_size : int, default=512
        Paper 1's batch size.
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
    surrogate_hidden : tuple of int, default=(128, 128)
        Hidden widths of the surrogate network.
    surrogate_epochs : int, default=20
        Epochs of the surrogate's initial training.
    surrogate_refresh_every : int, default=1
        Epochs between two relabellings of generated rows by the real model;
        0 disables them.
    surrogate_refresh_rows : int, default=1024
        Rows generated and relabelled per refresh.
    regression_tolerance : float, default=0.05
        For a regression value target, the accepted distance in standard
        deviations of the model's outputs on the training rows.
    n_candidates : int, default=1
        Deterministic candidates per row in :meth:`transform`: the noise-free
        answer plus ``n_candidates - 1`` made with fixed noise vectors. The
        real model scores them and each row gets its closest valid one, which
        raises validity for black boxes at ``n_candidates`` times the model
        calls.
    numeric_tolerance : float, default=0.05
        Numbers that the generator moved by at most this many training
        standard deviations get their original value back: such changes are
        noise of the network's continuous outputs, not explanations. 0 keeps
        the raw outputs.
    device : str, default="auto"
        ``"auto"`` (CUDA, then MPS, then CPU) or a torch device string.
    random_state : int, RandomState instance or None, default=None
        Seeds the encoder, the networks, training and sampling. Global RNGs
        are left untouched.
    verbose : int, default=0
        skorch's progress output per epoch when positive.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks (e.g. ``EarlyStopping(monitor="train_loss")``).

    Attributes
    ----------
    encoder_ : TabularEncoder
        The fitted encoder.
    predictor_ : object
        The checked wrapper around the model under explanation.
    surrogate_ : object or None
        The differentiable surrogate; ``surrogate_.fidelity_`` is its agreement
        with the model on held-out training rows. ``None`` when the model is a
        ``Pipeline(TabularEncoder, skorch net)``, whose network is used
        directly.
    encoded_model_ : tuple or None
        For such a pipeline: its encoder, network and output kind.
    adapter_ : TabularAdapter
        What the explainer knows about its kind of data.
    modality_ : str
        ``"tabular"``.
    net_ : skorch.NeuralNet
        The trained GAN; ``net_.history`` holds the losses per epoch.
    classes_ : numpy.ndarray or None
        The model's class labels (classification).
    device_ : str
        The device used.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : numpy.ndarray
        Their names, when ``X`` was a DataFrame.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from cfexplain import CounterfactualGAN
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3))
    >>> clf = LogisticRegression().fit(X, X.sum(axis=1) > 0)
    >>> cf = CounterfactualGAN(max_epochs=2, random_state=0).fit(X, clf)
    >>> cf.transform(X[:4]).shape
    (4, 3)
    """

    _parameter_constraints: dict = {
        **BaseCounterfactualExplainer._parameter_constraints,
        **SURROGATE_PARAMETERS,
        "prediction_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "sparsity_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "adversarial_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "cycle_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "lr_generator": [Interval(numbers.Real, 0, None, closed="neither")],
        "lr_discriminator": [Interval(numbers.Real, 0, None, closed="neither")],
        "noise_dim": [Interval(numbers.Integral, 0, None, closed="left")],
        "generator_hidden": [tuple, list],
        "discriminator_hidden": [tuple, list],
        "tau": [Interval(numbers.Real, 0, None, closed="neither")],
        "mask_probability": [Interval(numbers.Real, 0, 1, closed="both")],
        "prediction_margin": [Interval(numbers.Real, 0, None, closed="left")],
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
        max_epochs=30,
        batch_size=512,
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
        surrogate_refresh_every=1,
        surrogate_refresh_rows=1024,
        regression_tolerance=0.05,
        n_candidates=1,
        numeric_tolerance=0.05,
        device="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self.predictor = predictor
        self.target = target
        self.task = task
        self.modality = modality
        self.immutable = immutable
        self.bounds = bounds
        self.monotonic = monotonic
        self.prediction_weight = prediction_weight
        self.sparsity_weight = sparsity_weight
        self.adversarial_weight = adversarial_weight
        self.cycle_weight = cycle_weight
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr_generator = lr_generator
        self.lr_discriminator = lr_discriminator
        self.noise_dim = noise_dim
        self.generator_hidden = generator_hidden
        self.discriminator_hidden = discriminator_hidden
        self.tau = tau
        self.mask_probability = mask_probability
        self.prediction_margin = prediction_margin
        self.surrogate_hidden = surrogate_hidden
        self.surrogate_epochs = surrogate_epochs
        self.surrogate_refresh_every = surrogate_refresh_every
        self.surrogate_refresh_rows = surrogate_refresh_rows
        self.regression_tolerance = regression_tolerance
        self.n_candidates = n_candidates
        self.numeric_tolerance = numeric_tolerance
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

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
