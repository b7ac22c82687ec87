"""Boundary support of straight segments across an image, for the page detector.

For each of K segments, S points are spread along it. At each point and in each plane of the
image (grey, and colour planes so that a page of the desk's brightness but another colour
still has an outline), the step between the samples ``offset`` pixels either side of it
(along the segment's normal) is measured. A point is on a page boundary when, in some plane,
that step is at least ``min_step`` and of the sign most points of the segment share in that
plane, at least half of it happens within 2 pixels of the point (a line of text has edges
but paper on both sides), and the step between samples twice as far out keeps at least
``far_share`` of it (a thin dark line, such as a table's ruling, has paper on both sides).
Samples are bilinear.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from imgtool.kernels._jit import kernel


@kernel
def _cell(h, w, x, y):
    """Top-left pixel and fractions of the bilinear sample at (x, y), clamped to the image."""
    if x < 0.0:
        x = 0.0
    if y < 0.0:
        y = 0.0
    if x > w - 1.001:
        x = w - 1.001
    if y > h - 1.001:
        y = h - 1.001
    x0 = int(x)
    y0 = int(y)
    return x0, y0, x - x0, y - y0


@kernel
def _at(planes, c, x0, y0, fx, fy):
    """Bilinear sample of plane ``c`` in the cell from :func:`_cell`."""
    top = planes[c, y0, x0] * (1.0 - fx) + planes[c, y0, x0 + 1] * fx
    bottom = planes[c, y0 + 1, x0] * (1.0 - fx) + planes[c, y0 + 1, x0 + 1] * fx
    return top * (1.0 - fy) + bottom * fy


@kernel
def _median_sign(values):
    """1.0 if the median of ``values`` is >= 0, else -1.0, without sorting: the count of
    non-negative values decides, and on an even split the two middle values (the largest
    negative and the smallest non-negative) do."""
    n = values.shape[0]
    count = 0
    largest_negative = -np.inf
    smallest_positive = np.inf
    for v in values:
        if v >= 0:
            count += 1
            if v < smallest_positive:
                smallest_positive = v
        elif v > largest_negative:
            largest_negative = v
    if 2 * count != n:
        return 1.0 if 2 * count > n else -1.0
    return 1.0 if smallest_positive + largest_negative >= 0 else -1.0


@kernel(parallel=True)
def boundary_share(planes, starts, ends, nx, ny, samples, offset, min_step, frame_margin,
                   far_share):
    """Per segment: share of points on a boundary, share whose outer sample is off-frame,
    and the mean of plane 0 at the inner and at the outer samples of the boundary points.

    ``planes`` is float32 (C, H, W), plane 0 the grey; ``starts``/``ends`` are (K, 2)
    float64; ``(nx, ny)`` is the unit normal pointing into the page. Points whose outer
    sample lies within ``frame_margin`` of the frame (or beyond) count as frame, not as
    boundary. The wide step is measured everywhere (its median gives each plane's sign);
    the near and far steps only where the wide step is large enough.
    """
    n_planes, h, w = planes.shape
    k = starts.shape[0]
    out = np.zeros((k, 4))
    for i in prange(k):
        xs = np.empty(samples)
        ys = np.empty(samples)
        inner = np.empty(samples)
        outer = np.empty(samples)
        wide = np.empty((n_planes, samples))
        sign = np.empty(n_planes)
        n_frame = 0
        n_use = 0
        for j in range(samples):
            t = 0.05 + 0.9 * j / (samples - 1)
            px = starts[i, 0] + t * (ends[i, 0] - starts[i, 0])
            py = starts[i, 1] + t * (ends[i, 1] - starts[i, 1])
            ox = px - offset * nx
            oy = py - offset * ny
            ix = px + offset * nx
            iy = py + offset * ny
            if (ox < frame_margin or oy < frame_margin or ox > w - 1 - frame_margin
                    or oy > h - 1 - frame_margin):
                n_frame += 1
                continue
            if (px < 0 or py < 0 or px > w - 1 or py > h - 1 or ix < 0 or iy < 0
                    or ix > w - 1 or iy > h - 1):
                continue
            xs[n_use] = px
            ys[n_use] = py
            ix0, iy0, ifx, ify = _cell(h, w, ix, iy)
            ox0, oy0, ofx, ofy = _cell(h, w, ox, oy)
            for c in range(n_planes):
                a_in = _at(planes, c, ix0, iy0, ifx, ify)
                a_out = _at(planes, c, ox0, oy0, ofx, ofy)
                if c == 0:
                    inner[n_use] = a_in
                    outer[n_use] = a_out
                wide[c, n_use] = a_in - a_out
            n_use += 1
        out[i, 1] = n_frame / samples
        if n_use == 0:
            continue
        for c in range(n_planes):
            sign[c] = _median_sign(wide[c, :n_use])
        hits = 0
        sum_in = 0.0
        sum_out = 0.0
        for j in range(n_use):
            px = xs[j]
            py = ys[j]
            fx0 = px - 2.0 * offset * nx
            fy0 = py - 2.0 * offset * ny
            fx1 = px + 2.0 * offset * nx
            fy1 = py + 2.0 * offset * ny
            far_inside = not (fx0 < 0 or fy0 < 0 or fx0 > w - 1 or fy0 > h - 1 or fx1 < 0
                              or fy1 < 0 or fx1 > w - 1 or fy1 > h - 1)
            cells = False
            for c in range(n_planes):
                a = wide[c, j] * sign[c]
                if a <= min_step:
                    continue
                if not cells:  # the four sample cells, once per point
                    cells = True
                    n1x, n1y, n1fx, n1fy = _cell(h, w, px + 2 * nx, py + 2 * ny)
                    n0x, n0y, n0fx, n0fy = _cell(h, w, px - 2 * nx, py - 2 * ny)
                    f1x, f1y, f1fx, f1fy = _cell(h, w, fx1, fy1)
                    f0x, f0y, f0fx, f0fy = _cell(h, w, fx0, fy0)
                near = (_at(planes, c, n1x, n1y, n1fx, n1fy)
                        - _at(planes, c, n0x, n0y, n0fx, n0fy)) * sign[c]
                if near <= 0.5 * a:
                    continue
                if far_inside:
                    far = (_at(planes, c, f1x, f1y, f1fx, f1fy)
                           - _at(planes, c, f0x, f0y, f0fx, f0fy)) * sign[c]
                    if far <= far_share * a:
                        continue
                hits += 1
                sum_in += inner[j]
                sum_out += outer[j]
                break
        out[i, 0] = hits / samples
        if hits > 0:
            out[i, 2] = sum_in / hits
            out[i, 3] = sum_out / hits
    return out
