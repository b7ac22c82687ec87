"""Images larger than memory: read and write them tile by tile.

- :func:`open_tiles`: a TIFF (through tifffile's zarr store, so only the tiles or strips a
  task needs are read) or a zarr array, as a lazy :mod:`dask.array` in imgtool's channel
  order (BGR, like :func:`imgtool.io.read_image`).
- :class:`TiffTileWriter`: an uncompressed, tiled BigTIFF whose tiles are written where
  they belong as soon as they are computed (``dask.array.store`` calls it), to a hidden
  temporary file that is moved into place only when every tile is written, like
  :func:`imgtool.io.write_bytes`.
- :class:`ZarrTileWriter`: the same for a zarr directory (``OUT.zarr``).

Nothing here imports dask, tifffile or zarr until it is called.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import numpy as np

from imgtool.errors import InputError, OutputError

#: Extensions of the outputs a tiled run can write.
TILED_OUTPUTS = (".tif", ".tiff", ".zarr")

_DTYPES = (np.uint8, np.uint16, np.float32)
_SMALLEST_LARGE_FILE = 4 << 20
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF


def is_zarr(path: str | os.PathLike) -> bool:
    """True for a path that names a zarr array (a ``.zarr`` folder, or one with zarr metadata)."""
    p = Path(path)
    return p.suffix.lower() == ".zarr" or (p.is_dir() and any(
        (p / name).exists() for name in ("zarr.json", ".zarray")))


def could_be_tiff(path: str | os.PathLike) -> bool:
    """False for a file that is readable and does not start as a TIFF does; True otherwise
    (an unreadable or missing file is left to the reader, which says why)."""
    try:
        with open(path, "rb") as f:
            return f.read(4) in _TIFF_MAGIC
    except OSError:
        return True


def image_shape(path: str | os.PathLike) -> tuple[int, ...] | None:
    """The ``(H, W[, C])`` shape of a TIFF (of 4 MB or more) or zarr image from its header;
    None for other files (and for unreadable ones: the reader then reports why)."""
    try:
        if is_zarr(path):
            import zarr

            return tuple(zarr.open_array(str(path), mode="r").shape)
        with open(path, "rb") as f:
            magic = f.read(4)
            size = os.fstat(f.fileno()).st_size
        # tifffile is imported only for files that may be large (a 100-megapixel image is
        # rarely below 4 MB): a one-shot command on a small TIFF does not pay for it
        if size < _SMALLEST_LARGE_FILE or magic not in _TIFF_MAGIC:
            return None
        import tifffile

        with tifffile.TiffFile(path) as tif:
            return tuple(tif.series[0].levels[0].shape)
    except Exception:  # noqa: BLE001 - unreadable: the reader gives the one-line error
        return None


def decode_tiff(data: bytes) -> np.ndarray | None:
    """The first image of a TIFF in memory, decoded by tifffile, in BGR(A) order; None if
    tifffile cannot decode it either."""
    import io

    try:
        import tifffile

        with tifffile.TiffFile(io.BytesIO(data)) as tif:
            page = tif.series[0].levels[0]
            image = page.asarray()
            rgb = page.keyframe.photometric == tifffile.PHOTOMETRIC.RGB
    except Exception:  # noqa: BLE001 - the caller reports the file as not decodable
        return None
    if rgb and image.ndim == 3 and image.shape[2] in (3, 4):
        image = image[:, :, [2, 1, 0, 3][: image.shape[2]]]
    return image


class TileSource:
    """An image on disk as a lazy dask array (``.array``); close it when done.

    Parameters
    ----------
    path : str or path-like
        A TIFF file (the first series, full resolution) or a zarr array.
    tile : int
        Side of the dask chunks, in pixels.
    """

    def __init__(self, path: str | os.PathLike, tile: int):
        import dask.array as da
        import zarr

        self.path = str(path)
        self._tif = None
        name = self.path
        try:
            if is_zarr(path):
                store = zarr.open_array(self.path, mode="r")
                rgb = False
            else:
                import tifffile

                self._tif = tifffile.TiffFile(self.path)
                series = self._tif.series[0]
                level = series.levels[0]
                store = zarr.open_array(level.aszarr(), mode="r")
                rgb = level.keyframe.photometric == tifffile.PHOTOMETRIC.RGB
        except Exception as exc:  # noqa: BLE001 - tifffile and zarr raise their own errors
            self.close()
            raise InputError(f"{name}: cannot read as a tiled TIFF or zarr array ({exc})") from None
        shape = tuple(store.shape)
        if len(shape) == 3 and shape[2] == 1:
            pass
        elif len(shape) not in (2, 3) or (len(shape) == 3 and shape[2] not in (3, 4)):
            self.close()
            raise InputError(f"{name}: unsupported image shape {shape} (need H x W or "
                             "H x W x 1, 3 or 4 channels, samples interleaved)")
        if 0 in shape:
            self.close()
            raise InputError(f"{name}: image is empty (shape {shape})")
        try:  # decode one pixel now: a codec that is missing or broken data says so here
            store[(0,) * len(shape)]
        except Exception as exc:  # noqa: BLE001 - tifffile and zarr raise their own errors
            self.close()
            raise InputError(f"{name}: cannot decode ({exc})") from None
        dtype = np.dtype(store.dtype)
        if dtype not in _DTYPES and dtype != np.float64:
            self.close()
            raise InputError(f"{name}: samples of type {dtype} are not supported (uint8, uint16, "
                             "float32)")
        chunks = (tile, tile) + ((shape[2],) if len(shape) == 3 else ())
        x = da.from_array(store, chunks=chunks, lock=self._tif is not None, asarray=True,
                          name=f"imgtool-read-{abs(hash((self.path, tile)))}")
        if len(shape) == 3 and shape[2] == 1:
            x = x[:, :, 0]
        if dtype == np.float64:  # like read_image: imgtool works in float32
            x = x.astype(np.float32)
        if rgb and x.ndim == 3:  # TIFF stores RGB(A); imgtool works in BGR(A), like OpenCV
            x = x[:, :, [2, 1, 0, 3][: shape[2]]]
        self.array = x

    def close(self) -> None:
        if self._tif is not None:
            self._tif.close()
            self._tif = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_tiles(path: str | os.PathLike, tile: int) -> TileSource:
    """Open a TIFF or zarr image as a :class:`TileSource` (``with open_tiles(p, 1024) as s:``).

    Raises
    ------
    InputError
        The file cannot be read, or its shape or sample type is not supported.
    """
    return TileSource(path, tile)


class _Atomic:
    """A hidden temporary beside ``path``, moved over it by :meth:`commit` (see io.write)."""

    def __init__(self, path, overwrite, inputs):
        from imgtool.io.write import _create_temporary, _remove_stale_temporaries, check_output

        check_output(path, overwrite=overwrite, inputs=inputs)
        self.path = Path(path)
        self.overwrite = overwrite
        folder = self.path.parent if str(self.path.parent) else Path(".")
        _remove_stale_temporaries(folder)
        fd, self.tmp = _create_temporary(folder, self.path.name)
        os.close(fd)

    def commit(self) -> None:
        from imgtool.io.write import _link_no_clobber

        try:
            umask = os.umask(0)
            os.umask(umask)
            if os.path.isdir(self.tmp):
                if self.path.exists() and self.overwrite:
                    old = f"{self.tmp}.old"
                    os.replace(self.path, old)
                    os.replace(self.tmp, self.path)
                    shutil.rmtree(old, ignore_errors=True)
                elif self.path.exists():
                    raise FileExistsError(self.path)
                else:
                    os.replace(self.tmp, self.path)
                return
            os.chmod(self.tmp, 0o666 & ~umask)
            if self.overwrite:
                os.replace(self.tmp, self.path)
            else:
                _link_no_clobber(self.tmp, self.path)
        except FileExistsError:
            raise OutputError(f"{self.path}: exists (use --overwrite to replace it)") from None
        except OSError as exc:
            raise _os_error(self.path, exc) from None
        finally:
            self.discard()

    def discard(self) -> None:
        if os.path.isdir(self.tmp) and not os.path.islink(self.tmp):
            shutil.rmtree(self.tmp, ignore_errors=True)
        elif os.path.lexists(self.tmp):
            os.unlink(self.tmp)


def _os_error(path, exc):
    if exc.errno == errno.ENOSPC:
        return OutputError(f"{path}: no space left on device; nothing was written")
    return OutputError(f"{path}: cannot write ({exc.strerror or exc})")


class TiffTileWriter:
    """A tiled, uncompressed BigTIFF filled tile by tile: ``writer[region] = block``.

    Regions must start on the tile grid (``tile`` must be a multiple of 16, TIFF's rule);
    ``dask.array.store`` gives them when the array is chunked by ``tile``. Each tile goes
    to its place in the file with one positioned write, so tiles may arrive in any order
    and from several threads. Colour images are written as RGB(A), from imgtool's BGR(A).
    """

    def __init__(self, path, shape, dtype, tile, *, overwrite=False, inputs=()):
        import tifffile

        if tile % 16:
            raise ValueError(f"TIFF tiles must be a multiple of 16 pixels, not {tile}")
        self.shape, self.dtype, self.tile = tuple(shape), np.dtype(dtype), tile
        self._atomic = _Atomic(path, overwrite, inputs)
        self._fd = None
        channels = shape[2] if len(shape) == 3 else 1
        photometric = "minisblack" if channels == 1 else "rgb"
        extra = {"extrasamples": ["unassalpha"]} if channels == 4 else {}
        try:
            tifffile.imwrite(self._atomic.tmp, shape=self.shape, dtype=self.dtype,
                             tile=(tile, tile), bigtiff=True, photometric=photometric,
                             metadata=None, **extra)
            with tifffile.TiffFile(self._atomic.tmp) as tif:
                page = tif.pages[0]
                self._offsets = np.asarray(page.dataoffsets, np.int64)
            self._fd = os.open(self._atomic.tmp, os.O_RDWR)
        except OSError as exc:
            self._atomic.discard()
            raise _os_error(path, exc) from None
        except BaseException:
            self._atomic.discard()
            raise
        self._across = -(-shape[1] // tile)
        self._channels = channels

    def __setitem__(self, key, block):
        t = self.tile
        y0, x0 = key[0].start or 0, key[1].start or 0
        if y0 % t or x0 % t:
            raise ValueError(f"region {key} is not on the {t}-pixel tile grid")
        block = np.asarray(block, self.dtype)
        if block.ndim == 3 and self._channels in (3, 4):
            block = block[:, :, [2, 1, 0, 3][: self._channels]]
        for ty in range(0, block.shape[0], t):
            for tx in range(0, block.shape[1], t):
                part = block[ty : ty + t, tx : tx + t]
                buf = np.zeros((t, t) + block.shape[2:], self.dtype)
                buf[: part.shape[0], : part.shape[1]] = part
                index = ((y0 + ty) // t) * self._across + (x0 + tx) // t
                data = buf.tobytes()
                try:
                    done = os.pwrite(self._fd, data, int(self._offsets[index]))
                except OSError as exc:
                    raise _os_error(self._atomic.path, exc) from None
                if done != len(data):
                    raise OutputError(f"{self._atomic.path}: short write")

    def commit(self) -> None:
        """Flush the file to disk and move it into place."""
        try:
            os.fsync(self._fd)
        except OSError as exc:
            self.abort()
            raise _os_error(self._atomic.path, exc) from None
        os.close(self._fd)
        self._fd = None
        self._atomic.commit()

    def abort(self) -> None:
        """Remove the temporary file; nothing is left at the output name."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._atomic.discard()


class ZarrTileWriter:
    """A zarr array (``OUT.zarr``) filled tile by tile, moved into place by :meth:`commit`.

    Chunks are ``tile x tile`` (all channels in one chunk), compressed with zarr's default
    codec; channels keep imgtool's BGR(A) order.
    """

    def __init__(self, path, shape, dtype, tile, *, overwrite=False, inputs=()):
        import zarr

        self.shape, self.dtype, self.tile = tuple(shape), np.dtype(dtype), tile
        self._atomic = _Atomic(path, overwrite, inputs)
        os.unlink(self._atomic.tmp)
        chunks = (tile, tile) + tuple(shape[2:])
        try:
            self._array = zarr.create_array(self._atomic.tmp, shape=self.shape, chunks=chunks,
                                            dtype=self.dtype, fill_value=0)
        except OSError as exc:
            self._atomic.discard()
            raise _os_error(path, exc) from None

    def __setitem__(self, key, block):
        try:
            self._array[key] = block
        except OSError as exc:
            raise _os_error(self._atomic.path, exc) from None

    def commit(self) -> None:
        self._atomic.commit()

    def abort(self) -> None:
        self._atomic.discard()


def tile_writer(path, shape, dtype, tile, *, overwrite=False, inputs=()):
    """A :class:`TiffTileWriter` or :class:`ZarrTileWriter`, by the extension of ``path``.

    Raises
    ------
    OutputError
        The extension is not one of :data:`TILED_OUTPUTS`, or the output cannot be written
        (exists without ``overwrite``, is an input, unwritable folder).
    """
    ext = Path(path).suffix.lower()
    if ext not in TILED_OUTPUTS:
        raise OutputError(f"{path}: a tiled result is written as TIFF (.tif, .tiff) or zarr "
                          f"(.zarr), not {ext or 'a file without extension'}")
    cls = ZarrTileWriter if ext == ".zarr" else TiffTileWriter
    return cls(path, shape, dtype, tile, overwrite=overwrite, inputs=inputs)
