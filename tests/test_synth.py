"""Tests for imgtool.synth: every class of scene renders what it claims, with exact truth.

The truth is checked against the photo itself and against geometry computed here: the
corners are a projected rectangle of the stated aspect (recovered with the camera's known
focal length), the hidden corner is under its object, the desk top holds the page and its
edges run through the frame, the notebook's spiral lies along the bound side.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from imgtool.scan.aspect import page_aspect
from imgtool.synth import SCENES, render_photo

SIZE = (320, 240)
NEW = SCENES[1:]
SEEDS = (0, 1)
_CACHE: dict = {}


def photo(scene, seed):
    """Each photo is rendered once for all the tests below."""
    if (scene, seed) not in _CACHE:
        _CACHE[scene, seed] = render_photo(seed, scene=scene, size=SIZE)
    return _CACHE[scene, seed]


def polygon(corners, shape):
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(corners * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    return mask.astype(bool)


def disc(centre, radius, shape):
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    return (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 <= radius**2


def luminance(image):
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(float)


@pytest.mark.parametrize("scene", NEW)
@pytest.mark.parametrize("seed", SEEDS)
def test_every_class_renders_a_projected_rectangle_inside_the_frame(scene, seed):
    p = photo(scene, seed)
    assert p.scene == scene
    assert p.image.shape == (SIZE[1], SIZE[0], 3) and p.image.dtype == np.uint8
    assert p.corners.shape == (4, 2)
    assert (p.corners >= 0).all() and (p.corners <= [SIZE[0] - 1, SIZE[1] - 1]).all()
    # a convex quadrilateral, TL TR BR BL going clockwise on screen (y down)
    d = np.roll(p.corners, -1, axis=0) - p.corners
    turns = d[:, 0] * np.roll(d, -1, axis=0)[:, 1] - d[:, 1] * np.roll(d, -1, axis=0)[:, 0]
    assert (turns > 0).all()
    # the corners are a rectangle of the stated aspect seen by a camera of the stated focal
    # length (Zhang and He's recovery is exact for exact corners and a known focal length)
    got = page_aspect(p.corners, SIZE, focal=p.params["focal"])
    assert got == pytest.approx(p.aspect, rel=1e-6)
    for name, mask in p.masks.items():
        assert mask.shape == SIZE[::-1] and mask.dtype == bool, name


@pytest.mark.parametrize("scene", NEW)
def test_each_class_is_deterministic_per_seed_and_has_its_own_stream(scene):
    a = photo(scene, 0)
    b = render_photo(0, scene=scene, size=SIZE)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.corners, b.corners)
    assert all(np.array_equal(a.masks[k], b.masks[k]) for k in a.masks)
    assert not np.array_equal(a.image, photo(scene, 1).image)
    plain = render_photo(0, size=SIZE)
    assert not np.allclose(a.corners, plain.corners)


def test_the_plain_class_is_the_default_and_keeps_its_stream():
    a = render_photo(7, size=SIZE)
    b = render_photo(7, scene="plain", size=SIZE)
    assert a.scene == "plain" and np.array_equal(a.image, b.image)
    assert a.masks == {}


@pytest.mark.parametrize("seed", SEEDS)
def test_desk_edges_the_table_top_holds_the_page_and_its_edges_are_in_the_frame(seed):
    p = photo("desk_edges", seed)
    desk = p.masks["desk"]
    page = polygon(p.corners, desk.shape)
    assert desk[page].mean() > 0.995  # the page lies on the table top
    assert 0.15 < desk.mean() < 0.97  # the table and something past it are in view
    # the table's edge runs through the frame (not only along the border) ...
    edge = desk ^ cv2.erode(desk.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    edge[:2], edge[-2:], edge[:, :2], edge[:, -2:] = False, False, False, False
    assert edge.sum() > 0.3 * min(SIZE)
    # ... and it is a strong one: the table top is brighter than what lies past it
    lum = luminance(p.image)
    assert np.median(lum[desk & ~page]) > np.median(lum[~desk]) + 20


@pytest.mark.parametrize("seed", SEEDS)
def test_hidden_corner_is_under_its_object_and_the_others_are_clear(seed):
    p = photo("hidden_corner", seed)
    hidden = p.params["hidden_corner"]
    things = p.masks["objects"]
    for k, corner in enumerate(p.corners):
        near = disc(corner, 3, things.shape)
        if k == hidden:
            assert things[near].all(), "the hidden corner is not covered"
        else:
            assert not things[near].any(), f"corner {k} is covered too"
    assert p.masks["over_page"].any()


@pytest.mark.parametrize("seed", SEEDS)
def test_clutter_lies_on_the_page_but_leaves_its_corners(seed):
    p = photo("clutter", seed)
    assert p.masks["over_page"].sum() > 20  # a pen, a marker or a cable on the page
    assert p.params["under"]  # sheets or a magazine under it
    assert {"pen", "marker"} & set(p.params["objects"])
    for corner in p.corners:
        assert not p.masks["objects"][disc(corner, 2, SIZE[::-1])].any()


@pytest.mark.parametrize("seed", SEEDS)
def test_light_wood_is_light_and_the_page_barely_stands_out(seed):
    p = photo("light_wood", seed)
    lum = luminance(p.image)
    page = polygon(p.corners, lum.shape)
    around = cv2.dilate(page.astype(np.uint8), np.ones((25, 25), np.uint8)).astype(bool) & ~page
    assert np.median(lum[around]) > 120  # a light desk
    assert np.median(lum[page]) - np.median(lum[around]) < 90  # low contrast


def line(p, q):
    """The homogeneous line through two points."""
    return np.cross([*p, 1.0], [*q, 1.0])


def meet(l1, l2):
    return np.cross(l1, l2)


def dehom(h):
    return h[:2] / h[2]


@pytest.mark.parametrize("kind", ["closed", "spread"])
def test_notebook_rings_run_along_the_bound_side(kind):
    p = render_photo(3, scene="notebook", kind=kind, size=SIZE)
    assert p.kind == kind
    rings = p.masks["rings"]
    assert rings.sum() > 30
    tl, tr, br, bl = p.corners
    if kind == "spread":
        assert p.aspect > 1.3  # two pages side by side: the truth is the whole spread
        # the gutter, in perspective: through the diagonals' crossing, towards the point
        # where the outer sides meet; from the top side to the bottom side
        centre = meet(line(tl, br), line(tr, bl))
        gutter = np.cross(centre, meet(line(tl, bl), line(tr, br)))
        a, b = dehom(meet(gutter, line(tl, tr))), dehom(meet(gutter, line(bl, br)))
    elif p.params["spiral"] == "left":
        a, b = tl, bl
    else:
        a, b = tl, tr
    ys, xs = np.nonzero(rings)
    pts = np.column_stack([xs, ys]).astype(float)
    e, q = b - a, pts - a
    d = np.abs(e[0] * q[:, 1] - e[1] * q[:, 0]) / np.linalg.norm(e)
    height = np.linalg.norm(bl - tl)
    assert np.percentile(d, 95) < 0.1 * height  # the loops hug the bound side
    # and they run its whole length
    t = (pts - a) @ (b - a) / np.dot(b - a, b - a)
    assert t.min() < 0.1 and t.max() > 0.9


def test_unknown_scene_kind_or_background_is_refused():
    with pytest.raises(ValueError, match="unknown scene"):
        render_photo(0, scene="beach", size=SIZE)
    with pytest.raises(ValueError, match="own background"):
        render_photo(0, scene="clutter", background="wood", size=SIZE)
    with pytest.raises(ValueError, match="notebook kind"):
        render_photo(0, scene="notebook", kind="letter", size=SIZE)
    with pytest.raises(ValueError, match="page kind"):
        render_photo(0, scene="clutter", kind="spread", size=SIZE)
