"""Tiny data, module-level models (they pickle) and fast training settings."""

import numpy as np
import pandas as pd

#: Settings that make every explainer train in about a second.
FAST = {
    "max_epochs": 2,
    "batch_size": 64,
    "generator_hidden": (32, 32),
    "discriminator_hidden": (32, 32),
    "surrogate_hidden": (16,),
    "surrogate_epochs": 3,
    "surrogate_refresh_rows": 64,
    "noise_dim": 4,
    "random_state": 0,
}


def make_mixed_frame(n=160, seed=0):
    rng = np.random.RandomState(seed)
    return pd.DataFrame(
        {
            "age": rng.randint(18, 70, size=n).astype("int64"),
            "hours": rng.normal(40, 8, size=n).round(1),
            "color": rng.choice(["red", "green", "blue"], size=n),
            "member": rng.rand(n) > 0.5,
        },
        index=pd.RangeIndex(100, 100 + n, name="id"),
    )


def frame_proba(X):
    """A binary classifier on the mixed frame (module level: it pickles)."""
    score = (
        (X["age"].to_numpy() - 44) / 8
        + (X["color"].to_numpy() == "red") * 1.5
        - (X["hours"].to_numpy() - 40) / 10
    )
    p = 1 / (1 + np.exp(-score))
    return np.column_stack([1 - p, p])


def frame_proba_3(X):
    """A three-class classifier on the mixed frame."""
    age = X["age"].to_numpy().astype(float)
    logits = np.column_stack([(40 - age) / 6, np.zeros(len(age)), (age - 50) / 6])
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def frame_value(X):
    """A regression model on the mixed frame."""
    return X["age"].to_numpy() * 2.0 + X["hours"].to_numpy()


def array_proba(X):
    """Sigmoid of the row sum, for any number of numeric columns."""
    s = np.asarray(X, dtype=float).sum(axis=1)
    p = 1 / (1 + np.exp(-s))
    return np.column_stack([1 - p, p])
