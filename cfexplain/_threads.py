"""Keep the BLAS threads of the model under explanation off torch's cores.

The explainers alternate calls of the user's model with torch work: a
scikit-learn model multiplies matrices with numpy's BLAS (OpenBLAS or MKL),
whose worker threads keep spinning for a while after each call, and the
torch operations that follow then share the cores with them. On a 2-core
CPU, the CVAE's generator ran 2.3x slower right after one ``predict_proba``
of a scikit-learn ``MLPClassifier`` (23 ms instead of 10 ms for 6,513 Adult
rows). Running the model with BLAS on one thread while an explainer works on
the CPU removes the contention; the models' matrices are a batch of rows
against a few hidden units, too small for BLAS threads to pay off (the
MLP's ``predict_proba`` took the same time on one thread).
"""

from __future__ import annotations

import functools
from contextlib import nullcontext

from threadpoolctl import ThreadpoolController

from ._device import resolve_device

__all__ = ["blas_on_one_thread", "single_blas_thread"]

_controller = None


def _blas_limit():
    """Return the context that limits every loaded BLAS library to one thread."""
    global _controller
    if _controller is None:
        # Inspecting the loaded libraries takes about 2 ms; limiting through a
        # kept controller about 20 microseconds. The first call comes from
        # fit or transform, once the model's libraries are loaded.
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def blas_on_one_thread(device):
    """Return a context that runs BLAS on one thread when ``device`` is the CPU.

    Parameters
    ----------
    device : str
        The explainer's torch device (``device_``). On a GPU torch does not
        use the CPU's cores, so nothing is limited.

    Returns
    -------
    context manager
    """
    if str(device).startswith("cpu"):
        return _blas_limit()
    return nullcontext()


def single_blas_thread(method):
    """Decorate an explainer method to run with BLAS on one thread on the CPU.

    The device is the fitted ``device_``, else the ``device`` parameter
    resolved (in ``fit``, before ``device_`` exists).
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        device = getattr(self, "device_", None)
        if device is None:
            try:
                device = resolve_device(self.device)
            except ValueError:
                # fit validates the parameter and raises the clear error.
                device = "cpu"
        with blas_on_one_thread(device):
            return method(self, *args, **kwargs)

    return wrapper
