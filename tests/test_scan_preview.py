"""Scanning a photo read with a preview: detection on the reduced copy while the full image
decodes, refinement on the full image, the same page as from the full image alone."""

from __future__ import annotations

import numpy as np
import pytest

from imgtool.io import encode_image, read_image, read_photo
from imgtool.scan import detect, scan
from imgtool.synth import render_photo


@pytest.mark.parametrize("seed", [4000, 4001, 4002])
def test_preview_scan_finds_the_same_page(tmp_path, seed):
    photo = render_photo(seed, size=(2000, 1500))
    path = tmp_path / "photo.jpg"
    path.write_bytes(encode_image(photo.image, "jpeg", quality=95))
    plain = detect(read_image(path))
    with_preview = read_photo(path, preview=1000)
    assert with_preview.preview is not None and with_preview.reduced == 2
    found = detect(with_preview)
    assert found.found and plain.found
    assert np.abs(found.corners - plain.corners).max() < 1.0
    assert np.abs(found.corners - photo.corners).max() < 4.0
    assert found.size == pytest.approx(plain.size, abs=2)


def test_preview_scan_writes_the_same_page(tmp_path):
    photo = render_photo(4003, size=(2000, 1500))
    path = tmp_path / "photo.jpg"
    path.write_bytes(encode_image(photo.image, "jpeg", quality=95))
    plain = scan(read_image(path), mode="gray")
    page = scan(read_photo(path, preview=1000), mode="gray")
    assert page.page.shape == plain.page.shape
    assert np.mean(np.abs(page.page.astype(int) - plain.page)) < 2
