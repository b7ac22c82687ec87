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

The edge map's contours go first, alone: when the best of them is a clear page (every side a
real boundary, paper brighter than all around it) it wins and the other generators are not
run; most photos of a page on a desk end there, at about a third of the cost.

Then each of the winner's sides near and nearly parallel to the frame is tried on the frame
(a printed band across a page that runs off the photo can be a stronger step than the frame),
kept if the whole quad scores better; a side lying on an open book's page block steps in
to the top page's own edge, and a side on the edge of a backing sheet steps in to the page's
(:mod:`imgtool.scan.block`).

The winner may hold or cut the page rather than be it (:func:`_page_not_winner`): a light,
grey desk top whose edges are in the photo gives way to the clear page lying on it, its inside
searched on its own for the page's faint outline; a piece of a page cut off by a pen or a
printed rule gives way to the whole page. One page of an open notebook, with paper past its
spiral, does not end the first stage; the whole spread then wins as a container.
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
    inner_candidates,
    line_candidates,
    mask_candidates,
    tint_masks,
)
from imgtool.scan.median import median
from imgtool.scan.quad import (
    corner_angles,
    corners_of,
    order_corners,
    outside_fraction,
    polygon_area,
    quad_sides,
    shifted_sides,
)
from imgtool.scan.support import (
    CHROMA_GAIN,
    CONTRAST_STEP,
    PAGELIKE_SHARE,
    SIDE_SAMPLES,
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
#: A desk top gives way to the page on it (:func:`_page_on_desk_top`): a clear page at least
#: :data:`DESK_TOP_RATIO` times smaller lying inside the winner (larger than any container of
#: a page), when what surrounds it there is neutral (median CIELAB chroma at most
#: :data:`DESK_TOP_CHROMA`: grey laminate, not a notebook's coloured cover) and light (median
#: grey at least :data:`DESK_TOP_LIGHT` of the page's: a dark cover round a white label is not
#: a desk top). :data:`DESK_TOP_TRIES` of the best such candidates are snapped and tried.
DESK_TOP_RATIO = 2.5
DESK_TOP_CHROMA = 12.0
DESK_TOP_LIGHT = 0.6
DESK_TOP_TRIES = 3
#: A desk top is looked at for a page on it only if a lighter part shows inside it: the grey
#: at this quantile is more than CONTRAST_STEP over the median (a page on a desk top covers
#: more than 3% of it, the print on it less than half; on a page alone the paper is the
#: lightest and the majority).
DESK_TOP_PAGE_QUANTILE = 0.97
#: A piece of the page gives way to the whole (:func:`_whole_of_piece`): a pen across the page,
#: or a printed rule, cuts it into pieces whose sides are all boundaries. The whole is at least
#: :data:`PIECE_RATIO` larger (a stack's margins round the top sheet are narrower), holds the
#: piece, has at least :data:`PIECE_SHARED_SIDES` of its sides on the piece's (within
#: :data:`PIECE_SHARED_PX` detection pixels, both ends) and scores at most
#: :data:`PIECE_MARGIN` below it (the pen interrupts the whole's sides where it crosses them).
#: :data:`PIECE_TRIES` of the best such candidates are snapped and tried.
PIECE_RATIO = 1.1
PIECE_SHARED_SIDES = 2
PIECE_SHARED_PX = 3.0
PIECE_MARGIN = 0.05
PIECE_TRIES = 3
#: Before snapping, a candidate is tried as the whole if it nearly holds the piece (this share
#: of it) and has the shared sides within :data:`PIECE_NEAR_PX`: snapping moves sides a little.
PIECE_NEAR_SHARE = 0.9
PIECE_NEAR_PX = 12.0
#: The first stage's winner is not final when paper lies beyond one of its sides
#: (:func:`_paper_beyond`): one page of an open notebook, past its spiral or gutter. Looked at
#: from this share to that share of the quad's extent across the side (past the rings), the
#: lightest there on at least :data:`BEYOND_SHARE` of the side nearer the inside's grey than
#: the background's (support's PAGELIKE_SHARE of the step).
BEYOND_REACH = (0.05, 0.2)
BEYOND_SHARE = 0.5
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
             and _clear_page(ranked[0], planes) and not _paper_beyond(ranked[0].quad, planes))
    if not quick:
        more = contour_candidates(edge_map(gray, scale=FAINT_SCALE), "faint")
        for mask, name in (*bright_masks(small), *tint_masks(planes)):
            more += mask_candidates(mask, name)
        more += line_candidates(edges)
        first = {id(c) for c in candidates}  # prescored already
        candidates = dedupe(candidates + more)
        _prescore_all([c for c in candidates if id(c) not in first], planes)
        ranked = _snap_and_score(_worth_snapping(candidates, planes), planes, snapped)
    outer = _container(ranked[0], candidates, planes, snapped) if ranked else None
    if outer is not None:
        ranked = [outer] + [c for c in ranked if c is not outer]
    ranked = _page_not_winner(ranked, candidates, gray, planes, snapped, quick)
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
        # a small winner's container (a notebook round the label on its cover) may have one
        # weaker side: the spiral's loops lie along it
        weakest = REAL_SIDE if small else CONTAINER_SUPPORT
        if real.min() >= weakest and np.sort(real)[1] >= CONTAINER_SUPPORT:
            return c
    return None


