"""Large-data benchmark: chunked transform, then Dask and Spark with 1 and 2 workers.

Protocol: German credit (``load_german_credit``) and a scikit-learn pipeline
(one-hot categories, standardised numbers, ``LogisticRegression``); one
``CounterfactualGAN(random_state=0, training_row_candidates=False)`` is
fitted on the 1,000 rows and pickled, and every setting loads that file in a
fresh process, so all settings explain with the same weights and each
measures its own memory. ``training_row_candidates=False`` is the large-data
recipe (``docs/large_data.rst``): the default, ``"auto"``, gives every row
of an explainer fit on at most 10,000 rows a training-row candidate too,
for sparser answers at a small fraction of the throughput;
``--training-row-candidates auto`` measures that instead (results in
``scale_candidates_auto.json`` / ``.md``).
The rows to explain are German-credit rows resampled with replacement; the
target is the opposite class.

1. Local (``--rows``, default 1,000,000): ``chunk_size="auto"`` against one
   batch. Reported: rows/s, the growth of the process's peak RSS during
   ``transform``, the output frame's own size (pandas' deep memory usage)
   and their difference (the memory transform needs beyond its input and
   output), and whether the two outputs are equal on checked rows.
2. Dask (``--dask-rows``, default 10,000,000): a ``distributed.LocalCluster``
   of 1 and then 2 worker processes of one thread each. Partitions of
   100,000 rows are resampled on the workers (seeded by partition number),
   explained by :func:`cfexplain.parallel.transform_dask`, and reduced to the
   count of valid rows, so no frame of 10 M rows is ever held. Reported:
   rows/s, the scaling ratio, each worker's peak RSS, and whether two
   partitions equal the local transform of the same rows.
3. Spark (``--spark-rows``, default as Dask; skipped without PySpark): the
   same partitions through :func:`cfexplain.parallel.transform_spark` on
   ``local[1]`` and ``local[2]``.

Usage::

    python benchmarks/scale.py
    python benchmarks/scale.py --rows 100000 --dask-rows 400000 --spark-rows 0
    python benchmarks/scale.py --training-row-candidates auto --rows 100000 \
        --dask-rows 0 --spark-rows 0

Writes ``benchmarks/results/scale.json`` and ``scale.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
EXPLAINER = RESULTS / ".scale_explainer.pkl"
CHECKED_ROWS = 2000
PARTITION_ROWS = 100_000
CHECKED_PARTITIONS = (0, 1)


def _german():
    from cfexplain import datasets

    return datasets.load_german_credit(return_X_y=True)


def fit_and_save(training_row_candidates=False):
    """Fit the explainer once and pickle it for every setting."""
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from cfexplain import CounterfactualGAN

    X, y = _german()
    categorical = X.select_dtypes(exclude="number").columns.tolist()
    numerical = [c for c in X.columns if c not in categorical]
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), categorical),
            (StandardScaler(), numerical),
        ),
        LogisticRegression(max_iter=1000),
    ).fit(X, y)
    start = time.perf_counter()
    explainer = CounterfactualGAN(
        random_state=0, training_row_candidates=training_row_candidates
    ).fit(X, predict_fn=model.predict_proba)
    seconds = time.perf_counter() - start
    EXPLAINER.write_bytes(pickle.dumps(explainer))
    return seconds


def _load():
    return pickle.loads(EXPLAINER.read_bytes())


def resample_partition(number, rows=PARTITION_ROWS):
    """Rows of partition ``number``: German credit resampled, seeded by it."""
    X, _ = _german()
    return X.sample(n=rows, replace=True, random_state=number).reset_index(drop=True)


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_local(chunk, rows, sample_path):
    """One local setting in this process; prints its figures as JSON."""
    warnings.simplefilter("ignore")
    explainer = _load()
    X, _ = _german()
    big = X.sample(n=rows, replace=True, random_state=0).reset_index(drop=True)
    explainer.set_params(chunk_size="auto" if chunk == "auto" else int(chunk))
    before = _peak_mb()
    start = time.perf_counter()
    out = explainer.transform(big)
    seconds = time.perf_counter() - start
    growth = _peak_mb() - before
    output_mb = out.memory_usage(deep=True).sum() / 2**20
    checked = np.random.RandomState(1).choice(rows, CHECKED_ROWS, replace=False)
    out.iloc[np.sort(checked)].to_pickle(sample_path)
    return {
        "setting": "chunked (auto)" if chunk == "auto" else "one batch",
        "chunk_rows": explainer._chunk_rows(),
        "rows": rows,
        "rows_per_s": rows / seconds,
        "peak_rss_growth_mb": growth,
        "output_frame_mb": output_mb,
        "beyond_output_mb": growth - output_mb,
    }


def _same_as_local(explainer, partition, outputs):
    """Whether an engine's partition equals the local transform of its rows."""
    expected = explainer.transform(resample_partition(partition))
    got = outputs.reset_index(drop=True)[expected.columns]
    return bool(got.astype(expected.dtypes.to_dict()).equals(expected))


