"""Metrics for counterfactuals of any method.

Validity (:func:`validity`) asks the real model whether each counterfactual
reaches its target. Sparsity (:func:`l0`, :func:`l1`) compares each
counterfactual with its original row; the maximum mean discrepancy
(:func:`mmd2`, :func:`class_conditional_mmd2`) compares the counterfactuals
with a sample of the data distribution, as in the evaluation of paper 1
(section 4); :func:`unseen_category_pairs` counts counterfactuals holding a
pair of categories the data lack. :func:`counterfactual_report` computes
them all at once, and the scorers plug them into scikit-learn's model
selection. For images, :class:`RandomImageEmbedding` gives paper 1's
embedding to measure the MMD² on, and :class:`InterpretabilityAutoencoders`
the IM1 / IM2 scores of Van Looveren & Klaise (2019).
"""

from ._image import InterpretabilityAutoencoders, RandomImageEmbedding
from ._mmd import class_conditional_mmd2, mmd2
from ._plausibility import unseen_category_pairs
from ._report import counterfactual_report
from ._scorers import (
    CounterfactualScorer,
    class_mmd2_scorer,
    counterfactual_scorers,
    l0_categorical_scorer,
    l0_scorer,
    l1_scorer,
    make_counterfactual_scorer,
    mmd2_scorer,
    unseen_category_pairs_scorer,
    validity_scorer,
)
from ._sparsity import l0, l1
from ._validity import validity

__all__ = [
    "CounterfactualScorer",
    "InterpretabilityAutoencoders",
    "RandomImageEmbedding",
    "class_conditional_mmd2",
    "class_mmd2_scorer",
    "counterfactual_report",
    "counterfactual_scorers",
    "l0",
    "l0_categorical_scorer",
    "l0_scorer",
    "l1",
    "l1_scorer",
    "make_counterfactual_scorer",
    "mmd2",
    "mmd2_scorer",
    "unseen_category_pairs",
    "unseen_category_pairs_scorer",
    "validity",
    "validity_scorer",
]
