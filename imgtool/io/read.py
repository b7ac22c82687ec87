"""Reading images: any path or stdin, header checks before decoding, EXIF-upright."""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imgtool.errors import InputError
from imgtool.io._exif import apply_orientation, focal_35mm, orientation
from imgtool.io._header import Header, looks_truncated, sniff

#: Default pixel limit (megapixels) above which an image is refused before decoding.
DEFAULT_MAX_MEGAPIXELS = 180.0

#: Dtypes imgtool works in; others are converted (float64) or refused.
DTYPES = (np.uint8, np.uint16, np.float32)

_INVERSE = {6: 8, 8: 6}

#: Diagonal of the 36 x 24 mm frame that 35 mm-equivalent focal lengths refer to.
FILM_DIAGONAL_MM = 43.2666


@dataclass(frozen=True)
class Photo:
    """A decoded image with what its metadata says about the camera."""

    image: np.ndarray  #: as :func:`read_image` returns it
    #: Focal length in pixels of this image, from EXIF FocalLengthIn35mmFilm, or None when
    #: the file has none, or when the recorded pixel size shows the image was cropped.
    focal: float | None = None


class InputWarning(UserWarning):
    """An input was read, but not all of it is used (e.g. later frames of an animation)."""


def read_image(
    source: str | os.PathLike,
    *,
    auto_orient: bool = True,
    max_megapixels: float | None = DEFAULT_MAX_MEGAPIXELS,
) -> np.ndarray:
    """Read an image from a path, or from standard input when ``source`` is ``"-"``.

    The dtype (uint8, uint16, float32) and channels (gray ``(H, W)``, BGR or BGRA
    ``(H, W, C)``) are kept. The pixel size is read from the header and checked against
    ``max_megapixels`` before any pixel is decoded. EXIF orientation is applied unless
    ``auto_orient`` is False, for every dtype and channel count.

    Parameters
    ----------
    source : str or path-like
        A file path (any characters), or ``"-"`` for standard input.
    auto_orient : bool
        Apply the EXIF orientation tag so the image is upright (default True).
    max_megapixels : float or None
        Refuse images with more pixels than this many millions; None disables the check.

    Returns
    -------
    numpy.ndarray
        uint8, uint16 or float32; 2-D gray or 3-D with 3 (BGR) or 4 (BGRA) channels.

    Raises
    ------
    InputError
        Missing file, a folder, an empty, unreadable, truncated or non-image file, an
        unsupported sample type, or more pixels than allowed.

    Examples
    --------
    >>> read_image("no/such/file.png")
    Traceback (most recent call last):
    ...
    imgtool.errors.InputError: no/such/file.png: no such file
    """
    return read_photo(source, auto_orient=auto_orient, max_megapixels=max_megapixels).image


def read_photo(
    source: str | os.PathLike,
    *,
    auto_orient: bool = True,
    max_megapixels: float | None = DEFAULT_MAX_MEGAPIXELS,
) -> Photo:
    """Read an image like :func:`read_image`, with the camera's focal length from EXIF.

    The focal length in pixels is ``f35 / 43.27 mm x image diagonal`` (35 mm-equivalent
    focal lengths keep the angle of view across the diagonal). It is None without EXIF
    ``FocalLengthIn35mmFilm``, or when the pixel size the camera recorded has other
    proportions than the image (a crop changes the angle of view; a resize does not).

    Examples
    --------
    >>> read_photo("no/such/file.png")
    Traceback (most recent call last):
    ...
    imgtool.errors.InputError: no/such/file.png: no such file
    """
    name = "<stdin>" if str(source) == "-" else str(source)
    data = _read_bytes(source, name)
    image, header = _decode(data, name, auto_orient, max_megapixels)
    focal = None if header is None else _focal_pixels(data, header.format, image.shape[:2])
    return Photo(image, focal)


def decode_image(
    data: bytes,
    *,
    name: str = "<bytes>",
    auto_orient: bool = True,
    max_megapixels: float | None = DEFAULT_MAX_MEGAPIXELS,
) -> np.ndarray:
    """Decode encoded image bytes with the same checks as :func:`read_image`.

    Examples
    --------
    >>> decode_image(b"just some text", name="notes.txt")
    Traceback (most recent call last):
    ...
    imgtool.errors.InputError: notes.txt: not an image (unrecognised format)
    """
    return _decode(data, name, auto_orient, max_megapixels)[0]


