"""The page, not what holds it or what it holds: rules that move the choice from the best
scored candidate to the page it belongs with.

Detection's sixth layer (on :mod:`~imgtool.scan.score`), called by
:func:`~imgtool.scan.detection.find_page` on the ranked candidates:

- :func:`container`: a winner inside something about twice its size that is a real boundary
  all round (an open notebook's spread, a notebook round the label on its cover) gives way
  to it;
- :func:`page_not_winner`: a light, grey desk top whose edges are in the photo gives way to
  the clear page lying on it, its inside searched on its own for the page's faint outline;
  a piece of a page cut off by a pen or a printed rule gives way to the whole page;
- :func:`object_on_page`: a phone, a mug or a magazine partly over the page (a hidden
  corner) whose own outline scores best gives way to the paper page it lies on;
- :func:`paper_beyond`: one page of an open notebook, with paper past its spiral, does not
  end the first stage (the whole spread then wins as a container);
- :func:`uncut_best`: a piece of the page cut off by a cable across it (its sides go on past
  two corners) is also tried with the cutting side moved out to where the page's sides end.
"""

from __future__ import annotations

import cv2
import numpy as np

from imgtool.scan.candidates import Candidate, dedupe, inner_candidates
from imgtool.scan.median import median, quantiles
from imgtool.scan.quad import polygon_area, quad_sides
from imgtool.scan.score import (
    BEYOND_FREE,
    MIN_SCORE,
    REAL_SIDE,
    SMALL_PAGE_CHROMA,
    inside_share,
    is_small,
    prescore_all,
    score_quad,
    snap,
    snap_and_score,
)
from imgtool.scan.sides import uncut
from imgtool.scan.support import (
    CHROMA_GAIN,
    CONTRAST_STEP,
    PAGELIKE_SHARE,
    beyond_corners,
    boundary_support,
    mean_step,
    quad_stats,
)

