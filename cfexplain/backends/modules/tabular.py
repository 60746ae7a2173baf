"""Torch modules for tables, on rows encoded by a ``TabularEncoder``.

* :class:`TabularGenerator` and :class:`TabularDiscriminator`: paper 1's
  counterfactual GAN with CTGAN's architectures (section 3.4, appendix A.3).
  Paper 1 conditions both on the model's outputs: the generator reads the
  encoded instance ``x``, the model's prediction ``y_M``, the target ``y_T``
  and noise ``z``; the discriminator reads a row with ``y_M`` (real rows) or
  ``y_T`` (counterfactuals).
* :class:`TabularCVAE`: paper 2's CVAE with TVAE's MLP bodies.
* :class:`TabularPerturbationAE`: paper 1's appendix-B autoencoder, adding
  its change to the scores that reproduce ``x`` so one-hots stay one-hot.

Our one addition is the *frozen-feature mask*: the generators also read which
encoded columns must keep their value, and their output copies those columns
from ``x``. Trained on random masks, they learn to reach the target with any
subset of features frozen, so users can declare immutable features at
explain time without retraining.
"""

from __future__ import annotations

import torch
from torch import nn

from ._base import ConditionalVAE, CounterfactualModule, PerturbationAutoencoder
from ._layers import (
    ResidualLayer,
    SpanActivation,
    UniformDropout,
    mlp,
    mlp_inference,
    residual_stack_inference,
)

__all__ = [
    "TabularCVAE",
    "TabularDiscriminator",
    "TabularGenerator",
    "TabularPerturbationAE",
]


class TabularGenerator(CounterfactualModule):
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
        self.noise_width = noise_dim
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

    def forward(
        self, X, y_model, y_target, mask=None, noise=None, sample=True, generator=None
    ):
        """Generate counterfactuals in the encoded space.

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_encoded)
            Encoded originals.
        y_model, y_target : torch.Tensor of shape (n, n_condition)
            The model's prediction and the target.
        mask : torch.Tensor of shape (n, n_encoded), optional
            1 where the encoded column must keep its original value; ``None``
            frees every column.
        noise : torch.Tensor of shape (n, noise_width), optional
            Noise ``z``; ``None`` (zeros) gives the deterministic answer.
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
        if self.training or torch.is_grad_enabled():
            if mask is None:
                mask = torch.zeros_like(X)
            if noise is None:
                noise = X.new_zeros((X.shape[0], self.noise_width))
            hidden = self.body(torch.cat([X, y_model, y_target, noise, mask], dim=1))
            scores = self.head(hidden)
        else:
            # transform's path: the same function without its copies, and
            # without the zero noise and free mask.
            n_data = X.shape[1]
            free = mask is None or not bool(mask.any())
            scores = residual_stack_inference(
                self.body,
                self.head,
                [
                    X,
                    y_model,
                    y_target,
                    self.noise_width if noise is None else noise,
                    n_data if free else mask,
                ],
            )
            if free:
                mask = None
        scores = scores + self.activation.prior(X, self.one_hot_logit)
        generated = self.activation(scores, sample, generator)
        return self.keep_frozen(X, generated, mask)

    def counterfactual(
        self, X, y_model, y_target, mask=None, noise=None, sample=False, generator=None
    ):
        """Return encoded counterfactuals (argmax one-hots unless ``sample``).

        See :meth:`CounterfactualModule.counterfactual`.
        """
        return self.forward(X, y_model, y_target, mask, noise, sample, generator)


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
        Dropout after each hidden layer, as CTGAN (``UniformDropout``: the
        same layer, its mask drawn faster on a CPU).
    """

    def __init__(self, n_data, n_condition, hidden_sizes, dropout=0.5):
        super().__init__()
        layers = []
        width = n_data + n_condition
        for size in hidden_sizes:
            layers += [
                nn.Linear(width, size),
                nn.LeakyReLU(0.2),
                UniformDropout(dropout),
            ]
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


