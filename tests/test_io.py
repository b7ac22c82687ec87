"""The I/O layer: formats, dtypes, EXIF orientation, size limits, atomic writes."""

from __future__ import annotations

import errno
import io
import math
import os
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from imgtool.errors import InputError, InvalidParameterError, OutputError
from imgtool.io import (
    ConversionWarning,
    InputWarning,
    decode_image,
    encode_image,
    format_for,
    read_image,
    write_bytes,
    write_image,
)
from tests.conftest import REPO, encode, listing, natural_image


def png_claiming(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG whose header claims width x height pixels."""

    def chunk(kind, data):
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_png_round_trip_keeps_dtype_and_channels(tmp_path, dtype, channels):
    img = natural_image(20, 30, channels, dtype)
    write_image(tmp_path / "x.png", img)
    back = read_image(tmp_path / "x.png")
    assert back.dtype == dtype and back.shape == img.shape
    np.testing.assert_array_equal(back, img)


def test_float_tiff_round_trip_keeps_values_and_nan(tmp_path):
    img = natural_image(10, 12, 1, np.float32) - 0.5
    img[0, 0] = np.nan
    write_image(tmp_path / "f.tif", img)
    back = read_image(tmp_path / "f.tif")
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, img)


def test_any_path_spaces_and_non_ascii(tmp_path):
    folder = tmp_path / "mes données été"
    folder.mkdir()
    p = folder / "photo 1 ünïcode.png"
    write_image(p, natural_image())
    assert read_image(p).shape == (64, 80, 3)


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
def test_exif_orientation_matches_pillow(tmp_path, orientation, fmt):
    base = cv2.resize(natural_image(6, 10), (80, 48), interpolation=cv2.INTER_NEAREST)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    extra = {"quality": 100} if fmt == "JPEG" else {}
    Image.fromarray(base[:, :, ::-1]).save(buf, fmt, exif=exif.tobytes(), **extra)
    data = buf.getvalue()
    ours = decode_image(data)
    reference = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))))[:, :, ::-1]
    assert ours.shape == reference.shape
    assert np.abs(ours.astype(int) - reference).max() <= 8  # JPEG/WebP loss only
    raw = decode_image(data, auto_orient=False)
    assert raw.shape == base.shape  # without auto-orient: as stored


def test_exif_orientation_applies_to_16_bit_and_alpha():
    img = np.zeros((20, 40, 4), np.uint16)
    img[:5, :5] = 65535  # marker in the stored top-left
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: upright = 90 degrees clockwise
    # Pillow cannot write 16-bit RGBA; add an eXIf chunk to OpenCV's PNG by hand.
    data = encode(img)
    payload = exif.tobytes()[6:] if exif.tobytes().startswith(b"Exif") else exif.tobytes()
    chunk = struct.pack(">I", len(payload)) + b"eXIf" + payload
    chunk += struct.pack(">I", zlib.crc32(b"eXIf" + payload))
    data = data[:33] + chunk + data[33:]
    out = decode_image(data)
    assert out.shape == (40, 20, 4) and out.dtype == np.uint16
    assert out[:5, -5:].min() == 65535  # the marker moved to the top-right


def test_decompression_bomb_is_refused_before_decoding():
    with pytest.raises(InputError, match="100000x100000 .* over the limit"):
        decode_image(png_claiming(100_000, 100_000), name="bomb.png")


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty file"),
        (b"hello, this is text\n" * 10, "not an image"),
        (bytes(np.random.default_rng(1).integers(0, 256, 2000, dtype=np.uint8)), "not an image"),
        (encode(natural_image(100, 100))[:-300], "truncated PNG"),
        (encode(natural_image(100, 100), ".jpg")[:400], "truncated JPEG"),
    ],
)
def test_bad_bytes_give_clear_input_errors(data, message):
    with pytest.raises(InputError, match=message):
        decode_image(data, name="x")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_image(tmp_path / "nope.png")
    with pytest.raises(InputError, match="is a folder"):
        read_image(tmp_path)


@pytest.mark.skipif(not os.path.exists("/dev/zero") or not hasattr(os, "mkfifo"),
                    reason="needs /dev/zero and named pipes")
def test_endless_device_is_refused_and_a_named_pipe_is_read(tmp_path, monkeypatch):
    import threading

    import imgtool.io.read as read_module

    monkeypatch.setattr(read_module, "MAX_STREAM_BYTES", 1 << 20)
    with pytest.raises(InputError, match="/dev/zero: more than 1 MiB of input"):
        read_image("/dev/zero")
    image = natural_image(30, 40, 3, seed=3)
    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(encode(image, ".png")))
    writer.start()
    try:
        assert np.array_equal(read_image(fifo), image)
    finally:
        writer.join()


def test_cmyk_jpeg_and_gray_jpeg_and_gif():
    buf = io.BytesIO()
    Image.new("CMYK", (8, 6), (0, 255, 255, 0)).save(buf, "JPEG")  # pure red in CMYK
    cmyk = decode_image(buf.getvalue())
    assert cmyk.shape == (6, 8, 3)
    b, g, r = cmyk[3, 4].astype(int)
    assert r > 200 and g < 60 and b < 60
    gray = decode_image(encode(natural_image(10, 10, 1), ".jpg"))
    assert gray.ndim == 2
    frames = [Image.new("L", (6, 5), v) for v in (10, 200)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    with pytest.warns(InputWarning, match="only the first of 2 frames"):
        first = decode_image(buf.getvalue())
    assert first.shape[:2] == (5, 6) and abs(int(first[0, 0, 0]) - 10) <= 2


def test_write_is_atomic_and_refuses_to_clobber(tmp_path):
    target = tmp_path / "out.png"
    write_image(target, natural_image())
    before = target.read_bytes()
    with pytest.raises(OutputError, match="exists"):
        write_image(target, np.zeros((3, 3), np.uint8))
    assert target.read_bytes() == before
    write_image(target, np.zeros((3, 3), np.uint8), overwrite=True)
    assert read_image(target).shape == (3, 3)
    assert listing(tmp_path) == ["out.png"]


def test_never_writes_over_an_input(tmp_path):
    src = tmp_path / "in.png"
    write_image(src, natural_image())
    before = src.read_bytes()
    with pytest.raises(OutputError, match="output is the input"):
        write_image(src, np.zeros((3, 3), np.uint8), overwrite=True, inputs=[src])
    os.link(src, tmp_path / "hard.png")  # the same file under another name
    with pytest.raises(OutputError, match="output is the input"):
        write_image(tmp_path / "hard.png", np.zeros((3, 3), np.uint8), overwrite=True,
                    inputs=[src])
    assert src.read_bytes() == before


def test_disk_full_leaves_nothing(tmp_path, monkeypatch):
    real_fdopen = os.fdopen

    class Full(io.RawIOBase):
        def __init__(self, fd):
            self.f = real_fdopen(fd, "wb")

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self):
            self.f.close()

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: Full(fd))
    with pytest.raises(OutputError, match="no space left"):
        write_bytes(tmp_path / "x.png", b"data")
    assert listing(tmp_path) == []


def test_unwritable_and_missing_folder(tmp_path, monkeypatch):
    with pytest.raises(OutputError, match="does not exist"):
        write_image(tmp_path / "no" / "x.png", np.zeros((2, 2), np.uint8))
    monkeypatch.setattr(os, "access", lambda *a, **k: False)
    with pytest.raises(OutputError, match="not writable"):
        write_image(tmp_path / "x.png", np.zeros((2, 2), np.uint8))


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    stale = tmp_path / ".out.png.abc.imgtool-999999999.part"  # no such pid
    stale.write_bytes(b"half a file")
    mine = tmp_path / f".other.png.abc.imgtool-{os.getpid()}.part"
    mine.write_bytes(b"in progress")
    write_image(tmp_path / "out.png", np.zeros((2, 2), np.uint8))
    assert not stale.exists() and mine.exists()


def test_unknown_extension_and_format_names():
    with pytest.raises(OutputError, match="unknown output extension '.xyz'"):
        format_for("a.xyz")
    assert format_for("-", "JPG") == "jpeg"
    with pytest.raises(InvalidParameterError, match="needs --format"):
        format_for("-")


def test_conversions_warn_and_keep_content():
    img16 = np.repeat(natural_image(32, 32, 1, np.uint16)[:, :, None], 3, axis=2)  # no chroma
    with pytest.warns(ConversionWarning, match="16-bit"):
        data = encode_image(img16, "jpeg", quality=100)
    back = decode_image(data)
    assert back.dtype == np.uint8
    assert np.abs(back.astype(int) - np.rint(img16 / 257.0)).max() <= 3  # JPEG loss only
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 3] = 0  # fully transparent: white after compositing
    with pytest.warns(ConversionWarning, match="alpha"):
        flat = decode_image(encode_image(rgba, "jpeg", quality=100))
    assert flat.min() >= 250


def _pillow_with_focal(fmt: str, size=(80, 60), focal=None, recorded=None, orientation=1):
    exif = Image.Exif()
    exif[0x0112] = orientation
    sub = exif.get_ifd(0x8769)
    if focal is not None:
        sub[0xA405] = focal
    if recorded is not None:
        sub[0xA002], sub[0xA003] = recorded
    buf = io.BytesIO()
    base = cv2.resize(natural_image(6, 10), size, interpolation=cv2.INTER_NEAREST)
    Image.fromarray(base[:, :, ::-1]).save(buf, fmt, exif=exif.tobytes())
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("orientation", [1, 6])
def test_focal_length_written_by_pillow_is_read(tmp_path, fmt, orientation):
    from imgtool.io import read_photo

    path = tmp_path / f"f.{fmt.lower()}"
    path.write_bytes(_pillow_with_focal(fmt, focal=28, recorded=(80, 60),
                                        orientation=orientation))
    photo = read_photo(path)
    # 35 mm-equivalent: the angle of view across the 36 x 24 mm frame's diagonal
    expected = 28 / math.hypot(36, 24) * math.hypot(80, 60)
    assert photo.focal == pytest.approx(expected, rel=1e-4)
    assert photo.image.shape[:2] == ((60, 80) if orientation == 1 else (80, 60))


def test_focal_length_absent_zero_or_from_a_cropped_photo_is_none(tmp_path):
    from imgtool.io import read_photo

    cases = {
        "none.jpg": _pillow_with_focal("JPEG"),
        "zero.jpg": _pillow_with_focal("JPEG", focal=0),
        # the camera recorded 4:3, the file is 1:1: cropped, the angle of view changed
        "crop.jpg": _pillow_with_focal("JPEG", size=(60, 60), focal=28, recorded=(4000, 3000)),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        assert read_photo(tmp_path / name).focal is None, name
    # resized, not cropped: the proportions match, the focal length scales with the image
    (tmp_path / "small.jpg").write_bytes(
        _pillow_with_focal("JPEG", focal=28, recorded=(4000, 3000)))
    assert read_photo(tmp_path / "small.jpg").focal == pytest.approx(28 / 43.2666 * 100, 1e-4)


def test_exif_block_we_write_is_read_by_pillow():
    from imgtool.io._exif import exif_app1

    data = encode(natural_image(), ".jpg")
    data = data[:2] + exif_app1(focal_35mm=31, size=(80, 64)) + data[2:]
    sub = Image.open(io.BytesIO(data)).getexif().get_ifd(0x8769)
    assert sub[0xA405] == 31 and (sub[0xA002], sub[0xA003]) == (80, 64)
    assert decode_image(data).shape == (64, 80, 3)  # the image itself is untouched


def test_real_phone_photo_focal_length():
    from imgtool.io import read_photo

    photo = REPO.parent / "shared" / "data" / "real-photos" / "mzucker_boston_cooking_a.jpg"
    if not photo.exists():
        pytest.skip("../shared/data/real-photos is not beside the repo")
    # an iPhone 6: FocalLengthIn35mmFilm 29, 3264 x 2448 stored sideways (orientation 6)
    assert read_photo(photo).focal == pytest.approx(29 / 43.2666 * 4080, rel=1e-4)


def _big_jpeg(size=(2000, 1500), orientation=1, focal=None) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    if focal is not None:
        exif.get_ifd(0x8769)[0xA405] = focal
    base = cv2.resize(natural_image(48, 64), size, interpolation=cv2.INTER_CUBIC)
    buf = io.BytesIO()
    Image.fromarray(base[:, :, ::-1]).save(buf, "JPEG", quality=90, exif=exif.tobytes())
    return buf.getvalue()


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_preview_is_the_upright_photo_reduced(tmp_path, orientation):
    from imgtool.io import read_photo

    path = tmp_path / "big.jpg"
    path.write_bytes(_big_jpeg(orientation=orientation, focal=26))
    plain = read_photo(path)
    photo = read_photo(path, preview=1000)
    assert photo.reduced == 2  # 2000 / 2 = 1000; / 4 = 500 is too small
    full = plain.image
    assert photo.size == (full.shape[1], full.shape[0])
    assert photo.focal == pytest.approx(plain.focal)
    assert np.array_equal(photo.image, full)  # the background decode gives the same image
    h, w = full.shape[:2]
    assert photo.preview.shape == (h // 2, w // 2, 3)
    # pixel i covers full-resolution pixels 2i, 2i + 1: the preview is their average
    box = cv2.resize(full, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    diff = np.abs(photo.preview.astype(int) - box)
    assert np.median(diff) <= 2 and np.mean(diff) < 3


def test_no_preview_for_small_jpegs_other_formats_and_odd_sizes(tmp_path):
    from imgtool.io import read_photo

    # 1600 / 2 is under 1000; 2400 / 2 = 1200 would need resizing again; 2 does not
    # divide 1501 rows
    cases = {"small.jpg": _big_jpeg((1600, 1200)), "large.jpg": _big_jpeg((2400, 1800)),
             "odd.jpg": _big_jpeg((2002, 1501)),
             "big.png": encode(cv2.resize(natural_image(), (2000, 1500)))}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        photo = read_photo(tmp_path / name, preview=1000)
        assert photo.preview is None and photo.reduced == 1, name
        assert not photo.decoding
        assert np.array_equal(photo.image, read_photo(tmp_path / name).image), name


def test_preview_reads_report_bad_files_as_plain_reads_do(tmp_path):
    from imgtool.io import read_photo

    good = _big_jpeg()
    noise = np.random.default_rng(0).integers(0, 256, len(good) - 1502, dtype=np.uint8)
    broken = {"truncated.jpg": good[:5000],
              "zeroed.jpg": good[:700] + bytes(len(good) - 702) + good[-2:],
              "garbled.jpg": good[:1500] + noise.tobytes() + good[-2:]}
    for name, data in broken.items():
        path = tmp_path / name
        path.write_bytes(data)
        try:
            plain = read_photo(path).image
        except InputError as exc:
            with pytest.raises(InputError, match=str(exc).split(": ", 1)[1]):
                read_photo(path, preview=1000).image  # noqa: B018
        else:
            assert np.array_equal(read_photo(path, preview=1000).image, plain)
