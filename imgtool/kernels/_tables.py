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

#: Box filter, uint8 windows no wider than ``DIRECT_MAX``: the most pixels a window may have
#: for its sum plus the rounding offset, ``255 n + n // 2``, to stay below 2**16 (uint16
#: lanes throughout, :func:`imgtool.kernels._box.box_small_u8`).
SMALL_U8_MAX = 256
_divisions: dict[int, tuple[int, int] | None] = {}


def u16_division(n: int) -> tuple[int, int] | None:
    """``(m, s)`` with ``m < 2**16``, ``1 <= s <= 15`` and ``(x * m) >> (16 + s) == x // n``
    for every ``0 <= x <= 255 n + n // 2``; None when no such pair exists (or ``n`` is too
    large).

    ``(S + n // 2) // n`` is the mean of ``n`` uint8 values summing to ``S``, rounded half up
    (``n`` is odd: no ties). A multiply by ``m`` keeping the high 16 bits is one instruction
    on 16-bit vector lanes, where a division is none; ``m`` is ``2**(16 + s) / n`` rounded up,
    with the smallest shift ``s >= 1`` that is exact on that whole range, checked here value
    by value (at most 2**16 of them) rather than trusted to a bound. (``s >= 1``: the kernel
    shifts by a multiply-high by ``2**(16 - s)``, which must fit 16 bits too.)
    """
    if n in _divisions:
        return _divisions[n]
    found = None
    top = 255 * n + n // 2
    if 1 < n <= SMALL_U8_MAX and top < 1 << 16:
        x = np.arange(top + 1, dtype=np.int64)
        for s in range(1, 16):
            m = -(-(1 << (16 + s)) // n)
            if m >= 1 << 16:
                break
            if np.array_equal((x * m) >> (16 + s), x // n):
                found = (m, s)
                break
    _divisions[n] = found
    return found


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