# --- tuning ----------------------------------------------------------------------------------

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
#: a desk top). :data:`DESK_TOP_TRIES` of the best such candidates (by prescore) are snapped
#: and the best-scoring one that passes is taken: 6 rather than 3 found a receipt whose own
#: outline ranked sixth behind quads closed from lines of the pen across it (hidden corners
#: 100-159: 0.940 -> 0.957; every other range and the real photos unchanged).
DESK_TOP_RATIO = 2.5
DESK_TOP_CHROMA = 12.0
DESK_TOP_LIGHT = 0.6
DESK_TOP_TRIES = 6
#: The page's weakest side need only be this share of real boundary, and need not be brighter
#: than what lies outside it, when its other three are clear (:func:`_clear_enough`): on a
#: light desk top one side is often lost in a highlight or is its shadow's (desk tops 0-29:
#: 0.965 -> 0.995, nothing else measured changed). So too the two sides meeting at a corner
#: when the other two are clear: a mug over the corner hides part of both (hidden corners
#: 30-99: 0.959 -> 0.972, nothing else measured changed).
DESK_TOP_WEAKEST = 0.15
#: Those three are clear when on average at least this share of real boundary: 0.8 rather
#: than CONTAINER_SUPPORT (0.85) found a page with a pen across one of them and its shadow
#: along the fourth (desk tops 30-99: 0.940 -> 0.952; nothing else measured changed).
DESK_TOP_CLEAR = 0.8
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
#: :data:`PIECE_MARGIN` below it (the pen interrupts the whole's sides where it crosses them),
#: or :data:`PIECE_CUT_MARGIN` when what lies along the piece's other sides, just outside it,
#: is an object (darker than the paper by OBJECT_DARKER or more colourful than paper, on
#: :data:`PIECE_CUT_SHARE` of them, looked at up to :data:`PIECE_CUT_REACH` pixels out): a
#: pen or a cable, which hides more of the whole's sides than a printed rule; the sheet
#: beneath a top sheet is paper. That second case also needs the piece's sides to go on
#: being a boundary past an end of each cut side (:data:`PIECE_GOES_ON`, see
#: :func:`_goes_on`): past a page's own end, where a mug or the dark desk itself is the
#: "object", nothing does (0.0 there on the generated scenes; 0.22-1.0 past a pen's cut;
#: hidden corners 30-99: 0.952 -> 0.959, the other ranges and the real photos unchanged but
#: for one page wrong either way). :data:`PIECE_TRIES` of the best such candidates are
#: snapped and tried.
PIECE_RATIO = 1.1
PIECE_SHARED_SIDES = 3
PIECE_SHARED_PX = 3.0
PIECE_MARGIN = 0.05
PIECE_CUT_MARGIN = 0.1
PIECE_CUT_SHARE = 0.5
PIECE_CUT_REACH = 12
PIECE_GOES_ON = 0.1
PIECE_TRIES = 3
#: Before snapping, a candidate is tried as the whole if it nearly holds the piece (this share
#: of it) and has the shared sides within :data:`PIECE_NEAR_PX`: snapping moves sides a little.
PIECE_NEAR_SHARE = 0.9
PIECE_NEAR_PX = 12.0
#: An object on the page gives way to it (:func:`object_on_page`): a winner that overlaps one
#: of the next :data:`OBJECT_TRIES` ranked candidates in part (a share of the winner's area
#: in :data:`OBJECT_OVERLAP`, and no more than its upper end of the candidate's: neither
#: holds the other), when the winner is no paper (its median grey more than
#: :data:`OBJECT_DARKER` under the candidate's, or its median chroma over the score's
#: SMALL_PAGE_CHROMA: a phone, a mug, a magazine) and the candidate is (lighter than what
#: surrounds it, neutral). A sheet of paper lies under a phone, not on it; of two sheets the
#: top one keeps its whole outline, which this rule does not touch. The lower end: on the
#: generated scenes an object over a page's corner has at least 0.066 of its area on the
#: page, while a notebook whose side lies along a line of the desk top beside it shares 0.033
#: with the desk's piece there (which is no page).
OBJECT_TRIES = 6
OBJECT_OVERLAP = (0.045, 0.7)
OBJECT_DARKER = 2 * CONTRAST_STEP
#: The first stage's winner is not final when paper lies beyond one of its sides
#: (:func:`paper_beyond`): one page of an open notebook, past its spiral or gutter. Looked at
#: from this share to that share of the quad's extent across the side (past the rings), the
#: lightest there on at least :data:`BEYOND_SHARE` of the side nearer the inside's grey than
#: the background's (support's PAGELIKE_SHARE of the step).
BEYOND_REACH = (0.05, 0.2)
BEYOND_SHARE = 0.5
#: Points along a side where :func:`_cut_by_object` and :func:`paper_beyond` look past it:
#: this many, spread over this span of the side (its ends belong to the neighbouring sides).
SIDE_SPAN = (0.15, 0.85)
SIDE_PROBES = 24
#: How many of the best candidates whose sides go on past a corner are tried with the side
#: between moved out to where they end (:func:`uncut_best`).
UNCUT_TRIES = 3


def container(best: Candidate, candidates: list[Candidate], planes: np.ndarray,
               done: dict) -> Candidate | None:
    """A candidate that holds the winner and is all round a real boundary, larger by
    :data:`CONTAINER_RATIO` (by any amount if the winner is small): the whole of an open
    notebook rather than one of its pages, a notebook rather than the label on its cover.
    A desk top whose edges run off the photo is no container: its sides along the frame are
    no real boundary. None if there is none."""
    area = polygon_area(best.quad)
    small = is_small(best.quad, planes)
    lo, hi = CONTAINER_RATIO

    def fits(c):
        ratio = polygon_area(c.quad) / area
        return (ratio >= (SMALL_CONTAINER_RATIO if small else lo) and (small or ratio <= hi)
                and inside_share(best.quad, c.quad) >= CONTAINED)

    outer = sorted((c for c in candidates if c.score > 0 and fits(c)), key=lambda c: c.score,
                   reverse=True)[:CONTAINER_TRIES]
    for c in snap_and_score(outer, planes, done):
        if c.score < MIN_SCORE or not fits(c):
            continue
        real, _ = boundary_support(c.quad, planes)
        # a small winner's container (a notebook round the label on its cover) may have one
        # weaker side: the spiral's loops lie along it
        weakest = REAL_SIDE if small else CONTAINER_SUPPORT
        if real.min() >= weakest and np.sort(real)[1] >= CONTAINER_SUPPORT:
            return c
    return None


