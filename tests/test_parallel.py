"""Distributed transforms: Dask and Spark give the local answer, row for row."""

import shutil
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from cf_testing import (
    FAST,
    FAST_AUTOENCODER,
    frame_proba_3,
    frame_value,
    image_proba,
    make_images,
    make_mixed_frame,
)
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from cfexplain import (
    CounterfactualAE,
    CounterfactualGAN,
    InvalidDataError,
    OutsideTrainingRangeWarning,
    PredictorError,
    TargetError,
)
from cfexplain.parallel import transform_dask, transform_spark

dd = pytest.importorskip("dask.dataframe")

FEATURES = ["age", "hours", "color", "member"]


def _pipeline(X):
    """A scikit-learn pipeline, the model users ship to workers."""
    y = (X["age"] + 10 * (X["color"] == "red") > 50).astype(int)
    return make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["color"]),
            (StandardScaler(), ["age", "hours"]),
            remainder="passthrough",
        ),
        LogisticRegression(),
    ).fit(X, y)


@pytest.fixture(scope="module")
def explainer(mixed_frame):
    model = _pipeline(mixed_frame)
    return CounterfactualGAN(**FAST).fit(mixed_frame, model.predict_proba)


@pytest.fixture(scope="module")
def rows():
    X = make_mixed_frame(n=3000, seed=11)
    # Extra columns in any order around the features: they pass through.
    X.insert(1, "customer", np.arange(len(X)) * 7)
    X["wanted"] = np.where(np.arange(len(X)) % 3 == 0, 0, 1)
    return X


def _local(explainer, X, target, **constraints):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        output, valid, *_ = explainer._transform_with_validity(
            X[FEATURES],
            target,
            tuple(constraints.get(k) for k in ("immutable", "bounds", "monotonic")),
            check_all=True,
        )
    return output, valid


def _assert_same_features(result, expected, **kwargs):
    """Equal values; the engines' own string dtypes are kept on purpose."""
    pd.testing.assert_frame_equal(
        result[FEATURES], expected.astype(result[FEATURES].dtypes.to_dict()), **kwargs
    )


def test_dask_local_cluster_equals_local_transform(explainer, rows):
    distributed = pytest.importorskip("distributed")
    constraints = {"immutable": ["color"], "bounds": {"hours": (20, 60)}}
    frame = dd.from_pandas(rows, npartitions=6)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        lazy = transform_dask(explainer, frame, target_column="wanted", **constraints)
        result = lazy.compute()
    expected, valid = _local(explainer, rows, rows["wanted"].to_numpy(), **constraints)
    _assert_same_features(result, expected)
    pd.testing.assert_index_equal(result.index, rows.index)
    assert list(result.columns) == [*rows.columns, "valid"]
    pd.testing.assert_series_equal(result["customer"], rows["customer"])
    np.testing.assert_array_equal(result["valid"].to_numpy(), valid)
    assert (result["color"] == rows["color"]).all()
    inside = result["hours"].between(20, 60)
    assert (inside | (result["hours"] == rows["hours"])).all()


def test_dask_dtypes_and_meta_match_the_result(explainer, rows):
    frame = dd.from_pandas(rows, npartitions=3)
    lazy = transform_dask(explainer, frame, target="opposite")
    result = lazy.compute(scheduler="sync")
    pd.testing.assert_series_equal(lazy.dtypes, result.dtypes)
    assert result["valid"].dtype == bool
    expected, valid = _local(explainer, rows, "opposite")
    _assert_same_features(result, expected)
    np.testing.assert_array_equal(result["valid"].to_numpy(), valid)


def test_dask_probability_columns_and_no_valid_column(mixed_frame):
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, frame_proba_3)
    X = make_mixed_frame(n=200, seed=3)
    X[["p0", "p1", "p2"]] = np.tile([0.1, 0.1, 0.8], (len(X), 1))
    X.iloc[::2, -3:] = [0.8, 0.1, 0.1]
    result = transform_dask(
        cf,
        dd.from_pandas(X, npartitions=2),
        target_column=["p0", "p1", "p2"],
        valid_column=None,
    ).compute(scheduler="sync")
    expected, _ = _local(cf, X, X[["p0", "p1", "p2"]].to_numpy())
    assert list(result.columns) == list(X.columns)
    _assert_same_features(result, expected)


def test_dask_regression_interval_columns(mixed_frame):
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, frame_value)
    X = make_mixed_frame(n=150, seed=4)
    X["low"] = frame_value(X) + 5
    X["high"] = X["low"] + 10
    result = transform_dask(
        cf, dd.from_pandas(X, npartitions=2), target_column=["low", "high"]
    ).compute(scheduler="sync")
    expected, valid = _local(cf, X, X[["low", "high"]].to_numpy())
    _assert_same_features(result, expected)
    np.testing.assert_array_equal(result["valid"].to_numpy(), valid)


