"""skorch nets that train the autoencoder-based counterfactual generators.

Both have one optimizer, so they keep skorch's ``train_step`` (gradient
accumulation, ``on_grad_computed`` callbacks such as gradient clipping) and
only compute their losses in :meth:`train_step_single`.
"""

from __future__ import annotations

import numpy as np
import torch

from ._nets import CounterfactualNet
from .losses import kl_divergence, mmd_loss, reconstruction_loss
from .sampling import sample_targets

__all__ = ["CVAENet", "PerturbationNet", "mixed_condition"]


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


class CVAENet(CounterfactualNet):
    """skorch net for paper 2's conditional VAE.

    The loss is the reconstruction's negative log-likelihood plus
    ``kl_weight`` times the KL divergence of the posterior from N(0, I). With
    ``prediction_weight > 0`` and a ``predictor_module``, each batch also
    makes counterfactuals for sampled targets (ENC-DEC or COND-MIX, as at
    explain time, with Gumbel-softmax one-hots) and adds the prediction loss:
    guidance beyond the paper.

    Parameters
    ----------
    module : type of torch.nn.Module
        The CVAE class (:class:`~cfexplain.backends.autoencoders.ConditionalVAE`).
    layout : FeatureLayout
        The encoder's description of the encoded vector.
    kl_weight : float
        Weight of the KL term (1 is the evidence lower bound).
    latent_dim : int
        Width of the latent code.
    mode : {"enc-dec", "cond-mix"}
        How counterfactuals are made for the prediction loss.
    mix : float
        Weight of the target in COND-MIX.
    **kwargs
        The parameters of :class:`~cfexplain.backends._nets.CounterfactualNet`
        and of :class:`skorch.NeuralNet`.
    """

    def __init__(
        self,
        module,
        *args,
        layout,
        kl_weight=1.0,
        latent_dim=16,
        mode="cond-mix",
        mix=1.0,
        **kwargs,
    ):
        self.layout = layout
        self.kl_weight = kl_weight
        self.latent_dim = latent_dim
        self.mode = mode
        self.mix = mix
        super().__init__(module, *args, **kwargs)

    def train_step_single(self, batch, **fit_params):
        """Compute the CVAE's loss on one batch and its gradients.

        Parameters
        ----------
        batch : tuple
            ``(Xi, yi)``; ``Xi`` holds the encoded rows ``"X"`` and the
            conditions ``"y_model"`` (one-hot classes).
        **fit_params : dict
            Unused.

        Returns
        -------
        dict
            ``{"loss": loss, "y_pred": reconstruction scores}``.
        """
        self._set_training(True)
        X, condition = self._tensors(batch)
        n = X.shape[0]
        cvae = self.module_
        scores, mean, log_variance = cvae(
            X, condition, self._randn(n, self.latent_dim)
        )
        loss_rec = reconstruction_loss(scores, X, self.layout).mean()
        loss_kl = kl_divergence(mean, log_variance).mean()
        loss = loss_rec + self.kl_weight * loss_kl
        losses = {"reconstruction_loss": loss_rec.item(), "kl_loss": loss_kl.item()}
        if self.prediction_weight > 0 and self.predictor_module_ is not None:
            g = self.sampling_generator_
            target = sample_targets(condition, self.task, generator=g)
            X_cf = cvae.counterfactual(
                X,
                mixed_condition(condition, target, self.mode, self.mix),
                noise=self._randn(n, self.latent_dim),
                sample=True,
                generator=g,
            )
            loss_pred = self._prediction_loss(X_cf, target)
            loss = loss + self.prediction_weight * loss_pred
            losses["prediction_loss"] = loss_pred.item()
        self._record(loss, losses)
        loss.backward()
        return {"loss": loss, "y_pred": scores}

    def counterfactuals(self, X, condition, noise=None, batch_size=4096):
        """Decode ``X`` under conditions, without gradients.

        Parameters
        ----------
        X : numpy.ndarray of shape (n, n_encoded)
            Encoded originals.
        condition : numpy.ndarray of shape (n, n_condition)
            The (mixed) condition of each row.
        noise : numpy.ndarray of shape (n, latent_dim), optional
            Latent draws; ``None`` decodes the posterior mean.
        batch_size : int, default=4096
            Rows per forward pass.

        Returns
        -------
        numpy.ndarray of float32, shape (n, n_encoded)
        """
        cvae = self.module_
        cvae.eval()
        if noise is None:
            return self._in_batches(cvae.counterfactual, (X, condition), batch_size)
        return self._in_batches(cvae.counterfactual, (X, condition, noise), batch_size)