def page_not_winner(ranked: list[Candidate], candidates: list[Candidate], gray: np.ndarray,
                     planes: np.ndarray, done: dict, quick: bool) -> list[Candidate]:
    """``ranked`` with the page first where the winner is something else that holds it: a
    desk top with the page on it (:func:`_page_on_desk_top`, its inside searched on its own
    with :func:`~imgtool.scan.candidates.inner_candidates`), or a piece of the page cut off
    by a pen across it (:func:`_whole_of_piece`; not after a clear first stage, which has no
    paper past its sides), or an object lying partly over the page (:func:`object_on_page`)."""
    if not ranked:
        return ranked
    if _desk_top_like(ranked[0].quad, planes):
        inner = dedupe(inner_candidates(gray, ranked[0].quad, "inner"))
        prescore_all(inner, planes)
        page = _page_on_desk_top(ranked[0], candidates + inner, planes, done)
        if page is not None:
            ranked = [page] + [c for c in ranked if c is not page]
    whole = None if quick else _whole_of_piece(ranked[0], candidates, planes, done)
    if whole is not None:
        ranked = [whole] + [c for c in ranked if c is not whole]
    return object_on_page(ranked, planes)


def object_on_page(ranked: list[Candidate], planes: np.ndarray) -> list[Candidate]:
    """``ranked`` with the page first where the winner is an object lying partly over it (a
    phone or a mug over a corner; or a magazine the page lies partly on): of
    the next :data:`OBJECT_TRIES` ranked candidates, the first that the winner overlaps in
    part (:data:`OBJECT_OVERLAP`), scoring at least MIN_SCORE, that is paper (lighter than
    what surrounds it, median chroma at most SMALL_PAGE_CHROMA) while the winner is not
    (darker by :data:`OBJECT_DARKER` and not itself lighter than what surrounds it, or more
    colourful than that). A page on a light desk top is darker than a lit piece of the desk
    top overlapping it, but lighter than what lies round it; a phone or a mouse is not."""
    if len(ranked) < 2:
        return ranked
    best = ranked[0]
    lo, hi = OBJECT_OVERLAP
    looks = None  # the winner's median grey and chroma, once needed
    for c in ranked[1:1 + OBJECT_TRIES]:
        if c.score < MIN_SCORE:
            continue
        share = inside_share(best.quad, c.quad)
        if not (lo <= share <= hi and inside_share(c.quad, best.quad) <= hi):
            continue
        if looks is None:
            looks = (*_region_grey_chroma(best.quad, None, planes),
                     _lighter_on_the_whole(best.quad, planes))
        grey, chroma = _region_grey_chroma(c.quad, None, planes)
        darker = looks[0] < grey - OBJECT_DARKER and not looks[2]
        thing = darker or looks[1] > SMALL_PAGE_CHROMA
        if thing and chroma <= SMALL_PAGE_CHROMA and _lighter_on_the_whole(c.quad, planes):
            return [c] + [x for x in ranked if x is not c]
    return ranked


def _lighter_on_the_whole(quad: np.ndarray, planes: np.ndarray) -> bool:
    """Whether the quad's inside is lighter than its outside by more than CONTRAST_STEP on
    the whole (the sides' steps weighted by how much of each is a boundary: paper, with a
    corner under something)."""
    return mean_step(quad, planes) > CONTRAST_STEP