def _page_not_winner(ranked: list[Candidate], candidates: list[Candidate], gray: np.ndarray,
                     planes: np.ndarray, done: dict, quick: bool) -> list[Candidate]:
    """``ranked`` with the page first where the winner is something else that holds it: a
    desk top with the page on it (:func:`_page_on_desk_top`, its inside searched on its own
    with :func:`~imgtool.scan.candidates.inner_candidates`), or a piece of the page cut off
    by a pen across it (:func:`_whole_of_piece`; not after a clear first stage, which has no
    paper past its sides)."""
    if not ranked:
        return ranked
    if _desk_top_like(ranked[0].quad, planes):
        inner = dedupe(inner_candidates(gray, ranked[0].quad, "inner"))
        _prescore_all(inner, planes)
        page = _page_on_desk_top(ranked[0], candidates + inner, planes, done)
        if page is not None:
            ranked = [page] + [c for c in ranked if c is not page]
    whole = None if quick else _whole_of_piece(ranked[0], candidates, planes, done)
    if whole is not None:
        ranked = [whole] + [c for c in ranked if c is not whole]
    return ranked


def _page_on_desk_top(best: Candidate, candidates: list[Candidate], planes: np.ndarray,
                      done: dict) -> Candidate | None:
    """A clear page lying on the winner when the winner is a light, neutral desk top whose
    edges are in the photo (each of them a real boundary all round, so the winner scores as
    well as a page); None if there is none.

    The page is at least :data:`DESK_TOP_RATIO` times smaller than the winner, inside it
    (none of its sides on the winner's: a piece of a page cut off by a cable is not), a
    real boundary all round (on average :data:`CONTAINER_SUPPORT`, each side at least
    :data:`REAL_SIDE`: a pen may lie across one) and brighter than what surrounds it
    on every side; the winner's area round it is grey and light (:data:`DESK_TOP_CHROMA`,
    :data:`DESK_TOP_LIGHT`). A label on a notebook's coloured or dark cover is not taken
    for a page on a desk top; a picture printed on a page is darker than the paper round it.
    """
    area = polygon_area(best.quad)

    def fits(c):  # inside, clear of the desk top's sides: a piece of a page is not
        return (polygon_area(c.quad) * DESK_TOP_RATIO <= area
                and _inside_share(c.quad, best.quad) >= CONTAINED
                and _shared_sides(c.quad, best.quad, PIECE_NEAR_PX) == 0)

    inner = sorted((c for c in candidates if c.score > 0 and fits(c)), key=lambda c: c.score,
                   reverse=True)[:DESK_TOP_TRIES]
    for c in _snap_and_score(inner, planes, done):
        if c.score < MIN_SCORE or not fits(c):
            continue
        stats = np.array([side_stats(c.quad[i], c.quad[(i + 1) % 4], planes, SIDE_SAMPLES)
                          for i in range(4)])
        real, inside, outside = stats[:, 0], stats[:, 2], stats[:, 3]
        if not (real.mean() >= CONTAINER_SUPPORT and real.min() >= REAL_SIDE
                and (inside - outside > CONTRAST_STEP).all()):
            continue
        grey, chroma = _region_grey_chroma(best.quad, c.quad, planes)
        page_grey, _ = _region_grey_chroma(c.quad, None, planes)
        if chroma <= DESK_TOP_CHROMA and grey >= DESK_TOP_LIGHT * page_grey:
            return c
    return None


def _whole_of_piece(best: Candidate, candidates: list[Candidate], planes: np.ndarray,
                    done: dict) -> Candidate | None:
    """The whole page when the winner is a piece of it, cut off by something thin across the
    page (a pen, a printed rule): a candidate that holds the winner, is at least
    :data:`PIECE_RATIO` larger, lies on at least :data:`PIECE_SHARED_SIDES` of the winner's
    sides and scores nearly as well (:data:`PIECE_MARGIN`); None if there is none.

    An open notebook's two pages are its pieces too, and the spread wins as with
    :func:`_container`; a stack's top sheet shares no side with the stack's outline.
    """
    area = polygon_area(best.quad)

    def fits(c, share=CONTAINED, px=PIECE_SHARED_PX):
        return (polygon_area(c.quad) >= PIECE_RATIO * area
                and _inside_share(best.quad, c.quad) >= share
                and _shared_sides(best.quad, c.quad, px) >= PIECE_SHARED_SIDES)

    outer = sorted((c for c in candidates if c.score > 0
                    and fits(c, PIECE_NEAR_SHARE, PIECE_NEAR_PX)),
                   key=lambda c: c.score, reverse=True)[:PIECE_TRIES]
    for c in _snap_and_score(outer, planes, done):
        if c.score >= max(MIN_SCORE, best.score - PIECE_MARGIN) and fits(c):
            return c
    return None


