"""The result of ``explain``: originals, counterfactuals and what changed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Explanation"]


def free_name(name, taken):
    """Return ``name``, or ``cf_name`` (``cf_cf_name``, ...) when ``taken`` has it."""
    while name in taken:
        name = f"cf_{name}"
    return name


@dataclass(frozen=True)
class Explanation:
    """Counterfactual explanations of a batch of rows.

    Parameters
    ----------
    original : pandas.DataFrame of shape (n, n_features), or numpy.ndarray
        The rows explained (arrays are shown with columns ``x0, x1, ...``);
        for images, the array of images as given.
    counterfactuals : pandas.DataFrame of shape (n * k, n_features), or numpy.ndarray
        ``k`` counterfactuals per row, indexed by a MultiIndex of the
        original row's index label and the counterfactual's number ``0..k-1``
        (for images, an array of ``n * k`` images: all of row 0's, then row
        1's, ...). Number 0 is the deterministic answer that ``transform``
        returns.
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
    modality : str, default="tabular"
        The kind of data (``"tabular"``, ``"image"``, ``"series"``), which says how
        :meth:`plot` draws it.
    plausible : numpy.ndarray of bool, shape (n, k), optional
        Tables with ``plausible_categories=True``, a categorical feature
        and at least one other feature (categorical or numeric): whether
        each counterfactual brings in no pair of categories the training
        rows lack (:mod:`cfexplain._plausibility`; all ``True`` where the
        training rows lack none). ``None`` where the check does not run
        (other tables, series, images).

    Notes
    -----
    ``print(explanation)`` lists each row's answers with their changes and
    validity; an answer equal to an earlier answer of its row says ``same
    as [j]``, since a row may have fewer distinct counterfactuals than it
    asked for.
    """

    original: pd.DataFrame | np.ndarray
    counterfactuals: pd.DataFrame | np.ndarray
    y_original: np.ndarray
    y_counterfactual: np.ndarray
    target: np.ndarray
    valid: np.ndarray
    changes: list
    classes: np.ndarray | None = None
    modality: str = "tabular"
    plausible: np.ndarray | None = None

    @property
    def n_counterfactuals(self) -> int:
        """Counterfactuals per original row."""
        return self.valid.shape[1]

    def __len__(self):
        return len(self.original)

    def predicted(self, y):
        """Return class labels (the argmax of probabilities) or values as they are.

        Parameters
        ----------
        y : numpy.ndarray
            Model outputs: probabilities ``(n, n_classes)`` or values ``(n,)``.

        Returns
        -------
        numpy.ndarray of shape (n,)
        """
        if self.classes is None:
            return np.asarray(y)
        return np.asarray(self.classes)[np.asarray(y).argmax(axis=1)]

    def to_frame(self) -> pd.DataFrame:
        """Return one row per counterfactual with its prediction and changes.

        Returns
        -------
        pandas.DataFrame
            The counterfactual's features, then ``prediction`` (class label
            or value), ``original_prediction``, ``target``, ``valid``,
            ``plausible`` (where the check ran, see :attr:`plausible`) and
            ``changes`` (the changed features joined by ``"; "``), indexed like
            :attr:`counterfactuals`. Where a feature already has one of these
            names, the added column is called ``cf_<name>`` (``cf_cf_<name>``,
            ...) and the feature keeps its values. For series and images
            there are no feature columns and the index is ``(row,
            counterfactual)`` positions.
        """
        k = self.n_counterfactuals
        if isinstance(self.counterfactuals, pd.DataFrame):
            frame = self.counterfactuals.copy()
        else:
            n = len(self.original)
            frame = pd.DataFrame(
                index=pd.MultiIndex.from_arrays(
                    [np.repeat(np.arange(n), k), np.tile(np.arange(k), n)],
                    names=["row", "counterfactual"],
                )
            )
        labels = np.asarray(self.target)  # class labels keep their dtype
        if labels.ndim == 2:
            # Regression targets are (low, high) intervals: one tuple of
            # floats per row (a plain array of tuples would be 2-D).
            intervals = labels
            labels = np.empty(len(intervals), dtype=object)
            labels[:] = [tuple(pair.tolist()) for pair in intervals]
        added = {
            "prediction": self.predicted(self.y_counterfactual),
            "original_prediction": np.repeat(
                self.predicted(self.y_original), k, axis=0
            ),
            "target": np.repeat(labels, k),
            "valid": self.valid.reshape(-1),
        }
        if self.plausible is not None:
            added["plausible"] = self.plausible.reshape(-1)
        added["changes"] = ["; ".join(c) for row in self.changes for c in row]
        features = set(frame.columns)
        for name, values in added.items():
            # A feature of the same name keeps its values.
            frame[free_name(name, features)] = values
        return frame

    def __repr__(self):
        # The dataclass's own repr printed every frame and array in full.
        share = float(np.mean(self.valid)) if np.size(self.valid) else float("nan")
        return (
            f"Explanation({len(self)} rows x {self.n_counterfactuals} "
            f"counterfactuals, {self.modality}, validity {share:.3f}; print() "
            "it for the changes, .to_frame() for a table)"
        )

    def __str__(self):
        lines = []
        k = self.n_counterfactuals
        predicted = self.predicted(self.y_original)
        predicted_cf = self.predicted(self.y_counterfactual)
        regression = self.classes is None
        labels = getattr(self.original, "index", range(len(self.original)))
        for i, label in enumerate(labels):
            shown = f"{predicted[i]:.4g}" if regression else f"{predicted[i]}"
            lines.append(
                f"row {label}: predicted {shown}, target {self._target_text(i)}"
            )
            # An answer equal to an earlier one of the row says so: a row may
            # have fewer distinct answers than it asked for. Equal values,
            # not equal descriptions: an image's description is a summary.
            answers = [self._answer_bytes(i * k + j) for j in range(k)]
            for j in range(k):
                status = "valid" if self.valid[i, j] else "not valid"
                if self.plausible is not None and not self.plausible[i, j]:
                    status += ", brings in a category pair the data lack"
                if regression:
                    status += f", predicted {predicted_cf[i * k + j]:.4g}"
                earlier = answers.index(answers[j])
                if earlier != j:
                    status += f", same as [{earlier}]"
                changes = ", ".join(self.changes[i][j]) or "no change"
                lines.append(f"  [{j}] ({status}) {changes}")
        return "\n".join(lines)

    def _answer_bytes(self, position):
        """Counterfactual ``position`` (row-major) as bytes, to compare answers."""
        if isinstance(self.counterfactuals, pd.DataFrame):
            values = self.counterfactuals.iloc[position].to_numpy()
            return repr(values.tolist()).encode()
        return np.ascontiguousarray(self.counterfactuals[position]).tobytes()

    def _target_text(self, i):
        """Return row ``i``'s target as text: a class, or a regression's range."""
        if self.classes is not None:
            return f"{self.target[i]}"
        low, high = np.asarray(self.target[i], dtype=float)
        if np.isinf(high):
            return f"at least {low:.4g}"
        if np.isinf(low):
            return f"at most {high:.4g}"
        return f"{low:.4g} to {high:.4g}"

    def plot(self, ax=None):
        """Plot how often each feature changes, or the rows themselves.

        For tables: a bar chart of the share of counterfactuals changing each
        feature. For images: one row per original (at most 10), the original
        then its counterfactuals, titled with the model's predictions (the
        original's title also names its target). For time series: one row
        per original (the first 6), one panel per channel (the first 6),
        overlaying the original and its counterfactuals and shading the
        change, titled with the original's prediction and target (to draw
        other series, explain those).

        Parameters
        ----------
        ax : matplotlib.axes.Axes or array of them, optional
            Where to draw a table's bar chart, or a series' panels (filled
            row by row, one per channel: as many series are drawn as whole
            rows fit); a new figure is made when omitted. Images always get
            a new figure.

        Returns
        -------
        matplotlib.axes.Axes or numpy.ndarray of Axes
            The bar chart's axes, or the grid of image or series axes.

        Raises
        ------
        ImportError
            If matplotlib is not installed.
        ValueError
            For series, if ``ax`` holds fewer panels than one series has
            channels (at most 6).
        """
        try:
            import matplotlib  # noqa: F401 - the adapters draw with pyplot
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError(
                "Explanation.plot needs matplotlib: pip install matplotlib"
            ) from exc
        from .modalities import ADAPTERS

        return ADAPTERS[self.modality].plot(self, ax)
