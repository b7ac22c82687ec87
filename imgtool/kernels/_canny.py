"""Canny kernels: non-maximum suppression, double threshold, hysteresis (private).

The public wrapper (:mod:`imgtool.edges`) validates everything; these kernels assume
C-contiguous float32 gradients ``gx``, ``gy`` of the same 2-D shape.

Magnitudes are compared in OpenCV's units: ``gx**2 + gy**2`` against squared thresholds for
L2 (no square root per pixel), ``|gx| + |gy|`` for L1. Both are computed in float32 by one
function, so a pixel's magnitude is bit-identical whether it is the centre or a neighbour.

Non-maximum suppression follows OpenCV's ``cv::Canny`` exactly:

* the gradient direction is quantised into 4 sectors with OpenCV's fixed-point bound
  ``tan(22.5 deg) ~ 13573 / 2**15``: horizontal if ``|gy| * 2**15 < |gx| * 13573``, vertical
  if ``|gy| * 2**15 > |gx| * (13573 + 2**16)``, diagonal otherwise;
* ties: horizontal and vertical sectors keep a pixel if it is ``>`` its left (upper)
  neighbour and ``>=`` its right (lower) neighbour; diagonal sectors need ``>`` on both sides;
* neighbours outside the image have magnitude 0.

Hysteresis never recurses: each row block floods its own strong seeds with an explicit
stack (in parallel), then one serial flood continues across block borders from the strong
pixels on the first and last row of every block, then weak leftovers are cleared.
Every pixel is pushed at most once, so a stack as large as the block always suffices.
"""

from __future__ import annotations

import numpy as np
from numba import prange, types
from numba.extending import overload

from imgtool.kernels._jit import kernel

WEAK = np.uint8(1)
EDGE = np.uint8(255)

# OpenCV's fixed-point sector bounds: tan(22.5 deg) * 2**15, rounded, and 2**15.
_TG22 = 13573.0
_ONE = 32768.0
_TG67_EXTRA = 65536.0  # tan(67.5 deg) = tan(22.5 deg) + 2
# The ridge histograms count into this many partial histograms (work for as many threads):
# each is nbins int64 values to zero and to sum, 64 KiB for the 8192 bins of imgtool.edges.
_HIST_CHUNKS = 16


@kernel
def _mag(gx, gy, i, j, l2):
    """Magnitude at (i, j) in float32: squared L2 or L1."""
    a = gx[i, j]
    b = gy[i, j]
    if l2:
        return a * a + b * b
    return abs(a) + abs(b)


@kernel
def _mag_row(gx, gy, i, l2, dst):
    """Magnitudes of row ``i`` into ``dst[1:-1]``; zeros (outside the image) at both ends."""
    h, w = gx.shape
    dst[0] = 0
    dst[w + 1] = 0
    if i < 0 or i >= h:
        for j in range(w):
            dst[j + 1] = 0
    elif l2:
        for j in range(w):
            a = gx[i, j]
            b = gy[i, j]
            dst[j + 1] = a * a + b * b
    else:
        for j in range(w):
            dst[j + 1] = abs(gx[i, j]) + abs(gy[i, j])


@kernel(inline="always")
def _is_ridge(xs, ys, m, prev, cur, nxt, k):
    """True if magnitude ``m`` survives OpenCV's 4-sector non-maximum suppression.

    ``prev``, ``cur``, ``nxt`` are the padded magnitude rows above, at and below the pixel,
    whose column is ``k`` in padded coordinates.
    """
    ax = np.float64(abs(xs))
    ay = np.float64(abs(ys)) * _ONE
    tg22x = ax * _TG22
    if ay < tg22x:
        return m > cur[k - 1] and m >= cur[k + 1]
    if ay > tg22x + ax * _TG67_EXTRA:
        return m > prev[k] and m >= nxt[k]
    if (xs < 0) != (ys < 0):
        return m > prev[k + 1] and m > nxt[k - 1]
    return m > prev[k - 1] and m > nxt[k + 1]


def _sector(xs, ys):
    """``(horizontal, vertical)``: the sector tests of :func:`_is_ridge` for one pixel."""
    raise NotImplementedError("only called from Numba kernels")


