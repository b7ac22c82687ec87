"""Candidate pages: quadrilaterals proposed by several generators, before any scoring.

Detection's third layer (on :mod:`~imgtool.scan.quad`): :func:`~imgtool.scan.detection.find_page`
calls these on the photo's detection-scale copy, then snaps and scores what they propose.

- ``edges``/``faint``: our Gaussian and automatic Canny (:func:`edge_map`, at full and lowered
  thresholds), closed to bridge gaps, then contours (:func:`contour_candidates`);
- ``bright``/``light``: the page as the bright, unsaturated region (Otsu on a "paper" channel,
  and on grey; :func:`bright_masks`, :func:`mask_candidates`);
- ``lines``: the strongest straight edges (Hough) intersected into quadrilaterals, for pages
  whose outline is broken (a hand over a corner, low contrast on one side); the frame's own
  borders are among the lines, for a page that runs off the photo (:func:`line_candidates`).

Each contour becomes a quadrilateral (approxPolyDP with an adaptive epsilon, ``*-poly``, or its
convex hull simplified to four corners; a hull that comes down to a pentagon may be a page with
a corner cut off, by the frame or by low contrast, so the corner is also restored where the two
cut sides meet, ``*-cut``). :func:`frame_variants` proposes the winner with a side moved onto
the frame; :func:`dedupe` orders corners and drops near-copies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from imgtool.scan.quad import clockwise_convex, cross, lines_meet, order_corners, polygon_area

#: Smallest page, as a fraction of the photo's area: smaller outlines are not proposed (and
#: detection scores smaller quads 0). A page seen from afar on a desk top whose edges are in
#: the frame covers 3-5% of the photo; detection treats pages below SMALL_PAGE with care.
MIN_AREA = 0.02
#: Gaussian sigma (detection pixels) of the edge map: a page's outline, not paper grain or text.
EDGE_SIGMA = 2.0
#: Side (pixels) of the closing that bridges small gaps in an outline before contours.
CLOSE_SIZE = 5
#: Contours turned into quads per edge map or mask, largest first (a page is a large contour).
CONTOURS_KEPT = 8
#: approxPolyDP tolerances tried, as a share of the perimeter, smallest first.
APPROX_EPSILONS = (0.01, 0.015, 0.02, 0.03, 0.04, 0.06, 0.08)
#: "Paper" channel: value minus saturation over this (paper is bright and unsaturated).
PAPER_SATURATION_DIVISOR = 2
#: Gaussian sigma (detection pixels) of the paper channel before Otsu: text is not a hole.
PAPER_SIGMA = 3
#: Opening and closing of the masks: a square of the image's short side over this (at least
#: :data:`MASK_MIN_KERNEL`), to drop specks and fill text.
MASK_KERNEL_DIVISOR = 60
MASK_MIN_KERNEL = 3
#: Hough accumulator's resolution: distance (pixels) and angle (radians, 1 degree).
HOUGH_RHO, HOUGH_THETA = 1, np.pi / 180
#: Hough: votes for a line, least length (share of the short side, as a divisor), largest gap
#: bridged (pixels).
HOUGH_VOTES = 60
HOUGH_MIN_LENGTH_DIVISOR = 6
HOUGH_MAX_GAP = 20
#: Longest Hough segments kept: a page's sides are among the longest lines.
HOUGH_SEGMENTS = 40
#: Outermost lines tried for each side (top, bottom, left, right); they are combined all ways.
LINES_PER_SIDE = 3
#: A side this close to the frame (detection pixels, both ends) and this parallel to it
#: (degrees) may be the page's own edge running along or off the frame.
FRAME_NEAR, FRAME_PARALLEL = 48.0, 8.0
#: Candidates whose corners all lie within this many pixels of a kept one are the same page.
DEDUPE_PX = 4


@dataclass
class Candidate:
    """A quadrilateral (TL, TR, BR, BL, detection-scale pixels), where it came from, its score."""

    quad: np.ndarray
    source: str
    score: float = 0.0
    support: tuple = ()
    ordered: bool = False  #: corners known to be in TL, TR, BR, BL order


def edge_map(gray: np.ndarray, scale: float = 1.0,
             thresholds: tuple[float, float] | None = None) -> np.ndarray:
    """Our automatic Canny; ``scale`` < 1 lowers both thresholds to catch faint outlines.
    ``thresholds`` are the automatic ones if already found for this grey
    (:func:`auto_edge_map`), not found again."""
    from imgtool.edges import auto_thresholds, detect_edges

    if scale == 1.0 and thresholds is None:
        return auto_edge_map(gray)[0]
    if thresholds is None:
        thresholds = auto_thresholds(gray, sigma=EDGE_SIGMA)  # as detect_edges finds them
    low, high = thresholds
    edges, _ = detect_edges(gray, method=None, low=low * scale, high=high * scale,
                            sigma=EDGE_SIGMA)
    return edges


def auto_edge_map(gray: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """Our automatic Canny's edge map and the thresholds it chose."""
    from imgtool.edges import detect_edges

    edges, info = detect_edges(gray, sigma=EDGE_SIGMA)
    return edges, (info["low"], info["high"])


