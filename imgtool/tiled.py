"""Filters and Canny on images larger than memory, tile by tile with :mod:`dask.array`.

Every function here takes a dask array (``(H, W)`` or ``(H, W, C)``, as
:func:`imgtool.io.tiles.open_tiles` gives) and gives the same pixels, bit for bit, as the
function of the same name in :mod:`imgtool.filters` or :mod:`imgtool.edges` run on the whole
image in memory.

How tiles stay exact. Each tile is filtered together with a halo of ``radius`` pixels of
its neighbours (``dask.array.map_overlap``, depth = the kernel's radius), by the very same
public filter, and the halo is cut off again. The kernels compute a pixel from the pixels
within its radius only, so inside a tile nothing changes. At the image's own border the
tile is *not* padded by dask (``boundary="none"``): the filter sees the true image edge and
applies its border mode there itself, exactly as on the whole image (the constant border
has its own arithmetic in the Gaussian kernel, so padding with the constant would not be
bit-exact). Only ``wrap`` takes its halo from the opposite side (``boundary="periodic"``),
which is what wrapping means. A tile is made at least as large as the halo (dask's rule);
an axis that fits in one tile gets no halo at all and is filtered whole.

The box filter on float images sums with running sums that restart at row blocks of the
whole image (:func:`imgtool.filters.box`), so its float rounding depends on where a block
starts: there, tiles are whole-width strips cut where the in-memory call starts its blocks,
and each strip runs the same kernel call as the whole image would (see :func:`box`).

Canny (:func:`detect_edges`) runs in three passes over the tiles: (1) smoothing, gradients
and non-maximum suppression with a halo of ``gaussian radius + 2``, the ridge magnitudes
kept in a scratch zarr array, and the automatic threshold from the histogram of the whole
image (a sum of per-tile histograms of the same rows the in-memory call samples);
(2) hysteresis as connected components: each tile labels its candidate pixels
(8-connected), the labels that touch across a tile border are joined (union-find over a
graph of label pairs), and a component is an edge if any of its tiles holds a strong pixel;
(3) each tile is labelled again and its edge components written out.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import numpy as np

from imgtool.errors import InvalidParameterError

__all__ = [
    "AUTO_TILE_MEGAPIXELS",
    "DEFAULT_TILE",
    "box",
    "detect_edges",
    "gaussian",
    "gradient_magnitude",
    "laplacian",
    "store",
]

#: Side of a tile (pixels) when none is given: 2048 x 2048 pixels, 4 MiB of uint8 (16 MiB
#: float32) per tile, a few hundred tasks for a 50,000 x 50,000 image.
DEFAULT_TILE = 2048

#: ``imgtool filter`` and ``imgtool edges`` process a TIFF or zarr input larger than this many
#: megapixels in tiles, without ``--tile`` (README, "Images larger than memory").
AUTO_TILE_MEGAPIXELS = 100.0


# --- filters ---------------------------------------------------------------------------------


def gaussian(x, sigma: float, *, epsilon: float = 0.001, border: str = "reflect101",
             cval: float = 0.0, tile: int | None = None):
    """:func:`imgtool.filters.gaussian`, tile by tile: a lazy dask array of the same pixels.

    Parameters
    ----------
    x : dask.array.Array
        ``(H, W)`` or ``(H, W, C)`` image (uint8, uint16, float32 or float64).
    sigma, epsilon, border, cval
        As for :func:`imgtool.filters.gaussian`.
    tile : int, optional
        Tile side; default: ``x``'s chunks (at least the halo).

    Examples
    --------
    >>> import dask.array as da, numpy as np
    >>> from imgtool import filters, tiled
    >>> img = np.random.default_rng(0).integers(0, 256, (50, 70), dtype=np.uint8)
    >>> out = tiled.gaussian(da.from_array(img, chunks=16), 2.0).compute()
    >>> bool((out == filters.gaussian(img, 2.0)).all())
    True
    """
    from imgtool import filters

    r = filters.gaussian_radius(sigma, epsilon)
    filters.gaussian(np.zeros((1, 1), np.float32), sigma, epsilon=epsilon, border=border,
                     cval=cval)  # the parameters are checked (and warned about) once, here
    return _map_overlap(x, _call(filters.gaussian, sigma, epsilon=epsilon, border=border,
                                 cval=cval), (r, r), border, x.dtype, tile)


def box(x, size, *, border: str = "reflect101", cval: float = 0.0, tile: int | None = None):
    """:func:`imgtool.filters.box`, tile by tile (see the module docstring for float images).

    Examples
    --------
    >>> import dask.array as da, numpy as np
    >>> from imgtool import filters, tiled
    >>> img = np.random.default_rng(0).random((300, 40), np.float32)
    >>> out = tiled.box(da.from_array(img, chunks=64), 5, border="wrap").compute()
    >>> bool((out == filters.box(img, 5, border="wrap")).all())
    True
    """
    from imgtool import filters

    sy, sx = filters._box_size(size)
    filters.box(np.zeros((1, 1), np.float32), (sy, sx), border=border, cval=cval)
    if x.dtype.kind == "f":
        return _float_box(x, sy, sx, border, cval)
    return _map_overlap(x, _call(filters.box, (sy, sx), border=border, cval=cval),
                        (sy // 2, sx // 2), border, x.dtype, tile)


def laplacian(x, *, neighbours: int = 4, border: str = "reflect101", cval: float = 0.0,
              tile: int | None = None):
    """:func:`imgtool.filters.laplacian`, tile by tile."""
    from imgtool import filters

    filters.laplacian(np.zeros((1, 1), np.float32), neighbours=neighbours, border=border,
                      cval=cval)
    return _map_overlap(x, _call(filters.laplacian, neighbours=neighbours, border=border,
                                 cval=cval), (1, 1), border, _derivative_dtype(x), tile)


def gradient_magnitude(x, *, norm: str = "l2", border: str = "reflect101", cval: float = 0.0,
                       tile: int | None = None):
    """:func:`imgtool.filters.gradient_magnitude`, tile by tile."""
    from imgtool import filters

    filters.gradient_magnitude(np.zeros((1, 1), np.float32), norm=norm, border=border,
                               cval=cval)
    return _map_overlap(x, _call(filters.gradient_magnitude, norm=norm, border=border,
                                 cval=cval), (1, 1), border, _derivative_dtype(x), tile)


def store(x, writer) -> None:
    """Compute ``x`` tile by tile into ``writer`` (``writer[region] = block``), in bounded
    memory: :func:`dask.array.store` writes each tile as it completes; the tiles are first
    regrouped on the writer's ``tile`` grid."""
    import dask.array as da

    t = writer.tile
    x = x.rechunk((t, t) + x.shape[2:])
    da.store(x, writer, lock=False)