@overload(_sector, inline="always")
def _sector_impl(xs, ys):
    if isinstance(xs, types.Integer):
        # integer gradients (the uint8 path, |g| <= 1020): the same bounds in int32, exact
        # like the float64 ones (every product is below 2**27), twice the lanes per vector

        def sector_int(xs, ys):
            ax = np.int32(abs(xs))
            ay = np.int32(np.int32(abs(ys)) * np.int32(_ONE))
            tg22x = np.int32(ax * np.int32(_TG22))
            return ay < tg22x, ay > np.int32(tg22x + np.int32(ax * np.int32(_TG67_EXTRA)))

        return sector_int

    def sector_float(xs, ys):
        ax = np.float64(abs(xs))
        ay = np.float64(abs(ys)) * _ONE
        tg22x = ax * _TG22
        return ay < tg22x, ay > tg22x + ax * _TG67_EXTRA

    return sector_float


@kernel(inline="always")
def _survives(xs, ys, m, prev, cur, nxt, j):
    """:func:`_is_ridge` without branches, for loops that vectorise: every neighbour pair is
    loaded and the sector selects one (``prev``, ``cur``, ``nxt`` are the padded rows, the
    pixel's column is ``j + 1`` in them). On a noisy photo nearly every pixel has a gradient,
    and the branches of :func:`_is_ridge` would mispredict at every pixel."""
    hor, ver = _sector(xs, ys)
    anti = (xs < 0) != (ys < 0)
    # every load is unconditional, so that the choice compiles to selects, not branches
    l0, l2_, u0, u1, u2 = cur[j], cur[j + 2], prev[j], prev[j + 1], prev[j + 2]
    d0, d1, d2 = nxt[j], nxt[j + 1], nxt[j + 2]
    a = l0 if hor else (u1 if ver else (u2 if anti else u0))
    b = l2_ if hor else (d1 if ver else (d0 if anti else d2))
    return (m > a) & ((m > b) | ((hor | ver) & (m == b)))


@kernel(inline="always")
def _suppress_row_branches(gxr, gyr, prev, cur, nxt, low, high, orow, stack, top, first):
    """:func:`_suppress_row` with a branch per pixel, for float gradients
    (:func:`canny_from_gradients`): there the sector test needs float64 lanes (exact for
    float32 gradients), and the branch-free loop was slower on the document photo of the
    benchmark (18.7 against 14.9 ms; faster on the noisy natural photo, 22.7 against 25.4).
    Inlined into its caller: called as a function per row, it ran 3.2-3.5 times slower."""
    for j in range(orow.size):
        m = cur[j + 1]
        v = np.uint8(0)
        if m > low and _is_ridge(gxr[j], gyr[j], m, prev, cur, nxt, j + 1):
            if m > high:
                v = EDGE
                stack[top] = first + j
                top += 1
            else:
                v = WEAK
        orow[j] = v
    return top


@kernel(inline="always")
def _suppress_row(gxr, gyr, prev, cur, nxt, low, high, orow, stack, top, first):
    """Non-maximum suppression and double threshold of one row of integer gradients and
    magnitudes (:func:`canny_u8`).

    ``orow[j]`` gets EDGE (magnitude ``> high``), WEAK (``> low``) or 0; the EDGE pixels'
    flat indices ``first + j`` are pushed on ``stack`` from ``top``. Returns the new top.
    ``prev``, ``cur``, ``nxt`` are the padded magnitude rows (:func:`_is_ridge`). The row is
    classified in one loop without branches (:func:`_survives`), which vectorises; the EDGE
    pixels are then found eight at a time (a 64-bit word with a byte >= 128: only EDGE has
    that bit), so a row without one costs W / 8 tests. On the natural 12-megapixel photo of
    the benchmark, ``canny_u8`` went from 30.4 to 20.0 ms at 1 thread (branches per pixel
    before), and from 15.2 to 14.9 ms on the document photo (few candidates, where the
    branches were well predicted). Inlined into its caller (``inline="always"``): called as
    a function per row, the Canny kernels ran 3.2-3.5 times slower.
    """
    w = orow.size
    c1 = cur[1:]
    # integer magnitudes: m > t exactly when m > floor(t), so the tests run in int32 lanes
    lo = np.int32(min(np.floor(low), 2147483647.0))
    hi = np.int32(min(np.floor(high), 2147483647.0))
    for j in range(w):
        m = c1[j]
        keep = (m > lo) & _survives(gxr[j], gyr[j], m, prev, cur, nxt, j)
        orow[j] = (EDGE if m > hi else WEAK) if keep else np.uint8(0)
    n8 = w // 8
    words = orow[: 8 * n8].view(np.uint64)
    for q in range(n8):
        if words[q] & np.uint64(0x8080808080808080):
            for j in range(8 * q, 8 * q + 8):
                if orow[j] == EDGE:
                    stack[top] = first + j
                    top += 1
    for j in range(8 * n8, w):
        if orow[j] == EDGE:
            stack[top] = first + j
            top += 1
    return top


