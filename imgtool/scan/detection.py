"""Finding the page in a photo: candidate quadrilaterals from several generators, scored.

Detection runs on a copy whose long side is :data:`DETECT_SIDE` pixels. Candidates come from

- ``edges``: our Gaussian and automatic Canny, closed to bridge gaps, then contours;
- ``bright``: the page as the bright, unsaturated region (Otsu on a "paper" channel);
- ``lines``: the strongest straight edges (Hough) intersected into quadrilaterals, for pages
  whose outline is broken (a hand over a corner, low contrast on one side); the frame's own
  borders are among the lines, for a page that runs off the photo.

Each contour becomes a quadrilateral (approxPolyDP with an adaptive epsilon, or its convex
hull simplified to four corners; a hull that comes down to a pentagon may be a page with a
corner cut off, by the frame or by low contrast, so the corner is also restored where the two
cut sides meet). The most promising candidates have each side snapped, coarse
to fine, to the strongest nearby page boundary: a step of one sign across the side, in grey or
in colour (a page as bright as the desk but of another colour), localised at it (a line of
text has paper on both sides) and not a thin line (a table's ruling). The snapped candidates
are scored by the share of each side that is such a boundary, their area and corner angles; a
side running off the photo counts in part where the page, not the desk, meets the frame, and
a side whose grey step goes against the rest of the quad's counts half. The best one wins.

The edge map's contours go first, alone: when the best of them is a clear page (every side a
real boundary, paper brighter than all around it) it wins and the other generators are not
run; most photos of a page on a desk end there, at about a third of the cost.

Then each of the winner's sides near and nearly parallel to the frame is tried on the frame
(a printed band across a page that runs off the photo can be a stronger step than the frame),
kept if the whole quad scores better; a side lying on an open book's page block steps in
to the top page's own edge, and a side on the edge of a backing sheet steps in to the page's
(:mod:`imgtool.scan.block`).

The colour planes are CIELAB's a* and b*, from our kernel (:mod:`imgtool.kernels._lab`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from imgtool.scan.block import step_off_block, step_off_sheet
from imgtool.scan.geometry import _polygon_area, order_corners

#: Long side, in pixels, of the copy the page is searched on.
DETECT_SIDE = 1000
#: Smallest page, as a fraction of the photo's area.
MIN_AREA = 0.05
#: Candidates scoring below this are not pages.
MIN_SCORE = 0.35
#: Smallest and largest corner angle (degrees) of a plausible page in perspective.
ANGLE_RANGE = (30.0, 150.0)


@dataclass
class Candidate:
    """A quadrilateral (TL, TR, BR, BL, detection-scale pixels), where it came from, its score."""

    quad: np.ndarray
    source: str
    score: float = 0.0
    support: tuple = ()
    ordered: bool = False  #: corners known to be in TL, TR, BR, BL order


@dataclass
class Detection:
    """The page found in a photo."""

    corners: np.ndarray  #: (4, 2) float64, TL, TR, BR, BL in full-resolution pixels
    score: float  #: the winning candidate's score, 0..1
    source: str  #: the generator that proposed it
    candidates: list = field(default_factory=list)  #: every scored candidate (detection scale)
    scale: float = 1.0  #: full-resolution pixels per detection-scale pixel
    #: whether the first stage (the edge map's contours) found a clear page on its own
    quick: bool = False


def find_page(image: np.ndarray, *, debug: dict | None = None,
              reduced: int = 1) -> Detection | None:
    """Find the page in a photo.

    Parameters
    ----------
    image : numpy.ndarray
        The EXIF-upright photo, uint8, uint16 or float32; gray, BGR or BGRA.
    debug : dict, optional
        If given, intermediate pictures (name -> uint8 image) are stored into it.
    reduced : int
        ``image`` is the photo reduced this many times (its pixel i covering the photo's
        pixels ``reduced * i`` to ``reduced * (i + 1) - 1``, as a JPEG decoder's DCT scaling
        makes it: :attr:`imgtool.io.Photo.preview`); the corners are still given in the
        photo's pixels.

    Returns
    -------
    Detection or None
        The page's corners in full-resolution pixels, or None when no candidate is good
        enough.

    Examples
    --------
    >>> import numpy as np
    >>> photo = np.full((300, 400), 60, np.uint8)
    >>> photo[50:250, 100:300] = 230
    >>> found = find_page(photo)  # corners within a few pixels: scan() refines them
    >>> truth = [[99.5, 49.5], [299.5, 49.5], [299.5, 249.5], [99.5, 249.5]]
    >>> bool(np.abs(found.corners - truth).max() < 4)
    True
    >>> find_page(np.full((300, 400), 128, np.uint8)) is None
    True
    """
    small, scale = _downscale(_to_bgr8(image))
    scale *= reduced
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    edges = _edge_map(gray)
    planes = _planes(small)

    # First the contours of the edge map alone: when the best of them is a clear page, the
    # other generators could only offer the same outline (see CLEAR_SUPPORT).
    candidates = _dedupe(_contour_candidates(edges, "edges"))
    _prescore_all(candidates, planes)
    snapped: dict = {}
    ranked = _snap_and_score(_best_prescored(candidates, QUICK_SNAP), planes, snapped)
    quick = bool(ranked) and _clear_page(ranked[0], planes)
    if not quick:
        more = _contour_candidates(_edge_map(gray, scale=0.4), "faint")
        for mask, name in _bright_masks(small):
            more += _mask_candidates(mask, name)
        more += _line_candidates(edges)
        first = {id(c) for c in candidates}  # prescored already
        candidates = _dedupe(candidates + more)
        _prescore_all([c for c in candidates if id(c) not in first], planes)
        ranked = _snap_and_score(_worth_snapping(candidates), planes, snapped)
    candidates = ranked

    if debug is not None:
        debug["edges"] = edges
        debug["candidates"] = _draw_candidates(small, candidates[:12])
    if not candidates or candidates[0].score < MIN_SCORE:
        return None
    best = candidates[0]
    for quad in _frame_variants(best.quad, planes.shape[1:]):
        score, support = _score(quad, planes)
        if score > best.score:
            best.quad, best.score, best.support = quad, score, support
    best.quad = step_off_block(best.quad, planes)
    best.quad = step_off_sheet(best.quad, planes)
    corners = order_corners(best.quad * scale + (scale - 1) / 2)
    if debug is not None:
        debug["page"] = _draw_candidates(small, [best], thickness=3)
    return Detection(corners, float(best.score), best.source, candidates, scale, quick)


# --- preparation ------------------------------------------------------------------------


def _to_bgr8(image: np.ndarray) -> np.ndarray:
    img = image
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype != np.uint8:
        img = np.clip(np.nan_to_num(img.astype(np.float32)) * 255 + 0.5, 0, 255).astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return np.ascontiguousarray(img[:, :, :3])
    return img


def _downscale(image: np.ndarray) -> tuple[np.ndarray, float]:
    h, w = image.shape[:2]
    scale = max(h, w) / DETECT_SIDE
    if scale <= 1:
        return image, 1.0
    size = (max(1, round(w / scale)), max(1, round(h / scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return small, w / size[0]


#: Weight of the colour planes against grey when looking for a page's outline.
CHROMA_GAIN = 2.0


def _planes(bgr: np.ndarray) -> np.ndarray:
    """(3, H, W) float32, lightly smoothed: grey, and the two colour-opponent planes of
    CIELAB (a* + 128, b* + 128) times :data:`CHROMA_GAIN`."""
    from imgtool.kernels import lab
    from imgtool.kernels._tables import lab_tables

    smooth = cv2.GaussianBlur(bgr, (0, 0), 1.5)
    out = np.empty((3, *bgr.shape[:2]), np.float32)
    out[0] = cv2.cvtColor(smooth, cv2.COLOR_BGR2GRAY)
    lab.lab_ab_u8(np.ascontiguousarray(smooth), *lab_tables(), CHROMA_GAIN, out)
    return out


def _edge_map(gray: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Our automatic Canny; ``scale`` < 1 lowers both thresholds to catch faint outlines."""
    from imgtool.edges import detect_edges

    edges, info = detect_edges(gray, sigma=2.0)
    if scale != 1.0:
        edges, _ = detect_edges(gray, method=None, low=info["low"] * scale,
                                high=info["high"] * scale, sigma=2.0)
    return edges


