"""A fast median of float data: the statistic the boundary rules (:mod:`~imgtool.scan.block`)
and corner refinement (:mod:`~imgtool.scan.refine`) take of their profiles."""

from __future__ import annotations

import numpy as np


def median(values: np.ndarray, axis: int | None = None) -> np.ndarray:
    """``np.median`` of float data without NaN, the same values: without its first call's
    import of ``numpy.ma`` (about 8 ms of a one-photo command's start). Other data go to
    ``np.median``.

    >>> a = np.array([[3.0, 1.0, 2.0, 10.0], [5.0, 4.0, 6.0, 0.5]])
    >>> bool((median(a, axis=1) == np.median(a, axis=1)).all()), float(median(a[0]))
    (True, 2.5)
    """
    a = np.asarray(values)
    if a.dtype.kind != "f" or a.size == 0:
        return np.median(a, axis=axis)
    if axis is None:
        a, axis = a.ravel(), 0
    n = a.shape[axis]
    half = n // 2
    part = np.partition(a, half if n % 2 else (half - 1, half), axis=axis)
    hi = np.take(part, half, axis=axis)
    if n % 2:
        return hi
    return (np.take(part, half - 1, axis=axis) + hi) / 2
