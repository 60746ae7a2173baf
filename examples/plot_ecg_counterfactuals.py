"""
Counterfactuals for a heartbeat classifier
==========================================

Train a small 1-D convolutional network to tell normal from abnormal
heartbeats of the ECG5000 data shipped with cfexplain, then fit paper 1's
perturbation autoencoder (:class:`~cfexplain.CounterfactualAE`, appendix B,
introduced there for ECGs) to explain it: for each beat, the smallest
realistic change that makes the network call it the other class. Series are
arrays ``(n_cases, n_channels, n_timepoints)``, the layout of aeon and
sktime; ``modality="series"`` says so, since a 3-D array could also hold
images. A few epochs keep the example fast; ``benchmarks/ecg5000.py`` runs
every explainer with its defaults and the paper's bidirectional LSTM.
"""

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch import nn

from cfexplain import CounterfactualAE, datasets

torch.manual_seed(0)

# %%
# The model under explanation
# ---------------------------
#
# The beats are z-normalised float arrays of shape ``(n, 1, 140)``. The
# network is a :class:`torch.nn.Module` taking them as they are, so the
# explainer differentiates it directly (any other model, e.g. a scikit-learn
# pipeline on flattened beats, would get a surrogate).
ecg = datasets.load_ecg5000()
X = ecg.data.astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(
    X, ecg.target, train_size=1500, test_size=300, stratify=ecg.target, random_state=0
)

net = nn.Sequential(
    nn.Conv1d(1, 16, 7, padding=3),
    nn.ReLU(),
    nn.MaxPool1d(4),
    nn.Conv1d(16, 32, 5, padding=2),
    nn.ReLU(),
    nn.AdaptiveAvgPool1d(1),
    nn.Flatten(),
    nn.Linear(32, 2),
)
optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
X_tensor, y_tensor = torch.as_tensor(X_train), torch.as_tensor(y_train)
for _ in range(8):
    for batch in torch.randperm(len(X_tensor)).split(64):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(net(X_tensor[batch]), y_tensor[batch])
        loss.backward()
        optimizer.step()
net.eval()
with torch.no_grad():
    predicted = net(torch.as_tensor(X_test)).argmax(1).numpy()
print(f"test accuracy: {(predicted == y_test).mean():.3f}")

# %%
# Fit the explainer once, explain many beats
# ------------------------------------------
explainer = CounterfactualAE(modality="series", max_epochs=15, random_state=0)
explainer.fit(X_train, predict_fn=net)
print(explainer.fit_report_)

X_cf = explainer.transform(X_test)
with torch.no_grad():
    flipped = net(torch.as_tensor(X_cf)).argmax(1).numpy() != predicted
print(f"validity on {len(X_test)} test beats: {flipped.mean():.3f}")
print(f"mean change per time point: {np.abs(X_cf - X_test).mean():.3f}")

# %%
# What changed, in words and in a plot
# ------------------------------------
#
# ``explain`` describes each counterfactual as windows of time points raised
# or lowered, and ``plot`` overlays it on the original beat (the change is
# shaded).
explanation = explainer.explain(X_test[:3])
for changes in explanation.changes:
    print(changes[0][:3])
explanation.plot()

# %%
# Constraints at explain time
# ---------------------------
#
# Keep the first 30 time points as they are, or bound the amplitude, without
# retraining: ``immutable`` takes frozen windows (or channels, or a boolean
# mask) and ``bounds`` an amplitude range per channel. Bounds hold for the
# whole counterfactual, so give a range the originals respect (here, the
# range of the beats explained): a point outside it would be clipped whether
# or not the model needs the change, and counted in a warning.
X_kept = explainer.transform(X_test[:50], immutable={"windows": [(0, 30)]})
print(bool((X_kept[..., :30] == X_test[:50, :, :30]).all()))
low, high = float(X_test[:50].min()), float(X_test[:50].max())
X_bounded = explainer.transform(X_test[:50], bounds={0: (low, high)})
print(low <= float(X_bounded.min()), float(X_bounded.max()) <= high)

# %%
# Constraints that no counterfactual can satisfy are refused, naming the
# series, rather than returned broken: here frozen values of some beats lie
# outside tighter bounds.
from cfexplain import ConstraintError  # noqa: E402

try:
    explainer.transform(
        X_test[:50], immutable={"windows": [(0, 30)]}, bounds={0: (-3, 3)}
    )
except ConstraintError as error:
    print(error)
