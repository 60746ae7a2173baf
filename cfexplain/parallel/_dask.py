"""Explain a Dask DataFrame: one lazy ``map_partitions`` call."""

from __future__ import annotations

import numpy as np

from ._partition import prepare_request

__all__ = ["transform_dask"]

#: The oldest Dask release whose ``map_partitions`` computes a delayed
#: argument before handing it to the partition function (2025.4.1 passes
#: the ``Delayed`` itself); pyproject's ``dask`` extra asks for it.
MIN_DASK = (2025, 5)


def _release(version):
    """``(year, month)`` of a Dask version string such as ``"2025.5.1"``."""
    parts = version.split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):  # a development build: assume it is new
        return (9999, 0)


def transform_dask(
    explainer,
    frame,
    target=None,
    *,
    target_column=None,
    immutable=None,
    bounds=None,
    monotonic=None,
    valid_column="valid",
    torch_threads=1,
    outside_range_column=None,
):
    """Explain every row of a Dask DataFrame with a fitted explainer, lazily.

    Each partition goes through the explainer's ``transform`` on a worker
    (itself chunked by ``chunk_size``, so a worker's memory does not grow
    with its partition). The explainer enters the graph once, as one
    :func:`dask.delayed` key: each worker receives it once, not once per
    partition. Fit on a sample with pandas first; only ``transform`` is
    distributed, because generating a counterfactual is one forward pass.

    Parameters
    ----------
    explainer : CounterfactualGAN, CounterfactualCVAE or CounterfactualAE
        Fitted on a pandas DataFrame of a table. Its model (for instance a
        scikit-learn pipeline's ``predict_proba``) is pickled with it, so it
        must be picklable.
    frame : dask.dataframe.DataFrame of shape (n_rows, n_columns)
        Holds the explainer's feature columns by name, in any order, and
        any other columns (ids, targets), which pass through unchanged.
    target : optional
        One target for every row, as in ``transform`` (``"opposite"``, a
        class label, probabilities, a regression value or interval).
    target_column : str or list of str, optional
        The column holding each row's target instead: a class label or a
        regression value. A list of names gives each row's class
        probabilities (in ``classes_`` order) or, for regression, its
        ``(low, high)`` interval.
    immutable, bounds, monotonic : optional
        Constraints for this call, as in ``transform``.
    valid_column : str or None, default="valid"
        Name of the boolean column appended with the model's verdict on each
        counterfactual. Warnings raised on workers never reach the caller, so
        this column is how rows that missed their target are reported;
        ``None`` leaves it out (workers then warn in their logs).
    torch_threads : int or None, default=1
        Threads torch uses in each worker process: one per Dask worker
        thread suits the usual one-thread-per-core worker. ``None`` leaves
        torch's setting alone.
    outside_range_column : str or None, default=None
        Name of a boolean column to append, ``True`` where the original
        holds a number outside the range of the training rows: its
        counterfactual is an extrapolation, which ``transform`` reports with
        an :class:`~cfexplain.OutsideTrainingRangeWarning` that workers
        cannot pass on. ``None`` leaves it out.

    Returns
    -------
    dask.dataframe.DataFrame of shape (n_rows, n_columns [+ 2])
        Lazy; the same partitions, index, columns and dtypes as ``frame``,
        with the features replaced by their counterfactuals and
        ``valid_column`` and ``outside_range_column`` appended (those not
        ``None``, in that order).

    Raises
    ------
    ImportError
        If Dask's DataFrame extra is not installed, or is older than
        2025.5 (whose ``map_partitions`` hands the partition function a
        :func:`dask.delayed` argument uncomputed).
    sklearn.exceptions.NotFittedError
        If the explainer is not fitted.
    TypeError
        If ``frame`` is not a Dask DataFrame, or both ``target`` and
        ``target_column`` are given.
    InvalidDataError
        If the explainer was not fitted on a DataFrame of a table, a feature
        or target column is missing, ``valid_column`` or
        ``outside_range_column`` already exists (or both name one column),
        or ``target`` holds one target per row (use ``target_column``).
    TargetError
        If ``target`` is not one the model can reach (an unknown class,
        ``"opposite"`` for a regression model).
    ValueError
        If a constraint names an unknown feature.
    PredictorError
        If the explainer cannot be pickled for the workers (a lambda as the
        model).

    Notes
    -----
    Everything that holds for every row is checked here, before anything
    runs. What depends on the rows themselves (a missing value, an unseen
    category, a per-row label the model does not have) can only be found on
    the worker: the engine raises it at compute time, with cfexplain's
    message at the end of its own. An explainer with
    ``handle_unknown="warn"`` returns a row holding an unseen category
    unchanged instead, with ``False`` in the valid column.

    Examples
    --------
    >>> import dask.dataframe as dd  # doctest: +SKIP
    >>> from cfexplain.parallel import transform_dask
    >>> big = dd.read_parquet("customers/")  # doctest: +SKIP
    >>> answers = transform_dask(explainer, big, target="opposite")  # doctest: +SKIP
    >>> answers.to_parquet("counterfactuals/")  # doctest: +SKIP
    """
    try:
        import dask
        import dask.dataframe as dd
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "transform_dask needs Dask's DataFrame extra: pip install 'cfexplain[dask]'"
        ) from error
    if _release(dask.__version__) < MIN_DASK:
        raise ImportError(
            f"transform_dask needs Dask {'.'.join(map(str, MIN_DASK))} or later "
            f"(this is {dask.__version__}, whose map_partitions hands each "
            "partition the Delayed explainer, not the explainer): "
            "pip install 'cfexplain[dask]' --upgrade"
        )
    if not isinstance(frame, dd.DataFrame):
        raise TypeError(
            f"frame must be a dask.dataframe.DataFrame, got {type(frame).__name__}; "
            "for a pandas DataFrame call explainer.transform directly"
        )
    transformer = prepare_request(
        explainer,
        list(frame.columns),
        target,
        target_column,
        (immutable, bounds, monotonic),
        valid_column,
        torch_threads,
        outside_range_column,
    )
    meta = frame._meta.copy()
    for name in (valid_column, outside_range_column):
        if name is not None:
            meta[name] = np.zeros(0, dtype=bool)
    # One graph key for the explainer (named by its __dask_tokenize__), so
    # the scheduler ships it to each worker once.
    shipped = dask.delayed(explainer, pure=True)
    return frame.map_partitions(
        transformer, shipped, meta=meta, token="counterfactuals"
    )