# --- candidate generators -------------------------------------------------------------------


def _contour_candidates(edges: np.ndarray, name: str) -> list[Candidate]:
    closed = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    contours, _ = cv2.findContours(closed, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    return _quads_from_contours(contours, edges.shape, name)


def _bright_masks(bgr: np.ndarray):
    """Masks of the bright, unsaturated region (paper), by Otsu at two smoothing scales."""
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    paper = cv2.subtract(hsv[:, :, 2], hsv[:, :, 1] // 2)
    paper = cv2.GaussianBlur(paper, (0, 0), 3)
    for name, channel in (("bright", paper), ("light", cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))):
        _, mask = cv2.threshold(channel, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
        k = max(3, min(bgr.shape[:2]) // 60) | 1
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
        yield mask, name


def _mask_candidates(mask: np.ndarray, name: str) -> list[Candidate]:
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return _quads_from_contours(contours, mask.shape, name)


def _quads_from_contours(contours, shape, name: str) -> list[Candidate]:
    h, w = shape
    min_area = MIN_AREA * h * w
    out = []
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:8]:
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
    for frac in (0.01, 0.015, 0.02, 0.03, 0.04, 0.06, 0.08):
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
    area = _polygon_area(pts)
    for i in range(5):
        a, b = pts[i], pts[(i + 1) % 5]  # the side to remove
        meet = _meet((*pts[i - 1], *a), (*b, *pts[(i + 2) % 5]))
        # beyond the side: on the other side of it from the rest of the pentagon
        if meet is None or _cross(a, b, meet) * _cross(a, b, pts[(i + 2) % 5]) >= 0:
            continue
        if abs(_cross(a, b, meet)) / 2 >= area:
            continue
        out.append(np.array([meet if j == i else pts[j] for j in range(5)
                             if j != (i + 1) % 5], np.float64))
    return out


def _cross(a, b, c) -> float:
    return float((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))


def _line_candidates(edges: np.ndarray) -> list[Candidate]:
    """Quadrilaterals from the strongest lines near each side of the photo."""
    h, w = edges.shape
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=60,
                            minLineLength=min(h, w) // 6, maxLineGap=20)
    if lines is None:
        return []
    segs = lines.reshape(-1, 4).astype(np.float64)
    lengths = np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1])
    order = np.argsort(-lengths)[:40]
    segs = segs[order]
    horiz, vert = [], []
    for x1, y1, x2, y2 in segs:
        angle = math.degrees(math.atan2(y2 - y1, x2 - x1)) % 180
        (horiz if angle < 45 or angle > 135 else vert).append((x1, y1, x2, y2))
    out = []
    top = sorted(horiz, key=lambda s: (s[1] + s[3]) / 2)
    side = sorted(vert, key=lambda s: (s[0] + s[2]) / 2)
    picks_h = _extremes(top, 3)
    picks_v = _extremes(side, 3)
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
                        out.append(Candidate(quad, "lines", ordered=_clockwise_convex(quad)))
    return out


