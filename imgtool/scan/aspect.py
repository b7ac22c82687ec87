"""The true proportions of a photographed page, and the size of the flattened output.

A rectangle seen in perspective is a general quadrilateral; its side lengths in the photo
do not give its width / height. :func:`page_aspect` recovers the real ratio from the
perspective itself (Zhang & He, "Whiteboard scanning and image enhancement", Digital Signal
Processing 17(2), 2007), assuming a pinhole camera with square pixels and the principal
point at the image centre, so that the only unknown of the camera is its focal length.

In the pipeline: after the corners (:mod:`~imgtool.scan.detection`,
:mod:`~imgtool.scan.refine`), before the warp (:mod:`~imgtool.scan.warp`).
"""

from __future__ import annotations

import math
import re

import numpy as np

from imgtool.errors import InvalidParameterError
from imgtool.scan.quad import as_quad

__all__ = ["PAPER_ASPECTS", "output_size", "page_aspect", "parse_aspect", "resolve_aspect",
           "runs_off"]

#: Named paper formats, width / height in portrait orientation.
PAPER_ASPECTS = {"a4": 210.0 / 297.0, "letter": 8.5 / 11.0}

# A focal length outside [_F_MIN, _F_MAX] x image diagonal is not a real camera (13 mm
# ultra-wide is about 0.3, a 5x phone telephoto about 2.8): the estimate is noise.
_F_MIN, _F_MAX = 0.25, 4.0
# Relative size of the third coordinate of n2, n3 below which a vanishing point is "at
# infinity" (that pair of sides is parallel in the photo) and f cannot be recovered.
_PARALLEL = 1e-6
_MAX_CORRECTION = 3.0
#: A side whose two ends lie within this share of the photo's shorter side of the same border
#: is the frame's edge, not the page's (a page edge that close along its whole length to the
#: border is rarely in the photo at all), and a corner must lie further than this beyond the
#: border to be out of view (a corner refined at full resolution may land a little outside:
#: 1.1% on a real dev photo whose page is in view); one pixel is the least.
FRAME_BAND = 0.012


def page_aspect(corners, image_size, *, focal: float | None = None) -> float:
    """Width / height of the real (flat, rectangular) page from its four corners in a photo.

    Model and formulas (derived from Zhang & He 2007): the camera matrix is
    ``A = [[f, 0, u0], [0, f, v0], [0, 0, 1]]`` with ``(u0, v0)`` the image centre. Let
    ``m1, m2, m3, m4`` be the homogeneous image points of the page corners TL, TR, BL, BR,
    i.e. of the page-plane points ``(0, 0), (w, 0), (0, h), (w, h)``. Since
    ``l4 m4 = l2 m2 + l3 m3 - l1 m1`` for the projective depths ``l_i``,

    - ``k2 = ((m1 x m4) . m3) / ((m2 x m4) . m3)`` and
      ``k3 = ((m1 x m4) . m2) / ((m3 x m4) . m2)`` are the depth ratios ``l2/l1``, ``l3/l1``;
    - ``n2 = k2 m2 - m1`` is proportional to ``A r1`` and ``n3 = k3 m3 - m1`` to ``A r2``
      (``r1``, ``r2`` the page's axes in camera coordinates);
    - ``r1 . r2 = 0`` gives the focal length::

          f^2 = -[(n21 - u0 n23)(n31 - u0 n33) + (n22 - v0 n23)(n32 - v0 n33)] / (n23 n33)

    - ``|r1| = |r2|`` gives the aspect ratio, with ``B = A^-T A^-1``::

          (w / h)^2 = (n2^T B n2) / (n3^T B n3)

    Degenerate cases fall back to the ratio of the mean side lengths in the photo,
    ``(top + bottom) / (left + right)``: a pair of opposite sides parallel in the photo
    (``n23`` or ``n33`` = 0, a vanishing point at infinity, where ``f`` is undetermined),
    ``f^2 <= 0``, an implausible ``f`` (outside 0.25-4 image diagonals, which is what noise
    in the corners gives for nearly frontal views; there the side ratio is accurate anyway),
    or a result more than 3 times off the side ratio (a tilt beyond about 70 degrees).
    When both pairs of sides are parallel (an affine view) the formula needs no ``f`` and is
    used as is.

    Parameters
    ----------
    corners : array_like, shape (4, 2)
        Page corners ``(x, y)`` in pixels, ordered TL, TR, BR, BL (see
        :func:`imgtool.scan.geometry.order_corners`).
    image_size : tuple of int
        ``(width, height)`` of the photo in pixels; its centre is taken as principal point.
    focal : float, optional
        Known focal length in pixels (from EXIF: :func:`imgtool.io.read_photo`). If given it
        is used instead of the estimate, which is ill-conditioned for many views: when a pair
        of sides is nearly parallel in the photo a corner error of a pixel moves ``f`` a lot.

    Returns
    -------
    float
        The page's width / height (> 0).

    Raises
    ------
    InvalidParameterError
        If ``corners`` is not a (4, 2) finite array, the quadrilateral has no area, or
        ``image_size`` / ``focal`` are not positive.

    Examples
    --------
    A frontal view keeps the proportions of the quadrilateral:

    >>> round(page_aspect([[0, 0], [210, 0], [210, 297], [0, 297]], (400, 400)), 4)
    0.7071
    """
    quad = as_quad(corners, "corners")
    width, height = _as_size(image_size)
    if focal is not None and not (math.isfinite(focal) and focal > 0):
        raise InvalidParameterError(f"focal must be a positive number of pixels, got {focal!r}")
    fallback = _side_ratio(quad)

    # Work in coordinates centred on the principal point and scaled by the image diagonal,
    # so that u0 = v0 = 0 and the numbers are of order 1.
    diag = math.hypot(width, height)
    centre = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    p = (quad - centre) / diag
    m1, m2, m4, m3 = (np.array([x, y, 1.0]) for x, y in p)  # TL, TR, BR, BL
    den2 = float(np.dot(np.cross(m2, m4), m3))
    den3 = float(np.dot(np.cross(m3, m4), m2))
    if abs(den2) < 1e-15 or abs(den3) < 1e-15:
        return fallback  # three corners on one line
    k2 = float(np.dot(np.cross(m1, m4), m3)) / den2
    k3 = float(np.dot(np.cross(m1, m4), m2)) / den3
    n2 = k2 * m2 - m1
    n3 = k3 * m3 - m1
    if k2 <= 0 or k3 <= 0:
        return fallback  # a corner behind the camera: not the image of a rectangle

    par2 = abs(n2[2]) <= _PARALLEL * np.linalg.norm(n2[:2])
    par3 = abs(n3[2]) <= _PARALLEL * np.linalg.norm(n3[:2])
    if focal is not None:
        f2 = (focal / diag) ** 2
    elif par2 and par3:
        f2 = 1.0  # affine view: n23 = n33 = 0, the ratio does not depend on f
    elif par2 or par3:
        return fallback
    else:
        f2 = -(n2[0] * n3[0] + n2[1] * n3[1]) / (n2[2] * n3[2])
        if not (math.isfinite(f2) and _F_MIN**2 <= f2 <= _F_MAX**2):
            return fallback
    num = (n2[0] ** 2 + n2[1] ** 2) / f2 + n2[2] ** 2
    den = (n3[0] ** 2 + n3[1] ** 2) / f2 + n3[2] ** 2
    aspect = math.sqrt(num / den) if den > 0 else float("nan")
    if not (math.isfinite(aspect) and aspect > 0):
        return fallback
    # Foreshortening changes a side ratio by about 1/cos(tilt): more than _MAX_CORRECTION
    # (a tilt beyond ~70 degrees) means the corners are not a rectangle's image (noise).
    if not 1 / _MAX_CORRECTION <= aspect / fallback <= _MAX_CORRECTION:
        return fallback
    return aspect


