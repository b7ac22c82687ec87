"""Writing images: encode in memory, then an atomic, no-clobber move into place.

A file at the output name is always complete: bytes go to a hidden temporary file in the
target folder, which is renamed over the name only when fully written and flushed. The
input is never overwritten, an existing output only with ``overwrite=True``, and ``-``
writes to standard output (refused when that is a terminal).
"""

from __future__ import annotations

import errno
import os
import re
import struct
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np

from imgtool.errors import InvalidParameterError, OutputError
from imgtool.io import remote
from imgtool.io.remote import local_path

#: Output formats: extensions, the dtypes and channel counts each can hold.
FORMATS: dict[str, dict] = {
    "png": {"exts": (".png",), "dtypes": ("uint8", "uint16"), "channels": (1, 3, 4)},
    "jpeg": {"exts": (".jpg", ".jpeg", ".jpe"), "dtypes": ("uint8",), "channels": (1, 3)},
    "tiff": {
        "exts": (".tif", ".tiff"),
        "dtypes": ("uint8", "uint16", "float32"),
        "channels": (1, 3, 4),
    },
    "webp": {"exts": (".webp",), "dtypes": ("uint8",), "channels": (3, 4)},
    "bmp": {"exts": (".bmp",), "dtypes": ("uint8",), "channels": (1, 3)},
    "pgm": {"exts": (".pgm",), "dtypes": ("uint8", "uint16"), "channels": (1,)},
    "ppm": {"exts": (".ppm", ".pnm"), "dtypes": ("uint8", "uint16"), "channels": (3,)},
    "pdf": {"exts": (".pdf",), "dtypes": ("uint8",), "channels": (1, 3)},
}

#: Temporary names end ``.imgtool-HOST-PID.part`` (``.imgtool-PID.part`` before the host was
#: added): only this host's processes are looked up to tell an orphan from a file being
#: written, so that machines sharing a folder never remove each other's temporary files.
_TEMP_SUFFIX = re.compile(r"\.imgtool-(?:(.+)-)?(\d+)\.part$")


class ConversionWarning(UserWarning):
    """An image was converted to fit its output format (depth, alpha or float data)."""


def format_for(path: str | os.PathLike, explicit: str | None = None) -> str:
    """The output format name for ``path`` (or ``explicit``, e.g. from ``--format``).

    Examples
    --------
    >>> format_for("scan.JPG")
    'jpeg'
    >>> format_for("-", "tif")
    'tiff'
    >>> format_for("page.xyz")
    Traceback (most recent call last):
    ...
    imgtool.errors.OutputError: page.xyz: unknown output extension '.xyz' (known: .png, .jpg, \
.jpeg, .jpe, .tif, .tiff, .webp, .bmp, .pgm, .ppm, .pnm, .pdf)
    """
    if explicit:
        key = explicit.lower().lstrip(".")
        for fmt, spec in FORMATS.items():
            if key == fmt or "." + key in spec["exts"]:
                return fmt
        raise InvalidParameterError(f"unknown format {explicit!r} (known: {', '.join(FORMATS)})")
    if str(path) == "-":
        raise InvalidParameterError("writing to stdout (-o -) needs --format")
    ext = Path(path).suffix.lower()
    for fmt, spec in FORMATS.items():
        if ext in spec["exts"]:
            return fmt
    known = ", ".join(e for spec in FORMATS.values() for e in spec["exts"])
    shown = f"'{ext}'" if ext else "(none)"
    raise OutputError(f"{path}: unknown output extension {shown} (known: {known})")


