"""Encode mixed-type tables into float vectors and decode them back.

The generative backends work on one float matrix; users work on DataFrames of
strings, categories, integers, booleans and floats. :class:`TabularEncoder`
is the bridge: a :class:`~sklearn.compose.ColumnTransformer` with one
transformer per column (one-hot for categories, mode-specific normalisation
or a scaler for numbers), a :class:`FeatureLayout` that tells the backends what
each encoded column is, and an ``inverse_transform`` that turns any network
output back into a table of the user's own columns and dtypes.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from pandas.api.types import (
    CategoricalDtype,
    is_bool_dtype,
    is_complex_dtype,
    is_integer_dtype,
    is_numeric_dtype,
    is_object_dtype,
    is_string_dtype,
)
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler
from sklearn.utils import check_random_state, check_scalar
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ..exceptions import InvalidDataError
from ._layout import (
    CATEGORY,
    CONTINUOUS,
    MODE,
    FeatureLayout,
    FeatureSpan,
    NumericDecoding,
)
from ._mode_specific import (
    _STD_MULTIPLIER,
    ModeSpecificNormalizer,
    resolve_feature_names,
)

__all__ = ["TabularEncoder"]

_NUMERICAL_ENCODINGS = ("mode_specific", "standard", "minmax")
# The activation that maps a network's scores into each encoding's range.
_SCALAR_ACTIVATIONS = {
    "mode_specific": "tanh",
    "standard": "identity",
    "minmax": "sigmoid",
}
_CATEGORICAL = "categorical"
_NUMERICAL = "numerical"
_SEED_BOUND = np.iinfo(np.int32).max
# Largest number of known categories quoted in an "unseen category" message.
_QUOTED_CATEGORIES = 10


def _object_array(items):
    """Return a 1-D object array of ``items``, even when they are tuples.

    ``np.asarray`` would turn a list of equal-length tuples into a 2-D array.
    """
    items = list(items)
    array = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        array[i] = item
    return array


def _arrow_category_codes(series, categories, value_sets):
    """Look an Arrow-backed string column up in ``categories`` inside Arrow.

    pandas stores strings in Arrow arrays when pyarrow is installed (the
    default from pandas 3); Arrow's hash lookup is about eight times faster
    than an Index's ``get_indexer`` on them (0.05 ms against 0.4 ms for a
    column of Adult's 6,513 test rows), and the engine looks up every
    categorical column of every batch it encodes. ``value_sets`` caches the
    categories as an Arrow array per Arrow type. Returns ``None`` for any
    other column, or where Arrow cannot compare the two, and -1 for values
    not among the categories.
    """
    array = series.array
    if not hasattr(array, "__arrow_array__") or not all(
        isinstance(c, str) for c in categories
    ):
        return None
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        values = pa.array(array)
        value_set = value_sets.get(values.type)
        if value_set is None:
            value_set = value_sets[values.type] = pa.array(
                list(categories), type=values.type
            )
        found = pc.fill_null(pc.index_in(values, value_set=value_set), -1)
    except (ImportError, TypeError, ValueError, NotImplementedError):
        # pyarrow's errors (ArrowInvalid, ArrowTypeError, ...) subclass these.
        return None
    return np.asarray(found, dtype=np.int64)


def _arrow_categories(categories, dtype, value_sets):
    """Return ``categories`` as an Arrow array for an Arrow string dtype, else None.

    ``value_sets`` is :func:`_arrow_category_codes`' cache of them, by Arrow
    type.
    """
    if not isinstance(dtype, pd.StringDtype) or dtype.storage != "pyarrow":
        return None
    if not all(isinstance(c, str) for c in categories):
        return None
    import pyarrow as pa  # the dtype itself needs it

    kind = pa.large_string()
    if kind not in value_sets:
        value_sets[kind] = pa.array(list(categories), type=kind)
    return value_sets[kind]


def _object_index(values):
    """Return an object :class:`pandas.Index`, never a MultiIndex of tuples."""
    return pd.Index(values, dtype=object, tupleize_cols=False)


def _numpy_dtype(dtype):
    """Return the numpy dtype behind a numpy or pandas nullable dtype."""
    return np.dtype(getattr(dtype, "numpy_dtype", dtype))


def _integer_bounds(dtype):
    """Return the float bounds inside which values cast safely to ``dtype``."""
    info = np.iinfo(_numpy_dtype(dtype))
    low, high = float(info.min), float(info.max)
    # float(2**63 - 1) rounds up to 2**63, which no longer fits in an int64.
    if int(high) > info.max:
        high = float(np.nextafter(high, -np.inf))
    return low, high


class TabularEncoder(TransformerMixin, BaseEstimator):
    """Encode a mixed-type table for a generative network, and decode it back.

    Categorical columns are one-hot encoded; numerical columns are, by
    default, mode-specific normalised as in CTGAN (see
    :class:`ModeSpecificNormalizer`), or standardised or min-max scaled. The
    encoding is built from scikit-learn parts: a
    :class:`~sklearn.compose.ColumnTransformer` with one
    :class:`~sklearn.preprocessing.OneHotEncoder`,
    :class:`ModeSpecificNormalizer`,
    :class:`~sklearn.preprocessing.StandardScaler` or
    :class:`~sklearn.preprocessing.MinMaxScaler` per column.

    The encoded columns are grouped by original feature, in the original
    column order: a categorical feature gives its one-hot block; a numerical
    feature gives its scalar and, when mode-specific, the one-hot block of its
    mode right after. :attr:`layout_` describes these spans to the backends.

    Parameters
    ----------
    categorical_features : list of str or int, or None, default=None
        Columns to one-hot encode whatever their dtype (for instance integer
        codes). For a DataFrame, column labels; for an array, positions or
        the names ``"x0"``, ``"x1"``, .... Columns in neither this list nor
        ``numerical_features`` are detected from their dtype: boolean,
        string, object and categorical dtypes are categorical, other numeric
        dtypes numerical.
    numerical_features : list of str or int, or None, default=None
        Columns to treat as numbers, given like ``categorical_features``. A
        boolean column listed here is encoded as 0/1 and decoded by
        thresholding at 0.5.
    numerical : {"mode_specific", "standard", "minmax"}, default="mode_specific"
        Encoding of numerical columns: CTGAN's mode-specific normalisation (a
        scalar in ``[-1, 1]`` plus the one-hot of a mixture mode), a
        standardised value, or a value min-max scaled to ``[0, 1]``.
    max_modes : int, default=10
        Largest number of mixture modes per numerical column, for
        ``numerical="mode_specific"``.
    random_state : int, RandomState instance or None, default=None
        Seeds the mixtures of mode-specific normalisation.
    clip : bool, default=True
        Default of :meth:`inverse_transform`'s ``clip``: whether decoded
        numbers are clipped to the range seen in ``fit``.
    dtype : numpy floating dtype, default=np.float32
        Dtype of the encoded matrix. float32 is what torch networks compute
        in; it keeps about seven significant digits of every feature's
        range, so integers spanning more than about ten million may not
        round trip exactly. Pass ``np.float64`` for exact round trips of
        wide-ranging data.

    Attributes
    ----------
    layout_ : FeatureLayout
        Spans of the encoded vector in encoded order, one ``"category"``
        span (softmax) per categorical feature; per numerical feature a
        ``"continuous"`` span (``tanh`` for mode-specific, ``identity`` for
        standard, ``sigmoid`` for min-max scaling) followed, for mode-specific
        normalisation, by a ``"mode"`` span (softmax).
    column_transformer_ : sklearn.compose.ColumnTransformer
        The fitted column transformer; the transformer of the ``j``-th
        column is named ``str(j)``. Categorical columns reach it as integer
        category codes.
    categorical_features_ : list of str
        Names of the categorical features, in column order.
    numerical_features_ : list of str
        Names of the numerical features, in column order.
    categories_ : dict of str to ndarray of object
        Categories of every categorical feature, in one-hot order: the
        declared categories of a ``category`` dtype, otherwise the values
        seen in ``fit``, sorted when they can be.
    data_min_ : dict of str to float
        Smallest value of every numerical feature seen in ``fit``.
    data_max_ : dict of str to float
        Largest value of every numerical feature seen in ``fit``.
    dtypes_ : dict of str to dtype
        Dtype of every column seen in ``fit``, used to rebuild it.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features,)
        Column names seen in ``fit``, when ``X`` was a DataFrame with string
        column names.

    See Also
    --------
    ModeSpecificNormalizer : The default encoding of numerical columns.

    Notes
    -----
    **Arrays.** A 2-D array is read as a table whose columns are named
    ``"x0"``, ``"x1"``, ...; the feature names of :attr:`layout_`, the
    attributes and :meth:`get_feature_names_out` use these names. Columns of
    a numeric array are numerical unless listed in ``categorical_features``;
    the columns of an object array are typed one by one (numbers become
    numerical, anything else categorical). :meth:`inverse_transform` then
    returns an array of the input's dtype.

    **Missing values** are rejected, in categorical columns too: fill them
    first, for instance with a ``"?"`` category, which then becomes a
    category like any other.

    **Column order.** DataFrames are matched by column name and must have
    the columns of ``fit`` in the same order, as everywhere in scikit-learn.

    Examples
    --------
    >>> import pandas as pd
    >>> from cfexplain.preprocessing import TabularEncoder
    >>> X = pd.DataFrame({"age": [25, 38, 51, 62], "color": ["red", "blue", "red", "green"]})
    >>> encoder = TabularEncoder(numerical="minmax").fit(X)
    >>> encoder.get_feature_names_out().tolist()
    ['age', 'color_blue', 'color_green', 'color_red']
    >>> Xt = encoder.transform(X)
    >>> Xt.dtype
    dtype('float32')
    >>> encoder.inverse_transform(Xt).equals(X)
    True
    """  # noqa: E501

    def __init__(
        self,
        *,
        categorical_features=None,
        numerical_features=None,
        numerical="mode_specific",
        max_modes=10,
        random_state=None,
        clip=True,
        dtype=np.float32,
    ):
        self.categorical_features = categorical_features
        self.numerical_features = numerical_features
        self.numerical = numerical
        self.max_modes = max_modes
        self.random_state = random_state
        self.clip = clip
        self.dtype = dtype

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        try:
            tags.transformer_tags.preserves_dtype = [np.dtype(self.dtype).name]
        except TypeError:
            # An invalid dtype is reported by fit; tags must not fail first.
            tags.transformer_tags.preserves_dtype = []
        return tags

    # -- validation ---------------------------------------------------------

    def _validate_params(self):
        if self.numerical not in _NUMERICAL_ENCODINGS:
            raise ValueError(
                f"numerical must be one of {_NUMERICAL_ENCODINGS}, "
                f"got {self.numerical!r}"
            )
        check_scalar(self.max_modes, "max_modes", numbers.Integral, min_val=1)
        if not isinstance(self.clip, bool | np.bool_):
            raise ValueError(f"clip must be a bool, got {self.clip!r}")
        try:
            dtype = np.dtype(self.dtype)
        except TypeError as error:
            raise ValueError(
                f"dtype must be a numpy float dtype, got {self.dtype!r}"
            ) from error
        if dtype.kind != "f":
            raise ValueError(f"dtype must be a numpy float dtype, got {self.dtype!r}")
        return dtype

    def _as_frame(self, X, *, reset):
        """Validate ``X`` and return it as a DataFrame, without copying frames.

        Also sets or checks ``n_features_in_`` and ``feature_names_in_``.
        """
        try:
            if isinstance(X, pd.DataFrame):
                validate_data(self, X, skip_check_array=True, reset=reset)
                frame = X
                array_dtype = None
            else:
                X = validate_data(
                    self,
                    X,
                    dtype=None,
                    ensure_all_finite=False,
                    ensure_min_samples=1 if reset else 0,
                    reset=reset,
                )
                frame = pd.DataFrame(X, copy=False)
                if is_object_dtype(X.dtype):
                    frame = frame.infer_objects()
                array_dtype = X.dtype
        except InvalidDataError:
            raise
        except ValueError as error:
            raise InvalidDataError(str(error)) from error
        if reset:
            n_samples, n_features = frame.shape
            # check_array raises these for arrays; say the same for frames.
            if n_samples == 0:
                raise InvalidDataError(
                    f"Found array with 0 sample(s) (shape={frame.shape}) while a "
                    "minimum of 1 is required."
                )
            if n_features == 0:
                raise InvalidDataError(
                    f"Found array with 0 feature(s) (shape={frame.shape}) while a "
                    "minimum of 1 is required."
                )
            self._input_array_dtype = array_dtype
        return frame

    def _match_columns(self, spec, param, frame, names):
        """Return the positions of the columns a user's column list names."""
        if spec is None:
            return set()
        if isinstance(spec, str) or not np.iterable(spec):
            spec = [spec]
        is_array = self._input_array_dtype is not None
        positions, unknown = set(), []
        for item in spec:
            found = [
                j
                for j, (label, name) in enumerate(
                    zip(frame.columns, names, strict=True)
                )
                if (not is_array and _same_label(item, label)) or item == name
            ]
            if not found and is_array and isinstance(item, numbers.Integral):
                if not isinstance(item, bool) and -len(names) <= item < len(names):
                    found = [int(item) % len(names)]
            if found:
                positions.update(found)
            else:
                unknown.append(item)
        if unknown:
            raise InvalidDataError(
                f"{param} names columns not in X: {unknown!r}; "
                f"the columns are {list(names)!r}"
            )
        return positions

    def _column_kinds(self, frame, names):
        categorical = self._match_columns(
            self.categorical_features, "categorical_features", frame, names
        )
        numerical = self._match_columns(
            self.numerical_features, "numerical_features", frame, names
        )
        both = sorted(categorical & numerical)
        if both:
            raise ValueError(
                "columns listed in both categorical_features and "
                f"numerical_features: {[names[j] for j in both]!r}"
            )
        kinds = []
        for j, name in enumerate(names):
            dtype = frame.dtypes.iloc[j]
            if j in categorical:
                kinds.append(_CATEGORICAL)
            elif j in numerical:
                if not _is_numerical_dtype(dtype):
                    raise InvalidDataError(
                        f"column {name!r} is listed in numerical_features but has "
                        f"dtype {dtype}, which is not numeric"
                    )
                kinds.append(_NUMERICAL)
            elif _is_categorical_dtype(dtype):
                kinds.append(_CATEGORICAL)
            elif _is_numerical_dtype(dtype):
                kinds.append(_NUMERICAL)
            else:
                raise InvalidDataError(
                    f"column {name!r} has dtype {dtype}, which is neither "
                    "numerical nor categorical: convert it to numbers (for dates, "
                    "e.g. days since a reference date), or to the 'category' "
                    "dtype to treat its values as categories"
                )
        return kinds

    # -- fit / transform ----------------------------------------------------

    def fit(self, X, y=None):
        """Learn the columns' kinds, categories, ranges and encodings.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The table. Missing and infinite values are rejected.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : TabularEncoder
            The fitted encoder.

        Raises
        ------
        InvalidDataError
            If a column holds missing or infinite values, unhashable
            categories or an unsupported dtype, if column names repeat, or if
            ``categorical_features``/``numerical_features`` name columns that
            ``X`` does not have.
        """
        output_dtype = self._validate_params()
        frame = self._as_frame(X, reset=True)
        if self._input_array_dtype is None:
            names = [str(label) for label in frame.columns]
        else:
            names = [f"x{j}" for j in range(frame.shape[1])]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise InvalidDataError(
                f"Expected unique column names, got {repeated!r} more than once"
            )
        kinds = self._column_kinds(frame, names)

        rng = check_random_state(self.random_state)
        Z = np.empty(frame.shape, dtype=np.float64)
        transformers = []
        self.categories_, self.data_min_, self.data_max_, self.dtypes_ = {}, {}, {}, {}
        for j, (name, kind) in enumerate(zip(names, kinds, strict=True)):
            series = frame.iloc[:, j]
            self.dtypes_[name] = series.dtype
            seed = int(rng.randint(_SEED_BOUND))
            if kind == _CATEGORICAL:
                values = _category_values(series, name)
                categories = _categories(values, series.dtype, name)
                self.categories_[name] = categories
                Z[:, j] = _category_codes(values, categories, name)
                encoder = OneHotEncoder(
                    categories=[np.arange(len(categories), dtype=np.float64)],
                    sparse_output=False,
                    dtype=np.float64,
                )
            else:
                values = _numerical_values(series, name)
                self.data_min_[name] = float(values.min())
                self.data_max_[name] = float(values.max())
                Z[:, j] = values
                encoder = self._numerical_encoder(seed)
            transformers.append((str(j), encoder, [j]))
        self.column_transformer_ = ColumnTransformer(
            transformers, remainder="drop", sparse_threshold=0.0
        ).fit(Z)

        self._names = names
        self._kinds = kinds
        self._columns = frame.columns
        self._output_dtype = output_dtype
        self.categorical_features_ = [
            n for n, k in zip(names, kinds, strict=True) if k == _CATEGORICAL
        ]
        self.numerical_features_ = [
            n for n, k in zip(names, kinds, strict=True) if k == _NUMERICAL
        ]
        self.layout_ = self._build_layout()
        return self

    def _numerical_encoder(self, seed):
        if self.numerical == "mode_specific":
            return ModeSpecificNormalizer(max_modes=self.max_modes, random_state=seed)
        if self.numerical == "standard":
            return StandardScaler()
        return MinMaxScaler()

    def _build_layout(self):
        spans = []
        indices = self.column_transformer_.output_indices_
        for j, (name, kind) in enumerate(zip(self._names, self._kinds, strict=True)):
            block = indices[str(j)]
            if kind == _CATEGORICAL:
                spans.append(
                    FeatureSpan(name, CATEGORY, block.start, block.stop, "softmax")
                )
                continue
            activation = _SCALAR_ACTIVATIONS[self.numerical]
            spans.append(
                FeatureSpan(name, CONTINUOUS, block.start, block.start + 1, activation)
            )
            if block.stop > block.start + 1:
                spans.append(
                    FeatureSpan(name, MODE, block.start + 1, block.stop, "softmax")
                )
        return FeatureLayout(tuple(spans))

    def numeric_decodings(self):
        """Describe how each numerical feature decodes, for differentiable use.

        Returns
        -------
        tuple of NumericDecoding
            One per numerical feature, in column order: the affine map per
            mode from the encoded scalar back to the feature's units (before
            clipping to the fitted range).
        """
        check_is_fitted(self, "layout_")
        transformers = {
            key: encoder for key, encoder, _ in self.column_transformer_.transformers_
        }
        decodings = []
        for j, (name, kind) in enumerate(zip(self._names, self._kinds, strict=True)):
            if kind == _CATEGORICAL:
                continue
            encoder = transformers[str(j)]
            spans = self.layout_.spans_of(name)
            scalar = spans[0].start
            mode = spans[1] if len(spans) > 1 else None
            if isinstance(encoder, ModeSpecificNormalizer):
                scales = tuple(
                    float(v) for v in _STD_MULTIPLIER * np.asarray(encoder.stds_[0])
                )
                offsets = tuple(float(v) for v in encoder.means_[0])
            elif isinstance(encoder, StandardScaler):
                scales = (float(encoder.scale_[0]),)
                offsets = (float(encoder.mean_[0]),)
            else:
                scales = (1.0 / float(encoder.scale_[0]),)
                offsets = (-float(encoder.min_[0]) / float(encoder.scale_[0]),)
            decodings.append(
                NumericDecoding(
                    name,
                    scalar,
                    None if mode is None else mode.start,
                    None if mode is None else mode.stop,
                    scales,
                    offsets,
                )
            )
        return tuple(decodings)

    def transform(self, X):
        """Encode a table.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            A table with the columns seen in ``fit``, in the same order.

        Returns
        -------
        ndarray of shape (n_samples, n_encoded)
            The encoded table, in the ``dtype`` given to the constructor
            (float32 by default).

        Raises
        ------
        InvalidDataError
            If columns are missing, extra or out of order, a numerical column
            holds missing, infinite or non-numeric values, or a categorical
            column holds a missing value or a category unseen in ``fit``.
        """
        check_is_fitted(self)
        frame = self._as_frame(X, reset=False)
        n_samples = frame.shape[0]
        out = np.zeros((n_samples, self.layout_.n_columns), dtype=self._output_dtype)
        if n_samples == 0:
            # scikit-learn's scalers refuse empty input; an empty batch
            # simply encodes to no rows.
            return out
        transformer = self.column_transformer_
        rows = np.arange(n_samples)
        # Column by column into one output, rather than through
        # ColumnTransformer.transform: its per-transformer validation and
        # stacking cost about 7 ms a call whatever the number of rows, and
        # the engine encodes small batches of repaired rows. The fitted
        # transformers stay those of the ColumnTransformer; a category's
        # one-hot is written from its code, which is what its OneHotEncoder
        # (fitted on the codes 0..k-1) computes.
        for j, (name, kind) in enumerate(zip(self._names, self._kinds, strict=True)):
            series = frame.iloc[:, j]
            columns = transformer.output_indices_[str(j)]
            if kind == _CATEGORICAL:
                out[rows, columns.start + self._codes_of(series, name)] = 1.0
            else:
                values = _numerical_values(series, name)
                encoder = transformer.named_transformers_[str(j)]
                out[:, columns] = encoder.transform(values.reshape(-1, 1))
        return out

    def known_category_rows(self, X):
        """Flag the rows whose every category was seen in ``fit``.

        :meth:`transform` refuses a table holding a category ``fit`` did not
        see; this tells which rows it would accept, so that a caller that
        may meet such rows (a cross-validation fold of a table with a
        high-cardinality column) can leave them out. Missing values count
        as known: :meth:`transform` refuses them with their own message
        (fill them first), which leaving the row out would hide behind an
        "unseen category".

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            A table with the columns seen in ``fit``, in the same order.

        Returns
        -------
        ndarray of bool, shape (n_samples,)
        """
        check_is_fitted(self)
        frame = self._as_frame(X, reset=False)
        known = np.ones(frame.shape[0], dtype=bool)
        for j, (name, kind) in enumerate(zip(self._names, self._kinds, strict=True)):
            if kind != _CATEGORICAL:
                continue
            values = frame.iloc[:, j].to_numpy(dtype=object)
            _, categories, _ = self._category_lookups(name)
            try:
                positions = categories.get_indexer(_object_index(values))
            except TypeError:  # unhashable values: transform names them
                continue
            known &= (positions >= 0) | pd.isna(values)
        return known

    def category_codes(self, X):
        """Return each categorical feature's category positions.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            A table with the columns seen in ``fit``, in the same order.

        Returns
        -------
        ndarray of int64, shape (n_samples, n_categorical)
            Per row, the position of each categorical feature's value among
            its fitted ``categories_``, in the order of
            ``categorical_features_``.

        Raises
        ------
        InvalidDataError
            As :meth:`transform`, for a categorical column.
        """
        check_is_fitted(self)
        frame = self._as_frame(X, reset=False)
        codes = np.zeros((frame.shape[0], len(self.categorical_features_)), np.int64)
        column = 0
        for j, (name, kind) in enumerate(zip(self._names, self._kinds, strict=True)):
            if kind != _CATEGORICAL:
                continue
            codes[:, column] = self._codes_of(frame.iloc[:, j], name)
            column += 1
        return codes

    def _codes_of(self, series, name):
        """Return a categorical column's category positions; unseen ones raise."""
        codes = self._fast_category_codes(series, name)
        if codes is None:
            values = _category_values(series, name)
            # Arrays get positional labels of our own, per chunk: not named.
            index = series.index if self._input_array_dtype is None else None
            codes = _category_codes(values, self.categories_[name], name, index)
        return codes

    def _fast_category_codes(self, series, name):
        """Return a string column's category codes, or ``None`` to take the slow path.

        The engine encodes every batch it explains: looking a pandas string
        column up in the fitted categories directly, without converting it
        to objects first, saves about a fifth of Adult's encoding time.
        Anything else, and any value the lookup misses (missing, unseen),
        goes through the general path, which names the problem.
        """
        if not is_string_dtype(series.dtype) or series.dtype == object:
            return None
        categories, index, value_sets = self._category_lookups(name)
        codes = _arrow_category_codes(series, categories, value_sets)
        if codes is None:
            codes = index.get_indexer(series)
        return None if (codes < 0).any() else codes

    def _category_lookups(self, name):
        """Return ``(categories, object Index, Arrow arrays by type)`` of a feature.

        Keyed by the fitted array itself, so a new fit never reads a stale
        lookup.
        """
        categories = self.categories_[name]
        cache = self.__dict__.setdefault("_category_indexes", {})
        cached = cache.get(name)
        if cached is None or cached[0] is not categories or len(cached) < 3:
            cached = cache[name] = (categories, _object_index(categories), {})
        return cached

    # -- decoding -----------------------------------------------------------

    def inverse_transform(self, Xt, clip=None, index=None):
        """Decode encoded rows, or any network output of the encoded width.

        Every one-hot block (category or mode) is read by its argmax, so soft,
        unnormalised or negative scores are fine; mode-specific scalars are
        clipped to ``[-1, 1]`` as in CTGAN; integers are rounded to the
        nearest value and kept within their dtype's range.

        Parameters
        ----------
        Xt : array-like of shape (n_samples, n_encoded)
            Float matrix, for instance ``transform``'s output or a generator's
            output. Infinite values are allowed; NaN is not.
        clip : bool or None, default=None
            Clip decoded numbers to the range ``[data_min_, data_max_]`` seen
            in ``fit``. ``None`` uses the constructor's ``clip``. Without
            clipping, standardised and min-max scaled values may decode to
            any number, and to infinity for float columns.
        index : array-like of length n_samples, optional
            Index of the returned DataFrame; by default ``0, ..., n - 1``.

        Returns
        -------
        DataFrame or ndarray of shape (n_samples, n_features)
            The columns seen in ``fit``, in their order and with their
            dtypes. An ndarray of the input's dtype when ``fit`` was given an
            array.

        Raises
        ------
        InvalidDataError
            If ``Xt`` has the wrong number of columns, contains NaN, or
            ``index`` has the wrong length.
        """
        check_is_fitted(self)
        clip = self.clip if clip is None else clip
        try:
            Xt = check_array(
                Xt, dtype=np.float64, ensure_all_finite=False, ensure_min_samples=0
            )
        except ValueError as error:
            raise InvalidDataError(str(error)) from error
        width = self.layout_.n_columns
        if Xt.shape[1] != width:
            raise InvalidDataError(
                f"the encoded data has {Xt.shape[1]} columns, but this "
                f"TabularEncoder produces {width}"
            )
        if np.isnan(Xt).any():
            row, column = np.argwhere(np.isnan(Xt))[0]
            raise InvalidDataError(
                f"the encoded data contains NaN (row {row}, column {column})"
            )
        n_samples = Xt.shape[0]
        if index is None:
            index = pd.RangeIndex(n_samples)
        else:
            index = pd.Index(index) if not isinstance(index, pd.Index) else index
            if len(index) != n_samples:
                raise InvalidDataError(
                    f"index has {len(index)} entries, but the encoded data has "
                    f"{n_samples} rows"
                )

        transformer = self.column_transformer_
        columns = {}
        for j, (name, kind) in enumerate(zip(self._names, self._kinds, strict=True)):
            block = Xt[:, transformer.output_indices_[str(j)]]
            encoder = transformer.named_transformers_[str(j)]
            if kind == _CATEGORICAL:
                # The argmax, as OneHotEncoder.inverse_transform takes it; that
                # method rejects the infinite scores a network may produce.
                codes = np.argmax(block, axis=1)
                columns[j] = self._rebuild_from_codes(name, codes, index)
            else:
                values = self._decode_number(encoder, block, name, clip)
                columns[j] = _rebuild_numerical(values, self.dtypes_[name], index)
        frame = pd.DataFrame(columns, index=index)
        frame.columns = self._columns
        if self._input_array_dtype is not None:
            return frame.to_numpy(dtype=self._input_array_dtype)
        return frame

    def _rebuild_from_codes(self, name, codes, index):
        """Return a categorical column from category positions, in its fitted dtype."""
        categories, _, value_sets = self._category_lookups(name)
        dtype = self.dtypes_[name]
        arrow = _arrow_categories(categories, dtype, value_sets)
        if arrow is not None:
            # Arrow gathers the strings itself: four times faster than
            # building the column from Python objects (0.05 ms against
            # 0.2 ms for a column of Adult's 6,513 test rows), and the
            # engine decodes every candidate it scores.
            return pd.Series(pd.array(arrow.take(codes), dtype=dtype), index=index)
        return _rebuild_categorical(categories[codes], dtype, index)

    def _decode_number(self, encoder, block, name, clip):
        low, high = self.data_min_[name], self.data_max_[name]
        if isinstance(encoder, ModeSpecificNormalizer):
            values = encoder.inverse_transform(block)[:, 0]
        else:
            # The scalers' own inverse_transform rejects the infinite scores a
            # network may produce, so apply their affine maps directly. Scores
            # too large for float64 once scaled become infinite, then clipped.
            scores = block[:, 0]
            with np.errstate(over="ignore", invalid="ignore"):
                if isinstance(encoder, StandardScaler):
                    values = scores * encoder.scale_[0] + encoder.mean_[0]
                else:
                    values = (scores - encoder.min_[0]) / encoder.scale_[0]
        if clip:
            values = np.clip(values, low, high)
        return values

    def get_feature_names_out(self, input_features=None):
        """Names of the encoded columns.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Names of the input columns; by default those seen in ``fit``
            (``x0``, ``x1``, ... for arrays).

        Returns
        -------
        ndarray of object
            Per feature ``name``, in encoded order: ``name_category`` for
            each category of a categorical feature; ``name`` for the scalar
            of a numerical feature, then ``name_mode_0``, ``name_mode_1``,
            ... for its modes under mode-specific normalisation.
        """
        check_is_fitted(self)
        names = resolve_feature_names(self, input_features, self._names)
        out = []
        for j, (name, kind) in enumerate(zip(names, self._kinds, strict=True)):
            if kind == _CATEGORICAL:
                categories = self.categories_[self._names[j]]
                out.extend(f"{name}_{category}" for category in categories)
            else:
                encoder = self.column_transformer_.named_transformers_[str(j)]
                if isinstance(encoder, ModeSpecificNormalizer):
                    out.extend(encoder.get_feature_names_out([str(name)]))
                else:
                    out.append(str(name))
        return np.asarray(out, dtype=object)


