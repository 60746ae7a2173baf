"""The ``cfexplain`` command line.

``cfexplain demo`` trains a classifier on the Adult data shipped with the
package, fits a :class:`~cfexplain.CounterfactualGAN` to explain it, prints a
few counterfactuals as readable changes and the metric report of the test
split. ``cfexplain fit`` fits an explainer for a model saved with joblib on the
rows of a CSV file and pickles it; ``cfexplain explain`` applies a saved
explainer to the rows of a CSV file, read with the column dtypes the explainer
was fitted on.

User errors (a missing file, a value that does not fit its column, a target
the model does not know) end the command with one line ``cfexplain: error:
...`` on standard error and exit status 2; ``--debug`` shows the traceback
instead.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
import warnings

import numpy as np
import pandas as pd
from pandas.api.types import (
    is_bool_dtype,
    is_float_dtype,
    is_integer_dtype,
    is_numeric_dtype,
    is_object_dtype,
    is_string_dtype,
)

from .exceptions import CfexplainError, InvalidDataError, PredictorError
from .explanation import free_name

__all__ = ["build_adult_classifier", "main"]

#: Exit status of a command stopped by a user error (argparse's as well).
USAGE_ERROR = 2
#: Cells read as a missing value in number and boolean columns.
_MISSING = frozenset({"", "na", "n/a", "nan", "-nan", "null", "none", "<na>"})
#: Cells of a boolean column, lower-cased.
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}
_BOOLEANS.update({"1.0": True, "0.0": False})
#: Most decimals written for a float column.
MAX_DECIMALS = 6
#: Significant digits of predicted regression values.
PREDICTION_DIGITS = 4
#: How messages call the file ``-``.
_STDIN = "standard input"
#: The explainers ``cfexplain fit --method`` trains.
METHODS = ("gan", "ae", "cvae")


class CommandError(CfexplainError):
    """A command that cannot run as asked: a missing file, a wrong option."""


# -- the Adult demo --------------------------------------------------------------------


def build_adult_classifier(X, y, random_state=0):
    """Train paper 1's Adult classifier: two hidden layers of 40 ReLU units.

    One-hot encoded categories and standardised numbers feed a multi-layer
    perceptron trained for 5 epochs with Adam at learning rate 1e-3 (paper 1,
    appendix A.3). About 85 % test accuracy.

    Parameters
    ----------
    X : pandas.DataFrame
        Adult features, as returned by :func:`cfexplain.datasets.load_adult`.
    y : array-like
        Income labels.
    random_state : int, default=0
        Seed of the network's initialisation and shuffling.

    Returns
    -------
    sklearn.pipeline.Pipeline
        The fitted classifier, taking DataFrames like ``X``.
    """
    from sklearn.compose import make_column_transformer
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numerical = X.select_dtypes("number").columns.tolist()
    categorical = [c for c in X.columns if c not in numerical]
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), categorical),
            (StandardScaler(), numerical),
        ),
        MLPClassifier(
            hidden_layer_sizes=(40, 40),
            learning_rate_init=1e-3,
            max_iter=5,
            batch_size=128,
            random_state=random_state,
        ),
    )
    with warnings.catch_warnings():
        # Five epochs is the paper's setting, not a convergence failure.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return model


def _plural(count, noun):
    """``"1 epoch"``, ``"2 epochs"``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _step(args, message):
    """Say what comes next, unless ``--quiet``."""
    if not args.quiet:
        print(message, flush=True)


#: Features the demo's counterfactuals keep: an explanation that asks
#: someone to change their race or sex is no advice.
DEMO_IMMUTABLE = ["Race", "Sex"]


def _demo(args) -> int:
    from sklearn.model_selection import train_test_split

    from . import CounterfactualGAN, datasets
    from .metrics import counterfactual_report

    _step(args, "loading the Adult data ...")
    X, y = datasets.load_adult(return_X_y=True)
    if args.sample is not None:
        X = X.sample(n=min(args.sample, len(X)), random_state=args.seed)
        y = y.loc[X.index]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=args.seed
    )
    print(f"Adult: {len(X_train)} training rows, {len(X_test)} test rows", flush=True)
    _step(args, "training the classifier (an MLP, 5 epochs) ...")
    clf = build_adult_classifier(X_train, y_train, random_state=args.seed)
    print(f"classifier test accuracy: {clf.score(X_test, y_test):.3f}", flush=True)

    _step(
        args,
        f"fitting CounterfactualGAN ({_plural(args.epochs, 'epoch')}; "
        f"{' and '.join(DEMO_IMMUTABLE)} immutable) ...",
    )
    explainer = CounterfactualGAN(
        immutable=DEMO_IMMUTABLE,
        max_epochs=args.epochs,
        random_state=args.seed,
        verbose=0 if args.quiet else 1,
    )
    start = time.perf_counter()
    explainer.fit(X_train, predict_fn=clf.predict_proba)
    print(
        f"fitted CounterfactualGAN in {time.perf_counter() - start:.1f} s "
        f"(surrogate agrees with the classifier on "
        f"{explainer.surrogate_.fidelity_:.1%} of held-out rows)",
        flush=True,
    )

    # A small --sample can leave a rare category (an occupation held by a
    # few rows) in the test rows only: the explainer cannot read such rows.
    known = explainer.encoder_.known_category_rows(X_test)
    if not known.all():
        X_test = X_test[known]
        print(
            f"left out {_plural(int((~known).sum()), 'test row')} holding a "
            "category the training rows lack",
            flush=True,
        )
    print(f"\nCounterfactuals of {args.rows} test rows (target: the other class):")
    print(explainer.explain(X_test.iloc[: args.rows]), flush=True)

    print()
    _step(args, f"explaining the {len(X_test)} test rows ...")
    start = time.perf_counter()
    X_cf = explainer.transform(X_test)
    seconds = time.perf_counter() - start
    print(
        f"transform: {len(X_test)} rows in {seconds:.2f} s "
        f"({len(X_test) / seconds:,.0f} rows/s)"
    )
    report = counterfactual_report(
        clf.predict_proba, X_test, X_cf, name="CounterfactualGAN"
    )
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print(report.round(4).to_string(), flush=True)
    return 0


