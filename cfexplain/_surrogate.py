"""A differentiable stand-in for black-box models, trained with skorch.

The generators learn by back-propagating the prediction loss through the model
under explanation. A scikit-learn, XGBoost or any other callable model has no
gradients on cfexplain's encoding, so we distil it: a small fully connected
network learns to map encoded rows to the model's own outputs (its
probabilities, not labels: a soft-label loss keeps the decision margins), and
the generator trains through that network instead. Its agreement with the
real model on held-out rows, :attr:`Surrogate.fidelity_`, tells how far the
gradients can be trusted; generators keep it honest by calling
:meth:`Surrogate.partial_fit` on the rows they generate, labelled by the real
model. Validity is always measured against the real model, never this one.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import recall_score
from skorch import NeuralNet
from torch import nn

from ._predictor import CLASSIFICATION, REGRESSION
from ._random import torch_generator, torch_seeded
from .backends.batches import batch_loader

__all__ = ["SoftTargetCrossEntropy", "Surrogate", "SurrogateModule"]


class SoftTargetCrossEntropy(nn.Module):
    """Cross-entropy between logits and target probability vectors.

    ``-(p * log_softmax(logits)).sum(dim=1).mean()``: with one-hot targets it
    is the usual cross-entropy; with the model's probabilities it matches the
    whole predicted distribution, which is what a surrogate must reproduce.
    """

    def forward(self, logits, target_proba):
        """Return the mean soft-label cross-entropy of a batch.

        Parameters
        ----------
        logits : torch.Tensor of shape (n, k)
            Unnormalised scores.
        target_proba : torch.Tensor of shape (n, k)
            Target distributions; rows sum to one.

        Returns
        -------
        torch.Tensor
            A scalar.
        """
        return -(target_proba * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()


class SurrogateModule(nn.Module):
    """A fully connected ReLU network with an output rescaling for regression.

    Parameters
    ----------
    n_inputs : int
        Width of the encoded rows.
    n_outputs : int
        Number of classes (logits out), or 1 for regression.
    hidden_sizes : tuple of int
        Widths of the hidden layers.
    output_mean, output_scale : float, default=0.0, 1.0
        Regression outputs are learnt standardised and mapped back with
        ``output * scale + mean``, so the module speaks the model's units.
    """

    def __init__(
        self, n_inputs, n_outputs, hidden_sizes, output_mean=0.0, output_scale=1.0
    ):
        super().__init__()
        layers = []
        width = n_inputs
        for size in hidden_sizes:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        layers.append(nn.Linear(width, n_outputs))
        self.layers = nn.Sequential(*layers)
        self.register_buffer("output_mean", torch.tensor(float(output_mean)))
        self.register_buffer("output_scale", torch.tensor(float(output_scale)))
        self.regression = n_outputs == 1

    def forward(self, X):
        """Return logits (classification) or values (regression).

        Parameters
        ----------
        X : torch.Tensor of shape (n, n_inputs)
            Encoded rows.

        Returns
        -------
        torch.Tensor
            Shape ``(n, n_outputs)`` logits, or ``(n,)`` values.
        """
        out = self.layers(X)
        if self.regression:
            return out[:, 0] * self.output_scale + self.output_mean
        return out


class _StandardisedMSE(nn.Module):
    """MSE on standardised values, so the loss scale ignores the model's units."""

    def __init__(self, scale=1.0):
        super().__init__()
        self.scale = scale

    def forward(self, prediction, target):
        return torch.mean(((prediction - target) / self.scale) ** 2)


#: The optimiser steps (of 512 rows) that ``Surrogate(max_epochs="auto")``
#: trains at least, where that takes under :data:`AUTO_MAX_EPOCHS`
#: epochs. The generator's share of targets reached alone (the fit's
#: self-check, a GAN explaining boosted trees on a synthetic table of 7
#: numbers and 3 categories, seed 0) stopped rising at about this many:
#: on 1,000,000 rows, 1 epoch (1,560 steps) 0.70, 4 (6,240) 0.76, 20
#: (31,200) 0.76, the fit taking 67 s (a scratch run), 76 and 126 s
#: (``benchmarks/fit_scale.py --surrogate-epochs 20,4``); on
#: 200,000 rows, 1 epoch (310 steps) 0.69, 6 (1,860) 0.80, 20 (6,200) 0.86.
AUTO_STEPS = 6000
#: The most epochs ``max_epochs="auto"`` trains: the fixed default it
#: replaced, kept on tables of up to about 200,000 rows (on German credit
#: and breast cancer, 1,000 steps did not raise the agreement with tree
#: models: README, "The surrogate of a tree model").
AUTO_MAX_EPOCHS = 20


