"""Batch throughput: ``imgtool scan`` over 100 generated photos with --jobs 1 and --jobs 2."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._report import table, write_section

N_PHOTOS = 100
SIZE = (1600, 1200)


def _make_photos(folder: Path) -> None:
    from imgtool.io import encode_image
    from imgtool.synth import render_photo

    for seed in range(N_PHOTOS):
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


def main() -> None:
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


if __name__ == "__main__":
    main()
