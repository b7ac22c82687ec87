"""imgtool.filters against OpenCV, scipy.ndimage and naive references (kornia-style template:
smoke, dtype and shape, bad input, reference comparison, non-contiguous input)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from scipy import ndimage, special

from imgtool import filters
from imgtool.errors import InvalidParameterError

SCIPY_MODE = {
    "reflect101": "mirror",
    "reflect": "reflect",
    "replicate": "nearest",
    "constant": "constant",
    "wrap": "wrap",
}
CV_BORDER = {
    "reflect101": cv2.BORDER_REFLECT_101,
    "reflect": cv2.BORDER_REFLECT,
    "replicate": cv2.BORDER_REPLICATE,
    "constant": cv2.BORDER_CONSTANT,
}
NP_PAD_MODE = {
    "reflect101": "reflect",
    "reflect": "symmetric",
    "replicate": "edge",
    "constant": "constant",
    "wrap": "wrap",
}
DTYPES = [np.uint8, np.uint16, np.float32]
CHANNELS = [None, 1, 3, 4]  # None: a 2-D (H, W) image
LAP4 = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float64)
LAP8 = np.array([[1, 1, 1], [1, -8, 1], [1, 1, 1]], np.float64)


def make_image(shape, dtype, seed=0):
    """Smooth-ish random content with an edge, scaled to the dtype's range."""
    rng = np.random.default_rng(seed)
    x = rng.random(shape)
    x = 0.6 * x + 0.4 * ndimage.uniform_filter(x, 5, mode="wrap")
    x[: shape[0] // 2] *= 0.5
    if np.dtype(dtype).kind == "u":
        return np.round(x * np.iinfo(dtype).max).astype(dtype)
    return x.astype(dtype)


def shape_of(channels, h=17, w=23):
    return (h, w) if channels is None else (h, w, channels)


def assert_close(ours, ref, dtype):
    """Within 1 grey level for integers, 1e-4 relative (of the data range) for floats."""
    ours = np.asarray(ours, np.float64)
    ref = np.asarray(ref, np.float64)
    assert ours.shape == ref.shape
    if np.dtype(dtype).kind == "u":
        assert np.abs(ours - ref).max(initial=0) <= 1.0
    else:
        scale = max(1.0, float(np.abs(ref).max(initial=0)))
        np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-4 * scale)


def per_channel(fn, img):
    """Apply a 2-D reference ``fn`` to each channel of ``img``."""
    if img.ndim == 2:
        return fn(img)
    return np.stack([fn(img[..., c]) for c in range(img.shape[2])], axis=-1)


def cv_call(fn, img):
    """Call an OpenCV filter and give its result the shape of ``img``."""
    return np.asarray(fn(img)).reshape(img.shape)


# --- Gaussian parameters -----------------------------------------------------------------


@pytest.mark.parametrize(("sigma", "radius"), [(0.5, 2), (1.0, 3), (1.5, 4), (2.0, 5), (2.5, 6)])
def test_gaussian_radius_epsilon_001(sigma, radius):
    assert filters.gaussian_radius(sigma, 0.01) == radius


@pytest.mark.parametrize("sigma", [0.3, 0.8, 1.0, 2.0, 5.0, 12.0])
@pytest.mark.parametrize("epsilon", [1e-4, 1e-3, 0.01, 0.05])
def test_gaussian_radius_definition(sigma, epsilon):
    r = filters.gaussian_radius(sigma, epsilon)

    def density(x):
        return math.exp(-x * x / (2 * sigma * sigma)) / (sigma * math.sqrt(2 * math.pi))

    # below epsilon just beyond r, and r is the smallest such integer
    assert density(r + 1e-9) < epsilon
    if r > 0:
        assert density(r - 1) >= epsilon


def test_gaussian_radius_zero_at_or_above_peak():
    sigma = 2.0
    peak = 1 / (sigma * math.sqrt(2 * math.pi))
    assert filters.gaussian_radius(sigma, peak) == 0
    assert filters.gaussian_radius(sigma, min(0.99, peak * 1.5)) == 0
    assert filters.gaussian_radius(sigma, peak * 0.9) > 0