def output_size(corners, aspect: float) -> tuple[int, int]:
    """Pixel size ``(w, h)`` of the flattened page: true proportions, no loss of resolution.

    The height starts as the longer of the left and right sides in the photo and the width
    follows from ``aspect``; if that width is shorter than the longer of the top and bottom
    sides, the width is set to that side instead and the height follows. So neither direction
    is sampled more coarsely than the page's best-resolved side in the photo (the far side of
    a tilted page is upsampled, never the near side downsampled).

    Parameters
    ----------
    corners : array_like, shape (4, 2)
        Page corners ordered TL, TR, BR, BL.
    aspect : float
        Width / height of the output (> 0).

    Returns
    -------
    tuple of int
        ``(width, height)``, each at least 1.

    Raises
    ------
    InvalidParameterError
        For malformed corners or a non-positive aspect.

    Examples
    --------
    >>> output_size([[0, 0], [100, 0], [100, 50], [0, 50]], 2.0)
    (100, 50)
    >>> output_size([[0, 0], [100, 0], [100, 50], [0, 50]], 1.0)
    (100, 100)
    """
    quad = as_quad(corners, "corners")
    aspect = _as_aspect(aspect)
    top, right, bottom, left = _side_lengths(quad)
    h = max(left, right, 1.0)
    w = h * aspect
    horizontal = max(top, bottom, 1.0)
    if w < horizontal:
        w = horizontal
        h = w / aspect
    return max(1, int(round(w))), max(1, int(round(h)))


