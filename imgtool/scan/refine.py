"""Sub-pixel corner refinement on the full-resolution photo.

The step after detection (:mod:`~imgtool.scan.detection` finds the corners on a copy about
1000 pixels across): :func:`refine_corners` fits each side's line to the photo's own edge
and moves each corner to where its two sides meet. Then :mod:`~imgtool.scan.aspect` finds
the page's proportions and :mod:`~imgtool.scan.warp` flattens it.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from imgtool.errors import InvalidParameterError
from imgtool.scan.median import median, quantiles
from imgtool.scan.quad import as_quad

__all__ = ["refine_corners"]

# --- tuning ----------------------------------------------------------------------------------
# refine_corners' docstring quotes most of these values; change it with them.

#: Default half-width (pixels) of the band searched across a side: this share of the image
#: diagonal, at least this many pixels (the error of corners found on a copy downscaled 4x).
_SEARCH_SHARE = 0.012
_SEARCH_MIN_PX = 6.0
#: A side within max(_FRAME_MIN_PX, search / _FRAME_DIVISOR) px of a frame border at both
#: ends runs off the photo there: it keeps its line (the nearest step is print on the page).
_FRAME_MIN_PX = 2.0
_FRAME_DIVISOR = 8
#: Parts of a side (shares of its length, from its first corner) fitted with a line: most of
#: the side (its ends can be rounded, torn or curled), and each end next to its corner (a
#: corner is where the LOCAL edges meet: curved book pages), short of the tip itself.
_WHOLE_PART = (0.08, 0.92)
_FIRST_END = (0.04, 0.4)
_LAST_END = (0.6, 0.96)
#: Where (share of the side) an end's line must pass near the whole side's: half-way along
#: the end's stretch, where a curled end still meets the side's line.
_FIRST_END_MID = 0.22
_LAST_END_MID = 0.78
#: Agreement of a side end's line with the whole side's line: distance half-way along the
#: end (pixels, or share of the side), and angle. Real curled pages stay within 1.6 % and
#: 1.6 degrees (measured on the real photos).
_END_AGREE_PX, _END_AGREE, _END_TURN_DEG = 2.0, 0.025, 3.0
#: How far (multiples of ``search``) a corner may move, in the frame and beyond it (a corner
#: beyond the frame is extrapolated from its sides, so coarser to begin with); farther means
#: nearly parallel sides, and the corner stays.
_REACH_IN_FRAME = 2.0
_REACH_BEYOND_FRAME = 4.0

#: Sides shorter than this (pixels) are not refined: too short to hold a line.
_MIN_SIDE_PX = 8
#: Fewest profiles (and strong edge points) a line is fitted to, in any part of a side.
_MIN_PROFILES = 8
#: Profiles across a side: about one per this many pixels, at most _MAX_PROFILES over the
#: side's whole length (the cost), and at least _MIN_PROFILES_SPAN over the profiled span so
#: that a side end (36 % of the side) gets at least _MIN_PROFILES.
_PROFILE_SPACING_PX = 3
_MAX_PROFILES = 160
_MIN_PROFILES_SPAN = 24
#: Offsets (pixels, along the side) of the parallel profiles averaged into one, against noise.
_PROFILE_SHIFTS = (-1.0, 0.0, 1.0)

#: Width in pixels of the two windows of the step detector across a side.
_STEP = 5
#: A side's polarity from levels (see _Profiles.polarity): the quantile of the page past the
#: search band taken as its paper, and the least difference from the background beyond the
#: band that decides it.
_PAPER_QUANTILE = 0.9
_POLARITY_CLEAR = 10.0
#: Share of the step that must hold one window further out (detection's FAR_SHARE, the same
#: rule at full resolution).
_FAR_SHARE = 0.3
#: Sub-pixel location: the profile smoothed by a Gaussian of this size (pixels across) and
#: sigma, then the steepest derivative within this many pixels of the step's peak.
_FINE_KSIZE = 5
_FINE_SIGMA = 1.0
_PEAK_WINDOW_PX = 2
#: An edge point counts only where its step is at least this share of the part's median step
#: (weaker ones missed the edge: a gap, a hand over it).
_STRONG_SHARE = 0.3

#: RANSAC: hypotheses tried (at most), and the inlier band (pixels either side of a line).
_RANSAC_TRIES = 200
_INLIER_PX = 1.5
#: A side's fit is used only if this share of its profiles are inliers of one line, and at
#: least this many points.
_MIN_INLIER_SHARE = 0.4
_MIN_INLIERS = 6
#: Rounds of total least squares on the inliers, each re-selecting them.
_TLS_ROUNDS = 2
#: A fitted line turning from the coarse side by more than this (degrees) found something
#: else (profiles across another edge): the side keeps its original line.
_MAX_TURN_DEG = 8.0
#: Two lines whose unit normals' determinant (the sine of the angle between them) is below
#: this (about 0.06 degrees) are parallel: no corner.
_PARALLEL_SINE = 1e-3


def refine_corners(gray, corners, *, search: float | None = None) -> np.ndarray:
    """Refine coarse page corners to sub-pixel precision on the full-resolution image.

    For each side of the quadrilateral, intensity profiles are sampled across the side (along
    its normal, ``search`` pixels either way, each the mean of three profiles 1 px apart). The
    edge point of a profile is its strongest wide step (median of 5 px inside minus median of
    5 px outside, so thin ink strokes near the edge lose against the page edge) of the side's
    polarity (page lighter or darker than the background: told by the paper past the search
    band against the background beyond it where they differ clearly, so that a printed block
    near the edge is no stronger step of the other sign; else by which sign most of the
    side's profiles step more), that also holds
    against the 5 px beyond each window (at least 30 % of it: a dark ruling on paper, a
    stronger edge than a faint page edge, has paper on both sides). It is located to
    sub-pixel by a parabola through the steepest fine derivative next to it. A line is fitted
    robustly to the edge points (RANSAC with a 1.5 px inlier band, then total least squares on
    the inliers). Each corner is the intersection of lines fitted to the parts of its two sides
    next to it (4-40 % of the side length: the tip itself is often rounded or torn, and on a
    curved book page only the local edges meet at the corner); if that fails, of lines fitted
    to 8-92 % of the sides. Such a local line must agree with its whole side's (within 3
    degrees, and 2.5 % of the side half-way along its stretch): a curl bends the edge
    slightly, while a line parallel to the edge and off it is something else (a shadow).

    A side keeps its original line when it lies along a border of the frame (both ends
    within ``max(2, search / 8)`` px of it: the page runs off the photo there, and the
    nearest step is something printed on it), when fewer than 40 % of its profiles agree on a
    line, or when the fitted line turns by more than 8 degrees; a corner keeps its original position
    when the intersection moves it by more than ``2 * search`` (nearly parallel sides), or
    ``4 * search`` for a corner beyond the frame (extrapolated, so coarser to begin with).

    Parameters
    ----------
    gray : numpy.ndarray, shape (H, W) or (H, W, 3)
        Single-channel image (any real dtype) at the resolution of ``corners``, or a BGR
        one: its profiles are sampled in colour and turned grey (ITU-R BT.601 weights, as
        ``cv2.COLOR_BGR2GRAY``), cheaper than converting the whole photo.
    corners : array_like, shape (4, 2)
        Coarse corners ordered TL, TR, BR, BL (see
        :func:`~imgtool.scan.quad.order_corners`). They may lie outside the image.
    search : float, optional
        Half-width in pixels of the band searched across each side. Default: 1.2 % of the
        image diagonal, at least 6 px (the error of corners found on a copy downscaled 4x).

    Returns
    -------
    numpy.ndarray, shape (4, 2), float64
        Refined corners TL, TR, BR, BL.

    Raises
    ------
    InvalidParameterError
        If ``gray`` is not a non-empty 2-D real array, ``corners`` is malformed, or ``search``
        is not positive.

    Examples
    --------
    >>> img = np.zeros((120, 160), np.uint8)
    >>> img[20:100, 30:130] = 200  # page edges lie half-way between pixels: x = 29.5, 129.5
    >>> coarse = [[33, 23], [127, 17], [133, 104], [26, 96]]
    >>> refine_corners(img, coarse, search=8).round(1).tolist()
    [[29.5, 19.5], [129.5, 19.5], [129.5, 99.5], [29.5, 99.5]]
    """
    img = np.asarray(gray)
    colour = img.ndim == 3 and img.shape[2] == 3
    if (img.ndim != 2 and not colour) or img.size == 0 or not np.issubdtype(
            img.dtype, np.number):
        raise InvalidParameterError(
            f"gray must be a non-empty 2-D (or BGR) image, got shape {img.shape} "
            f"dtype {img.dtype}")
    if np.iscomplexobj(img):
        raise InvalidParameterError("gray must be real-valued")
    quad = as_quad(corners, "corners")
    height, width = img.shape[:2]
    if search is None:
        search = max(_SEARCH_MIN_PX, _SEARCH_SHARE * math.hypot(width, height))
    search = float(search)
    if not (math.isfinite(search) and search > 0):
        raise InvalidParameterError(f"search must be a positive number of pixels, got {search}")
    if img.dtype not in (np.uint8, np.uint16, np.float32):
        img = img.astype(np.float32)  # remap reads these three as they are
    img = np.ascontiguousarray(img)

    # One line per side over most of its length, and one per side end over the part
    # next to the corner (curved book pages: a corner is where the LOCAL edges meet).
    whole, ends, fitted = [], [], []
    for i in range(4):
        p0, p1 = quad[i], quad[(i + 1) % 4]
        if _along_frame(p0, p1, width, height, max(_FRAME_MIN_PX, search / _FRAME_DIVISOR)):
            # the page runs off the photo here: there is no edge to find, and the nearest
            # step across the side would be something printed on the page
            fitted.append(False)
            whole.append(_line_through(p0, p1))
            ends.append((None, None))
            continue
        edge = _edge_points(img, p0, p1, search)
        line = _fit_part(edge, *_WHOLE_PART)
        fitted.append(line is not None)
        whole.append(line if line is not None else _line_through(p0, p1))
        first = _fit_part(edge, *_FIRST_END)
        last = _fit_part(edge, *_LAST_END)
        if line is not None:
            # A curled end bends away from the side's line towards the corner, but meets it
            # in the middle of its stretch; a line parallel to the side a few pixels off is
            # another edge (a shadow, a line of print) and is dropped.
            first = _agreeing(first, line, p0 + _FIRST_END_MID * (p1 - p0), p0, p1)
            last = _agreeing(last, line, p0 + _LAST_END_MID * (p1 - p0), p0, p1)
        ends.append((first, last))

    refined = quad.copy()
    for i in range(4):
        before, after = (i - 1) % 4, i
        if not (fitted[before] or fitted[after] or ends[before][1] is not None
                or ends[after][0] is not None):
            continue  # no edge found on either side: keep the corner exactly
        la = ends[before][1] if ends[before][1] is not None else whole[before]
        lb = ends[after][0] if ends[after][0] is not None else whole[after]
        # a corner beyond the frame is extrapolated from its sides, and coarsely placed
        reach = (_REACH_IN_FRAME if _in_frame(quad[i], width, height)
                 else _REACH_BEYOND_FRAME) * search
        point = _intersect(la, lb)
        if point is None or np.hypot(*(point - quad[i])) > reach:
            point = _intersect(whole[before], whole[after])
        if point is not None and np.hypot(*(point - quad[i])) <= reach:
            refined[i] = point
    return refined


def _edge_points(img: np.ndarray, p0: np.ndarray, p1: np.ndarray, search: float):
    """Profiles across side p0 -> p1 at 4-96 % of its length, ready for :func:`_fit_part`;
    None if the side is too short or fewer than 8 profiles lie in the image."""
    d = p1 - p0
    length = float(np.hypot(*d))
    if length < _MIN_SIDE_PX:
        return None
    t = d / length
    n = np.array([-t[1], t[0]])  # points into the page for a clockwise (on screen) quad
    start, stop = _FIRST_END[0], _LAST_END[1]  # every part fitted
    # about one profile per 3 px, at most 160 per side length, and at least 8 in the
    # shortest part fitted on its own (a side end, 36 % of the side)
    count = int(min(_MAX_PROFILES * (stop - start),
                    max(_MIN_PROFILES_SPAN, (stop - start) * length / _PROFILE_SPACING_PX)))
    where = np.linspace(start, stop, max(count, _MIN_PROFILES))
    half = int(math.ceil(search)) + 2 * _STEP + 2
    offs = np.arange(-half, half + 1, dtype=np.float64)
    centres = p0 + (where * length)[:, None] * t  # (count, 2)
    h, w = img.shape[:2]
    inside = (
        (centres[:, 0] >= 0) & (centres[:, 0] <= w - 1)
        & (centres[:, 1] >= 0) & (centres[:, 1] <= h - 1)
    )
    if inside.sum() < _MIN_PROFILES:
        return None
    centres, where = centres[inside], where[inside]
    # three parallel profiles 1 px apart along the side, averaged, to reduce noise
    prof = np.zeros((len(centres), len(offs), *img.shape[2:]), np.float32)
    for shift in _PROFILE_SHIFTS:
        mx = (centres[:, 0:1] + shift * t[0]) + offs[None, :] * n[0]
        my = (centres[:, 1:2] + shift * t[1]) + offs[None, :] * n[1]
        prof += cv2.remap(img, mx.astype(np.float32), my.astype(np.float32), cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    if prof.ndim == 3:
        prof = prof @ _BGR_TO_GREY
    return _Profiles(where, centres, n, offs, prof.astype(np.float64), search)


#: ITU-R BT.601 luma weights in B, G, R order (what cv2.COLOR_BGR2GRAY uses).
_BGR_TO_GREY = np.array([0.114, 0.587, 0.299], np.float32)


class _Profiles:
    """Intensity profiles across a side, and the edge point each one finds."""

    def __init__(self, where, centres, normal, offs, prof, search):
        self.where, self.centres, self.normal, self.offs, self.prof = (
            where, centres, normal, offs, prof)
        self.search = search
        # Wide step detector: median of _STEP pixels inside minus median of _STEP pixels
        # outside. A thin ink stroke next to the page edge barely moves a median, the page
        # edge moves all of it. A step must also hold against the _STEP pixels beyond those
        # (as in detection): a dark line on paper, such as a table's ruling, has paper on
        # both sides.
        k = _STEP
        med = _running_median5(prof)
        self.step, self.far, self.farther = (np.zeros(prof.shape) for _ in range(3))
        j = np.arange(2 * k, len(offs) - 2 * k)
        self.step[:, j] = med[:, j + 1] - med[:, j - k]
        self.far[:, j] = med[:, j + 1] - med[:, j - 2 * k]  # against the pixels beyond, outside
        self.farther[:, j] = med[:, j + k + 1] - med[:, j - k]  # and inside
        self.step[:, np.abs(offs) > search] = 0.0
        self.pos, self.neg = self.step.max(axis=1), -self.step.min(axis=1)
        self._found = {}

    def polarity(self, rows) -> float:
        """+1 if the page is lighter than what lies beyond it here, else -1.

        Told by levels where they are clear: the paper (the :data:`_PAPER_QUANTILE` of the
        page past the search band; its print is darker) against the background (the median
        beyond the band), when they differ by :data:`_POLARITY_CLEAR`. A printed block near
        the page's edge (a form's table, a dark header) is then no stronger step of the
        other sign. Otherwise by the steps: +1 if most of these profiles rise into the page
        more than they fall."""
        prof = self.prof[rows]
        beyond = np.abs(self.offs) >= self.search
        inside, outside = prof[:, beyond & (self.offs > 0)], prof[:, beyond & (self.offs < 0)]
        if inside.size and outside.size:
            (paper,) = quantiles(inside, (_PAPER_QUANTILE,))
            background = float(median(outside.ravel()))
            if abs(paper - background) >= _POLARITY_CLEAR:
                return 1.0 if paper > background else -1.0
        return 1.0 if median(self.pos[rows]) >= median(self.neg[rows]) else -1.0

    def edges(self, sign: float):
        """Each profile's strongest step of this polarity: its size, and its sub-pixel point
        (at the steepest fine derivative within 2 px of it, by a parabola), and whether the
        point is usable."""
        if sign not in self._found:
            offs = self.offs
            step = self.step * sign
            step[(self.far * sign < _FAR_SHARE * step)
                 | (self.farther * sign < _FAR_SHARE * step)] = 0.0
            idx = step.argmax(axis=1)
            rows = np.arange(len(idx))
            peak = step[rows, idx]
            fine = cv2.GaussianBlur(self.prof, (_FINE_KSIZE, 1), _FINE_SIGMA,
                                    borderType=cv2.BORDER_REPLICATE)
            deriv = np.zeros_like(fine)
            deriv[:, 1:-1] = 0.5 * (fine[:, 2:] - fine[:, :-2]) * sign
            window = np.abs(np.arange(len(offs))[None, :] - idx[:, None]) <= _PEAK_WINDOW_PX
            idx = np.where(window, deriv, -np.inf).argmax(axis=1)
            usable = (idx > 0) & (idx < len(offs) - 1)
            i = np.clip(idx, 1, len(offs) - 2)
            a, b, c = deriv[rows, i - 1], deriv[rows, i], deriv[rows, i + 1]
            denom = a - 2 * b + c
            frac = np.where(np.abs(denom) > 1e-12,
                            0.5 * (a - c) / np.where(denom == 0, 1, denom), 0.0)
            frac = np.clip(frac, -0.5, 0.5)
            points = self.centres + (offs[i] + frac)[:, None] * self.normal
            self._found[sign] = (peak, points, usable)
        return self._found[sign]


def _running_median5(prof: np.ndarray) -> np.ndarray:
    """Median of every 5 consecutive values along axis 1 (a sorting network: the median of
    three of the middle of two sorted pairs and the fifth value); shape (rows, cols - 4)."""
    a, b, c, d, e = (prof[:, s:prof.shape[1] - 4 + s] for s in range(5))
    low = np.maximum(np.minimum(a, b), np.minimum(c, d))  # drops the smallest of a..d
    high = np.minimum(np.maximum(a, b), np.maximum(c, d))  # drops the largest of a..d
    return np.maximum(np.minimum(low, high), np.minimum(np.maximum(low, high), e))


def _fit_part(edge, start: float, stop: float):
    """Robust line through the edge points of part ``start..stop`` of a side (profiles from
    :func:`_edge_points`), with the step polarity shared by most of that part.

    Returns ``(nx, ny, c)`` with ``nx x + ny y = c``, or None if unreliable.
    """
    if edge is None:
        return None
    rows = np.flatnonzero((edge.where >= start - 1e-9) & (edge.where <= stop + 1e-9))
    if len(rows) < _MIN_PROFILES:
        return None
    peak, points, usable = edge.edges(edge.polarity(rows))
    peak = peak[rows]
    strong = (peak > max(1e-6, _STRONG_SHARE * float(median(peak)))) & usable[rows]
    pts = points[rows[strong]]
    if len(pts) < _MIN_PROFILES:
        return None
    line = _ransac_line(pts, total=len(rows))
    if line is None:
        return None
    turn = math.degrees(math.acos(min(1.0, abs(float(np.dot(line[:2], edge.normal))))))
    if turn > _MAX_TURN_DEG:
        return None
    return line


def _along_frame(p0, p1, width: int, height: int, tol: float) -> bool:
    """Whether both ends of a side lie on the same border of the frame (within ``tol``)."""
    for coord, edge in ((0, -0.5), (1, -0.5), (0, width - 0.5), (1, height - 0.5)):
        if abs(p0[coord] - edge) <= tol and abs(p1[coord] - edge) <= tol:
            return True
    return False


def _in_frame(point, width: int, height: int) -> bool:
    return bool(-0.5 <= point[0] <= width - 0.5 and -0.5 <= point[1] <= height - 0.5)


def _agreeing(end, whole, at, p0, p1):
    """``end`` if it turns from ``whole`` by at most ``_END_TURN_DEG`` and passes within
    ``_END_AGREE`` of it at point ``at``, else None."""
    if end is None:
        return None
    if math.degrees(math.acos(min(1.0, abs(float(end[:2] @ whole[:2]))))) > _END_TURN_DEG:
        return None  # more than a curl: profiles that missed the edge (a coarse corner)
    on_whole = at - (float(whole[:2] @ at) - whole[2]) * whole[:2]
    tol = max(_END_AGREE_PX, _END_AGREE * float(np.hypot(*(p1 - p0))))
    return end if abs(float(end[:2] @ on_whole) - end[2]) <= tol else None


#: The R2 sequence (Roberts, 2018): 1/g and 1/g**2 with g**3 = g + 1.
_R2_A, _R2_B = 0.7548776662466927, 0.5698402909980532


def _ransac_line(pts: np.ndarray, total: int):
    """Robust line ``(nx, ny, c)`` with ``nx x + ny y = c``, unit normal; None if unreliable."""
    m = len(pts)
    # all hypotheses at once: lines through pairs of distinct points, spread over all pairs
    # by a two-dimensional golden-ratio sequence (deterministic, and no numpy.random import)
    tries = min(_RANSAC_TRIES, m * (m - 1) // 2)
    i = np.arange(1, tries + 1)
    a = (np.modf(i * _R2_A)[0] * m).astype(np.int64)
    b = (np.modf(i * _R2_B)[0] * (m - 1)).astype(np.int64)
    b += b >= a
    d = pts[b] - pts[a]
    length = np.hypot(d[:, 0], d[:, 1])
    ok = length > 0
    normals = np.stack([-d[:, 1], d[:, 0]], axis=1) / np.where(ok, length, 1.0)[:, None]
    offsets = np.einsum("ij,ij->i", normals, pts[a])
    inliers = np.abs(pts @ normals.T - offsets) <= _INLIER_PX  # (points, hypotheses)
    counts = np.where(ok, inliers.sum(axis=0), -1)
    k = int(np.argmax(counts))
    best_count = int(counts[k])
    if best_count < max(_MIN_INLIERS, _MIN_INLIER_SHARE * total):
        return None
    best = inliers[:, k]
    for _ in range(_TLS_ROUNDS):  # total least squares on the inliers, then re-select
        line = _tls_line(pts[best])
        inl = np.abs(pts @ line[:2] - line[2]) <= _INLIER_PX
        if inl.sum() < _MIN_INLIERS:
            break
        best = inl
    return _tls_line(pts[best])


def _tls_line(pts: np.ndarray) -> np.ndarray:
    centre = pts.mean(axis=0)
    _, _, vt = np.linalg.svd(pts - centre, full_matrices=False)
    normal = vt[-1]
    return np.array([normal[0], normal[1], float(normal @ centre)])


def _line_through(p0: np.ndarray, p1: np.ndarray):
    d = p1 - p0
    length = float(np.hypot(*d))
    if length == 0:
        return None
    normal = np.array([-d[1], d[0]]) / length
    return np.array([normal[0], normal[1], float(normal @ p0)])


def _intersect(l1, l2):
    if l1 is None or l2 is None:
        return None
    a = np.array([l1[:2], l2[:2]])
    det = float(np.linalg.det(a))
    if abs(det) < _PARALLEL_SINE:  # nearly parallel (less than about 0.06 degrees apart)
        return None
    return np.linalg.solve(a, np.array([l1[2], l2[2]]))
