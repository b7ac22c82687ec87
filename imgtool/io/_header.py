"""Identify an image format and read its pixel size from the header, without decoding.

This is what lets :func:`imgtool.io.read_image` refuse a decompression bomb (a small file
that claims 100000 x 100000 pixels) before any pixel memory is allocated.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


@dataclass(frozen=True)
class Header:
    """What the first bytes of a file say: ``format`` name, and ``width``/``height`` if known."""

    format: str
    width: int | None = None
    height: int | None = None
    frames: int = 1

    @property
    def pixels(self) -> int | None:
        if self.width is None or self.height is None:
            return None
        return self.width * self.height


def sniff(data: bytes) -> Header | None:
    """Return the :class:`Header` of ``data``, or None if the format is not recognised.

    Examples
    --------
    >>> png = b"\\x89PNG\\r\\n\\x1a\\n" + b"\\x00\\x00\\x00\\rIHDR"
    >>> sniff(png + bytes([0, 0, 0, 7, 0, 0, 0, 5]))
    Header(format='png', width=7, height=5, frames=1)
    >>> sniff(b"hello") is None
    True
    """
    try:
        for test, parse in _PARSERS:
            if test(data):
                return parse(data)
    except (struct.error, IndexError, ValueError):
        # A recognised signature with a broken header: report the format, size unknown.
        for test, parse in _PARSERS:
            if test(data):
                return Header(parse.__name__.removeprefix("_parse_"))
    return None


def _parse_png(d: bytes) -> Header:
    w, h = struct.unpack(">II", d[16:24])
    return Header("png", w, h)


def _parse_jpeg(d: bytes) -> Header:
    i = 2
    while i + 4 <= len(d):
        if d[i] != 0xFF:
            raise ValueError("bad marker")
        marker = d[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = struct.unpack(">H", d[i + 2 : i + 4])[0]
        if marker in _JPEG_SOF:
            h, w = struct.unpack(">HH", d[i + 5 : i + 9])
            return Header("jpeg", w, h)
        i += 2 + length
    return Header("jpeg")


def _parse_gif(d: bytes) -> Header:
    w, h = struct.unpack("<HH", d[6:10])
    return Header("gif", w, h, frames=_gif_frames(d))


def _gif_frames(d: bytes) -> int:
    """Count the image descriptors of a GIF by walking its blocks."""
    flags = d[10]
    i = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    frames = 0
    while i < len(d):
        b = d[i]
        if b == 0x3B:  # trailer
            break
        if b == 0x21:  # extension: label, then sub-blocks
            i += 2
        elif b == 0x2C:  # image descriptor, optional local colour table, LZW min size
            frames += 1
            lflags = d[i + 9]
            i += 10 + (3 * 2 ** ((lflags & 7) + 1) if lflags & 0x80 else 0) + 1
        else:
            break
        while i < len(d) and d[i] != 0:  # sub-blocks
            i += d[i] + 1
        i += 1
    return max(frames, 1)


def _parse_bmp(d: bytes) -> Header:
    w, h = struct.unpack("<ii", d[18:26])
    return Header("bmp", abs(w), abs(h))


def _parse_tiff(d: bytes) -> Header:
    """Classic TIFF (12-byte IFD entries) and BigTIFF (``II+``: 8-byte offsets and counts,
    20-byte entries)."""
    end = "<" if d[:2] == b"II" else ">"
    big = d[2:4] in (b"+\x00", b"\x00+")
    if big:
        (offset,) = struct.unpack(end + "Q", d[8:16])
        (count,) = struct.unpack(end + "Q", d[offset : offset + 8])
        first, step, value = offset + 8, 20, 12
    else:
        (offset,) = struct.unpack(end + "I", d[4:8])
        (count,) = struct.unpack(end + "H", d[offset : offset + 2])
        first, step, value = offset + 2, 12, 8
    size = {}
    for k in range(count):
        e = first + step * k
        tag, typ = struct.unpack(end + "HH", d[e : e + 4])
        if tag in (256, 257):
            fmt = {3: "H", 16: "Q"}.get(typ, "I")
            (size[tag],) = struct.unpack(end + fmt, d[e + value : e + value + struct.calcsize(fmt)])
    return Header("tiff", size.get(256), size.get(257))


def _parse_webp(d: bytes) -> Header:
    chunk = d[12:16]
    if chunk == b"VP8 ":
        w, h = struct.unpack("<HH", d[26:30])
        return Header("webp", w & 0x3FFF, h & 0x3FFF)
    if chunk == b"VP8L":
        bits = int.from_bytes(d[21:25], "little")
        return Header("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":
        w = int.from_bytes(d[24:27], "little") + 1
        h = int.from_bytes(d[27:30], "little") + 1
        return Header("webp", w, h)
    return Header("webp")


def _parse_pnm(d: bytes) -> Header:
    tokens: list[bytes] = []
    for line in d[2:4096].splitlines():
        line = line.split(b"#", 1)[0]
        tokens += line.split()
        if len(tokens) >= 2:
            return Header("pnm", int(tokens[0]), int(tokens[1]))
    return Header("pnm")


#: ISO base media file brands of HEIF still images (HEVC-coded: iPhone photos, and the
#: generic image brands); AVIF ('avif', 'avis') is not among them: pillow-heif reads it only
#: with a separate plugin.
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
               b"mif1", b"msf1"}


def _is_heif(d: bytes) -> bool:
    if d[4:8] != b"ftyp" or len(d) < 16:
        return False
    size = int.from_bytes(d[:4], "big")
    brands = [d[8:12]] + [d[i : i + 4] for i in range(16, min(size, len(d), 256) - 3, 4)]
    return brands[0] not in (b"avif", b"avis") and any(b in HEIF_BRANDS for b in brands)


def _parse_heif(d: bytes) -> Header:
    """The largest 'ispe' (image spatial extent) property: the full image of a grid of
    tiles (iPhone photos are 512 x 512 tiles) or of a single coded image; thumbnails are
    smaller. A file that claims a huge size anywhere is refused before decoding."""
    best = None
    start = d.find(b"ispe", 8, 1 << 20)
    while start != -1:
        # box: size(4) 'ispe' version+flags(4) width(4) height(4)
        w, h = struct.unpack(">II", d[start + 8 : start + 16])
        if best is None or w * h > best[0] * best[1]:
            best = (w, h)
        start = d.find(b"ispe", start + 4, 1 << 20)
    return Header("heif", *best) if best else Header("heif")


_PARSERS = (
    (lambda d: d[:8] == b"\x89PNG\r\n\x1a\n", _parse_png),
    (lambda d: d[:3] == b"\xff\xd8\xff", _parse_jpeg),
    (lambda d: d[:6] in (b"GIF87a", b"GIF89a"), _parse_gif),
    (lambda d: d[:2] == b"BM", _parse_bmp),
    (lambda d: d[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"), _parse_tiff),
    (lambda d: d[:4] == b"RIFF" and d[8:12] == b"WEBP", _parse_webp),
    (lambda d: len(d) > 2 and d[:1] == b"P" and d[1:2] in b"123456", _parse_pnm),
    (_is_heif, _parse_heif),
)


def resolution(header: Header, data: bytes) -> float | None:
    """The resolution (dots per inch) the file records, or None: PNG ``pHYs`` (in metres),
    JPEG JFIF density (in inches or centimetres; else EXIF), TIFF and EXIF ``XResolution``,
    BMP pixels per metre. A file that records only an aspect (no unit) gives None.

    Examples
    --------
    >>> png = b"\\x89PNG\\r\\n\\x1a\\n" + bytes(25) + b"\\x00\\x00\\x00\\x09pHYs"
    >>> resolution(Header("png"), png + bytes([0, 0, 0x2E, 0x23] * 2 + [1]))
    299.9994
    """
    from imgtool.io._exif import resolution as exif_resolution

    try:
        if header.format == "png":
            first_data = data.find(b"IDAT")
            at = data.find(b"pHYs", 12, len(data) if first_data == -1 else first_data)
            if at != -1:
                x, _, unit = struct.unpack(">IIB", data[at + 4 : at + 13])
                return x * 0.0254 if unit == 1 and x else None
            return None
        if header.format == "jpeg":
            if data[2:4] == b"\xff\xe0" and data[6:11] == b"JFIF\x00":
                unit, x = struct.unpack(">BH", data[13:16])
                if unit in (1, 2) and x:
                    return x * (2.54 if unit == 2 else 1.0)
            return exif_resolution(data, "jpeg")
        if header.format == "bmp":
            (x,) = struct.unpack("<i", data[38:42])
            return x * 0.0254 if x > 0 else None
        if header.format in ("tiff", "webp", "heif"):
            return exif_resolution(data, header.format)
    except (struct.error, IndexError):
        return None
    return None


def looks_truncated(header: Header, data: bytes) -> bool:
    """True when a PNG has no IEND chunk or a JPEG no end-of-image marker.

    Decoders often return the top of a cut-off file padded with grey; imgtool refuses
    such a file instead of silently processing half a picture.
    """
    tail = data[-64:]
    if header.format == "png":
        return b"IEND" not in tail
    if header.format == "jpeg":
        return b"\xff\xd9" not in data[-4096:]
    return False
