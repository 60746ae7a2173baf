"""scikit-learn scorers that rate a fitted explainer's counterfactuals.

A scorer is called as ``scorer(explainer, X, y)`` by ``GridSearchCV`` and
``cross_validate``: it asks the explainer for counterfactuals of ``X`` (with
its ``target`` parameter) and rates them against ``X``, which doubles as the
reference sample of the data distribution. Lower-is-better metrics are
negated, as scikit-learn's ``neg_*`` scorers are, so that greater is always
better.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.pipeline import Pipeline

from .._predictor import CLASSIFICATION
from .._stacklevel import user_stacklevel
from .._unseen import rows_to_score
from ..exceptions import CfexplainWarning, OutsideTrainingRangeWarning
from ._mmd import class_conditional_mmd2, mmd2
from ._plausibility import unseen_category_pairs
from ._sparsity import l0, l1

__all__ = [
    "CounterfactualScorer",
    "class_mmd2_scorer",
    "counterfactual_scorers",
    "l0_categorical_scorer",
    "l0_scorer",
    "l1_scorer",
    "make_counterfactual_scorer",
    "mmd2_scorer",
    "unseen_category_pairs_scorer",
    "validity_scorer",
]


def _validity(explainer, X, X_cf):
    predictor = explainer.predictor_
    resolved = explainer._resolve(None, predictor.predict(X))
    return float(np.mean(resolved.is_met(predictor.predict(X_cf))))


def _class_mmd2(explainer, X, X_cf):
    predictor = explainer.predictor_
    if predictor.task_ != CLASSIFICATION:
        warnings.warn(
            "class_mmd2 has no classes to compare on a regression model and "
            "scores NaN; score with counterfactual_scorers(['validity', 'l0', "
            "'l1', 'mmd2'])",
            CfexplainWarning,
            stacklevel=user_stacklevel(),
        )
        return float("nan")
    classes = predictor.classes_
    # Each counterfactual joins the class it was asked for, not the class
    # the model gives it: the two agree on valid answers, and an answer
    # that missed its target (a row left as it was) is compared with the
    # class it should have reached, so changing nothing cannot score well.
    asked = explainer._resolve(None, predictor.predict(X)).labels
    per_class = class_conditional_mmd2(
        X_cf,
        X,
        classes[asked],
        classes[predictor.predict_labels(X)],
        classes=classes,
    )
    values = [v for v in per_class.values() if np.isfinite(v)]
    return float(np.mean(values)) if values else float("nan")


def _l0_categorical(explainer, X, X_cf):
    modality = getattr(explainer, "modality_", "tabular")
    if modality != "tabular":
        warnings.warn(
            f"l0_categorical counts changed categorical features, which "
            f"{modality} data have none, and scores NaN; score with "
            "counterfactual_scorers(['validity', 'l0', 'l1', 'class_mmd2']) "
            "('l0' counts the values changed)",
            CfexplainWarning,
            stacklevel=user_stacklevel(),
        )
        return float("nan")
    return l0(X, X_cf, features="categorical")


_METRICS = {
    # name: (function(explainer, X, X_cf) -> float, greater_is_better)
    "validity": (_validity, True),
    "l0": (lambda e, X, X_cf: l0(X, X_cf, features="all"), False),
    "l0_categorical": (_l0_categorical, False),
    "l1": (lambda e, X, X_cf: l1(X, X_cf, reference=X), False),
    "mmd2": (lambda e, X, X_cf: mmd2(X_cf, X, reference=X), False),
    "class_mmd2": (_class_mmd2, False),
    "unseen_category_pairs": (
        lambda e, X, X_cf: unseen_category_pairs(X, X_cf, reference=X),
        False,
    ),
}


def _explainer_and_rows(estimator, X):
    """Return the explainer to score and the rows it explains.

    A ``Pipeline`` ending in an explainer (the user guide's way to put
    one after preprocessing) gives its last step, and ``X`` through the
    steps before it, as ``Pipeline.score`` does.
    """
    if isinstance(estimator, Pipeline):
        if len(estimator) > 1:
            X = estimator[:-1].transform(X)
        estimator = estimator[-1]
    if not hasattr(estimator, "predictor_"):
        raise TypeError(
            "the counterfactual scorers rate a fitted cfexplain explainer (or "
            f"a Pipeline ending in one); got {type(estimator).__name__}"
            + (
                ", not fitted yet: call fit first"
                if hasattr(estimator, "_candidates")
                else ""
            )
        )
    return estimator, X


def _counterfactuals(estimator, X):
    """Return ``(explainer, rows scored, their counterfactuals)``.

    The rows are ``None`` when none can be scored.
    """
    explainer, X = _explainer_and_rows(estimator, X)
    X, _ = rows_to_score(explainer, X)
    if X is None:
        return explainer, None, None
    with warnings.catch_warnings():
        # The score measures the answers; see CounterfactualScorer's notes.
        warnings.simplefilter("ignore", OutsideTrainingRangeWarning)
        return explainer, X, explainer.transform(X)


class _LastCounterfactuals:
    """Remembers the last ``transform`` so sibling scorers reuse it."""

    def __init__(self):
        self.key = None
        self.value = None

    def get(self, explainer, X):
        # Identity, not equality: GridSearchCV passes the same objects to
        # every scorer of one evaluation, and holding them keeps ids unique.
        if self.key is not None and self.key[0] is explainer and self.key[1] is X:
            return self.value
        self.value = _counterfactuals(explainer, X)
        self.key = (explainer, X)
        return self.value


class CounterfactualScorer:
    """Rate a fitted explainer's counterfactuals of ``X`` on one metric.

    Parameters
    ----------
    metric : {"validity", "l0", "l0_categorical", "l1", "mmd2", "class_mmd2", \
"unseen_category_pairs"}
        What to measure; see :mod:`cfexplain.metrics`. ``class_mmd2`` is the
        mean over classes of the MMD² between the counterfactuals asked
        for a class and the rows of ``X`` the model puts in it (an answer
        that misses its target counts against the class it should have
        reached; NaN, with a warning, for a regression model);
        ``l0_categorical`` the mean number of categorical features changed
        (NaN, with a warning, for series and images, which have none:
        ``l0`` counts their values changed); ``unseen_category_pairs`` the
        share of counterfactuals bringing in a pair of categories that ``X``
        lacks although their frequencies in ``X`` expect it in 5 rows or
        more.
    cache : object, optional
        Shared by the scorers of :func:`counterfactual_scorers` so that one
        evaluation transforms ``X`` once; without it every call transforms.

    Notes
    -----
    Returns the metric for validity and its negation for the others, so that
    greater is better, as scikit-learn's model selection expects. The
    :class:`~cfexplain.OutsideTrainingRangeWarning` of ``transform`` is not
    shown: a cross-validation fold often holds numbers outside the range of
    the rows the explainer was fit on, and the score measures its answers
    as they are.
    """

    def __init__(self, metric, cache=None):
        if metric not in _METRICS:
            raise ValueError(
                f"unknown counterfactual metric {metric!r}; choose from "
                f"{sorted(_METRICS)}"
            )
        self.metric = metric
        self.cache = cache

    def __call__(self, explainer, X, y=None):
        """Score ``explainer`` on ``X``.

        Parameters
        ----------
        explainer : fitted cfexplain explainer, or a Pipeline ending in one
            With its ``target`` parameter set. A Pipeline's earlier steps
            transform ``X`` first, as ``Pipeline.score`` does.
        X : pandas.DataFrame or array-like
            Rows to explain; also the reference sample. Rows of a table
            holding a category the explainer's ``fit`` did not see are left
            out, with a warning (``NaN`` when no row is left).
        y : ignored
            Present for scikit-learn's scorer signature.

        Returns
        -------
        float

        Raises
        ------
        TypeError
            When ``explainer`` is neither a fitted explainer nor a
            Pipeline ending in one.
        """
        function, greater_is_better = _METRICS[self.metric]
        if self.cache is None:
            explainer, X, X_cf = _counterfactuals(explainer, X)
        else:
            explainer, X, X_cf = self.cache.get(explainer, X)
        if X is None:
            return float("nan")
        value = function(explainer, X, X_cf)
        return value if greater_is_better else -value

    def __repr__(self):
        return f"make_counterfactual_scorer({self.metric!r})"


def make_counterfactual_scorer(metric):
    """Return a scikit-learn scorer for one counterfactual metric.

    Parameters
    ----------
    metric : {"validity", "l0", "l0_categorical", "l1", "mmd2", "class_mmd2", \
"unseen_category_pairs"}
        What to measure (see :class:`CounterfactualScorer`).

    Returns
    -------
    CounterfactualScorer
        Use it as ``GridSearchCV(..., scoring=scorer)``.
    """
    return CounterfactualScorer(metric)


def counterfactual_scorers(metrics=("validity", "l0_categorical", "l1", "class_mmd2")):
    """Return a dict of scorers for multi-metric model selection.

    The scorers share one cache, so each evaluation transforms ``X`` once.

    Parameters
    ----------
    metrics : sequence of str
        Metric names (see :class:`CounterfactualScorer`).

    Returns
    -------
    dict of str to CounterfactualScorer
        Pass it as ``GridSearchCV(..., scoring=..., refit="class_mmd2")``.
        With the repairs on (``max_rounds=2``) nearly every setting reaches
        validity 1, so refit on a quality scorer and read validity in
        ``cv_results_``; with ``max_rounds=0`` and
        ``training_row_candidates=False`` validity scores the generator
        alone. For a regression model leave ``"class_mmd2"`` out (it
        scores NaN there); for series and images replace
        ``"l0_categorical"`` by ``"l0"`` (they have no categories).

    Examples
    --------
    >>> from cfexplain.metrics import counterfactual_scorers
    >>> sorted(counterfactual_scorers(["validity", "l1"]))
    ['l1', 'validity']
    """
    cache = _LastCounterfactuals()
    return {name: CounterfactualScorer(name, cache=cache) for name in metrics}


validity_scorer = make_counterfactual_scorer("validity")
l0_scorer = make_counterfactual_scorer("l0")
l0_categorical_scorer = make_counterfactual_scorer("l0_categorical")
l1_scorer = make_counterfactual_scorer("l1")
mmd2_scorer = make_counterfactual_scorer("mmd2")
class_mmd2_scorer = make_counterfactual_scorer("class_mmd2")
unseen_category_pairs_scorer = make_counterfactual_scorer("unseen_category_pairs")
