"""skorch nets, one file per method (a *net* in skorch's vocabulary).

A net trains a module of :mod:`cfexplain.backends.modules` against the frozen
model under explanation and answers :meth:`CounterfactualNet.generate`;
users reach the trained net, its history and callbacks, through an
explainer's ``net_``.
"""

from ._base import CounterfactualNet, drop_optimizer_state
from .cvae import CVAENet
from .gan import (
    GANNet,
    GeneratorBatch,
    GeneratorTerm,
    batch_class_mmd_loss,
    cycle_consistency_loss,
)
from .perturbation import PerturbationNet

__all__ = [
    "CVAENet",
    "CounterfactualNet",
    "GANNet",
    "GeneratorBatch",
    "GeneratorTerm",
    "batch_class_mmd_loss",
    "PerturbationNet",
    "cycle_consistency_loss",
    "drop_optimizer_state",
]
