"""Box (mean) filter by running sums: the cost per pixel does not grow with the window.

:func:`box_sum_mean` (columns first): each block of rows keeps one running column sum (a
padded row): it is initialised with the ``2 * ry + 1`` rows around the block's first row,
then moves down one row at a time by adding the entering row and subtracting the leaving one.
Along the row, windows up to ``DIRECT_MAX`` (in :mod:`imgtool.kernels._tables`) wide are
summed directly (vectorised; the 3-wide one fused with the rounding), wider ones by running
sums (serial).

:func:`box_small_u8` (uint8, windows up to ``DIRECT_MAX`` wide and ``SMALL_U8_MAX`` pixels):
the same order, in uint16 lanes, the mean rounded by an exact 16-bit multiply-high.

:func:`box_rows_first_u8` (uint8, windows wider than ``DIRECT_MAX``): each source row's
window sums come from its prefix sums, computed by a vectorised recurrence; a running sum
down the columns of those row sums gives the box sums, rounded in the same pass.

Sums are exact for integer images (integer accumulator); the halo is ``ry`` rows and ``rx``
columns.
"""

from __future__ import annotations

import numba
import numpy as np

from imgtool.kernels._border import fill_row_border
from imgtool.kernels._jit import kernel
from imgtool.kernels._tables import DIRECT_MAX


@kernel
def _running_sums(col, enter, sums, dif, channels, width, win):
    """Window sums along a padded row by running sums kept in registers.

    A chain through memory would wait on store-to-load forwarding at every pixel, and one
    register chain waits on the adder's latency, so the row is cut into four segments whose
    chains run interleaved. ``enter`` is ``col`` shifted by ``win`` pixels; ``dif`` is a
    scratch row. Every array is indexed through a per-channel view from 0, so no
    negative-index code is generated.
    """
    acc_t = sums.dtype.type
    seg = width // 4
    nseg = 4 if seg >= 2 * win else 1
    if nseg == 1:
        seg = width
    step = seg * channels
    for c in range(channels):
        for k in range(nseg):
            base = k * step + c
            cv = col[base::channels]
            s = cv[0] - cv[0]
            for t in range(win):
                s += cv[t]
            sums[base] = s
        if nseg == 1:
            e0 = enter[c::channels]
            c0 = col[c::channels]
            o0 = sums[c + channels :: channels]
            s0 = sums[c]
            for x in range(width - 1):
                s0 += e0[x] - c0[x]
                o0[x] = s0
            continue
        if channels == 1:
            # the common grey case: contiguous views, and the entering-minus-leaving
            # differences made first in one vectorised loop
            for x in range(width - 1):
                dif[x] = acc_t(enter[x] - col[x])
            d0 = dif[:]
            d1 = dif[seg:]
            d2 = dif[2 * seg :]
            d3 = dif[3 * seg :]
            o0 = sums[1:]
            o1 = sums[1 + seg :]
            o2 = sums[1 + 2 * seg :]
            o3 = sums[1 + 3 * seg :]
            s0 = sums[0]
            s1 = sums[seg]
            s2 = sums[2 * seg]
            s3 = sums[3 * seg]
            for x in range(seg - 1):
                s0 += d0[x]
                s1 += d1[x]
                s2 += d2[x]
                s3 += d3[x]
                o0[x] = s0
                o1[x] = s1
                o2[x] = s2
                o3[x] = s3
            for x in range(seg - 1, width - 3 * seg - 1):
                s3 += d3[x]
                o3[x] = s3
            return
        e0 = enter[c::channels]
        e1 = enter[c + step :: channels]
        e2 = enter[c + 2 * step :: channels]
        e3 = enter[c + 3 * step :: channels]
        c0 = col[c::channels]
        c1 = col[c + step :: channels]
        c2 = col[c + 2 * step :: channels]
        c3 = col[c + 3 * step :: channels]
        o0 = sums[c + channels :: channels]
        o1 = sums[c + channels + step :: channels]
        o2 = sums[c + channels + 2 * step :: channels]
        o3 = sums[c + channels + 3 * step :: channels]
        s0 = sums[c]
        s1 = sums[c + step]
        s2 = sums[c + 2 * step]
        s3 = sums[c + 3 * step]
        for x in range(seg - 1):
            s0 += e0[x] - c0[x]
            s1 += e1[x] - c1[x]
            s2 += e2[x] - c2[x]
            s3 += e3[x] - c3[x]
            o0[x] = s0
            o1[x] = s1
            o2[x] = s2
            o3[x] = s3
        for x in range(seg - 1, width - 3 * seg - 1):  # the last segment's tail
            s3 += e3[x] - c3[x]
            o3[x] = s3


