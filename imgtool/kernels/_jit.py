"""The one decorator every Numba kernel uses, and the thread setting."""

from __future__ import annotations

from contextlib import contextmanager

import numba


def kernel(*args, parallel: bool = False, **options):
    """``numba.njit`` with the project's defaults: ``cache=True``, ``nogil=True``.

    Use as ``@kernel`` or ``@kernel(parallel=True)``. ``fastmath`` stays off so results
    match OpenCV and scipy to the last bit where they can.
    """
    opts = {"cache": True, "nogil": True, "parallel": parallel, **options}
    if args and callable(args[0]) and len(args) == 1:
        return numba.njit(**opts)(args[0])
    return numba.njit(*args, **opts)


def set_threads(n: int | None) -> int:
    """Set how many threads parallel kernels use (``None``: all cores). Returns the number set."""
    if n is None:
        n = numba.config.NUMBA_NUM_THREADS
    n = max(1, min(int(n), numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(n)
    return n


@contextmanager
def at_most_threads(n: int):
    """Parallel kernels called from this thread use at most ``n`` threads inside the block
    (Numba's thread count is per calling thread)."""
    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(n, before)))
    try:
        yield
    finally:
        numba.set_num_threads(before)
