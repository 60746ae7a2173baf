import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import HistGradientBoostingClassifier

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


def test_balanced_agreement_counts_a_rare_class_as_much_as_a_common_one(monkeypatch):
    surrogate = Surrogate(task="classification")
    # The model puts 3 rows of 100 in class 1; the surrogate never does, and
    # gets one of the 97 class-0 rows wrong as class 2 (a class the model
    # never predicts here, which must not enter the average).
    model = np.eye(3)[[0] * 97 + [1] * 3]
    guess = np.eye(3)[[0] * 96 + [2] + [0] * 3]
    monkeypatch.setattr(surrogate, "predict", lambda Xt: guess)
    assert surrogate.fidelity(None, model) == pytest.approx(0.96)
    assert surrogate.fidelity(None, model, balanced=True) == pytest.approx(
        (96 / 97 + 0 / 3) / 2
    )


@pytest.mark.parametrize(
    "n_rows, expected_epochs",
    [
        (20, 20),  # 2 steps an epoch: 30 epochs for 60 steps, capped at 20
        (200, 3),  # 160 rows to train on, 20 steps an epoch
        (195, 3),  # 156 rows: 20 steps, the last batch incomplete (19 full)
        (1000, 1),  # 100 steps: one epoch is enough
    ],
)
def test_auto_epochs_train_about_a_number_of_steps(
    monkeypatch, n_rows, expected_epochs
):
    monkeypatch.setattr("cfexplain._surrogate.AUTO_STEPS", 60)
    X, y = make_classification(n_samples=n_rows, n_features=4, random_state=0)
    surrogate = Surrogate(
        task="classification", max_epochs="auto", batch_size=8, random_state=0
    ).fit(X, np.eye(2)[y])
    assert surrogate.max_epochs_ == expected_epochs
    assert len(surrogate.net_.history) == expected_epochs


def test_explainers_train_their_surrogate_with_the_auto_budget():
    from cf_testing import frame_proba, make_mixed_frame

    from cfexplain import CounterfactualGAN

    X = make_mixed_frame(n=200)
    explainer = CounterfactualGAN(max_epochs=1, random_state=0)
    explainer.fit(X, predict_fn=frame_proba)
    assert explainer.surrogate_epochs == "auto"
    # A small table trains the surrogate for the most epochs "auto" gives.
    assert explainer.surrogate_.max_epochs_ == 20
    with pytest.raises(ValueError, match="surrogate_epochs"):
        CounterfactualGAN(surrogate_epochs="many").fit(X, predict_fn=frame_proba)
