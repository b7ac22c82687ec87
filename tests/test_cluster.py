"""Batches on a Dask cluster (``--scheduler``): a real scheduler and two workers started as
separate processes on 127.0.0.1, a worker killed mid-batch, outputs byte-identical to a
local run; fsspec URLs (``file://`` on the cluster, ``memory://`` in one process); the
guarantees every executor shares (failures, resume, JSON order, Ctrl-C)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from imgtool.io import read_image
from tests.conftest import REPO, ctrl_c_default, encode, natural_image, run_cli

pytest.importorskip("distributed")

#: Seconds the cluster may take to come up on a loaded machine (not a test of speed).
START_TIMEOUT = 120


class Cluster:
    """``dask scheduler`` and ``dask worker`` processes, each in its own process group."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.procs: dict[str, subprocess.Popen] = {}
        self.address = None

    def _start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                cwd=self.folder, env=dict(os.environ, PYTHONPATH=str(REPO)))
        proc.log = log
        self.procs[name] = proc
        return proc

    def start_scheduler(self) -> None:
        sched_file = self.folder / "scheduler.json"
        self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(sched_file)])
        t0 = time.monotonic()
        while time.monotonic() - t0 < START_TIMEOUT:
            if sched_file.exists():
                try:
                    self.address = json.loads(sched_file.read_text())["address"]
                    break
                except (ValueError, KeyError):
                    pass  # being written
            self._check_alive("scheduler")
            time.sleep(0.1)
        assert self.address and self.address.startswith("tcp://127.0.0.1:"), self.address

    def start_worker(self, name: str) -> subprocess.Popen:
        return self._start(name, [
            "worker", self.address, "--name", name, "--nthreads", "1", "--memory-limit",
            "1GiB", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1",
            "--local-directory", str(self.folder / name), "--death-timeout", "60"])

    def wait_for_workers(self, names) -> None:
        from distributed import Client

        with Client(self.address, timeout=START_TIMEOUT) as client:
            t0 = time.monotonic()
            while time.monotonic() - t0 < START_TIMEOUT:
                have = {w["name"] for w in client.scheduler_info(n_workers=-1)["workers"]
                        .values()}
                if set(names) <= have:
                    return
                for n in names:
                    self._check_alive(n)
                time.sleep(0.1)
        pytest.fail(f"workers {names} did not join")

    def _check_alive(self, name: str) -> None:
        proc = self.procs[name]
        if proc.poll() is not None:
            proc.log.close()
            text = (self.folder / f"{name}.log").read_text(errors="replace")
            pytest.fail(f"dask {name} exited with {proc.returncode}: {text[-2000:]}")

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        proc.log.close()

    def stop(self) -> None:
        """Workers killed (they hold nothing worth a graceful close), then the scheduler
        asked to stop, and killed if it lingers."""
        for name in [n for n in self.procs if n != "scheduler"]:
            self.kill(name)
        for proc in self.procs.values():
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            proc.log.close()
        self.procs.clear()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("dask"))
    try:
        c.start_scheduler()
        c.start_worker("w1")
        c.start_worker("w2")
        c.wait_for_workers(["w1", "w2"])
        yield c
    finally:
        procs = list(c.procs.values())
        c.stop()
    for proc in procs:  # nothing left running
        assert proc.poll() is not None


def _photos(folder: Path, n: int, size=(240, 320), bad: bool = False) -> Path:
    folder.mkdir()
    for i in range(n):
        (folder / f"img{i:02d}.png").write_bytes(encode(natural_image(*size, seed=i)))
    if bad:
        (folder / "img_bad.png").write_bytes(encode(natural_image(seed=99))[:150])
    return folder


def _whole_outputs(out: Path) -> dict[str, bytes]:
    files = {}
    for p in sorted(out.iterdir()):
        assert not p.name.startswith("."), f"left behind: {p.name}"
        read_image(p)  # raises on a partial file
        files[p.name] = p.read_bytes()
    return files


FILTER = ["filter", "--gaussian", "--sigma", "3"]