# -- reading CSV files -----------------------------------------------------------------


def _read_text(path, index_col=None, features=None):
    """Read a CSV file with every cell as text.

    Returns the frame of text columns (empty cells are ``""``) and whether a
    column became the index: ``index_col``, or a first column whose header
    cell is empty (pandas calls it ``"Unnamed: 0"``) unless it is one of
    ``features``.
    """
    source, path = (sys.stdin, _STDIN) if path == "-" else (path, path)
    try:
        text = pd.read_csv(source, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise CommandError(f"cannot read {path}: no such file") from None
    except IsADirectoryError:
        raise CommandError(f"cannot read {path}: it is a directory") from None
    except pd.errors.EmptyDataError:
        raise CommandError(f"cannot read {path}: the file is empty") from None
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        reason = " ".join(str(exc).split())
        raise CommandError(f"{path} is not a readable CSV file: {reason}") from exc
    columns = list(text.columns)
    has_index = False
    if index_col is not None:
        if index_col not in columns:
            raise CommandError(
                f"--index-col {index_col!r} is not a column of {path} "
                f"(columns: {_names(columns)})"
            )
        if features is not None and index_col in features:
            raise CommandError(
                f"--index-col {index_col!r} is a feature of the explainer, not an index"
            )
        text = text.set_index(index_col)
        has_index = True
    elif columns and columns[0] == "Unnamed: 0" and columns[0] not in (features or ()):
        text = text.set_index(columns[0])
        text.index.name = None
        has_index = True
    if len(text) == 0:
        raise CommandError(f"{path} has a header but no rows")
    return text, has_index


def _names(names, limit=12):
    """Quote names for a message, at most ``limit`` of them."""
    quoted = [repr(str(name)) for name in names]
    if len(quoted) > limit:
        quoted = [*quoted[:limit], f"... ({len(quoted) - limit} more)"]
    return ", ".join(quoted)


def _bad_cell(path, column, text, position, problem):
    """Return the error of one cell: its column, line and value."""
    # Line 1 is the header.
    line = position + 2
    where = f"line {line}"
    label = text.index[position]
    if not isinstance(text.index, pd.RangeIndex):
        where += f" (row {label!r})"
    value = text.iloc[position]
    return InvalidDataError(
        f"{path}: column {str(column)!r}, {where}: {value!r} {problem}"
    )


def _first(mask):
    """Position of the first True of a boolean Series or array."""
    return int(np.flatnonzero(np.asarray(mask))[0])


def _convert(text, dtype, path):
    """Convert a column of text into ``dtype``, the dtype it was fitted with.

    Numbers are parsed and cast (an integer column takes only whole numbers
    in its range), booleans are read from true/false/1/0 in any case,
    categories must be among the fitted categories, string and object columns
    keep their text. A cell that does not fit raises
    :class:`~cfexplain.InvalidDataError` naming its column, line and value.
    """
    column = text.name
    stripped = text.str.strip()
    lower = stripped.str.lower()
    if isinstance(dtype, pd.CategoricalDtype):
        known = {str(category): category for category in dtype.categories}
        unknown = ~stripped.isin(list(known))
        if unknown.any():
            raise _bad_cell(
                path,
                column,
                text,
                _first(unknown),
                f"is not one of the fitted categories {_names(known)}",
            )
        values = pd.Categorical(stripped.map(known), dtype=dtype)
        return pd.Series(values, index=text.index, name=column)
    if is_bool_dtype(dtype):
        unknown = ~lower.isin(list(_BOOLEANS))
        if unknown.any():
            raise _bad_cell(
                path, column, text, _first(unknown), "is not a boolean (True or False)"
            )
        return lower.map(_BOOLEANS).astype(dtype)
    if is_numeric_dtype(dtype):
        missing = lower.isin(_MISSING)
        if missing.any():
            raise _bad_cell(path, column, text, _first(missing), "is a missing value")
        numbers = _to_numbers(stripped)
        wrong = numbers.isna()
        if wrong.any():
            raise _bad_cell(
                path, column, text, _first(wrong), f"is not a number ({dtype})"
            )
        values = numbers.to_numpy(dtype=float)
        infinite = ~np.isfinite(values)
        if infinite.any():
            raise _bad_cell(path, column, text, _first(infinite), "is not finite")
        if is_integer_dtype(dtype):
            # astype would truncate 2.5 and wrap 300 round in a uint8 silently.
            info = np.iinfo(getattr(dtype, "numpy_dtype", dtype))
            wrong = (values != np.round(values)) | (values < info.min)
            wrong |= values > info.max
            if wrong.any():
                raise _bad_cell(
                    path, column, text, _first(wrong), f"is not an integer ({dtype})"
                )
            if not is_integer_dtype(numbers.dtype):
                # Whole numbers written as 3.0 or 1e3.
                numbers = numbers.round().astype(info.dtype)
        return numbers.astype(dtype)
    if is_string_dtype(dtype) or is_object_dtype(dtype):
        return text.astype(dtype)
    try:
        return text.astype(dtype)
    except (TypeError, ValueError) as exc:
        reason = " ".join(str(exc).split())
        raise InvalidDataError(
            f"{path}: cannot read column {str(column)!r} as {dtype}: {reason}"
        ) from exc


def _to_numbers(text):
    """``pd.to_numeric(text, errors="coerce")``, with every float read exactly.

    pandas 2 reads about one float in eight written at full precision one
    unit in the last place off (its fast parser; pandas 3 reads them
    exactly); Python's parser rounds correctly, so the cells it is given
    here read back as the very numbers that were written.
    """
    numbers = pd.to_numeric(text, errors="coerce")
    if not is_float_dtype(numbers.dtype):
        return numbers
    read = numbers.notna().to_numpy()
    if not read.any():
        return numbers
    values = numbers.to_numpy(dtype=float, copy=True)
    try:
        values[read] = np.asarray(text.to_numpy(dtype=object)[read], dtype=float)
    except (TypeError, ValueError):  # a spelling pandas reads and Python not
        return numbers
    return pd.Series(values, index=numbers.index, name=numbers.name)


def _infer(text):
    """Convert a column of text as pandas' CSV reader would by default.

    Numbers become int64 (float64 with missing cells), columns of only
    true/false become bool, anything else keeps its text (empty cells are
    empty strings, not missing values).
    """
    stripped = text.str.strip()
    lower = stripped.str.lower()
    if lower.isin(["true", "false"]).all():
        return lower.eq("true").astype(bool)
    missing = lower.isin(_MISSING)
    numbers = _to_numbers(stripped.where(~missing))
    if not missing.all() and (numbers.notna() | missing).all():
        return numbers
    return text


def _leading_zeros(text):
    """Whether a column of whole numbers writes some with leading zeros."""
    cells = text.str.strip()
    return bool(cells.str.fullmatch(r"0\d+").any())


def _decimals(text):
    """Most decimals written in a column of numbers (0 to :data:`MAX_DECIMALS`).

    ``None`` for a column with more: it is written exactly, as its cells
    were probably written by a program at full precision.
    """
    most = 0
    for cell in pd.unique(text.str.strip().str.lower()):
        mantissa, _, exponent = cell.partition("e")
        fraction = mantissa.partition(".")[2]
        if not fraction.isdigit() and not exponent:
            continue
        try:
            shift = int(exponent) if exponent else 0
        except ValueError:
            continue
        most = max(most, len(fraction) - shift)
        if most > MAX_DECIMALS:
            return None
    return most


def _read_rows(path, index_col=None, dtypes=None, drop=None, codes=None):
    """Read the rows of a CSV file as a DataFrame.

    With ``dtypes`` (a fitted explainer's ``feature_dtypes_in_``), the columns
    must be exactly its features; each is converted to its fitted dtype and
    put in the fitted order. Without, the columns get pandas' default types;
    a dict given as ``codes`` then receives the text of the columns read as
    numbers though written with leading zeros (zip codes such as
    ``"02134"``), for a model trained on that text.

    Returns the frame, whether it has an index column of the file, and the
    decimals of each column's numbers as written in the file.
    """
    features = None
    if dtypes is not None:
        features = {str(name): name for name in dtypes.index}
    text, has_index = _read_text(path, index_col, features)
    path = _STDIN if path == "-" else path
    if drop is not None:
        if drop not in text.columns:
            raise CommandError(
                f"--target-column {drop!r} is not a column of {path} "
                f"(columns: {_names(text.columns)})"
            )
        text = text.drop(columns=drop)
    decimals = {column: _decimals(text[column]) for column in text.columns}
    if features is None:
        rows = pd.DataFrame(
            {column: _infer(text[column]) for column in text.columns}, index=text.index
        )
        if codes is not None:
            for column in text.columns:
                if is_numeric_dtype(rows[column].dtype) and _leading_zeros(
                    text[column]
                ):
                    codes[column] = text[column].str.strip()
        return rows, has_index, decimals
    missing = [name for name in features if name not in text.columns]
    extra = [name for name in text.columns if name not in features]
    if missing or extra:
        problems = []
        if missing:
            problems.append(f"missing column(s) {_names(missing)}")
        if extra:
            problems.append(f"extra column(s) {_names(extra)}")
        hint = ""
        if extra and not missing and len(extra) == 1 and not has_index:
            hint = f" (if it is the row index, pass --index-col {extra[0]})"
        raise InvalidDataError(
            f"{path}: {' and '.join(problems)}{hint}; the explainer was fitted "
            f"on the columns {_names(features)}"
        )
    rows = pd.DataFrame(
        {
            features[name]: _convert(text[name], dtypes[features[name]], path)
            for name in features
        },
        index=text.index,
    )
    return rows, has_index, decimals


# -- loading and saving ----------------------------------------------------------------


def _percent(fraction):
    """Return a fraction as a percentage, rounded down: 797/800 is not "100%"."""
    # Rounded first, so that 0.29 * 1000 = 289.99999999999997 stays 29.0 %.
    return f"{math.floor(round(float(fraction) * 1000, 6)) / 10:g}%"


def _share(mask):
    """Percentage of True in ``mask``, rounded down (see :func:`_percent`)."""
    return _percent(np.mean(mask) if len(mask) else 0.0)


def _load(path, what):
    """Load a pickled or joblib-saved object."""
    import joblib

    _refuse_text(path, what)
    try:
        return joblib.load(path)
    except FileNotFoundError:
        raise CommandError(f"cannot read {what} {path}: no such file") from None
    except IsADirectoryError:
        raise CommandError(f"cannot read {what} {path}: it is a directory") from None
    except OSError as exc:
        raise CommandError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    except Exception as exc:  # unpickling raises anything a pickle asks for
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())
        raise CommandError(
            f"cannot load the {what} in {path}: {reason} (is it a file written "
            "by joblib.dump or pickle.dump?)"
        ) from exc


