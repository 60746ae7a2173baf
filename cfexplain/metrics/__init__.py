"""Metrics for counterfactuals of any method.

Sparsity (:func:`l0`, :func:`l1`) compares each counterfactual with its
original row; the maximum mean discrepancy (:func:`mmd2`,
:func:`class_conditional_mmd2`) compares the counterfactuals with a sample of
the data distribution, as in the evaluation of paper 1 (section 4).
"""

from ._mmd import class_conditional_mmd2, mmd2
from ._sparsity import l0, l1

__all__ = [
    "class_conditional_mmd2",
    "l0",
    "l1",
    "mmd2",
]
