"""A page on something larger: step a side in from the outer edge to the page's own edge.

Two cases: an open book's page block (:func:`step_off_block`), and a backing sheet or a cover
(:func:`step_off_sheet`, whose docstring says how it is told). Detection's last step, on the
chosen quad (:func:`~imgtool.scan.detection.find_page`), with the boundary evidence of
:mod:`~imgtool.scan.support`.

Photograph an open book and the page on top lies on the block of pages beneath it. Along the
outer side the edges of those pages show as a band of thin stripes, parallel to the side and
unchanged along it, between the desk and the top page. The block's outer edge is the strongest
boundary there, so detection takes it for the page's side. The top page's own edge, at the
inner end of the band, is much fainter.

A band of stripes is told from what else lies just inside a page's side: a text line or a
picture changes along the side as much as across it; a single ruling or a printed border is one
stripe, not many; a shadow or a gutter's shading is a smooth ramp without stripes. Where a
side has such a band, it is moved to the strongest boundary just beyond the band's inner end.
"""

from __future__ import annotations

import cv2
import numpy as np

from imgtool.scan.median import median
from imgtool.scan.quad import corners_of, quad_sides, shifted_sides
from imgtool.scan.support import side_support_many

#: The band is looked for up to this share of the page's extent across the side.
BAND_REACH = 0.25
#: Across-side grey change (levels per pixel) below which the page counts as smooth.
SMOOTH = 0.85
#: Pixels of smooth page that end the band.
SMOOTH_RUN = 8
#: The band's least width (detection pixels), stripes (reversals of at least
#: :data:`STRIPE_DEPTH` grey levels) and ratio of across- to along-side change.
MIN_WIDTH = 16
MIN_STRIPES = 5
STRIPE_DEPTH = 2.0
MAX_ALONG = 0.3
#: The page's edge beyond the band must be at least this much of a boundary.
MIN_EDGE = 0.4
#: The top page's edge is looked for from this share of the band's width out (the band's
#: measured end can run a little past the edge) ...
BAND_INNER = 0.75
#: ... at the innermost shift whose boundary share is at least this share of the best (the
#: band's own stripes can be stronger steps).
STRONG_SHARE = 0.75
#: Profiles across a side leave out this share of it at each end (the corners belong to the
#: neighbouring sides) ...
CLEAR_OF_CORNERS = 0.15
#: ... and are about a pixel apart, at least this many.
MIN_PROFILES = 50


def step_off_block(quad: np.ndarray, planes: np.ndarray) -> np.ndarray:
    """The quad (clockwise, detection pixels) with every side that lies on a page block moved
    in to the top page's edge; unchanged where no side does."""
    return _step_in(quad, planes, _block_line)


def _step_in(quad: np.ndarray, planes: np.ndarray, new_line) -> np.ndarray:
    """The quad with each side for which ``new_line(planes, p0, p1, normal, extent)`` gives a
    line (its start and end) moved onto it; ``extent`` is the quad's mean size across the
    side."""
    sides = quad_sides(quad)
    if sides is None:
        return quad
    lines = []
    moved = False
    for i, (p0, p1, normal) in enumerate(sides):
        extent = 0.5 * (np.hypot(*(quad[(i + 2) % 4] - p1)) + np.hypot(*(quad[i - 1] - p0)))
        line = new_line(planes, p0, p1, normal, extent)
        moved |= line is not None
        lines.append((p0, p1) if line is None else line)
    out = corners_of(lines) if moved else None
    return quad if out is None else out


def _block_line(planes, p0, p1, normal, extent):
    end = _band_end(planes[0], p0, p1 - p0, normal, int(BAND_REACH * extent))
    if end is None:
        return None
    shifts = np.arange(round(BAND_INNER * end), end + SMOOTH_RUN + 1, 1.0)
    a, b, starts, ends = shifted_sides(p0, p1, normal, shifts)
    support = side_support_many(starts, ends, normal, planes)
    strong = support >= max(MIN_EDGE, STRONG_SHARE * support.max())
    if not strong.any():
        return None
    # the innermost strong boundary: the band's own stripes can be stronger steps
    k = int(np.argmax(np.where(strong, a + b, -np.inf)))
    return starts[k], ends[k]


#: A backing sheet's band is looked for up to this share of the page's extent across the side.
SHEET_REACH = 0.08
#: Least width of the sheet's band (detection pixels), and how far (grey levels) its profile
#: may stray from its level.
SHEET_MIN_WIDTH = 6
SHEET_FLAT = 4.0
#: Least grey step from the desk to the sheet and from the sheet to the page.
SHEET_STEP = 5.0
#: Pixels either side of a step left out of the levels (the step's own blur).
SHEET_EDGE = 3
#: How far past the band's end the page may begin (a dark gap or shadow line at its edge).
SHEET_GAP = 12


def step_off_sheet(quad: np.ndarray, planes: np.ndarray) -> np.ndarray:
    """The quad (clockwise, detection pixels) with every side that lies on the outer edge of a
    backing sheet (or a book's cover) moved in to the page's own edge; unchanged where none
    does.

    A paper page held on a slightly larger sheet (or a book's page on its cover) shows, along
    such a side, a staircase: the desk, a narrow even band of the sheet, lighter than the desk,
    then the page, lighter again (past a dark line at its edge, if any). Both steps are real
    boundaries and either can score higher, so the winner can be the sheet. The side moves to
    the page's edge when the band is at least :data:`SHEET_MIN_WIDTH` pixels wide, even to
    :data:`SHEET_FLAT` grey levels and both steps are at least :data:`SHEET_STEP`. Printing
    near a page's edge makes no such staircase: a band printed inside the margin is darker than
    the paper around it, and text is not an even band. A cover darker than a light desk, with
    a darker picture on it, is not taken for a sheet either: the band must be lighter than the
    desk.
    """
    return _step_in(quad, planes, _sheet_line)