class PerturbationNet(CounterfactualNet):
    r"""skorch net for paper 1's autoencoder generator (appendix B).

    The loss is :math:`w_M L_M + w_{l_1} L_{l_1} + w_\chi
    \mathrm{MMD}(x_{CF}, x_{\in T})`: prediction and sparsity as for the
    GAN, and the MMD between each batch's counterfactuals of a target class
    and as many training rows that the model predicts as that class (all
    training rows for regression), weighted by the class's share of the batch.

    Parameters
    ----------
    module : type of torch.nn.Module
        The autoencoder class
        (:class:`~cfexplain.backends.autoencoders.PerturbationAutoencoder`).
    mmd_weight : float
        :math:`w_\chi`.
    **kwargs
        The parameters of :class:`~cfexplain.backends._nets.CounterfactualNet`
        and of :class:`skorch.NeuralNet`.

    Notes
    -----
    ``fit`` takes the reference rows as fit parameters: ``net.fit(data, None,
    reference_rows=Xt, reference_labels=labels)`` with the encoded training
    rows and the model's class of each (zeros for regression). They are not
    stored on the net, so pickles stay small.
    """

    def __init__(self, module, *args, mmd_weight=1.0, **kwargs):
        self.mmd_weight = mmd_weight
        super().__init__(module, *args, **kwargs)

    def _class_mmd(self, X_cf, target, reference_rows, reference_labels):
        if self.task == "classification":
            labels = target.argmax(dim=1).cpu().numpy()
        else:
            labels = np.zeros(len(X_cf), dtype=np.int64)
        rng = self.sampling_generator_
        total = X_cf.new_zeros(())
        for label in np.unique(labels):
            rows = np.flatnonzero(labels == label)
            pool = np.flatnonzero(reference_labels == label)
            if len(rows) < 2 or len(pool) < 2:
                continue
            picks = pool[torch.randint(len(pool), (len(rows),), generator=rng).numpy()]
            real = torch.as_tensor(reference_rows[picks], device=X_cf.device)
            total = total + len(rows) / len(labels) * mmd_loss(X_cf[rows], real)
        return total

    def train_step_single(self, batch, reference_rows=None, reference_labels=None):
        """Compute the autoencoder's loss on one batch and its gradients.

        Parameters
        ----------
        batch : tuple
            ``(Xi, yi)``; ``Xi`` holds the encoded rows ``"X"`` and the
            model's predictions ``"y_model"``.
        reference_rows : numpy.ndarray of shape (m, n_encoded)
            Encoded training rows for the MMD term.
        reference_labels : numpy.ndarray of int, shape (m,)
            The model's class of each reference row.

        Returns
        -------
        dict
            ``{"loss": loss, "y_pred": counterfactuals}``.
        """
        self._set_training(True)
        X, y_model = self._tensors(batch)
        g = self.sampling_generator_
        y_target = sample_targets(y_model, self.task, generator=g)
        mask = self._sample_frozen(X.shape[0])
        X_cf = self.module_(X, y_model, y_target, mask, sample=True, generator=g)
        loss_pred = self._prediction_loss(X_cf, y_target)
        loss_l1 = self._sparsity_loss(X, X_cf)
        loss_mmd = self._class_mmd(X_cf, y_target, reference_rows, reference_labels)
        loss = (
            self.prediction_weight * loss_pred
            + self.sparsity_weight * loss_l1
            + self.mmd_weight * loss_mmd
        )
        self._record(
            loss,
            {
                "prediction_loss": loss_pred.item(),
                "sparsity_loss": loss_l1.item(),
                "mmd_loss": loss_mmd.item(),
            },
        )
        loss.backward()
        return {"loss": loss, "y_pred": X_cf}

    def generate(self, X, y_model, y_target, mask, sample=False, generator=None):
        """Generate counterfactuals in batches, without gradients.

        Parameters
        ----------
        X : numpy.ndarray of shape (n, n_encoded)
            Encoded originals.
        y_model, y_target : numpy.ndarray of shape (n, n_condition)
            Conditioning vectors.
        mask : numpy.ndarray of shape (n, n_encoded)
            1 where an encoded column is frozen.
        sample : bool, default=False
            Gumbel-softmax sampling of one-hot spans instead of the argmax.
        generator : torch.Generator, optional
            Source of the Gumbel noise when sampling.

        Returns
        -------
        numpy.ndarray of float32, shape (n, n_encoded)
        """
        return self._generate_in_batches(
            (X, y_model, y_target, mask), sample, generator, batch_size=4096
        )