@kernel
def _flood(out, stack, base, top, r0, r1, w):
    """Promote WEAK pixels 8-connected to the stacked EDGE pixels, within rows [r0, r1).

    ``stack[base:top]`` holds flat indices ``i * w + j``; returns the final top (== base).
    """
    while top > base:
        top -= 1
        p = stack[top]
        i = p // w
        j = p - i * w
        ilo = max(i - 1, r0)
        ihi = min(i + 2, r1)
        jlo = max(j - 1, 0)
        jhi = min(j + 2, w)
        for ii in range(ilo, ihi):
            for jj in range(jlo, jhi):
                if out[ii, jj] == WEAK:
                    out[ii, jj] = EDGE
                    stack[top] = ii * w + jj
                    top += 1
    return top


@kernel
def _seed_borders_and_flood(out, stack, step):
    """Continue the flood across block borders from the EDGE pixels on block border rows."""
    h, w = out.shape
    top = 0
    for r0 in range(0, h, step):
        last = min(r0 + step, h) - 1
        for j in range(w):
            if out[r0, j] == EDGE:
                stack[top] = r0 * w + j
                top += 1
        if last != r0:
            for j in range(w):
                if out[last, j] == EDGE:
                    stack[top] = last * w + j
                    top += 1
    _flood(out, stack, 0, top, 0, h, w)


@kernel(inline="always")
def _finish_hysteresis(out, stack, step):
    """After each block's own flood: continue it across the block borders, then clear the
    WEAK pixels no EDGE reached. Inlined, so that the clearing runs in the caller's threads.
    """
    _seed_borders_and_flood(out, stack, step)
    h, w = out.shape
    for i in prange(h):
        for j in range(w):
            if out[i, j] == WEAK:
                out[i, j] = 0


@kernel(parallel=True)
def canny_from_gradients(gx, gy, low, high, l2, nblocks):
    """Edge map (0/255 uint8) from gradients: NMS, double threshold, hysteresis, fused.

    ``low`` and ``high`` are in magnitude units (already squared for L2); a pixel is a
    candidate if its magnitude is ``> low`` and strong if ``> high``, as in OpenCV.
    """
    h, w = gx.shape
    out = np.empty((h, w), np.uint8)
    stack = np.empty(h * w, np.int32)
    step = (h + nblocks - 1) // nblocks
    nb = (h + step - 1) // step
    for b in prange(nb):
        r0 = b * step
        r1 = min(r0 + step, h)
        base = r0 * w
        top = base
        buf = np.empty((3, w + 2), np.float32)
        prev, cur, nxt = buf[0], buf[1], buf[2]
        _mag_row(gx, gy, r0 - 1, l2, prev)
        _mag_row(gx, gy, r0, l2, cur)
        for i in range(r0, r1):
            _mag_row(gx, gy, i + 1, l2, nxt)
            top = _suppress_row_branches(gx[i], gy[i], prev, cur, nxt, low, high, out[i], stack,
                                         top, i * w)
            prev, cur, nxt = cur, nxt, prev
        _flood(out, stack, base, top, r0, r1, w)
    _finish_hysteresis(out, stack, step)
    return out


