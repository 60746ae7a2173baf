"""skorch net for paper 2's conditional VAE.

It has one optimizer, so it keeps skorch's ``train_step`` (gradient
accumulation, ``on_grad_computed`` callbacks such as gradient clipping) and
only computes its loss in :meth:`CVAENet.train_step_single`.
"""

from __future__ import annotations

from ..losses import kl_divergence, reconstruction_loss
from ..sampling import sample_targets
from ._base import CounterfactualNet

__all__ = ["CVAENet"]


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
    module : type of ConditionalVAE
        The CVAE class of the modality (``TabularCVAE``, ``ImageCVAE``); its
        ``mode`` and ``mix`` say how counterfactuals are conditioned.
    layout : FeatureLayout
        The encoder's description of the encoded vector.
    kl_weight : float
        Weight of the KL term (1 is the evidence lower bound).
    **kwargs
        The parameters of :class:`~cfexplain.backends.nets.CounterfactualNet`
        and of :class:`skorch.NeuralNet`.
    """

    def __init__(self, module, *args, layout, kl_weight=1.0, **kwargs):
        self.layout = layout
        self.kl_weight = kl_weight
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
        noise = self._randn(n, cvae.noise_width)
        scores, mean, log_variance = cvae(X, condition, noise)
        loss_rec = reconstruction_loss(scores, X, self.layout).mean()
        loss_kl = kl_divergence(mean, log_variance).mean()
        loss = loss_rec + self.kl_weight * loss_kl
        losses = {"reconstruction_loss": loss_rec.item(), "kl_loss": loss_kl.item()}
        if self.prediction_weight > 0 and self.predictor_module_ is not None:
            g = self.sampling_generator_
            target = sample_targets(condition, self.task, generator=g)
            X_cf = cvae.counterfactual(
                X,
                condition,
                target,
                noise=self._randn(n, cvae.noise_width),
                sample=True,
                generator=g,
            )
            loss_pred = self._prediction_loss(X_cf, target)
            loss = loss + self.prediction_weight * loss_pred
            losses["prediction_loss"] = loss_pred.item()
        self._record(loss, losses)
        loss.backward()
        return {"loss": loss, "y_pred": scores}