@pytest.mark.parametrize("sigma", [0.5, 1.0, 3.3, 7.0])
def test_gaussian_kernel_sampled_and_normalised(sigma):
    k = filters.gaussian_kernel(sigma, 0.001)
    r = filters.gaussian_radius(sigma, 0.001)
    assert k.dtype == np.float64 and k.shape == (2 * r + 1,)
    assert math.isclose(k.sum(), 1.0, rel_tol=1e-12)
    x = np.arange(-r, r + 1)
    ref = np.exp(-(x**2) / (2 * sigma**2))
    np.testing.assert_allclose(k, ref / ref.sum(), rtol=1e-12)


@pytest.mark.parametrize(("sigma", "epsilon"), [(1.0, 0.01), (3.0, 0.001), (10.0, 0.01)])
def test_gaussian_kept_mass_is_normal_mass_of_covered_interval(sigma, epsilon):
    r = filters.gaussian_radius(sigma, epsilon)
    ref = special.ndtr((r + 0.5) / sigma) - special.ndtr(-(r + 0.5) / sigma)
    assert math.isclose(filters.gaussian_kept_mass(sigma, epsilon), ref, rel_tol=1e-9)


def test_gaussian_warns_on_short_kernel_and_refuses_too_short():
    img = make_image((12, 12), np.float32)
    assert 0.9 < filters.gaussian_kept_mass(10.0, 0.01) < 0.99
    with pytest.warns(filters.TruncationWarning, match="keeps only"):
        filters.gaussian(img, 10.0, epsilon=0.01)
    assert filters.gaussian_kept_mass(20.0, 0.01) < 0.9
    with pytest.raises(InvalidParameterError, match="smaller epsilon"):
        filters.gaussian(img, 20.0, epsilon=0.01)


# --- reference comparisons ---------------------------------------------------------------


def scipy_gaussian(img, sigma, border, cval):
    k = filters.gaussian_kernel(sigma, 0.001)
    x = img.astype(np.float64)
    mode = SCIPY_MODE[border]
    x = ndimage.correlate1d(x, k, axis=0, mode=mode, cval=cval)
    return ndimage.correlate1d(x, k, axis=1, mode=mode, cval=cval)