#: A side this close to the frame (detection pixels, both ends) and this parallel to it
#: (degrees) may be the page's own edge running along or off the frame.
FRAME_NEAR, FRAME_PARALLEL = 48.0, 8.0


def _frame_variants(quad: np.ndarray, shape) -> list[np.ndarray]:
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
            a = _meet((*quad[i - 1], *p0), line)
            b = _meet((*p1, *quad[(i + 2) % 4]), line)
            if a is None or b is None:
                continue
            variant = quad.copy()
            variant[i], variant[(i + 1) % 4] = a, b
            out.append(variant)
    return out


def _clockwise_convex(quad: np.ndarray) -> bool:
    """Whether four points make a convex quadrilateral, clockwise on screen (y down)."""
    d = quad[_NEXT] - quad
    turns = d[:, 0] * d[_NEXT, 1] - d[:, 1] * d[_NEXT, 0]
    return bool((turns > 0).all())


_NEXT = np.array([1, 2, 3, 0])  # the next corner of a quad


def _extremes(segs, k):
    if len(segs) < 2:
        return [], []
    return segs[:k], segs[-k:]


def _quad_from_lines(top, right, bottom, left) -> np.ndarray | None:
    corners = [_meet(top, left), _meet(top, right), _meet(bottom, right), _meet(bottom, left)]
    if any(c is None for c in corners):
        return None
    return np.array(corners, np.float64)


def _meet(s1, s2):
    x1, y1, x2, y2 = s1
    x3, y3, x4, y4 = s2
    d = (x1 - x2) * (y3 - y4) - (y1 - y2) * (x3 - x4)
    if abs(d) < 1e-9:
        return None
    a = x1 * y2 - y1 * x2
    b = x3 * y4 - y3 * x4
    return ((a * (x3 - x4) - (x1 - x2) * b) / d, (a * (y3 - y4) - (y1 - y2) * b) / d)


