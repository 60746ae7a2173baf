"""Per-instance time-series counterfactual peers: Native Guide and COMTE.

Both come from ``counterfactuals-for-time-series`` 0.1.7 (import name ``cfts``,
MIT licence, Udo Schlegel), called with their default settings on one series
at a time, the target being the opposite class of the model's prediction:

* :func:`native_guide` calls ``cfts.cf_native_guide.native_guide.
  native_guide_uni_cf`` (Delaney et al., 2021, NG-CAM style): the nearest
  unlike neighbour (1-NN, Euclidean) among the training series the model
  predicts as the target class, then ever longer windows of it (``sub_len=1``,
  up to ``max_iter=T``) are copied into the query, placed where captum's
  ``GradientShap`` attribution for the target class (its defaults, all
  training series as baselines, signed) sums highest, until the prediction
  flips. Needs ``captum``; ``y_train`` is not used (cfts re-predicts).
* :func:`comte` calls ``cfts.cf_comte.comte.comte_cf`` (Ates et al., 2021,
  greedy ``BruteForceSearch``): the ``num_distractors=2`` nearest training
  series (Euclidean) whose label *and* prediction are the target class; for a
  univariate series, whole segments of ``n_segments=10`` equal chunks are
  greedily swapped in from them until the prediction flips
  (``max_features=None``). Uses the labels ``y_train``. Deterministic.

``seed`` seeds torch's and numpy's global generators before the run (only
GradientShap draws from them).

Both search the whole training set for neighbours on every series (cost grows
with ``n_train``). They return a best-effort series even when the prediction
did not flip, and these are kept (the caller measures validity); a row is NaN
when the method raised or returned the query unchanged, its sign of failure
(for instance no training series predicted as the target class). Install::

    pip install --no-deps counterfactuals-for-time-series==0.1.7
    pip install captum
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import torch


def _explain(name, method, model, X_train, y_train, X, seed, **kwargs):
    X = np.asarray(X, dtype=np.float32)
    X_train = np.asarray(X_train, dtype=np.float32)
    dataset = list(zip(X_train, np.asarray(y_train).astype(int), strict=True))
    with torch.no_grad():
        predicted = model(torch.from_numpy(X)).argmax(1).numpy()
    X_cf = np.full_like(X, np.nan)
    failed = 0
    torch.manual_seed(seed)  # captum's GradientShap draws from torch and numpy
    np.random.seed(seed)  # noqa: NPY002
    start = time.perf_counter()
    for i, (x, label) in enumerate(zip(X, predicted, strict=True)):
        try:
            cf, _ = method(
                x, model, target_class=1 - int(label), dataset=dataset, **kwargs
            )
            cf = np.asarray(cf, dtype=np.float32).reshape(x.shape)
            if np.array_equal(cf, x):
                raise RuntimeError("returned the query unchanged")
            X_cf[i] = cf
        except Exception as error:  # one series failing must not stop the run
            failed += 1
            last_error = error
    seconds = (time.perf_counter() - start) / max(len(X), 1)
    if failed:
        warnings.warn(
            f"{name}: no counterfactual for {failed}/{len(X)} series "
            f"(last error: {last_error!r})",
            stacklevel=3,
        )
    return X_cf, seconds


def native_guide(model, X_train, y_train, X, seed=0):
    """Native Guide counterfactuals of ``X`` (n, 1, T) and seconds per series."""
    from cfts.cf_native_guide.native_guide import native_guide_uni_cf

    return _explain(
        "Native Guide", native_guide_uni_cf, model, X_train, y_train, X, seed
    )


def comte(model, X_train, y_train, X, seed=0):
    """COMTE counterfactuals of ``X`` (n, 1, T) and seconds per series."""
    from cfts.cf_comte.comte import comte_cf

    return _explain("COMTE", comte_cf, model, X_train, y_train, X, seed)