def test_batch_on_the_cluster_equals_the_local_run_and_survives_a_killed_worker(
        cluster, tmp_path):
    n = 16
    src = _photos(tmp_path / "src", n, size=(300, 400))
    local = run_cli([*FILTER, src, "-o", tmp_path / "local", "--jobs", "1"])
    assert local.code == 0, local.err
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "imgtool", *FILTER, str(src), "-o", str(out), "--scheduler",
         cluster.address, "--chunk-size", "3", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=str(REPO)))
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < START_TIMEOUT:  # a few outputs, then the kill
            if out.exists() and len([p for p in out.iterdir() if p.suffix == ".png"]) >= 4:
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.01)
        done_at_kill = len([p for p in out.iterdir() if p.suffix == ".png"])
        cluster.kill("w1")
        stdout, stderr = proc.communicate(timeout=START_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        cluster.start_worker("w1")  # for the tests that follow
    assert done_at_kill < n  # killed mid-batch
    assert proc.returncode == 0, stderr.decode()
    records = [json.loads(line) for line in stdout.decode().splitlines()]
    assert [r["input"] for r in records] == [str(src / f"img{i:02d}.png") for i in range(n)]
    assert {r["status"] for r in records} == {"ok"}
    # every output whole, none missing, none left half-written, each the local run's bytes
    assert _whole_outputs(out) == _whole_outputs(tmp_path / "local")


def test_failures_resume_and_json_order_match_the_local_run(cluster, tmp_path):
    cluster.wait_for_workers(["w1", "w2"])
    src = _photos(tmp_path / "src", 7, bad=True)
    runs = {}
    for name, extra in (("local", ["--jobs", "1"]),
                        ("cluster", ["--scheduler", cluster.address, "--chunk-size", "2"])):
        r = run_cli([*FILTER, src, "-o", tmp_path / name, "--json", *extra])
        runs[name] = r
        assert r.code == 6, r.err
        assert "1 of 8 inputs failed" in r.err and "img_bad.png: truncated PNG" in r.err
        assert str(tmp_path) not in r.err.replace(str(src), "SRC")  # named as given
    local = [json.loads(x) for x in runs["local"].text.splitlines()]
    remote = [json.loads(x) for x in runs["cluster"].text.splitlines()]
    assert [(a["input"], a["status"]) for a in local] == [(b["input"], b["status"])
                                                         for b in remote]
    assert _whole_outputs(tmp_path / "local") == _whole_outputs(tmp_path / "cluster")
    # resume: two outputs lost, the rest skipped
    for name in ("img01.filter.png", "img05.filter.png"):
        (tmp_path / "cluster" / name).unlink()
    r = run_cli([*FILTER, src, "-o", tmp_path / "cluster", "--json", "--skip-existing",
                 "--scheduler", cluster.address])
    assert r.code == 6, r.err
    status = {Path(json.loads(x)["input"]).name: json.loads(x)["status"]
              for x in r.text.splitlines()}
    assert [k for k, v in status.items() if v == "ok"] == ["img01.png", "img05.png"]
    assert status["img_bad.png"] == "failed"
    assert _whole_outputs(tmp_path / "local") == _whole_outputs(tmp_path / "cluster")


def test_file_urls_on_the_cluster(cluster, tmp_path):
    src = _photos(tmp_path / "src", 3)
    out = tmp_path / "out"
    r = run_cli(["filter", "--average", "3", f"file://{src}/", "-o", f"file://{out}/",
                 "--scheduler", cluster.address, "--json"])
    assert r.code == 0, r.err
    records = [json.loads(x) for x in r.text.splitlines()]
    assert [x["output"] for x in records] == [f"file://{out}/img{i:02d}.filter.png"
                                              for i in range(3)]
    expected = run_cli(["filter", "--average", "3", src, "-o", tmp_path / "local"])
    assert expected.code == 0
    assert _whole_outputs(out) == _whole_outputs(tmp_path / "local")


def test_ctrl_c_cancels_the_batch_and_leaves_nothing_half_written(cluster, tmp_path):
    cluster.wait_for_workers(["w1", "w2"])
    n = 24
    src = _photos(tmp_path / "src", n, size=(300, 400))
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "imgtool", *FILTER, str(src), "-o", str(out), "--scheduler",
         cluster.address, "--chunk-size", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=str(REPO)),
        preexec_fn=ctrl_c_default)
    t0 = time.monotonic()
    while time.monotonic() - t0 < START_TIMEOUT:
        if out.exists() and len([p for p in out.iterdir() if p.suffix == ".png"]) >= 2:
            break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    # the workers stop after the input they are on: soon nothing more is written
    time.sleep(1)
    settled = _whole_outputs(out)
    time.sleep(1)
    assert _whole_outputs(out) == settled
    assert len(settled) < n