def _refuse_text(path, what):
    """Say so when ``path`` holds a line of text with commas (a CSV file).

    Unpickling one fails with the header taken for a module name. Saved
    objects are binary (pickle protocol 2 and later, joblib's compressors);
    protocol 0's text pickles hold no comma on their first line.
    """
    try:
        with open(path, "rb") as file:
            head = file.read(256)
    except OSError:
        return  # joblib.load's error names the problem
    first_line = head.split(b"\n", 1)[0]
    try:
        text = first_line.decode("utf-8")
    except UnicodeDecodeError:
        return
    if b"," in first_line and text.isprintable():
        raise CommandError(
            f"{path} is a text file (it begins {text[:40]!r}), not the {what} "
            "saved by joblib.dump or pickle.dump; is the order of the "
            "arguments right?"
        )


def _load_explainer(path):
    from ._base import BaseCounterfactualExplainer

    explainer = _load(path, "explainer")
    if not isinstance(explainer, BaseCounterfactualExplainer):
        raise CommandError(
            f"{path} holds a {type(explainer).__name__}, not a cfexplain explainer"
        )
    if not hasattr(explainer, "n_features_in_"):
        raise CommandError(f"the explainer in {path} is not fitted")
    if getattr(explainer, "modality_", "tabular") != "tabular":
        raise CommandError(
            f"the explainer in {path} explains {explainer.modality_} data; the "
            "command line explains tables"
        )
    return explainer