@pytest.mark.parametrize("channels", CHANNELS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("border", filters.BORDERS)
def test_gaussian_matches_scipy_and_opencv(border, dtype, channels):
    img = make_image(shape_of(channels), dtype)
    sigma = 1.3
    cval = 0.0 if border != "constant" else (17.0 if dtype != np.float32 else 0.25)
    ours = filters.gaussian(img, sigma, border=border, cval=cval)
    assert ours.dtype == img.dtype and ours.shape == img.shape
    assert_close(ours, scipy_gaussian(img, sigma, border, cval), dtype)
    if border in CV_BORDER:
        k = filters.gaussian_kernel(sigma, 0.001)
        ours0 = filters.gaussian(img, sigma, border=border)  # OpenCV pads with 0 only
        ref = cv_call(lambda a: cv2.sepFilter2D(a, -1, k, k, borderType=CV_BORDER[border]), img)
        assert_close(ours0, ref, dtype)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("sigma", [0.8, 2.0, 4.5])
def test_gaussian_matches_cv2_gaussianblur_same_radius(sigma, dtype):
    img = make_image((40, 37, 3), dtype)
    r = filters.gaussian_radius(sigma, 0.001)
    ref = cv2.GaussianBlur(img, (2 * r + 1, 2 * r + 1), sigmaX=sigma, sigmaY=sigma)
    # OpenCV's 8-bit GaussianBlur is bit-exact fixed point; still within 1 grey level
    assert_close(filters.gaussian(img, sigma), ref, dtype)


def naive_box_int(img, sy, sx, border, cval):
    """Exact integer box mean by summing shifted copies of an np.pad-ed image."""
    ry, rx = sy // 2, sx // 2
    pad = [(ry, ry), (rx, rx)] + [(0, 0)] * (img.ndim - 2)
    kw = {"constant_values": int(cval)} if border == "constant" else {}
    p = np.pad(img.astype(np.int64), pad, mode=NP_PAD_MODE[border], **kw)
    h, w = img.shape[:2]
    s = sum(p[dy : dy + h, dx : dx + w] for dy in range(sy) for dx in range(sx))
    n = sy * sx
    return (2 * s + n) // (2 * n)  # round half up, exactly


@pytest.mark.parametrize("channels", CHANNELS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("border", filters.BORDERS)
def test_box_matches_scipy_and_opencv(border, dtype, channels):
    img = make_image(shape_of(channels), dtype, seed=1)
    size = 5
    cval = 0.0 if border != "constant" else (9.0 if dtype != np.float32 else 0.5)
    ours = filters.box(img, size, border=border, cval=cval)
    assert ours.dtype == img.dtype and ours.shape == img.shape
    sizes = (size, size) if channels is None else (size, size, 1)
    ref = ndimage.uniform_filter(img.astype(np.float64), sizes, mode=SCIPY_MODE[border], cval=cval)
    assert_close(ours, ref, dtype)
    if np.dtype(dtype).kind == "u":
        np.testing.assert_array_equal(ours, naive_box_int(img, size, size, border, cval))
    if border in CV_BORDER:
        ours0 = filters.box(img, size, border=border)
        ref = cv_call(lambda a: cv2.blur(a, (size, size), borderType=CV_BORDER[border]), img)
        assert_close(ours0, ref, dtype)


@pytest.mark.parametrize("size", [1, 3, (1, 7), (9, 3), (31, 31)])
@pytest.mark.parametrize("border", filters.BORDERS)
def test_box_sizes_exact_for_integers(size, border):
    img = make_image((13, 11, 2), np.uint16, seed=2)
    sy, sx = (size, size) if isinstance(size, int) else size
    ours = filters.box(img, size, border=border, cval=1000)
    np.testing.assert_array_equal(ours, naive_box_int(img, sy, sx, border, 1000))


def scipy_stencil(img, kernel2d, border, cval):
    k = kernel2d if img.ndim == 2 else kernel2d[:, :, None]
    return ndimage.correlate(img.astype(np.float64), k, mode=SCIPY_MODE[border], cval=cval)


@pytest.mark.parametrize("channels", CHANNELS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("border", filters.BORDERS)
@pytest.mark.parametrize("neighbours", [4, 8])
def test_laplacian_matches_scipy_and_opencv(neighbours, border, dtype, channels):
    img = make_image(shape_of(channels), dtype, seed=3)
    kern = LAP4 if neighbours == 4 else LAP8
    cval = 0.0 if border != "constant" else 5.0
    ours = filters.laplacian(img, neighbours=neighbours, border=border, cval=cval)
    assert ours.dtype == np.float32 and ours.shape == img.shape
    assert_close(ours, scipy_stencil(img, kern, border, cval), np.float32)
    if border in CV_BORDER:
        ours0 = filters.laplacian(img, neighbours=neighbours, border=border)
        b = CV_BORDER[border]
        if neighbours == 4:
            ref = cv_call(lambda a: cv2.Laplacian(a, cv2.CV_32F, ksize=1, borderType=b), img)
        else:
            k32 = kern.astype(np.float32)
            ref = cv_call(lambda a: cv2.filter2D(a, cv2.CV_32F, k32, borderType=b), img)
        assert_close(ours0, ref, np.float32)


SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float64)


def scipy_sobel(img, border, cval):
    if border == "constant":
        # ndimage.sobel pads its intermediate (1-D derivative) with cval too, which is not
        # the 3x3 correlation of the padded image: use the full kernel there
        gx = scipy_stencil(img, SOBEL_X, border, cval)
        return gx, scipy_stencil(img, SOBEL_X.T, border, cval)
    mode = SCIPY_MODE[border]
    x = img.astype(np.float64)
    gx = per_channel(lambda a: ndimage.sobel(a, axis=1, mode=mode), x)
    gy = per_channel(lambda a: ndimage.sobel(a, axis=0, mode=mode), x)
    return gx, gy


@pytest.mark.parametrize("channels", CHANNELS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("border", filters.BORDERS)
def test_sobel_and_magnitude_match_scipy_and_opencv(border, dtype, channels):
    img = make_image(shape_of(channels), dtype, seed=4)
    cval = 0.0 if border != "constant" else 3.0
    gx, gy = filters.sobel(img, border=border, cval=cval)
    assert gx.dtype == gy.dtype == np.float32 and gx.shape == gy.shape == img.shape
    rx, ry = scipy_sobel(img, border, cval)
    assert_close(gx, rx, np.float32)
    assert_close(gy, ry, np.float32)
    l2 = filters.gradient_magnitude(img, border=border, cval=cval)
    l1 = filters.gradient_magnitude(img, norm="l1", border=border, cval=cval)
    assert l2.dtype == l1.dtype == np.float32 and l2.shape == img.shape
    assert_close(l2, np.hypot(rx, ry), np.float32)
    assert_close(l1, np.abs(rx) + np.abs(ry), np.float32)
    if border in CV_BORDER:
        b = CV_BORDER[border]
        cx = cv_call(lambda a: cv2.Sobel(a, cv2.CV_32F, 1, 0, ksize=3, borderType=b), img)
        cy = cv_call(lambda a: cv2.Sobel(a, cv2.CV_32F, 0, 1, ksize=3, borderType=b), img)
        gx0, gy0 = filters.sobel(img, border=border)
        assert_close(gx0, cx, np.float32)
        assert_close(gy0, cy, np.float32)
        l2_0 = filters.gradient_magnitude(img, border=border)
        assert_close(l2_0, cv2.magnitude(cx, cy).reshape(img.shape), np.float32)


# --- shapes, dtypes, views -------------------------------------------------------------------


def all_filters():
    return {
        "gaussian": lambda a, **kw: filters.gaussian(a, 1.5, **kw),
        "box": lambda a, **kw: filters.box(a, 3, **kw),
        "laplacian": filters.laplacian,
        "sobel_x": lambda a, **kw: filters.sobel(a, **kw)[0],
        "sobel_y": lambda a, **kw: filters.sobel(a, **kw)[1],
        "magnitude": filters.gradient_magnitude,
    }


@pytest.mark.parametrize("name", list(all_filters()))
def test_single_channel_3d_equals_2d(name):
    fn = all_filters()[name]
    img = make_image((15, 18), np.uint8, seed=5)
    out3 = fn(img[:, :, None])
    assert out3.shape == (15, 18, 1)
    np.testing.assert_array_equal(out3[:, :, 0], fn(img))


@pytest.mark.parametrize("name", list(all_filters()))
def test_channels_filtered_independently(name):
    fn = all_filters()[name]
    img = make_image((14, 16, 5), np.float32, seed=6)
    out = fn(img)
    for c in range(5):
        np.testing.assert_array_equal(out[..., c], fn(np.ascontiguousarray(img[..., c])))


@pytest.mark.parametrize("name", list(all_filters()))
@pytest.mark.parametrize(
    "view",
    [
        lambda a: a[::2, ::3],
        lambda a: a[3:-2, 1:-4],
        lambda a: a.transpose(1, 0, 2),
        lambda a: a[..., ::2],
        lambda a: a[::-1, :, 1],
    ],
)
def test_non_contiguous_views(name, view):
    fn = all_filters()[name]
    base = make_image((24, 21, 3), np.uint16, seed=7)
    v = view(base)
    assert not v.flags.c_contiguous
    np.testing.assert_array_equal(fn(v), fn(np.ascontiguousarray(v)))


def test_float64_is_computed_and_returned_as_float64():
    img = make_image((20, 20), np.float64, seed=8)
    assert filters.gaussian(img, 1.0).dtype == np.float64
    assert filters.box(img, 3).dtype == np.float64
    assert filters.laplacian(img).dtype == np.float64
    assert filters.gradient_magnitude(img).dtype == np.float64
    np.testing.assert_allclose(
        filters.gaussian(img, 1.0), scipy_gaussian(img, 1.0, "reflect101", 0), rtol=1e-12
    )


def test_integer_results_saturate_and_round():
    img = np.full((6, 6), 65535, np.uint16)
    assert (filters.gaussian(img, 1.0, border="constant", cval=1e9) == 65535).all()
    assert (filters.box(img, 3, border="constant", cval=-5) < 65535).any()
    # odd windows never give an exact half: 1/3 -> 0, 2/3 -> 1
    two = np.array([[1, 0]], np.uint8)
    np.testing.assert_array_equal(filters.box(two, (1, 3), border="wrap"), [[0, 1]])
    np.testing.assert_array_equal(filters.box(two, (1, 3), border="reflect101"), [[0, 1]])
    np.testing.assert_array_equal(filters.box(two, (1, 3), border="reflect"), [[1, 0]])


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("sigma", [0, -1, float("nan"), float("inf"), "a"])
def test_bad_sigma(sigma):
    with pytest.raises(InvalidParameterError, match="sigma"):
        filters.gaussian(np.zeros((4, 4), np.uint8), sigma)


@pytest.mark.parametrize("epsilon", [0, 1, -0.1, 1.5])
def test_bad_epsilon(epsilon):
    with pytest.raises(InvalidParameterError, match="epsilon"):
        filters.gaussian_radius(1.0, epsilon)
    with pytest.raises(InvalidParameterError, match="epsilon"):
        filters.gaussian(np.zeros((4, 4), np.uint8), 1.0, epsilon=epsilon)


@pytest.mark.parametrize("size", [0, -3, 2, 4, (3, 2), (0, 1), 3.0, True, (3, 3, 3), "3"])
def test_bad_box_size(size):
    with pytest.raises(InvalidParameterError, match="size"):
        filters.box(np.zeros((4, 4), np.uint8), size)


@pytest.mark.parametrize("name", list(all_filters()))
def test_unknown_border(name):
    with pytest.raises(InvalidParameterError, match="unknown border 'mirror'"):
        all_filters()[name](np.zeros((4, 4), np.uint8), border="mirror")


@pytest.mark.parametrize("name", list(all_filters()))
@pytest.mark.parametrize(
    "image",
    [
        np.zeros((4, 4), np.int16),
        np.zeros((4, 4), np.float16),
        np.zeros((4, 4), bool),
        np.zeros(4, np.uint8),
        np.zeros((2, 4, 4, 1), np.uint8),
        np.zeros((0, 4), np.uint8),
        [[1, 2], [3, 4]],
    ],
)
def test_bad_image(name, image):
    with pytest.raises(InvalidParameterError, match="image"):
        all_filters()[name](image)


def test_bad_laplacian_neighbours_and_norm():
    img = np.zeros((4, 4), np.uint8)
    with pytest.raises(InvalidParameterError, match="neighbours"):
        filters.laplacian(img, neighbours=6)
    with pytest.raises(InvalidParameterError, match="norm"):
        filters.gradient_magnitude(img, norm="max")
    with pytest.raises(InvalidParameterError, match="cval"):
        filters.box(img, 3, border="constant", cval=float("nan"))


def test_set_threads_is_reexported():
    from imgtool.kernels._jit import set_threads

    assert filters.set_threads is set_threads


@pytest.mark.parametrize("shape", [(5, 200), (4, 203, 3), (3, 97, 2), (3, 1001, 1)])
@pytest.mark.parametrize("size", [(3, 11), (1, 21), (5, 13), (1, 41)])
@pytest.mark.parametrize("border", filters.BORDERS)
def test_box_wide_windows_on_long_rows_exact(shape, size, border):
    # long rows and windows wider than the direct-sum limit: the segmented running sums
    img = make_image(shape, np.uint8, seed=9)
    np.testing.assert_array_equal(
        filters.box(img, size, border=border, cval=3), naive_box_int(img, *size, border, 3)
    )
    f = img.astype(np.float32) / 255
    ref = ndimage.uniform_filter(
        f.astype(np.float64), size + (1,) * (f.ndim - 2), mode=SCIPY_MODE[border], cval=0.5
    )
    assert_close(filters.box(f, size, border=border, cval=0.5), ref, np.float32)


@pytest.mark.parametrize("channels", [None, 2, 3, 5])
@pytest.mark.parametrize("width", [1, 6, 45, 300])
@pytest.mark.parametrize("size", [(1, 11), (5, 33), (3, 65)])
@pytest.mark.parametrize("border", filters.BORDERS)
def test_box_uint8_rows_first_exact(border, size, width, channels):
    # uint8 windows wider than 9 are summed rows first, by prefix sums modulo 2**16: every
    # border, channel counts with their own recurrence step, rows narrower than the window
    img = make_image(shape_of(channels, h=7, w=width), np.uint8, seed=12)
    np.testing.assert_array_equal(
        filters.box(img, size, border=border, cval=250), naive_box_int(img, *size, border, 250)
    )


@pytest.mark.parametrize("size", [(1, 257), (129, 129), (3, 259)])
def test_box_uint8_rows_first_limits(size):
    # 257 wide: a row's window sum of a white image is 65535, the largest uint16; 129 x 129
    # = 16641 pixels: rounded in float64; 259 wide: the column-first path
    white = np.full((140, 300), 255, np.uint8)
    np.testing.assert_array_equal(filters.box(white, size), white)
    img = make_image((9, 40, 2), np.uint8, seed=13)
    np.testing.assert_array_equal(
        filters.box(img, size, border="wrap"), naive_box_int(img, *size, "wrap", 0)
    )


SMALL_WINDOWS = [(3, 3), (1, 3), (3, 1), (5, 5), (7, 7), (9, 9), (3, 9), (9, 1), (1, 9),
                 (5, 7), (15, 5), (27, 9)]


@pytest.mark.parametrize("channels", [None, 2, 3, 4])
@pytest.mark.parametrize("size", SMALL_WINDOWS)
@pytest.mark.parametrize("border", filters.BORDERS)
def test_box_uint8_small_windows_exact(border, size, channels):
    # uint8 windows up to 9 wide and 256 pixels: uint16 sums, the mean by multiply-highs
    img = make_image(shape_of(channels, h=29, w=41), np.uint8, seed=14)
    sy, sx = size
    np.testing.assert_array_equal(
        filters.box(img, size, border=border, cval=250), naive_box_int(img, sy, sx, border, 250)
    )
    if border in CV_BORDER:
        ref = cv_call(lambda a: cv2.blur(a, (sx, sy), borderType=CV_BORDER[border]), img)
        np.testing.assert_array_equal(filters.box(img, size, border=border), ref)


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (6, 1), (2, 2, 3), (4, 33), (40, 3)])
@pytest.mark.parametrize("size", [(3, 3), (5, 5), (9, 9), (9, 3)])
@pytest.mark.parametrize("border", filters.BORDERS)
def test_box_uint8_small_windows_on_tiny_images_exact(border, size, shape):
    # images smaller than the window: every column sum and window read through the borders
    img = make_image(shape, np.uint8, seed=15)
    np.testing.assert_array_equal(
        filters.box(img, size, border=border, cval=7), naive_box_int(img, *size, border, 7)
    )


@pytest.mark.parametrize("size", SMALL_WINDOWS + [(15, 17), (255, 1), (1, 255)])
def test_box_uint8_small_windows_at_the_extremes(size):
    # white: the largest sums (255 n, plus n // 2 before the rounding) give 255 back; a white
    # constant border around black, and a black one around white, the same extremes at the edge
    white = np.full((300, 280), 255, np.uint8)
    black = np.zeros_like(white)
    np.testing.assert_array_equal(filters.box(white, size), white)
    for img, cval in ((black, 255), (white, 0)):
        np.testing.assert_array_equal(
            filters.box(img, size, border="constant", cval=cval),
            naive_box_int(img, *size, "constant", cval),
        )


def test_box_uint8_rounding_by_multiply_high_is_exact():
    # the rounded mean (x = S + n // 2) // n as the kernel takes it, checked for every x it
    # can meet: ((x * m) >> 16) * 2**(16 - s) >> 16, both multipliers uint16, for every odd
    # window of up to 256 pixels that has one; all windows up to 9 x 9 do.
    from imgtool.kernels._tables import SMALL_U8_MAX, u16_division

    for n in range(3, SMALL_U8_MAX + 1, 2):
        found = u16_division(n)
        if found is None:
            assert n > 81
            continue
        m, s = found
        assert 0 < m < 2**16 and 1 <= s <= 15
        x = np.arange(255 * n + n // 2 + 1, dtype=np.int64)
        assert x[-1] < 2**16
        q = (x * m) >> 16
        np.testing.assert_array_equal((q * 2 ** (16 - s)) >> 16, x // n)
    # the 3 x 3 and 5 x 5 windows' literal constants
    assert u16_division(25) == (5243, 1)
    x = np.arange(255 * 9 + 4 + 1, dtype=np.int64)
    np.testing.assert_array_equal((x * 7282) >> 16, x // 9)
    x = np.arange(255 * 25 + 12 + 1, dtype=np.int64)
    np.testing.assert_array_equal((x * 5243) >> 17, x // 25)
    assert u16_division(1) is None  # 1 x 1: a copy, by the general path


@pytest.mark.parametrize("name", list(all_filters()))
def test_read_only_input(name):
    # e.g. np.asarray of a Pillow image is read-only; the filters never write to their input
    fn = all_filters()[name]
    img = make_image((12, 14), np.uint8, seed=10)
    ro = img.copy()
    ro.setflags(write=False)
    np.testing.assert_array_equal(fn(ro), fn(img))


@pytest.mark.parametrize("name", list(all_filters()))
def test_results_do_not_depend_on_the_thread_count(name):
    import numba

    fn = all_filters()[name]
    img = make_image((700, 40, 2), np.float32, seed=11)
    before = numba.get_num_threads()
    try:
        filters.set_threads(1)
        one = fn(img)
        filters.set_threads(None)
        many = fn(img)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one, many)