@kernel(parallel=True)
def ridge_magnitude(gx, gy, l2, nblocks):
    """Magnitude (squared for L2) where a pixel survives non-maximum suppression, else 0."""
    h, w = gx.shape
    out = np.empty((h, w), np.float32)
    step = (h + nblocks - 1) // nblocks
    nb = (h + step - 1) // step
    for b in prange(nb):
        r0 = b * step
        r1 = min(r0 + step, h)
        buf = np.empty((3, w + 2), np.float32)
        prev, cur, nxt = buf[0], buf[1], buf[2]
        _mag_row(gx, gy, r0 - 1, l2, prev)
        _mag_row(gx, gy, r0, l2, cur)
        for i in range(r0, r1):
            _mag_row(gx, gy, i + 1, l2, nxt)
            for j in range(w):
                m = cur[j + 1]
                if m > 0 and _is_ridge(gx[i, j], gy[i, j], m, prev, cur, nxt, j + 1):
                    out[i, j] = m
                else:
                    out[i, j] = 0
            prev, cur, nxt = cur, nxt, prev
    return out


@kernel(parallel=True)
def hysteresis(ridge, low, high, nblocks):
    """Edge map (0/255 uint8) from a ridge map: ``> low`` candidates, ``> high`` seeds."""
    h, w = ridge.shape
    out = np.empty((h, w), np.uint8)
    stack = np.empty(h * w, np.int32)
    step = (h + nblocks - 1) // nblocks
    nb = (h + step - 1) // step
    for b in prange(nb):
        r0 = b * step
        r1 = min(r0 + step, h)
        base = r0 * w
        top = base
        for i in range(r0, r1):
            for j in range(w):
                m = ridge[i, j]
                v = np.uint8(0)
                if m > low:
                    if m > high:
                        v = EDGE
                        stack[top] = i * w + j
                        top += 1
                    else:
                        v = WEAK
                out[i, j] = v
        _flood(out, stack, base, top, r0, r1, w)
    _finish_hysteresis(out, stack, step)
    return out


@kernel(parallel=True)
def ridge_histogram(ridge, l2, bin_width, nbins, row_step):
    """Histogram of the linear magnitudes (``sqrt`` for L2) of the non-zero ridge pixels.

    Bin ``k`` counts magnitudes in ``[k * bin_width, (k + 1) * bin_width)``; larger values go
    to the last bin. Only every ``row_step``-th row is counted (1: all rows).
    """
    h, w = ridge.shape
    nchunks = min(h, 64)
    step = (h + nchunks - 1) // nchunks
    partial = np.zeros((nchunks, nbins), np.int64)
    for c in prange(nchunks):
        for i in range(c * step, min((c + 1) * step, h)):
            if i % row_step:
                continue
            for j in range(w):
                m = ridge[i, j]
                if m > 0:
                    v = np.sqrt(np.float64(m)) if l2 else np.float64(m)
                    k = int(v / bin_width)
                    if k >= nbins:
                        k = nbins - 1
                    partial[c, k] += 1
    return partial.sum(axis=0)


# --- the automatic path: Sobel on the fly from a uint8 image, NMS only where it matters --------


@kernel
def _sobel_row_u8(src, i, l2, vs, vd, gx, gy, mag):
    """Sobel of row ``i`` of uint8 ``src`` (replicated border, as ``cv2.Canny``) in int16.

    ``gx``, ``gy`` (int16, length W) get the derivatives, ``mag[1:-1]`` (int32) the
    magnitude (squared for L2) with zeros at both ends; a row outside the image gives
    magnitude 0. ``vs``, ``vd`` are int16 scratch rows of length W + 2. Every partial sum
    and derivative lies within +-1020, so 16-bit lanes (twice as many per vector as int32)
    hold them exactly; the squares, up to 2 * 1020**2, are made in int32. The values are
    exactly those of the float32 path (:func:`imgtool.filters.sobel` then
    :func:`_mag_row`): every sum is below 2**24.
    """
    h, w = src.shape
    mag[0] = 0
    mag[w + 1] = 0
    if i < 0 or i >= h:
        for j in range(w):
            mag[j + 1] = 0
        return
    u = src[max(i - 1, 0)]
    m = src[i]
    d = src[min(i + 1, h - 1)]
    vsm = vs[1:]
    vdm = vd[1:]
    for j in range(w):  # vertical pass: [1 2 1] for gx, [-1 0 1] for gy
        a = np.int16(u[j])
        c = np.int16(d[j])
        vsm[j] = np.int16(np.int16(a + c) + np.int16(np.int16(m[j]) + np.int16(m[j])))
        vdm[j] = np.int16(c - a)
    vs[0] = vs[1]
    vs[w + 1] = vs[w]
    vd[0] = vd[1]
    vd[w + 1] = vd[w]
    vs2 = vs[2:]
    vd1 = vd[1:]
    vd2 = vd[2:]
    mm = mag[1:]
    for j in range(w):  # horizontal pass: [-1 0 1] for gx, [1 2 1] for gy
        x = np.int16(vs2[j] - vs[j])
        y = np.int16(np.int16(vd[j] + vd2[j]) + np.int16(vd1[j] + vd1[j]))
        gx[j] = x
        gy[j] = y
        x32 = np.int32(x)
        y32 = np.int32(y)
        if l2:
            mm[j] = np.int32(x32 * x32) + np.int32(y32 * y32)
        else:
            mm[j] = np.int32(abs(x32) + abs(y32))