def fit_to_format(image: np.ndarray, fmt: str) -> np.ndarray:
    """Convert ``image`` so that ``fmt`` can hold it, warning about what changed.

    16-bit data goes to 8 bits (``round(v / 257)``), float data (taken as 0..1) to the
    format's integer depth, alpha is composited onto white, gray is expanded where a
    format needs three channels.
    """
    spec = FORMATS[fmt]
    out = image
    if out.dtype.name not in spec["dtypes"]:
        if out.dtype == np.float32 or out.dtype == np.float64:
            target = np.uint16 if "uint16" in spec["dtypes"] else np.uint8
            top = np.iinfo(target).max
            depth = np.dtype(target).name
            _warn(f"float data written to {fmt.upper()} as {depth} (0..1 mapped to 0..{top})")
            out = np.nan_to_num(out.astype(np.float64), nan=0.0, posinf=1.0, neginf=0.0)
            out = np.clip(np.rint(out * top), 0, top).astype(target)
        elif out.dtype == np.uint16:
            _warn(f"16-bit data written to {fmt.upper()} as 8-bit")
            out = np.rint(out / 257.0).astype(np.uint8)
    channels = 1 if out.ndim == 2 else out.shape[2]
    if channels not in spec["channels"]:
        if channels == 4 and 3 in spec["channels"]:
            _warn(f"{fmt.upper()} has no alpha channel: composited onto white")
            out = _flatten_alpha(out)
        elif channels == 4 and 1 in spec["channels"]:
            _warn(f"{fmt.upper()} holds gray only: alpha composited onto white, colour to gray")
            out = _to_gray(_flatten_alpha(out))
        elif channels == 3 and 1 in spec["channels"]:
            _warn(f"{fmt.upper()} holds gray only: colour converted to gray")
            out = _to_gray(out)
        elif channels == 1:
            out = np.repeat(out[:, :, None] if out.ndim == 2 else out, 3, axis=2)
    return out


def encode_image(image: np.ndarray, fmt: str, *, quality: int = 92,
                 dpi: float | None = None) -> bytes:
    """Encode ``image`` as ``fmt`` in memory (after :func:`fit_to_format`).

    ``dpi``, if given, is recorded in the file: PNG ``pHYs`` (pixels per metre), JPEG JFIF
    density (whole dots per inch), TIFF and BMP resolution; a PDF's page is the image at
    that resolution. WebP has no resolution field.

    Examples
    --------
    >>> png = encode_image(np.zeros((2, 2), np.uint8), "png", dpi=300)
    >>> png[png.index(b"pHYs") + 4 : png.index(b"pHYs") + 13].hex()  # 11811 px/m, metre
    '00002e2300002e2301'
    """
    from imgtool.io._cv import cv2

    if dpi is not None and not (np.isfinite(dpi) and dpi > 0):
        raise InvalidParameterError(f"dpi must be positive, got {dpi!r}")
    if fmt == "pdf":
        from imgtool.io.pdf import pdf_from_images

        return pdf_from_images([image], quality=quality,
                               **({} if dpi is None else {"dpi": dpi}))
    image = fit_to_format(image, fmt)
    ext = FORMATS[fmt]["exts"][0]
    params: list[int] = []
    if fmt == "jpeg":
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    elif fmt == "webp":
        params = [cv2.IMWRITE_WEBP_QUALITY, int(quality)]
    elif fmt == "png":
        params = [cv2.IMWRITE_PNG_COMPRESSION, 6]
    elif fmt == "tiff" and dpi is not None:
        whole = max(1, round(dpi))  # OpenCV takes whole numbers here
        params = [cv2.IMWRITE_TIFF_RESUNIT, 2, cv2.IMWRITE_TIFF_XDPI, whole,
                  cv2.IMWRITE_TIFF_YDPI, whole]
    try:
        ok, buf = cv2.imencode(ext, np.ascontiguousarray(image), params)
    except cv2.error as exc:
        raise OutputError(f"cannot encode image as {fmt.upper()}: {exc.err}") from None
    if not ok:
        raise OutputError(f"cannot encode image as {fmt.upper()}")
    data = buf.tobytes()
    if dpi is not None:
        data = _with_resolution(data, fmt, dpi)
    return data


#: Metres per inch, for the formats that store pixels per metre (PNG, BMP).
_METRES_PER_INCH = 0.0254