class Surrogate:
    """A small network trained to imitate a black-box model on encoded rows.

    Parameters
    ----------
    task : {"classification", "regression"}
        The model's task.
    hidden_sizes : tuple of int, default=(128, 128)
        Hidden layer widths. Two ReLU layers fit the decision functions of the
        tabular models we explain (boosted trees included) to over 95 %
        agreement on Adult in a few epochs.
    max_epochs : int or "auto", default=20
        Epochs of the initial :meth:`fit`. ``"auto"`` is the fewest epochs
        that make at least :data:`AUTO_STEPS` optimiser steps, between 1
        and :data:`AUTO_MAX_EPOCHS`: 20 epochs on tables of up to about
        200,000 rows, 4 on a million (where 20 epochs were 31,000 steps).
    lr : float, default=1e-3
        Adam learning rate.
    batch_size : int, default=512
        Minibatch size.
    validation_fraction : float, default=0.2
        Share of the rows held out to measure :attr:`fidelity_`.
    device : str, default="cpu"
        Torch device to train on.
    random_state : int, default=0
        Seeds the initialisation, the shuffling and the hold-out split.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.history`` holds its losses.
    max_epochs_ : int
        The epochs :meth:`fit` trained (``max_epochs`` resolved).
    fidelity_ : float
        On the held-out rows: the share of rows where the surrogate's most
        likely class is the model's (classification), or the coefficient of
        determination R² of its values (regression).
    n_outputs_ : int
        Number of classes, or 1.
    """

    def __init__(
        self,
        *,
        task,
        hidden_sizes=(128, 128),
        max_epochs=20,
        lr=1e-3,
        batch_size=512,
        validation_fraction=0.2,
        device="cpu",
        random_state=0,
    ):
        self.task = task
        self.hidden_sizes = hidden_sizes
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.device = device
        self.random_state = random_state

    def _targets(self, y_model):
        y = np.asarray(y_model, dtype=np.float32)
        return y if self.task == CLASSIFICATION else y.reshape(-1)

    def fit(self, Xt, y_model):
        """Train the surrogate on encoded rows and the model's outputs.

        Parameters
        ----------
        Xt : numpy.ndarray of shape (n_samples, n_encoded)
            Encoded rows.
        y_model : numpy.ndarray
            The real model's probabilities ``(n_samples, n_classes)`` or
            values ``(n_samples,)`` on the same rows.

        Returns
        -------
        self : Surrogate
        """
        if self.task not in (CLASSIFICATION, REGRESSION):
            raise ValueError(
                f"task must be 'classification' or 'regression', got {self.task!r}"
            )
        Xt = np.asarray(Xt, dtype=np.float32)
        y = self._targets(y_model)
        rng = np.random.RandomState(self.random_state)
        order = rng.permutation(len(Xt))
        n_holdout = int(round(self.validation_fraction * len(Xt)))
        if len(Xt) - n_holdout < 2:
            n_holdout = 0
        holdout, train = order[:n_holdout], order[n_holdout:]
        if self.task == CLASSIFICATION:
            self.n_outputs_ = y.shape[1]
            mean, scale = 0.0, 1.0
            criterion = SoftTargetCrossEntropy
            criterion_kwargs = {}
        else:
            self.n_outputs_ = 1
            mean = float(y[train].mean())
            scale = float(y[train].std()) or 1.0
            criterion = _StandardisedMSE
            criterion_kwargs = {"criterion__scale": scale}
        with torch_seeded(self.random_state):
            self.net_ = NeuralNet(
                module=SurrogateModule,
                module__n_inputs=Xt.shape[1],
                module__n_outputs=self.n_outputs_,
                module__hidden_sizes=tuple(self.hidden_sizes),
                module__output_mean=mean,
                module__output_scale=scale,
                criterion=criterion,
                optimizer=torch.optim.Adam,
                lr=self.lr,
                batch_size=self.batch_size,
                max_epochs=self._epochs(len(train)),
                train_split=None,
                iterator_train=batch_loader,
                iterator_train__shuffle=True,
                iterator_train__generator=torch_generator(self.random_state),
                device=self.device,
                verbose=0,
                **criterion_kwargs,
            )
            self.net_.fit(Xt[train], y[train])
        self.fidelity_ = (
            self.fidelity(Xt[holdout], y[holdout]) if n_holdout else float("nan")
        )
        return self

    def _epochs(self, n_rows):
        """Resolve ``max_epochs`` for ``n_rows`` training rows into ``max_epochs_``."""
        epochs = self.max_epochs
        if epochs == "auto":
            # skorch's batch_size=-1 is the whole data; the loader keeps the
            # last, incomplete batch (drop_last=False).
            batch = n_rows if self.batch_size == -1 else self.batch_size
            steps_per_epoch = max(1, -(-n_rows // max(1, batch)))
            epochs = min(AUTO_MAX_EPOCHS, max(1, -(-AUTO_STEPS // steps_per_epoch)))
        self.max_epochs_ = int(epochs)
        return self.max_epochs_

    def partial_fit(self, Xt, y_model, epochs=1):
        """Train the surrogate further, e.g. on generated counterfactuals.

        Parameters
        ----------
        Xt : numpy.ndarray of shape (n_samples, n_encoded)
            Encoded rows.
        y_model : numpy.ndarray
            The real model's outputs on the same rows.
        epochs : int, default=1
            Passes over the new rows.

        Returns
        -------
        self : Surrogate
        """
        Xt = np.asarray(Xt, dtype=np.float32)
        y = self._targets(y_model)
        self.net_.partial_fit(Xt, y, epochs=epochs)
        return self

    @property
    def module_(self) -> nn.Module:
        """The trained network: encoded rows to logits or values."""
        return self.net_.module_

    def predict(self, Xt) -> np.ndarray:
        """Return the surrogate's probabilities or values for encoded rows.

        Parameters
        ----------
        Xt : numpy.ndarray of shape (n_samples, n_encoded)
            Encoded rows.

        Returns
        -------
        numpy.ndarray
            Probabilities ``(n_samples, n_classes)`` or values ``(n_samples,)``.
        """
        # The module is called directly: skorch's forward would build a
        # DataLoader, which draws a seed from the user's global torch RNG.
        module = self.net_.module_
        was_training = module.training
        module.eval()
        with torch.no_grad():
            out = module(torch.as_tensor(Xt, dtype=torch.float32, device=self.device))
        module.train(was_training)
        if self.task == CLASSIFICATION:
            out = torch.softmax(out, dim=1)
        return out.detach().cpu().numpy().astype(np.float64)

    def fidelity(self, Xt, y_model, *, balanced=False) -> float:
        """Return the surrogate's agreement with the real model on some rows.

        Parameters
        ----------
        Xt : numpy.ndarray of shape (n_samples, n_encoded)
            Encoded rows.
        y_model : numpy.ndarray
            The real model's outputs on the same rows.
        balanced : bool, default=False
            Classification only: average the agreement over the classes the
            model predicts on these rows (each class's share of its rows the
            surrogate gets right: the balanced accuracy of the surrogate's
            labels against the model's). On a table where the model
            predicts one class for 97 % of the rows, a surrogate that never
            predicts the rare class agrees on 97 % of the rows but only
            50 % balanced, and the rare class is where most
            counterfactuals are sent.

        Returns
        -------
        float
            Share of rows with the same most likely class (classification), or
            R² of the values (regression).
        """
        pred = self.predict(Xt)
        y = np.asarray(y_model)
        if self.task == CLASSIFICATION:
            model_labels = y.argmax(axis=1)
            surrogate_labels = pred.argmax(axis=1)
            if balanced:
                return float(
                    recall_score(
                        model_labels,
                        surrogate_labels,
                        labels=np.unique(model_labels),
                        average="macro",
                    )
                )
            return float(np.mean(surrogate_labels == model_labels))
        residual = np.sum((y - pred) ** 2)
        total = np.sum((y - y.mean()) ** 2)
        return float(1.0 - residual / total) if total > 0 else float(residual == 0)
