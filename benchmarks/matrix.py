"""Validity for the model the user has: explainers x models x data x targets.

Every cell fits an explainer **with its defaults** (``random_state=0``) on
the training split, explains up to ``--rows`` test rows and measures, with
the real model: validity, rows changed, categorical L0, L1 (numbers in
standard deviations), MMD² and class-conditional MMD² against the test
split, the share of answers bringing in a pair of categories the training
rows lack though their frequencies expect it in 5 rows or more
(:func:`cfexplain.metrics.unseen_category_pairs`), fit seconds, transform
rows/s and transform time over one ``predict_proba`` (or ``predict``) call
on the same rows, transform rows/s on the whole test split (one batch: 6,513
rows on Adult; DiCE explains row by row, so its rows/s does not depend on
the batch); plus whether the constraints held (``immutable`` on one
categorical feature, ``monotonic`` on one numerical feature), the validity
of the same rows under those constraints, and whether ``fit`` warned about
low validity.

Data (80/20 split, seed 0): German credit (1,000 rows, shipped), scikit-learn's
breast cancer table (569 rows, 30 numbers, shipped with scikit-learn) and,
with ``--datasets adult``, Adult. Models, all black boxes inside scikit-learn
pipelines: an MLP (two layers of 40), LogisticRegression, RandomForest (200
trees), HistGradientBoosting and XGBoost (when ``xgboost`` imports); with
``--models``, also families the defaults were not tuned on: a single
decision tree, 5 nearest neighbours, an SVC without ``predict_proba``
(explained and judged through ``predict``), Gaussian naive Bayes, AdaBoost
and ExtraTrees (``Tree,KNN,SVC,NB,AdaBoost,ExtraTrees``). Targets:
the opposite class; on German credit also a named class (``"rent"``) and a
soft target of a LogisticRegression predicting ``housing`` (three string
labels), and a value (8,000) and an interval (4,000-6,000) of a
HistGradientBoostingRegressor predicting ``credit_amount``.

With ``--dice``, DiCE (``dice-ml``, ``method="kdtree"`` and ``"random"``)
explains the same rows of the same MLP on Adult in the same run, one
counterfactual per row, so the comparison is side by side. Install it as a
benchmark extra without its xgboost/lightgbm requirements:
``pip install --no-deps dice-ml && pip install raiutils jsonschema tqdm``.

Usage::

    python benchmarks/matrix.py                       # German + breast cancer
    python benchmarks/matrix.py --datasets adult --dice --rows 500
    python benchmarks/matrix.py --explainers "GAN rows,AE rows" --no-extra-targets
    python benchmarks/matrix.py --datasets german --models ""   # extra targets only
    python benchmarks/matrix.py --models Tree,KNN,SVC,NB,AdaBoost,ExtraTrees \
        --explainers "GAN,CVAE enc-dec,AE" --no-extra-targets   # other families

"GAN rows" and "AE rows" are the GAN and the AE with
``training_row_candidates=True`` (what ``"auto"``, the default, gives
tables of at most 10,000 rows), "GAN no rows" and "AE no rows" with
``False`` (what it gives larger ones).

Writes ``benchmarks/results/matrix.json`` and ``matrix.md`` (rows of the
cells it ran replace earlier ones).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import (
    AdaBoostClassifier,
    ExtraTreesClassifier,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from cfexplain import (
    CounterfactualAE,
    CounterfactualCVAE,
    CounterfactualGAN,
    LowValidityWarning,
    datasets,
)
from cfexplain.metrics import counterfactual_report, unseen_category_pairs

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

EXPLAINERS = {
    "GAN": lambda: CounterfactualGAN(random_state=0),
    "CVAE enc-dec": lambda: CounterfactualCVAE(mode="enc-dec", random_state=0),
    "CVAE cond-mix": lambda: CounterfactualCVAE(mode="cond-mix", random_state=0),
    "AE": lambda: CounterfactualAE(random_state=0),
    # Not in the default run (ask for them with --explainers): every row
    # also gets a training-row candidate, as "auto" gives tables of at most
    # 10,000 rows; and never, as "auto" gives larger ones.
    "GAN rows": lambda: CounterfactualGAN(training_row_candidates=True, random_state=0),
    "AE rows": lambda: CounterfactualAE(training_row_candidates=True, random_state=0),
    "GAN no rows": lambda: CounterfactualGAN(
        training_row_candidates=False, random_state=0
    ),
    "AE no rows": lambda: CounterfactualAE(
        training_row_candidates=False, random_state=0
    ),
}


def _columns(X):
    numerical = X.select_dtypes("number").columns.tolist()
    return numerical, [c for c in X.columns if c not in numerical]


def _one_hot_scaled(X, dense=False):
    numerical, categorical = _columns(X)
    return make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), categorical),
        (StandardScaler(), numerical),
        # GaussianNB takes no sparse matrix.
        sparse_threshold=0.0 if dense else 0.3,
    )


def _native_categories(X):
    numerical, categorical = _columns(X)
    return (
        make_column_transformer(
            (
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                categorical,
            ),
            ("passthrough", numerical),
        ),
        list(range(len(categorical))),
    )


def build_model(name, X, y):
    """A fitted black-box classifier pipeline taking DataFrames like ``X``."""
    if name == "HGB":
        encoder, categorical = _native_categories(X)
        model = make_pipeline(
            encoder,
            HistGradientBoostingClassifier(
                categorical_features=categorical or None, random_state=0
            ),
        )
    else:
        estimator = {
            "MLP": lambda: MLPClassifier((40, 40), max_iter=300, random_state=0),
            "LogReg": lambda: LogisticRegression(max_iter=2000),
            "RF": lambda: RandomForestClassifier(n_estimators=200, random_state=0),
            "XGB": _xgboost,
            **OTHER_FAMILIES,
        }[name]()
        model = make_pipeline(_one_hot_scaled(X, dense=name == "NB"), estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


#: Model families the defaults were not tuned on (``--models`` names them;
#: the default run leaves them out). A fully grown tree answers 0 or 1,
#: k nearest neighbours in steps of 1/k, the SVC only with labels (no
#: ``predict_proba``: the explainer reads ``predict``), naive Bayes with
#: near-certain probabilities.
OTHER_FAMILIES = {
    "Tree": lambda: DecisionTreeClassifier(random_state=0),
    "KNN": lambda: KNeighborsClassifier(5),
    "SVC": lambda: SVC(random_state=0),
    "NB": GaussianNB,
    "AdaBoost": lambda: AdaBoostClassifier(random_state=0),
    "ExtraTrees": lambda: ExtraTreesClassifier(n_estimators=200, random_state=0),
}


def _xgboost():
    from xgboost import XGBClassifier

    return XGBClassifier(n_estimators=200, max_depth=4, random_state=0)


def available_models():
    names = ["MLP", "LogReg", "RF", "HGB"]
    try:
        import xgboost  # noqa: F401
    except ImportError:
        print("xgboost is not installed: no XGB cells", flush=True)
    else:
        names.append("XGB")
    return names


def load(name):
    """Return X, y of a dataset (y as 0/1 for the binary tasks)."""
    if name == "german":
        X, y = datasets.load_german_credit(return_X_y=True)
        return X, np.asarray(y)
    if name == "breast_cancer":
        X, y = load_breast_cancer(return_X_y=True, as_frame=True)
        return X, np.asarray(y)
    if name == "adult":
        X, y = datasets.load_adult(return_X_y=True)
        return X, np.asarray(y)
    raise ValueError(name)


def split(name):
    """Return X_train, X_test, y_train, y_test: the benchmarks' 80/20 split, seed 0."""
    X, y = load(name)
    return train_test_split(X, y, test_size=0.2, random_state=0)