def run_dask(rows, workers):
    """Explain ``rows`` on a LocalCluster of ``workers`` one-thread processes."""
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    from cfexplain.parallel import transform_dask

    warnings.simplefilter("ignore")
    explainer = _load()
    n_partitions = rows // PARTITION_ROWS
    meta = resample_partition(0, rows=0)
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            memory_limit=0,
        ) as cluster,
        Client(cluster) as client,
    ):
        frame = dd.from_map(resample_partition, range(n_partitions), meta=meta)
        answers = transform_dask(explainer, frame, target="opposite")
        start = time.perf_counter()
        n_valid = int(answers["valid"].sum().compute())
        seconds = time.perf_counter() - start
        peaks = client.run(_peak_mb)
        same = all(
            _same_as_local(
                explainer, p, answers.partitions[p].compute().drop(columns="valid")
            )
            for p in CHECKED_PARTITIONS
        )
    return {
        "engine": "dask",
        "workers": workers,
        "rows": rows,
        "rows_per_s": rows / seconds,
        "validity": n_valid / rows,
        "peak_rss_per_worker_mb": max(peaks.values()),
        "checked_partitions_equal_local": same,
    }


def run_spark(rows, workers):
    """Explain ``rows`` with Spark ``local[workers]``."""
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from cfexplain.parallel import transform_spark

    # Spark's Python workers run PYSPARK_PYTHON, else the first python3 on
    # the PATH, which need not be this environment's (where cfexplain and
    # torch are) unless the environment is activated.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    warnings.simplefilter("ignore")
    explainer = _load()
    n_partitions = rows // PARTITION_ROWS
    spark = (
        SparkSession.builder.master(f"local[{workers}]")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    schema = spark.createDataFrame(resample_partition(0, rows=5)).schema

    def generate(batches):
        for batch in batches:
            for number in batch["id"]:
                yield resample_partition(int(number))

    try:
        frame = spark.range(n_partitions, numPartitions=n_partitions).mapInPandas(
            generate, schema
        )
        answers = transform_spark(explainer, frame, target="opposite")
        start = time.perf_counter()
        n_valid = answers.agg(F.sum(F.col("valid").cast("long"))).collect()[0][0]
        seconds = time.perf_counter() - start
        first = spark.range(1, numPartitions=1).mapInPandas(generate, schema)
        same = _same_as_local(
            explainer,
            0,
            transform_spark(explainer, first, target="opposite")
            .toPandas()
            .drop(columns="valid"),
        )
    finally:
        spark.stop()
    return {
        "engine": "spark",
        "workers": workers,
        "rows": rows,
        "rows_per_s": rows / seconds,
        "validity": n_valid / rows,
        "checked_partitions_equal_local": same,
    }


def _in_fresh_process(*args):
    out = subprocess.run(
        [sys.executable, __file__, "--one", *map(str, args)],
        check=True,
        capture_output=True,
        text=True,
    )
    row = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(row), flush=True)
    return row


