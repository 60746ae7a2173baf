"""Loaders for the tabular datasets: UCI Adult and Statlog German credit."""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._base import load_descr, open_data_file

__all__ = ["load_adult", "load_german_credit"]

# --------------------------------------------------------------------------- Adult

_ADULT_RAW_COLUMNS = [
    "Age",
    "Workclass",
    "fnlwgt",
    "Education",
    "Education-Num",
    "Marital Status",
    "Occupation",
    "Relationship",
    "Race",
    "Sex",
    "Capital Gain",
    "Capital Loss",
    "Hours per week",
    "Country",
    "Income",
]
_ADULT_INTEGER_COLUMNS = [
    "Age",
    "fnlwgt",
    "Education-Num",
    "Capital Gain",
    "Capital Loss",
    "Hours per week",
]
_ADULT_DROPPED = ["fnlwgt", "Education-Num"]
_ADULT_TARGET = "Income"

# The groupings of alibi's ``fetch_adult``. Values absent from a map are kept
# unchanged (e.g. Education "Bachelors", Country "Yugoslavia", and "?").
_ADULT_EDUCATION_MAP = {
    "10th": "Dropout",
    "11th": "Dropout",
    "12th": "Dropout",
    "1st-4th": "Dropout",
    "5th-6th": "Dropout",
    "7th-8th": "Dropout",
    "9th": "Dropout",
    "Preschool": "Dropout",
    "HS-grad": "High School grad",
    "Some-college": "High School grad",
    "Masters": "Masters",
    "Prof-school": "Prof-School",
    "Assoc-acdm": "Associates",
    "Assoc-voc": "Associates",
}
_ADULT_OCCUPATION_MAP = {
    "Adm-clerical": "Admin",
    "Armed-Forces": "Military",
    "Craft-repair": "Blue-Collar",
    "Exec-managerial": "White-Collar",
    "Farming-fishing": "Blue-Collar",
    "Handlers-cleaners": "Blue-Collar",
    "Machine-op-inspct": "Blue-Collar",
    "Other-service": "Service",
    "Priv-house-serv": "Service",
    "Prof-specialty": "Professional",
    "Protective-serv": "Other",
    "Sales": "Sales",
    "Tech-support": "Other",
    "Transport-moving": "Blue-Collar",
}
_ADULT_COUNTRY_MAP = {
    "Cambodia": "SE-Asia",
    "Canada": "British-Commonwealth",
    "China": "China",
    "Columbia": "South-America",
    "Cuba": "Other",
    "Dominican-Republic": "Latin-America",
    "Ecuador": "South-America",
    "El-Salvador": "South-America",
    "England": "British-Commonwealth",
    "France": "Euro_1",
    "Germany": "Euro_1",
    "Greece": "Euro_2",
    "Guatemala": "Latin-America",
    "Haiti": "Latin-America",
    "Holand-Netherlands": "Euro_1",
    "Honduras": "Latin-America",
    "Hong": "China",
    "Hungary": "Euro_2",
    "India": "British-Commonwealth",
    "Iran": "Other",
    "Ireland": "British-Commonwealth",
    "Italy": "Euro_1",
    "Jamaica": "Latin-America",
    "Japan": "Other",
    "Laos": "SE-Asia",
    "Mexico": "Latin-America",
    "Nicaragua": "Latin-America",
    "Outlying-US(Guam-USVI-etc)": "Latin-America",
    "Peru": "South-America",
    "Philippines": "SE-Asia",
    "Poland": "Euro_2",
    "Portugal": "Euro_2",
    "Puerto-Rico": "Latin-America",
    "Scotland": "British-Commonwealth",
    "South": "Euro_2",
    "Taiwan": "China",
    "Thailand": "SE-Asia",
    "Trinadad&Tobago": "Latin-America",
    "United-States": "United-States",
    "Vietnam": "SE-Asia",
}
_ADULT_MARITAL_MAP = {
    "Never-married": "Never-Married",
    "Married-AF-spouse": "Married",
    "Married-civ-spouse": "Married",
    "Married-spouse-absent": "Separated",
    "Separated": "Separated",
    "Divorced": "Separated",
    "Widowed": "Widowed",
}
_ADULT_MAPS = {
    "Education": _ADULT_EDUCATION_MAP,
    "Occupation": _ADULT_OCCUPATION_MAP,
    "Country": _ADULT_COUNTRY_MAP,
    "Marital Status": _ADULT_MARITAL_MAP,
}