def _same_label(item, label):
    """Whether a user's column reference equals a DataFrame column label."""
    try:
        return bool(item == label)
    except (TypeError, ValueError):
        return False


def _is_categorical_dtype(dtype):
    return (
        isinstance(dtype, CategoricalDtype)
        or is_bool_dtype(dtype)
        or is_string_dtype(dtype)
        or is_object_dtype(dtype)
    )


def _is_numerical_dtype(dtype):
    return is_numeric_dtype(dtype) and not is_complex_dtype(dtype)


def _numerical_values(series, name):
    """Return a numerical column as finite float64 values, or raise."""
    dtype = series.dtype
    if not _is_numerical_dtype(dtype):
        raise InvalidDataError(
            f"column {name!r} must be numerical, as it was in fit, got dtype {dtype}"
        )
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.argmax(bad))
        value = values[row]
        shown = "NaN" if np.isnan(value) else ("inf" if value > 0 else "-inf")
        if np.isnan(value) and series.iloc[row] is pd.NA:
            # A nullable column (Int64, Float64) holds pd.NA, not NaN.
            shown = "a missing value (<NA>)"
        raise InvalidDataError(
            f"column {name!r} contains {shown} at row {row}{_index_label(series, row)}"
            "; numerical columns must be finite: fill or drop missing values first"
        )
    return values


