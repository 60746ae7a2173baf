"""How well the surrogate follows tree models, and what keeps it honest.

A black box is distilled into a small network (``cfexplain._surrogate``)
and the generators learn through it, so counterfactuals are only as good
as its agreement with the model *where counterfactuals land*: between the
classes. Per dataset and tree model (scikit-learn pipelines as in
``benchmarks/matrix.py``, 80/20 split, seed 0), this script measures:

* **the surrogate alone**, fitted on the encoded training split as the
  explainers fit it (20 epochs of 512 rows, two layers of 128) and three
  alternatives: plus as many *boundary rows* (interpolations
  :math:`\\lambda x_a + (1-\\lambda) x_b` between training rows the model puts
  in different classes, decoded and relabelled by the model), at least
  1,000 optimiser steps, and (256, 256) layers with those steps. Columns:
  its agreement with the model on the test rows and on 2,000 relabelled
  interpolations between test rows of different classes;
* **end to end**, a ``CounterfactualGAN`` at its defaults, whose surrogate
  is retrained on relabelled counterfactuals during training
  (``surrogate_refresh_every="auto"``), against one without that refresh
  (``0``): the surrogate's agreement on the self-check's counterfactuals
  (``fit_report_``), then, on up to ``--rows`` test rows asked for the
  opposite class, the validity of the generator alone (``max_rounds=0``)
  and with the repairs, and the fit seconds.

Usage::

    python benchmarks/surrogate.py                        # German, breast cancer
    python benchmarks/surrogate.py --datasets adult --rows 2000

Writes ``benchmarks/results/surrogate.json`` and ``surrogate.md`` (rows of
the cells it ran replace earlier ones).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from matrix import build_model, split

from cfexplain import CounterfactualGAN
from cfexplain._surrogate import Surrogate
from cfexplain.preprocessing import TabularEncoder

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
VARIANTS = ("default", "boundary rows", "1,000 steps", "wider, 1,000 steps")


def between_classes(encoder, model, Xt, proba, n_rows, seed):
    """Relabelled interpolations between rows the model puts in different classes."""
    rng = np.random.RandomState(seed)
    labels = proba.argmax(axis=1)
    first = rng.randint(len(Xt), size=8 * n_rows)
    second = rng.randint(len(Xt), size=8 * n_rows)
    keep = labels[first] != labels[second]
    first, second = first[keep][:n_rows], second[keep][:n_rows]
    weight = rng.uniform(size=(len(first), 1)).astype(np.float32)
    X = encoder.inverse_transform(weight * Xt[first] + (1 - weight) * Xt[second])
    return encoder.transform(X), model.predict_proba(X)


def surrogate_alone(encoder, model, X_train, X_test):
    """Agreement of the explainers' surrogate and of three alternatives."""
    Xt_train = encoder.transform(X_train)
    Xt_test = encoder.transform(X_test)
    y_train = model.predict_proba(X_train)
    y_test = model.predict_proba(X_test)
    Xt_between, y_between = between_classes(
        encoder, model, Xt_test, y_test, 2000, seed=12345
    )
    n_train = int(0.8 * len(Xt_train))  # the surrogate holds out 20 %
    batch_size = int(min(512, max(32, n_train // 16)))
    steps = {
        "batch_size": batch_size,
        "max_epochs": int(max(20, np.ceil(1000 / max(1, n_train // batch_size)))),
    }
    out = {}
    for variant in VARIANTS:
        X_fit, y_fit, options = Xt_train, y_train, {}
        if variant == "boundary rows":
            X_extra, y_extra = between_classes(
                encoder, model, Xt_train, y_train, len(Xt_train), seed=1
            )
            X_fit = np.concatenate([Xt_train, X_extra])
            y_fit = np.concatenate([y_train, y_extra])
        elif variant == "1,000 steps":
            options = steps
        elif variant == "wider, 1,000 steps":
            options = {**steps, "hidden_sizes": (256, 256)}
        surrogate = Surrogate(task="classification", random_state=0, **options)
        surrogate.fit(X_fit, y_fit)
        out[f"test: {variant}"] = surrogate.fidelity(Xt_test, y_test)
        out[f"between: {variant}"] = surrogate.fidelity(Xt_between, y_between)
    return out


def end_to_end(model, X_train, X_test):
    """The GAN at its defaults, with and without the surrogate's refresh."""
    out = {}
    for arm, every in (("refresh", "auto"), ("no refresh", 0)):
        explainer = CounterfactualGAN(surrogate_refresh_every=every, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            explainer.fit(X_train, predict_fn=model.predict_proba)
            out[f"fit s: {arm}"] = time.perf_counter() - start
            out[f"counterfactuals: {arm}"] = explainer.fit_report_[
                "surrogate_agreement_counterfactuals"
            ]
            for rounds, key in ((0, "generator validity"), (2, "validity")):
                X_cf = explainer.set_params(max_rounds=rounds).transform(X_test)
                reached = model.predict(X_cf) != model.predict(X_test)
                out[f"{key}: {arm}"] = float(np.mean(reached))
    return out


def markdown(rows):
    alone = [
        f"{where}: {variant}" for where in ("test", "between") for variant in VARIANTS
    ]
    loop = [
        f"{what}: {arm}"
        for what in ("counterfactuals", "generator validity", "validity", "fit s")
        for arm in ("refresh", "no refresh")
    ]
    columns = ["data", "model"] + alone + loop
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [row["data"], row["model"]]
        cells += [
            f"{row[c]:.0f}" if c.startswith("fit s") else f"{row[c]:.3f}"
            for c in alone + loop
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="german,breast_cancer")
    parser.add_argument("--models", default="RF,HGB,XGB")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    rows = []
    for dataset in args.datasets.split(","):
        X_train, X_test, y_train, _ = split(dataset)
        encoder = TabularEncoder().fit(X_train)
        for name in args.models.split(","):
            model = build_model(name, X_train, y_train)
            row = {"data": dataset, "model": name}
            row.update(surrogate_alone(encoder, model, X_train, X_test))
            row.update(end_to_end(model, X_train, X_test.iloc[: args.rows]))
            print(row, flush=True)
            rows.append(row)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "surrogate.json"
    old = json.loads(path.read_text())["rows"] if path.exists() else []
    ran = {(r["data"], r["model"]) for r in rows}
    merged = [r for r in old if (r["data"], r["model"]) not in ran] + rows
    meta = {
        "command": "python benchmarks/surrogate.py "
        + " ".join(f"--{k} {v}" for k, v in vars(args).items() if v is not None),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    path.write_text(json.dumps({"meta": meta, "rows": merged}, indent=2))
    (RESULTS / "surrogate.md").write_text(markdown(merged) + "\n")
    print(markdown(merged))


if __name__ == "__main__":
    main()
