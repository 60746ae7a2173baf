from unittest.mock import patch

import numpy as np
import pytest
import torch

from cfexplain._device import reproducible_cuda_kernels, resolve_device
from cfexplain._random import draw_seed, torch_generator, torch_seeded


def test_auto_is_cpu_without_accelerators():
    with (
        patch("torch.cuda.is_available", return_value=False),
        patch("cfexplain._device._mps_available", return_value=False),
    ):
        assert resolve_device("auto") == "cpu"
        assert resolve_device(None) == "cpu"


def test_auto_prefers_cuda():
    with patch("torch.cuda.is_available", return_value=True):
        assert resolve_device("auto") == "cuda"


def test_unavailable_or_unknown_device():
    with patch("torch.cuda.is_available", return_value=False):
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda:0")
    with pytest.raises(ValueError, match="is not a torch device"):
        resolve_device("gpu-please")
    assert resolve_device("cpu") == "cpu"


def test_seed_scoping_leaves_global_state():
    before = torch.get_rng_state()
    with torch_seeded(123):
        a = torch.rand(3)
    with torch_seeded(123):
        b = torch.rand(3)
    assert torch.equal(a, b)
    assert torch.equal(before, torch.get_rng_state())


def test_draw_seed_and_generator():
    assert draw_seed(0) == draw_seed(0)
    assert draw_seed(np.random.RandomState(5)) == draw_seed(5)
    g1, g2 = torch_generator(7), torch_generator(7)
    assert torch.equal(torch.rand(4, generator=g1), torch.rand(4, generator=g2))


def test_reproducible_cuda_kernels_sets_and_restores_cudnn():
    cudnn = torch.backends.cudnn
    before = (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32)
    with reproducible_cuda_kernels("cuda:0"):
        assert (cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32) == (
            False,
            True,
            False,
        )
        assert cudnn.enabled == before[0]
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32) == (
        before
    )
    with reproducible_cuda_kernels("cpu"):
        assert cudnn.deterministic == before[2]
