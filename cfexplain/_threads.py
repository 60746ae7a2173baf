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

The limit is the process's: while an explainer works, numpy code in the
user's other threads also runs BLAS on one thread.
"""

from __future__ import annotations

import functools
import threading
from contextlib import contextmanager, nullcontext

from threadpoolctl import ThreadpoolController

from ._device import reproducible_cuda_kernels, resolve_device

__all__ = ["blas_on_one_thread", "single_blas_thread"]

_lock = threading.Lock()
_controller = None
# Explainer calls in progress in this process (nested, or from several
# threads, as under Dask's threaded scheduler), and the limit they share:
# the first applies it, the last restores the user's settings. Limits
# saved and restored per call would interleave across threads and could
# leave BLAS on one thread.
_active = 0
_limiter = None


@contextmanager
def _blas_limit(refresh):
    global _active, _controller, _limiter
    with _lock:
        if _active == 0:
            if _controller is None or refresh:
                # Inspecting the loaded libraries takes about 2 ms, limiting
                # through a kept controller about 20 microseconds: fit looks
                # again (a new model may have loaded another BLAS), transform
                # reuses what fit found.
                _controller = ThreadpoolController()
            _limiter = _controller.limit(limits=1, user_api="blas")
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                _limiter.restore_original_limits()
                _limiter = None


def blas_on_one_thread(device, refresh=False):
    """Return a context that runs BLAS on one thread when ``device`` is the CPU.

    Parameters
    ----------
    device : str
        The explainer's torch device (``device_``). On a GPU torch does not
        use the CPU's cores, so nothing is limited.
    refresh : bool, default=False
        Look for the loaded BLAS libraries again (``fit`` does); ignored
        while another explainer call in this process holds the limit.

    Returns
    -------
    context manager
        Nested and concurrent uses share one limit; the last to leave
        restores the user's settings.
    """
    if str(device).startswith("cpu"):
        return _blas_limit(refresh)
    return nullcontext()


def single_blas_thread(method):
    """Decorate an explainer method to run with BLAS on one thread on the CPU.

    On a CUDA device it runs with cuDNN's reproducible settings instead
    (:func:`~cfexplain._device.reproducible_cuda_kernels`).

    For the entry points that call the model after ``fit`` (transform's
    chunk loop, ``explain``, ``score``, ``ranking_score``), once each: the
    candidate engine they share runs inside. The device is the fitted
    ``device_``.
    ``fit`` limits its own body inline, so that its warnings keep their
    stack levels.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        device = getattr(self, "device_", None)
        if device is None:
            try:
                device = resolve_device(self.device)
            except ValueError:
                # Not fitted or a bad device: the method raises the clear error.
                device = "cpu"
        with blas_on_one_thread(device), reproducible_cuda_kernels(device):
            return method(self, *args, **kwargs)

    return wrapper
