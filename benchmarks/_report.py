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
    "was measured (CPU model, date) and how (`paired`: interleaved runs, median of the paired\n"
    "ratios and the minimum of each).\n"
)

#: How :func:`paired` measures, in one sentence for the report sections.
PAIRED_METHOD = (
    "Timed interleaved (imgtool, peer, imgtool, peer, ...) after a warm-up call of each; the "
    "ratio is the median of the per-pair ratios, with the minimum time of each and the "
    "spread (quartiles) of the paired ratios: other work on the machine slows both members "
    "of a pair alike, so the paired ratio holds where single times do not."
)


def machine() -> str:
    """A one-line description of this machine (CPU, cores, Python, library versions)."""
    cpu = cpu_model()
    import cv2
    import numba
    import numpy

    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {numpy.__version__}, numba {numba.__version__}, OpenCV {cv2.__version__}"
    )


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), or what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


class Paired:
    """The result of :func:`paired`: times in seconds, ratios ours / peer."""

    def __init__(self, ours: list[float], peer: list[float]):
        self.ours, self.peer = ours, peer
        self.ratios = sorted(a / b for a, b in zip(ours, peer, strict=True))

    @property
    def ratio(self) -> float:
        """The median of the paired ratios."""
        return statistics.median(self.ratios)

    @property
    def quartiles(self) -> tuple[float, float]:
        q = statistics.quantiles(self.ratios, n=4) if len(self.ratios) > 1 else self.ratios * 3
        return q[0], q[2]

    @property
    def ours_min(self) -> float:
        return min(self.ours)

    @property
    def peer_min(self) -> float:
        return min(self.peer)

    def spread(self) -> str:
        """``"0.93-1.05"``: the quartiles of the paired ratios."""
        lo, hi = self.quartiles
        return f"{lo:.2f}-{hi:.2f}"


def paired(ours, peer, *, rounds: int = 15, warmup: int = 1) -> Paired:
    """Time ``ours()`` and ``peer()`` interleaved, ``rounds`` pairs after ``warmup`` calls of
    each; the order inside a pair alternates, so neither always runs first."""
    for _ in range(warmup):
        ours()
        peer()
    a, b = [], []
    for r in range(rounds):
        for which in ((0, 1) if r % 2 == 0 else (1, 0)):
            fn = ours if which == 0 else peer
            t0 = time.perf_counter()
            fn()
            (a if which == 0 else b).append(time.perf_counter() - t0)
    return Paired(a, b)


def load_average() -> str:
    """The 1-minute load average, e.g. ``"3.1 on 2 cores"``."""
    try:
        return f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    except OSError:
        return "unknown"


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