def unseen_pairs_share(X, X_cf, X_train):
    """Share of answers bringing in a pair of categories the training rows lack.

    Judged against the training rows (the test rows alone are too few to
    expect many pairs); None for tables with under two categorical features.
    """
    _, categorical = _columns(X_train)
    if len(categorical) < 2:
        return None
    return float(unseen_category_pairs(X, X_cf, X_train))


def run_cell(
    row, explainer, model, X_train, X_test, target, *, proba=True, X_whole=None
):
    """Fit, explain and score one cell; return the table row.

    ``X_whole`` (the whole test split) is transformed once more, for the
    rows/s of one large batch.
    """
    predict = model.predict_proba if proba else model.predict
    numerical, categorical = _columns(X_train)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LowValidityWarning)
        explainer.fit(X_train, predict_fn=predict)
    fit_seconds = time.perf_counter() - start
    warned = any(issubclass(w.category, LowValidityWarning) for w in caught)
    explainer.transform(X_test.iloc[:32], target=target)  # warm-up
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        X_cf = explainer.transform(X_test, target=target)
        transform_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predict(X_test)
    predict_seconds = time.perf_counter() - start
    whole_rows_per_s = None
    if X_whole is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            explainer.transform(X_whole, target=target)
            whole_rows_per_s = len(X_whole) / (time.perf_counter() - start)
    # Constraints: one categorical feature immutable, one number increasing.
    immutable = categorical[:1]
    monotonic = {numerical[0]: "increasing"} if numerical else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X_constrained = explainer.transform(
            X_test, target=target, immutable=immutable, monotonic=monotonic
        )
    held = all((X_constrained[c] == X_test[c]).all() for c in immutable) and all(
        (X_constrained[c] >= X_test[c]).all() for c in monotonic
    )
    regression = not proba and not hasattr(model, "classes_")
    tolerance = (
        explainer.regression_tolerance * getattr(explainer, "output_scale_", 0)
        if regression
        else 0.0
    )
    report = counterfactual_report(
        predict, X_test, X_cf, target=target, reference=X_test, tolerance=tolerance
    ).iloc[0]
    # What the constraints cost: the same rows' validity under them.
    constrained_validity = counterfactual_report(
        predict, X_test, X_constrained, target=target, tolerance=tolerance
    ).iloc[0]["validity"]
    row.update(
        validity=float(report["validity"]),
        rows_changed=float((X_cf != X_test).any(axis=1).mean()),
        l0_categorical=float(report.get("l0_categorical", np.nan)),
        l1=float(report.get("l1", np.nan)),
        mmd2=float(report.get("mmd2", np.nan)),
        mmd2_0=float(report.get("mmd2_0", np.nan)),
        mmd2_1=float(report.get("mmd2_1", np.nan)),
        unseen_pairs=unseen_pairs_share(X_test, X_cf, X_train),
        fit_seconds=fit_seconds,
        rows_per_s=len(X_test) / transform_seconds,
        rows_per_s_whole_split=whole_rows_per_s,
        transform_over_predict=transform_seconds / predict_seconds,
        constraints_held=bool(held),
        constrained_validity=float(constrained_validity),
        warned_at_fit=warned,
        self_check=explainer.fit_report_,
    )
    print(
        " | ".join(
            f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in row.items()
            if k != "self_check"
        ),
        flush=True,
    )
    return row


