"""Batch throughput: ``imgtool scan`` over 100 generated photos with --jobs 1 and --jobs 2;
and on Dask (section "cluster"): --jobs against --scheduler local and a running cluster,
the start-up each costs, and what one Dask task costs the scheduler.

``python -m benchmarks.bench_batch cluster`` runs only the Dask section.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._report import table, write_section

REPO = Path(__file__).resolve().parent.parent

N_PHOTOS = 100
SIZE = (1600, 1200)


def _make_photos(folder: Path, n: int = N_PHOTOS) -> None:
    from imgtool.io import encode_image
    from imgtool.synth import render_photo

    for seed in range(n):
        photo = render_photo(seed, size=SIZE)
        (folder / f"photo{seed:03d}.jpg").write_bytes(encode_image(photo.image, "jpeg",
                                                                   quality=90))


def _run(src: Path, out: Path, jobs: int) -> float:
    cmd = [sys.executable, "-m", "imgtool", "-q", "scan", str(src), "-o", str(out), "--jobs",
           str(jobs)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 6):  # 6: some photos had no page found (kept, reported)
        raise RuntimeError(proc.stderr)
    return elapsed


def main(argv=()) -> None:
    if "cluster" not in argv:
        batch_main()
    cluster_main()


def batch_main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "photos"
        src.mkdir()
        _make_photos(src)
        _run(src, tmp / "warm", 1)  # fills the Numba cache; not counted
        rows = []
        times = {}
        for jobs in (1, 2):
            times[jobs] = _run(src, tmp / f"out{jobs}", jobs)
            rows.append([jobs, f"{times[jobs]:.1f} s", f"{N_PHOTOS / times[jobs]:.2f}"])
        speedup = times[1] / times[2]
    body = (
        f"`imgtool scan` over {N_PHOTOS} generated photos ({SIZE[0]}x{SIZE[1]} JPEG, "
        "`imgtool.synth.render_photo(seed)`, seeds 0-99), written as JPEG, whole command "
        "timed (process start-up, worker spawn, reading, detection, warp, writing). "
        f"One warm-up run fills the Numba cache first. Machine cores: {os.cpu_count()}.\n\n"
        + table(["--jobs", "wall time", "photos/s"], rows)
        + f"\n\nSpeed-up with 2 jobs: {speedup:.2f}x."
    )
    write_section("batch", "Batch throughput (imgtool scan --jobs)", body)
    print(body)


# --- Dask ---------------------------------------------------------------------------------

CLUSTER_PHOTOS = 40  #: photos per timed run (seeds 0-39 of the set above: the machine is shared)
ROUNDS = 3  #: interleaved rounds of (--jobs 2, --scheduler local, --scheduler tcp://...)
OVERHEAD_TASKS = 600  #: tiny inputs for the per-task cost
AUTO = "auto (here 600 / (4 x 2 threads) = 75 per task)"


class _Cluster:
    """``dask scheduler`` and two ``dask worker --nthreads 1`` processes on 127.0.0.1."""

    def __init__(self, folder: Path, workers: int = 2):
        self.folder, self.procs = folder, []
        folder.mkdir(parents=True, exist_ok=True)
        sched_file = folder / "scheduler.json"
        self._start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(sched_file)])
        t0 = time.monotonic()
        while not sched_file.exists() or "address" not in sched_file.read_text():
            if self.procs[0].poll() is not None or time.monotonic() - t0 > 120:
                raise RuntimeError(f"dask scheduler did not start ({self.procs[0].returncode})")
            time.sleep(0.1)
        time.sleep(0.2)
        self.address = json.loads(sched_file.read_text())["address"]
        for i in range(workers):
            self._start(["worker", self.address, "--nthreads", "1", "--no-nanny",
                         "--no-dashboard", "--host", "127.0.0.1", "--memory-limit", "2GiB",
                         "--local-directory", str(folder / f"w{i}")])
        from distributed import Client

        with Client(self.address) as client:
            client.wait_for_workers(workers, timeout=120)

    def _start(self, args):
        self.procs.append(subprocess.Popen(
            [sys.executable, "-m", "dask", *args], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True, cwd=REPO,
            env=dict(os.environ, PYTHONPATH=str(REPO))))

    @property
    def scheduler_pid(self) -> int:
        return self.procs[0].pid

    def stop(self):
        for proc in reversed(self.procs):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _say(message: str) -> None:
    print(f"bench_batch: {message}", file=sys.stderr, flush=True)


def _timed(cmd, out: Path, n: int) -> float:
    """Seconds the command takes; it must write ``n`` files into the new folder ``out``."""
    assert not out.exists()
    t0 = time.perf_counter()
    proc = subprocess.run([*cmd, "-o", str(out)], capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    # 6: some photos had no page found (the whole photo is written: --fallback full)
    written = len(list(out.iterdir())) if out.exists() else 0
    if proc.returncode not in (0, 6) or written != n:
        raise RuntimeError(f"{cmd}: exit {proc.returncode}, {written} of {n} files: "
                           f"{proc.stderr[-2000:]}")
    return elapsed


def _scan_cmd(src, *extra):
    return [sys.executable, "-m", "imgtool", "-q", "scan", *map(str, src), *extra]


def _noop(image, params, ctx):
    """A processor that does nothing: what is left of a task is imgtool's and Dask's cost."""
    from imgtool.batch import Outcome

    return Outcome(None, {})


def _overhead(address: str, pid: int, tiny: Path, chunk_size: int | None):
    """Seconds per input (wall) and scheduler CPU seconds per Dask task, for OVERHEAD_TASKS
    inputs of an 8x8 PNG through imgtool's cluster executor."""
    from imgtool import batch

    tasks = [batch.Task(i, str(tiny), None) for i in range(OVERHEAD_TASKS)]
    settings = batch.Settings("benchmarks.bench_batch:_noop", {})
    cpu0, t0 = _cpu_seconds(pid), time.perf_counter()
    results = list(batch.run(tasks, settings, scheduler=address, chunk_size=chunk_size))
    wall, cpu = time.perf_counter() - t0, _cpu_seconds(pid) - cpu0
    assert [r.status for r in results] == ["ok"] * OVERHEAD_TASKS
    return wall, cpu


