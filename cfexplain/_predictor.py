"""The model under explanation: wrap it, call it safely, check what it returns.

Users hand us their model in many forms: a fitted scikit-learn estimator or
Pipeline, one of its bound methods (``clf.predict_proba``), any callable, a
fitted skorch net or a plain :class:`torch.nn.Module`. :func:`as_predictor`
turns each into a :class:`Predictor`, whose :meth:`Predictor.predict` always

* calls the model on data in the user's own format (the DataFrame or array
  given to ``fit``), never on cfexplain's internal encoding;
* calls it in batches, so the model's output for a million rows is built up
  batch by batch instead of every intermediate existing twice;
* returns probabilities of shape ``(n, n_classes)`` for classifiers and values
  of shape ``(n,)`` for regressors, or raises :class:`PredictorError` saying
  what was returned and what was expected.

The differentiable surrogate that stands in for black boxes during training
lives in :mod:`cfexplain._surrogate`.
"""

from __future__ import annotations

import itertools
import pickle
import types
import warnings

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, is_regressor
from sklearn.pipeline import Pipeline

from ._stacklevel import user_stacklevel
from .exceptions import PredictorError, TaskGuessWarning

__all__ = ["Predictor", "as_predictor"]

CLASSIFICATION = "classification"
REGRESSION = "regression"
_TASKS = ("auto", CLASSIFICATION, REGRESSION)

#: Input values per call of a torch module on the CPU. A convolutional net's
#: activations are tens of times its input; once a batch's activations
#: overflow the CPU's caches every layer runs from memory: the MNIST CNN of
#: ``benchmarks/mnist.py`` takes about 0.24 s for 1,000 images in one call
#: and 0.12 s in calls of 167 (this rule's batch for 784-pixel images).
#: Rows the first call of a model reads its task and output width from.
CHECK_ROWS = 8
#: An MLP on 108 columns or a BiLSTM on 140-step series runs as fast in
#: calls of 1,000 rows as in one of 8,192.
CPU_VALUES_PER_CALL = 2**17
#: Rows per call of a torch module on the CPU, at least (per-call overhead).
CPU_MIN_ROWS_PER_CALL = 64

#: Row sums of probabilities may be off by float32 rounding; anything beyond
#: this is a model that does not return probabilities.
_PROBA_ATOL = 1e-3


def _describe(obj) -> str:
    name = getattr(obj, "__qualname__", None) or type(obj).__name__
    return f"{name}"


def _is_unpicklable_function(fn) -> bool:
    """Whether ``fn`` is a lambda or a function defined inside another one."""
    if isinstance(fn, types.MethodType):
        return False
    if not isinstance(fn, types.FunctionType):
        return False
    return fn.__name__ == "<lambda>" or "<locals>" in fn.__qualname__


