"""Exceptions raised by cfexplain.

Every error that bad user input can trigger derives from :class:`CfexplainError`.
The data, predictor and target errors also derive from :class:`ValueError`, so
code written against scikit-learn's conventions (``except ValueError``) keeps
working.
"""

__all__ = [
    "CfexplainError",
    "InvalidDataError",
    "PredictorError",
    "TargetError",
    "TrainingError",
]


class CfexplainError(Exception):
    """Base class of every exception raised on purpose by cfexplain."""


class InvalidDataError(CfexplainError, ValueError):
    """Input data that cfexplain cannot use.

    Raised for missing or extra columns, NaN or infinite values, categories
    unseen during ``fit`` and arrays of the wrong shape. The message names the
    offending column and value.
    """


class PredictorError(CfexplainError, ValueError):
    """The model under explanation is unusable or returned unusable output.

    Raised when the object given as ``predict_fn``/``predictor`` cannot be
    called, fails on valid data, or returns output of the wrong shape, with
    non-finite values, or with probabilities that do not sum to one. The
    message states what was seen and what was expected.
    """


class TargetError(CfexplainError, ValueError):
    """A counterfactual target that cannot be reached or parsed.

    Raised for unknown class labels, probability vectors that do not sum to
    one, per-row targets of the wrong length and intervals with ``low > high``.
    """


class TrainingError(CfexplainError, RuntimeError):
    """Training of a generative network failed, e.g. its losses became NaN."""
