"""EXIF orientation: find the tag in JPEG, PNG, WebP and TIFF files and apply it.

OpenCV applies the orientation only for 8-bit colour reads; imgtool decodes with
``IMREAD_UNCHANGED`` (to keep 16-bit depth and alpha) and applies it here, so every
dtype and channel count is turned upright the same way.
"""

from __future__ import annotations

import struct

import numpy as np


def orientation(data: bytes, fmt: str) -> int:
    """The EXIF orientation (1..8) stored in an encoded image, 1 when there is none.

    Examples
    --------
    >>> orientation(b"not an image", "png")
    1
    """
    try:
        tiff = _exif_block(data, fmt)
        value = _orientation_from_tiff(tiff) if tiff else 1
    except (struct.error, IndexError, ValueError):
        value = 1
    return value if 1 <= value <= 8 else 1


def apply_orientation(image: np.ndarray, value: int) -> np.ndarray:
    """Turn ``image`` (rows, cols[, channels]) upright for EXIF orientation ``value``.

    Examples
    --------
    >>> a = np.arange(6).reshape(2, 3)
    >>> apply_orientation(a, 6)  # stored rotated: turn 90 degrees clockwise
    array([[3, 0],
           [4, 1],
           [5, 2]])
    """
    if value == 2:
        image = image[:, ::-1]
    elif value == 3:
        image = image[::-1, ::-1]
    elif value == 4:
        image = image[::-1]
    elif value == 5:
        image = image.swapaxes(0, 1)
    elif value == 6:
        image = image.swapaxes(0, 1)[:, ::-1]
    elif value == 7:
        image = image.swapaxes(0, 1)[::-1, ::-1]
    elif value == 8:
        image = image.swapaxes(0, 1)[::-1]
    return np.ascontiguousarray(image)


def _exif_block(d: bytes, fmt: str) -> bytes | None:
    """The TIFF-structured EXIF payload of the file, or None."""
    if fmt == "tiff":
        return d
    if fmt == "jpeg":
        i = 2
        while i + 4 <= len(d) and d[i] == 0xFF:
            marker = d[i + 1]
            if marker == 0xDA:  # start of scan: no metadata after this
                return None
            length = struct.unpack(">H", d[i + 2 : i + 4])[0]
            if marker == 0xE1 and d[i + 4 : i + 10] == b"Exif\x00\x00":
                return d[i + 10 : i + 2 + length]
            i += 2 + length
        return None
    if fmt == "png":
        i = 8
        while i + 8 <= len(d):
            length, kind = struct.unpack(">I4s", d[i : i + 8])
            if kind == b"eXIf":
                return d[i + 8 : i + 8 + length]
            if kind in (b"IDAT", b"IEND"):
                return None
            i += 12 + length
        return None
    if fmt == "webp":
        i = 12
        while i + 8 <= len(d):
            kind, length = d[i : i + 4], struct.unpack("<I", d[i + 4 : i + 8])[0]
            if kind == b"EXIF":
                block = d[i + 8 : i + 8 + length]
                return block[6:] if block.startswith(b"Exif\x00\x00") else block
            i += 8 + length + (length & 1)
        return None
    return None


def _orientation_from_tiff(t: bytes) -> int:
    end = {b"II": "<", b"MM": ">"}[t[:2]]
    (offset,) = struct.unpack(end + "I", t[4:8])
    (count,) = struct.unpack(end + "H", t[offset : offset + 2])
    for k in range(count):
        e = offset + 2 + 12 * k
        tag, typ = struct.unpack(end + "HH", t[e : e + 4])
        if tag == 0x0112:
            return struct.unpack(end + "H", t[e + 8 : e + 10])[0]
    return 1
