"""Separable filtering with a symmetric 1-D kernel (the Gaussian), one row at a time.

Each output row is made in two passes that stay in per-thread row buffers: a vertical pass
sums the ``2 * ry + 1`` source rows (symmetric taps folded) into a padded row, then the
horizontal pass runs along that row. No full-size temporary is made. The halo is ``ry`` rows
and ``rx`` columns, given by the lengths of the border index tables.
"""

from __future__ import annotations

import numba
import numpy as np

from imgtool.kernels._border import fill_row_border
from imgtool.kernels._jit import kernel


@kernel(parallel=True)
def separable_symmetric(src, channels, wy, wx, rowidx, colidx, cval, maxval, nblocks, out):
    """Correlate ``src`` (H, W * channels) with ``wy`` down the columns and ``wx`` along rows.

    ``wy[0]`` is the centre tap and ``wy[k]`` the weight of both rows at distance ``k`` (same
    for ``wx``); their dtype is the accumulation type. ``rowidx``/``colidx`` come from
    ``border_index``. ``maxval > 0`` means an integer output: round half up and saturate to
    ``[0, maxval]``; ``maxval == 0`` stores the value as is.
    """
    acc_t = wy.dtype.type
    h = out.shape[0]  # the rows made: all of src's, or a band (rowidx starts at its first)
    wc = src.shape[1]
    ry = wy.size - 1
    rx = wx.size - 1
    cv = acc_t(cval)
    off = rx * channels
    nblocks = max(1, min(h, nblocks))
    for b in numba.prange(nblocks):
        y0 = b * h // nblocks
        y1 = (b + 1) * h // nblocks
        pad = np.empty(wc + 2 * off, wy.dtype)
        acc = np.empty(wc, wy.dtype)
        mid = pad[off : off + wc]  # views indexed from 0: no negative-index wraparound code
        for y in range(y0, y1):
            # vertical pass into the middle of the padded row; the first pass also takes the
            # nearest row pair when both rows exist
            s0 = src[rowidx[y + ry]]  # row y itself (rowidx may start at a band's first row)
            w0 = wy[0]
            kstart = 1
            a = rowidx[y + ry - 1] if ry > 0 else -1
            c = rowidx[y + ry + 1] if ry > 0 else -1
            if a >= 0 and c >= 0:
                w1 = wy[1]
                sa = src[a]
                sc = src[c]
                for j in range(wc):
                    mid[j] = w0 * acc_t(s0[j]) + w1 * (acc_t(sa[j]) + acc_t(sc[j]))
                kstart = 2
            else:
                for j in range(wc):
                    mid[j] = w0 * acc_t(s0[j])
            bias = acc_t(0)
            for k in range(kstart, ry + 1):
                a = rowidx[y + ry - k]
                c = rowidx[y + ry + k]
                wk = wy[k]
                if a >= 0 and c >= 0:
                    sa = src[a]
                    sc = src[c]
                    for j in range(wc):
                        mid[j] += wk * (acc_t(sa[j]) + acc_t(sc[j]))
                elif a >= 0 or c >= 0:
                    sa = src[max(a, c)]
                    for j in range(wc):
                        mid[j] += wk * acc_t(sa[j])
                    bias += wk * cv
                else:
                    bias += 2 * wk * cv
            if bias != 0:
                for j in range(wc):
                    mid[j] += bias
            fill_row_border(pad, rx, channels, colidx, cv)
            # horizontal pass: the first pass takes the centre and the nearest pair, the last
            # pass the farthest pair together with the rounding and the store
            w0 = wx[0]
            if rx >= 1:
                w1 = wx[1]
                left = pad[off - channels :]
                right = pad[off + channels :]
                for j in range(wc):
                    acc[j] = w0 * mid[j] + w1 * (left[j] + right[j])
            else:
                for j in range(wc):
                    acc[j] = w0 * mid[j]
            for k in range(2, rx):
                wk = wx[k]
                left = pad[off - k * channels :]
                right = pad[off + k * channels :]
                for j in range(wc):
                    acc[j] += wk * (left[j] + right[j])
            row = out[y]
            wl = wx[rx] if rx >= 2 else acc_t(0)
            left = pad[off - rx * channels :]
            right = pad[off + rx * channels :]
            if maxval > 0:
                top = acc_t(maxval)
                for j in range(wc):
                    v = np.floor(acc[j] + wl * (left[j] + right[j]) + acc_t(0.5))
                    row[j] = min(max(v, acc_t(0)), top)
            else:
                for j in range(wc):
                    row[j] = acc[j] + wl * (left[j] + right[j])
    return out
