"""Counterfactual explanations from conditional generative networks.

cfexplain trains a conditional generative network once per model, then
explains whole batches of rows in one forward pass: for each row, the small,
realistic change that makes the model predict a target instead.
"""

from . import datasets, metrics
from ._ae import CounterfactualAE
from ._cvae import CounterfactualCVAE
from ._gan import CounterfactualGAN
from .exceptions import (
    AmbiguousTargetWarning,
    CfexplainError,
    CfexplainWarning,
    ConstraintError,
    EncodedCategoriesWarning,
    ImplausibleCounterfactualWarning,
    InvalidDataError,
    LowValidityWarning,
    OutsideBoundsWarning,
    OutsideTrainingRangeWarning,
    PixelScaleWarning,
    PredictorError,
    TargetError,
    TaskGuessWarning,
    TrainingError,
    UnreachedTargetWarning,
    UnseenCategoryWarning,
    WeakGeneratorWarning,
)
from .explanation import Explanation

__version__ = "0.1.0.dev0"

__all__ = [
    "AmbiguousTargetWarning",
    "CfexplainError",
    "CfexplainWarning",
    "ConstraintError",
    "EncodedCategoriesWarning",
    "CounterfactualAE",
    "CounterfactualCVAE",
    "CounterfactualGAN",
    "Explanation",
    "ImplausibleCounterfactualWarning",
    "InvalidDataError",
    "LowValidityWarning",
    "OutsideBoundsWarning",
    "OutsideTrainingRangeWarning",
    "PixelScaleWarning",
    "PredictorError",
    "TargetError",
    "TaskGuessWarning",
    "TrainingError",
    "UnreachedTargetWarning",
    "UnseenCategoryWarning",
    "WeakGeneratorWarning",
    "__version__",
    "datasets",
    "metrics",
]
