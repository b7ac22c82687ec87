"""Images in tiles (imgtool.tiled, --tile): equal, bit for bit, to the same call in memory."""

from __future__ import annotations

import os

import dask.array as da
import numpy as np
import pytest
import tifffile
import zarr

from imgtool import edges, filters, tiled
from imgtool.io import read_image, write_image
from tests.conftest import natural_image, run_cli

DTYPES = (np.uint8, np.uint16, np.float32, np.float64)
# (height, width, channels): tiles that do not divide the image, 1-pixel-wide images,
# a colour image
SHAPES = ((37, 53, None), (1, 29, None), (23, 1, None), (30, 41, 3))


def _image(shape, dtype, seed=0):
    h, w, c = shape
    img = natural_image(h, w, c or 1, np.float32, seed=seed).astype(np.float64)
    if dtype in (np.uint8, np.uint16):
        top = np.iinfo(dtype).max
        return np.clip(np.rint(img * top), 0, top).astype(dtype)
    return (img * 3 - 1).astype(dtype)  # values outside 0..1 too


class Memory:
    """A writer that keeps the tiles in an array (what dask.array.store is given)."""

    tile = 16

    def __init__(self, shape):
        self.out = np.full(shape, 7, np.uint8)
        self.regions = 0

    def __setitem__(self, key, value):
        self.out[key] = value
        self.regions += 1


