"""What every counterfactual module shares, and the method-level bases.

Every generator module answers one inference call,
:meth:`CounterfactualModule.counterfactual`, with the same signature, and
owns the shape of its noise (:attr:`CounterfactualModule.noise_width`): the
nets and the estimators never need to know which method or modality is
behind it.

:class:`ConditionalVAE` (paper 2) and :class:`PerturbationAutoencoder`
(paper 1, appendix B) hold the method; their subclasses in
:mod:`.tabular` and :mod:`.image` supply the bodies for a modality.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ._layers import SpanActivation, mlp

__all__ = [
    "ConditionalVAE",
    "CounterfactualModule",
    "PerturbationAutoencoder",
    "mixed_condition",
]


def mixed_condition(condition, target, mode, mix):
    """Return the condition a CVAE encodes and decodes a counterfactual with.

    Parameters
    ----------
    condition : torch.Tensor or numpy.ndarray of shape (n, k)
        ``c``: one-hot of the class the model predicts.
    target : same type and shape as ``condition``
        ``c'``: the target class (one-hot or soft).
    mode : {"enc-dec", "cond-mix"}
        Paper 2's ENC-DEC uses ``c'``; COND-MIX uses ``c* = c + mix * c'``
        (the paper adds them: ``mix=1``).
    mix : float
        Weight of ``c'`` in COND-MIX.

    Returns
    -------
    same type as ``condition``
    """
    if mode == "enc-dec":
        return target
    return condition + mix * target


class CounterfactualModule(nn.Module):
    """Base of the generator modules: one inference call, its own noise shape.

    Attributes
    ----------
    noise_width : int
        Width of the noise the module reads per row (0: none). Noise of
        zeros gives the deterministic answer.
    """

    noise_width = 0

    def counterfactual(
        self, X, y_model, y_target, mask=None, noise=None, sample=False, generator=None
    ):
        """Return encoded counterfactuals.

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_encoded)
            Encoded originals.
        y_model, y_target : torch.Tensor of shape (n, n_condition)
            The model's prediction (as a conditioning vector) and the target.
        mask : torch.Tensor of shape (n, n_encoded), optional
            1 where the encoded column must keep its original value.
        noise : torch.Tensor of shape (n, noise_width), optional
            ``None`` is zeros: the deterministic answer.
        sample : bool, default=False
            Gumbel-softmax sampling of one-hot spans instead of the argmax.
        generator : torch.Generator, optional
            Source of the Gumbel noise.

        Returns
        -------
        torch.Tensor of shape (n, n_encoded)
        """
        raise NotImplementedError

    def candidates(
        self, X, y_model, y_target, mask, noise, sample=False, generator=None
    ):
        """Return ``k`` counterfactuals per row, one per noise draw.

        Parameters
        ----------
        X, y_model, y_target, mask : torch.Tensor
            As for :meth:`counterfactual`, one row per original.
        noise : torch.Tensor of shape (k, n, noise_width)
            The draws of each candidate.
        sample : bool, default=False
            Gumbel-softmax sampling of one-hot spans.
        generator : torch.Generator, optional
            Source of the Gumbel noise.

        Returns
        -------
        torch.Tensor of shape (k, n, n_encoded)
            Candidate ``j`` of row ``i`` at ``[j, i]``. This default repeats
            the inputs; a module that can share work between a row's
            candidates overrides it.
        """
        k, n = noise.shape[:2]

        def repeat(tensor):
            return tensor.repeat(k, *([1] * (tensor.ndim - 1)))

        out = self.counterfactual(
            repeat(X),
            repeat(y_model),
            repeat(y_target),
            None if mask is None else repeat(mask),
            noise.reshape(k * n, -1),
            sample=sample,
            generator=generator,
        )
        return out.reshape(k, n, -1)

    @staticmethod
    def keep_frozen(X, generated, mask):
        """Copy the frozen columns of ``X`` into ``generated`` (if ``mask``)."""
        if mask is None:
            return generated
        return mask * X + (1 - mask) * generated


def _code(mean, log_variance, noise):
    """Return the latent code ``mean + noise * sigma`` (the mean without noise)."""
    if noise is None:
        return mean
    return mean + noise * torch.exp(0.5 * log_variance)


class ConditionalVAE(CounterfactualModule):
    """Paper 2's conditional VAE; a modality supplies its feature and decoder bodies.

    ``E(x, c) -> (mu, log sigma^2)`` reads ``features(x)`` concatenated
    with ``c``; ``D(z, c) -> scores`` is ``decoder([z, c])``; the scores get
    the layout's activations. Its noise is the latent draw
    (``noise_width = latent_dim``).

    Parameters
    ----------
    layout : FeatureLayout
        The encoder's description of the encoded vector.
    n_condition : int
        Width of the condition ``c`` (number of classes).
    latent_dim : int
        Width of the latent code ``z``.
    hidden_sizes : tuple of int
        Widths between ``[features(x), c]`` and the latent code.
    features : torch.nn.Module
        Maps encoded rows to a vector of ``n_features``.
    n_features : int
        Width of that vector.
    decoder : torch.nn.Module
        Maps ``[z, c]`` to encoded scores.
    mode : {"enc-dec", "cond-mix"}, default="enc-dec"
        How :meth:`counterfactual` conditions (paper 2, sections 4.1-4.2).
    mix : float, default=1.0
        Weight of the target in COND-MIX's ``c + mix * c'``.
    """

    def __init__(
        self,
        layout,
        n_condition,
        latent_dim,
        hidden_sizes,
        *,
        features,
        n_features,
        decoder,
        mode="enc-dec",
        mix=1.0,
    ):
        super().__init__()
        hidden_sizes = tuple(hidden_sizes)
        self.noise_width = latent_dim
        self.mode = mode
        self.mix = mix
        self.features = features
        self.decoder = decoder
        self.joint = mlp(n_features + n_condition, hidden_sizes[:-1], hidden_sizes[-1])
        self.mean = nn.Linear(hidden_sizes[-1], latent_dim)
        self.log_variance = nn.Linear(hidden_sizes[-1], latent_dim)
        self.activation = SpanActivation(layout)

    def encode(self, X, condition):
        """Return the posterior's mean and log-variance, each ``(n, latent_dim)``.

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_encoded)
        condition : torch.Tensor of shape (n, n_condition)

        Returns
        -------
        tuple of torch.Tensor
        """
        hidden = F.relu(self.joint(torch.cat([self.features(X), condition], dim=1)))
        return self.mean(hidden), self.log_variance(hidden).clamp(-10.0, 10.0)

    def decode(self, Z, condition):
        """Return the decoder's raw scores, ``(n, n_encoded)``.

        Parameters
        ----------
        Z : torch.Tensor of shape (n, latent_dim)
        condition : torch.Tensor of shape (n, n_condition)

        Returns
        -------
        torch.Tensor
        """
        return self.decoder(torch.cat([Z, condition], dim=1))

    def forward(self, X, condition, noise):
        """Reconstruct ``X`` through a sampled code (training).

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_encoded)
        condition : torch.Tensor of shape (n, n_condition)
        noise : torch.Tensor of shape (n, latent_dim)
            Standard normal draws of the reparametrisation.

        Returns
        -------
        scores, mean, log_variance : torch.Tensor
        """
        mean, log_variance = self.encode(X, condition)
        scores = self.decode(_code(mean, log_variance, noise), condition)
        return scores, mean, log_variance

    def counterfactual(
        self, X, y_model, y_target, mask=None, noise=None, sample=False, generator=None
    ):
        """Encode and decode ``X`` under the target (ENC-DEC) or mixed condition.

        ``y_model`` is ``c``, the one-hot of the model's class; ``noise``
        the standard normal latent draw (``None``: the posterior mean). See
        :meth:`CounterfactualModule.counterfactual` for the rest.
        """
        condition = mixed_condition(y_model, y_target, self.mode, self.mix)
        mean, log_variance = self.encode(X, condition)
        Z = _code(mean, log_variance, noise)
        generated = self.activation(self.decode(Z, condition), sample, generator)
        return self.keep_frozen(X, generated, mask)

    def candidates(
        self, X, y_model, y_target, mask, noise, sample=False, generator=None
    ):
        """Decode ``k`` latent draws per row, encoding each row once.

        See :meth:`CounterfactualModule.candidates`; a row's candidates share
        its posterior, so the encoder runs on ``n`` rows, not ``k * n``.
        """
        k, n = noise.shape[:2]
        condition = mixed_condition(y_model, y_target, self.mode, self.mix)
        mean, log_variance = self.encode(X, condition)
        Z = (mean + noise * torch.exp(0.5 * log_variance)).reshape(k * n, -1)
        conditions = condition.repeat(k, 1)
        scores = self.decode(Z, conditions)
        generated = self.activation(scores, sample, generator)
        if mask is not None:
            generated = self.keep_frozen(X.repeat(k, 1), generated, mask.repeat(k, 1))
        return generated.reshape(k, n, -1)


class PerturbationAutoencoder(CounterfactualModule):
    """Paper 1's autoencoder generator, ``x_CF = x + D(E(x), y_M, y_T)``.

    A modality supplies the encoder and decoder bodies and says, in
    :meth:`decoder_input` and :meth:`apply_change`, what the decoder reads
    and how its change is added. The decoder's last layer starts at zero, so
    the untrained network returns its input and learns only the change. It
    reads no noise.

    Parameters
    ----------
    layout : FeatureLayout
        The encoder's description of the encoded vector.
    encoder : torch.nn.Module
        Maps encoded rows to ``h = E(x)``.
    decoder : torch.nn.Module
        Maps :meth:`decoder_input` to the change.
    last_layer : torch.nn.Module
        The decoder's last layer (zero-initialised here).
    tau : float, default=0.2
        Gumbel-softmax temperature of the one-hot spans.
    one_hot_logit : float, default=4.0
        Head start of the original category in each one-hot span.
    """

    def __init__(
        self, layout, *, encoder, decoder, last_layer, tau=0.2, one_hot_logit=4.0
    ):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        nn.init.zeros_(last_layer.weight)
        nn.init.zeros_(last_layer.bias)
        self.one_hot_logit = one_hot_logit
        self.activation = SpanActivation(layout, tau)

    def decoder_input(self, hidden, y_model, y_target, mask):
        """Return what the decoder reads: ``[h, y_M, y_T]`` unless overridden."""
        return torch.cat([hidden, y_model, y_target], dim=1)

    def apply_change(self, X, change, sample, generator):
        """Return the counterfactual for a change; subclasses define it."""
        raise NotImplementedError

    def forward(self, X, y_model, y_target, mask=None, sample=True, generator=None):
        """Return encoded counterfactuals (training samples one-hots by default).

        See :meth:`CounterfactualModule.counterfactual` for the parameters.
        """
        hidden = F.relu(self.encoder(X))
        change = self.decoder(self.decoder_input(hidden, y_model, y_target, mask))
        generated = self.apply_change(X, change, sample, generator)
        return self.keep_frozen(X, generated, mask)

    def counterfactual(
        self, X, y_model, y_target, mask=None, noise=None, sample=False, generator=None
    ):
        """Return encoded counterfactuals; ``noise`` is ignored (there is none)."""
        return self.forward(X, y_model, y_target, mask, sample, generator)
