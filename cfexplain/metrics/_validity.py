"""Validity: whether the real model predicts the target for the counterfactuals."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._predictor import REGRESSION, as_predictor
from .._stacklevel import user_stacklevel
from .._targets import align_target, resolve_target
from ..exceptions import CfexplainWarning, TargetError

__all__ = ["covered_rows", "validity"]


def covered_rows(X_cf) -> np.ndarray:
    """Return which rows hold a counterfactual (no missing value).

    Methods that can fail on a row (a search that finds nothing) mark it with
    missing values; cfexplain's own explainers always answer every row.

    Parameters
    ----------
    X_cf : pandas.DataFrame or array-like
        Counterfactuals, one row per original row.

    Returns
    -------
    numpy.ndarray of bool, shape (n_samples,)
    """
    if isinstance(X_cf, pd.DataFrame):
        return ~X_cf.isna().any(axis=1).to_numpy()
    array = np.asarray(X_cf)
    flat = array.reshape(len(array), -1)
    if flat.dtype.kind in "fc":
        return ~np.isnan(flat).any(axis=1)
    return ~pd.isna(pd.DataFrame(flat)).any(axis=1).to_numpy()


def _take(X, mask):
    return X[mask] if isinstance(X, pd.DataFrame) else np.asarray(X)[mask]


def _is_value(target):
    """Whether a regression target is a value (or one per row), not intervals."""
    if isinstance(target, (str, tuple)):
        return False
    return np.ndim(target) in (0, 1)


def validity(model, X_cf, target="opposite", *, X=None, tolerance=0.0, reduce="mean"):
    """Share of counterfactuals for which the real model predicts the target.

    Parameters
    ----------
    model : estimator, callable or torch.nn.Module
        The model under explanation, in any form cfexplain accepts.
    X_cf : pandas.DataFrame or array-like of shape (n_samples, ...)
        Counterfactuals, one per original row, in the model's input format.
        Rows with missing values count as not valid (no counterfactual).
    target : default="opposite"
        The target the counterfactuals were asked for, in any form
        ``transform`` accepts (a pandas Series or DataFrame is matched to
        the rows of ``X_cf`` by index label). ``"opposite"`` needs the
        originals ``X``.
    X : pandas.DataFrame or array-like, optional
        The original rows; required for ``"opposite"``.
    tolerance : float, default=0.0
        Half-width around a regression value target. The explainers accept
        ``regression_tolerance * output_scale_`` around a value; with 0 only
        the exact value counts, and a warning says so.
    reduce : {"mean", None}, default="mean"
        ``None`` returns the per-row boolean mask instead of the share.

    Returns
    -------
    float or numpy.ndarray of bool
        For classification a counterfactual is valid when the model's most
        likely class is the target's, strictly (a tie between classes is not
        valid); for regression when its value lies in the target interval.

    Raises
    ------
    TargetError
        For an impossible target, or ``"opposite"`` without ``X``.
    """
    if _holds_originals(target, X_cf):
        raise TargetError(
            "target holds rows shaped like the counterfactuals: the originals "
            "go in X=, as in validity(model, X_cf, X=X)"
        )
    predictor = as_predictor(model)
    target = align_target(target, X_cf)
    covered = covered_rows(X_cf)
    if X is not None:
        reference_output = predictor.predict(X)
    elif isinstance(target, str):
        raise TargetError(
            f"target={target!r} is relative to the original rows: pass X="
        )
    else:
        reference_output = None
    valid = np.zeros(len(covered), dtype=bool)
    if covered.any():
        y_cf = predictor.predict(_take(X_cf, covered))
        if reference_output is None:
            reference_output = np.zeros((len(covered),) + y_cf.shape[1:])
        if predictor.task_ == REGRESSION and tolerance == 0 and _is_value(target):
            warnings.warn(
                "a regression value target with tolerance=0 is met only by "
                "exactly that value; pass the tolerance the counterfactuals "
                "were made with (an explainer's regression_tolerance * "
                "output_scale_) or an interval (low, high)",
                CfexplainWarning,
                stacklevel=user_stacklevel(),
            )
        resolved = resolve_target(
            target,
            reference_output,
            task=predictor.task_,
            classes=getattr(predictor, "classes_", None),
            tolerance=tolerance,
        )
        valid[covered] = resolved.take(covered).is_met(y_cf)
    return float(valid.mean()) if reduce == "mean" else valid


def _holds_originals(target, X_cf):
    """Whether ``target`` looks like the original rows passed in its place.

    ``validity(model, X, X_cf)`` is an easy slip. A frame with the
    counterfactuals' columns, or an array of their shape with three
    dimensions or more (series, images: no target has them), is taken for
    the originals. A 2-D array of a table's shape is not: a matrix of soft
    targets or of per-row intervals can have it.
    """
    if isinstance(target, pd.DataFrame):
        return (
            isinstance(X_cf, pd.DataFrame)
            and target.shape == X_cf.shape
            and list(target.columns) == list(X_cf.columns)
        )
    return (
        isinstance(target, np.ndarray)
        and target.ndim >= 3
        and target.shape == np.shape(X_cf)
    )