class Predictor:
    """A checked, batched view of the model under explanation.

    Build it with :func:`as_predictor`; the explainers do so in ``fit``.

    Parameters
    ----------
    model : object
        What the user passed: a fitted estimator, a callable or a torch module.
    predict_fn : callable
        The function actually called on a batch of user-format rows.
    kind : {"estimator", "callable", "torch"}
        Where ``predict_fn`` came from; torch modules are called on tensors
        of their own floating dtype (:func:`module_dtype`) and their outputs
        post-processed (see :func:`as_predictor`).
    task : {"auto", "classification", "regression"}
        The prediction task; ``"auto"`` is decided on the first call.
    classes : array-like or None
        Class labels of a classifier in the order of its probability columns.
    batch_size : int
        Rows per call of the model, at most: a torch module on the CPU is
        called on batches of about 131,072 input values.

    Attributes
    ----------
    task_ : str
        ``"classification"`` or ``"regression"``, set by :meth:`check`.
    classes_ : numpy.ndarray
        Class labels (classification only), set by :meth:`check`.
    n_outputs_ : int
        Number of probability columns, 1 for regression.
    """

    def __init__(self, model, predict_fn, *, kind, task, classes, batch_size):
        self.model = model
        self.predict_fn = predict_fn
        self.kind = kind
        self.task = task
        self.classes = classes
        self.batch_size = batch_size

    # -- calling the model -------------------------------------------------

    def _call_torch_raw(self, X):
        """Return a torch module's outputs on ``X`` as they are, in float64."""
        module = self.model
        # A float64 (or half-precision) module is called in its own dtype.
        dtype = module_dtype(module)
        array = np.asarray(
            X, dtype=np.float64 if dtype == torch.float64 else np.float32
        )
        device = self._device()
        # In evaluation mode, whatever the user left it in: dropout would make
        # the answers random, and BatchNorm in training mode would update its
        # running statistics, changing the user's model, even without
        # gradients. Every submodule's mode is given back afterwards (a user
        # fine-tuning with a frozen BatchNorm has mixed modes).
        modes = [(submodule, submodule.training) for submodule in module.modules()]
        if not array.flags.writeable:
            # torch warns on (and cannot share) a read-only array.
            array = array.copy()
        module.eval()
        try:
            with torch.no_grad():
                out = module(torch.as_tensor(array, device=device).to(dtype))
        finally:
            for submodule, training in modes:
                submodule.training = training
        return out.detach().cpu().double().numpy()

    def _call_torch(self, X):
        """Return a torch module's outputs, read as the task says.

        Several outputs per row that are not probabilities are soft-maxed
        (logits); with ``task="classification"`` one output per row is a
        binary classifier's logit.
        """
        out = self._call_torch_raw(X)
        if self.task != REGRESSION and out.ndim == 2 and out.shape[1] >= 2:
            looks_like_proba = (
                np.all(out >= 0)
                and np.all(out <= 1)
                and np.allclose(out.sum(axis=1), 1.0, atol=_PROBA_ATOL)
            )
            if not looks_like_proba:
                # A classification module conventionally returns logits.
                out = torch.softmax(torch.from_numpy(out), dim=1).numpy()
        elif self.task == CLASSIFICATION and out.ndim in (1, 2) and out.size == len(X):
            # One logit per row: a binary classifier in the BCEWithLogits style.
            p = 1.0 / (1.0 + np.exp(-out.reshape(-1)))
            out = np.column_stack([1.0 - p, p])
        return out

    def _call(self, X):
        try:
            if self.kind == "torch":
                out = self._call_torch(X)
            else:
                if isinstance(X, np.ndarray) and not X.flags.writeable:
                    # Decoded rows can be read-only views (pandas'
                    # copy-on-write); a skorch net would warn that torch
                    # cannot share them, and the user's model may write.
                    X = X.copy()
                out = self.predict_fn(X)
        except PredictorError:
            raise
        except Exception as exc:
            shape = getattr(X, "shape", None)
            hint = ""
            said = str(exc).lower()
            if (
                shape is not None
                and len(shape) >= 3
                and self.kind != "torch"
                and ("dim" in said or "shape" in said)
            ):
                # Series and images reach the model as they are.
                hint = (
                    "; a scikit-learn model fitted on flattened series or "
                    "images takes them flattened: give the explainer "
                    "make_pipeline(FunctionTransformer("
                    "cfexplain.preprocessing.flatten_samples), model)"
                )
            elif (
                isinstance(X, np.ndarray)
                and X.ndim == 2
                and any(word in said for word in ("dim", "shape", "channel"))
            ):
                # modality="auto" reads a 2-D array as a table; a network
                # for series or images then fails on its shape.
                hint = (
                    "; a 2-D array is explained as a table: if its rows are "
                    "series or images, give modality='series' or "
                    "modality='image' (series of one channel as X[:, None, :])"
                )
            raise PredictorError(
                f"calling the model under explanation ({_describe(self.predict_fn)}) "
                f"on a batch of shape {shape} failed with "
                f"{type(exc).__name__}: {exc}{hint}"
            ) from exc
        if isinstance(out, torch.Tensor):
            out = out.detach().cpu().numpy()
        elif isinstance(out, (pd.DataFrame, pd.Series)):
            out = out.to_numpy()
        try:
            return np.asarray(out, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            some = ", ".join(repr(v) for v in np.asarray(out, dtype=object).ravel()[:3])
            raise PredictorError(
                f"the model under explanation returned {type(out).__name__} "
                f"values that are not numbers ({some}, ...); expected "
                "probabilities of shape (n, n_classes) or regression values of "
                "shape (n,). Class labels come from a classifier's predict: "
                "give the fitted classifier itself or its predict_proba, with "
                "task='auto' or 'classification'"
            ) from exc

    def _validate_output(self, out, n_rows):
        """Check one batch of output and bring it to the canonical shape."""
        name = _describe(self.predict_fn)
        if out.ndim == 0 or out.shape[0] != n_rows:
            raise PredictorError(
                f"{name} returned shape {out.shape} for {n_rows} rows; expected "
                f"one output per row: ({n_rows}, n_classes) probabilities or "
                f"({n_rows},) regression values"
            )
        if not np.all(np.isfinite(out)):
            bad = np.argwhere(~np.isfinite(out))[0]
            raise PredictorError(
                f"{name} returned a non-finite value ({out[tuple(bad)]}) at row "
                f"{bad[0]}; the model must return finite numbers"
            )
        task = self.task_
        if task == REGRESSION:
            if out.ndim == 2 and out.shape[1] == 1:
                out = out[:, 0]
            if out.ndim != 1:
                raise PredictorError(
                    f"{name} returned shape {out.shape}; a regression model must "
                    f"return shape ({n_rows},) or ({n_rows}, 1). Multi-output "
                    "regression is not supported"
                )
            return out
        if out.ndim != 2 or out.shape[1] < 2:
            labels = ""
            if out.ndim == 1 and np.all(out == np.round(out)):
                # Whole numbers: a classifier's labels, which a function
                # cannot say how to rank; the classifier's classes_ can.
                labels = (
                    "; whole numbers read as class labels: give the fitted "
                    "classifier itself or its bound predict "
                    "(cf.fit(X, predict_fn=clf.predict)), whose classes_ "
                    "name them"
                )
            raise PredictorError(
                f"{name} returned shape {out.shape}, expected ({n_rows}, "
                "n_classes) probabilities for a classifier; for a binary "
                f"classifier return both columns [1 - p, p]{labels}"
            )
        if out.shape[1] != self.n_outputs_:
            raise PredictorError(
                f"{name} returned {out.shape[1]} probability columns, but "
                f"{self.n_outputs_} classes were seen when the explainer was fit"
            )
        if np.any(out < -_PROBA_ATOL) or np.any(out > 1 + _PROBA_ATOL):
            raise PredictorError(
                f"{name} returned values outside [0, 1] (min {out.min():.4g}, max "
                f"{out.max():.4g}); a classifier must return probabilities. Apply "
                "a softmax to scores, or give a classifier's decision_function "
                "as the bound method (clf.decision_function), which is read "
                "so"
            )
        sums = out.sum(axis=1)
        off = np.abs(sums - 1.0) > _PROBA_ATOL
        if np.any(off):
            row = int(np.argmax(off))
            raise PredictorError(
                f"{name} returned rows that do not sum to 1 (row {row} sums to "
                f"{sums[row]:.4g}); a classifier must return probabilities of "
                "shape (n, n_classes)"
            )
        return np.clip(out, 0.0, 1.0)

    def _rows_per_call(self, X):
        """Rows per call of the model: ``batch_size``, smaller for a CPU torch module.

        A torch module on the CPU gets about :data:`CPU_VALUES_PER_CALL`
        input values per call (at least :data:`CPU_MIN_ROWS_PER_CALL` rows),
        which keeps a convolutional net's activations in cache; on a GPU
        large batches are what is fast, so ``batch_size`` stands.
        """
        if self.kind != "torch" or self._device().type != "cpu":
            return self.batch_size
        shape = getattr(X, "shape", None)
        if shape is None:
            try:  # a list of rows: the first row's shape
                shape = (len(X), *np.shape(X[0]))
            except (TypeError, ValueError, IndexError, KeyError):
                return self.batch_size
        values_per_row = int(np.prod(shape[1:], dtype=np.int64)) or 1
        rows = max(CPU_MIN_ROWS_PER_CALL, CPU_VALUES_PER_CALL // values_per_row)
        return min(self.batch_size, rows)

    def _device(self):
        """Return the device of the torch module's first parameter (CPU without any)."""
        try:
            return next(self.model.parameters()).device
        except StopIteration:
            return torch.device("cpu")

    def _batches(self, X):
        n = len(X)
        rows = self._rows_per_call(X)
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            if isinstance(X, pd.DataFrame):
                yield X.iloc[start:stop]
            else:
                yield X[start:stop]

    def check(self, X):
        """Call the model on a few rows to learn its task and output width.

        Parameters
        ----------
        X : DataFrame or array-like
            Rows in the user's format; only a few are used, spread over
            ``X`` (:data:`CHECK_ROWS`).

        Returns
        -------
        self : Predictor
            With ``task_``, ``n_outputs_`` and ``classes_`` set.

        Raises
        ------
        PredictorError
            If the model fails or its output does not fit the declared task.
        """
        sample = _spread_rows(X, CHECK_ROWS)
        out = self._call(sample)
        n_rows = len(sample)
        if self.task == "auto":
            is_proba_shaped = out.ndim == 2 and out.shape[1] >= 2
            self.task_ = CLASSIFICATION if is_proba_shaped else REGRESSION
            # A scikit-learn regressor (or its bound predict) says what it is.
            declared = _is_regressor(getattr(self.model, "__self__", self.model))
            if not (is_proba_shaped or declared):
                self._warn_if_classifier_like(out)
        else:
            self.task_ = self.task
            self._warn_if_sigmoid_read_as_logit(sample, out)
        if self.task_ == CLASSIFICATION:
            self.n_outputs_ = out.shape[1] if out.ndim == 2 else 0
        else:
            self.n_outputs_ = 1
        self._validate_output(out, n_rows)
        if self.task_ == CLASSIFICATION:
            classes = (
                np.arange(self.n_outputs_)
                if self.classes is None
                else np.asarray(self.classes)
            )
            if len(classes) != self.n_outputs_:
                raise PredictorError(
                    f"the model has {len(classes)} classes {list(classes)} but "
                    f"returned {self.n_outputs_} probability columns"
                )
            self.classes_ = classes
        return self

    def _warn_if_sigmoid_read_as_logit(self, sample, out):
        """Warn when a torch classifier's single output looks like a sigmoid's.

        With ``task="classification"`` one output per row is a logit; a
        module ending in a sigmoid gives outputs within [0, 1], which as
        logits put every row in class 1 with probability 0.5 to 0.73.
        """
        if self.kind != "torch" or self.task != CLASSIFICATION or out.ndim != 2:
            return
        width = np.asarray(self._call_torch_raw(sample)).reshape(len(sample), -1)
        if width.shape[1] != 1 or not _look_like_probabilities(width):
            return
        warnings.warn(
            f"{_describe(self.predict_fn)} returns one value per row, all "
            f"within [0, 1] ({_some_values(width)}), as a sigmoid's are; with "
            "task='classification' a single output is read as a logit, which "
            "puts every row in class 1. Drop the final sigmoid, or return both "
            "probabilities, shape (n, 2)",
            TaskGuessWarning,
            stacklevel=user_stacklevel(),
        )

    def _warn_if_classifier_like(self, out):
        """Warn when one value per row, read as regression, may be a classifier's."""
        if _look_like_labels(out):
            advice = (
                f"one whole number per row ({_some_values(out)}), taken as a "
                "regression model's values. If they are class labels, pass the "
                "fitted classifier itself or a function returning probabilities "
                "of shape (n, n_classes)"
            )
        elif _look_like_probabilities(out):
            # predict_proba(X)[:, 1] or a sigmoid output: a binary
            # classifier's probability of one class, or a regression model
            # of a rate; only the user knows which.
            advice = (
                f"one value per row, all within [0, 1] ({_some_values(out)}), "
                "taken as a regression model's values. If they are a binary "
                "classifier's probability of one class, give the model as a "
                "function returning both columns, shape (n, 2), e.g. "
                "np.column_stack([1 - p, p]), or the fitted classifier itself "
                "(wrap a torch module that ends in a sigmoid so: "
                "task='classification' would read its single output as a logit)"
            )
        else:
            return
        warnings.warn(
            f"{_describe(self.predict_fn)} returned {advice}; pass "
            "task='regression' to say it is a regression model",
            TaskGuessWarning,
            stacklevel=user_stacklevel(),
        )

    def predict(self, X) -> np.ndarray:
        """Return the model's outputs for ``X``, checked, in batches.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, ...)
            Rows in the user's format.

        Returns
        -------
        numpy.ndarray
            Probabilities of shape ``(n_samples, n_classes)`` (classification)
            or values of shape ``(n_samples,)`` (regression), float64.

        Raises
        ------
        PredictorError
            If the model fails or returns output of the wrong shape, non-finite
            values, or probabilities that do not sum to one.
        """
        if not hasattr(self, "task_"):
            self.check(X)
        parts = [
            self._validate_output(self._call(batch), len(batch))
            for batch in self._batches(X)
        ]
        if not parts:
            width = (0, self.n_outputs_) if self.task_ == CLASSIFICATION else (0,)
            return np.empty(width)
        return np.concatenate(parts, axis=0)

    def predict_labels(self, X) -> np.ndarray:
        """Return the index of the most likely class for each row of ``X``.

        Parameters
        ----------
        X : DataFrame or array-like
            Rows in the user's format.

        Returns
        -------
        numpy.ndarray of int
            Column index into :attr:`classes_` of the predicted class.
        """
        return self.predict(X).argmax(axis=1)

    @property
    def judging_method(self):
        """The classifier's bound method the probabilities come from, or ``None``.

        Its ``predict_proba`` (a classifier given as the model stands for
        it) or its ``decision_function`` (read as logits), where the
        classifier also has a ``predict`` of its own to compare with.
        """
        function = self.predict_fn
        if isinstance(function, _DecisionScores):
            function = function.decision_function
        name = getattr(function, "__name__", None)
        owner = getattr(function, "__self__", None)
        if name not in ("predict_proba", "decision_function") or not callable(
            getattr(owner, "predict", None)
        ):
            return None
        return function

    @property
    def judged_by(self):
        """The name of :attr:`judging_method` (``None`` without one)."""
        method = self.judging_method
        return None if method is None else method.__name__

    def own_labels(self, X):
        """Return the classifier's own ``predict`` on ``X``, where it has one apart.

        Validity is judged by the probabilities :meth:`predict` returns; when
        they come from a classifier's ``predict_proba`` (the classifier was
        given, or its bound method) or ``decision_function``, that
        classifier's ``predict`` may still choose another class
        (``SVC(probability=True)`` does near its decision boundary, and a
        multi-class ``SVC``'s ``predict`` breaks ties of its one-vs-one
        votes by class order, not by its ``decision_function``). The
        self-check, ``transform`` and ``explain`` compare the two.

        Parameters
        ----------
        X : DataFrame or array-like
            Rows in the user's format.

        Returns
        -------
        numpy.ndarray of shape (n,) or None
            The labels ``predict`` returns, batch by batch; ``None`` for a
            regression model, when the probabilities do not come from a
            ``predict_proba`` or ``decision_function`` (:attr:`judged_by`)
            whose owner has ``predict``, or when that ``predict`` raises.
        """
        method = self.judging_method
        if self.task_ != CLASSIFICATION or method is None:
            return None
        owner = method.__self__
        try:
            parts = [np.asarray(owner.predict(batch)) for batch in self._batches(X)]
        except Exception:
            # A check of the model's coherence must not break fit: a predict
            # that fails where predict_proba works is left unchecked.
            return None
        return np.concatenate(parts) if parts else np.empty(0)

    # -- pickling ------------------------------------------------------------

    def __getstate__(self):
        if _is_unpicklable_function(self.predict_fn):
            raise PredictorError(
                f"the model under explanation is {self.predict_fn.__qualname__!r}, "
                "a lambda or a function defined inside another function, which "
                "cannot be pickled. Pass a fitted estimator, one of its methods "
                "(e.g. clf.predict_proba) or a function defined at module level "
                "(pickle stores a function by name: to load the explainer in "
                "another process, define it in a module that process imports, "
                "not in the script run as __main__)"
            )
        state = self.__dict__.copy()
        model = (state.pop("model"), state.pop("predict_fn"))
        state["model_and_predict_fn"] = _PickledModel(model)
        return state

    def __setstate__(self, state):
        state = dict(state)
        if "model_and_predict_fn" in state:
            state["model"], state["predict_fn"] = state.pop("model_and_predict_fn")
        self.__dict__.update(state)


class _PickledModel:
    """The user's model, pickled on its own so that a failure names it.

    A lambda deep inside the model (in a scikit-learn ``FunctionTransformer``,
    say) would otherwise fail the pickling of the whole explainer with
    pickle's own error. Unpickling gives back the model itself.
    """

    def __init__(self, model):
        self.model = model

    def __reduce__(self):
        try:
            payload = pickle.dumps(self.model, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, AttributeError, TypeError) as error:
            raise PredictorError(
                f"the model under explanation cannot be pickled ({error}), so "
                "neither can the explainer. A lambda or a function defined "
                "inside another function, for instance in a "
                "FunctionTransformer of a pipeline, is the usual cause: define "
                "it at module level (or use a named scikit-learn transformer)"
            ) from error
        return (pickle.loads, (payload,))


def module_dtype(module):
    """Return the floating dtype a torch module computes in.

    Parameters
    ----------
    module : torch.nn.Module

    Returns
    -------
    torch.dtype
        The dtype of its first floating-point parameter (or buffer), e.g.
        ``torch.float64`` for a module turned ``.double()``; ``float32``
        for a module without any.
    """
    for tensor in itertools.chain(module.parameters(), module.buffers()):
        if tensor.is_floating_point():
            return tensor.dtype
    return torch.float32


def _look_like_labels(out):
    """Whether 1-D outputs are whole numbers, as class labels would be."""
    values = out.reshape(-1)
    return out.size > 0 and bool(np.all(values == np.round(values)))


def _is_regressor(obj):
    """Whether ``obj`` is a scikit-learn regressor (not any callable or module)."""
    if not isinstance(obj, BaseEstimator):
        return False
    try:
        return bool(is_regressor(obj))
    except (AttributeError, TypeError):
        return False


def _look_like_probabilities(out):
    """Whether one output per row lies in [0, 1], as one class's probability."""
    values = out.reshape(-1)
    return out.size > 0 and bool(np.all((values >= 0) & (values <= 1)))


def _some_values(out):
    shown = np.unique(out.reshape(-1))[:4]
    return ", ".join(f"{v:g}" for v in shown) + (", ..." if out.size > 4 else "")


def _estimator_classes(obj):
    classes = getattr(obj, "classes_", None)
    return None if classes is None else np.asarray(classes)


def as_predictor(model, *, task="auto", batch_size=8192) -> Predictor:
    """Wrap the model under explanation in a :class:`Predictor`.

    Parameters
    ----------
    model : object
        One of

        * a fitted scikit-learn style estimator (including a Pipeline or a
          fitted skorch net): its ``predict_proba`` is used when it has one,
          else a classifier's ``decision_function`` (read as logits, as its
          bound method below) where its ``predict`` is that function's
          argmax (not a multi-class ``SVC`` without ``break_ties=True``),
          else ``predict``. A classifier with
          ``predict`` only (a hard-voting ensemble) is turned into one-hot
          probabilities over its ``classes_``;
        * a bound method of such an estimator (``clf.predict_proba``), whose
          owner's ``classes_`` name the classes; a classifier's
          ``decision_function`` is read as logits (the sigmoid of a binary
          classifier's score, the softmax of a multi-class one's), so that
          the most likely class is the one it predicts;
        * any callable ``X -> probabilities`` (classification, shape
          ``(n, n_classes)``) or ``X -> values`` (regression, shape ``(n,)``);
        * a :class:`torch.nn.Module`, called on a tensor of the rows on the
          module's device, in its own floating dtype (float32, or float64
          for a module turned ``.double()``). Outputs of shape ``(n, k>=2)``
          that are not probabilities are taken as logits and soft-maxed; with
          ``task="classification"`` a single output column is a binary logit.
    task : {"auto", "classification", "regression"}, default="auto"
        ``"auto"`` infers the task: an output of shape ``(n, k>=2)`` is a
        classifier's probabilities, anything else a regressor's values.
    batch_size : int, default=8192
        Rows per call of the model, at most (a torch module on the CPU gets
        about 131,072 input values per call, which keeps a convolutional
        net's activations in cache).

    Returns
    -------
    Predictor
        Not yet checked: call :meth:`Predictor.check` on a few rows.

    Raises
    ------
    PredictorError
        If ``model`` is ``None``, not callable and without ``predict``, or an
        estimator that is not fitted.
    ValueError
        If ``task`` or ``batch_size`` is invalid.
    """
    if task not in _TASKS:
        raise ValueError(f"task must be one of {_TASKS}, got {task!r}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if isinstance(model, Predictor):
        return model
    if model is None:
        raise PredictorError(
            "no model to explain: pass predict_fn to fit (cf.fit(X, predict_fn=...)) "
            "or set the predictor parameter"
        )
    if isinstance(model, torch.nn.Module):
        return Predictor(
            model, model, kind="torch", task=task, classes=None, batch_size=batch_size
        )
    if hasattr(model, "predict_proba") or hasattr(model, "predict"):
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        try:
            check_is_fitted(model)
        except NotFittedError as exc:
            raise PredictorError(
                f"the model under explanation ({type(model).__name__}) is not "
                "fitted; fit it before explaining it"
            ) from exc
        except TypeError:
            # Not a scikit-learn estimator (e.g. some other library's model
            # object with a predict method); nothing to check.
            pass
        classes = _estimator_classes(model)
        if task != REGRESSION and hasattr(model, "predict_proba"):
            return Predictor(
                model,
                model.predict_proba,
                kind="estimator",
                task=task,
                classes=classes,
                batch_size=batch_size,
            )
        if (
            task != REGRESSION
            and classes is not None
            and callable(getattr(model, "decision_function", None))
            and _predicts_top_score(model, classes)
        ):
            # Graded scores rank every class, where predict's labels do not:
            # a one-vs-rest LinearSVC's labels left "opposite" ambiguous on
            # every row of a 3-class table, its scores reached every target.
            return _classifier_predictor(
                model, _DecisionScores(model.decision_function, classes),
                classes, batch_size,
            )  # fmt: skip
        if task != REGRESSION and classes is not None:
            return _one_hot_predictor(model, classes, batch_size)
        return Predictor(
            model,
            model.predict,
            kind="estimator",
            task=task,
            classes=None,
            batch_size=batch_size,
        )
    if callable(model):
        owner = getattr(model, "__self__", None)
        classes = _estimator_classes(owner) if owner is not None else None
        if (
            task != REGRESSION
            and classes is not None
            and getattr(model, "__name__", None) == "predict"
        ):
            # A classifier's predict (pipe.predict) returns labels: read them
            # as one-hot probabilities over its classes_, as for a
            # classifier without predict_proba.
            return _one_hot_predictor(owner, classes, batch_size)
        if (
            task != REGRESSION
            and classes is not None
            and getattr(model, "__name__", None) == "decision_function"
        ):
            # A classifier's decision scores (an SVC or RidgeClassifier has
            # no predict_proba): one per row for two classes, else one per
            # class. Read as logits, so the most likely class is the one
            # the classifier predicts.
            return _classifier_predictor(
                owner, _DecisionScores(model, classes), classes, batch_size
            )
        return Predictor(
            model,
            model,
            kind="callable",
            task=task,
            classes=classes,
            batch_size=batch_size,
        )
    raise PredictorError(
        f"cannot explain a {type(model).__name__}: pass a fitted estimator, a "
        "callable returning probabilities or values, or a torch.nn.Module"
    )


def _predicts_top_score(estimator, classes):
    """Whether the classifier's ``predict`` is the argmax of its decision scores.

    So for every classifier but scikit-learn's multi-class SVMs (``SVC``,
    ``NuSVC``, alone or ending a Pipeline), whose ``predict`` counts
    one-vs-one votes and breaks their ties by class order unless
    ``break_ties=True`` with one-vs-rest scores (``decision_function_shape=
    "ovo"`` gives a score per pair of classes, not per class). Their
    ``predict`` then stays the model: read through its scores, 1.5 % of a
    3-class ``SVC()``'s counterfactuals were rejected by its ``predict``.
    """
    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    if len(classes) <= 2 or not hasattr(final, "break_ties"):
        return True
    shape = getattr(final, "decision_function_shape", "ovr")
    return bool(final.break_ties) and shape == "ovr"


def _spread_rows(X, n):
    """Return ``n`` rows of ``X`` spread evenly from its first to its last.

    Tables often come sorted by class (scikit-learn's iris and wine do): a
    model's outputs on the first rows alone can all be 0 and read as class
    labels, where the rows across the table show probabilities.
    """
    positions = np.unique(np.linspace(0, len(X) - 1, num=min(n, len(X))).round())
    positions = positions.astype(np.int64)
    if isinstance(X, pd.DataFrame):
        return X.iloc[positions]
    if isinstance(X, np.ndarray):
        return X[positions]
    return X[:n]


def _classifier_predictor(estimator, read_probabilities, classes, batch_size):
    """Return a classifier's predictor whose outputs another reader makes probabilities.

    ``read_probabilities`` is :class:`_OneHotPredict` (labels) or
    :class:`_DecisionScores` (decision scores).
    """
    return Predictor(
        estimator,
        read_probabilities,
        kind="estimator",
        task=CLASSIFICATION,
        classes=classes,
        batch_size=batch_size,
    )


def _one_hot_predictor(estimator, classes, batch_size):
    """Return a predictor reading a classifier's labels as one-hot probabilities."""
    return _classifier_predictor(
        estimator, _OneHotPredict(estimator, classes), classes, batch_size
    )


class _OneHotPredict:
    """``predict`` of a classifier without probabilities, as one-hot rows."""

    def __init__(self, estimator, classes):
        self.estimator = estimator
        self.classes = classes
        self.__qualname__ = f"{type(estimator).__name__}.predict"

    def __call__(self, X):
        labels = np.asarray(self.estimator.predict(X))
        index = {label: i for i, label in enumerate(self.classes.tolist())}
        try:
            columns = np.array([index[label] for label in labels.tolist()])
        except KeyError as exc:
            raise PredictorError(
                f"predict returned label {exc.args[0]!r}, which is not in the "
                f"estimator's classes_ {self.classes.tolist()}"
            ) from exc
        out = np.zeros((len(labels), len(self.classes)))
        out[np.arange(len(labels)), columns] = 1.0
        return out


class _DecisionScores:
    """A classifier's ``decision_function`` read as logits: probabilities.

    scikit-learn's convention: a binary classifier returns one score per
    row, positive for ``classes_[1]``; a multi-class one a score per class.
    The sigmoid (or softmax) of margins is not a calibrated probability,
    but its most likely class is, for most classifiers, the classifier's
    prediction, which is what validity counts; a soft target's
    probabilities are read on this scale. A multi-class ``SVC`` is the
    exception: its ``predict`` breaks ties of one-vs-one votes by class
    order unless ``break_ties=True``, which ``transform`` and ``explain``
    check (:meth:`Predictor.own_labels`).
    """

    def __init__(self, decision_function, classes):
        self.decision_function = decision_function
        self.classes = classes
        self.__qualname__ = getattr(
            decision_function, "__qualname__", "decision_function"
        )

    def __call__(self, X):
        scores = np.asarray(self.decision_function(X), dtype=np.float64)
        if len(self.classes) == 2 and (
            scores.ndim == 1 or (scores.ndim == 2 and scores.shape[1] == 1)
        ):
            scores = scores.reshape(-1, 1)
            scores = np.column_stack([-scores[:, 0] / 2, scores[:, 0] / 2])
        if scores.ndim != 2 or scores.shape[1] != len(self.classes):
            raise PredictorError(
                f"{self.__qualname__} returned shape {scores.shape}; expected a "
                f"score per class ({len(self.classes)}) or, for two classes, one "
                "per row"
            )
        scores = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)


def split_encoded_torch_model(model):
    """Find a torch network that reads cfexplain's own encoding, if any.

    A model given as ``Pipeline([("encoder", TabularEncoder(...)),
    ("net", <fitted skorch net>)])`` is differentiable on the very encoding
    the generators work on, so no surrogate is needed: the generator can
    back-propagate through the user's network itself.

    Parameters
    ----------
    model : object
        The model under explanation, possibly a bound method of it.

    Returns
    -------
    tuple or None
        ``(encoder, module, outputs)`` where ``encoder`` is the fitted
        :class:`~cfexplain.preprocessing.TabularEncoder`, ``module`` the
        trained :class:`torch.nn.Module` and ``outputs`` one of
        ``"logits"`` (skorch classifier trained with a cross-entropy
        criterion), ``"probabilities"`` (skorch's default classifier) or
        ``"values"`` (a regressor); ``None`` for any other model.
    """
    from sklearn.pipeline import Pipeline
    from skorch import NeuralNet, NeuralNetClassifier

    from .preprocessing import TabularEncoder

    model = getattr(model, "__self__", model)
    if not isinstance(model, Pipeline) or len(model.steps) != 2:
        return None
    encoder, net = model.steps[0][1], model.steps[1][1]
    if not (isinstance(encoder, TabularEncoder) and hasattr(encoder, "layout_")):
        return None
    if not (isinstance(net, NeuralNet) and getattr(net, "initialized_", False)):
        return None
    if isinstance(net, NeuralNetClassifier):
        criterion = getattr(net, "criterion_", None)
        outputs = (
            "logits"
            if isinstance(criterion, torch.nn.CrossEntropyLoss)
            else "probabilities"
        )
    else:
        outputs = "values"
    return encoder, net.module_, outputs
