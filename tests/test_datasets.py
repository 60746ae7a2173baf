import re
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from pandas.api.types import is_integer_dtype, is_string_dtype

from cfexplain.datasets import (
    load_adult,
    load_colored_mnist,
    load_ecg5000,
    load_german_credit,
    load_mnist_sample,
)

ADULT_FEATURES = [
    "Age",
    "Workclass",
    "Education",
    "Marital Status",
    "Occupation",
    "Relationship",
    "Race",
    "Sex",
    "Capital Gain",
    "Capital Loss",
    "Hours per week",
    "Country",
]
ADULT_INTEGERS = ["Age", "Capital Gain", "Capital Loss", "Hours per week"]
ADULT_GROUPS = {
    "Education": {
        "Dropout",
        "High School grad",
        "Associates",
        "Bachelors",
        "Masters",
        "Prof-School",
        "Doctorate",
    },
    "Marital Status": {"Never-Married", "Married", "Separated", "Widowed"},
    "Occupation": {
        "Admin",
        "Blue-Collar",
        "White-Collar",
        "Service",
        "Professional",
        "Sales",
        "Military",
        "Other",
        "?",
    },
    "Country": {
        "United-States",
        "British-Commonwealth",
        "China",
        "Euro_1",
        "Euro_2",
        "Latin-America",
        "South-America",
        "SE-Asia",
        "Other",
        "Yugoslavia",
        "?",
    },
    "Workclass": {
        "Private",
        "Self-emp-not-inc",
        "Self-emp-inc",
        "Federal-gov",
        "Local-gov",
        "State-gov",
        "Without-pay",
        "Never-worked",
        "?",
    },
}
GERMAN_FEATURES = [
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
]
GERMAN_INTEGERS = [
    "duration",
    "credit_amount",
    "installment_rate",
    "present_residence_since",
    "age",
    "number_of_existing_credits",
    "number_of_people_liable_for",
]

ALL_LOADERS = [load_adult, load_german_credit, load_ecg5000, load_mnist_sample]


@pytest.fixture(scope="module")
def adult():
    return load_adult()


@pytest.fixture(scope="module")
def german():
    return load_german_credit()


@pytest.fixture(scope="module")
def ecg():
    return load_ecg5000()


@pytest.fixture(scope="module")
def mnist():
    return load_mnist_sample()


# ----------------------------------------------------------------------- Adult


def test_adult_shape_columns_and_dtypes(adult):
    assert adult.data.shape == (32561, 12)
    assert list(adult.data.columns) == ADULT_FEATURES
    assert adult.feature_names == ADULT_FEATURES
    assert list(adult.frame.columns) == ADULT_FEATURES + ["Income"]
    for name in ADULT_FEATURES:
        if name in ADULT_INTEGERS:
            assert adult.data[name].dtype == np.int64
        else:
            assert is_string_dtype(adult.data[name])
    assert adult.categorical_features == [
        name for name in ADULT_FEATURES if name not in ADULT_INTEGERS
    ]
    assert not adult.frame.isna().any().any()


def test_adult_target(adult):
    assert adult.target.name == "Income"
    assert adult.target.dtype == np.int64
    assert adult.target.value_counts().sort_index().tolist() == [24720, 7841]
    assert adult.target_names == ["<=50K", ">50K"]


def test_adult_only_grouped_categories(adult):
    for name, expected in ADULT_GROUPS.items():
        assert set(adult.data[name].unique()) == expected, name
    for name in adult.categorical_features:
        assert adult.categories[name] == sorted(adult.data[name].unique())


def test_adult_question_mark_is_a_category(adult):
    counts = {
        name: int((adult.data[name] == "?").sum())
        for name in ["Workclass", "Occupation", "Country"]
    }
    assert counts == {"Workclass": 1836, "Occupation": 1843, "Country": 583}
    assert (adult.data == "?").any(axis=1).sum() == 2399


def test_adult_first_row_regrouped(adult):
    row = adult.data.iloc[0].tolist()
    assert row == [
        39,
        "State-gov",
        "Bachelors",
        "Never-Married",
        "Admin",
        "Not-in-family",
        "White",
        "Male",
        2174,
        0,
        40,
        "United-States",
    ]


def test_adult_numpy_output(adult):
    bunch = load_adult(as_frame=False)
    assert isinstance(bunch.data, np.ndarray)
    assert bunch.data.dtype == object
    assert bunch.data.shape == (32561, 12)
    assert bunch.frame is None
    assert isinstance(bunch.target, np.ndarray)
    assert bunch.target.dtype == np.int64
    np.testing.assert_array_equal(bunch.target, adult.target.to_numpy())
    assert bunch.data[0, 0] == 39
    assert bunch.data[0, 1] == "State-gov"


