"""Quadrilateral geometry: corner order, sides, where lines meet, angles, areas.

The lowest layer of the scanner: every other module of :mod:`imgtool.scan` that handles a
page's outline uses these, and this module uses none of them.

Corners are ``(4, 2)`` float64 arrays of ``(x, y)`` pixel coordinates (x to the right, y down,
pixel centres at integer coordinates) in the order top-left, top-right, bottom-right,
bottom-left: clockwise as seen on screen. A line is given by two points on it, as a side
``(p0, p1)`` or a segment ``(x1, y1, x2, y2)``.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from imgtool.errors import InvalidParameterError

__all__ = ["order_corners"]

# Two edge directions whose angles from +x differ by less than this are a tie (radians).
_ANGLE_TIE = 1e-9
#: A side shorter than this (pixels) is too short to tell a direction from.
MIN_SIDE = 8.0

_NEXT = np.array([1, 2, 3, 0])  # the next corner of a quad


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
    pts = as_quad(points, "points")
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    cycle = pts[np.argsort(angles, kind="stable")]
    if polygon_area(cycle) <= 1e-12 * max(1.0, float(np.abs(pts).max()) ** 2):
        raise InvalidParameterError("order_corners: the four points lie on one line")

    edge_angles = []
    for i in range(4):
        d = cycle[(i + 1) % 4] - cycle[i]
        edge_angles.append(abs(math.atan2(d[1], d[0])))
    best = min(edge_angles)
    candidates = [i for i in range(4) if edge_angles[i] <= best + _ANGLE_TIE]
    start = min(candidates, key=lambda i: (cycle[i, 0] + cycle[i, 1], cycle[i, 1]))
    return np.roll(cycle, -start, axis=0).copy()


def as_quad(points, name: str) -> np.ndarray:
    """``points`` as a (4, 2) float64 array; :class:`~imgtool.errors.InvalidParameterError`
    naming ``name`` if they are not four finite (x, y) points."""
    try:
        pts = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"{name} must be four (x, y) points: {exc}") from None
    if pts.shape != (4, 2):
        raise InvalidParameterError(f"{name} must have shape (4, 2), got {pts.shape}")
    if not np.all(np.isfinite(pts)):
        raise InvalidParameterError(f"{name} must be finite, got {pts.tolist()}")
    return pts


def polygon_area(pts: np.ndarray) -> float:
    """Absolute shoelace area of a closed polygon given in cycle order."""
    x, y = pts[:, 0], pts[:, 1]
    x1, y1 = np.append(x[1:], x[0]), np.append(y[1:], y[0])
    return 0.5 * abs(float(np.dot(x, y1) - np.dot(y, x1)))


def quad_sides(quad: np.ndarray, min_length: float = MIN_SIDE):
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


def shifted_sides(p0, p1, normal, shifts):
    """Every side from ``p0 + a * normal`` to ``p1 + b * normal`` for ``a``, ``b`` in
    ``shifts``: the shifts ``a``, ``b`` (flattened) and the starts and ends, (K, 2) each."""
    a, b = np.meshgrid(shifts, shifts, indexing="ij")
    a, b = a.ravel(), b.ravel()
    return a, b, p0[None, :] + a[:, None] * normal, p1[None, :] + b[:, None] * normal


def corners_of(lines) -> np.ndarray | None:
    """The quad whose sides lie on four lines, each given by two points, in order; None if
    two neighbouring sides are parallel."""
    out = []
    for i in range(4):
        (a0, a1), (b0, b1) = lines[i - 1], lines[i]
        point = lines_meet((*a0, *a1), (*b0, *b1))
        if point is None:
            return None
        out.append(point)
    return np.array(out, np.float64)


def lines_meet(s1, s2):
    """Where the lines through two segments ``(x1, y1, x2, y2)`` meet, as ``(x, y)``; None if
    they are parallel."""
    x1, y1, x2, y2 = s1
    x3, y3, x4, y4 = s2
    d = (x1 - x2) * (y3 - y4) - (y1 - y2) * (x3 - x4)
    if abs(d) < 1e-9:
        return None
    a = x1 * y2 - y1 * x2
    b = x3 * y4 - y3 * x4
    return ((a * (x3 - x4) - (x1 - x2) * b) / d, (a * (y3 - y4) - (y1 - y2) * b) / d)


def cross(a, b, c) -> float:
    """The cross product of ``b - a`` and ``c - a``: positive when ``c`` lies to the right of
    ``a -> b`` on screen (y down), negative to the left, 0 on the line."""
    return float((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))


def corner_angles(quad: np.ndarray) -> np.ndarray:
    """The quad's four inner angles, in degrees, at TL, TR, BR, BL."""
    out = []
    for i in range(4):
        a = quad[i - 1] - quad[i]
        b = quad[(i + 1) % 4] - quad[i]
        cosang = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12)
        out.append(math.degrees(math.acos(float(np.clip(cosang, -1, 1)))))
    return np.array(out)


def outside_fraction(quad, w, h) -> float:
    """Share of the quad's area that lies outside the photo."""
    clipped = cv2.intersectConvexConvex(
        quad.astype(np.float32),
        np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32),
    )[0]
    total = polygon_area(quad)
    return 1.0 - clipped / total if total > 0 else 1.0


def clockwise_convex(quad: np.ndarray) -> bool:
    """Whether four points make a convex quadrilateral, clockwise on screen (y down)."""
    d = quad[_NEXT] - quad
    turns = d[:, 0] * d[_NEXT, 1] - d[:, 1] * d[_NEXT, 0]
    return bool((turns > 0).all())