@kernel(inline="always")
def _first_column_sums(src, rowidx, y0, ry, cv, mid):
    """``mid`` (zeros) += the ``2 ry + 1`` source rows of output row ``y0``, in ``mid``'s
    dtype (wrapping for uint16, where the true sums fit); ``cv`` (of that dtype) stands for
    a row beyond a constant border."""
    acc_t = mid.dtype.type
    wc = mid.size
    outside = acc_t(0)
    for t in range(2 * ry + 1):
        i = rowidx[y0 + t]
        if i < 0:
            outside = acc_t(outside + cv)
        else:
            s = src[i]
            for j in range(wc):
                mid[j] = acc_t(mid[j] + acc_t(s[j]))
    if outside != 0:
        for j in range(wc):
            mid[j] = acc_t(mid[j] + outside)


@kernel(inline="always")
def _move_column_sums(src, a, d, cv, mid):
    """Move the column sums ``mid`` down one row: add source row ``a`` (entering), subtract
    row ``d`` (leaving); ``-1`` is a row beyond a constant border (value ``cv``). Every sum
    is cast back to ``mid``'s dtype, so the loops run in its lanes (Numba types
    ``int32 + int32`` and ``uint16 - uint16`` as int64)."""
    acc_t = mid.dtype.type
    wc = mid.size
    if a >= 0 and d >= 0:
        sa = src[a]
        sd = src[d]
        for j in range(wc):
            mid[j] = acc_t(mid[j] + acc_t(acc_t(sa[j]) - acc_t(sd[j])))
    elif a >= 0:
        sa = src[a]
        for j in range(wc):
            mid[j] = acc_t(mid[j] + acc_t(acc_t(sa[j]) - cv))
    elif d >= 0:
        sd = src[d]
        for j in range(wc):
            mid[j] = acc_t(mid[j] + acc_t(cv - acc_t(sd[j])))


@kernel(parallel=True)
def box_sum_mean(src, channels, ry, rx, rowidx, colidx, cval, acc_proto, use_f32, nblocks, out):
    """Mean of every ``(2ry+1) x (2rx+1)`` window of ``src`` (H, W * channels) into ``out``.

    ``acc_proto``'s dtype is the accumulator: an integer type for integer images (then the
    mean is rounded half up, exactly, from the integer sum) or float64 for float images.
    ``cval`` must already be representable in ``src``'s dtype. ``use_f32`` allows the float32
    rounding path (exact only for uint8 and windows below 16384 pixels).

    Numba types ``int32 + int32`` as int64: every sum is cast back with ``acc_t`` so that the
    loops run in int32 lanes (twice as many per vector, and int32 -> float32 conversions).
    """
    acc_t = acc_proto.dtype.type
    h = out.shape[0]  # the rows made: all of src's, or a band (rowidx starts at its first)
    wc = src.shape[1]
    off = rx * channels
    count = (2 * ry + 1) * (2 * rx + 1)
    cv = acc_t(cval)
    width = wc // channels
    is_int = acc_proto.dtype.kind == "i"
    inv2n = 1.0 / (2 * count)
    inv2n_f32 = np.float32(inv2n)
    n = acc_t(count)
    inv_n = 1.0 / count
    nblocks = max(1, min(h, nblocks))
    for b in numba.prange(nblocks):
        y0 = b * h // nblocks
        y1 = (b + 1) * h // nblocks
        col = np.zeros(wc + 2 * off, acc_proto.dtype)
        sums = np.empty(wc, acc_proto.dtype)
        dif = np.empty(wc, acc_proto.dtype)
        mid = col[off : off + wc]  # views indexed from 0: no negative-index wraparound code
        enter = col[2 * off + channels :]
        _first_column_sums(src, rowidx, y0, ry, cv, mid)
        for y in range(y0, y1):
            if y > y0:
                _move_column_sums(src, rowidx[y + 2 * ry], rowidx[y - 1], cv, mid)
            fill_row_border(col, rx, channels, colidx, cv * (2 * ry + 1))
            row = out[y]
            if rx == 1 and is_int and use_f32:
                # the 3-wide window fused with the rounding: one pass over the row
                c1 = col[channels:]
                c2 = col[2 * channels :]
                for j in range(wc):
                    s3 = acc_t(acc_t(col[j] + c1[j]) + c2[j])
                    row[j] = np.float32(acc_t(acc_t(s3 + s3) + n)) * inv2n_f32
                continue
            if 2 * rx + 1 <= DIRECT_MAX:
                # narrow windows: a direct sum vectorises, the running sum cannot
                for j in range(wc):
                    sums[j] = col[j]
                for t in range(1, 2 * rx + 1):
                    ct = col[t * channels :]
                    for j in range(wc):
                        sums[j] = acc_t(sums[j] + ct[j])
            else:
                _running_sums(col, enter, sums, dif, channels, width, 2 * rx + 1)
            # Integers: floor((2 S + N) / (2 N)) = S / N rounded half up. The quotient is never
            # an integer (odd / even): it sits >= 1 / (2N) from one, more than the error of
            # the product with the rounded reciprocal (relative 2**-52 in float64, N < 2**20;
            # 2**-23 in float32, which the caller allows only for uint8 and N < 16384).
            if is_int and use_f32:
                for j in range(wc):
                    sj = sums[j]
                    row[j] = np.float32(acc_t(acc_t(sj + sj) + n)) * inv2n_f32
            elif is_int:
                for j in range(wc):
                    sj = sums[j]
                    row[j] = np.float64(acc_t(acc_t(sj + sj) + n)) * inv2n
            else:
                for j in range(wc):
                    row[j] = sums[j] * inv_n
    return out


