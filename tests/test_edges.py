"""imgtool.edges against OpenCV's Canny, scipy.ndimage labelling and by-hand formulas."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import scipy.ndimage as ndi
import skimage.data
from hypothesis import given, settings
from hypothesis import strategies as st

from imgtool import filters
from imgtool.edges import (
    DEFAULT_METHOD,
    METHODS,
    auto_thresholds,
    canny,
    detect_edges,
)
from imgtool.errors import InvalidParameterError
from imgtool.kernels import _canny as k


def synthetic(h=160, w=200, seed=0, noise=6.0):
    """A natural-looking test image: smooth shapes, text, noise, an illumination gradient."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w), np.uint8)
    cv2.circle(img, (w // 3, h // 2), h // 4, 150, -1)
    cv2.rectangle(img, (w // 2, h // 5), (w - 15, h // 2), 90, -1)
    cv2.ellipse(img, (w // 2, 3 * h // 4), (w // 5, h // 10), 30, 0, 360, 200, -1)
    cv2.putText(img, "Edge 42", (10, h - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 230, 2)
    img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 1.2)
    yy, xx = np.mgrid[0:h, 0:w]
    img += 40 + 0.3 * xx + 0.1 * yy + rng.normal(0, noise, (h, w))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


IMAGES = {
    "synthetic": synthetic(),
    "synthetic_noisy": synthetic(seed=1, noise=15),
    "camera": skimage.data.camera()[::2, ::2].copy(),
    "coins": skimage.data.coins(),
}
PAIRS = [(20, 60), (50, 100), (100, 200)]


def f1(a, b):
    """Exact pixel F1 of two edge maps."""
    a, b = a > 0, b > 0
    tp = np.count_nonzero(a & b)
    if not a.any() and not b.any():
        return 1.0
    return 2 * tp / (np.count_nonzero(a) + np.count_nonzero(b))


def reference_canny(img, low, high, l2=True):
    """Canny by array operations + scipy.ndimage.label: NMS with OpenCV's documented rules."""
    f = img.astype(np.float64)
    gx = ndi.correlate(f, [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], mode="nearest")
    gy = ndi.correlate(f, [[-1, -2, -1], [0, 0, 0], [1, 2, 1]], mode="nearest")
    m = gx * gx + gy * gy if l2 else np.abs(gx) + np.abs(gy)
    lo, hi = (low * low, high * high) if l2 else (low, high)
    p = np.pad(m, 1)
    c = p[1:-1, 1:-1]
    left, right, up, down = p[1:-1, :-2], p[1:-1, 2:], p[:-2, 1:-1], p[2:, 1:-1]
    ul, ur, dl, dr = p[:-2, :-2], p[:-2, 2:], p[2:, :-2], p[2:, 2:]
    ax, ay = np.abs(gx), np.abs(gy)
    horizontal = ay * 32768 < ax * 13573
    vertical = ay * 32768 > ax * (13573 + 65536)
    same_sign = (gx < 0) == (gy < 0)
    diag = np.where(same_sign, (c > ul) & (c > dr), (c > ur) & (c > dl))
    straight = np.where(vertical, (c > up) & (c >= down), diag)
    keep = np.where(horizontal, (c > left) & (c >= right), straight)
    keep &= c > lo
    return hysteresis_reference(keep, keep & (c > hi))


def hysteresis_reference(candidates, strong):
    labels, _ = ndi.label(candidates, structure=np.ones((3, 3)))
    good = np.unique(labels[strong])
    return np.isin(labels, good[good > 0]) & candidates


# --- agreement with OpenCV -------------------------------------------------------------------


@pytest.mark.parametrize("name", list(IMAGES))
@pytest.mark.parametrize("low,high", PAIRS)
@pytest.mark.parametrize("norm", ["l2", "l1"])
def test_matches_cv2_canny(name, low, high, norm):
    img = IMAGES[name]
    ours = canny(img, low, high, norm=norm)
    ref = cv2.Canny(img, low, high, L2gradient=norm == "l2")
    assert ours.dtype == np.uint8 and ours.shape == img.shape
    assert set(np.unique(ours)) <= {0, 255}
    assert f1(ours, ref) >= 0.99
    # in fact pixel-exact: same Sobel border, same sector bounds, same tie rule
    assert np.count_nonzero(ours != ref) == 0


@pytest.mark.parametrize("name", ["synthetic", "camera"])
def test_matches_cv2_on_the_same_smoothed_input(name):
    img = IMAGES[name]
    smoothed = filters.gaussian(img, 1.4)
    ours = canny(img, 30, 90, sigma=1.4)
    assert np.array_equal(ours, canny(smoothed, 30, 90))
    assert np.array_equal(ours, cv2.Canny(smoothed, 30, 90, L2gradient=True))
    # and close to the usual OpenCV recipe, whose blur rounds a little differently
    blurred = cv2.GaussianBlur(img, (0, 0), 1.4)
    assert f1(ours, cv2.Canny(blurred, 30, 90, L2gradient=True)) >= 0.95


@pytest.mark.parametrize("low,high", PAIRS)
def test_matches_naive_reference(low, high):
    img = IMAGES["synthetic_noisy"]
    assert np.array_equal(canny(img, low, high) > 0, reference_canny(img, low, high))
    ref_l1 = reference_canny(img, low, high, False)
    assert np.array_equal(canny(img, low, high, norm="l1") > 0, ref_l1)


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(1, 24),
    w=st.integers(1, 24),
    seed=st.integers(0, 2**31 - 1),
    low=st.integers(0, 300),
    span=st.integers(0, 300),
    l2=st.booleans(),
)
def test_random_small_images_match_cv2(h, w, seed, low, span, l2):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (h, w), dtype=np.uint8)
    if seed % 3 == 0:  # blocky images make long ties and connected edges
        img = np.repeat(np.repeat(img[::4, ::4], 4, 0), 4, 1)[:h, :w].copy()
    high = low + span
    ours = canny(img, low, high, norm="l2" if l2 else "l1")
    assert np.array_equal(ours, cv2.Canny(img, low, high, L2gradient=l2))


def test_non_contiguous_and_constant_input():
    img = IMAGES["camera"]
    view = img[::2, 1::3]
    ref = cv2.Canny(np.ascontiguousarray(view), 40, 80, L2gradient=True)
    assert np.array_equal(canny(view, 40, 80), ref)
    flat = np.full((30, 40), 77, np.uint8)
    assert not canny(flat, 0, 0).any()
    assert not detect_edges(flat)[0].any()


# --- colour and dtypes ------------------------------------------------------------------------


def test_colour_uses_bt601_like_cvtcolor():
    bgr = skimage.data.astronaut()[::2, ::2, ::-1].copy()
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    assert np.array_equal(k.bgr_to_gray_u8(bgr), grey)
    assert np.array_equal(canny(bgr, 50, 120), cv2.Canny(grey, 50, 120, L2gradient=True))
    bgra = cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA)
    bgra[..., 3] = 7  # alpha is ignored
    assert np.array_equal(canny(bgra, 50, 120), canny(bgr, 50, 120))
    assert np.array_equal(canny(grey[:, :, None], 50, 120), canny(grey, 50, 120))


def test_uint16_thresholds_are_on_the_8bit_scale():
    img = IMAGES["synthetic"]
    img16 = img.astype(np.uint16) * 257
    assert np.array_equal(canny(img16, 40, 100), canny(img, 40, 100))
    bgr16 = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR).astype(np.uint16) * 257
    assert f1(canny(bgr16, 40, 100), canny(img, 40, 100)) >= 0.99


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_input_is_taken_as_0_to_1(dtype):
    img = IMAGES["camera"]
    as_float = img.astype(dtype) / 255
    assert f1(canny(as_float, 40, 100), canny(img, 40, 100)) >= 0.99
    bgr = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR).astype(dtype) / 255
    assert f1(canny(bgr, 40, 100), canny(img, 40, 100)) >= 0.99


# --- non-maximum suppression and hysteresis kernels ---------------------------------------------


@pytest.mark.parametrize("nblocks", [1, 3, 7, 40])
def test_hysteresis_matches_connected_components(nblocks):
    rng = np.random.default_rng(nblocks)
    ridge = rng.random((80, 90)).astype(np.float32)
    ridge[rng.random(ridge.shape) < 0.3] = 0  # make long weak chains and gaps
    for low, high in [(0.3, 0.9), (0.5, 0.99), (0.0, 0.5)]:
        ours = k.hysteresis(ridge, low, high, nblocks) > 0
        ref = hysteresis_reference(ridge > low, ridge > high)
        assert np.array_equal(ours, ref)


def test_hysteresis_follows_a_long_snake_across_blocks():
    # one 1-pixel-wide serpentine of weak pixels, seeded at its far end: every block border
    # is crossed many times, both downwards and upwards
    h, w = 64, 33
    ridge = np.zeros((h, w), np.float32)
    ridge[:, 0::4] = 1
    for c in range(0, w - 4, 4):
        r = h - 1 if (c // 4) % 2 == 0 else 0
        ridge[r, c : c + 5] = 1
    ridge[0, 0] = 5  # the only seed
    for nblocks in (1, 2, 8, 64):
        ours = k.hysteresis(ridge, 0.5, 2.0, nblocks) > 0
        assert np.array_equal(ours, ridge > 0.5)


def test_ridge_magnitude_is_the_nms_survivors():
    img = IMAGES["synthetic_noisy"]
    gx, gy = filters.sobel(img, border="replicate")
    ridge = k.ridge_magnitude(gx, gy, True, 5)
    ref = reference_canny(img, 0, 0)  # low = high = 0: every NMS survivor with m > 0
    assert np.array_equal(ridge > 0, ref)
    m = gx.astype(np.float64) ** 2 + gy.astype(np.float64) ** 2
    assert np.array_equal(ridge[ref], m[ref].astype(np.float32))


# --- automatic thresholds --------------------------------------------------------------------


@pytest.mark.parametrize("name", list(IMAGES))
def test_otsu_matches_cv2_threshold(name):
    img = IMAGES[name]
    t, _ = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    assert auto_thresholds(img, "otsu", sigma=None) == (0.5 * t, t)
    smoothed = filters.gaussian(img, 2.0)
    t2, _ = cv2.threshold(smoothed, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    assert auto_thresholds(img, "otsu", sigma=2.0) == (0.5 * t2, t2)


@pytest.mark.parametrize("name", list(IMAGES))
@pytest.mark.parametrize("s", [0.0, 0.33, 0.8])
def test_median_recipe_by_hand(name, s):
    img = IMAGES[name]
    v = float(np.median(img))
    low, high = auto_thresholds(img, "median", sigma=None, median_sigma=s)
    assert low == pytest.approx(max(0, (1 - s) * v))
    assert high == pytest.approx(min(255, (1 + s) * v))
    odd = img[:, :-1] if img.size % 2 == 0 else img  # odd and even counts
    v = float(np.median(odd))
    high_odd = auto_thresholds(odd, "median", sigma=None, median_sigma=s)[1]
    assert high_odd == pytest.approx(min(255, (1 + s) * v))


def test_median_on_float_input():
    img = IMAGES["coins"].astype(np.float64) / 255
    v = float(np.median(img.astype(np.float32) * np.float32(255)))
    assert auto_thresholds(img, "median", sigma=None)[0] == pytest.approx(0.67 * v, rel=1e-5)


def _ridge_values(img, sigma=None):
    src = img if sigma is None else filters.gaussian(img, sigma)
    gx, gy = filters.sobel(src, border="replicate")
    r = reference_canny(src, 0, 0)
    return np.sqrt(gx.astype(np.float64) ** 2 + gy.astype(np.float64) ** 2)[r]


@pytest.mark.parametrize("name", list(IMAGES))
def test_gradient_percentile_is_a_percentile_of_ridge_magnitudes(name):
    img = IMAGES[name]
    values = _ridge_values(img, 1.4)
    low, high = auto_thresholds(img, "gradient_percentile", sigma=1.4)
    assert high == pytest.approx(np.percentile(values, 90), abs=0.25)
    assert low == pytest.approx(0.5 * high)


@pytest.mark.parametrize("name", list(IMAGES))
def test_gradient_otsu_maximises_between_class_variance(name):
    img = IMAGES[name]
    values = _ridge_values(img, 1.4)
    low, high = auto_thresholds(img, "gradient_otsu", sigma=1.4)
    assert low == pytest.approx(0.5 * high)

    def between(t):
        a, b = values[values < t], values[values >= t]
        return a.size * b.size * (a.mean() - b.mean()) ** 2

    # brute force over a grid of candidate thresholds: ours is as good as the best, within the
    # 0.25 quantisation of our histogram
    grid = np.arange(1, values.max(), 0.5)
    best = max(between(t) for t in grid if values.min() < t <= values.max())
    assert between(high) >= 0.995 * best


def test_gradient_methods_follow_contrast():
    img = IMAGES["synthetic"].astype(np.float64) / 255
    for method in ("gradient_otsu", "gradient_percentile"):
        low, high = auto_thresholds(img, method, sigma=1.0)
        low2, high2 = auto_thresholds(0.5 * img + 0.3, method, sigma=1.0)
        assert high2 == pytest.approx(0.5 * high, abs=0.5)


# --- detect_edges ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_detect_edges_equals_the_two_step_path(method):
    img = IMAGES["synthetic_noisy"]
    edges, info = detect_edges(img, method=method, sigma=1.4)
    low, high = auto_thresholds(img, method, sigma=1.4)
    assert (info["low"], info["high"]) == (low, high)
    assert info["method"] == method and info["sigma"] == 1.4 and info["norm"] == "l2"
    assert np.array_equal(edges, canny(img, low, high, sigma=1.4))
    assert info["edge_fraction"] == np.count_nonzero(edges) / edges.size



def _documented_images():
    """Photos and scans of several kinds, in every input dtype the API takes."""
    astronaut = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)
    return {
        "page": skimage.data.page(),  # the scanned text page of the bug report
        "camera": IMAGES["camera"],
        "coins": IMAGES["coins"],
        "synthetic_noisy": IMAGES["synthetic_noisy"],
        "astronaut_bgr": astronaut[::2, ::2].copy(),
        "text_uint16": skimage.data.text().astype(np.uint16) * 257,
        "moon_float32": skimage.data.moon()[::2, ::2].astype(np.float32) / 255,
        "coins_float64": IMAGES["coins"].astype(np.float64) / 255,
    }


@pytest.mark.parametrize("name", list(_documented_images()))
@pytest.mark.parametrize("method", METHODS)
def test_auto_thresholds_with_canny_is_detect_edges(name, method):
    """A user combining the documented functions gets what `imgtool edges --auto` does."""
    from imgtool.edges import DEFAULT_SIGMA

    img = _documented_images()[name]
    edges, info = detect_edges(img, method=method)
    thresholds = auto_thresholds(img, method)
    assert thresholds == (info["low"], info["high"])
    assert np.array_equal(canny(img, *thresholds, sigma=DEFAULT_SIGMA), edges)
    if method == DEFAULT_METHOD:
        assert info["edge_fraction"] > 0.01  # the page of text has edges (it had none)


def test_page_thresholds_are_measured_on_the_smoothed_page():
    page = skimage.data.page()
    low, high = auto_thresholds(page)
    smoothed = filters.gaussian(page, 1.4)
    assert (low, high) == auto_thresholds(smoothed, sigma=None)
    assert (low, high) != auto_thresholds(page, sigma=None)  # unsmoothed: other thresholds


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (2, 3), (61, 83), (300, 40)])
@pytest.mark.parametrize("row_step", [1, 2, 7])
@pytest.mark.parametrize("l2", [True, False])
def test_ridge_histograms_on_counted_rows_equal_the_full_ridge_map(shape, row_step, l2):
    """The threshold histograms suppress non-maxima on the counted rows only: the same counts
    as the histogram of the whole ridge map, from the uint8 image or from its gradients."""
    rng = np.random.default_rng(shape[0] * 31 + shape[1])
    img = cv2.GaussianBlur(rng.integers(0, 256, shape, dtype=np.uint8), (3, 3), 0)
    gx, gy = filters.sobel(img, border="replicate")
    ridge = k.ridge_magnitude(gx, gy, l2, 3)
    expected = k.ridge_histogram(ridge, l2, 0.25, 8192, row_step)
    if min(shape) > 2:
        assert expected.sum() > 0  # the comparison is not between empty histograms
    assert np.array_equal(k.ridge_histogram_u8(img, l2, 0.25, 8192, row_step), expected)
    assert np.array_equal(
        k.ridge_histogram_from_gradients(gx, gy, l2, 0.25, 8192, row_step), expected)