@kernel(parallel=True)
def canny_u8(src, low, high, l2, nblocks):
    """Edge map (0/255 uint8) of a uint8 image: Sobel, NMS, double threshold, hysteresis.

    The same result as :func:`canny_from_gradients` on ``filters.sobel(src, border=
    "replicate")``, without storing the two float32 gradient images: each row block computes
    its Sobel rows as it goes. ``low``/``high`` as there (squared for L2).
    """
    h, w = src.shape
    out = np.empty((h, w), np.uint8)
    stack = np.empty(h * w, np.int32)
    step = (h + nblocks - 1) // nblocks
    nb = (h + step - 1) // step
    for b in prange(nb):
        r0 = b * step
        r1 = min(r0 + step, h)
        base = r0 * w
        top = base
        mags = np.empty((3, w + 2), np.int32)
        gxs = np.empty((3, w), np.int16)
        gys = np.empty((3, w), np.int16)
        vs = np.empty(w + 2, np.int16)
        vd = np.empty(w + 2, np.int16)
        _sobel_row_u8(src, r0 - 1, l2, vs, vd, gxs[0], gys[0], mags[0])
        _sobel_row_u8(src, r0, l2, vs, vd, gxs[1], gys[1], mags[1])
        p, c, n = 0, 1, 2
        for i in range(r0, r1):
            _sobel_row_u8(src, i + 1, l2, vs, vd, gxs[n], gys[n], mags[n])
            top = _suppress_row(gxs[c], gys[c], mags[p], mags[c], mags[n], low, high, out[i],
                                stack, top, i * w)
            p, c, n = c, n, p
        _flood(out, stack, base, top, r0, r1, w)
    _finish_hysteresis(out, stack, step)
    return out


@kernel(inline="always")
def _bin_ridges(hist, mag_nxt, mag_cur, mag_prev, gxr, gyr, l2, bin_width, nbins, bins):
    """Count the non-maximum-suppression survivors of one row into ``hist``.

    The suppression is :func:`_survives` (no branches), and every pixel's bin is computed,
    survivor or not (the others get bin ``nbins``), so that the loop vectorises. The survivors'
    bins are then packed to the front of ``bins`` (a scratch row of W int32) without a
    branch, and counted. Bin ``k`` holds magnitudes in ``[k, k + 1) * bin_width`` (L2:
    ``sqrt`` of the squared magnitude), the last bin everything above.
    """
    w = gxr.size
    c1 = mag_cur[1:]
    outside = np.int32(nbins)
    last = np.float64(nbins - 1)
    for j in range(w):
        m = c1[j]
        keep = (m > 0) & _survives(gxr[j], gyr[j], m, mag_prev, mag_cur, mag_nxt, j)
        v = np.sqrt(np.float64(m)) if l2 else np.float64(m)
        k = np.int32(min(v / bin_width, last))  # int(v / bin_width), at most nbins - 1
        bins[j] = k if keep else outside
    n = 0
    for j in range(w):  # pack the survivors' bins: always store, advance only on a survivor
        k = bins[j]
        bins[n] = k
        n += k != outside
    for t in range(n):
        hist[bins[t]] += 1


