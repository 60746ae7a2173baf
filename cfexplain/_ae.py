"""CounterfactualAE: paper 1's autoencoder + MMD counterfactual generator."""

from __future__ import annotations

from sklearn.utils._param_validation import StrOptions

from ._base import (
    CHANGE_GENERATOR_PARAMETERS,
    NON_NEGATIVE,
    POSITIVE,
    POSITIVE_INTEGER,
    SURROGATE_PARAMETERS,
    WIDTHS,
    BaseCounterfactualExplainer,
)
from ._docstrings import fill_shared_docs
from .backends.modules import (
    ImagePerturbationAE,
    SeriesPerturbationAE,
    TabularPerturbationAE,
)
from .backends.nets import PerturbationNet

__all__ = ["CounterfactualAE"]


@fill_shared_docs
class CounterfactualAE(BaseCounterfactualExplainer):
    r"""Counterfactuals from a perturbation autoencoder trained with an MMD loss.

    Implements paper 1's appendix B (Van Looveren et al., "Conditional
    Generative Models for Counterfactual Explanations"): an encoder ``E``
    and a decoder ``D`` that outputs the change,

    .. math::

        x_{CF} = x + D(E(x), y_M, y_T),

    trained with

    .. math::

        L = w_M\,L_M + w_{l_1}\,L_{l_1} + w_\chi\,\mathrm{MMD}(x_{CF}, x_{\in T})

    where the MMD compares each batch's counterfactuals of a target class
    with training rows that the model predicts as that class (for
    regression, with all training rows). Prediction and sparsity losses are
    the GAN's: the model's own network when it is differentiable on our
    encoding, otherwise a surrogate kept honest by relabelling generated
    rows with the real model.

    Tables are encoded by :class:`~cfexplain.preprocessing.TabularEncoder`:
    the change is added to the scores that reproduce ``x`` and each span
    gets its activation (one-hot blocks stay one-hot), and the decoder reads
    a mask of frozen features, trained on random masks so ``immutable``
    works without retraining. Images (arrays of shape ``(n, height,
    width)`` with ``modality="image"``, or ``(n, channels, height,
    width)``, uint8 0-255 or floats in
    [0, 1]) are encoded by :class:`~cfexplain.preprocessing.ImageEncoder`;
    encoder and decoder are convolutional and the change is added to the
    pixels, clipped to [0, 1].

    The answer is deterministic. ``explain(n_counterfactuals=k)`` samples
    the categories of tabular counterfactuals (Gumbel-softmax); images have
    no noise, so their ``k`` counterfactuals are identical.

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
        :math:`w_M` (paper 1: 1). For a regression model a larger weight
        makes the autoencoder reach more targets alone, with larger moves:
        share of the self-check's interval targets it reached before
        repairs, weights 1 / 10 / 25 / 50, seed 0: diabetes with a Ridge
        0.02 / 0.61 / 0.86 / 0.75, with a RandomForest 0.16 / 0.32 / 0.43 /
        0.46; German credit's ``credit_amount`` with boosted trees 0.20 /
        0.47 / 0.47 / 0.47. The repairs' answers are sparser than the
        autoencoder's, so where they answer fewer rows the answers move
        further: on Adult's 26,048 training rows (hours per week, boosted
        trees, 2,000 test rows asked for the 70th-80th percentile
        interval; training-row candidates off, as ``"auto"`` leaves them
        on a table this large) weight 25 raised that share from 0.17 to
        0.30 and the answers' L1 from 0.68 to 0.89 standard deviations
        (the GAN's: 0.15 to 0.35, L1 0.67 to 0.66), so the autoencoder
        keeps 1.
    sparsity_weight : float, default=3.0
        :math:`w_{l_1}`, on the mean absolute change per feature (tables:
        categories on their one-hots, numbers in standard deviations, as the
        GAN; images: per pixel value in [0, 1]). Paper 1's 10 keeps Adult's
        counterfactuals so close to the originals that only 22 % of them
        reached the target in our runs; 3 reached 87 % with the same
        networks (``benchmarks/adult.py``, MLP).
    mmd_weight : float or "auto", default="auto"
        :math:`w_\chi`, weight of the class-conditional MMD. ``"auto"``: 3 on
        time series, 1 on tables and images. On ECG5000 with appendix A.2's
        bidirectional LSTM (``benchmarks/ecg5000.py``) weight 1 flipped the
        beats with small changes that kept the look of their own class
        (L1 0.21, class MMD² 0.24 / 0.22); 3 gave L1 0.42 and class MMD²
        0.05 / 0.05; 10 gave L1 0.56 and 0.01 / 0.01, all at validity of
        at least 0.996.
    latent_dim : int, default=64
        Width of ``E(x)``.
    hidden_sizes : tuple of int, default=(256, 256)
        Hidden widths of the tabular encoder, reversed for the decoder (the
        GAN's widths; on Adult they raise validity from 0.84 to 0.95 over
        (128, 128) with a 32-wide code).
    {shared.budget}
    lr : float, default=2e-4
        Adam learning rate: paper 1's. On tables it is the robust choice
        (Adult with a boosted-trees black box: validity 0.82, against 0.16
        at 1e-3); small image sets, with few updates per epoch, train better
        at 1e-3 (``benchmarks/mnist.py``).
    tau : float, default=0.2
        Gumbel-softmax temperature of one-hot spans while training.
    mask_probability : float, default=0.5
        Share of tabular training rows trained with a random set of frozen
        features.
    prediction_margin : float, default=0.0
        Hinge margin on the prediction loss, as for the GAN.
    {shared.surrogate}
    {shared.regression_tolerance}
    {shared.numeric_tolerance}
    {shared.closed_loop}
    {shared.training}

    Attributes
    ----------
    encoder_ : TabularEncoder, ImageEncoder or SeriesEncoder
        The fitted encoder.
    {shared.fitted}
    surrogate_ : object or None
        The surrogate of a black-box model; ``None`` when the model's own
        network gives the gradients.
    mmd_weight_ : float
        The MMD weight used (``"auto"`` resolved).
    net_ : PerturbationNet
        The trained autoencoder; ``net_.history`` holds the losses per epoch.

    Examples
    --------
    {shared.example}
    """

    _parameter_constraints: dict = {
        **BaseCounterfactualExplainer._parameter_constraints,
        **SURROGATE_PARAMETERS,
        **CHANGE_GENERATOR_PARAMETERS,
        "mmd_weight": [*NON_NEGATIVE, StrOptions({"auto"})],
        "latent_dim": POSITIVE_INTEGER,
        "hidden_sizes": WIDTHS,
        "lr": POSITIVE,
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
        sparsity_weight=3.0,
        mmd_weight="auto",
        latent_dim=64,
        hidden_sizes=(256, 256),
        max_epochs="auto",
        batch_size="auto",
        lr=2e-4,
        tau=0.2,
        mask_probability=0.5,
        prediction_margin=0.0,
        surrogate_hidden=(128, 128),
        surrogate_epochs="auto",
        surrogate_refresh_every="auto",
        surrogate_refresh_rows=1024,
        regression_tolerance=0.05,
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

    #: Autoencoder module of each supported modality.
    _MODULES = {
        "tabular": TabularPerturbationAE,
        "image": ImagePerturbationAE,
        "series": SeriesPerturbationAE,
    }
    _modalities = tuple(_MODULES)
    _reference_batch_size = 256
    _reference_steps = 3000

    #: ``mmd_weight="auto"`` per modality (see the parameter).
    _AUTO = {
        "tabular": {"mmd_weight": 1.0},
        "image": {"mmd_weight": 1.0},
        "series": {"mmd_weight": 3.0},
    }

    def _make_net(self, n_condition, shared):
        self._resolve_auto()
        return PerturbationNet(
            self._MODULES[self.modality_],
            module__layout=self.encoder_.layout_,
            module__n_condition=n_condition,
            module__latent_dim=self.latent_dim,
            module__hidden_sizes=tuple(self.hidden_sizes),
            module__tau=self.tau,
            mmd_weight=self.mmd_weight_,
            prediction_weight=self.prediction_weight,
            sparsity_weight=self.sparsity_weight,
            mask_probability=self._mask_probability(),
            prediction_margin=self.prediction_margin,
            lr=self.lr,
            **shared,
        )

    def _net_fit_params(self, Xt, y_model):
        """Return the MMD's reference rows and the model's class of each."""
        return self._class_reference(Xt, y_model)