def _page_on_desk_top(best: Candidate, candidates: list[Candidate], planes: np.ndarray,
                      done: dict) -> Candidate | None:
    """A clear page lying on the winner when the winner is a light, neutral desk top whose
    edges are in the photo (each of them a real boundary all round, so the winner scores as
    well as a page); None if there is none.

    The page is at least :data:`DESK_TOP_RATIO` times smaller than the winner, inside it
    (none of its sides on the winner's: a piece of a page cut off by a cable is not), a
    real boundary and brighter than what surrounds it on three sides (on average
    :data:`DESK_TOP_CLEAR`) and some boundary on the fourth (:data:`DESK_TOP_WEAKEST`: a
    pen may lie across it, a highlight or the page's shadow lie along it), or on two sides
    and some boundary on the two meeting at the corner opposite them (an object over that
    corner; :func:`_clear_enough`); the winner's area round it is grey and light
    (:data:`DESK_TOP_CHROMA`, :data:`DESK_TOP_LIGHT`). A label on a notebook's coloured or
    dark cover is not taken for a page on a desk top; a picture printed on a page is darker
    than the paper round it on every side.
    """
    area = polygon_area(best.quad)

    def fits(c):  # inside, clear of the desk top's sides: a piece of a page is not
        return (polygon_area(c.quad) * DESK_TOP_RATIO <= area
                and inside_share(c.quad, best.quad) >= CONTAINED
                and _shared_sides(c.quad, best.quad, PIECE_NEAR_PX) == 0)

    inner = sorted((c for c in candidates if c.score > 0 and fits(c)), key=lambda c: c.score,
                   reverse=True)
    # only those brighter than all round them are worth snapping (the test below, before
    # the cost): on a page taken for a desk top, the candidates inside are print. Before
    # snapping a side may lie a few pixels off the page's edge and show no boundary at all:
    # it is left to the test after snapping
    inner = [c for c in inner if _brighter_all_round(c.quad, planes)][:DESK_TOP_TRIES]
    for c in snap_and_score(inner, planes, done):
        if c.score < MIN_SCORE or not fits(c):
            continue
        stats = quad_stats(c.quad, planes)
        real, inside, outside = stats[:, 0], stats[:, 2], stats[:, 3]
        if not _clear_enough(real, inside - outside):
            continue
        grey, chroma = _region_grey_chroma(best.quad, c.quad, planes)
        page_grey, _ = _region_grey_chroma(c.quad, None, planes)
        if chroma <= DESK_TOP_CHROMA and grey >= DESK_TOP_LIGHT * page_grey:
            return c
    return None


def _clear_enough(real: np.ndarray, steps: np.ndarray) -> bool:
    """Whether a page's sides (their shares of real boundary, and the step from outside in
    along each) show a clear page on a desk top: clear sides (a boundary on average at least
    :data:`DESK_TOP_CLEAR` and brighter than what lies outside) and the others at least
    :data:`DESK_TOP_WEAKEST` boundary: three clear and any fourth (a highlight, a shadow or a
    pen along it), or two clear and the two meeting at the corner opposite them (an object
    over that corner hides part of both)."""
    credit = np.where(steps > CONTRAST_STEP, real, 0.0)

    def clear(sides):
        return credit[sides].mean() >= DESK_TOP_CLEAR and (credit[sides] > 0).all()

    order = np.argsort(credit)
    if clear(order[1:]) and real[order[0]] >= DESK_TOP_WEAKEST:
        return True
    for k in range(4):  # corner k, where sides k - 1 and k meet
        if clear([(k + 1) % 4, (k + 2) % 4]) and (real[[k - 1, k]] >= DESK_TOP_WEAKEST).all():
            return True
    return False


def _brighter_all_round(quad: np.ndarray, planes: np.ndarray) -> bool:
    """Whether the quad's inside is brighter than its outside by more than CONTRAST_STEP
    along three of its sides (paper on a desk top, its shadow or a pen along the fourth, or
    the fourth not yet snapped onto the page's edge; not print on paper, darker than the
    paper all round it)."""
    stats = quad_stats(quad, planes)
    return bool((stats[:, 2] - stats[:, 3] > CONTRAST_STEP).sum() >= 3)


