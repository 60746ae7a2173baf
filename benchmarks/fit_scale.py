"""How the explainers' default training budget scales with the table's size.

Protocol: a synthetic table (scikit-learn's ``make_classification``, 70/30
classes, seed 0) of 6 numbers, an integer age and 3 categorical features
(two cut from informative features, one drawn at random), explained through
a ``HistGradientBoostingClassifier`` pipeline with native categories; each
explainer is fitted at its defaults (``random_state=0``) on the first ``n``
rows, for each ``n`` given, and asked for the opposite class of 5,000 rows
the model and the explainer never saw. Every (size, explainer) cell runs in
a fresh process, so its peak memory is its own.

Reported per cell: fit seconds, the budget ``"auto"`` chose (batch size,
epochs, the surrogate's epochs), the self-check's share of targets the
generator reached alone (``fit_report_["generator_validity_opposite"]``),
the surrogate's agreement with the model on held-out rows and on generated
ones, then on the 5,000 rows: validity by the real model, categorical L0,
L1, class-conditional MMD², transform rows/s (one call) and the process's
peak memory (``ru_maxrss``, read as KiB: Linux). Warnings at fit and at
transform are counted by class.

Usage::

    python benchmarks/fit_scale.py --threads 2
    python benchmarks/fit_scale.py --rows 1000,1000000 --explainers GAN
    python benchmarks/fit_scale.py --rows 1000000 --explainers GAN \
        --surrogate-epochs 20,4 --threads 2

Writes ``benchmarks/results/fit_scale.json`` and ``fit_scale.md`` (a run
replaces the cells it ran and keeps the others, and writes them after each
cell). ``--surrogate-epochs`` fits each cell once per value given instead of
the default ``"auto"`` and writes ``fit_scale_surrogate.json`` / ``.md``.
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
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
TEST_ROWS = 5000
EXPLAINERS = ("GAN", "AE", "CVAE")


def make_table(n_rows):
    """Return ``(X, y)``: ``n_rows`` training rows then ``TEST_ROWS`` more."""
    import numpy as np
    import pandas as pd
    from sklearn.datasets import make_classification

    numbers, y = make_classification(
        n_samples=n_rows + TEST_ROWS,
        n_features=8,
        n_informative=5,
        weights=[0.7],
        random_state=0,
    )
    rng = np.random.default_rng(0)
    X = pd.DataFrame(numbers[:, :6], columns=[f"x{i}" for i in range(6)])
    regions = np.array(list("ABCDEFG"))
    X["region"] = pd.Categorical(
        regions[np.digitize(numbers[:, 6], [-1.5, -1, -0.5, 0, 0.5, 1])]
    )
    X["plan"] = pd.Categorical(
        np.where(
            numbers[:, 7] > 0.3,
            "gold",
            np.where(numbers[:, 7] > -0.7, "silver", "basic"),
        )
    )
    X["channel"] = pd.Categorical(
        rng.choice(["web", "store", "phone"], size=len(X), p=[0.5, 0.3, 0.2])
    )
    age = 40 + 12 * numbers[:, 0] + rng.normal(0, 5, len(X))
    X["age"] = np.clip(np.round(age), 18, 90).astype(int)
    return X, y


def run_cell(n_rows, name, surrogate_epochs="auto"):
    """Fit and evaluate one explainer on ``n_rows`` rows; return its figures."""
    import numpy as np
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    from cfexplain import CounterfactualAE, CounterfactualCVAE, CounterfactualGAN
    from cfexplain.metrics import counterfactual_report

    X, y = make_table(n_rows)
    X_train, X_test = X.iloc[:n_rows], X.iloc[n_rows:]
    categorical = ["region", "plan", "channel"]
    model = make_pipeline(
        make_column_transformer(
            (OrdinalEncoder(), categorical), remainder="passthrough"
        ),
        HistGradientBoostingClassifier(categorical_features=[0, 1, 2], random_state=0),
    ).fit(X_train, y[:n_rows])
    estimator = {
        "GAN": CounterfactualGAN,
        "AE": CounterfactualAE,
        "CVAE": CounterfactualCVAE,
    }[name]
    params = {"random_state": 0}
    if surrogate_epochs != "auto":
        params["surrogate_epochs"] = int(surrogate_epochs)
    with warnings.catch_warnings(record=True) as fit_warnings:
        warnings.simplefilter("always")
        start = time.perf_counter()
        explainer = estimator(**params).fit(X_train, predict_fn=model.predict_proba)
        fit_seconds = time.perf_counter() - start
    with warnings.catch_warnings(record=True) as transform_warnings:
        warnings.simplefilter("always")
        start = time.perf_counter()
        X_cf = explainer.transform(X_test)
        transform_seconds = time.perf_counter() - start
    report = counterfactual_report(model.predict_proba, X_test, X_cf).iloc[0]
    fit_report = explainer.fit_report_
    surrogate = getattr(explainer, "surrogate_", None)

    def count(caught):
        return dict(Counter(w.category.__name__ for w in caught))

    return {
        "rows": n_rows,
        "explainer": name,
        "surrogate_epochs_given": surrogate_epochs,
        "model_accuracy": float(model.score(X_test, y[n_rows:])),
        "fit_seconds": fit_seconds,
        "batch_size": explainer.batch_size_,
        "epochs": explainer.max_epochs_,
        "surrogate_epochs": None if surrogate is None else surrogate.max_epochs_,
        "generator_validity": fit_report.get("generator_validity_opposite"),
        "surrogate_agreement": fit_report.get("surrogate_agreement"),
        "surrogate_agreement_counterfactuals": fit_report.get(
            "surrogate_agreement_counterfactuals"
        ),
        "validity": float(report["validity"]),
        "l0_categorical": float(report["l0_categorical"]),
        "l1": float(report["l1"]),
        "mmd2_0": float(report["mmd2_0"]),
        "mmd2_1": float(report["mmd2_1"]),
        "transform_rows_per_s": len(X_test) / transform_seconds,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "fit_warnings": count(fit_warnings),
        "transform_warnings": count(transform_warnings),
        "changed_rows": float(np.mean((X_cf != X_test).any(axis=1))),
    }


def markdown_table(rows):
    def figure(value, spec):
        return "—" if value is None else format(value, spec)

    lines = [
        "| rows | explainer | fit s | batch | epochs | surrogate epochs "
        "| generator alone | surrogate agreement (rows / generated) | validity "
        "| cat. L0 | L1 | MMD²_0 | MMD²_1 | rows/s | peak MB | warnings |",
        "|" + "---|" * 16,
    ]
    for r in rows:
        warned = Counter(r["fit_warnings"]) + Counter(r["transform_warnings"])
        lines.append(
            f"| {r['rows']:,} | {r['explainer']} | {r['fit_seconds']:.1f} "
            f"| {r['batch_size']} | {r['epochs']} "
            f"| {figure(r['surrogate_epochs'], 'd')} "
            f"| {figure(r['generator_validity'], '.3f')} "
            f"| {figure(r['surrogate_agreement'], '.3f')} / "
            f"{figure(r['surrogate_agreement_counterfactuals'], '.3f')} "
            f"| {r['validity']:.3f} | {r['l0_categorical']:.2f} | {r['l1']:.3f} "
            f"| {r['mmd2_0']:.3f} | {r['mmd2_1']:.3f} "
            f"| {r['transform_rows_per_s']:,.0f} | {r['peak_memory_mb']:,.0f} "
            f"| {', '.join(f'{k} ({v})' for k, v in warned.items()) or 'none'} |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000,10000,100000,1000000")
    parser.add_argument("--explainers", default=",".join(EXPLAINERS))
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads in each cell"
    )
    parser.add_argument(
        "--surrogate-epochs",
        default=None,
        help="fit each cell with these surrogate_epochs instead, e.g. 20,4",
    )
    parser.add_argument("--cell", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cell:
        import torch

        if args.threads is not None:
            torch.set_num_threads(args.threads)
        n_rows, name, surrogate_epochs = args.cell
        print(json.dumps(run_cell(int(n_rows), name, surrogate_epochs)))
        return

    RESULTS.mkdir(exist_ok=True)
    stem = "fit_scale" if args.surrogate_epochs is None else "fit_scale_surrogate"
    path = RESULTS / f"{stem}.json"
    rows = json.loads(path.read_text())["rows"] if path.exists() else []
    machine = f"{platform.machine()}, {args.threads or 'default'} torch threads"
    epochs = (args.surrogate_epochs or "auto").split(",")
    for n_rows in (int(n) for n in args.rows.split(",")):
        for name in args.explainers.split(","):
            for surrogate_epochs in epochs:
                command = [sys.executable, __file__, "--cell", str(n_rows), name]
                command.append(surrogate_epochs)
                if args.threads is not None:
                    command += ["--threads", str(args.threads)]
                done = subprocess.run(command, capture_output=True, text=True)
                if done.returncode:
                    sys.exit(f"{n_rows} rows, {name} failed:\n{done.stderr}")
                row = json.loads(done.stdout.strip().splitlines()[-1])
                print(json.dumps(row), flush=True)
                rows = [r for r in rows if _key(r) != _key(row)] + [row]
                rows.sort(key=lambda r: (r["rows"], EXPLAINERS.index(r["explainer"])))
                path.write_text(
                    json.dumps({"machine": machine, "rows": rows}, indent=1)
                )
                (RESULTS / f"{stem}.md").write_text(
                    f"# Fit budget by table size ({machine})\n\n"
                    f"{markdown_table(rows)}\n"
                )
    print(markdown_table(rows))


def _key(row):
    """A cell's identity: its size, explainer and surrogate epochs asked for."""
    return (row["rows"], row["explainer"], row["surrogate_epochs_given"])


if __name__ == "__main__":
    main()
