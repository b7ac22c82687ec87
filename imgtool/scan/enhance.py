"""Make a flattened page readable: colour (unchanged), flattened grey, or black and white."""

from __future__ import annotations

import cv2
import numpy as np

from imgtool.errors import InvalidParameterError

__all__ = ["MODES", "enhance"]

MODES = ("color", "gray", "bw")


def enhance(page, mode: str = "color") -> np.ndarray:
    """Enhance a flattened page.

    ``"color"`` returns the page unchanged (colours stay natural). ``"gray"`` divides the
    grey page by a background estimate (a large closing + blur on a copy downscaled to about
    512 px, upsampled) to flatten shading, then stretches contrast to uint8. ``"bw"``
    thresholds the flattened grey with Sauvola (window about 2.5 % of the page size) and
    returns uint8 0/255.

    Parameters
    ----------
    page : numpy.ndarray
        (H, W) or (H, W, C) page, uint8 or uint16.
    mode : {"color", "gray", "bw"}

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    InvalidParameterError
        For an unknown mode or a bad image.

    Examples
    --------
    >>> page = np.full((40, 30), 200, np.uint8)
    >>> sorted(np.unique(enhance(page, "bw")).tolist())
    [255]
    """
    if mode not in MODES:
        raise InvalidParameterError(f"mode must be one of {MODES}, got {mode!r}")
    img = np.asarray(page)
    if img.ndim not in (2, 3) or img.size == 0:
        raise InvalidParameterError(f"page must be (H, W) or (H, W, C), got {img.shape}")
    if mode == "color":
        return img
    gray = img if img.ndim == 2 else cv2.cvtColor(img[..., :3], cv2.COLOR_BGR2GRAY)
    gray = gray.astype(np.float32)
    h, w = gray.shape
    scale = min(1.0, 512.0 / max(h, w))
    small = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA)
    k = max(3, int(round(min(small.shape) * 0.05)) | 1)
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                                                            (k, k)))
    bg = cv2.GaussianBlur(bg, (0, 0), k / 2.0)
    bg = cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR)
    flat = np.clip(gray / np.maximum(bg, 1e-3), 0, 1.5)
    lo = min(float(np.percentile(flat, 1)), 0.6)
    flat = np.clip((flat - lo) / max(1e-6, 1.0 - lo), 0, 1)
    if mode == "gray":
        return (flat * 255 + 0.5).astype(np.uint8)
    from skimage.filters import threshold_sauvola

    win = max(15, int(round(0.025 * max(h, w))) | 1)
    thr = threshold_sauvola(flat.astype(np.float64), window_size=win, k=0.2)
    return np.where(flat > np.minimum(thr, 0.92), 255, 0).astype(np.uint8)