def _shared_sides(quad: np.ndarray, other: np.ndarray, px: float) -> int:
    """How many sides of ``quad`` lie on a side's line of ``other`` (both ends within ``px``
    pixels of it)."""
    count = 0
    for i in range(4):
        ends = np.array([quad[i], quad[(i + 1) % 4]])
        for j in range(4):
            p0, p1 = other[j], other[(j + 1) % 4]
            d = p1 - p0
            length = float(np.hypot(*d))
            if length < 1e-9:
                continue
            dist = np.abs((ends[:, 0] - p0[0]) * d[1] - (ends[:, 1] - p0[1]) * d[0]) / length
            if (dist <= px).all():
                count += 1
                break
    return count


def _desk_top_like(quad: np.ndarray, planes: np.ndarray) -> bool:
    """Whether the quad could be a light, neutral desk top with a page on it: not small,
    neutral (:data:`DESK_TOP_CHROMA`), and with a lighter part (the page; paper is the
    lightest of a page's own inside, its print darker): the grey at the quantile
    :data:`DESK_TOP_PAGE_QUANTILE` more than :data:`CONTRAST_STEP` over the median."""
    if _small(quad, planes):
        return False
    grey, chroma = _region_grey_chroma(quad, None, planes, DESK_TOP_PAGE_QUANTILE)
    return chroma <= DESK_TOP_CHROMA and grey[1] - grey[0] > CONTRAST_STEP


def _paper_beyond(quad: np.ndarray, planes: np.ndarray) -> bool:
    """Whether, past one of the quad's sides (:data:`BEYOND_REACH` of its extent across the
    side), the grey is nearer the inside's than the background's on at least
    :data:`BEYOND_SHARE` of the side: the page goes on there (the other page of a spread,
    past the spiral or the gutter)."""
    sides = quad_sides(quad)
    if sides is None:
        return False
    gray = planes[0]
    h, w = gray.shape
    stats = np.array([side_stats(p0, p1, planes, SIDE_SAMPLES) for p0, p1, _ in sides])
    inside, background = float(median(stats[:, 2])), float(median(stats[:, 3]))
    sign = 1.0 if inside >= background else -1.0
    t = np.linspace(0.15, 0.85, 24)
    for i, (p0, p1, normal) in enumerate(sides):
        extent = 0.5 * (np.hypot(*(quad[(i + 2) % 4] - p1)) + np.hypot(*(quad[i - 1] - p0)))
        offsets = np.linspace(*BEYOND_REACH, 8) * extent
        pts = (p0 + t[:, None, None] * (p1 - p0)
               - offsets[None, :, None] * normal)  # (along, out, 2), outwards
        x, y = pts[..., 0], pts[..., 1]
        if ((x < 0) | (y < 0) | (x > w - 1) | (y > h - 1)).any():
            continue  # the frame: nothing to see beyond
        far = cv2.remap(gray, x.astype(np.float32), y.astype(np.float32), cv2.INTER_LINEAR)
        lightest = (far * sign).max(axis=1) * sign
        pagelike = (lightest - background) * sign > PAGELIKE_SHARE * abs(inside - background)
        if pagelike.mean() >= BEYOND_SHARE:
            return True
    return False


def _region_grey_chroma(quad: np.ndarray, hole: np.ndarray | None, planes: np.ndarray,
                        quantile: float | None = None):
    """Median grey and median CIELAB chroma inside the convex quad, less the convex quad
    ``hole`` if given (0, 0 if nothing is left); with ``quantile``, the grey is the pair
    (median, that quantile)."""
    x0, y0 = np.maximum(np.floor(quad.min(axis=0)).astype(int), 0)
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int) + 1
    mask = np.zeros(planes[0, y0:y1, x0:x1].shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(quad - [x0, y0]).astype(np.int32), 1)
    if hole is not None:
        cv2.fillConvexPoly(mask, np.round(hole - [x0, y0]).astype(np.int32), 0)
    inside = mask[::2, ::2].astype(bool)  # every other pixel: a median is no finer
    if not inside.any():
        return ((0.0, 0.0) if quantile is not None else 0.0), 0.0
    centre = 128.0 * CHROMA_GAIN
    a = planes[1, y0:y1:2, x0:x1:2][inside] - centre
    b = planes[2, y0:y1:2, x0:x1:2][inside] - centre
    grey = planes[0, y0:y1:2, x0:x1:2][inside]
    chroma = float(median(np.hypot(a, b))) / CHROMA_GAIN
    if quantile is None:
        return float(median(grey)), chroma
    low, high = np.quantile(grey, (0.5, quantile))
    return (float(low), float(high)), chroma


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
    paper page on a darker desk; a dark picture printed on a faint page is the other way).

    Measured on 390 generated and 13 real photos: wherever this held, the full search found
    the same page (IoU within 0.0013 of it after refinement, either way)."""
    if best.score < MIN_SCORE or not best.support or min(best.support) < CLEAR_SUPPORT:
        return False
    stats = np.array([side_stats(best.quad[i], best.quad[(i + 1) % 4], planes, SIDE_SAMPLES)
                      for i in range(4)])
    real, inside, outside = stats[:, 0], stats[:, 2], stats[:, 3]
    return bool((real >= CLEAR_SUPPORT).all() and (inside - outside > CONTRAST_STEP).all())


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
