"""Inputs and outputs named by fsspec URLs (``s3://bucket/photos/``, ``memory://x.png``...).

A plain path and a ``file://`` URL are the local file system: the rest of :mod:`imgtool.io`
handles them itself (:func:`local_path` turns the URL into the path). Any other URL is
read and written through `fsspec <https://filesystem-spec.readthedocs.io>`_, so that
workers of a cluster without a shared disk can take their inputs from, and put their
results into, an object store. The protocol's own package must be installed where the
URL is opened (``s3fs`` for ``s3://``, ``gcsfs`` for ``gs://``...).

Writes keep the local guarantee that a file under its final name is whole: the bytes go
to a hidden temporary name beside the target (``.NAME.RANDOM.imgtool-HOST-PID.part``)
and are moved into place when complete. fsspec is imported only when a URL is used.
"""

from __future__ import annotations

import os
import posixpath
import re

from imgtool.errors import InputError, InvalidParameterError, OutputError, reading

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]+)://")


def is_url(name) -> bool:
    """Whether ``name`` is a URL (``scheme://...``) rather than a path.

    Examples
    --------
    >>> is_url("s3://bucket/a.jpg"), is_url("file:///photos/a.jpg"), is_url("photos/a.jpg")
    (True, True, False)
    """
    return isinstance(name, str) and _SCHEME.match(name) is not None


def local_path(name) -> str | None:
    """The local path that ``name`` (a path or a ``file://`` URL) stands for; None for
    another URL.

    Examples
    --------
    >>> local_path("file:///data/a%20b.png"), local_path("a.png"), local_path("s3://b/a.png")
    ('/data/a b.png', 'a.png', None)
    """
    if not is_url(name):
        return os.fspath(name)
    if name.lower().startswith("file://"):
        from urllib.parse import unquote, urlsplit

        parts = urlsplit(name)
        if parts.netloc not in ("", "localhost"):
            raise InvalidParameterError(f"{name}: a file:// URL names no host (file:///path)")
        return unquote(parts.path)
    return None


def filesystem(url: str):
    """The fsspec file system and the path inside it for ``url``.

    Raises
    ------
    InvalidParameterError
        The protocol is unknown, or the package that implements it is not installed.
    """
    try:
        from fsspec.core import url_to_fs
    except ImportError:  # pragma: no cover - a dependency of imgtool
        raise InvalidParameterError(f"{url}: URLs need the fsspec package") from None
    try:
        return url_to_fs(url)
    except ImportError as exc:
        raise InvalidParameterError(f"{url}: {exc}") from None
    except ValueError as exc:
        raise InvalidParameterError(f"{url}: {exc}") from None


def join(folder: str, *parts: str) -> str:
    """``folder`` (a URL) and ``parts`` joined with ``/``.

    Examples
    --------
    >>> join("s3://bucket/out/", "sub", "a.png")
    's3://bucket/out/sub/a.png'
    """
    tail = posixpath.join(*[p for p in parts if p not in ("", ".")]) if parts else ""
    return folder.rstrip("/") + ("/" + tail if tail else "")


def parent(url: str) -> str:
    """The URL of the folder holding ``url``."""
    head, _, _ = url.rstrip("/").rpartition("/")
    return head


def read_bytes(url: str, name: str) -> bytes:
    """The bytes of the object at ``url``, with the errors of :func:`imgtool.io.read_image`."""
    fs, path = filesystem(url)
    with reading(name):
        if fs.isdir(path):
            raise InputError(f"{name}: is a folder, not an image file")
        return fs.cat_file(path)


def exists(url: str) -> bool:
    fs, path = filesystem(url)
    return fs.exists(path)


def isdir(url: str) -> bool:
    fs, path = filesystem(url)
    return fs.isdir(path)


def makedirs(url: str) -> None:
    fs, path = filesystem(url)
    try:
        fs.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{url}: cannot create the folder ({exc.strerror or exc})") from None


def check_output(url: str, *, overwrite: bool, inputs=()) -> None:
    """:func:`imgtool.io.check_output` for a URL: refuse an input, an existing object
    (without ``overwrite``) or a folder."""
    if url in {str(s) for s in inputs}:
        raise OutputError(f"{url}: output is the input file; choose another name")
    fs, path = filesystem(url)
    try:
        if fs.isdir(path):
            raise OutputError(f"{url}: is a folder")
        if not overwrite and fs.exists(path):
            raise OutputError(f"{url}: exists (use --overwrite to replace it)")
    except OSError as exc:
        raise OutputError(f"{url}: cannot check ({exc.strerror or exc})") from None


def write_bytes(url: str, data: bytes, *, overwrite: bool) -> None:
    """Write ``data`` to ``url`` through a temporary name moved into place when whole.

    Without ``overwrite`` an object that appears at ``url`` meanwhile is not replaced
    unless it holds the same bytes (a file system with no atomic no-clobber move leaves a
    small race between the check and the move). On any error, Ctrl-C included, the
    temporary object is removed.
    """
    from imgtool.io.write import temporary_name

    fs, path = filesystem(url)
    folder, _, name = path.rstrip("/").rpartition("/")
    tmp = f"{folder}/{temporary_name(name)}"
    try:
        fs.pipe_file(tmp, data)
        if not overwrite and fs.exists(path):
            raise OutputError(f"{url}: exists (use --overwrite to replace it)")
        fs.mv(tmp, path)
    except OSError as exc:
        raise OutputError(f"{url}: cannot write ({exc.strerror or exc})") from None
    finally:
        try:
            if fs.exists(tmp):
                fs.rm(tmp)
        except OSError:
            pass


def list_images(url: str, extensions, *, recursive: bool) -> list[tuple[str, str]]:
    """The images in the folder ``url``, sorted: (URL, path relative to the folder) pairs.
    Hidden files and folders (a name starting with ``.``) are left out."""
    fs, path = filesystem(url)
    root = path.rstrip("/")
    names = fs.find(root) if recursive else [
        e["name"] for e in fs.ls(root, detail=True) if e.get("type") == "file"
    ]
    found = []
    for full in sorted(names):
        rel = posixpath.relpath(full, root)
        if any(part.startswith(".") for part in rel.split("/")):
            continue
        if posixpath.splitext(full)[1].lower() in extensions:
            found.append((join(url, rel), rel))  # in the form the user wrote the folder
    return found


def glob(url: str) -> list[str]:
    """The URLs of the objects matching the pattern ``url``, sorted."""
    fs, path = filesystem(url)
    protocol = _SCHEME.match(url).group(1)
    return sorted(_unstrip(fs, protocol, p) for p in fs.glob(path) if fs.isfile(p))


def _unstrip(fs, protocol: str, path: str) -> str:
    """A path fsspec returned, as a URL of the protocol the user wrote."""
    full = fs.unstrip_protocol(path)
    scheme = _SCHEME.match(full)
    if scheme and scheme.group(1) != protocol:  # e.g. s3a:// given, s3:// returned
        full = f"{protocol}://{full[scheme.end():]}"
    return full
