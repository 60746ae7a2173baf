"""Small tables: the training-row candidates on and off, as ``"auto"`` chooses.

``training_row_candidates="auto"`` turns them on for tables of at most 10,000
rows. This benchmark measures that choice on two tables of scikit-learn's
that the defaults were not tuned on, both split 75/25 (seed 0):

* wine (178 rows, 13 numbers, 3 classes named "barolo", "grignolino",
  "barbera"): a HistGradientBoostingClassifier and a calibrated SVM
  (``StandardScaler`` + ``CalibratedClassifierCV(SVC(), ensemble=False)``),
  target the most likely other class;
* breast cancer (569 rows, 30 correlated measurements, 2 classes): a
  RandomForestClassifier (100 trees) and, where ``xgboost`` is installed,
  an XGBClassifier (50 trees of depth 3), target the other class;
* diabetes (442 rows, 10 numbers): a Ridge pipeline (``StandardScaler`` +
  ``Ridge``) and a RandomForestRegressor, targets the value at the 75th
  percentile of the model's training outputs and the interval between its
  70th and 80th percentiles (a regression target also gets the line search
  of one number, :mod:`cfexplain._line_search`).

Each cell fits the GAN and the AE once, with their defaults, then explains
the test rows with ``training_row_candidates`` ``False`` and ``True``
(``set_params`` between the calls; ``"auto"`` is ``True`` here). Reported:
validity by the real model (a value target is met within
``regression_tolerance`` output standard deviations), the mean number of
features changed, L1 in training standard deviations summed over the
features, and transform rows/s (the median of 3 calls).

Usage::

    python benchmarks/small_tables.py --threads 2
    python benchmarks/small_tables.py --threads 2 --datasets diabetes

A run over some datasets replaces their rows and keeps the others'. Each
row also holds the fit's self-check figures of the generator alone
(``generator_validity``, by kind of target).

Writes ``benchmarks/results/small_tables.json`` and ``small_tables.md``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from cfexplain import CounterfactualAE, CounterfactualGAN

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
WINE_NAMES = {0: "barolo", 1: "grignolino", 2: "barbera"}


def wine_cells():
    X, y = load_wine(return_X_y=True, as_frame=True)
    y = y.map(WINE_NAMES)
    X_train, X_test, y_train, _ = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    models = {
        "HGB": HistGradientBoostingClassifier(random_state=0),
        "calibrated SVM": make_pipeline(
            StandardScaler(), CalibratedClassifierCV(SVC(), ensemble=False)
        ),
    }
    for name, model in models.items():
        model.fit(X_train, y_train)

        def met(X_cf, model=model):
            return model.predict(X_cf) != model.predict(X_test)

        yield "wine", name, model.predict_proba, X_train, X_test, "opposite", met


def breast_cancer_cells():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, _ = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    models = {"RF": RandomForestClassifier(random_state=0, n_jobs=1)}
    try:
        from xgboost import XGBClassifier
    except ImportError:  # a benchmark extra
        pass
    else:
        models["XGB"] = XGBClassifier(n_estimators=50, max_depth=3, n_jobs=1)
    for name, model in models.items():
        model.fit(X_train, y_train)

        def met(X_cf, model=model):
            return model.predict(X_cf) != model.predict(X_test)

        yield (
            "breast cancer",
            name,
            model.predict_proba,
            X_train,
            X_test,
            "opposite",
            met,
        )


def diabetes_cells():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.25, random_state=0)
    models = {
        "Ridge": make_pipeline(StandardScaler(), Ridge()),
        "RF": RandomForestRegressor(random_state=0),
    }
    for name, model in models.items():
        model.fit(X_train, y_train)
        outputs = model.predict(X_train)
        tolerance = 0.05 * outputs.std()  # regression_tolerance's default
        value = float(np.percentile(outputs, 75))
        low, high = (float(v) for v in np.percentile(outputs, [70, 80]))

        def near_value(X_cf, model=model, value=value, tolerance=tolerance):
            return np.abs(model.predict(X_cf) - value) <= tolerance

        def inside(X_cf, model=model, low=low, high=high):
            predicted = model.predict(X_cf)
            return (predicted >= low) & (predicted <= high)

        for target, met in (
            (("value", value), near_value),
            (("interval", (low, high)), inside),
        ):
            yield "diabetes", name, model.predict, X_train, X_test, target, met


def median_transform(explainer, X, target, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        X_cf = explainer.transform(X, target=target)
        times.append(time.perf_counter() - start)
    return X_cf, float(np.median(times))


CELLS = {
    "wine": wine_cells,
    "breast_cancer": breast_cancer_cells,
    "diabetes": diabetes_cells,
}


def run(threads, datasets=tuple(CELLS)):
    if threads is not None:
        torch.set_num_threads(threads)
    rows, fitted = [], {}
    cells = [cell for name in datasets for cell in CELLS[name]()]
    for data, model_name, predict, X_train, X_test, target, met in cells:
        target_name, target_value = (
            (target, target) if isinstance(target, str) else target
        )
        std = X_train.std()
        for estimator in (CounterfactualGAN, CounterfactualAE):
            key = (data, model_name, estimator.__name__)
            if key not in fitted:
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fitted[key] = estimator(random_state=0).fit(
                        X_train, predict_fn=predict
                    )
                fit_seconds = time.perf_counter() - start
            explainer = fitted[key]
            for candidates in (False, True):
                explainer.set_params(training_row_candidates=candidates)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    X_cf, seconds = median_transform(explainer, X_test, target_value)
                changed = (X_cf != X_test).sum(axis=1)
                l1 = ((X_cf - X_test).abs() / std).sum(axis=1)
                row = {
                    "data": data,
                    "model": model_name,
                    "target": target_name,
                    "explainer": estimator.__name__.removeprefix("Counterfactual"),
                    "training_row_candidates": candidates,
                    "validity": float(np.mean(met(X_cf))),
                    "features_changed": float(changed.mean()),
                    "l1_std": float(l1.mean()),
                    "fit_seconds": fit_seconds,
                    # The fit's self-check: the generator alone, before repairs.
                    "generator_validity": {
                        key.removeprefix("generator_validity_"): value
                        for key, value in explainer.fit_report_.items()
                        if key.startswith("generator_validity_")
                    },
                    "rows_per_s": len(X_test) / seconds,
                    "n_rows": len(X_test),
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
            explainer.set_params(training_row_candidates="auto")
    return rows


def markdown(rows):
    lines = [
        "| data | model | target | explainer | candidates | validity "
        "| features changed | L1 (std) | rows/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['data']} | {r['model']} | {r['target']} | {r['explainer']} "
            f"| {'on' if r['training_row_candidates'] else 'off'} "
            f"| {r['validity']:.3f} | {r['features_changed']:.2f} "
            f"| {r['l1_std']:.2f} | {r['rows_per_s']:,.0f} |"
        )
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--datasets",
        default=",".join(CELLS),
        help="comma-separated subset of " + ", ".join(CELLS) + " (the other "
        "datasets' rows of an earlier run are kept)",
    )
    args = parser.parse_args()
    datasets = [name for name in args.datasets.split(",") if name]
    rows = run(args.threads, datasets)
    path = RESULTS / "small_tables.json"
    if path.exists():
        names = {name.replace("_", " ") for name in datasets}
        kept = [row for row in json.loads(path.read_text()) if row["data"] not in names]
        order = [name.replace("_", " ") for name in CELLS]
        rows = sorted(kept + rows, key=lambda row: order.index(row["data"]))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "small_tables.json").write_text(json.dumps(rows, indent=2) + "\n")
    (RESULTS / "small_tables.md").write_text(markdown(rows))


if __name__ == "__main__":
    main()