def binary_cells(dataset, models, explainers, n_rows):
    X_train, X_whole, y_train, _ = split(dataset)
    X_test = X_whole.iloc[:n_rows]
    rows = []
    for model_name in models:
        model = build_model(model_name, X_train, y_train)
        # A classifier without predict_proba (the SVC) is explained, and
        # judged, through its labels.
        proba = hasattr(model, "predict_proba")
        for explainer_name in explainers:
            row = {
                "data": dataset,
                "model": model_name,
                "explainer": explainer_name,
                "target": "opposite",
            }
            rows.append(
                run_cell(
                    row,
                    EXPLAINERS[explainer_name](),
                    model,
                    X_train,
                    X_test,
                    "opposite",
                    proba=proba,
                    X_whole=X_whole,
                )
            )
    return rows


def german_multiclass_and_regression_cells(explainers, n_rows):
    X, _ = datasets.load_german_credit(return_X_y=True)
    rows = []
    # Multi-class with string labels: housing, predicted by a LogisticRegression.
    y = X["housing"].astype(str).to_numpy()
    features = X.drop(columns="housing")
    X_train, X_test, y_train, _ = train_test_split(
        features, y, test_size=0.2, random_state=0
    )
    X_test = X_test.iloc[:n_rows]
    model = build_model("LogReg", X_train, y_train)
    classes = list(model.classes_)
    soft = np.full(len(classes), 0.1)
    soft[classes.index("rent")] = 1.0 - 0.1 * (len(classes) - 1)
    for name in explainers:
        for label, target in (
            ("opposite", "opposite"),
            ('"rent"', "rent"),
            ("soft [.1 .1 .8]", soft),
        ):
            row = {
                "data": "german housing (3 classes)",
                "model": "LogReg",
                "explainer": name,
                "target": label,
            }
            rows.append(
                run_cell(row, EXPLAINERS[name](), model, X_train, X_test, target)
            )
    # Regression: credit_amount, predicted by a HistGradientBoostingRegressor.
    y = X["credit_amount"].to_numpy(dtype=float)
    features = X.drop(columns="credit_amount")
    X_train, X_test, y_train, _ = train_test_split(
        features, y, test_size=0.2, random_state=0
    )
    X_test = X_test.iloc[:n_rows]
    encoder, categorical = _native_categories(X_train)
    model = make_pipeline(
        encoder,
        HistGradientBoostingRegressor(categorical_features=categorical, random_state=0),
    ).fit(X_train, y_train)
    for name in explainers:
        if name.startswith("CVAE"):
            continue  # the CVAE conditions on classes: classifiers only
        for label, target in (
            ("value 8000", 8000.0),
            ("interval (4000, 6000)", (4000.0, 6000.0)),
        ):
            row = {
                "data": "german credit_amount",
                "model": "HGB regressor",
                "explainer": name,
                "target": label,
            }
            rows.append(
                run_cell(
                    row, EXPLAINERS[name](), model, X_train, X_test, target, proba=False
                )
            )
    return rows


