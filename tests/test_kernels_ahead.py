"""The kernels compiled ahead of time (:mod:`imgtool.kernels._ahead`): the same results as the
JIT kernels bit for bit, used by a new process without importing Numba, and refused when the
build is out of date. ``make test`` builds them first (``make ahead``)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from imgtool import edges, filters
from imgtool.kernels import _ahead
from imgtool.scan import detect
from imgtool.synth import render_photo

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "letter_wood.jpg"
COMPILER = shutil.which("cc") or shutil.which("gcc")


@pytest.fixture(scope="module")
def built():
    if not _ahead.status().split()[0].isdigit():
        if COMPILER is None:
            pytest.skip("no C compiler here: imgtool runs on the JIT kernels alone")
        if _ahead.FAILED.exists():  # make ahead tried, and warned why
            pytest.skip(f"the build failed here: {_ahead.FAILED.read_text().strip()}")
        pytest.fail(f"{_ahead.status()}: run `make ahead` (make test does)")
    return True


def _calls_on_uint8():
    """Wrapper calls that reach every exported signature (see the test below)."""
    rng = np.random.default_rng(7)
    grey = rng.integers(0, 256, (61, 83), dtype=np.uint8)
    colour = rng.integers(0, 256, (47, 52, 3), dtype=np.uint8)
    tiny = rng.integers(0, 256, (3, 2), dtype=np.uint8)
    photo = render_photo(5, size=(640, 480)).image
    out = []
    for img in (grey, colour, tiny):
        out += [filters.gaussian(img, 2.0), filters.gaussian(img, 0.8, border="constant",
                                                             cval=9),
                filters.box(img, 5), filters.box(img, (15, 31), border="wrap"),
                filters.box(img, (41, 9), border="reflect"),
                filters.laplacian(img), *filters.sobel(img, border="replicate"),
                filters.gradient_magnitude(img, norm="l1")]
        for method in edges.METHODS:
            out += list(edges.detect_edges(img, method=method)[0:1])
        out.append(edges.detect_edges(img, method=None, low=20, high=60, norm="l1")[0])
    out.append(detect(photo).corners)
    return out


def test_ahead_of_time_kernels_give_the_jit_results_bit_for_bit(built, monkeypatch):
    used = set()
    find = _ahead.find

    def spy(kernel, args):
        fn = find(kernel, args)
        if fn is not None:
            used.add(kernel)
        return fn

    monkeypatch.setattr(_ahead, "find", spy)
    import imgtool.kernels as k

    monkeypatch.setattr(k, "_find", spy)
    with _ahead.policy("always"):
        ahead = _calls_on_uint8()
    assert used == {f"{m}.{n}" for m, n, _ in _ahead.EXPORTS}  # every export was called
    used.clear()
    with _ahead.policy("never"):
        jit = _calls_on_uint8()
    assert not used
    assert len(ahead) == len(jit)
    for a, b in zip(ahead, jit, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)



def _filters_on_uint8():
    """Every filter whose kernel :mod:`imgtool.kernels` may cut into bands of rows."""
    rng = np.random.default_rng(11)
    out = []
    for shape in ((67, 45), (40, 31, 3), (16, 9)):
        img = rng.integers(0, 256, shape, dtype=np.uint8)
        out += [filters.gaussian(img, 2.0), filters.gaussian(img, 5.0, border="wrap"),
                filters.gaussian(img, 0.8, border="constant", cval=9),
                filters.box(img, 3), filters.box(img, (15, 31), border="reflect"),
                filters.box(img, 5, border="constant", cval=200),
                filters.box(img, (41, 9), border="wrap"),
                filters.laplacian(img), *filters.sobel(img, border="replicate"),
                filters.gradient_magnitude(img, norm="l1")]
    return out


@pytest.mark.parametrize("bands", [2, 3, 7])
def test_filters_cut_into_bands_of_rows_give_the_whole_image_result(built, monkeypatch, bands):
    """A large image's ahead-of-time filter call is cut into one band of rows per thread;
    here every image is cut (any size, ``bands`` threads): the JIT's results bit for bit."""
    import imgtool.kernels as k
    from imgtool.kernels import _jit

    calls = []
    find = _ahead.find

    def spy(kernel, args):
        fn = find(kernel, args)
        if fn is None or kernel not in k.ROW_KERNELS:
            return fn

        def counted(*a):
            calls.append(a[k.ROW_KERNELS[kernel][1][0]].shape[0])
            return fn(*a)
        return counted

    monkeypatch.setattr(k, "_find", spy)
    monkeypatch.setattr(k, "SPLIT_MIN_SCALE", 0)
    monkeypatch.setattr(_jit, "threads", lambda: bands)
    with _ahead.policy("always"):
        cut = _filters_on_uint8()
    # 10 kernel calls per image, each cut into min(threads, height // 16) bands
    assert len(calls) == 10 * (min(bands, 67 // 16) + min(bands, 40 // 16) + 1)
    with _ahead.policy("never"):
        whole = _filters_on_uint8()
    for a, b in zip(cut, whole, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def _run_cli(*args):
    """Run the command in a new process; its exit code, stdout, and whether Numba loaded."""
    script = ("import sys\nfrom imgtool.cli.main import main\n"
              f"sys.argv = ['imgtool', *{list(args)!r}]\n"
              "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
              "sys.stderr.write('\\nNUMBA=%s CODE=%s\\n' % ('numba' in sys.modules, code))\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT)
    tail = proc.stderr.strip().splitlines()[-1]
    return tail, proc.stdout


def test_a_new_process_scans_and_filters_without_importing_numba(built, tmp_path):
    tail, out = _run_cli("scan", "--json", "--detect-only", str(SAMPLE))
    assert tail == "NUMBA=False CODE=0"
    from imgtool.io import read_photo

    photo = read_photo(SAMPLE)
    with _ahead.policy("never"):
        expected = detect(photo.image, focal=photo.focal).corners
    assert np.allclose(json.loads(out)["corners"], expected, atol=0.05 + 1e-9)  # JSON: 0.1 px
    tail, _ = _run_cli("scan", str(SAMPLE), "-o", str(tmp_path / "page.jpg"))
    assert tail == "NUMBA=False CODE=0" and (tmp_path / "page.jpg").stat().st_size > 10000
    tail, _ = _run_cli("edges", "--auto", str(SAMPLE), "-o", str(tmp_path / "e.png"))
    assert tail == "NUMBA=False CODE=0"
    tail, _ = _run_cli("filter", "--gaussian", "--sigma", "2", str(SAMPLE), "-o",
                       str(tmp_path / "g.png"))
    assert tail == "NUMBA=False CODE=0"


def test_a_16_bit_image_needs_the_jit_and_loads_numba(built, tmp_path):
    """Signatures outside the exports take the JIT path: here a 16-bit PNG."""
    import cv2

    src = tmp_path / "deep.png"
    cv2.imwrite(str(src), (np.arange(64 * 48, dtype=np.uint16).reshape(48, 64) * 20))
    tail, _ = _run_cli("filter", "--gaussian", "--sigma", "1", str(src), "-o",
                       str(tmp_path / "out.png"))
    assert tail == "NUMBA=True CODE=0"


def test_an_out_of_date_build_is_not_used(built, monkeypatch):
    monkeypatch.setattr(_ahead, "fingerprint", lambda: "another build")
    monkeypatch.setattr(_ahead, "_table", None)
    args = (np.zeros(256, np.int64),)
    with _ahead.policy("always"):
        assert _ahead.find("_canny.otsu_bin", args) is None
    assert "other kernel sources" in _ahead.status()
    monkeypatch.undo()
    monkeypatch.setattr(_ahead, "_table", None)  # read the build again
    with _ahead.policy("always"):
        assert _ahead.find("_canny.otsu_bin", args) is not None


def test_argument_types_are_matched_exactly():
    a = np.zeros((4, 6), np.uint8)
    assert _ahead.type_key(a) == "uint8[2]C"
    assert _ahead.type_key(a[:, ::2]) is None  # not contiguous: the JIT takes it
    ro = a.copy()
    ro.flags.writeable = False
    assert _ahead.type_key(ro) is None
    assert [_ahead.type_key(v) for v in (True, np.bool_(False), 3, 2.5, np.float32(1))] == [
        "bool", "bool", "int64", "float64", "float32"]
    assert _ahead.type_key("text") is None


def _python_with_two_threads(script: str) -> list[str]:
    """What ``script`` prints, run in a new process that may use two Numba threads."""
    import os

    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "NUMBA_NUM_THREADS": "2"})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_thread_settings_made_before_numba_loads_reach_it():
    assert _python_with_two_threads(
        "from imgtool.kernels._jit import set_threads, threads\n"
        "import sys\n"
        "set_threads(1)\n"
        "assert 'numba' not in sys.modules and threads() == 1\n"
        "import imgtool.kernels._gaussian, numba\n"
        "print(numba.get_num_threads())\n"
        "set_threads(None)\n"
        "print(numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS)\n") == ["1", "True"]
    # a limit entered before Numba loads holds inside the block, and is lifted after it
    assert _python_with_two_threads(
        "from imgtool.kernels._jit import at_most_threads, threads\n"
        "with at_most_threads(1):\n"
        "    assert threads() == 1\n"
        "    import imgtool.kernels._gaussian, numba\n"
        "    print(numba.get_num_threads())\n"
        "print(numba.get_num_threads())\n") == ["1", "2"]


@pytest.mark.skipif(not hasattr(__import__("os"), "sched_setaffinity"), reason="Linux only")
def test_all_cores_means_the_cores_this_process_may_use():
    """Before Numba loads, "all cores" is counted as Numba counts them (the CPU affinity)."""
    script = ("import os\nos.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})\n"
              "from imgtool.kernels._jit import set_threads\n"
              "print(set_threads(None))\n"
              "import imgtool.kernels._gaussian, numba\n"
              "print(numba.get_num_threads())\n")
    env = {k: v for k, v in __import__("os").environ.items() if k != "NUMBA_NUM_THREADS"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["1", "1"]
