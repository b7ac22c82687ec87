"""Tests for imgtool.scan.aspect: true page proportions from perspective, output size, options."""

from __future__ import annotations

import math

import numpy as np
import pytest

from imgtool.errors import InvalidParameterError
from imgtool.scan.aspect import (
    PAPER_ASPECTS,
    output_size,
    page_aspect,
    parse_aspect,
    resolve_aspect,
)

IMAGE = (4000, 3000)


def _rot(axis: str, deg: float) -> np.ndarray:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    if axis == "x":
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    if axis == "y":
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def _photograph(aspect, tilt, spin, roll, *, focal=3200.0, size=IMAGE, offset=(0.0, 0.0)):
    """Project a flat page (width/height = aspect) through a pinhole camera.

    The page lies in its own plane, turned by ``spin`` degrees in that plane, tilted by
    ``tilt`` degrees away from the camera about the camera's x axis, and the camera is
    rolled by ``roll`` about its optical axis. Returns the image corners of the page's
    TL, TR, BR, BL (page coordinates), independent of any image-space ordering.
    """
    h = 1.0
    w = aspect * h
    page = np.array([[-w, -h, 0], [w, -h, 0], [w, h, 0], [-w, h, 0]]) / 2
    rot = _rot("z", roll) @ _rot("x", tilt) @ _rot("z", spin)
    cam = page @ rot.T + np.array([offset[0], offset[1], 3.0])
    k = np.array([[focal, 0, (size[0] - 1) / 2], [0, focal, (size[1] - 1) / 2], [0, 0, 1]])
    proj = cam @ k.T
    return proj[:, :2] / proj[:, 2:]


def _naive(quad) -> float:
    d = np.linalg.norm(np.roll(quad, -1, axis=0) - quad, axis=1)
    return (d[0] + d[2]) / (d[1] + d[3])


@pytest.mark.parametrize("tilt", [0, 5, 15, 25, 35, 45])
@pytest.mark.parametrize("aspect", [210 / 297, 1.0, 297 / 210, 2.5])
def test_page_aspect_recovers_true_ratio(tilt, aspect):
    rng = np.random.default_rng(int(tilt * 100 + aspect * 10))
    for _ in range(4):
        spin = rng.uniform(10, 80) * rng.choice([-1, 1])  # both vanishing points finite
        roll = rng.uniform(-180, 180)
        quad = _photograph(aspect, tilt, spin, roll, offset=rng.uniform(-0.3, 0.3, 2))
        got = page_aspect(quad, IMAGE)
        assert math.isfinite(got)
        assert got == pytest.approx(aspect, rel=0.01), (tilt, spin, roll)


def test_page_aspect_beats_naive_side_ratio_at_high_tilt():
    aspect = 210 / 297
    errors_ours, errors_naive = [], []
    for spin in (20, 35, 55, 70):
        quad = _photograph(aspect, 45, spin, 10)
        errors_ours.append(abs(page_aspect(quad, IMAGE) / aspect - 1))
        errors_naive.append(abs(_naive(quad) / aspect - 1))
    assert max(errors_ours) < 0.01
    assert max(errors_naive) > 0.05  # the mean side ratio is badly off at 45 degrees
    assert np.mean(errors_naive) > 10 * np.mean(errors_ours)


@pytest.mark.parametrize("focal", [1500.0, 3200.0, 8000.0])
def test_page_aspect_with_known_focal_handles_parallel_sides(focal):
    # tilt about an axis parallel to a page side: one vanishing point at infinity, f is
    # undetermined from the quad alone; with the focal length given the ratio is exact
    quad = _photograph(0.75, 40, 0, 0, focal=focal)
    assert page_aspect(quad, IMAGE, focal=focal) == pytest.approx(0.75, rel=1e-6)
    fallback = page_aspect(quad, IMAGE)
    assert fallback == pytest.approx(_naive(quad), rel=1e-12)


@pytest.mark.parametrize(
    "quad",
    [
        [[0, 0], [300, 0], [300, 200], [0, 200]],  # frontal: both vanishing points at infinity
        [[100, 0], [200, 0], [300, 200], [0, 200]],  # symmetric trapezoid: one at infinity
        [[0, 0], [300, 10], [290, 200], [5, 190]],  # near frontal: implausible focal length
        [[0, 0], [1e-9, 0], [1e-9, 1e-9], [0, 1e-9]],  # tiny
        [[0, 0], [100, 0], [100, 100], [99.999999, 0.000001]],  # nearly collapsed
    ],
)
def test_page_aspect_degenerate_cases_fall_back_without_nan(quad):
    with np.errstate(all="raise"):
        got = page_aspect(quad, (400, 300))
    assert math.isfinite(got) and got > 0


