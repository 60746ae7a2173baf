"""Training and answering on a CUDA GPU (skipped on machines without one).

On a machine with a GPU the whole suite runs there too, since ``device``
defaults to ``"auto"``; these tests name the device and check what the
contract suite cannot see from the answers alone: where the networks live,
that the user's model is left on its own device, and that answers come back
as CPU arrays and frames.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from cf_testing import (
    FAST,
    FAST_AUTOENCODER,
    frame_proba,
    make_mixed_frame,
    make_series,
)

from cfexplain import CounterfactualAE, CounterfactualCVAE, CounterfactualGAN

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU"
)

EXPLAINERS = {
    "gan": lambda **kw: CounterfactualGAN(**{**FAST, **kw}),
    "cvae": lambda **kw: CounterfactualCVAE(
        prediction_weight=1.0, **{**FAST_AUTOENCODER, **kw}
    ),
    "ae": lambda **kw: CounterfactualAE(**{**FAST_AUTOENCODER, **kw}),
}


class LinearSeriesClassifier(torch.nn.Module):
    """Two logits from a linear layer over a flattened series (has weights)."""

    def __init__(self, length=24):
        super().__init__()
        torch.manual_seed(0)
        self.linear = torch.nn.Linear(length, 2)

    def forward(self, X):
        return self.linear(X.reshape(X.shape[0], -1))


def _parameter_devices(explainer):
    return {p.device.type for p in explainer.net_.module_.parameters()}


@pytest.mark.parametrize("name", EXPLAINERS)
def test_table_explainer_trains_on_the_gpu_and_answers_on_the_cpu(name):
    X = make_mixed_frame()
    explainer = EXPLAINERS[name](device="cuda").fit(X, predict_fn=frame_proba)
    assert explainer.device_ == "cuda"
    assert _parameter_devices(explainer) == {"cuda"}
    X_cf = explainer.transform(X.iloc[:20])
    assert isinstance(X_cf, pd.DataFrame)
    assert X_cf.dtypes.equals(X.dtypes)
    explanation = explainer.explain(X.iloc[:5])
    assert explanation.valid.dtype == bool


@pytest.mark.parametrize("name", EXPLAINERS)
@pytest.mark.parametrize("model_device", ["cuda", "cpu"])
def test_user_torch_model_stays_on_its_device(name, model_device):
    X = make_series()
    model = LinearSeriesClassifier().to(model_device)
    explainer = EXPLAINERS[name](modality="series", max_epochs=3, device="cuda")
    explainer.fit(X, predict_fn=model)
    # The explainer trains a copy; the user's network is where it was.
    assert {p.device.type for p in model.parameters()} == {model_device}
    X_cf = explainer.transform(X[:16])
    assert isinstance(X_cf, np.ndarray) and X_cf.dtype == X.dtype
    assert X_cf.shape == (16, *X.shape[1:])


@pytest.mark.parametrize("name", EXPLAINERS)
def test_gpu_explainer_pickles_on_the_gpu(name):
    X = make_mixed_frame()
    explainer = EXPLAINERS[name](device="cuda").fit(X, predict_fn=frame_proba)
    restored = pickle.loads(pickle.dumps(explainer))
    assert restored.device_ == "cuda"
    assert _parameter_devices(restored) == {"cuda"}
    pd.testing.assert_frame_equal(
        restored.transform(X.iloc[:30]), explainer.transform(X.iloc[:30])
    )


def test_cpu_explainer_moves_to_the_gpu_with_set_params():
    # sklearn's usual route: the same estimator refit with another device.
    X = make_mixed_frame()
    explainer = CounterfactualGAN(**FAST, device="cpu").fit(X, predict_fn=frame_proba)
    explainer.set_params(device="cuda").fit(X, predict_fn=frame_proba)
    assert _parameter_devices(explainer) == {"cuda"}
    assert explainer.transform(X.iloc[:10]).shape == (10, X.shape[1])


class RecurrentSeriesClassifier(torch.nn.Module):
    """Two logits from an LSTM's last step, as appendix A.2's classifier."""

    def __init__(self, layers=1, dropout=0.0):
        super().__init__()
        torch.manual_seed(0)
        self.lstm = torch.nn.LSTM(1, 8, num_layers=layers, dropout=dropout)
        self.head = torch.nn.Linear(8, 2)

    def forward(self, X):
        out, _ = self.lstm(X.permute(2, 0, 1))  # (steps, n, 1)
        return self.head(out[-1])


@pytest.mark.parametrize("name", EXPLAINERS)
@pytest.mark.parametrize("layers, dropout", [(1, 0.0), (2, 0.3)])
def test_gradients_pass_through_a_recurrent_model_in_eval_mode(name, layers, dropout):
    # cuDNN differentiates recurrent layers only in training mode; the
    # model under explanation is frozen in evaluation mode.
    X = make_series()
    model = RecurrentSeriesClassifier(layers, dropout).cuda().eval()
    explainer = EXPLAINERS[name](modality="series", max_epochs=2, device="cuda")
    explainer.fit(X, predict_fn=model)
    assert not model.training and not model.lstm.training
    assert explainer.transform(X[:8]).shape == (8, *X.shape[1:])


def test_fit_and_transform_run_cudnn_reproducibly_and_restore_its_settings():
    # Deterministic cuDNN without TF32 inside the explainer, the user's
    # settings outside it (see cfexplain._device.reproducible_cuda_kernels).
    seen = []

    def model(X):
        cudnn = torch.backends.cudnn
        seen.append((cudnn.deterministic, cudnn.benchmark, cudnn.allow_tf32))
        return frame_proba(X)

    X = make_mixed_frame()
    before = torch.backends.cudnn.deterministic, torch.backends.cudnn.allow_tf32
    explainer = CounterfactualGAN(**FAST, device="cuda").fit(X, predict_fn=model)
    explainer.transform(X.iloc[:10])
    assert seen and set(seen) == {(True, False, False)}
    assert (torch.backends.cudnn.deterministic, torch.backends.cudnn.allow_tf32) == (
        before
    )
