"""Explain a Spark DataFrame: one ``mapInPandas`` call."""

from __future__ import annotations

from ._partition import prepare_request

__all__ = ["transform_spark"]


def transform_spark(
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
    """Explain every row of a Spark DataFrame with a fitted explainer, lazily.

    The rows reach the explainer's ``transform`` as pandas frames of Arrow
    batches through :meth:`pyspark.sql.DataFrame.mapInPandas`. The explainer
    is broadcast, so each executor receives it once. Strings arrive as
    strings: text columns are cast to the dtypes the explainer was fitted on
    (``feature_dtypes_in_``, categories included) before ``transform``, and
    the counterfactuals are cast back to the frame's Spark types.

    Parameters
    ----------
    explainer : CounterfactualGAN, CounterfactualCVAE or CounterfactualAE
        Fitted on a pandas DataFrame of a table, with a picklable model.
    frame : pyspark.sql.DataFrame of shape (n_rows, n_columns)
        Holds the explainer's feature columns by name and any other
        columns, which pass through unchanged.
    target, target_column, immutable, bounds, monotonic, valid_column
        As in :func:`transform_dask`.
    torch_threads : int or None, default=1
        Threads torch uses in each Python worker; Spark runs one Python
        worker per task slot, so one thread each fills the slots.
    outside_range_column : str or None, default=None
        As in :func:`transform_dask`: a boolean column flagging originals
        with a number outside the training range.

    Returns
    -------
    pyspark.sql.DataFrame of shape (n_rows, n_columns [+ 2])
        Lazy; the schema is ``frame``'s (the counterfactuals keep each
        feature's type) with ``valid_column`` and ``outside_range_column``
        appended as non-null booleans (those not ``None``, in that order).

    Raises
    ------
    ImportError
        If PySpark (with pyarrow) is not installed.
    TypeError
        If ``frame`` is not a Spark DataFrame, or both ``target`` and
        ``target_column`` are given.
    InvalidDataError, TargetError, ValueError, PredictorError
        As in :func:`transform_dask` (``NotFittedError`` too), checked before
        anything runs; errors that depend on the rows surface when Spark
        runs the plan (see :func:`transform_dask`'s notes).

    Examples
    --------
    >>> from cfexplain.parallel import transform_spark
    >>> customers = spark.read.parquet("customers/")  # doctest: +SKIP
    >>> answers = transform_spark(explainer, customers, "opposite")  # doctest: +SKIP
    >>> answers.write.parquet("counterfactuals/")  # doctest: +SKIP
    """
    try:
        from pyspark.sql import DataFrame
        from pyspark.sql.types import BooleanType, StructField, StructType
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "transform_spark needs PySpark: pip install 'cfexplain[spark]'"
        ) from error
    if not isinstance(frame, DataFrame):
        raise TypeError(
            f"frame must be a pyspark.sql.DataFrame, got {type(frame).__name__}; "
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
    fields = list(frame.schema.fields)
    for name in (valid_column, outside_range_column):
        if name is not None:
            fields.append(StructField(name, BooleanType(), nullable=False))
    shipped = _ship(frame.sparkSession, explainer)

    def explain_batches(batches):
        fitted = shipped()
        for batch in batches:
            yield transformer(batch, fitted)

    return frame.mapInPandas(explain_batches, StructType(fields))


def _ship(session, explainer):
    """Return a function giving the explainer on an executor.

    A broadcast variable sends it to each executor once; Spark Connect
    sessions have no SparkContext to broadcast with, so there the explainer
    travels inside the task's closure.
    """
    try:
        context = session.sparkContext
    except Exception:  # noqa: BLE001 - Spark Connect raises its own types
        return lambda: explainer
    broadcast = context.broadcast(explainer)
    return lambda: broadcast.value