def test_page_aspect_frontal_equals_side_ratio():
    quad = np.array([[10, 20], [310, 20], [310, 220], [10, 220]], float)
    assert page_aspect(quad, (400, 300)) == pytest.approx(1.5)


def test_page_aspect_rejects_bad_input():
    with pytest.raises(InvalidParameterError):
        page_aspect(np.zeros((3, 2)), (10, 10))
    with pytest.raises(InvalidParameterError):
        page_aspect([[0, 0], [0, 0], [0, 0], [0, 0]], (10, 10))
    with pytest.raises(InvalidParameterError):
        page_aspect([[0, 0], [1, 0], [1, 1], [0, 1]], (0, 10))
    with pytest.raises(InvalidParameterError):
        page_aspect([[0, 0], [1, 0], [1, 1], [0, 1]], (10, 10), focal=-1)


def test_output_size_never_shrinks_a_side():
    quad = _photograph(210 / 297, 35, 25, 5)
    aspect = page_aspect(quad, IMAGE)
    w, h = output_size(quad, aspect)
    sides = np.linalg.norm(np.roll(quad, -1, axis=0) - quad, axis=1)
    assert w >= math.floor(max(sides[0], sides[2]))
    assert h >= math.floor(max(sides[1], sides[3]))
    assert w / h == pytest.approx(aspect, abs=1.0 / min(w, h))
    # and one of them is tight (no gratuitous upscaling)
    assert w == round(max(sides[0], sides[2])) or h == round(max(sides[1], sides[3]))


def test_output_size_validates():
    with pytest.raises(InvalidParameterError):
        output_size([[0, 0], [1, 0], [1, 1], [0, 1]], 0)
    assert output_size([[0, 0], [0.1, 0], [0.1, 0.1], [0, 0.1]], 1.0) == (1, 1)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("auto", None), ("AUTO", None), (None, None), ("a4", 210 / 297), ("Letter", 8.5 / 11),
     ("3:2", 1.5), ("1.5", 1.5), ("4/3", 4 / 3), (" 16 : 9 ", 16 / 9), (0.5, 0.5)],
)
def test_parse_aspect(spec, expected):
    got = parse_aspect(spec)
    assert got == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize("spec", ["", "a5", "0:1", "1:0", "-2", "nan", "inf", "x", True, [1]])
def test_parse_aspect_rejects(spec):
    with pytest.raises(InvalidParameterError):
        parse_aspect(spec)


def test_resolve_aspect_orients_named_formats():
    portrait = _photograph(0.7, 20, 30, 0)
    landscape = _photograph(1.45, 20, 30, 0)
    assert resolve_aspect("a4", portrait, IMAGE) == pytest.approx(PAPER_ASPECTS["a4"])
    assert resolve_aspect("a4", landscape, IMAGE) == pytest.approx(1 / PAPER_ASPECTS["a4"])
    assert resolve_aspect("letter", landscape, IMAGE) == pytest.approx(11 / 8.5)
    assert resolve_aspect("2:3", landscape, IMAGE) == pytest.approx(2 / 3)  # explicit: as given
    assert resolve_aspect("auto", landscape, IMAGE) == pytest.approx(1.45, rel=0.01)


def test_a_phone_s_focal_length_keeps_the_aspect_true_under_corner_noise():
    # What EXIF gives: the 35 mm-equivalent focal length in whole millimetres. With it the
    # aspect no longer hangs on estimating f from four slightly wrong corners.
    from imgtool.io.read import focal_from_35mm

    size = (1200, 900)
    rng = np.random.default_rng(7)
    errors = []
    for _ in range(300):
        aspect = float(rng.choice([210 / 297, 8.5 / 11, 0.35]))
        focal = rng.uniform(0.6, 1.2) * math.hypot(*size)
        quad = _photograph(aspect, rng.uniform(0, 45), rng.uniform(-90, 90),
                           rng.uniform(-30, 30), focal=focal, size=size,
                           offset=rng.uniform(-0.2, 0.2, 2))
        noisy = quad + rng.uniform(-0.5, 0.5, quad.shape)
        mm = round(focal / math.hypot(*size) * 43.2666)
        got = page_aspect(noisy, size, focal=focal_from_35mm(mm, size))
        errors.append(abs(got / aspect - 1))
    assert np.median(errors) < 0.005
    assert max(errors) < 0.03