def test_memory_urls_through_an_in_process_cluster(tmp_path):
    # memory:// lives in one process: the cluster's workers run in this one
    import fsspec
    from distributed import LocalCluster

    fs = fsspec.filesystem("memory")
    images = [natural_image(50, 60, seed=i) for i in range(5)]
    for i, img in enumerate(images):
        fs.pipe_file(f"/imgtool-test/src/p{i}.png", encode(img))
    try:
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                          dashboard_address=":0") as lc:
            r = run_cli(["filter", "--average", "3", "memory://imgtool-test/src/", "-o",
                         "memory://imgtool-test/out/", "--scheduler", lc.scheduler_address,
                         "--json", "--chunk-size", "2"])
        assert r.code == 0, r.err
        for i, img in enumerate(images):
            local = run_cli(["filter", "--average", "3", "-", "-o", "-", "--format", "png"],
                            stdin=encode(img))
            assert fs.cat_file(f"/imgtool-test/out/p{i}.filter.png") == local.out
        assert not [p for p in fs.ls("/imgtool-test/out", detail=False) if ".part" in p]
    finally:
        fs.rm("/imgtool-test", recursive=True)


def test_memory_urls_in_one_process_without_a_cluster(tmp_path):
    import fsspec

    fs = fsspec.filesystem("memory")
    img = natural_image(40, 50, channels=1)
    fs.pipe_file("/imgtool-one/a.png", encode(img))
    try:
        r = run_cli(["filter", "--average", "3", "memory://imgtool-one/a.png", "-o",
                     "memory://imgtool-one/b.png"])
        assert r.code == 0, r.err
        got = read_image("memory://imgtool-one/b.png")
        assert np.array_equal(got, read_image(_local_copy(tmp_path, img)))
        again = run_cli(["filter", "--average", "3", "memory://imgtool-one/a.png", "-o",
                         "memory://imgtool-one/b.png"])
        assert again.code == 4 and "exists" in again.err
        missing = run_cli(["filter", "--average", "3", "memory://imgtool-one/none.png", "-o",
                           "memory://imgtool-one/c.png"])
        assert missing.code == 3 and "memory://imgtool-one/none.png: no such file" in missing.err
    finally:
        fs.rm("/imgtool-one", recursive=True)


def _local_copy(tmp_path: Path, img) -> Path:
    src = tmp_path / "a.png"
    src.write_bytes(encode(img))
    r = run_cli(["filter", "--average", "3", src, "-o", tmp_path / "b.png"])
    assert r.code == 0
    return tmp_path / "b.png"


def test_scheduler_errors_are_one_line(tmp_path):
    src = _photos(tmp_path / "src", 2)
    r = run_cli([*FILTER, src, "-o", tmp_path / "o", "--chunk-size", "2"])
    assert r.code == 2 and "--chunk-size is for --scheduler" in r.err
    r = run_cli([*FILTER, "-", "-o", "-", "--format", "png", "--scheduler", "local"])
    assert r.code == 2 and "stdin or stdout" in r.err
    r = run_cli(["filter", "--average", "3", src, "-o", tmp_path / "o", "--scheduler",
                 "s3x://nowhere"])
    assert r.code == 2 and "s3x://nowhere" in r.err and "Traceback" not in r.err


def test_a_retried_input_keeps_the_output_its_lost_attempt_wrote(tmp_path):
    # what a chunk run again after its worker died sees: some outputs already there
    from imgtool import batch

    src = tmp_path / "a.png"
    src.write_bytes(encode(natural_image()))
    settings = batch.Settings("imgtool.cli.filter_cmd:process",
                              {"steps": [("average", 3)], "sigma": None, "epsilon": 0.001,
                               "border": "reflect101", "cval": 0.0, "norm": "l2",
                               "mapping": "abs"})
    task = batch.Task(0, str(src), str(tmp_path / "a.out.png"))
    assert batch.run_task(settings, task).status == "ok"
    written = (tmp_path / "a.out.png").read_bytes()
    again = batch.run_task(settings, task)  # a new run: an existing output is refused
    assert again.status == "failed" and "exists" in again.error
    retried = batch.run_task(settings, task, retry=True)  # the same bytes: written already
    assert retried.status == "ok" and retried.error is None
    assert (tmp_path / "a.out.png").read_bytes() == written
    (tmp_path / "a.out.png").write_bytes(b"someone else's file")
    other = batch.run_task(settings, task, retry=True)  # other bytes: still refused
    assert other.status == "failed" and "exists" in other.error
    assert (tmp_path / "a.out.png").read_bytes() == b"someone else's file"
