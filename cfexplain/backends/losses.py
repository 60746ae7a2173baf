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


def sparsity_loss(X, X_cf, n_features=None):
    """Return :math:`L_{l_1}`: the absolute change on the encoding, per feature.

    Parameters
    ----------
    X, X_cf : torch.Tensor of shape (n, n_encoded)
        Encoded originals and counterfactuals.
    n_features : int, optional
        Number of original features the encoding spans; defaults to the
        encoded width.

    Returns
    -------
    torch.Tensor
        A scalar: ``|X - X_cf|`` summed over encoded columns, divided by the
        number of original features and averaged over rows. Dividing by the
        features, not the encoded columns, makes the cost of changing one
        feature independent of how many categories or modes the encoding
        gives the others, so paper 1's weight ``w_l1 = 10`` means the same on
        any table: changing one category costs ``2 * w_l1 / n_features``.
    """
    width = X.shape[1] if n_features is None else n_features
    return (X - X_cf).abs().sum(dim=1).mean() / width


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