def dice_cells(n_rows):
    """DiCE on Adult's MLP, on the same rows, in the same run."""
    import dice_ml

    X_train, X_test, y_train, _ = split("adult")
    X_test = X_test.iloc[:n_rows]
    model = build_model("MLP", X_train, y_train)
    numerical, _ = _columns(X_train)
    frame = X_train.assign(income=y_train)
    data = dice_ml.Data(
        dataframe=frame, continuous_features=numerical, outcome_name="income"
    )
    wrapped = dice_ml.Model(model=model, backend="sklearn")
    rows = []
    for method in ("kdtree", "random"):
        explainer = dice_ml.Dice(data, wrapped, method=method)
        found, failures = [], []
        start = time.perf_counter()
        for i in range(len(X_test)):
            query = X_test.iloc[[i]]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    # Only the random method takes a seed (kdtree is exact).
                    seed = {"random_seed": 0} if method == "random" else {}
                    result = explainer.generate_counterfactuals(
                        query,
                        total_CFs=1,
                        desired_class="opposite",
                        verbose=False,
                        **seed,
                    )
                cf = result.cf_examples_list[0].final_cfs_df
                found.append(
                    cf.drop(columns="income").iloc[[0]].astype(X_test.dtypes.to_dict())
                    if cf is not None and len(cf)
                    else query
                )
            except Exception as error:  # noqa: BLE001 - counted as invalid
                failures.append(repr(error))
                found.append(query)
        seconds = time.perf_counter() - start
        if failures:
            print(f"DiCE {method} failed on {len(failures)} rows: {failures[0]}")
        X_cf = pd.concat(found)
        X_cf.index = X_test.index
        report = counterfactual_report(
            model.predict_proba, X_test, X_cf, reference=X_test
        ).iloc[0]
        row = {
            "data": "adult",
            "model": "MLP",
            "explainer": f"DiCE {method}",
            "target": "opposite",
            "validity": float(report["validity"]),
            "rows_changed": float((X_cf != X_test).any(axis=1).mean()),
            "l0_categorical": float(report["l0_categorical"]),
            "l1": float(report["l1"]),
            "mmd2": float(report["mmd2"]),
            "mmd2_0": float(report["mmd2_0"]),
            "mmd2_1": float(report["mmd2_1"]),
            "unseen_pairs": unseen_pairs_share(X_test, X_cf, X_train),
            "fit_seconds": 0.0,
            "rows_per_s": len(X_test) / seconds,
        }
        print(row, flush=True)
        rows.append(row)
    return rows


