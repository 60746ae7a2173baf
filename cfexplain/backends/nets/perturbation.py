"""skorch net for paper 1's perturbation autoencoder (appendix B).

It has one optimizer, so it keeps skorch's ``train_step`` and only computes
its loss in :meth:`PerturbationNet.train_step_single`.
"""

from __future__ import annotations

import numpy as np

from ..losses import class_mmd_to_reference
from ..sampling import sample_targets
from ._base import CounterfactualNet

__all__ = ["PerturbationNet"]


class PerturbationNet(CounterfactualNet):
    r"""skorch net for paper 1's autoencoder generator (appendix B).

    The loss is :math:`w_M L_M + w_{l_1} L_{l_1} + w_\chi
    \mathrm{MMD}(x_{CF}, x_{\in T})`: prediction and sparsity as for the
    GAN, and the MMD between each batch's counterfactuals of a target class
    and as many training rows that the model predicts as that class (all
    training rows for regression), weighted by the class's share of the batch.

    Parameters
    ----------
    module : type of PerturbationAutoencoder
        The autoencoder class of the modality (``TabularPerturbationAE``,
        ``ImagePerturbationAE``).
    mmd_weight : float
        :math:`w_\chi`.
    **kwargs
        The parameters of :class:`~cfexplain.backends.nets.CounterfactualNet`
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
        return class_mmd_to_reference(
            X_cf,
            labels,
            reference_rows,
            reference_labels,
            self.sampling_generator_,
            scales=self.mmd_scales,
        )

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
        loss_l1 = self.sparsity(X, X_cf)
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
