"""Common layout and a one-hot + z-scored representation for the metrics.

The metrics compare rows of any counterfactual method with the original rows
and with a sample of the data distribution. This module brings those inputs
to one layout and fixes the scale they are compared on:

* pandas DataFrames may mix numerical and categorical columns; categorical
  means a ``str``, ``object``, ``category`` or ``bool`` dtype (see
  :func:`split_features`). Columns are matched by name.
* numpy arrays must be numeric. An array of more than two dimensions (images,
  time series) is one sample per index of its first axis; the other axes are
  flattened into features.
* an array given next to a DataFrame is read as rows with that DataFrame's
  columns, in order (some methods return arrays for DataFrame inputs).

:class:`OneHotStandardScaler` is the representation the distribution metrics
use, as in paper 1 (section 4.3): categorical features one-hot encoded,
numerical features standardised with the mean and standard deviation of a
reference sample.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from pandas.api.types import (
    infer_dtype,
    is_bool_dtype,
    is_complex_dtype,
    is_numeric_dtype,
    is_string_dtype,
)
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from ..exceptions import InvalidDataError

__all__ = ["OneHotStandardScaler", "split_features"]


def _is_categorical_dtype(dtype) -> bool:
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or is_bool_dtype(dtype)
        or is_string_dtype(dtype)
    )


def _is_numerical_dtype(dtype) -> bool:
    return (
        is_numeric_dtype(dtype)
        and not is_bool_dtype(dtype)
        and not is_complex_dtype(dtype)
    )


def _as_samples(X, name):
    """Return a DataFrame unchanged or any other input as a 2-D ndarray."""
    if isinstance(X, pd.DataFrame):
        if not X.columns.is_unique:
            duplicated = X.columns[X.columns.duplicated()].unique().tolist()
            raise InvalidDataError(f"{name} has duplicated columns {duplicated}")
        if X.shape[1] == 0:
            raise InvalidDataError(f"{name} has no columns")
        return X
    if isinstance(X, pd.Series):
        raise InvalidDataError(
            f"{name} is a pandas Series; pass a DataFrame with one row per "
            "sample (Series.to_frame().T for a single row)"
        )
    if sparse.issparse(X):
        raise InvalidDataError(
            f"{name} is a sparse matrix; pass a dense array or a DataFrame"
        )
    array = np.asarray(X)
    if array.ndim < 2:
        raise InvalidDataError(
            f"{name} must have one sample per index of its first axis and at "
            f"least 2 dimensions, got an array of shape {array.shape}"
        )
    array = array.reshape(array.shape[0], int(np.prod(array.shape[1:])))
    if array.shape[1] == 0:
        raise InvalidDataError(f"{name} has no features, shape {array.shape}")
    return array


def _as_list(categorical_features):
    if isinstance(categorical_features, (str, bytes)) or not np.iterable(
        categorical_features
    ):
        raise ValueError(
            "categorical_features must be None or a list of column names "
            f"(DataFrames) or positions (arrays), got {categorical_features!r}"
        )
    return list(categorical_features)


def split_features(X, categorical_features=None):
    """Split the features of ``X`` into categorical and numerical ones.

    Parameters
    ----------
    X : pandas.DataFrame or array-like of shape (n_samples, ...)
        The data. Rows of arrays with more than two dimensions are flattened.
    categorical_features : list, optional
        The categorical features: column names for a DataFrame, positions
        (after flattening) for an array. Every other feature must be
        numerical (a boolean column not listed counts as 0 and 1). When None,
        a DataFrame column is categorical if its dtype is ``category``,
        boolean or a string dtype (``str``, ``object``), and numerical if it
        is an integer or float dtype; all features of an array are numerical.

    Returns
    -------
    categorical : list
        Categorical column names (or positions), in the order of ``X``.
    numerical : list
        Numerical column names (or positions), in the order of ``X``.

    Raises
    ------
    InvalidDataError
        If a column has another dtype (datetime, complex, ...), a feature
        that should be numerical is not, an array is not numeric, or a
        listed feature does not exist.

    Examples
    --------
    >>> import pandas as pd
    >>> from cfexplain.metrics._representation import split_features
    >>> X = pd.DataFrame({"age": [30, 40], "job": ["a", "b"], "ok": [True, False]})
    >>> split_features(X)
    (['job', 'ok'], ['age'])
    >>> split_features(X[["age", "job"]], categorical_features=["age", "job"])
    (['age', 'job'], [])
    """
    X = _as_samples(X, "X")
    if isinstance(X, pd.DataFrame):
        columns = list(X.columns)
        dtypes = X.dtypes
        if categorical_features is None:
            categorical, numerical = [], []
            for column in columns:
                dtype = dtypes[column]
                if _is_categorical_dtype(dtype):
                    categorical.append(column)
                elif _is_numerical_dtype(dtype):
                    numerical.append(column)
                else:
                    raise InvalidDataError(
                        f"column {column!r} has dtype {dtype}, which is neither "
                        "numerical nor categorical; convert it to numbers or "
                        "strings, or list it in categorical_features"
                    )
            return categorical, numerical
        wanted = _as_list(categorical_features)
        known = set(columns)
        unknown = [column for column in wanted if column not in known]
        if unknown:
            raise InvalidDataError(
                f"categorical_features {unknown} are not columns of the data"
            )
        wanted = set(wanted)
        categorical = [column for column in columns if column in wanted]
        numerical = [column for column in columns if column not in wanted]
        for column in numerical:
            # Named overrides may count booleans as numbers (0 and 1).
            dtype = dtypes[column]
            if not (is_numeric_dtype(dtype) and not is_complex_dtype(dtype)):
                raise InvalidDataError(
                    f"column {column!r} has dtype {dtype} but is not in "
                    "categorical_features; list it there or convert it to numbers"
                )
        return categorical, numerical
    if X.dtype.kind not in "biuf":
        raise InvalidDataError(
            f"arrays must be numeric, got dtype {X.dtype}; pass mixed-type data "
            "as a pandas DataFrame"
        )
    n_features = X.shape[1]
    if categorical_features is None:
        return [], list(range(n_features))
    wanted = _as_list(categorical_features)
    bad = [
        position
        for position in wanted
        if not isinstance(position, numbers.Integral)
        or isinstance(position, bool)
        or not 0 <= position < n_features
    ]
    if bad:
        raise InvalidDataError(
            f"categorical_features {bad} are not feature positions of an array "
            f"with {n_features} features"
        )
    wanted = {int(position) for position in wanted}
    categorical = [i for i in range(n_features) if i in wanted]
    numerical = [i for i in range(n_features) if i not in wanted]
    return categorical, numerical


def _coerce_samples(samples, *, categorical_features=None, subset_ok=()):
    """Bring several samples to one layout.

    Parameters
    ----------
    samples : dict of str to data
        Inputs by the name used in error messages. The first DataFrame
        defines the columns; arrays are then read with its columns.
    categorical_features : list, optional
        See :func:`split_features`.
    subset_ok : collection of str
        Names of inputs that may hold more columns than the first DataFrame
        (the extra columns are dropped).

    Returns
    -------
    data : dict of str to DataFrame or ndarray
        DataFrames with the same columns in the same order, or 2-D float64
        arrays (when every input is an array and no categorical feature is
        named).
    categorical, numerical : list
        The feature split of :func:`split_features`.
    """
    data = {name: _as_samples(X, name) for name, X in samples.items()}
    frames = [name for name, X in data.items() if isinstance(X, pd.DataFrame)]
    if not frames and categorical_features is not None:
        # Arrays with categorical positions: frames with integer column labels.
        data = {name: pd.DataFrame(X).infer_objects() for name, X in data.items()}
        frames = list(data)
    if not frames:
        first = next(iter(data))
        width = data[first].shape[1]
        arrays = {}
        for name, X in data.items():
            if X.shape[1] != width:
                raise InvalidDataError(
                    f"{name} has {X.shape[1]} features per row but {first} has {width}"
                )
            if X.dtype.kind not in "biuf":
                raise InvalidDataError(
                    f"{name} is an array of dtype {X.dtype}; arrays must be "
                    "numeric, pass mixed-type data as pandas DataFrames"
                )
            arrays[name] = _check_finite(X.astype(np.float64, copy=False), name)
        return arrays, [], list(range(width))

    template_name = frames[0]
    template = data[template_name]
    out = {
        name: _align_frame(
            X, template.columns, name, template_name, extra_ok=name in subset_ok
        )
        for name, X in data.items()
    }
    categorical, numerical = split_features(template, categorical_features)
    return out, categorical, numerical


def _align_frame(X, columns, name, template_name, *, extra_ok=False):
    """Return ``X`` as a DataFrame with exactly ``columns``, in that order."""
    if not isinstance(X, pd.DataFrame):
        if X.shape[1] != len(columns):
            raise InvalidDataError(
                f"{name} is an array with {X.shape[1]} features per row but "
                f"{template_name} has {len(columns)} columns"
            )
        return pd.DataFrame(X, columns=columns)
    present = set(X.columns)
    missing = [column for column in columns if column not in present]
    if missing:
        raise InvalidDataError(
            f"{name} is missing columns {missing} of {template_name}"
        )
    expected = set(columns)
    extra = [column for column in X.columns if column not in expected]
    if extra and not extra_ok:
        raise InvalidDataError(
            f"{name} has columns {extra} that {template_name} does not have"
        )
    if X.columns.equals(columns):
        return X
    return X[list(columns)]


def _check_finite(values, name, columns=None):
    finite = np.isfinite(values)
    if not finite.all():
        bad = np.flatnonzero(~finite.all(axis=0))
        labels = bad.tolist() if columns is None else [columns[i] for i in bad]
        where = "features at positions" if columns is None else "columns"
        # Another method's unanswered rows come back as missing values.
        raise InvalidDataError(
            f"{name} has NaN or infinite values in {where} {labels[:10]}; "
            "leave out rows a method could not answer, or use "
            "counterfactual_report, which scores the answered rows and reports "
            "coverage"
        )
    return values


def _numerical_values(X, numerical, name):
    """Return the numerical features of a coerced sample as float64."""
    if isinstance(X, np.ndarray):
        return X
    if not numerical:
        return np.empty((len(X), 0), dtype=np.float64)
    blocks = []
    for column in numerical:
        series = X[column]
        if not _is_numerical_dtype(series.dtype):
            try:
                series = pd.to_numeric(series.astype(object))
            except (TypeError, ValueError) as error:
                raise InvalidDataError(
                    f"column {column!r} of {name} must be numerical: {error}"
                ) from error
        if is_complex_dtype(series.dtype):
            raise InvalidDataError(f"column {column!r} of {name} is complex")
        blocks.append(series.to_numpy(dtype=np.float64, na_value=np.nan))
    return _check_finite(np.column_stack(blocks), name, numerical)


def _categorical_values(X, categorical):
    """Return the categorical features as a new object array, missing as NaN."""
    values = np.array(X[categorical].to_numpy(dtype=object), dtype=object, copy=True)
    values[pd.isna(values)] = np.nan
    return values


def _clean_frame(X, categorical, numerical, name):
    """Categorical columns as objects, then numerical ones as checked float64.

    The columns get generated names (``categorical_0``, ..., ``numerical_0``,
    ...), so that any column labels of the user's data (integers, mixed
    types) reach the ``ColumnTransformer`` as plain strings.
    """
    columns = {}
    if categorical:
        objects = _categorical_values(X, categorical)
        for i in range(len(categorical)):
            columns[f"categorical_{i}"] = objects[:, i]
    if numerical:
        values = _numerical_values(X, numerical, name)
        for i in range(len(numerical)):
            columns[f"numerical_{i}"] = values[:, i]
    return pd.DataFrame(columns, index=pd.RangeIndex(len(X)))


class OneHotStandardScaler(TransformerMixin, BaseEstimator):
    """One-hot encode categorical features and z-score numerical ones.

    The representation of paper 1 (section 4.3) for the distribution
    metrics: it is fitted on a reference sample of the data distribution and
    maps each row to a float64 vector in which

    * a categorical feature becomes the one-hot vector of its value among the
      reference's categories; a value the reference does not have becomes all
      zeros (``OneHotEncoder(handle_unknown="ignore")``); a missing value is
      a category of its own;
    * a numerical feature ``x`` becomes ``(x - mean) / std`` with the
      reference's mean and (population) standard deviation; a feature with
      zero standard deviation is only centred (``StandardScaler``).

    The one-hot blocks come first, then the numerical features.

    Parameters
    ----------
    categorical_features : list, optional
        Overrides the detection of categorical features (see
        :func:`split_features`).

    Attributes
    ----------
    categorical_features_ : list
        Categorical columns (positions for arrays).
    numerical_features_ : list
        Numerical columns (positions for arrays).
    n_features_in_ : int
        Number of features of the reference (after flattening arrays).
    feature_names_in_ : numpy.ndarray of object
        Column names, when fitted on a DataFrame.
    transformer_ : sklearn.compose.ColumnTransformer or \
            sklearn.preprocessing.StandardScaler
        The fitted transformer: a ``StandardScaler`` for numeric arrays.
    n_output_features_ : int
        Width of the representation.

    Examples
    --------
    >>> import pandas as pd
    >>> from cfexplain.metrics._representation import OneHotStandardScaler
    >>> ref = pd.DataFrame({"age": [20.0, 40.0], "job": ["a", "b"]})
    >>> rep = OneHotStandardScaler().fit(ref)
    >>> rep.transform(pd.DataFrame({"age": [30.0], "job": ["c"]}))
    array([[0., 0., 0.]])
    """

    def __init__(self, *, categorical_features=None):
        self.categorical_features = categorical_features

    def fit(self, X, y=None):
        """Fit the representation on a reference sample.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, ...)
            Reference sample of the data distribution, at least one row.
        y : None
            Ignored.

        Returns
        -------
        self : OneHotStandardScaler
            The fitted representation.
        """
        data, categorical, numerical = _coerce_samples(
            {"reference": X}, categorical_features=self.categorical_features
        )
        return self._fit_coerced(data["reference"], categorical, numerical)

    def _fit_coerced(self, X, categorical, numerical, name="reference"):
        if len(X) == 0:
            raise InvalidDataError(f"{name} has no rows")
        self.categorical_features_ = list(categorical)
        self.numerical_features_ = list(numerical)
        self.n_features_in_ = X.shape[1]
        if isinstance(X, np.ndarray):
            self.transformer_ = StandardScaler().fit(X)
            self.n_output_features_ = X.shape[1]
            return self
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        parts = []
        if categorical:
            encoder = OneHotEncoder(
                handle_unknown="ignore", sparse_output=False, dtype=np.float64
            )
            names = [f"categorical_{i}" for i in range(len(categorical))]
            parts.append(("categorical", encoder, names))
        if numerical:
            names = [f"numerical_{i}" for i in range(len(numerical))]
            parts.append(("numerical", StandardScaler(), names))
        clean = _clean_frame(X, categorical, numerical, name)
        transformer = ColumnTransformer(parts, sparse_threshold=0.0)
        try:
            transformer.fit(clean)
        except TypeError as error:
            mixed = [
                column
                for i, column in enumerate(categorical)
                if infer_dtype(clean[f"categorical_{i}"], skipna=True)
                in ("mixed", "mixed-integer")
            ]
            raise InvalidDataError(
                f"categorical columns {mixed} of {name} mix strings with other "
                "types; make each column uniformly strings or numbers"
            ) from error
        self.transformer_ = transformer
        self.n_output_features_ = sum(
            span.stop - span.start for span in transformer.output_indices_.values()
        )
        return self

    def transform(self, X):
        """Map rows to the representation.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, ...)
            Rows with the reference's columns (any order) or, for arrays, its
            number of features.

        Returns
        -------
        numpy.ndarray of float64, shape (n_samples, n_output_features_)
            The representation.
        """
        check_is_fitted(self)
        X = _as_samples(X, "X")
        if hasattr(self, "feature_names_in_"):
            X = _align_frame(X, self.feature_names_in_, "X", "the reference")
        else:
            if isinstance(X, pd.DataFrame):
                X = X.to_numpy()
            if X.shape[1] != self.n_features_in_ or X.dtype.kind not in "biuf":
                raise InvalidDataError(
                    f"X must be a numeric array with {self.n_features_in_} "
                    f"features per row, got dtype {X.dtype} and shape {X.shape}"
                )
            X = _check_finite(X.astype(np.float64, copy=False), "X")
        return self._transform_coerced(X, "X")

    def _transform_coerced(self, X, name):
        if len(X) == 0:
            return np.empty((0, self.n_output_features_), dtype=np.float64)
        if isinstance(X, np.ndarray):
            return np.asarray(self.transformer_.transform(X), dtype=np.float64)
        clean = _clean_frame(
            X, self.categorical_features_, self.numerical_features_, name
        )
        return np.asarray(self.transformer_.transform(clean), dtype=np.float64)
