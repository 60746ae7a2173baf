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


def _is_image_batch(rows) -> bool:
    return isinstance(rows, np.ndarray) and rows.ndim > 2


def changed_features(original, counterfactual):
    """Return which features differ between two aligned frames.

    Parameters
    ----------
    original, counterfactual : pandas.DataFrame or numpy.ndarray
        Rows to compare, aligned by position, with the same columns; or
        batches of images of the same shape, whose values are compared one by
        one.

    Returns
    -------
    numpy.ndarray of bool, shape (n_rows, n_features)
        For images, ``n_features`` is the number of values per image.
    """
    if _is_image_batch(original):
        n = len(original)
        return np.asarray(original).reshape(n, -1) != np.asarray(
            counterfactual
        ).reshape(n, -1)
    before = original.to_numpy(dtype=object)
    after = counterfactual.to_numpy(dtype=object)
    return np.array(
        [
            [_differs(a, b) for a, b in zip(rb, ra, strict=True)]
            for rb, ra in zip(before, after, strict=True)
        ],
        dtype=bool,
    ).reshape(before.shape)


def describe_changes(original, counterfactual):
    """List the changed features of each row as ``"Age: 25 -> 39"``.

    Parameters
    ----------
    original, counterfactual : pandas.DataFrame or numpy.ndarray
        Rows to compare, aligned by position, with the same columns; or
        batches of images of the same shape.

    Returns
    -------
    list of list of str
        For each row, one string per changed feature, in column order. An
        image gets one summary, e.g. ``"37 of 784 pixel values changed (mean
        change 0.41)"``, with the change in units of the full range, or no
        string when it is unchanged.
    """
    if _is_image_batch(original):
        return _describe_image_changes(original, counterfactual)
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


def _describe_image_changes(original, counterfactual):
    n = len(original)
    before = np.asarray(original, dtype=np.float64).reshape(n, -1)
    after = np.asarray(counterfactual, dtype=np.float64).reshape(n, -1)
    scale = 255.0 if np.issubdtype(np.asarray(original).dtype, np.integer) else 1.0
    changed = before != after
    descriptions = []
    for i in range(n):
        count = int(changed[i].sum())
        if not count:
            descriptions.append([])
            continue
        mean = np.abs(after[i] - before[i])[changed[i]].mean() / scale
        descriptions.append(
            [
                f"{count} of {before.shape[1]} pixel values changed "
                f"(mean change {mean:.2g})"
            ]
        )
    return descriptions


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
    """

    original: pd.DataFrame | np.ndarray
    counterfactuals: pd.DataFrame | np.ndarray
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
            :attr:`counterfactuals`. For images there are no feature columns
            and the index is ``(row, counterfactual)`` positions.
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
        labels = getattr(self.original, "index", range(len(self.original)))
        for i, label in enumerate(labels):
            lines.append(
                f"row {label}: predicted {predicted[i]}, target {self.target[i]}"
            )
            for j in range(self.n_counterfactuals):
                status = "valid" if self.valid[i, j] else "not valid"
                changes = ", ".join(self.changes[i][j]) or "no change"
                lines.append(f"  [{j}] ({status}) {changes}")
        return "\n".join(lines)

    def plot(self, ax=None):
        """Plot how often each feature changes, or the images side by side.

        For tables: a bar chart of the share of counterfactuals changing each
        feature. For images: one row per original (at most 10), the original
        then its counterfactuals, titled with the model's predictions.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw a table's bar chart; a new figure is made when
            omitted. Images always get a new figure.

        Returns
        -------
        matplotlib.axes.Axes or numpy.ndarray of Axes
            The bar chart's axes, or the grid of image axes.

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
        if _is_image_batch(self.original):
            return self._plot_images(plt)
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

    def _plot_images(self, plt):
        n = min(len(self.original), 10)
        k = self.n_counterfactuals
        fig, axes = plt.subplots(
            n, k + 1, figsize=(1.6 * (k + 1), 1.7 * n), squeeze=False
        )
        predicted = self._predicted(self.y_original)
        predicted_cf = self._predicted(self.y_counterfactual)
        for i in range(n):
            cells = [(self.original[i], f"original: {predicted[i]}")]
            for j in range(k):
                mark = "" if self.valid[i, j] else " (not valid)"
                title = f"{predicted_cf[i * k + j]}{mark}"
                cells.append((self.counterfactuals[i * k + j], title))
            for ax, (image, title) in zip(axes[i], cells, strict=True):
                ax.imshow(_displayable(image), cmap="gray")
                ax.set_title(title, fontsize=8)
                ax.set_axis_off()
        fig.tight_layout()
        return axes


def _displayable(image):
    """Bring an image of shape (H, W), (1, H, W) or (C, H, W) to imshow's layout."""
    image = np.asarray(image)
    if image.ndim == 3:
        image = image[0] if image.shape[0] == 1 else np.moveaxis(image, 0, -1)
    return image