def _write_csv(frame, output, index):
    """Write ``frame`` to the file ``output``, or to standard output."""
    if output is None or output == "-":
        frame.to_csv(sys.stdout, index=index)
        sys.stdout.flush()
        return
    try:
        frame.to_csv(output, index=index)
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from exc


# -- formatting numbers ----------------------------------------------------------------


def _fixed(values, decimals):
    """Format numbers with ``decimals`` decimals (missing values are empty).

    ``decimals=None`` writes each number exactly: the shortest text that
    reads back as the same float.
    """
    if decimals is None:
        return ["" if pd.isna(v) else repr(float(v)) for v in values]
    # Adding 0.0 turns the -0.0 of a rounded small negative number into 0.0.
    return [
        "" if pd.isna(v) else f"{round(float(v), decimals) + 0.0:.{decimals}f}"
        for v in values
    ]


def _significant(values, digits=PREDICTION_DIGITS):
    """Format numbers with ``digits`` significant digits, without exponents."""
    return [
        str(v)
        if not math.isfinite(v)
        else np.format_float_positional(
            v, precision=digits, unique=True, fractional=False, trim="-"
        )
        for v in np.asarray(values, dtype=float)
    ]


# -- constraints and threads -----------------------------------------------------------

#: Directions ``--monotonic`` accepts, as the explainers spell them.
DIRECTIONS = ("increasing", "decreasing")


def _feature(name, features, option):
    """Return the feature label a column name given to ``option`` stands for."""
    if name not in features:
        raise CommandError(
            f"{option} names {name!r}, not a feature (features: {_names(features)})"
        )
    return features[name]


def _bound(text, option):
    """Read one side of a ``--bounds`` range: a number, or empty for open."""
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise CommandError(
            f"{option}: {text!r} is not a number; write COLUMN:LOW:HIGH and "
            "leave a side empty to open it (hours::60)"
        ) from None
    if not math.isfinite(value):
        raise CommandError(f"{option}: {text!r} is not a finite number")
    return value


def _constraints(args, features):
    """Return the constraint arguments the options give, for an explainer.

    ``features`` maps each column name of the CSV file to the feature label
    the explainer knows it by. Options not given are left out, so that the
    explainer's own constraints hold.
    """
    given = {}
    if args.immutable is not None:
        names = [name.strip() for name in args.immutable.split(",") if name.strip()]
        given["immutable"] = [_feature(n, features, "--immutable") for n in names]
    if args.bounds is not None:
        bounds = {}
        for item in filter(str.strip, args.bounds.split(",")):
            name, *sides = item.strip().split(":")
            if len(sides) != 2:
                raise CommandError(
                    f"--bounds: {item.strip()!r} is not COLUMN:LOW:HIGH (an "
                    "empty LOW or HIGH leaves that side open: hours::60)"
                )
            low, high = (_bound(side, "--bounds") for side in sides)
            if low is not None and high is not None and low > high:
                raise CommandError(f"--bounds: {item.strip()!r} has LOW above HIGH")
            feature = _feature(name, features, "--bounds")
            if feature in bounds:
                raise CommandError(
                    f"--bounds names {name!r} twice; give one COLUMN:LOW:HIGH"
                )
            bounds[feature] = (low, high)
        given["bounds"] = bounds
    if args.monotonic is not None:
        monotonic = {}
        for item in filter(str.strip, args.monotonic.split(",")):
            name, _, direction = item.strip().rpartition(":")
            if direction not in DIRECTIONS:
                raise CommandError(
                    f"--monotonic: {item.strip()!r} is not COLUMN:increasing or "
                    "COLUMN:decreasing"
                )
            feature = _feature(name, features, "--monotonic")
            if feature in monotonic:
                raise CommandError(f"--monotonic names {name!r} twice")
            monotonic[feature] = direction
        given["monotonic"] = monotonic
    return given


def _use_threads(args):
    """Set torch's threads from ``--threads``, when given."""
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)


# -- cfexplain explain -----------------------------------------------------------------


def _parse_target(target, explainer):
    """Turn ``--target`` text into a class label or a regression target."""
    classes = getattr(explainer, "classes_", None)
    if classes is None:
        default = getattr(explainer, "target", None)
        if target is None and not (default is None or isinstance(default, str)):
            return None  # the explainer's own value or interval
        if target is None or target == "opposite":
            raise CommandError(
                "the explainer's model is a regressor: give the value to reach "
                "with --target VALUE, or an interval with --target=LOW:HIGH"
            )
        low, colon, high = target.partition(":")
        try:
            if colon:
                # An empty side is open: 45: is "at least 45".
                bounds = tuple(
                    None if not bound.strip() else float(bound) for bound in (low, high)
                )
                numbers = [b for b in bounds if b is not None]
            else:
                bounds = float(target)
                numbers = [bounds]
        except ValueError:
            raise CommandError(
                f"--target {target!r} is not a number or an interval LOW:HIGH"
            ) from None
        if not all(math.isfinite(number) for number in numbers):
            raise CommandError(
                f"--target {target!r}: give finite numbers, a value or an "
                "interval LOW:HIGH; leave a side empty to open it (45: is at "
                "least 45)"
            )
        return bounds
    if target is None or target == "opposite":
        return target
    for label in classes:
        if str(label) == target:
            return label
    if all(isinstance(label, (bool, np.bool_)) for label in classes):
        # Boolean classes, read as the rows' booleans are: in any case, or 1/0.
        word = target.strip().lower()
        if word in ("true", "1", "false", "0"):
            return word in ("true", "1")
    try:
        number = float(target)
    except ValueError:
        return target
    for label in classes:
        if isinstance(label, (int, float, np.number)) and float(label) == number:
            return label
    return target


