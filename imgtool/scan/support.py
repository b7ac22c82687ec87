"""Boundary evidence: how much of a side of a candidate page is a real page boundary.

Detection's second layer (after :mod:`~imgtool.scan.quad`): the candidate generators propose
quadrilaterals, and :mod:`~imgtool.scan.detection` snaps and scores them by what this module
measures along their sides; the page-block rules (:mod:`~imgtool.scan.block`) use it too.

The evidence is read on three planes (:func:`evidence_planes`): grey, and CIELAB's a* and b*
from our kernel (:mod:`imgtool.kernels._lab`), so that a page as bright as the desk but of
another colour still has a boundary. A boundary is a step of one consistent sign across the
side, in grey or in a colour plane, localised at it (a line of text has paper on both sides)
and not a thin line (a table's ruling); the per-point test is the kernel
:func:`imgtool.kernels._quad.boundary_share`.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Weight of the colour planes against grey when looking for a page's outline.
CHROMA_GAIN = 2.0
#: Gaussian sigma (detection pixels) of the smoothing before the planes: JPEG blocks and paper
#: grain are not boundaries.
PLANES_SIGMA = 1.5
#: Offset (detection pixels) of the two samples either side of a page boundary.
CONTRAST_OFFSET = 5.0
#: Grey-level step across a side that counts as a boundary.
CONTRAST_STEP = 8.0
#: A boundary is a step, not a line: the step between samples twice as far out must keep
#: at least this share of it (a thin dark line, such as a table's ruling, has paper both sides).
FAR_SHARE = 0.3
#: What a side whose grey step goes against the rest of the quad's counts for.
REVERSED_CREDIT = 0.5
#: Points sampled along each side when a whole quad is judged.
SIDE_SAMPLES = 80
#: Points sampled along each of the many shifted sides tried when snapping (cheaper, coarser).
SHIFTED_SAMPLES = 40
#: An outer sample within this many pixels of the frame (or beyond) counts as the frame.
FRAME_MARGIN = 1.0
#: Share of a side left out at each end when looking along the frame: the corners belong to
#: the neighbouring sides.
FRAME_END_SHARE = 0.05
#: Along the frame, the inside must differ from the background by at least this share of the
#: page's own step (and at least :data:`CONTRAST_STEP`) to count as page.
PAGELIKE_SHARE = 0.5


def evidence_planes(bgr: np.ndarray) -> np.ndarray:
    """(3, H, W) float32, lightly smoothed: grey, and the two colour-opponent planes of
    CIELAB (a* + 128, b* + 128) times :data:`CHROMA_GAIN`."""
    from imgtool.kernels import lab
    from imgtool.kernels._tables import lab_tables

    smooth = cv2.GaussianBlur(bgr, (0, 0), PLANES_SIGMA)
    out = np.empty((3, *bgr.shape[:2]), np.float32)
    out[0] = cv2.cvtColor(smooth, cv2.COLOR_BGR2GRAY)
    lab.lab_ab_u8(np.ascontiguousarray(smooth), *lab_tables(), CHROMA_GAIN, out)
    return out


def boundary_support(quad: np.ndarray, planes: np.ndarray, samples: int = SIDE_SAMPLES):
    """Per side of a clockwise quad: the share that is a page boundary, and the share that
    runs along or beyond the frame *with page inside it*.

    A boundary is a step of one consistent sign across the side, in grey or in a colour plane
    (see :mod:`imgtool.kernels._quad`), localised at it (a line of text has edges but paper on
    both sides) and not a thin line (a table's ruling). Where a
    side runs off the photo there is no edge to see; it counts as the frame only where the
    grey just inside it is page rather than background, judged by the grey either side of the
    quad's real boundaries (a frame side across the desk is not the page leaving the photo).
    """
    stats = quad_stats(quad, planes, samples)
    real, frame = stats[:, 0].copy(), stats[:, 1].copy()
    hits = real > 0
    if not hits.any():
        return real, np.zeros(4)
    weights = real[hits]
    page = float(np.average(stats[hits, 2], weights=weights))
    background = float(np.average(stats[hits, 3], weights=weights))
    # a page is brighter (or darker) than what surrounds it all round: a side whose step
    # clearly goes the other way is most likely a line inside the page or the background
    steps = stats[:, 2] - stats[:, 3]
    if abs(page - background) > CONTRAST_STEP:
        reversed_ = hits & (np.abs(steps) > CONTRAST_STEP) & (
            np.sign(steps) != np.sign(page - background))
        real[reversed_] *= REVERSED_CREDIT
    for i in np.flatnonzero(frame > 0):
        frame[i] = _page_along_frame(quad[i], quad[(i + 1) % 4], planes, samples, page,
                                     background)
    return real, frame


def quad_stats(quad: np.ndarray, planes: np.ndarray, samples: int = SIDE_SAMPLES) -> np.ndarray:
    """(4, 4): :func:`side_stats` of each side of a clockwise quad (side i from corner i to
    corner i + 1)."""
    return np.array([side_stats(quad[i], quad[(i + 1) % 4], planes, samples) for i in range(4)])


def side_stats(p0, p1, planes, samples: int) -> np.ndarray:
    """One side's share of boundary, share of frame, and the mean grey inside and outside
    its boundary points (:func:`imgtool.kernels._quad.boundary_share`); zeros if shorter than
    a pixel."""
    d = p1 - p0
    length = float(np.hypot(*d))
    if length < 1:
        return np.zeros(4)
    return _shares(planes, p0[None], p1[None], d, length, samples)[0]


def side_support_many(starts, ends, normal, planes,
                      samples: int = SHIFTED_SAMPLES) -> np.ndarray:
    """Boundary share (no frame credit) of many nearly parallel sides at once."""
    return side_stats_many(starts, ends, normal, planes, samples)[:, 0]


def side_stats_many(starts, ends, normal, planes, samples: int = SHIFTED_SAMPLES) -> np.ndarray:
    """(K, 4): :func:`side_stats` of many nearly parallel sides at once (``normal`` into the
    page)."""
    along = np.array([normal[1], -normal[0]])  # the direction whose normal is ``normal``
    return _shares(planes, starts, ends, along, 1.0, samples)


def mean_step(quad: np.ndarray, planes: np.ndarray, samples: int = SIDE_SAMPLES) -> float:
    """The grey step from outside into the clockwise quad across its boundaries, the sides
    weighted by how much of each is a boundary (0 if none is): positive for paper on a darker
    desk."""
    stats = quad_stats(quad, planes, samples)
    if stats[:, 0].sum() <= 0:
        return 0.0
    return float(np.average(stats[:, 2] - stats[:, 3], weights=stats[:, 0]))


def page_sign(quad: np.ndarray, planes: np.ndarray) -> float:
    """1 if the clockwise quad is lighter inside than outside (by more than
    :data:`CONTRAST_STEP`) across at least three of its sides, -1 if darker across three, 0
    otherwise (a colourful page, lighter than the desk in places and darker in others)."""
    stats = quad_stats(quad, planes, SHIFTED_SAMPLES)
    step = np.where(stats[:, 0] > 0, stats[:, 2] - stats[:, 3], 0.0)
    for sign in (1.0, -1.0):
        if (step * sign > CONTRAST_STEP).sum() >= 3:
            return sign
    return 0.0


def _page_along_frame(p0, p1, planes, samples, page, background) -> float:
    """Share of a side's points whose outer sample is off the frame and whose inner sample is
    nearer the page's grey than the background's (and a clear step from the background)."""
    h, w = planes.shape[1:]
    d = p1 - p0
    normal = np.array([-d[1], d[0]]) / max(float(np.hypot(*d)), 1e-9)
    t = FRAME_END_SHARE + (1 - 2 * FRAME_END_SHARE) * np.arange(samples) / (samples - 1)
    pts = p0 + t[:, None] * d
    outer = pts - CONTRAST_OFFSET * normal
    off = ((outer[:, 0] < 1) | (outer[:, 1] < 1) | (outer[:, 0] > w - 2)
           | (outer[:, 1] > h - 2))
    # beyond the frame, look at the page where it leaves the photo
    inner = np.clip(pts + CONTRAST_OFFSET * normal, [2, 2], [w - 3, h - 3])
    if not off.any():
        return 0.0
    values = _sample(planes[0], inner[off])
    sign = 1.0 if page >= background else -1.0
    pagelike = ((values - background) * sign > max(CONTRAST_STEP,
                                                 PAGELIKE_SHARE * abs(page - background)))
    return float(pagelike.sum()) / samples


def _shares(planes, starts, ends, d, length, samples):
    """The kernel's per-side statistics for sides from ``starts`` to ``ends``, all in
    direction ``d`` of length ``length`` (only the normal ``d / length`` is used)."""
    from imgtool.kernels import quad as quad_kernels

    normal = np.array([-d[1], d[0]]) / length  # into the page for a clockwise quad
    return quad_kernels.boundary_share(
        planes, np.ascontiguousarray(starts, np.float64), np.ascontiguousarray(ends, np.float64),
        float(normal[0]), float(normal[1]), samples, CONTRAST_OFFSET, CONTRAST_STEP, FRAME_MARGIN,
        FAR_SHARE)


def _sample(img, pts):
    """Bilinear samples of ``img`` at (N, 2) points (clamped to the image)."""
    h, w = img.shape
    x = np.clip(pts[:, 0], 0, w - 1.001)
    y = np.clip(pts[:, 1], 0, h - 1.001)
    x0 = x.astype(int)
    y0 = y.astype(int)
    fx = x - x0
    fy = y - y0
    top = img[y0, x0] * (1 - fx) + img[y0, x0 + 1] * fx
    bottom = img[y0 + 1, x0] * (1 - fx) + img[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


#: How far beyond a corner each of its sides is followed, as a share of the side's length,
#: starting this many pixels past the corner (clear of the corner's blur).
BEYOND_SHARE = 0.15
BEYOND_GAP = 4.0


def beyond_corners(quad: np.ndarray, planes: np.ndarray) -> np.ndarray:
    """Per corner of a clockwise quad: how much of a boundary its sides go on being past it,
    the larger of the two (boundary share of the stretch :data:`BEYOND_SHARE` of the side
    long that continues the side straight on, past the corner).

    A page's sides end at its corners: past one lies the desk, or the sheet beneath askew.
    A quad cut out of a page by something lying across it (a cable, a pen, the edge of a
    shadow) has corners where the page's sides go straight on.

    Examples
    --------
    >>> photo = np.full((300, 400, 3), 60, np.uint8)
    >>> photo[50:250, 100:300] = 230
    >>> planes = evidence_planes(photo)
    >>> page = np.array([[99.5, 49.5], [299.5, 49.5], [299.5, 249.5], [99.5, 249.5]])
    >>> beyond_corners(page, planes).tolist()
    [0.0, 0.0, 0.0, 0.0]
    >>> top_half = np.array([[99.5, 49.5], [299.5, 49.5], [299.5, 150], [99.5, 150]])
    >>> beyond_corners(top_half, planes).round(1).tolist()
    [0.0, 0.0, 1.0, 1.0]
    """
    out = np.zeros(4)
    for i in range(4):
        corner = quad[i]
        for other in (quad[i - 1], quad[(i + 1) % 4]):
            d = corner - other
            length = float(np.hypot(*d))
            if length < 1:
                continue
            u = d / length
            start = corner + BEYOND_GAP * u
            end = corner + (BEYOND_GAP + BEYOND_SHARE * length) * u
            normal = np.array([-u[1], u[0]])
            out[i] = max(out[i], float(side_support_many(start[None], end[None], normal,
                                                         planes)[0]))
    return out
