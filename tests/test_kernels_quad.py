"""The detector's boundary-support kernel against a plain NumPy/SciPy statement of its rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from imgtool.kernels._quad import _median_sign, boundary_share

OFFSET, MIN_STEP, MARGIN, FAR_SHARE, SAMPLES = 5.0, 8.0, 1.0, 0.3, 40


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=60)
       .map(lambda v: np.round(np.array(v), 1)))  # rounding makes ties and zeros common
def test_median_sign_is_the_sign_of_the_median(values):
    assert _median_sign(values) == (1.0 if np.median(values) >= 0 else -1.0)


def _reference(planes, start, end, normal):
    """The rule in the kernel's docstring, point by point, with SciPy's bilinear samples."""
    _, h, w = planes.shape
    n = np.asarray(normal)

    def at(c, p):
        return float(ndimage.map_coordinates(planes[c].astype(np.float64), [[p[1]], [p[0]]],
                                             order=1)[0])

    frame, used = 0, []
    for j in range(SAMPLES):
        t = 0.05 + 0.9 * j / (SAMPLES - 1)
        p = start + t * (end - start)
        o, i = p - OFFSET * n, p + OFFSET * n
        if not (MARGIN <= o[0] <= w - 1 - MARGIN and MARGIN <= o[1] <= h - 1 - MARGIN):
            frame += 1
            continue
        if not (0 <= p[0] <= w - 1 and 0 <= p[1] <= h - 1 and 0 <= i[0] <= w - 1
                and 0 <= i[1] <= h - 1):
            continue
        used.append((p, [at(c, i) - at(c, o) for c in range(3)], at(0, i), at(0, o)))
    if not used:
        return np.array([0.0, frame / SAMPLES, 0.0, 0.0])
    signs = [1.0 if np.median([u[1][c] for u in used]) >= 0 else -1.0 for c in range(3)]
    hits = []
    for p, wide, inner, outer in used:
        f0, f1 = p - 2 * OFFSET * n, p + 2 * OFFSET * n
        far_inside = all(0 <= q[0] <= w - 1 and 0 <= q[1] <= h - 1 for q in (f0, f1))
        for c in range(3):
            a = wide[c] * signs[c]
            if a <= MIN_STEP:
                continue
            if (at(c, p + 2 * n) - at(c, p - 2 * n)) * signs[c] <= 0.5 * a:
                continue
            if far_inside and (at(c, f1) - at(c, f0)) * signs[c] <= FAR_SHARE * a:
                continue
            hits.append((inner, outer))
            break
    if not hits:
        return np.array([0.0, frame / SAMPLES, 0.0, 0.0])
    inner, outer = np.mean(hits, axis=0)
    return np.array([len(hits) / SAMPLES, frame / SAMPLES, inner, outer])


def _scene(seed):
    """A bright page with a coloured band and a ruling on a darker, noisy desk."""
    rng = np.random.default_rng(seed)
    h, w = 120, 160
    grey = np.full((h, w), 70.0) + rng.normal(0, 3, (h, w))
    grey[25:100, 30:130] += 130
    grey[60:62, 30:130] -= 90  # a thin ruling inside the page
    a = np.zeros((h, w))
    a[25:100, 100:130] = 40  # a colour step without a grey step
    b = rng.normal(0, 2, (h, w))
    planes = np.stack([ndimage.gaussian_filter(x, 1.5) for x in (grey, a, b)])
    return planes.astype(np.float32)


@pytest.mark.parametrize("seed", range(4))
def test_boundary_share_follows_its_rule(seed):
    planes = _scene(seed)
    rng = np.random.default_rng(100 + seed)
    starts = rng.uniform([-10, -10], [170, 130], (60, 2))
    ends = starts + rng.normal(0, 60, (60, 2))
    # and segments along the page's real sides and the ruling
    starts = np.vstack([starts, [[30, 25], [129.5, 25], [30, 61], [100, 30]]])
    ends = np.vstack([ends, [[129.5, 25], [129.5, 99.5], [129.5, 61], [100, 95]]])
    for normal in [(0.0, 1.0), (-1.0, 0.0), (0.6, 0.8)]:
        got = boundary_share(planes, np.ascontiguousarray(starts), np.ascontiguousarray(ends),
                             normal[0], normal[1], SAMPLES, OFFSET, MIN_STEP, MARGIN, FAR_SHARE)
        want = np.array([_reference(planes, s, e, normal)
                         for s, e in zip(starts, ends, strict=True)])
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)
    # the page's top side is a boundary along all of it; the ruling is not
    top = boundary_share(planes, starts[-4:-3].copy(), ends[-4:-3].copy(), 0.0, 1.0, SAMPLES,
                         OFFSET, MIN_STEP, MARGIN, FAR_SHARE)
    ruling = boundary_share(planes, starts[-2:-1].copy(), ends[-2:-1].copy(), 0.0, 1.0,
                            SAMPLES, OFFSET, MIN_STEP, MARGIN, FAR_SHARE)
    assert top[0, 0] == 1.0 and ruling[0, 0] == 0.0
