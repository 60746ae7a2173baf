"""What Dask and Spark run on each partition: a pandas frame in, a frame out.

Both engines hand a worker one pandas frame at a time (a Dask partition, a
Spark Arrow batch). :class:`PartitionTransformer` replaces that frame's
feature columns with their counterfactuals, leaves every other column (ids,
the target column) as it is, and appends the model's verdict on each row as
a boolean column, because a warning raised on a worker never reaches the
user; for the same reason it can flag, in another boolean column, the
originals that hold numbers outside the training range. The explainer
travels separately, once per worker, so this object holds only the call's
arguments.
"""

from __future__ import annotations

import pickle
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted

from .._predictor import CLASSIFICATION
from .._targets import per_row_labels
from .._unseen import known_rows, put_back, take_rows
from ..exceptions import InvalidDataError, UnreachedTargetWarning

__all__ = ["PartitionTransformer", "prepare_request"]


def prepare_request(
    explainer,
    columns,
    target,
    target_column,
    constraints,
    valid_column,
    torch_threads,
    outside_range_column=None,
):
    """Check a distributed transform request and return what each partition runs.

    Everything that holds for every row is checked here, before a cluster
    runs anything.

    Parameters
    ----------
    explainer : BaseCounterfactualExplainer
        A fitted tabular explainer.
    columns : list
        The distributed frame's column names.
    target, target_column, valid_column, torch_threads, outside_range_column
        As in :func:`~cfexplain.parallel.transform_dask`.
    constraints : tuple
        ``(immutable, bounds, monotonic)`` of the call.

    Returns
    -------
    PartitionTransformer

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the explainer is not fitted.
    InvalidDataError
        If the explainer was not fitted on a pandas DataFrame of a table, a
        feature or target column is missing, ``valid_column`` or
        ``outside_range_column`` exists (or both name one column), or
        ``target`` holds one target per row.
    TargetError
        If ``target`` is not one the model can reach.
    PredictorError
        If the explainer cannot be pickled (a lambda as the model).
    TypeError
        If both ``target`` and ``target_column`` are given.
    ValueError
        If a constraint names an unknown feature.
    """
    check_is_fitted(explainer, "adapter_")
    if explainer.modality_ != "tabular":
        raise InvalidDataError(
            f"this explainer was fitted on {explainer.modality_} data; Dask and "
            "Spark frames hold tables. Explain images or series with "
            "transform(), which already works through its input in chunks"
        )
    names = getattr(explainer, "feature_names_in_", None)
    if names is None:
        raise InvalidDataError(
            "the explainer was fitted on an array, so its features have no "
            "names to find in a Dask or Spark frame; fit it on a pandas "
            "DataFrame with the frame's column names"
        )
    missing = [name for name in names if name not in columns]
    if missing:
        raise InvalidDataError(
            f"the frame lacks the feature columns {missing} the explainer "
            f"was fitted on; it has {list(columns)}"
        )
    if target is not None and target_column is not None:
        raise TypeError(
            "give the target as a value (target=) or as the name of the "
            "column holding one per row (target_column=), not both"
        )
    target_columns = _as_list(target_column)
    absent = [name for name in target_columns if name not in columns]
    if absent:
        raise InvalidDataError(
            f"target_column names {absent}, which the frame does not have"
        )
    features_as_targets = [name for name in target_columns if name in set(names)]
    if features_as_targets:
        raise InvalidDataError(
            f"target_column {features_as_targets} is a feature of the "
            "explainer; the target must be a column of its own"
        )
    for parameter, name in (
        ("valid_column", valid_column),
        ("outside_range_column", outside_range_column),
    ):
        if name is not None and name in columns:
            raise InvalidDataError(
                f"the frame already has a column {name!r}; pass another "
                f"{parameter} name, or {parameter}=None to leave it out"
            )
    if valid_column is not None and valid_column == outside_range_column:
        raise InvalidDataError(
            f"valid_column and outside_range_column both name {valid_column!r}; "
            "give the two columns different names"
        )
    if not target_columns:
        _check_target(explainer, target)
    explainer._parsed_constraints(constraints)
    # Workers receive a pickle: a lambda model raises its PredictorError now
    # rather than as the engine's serialisation error at compute time.
    pickle.dumps(explainer)
    return PartitionTransformer(
        target=target,
        target_columns=target_columns,
        constraints=constraints,
        valid_column=valid_column,
        torch_threads=torch_threads,
        outside_range_column=outside_range_column,
    )


def _check_target(explainer, target):
    """Resolve a target given as one value, for a row of the model's outputs."""
    per_row = isinstance(target, list) and any(
        isinstance(item, (tuple, list)) for item in target
    )
    if per_row or not (
        target is None or isinstance(target, (str, tuple)) or np.ndim(target) == 0
    ):
        # (A list of per-row intervals may mix values and tuples: numpy
        # cannot read it, and it is not a probability vector.)
        vector = np.zeros(0) if per_row else np.asarray(target)
        soft = (
            explainer.predictor_.task_ == CLASSIFICATION
            and vector.ndim == 1
            and vector.dtype.kind == "f"
            and len(vector) == len(explainer.classes_)
        )
        if not soft:
            raise InvalidDataError(
                "target= gives one target for every row (a label, 'opposite', "
                "a probability vector, a value or an interval); put per-row "
                "targets in a column of the frame and name it with "
                "target_column="
            )
    if explainer.predictor_.task_ == CLASSIFICATION:
        n_classes = len(explainer.classes_)
        outputs = np.full((1, n_classes), 1.0 / n_classes)
    else:
        outputs = np.zeros(1)
    explainer._resolve(target, outputs)


