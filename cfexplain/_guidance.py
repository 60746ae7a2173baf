"""Gradients of the model under explanation, for the backends' prediction loss.

A backend's prediction loss needs the model as a differentiable function of
the *encoded* counterfactual. :func:`differentiable_model` provides it:

* a ``Pipeline(TabularEncoder, skorch net)`` speaks our encoding already: a
  frozen copy of its network is used;
* a :class:`torch.nn.Module` (or a fitted skorch net) that takes the user's
  tensors (images) is differentiated directly: the modality adapter's
  ``torch_view`` turns encoded rows into its input;
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

from ._predictor import CLASSIFICATION, module_dtype
from ._random import draw_seed, torch_generator
from ._surrogate import Surrogate
from .backends.sampling import sample_targets

__all__ = ["SurrogateRefresh", "differentiable_model", "surrogate_callbacks"]


class _InModuleDtype(nn.Module):
    """Call a module in its own floating dtype, returning float32.

    The generators compute in float32; a user's module turned ``.double()``
    (or half precision) would refuse their rows. Casting keeps gradients.
    """

    def __init__(self, module, dtype):
        super().__init__()
        self.module = module
        self.dtype = dtype

    def forward(self, X):
        return self.module(X.to(self.dtype)).float()


def _in_float32(module):
    """Wrap ``module`` in :class:`_InModuleDtype` unless it computes in float32."""
    dtype = module_dtype(module)
    return module if dtype == torch.float32 else _InModuleDtype(module, dtype)


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
    """Make ``module`` return log-probabilities or standardised values."""
    if explainer.predictor_.task_ != CLASSIFICATION:
        return _StandardisedValues(
            module, explainer.output_mean_, explainer.output_scale_
        )
    if kind == "logits":
        return _LogProbabilities(module)
    if kind == "probabilities":
        return _LogOfProbabilities(module)
    return _LogOfBinaryLogit(module)


def _torch_module(explainer):
    """Return the torch module behind the model, if it is one (or a skorch net)."""
    model = explainer.predictor_.model
    if isinstance(model, nn.Module):
        return model
    module = getattr(model, "module_", None)  # a fitted skorch net
    return module if isinstance(module, nn.Module) else None


def differentiable_model(explainer, Xt, y_model, *, surrogate_seed_offset=1):
    """Return the model under explanation as a frozen torch module on ``Xt``.

    Parameters
    ----------
    explainer : BaseCounterfactualExplainer
        The explainer being fit, read only: its adapter, predictor, device,
        seed and surrogate parameters (``surrogate_hidden``,
        ``surrogate_epochs``).
    Xt : numpy.ndarray
        Encoded training rows.
    y_model : numpy.ndarray
        The model's outputs on them.
    surrogate_seed_offset : int, default=1
        Offset of the surrogate's seed from the explainer's.

    Returns
    -------
    module : torch.nn.Module
        Encoded rows -> log-probabilities or standardised values.
    surrogate : Surrogate or None
        The surrogate trained for a black box; ``None`` when the model's own
        network gives the gradients.
    """
    if explainer.encoded_model_ is not None:
        _, module, outputs = explainer.encoded_model_
        module = _in_float32(copy.deepcopy(module))
        return _wrap_outputs(module, outputs, explainer), None
    module = _torch_module(explainer)
    if module is not None:
        view = explainer.adapter_.torch_view(_in_float32(copy.deepcopy(module)))
        if view is not None:
            kind = _output_kind(view, Xt[:8], explainer.device_)
            return _wrap_outputs(view, kind, explainer), None
    surrogate = Surrogate(
        task=explainer.predictor_.task_,
        hidden_sizes=tuple(explainer.surrogate_hidden),
        max_epochs=explainer.surrogate_epochs,
        device=explainer.device_,
        random_state=draw_seed(explainer.random_seed_ + surrogate_seed_offset),
    ).fit(Xt, y_model)
    return _wrap_outputs(surrogate.module_, "logits", explainer), surrogate


class SurrogateRefresh(Callback):
    """Keep the surrogate honest: relabel generated rows with the real model.

    At the end of every ``every``-th epoch, ``n_rows`` training rows get
    counterfactuals for random targets from the net being trained
    (:meth:`~cfexplain.backends.nets.CounterfactualNet.generate`, with
    sampled noise); ``relabel`` decodes them to the user's format, scores
    them with the real model and re-encodes them, and the surrogate is
    trained one epoch on them mixed with as many original rows (so it does
    not forget the data distribution). The surrogate's agreement with the
    real model on those counterfactuals *before* the update is recorded in
    the net's history as ``surrogate_cf_agreement``, at every epoch: the
    epochs between two refreshes repeat the last measure (NaN before the
    first), because skorch's epoch table takes its columns from the first
    epoch and would otherwise leave the measure out, or print it under
    another column's header.

    Parameters
    ----------
    surrogate : Surrogate
        The surrogate to keep training.
    relabel : callable
        ``relabel(Xt_cf) -> (Xt_cf, y_cf)``: encoded rows as the encoder
        re-encodes their decoded form, and the real model's outputs on them.
    Xt : numpy.ndarray
        Encoded training rows.
    condition : numpy.ndarray
        The model's outputs on them as conditioning vectors.
    y_model : numpy.ndarray
        The model's raw outputs on them.
    task : {"classification", "regression"}
        The model's task (how targets are sampled).
    every : int
        Epochs between refreshes.
    n_rows : int
        Rows generated per refresh.
    seed : int
        Seed of the row, target and noise choice.
    """

    def __init__(
        self, surrogate, relabel, Xt, condition, y_model, task, every, n_rows, seed
    ):
        self.surrogate = surrogate
        self.relabel = relabel
        self.Xt = Xt
        self.condition = condition
        self.y_model = y_model
        self.task = task
        self.every = every
        self.n_rows = n_rows
        self.seed = seed

    def initialize(self):
        """Seed the choice of rows, targets and noise."""
        self.rng_ = np.random.RandomState(self.seed)
        self.generator_ = torch_generator(self.seed)
        self.agreement_ = float("nan")
        return self

    def on_epoch_end(self, net, **kwargs):
        """Relabel fresh counterfactuals and train the surrogate on them."""
        if len(net.history) % self.every:
            net.history.record("surrogate_cf_agreement", self.agreement_)
            return
        n = min(self.n_rows, len(self.Xt))
        rows = self.rng_.choice(len(self.Xt), size=n, replace=False)
        condition = self.condition[rows]
        target = sample_targets(
            torch.as_tensor(condition), self.task, self.generator_
        ).numpy()
        Xt = self.Xt[rows]
        noise = torch.randn(
            n, net.module_.noise_width, generator=self.generator_
        ).numpy()
        Xt_cf = net.generate(
            Xt,
            condition,
            target,
            np.zeros_like(Xt),
            noise=noise,
            sample=True,
            generator=self.generator_,
        )
        Xt_cf, y_cf = self.relabel(Xt_cf)
        surrogate = self.surrogate
        self.agreement_ = surrogate.fidelity(Xt_cf, y_cf)
        net.history.record("surrogate_cf_agreement", self.agreement_)
        originals = self.rng_.choice(len(self.Xt), size=n, replace=False)
        surrogate.module_.requires_grad_(True)
        surrogate.partial_fit(
            np.concatenate([Xt_cf, self.Xt[originals]]),
            np.concatenate([y_cf, self.y_model[originals]]),
        )
        surrogate.module_.requires_grad_(False)

    def on_train_end(self, net, **kwargs):
        """Drop the references to the training data, so pickles stay small."""
        self.surrogate = self.relabel = None
        self.Xt = self.condition = self.y_model = None


class _Relabel:
    """Decode encoded rows, score them with the real model, re-encode them.

    A class rather than a closure so that a net holding it still pickles
    before training ends.
    """

    def __init__(self, encoder, predictor):
        self.encoder = encoder
        self.predictor = predictor

    def __call__(self, Xt_cf):
        X_cf = self.encoder.inverse_transform(Xt_cf)
        y_cf = self.predictor.predict(X_cf)
        return self.encoder.transform(X_cf), y_cf


def surrogate_callbacks(
    explainer, surrogate, Xt, condition, y_model, *, every, seed_offset=2
):
    """Return the user's callbacks plus a :class:`SurrogateRefresh` if needed.

    Parameters
    ----------
    explainer : BaseCounterfactualExplainer
        Read only: ``callbacks``, ``surrogate_refresh_rows``, its encoder,
        predictor and seed.
    surrogate : Surrogate or None
        The surrogate (``None``: nothing to refresh).
    Xt, condition, y_model : numpy.ndarray
        Encoded training rows, their conditioning vectors and model outputs.
    every : int
        Epochs between refreshes; 0 disables them.
    seed_offset : int, default=2
        Offset of the refresh's seed from the explainer's.

    Returns
    -------
    list
        Callbacks for the skorch net.
    """
    callbacks = list(explainer.callbacks or [])
    if every and surrogate is not None:
        refresh = SurrogateRefresh(
            surrogate,
            _Relabel(explainer.encoder_, explainer.predictor_),
            Xt,
            condition,
            y_model,
            task=explainer.predictor_.task_,
            every=every,
            n_rows=explainer.surrogate_refresh_rows,
            seed=draw_seed(explainer.random_seed_ + seed_offset),
        )
        callbacks.append(("surrogate_refresh", refresh))
    return callbacks
