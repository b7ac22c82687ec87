"""Tests for imgtool.scan.geometry: corner ordering and corner refinement."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imgtool.errors import InvalidParameterError
from imgtool.scan.geometry import order_corners


def _rotated_rect(deg: float, w: float = 3.0, h: float = 2.0, centre=(50.0, 40.0)) -> np.ndarray:
    """Rectangle corners TL, TR, BR, BL turned by ``deg`` (clockwise on screen)."""
    t = math.radians(deg)
    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    rect = np.array([[-w, -h], [w, -h], [w, h], [-w, h]], dtype=float) / 2
    return rect @ rot.T + np.asarray(centre)


def _naive_order(pts: np.ndarray) -> np.ndarray:
    """The classic x+y / x-y trick: right for small rotations only."""
    s = pts.sum(axis=1)
    d = pts[:, 1] - pts[:, 0]
    return np.array([pts[s.argmin()], pts[d.argmin()], pts[s.argmax()], pts[d.argmax()]])


def _signed_area(p: np.ndarray) -> float:
    x, y = p[:, 0], p[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


@pytest.mark.parametrize(
    "deg", [0, 10, 30, 44, 44.9, 45.1, 46, 60, 89, 90, 91, 134, 136, 180, -30, -46]
)
def test_order_corners_rotations(deg):
    rect = _rotated_rect(deg)
    # Away from 45 degrees the expected order is the rectangle's own order, shifted by the
    # number of quarter turns (a turn by 90 degrees makes the old bottom-left the top-left).
    k = round(deg / 90.0) % 4
    expected = np.roll(rect, k, axis=0)
    rng = np.random.default_rng(int(abs(deg) * 10))
    got = order_corners(rect[rng.permutation(4)])
    np.testing.assert_allclose(got, expected, atol=1e-12)


@pytest.mark.parametrize("deg", [-40, -20, -5, 0, 5, 20, 40])
def test_order_corners_matches_naive_reference_away_from_45(deg):
    rect = _rotated_rect(deg, w=5, h=2)
    np.testing.assert_allclose(order_corners(rect[::-1]), _naive_order(rect), atol=1e-12)


def test_naive_reference_fails_near_45_but_ours_does_not():
    # a kite whose top point is extreme both in x + y and in x - y
    kite = np.array([[1.0, -10.0], [3.0, 0.0], [0.0, 3.0], [-3.0, 0.0]])
    naive = _naive_order(kite)
    assert len({tuple(p) for p in naive}) < 4  # the naive trick repeats a point
    got = order_corners(kite[::-1])
    # the edge left -> top (68 degrees off +x) is flatter than top -> right (79 degrees)
    np.testing.assert_allclose(got, np.roll(kite, 1, axis=0))


def test_order_corners_exact_45_is_deterministic():
    diamond = np.array([[10.0, 0.0], [20.0, 10.0], [10.0, 20.0], [0.0, 10.0]])
    results = {tuple(order_corners(diamond[p]).ravel()) for p in
               [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1], [1, 3, 0, 2]]}
    assert len(results) == 1
    got = np.array(results.pop()).reshape(4, 2)
    # both top edges are 45 degrees off; the tie goes to the smaller x + y, then smaller y
    np.testing.assert_allclose(got[0], [10.0, 0.0])


def test_order_corners_perspective_trapezoid():
    quad = np.array([[120.0, 30.0], [400.0, 80.0], [380.0, 500.0], [60.0, 420.0]])
    np.testing.assert_allclose(order_corners(quad[[2, 0, 3, 1]]), quad)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(-180, 180),
    st.floats(0.2, 5.0),
    st.lists(st.floats(-0.15, 0.15), min_size=8, max_size=8),
    st.permutations(range(4)),
)
def test_order_corners_properties(deg, aspect, jitter, perm):
    quad = _rotated_rect(deg, w=10 * aspect, h=10) + np.reshape(jitter, (4, 2)) * 10
    got = order_corners(quad[list(perm)])
    # a permutation of the input
    assert sorted(map(tuple, got)) == sorted(map(tuple, quad))
    # clockwise on screen (positive shoelace area with y down)
    assert _signed_area(got) > 0
    # the TL -> TR edge is the edge closest to +x
    edges = np.roll(got, -1, axis=0) - got
    angles = np.abs(np.arctan2(edges[:, 1], edges[:, 0]))
    assert angles[0] <= angles.min() + 1e-9


@pytest.mark.parametrize(
    "bad",
    [np.zeros((3, 2)), np.zeros((4, 3)), [[0, 0], [1, 1], [2, 2], [3, 3]],
     [[0, 0], [1, 0], [1, 1], [np.nan, 1]], "abcd"],
)
def test_order_corners_rejects_bad_input(bad):
    with pytest.raises(InvalidParameterError):
        order_corners(bad)


# --- refine_corners ---------------------------------------------------------------------


def _render_quad(quad, shape, *, fg=210, bg=60, blur=1.2, noise=4.0, seed=0, ss=8):
    """A quadrilateral at exact sub-pixel position: drawn 8x supersampled, area-averaged.

    Pixel centres are at integer coordinates, so high-resolution coordinate
    ``(x + 0.5) * ss - 0.5`` is low-resolution ``x``.
    """
    import cv2

    h, w = shape
    hr = (np.asarray(quad, float) + 0.5) * ss - 0.5
    big = np.full((h * ss, w * ss), bg, np.uint8)
    cv2.fillPoly(big, [np.round(hr * 16).astype(np.int32)], fg, lineType=cv2.LINE_8, shift=4)
    img = cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    if blur:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    img += np.random.default_rng(seed).normal(0, noise, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("seed", range(6))
def test_refine_corners_subpixel_on_synthetic_quads(seed):
    from imgtool.scan.geometry import refine_corners

    rng = np.random.default_rng(seed)
    quad = np.array([[40, 50], [260, 30], [280, 230], [30, 210]], float)
    quad += rng.uniform(-12, 12, (4, 2))
    polarity = {"fg": 60, "bg": 200} if seed % 2 else {}
    img = _render_quad(quad, (260, 320), seed=seed, **polarity)
    coarse = quad + rng.uniform(-5, 5, (4, 2))
    refined = refine_corners(img, coarse, search=10)
    err = np.hypot(*(refined - quad).T)
    assert err.max() < 1.0, err
    assert err.max() < np.hypot(*(coarse - quad).T).max()


def test_refine_corners_ignores_text_near_the_edge():
    import cv2

    from imgtool.scan.geometry import refine_corners

    quad = np.array([[30.3, 40.6], [290.2, 35.1], [295.8, 250.4], [25.5, 245.2]])
    img = _render_quad(quad, (290, 330), seed=3)
    # dark "text" strokes 6-8 px inside the top edge
    for x in range(50, 270, 14):
        cv2.line(img, (x, 44), (x + 8, 45), 30, 2)
    coarse = quad + np.array([[3, -4], [-4, 4], [4, 3], [-3, -4]])
    refined = refine_corners(img, coarse, search=12)
    assert np.hypot(*(refined - quad).T).max() < 1.0


def test_refine_corners_keeps_corners_without_edges():
    from imgtool.scan.geometry import refine_corners

    flat = np.full((100, 120), 128, np.uint8)
    coarse = np.array([[10.0, 10.0], [100.0, 12.0], [105.0, 90.0], [8.0, 85.0]])
    np.testing.assert_array_equal(refine_corners(flat, coarse), coarse)


def test_refine_corners_corner_outside_image_and_dtypes():
    from imgtool.scan.geometry import refine_corners

    quad = np.array([[-20.0, 30.0], [200.0, 20.0], [210.0, 180.0], [10.0, 170.0]])
    img8 = _render_quad(quad, (200, 240), seed=1)
    coarse = quad + np.array([[4, 3], [-3, 4], [3, -4], [-4, -3]])
    for img in (img8, img8.astype(np.uint16) * 257, img8.astype(np.float32) / 255):
        refined = refine_corners(img, coarse, search=10)
        assert np.hypot(*(refined - quad).T)[1:].max() < 1.0
        assert np.hypot(*(refined[0] - quad[0])) < 2.0  # extrapolated outside the frame


def test_refine_corners_on_a_small_page():
    # 30 px sides: each side end still gets its own eight profiles
    from imgtool.scan.geometry import refine_corners

    quad = np.array([[25.3, 24.8], [55.3, 25.9], [54.5, 54.8], [24.9, 55.5]])
    img = _render_quad(quad, (80, 80), seed=5, noise=2.0)
    coarse = quad + np.array([[2.1, -1.5], [-1.8, 2.0], [1.6, 1.9], [-2.2, -1.4]])
    refined = refine_corners(img, coarse, search=6)
    assert np.hypot(*(refined - quad).T).max() < 1.0


def test_refine_corners_on_colour_matches_its_grey_conversion():
    import cv2

    from imgtool.scan.geometry import refine_corners

    quad = np.array([[30.3, 40.6], [290.2, 35.1], [295.8, 250.4], [25.5, 245.2]])
    grey = _render_quad(quad, (290, 330), seed=4)
    # a blue-ish page on an orange-ish desk, as BGR, with the same grey either side
    bgr = np.dstack([grey, grey, grey]).astype(np.float64)
    bgr *= np.array([1.2, 1.0, 0.8])
    bgr = np.clip(bgr, 0, 255).astype(np.uint8)
    coarse = quad + np.array([[3, -4], [-4, 4], [4, 3], [-3, -4]])
    from_colour = refine_corners(bgr, coarse, search=12)
    from_grey = refine_corners(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), coarse, search=12)
    assert np.hypot(*(from_colour - quad).T).max() < 1.0
    assert np.abs(from_colour - from_grey).max() < 0.05


@pytest.mark.parametrize(
    ("gray", "kwargs"),
    [(np.zeros((10, 10, 4)), {}), (np.zeros((0, 5)), {}), (np.zeros((10, 10)), {"search": 0}),
     (np.zeros((10, 10)), {"search": np.nan}), (np.array([["a"]]), {})],
)
def test_refine_corners_rejects_bad_input(gray, kwargs):
    from imgtool.scan.geometry import refine_corners

    with pytest.raises(InvalidParameterError):
        refine_corners(gray, [[1, 1], [8, 1], [8, 8], [1, 8]], **kwargs)


def test_refine_corners_takes_a_faint_page_edge_over_a_ruling_inside_it():
    import cv2

    from imgtool.scan.geometry import refine_corners

    # white paper on a light desk (a step of 30 grey levels) with a table's dark ruling
    # 9 px inside the left edge, parallel to it: a stronger but thin edge
    quad = np.array([[60.4, 30.2], [280.3, 36.6], [272.7, 250.5], [52.1, 244.8]])
    img = _render_quad(quad, (290, 330), fg=235, bg=205, seed=4)
    left = quad[[3, 0]] + np.array([9.0, 0.0])
    cv2.line(img, tuple(np.round(left[0]).astype(int)), tuple(np.round(left[1]).astype(int)),
             40, 2, cv2.LINE_AA)
    coarse = quad + np.array([[4, 3], [-3, 4], [3, -3], [4, -4]])  # left side nearer the line
    refined = refine_corners(img, coarse, search=12)
    assert np.hypot(*(refined - quad).T).max() < 1.0


def test_refine_corners_takes_a_faint_page_edge_over_a_printed_block_inside_it():
    import cv2

    from imgtool.scan.geometry import refine_corners

    # white paper on a light board (a step of 25 grey levels) with a form's grey table
    # block starting 8 px inside the left and right sides: at each of those sides the step
    # down into the block is the stronger, and of the other sign; the page is lighter than
    # what lies beyond it all round, and its edge is the side
    quad = np.array([[60.4, 30.2], [280.3, 36.6], [272.7, 250.5], [52.1, 244.8]])
    img = _render_quad(quad, (290, 330), fg=232, bg=207, seed=5)
    block = np.array([quad[0] + [8, 30], quad[1] + [-8, 30], quad[2] + [-8, -30],
                      quad[3] + [8, -30]])
    cv2.fillConvexPoly(img, np.round(block).astype(np.int32), 150, cv2.LINE_AA)
    coarse = quad + np.array([[4, 3], [-3, 4], [-3, -3], [4, -4]])  # sides nearer the block
    refined = refine_corners(img, coarse, search=12)
    assert np.hypot(*(refined - quad).T).max() < 1.0


def test_refine_corners_extrapolates_a_corner_far_beyond_the_frame():
    from imgtool.scan.geometry import refine_corners

    # the page's top-left corner is 30 px left of the photo; the coarse one is 25 px off,
    # more than twice the search band: only the two sides' lines can place it
    quad = np.array([[-30.0, 20.0], [300.0, 10.0], [280.0, 230.0], [40.0, 200.0]])
    img = _render_quad(quad, (240, 330), seed=2)
    coarse = quad + np.array([[18.0, 18.0], [-3, 3], [3, -3], [3, 3]])
    refined = refine_corners(img, coarse, search=10)
    assert np.hypot(*(refined - quad).T).max() < 1.5


def test_refine_corners_keeps_a_side_that_runs_along_the_frame():
    """A page leaving the top of the photo, a printed band 8 px below the frame: the top side
    stays on the frame, and its corners slide there along the refined left and right sides."""
    from imgtool.scan.geometry import refine_corners

    quad = np.array([[40.0, -30.0], [270.0, -36.0], [280.0, 230.0], [30.0, 210.0]])
    img = _render_quad(quad, (260, 320), seed=5)
    left = np.array([[40.0, -30.0], [30.0, 210.0]])
    # a dark band across the page from the frame to 8 px down: a strong step at y = 8
    band = np.zeros_like(img, bool)
    band[:8, 45:255] = True
    img[band] = 90
    # detection puts a side on the frame at the first row of pixel centres
    coarse_top = np.array([[left[0, 0] + (left[1, 0] - left[0, 0]) * (30 / 240), 0.0],
                           [270.0 + 10.0 * (36 / 266), 0.0]])
    coarse = np.vstack([coarse_top, quad[2:] + [[2.0, -2.0], [-2.0, 2.0]]])
    refined = refine_corners(img, coarse, search=12)
    np.testing.assert_allclose(refined[:2, 1], 0.0, atol=1e-9)
    assert np.abs(refined[2:] - quad[2:]).max() < 1.0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60),
       st.lists(st.floats(0, 1), min_size=1, max_size=4))
def test_median_and_quantiles_agree_with_numpy(values, qs):
    # the scanner's own median and quantiles (imgtool.scan.median) stand in for numpy's,
    # which import numpy.ma on their first call
    from imgtool.scan.median import median, quantiles

    a = np.array(values)
    assert median(a) == np.median(a)
    np.testing.assert_allclose(quantiles(a, qs), np.quantile(a, qs), rtol=1e-12, atol=1e-9)
