"""Shared fixtures."""

import numpy as np
import pytest
import torch
from cf_testing import make_mixed_frame


@pytest.fixture(autouse=True)
def _seed_everything():
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(scope="module")
def mixed_frame():
    return make_mixed_frame()