def contour_candidates(edges: np.ndarray, name: str) -> list[Candidate]:
    """Quads from the contours of an edge map, closed first to bridge small gaps."""
    closed = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, np.ones((CLOSE_SIZE, CLOSE_SIZE), np.uint8))
    contours, _ = cv2.findContours(closed, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    return _quads_from_contours(contours, edges.shape, name)


def bright_masks(bgr: np.ndarray):
    """Masks of the bright, unsaturated region (paper), by Otsu at two smoothing scales."""
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    paper = cv2.subtract(hsv[:, :, 2], hsv[:, :, 1] // PAPER_SATURATION_DIVISOR)
    paper = cv2.GaussianBlur(paper, (0, 0), PAPER_SIGMA)
    for name, channel in (("bright", paper), ("light", cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))):
        _, mask = cv2.threshold(channel, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
        k = max(MASK_MIN_KERNEL, min(bgr.shape[:2]) // MASK_KERNEL_DIVISOR) | 1  # odd
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
        yield mask, name


#: Tint masks: a colour plane's 1st-99th percentile spread (plane units) below which it holds
#: no region worth splitting, and the diameter (detection pixels) of the opening and closing
#: that clear thin things (a cable, a pen, a line of text) off it before Otsu.
TINT_MIN_SPREAD = 8.0
TINT_CLEAN = 15
#: The percentiles that spread is taken between (a few outlying pixels do not stretch it),
#: on every this-many-th pixel each way (enough for percentiles, and fast).
TINT_PERCENTILES = (1, 99)
TINT_SAMPLE_STEP = 4


def tint_masks(planes: np.ndarray):
    """Masks of each side of Otsu's split of the two colour planes (CIELAB a* and b*): a
    white page on a light desk of another tint (a pinkish desk under a bluish white balance)
    is hardly a step in grey but a region in colour. Thin things are cleared off each plane
    first (greyscale opening and closing), so that a cable across the page does not cut it
    in two."""
    square = np.ones((TINT_CLEAN, TINT_CLEAN), np.uint8)  # separable: fast
    k = max(MASK_MIN_KERNEL, min(planes.shape[1:]) // MASK_KERNEL_DIVISOR) | 1  # odd
    for name, plane in (("tint-a", planes[1]), ("tint-b", planes[2])):
        lo, hi = np.percentile(plane[::TINT_SAMPLE_STEP, ::TINT_SAMPLE_STEP], TINT_PERCENTILES)
        if hi - lo < TINT_MIN_SPREAD:
            continue
        level = cv2.convertScaleAbs(plane, alpha=255.0 / (hi - lo), beta=-lo * 255.0 / (hi - lo))
        level = cv2.morphologyEx(cv2.morphologyEx(level, cv2.MORPH_OPEN, square),
                                 cv2.MORPH_CLOSE, square)
        _, mask = cv2.threshold(level, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
        for side in (mask, 255 - mask):
            side = cv2.morphologyEx(side, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
            yield side, name


def mask_candidates(mask: np.ndarray, name: str) -> list[Candidate]:
    """Quads from the outer contours of a mask (:func:`bright_masks`)."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return _quads_from_contours(contours, mask.shape, name)


def line_candidates(edges: np.ndarray) -> list[Candidate]:
    """Quadrilaterals from the strongest lines near each side of the photo."""
    h, w = edges.shape
    lines = cv2.HoughLinesP(edges, HOUGH_RHO, HOUGH_THETA, threshold=HOUGH_VOTES,
                            minLineLength=min(h, w) // HOUGH_MIN_LENGTH_DIVISOR,
                            maxLineGap=HOUGH_MAX_GAP)
    if lines is None:
        return []
    segs = lines.reshape(-1, 4).astype(np.float64)
    lengths = np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1])
    order = np.argsort(-lengths)[:HOUGH_SEGMENTS]
    segs = segs[order]
    horiz, vert = [], []
    for x1, y1, x2, y2 in segs:
        angle = math.degrees(math.atan2(y2 - y1, x2 - x1)) % 180
        # nearer horizontal than vertical: within 45 degrees of 0 or 180
        (horiz if angle < 45 or angle > 135 else vert).append((x1, y1, x2, y2))
    out = []
    top = sorted(horiz, key=lambda s: (s[1] + s[3]) / 2)
    side = sorted(vert, key=lambda s: (s[0] + s[2]) / 2)
    picks_h = _extremes(top, LINES_PER_SIDE)
    picks_v = _extremes(side, LINES_PER_SIDE)
    # a page running off the photo is bounded there by the frame
    picks_h = (picks_h[0] + [(0.0, 0.0, w - 1.0, 0.0)],
               picks_h[1] + [(0.0, h - 1.0, w - 1.0, h - 1.0)])
    picks_v = (picks_v[0] + [(0.0, 0.0, 0.0, h - 1.0)],
               picks_v[1] + [(w - 1.0, 0.0, w - 1.0, h - 1.0)])
    for t in picks_h[0]:
        for b in picks_h[1]:
            for left in picks_v[0]:
                for r in picks_v[1]:
                    quad = _quad_from_lines(t, r, b, left)
                    if quad is not None:
                        # top meets left at TL, and so on: ordered if convex and clockwise
                        out.append(Candidate(quad, "lines", ordered=clockwise_convex(quad)))
    return out


def frame_variants(quad: np.ndarray, shape) -> list[np.ndarray]:
    """The quad with one side moved out onto a nearby, nearly parallel border of the frame:
    a printed band across the page can be a stronger step than where the page meets the
    frame, and only the score of the whole quad can tell them apart."""
    h, w = shape
    borders = {"top": (0.0, 0.0, w - 1.0, 0.0), "bottom": (0.0, h - 1.0, w - 1.0, h - 1.0),
               "left": (0.0, 0.0, 0.0, h - 1.0), "right": (w - 1.0, 0.0, w - 1.0, h - 1.0)}
    out = []
    for i in range(4):
        p0, p1 = quad[i], quad[(i + 1) % 4]
        for name, line in borders.items():
            vertical = name in ("left", "right")
            coord = 0 if vertical else 1
            edge = line[coord]
            if max(abs(p0[coord] - edge), abs(p1[coord] - edge)) > FRAME_NEAR:
                continue
            d = p1 - p0
            angle = math.degrees(math.atan2(abs(d[1 - coord]), abs(d[coord]) + 1e-12))
            if 90.0 - angle > FRAME_PARALLEL:  # angle between the side and the border
                continue
            if max(abs(p0[coord] - edge), abs(p1[coord] - edge)) < 1.0:
                continue  # already on it
            a = lines_meet((*quad[i - 1], *p0), line)
            b = lines_meet((*p1, *quad[(i + 2) % 4]), line)
            if a is None or b is None:
                continue
            variant = quad.copy()
            variant[i], variant[(i + 1) % 4] = a, b
            out.append(variant)
    return out


#: The inside of a quad is looked at alone (:func:`inner_candidates`) this many detection
#: pixels in from its sides: its own outline is no part of what lies on it.
INNER_MARGIN = 6
#: ... with our automatic Canny's thresholds and this share of them (detection's FAINT_SCALE).
INNER_FAINT_SCALE = 0.4
#: ... on a copy reduced this many times (a page on a desk top is large enough; snapping
#: restores the precision), for speed.
INNER_REDUCE = 2


def inner_candidates(gray: np.ndarray, quad: np.ndarray, name: str) -> list[Candidate]:
    """Quads from the contours of our automatic Canny (at lowered thresholds) on
    the inside of a convex quad alone (the rest set to the inside's median grey): a white
    page on a light desk top is a faint step that the thresholds set by the desk top's own
    strong outline miss."""
    mask = np.zeros(gray.shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(quad).astype(np.int32), 255)
    mask = cv2.erode(mask, np.ones((2 * INNER_MARGIN + 1,) * 2, np.uint8))
    if not mask.any():
        return []
    x, y, w, h = cv2.boundingRect(mask)
    crop = gray[y:y + h, x:x + w].copy()
    inside = mask[y:y + h, x:x + w] > 0
    crop[~inside] = np.uint8(np.median(crop[inside]))
    crop = cv2.resize(crop, (max(1, w // INNER_REDUCE), max(1, h // INNER_REDUCE)),
                      interpolation=cv2.INTER_AREA)
    # the print on the page can set the thresholds above the page's faint outline: lowered
    # thresholds (as the "faint" candidates'). With the same smoothing, Canny's edges at lower
    # thresholds hold those at higher ones, so this is also the map at the thresholds found.
    edges = edge_map(crop, scale=INNER_FAINT_SCALE)
    out = contour_candidates(edges, name)
    for c in out:
        c.quad = c.quad * INNER_REDUCE + (INNER_REDUCE - 1) / 2 + [x, y]
    return out


def dedupe(candidates: list[Candidate]) -> list[Candidate]:
    """Corners in TL, TR, BR, BL order; the first of candidates within :data:`DEDUPE_PX` pixels
    of another."""
    out: list[Candidate] = []
    kept = np.empty((len(candidates), 4, 2))
    for c in candidates:
        if not c.ordered:
            try:
                c.quad = order_corners(c.quad)
            except ValueError:
                continue
            c.ordered = True
        if out and (np.abs(kept[:len(out)] - c.quad).max(axis=(1, 2)) < DEDUPE_PX).any():
            continue
        kept[len(out)] = c.quad
        out.append(c)
    return out


def _quads_from_contours(contours, shape, name: str) -> list[Candidate]:
    """Quads from the :data:`CONTOURS_KEPT` largest contours whose hull covers at least
    :data:`MIN_AREA` of the image: from the hull (and its restored corners) and from
    approxPolyDP."""
    h, w = shape
    min_area = MIN_AREA * h * w
    out = []
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:CONTOURS_KEPT]:
        hull = cv2.convexHull(contour)
        if cv2.contourArea(hull) < min_area:
            continue
        if len(hull) >= 4:
            quad, *cuts = _hull_to_quads(hull.reshape(-1, 2).astype(np.float64))
            out.append(Candidate(quad, name))
            out += [Candidate(cut, name + "-cut") for cut in cuts]
        approx = _approx_quad(contour)
        if approx is not None:
            out.append(Candidate(approx, name + "-poly"))
    return out


def _approx_quad(contour) -> np.ndarray | None:
    """approxPolyDP with an adaptive epsilon: the smallest that leaves four vertices."""
    perimeter = cv2.arcLength(contour, True)
    for frac in APPROX_EPSILONS:
        approx = cv2.approxPolyDP(contour, frac * perimeter, True)
        if len(approx) == 4 and cv2.isContourConvex(approx):
            return approx.reshape(4, 2).astype(np.float64)
        if len(approx) < 4:
            break
    return None


def _hull_to_quads(hull: np.ndarray) -> list[np.ndarray]:
    """Four-cornered versions of a convex polygon of at least four vertices: the first by
    dropping vertices, the others by restoring a cut-off corner.

    The polygon is reduced, each time dropping the vertex whose removal changes the area
    least. At five vertices there is a second way to four: a page whose corner is cut off (by
    the frame, a hand, a clip) is a pentagon whose short fifth side joins two of the page's
    sides, and the page's corner is where those sides meet beyond it. Those quads are given
    too, one for each side of the pentagon whose neighbours meet beyond it; the scoring
    decides between them all."""
    pts = np.asarray(hull, np.float64)
    while len(pts) > 5:
        pts = np.delete(pts, _least_vertex(pts), axis=0)
    out = []
    if len(pts) == 5:
        out = _restore_corners(pts)
        pts = np.delete(pts, _least_vertex(pts), axis=0)
    return [pts] + out


def _least_vertex(pts: np.ndarray) -> int:
    """The vertex whose triangle with its two neighbours has the least area."""
    prev, nxt = np.roll(pts, 1, axis=0), np.roll(pts, -1, axis=0)
    cross = ((pts[:, 0] - prev[:, 0]) * (nxt[:, 1] - prev[:, 1])
             - (pts[:, 1] - prev[:, 1]) * (nxt[:, 0] - prev[:, 0]))
    return int(np.argmin(np.abs(cross)))


def _restore_corners(pts) -> list[np.ndarray]:
    """The quads from a convex pentagon (clockwise or not) with one side removed and its two
    neighbours extended to meet beyond it, for each side where they do, adding less than the
    pentagon's own area (nearly parallel neighbours meet far off: no cut corner)."""
    out = []
    area = polygon_area(pts)
    for i in range(5):
        a, b = pts[i], pts[(i + 1) % 5]  # the side to remove
        meet = lines_meet((*pts[i - 1], *a), (*b, *pts[(i + 2) % 5]))
        # beyond the side: on the other side of it from the rest of the pentagon
        if meet is None or cross(a, b, meet) * cross(a, b, pts[(i + 2) % 5]) >= 0:
            continue
        if abs(cross(a, b, meet)) / 2 >= area:
            continue
        out.append(np.array([meet if j == i else pts[j] for j in range(5)
                             if j != (i + 1) % 5], np.float64))
    return out


def _extremes(segs, k):
    """The first and the last ``k`` of sorted segments (the outermost on each side), or none
    if there are fewer than two."""
    if len(segs) < 2:
        return [], []
    return segs[:k], segs[-k:]


def _quad_from_lines(top, right, bottom, left) -> np.ndarray | None:
    """The corners where four segments' lines meet, TL, TR, BR, BL; None if two are parallel."""
    corners = [lines_meet(top, left), lines_meet(top, right), lines_meet(bottom, right),
               lines_meet(bottom, left)]
    if any(c is None for c in corners):
        return None
    return np.array(corners, np.float64)
