"""Separable filtering with a symmetric 1-D kernel (the Gaussian), one row at a time.

Each output row is made in two passes that stay in per-thread row buffers: a vertical pass
sums the ``2 * ry + 1`` source rows (symmetric taps folded) into a padded row, then the
horizontal pass runs along that row. No full-size temporary is made. The halo is ``ry`` rows
and ``rx`` columns, given by the lengths of the border index tables.

Both passes take up to three tap pairs per sweep along the row (the first sweep the centre
too, the last one the rounding and the store), so a row buffer is loaded and stored once per
three pairs, not once per pair. The floating-point operations run in the same order as with
one sweep per pair, so the grouping does not change a bit of the result. The two source rows
of a pair are added before they are converted: integers as int32 (exact; one conversion to
the accumulation type instead of two, and the same float as two conversions and a float add,
which is exact for sums below 2**24), floats in the accumulation type as before.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import overload

from imgtool.kernels._border import fill_row_border
from imgtool.kernels._jit import kernel


def _pair(sa, sc, j, w):
    """``sa[j] + sc[j]`` in ``w``'s dtype (the accumulation type); see :func:`_pair_impl`."""
    raise NotImplementedError("only called from Numba kernels")


@overload(_pair, inline="always")
def _pair_impl(sa, sc, j, w):
    if isinstance(sa.dtype, types.Integer):  # uint8, uint16: an exact int32 sum, one conversion

        def pair_int(sa, sc, j, w):
            return w.dtype.type(np.int32(np.int32(sa[j]) + np.int32(sc[j])))

        return pair_int

    def pair_float(sa, sc, j, w):
        acc_t = w.dtype.type
        return acc_t(sa[j]) + acc_t(sc[j])

    return pair_float


@kernel
def _inside(rowidx, y, ry, k):
    """True if both source rows of tap pair ``k`` of output row ``y`` are inside the image."""
    return rowidx[y + ry - k] >= 0 and rowidx[y + ry + k] >= 0


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
            _vertical(src, wy, rowidx, y, ry, cv, mid)
            fill_row_border(pad, rx, channels, colidx, cv)
            _horizontal(pad, wx, rx, channels, off, maxval, acc, out[y])
    return out


@kernel
def _vertical(src, wy, rowidx, y, ry, cv, mid):
    """``mid`` = the column sums of output row ``y``: ``sum_k wy[k] * (row above + row
    below at distance k)``, the centre first, then the pairs by increasing ``k``."""
    acc_t = wy.dtype.type
    wc = mid.size
    s0 = src[rowidx[y + ry]]  # row y itself (rowidx may start at a band's first row)
    w0 = wy[0]
    k = 1  # the next pair to add
    if ry >= 2 and _inside(rowidx, y, ry, 1) and _inside(rowidx, y, ry, 2):
        w1, w2 = wy[1], wy[2]
        a1, c1 = src[rowidx[y + ry - 1]], src[rowidx[y + ry + 1]]
        a2, c2 = src[rowidx[y + ry - 2]], src[rowidx[y + ry + 2]]
        for j in range(wc):
            mid[j] = (w0 * acc_t(s0[j]) + w1 * _pair(a1, c1, j, wy)) + w2 * _pair(a2, c2, j, wy)
        k = 3
    elif ry >= 1 and _inside(rowidx, y, ry, 1):
        w1 = wy[1]
        a1, c1 = src[rowidx[y + ry - 1]], src[rowidx[y + ry + 1]]
        for j in range(wc):
            mid[j] = w0 * acc_t(s0[j]) + w1 * _pair(a1, c1, j, wy)
        k = 2
    else:
        for j in range(wc):
            mid[j] = w0 * acc_t(s0[j])
    bias = acc_t(0)
    while k <= ry:
        if k + 2 <= ry and _inside(rowidx, y, ry, k) and _inside(rowidx, y, ry, k + 1) \
                and _inside(rowidx, y, ry, k + 2):
            wa, wb, wd = wy[k], wy[k + 1], wy[k + 2]
            a1, c1 = src[rowidx[y + ry - k]], src[rowidx[y + ry + k]]
            a2, c2 = src[rowidx[y + ry - k - 1]], src[rowidx[y + ry + k + 1]]
            a3, c3 = src[rowidx[y + ry - k - 2]], src[rowidx[y + ry + k + 2]]
            for j in range(wc):
                mid[j] = ((mid[j] + wa * _pair(a1, c1, j, wy)) + wb * _pair(a2, c2, j, wy)) \
                    + wd * _pair(a3, c3, j, wy)
            k += 3
            continue
        if k + 1 <= ry and _inside(rowidx, y, ry, k) and _inside(rowidx, y, ry, k + 1):
            wa, wb = wy[k], wy[k + 1]
            a1, c1 = src[rowidx[y + ry - k]], src[rowidx[y + ry + k]]
            a2, c2 = src[rowidx[y + ry - k - 1]], src[rowidx[y + ry + k + 1]]
            for j in range(wc):
                mid[j] = (mid[j] + wa * _pair(a1, c1, j, wy)) + wb * _pair(a2, c2, j, wy)
            k += 2
            continue
        a = rowidx[y + ry - k]
        c = rowidx[y + ry + k]
        wk = wy[k]
        if a >= 0 and c >= 0:
            sa = src[a]
            sc = src[c]
            for j in range(wc):
                mid[j] += wk * _pair(sa, sc, j, wy)
        elif a >= 0 or c >= 0:  # one row beyond a constant border: its value goes to bias
            sa = src[max(a, c)]
            for j in range(wc):
                mid[j] += wk * acc_t(sa[j])
            bias += wk * cv
        else:
            bias += 2 * wk * cv
        k += 1
    if bias != 0:
        for j in range(wc):
            mid[j] += bias