def _check_categories(explainer, X, path):
    """Name the first cell holding a category the explainer was not fitted on.

    The explainer would refuse it too, but without the file's line.
    """
    encoder = getattr(explainer, "encoder_", None)
    categories = getattr(encoder, "categories_", None) or {}
    for name in getattr(encoder, "categorical_features_", ()):
        if name not in X.columns or name not in categories:
            continue
        known = pd.Index(categories[name])
        unseen = ~X[name].isin(known)
        if unseen.any():
            raise _bad_cell(
                path,
                name,
                X[name],
                _first(unseen),
                f"is not a category the explainer was fitted on ({_names(known, 8)})",
            )


def _explain(args) -> int:
    explainer = _load_explainer(args.explainer)
    target = _parse_target(args.target, explainer)
    _check_writable(args.output)
    dtypes = getattr(explainer, "feature_dtypes_in_", None)
    X, has_index, decimals = _read_rows(args.data, args.index_col, dtypes)
    if dtypes is not None:
        _check_categories(explainer, X, args.data)
    csv_columns = list(X.columns) if dtypes is None else list(decimals)
    rows = X if dtypes is not None else X.to_numpy()
    if dtypes is not None:
        features = {str(name): name for name in dtypes.index}
    else:  # fitted on an array: features are positions
        features = {name: j for j, name in enumerate(csv_columns)}
    constraints = _constraints(args, features)
    if dtypes is not None:
        _check_monotonic_orders(constraints, X)
    _use_threads(args)
    # transform, not explain: the same first answer without the text of
    # its changes, which the file does not hold; its warnings say why rows
    # miss their target.
    counterfactuals = explainer.transform(rows, target, **constraints)
    if dtypes is not None:
        out = counterfactuals.copy()
        out.columns = [str(name) for name in out.columns]
        out = out[csv_columns]
    else:
        out = pd.DataFrame(np.asarray(counterfactuals), columns=csv_columns)
    out.index = X.index
    for column in csv_columns:
        if is_float_dtype(out[column].dtype):
            out[column] = _fixed(out[column], decimals[column])
    # valid and prediction describe the rows as written: a number rounded
    # to its column's decimals can cross the model's boundary.
    as_written = _as_written(out[csv_columns], counterfactuals)
    predictor = explainer.predictor_
    resolved = explainer._resolve(target, predictor.predict(rows))
    y_written = predictor.predict(as_written)
    valid = np.asarray(resolved.is_met(y_written), dtype=bool)
    if explainer.classes_ is None:
        predicted = _significant(y_written)
    else:
        predicted = np.asarray(explainer.classes_)[np.asarray(y_written).argmax(axis=1)]
    out[free_name("valid", out.columns)] = valid
    out[free_name("prediction", out.columns)] = predicted
    _write_csv(out, args.output, index=has_index)
    if not args.quiet:
        destination = sys.stdout if args.output not in (None, "-") else sys.stderr
        where = f"; wrote {args.output}" if destination is sys.stdout else ""
        rounded = 0
        if not _same_rows(as_written, counterfactuals):
            in_memory = resolved.is_met(predictor.predict(counterfactuals))
            rounded = int((np.asarray(in_memory) & ~valid).sum())
        lost = (
            f"; {rounded} more reached it before its numbers were rounded to "
            "the input's decimals"
            if rounded
            else ""
        )
        print(
            f"explained {len(out)} rows: {int(valid.sum())} counterfactuals reach "
            f"the target ({_share(valid)}){lost}{where}",
            file=destination,
            flush=True,
        )
    return 0


def _as_written(text, counterfactuals):
    """Return the counterfactuals with their float columns read back from ``text``.

    ``text`` holds the CSV's feature columns, named as strings, floats
    formatted (``""`` for a missing value); the result has the type and
    dtypes of ``counterfactuals``.
    """
    if isinstance(counterfactuals, pd.DataFrame):
        written = counterfactuals.copy()
        for name in written.columns:
            if is_float_dtype(written[name].dtype):
                cells = text[str(name)].replace("", np.nan)
                written[name] = _to_numbers(cells).to_numpy(dtype=float)
        return written
    columns = [_to_numbers(text[c].replace("", np.nan)) for c in text.columns]
    return np.column_stack(columns).astype(np.asarray(counterfactuals).dtype)


def _same_rows(a, b):
    """Whether two frames (or arrays) of counterfactuals hold the same values."""
    if isinstance(a, pd.DataFrame):
        return a.equals(b)
    return np.array_equal(a, b, equal_nan=True)


def _check_writable(output):
    """Refuse an output path that cannot be written, before any work is done."""
    if output is None or output == "-":
        return
    folder = os.path.dirname(os.path.abspath(output))
    if os.path.isdir(output):
        raise CommandError(f"cannot write {output}: it is a directory")
    if not os.path.isdir(folder):
        raise CommandError(f"cannot write {output}: no folder {folder}")
    if not os.access(folder, os.W_OK):
        raise CommandError(f"cannot write {output}: the folder is not writable")


# -- cfexplain fit ---------------------------------------------------------------------


def _check_model_columns(model, columns, args):
    """Name the columns a model with ``feature_names_in_`` would refuse.

    Returns the model's columns that ``columns`` lacks, for
    :func:`_check_model_reads_without` once the rows are read as the model
    reads them.
    """
    expected = getattr(model, "feature_names_in_", None)
    if expected is None:
        return []
    expected = [str(name) for name in expected]
    extra = [c for c in columns if c not in expected]
    missing = [c for c in expected if c not in columns]
    if extra:
        hint = ""
        if args.target_column is None and len(extra) == 1:
            hint = (
                f"; if it is the row index, pass --index-col {extra[0]}; if it "
                f"is the label, --target-column {extra[0]}"
            )
        raise CommandError(
            f"{args.data}: column(s) {_names(extra)} are not features of the "
            f"model{hint}"
        )
    return missing


def _training_options(args, method):
    """Return the training options given on the command line, as parameters.

    Options left out keep the method's defaults; one the method lacks is
    refused.
    """
    given = {
        "prediction_weight": args.prediction_weight,
        "n_candidates": args.n_candidates,
    }
    options = {name: value for name, value in given.items() if value is not None}
    for name in options:
        if name not in method._get_param_names():
            raise CommandError(
                f"--{name.replace('_', '-')} is not an option of --method {args.method}"
            )
    return options


