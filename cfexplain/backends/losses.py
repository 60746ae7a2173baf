"""Loss terms of the counterfactual generators (paper 1, equations 2-5).

Every function takes and returns torch tensors and is differentiable in the
generated rows.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

__all__ = [
    "discriminator_hinge_loss",
    "generator_hinge_loss",
    "kl_divergence",
    "mmd_loss",
    "prediction_loss",
    "reconstruction_distance",
    "reconstruction_loss",
    "sparsity_loss",
]

#: Standard deviation of the Gaussian likelihood of continuous encoded values
#: (TVAE initialises its learned sigma at 0.1; we keep it fixed).
CONTINUOUS_SIGMA = 0.1


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
        metric of paper 1's Table 3 does. Percentile units instead (the
        total log-percentile shift of Ustun, Spangher & Liu 2019, each
        number mapped through its training rows' empirical CDF, times 2.5
        so that a standard deviation around the median costs about the
        same) were measured on Adult with paper 1's MLP, GAN defaults
        otherwise: L1 0.288 instead of 0.395, but categorical L0 2.79
        instead of 2.11 and class MMD² 0.050 / 0.083 instead of 0.048 /
        0.061 (weight 20: L0 2.35, L1 0.374, 0.061 / 0.090). Costlier jumps
        out of a numeric mode send the generator to the categories; not
        kept.
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


def reconstruction_loss(scores, X, layout, sigma=CONTINUOUS_SIGMA):
    """Return the per-row negative log-likelihood of ``X`` under decoder scores.

    Span by span, as CTGAN's TVAE: cross-entropy for one-hot blocks,
    Bernoulli (binary cross-entropy) for ``sigmoid`` spans (pixels in
    [0, 1], paper 2; min-max scaled numbers), and a Gaussian with standard
    deviation ``sigma`` for ``tanh`` (mode-specific scalars) and
    ``identity`` spans, dropping its constant.

    Parameters
    ----------
    scores : torch.Tensor of shape (n, n_encoded)
        The decoder's raw output.
    X : torch.Tensor of shape (n, n_encoded)
        Encoded rows to reconstruct.
    layout : FeatureLayout
        The encoder's description of the columns.
    sigma : float, default=0.1
        Standard deviation of the continuous likelihood.

    Returns
    -------
    torch.Tensor of shape (n,)
    """
    per_row = torch.zeros(X.shape[0], device=X.device, dtype=X.dtype)
    for span in layout.spans:
        s, x = scores[:, span.start : span.stop], X[:, span.start : span.stop]
        if span.is_one_hot:
            # -sum(x * log_softmax(s)), without materialising log_softmax.
            log_norm = torch.logsumexp(s, dim=1)
            per_row = per_row + log_norm * x.sum(dim=1) - (x * s).sum(dim=1)
        elif span.activation == "sigmoid":
            bce = F.binary_cross_entropy_with_logits(s, x, reduction="none")
            per_row = per_row + bce.sum(dim=1)
        else:
            values = torch.tanh(s) if span.activation == "tanh" else s
            per_row = per_row + ((values - x) ** 2).sum(dim=1) / (2 * sigma**2)
    return per_row


def reconstruction_distance(X, X_values, layout, sigma=CONTINUOUS_SIGMA, eps=1e-4):
    """Return :func:`reconstruction_loss` of ``X`` given decoded values.

    The same likelihood measured on values instead of scores: probabilities
    are clipped to ``[eps, 1 - eps]``, so a hard one-hot that misses the
    category costs ``-log(eps)`` (about 9.2) instead of infinity. Paper 2
    ranks counterfactuals by such binary cross-entropies (section 4.3).

    Parameters
    ----------
    X : torch.Tensor of shape (n, n_encoded)
        Rows to reconstruct.
    X_values : torch.Tensor of shape (n, n_encoded)
        Values in the encoder's range (e.g. decoded counterfactuals, or class
        means).
    layout : FeatureLayout
        The encoder's description of the columns.
    sigma : float, default=0.1
        Standard deviation of the continuous likelihood.
    eps : float, default=1e-4
        Clipping of probabilities.

    Returns
    -------
    torch.Tensor of shape (n,)
    """
    per_row = torch.zeros(X.shape[0], device=X.device, dtype=X.dtype)
    for span in layout.spans:
        v, x = X_values[:, span.start : span.stop], X[:, span.start : span.stop]
        if span.is_one_hot:
            per_row = per_row - (x * torch.log(v.clamp(eps, 1.0))).sum(dim=1)
        elif span.activation == "sigmoid":
            bce = F.binary_cross_entropy(v.clamp(eps, 1 - eps), x, reduction="none")
            per_row = per_row + bce.sum(dim=1)
        else:
            per_row = per_row + ((v - x) ** 2).sum(dim=1) / (2 * sigma**2)
    return per_row


def kl_divergence(mean, log_variance):
    """Return the per-row KL divergence of ``N(mean, exp(log_variance))`` from N(0, I).

    Parameters
    ----------
    mean, log_variance : torch.Tensor of shape (n, latent_dim)

    Returns
    -------
    torch.Tensor of shape (n,)
    """
    return 0.5 * (mean**2 + log_variance.exp() - 1.0 - log_variance).sum(dim=1)


#: Bandwidths of :func:`mmd_loss`'s kernel, as multiples of the median
#: squared distance: a multi-scale median heuristic that needs no tuning.
MMD_SCALES = (0.5, 1.0, 2.0)


def mmd_loss(X, Y, scales=MMD_SCALES):
    """Return a biased estimate of MMD² between two samples (paper 1, eq. 7).

    The kernel is a sum of Gaussian kernels whose squared bandwidths are
    ``scales`` times the median squared distance of the pooled samples
    (detached): a multi-scale median heuristic that needs no tuning.

    Parameters
    ----------
    X : torch.Tensor of shape (m, d)
        E.g. counterfactuals.
    Y : torch.Tensor of shape (n, d)
        E.g. training rows of the target class.
    scales : tuple of float, default=MMD_SCALES
        Multiples of the median squared distance.

    Returns
    -------
    torch.Tensor
        A scalar, differentiable in ``X`` and ``Y``.
    """
    pooled = torch.cat([X, Y])
    distances = torch.cdist(pooled, pooled).pow(2)
    median = distances.detach().median().clamp_min(1e-6)
    kernel = sum(torch.exp(-distances / (scale * median)) for scale in scales)
    m = X.shape[0]
    return kernel[:m, :m].mean() + kernel[m:, m:].mean() - 2 * kernel[:m, m:].mean()


def class_mmd_to_reference(
    X_cf,
    labels,
    reference_rows,
    reference_labels,
    generator,
    min_reference=0,
    scales=MMD_SCALES,
):
    r"""Class-conditional MMD² between counterfactuals and reference rows.

    Paper 1, appendix B, eq. 7 (the autoencoder's :math:`w_\chi` term): the
    counterfactuals aimed at class :math:`c` are compared with training rows
    the model puts in class :math:`c`, drawn with replacement, and each
    class is weighted by its share of the batch. Classes with fewer than two
    rows on either side are skipped.

    Parameters
    ----------
    X_cf : torch.Tensor of shape (n, n_encoded)
        Counterfactuals, with gradients.
    labels : numpy.ndarray of int, shape (n,)
        The class each counterfactual is aimed at.
    reference_rows : numpy.ndarray of shape (m, n_encoded)
        Encoded training rows.
    reference_labels : numpy.ndarray of int, shape (m,)
        The model's class of each reference row.
    generator : torch.Generator
        Draws the reference rows (on the CPU).
    min_reference : int, default=0
        Reference rows drawn per class: as many as the class's
        counterfactuals, and at least this many (a larger sample makes the
        estimate steadier when a batch holds few rows of a class).
    scales : tuple of float, default=MMD_SCALES
        The kernel's bandwidths, as multiples of the median squared
        distance (:func:`mmd_loss`).

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    total = X_cf.new_zeros(())
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        pool = np.flatnonzero(reference_labels == label)
        if len(rows) < 2 or len(pool) < 2:
            continue
        size = max(len(rows), min_reference)
        picks = pool[torch.randint(len(pool), (size,), generator=generator).numpy()]
        real = torch.as_tensor(reference_rows[picks], device=X_cf.device)
        total = total + len(rows) / len(labels) * mmd_loss(X_cf[rows], real, scales)
    return total