def _with_resolution(data: bytes, fmt: str, dpi: float) -> bytes:
    """``data`` (as OpenCV encoded it) with its resolution set to ``dpi``."""
    if fmt == "png":
        # a pHYs chunk right after IHDR (8-byte signature, then IHDR: 4 + 4 + 13 + 4 bytes)
        per_metre = round(dpi / _METRES_PER_INCH)
        body = b"pHYs" + struct.pack(">IIB", per_metre, per_metre, 1)
        chunk = struct.pack(">I", 9) + body + struct.pack(">I", zlib.crc32(body))
        return data[:33] + chunk + data[33:]
    if fmt == "jpeg":
        whole = min(max(1, round(dpi)), 0xFFFF)
        density = struct.pack(">BHH", 1, whole, whole)  # units 1: dots per inch
        if data[2:4] == b"\xff\xe0" and data[6:11] == b"JFIF\x00":
            return data[:13] + density + data[18:]
        app0 = b"JFIF\x00\x01\x01" + density + b"\x00\x00"
        return data[:2] + b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + data[2:]
    if fmt == "bmp":
        per_metre = round(dpi / _METRES_PER_INCH)
        return data[:38] + struct.pack("<ii", per_metre, per_metre) + data[46:]
    return data  # TIFF set by the encoder; WebP has no such field


def check_output(path: str | os.PathLike, *, overwrite: bool = False, inputs=()) -> None:
    """Refuse, before any work, an output that is an input, exists, or cannot be written.

    Raises
    ------
    OutputError
        The output names one of ``inputs`` (even with ``overwrite``), exists without
        ``overwrite``, is a folder, or its folder is missing or not writable.
    """
    if str(path) == "-":
        if sys.stdout is None or sys.stdout.isatty():
            raise OutputError("-: refusing to write image data to a terminal (redirect stdout)")
        return
    local = local_path(path)
    if local is None:
        remote.check_output(str(path), overwrite=overwrite, inputs=inputs)
        return
    p = Path(local)
    inputs = [local_path(s) or s for s in inputs]
    for src in inputs:
        if str(src) != "-" and _same_file(p, Path(src)):
            raise OutputError(f"{path}: output is the input file; choose another name")
    if p.is_dir():
        raise OutputError(f"{path}: is a folder")
    if p.exists() and not overwrite:
        raise OutputError(f"{path}: exists (use --overwrite to replace it)")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"{path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: folder {folder} is not writable")


def output_exists(path: str | os.PathLike) -> bool:
    """Whether something is at ``path`` (a path or an fsspec URL)."""
    local = local_path(path)
    return os.path.lexists(local) if local is not None else remote.exists(str(path))


