"""
Counterfactuals for a digit classifier
======================================

Train a small convolutional network on the MNIST sample shipped with
cfexplain, fit a :class:`~cfexplain.CounterfactualCVAE` (paper 2's
conditional VAE) and a :class:`~cfexplain.CounterfactualAE` (paper 1's
perturbation autoencoder) to explain it, and look at the digits they turn
into other digits. The network is a :class:`torch.nn.Module`: the explainers
call it on images in the format they were given and use its gradients
directly. A few epochs keep the example fast, at a price: the CVAE's fit
warns (:class:`~cfexplain.LowValidityWarning`: about half of its self-check
reaches the target) and some of its answers miss their target digit, which
the ``valid`` mask and the plots' "(not valid)" say. ``benchmarks/mnist.py``
trains with the defaults (the README's MNIST table).
"""

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch import nn

from cfexplain import CounterfactualAE, CounterfactualCVAE, datasets

torch.manual_seed(0)

# %%
# The model under explanation
# ---------------------------
#
# Images are float32 arrays of shape ``(n, 1, 28, 28)`` in [0, 1]; uint8
# grey levels of shape ``(n, 28, 28)`` work as well with ``modality="image"``
# (a 3-D array could also be time series, so it is not guessed).
digits = datasets.load_mnist_sample()
images = digits.images.astype(np.float32) / 255  # (n, 1, 28, 28)
X_train, X_test, y_train, y_test = train_test_split(
    images, digits.target, test_size=500, stratify=digits.target, random_state=0
)

cnn = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(32 * 7 * 7, 10),
)
optimizer = torch.optim.Adam(cnn.parameters(), lr=1e-3)
X_tensor, y_tensor = torch.as_tensor(X_train), torch.as_tensor(y_train)
for _ in range(3):
    for batch in torch.randperm(len(X_tensor)).split(64):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(cnn(X_tensor[batch]), y_tensor[batch])
        loss.backward()
        optimizer.step()
cnn.eval()
with torch.no_grad():
    predicted = cnn(torch.as_tensor(X_test)).argmax(1).numpy()
print(f"test accuracy: {(predicted == y_test).mean():.3f}")

# Ask for a different digit for each of five test images.
targets = (predicted[:5] + 5) % 10

# %%
# A conditional VAE
# -----------------
#
# COND-MIX decodes each image under the sum of its own class and the target
# class; on images ``n_candidates="auto"`` ranks 8 latent codes by paper 2's
# metric and keeps the best one that the network classifies as the target
# (``explain`` returns the best ``n_counterfactuals``). ENC-DEC, the default
# mode, decodes under the target class alone and ranks 2. ENC-DEC reaches
# the target more often; COND-MIX keeps more of the original.
cvae = CounterfactualCVAE(mode="cond-mix", max_epochs=10, random_state=0)
cvae.fit(X_train, predict_fn=cnn)
explanation = cvae.explain(X_test[:5], target=targets, n_counterfactuals=2)
print(explanation)
print(f"{explanation.valid.mean():.0%} of the counterfactuals are valid")
explanation.plot()

# %%
# A perturbation autoencoder
# --------------------------
#
# The autoencoder adds a learned change to the image, trained so that the
# network predicts the target, the change stays small, and the result looks
# like real digits of the target class (an MMD loss). A few thousand images
# give few updates per epoch, so it learns faster than its default rate.
ae = CounterfactualAE(lr=1e-3, max_epochs=5, random_state=0)
ae.fit(X_train, predict_fn=cnn)
explanation = ae.explain(X_test[:5], target=targets)
print(f"{explanation.valid.mean():.0%} of the counterfactuals are valid")
explanation.plot()
