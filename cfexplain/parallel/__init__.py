"""Explain tables too large for one process, on Dask or Spark.

Fit an explainer on a sample with pandas, then hand it and a distributed
frame to :func:`transform_dask` or :func:`transform_spark`: each partition is
explained on a worker, which receives the explainer once. Dask and PySpark
are optional (``pip install 'cfexplain[dask]'`` or ``'cfexplain[spark]'``);
neither is imported until one of these functions is called.
"""

from ._dask import transform_dask
from ._spark import transform_spark

__all__ = ["transform_dask", "transform_spark"]
