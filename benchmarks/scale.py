"""Large-data benchmark: transform many rows in chunks or in one batch.

Protocol: German credit (``load_german_credit``) and a scikit-learn pipeline
(one-hot categories, standardised numbers, ``LogisticRegression``); a
``CounterfactualGAN(random_state=0, max_epochs=--epochs)`` is fitted on the
1,000 rows, then asked for the opposite class of ``--rows`` rows resampled
from them with replacement (seed 0). Each setting runs in a fresh process so
its peak memory is its own: ``chunk_size="auto"`` (bounded memory) and one
batch (``chunk_size`` larger than the input). Reported: transform rows/s,
the growth of the process's peak RSS during ``transform`` (output frame
included), and whether the chunked output equals the one-batch output on a
checked sample of rows.

Usage::

    python benchmarks/scale.py --rows 1000000

Writes ``benchmarks/results/scale.json`` and ``scale.md``.
"""

from __future__ import annotations

import argparse
import json
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
CHECKED_ROWS = 2000


def _setup(rows, epochs):
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from cfexplain import CounterfactualGAN, datasets

    X, y = datasets.load_german_credit(return_X_y=True)
    categorical = X.select_dtypes(exclude="number").columns.tolist()
    numerical = [c for c in X.columns if c not in categorical]
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), categorical),
            (StandardScaler(), numerical),
        ),
        LogisticRegression(max_iter=1000),
    ).fit(X, y)
    explainer = CounterfactualGAN(random_state=0, max_epochs=epochs)
    explainer.fit(X, predict_fn=model.predict_proba)
    big = X.sample(n=rows, replace=True, random_state=0).reset_index(drop=True)
    return explainer, big


def run_one(chunk, rows, epochs, sample_path):
    """Run one setting in this process and print its figures as JSON."""
    warnings.simplefilter("ignore")
    explainer, big = _setup(rows, epochs)
    explainer.set_params(chunk_size="auto" if chunk == "auto" else int(chunk))

    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    before = peak()
    start = time.perf_counter()
    out = explainer.transform(big)
    seconds = time.perf_counter() - start
    checked = np.random.RandomState(1).choice(rows, CHECKED_ROWS, replace=False)
    out.iloc[np.sort(checked)].to_pickle(sample_path)
    print(
        json.dumps(
            {
                "chunk_size": chunk,
                "chunk_rows": explainer._chunk_rows(),
                "rows": rows,
                "rows_per_s": rows / seconds,
                "peak_rss_growth_mb": peak() - before,
            }
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--sample", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        run_one(args.one, args.rows, args.epochs, args.sample)
        return

    import pandas as pd

    RESULTS.mkdir(exist_ok=True)
    rows = []
    samples = {}
    for chunk in ("auto", str(args.rows + 1)):
        sample = RESULTS / f".scale_sample_{chunk}.pkl"
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                chunk,
                "--rows",
                str(args.rows),
                "--epochs",
                str(args.epochs),
                "--sample",
                str(sample),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["setting"] = "chunked (auto)" if chunk == "auto" else "one batch"
        samples[chunk] = pd.read_pickle(sample)
        sample.unlink()
        print(json.dumps(row), flush=True)
        rows.append(row)
    chunked, whole = samples.values()
    same = bool(chunked.equals(whole))
    meta = {
        "checked_rows": CHECKED_ROWS,
        "chunked_equals_one_batch": same,
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
    }
    (RESULTS / "scale.json").write_text(
        json.dumps({"meta": meta, "rows": rows}, indent=2)
    )
    lines = [
        f"{args.rows:,} rows; chunked output equals one batch on {CHECKED_ROWS:,} "
        f"checked rows: {same}.",
        "",
        "| setting | chunk rows | rows/s | peak RSS growth (MB) |",
        "|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['setting']} | {row['chunk_rows']:,} | {row['rows_per_s']:,.0f} | "
            f"{row['peak_rss_growth_mb']:,.0f} |"
        )
    (RESULTS / "scale.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
