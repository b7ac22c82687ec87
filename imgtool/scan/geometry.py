"""Quadrilateral geometry for the scanner: corner order and sub-pixel corner refinement.

Corners are ``(4, 2)`` float64 arrays of ``(x, y)`` pixel coordinates (x to the right, y down,
pixel centres at integer coordinates) in the order top-left, top-right, bottom-right,
bottom-left: clockwise as seen on screen.
"""

from __future__ import annotations

import math

import numpy as np

from imgtool.errors import InvalidParameterError

__all__ = ["order_corners"]

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