def _regroup(column, mapping):
    """Map the values of a string column, keeping values the map lacks."""
    full = {value: mapping.get(value, value) for value in column.unique()}
    return column.map(full)


@functools.lru_cache(maxsize=1)
def _adult_frame():
    """Parse and regroup ``adult.data`` once; callers must copy the result."""
    dtype = {
        name: ("int64" if name in _ADULT_INTEGER_COLUMNS else str)
        for name in _ADULT_RAW_COLUMNS
    }
    with open_data_file("adult.data.gz") as fh:
        raw = pd.read_csv(
            fh,
            compression="gzip",
            header=None,
            names=_ADULT_RAW_COLUMNS,
            dtype=dtype,
            skipinitialspace=True,
            na_filter=False,
        )
    frame = raw.drop(columns=_ADULT_DROPPED)
    for name, mapping in _ADULT_MAPS.items():
        frame[name] = _regroup(frame[name], mapping)
    frame[_ADULT_TARGET] = (frame[_ADULT_TARGET] == ">50K").astype("int64")
    return frame


# -------------------------------------------------------------------------- German

_GERMAN_COLUMNS = [
    "status",
    "duration",
    "credit_history",
    "purpose",
    "credit_amount",
    "savings",
    "present_employment",
    "installment_rate",
    "status_sex",
    "other_debtors",
    "present_residence_since",
    "property",
    "age",
    "installment_plans",
    "housing",
    "number_of_existing_credits",
    "job",
    "number_of_people_liable_for",
    "telephone",
    "foreign_worker",
    "credit",
]
_GERMAN_INTEGER_COLUMNS = [
    "duration",
    "credit_amount",
    "installment_rate",
    "present_residence_since",
    "age",
    "number_of_existing_credits",
    "number_of_people_liable_for",
]
_GERMAN_TARGET = "credit"


