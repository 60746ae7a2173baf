"""Gradients of the model under explanation, for the backends' prediction loss.

A backend's prediction loss needs the model as a differentiable function of
the *encoded* counterfactual. :func:`differentiable_model` provides it:

* a ``Pipeline(TabularEncoder, skorch net)`` speaks our encoding already: a
  frozen copy of its network is used;
* a :class:`torch.nn.Module` (or a fitted skorch net) on images takes the
  user's image tensors: the encoding is reshaped and rescaled into them;
* anything else is a black box, distilled into a :class:`Surrogate` that
  :class:`SurrogateRefresh` keeps honest during training by relabelling
  generated rows with the real model.

Every module returned gives log-probabilities (classification) or
standardised values (regression), as :func:`~cfexplain.backends.losses.prediction_loss`
expects.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from skorch.callbacks import Callback
from torch import nn
from torch.nn import functional as F

from ._predictor import CLASSIFICATION
from ._random import draw_seed, torch_generator
from ._surrogate import Surrogate
from .backends.sampling import sample_targets

__all__ = ["SurrogateRefresh", "differentiable_model", "surrogate_callbacks"]


class _LogProbabilities(nn.Module):
    """Wrap a logits network so it returns log-probabilities."""

    def __init__(self, logits_module):
        super().__init__()
        self.logits_module = logits_module

    def forward(self, X):
        return torch.log_softmax(self.logits_module(X), dim=1)


class _LogOfProbabilities(nn.Module):
    """Wrap a network returning probabilities so it returns their logarithm."""

    def __init__(self, probability_module):
        super().__init__()
        self.probability_module = probability_module

    def forward(self, X):
        return torch.log(self.probability_module(X).clamp_min(1e-12))


class _LogOfBinaryLogit(nn.Module):
    """Wrap a network with one logit per row into two-class log-probabilities."""

    def __init__(self, logit_module):
        super().__init__()
        self.logit_module = logit_module

    def forward(self, X):
        logit = self.logit_module(X).reshape(X.shape[0])
        return torch.stack([F.logsigmoid(-logit), F.logsigmoid(logit)], dim=1)


class _StandardisedValues(nn.Module):
    """Wrap a regression network so it returns standardised values."""

    def __init__(self, value_module, mean, scale):
        super().__init__()
        self.value_module = value_module
        self.mean = mean
        self.scale = scale

    def forward(self, X):
        values = self.value_module(X).reshape(X.shape[0])
        return (values - self.mean) / self.scale


class _ImagesFromEncoding(nn.Module):
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
        return self.module(X.reshape(X.shape[0], *self.input_shape) * self.scale)


def _output_kind(module, sample, device):
    """Tell whether a classifier module returns logits, probabilities or one logit."""
    module = module.to(device)
    was_training = module.training
    module.eval()
    with torch.no_grad():
        out = module(torch.as_tensor(sample, device=device))
    module.train(was_training)
    if out.ndim == 1 or out.shape[1] == 1:
        return "logit"
    looks_like_proba = (
        bool((out >= 0).all())
        and bool((out <= 1).all())
        and torch.allclose(out.sum(dim=1), torch.ones(len(out), device=out.device))
    )
    return "probabilities" if looks_like_proba else "logits"


def _wrap_outputs(module, kind, explainer):
    if explainer.predictor_.task_ != CLASSIFICATION:
        return _StandardisedValues(
            module, explainer.output_mean_, explainer.output_scale_
        )
    if kind == "logits":
        return _LogProbabilities(module)
    if kind == "probabilities":
        return _LogOfProbabilities(module)
    return _LogOfBinaryLogit(module)


def _image_module(explainer):
    """Return the torch module behind the model, when it takes images directly."""
    model = explainer.predictor_.model
    if isinstance(model, nn.Module):
        return model
    module = getattr(model, "module_", None)  # a fitted skorch net
    return module if isinstance(module, nn.Module) else None


def differentiable_model(explainer, Xt, y_model, *, surrogate_seed_offset=1):
    """Return the model under explanation as a frozen torch module on ``Xt``.

    Sets ``explainer.surrogate_`` (``None`` when the model's own network is
    used).

    Parameters
    ----------
    explainer : BaseCounterfactualExplainer
        The explainer being fit: its encoder, predictor, device, seed and
        surrogate parameters (``surrogate_hidden``, ``surrogate_epochs``).
    Xt : numpy.ndarray
        Encoded training rows.
    y_model : numpy.ndarray
        The model's outputs on them.
    surrogate_seed_offset : int, default=1
        Offset of the surrogate's seed from the explainer's.

    Returns
    -------
    torch.nn.Module
        Encoded rows -> log-probabilities or standardised values.
    """
    task = explainer.predictor_.task_
    explainer.surrogate_ = None
    if explainer.encoded_model_ is not None:
        _, module, outputs = explainer.encoded_model_
        return _wrap_outputs(copy.deepcopy(module), outputs, explainer)
    if explainer.modality_ == "image":
        module = _image_module(explainer)
        if module is not None:
            encoder = explainer.encoder_
            module = _ImagesFromEncoding(
                copy.deepcopy(module), encoder.input_shape_, encoder.scale_
            )
            kind = _output_kind(module, Xt[:8], explainer.device_)
            return _wrap_outputs(module, kind, explainer)
    explainer.surrogate_ = Surrogate(
        task=task,
        hidden_sizes=tuple(explainer.surrogate_hidden),
        max_epochs=explainer.surrogate_epochs,
        device=explainer.device_,
        random_state=draw_seed(explainer.random_seed_ + surrogate_seed_offset),
    ).fit(Xt, y_model)
    return _wrap_outputs(explainer.surrogate_.module_, "logits", explainer)


class SurrogateRefresh(Callback):
    """Keep the surrogate honest: relabel generated rows with the real model.

    At the end of every ``every``-th epoch, ``n_rows`` training rows get
    counterfactuals for random targets (from the explainer's
    ``_refresh_counterfactuals``); they are decoded to the user's format,
    scored by the real model, re-encoded, and the surrogate is trained one
    epoch on them mixed with as many original rows (so it does not forget the
    data distribution). The surrogate's agreement with the real model on
    those counterfactuals *before* the update is recorded in the net's
    history as ``surrogate_cf_agreement``.

    Parameters
    ----------
    explainer : BaseCounterfactualExplainer
        The explainer being fit (its encoder, predictor and surrogate).
    Xt : numpy.ndarray
        Encoded training rows.
    condition : numpy.ndarray
        The model's outputs on them as conditioning vectors.
    y_model : numpy.ndarray
        The model's raw outputs on them.
    every : int
        Epochs between refreshes.
    n_rows : int
        Rows generated per refresh.
    seed : int
        Seed of the row and target choice.
    """

    def __init__(self, explainer, Xt, condition, y_model, every, n_rows, seed):
        self.explainer = explainer
        self.Xt = Xt
        self.condition = condition
        self.y_model = y_model
        self.every = every
        self.n_rows = n_rows
        self.seed = seed

    def initialize(self):
        """Seed the choice of rows and targets."""
        self.rng_ = np.random.RandomState(self.seed)
        self.generator_ = torch_generator(self.seed)
        return self

    def on_epoch_end(self, net, **kwargs):
        """Relabel fresh counterfactuals and train the surrogate on them."""
        if len(net.history) % self.every:
            return
        explainer = self.explainer
        n = min(self.n_rows, len(self.Xt))
        rows = self.rng_.choice(len(self.Xt), size=n, replace=False)
        condition = self.condition[rows]
        target = sample_targets(
            torch.as_tensor(condition), explainer.predictor_.task_, self.generator_
        ).numpy()
        Xt_cf = explainer._refresh_counterfactuals(
            self.Xt[rows], condition, target, self.generator_
        )
        X_cf = explainer.encoder_.inverse_transform(Xt_cf)
        y_cf = explainer.predictor_.predict(X_cf)
        Xt_cf = explainer.encoder_.transform(X_cf)
        surrogate = explainer.surrogate_
        net.history.record("surrogate_cf_agreement", surrogate.fidelity(Xt_cf, y_cf))
        originals = self.rng_.choice(len(self.Xt), size=n, replace=False)
        surrogate.module_.requires_grad_(True)
        surrogate.partial_fit(
            np.concatenate([Xt_cf, self.Xt[originals]]),
            np.concatenate([y_cf, self.y_model[originals]]),
        )
        surrogate.module_.requires_grad_(False)

    def on_train_end(self, net, **kwargs):
        """Drop the references to the training data, so pickles stay small."""
        self.explainer = self.Xt = self.condition = self.y_model = None


def surrogate_callbacks(explainer, Xt, condition, y_model, *, seed_offset=2):
    """Return the user's callbacks plus a :class:`SurrogateRefresh` if needed.

    Parameters
    ----------
    explainer : BaseCounterfactualExplainer
        With ``callbacks``, ``surrogate_refresh_every``,
        ``surrogate_refresh_rows`` and a fitted ``surrogate_`` (or ``None``).
    Xt, condition, y_model : numpy.ndarray
        Encoded training rows, their conditioning vectors and model outputs.
    seed_offset : int, default=2
        Offset of the refresh's seed from the explainer's.

    Returns
    -------
    list
        Callbacks for the skorch net.
    """
    callbacks = list(explainer.callbacks or [])
    if explainer.surrogate_refresh_every and explainer.surrogate_ is not None:
        refresh = SurrogateRefresh(
            explainer,
            Xt,
            condition,
            y_model,
            every=explainer.surrogate_refresh_every,
            n_rows=explainer.surrogate_refresh_rows,
            seed=draw_seed(explainer.random_seed_ + seed_offset),
        )
        callbacks.append(("surrogate_refresh", refresh))
    return callbacks
