"""Scoring a candidate page: its sides snapped to the page's boundary, then how much of a page
it is; and the first stage's test of a clear page.

Detection's fifth layer (on :mod:`~imgtool.scan.support` and
:mod:`~imgtool.scan.candidates`); :mod:`~imgtool.scan.rules` and
:func:`~imgtool.scan.detection.find_page` use it. The most promising candidates have each
side snapped, coarse to fine, to the strongest nearby page boundary (:func:`snap`): a step of
one sign across the side, in grey or in colour (a page as bright as the desk but of another
colour), localised at it (a line of text has paper on both sides) and not a thin line (a
table's ruling), and of the page's sign where the quad shows one (a page's edge, not the
outer edge of its shadow). The snapped candidates are scored (:func:`score_quad`) by the
share of each side that is such a boundary, their area and corner angles; a side running off
the photo counts in part where the page, not the desk, meets the frame, and a side whose grey
step goes against the rest of the quad's counts half. A page's sides end at its corners: a
corner past which a side goes on being a boundary costs score (:data:`BEYOND_COST`; a quad
cut out of the page by a cable across it has two). :func:`confidence` maps the score to 0..1.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from imgtool.scan.candidates import MIN_AREA, Candidate, dedupe
from imgtool.scan.quad import (
    corner_angles,
    corners_of,
    outside_fraction,
    polygon_area,
    quad_sides,
    shifted_sides,
)
from imgtool.scan.support import (
    CHROMA_GAIN,
    CONTRAST_STEP,
    REVERSED_CREDIT,
    beyond_corners,
    boundary_support,
    page_sign,
    quad_stats,
    side_stats_many,
)

# --- tuning ----------------------------------------------------------------------------------

#: Candidates scoring below this are not pages.
MIN_SCORE = 0.35
#: Smallest and largest corner angle (degrees) of a plausible page in perspective.
ANGLE_RANGE = (30.0, 150.0)
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
#: How many candidates are snapped to the edges and scored in full (snapping is the cost).
SNAP_CANDIDATES = 10
#: Past those, each generator's best this many are snapped too: one mask or edge map can hold
#: more than one page-like region (a stack of sheets beside a mug's blob in the same colour
#: plane), and before snapping a rough outline of the page can rank below another region's.
SNAP_PER_GENERATOR = 2
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
#: stage, and give way to a container (:func:`container`).
SMALL_PAGE = 0.05
SMALL_SNAP = 4
#: A small page must look like paper: its median colourfulness (CIELAB chroma) at most this.
#: White paper under a phone's white balance measures 1-22 on the photos here; a coloured
#: box, a mouse pad or a sticker far more.
SMALL_PAGE_CHROMA = 25.0
#: A corner whose sides go on being a boundary past it (support.beyond_corners) is most
#: likely not the page's but where something lying across the page (a cable, a pen) cuts it:
#: up to BEYOND_FREE of the stretch past it costs nothing, from BEYOND_FULL on it costs
#: BEYOND_COST of the score, shared over the four corners. Measured on the generated scenes:
#: a true corner is at most 0.45 (the sheet beneath askew), a cut at 0.75-1.
BEYOND_FREE, BEYOND_FULL = 0.3, 0.7
BEYOND_COST = 0.5
#: The score of a quad whose every side is a full boundary is at least 1 - AREA_WEIGHT (no
#: angle cost): confidence 1 from there; confidence 0 at :data:`MIN_SCORE`, linear between.
CONFIDENT_SCORE = 1 - AREA_WEIGHT


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


def prescore_all(candidates: list[Candidate], planes: np.ndarray) -> None:
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


def best_prescored(candidates: list[Candidate], k: int) -> list[Candidate]:
    """The ``k`` best candidates by prescore (those above zero), best first."""
    ranked = sorted((c for c in candidates if c.score > 0), key=lambda c: c.score, reverse=True)
    return ranked[:k]


def worth_snapping(candidates: list[Candidate], planes: np.ndarray) -> list[Candidate]:
    """The best :data:`SNAP_CANDIDATES` by prescore, and each generator's best
    :data:`SNAP_PER_GENERATOR` (the quads with a restored corner, ``*-cut``, count as one
    generator); small ones (:data:`SMALL_PAGE`) apart: the best :data:`SMALL_SNAP` of them."""
    def generator(c):
        return "cut" if c.source.endswith("-cut") else c.source

    ranked = best_prescored(candidates, len(candidates))
    small = [c for c in ranked if is_small(c.quad, planes)]
    ranked = [c for c in ranked if not is_small(c.quad, planes)]
    keep = ranked[:SNAP_CANDIDATES]
    for c in ranked[SNAP_CANDIDATES:]:
        if sum(generator(k) == generator(c) for k in keep) < SNAP_PER_GENERATOR:
            keep.append(c)
    return keep + small[:SMALL_SNAP]


def is_small(quad: np.ndarray, planes: np.ndarray) -> bool:
    """Whether the quad covers less than :data:`SMALL_PAGE` of the photo."""
    return polygon_area(quad) < SMALL_PAGE * planes.shape[1] * planes.shape[2]


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


def inside_share(inner: np.ndarray, outer: np.ndarray) -> float:
    """Share of the convex quad ``inner``'s area that lies inside the convex quad ``outer``."""
    total = polygon_area(inner)
    if total <= 0:
        return 0.0
    shared = cv2.intersectConvexConvex(inner.astype(np.float32), outer.astype(np.float32))[0]
    return float(shared) / total


