"""Flatten series or images into rows, for models fitted on flat features."""

from __future__ import annotations

import numpy as np

__all__ = ["flatten_samples"]


def flatten_samples(X):
    """Return each sample of ``X`` as one row of its values.

    A scikit-learn model fitted on flattened series or images takes them
    flattened, while the explainers pass them as they are. Put this
    function in front of the model, in a pipeline, and give the pipeline to
    the explainer: ``make_pipeline(FunctionTransformer(flatten_samples),
    RandomForestClassifier())``. Being a module-level function, it pickles
    with the pipeline and the explainer (a lambda would not).

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Series ``(n_samples, n_channels, n_timepoints)``, images
        ``(n_samples, channels, height, width)`` or rows.

    Returns
    -------
    numpy.ndarray of shape (n_samples, n_values)
        A view of ``X`` where possible; each row holds a sample's values in
        C order (channel after channel for series).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from cfexplain.preprocessing import flatten_samples
    >>> series = np.zeros((4, 2, 5))
    >>> flatten_samples(series).shape
    (4, 10)
    >>> model = make_pipeline(
    ...     FunctionTransformer(flatten_samples), RandomForestClassifier()
    ... )
    """
    X = np.asarray(X)
    return X.reshape(len(X), -1)
