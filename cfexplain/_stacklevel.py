"""Point a warning at the user's line, however deep in the library it starts."""

from __future__ import annotations

import sys

#: Packages whose frames a warning skips: ours, scikit-learn's wrappers
#: (``set_output``, ``Pipeline``, scorers) between the user and an
#: explainer, and the runners that call them for the user (joblib under
#: ``cross_validate``, Dask, ``concurrent.futures``) in the user's thread.
#: A worker thread's or process's stack (``n_jobs`` > 1) starts in the
#: runner, without the user's line: there the warning names its first
#: frame outside these packages (``threading``'s, ``multiprocessing``'s).
_LIBRARY_PACKAGES = (
    "cfexplain",
    "sklearn",
    "joblib",
    "dask",
    "distributed",
    "concurrent",
)


def user_stacklevel() -> int:
    """Return the ``stacklevel`` that names the first caller outside the library.

    Called by the function about to warn. A fixed ``stacklevel`` is right
    for one path only: the same warning can come from ``transform``,
    ``explain``, a chunked or a Dask transform, or a ``Pipeline`` or scorer
    around them (run by joblib under ``cross_validate``), each a different
    number of frames from the user's code. In a worker thread or process,
    whose stack does not hold the user's code, it names the worker's first
    frame outside the library and its runners.

    Returns
    -------
    int
        1 names the line that warns, 2 its caller, and so on; the outermost
        frame when every frame is the library's.
    """
    frame = sys._getframe(1)  # the function that warns
    level = 1
    while frame.f_back is not None:
        name = frame.f_globals.get("__name__", "")
        if name.partition(".")[0] not in _LIBRARY_PACKAGES:
            return level
        frame = frame.f_back
        level += 1
    return level