def _one(kind, *args):
    if kind == "local":
        chunk, rows, sample = args
        return run_local(chunk, int(rows), sample)
    if kind == "dask":
        return run_dask(int(args[0]), int(args[1]))
    return run_spark(int(args[0]), int(args[1]))


def _spark_available():
    import shutil

    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return shutil.which("java") is not None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dask-rows", type=int, default=10_000_000)
    parser.add_argument("--spark-rows", type=int, default=None)
    parser.add_argument(
        "--training-row-candidates",
        choices=("off", "auto"),
        default="off",
        help="the explainer's training_row_candidates: False (the large-data "
        "recipe, the default here) or the estimator's default 'auto'",
    )
    parser.add_argument("--one", nargs="+", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(_one(*args.one)))
        return
    import pandas as pd

    RESULTS.mkdir(exist_ok=True)
    candidates = args.training_row_candidates
    fit_seconds = fit_and_save(False if candidates == "off" else "auto")
    name = "scale" if candidates == "off" else "scale_candidates_auto"
    print(f"fit {fit_seconds:.1f} s", flush=True)
    local, samples = [], []
    for chunk in ("auto", str(args.rows + 1)):
        sample = RESULTS / f".scale_sample_{chunk}.pkl"
        local.append(_in_fresh_process("local", chunk, args.rows, sample))
        samples.append(pd.read_pickle(sample))
        sample.unlink()
    same = bool(samples[0].equals(samples[1]))
    engines = []
    if args.dask_rows:
        engines += [_in_fresh_process("dask", args.dask_rows, w) for w in (1, 2)]
    spark_rows = args.dask_rows if args.spark_rows is None else args.spark_rows
    if spark_rows and _spark_available():
        engines += [_in_fresh_process("spark", spark_rows, w) for w in (1, 2)]
    EXPLAINER.unlink()
    meta = {
        "training_row_candidates": candidates,
        "fit_seconds": fit_seconds,
        "checked_rows": CHECKED_ROWS,
        "chunked_equals_one_batch": same,
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
    }
    (RESULTS / f"{name}.json").write_text(
        json.dumps({"meta": meta, "local": local, "engines": engines}, indent=2)
    )
    (RESULTS / f"{name}.md").write_text(_markdown(args.rows, local, engines, same))


def _markdown(rows, local, engines, same):
    lines = [
        f"Local: {rows:,} rows; chunked output equals one batch on "
        f"{CHECKED_ROWS:,} checked rows: {same}.",
        "",
        "| setting | chunk rows | rows/s | peak RSS growth (MB) "
        "| output frame (MB) | beyond output (MB) |",
        "|---|---|---|---|---|---|",
    ]
    for row in local:
        lines.append(
            f"| {row['setting']} | {row['chunk_rows']:,} | {row['rows_per_s']:,.0f} "
            f"| {row['peak_rss_growth_mb']:,.0f} | {row['output_frame_mb']:,.0f} "
            f"| {row['beyond_output_mb']:,.0f} |"
        )
    if engines:
        lines += [
            "",
            "| engine | workers | rows | rows/s | scaling | validity "
            "| peak RSS per worker (MB) | checked partitions equal local |",
            "|---|---|---|---|---|---|---|---|",
        ]
        single = {
            row["engine"]: row["rows_per_s"] for row in engines if row["workers"] == 1
        }
        for row in engines:
            peak = row.get("peak_rss_per_worker_mb")
            lines.append(
                f"| {row['engine']} | {row['workers']} | {row['rows']:,} "
                f"| {row['rows_per_s']:,.0f} "
                f"| {row['rows_per_s'] / single[row['engine']]:.2f}x "
                f"| {row['validity']:.3f} "
                f"| {'-' if peak is None else f'{peak:,.0f}'} "
                f"| {row['checked_partitions_equal_local']} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
