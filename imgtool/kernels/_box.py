"""Box (mean) filter by running sums: the cost per pixel does not depend on the window size.

Each block of rows keeps one running column sum (a padded row): it is initialised with the
``2 * ry + 1`` rows around the block's first row, then moves down one row at a time by adding
the entering row and subtracting the leaving one. Each row's horizontal window sum is a
running sum along the padded row. Sums are exact for integer images (integer accumulator);
the halo is ``ry`` rows and ``rx`` columns.
"""

from __future__ import annotations

import numba
import numpy as np

from imgtool.kernels._border import fill_row_border
from imgtool.kernels._jit import kernel


@kernel(parallel=True)
def box_sum_mean(src, channels, ry, rx, rowidx, colidx, cval, acc_proto, nblocks, out):
    """Mean of every ``(2ry+1) x (2rx+1)`` window of ``src`` (H, W * channels) into ``out``.

    ``acc_proto``'s dtype is the accumulator: an integer type for integer images (then the
    mean is rounded half up, exactly, from the integer sum) or float64 for float images.
    ``cval`` must already be representable in ``src``'s dtype.
    """
    acc_t = acc_proto.dtype.type
    h, wc = src.shape
    off = rx * channels
    count = (2 * ry + 1) * (2 * rx + 1)
    cv = acc_t(cval)
    width = wc // channels
    is_int = acc_proto.dtype.kind == "i"
    inv2n = 1.0 / (2 * count)
    inv_n = 1.0 / count
    nblocks = max(1, min(h, nblocks))
    for b in numba.prange(nblocks):
        y0 = b * h // nblocks
        y1 = (b + 1) * h // nblocks
        col = np.zeros(wc + 2 * off, acc_proto.dtype)
        sums = np.empty(wc, acc_proto.dtype)
        mid = col[off : off + wc]  # views indexed from 0: no negative-index wraparound code
        enter = col[2 * off + channels :]
        outside = acc_t(0)
        for t in range(2 * ry + 1):
            i = rowidx[y0 + t]
            if i < 0:
                outside += cv
            else:
                s = src[i]
                for j in range(wc):
                    mid[j] += acc_t(s[j])
        if outside != 0:
            for j in range(wc):
                mid[j] += outside
        for y in range(y0, y1):
            if y > y0:
                a = rowidx[y + 2 * ry]  # entering row
                d = rowidx[y - 1]  # leaving row
                if a >= 0 and d >= 0:
                    sa = src[a]
                    sd = src[d]
                    for j in range(wc):
                        mid[j] += acc_t(sa[j]) - acc_t(sd[j])
                elif a >= 0:
                    sa = src[a]
                    for j in range(wc):
                        mid[j] += acc_t(sa[j]) - cv
                elif d >= 0:
                    sd = src[d]
                    for j in range(wc):
                        mid[j] += cv - acc_t(sd[j])
            fill_row_border(col, rx, channels, colidx, cv * (2 * ry + 1))
            # horizontal running sums, one per channel, kept in a register (a chain through
            # memory would wait on store-to-load forwarding at every pixel)
            for c in range(channels):
                s = acc_t(0)
                for t in range(2 * rx + 1):
                    s += col[t * channels + c]
                sums[c] = s
                for x in range(width - 1):
                    q = x * channels + c
                    s += enter[q] - col[q]
                    sums[q + channels] = s
            row = out[y]
            if is_int:
                # floor((2 S + N) / (2 N)) = S / N rounded half up. The quotient is never an
                # integer (odd / even) and sits >= 1 / (2N) from one, far beyond the float64
                # product's error for N < 2**20 and S < 2**52, so the reciprocal is exact here.
                for j in range(wc):
                    row[j] = (acc_t(2) * sums[j] + count) * inv2n
            else:
                for j in range(wc):
                    row[j] = sums[j] * inv_n
    return out
