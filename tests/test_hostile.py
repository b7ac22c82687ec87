"""Hostile and broken input through every command: a clean one-line error with a documented
exit code, or a valid result; never a traceback, a partial file or a touched input."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from imgtool.io import read_image, write_image
from tests.conftest import encode, listing, natural_image, run_cli
from tests.test_io import png_claiming

COMMANDS = {
    "filter": ["filter", "--gaussian", "--sigma", "1"],
    "edges": ["edges", "--auto"],
    "scan": ["scan"],
}
OK_CODES = {"filter": {0}, "edges": {0}, "scan": {0, 5}}


def _check_clean(r, allowed=(0,)):
    assert "Traceback" not in r.err
    if r.code not in allowed:
        lines = [ln for ln in r.err.splitlines() if ln.startswith("imgtool: ") and
                 "warning" not in ln]
        assert lines, r.err
        assert r.code in (2, 3, 4), r.err


def _gif_animation() -> bytes:
    frames = [Image.new("L", (16, 12), v) for v in (10, 120, 240)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    return buf.getvalue()


def _cmyk_jpeg() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(natural_image(40, 50)).convert("CMYK").save(buf, "JPEG")
    return buf.getvalue()


def _float_tiff_nan() -> bytes:
    img = natural_image(30, 30, 1, np.float32)
    img[5, 5] = np.nan
    return encode(img, ".tif")


VALID = {
    "one_pixel.png": encode(np.full((1, 1, 3), 128, np.uint8)),
    "one_row.png": encode(natural_image(1, 37, 1)),
    "one_col.png": encode(np.ascontiguousarray(natural_image(23, 2, 1)[:, :1])),
    "sixteen.png": encode(natural_image(40, 50, 3, np.uint16)),
    "alpha.png": encode(natural_image(40, 50, 4)),
    "gray.jpg": encode(natural_image(40, 50, 1), ".jpg"),
    "cmyk.jpg": _cmyk_jpeg(),
    "anim.gif": _gif_animation(),
}

BROKEN = {
    "empty.png": (b"", 3, "empty file"),
    "text.png": (b"Dear user,\nthis is not an image.\n", 3, "not an image"),
    "random.jpg": (bytes(np.random.default_rng(5).integers(0, 256, 4096, dtype=np.uint8)), 3,
                   "not an image"),
    "cut.jpg": (encode(natural_image(200, 200), ".jpg")[:1500], 3, "truncated JPEG"),
    "cut.png": (encode(natural_image(200, 200))[:900], 3, "truncated PNG"),
    "bomb.png": (png_claiming(100_000, 100_000), 3, "over the limit"),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("name", VALID)
def test_unusual_but_valid_images_give_results(tmp_path, command, name):
    src = tmp_path / name
    src.write_bytes(VALID[name])
    out = tmp_path / "out" / f"result.{'jpg' if command == 'scan' else 'png'}"
    out.parent.mkdir()
    r = run_cli([*COMMANDS[command], src, "-o", out])
    assert r.code in OK_CODES[command], r.err
    assert "Traceback" not in r.err
    result = read_image(out)
    assert result.size > 0
    if name == "anim.gif":
        assert "only the first of 3 frames" in r.err
    assert src.read_bytes() == VALID[name]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("name", BROKEN)
def test_broken_files_fail_cleanly(tmp_path, command, name):
    data, code, message = BROKEN[name]
    src = tmp_path / name
    src.write_bytes(data)
    out = tmp_path / "result.png"
    r = run_cli([*COMMANDS[command], src, "-o", out])
    assert r.code == code and message in r.err, r.err
    assert r.err.startswith(f"imgtool: {src}: ") and r.err.count("\n") == 1
    assert listing(tmp_path) == [name]
    assert src.read_bytes() == data


def test_sixteen_bit_and_alpha_kept_where_the_format_can(tmp_path):
    src = tmp_path / "a.png"
    img = natural_image(20, 20, 4, np.uint16)
    write_image(src, img)
    assert run_cli(["filter", "--average", "3", src, "-o", tmp_path / "b.png"]).code == 0
    out = read_image(tmp_path / "b.png")
    assert out.dtype == np.uint16 and out.shape == (20, 20, 4)
    r = run_cli(["filter", "--average", "3", src, "-o", tmp_path / "c.jpg"])
    assert r.code == 0 and "16-bit data written to JPEG as 8-bit" in r.err
    assert "no alpha channel" in r.err


def test_float_tiff_with_nan(tmp_path):
    src = tmp_path / "nan.tif"
    src.write_bytes(_float_tiff_nan())
    r = run_cli(["filter", "--average", "3", src, "-o", tmp_path / "f.tif"])
    assert r.code == 0, r.err
    out = read_image(tmp_path / "f.tif")
    assert np.isnan(out[4:7, 4:7]).all() and np.isfinite(out[20:, 20:]).all()  # NaN spreads
    for command in (["edges", "--auto"], ["scan"]):
        r = run_cli([*command, src, "-o", tmp_path / "x.png"])
        assert r.code == 3 and "NaN" in r.err
    assert not (tmp_path / "x.png").exists()


def test_bomb_refused_with_low_memory(tmp_path):
    src = tmp_path / "bomb.png"
    src.write_bytes(png_claiming(100_000, 100_000))
    code = (
        "import sys\n"
        "from imgtool.cli.main import main\n"
        f"args = ['filter', '--average', '3', {str(src)!r}, '-o', {str(tmp_path / 'o.png')!r}]\n"
        "try:\n    main(args)\n"
        "except SystemExit as e:\n    code = e.code\n"
        # VmHWM is this process image's peak; ru_maxrss would include the parent's (pytest)
        "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0]\n"
        "print(code, hwm.split()[1])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    exit_code, maxrss_kb = map(int, out.stdout.split())
    assert exit_code == 3
    assert maxrss_kb < 400 * 1024  # decoding would need 30 GB


def _seeds() -> list[bytes]:
    img = natural_image(24, 32)
    return [encode(img, ext) for ext in (".png", ".jpg", ".bmp", ".tif", ".webp")] + [
        _gif_animation()]


@st.composite
def mutated_image(draw):
    data = bytearray(draw(st.sampled_from(_seeds())))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "insert"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "cut":
            data = data[:pos]
        else:
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
    return bytes(data)


@pytest.mark.parametrize("command", COMMANDS)
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(mutated_image(), st.binary(max_size=300)))
def test_fuzzed_bytes_never_crash(tmp_path, command, data):
    out = tmp_path / "fuzz_out.png"
    if out.exists():
        out.unlink()
    r = run_cli([*COMMANDS[command], "-", "-o", out], stdin=data)
    _check_clean(r, allowed=tuple(OK_CODES[command]))
    if r.code in (2, 3, 4):
        assert not out.exists()
    else:
        assert read_image(out).size > 0
    assert not [n for n in listing(tmp_path) if n.endswith(".part")]
