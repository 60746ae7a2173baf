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

from ._closed_loop import REFERENCE_ROWS, SMALL_TABLE_ROWS, ClosedLoopMixin
from ._device import reproducible_cuda_kernels, resolve_device
from ._engine import CandidateEngineMixin
from ._guidance import differentiable_model, surrogate_callbacks
from ._predictor import CLASSIFICATION, as_predictor, split_encoded_torch_model
from ._random import draw_seed, torch_generator, torch_seeded
from ._repair import ReferenceRows
from ._stacklevel import user_stacklevel
from ._targets import align_target, per_row_labels, resolve_target
from ._threads import blas_on_one_thread, single_blas_thread
from ._unseen import (
    describe_unknown,
    known_rows,
    put_back,
    rows_to_score,
    take_rows,
)
from .backends.batches import batch_loader
from .backends.nets import drop_optimizer_state
from .exceptions import (
    ImplausibleCounterfactualWarning,
    InvalidDataError,
    LowValidityWarning,
    OutsideBoundsWarning,
    OutsideTrainingRangeWarning,
    UnreachedTargetWarning,
    UnseenCategoryWarning,
)
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
    "surrogate_epochs": [*POSITIVE_INTEGER, StrOptions({"auto"})],
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


#: ``prediction_weight="auto"`` of the GAN on a table explaining a
#: regression model (the AE keeps 1: its ``prediction_weight`` entry says
#: why). The regression loss is the squared distance from the
#: model's standardised output to the target interval (paper 1's squared
#: error, zero inside): its pull vanishes as the answer nears the interval,
#: where the L1 cost's does not, so at paper 1's weight of 1 the generators
#: stopped short. Held-out share of interval targets the generator alone
#: reached in the fit's self-check, weights 1 / 10 / 25 / 50 (scratch runs,
#: seed 0; diabetes with a Ridge and a RandomForest, German credit's
#: ``credit_amount`` with boosted trees): see the ``prediction_weight``
#: entries of :class:`~cfexplain.CounterfactualGAN` and
#: :class:`~cfexplain.CounterfactualAE`. Checked at 1 and 25 on tables it
#: was not chosen on (Friedman #1, 1,800 rows, with gradient boosting and
#: 10 nearest neighbours; 4,800 Adult rows' hours per week with boosted
#: trees): the GAN's share rose from 0.18-0.23 to 0.34-0.41 (its Adult fit
#: no longer warned), and every answer reached the 70th-80th percentile
#: interval either way with the same changes (L0 within 0.05 features, L1
#: within 0.04 standard deviations). On all 26,048 Adult training rows,
#: where the training-row candidates are off, 0.15 to 0.35, L0 2.03 to
#: 2.09, L1 0.67 to 0.66, and transform 56 % faster (fewer repairs).
REGRESSION_PREDICTION_WEIGHT = 25.0

#: Optimiser steps between two surrogate refreshes with
#: ``surrogate_refresh_every="auto"``.
REFRESH_STEPS = 50


def _given(constraint) -> bool:
    """Whether a constraint argument asks for anything (``None`` or empty: no)."""
    return constraint is not None and len(constraint) > 0


def _is_array_like(obj) -> bool:
    return isinstance(obj, (np.ndarray, pd.Series, pd.DataFrame, list, tuple))


def _joined_masks(masks):
    """Concatenate the chunks' masks; ``None`` if a chunk has none."""
    if any(m is None for m in masks):
        return None
    return np.concatenate(masks)


def _take(X, positions):
    """Select rows of a frame or an array by position."""
    return X.iloc[positions] if isinstance(X, pd.DataFrame) else X[positions]


def _n_rows(X):
    """Return the number of rows of what a user passed (``len`` or NumPy's)."""
    try:
        return len(X)
    except TypeError:
        return len(np.asarray(X))


def _chunk_of_target(target, n_rows, rows):
    """Return the part of ``target`` that belongs to the chunk ``rows``.

    A target with one entry per row (labels, values, probability rows,
    intervals) is sliced; anything else ("opposite", a label, a value, a
    probability vector, an interval tuple) holds for every row. Chunks only
    exist above 1,024 rows, so a per-row target cannot be mistaken for a
    probability vector or an interval; its slices are labels
    (:func:`~cfexplain._targets.per_row_labels`), so a slice as long as the
    model has classes is not mistaken either.
    """
    if target is None or isinstance(target, (str, tuple)) or np.ndim(target) == 0:
        return target
    if len(target) == n_rows:
        # Labels stay labels in a chunk as long as the model has classes.
        return per_row_labels(np.asarray(target)[rows])
    return target


