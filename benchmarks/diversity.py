"""Several counterfactuals per row: are they valid, and do they differ?

``explain(X, n_counterfactuals=k)`` returns ``k`` counterfactuals per row;
a user asking for five expects five different ways to reach the target,
each accepted by the model. For each dataset x model x explainer (defaults,
``random_state=0``, 80/20 split with seed 0, the models of
``benchmarks/matrix.py`` as black boxes), this explains up to ``--rows``
test rows with ``k = --k`` and reports, measured with the real model:

* validity of the first answer (``transform``'s) and of the others;
* distinct answers per row (of ``k``) and the share of rows with ``k``
  distinct ones;
* diversity: the mean distance between two valid answers of a row
  (numerical features in standard deviations of the training split, plus
  one per categorical feature that differs), DiCE's pairwise notion
  (Mothilal et al. 2020, section 3.2) with a Gower-like distance;
* the seconds ``explain`` took.

Usage::

    python benchmarks/diversity.py --threads 2
    python benchmarks/diversity.py --datasets adult --models MLP --rows 500

Writes ``benchmarks/results/diversity.json`` and ``diversity.md`` (rows of
the cells it ran replace earlier ones).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from itertools import combinations
from pathlib import Path

import numpy as np
import torch
from matrix import build_model, split

from cfexplain import CounterfactualAE, CounterfactualCVAE, CounterfactualGAN

RESULTS = Path(__file__).resolve().parent / "results"
EXPLAINERS = {
    "GAN": CounterfactualGAN,
    "AE": CounterfactualAE,
    "CVAE": CounterfactualCVAE,
}


def pairwise_distances(answers, scale):
    """Mean distance between two answers of one row, and its pairs' count.

    ``answers`` is the frame of one row's valid answers; numerical columns
    are divided by ``scale``, categorical ones count 1 when they differ.
    """
    pairs = list(combinations(range(len(answers)), 2))
    if not pairs:
        return []
    numerical = [c for c in answers.columns if c in scale]
    categorical = [c for c in answers.columns if c not in scale]
    values = answers[numerical].to_numpy(dtype=float) / scale[numerical].to_numpy()
    labels = answers[categorical].astype(str).to_numpy()
    return [
        np.abs(values[a] - values[b]).sum() + (labels[a] != labels[b]).sum()
        for a, b in pairs
    ]


def run_cell(dataset, model_name, explainer_name, X_train, X_test, model, k):
    explainer = EXPLAINERS[explainer_name](random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        explainer.fit(X_train, predict_fn=model.predict_proba)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        explanation = explainer.explain(X_test, target="opposite", n_counterfactuals=k)
        explain_seconds = time.perf_counter() - start
    scale = X_train.select_dtypes("number").std().replace(0.0, 1.0)
    distinct, distances = [], []
    for i, row in enumerate(X_test.index):
        answers = explanation.counterfactuals.xs(row, level=0)
        distinct.append(len(answers.drop_duplicates()))
        valid = answers[explanation.valid[i]].drop_duplicates()
        distances += pairwise_distances(valid, scale)
    distinct = np.asarray(distinct)
    row = {
        "dataset": dataset,
        "model": model_name,
        "explainer": explainer_name,
        "rows": len(X_test),
        "k": k,
        "validity_first": float(explanation.valid[:, 0].mean()),
        "validity_others": float(explanation.valid[:, 1:].mean()),
        "distinct_per_row": float(distinct.mean()),
        "rows_all_distinct": float((distinct == k).mean()),
        "diversity": float(np.mean(distances)) if distances else float("nan"),
        "fit_seconds": fit_seconds,
        "explain_seconds": explain_seconds,
    }
    print(row, flush=True)
    return row


def markdown(rows):
    lines = [
        "| data | model | explainer | validity, 1st | validity, others "
        "| distinct of k | rows with k distinct | diversity | explain s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['model']} | {r['explainer']} "
            f"| {r['validity_first']:.3f} | {r['validity_others']:.3f} "
            f"| {r['distinct_per_row']:.2f} of {r['k']} "
            f"| {r['rows_all_distinct']:.0%} | {r['diversity']:.2f} "
            f"| {r['explain_seconds']:.2f} |"
        )
    return "\n".join(lines)


def merge(path, rows):
    """Replace the cells just run, keep the others in order."""
    key = lambda r: (r["dataset"], r["model"], r["explainer"])  # noqa: E731
    if not path.exists():
        return rows
    new = {key(r): r for r in rows}
    old = json.loads(path.read_text())["rows"]
    return [new.pop(key(r), r) for r in old] + list(new.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="german,adult")
    parser.add_argument("--models", default="RF,LogReg,MLP")
    parser.add_argument("--explainers", default="GAN,AE,CVAE")
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    rows = []
    for dataset in args.datasets.split(","):
        X_train, X_test, y_train, _ = split(dataset)
        X_test = X_test.iloc[: args.rows]
        for model_name in args.models.split(","):
            model = build_model(model_name, X_train, y_train)
            for explainer_name in args.explainers.split(","):
                rows.append(
                    run_cell(
                        dataset,
                        model_name,
                        explainer_name,
                        X_train,
                        X_test,
                        model,
                        args.k,
                    )
                )
    RESULTS.mkdir(exist_ok=True)
    rows = merge(RESULTS / "diversity.json", rows)
    meta = {
        "command": "python benchmarks/diversity.py "
        + " ".join(f"--{name} {value}" for name, value in vars(args).items()),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    (RESULTS / "diversity.json").write_text(
        json.dumps({"meta": meta, "rows": rows}, indent=2, default=float)
    )
    table = markdown(rows)
    (RESULTS / "diversity.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