PLANNED = 200_000  #: inputs planned to measure the client's memory and time per input


def _client_memory(n: int = PLANNED):
    """Peak memory (MiB) and seconds to plan ``n`` inputs in folders of 1000 (no files
    needed), under tracemalloc (which slows it)."""
    import tracemalloc

    from imgtool import batch

    inputs = [(f"/data/photos/{i // 1000:04d}/IMG_{i:07d}.jpg", Path(f"{i // 1000:04d}") /
               f"IMG_{i:07d}.jpg") for i in range(n)]
    tracemalloc.start()
    t0 = time.perf_counter()
    tasks = batch.plan(inputs, "/data/out", lambda s: Path(s).stem + ".scan.jpg")
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    assert len(tasks) == n
    return peak, seconds


def cluster_main() -> None:
    from imgtool.io import encode_image

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "photos"
        src.mkdir()
        _make_photos(src, CLUSTER_PHOTOS)
        photos = sorted(src.iterdir())
        tiny = tmp / "tiny.png"
        tiny.write_bytes(encode_image(__import__("numpy").zeros((8, 8), "uint8"), "png"))
        two = photos[:2]
        _say("photos made; starting a scheduler and two workers")
        cluster = _Cluster(tmp / "dask")
        try:
            warm = (["--jobs", "2"], ["--scheduler", "local"],
                    ["--scheduler", cluster.address])
            for i, extra in enumerate(warm):  # Numba caches, worker imports; not counted
                _timed(_scan_cmd(photos[:4], *extra), tmp / f"warm{i}", 4)
            kinds = {"--jobs 2 (own process pool)": ["--jobs", "2"],
                     "--scheduler local (new LocalCluster)": ["--scheduler", "local"],
                     "--scheduler tcp:// (running cluster, 2 workers)":
                         ["--scheduler", cluster.address]}
            full = {k: [] for k in kinds}
            start = {k: [] for k in kinds}
            _say("warm; timing")
            for r in range(ROUNDS):  # interleaved: each kind once per round
                _say(f"round {r + 1} of {ROUNDS}")
                for i, (k, extra) in enumerate(kinds.items()):
                    full[k].append(_timed(_scan_cmd(photos, *extra), tmp / f"full-{r}-{i}",
                                          len(photos)))
                    start[k].append(_timed(_scan_cmd(two, *extra), tmp / f"start-{r}-{i}", 2))
            _say("per-task cost")
            over = {}
            for label, size in (("1 input per task", 1), (AUTO, None)):
                wall, cpu = _overhead(cluster.address, cluster.scheduler_pid, tiny, size)
                over[label] = (wall, cpu)
            load = os.getloadavg()
        finally:
            cluster.stop()
    _say(f"planning {PLANNED} inputs")
    peak, plan_s = _client_memory()
    rows = []
    n = len(photos)
    for k in kinds:
        med, best = statistics.median(full[k]), min(full[k])
        rows.append([k, f"{statistics.median(start[k]):.1f} s",
                     f"{med:.1f} s (min {best:.1f})", f"{n / med:.2f}"])
    jobs_k, local_k, tcp_k = list(kinds)
    paired = statistics.median(a / b for a, b in zip(full[local_k], full[jobs_k], strict=True))
    per_photo = 2 * statistics.median(full[tcp_k]) / n
    wall1, cpu1 = over["1 input per task"]
    wall_a, cpu_a = over[AUTO]
    body = (
        f"`imgtool scan` over {n} generated photos "
        f"({SIZE[0]}x{SIZE[1]} JPEG), whole command timed, {ROUNDS} rounds interleaved "
        "(jobs, local, tcp, jobs, ...); each executor runs 2 single-threaded workers. "
        "*Start-up* is the same command on 2 photos. The running cluster is `dask scheduler` "
        "and two `dask worker --nthreads 1` processes on 127.0.0.1, started once. "
        f"The machine is shared with other jobs (load average {load[0]:.1f} on "
        f"{os.cpu_count()} cores at the end), so absolute times are slow and noisy; "
        "compare the rows.\n\n"
        + table(["executor", "start-up (2 photos)", f"{n} photos", "photos/s"], rows)
        + f"\n\n`--scheduler local` / `--jobs 2` on the {n} photos (median of paired rounds): "
        f"{paired:.2f}x. Per photo on one worker thread: about {per_photo:.2f} s "
        "(2 workers x the running cluster's time / photos).\n\n"
        f"Per-task cost, {OVERHEAD_TASKS} inputs of an 8x8 PNG with a processor that does "
        "nothing, through imgtool's cluster executor (running cluster):\n\n"
        + table(["chunking", "wall per input", "scheduler CPU per input"], [
            ["1 input per task", f"{1e3 * wall1 / OVERHEAD_TASKS:.2f} ms",
             f"{1e3 * cpu1 / OVERHEAD_TASKS:.2f} ms"],
            [AUTO, f"{1e3 * wall_a / OVERHEAD_TASKS:.2f} ms",
             f"{1e3 * cpu_a / OVERHEAD_TASKS:.3f} ms"]])
        + f"\n\nPlanning {PLANNED} inputs (`imgtool.batch.plan`, folders of 1000, no files "
        f"read, under tracemalloc): {plan_s:.1f} s, peak {peak:.0f} MiB of Python objects on "
        f"the client ({1e6 * plan_s / PLANNED:.0f} us and {2**20 * peak / PLANNED:.0f} bytes "
        "per input; both grow linearly). "
        "`docs/distributed.md` turns these into an estimate for 10^6 photos on 100 workers."
    )
    write_section("cluster", "Batches on Dask (--scheduler)", body)
    print(body)


if __name__ == "__main__":
    main(sys.argv[1:])