def _index_label(series, row):
    """Return ``" (index 103)"`` where a row's index label is not its position."""
    index = getattr(series, "index", None)
    if index is None:
        return ""
    label = index[row]
    if isinstance(label, np.generic):
        label = label.item()
    return "" if label == row else f" (index {label!r})"


def _category_values(series, name):
    """Return a categorical column as an object array, rejecting missing values."""
    values = series.to_numpy(dtype=object)
    missing = pd.isna(values)
    if missing.any():
        row = int(np.argmax(missing))
        if pd.api.types.is_bool_dtype(series.dtype):
            # A boolean column cannot hold a '?' category.
            fix = (
                "fill or drop missing values first (a boolean column holds "
                "only True or False)"
            )
        elif isinstance(series.dtype, CategoricalDtype):
            # fillna("?") alone raises on a category column.
            fix = (
                "fill missing categories first to keep them as a category of "
                f"their own, e.g. X[{name!r}] = X[{name!r}].cat.add_categories"
                "('?').fillna('?')"
            )
        else:
            fix = (
                "fill missing categories first, e.g. with '?', to keep them as "
                "a category of their own"
            )
        raise InvalidDataError(
            f"column {name!r} contains a missing value ({values[row]!r}) at row "
            f"{row}{_index_label(series, row)}; {fix}"
        )
    return values