@kernel
def _horizontal(pad, wx, rx, channels, off, maxval, acc, row):
    """``row`` = the padded column sums ``pad`` correlated with ``wx`` along the row: the
    centre and pairs ``k < rx`` into ``acc`` (up to three per sweep), then the last sweep adds
    up to three more pairs ending with ``rx`` and rounds (``maxval > 0``) into ``row``."""
    acc_t = wx.dtype.type
    wc = acc.size
    c = channels
    mid = pad[off:]
    w0 = wx[0]
    # the last sweep takes pairs last0 .. rx (at most three, at least one when rx >= 1)
    last0 = max(1, rx - 2)
    k = 1
    if last0 >= 3:  # the centre with pairs 1 and 2
        w1, w2 = wx[1], wx[2]
        l1, r1 = pad[off - c :], pad[off + c :]
        l2, r2 = pad[off - 2 * c :], pad[off + 2 * c :]
        for j in range(wc):
            acc[j] = (w0 * mid[j] + w1 * (l1[j] + r1[j])) + w2 * (l2[j] + r2[j])
        k = 3
    elif last0 == 2:
        w1 = wx[1]
        l1, r1 = pad[off - c :], pad[off + c :]
        for j in range(wc):
            acc[j] = w0 * mid[j] + w1 * (l1[j] + r1[j])
        k = 2
    else:
        for j in range(wc):
            acc[j] = w0 * mid[j]
    while k < last0:
        n = min(3, last0 - k)
        wa = wx[k]
        l1, r1 = pad[off - k * c :], pad[off + k * c :]
        if n == 3:
            wb, wd = wx[k + 1], wx[k + 2]
            l2, r2 = pad[off - (k + 1) * c :], pad[off + (k + 1) * c :]
            l3, r3 = pad[off - (k + 2) * c :], pad[off + (k + 2) * c :]
            for j in range(wc):
                acc[j] = ((acc[j] + wa * (l1[j] + r1[j])) + wb * (l2[j] + r2[j])) \
                    + wd * (l3[j] + r3[j])
        elif n == 2:
            wb = wx[k + 1]
            l2, r2 = pad[off - (k + 1) * c :], pad[off + (k + 1) * c :]
            for j in range(wc):
                acc[j] = (acc[j] + wa * (l1[j] + r1[j])) + wb * (l2[j] + r2[j])
        else:
            for j in range(wc):
                acc[j] += wa * (l1[j] + r1[j])
        k += n
    if rx == 0:
        _store(acc, acc, acc, acc, acc, acc, acc, acc_t(0), acc_t(0), acc_t(0), 0, maxval, row)
        return
    n = rx - last0 + 1
    la, ra = pad[off - last0 * c :], pad[off + last0 * c :]
    wa = wx[last0]
    if n == 1:
        _store(acc, la, ra, la, ra, la, ra, wa, acc_t(0), acc_t(0), 1, maxval, row)
        return
    lb, rb = pad[off - (last0 + 1) * c :], pad[off + (last0 + 1) * c :]
    wb = wx[last0 + 1]
    if n == 2:
        _store(acc, la, ra, lb, rb, lb, rb, wa, wb, acc_t(0), 2, maxval, row)
        return
    ld, rd = pad[off - (last0 + 2) * c :], pad[off + (last0 + 2) * c :]
    _store(acc, la, ra, lb, rb, ld, rd, wa, wb, wx[last0 + 2], 3, maxval, row)


@kernel(inline="always")
def _store(acc, la, ra, lb, rb, ld, rd, wa, wb, wd, n, maxval, row):
    """``row[j]`` = ``acc[j]`` plus the ``n`` last pairs (``wa * (la + ra)``, then ``wb``,
    ``wd``), rounded half up and saturated to ``[0, maxval]`` if ``maxval > 0``."""
    acc_t = acc.dtype.type
    half = acc_t(0.5)
    zero = acc_t(0)
    top = acc_t(maxval)
    wc = row.size
    if n == 0:
        if maxval > 0:
            for j in range(wc):
                row[j] = min(max(np.floor(acc[j] + half), zero), top)
        else:
            for j in range(wc):
                row[j] = acc[j]
    elif n == 1:
        if maxval > 0:
            for j in range(wc):
                v = np.floor(acc[j] + wa * (la[j] + ra[j]) + half)
                row[j] = min(max(v, zero), top)
        else:
            for j in range(wc):
                row[j] = acc[j] + wa * (la[j] + ra[j])
    elif n == 2:
        if maxval > 0:
            for j in range(wc):
                v = np.floor((acc[j] + wa * (la[j] + ra[j])) + wb * (lb[j] + rb[j]) + half)
                row[j] = min(max(v, zero), top)
        else:
            for j in range(wc):
                row[j] = (acc[j] + wa * (la[j] + ra[j])) + wb * (lb[j] + rb[j])
    elif maxval > 0:
        for j in range(wc):
            v = np.floor(((acc[j] + wa * (la[j] + ra[j])) + wb * (lb[j] + rb[j]))
                         + wd * (ld[j] + rd[j]) + half)
            row[j] = min(max(v, zero), top)
    else:
        for j in range(wc):
            row[j] = ((acc[j] + wa * (la[j] + ra[j])) + wb * (lb[j] + rb[j])) \
                + wd * (ld[j] + rd[j])