class TabularCVAE(ConditionalVAE):
    """Paper 2's CVAE on encoded table rows, with TVAE's MLP bodies.

    The encoder reads ``[x, c]`` through ``hidden_sizes`` (TVAE: (128,
    128)); the decoder mirrors it from ``[z, c]``.

    Parameters
    ----------
    layout : FeatureLayout
        The encoder's description of the encoded vector.
    n_condition : int
        Number of classes.
    latent_dim : int
        Width of the latent code.
    hidden_sizes : tuple of int
        Encoder widths; the decoder uses them reversed.
    mode : {"enc-dec", "cond-mix"}, default="enc-dec"
        How counterfactuals are conditioned.
    mix : float, default=1.0
        Weight of the target in COND-MIX.
    """

    def __init__(
        self, layout, n_condition, latent_dim, hidden_sizes, mode="enc-dec", mix=1.0
    ):
        n_data = layout.n_columns
        hidden_sizes = tuple(hidden_sizes)
        super().__init__(
            layout,
            n_condition,
            latent_dim,
            hidden_sizes,
            features=nn.Identity(),
            n_features=n_data,
            decoder=mlp(latent_dim + n_condition, hidden_sizes[::-1], n_data),
            mode=mode,
            mix=mix,
        )


class TabularPerturbationAE(PerturbationAutoencoder):
    """Paper 1's appendix-B autoencoder on encoded table rows.

    The decoder also reads the frozen-column mask (as the GAN's generator
    does); its change is added to the scores that map back to ``x``
    (:meth:`~cfexplain.backends.modules.SpanActivation.prior`) and each span
    gets its activation, so one-hot blocks stay one-hot.

    Parameters
    ----------
    layout : FeatureLayout
        The encoder's description of the encoded vector.
    n_condition : int
        Width of ``y_M`` and ``y_T``.
    latent_dim : int
        Width of ``h = E(x)``.
    hidden_sizes : tuple of int
        Encoder widths; the decoder uses them reversed.
    tau : float, default=0.2
        Gumbel-softmax temperature of the one-hot spans.
    one_hot_logit : float, default=4.0
        Head start of the original category in each one-hot span.
    """

    def __init__(
        self, layout, n_condition, latent_dim, hidden_sizes, tau=0.2, one_hot_logit=4.0
    ):
        n_data = layout.n_columns
        hidden_sizes = tuple(hidden_sizes)
        # Encoder first: the order the weights are drawn in, kept from the
        # benchmarked version so seeds reproduce its figures.
        encoder = mlp(n_data, hidden_sizes, latent_dim)
        decoder = mlp(latent_dim + 2 * n_condition + n_data, hidden_sizes[::-1], n_data)
        super().__init__(
            layout,
            encoder=encoder,
            decoder=decoder,
            last_layer=decoder[-1],
            tau=tau,
            one_hot_logit=one_hot_logit,
        )

    def decoder_input(self, hidden, y_model, y_target, mask):
        """Return ``[h, y_M, y_T, mask]``."""
        if mask is None:
            mask = hidden.new_zeros((hidden.shape[0], self.activation.layout.n_columns))
        return torch.cat([hidden, y_model, y_target, mask], dim=1)

    def apply_change(self, X, change, sample, generator):
        """Add the change to ``x``'s scores and apply each span's activation."""
        scores = change + self.activation.prior(X, self.one_hot_logit)
        return self.activation(scores, sample, generator)

    def forward(self, X, y_model, y_target, mask=None, sample=True, generator=None):
        """Return encoded counterfactuals; see :meth:`PerturbationAutoencoder.forward`.

        Without gradients in evaluation mode (``transform``) the same
        function runs without its copies (:func:`mlp_inference`), and an
        all-free mask is skipped instead of multiplied.
        """
        if self.training or torch.is_grad_enabled():
            return super().forward(X, y_model, y_target, mask, sample, generator)
        free = mask is None or not bool(mask.any())
        hidden = mlp_inference(self.encoder, [X]).relu_()
        change = mlp_inference(
            self.decoder,
            [hidden, y_model, y_target, X.shape[1] if free else mask],
        )
        generated = self.apply_change(X, change, sample, generator)
        return self.keep_frozen(X, generated, None if free else mask)