def _check_model_reads_without(model, X, missing, args):
    """Name the columns ``X`` lacks if the model refuses the rows without them.

    A column the model was fitted with but does not read (an identifier
    its ``ColumnTransformer`` drops) may be given as ``--index-col``: only
    the model's refusal, of the rows as it reads them, counts.
    """
    if missing and not _model_accepts(model, X):
        raise CommandError(
            f"{args.data}: the model needs the column(s) {_names(missing)}"
        )


def _model_error(model, X):
    """Return what the model says of the first rows of ``X`` (None: it takes them)."""
    method = getattr(model, "predict_proba", None) or getattr(model, "predict", None)
    if method is None:
        return None  # a torch module or callable: the explainer checks it
    try:
        method(X.iloc[:8])
    except Exception as exc:  # noqa: BLE001 - any failure means "not this reading"
        return f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    return None


def _model_accepts(model, X):
    return _model_error(model, X) is None


def _as_the_model_reads(model, X, args, codes=None):
    """Return ``X`` with its columns typed as the model was trained on them.

    A CSV cannot say whether ``True``/``False`` cells were booleans or text,
    nor whether text was plain strings or a pandas ``category`` column (which
    XGBoost's ``enable_categorical`` and HistGradientBoosting's
    ``categorical_features="from_dtype"`` need) when the model was trained.
    The reading of :func:`pandas.read_csv` is tried first; if the model
    refuses it, booleans as text, then text as categories, then both, then
    the number columns written with leading zeros (``codes``, from
    :func:`_read_rows`) as the text written, and the first reading the
    model accepts is kept.
    """
    if _model_accepts(model, X):
        return X
    flags = [c for c in X.columns if pd.api.types.is_bool_dtype(X[c].dtype)]
    texts = [
        c
        for c in X.columns
        if is_object_dtype(X[c].dtype) or is_string_dtype(X[c].dtype)
    ]
    readings = []
    if flags:
        readings.append(
            (f"{_names(flags)} as text", X.astype(dict.fromkeys(flags, str)))
        )
    if texts:
        readings.append(
            (
                f"{_names(texts)} as categories",
                X.astype(dict.fromkeys(texts, "category")),
            )
        )
    if flags and texts:
        both = X.astype(dict.fromkeys(flags, str)).astype(
            dict.fromkeys(flags + texts, "category")
        )
        readings.append((f"{_names(flags + texts)} as categories", both))
    # The reading closest to the training frame, whose error the message
    # below quotes.
    closest = readings[-1] if texts else None
    if codes:
        # Zip codes and the like: a model trained on their text refuses
        # the numbers pandas reads (02134 -> 2134); with the readings
        # above too, for a model that also needs those.
        as_written = {c: codes[c] for c in codes}
        readings += [
            (
                f"{_names(codes)} as text{' and ' + described if described else ''}",
                rows.assign(**as_written),
            )
            for described, rows in [("", X), *readings]
        ]
    for described, rows in readings:
        if _model_accepts(model, rows):
            _step(args, f"reading {described}, as the model does")
            return rows
    last_error = _model_error(model, closest[1]) if closest else None
    if last_error is not None and last_error != _model_error(model, X):
        # The reading changed what the model says: what it says of the
        # reading closest to its training frame, text as categories, names
        # the column still wrong, where the first reading's error would name
        # the text columns. (A model failing for another reason, a missing
        # value, says the same of both and gets the explainer's message.)
        raise CommandError(
            f"{args.data}: the model refuses the rows however their text is "
            f"read (as text or as categories); with {closest[0]} it says "
            f"{last_error}. If the model was trained "
            "on integer codes as categories, name those columns with "
            "--categorical COLUMNS"
        )
    return X


def _as_categories(X, columns, args):
    """Return ``X`` with the ``--categorical`` columns as pandas categories."""
    if not columns:
        return X
    named = [name.strip() for name in columns.split(",") if name.strip()]
    unknown = [name for name in named if name not in X.columns]
    if unknown:
        raise CommandError(
            f"--categorical names {_names(unknown)}, not column(s) of "
            f"{args.data} (features: {_names(X.columns)})"
        )
    return X.astype(dict.fromkeys(named, "category"))


def _as_ordered(X, orders, args):
    """Return ``X`` with the ``--order`` columns as ordered pandas categories.

    Each order is ``COLUMN:LOWEST<...<HIGHEST`` and must name every value
    the column holds: the explainer then compares the column's values by
    rank, so ``--monotonic`` can hold on it (see
    :class:`~cfexplain._constraints.Constraints`), and ``explain`` reads
    the column back in that order.
    """
    if not orders:
        return X
    ordered = {}
    for item in orders:
        name, colon, values = item.partition(":")
        name = name.strip()
        levels = [value.strip() for value in values.split("<")]
        if not colon or len(levels) < 2 or not all(levels):
            raise CommandError(
                f"--order: {item!r} is not COLUMN:LOWEST<...<HIGHEST "
                "(--order 'education:HS-grad<Bachelors<Masters')"
            )
        if name not in X.columns:
            raise CommandError(
                f"--order names {name!r}, not a column of {args.data} "
                f"(features: {_names(X.columns)})"
            )
        if name in ordered:
            raise CommandError(f"--order names {name!r} twice")
        if len(set(levels)) < len(levels):
            raise CommandError(f"--order: {item!r} names a value twice")
        column = X[name]
        if _holds_numbers(column.dtype):
            made = isinstance(column.dtype, pd.CategoricalDtype)
            raise CommandError(
                f"--order {name!r}: the column holds numbers, which are "
                "ordered already; --monotonic takes it as it is"
                + (" once --categorical leaves it out" if made else "")
            )
        # Missing values stay missing (the explainer refuses them with its
        # own message), not a value called "nan" the order must list.
        text = column.where(column.isna(), column.astype(str).str.strip())
        unlisted = sorted(set(text.dropna()) - set(levels))
        if unlisted:
            raise CommandError(
                f"--order {name!r} leaves out {_names(unlisted)}, held by the "
                f"column in {args.data}: list every value, lowest first"
            )
        ordered[name] = pd.Categorical(text, categories=levels, ordered=True)
    return X.assign(**ordered)