@kernel(parallel=True)
def ridge_histogram_u8(src, l2, bin_width, nbins, row_step):
    """:func:`ridge_histogram` of the ridge map of uint8 ``src`` (Sobel with a replicated
    border), computed on the counted rows only: every ``row_step``-th row."""
    h, w = src.shape
    rows = (h + row_step - 1) // row_step
    nchunks = max(1, min(rows, _HIST_CHUNKS))
    per = (rows + nchunks - 1) // nchunks
    partial = np.zeros((nchunks, nbins), np.int64)
    for c in prange(nchunks):
        mags = np.empty((3, w + 2), np.int32)
        gxs = np.empty((3, w), np.int16)
        gys = np.empty((3, w), np.int16)
        vs = np.empty(w + 2, np.int16)
        vd = np.empty(w + 2, np.int16)
        bins = np.empty(w, np.int32)
        for r in range(c * per, min((c + 1) * per, rows)):
            i = r * row_step
            for t in range(3):
                _sobel_row_u8(src, i - 1 + t, l2, vs, vd, gxs[t], gys[t], mags[t])
            _bin_ridges(partial[c], mags[2], mags[1], mags[0], gxs[1], gys[1], l2, bin_width,
                        nbins, bins)
    return partial.sum(axis=0)


@kernel(parallel=True)
def ridge_histogram_from_gradients(gx, gy, l2, bin_width, nbins, row_step):
    """:func:`ridge_histogram` of the ridge map of gradients ``gx``, ``gy``, computed on the
    counted rows only: every ``row_step``-th row."""
    h, w = gx.shape
    rows = (h + row_step - 1) // row_step
    nchunks = max(1, min(rows, _HIST_CHUNKS))
    per = (rows + nchunks - 1) // nchunks
    partial = np.zeros((nchunks, nbins), np.int64)
    for c in prange(nchunks):
        mags = np.empty((3, w + 2), np.float32)
        bins = np.empty(w, np.int32)
        for r in range(c * per, min((c + 1) * per, rows)):
            i = r * row_step
            for t in range(3):
                _mag_row(gx, gy, i - 1 + t, l2, mags[t])
            _bin_ridges(partial[c], mags[2], mags[1], mags[0], gx[i], gy[i], l2, bin_width,
                        nbins, bins)
    return partial.sum(axis=0)


@kernel(parallel=True)
def histogram_u8(image):
    """256-bin histogram of a 2-D uint8 image."""
    h, w = image.shape
    nchunks = min(h, 64)
    step = (h + nchunks - 1) // nchunks
    partial = np.zeros((nchunks, 256), np.int64)
    for c in prange(nchunks):
        for i in range(c * step, min((c + 1) * step, h)):
            for j in range(w):
                partial[c, image[i, j]] += 1
    return partial.sum(axis=0)


@kernel
def otsu_bin(hist):
    """Otsu's threshold bin index, OpenCV's rule: maximise the between-class variance.

    Class 0 is bins ``<= t``; the first maximum wins; splits leaving a class with less than
    float32 epsilon of the mass are skipped, as in ``cv::threshold``.
    """
    n = hist.size
    total = 0.0
    for i in range(n):
        total += hist[i]
    if total == 0:
        return 0
    scale = 1.0 / total
    mu = 0.0
    for i in range(n):
        mu += i * (hist[i] * scale)
    eps = 1.1920928955078125e-07
    mu1 = 0.0
    q1 = 0.0
    max_sigma = 0.0
    max_val = 0
    for i in range(n):
        p_i = hist[i] * scale
        mu1 *= q1
        q1 += p_i
        q2 = 1.0 - q1
        if min(q1, q2) < eps or max(q1, q2) > 1.0 - eps:
            continue
        mu1 = (mu1 + i * p_i) / q1
        mu2 = (mu - q1 * mu1) / q2
        sigma = q1 * q2 * (mu1 - mu2) * (mu1 - mu2)
        if sigma > max_sigma:
            max_sigma = sigma
            max_val = i
    return max_val


@kernel(parallel=True)
def bgr_to_gray_u8(image):
    """BGR(A) uint8 to grey with ITU-R 601 weights in OpenCV's 15-bit fixed point.

    ``(3735 B + 19235 G + 9798 R + 2**14) >> 15``: bit-exact with ``cv2.cvtColor`` (OpenCV 5).
    """
    h, w, _ = image.shape
    out = np.empty((h, w), np.uint8)
    for i in prange(h):
        for j in range(w):
            b = np.int32(image[i, j, 0])
            g = np.int32(image[i, j, 1])
            r = np.int32(image[i, j, 2])
            out[i, j] = np.uint8((b * 3735 + g * 19235 + r * 9798 + 16384) >> 15)
    return out