# ---------------------------------------------------------------------- German


def test_german_shape_columns_and_target(german):
    assert german.data.shape == (1000, 20)
    assert list(german.data.columns) == GERMAN_FEATURES
    assert german.feature_names == GERMAN_FEATURES
    assert list(german.frame.columns) == GERMAN_FEATURES + ["credit"]
    assert german.target.dtype == np.int64
    assert int(german.target.sum()) == 700
    assert german.target_names == ["bad", "good"]
    # the UCI file's first row is a good customer, the second a bad one
    assert german.target.iloc[:2].tolist() == [1, 0]


def test_german_decoded_categories(german):
    categorical = [name for name in GERMAN_FEATURES if name not in GERMAN_INTEGERS]
    assert german.categorical_features == categorical
    for name in GERMAN_INTEGERS:
        assert german.data[name].dtype == np.int64
    code = re.compile(r"^A\d+$")
    for name in categorical:
        column = german.data[name]
        assert is_string_dtype(column)
        assert not column.str.match(code).any(), name
        assert set(column.unique()) <= set(german.categories[name])
        assert all(value == value.strip() for value in german.categories[name])
    assert set(german.data["telephone"].unique()) == {"yes", "no"}
    assert german.categories["foreign_worker"] == ["yes", "no"]
    assert german.categories["status"][0] == "... < 0 DM"
    assert german.data.loc[0, "status"] == "... < 0 DM"
    assert german.data.loc[0, "purpose"] == "radio/television"
    assert "(vacation - does not exist?)" not in set(german.data["purpose"])


def test_german_numpy_output():
    X, y = load_german_credit(return_X_y=True, as_frame=False)
    assert X.shape == (1000, 20)
    assert X.dtype == object
    assert y.dtype == np.int64
    assert int(y.sum()) == 700


# ------------------------------------------------------------------------- ECG


def test_ecg_all_rows(ecg):
    assert ecg.data.shape == (5000, 1, 140)
    assert ecg.data.dtype == np.float32
    assert ecg.target.dtype == np.int64
    assert ecg.target_names == ["normal", "abnormal"]
    assert int((ecg.target == 0).sum()) == 292 + 2627
    assert (ecg.split[:500] == "train").all()
    assert (ecg.split[500:] == "test").all()
    np.testing.assert_array_equal(ecg.target, ecg.target_multiclass != 1)


@pytest.mark.parametrize(
    ("split", "n_rows", "n_normal"), [("train", 500, 292), ("test", 4500, 2627)]
)
def test_ecg_splits(ecg, split, n_rows, n_normal):
    bunch = load_ecg5000(split=split)
    assert bunch.data.shape == (n_rows, 1, 140)
    assert int((bunch.target == 0).sum()) == n_normal
    assert (bunch.split == split).all()
    rows = ecg.split == split
    np.testing.assert_array_equal(bunch.data, ecg.data[rows])
    np.testing.assert_array_equal(bunch.target, ecg.target[rows])


def test_ecg_multiclass_labels():
    train = load_ecg5000(split="train").target_multiclass
    test = load_ecg5000(split="test")
    assert np.bincount(train).tolist() == [0, 292, 177, 10, 19, 2]
    values, counts = np.unique(test.target_multiclass, return_counts=True)
    assert dict(zip(values.tolist(), counts.tolist(), strict=True)) == {
        -1: 1154,
        1: 2627,
        2: 590,
        3: 43,
        4: 75,
        5: 11,
    }
    assert set(test.target_multiclass_names) == {-1, 1, 2, 3, 4, 5}


def test_ecg_rows_are_z_normalised(ecg):
    series = ecg.data[:, 0, :].astype(np.float64)
    np.testing.assert_allclose(series.mean(axis=1), 0.0, atol=1e-6)
    np.testing.assert_allclose(series.std(axis=1, ddof=1), 1.0, atol=1e-5)


def test_ecg_return_X_y():
    X, y = load_ecg5000(return_X_y=True, split="test")
    assert X.shape == (4500, 1, 140)
    assert y.shape == (4500,)


@pytest.mark.parametrize("split", ["TRAIN", "all", "", 0])
def test_ecg_bad_split(split):
    with pytest.raises(ValueError, match="split"):
        load_ecg5000(split=split)


def test_ecg_descr_notes_reconstruction(ecg):
    assert "reconstructed" in ecg.DESCR
    assert "-1" in ecg.DESCR
    assert "Row order" in ecg.DESCR


# ----------------------------------------------------------------------- MNIST