def _holds_numbers(dtype):
    """Whether a column holds numbers: numeric, or categories of numbers."""
    if isinstance(dtype, pd.CategoricalDtype):
        dtype = dtype.categories.dtype
    return not (is_object_dtype(dtype) or is_string_dtype(dtype))


def _check_monotonic_orders(constraints, X):
    """Refuse ``--monotonic`` on a text column, naming ``--order``.

    The explainer's own error gives the Python fix (an ordered
    ``pd.Categorical``); on the command line the fix is an option.
    """
    for name in constraints.get("monotonic", {}):
        dtype = X.dtypes[name]
        if isinstance(dtype, pd.CategoricalDtype):
            if dtype.ordered:
                continue
            if _holds_numbers(dtype):
                raise CommandError(
                    f"--monotonic {str(name)!r}: --categorical made the "
                    "column's numbers categories without an order; leave it "
                    "out of --categorical and its numbers keep their order"
                )
        elif _holds_numbers(dtype):
            continue
        raise CommandError(
            f"--monotonic {str(name)!r}: the column holds categories without "
            f"an order; give their order to 'cfexplain fit', lowest first: "
            f"--order '{name}:LOWEST<...<HIGHEST'"
        )


def _fit(args) -> int:
    from . import CounterfactualAE, CounterfactualCVAE, CounterfactualGAN
    from ._predictor import REGRESSION

    method = {
        "gan": CounterfactualGAN,
        "ae": CounterfactualAE,
        "cvae": CounterfactualCVAE,
    }[args.method]
    _check_writable(args.output)
    _step(args, f"reading {args.data} ...")
    codes = {}
    X, _, _ = _read_rows(
        args.data, args.index_col, drop=args.target_column, codes=codes
    )
    _step(args, f"read {len(X)} rows of {X.shape[1]} features: {_names(X.columns)}")
    # Before the model is loaded and tried: a mistyped option fails at once.
    constraints = _constraints(args, {name: name for name in X.columns})
    _step(args, f"loading the model {args.model} ...")
    model = _load(args.model, "model")
    missing = _check_model_columns(model, list(X.columns), args)
    X = _as_categories(X, args.categorical, args)
    X = _as_ordered(X, args.order, args)
    _check_monotonic_orders(constraints, X)
    try:
        X = _as_the_model_reads(model, X, args, codes)
    except CommandError:
        # A model refusing every reading may refuse for the missing columns.
        _check_model_reads_without(model, X, missing, args)
        raise
    _check_model_reads_without(model, X, missing, args)
    _use_threads(args)
    explainer = method(
        max_epochs=args.epochs,
        task=args.task,
        random_state=args.seed,
        verbose=0 if args.quiet else 1,
        **_training_options(args, method),
        **constraints,
    )
    _step(args, f"fitting {method.__name__} (epochs: {args.epochs}) ...")
    start = time.perf_counter()
    try:
        explainer.fit(X, predict_fn=model)
    except InvalidDataError as exc:
        # The estimator names the row; the command line names the file too.
        raise CommandError(f"{args.data}: {exc}") from exc
    except PredictorError as exc:
        predictor = getattr(explainer, "predictor_", None)
        if args.method == "cvae" and getattr(predictor, "task_", None) == REGRESSION:
            # The estimator's advice names classes; here options are asked for.
            raise CommandError(
                "--method cvae explains classifiers only, and the model returns "
                "regression values: use --method gan or --method ae"
            ) from exc
        raise
    seconds = time.perf_counter() - start
    _step(args, f"saving the explainer to {args.output} ...")
    import pickle

    try:
        with open(args.output, "wb") as handle:
            pickle.dump(explainer, handle)
    except OSError as exc:
        raise CommandError(
            f"cannot write {args.output}: {exc.strerror or exc}"
        ) from exc
    summary = (
        f"fitted {method.__name__} on {len(X)} rows in {seconds:.1f} s "
        f"({_plural(explainer.max_epochs_, 'epoch')})"
    )
    report = getattr(explainer, "fit_report_", None) or {}
    validity = {
        key[len("validity_") :]: value
        for key, value in report.items()
        if key.startswith("validity_")
    }
    if validity:
        figures = ", ".join(
            f"{name} {_percent(value)}" for name, value in validity.items()
        )
        summary += (
            f"; self-check validity on {report.get('n_rows', '?')} rows: {figures}"
        )
    print(f"{summary}; saved {args.output}", flush=True)
    return 0


# -- the parser ------------------------------------------------------------------------


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return value


def _epochs(text):
    return "auto" if text == "auto" else _positive_int(text)


def _weight(text):
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number or 'auto'"
        ) from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number >= 0")
    return value