@pytest.mark.parametrize("nblocks", [1, 3, 7, 40])
@pytest.mark.parametrize("name", ["synthetic_noisy", "camera"])
def test_canny_on_uint8_equals_canny_on_its_gradients(name, nblocks):
    img = IMAGES[name]
    gx, gy = filters.sobel(img, border="replicate")
    for low, high, l2 in [(20.0, 60.0, True), (5.0, 40.0, True), (30.0, 90.0, False)]:
        lo, hi = (low * low, high * high) if l2 else (low, high)
        expected = k.canny_from_gradients(gx, gy, lo, hi, l2, nblocks)
        assert np.array_equal(k.canny_u8(img, lo, hi, l2, nblocks), expected)
        assert np.array_equal(expected > 0, reference_canny(img, low, high, l2))


@pytest.mark.parametrize("low, high", [(23.125, 46.25), (0.3, 0.7), (7.9, 7.9), (1e5, 1e6)])
@pytest.mark.parametrize("l2", [True, False])
def test_canny_on_uint8_with_fractional_and_huge_thresholds(low, high, l2):
    # the uint8 kernel compares its integer magnitudes with floor(threshold), capped to
    # int32; the float kernel compares floats with the thresholds themselves
    img = IMAGES["synthetic_noisy"]
    gx, gy = filters.sobel(img, border="replicate")
    lo, hi = (low * low, high * high) if l2 else (low, high)
    expected = k.canny_from_gradients(gx, gy, lo, hi, l2, 3)
    assert np.array_equal(k.canny_u8(img, lo, hi, l2, 3), expected)
    if high < 1e5:
        assert np.array_equal(expected, cv2.Canny(img, low, high, L2gradient=l2))


