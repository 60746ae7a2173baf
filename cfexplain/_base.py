"""The estimator contract every counterfactual explainer shares.

:class:`BaseCounterfactualExplainer` owns what users see: parameters, the
model under explanation, targets, the result's format, the candidate engine.
Everything that depends on the kind of data goes through a modality adapter
(:mod:`cfexplain.modalities`), so this module has no branch on the modality.
A subclass says which modules it builds per modality and how its net is
made (:meth:`_make_net`); the backends it calls see float arrays and a
:class:`~cfexplain.preprocessing.FeatureLayout`, never pandas.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, clone
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._candidates import (
    CandidateBatch,
    CandidateSet,
    fixed_noise,
    rank_candidates,
    repeat_rows,
)
from ._device import resolve_device
from ._guidance import differentiable_model, surrogate_callbacks
from ._predictor import CLASSIFICATION, as_predictor, split_encoded_torch_model
from ._random import draw_seed, torch_generator, torch_seeded
from ._repair import ReferenceRows, path_order
from ._targets import resolve_target
from .exceptions import InvalidDataError, LowValidityWarning, UnreachedTargetWarning
from .explanation import Explanation
from .modalities import ADAPTERS, resolve_modality

__all__ = ["BaseCounterfactualExplainer"]

#: Constraints of the parameters the explainers spell alike.
NON_NEGATIVE = [Interval(numbers.Real, 0, None, closed="left")]
POSITIVE = [Interval(numbers.Real, 0, None, closed="neither")]
PROBABILITY = [Interval(numbers.Real, 0, 1, closed="both")]
POSITIVE_INTEGER = [Interval(numbers.Integral, 1, None, closed="left")]
WIDTHS = [tuple, list]

#: Parameter constraints of the explainers that distil black boxes into a
#: surrogate (all of them).
SURROGATE_PARAMETERS = {
    "surrogate_hidden": WIDTHS,
    "surrogate_epochs": POSITIVE_INTEGER,
    "surrogate_refresh_every": [
        Interval(numbers.Integral, 0, None, closed="left"),
        StrOptions({"auto"}),
    ],
    "surrogate_refresh_rows": POSITIVE_INTEGER,
}

#: Parameter constraints of the explainers that train a generator of changes
#: with paper 1's prediction and sparsity losses on random frozen masks (the
#: GAN and the perturbation autoencoder).
CHANGE_GENERATOR_PARAMETERS = {
    "prediction_weight": NON_NEGATIVE,
    "sparsity_weight": NON_NEGATIVE,
    "tau": POSITIVE,
    "mask_probability": PROBABILITY,
    "prediction_margin": NON_NEGATIVE,
}


#: Rows held out of training (at most) for the fit-time self-check.
SELF_CHECK_ROWS = 2000
#: Self-check validity under which ``fit`` warns.
LOW_VALIDITY = 0.9
#: Training rows kept as the pool of the training-row repair path.
REFERENCE_ROWS = 5000
#: Optimiser steps between two surrogate refreshes with
#: ``surrogate_refresh_every="auto"``.
REFRESH_STEPS = 50


def _is_array_like(obj) -> bool:
    return isinstance(obj, (np.ndarray, pd.Series, pd.DataFrame, list, tuple))


def _take(X, positions):
    """Select rows of a frame or an array by position."""
    return X.iloc[positions] if isinstance(X, pd.DataFrame) else X[positions]


class BaseCounterfactualExplainer(
    OneToOneFeatureMixin, TransformerMixin, BaseEstimator
):
    """Base class of the counterfactual explainers; not for direct use.

    Subclasses define ``__init__`` with their parameters (keyword-only, stored
    untouched), list the modalities they support in ``_modalities`` and
    implement :meth:`_make_net`.
    """

    _parameter_constraints: dict = {
        "predictor": "no_validation",
        "target": "no_validation",
        "task": [StrOptions({"auto", "classification", "regression"})],
        "immutable": "no_validation",
        "bounds": [dict, None],
        "monotonic": [dict, None],
        "max_epochs": [*POSITIVE_INTEGER, StrOptions({"auto"})],
        "batch_size": [
            Interval(numbers.Integral, 2, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "max_rounds": [Interval(numbers.Integral, 0, 2, closed="both")],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "device": [str, torch.device, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
        "regression_tolerance": NON_NEGATIVE,
        "n_candidates": POSITIVE_INTEGER,
        "numeric_tolerance": NON_NEGATIVE,
        "modality": [StrOptions({"auto", "tabular", "image", "series"})],
    }

    #: The modalities a subclass has networks for.
    _modalities: tuple = ("tabular",)
    #: ``batch_size="auto"`` never exceeds this (the paper's batch size).
    _reference_batch_size = 512
    #: ``max_epochs="auto"`` trains about this many optimiser steps.
    _reference_steps = 1500

    def _store_parameters(self, parameters):
        """Store ``__init__``'s arguments, untouched, as attributes of the same name.

        scikit-learn's rule for ``__init__`` (store the parameters, nothing
        else), written once for every explainer: each calls it with
        ``locals()``.
        """
        for name, value in parameters.items():
            if name != "self":
                setattr(self, name, value)

    # -- scikit-learn protocol ---------------------------------------------------------

    def __sklearn_clone__(self):
        """Clone the parameters but keep the model under explanation by reference.

        ``sklearn.base.clone`` would otherwise make an unfitted copy of a
        fitted ``predictor`` estimator, which cannot predict.
        """
        params = self.get_params(deep=False)
        predictor = params.pop("predictor")
        cloned = {k: clone(v, safe=False) for k, v in params.items()}
        return type(self)(predictor=predictor, **cloned)

    def __setstate__(self, state):
        # An explainer fitted on a GPU must still load where there is none:
        # skorch moves its nets to the CPU (with a DeviceWarning); the device
        # we compute on follows.
        device = state.get("device_")
        if (
            device is not None
            and torch.device(device).type == "cuda"
            and not torch.cuda.is_available()
        ):
            warnings.warn(
                f"this explainer was fitted on {device!r}, but CUDA is not "
                "available: it runs on the CPU",
                UserWarning,
                stacklevel=2,
            )
            state["device_"] = "cpu"
            surrogate = state.get("surrogate_")
            if surrogate is not None:
                surrogate.device = "cpu"
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.non_deterministic = False
        return tags

    # -- input handling ----------------------------------------------------------------

    def _resolve_model(self, y, predict_fn):
        if predict_fn is None and y is not None and not _is_array_like(y):
            if callable(y) or hasattr(y, "predict") or isinstance(y, torch.nn.Module):
                return y
        return predict_fn if predict_fn is not None else self.predictor

    # -- fitting -----------------------------------------------------------------------

    def fit(self, X, y=None, predict_fn=None):
        """Train the counterfactual generator for a model.

        Parameters
        ----------
        X : pandas.DataFrame, array-like of shape (n_samples, n_features), or images
            Training rows in the format the model takes: a table (DataFrame
            or 2-D array), images ``(n, channels, height, width)`` (or ``(n,
            height, width)`` with ``modality="image"``), for the estimators
            that take them. A 3-D array needs ``modality``: it could be
            series or images. No labels are needed: the generator learns
            from the model's own predictions.
        y : ignored or callable, default=None
            Unused (kept for Pipeline compatibility; see the subclass for
            estimators that can use labels). When it is a callable or
            a fitted estimator and ``predict_fn`` is not given, it is taken
            as ``predict_fn``, so ``cf.fit(X, clf.predict_proba)`` works.
        predict_fn : estimator, callable or torch.nn.Module, optional
            The model under explanation: a fitted estimator (its
            ``predict_proba``, else ``predict``), a bound method such as
            ``clf.predict_proba``, any callable returning probabilities
            ``(n, n_classes)`` or regression values ``(n,)``, a fitted skorch
            net or a :class:`torch.nn.Module`. It is called on rows in the
            format of ``X``. Defaults to the ``predictor`` parameter.

        Returns
        -------
        self : object
            The fitted explainer.

        Raises
        ------
        PredictorError
            If there is no model, or the model fails or returns bad output.
        InvalidDataError
            If ``X`` has missing values, infinities or too few rows, is a 3-D
            array without ``modality``, or is of a modality the explainer
            does not support.
        ValueError
            If a parameter is invalid or the device is not available.
        """
        self._validate_params()
        model = self._resolve_model(y, predict_fn)
        self.modality_ = resolve_modality(
            X,
            self.modality,
            supported=self._modalities,
            estimator_name=type(self).__name__,
        )
        adapter = ADAPTERS[self.modality_]()
        X_checked = adapter.check_input(self, X, reset=True)
        if len(X_checked) < 2:
            raise InvalidDataError(
                f"fit needs at least 2 samples, got {len(X_checked)} sample"
            )
        self.device_ = resolve_device(self.device)
        self.random_seed_ = draw_seed(self.random_state)
        # A Pipeline(TabularEncoder, skorch net) is differentiable on our own
        # encoding: reuse its encoder so the generator speaks its language.
        self.encoded_model_ = split_encoded_torch_model(model)
        if self.encoded_model_ is not None:
            self.encoder_ = self.encoded_model_[0]
        else:
            encoder = adapter.make_encoder(draw_seed(self.random_seed_))
            self.encoder_ = encoder.fit(X_checked)
        self.adapter_ = adapter.fit(X_checked, self.encoder_)
        Xt = self.encoder_.transform(X_checked)
        self.predictor_ = as_predictor(model, task=self.task).check(X_checked)
        y_model = self.predictor_.predict(X_checked)
        self.classes_ = getattr(self.predictor_, "classes_", None)
        if self.predictor_.task_ == CLASSIFICATION:
            self.n_classes_ = len(self.classes_)
            if len(np.unique(y_model.argmax(axis=1))) < 2:
                warnings.warn(
                    "the model predicts a single class on all training rows; "
                    "the generator never sees the other classes and will "
                    "hardly reach them",
                    UserWarning,
                    stacklevel=2,
                )
        else:
            self.output_mean_ = float(np.mean(y_model))
            self.output_scale_ = float(np.std(y_model)) or 1.0
        self.constraints_ = adapter.parse_constraints(
            self.immutable, self.bounds, self.monotonic
        )
        labels = None
        if _is_array_like(y):
            labels = np.asarray(y)
            if len(labels) != len(Xt):
                raise InvalidDataError(
                    f"y has {len(labels)} entries for {len(Xt)} rows of X"
                )
        train, check = self._split_for_self_check(len(Xt))
        labels = None if labels is None else labels[train]
        # The pool of the training-row repairs: only where they can run, since
        # it keeps training rows inside the fitted explainer.
        self.reference_ = None
        if self.max_rounds >= 2 and adapter.repairs_feature_by_feature:
            self.reference_ = ReferenceRows.sample(
                Xt[train],
                y_model[train],
                self.predictor_.task_,
                self.adapter_.feature_of_column_,
                max_rows=REFERENCE_ROWS,
                seed=draw_seed(self.random_seed_ + 3),
            )
        with torch_seeded(self.random_seed_):
            self._fit_backend(Xt[train], y_model[train], labels)
        self.fit_report_ = self._self_check(
            _take(X_checked, check), held_out=len(train) < len(Xt)
        )
        return self

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
        regression another row's value and an interval around it. Reports
        validity with and without the transform-time repairs, and the
        surrogate's agreement with the real model on the rows and on their
        counterfactuals. Warns with :class:`~cfexplain.LowValidityWarning`
        when validity is below :data:`LOW_VALIDITY`.
        """
        rng = np.random.RandomState(draw_seed(self.random_seed_ + 5))
        y_check = self.predictor_.predict(X_check)
        targets = {}
        if self.predictor_.task_ == CLASSIFICATION:
            targets["opposite"] = "opposite"
            if self.n_classes_ > 2:
                shift = rng.randint(1, self.n_classes_, size=len(y_check))
                other = (y_check.argmax(axis=1) + shift) % self.n_classes_
                targets["other_class"] = np.asarray(self.classes_)[other]
        else:
            values = rng.permutation(np.asarray(y_check, dtype=float))
            half = 0.25 * self.output_scale_
            targets["value"] = values
            targets["interval"] = np.column_stack([values - half, values + half])
        report = {"n_rows": len(y_check), "held_out": held_out}
        for name, target in targets.items():
            for repaired, key in (
                (False, f"generator_validity_{name}"),
                (True, f"validity_{name}"),
            ):
                candidates = self._candidates(
                    X_check, target, (None, None, None), 1, repair=repaired
                )
                valid = candidates.target.is_met(
                    self._model_outputs(X_check, candidates)
                )
                report[key] = float(np.mean(valid))
        if self.surrogate_ is not None:
            Xt_check = self.encoder_.transform(X_check)
            report["surrogate_agreement"] = self.surrogate_.fidelity(Xt_check, y_check)
            cf = self.adapter_.to_user(X_check, candidates.counterfactuals)
            report["surrogate_agreement_counterfactuals"] = self.surrogate_.fidelity(
                self.encoder_.transform(cf), self._model_outputs(X_check, candidates)
            )
        for name, value in report.items():
            if isinstance(value, float):
                self.net_.history.record(f"fit_{name}", value)
        worst = min(v for k, v in report.items() if k.startswith("validity_"))
        if worst < LOW_VALIDITY:
            warnings.warn(
                f"{type(self).__name__}: only {worst:.0%} of the self-check's "
                f"{len(y_check)} rows got a counterfactual the model accepts "
                f"(fit_report_: {report}). Try more training (max_epochs), a "
                "larger prediction_weight, more n_candidates where the "
                "explainer has them, or more max_rounds of repairs",
                LowValidityWarning,
                stacklevel=3,
            )
        return report

    def _fit_backend(self, Xt, y_model, y=None):
        """Train the net: the model's gradients, the callbacks, the net.

        ``y`` is what the user passed to ``fit`` as ``y`` (labels or None).
        """
        condition = self._fit_condition(Xt, y_model, y)
        predictor_module, self.surrogate_ = None, None
        if self._uses_model_gradients():
            predictor_module, self.surrogate_ = differentiable_model(self, Xt, y_model)
        batch_size, max_epochs = self._training_budget(len(Xt))
        every = self.surrogate_refresh_every
        if every == "auto":
            # One relabelling per REFRESH_STEPS optimiser steps, whatever the
            # epoch length (on Adult, an epoch is about that long), and at
            # least ten in a training run.
            steps_per_epoch = max(1, len(Xt) // batch_size)
            every = max(
                1, min(round(REFRESH_STEPS / steps_per_epoch), max_epochs // 10)
            )
        callbacks = surrogate_callbacks(
            self, self.surrogate_, Xt, condition, y_model, every=every
        )
        shared = {
            "predictor_module": predictor_module,
            "feature_of_column": self.adapter_.feature_of_column_,
            "task": self.predictor_.task_,
            "seed": self.random_seed_,
            **self.adapter_.loss_arguments(),
            **self._skorch_parameters(len(Xt), callbacks),
        }
        module_arguments = {
            f"module__{name}": value
            for name, value in self.adapter_.network_arguments().items()
        }
        self.net_ = self._make_net(condition.shape[1], {**shared, **module_arguments})
        self.net_.fit(
            {"X": Xt, "y_model": condition}, None, **self._net_fit_params(Xt, y_model)
        )

    def _fit_condition(self, Xt, y_model, y):
        """Conditioning vectors of the training rows (the model's outputs)."""
        return self._condition(y_model)

    def _uses_model_gradients(self):
        """Whether training needs the model as a differentiable module."""
        return True

    def _net_fit_params(self, Xt, y_model):
        """Extra arguments of the net's ``fit``."""
        return {}

    def _mask_probability(self):
        """Share of training rows with random frozen features (0: masks unused)."""
        if not self.adapter_.learns_frozen_masks:
            return 0.0
        return getattr(self, "mask_probability", 0.0)

    def _frozen_columns(self, frozen, n_rows):
        """Expand a per-feature frozen mask to a float32 ``(n_rows, n_encoded)`` one."""
        feature_of_column = self.adapter_.feature_of_column_
        mask = np.broadcast_to(
            frozen[feature_of_column], (n_rows, len(feature_of_column))
        )
        return np.ascontiguousarray(mask, dtype=np.float32)

    def _training_budget(self, n_rows):
        """Resolve ``batch_size``/``max_epochs`` into ``batch_size_``/``max_epochs_``.

        ``batch_size="auto"`` is ``n_rows // 16`` within ``[32,
        _reference_batch_size]`` (the paper's batch on large tables, about
        16 steps an epoch on small ones, fewer below 512 rows);
        ``max_epochs="auto"`` trains
        about ``_reference_steps`` optimiser steps (what 30 epochs were on
        Adult), at least one epoch and at most 1,000.
        """
        batch = self.batch_size
        if batch == "auto":
            batch = min(self._reference_batch_size, max(32, n_rows // 16))
        self.batch_size_ = int(min(batch, n_rows))
        epochs = self.max_epochs
        if epochs == "auto":
            steps_per_epoch = max(1, n_rows // self.batch_size_)
            epochs = np.clip(np.ceil(self._reference_steps / steps_per_epoch), 1, 1000)
        self.max_epochs_ = int(epochs)
        return self.batch_size_, self.max_epochs_

    def _skorch_parameters(self, n_rows, callbacks):
        """Training settings every backend's skorch net shares."""
        batch_size, max_epochs = self._training_budget(n_rows)
        return {
            "optimizer": torch.optim.Adam,
            "batch_size": batch_size,
            "max_epochs": max_epochs,
            "train_split": None,
            "iterator_train__shuffle": True,
            "iterator_train__drop_last": True,
            "iterator_train__generator": torch_generator(self.random_seed_),
            "callbacks": callbacks,
            "device": self.device_,
            "verbose": self.verbose,
        }

    # -- conditioning vectors ----------------------------------------------------------

    def _condition(self, y_model):
        """Model outputs as the generator's conditioning vectors."""
        if self.predictor_.task_ == CLASSIFICATION:
            return np.asarray(y_model, dtype=np.float32)
        standardised = (np.asarray(y_model) - self.output_mean_) / self.output_scale_
        return np.column_stack([standardised, np.zeros_like(standardised)]).astype(
            np.float32
        )

    def _target_condition(self, resolved):
        condition = resolved.condition()
        if self.predictor_.task_ != CLASSIFICATION:
            condition = condition.copy()
            condition[:, 0] = (condition[:, 0] - self.output_mean_) / self.output_scale_
            condition[:, 1] = condition[:, 1] / self.output_scale_
        return condition

    def _resolve(self, target, y_model):
        tolerance = 0.0
        if self.predictor_.task_ != CLASSIFICATION:
            tolerance = self.regression_tolerance * self.output_scale_
        return resolve_target(
            self.target if target is None else target,
            y_model,
            task=self.predictor_.task_,
            classes=self.classes_,
            tolerance=tolerance,
        )

    # -- the candidate engine ----------------------------------------------------------

    def _candidates(self, X, target, constraints, k, *, repair=True):
        """Return ``k`` counterfactuals per row of ``X``: transform's answer first.

        The candidates of every row are generated as one batch (see
        :mod:`cfexplain._candidates`). With ``n_candidates > 1`` they are
        deterministic (:func:`~cfexplain._candidates.fixed_noise`) and
        ranked as :func:`~cfexplain._candidates.rank_candidates` says
        (valid first, then by :meth:`_candidate_costs`): ``explain`` decodes
        and scores them all in one decode and one model call and returns
        the best of the first ``n_candidates``, then the next best of
        ``max(n_candidates, k)``; ``transform`` finds the same first answer
        scoring as few as possible (:meth:`_cheapest_valid`). Otherwise the
        first is the noise-free answer and the others are sampled through
        the generator's noise, reproducibly from the fitted seed, all
        decoded at once. Then, with ``repair`` and ``max_rounds > 0``, the
        first answers the real model rejects get up to ``max_rounds``
        repairs (:meth:`_repair`).

        Parameters
        ----------
        X : object
            What the user passed.
        target : object or None
            The user's target (``None``: the ``target`` parameter).
        constraints : tuple
            ``(immutable, bounds, monotonic)``, ``None`` for the
            constructor's.
        k : int
            Counterfactuals per row.
        repair : bool, default=True
            Whether to repair rejected first answers.

        Returns
        -------
        CandidateSet
        """
        batch = self._batch(X, target, constraints)
        candidates = self._generated_candidates(batch, k)
        if not repair or not self.max_rounds:
            return candidates
        y_cf = np.asarray(self._model_outputs(X, candidates))
        n = len(batch.Xt)
        first = self.adapter_.take_rows(candidates.counterfactuals, np.arange(n))
        first, y_first = self._repair(batch, first, y_cf[:n])
        counterfactuals = first
        if k > 1:
            rest = self.adapter_.take_rows(
                candidates.counterfactuals, np.arange(n, k * n)
            )
            counterfactuals = self.adapter_.stack_rows([first, rest])
        y_cf = np.concatenate([y_first, y_cf[n:]])
        return CandidateSet(
            batch.rows, batch.y_model, batch.target, counterfactuals, y_cf
        )

    def _batch(self, X, target, constraints):
        """Check ``X`` and gather what every round of the engine needs."""
        check_is_fitted(self, "adapter_")
        adapter = self.adapter_
        X_checked = adapter.check_input(self, X, reset=False)
        Xt = self.encoder_.transform(X_checked)
        y_model = self.predictor_.predict(X_checked)
        resolved = self._resolve(target, y_model)
        defaults = (self.immutable, self.bounds, self.monotonic)
        parsed = adapter.parse_constraints(
            *(d if c is None else c for c, d in zip(constraints, defaults, strict=True))
        )
        frozen = parsed.frozen_features()
        return CandidateBatch(
            X=X,
            rows=adapter.as_rows(X_checked),
            Xt=Xt,
            y_model=y_model,
            target=resolved,
            condition=self._condition(y_model),
            target_condition=self._target_condition(resolved),
            frozen_features=frozen,
            frozen_columns=self._frozen_columns(frozen, len(Xt)),
            constraints=parsed,
        )

    def _generated_candidates(self, batch, k):
        """Return the generator's candidates (see :meth:`_candidates`)."""
        n = len(batch.Xt)
        width = self.net_.module_.noise_width
        n_candidates = getattr(self, "n_candidates", 1)
        # Without noise, a module's candidates would all be the same.
        ranked = n_candidates > 1 and width > 0
        m = max(n_candidates, k) if ranked else k
        inputs = (batch.Xt, batch.condition, batch.target_condition)

        def generate(copies, noise=None, **kwargs):
            # With noise, each row goes in once with its `copies` draws and the
            # module makes its candidates (sharing work between them); a module
            # without noise gets the rows repeated.
            arrays = (*inputs, batch.frozen_columns)
            if noise is None:
                arrays = tuple(repeat_rows(a, copies) for a in arrays)
            return self.net_.generate(*arrays, noise=noise, **kwargs)

        if ranked:
            Xt_cf = generate(m, noise=fixed_noise(width, n, m, self.random_seed_))
        else:
            parts = [generate(1)]
            if k > 1:
                generator = torch_generator(self.random_seed_)
                noise = None
                if width:
                    noise = torch.randn((k - 1) * n, width, generator=generator)
                    noise = noise.numpy()
                parts.append(
                    generate(k - 1, noise=noise, sample=True, generator=generator)
                )
            Xt_cf = np.concatenate(parts)

        everything = np.arange(m * n)
        if not ranked:
            decoded = self._decode(batch, everything % n, Xt_cf)
            return CandidateSet(batch.rows, batch.y_model, batch.target, decoded, None)

        Xt_m, condition_m, target_m = (repeat_rows(a, m) for a in inputs)
        costs = self._candidate_costs(Xt_m, Xt_cf, condition_m, target_m)
        costs = costs.reshape(m, n).T
        if k == 1:
            return self._cheapest_valid(batch, Xt_cf, costs)
        decoded = self._decode(batch, everything % n, Xt_cf)
        y_cf, valid = self._score(batch, everything % n, decoded)
        chosen = rank_candidates(costs, valid.reshape(m, n).T, n_candidates)[:, :k]
        positions = (chosen.T * n + np.arange(n)).reshape(-1)
        return CandidateSet(
            batch.rows,
            batch.y_model,
            batch.target,
            self.adapter_.take_rows(decoded, positions),
            y_cf[positions],
        )

    def _decode(self, batch, row_of, Xt):
        """Decode encoded candidates in one batch, against their original rows.

        ``row_of[i]`` is the original row of candidate ``i``; negligible
        changes are reverted and the constraints applied against it.
        """
        adapter = self.adapter_
        originals = adapter.take_rows(batch.rows, row_of)
        decoded = adapter.decode(Xt, originals)
        adapter.revert_negligible_changes(originals, decoded, self.numeric_tolerance)
        return batch.constraints.apply(originals, decoded)

    def _score(self, batch, row_of, decoded):
        """Return the real model's outputs on decoded candidates and their validity."""
        y_cf = np.asarray(
            self.predictor_.predict(self.adapter_.to_user(batch.X, decoded))
        )
        return y_cf, batch.target.take(row_of).is_met(y_cf)

    def _cheapest_valid(self, batch, Xt_cf, costs):
        """Return each row's cheapest valid candidate, scoring as few as possible.

        The answer is the one :func:`~cfexplain._candidates.rank_candidates`
        puts first (valid before invalid, then by cost), found in rounds of
        one decode and one model call each: round 1 scores every row's
        cheapest candidate, and each later round the next 2, 4, 8, ...
        candidates (in cost order) of the rows still without a valid one. A
        row with no valid candidate keeps its cheapest.
        """
        n, m = costs.shape
        order = np.argsort(costs, axis=1, kind="stable")
        chosen = order[:, 0].copy()
        y_cf = None
        pending = np.arange(n)
        start, width = 0, 1
        while len(pending) and start < m:
            stop = min(start + width, m)
            # Candidate-major over the pending rows: [candidate, row].
            tried = order[pending, start:stop].T
            row_of = np.broadcast_to(pending, tried.shape).reshape(-1)
            decoded = self._decode(
                batch, row_of, Xt_cf[(tried * n + pending).reshape(-1)]
            )
            y_round, valid = self._score(batch, row_of, decoded)
            if y_cf is None:
                y_cf = y_round.copy()  # round 1 holds every row
            valid = valid.reshape(tried.shape)
            found = valid.any(axis=0)
            # Per row that found one: the first valid of its tried candidates.
            first, columns = valid.argmax(axis=0)[found], np.flatnonzero(found)
            y_round = y_round.reshape(*tried.shape, *y_round.shape[1:])
            chosen[pending[found]] = tried[first, columns]
            y_cf[pending[found]] = y_round[first, columns]
            pending = pending[~found]
            start, width = stop, 2 * width
        decoded = self._decode(batch, np.arange(n), Xt_cf[chosen * n + np.arange(n)])
        return CandidateSet(batch.rows, batch.y_model, batch.target, decoded, y_cf)

    # -- the closed loop: repairing rejected counterfactuals ---------------------------

    def _repair(self, batch, counterfactuals, y_cf):
        """Give the counterfactuals the real model rejects up to ``max_rounds`` repairs.

        Round 1 applies the generator to its own output; round 2 follows a
        training-row path (:mod:`cfexplain._repair`). Each round works on
        the rows still rejected, as one batch. Rows accepted by a round
        keep its answer; the others keep the generator's.

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
        adapter = self.adapter_
        rounds = (self._repair_by_generator, self._repair_by_training_rows)
        # Rows per chunk of a round: a training-row path holds (features x
        # rows x encoded columns) candidates at once.
        n_features = len(batch.frozen_features)
        chunk = max(16, 2**24 // (n_features * batch.Xt.shape[1]))
        for repair in rounds[: self.max_rounds]:
            rejected = np.flatnonzero(~batch.target.is_met(y_cf))
            if not len(rejected):
                break
            current = adapter.take_rows(counterfactuals, rejected)
            parts = [
                repair(
                    batch,
                    rejected[start : start + chunk],
                    adapter.take_rows(
                        current, np.arange(start, min(start + chunk, len(rejected)))
                    ),
                    y_cf[rejected[start : start + chunk]],
                )
                for start in range(0, len(rejected), chunk)
            ]
            found = np.concatenate([part[0] for part in parts])
            rows = adapter.stack_rows([part[1] for part in parts])
            y_rows = np.concatenate([part[2] for part in parts])
            if not found.any():
                continue
            fixed = rejected[found]
            keep = np.setdiff1d(np.arange(len(y_cf)), fixed)
            stacked = adapter.stack_rows(
                [
                    adapter.take_rows(counterfactuals, keep),
                    adapter.take_rows(rows, np.flatnonzero(found)),
                ]
            )
            counterfactuals = adapter.take_rows(
                stacked, np.argsort(np.concatenate([keep, fixed]), kind="stable")
            )
            y_cf = y_cf.copy()
            y_cf[fixed] = y_rows[found]
        return counterfactuals, y_cf

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
        Xt_current = self.encoder_.transform(self.adapter_.for_encoder(current))
        Xt_cf = self.net_.generate(
            Xt_current,
            self._condition(y_current),
            batch.target_condition[rejected],
            batch.frozen_columns[rejected],
        )
        decoded = self._decode(batch, rejected, Xt_cf)
        y_cf, valid = self._score(batch, rejected, decoded)
        return valid, decoded, y_cf

    def _repair_by_training_rows(self, batch, rejected, current, y_current):
        """Move each row towards its nearest target-class training row.

        Feature by feature, largest difference first, the original takes the
        reference row's value until the real model agrees (one batch of
        every prefix of the path); then the copied features the model does
        not need are given back (two batches: each one alone, then all of
        them together, or the largest alone if together they fail).
        Modalities without named features
        (``adapter_.repairs_feature_by_feature`` false) skip this round.

        Returns
        -------
        found, counterfactuals, y_cf
            As for :meth:`_repair_by_generator`.
        """
        found = np.zeros(len(rejected), dtype=bool)
        if not self.adapter_.repairs_feature_by_feature:
            return found, current, y_current
        reference = self.reference_
        frozen = np.broadcast_to(
            batch.frozen_features, (len(rejected), len(batch.frozen_features))
        )
        Xt = batch.Xt[rejected]
        nearest = reference.nearest(Xt, batch.target.take(rejected), frozen)
        has_path = nearest >= 0
        if not has_path.any():
            return found, current, y_current
        rows = rejected[has_path]
        x, goal = Xt[has_path], reference.Xt[nearest[has_path]]
        distances = reference.feature_distances(x, goal)
        order, n_movable = path_order(distances, frozen[has_path])
        feature_of_column = self.adapter_.feature_of_column_
        r, n_features = distances.shape
        length = int(n_movable.max())
        if length == 0:
            return found, current, y_current
        # rank[i, f]: the step at which row i copies feature f.
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(n_features)[None, :], axis=1)
        movable = rank < n_movable[:, None]

        def build(copied, of=slice(None)):
            """Return rows ``of`` copying the flagged features, candidate-major."""
            columns = copied[..., feature_of_column]
            rows_built = np.where(columns, goal[of], x[of])
            return rows_built.reshape(-1, x.shape[1]).astype(np.float32)

        # Forward: prefix t copies the t + 1 most different features.
        steps = np.arange(length)[:, None, None]
        prefixes = (rank[None] <= steps) & movable[None]
        row_of = np.tile(rows, length)
        decoded = self._decode(batch, row_of, build(prefixes))
        _, valid = self._score(batch, row_of, decoded)
        valid = valid.reshape(length, r) & (np.arange(length)[:, None] < n_movable)
        reached = valid.any(axis=0)
        copied = prefixes[valid.argmax(axis=0), np.arange(r)] & reached[:, None]
        # Backward, in two batches: try giving back each copied feature on
        # its own; then give back all those the model did not need at once,
        # or, if together they break validity, the largest of them.
        owner, feature = np.nonzero(copied & reached[:, None])
        if len(owner):
            without = copied[owner].copy()
            without[np.arange(len(owner)), feature] = False
            decoded = self._decode(batch, rows[owner], build(without, owner))
            _, spare = self._score(batch, rows[owner], decoded)
            needless = np.zeros_like(copied)
            needless[owner[spare], feature[spare]] = True
            trimmed = copied & ~needless
            idx = np.flatnonzero(needless.any(axis=1))
            decoded = self._decode(batch, rows[idx], build(trimmed[idx], idx))
            _, together = self._score(batch, rows[idx], decoded)
            copied[idx[together]] = trimmed[idx[together]]
            # Rows where giving all back at once fails: give back the largest.
            alone = idx[~together]
            largest = np.where(needless[alone], distances[alone], -1.0).argmax(axis=1)
            copied[alone, largest] = False
        final = np.flatnonzero(reached)
        decoded = self._decode(batch, rows[final], build(copied[final], final))
        y_final, valid_final = self._score(batch, rows[final], decoded)
        positions = np.flatnonzero(has_path)[final]
        found[positions] = valid_final
        # Assemble one row per rejected row: the path's where it succeeded.
        keep = np.setdiff1d(np.arange(len(rejected)), positions)
        stacked = self.adapter_.stack_rows(
            [self.adapter_.take_rows(current, keep), decoded]
        )
        order_back = np.argsort(np.concatenate([keep, positions]), kind="stable")
        y_all = np.asarray(y_current).copy()
        y_all[positions] = y_final
        return found, self.adapter_.take_rows(stacked, order_back), y_all

    def _candidate_costs(self, Xt, Xt_cf, condition, target_condition):
        """Rank candidate counterfactuals: lower is better, one cost per row.

        The default is the L1 distance on the encoding; a backend may rank
        by its own criterion (paper 2's metric for the CVAE).
        """
        return np.abs(Xt_cf - Xt).sum(axis=1).astype(np.float64)

    def _model_outputs(self, X, candidates):
        """Return the model's outputs on the candidates (computed once)."""
        if candidates.y_counterfactual is not None:
            return candidates.y_counterfactual
        return self.predictor_.predict(
            self.adapter_.to_user(X, candidates.counterfactuals)
        )

    def transform(self, X, target=None, *, immutable=None, bounds=None, monotonic=None):
        """Return one counterfactual per row, in the input's format.

        The answer is deterministic: no noise is drawn, so a row's
        counterfactual does not depend on the other rows of the batch.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            Rows to explain, with the columns seen in ``fit``.
        target : str, label, array-like or tuple, optional
            What the model should predict for the counterfactuals; defaults to
            the ``target`` parameter. See :func:`cfexplain._targets.resolve_target`
            for the accepted forms (``"opposite"``, a class label, one label
            per row, probabilities, a regression value or interval).
        immutable, bounds, monotonic : optional
            Override the constructor's constraints for this call (pass ``[]``
            or ``{}`` to lift them).

        Returns
        -------
        pandas.DataFrame or numpy.ndarray of shape (n_samples, n_features)
            Same type, columns, dtypes and index as ``X``. ``X`` itself is
            never modified.

        Raises
        ------
        InvalidDataError
            For missing/extra columns, NaN, unseen categories.
        TargetError
            For a target the model cannot reach (unknown class, ...).
        PredictorError
            If the model fails on the data.
        """
        candidates = self._candidates(X, target, (immutable, bounds, monotonic), 1)
        if candidates.y_counterfactual is not None:
            missed = int((~candidates.target.is_met(candidates.y_counterfactual)).sum())
            if missed:
                warnings.warn(
                    f"{missed} of {len(candidates.y_model)} counterfactuals do not "
                    "reach their target according to the model (explain() marks "
                    "them in its valid mask); more max_rounds, n_candidates or "
                    "training may reach more",
                    UnreachedTargetWarning,
                    # Past scikit-learn's set_output wrapper, to the caller.
                    stacklevel=3,
                )
        return self.adapter_.to_user(X, candidates.counterfactuals)

    def explain(
        self,
        X,
        target=None,
        n_counterfactuals=1,
        *,
        immutable=None,
        bounds=None,
        monotonic=None,
    ):
        """Explain rows with counterfactuals and everything needed to read them.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            Rows to explain.
        target : optional
            As in :meth:`transform`.
        n_counterfactuals : int, default=1
            Counterfactuals per row. The first is :meth:`transform`'s
            deterministic answer. With ``n_candidates > 1`` the others are
            the next best of ``max(n_candidates, n_counterfactuals)`` ranked
            candidates (valid first); otherwise they are sampled through the
            generator's noise and its one-hot spans, reproducibly from the
            fitted ``random_state``. A generator with neither (the
            autoencoder on images) gives ``n_counterfactuals`` equal answers.
        immutable, bounds, monotonic : optional
            As in :meth:`transform`.

        Returns
        -------
        Explanation
        """
        if not isinstance(n_counterfactuals, numbers.Integral) or n_counterfactuals < 1:
            raise ValueError(
                "n_counterfactuals must be a positive integer, got "
                f"{n_counterfactuals!r}"
            )
        k = n_counterfactuals
        candidates = self._candidates(X, target, (immutable, bounds, monotonic), k)
        adapter, rows, resolved = self.adapter_, candidates.rows, candidates.target
        n = len(candidates.y_model)
        # Candidate-major to row-major: all counterfactuals of row 0, then
        # of row 1, ...
        order = np.arange(n * k).reshape(k, n).T.reshape(-1)
        stacked = adapter.renumber(adapter.take_rows(candidates.counterfactuals, order))
        y_cf = np.asarray(self._model_outputs(X, candidates))[order]
        valid = resolved.take(np.repeat(np.arange(n), k)).is_met(y_cf).reshape(n, k)
        originals = adapter.take_rows(rows, np.repeat(np.arange(n), k))
        flat_changes = adapter.describe_changes(originals, stacked)
        if isinstance(stacked, pd.DataFrame):
            stacked.index = pd.MultiIndex.from_arrays(
                [np.repeat(rows.index.to_numpy(), k), np.tile(np.arange(k), n)],
                names=[rows.index.name or "row", "counterfactual"],
            )
        if resolved.task == CLASSIFICATION:
            target_labels = np.asarray(self.classes_)[resolved.labels]
        else:
            target_labels = np.column_stack([resolved.low, resolved.high])
        return Explanation(
            original=rows,
            counterfactuals=stacked,
            y_original=candidates.y_model,
            y_counterfactual=y_cf,
            target=target_labels,
            valid=valid,
            changes=[flat_changes[i * k : (i + 1) * k] for i in range(n)],
            classes=self.classes_,
            modality=self.modality_,
        )

    def score(self, X, y=None, target=None):
        """Return the validity-weighted sparsity of the counterfactuals of ``X``.

        For each row: 1 if its counterfactual reaches the target according to
        the real model, times the share of features it leaves unchanged; then
        the mean over rows. 1 is best (every counterfactual valid and changing
        a single feature of many); 0 when no counterfactual is valid. Use the
        scorers of :mod:`cfexplain.metrics` to select on one criterion.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            Rows to explain.
        y : ignored
            Not used, present for API consistency.
        target : optional
            As in :meth:`transform`; defaults to the ``target`` parameter.

        Returns
        -------
        float
        """
        candidates = self._candidates(X, target, (None, None, None), 1)
        valid = candidates.target.is_met(self._model_outputs(X, candidates))
        changed = self.adapter_.changed_features(
            candidates.rows, candidates.counterfactuals
        )
        return float(np.mean(valid * (1.0 - changed.mean(axis=1))))

    # -- for subclasses ----------------------------------------------------------------

    def _make_net(self, n_condition, shared):  # pragma: no cover - abstract
        """Return the unfitted skorch net.

        Parameters
        ----------
        n_condition : int
            Width of the conditioning vectors.
        shared : dict
            Net parameters every method takes (predictor module, feature map,
            task, seed, the adapter's loss and module arguments, skorch
            settings).

        Returns
        -------
        CounterfactualNet
        """
        raise NotImplementedError