def _parser():
    from . import __version__

    # --debug is accepted before and after the subcommand: SUPPRESS keeps a
    # subcommand's default from overwriting the main parser's value.
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the traceback of an error instead of a one-line message",
    )
    # Constraints and threads, for fit (the explainer's own) and explain
    # (this call's, overriding the explainer's).
    constraints = argparse.ArgumentParser(add_help=False)
    constraints.add_argument(
        "--immutable",
        default=None,
        metavar="COLUMNS",
        help="comma-separated features the counterfactuals keep ('' for none)",
    )
    constraints.add_argument(
        "--bounds",
        default=None,
        metavar="COLUMN:LOW:HIGH,...",
        help="ranges the counterfactuals' numbers stay in; an empty LOW or "
        "HIGH leaves that side open (age:18:70,hours::60)",
    )
    constraints.add_argument(
        "--monotonic",
        default=None,
        metavar="COLUMN:DIRECTION,...",
        help="numbers that may only grow or only shrink "
        "(age:increasing,debt:decreasing)",
    )
    constraints.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        help="torch threads (default: torch's, one per core)",
    )
    parser = argparse.ArgumentParser(
        prog="cfexplain",
        description="Counterfactual explanations from conditional generative networks.",
        parents=[debug],
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo", parents=[debug], help="explain a classifier on the shipped Adult data"
    )
    demo.add_argument("--epochs", type=_positive_int, default=30, help="GAN epochs")
    demo.add_argument("--rows", type=_positive_int, default=5, help="rows to explain")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.add_argument(
        "--sample", type=_positive_int, default=None, help="use only this many rows"
    )
    demo.add_argument(
        "--quiet", "-q", action="store_true", help="no progress messages or epochs"
    )
    demo.set_defaults(run=_demo)

    fit = commands.add_parser(
        "fit",
        parents=[debug, constraints],
        help="fit an explainer for a saved model on the rows of a CSV file",
        description="Fit an explainer for a model saved with joblib (or pickle) "
        "on the rows of a CSV file and pickle it for 'cfexplain explain'.",
    )
    fit.add_argument("data", help="CSV file of training rows, with a header")
    fit.add_argument("model", help="the fitted model, saved with joblib or pickle")
    fit.add_argument(
        "--output", "-o", required=True, help="file to pickle the explainer to"
    )
    fit.add_argument(
        "--method", choices=METHODS, default="gan", help="explainer (default: gan)"
    )
    fit.add_argument(
        "--epochs",
        type=_epochs,
        default="auto",
        help="training epochs, or 'auto' (default)",
    )
    fit.add_argument(
        "--prediction-weight",
        type=_weight,
        default=None,
        metavar="WEIGHT",
        help="weight of the model's prediction in the generator's loss, or "
        "'auto' (default: the method's)",
    )
    fit.add_argument(
        "--n-candidates",
        type=_positive_int,
        default=None,
        metavar="N",
        help="candidates drawn per row, the cheapest valid kept (gan and cvae; "
        "default: the method's)",
    )
    fit.add_argument(
        "--target-column", default=None, help="label column to leave out of the rows"
    )
    fit.add_argument(
        "--index-col", default=None, help="column holding the row index, not a feature"
    )
    fit.add_argument(
        "--task",
        choices=("auto", "classification", "regression"),
        default="auto",
        help="the model's task (default: inferred from its output)",
    )
    fit.add_argument(
        "--categorical",
        default=None,
        metavar="COLUMNS",
        help="comma-separated columns to read as pandas categories, as the "
        "model was trained on them (text columns are read so when the model "
        "refuses them as text)",
    )
    fit.add_argument(
        "--order",
        action="append",
        default=None,
        metavar="COLUMN:LOWEST<...<HIGHEST",
        help="the order of a text column's values, lowest first, so that "
        "--monotonic can hold on it (repeat the option for several columns)",
    )
    fit.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    fit.add_argument(
        "--quiet", "-q", action="store_true", help="only print the summary line"
    )
    fit.set_defaults(run=_fit)

    explain = commands.add_parser(
        "explain",
        parents=[debug, constraints],
        help="apply a saved explainer to the rows of a CSV file",
        description="Write one counterfactual per row of a CSV file, with "
        "whether the model gives it the target ('valid') and the model's "
        "prediction for it.",
    )
    explain.add_argument("explainer", help="pickle of a fitted explainer")
    explain.add_argument(
        "data", help="CSV file with the explainer's columns ('-': standard input)"
    )
    explain.add_argument(
        "--target",
        default=None,
        help="class label to reach, 'opposite', or for a regressor a value or "
        "an interval LOW:HIGH (default: the explainer's target)",
    )
    explain.add_argument(
        "--index-col", default=None, help="column holding the row index, not a feature"
    )
    explain.add_argument(
        "--output", "-o", default=None, help="CSV file to write (default: stdout)"
    )
    explain.add_argument("--quiet", "-q", action="store_true", help="no summary line")
    explain.set_defaults(run=_explain)
    return parser


#: The library's words for Python users, and what they are on the command
#: line (its messages name the Python API's masks and parameters).
_COMMAND_LINE_WORDS = (
    (
        "(explain() marks them in its valid mask)",
        "(the output's valid column marks them)",
    ),
    ("with task='auto' or 'classification'", "with --task auto or classification"),
    ("a larger prediction_weight", "a larger --prediction-weight"),
    ("more training (max_epochs)", "more training (--epochs)"),
    ("more n_candidates", "more --n-candidates"),
    (
        re.compile(
            r"If the model does not read (?:it|them), fit and explain on "
            r"X\.drop\(columns=\[.*?\]\) \(a Pipeline whose ColumnTransformer "
            r"leaves (?:it|them) out accepts such rows\) and join (?:it|them) back "
            r"by index(?:; numbers written as text .*? pd\.to_numeric)?"
        ),
        "If the model does not read such a column, give it to fit and to "
        "explain as --index-col: it then labels the rows instead of being "
        "explained (--index-col takes one column; leave any more out of the "
        "CSV files)",
    ),
)


def _command_line_text(message):
    """Return a message as one line, in the command line's words."""
    text = " ".join(str(message).split())
    for python, command_line in _COMMAND_LINE_WORDS:
        if isinstance(python, re.Pattern):
            text = python.sub(command_line, text)
        else:
            text = text.replace(python, command_line)
    return text


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Print a warning as one line, without the source line that issued it."""
    print(
        f"cfexplain: warning: {_command_line_text(message)}",
        file=sys.stderr,
        flush=True,
    )


def main(argv=None) -> int:
    """Run the ``cfexplain`` command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0 on success, 2 when a user error stopped the
        command (after printing one line ``cfexplain: error: ...`` to
        standard error; with ``--debug`` the exception propagates instead).
    """
    args = _parser().parse_args(argv)
    debug = getattr(args, "debug", False)
    with warnings.catch_warnings():
        if not debug:
            warnings.showwarning = _show_warning
        try:
            return args.run(args)
        except BrokenPipeError:
            # The reader of our output went away (``cfexplain explain ... |
            # head``): nothing more to say, and nowhere to say it.
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            except (OSError, ValueError):  # stdout is not a file (tests)
                pass
            return 1
        except (CfexplainError, ValueError, OSError) as exc:
            if debug:
                raise
            message = _command_line_text(exc) or type(exc).__name__
            print(f"cfexplain: error: {message}", file=sys.stderr, flush=True)
            return USAGE_ERROR
        except KeyboardInterrupt:
            if debug:
                raise
            print("cfexplain: interrupted", file=sys.stderr, flush=True)
            return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
