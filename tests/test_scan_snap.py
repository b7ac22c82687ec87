"""Snapping a candidate's sides to the page's boundary (imgtool.scan.score.snap): a side goes
to where it is most a boundary *as the score counts it*, so between a page's edge and the
outer edge of its shadow on the desk (both strong steps, the second the wrong way round) it
takes the page's edge."""

from __future__ import annotations

import cv2
import numpy as np

from imgtool.scan.score import snap
from imgtool.scan.support import evidence_planes, page_sign


def _page_with_shadow():
    """A light page on a mid-grey desk, with a dark shadow 16 pixels wide along its right
    side; the page's corners (pixel centres) and the shadow's outer edge (x)."""
    photo = np.full((300, 400, 3), 150, np.uint8)
    photo[50:250, 100:300] = 235
    photo[56:256, 300:316] = 70  # the shadow, cast down and to the right
    return cv2.GaussianBlur(photo, (0, 0), 0.8), 299.5, 315.5


def test_snap_takes_the_page_edge_not_its_shadows_outer_edge():
    photo, page_right, shadow_right = _page_with_shadow()
    planes = evidence_planes(photo)
    # a candidate whose right side lies on the shadow's outer edge (as a contour of the
    # page and its shadow together would)
    quad = np.array([[99.5, 49.5], [shadow_right, 49.5], [shadow_right, 249.5], [99.5, 249.5]])
    snapped = snap(quad, planes)
    assert np.abs(snapped[[1, 2], 0] - page_right).max() <= 1.5
    assert np.abs(snapped[[0, 3], 0] - 99.5).max() <= 1.5


def test_page_sign():
    photo = np.full((300, 400, 3), 60, np.uint8)
    photo[50:250, 100:300] = 230
    quad = np.array([[99.5, 49.5], [299.5, 49.5], [299.5, 249.5], [99.5, 249.5]])
    assert page_sign(quad, evidence_planes(photo)) == 1.0
    assert page_sign(quad, evidence_planes(255 - photo)) == -1.0
    # lighter than the desk to the left and above, darker than it to the right and below
    mixed = np.full((300, 400, 3), 250, np.uint8)
    mixed[:, :100] = 60
    mixed[:50, :] = 60
    mixed[50:250, 100:300] = 150
    assert page_sign(quad, evidence_planes(mixed)) == 0.0
