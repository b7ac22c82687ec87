"""Candidate pages from four straight sides: the page's outline where it is broken and cut.

A candidate generator beside those of :mod:`~imgtool.scan.candidates`, for a page on a busy
desk. There a sheet's outline is rarely one closed contour: a cable or a pen crosses it, the
sheets of the stack beneath it and a magazine beside it touch it, and the bright region of paper
is the whole stack, not the top sheet. What stays is that the top sheet's outline is four
straight sides, each a boundary along most of its length (a faint step where it lies on the
sheet below, a clear one over the desk), broken only where something lies across it.

So the straight lines of the edge map are gathered (Hough segments, collinear ones merged into
one line, so that a side cut by a pen is still one line), every four of them that can be a
page's sides (two nearly opposite pairs) are closed into a quadrilateral, and each quad is
ranked by how much of each of its four sides, between its corners, is a page boundary
(:func:`~imgtool.scan.support.side_support_many`), each line first moved across by a few
pixels to where it is most a boundary (a side's pieces are found on its edge and on its
shadow's). The best few that are lighter inside than outside (paper, not a phone's screen) go
on to detection's snapping and scoring like any other candidate (source ``sides``), and with
them the best quad whose sides end at its corners: lines of different things (a desk's edge, a
sheet beneath) close quads whose sides are all strong but run on past a corner.

A page's fourth side lying on a sheet of the same white may show no line at all: three of the
lines, two facing each other and one across them, are also closed by a fourth side where the
two end (source ``sides-3``), left to snapping to find.

A quad cut out of the page by a cable or a pen lying across it has two corners past which
the page's sides go on; :func:`uncut` moves the cutting side out to where they end. Where the
page's sides past the cut are too faint to follow (a white page on a light desk), the page's
far side is still one of the lines: :func:`grown` moves the cutting side out onto each line
beyond it.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from imgtool.scan.candidates import HOUGH_RHO, HOUGH_THETA, Candidate
from imgtool.scan.quad import polygon_area
from imgtool.scan.support import (
    SHIFTED_SAMPLES,
    beyond_corners,
    mean_step,
    side_support_many,
)

#: Hough on the edge map: votes, least segment length (share of the short side, as a divisor)
#: and largest gap bridged (pixels). Shorter than the frame-side lines of
#: :func:`~imgtool.scan.candidates.line_candidates`: a page on a busy desk is small, and its
#: sides come in pieces between the things lying across them.
HOUGH_VOTES = 30
HOUGH_MIN_LENGTH_DIVISOR = 16
HOUGH_MAX_GAP = 10
#: Segments this close in direction (degrees) and in distance from the origin (pixels) lie on
#: one line.
MERGE_ANGLE, MERGE_DISTANCE = 2.0, 4.0
#: The longest lines (summed length of their segments) whose boundary share is measured, and
#: the heaviest of those kept (length times boundary share): 30, not 20, found more
#: pages on a busy desk (clutter 0.814 -> 0.824 on seeds 0-29, 0.747 -> 0.758 on 100-139);
#: 40 lost as many as it found.
LINES_MEASURED = 120
LINES_KEPT = 30
#: A line is moved across by up to this many pixels to where it is most a boundary.
SHIFT_REACH = 6
#: Two sides of a page that face each other differ in direction by at most this (degrees, a
#: page in steep perspective); two that meet at a corner, by at least 90 minus it.
OPPOSITE_MAX = 40.0
#: Smallest quad proposed, as a share of the photo (a receipt on a desk covers 4-5%): four
#: straight sides closed round a phone or a label are more often a thing than a page.
MIN_SHARE = 0.03
#: A quad's corners may lie this share of the photo's width (height) past its frame: a page
#: running off the photo; farther, the lines meet far from anything seen.
CORNER_PAST_FRAME = 0.1
#: Smallest and largest corner angle (degrees) of a quad worth ranking.
CORNER_RANGE = (45.0, 135.0)
#: The quads handed on to detection, of the best this many by side support (those darker
#: inside than outside left out).
QUADS_KEPT = 4
CHECKED = 12
#: A side must be at least this share of page boundary for its quad to be ranked.
MIN_SIDE_SUPPORT = 0.3
#: One more quad is handed on: the best of the :data:`BEYOND_RANKED` best-ranked, once each
#: rank is lowered by :data:`BEYOND_PENALTY` times how much of a boundary its sides go on
#: being past its most open corner (:func:`~imgtool.scan.support.beyond_corners`). Four
#: lines of different things (a desk's edge, a sheet beneath, a magazine) close quads whose
#: sides are all strong, but at some corner a side runs straight on into the thing its line
#: belongs to; a page's sides end at its corners. Measured on the development seeds: clutter
#: 0.825 -> 0.864 (0-29), 0.745 -> 0.753 (30-69), 0.747 -> 0.773 (100-139); hidden corners
#: 0.931 -> 0.952 (30-99), 0.933 -> 0.939 (100-159), 0.9472 -> 0.9465 (300-359); the other
#: ranges and the real photos unchanged. Handing on the four best by the lowered rank
#: instead, not one more, found fewer (clutter 100-139: 0.766); a penalty of 0.5 found the
#: same as 0.3 there.
BEYOND_RANKED = 40
BEYOND_PENALTY = 0.3
#: Quads closed from three lines (a fourth side with no line found): each of the three at
#: least this share of page boundary, the best this many handed on.
COMPLETED_SUPPORT = 0.6
COMPLETED_KEPT = 2


def side_quads(edges: np.ndarray, planes: np.ndarray,
               lines: np.ndarray | None = None) -> list[Candidate]:
    """Candidate pages closed from four of the edge map's straight lines.

    Parameters
    ----------
    edges : numpy.ndarray
        uint8 edge map (0 or 255) of the detection-scale photo, its faint outlines included
        (:func:`~imgtool.scan.candidates.edge_map` with lowered thresholds).
    planes : numpy.ndarray
        The photo's evidence planes (:func:`~imgtool.scan.support.evidence_planes`).
    lines : numpy.ndarray, optional
        The edge map's :func:`side_lines`, if already found.

    Returns
    -------
    list of Candidate
        At most :data:`QUADS_KEPT` quads (clockwise, detection pixels, source ``sides``)
        whose four sides are most a page boundary all round (each at least
        :data:`MIN_SIDE_SUPPORT`), lighter inside than outside, best first; then the best
        of those whose sides also end at their corners (:data:`BEYOND_PENALTY`), if it is
        not among them.

    Examples
    --------
    >>> import cv2
    >>> from imgtool.scan.candidates import edge_map
    >>> from imgtool.scan.quad import order_corners
    >>> from imgtool.scan.support import evidence_planes
    >>> photo = np.full((300, 400, 3), 60, np.uint8)
    >>> page = np.array([[100, 50], [300, 60], [290, 250], [90, 240]])
    >>> _ = cv2.fillConvexPoly(photo, page.astype(np.int32), (230, 230, 230))
    >>> found = side_quads(edge_map(photo[:, :, 0]), evidence_planes(photo))
    >>> bool(np.abs(order_corners(found[0].quad) - page).max() < 3)
    True
    """
    h, w = edges.shape
    lines = side_lines(edges, planes) if lines is None else lines
    if len(lines) < 4:
        return []
    quads, keys = _closed_quads(lines, w, h)
    if not len(quads):
        return []
    sides = _side_supports(quads, keys, planes)
    rank = _rank(sides)
    out = _best(quads, rank, QUADS_KEPT, "sides", planes)
    out += _ending_best(quads, rank, out, planes)
    return out + _completed(lines, w, h, planes)


def _ending_best(quads, rank, handed, planes) -> list[Candidate]:
    """The best quad whose sides end at its corners (:data:`BEYOND_PENALTY`), if it is not
    among those ``handed`` on already; none otherwise."""
    ended = np.zeros_like(rank)
    for i in np.argsort(-rank)[:BEYOND_RANKED]:
        if rank[i] > 0:
            open_corner = float(beyond_corners(quads[i], planes).max())
            ended[i] = max(rank[i] - BEYOND_PENALTY * open_corner, 1e-6)
    best = _best(quads, ended, 1, "sides", planes)
    if best and any(np.array_equal(c.quad, best[0].quad) for c in handed):
        return []
    return best


def _best(quads, rank, k: int, source: str, planes) -> list[Candidate]:
    """The best ``k`` quads by ``rank`` (above 0) of the :data:`CHECKED` best that are
    lighter inside than outside."""
    out = []
    for i in np.argsort(-rank)[:CHECKED]:
        if rank[i] <= 0 or len(out) == k:
            break
        if _lighter_inside(quads[i], planes):
            out.append(Candidate(quads[i], source))
    return out


def _completed(lines: np.ndarray, w: int, h: int, planes) -> list[Candidate]:
    """Quads from three of the lines, two facing each other and one across them, closed by a
    fourth side where the two end (the page's fourth side over a sheet of the same white may
    show no line at all): the best :data:`COMPLETED_KEPT` by the three sides' support, each
    at least :data:`COMPLETED_SUPPORT` (source ``sides-3``; snapping finds the fourth)."""
    n = len(lines)
    meet, diff = _meetings(lines)
    i, j = np.triu_indices(n, 1)
    keep = diff[i, j] <= OPPOSITE_MAX
    a, c = np.repeat(i[keep], n), np.repeat(j[keep], n)
    b = np.tile(np.arange(n), int(keep.sum()))
    ok = (np.minimum(diff[a, b], diff[c, b]) >= 90 - OPPOSITE_MAX) & (b != a) & (b != c)
    a, b, c = a[ok], b[ok], c[ok]
    if not len(a):
        return []
    ends = np.array([_ends(line) for line in lines])  # (n, 2, 2)
    p_ab, p_cb = meet[a, b], meet[c, b]
    # the far end of each of the two from the line across them
    far_a = ends[a, np.argmax(np.linalg.norm(ends[a] - p_ab[:, None], axis=-1), axis=1)]
    far_c = ends[c, np.argmax(np.linalg.norm(ends[c] - p_cb[:, None], axis=-1), axis=1)]
    quads = np.stack([p_ab, far_a, far_c, p_cb], axis=1)
    on = np.column_stack([a, np.full(len(a), -1), c, b])  # the fourth side on no line
    quads, on = _plausible(quads, on, w, h)
    if not len(quads):
        return []
    known = _side_supports(quads, on, planes)[:, [0, 2, 3]]
    rank = 0.5 * known.mean(axis=1) + 0.5 * known.min(axis=1)
    rank[known.min(axis=1) < COMPLETED_SUPPORT] = 0
    return _best(quads, rank, COMPLETED_KEPT, "sides-3", planes)


def _lighter_inside(quad: np.ndarray, planes: np.ndarray) -> bool:
    """Whether the quad is lighter inside its boundary than outside, over its four sides
    (paper on a desk; a phone's screen, a mouse pad or a dark cover are darker than what
    lies around them)."""
    return mean_step(quad, planes, SHIFTED_SAMPLES) > 0


def _rank(sides: np.ndarray) -> np.ndarray:
    """A quad's rank from its four side supports: their mean and their least, 0 when a side
    is less than :data:`MIN_SIDE_SUPPORT`."""
    rank = 0.5 * sides.mean(axis=1) + 0.5 * sides.min(axis=1)
    rank[sides.min(axis=1) < MIN_SIDE_SUPPORT] = 0
    return rank


def side_lines(edges: np.ndarray, planes: np.ndarray) -> np.ndarray:
    """(N, 5): direction (degrees, 0..180), signed distance from the origin (pixels), weight,
    and where along the direction its segments start and end, of the :data:`LINES_KEPT`
    heaviest lines of the edge map. A line's weight is the summed length of its segments
    times the share of its span that is a page boundary: a text line or a table's ruling is a
    long line but no boundary, a cable neither."""
    segs = cv2.HoughLinesP(edges, HOUGH_RHO, HOUGH_THETA, threshold=HOUGH_VOTES,
                           minLineLength=min(edges.shape) // HOUGH_MIN_LENGTH_DIVISOR,
                           maxLineGap=HOUGH_MAX_GAP)
    if segs is None:
        return np.empty((0, 5))
    segs = segs.reshape(-1, 4).astype(np.float64)
    dx, dy = segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1]
    lengths = np.hypot(dx, dy)
    theta = np.degrees(np.arctan2(dy, dx)) % 180
    rad = np.radians(theta)
    # distance along the normal (-sin, cos) of the direction; position along the direction
    rho = -np.sin(rad) * segs[:, 0] + np.cos(rad) * segs[:, 1]
    # [direction, distance, summed length, first and last position along it]
    lines: list[list[float]] = []
    for i in np.argsort(-lengths):
        for line in lines:
            if _same_line(theta[i], rho[i], line, MERGE_DISTANCE):
                along = _along(line[0], segs[i])
                line[2] += lengths[i]
                line[3], line[4] = min(line[3], *along), max(line[4], *along)
                break
        else:
            lines.append([theta[i], rho[i], lengths[i], *sorted(_along(theta[i], segs[i]))])
    lines.sort(key=lambda line: -line[2])
    lines = lines[:LINES_MEASURED]
    for line in lines:
        t = math.radians(line[0])
        d = np.array([math.cos(t), math.sin(t)])
        normal = np.array([-d[1], d[0]])
        start = line[1] * normal + line[3] * d
        end = line[1] * normal + line[4] * d
        # moved across to where it is most a boundary: a side's pieces are found on its edge
        # and on the edge of its shadow, a few pixels apart
        shifts = np.arange(-SHIFT_REACH, SHIFT_REACH + 1.0)
        support = side_support_many(start + shifts[:, None] * normal,
                                    end + shifts[:, None] * normal, normal, planes)
        k = int(np.argmax(support))
        line[1] += shifts[k]
        line[2] *= float(support[k])
    # the pieces of one side found on its edge and on its shadow's are one line now
    merged: list[list[float]] = []
    for line in sorted(lines, key=lambda line: -line[2]):
        for kept in merged:
            if _same_line(line[0], line[1], kept, MERGE_DISTANCE / 2):
                kept[2] += line[2]
                t = math.radians(kept[0])
                along = _ends(line) @ np.array([math.cos(t), math.sin(t)])
                kept[3], kept[4] = min(kept[3], *along), max(kept[4], *along)
                break
        else:
            merged.append(line)
    merged.sort(key=lambda line: -line[2])
    return np.array(merged[:LINES_KEPT], np.float64).reshape(-1, 5)


#: Lines of a fainter edge map added to those found (:func:`more_lines`).
EXTRA_LINES = 6


def more_lines(lines: np.ndarray, fainter: np.ndarray) -> np.ndarray:
    """``lines`` and the heaviest :data:`EXTRA_LINES` of ``fainter`` that lie on none of
    them."""
    extra = [f for f in fainter
             if not any(_same_line(f[0], f[1], line, MERGE_DISTANCE) for line in lines)]
    if not extra:
        return lines
    return np.vstack([lines, np.array(extra[:EXTRA_LINES])])


def _ends(line) -> np.ndarray:
    """(2, 2): the first and last point of a line's segments (``line`` as :func:`side_lines`
    gives it)."""
    t = math.radians(line[0])
    d = np.array([math.cos(t), math.sin(t)])
    normal = np.array([-d[1], d[0]])
    return line[1] * normal + np.array([line[3], line[4]])[:, None] * d


def _same_line(theta: float, rho: float, line, distance: float) -> bool:
    """Whether the line (direction in degrees, distance from the origin) lies on ``line``
    (within :data:`MERGE_ANGLE` and ``distance``); directions near 0 and near 180 degrees are
    the same, with the normal the other way round."""
    d = theta - line[0]
    if d > 90:
        d, rho = d - 180, -rho
    elif d < -90:
        d, rho = d + 180, -rho
    return abs(d) <= MERGE_ANGLE and abs(rho - line[1]) <= distance


def _along(theta: float, seg) -> tuple[float, float]:
    """Where a segment's ends lie along the direction ``theta`` (degrees)."""
    t = math.radians(theta)
    c, s = math.cos(t), math.sin(t)
    return c * seg[0] + s * seg[1], c * seg[2] + s * seg[3]