class BaseCounterfactualExplainer(
    CandidateEngineMixin,
    ClosedLoopMixin,
    OneToOneFeatureMixin,
    TransformerMixin,
    BaseEstimator,
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
        # A Series keyed by feature too (read as a dict when parsed).
        "bounds": [dict, pd.Series, None],
        "monotonic": [dict, pd.Series, None],
        "max_epochs": [*POSITIVE_INTEGER, StrOptions({"auto"})],
        "batch_size": [
            Interval(numbers.Integral, 2, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "max_rounds": [Interval(numbers.Integral, 0, 2, closed="both")],
        "training_row_candidates": ["boolean", StrOptions({"auto"})],
        "plausible_categories": ["boolean"],
        "handle_unknown": [StrOptions({"error", "warn"})],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "chunk_size": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "device": [str, torch.device, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
        "regression_tolerance": NON_NEGATIVE,
        "n_candidates": [*POSITIVE_INTEGER, StrOptions({"auto"})],
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
                stacklevel=user_stacklevel(),
            )
            state["device_"] = "cpu"
            surrogate = state.get("surrogate_")
            if surrogate is not None:
                surrogate.device = "cpu"
        # Explainers pickled before the parameter existed behave as before.
        state.setdefault("training_row_candidates", False)
        if "adapter_" in state and "training_row_candidates_" not in state:
            # Fitted before "auto": the parameter was a bool.
            state["training_row_candidates_"] = bool(state["training_row_candidates"])
        state.setdefault("plausible_categories", True)
        state.setdefault("handle_unknown", "error")
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.non_deterministic = False
        return tags

    # -- input handling ----------------------------------------------------------------

    def _resolve_training_row_candidates(self, adapter, n_rows):
        """Return whether ``fit`` turns the training-row candidates on.

        ``"auto"``: on for a table of at most :data:`SMALL_TABLE_ROWS` rows,
        where a generator trained on few rows makes less sparse answers
        and the path's extra model calls cost little; off for larger
        tables, whose generators are trained on enough rows for their
        throughput to be the point, and for series and images.
        """
        value = self.training_row_candidates
        if not isinstance(value, str):
            return bool(value)
        return adapter.name == "tabular" and n_rows <= SMALL_TABLE_ROWS

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
        X : DataFrame or array-like of shape (n_samples, n_features), series or images
            Training rows in the format the model takes: a table (DataFrame
            or 2-D array), series ``(n, n_channels, n_timepoints)`` (the
            aeon/sktime layout), images ``(n, channels, height, width)`` (or
            ``(n, height, width)`` with ``modality="image"``). A 3-D array
            needs ``modality``: it could be series or images. No labels are
            needed: the generator learns from the model's own predictions.
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
        TargetError
            If the ``target`` parameter is a single label or value the model
            cannot have (a class it does not predict, a value for a
            classifier).
        ValueError
            If a parameter is invalid or the device is not available.
        TrainingError
            If a training loss becomes NaN or infinite (the message says
            at which epoch; lower the learning rates or the loss weights).
        """
        self._validate_params()
        # The model's BLAS on one thread while torch works on the CPU (see
        # cfexplain._threads), reproducible cuDNN kernels on a GPU; inline,
        # so warnings keep their stack levels.
        device = resolve_device(self.device)
        with (
            blas_on_one_thread(device, refresh=True),
            reproducible_cuda_kernels(device),
        ):
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
            self.device_ = device
            self.random_seed_ = draw_seed(self.random_state)
            # A Pipeline(TabularEncoder, skorch net) is differentiable on our own
            # encoding: reuse its encoder so the generator speaks its language.
            self.encoded_model_ = split_encoded_torch_model(model)
            if self.encoded_model_ is not None:
                self.encoder_ = self.encoded_model_[0]
            else:
                encoder = adapter.make_encoder(draw_seed(self.random_seed_))
                if hasattr(encoder, "set_output"):
                    # The engine reads an array, whatever scikit-learn's
                    # global transform_output says (the user's model keeps
                    # following it).
                    encoder.set_output(transform="default")
                self.encoder_ = encoder.fit(X_checked)
            self.adapter_ = adapter.fit(X_checked, self.encoder_)
            if adapter.feature_dtypes_ is not None:
                self.feature_dtypes_in_ = adapter.feature_dtypes_
            Xt = self.encoder_.transform(X_checked)
            self.predictor_ = as_predictor(model, task=self.task).check(X_checked)
            y_model = self.predictor_.predict(X_checked)
            self.classes_ = getattr(self.predictor_, "classes_", None)
            if self.predictor_.task_ == CLASSIFICATION:
                self.n_classes_ = len(self.classes_)
                predicted = np.bincount(
                    y_model.argmax(axis=1), minlength=self.n_classes_
                )
                if np.count_nonzero(predicted) < 2:
                    warnings.warn(
                        "the model predicts a single class on all training rows; "
                        "the generator never sees the other classes and will "
                        "hardly reach them. Check that the model is the fitted "
                        "one and takes X as given (its columns, scale and "
                        "dtype), or fit on rows the model puts in several "
                        "classes",
                        LowValidityWarning,
                        stacklevel=user_stacklevel(),
                    )
                elif not predicted.all():
                    # Rows sorted by class and cut, or a rare class: its
                    # counterfactuals have no row to learn from or copy.
                    missing = np.asarray(self.classes_)[predicted == 0].tolist()
                    warnings.warn(
                        f"the model puts none of the {len(y_model)} training rows "
                        f"in class{'es' if len(missing) > 1 else ''} "
                        f"{', '.join(map(repr, missing))}: the generator sees "
                        "no row of such a class and the repairs have none to copy, "
                        "so counterfactuals aimed at one will mostly fail. Fit on "
                        "rows the model puts in every class you will ask for "
                        "(shuffle the rows before taking a subset)",
                        LowValidityWarning,
                        stacklevel=user_stacklevel(),
                    )
            else:
                self.output_mean_ = float(np.mean(y_model))
                self.output_scale_ = float(np.std(y_model)) or 1.0
                self.output_range_ = (float(np.min(y_model)), float(np.max(y_model)))
            self._check_default_target(y_model[:1])
            # The constructor's constraints (no call's in place of them).
            self.constraints_ = self._parsed_constraints((None, None, None))
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
            self.training_row_candidates_ = self._resolve_training_row_candidates(
                adapter, len(Xt)
            )
            keeps_pool = self.max_rounds >= 2 or self.training_row_candidates_
            if keeps_pool and adapter.training_row_path is not None:
                self.reference_ = ReferenceRows.sample(
                    Xt[train],
                    y_model[train],
                    self.predictor_.task_,
                    self.adapter_.feature_of_column_,
                    # Long or many-channel series: the pool stays under 64 MB.
                    max_rows=min(REFERENCE_ROWS, max(100, 2**24 // Xt.shape[1])),
                    seed=draw_seed(self.random_seed_ + 3),
                )
                self.reference_ = self._without_implausible_rows(self.reference_)
                # The pool's own rows, so that a constrained copy equal to
                # one is graded with the output recorded here.
                self.reference_.rows = adapter.take_rows(
                    adapter.as_rows(_take(X_checked, train)),
                    self.reference_.positions,
                )
            held_out = (Xt[check], y_model[check]) if len(train) < len(Xt) else None
            with torch_seeded(self.random_seed_):
                self._fit_backend(Xt[train], y_model[train], labels, held_out)
            # Rows the constructor's constraints leave no counterfactual cannot
            # be explained; transform would raise a ConstraintError for them.
            X_check = _take(X_checked, check)
            feasible = self.constraints_.feasible(adapter.as_rows(X_check))
            self.fit_report_ = self._self_check(
                _take(X_check, np.flatnonzero(feasible)), held_out=len(train) < len(Xt)
            )
            return self

    def _check_default_target(self, y_model):
        """Raise at fit, not at the first transform, for an impossible default target.

        Only a single label or value can be checked here: a per-row target
        needs the rows, and ``"opposite"`` (the default of every explainer)
        is left to the calls, where a regression model gets its own target.

        Raises
        ------
        TargetError
            For a class the model does not have, a value for a classifier or
            a label for a regression model.
        """
        if np.ndim(self.target) == 0 and not (
            isinstance(self.target, str) and self.target == "opposite"
        ):
            self._resolve(None, y_model)

    def _fit_backend(self, Xt, y_model, y=None, held_out=None):
        """Train the net: the model's gradients, the callbacks, the net.

        ``y`` is what the user passed to ``fit`` as ``y`` (labels or None);
        ``held_out`` the self-check's encoded rows and the model's outputs
        on them, ``None`` where none are held out of training.
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
        callbacks += self._training_callbacks(Xt, y_model, held_out)
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
        drop_optimizer_state(self.net_)
        if self.surrogate_ is not None:
            drop_optimizer_state(self.surrogate_.net_)
        self._after_training()

    def _training_callbacks(self, Xt, y_model, held_out):
        """Callbacks of the method's own, after the user's (none by default)."""
        return []

    def _after_training(self):
        """Read what the method's callbacks found (nothing by default)."""

    def _fit_condition(self, Xt, y_model, y):
        """Conditioning vectors of the training rows (the model's outputs)."""
        return self._condition(y_model)

    def _uses_model_gradients(self):
        """Whether training needs the model as a differentiable module."""
        return True

    def _net_fit_params(self, Xt, y_model):
        """Extra arguments of the net's ``fit``."""
        return {}

    def _class_reference(self, Xt, y_model):
        """Return encoded training rows and the model's class of each (MMD terms).

        Regression rows all get class 0: the term then compares the
        counterfactuals with the training rows as a whole.
        """
        if self.predictor_.task_ == CLASSIFICATION:
            labels = np.asarray(y_model).argmax(axis=1)
        else:
            labels = np.zeros(len(Xt), dtype=np.int64)
        return {"reference_rows": Xt, "reference_labels": labels}

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
        # A copy: for one row, ascontiguousarray would hand back the
        # read-only broadcast view itself, which torch warns about.
        return np.array(mask, dtype=np.float32)

    def _training_budget(self, n_rows):
        """Resolve ``batch_size``/``max_epochs`` into ``batch_size_``/``max_epochs_``.

        ``batch_size="auto"`` is ``n_rows // 16`` within ``[32,
        _reference_batch_size]`` (the paper's batch on large tables, about
        16 steps an epoch on small ones, fewer below 512 rows);
        ``max_epochs="auto"`` trains
        about ``_reference_steps`` optimiser steps (what 30 epochs were on
        Adult), at least one epoch and at most 1,000. A modality whose
        adapter sets ``auto_epochs`` (images) trains that many epochs of the
        paper's batch instead, and on fewer rows than the adapter's
        ``auto_epochs_min_rows`` as many steps as those epochs would be
        there (at most 1,000 epochs); one that sets ``auto_batch_size``
        (series) uses that batch.
        """
        batch = self.batch_size
        auto_batch_size, auto_epochs, auto_steps = self._modality_budget()
        if batch == "auto":
            batch = min(self._reference_batch_size, max(32, n_rows // 16))
            if auto_batch_size is not None:
                batch = auto_batch_size
            elif auto_epochs is not None:
                batch = self._reference_batch_size
        self.batch_size_ = int(min(batch, n_rows))
        epochs = self.max_epochs
        steps_per_epoch = max(1, n_rows // self.batch_size_)
        if epochs == "auto" and auto_epochs is not None:
            min_rows = self.adapter_.auto_epochs_min_rows or 0
            min_steps = auto_epochs * (min_rows // self.batch_size_)
            epochs = np.clip(np.ceil(min_steps / steps_per_epoch), auto_epochs, 1000)
        elif epochs == "auto":
            epochs = np.clip(np.ceil(auto_steps / steps_per_epoch), 1, 1000)
        self.max_epochs_ = int(epochs)
        return self.batch_size_, self.max_epochs_

    #: Per modality, what each parameter given as ``"auto"`` stands for;
    #: :meth:`_resolve_auto` sets the fitted ``<name>_`` attributes from it.
    _AUTO: dict = {}
    #: Per modality, what ``"auto"`` stands for instead when the model is a
    #: regression model (entries missing here keep ``_AUTO``'s).
    _AUTO_REGRESSION: dict = {}

    def _resolve_auto(self):
        """Set the ``*_`` attributes of the parameters that may be ``"auto"``."""
        auto = dict(self._AUTO.get(self.modality_, {}))
        if self.predictor_.task_ != CLASSIFICATION:
            auto.update(self._AUTO_REGRESSION.get(self.modality_, {}))
        for name, value in auto.items():
            given = getattr(self, name)
            setattr(self, f"{name}_", value if isinstance(given, str) else given)

    def _modality_budget(self):
        """Return ``(auto_batch_size, auto_epochs, auto_steps)`` for the modality.

        The adapter's batch and epochs and the estimator's
        ``_reference_steps`` by default; an explainer whose method trains
        differently on a modality overrides it (``None``: the generic rule
        of :meth:`_training_budget`).
        """
        return (
            self.adapter_.auto_batch_size,
            self.adapter_.auto_epochs,
            self._reference_steps,
        )

    def _skorch_parameters(self, n_rows, callbacks):
        """Training settings every backend's skorch net shares."""
        batch_size, max_epochs = self._training_budget(n_rows)
        return {
            "optimizer": torch.optim.Adam,
            "batch_size": batch_size,
            "max_epochs": max_epochs,
            "train_split": None,
            # Whole batches in one indexing (same batches as DataLoader's).
            "iterator_train": batch_loader,
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
        condition = resolved.condition(getattr(self, "output_range_", None))
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

    def transform(self, X, target=None, *, immutable=None, bounds=None, monotonic=None):
        """Return one counterfactual per row, in the input's format.

        The answer is deterministic: no noise is drawn, so a row's
        counterfactual does not depend on the other rows of the batch, up
        to the last float32 bits of continuous values (numbers, pixels,
        series values), which matrix products of other batch sizes may
        round differently; categories come out the same.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features), series or images
            Rows to explain, in ``fit``'s format: a table with the columns
            seen in ``fit``, series or images of the fitted shape.
        target : str, label, array-like or tuple, optional
            What the model should predict for the counterfactuals; defaults to
            the ``target`` parameter. Classification: ``"opposite"`` (the
            most likely other class), a class label as in ``classes_``, one
            label per row, a probability vector or a matrix of them (soft
            targets). Regression: a value (reached within
            ``regression_tolerance``), an interval ``(low, high)`` (``None``
            or an infinite bound leaves a side open: ``(45, None)``), one
            value per row or an ``(n, 2)`` array of intervals. A per-row target
            given as a pandas Series or DataFrame is matched to the rows of
            ``X`` by index label, as pandas aligns. See the user guide's
            section on targets.
        immutable, bounds, monotonic : optional
            Override the constructor's constraints for this call (pass ``[]``
            or ``{}`` to lift them).

        Returns
        -------
        pandas.DataFrame or numpy.ndarray of shape (n_samples, n_features)
            Same type, columns, dtypes and index as ``X``. ``X`` itself is
            never modified. Integer features come back whole, float
            features at the precision of their training values (at most
            six decimals). Series come back in numpy's common dtype of
            the series the explainer was fitted on and ``X``
            (``numpy.result_type``), so frozen values keep their exact
            values.

        Raises
        ------
        InvalidDataError
            For missing/extra columns, NaN, and (with
            ``handle_unknown="error"``) categories ``fit`` did not see.
        TargetError
            For a target that cannot be read (an unknown class,
            probabilities that do not sum to one, an interval with ``low >
            high``, a form of the other task). A well-formed target the
            model does not reach for some rows is reported by an
            :class:`~cfexplain.UnreachedTargetWarning` instead.
        ConstraintError
            For constraints in the wrong form (an unknown feature,
            ``low > high``, ...), rows the constraints leave no
            counterfactual (a frozen value outside its bounds, ...) or
            constraints that freeze everything.
        PredictorError
            If the model fails on the data.

        Warns
        -----
        UnreachedTargetWarning
            With the number of counterfactuals the model puts off their
            target.
        ImplausibleCounterfactualWarning
            With the number of valid counterfactuals that keep a pair of
            categories the training rows lack (tables,
            ``plausible_categories=True``).
        PredictMismatchWarning
            With the number of answers judged valid that the classifier's
            own ``predict`` puts in another class, where the self-check
            found the two disagreeing or looked at fewer than 50 answers.
        OutsideBoundsWarning
            With the number of originals holding values outside the
            bounds, which their counterfactuals are clipped into.
        OutsideTrainingRangeWarning
            With the number of originals holding numbers outside the range
            of the training rows (tables), naming the features.
        UnseenCategoryWarning
            With ``handle_unknown="warn"``, with the number of rows holding
            a category ``fit`` did not see, which come back unchanged.
        """
        check_is_fitted(self, "adapter_")
        X, target = self._as_fitted_type(X, target)
        given, known = X, None
        if self.handle_unknown == "warn":
            known = known_rows(self, X)
        if known is not None:
            warnings.warn(
                f"{describe_unknown(X, known)}: they are returned unchanged "
                "(handle_unknown='warn'). To explain them, fit on rows that "
                "hold their categories or group rare categories together",
                UnseenCategoryWarning,
                stacklevel=user_stacklevel(),
            )
            if not known.any():
                # No row goes on to the checks below; the input's own
                # warnings (an array given to an explainer fitted on a
                # frame) are given here.
                self.adapter_.check_input(self, X, reset=False)
                return put_back(X, None, known)
            X, target = take_rows(self, X, target, known)
        # check_all: with max_rounds=0 the answers have not met the model
        # yet, and one call tells which rows to report.
        output, valid, implausible, outside, rejected = self._transform_with_validity(
            X, target, (immutable, bounds, monotonic), check_all=True
        )
        self._warn_outside_training_range(outside)
        self._warn_rejected_by_own_predict(rejected, valid)
        if _given(self.bounds if bounds is None else bounds):
            adapter = self.adapter_
            with warnings.catch_warnings():
                # Its warnings (feature names, ...) came with the first check.
                warnings.simplefilter("ignore")
                rows = adapter.as_rows(adapter.check_input(self, X, reset=False))
            self._warn_outside_bounds(rows, (immutable, bounds, monotonic))
        constrained = any(
            given is not None
            for given in (immutable, bounds, monotonic)
            + (self.immutable, self.bounds, self.monotonic)
        )
        if valid is not None and not valid.all():
            odd = ""
            if implausible is not None and (implausible & ~valid).any():
                # The best attempt of such a row may also bring in a pair of
                # categories the data lack (a female "Husband"): say so too.
                odd = (
                    f"; {int((implausible & ~valid).sum())} of them also hold "
                    "a pair of categories the training rows lack"
                )
            # Targets the model's outputs never come near first: for those
            # rows more training or candidates would not help.
            note, beyond = self._outside_output_range(X, target, ~valid)
            remedies = ""
            if beyond < (~valid).sum():
                remedies = (
                    f"; {'for the others, ' if beyond else ''}"
                    f"{self._remedies(constrained=constrained)} may reach more"
                )
            warnings.warn(
                f"{int((~valid).sum())} of {len(valid)} counterfactuals do not "
                "reach their target according to the model (explain() marks "
                f"them in its valid mask){note}{remedies}{odd}",
                UnreachedTargetWarning,
                stacklevel=user_stacklevel(),
            )
        if implausible is not None:
            # Unreached rows are reported above; these are valid answers.
            kept = implausible if valid is None else implausible & valid
            if kept.any():
                cause = ""
                if constrained:
                    cause = (
                        " (often an immutable category's value that no "
                        "training row reaching the target holds)"
                    )
                warnings.warn(
                    f"{int(kept.sum())} of {len(kept)} counterfactuals bring in "
                    "a pair the training rows lack (two categories, or a "
                    "category and a range of a number): no answer both valid "
                    f"and plausible was found for them{cause}; explain(X) marks "
                    "them (Explanation.plausible)",
                    ImplausibleCounterfactualWarning,
                    stacklevel=user_stacklevel(),
                )
        return output if known is None else put_back(given, output, known)

    def _as_fitted_type(self, X, target):
        """Return ``X`` as the modality reads it, and its target.

        :meth:`ModalityAdapter.as_fitted_type
        <cfexplain.modalities.ModalityAdapter.as_fitted_type>`: a DataFrame
        given to an explainer fitted on an array becomes that array. A
        per-row pandas target is matched to the frame's index labels
        first, while the rows still have them.
        """
        as_fitted = self.adapter_.as_fitted_type(self, X)
        if as_fitted is X:
            return X, target
        return as_fitted, align_target(target, X)

    def _warn_outside_training_range(self, outside):
        """Warn that originals hold numbers beyond the training range.

        :class:`~cfexplain.OutsideTrainingRangeWarning`; ``outside`` is the
        adapter's :meth:`outside_training_range
        <cfexplain.modalities.ModalityAdapter.outside_training_range>` for
        the call's rows (``None``: nothing to say).
        """
        if outside is None or not outside.any():
            return
        rows = outside.any(axis=1)
        warnings.warn(
            f"{int(rows.sum())} of {len(rows)} originals hold numbers outside "
            "the range of the training rows: "
            f"{self.adapter_.describe_outside_training_range(outside)}. The "
            "explainer learnt nothing there, so their counterfactuals are "
            "extrapolations: such a number keeps its value where the model "
            "accepts the answer with it, and is changed only where the model "
            "needs it. To explain such rows as the data does, fit on rows that "
            "cover them",
            OutsideTrainingRangeWarning,
            stacklevel=user_stacklevel(),
        )

    def _warn_outside_bounds(self, rows, constraints):
        """Warn that rows outside the bounds were clipped into them.

        :class:`~cfexplain.OutsideBoundsWarning`, counting the rows and
        naming the features (or channels); ``rows`` are the originals as
        the adapter holds them, ``constraints`` the call's.
        """
        outside, features = self._parsed_constraints(constraints).outside_bounds(rows)
        if outside.any():
            kind = "channels" if self.modality_ == "series" else "features"
            warnings.warn(
                f"{int(outside.sum())} of {len(outside)} originals hold values "
                f"outside the bounds of the {kind} {features}; their "
                "counterfactuals are clipped into the bounds whether or not "
                "the model needs it. To explain them as they are, bound with a "
                "range their values respect, or leave those rows out",
                OutsideBoundsWarning,
                stacklevel=user_stacklevel(),
            )

    def _outside_output_range(self, X, target, unreached):
        """Say how many unreached regression targets the model never gives.

        A value or interval outside the range of the model's outputs on
        the training rows is not a matter of more training: no realistic
        row may reach it. Returns the note (empty for classifiers, and
        explainers pickled before the range was kept) and how many rows it
        accounts for.
        """
        if self.predictor_.task_ == CLASSIFICATION:
            return self._classes_never_predicted(X, target, unreached)
        output_range = getattr(self, "output_range_", None)
        if output_range is None:
            return "", 0
        resolved = self._resolve(align_target(target, X), np.zeros(len(unreached)))
        low, high = output_range
        outside = unreached & ((resolved.high < low) | (resolved.low > high))
        note = ""
        if outside.any():
            note = (
                f"; {int(outside.sum())} of them ask for values outside the "
                f"range the model gives the training rows ({low:.4g} to "
                f"{high:.4g}), which no change of a realistic row may reach"
            )
        in_gap = 0
        reference = getattr(self, "reference_", None)
        if reference is not None:
            # Inside the range, but where the model's outputs leave a gap:
            # no training row shows (or guides a repair to) such a value.
            values = np.sort(np.asarray(reference.y_model, dtype=float))
            rows = np.flatnonzero(unreached & ~outside)
            first = np.searchsorted(values, resolved.low[rows], side="left")
            last = np.searchsorted(values, resolved.high[rows], side="right")
            in_gap = int((first == last).sum())
            if in_gap:
                note += (
                    f"; {in_gap} ask for values no training row's output "
                    "comes within (a gap between the model's outputs)"
                )
        return note, int(outside.sum()) + in_gap

    def _classes_never_predicted(self, X, target, unreached):
        """Say how many unreached rows ask for a class no training row is put in.

        A model that puts every training row in one class (``fit`` warned)
        leaves the others with nothing to learn or copy: more training
        does not help. Read off the repairs' pool of training rows; only
        when it lacks a class are the rows' targets resolved (one model
        call). Returns the note and how many rows it accounts for.
        """
        reference = getattr(self, "reference_", None)
        if reference is None:
            return "", 0
        present = np.unique(np.asarray(reference.y_model).argmax(axis=1))
        if len(present) == self.n_classes_:
            return "", 0
        rows = self.adapter_.check_input(self, X, reset=False)
        resolved = self._resolve(align_target(target, X), self.predictor_.predict(rows))
        missing = unreached & ~np.isin(resolved.labels, present)
        if not missing.any():
            return "", 0
        names = np.asarray(self.classes_)[
            np.setdiff1d(resolved.labels[missing], present)
        ]
        note = (
            f"; {int(missing.sum())} of them ask for a class the model gives "
            f"none of the training rows kept for the repairs "
            f"({', '.join(map(repr, names.tolist()))}), which more training "
            "does not teach"
        )
        return note, int(missing.sum())

    @single_blas_thread
    def _transform_with_validity(self, X, target, constraints, *, check_all=False):
        """Return ``transform``'s answer and which rows reach their target.

        The work goes ``chunk_size`` rows at a time, so memory does not grow
        with the input. The validity mask is the model's verdict on each
        counterfactual, shape ``(n_samples,)``; it is ``None`` when ranking
        did not call the model and ``check_all`` does not ask for the call.
        The third value flags the counterfactuals that bring in what the
        training data lack (``plausible_categories``), ``None`` where the
        check does not run. The fourth flags the originals' values outside
        the training range (:meth:`ModalityAdapter.outside_training_range
        <cfexplain.modalities.ModalityAdapter.outside_training_range>`),
        ``None`` where the modality checks none. The fifth flags the valid
        answers the classifier's own ``predict`` rejects
        (:meth:`_rejected_by_own_predict`; no row where it did not look),
        ``None`` with the validity mask.
        """
        n_rows, chunk = _n_rows(X), self._chunk_rows()
        # Before chunks slice a per-row target by position.
        target = align_target(target, X)
        if n_rows <= chunk:
            parts = [self._transform_chunk(X, target, constraints, check_all)]
        else:
            # Conflicts and unseen categories are reported with positions in
            # the whole input (a chunk of an array starts again at 0).
            self._check_whole_input(X, constraints)
            parts = [
                self._transform_chunk(
                    _take(X, slice(start, start + chunk)),
                    _chunk_of_target(target, n_rows, slice(start, start + chunk)),
                    constraints,
                    check_all,
                )
                for start in range(0, n_rows, chunk)
            ]
        valid, implausible, outside, rejected = (
            _joined_masks([part[i] for part in parts]) for i in range(1, 5)
        )
        masks = valid, implausible, outside, rejected
        if len(parts) == 1:
            return parts[0][0], *masks
        outputs = [output for output, *_ in parts]
        if isinstance(outputs[0], pd.DataFrame):
            return pd.concat(outputs), *masks
        return np.concatenate(outputs), *masks

    def __dask_tokenize__(self):
        """Return a deterministic token, so Dask can hash a fitted explainer.

        Dask tokenizes the functions and arguments of a graph (for instance
        ``ddf.map_partitions(cf.transform, ...)``); estimators holding torch
        modules have no deterministic default. The token digests the class,
        the parameters and, once fitted, the seed and the weights of the
        generator that answers (the averaged one, when kept).
        """
        import hashlib

        digest = hashlib.sha256(type(self).__qualname__.encode())
        params = sorted(self.get_params(deep=False).items())
        digest.update(repr([(name, repr(value)) for name, value in params]).encode())
        net = getattr(self, "net_", None)
        if net is not None:
            digest.update(str(self.random_seed_).encode())
            for name, tensor in net.inference_module().state_dict().items():
                digest.update(name.encode())
                digest.update(tensor.detach().cpu().numpy().tobytes())
        return (type(self).__qualname__, digest.hexdigest())

    def _chunk_rows(self):
        """Rows per chunk of :meth:`transform` (``chunk_size`` resolved)."""
        if self.chunk_size != "auto":
            return int(self.chunk_size)
        width = max(1, self.encoder_.layout_.n_columns)
        # A table's chunk also holds its decoded frame, the model's own
        # copies and the repairs' candidates: about 2 KB a row of German
        # credit. 32,768 rows keep that near 100 MB and lose about 10 % of
        # the rows/s of 65,536 (benchmarks/scale.py).
        return int(np.clip(2**24 // width, 1024, 32768))

    def _transform_chunk(self, X, target, constraints, check_all):
        """Return one chunk's answers (user format) and their four masks.

        See :meth:`_transform_with_validity`.
        """
        candidates = self._candidates(X, target, constraints, 1)
        valid = rejected = None
        if candidates.y_counterfactual is not None or check_all:
            y_counterfactual = self._model_outputs(candidates)
            valid = np.asarray(candidates.target.is_met(y_counterfactual), dtype=bool)
            rejected = self._rejected_by_own_predict(
                candidates.counterfactuals, y_counterfactual, valid
            )
            if rejected is None:  # not checked: flags no answer of the chunk
                rejected = np.zeros(len(valid), dtype=bool)
        implausible = None
        if candidates.plausibility_keys is not None:
            implausible = self.adapter_.introduced_implausibility(
                candidates.plausibility_keys, candidates.counterfactuals
            )
        return (
            self.adapter_.to_user(X, candidates.counterfactuals),
            valid,
            implausible,
            self.adapter_.outside_training_range(candidates.rows),
            rejected,
        )

    def _check_whole_input(self, X, constraints):
        """Raise for rows of ``X`` that no answer can serve, naming their place.

        A :class:`~cfexplain.ConstraintError`, or the
        :class:`~cfexplain.InvalidDataError` of a category ``fit`` did not
        see (tables), naming rows by their place in the whole of ``X``.
        """
        adapter = self.adapter_
        rows = adapter.as_rows(adapter.check_input(self, X, reset=False))
        self._parsed_constraints(constraints).check_feasible(rows)
        category_codes = getattr(self.encoder_, "category_codes", None)
        if category_codes is not None:
            category_codes(adapter.in_fit_format(rows))

    @single_blas_thread
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
        X : DataFrame or array-like of shape (n_samples, n_features), series or images
            Rows to explain, as in :meth:`transform`.
        target : optional
            As in :meth:`transform`.
        n_counterfactuals : int, default=1
            Counterfactuals per row. The first is :meth:`transform`'s
            deterministic answer. With ``n_candidates > 1`` the others are
            the next best of ``max(n_candidates, n_counterfactuals)`` ranked
            candidates (valid first); otherwise they are sampled through the
            generator's noise and its one-hot spans, reproducibly from the
            fitted ``random_state`` for the same rows (the draws are made
            for the whole call, so a row's later answers change with the
            rows it is explained with). A generator with neither (the
            autoencoder on images and series) gives ``n_counterfactuals``
            equal answers before repairs. Every answer the model rejects
            gets the repairs of ``max_rounds``; a training-row repair moves
            a row's ``j``-th answer towards its ``j``-th nearest
            target-class training row, so repaired answers differ. After the
            first, a row's answers come distinct and valid first, then
            distinct and invalid, then repeats of an earlier answer (a row
            may have fewer than ``n_counterfactuals`` distinct ones; with
            ``training_row_candidates`` an answer keeps its own rather than
            take a training-row candidate equal to an earlier answer); the
            ``valid`` mask says which the model accepts.
        immutable, bounds, monotonic : optional
            As in :meth:`transform`.

        Returns
        -------
        Explanation

        Warns
        -----
        PredictMismatchWarning
            With the number of answers judged valid that the classifier's
            own ``predict`` puts in another class, where the self-check
            found the two disagreeing or looked at fewer than 50 answers.
        OutsideBoundsWarning
            With the number of originals holding values outside the
            bounds, which their counterfactuals are clipped into.
        OutsideTrainingRangeWarning
            With the number of originals holding numbers outside the range
            of the training rows (tables), naming the features.
        UnseenCategoryWarning
            With ``handle_unknown="warn"``, with the number of rows holding
            a category ``fit`` did not see, which are left out of the
            explanation (it raises as ``transform`` does when no row is
            left).

        Notes
        -----
        Unlike :meth:`transform`, ``explain`` does not warn about answers
        the model rejects or that bring in a pair of categories the
        training rows lack: the :class:`~cfexplain.Explanation`'s ``valid``
        and ``plausible`` masks mark every one of them, and its text says
        so next to each.
        """
        if not isinstance(n_counterfactuals, numbers.Integral) or n_counterfactuals < 1:
            raise ValueError(
                "n_counterfactuals must be a positive integer, got "
                f"{n_counterfactuals!r}"
            )
        k = n_counterfactuals
        check_is_fitted(self, "adapter_")
        X, target = self._as_fitted_type(X, target)
        known = known_rows(self, X) if self.handle_unknown == "warn" else None
        if known is not None and known.any():
            # With no row left, the call goes on to refuse the batch.
            warnings.warn(
                f"{describe_unknown(X, known)}: they are left out of the "
                "explanation (handle_unknown='warn'), whose index names the "
                "rows explained. To explain them, fit on rows that hold "
                "their categories or group rare categories together",
                UnseenCategoryWarning,
                stacklevel=user_stacklevel(),
            )
            X, target = take_rows(self, X, target, known)
        candidates = self._candidates(X, target, (immutable, bounds, monotonic), k)
        adapter, rows, resolved = self.adapter_, candidates.rows, candidates.target
        if _given(self.bounds if bounds is None else bounds):
            self._warn_outside_bounds(rows, (immutable, bounds, monotonic))
        self._warn_outside_training_range(adapter.outside_training_range(rows))
        n = len(candidates.y_model)
        # Candidate-major to row-major: all counterfactuals of row 0, then
        # of row 1, ...
        order = np.arange(n * k).reshape(k, n).T.reshape(-1)
        stacked = adapter.renumber(adapter.take_rows(candidates.counterfactuals, order))
        y_cf = np.asarray(self._model_outputs(candidates))[order]
        valid = resolved.take(np.repeat(np.arange(n), k)).is_met(y_cf).reshape(n, k)
        self._warn_rejected_by_own_predict(
            self._rejected_by_own_predict(stacked, y_cf, valid.reshape(-1)),
            valid,
        )
        plausible = None
        if candidates.plausibility_keys is not None:
            plausible = ~adapter.introduced_implausibility(
                np.repeat(candidates.plausibility_keys, k, axis=0), stacked
            ).reshape(n, k)
        elif self.plausible_categories and (
            getattr(adapter, "category_pairs_", None) is not None
        ):
            # The check runs, but the training rows lack no pair of
            # categories: no answer can bring one in.
            plausible = np.ones((n, k), dtype=bool)
        originals = adapter.take_rows(rows, np.repeat(np.arange(n), k))
        flat_changes = adapter.describe_changes(originals, stacked)
        if isinstance(stacked, pd.DataFrame):
            stacked.index = pd.MultiIndex.from_arrays(
                [np.repeat(rows.index.to_numpy(), k), np.tile(np.arange(k), n)],
                names=[rows.index.name or "row", "counterfactual"],
            )
        if isinstance(X, pd.DataFrame):
            # In the caller's dtypes, as transform answers (text the model
            # was called with as the categories fit saw, ...).
            rows, stacked = adapter.to_user(X, rows), adapter.to_user(X, stacked)
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
            plausible=plausible,
        )

    @single_blas_thread
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
            Rows to explain. Rows of a table holding a category ``fit`` did
            not see are left out, with a :class:`~cfexplain.CfexplainWarning`
            (``NaN`` when no row is left), as the scorers of
            :mod:`cfexplain.metrics` do.
        y : ignored
            Not used, present for API consistency.
        target : optional
            As in :meth:`transform`; defaults to the ``target`` parameter.

        Returns
        -------
        float
        """
        X, target = rows_to_score(self, X, target)
        if X is None:
            return float("nan")
        candidates = self._candidates(X, target, (None, None, None), 1)
        valid = candidates.target.is_met(self._model_outputs(candidates))
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