def _whole_of_piece(best: Candidate, candidates: list[Candidate], planes: np.ndarray,
                    done: dict) -> Candidate | None:
    """The whole page when the winner is a piece of it, cut off by something thin across the
    page (a pen, a printed rule): a candidate that holds the winner, is at least
    :data:`PIECE_RATIO` larger, lies on at least :data:`PIECE_SHARED_SIDES` of the winner's
    sides and scores nearly as well (:data:`PIECE_MARGIN`, or :data:`PIECE_CUT_MARGIN` where
    a pen or a cable lies along the piece's other sides); None if there is none.

    A corner piece, cut off by two things across the page (a cable one way, a pen the
    other), shares only two sides with the whole: it gives way only when the whole scores
    within :data:`PIECE_MARGIN`, both cut sides have an object along them with the page's
    sides going on past them, and the rest of the whole is no darker than the piece by
    OBJECT_DARKER (paper, not a magazine or a shadow the page lies beside). Such a whole is
    judged by the sides it shares once snapped: if that is three, by the rules for three
    (snapping put its fourth side onto the piece's), its rest still paper; a page partly on
    a magazine, or a phone over its end, is not taken for a page's corner piece.

    An open notebook's two pages are its pieces too, and the spread wins as with
    :func:`container`; a stack's top sheet shares no side with the stack's outline.
    """
    area = polygon_area(best.quad)

    def fits(c, share=CONTAINED, px=PIECE_SHARED_PX, sides=PIECE_SHARED_SIDES - 1):
        return (polygon_area(c.quad) >= PIECE_RATIO * area
                and inside_share(best.quad, c.quad) >= share
                and _shared_sides(best.quad, c.quad, px) >= sides)

    # Before snapping: the best wholes sharing three sides, and those sharing two among the
    # best sharing at least two.
    near = sorted(((c, _shared_sides(best.quad, c.quad, PIECE_NEAR_PX)) for c in candidates
                   if c.score > 0 and fits(c, PIECE_NEAR_SHARE, PIECE_NEAR_PX)),
                  key=lambda pair: pair[0].score, reverse=True)
    three = [c for c, n in near if n >= PIECE_SHARED_SIDES][:PIECE_TRIES]
    corners = [c for c, n in near[:PIECE_TRIES] if n < PIECE_SHARED_SIDES]
    beyond = None  # the piece's support.beyond_corners, once needed
    paper = None  # the piece's median grey, once needed
    for group, corner in ((three, False), (corners, True)):
        for c in snap_and_score(group, planes, done):
            if c.score < MIN_SCORE or not fits(c, sides=PIECE_SHARED_SIDES - corner):
                continue
            cuts = np.flatnonzero(~_on_sides(best.quad, c.quad, PIECE_SHARED_PX))
            if corner:  # the rest of a corner whole is paper, whatever it shares once snapped
                if paper is None:
                    paper = _region_grey_chroma(best.quad, None, planes)[0]
                if _region_grey_chroma(c.quad, best.quad, planes)[0] < paper - OBJECT_DARKER:
                    continue
            three_shared = len(cuts) <= 4 - PIECE_SHARED_SIDES
            if c.score < best.score - (PIECE_CUT_MARGIN if three_shared else PIECE_MARGIN):
                continue
            if three_shared and c.score >= best.score - PIECE_MARGIN:
                return c
            if beyond is None:
                beyond = beyond_corners(best.quad, planes)
            if _goes_on(beyond, cuts) and _cut_by_object(best.quad, cuts, planes):
                return c
    return None


def _goes_on(beyond: np.ndarray, sides) -> bool:
    """Whether past an end of each of the given sides of a quad, one of the sides meeting it
    goes on being a boundary (``beyond``: the quad's support.beyond_corners, at least
    :data:`PIECE_GOES_ON`): the page's sides go on past a pen lying across it; past the
    page's own end, with a mug or the dark desk along it, nothing does."""
    return all(max(beyond[i], beyond[(i + 1) % 4]) >= PIECE_GOES_ON for i in sides)