def snap_and_score(candidates: list[Candidate], planes: np.ndarray,
                    done: dict) -> list[Candidate]:
    """Snapped and scored copies of the candidates, near-duplicates dropped, best first.
    ``done`` keeps each candidate's snapped copy (by ``id``) so none is snapped twice."""
    out = []
    for c in candidates:
        if id(c) not in done:
            quad = snap(c.quad, planes)
            score, support = score_quad(quad, planes)
            done[id(c)] = Candidate(quad, c.source, score, support, ordered=True)
        out.append(done[id(c)])
    out = dedupe(out)
    out.sort(key=lambda c: c.score, reverse=True)
    return out


def clear_page(best: Candidate, planes: np.ndarray) -> bool:
    """Whether the first stage's winner is clear enough to be final: every side a real
    boundary over most of its length, and the inside brighter than the outside all round (a
    paper page on a darker desk; a dark picture printed on a faint page is the other way),
    and no side going on past a corner (a page cut in two by a cable across it).

    Measured on 390 generated and 13 real photos: wherever this held, the full search found
    the same page (IoU within 0.0013 of it after refinement, either way)."""
    if best.score < MIN_SCORE or not best.support or min(best.support) < CLEAR_SUPPORT:
        return False
    stats = quad_stats(best.quad, planes)
    real, inside, outside = stats[:, 0], stats[:, 2], stats[:, 3]
    return bool((real >= CLEAR_SUPPORT).all() and (inside - outside > CONTRAST_STEP).all()
                and (beyond_corners(best.quad, planes) <= BEYOND_FREE).all())


def score_quad(quad: np.ndarray, planes: np.ndarray) -> tuple[float, tuple]:
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


def snap(quad: np.ndarray, planes: np.ndarray) -> np.ndarray:
    """Snap the sides to the nearest strong boundary, coarse to fine (:data:`SNAP_PASSES`)."""
    sign = page_sign(quad, planes)
    for reach, step, repeats in SNAP_PASSES:
        for _ in range(repeats):
            moved = _snap_once(quad, planes, reach, step, sign)
            done = np.abs(moved - quad).max() < step
            quad = moved
            if done:
                break
    return quad


def _snap_once(quad: np.ndarray, planes: np.ndarray, reach: float, step: float,
               sign: float = 0.0) -> np.ndarray:
    """Move each side, both ends independently along the side's normal, to where it is most
    a boundary as :func:`score_quad` counts it: where the quad is lighter (or darker) inside
    than outside across three of its sides (``sign``, from support.page_sign), a step the
    other way counts REVERSED_CREDIT. Between a page's edge and the outer edge of its shadow
    on the desk, both strong steps, the side takes the page's edge. The new corners are where
    the snapped sides meet."""
    shifts = np.arange(-reach, reach + step / 2, step, dtype=np.float64)
    sides = quad_sides(quad)
    if sides is None:
        return quad
    lines = []
    for p0, p1, normal in sides:
        _, _, starts, ends = shifted_sides(p0, p1, normal, shifts)
        stats = side_stats_many(starts, ends, normal, planes)
        scores = stats[:, 0].copy()
        if sign:  # as the score counts it: a step against the page's counts part
            scores[(stats[:, 2] - stats[:, 3]) * sign < -CONTRAST_STEP] *= REVERSED_CREDIT
        k = int(np.argmax(scores))
        if scores[k] <= scores[len(scores) // 2] + 1e-9:  # no better than where it was
            lines.append((p0, p1))
        else:
            lines.append((starts[k], ends[k]))
    out = corners_of(lines)
    if out is None or np.abs(out - quad).max() > SNAP_MAX_MOVE * reach:
        return quad
    return out
