import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import HistGradientBoostingClassifier

from cfexplain._guidance import boundary_rows
from cfexplain._surrogate import Surrogate


def test_classification_fidelity_and_partial_fit():
    X, y = make_classification(n_samples=400, n_features=6, random_state=0)
    model = HistGradientBoostingClassifier(max_iter=30).fit(X, y)
    proba = model.predict_proba(X)
    surrogate = Surrogate(task="classification", max_epochs=30, random_state=0)
    surrogate.fit(X, proba)
    assert 0.8 <= surrogate.fidelity_ <= 1.0
    out = surrogate.predict(X)
    assert out.shape == (400, 2)
    np.testing.assert_allclose(out.sum(axis=1), 1, atol=1e-5)
    n_epochs = len(surrogate.net_.history)
    surrogate.partial_fit(X[:50], proba[:50], epochs=2)
    assert len(surrogate.net_.history) == n_epochs + 2
    logits = surrogate.module_(torch.as_tensor(X[:3], dtype=torch.float32))
    assert logits.shape == (3, 2) and logits.requires_grad


def test_regression_in_model_units():
    X, y = make_regression(n_samples=300, n_features=4, noise=0.1, random_state=0)
    y = y * 100 + 5000
    surrogate = Surrogate(task="regression", max_epochs=60, random_state=0).fit(X, y)
    assert surrogate.fidelity_ > 0.9
    assert surrogate.predict(X).shape == (300,)
    assert abs(surrogate.predict(X).mean() - y.mean()) < 0.2 * y.std()


def test_seeded_fits_are_identical_and_leave_global_rng():
    X, y = make_classification(n_samples=100, n_features=4, random_state=1)
    proba = np.eye(2)[y]
    before = torch.get_rng_state()
    a = Surrogate(task="classification", max_epochs=2, random_state=3).fit(X, proba)
    b = Surrogate(task="classification", max_epochs=2, random_state=3).fit(X, proba)
    assert torch.equal(before, torch.get_rng_state())
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


def test_bad_task():
    with pytest.raises(ValueError, match="task must be"):
        Surrogate(task="ranking").fit(np.zeros((4, 2)), np.zeros(4))


def test_extra_rows_train_but_fidelity_stays_on_held_out_rows():
    X, y = make_classification(n_samples=200, n_features=4, random_state=2)
    proba = np.eye(2)[y]
    extra = (np.full((50, 4), 10.0), np.tile([[0.0, 1.0]], (50, 1)))
    plain = Surrogate(task="classification", max_epochs=5, random_state=0)
    with_extra = Surrogate(task="classification", max_epochs=5, random_state=0)
    plain.fit(X, proba)
    with_extra.fit(X, proba, extra_rows=extra)
    # The far rows were learnt, yet fidelity_ reads the held-out rows only.
    assert with_extra.predict(extra[0][:1])[0, 1] > 0.9
    held_out = np.random.RandomState(0).permutation(200)[:40]
    assert with_extra.fidelity_ == with_extra.fidelity(X[held_out], proba[held_out])


def _identity_relabel(labels_of):
    def relabel(Xt):
        return Xt, labels_of(Xt)

    return relabel


@given(
    labels=st.lists(st.integers(0, 3), min_size=2, max_size=60).filter(
        lambda labels: len(set(labels)) > 1
    ),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=50, deadline=None)
def test_boundary_rows_join_rows_of_different_classes(labels, seed):
    labels = np.asarray(labels)
    n = len(labels)
    # Row i sits at (i, label_i): an interpolation's second coordinate lies
    # strictly between two labels only if the pair's labels differ.
    Xt = np.column_stack([np.arange(n), labels]).astype(np.float32)
    proba = np.eye(4)[labels]
    seen = []
    relabel = _identity_relabel(lambda X: seen.append(X) or np.zeros((len(X), 4)))
    Xb, yb = boundary_rows(relabel, Xt, proba, seed)
    assert Xb.shape == (n, 2) and yb.shape == (n, 4)
    assert Xb.dtype == np.float32
    # Each row is λ·a + (1-λ)·b of two rows with different labels.
    for x in Xb:
        ends = [(i, j) for i in range(n) for j in range(n) if labels[i] != labels[j]]
        assert any(
            np.allclose(x, w * Xt[i] + (1 - w) * Xt[j], atol=1e-4)
            for i, j in ends
            for w in [
                (x[0] - Xt[j, 0]) / (Xt[i, 0] - Xt[j, 0])
                if Xt[i, 0] != Xt[j, 0]
                else 0.5
            ]
            if 0 <= w <= 1
        )
    again = boundary_rows(relabel, Xt, proba, seed)[0]
    np.testing.assert_array_equal(Xb, again)


def test_boundary_rows_none_for_one_class_and_capped():
    Xt = np.random.RandomState(0).normal(size=(30, 3)).astype(np.float32)
    relabel = _identity_relabel(lambda X: np.ones(len(X)))
    assert boundary_rows(relabel, Xt, np.eye(2)[np.zeros(30, int)], 0) is None
    assert boundary_rows(relabel, Xt, np.eye(2)[np.arange(30) % 2], 0, 0) is None
    Xb, _ = boundary_rows(relabel, Xt, np.arange(30.0), 0, max_rows=7)
    assert Xb.shape == (7, 3)