def _categories(values, dtype, name):
    """Return the one-hot categories of a column, in order."""
    if isinstance(dtype, CategoricalDtype):
        # The declared categories, unused ones included, keep the dtype's
        # meaning and order on the way back.
        return _object_array(dtype.categories)
    try:
        # Not pd.unique: pandas 2 hashes text only up to its first NUL
        # character there, so "a\x00" and "a" became one category.
        unique = list(dict.fromkeys(values))
    except TypeError as error:
        raise InvalidDataError(
            f"column {name!r} holds unhashable values (e.g. "
            f"{_first_unhashable(values)!r}); categories must be hashable"
        ) from error
    try:
        return _object_array(sorted(unique))
    except TypeError:
        # Values of mixed types do not sort: keep their order of appearance.
        return _object_array(unique)


def _first_unhashable(values):
    for value in values:
        try:
            hash(value)
        except TypeError:
            return value
    return None


def _category_codes(values, categories, name, index=None):
    """Return the positions of ``values`` among ``categories``; unseen ones raise.

    ``index``, the rows' labels where the user gave them, names the first
    row holding an unseen category in the error.
    """
    try:
        codes = _object_index(categories).get_indexer(_object_index(values))
    except TypeError as error:
        raise InvalidDataError(
            f"column {name!r} holds unhashable values (e.g. "
            f"{_first_unhashable(values)!r}); categories must be hashable"
        ) from error
    unseen = codes < 0
    if unseen.any():
        row = int(np.argmax(unseen))
        value = values[row]
        known = ", ".join(repr(c) for c in categories[:_QUOTED_CATEGORIES])
        if len(categories) > _QUOTED_CATEGORIES:
            known += ", ..."
        label = None if index is None else index[row]
        if isinstance(label, np.generic):
            label = label.item()  # 28150, not np.int64(28150)
        where = "" if index is None else f"in the row with index {label!r}, "
        if index is not None and not pd.Index(index).is_unique:
            where = f"in the row with index {label!r} (position {row}), "
        n_unseen = int(unseen.sum())
        if n_unseen > 1:
            where += f"{n_unseen} rows in all; "
        raise InvalidDataError(
            f"column {name!r} has category {value!r} not seen during fit "
            f"({where}known: {known}). "
            + (
                _retyped_hint(value, categories)
                or "Fit on rows that hold every category, or leave such rows "
                "out: X[explainer.encoder_.known_category_rows(X)] keeps the "
                "rows an explainer can read, and an explainer with "
                "handle_unknown='warn' explains the others and returns these "
                "unchanged"
            )
        )
    return codes


