"""The document scanner: find the page in a photo, flatten it, true proportions, enhance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imgtool.errors import InvalidParameterError, NoPageError

__all__ = ["FALLBACKS", "ScanResult", "detect", "scan"]

#: ``"full"``: no page found -> the whole image is the page (found=False);
#: ``"skip"``: raise :class:`imgtool.errors.NoPageError`.
FALLBACKS = ("full", "skip")


@dataclass
class ScanResult:
    """What :func:`scan` / :func:`detect` found and made."""

    page: np.ndarray | None
    found: bool
    corners: np.ndarray | None
    size: tuple[int, int] | None
    aspect: float | None
    mode: str | None

    def to_record(self) -> dict:
        """JSON-able fields: found, corners (0.1 px), size, aspect (4 decimals).

        Examples
        --------
        >>> ScanResult(None, False, None, None, None, None).to_record()
        {'found': False, 'corners': None, 'size': None, 'aspect': None}
        """
        corners = None
        if self.corners is not None:
            corners = [[round(float(x), 1), round(float(y), 1)] for x, y in self.corners]
        return {
            "found": bool(self.found),
            "corners": corners,
            "size": None if self.size is None else [int(v) for v in self.size],
            "aspect": None if self.aspect is None else round(float(self.aspect), 4),
        }


def detect(image, *, debug=None) -> ScanResult:
    """Find the page corners without warping (``--detect-only``).

    Parameters
    ----------
    image : numpy.ndarray
        EXIF-upright full-resolution image.
    debug : dict, optional
        Receives intermediate pictures.

    Returns
    -------
    ScanResult
        ``page`` is None; ``found`` False and ``corners`` None if no page was found.
    """
    img = _check_image(image)
    corners = _find(img, debug, refine=True)
    if corners is None:
        return ScanResult(None, False, None, None, None, None)
    from imgtool.scan.aspect import output_size, page_aspect

    aspect = page_aspect(corners, (img.shape[1], img.shape[0]))
    return ScanResult(None, True, corners, output_size(corners, aspect), aspect, None)


def scan(image, *, mode="color", aspect="auto", corners=None, fallback="full", refine=True,
         debug=None) -> ScanResult:
    """Scan a photographed page: detect (or take ``corners``), refine, true aspect, warp, enhance.

    Parameters
    ----------
    image : numpy.ndarray
        EXIF-upright full-resolution image (uint8/uint16; gray, BGR or BGRA).
    mode : {"color", "gray", "bw"}
    aspect : str or float
        ``"auto"``, ``"a4"``, ``"letter"``, ``"W:H"`` or a number.
    corners : array_like, optional
        User corners (4, 2) in any order; skips detection.
    fallback : {"full", "skip"}
        What to do if no page is found (see :data:`FALLBACKS`).
    refine : bool
        Refine detected corners at full resolution.
    debug : dict, optional
        Receives intermediate pictures.

    Returns
    -------
    ScanResult

    Raises
    ------
    NoPageError
        No page found and ``fallback="skip"``.
    InvalidParameterError
        For bad parameters.

    Examples
    --------
    >>> img = np.zeros((60, 80), np.uint8)
    >>> r = scan(img, corners=[[10, 10], [70, 10], [70, 50], [10, 50]])
    >>> r.found, r.size
    (True, (60, 40))
    """
    from imgtool.scan.aspect import output_size, resolve_aspect
    from imgtool.scan.enhance import MODES, enhance
    from imgtool.scan.geometry import order_corners, warp_page

    img = _check_image(image)
    if mode not in MODES:
        raise InvalidParameterError(f"mode must be one of {MODES}, got {mode!r}")
    if fallback not in FALLBACKS:
        raise InvalidParameterError(f"fallback must be one of {FALLBACKS}, got {fallback!r}")
    h, w = img.shape[:2]
    found = True
    if corners is not None:
        quad = order_corners(corners)
    else:
        quad = _find(img, debug, refine=refine)
        if quad is None:
            if fallback == "skip":
                raise NoPageError("no page found in the image")
            found = False
            quad = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float64)
    ratio = resolve_aspect(aspect, quad, (w, h))
    size = output_size(quad, ratio)
    page = enhance(warp_page(img, quad, size), mode)
    if debug is not None:
        from imgtool.scan.debug import draw_quad

        debug["quad"] = draw_quad(img, quad)
    return ScanResult(page, found, quad if found else None, size, ratio, mode)


def _find(img, debug, *, refine):
    try:  # the detector module was planned as ``detect``, it was committed as ``detection``
        from imgtool.scan.detect import find_page
    except ImportError:
        from imgtool.scan.detection import find_page

    det = find_page(img, debug=debug)
    if det is None:
        return None
    from imgtool.scan.geometry import order_corners, refine_corners

    quad = order_corners(det.corners)
    if refine:
        import cv2

        gray = img if img.ndim == 2 else cv2.cvtColor(img[..., :3], cv2.COLOR_BGR2GRAY)
        quad = refine_corners(gray, quad)
    return quad


def _check_image(image):
    img = np.asarray(image)
    if img.ndim not in (2, 3) or img.size == 0 or (img.ndim == 3 and img.shape[2] not in (1, 3, 4)):
        raise InvalidParameterError(f"image must be (H, W) or (H, W, 1|3|4), got {img.shape}")
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    return img