def _as_list(target_column):
    if target_column is None:
        return []
    if isinstance(target_column, (list, tuple)):
        return list(target_column)
    return [target_column]


@dataclass(frozen=True)
class PartitionTransformer:
    """Explain one pandas partition with a fitted explainer.

    Parameters
    ----------
    target : object
        A target for every row, as in ``transform`` (ignored when
        ``target_columns`` is set).
    target_columns : list
        One name: the column holds a label or a regression value per row.
        Several names: each row's probabilities (classification, one column
        per class in ``classes_`` order) or ``(low, high)`` interval
        (regression).
    constraints : tuple
        ``(immutable, bounds, monotonic)`` as in ``transform``.
    valid_column : str or None
        Name of the boolean column with the model's verdict on each row.
    torch_threads : int or None
        Threads torch uses in the worker process; ``None`` leaves them.
    outside_range_column : str or None, default=None
        Name of the boolean column flagging originals with a number outside
        the training range.
    """

    target: object
    target_columns: list
    constraints: tuple
    valid_column: str | None
    torch_threads: int | None
    outside_range_column: str | None = None

    def __call__(self, frame, explainer):
        """Return ``frame`` with counterfactual features (and the flag columns).

        Parameters
        ----------
        frame : pandas.DataFrame of shape (n_rows, n_columns)
            One partition; any index, any extra columns.
        explainer : BaseCounterfactualExplainer
            The fitted explainer.

        Returns
        -------
        pandas.DataFrame of shape (n_rows, n_columns [+ 2])
            Same index, columns and dtypes; ``valid_column`` and
            ``outside_range_column`` appended (those not ``None``).
        """
        if self.torch_threads and torch.get_num_threads() != self.torch_threads:
            torch.set_num_threads(self.torch_threads)
        names = list(explainer.feature_names_in_)
        # Columns are replaced whole, never written into, so the partition's
        # other columns need no copy.
        result = frame.copy(deep=False)
        if len(frame) == 0:
            for name in (self.valid_column, self.outside_range_column):
                if name is not None:
                    result[name] = np.zeros(0, dtype=bool)
            return result
        features = _in_fitted_dtypes(frame[names], explainer.feature_dtypes_in_)
        target = self.target
        if len(self.target_columns) == 1:
            target = per_row_labels(frame[self.target_columns[0]].to_numpy())
        elif self.target_columns:
            target = frame[self.target_columns].to_numpy(dtype=float)
        output, valid, outside = self._explain_known_rows(explainer, features, target)
        for name in names:
            column = output[name]
            if column.dtype != frame[name].dtype:
                column = column.astype(frame[name].dtype)
            result[name] = column.array
        if self.valid_column is not None:
            result[self.valid_column] = valid
        if self.outside_range_column is not None:
            result[self.outside_range_column] = outside
        return result

    def _explain_known_rows(self, explainer, features, target):
        """Return the answers, the model's verdict and the range flags.

        The range flags mark the originals holding a number outside the
        training range, one bool a row. With ``handle_unknown="warn"``,
        rows holding a category ``fit`` did not see come back unchanged and
        not valid, as ``transform`` returns them; the valid column reports
        them, as a worker's warning would be lost. The range flags of the
        explained rows come with their answers; only the rows left
        unexplained are checked on their own.
        """
        known = None
        if explainer.handle_unknown == "warn":
            known = known_rows(explainer, features)
        valid = np.zeros(len(features), dtype=bool)
        if known is not None and not known.any():
            return features, valid, _any_outside(explainer, features)
        if known is not None:
            given = features
            features, target = take_rows(explainer, features, target, known)
        with warnings.catch_warnings():
            if self.valid_column is not None:
                # The valid column reports these rows; a worker's warning
                # would be lost anyway.
                warnings.simplefilter("ignore", UnreachedTargetWarning)
            output, valid_known, _, outside_known, rejected = (
                explainer._transform_with_validity(
                    features, target, self.constraints, check_all=True
                )
            )
            explainer._warn_rejected_by_own_predict(rejected, valid_known)
        outside_known = _any_outside(explainer, features, outside_known)
        if known is None:
            return output, valid_known, outside_known
        valid[known] = valid_known
        outside = np.zeros(len(given), dtype=bool)
        outside[known] = outside_known
        outside[~known] = _any_outside(explainer, given[~known])
        return put_back(given, output, known), valid, outside


def _any_outside(explainer, features, flags=None):
    """Flag rows with a number outside the training range, one bool a row.

    ``flags`` is the adapter's per-feature answer for ``features`` where
    the caller already has it (``transform`` computes it); ``None`` asks
    the adapter. An adapter that checks nothing flags no row.
    """
    if flags is None:
        flags = explainer.adapter_.outside_training_range(features)
    if flags is None:
        return np.zeros(len(features), dtype=bool)
    return np.asarray(flags).any(axis=1)


def _in_fitted_dtypes(features, fitted_dtypes):
    """Cast text-like columns to the dtypes the explainer was fitted on.

    Engines hand strings over in their own dtype (Arrow strings, ``object``)
    and categories as plain strings; the explainer's encoder knows the fitted
    dtype. Numbers are left as they come: ``transform`` already reads a
    float column fitted as integers, and casting here would truncate.
    """
    casts = {
        name: dtype
        for name, dtype in fitted_dtypes.items()
        if features[name].dtype != dtype and not pd.api.types.is_numeric_dtype(dtype)
    }
    return features.astype(casts) if casts else features
