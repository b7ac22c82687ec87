"""Border handling shared by the filter kernels: index tables built once per axis.

A kernel with halo ``r`` reads positions ``-r .. n - 1 + r`` along an axis of length ``n``.
:func:`border_index` maps each of those positions to the source index it stands for (or to
``-1`` for a constant border), so the inner loops never test for borders. The mapping is
periodic, like ``scipy.ndimage`` and OpenCV's ``borderInterpolate``, so it is defined for any
radius, also on axes shorter than the radius (a length-1 axis always maps to index 0, except
for the constant border).
"""

from __future__ import annotations

import numpy as np

from imgtool.kernels._jit import kernel

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


@kernel
def fill_row_border(buf, r, channels, colidx, cval):
    """Fill the ``r`` border pixels on each side of a padded row ``buf`` in place.

    ``buf`` holds ``(W + 2r) * channels`` values, the row itself at offset ``r * channels``;
    ``colidx`` is ``border_index(W, r, mode)``.
    """
    n = colidx.size
    for i in range(r):
        for side in range(2):
            p = i if side == 0 else n - 1 - i
            src = colidx[p]
            for c in range(channels):
                if src < 0:
                    buf[p * channels + c] = cval
                else:
                    buf[p * channels + c] = buf[(src + r) * channels + c]
