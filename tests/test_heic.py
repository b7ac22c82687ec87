"""HEIC/HEIF input (pillow-heif): upright by the orientation it records, in folders, errors.

The HEIC files are made here with pillow-heif's own encoder (x265 in its wheels), lossless
with RGB 4:4:4 so the pixels can be compared exactly with the source; the orientation
tag is written the way iPhones do (EXIF orientation, which pillow-heif stores as the HEIF
rotation and mirror properties the format makes normative).
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from imgtool.errors import InputError
from imgtool.io import decode_image, read_image, read_photo
from tests.conftest import encode, listing, natural_image, run_cli

pillow_heif = pytest.importorskip("pillow_heif")
if not pillow_heif.libheif_info().get("encoders"):
    pytest.skip("this pillow-heif has no HEIC encoder to make test files",
                allow_module_level=True)

#: Orientation tag -> how the stored pixels are turned upright, written with NumPy alone
#: (not imgtool's apply_orientation): 6 = turn 90 degrees clockwise, and so on.
UPRIGHT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, k=-1),
    7: lambda a: np.rot90(a, k=-1)[::-1],
    8: lambda a: np.rot90(a, k=1),
}


def heic_bytes(bgr: np.ndarray, orientation: int = 1, *, lossless: bool = True,
               focal_35mm: int | None = None) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    if focal_35mm is not None:
        exif.get_ifd(0x8769)[0xA405] = focal_35mm
    buf = io.BytesIO()
    options = {"quality": -1, "chroma": 444, "matrix_coefficients": 0} if lossless else {
        "quality": 90}
    pillow_heif.from_pillow(Image.fromarray(np.ascontiguousarray(bgr[:, :, ::-1]))).save(
        buf, exif=exif.tobytes(), **options)
    return buf.getvalue()


@pytest.fixture
def source() -> np.ndarray:
    """A BGR test picture that no rotation or mirroring maps onto itself."""
    img = natural_image(48, 80, 3, seed=4)
    img[:8, :12] = (0, 0, 255)  # a red mark at the top left
    return img


@pytest.mark.parametrize("orientation", range(1, 9))
def test_heic_is_read_upright(tmp_path, source, orientation):
    data = heic_bytes(source, orientation)
    assert data[4:12] in (b"ftypheic", b"ftypheix")  # HEVC still image (4:4:4: heix)
    expected = UPRIGHT[orientation](source)
    np.testing.assert_array_equal(decode_image(data, name="x.heic"), expected)
    # through the command: imgtool filter on the HEIC equals it on the upright PNG
    heic, png = tmp_path / "photo.heic", tmp_path / "upright.png"
    heic.write_bytes(data)
    png.write_bytes(encode(expected))
    for src in (heic, png):
        r = run_cli(["filter", "--average", "3", src, "-o", tmp_path / f"{src.stem}.out.png"])
        assert r.code == 0 and r.err == "", r.err
    np.testing.assert_array_equal(read_image(tmp_path / "photo.out.png"),
                                  read_image(tmp_path / "upright.out.png"))


def test_orientation_is_applied_once_also_without_auto_orient(tmp_path, source):
    # The rotation is part of a HEIF image (its 'irot' property): every reader applies it,
    # and the EXIF tag that repeats it is not applied a second time.
    path = tmp_path / "p.heic"
    path.write_bytes(heic_bytes(source, 6))
    upright = np.rot90(source, k=-1)
    np.testing.assert_array_equal(read_image(path), upright)
    np.testing.assert_array_equal(read_image(path, auto_orient=False), upright)


def test_focal_length_from_heic_exif(tmp_path, source):
    path = tmp_path / "p.heic"
    path.write_bytes(heic_bytes(source, 6, focal_35mm=26))
    photo = read_photo(path)
    # 26 mm on the 43.27 mm film diagonal, across this image's diagonal (48 x 80)
    assert photo.focal == pytest.approx(26 / 43.2666 * np.hypot(48, 80), rel=1e-6)


def test_scan_reads_a_heic_photo(tmp_path):
    photo = np.full((420, 340, 3), 45, np.uint8)
    photo[60:357, 65:275] = 235  # a 210 x 297 page
    photo[100:104, 90:250] = 30
    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(heic_bytes(photo, 1, lossless=False))
    r = run_cli(["scan", path, "--json"])
    assert r.code == 0, r.err
    record = json.loads(r.text)
    assert record["found"] is True
    assert record["size"] == pytest.approx([210, 297], abs=3)
    assert (tmp_path / "IMG_0001.scan.jpg").exists()


def test_folders_pick_up_heic_and_heif(tmp_path, source):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.heic").write_bytes(heic_bytes(source))
    (folder / "b.HEIF").write_bytes(heic_bytes(source, 3))
    (folder / "c.png").write_bytes(encode(source))
    out = tmp_path / "out"
    r = run_cli(["filter", "--average", "3", folder, "-o", out])
    assert r.code == 0, r.err
    assert listing(out) == ["a.filter.png", "b.filter.png", "c.filter.png"]


def test_undecodable_heic_is_one_line_exit_3(tmp_path, source):
    data = heic_bytes(source)
    bad = tmp_path / "broken.heic"
    bad.write_bytes(data[: len(data) // 2])  # cut off: its coded data is missing
    out = tmp_path / "o.png"
    r = run_cli(["filter", "--average", "3", bad, "-o", out])
    assert r.code == 3
    assert r.err.startswith(f"imgtool: {bad}: cannot decode this HEIF file (")
    assert len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err
    assert not out.exists() and bad.read_bytes() == data[: len(data) // 2]
    with pytest.raises(InputError, match="cannot decode this HEIF file"):
        read_image(bad)
    # in a batch, the others are done and the summary names it (exit 6)
    good = tmp_path / "good.heic"
    good.write_bytes(data)
    r = run_cli(["filter", "--average", "3", bad, good, "-o", tmp_path / "batch"])
    assert r.code == 6 and "broken.heic: cannot decode this HEIF file" in r.err
    assert listing(tmp_path / "batch") == ["good.filter.png"]


def test_heic_claiming_a_huge_size_is_refused_before_decoding(tmp_path, source):
    data = bytearray(heic_bytes(source))
    at = data.index(b"ispe")
    data[at + 8 : at + 16] = (100_000).to_bytes(4, "big") * 2  # width, height
    path = tmp_path / "bomb.heic"
    path.write_bytes(bytes(data))
    r = run_cli(["filter", "--average", "3", path, "-o", tmp_path / "o.png"])
    assert r.code == 3
    assert "100000x100000 is 10000 megapixels, over the limit" in r.err
