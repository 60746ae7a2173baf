"""Random targets and frozen-feature masks drawn while training a generator."""

from __future__ import annotations

import torch

__all__ = ["expand_feature_mask", "sample_feature_masks", "sample_targets"]


def sample_targets(y_model, task, generator=None):
    """Draw one training target per row, so one generator serves every target.

    Parameters
    ----------
    y_model : torch.Tensor
        The model's predictions as conditioning vectors: probabilities
        ``(n, k)``, or for regression ``(n, 2)`` standardised value and 0.
    task : {"classification", "regression"}
        The model's task.
    generator : torch.Generator, optional
        Random source.

    Returns
    -------
    torch.Tensor
        Targets of the same shape as ``y_model``.

    Notes
    -----
    Classification (paper 1 trains for flips and for soft targets across
    the whole range, figure 8): 60 % of rows get the one-hot of a random class
    other than the predicted one (the counterfactuals users ask for), 20 % a
    one-hot of any class (so "stay" is learnt too), 20 % a soft target drawn
    from a flat Dirichlet. Regression: the middle is the standardised
    prediction of another row of the batch, the half-width uniform in
    ``[0, 0.25]`` standard deviations.
    """
    n = y_model.shape[0]
    device = y_model.device
    if task == "regression":
        order = torch.randperm(n, generator=generator, device="cpu").to(device)
        middle = y_model[order, 0]
        half = 0.25 * torch.rand(n, generator=generator).to(device)
        return torch.stack([middle, half], dim=1)
    k = y_model.shape[1]
    predicted = y_model.argmax(dim=1)
    shift = torch.randint(1, k, (n,), generator=generator).to(device)
    other = (predicted + shift) % k
    anyone = torch.randint(0, k, (n,), generator=generator).to(device)
    # Normalised standard exponentials are a flat Dirichlet sample.
    exponentials = -torch.log(torch.rand(n, k, generator=generator).clamp_(1e-12))
    soft = (exponentials / exponentials.sum(dim=1, keepdim=True)).to(device)
    draw = torch.rand(n, generator=generator).to(device)
    eye = torch.eye(k, device=device)
    targets = torch.where((draw < 0.6)[:, None], eye[other], eye[anyone])
    return torch.where((draw >= 0.8)[:, None], soft, targets)


def sample_feature_masks(
    n_rows, n_features, probability, max_fraction=0.5, generator=None
):
    """Draw random sets of frozen features, one per row.

    Parameters
    ----------
    n_rows, n_features : int
        Shape of the mask.
    probability : float
        Share of rows that get any frozen feature; the others get none, so
        the unconstrained case keeps most of the training signal.
    max_fraction : float, default=0.5
        In a masked row each feature is frozen with a probability drawn
        uniformly from ``[0, max_fraction]``.
    generator : torch.Generator, optional
        Random source.

    Returns
    -------
    torch.Tensor of shape (n_rows, n_features)
        1.0 where a feature is frozen.
    """
    masked_row = torch.rand(n_rows, 1, generator=generator) < probability
    rate = max_fraction * torch.rand(n_rows, 1, generator=generator)
    frozen = torch.rand(n_rows, n_features, generator=generator) < rate
    return (frozen & masked_row).float()


def expand_feature_mask(feature_mask, feature_of_column):
    """Turn a per-feature mask into a per-encoded-column mask.

    Parameters
    ----------
    feature_mask : torch.Tensor of shape (n, n_features)
        1.0 where a feature is frozen.
    feature_of_column : torch.Tensor of int, shape (n_encoded,)
        Index of the original feature each encoded column belongs to.

    Returns
    -------
    torch.Tensor of shape (n, n_encoded)
    """
    return feature_mask[:, feature_of_column]