def test_mnist(mnist):
    assert mnist.images.shape == (5000, 1, 28, 28)
    assert mnist.images.dtype == np.uint8
    assert mnist.data.shape == (5000, 784)
    assert mnist.data.dtype == np.uint8
    assert mnist.target.dtype == np.int64
    assert np.bincount(mnist.target).tolist() == [500] * 10
    np.testing.assert_array_equal(mnist.images.reshape(5000, -1), mnist.data)
    assert mnist.data.max() == 255
    assert mnist.frame is None
    assert len(mnist.feature_names) == 784
    assert mnist.feature_names[29] == "pixel_1_1"
    np.testing.assert_array_equal(mnist.target_names, np.arange(10))
    # the rows keep the file's order, sorted by digit
    assert (np.diff(mnist.target) >= 0).all()


def test_mnist_as_frame(mnist):
    bunch = load_mnist_sample(as_frame=True)
    assert isinstance(bunch.data, pd.DataFrame)
    assert bunch.data.shape == (5000, 784)
    assert (bunch.data.dtypes == np.uint8).all()
    assert bunch.target.name == "digit"
    assert bunch.frame.shape == (5000, 785)
    np.testing.assert_array_equal(bunch.data.to_numpy(), mnist.data)
    assert isinstance(bunch.images, np.ndarray)


def test_mnist_return_X_y():
    X, y = load_mnist_sample(return_X_y=True)
    assert X.shape == (5000, 784)
    assert y.shape == (5000,)


# --------------------------------------------------------------- Colored MNIST


def test_colored_mnist_is_the_sample_in_one_channel(mnist):
    colored = load_colored_mnist()
    assert colored.images.shape == (5000, 3, 28, 28)
    assert colored.images.dtype == np.uint8
    rows = np.arange(5000)
    # the digit's grey levels sit in its colour's channel, the others are 0
    np.testing.assert_array_equal(
        colored.images[rows, colored.colour], mnist.images[:, 0]
    )
    assert (
        colored.images.sum(axis=(2, 3))[
            np.arange(3)[None, :] != colored.colour[:, None]
        ].max()
        == 0
    )
    np.testing.assert_array_equal(colored.digit, mnist.target)
    np.testing.assert_array_equal(colored.target, 3 * colored.digit + colored.colour)
    np.testing.assert_array_equal(colored.data, colored.images.reshape(5000, -1))
    # each digit is red, green and blue a third of the time (167/167/166)
    counts = np.bincount(colored.target, minlength=30).reshape(10, 3)
    assert (counts.sum(axis=1) == 500).all()
    assert counts.max() - counts.min() <= 1
    assert colored.target_names[3 * 5 + 0] == "5 red"
    assert colored.target_names[3 * 9 + 2] == "9 blue"


def test_colored_mnist_is_deterministic_and_fresh():
    first, second = load_colored_mnist(), load_colored_mnist()
    np.testing.assert_array_equal(first.images, second.images)
    first.images[...] = 0
    assert load_colored_mnist().images.max() == 255
    X, y = load_colored_mnist(return_X_y=True)
    np.testing.assert_array_equal(X, second.images)
    np.testing.assert_array_equal(y, second.target)
    with pytest.raises(ValueError, match="return_X_y"):
        load_colored_mnist(return_X_y="yes")
    assert "CC BY-SA 3.0" in second.DESCR


# ------------------------------------------------------------------ all loaders


@pytest.mark.parametrize(
    ("loader", "as_frame"),
    [
        (load_adult, True),
        (load_adult, False),
        (load_german_credit, True),
        (load_german_credit, False),
        (load_mnist_sample, True),
        (load_mnist_sample, False),
    ],
)
def test_return_X_y_matches_bunch(loader, as_frame):
    X, y = loader(return_X_y=True, as_frame=as_frame)
    bunch = loader(as_frame=as_frame)
    assert type(X) is type(bunch.data)
    assert type(y) is type(bunch.target)
    if as_frame:
        pd.testing.assert_frame_equal(X, bunch.data)
        pd.testing.assert_series_equal(y, bunch.target)
        assert bunch.frame is not None
        pd.testing.assert_frame_equal(bunch.frame.iloc[:, :-1], bunch.data)
    else:
        np.testing.assert_array_equal(X, bunch.data)
        np.testing.assert_array_equal(y, bunch.target)
        assert bunch.frame is None


@pytest.mark.parametrize(
    ("loader", "licence"),
    [
        (load_adult, "CC BY 4.0"),
        (load_german_credit, "CC BY 4.0"),
        (load_ecg5000, "freely available for research"),
        (load_mnist_sample, "CC BY-SA 3.0"),
    ],
)
def test_descr_mentions_licence(loader, licence):
    descr = loader().DESCR
    assert isinstance(descr, str)
    assert len(descr) > 500
    assert ":Licence:" in descr
    assert licence in descr


