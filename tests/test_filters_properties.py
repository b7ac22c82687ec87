"""Property tests for imgtool.filters: tiny and odd shapes, views, constant images, linearity,
and whether box filtering commutes with the Laplacian (the "seed question")."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage
from test_filters import (
    LAP4,
    LAP8,
    SCIPY_MODE,
    SOBEL_X,
    assert_close,
    naive_box_int,
    scipy_gaussian,
    scipy_stencil,
)

from imgtool import filters

SETTINGS = settings(max_examples=40, deadline=None)
dtypes = st.sampled_from([np.uint8, np.uint16, np.float32])
borders = st.sampled_from(filters.BORDERS)


@st.composite
def images(draw, max_side=8, dtype=None):
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    channels = draw(st.sampled_from([None, 1, 3]))
    dtype = draw(dtypes) if dtype is None else dtype
    shape = (h, w) if channels is None else (h, w, channels)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if np.dtype(dtype).kind == "u":
        img = rng.integers(0, np.iinfo(dtype).max, shape, endpoint=True).astype(dtype)
    else:
        img = rng.random(shape).astype(dtype)
    if draw(st.booleans()):  # a non-contiguous view of a larger array with the same values
        big = np.zeros((2 * h, 3 * w) + shape[2:], dtype)
        big[::2, ::3] = img
        img = big[::2, ::3]
    return img


@SETTINGS
@given(img=images(), border=borders, sigma=st.floats(0.4, 3.0))
def test_gaussian_small_shapes_match_scipy(img, border, sigma):
    cval = 2.0 if img.dtype != np.float32 else 0.5
    ours = filters.gaussian(img, sigma, border=border, cval=cval)
    assert ours.shape == img.shape and ours.dtype == img.dtype
    assert_close(ours, scipy_gaussian(img, sigma, border, cval), img.dtype)


@SETTINGS
@given(
    img=images(dtype=np.uint8),
    border=borders,
    sy=st.integers(0, 7).map(lambda k: 2 * k + 1),
    sx=st.integers(0, 7).map(lambda k: 2 * k + 1),
)
def test_box_small_shapes_exact(img, border, sy, sx):
    ours = filters.box(img, (sy, sx), border=border, cval=200)
    np.testing.assert_array_equal(ours, naive_box_int(img, sy, sx, border, 200))


@SETTINGS
@given(img=images(), border=borders, which=st.sampled_from(["lap4", "lap8", "gx", "gy"]))
def test_derivatives_small_shapes_match_scipy(img, border, which):
    kern = {"lap4": LAP4, "lap8": LAP8, "gx": SOBEL_X, "gy": SOBEL_X.T}[which]
    if which.startswith("lap"):
        ours = filters.laplacian(img, neighbours=int(which[-1]), border=border, cval=1.0)
    else:
        ours = filters.sobel(img, border=border, cval=1.0)["xy".index(which[1])]
    assert ours.shape == img.shape and ours.dtype == np.float32
    assert_close(ours, scipy_stencil(img, kern, border, 1.0), np.float32)


@SETTINGS
@given(
    img=images(max_side=10),
    border=st.sampled_from([b for b in filters.BORDERS if b != "constant"]),
    sigma=st.floats(0.4, 4.0),
    size=st.integers(0, 6).map(lambda k: 2 * k + 1),
)
def test_constant_image_unchanged_by_smoothing(img, border, sigma, size):
    value = img.flat[0]
    flat = np.full_like(img, value)
    g = filters.gaussian(flat, sigma, border=border)
    b = filters.box(flat, size, border=border)
    if img.dtype.kind == "u":
        assert (g == value).all() and (b == value).all()
    else:
        np.testing.assert_allclose(g, value, rtol=1e-6)
        np.testing.assert_allclose(b, value, rtol=1e-6)


@SETTINGS
@given(
    shape=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    a=st.floats(-3, 3),
    b=st.floats(-3, 3),
    seed=st.integers(0, 2**32 - 1),
    border=st.sampled_from([b for b in filters.BORDERS if b != "constant"] + ["constant"]),
)
def test_derivatives_are_linear(shape, a, b, seed, border):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.standard_normal(shape).astype(np.float32)
    z = (a * x + b * y).astype(np.float32)
    ops = [
        lambda v: filters.laplacian(v, border=border),
        lambda v: filters.laplacian(v, neighbours=8, border=border),
        lambda v: filters.sobel(v, border=border)[0],
        lambda v: filters.sobel(v, border=border)[1],
    ]
    for op in ops:  # cval = 0, so the constant border is linear as well
        expected = a * op(x).astype(np.float64) + b * op(y).astype(np.float64)
        np.testing.assert_allclose(op(z), expected, rtol=1e-4, atol=1e-4 * (abs(a) + abs(b) + 1))


@SETTINGS
@given(
    shape=st.tuples(st.integers(1, 16), st.integers(1, 16)),
    k=st.integers(0, 3).map(lambda i: 2 * i + 1),
    seed=st.integers(0, 2**32 - 1),
    border=borders,
    neighbours=st.sampled_from([4, 8]),
)
def test_box_commutes_with_laplacian_away_from_the_border(shape, k, seed, border, neighbours):
    """The seed question: both are linear shift-invariant, so they commute wherever neither
    window reaches the border (and everywhere for the periodic wrap border)."""
    img = np.random.default_rng(seed).random(shape)
    lap_then_box = filters.box(
        filters.laplacian(img, neighbours=neighbours, border=border), k, border=border
    )
    box_then_lap = filters.laplacian(
        filters.box(img, k, border=border), neighbours=neighbours, border=border
    )
    m = k // 2 + 1  # pixels within m of the edge see the border
    if border == "wrap":
        np.testing.assert_allclose(box_then_lap, lap_then_box, atol=1e-12)
    else:
        np.testing.assert_allclose(box_then_lap[m:-m, m:-m], lap_then_box[m:-m, m:-m], atol=1e-12)


@pytest.mark.parametrize("neighbours", [4, 8])
@pytest.mark.parametrize("k", [3, 5, 7])
def test_box_and_laplacian_at_a_zero_border(k, neighbours):
    """With zero padding, the two orders see different values beyond the edge, so they differ
    near it -- except for k = 3: on a zero-padded axis the 3-tap box is (T + 3I) / 3 with T the
    truncated second difference, a polynomial in T, so it commutes with both Laplacians."""
    img = np.random.default_rng(k).random((9, 11)) + 1
    kw = {"border": "constant", "neighbours": neighbours}
    lap_then_box = filters.box(filters.laplacian(img, **kw), k, border="constant")
    box_then_lap = filters.laplacian(filters.box(img, k, border="constant"), **kw)
    # the same two orders with scipy.ndimage
    lap = LAP4 if neighbours == 4 else LAP8
    ref_lb = ndimage.uniform_filter(
        ndimage.correlate(img, lap, mode="constant"), k, mode="constant"
    )
    ref_bl = ndimage.correlate(
        ndimage.uniform_filter(img, k, mode="constant"), lap, mode="constant"
    )
    np.testing.assert_allclose(lap_then_box, ref_lb, atol=1e-12)
    np.testing.assert_allclose(box_then_lap, ref_bl, atol=1e-12)
    m = k // 2 + 1
    np.testing.assert_allclose(box_then_lap[m:-m, m:-m], lap_then_box[m:-m, m:-m], atol=1e-12)
    diff = np.abs(box_then_lap - lap_then_box)
    if k == 3:
        assert diff.max() < 1e-12
    else:
        assert diff[:m].max() > 0.05


@SETTINGS
@given(img=images(max_side=6), border=borders)
def test_one_by_n_and_long_radius(img, border):
    """Radius far beyond the image: scipy extends by repeated reflection, so do we."""
    row = img[:1]
    col = img[:, :1]
    for x in (row, col):
        cval = 3.0
        out = filters.gaussian(x, 5.0, border=border, cval=cval)
        assert_close(out, scipy_gaussian(x, 5.0, border, cval), x.dtype)
        sizes = (11, 11) if x.ndim == 2 else (11, 11, 1)
        ref = ndimage.uniform_filter(
            x.astype(np.float64), sizes, mode=SCIPY_MODE[border], cval=cval
        )
        assert_close(filters.box(x, 11, border=border, cval=cval), ref, x.dtype)
