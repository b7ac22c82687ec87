"""Finding the page in a photo: candidates snapped to the page's boundary, scored, one chosen.

The top of detection (:func:`find_page`); below it are the candidate generators
(:mod:`~imgtool.scan.candidates`), the boundary evidence (:mod:`~imgtool.scan.support`), the
page-block rules (:mod:`~imgtool.scan.block`) and the quad geometry
(:mod:`~imgtool.scan.quad`). After it, :func:`imgtool.scan.detect` refines the corners at full
resolution (:mod:`~imgtool.scan.refine`).

Detection runs on a copy whose long side is :data:`DETECT_SIDE` pixels. The most promising
candidates have each side snapped, coarse to fine, to the strongest nearby page boundary: a
step of one sign across the side, in grey or in colour (a page as bright as the desk but of
another colour), localised at it (a line of text has paper on both sides) and not a thin line
(a table's ruling). The snapped candidates are scored by the share of each side that is such a
boundary, their area and corner angles; a side running off the photo counts in part where the
page, not the desk, meets the frame, and a side whose grey step goes against the rest of the
quad's counts half. The best one wins.

On a busy desk the page's outline is rarely one contour (a cable or a pen across it, the
sheets beneath touching it), so four straight lines of the faint edge map that close into a
page are proposed too (:mod:`~imgtool.scan.sides`). A page's sides end at its corners: a
corner past which a side goes on being a boundary costs score (:data:`BEYOND_COST`; a quad
cut out of the page by a cable across it has two), and the best such candidates are also
tried with the cutting side moved out to where the page's sides end.

The edge map's contours go first, alone: when the best of them is a clear page (every side a
real boundary, paper brighter than all around it) it wins and the other generators are not
run; most photos of a page on a desk end there, at about a third of the cost.

Then each of the winner's sides near and nearly parallel to the frame is tried on the frame
(a printed band across a page that runs off the photo can be a stronger step than the frame),
kept if the whole quad scores better; a side lying on an open book's page block steps in
to the top page's own edge, and a side on the edge of a backing sheet steps in to the page's
(:mod:`imgtool.scan.block`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from imgtool.scan.block import step_off_block, step_off_sheet
from imgtool.scan.candidates import (
    MIN_AREA,
    Candidate,
    bright_masks,
    contour_candidates,
    dedupe,
    edge_map,
    frame_variants,
    line_candidates,
    mask_candidates,
    tint_masks,
)
from imgtool.scan.quad import (
    corner_angles,
    corners_of,
    order_corners,
    outside_fraction,
    polygon_area,
    quad_sides,
    shifted_sides,
)
from imgtool.scan.sides import side_quads, uncut
from imgtool.scan.support import (
    CHROMA_GAIN,
    CONTRAST_STEP,
    SIDE_SAMPLES,
    beyond_corners,
    boundary_support,
    evidence_planes,
    side_stats,
    side_support_many,
)

# --- tuning: every number the choice depends on ---------------------------------------------
# (MIN_AREA, the smallest page, is the generators': imgtool.scan.candidates.)

#: Long side, in pixels, of the copy the page is searched on.
DETECT_SIDE = 1000
#: Candidates scoring below this are not pages.
MIN_SCORE = 0.35
#: Smallest and largest corner angle (degrees) of a plausible page in perspective.
ANGLE_RANGE = (30.0, 150.0)
#: The second edge map's thresholds, as a share of the first's: faint outlines (a white page
#: on a light desk) that the automatic thresholds miss.
FAINT_SCALE = 0.4
#: The page may leave the photo, but not by much: the largest share of its area outside.
MAX_OUTSIDE = 0.15
#: What a stretch of side along or beyond the frame counts for, against 1 for a boundary.
FRAME_CREDIT = 0.45
#: Share of the score that grows with the page's area (the square root of its share of the
#: photo): of two equally clear outlines, the larger is more often the page.
AREA_WEIGHT = 0.25
#: A page shows at least this many sides that are at least :data:`REAL_SIDE` real boundary.
MIN_REAL_SIDES = 2
REAL_SIDE = 0.5
#: Weight of the weakest side against the mean of the sides in the boundary score: one
#: missing side is suspect, but an occluded one must not sink the page.
WEAKEST_SIDE_WEIGHT = 0.5
#: Corner angles within this many degrees of 90 cost nothing; the cost grows over the next
#: :data:`ANGLE_COST_SPAN` degrees up to :data:`ANGLE_COST` of the score (steep perspective is
#: possible but rarer than a wrong quad).
ANGLE_FREE = 25
ANGLE_COST_SPAN = 35
ANGLE_COST = 0.3
#: A corner whose sides go on being a boundary past it (support.beyond_corners) is most
#: likely not the page's but where something lying across the page (a cable, a pen) cuts it:
#: up to BEYOND_FREE of the stretch past it costs nothing, from BEYOND_FULL on it costs
#: BEYOND_COST of the score, shared over the four corners. Measured on the generated scenes:
#: a true corner is at most 0.45 (the sheet beneath askew), a cut at 0.75-1.
BEYOND_FREE, BEYOND_FULL = 0.3, 0.7
BEYOND_COST = 0.5
#: How many of the best candidates whose sides go on past a corner are tried with the side
#: between moved out to where they end.
UNCUT_TRIES = 3
#: How many candidates are snapped to the edges and scored in full (snapping is the cost).
SNAP_CANDIDATES = 10
#: The first stage snaps this many of the edge map's contour candidates.
QUICK_SNAP = 2
#: A first-stage winner is final when each of its sides is at least this share of real
#: boundary (the frame's part credit not counted), with the page brighter than what lies
#: outside on every side.
CLEAR_SUPPORT = 0.9
#: Snapping passes: how far (detection pixels) each end of a side may move, in what steps,
#: and how often the pass may repeat while the quadrilateral still moves.
SNAP_PASSES = ((32, 4, 3), (4, 1, 1))
#: A snap that moves a corner further than this many reaches (sides meeting far off, nearly
#: parallel) is undone.
SNAP_MAX_MOVE = 4
#: A page covering less of the photo than this is small (a sheet seen from afar on a desk top
#: whose edges are in the frame; but also a label on a notebook's cover, one page of a spread
#: or a piece of a page cut off by a shadow). Small candidates are snapped on their own budget
#: of :data:`SMALL_SNAP` (they do not push larger candidates out of it), never end the first
#: stage, and give way to a container (:func:`_container`).
SMALL_PAGE = 0.05
SMALL_SNAP = 4
#: A small page must look like paper: its median colourfulness (CIELAB chroma) at most this.
#: White paper under a phone's white balance measures 1-22 on the photos here; a coloured
#: box, a mouse pad or a sticker far more.
SMALL_PAGE_CHROMA = 25.0
#: A container takes over from the winner when each of its four sides is at least this share
#: of real boundary (the frame not counted: a desk top running off the photo never is one),
#: it holds at least :data:`CONTAINED` of the winner's area, and it is larger by
#: :data:`CONTAINER_RATIO` (any size if the winner is small): an open notebook or book is two
#: pages side by side; a backing sheet or the stack under a page is not twice the page.
CONTAINER_SUPPORT = 0.85
CONTAINED = 0.97
CONTAINER_RATIO = (1.6, 2.5)
#: A small winner's container need only be this much larger (a label on a cover is far
#: smaller than the cover; a piece of a page is not much smaller than the page).
SMALL_CONTAINER_RATIO = 1.2
#: How many candidates that contain the winner are snapped and tried as its container.
CONTAINER_TRIES = 3
#: The score of a quad whose every side is a full boundary is at least 1 - AREA_WEIGHT (no
#: angle cost): confidence 1 from there; confidence 0 at :data:`MIN_SCORE`, linear between.
CONFIDENT_SCORE = 1 - AREA_WEIGHT
#: Below this confidence the photo counts as having no page. Chosen by measurement (README,
#: "How sure the scanner is"): where the detected quads of the measured photos stop being
#: mostly right.
MIN_CONFIDENCE = 0.2
#: Candidates drawn in the debug picture.
DEBUG_CANDIDATES = 12


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
    #: how sure detection is that this is the page, 0..1 (:func:`confidence`)
    confidence: float = 0.0


def find_page(image: np.ndarray, *, debug: dict | None = None, reduced: int = 1,
              min_confidence: float | None = None) -> Detection | None:
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
    min_confidence : float, optional
        The best candidate is returned only when its :func:`confidence` is at least this
        (default :data:`MIN_CONFIDENCE`).

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
    small, scale = downscale(to_bgr8(image))
    scale *= reduced
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    edges = edge_map(gray)
    planes = evidence_planes(small)

    # First the contours of the edge map alone: when the best of them is a clear page, the
    # other generators could only offer the same outline (see CLEAR_SUPPORT).
    candidates = dedupe(contour_candidates(edges, "edges"))
    _prescore_all(candidates, planes)
    snapped: dict = {}
    ranked = _snap_and_score(_best_prescored(candidates, QUICK_SNAP), planes, snapped)
    quick = (bool(ranked) and not _small(ranked[0].quad, planes)
             and _clear_page(ranked[0], planes))
    if not quick:
        faint = edge_map(gray, scale=FAINT_SCALE)
        more = contour_candidates(faint, "faint")
        for mask, name in (*bright_masks(small), *tint_masks(planes)):
            more += mask_candidates(mask, name)
        more += line_candidates(edges)
        more += side_quads(faint, planes)
        first = {id(c) for c in candidates}  # prescored already
        candidates = dedupe(candidates + more)
        _prescore_all([c for c in candidates if id(c) not in first], planes)
        ranked = _uncut(_snap_and_score(_worth_snapping(candidates, planes), planes, snapped),
                        planes)
    outer = _container(ranked[0], candidates, planes, snapped) if ranked else None
    if outer is not None:
        ranked = [outer] + [c for c in ranked if c is not outer]
    candidates = ranked

    if debug is not None:
        debug["edges"] = edges
        debug["candidates"] = _draw_candidates(small, candidates[:DEBUG_CANDIDATES])
    if not candidates or candidates[0].score < MIN_SCORE:
        return None
    best = candidates[0]
    for quad in frame_variants(best.quad, planes.shape[1:]):
        score, support = _score(quad, planes)
        if score > best.score:
            best.quad, best.score, best.support = quad, score, support
    sure = confidence(best.score)
    if sure < (MIN_CONFIDENCE if min_confidence is None else min_confidence):
        return None
    best.quad = step_off_block(best.quad, planes)
    best.quad = step_off_sheet(best.quad, planes)
    corners = order_corners(best.quad * scale + (scale - 1) / 2)
    if debug is not None:
        debug["page"] = _draw_candidates(small, [best], thickness=3)
    return Detection(corners, float(best.score), best.source, candidates, scale, quick, sure)


def confidence(score: float) -> float:
    """How sure detection is of a quad with this score, 0..1: 0 at :data:`MIN_SCORE` (the
    least a page scores), 1 from :data:`CONFIDENT_SCORE` (every side a full boundary), linear
    between. The score is the boundary evidence all round the quad (its weakest side weighs
    half), its area and its corner angles; measured on the real and generated photos it
    separates right quads from wrong ones (BENCHMARKS.md, area under the ROC curve).

    >>> confidence(0.35), round(confidence(0.55), 6), confidence(0.9)
    (0.0, 0.5, 1.0)
    """
    return float(np.clip((score - MIN_SCORE) / (CONFIDENT_SCORE - MIN_SCORE), 0.0, 1.0))


def to_bgr8(image: np.ndarray) -> np.ndarray:
    """The photo as 8-bit BGR (uint16 shifted, float in 0..1 scaled; gray expanded, alpha
    dropped)."""
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


def downscale(image: np.ndarray) -> tuple[np.ndarray, float]:
    """The copy detection works on (long side :data:`DETECT_SIDE`, area-averaged), and the
    photo's pixels per pixel of it."""
    h, w = image.shape[:2]
    scale = max(h, w) / DETECT_SIDE
    if scale <= 1:
        return image, 1.0
    size = (max(1, round(w / scale)), max(1, round(h / scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return small, w / size[0]


def _prescore_all(candidates: list[Candidate], planes: np.ndarray) -> None:
    """Each candidate's :func:`_prescore`, in its ``score`` (and ``support``)."""
    for c in candidates:
        c.score, c.support = _prescore(c.quad, planes)


def _prescore(quad: np.ndarray, planes: np.ndarray) -> tuple[float, tuple]:
    """A cheap ranking before snapping: plausibility and a rough boundary share."""
    h, w = planes.shape[1:]
    area = polygon_area(quad) / (h * w)
    if area < MIN_AREA or outside_fraction(quad, w, h) > MAX_OUTSIDE:
        return 0.0, ()
    real, frame = boundary_support(quad, planes)
    sides = real + FRAME_CREDIT * frame
    return float(sides.mean() * _area_factor(area)), ()


def _best_prescored(candidates: list[Candidate], k: int) -> list[Candidate]:
    """The ``k`` best candidates by prescore (those above zero), best first."""
    ranked = sorted((c for c in candidates if c.score > 0), key=lambda c: c.score, reverse=True)
    return ranked[:k]


def _worth_snapping(candidates: list[Candidate], planes: np.ndarray) -> list[Candidate]:
    """The best :data:`SNAP_CANDIDATES` by prescore, and each generator's best (the quads
    with a restored corner, ``*-cut``, count as one generator); small ones
    (:data:`SMALL_PAGE`) apart: the best :data:`SMALL_SNAP` of them."""
    def generator(c):
        return "cut" if c.source.endswith("-cut") else c.source

    ranked = _best_prescored(candidates, len(candidates))
    small = [c for c in ranked if _small(c.quad, planes)]
    ranked = [c for c in ranked if not _small(c.quad, planes)]
    keep = ranked[:SNAP_CANDIDATES]
    for c in ranked[SNAP_CANDIDATES:]:
        if all(generator(k) != generator(c) for k in keep):
            keep.append(c)
    return keep + small[:SMALL_SNAP]


def _small(quad: np.ndarray, planes: np.ndarray) -> bool:
    """Whether the quad covers less than :data:`SMALL_PAGE` of the photo."""
    return polygon_area(quad) < SMALL_PAGE * planes.shape[1] * planes.shape[2]


def _container(best: Candidate, candidates: list[Candidate], planes: np.ndarray,
               done: dict) -> Candidate | None:
    """A candidate that holds the winner and is all round a real boundary, larger by
    :data:`CONTAINER_RATIO` (by any amount if the winner is small): the whole of an open
    notebook rather than one of its pages, a notebook rather than the label on its cover.
    A desk top whose edges run off the photo is no container: its sides along the frame are
    no real boundary. None if there is none."""
    area = polygon_area(best.quad)
    small = _small(best.quad, planes)
    lo, hi = CONTAINER_RATIO

    def fits(c):
        ratio = polygon_area(c.quad) / area
        return (ratio >= (SMALL_CONTAINER_RATIO if small else lo) and (small or ratio <= hi)
                and _inside_share(best.quad, c.quad) >= CONTAINED)

    outer = sorted((c for c in candidates if c.score > 0 and fits(c)), key=lambda c: c.score,
                   reverse=True)[:CONTAINER_TRIES]
    for c in _snap_and_score(outer, planes, done):
        if c.score < MIN_SCORE or not fits(c):
            continue
        real, _ = boundary_support(c.quad, planes)
        if (real >= CONTAINER_SUPPORT).all():
            return c
    return None


def _uncut(ranked: list[Candidate], planes: np.ndarray) -> list[Candidate]:
    """The ranked candidates, with the best :data:`UNCUT_TRIES` whose sides go on past a
    corner tried with that side moved out to where they end
    (:func:`~imgtool.scan.sides.uncut`), snapped and scored; best first."""
    extra = []
    for c in ranked[:UNCUT_TRIES]:
        if c.score <= 0 or beyond_corners(c.quad, planes).max() <= BEYOND_FREE:
            continue
        for quad in uncut(c.quad, planes):
            quad = _snap(quad, planes)
            score, support = _score(quad, planes)
            extra.append(Candidate(quad, c.source + "-uncut", score, support, ordered=True))
    if not extra:
        return ranked
    out = dedupe(ranked + extra)
    out.sort(key=lambda c: c.score, reverse=True)
    return out


def _chroma(quad: np.ndarray, planes: np.ndarray) -> float:
    """Median CIELAB chroma inside the quad (the colour planes hold a* and b* offset by 128
    and times CHROMA_GAIN)."""
    x0, y0 = np.maximum(np.floor(quad.min(axis=0)).astype(int), 0)
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int) + 1
    a = planes[1, y0:y1, x0:x1]
    b = planes[2, y0:y1, x0:x1]
    mask = np.zeros(a.shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(quad - [x0, y0]).astype(np.int32), 1)
    inside = mask.astype(bool)
    if not inside.any():
        return 0.0
    centre = 128.0 * CHROMA_GAIN
    return float(np.median(np.hypot(a[inside] - centre, b[inside] - centre))) / CHROMA_GAIN


def _inside_share(inner: np.ndarray, outer: np.ndarray) -> float:
    """Share of the convex quad ``inner``'s area that lies inside the convex quad ``outer``."""
    total = polygon_area(inner)
    if total <= 0:
        return 0.0
    shared = cv2.intersectConvexConvex(inner.astype(np.float32), outer.astype(np.float32))[0]
    return float(shared) / total


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
    out = dedupe(out)
    out.sort(key=lambda c: c.score, reverse=True)
    return out


def _clear_page(best: Candidate, planes: np.ndarray) -> bool:
    """Whether the first stage's winner is clear enough to be final: every side a real
    boundary over most of its length, and the inside brighter than the outside all round (a
    paper page on a darker desk; a dark picture printed on a faint page is the other way),
    and no side going on past a corner (a page cut in two by a cable across it).

    Measured on 390 generated and 13 real photos: wherever this held, the full search found
    the same page (IoU within 0.0013 of it after refinement, either way)."""
    if best.score < MIN_SCORE or not best.support or min(best.support) < CLEAR_SUPPORT:
        return False
    stats = np.array([side_stats(best.quad[i], best.quad[(i + 1) % 4], planes, SIDE_SAMPLES)
                      for i in range(4)])
    real, inside, outside = stats[:, 0], stats[:, 2], stats[:, 3]
    return bool((real >= CLEAR_SUPPORT).all() and (inside - outside > CONTRAST_STEP).all()
                and (beyond_corners(best.quad, planes) <= BEYOND_FREE).all())


def _score(quad: np.ndarray, planes: np.ndarray) -> tuple[float, tuple]:
    """0..1: how much of each side is a real boundary (frame counts part), area, angles."""
    h, w = planes.shape[1:]
    area = polygon_area(quad) / (h * w)
    if area < MIN_AREA or not cv2.isContourConvex(quad.astype(np.float32).reshape(-1, 1, 2)):
        return 0.0, ()
    angles = corner_angles(quad)
    if angles.min() < ANGLE_RANGE[0] or angles.max() > ANGLE_RANGE[1]:
        return 0.0, ()
    # the page may leave the photo, but not by much
    outside = outside_fraction(quad, w, h)
    if outside > MAX_OUTSIDE:
        return 0.0, ()
    real, frame = boundary_support(quad, planes)
    if (real >= REAL_SIDE).sum() < MIN_REAL_SIDES:
        return 0.0, ()
    if area < SMALL_PAGE and _chroma(quad, planes) > SMALL_PAGE_CHROMA:
        return 0.0, ()
    sides_arr = real + FRAME_CREDIT * frame
    sides = sides_arr.tolist()
    edge = ((1 - WEAKEST_SIDE_WEIGHT) * sides_arr.mean()
            + WEAKEST_SIDE_WEIGHT * sides_arr.min())
    angle_penalty = float(np.clip((np.abs(angles - 90).max() - ANGLE_FREE) / ANGLE_COST_SPAN,
                                  0, 1))
    score = edge * _area_factor(area) * (1 - ANGLE_COST * angle_penalty)
    goes_on = np.clip((beyond_corners(quad, planes) - BEYOND_FREE)
                      / (BEYOND_FULL - BEYOND_FREE), 0, 1)
    score *= 1 - BEYOND_COST * float(goes_on.mean())
    return float(score), tuple(round(s, 3) for s in sides)


def _area_factor(area: float) -> float:
    """The score's factor for a page covering ``area`` of the photo: 1 - :data:`AREA_WEIGHT`
    for a tiny page up to 1 for the whole photo."""
    return (1 - AREA_WEIGHT) + AREA_WEIGHT * math.sqrt(min(area, 1.0))


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
    sides = quad_sides(quad)
    if sides is None:
        return quad
    lines = []
    for p0, p1, normal in sides:
        _, _, starts, ends = shifted_sides(p0, p1, normal, shifts)
        scores = side_support_many(starts, ends, normal, planes)
        k = int(np.argmax(scores))
        if scores[k] <= scores[len(scores) // 2] + 1e-9:  # no better than where it was
            lines.append((p0, p1))
        else:
            lines.append((starts[k], ends[k]))
    out = corners_of(lines)
    if out is None or np.abs(out - quad).max() > SNAP_MAX_MOVE * reach:
        return quad
    return out


def _draw_candidates(image, candidates, thickness: int = 1) -> np.ndarray:
    """The candidates drawn on the detection-scale copy (for --debug), the best in green."""
    out = image.copy()
    for rank, c in enumerate(candidates):
        colour = (0, 220, 0) if rank == 0 else (0, 140, 255)
        pts = np.round(c.quad).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(out, [pts], True, colour, thickness + (rank == 0), cv2.LINE_AA)
        x, y = pts[0, 0]
        cv2.putText(out, f"{rank}:{c.source} {c.score:.2f}", (int(x) + 3, int(y) + 14),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1, cv2.LINE_AA)
    return out
