"""The detector's CIELAB kernel against scikit-image's ``rgb2lab`` (an independent
implementation of the same definition), over a grid of all 8-bit colours."""

from __future__ import annotations

import numpy as np
from skimage.color import rgb2lab

from imgtool.kernels import lab
from imgtool.kernels._tables import lab_tables


def _grid(step: int) -> np.ndarray:
    """Every colour whose channels are multiples of ``step`` or 255, as a BGR image."""
    levels = np.unique(np.r_[np.arange(0, 256, step), 255]).astype(np.uint8)
    b, g, r = np.meshgrid(levels, levels, levels, indexing="ij")
    return np.ascontiguousarray(np.stack([b, g, r], -1).reshape(len(levels), -1, 3))


def test_a_and_b_match_scikit_image():
    bgr = _grid(3)
    out = np.full((3, *bgr.shape[:2]), -1.0, np.float32)
    gain = 2.0
    lab.lab_ab_u8(bgr, *lab_tables(), gain, out)
    ref = rgb2lab(bgr[..., ::-1], illuminant="D65", observer="2")
    # the cube root is interpolated in a table: off by a few thousandths of a unit at most
    np.testing.assert_allclose(out[1] / gain - 128, ref[..., 1], atol=0.01)
    np.testing.assert_allclose(out[2] / gain - 128, ref[..., 2], atol=0.01)
    assert (out[0] == -1).all()  # the grey plane is the caller's


def test_greys_have_no_colour():
    v = np.arange(256, dtype=np.uint8)
    bgr = np.ascontiguousarray(np.repeat(v[None, :, None], 3, axis=2))
    out = np.zeros((3, 1, 256), np.float32)
    lab.lab_ab_u8(bgr, *lab_tables(), 1.0, out)
    np.testing.assert_allclose(out[1:], 128.0, atol=0.01)