def _cut_by_object(quad: np.ndarray, sides, planes: np.ndarray) -> bool:
    """Whether, just outside each of the given sides of the quad (up to
    :data:`PIECE_CUT_REACH` pixels), an object lies along at least :data:`PIECE_CUT_SHARE` of
    it: somewhere darker than the quad's paper by OBJECT_DARKER, or more colourful than
    SMALL_PAGE_CHROMA."""
    paper, _ = _region_grey_chroma(quad, None, planes)
    h, w = planes.shape[1:]
    t = np.linspace(*SIDE_SPAN, SIDE_PROBES)
    offsets = np.arange(2.0, PIECE_CUT_REACH + 1)
    centre = 128.0 * CHROMA_GAIN
    for i in sides:
        p0, p1 = quad[i], quad[(i + 1) % 4]
        d = p1 - p0
        normal = np.array([-d[1], d[0]]) / max(float(np.hypot(*d)), 1e-9)  # into the quad
        pts = p0 + t[:, None, None] * d - offsets[None, :, None] * normal  # (along, out, 2)
        x = np.clip(pts[..., 0], 0, w - 1).astype(np.float32)
        y = np.clip(pts[..., 1], 0, h - 1).astype(np.float32)
        grey, a, b = (cv2.remap(plane, x, y, cv2.INTER_LINEAR) for plane in planes)
        chroma = np.hypot(a - centre, b - centre) / CHROMA_GAIN
        thing = ((grey.min(axis=1) < paper - OBJECT_DARKER)
                 | (chroma.max(axis=1) > SMALL_PAGE_CHROMA))
        if thing.mean() < PIECE_CUT_SHARE:
            return False
    return len(sides) > 0


def _shared_sides(quad: np.ndarray, other: np.ndarray, px: float) -> int:
    """How many sides of ``quad`` lie on a side's line of ``other`` (both ends within ``px``
    pixels of it)."""
    return int(_on_sides(quad, other, px).sum())


def _on_sides(quad: np.ndarray, other: np.ndarray, px: float) -> np.ndarray:
    """Per side of ``quad``: whether it lies on a side's line of ``other`` (both ends within
    ``px`` pixels of it)."""
    out = np.zeros(4, bool)
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
                out[i] = True
                break
    return out


def _desk_top_like(quad: np.ndarray, planes: np.ndarray) -> bool:
    """Whether the quad could be a light, neutral desk top with a page on it: not small,
    neutral (:data:`DESK_TOP_CHROMA`), and with a lighter part (the page; paper is the
    lightest of a page's own inside, its print darker): the grey at the quantile
    :data:`DESK_TOP_PAGE_QUANTILE` more than :data:`CONTRAST_STEP` over the median."""
    if is_small(quad, planes):
        return False
    grey, chroma = _region_grey_chroma(quad, None, planes, DESK_TOP_PAGE_QUANTILE)
    return chroma <= DESK_TOP_CHROMA and grey[1] - grey[0] > CONTRAST_STEP


def paper_beyond(quad: np.ndarray, planes: np.ndarray) -> bool:
    """Whether, past one of the quad's sides (:data:`BEYOND_REACH` of its extent across the
    side), the grey is nearer the inside's than the background's on at least
    :data:`BEYOND_SHARE` of the side: the page goes on there (the other page of a spread,
    past the spiral or the gutter)."""
    sides = quad_sides(quad)
    if sides is None:
        return False
    gray = planes[0]
    h, w = gray.shape
    stats = quad_stats(quad, planes)
    inside, background = float(median(stats[:, 2])), float(median(stats[:, 3]))
    sign = 1.0 if inside >= background else -1.0
    t = np.linspace(*SIDE_SPAN, SIDE_PROBES)
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
    return quantiles(grey, (0.5, quantile)), chroma


def uncut_best(ranked: list[Candidate], planes: np.ndarray) -> list[Candidate]:
    """The ranked candidates, with the best :data:`UNCUT_TRIES` whose sides go on past a
    corner (a piece of the page cut off by a cable across it) tried with that side moved out
    to where they end (:func:`~imgtool.scan.sides.uncut`), snapped and scored; best first."""
    extra = []
    for c in ranked[:UNCUT_TRIES]:
        if c.score <= 0 or beyond_corners(c.quad, planes).max() <= BEYOND_FREE:
            continue
        for quad in uncut(c.quad, planes):
            quad = snap(quad, planes)
            score, support = score_quad(quad, planes)
            extra.append(Candidate(quad, c.source + "-uncut", score, support, ordered=True))
    if not extra:
        return ranked
    out = dedupe(ranked + extra)
    out.sort(key=lambda c: c.score, reverse=True)
    return out
