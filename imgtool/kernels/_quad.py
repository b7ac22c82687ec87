"""Boundary support of straight segments across a grey image, for the page detector.

For each of K segments, S points are spread along it; a point is on a page boundary when the
grey step between the samples ``offset`` pixels either side of it (along the segment's
normal) is at least ``min_step``, of the sign most points of that segment share, and at
least half of it happens within 2 pixels of the point. Samples are bilinear.
"""

from __future__ import annotations

import numpy as np

from imgtool.kernels._jit import kernel


@kernel
def _bilinear(img, x, y):
    h, w = img.shape
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
    fx = x - x0
    fy = y - y0
    top = img[y0, x0] * (1.0 - fx) + img[y0, x0 + 1] * fx
    bottom = img[y0 + 1, x0] * (1.0 - fx) + img[y0 + 1, x0 + 1] * fx
    return top * (1.0 - fy) + bottom * fy


@kernel
def boundary_share(gray, starts, ends, nx, ny, samples, offset, min_step, frame_margin):
    """Per segment: (share of points on a boundary, share whose outer sample is off-frame).

    ``gray`` is float32 (H, W); ``starts``/``ends`` are (K, 2) float64; ``(nx, ny)`` is the
    unit normal pointing into the page. Points whose outer sample lies within
    ``frame_margin`` of the frame (or beyond) count as frame, not as boundary.
    """
    h, w = gray.shape
    k = starts.shape[0]
    out = np.zeros((k, 2))
    wide = np.empty(samples)
    near = np.empty(samples)
    for i in range(k):
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
            wide[n_use] = _bilinear(gray, ix, iy) - _bilinear(gray, ox, oy)
            near[n_use] = (_bilinear(gray, px + 2 * nx, py + 2 * ny)
                           - _bilinear(gray, px - 2 * nx, py - 2 * ny))
            n_use += 1
        if n_use > 0:
            sign = 1.0 if np.median(wide[:n_use]) >= 0 else -1.0
            hits = 0
            for j in range(n_use):
                a = wide[j] * sign
                if a > min_step and near[j] * sign > 0.5 * a:
                    hits += 1
            out[i, 0] = hits / samples
        out[i, 1] = n_frame / samples
    return out
