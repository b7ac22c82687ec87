"""The document scanner: find the page in a photo, flatten it, true proportions, enhance.

:func:`scan` is the whole pipeline; :func:`detect` stops after the corners. The modules, in
pipeline order (each imports only from those before it, see ``tests/test_scan_layout.py``):

- :mod:`~imgtool.scan.quad`: quadrilateral geometry: corner order (:func:`order_corners`),
  sides, where lines meet, angles, areas;
- :mod:`~imgtool.scan.median`: the fast median the profile rules take;
- :mod:`~imgtool.scan.support`: boundary evidence: how much of a side is a page's edge;
- :mod:`~imgtool.scan.candidates`: the generators proposing quadrilaterals (contours, bright
  regions, lines, cut corners restored, sides moved onto the frame);
- :mod:`~imgtool.scan.sides`: quadrilaterals closed from four (or three) straight sides, for
  a page on a busy desk, and a quad cut by a cable across the page moved out to its sides' end;
- :mod:`~imgtool.scan.block`: a page on something larger (a book's page block, a backing
  sheet): a side stepped in to the page's own edge;
- :mod:`~imgtool.scan.score`: a candidate's sides snapped to the page's boundary, its score
  and confidence;
- :mod:`~imgtool.scan.rules`: the page, not what holds it or what it holds (a notebook round
  its label, a desk top round the page, the whole page round a piece cut off by a pen);
- :mod:`~imgtool.scan.detection`: the search (:func:`~imgtool.scan.detection.find_page`): the
  generators in two stages, scoring, the rules, the winner;
- :mod:`~imgtool.scan.refine`: sub-pixel corners on the full-resolution photo
  (:func:`refine_corners`);
- :mod:`~imgtool.scan.aspect`: the page's true aspect ratio and output size;
- :mod:`~imgtool.scan.warp`: flattening (:func:`warp_page`);
- :mod:`~imgtool.scan.enhance`: colour, enhanced colour, gray, black and white;
- :mod:`~imgtool.scan.orientation`: which way up the text runs (``rotate="auto"``).

Inside the package a name starting with ``_`` is private to its module; a module's plain names
may be used by the modules after it, and its ``__all__`` lists what users may rely on.
:mod:`~imgtool.scan.geometry` keeps the former home of :func:`order_corners`,
:func:`refine_corners` and :func:`warp_page` importable.
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import cv2
import numpy as np

from imgtool.errors import InvalidParameterError, NoPageError
from imgtool.io import Photo
from imgtool.scan.aspect import output_size, parse_aspect, resolve_aspect, runs_off
from imgtool.scan.enhance import MODES, enhance
from imgtool.scan.orientation import rotate_clockwise
from imgtool.scan.quad import order_corners
from imgtool.scan.refine import refine_corners
from imgtool.scan.warp import warp_page

FALLBACKS = ("full", "skip")
#: How far (share of the photo's width or height) a given corner may lie beyond the photo's
#: edge: a page corner cut off by the frame is a few percent out; farther means corners
#: measured on another image (a preview, the photo before EXIF rotation).
CORNER_MARGIN = 0.25


@dataclass
class ScanResult:
    """What the scanner found and made."""

    page: np.ndarray | None  #: the flattened, enhanced page (None for detect-only)
    found: bool  #: whether a page was found (or corners were given)
    corners: np.ndarray | None  #: (4, 2) TL, TR, BR, BL in pixels of the input, or None
    size: tuple | None  #: (width, height) of the page
    aspect: float | None  #: width / height of the page
    mode: str = "color"
    source: str | None = None  #: which detector proposed the corners ("user" if given)
    rotation: int = 0  #: clockwise degrees the page was turned (``rotate``)
    #: how sure detection is that the corners are the page's, 0..1; 0 when no page was
    #: found (below :data:`imgtool.scan.detection.MIN_CONFIDENCE` counts as none), None for
    #: corners given by the user
    confidence: float | None = None
    #: whether the page runs off the photo (:func:`imgtool.scan.aspect.runs_off`): its
    #: proportions are then those of what is seen; None when no page was found
    cut: bool | None = None

    def to_record(self) -> dict:
        """The JSON-able fields: found, corners (rounded to 0.1 px), size, aspect,
        confidence (3 decimals), cut."""
        corners = None
        if self.corners is not None:
            corners = [[round(float(x), 1), round(float(y), 1)] for x, y in self.corners]
        return {
            "found": bool(self.found),
            "corners": corners,
            "size": None if self.size is None else [int(self.size[0]), int(self.size[1])],
            "aspect": None if self.aspect is None else round(float(self.aspect), 4),
            "confidence": None if self.confidence is None else round(float(self.confidence), 3),
            "cut": None if self.cut is None else bool(self.cut),
        }


def detect(image, *, corners=None, refine: bool = True, focal: float | None = None,
           debug: dict | None = None) -> ScanResult:
    """Find the page's corners (and the size and aspect it would be scanned at), no warp.

    The parameters are those of :func:`scan`.

    Examples
    --------
    >>> photo = np.full((300, 400), 50, np.uint8)
    >>> photo[40:260, 120:280] = 220
    >>> r = detect(photo)
    >>> r.found, r.size, r.confidence
    (True, (160, 220), 1.0)
    """
    photo, focal = _as_photo(image, focal)
    search = corners is None
    found = _find_on_preview(photo, debug) if search and photo.preview is not None else None
    image = _check_image(photo.image)
    if search and photo.preview is None:
        from imgtool.scan.detection import find_page

        found = find_page(image, debug=debug)
    h, w = image.shape[:2]
    source = "user"
    if corners is not None:
        quad = order_corners(corners)
        _check_corners_near(quad, w, h)
    else:
        if found is None:
            return ScanResult(None, False, None, None, None, confidence=0.0)
        quad, source = found.corners, found.source
        if refine:
            quad = refine_corners(_gray(image), quad)
            quad = order_corners(quad)
    aspect = resolve_aspect("auto", quad, (w, h), focal=focal)
    size = output_size(quad, aspect)
    if debug is not None:
        debug["chosen"] = _draw(image, quad)
    sure = None if corners is not None else found.confidence
    return ScanResult(None, True, quad, size, aspect, source=source, confidence=sure,
                      cut=runs_off(quad, (w, h)))


def scan(image, *, mode: str = "color", aspect="auto", corners=None,
         fallback: str = "full", refine: bool = True, focal: float | None = None,
         rotate: int | str = 0, debug: dict | None = None) -> ScanResult:
    """Scan a photo of a page: find it, flatten it to its true proportions, clean it up.

    Parameters
    ----------
    image : numpy.ndarray or imgtool.io.Photo
        The EXIF-upright, full-resolution photo (uint8 or uint16; gray, BGR or BGRA), or a
        photo from :func:`imgtool.io.read_photo`: its EXIF focal length is used unless
        ``focal`` is given, and a photo read with ``preview`` is searched on its preview
        while its full image is still decoding (then refined on the full image).
    mode : {"color", "enhanced", "gray", "bw"}
        See :func:`imgtool.scan.enhance.enhance`.
    aspect : str or float
        ``"auto"`` (recovered from the perspective), ``"a4"``, ``"letter"``, ``"W:H"``.
    corners : array_like, optional
        (4, 2) page corners in any order, instead of detecting them.
    fallback : {"full", "skip"}
        No page found: use the whole photo as the page (``found`` is False), or raise
        :class:`~imgtool.errors.NoPageError`.
    refine : bool
        Refine detected corners at full resolution.
    focal : float, optional
        The camera's focal length in pixels (:func:`imgtool.io.read_photo` reads it from
        EXIF). With it the aspect ratio no longer depends on estimating ``f`` from the
        corners; see :func:`imgtool.scan.aspect.page_aspect`.
    rotate : {0, 90, 180, 270, "auto"}
        Turn the finished page clockwise by this many degrees; ``"auto"`` by the turn
        :func:`imgtool.scan.orientation.text_orientation` finds (0 when unsure). The
        result's ``size``, ``aspect`` and ``corners`` then describe the page as turned:
        ``corners[0]`` is the photo pixel that became the page's top-left corner.
    debug : dict, optional
        Receives intermediate pictures (name -> image).

    Returns
    -------
    ScanResult

    Examples
    --------
    >>> photo = np.full((300, 400, 3), 40, np.uint8)
    >>> photo[40:260, 120:280] = 230
    >>> result = scan(photo, mode="gray")
    >>> result.found, result.page.shape
    (True, (220, 160))
    >>> scan(np.full((50, 50), 128, np.uint8), fallback="skip")
    Traceback (most recent call last):
    ...
    imgtool.errors.NoPageError: no page found
    """
    if mode not in MODES:
        raise InvalidParameterError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if rotate != "auto" and str(rotate) not in ("0", "90", "180", "270"):
        raise InvalidParameterError(f"rotate must be 0, 90, 180, 270 or 'auto', got {rotate!r}")
    if fallback not in FALLBACKS:
        raise InvalidParameterError(f"fallback must be 'full' or 'skip', got {fallback!r}")
    parse_aspect(aspect)
    photo, focal = _as_photo(image, focal)
    if focal is not None and not (np.isfinite(focal) and focal > 0):
        raise InvalidParameterError(f"focal must be a positive number of pixels, got {focal!r}")
    result = detect(photo, corners=corners, refine=refine, focal=focal, debug=debug)
    image = _check_image(photo.image)
    h, w = image.shape[:2]
    if result.found:
        quad = result.corners
    elif fallback == "skip":
        raise NoPageError("no page found")
    else:
        quad = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]])
    if not result.found and parse_aspect(aspect) is None:
        ratio = w / h  # the whole photo, as it is
    else:
        ratio = resolve_aspect(aspect, quad, (w, h), focal=focal)
    size = output_size(quad, ratio)
    page = warp_page(image, quad, size)
    page = enhance(page, mode, overwrite=True)  # the page is ours: no second copy
    if rotate == "auto":
        from imgtool.scan.orientation import text_orientation

        rotate = text_orientation(page).rotate
    turns = int(rotate) // 90
    corners = result.corners
    if turns:
        page = rotate_clockwise(page, 90 * turns)
        corners = None if corners is None else np.roll(corners, turns, axis=0)
        if turns % 2:
            size, ratio = (size[1], size[0]), 1.0 / ratio
    return ScanResult(page, result.found, corners, size, ratio, mode, result.source,
                      90 * turns, result.confidence, result.cut)


def _check_corners_near(quad: np.ndarray, w: int, h: int) -> None:
    """Refuse given corners far outside the photo (:data:`CORNER_MARGIN`)."""
    mx, my = CORNER_MARGIN * w, CORNER_MARGIN * h
    for x, y in quad:
        if not (-mx <= x <= w + mx and -my <= y <= h + my):
            raise InvalidParameterError(
                f"corner ({x:g}, {y:g}) lies far outside the {w}x{h} photo (more than "
                f"{CORNER_MARGIN:.0%} of its size beyond the edge); corners are pixels of "
                "the EXIF-upright photo")


def _as_photo(image, focal):
    """``image`` as a :class:`~imgtool.io.Photo`, and the focal length to use (the given
    one, else the photo's)."""
    if isinstance(image, Photo):
        return image, image.focal if focal is None else focal
    return Photo(_check_image(image)), focal


def _find_on_preview(photo: Photo, debug):
    """Detection on the photo's preview; while the full image still decodes on the other
    core, with one kernel thread (parallel kernels on both would wait for each other)."""
    from imgtool.kernels._jit import at_most_threads
    from imgtool.scan.detection import find_page

    with at_most_threads(1) if photo.decoding else nullcontext():
        return find_page(photo.preview, debug=debug, reduced=photo.reduced)


def _check_image(image) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim not in (2, 3) or image.size == 0:
        raise InvalidParameterError(f"image must be a 2-D or 3-D array, got shape {image.shape}")
    if image.dtype == np.float32 or image.dtype == np.float64:
        if not np.isfinite(image).all():
            raise InvalidParameterError("image has NaN or infinite values")
        image = np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
    elif image.dtype not in (np.uint8, np.uint16):
        raise InvalidParameterError(f"unsupported dtype {image.dtype}")
    opaque = np.iinfo(image.dtype).max
    if image.ndim == 3 and image.shape[2] == 4 and (image[:, :, 3] == opaque).all():
        image = image[:, :, :3]  # a photo saved with an opaque alpha channel: nothing to keep
    return image


def _gray(image: np.ndarray) -> np.ndarray:
    """What refinement reads: gray or BGR as they are (BGR profiles are turned grey after
    sampling, cheaper than converting the whole photo); BGRA converted to gray."""
    if image.ndim == 2 or image.shape[2] == 3:
        return image
    return cv2.cvtColor(image[:, :, :3], cv2.COLOR_BGR2GRAY)


def _draw(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The photo at detection scale with the page's quadrilateral drawn (for --debug)."""
    from imgtool.scan.detection import downscale, to_bgr8

    out, scale = downscale(to_bgr8(image))
    out = out.copy()
    quad = quad / scale
    cv2.polylines(out, [np.round(quad).astype(np.int32).reshape(-1, 1, 2)], True, (0, 220, 0), 2,
                  cv2.LINE_AA)
    return out


__all__ = ["FALLBACKS", "MODES", "ScanResult", "detect", "enhance", "order_corners",
           "refine_corners", "scan", "warp_page"]