def write_bytes(path: str | os.PathLike, data: bytes, *, overwrite: bool = False, inputs=()):
    """Write ``data`` to ``path`` atomically (or to stdout for ``"-"``).

    The bytes go to a temporary file beside the target, are flushed to disk, then moved
    into place: without ``overwrite`` by a hard link that fails if the name exists
    meanwhile, so another process's file is never replaced. On any error, Ctrl-C
    included, the temporary file is removed and nothing is left at ``path``.
    """
    check_output(path, overwrite=overwrite, inputs=inputs)
    if str(path) == "-":
        _write_all(sys.stdout.buffer, data)
        return
    local = local_path(path)
    if local is None:
        remote.write_bytes(str(path), data, overwrite=overwrite)
        return
    p = Path(local)
    folder = p.parent if str(p.parent) else Path(".")
    _remove_stale_temporaries(folder)
    try:
        fd, tmp = _create_temporary(folder, p.name)
    except OSError as exc:  # the folder let check_output pass but takes no file (/proc)
        raise _cannot_write(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        if overwrite:
            os.replace(tmp, p)
        else:
            _link_no_clobber(tmp, p)
    except FileExistsError:
        raise OutputError(f"{path}: exists (use --overwrite to replace it)") from None
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def _cannot_write(path, exc: OSError) -> OutputError:
    """The one-line error for an output the operating system would not take."""
    if exc.errno == errno.ENOSPC:
        return OutputError(f"{path}: no space left on device; nothing was written")
    return OutputError(f"{path}: cannot write ({exc.strerror or exc})")


def _write_all(stream, data: bytes) -> None:
    """Write every byte to ``stream`` and flush. A buffered writer may return a short count
    when its pipe closes mid-write, without raising; writing the rest then raises
    BrokenPipeError, instead of stopping short in silence."""
    view = memoryview(data)
    while view:
        n = stream.write(view)
        if n is None or n <= 0:  # a non-blocking stream that took nothing; rare
            raise OutputError("-: cannot write to stdout")
        view = view[n:]
    stream.flush()


def write_image(
    path: str | os.PathLike,
    image: np.ndarray,
    *,
    format: str | None = None,
    overwrite: bool = False,
    inputs=(),
    quality: int = 92,
    dpi: float | None = None,
) -> None:
    """Encode ``image`` for the format of ``path`` (or ``format``) and write it atomically.

    ``quality`` (JPEG, WebP) and ``dpi`` are those of :func:`encode_image`.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> write_image(d / "a.png", np.zeros((2, 3), np.uint8))
    >>> write_image(d / "a.png", np.zeros((2, 3), np.uint8))
    Traceback (most recent call last):
    ...
    imgtool.errors.OutputError: ...a.png: exists (use --overwrite to replace it)
    """
    fmt = format_for(path, format)
    check_output(path, overwrite=overwrite, inputs=inputs)
    write_bytes(path, encode_image(image, fmt, quality=quality, dpi=dpi), overwrite=overwrite,
                inputs=inputs)


def _link_no_clobber(tmp: str, target: Path) -> None:
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise
    except OSError:
        # File systems without hard links: check, then rename (a small race remains).
        if target.exists():
            raise FileExistsError(target) from None
        os.replace(tmp, target)


def temporary_name(name: str) -> str:
    """A hidden name for the bytes of ``name`` while they are written:
    ``.{name}.{random}.imgtool-{host}-{pid}.part``."""
    return f".{name}.{os.urandom(6).hex()}.imgtool-{_host()}-{os.getpid()}.part"


def _host() -> str:
    global _HOST
    if _HOST is None:
        _HOST = re.sub(r"[^A-Za-z0-9_.]", "_", os.uname().nodename if hasattr(os, "uname")
                       else os.environ.get("COMPUTERNAME", "host")) or "host"
    return _HOST


_HOST: str | None = None


def _create_temporary(folder: Path, name: str) -> tuple[int, str]:
    """A new file named by :func:`temporary_name` in ``folder``, opened for writing
    (created exclusively, mode 0600, as ``tempfile.mkstemp`` does; without importing
    ``tempfile``, a few milliseconds of a one-photo command's start)."""
    for _ in range(100):
        tmp = str(folder / temporary_name(name))
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                           0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")


def remove_stale_temporaries(folder) -> None:
    """Delete temporary files left in ``folder`` by imgtool processes of this host that no
    longer run (e.g. killed by SIGKILL). Another host's are left alone."""
    local = local_path(folder)
    if local is not None:
        _remove_stale_temporaries(Path(local))


def _remove_stale_temporaries(folder: Path) -> None:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        m = _TEMP_SUFFIX.search(entry.name)
        if not m or not entry.name.startswith("."):
            continue
        host, pid = m.group(1), int(m.group(2))
        if host is not None and host != _host():
            continue
        if pid == os.getpid() or _alive(pid):
            continue
        try:
            os.unlink(entry.path)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _flatten_alpha(image: np.ndarray) -> np.ndarray:
    top = 1.0 if image.dtype == np.float32 else float(np.iinfo(image.dtype).max)
    alpha = image[:, :, 3:4].astype(np.float32) / top
    out = image[:, :, :3].astype(np.float32) * alpha + top * (1.0 - alpha)
    if image.dtype == np.float32:
        return out.astype(np.float32)
    return np.clip(np.rint(out), 0, top).astype(image.dtype)


def _to_gray(image: np.ndarray) -> np.ndarray:
    from imgtool.io._cv import cv2

    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def _warn(message: str) -> None:
    warnings.warn(message, ConversionWarning, stacklevel=3)
