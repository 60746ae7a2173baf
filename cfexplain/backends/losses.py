"""Loss terms of the counterfactual generators (paper 1, equations 2-5).

Every function takes and returns torch tensors and is differentiable in the
generated rows.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

__all__ = [
    "discriminator_hinge_loss",
    "generator_hinge_loss",
    "prediction_loss",
    "sparsity_loss",
]


def prediction_loss(model_output, target, task, margin=0.0):
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
    margin : float, default=0.0
        Classification only: rows whose Kullback-Leibler divergence from the
        target is below ``margin`` cost nothing (a hinge on the divergence,
        like DiCE's hinge loss or the confidence margin of Carlini-Wagner).
        With 0 this is paper 1's cross-entropy up to the target's constant
        entropy.

    Returns
    -------
    torch.Tensor
        A scalar: the cross-entropy between ``y_T`` and the model's
        prediction (classification), or the mean squared distance from the
        value to the target interval, zero inside it (regression; the
        interval form of paper 1's squared error).
    """
    if task == "classification":
        cross_entropy = -(target * model_output).sum(dim=1)
        if margin <= 0:
            return cross_entropy.mean()
        entropy = -(target * torch.log(target.clamp_min(1e-12))).sum(dim=1)
        return F.relu(cross_entropy - entropy - margin).mean()
    middle, half_width = target[:, 0], target[:, 1]
    outside = F.relu((model_output - middle).abs() - half_width)
    return (outside**2).mean()


def sparsity_loss(X, X_cf, n_features=None, category_columns=None, numeric_values=None):
    """Return :math:`L_{l_1}`: the absolute change, per original feature.

    Parameters
    ----------
    X, X_cf : torch.Tensor of shape (n, n_encoded)
        Encoded originals and counterfactuals.
    n_features : int, optional
        Number of original features; defaults to the encoded width.
    category_columns : torch.Tensor of bool, shape (n_encoded,), optional
        Columns of categorical one-hot blocks. With ``numeric_values``, only
        these are compared on the encoding.
    numeric_values : callable, optional
        Maps encoded rows to standardised numerical values (see
        :class:`~cfexplain.backends.networks.NumericValues`); numerical
        features are then compared in their own (standardised) units.

    Returns
    -------
    torch.Tensor
        A scalar: the summed absolute change of the encoded categories plus
        that of the standardised numbers, divided by the number of original
        features and averaged over rows. Per feature, not per encoded
        column: the cost of changing one category (2) or moving a number by
        one standard deviation (1) does not depend on how many columns the
        encoding gives the other features, so paper 1's ``w_l1 = 10`` means
        the same on any table. Measuring numbers in their units, not on the
        mode-specific code, charges a jump to a far-away mode (e.g. Capital
        Gain from 0 to 7,000) for the distance it really moves, as the L1
        metric of paper 1's Table 3 does.
    """
    width = X.shape[1] if n_features is None else n_features
    if numeric_values is None:
        return (X - X_cf).abs().sum(dim=1).mean() / width
    categorical = ((X - X_cf).abs() * category_columns).sum(dim=1)
    numerical = (numeric_values(X) - numeric_values(X_cf)).abs().sum(dim=1)
    return (categorical + numerical).mean() / width


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