def _mutate(bunch):
    """Change every array or frame of a bunch in place."""
    for key in ("data", "frame"):
        value = bunch.get(key)
        if isinstance(value, pd.DataFrame):
            for name in value.columns:
                if is_integer_dtype(value[name]):
                    value.loc[:, name] = value[name] + 1
                else:
                    value.loc[:, name] = "changed"
    if isinstance(bunch.target, pd.Series):
        bunch.target.loc[:] = 1 - bunch.target
    for key in ("data", "target", "images", "target_multiclass", "split"):
        value = bunch.get(key)
        if isinstance(value, np.ndarray):
            value[...] = value.flat[-1]


@pytest.mark.parametrize(
    ("loader", "kwargs"),
    [
        (load_adult, {}),
        (load_adult, {"as_frame": False}),
        (load_german_credit, {}),
        (load_german_credit, {"as_frame": False}),
        (load_ecg5000, {}),
        (load_ecg5000, {"split": "train"}),
        (load_mnist_sample, {}),
        (load_mnist_sample, {"as_frame": True}),
    ],
)
def test_returns_fresh_copies(loader, kwargs):
    reference = loader(**kwargs)
    _mutate(loader(**kwargs))
    again = loader(**kwargs)
    for key in ("data", "target", "frame", "images", "target_multiclass", "split"):
        if key not in reference or reference[key] is None:
            continue
        assert again[key] is not reference[key]
        if isinstance(reference[key], pd.DataFrame):
            pd.testing.assert_frame_equal(again[key], reference[key])
        elif isinstance(reference[key], pd.Series):
            pd.testing.assert_series_equal(again[key], reference[key])
        else:
            np.testing.assert_array_equal(again[key], reference[key])


@pytest.mark.parametrize("loader", [load_adult, load_german_credit])
def test_frame_and_data_do_not_share_memory(loader):
    bunch = loader()
    name = bunch.feature_names[0]
    before = bunch.frame[name].copy()
    assert before.iloc[0] != before.iloc[1]
    bunch.data.loc[0, name] = bunch.data.loc[1, name]
    assert bunch.data.loc[0, name] == before.iloc[1]
    pd.testing.assert_series_equal(bunch.frame[name], before)


def test_mutating_category_lists_does_not_leak(adult):
    bunch = load_adult()
    bunch.categories["Education"].append("PhD")
    bunch.feature_names.append("extra")
    again = load_adult()
    assert "PhD" not in again.categories["Education"]
    assert again.feature_names == ADULT_FEATURES


@pytest.mark.parametrize("loader", [load_adult, load_german_credit, load_mnist_sample])
@pytest.mark.parametrize(("name", "value"), [("as_frame", "yes"), ("return_X_y", 1)])
def test_non_boolean_flags_raise(loader, name, value):
    with pytest.raises(ValueError, match=name):
        loader(**{name: value})


def test_ecg_has_no_as_frame():
    with pytest.raises(TypeError):
        load_ecg5000(as_frame=True)


def test_data_files_are_package_resources():
    data = resources.files("cfexplain.datasets").joinpath("data")
    names = {entry.name for entry in data.iterdir()}
    assert {
        "adult.data.gz",
        "german.data.gz",
        "values_maps.json",
        "ECG5000_TRAIN.txt.gz",
        "ECG5000_TEST_reconstructed.txt.gz",
        "mnist_5k.csv.gz",
        "README.md",
    } <= names


def test_gunpoint_splits_shapes_and_classes():
    from cfexplain.datasets import load_gunpoint

    bunch = load_gunpoint()
    assert bunch.data.shape == (200, 1, 150) and bunch.data.dtype == np.float32
    assert bunch.target.tolist().count(0) == 100 and set(bunch.target) == {0, 1}
    train = load_gunpoint(split="train")
    assert train.data.shape == (50, 1, 150) and int((train.target == 0).sum()) == 24
    np.testing.assert_array_equal(train.data, bunch.data[:50])
    # Every series is z-normalised (UCR), to float32 precision.
    np.testing.assert_allclose(bunch.data.mean(axis=2), 0, atol=1e-5)
    assert "Ratanamahatana" in bunch.DESCR
    X, y = load_gunpoint(return_X_y=True)
    X[0, 0, 0] = 99.0  # each call returns new arrays
    assert load_gunpoint().data[0, 0, 0] != 99.0
    with pytest.raises(ValueError, match="split must be"):
        load_gunpoint(split="validation")
