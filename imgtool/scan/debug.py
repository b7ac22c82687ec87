"""Pictures for ``--debug DIR``: the chosen quad and the candidates drawn over the photo."""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["draw_quad", "overlay_candidates"]


def draw_quad(image, corners, colour=(0, 0, 255)) -> np.ndarray:
    """A uint8 BGR copy of ``image`` with the quad ``corners`` drawn (TL marked by a circle).

    Examples
    --------
    >>> draw_quad(np.zeros((20, 20), np.uint8), [[2, 2], [17, 2], [17, 17], [2, 17]]).shape
    (20, 20, 3)
    """
    img = np.asarray(image)
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    img = img.astype(np.uint8, copy=False)
    if img.ndim == 2:
        out = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    else:
        out = np.ascontiguousarray(img[..., :3]).copy()
    th = max(1, round(max(out.shape[:2]) / 400))
    pts = np.round(np.asarray(corners, float) * 16).astype(np.int32)
    cv2.polylines(out, [pts], True, colour, th, cv2.LINE_AA, shift=4)
    cv2.circle(out, tuple(int(v) for v in pts[0]), 4 * th * 16, colour, th, cv2.LINE_AA, shift=4)
    return out


def overlay_candidates(image, candidates) -> np.ndarray:
    """``image`` with every candidate quad drawn (first in red, others in yellow)."""
    out = draw_quad(image, candidates[0]) if len(candidates) else draw_quad(image, np.zeros((4, 2)))
    for quad in candidates[1:]:
        out = draw_quad(out, quad, (0, 255, 255))
    return out
