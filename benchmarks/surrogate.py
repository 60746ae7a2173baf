"""How well the surrogate follows tree models, with and without boundary rows.

A black box is distilled into a small network (``cfexplain._surrogate``)
and the generators learn through it, so counterfactuals are only as good
as its agreement with the model *where counterfactuals land*: between the
classes. Since this benchmark, the surrogate also trains on relabelled
interpolations between rows of different classes
(:func:`cfexplain._guidance.boundary_rows`); this script measures what
they change, per dataset and tree model (scikit-learn pipelines as in
``benchmarks/matrix.py``, 80/20 split, seed 0):

* **surrogate alone**, fitted on the encoded training split with and
  without the boundary rows: its agreement with the model on the test
  rows and on 2,000 relabelled interpolations between test rows of
  different classes (fresh pairs, not the ones it trained on);
* **end to end**, a ``CounterfactualGAN`` at its defaults with and
  without them: the surrogate's agreement on the self-check's
  counterfactuals (``fit_report_``), then, on up to ``--rows`` test rows
  asked for the opposite class, the validity of the generator alone
  (``max_rounds=0``) and with the repairs, and the fit seconds.

Usage::

    python benchmarks/surrogate.py                        # German, breast cancer
    python benchmarks/surrogate.py --datasets adult --models HGB,XGB

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
from matrix import build_model, load
from sklearn.model_selection import train_test_split

from cfexplain import CounterfactualGAN
from cfexplain import _guidance as guidance
from cfexplain._surrogate import Surrogate
from cfexplain.preprocessing import TabularEncoder

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
ARMS = (("with", None), ("without", 0))


def _relabel(encoder, model):
    def relabel(Xt):
        X = encoder.inverse_transform(Xt)
        return encoder.transform(X), model.predict_proba(X)

    return relabel


def surrogate_alone(encoder, model, X_train, X_test):
    """Agreement of a surrogate fitted with and without boundary rows."""
    relabel = _relabel(encoder, model)
    Xt_train = encoder.transform(X_train)
    Xt_test = encoder.transform(X_test)
    y_train = model.predict_proba(X_train)
    y_test = model.predict_proba(X_test)
    Xt_between, y_between = guidance.boundary_rows(
        relabel, Xt_test, y_test, seed=12345, max_rows=2000
    )
    out = {}
    for arm, max_rows in ARMS:
        extra = guidance.boundary_rows(
            relabel, Xt_train, y_train, seed=1, max_rows=max_rows
        )
        surrogate = Surrogate(task="classification", random_state=0).fit(
            Xt_train, y_train, extra_rows=extra
        )
        out[f"agreement_test_{arm}"] = surrogate.fidelity(Xt_test, y_test)
        out[f"agreement_between_{arm}"] = surrogate.fidelity(Xt_between, y_between)
    return out


def end_to_end(model, X_train, X_test):
    """The GAN at its defaults with and without boundary rows."""
    out = {}
    default = guidance.MAX_BOUNDARY_ROWS
    for arm, max_rows in ARMS:
        guidance.MAX_BOUNDARY_ROWS = default if max_rows is None else max_rows
        try:
            explainer = CounterfactualGAN(random_state=0)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                explainer.fit(X_train, predict_fn=model.predict_proba)
                out[f"fit_seconds_{arm}"] = time.perf_counter() - start
                report = explainer.fit_report_
                out[f"agreement_counterfactuals_{arm}"] = report[
                    "surrogate_agreement_counterfactuals"
                ]
                for rounds, key in ((0, "generator_validity"), (2, "validity")):
                    X_cf = explainer.set_params(max_rounds=rounds).transform(X_test)
                    reached = model.predict(X_cf) != model.predict(X_test)
                    out[f"{key}_{arm}"] = float(np.mean(reached))
        finally:
            guidance.MAX_BOUNDARY_ROWS = default
    return out


def markdown(rows):
    columns = [
        ("data", "data", "{}"),
        ("model", "model", "{}"),
        ("agreement_test", "agreement, test rows", "{:.3f}"),
        ("agreement_between", "agreement, between classes", "{:.3f}"),
        ("agreement_counterfactuals", "agreement, GAN counterfactuals", "{:.3f}"),
        ("generator_validity", "generator validity", "{:.3f}"),
        ("validity", "validity with repairs", "{:.3f}"),
        ("fit_seconds", "GAN fit s", "{:.0f}"),
    ]
    lines = [
        "| " + " | ".join(title for _, title, _ in columns) + " |",
        "|" + "---|" * len(columns),
    ]
    for row in rows:
        cells = []
        for key, _, fmt in columns:
            if key in ("data", "model"):
                cells.append(row[key])
            else:
                without, with_ = row[f"{key}_without"], row[f"{key}_with"]
                cells.append(f"{fmt.format(without)} → {fmt.format(with_)}")
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
        X, y = load(dataset)
        X_train, X_test, y_train, _ = train_test_split(
            X, y, test_size=0.2, random_state=0
        )
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
