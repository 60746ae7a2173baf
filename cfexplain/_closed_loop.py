"""The closed loop with the real model: the fit-time self-check and the repairs.

:class:`ClosedLoopMixin` gives the explainers

* ``_self_check``: at the end of ``fit``, the counterfactuals of held-out
  rows are scored by the real model (``fit_report_``), with a
  :class:`~cfexplain.LowValidityWarning` when too few reach their target;
* ``_repair``: the rounds that give rejected counterfactuals another chance
  (the generator on its own output; training-row paths, whose pool and
  geometry are in :mod:`cfexplain._repair`).
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from functools import partial

import numpy as np
import pandas as pd

from ._engine import ACCEPTED, IMPLAUSIBLE, REJECTED
from ._feature_search import SEARCH_STEPS, FeatureValues, target_margin
from ._line_search import (
    BISECTION_STEPS,
    GRID_VALUES,
    LINE_SEARCH_CANDIDATES,
    grid_values,
    nearest_crossing,
    side_of_target,
    with_values,
)
from ._predictor import CLASSIFICATION
from ._random import draw_seed
from ._repair import nearest_of_rank, path_order
from ._stacklevel import user_stacklevel
from ._targets import per_row_labels
from .exceptions import (
    AmbiguousTargetWarning,
    LowValidityWarning,
    PredictMismatchWarning,
    WeakGeneratorWarning,
)

__all__ = [
    "CONSTRAINED_REFERENCES",
    "CONSTRAINT_KINDS",
    "FEW_SELF_CHECK_ROWS",
    "LOW_GENERATOR_VALIDITY",
    "LOW_VALIDITY",
    "REFERENCE_ROWS",
    "SELF_CHECK_ROWS",
    "WINDOW_LENGTHS",
    "ClosedLoopMixin",
]

#: Rows held out of training (at most) for the fit-time self-check.
SELF_CHECK_ROWS = 2000
#: Self-check validity under which ``fit`` warns.
LOW_VALIDITY = 0.9
#: Validity of the generator alone (before repairs) under which ``fit``
#: warns that the repairs make (nearly) every counterfactual. The generators
#: alone reach 0.2-0.6 on small tables with tree models, where the repairs
#: are expected to help; under 0.1 they have learnt next to nothing.
LOW_GENERATOR_VALIDITY = 0.1
#: Self-check rows under which its warning says the figure is rough.
FEW_SELF_CHECK_ROWS = 50
#: Surrogate agreement, balanced over the model's classes, under which a
#: self-check warning says the surrogate hardly tells the classes apart (0.5
#: for a binary model: it predicts one class everywhere, as on a new-user
#: trial's table where the model put 2 % of the rows in the other).
LOW_SURROGATE_AGREEMENT = 0.6
#: Share of the self-check's counterfactuals on whose class a classifier's
#: ``predict`` and ``predict_proba`` must agree before ``fit`` warns
#: (:class:`~cfexplain.PredictMismatchWarning`); ties of a k-nearest
#: neighbours vote can differ between the two on a few rows.
PREDICT_AGREEMENT = 0.95
#: Training rows kept as the pool of the training-row repair path.
REFERENCE_ROWS = 5000
#: Most training rows of a table for which ``training_row_candidates="auto"``
#: is on (scikit-learn's ``HistGradientBoosting*`` turns its
#: ``early_stopping="auto"`` on past the same size).
SMALL_TABLE_ROWS = 10_000
#: The constraints each modality takes, as the warnings name them.
CONSTRAINT_KINDS = {
    "tabular": "immutable, bounds, monotonic",
    "series": "frozen windows or channels, bounds",
    "image": "immutable",
}
#: Nearest training rows whose constrained copies a path's choice of
#: training row scores, where constraints can change a copied row.
CONSTRAINED_REFERENCES = 8
#: How many times deeper a row looks when the model rejects all of those
#: copies: 256 nearest, for the rows that need it only. 64 (a factor of 8)
#: found 11 of the 14 series that some pool row's constrained copy reaches
#: (40 series of 3 channels, channel 0 and the first 5 steps frozen, a
#: LogisticRegression; the pool held 234 series), 256 all 14.
DEEPER_REFERENCES_FACTOR = 32
#: Window lengths a series' training-row repair tries, in tenths of the
#: series (Native Guide grows its window by a tenth too).
WINDOW_LENGTHS = 10


#: Shares of its move each number of an answer is tried with (ascending),
#: all in one batch, to give back the part of a move the model does not
#: need: a path's copied difference, or a generator's overshoot. Eighths
#: instead of quarters cut L1 by a further 0-4 % on small tables (German
#: credit, breast cancer, a zip-code table) for a model call on 7 rows per
#: answer instead of 3.
SHORTER_MOVES = (0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875)
#: (A second batch of tries, eight steps between the longest share rejected
#: and the shortest accepted, took moves to within 1/64 of what the model
#: needs, but the answers chosen among the candidates barely changed: L1
#: -1.9 % to +1.2 % on German credit with a RandomForest and gradient
#: boosting and on breast cancer with a RandomForest, GAN and AE, 200 rows
#: each; categorical and total L0 equal or up to 0.04 higher. Not kept.)

#: Said after a weak generator's remedies: those make the generator answer
#: alone, and its answers can be worse than the repairs' ones. On Adult
#: with an AdaBoostClassifier pipeline (AE, 6,513 test rows) ten times
#: the weight took the generator alone from 8 % to 100 % of the
#: self-check's targets, and its answers moved further (L1 0.484 -> 0.535)
#: and looked less like the target class (MMD²_1 0.027 -> 0.083); on German
#: credit with a RandomForest (GAN) they became sparser (L1 0.144 -> 0.109).
WEAK_GENERATOR_TRADE_OFF = (
    "the generator's own answers can move further, or look less like their "
    "target class, than the repaired ones: compare the answers of both fits "
    "before you keep one"
)

#: Prefixes of a training-row path every row scores in the first of its
#: two forward rounds (most rows need one or two copied features).
FIRST_PREFIXES = 2

#: Rounds of the training-row path's backward step (each two batches, for
#: the rows that still have a feature to try). On breast cancer's 30
#: numbers (rows shuffled with seed 0: 450 to fit the models and the AE at
#: its defaults, 119 explained; XGBoost of 50 trees of depth 3, a
#: RandomForest of 100) the answers changed 7.69 features on average with
#: XGBoost and 10.92 with the RandomForest when the step gave back all
#: needless features at once or else the largest; one round of this step
#: (and of :meth:`ClosedLoopMixin._sparser_answers`) 4.71 and 8.34, three
#: 4.25 and 7.97, where giving back one feature at a time, a model call
#: each, takes those answers to 4.24 and 7.95 (ties of the forest's votes
#: count as rejected, as they do for validity).
BACKWARD_ROUNDS = 3


#: Modalities whose training-row path repairs before the generator's second
#: step. On Adult the generator's step answered few of the rows it was given
#: (COND-MIX with gradient boosting: 500 of 5,326), and the path answered
#: the rest anyway: path first, the AE explained 14 % more rows a second
#: (MMD²_1 0.048 against 0.050, L1 0.278 against 0.275) and COND-MIX with
#: gradient boosting 6-11 % more, with sparser, more typical answers
#: (categorical L0 1.71 against 1.83, L1 0.338 against 0.346, MMD²_1 0.037
#: against 0.044); the GAN, which leaves 81 rows invalid, was unchanged. On
#: ECG5000 the GAN's series moved further path first (L1 0.4525 against
#: 0.4509): series keep the generator first. On breast cancer (30 numbers)
#: path first reached every target (7 of 20 cells had missed one of 114
#: rows) and moved less (L1 down in 18 of 20 cells), but its answers for
#: class 0 looked less like that class (MMD²_0 up in 14 of 20; the GAN
#: with a RandomForest 0.189 -> 0.294).
PATH_FIRST = ("features",)


def _first_of_each(positions, owner):
    """Return the first of ``positions`` for each owner (grouped by owner)."""
    owners = owner[positions]
    return positions[np.r_[True, owners[1:] != owners[:-1]]]


def _improves(batch, rows, grade, y_current):
    """Whether a repair's answers beat the current ones of ``rows``.

    An accepted answer always does (the rows are in a repair because
    theirs are not); a valid but implausible one only where the current
    answer misses its target.
    """
    current_valid = np.asarray(batch.target.take(rows).is_met(y_current), dtype=bool)
    return (grade == ACCEPTED) | ((grade == IMPLAUSIBLE) & ~current_valid)


def _ascending_stages(n):
    """Split ``range(n)`` into consecutive stages of 1, 2, 4, ... indices."""
    stages, start, size = [], 0, 1
    while start < n:
        stages.append(np.arange(start, min(start + size, n)))
        start, size = start + size, 2 * size
    return stages


class ClosedLoopMixin:
    """Self-check and repairs of :class:`~cfexplain._base.BaseCounterfactualExplainer`.

    Reads the fitted explainer's ``adapter_``, ``encoder_``, ``predictor_``,
    ``net_``, ``reference_``, ``surrogate_``, ``max_rounds``,
    ``training_row_candidates`` and ``validation_fraction``, and the
    engine's ``_candidates``, ``_decode`` and ``_score``.
    """

    def _without_implausible_rows(self, reference):
        """Drop the pool's training rows that hold what the training data lack.

        With ``plausible_categories``, a training-row path towards such a
        row would bring in a pair the check rejects: on a table where one
        married "child" sits among 800 households, the singles' nearest
        married row was that one, and their answers kept the pair. Rows
        are dropped after the pool's sample is drawn, so the other rows
        stay those of the sample. A pool that would lose every row is kept
        whole.
        """
        if not self.plausible_categories:
            return reference
        keys = self.adapter_.plausibility_keys(reference.Xt)
        if keys is None:
            return reference
        implausible = self.adapter_.implausible_keys(keys)
        if not implausible.any() or implausible.all():
            return reference
        return reference.subset(~implausible)

    def _split_for_self_check(self, n_rows):
        """Return the positions of the training rows and of the self-check's rows.

        ``validation_fraction`` of the rows (at most :data:`SELF_CHECK_ROWS`)
        are held out of training for the self-check, when at least two rows
        remain to train on; otherwise the self-check uses up to
        :data:`SELF_CHECK_ROWS` training rows.
        """
        order = np.random.RandomState(draw_seed(self.random_seed_ + 4)).permutation(
            n_rows
        )
        n_held = min(int(round(self.validation_fraction * n_rows)), SELF_CHECK_ROWS)
        if n_held >= 1 and n_rows - n_held >= 2:
            return np.sort(order[n_held:]), np.sort(order[:n_held])
        return np.arange(n_rows), np.sort(order[:SELF_CHECK_ROWS])

    def _self_check(self, X_check, held_out):
        """Measure, with the real model, what the fitted explainer delivers.

        The counterfactuals of the self-check rows are made for the targets
        the explainer was trained for: the opposite class (or, for
        multi-class models, also a random other class per row), or for
        regression another row's value and an interval around it (a value
        the row's own prediction is outside of, so that a generator changing
        nothing scores nothing: :func:`values_elsewhere`). Reports
        validity with and without the transform-time repairs, and the
        surrogate's agreement with the real model on the rows and on their
        counterfactuals. Warns with :class:`~cfexplain.LowValidityWarning`
        when validity is below :data:`LOW_VALIDITY`, with
        :class:`~cfexplain.WeakGeneratorWarning` when it is not but the
        generator alone is below :data:`LOW_GENERATOR_VALIDITY`.
        """
        if not len(X_check):
            # No row the constraints allow to explain: nothing to measure.
            return {"n_rows": 0, "held_out": held_out}
        rng = np.random.RandomState(draw_seed(self.random_seed_ + 5))
        y_check = self.predictor_.predict(X_check)
        targets = {}
        if self.predictor_.task_ == CLASSIFICATION:
            targets["opposite"] = "opposite"
            if self.n_classes_ > 2:
                shift = rng.randint(1, self.n_classes_, size=len(y_check))
                other = (y_check.argmax(axis=1) + shift) % self.n_classes_
                targets["other_class"] = per_row_labels(
                    np.asarray(self.classes_)[other]
                )
        else:
            half = 0.25 * self.output_scale_
            values = values_elsewhere(np.asarray(y_check, dtype=float), half, rng)
            targets["value"] = values
            targets["interval"] = np.column_stack([values - half, values + half])
        report = {"n_rows": len(y_check), "held_out": held_out}
        for name, target in targets.items():
            for repaired, key in (
                (False, f"generator_validity_{name}"),
                (True, f"validity_{name}"),
            ):
                with warnings.catch_warnings():
                    # The self-check's "opposite" is its own choice, not the
                    # user's: a model given as predict ties the other
                    # classes, and the user hears of it from transform when
                    # they ask for "opposite" (fit had warned twice, once
                    # per pass, about a target nobody had given).
                    warnings.simplefilter("ignore", AmbiguousTargetWarning)
                    candidates = self._candidates(
                        X_check, target, (None, None, None), 1, repair=repaired
                    )
                valid = candidates.target.is_met(self._model_outputs(candidates))
                report[key] = float(np.mean(valid))
        if self.surrogate_ is not None:
            Xt_check = self.encoder_.transform(X_check)
            report["surrogate_agreement"] = self.surrogate_.fidelity(Xt_check, y_check)
            if self.predictor_.task_ == CLASSIFICATION:
                report["surrogate_balanced_agreement"] = self.surrogate_.fidelity(
                    Xt_check, y_check, balanced=True
                )
            cf = self.adapter_.to_user(X_check, candidates.counterfactuals)
            report["surrogate_agreement_counterfactuals"] = self.surrogate_.fidelity(
                self.encoder_.transform(cf), self._model_outputs(candidates)
            )
        if self.predictor_.task_ == CLASSIFICATION:
            self._check_own_predict(X_check, y_check, candidates, report)
        for name, value in report.items():
            if isinstance(value, float):
                self.net_.history.record(f"fit_{name}", value)
        worst = min(v for k, v in report.items() if k.startswith("validity_"))
        generator_kind, generator = weakest_generator_figure(report)
        category = LowValidityWarning
        if worst < LOW_VALIDITY:
            problem = (
                f"only {worst:.0%} of the self-check's {len(y_check)} rows got "
                "a counterfactual the model accepts"
            )
        elif generator < LOW_GENERATOR_VALIDITY:
            category = WeakGeneratorWarning
            # Valid, but the repairs made (nearly) every answer: slower, and
            # copies of training rows' values rather than the generator's.
            kind = generator_kind.replace("_", "-")
            problem = (
                f"the generator alone reached only {generator:.0%} of the "
                f"self-check's {kind} targets; the repairs reached {worst:.0%}, so "
                "most counterfactuals will be built from training rows, at the "
                "cost of more model calls"
            )
        else:
            return report
        balanced = report.get("surrogate_balanced_agreement", 1.0)
        if balanced < LOW_SURROGATE_AGREEMENT:
            problem += (
                f". The surrogate the generator learns through agrees with the "
                f"model on only {balanced:.0%} of the held-out rows, averaged "
                "over classes: it hardly predicts the model's rarer classes, so "
                "the generator learns little from it (a torch module or skorch "
                "net as the model is differentiated directly, without one)"
            )
        if not report["held_out"]:
            problem += (
                f" (measured on {len(y_check)} of the training rows, as "
                "validation_fraction held none out: an optimistic figure)"
            )
        elif len(y_check) < FEW_SELF_CHECK_ROWS:
            problem += (
                f" (only {len(y_check)} rows were held out: a rough figure; "
                "a larger validation_fraction measures it better)"
            )
        advice = f"Try {self._remedies(fitting=True)}"
        if category is WeakGeneratorWarning:
            # The answers are valid already: what a remedy changes is who
            # makes them, and the generator's can be the worse ones.
            advice += f"; {WEAK_GENERATOR_TRADE_OFF}"
        warnings.warn(
            f"{type(self).__name__}: {problem}; fit_report_ has the figures. {advice}",
            category,
            stacklevel=user_stacklevel(),
        )
        return report

    def _check_own_predict(self, X_check, y_check, candidates, report):
        """Compare the classifier's ``predict`` with the probabilities judged by.

        On the self-check's last counterfactuals (and its rows), where the
        model's outputs come from a ``predict_proba`` or
        ``decision_function`` whose owner has its own ``predict``
        (:meth:`~cfexplain._predictor.Predictor.own_labels`): the share of
        answers whose most likely class ``predict`` also gives goes in
        ``report`` as ``predict_agreement_counterfactuals`` (and
        ``predict_agreement`` for the rows), with a
        :class:`~cfexplain.PredictMismatchWarning` under
        :data:`PREDICT_AGREEMENT`. A forest's, a boosted model's or a
        logistic regression's ``predict`` is the argmax of its
        probabilities (1.0); on a synthetic table (``make_classification``,
        1,200 rows of 8 numbers) ``SVC(probability=True)`` agreed on every
        row and 91 % of the GAN's counterfactuals, and 91 % of its answers
        changed what ``predict`` decides.
        """
        predictor = self.predictor_
        answers = self.adapter_.in_fit_format(candidates.counterfactuals)
        own = predictor.own_labels(answers)
        if own is None:
            return
        classes = np.asarray(predictor.classes_)
        judged = classes[np.asarray(self._model_outputs(candidates)).argmax(axis=1)]
        agreement = float(np.mean(own == judged))
        report["predict_agreement_counterfactuals"] = agreement
        rows = predictor.own_labels(X_check)  # as predict_proba saw them
        report["predict_agreement"] = float(
            np.mean(rows == classes[np.asarray(y_check).argmax(axis=1)])
        )
        if agreement >= PREDICT_AGREEMENT:
            return
        warnings.warn(
            f"{type(self).__name__}: the model's predict gives another class "
            f"than its {predictor.judged_by} for {1 - agreement:.0%} of the "
            f"self-check's counterfactuals ({1 - report['predict_agreement']:.0%} "
            f"of its rows). {self._predict_mismatch_advice()}; fit_report_ "
            "has the figures",
            PredictMismatchWarning,
            stacklevel=user_stacklevel(),
        )

    def _predict_mismatch_advice(self):
        """Say why validity differs from the classifier's predict, and what to give."""
        predictor = self.predictor_
        owner = type(predictor.judging_method.__self__).__name__
        if predictor.judged_by == "decision_function":
            estimator = predictor.judging_method.__self__
            # Only an SVC's predict can be made the argmax of its
            # decision_function, and only with one-vs-rest scores.
            ties = (
                "; or fit the SVC with break_ties=True, whose predict is the "
                "argmax of its decision_function"
                if "break_ties" in getattr(estimator, "get_params", dict)()
                and getattr(estimator, "decision_function_shape", "ovr") == "ovr"
                else ""
            )
            return (
                f"Validity is judged by the most likely class of the "
                f"decision_function, so those answers do not change what "
                f"{owner}.predict decides (a multi-class SVC's predict breaks "
                "ties of its one-vs-one votes by class order, and "
                "counterfactuals lie near such ties). To explain predict, give "
                f"predict as the model{ties}"
            )
        return (
            f"Validity is judged by predict_proba, so those answers do not "
            f"change what {owner}.predict decides: counterfactuals lie near "
            "the decision boundary, where a separately fitted calibration (an "
            "SVC's probability=True) disagrees most. To explain predict, give "
            "the classifier's decision_function or predict as the model, or "
            "calibrate it with CalibratedClassifierCV(..., ensemble=False), "
            "whose predict is the argmax of its probabilities"
        )

    def _rejected_by_own_predict(self, counterfactuals, y_cf, valid):
        """Flag the answers judged valid that the classifier's own ``predict`` rejects.

        ``transform`` and ``explain`` run it when the self-check
        (:meth:`_check_own_predict`) found the classifier's ``predict`` and
        the probabilities it is judged by disagreeing on a counterfactual,
        or looked at fewer than :data:`FEW_SELF_CHECK_ROWS`: on iris (150
        rows) the self-check's 10 answers all agreed, while ``predict``
        rejected 11 % of the test rows' answers of an
        ``SVC(probability=True)``. One more call of ``predict`` on the
        answers; models whose self-check agreed on enough rows (a
        forest's, a boosted model's, a logistic regression's ``predict``
        is the argmax of its probabilities) skip it. Validity stays the
        judgement of the model as given;
        :meth:`_warn_rejected_by_own_predict` counts the answers it leaves
        unchanged for ``predict``.

        Parameters
        ----------
        counterfactuals : object
            The answers, in the adapter's format.
        y_cf : numpy.ndarray of shape (n, n_classes)
            The model's outputs on them.
        valid : numpy.ndarray of bool, shape (n,)
            Which answers reach their target.

        Returns
        -------
        numpy.ndarray of bool of shape (n,), or None
            The valid answers ``predict`` puts in another class than the
            one judged; ``None`` where the check did not run.
        """
        report = getattr(self, "fit_report_", None) or {}
        agreement = report.get("predict_agreement_counterfactuals")
        if agreement is None or valid is None or not np.any(valid):
            return None
        if agreement >= 1.0 and report.get("n_rows", 0) >= FEW_SELF_CHECK_ROWS:
            return None
        predictor = self.predictor_
        own = predictor.own_labels(self.adapter_.in_fit_format(counterfactuals))
        if own is None:
            return None
        classes = np.asarray(predictor.classes_)
        judged = classes[np.asarray(y_cf).argmax(axis=1)]
        return np.asarray(valid, dtype=bool) & (own != judged)

    def _warn_rejected_by_own_predict(self, rejected, valid):
        """Warn :class:`~cfexplain.PredictMismatchWarning` with the count, if any.

        Once per call, whatever the number of chunks: ``rejected`` is
        :meth:`_rejected_by_own_predict`'s mask over the call's answers
        (``None``: not checked), ``valid`` their validity mask.
        """
        if rejected is None or not rejected.any():
            return
        warnings.warn(
            f"{int(rejected.sum())} of {int(np.sum(valid))} counterfactuals "
            f"judged valid by the model's {self.predictor_.judged_by} get "
            f"another class from its predict. {self._predict_mismatch_advice()}",
            PredictMismatchWarning,
            stacklevel=user_stacklevel(),
        )

    def _uses_training_row_candidates(self):
        """Whether every row also gets the training-row path's answer.

        ``training_row_candidates`` as set, or for ``"auto"`` what ``fit``
        chose (``training_row_candidates_``): on for a table of at most
        :data:`SMALL_TABLE_ROWS` training rows.
        """
        value = self.training_row_candidates
        if isinstance(value, str):  # "auto"
            return bool(getattr(self, "training_row_candidates_", False))
        return bool(value)

    def _remedies(self, fitting=False, constrained=False):
        """Say what may reach more targets, naming only what this explainer has.

        ``constrained``: the call froze or bounded something, which can put
        a target out of reach whatever the training.
        """
        remedies = ["more training (max_epochs)"]
        if constrained:
            kinds = CONSTRAINT_KINDS.get(self.modality_, "immutable")
            remedies.insert(0, f"looser constraints ({kinds})")
        if fitting:
            remedies.insert(0, self._larger_prediction_weight())
        if "n_candidates" in self._get_param_names():
            remedies.append("more n_candidates")
        if self.max_rounds < 2 and not self._uses_training_row_candidates():
            # With training-row candidates every row already takes the path.
            remedies.append("max_rounds=2 (repairs)")
        if len(remedies) == 1:
            return remedies[0]
        return ", ".join(remedies[:-1]) + " or " + remedies[-1]

    def _larger_prediction_weight(self):
        """Advise a larger ``prediction_weight``: a value for a table's classifier.

        For classifiers on tables it was the surest remedy for a weak
        generator, at the same fit time. Ten times the weight raised the
        share of the self-check's targets the generator alone reached in 9
        of 10 fits
        (GAN and AE, default settings otherwise, on German credit with a
        LogisticRegression and a RandomForest, wine, iris and a 4-feature
        table; e.g. German credit with the RandomForest, GAN 0.23 -> 0.93,
        AE 0.65 -> 0.99) and lowered it in one (AE, iris with a
        RandomForest, 0.73 -> 0.27). On the 4-feature table, where the GAN
        reached none, 100 times the weight reached all, 8 candidates none,
        and 3.2 times the epochs 48 % in 3.4 times the fit. On images a
        larger weight buys valid answers that look like no digit (the
        GAN's ``prediction_weight`` entry), so no value is named there, nor
        for a regression model, whose weight was measured apart (the GAN's
        ``"auto"`` is already 25 there).
        """
        weight = getattr(self, "prediction_weight_", self.prediction_weight)
        tabular_classifier = (
            self.modality_ == "tabular" and self.predictor_.task_ == CLASSIFICATION
        )
        if not tabular_classifier or not weight:
            return "a larger prediction_weight"
        return (
            f"a larger prediction_weight first (e.g. {10 * weight:g}, ten "
            f"times the {weight:g} used)"
        )

    def _repair(self, batch, counterfactuals, y_cf):
        """Give the counterfactuals the real model rejects up to ``max_rounds`` repairs.

        Round 1 applies the generator to its own output; round 2 follows a
        training-row path (:mod:`cfexplain._repair`). Tables take the path
        first, and the generator's second step only where the path leaves
        a row rejected (see :data:`PATH_FIRST`). Each round works on the
        rows still rejected, as one batch. Rows accepted by a round keep
        its answer; the others keep the generator's.

        Parameters
        ----------
        batch : CandidateBatch
            The rows being explained.
        counterfactuals : object
            One decoded counterfactual per row.
        y_cf : numpy.ndarray
            The real model's outputs on them.

        Returns
        -------
        counterfactuals, y_cf
            Repaired where a round succeeded.
        """
        rounds = (self._repair_by_generator, self._repair_by_training_rows)
        rounds = rounds[: self.max_rounds]
        if self._uses_training_row_candidates():
            # _compare_training_rows follows the path for every row next.
            rounds = rounds[:1]
        elif len(rounds) == 2 and self.adapter_.training_row_path in PATH_FIRST:
            rounds = rounds[::-1]
        # Rows whose answer may still fall short: every row, until a path
        # has run; after it, only those it was given (the others were
        # accepted and are left as they are).
        looked_at = np.arange(len(y_cf))
        repaired = []
        for repair in rounds:
            if not len(looked_at):
                rejected = looked_at
            elif repair == self._repair_by_generator:
                # The answers that miss their target. (After the path, also
                # giving it the valid answers that keep a lacking pair
                # changed no answer on Adult with Race and Sex immutable,
                # and cost the AE 5 % of its throughput.)
                met = batch.target.take(looked_at).is_met(y_cf[looked_at])
                rejected = looked_at[~np.asarray(met, dtype=bool)]
            else:
                # Valid answers that bring in what the training data lack
                # (plausible_categories) take the training-row path, whose
                # rows are real; they keep their answer if it finds none
                # both valid and plausible. The generator, applied to its
                # own output, kept such pairs (1 of 419 on Adult). Giving
                # the offending categories their original values back
                # instead, where the model still agreed, left the GAN's
                # answers less like the target class (class MMD² 0.062
                # against the path's 0.048 for class 0) and the AE no
                # faster. Once rare pairs counted too (the AE's answers held
                # one in 21 % of Adult's rows), giving the unchanged
                # category of the pair one of its 3 most common partners,
                # one model call instead of the path's three, made the AE
                # 10 % faster than the path but its class-1 MMD² 0.074
                # against the path's 0.047; a training penalty on the
                # probability the generator puts on lacking pairs (weight
                # 5) cut them from 27 % to 1.3 % of its answers and made
                # transform 20 % faster, but L1 0.320 against 0.293.
                # (Every row is still looked at: the path runs once.)
                grade = self._grades(batch, looked_at, counterfactuals, y_cf)
                rejected = np.flatnonzero(grade < ACCEPTED)
            if repair == self._repair_by_training_rows:
                looked_at = rejected
            if not len(rejected):
                continue
            counterfactuals, y_cf = self._repair_round(
                repair, batch, rejected, counterfactuals, y_cf
            )
            repaired.append(rejected)
        if self._repair_by_training_rows in rounds and repaired:
            # Whichever round made them, valid answers that still hold a
            # lacking pair get the last resort.
            counterfactuals, y_cf = self._give_back_lacking_pairs(
                batch, np.unique(np.concatenate(repaired)), counterfactuals, y_cf
            )
            counterfactuals, y_cf = self._search_unreached(batch, counterfactuals, y_cf)
        return counterfactuals, y_cf

    def _keep_values_outside_the_range(self, batch, counterfactuals, y_cf):
        """Keep an original's numbers outside the training range where the model agrees.

        The decoder answers within ``[min, max]`` of a number's training
        values, so every answer of a row aged 120 (German credit's oldest
        training row is 75) held an age of at most 75, whether or not the
        model needed the change. Answers that changed such a number try it
        with every such number given back
        (:meth:`~cfexplain.modalities.ModalityAdapter.restore_outside_training_range`,
        one batch of those rows only, one model call) and keep that copy
        where its grade is as good; where the model needs the change, the
        answer stays. Rows inside the range cost a comparison per number.
        ``y_cf`` may be ``None`` (answers the model has not seen, with
        ``max_rounds=0``): those rows' answers are then scored too, and
        ``None`` is returned for it.
        """
        adapter = self.adapter_
        made = adapter.restore_outside_training_range(batch.rows, counterfactuals)
        if made is None:
            return counterfactuals, y_cf
        rows, candidates = made
        candidates = batch.constraints.apply(
            adapter.take_rows(batch.rows, rows), candidates
        )
        y_candidates, grade = self._grade(batch, rows, candidates)
        answers = adapter.take_rows(counterfactuals, rows)
        if y_cf is None:
            _, before = self._grade(batch, rows, answers)
        else:
            before = self._grades(batch, rows, answers, y_cf[rows])
        kept = np.flatnonzero(grade >= before)
        if not len(kept):
            return counterfactuals, y_cf
        if y_cf is not None:
            y_cf = np.asarray(y_cf).copy()
            y_cf[rows[kept]] = np.asarray(y_candidates)[kept]
        counterfactuals = adapter.replace_rows(
            counterfactuals, rows[kept], adapter.take_rows(candidates, kept)
        )
        return counterfactuals, y_cf

    def _give_back_lacking_pairs(self, batch, rows, counterfactuals, y_cf):
        """Give valid answers that still bring in a lacking pair a last resort.

        After the training-row path, a valid answer can still hold a pair of
        categories the training rows lack: no training row of the target
        class was both reachable and plausible, most often because an
        immutable category's value is held by none of them (a new-user
        trial: with the job immutable, 15.7 % of the answers made a doctor
        work in "retail"; giving the sector back kept 21 % of those valid).
        Such answers try giving back the categories that brought the pairs
        in (:meth:`~cfexplain.modalities.ModalityAdapter.plausible_reverts`,
        one batch, one model call) and keep the first the model accepts
        that brings in nothing the data lack (the sparsest); the others
        stay as they are, reported by ``transform``'s warning and
        ``explain``'s mask. Only the repaired ``rows`` (by the path or
        the generator's step) are looked at: the others were already
        accepted.
        """
        if batch.plausibility_keys is None or not batch.constraints.alters_rows:
            # Unconstrained, the path moves towards a training row, whose
            # full copy the model accepts and which holds no lacking pair
            # (the pool keeps none): on Adult no valid answer of any
            # setting keeps one, and the check cost the AE 5 % of its
            # throughput for nothing.
            return counterfactuals, y_cf
        adapter = self.adapter_
        grade = self._grades(
            batch, rows, adapter.take_rows(counterfactuals, rows), y_cf[rows]
        )
        implausible = rows[grade == IMPLAUSIBLE]
        if not len(implausible):
            return counterfactuals, y_cf
        return self._repair_round(
            self._repair_by_giving_back, batch, implausible, counterfactuals, y_cf
        )

    def _repair_by_giving_back(self, batch, rows, current, y_current):
        """Give back categories of lacking pairs (see :meth:`_give_back_lacking_pairs`).

        Returns
        -------
        found, counterfactuals, y_cf
            As for :meth:`_repair_by_generator`.
        """
        adapter = self.adapter_
        found = np.zeros(len(rows), dtype=bool)
        originals = adapter.take_rows(batch.rows, rows)
        made = adapter.plausible_reverts(
            batch.plausibility_keys[rows], originals, current
        )
        if made is None:
            return found, current, y_current
        owner, candidates = made
        candidates = batch.constraints.apply(
            adapter.take_rows(originals, owner), candidates
        )
        y_candidates, grade = self._grade(batch, rows[owner], candidates)
        accepted = np.flatnonzero(grade == ACCEPTED)
        if not len(accepted):
            return found, current, y_current
        # Candidates come grouped by owner, in order of preference.
        first = _first_of_each(accepted, owner)
        found[owner[first]] = True
        y_all = np.asarray(y_current).copy()
        y_all[owner[first]] = np.asarray(y_candidates)[first]
        repaired = adapter.replace_rows(
            current, owner[first], adapter.take_rows(candidates, first)
        )
        return found, repaired, y_all

    def _compare_training_rows(self, batch, counterfactuals, y_cf):
        """Give every row a training-row candidate; keep the cheaper valid answer.

        With ``training_row_candidates``, each row not already at its
        target also follows the training-row path (the repair of round 2,
        :meth:`_repair_by_training_rows`, here with its numbers' moves
        shortened), and its answer becomes the
        valid one with the lowest cost (:meth:`_answer_costs`) of it, the
        current answer, both with the changes the model does not need
        given back (:meth:`_sparser_answers`), and the current answer with
        its numbers' moves shortened too (:meth:`_shorten_numeric_moves`):
        the distance moved plus the
        distance to the target class's training rows, so sparsity and
        realism count in the same units.
        A regression target's rows also get the move of one number nearest
        their target (:meth:`_one_number_answers`) as one more candidate.
        It costs a path (several model calls) for every row. Under
        constraints, a valid answer that still brings in a lacking pair
        then gets :meth:`_give_back_lacking_pairs`.

        Parameters
        ----------
        batch : CandidateBatch
        counterfactuals, y_cf
            Every row's answer so far and the model's outputs on it.

        Returns
        -------
        counterfactuals, y_cf
            With the training-row answers where they cost less.
        """
        if self.adapter_.training_row_path is None:
            return counterfactuals, y_cf
        rows = np.flatnonzero(~batch.target.is_met(batch.y_model))
        if not len(rows):
            return counterfactuals, y_cf
        # Where the path does not reach the target, the round leaves the
        # current answer: both costs are then equal and it stays.
        path, y_path = self._repair_round(
            partial(self._repair_by_training_rows, shorten=True),
            batch,
            rows,
            counterfactuals,
            y_cf,
        )
        adapter = self.adapter_
        options = [
            (adapter.take_rows(counterfactuals, rows), y_cf[rows]),
            (adapter.take_rows(path, rows), y_path[rows]),
        ]
        # Both with the changes the model does not need given back: a
        # network moves every number a little, and the path's shortened
        # moves can stop short of a tree's split, where they do nothing.
        options += self._sparser_answers(batch, rows, options)
        if adapter.training_row_path == "features":
            # The generator's answer (with its needless changes given back)
            # with each number's move shortened, as the path's are: a
            # network overshoots the model's boundary. Accepted answers
            # only, as for _sparser_answers: an answer keeping a lacking
            # pair may need its whole move to give the pair back below.
            answer, y_answer = options[2]  # the generator's, made sparser
            accepted = self._grades(batch, rows, answer, y_answer) == ACCEPTED
            where = np.flatnonzero(_first_answers(batch, rows) & accepted)
            if len(where):
                shorter, y_shorter = self._shorten_numeric_moves(
                    batch,
                    rows[where],
                    adapter.take_rows(answer, where),
                    np.asarray(y_answer)[where],
                )
                answer = adapter.replace_rows(answer, where, shorter)
                y_answer = np.array(y_answer, copy=True)
                y_answer[where] = y_shorter
                options.append((answer, y_answer))
        if (
            batch.target.task != CLASSIFICATION
            and adapter.training_row_path == "features"
        ):
            # A regression target's band, which copied values seldom land
            # on, is often reached by moving one number (see
            # _one_number_answers); rows it does not reach repeat their
            # current answer, which then stays.
            # (For explain, a row's first answer only: the others would
            # repeat it.)
            first = _first_answers(batch, rows)
            found = np.zeros(len(rows), dtype=bool)
            found[first], answers, y_answers = self._one_number_answers(
                batch, rows[first]
            )
            if found.any():
                where = np.flatnonzero(found)
                one = adapter.replace_rows(options[0][0], where, answers)
                y_one = np.array(options[0][1], copy=True)
                y_one[where] = y_answers
                options.append((one, y_one))
        # Every answer of every row is costed in one encoding and one
        # search of the reference rows; a row keeps the best grade, then
        # the lowest cost, the earlier option on a tie.
        grades, costs = self._answer_costs(
            batch,
            np.tile(rows, len(options)),
            adapter.stack_rows([answer for answer, _ in options]),
            np.concatenate([y for _, y in options]),
        )
        grades = grades.reshape(len(options), len(rows))
        costs = costs.reshape(len(options), len(rows))
        # lexsort's last key is the first: grade (descending), then cost.
        chosen = np.lexsort((costs, -grades), axis=0)[0]
        y_cf = y_cf.copy()
        for option in range(1, len(options)):
            better = np.flatnonzero(chosen == option)
            if len(better):
                answer, y_option = options[option]
                counterfactuals = adapter.replace_rows(
                    counterfactuals, rows[better], adapter.take_rows(answer, better)
                )
                y_cf[rows[better]] = np.asarray(y_option)[better]
        # Where both answers keep a lacking pair, the last resort of the
        # repairs (under constraints); where neither reaches the target,
        # the search of single features.
        counterfactuals, y_cf = self._give_back_lacking_pairs(
            batch, rows, counterfactuals, y_cf
        )
        return self._search_unreached(batch, counterfactuals, y_cf)

    def _one_number_answers(self, batch, rows):
        """Regression: each row's smallest move of one number onto its target.

        A line search per free number (:mod:`cfexplain._line_search`): the
        number at its training quantiles (one batch, one model call), then
        bisection of the bracket where the output enters the target nearest
        the original, towards the target's edge on the original's side (one
        batch and one call a step, every row and number together), in
        blocks of rows that keep a batch under
        :data:`~cfexplain._line_search.LINE_SEARCH_CANDIDATES` candidates.
        Moves are measured in training standard deviations; the data's
        precision (whole numbers for integer features) and the constraints
        apply to every candidate before the model sees it. Tables only.

        Parameters
        ----------
        batch : CandidateBatch
        rows : numpy.ndarray of int
            Rows of the batch off their target.

        Returns
        -------
        found : numpy.ndarray of bool, shape (len(rows),)
        answers : object
            The found rows' answers (one each, in order), decoded.
        y_answers : numpy.ndarray
            The model's outputs on them.
        """
        found = np.zeros(len(rows), dtype=bool)
        adapter = self.adapter_
        names = list(adapter.feature_names_)
        frozen = np.asarray(batch.frozen_features, dtype=bool)
        numbers, whole = self._pool_numbers()
        labels = [
            label
            for label in numbers
            if not frozen[names.index(label)] and len(numbers[label]) >= 2
        ]
        if not len(rows) or not labels:
            return found, None, None
        width = GRID_VALUES * len(labels)
        block = max(1, LINE_SEARCH_CANDIDATES // width)
        answers, y_answers = [], []
        for start in range(0, len(rows), block):
            part = rows[start : start + block]
            got, answer, y_answer = self._line_search(
                batch, part, labels, numbers, whole
            )
            found[start : start + block] = got
            if got.any():
                answers.append(answer)
                y_answers.append(y_answer)
        if not found.any():
            return found, None, None
        return found, adapter.stack_rows(answers), np.concatenate(y_answers)

    def _line_search(self, batch, rows, labels, numbers, whole):
        """Run :meth:`_one_number_answers`' search on one block of rows."""
        adapter = self.adapter_
        n = len(rows)
        target = batch.target.take(rows)
        originals = adapter.take_rows(batch.rows, rows)
        origin_side = side_of_target(target, np.asarray(batch.y_model)[rows])
        # Each row's best valid candidate so far: grade, move, and where it
        # is kept (winners[source][position]).
        best_grade = np.full(n, REJECTED)
        best_move = np.full(n, np.inf)
        source = np.full(n, -1)
        position = np.zeros(n, dtype=np.int64)
        winners = []

        def score(parts):
            """Score rows with one number moved each, in one model call.

            ``parts`` holds ``(owner, label, values)``: rows ``owner`` (of
            the block) with number ``label`` at ``values``. Returns, per
            part, the values after precision and constraints and the sides
            of the model's outputs.
            """
            frames = [
                with_values(
                    adapter.take_rows(originals, owner),
                    label,
                    values,
                    whole=whole[label],
                )
                for owner, label, values in parts
            ]
            owner = np.concatenate([owner for owner, _, _ in parts])
            part_of = np.repeat(np.arange(len(parts)), [len(o) for o, _, _ in parts])
            before = adapter.take_rows(originals, owner)
            candidates = batch.constraints.apply(
                before, adapter.at_data_precision(before, adapter.stack_rows(frames))
            )
            y, grade = self._grade(batch, rows[owner], candidates)
            moved, move = np.empty(len(owner)), np.empty(len(owner))
            for k, (_, label, _) in enumerate(parts):
                at = part_of == k
                moved[at] = candidates[label].to_numpy(dtype=np.float64)[at]
                origin = before[label].to_numpy(dtype=np.float64)[at]
                scale = adapter.numeric_std_[label] or 1.0
                move[at] = np.abs(moved[at] - origin) / scale
            # Each row's best candidate of this call, then the rows it betters.
            valid = np.flatnonzero(grade > REJECTED)
            order = valid[np.lexsort((move[valid], -grade[valid], owner[valid]))]
            first = order  # empty, or each owner's first in that order
            if len(order):
                first = order[np.r_[True, owner[order][1:] != owner[order][:-1]]]
            row = owner[first]
            better = (grade[first] > best_grade[row]) | (
                (grade[first] == best_grade[row]) & (move[first] < best_move[row])
            )
            first, row = first[better], row[better]
            if len(first):
                best_grade[row], best_move[row] = grade[first], move[first]
                source[row], position[row] = len(winners), np.arange(len(first))
                winners.append(
                    (adapter.take_rows(candidates, first), np.asarray(y)[first])
                )
            sides = side_of_target(target.take(owner), y)
            return [
                (moved[part_of == k], sides[part_of == k]) for k in range(len(parts))
            ]

        # The grid: every row with every number at each of its quantiles.
        parts = [
            (
                np.repeat(np.arange(n), len(numbers[label])),
                label,
                np.tile(numbers[label], n),
            )
            for label in labels
        ]
        lines = []
        for label, (moved, sides) in zip(labels, score(parts), strict=True):
            g = len(numbers[label])
            origin = originals[label].to_numpy(dtype=np.float64)
            points = np.column_stack([moved.reshape(n, g), origin])
            sides = np.column_stack([sides.reshape(n, g), origin_side])
            order = np.argsort(points, axis=1, kind="stable")
            outside, across, outside_side = nearest_crossing(
                np.take_along_axis(points, order, axis=1),
                np.take_along_axis(sides, order, axis=1),
                origin,
            )
            open_ = np.flatnonzero(np.isfinite(outside))
            lines.append(
                (label, open_, outside[open_], across[open_], outside_side[open_])
            )
        # Bisection of each bracket towards the edge of the target nearest
        # the original: a point inside is kept (score keeps each row's
        # smallest valid move) and becomes the bracket's far end.
        for _ in range(BISECTION_STEPS):
            lines = [line for line in lines if len(line[1])]
            if not lines:
                break
            scored = score(
                [(owner, label, (a + b) / 2) for label, owner, a, b, _ in lines]
            )
            for k, (moved, sides) in enumerate(scored):
                label, owner, outside, across, outside_side = lines[k]
                # Done where rounding (whole numbers, the data's decimals)
                # or a bound no longer splits the bracket.
                going = (moved != outside) & (moved != across)
                same = sides == outside_side
                outside = np.where(same, moved, outside)
                across = np.where(same, across, moved)
                lines[k] = (
                    label,
                    owner[going],
                    outside[going],
                    across[going],
                    outside_side[going],
                )
        found = source >= 0
        if not found.any():
            return found, None, None
        kept = np.flatnonzero(found)
        pieces, ys, order = [], [], []
        for k, (frame, y) in enumerate(winners):
            mine = kept[source[kept] == k]
            if len(mine):
                pieces.append(adapter.take_rows(frame, position[mine]))
                ys.append(y[position[mine]])
                order.append(mine)
        # Back to the order of the rows.
        back = np.argsort(np.concatenate(order), kind="stable")
        stacked = adapter.stack_rows(pieces)
        return found, adapter.take_rows(stacked, back), np.concatenate(ys)[back]

    def _pool_numbers(self):
        """Return each free-to-move number's grid values and whether it is whole.

        The grid (:func:`~cfexplain._line_search.grid_values`) comes from the
        repairs' pool of training rows; boolean features are left out.
        Returns ``(grids, whole)``: dicts keyed by the user's feature labels.
        """
        encoder = self.encoder_
        label_of = dict(
            zip(encoder.layout_.features, self.adapter_.feature_names_, strict=True)
        )
        grids, whole = {}, {}
        for feature, values in self._pool_number_values().items():
            dtype = encoder.dtypes_[feature]
            if pd.api.types.is_bool_dtype(dtype):
                continue
            grids[label_of[feature]] = grid_values(values)
            whole[label_of[feature]] = pd.api.types.is_integer_dtype(dtype)
        return grids, whole

    def _pool_number_values(self):
        """Return each number's values on the repairs' pool, by encoder name."""
        pool = self.reference_.Xt
        return {d.feature: d.values(pool) for d in self.encoder_.numeric_decodings()}

    def _search_unreached(self, batch, counterfactuals, y_cf):
        """Give the rows still off their target a search of their free features.

        After the path, on every row whose answer the model still rejects
        (for ``explain``, a row's first answer only: the search has one
        answer per row, which its other answers would repeat). Tables (a
        training-row path of features): :meth:`_repair_by_feature_search`;
        valid answers it finds that bring in a lacking pair then get
        :meth:`_give_back_lacking_pairs`. Series explaining a regression
        model: :meth:`_repair_by_blending`. It costs nothing where the path
        reached every row (on Adult, every setting of the benchmark).
        """
        path = self.adapter_.training_row_path
        if path not in ("features", "windows") or self.reference_ is None:
            return counterfactuals, y_cf
        if path == "windows" and self.predictor_.task_ == CLASSIFICATION:
            # Every class the pool holds is reached by a whole training
            # series, the path's longest window.
            return counterfactuals, y_cf
        met = np.asarray(batch.target.is_met(y_cf), dtype=bool)
        rows = np.flatnonzero(~met)
        rows = rows[_first_answers(batch, rows)]
        if not len(rows):
            return counterfactuals, y_cf
        if path == "windows":
            return self._repair_round(
                self._repair_by_blending, batch, rows, counterfactuals, y_cf
            )
        counterfactuals, y_cf = self._repair_round(
            partial(self._repair_by_feature_search, values=self._feature_values()),
            batch,
            rows,
            counterfactuals,
            y_cf,
        )
        return self._give_back_lacking_pairs(batch, rows, counterfactuals, y_cf)

    def _repair_by_blending(self, batch, rejected, current, y_current):
        """Regression on series: blend towards a training series beyond the target.

        A value target between the training series' outputs (a gap of the
        model's values) is met by no training series, so the window path has
        none to copy. Each rejected series takes the nearest training series
        whose output lies across the target from the original's (or in it),
        and the straight line between the two, ``x + t (r - x)`` for ``t``
        in ``[0, 1]``, frozen values kept, is searched by bisection for the
        smallest ``t`` the model puts on the target: one batch and one
        model call for ``t = 1``, then one per halving
        (:data:`~cfexplain._line_search.BISECTION_STEPS`). A model whose
        output moves monotonically along the line (a linear one) is
        reached wherever the target lies between the two outputs; the
        search of a table's numbers (:meth:`_one_number_answers`) is the
        tabular counterpart.

        Returns
        -------
        found, counterfactuals, y_cf
            As for :meth:`_repair_by_generator`.
        """
        found = np.zeros(len(rejected), dtype=bool)
        target = batch.target.take(rejected)
        origin_side = side_of_target(target, np.asarray(batch.y_model)[rejected])
        # The training series across the target (or in it): from below,
        # values of at least `low`; from above, at most `high`.
        across = replace(
            target,
            low=np.where(origin_side < 0, target.low, -np.inf),
            high=np.where(origin_side < 0, np.inf, target.high),
        )
        Xt = batch.Xt[rejected]
        nearest = self.reference_.nearest(Xt, across, batch.frozen_features)
        has = np.flatnonzero((nearest >= 0) & (origin_side != 0))
        if not len(has):
            return found, current, y_current
        frozen = batch.frozen_columns[rejected[has]] > 0
        x = np.asarray(Xt[has], dtype=np.float64)
        goal = np.where(frozen, x, self.reference_.Xt[nearest[has]])
        side = origin_side[has]
        # The bracket of t per series: `near` on the original's side,
        # `far` on the target or across it.
        near, far = np.zeros(len(has)), np.ones(len(has))
        # Each series' nearest point on target so far: scored[source][position].
        scored, y_scored = [], []
        source = np.full(len(has), -1, dtype=np.int64)
        position = np.zeros(len(has), dtype=np.int64)
        active = np.arange(len(has))
        for step in range(BISECTION_STEPS + 1):
            if not len(active):
                break
            t = far[active] if step == 0 else (near[active] + far[active]) / 2
            built = x[active] + t[:, None] * (goal[active] - x[active])
            rows = rejected[has[active]]
            decoded = self._decode(batch, rows, built.astype(np.float32))
            y, grade = self._grade(batch, rows, decoded)
            inside = np.flatnonzero(grade > REJECTED)
            source[active[inside]] = len(scored)
            position[active[inside]] = inside
            scored.append(decoded)
            y_scored.append(np.asarray(y))
            now = side_of_target(target.take(has[active]), y)
            beyond = now != side[active]
            if step == 0:
                # The blend's far end stays on the original's side (frozen
                # values kept): no crossing to search on this line.
                active = active[beyond]
                continue
            far[active[beyond]] = t[beyond]
            near[active[~beyond]] = t[~beyond]
        reached = np.flatnonzero(source >= 0)
        if not len(reached):
            return found, current, y_current
        decoded, y_reached = self._gather_scored(
            scored, y_scored, source[reached], position[reached]
        )
        y_all = np.asarray(y_current).copy()
        y_all[has[reached]] = y_reached
        found[has[reached]] = True
        return found, self.adapter_.replace_rows(current, has[reached], decoded), y_all

    def _feature_values(self):
        """Return the values the feature search tries (:class:`FeatureValues`).

        Taken from the repairs' pool of training rows; each number's values,
        read off their encoding, rank them.
        """
        values = self._pool_number_values()
        numbers = [values.get(feature) for feature in self.encoder_.layout_.features]
        return FeatureValues.from_rows(
            self.reference_.Xt, self.adapter_.feature_of_column_, numbers
        )

    def _repair_by_feature_search(self, batch, rejected, current, y_current, *, values):
        """Change free features one at a time until the model agrees.

        Greedy (see :mod:`cfexplain._feature_search`): each step tries, in
        one batch and one model call, every free feature not yet changed at
        each of its training values; a row takes its cheapest candidate the
        model accepts (best grade, then the L1 distance on the encoding
        from the original), or else the one nearest the target
        (:func:`~cfexplain._feature_search.target_margin`) and goes on, for
        at most :data:`~cfexplain._feature_search.SEARCH_STEPS` steps; a row
        none of whose candidates comes nearer the target than it stands
        stops there. A row reached with several changes then tries giving
        back each one alone (one more batch) and keeps the cheapest the
        model accepts. ``values`` are the :class:`FeatureValues` tried.

        Returns
        -------
        found, counterfactuals, y_cf
            As for :meth:`_repair_by_generator`.
        """
        frozen = np.asarray(batch.frozen_features, dtype=bool)
        n_rows, n_encoded = len(rejected), batch.Xt.shape[1]
        originals = np.asarray(batch.Xt[rejected], dtype=np.float32)
        state = originals.copy()
        free = np.broadcast_to(~frozen, (n_rows, len(frozen))).copy()
        changed = np.zeros_like(free)
        found = np.zeros(n_rows, dtype=bool)
        grade_of = np.full(n_rows, REJECTED)
        y_of = {}
        # Where each row stands: the search starts from the original.
        target = batch.target.take(rejected)
        margin_of = target_margin(target, np.asarray(batch.y_model)[rejected])
        stuck = np.zeros(n_rows, dtype=bool)
        # Rows per batch: about 2**22 encoded values of candidates at once.
        block = max(1, 2**22 // max(1, values.n_candidates() * n_encoded))
        for _ in range(SEARCH_STEPS):
            active = np.flatnonzero(~found & ~stuck & free.any(axis=1))
            for start in range(0, len(active), block):
                part = active[start : start + block]
                local, feature, Xt = values.candidates(state[part], free[part])
                if not len(local):
                    stuck[part] = True
                    continue
                owner = part[local]
                decoded = self._decode(
                    batch, rejected[owner], Xt, revert_negligible=False
                )
                y, grade = self._grade(batch, rejected[owner], decoded)
                cost = np.abs(Xt - originals[owner]).sum(axis=1, dtype=np.float64)
                valid = grade > REJECTED
                # A row with an accepted candidate takes the best one.
                chosen = _best_per_row(owner, -grade, cost, keep=valid)
                for row, at in chosen.items():
                    found[row], grade_of[row], y_of[row] = True, grade[at], y[at]
                    state[row] = Xt[at]
                    changed[row, feature[at]] = True
                # The others take the change nearest the target and go on,
                # if it comes nearer than they stand.
                margin = target_margin(target.take(owner), y)
                nearer = ~found[owner] & (margin > margin_of[owner])
                moved = _best_per_row(owner, -margin, cost, keep=nearer)
                for row, at in moved.items():
                    state[row], margin_of[row] = Xt[at], margin[at]
                    changed[row, feature[at]] = True
                    free[row, feature[at]] = False
                left = part[~found[part]]
                stuck[left[~np.isin(left, list(moved))]] = True
        reached = np.flatnonzero(found)
        if not len(reached):
            return found, current, y_current
        self._give_back_one_change(
            batch, rejected, originals, (state, grade_of, y_of), changed, reached
        )
        decoded = self._decode(
            batch, rejected[reached], state[reached], revert_negligible=False
        )
        y_all = np.asarray(y_current).copy()
        y_all[reached] = np.stack([y_of[row] for row in reached.tolist()])
        return found, self.adapter_.replace_rows(current, reached, decoded), y_all

    def _give_back_one_change(
        self, batch, rejected, originals, answers, changed, reached
    ):
        """Try each reached row without each one of its changes (one batch).

        ``answers`` is ``(state, grade_of, y_of)``: the rows' encoded
        answers, grades and model outputs, updated in place where a row
        keeps the cheapest variant the model grades as well as its answer.
        """
        state, grade_of, y_of = answers
        several = reached[changed[reached].sum(axis=1) >= 2]
        if not len(several):
            return
        owner, feature = np.nonzero(changed[several])
        owner = several[owner]
        columns = self.adapter_.feature_of_column_
        Xt = state[owner].copy()
        back = columns[None, :] == feature[:, None]
        Xt[back] = originals[owner][back]
        decoded = self._decode(batch, rejected[owner], Xt, revert_negligible=False)
        y, grade = self._grade(batch, rejected[owner], decoded)
        cost = np.abs(Xt - originals[owner]).sum(axis=1, dtype=np.float64)
        good = grade >= grade_of[owner]
        for row, at in _best_per_row(owner, -grade, cost, keep=good).items():
            state[row], grade_of[row], y_of[row] = Xt[at], grade[at], y[at]

    def _answer_costs(self, batch, rows, counterfactuals, y_cf):
        """Return the grade and the cost of each row's answer.

        The grade is :meth:`_grade`'s (higher is better: valid and
        plausible, valid, rejected). The cost (lower is better, ``inf`` if
        rejected) is the L1 distance on the encoding from the original (the
        distance moved) plus the mean L1 distance to the 10 nearest
        training rows of the target class
        (:meth:`ReferenceRows.typicality_distance`, how far the answer is
        from what that class looks like).
        """
        Xt_cf = self.encoder_.transform(self.adapter_.in_fit_format(counterfactuals))
        target = batch.target.take(rows)
        moved = np.abs(Xt_cf - batch.Xt[rows]).sum(axis=1, dtype=np.float64)
        typical = self.reference_.typicality_distance(Xt_cf, target)
        grade = self._grades(batch, rows, counterfactuals, y_cf)
        return grade, np.where(grade > REJECTED, moved + typical, np.inf)

    def _repair_round(self, repair, batch, rows, counterfactuals, y_cf):
        """Run one repair round on ``rows`` of the batch, a chunk at a time.

        Parameters
        ----------
        repair : callable
            :meth:`_repair_by_generator` or :meth:`_repair_by_training_rows`.
        batch : CandidateBatch
        rows : numpy.ndarray of int
            Positions of the rows to repair.
        counterfactuals, y_cf
            Every row's counterfactual and the model's outputs on them.

        Returns
        -------
        counterfactuals, y_cf
            With the answers of the rows the round repaired.
        """
        adapter = self.adapter_
        # Rows per chunk: a training-row path holds (features x rows x
        # encoded columns) candidates at once. Without a path (images) a
        # round holds one candidate a row: one chunk, and the model's own
        # batching decides its calls.
        if adapter.training_row_path is None:
            chunk = max(1, len(rows))
        else:
            chunk = self._path_chunk(batch)
        current = adapter.take_rows(counterfactuals, rows)
        parts = [
            repair(
                batch,
                rows[start : start + chunk],
                adapter.take_rows(
                    current, np.arange(start, min(start + chunk, len(rows)))
                ),
                y_cf[rows[start : start + chunk]],
            )
            for start in range(0, len(rows), chunk)
        ]
        found = np.concatenate([part[0] for part in parts])
        if not found.any():
            return counterfactuals, y_cf
        repaired = adapter.stack_rows([part[1] for part in parts])
        y_repaired = np.concatenate([part[2] for part in parts])
        fixed = rows[found]
        counterfactuals = adapter.replace_rows(
            counterfactuals, fixed, adapter.take_rows(repaired, np.flatnonzero(found))
        )
        y_cf = y_cf.copy()
        y_cf[fixed] = y_repaired[found]
        return counterfactuals, y_cf

    def _sparser_answers(self, batch, rows, options):
        """Give back the changes of valid answers that the model does not need.

        The steps of the training-row path (:meth:`_feature_path`) with an
        answer in place of the training row: the original takes the
        answer's values feature by feature, largest difference first, until
        the model agrees, then gives back the features it does not need.
        This is the post-hoc sparsity enhancement of DiCE (Mothilal et al.
        2020, section 4) in a few batched model calls, for all the options
        at once. Valid answers that bring in nothing the training data
        lack only (:meth:`_grade`'s ``ACCEPTED``); tables only; for
        ``explain``, a row's first answer only (the others, sparsified,
        could become the same answer). With a
        RandomForest on breast cancer's 30 numbers (AE, defaults) the
        answers changed 8.53 features on average without it and 7.97 with
        it; with XGBoost 4.45 and 4.25 (see :data:`BACKWARD_ROUNDS`).

        Parameters
        ----------
        batch : CandidateBatch
        rows : numpy.ndarray of int, shape (r,)
            Positions in the batch of the answers' rows.
        options : list of (answers, y)
            Each an answer per row of ``rows`` and the model's outputs.

        Returns
        -------
        list of (answers, y)
            The options, sparser where the model allows; the other
            answers as they came.
        """
        adapter = self.adapter_
        if adapter.training_row_path != "features":
            return []
        r = len(rows)
        answers = adapter.stack_rows([answer for answer, _ in options])
        y_answers = np.concatenate([np.asarray(y) for _, y in options])
        owner = np.tile(rows, len(options))
        # Valid answers that bring in nothing the data lack: a path's prefix
        # must then stay so. (From an implausible answer it could keep the
        # lacking pair and give back the change that made the row valid
        # without it.)
        accepted = self._grades(batch, owner, answers, y_answers) == ACCEPTED
        where = np.flatnonzero(accepted & _first_answers(batch, owner))
        chunk = self._path_chunk(batch)
        for start in range(0, len(where), chunk):
            part = where[start : start + chunk]
            goal_rows = adapter.take_rows(answers, part)
            goal = self.encoder_.transform(adapter.in_fit_format(goal_rows))
            reached, decoded, y_final = self._feature_path(
                batch, owner[part], batch.Xt[owner[part]], goal, goal_rows
            )
            if reached.any():
                answers = adapter.replace_rows(answers, part[reached], decoded)
                y_answers[part[reached]] = y_final
        return [
            (
                adapter.take_rows(answers, np.arange(k * r, (k + 1) * r)),
                y_answers[k * r : (k + 1) * r],
            )
            for k in range(len(options))
        ]

    def _path_chunk(self, batch):
        """Rows per chunk of a training-row path.

        A path holds (features x rows x encoded columns) candidates at once;
        a chunk keeps that under 2**24 values.
        """
        n_features = len(batch.frozen_features)
        return max(16, 2**24 // (n_features * batch.Xt.shape[1]))

    def _repair_by_generator(self, batch, rejected, current, y_current):
        """Apply the generator to its own counterfactuals (one more step).

        Returns
        -------
        found : numpy.ndarray of bool
            Which rejected rows the round repaired.
        counterfactuals : object
            The round's counterfactual of each rejected row.
        y_cf : numpy.ndarray
            The model's outputs on them.
        """
        Xt_current = self.encoder_.transform(self.adapter_.in_fit_format(current))
        Xt_cf = self.net_.generate(
            Xt_current,
            self._condition(y_current),
            batch.target_condition[rejected],
            batch.frozen_columns[rejected],
        )
        decoded = self._decode(batch, rejected, Xt_cf)
        y_cf, grade = self._grade(batch, rejected, decoded)
        return _improves(batch, rejected, grade, y_current), decoded, y_cf

    def _gather_scored(self, scored, y_scored, source, position):
        """Return the rows ``scored[source[i]][position[i]]`` and their outputs."""
        adapter = self.adapter_
        order = np.argsort(source, kind="stable")
        parts, outputs = [], []
        for b in range(len(scored)):
            picked = position[order][source[order] == b]
            parts.append(adapter.take_rows(scored[b], picked))
            outputs.append(np.asarray(y_scored[b])[picked])
        stacked = adapter.stack_rows(parts)
        back = np.empty_like(order)
        back[order] = np.arange(len(order))
        return adapter.take_rows(stacked, back), np.concatenate(outputs)[back]

    def _repair_by_training_rows(
        self, batch, rejected, current, y_current, *, shorten=False
    ):
        """Move each row towards its nearest target-class training row.

        The nearest training row that the real model puts in the target
        class is valid and realistic by construction (the
        ``batch.reference_rank``-th nearest, where ``explain`` asks for
        several different answers); under constraints that can change a
        copy, the nearest whose copy stays valid
        (:meth:`_path_references`). Tables
        (``adapter_.training_row_path == "features"``) copy its values
        feature by feature (:meth:`_feature_path`), series (``"windows"``)
        a window of time points (:meth:`_window_path`); other modalities
        skip this round. With ``shorten``, a table's answers also give back
        the part of each number's move the model does not need
        (:meth:`_shorten_numeric_moves`, one more model call): the
        training-row candidates of every row take it, the repairs of the
        few rejected rows do not, to keep their cost down.

        Returns
        -------
        found, counterfactuals, y_cf
            As for :meth:`_repair_by_generator`.
        """
        found = np.zeros(len(rejected), dtype=bool)
        path = self.adapter_.training_row_path
        if path is None:
            return found, current, y_current
        reference = self.reference_
        if reference is None:
            raise ValueError(
                "max_rounds=2 and training_row_candidates=True use training "
                "rows that fit keeps only when it runs with one of them; this "
                "explainer was fit with neither: fit it again after "
                "set_params(max_rounds=2) or set_params("
                "training_row_candidates=True)"
            )
        Xt = batch.Xt[rejected]
        valid_now = np.asarray(batch.target.take(rejected).is_met(y_current), bool)
        if valid_now.any() and batch.constraints.alters_rows:
            # Valid answers here only for plausibility move towards their
            # nearest training row as it is, without the scoring of
            # constrained copies: on Adult with Race and Sex immutable
            # (GAN, MLP) that scoring halved transform's speed (53,867 ->
            # 24,480 rows/s) for rows that already have a valid answer.
            nearest = np.empty(len(rejected), dtype=np.int64)
            rank = batch.reference_rank
            rank = None if rank is None else rank[rejected[valid_now]]
            nearest[valid_now] = reference.nearest(
                Xt[valid_now],
                batch.target.take(rejected[valid_now]),
                batch.frozen_features,
                rank=rank,
            )
            nearest[~valid_now] = self._path_references(
                batch, rejected[~valid_now], Xt[~valid_now]
            )
        else:
            nearest = self._path_references(batch, rejected, Xt)
        has_path = nearest >= 0
        if not has_path.any():
            return found, current, y_current
        if path == "features":
            goal_rows = getattr(reference, "rows", None)  # fit before it existed
            if goal_rows is not None:
                goal_rows = self.adapter_.take_rows(goal_rows, nearest[has_path])
            reached, decoded, y_final = self._feature_path(
                batch,
                rejected[has_path],
                Xt[has_path],
                reference.Xt[nearest[has_path]],
                goal_rows,
            )
        else:
            reached, decoded, y_final = self._window_path(
                batch, rejected[has_path], Xt[has_path], reference.Xt[nearest[has_path]]
            )
        if not reached.any():
            return found, current, y_current
        if shorten and path == "features":
            decoded, y_final = self._shorten_numeric_moves(
                batch, rejected[has_path][reached], decoded, y_final
            )
        positions = np.flatnonzero(has_path)[reached]
        # An implausible (valid) path answer only replaces an invalid one.
        implausible = self._implausible(batch, rejected[positions], decoded)
        kept = ~implausible | ~valid_now[positions]
        decoded = self.adapter_.take_rows(decoded, np.flatnonzero(kept))
        positions, y_final = positions[kept], np.asarray(y_final)[kept]
        if not len(positions):
            return found, current, y_current
        found[positions] = True
        # One row per rejected row: the path's where it reached the target.
        y_all = np.asarray(y_current).copy()
        y_all[positions] = y_final
        return found, self.adapter_.replace_rows(current, positions, decoded), y_all

    def _path_references(self, batch, rows, Xt):
        """Return the training row each row's path moves towards (-1: none).

        The nearest training row that the model puts in the target class
        (the ``batch.reference_rank``-th nearest for ``explain``). Where the
        constraints can change a copied row (immutable features, frozen
        values, bounds, monotonic directions), that row's copy as the
        constraints leave it (the original's frozen values, numbers clipped
        to their bounds and directions) may no longer reach the target, and
        then no path towards it does. The copies of the ``rank +``
        :data:`CONSTRAINED_REFERENCES` nearest (among the training rows
        :meth:`_unclipped_rows` keeps) are then scored in one batch, and
        rank ``j`` takes the ``j + 1``-th copy the model accepts, so that
        ``explain``'s answers stay different. A row whose copies the model
        all rejects scores :data:`DEEPER_REFERENCES_FACTOR` times as many,
        among all training rows (copies clipped by the constraints
        included): on a synthetic mixed table of 1,200 training rows under
        two immutable features, two monotonic ones and a bound, 44 of 85
        rows missed a gradient-boosting model's other class (the GAN at its
        defaults), 11 of which some training row's constrained copy
        reaches; looking 64 deep 37 missed (among the filtered rows only,
        42). A row with too few keeps its ``rank``-th nearest.

        Parameters
        ----------
        batch : CandidateBatch
        rows : numpy.ndarray of int, shape (r,)
            Positions in the batch.
        Xt : numpy.ndarray of shape (r, n_encoded)
            Their encoded originals.

        Returns
        -------
        numpy.ndarray of int, shape (r,)
            Indices into ``reference_``'s pool.
        """
        reference = self.reference_
        target = batch.target.take(rows)
        rank = batch.reference_rank
        rank = np.zeros(len(rows), np.int64) if rank is None else rank[rows]
        frozen = batch.frozen_features
        if not batch.constraints.alters_rows or not len(rows):
            # An unconstrained copy is the training row itself: it reaches
            # the target by construction.
            return reference.nearest(Xt, target, frozen, rank=rank)
        # Each row looks as deep as its own rank needs, whatever the other
        # rows' ranks: explain's first answer is then transform's (a call
        # asking for 3 answers had looked 10 deep for every row, and found
        # first answers that transform's 8 did not).
        own_depth = rank + CONSTRAINED_REFERENCES
        depth = int(own_depth.max())
        several, graded = self._scored_copies(batch, rows, Xt, target, depth)
        graded[np.arange(depth)[None, :] >= own_depth[:, None]] = REJECTED
        # Rows whose copies the model all rejects look deeper, once: under
        # heavy constraints a valid copy may lie further out.
        lacking = np.flatnonzero(~(graded > REJECTED).any(axis=1))
        if len(lacking):
            own_deep = own_depth * DEEPER_REFERENCES_FACTOR
            deep = int(own_deep[lacking].max())
            width = max(depth, deep)
            several = np.pad(several, ((0, 0), (0, width - depth)), constant_values=-1)
            graded = np.pad(
                graded, ((0, 0), (0, width - depth)), constant_values=REJECTED
            )
            # A block's copies take about as much memory as a path's batch.
            block = max(16, 2**24 // (deep * Xt.shape[1]))
            for start in range(0, len(lacking), block):
                part = lacking[start : start + block]
                several[part, :deep], graded[part, :deep] = self._scored_copies(
                    batch, rows[part], Xt[part], target.take(part), deep, filtered=False
                )
                several[part, deep:], graded[part, deep:] = -1, REJECTED
            graded[np.arange(width)[None, :] >= own_deep[:, None]] = REJECTED
        nearest = nearest_of_rank(several, rank)
        # Plausible copies first; a row with none takes the valid ones.
        accepted = graded >= graded.max(axis=1, keepdims=True)
        accepted &= graded > REJECTED
        wanted = accepted & (np.cumsum(accepted, axis=1) == rank[:, None] + 1)
        column = wanted.argmax(axis=1)
        return np.where(
            wanted.any(axis=1), several[np.arange(len(rows)), column], nearest
        )

    def _scored_copies(self, batch, rows, Xt, target, depth, *, filtered=True):
        """Grade the constrained copies of each row's ``depth`` nearest references.

        Returns
        -------
        several : numpy.ndarray of int, shape (r, depth)
            :meth:`ReferenceRows.nearest_several`'s indices (-1: none); with
            ``filtered``, among the training rows :meth:`_unclipped_rows`
            keeps where it keeps any.
        graded : numpy.ndarray of int, shape (r, depth)
            The grade (:meth:`_grade`) of each copy as the constraints leave
            it; ``REJECTED`` for -1.
        """
        reference, frozen = self.reference_, batch.frozen_features
        unclipped = self._unclipped_rows(batch, rows) if filtered else None
        several = reference.nearest_several(
            Xt, target, frozen, depth, allowed=unclipped
        )
        if unclipped is not None:
            # Rows with no training row that the constraints leave whole
            # choose among the unfiltered ones.
            none_kept = np.flatnonzero(several[:, 0] < 0)
            if len(none_kept):
                several[none_kept] = reference.nearest_several(
                    Xt[none_kept], target.take(none_kept), frozen, depth
                )
        graded = np.full(several.shape, REJECTED)
        owner, slot = np.nonzero(several >= 0)
        if not len(owner):
            return several, graded
        pool = several[owner, slot]
        pool_rows = getattr(reference, "rows", None)  # fit before it existed
        if self.adapter_.training_row_path == "features" and pool_rows is not None:
            free = np.broadcast_to(frozen == 0, (len(owner), len(frozen)))
            decoded = self._copied_values(
                batch, rows[owner], self.adapter_.take_rows(pool_rows, pool), free
            )
        else:
            copies = np.where(
                batch.frozen_columns[rows[owner]] > 0, Xt[owner], reference.Xt[pool]
            )
            decoded = self._decode(
                batch, rows[owner], copies.astype(np.float32), revert_negligible=False
            )
        # A copy that is its training row as the model read it at fit (the
        # original shares the row's frozen values and the constraints clip
        # nothing) has the output fit recorded: at the target,
        # since the nearest rows are searched among those. Only the other
        # copies are scored. With Race and Sex immutable on Adult most of
        # the nearest rows share them (frozen features weigh
        # FROZEN_DISTANCE_WEIGHT in the search).
        y_copies = reference.y_model[pool]  # a copy: fancy indexing
        changed = np.arange(len(owner))
        if pool_rows is not None:
            same = self.adapter_.equal_rows(
                decoded, self.adapter_.take_rows(pool_rows, pool)
            )
            changed = np.flatnonzero(~same)
        if len(changed):
            y_copies[changed] = self.predictor_.predict(
                self.adapter_.in_fit_format(self.adapter_.take_rows(decoded, changed))
            )
        graded[owner, slot] = self._grades(batch, rows[owner], decoded, y_copies)
        return several, graded

    def _copied_values(self, batch, row_of, donors, take):
        """Return originals that copy the flagged features of donor rows.

        Built in the user's format (:meth:`TabularAdapter.mix_rows`: the
        donors' values exactly, no decoding), then corrected by the
        constraints, as :meth:`_decode` corrects decoded candidates.

        Parameters
        ----------
        batch : CandidateBatch
        row_of : numpy.ndarray of int, shape (r,)
            Each candidate's original row (a position in the batch).
        donors : pandas.DataFrame of shape (r, n_features)
            The rows the candidates copy from.
        take : numpy.ndarray of bool, shape (r, n_features)
            Which features each candidate copies.
        """
        originals = self.adapter_.take_rows(batch.rows, row_of)
        mixed = self.adapter_.mix_rows(originals, donors, take)
        return batch.constraints.apply(originals, mixed)

    def _unclipped_rows(self, batch, rows):
        """Return a filter of the training rows the numeric constraints leave whole.

        A training row whose value of an increasing feature lies below the
        original's (a decreasing one above it), or outside a feature's
        bounds, is copied with that value clipped: the copy is then not the
        training row, and often not at the target any more. The filter
        (see :meth:`ReferenceRows.nearest_several`) skips such rows, up to
        the slack :meth:`_decode` forgives (``numeric_tolerance`` training
        standard deviations, and float32 rounding of the pool's encoding);
        immutable features, whose copies keep the original's value, are
        not looked at. It is ``None`` without ``monotonic`` or ``bounds``
        (and for series, whose bounds clip whole channels and leave the
        choice to the scoring of copies in :meth:`_path_references`).
        """
        if self.adapter_.training_row_path != "features":
            return None
        constraints = batch.constraints
        frozen = set(constraints.immutable)
        monotonic = {n: d for n, d in constraints.monotonic.items() if n not in frozen}
        bounds = {n: b for n, b in constraints.bounds.items() if n not in frozen}
        if not (monotonic or bounds):
            return None
        names = list(dict.fromkeys([*monotonic, *bounds]))
        positions = [list(self.adapter_.feature_names_).index(n) for n in names]
        decoded = np.asarray(self.encoder_.inverse_transform(self.reference_.Xt))
        # Ordered categories compare by their rank, as the constraints do.
        pool = np.column_stack(
            [
                constraints.as_numbers(name, decoded[:, position])
                for name, position in zip(names, positions, strict=True)
            ]
        )
        originals = np.column_stack(
            [constraints.as_numbers(n, batch.rows[n].to_numpy()) for n in names]
        )[rows]
        std = self.adapter_.numeric_std_
        slack = np.array([self.numeric_tolerance * std.get(n, 0.0) for n in names])
        slack = slack + 1e-6 * np.maximum(1.0, np.abs(pool))
        low = np.array([bounds.get(n, (None, None))[0] for n in names], dtype=float)
        high = np.array([bounds.get(n, (None, None))[1] for n in names], dtype=float)
        low, high = np.nan_to_num(low, nan=-np.inf), np.nan_to_num(high, nan=np.inf)
        inside = ((pool >= low - slack) & (pool <= high + slack)).all(axis=1)
        directed = [(names.index(n), d) for n, d in monotonic.items()]

        def allowed(part, pool_rows):
            # One (rows, pool rows) matrix at a time: memory stays that of
            # the distance block, whatever the number of features.
            ok = np.repeat(inside[pool_rows][None, :], len(part), axis=0)
            for j, direction in directed:
                move = pool[pool_rows, j][None, :] - originals[part, j][:, None]
                ok &= direction * move >= -slack[pool_rows, j][None, :]
            return ok

        return allowed

    def _window_path(self, batch, rows, x, goal):
        """Copy the nearest training series' values over a window of time points.

        For each of :data:`WINDOW_LENGTHS` lengths (a tenth of the series,
        two tenths, ..., all of it) the window where the series' free values
        differ most from its reference series' (summed over channels; frozen
        values cannot be copied, so they do not place it) takes the
        reference's values on every channel, frozen values excepted; the
        shortest window the real model accepts is the answer. The lengths
        are scored in ascending stages of 1, 2, 4, ... lengths (one batch
        each), and a series leaves at the first stage with an accepted
        window: the same answer as scoring every length, with fewer series
        through the model when short windows suffice. This is Native
        Guide's construction (Delaney et al. 2021, the nearest unlike
        neighbour's values over a growing window), with the window placed
        by the difference instead of a class activation map, so that it
        works for any model.

        Parameters
        ----------
        batch : CandidateBatch
        rows : numpy.ndarray of int, shape (r,)
            Positions in the batch of the rows that have a reference series.
        x, goal : numpy.ndarray of shape (r, n_encoded)
            Their encoded originals and reference series.

        Returns
        -------
        reached : numpy.ndarray of bool, shape (r,)
        counterfactuals : object or None
            The accepted rows' counterfactuals, in the order of
            ``rows[reached]`` (``None`` when there are none).
        y_cf : numpy.ndarray or None
            The model's outputs on them.
        """
        n_channels, n_steps = self.encoder_.series_shape_
        r = len(rows)
        series_shape = (r, n_channels, n_steps)
        x_series, goal_series = x.reshape(series_shape), goal.reshape(series_shape)
        frozen = batch.frozen_columns[rows].reshape(series_shape) > 0
        # Frozen values keep the original's: only free ones can be copied,
        # so only they place the window.
        difference = np.where(frozen, 0.0, np.abs(x_series - goal_series)).sum(axis=1)
        running = np.concatenate(
            [np.zeros((r, 1)), np.cumsum(difference, axis=1)], axis=1
        )
        lengths = np.unique(
            np.ceil(np.arange(1, WINDOW_LENGTHS + 1) / WINDOW_LENGTHS * n_steps)
        ).astype(np.int64)
        steps = np.arange(n_steps)
        # Every accepted series' answer: (stage, position in its batch).
        scored, y_scored = [], []
        source = np.full(r, -1, dtype=np.int64)
        position = np.zeros(r, dtype=np.int64)
        # The accepted window of each series (its time points).
        window_of = np.zeros((r, n_steps), dtype=bool)
        pending = np.arange(r)
        for stage in _ascending_stages(len(lengths)):
            if not len(pending):
                break
            windows = []
            for length in lengths[stage]:
                gains = running[pending, length:] - running[pending, :-length]
                start = gains.argmax(axis=1)
                windows.append(
                    (steps >= start[:, None]) & (steps < start[:, None] + length)
                )
            # (lengths, pending, channels, steps): copy inside the window,
            # frozen values kept.
            copy = np.stack(windows)[:, :, None, :] & ~frozen[pending][None]
            built = np.where(copy, goal_series[pending], x_series[pending])
            row_of = np.tile(rows[pending], len(stage))
            decoded = self._decode(
                batch,
                row_of,
                built.reshape(len(row_of), -1).astype(np.float32, copy=False),
            )
            y_built, valid = self._score(batch, row_of, decoded)
            valid = valid.reshape(len(stage), len(pending))
            found = valid.any(axis=0)
            # The stage's lengths ascend: the first accepted is the shortest.
            first = valid.argmax(axis=0)
            scored.append(decoded)
            y_scored.append(np.asarray(y_built))
            accepted = np.flatnonzero(found)
            source[pending[accepted]] = len(scored) - 1
            position[pending[accepted]] = first[accepted] * len(pending) + accepted
            window_of[pending[accepted]] = np.stack(windows)[first[accepted], accepted]
            pending = pending[~found]
        reached = source >= 0
        if not reached.any():
            return reached, None, None
        if n_channels > 1:
            self._one_channel_windows(
                batch, rows, x_series, goal_series, frozen, window_of, reached,
                scored, y_scored, source, position,
            )  # fmt: skip
        decoded, y_final = self._gather_scored(
            scored, y_scored, source[reached], position[reached]
        )
        return reached, decoded, y_final

    def _one_channel_windows(
        self, batch, rows, x_series, goal_series, frozen, window_of, reached,
        scored, y_scored, source, position,
    ):  # fmt: skip
        """Copy an accepted window on one channel only, where the model agrees.

        A window copied on every channel changes channels the model may not
        need (a new-user trial on 3-channel series: channels the class does
        not depend on moved by 1.3-2.2 standard deviations). Each reached
        series' window is tried on each single channel whose values it
        changes, in one batch; a series the model accepts that way keeps its
        one-channel window with the smallest change. ``scored``,
        ``y_scored``, ``source`` and ``position`` are updated in place.
        """
        n_channels = x_series.shape[1]
        owner = np.repeat(np.flatnonzero(reached), n_channels)
        channel = np.tile(np.arange(n_channels), int(reached.sum()))
        copy = np.zeros((len(owner), *x_series.shape[1:]), dtype=bool)
        copy[np.arange(len(owner)), channel] = window_of[owner]
        copy &= ~frozen[owner]
        change = np.where(copy, np.abs(goal_series[owner] - x_series[owner]), 0.0)
        change = change.sum(axis=(1, 2))
        # A channel the window leaves as it is changes nothing on its own, and
        # a series with one free channel already has this answer.
        full = window_of[owner][:, None, :] & ~frozen[owner]
        keep = (change > 0) & (copy != full).any(axis=(1, 2))
        owner, copy, change = owner[keep], copy[keep], change[keep]
        if not len(owner):
            return
        built = np.where(copy, goal_series[owner], x_series[owner])
        decoded = self._decode(
            batch,
            rows[owner],
            built.reshape(len(owner), -1).astype(np.float32, copy=False),
        )
        y_built, valid = self._score(batch, rows[owner], decoded)
        if not valid.any():
            return
        scored.append(decoded)
        y_scored.append(np.asarray(y_built))
        candidates = np.flatnonzero(valid)
        # Per series, the accepted one-channel window with the least change.
        order = candidates[np.lexsort((change[candidates], owner[candidates]))]
        first = _first_of_each(order, owner)
        source[owner[first]] = len(scored) - 1
        position[owner[first]] = first

    def _feature_path(self, batch, rows, x, goal, goal_rows=None):
        """Copy the nearest training row's values feature by feature.

        Feature by feature, largest difference first, the original takes the
        reference row's value until the real model agrees (two batches of
        prefixes of the path: every row's shortest, then the longer ones
        where those fail); then the copied features the model does not need
        are given back (two batches: each one alone, then all of them
        together, or the largest alone if together they fail).

        Parameters and returns as for :meth:`_window_path`, and
        ``goal_rows``, the reference rows in the adapter's format (a frame
        of ``r`` rows) where the caller has them: the candidates then take
        their values as they are (:meth:`TabularAdapter.mix_rows`) instead
        of decoding ``goal``'s encoding.
        """
        frozen = np.broadcast_to(
            batch.frozen_features, (len(rows), len(batch.frozen_features))
        )
        distances = self.reference_.feature_distances(x, goal)
        order, n_movable = path_order(distances, frozen)
        feature_of_column = self.adapter_.feature_of_column_
        r, n_features = distances.shape
        length = int(n_movable.max())
        if length == 0:
            return np.zeros(r, dtype=bool), None, None
        # rank[i, f]: the step at which row i copies feature f.
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(n_features)[None, :], axis=1)
        movable = rank < n_movable[:, None]

        adapter = self.adapter_

        def build(copied, of):
            """Return rows ``of`` copying the features ``copied`` flags, decoded.

            ``copied`` has shape ``(len(of), n_features)``.
            """
            if goal_rows is not None:
                return self._copied_values(
                    batch, rows[of], adapter.take_rows(goal_rows, of), copied
                )
            columns = copied[:, feature_of_column]
            built = np.where(columns, goal[of], x[of]).astype(np.float32)
            return self._decode(batch, rows[of], built, revert_negligible=False)

        # Forward: prefix t copies the t + 1 most different features. A row
        # has only n_movable distinct prefixes; only those are scored (on
        # Adult about 40 % of a full (length x r) batch), step-major, in two
        # rounds: every row's first FIRST_PREFIXES, then the later ones of
        # the rows that none of those satisfies. Each row's answer is its
        # first accepted prefix either way; most rows find it in the first
        # round (Adult, AE: 8,400 prefixes scored instead of 9,200).
        scored_prefix = np.arange(length)[:, None] < n_movable[None, :]
        grade = np.full((length, r), REJECTED)
        batch_of = np.zeros((length, r), dtype=np.int64)
        position_of = np.zeros((length, r), dtype=np.int64)
        scored, y_scored = [], []
        early = np.arange(length)[:, None] < FIRST_PREFIXES
        for in_round in (early, ~early):
            if scored:
                in_round = in_round & (grade.max(axis=0) < ACCEPTED)[None, :]
            step, row = np.nonzero(scored_prefix & in_round)
            if not len(step):
                continue
            prefixes = (rank[row] <= step[:, None]) & movable[row]
            decoded = build(prefixes, row)
            y_prefix, grade[step, row] = self._grade(batch, rows[row], decoded)
            batch_of[step, row] = len(scored)
            position_of[step, row] = np.arange(len(step))
            scored.append(decoded)
            y_scored.append(np.asarray(y_prefix))
        # The grade each row's answer must keep: accepted where a prefix
        # is, else valid though implausible (plausible_categories).
        needed = np.maximum(grade.max(axis=0), IMPLAUSIBLE)
        valid = grade >= needed[None, :]
        reached = valid.any(axis=0)
        first_step = valid.argmax(axis=0)
        copied = (rank <= first_step[:, None]) & movable & reached[:, None]
        # Every row's answer is a candidate already scored valid: (batch of
        # `scored`, position in it). It starts as the forward path's; only
        # those r rows of the forward batches are kept (a row that reached
        # nothing points at position 0 of the first and is never gathered).
        everything = np.arange(r)
        answers, y_answers = self._gather_scored(
            scored,
            y_scored,
            batch_of[first_step, everything],
            position_of[first_step, everything],
        )
        scored, y_scored = [answers], [y_answers]
        source = np.zeros(r, dtype=np.int64)
        position = everything.copy()
        # Backward: give back the copied features the model does not need.
        # Giving back the feature copied last leaves the prefix before the
        # answer (or the original), which the forward batches already
        # rejected: it is not tried.
        trying = copied & reached[:, None]
        trying[np.flatnonzero(reached), order[reached, first_step[reached]]] = False
        for _ in range(BACKWARD_ROUNDS):
            trying = self._give_back_needless(
                batch, rows, copied, trying, needed, distances, build,
                scored, y_scored, source, position,
            )  # fmt: skip
            if not trying.any():
                break
        final = np.flatnonzero(reached)
        decoded, y_final = self._gather_scored(
            scored, y_scored, source[final], position[final]
        )
        return reached, decoded, y_final

    def _give_back_needless(
        self, batch, rows, copied, trying, needed, distances, build,
        scored, y_scored, source, position,
    ):  # fmt: skip
        """Give back the ``trying`` features of each answer the model does not need.

        One round of the backward step of :meth:`_feature_path`, two
        batches: each tried feature given back alone; then, for a row with
        several the model accepts without, its ``j`` largest of those given
        back together for every ``j`` (the largest alone is the first
        batch's), keeping the largest ``j`` the model accepts. A feature
        the model does not need alone can be needed once others are given
        back (trees do this often): with a RandomForest or XGBoost on
        breast cancer's 30 numbers, giving back all of them or only the
        largest left answers that copied most of a training row where a
        few of its values were enough.

        Updates ``copied``, ``scored``, ``y_scored``, ``source`` and
        ``position`` in place and returns the features to try again: those
        the model did not need alone but that a row could not give back
        with the rest.
        """
        owner, feature = np.nonzero(trying)
        if not len(owner):
            return trying
        n_features = copied.shape[1]
        without = copied[owner].copy()
        without[np.arange(len(owner)), feature] = False
        scored.append(build(without, owner))
        y_alone, grade_alone = self._grade(batch, rows[owner], scored[-1])
        y_scored.append(y_alone)
        alone = len(scored) - 1
        spare = grade_alone >= needed[owner]
        needless = np.zeros_like(copied)
        needless[owner[spare], feature[spare]] = True
        n_needless = needless.sum(axis=1)
        # size_rank[i, f]: the place of needless feature f among row i's
        # needless features, largest difference first.
        by_size = np.argsort(
            np.where(needless, -distances, np.inf), axis=1, kind="stable"
        )
        size_rank = np.empty_like(by_size)
        np.put_along_axis(size_rank, by_size, np.arange(n_features)[None, :], axis=1)
        before = copied.copy()
        # j = 1: the largest needless feature alone, scored in the first
        # batch ((owner, feature) pairs come in row-major order: find each
        # by key).
        some = np.flatnonzero(n_needless > 0)
        largest = by_size[some, 0]
        copied[some, largest] = False
        source[some] = alone
        keys = owner * n_features + feature
        position[some] = np.searchsorted(keys, some * n_features + largest)
        # j >= 2: every row's longer prefixes of its needless features.
        several = np.flatnonzero(n_needless > 1)
        if len(several):
            counts = n_needless[several] - 1
            row = np.repeat(several, counts)
            first = np.repeat(np.cumsum(counts) - counts, counts)
            j = np.arange(len(row)) - first + 2
            given = needless[row] & (size_rank[row] < j[:, None])
            scored.append(build(before[row] & ~given, row))
            y_together, grade_together = self._grade(batch, rows[row], scored[-1])
            y_scored.append(y_together)
            accepted = np.flatnonzero(grade_together >= needed[row])
            if len(accepted):
                # Each row's longest accepted prefix: its last accepted entry.
                owners = row[accepted]
                last = accepted[np.r_[owners[1:] != owners[:-1], True]]
                best = row[last]
                copied[best] = before[best] & ~given[last]
                source[best] = len(scored) - 1
                position[best] = last
        return needless & copied

    def _shorten_numeric_moves(self, batch, rows, counterfactuals, y_cf):
        """Give back the part of each number's move the model does not need.

        A path copies a training row's numbers whole (Age 25 -> 45 where 33
        would do), and a generator overshoots. Each answer is tried with its
        numbers moved
        :data:`SHORTER_MOVES` of the way from the original, all tries in
        one batch, and keeps the shortest the model accepts: the line
        search towards the original of DiCE's post-hoc sparsity enhancement
        (Mothilal et al. 2020), on a fixed grid so that it stays one model
        call.

        Parameters
        ----------
        batch : CandidateBatch
        rows : numpy.ndarray of int, shape (r,)
            Positions in the batch of the answers' rows.
        counterfactuals : pandas.DataFrame
            One valid answer per row.
        y_cf : numpy.ndarray
            The model's outputs on them.

        Returns
        -------
        counterfactuals, y_cf
            With shorter moves where the model accepts them.
        """
        adapter = self.adapter_
        n, k = len(rows), len(SHORTER_MOVES)
        # Every try of every row in one frame: the column-by-column steps
        # below cost about the same for one row as for thousands.
        originals = adapter.take_rows(batch.rows, np.tile(rows, k))
        tries = adapter.shorten_numeric_moves(
            originals,
            adapter.stack_rows([counterfactuals] * k),
            np.repeat(SHORTER_MOVES, n),
        )
        adapter.revert_negligible_changes(originals, tries, self.numeric_tolerance)
        tries = batch.constraints.apply(originals, tries)
        # Rows without a number to shorten are left out of the model call.
        first_try = adapter.take_rows(tries, np.arange(n))
        moved = (first_try.to_numpy() != counterfactuals.to_numpy()).any(axis=1)
        moved = np.flatnonzero(moved)
        if not len(moved):
            return counterfactuals, y_cf
        stacked = adapter.take_rows(
            tries, (np.arange(k)[:, None] * n + moved).reshape(-1)
        )
        # Numbers leave the answer's categories, and their pairs, as they are.
        y_tries, grade = self._grade(
            batch, np.tile(rows[moved], len(SHORTER_MOVES)), stacked
        )
        valid = (grade >= IMPLAUSIBLE).reshape(len(SHORTER_MOVES), len(moved))
        found = valid.any(axis=0)
        if not found.any():
            return counterfactuals, y_cf
        # SHORTER_MOVES ascend: the first accepted try is the shortest.
        picked = (valid.argmax(axis=0) * len(moved) + np.arange(len(moved)))[found]
        counterfactuals = adapter.replace_rows(
            counterfactuals, moved[found], adapter.take_rows(stacked, picked)
        )
        y_cf = np.asarray(y_cf).copy()
        y_cf[moved[found]] = np.asarray(y_tries)[picked]
        return counterfactuals, y_cf


def _first_answers(batch, rows):
    """Flag the ``rows`` that are a row's first answer (all, but for ``explain``).

    ``explain`` repeats each row once per answer (``batch.reference_rank``
    its rank); a repair with one answer per row runs on the first only.
    """
    if batch.reference_rank is None:
        return np.ones(len(rows), dtype=bool)
    return batch.reference_rank[rows] == 0


def _best_per_row(owner, first, second, *, keep):
    """Return ``{row: candidate}``: each row's kept candidate lowest in (first, second).

    ``owner[i]`` is the row of candidate ``i``; rows with no kept candidate
    are left out.
    """
    kept = np.flatnonzero(keep)
    if not len(kept):
        return {}
    order = kept[np.lexsort((second[kept], first[kept], owner[kept]))]
    rows, first_of = np.unique(owner[order], return_index=True)
    return dict(zip(rows.tolist(), order[first_of].tolist(), strict=True))


def values_elsewhere(own, half, rng, draws=16):
    """Draw for each row another row's output more than ``half`` away from its own.

    The self-check's regression targets: a row asked for its own value (or
    an interval around it) meets its target unchanged, and a generator
    that changes nothing would score the share of such rows (12-24 % on a
    random-walk regression, enough to hide it). Each row takes the first
    of ``draws`` random rows' outputs outside ``[own - half, own + half]``;
    a row for which all of them are inside (a nearly constant model) keeps
    the first draw.

    Parameters
    ----------
    own : numpy.ndarray of float, shape (n,)
        The model's outputs on the rows.
    half : float
        Half-width of the intervals the self-check asks for (model units).
    rng : numpy.random.RandomState
        Source of the draws.
    draws : int, default=16
        Other rows tried per row.

    Returns
    -------
    numpy.ndarray of float, shape (n,)
    """
    picks = own[rng.randint(0, len(own), size=(len(own), draws))]
    away = np.abs(picks - own[:, None]) > half
    first = np.where(away.any(axis=1), away.argmax(axis=1), 0)
    return picks[np.arange(len(own)), first]


def weakest_generator_figure(report):
    """Return the kind of target the generator alone reached least, and the share.

    The generator is judged on the targets it is trained to reach: a
    regression's single value is met within ``regression_tolerance`` output
    std's, a point the generator moves towards but seldom lands on
    (diabetes, 442 rows, GAN and AE for a Ridge or a RandomForest, with
    targets the rows do not already meet: 0-2 %, against 0-20 % for the
    interval). The repairs land on it, and its figure stays in the report.

    Parameters
    ----------
    report : dict
        The self-check's figures, with keys ``generator_validity_<kind>``.

    Returns
    -------
    kind : str
        E.g. ``"opposite"``, ``"other_class"``, ``"interval"``.
    share : float
        The generator's validity for it, 0 to 1.
    """
    figures = {
        key.removeprefix("generator_validity_"): value
        for key, value in report.items()
        if key.startswith("generator_validity_") and key != "generator_validity_value"
    }
    kind = min(figures, key=figures.get)
    return kind, figures[kind]
