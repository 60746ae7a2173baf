"""Networks of the tabular counterfactual generators (pure torch).

The tabular GAN reuses CTGAN's architectures (Xu et al. 2019; paper 1,
section 3.4 and appendix A.3): a generator of residual fully connected layers
with batch normalisation, and a discriminator of LeakyReLU layers with
dropout. Paper 1 conditions both on the model's outputs: the generator reads
the encoded instance ``x``, the model's prediction ``y_M``, the target
``y_T`` and noise ``z``; the discriminator reads a row together with ``y_M``
(real rows) or ``y_T`` (counterfactuals).

Our one addition is the *frozen-feature mask*: the generator also reads which
encoded columns must keep their value, and its output copies those columns
from ``x``. Trained on random masks, it learns to reach the target with any
subset of features frozen, so users can declare immutable features at
explain time without retraining.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..preprocessing._layout import FeatureLayout

__all__ = [
    "NumericValues",
    "ResidualLayer",
    "SpanActivation",
    "TabularDiscriminator",
    "TabularGenerator",
]


class ResidualLayer(nn.Module):
    """CTGAN's residual block: ``concat(ReLU(BN(Linear(x))), x)``.

    Parameters
    ----------
    n_inputs : int
        Input width.
    n_outputs : int
        Width of the new features; the block outputs ``n_inputs + n_outputs``.
    """

    def __init__(self, n_inputs, n_outputs):
        super().__init__()
        self.fc = nn.Linear(n_inputs, n_outputs)
        self.bn = nn.BatchNorm1d(n_outputs)

    def forward(self, X):
        """Apply the block.

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_inputs)

        Returns
        -------
        torch.Tensor of shape (n, n_inputs + n_outputs)
        """
        return torch.cat([F.relu(self.bn(self.fc(X))), X], dim=1)


class SpanActivation(nn.Module):
    """Map raw generator scores to the encoder's range, span by span.

    Continuous spans get their layout activation (``tanh`` for mode-specific
    scalars as in CTGAN, ``sigmoid`` for min-max scaled values, identity for
    standardised ones). One-hot spans get a Gumbel-softmax with temperature
    ``tau`` (CTGAN uses 0.2) while training, made hard with the
    straight-through estimator, so that the forward pass holds exact one-hots
    that decode without ambiguity while gradients flow through the soft
    sample. Without sampling (``sample=False``, used by ``transform``) a
    one-hot span is the hard argmax of its scores: deterministic.

    Parameters
    ----------
    layout : FeatureLayout
        The encoder's description of the encoded vector.
    tau : float, default=0.2
        Gumbel-softmax temperature.
    """

    def __init__(self, layout: FeatureLayout, tau: float = 0.2):
        super().__init__()
        self.layout = layout
        self.tau = tau

    def forward(self, scores, sample=True, generator=None):
        """Apply each span's activation.

        Parameters
        ----------
        scores : torch.Tensor of shape (n, n_encoded)
            Raw generator output.
        sample : bool, default=True
            Whether one-hot spans draw a Gumbel-softmax sample; otherwise they
            take the argmax.
        generator : torch.Generator, optional
            Source of the Gumbel noise, for reproducible sampling.

        Returns
        -------
        torch.Tensor of shape (n, n_encoded)
        """
        parts = []
        for span in self.layout.spans:
            block = scores[:, span.start : span.stop]
            if span.activation == "tanh":
                parts.append(torch.tanh(block))
            elif span.activation == "sigmoid":
                parts.append(torch.sigmoid(block))
            elif span.activation == "identity":
                parts.append(block)
            else:
                parts.append(self._one_hot(block, sample, generator))
        return torch.cat(parts, dim=1)

    def prior(self, X, one_hot_logit=4.0):
        """Return the scores that this activation maps back to ``X``.

        The generator adds them to its output scores, so that a zero output
        reproduces the original row: a continuous value goes through the
        inverse of its activation, a one-hot block becomes logits favouring
        the original category by ``one_hot_logit``. Keeping a feature is then
        the default and changing it is what the generator must learn, which
        is what sparse counterfactuals need.

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_encoded)
            Encoded rows.
        one_hot_logit : float, default=4.0
            Logit of the original category over the others.

        Returns
        -------
        torch.Tensor of shape (n, n_encoded)
        """
        parts = []
        for span in self.layout.spans:
            block = X[:, span.start : span.stop]
            if span.activation == "tanh":
                parts.append(torch.atanh(block.clamp(-1 + 1e-6, 1 - 1e-6)))
            elif span.activation == "sigmoid":
                parts.append(torch.logit(block.clamp(1e-6, 1 - 1e-6)))
            elif span.activation == "identity":
                parts.append(block)
            else:
                parts.append(one_hot_logit * block)
        return torch.cat(parts, dim=1)

    def _one_hot(self, logits, sample, generator):
        if not sample and not torch.is_grad_enabled():
            # Inference: only the argmax matters, skip the softmax.
            return F.one_hot(logits.argmax(dim=1), logits.shape[1]).to(logits.dtype)
        if sample:
            # Drawn on the CPU, where the seeded generator lives, then moved.
            uniform = (
                torch.rand(logits.shape, generator=generator)
                .clamp_(1e-10, 1 - 1e-10)
                .to(logits.device)
            )
            logits = logits - torch.log(-torch.log(uniform))
            soft = torch.softmax(logits / self.tau, dim=1)
        else:
            soft = torch.softmax(logits, dim=1)
        hard = F.one_hot(soft.argmax(dim=1), soft.shape[1]).to(soft.dtype)
        # Straight-through: the value is the hard one-hot, the gradient the soft's.
        return hard + soft - soft.detach()


class TabularGenerator(nn.Module):
    """CTGAN's generator, conditioned as paper 1's ``G_CF(x, y_M, y_T, z)``.

    Parameters
    ----------
    layout : FeatureLayout
        The encoder's description of the encoded vector.
    n_condition : int
        Width of ``y_M`` and of ``y_T`` (number of classes, or 2 for
        regression: value and interval half-width).
    noise_dim : int
        Width of the noise ``z``.
    hidden_sizes : tuple of int
        Widths of the residual layers; CTGAN uses (256, 256).
    tau : float
        Gumbel-softmax temperature of the one-hot spans.
    one_hot_logit : float, default=4.0
        Head start of the original category in each one-hot span.

    Notes
    -----
    The input is ``[x, y_M, y_T, z, mask]`` where ``mask`` marks the frozen
    encoded columns; the output is ``mask * x + (1 - mask) * G(...)``.
    """

    def __init__(
        self, layout, n_condition, noise_dim, hidden_sizes, tau=0.2, one_hot_logit=4.0
    ):
        super().__init__()
        n_data = layout.n_columns
        self.noise_dim = noise_dim
        width = 2 * n_data + 2 * n_condition + noise_dim
        blocks = []
        for size in hidden_sizes:
            blocks.append(ResidualLayer(width, size))
            width += size
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(width, n_data)
        # The head starts at zero, so the untrained generator returns its input.
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.one_hot_logit = one_hot_logit
        self.activation = SpanActivation(layout, tau)

    def forward(self, X, y_model, y_target, noise, mask, sample=True, generator=None):
        """Generate counterfactuals in the encoded space.

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_encoded)
            Encoded originals.
        y_model, y_target : torch.Tensor of shape (n, n_condition)
            The model's prediction and the target.
        noise : torch.Tensor of shape (n, noise_dim)
            Noise ``z``; zeros give the deterministic answer.
        mask : torch.Tensor of shape (n, n_encoded)
            1 where the encoded column must keep its original value.
        sample : bool, default=True
            Gumbel-softmax sampling of one-hot spans (training, explain) or
            argmax (transform).
        generator : torch.Generator, optional
            Source of the Gumbel noise.

        Returns
        -------
        torch.Tensor of shape (n, n_encoded)
            Encoded counterfactuals.
        """
        hidden = self.body(torch.cat([X, y_model, y_target, noise, mask], dim=1))
        scores = self.head(hidden) + self.activation.prior(X, self.one_hot_logit)
        generated = self.activation(scores, sample, generator)
        return mask * X + (1 - mask) * generated


class TabularDiscriminator(nn.Module):
    """CTGAN's discriminator, conditioned on a prediction vector (paper 1, eq. 5).

    Parameters
    ----------
    n_data : int
        Width of the encoded rows.
    n_condition : int
        Width of the condition (``y_M`` for real rows, ``y_T`` for
        counterfactuals).
    hidden_sizes : tuple of int
        Widths of the hidden layers; CTGAN uses (256, 256).
    dropout : float, default=0.5
        Dropout after each hidden layer, as CTGAN.
    """

    def __init__(self, n_data, n_condition, hidden_sizes, dropout=0.5):
        super().__init__()
        layers = []
        width = n_data + n_condition
        for size in hidden_sizes:
            layers += [nn.Linear(width, size), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, 1))
        self.layers = nn.Sequential(*layers)

    def forward(self, X, condition):
        """Score rows: higher means more like a real row of that condition.

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_data)
            Encoded rows.
        condition : torch.Tensor of shape (n, n_condition)
            The prediction vector the row is paired with.

        Returns
        -------
        torch.Tensor of shape (n,)
            Unbounded scores (hinge loss).
        """
        return self.layers(torch.cat([X, condition], dim=1))[:, 0]


class NumericValues(nn.Module):
    """Read numerical features off encoded rows, standardised, differentiably.

    Built from the encoder's :class:`~cfexplain.preprocessing.NumericDecoding`
    maps; with straight-through one-hot mode blocks the decoded value has a
    gradient with respect to both the scalar and the mode scores.

    Parameters
    ----------
    decodings : sequence of NumericDecoding
        One per numerical feature.
    stds : sequence of float
        Standard deviation of each feature in the training data; values are
        divided by it, so a change of one standard deviation counts 1.
    """

    def __init__(self, decodings, stds):
        super().__init__()
        self.decodings = tuple(decodings)
        for i, (decoding, std) in enumerate(zip(self.decodings, stds, strict=True)):
            scale = float(std) if std > 0 else 1.0
            self.register_buffer(
                f"scales_{i}",
                torch.tensor(decoding.scales, dtype=torch.float32) / scale,
            )
            self.register_buffer(
                f"offsets_{i}",
                torch.tensor(decoding.offsets, dtype=torch.float32) / scale,
            )

    def forward(self, X):
        """Return the standardised values, shape ``(n, n_numerical)``.

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_encoded)
            Encoded rows.

        Returns
        -------
        torch.Tensor
        """
        columns = []
        for i, decoding in enumerate(self.decodings):
            scales = getattr(self, f"scales_{i}")
            offsets = getattr(self, f"offsets_{i}")
            scalar = X[:, decoding.scalar_column]
            if decoding.mode_start is None:
                columns.append(scalar * scales[0] + offsets[0])
                continue
            modes = X[:, decoding.mode_start : decoding.mode_stop]
            columns.append(scalar * (modes @ scales) + modes @ offsets)
        return torch.stack(columns, dim=1)
