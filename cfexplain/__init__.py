"""Counterfactual explanations from conditional generative networks.

cfexplain trains a conditional generative network once per model, then
explains whole batches of rows in one forward pass: for each row, the small,
realistic change that makes the model predict a target instead.
"""

import importlib as _importlib

from .exceptions import (
    AmbiguousTargetWarning,
    CfexplainError,
    CfexplainWarning,
    ConstraintError,
    EncodedCategoriesWarning,
    HighCardinalityWarning,
    ImplausibleCounterfactualWarning,
    InvalidDataError,
    LowValidityWarning,
    NumbersAsTextWarning,
    OutsideBoundsWarning,
    OutsideTrainingRangeWarning,
    PixelScaleWarning,
    PredictMismatchWarning,
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

#: Names loaded on first use, and the module each comes from. The explainers
#: import torch, skorch and scikit-learn (about 3 s); the exceptions, the
#: version and the command line's ``--help`` need none of them.
_LAZY = {
    "CounterfactualAE": "._ae",
    "CounterfactualCVAE": "._cvae",
    "CounterfactualGAN": "._gan",
    "datasets": ".datasets",
    "metrics": ".metrics",
    # Subpackages that are not in __all__ but were reachable as attributes
    # when the explainers were imported eagerly.
    "modalities": ".modalities",
    "parallel": ".parallel",
    "preprocessing": ".preprocessing",
}


def __getattr__(name):
    """Import the explainers and the subpackages on first use (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = _importlib.import_module(_LAZY[name], __name__)
    value = module if _LAZY[name] == f".{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    """List the module's names, the ones loaded on first use included."""
    return sorted(set(globals()) | set(__all__) | set(_LAZY))


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
    "HighCardinalityWarning",
    "ImplausibleCounterfactualWarning",
    "InvalidDataError",
    "LowValidityWarning",
    "NumbersAsTextWarning",
    "OutsideBoundsWarning",
    "OutsideTrainingRangeWarning",
    "PixelScaleWarning",
    "PredictMismatchWarning",
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