def _dedupe(candidates: list[Candidate]) -> list[Candidate]:
    """Corners in TL, TR, BR, BL order; the first of candidates within 4 pixels of another."""
    out: list[Candidate] = []
    kept = np.empty((len(candidates), 4, 2))
    for c in candidates:
        if not c.ordered:
            try:
                c.quad = order_corners(c.quad)
            except ValueError:
                continue
            c.ordered = True
        if out and (np.abs(kept[:len(out)] - c.quad).max(axis=(1, 2)) < 4).any():
            continue
        kept[len(out)] = c.quad
        out.append(c)
    return out


# --- scoring ----------------------------------------------------------------------------------

#: How many candidates are snapped to the edges and scored in full (snapping is the cost).
SNAP_CANDIDATES = 10


def _prescore(quad: np.ndarray, planes: np.ndarray) -> tuple[float, tuple]:
    """A cheap ranking before snapping: plausibility and a rough boundary share."""
    h, w = planes.shape[1:]
    area = _polygon_area(quad) / (h * w)
    if area < MIN_AREA or _outside_fraction(quad, w, h) > 0.15:
        return 0.0, ()
    real, frame = _support(quad, planes)
    sides = real + FRAME_CREDIT * frame
    return float(sides.mean() * (0.75 + 0.25 * math.sqrt(min(area, 1.0)))), ()


def _worth_snapping(candidates: list[Candidate]) -> list[Candidate]:
    """The best :data:`SNAP_CANDIDATES` by prescore, and each generator's best (the quads
    with a restored corner, ``*-cut``, count as one generator)."""
    def generator(c):
        return "cut" if c.source.endswith("-cut") else c.source

    ranked = _best_prescored(candidates, len(candidates))
    keep = ranked[:SNAP_CANDIDATES]
    for c in ranked[SNAP_CANDIDATES:]:
        if all(generator(k) != generator(c) for k in keep):
            keep.append(c)
    return keep


def _prescore_all(candidates: list[Candidate], planes: np.ndarray) -> None:
    for c in candidates:
        c.score, c.support = _prescore(c.quad, planes)


def _best_prescored(candidates: list[Candidate], k: int) -> list[Candidate]:
    """The ``k`` best candidates by prescore (those above zero), best first."""
    ranked = sorted((c for c in candidates if c.score > 0), key=lambda c: c.score, reverse=True)
    return ranked[:k]


def _snap_and_score(candidates: list[Candidate], planes: np.ndarray,
                    done: dict) -> list[Candidate]:
    """Snapped and scored copies of the candidates, near-duplicates dropped, best first.
    ``done`` keeps each candidate's snapped copy (by ``id``) so none is snapped twice."""
    out = []
    for c in candidates:
        if id(c) not in done:
            quad = _snap(c.quad, planes)
            score, support = _score(quad, planes)
            done[id(c)] = Candidate(quad, c.source, score, support, ordered=True)
        out.append(done[id(c)])
    out = _dedupe(out)
    out.sort(key=lambda c: c.score, reverse=True)
    return out


#: The first stage snaps this many of the edge map's contour candidates.
QUICK_SNAP = 2
#: A first-stage winner is final when each of its sides is at least this share of real
#: boundary (the frame's part credit not counted), with the page brighter than what lies
#: outside on every side.
CLEAR_SUPPORT = 0.9


def _clear_page(best: Candidate, planes: np.ndarray) -> bool:
    """Whether the first stage's winner is clear enough to be final: every side a real
    boundary over most of its length, and the inside brighter than the outside all round (a
    paper page on a darker desk; a dark picture printed on a faint page is the other way).

    Measured on 390 generated and 13 real photos: wherever this held, the full search found
    the same page (IoU within 0.0013 of it after refinement, either way)."""
    if best.score < MIN_SCORE or not best.support or min(best.support) < CLEAR_SUPPORT:
        return False
    stats = np.array([_side_stats(best.quad[i], best.quad[(i + 1) % 4], planes, 80)
                      for i in range(4)])
    real, inside, outside = stats[:, 0], stats[:, 2], stats[:, 3]
    return bool((real >= CLEAR_SUPPORT).all() and (inside - outside > CONTRAST_STEP).all())


