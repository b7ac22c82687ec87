"""Cleaning up a flattened page: colour, gray with flat lighting, or black and white text.

The last step of the pipeline, on the page :mod:`~imgtool.scan.warp` flattened."""

from __future__ import annotations

import math

import cv2
import numpy as np

from imgtool.errors import InvalidParameterError

MODES = ("color", "gray", "bw")
#: Long side (pixels) of the copy on which the paper's lighting is estimated.
_BACKGROUND_SIDE = 256


def enhance(page: np.ndarray, mode: str = "color", *, overwrite: bool = False) -> np.ndarray:
    """Clean up a flattened page.

    - ``"color"``: white balance and contrast from the paper itself: each channel is scaled
      so the paper (the bright 95th percentile) becomes white; colours stay natural.
    - ``"gray"``: gray, with uneven lighting and shadows divided out (the paper's brightness
      is estimated by a morphological closing that removes the print), then stretched.
    - ``"bw"``: the gray result thresholded with Sauvola's local threshold (window scaled
      with the page), 0/255: the "scanned" look for text.

    Parameters
    ----------
    page : numpy.ndarray
        uint8 or uint16, gray, BGR or BGRA (alpha is dropped for gray and bw, kept for color).
    mode : {"color", "gray", "bw"}
    overwrite : bool
        The result may be written into ``page`` itself: no second page-sized buffer. It is,
        in ``color`` mode, for a writable, C-contiguous uint8 gray or BGR page (a view writes
        through into the array it views). :func:`imgtool.scan.scan` does this with the page
        it has just flattened.

    Returns
    -------
    numpy.ndarray
        ``color``: same dtype and channels; ``gray``: uint8 2-D; ``bw``: uint8 2-D, 0 or 255.

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((120, 90), 150, np.uint8)
    >>> page[:, 45:] = 100            # a shadow over the right half
    >>> page[60:63, 10:80] = 30       # a line of "text"
    >>> bw = enhance(page, "bw")
    >>> int(bw[20, 20]), int(bw[20, 70]), int(bw[61, 20]), int(bw[61, 70])
    (255, 255, 0, 0)
    """
    if mode not in MODES:
        raise InvalidParameterError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "color":
        return _white_balance(page, overwrite)
    gray = _gray8(page)
    flat = flatten_lighting(gray)
    if mode == "gray":
        return flat
    return _sauvola(flat)


def flatten_lighting(gray: np.ndarray) -> np.ndarray:
    """Divide out the paper's uneven brightness (shadows, gradients); paper becomes white."""
    h, w = gray.shape
    scale = max(h, w) / _BACKGROUND_SIDE
    small = gray if scale <= 1 else cv2.resize(
        gray, (max(1, round(w / scale)), max(1, round(h / scale))), interpolation=cv2.INTER_AREA)
    k = max(3, (min(small.shape) // 12) | 1)
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE, (k, k)))
    # a median, not a Gaussian: it smooths the estimate but keeps a hard shadow's edge sharp
    paper = cv2.medianBlur(paper, 5)
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    flat = gray.astype(np.float32) / np.maximum(paper, 1.0)
    # paper at 1.0 -> 250; stretch so the darkest print reaches 0
    lo = float(np.percentile(flat, 0.5))
    lo = min(lo, 0.8)
    out = (flat - lo) / max(1.0 - lo, 1e-3) * 250.0
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _sauvola(flat: np.ndarray) -> np.ndarray:
    from skimage.filters import threshold_sauvola

    window = max(15, (max(flat.shape) // 50) | 1)
    thresh = threshold_sauvola(flat, window_size=window, k=0.2, r=128)
    # paper that is already near white stays white even where the local window is all paper
    text = (flat < thresh) & (flat < 200)
    out = np.where(text, 0, 255).astype(np.uint8)
    # the outermost pixels can hold a sliver of the desk (corners sit on the page's edge)
    m = max(2, round(0.002 * max(out.shape)))
    out[:m], out[-m:], out[:, :m], out[:, -m:] = 255, 255, 255, 255
    return out


def _white_balance(page: np.ndarray, overwrite: bool = False) -> np.ndarray:
    top = 65535.0 if page.dtype == np.uint16 else 255.0
    colour = page[:, :, :3] if page.ndim == 3 else page
    step = max(1, int(np.sqrt(colour.shape[0] * colour.shape[1] / 250_000)))
    sample = np.ascontiguousarray(colour[::step, ::step])
    if page.dtype == np.uint8:
        channels = 1 if sample.ndim == 2 else 3
        white = np.array([_percentile_u8(sample, 95, c) for c in range(channels)])
    else:
        white = np.percentile(sample.reshape(-1, sample.shape[2] if sample.ndim == 3 else 1)
                              .astype(np.float32), 95, axis=0)
    gain = np.atleast_1d(np.clip(0.96 * top / np.maximum(white, 1.0), 1.0, 2.5))
    if page.dtype == np.uint8:  # a lookup table per channel: no float copy of the page
        levels = np.arange(256, dtype=np.float32)
        lut = np.stack([np.clip(levels * g + 0.5, 0, 255).astype(np.uint8) for g in gain],
                       axis=-1).reshape(256, 1, -1)
        if (overwrite and page.flags.writeable and page.flags.c_contiguous
                and (page.ndim == 2 or page.shape[2] == 3)):
            return cv2.LUT(page, lut, dst=page)
        out = cv2.LUT(np.ascontiguousarray(colour), lut)
    else:
        out = np.clip(colour.astype(np.float32) * gain + 0.5, 0, top).astype(page.dtype)
    if page.ndim == 3 and page.shape[2] == 4:
        out = np.dstack([out, page[:, :, 3]])
    return out


def _percentile_u8(image: np.ndarray, q: float, channel: int = 0) -> float:
    """``np.percentile`` (linear interpolation) of one channel of a uint8 image, by counting.

    Examples
    --------
    >>> v = np.random.default_rng(0).integers(0, 256, (7, 143)).astype(np.uint8)
    >>> bool(_percentile_u8(v, 95) == np.percentile(v, 95))
    True
    """
    counts = cv2.calcHist([image], [channel], None, [256], [0, 256]).ravel()
    cum = np.cumsum(counts.astype(np.int64))
    pos = q / 100.0 * (cum[-1] - 1)
    lo = int(math.floor(pos))
    # the k-th smallest value (from 0) is the first level whose count passes k
    v_lo, v_hi = np.searchsorted(cum, [lo, min(lo + 1, cum[-1] - 1)], side="right")
    return float(v_lo + (pos - lo) * (v_hi - v_lo))


def _gray8(page: np.ndarray) -> np.ndarray:
    img = page
    if img.ndim == 3:
        img = cv2.cvtColor(img[:, :, :3], cv2.COLOR_BGR2GRAY)
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    return img