def parse_aspect(spec) -> float | None:
    """Parse an aspect option: ``"auto"`` (None), ``"a4"``, ``"letter"``, ``"W:H"`` or a number.

    Named formats are returned in portrait orientation (width / height < 1);
    :func:`resolve_aspect` turns them to landscape when the page in the photo is landscape.

    Parameters
    ----------
    spec : str or float or None
        The option value (case-insensitive). ``None`` means ``"auto"``.

    Returns
    -------
    float or None
        Width / height, or None for automatic.

    Raises
    ------
    InvalidParameterError
        If the text is none of the accepted forms or the ratio is not positive and finite.

    Examples
    --------
    >>> parse_aspect("auto") is None
    True
    >>> round(parse_aspect("A4"), 4)
    0.7071
    >>> parse_aspect("16:9") == 16 / 9
    True
    """
    if spec is None:
        return None
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return _as_aspect(float(spec))
    if not isinstance(spec, str):
        raise InvalidParameterError(f"aspect must be a string or a number, got {spec!r}")
    text = spec.strip().lower()
    if text == "auto":
        return None
    if text in PAPER_ASPECTS:
        return PAPER_ASPECTS[text]
    match = re.fullmatch(r"([0-9]*\.?[0-9]+)\s*[:/x]\s*([0-9]*\.?[0-9]+)", text)
    try:
        value = float(match[1]) / float(match[2]) if match else float(text)
    except (ValueError, ZeroDivisionError):
        value = None
    if value is None or not (math.isfinite(value) and value > 0):
        raise InvalidParameterError(
            f"aspect must be 'auto', 'a4', 'letter', 'W:H' or a positive number, got {spec!r}"
        )
    return value


def resolve_aspect(spec, corners, image_size, *, focal: float | None = None) -> float:
    """The output aspect for an aspect option and detected corners.

    ``"auto"`` gives :func:`page_aspect`; a named paper format (``"a4"``, ``"letter"``) is
    turned to landscape when the page in the photo is landscape (automatic aspect > 1); an
    explicit ``"W:H"`` or number is used as given.

    Parameters
    ----------
    spec : str or float or None
        As for :func:`parse_aspect`.
    corners : array_like, shape (4, 2)
        Page corners ordered TL, TR, BR, BL.
    image_size : tuple of int
        ``(width, height)`` of the photo.
    focal : float, optional
        The camera's focal length in pixels, if known (see :func:`page_aspect`).

    Returns
    -------
    float
        Width / height of the output page.

    Raises
    ------
    InvalidParameterError
        For an invalid ``spec``, corners or image size.

    Examples
    --------
    >>> landscape = [[0, 0], [297, 0], [297, 210], [0, 210]]
    >>> round(resolve_aspect("a4", landscape, (400, 400)), 4)
    1.4143
    """
    value = parse_aspect(spec)
    if value is None:
        return page_aspect(corners, image_size, focal=focal)
    if isinstance(spec, str) and spec.strip().lower() in PAPER_ASPECTS:
        if page_aspect(corners, image_size, focal=focal) > 1.0:
            return 1.0 / value
    return value


def runs_off(corners, image_size) -> bool:
    """Whether the page runs off the photo: a corner lies outside it, or a side lies along
    one of its borders (within :data:`FRAME_BAND`).

    Then the quadrilateral is the visible part of the page, or a guess of where its cut
    corners lie: the proportions recovered from it (:func:`page_aspect`) are those of what
    is seen, not necessarily of the sheet.

    Examples
    --------
    >>> runs_off([[10, 10], [90, 12], [88, 70], [12, 68]], (100, 80))
    False
    >>> runs_off([[10, 0], [90, 0], [88, 70], [12, 68]], (100, 80))  # the top on the frame
    True
    >>> runs_off([[10, -30], [90, 12], [88, 70], [12, 68]], (100, 80))  # a corner beyond it
    True
    """
    quad = as_quad(corners, "corners")
    width, height = _as_size(image_size)
    band = max(1.0, FRAME_BAND * min(width, height))
    x, y = quad[:, 0], quad[:, 1]
    # pixel centres run from 0 to size - 1; a corner on the border's outer edge is at -0.5
    if (x < -0.5 - band).any() or (y < -0.5 - band).any():
        return True
    if (x > width - 0.5 + band).any() or (y > height - 0.5 + band).any():
        return True
    near = np.stack([x <= band, y <= band, x >= width - 1 - band, y >= height - 1 - band])
    return bool((near & np.roll(near, -1, axis=1)).any())


def _side_lengths(quad: np.ndarray) -> tuple[float, float, float, float]:
    """Lengths of the top, right, bottom and left sides of a TL, TR, BR, BL quad."""
    d = np.linalg.norm(np.roll(quad, -1, axis=0) - quad, axis=1)
    return float(d[0]), float(d[1]), float(d[2]), float(d[3])


def _side_ratio(quad: np.ndarray) -> float:
    top, right, bottom, left = _side_lengths(quad)
    if left + right <= 0 or top + bottom <= 0:
        raise InvalidParameterError("corners: the quadrilateral has no area")
    return (top + bottom) / (left + right)


def _as_size(image_size) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in image_size)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"image_size must be (width, height), got {image_size!r}"
        ) from None
    if width < 1 or height < 1:
        raise InvalidParameterError(f"image_size must be positive, got {image_size!r}")
    return width, height


def _as_aspect(aspect) -> float:
    try:
        value = float(aspect)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"aspect must be a number, got {aspect!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise InvalidParameterError(f"aspect must be positive and finite, got {aspect!r}")
    return value
