"""Tests for imgtool.scan.scan with user corners on a synthetic photo."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from imgtool.errors import InvalidParameterError
from imgtool.scan import scan


def _page(w=300, h=420):
    rng = np.random.default_rng(0)
    page = cv2.GaussianBlur(rng.uniform(0, 255, (h, w, 3)).astype(np.float32), (0, 0), 4)
    return cv2.normalize(page, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)


def test_scan_user_corners_recovers_page_and_aspect():
    page = _page()
    h, w = page.shape[:2]
    src = np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    quad = np.float32([[220, 90], [560, 140], [600, 560], [150, 520]])
    photo = cv2.warpPerspective(page, cv2.getPerspectiveTransform(src, quad), (800, 640),
                                flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT)
    res = scan(photo, corners=quad[[2, 0, 3, 1]], aspect=f"{w}:{h}")
    assert res.found and res.page.dtype == np.uint8 and res.page.shape[2] == 3
    got = cv2.resize(res.page, (w, h), interpolation=cv2.INTER_AREA).astype(float)
    inner = (slice(10, -10), slice(10, -10))
    corr = np.corrcoef(got[inner].ravel(), page[inner].astype(float).ravel())[0, 1]
    assert corr > 0.95
    assert res.size[0] / res.size[1] == pytest.approx(w / h, rel=0.01)
    rec = res.to_record()
    assert rec["found"] is True and len(rec["corners"]) == 4


def test_scan_rejects_bad_mode():
    with pytest.raises(InvalidParameterError):
        scan(np.zeros((10, 10), np.uint8), corners=[[0, 0], [9, 0], [9, 9], [0, 9]], mode="x")
