"""What every counterfactual net shares: the frozen predictor, losses, inference.

Training runs on skorch so users get its callbacks, history, progress output,
early stopping and device handling. Every net answers one inference call,
:meth:`CounterfactualNet.generate`, whatever the method.
"""

from __future__ import annotations

import contextlib
import math
import re
import sys

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import PrintLog
from skorch.utils import to_tensor
from torch import nn

from ...exceptions import TrainingError
from ..losses import MMD_SCALES, prediction_loss, sparsity_loss
from ..modules import NumericValues
from ..sampling import expand_feature_mask, sample_feature_masks

__all__ = ["CounterfactualNet", "EpochLog", "drop_optimizer_state"]

_ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")


def drop_optimizer_state(net):
    """Empty the per-parameter state of a trained skorch net's optimisers.

    A fitted explainer only generates: none of its nets trains again after
    ``fit``. Adam's two moments per parameter would otherwise travel in
    every pickle, and to every Dask or Spark worker, as twice the network's
    own size (56 of a GAN's 81 MB on a table with 1,144 zip codes). An
    optimiser whose state is empty starts afresh if it ever steps again.

    Parameters
    ----------
    net : skorch.NeuralNet
        An initialised net; its optimisers (``optimizer_`` and any other
        registered by skorch) keep their parameter groups and settings.
    """
    for name in net._optimizers:
        optimizer = getattr(net, f"{name}_", None)
        if optimizer is not None:
            optimizer.state.clear()


@contextlib.contextmanager
def recurrent_layers_differentiable(module, X):
    """Let gradients pass through a frozen model's recurrent layers on CUDA.

    The model under explanation runs in evaluation mode (no dropout, fixed
    batch statistics), but cuDNN computes the backward pass of an RNN, LSTM
    or GRU only in training mode ("cudnn RNN backward can only be called in
    training mode"): the counterfactual's loss must flow back through the
    user's recurrent classifier to the generator. In training mode such a
    layer computes the same function as in evaluation mode, except the
    dropout between stacked layers, so layers without that dropout are put
    in training mode for the call (and given back their mode); with it,
    cuDNN is switched off for the call and PyTorch's own kernels, which
    differentiate evaluation mode, answer (slower).

    Parameters
    ----------
    module : torch.nn.Module
        The frozen model, in evaluation mode.
    X : torch.Tensor
        Its input, whose device decides whether cuDNN is involved.
    """
    recurrent = [m for m in module.modules() if isinstance(m, nn.RNNBase)]
    if X.device.type != "cuda" or not recurrent or not torch.is_grad_enabled():
        yield
        return
    with_dropout = any(m.dropout > 0 and m.num_layers > 1 for m in recurrent)
    modes = [(m, m.training) for m in recurrent]
    try:
        if with_dropout:
            cudnn = torch.backends.cudnn
            with cudnn.flags(
                enabled=False,
                benchmark=cudnn.benchmark,
                deterministic=cudnn.deterministic,
                allow_tf32=cudnn.allow_tf32,
            ):
                yield
        else:
            for layer in recurrent:
                layer.train()
            yield
    finally:
        for layer, training in modes:
            layer.training = training


class _NoCriterion(torch.nn.Module):
    """Placeholder criterion: the nets compute their losses in ``train_step``."""

    def forward(self, *args):
        raise RuntimeError("counterfactual nets compute their losses in train_step")


def _shows_colours(sink):
    """Whether ANSI colour codes printed by ``sink`` reach a terminal or a notebook."""
    if sink is not print:
        return False
    return sys.stdout.isatty() or "ipykernel" in sys.modules


class EpochLog(PrintLog):
    """skorch's table of epochs (``verbose=1``), with the first epoch's columns.

    The surrogate's agreement on the generator's counterfactuals is
    measured every few epochs (:mod:`cfexplain._guidance`); skorch's table
    prints the header of the first epoch, so such a value would shift the
    rows it appears in out from under their headers. It stays in the
    history (``net_.history``), out of the table. The table is coloured
    only on a terminal or in a notebook: piped or logged output gets no ANSI
    codes.
    """

    def initialize(self):
        """Forget the columns of an earlier fit."""
        super().initialize()
        self.columns_ = None
        return self

    def table(self, row):
        """Return the table of one epoch's row, in the first epoch's columns."""
        if self.columns_ is None:
            self.columns_ = set(row)
        text = super().table({k: v for k, v in row.items() if k in self.columns_})
        if not _shows_colours(self.sink):
            text = _ANSI_CODE.sub("", text)
        return text


