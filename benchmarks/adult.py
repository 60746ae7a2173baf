"""Paper 1's Adult benchmark for the cfexplain explainers (Table 3 protocol).

Protocol: ``load_adult()``, 80/20 split (seed 0); the classifier is paper 1's
MLP (2 hidden layers of 40 ReLU units, 5 epochs, Adam 1e-3); the explainer is
fit on the training split and asked for the opposite class of every test row.
The same is then done for a HistGradientBoostingClassifier black box (also
with ``n_candidates=8``) and with Race and Sex immutable; then for
CounterfactualCVAE (ENC-DEC and COND-MIX) and CounterfactualAE with the
MLP (the ``cvae_enc_dec``, ``cvae_cond_mix`` and ``ae`` settings, and
``*_hgb`` for the black box).

Reported per setting: validity (real model), L1 on standardised numerical
features, categorical L0, MMD² against the test split and the
class-conditional MMD²_0 / MMD²_1, the share of answers bringing in a pair
of categories the training rows lack ("unseen pairs",
:func:`cfexplain.metrics.unseen_category_pairs` against the training rows:
``unseen_pairs`` in the JSON; its ``unseen_category_pairs`` is
:func:`~cfexplain.metrics.counterfactual_report`'s, against the test
split, whose 6,513 rows expect fewer pairs often enough to count), fit
seconds, end-to-end
transform rows/s (DataFrame in, DataFrame out; the median of 5 calls after a
warm-up) and the ratio of that time to one ``predict_proba`` call on the
same rows (the median of 5), and the process's peak memory.

Usage::

    python benchmarks/adult.py                  # the four GAN settings
    python benchmarks/adult.py --settings cvae_enc_dec,cvae_cond_mix,ae
    python benchmarks/adult.py --sweep          # plus the realism/sparsity sweep
    python benchmarks/adult.py --settings "" --sweep   # the sweep only
    python benchmarks/adult.py --settings "" --candidates 8,4,2,1
    python benchmarks/adult.py --settings "" --nearest-rows 1,5,20,50,200
    python benchmarks/adult.py --settings mlp,ae --device cuda   # on a GPU
    python benchmarks/adult.py --settings mlp --seeds 0,1,2   # seed spread

``--candidates`` fits CounterfactualCVAE for the MLP once per mode
(ENC-DEC, COND-MIX) and times transform with each ``n_candidates`` (median
of 5 calls against the median of 5 ``predict_proba`` calls).

Writes ``benchmarks/results/adult.json`` and ``adult.md`` (and the sweep's
``adult_sweep.json`` / ``docs/_static/adult_sweep.png``, the candidates'
``adult_candidates.json`` / ``adult_candidates.md``, the real rows'
``adult_nearest_rows.json`` / ``adult_nearest_rows.md``). With
``--device cuda`` the settings' rows go to ``adult_cuda.json`` and
``adult_cuda.md`` instead; the models under explanation are scikit-learn's
and stay on the CPU.

``--nearest-rows`` answers every test row with the ``k``-th nearest
training row that the MLP puts in the other class, for each ``k`` given: real
rows, valid by construction, as far as a counterfactual could get in
realism at their distance. It is the reference the GAN's class-conditional
MMD² is read against. A run replaces
the rows of the settings it ran and keeps the others.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder

from cfexplain import (
    CounterfactualAE,
    CounterfactualCVAE,
    CounterfactualGAN,
    datasets,
)
from cfexplain._device import resolve_device
from cfexplain.cli import build_adult_classifier
from cfexplain.metrics import (
    counterfactual_report,
    counterfactual_scorers,
    unseen_category_pairs,
)

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def build_boosting_classifier(X, y):
    """A HistGradientBoostingClassifier black box with native categories."""
    categorical = X.select_dtypes(exclude="number").columns.tolist()
    numerical = [c for c in X.columns if c not in categorical]
    model = make_pipeline(
        make_column_transformer(
            (
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                categorical,
            ),
            ("passthrough", numerical),
        ),
        HistGradientBoostingClassifier(
            categorical_features=list(range(len(categorical))), random_state=0
        ),
    )
    return model.fit(X, y)


def device_name(device_type):
    """The processor the explainers ran on, in words."""
    if device_type == "cuda":
        return f"CUDA, {torch.cuda.get_device_name()}"
    return f"{device_type}, {platform.machine()}"


def peak_memory_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_seconds(call, X, repeats=5):
    """Return ``call(X)``'s last answer and its median time over ``repeats`` calls.

    One call varies by several percent from run to run on a shared CPU.
    """
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        answer = call(X)
        times.append(time.perf_counter() - start)
    return answer, float(np.median(times))


def run_setting(name, model, X_train, X_test, params, estimator=CounterfactualGAN):
    explainer = estimator(**params)
    start = time.perf_counter()
    explainer.fit(X_train, predict_fn=model.predict_proba)
    fit_seconds = time.perf_counter() - start

    explainer.transform(X_test.iloc[:256])  # warm-up
    X_cf, transform_seconds = median_seconds(explainer.transform, X_test)
    _, predict_seconds = median_seconds(model.predict_proba, X_test)

    report = counterfactual_report(model.predict_proba, X_test, X_cf, name=name)
    row = report.iloc[0].to_dict()
    immutable = params.get("immutable") or []
    held = all((X_cf[c] == X_test[c]).all() for c in immutable)
    row.update(
        fit_seconds=fit_seconds,
        transform_rows_per_s=len(X_test) / transform_seconds,
        transform_over_predict=transform_seconds / predict_seconds,
        explainer=estimator.__name__,
        surrogate_fidelity=getattr(explainer.surrogate_, "fidelity_", None),
        # The generator's validity alone on the self-check's held-out rows.
        generator_validity=explainer.fit_report_.get("generator_validity_opposite"),
        immutable_held=held if immutable else None,
        # Answers holding a pair of categories the training rows lack.
        unseen_pairs=unseen_category_pairs(X_test, X_cf, X_train),
        peak_memory_mb=peak_memory_mb(),
        # The epoch keep_best_epoch kept (None: the last) of how many.
        best_epoch=getattr(explainer, "best_epoch_", None),
        epochs=len(explainer.net_.history),
    )
    print(
        f"{name}: "
        + ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in row.items()
        ),
        flush=True,
    )
    return row


def candidates_trade_off(model, X_train, X_test, params, counts):
    """Time and quality of one fitted CVAE per mode, for each ``n_candidates``."""
    rows = []
    for mode in ("enc-dec", "cond-mix"):
        explainer = CounterfactualCVAE(**params, mode=mode)
        explainer.fit(X_train, predict_fn=model.predict_proba)
        rows += _candidate_rows(explainer, model, X_test, counts, mode)
    return rows


def _candidate_rows(explainer, model, X_test, counts, mode):
    rows = []
    for count in counts:
        explainer.set_params(n_candidates=count)
        explainer.transform(X_test.iloc[:256])  # warm-up
        X_cf, transform_seconds = median_seconds(explainer.transform, X_test)
        _, predict_seconds = median_seconds(model.predict_proba, X_test)
        report = counterfactual_report(model.predict_proba, X_test, X_cf).iloc[0]
        row = {
            "mode": mode,
            "n_candidates": count,
            "transform_over_predict": transform_seconds / predict_seconds,
            "transform_rows_per_s": len(X_test) / transform_seconds,
            **{
                key: float(report[key])
                for key in ("validity", "l0_categorical", "l1", "mmd2_0", "mmd2_1")
            },
        }
        print(row, flush=True)
        rows.append(row)
    return rows


def nearest_rows_reference(model, X_train, X_test, ranks):
    """Answer each test row with its k-th nearest other-class training row.

    Rows are compared in the representation of the metrics (one-hot
    categories, numbers standardised on the training split) with the L1
    distance; "other class" is the model's prediction on both sides.
    Returns one metrics row per ``k`` of ``ranks``.
    """
    from sklearn.compose import make_column_transformer
    from sklearn.neighbors import NearestNeighbors
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    categorical = X_train.select_dtypes(exclude="number").columns.tolist()
    numerical = [c for c in X_train.columns if c not in categorical]
    representation = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
        (StandardScaler(), numerical),
    ).fit(X_train)
    train, test = representation.transform(X_train), representation.transform(X_test)
    label_train, label_test = model.predict(X_train), model.predict(X_test)
    deepest = max(ranks)
    neighbours = np.empty((len(X_test), deepest), dtype=np.int64)
    for label in np.unique(label_test):
        pool = np.flatnonzero(label_train != label)
        rows = np.flatnonzero(label_test == label)
        search = NearestNeighbors(n_neighbors=deepest, metric="manhattan")
        search.fit(train[pool])
        neighbours[rows] = pool[search.kneighbors(test[rows], return_distance=False)]
    out = []
    for k in ranks:
        X_cf = X_train.iloc[neighbours[:, k - 1]].set_axis(X_test.index)
        report = counterfactual_report(model.predict_proba, X_test, X_cf).iloc[0]
        row = {
            "k": k,
            **{
                key: float(report[key])
                for key in (
                    "validity",
                    "l0_categorical",
                    "l1",
                    "mmd2",
                    "mmd2_0",
                    "mmd2_1",
                )
            },
        }
        print(row, flush=True)
        out.append(row)
    return out


def write_results(name, rows, header, line):
    """Write ``rows`` to ``results/<name>.json`` and a table to ``<name>.md``.

    ``header`` is the table's first line; ``line(row)`` formats one row.
    """
    (RESULTS / f"{name}.json").write_text(json.dumps(rows, indent=2, default=float))
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    lines += [line(r) for r in rows]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def merge_rows(path, rows):
    """Replace the rows of the settings just run, keep the others in order."""
    if not path.exists():
        return rows
    new = {row["setting"]: row for row in rows}
    old = json.loads(path.read_text())["rows"]
    merged = [new.pop(row["setting"], row) for row in old]
    return merged + list(new.values())


def markdown_table(rows):
    columns = [
        ("setting", "setting", "{}"),
        ("validity", "validity", "{:.3f}"),
        ("l1", "L1", "{:.3f}"),
        ("l0_categorical", "cat. L0", "{:.2f}"),
        ("mmd2", "MMD²", "{:.3f}"),
        ("mmd2_0", "MMD²_0", "{:.3f}"),
        ("mmd2_1", "MMD²_1", "{:.3f}"),
        ("unseen_pairs", "unseen pairs", "{:.3f}"),
        ("fit_seconds", "fit s", "{:.0f}"),
        ("transform_rows_per_s", "transform rows/s", "{:,.0f}"),
        ("transform_over_predict", "transform / predict", "{:.1f}x"),
        ("peak_memory_mb", "peak MB", "{:.0f}"),
    ]
    lines = [
        "| " + " | ".join(title for _, title, _ in columns) + " |",
        "|" + "---|" * len(columns),
    ]
    for row in rows:
        # Rows from runs before a column existed show a dash.
        cells = [
            fmt.format(row[key]) if row.get(key) is not None else "—"
            for key, _, fmt in columns
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


#: The realism/sparsity grid of ``--sweep``: paper 1's w_l1 of 10 and
#: larger, each without and with the class-conditional MMD term that the
#: image GAN trains with (0 is the tabular default).
SWEEP_GRID = {"sparsity_weight": [10.0, 20.0, 40.0], "mmd_weight": [0.0, 10.0]}


def sweep(model, X_train, X_test, params, grid):
    """GridSearchCV over ``grid``, scored with the cfexplain scorers."""
    scoring = counterfactual_scorers(
        ["validity", "l0_categorical", "l0", "l1", "class_mmd2"]
    )
    search = GridSearchCV(
        CounterfactualGAN(**params),
        grid,
        scoring=scoring,
        refit=False,
        cv=[
            (
                np.arange(len(X_train)),
                np.arange(len(X_train), len(X_train) + len(X_test)),
            )
        ],
    )
    X_all = pd.concat([X_train, X_test], ignore_index=True)
    search.fit(X_all, predict_fn=model.predict_proba)
    results = pd.DataFrame(search.cv_results_)
    out = []
    for _, r in results.iterrows():
        out.append(
            {
                **{name: r[f"param_{name}"] for name in grid},
                "validity": r["mean_test_validity"],
                "l0_categorical": -r["mean_test_l0_categorical"],
                "l0": -r["mean_test_l0"],
                "l1": -r["mean_test_l1"],
                "class_mmd2": -r["mean_test_class_mmd2"],
                "fit_seconds": r["mean_fit_time"],
            }
        )
    return out


def plot_sweep(points, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for mmd_weight in sorted({p.get("mmd_weight", 0.0) for p in points}):
        line = [p for p in points if p.get("mmd_weight", 0.0) == mmd_weight]
        ax.plot(
            [p["l0_categorical"] for p in line],
            [p["class_mmd2"] for p in line],
            "o-",
            label=f"mmd_weight={mmd_weight:g}",
        )
        for p in line:
            ax.annotate(
                f"w_l1={p['sparsity_weight']:g}, valid {p['validity']:.0%}",
                (p["l0_categorical"], p["class_mmd2"]),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize=8,
            )
    ax.set_xlim(right=max(p["l0_categorical"] for p in points) * 1.35)
    ax.set_xlabel("categorical L0 (categories changed per row)")
    ax.set_ylabel("class-conditional MMD² (mean)")
    ax.set_title("CounterfactualGAN on Adult: realism vs sparsity")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="override max_epochs (default: the estimator's)",
    )
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="also sweep sparsity_weight x mmd_weight with GridSearchCV",
    )
    parser.add_argument(
        "--replot", action="store_true", help="redraw the sweep from its JSON and exit"
    )
    parser.add_argument("--settings", default="mlp,hgb,hgb_candidates,mlp_immutable")
    parser.add_argument(
        "--seeds",
        default="0",
        help="the explainers' random_state values, e.g. 0,1,2: each setting "
        "is fitted once per seed (the data split and the models keep seed 0)",
    )
    parser.add_argument(
        "--candidates",
        default="",
        help="n_candidates values to time the CVAE (both modes) with, e.g. 8,4,2,1",
    )
    parser.add_argument(
        "--nearest-rows",
        default="",
        help="answer with the k-th nearest other-class training row, e.g. 1,5,20",
    )
    parser.add_argument(
        "--device",
        default=None,
        help="the explainers' device (default: theirs, 'auto'); with a GPU, "
        "results go to adult_<device type>.json / .md beside the CPU ones",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads (default: torch's); never more than free cores",
    )
    args = parser.parse_args()
    sweep_png = HERE.parent / "docs" / "_static" / "adult_sweep.png"
    if args.replot:
        plot_sweep(json.loads((RESULTS / "adult_sweep.json").read_text()), sweep_png)
        return
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    X, y = datasets.load_adult(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=0
    )
    mlp = build_adult_classifier(X_train, y_train, random_state=0)
    hgb = build_boosting_classifier(X_train, y_train)
    print(
        f"MLP accuracy {mlp.score(X_test, y_test):.3f}, "
        f"HGB accuracy {hgb.score(X_test, y_test):.3f}",
        flush=True,
    )

    params = {"random_state": 0}
    if args.device is not None:
        params["device"] = args.device
    device_type = torch.device(resolve_device(args.device)).type
    results_name = "adult" if device_type == "cpu" else f"adult_{device_type}"
    if args.epochs is not None:
        params["max_epochs"] = args.epochs
    settings = {
        "mlp": ("MLP", mlp, params),
        "hgb": ("HistGradientBoosting", hgb, params),
        "hgb_candidates": (
            "HistGradientBoosting, 8 candidates",
            hgb,
            {**params, "n_candidates": 8},
        ),
        "mlp_immutable": (
            "MLP, Race+Sex immutable",
            mlp,
            {**params, "immutable": ["Race", "Sex"]},
        ),
        # Every row also gets a training-row candidate; the cheaper valid
        # answer (distance moved + distance to the target class) is kept.
        "mlp_training_rows": (
            "MLP, training_row_candidates",
            mlp,
            {**params, "training_row_candidates": True},
        ),
        "hgb_training_rows": (
            "HistGradientBoosting, training_row_candidates",
            hgb,
            {**params, "training_row_candidates": True},
        ),
        # The sweep's sparsest setting, timed: its repairs do most of the work.
        "mlp_sparse": (
            "MLP, sparsity_weight 40",
            mlp,
            {**params, "sparsity_weight": 40.0},
        ),
        # The series GAN's choice of epoch (keep_best_epoch="auto" leaves it
        # off for tables), tried on a table.
        "mlp_keep_best": (
            "MLP, keep_best_epoch",
            mlp,
            {**params, "keep_best_epoch": True},
        ),
        "hgb_keep_best": (
            "HistGradientBoosting, keep_best_epoch",
            hgb,
            {**params, "keep_best_epoch": True},
        ),
    }
    for suffix, label, model in (("", "MLP", mlp), ("_hgb", "HGB", hgb)):
        settings[f"cvae_enc_dec{suffix}"] = (
            f"CVAE enc-dec, {label}",
            model,
            {**params, "mode": "enc-dec"},
            CounterfactualCVAE,
        )
        settings[f"cvae_cond_mix{suffix}"] = (
            f"CVAE cond-mix, {label}",
            model,
            {**params, "mode": "cond-mix"},
            CounterfactualCVAE,
        )
        settings[f"ae{suffix}"] = (f"AE, {label}", model, params, CounterfactualAE)
        settings[f"ae_training_rows{suffix}"] = (
            f"AE, {label}, training_row_candidates",
            model,
            {**params, "training_row_candidates": True},
            CounterfactualAE,
        )
    rows = []
    seeds = [int(s) for s in args.seeds.split(",")]
    for key in [k for k in args.settings.split(",") if k]:
        label, model, setting_params, *estimator = settings[key]
        for seed in seeds:
            # Seed 0 keeps the setting's own name (the rows the README
            # quotes); another seed is a row of its own.
            name = label if seed == 0 else f"{label}, random_state={seed}"
            seeded = {**setting_params, "random_state": seed}
            row = run_setting(name, model, X_train, X_test, seeded, *estimator)
            rows.append({"setting": name, **row})

    RESULTS.mkdir(exist_ok=True)
    if rows:
        rows = merge_rows(RESULTS / f"{results_name}.json", rows)
        meta = {
            "command": "python benchmarks/adult.py --settings <setting keys>"
            + (f" --device {args.device}" if args.device else ""),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "device": device_name(device_type),
            "mlp_accuracy": mlp.score(X_test, y_test),
            "hgb_accuracy": hgb.score(X_test, y_test),
        }
        (RESULTS / f"{results_name}.json").write_text(
            json.dumps({"meta": meta, "rows": rows}, indent=2, default=float)
        )
        table = markdown_table(rows)
        (RESULTS / f"{results_name}.md").write_text(
            f"Explainers on {meta['device']}.\n\n{table}\n"
        )
        print(table)

    if args.candidates:
        counts = [int(c) for c in args.candidates.split(",")]
        trade_off = candidates_trade_off(mlp, X_train, X_test, params, counts)
        write_results(
            "adult_candidates",
            trade_off,
            "| mode | n_candidates | transform / predict | rows/s | validity "
            "| cat. L0 | L1 | MMD²_0 | MMD²_1 |",
            lambda r: (
                f"| {r['mode']} | {r['n_candidates']} "
                f"| {r['transform_over_predict']:.1f}x "
                f"| {r['transform_rows_per_s']:,.0f} | {r['validity']:.3f} "
                f"| {r['l0_categorical']:.2f} | {r['l1']:.3f} | {r['mmd2_0']:.3f} "
                f"| {r['mmd2_1']:.3f} |"
            ),
        )

    if args.nearest_rows:
        ranks = [int(k) for k in args.nearest_rows.split(",")]
        reference = nearest_rows_reference(mlp, X_train, X_test, ranks)
        write_results(
            "adult_nearest_rows",
            reference,
            "| k-th nearest other-class training row | validity | cat. L0 | L1 "
            "| MMD² | MMD²_0 | MMD²_1 |",
            lambda r: (
                f"| {r['k']} | {r['validity']:.3f} | {r['l0_categorical']:.2f} "
                f"| {r['l1']:.3f} | {r['mmd2']:.3f} | {r['mmd2_0']:.3f} "
                f"| {r['mmd2_1']:.3f} |"
            ),
        )

    if args.sweep:
        points = sweep(mlp, X_train, X_test, params, SWEEP_GRID)
        (RESULTS / "adult_sweep.json").write_text(
            json.dumps(points, indent=2, default=float)
        )
        plot_sweep(points, sweep_png)
        for p in points:
            print(p)


if __name__ == "__main__":
    main()
