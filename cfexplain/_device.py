"""Resolve the ``device`` parameter of the explainers to a torch device string."""

from __future__ import annotations

from contextlib import nullcontext

import torch

__all__ = ["reproducible_cuda_kernels", "resolve_device"]


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(device) -> str:
    """Turn a ``device`` parameter into a concrete, available torch device.

    Parameters
    ----------
    device : str or torch.device or None
        ``"auto"`` (or ``None``) picks CUDA when available, then Apple's MPS,
        else the CPU. Any other value is parsed by :class:`torch.device`
        (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``) and must be usable on
        this machine.

    Returns
    -------
    str
        The device as a string, e.g. ``"cpu"`` or ``"cuda:0"``.

    Raises
    ------
    ValueError
        If the string is not a device torch knows, or names a device that is
        not available here (no CUDA, an index past the last GPU, no MPS).
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        if torch.cuda.is_available():
            return "cuda"
        if _mps_available():
            return "mps"
        return "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu', "
            "'cuda', 'cuda:<index>' or 'mps'"
        ) from exc
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on "
                "this machine; use device='auto' or 'cpu'"
            )
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) are visible"
            )
    elif parsed.type == "mps" and not _mps_available():
        raise ValueError(
            f"device={device!r} was requested but MPS is not available on this "
            "machine; use device='auto' or 'cpu'"
        )
    elif parsed.type not in ("cpu", "cuda", "mps"):
        raise ValueError(
            f"device={device!r} is not supported; use 'auto', 'cpu', 'cuda' or 'mps'"
        )
    return str(parsed)


def reproducible_cuda_kernels(device):
    """Return a context that runs cuDNN reproducibly while an explainer works.

    On a CUDA device cuDNN by default picks convolution algorithms that add
    partial results in a varying order (training twice with one seed gave
    weights differing in the last bits) and computes convolutions in TF32,
    10-bit mantissas, whose rounding depends on the algorithm chosen for
    each batch size (the series CVAE's counterfactuals of 3 series differed
    by up to 2e-4 from the same series' within a batch of 96). Inside the
    context cuDNN uses deterministic algorithms in full float32, so a seed
    reproduces a fit and an answer does not depend on its batch, as on the
    CPU; the previous settings come back on exit. The networks are small
    (a few layers of tens to hundreds of units), so the slower algorithms
    cost little. Elsewhere it does nothing.

    Parameters
    ----------
    device : str
        The explainer's torch device (``device_``).

    Returns
    -------
    context manager
    """
    if torch.device(device).type != "cuda":
        return nullcontext()
    return torch.backends.cudnn.flags(
        enabled=torch.backends.cudnn.enabled,
        benchmark=False,
        deterministic=True,
        allow_tf32=False,
    )