def test_detect_edges_defaults_and_fixed_thresholds():
    img = IMAGES["camera"]
    edges, info = detect_edges(img)
    assert info["method"] == DEFAULT_METHOD and info["sigma"] == 1.4
    assert 0 < info["edge_fraction"] < 0.3
    edges, info = detect_edges(img, low=30, high=80, sigma=None, norm="l1")
    assert info["method"] is None and (info["low"], info["high"]) == (30.0, 80.0)
    assert np.array_equal(edges, cv2.Canny(img, 30, 80))


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda img: canny(img, 100, 50),
        lambda img: canny(img, -1, 50),
        lambda img: canny(img, 10, float("nan")),
        lambda img: canny(img, 10, "50"),
        lambda img: canny(img, 10, 50, sigma=0),
        lambda img: canny(img, 10, 50, sigma=-1.0),
        lambda img: canny(img, 10, 50, norm="l3"),
        lambda img: canny(img.astype(np.int16), 10, 50),
        lambda img: canny(img[:0], 10, 50),
        lambda img: canny(np.dstack([img, img]), 10, 50),
        lambda img: canny(img[None], 10, 50),
        lambda img: canny(img.tolist(), 10, 50),
        lambda img: canny(np.full((4, 4), np.nan), 10, 50),
        lambda img: auto_thresholds(img, "mean"),
        lambda img: auto_thresholds(img, "median", median_sigma=-0.1),
        lambda img: detect_edges(img, low=10),
        lambda img: detect_edges(img, method=None),
        lambda img: detect_edges(img, method="canny"),
        lambda img: detect_edges(img, sigma=0),
    ],
)
def test_bad_input_raises(call):
    with pytest.raises(InvalidParameterError):
        call(IMAGES["synthetic"][:20, :20])