@kernel(parallel=True)
def box_small_u8(src, channels, ry, rx, rowidx, colidx, cval, magic, shift, nblocks, out):
    """Box mean of a uint8 image in uint16 lanes: windows no wider than ``DIRECT_MAX`` of at
    most ``SMALL_U8_MAX`` pixels (``n``), whose sums plus ``n // 2`` stay below 2**16.

    As :func:`box_sum_mean` (running column sums in a padded row, then direct sums along it),
    with every sum in uint16: a vector holds twice the lanes of int32, and the vertical
    update ``+ entering - leaving`` is exact modulo 2**16 because the true sums fit. The mean
    rounded half up is ``(S + n // 2) // n`` (``n`` odd: no ties), taken as the high 16 bits
    of ``(S + n // 2) * magic``, shifted right by ``shift`` >= 1
    (:func:`imgtool.kernels._tables.u16_division`, exact on this range); the shift is a
    second multiply-high, by ``2**(16 - shift)``. Both multipliers are read from rows filled
    with them: LLVM turns a multiply of two zero-extended uint16 vectors into one
    multiply-high, but not a multiply by a scalar set outside the loop (int32 or int64
    lanes then; a variable shift, too, runs in int64 lanes, as Numba types it).
    Each row's window sums and means are one pass (:func:`_small_row_means`). ``cval`` must
    be a uint8 value.
    """
    h = out.shape[0]  # the rows made: all of src's, or a band (rowidx starts at its first)
    wc = src.shape[1]
    off = rx * channels
    cv = np.uint16(cval)
    half = np.uint16((2 * ry + 1) * (2 * rx + 1) // 2)
    edge = np.uint16(cval * (2 * ry + 1))  # a column sum beyond a constant border
    nblocks = max(1, min(h, nblocks))
    for b in numba.prange(nblocks):
        y0 = b * h // nblocks
        y1 = (b + 1) * h // nblocks
        col = np.zeros(wc + 2 * off, np.uint16)
        mul = np.empty(wc, np.uint16)
        mul[:] = np.uint16(magic)
        scale = np.empty(wc, np.uint16)
        scale[:] = np.uint16(1 << (16 - shift))
        mid = col[off : off + wc]  # views indexed from 0: no negative-index wraparound code
        _first_column_sums(src, rowidx, y0, ry, cv, mid)
        for y in range(y0, y1):
            if y > y0:
                _move_column_sums(src, rowidx[y + 2 * ry], rowidx[y - 1], cv, mid)
            fill_row_border(col, rx, channels, colidx, edge)
            _small_row_means(col, channels, rx, half, mul, scale, out[y])
    return out


@kernel
def _small_row_means(col, channels, rx, half, mul, scale, row):
    """``row[j]`` = the rounded mean of the ``2 rx + 1`` column sums ``col[j + k C]``
    (``rx <= 4``, ``C = channels``): for each width one pass, its sum fused with the rounding.

    The mean is ``((S + half) * mul >> 16) * scale >> 16`` (:func:`box_small_u8`). The 3 x 3
    and 5 x 5 windows have it with literal constants, ``(S + 4) * 7282 >> 16`` (exact for
    ``S + 4 < 2**15``) and ``(S + 12) * 5243 >> 17`` (``u16_division(25)``), both checked
    value by value in the tests: one multiply-high (and a shift by an immediate), no load
    of the multipliers.
    """
    c = channels
    c1 = col[c:]
    c2 = col[2 * c :]
    if rx == 0:
        for j in range(row.size):
            q = np.uint16((np.uint32(np.uint16(col[j] + half)) * np.uint32(mul[j])) >> 16)
            row[j] = np.uint8((np.uint32(q) * np.uint32(scale[j])) >> 16)
        return
    if rx == 1:
        if half == 4:  # 3 x 3
            for j in range(row.size):
                x = np.uint16(np.uint16(np.uint16(col[j] + c1[j]) + c2[j]) + 4)
                row[j] = np.uint8((np.uint32(x) * np.uint32(7282)) >> 16)
            return
        for j in range(row.size):
            x = np.uint16(np.uint16(np.uint16(col[j] + c1[j]) + c2[j]) + half)
            q = np.uint16((np.uint32(x) * np.uint32(mul[j])) >> 16)
            row[j] = np.uint8((np.uint32(q) * np.uint32(scale[j])) >> 16)
        return
    c3 = col[3 * c :]
    c4 = col[4 * c :]
    if rx == 2:
        if half == 12:  # 5 x 5
            for j in range(row.size):
                x = np.uint16(np.uint16(col[j] + c1[j]) + np.uint16(c2[j] + c3[j]))
                x = np.uint16(x + np.uint16(c4[j] + 12))
                row[j] = np.uint8((np.uint32(x) * np.uint32(5243)) >> 17)
            return
        for j in range(row.size):
            x = np.uint16(np.uint16(col[j] + c1[j]) + np.uint16(c2[j] + c3[j]))
            x = np.uint16(x + np.uint16(c4[j] + half))
            q = np.uint16((np.uint32(x) * np.uint32(mul[j])) >> 16)
            row[j] = np.uint8((np.uint32(q) * np.uint32(scale[j])) >> 16)
        return
    c5 = col[5 * c :]
    c6 = col[6 * c :]
    if rx == 3:
        for j in range(row.size):
            x = np.uint16(np.uint16(col[j] + c1[j]) + np.uint16(c2[j] + c3[j]))
            x = np.uint16(x + np.uint16(np.uint16(c4[j] + c5[j]) + np.uint16(c6[j] + half)))
            q = np.uint16((np.uint32(x) * np.uint32(mul[j])) >> 16)
            row[j] = np.uint8((np.uint32(q) * np.uint32(scale[j])) >> 16)
        return
    c7 = col[7 * c :]
    c8 = col[8 * c :]
    for j in range(row.size):
        x = np.uint16(np.uint16(col[j] + c1[j]) + np.uint16(c2[j] + c3[j]))
        x = np.uint16(x + np.uint16(np.uint16(c4[j] + c5[j]) + np.uint16(c6[j] + c7[j])))
        x = np.uint16(x + np.uint16(c8[j] + half))
        q = np.uint16((np.uint32(x) * np.uint32(mul[j])) >> 16)
        row[j] = np.uint8((np.uint32(q) * np.uint32(scale[j])) >> 16)


@kernel(parallel=True)
def box_rows_first_u8(src, channels, ry, rx, rowidx, colidx, cval, use_f32, nblocks, out):
    """Box mean of a uint8 image, rows first: for windows wider than ``DIRECT_MAX``.

    The running sum along a row is serial; prefix sums are not, once cut into a recurrence
    ``P[i + 32] = P[i] + S32[i]`` whose step is a whole vector (``_row_prefix_u16``). Each
    source row gets its prefix sums once, kept in a ring of ``2 ry + 2`` rows; the vertical
    running sum then adds the entering row's window sums ``P[i + w] - P[i]``, subtracts the
    leaving row's, and rounds, in one pass. Row window sums are below 2**16 (``2 rx + 1 <=
    ROWS_FIRST_MAX``), so uint16 arithmetic modulo 2**16 gives them exactly; the vertical sums
    are int32. ``cval`` must be a uint8 value; ``use_f32`` as for :func:`box_sum_mean`.
    """
    h = out.shape[0]  # the rows made: all of src's, or a band (rowidx starts at its first)
    wc = src.shape[1]
    off = rx * channels
    wp = wc + 2 * off
    span = (2 * rx + 1) * channels
    count = (2 * ry + 1) * (2 * rx + 1)
    n = np.int32(count)
    inv2n = 1.0 / (2 * count)
    inv2n_f32 = np.float32(inv2n)
    nring = 2 * ry + 2
    nblocks = max(1, min(h, nblocks))
    for b in numba.prange(nblocks):
        y0 = b * h // nblocks
        y1 = (b + 1) * h // nblocks
        pad = np.empty(wp, np.uint8)
        scr = np.empty((2, wp), np.uint16)
        ring = np.empty((nring, wp + channels), np.uint16)
        acc = np.zeros(wc, np.int32)
        for t in range(2 * ry + 1):
            p = ring[(y0 + t) % nring]
            _prefix_of_row(src, rowidx[y0 + t], pad, p, channels, rx, colidx, cval, scr)
            pw = p[span:]
            for j in range(wc):
                acc[j] = np.int32(acc[j] + np.int32(np.uint16(pw[j] - p[j])))
        for y in range(y0, y1):
            row = out[y]
            if y == y0:
                _round_sums(acc, row, n, inv2n, inv2n_f32, use_f32)
                continue
            pe = ring[(y + 2 * ry) % nring]  # entering row
            pl = ring[(y - 1) % nring]  # leaving row
            _prefix_of_row(src, rowidx[y + 2 * ry], pad, pe, channels, rx, colidx, cval, scr)
            pew = pe[span:]
            plw = pl[span:]
            # Rounding as in box_sum_mean, fused with the update: one pass over the row
            if use_f32:
                for j in range(wc):
                    d = np.int32(np.uint16(pew[j] - pe[j])) - np.int32(np.uint16(plw[j] - pl[j]))
                    v = np.int32(acc[j] + np.int32(d))
                    acc[j] = v
                    row[j] = np.float32(np.int32(np.int32(v + v) + n)) * inv2n_f32
            else:
                for j in range(wc):
                    d = np.int32(np.uint16(pew[j] - pe[j])) - np.int32(np.uint16(plw[j] - pl[j]))
                    v = np.int32(acc[j] + np.int32(d))
                    acc[j] = v
                    row[j] = np.float64(np.int32(np.int32(v + v) + n)) * inv2n
    return out


@kernel
def _round_sums(acc, row, n, inv2n, inv2n_f32, use_f32):
    """``row = (2 acc + n) / (2 n)`` rounded down: the rounding of :func:`box_sum_mean`."""
    if use_f32:
        for j in range(row.size):
            v = acc[j]
            row[j] = np.float32(np.int32(np.int32(v + v) + n)) * inv2n_f32
    else:
        for j in range(row.size):
            v = acc[j]
            row[j] = np.float64(np.int32(np.int32(v + v) + n)) * inv2n


@kernel
def _prefix_of_row(src, i, pad, p, channels, rx, colidx, cval, scr):
    """Prefix sums (``_row_prefix_u16``) of source row ``i`` padded by its border, into ``p``.

    ``i < 0`` stands for a row of the constant border. A long grey row is not copied into
    ``pad``: its sums of 4 pixels are read from the source row, and only its two ends (which
    the border, the edge sums and the prefix's first 32 steps read) are copied.
    """
    if i < 0:
        pad[:] = np.uint8(cval)
        _row_prefix_u16(pad, p, channels, scr)
        return
    s = src[i]
    wc = s.size
    ends = max(rx + 3, 32)  # the border reads <= rx + 1 pixels from an end, p[:32] pad[:31]
    if channels > 1 or wc <= 2 * ends:
        mid = pad[rx * channels :]
        for j in range(wc):
            mid[j] = s[j]
        fill_row_border(pad, rx, channels, colidx, cval)
        _row_prefix_u16(pad, p, channels, scr)
        return
    mid = pad[rx:]
    for j in range(ends):
        mid[j] = s[j]
    for j in range(wc - ends, wc):
        mid[j] = s[j]
    fill_row_border(pad, rx, 1, colidx, cval)
    wp = pad.size
    sa = scr[0]
    _sums_of_4(pad, sa, 0, rx)
    _sums_of_4(s, sa[rx:], 0, wc - 3)
    _sums_of_4(pad, sa, rx + wc - 3, wp - 3)
    _grey_prefix_from_sums_of_4(pad, p, scr)


@kernel
def _sums_of_4(a, out, lo, hi):
    """``out[k] = a[k] + a[k + 1] + a[k + 2] + a[k + 3]`` modulo 2**16, ``lo <= k < hi``."""
    a0 = a[lo:]
    a1 = a[lo + 1 :]
    a2 = a[lo + 2 :]
    a3 = a[lo + 3 :]
    o0 = out[lo:]
    for k in range(hi - lo):
        o0[k] = np.uint16(
            np.uint16(np.uint16(a0[k]) + np.uint16(a1[k]))
            + np.uint16(np.uint16(a2[k]) + np.uint16(a3[k]))
        )


@kernel
def _grey_prefix_from_sums_of_4(pad, p, scr):
    """``_row_prefix_u16`` of a grey row, from its sums of 4 pixels in ``scr[0]``."""
    wp = pad.size
    n_p = wp + 1
    sa = scr[0]
    sb = scr[1]
    a1 = sa[4:]
    a2 = sa[8:]
    a3 = sa[12:]
    for i in range(wp - 15):
        sb[i] = np.uint16(np.uint16(sa[i] + a1[i]) + np.uint16(a2[i] + a3[i]))
    p[0] = 0
    for i in range(1, min(32, n_p)):
        p[i] = np.uint16(p[i - 1] + pad[i - 1])
    # an explicit literal offset: with a view p[32:], LLVM does not see the distance
    for i in range(n_p - 32):
        p[i + 32] = np.uint16(p[i] + np.uint16(sb[i] + sb[i + 16]))


@kernel
def _row_prefix_u16(pad, p, channels, scr):
    """Per-channel prefix sums of a uint8 row modulo 2**16: ``p[i] = sum pad[j]``, ``j < i``,
    ``j = i (mod C)``, for ``i <= len(pad)``; ``scr`` is a (2, len(pad)) uint16 scratch.

    A serial ``p[i + C] = p[i] + pad[i]`` does not vectorise; ``p[i + d] = p[i] + S[i]``, with
    ``S`` the sums of ``d / C`` pixels of a channel and ``d`` a literal at least one vector
    (32 uint16 lanes), does. ``S`` is built by doubling (sums of 2, 4, ... pixels), each step
    one vectorised pass; grey rows take sums of 4 then 16 pixels, and two 16s in the
    recurrence itself.
    """
    wp = pad.size
    c = channels
    if c == 1:
        _sums_of_4(pad, scr[0], 0, wp - 3)
        _grey_prefix_from_sums_of_4(pad, p, scr)
        return
    n_p = wp + c
    sa = scr[0]
    pc = pad[c:]
    for i in range(wp - c):
        sa[i] = np.uint16(np.uint16(pad[i]) + np.uint16(pc[i]))
    k = 2
    lvl = 0
    while k * c < 32:
        cur = scr[lvl & 1]
        nxt = scr[(lvl + 1) & 1]
        ck = cur[k * c :]
        for i in range(wp - (2 * k - 1) * c):
            nxt[i] = np.uint16(cur[i] + ck[i])
        k *= 2
        lvl += 1
    sb = scr[lvl & 1]
    d = k * c
    for i in range(min(c, n_p)):
        p[i] = 0
    for i in range(c, min(d, n_p)):
        p[i] = np.uint16(p[i - c] + pad[i - c])
    # explicit literal offsets: with a view p[d:], LLVM does not see the distance
    if d == 32:
        for i in range(n_p - 32):
            p[i + 32] = np.uint16(p[i] + sb[i])
    elif d == 48:
        for i in range(n_p - 48):
            p[i + 48] = np.uint16(p[i] + sb[i])
    else:
        for i in range(n_p - d):
            p[i + d] = np.uint16(p[i] + sb[i])
