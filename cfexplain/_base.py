"""The estimator contract every counterfactual explainer shares.

:class:`BaseCounterfactualExplainer` owns what users see: parameters, input
checks, the model under explanation, targets, constraints, the result's
format. A subclass only says how to train its networks (:meth:`_fit_backend`)
and how to generate encoded counterfactuals (:meth:`_generate`); the backends
it calls see float arrays and a :class:`~cfexplain.preprocessing.FeatureLayout`,
never pandas.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, clone
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._constraints import apply_constraints, parse_constraints, parse_image_constraints
from ._device import resolve_device
from ._predictor import CLASSIFICATION, as_predictor, split_encoded_torch_model
from ._random import draw_seed, torch_generator, torch_seeded
from ._targets import resolve_target
from .exceptions import InvalidDataError
from .explanation import Explanation, changed_features, describe_changes
from .preprocessing import ImageEncoder, TabularEncoder
from .preprocessing._image_encoder import as_image_array

__all__ = ["BaseCounterfactualExplainer"]

TABULAR = "tabular"
IMAGE = "image"

#: Parameter constraints of the explainers that distil black boxes into a
#: surrogate (all of them).
SURROGATE_PARAMETERS = {
    "surrogate_hidden": [tuple, list],
    "surrogate_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
    "surrogate_refresh_every": [Interval(numbers.Integral, 0, None, closed="left")],
    "surrogate_refresh_rows": [Interval(numbers.Integral, 1, None, closed="left")],
}


def _is_array_like(obj) -> bool:
    return isinstance(obj, (np.ndarray, pd.Series, pd.DataFrame, list, tuple))


def _stack_rows(parts):
    """Concatenate frames or arrays of rows."""
    if isinstance(parts[0], pd.DataFrame):
        return pd.concat(parts)
    return np.concatenate(parts)


def _reset_index(rows):
    """Return a frame numbered 0..n-1, or an array as it is."""
    if isinstance(rows, pd.DataFrame):
        return rows.reset_index(drop=True)
    return rows


def _take_rows(rows, positions):
    """Select rows of a frame or an array by position."""
    if isinstance(rows, pd.DataFrame):
        return rows.iloc[positions]
    return rows[positions]


class BaseCounterfactualExplainer(
    OneToOneFeatureMixin, TransformerMixin, BaseEstimator
):
    """Base class of the counterfactual explainers; not for direct use.

    Subclasses define ``__init__`` with their parameters (keyword-only, stored
    untouched) and implement :meth:`_fit_backend` and :meth:`_generate`.
    """

    _parameter_constraints: dict = {
        "predictor": "no_validation",
        "target": "no_validation",
        "task": [StrOptions({"auto", "classification", "regression"})],
        "immutable": "no_validation",
        "bounds": [dict, None],
        "monotonic": [dict, None],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 2, None, closed="left")],
        "device": [str, torch.device, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
        "regression_tolerance": [Interval(numbers.Real, 0, None, closed="left")],
        "n_candidates": [Interval(numbers.Integral, 1, None, closed="left")],
        "numeric_tolerance": [Interval(numbers.Real, 0, None, closed="left")],
    }

    # -- scikit-learn protocol -------------------------------------------------

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

    # -- input handling --------------------------------------------------------

    def _resolve_modality(self, X):
        """Return ``"tabular"`` or ``"image"`` for the data given to ``fit``.

        Estimators without a ``modality`` parameter are tabular. With
        ``"auto"``, a DataFrame or a 2-D array is a table and a 3-D or 4-D
        array holds images.
        """
        modality = getattr(self, "modality", TABULAR)
        if isinstance(X, pd.DataFrame):
            if modality == IMAGE:
                raise InvalidDataError(
                    "modality='image' needs an array of images, got a DataFrame"
                )
            return TABULAR
        if modality == TABULAR:
            return TABULAR
        ndim = getattr(X, "ndim", None)
        if not isinstance(ndim, int):
            ndim = np.asarray(X).ndim
        if ndim in (3, 4):
            return IMAGE
        if modality == IMAGE:
            raise InvalidDataError(
                "modality='image' needs images of shape (n, height, width) or "
                f"(n, channels, height, width), got {ndim} dimensions"
            )
        return TABULAR

    def _check_images(self, X, *, reset):
        if reset:
            array = as_image_array(X)
            self.n_features_in_ = int(np.prod(array.shape[1:]))
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            return array
        return self.encoder_.check(X)

    def _check_X(self, X, *, reset):
        """Validate ``X`` and return it in the fitted layout.

        Tables come back as DataFrames (or 2-D arrays when fitted on
        arrays), images as arrays.
        """
        if reset:
            self.modality_ = self._resolve_modality(X)
        if self.modality_ == IMAGE:
            return self._check_images(X, reset=reset)
        if isinstance(X, pd.DataFrame):
            try:
                validate_data(self, X, reset=reset, skip_check_array=True)
            except ValueError as exc:
                raise InvalidDataError(str(exc)) from exc
            if len(X) == 0:
                raise InvalidDataError("X has 0 samples; at least one is required")
            if reset:
                self._input_is_frame_ = True
            return X
        try:
            array = validate_data(
                self, X, reset=reset, dtype=None, ensure_all_finite=False
            )
        except ValueError as exc:
            raise InvalidDataError(str(exc)) from exc
        if reset:
            self._input_is_frame_ = False
        if getattr(self, "_input_is_frame_", False):
            # Fitted on a DataFrame, given an array: rebuild the frame.
            return pd.DataFrame(array, columns=self.feature_names_in_).astype(
                self.encoder_.dtypes_
            )
        return array

    def _resolve_model(self, y, predict_fn):
        if predict_fn is None and y is not None and not _is_array_like(y):
            if callable(y) or hasattr(y, "predict") or isinstance(y, torch.nn.Module):
                return y
        return predict_fn if predict_fn is not None else self.predictor

    def _output(self, X, X_cf_frame):
        """Return counterfactuals in the type the user passed."""
        if isinstance(X, pd.DataFrame) or isinstance(X_cf_frame, np.ndarray):
            return X_cf_frame
        return X_cf_frame.to_numpy()

    def _as_frame(self, X, X_checked):
        if self.modality_ == IMAGE or isinstance(X_checked, pd.DataFrame):
            return X_checked
        return pd.DataFrame(X_checked, columns=self._feature_names())

    def _feature_names(self):
        """Feature names as the encoder knows them (``x0, x1, ...`` for arrays)."""
        return list(self.encoder_.layout_.features)

    # -- fitting -----------------------------------------------------------------

    def fit(self, X, y=None, predict_fn=None):
        """Train the counterfactual generator for a model.

        Parameters
        ----------
        X : pandas.DataFrame, array-like of shape (n_samples, n_features), or images
            Training rows in the format the model takes (images as arrays of
            shape ``(n, height, width)`` or ``(n, channels, height, width)``
            for the estimators that take them). No labels are needed: the
            generator learns from the model's own predictions.
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
            If ``X`` has missing values, infinities or too few rows.
        ValueError
            If a parameter is invalid or the device is not available.
        """
        self._validate_params()
        model = self._resolve_model(y, predict_fn)
        X_checked = self._check_X(X, reset=True)
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
            self.encoder_ = self._make_encoder().fit(X_checked)
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
        self.numeric_std_ = {}
        if self.modality_ == TABULAR:
            frame = self._as_frame(X_checked, X_checked)
            self.numeric_std_ = {
                name: float(np.nan_to_num(frame[name].astype(float).std()))
                for name in self.encoder_.numerical_features_
            }
        self.constraints_ = self._parse_constraints(
            self.immutable, self.bounds, self.monotonic
        )
        with torch_seeded(self.random_seed_):
            self._fit_backend(X_checked, Xt, y_model, y)
        return self

    def _make_encoder(self):
        if self.modality_ == IMAGE:
            return ImageEncoder()
        return TabularEncoder(random_state=draw_seed(self.random_seed_))

    def _parse_constraints(self, immutable, bounds, monotonic):
        if self.modality_ == IMAGE:
            return parse_image_constraints(
                immutable, bounds, monotonic, input_shape=self.encoder_.input_shape_
            )
        return parse_constraints(
            immutable,
            bounds,
            monotonic,
            feature_names=self._feature_names(),
            numerical_features=self.encoder_.numerical_features_,
        )

    def _feature_of_column(self):
        """Original feature index of each encoded column (pixels count one each)."""
        n_columns = self.encoder_.layout_.n_columns
        if self.modality_ == IMAGE:
            return np.arange(n_columns)
        names = self._feature_names()
        feature_of_column = np.empty(n_columns, dtype=np.int64)
        for span in self.encoder_.layout_.spans:
            feature_of_column[span.start : span.stop] = names.index(span.feature)
        return feature_of_column

    def _frozen_columns(self, frozen, n_rows):
        """Expand a per-feature frozen mask to a float32 ``(n_rows, n_encoded)`` one."""
        mask = np.broadcast_to(
            frozen[self.feature_of_column_], (n_rows, len(self.feature_of_column_))
        )
        return np.ascontiguousarray(mask, dtype=np.float32)

    def _candidate_noise(self, n_rows, width, candidate, generator):
        """Return the noise of a candidate: ``None`` for the noise-free one.

        With a ``generator`` (``explain``'s samples) every row gets its own
        draw. Candidate ``j > 0`` uses one vector, drawn from the fitted seed
        plus ``j`` and shared by all rows, so a row's answer does not depend
        on its batch.
        """
        if generator is not None:
            return torch.randn(n_rows, width, generator=generator).numpy()
        if candidate == 0:
            return None
        z = torch.randn(width, generator=torch_generator(self.random_seed_ + candidate))
        return np.ascontiguousarray(np.broadcast_to(z.numpy(), (n_rows, width)))

    def _skorch_parameters(self, n_rows, callbacks):
        """Training settings every backend's skorch net shares."""
        return {
            "optimizer": torch.optim.Adam,
            "batch_size": min(self.batch_size, n_rows),
            "max_epochs": self.max_epochs,
            "train_split": None,
            "iterator_train__shuffle": True,
            "iterator_train__drop_last": True,
            "iterator_train__generator": torch_generator(self.random_seed_),
            "callbacks": callbacks,
            "device": self.device_,
            "verbose": self.verbose,
        }

    # -- conditioning vectors ----------------------------------------------------

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

    # -- generating ----------------------------------------------------------------

    def _counterfactual_frames(
        self, X, target, immutable, bounds, monotonic, n_samples
    ):
        """Shared path of transform and explain.

        Returns the checked input as a frame, the model's outputs on it, the
        resolved target, and ``n_samples`` counterfactual frames (the first one
        deterministic).
        """
        check_is_fitted(self, "encoder_")
        X_checked = self._check_X(X, reset=False)
        Xt = self.encoder_.transform(X_checked)
        y_model = self.predictor_.predict(X_checked)
        resolved = self._resolve(target, y_model)
        constraints = self._parse_constraints(
            self.immutable if immutable is None else immutable,
            self.bounds if bounds is None else bounds,
            self.monotonic if monotonic is None else monotonic,
        )
        X_frame = self._as_frame(X, X_checked)
        condition = self._condition(y_model)
        target_condition = self._target_condition(resolved)
        if self.modality_ == IMAGE:
            frozen = constraints.frozen_mask(Xt.shape[1])

            def decode(Xt_cf):
                X_cf = self.encoder_.inverse_transform(Xt_cf)
                self._revert_negligible_changes(X_frame, X_cf)
                return constraints.apply(X_frame, X_cf)

        else:
            frozen = constraints.frozen_mask(self._feature_names())

            def decode(Xt_cf):
                X_cf = self._as_frame(X, self.encoder_.inverse_transform(Xt_cf))
                X_cf.index = X_frame.index
                self._revert_negligible_changes(X_frame, X_cf)
                return apply_constraints(X_frame, X_cf, constraints)

        args = (Xt, condition, target_condition, frozen)
        if getattr(self, "n_candidates", 1) > 1:
            frames = self._ranked_candidates(X, Xt, args, decode, resolved, n_samples)
            return X_frame, y_model, resolved, frames
        frames = [decode(self._generate(*args))]
        generator = torch_generator(self.random_seed_)
        for _ in range(n_samples - 1):
            frames.append(decode(self._generate(*args, generator=generator)))
        return X_frame, y_model, resolved, frames

    def _revert_negligible_changes(self, X_frame, X_cf):
        """Give numbers that barely moved their original value back, in place.

        A generator's continuous outputs rarely reproduce a number exactly, so
        a feature the network meant to keep can come out a hair off (Capital
        Loss 1902 -> 1898). Changes of at most ``numeric_tolerance`` training
        standard deviations are such noise: reverting them makes the
        counterfactual sparser and its explanation readable.
        """
        if not self.numeric_tolerance:
            return
        if self.modality_ == IMAGE:
            # Images: a level that moved by at most numeric_tolerance of the
            # full range (0-1 or 0-255) keeps its original value.
            moved = np.abs(X_cf.astype(float) - X_frame.astype(float))
            negligible = moved <= self.numeric_tolerance * self.encoder_.scale_
            np.copyto(X_cf, X_frame, where=negligible)
            return
        for name, std in self.numeric_std_.items():
            before = X_frame[name].to_numpy()
            after = X_cf[name].to_numpy()
            moved = np.abs(after.astype(float) - before.astype(float))
            negligible = moved <= self.numeric_tolerance * std
            if negligible.any():
                X_cf[name] = np.where(negligible, before, after).astype(after.dtype)

    def _ranked_candidates(self, X, Xt, args, decode, resolved, k):
        """Return each row's ``k`` best deterministic counterfactuals.

        The generator answers each row with the noise-free candidate and
        ``max(n_candidates, k) - 1`` others, each made with a fixed noise
        vector shared by every row (so a row's answers do not depend on the
        batch). The real model scores them all; per row, valid candidates
        come first, each group in order of :meth:`_candidate_costs` (by
        default the L1 distance on the encoding). Frame 0 holds every row's
        best among the first ``n_candidates`` (:meth:`transform`'s answer),
        frame ``j`` the ``j``-th best of the others.
        """
        n = len(Xt)
        frames, costs, valid = [], [], []
        for candidate in range(max(self.n_candidates, k)):
            Xt_cf = self._generate(*args, candidate=candidate)
            frame = decode(Xt_cf)
            y_cf = self.predictor_.predict(self._output(X, frame))
            frames.append(frame)
            valid.append(resolved.is_met(y_cf))
            costs.append(self._candidate_costs(Xt, Xt_cf, *args[1:3]))
        costs, valid = np.stack(costs).T, np.stack(valid).T
        # Per row (axis 1): invalid after valid, then by cost; stable, so
        # ties keep the candidate order (the noise-free one first). The best
        # is taken among the first n_candidates, as transform does.
        first = self.n_candidates
        best = np.lexsort((costs[:, :first], ~valid[:, :first]), axis=1)[:, 0]
        order = np.lexsort((costs, ~valid), axis=1)
        others = order[order != best[:, None]].reshape(n, -1)
        chosen = np.column_stack([best, others])
        stacked = _stack_rows(frames)
        return [
            _take_rows(stacked, chosen[:, j] * n + np.arange(n)) for j in range(k)
        ]

    def _candidate_costs(self, Xt, Xt_cf, condition, target_condition):
        """Rank candidate counterfactuals: lower is better, one cost per row.

        The default is the L1 distance on the encoding; a backend may rank
        by its own criterion (paper 2's metric for the CVAE).
        """
        return np.abs(Xt_cf - Xt).sum(axis=1).astype(np.float64)

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
        _, _, _, frames = self._counterfactual_frames(
            X, target, immutable, bounds, monotonic, n_samples=1
        )
        return self._output(X, frames[0])

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
            generator's noise, reproducibly from the fitted ``random_state``.
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
        X_frame, y_model, resolved, frames = self._counterfactual_frames(
            X, target, immutable, bounds, monotonic, n_samples=n_counterfactuals
        )
        n, k = len(X_frame), n_counterfactuals
        # Interleave: all counterfactuals of row 0, then of row 1, ...
        order = np.arange(n * k).reshape(k, n).T.reshape(-1)
        stacked = _take_rows(
            _stack_rows([_reset_index(frame) for frame in frames]), order
        )
        y_cf = self.predictor_.predict(self._output(X, _reset_index(stacked)))
        valid = resolved.take(np.repeat(np.arange(n), k)).is_met(y_cf).reshape(n, k)
        originals = _take_rows(X_frame, np.repeat(np.arange(n), k))
        flat_changes = describe_changes(originals, stacked)
        if isinstance(stacked, pd.DataFrame):
            stacked.index = pd.MultiIndex.from_arrays(
                [np.repeat(X_frame.index.to_numpy(), k), np.tile(np.arange(k), n)],
                names=[X_frame.index.name or "row", "counterfactual"],
            )
        if resolved.task == CLASSIFICATION:
            target_labels = np.asarray(self.classes_)[resolved.labels]
        else:
            target_labels = np.column_stack([resolved.low, resolved.high])
        return Explanation(
            original=X_frame,
            counterfactuals=stacked,
            y_original=y_model,
            y_counterfactual=y_cf,
            target=target_labels,
            valid=valid,
            changes=[flat_changes[i * k : (i + 1) * k] for i in range(n)],
            classes=self.classes_,
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
        X_frame, y_model, resolved, frames = self._counterfactual_frames(
            X, target, None, None, None, n_samples=1
        )
        y_cf = self.predictor_.predict(self._output(X, frames[0]))
        valid = resolved.is_met(y_cf)
        unchanged = 1.0 - changed_features(X_frame, frames[0]).mean(axis=1)
        return float(np.mean(valid * unchanged))

    # -- for subclasses --------------------------------------------------------------

    def _fit_backend(self, X, Xt, y_model, y=None):  # pragma: no cover - abstract
        """Train the networks; ``X`` in the user's format, ``Xt`` encoded.

        ``y`` is what the user passed to ``fit`` as ``y`` (labels or None).
        """
        raise NotImplementedError

    def _generate(
        self, Xt, condition, target_condition, frozen, candidate=0, generator=None
    ):
        """Return encoded counterfactuals (float32, same shape as ``Xt``).

        ``candidate`` 0 is the noise-free answer; candidate ``j > 0`` uses a
        fixed noise vector, the same for every row. With a ``generator`` the
        noise is drawn per row instead (``explain``'s extra samples).
        """
        raise NotImplementedError  # pragma: no cover - abstract
