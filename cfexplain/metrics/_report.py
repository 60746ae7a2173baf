"""One table row with every counterfactual metric, for any method's output."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._predictor import CLASSIFICATION, as_predictor
from ._mmd import class_conditional_mmd2, mmd2
from ._plausibility import unseen_category_pairs
from ._representation import split_features
from ._sparsity import l0, l1
from ._validity import covered_rows, validity

__all__ = ["counterfactual_report"]


def _take(X, mask):
    return X[mask] if isinstance(X, pd.DataFrame) else np.asarray(X)[mask]


def counterfactual_report(
    model,
    X,
    X_cf,
    *,
    target="opposite",
    reference=None,
    categorical_features=None,
    tolerance=0.0,
    name=None,
):
    """Score counterfactuals on every metric of paper 1's tables at once.

    Works for any counterfactual method: it only needs the model, the
    original rows and one counterfactual per row (missing values mark rows
    the method could not answer).

    Parameters
    ----------
    model : estimator, callable or torch.nn.Module
        The model under explanation.
    X : pandas.DataFrame or array-like of shape (n_samples, ...)
        Original rows.
    X_cf : same type and shape as ``X``
        Counterfactuals, paired with ``X`` by position; two frames whose
        indexes hold the same unique labels in another order are paired by
        label (a shuffled ``X_cf`` had halved validity without a word).
    target : default="opposite"
        The target they were asked for (see :func:`validity`).
    reference : same type as ``X``, optional
        Sample of the data distribution for the in-distribution metrics
        (MMD², the pairs of categories that occur) and the scale of L1;
        defaults to ``X``. Pass the training rows to judge plausibility
        against all the data the model saw.
    categorical_features : list of str, optional
        Overrides the detection of categorical columns.
    tolerance : float, default=0.0
        Half-width around a regression value target.
    name : str, optional
        Index label of the returned row (e.g. the method's name).

    Returns
    -------
    pandas.DataFrame
        One row with columns ``n`` (rows explained), ``coverage`` (share
        with a counterfactual), ``validity``, ``l0`` (changed features per
        row), ``l0_categorical`` (tables only), ``l1`` (on standardised numerical
        features), ``mmd2`` (counterfactuals vs reference) and, for
        classifiers, ``mmd2_<class>`` for each class (counterfactuals the
        model predicts as that class vs reference rows it predicts as that
        class), and on tables with two categorical features or more
        ``unseen_category_pairs`` (share of counterfactuals bringing in a
        pair of categories ``reference`` lacks although it expects it in 5
        rows or more; :func:`unseen_category_pairs`). Sparsity, MMD² and
        plausibility are computed on covered rows (MMD² is NaN with fewer
        than two; with none, only ``n``, ``coverage`` and ``validity``
        are given). On images
        and series every value is a numerical feature, so ``l1`` is in
        standard deviations of each value over ``reference``, not in pixel
        units (``benchmarks/mnist.py`` reports the mean absolute pixel
        change instead).
    """
    reference = X if reference is None else reference
    X_cf = _in_the_originals_order(X, X_cf)
    predictor = as_predictor(model).check(X)
    covered = covered_rows(X_cf)
    X_ok, X_cf_ok = _take(X, covered), _take(X_cf, covered)
    row = {
        "n": len(covered),
        "coverage": float(covered.mean()),
        "validity": validity(predictor, X_cf, target, X=X, tolerance=tolerance),
    }
    if covered.any():
        shared = {"categorical_features": categorical_features}
        row["l0"] = l0(X_ok, X_cf_ok, features="all", **shared)
        if np.ndim(X_ok) <= 2:
            # Series and images have no categorical values: always 0 there.
            row["l0_categorical"] = l0(X_ok, X_cf_ok, features="categorical", **shared)
        row["l1"] = l1(X_ok, X_cf_ok, reference=reference, **shared)
        # The unbiased MMD² needs two counterfactuals (as a class of
        # class_conditional_mmd2 does, where one gives NaN).
        row["mmd2"] = (
            mmd2(X_cf_ok, reference, reference=reference, **shared)
            if covered.sum() >= 2
            else float("nan")
        )
        if isinstance(X, pd.DataFrame):
            categorical, _ = split_features(X, categorical_features)
            if len(categorical) >= 2:
                row["unseen_category_pairs"] = unseen_category_pairs(
                    X_ok, X_cf_ok, reference, **shared
                )
        if predictor.task_ == CLASSIFICATION:
            labels_cf = predictor.classes_[predictor.predict_labels(X_cf_ok)]
            labels_ref = predictor.classes_[predictor.predict_labels(reference)]
            per_class = class_conditional_mmd2(
                X_cf_ok,
                reference,
                labels_cf,
                labels_ref,
                classes=predictor.classes_,
                **shared,
            )
            row.update({f"mmd2_{c}": value for c, value in per_class.items()})
    return pd.DataFrame([row], index=[name] if name is not None else None)


def _in_the_originals_order(X, X_cf):
    """Reorder ``X_cf`` by label where its index is a reordering of ``X``'s."""
    if not (isinstance(X, pd.DataFrame) and isinstance(X_cf, pd.DataFrame)):
        return X_cf
    if X_cf.index.equals(X.index) or not X.index.is_unique:
        return X_cf
    if X_cf.index.is_unique and len(X_cf) == len(X) and X_cf.index.isin(X.index).all():
        return X_cf.loc[X.index]
    return X_cf