class CounterfactualNet(NeuralNet):
    """What every counterfactual generator's skorch net shares.

    The training data ``X`` is a dict with the encoded rows ``"X"`` and the
    model's predictions as conditioning vectors ``"y_model"``; ``y`` is
    unused. The generator is skorch's ``module``; the model under
    explanation is a frozen ``predictor_module`` that gets no optimizer.

    Parameters
    ----------
    module : type of CounterfactualModule
        The generator class (a module of :mod:`cfexplain.backends.modules`).
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
    mmd_scales : tuple of float
        Bandwidths of the kernel of the class-conditional MMD term, in
        multiples of the median squared distance
        (:func:`~cfexplain.backends.losses.mmd_loss`); used by the nets that
        have the term (the GAN's and the autoencoder's).
    seed : int
        Seed of the sampling of noise, targets and masks during training.
    **kwargs
        Passed to :class:`skorch.NeuralNet`.
    """

    #: What skorch pickles apart and loads onto the device available then,
    #: so a net trained on a GPU loads on a machine without one: skorch's
    #: own attributes, the modules it registers, and what this net keeps on
    #: its device beside them (the model's stand-in, given as a parameter
    #: and moved in place, and the column tensors).
    cuda_dependent_attributes_ = [
        *NeuralNet.cuda_dependent_attributes_,
        "predictor_module",
        "feature_of_column_",
        "category_columns_",
    ]

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
        mmd_scales=MMD_SCALES,
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
        self.mmd_scales = mmd_scales
        self.seed = seed
        kwargs.setdefault("criterion", _NoCriterion)
        super().__init__(module, *args, **kwargs)

    # -- initialisation ----------------------------------------------------------------

    @property
    def _default_callbacks(self):
        # skorch's, with its table of epochs replaced by EpochLog.
        return [
            (name, EpochLog() if name == "print_log" else callback)
            for name, callback in super()._default_callbacks
        ]

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

    # -- shared pieces of a training step ----------------------------------------------

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

    def model_output(self, X_cf):
        """Return the frozen predictor's output on encoded rows (with gradients).

        Log-probabilities ``(n, k)`` for classification, standardised values
        ``(n,)`` for regression.
        """
        self.predictor_module_.eval()
        with recurrent_layers_differentiable(self.predictor_module_, X_cf):
            return self.predictor_module_(X_cf)

    def output_as_condition(self, output):
        """Turn :meth:`model_output` into a conditioning vector like ``y_model``.

        Probabilities for classification; ``[value, 0]`` for regression.
        """
        if self.task == "classification":
            return output.exp()
        return torch.stack([output, torch.zeros_like(output)], dim=1)

    def _prediction_loss(self, X_cf, y_target, output=None):
        """Return the prediction loss of the counterfactuals ``X_cf``.

        ``output`` is :meth:`model_output` on ``X_cf`` where the caller has
        it already (the GAN's step reuses it in the cycle loss).
        """
        if output is None:
            output = self.model_output(X_cf)
        return prediction_loss(output, y_target, self.task, self.prediction_margin)

    def sparsity(self, X, X_cf):
        """Return the sparsity loss: mean absolute change per original feature."""
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

    def _tensor(self, array):
        """Return ``array`` as a float32 tensor on the net's device.

        A float32 array on the CPU is shared, not copied: the modules never
        write into their inputs.
        """
        return torch.as_tensor(array, dtype=torch.float32, device=self.device)

    def _in_batches(self, function, arrays, batch_size):
        """Apply ``function`` to float32 tensors of ``arrays``, batch by batch."""
        out = None
        n = len(arrays[0])
        with torch.no_grad():
            for start in range(0, n, batch_size):
                rows = slice(start, start + batch_size)
                part = function(*(self._tensor(a[rows]) for a in arrays))
                part = part.cpu().numpy()
                if out is None:
                    out = np.empty((n, *part.shape[1:]), dtype=np.float32)
                out[rows] = part
        if out is None:
            return np.empty((0, arrays[0].shape[1]), dtype=np.float32)
        return out

    def inference_module(self):
        """Return the generator that answers :meth:`generate` (``module_`` here)."""
        return self.module_

    def generate(
        self,
        X,
        y_model,
        y_target,
        mask,
        noise=None,
        sample=False,
        generator=None,
        batch_size=4096,
    ):
        """Generate counterfactuals in batches, in evaluation mode, without gradients.

        Parameters
        ----------
        X : numpy.ndarray of shape (n, n_encoded)
            Encoded originals.
        y_model, y_target : numpy.ndarray of shape (n, n_condition)
            Conditioning vectors.
        mask : numpy.ndarray of shape (n, n_encoded)
            1 where an encoded column is frozen.
        noise : numpy.ndarray of shape (k * n, noise_width), optional
            The module's noise (``module_.noise_width`` wide); ``None`` is
            zeros: the deterministic answer ``transform`` uses. With ``k > 1``
            noise rows per original (candidate-major: row ``i`` of candidate
            ``j`` at ``j * n + i``) the answer has ``k * n`` rows, made by the
            module's
            :meth:`~cfexplain.backends.modules.CounterfactualModule.candidates`,
            which can share work between a row's candidates.
        sample : bool, default=False
            Gumbel-softmax sampling of one-hot spans instead of the argmax.
        generator : torch.Generator, optional
            Source of the Gumbel noise when sampling.
        batch_size : int, default=4096
            Counterfactuals per forward pass.

        Returns
        -------
        numpy.ndarray of float32, shape (n, n_encoded) or (k * n, n_encoded)
        """
        module = self.inference_module()
        module.eval()
        arrays = (X, y_model, y_target, mask)
        n = len(X)
        if noise is None or len(noise) == n:
            if noise is not None:
                arrays += (noise,)

            def forward(X, y_model, y_target, mask, noise=None):
                return module.counterfactual(
                    X,
                    y_model,
                    y_target,
                    mask,
                    noise,
                    sample=sample,
                    generator=generator,
                )

            return self._in_batches(forward, arrays, batch_size)
        k = len(noise) // n
        # Candidate-major views, cut into blocks of whole rows: each block
        # holds every candidate of its rows, so the module can share work
        # between them, and lands in place without a transpose.
        noise = np.asarray(noise, dtype=np.float32).reshape(k, n, -1)
        rows_per_pass = max(1, batch_size // k)
        out = None
        with torch.no_grad():
            for start in range(0, n, rows_per_pass):
                rows = slice(start, start + rows_per_pass)
                part = module.candidates(
                    *(self._tensor(a[rows]) for a in arrays),
                    self._tensor(noise[:, rows]),
                    sample,
                    generator,
                )
                part = part.reshape(k, part.shape[1], -1).cpu().numpy()
                if out is None:
                    out = np.empty((k, n, part.shape[2]), dtype=np.float32)
                out[:, rows] = part
        return out.reshape(k * n, -1)
