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