def test_dask_flags_originals_outside_the_training_range(explainer, rows):
    X = rows.iloc[:40].copy()
    X.iloc[[2, 25], X.columns.get_loc("age")] = [500, -500]
    frame = dd.from_pandas(X, npartitions=2)
    lazy = transform_dask(explainer, frame, outside_range_column="outside")
    result = lazy.compute(scheduler="sync")
    pd.testing.assert_series_equal(lazy.dtypes, result.dtypes)
    assert list(result.columns) == [*X.columns, "valid", "outside"]
    flagged = result["outside"].to_numpy()
    assert flagged[[2, 25]].all()
    expected = explainer.adapter_.outside_training_range(X[FEATURES]).any(axis=1)
    np.testing.assert_array_equal(flagged, expected)
    # transform warns about the same rows; on a worker that warning is lost.
    with pytest.warns(
        OutsideTrainingRangeWarning, match=f"{flagged.sum()} of 40 originals"
    ):
        explainer.transform(X[FEATURES])


def test_dask_empty_partition(explainer):
    X = make_mixed_frame(n=40, seed=5)
    frame = dd.from_pandas(X, npartitions=2)
    empty = frame[frame["age"] > 1000]
    result = transform_dask(explainer, empty, target="opposite").compute(
        scheduler="sync"
    )
    assert len(result) == 0 and list(result.columns) == [*X.columns, "valid"]
    result = transform_dask(
        explainer, empty, target="opposite", outside_range_column="outside"
    ).compute(scheduler="sync")
    assert list(result.columns) == [*X.columns, "valid", "outside"]
    assert result["outside"].dtype == bool


def test_dask_returns_unseen_category_rows_unchanged_when_asked(explainer, rows):
    X = rows.iloc[:60].astype({"color": object})
    X.iloc[[3, 40], X.columns.get_loc("color")] = "purple"
    # One unexplained and one explained row beyond the training ages.
    X.iloc[[40, 5], X.columns.get_loc("age")] = [500, -500]
    frame = dd.from_pandas(X, npartitions=2)
    with pytest.raises(InvalidDataError, match="not seen during fit"):
        transform_dask(explainer, frame, target_column="wanted").compute(
            scheduler="sync"
        )
    explainer.set_params(handle_unknown="warn")
    try:
        result = transform_dask(
            explainer, frame, target_column="wanted", outside_range_column="outside"
        ).compute(scheduler="sync")
    finally:
        explainer.set_params(handle_unknown="error")
    known = X["color"] != "purple"
    expected, valid = _local(explainer, X[known], X.loc[known, "wanted"].to_numpy())
    _assert_same_features(result[known], expected)
    np.testing.assert_array_equal(result.loc[known, "valid"].to_numpy(), valid)
    _assert_same_features(result[~known], X.loc[~known, FEATURES])
    assert not result.loc[~known, "valid"].any()
    # Explained or not, each row's range flag is the adapter's.
    outside = explainer.adapter_.outside_training_range(X[FEATURES]).any(axis=1)
    assert outside[[5, 40]].all()
    np.testing.assert_array_equal(result["outside"].to_numpy(), outside)


def test_dask_ships_the_explainer_as_one_graph_key(explainer, rows):
    lazy = transform_dask(explainer, dd.from_pandas(rows, npartitions=4))
    graph = dict(lazy.__dask_graph__())
    # One node holds the explainer; the four partition tasks refer to its key.
    # (Newer Dask wraps the object in a node that holds it as its value.)
    held = [
        key
        for key, node in graph.items()
        if node is explainer or getattr(node, "value", None) is explainer
    ]
    assert len(held) == 1
    assert sum(str(key[0]).startswith("counterfactuals-") for key in graph) == 4


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"target": 1, "target_column": "wanted"}, TypeError, "not both"),
        ({"target_column": "nope"}, InvalidDataError, "does not have"),
        ({"target_column": "age"}, InvalidDataError, "is a feature"),
        ({"valid_column": "customer"}, InvalidDataError, "already has a column"),
        (
            {"outside_range_column": "customer"},
            InvalidDataError,
            "another outside_range_column name",
        ),
        (
            {"outside_range_column": "valid"},
            InvalidDataError,
            "different names",
        ),
    ],
)
def test_dask_bad_requests_say_what_to_do(explainer, rows, kwargs, error, match):
    with pytest.raises(error, match=match):
        transform_dask(explainer, dd.from_pandas(rows, npartitions=2), **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"target": 7}, TargetError, "7"),
        ({"target": np.arange(3000) % 2}, InvalidDataError, "target_column="),
        # Per-row intervals as a list, mixed with values: not read by numpy.
        ({"target": [(0, 1), 1, (None, 0)]}, InvalidDataError, "target_column="),
        ({"immutable": ["colour"]}, ValueError, "colour"),
    ],
)
def test_dask_checks_what_holds_for_every_row_before_computing(
    explainer, rows, kwargs, error, match
):
    with pytest.raises(error, match=match):
        transform_dask(explainer, dd.from_pandas(rows, npartitions=2), **kwargs)


