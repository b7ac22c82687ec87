"""Quadrilateral geometry for the scanner: corner order and sub-pixel corner refinement.

Corners are ``(4, 2)`` float64 arrays of ``(x, y)`` pixel coordinates (x to the right, y down,
pixel centres at integer coordinates) in the order top-left, top-right, bottom-right,
bottom-left: clockwise as seen on screen.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from imgtool.errors import InvalidParameterError

__all__ = ["order_corners", "refine_corners"]

# Two edge directions whose angles from +x differ by less than this are a tie (radians).
_ANGLE_TIE = 1e-9


def order_corners(points) -> np.ndarray:
    """Order the four corners of a convex quadrilateral as TL, TR, BR, BL.

    Works for any in-plane rotation. The points are sorted by their angle around the
    centroid, which gives a clockwise cycle on screen (y points down). Of the four rotations
    of that cycle, the one whose first edge (TL -> TR) points closest to +x is chosen: in a
    clockwise cycle the top edge runs left to right, the bottom edge right to left. The usual
    ``x + y`` / ``x - y`` trick picks the same point twice near 45 degrees; this does not.

    A page turned by exactly 45 degrees has two edges equally close to +x; the tie goes to
    the start point with the smaller ``x + y``, then the smaller ``y``, so the answer is
    deterministic.

    Parameters
    ----------
    points : array_like, shape (4, 2)
        The four corners ``(x, y)`` in any order.

    Returns
    -------
    numpy.ndarray, shape (4, 2), float64
        The corners ordered TL, TR, BR, BL.

    Raises
    ------
    InvalidParameterError
        If ``points`` is not four finite 2-D points, or if they do not span an area
        (all on one line).

    Examples
    --------
    >>> order_corners([[10, 10], [0, 10], [10, 0], [0, 0]]).tolist()
    [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]]

    A square turned by 30 degrees keeps its upper-left corner first:

    >>> order_corners([[5, 0], [9.33, 2.5], [6.83, 6.83], [2.5, 4.33]])[0].tolist()
    [5.0, 0.0]
    """
    pts = _as_quad(points, "points")
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    cycle = pts[np.argsort(angles, kind="stable")]
    if _polygon_area(cycle) <= 1e-12 * max(1.0, float(np.abs(pts).max()) ** 2):
        raise InvalidParameterError("order_corners: the four points lie on one line")

    edge_angles = []
    for i in range(4):
        d = cycle[(i + 1) % 4] - cycle[i]
        edge_angles.append(abs(math.atan2(d[1], d[0])))
    best = min(edge_angles)
    candidates = [i for i in range(4) if edge_angles[i] <= best + _ANGLE_TIE]
    start = min(candidates, key=lambda i: (cycle[i, 0] + cycle[i, 1], cycle[i, 1]))
    return np.roll(cycle, -start, axis=0).copy()


def refine_corners(gray, corners, *, search: float | None = None) -> np.ndarray:
    """Refine coarse page corners to sub-pixel precision on the full-resolution image.

    For each side of the quadrilateral, intensity profiles are sampled across the side (along
    its normal, ``search`` pixels either way) at up to 160 places between 8 % and 92 % of its
    length (the corners themselves are often rounded, torn or shadowed). The edge point of a
    profile is its steepest step of the polarity shared by most of the side (page brighter or
    darker than the background), located to sub-pixel by a parabola through the derivative.
    A line is fitted robustly to the edge points (RANSAC with a 1.5 px inlier band, then total
    least squares on the inliers) and adjacent lines are intersected.

    A side keeps its original line when fewer than 40 % of its profiles agree on a line, or
    when the fitted line turns by more than 8 degrees; a corner keeps its original position
    when the intersection moves it by more than ``2 * search`` (nearly parallel sides).

    Parameters
    ----------
    gray : numpy.ndarray, shape (H, W)
        Single-channel image (any real dtype) at the resolution of ``corners``.
    corners : array_like, shape (4, 2)
        Coarse corners ordered TL, TR, BR, BL (see :func:`order_corners`). They may lie
        outside the image.
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
    >>> img = np.zeros((60, 80), np.uint8)
    >>> img[10:50, 15:65] = 200  # page edges lie half-way between pixels: x = 14.5, 64.5
    >>> coarse = [[17, 12], [62, 9], [66, 52], [13, 47]]
    >>> refine_corners(img, coarse, search=6).round(1).tolist()
    [[14.5, 9.5], [64.5, 9.5], [64.5, 49.5], [14.5, 49.5]]
    """
    img = np.asarray(gray)
    if img.ndim != 2 or img.size == 0 or not np.issubdtype(img.dtype, np.number):
        raise InvalidParameterError(
            f"gray must be a non-empty 2-D image, got shape {img.shape} dtype {img.dtype}"
        )
    if np.iscomplexobj(img):
        raise InvalidParameterError("gray must be real-valued")
    quad = _as_quad(corners, "corners")
    height, width = img.shape
    if search is None:
        search = max(6.0, 0.012 * math.hypot(width, height))
    search = float(search)
    if not (math.isfinite(search) and search > 0):
        raise InvalidParameterError(f"search must be a positive number of pixels, got {search}")
    img = np.ascontiguousarray(img, dtype=np.float32)

    lines = []
    for i in range(4):
        p0, p1 = quad[i], quad[(i + 1) % 4]
        fitted = _fit_side(img, p0, p1, search)
        lines.append(fitted if fitted is not None else _line_through(p0, p1))

    refined = quad.copy()
    for i in range(4):
        point = _intersect(lines[(i - 1) % 4], lines[i])
        if point is not None and np.hypot(*(point - quad[i])) <= 2.0 * search:
            refined[i] = point
    return refined


# A side's fit is used only if this share of its profiles are inliers of one line.
_MIN_INLIER_SHARE = 0.4
_INLIER_PX = 1.5
_MAX_TURN_DEG = 8.0


def _fit_side(img: np.ndarray, p0: np.ndarray, p1: np.ndarray, search: float):
    """Edge points across one side and a robust line through them, or None if unreliable."""
    d = p1 - p0
    length = float(np.hypot(*d))
    if length < 4:
        return None
    t = d / length
    n = np.array([-t[1], t[0]])  # points into the page for a clockwise (on screen) quad
    count = int(min(160, max(8, length // 3)))
    along = np.linspace(0.08, 0.92, count) * length
    half = int(math.ceil(search)) + 2
    offs = np.arange(-half, half + 1, dtype=np.float64)
    # three parallel profiles 1 px apart along the side, averaged, reduce noise
    centres = p0 + along[:, None] * t  # (count, 2)
    h, w = img.shape
    inside = (
        (centres[:, 0] >= 0) & (centres[:, 0] <= w - 1)
        & (centres[:, 1] >= 0) & (centres[:, 1] <= h - 1)
    )
    if inside.sum() < 8:
        return None
    centres = centres[inside]
    prof = np.zeros((len(centres), len(offs)), np.float32)
    for shift in (-1.0, 0.0, 1.0):
        pts = centres[:, None, :] + offs[None, :, None] * n + shift * t
        mx = pts[..., 0].astype(np.float32)
        my = pts[..., 1].astype(np.float32)
        prof += cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    prof = cv2.GaussianBlur(prof, (5, 1), 1.0, borderType=cv2.BORDER_REPLICATE)
    deriv = np.zeros_like(prof)
    deriv[:, 1:-1] = 0.5 * (prof[:, 2:] - prof[:, :-2])
    core = np.abs(offs) <= search
    deriv[:, ~core] = 0.0
    # polarity shared by most profiles: page brighter (positive step) or darker
    pos, neg = deriv.max(axis=1), -deriv.min(axis=1)
    sign = 1.0 if np.median(pos) >= np.median(neg) else -1.0
    deriv = deriv * sign
    idx = deriv.argmax(axis=1)
    peak = deriv[np.arange(len(idx)), idx]
    strong = peak > max(1e-6, 0.25 * float(np.median(peak)))
    # sub-pixel peak: parabola through the derivative at idx-1, idx, idx+1
    ok = strong & (idx > 0) & (idx < len(offs) - 1)
    rows = np.nonzero(ok)[0]
    if len(rows) < 8:
        return None
    i = idx[rows]
    a, b, c = deriv[rows, i - 1], deriv[rows, i], deriv[rows, i + 1]
    denom = a - 2 * b + c
    frac = np.where(np.abs(denom) > 1e-12, 0.5 * (a - c) / np.where(denom == 0, 1, denom), 0.0)
    frac = np.clip(frac, -0.5, 0.5)
    pts = centres[rows] + (offs[i] + frac)[:, None] * n
    line = _ransac_line(pts, total=len(centres))
    if line is None:
        return None
    normal = line[:2]
    turn = math.degrees(math.acos(min(1.0, abs(float(np.dot(normal, n))))))
    if turn > _MAX_TURN_DEG:
        return None
    return line


def _ransac_line(pts: np.ndarray, total: int):
    """Robust line ``(nx, ny, c)`` with ``nx x + ny y = c``, unit normal; None if unreliable."""
    rng = np.random.default_rng(0)
    m = len(pts)
    best = None
    best_count = 0
    for _ in range(min(200, m * (m - 1) // 2)):
        a, b = rng.choice(m, 2, replace=False)
        line = _line_through(pts[a], pts[b])
        if line is None:
            continue
        inl = np.abs(pts @ line[:2] - line[2]) <= _INLIER_PX
        cnt = int(inl.sum())
        if cnt > best_count:
            best, best_count = inl, cnt
    if best is None or best_count < max(6, _MIN_INLIER_SHARE * total):
        return None
    for _ in range(2):  # total least squares on the inliers, then re-select
        line = _tls_line(pts[best])
        inl = np.abs(pts @ line[:2] - line[2]) <= _INLIER_PX
        if inl.sum() < 6:
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
    if abs(det) < 1e-3:  # nearly parallel (less than about 0.06 degrees apart)
        return None
    return np.linalg.solve(a, np.array([l1[2], l2[2]]))


def _as_quad(points, name: str) -> np.ndarray:
    try:
        pts = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"{name} must be four (x, y) points: {exc}") from None
    if pts.shape != (4, 2):
        raise InvalidParameterError(f"{name} must have shape (4, 2), got {pts.shape}")
    if not np.all(np.isfinite(pts)):
        raise InvalidParameterError(f"{name} must be finite, got {pts.tolist()}")
    return pts


def _polygon_area(pts: np.ndarray) -> float:
    """Absolute shoelace area of a closed polygon given in cycle order."""
    x, y = pts[:, 0], pts[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
