"""CLI review findings: unwritable outputs, batches where every input fails, parameters
checked once up front, --tile on other formats, messages, --json records, conflicting
options, help and README text that must match what the commands do."""

from __future__ import annotations

import json
import os
import re

import pytest

from imgtool.errors import OutputError
from imgtool.io import write as io_write
from imgtool.io import write_image
from tests.conftest import REPO, listing, natural_image, run_cli

CORNERS = "4,4 75,4 75,55 4,55"  # a page given by hand: scan without detection (fast)


@pytest.fixture
def two_pngs(tmp_path):
    paths = [tmp_path / "gray.png", tmp_path / "one.png"]
    for i, p in enumerate(paths):
        write_image(p, natural_image(60, 80, 1, seed=i))
    return paths


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# -- 1. an output folder the system refuses --------------------------------------------------

def test_write_bytes_names_the_output_when_its_folder_takes_no_file(tmp_path, monkeypatch):
    # the folder went away between the check and the write (or the system refuses files
    # there, as /proc does): an OutputError naming the output, not a raw FileNotFoundError
    monkeypatch.setattr(io_write, "check_output", lambda *a, **k: None)
    target = tmp_path / "gone" / "x.png"
    with pytest.raises(OutputError, match=re.escape(f"{target}: cannot write (")):
        io_write.write_bytes(target, b"data")


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
@pytest.mark.parametrize("command", [
    ["scan", "--corners", CORNERS], ["edges"], ["filter", "--sobel"]])
@pytest.mark.parametrize("name", ["x.png", "x.pdf"])
def test_unwritable_system_folder_is_exit_4_naming_the_output(tmp_path, command, name):
    src = tmp_path / "in.png"
    write_image(src, natural_image(60, 80, 3))
    out = f"/proc/{name}"
    r = run_cli([*command, src, "-o", out])
    assert r.code == 4, r.err
    line = one_line(r.err)
    assert line.startswith(f"imgtool: {out}: ") and "internal error" not in line
    assert listing(tmp_path) == ["in.png"]


# -- 2. every input of a batch fails: its own code -------------------------------------------

@pytest.fixture
def unreadable(tmp_path):
    (tmp_path / "text.jpg").write_text("hello")
    (tmp_path / "trunc.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 40)
    return [tmp_path / "text.jpg", tmp_path / "trunc.jpg"]


@pytest.mark.parametrize("out", ["d/", "x.pdf"])
def test_every_input_unreadable_exits_3_for_a_folder_and_a_pdf(tmp_path, unreadable, out):
    r = run_cli(["scan", *unreadable, "-o", tmp_path / out])
    assert r.code == 3, r.err
    assert "text.jpg" in r.err and "trunc.jpg" in r.err


def test_every_input_failing_for_different_reasons_exits_with_the_lowest(tmp_path, two_pngs):
    out = tmp_path / "od"
    out.mkdir()
    (out / "one.filter.png").write_bytes(b"keep")  # one.png: its output exists (4)
    (tmp_path / "gray.png").write_text("not an image")  # gray.png: unreadable (3)
    r = run_cli(["filter", "--sobel", *two_pngs, "-o", out])
    assert r.code == 3, r.err
    (tmp_path / "gray.png").unlink()
    write_image(tmp_path / "gray.png", natural_image(60, 80, 1))
    r = run_cli(["filter", "--sobel", *two_pngs, "-o", out])
    assert r.code == 6, r.err  # one written, one refused: some failed


# -- 9. each failure said once ---------------------------------------------------------------

def test_each_batch_failure_is_said_once_then_counted(tmp_path, unreadable, two_pngs):
    r = run_cli(["filter", "--sobel", *unreadable, *two_pngs, "-o", tmp_path / "od"])
    assert r.code == 6
    lines = r.err.strip().splitlines()
    assert sum("text.jpg" in line for line in lines) == 1
    assert sum("trunc.jpg" in line for line in lines) == 1
    assert lines[-1] == "imgtool: 2 of 4 inputs failed"
    assert len(lines) == 3


# -- 3. parameters checked once, before any input is read ------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    (["filter", "--gaussian", "--sigma", "inf"], "--sigma must be finite, got inf"),
    (["filter", "--gaussian", "--sigma", "1e6"], "--epsilon 1e-08 or smaller"),
    (["filter", "--gaussian", "--sigma", "nan"], "--sigma must be > 0, got nan"),
    (["edges", "--sigma", "inf"], "--sigma must be finite, got inf"),
    (["edges", "--sigma", "1e6"], "use --sigma 104 or less"),
    (["edges", "--low", "1", "--high", "inf"], "finite"),
])
def test_bad_parameters_are_one_line_before_any_work(tmp_path, two_pngs, args, message):
    out = tmp_path / "od"
    r = run_cli([*args, *two_pngs, "-o", f"{out}{os.sep}"])
    assert r.code == 2, r.err
    line = one_line(r.err)
    assert message in line and "gray.png" not in line and "None" not in line
    assert not out.exists()


