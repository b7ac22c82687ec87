"""Command-line papercuts (issue 16): verbosity after the command, folder outputs, optional
option values, stdout's default format, closed pipes, completion, messages, --rotate."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import scipy.ndimage as ndi

from imgtool.io import read_image, write_image
from tests.conftest import REPO, encode, listing, natural_image, run_cli

PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff"


# -- bare imgtool, -q / -v after the command -------------------------------------------------

def test_bare_imgtool_prints_help_on_stdout_and_exits_0():
    r = run_cli([])
    assert r.code == 0
    assert r.text.startswith("Usage: imgtool")
    assert "scan" in r.text and "Exit codes" in r.text
    assert r.err == ""


def test_quiet_after_the_command_silences_warnings(tmp_path):
    src = tmp_path / "deep.png"
    write_image(src, natural_image(dtype=np.uint16))  # 16-bit into JPEG: a warning
    loud = run_cli(["filter", "--average", "3", src, "-o", tmp_path / "a.jpg"])
    assert loud.code == 0 and "warning" in loud.err
    for args in (["-q", "filter", "--average", "3", src, "-o", tmp_path / "b.jpg"],
                 ["filter", "--average", "3", src, "-o", tmp_path / "c.jpg", "-q"],
                 ["filter", "--average", "3", "--quiet", src, "-o", tmp_path / "d.jpg"]):
        r = run_cli(args)
        assert r.code == 0 and r.err == "", args
    assert {"a.jpg", "b.jpg", "c.jpg", "d.jpg"} <= set(listing(tmp_path))


def test_verbose_after_the_command_shows_detail(png_file, tmp_path):
    quiet = run_cli(["edges", png_file, "-o", tmp_path / "a.png"])
    assert quiet.code == 0 and quiet.err == ""
    r = run_cli(["edges", png_file, "-o", tmp_path / "b.png", "-v"])
    assert r.code == 0
    assert "method gradient_otsu" in r.err  # the INFO line of edges
    assert (tmp_path / "b.png").read_bytes() == (tmp_path / "a.png").read_bytes()


# -- -o DIR ---------------------------------------------------------------------------------

def test_folder_input_with_one_image_writes_into_a_folder(tmp_path, png_file):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "only.png").write_bytes(png_file.read_bytes())
    r = run_cli(["filter", "--sobel", folder, "-o", tmp_path / "out"])
    assert r.code == 0, r.err
    assert listing(tmp_path / "out") == ["only.filter.png"]


def test_folder_input_refuses_an_image_file_as_output(tmp_path, png_file):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "only.png").write_bytes(png_file.read_bytes())
    r = run_cli(["filter", "--sobel", folder, "-o", tmp_path / "x.png"])
    assert r.code == 2
    assert "a folder input needs -o FOLDER" in r.err
    assert not (tmp_path / "x.png").exists()


def test_trailing_slash_means_a_folder(tmp_path, png_file):
    r = run_cli(["filter", "--sobel", png_file, "-o", f"{tmp_path / 'new'}{os.sep}"])
    assert r.code == 0, r.err
    assert listing(tmp_path / "new") == ["in.filter.png"]


# -- optional option values never take an input path ----------------------------------------

def test_readme_example_average_then_laplacian(tmp_path, png_file):
    out = tmp_path / "lap.tif"
    r = run_cli(["filter", "--average", "5", "--laplacian", png_file, "-o", out])
    assert r.code == 0, r.err
    img = read_image(png_file).astype(np.float64)
    # reference: scipy's box mean kept in uint8 (as documented), then the 4-neighbour
    # Laplacian, reflect-101 borders
    box = np.rint(ndi.uniform_filter(img, size=(5, 5, 1), mode="mirror"))
    lap = ndi.convolve(box, np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]])[:, :, None],
                       mode="mirror")
    got = read_image(out)
    assert got.dtype == np.float32 and got.shape == lap.shape
    diff = np.abs(got - lap)
    assert diff.max() <= 4.01 and diff.mean() < 0.05  # a box level rounded the other way


def test_laplacian_value_forms(tmp_path, png_file):
    eight = run_cli(["filter", "--laplacian", "8", png_file, "-o", tmp_path / "a.tif"])
    eq = run_cli(["filter", "--laplacian=8", png_file, "-o", tmp_path / "b.tif"])
    four = run_cli(["filter", "--laplacian", png_file, "-o", tmp_path / "c.tif"])
    assert eight.code == eq.code == four.code == 0
    a, b, c = (read_image(tmp_path / n) for n in ("a.tif", "b.tif", "c.tif"))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_an_input_named_like_a_value_is_an_input(tmp_path, png_file):
    (tmp_path / "8").write_bytes(png_file.read_bytes())  # a file called "8"
    r = run_cli(["filter", "--laplacian", "8", "-o", tmp_path / "out.tif"], cwd=tmp_path)
    assert r.code == 0, r.err
    four = run_cli(["filter", "--laplacian=4", png_file, "-o", tmp_path / "ref.tif"])
    assert four.code == 0
    assert np.array_equal(read_image(tmp_path / "out.tif"), read_image(tmp_path / "ref.tif"))


# -- stdout: the command's own format --------------------------------------------------------

@pytest.mark.parametrize("args, magic", [
    (["filter", "--sobel"], PNG),
    (["edges"], PNG),
    (["scan"], JPEG),
    (["scan", "--mode", "bw"], PNG),
    (["scan", "--mode", "enhanced"], JPEG),
])
def test_stdout_defaults_to_the_commands_format(tmp_path, args, magic):
    photo = tmp_path / "photo.png"
    photo.write_bytes(encode(_page_photo()))
    r = run_cli([*args, photo, "-o", "-"])
    assert r.code == 0, r.err
    assert r.out.startswith(magic)
    assert listing(tmp_path) == ["photo.png"]


def test_scan_from_stdin_to_stdout_without_format():
    r = run_cli(["scan", "-"], stdin=encode(_page_photo(), ".jpg"))
    assert r.code == 0, r.err
    assert r.out.startswith(JPEG)
    page = cv2.imdecode(np.frombuffer(r.out, np.uint8), cv2.IMREAD_UNCHANGED)
    assert abs(page.shape[1] / page.shape[0] - 500 / 700) < 0.03


def test_format_still_overrides(tmp_path, png_file):
    r = run_cli(["filter", "--sobel", png_file, "-o", "-", "--format", "tif"])
    assert r.code == 0 and r.out[:2] in (b"II", b"MM")


# -- a closed pipe ---------------------------------------------------------------------------

def test_closed_pipe_exits_141_quietly(tmp_path):
    src = tmp_path / "big.png"
    src.write_bytes(encode(natural_image(700, 700, 1)))  # BMP of 490 kB: more than a pipe holds
    proc = subprocess.Popen(
        [sys.executable, "-m", "imgtool", "filter", "--average", "3", src, "-o", "-",
         "--format", "bmp"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    head = proc.stdout.read(10)
    proc.stdout.close()  # as 'head -c 10' does
    err = proc.stderr.read()
    proc.stderr.close()
    proc.wait()
    assert head.startswith(b"BM")
    assert proc.returncode == 141
    assert err == b""
    assert listing(tmp_path) == ["big.png"]


# -- shell completion ------------------------------------------------------------------------

def _complete(words: str, tmp_path) -> list[str]:
    env = dict(os.environ, _IMGTOOL_COMPLETE="bash_complete", COMP_WORDS=words,
               COMP_CWORD=str(len(words.split(" ")) - 1))
    out = subprocess.run([sys.executable, "-m", "imgtool"], env=env, capture_output=True,
                         text=True, cwd=tmp_path, check=True)
    return out.stdout.split()


def test_completion_of_values_and_files(tmp_path):
    assert _complete("imgtool scan --aspect ", tmp_path) == [
        "plain,auto", "plain,a4", "plain,letter"]
    assert _complete("imgtool scan --aspect le", tmp_path) == ["plain,letter"]
    assert _complete("imgtool scan --mode ", tmp_path) == [
        "plain,color", "plain,enhanced", "plain,gray", "plain,bw"]
    assert "plain,auto" in _complete("imgtool scan --rotate ", tmp_path)
    assert _complete("imgtool scan --paper ", tmp_path) == [
        "plain,auto", "plain,page", "plain,a4", "plain,letter", "plain,legal"]
    assert _complete("imgtool scan --paper l", tmp_path) == ["plain,letter", "plain,legal"]
    assert _complete("imgtool edges --rotate ", tmp_path) == [
        "plain,0", "plain,90", "plain,180", "plain,270"]
    assert _complete("imgtool scan ph", tmp_path) == ["file,ph"]  # the shell lists files
    assert _complete("imgtool filter --sobel in", tmp_path) == ["file,in"]


def test_scan_mode_list_matches_the_library():
    from imgtool.cli.scan_cmd import MODES
    from imgtool.scan.enhance import MODES as LIBRARY_MODES

    assert MODES == LIBRARY_MODES


def test_kernel_takes_quiet_after_the_command():
    r = run_cli(["kernel", "--sigma", "1", "-q"])
    assert r.code == 0 and "radius" in r.text


# -- messages --------------------------------------------------------------------------------

def test_collision_message_shows_single_braces(tmp_path, png_file):
    (tmp_path / "b.png").write_bytes(png_file.read_bytes())
    r = run_cli(["filter", "--sobel", png_file, tmp_path / "b.png", "--name", "same.png",
                 "-o", tmp_path / "out"])
    assert r.code == 2
    assert "use --name with {stem} and {ext}" in r.err and "{{" not in r.err
    assert not (tmp_path / "out").exists()


def test_name_without_extension_is_refused_up_front(tmp_path, png_file):
    before = listing(tmp_path)
    r = run_cli(["filter", "--sobel", png_file, "--name", "{stem}-sobel"])
    assert r.code == 2
    assert "--name '{stem}-sobel' gives 'in-sobel', with no extension" in r.err
    assert listing(tmp_path) == before


def test_corners_far_outside_are_refused(tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(encode(_page_photo()))
    r = run_cli(["scan", photo, "--corners", "0,0 5000,0 5000,700 0,700",
                 "-o", tmp_path / "page.png"])
    assert r.code == 2
    assert "corner (5000, 0) lies far outside the 900x900 photo" in r.err
    assert listing(tmp_path) == ["photo.png"]
    # a corner a little beyond the frame (cut off by it) is fine
    ok = run_cli(["scan", photo, "--corners", "-20,100 520,100 520,800 -20,800",
                  "-o", tmp_path / "page.png"])
    assert ok.code == 0, ok.err


# -- --rotate --------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["filter", "--sobel"], ["edges"]])
@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_rotate_turns_the_result_clockwise(tmp_path, png_file, command, degrees):
    base = run_cli([*command, png_file, "-o", tmp_path / "a.png"])
    turned = run_cli([*command, png_file, "-o", tmp_path / "b.png", "--rotate", str(degrees)])
    assert base.code == turned.code == 0
    a, b = read_image(tmp_path / "a.png"), read_image(tmp_path / "b.png")
    # clockwise by 90: the first column, read bottom to top, becomes the first row
    assert np.array_equal(b, np.rot90(a, -degrees // 90))


def test_scan_rotate_turns_the_page_and_its_corners(tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(encode(_page_photo()))
    a = run_cli(["scan", photo, "--mode", "bw", "--json", "-o", tmp_path / "a.png"])
    b = run_cli(["scan", photo, "--mode", "bw", "--json", "-o", tmp_path / "b.png",
                 "--rotate", "90"])
    assert a.code == b.code == 0
    ra, rb = json.loads(a.text), json.loads(b.text)
    assert ra["rotate"] == 0 and rb["rotate"] == 90
    assert rb["size"] == ra["size"][::-1]
    assert rb["corners"] == [ra["corners"][3]] + ra["corners"][:3]  # TL was BL
    assert np.array_equal(read_image(tmp_path / "b.png"),
                          np.rot90(read_image(tmp_path / "a.png"), -1))


@pytest.mark.parametrize("turn", [1, 2, 3])
def test_scan_rotate_auto_makes_text_upright(tmp_path, turn):
    upright = _page_photo()
    (tmp_path / "up.png").write_bytes(encode(upright))
    (tmp_path / "turned.png").write_bytes(encode(np.ascontiguousarray(np.rot90(upright, turn))))
    a = run_cli(["scan", tmp_path / "up.png", "--mode", "gray", "-o", tmp_path / "a.png",
                 "--rotate", "auto", "--json"])
    b = run_cli(["scan", tmp_path / "turned.png", "--mode", "gray", "-o", tmp_path / "b.png",
                 "--rotate", "auto", "--json"])
    assert a.code == b.code == 0, b.err
    assert json.loads(a.text)["rotate"] == 0
    assert json.loads(b.text)["rotate"] == (90 * turn) % 360  # np.rot90 turns anticlockwise
    pa, pb = read_image(tmp_path / "a.png"), read_image(tmp_path / "b.png")
    assert pa.shape == pb.shape
    assert np.corrcoef(pa.ravel().astype(float), pb.ravel().astype(float))[0, 1] > 0.8


def test_rotate_with_detect_only_is_refused(tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(encode(_page_photo()))
    r = run_cli(["scan", photo, "--detect-only", "--rotate", "90"])
    assert r.code == 2 and "--rotate" in r.err
    assert r.out == b""


def _page_photo() -> np.ndarray:
    """A white page of text (500 x 700) on a dark desk, 900 x 900, upright."""
    rng = np.random.default_rng(5)
    words = ("the page of a letter holds lines of words that begin at the left margin and "
             "end where they may with tall and deep letters alike").split()
    page = np.full((700, 500, 3), 238, np.uint8)
    for i in range(26):
        line = " ".join(rng.choice(words, 7))[: 38 + int(rng.integers(0, 8))]
        cv2.putText(page, line, (30, 40 + 24 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (30, 30, 30), 1, cv2.LINE_AA)
    photo = np.full((900, 900, 3), 45, np.uint8)
    photo[100:800, 200:700] = page
    return photo