def _german_text(value):
    """Turn one entry of the code book into the text used in the frame."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip()


@functools.lru_cache(maxsize=1)
def _german_codebook():
    """Return ``{column: {code: text}}`` for the categorical columns."""
    with open_data_file("values_maps.json") as fh:
        raw = json.load(fh)
    return {
        column: {code: _german_text(text) for code, text in codes.items()}
        for column, codes in raw.items()
        if column != _GERMAN_TARGET
    }


@functools.lru_cache(maxsize=1)
def _german_frame():
    """Parse and decode ``german.data`` once; callers must copy the result."""
    dtype = {
        name: ("int64" if name in _GERMAN_INTEGER_COLUMNS else str)
        for name in _GERMAN_COLUMNS
    }
    with open_data_file("german.data.gz") as fh:
        frame = pd.read_csv(
            fh,
            compression="gzip",
            header=None,
            names=_GERMAN_COLUMNS,
            dtype=dtype,
            sep=" ",
            na_filter=False,
        )
    for column, codes in _german_codebook().items():
        unknown = set(frame[column].unique()) - set(codes)
        if unknown:  # pragma: no cover - the shipped file is fixed
            raise ValueError(f"unknown codes {sorted(unknown)} in column {column!r}")
        frame[column] = frame[column].map(codes)
    # UCI codes the label 1 = good, 2 = bad.
    frame[_GERMAN_TARGET] = (frame[_GERMAN_TARGET] == "1").astype("int64")
    return frame


# ------------------------------------------------------------------------- helpers


def _check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _tabular_result(
    frame, *, target_column, target_names, categories, descr, return_X_y, as_frame
):
    """Build the return value of a tabular loader from a private copy."""
    feature_names = [name for name in frame.columns if name != target_column]
    categorical = [name for name in feature_names if name in categories]
    if as_frame:
        data = frame[feature_names].copy()
        target = frame[target_column].copy()
    else:
        data = frame[feature_names].to_numpy(dtype=object, copy=True)
        target = frame[target_column].to_numpy(dtype=np.int64, copy=True)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        frame=frame if as_frame else None,
        feature_names=feature_names,
        target_names=list(target_names),
        categorical_features=categorical,
        categories={name: list(categories[name]) for name in categorical},
        DESCR=load_descr(descr),
    )


# -------------------------------------------------------------------------- public


def load_adult(*, return_X_y=False, as_frame=True):
    """Load the UCI Adult (census income) dataset as preprocessed in alibi.

    The 32,561 rows of the original training file ``adult.data`` (the test
    file is not included), with the preprocessing of alibi's ``fetch_adult``
    used by Van Looveren et al. (2021): the columns ``fnlwgt`` and
    ``education-num`` are dropped, and Education, Occupation, Marital Status
    and Country are grouped into fewer categories. Workclass, Relationship,
    Race and Sex are kept as in the source. Missing values, written ``"?"``
    in the source, are kept as their own category ``"?"`` (Workclass,
    Occupation and Country have some); no row is dropped and no value is NaN.
    The exact groupings are listed in ``DESCR``.

    =================   ===========================
    Samples             32,561
    Features            12 (4 integer, 8 string)
    Classes             2 (24,720 ``<=50K``, 7,841 ``>50K``)
    =================   ===========================

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=True
        If True, ``data`` is a :class:`pandas.DataFrame` with integer columns
        (``int64``) and string columns (pandas' default string dtype, ``str``
        on pandas 3 and ``object`` before), ``target`` is a
        :class:`pandas.Series` named ``"Income"``, and ``frame`` holds both.
        If False, ``data`` is a 2-D ``object`` array of Python ints and
        strings in the same column order and ``frame`` is None.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : DataFrame of shape (32561, 12) or ndarray of object
            The features, in the order of ``feature_names``.
        target : Series or ndarray of shape (32561,), dtype int64
            1 where the income is above 50K a year, else 0.
        frame : DataFrame of shape (32561, 13) or None
            ``data`` with the target as last column ``"Income"``; None when
            ``as_frame=False``.
        feature_names : list of str
            ``["Age", "Workclass", "Education", "Marital Status",
            "Occupation", "Relationship", "Race", "Sex", "Capital Gain",
            "Capital Loss", "Hours per week", "Country"]``.
        target_names : list of str
            ``["<=50K", ">50K"]``, indexed by the target value.
        categorical_features : list of str
            The eight string columns.
        categories : dict of str to list of str
            For each categorical feature, its categories in sorted order
            (``"?"`` included where it occurs), ready for
            ``OneHotEncoder(categories=...)``.
        DESCR : str
            Description of the dataset: source, citation, licence and
            preprocessing.

    (data, target) : tuple if ``return_X_y`` is True
        The ``data`` and ``target`` described above.

    Raises
    ------
    ValueError
        If ``return_X_y`` or ``as_frame`` is not a boolean.

    Notes
    -----
    Source: Becker and Kohavi (1996), UCI Machine Learning Repository,
    doi:10.24432/C5XW20, licensed CC BY 4.0. The data ship inside the package;
    nothing is downloaded. Each call returns new objects, so they can be
    modified freely.

    References
    ----------
    .. [1] A. Van Looveren, J. Klaise, G. Vacanti and O. Cobb, "Conditional
       Generative Models for Counterfactual Explanations", arXiv:2101.10123,
       2021.

    Examples
    --------
    >>> from cfexplain.datasets import load_adult
    >>> X, y = load_adult(return_X_y=True)
    >>> X.shape
    (32561, 12)
    >>> int(y.sum())
    7841
    >>> sorted(X["Marital Status"].unique())
    ['Married', 'Never-Married', 'Separated', 'Widowed']
    """
    return_X_y = _check_bool(return_X_y, "return_X_y")
    as_frame = _check_bool(as_frame, "as_frame")
    frame = _adult_frame().copy(deep=True)
    categories = {
        name: sorted(frame[name].unique())
        for name in frame.columns
        if name != _ADULT_TARGET and name not in _ADULT_INTEGER_COLUMNS
    }
    return _tabular_result(
        frame,
        target_column=_ADULT_TARGET,
        target_names=["<=50K", ">50K"],
        categories=categories,
        descr="adult.rst",
        return_X_y=return_X_y,
        as_frame=as_frame,
    )


def load_german_credit(*, return_X_y=False, as_frame=True):
    """Load the Statlog German credit dataset with readable categories.

    1,000 loan applicants described by 20 attributes, labelled as good or bad
    credit risks. The 13 categorical attributes, coded ``A11`` ... ``A202`` in
    the source, are decoded to the texts of the UCI documentation (leading
    and trailing spaces removed; the yes/no attributes ``telephone`` and
    ``foreign_worker`` become ``"yes"`` and ``"no"``). The 7 numeric
    attributes are integers. The code book is listed in ``DESCR``.

    =================   ===========================
    Samples             1,000
    Features            20 (7 integer, 13 string)
    Classes             2 (300 bad = 0, 700 good = 1)
    =================   ===========================

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=True
        If True, ``data`` is a :class:`pandas.DataFrame` with integer columns
        (``int64``) and string columns (pandas' default string dtype),
        ``target`` is a :class:`pandas.Series` named ``"credit"``, and
        ``frame`` holds both. If False, ``data`` is a 2-D ``object`` array of
        Python ints and strings and ``frame`` is None.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        data : DataFrame of shape (1000, 20) or ndarray of object
            The features, in the order of ``feature_names``.
        target : Series or ndarray of shape (1000,), dtype int64
            1 for a good credit risk (UCI label 1), 0 for a bad one (UCI
            label 2).
        frame : DataFrame of shape (1000, 21) or None
            ``data`` with the target as last column ``"credit"``; None when
            ``as_frame=False``.
        feature_names : list of str
            The 20 attribute names in source order: ``status``,
            ``duration``, ``credit_history``, ``purpose``, ``credit_amount``,
            ``savings``, ``present_employment``, ``installment_rate``,
            ``status_sex``, ``other_debtors``, ``present_residence_since``,
            ``property``, ``age``, ``installment_plans``, ``housing``,
            ``number_of_existing_credits``, ``job``,
            ``number_of_people_liable_for``, ``telephone``,
            ``foreign_worker``.
        target_names : list of str
            ``["bad", "good"]``, indexed by the target value.
        categorical_features : list of str
            The 13 string columns.
        categories : dict of str to list of str
            For each categorical feature, every category of the code book in
            code order (so ordered levels such as ``savings`` keep their
            order). ``purpose`` lists ``"(vacation - does not exist?)"``,
            which no row has.
        DESCR : str
            Description of the dataset: source, citation, licence and code
            book.

    (data, target) : tuple if ``return_X_y`` is True
        The ``data`` and ``target`` described above.

    Raises
    ------
    ValueError
        If ``return_X_y`` or ``as_frame`` is not a boolean.

    Notes
    -----
    Source: Hofmann (1994), Statlog (German Credit Data), UCI Machine Learning
    Repository, doi:10.24432/C5NC77, licensed CC BY 4.0. UCI's cost matrix
    charges 5 for predicting good for a bad customer and 1 for the reverse.
    The data ship inside the package; nothing is downloaded. Each call
    returns new objects, so they can be modified freely.

    Examples
    --------
    >>> from cfexplain.datasets import load_german_credit
    >>> bunch = load_german_credit()
    >>> bunch.data.shape
    (1000, 20)
    >>> bunch.target.value_counts().sort_index().tolist()
    [300, 700]
    >>> bunch.data.loc[0, "housing"]
    'own'
    """
    return_X_y = _check_bool(return_X_y, "return_X_y")
    as_frame = _check_bool(as_frame, "as_frame")
    frame = _german_frame().copy(deep=True)
    categories = {
        column: list(codes.values()) for column, codes in _german_codebook().items()
    }
    return _tabular_result(
        frame,
        target_column=_GERMAN_TARGET,
        target_names=["bad", "good"],
        categories=categories,
        descr="german_credit.rst",
        return_X_y=return_X_y,
        as_frame=as_frame,
    )
