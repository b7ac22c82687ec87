"""3x3 derivative stencils (Laplacian, Sobel, fused gradient magnitude), one row at a time.

Each block of rows keeps a ring of three padded rows (the row above, the row, the row below)
in the output's float type; every source row is converted and padded once per block. The
stencils then read only these rows, so no inner loop tests for borders. Halo: 1 pixel.
"""

from __future__ import annotations

import numba
import numpy as np

from imgtool.kernels._border import fill_row_border
from imgtool.kernels._jit import kernel
from imgtool.kernels._tables import (  # noqa: F401 (the op codes belong to stencil3x3)
    LAPLACIAN4,
    LAPLACIAN8,
    MAGNITUDE_L1,
    MAGNITUDE_L2,
    SOBEL,
)


@kernel
def _load_row(ring, slot, src, i, channels, colidx, cval):
    buf = ring[slot]
    if i < 0:
        for j in range(buf.size):
            buf[j] = cval
        return
    s = src[i]
    acc_t = ring.dtype.type
    inner = buf[channels : channels + s.size]  # indexed from 0: no wraparound code
    for j in range(s.size):
        inner[j] = acc_t(s[j])
    fill_row_border(buf, 1, channels, colidx, cval)


@kernel(parallel=True)
def stencil3x3(src, channels, op, rowidx, colidx, cval, nblocks, out, out2):
    """Apply stencil ``op`` to ``src`` (H, W * channels); results in ``out`` (and ``out2``).

    ``op``: ``LAPLACIAN4`` ([0 1 0; 1 -4 1; 0 1 0]), ``LAPLACIAN8`` ([1 1 1; 1 -8 1; 1 1 1]),
    ``SOBEL`` (``out`` = d/dx, ``out2`` = d/dy, unnormalised), ``MAGNITUDE_L2`` /
    ``MAGNITUDE_L1`` (the Sobel gradient's norm, without storing the two derivatives).
    ``out``'s dtype is the arithmetic type; ``rowidx``/``colidx`` come from ``border_index``
    with radius 1.
    """
    acc_t = out.dtype.type
    h = out.shape[0]  # the rows made: all of src's, or a band (rowidx starts at its first)
    wc = src.shape[1]
    cv = acc_t(cval)
    two = acc_t(2)  # typed constants keep float32 arithmetic in float32
    four = acc_t(4)
    eight = acc_t(8)
    c = channels
    c2 = 2 * channels
    nblocks = max(1, min(h, nblocks))
    for b in numba.prange(nblocks):
        y0 = b * h // nblocks
        y1 = (b + 1) * h // nblocks
        ring = np.empty((3, wc + c2), out.dtype)
        _load_row(ring, (y0 + 2) % 3, src, rowidx[y0], channels, colidx, cv)
        _load_row(ring, y0 % 3, src, rowidx[y0 + 1], channels, colidx, cv)
        for y in range(y0, y1):
            _load_row(ring, (y + 1) % 3, src, rowidx[y + 2], channels, colidx, cv)
            up = ring[(y + 2) % 3]
            mid = ring[y % 3]
            dn = ring[(y + 1) % 3]
            # shifted views indexed from 0: no negative-index wraparound code in the loops
            u0, u1, u2 = up[:wc], up[c : c + wc], up[c2 : c2 + wc]
            m0, m1, m2 = mid[:wc], mid[c : c + wc], mid[c2 : c2 + wc]
            d0, d1, d2 = dn[:wc], dn[c : c + wc], dn[c2 : c2 + wc]
            o = out[y]
            if op == LAPLACIAN4:
                for j in range(wc):
                    o[j] = (u1[j] + d1[j]) + (m0[j] + m2[j]) - four * m1[j]
            elif op == LAPLACIAN8:
                for j in range(wc):
                    o[j] = (
                        (u0[j] + u1[j] + u2[j])
                        + (m0[j] + m2[j])
                        + (d0[j] + d1[j] + d2[j])
                        - eight * m1[j]
                    )
            elif op == SOBEL:
                o2 = out2[y]
                for j in range(wc):
                    o[j] = (u2[j] - u0[j]) + two * (m2[j] - m0[j]) + (d2[j] - d0[j])
                    o2[j] = (d0[j] + two * d1[j] + d2[j]) - (u0[j] + two * u1[j] + u2[j])
            elif op == MAGNITUDE_L2:
                for j in range(wc):
                    gx = (u2[j] - u0[j]) + two * (m2[j] - m0[j]) + (d2[j] - d0[j])
                    gy = (d0[j] + two * d1[j] + d2[j]) - (u0[j] + two * u1[j] + u2[j])
                    o[j] = np.sqrt(gx * gx + gy * gy)
            else:
                for j in range(wc):
                    gx = (u2[j] - u0[j]) + two * (m2[j] - m0[j]) + (d2[j] - d0[j])
                    gy = (d0[j] + two * d1[j] + d2[j]) - (u0[j] + two * u1[j] + u2[j])
                    o[j] = abs(gx) + abs(gy)
    return out
