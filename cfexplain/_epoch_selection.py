"""Keep the generator of the training epoch whose answers are most realistic.

Adversarial training does not settle on one generator: from epoch to epoch
the GAN's counterfactuals swing between sparser and more typical of their
target class. On ECG5000 (``benchmarks/ecg5000.py``, the BiLSTM, 12 epochs
of paper 1's Adam 1e-3), the class-conditional MMD² of the last four epochs'
answers went 0.090, 0.127, 0.097, 0.134 for class 0 (seed 2), so where
training stops decides how realistic the explainer is. Paper 1's BIN
baseline (appendix A.1) keeps "the version that produced the most realistic
looking counterfactuals on the validation set"; :class:`MostRealisticEpoch`
does the same with the class-conditional MMD² of the held-out rows'
counterfactuals (paper 1's realism measure), among the epochs whose
counterfactuals reach their target about as often as the best epoch's.

An epoch is as realistic as its least realistic target class: the largest
of its classes' MMD² is compared, not their mean, which let one class's
gain hide another's loss. On ECG5000 (seed 0) the mean kept the last epoch,
whose class MMD² on the test beats was 0.129 / 0.076 (held out: 0.148 /
0.074), over the ninth, 0.092 / 0.100 (held out: 0.120 / 0.101).
"""

from __future__ import annotations

import copy

import numpy as np
from skorch.callbacks import Callback

from .metrics import class_conditional_mmd2

__all__ = ["MostRealisticEpoch"]

#: How far below the best epoch's validity (held-out rows, generator alone)
#: an epoch may fall and still be kept for its realism: a generator that
#: changes little looks like the data but reaches fewer targets.
VALIDITY_TOLERANCE = 0.02
#: Training rows per class the MMD² compares with (a seeded sample): the
#: kernel sums grow with their square, and 1,000 rows measure the epochs'
#: differences (0.03-0.05 on ECG5000) well.
REFERENCE_ROWS_PER_CLASS = 1000


class MostRealisticEpoch(Callback):
    """Keep the generator weights of the most realistic epoch (skorch callback).

    At the end of every epoch the generator answers the held-out rows (no
    noise, as ``transform`` does); the real model scores the answers
    (``relabel``), and the class-conditional MMD²
    (:func:`~cfexplain.metrics.class_conditional_mmd2`, on the encoding,
    the largest over the target classes) compares them with training rows
    the model puts in their target class. Both go to the net's history
    (``held_out_validity``, ``held_out_class_mmd2``). When training ends,
    the generator (and its moving average, if any) takes back the weights
    of the epoch with the lowest MMD² among those whose validity is within
    :data:`VALIDITY_TOLERANCE` of the best.

    Parameters
    ----------
    Xt : numpy.ndarray of shape (n, n_encoded)
        Encoded held-out rows.
    condition, target : numpy.ndarray of shape (n, n_classes)
        Their conditioning vectors (the model's outputs) and their targets'.
    labels : numpy.ndarray of int, shape (n,)
        The target class of each row (a column of ``target``).
    reference : numpy.ndarray of shape (m, n_encoded)
        Encoded training rows.
    reference_labels : numpy.ndarray of int, shape (m,)
        The class the model puts each of them in.
    relabel : callable
        ``relabel(Xt_cf) -> (Xt_cf, y_cf)``: the real model's probabilities
        ``y_cf`` on decoded rows (:class:`cfexplain._guidance._Relabel`).
    seed : int
        Seed of the sample of ``reference`` compared with.

    Attributes
    ----------
    best_epoch_ : int or None
        The epoch (from 1) whose weights the generator holds after
        training; ``None`` before training ends.
    """

    def __init__(
        self, Xt, condition, target, labels, reference, reference_labels, relabel, seed
    ):
        self.Xt = Xt
        self.condition = condition
        self.target = target
        self.labels = labels
        self.reference = reference
        self.reference_labels = reference_labels
        self.relabel = relabel
        self.seed = seed

    def initialize(self):
        """Sample the reference rows; forget earlier epochs."""
        rng = np.random.RandomState(self.seed)
        kept = []
        for label in np.unique(self.reference_labels):
            rows = np.flatnonzero(self.reference_labels == label)
            if len(rows) > REFERENCE_ROWS_PER_CLASS:
                rows = np.sort(
                    rng.choice(rows, REFERENCE_ROWS_PER_CLASS, replace=False)
                )
            kept.append(rows)
        kept = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)
        self.reference_ = self.reference[kept]
        self.reference_labels_ = self.reference_labels[kept]
        self.states_, self.validity_, self.mmd2_ = [], [], []
        self.best_epoch_ = None
        return self

    def on_epoch_end(self, net, **kwargs):
        """Score this epoch's answers to the held-out rows; keep its weights."""
        Xt_cf = net.generate(
            self.Xt, self.condition, self.target, np.zeros_like(self.Xt)
        )
        _, y_cf = self.relabel(Xt_cf)
        validity = float(np.mean(np.argmax(y_cf, axis=1) == self.labels))
        per_class = class_conditional_mmd2(
            Xt_cf,
            self.reference_,
            self.labels,
            self.reference_labels_,
            classes=np.unique(self.labels),
            encode=False,
        )
        values = [v for v in per_class.values() if np.isfinite(v)]
        mmd2 = float(np.max(values)) if values else float("nan")
        net.history.record("held_out_validity", validity)
        net.history.record("held_out_class_mmd2", mmd2)
        self.validity_.append(validity)
        self.mmd2_.append(mmd2)
        self.states_.append(
            {
                name: copy.deepcopy(module.state_dict())
                for name, module in _generators(net)
            }
        )

    def on_train_end(self, net, **kwargs):
        """Give the generator the chosen epoch's weights; drop the others."""
        if self.states_:
            best = choose_epoch(self.validity_, self.mmd2_)
            for name, module in _generators(net):
                module.load_state_dict(self.states_[best][name])
            self.best_epoch_ = best + 1
        # Pickles of the fitted explainer stay small.
        self.states_ = []
        self.Xt = self.condition = self.target = self.reference = None
        self.reference_ = self.relabel = None


def choose_epoch(validity, mmd2):
    """Return the position of the most realistic epoch that is about as valid.

    Parameters
    ----------
    validity, mmd2 : sequence of float
        Per epoch: the held-out rows' validity and class MMD² (NaN where it
        could not be measured).

    Returns
    -------
    int
        The epoch (from 0) with the lowest finite MMD² among those within
        :data:`VALIDITY_TOLERANCE` of the best validity; the last of those
        epochs when none has a finite MMD².
    """
    validity = np.asarray(validity, dtype=float)
    mmd2 = np.asarray(mmd2, dtype=float)
    eligible = np.flatnonzero(validity >= validity.max() - VALIDITY_TOLERANCE)
    measured = eligible[np.isfinite(mmd2[eligible])]
    if not len(measured):
        return int(eligible[-1])
    return int(measured[np.argmin(mmd2[measured])])


def _generators(net):
    """Yield the modules that make the net's answers: generator and average."""
    yield "module_", net.module_
    average = getattr(net, "generator_ema_", None)
    if average is not None:
        yield "generator_ema_", average