def _retyped_hint(value, categories):
    """Say so when ``value`` is a fitted category written as another type.

    A boolean column saved to CSV or cast with ``astype(str)`` comes back
    as ``'True'``, which no fitted category equals; ``None`` otherwise.
    """
    for category in categories:
        if type(category) is not type(value) and str(category) == str(value):
            return (
                f"{value!r} ({type(value).__name__}) reads as the fitted "
                f"category {category!r} ({type(category).__name__}): the "
                "column's type changed since fit; give it the dtype it had "
                "then (explainer.feature_dtypes_in_)"
            )
    return None


def _rebuild_categorical(values, dtype, index):
    return pd.Series(values, index=index, dtype=dtype)


def _rebuild_numerical(values, dtype, index):
    if is_bool_dtype(dtype):
        return pd.Series(values >= 0.5, index=index, dtype=dtype)
    if is_integer_dtype(dtype):
        low, high = _integer_bounds(dtype)
        integers = np.clip(np.rint(values), low, high).astype(_numpy_dtype(dtype))
        return pd.Series(integers, index=index, dtype=dtype)
    # A float narrower than float64 overflows to infinity, as it should for
    # unclipped decoding of out-of-range scores.
    with np.errstate(over="ignore"):
        floats = values.astype(_numpy_dtype(dtype))
    return pd.Series(floats, index=index, dtype=dtype)


