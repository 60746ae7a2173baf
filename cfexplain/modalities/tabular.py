"""Tables: DataFrames or 2-D arrays of mixed-type features."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.utils.validation import validate_data

from .._constraints import parse_constraints
from .._plausibility import CategoryPairs, number_range_edges
from .._stacklevel import user_stacklevel
from ..exceptions import (
    EncodedCategoriesWarning,
    HighCardinalityWarning,
    InvalidDataError,
    NumbersAsTextWarning,
)
from ..preprocessing import TabularEncoder
from ..preprocessing._layout import CATEGORY
from ..preprocessing._tabular_encoder import cast_columns
from ._base import ModalityAdapter

__all__ = ["TabularAdapter"]


def _format_value(value, digits=4) -> str:
    """Write a value for a change's text: floats to ``digits`` significant digits.

    Floats are written positionally (51910, not 5.191e+04), whole ones as
    integers.
    """
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            return str(float(value))
        if float(value).is_integer():
            return str(int(value))
        return np.format_float_positional(
            value, precision=digits, unique=True, fractional=False, trim="-"
        )
    return str(value)


def _format_change(before, after):
    """Write ``"before -> after"`` with digits enough to tell the two apart.

    Text is quoted where its plain form would hide the change: a value
    with surrounding spaces or an empty one (``' tech ' -> 'tech'``, not
    ``tech -> tech``).
    """
    if any(isinstance(v, str) and (not v or v != v.strip()) for v in (before, after)):
        return f"{_quoted(before)} -> {_quoted(after)}"
    start = 4
    for value in (before, after):
        if isinstance(value, (float, np.floating)) and np.isfinite(value) and value:
            # Every digit of the integer part: 123456.7 is not "123500".
            start = max(start, int(np.floor(np.log10(abs(value)))) + 1)
    for digits in range(min(start, 17), 18):
        written = _format_value(before, digits), _format_value(after, digits)
        if written[0] != written[1]:
            break
    return f"{written[0]} -> {written[1]}"


def _quoted(value):
    """Write text as its ``repr`` (quotes show its spaces), anything else plainly."""
    return repr(value) if isinstance(value, str) else _format_value(value)


#: Most decimals a float feature is rounded to (see :func:`_decimals`).
MAX_DECIMALS = 6
#: Share of a float feature's training values that may have more decimals
#: than the precision it is given (see :func:`_decimals`).
ODD_PRECISION_SHARE = 0.01
#: Most distinct training values kept per number for the rule that a move
#: reaching none of them is negligible (beyond, values evenly spaced in
#: rank: 80 kB a feature).
SUPPORT_VALUES = 10_000
#: Longest move, in training standard deviations, that the rule may revert:
#: it is meant for a network's small off-support outputs; a longer move
#: into a sparse tail is deliberate and stays.
GAP_MOVE_STDS = 1.0


def _support(column):
    """Return the sorted distinct values a number takes in the training rows.

    At most :data:`SUPPORT_VALUES`, evenly spaced in rank (each a training
    value; a feature with more distinct values then counts a move as
    reaching none when it passes fewer than about one in 10,000 of them);
    missing values are left out.
    """
    values = np.unique(pd.to_numeric(column, errors="coerce").astype(float).dropna())
    if len(values) > SUPPORT_VALUES:
        values = values[np.linspace(0, len(values) - 1, SUPPORT_VALUES).astype(int)]
    return values


def _kind_of_values(dtype):
    """Return ``"text"``, ``"number"`` or ``None`` (booleans, dates, ...)."""
    if pd.api.types.is_bool_dtype(dtype):
        return None
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        return "text"
    return None


def _rows(count):
    """Return ``"1 row"`` or ``"N rows"``."""
    return f"{count} row{'s' if count != 1 else ''}"


def _reaches_no_training_value(before, after, support):
    """Flag moves that pass no value the training rows hold.

    Up, no training value lies in ``(before, after]``; down, none in
    ``[after, before)``. In rank terms such a number did not move: Capital
    Loss 0 -> 29 on Adult, whose smallest loss after 0 is 155.
    """
    up = np.searchsorted(support, after, "right") - np.searchsorted(
        support, before, "right"
    )
    down = np.searchsorted(support, before, "left") - np.searchsorted(
        support, after, "left"
    )
    return ((after > before) & (up == 0)) | ((after < before) & (down == 0))


def _nearest_held_value(value, before, after, support):
    """Move each value to the nearest held value between ``before`` and ``after``.

    Held values are the training values ``support`` and the move's own two
    ends (the original's number and the counterfactual's).

    Parameters
    ----------
    value, before, after : numpy.ndarray of float, shape (n,)
        Shortened numbers and the ends of each move.
    support : numpy.ndarray of float
        Sorted training values (:func:`_support`).

    Returns
    -------
    numpy.ndarray of float, shape (n,)
    """
    low, high = np.minimum(before, after), np.maximum(before, after)
    right = np.clip(np.searchsorted(support, value), 0, len(support) - 1)
    left = np.clip(right - 1, 0, len(support) - 1)
    candidates = np.stack([support[left], support[right], before, after], axis=1)
    inside = (candidates >= low[:, None]) & (candidates <= high[:, None])
    distance = np.where(inside, np.abs(candidates - value[:, None]), np.inf)
    return candidates[np.arange(len(value)), distance.argmin(axis=1)]


def _give_back(rows, originals, label, where):
    """Give ``rows[label]`` the originals' values where ``where`` holds, in place.

    By position, through the column's own (maybe nullable) dtype.
    """
    after = rows[label]
    rows[label] = pd.Series(
        np.where(where, originals[label].to_numpy(), after.to_numpy()),
        index=after.index,
    ).astype(after.dtype)


def _decimals(values, dtype):
    """Return the fewest decimals (0 to 6) that hold the values, or None.

    A float feature whose training values have ``d`` decimals or fewer
    (whole amounts stored as floats, prices in cents) gets counterfactuals
    at that precision, as the decoder gives integer features integers. Up
    to :data:`ODD_PRECISION_SHARE` of the values may have more: one
    ``9.899999`` among values of one or two decimals (a data-entry
    artefact, as in scikit-learn's wine data) does not make every
    counterfactual of the feature carry six. Integer and boolean features,
    and floats of finer precision, get None.
    """
    if not pd.api.types.is_float_dtype(dtype):
        return None
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    eps = np.finfo(getattr(dtype, "numpy_dtype", dtype)).eps
    tolerance = 4 * eps * np.maximum(1.0, np.abs(values))
    allowed = int(ODD_PRECISION_SHARE * len(values))
    for decimals in range(MAX_DECIMALS + 1):
        odd = np.abs(np.round(values, decimals) - values) > tolerance
        if odd.sum() <= allowed:
            return decimals
    return None


def _flag_values(values, dtype):
    """Return a float feature's two training values, or None.

    A float column holding exactly two distinct values is a flag or a
    two-valued code stored as floats (scikit-learn's diabetes data keeps
    ``sex`` as two standardised values): its counterfactuals take one of
    the two, as an integer 0/1 flag stays 0 or 1, rather than a value
    between them that no row has. Other features (integers, booleans,
    floats with one value or with three or more) get None.
    """
    if not pd.api.types.is_float_dtype(dtype):
        return None
    values = np.asarray(values, dtype=np.float64)
    distinct = np.unique(values[np.isfinite(values)])
    return (float(distinct[0]), float(distinct[1])) if len(distinct) == 2 else None


#: Rows read when looking for one-hot blocks (:func:`one_hot_blocks`).
ONE_HOT_CHECK_ROWS = 10_000


def one_hot_blocks(rows, numerical_features):
    """Return the runs of adjacent numeric columns that look one-hot encoded.

    A run is two or more adjacent numeric columns holding only 0 and 1
    whose sum is exactly 1 in every row (of the first
    :data:`ONE_HOT_CHECK_ROWS`): what a one-hot encoder writes for one
    category. A ``drop="first"`` encoding (rows of all zeros) is not caught.

    Parameters
    ----------
    rows : pandas.DataFrame
        The table, in its column order.
    numerical_features : list
        Labels of its numeric columns.

    Returns
    -------
    list of list
        The labels of each run, in column order.
    """
    numerical = set(numerical_features)
    sample = rows.iloc[:ONE_HOT_CHECK_ROWS]
    binary = []
    for label in rows.columns:
        column = None
        if label in numerical:
            values = sample[label].to_numpy(dtype=float)
            if np.isin(values, (0.0, 1.0)).all():
                column = values
        binary.append(column)
    blocks, start = [], 0
    while start < len(binary):
        total = binary[start]
        end = start
        while total is not None and end + 1 < len(binary):
            if binary[end + 1] is None or (total + binary[end + 1] > 1).any():
                break
            end += 1
            total = total + binary[end]
        if end > start and (total == 1).all():
            blocks.append(list(rows.columns[start : end + 1]))
            start = end + 1
        else:
            start += 1
    return blocks


def _warn_of_one_hot_blocks(rows, numerical_features):
    """Warn when ``fit`` is given what looks like one-hot encoded categories."""
    blocks = one_hot_blocks(rows, numerical_features)
    if not blocks:
        return
    shown = ", ".join(
        f"{block[0]!r} ... {block[-1]!r} ({len(block)} columns)" for block in blocks[:3]
    )
    more = f" and {len(blocks) - 3} more" if len(blocks) > 3 else ""
    warnings.warn(
        f"columns {shown}{more} hold a single 1 per row, as one-hot encoded "
        "categories do; the explainer reads each column as a number, so a "
        "counterfactual can set two of them or none. Fit on the table before "
        "encoding, with a predict_fn that encodes it (e.g. a Pipeline of the "
        "fitted encoder and the model); see 'A model trained on encoded "
        "arrays' in the user guide",
        EncodedCategoriesWarning,
        stacklevel=user_stacklevel(),
    )


#: Kinds of values (``pandas.api.types.infer_dtype``) that make an
#: ``object`` column's values numbers.
_NUMBER_KINDS = ("integer", "floating", "mixed-integer-float", "decimal")


def _warn_of_numbers_as_text(rows, numerical_features):
    """Warn when ``fit`` reads an ``object`` column of numbers as a category.

    Returns the names of the columns it warned of.
    """
    numerical = set(numerical_features)
    found = [
        name
        for name in rows.columns
        if name not in numerical
        and rows[name].dtype == object
        and pd.api.types.infer_dtype(rows[name], skipna=True) in _NUMBER_KINDS
    ]
    if not found:
        return found
    shown = ", ".join(f"{name!r} ({rows[name].nunique()} values)" for name in found[:3])
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    example = found[0]
    warnings.warn(
        f"columns {shown}{more} have dtype object but hold only numbers; they "
        "are read as categories, so a counterfactual can only give them a "
        "value the training rows hold. To explain a number as a number, "
        f"convert it: X[{example!r}] = pd.to_numeric(X[{example!r}]) (in the "
        "data the model is fitted on too); to keep it a category, say so "
        f"with X[{example!r}].astype('category')",
        NumbersAsTextWarning,
        stacklevel=user_stacklevel(),
    )
    return found


#: A category column with at least this many distinct values, and more
#: than half as many as training rows, looks like an identifier.
_IDENTIFIER_MIN_VALUES = 20


def _numbers_as_text(column):
    """Whether a text column's values all read as numbers (``"02134"``)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return False
    return bool(pd.to_numeric(column, errors="coerce").notna().all())


def _warn_of_high_cardinality(rows, one_hot_widths, *, input_is_frame, skip=()):
    """Warn when ``fit`` one-hot encodes a category column with nearly a value per row.

    Such a column is usually an identifier the model does not read; its
    encoding can outweigh all the other features together (see
    :class:`~cfexplain.HighCardinalityWarning`). ``one_hot_widths`` maps
    each category column to its number of one-hot inputs, as the encoder
    made them (a ``category`` column's unused categories included).
    Columns in ``skip`` (numbers stored as text, already warned of) are
    left out.
    """
    n_rows = len(rows)
    found = {
        name: width
        for name, width in one_hot_widths.items()
        if name not in skip and width >= _IDENTIFIER_MIN_VALUES and 2 * width > n_rows
    }
    if not found:
        return
    names = list(found)
    used = {name: rows[name].nunique(dropna=True) for name in names}
    unused = [name for name in names if used[name] < found[name]]
    shown = ", ".join(
        f"{name!r} ({found[name]} categories, {used[name]} used)"
        if name in unused
        else f"{name!r} ({found[name]} values)"
        for name in names[:3]
    )
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    one = len(names) == 1
    it = "it" if one else "them"
    if input_is_frame:
        dropped = ", ".join(repr(name) for name in names)
        without = (
            f"fit and explain on X.drop(columns=[{dropped}]) (a Pipeline whose "
            f"ColumnTransformer leaves {it} out accepts such rows) and join {it} "
            "back by index"
        )
    else:
        positions = [list(rows.columns).index(name) for name in names]
        without = (
            f"fit and explain on np.delete(X, {positions}, axis=1) (the model "
            f"then needs a predict_fn that reads the array without {it})"
        )
    fixes = [f"If the model does not read {it}, {without}"]
    if unused:
        # The encoder makes an input of every declared category.
        fixes.append(
            f"unused categories count too: X[{unused[0]!r}] = "
            f"X[{unused[0]!r}].cat.remove_unused_categories() drops them"
        )
    if any(_numbers_as_text(rows[name]) for name in names):
        fixes.append(
            "numbers written as text that the model reads as numbers take pd.to_numeric"
        )
    warnings.warn(
        f"{'category column' if one else 'category columns'} {shown}{more} "
        f"{'has' if one else 'have'} at least {_IDENTIFIER_MIN_VALUES} values "
        f"and more than half as many as the {n_rows} training rows, as "
        "identifiers do; each value becomes a generator input, which slows "
        f"fit, and a counterfactual can only give {it} another training row's "
        f"value. {'; '.join(fixes)}",
        HighCardinalityWarning,
        stacklevel=user_stacklevel(),
    )


def _differs(a, b) -> bool:
    if isinstance(a, (float, np.floating)) or isinstance(b, (float, np.floating)):
        return not np.isclose(float(a), float(b), rtol=1e-9, atol=1e-12)
    return a != b


class TabularAdapter(ModalityAdapter):
    """Tables: one row per instance, named features of mixed types.

    Rows travel as DataFrames (arrays given by the user are wrapped with the
    encoder's names ``x0, x1, ...`` and unwrapped on the way out). Encoding is
    :class:`~cfexplain.preprocessing.TabularEncoder`'s; constraints are
    per-feature (``immutable``, ``bounds``, ``monotonic``); negligible numeric
    changes are measured in training standard deviations.

    Attributes
    ----------
    encoder_ : TabularEncoder
    feature_names_ : list
        Feature names: the user's column labels (any hashable), or
        ``x0, x1, ...`` for arrays.
    numerical_features_ : list
        Those of them that are numerical.
    numeric_std_ : dict
        Training standard deviation of each numerical feature.
    feature_of_column_ : numpy.ndarray of int
        Original feature of each encoded column.
    input_is_frame_ : bool
        Whether ``fit`` was given a DataFrame.
    """

    name = "tabular"
    learns_frozen_masks = True
    training_row_path = "features"

    def check_input(self, estimator, X, *, reset):
        """Validate a table with scikit-learn's ``validate_data``.

        See :meth:`ModalityAdapter.check_input`.
        """
        if isinstance(X, pd.Series):
            # Most often one row taken with X.iloc[i]; scikit-learn's own
            # message (and its feature-name warning first) does not say so.
            raise InvalidDataError(
                "X is a pandas Series, but rows are explained as a 2-D table; "
                "for one row, take it as a one-row DataFrame: X.iloc[[i]] or "
                "X.loc[[label]] (double brackets), or row.to_frame().T"
            )
        fitted_on_array = not reset and not getattr(self, "input_is_frame_", True)
        if isinstance(X, pd.DataFrame) and not fitted_on_array:
            if isinstance(X.columns, pd.MultiIndex):
                raise InvalidDataError(
                    "X has MultiIndex columns; flatten them to one name per "
                    "column first, e.g. X.columns = ['_'.join(map(str, c)) for c "
                    "in X.columns], and give the model the same names"
                )
            try:
                validate_data(estimator, X, reset=reset, skip_check_array=True)
            except (TypeError, ValueError) as exc:
                # scikit-learn's rule for column names (all strings, or none
                # kept) and its messages, e.g. for names of mixed types.
                message = str(exc)
                fitted = getattr(self, "feature_names_", None)
                if not reset and fitted is not None and set(X.columns) == set(fitted):
                    message += (
                        "\nThe columns are those of fit in another order: pass "
                        "X[explainer.feature_names_in_]."
                    )
                raise InvalidDataError(message) from exc
            if len(X) == 0:
                raise InvalidDataError("X has 0 samples; at least one is required")
            if reset:
                self.input_is_frame_ = True
                names = list(X.columns)
                repeated = [n for i, n in enumerate(names) if n in names[:i]]
                if repeated:
                    raise InvalidDataError(
                        f"X has repeated column names {repeated!r}; column names "
                        "must be unique"
                    )
            elif self.input_is_frame_ and list(X.columns) != self.feature_names_:
                # scikit-learn checks string names only; any other names
                # (integers, ...) are checked here, with the same rule.
                raise InvalidDataError(
                    f"X has the columns {list(X.columns)!r}, but fit saw "
                    f"{self.feature_names_!r}; pass the columns of fit, in the "
                    "same order"
                )
            return X if reset else self._as_fitted_categories(X)
        # A DataFrame given to an explainer fitted on an array is read by
        # position, as scikit-learn's estimators read it (after their
        # warning that fit saw no feature names): see as_fitted_type.
        try:
            array = validate_data(
                estimator, X, reset=reset, dtype=None, ensure_all_finite=False
            )
        except ValueError as exc:
            raise InvalidDataError(str(exc)) from exc
        if reset:
            self.input_is_frame_ = False
        elif self.input_is_frame_:
            # Fitted on a DataFrame, given an array: rebuild the frame.
            return pd.DataFrame(array, columns=self.feature_names_).astype(
                dict(zip(self.feature_names_, self.feature_dtypes_, strict=True))
            )
        return array

    def _as_fitted_categories(self, X):
        """Return ``X`` with columns fitted as ``category`` columns made so.

        A frame read back from a CSV file holds text (or integer codes)
        where ``fit`` saw categories, and a model trained on categories
        (XGBoost's ``enable_categorical``, HistGradientBoosting's
        ``from_dtype``) refuses them; the model is called in the format
        ``fit`` saw. Only values of the categories' kind (text for text,
        numbers for numbers) are cast. Values
        outside the fitted categories are added to the column's, so that the
        encoder names them as categories it did not see.
        """
        fitted = getattr(self, "feature_dtypes_", None)
        if fitted is None:
            return X
        casts = {}
        for name, dtype in fitted.items():
            given = X[name].dtype
            if not isinstance(dtype, pd.CategoricalDtype) or isinstance(
                given, pd.CategoricalDtype
            ):
                continue
            if _kind_of_values(given) != _kind_of_values(dtype.categories.dtype):
                continue  # text for integer codes: no value is a category
            if X[name].isna().any():
                # Left as given, so that the encoder's refusal of missing
                # values suggests a fix for the user's own column (a text
                # column has no .cat.add_categories).
                continue
            unseen = pd.Index(X[name].dropna().unique()).difference(dtype.categories)
            casts[name] = (
                dtype
                if unseen.empty
                else pd.CategoricalDtype(
                    dtype.categories.append(unseen), ordered=dtype.ordered
                )
            )
        return X.astype(casts) if casts else X

    def as_rows(self, X_checked):
        """Return checked input as a DataFrame (arrays get the names ``x0, ...``).

        The columns of an object array take the dtypes their values have
        (``infer_objects``), as the encoder reads them: integers stay whole
        numbers and floats keep their training values' decimals
        (:meth:`at_data_precision`), instead of coming back as floats of any
        precision.
        """
        if isinstance(X_checked, pd.DataFrame):
            return X_checked
        rows = pd.DataFrame(X_checked, columns=self.feature_names_)
        if X_checked.dtype == object:
            rows = rows.infer_objects()
        return rows

    def make_encoder(self, random_state):
        """Return a :class:`~cfexplain.preprocessing.TabularEncoder`."""
        return TabularEncoder(random_state=random_state)

    def fit(self, X_checked, encoder):
        """Store the encoder, the feature names and the numeric spreads.

        Features are named by the user's own column labels (any hashable:
        strings, integers, ...), by position; the encoder's string names
        (``str(label)``) stay inside the encoder.
        """
        self.encoder_ = encoder
        encoder_names = list(encoder.layout_.features)
        if self.input_is_frame_:
            self.feature_names_ = list(X_checked.columns)
            self.feature_dtypes_ = X_checked.dtypes.copy()
        else:
            self.feature_names_ = encoder_names
        label_of = dict(zip(encoder_names, self.feature_names_, strict=True))
        self.numerical_features_ = [label_of[n] for n in encoder.numerical_features_]
        rows = self.as_rows(X_checked)
        _warn_of_one_hot_blocks(rows, self.numerical_features_)
        as_text = _warn_of_numbers_as_text(rows, self.numerical_features_)
        one_hot_widths = {
            label_of[span.feature]: span.width
            for span in encoder.layout_.spans
            if span.kind == CATEGORY
        }
        _warn_of_high_cardinality(
            rows, one_hot_widths, input_is_frame=self.input_is_frame_, skip=as_text
        )
        self.numeric_std_ = {
            label: float(np.nan_to_num(rows[label].astype(float).std()))
            for label in self.numerical_features_
        }
        self.numeric_decimals_ = {
            label: _decimals(rows[label], rows[label].dtype)
            for label in self.numerical_features_
        }
        self.numeric_support_ = {
            label: _support(rows[label]) for label in self.numerical_features_
        }
        self.numeric_flag_values_ = {
            label: _flag_values(rows[label], rows[label].dtype)
            for label in self.numerical_features_
        }
        feature_of_column = np.empty(encoder.layout_.n_columns, dtype=np.int64)
        for span in encoder.layout_.spans:
            feature_of_column[span.start : span.stop] = encoder_names.index(
                span.feature
            )
        self.feature_of_column_ = feature_of_column
        categories = [
            len(encoder.categories_[name]) for name in encoder.categorical_features_
        ]
        self.category_pairs_ = None
        # Numbers pair with categories through ranges of their values.
        self.number_range_edges_ = [
            number_range_edges(rows[label].astype(float))
            for label in self.numerical_features_
        ]
        # In the order of numerical_features_ (both follow the columns).
        self.number_decodings_ = encoder.numeric_decodings()
        sizes = categories + [len(e) + 1 for e in self.number_range_edges_]
        if categories and len(sizes) >= 2:
            self.category_pairs_ = CategoryPairs(
                self._keys_of_rows(rows),
                sizes,
                numeric_columns=range(len(categories), len(sizes)),
            )
        return self

    def _number_edges(self):
        """Return the number ranges' edges (none for explainers fitted before them)."""
        return getattr(self, "number_range_edges_", None) or []

    def _keys_of_rows(self, rows):
        """Return the plausibility keys of rows in the user's format.

        Each categorical feature's category position, then each number's
        range (:func:`~cfexplain._plausibility.number_range_edges`).
        """
        codes = self.encoder_.category_codes(self.in_fit_format(rows))
        edges = self._number_edges()
        if not edges:
            return codes
        frame = self.as_rows(rows)
        ranges = [
            np.searchsorted(e, frame[label].astype("float64").to_numpy(), side="right")
            for label, e in zip(self.numerical_features_, edges, strict=True)
        ]
        return np.column_stack([codes, *ranges]).astype(np.int64)

    def plausibility_keys(self, Xt):
        """Return the rows' category codes, or ``None`` with no pair to check.

        Read off the encoding the engine already made (each category's
        one-hot block, in the order of ``categorical_features_``), rather
        than looked up in the rows again. Tables fit before the check
        existed have no ``category_pairs_`` and check nothing.
        """
        pairs = getattr(self, "category_pairs_", None)
        if pairs is None or not pairs.pairs_:
            return None
        Xt = np.asarray(Xt)
        spans = {span.feature: span for span in self.encoder_.layout_.spans}
        blocks = [spans[name] for name in self.encoder_.categorical_features_]
        keys = [Xt[:, b.start : b.stop].argmax(axis=1) for b in blocks]
        edges = self._number_edges()
        if edges:
            # A number's value read off its encoding (float32: the edges
            # lie halfway between training values, far from its rounding).
            for decoding, e in zip(self.number_decodings_, edges, strict=True):
                keys.append(np.searchsorted(e, decoding.values(Xt), side="right"))
        return np.column_stack(keys).astype(np.int64)

    def implausible_keys(self, keys):
        """Flag rows holding a pair of categories the training rows lack.

        Training rows can: a pair held in under 1 % of the rows its
        categories' frequencies predict counts as lacking (Adult's 14 such
        rows of 26,048 are data-entry errors such as a male "Wife").
        """
        return self.category_pairs_.holds_unseen(keys)

    def plausible_reverts(self, original_keys, originals, counterfactuals):
        """Give back the categories that bring in a pair the training rows lack.

        For each counterfactual holding such pairs, one candidate with all
        the categories a change brought into them given their original
        values back, then one per such category alone (the sparsest first).
        Frozen categories never changed, so they are never among them. See
        :meth:`ModalityAdapter.plausible_reverts`.
        """
        pairs = getattr(self, "category_pairs_", None)
        if pairs is None or not pairs.pairs_:
            return None
        sides = pairs.introduced_sides(
            original_keys, self._keys_of_rows(counterfactuals)
        )
        holding = np.flatnonzero(sides.any(axis=1))
        if not len(holding):
            return None
        owner, feature = np.nonzero(sides[holding])
        revert = np.zeros((len(owner), sides.shape[1]), dtype=bool)
        revert[np.arange(len(owner)), feature] = True
        several = np.flatnonzero(sides[holding].sum(axis=1) > 1)
        owner = np.concatenate([holding[owner], holding[several]])
        revert = np.concatenate([revert, sides[holding[several]]])
        # Candidates of one counterfactual together, those giving back the
        # most categories first: accepted, they change the fewest features.
        order = np.lexsort((-revert.sum(axis=1), owner))
        owner, revert = owner[order], revert[order]
        label_of = dict(
            zip(self.encoder_.layout_.features, self.feature_names_, strict=True)
        )
        labels = [label_of[n] for n in self.encoder_.categorical_features_]
        labels += self.numerical_features_[: len(self._number_edges())]
        candidates = counterfactuals.iloc[owner].copy()
        before = originals.iloc[owner]
        for column, label in enumerate(labels):
            if revert[:, column].any():
                _give_back(candidates, before, label, revert[:, column])
        return owner, candidates

    def introduced_implausibility(self, original_keys, counterfactuals):
        """Flag counterfactuals holding a pair of categories the training rows lack.

        Pairs the original already holds do not count (see
        :mod:`cfexplain._plausibility`).
        """
        return self.category_pairs_.introduced_unseen(
            original_keys, self._keys_of_rows(counterfactuals)
        )

    def loss_arguments(self):
        """Return how numbers decode and their spreads, for the sparsity loss.

        The loss then measures numbers in training standard deviations.
        """
        return {
            "numeric_decodings": self.encoder_.numeric_decodings(),
            "numeric_stds": tuple(self.numeric_std_.values()),
        }

    # -- rows --------------------------------------------------------------------------

    @staticmethod
    def take_rows(rows, positions):
        """Select rows of a frame by position, as a frame of their own.

        Selecting by positions copies the values; without copy-on-write
        (pandas 2) the selection still remembers its source, and setting a
        column of it later (as the repairs do) warns
        ``SettingWithCopyWarning`` to the user for nothing. A shallow copy
        forgets the source without copying the values again; a slice, which
        selects a view, is copied in full.
        """
        if isinstance(positions, slice):
            return rows.iloc[positions].copy()
        return rows.iloc[positions].copy(deep=False)

    @staticmethod
    def equal_rows(rows, other):
        """Flag the rows of two frames that hold the same values, by position.

        Column by column, as pandas compares values (an integer equals the
        same float; a missing value equals nothing).
        """
        same = np.ones(len(rows), dtype=bool)
        for left, right in zip(rows.columns, other.columns, strict=True):
            a = rows[left].reset_index(drop=True)
            b = other[right].reset_index(drop=True)
            if isinstance(a.dtype, pd.CategoricalDtype) or isinstance(
                b.dtype, pd.CategoricalDtype
            ):
                # Categoricals compare only with the same categories.
                a, b = a.astype(object), b.astype(object)
            try:
                equal = a.eq(b).fillna(False).to_numpy(dtype=bool)
            except TypeError:  # values that do not compare are not equal
                equal = np.zeros(len(a), dtype=bool)
            same &= equal
        return same

    @staticmethod
    def stack_rows(parts):
        """Concatenate frames."""
        return pd.concat(parts)

    @staticmethod
    def renumber(rows):
        """Return the frame numbered ``0..n-1``."""
        return rows.reset_index(drop=True)

    def in_fit_format(self, rows):
        """Return the frame, or its array when ``fit`` was given an array."""
        return rows if self.input_is_frame_ else rows.to_numpy()

    def as_fitted_type(self, estimator, X):
        """Return a DataFrame given to an explainer fitted on an array as an array.

        Read by position, as scikit-learn's estimators read it, after their
        warning that ``fit`` saw no feature names; the answers then come
        back as the array they answer, in its type, index and all
        (``explain``'s frames included). Anything else is returned as it
        is.
        """
        if isinstance(X, pd.DataFrame) and not self.input_is_frame_:
            return self.check_input(estimator, X, reset=False)
        return X

    def to_user(self, X, rows):
        """Return rows in the type and dtypes of ``X``.

        A DataFrame comes back with ``X``'s dtypes, column by column (see
        :func:`~cfexplain.preprocessing._tabular_encoder.cast_columns`); an
        array with ``X``'s dtype.
        """
        if not isinstance(rows, pd.DataFrame):
            return rows
        if isinstance(X, pd.DataFrame):
            return cast_columns(rows, X.dtypes)
        dtype = getattr(X, "dtype", None)
        if dtype is not None and dtype.kind in "biuf":
            return cast_columns(
                rows, pd.Series([dtype] * rows.shape[1], dtype=object)
            ).to_numpy(dtype=dtype)
        return rows.to_numpy()

    def decode(self, Xt, originals):
        """Decode with the encoder, indexed like ``originals``, in its dtypes.

        The encoder rebuilds the dtypes of ``fit``; the originals may hold
        the same features in other dtypes (a float column fitted as
        integers), and every later step (reverting, constraints, the
        model) sees the originals' own.
        """
        decoded = self.encoder_.inverse_transform(Xt, index=originals.index)
        if isinstance(decoded, np.ndarray):
            # Fitted on an array: the encoder decodes to arrays.
            decoded = pd.DataFrame(
                decoded, columns=self.feature_names_, index=originals.index
            )
        return self.at_data_precision(
            originals, cast_columns(decoded, originals.dtypes)
        )

    @staticmethod
    def mix_rows(originals, donors, take):
        """Return the originals with the donors' values of the flagged features.

        The candidates of a training-row path (an original taking a training
        row's values feature by feature) built in the user's format: no
        decoding, so that a copied value is the donor's exactly and a kept
        one the original's. On a 200,000-row table of 23 features with a
        gradient-boosting pipeline, decoding those candidates took about
        40 % of transform.

        Parameters
        ----------
        originals : pandas.DataFrame of shape (n, n_features)
            The rows the candidates start from.
        donors : pandas.DataFrame of shape (n, n_features)
            The rows whose values are copied (training rows, answers), in
            the same feature order; their index is ignored.
        take : numpy.ndarray of bool, shape (n, n_features)
            Which features each candidate copies.

        Returns
        -------
        pandas.DataFrame of shape (n, n_features)
            Indexed like ``originals`` and in their dtypes (see
            :func:`~cfexplain.preprocessing._tabular_encoder.cast_columns`;
            a ``category`` column gains the donors' values it lacks).
        """
        donors = cast_columns(donors, originals.dtypes).set_axis(
            originals.columns, axis=1
        )
        # Both stacked once; each column then gathers its values by position
        # with its own array's take (no round trip of Arrow-backed strings
        # through Python objects).
        n = len(originals)
        stacked = pd.concat([originals, donors], ignore_index=True)
        own = np.arange(n)
        columns = {
            j: stacked.iloc[:, j].array.take(np.where(take[:, j], own + n, own))
            for j in range(originals.shape[1])
        }
        mixed = pd.DataFrame(columns, index=originals.index)
        mixed.columns = originals.columns
        # A category column the donors widened stacks as objects: it takes
        # the originals' categories back, and the copied values it lacks.
        return cast_columns(mixed, originals.dtypes)

    def at_data_precision(self, originals, counterfactuals):
        """Round float features to the decimals of their training values.

        A value within half a step of that precision from the original is
        the original: a change finer than the data's own precision is no
        change. A float feature with two training values
        (:func:`_flag_values`) takes the nearer of the two where the
        original holds one of them. Modified in place and returned.
        """
        # Fitted before flags were read: no feature is one.
        for name, flag in getattr(self, "numeric_flag_values_", {}).items():
            column = counterfactuals[name]
            if flag is None or not pd.api.types.is_float_dtype(column.dtype):
                continue
            values = column.to_numpy(dtype=float)
            before = originals[name].to_numpy(dtype=float)
            low, high = flag
            nearer = np.where(np.abs(values - low) <= np.abs(values - high), low, high)
            # Only an original holding one of the two takes one: a new
            # row's third value (and the decoder's float32 noise around it)
            # is left to the reverting of negligible changes; a missing
            # value stays missing.
            kept = (values == before) | np.isnan(values) | ~np.isin(before, flag)
            snapped = np.where(kept, values, nearer)
            counterfactuals[name] = pd.Series(snapped, index=column.index).astype(
                column.dtype
            )
        for name, decimals in getattr(self, "numeric_decimals_", {}).items():
            column = counterfactuals[name]
            if decimals is None or not pd.api.types.is_float_dtype(column.dtype):
                continue
            values = column.to_numpy(dtype=float)
            before = originals[name].to_numpy(dtype=float)
            same = np.abs(values - before) <= 0.5 * 10.0**-decimals
            values = np.where(same, before, np.round(values, decimals))
            counterfactuals[name] = pd.Series(values, index=column.index).astype(
                column.dtype
            )
        return counterfactuals

    # -- constraints and clean-up ------------------------------------------------------

    def parse_constraints(self, immutable, bounds, monotonic):
        """Parse per-feature constraints (see :mod:`cfexplain._constraints`).

        Features fitted as an ordered ``category`` dtype may be monotone, in
        the order of their categories.
        """
        dtypes = getattr(self, "feature_dtypes_", None)  # None for arrays
        orders = {
            name: list(dtype.categories)
            for name, dtype in ({} if dtypes is None else dtypes.items())
            if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered
        }
        return parse_constraints(
            immutable,
            bounds,
            monotonic,
            feature_names=self.feature_names_,
            numerical_features=self.numerical_features_,
            category_orders=orders,
        )

    def keep_unmoved_values(self, originals, counterfactuals, unmoved_columns):
        """Give numbers whose encoding a candidate kept their original value.

        Categories and integers decode exactly; floats (also in an object
        column of an array) only to float32 precision. See
        :meth:`ModalityAdapter.keep_unmoved_values`.
        """
        position_of = {name: j for j, name in enumerate(self.feature_names_)}
        for name in self.numerical_features_:
            after = counterfactuals[name]
            if pd.api.types.is_integer_dtype(after.dtype) or pd.api.types.is_bool_dtype(
                after.dtype
            ):
                continue
            columns = self.feature_of_column_ == position_of[name]
            unmoved = unmoved_columns[:, columns].all(axis=1)
            before_values = originals[name].to_numpy(dtype=float)
            after_values = after.to_numpy(dtype=float)
            restore = unmoved & (before_values != after_values)
            if restore.any():
                _give_back(counterfactuals, originals, name, restore)

    def revert_negligible_changes(self, originals, counterfactuals, tolerance):
        """Revert numbers that moved at most ``tolerance`` training std's.

        A generator's continuous outputs rarely reproduce a number exactly,
        so a feature the network meant to keep can come out a hair off
        (Capital Loss 1902 -> 1898): reverting makes the counterfactual
        sparser and its explanation readable. A move of at most
        :data:`GAP_MOVE_STDS` training std's that reaches no value the
        training rows hold (:func:`_reaches_no_training_value`) is reverted
        too: in a new-user trial, a quarter of the AE's answers for a
        regression model on 6,000 Adult rows moved Capital Loss from 0 to
        20-39, amounts no training row holds (the smallest non-zero loss
        there is 323), and the model's output was the same without them.
        """
        if not tolerance:
            return
        support = getattr(self, "numeric_support_", {})  # fit before it existed
        for name, std in self.numeric_std_.items():
            before, after = originals[name], counterfactuals[name]
            before_values = before.to_numpy(dtype=float)
            after_values = after.to_numpy(dtype=float)
            moved = np.abs(after_values - before_values)
            negligible = moved <= tolerance * std
            if name in support:
                negligible |= (moved <= GAP_MOVE_STDS * std) & (
                    _reaches_no_training_value(
                        before_values, after_values, support[name]
                    )
                )
            if negligible.any():
                _give_back(counterfactuals, originals, name, negligible)

    def outside_training_range(self, rows):
        """Flag numbers outside ``[min, max]`` of their training values.

        Parameters
        ----------
        rows : pandas.DataFrame of shape (n, n_features)
            Originals, in the adapter's format.

        Returns
        -------
        numpy.ndarray of bool, shape (n, n_numerical), or None
            One column per entry of ``numerical_features_``; ``None`` for a
            fit that kept no training values (older pickles).
        """
        support = getattr(self, "numeric_support_", None)
        if not support:
            return None
        outside = np.zeros((len(rows), len(self.numerical_features_)), dtype=bool)
        for j, name in enumerate(self.numerical_features_):
            held = support.get(name)
            if held is None or not len(held):
                continue
            values = rows[name].to_numpy(dtype=float)
            outside[:, j] = (values < held[0]) | (values > held[-1])
        return outside

    def restore_outside_training_range(self, originals, counterfactuals):
        """Give numbers outside the training range their original value back.

        The decoder answers within ``[min, max]`` of a number's training
        values, so a counterfactual of Age 120 holds at most the oldest
        training age, whether or not the model needs the change; the
        candidate engine keeps these copies where the model accepts them.

        Parameters
        ----------
        originals, counterfactuals : pandas.DataFrame of shape (n, n_features)
            Aligned rows.

        Returns
        -------
        tuple or None
            ``(rows, candidates)``: the positions of the counterfactuals that
            changed such a number, and copies of them holding every such
            number's original value (``None`` where nothing is outside).
        """
        outside = self.outside_training_range(originals)
        if outside is None or not outside.any():
            return None
        restore = {}
        for j, name in enumerate(self.numerical_features_):
            if outside[:, j].any():
                before = originals[name].to_numpy()
                after = counterfactuals[name].to_numpy()
                restore[name] = outside[:, j] & (before != after)
        changed = np.logical_or.reduce(list(restore.values()))
        rows = np.flatnonzero(changed)
        if not len(rows):
            return None
        before = self.take_rows(originals, rows)
        candidates = self.take_rows(counterfactuals, rows)
        for name, where in restore.items():
            _give_back(candidates, before, name, where[rows])
        return rows, candidates

    def describe_outside_training_range(self, outside):
        """Name the features :meth:`outside_training_range` flagged, with their ranges.

        Parameters
        ----------
        outside : numpy.ndarray of bool, shape (n, n_numerical)
            The flags of :meth:`outside_training_range`.

        Returns
        -------
        str
            For instance ``"'age' (2 rows; training values 19 to 75)"``;
            five features at most, then how many more. The ends are written
            exactly (``repr``-short), so a flagged value never seems inside.
        """
        counts = outside.sum(axis=0)
        named = [
            f"{name!r} ({_rows(int(count))}; training values "
            f"{_format_value(self.numeric_support_[name][0], 17)} to "
            f"{_format_value(self.numeric_support_[name][-1], 17)})"
            for name, count in zip(self.numerical_features_, counts, strict=True)
            if count
        ]
        more = f" and {len(named) - 5} more" if len(named) > 5 else ""
        return ", ".join(named[:5]) + more

    def shorten_numeric_moves(self, originals, counterfactuals, keep):
        """Return the counterfactuals with each number moved ``keep`` of its way.

        Every numerical feature becomes ``original + keep * (counterfactual
        - original)``; where it was fitted or is given as integers, rounded,
        then moved to the nearest value between the two that a training row
        holds (or either end; :func:`_nearest_held_value`); booleans and the
        other features are the counterfactual's. The training-row path uses it to
        give back the part of a copied number the model does not need.
        Without the last step, a column of integer codes {11, 22, 33, 44,
        55} came back holding 19, 23, 34 or 36 in 15 of 500 answers, which
        a one-hot encoded model took for valid.

        Parameters
        ----------
        originals, counterfactuals : pandas.DataFrame
            Rows aligned by position, with the same columns.
        keep : float or numpy.ndarray of shape (n,)
            Share of each move kept, in ``[0, 1]``: one for every row, or
            one per row.

        Returns
        -------
        pandas.DataFrame
            A new frame, indexed and typed like ``counterfactuals``.
        """
        shorter = counterfactuals.copy()
        support = getattr(self, "numeric_support_", {})  # fit before it existed
        fitted_dtype = dict(
            zip(self.feature_names_, self.encoder_.dtypes_.values(), strict=True)
        )
        for name in self.numeric_std_:
            column = counterfactuals[name]
            dtypes = (fitted_dtype[name], column.dtype)
            if any(pd.api.types.is_bool_dtype(d) for d in dtypes):
                continue  # a flag moves all the way or not at all
            before = originals[name].to_numpy(dtype=float)
            after = column.to_numpy(dtype=float)
            value = before + keep * (after - before)
            # Integers stay integers, as the decoder gives them, even in a
            # float column (a feature fitted as integers).
            if any(pd.api.types.is_integer_dtype(d) for d in dtypes):
                value = np.round(value)
                # Integers may be codes: only values rows hold. (Floats are
                # not snapped: two answers shortened from different
                # neighbours would often meet on one training value.)
                if len(support.get(name, ())):
                    value = _nearest_held_value(value, before, after, support[name])
            shorter[name] = pd.Series(value, index=column.index).astype(column.dtype)
        return self.at_data_precision(originals, shorter)

    # -- reading the result ------------------------------------------------------------

    @staticmethod
    def changed_features(original, counterfactual):
        """Return which features differ between two aligned frames.

        Parameters
        ----------
        original, counterfactual : pandas.DataFrame
            Rows aligned by position, with the same columns.

        Returns
        -------
        numpy.ndarray of bool, shape (n_rows, n_features)
        """
        before = original.to_numpy(dtype=object)
        after = counterfactual.to_numpy(dtype=object)
        return np.array(
            [
                [_differs(a, b) for a, b in zip(rb, ra, strict=True)]
                for rb, ra in zip(before, after, strict=True)
            ],
            dtype=bool,
        ).reshape(before.shape)

    @staticmethod
    def describe_changes(original, counterfactual):
        """List the changed features of each row as ``"Age: 25 -> 39"``.

        Parameters
        ----------
        original, counterfactual : pandas.DataFrame
            Rows aligned by position, with the same columns.

        Returns
        -------
        list of list of str
            For each row, one string per changed feature, in column order.
        """
        columns = list(original.columns)
        changed = TabularAdapter.changed_features(original, counterfactual)
        before = original.to_numpy(dtype=object)
        after = counterfactual.to_numpy(dtype=object)
        return [
            [
                f"{columns[j]}: {_format_change(before[i, j], after[i, j])}"
                for j in np.flatnonzero(changed[i])
            ]
            for i in range(len(changed))
        ]

    @staticmethod
    def plot(explanation, ax=None):
        """Bar chart of the share of counterfactuals changing each feature."""
        import matplotlib.pyplot as plt

        k = explanation.n_counterfactuals
        originals = explanation.original.iloc[
            np.repeat(np.arange(len(explanation.original)), k)
        ]
        changed = TabularAdapter.changed_features(
            originals, explanation.counterfactuals
        )
        share = pd.Series(changed.mean(axis=0), index=explanation.original.columns)
        if ax is None:
            # Constrained layout widens the left margin for long feature names.
            _, ax = plt.subplots(
                figsize=(6, 0.3 * len(share) + 1), layout="constrained"
            )
        share.sort_values().plot.barh(ax=ax)
        ax.set_xlabel("share of counterfactuals changing the feature")
        ax.set_title(
            f"{explanation.valid.size} counterfactuals, "
            f"{explanation.valid.mean():.0%} valid"
        )
        return ax
