"""The one decorator every Numba kernel uses, and the thread setting.

Importing this module does not import Numba: the kernel modules do, when they are first
needed (:mod:`imgtool.kernels` explains when that is). A thread count set before then is kept
and handed to Numba when it loads.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager

#: The thread count asked for by :func:`set_threads` while Numba was not loaded.
_requested: int | None = None
#: Per calling thread: the limit of an :func:`at_most_threads` block entered before Numba loaded.
_local = threading.local()
_handed_over = False


def kernel(*args, parallel: bool = False, **options):
    """``numba.njit`` with the project's defaults: ``cache=True``, ``nogil=True``.

    Use as ``@kernel`` or ``@kernel(parallel=True)``. ``fastmath`` stays off so results
    match OpenCV and scipy to the last bit where they can.
    """
    import numba

    global _handed_over
    if not _handed_over:
        _hand_over(numba)
        _handed_over = True
    opts = {"cache": True, "nogil": True, "parallel": parallel, **options}
    if args and callable(args[0]) and len(args) == 1:
        return numba.njit(**opts)(args[0])
    return numba.njit(*args, **opts)


def _loaded():
    """Numba, if this process has finished importing it; else None."""
    numba = sys.modules.get("numba")
    return numba if numba is not None and hasattr(numba, "set_num_threads") else None


def max_threads() -> int:
    """The most threads a parallel kernel may use: Numba's ``NUMBA_NUM_THREADS`` (its
    default is the number of CPUs)."""
    numba = _loaded()
    if numba is not None:
        return numba.config.NUMBA_NUM_THREADS
    try:
        n = int(os.environ.get("NUMBA_NUM_THREADS", "0"))
    except ValueError:
        n = 0
    if n > 0:
        return n
    try:  # Numba's default: the CPUs this process may run on
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def set_threads(n: int | None) -> int:
    """Set how many threads parallel kernels use (``None``: all cores). Returns the number set."""
    global _requested
    n = max_threads() if n is None else max(1, min(int(n), max_threads()))
    _requested = n  # also when Numba is loaded: the first kernel hands the latest one over
    numba = _loaded()
    if numba is not None:
        numba.set_num_threads(n)
    return n


def threads() -> int:
    """How many threads parallel kernels called from this thread use now."""
    numba = _loaded()
    if numba is not None:
        return numba.get_num_threads()
    limit = getattr(_local, "limit", None)
    n = _requested if _requested is not None else max_threads()
    return n if limit is None else min(n, limit)


def _hand_over(numba):
    """When the first kernel is made: hand Numba the thread count asked for before, and the
    limit of an :func:`at_most_threads` block this thread is in."""
    top = numba.config.NUMBA_NUM_THREADS
    if _requested is not None:
        numba.set_num_threads(max(1, min(_requested, top)))
    limit = getattr(_local, "limit", None)
    if limit is not None:
        numba.set_num_threads(max(1, min(limit, numba.get_num_threads())))


@contextmanager
def at_most_threads(n: int):
    """Parallel kernels called from this thread use at most ``n`` threads inside the block
    (Numba's thread count is per calling thread)."""
    numba = _loaded()
    if numba is None:
        _local.limit = n
        try:
            yield
        finally:
            _local.limit = None
            if _loaded() is not None:  # Numba loaded inside the block: lift the limit
                _loaded().set_num_threads(
                    _requested if _requested is not None else max_threads())
        return
    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(n, before)))
    try:
        yield
    finally:
        numba.set_num_threads(before)
