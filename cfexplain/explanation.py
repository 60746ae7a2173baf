"""The result of ``explain``: originals, counterfactuals and what changed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Explanation", "changed_features", "describe_changes"]


def _format_value(value) -> str:
    if isinstance(value, (float, np.floating)):
        if float(value).is_integer():
            return str(int(value))
        return f"{value:.4g}"
    return str(value)


def _differs(a, b) -> bool:
    if isinstance(a, (float, np.floating)) or isinstance(b, (float, np.floating)):
        return not np.isclose(float(a), float(b), rtol=1e-9, atol=1e-12)
    return a != b


def changed_features(original: pd.DataFrame, counterfactual: pd.DataFrame):
    """Return which features differ between two aligned frames.

    Parameters
    ----------
    original, counterfactual : pandas.DataFrame
        Rows to compare, aligned by position, with the same columns.

    Returns
    -------
    numpy.ndarray of bool, shape (n_rows, n_features)
    """
    before = original.to_numpy(dtype=object)
    after = counterfactual.to_numpy(dtype=object)
    return np.array(
        [
            [_differs(a, b) for a, b in zip(rb, ra, strict=True)]
            for rb, ra in zip(before, after, strict=True)
        ],
        dtype=bool,
    ).reshape(before.shape)


def describe_changes(original: pd.DataFrame, counterfactual: pd.DataFrame):
    """List the changed features of each row as ``"Age: 25 -> 39"``.

    Parameters
    ----------
    original, counterfactual : pandas.DataFrame
        Rows to compare, aligned by position, with the same columns.

    Returns
    -------
    list of list of str
        For each row, one string per changed feature, in column order.
    """
    columns = list(original.columns)
    changed = changed_features(original, counterfactual)
    before = original.to_numpy(dtype=object)
    after = counterfactual.to_numpy(dtype=object)
    return [
        [
            f"{columns[j]}: {_format_value(before[i, j])} -> "
            f"{_format_value(after[i, j])}"
            for j in np.flatnonzero(changed[i])
        ]
        for i in range(len(changed))
    ]


@dataclass(frozen=True)
class Explanation:
    """Counterfactual explanations of a batch of rows.

    Parameters
    ----------
    original : pandas.DataFrame of shape (n, n_features)
        The rows explained (arrays are shown with columns ``x0, x1, ...``).
    counterfactuals : pandas.DataFrame of shape (n * k, n_features)
        ``k`` counterfactuals per row, indexed by a MultiIndex of the
        original row's index label and the counterfactual's number ``0..k-1``.
        Number 0 is the deterministic answer that ``transform`` returns.
    y_original : numpy.ndarray
        The model's outputs on the originals: probabilities ``(n, n_classes)``
        or values ``(n,)``.
    y_counterfactual : numpy.ndarray
        The model's outputs on the counterfactuals, in the same order as
        ``counterfactuals``.
    target : numpy.ndarray
        Per original row: the target class label (classification; the most
        likely class of a soft target), or the ``[low, high]`` interval
        (regression, shape ``(n, 2)``).
    valid : numpy.ndarray of bool, shape (n, k)
        Whether each counterfactual reaches its target according to the model.
    changes : list of list of list of str
        ``changes[i][j]``: the changed features of counterfactual ``j`` of
        row ``i``, e.g. ``["Age: 25 -> 39", "Sex: Female -> Male"]``.
    classes : numpy.ndarray or None
        The model's class labels (classification).
    """

    original: pd.DataFrame
    counterfactuals: pd.DataFrame
    y_original: np.ndarray
    y_counterfactual: np.ndarray
    target: np.ndarray
    valid: np.ndarray
    changes: list
    classes: np.ndarray | None = None

    @property
    def n_counterfactuals(self) -> int:
        """Counterfactuals per original row."""
        return self.valid.shape[1]

    def __len__(self):
        return len(self.original)

    def _predicted(self, y):
        if self.classes is None:
            return np.asarray(y)
        return np.asarray(self.classes)[np.asarray(y).argmax(axis=1)]

    def to_frame(self) -> pd.DataFrame:
        """Return one row per counterfactual with its prediction and changes.

        Returns
        -------
        pandas.DataFrame
            The counterfactual's features, then ``prediction`` (class label
            or value), ``original_prediction``, ``target``, ``valid`` and
            ``changes`` (the changed features joined by ``"; "``), indexed like
            :attr:`counterfactuals`.
        """
        k = self.n_counterfactuals
        frame = self.counterfactuals.copy()
        frame["prediction"] = self._predicted(self.y_counterfactual)
        frame["original_prediction"] = np.repeat(
            self._predicted(self.y_original), k, axis=0
        )
        target = np.asarray(self.target)
        if target.ndim == 2:
            target = [tuple(pair) for pair in target]
        frame["target"] = np.repeat(np.asarray(target, dtype=object), k, axis=0)
        frame["valid"] = self.valid.reshape(-1)
        frame["changes"] = ["; ".join(c) for row in self.changes for c in row]
        return frame

    def __str__(self):
        lines = []
        predicted = self._predicted(self.y_original)
        for i, label in enumerate(self.original.index):
            lines.append(
                f"row {label}: predicted {predicted[i]}, target {self.target[i]}"
            )
            for j in range(self.n_counterfactuals):
                status = "valid" if self.valid[i, j] else "not valid"
                changes = ", ".join(self.changes[i][j]) or "no change"
                lines.append(f"  [{j}] ({status}) {changes}")
        return "\n".join(lines)

    def plot(self, ax=None):
        """Plot how often each feature changes across the counterfactuals.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw; a new figure is made when omitted.

        Returns
        -------
        matplotlib.axes.Axes

        Raises
        ------
        ImportError
            If matplotlib is not installed.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError(
                "Explanation.plot needs matplotlib: pip install matplotlib"
            ) from exc
        originals = self.original.iloc[
            np.repeat(np.arange(len(self.original)), self.n_counterfactuals)
        ]
        changed = changed_features(originals, self.counterfactuals)
        share = pd.Series(changed.mean(axis=0), index=self.original.columns)
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.3 * len(share) + 1))
        share.sort_values().plot.barh(ax=ax)
        ax.set_xlabel("share of counterfactuals changing the feature")
        ax.set_title(
            f"{self.valid.size} counterfactuals, {self.valid.mean():.0%} valid"
        )
        return ax