def _meetings(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every two of the lines (as :func:`side_lines` gives them): where they meet, (n, n, 2)
    (inf or nan for parallel ones), and the angle between them, (n, n) degrees 0..90."""
    theta = np.radians(lines[:, 0])
    a, b = -np.sin(theta), np.cos(theta)  # the normals; a line is a x + b y = rho
    rho = lines[:, 1]
    det = a[:, None] * b[None, :] - a[None, :] * b[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        meet = np.stack([(b[None, :] * rho[:, None] - b[:, None] * rho[None, :]) / det,
                         (a[:, None] * rho[None, :] - a[None, :] * rho[:, None]) / det], -1)
    diff = np.abs(lines[:, None, 0] - lines[None, :, 0]) % 180
    return meet, np.minimum(diff, 180 - diff)


def _closed_quads(lines: np.ndarray, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Every plausible page closed from four of the lines: (K, 4, 2) clockwise quads and
    (K, 4) the line of each side (side i from corner i to i + 1).

    Two pairs of nearly opposite lines (:data:`OPPOSITE_MAX`) whose lines cross at corners of
    :data:`CORNER_RANGE`, convex, of at least :data:`MIN_SHARE` of the photo, every corner in
    it or a tenth of it outside."""
    n = len(lines)
    meet, diff = _meetings(lines)
    i, j = np.triu_indices(n, 1)
    keep = diff[i, j] <= OPPOSITE_MAX
    pairs = np.column_stack([i[keep], j[keep]])
    k, m = np.triu_indices(len(pairs), 1)
    order = np.column_stack([pairs[k, 0], pairs[m, 0], pairs[k, 1], pairs[m, 1]])  # a b c d
    oa, ob, oc, od = order.T
    cross_angles = np.minimum.reduce([diff[oa, ob], diff[ob, oc], diff[oc, od], diff[od, oa]])
    order = order[(cross_angles >= 90 - OPPOSITE_MAX)
                  & (oa != ob) & (oa != od) & (oc != ob) & (oc != od)]
    if not len(order):
        return np.empty((0, 4, 2)), np.empty((0, 4), int)
    quads = meet[np.roll(order, 1, axis=1), order]  # corner i where line i - 1 meets line i
    return _plausible(quads, order, w, h)


def _plausible(quads: np.ndarray, order: np.ndarray, w: int, h: int):
    """The quads (K, 4, 2) that can be a page, turned clockwise, and the line of each of their
    sides (``order``, side i from corner i to i + 1, turned with them): convex, corners of
    :data:`CORNER_RANGE`, at least :data:`MIN_SHARE` of the photo, every corner in it or a
    tenth of it outside."""
    order = order.copy()
    edge = np.roll(quads, -1, axis=1) - quads
    turn = edge[:, :, 0] * np.roll(edge, -1, axis=1)[:, :, 1] - edge[:, :, 1] * np.roll(
        edge, -1, axis=1)[:, :, 0]
    clockwise = (turn > 0).all(axis=1)
    counter = (turn < 0).all(axis=1)
    # the other way round: corner i is the old 3 - i, side i lies on the old side 2 - i
    quads = quads.copy()
    quads[counter] = quads[counter][:, ::-1]
    order[counter] = order[counter][:, [2, 1, 0, 3]]
    ok = clockwise | counter
    quads, order = quads[ok], order[ok]
    x, y = quads[:, :, 0], quads[:, :, 1]
    area = _areas(quads)
    mx, my = CORNER_PAST_FRAME * w, CORNER_PAST_FRAME * h
    inside = ((x > -mx) & (x < w - 1 + mx) & (y > -my) & (y < h - 1 + my)).all(axis=1)
    to_prev = np.roll(quads, 1, axis=1) - quads
    to_next = np.roll(quads, -1, axis=1) - quads
    cos = (to_prev * to_next).sum(-1) / (np.linalg.norm(to_prev, axis=-1)
                                         * np.linalg.norm(to_next, axis=-1) + 1e-12)
    corner = np.degrees(np.arccos(np.clip(cos, -1, 1)))
    ok = ((area >= MIN_SHARE * w * h) & inside & (corner.min(axis=1) >= CORNER_RANGE[0])
          & (corner.max(axis=1) <= CORNER_RANGE[1]))
    return quads[ok], order[ok]


def _areas(quads: np.ndarray) -> np.ndarray:
    """(K,): the areas of (K, 4, 2) quads (the shoelace formula)."""
    x, y = quads[:, :, 0], quads[:, :, 1]
    return 0.5 * np.abs((x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y).sum(axis=1))


def _side_supports(quads: np.ndarray, on: np.ndarray, planes) -> np.ndarray:
    """(K, 4): each quad's four side supports. A side is given by its line and the two lines
    that end it; the sides on one line facing one way share a normal and are measured in one
    call of the kernel. A side on no line (-1) is not measured (NaN)."""
    starts = quads.reshape(-1, 2)
    ends = np.roll(quads, -1, axis=1).reshape(-1, 2)
    d = ends - starts
    facing = (d[:, 0] > 0) | ((d[:, 0] == 0) & (d[:, 1] > 0))
    ids = np.column_stack([on.ravel(), facing, np.roll(on, 1, axis=1).ravel(),
                           np.roll(on, -1, axis=1).ravel()])
    unique, first, back = np.unique(ids, axis=0, return_index=True, return_inverse=True)
    values = np.empty(len(unique))
    groups = unique[:, 0] * 2 + unique[:, 1]
    values[:] = np.nan
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        if unique[members[0], 0] < 0:
            continue  # a side on no line: not measured
        rows = first[members]
        dd = d[rows[0]]
        normal = np.array([-dd[1], dd[0]]) / max(float(np.hypot(*dd)), 1e-9)  # into the page
        values[members] = side_support_many(starts[rows], ends[rows], normal, planes)
    return values[back.ravel()].reshape(-1, 4)


#: Following a page's sides past a cut: steps of this share of the side's length, at most
#: this many, each a stretch of two steps that must be at least FOLLOW_SUPPORT boundary; the
#: side ends after FOLLOW_GAP steps that are not (a pen across it is one or two).
FOLLOW_STEP = 0.04
FOLLOW_STEPS = 40
FOLLOW_SUPPORT = 0.5
FOLLOW_GAP = 2
#: A corner is a cut when the boundary goes on past it for at least this many steps.
FOLLOW_MIN = 3


def uncut(quad: np.ndarray, planes: np.ndarray) -> list[np.ndarray]:
    """The quad with a side that cuts across the page (a cable, a pen or a shadow's edge
    lying across it) moved out to where the page's two sides beside it end.

    For each side, the two neighbouring sides are followed straight on past its corners while
    they go on being a boundary (:data:`FOLLOW_SUPPORT`, gaps of up to :data:`FOLLOW_GAP`
    steps bridged); when both go on for at least :data:`FOLLOW_MIN` steps, the side is moved
    to where they end. The caller snaps and scores the result.

    Examples
    --------
    >>> from imgtool.scan.support import evidence_planes
    >>> photo = np.full((300, 400, 3), 60, np.uint8)
    >>> photo[50:250, 100:300] = 230
    >>> top_half = np.array([[99.5, 49.5], [299.5, 49.5], [299.5, 150], [99.5, 150]])
    >>> [np.round(q).astype(int).tolist() for q in uncut(top_half, evidence_planes(photo))]
    [[[100, 50], [300, 50], [300, 250], [100, 250]]]
    """
    out = []
    for j in range(4):
        a, b = quad[j], quad[(j + 1) % 4]
        ends = []
        for corner, other in ((a, quad[j - 1]), (b, quad[(j + 2) % 4])):
            d = corner - other
            length = float(np.hypot(*d))
            if length < 1:
                break
            steps = _follow(corner, d / length, FOLLOW_STEP * length, planes)
            if steps < FOLLOW_MIN:
                break
            ends.append(corner + steps * FOLLOW_STEP * d)
        if len(ends) == 2:
            moved = quad.copy()
            moved[j], moved[(j + 1) % 4] = ends
            out.append(moved)
    return out


def _follow(corner, u, step: float, planes) -> int:
    """How many steps of ``step`` pixels from ``corner`` in direction ``u`` the boundary goes
    on (gaps of :data:`FOLLOW_GAP` steps bridged)."""
    k = np.arange(FOLLOW_STEPS)
    starts = corner + (k * step)[:, None] * u
    ends = corner + ((k + 2) * step)[:, None] * u
    h, w = planes.shape[1:]
    inside = ((ends[:, 0] >= 0) & (ends[:, 0] <= w - 1) & (ends[:, 1] >= 0)
              & (ends[:, 1] <= h - 1))
    normal = np.array([-u[1], u[0]])
    on = side_support_many(starts, ends, normal, planes) >= FOLLOW_SUPPORT
    on &= inside
    last, gap = 0, 0
    for i, hit in enumerate(on):
        if hit:
            last, gap = i + 1, 0
        else:
            gap += 1
            if gap > FOLLOW_GAP:
                break
    return last


#: Growing a piece of the page into the whole (:func:`grown`): a side is moved out onto one of
#: the lines when both of its ends move out past the piece's corners by at least GROW_MIN_PX
#: and the quad grows by at most GROW_MAX_RATIO (the piece of a page cut off by a cable or a
#: pen lying across it is not much less than half of it).
GROW_MIN_PX = 4.0
GROW_MAX_RATIO = 3.0


def grown(quad: np.ndarray, lines: np.ndarray, w: int, h: int) -> list[Candidate]:
    """The quad with one side moved out onto one of the edge map's lines (as
    :func:`side_lines` gives them), the two sides beside it lengthened to meet it: the whole
    page round a piece of it cut off by a cable or a pen, whose own outline's sides are among
    the lines though no four of them ranked high enough (source ``grown``). Only quads
    that hold the piece, grow it by at most :data:`GROW_MAX_RATIO` and can be a page
    (:func:`_plausible`); the caller scores them.

    Examples
    --------
    >>> piece = np.array([[100., 50.], [300., 50.], [300., 150.], [100., 150.]])
    >>> lines = np.array([[0.0, 250.0, 200.0, 100.0, 300.0]])  # y = 250, left to right
    >>> [c.quad.round().tolist() for c in grown(piece, lines, 400, 300)]
    [[[100.0, 50.0], [300.0, 50.0], [300.0, 250.0], [100.0, 250.0]]]
    """
    if not len(lines):
        return []
    theta = np.radians(lines[:, 0])
    normals = np.column_stack([-np.sin(theta), np.cos(theta)])
    rho = lines[:, 1]
    area = polygon_area(quad)
    quads = []
    for j in range(4):
        # the side from corner j to j + 1; the sides beside it run from corner j - 1 to j and
        # from corner j + 2 to j + 1
        ends = []
        for far, near in ((quad[j - 1], quad[j]), (quad[(j + 2) % 4], quad[(j + 1) % 4])):
            d = near - far
            with np.errstate(divide="ignore", invalid="ignore"):
                s = (rho - normals @ far) / (normals @ d)
            length = float(np.hypot(*d))
            ok = np.isfinite(s) & (s > 1 + GROW_MIN_PX / max(length, 1e-9))
            ends.append((far + np.where(ok, s, 0.0)[:, None] * d, ok))
        (a, ok_a), (b, ok_b) = ends
        for k in np.flatnonzero(ok_a & ok_b):
            q = quad.copy()
            q[j], q[(j + 1) % 4] = a[k], b[k]
            quads.append(q)
    if not quads:
        return []
    quads_arr = np.array(quads)
    quads_arr = quads_arr[_areas(quads_arr) <= GROW_MAX_RATIO * area]
    if not len(quads_arr):
        return []
    plausible, _ = _plausible(quads_arr, np.zeros((len(quads_arr), 4), int), w, h)
    return [Candidate(q, "grown") for q in plausible]
