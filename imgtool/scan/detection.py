"""Finding the page in a photo: candidates snapped to the page's boundary, scored, one chosen.

The top of detection (:func:`find_page`); below it are the choice rules
(:mod:`~imgtool.scan.rules`), the scoring (:mod:`~imgtool.scan.score`), the page-block rules
(:mod:`~imgtool.scan.block`), the candidate generators (:mod:`~imgtool.scan.candidates`), the
boundary evidence (:mod:`~imgtool.scan.support`) and the quad geometry
(:mod:`~imgtool.scan.quad`). After it, :func:`imgtool.scan.detect` refines the corners at full
resolution (:mod:`~imgtool.scan.refine`).

Detection runs on a copy whose long side is :data:`DETECT_SIDE` pixels. Candidates are
snapped to the page's boundary and scored (:mod:`~imgtool.scan.score`); the best one wins,
unless it holds or cuts the page rather than being it (:mod:`~imgtool.scan.rules`: an open
notebook round one of its pages, a desk top round the page on it, a piece of a page cut off
by a pen).

On a busy desk the page's outline is rarely one contour (a cable or a pen across it, the
sheets beneath touching it), so four straight lines of the faint edge map that close into a
page are proposed too (:mod:`~imgtool.scan.sides`); and a winner that is a piece of the page
cut off by a pen lying along it is grown, one side at a time, onto those lines
(:data:`GROWN_GAIN`).

The edge map's contours go first, alone: when the best of them is a clear page (every side a
real boundary, paper brighter than all around it, no paper past a side) it wins and the other
generators are not run; most photos of a page on a desk end there, at about a third of the
cost.

Then each of the winner's sides near and nearly parallel to the frame is tried on the frame
(a printed band across a page that runs off the photo can be a stronger step than the frame),
kept if the whole quad scores better; a side lying on an open book's page block steps in
to the top page's own edge, and a side on the edge of a backing sheet steps in to the page's
(:mod:`imgtool.scan.block`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from imgtool.scan.block import step_off_block, step_off_sheet
from imgtool.scan.candidates import (
    auto_edge_map,
    bright_masks,
    contour_candidates,
    dedupe,
    edge_map,
    frame_variants,
    line_candidates,
    mask_candidates,
    tint_masks,
)
from imgtool.scan.median import quantiles
from imgtool.scan.quad import (
    order_corners,
)
from imgtool.scan.rules import container, page_not_winner, paper_beyond, uncut_best
from imgtool.scan.score import (
    MIN_SCORE,
    best_prescored,
    clear_page,
    confidence,
    is_small,
    prescore_all,
    score_quad,
    snap_and_score,
    worth_snapping,
)
from imgtool.scan.sides import grown, more_lines, side_lines, side_quads
from imgtool.scan.support import (
    evidence_planes,
)

# --- tuning: the search's own numbers ----------------------------------------------------
# (the scoring's are in imgtool.scan.score, the choice rules' in imgtool.scan.rules, the
# smallest page MIN_AREA in imgtool.scan.candidates)

#: Long side, in pixels, of the copy the page is searched on.
DETECT_SIDE = 1000
#: The second edge map's thresholds, as a share of the first's: faint outlines (a white page
#: on a light desk) that the automatic thresholds miss.
FAINT_SCALE = 0.4
#: A page's side can be a boundary (a step in grey) and still no line of the faint map: a
#: white page half in a shadow on a white desk. The lines of a map at this share of the
#: thresholds that the faint map lacks (the heaviest sides.EXTRA_LINES of them) close more
#: quads (with the faint map's lines), whose best FAINTER_SNAP are snapped beside
#: the others, not in their place (handed to the same choice, they pushed right quads out
#: of the snapping and lost clutter 30-69 0.806 -> 0.792; with all the fainter lines in
#: place of the faint ones, 0.806 -> 0.746). Development seeds: desk tops 300-359
#: 0.957 -> 0.974, clutter 100-139 0.783 -> 0.807, 300-339 0.707 -> 0.726, hidden corners
#: 0-29 0.994 -> 0.998; the other ranges and the real photos unchanged.
LINES_SCALE = 0.25
FAINTER_SNAP = 2
#: The first stage snaps this many of the edge map's contour candidates.
QUICK_SNAP = 2
#: Below this confidence the photo counts as having no page. Chosen by measurement (README,
#: "How sure the scanner is"): where the detected quads of the measured photos stop being
#: mostly right.
MIN_CONFIDENCE = 0.2
#: An underexposed photo is brightened before the search: when the grey at the quantile
#: :data:`EXPOSED_QUANTILE` (the paper, in a photo of a page) is below :data:`UNDEREXPOSED`,
#: the copy is scaled so that it reaches :data:`EXPOSED_LEVEL`. The boundary tests work in grey
#: levels (support's CONTRAST_STEP), so a page photographed at 0.6 of the exposure would lose
#: its fainter sides. The real photos here have that grey at 187-250 and the generated ones at
#: 159 and over (a notebook's dark cover): they are left as they are.
EXPOSED_QUANTILE = 99.5
UNDEREXPOSED = 150.0
EXPOSED_LEVEL = 240.0
#: The winner grown into the whole page (:func:`~imgtool.scan.sides.grown`): the best this
#: many by prescore are snapped; one takes over when it scores this much better.
GROWN_TRIES = 3
GROWN_GAIN = 0.05
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
    small = brightened(small)
    scale *= reduced
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    edges, thresholds = auto_edge_map(gray)
    planes = evidence_planes(small)

    # First the contours of the edge map alone: when the best of them is a clear page, the
    # other generators could only offer the same outline (see CLEAR_SUPPORT).
    candidates = dedupe(contour_candidates(edges, "edges"))
    prescore_all(candidates, planes)
    snapped: dict = {}
    ranked = snap_and_score(best_prescored(candidates, QUICK_SNAP), planes, snapped)
    quick = (bool(ranked) and not is_small(ranked[0].quad, planes)
             and clear_page(ranked[0], planes) and not paper_beyond(ranked[0].quad, planes))
    if not quick:
        faint = edge_map(gray, FAINT_SCALE, thresholds)
        more = contour_candidates(faint, "faint")
        for mask, name in (*bright_masks(small), *tint_masks(planes)):
            more += mask_candidates(mask, name)
        more += line_candidates(edges)
        lines = side_lines(faint, planes)
        more += side_quads(faint, planes, lines)
        first = {id(c) for c in candidates}  # prescored already
        candidates = dedupe(candidates + more)
        prescore_all([c for c in candidates if id(c) not in first], planes)
        extra = _fainter_sides(gray, thresholds, faint, planes, lines, candidates)
        ranked = uncut_best(snap_and_score(worth_snapping(candidates, planes) + extra, planes,
                                           snapped), planes)
        candidates = candidates + extra
    outer = container(ranked[0], candidates, planes, snapped) if ranked else None
    if outer is not None:
        ranked = [outer] + [c for c in ranked if c is not outer]
    if ranked and not quick:
        whole = _grown_best(ranked[0], lines, planes, snapped)
        if whole is not None:
            ranked = [whole] + ranked
    ranked = page_not_winner(ranked, candidates, gray, planes, snapped, quick)
    candidates = ranked

    if debug is not None:
        debug["edges"] = edges
        debug["candidates"] = _draw_candidates(small, candidates[:DEBUG_CANDIDATES])
    if not candidates or candidates[0].score < MIN_SCORE:
        return None
    best = candidates[0]
    for quad in frame_variants(best.quad, planes.shape[1:]):
        score, support = score_quad(quad, planes)
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


def _fainter_sides(gray, thresholds, faint, planes, lines, candidates):
    """More quads closed from four straight lines: the faint map's ``lines`` with those of
    an edge map fainter still (:data:`LINES_SCALE`) that they lack
    (:func:`~imgtool.scan.sides.more_lines`). The best :data:`FAINTER_SNAP` by prescore
    (source ``sides-fainter``) not among the ``candidates`` already, to be snapped beside
    them, not in their place."""
    union = more_lines(lines, side_lines(edge_map(gray, LINES_SCALE, thresholds), planes))
    if len(union) == len(lines):
        return []
    quads = side_quads(faint, planes, union)
    for c in quads:
        c.source = "sides-fainter"
    quads = dedupe(quads)
    prescore_all(quads, planes)
    return [c for c in best_prescored(quads, FAINTER_SNAP)
            if all(not np.array_equal(c.quad, k.quad) for k in candidates)]


def _grown_best(best, lines, planes, done):
    """The whole page round the winner when the winner is a piece of it cut off by a cable or
    a pen (:func:`~imgtool.scan.sides.grown`: one side moved out onto a line), if it scores
    :data:`GROWN_GAIN` better; None otherwise."""
    h, w = planes.shape[1:]
    wholes = grown(best.quad, lines, w, h)
    prescore_all(wholes, planes)
    tried = snap_and_score(best_prescored(wholes, GROWN_TRIES), planes, done)
    if tried and tried[0].score >= best.score + GROWN_GAIN:
        return tried[0]
    return None


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


def brightened(small: np.ndarray) -> np.ndarray:
    """The detection-scale copy, scaled up if it is underexposed (:data:`UNDEREXPOSED`); as
    it is otherwise."""
    gray = cv2.cvtColor(small[::2, ::2], cv2.COLOR_BGR2GRAY)
    (top,) = quantiles(gray.astype(np.float32), (EXPOSED_QUANTILE / 100,))
    if top >= UNDEREXPOSED:
        return small
    return cv2.convertScaleAbs(small, alpha=EXPOSED_LEVEL / max(top, 1.0))


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