def _score(quad: np.ndarray, planes: np.ndarray) -> tuple[float, tuple]:
    """0..1: how much of each side is a real boundary (frame counts part), area, angles."""
    h, w = planes.shape[1:]
    area = _polygon_area(quad) / (h * w)
    if area < MIN_AREA or not cv2.isContourConvex(quad.astype(np.float32).reshape(-1, 1, 2)):
        return 0.0, ()
    angles = _corner_angles(quad)
    if angles.min() < ANGLE_RANGE[0] or angles.max() > ANGLE_RANGE[1]:
        return 0.0, ()
    # the page may leave the photo, but not by much
    outside = _outside_fraction(quad, w, h)
    if outside > 0.15:
        return 0.0, ()
    real, frame = _support(quad, planes)
    if (real >= 0.5).sum() < 2:  # a page shows at least two real boundaries
        return 0.0, ()
    sides_arr = real + FRAME_CREDIT * frame
    sides = sides_arr.tolist()
    edge = 0.5 * sides_arr.mean() + 0.5 * sides_arr.min()
    angle_penalty = float(np.clip((np.abs(angles - 90).max() - 25) / 35, 0, 1))
    score = edge * (0.75 + 0.25 * math.sqrt(min(area, 1.0))) * (1 - 0.3 * angle_penalty)
    return float(score), tuple(round(s, 3) for s in sides)


#: Offset (detection pixels) of the two samples either side of a page boundary.
CONTRAST_OFFSET = 5.0
#: Grey-level step across a side that counts as a boundary.
CONTRAST_STEP = 8.0
#: A boundary is a step, not a line: the step between samples twice as far out must keep
#: at least this share of it (a thin dark line, such as a table's ruling, has paper both sides).
FAR_SHARE = 0.3
#: What a side whose grey step goes against the rest of the quad's counts for.
REVERSED_CREDIT = 0.5
#: What a stretch of side along or beyond the frame counts for, against 1 for a boundary.
FRAME_CREDIT = 0.45


def _support(quad: np.ndarray, planes: np.ndarray, samples: int = 80):
    """Per side of a clockwise quad: the share that is a page boundary, and the share that
    runs along or beyond the frame *with page inside it*.

    A boundary is a step of one consistent sign across the side, in grey or in a colour plane
    (see :mod:`imgtool.kernels._quad`), localised at it (a line of text has edges but paper on
    both sides) and not a thin line (a table's ruling). Where a
    side runs off the photo there is no edge to see; it counts as the frame only where the
    grey just inside it is page rather than background, judged by the grey either side of the
    quad's real boundaries (a frame side across the desk is not the page leaving the photo).
    """
    stats = np.array([_side_stats(quad[i], quad[(i + 1) % 4], planes, samples)
                      for i in range(4)])
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


def _side_stats(p0, p1, planes, samples: int) -> np.ndarray:
    d = p1 - p0
    length = float(np.hypot(*d))
    if length < 1:
        return np.zeros(4)
    return _shares(planes, p0[None], p1[None], d, length, samples)[0]


def _page_along_frame(p0, p1, planes, samples, page, background) -> float:
    """Share of a side's points whose outer sample is off the frame and whose inner sample is
    nearer the page's grey than the background's (and a clear step from the background)."""
    h, w = planes.shape[1:]
    d = p1 - p0
    normal = np.array([-d[1], d[0]]) / max(float(np.hypot(*d)), 1e-9)
    t = 0.05 + 0.9 * np.arange(samples) / (samples - 1)
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
    pagelike = ((values - background) * sign > max(CONTRAST_STEP, 0.5 * abs(page - background)))
    return float(pagelike.sum()) / samples


def _shares(planes, starts, ends, d, length, samples):
    from imgtool.kernels import quad

    normal = np.array([-d[1], d[0]]) / length  # into the page for a clockwise quad
    return quad.boundary_share(planes, np.ascontiguousarray(starts, np.float64),
                               np.ascontiguousarray(ends, np.float64), float(normal[0]),
                               float(normal[1]), samples, CONTRAST_OFFSET, CONTRAST_STEP, 1.0,
                               FAR_SHARE)


#: Snapping passes: how far (detection pixels) each end of a side may move, in what steps,
#: and how often the pass may repeat while the quadrilateral still moves.
SNAP_PASSES = ((32, 4, 3), (4, 1, 1))