def _sheet_line(planes, p0, p1, normal, extent):
    rise = _sheet_band(planes[0], p0, p1 - p0, normal, int(SHEET_REACH * extent))
    if rise is None:
        return None
    shifts = np.arange(rise - SHEET_EDGE, rise + SHEET_EDGE + 1, 1.0)
    _, _, starts, ends = shifted_sides(p0, p1, normal, shifts)
    support = side_support_many(starts, ends, normal, planes)
    if support.max() < MIN_EDGE:
        return None
    # the middle of the best shifts: the support is flat across a step's blur
    best = np.flatnonzero(support >= support.max() - 1e-9)
    k = best[len(best) // 2]
    return starts[k], ends[k]


def _sheet_band(gray, p0, d, normal, reach: int) -> int | None:
    """Where the page's edge is (pixels in from the side) when the side lies on the outer edge
    of a sheet the page rests on; None otherwise."""
    if reach < SHEET_MIN_WIDTH + 4 * SHEET_EDGE:
        return None
    _, t = _along(d)
    out = 2 * SHEET_EDGE + 2
    band = _band(gray, p0 - out * normal, d, normal, t, reach + out + SHEET_GAP)
    profile = median(band, axis=1)  # offsets -out .. reach + SHEET_GAP from the side
    outside = float(median(profile[:out - SHEET_EDGE]))
    first = out + SHEET_EDGE  # the band starts here
    end = first + 1
    while end < out + reach and abs(profile[end] - median(profile[first:end])) <= SHEET_FLAT:
        end += 1
    level = float(median(profile[first:end]))
    if end - first < SHEET_MIN_WIDTH or level - outside < SHEET_STEP:
        return None  # no even band, lighter than the desk, next to the side
    # the page, lighter again (past a dark gap or shadow line at its edge, if any)
    for rise in range(end - SHEET_EDGE, min(end + SHEET_GAP, len(profile) - 2 * SHEET_EDGE)):
        page = float(median(profile[rise:rise + 2 * SHEET_EDGE + 1]))
        if profile[rise] - level >= SHEET_STEP / 2 and page - level >= SHEET_STEP:
            return rise - out
    return None


def _band_end(gray, p0, d, normal, reach: int) -> int | None:
    """Where the band of stacked page edges inside a side ends (pixels in from the side), or
    None if the side has no such band."""
    if reach < MIN_WIDTH + SMOOTH_RUN + 2:
        return None
    samples, t = _along(d)
    step = (1 - 2 * CLEAR_OF_CORNERS) * float(np.hypot(*d)) / (samples - 1)
    # most sides have smooth paper (or print) right inside: look at the first few pixels
    # alone, and at the whole reach only if no smooth run starts before MIN_WIDTH
    near = MIN_WIDTH + SMOOTH_RUN + 2
    band = _band(gray, p0, d, normal, t, near)
    across = median(np.abs(band[2:] - band[:-2]), axis=1) / 2  # at offsets 1..near - 1
    end = _smooth_from(across)
    if end is not None and end < MIN_WIDTH:
        return None
    band = _band(gray, p0, d, normal, t, reach)
    across = median(np.abs(band[2:] - band[:-2]), axis=1) / 2  # at offsets 1..reach-1
    # text changes along the side, if only at its letters: the mean, not the median
    along = np.mean(np.abs(band[1:-1, 2:] - band[1:-1, :-2]), axis=1) / (2 * step)
    profile = median(band, axis=1)
    end = _smooth_from(across)
    if end is None or end < MIN_WIDTH:
        return None
    inside = slice(2, end - 1)
    if along[inside].mean() > MAX_ALONG * across[inside].mean():
        return None
    if _stripes(profile[:end + 1], STRIPE_DEPTH) < MIN_STRIPES:
        return None
    return end


def _along(d) -> tuple[int, np.ndarray]:
    """How many profiles across a side of direction ``d``, and where along it (0..1): about a
    pixel apart, clear of the corners (:data:`CLEAR_OF_CORNERS`)."""
    samples = max(MIN_PROFILES, int((1 - 2 * CLEAR_OF_CORNERS) * float(np.hypot(*d))))
    return samples, np.linspace(CLEAR_OF_CORNERS, 1 - CLEAR_OF_CORNERS, samples)


def _band(gray, p0, d, normal, t, reach: int) -> np.ndarray:
    """Grey values at offsets 0..reach in from the side (rows) at positions ``t`` along it."""
    offsets = np.arange(reach + 1, dtype=np.float64)
    x = p0[0] + t[None, :] * d[0] + offsets[:, None] * normal[0]
    y = p0[1] + t[None, :] * d[1] + offsets[:, None] * normal[1]
    return cv2.remap(gray, x.astype(np.float32), y.astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def _smooth_from(across: np.ndarray) -> int | None:
    """The first offset (from 4) that starts :data:`SMOOTH_RUN` pixels of smooth page, or
    None: where the band ends."""
    smooth = across < SMOOTH
    for o in range(3, len(across) - SMOOTH_RUN):
        if smooth[o:o + SMOOTH_RUN].all():
            return o + 1  # ``across`` starts at offset 1
    return None


def _stripes(profile: np.ndarray, depth: float) -> int:
    """How often the profile turns (up to down or back) by at least ``depth``."""
    turns = 0
    high = low = float(profile[0])
    rising = None
    for v in map(float, profile):
        high, low = max(high, v), min(low, v)
        if rising is not False and high - v >= depth:
            turns += rising is True
            rising, low = False, v
        elif rising is not True and v - low >= depth:
            turns += rising is False
            rising, high = True, v
    return turns
