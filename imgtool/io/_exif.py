"""EXIF: the orientation tag (found in JPEG, PNG, WebP and TIFF files, and applied) and the
camera's focal length.

OpenCV applies the orientation only for 8-bit colour reads; imgtool decodes with
``IMREAD_UNCHANGED`` (to keep 16-bit depth and alpha) and applies it here, so every
dtype and channel count is turned upright the same way.

The focal length is read from ``FocalLengthIn35mmFilm`` (tag 0xA405 in the Exif IFD), which
phone cameras write. The scanner uses it to recover a page's true proportions when the
perspective alone cannot pin the focal length down.
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


def focal_35mm(data: bytes, fmt: str) -> tuple[float | None, tuple[int, int] | None]:
    """The 35 mm-equivalent focal length (mm) in an encoded image's EXIF, and the pixel size
    ``(PixelXDimension, PixelYDimension)`` the camera recorded with it.

    Either is None when absent or unreadable (a focal length of 0 means "unknown" in EXIF).

    Examples
    --------
    >>> jpeg_start = bytes([0xFF, 0xD8])
    >>> focal_35mm(jpeg_start + exif_app1(focal_35mm=28, size=(4000, 3000)), "jpeg")
    (28.0, (4000, 3000))
    >>> focal_35mm(b"not an image", "png")
    (None, None)
    """
    try:
        tiff = _exif_block(data, fmt)
        if not tiff:
            return None, None
        end = _byte_order(tiff)
        exif = _find_entry(tiff, end, _ifd0_offset(tiff, end), 0x8769)
        if exif is None:
            return None, None
        (offset,) = struct.unpack(end + "I", exif[2])
        f35 = _find_entry(tiff, end, offset, 0xA405)
        value = None
        if f35 is not None and f35[0] == 3:  # SHORT
            value = float(struct.unpack(end + "H", f35[2][:2])[0]) or None
        dims = [_find_entry(tiff, end, offset, tag) for tag in (0xA002, 0xA003)]
        size = None
        if all(d is not None for d in dims):
            size = tuple(_integer(d, end) for d in dims)
            size = size if all(size) else None
        return value, size
    except (struct.error, IndexError, ValueError, KeyError):
        return None, None


def resolution(data: bytes, fmt: str) -> float | None:
    """Dots per inch from the EXIF or TIFF ``XResolution`` and ``ResolutionUnit`` tags (inch
    when the unit is absent, as TIFF says), or None.

    Examples
    --------
    >>> resolution(b"not an image", "tiff") is None
    True
    """
    try:
        tiff = _exif_block(data, fmt)
        if not tiff:
            return None
        end = _byte_order(tiff)
        ifd = _ifd0_offset(tiff, end)
        entry = _find_entry(tiff, end, ifd, 0x011A)
        if entry is None or entry[0] != 5:  # RATIONAL
            return None
        (at,) = struct.unpack(end + "I", entry[2])
        num, den = struct.unpack(end + "II", tiff[at : at + 8])
        unit_entry = _find_entry(tiff, end, ifd, 0x0128)
        unit = 2 if unit_entry is None else _integer(unit_entry, end)
    except (struct.error, IndexError, ValueError, KeyError):
        return None
    if den == 0 or num == 0 or unit not in (2, 3):
        return None
    return num / den * (2.54 if unit == 3 else 1.0)


def exif_app1(*, focal_35mm: int, size: tuple[int, int]) -> bytes:
    """A JPEG APP1 segment holding an EXIF block with only the focal length and pixel size.

    Used by the sample generator so that its photos carry what a phone camera writes; insert
    it right after the JPEG's SOI marker (the first two bytes).
    """
    end = "<"
    entries = [(0xA002, 4, 1, struct.pack(end + "I", int(size[0]))),
               (0xA003, 4, 1, struct.pack(end + "I", int(size[1]))),
               (0xA405, 3, 1, struct.pack(end + "HH", int(focal_35mm), 0))]
    exif_offset = 8 + 2 + 12 + 4  # after the header and a one-entry IFD0
    ifd0 = struct.pack(end + "H", 1) + struct.pack(end + "HHII", 0x8769, 4, 1, exif_offset)
    ifd0 += struct.pack(end + "I", 0)
    exif = struct.pack(end + "H", len(entries))
    for tag, typ, count, value in entries:
        exif += struct.pack(end + "HHI", tag, typ, count) + value
    exif += struct.pack(end + "I", 0)
    tiff = b"II" + struct.pack(end + "HI", 42, 8) + ifd0 + exif
    payload = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


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
    if fmt == "heif":
        # the Exif item's data: a 4-byte offset, then "Exif\0\0" and the TIFF structure
        for order in (b"MM\x00*", b"II*\x00"):
            i = d.find(b"Exif\x00\x00" + order)
            if i != -1:
                return d[i + 6 :]
        return None
    return None


def _orientation_from_tiff(t: bytes) -> int:
    end = _byte_order(t)
    entry = _find_entry(t, end, _ifd0_offset(t, end), 0x0112)
    return 1 if entry is None else struct.unpack(end + "H", entry[2][:2])[0]


def _byte_order(t: bytes) -> str:
    return {b"II": "<", b"MM": ">"}[t[:2]]


def _ifd0_offset(t: bytes, end: str) -> int:
    return struct.unpack(end + "I", t[4:8])[0]


def _find_entry(t: bytes, end: str, offset: int, wanted: int):
    """``(type, count, 4 value bytes)`` of tag ``wanted`` in the IFD at ``offset``, or None."""
    (count,) = struct.unpack(end + "H", t[offset : offset + 2])
    for k in range(count):
        e = offset + 2 + 12 * k
        tag, typ, n = struct.unpack(end + "HHI", t[e : e + 8])
        if tag == wanted:
            return typ, n, t[e + 8 : e + 12]
    return None


def _integer(entry, end: str) -> int:
    """A SHORT or LONG value."""
    typ, _, raw = entry
    if typ == 3:
        return struct.unpack(end + "H", raw[:2])[0]
    if typ == 4:
        return struct.unpack(end + "I", raw)[0]
    raise ValueError("not an integer tag")
