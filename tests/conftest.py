"""Shared test helpers: run the real CLI entry point in-process and make test images."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def ctrl_c_default() -> None:
    """``preexec_fn`` for a child that a test sends Ctrl-C (SIGINT): a shell without job
    control starts background commands with SIGINT ignored, and a child inherits that, so a
    suite run in the background (``make test &``) would see the signal vanish."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class CliResult:
    code: int
    out: bytes
    err: str

    @property
    def text(self) -> str:
        return self.out.decode()


def run_cli(args, *, stdin: bytes = b"", cwd: Path | None = None) -> CliResult:
    """Call ``imgtool.cli.main.main(args)`` in-process, capturing exit code and output."""
    from imgtool.cli.main import main

    old = sys.stdin, sys.stdout, sys.stderr, os.getcwd()
    out, err = io.BytesIO(), io.StringIO()
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    sys.stdout = io.TextIOWrapper(out, write_through=True)
    sys.stderr = err
    if cwd is not None:
        os.chdir(cwd)
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdout.flush()
        sys.stdout.detach()  # keep the BytesIO open after the wrapper goes
        data = out.getvalue()
        sys.stdin, sys.stdout, sys.stderr, cwd_back = old
        os.chdir(cwd_back)
    return CliResult(code, data, err.getvalue())


def run_subprocess(args, *, cwd=None, stdin=None, timeout=120):
    """Run ``python -m imgtool ARGS`` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "imgtool", *map(str, args)],
        cwd=cwd, input=stdin, capture_output=True, timeout=timeout,
    )  # fmt: skip


def encode(image: np.ndarray, ext: str = ".png") -> bytes:
    ok, buf = cv2.imencode(ext, image)
    assert ok
    return buf.tobytes()


def natural_image(h=64, w=80, channels=3, dtype=np.uint8, seed=0) -> np.ndarray:
    """Smooth noise with a few shapes: enough structure for filters and edges."""
    rng = np.random.default_rng(seed)
    planes = [cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), 3)
              for _ in range(channels)]
    base = planes[0] if channels == 1 else np.dstack(planes)
    base = (base - base.min()) / max(float(np.ptp(base)), 1e-6)
    base[h // 4 : h // 2, w // 4 : w // 2] = 0.9
    if dtype == np.float32:
        return base.astype(np.float32)
    top = np.iinfo(dtype).max
    return np.rint(base * top).astype(dtype)


@pytest.fixture
def png_file(tmp_path) -> Path:
    p = tmp_path / "in.png"
    p.write_bytes(encode(natural_image()))
    return p


def listing(folder: Path) -> list[str]:
    """All names in a folder, hidden temporaries included."""
    return sorted(os.listdir(folder))