def test_dask_accepts_one_probability_vector_for_every_row(explainer, rows):
    frame = dd.from_pandas(rows.iloc[:50], npartitions=2)
    result = transform_dask(explainer, frame, target=[0.1, 0.9])
    assert len(result.compute(scheduler="sync")) == 50


def test_dask_refuses_opposite_for_regression_before_computing(mixed_frame, rows):
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, frame_value)
    with pytest.raises(TargetError, match="regression"):
        transform_dask(cf, dd.from_pandas(rows, npartitions=2), target="opposite")


def test_dask_names_an_unpicklable_model_before_computing(mixed_frame, rows):
    cf = CounterfactualGAN(**FAST).fit(mixed_frame, lambda X: frame_proba_3(X))
    with pytest.raises(PredictorError, match="lambda"):
        transform_dask(cf, dd.from_pandas(rows, npartitions=2))


@pytest.mark.parametrize("version", ["2024.8.0", "2025.4.1"])
def test_dask_too_old_to_compute_the_explainer_is_named(
    explainer, rows, monkeypatch, version
):
    import dask

    frame = dd.from_pandas(rows, npartitions=2)
    monkeypatch.setattr(dask, "__version__", version)
    # Those releases would hand each partition the Delayed explainer.
    with pytest.raises(
        ImportError, match=f"needs Dask 2025.5 or later .this is {version}"
    ):
        transform_dask(explainer, frame)
    monkeypatch.setattr(dask, "__version__", "2025.5.0")
    transform_dask(explainer, frame)  # lazy: nothing computed


def test_dask_refuses_what_it_cannot_explain(explainer, rows, mixed_frame):
    frame = dd.from_pandas(rows, npartitions=2)
    with pytest.raises(InvalidDataError, match=r"lacks the feature columns \['age'\]"):
        transform_dask(explainer, frame.drop(columns="age"))
    with pytest.raises(TypeError, match="call explainer.transform directly"):
        transform_dask(explainer, rows)
    on_array = CounterfactualGAN(**FAST).fit(
        mixed_frame[["age", "hours"]].to_numpy(float), _array_proba
    )
    with pytest.raises(InvalidDataError, match="fit it on a pandas DataFrame"):
        transform_dask(on_array, frame)
    images = make_images(n=32, channels=1)
    image_cf = CounterfactualAE(**FAST_AUTOENCODER).fit(images, image_proba)
    with pytest.raises(InvalidDataError, match="Dask and Spark frames hold tables"):
        transform_dask(image_cf, frame)


def _array_proba(X):
    p = 1 / (1 + np.exp(-np.asarray(X, float).sum(axis=1) / 50 + 1))
    return np.column_stack([1 - p, p])


def test_importing_cfexplain_imports_neither_engine():
    code = (
        "import sys, cfexplain, cfexplain.parallel; "
        "print(any(m.split('.')[0] in ('dask', 'distributed', 'pyspark') "
        "for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


# PySpark warns that it does not fully support pandas 3 yet, and calls
# pandas with a keyword pandas 3 deprecates.
@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_spark_local_equals_local_transform(explainer, rows, monkeypatch):
    pytest.importorskip("pyspark")
    pytest.importorskip("pyarrow")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java")
    from pyspark.sql import SparkSession

    # Spark's Python workers run PYSPARK_PYTHON, else the PATH's python3,
    # which lacks cfexplain unless this environment is activated.
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)

    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "700")
        .getOrCreate()
    )
    try:
        sdf = spark.createDataFrame(rows.reset_index())
        result = (
            transform_spark(
                explainer, sdf, target_column="wanted", outside_range_column="outside"
            )
            .toPandas()
            .sort_values("id")
            .set_index("id")
        )
    finally:
        spark.stop()
    expected, valid = _local(explainer, rows, rows["wanted"].to_numpy())
    assert list(result.columns) == [*rows.columns, "valid", "outside"]
    _assert_same_features(result, expected, check_index_type=False)
    np.testing.assert_array_equal(result["valid"].to_numpy(), valid)
    outside = explainer.adapter_.outside_training_range(rows[FEATURES]).any(axis=1)
    np.testing.assert_array_equal(result["outside"].to_numpy(), outside)


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_spark_refuses_other_frames(explainer, rows):
    pytest.importorskip("pyspark")
    with pytest.raises(TypeError, match="pyspark.sql.DataFrame"):
        transform_spark(explainer, rows)
