"""Plain-NumPy tables and constants that the public wrappers share with the kernels.

Nothing here imports Numba, so a wrapper can build its arguments before it knows whether the
call goes to a kernel compiled ahead of time (:mod:`imgtool.kernels._ahead`) or to Numba's JIT.

Border index tables: a kernel with halo ``r`` reads positions ``-r .. n - 1 + r`` along an
axis of length ``n``. :func:`border_index` maps each of those positions to the source index it
stands for (or to ``-1`` for a constant border), so the inner loops never test for borders.
The mapping is periodic, like ``scipy.ndimage`` and OpenCV's ``borderInterpolate``, so it is
defined for any radius, also on axes shorter than the radius (a length-1 axis always maps to
index 0, except for the constant border).
"""

from __future__ import annotations

import numpy as np

#: Border names, in the order of their integer codes.
MODES = ("reflect101", "reflect", "replicate", "constant", "wrap")
REFLECT101, REFLECT, REPLICATE, CONSTANT, WRAP = range(5)


def border_index(n: int, r: int, mode: int) -> np.ndarray:
    """Source index of every position ``-r .. n - 1 + r`` of an axis of length ``n``.

    Entry ``i`` holds the index for position ``i - r``; ``-1`` means "the constant value".

    - reflect101 (``dcb|abcd|cba``, OpenCV BORDER_REFLECT_101, scipy "mirror"), period 2n - 2
    - reflect (``cba|abcd|dcb``, OpenCV BORDER_REFLECT, scipy "reflect"), period 2n
    - replicate (``aaa|abcd|ddd``, OpenCV BORDER_REPLICATE, scipy "nearest")
    - constant (``-1`` outside the axis, OpenCV BORDER_CONSTANT, scipy "constant")
    - wrap (``bcd|abcd|abc``, OpenCV BORDER_WRAP, scipy "wrap"), period n
    """
    p = np.arange(-r, n + r, dtype=np.int64)
    if mode == REFLECT101:
        if n == 1:
            return np.zeros_like(p)
        period = 2 * n - 2
        q = p % period
        return np.where(q >= n, period - q, q)
    if mode == REFLECT:
        q = p % (2 * n)
        return np.where(q >= n, 2 * n - 1 - q, q)
    if mode == REPLICATE:
        return np.clip(p, 0, n - 1)
    if mode == CONSTANT:
        return np.where((p >= 0) & (p < n), p, -1)
    if mode == WRAP:
        return p % n
    raise ValueError(f"unknown border code {mode}")


#: The operations of :func:`imgtool.kernels._derivatives.stencil3x3`.
LAPLACIAN4, LAPLACIAN8, SOBEL, MAGNITUDE_L2, MAGNITUDE_L1 = range(5)

#: Box filter: windows up to this width are summed directly along the row (vectorised); wider
#: ones by a running sum (serial, but independent of the width).
DIRECT_MAX = 9

#: Box filter, rows-first path (uint8): the widest window whose sums of one row stay below
#: 2**16.
ROWS_FIRST_MAX = 257


#: The cube-root table of :func:`lab_tables` covers ``0 .. LAB_TABLE_TOP`` in steps of
#: ``1 / LAB_TABLE_STEPS`` (X/Xn, Y/Yn and Z/Zn of an sRGB colour lie in 0 .. 1).
LAB_TABLE_STEPS = 4096
LAB_TABLE_TOP = 1.0
_lab = None


def lab_tables() -> tuple[np.ndarray, np.ndarray]:
    """The tables of :func:`imgtool.kernels._lab.lab_ab_u8`: the linear-light value of each
    8-bit sRGB level (256 entries), and CIELAB's ``f(t)`` at ``t = i / LAB_TABLE_STEPS``
    (with one extra entry so that interpolation at the top needs no test)."""
    global _lab
    if _lab is None:
        c = np.arange(256) / 255.0
        linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        t = np.arange(int(LAB_TABLE_TOP * LAB_TABLE_STEPS) + 2) / LAB_TABLE_STEPS
        eps = (6 / 29) ** 3
        f = np.where(t > eps, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
        _lab = (np.ascontiguousarray(linear), np.ascontiguousarray(f))
    return _lab
