"""The command line: filter chains, kernel report, parameter errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import scipy.ndimage as ndi

from imgtool.io import read_image, write_image
from tests.conftest import listing, natural_image, run_cli


def test_help_and_completion_do_not_import_numba_or_cv2():
    code = (
        "import sys\n"
        "from imgtool.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "for name in ('filter', 'edges', 'scan', 'kernel'):\n"
        "    try:\n        main([name, '--help'])\n    except SystemExit:\n        pass\n"
        "assert 'numba' not in sys.modules and 'cv2' not in sys.modules, 'heavy import'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    env_code = "import os, sys; os.environ['_IMGTOOL_COMPLETE'] = 'bash_source'\n" + code
    subprocess.run([sys.executable, "-c", env_code], check=True, capture_output=True)


def test_version_and_python_m():
    out = subprocess.run([sys.executable, "-m", "imgtool", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "imgtool, version 0.1.0"


def test_filter_gaussian_matches_scipy_with_our_kernel(tmp_path):
    from imgtool.filters import gaussian_kernel

    img = natural_image(40, 50, 1)
    write_image(tmp_path / "in.png", img)
    r = run_cli(["filter", "--gaussian", "--sigma", "1.5", tmp_path / "in.png",
                 "-o", tmp_path / "out.png"])
    assert r.code == 0, r.err
    k = gaussian_kernel(1.5, 0.001)
    ref = ndi.correlate1d(ndi.correlate1d(img.astype(np.float64), k, 0, mode="mirror"), k, 1,
                          mode="mirror")
    out = read_image(tmp_path / "out.png")
    assert out.dtype == np.uint8
    assert np.abs(out.astype(float) - np.rint(ref)).max() <= 1


def test_filter_steps_run_in_command_line_order(tmp_path):
    img = natural_image(40, 50, 1, np.float32)
    write_image(tmp_path / "in.tif", img)
    a = run_cli(["filter", "--average", "5", "--laplacian", "--border", "constant",
                 tmp_path / "in.tif", "-o", tmp_path / "a.tif"])
    b = run_cli(["filter", "--laplacian", "--average", "5", "--border", "constant",
                 tmp_path / "in.tif", "-o", tmp_path / "b.tif"])
    assert a.code == b.code == 0, a.err + b.err
    first = read_image(tmp_path / "a.tif")
    second = read_image(tmp_path / "b.tif")
    lap = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], float)
    box = np.ones((5, 5)) / 25
    ref_a = ndi.correlate(ndi.correlate(img.astype(float), box, mode="constant"), lap,
                          mode="constant")
    np.testing.assert_allclose(first, ref_a, atol=1e-4)
    inner = (slice(4, -4), slice(4, -4))
    np.testing.assert_allclose(first[inner], second[inner], atol=1e-4)  # commute inside
    assert np.abs(first - second).max() > 1e-3  # and differ near the zero-padded border


def test_alpha_passes_through_untouched(tmp_path):
    img = natural_image(30, 30, 4)
    write_image(tmp_path / "in.png", img)
    r = run_cli(["filter", "--gaussian", "--sigma", "2", tmp_path / "in.png", "-o",
                 tmp_path / "o.png"])
    assert r.code == 0, r.err
    out = read_image(tmp_path / "o.png")
    np.testing.assert_array_equal(out[:, :, 3], img[:, :, 3])
    assert not np.array_equal(out[:, :, :3], img[:, :, :3])


def test_sixteen_bit_kept(tmp_path):
    img = natural_image(30, 30, 1, np.uint16)
    write_image(tmp_path / "in.png", img)
    assert run_cli(["filter", "--average", "3", tmp_path / "in.png", "-o",
                    tmp_path / "o.png"]).code == 0
    out = read_image(tmp_path / "o.png")
    assert out.dtype == np.uint16
    ref = ndi.uniform_filter(img.astype(float), 3, mode="mirror")
    assert np.abs(out - np.rint(ref)).max() <= 1


def test_sobel_written_with_documented_mappings(tmp_path):
    import cv2

    img = natural_image(30, 40, 1)
    write_image(tmp_path / "in.png", img)
    gx = cv2.Sobel(img, cv2.CV_64F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT_101)
    gy = cv2.Sobel(img, cv2.CV_64F, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT_101)
    mag = np.hypot(gx, gy)
    assert run_cli(["filter", "--sobel", tmp_path / "in.png", "-o", tmp_path / "m.tif"]).code == 0
    np.testing.assert_allclose(read_image(tmp_path / "m.tif"), mag, rtol=1e-4, atol=1e-3)
    assert run_cli(["filter", "--sobel", tmp_path / "in.png", "-o", tmp_path / "m.png"]).code == 0
    assert np.abs(read_image(tmp_path / "m.png") - np.clip(np.rint(mag), 0, 255)).max() <= 1


def test_kernel_command_reports_radius_mass_and_weights():
    r = run_cli(["kernel", "--sigma", "2", "--epsilon", "0.01", "--json"])
    assert r.code == 0, r.err
    info = json.loads(r.text)
    assert info["radius"] == 5 and info["width"] == 11
    x = np.arange(-5, 6)
    ref = np.exp(-(x**2) / 8.0)
    np.testing.assert_allclose(info["weights"], ref / ref.sum(), rtol=1e-9)
    assert 0.98 < info["kept_mass"] < 1.0
    text = run_cli(["kernel", "--sigma", "1"])
    assert "radius" in text.text and text.code == 0


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["filter", "--gaussian", "--sigma", "0"], 2, "--sigma must be > 0"),
        (["filter", "--gaussian", "--sigma", "-1"], 2, "--sigma must be > 0"),
        (["filter", "--gaussian", "--sigma", "1", "--epsilon", "1.5"], 2, "--epsilon"),
        (["filter", "--gaussian", "--sigma", "1", "--epsilon", "0"], 2, "--epsilon"),
        (["filter", "--gaussian"], 2, "needs --sigma"),
        (["filter", "--average", "0"], 2, "odd size"),
        (["filter", "--average", "4"], 2, "odd size"),
        (["filter", "--average", "3", "--border", "mirror"], 2, "Invalid value for '--border'"),
        (["filter", "--laplacian", "6"], 2, "Invalid value"),
        (["filter"], 2, "no filter given"),
        (["edges", "--low", "200", "--high", "100"], 2, "above --high"),
        (["edges", "--low", "-1", "--high", "100"], 2, ">= 0"),
        (["edges", "--low", "10"], 2, "go together"),
        (["edges", "--auto", "--low", "1", "--high", "2"], 2, "either --auto"),
        (["edges", "--auto", "magic"], 2, "unknown --auto method 'magic'"),
    ],
)
def test_bad_parameters_exit_2_and_write_nothing(tmp_path, png_file, args, code, message):
    out = tmp_path / "out.png"
    before = png_file.read_bytes()
    r = run_cli([*args, png_file, "-o", out])
    assert r.code == code, r.err
    assert message in r.err
    assert "Traceback" not in r.err
    assert not out.exists()
    assert png_file.read_bytes() == before


@pytest.mark.parametrize("command", [["filter", "--average", "3"], ["edges", "--auto"]])
def test_input_and_output_errors(tmp_path, png_file, command):
    def run(*args):
        return run_cli([*command, *args])

    r = run(tmp_path / "missing.png", "-o", tmp_path / "o.png")
    assert (r.code, "missing.png: no such file" in r.err) == (3, True), r.err
    (tmp_path / "empty.png").write_bytes(b"")
    r = run(tmp_path / "empty.png", "-o", tmp_path / "o.png")
    assert r.code == 3 and "empty.png: empty file" in r.err
    (tmp_path / "notes.txt").write_text("not an image\n")
    r = run(tmp_path / "notes.txt", "-o", tmp_path / "o.png")
    assert r.code == 3 and "notes.txt: not an image" in r.err
    empty_dir = tmp_path / "empty_dir"
    empty_dir.mkdir()
    r = run(empty_dir, "-o", tmp_path / "o.png")
    assert r.code == 3 and "folder holds no images" in r.err
    before = png_file.read_bytes()
    r = run(png_file, "-o", png_file, "--overwrite")
    assert r.code == 4 and "output is the input" in r.err
    assert png_file.read_bytes() == before
    (tmp_path / "exists.png").write_bytes(b"keep me")
    r = run(png_file, "-o", tmp_path / "exists.png")
    assert r.code == 4 and "exists (use --overwrite" in r.err
    assert (tmp_path / "exists.png").read_bytes() == b"keep me"
    r = run(png_file, "-o", tmp_path / "out.xyz")
    assert r.code == 4 and "unknown output extension" in r.err
    assert "Traceback" not in r.err
    assert listing(tmp_path) == ["empty.png", "empty_dir", "exists.png", "in.png", "notes.txt"]


def test_kernel_bad_sigma_is_one_line():
    r = run_cli(["kernel", "--sigma", "0"])
    assert r.code == 2 and r.err == "imgtool: --sigma must be > 0, got 0\n"
    r = run_cli(["kernel", "--sigma", "x"])
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1 and "'x'" in r.err


def test_verbose_shows_traceback_for_errors(tmp_path):
    r = run_cli(["-v", "filter", "--average", "3", tmp_path / "missing.png", "-o",
                 tmp_path / "o.png"])
    assert r.code == 3 and "no such file" in r.err


def test_edges_method_list_matches_library():
    from imgtool import edges
    from imgtool.cli.edges_cmd import AUTO_METHODS

    assert tuple(AUTO_METHODS) == tuple(edges.METHODS)


def test_cli_default_pixel_limit_is_the_io_layers():
    """The CLI keeps its own copy (so --help need not import numpy); they must agree."""
    from imgtool.cli.options import DEFAULT_MAX_MEGAPIXELS as cli_default
    from imgtool.io import DEFAULT_MAX_MEGAPIXELS as io_default

    assert cli_default == io_default
