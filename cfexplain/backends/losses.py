"""Loss terms of the counterfactual generators (paper 1, equations 2-5).

Every function takes and returns torch tensors and is differentiable in the
generated rows.
"""

from __future__ import annotations

from torch.nn import functional as F

__all__ = [
    "discriminator_hinge_loss",
    "generator_hinge_loss",
    "prediction_loss",
    "sparsity_loss",
]


def prediction_loss(model_output, target, task):
    """Return paper 1's :math:`L_M = d_M(y_{CF}, y_T)`.

    Parameters
    ----------
    model_output : torch.Tensor
        For classification, log-probabilities ``(n, k)`` of the differentiable
        model on the counterfactuals; for regression, standardised values
        ``(n,)``.
    target : torch.Tensor
        For classification, target distributions ``(n, k)``; for regression
        ``(n, 2)``: the standardised middle and half-width of the interval.
    task : {"classification", "regression"}
        The model's task.

    Returns
    -------
    torch.Tensor
        A scalar: the cross-entropy between ``y_T`` and the model's
        prediction (classification), or the mean squared distance from the
        value to the target interval, zero inside it (regression; the
        interval form of paper 1's squared error).
    """
    if task == "classification":
        return -(target * model_output).sum(dim=1).mean()
    middle, half_width = target[:, 0], target[:, 1]
    outside = F.relu((model_output - middle).abs() - half_width)
    return (outside**2).mean()


def sparsity_loss(X, X_cf):
    """Return :math:`L_{l_1}`: the mean absolute change on the encoding.

    Parameters
    ----------
    X, X_cf : torch.Tensor of shape (n, n_encoded)
        Encoded originals and counterfactuals.

    Returns
    -------
    torch.Tensor
        A scalar: ``|X - X_cf|`` averaged over encoded columns and rows. The
        mean over columns (not the sum) keeps paper 1's weight ``w_l1 = 10``
        on the same scale as the other terms whatever the encoded width.
    """
    return (X - X_cf).abs().mean()


def discriminator_hinge_loss(real_scores, fake_scores):
    """Return the discriminator's hinge loss (paper 1, appendix A.3).

    Parameters
    ----------
    real_scores, fake_scores : torch.Tensor of shape (n,)
        Scores of real rows (with ``y_M``) and counterfactuals (with ``y_T``).

    Returns
    -------
    torch.Tensor
        ``mean(relu(1 - real)) + mean(relu(1 + fake))``.
    """
    return F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()


def generator_hinge_loss(fake_scores):
    """Return the generator's adversarial hinge loss :math:`L_G`.

    Parameters
    ----------
    fake_scores : torch.Tensor of shape (n,)
        Discriminator scores of the counterfactuals with their targets.

    Returns
    -------
    torch.Tensor
        ``-mean(fake_scores)``.
    """
    return -fake_scores.mean()