def test_gaussian_refusal_names_an_epsilon_that_works(tmp_path, two_pngs):
    r = run_cli(["filter", "--gaussian", "--sigma", "150", two_pngs[0], "-o", tmp_path / "s.png"])
    assert r.code == 2
    suggested = re.search(r"use --epsilon (\S+) or smaller", one_line(r.err)).group(1)
    assert "keeps only 83.9%" in r.err
    r = run_cli(["filter", "--gaussian", "--sigma", "150", "--epsilon", suggested, two_pngs[0],
                 "-o", tmp_path / "s.png"])
    assert r.code == 0 and r.err == ""  # neither refused nor warned
    assert listing(tmp_path) == ["gray.png", "one.png", "s.png"]


def test_kernel_refuses_what_filter_refuses_with_the_same_message(tmp_path, two_pngs):
    k = run_cli(["kernel", "--sigma", "1e6"])
    f = run_cli(["filter", "--gaussian", "--sigma", "1e6", two_pngs[0], "-o", tmp_path / "f.png"])
    assert k.code == f.code == 2
    assert k.out == b"" and one_line(k.err) == one_line(f.err)


# -- 4. --tile needs a TIFF or zarr input ----------------------------------------------------

def test_tile_on_a_jpeg_is_a_usage_error(tmp_path):
    src = tmp_path / "a.jpg"
    write_image(src, natural_image(60, 80, 3))
    r = run_cli(["edges", "--tile", "256", src, "-o", tmp_path / "t.tif"])
    assert r.code == 2, r.err
    line = one_line(r.err)
    assert "a.jpg" in line and "--tile needs a TIFF or zarr input" in line
    assert listing(tmp_path) == ["a.jpg"]


# -- 5. messages -----------------------------------------------------------------------------

def test_corners_on_one_line_name_the_option(tmp_path):
    src = tmp_path / "a.png"
    write_image(src, natural_image(60, 80, 3))
    r = run_cli(["scan", "--corners", "0,0 0,0 0,0 0,0", src, "-o", tmp_path / "p.png"])
    assert r.code == 2
    assert one_line(r.err) == ("imgtool: --corners '0,0 0,0 0,0 0,0': the four points lie "
                               "on one line")


@pytest.mark.parametrize("command", [["scan"], ["edges"], ["filter", "--sobel"]])
def test_empty_output_is_a_usage_error(tmp_path, command):
    src = tmp_path / "a.png"
    write_image(src, natural_image(60, 80, 3))
    r = run_cli([*command, src, "-o", ""])
    assert r.code == 2
    assert "-o is empty" in one_line(r.err)
    assert listing(tmp_path) == ["a.png"]


# -- 7. options that contradict each other ---------------------------------------------------

@pytest.mark.parametrize("command", [["scan"], ["edges"], ["filter", "--sobel"]])
def test_overwrite_with_skip_existing_is_refused(tmp_path, command):
    src = tmp_path / "a.png"
    write_image(src, natural_image(60, 80, 3))
    r = run_cli([*command, "--overwrite", "--skip-existing", src, "-o", tmp_path / "m.png"])
    assert r.code == 2
    line = one_line(r.err)
    assert "--overwrite" in line and "--skip-existing" in line
    assert listing(tmp_path) == ["a.png"]


# -- 6. --json records what was used ---------------------------------------------------------

def test_filter_json_records_each_steps_parameters(tmp_path, two_pngs):
    r = run_cli(["filter", "--gaussian", "--sigma", "2", "--epsilon", "0.01", "--average", "3",
                 "--laplacian=8", "--sobel", "--l1", "--border", "constant", "--cval", "9",
                 "--json", two_pngs[0], "-o", tmp_path / "f.png"])
    assert r.code == 0, r.err
    rec = json.loads(r.text)
    assert rec["steps"] == [["gaussian", {"sigma": 2.0, "epsilon": 0.01, "radius": 5}],
                            ["average", {"size": 3}], ["laplacian", {"neighbours": 8}],
                            ["sobel", {"norm": "l1"}]]
    assert rec["border"] == "constant" and rec["cval"] == 9.0 and rec["map"] == "abs"


def test_edges_json_records_sigma_zero(tmp_path, two_pngs):
    r = run_cli(["edges", "--sigma", "0", "--json", two_pngs[0], "-o", tmp_path / "e.png"])
    assert r.code == 0, r.err
    assert json.loads(r.text)["sigma"] == 0


def test_scan_help_lists_every_json_field(tmp_path):
    src = tmp_path / "a.png"
    write_image(src, natural_image(60, 80, 3))
    (tmp_path / "bad.png").write_text("no")
    r = run_cli(["scan", "--corners", CORNERS, "--json", src, tmp_path / "bad.png",
                 "-o", tmp_path / "out"])
    keys = {k for line in r.text.splitlines() for k in json.loads(line)}
    assert {"cut", "status", "error", "rotate"} <= keys
    help_text = " ".join(run_cli(["scan", "--help"]).text.split())
    listed = help_text.split("--json prints one object per input:")[1]
    for key in keys:
        assert re.search(rf"\b{key}\b", listed), key


# -- 8. help and README ----------------------------------------------------------------------

def test_scan_threads_help_speaks_of_scan():
    help_text = " ".join(run_cli(["scan", "--help"]).text.split())
    threads = help_text.split("--threads INTEGER")[1].split(" --")[0]
    assert "filtered" not in threads and "photo" in threads


def readme_block(after: str) -> list[str]:
    """The indented lines of the first code block after the line starting with ``after``."""
    text = (REPO / "README.md").read_text().splitlines()
    start = next(i for i, line in enumerate(text) if line.startswith(after))
    block = []
    for line in text[start + 1:]:
        if line.startswith("    "):
            block.append(line[4:])
        elif block:
            break
    return block


def test_readme_edges_examples_write_different_files():
    outputs = [re.search(r"-o (\S+)", line).group(1)
               for line in readme_block("### `imgtool edges`") if " -o " in line]
    assert len(outputs) == len(set(outputs)) >= 2


def test_readme_kernel_sample_is_what_the_command_prints():
    block = readme_block("### `imgtool kernel`")
    assert block[0].startswith("$ imgtool ")
    r = run_cli(block[0].split()[2:])
    assert r.code == 0
    assert r.text.splitlines() == block[1:]


def test_edges_checks_sigma_with_the_epsilon_it_smooths_with():
    import inspect

    from imgtool import edges
    from imgtool.cli import edges_cmd

    default = inspect.signature(edges.detect_edges).parameters["epsilon"].default
    assert edges_cmd.EPSILON == default
