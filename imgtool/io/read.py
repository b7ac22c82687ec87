"""Reading images: any path or stdin, header checks before decoding, EXIF-upright."""

from __future__ import annotations

import os
import stat
import sys
import threading
import warnings
from pathlib import Path

import numpy as np

from imgtool.errors import InputError, reading
from imgtool.io import remote
from imgtool.io._exif import apply_orientation, focal_35mm, orientation
from imgtool.io._header import Header, looks_truncated, resolution, sniff
from imgtool.io.remote import local_path

#: Default pixel limit (megapixels) above which an image is refused before decoding.
DEFAULT_MAX_MEGAPIXELS = 180.0

#: Dtypes imgtool works in; others are converted (float64) or refused.
DTYPES = (np.uint8, np.uint16, np.float32)

_INVERSE = {6: 8, 8: 6}

#: Diagonal of the 36 x 24 mm frame that 35 mm-equivalent focal lengths refer to.
FILM_DIAGONAL_MM = 43.2666


class Photo:
    """A decoded image with what its metadata says about the camera.

    A large JPEG read by :func:`read_photo` with ``preview`` also carries ``preview``: a copy
    reduced ``reduced`` times, which the decoder makes far more cheaply than the full image
    (DCT scaling). The full image then decodes in a background thread: ``preview`` is ready
    at once, and ``image`` waits for the rest (raising its decoding errors, if any).
    """

    def __init__(self, image: np.ndarray | None, focal: float | None = None, *,
                 preview: np.ndarray | None = None, reduced: int = 1, pending=None,
                 size: tuple | None = None, dpi: float | None = None):
        self._image = image
        #: The resolution (dots per inch) the file records, or None.
        self.dpi = dpi
        #: Focal length in pixels of this image, from EXIF FocalLengthIn35mmFilm, or None
        #: when the file has none, or when the recorded pixel size shows it was cropped.
        self.focal = focal
        #: A BGR uint8 copy reduced ``reduced`` times (pixel i covers full-resolution
        #: pixels ``reduced * i`` to ``reduced * (i + 1) - 1``), upright; or None.
        self.preview = preview
        self.reduced = reduced
        self._pending = pending
        #: (width, height) of the full image, known without waiting for it.
        self.size = size if image is None else (image.shape[1], image.shape[0])

    @property
    def image(self) -> np.ndarray:
        """The full image, as :func:`read_image` returns it."""
        if self._pending is not None:
            self._image = self._pending.result()  # raises the decoder's InputError
            self._pending = None
        return self._image

    @property
    def decoding(self) -> bool:
        """Whether the full image is still being decoded in the background."""
        return self._pending is not None and not self._pending.done()


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
        A file path (any characters), a ``file://`` or other fsspec URL
        (:mod:`imgtool.io.remote`), or ``"-"`` for standard input.
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
    preview: int | None = None,
) -> Photo:
    """Read an image like :func:`read_image`, with the camera's focal length from EXIF.

    With ``preview`` (a long side in pixels), a JPEG that a reduction by 2, 4 or 8 brings
    to that long side (up to 10 % more; the factor must divide both sides) is first decoded
    so reduced, and the full image in a background thread: see :class:`Photo`. Other files
    are decoded at once, as without it. Phone photos of 4000 x 3000 or 4032 x 3024 get a
    preview of 1000 or 1008 pixels for ``preview=1000``.

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
    if preview is not None:
        photo = _with_preview(data, name, auto_orient, max_megapixels, preview)
        if photo is not None:
            return photo
    image, header = _decode(data, name, auto_orient, max_megapixels)
    if header is None:
        return Photo(image)
    focal = _focal_pixels(data, header.format, image.shape[:2])
    return Photo(image, focal, dpi=resolution(header, data))


#: The reductions JPEG decoders make while decoding, largest first.
_REDUCTIONS = (8, 4, 2)
#: A preview's long side may exceed the one asked for by this factor.
PREVIEW_SLACK = 1.1
_decoder_lock = threading.Lock()  # one full decode in the background at a time


class _Background:
    """``fn()`` run on a new thread, one at a time (a minimal future: ``done()``,
    ``result()``; ``concurrent.futures`` would add its import and ``logging``'s, about 5 ms
    of a one-photo command's start)."""

    def __init__(self, fn):
        self._fn, self._value, self._error = fn, None, None
        self._thread = threading.Thread(target=self._run, name="imgtool-decode")
        self._thread.start()

    def _run(self):
        with _decoder_lock:
            try:
                self._value = self._fn()
            except BaseException as exc:  # noqa: BLE001 (handed to the caller of result())
                self._error = exc

    def done(self) -> bool:
        return not self._thread.is_alive()

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _with_preview(data: bytes, name: str, auto_orient: bool, max_megapixels, side: int):
    """A :class:`Photo` with a reduced preview and the full image decoding in the
    background; None when that does not apply (not a JPEG, too small, a bad header): the
    ordinary path then decodes (and reports errors) as usual."""
    header = sniff(data)
    if header is None or header.format != "jpeg" or header.pixels is None:
        return None
    _check_size(header, name, max_megapixels)
    if looks_truncated(header, data):
        return None
    long_side = max(header.width, header.height)
    # A size the factor divides keeps the preview's pixel grid aligned with the full image's,
    # also when the EXIF orientation flips it (phone cameras write such sizes). A preview
    # much larger than asked for would be resized again, and two resamplings blur faint
    # edges (measured: on one real photo of a book, the page's edge then lost to the edge
    # of the cover beneath it).
    factor = next((f for f in _REDUCTIONS if side <= long_side / f <= PREVIEW_SLACK * side
                   and header.width % f == 0 and header.height % f == 0), None)
    if factor is None:
        return None
    from imgtool.io._cv import cv2

    # the full image first, on the other core, while this thread makes the preview
    pending = _Background(lambda: _decode(data, name, auto_orient, max_megapixels)[0])
    flag = getattr(cv2, f"IMREAD_REDUCED_COLOR_{factor}") | cv2.IMREAD_IGNORE_ORIENTATION
    try:
        preview = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    except cv2.error:
        preview = None
    if preview is None or preview.ndim != 3:
        # the full decode tells why (its error), or does without the preview
        image = pending.result()
        return Photo(image, _focal_pixels(data, "jpeg", image.shape[:2]),
                     dpi=resolution(header, data))
    tag = orientation(data, "jpeg") if auto_orient else 1
    size = (header.width, header.height)
    if tag != 1:
        preview = apply_orientation(preview, tag)
        if tag in (5, 6, 7, 8):
            size = size[::-1]
    focal = _focal_pixels(data, "jpeg", size[::-1])
    return Photo(None, focal, preview=preview, reduced=factor, pending=pending, size=size,
                 dpi=resolution(header, data))


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

    if header is not None and header.format == "heif":
        return _decode_heif(data, name), header

    from imgtool.io._cv import cv2

    image = _imdecode(cv2, data)
    upright = True  # OpenCV's TIFF decoder turns the image upright itself
    if image is None and header is not None and header.format == "tiff":
        # OpenCV cannot decode some TIFFs, 8-bit tiled ones among them (as `--tile` writes)
        from imgtool.io.tiles import decode_tiff

        image, upright = decode_tiff(data), False
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
        if header.format == "tiff" and upright:
            # OpenCV's TIFF decoder always turns the image upright itself.
            if not auto_orient and tag != 1:
                image = apply_orientation(image, _INVERSE.get(tag, tag))
        elif auto_orient and tag != 1:
            image = apply_orientation(image, tag)
    return image, header


def _decode_heif(data: bytes, name: str) -> np.ndarray:
    """A HEIC/HEIF file's primary image, upright, as BGR(A) uint8 (pillow-heif, libheif).

    A HEIF file keeps its rotation and mirroring in the container ('irot', 'imir'), which
    the format makes part of the image: libheif always applies them, and the EXIF
    orientation tag (which iPhones write to match) is not applied a second time. So a HEIF
    image is upright whatever ``auto_orient`` says. Images of 10 or 12 bits come as 8 bits.
    """
    try:
        import pillow_heif
    except ImportError:  # a runtime dependency; only a broken install lacks it
        raise InputError(f"{name}: reading HEIC/HEIF needs pillow-heif "
                         "(pip install pillow-heif)") from None
    import io

    try:
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True,
                                     bgr_mode=True)
        image = np.asarray(heif)  # decodes the primary image
    except (ValueError, RuntimeError, OSError, SyntaxError, EOFError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{name}: cannot decode this HEIF file ({reason})") from None
    if image.size == 0:
        raise InputError(f"{name}: image has no pixels")
    return _normalise(image.copy() if not image.flags.writeable else image, name)


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


#: The most bytes read from a stream whose size is not known beforehand (a pipe, standard
#: input, a device): far more than any image imgtool takes, and ``/dev/zero`` stops there.
MAX_STREAM_BYTES = 1 << 30


def _read_bytes(source: str | os.PathLike, name: str) -> bytes:
    if name == "<stdin>":
        if sys.stdin is None or sys.stdin.buffer is None:
            raise InputError("<stdin>: no standard input")
        return _read_stream(sys.stdin.buffer, name)
    local = local_path(source)
    if local is None:
        return remote.read_bytes(str(source), name)
    path = Path(local)
    with reading(name):
        if path.is_dir():
            raise InputError(f"{name}: is a folder, not an image file")
        # Python opens the path itself, so any name works (spaces, non-ASCII); a file is read
        # into one buffer (a 12 MP JPEG is megabytes: every copy is fresh memory to touch)
        with open(path, "rb") as f:
            if stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return f.read()
            return _read_stream(f, name)


def _read_stream(stream, name: str) -> bytes:
    chunks, total = [], 0
    while chunk := stream.read(1 << 22):
        total += len(chunk)
        if total > MAX_STREAM_BYTES:
            raise InputError(f"{name}: more than {MAX_STREAM_BYTES >> 20} MiB of input, "
                             "not an image imgtool reads")
        chunks.append(chunk)
    return b"".join(chunks)


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