def cast_columns(frame, dtypes):
    """Return ``frame`` with each column in the dtype ``dtypes`` gives it.

    The decoder rebuilds columns in the dtypes seen in ``fit``; a table given
    later may hold the same features in other dtypes (``float64`` for an
    ``int64`` feature, ``Int64`` for ``int64``, a ``category`` for strings).
    Numbers are converted as :meth:`TabularEncoder.inverse_transform` does
    (rounded and clipped for integers, thresholded at 0.5 for booleans);
    categories keep their values, and a ``category`` dtype gains the values
    it lacks rather than losing them to ``NaN``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Decoded rows.
    dtypes : pandas.Series
        Wanted dtype of each column of ``frame``, by position.

    Returns
    -------
    pandas.DataFrame
        ``frame`` itself when every dtype already matches, else a copy.
    """
    wrong = [
        j
        for j, (have, want) in enumerate(zip(frame.dtypes, dtypes, strict=True))
        if have != want
    ]
    if not wrong:
        return frame
    frame = frame.copy()
    for j in wrong:
        series, dtype = frame.iloc[:, j], dtypes.iloc[j]
        if _is_numerical_dtype(dtype) and _is_numerical_dtype(series.dtype):
            column = _rebuild_numerical(
                series.to_numpy(dtype=np.float64), dtype, frame.index
            )
        elif isinstance(dtype, CategoricalDtype):
            values = series.to_numpy(dtype=object)
            missing = pd.Index(values).difference(dtype.categories)
            if len(missing):
                dtype = CategoricalDtype(
                    dtype.categories.append(missing), ordered=dtype.ordered
                )
            column = _rebuild_categorical(values, dtype, frame.index)
        else:
            column = _rebuild_categorical(
                series.to_numpy(dtype=object), dtype, frame.index
            )
        frame.isetitem(j, column)
    return frame