def _snap(quad: np.ndarray, planes: np.ndarray) -> np.ndarray:
    """Snap the sides to the nearest strong boundary, coarse to fine (:data:`SNAP_PASSES`)."""
    for reach, step, repeats in SNAP_PASSES:
        for _ in range(repeats):
            moved = _snap_once(quad, planes, reach, step)
            done = np.abs(moved - quad).max() < step
            quad = moved
            if done:
                break
    return quad


def _snap_once(quad: np.ndarray, planes: np.ndarray, reach: float, step: float) -> np.ndarray:
    """Move each side, both ends independently along the side's normal, to where it is most
    a boundary; the new corners are where the snapped sides meet."""
    shifts = np.arange(-reach, reach + step / 2, step, dtype=np.float64)
    sides = _sides(quad)
    if sides is None:
        return quad
    lines = []
    for p0, p1, normal in sides:
        _, _, starts, ends = _shifted_sides(p0, p1, normal, shifts)
        scores = _side_support_many(starts, ends, normal, planes)
        k = int(np.argmax(scores))
        if scores[k] <= scores[len(scores) // 2] + 1e-9:  # no better than where it was
            lines.append((p0, p1))
        else:
            lines.append((starts[k], ends[k]))
    out = _corners_of(lines)
    if out is None or np.abs(out - quad).max() > 4 * reach:
        return quad
    return out


def _sides(quad: np.ndarray, min_length: float = 8.0):
    """Per side of a clockwise quad: its start, its end and its unit normal into the page;
    None if a side is shorter than ``min_length``."""
    out = []
    for i in range(4):
        p0, p1 = quad[i], quad[(i + 1) % 4]
        d = p1 - p0
        length = float(np.hypot(*d))
        if length < min_length:
            return None
        out.append((p0, p1, np.array([-d[1], d[0]]) / length))
    return out


def _shifted_sides(p0, p1, normal, shifts):
    """Every side from ``p0 + a * normal`` to ``p1 + b * normal`` for ``a``, ``b`` in
    ``shifts``: the shifts ``a``, ``b`` (flattened) and the starts and ends, (K, 2) each."""
    a, b = np.meshgrid(shifts, shifts, indexing="ij")
    a, b = a.ravel(), b.ravel()
    return a, b, p0[None, :] + a[:, None] * normal, p1[None, :] + b[:, None] * normal


def _corners_of(lines) -> np.ndarray | None:
    """The quad whose sides lie on four lines, each given by two points, in order; None if
    two neighbouring sides are parallel."""
    out = []
    for i in range(4):
        (a0, a1), (b0, b1) = lines[i - 1], lines[i]
        point = _meet((*a0, *a1), (*b0, *b1))
        if point is None:
            return None
        out.append(point)
    return np.array(out, np.float64)


def _side_support_many(starts, ends, normal, planes, samples: int = 40) -> np.ndarray:
    """Boundary share (no frame credit) of many nearly parallel sides at once."""
    along = np.array([normal[1], -normal[0]])  # the direction whose normal is ``normal``
    return _shares(planes, starts, ends, along, 1.0, samples)[:, 0]


def _within(pts, w, h):
    return (pts[:, 0] >= 0) & (pts[:, 1] >= 0) & (pts[:, 0] <= w - 1) & (pts[:, 1] <= h - 1)


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


def _outside_fraction(quad, w, h) -> float:
    """Share of the quad's area that lies outside the photo."""
    clipped = cv2.intersectConvexConvex(
        quad.astype(np.float32),
        np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32),
    )[0]
    total = _polygon_area(quad)
    return 1.0 - clipped / total if total > 0 else 1.0


def _corner_angles(quad: np.ndarray) -> np.ndarray:
    out = []
    for i in range(4):
        a = quad[i - 1] - quad[i]
        b = quad[(i + 1) % 4] - quad[i]
        cosang = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12)
        out.append(math.degrees(math.acos(float(np.clip(cosang, -1, 1)))))
    return np.array(out)


def _draw_candidates(image, candidates, thickness: int = 1) -> np.ndarray:
    out = image.copy()
    for rank, c in enumerate(candidates):
        colour = (0, 220, 0) if rank == 0 else (0, 140, 255)
        pts = np.round(c.quad).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(out, [pts], True, colour, thickness + (rank == 0), cv2.LINE_AA)
        x, y = pts[0, 0]
        cv2.putText(out, f"{rank}:{c.source} {c.score:.2f}", (int(x) + 3, int(y) + 14),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1, cv2.LINE_AA)
    return out
