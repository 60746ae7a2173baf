"""Small benchmark datasets shipped with cfexplain, loaded without network access.

Each loader follows scikit-learn's conventions: it returns a
:class:`~sklearn.utils.Bunch` with ``data``, ``target``, ``target_names`` and
``DESCR`` (plus ``frame`` and ``feature_names`` where they apply), or
``(data, target)`` with ``return_X_y=True``. Every call returns new objects.
"""

from ._colored_mnist import load_colored_mnist
from ._ecg import load_ecg5000
from ._gunpoint import load_gunpoint
from ._mnist import load_mnist_sample
from ._tabular import load_adult, load_german_credit

__all__ = [
    "load_adult",
    "load_colored_mnist",
    "load_ecg5000",
    "load_german_credit",
    "load_gunpoint",
    "load_mnist_sample",
]