FILTERS = {
    # name: (in memory, in tiles); the Gaussian of sigma 5 has a halo (radius 17) wider
    # than the tiles below
    "gaussian1": (lambda a, **b: filters.gaussian(a, 1.0, **b),
                  lambda a, **b: tiled.gaussian(a, 1.0, **b)),
    "gaussian5": (lambda a, **b: filters.gaussian(a, 5.0, **b),
                  lambda a, **b: tiled.gaussian(a, 5.0, **b)),
    "box3": (lambda a, **b: filters.box(a, 3, **b), lambda a, **b: tiled.box(a, 3, **b)),
    "box21x15": (lambda a, **b: filters.box(a, (21, 15), **b),
                 lambda a, **b: tiled.box(a, (21, 15), **b)),
    "laplacian8": (lambda a, **b: filters.laplacian(a, neighbours=8, **b),
                   lambda a, **b: tiled.laplacian(a, neighbours=8, **b)),
    "magnitude_l1": (lambda a, **b: filters.gradient_magnitude(a, norm="l1", **b),
                     lambda a, **b: tiled.gradient_magnitude(a, norm="l1", **b)),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", FILTERS)
def test_every_filter_in_tiles_equals_the_whole_image(name, dtype):
    whole, tiles = FILTERS[name]
    for shape in SHAPES:
        img = _image(shape, dtype)
        for border in filters.BORDERS:
            kw = {"border": border, "cval": 3.7}
            ref = whole(img, **kw)
            x = da.from_array(img, chunks=(16, 16) + img.shape[2:])
            out = tiles(x, tile=7, **kw).compute()  # re-tiled: 7 does not divide the image
            assert out.dtype == ref.dtype and out.shape == ref.shape
            assert np.array_equal(out, ref), (shape, border)


@pytest.mark.parametrize("dtype", (np.float32, np.float64), ids=("float32", "float64"))
def test_float_box_over_several_row_blocks(dtype):
    # filters.box restarts its float running sums at row blocks of 256+ rows: tiles must cut
    # where it does (cut anywhere else, float64 sums differ in the last bits)
    img = (np.random.default_rng(1).random((700, 60)) * 1000).astype(dtype)
    for size in (5, (3, 25), (41, 11)):
        for border in ("reflect101", "constant", "wrap"):
            ref = filters.box(img, size, border=border, cval=3)
            out = tiled.box(da.from_array(img, chunks=64), size, border=border, cval=3)
            assert np.array_equal(out.compute(), ref), (size, border)


def _edges_image(h=70, w=90, dtype=np.uint8, channels=None, seed=2):
    """Noise over a ring: its edge chain runs through many 7-pixel tiles."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = 90 + 40 * np.sin(xx / 6.0) * np.cos(yy / 9.0) + rng.normal(0, 12, (h, w))
    ring = np.abs(np.hypot(yy - h / 2, xx - w / 2) - min(h, w) / 3) < 4
    base = np.clip(base + 90 * ring, 0, 255)
    if channels:
        base = np.dstack([base, base[::-1], base[:, ::-1], np.full((h, w), 99.0)][:channels])
    if dtype == np.uint8:
        return base.astype(np.uint8)
    if dtype == np.uint16:
        return (base * 257).astype(np.uint16)
    return (base / 255).astype(dtype)


CANNY = (
    {},
    {"method": "gradient_percentile", "norm": "l1"},
    {"method": "otsu"},
    {"method": "median"},
    {"method": None, "low": 20.0, "high": 60.0, "sigma": None},
    {"sigma": 4.0},
)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_canny_in_tiles_equals_the_whole_image(dtype):
    img = _edges_image(60, 75, dtype)
    for kw in CANNY:  # sigma 4: a halo of 17 pixels, wider than the 16-pixel tiles
        ref, ref_info = edges.detect_edges(img, **kw)
        w = Memory(ref.shape)
        info = tiled.detect_edges(da.from_array(img, chunks=16), w, tile=16, **kw)
        assert np.array_equal(w.out, ref), kw
        assert info == ref_info
        assert w.out.min() == 0 and w.out.max() == 255  # edges were found, not all pixels


@pytest.mark.parametrize("dtype", (np.uint8, np.float32), ids=("uint8", "float32"))
def test_canny_in_tiles_on_thin_and_colour_images(dtype):
    for h, w, c in ((1, 40, None), (33, 1, None), (45, 50, 3), (40, 30, 4)):
        img = _edges_image(h, w, dtype, c)
        ref, ref_info = edges.detect_edges(img, method="gradient_percentile")
        out = Memory(ref.shape)
        x = da.from_array(img, chunks=(16, 16) + img.shape[2:])
        assert tiled.detect_edges(x, out, method="gradient_percentile", tile=16) == ref_info
        assert np.array_equal(out.out, ref), (h, w, c)


def test_canny_hysteresis_joins_chains_across_tiles(monkeypatch):
    from scipy import ndimage

    img = _edges_image(100, 120)
    ref, _ = edges.detect_edges(img)
    labels, _ = ndimage.label(ref > 0, structure=np.ones((3, 3)))
    longest = np.bincount(labels.ravel())[1:].argmax() + 1
    ys, xs = np.nonzero(labels == longest)
    assert np.ptp(ys) > 50 and np.ptp(xs) > 50  # the ring's chain crosses many 12-pixel tiles
    # rows sampled for the histogram (every n-th row of a large image): the same rows
    monkeypatch.setattr(edges, "_HIST_SAMPLES", 700)
    ref, ref_info = edges.detect_edges(img)
    w = Memory(ref.shape)
    assert tiled.detect_edges(da.from_array(img, chunks=12), w, tile=12) == ref_info
    assert np.array_equal(w.out, ref)
    # without the joins across tile sides, the tiles alone would lose edge pixels
    import scipy.sparse.csgraph as csgraph

    monkeypatch.setattr(csgraph, "connected_components",
                        lambda g, directed: (g.shape[0], np.arange(g.shape[0])))
    w2 = Memory(ref.shape)
    tiled.detect_edges(da.from_array(img, chunks=12), w2, tile=12)
    assert (w2.out != ref).sum() > 0


def test_canny_in_tiles_samples_the_histogram_rows_of_float_input(monkeypatch):
    # the float path histograms from gradients (uint8: from the image, in the fused kernel);
    # with every 17th row sampled, the summed tile histograms must still be the in-memory one
    monkeypatch.setattr(edges, "_HIST_SAMPLES", 700)
    img = _edges_image(100, 120, np.float32)
    for kw in ({}, {"method": "gradient_percentile", "norm": "l1"}):
        ref, ref_info = edges.detect_edges(img, **kw)
        w = Memory(ref.shape)
        assert tiled.detect_edges(da.from_array(img, chunks=12), w, tile=12, **kw) == ref_info
        assert np.array_equal(w.out, ref), kw


def test_canny_in_tiles_checks_its_parameters():
    x = da.from_array(np.zeros((8, 8), np.uint8), chunks=4)
    with pytest.raises(ValueError, match="both low and high"):
        tiled.detect_edges(x, Memory((8, 8)), low=3)
    with pytest.raises(ValueError, match="unknown threshold method"):
        tiled.detect_edges(x, Memory((8, 8)), method="magic")


# --- the command line -------------------------------------------------------------------------


def test_cli_tile_filter_and_edges_equal_the_whole_image(tmp_path):
    img = natural_image(150, 170, 3, np.uint16, seed=4)
    write_image(tmp_path / "in.tif", img)
    for args in (["filter", "--gaussian", "--sigma", "2", "--average", "5"],
                 ["filter", "--sobel", "--border", "wrap"],
                 ["edges"]):
        r = run_cli([*args, "--tile", "40", tmp_path / "in.tif", "-o", tmp_path / "t.tif",
                     "--json", "--overwrite"])
        assert r.code == 0, r.err
        assert '"tile": 40' in r.out.decode()
        u = run_cli([*args, tmp_path / "in.tif", "-o", tmp_path / "u.tif", "--overwrite"])
        assert u.code == 0, u.err
        with tifffile.TiffFile(tmp_path / "t.tif") as t:
            assert t.is_bigtiff and t.pages[0].is_tiled and t.pages[0].tilewidth == 48
        assert np.array_equal(read_image(tmp_path / "t.tif"), read_image(tmp_path / "u.tif"))
    assert sorted(os.listdir(tmp_path)) == ["in.tif", "t.tif", "u.tif"]  # no temporaries


def test_cli_zarr_in_and_out_and_the_automatic_threshold(tmp_path, monkeypatch):
    img = natural_image(90, 70, 1, np.float32, seed=5)
    zarr.create_array(str(tmp_path / "in.zarr"), data=img, chunks=(32, 32))
    r = run_cli(["edges", "--tile", "32", tmp_path / "in.zarr", "-o", tmp_path / "e.zarr"])
    assert r.code == 0, r.err
    ref, _ = edges.detect_edges(img)
    assert np.array_equal(zarr.open_array(str(tmp_path / "e.zarr"), mode="r")[:], ref)
    # a TIFF above the threshold goes in tiles without --tile: default name .tif
    write_image(tmp_path / "big.tif", img)
    monkeypatch.setattr(tiled, "AUTO_TILE_MEGAPIXELS", 0.001)
    monkeypatch.setattr("imgtool.io.tiles._SMALLEST_LARGE_FILE", 0)
    r = run_cli(["filter", "--laplacian", "8", tmp_path / "big.tif"])
    assert r.code == 0, r.err
    out = read_image(tmp_path / "big.filter.tif")
    assert np.array_equal(out, filters.laplacian(img, neighbours=8))


def test_cli_tile_errors_leave_nothing_behind(tmp_path):
    img = natural_image(40, 50, 1)
    write_image(tmp_path / "in.tif", img)
    r = run_cli(["filter", "--sobel", "--tile", "16", tmp_path / "in.tif", "-o",
                 tmp_path / "out.png"])
    assert r.code == 4 and "TIFF (.tif, .tiff) or zarr" in r.err
    (tmp_path / "bad.tif").write_bytes(b"II*\x00" + b"\x00" * 64)
    r = run_cli(["edges", "--tile", "16", tmp_path / "bad.tif", "-o", tmp_path / "e.tif"])
    assert r.code == 3 and "bad.tif" in r.err and "Traceback" not in r.err
    (tmp_path / "e.tif").write_bytes(b"keep")
    r = run_cli(["edges", "--tile", "16", tmp_path / "in.tif", "-o", tmp_path / "e.tif"])
    assert r.code == 4 and "exists" in r.err
    assert (tmp_path / "e.tif").read_bytes() == b"keep"
    r = run_cli(["edges", "--tile", "16", tmp_path / "in.tif", "-o", "-"])
    assert r.code == 2
    r = run_cli(["filter", "--sobel", "--rotate", "90", "--tile", "16", tmp_path / "in.tif",
                 "-o", tmp_path / "r.tif"])
    assert r.code == 2 and "--rotate" in r.err and "in.tif" in r.err
    assert len(r.err.strip().splitlines()) == 1
    assert sorted(os.listdir(tmp_path)) == ["bad.tif", "e.tif", "in.tif"]
