"""Tests for imgtool.scan.enhance on a synthetic page with uneven lighting and text."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from imgtool.errors import InvalidParameterError
from imgtool.scan.enhance import enhance


def _lit_page():
    h, w = 300, 240
    text = np.zeros((h, w), np.uint8)
    for row in range(30, 280, 24):
        cv2.putText(text, "Hello text 123", (10, row), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1)
    mask = text > 127
    light = np.linspace(0.45, 1.0, w)[None, :] * np.ones((h, 1))
    light[:, 150:200] *= 0.6  # a shadow band
    page = 230.0 * light
    page[mask] = 40.0 * light[mask]
    return np.clip(page, 0, 255).astype(np.uint8), mask


def test_bw_is_binary_and_recovers_text():
    page, mask = _lit_page()
    bw = enhance(page, "bw")
    assert set(np.unique(bw)) <= {0, 255}
    ink = bw == 0
    tp = (ink & mask).sum()
    f1 = 2 * tp / (ink.sum() + mask.sum())
    assert f1 > 0.8
    background = ~cv2.dilate(mask.astype(np.uint8), np.ones((5, 5))).astype(bool)
    assert (bw[background] == 255).mean() > 0.98  # white under the shadow too


def test_gray_flattens_lighting():
    page, mask = _lit_page()
    gray = enhance(page, "gray")
    background = ~cv2.dilate(mask.astype(np.uint8), np.ones((5, 5))).astype(bool)
    assert gray[background].std() < 0.4 * page[background].std()


def test_color_whitens_tinted_paper_and_keeps_ink_and_size():
    page = np.empty((60, 50, 3), np.uint8)
    page[:] = (150, 175, 190)  # paper under warm, dim light (BGR)
    page[20:30, 10:40] = (120, 30, 30)  # blue ink, as lit
    out = enhance(page, "color")
    assert out.shape == page.shape and out.dtype == page.dtype
    assert (out[5, 5].astype(int) >= 235).all()  # the paper comes out white
    b, g, r = out[25, 25].astype(int)
    assert b > g + 60 and b > r + 60  # the ink stays blue
    with pytest.raises(InvalidParameterError):
        enhance(page, "sepia")


@pytest.mark.parametrize("channels", [None, 3, 4])
def test_color_matches_a_plain_percentile_statement(channels):
    # independent statement of the documented rule: each channel scaled so that its 95th
    # percentile (np.percentile on every step-th pixel) maps to 0.96 * 255, gain in [1, 2.5]
    rng = np.random.default_rng(7)
    shape = (700, 900) if channels is None else (700, 900, channels)
    page = np.clip(rng.normal(150, 40, shape), 0, 255).astype(np.uint8)
    if channels == 4:
        page[..., 3] = rng.integers(0, 256, shape[:2])
    out = enhance(page, "color")
    colour = page if channels is None else page[..., :3]
    step = max(1, int(np.sqrt(700 * 900 / 250_000)))
    sample = colour[::step, ::step].reshape(-1, 1 if channels is None else 3).astype(float)
    gain = np.clip(0.96 * 255 / np.percentile(sample, 95, axis=0), 1.0, 2.5)
    expected = np.clip(colour * gain + 0.5, 0, 255).astype(np.uint8)
    got = out if channels is None else out[..., :3]
    assert np.abs(got.astype(int) - expected).max() <= 1
    assert (got != expected).mean() < 0.01
    if channels == 4:
        assert np.array_equal(out[..., 3], page[..., 3])


@pytest.mark.parametrize("channels", [None, 3, 4])
def test_color_overwrite_gives_the_same_page_in_place_or_leaves_it(channels):
    rng = np.random.default_rng(11)
    shape = (120, 90) if channels is None else (120, 90, channels)
    page = np.clip(rng.normal(150, 40, shape), 0, 255).astype(np.uint8)
    original = page.copy()
    expected = enhance(page, "color")
    assert np.array_equal(page, original)  # without overwrite the page is left as it was
    got = enhance(page, "color", overwrite=True)
    assert np.array_equal(got, expected)
    if channels == 4:  # BGRA: a new array, the input is left alone
        assert not np.shares_memory(got, page) and np.array_equal(page, original)
    else:  # gray or BGR: written into the page itself
        assert np.shares_memory(got, page)
    readonly = original.copy()
    readonly.flags.writeable = False
    assert np.array_equal(enhance(readonly, "color", overwrite=True), expected)