def markdown(rows):
    head = (
        "| data | model | target | explainer | validity | rows changed | cat. L0 "
        "| L1 | MMD² | MMD²_0 | MMD²_1 | unseen pairs | fit s | rows/s "
        "| rows/s, whole split "
        "| transform / predict | constraints held | validity, constrained "
        "| warned at fit |"
    )
    lines = [head, "|" + "---|" * 19]

    def f(value, fmt):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return "—"
        return format(value, fmt)

    for r in rows:
        lines.append(
            f"| {r['data']} | {r['model']} | {r['target']} | {r['explainer']} "
            f"| {f(r['validity'], '.3f')} | {f(r['rows_changed'], '.2f')} "
            f"| {f(r['l0_categorical'], '.2f')} | {f(r['l1'], '.3f')} "
            f"| {f(r['mmd2'], '.3f')} | {f(r['mmd2_0'], '.3f')} "
            f"| {f(r['mmd2_1'], '.3f')} | {f(r.get('unseen_pairs'), '.3f')} "
            f"| {f(r['fit_seconds'], '.0f')} "
            f"| {f(r['rows_per_s'], ',.0f')} "
            f"| {f(r.get('rows_per_s_whole_split'), ',.0f')} "
            f"| {f(r.get('transform_over_predict'), '.1f')} "
            f"| {r.get('constraints_held', '—')} "
            f"| {f(r.get('constrained_validity'), '.3f')} "
            f"| {r.get('warned_at_fit', '—')} |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="german,breast_cancer")
    parser.add_argument("--models", default=None, help="default: all available")
    parser.add_argument(
        "--explainers",
        default="GAN,CVAE enc-dec,CVAE cond-mix,AE",
        help="of: " + ", ".join(EXPLAINERS),
    )
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--no-extra-targets", action="store_true")
    parser.add_argument("--dice", action="store_true")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    # --models "" runs no binary cell (with --datasets german, the extra
    # targets only).
    models = (
        [m for m in args.models.split(",") if m]
        if args.models is not None
        else available_models()
    )
    explainers = [e for e in args.explainers.split(",") if e]
    rows = []
    for dataset in [d for d in args.datasets.split(",") if d]:
        rows += binary_cells(dataset, models, explainers, args.rows)
    if "german" in args.datasets and not args.no_extra_targets:
        rows += german_multiclass_and_regression_cells(explainers, args.rows)
    if args.dice:
        rows += dice_cells(args.rows)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "matrix.json"
    key = ("data", "model", "target", "explainer")
    old = json.loads(path.read_text())["rows"] if path.exists() else []
    new_keys = {tuple(r[k] for k in key) for r in rows}
    merged = [r for r in old if tuple(r[k] for k in key) not in new_keys] + rows
    meta = {
        "command": "python benchmarks/matrix.py "
        + " ".join(
            f"--{k} {v}" for k, v in vars(args).items() if v not in (None, False)
        ),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    path.write_text(json.dumps({"meta": meta, "rows": merged}, indent=2, default=float))
    table = markdown(merged)
    (RESULTS / "matrix.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