def _decode(data: bytes, name: str, auto_orient: bool, max_megapixels: float | None):
    """The decoded, upright image and the header it was checked against (or None)."""
    if not data:
        raise InputError(f"{name}: empty file")
    header = sniff(data)
    _check_size(header, name, max_megapixels)
    if header is not None and looks_truncated(header, data):
        raise InputError(f"{name}: truncated {header.format.upper()} file")

    from imgtool.io._cv import cv2

    image = _imdecode(cv2, data)
    if image is None:
        if header is None:
            raise InputError(f"{name}: not an image (unrecognised format)")
        raise InputError(f"{name}: cannot decode this {header.format.upper()} file (corrupt?)")
    if image.size == 0:
        raise InputError(f"{name}: image has no pixels")
    image = _normalise(image, name)
    if header is not None and header.frames > 1:
        warnings.warn(f"animated {header.format.upper()}: only the first of {header.frames} "
                      "frames is used", InputWarning, stacklevel=3)
    if header is not None:
        tag = orientation(data, header.format)
        if header.format == "tiff":
            # OpenCV's TIFF decoder always turns the image upright itself.
            if not auto_orient and tag != 1:
                image = apply_orientation(image, _INVERSE.get(tag, tag))
        elif auto_orient and tag != 1:
            image = apply_orientation(image, tag)
    return image, header


def focal_from_35mm(focal_35mm: float, size) -> float:
    """Focal length in pixels of an image of ``size`` (width, height) taken with a lens of
    this 35 mm-equivalent focal length (mm): the angle of view across the diagonal is kept.

    Examples
    --------
    >>> round(focal_from_35mm(29, (2448, 3264)), 1)  # an iPhone 6 photo
    2734.7
    """
    return float(focal_35mm) / FILM_DIAGONAL_MM * float(np.hypot(size[0], size[1]))


def _focal_pixels(data: bytes, fmt: str, shape) -> float | None:
    f35, recorded = focal_35mm(data, fmt)
    if f35 is None:
        return None
    h, w = shape
    if recorded is not None:
        # The camera's size may be stored sideways (EXIF orientation): compare proportions.
        ratio = max(recorded) / min(recorded)
        if abs(max(w, h) / min(w, h) / ratio - 1) > 0.01:
            return None
    return focal_from_35mm(f35, (w, h))


def image_header(data: bytes) -> Header | None:
    """The format and size an encoded image's header declares (None if unrecognised)."""
    return sniff(data)


def _read_bytes(source: str | os.PathLike, name: str) -> bytes:
    if name == "<stdin>":
        if sys.stdin is None or sys.stdin.buffer is None:
            raise InputError("<stdin>: no standard input")
        return sys.stdin.buffer.read()
    path = Path(source)
    try:
        if path.is_dir():
            raise InputError(f"{name}: is a folder, not an image file")
        # np.fromfile opens the path itself, so any name works (spaces, non-ASCII).
        return np.fromfile(path, dtype=np.uint8).tobytes()
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except PermissionError:
        raise InputError(f"{name}: permission denied") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a folder, not an image file") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from None


def _check_size(header: Header | None, name: str, max_megapixels: float | None) -> None:
    if header is None or header.pixels is None:
        return
    if header.pixels == 0:
        raise InputError(f"{name}: header declares an empty image ({header.width}x{header.height})")
    if max_megapixels is not None and header.pixels > max_megapixels * 1e6:
        raise InputError(
            f"{name}: {header.width}x{header.height} is {header.pixels / 1e6:.0f} megapixels, "
            f"over the limit of {max_megapixels:g} (raise it with --max-megapixels)"
        )


def _imdecode(cv2, data: bytes):
    buf = np.frombuffer(data, dtype=np.uint8)
    try:
        return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    except cv2.error:
        return None


def _normalise(image: np.ndarray, name: str) -> np.ndarray:
    """Bring a decoded array to imgtool's dtypes and channel layouts."""
    if image.dtype == np.float64:
        image = image.astype(np.float32)
    elif image.dtype == np.int8 or image.dtype == np.int16 or image.dtype == np.int32:
        raise InputError(f"{name}: signed integer samples ({image.dtype}) are not supported")
    if image.dtype not in DTYPES:
        raise InputError(f"{name}: unsupported sample type {image.dtype}")
    if image.ndim == 3:
        channels = image.shape[2]
        if channels == 1:
            image = image[:, :, 0]
        elif channels == 2:  # gray + alpha
            image = np.dstack([image[:, :, 0]] * 3 + [image[:, :, 1]])
        elif channels not in (3, 4):
            raise InputError(f"{name}: {channels} channels are not supported")
    return np.ascontiguousarray(image)
