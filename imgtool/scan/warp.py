"""Flattening the page: the photo's quadrilateral mapped onto an upright rectangle.

The step after the corners (:mod:`~imgtool.scan.detection`, :mod:`~imgtool.scan.refine`) and
the output size (:mod:`~imgtool.scan.aspect`); before :mod:`~imgtool.scan.enhance`.
"""

from __future__ import annotations

import cv2
import numpy as np

from imgtool.errors import InvalidParameterError
from imgtool.scan.quad import as_quad

__all__ = ["warp_page"]


def warp_page(image, corners, size, *, interpolation: int = cv2.INTER_CUBIC) -> np.ndarray:
    """Flatten the page: map the quad ``corners`` onto a ``size = (w, h)`` rectangle.

    Uses the full-resolution image, cubic interpolation (or ``interpolation``, an OpenCV
    ``INTER_*`` flag) and replicated borders; when the
    output is much smaller than the page in the photo (factor > 1.5), the photo is first
    blurred with a Gaussian of sigma ``0.5 * factor`` to avoid aliasing (like INTER_AREA).
    Keeps dtype and channels.

    Parameters
    ----------
    image : numpy.ndarray
        (H, W) or (H, W, C) image.
    corners : array_like, shape (4, 2)
        Page corners TL, TR, BR, BL.
    size : tuple of int
        Output ``(width, height)``.

    Returns
    -------
    numpy.ndarray
        The page, shape (h, w[, C]), same dtype as ``image``.

    Raises
    ------
    InvalidParameterError
        For a bad image, corners or size.

    Examples
    --------
    >>> img = np.arange(100, dtype=np.uint8).reshape(10, 10)
    >>> quad = [[1.5, 1.5], [5.5, 1.5], [5.5, 5.5], [1.5, 5.5]]
    >>> warp_page(img, quad, (4, 4)).tolist()[0]
    [22, 23, 24, 25]
    """
    img = np.asarray(image)
    if img.ndim not in (2, 3) or img.size == 0:
        raise InvalidParameterError(f"image must be (H, W) or (H, W, C), got {img.shape}")
    quad = as_quad(corners, "corners")
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"size must be (width, height), got {size!r}") from None
    if w < 1 or h < 1:
        raise InvalidParameterError(f"size must be positive, got {size!r}")
    sides = np.linalg.norm(np.roll(quad, -1, axis=0) - quad, axis=1)
    factor = min(max(sides[0], sides[2]) / w, max(sides[1], sides[3]) / h)
    src = img
    if factor > 1.5:
        src = cv2.GaussianBlur(img, (0, 0), 0.5 * factor, borderType=cv2.BORDER_REPLICATE)
    # corners are positions on the page's edge: they go to the outer corners of the output's
    # corner pixels (pixel centres at integers)
    dst = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]],
                   np.float32)
    m = cv2.getPerspectiveTransform(quad.astype(np.float32), dst)
    if img.ndim == 3 and img.shape[2] > 4:  # OpenCV warps at most four channels at once
        return np.dstack([warp_page(img[:, :, c], quad, (w, h), interpolation=interpolation)
                          for c in range(img.shape[2])])
    return cv2.warpPerspective(
        src, m, (w, h), flags=interpolation, borderMode=cv2.BORDER_REPLICATE
    )
