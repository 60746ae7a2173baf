"""The image explainers' defaults on data they were not tuned on: 8x8 digits.

The image defaults were tuned on the MNIST sample (``benchmarks/mnist.py``);
this is the check on other images. Protocol: scikit-learn's
``load_digits()`` (1,797 grey 8x8 images, values 0-16, BSD licence, shipped
with scikit-learn), divided by 16 into float32 ``(n, 1, 8, 8)`` in [0, 1],
split 1,297 train / 500 test with ``train_test_split(..., stratify=y,
random_state=0)``. Two models:

* a small CNN trained here (3x3 convolutions of 16 and 32 filters with
  ReLU, a linear layer to 10 logits; Adam 1e-3, batches of 32, 8 epochs,
  ``torch.manual_seed(0)``), passed as the ``torch.nn.Module`` itself;
* a black box: ``LogisticRegression(max_iter=1000)`` on the flattened
  images in a scikit-learn pipeline, passed as its ``predict_proba``.

Each explainer is fit with its defaults (``random_state=0``) on the training
images and asked, for each test image, for another digit: ``(predicted + 1 +
i % 9) % 10`` for row ``i``, one label per row. Reported: validity by the
model, the mean absolute pixel change (pixels in [0, 1]), the warnings fit
and transform issued, fit seconds and transform images/s (after a 50-image
warm-up call; 500 images take a few hundredths of a second, so this figure
is rough).

Usage::

    python benchmarks/digits.py

Writes ``benchmarks/results/digits.json`` and ``digits.md``.
"""

from __future__ import annotations

import json
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from torch import nn

from cfexplain import CounterfactualAE, CounterfactualCVAE, CounterfactualGAN
from cfexplain.preprocessing import flatten_samples

RESULTS = Path(__file__).resolve().parent / "results"

#: Row label -> (explainer class, constructor arguments, model key).
SETTINGS = {
    "GAN, CNN": (CounterfactualGAN, {}, "cnn"),
    "GAN, LogisticRegression (black box)": (CounterfactualGAN, {}, "logreg"),
    "AE, CNN": (CounterfactualAE, {}, "cnn"),
    "CVAE enc-dec, CNN": (CounterfactualCVAE, {"mode": "enc-dec"}, "cnn"),
}


def train_cnn(X, y, *, epochs=8, batch_size=32, seed=0):
    """The small CNN of the module docstring, in eval mode, frozen."""
    torch.manual_seed(seed)
    cnn = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(32 * 8 * 8, 10),
    )
    optimizer = torch.optim.Adam(cnn.parameters(), lr=1e-3)
    X_t, y_t = torch.as_tensor(X), torch.as_tensor(y)
    shuffle = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(X_t), generator=shuffle)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            optimizer.zero_grad()
            nn.functional.cross_entropy(cnn(X_t[rows]), y_t[rows]).backward()
            optimizer.step()
    cnn.eval()
    cnn.requires_grad_(False)
    return cnn


def predict(model, X):
    """The model's class per image."""
    if isinstance(model, nn.Module):
        with torch.no_grad():
            return model(torch.as_tensor(X)).argmax(dim=1).numpy()
    return model.predict(X)


def run_setting(label, estimator, params, model, X_train, X_test):
    predicted = predict(model, X_test)
    targets = (predicted + 1 + np.arange(len(X_test)) % 9) % 10
    predict_fn = model if isinstance(model, nn.Module) else model.predict_proba
    explainer = estimator(random_state=0, **params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        explainer.fit(X_train, predict_fn=predict_fn)
        fit_seconds = time.perf_counter() - start
        explainer.transform(X_test[:50], target=targets[:50])  # warm-up
        start = time.perf_counter()
        X_cf = np.asarray(explainer.transform(X_test, target=targets))
        seconds = time.perf_counter() - start
    ours = [w for w in caught if w.category.__module__.startswith("cfexplain")]
    row = {
        "setting": label,
        "validity": float(np.mean(predict(model, X_cf) == targets)),
        "pixel_change": float(np.abs(X_cf - X_test).mean()),
        "warnings": sorted({w.category.__name__ for w in ours}),
        "fit_seconds": fit_seconds,
        "images_per_s": len(X_test) / seconds,
        "epochs": explainer.max_epochs_,
        "batch_size": explainer.batch_size_,
        "generator_validity": explainer.fit_report_.get(
            "generator_validity_other_class"
        ),
    }
    print(json.dumps(row), flush=True)
    return row


def markdown(rows, meta):
    lines = [
        f"CNN accuracy {meta['cnn_accuracy']:.3f}, LogisticRegression "
        f"{meta['logreg_accuracy']:.3f}; {meta['machine']}",
        "",
        "| setting | validity | mean abs. pixel change | warnings | epochs x batch "
        "| fit s | images/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['setting']} | {row['validity']:.3f} | "
            f"{row['pixel_change']:.3f} | {', '.join(row['warnings']) or 'none'} | "
            f"{row['epochs']} x {row['batch_size']} | {row['fit_seconds']:.0f} | "
            f"{row['images_per_s']:,.0f} |"
        )
    return "\n".join(lines) + "\n"


def main():
    digits = load_digits()
    X = (digits.images / 16.0).astype(np.float32)[:, None]
    X_train, X_test, y_train, y_test = train_test_split(
        X, digits.target, train_size=1297, test_size=500, stratify=digits.target,
        random_state=0,
    )  # fmt: skip
    models = {
        "cnn": train_cnn(X_train, y_train),
        "logreg": make_pipeline(
            FunctionTransformer(flatten_samples), LogisticRegression(max_iter=1000)
        ).fit(X_train, y_train),
    }
    meta = {
        "command": "python benchmarks/digits.py",
        "cnn_accuracy": float(np.mean(predict(models["cnn"], X_test) == y_test)),
        "logreg_accuracy": float(models["logreg"].score(X_test, y_test)),
        "machine": f"{platform.machine()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads",
    }
    print(json.dumps(meta), flush=True)
    rows = [
        run_setting(label, estimator, params, models[key], X_train, X_test)
        for label, (estimator, params, key) in SETTINGS.items()
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "digits.json").write_text(
        json.dumps({"meta": meta, "rows": rows}, indent=2)
    )
    (RESULTS / "digits.md").write_text(markdown(rows, meta))


if __name__ == "__main__":
    main()