# --- the overlap machinery ---------------------------------------------------------------


class _call:
    """A picklable ``fn(block, *args, **kwargs)`` (a lambda would not be), whose kernels run
    on one thread: dask already runs one tile per core."""

    def __init__(self, fn, *args, **kwargs):
        self.fn, self.args, self.kwargs = fn, args, kwargs

    def __call__(self, block):
        from imgtool.kernels._jit import at_most_threads

        with at_most_threads(1):
            return self.fn(block, *self.args, **self.kwargs)


def _derivative_dtype(x):
    return np.dtype(np.float64 if x.dtype == np.float64 else np.float32)


def axis_chunks(n: int, tile: int, radius: int) -> tuple[int, ...]:
    """Chunk sizes along an axis of length ``n``: ``tile`` (at least ``radius``), the last one
    merged into its neighbour when it would be shorter than ``radius`` (map_overlap needs
    every chunk at least as long as the halo).

    Examples
    --------
    >>> axis_chunks(10, 4, 1), axis_chunks(10, 4, 3), axis_chunks(10, 2, 3), axis_chunks(5, 9, 2)
    ((4, 4, 2), (4, 6), (3, 3, 4), (5,))
    """
    c = max(int(tile), int(radius), 1)
    sizes = [c] * (n // c)
    rest = n - c * len(sizes)
    if rest:
        if sizes and rest < radius:
            sizes[-1] += rest
        else:
            sizes.append(rest)
    return tuple(sizes)


def _tile_of(x, tile):
    if tile is not None:
        if int(tile) < 1:
            raise InvalidParameterError(f"tile must be >= 1 pixel, not {tile}")
        return int(tile)
    return max(max(x.chunks[0]), max(x.chunks[1]))


def _map_overlap(x, fn, halo, border, dtype, tile):
    """``fn`` on every tile of ``x`` with ``halo = (ry, rx)`` (see the module docstring)."""
    t = _tile_of(x, tile)
    chunks = tuple(axis_chunks(n, t, r) for n, r in zip(x.shape[:2], halo, strict=True)) + tuple(
        (c,) for c in x.shape[2:])
    x = x.rechunk(chunks)
    depth, boundary = {}, {}
    for axis, r in enumerate(halo):
        depth[axis] = r if len(chunks[axis]) > 1 else 0
        boundary[axis] = "periodic" if border == "wrap" else "none"
    for axis in range(2, x.ndim):
        depth[axis], boundary[axis] = 0, "none"
    return x.map_overlap(fn, depth=depth, boundary=boundary, trim=True, dtype=dtype,
                         meta=np.empty((0,) * x.ndim, dtype))


def _float_box(x, sy, sx, border, cval):
    """The float box filter in whole-width strips cut where :func:`imgtool.filters.box` starts
    its row blocks; each strip is the box kernel's call on the rows it reads, with the row
    table of the whole image (so every running sum restarts where it does in memory)."""
    import dask.array as da
    from dask import delayed

    from imgtool import filters
    from imgtool.kernels._tables import border_index

    h, w = x.shape[:2]
    ry, rx = sy // 2, sx // 2
    code = filters._border_code(border)
    nblocks = -(-h // max(256, 8 * sy))
    rowidx = border_index(h, ry, code)
    colidx = border_index(w, rx, code)
    x = x.rechunk((max(256, 8 * sy),) + x.shape[1:])
    strips = []
    for b in range(nblocks):
        y0, y1 = b * h // nblocks, (b + 1) * h // nblocks
        table = rowidx[y0 : y1 + 2 * ry]
        inside = table[table >= 0]
        lo, hi = (int(inside.min()), int(inside.max()) + 1) if inside.size else (y0, y0 + 1)
        local = np.where(table >= 0, table - lo, -1)
        part = delayed(_box_strip)(x[lo:hi], local, colidx, sy, sx, code, cval, y1 - y0)
        strips.append(da.from_delayed(part, (y1 - y0,) + x.shape[1:], dtype=x.dtype))
    return da.concatenate(strips, axis=0)


def _box_strip(src, table, colidx, sy, sx, code, cval, rows):
    """Rows ``rows`` of the float box filter: the kernel call of :func:`imgtool.filters.box`
    made as one block that starts at the strip's first row, on the source rows ``src`` that
    the row table ``table`` (``rows + 2 ry`` entries, -1 for the constant) points into."""
    from imgtool import filters
    from imgtool.kernels import box as kernels

    flat, shape, channels = filters._prepare(np.asarray(src))
    ry = sy // 2
    # the kernel makes as many output rows as its source has rows, each from its table
    # entries: give it at least `rows` rows, and a table as long as it reads (the extra
    # output rows are computed from row 0 and dropped)
    height = max(rows, flat.shape[0])
    if height > flat.shape[0]:
        flat = np.concatenate([flat, np.zeros((height - flat.shape[0], flat.shape[1]),
                                              flat.dtype)])
    table = np.concatenate([table, np.zeros(height + 2 * ry - table.size, table.dtype)])
    out = np.empty_like(flat)
    from imgtool.kernels._jit import at_most_threads

    with at_most_threads(1):
        kernels.box_sum_mean(flat, channels, ry, sx // 2, table, colidx,
                             filters._cval_for(flat.dtype, cval), np.empty(0, np.float64),
                             False, 1, out)
    return out[:rows].reshape((rows,) + shape[1:])


# --- Canny -----------------------------------------------------------------------------------


def detect_edges(x, writer, *, method: str | None = "gradient_otsu", low: float | None = None,
                 high: float | None = None, sigma: float | None = 1.4, norm: str = "l2",
                 median_sigma: float = 0.33, epsilon: float = 0.001, tile: int | None = None,
                 scratch: str | os.PathLike | None = None) -> dict:
    """:func:`imgtool.edges.detect_edges`, tile by tile, written into ``writer``.

    The edge map is the one the in-memory call gives, bit for bit (see the module docstring
    for the three passes). Memory holds a few tiles and their halos, one histogram, and
    per-tile label tables; the ridge magnitudes go to an uncompressed zarr array in a temporary
    folder (in ``scratch``, default the system's), removed at the end.

    Parameters
    ----------
    x : dask.array.Array
        ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` BGR or ``(H, W, 4)`` BGRA image.
    writer
        Where the uint8 0/255 edge map goes: ``writer[region] = block``, with a ``tile``
        attribute (:func:`imgtool.io.tiles.tile_writer`).
    method, low, high, sigma, norm, median_sigma, epsilon
        As for :func:`imgtool.edges.detect_edges`.
    tile : int, optional
        Tile side; default: ``x``'s chunks.
    scratch : path-like, optional
        Folder for the temporary ridge array.

    Returns
    -------
    dict
        ``{"method", "low", "high", "sigma", "norm", "edge_fraction"}``, as
        :func:`imgtool.edges.detect_edges` gives.

    Examples
    --------
    >>> import dask.array as da, numpy as np
    >>> from imgtool import edges, tiled
    >>> img = np.full((60, 50), 30, np.uint8)
    >>> img[10:50, 12:40] = 220
    >>> class Memory:  # any writer: here an array in memory
    ...     tile = 16
    ...     def __init__(self): self.out = np.zeros(img.shape, np.uint8)
    ...     def __setitem__(self, key, value): self.out[key] = value
    >>> w = Memory()
    >>> info = tiled.detect_edges(da.from_array(img, chunks=16), w)
    >>> ref, ref_info = edges.detect_edges(img)
    >>> bool((w.out == ref).all()), info == ref_info
    (True, True)
    """
    from imgtool import edges

    if (low is None) != (high is None):
        raise InvalidParameterError("detect_edges: give both low and high, or neither")
    if low is not None:
        low, high = edges._check_thresholds(low, high)
        method = None
    else:
        method = edges._check_method(method, allow_none=True)
        if method is None:
            raise InvalidParameterError(
                "detect_edges: method=None needs fixed thresholds low and high")
    norm = edges._check_norm(norm)
    sigma = edges._check_sigma(sigma)
    median_sigma = edges._check_median_sigma(median_sigma)
    if sigma is not None:
        from imgtool.filters import gaussian_radius

        gaussian_radius(sigma, epsilon)  # checks epsilon
    t = _tile_of(x, tile)
    grey = _grey(x)
    folder = tempfile.mkdtemp(prefix=".imgtool-tiles-", dir=scratch)
    try:
        ridge_path = os.path.join(folder, "ridge.zarr")
        ridge, hist = _ridge_pass(grey, ridge_path, t, method, sigma, norm, epsilon)
        if method in ("gradient_otsu", "gradient_percentile"):
            low, high = _gradient_thresholds(hist, method)
        elif method is not None:
            low, high = _intensity_thresholds(grey, method, sigma, epsilon, median_sigma, t)
        lo, hi = edges._magnitude_units(low, high, norm)
        flags, offsets, edge_pixels = _components(ridge, lo, hi)
        store(_edge_map(ridge, lo, flags, offsets), writer)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    h, w = grey.shape
    return {"method": method, "low": float(low), "high": float(high), "sigma": sigma,
            "norm": norm, "edge_fraction": float(edge_pixels) / (h * w)}


def _grey(x):
    """:func:`imgtool.edges._grey` on every tile (a per-pixel conversion)."""
    from imgtool import edges

    out = np.uint8 if x.dtype == np.uint8 else np.float32
    if x.ndim == 3:
        x = x.rechunk(x.chunks[:2] + ((x.shape[2],),))
        return x.map_blocks(edges._grey, drop_axis=2, dtype=out, meta=np.empty((0, 0), out))
    return x.map_blocks(edges._grey, dtype=out, meta=np.empty((0, 0), out))


def _ridge_block(grey, sigma, epsilon, l2):
    """The ridge magnitudes of :func:`imgtool.edges.detect_edges` on one tile and its halo.

    The stages are edges.py's own: :func:`imgtool.edges._smooth`, then
    :func:`imgtool.edges._edge_source`. For float input that is the gradients the in-memory
    call thresholds (``canny_from_gradients``). For uint8 it is the smoothed image itself,
    whose Sobel the fused kernel ``canny_u8`` computes row by row in exact integers; here the
    same Sobel is made with :func:`imgtool.filters.sobel` (replicated border), which
    ``canny_u8`` is documented and tested (tests/test_edges.py) to equal bit for bit: every
    magnitude is an integer below 2**24, exact in float32, so the ridge, the ``> low`` and
    ``> high`` comparisons and the histogram bins are the in-memory ones.
    """
    from imgtool import edges
    from imgtool.kernels import canny as k

    source = edges._edge_source(edges._smooth(grey, sigma, epsilon))
    if isinstance(source, np.ndarray):  # uint8: mirrors the Sobel inside kernels.canny_u8
        from imgtool.filters import sobel

        source = sobel(source, border="replicate")
    gx, gy = source
    return k.ridge_magnitude(gx, gy, l2, edges._blocks(gx.shape[0]))


def _ridge_pass(grey, path, t, method, sigma, norm, epsilon):
    """Pass 1: the ridge magnitudes into a zarr array at ``path``; with a gradient method, the
    histogram of the rows :func:`imgtool.edges.auto_thresholds` samples, summed over tiles."""
    import dask
    import dask.array as da
    import zarr

    from imgtool import edges
    from imgtool.filters import gaussian_radius

    l2 = norm == "l2"
    halo = (gaussian_radius(sigma, epsilon) if sigma is not None else 0) + 2
    ridge = _map_overlap(grey, _call(_ridge_block, sigma, epsilon, l2), (halo, halo),
                         "reflect101", np.dtype(np.float32), t).rechunk((t, t))
    h, w = grey.shape
    # uncompressed: the ridge of a textured image hardly compresses, and costs time to try
    target = zarr.create_array(path, shape=(h, w), chunks=(t, t), dtype=np.float32,
                               fill_value=0, compressors=None)
    tasks = [da.store(ridge, target, lock=False, compute=False)]
    if method in ("gradient_otsu", "gradient_percentile"):
        # the rows edges._gradient_thresholds samples: every row_step-th from row 0
        row_step = max(1, h * w // edges._HIST_SAMPLES)
        tops = np.cumsum((0,) + ridge.chunks[0][:-1])
        parts = ridge.to_delayed()
        tasks += [dask.delayed(_ridge_histogram)(parts[i, j], int(tops[i]), row_step, l2)
                  for i in range(parts.shape[0]) for j in range(parts.shape[1])]
    done = dask.compute(*tasks)
    hist = np.sum(done[1:], axis=0) if len(done) > 1 else None
    return zarr.open_array(path, mode="r"), hist


def _ridge_histogram(block, top, row_step, l2):
    """The histogram of one ridge tile's sampled rows (image rows ``0, row_step, ...``).

    In memory, :func:`imgtool.edges._gradient_thresholds` runs the suppression on the sampled
    rows only (``ridge_histogram_u8``, ``ridge_histogram_from_gradients``); on the stored
    ridge map, ``ridge_histogram`` counts the same pixels into the same bins (tested in
    tests/test_edges.py), so the per-tile histograms sum to the in-memory one.
    """
    from imgtool import edges
    from imgtool.kernels import canny as k

    first = (-top) % row_step
    if first >= block.shape[0]:
        return np.zeros(edges._NBINS, np.int64)
    part = np.ascontiguousarray(block[first:])
    return k.ridge_histogram(part, l2, edges._BIN_WIDTH, edges._NBINS, row_step)


def _gradient_thresholds(hist, method):
    """:func:`imgtool.edges._gradient_thresholds` from the summed histogram: its rules after
    the histogram, repeated here (keep them in step with edges.py)."""
    from imgtool import edges
    from imgtool.kernels import canny as k

    if hist.sum() == 0:
        return 0.0, 0.0
    if method == "gradient_otsu":
        high = (k.otsu_bin(hist) + 1) * edges._BIN_WIDTH
    else:
        cum = np.cumsum(hist)
        rank = edges.PERCENTILE / 100.0 * cum[-1]
        b = int(np.searchsorted(cum, rank, side="left"))
        before = cum[b - 1] if b > 0 else 0
        frac = (rank - before) / hist[b] if hist[b] else 1.0
        high = (b + frac) * edges._BIN_WIDTH
    return edges.LOW_RATIO * float(high), float(high)


def _intensity_thresholds(grey, method, sigma, epsilon, median_sigma, t):
    """The ``otsu`` and ``median`` methods from histograms of the smoothed tiles."""
    import dask

    from imgtool import edges
    from imgtool.kernels import canny as k

    smoothed = grey if sigma is None else gaussian(grey, sigma, epsilon=epsilon, tile=t)
    parts = smoothed.to_delayed().ravel()
    hist = np.sum(dask.compute(*[dask.delayed(_level_histogram)(p) for p in parts]), axis=0)
    if method == "otsu":
        high = float(k.otsu_bin(hist))
        return edges.LOW_RATIO * high, high
    if smoothed.dtype == np.uint8:
        v = edges._median_from_histogram(hist)
    else:
        v = float(_float_median(parts))
    return max(0.0, (1.0 - median_sigma) * v), min(255.0, (1.0 + median_sigma) * v)


def _level_histogram(block):
    from imgtool.kernels import canny as k

    if block.dtype == np.uint8:
        return k.histogram_u8(np.ascontiguousarray(block))
    return k.histogram_u8(np.clip(np.floor(block), 0, 255).astype(np.uint8))


def _float_median(parts):
    """``np.median`` of float32 tiles without holding them: a two-pass radix selection on
    the 32-bit order keys (high 16 bits, then low 16 bits within the chosen bins)."""
    import dask

    highs = np.sum(dask.compute(*[dask.delayed(_key_histogram)(p, None) for p in parts]), axis=0)
    n = int(highs.sum())
    ranks = sorted({(n - 1) // 2, n // 2})
    cum = np.cumsum(highs)
    bins = [int(np.searchsorted(cum, r, side="right")) for r in ranks]
    values = []
    for r, b in zip(ranks, bins, strict=True):
        lows = np.sum(dask.compute(*[dask.delayed(_key_histogram)(p, b) for p in parts]), axis=0)
        within = r - (int(cum[b - 1]) if b else 0)
        low = int(np.searchsorted(np.cumsum(lows), within, side="right"))
        values.append(_from_key((b << 16) | low))
    return np.median(np.array([values[0], values[-1]], np.float32))


def _keys(block):
    bits = np.ascontiguousarray(block, np.float32).view(np.uint32).ravel()
    return np.where(bits >> 31, ~bits, bits | np.uint32(0x80000000))


def _key_histogram(block, high_bin):
    keys = _keys(block)
    if high_bin is None:
        return np.bincount(keys >> 16, minlength=65536)
    return np.bincount(keys[(keys >> 16) == high_bin] & 0xFFFF, minlength=65536)


def _from_key(key):
    key = np.uint32(key)
    bits = key & np.uint32(0x7FFFFFFF) if key >> 31 else ~key
    return np.array([bits], np.uint32).view(np.float32)[0]


def _label(ridge_block, lo):
    from scipy import ndimage

    return ndimage.label(ridge_block > lo, structure=np.ones((3, 3), bool))


def _tile_components(ridge, i, j, t, lo, hi):
    """Pass 2 on one tile: its candidate components, which hold a strong pixel, their sizes,
    and the labels on its four sides."""
    block = np.asarray(ridge[i * t : (i + 1) * t, j * t : (j + 1) * t])
    labels, n = _label(block, lo)
    strong = np.zeros(n + 1, bool)
    strong[labels[block > hi]] = True
    strong[0] = False
    sizes = np.bincount(labels.ravel(), minlength=n + 1).astype(np.int32)  # < tile**2
    sides = (labels[0].copy(), labels[-1].copy(), labels[:, 0].copy(), labels[:, -1].copy())
    return n, strong, sizes, sides


def _components(ridge, lo, hi):
    """Pass 2: which candidate components of the whole image are edges (hold a strong pixel).

    Returns a flag per global label (label ``k`` of tile ``b`` is ``offsets[b] + k``), the
    offsets, and the number of edge pixels.
    """
    import dask
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    t = ridge.chunks[0]
    ny, nx = -(-ridge.shape[0] // t), -(-ridge.shape[1] // ridge.chunks[1])
    found = dask.compute(*[dask.delayed(_tile_components)(ridge, i, j, t, lo, hi)
                           for i in range(ny) for j in range(nx)])
    counts = np.array([f[0] for f in found], np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).reshape(ny, nx)
    total = int(counts.sum()) + 1  # node 0: background
    pairs = []

    def join(a, oa, b, ob):
        # pixels a[k] and b[k + d] touch for d in -1, 0, 1 (8-connectivity across a side)
        for d in (-1, 0, 1):
            if d == 0:
                p, q = a, b
            elif d < 0:
                p, q = a[1:], b[:-1]
            else:
                p, q = a[:-1], b[1:]
            both = (p > 0) & (q > 0)
            pairs.append((p[both] + oa, q[both] + ob))

    for i in range(ny):
        for j in range(nx):
            o = offsets[i, j]
            top, bottom, left, right = found[i * nx + j][3]
            if j + 1 < nx:
                join(right, o, found[i * nx + j + 1][3][2], offsets[i, j + 1])
            if i + 1 < ny:
                below = found[(i + 1) * nx + j][3]
                join(bottom, o, below[0], offsets[i + 1, j])
                if j + 1 < nx:  # corner to corner, down and right
                    other = found[(i + 1) * nx + j + 1][3][0]
                    if bottom[-1] and other[0]:
                        pairs.append((np.array([bottom[-1] + o]),
                                      np.array([other[0] + offsets[i + 1, j + 1]])))
                if j > 0:  # corner to corner, down and left
                    other = found[(i + 1) * nx + j - 1][3][0]
                    if bottom[0] and other[-1]:
                        pairs.append((np.array([bottom[0] + o]),
                                      np.array([other[-1] + offsets[i + 1, j - 1]])))
    strong = np.zeros(total, bool)
    sizes = np.zeros(total, np.int64)
    for f, o in zip(found, offsets.ravel(), strict=True):
        strong[o + 1 : o + 1 + f[0]] = f[1][1:]
        sizes[o + 1 : o + 1 + f[0]] = f[2][1:]
    if pairs:
        rows = np.concatenate([p[0] for p in pairs]).astype(np.int64)
        cols = np.concatenate([p[1] for p in pairs]).astype(np.int64)
    else:
        rows = cols = np.zeros(0, np.int64)
    graph = coo_matrix((np.ones(rows.size, np.int8), (rows, cols)), shape=(total, total))
    _, component = connected_components(graph, directed=False)
    edge_component = np.zeros(component.max() + 1, bool)
    edge_component[component[strong]] = True
    flags = edge_component[component]
    flags[0] = False
    return flags, offsets, int(sizes[flags].sum())


def _edge_map(ridge, lo, flags, offsets):
    """Pass 3: the 0/255 edge map, tile by tile, from the labels found again."""
    import dask.array as da

    t = ridge.chunks[0]
    x = da.from_array(ridge, chunks=(t, ridge.chunks[1]), asarray=True)
    return x.map_blocks(_tile_edges, lo, flags, offsets, dtype=np.uint8,
                        meta=np.empty((0, 0), np.uint8))


def _tile_edges(block, lo, flags, offsets, block_info=None):
    i, j = block_info[0]["chunk-location"]
    labels, _ = _label(block, lo)
    out = flags[labels + offsets[i, j]] & (labels > 0)
    return np.where(out, np.uint8(255), np.uint8(0))
