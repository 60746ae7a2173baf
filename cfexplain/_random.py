"""Seeding that never touches the user's global random number generators.

The explainers accept ``random_state`` as scikit-learn does. Training and
sampling draw from torch's global generator (weight init, dropout, Gumbel
noise), so we run them inside :func:`torch.random.fork_rng`: the generator is
seeded for the duration of the block and restored afterwards, leaving the
user's own sequence of random numbers exactly as it was.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from sklearn.utils import check_random_state

__all__ = ["draw_seed", "torch_seeded", "torch_generator"]


def draw_seed(random_state) -> int:
    """Draw a 31-bit integer seed from a scikit-learn ``random_state``.

    Parameters
    ----------
    random_state : int, numpy.random.RandomState instance or None
        As everywhere in scikit-learn. ``None`` draws from numpy's global
        generator, so two unseeded fits differ.

    Returns
    -------
    int
        A seed in ``[0, 2**31 - 1)``.
    """
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


@contextlib.contextmanager
def torch_seeded(seed: int):
    """Seed torch inside a block and restore its global RNG state after it.

    Parameters
    ----------
    seed : int
        Seed for torch's CPU generator and every CUDA generator.

    Yields
    ------
    None
    """
    # torch.manual_seed also seeds every CUDA generator, so every one of them is
    # forked and restored, not only the one we compute on.
    cuda_devices = (
        list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    )
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(seed)
        yield


def torch_generator(seed: int, device: str = "cpu") -> torch.Generator:
    """Return a fresh :class:`torch.Generator` on ``device`` seeded with ``seed``.

    Parameters
    ----------
    seed : int
        The seed.
    device : str, default="cpu"
        Device of the generator; sampling on CUDA needs a CUDA generator.

    Returns
    -------
    torch.Generator
    """
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator
