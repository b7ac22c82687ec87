"""Batches: folders, naming, parallel jobs, failures that do not stop the batch, resuming,
JSON lines, pipes, PDF, and what Ctrl-C or SIGKILL leave behind."""

from __future__ import annotations

import gc
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from imgtool.io import read_image, write_image
from tests.conftest import (
    REPO,
    ctrl_c_default,
    encode,
    listing,
    natural_image,
    run_cli,
    run_subprocess,
)


@pytest.fixture
def photo_dir(tmp_path) -> Path:
    d = tmp_path / "photos"
    (d / "sub").mkdir(parents=True)
    for i in range(3):
        write_image(d / f"p{i}.png", natural_image(30, 40, 3, seed=i))
    write_image(d / "sub" / "deep.png", natural_image(30, 40, 1, seed=9))
    (d / "readme.txt").write_text("not an image, and not picked up from a folder")
    return d


def test_folder_to_folder_with_template(tmp_path, photo_dir):
    out = tmp_path / "out"
    r = run_cli(["filter", "--average", "3", photo_dir, "-o", out, "--name", "{stem}-avg.png"])
    assert r.code == 0, r.err
    assert listing(out) == ["p0-avg.png", "p1-avg.png", "p2-avg.png"]


def test_recursive_keeps_the_tree(tmp_path, photo_dir):
    out = tmp_path / "out"
    r = run_cli(["filter", "--average", "3", "-r", photo_dir, "-o", out])
    assert r.code == 0, r.err
    assert (out / "sub" / "deep.filter.png").exists()
    assert len(list(out.rglob("*.png"))) == 4


def test_default_output_is_next_to_the_input(photo_dir):
    r = run_cli(["filter", "--average", "3", photo_dir / "p0.png"])
    assert r.code == 0, r.err
    assert (photo_dir / "p0.filter.png").exists()


def test_glob_pattern_expanded_by_imgtool(tmp_path, photo_dir):
    r = run_cli(["filter", "--average", "3", str(photo_dir / "p*.png"), "-o", tmp_path / "o"])
    assert r.code == 0, r.err
    assert len(listing(tmp_path / "o")) == 3


def test_a_bad_file_does_not_stop_the_batch(tmp_path, photo_dir):
    (photo_dir / "broken.png").write_bytes(encode(natural_image())[:200])
    out = tmp_path / "out"
    r = run_cli(["filter", "--average", "3", photo_dir, "-o", out, "--json"])
    assert r.code == 6
    assert "1 of 4 inputs failed" in r.err and "broken.png: truncated PNG" in r.err
    records = [json.loads(line) for line in r.text.splitlines()]
    assert [rec["status"] for rec in records] == ["failed", "ok", "ok", "ok"]
    assert listing(out) == ["p0.filter.png", "p1.filter.png", "p2.filter.png"]


def test_skip_existing_resumes(tmp_path, photo_dir):
    out = tmp_path / "out"
    out.mkdir()
    (out / "p1.filter.png").write_bytes(b"from an earlier run")
    r = run_cli(["filter", "--average", "3", photo_dir, "-o", out, "--skip-existing", "--json"])
    assert r.code == 0, r.err
    statuses = {json.loads(line)["input"]: json.loads(line)["status"] for line in
                r.text.splitlines()}
    assert statuses[str(photo_dir / "p1.png")] == "skipped"
    assert (out / "p1.filter.png").read_bytes() == b"from an earlier run"
    r = run_cli(["filter", "--average", "3", photo_dir, "-o", out])
    assert r.code == 4 and "3 of 3 inputs failed" in r.err  # every output exists: exit 4


def test_colliding_output_names_are_refused(tmp_path):
    write_image(tmp_path / "a.png", natural_image())
    write_image(tmp_path / "a.tif", natural_image())
    r = run_cli(["filter", "--average", "3", tmp_path / "a.png", tmp_path / "a.tif", "-o",
                 tmp_path / "o"])
    assert r.code == 2 and "would both be written" in r.err


def test_parallel_jobs_give_the_same_files(tmp_path, photo_dir):
    for jobs in (1, 2):
        r = run_subprocess(["filter", "--gaussian", "--sigma", "1.5", photo_dir, "-o",
                            tmp_path / f"j{jobs}", "--jobs", jobs])
        assert r.returncode == 0, r.stderr
    for name in listing(tmp_path / "j1"):
        assert (tmp_path / "j1" / name).read_bytes() == (tmp_path / "j2" / name).read_bytes()


def test_stdin_to_stdout_pipe(png_file):
    r = run_subprocess(["filter", "--average", "3", "-", "-o", "-", "--format", "png"],
                       stdin=png_file.read_bytes())
    assert r.returncode == 0, r.stderr
    assert r.stdout[:8] == b"\x89PNG\r\n\x1a\n"
    assert r.stderr == b""  # nothing but the image on stdout, nothing said on stderr


def test_stdout_refused_on_a_terminal(monkeypatch):
    from imgtool.errors import OutputError
    from imgtool.io import check_output

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    with pytest.raises(OutputError, match="terminal"):
        check_output("-")


def test_json_and_stdout_image_conflict(png_file):
    r = run_cli(["filter", "--average", "3", png_file, "-o", "-", "--format", "png", "--json"])
    assert r.code == 2 and "both want stdout" in r.err


def test_several_inputs_into_one_pdf(tmp_path, photo_dir):
    pdf = tmp_path / "pages.pdf"
    r = run_cli(["filter", "--average", "3", *sorted(photo_dir.glob("p*.png")), "-o", pdf,
                 "--dpi" if False else "--quality", "90"])
    assert r.code == 0, r.err
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) == 3
    import pypdf  # an independent reader

    assert len(pypdf.PdfReader(pdf).pages) == 3


def _make_heavy_batch(folder: Path, n: int) -> None:
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n):
        img = rng.integers(0, 256, (900, 1200, 3), dtype=np.uint8)
        (folder / f"img{i:02d}.png").write_bytes(encode(img))


def _start_batch(src: Path, out: Path, *extra):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-m", "imgtool", "filter", "--gaussian", "--sigma", "6", src, "-o",
         out, "--jobs", "1", *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=ctrl_c_default,
    )  # fmt: skip


def _wait_for_outputs(out: Path, proc, count=1, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if out.exists() and len([p for p in out.iterdir() if p.suffix == ".png"]) >= count:
            return
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"batch ended before it could be interrupted: {err}")
        time.sleep(0.02)
    proc.kill()
    proc.communicate()
    pytest.fail("no output appeared")


def _all_outputs_complete(out: Path) -> list[str]:
    names = [p.name for p in out.iterdir() if not p.name.startswith(".")]
    for name in names:
        read_image(out / name)  # raises if any file is partial
    return names


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGKILL, -9)])
def test_interrupted_batch_leaves_no_partial_file_and_resumes(tmp_path, sig, code):
    # enough inputs that a busy machine cannot finish them all before the signal lands
    n = 40
    src, out = tmp_path / "src", tmp_path / "out"
    _make_heavy_batch(src, n)
    proc = _start_batch(src, out)
    _wait_for_outputs(out, proc, count=2)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    done = _all_outputs_complete(out)
    assert 2 <= len(done) < n
    if sig == signal.SIGINT:
        assert listing(out) == sorted(done)  # not even a hidden temporary file
    again = _start_batch(src, out, "--skip-existing")
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert len(_all_outputs_complete(out)) == n
    assert not [n for n in listing(out) if n.endswith(".part")]



def _record_collection(image, params, ctx):
    """A processor that notes whether the garbage collector is on while it runs, and how
    many objects it leaves out of its walks."""
    from imgtool.batch import Outcome

    params["seen"].append((gc.isenabled(), gc.get_freeze_count()))
    return Outcome(None, {})


def test_collection_is_paused_for_start_up_and_the_first_input_only(photo_dir):
    from imgtool import _collection as collection
    from imgtool import batch

    tasks = [batch.Task(i, str(photo_dir / f"p{i}.png"), None) for i in range(3)]
    seen: list = []
    settings = batch.Settings("tests.test_batch:_record_collection", {"seen": seen})
    frozen_before = gc.get_freeze_count()
    collection.pause_collection()
    try:
        assert not gc.isenabled()
        results = list(batch.run(tasks, settings))
    finally:
        collection.end_collection_pause()
    assert [r.status for r in results] == ["ok"] * 3
    assert [on for on, _ in seen] == [False, True, True]  # back on after the first input
    assert seen[1][1] > frozen_before + 1000  # with the objects alive then frozen
    assert gc.isenabled() and gc.get_freeze_count() == 0  # and all undone at the end
    # a caller that turned the collector off itself keeps it off
    gc.disable()
    try:
        collection.pause_collection()
        collection.resume_collection()
        collection.end_collection_pause()
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("with_input", [False, True])
def test_the_command_leaves_collection_as_it_found_it(tmp_path, photo_dir, with_input):
    from imgtool.cli.main import main

    assert gc.isenabled() and gc.get_freeze_count() == 0
    args = (["filter", "--average", "3", str(photo_dir / "p0.png"), "-o",
             str(tmp_path / "out.png")] if with_input else ["kernel", "--sigma", "1"])
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 0
    assert gc.isenabled() and gc.get_freeze_count() == 0  # nothing left frozen: no leak
