"""Writing benchmark results into BENCHMARKS.md, one section per benchmark module.

Each module owns the text between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``; a run
replaces only its own section, stamped with the machine and the date, so the sections can be
re-measured independently.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "BENCHMARKS.md"
HEADER = (
    "# Benchmarks\n\n"
    "Measured by `make bench`: every ratio compares imgtool with its peer (OpenCV, scipy.ndimage,\n"
    "scikit-image) timed in the same run on the same machine. Each section says when and where it\n"
    "was measured. Times are the median of several repeats after a warm-up call.\n"
)


def machine() -> str:
    """A one-line description of this machine (CPU, cores, Python, library versions)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import cv2
    import numba
    import numpy

    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {numpy.__version__}, numba {numba.__version__}, OpenCV {cv2.__version__}"
    )


def timeit(fn, *, repeat: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeat`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def write_section(name: str, title: str, body: str) -> None:
    """Replace section ``name`` of BENCHMARKS.md with ``body`` under ``title``, stamped."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = (
        f"<!-- {name}:start -->\n## {title}\n\n"
        f"Measured {stamp} on: {machine()}.\n\n{body.strip()}\n<!-- {name}:end -->\n"
    )
    text = REPORT.read_text() if REPORT.exists() else HEADER
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = head + block.rstrip("\n") + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block
    REPORT.write_text(text)


def table(header: list[str], rows: list[list[object]]) -> str:
    """A Markdown table."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)
