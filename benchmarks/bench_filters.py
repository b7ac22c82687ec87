"""Filters: imgtool vs OpenCV, scipy.ndimage and scikit-image on a 4000 x 3000 image, at one
thread and at all threads (interleaved paired runs against OpenCV).

``python -m benchmarks.run filters`` writes the "filters" section of BENCHMARKS.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import time

import cv2
import numpy as np

from benchmarks import _report
from imgtool import filters

ROUNDS = 15
SHAPE = (3000, 4000)  # H x W: a 12-megapixel photo


def natural_image(shape=SHAPE, seed=0):
    """Smoothed noise at two scales plus a few hard edges, as float32 in [0, 1]."""
    rng = np.random.default_rng(seed)
    coarse = cv2.GaussianBlur(rng.random(shape, dtype=np.float32), (0, 0), 12)
    fine = cv2.GaussianBlur(rng.random(shape, dtype=np.float32), (0, 0), 1.5)
    x = 0.7 * (coarse - coarse.min()) / np.ptp(coarse) + 0.3 * (fine - fine.min()) / np.ptp(fine)
    h, w = shape
    x[h // 3 : 2 * h // 3, w // 4 : w // 2] += 0.25  # a bright rectangle
    x[:, 3 * w // 4 :] = 1.0 - x[:, 3 * w // 4 :]  # a vertical step
    return np.clip(x / x.max(), 0, 1).astype(np.float32)


#: glibc's limit (bytes) from which a block is mapped fresh instead of taken from the heap,
#: pinned for the timings: 1 GiB, so every output comes back from the heap with its pages
#: already touched, for imgtool and OpenCV alike (see :func:`_pin_allocator`).
PINNED_MMAP_THRESHOLD = 1 << 30


def _pin_allocator() -> bool:
    """Pin glibc's mmap and trim limits (``mallopt``) for this process; False if not glibc.

    glibc moves the limit as the process frees memory, so whether a 12 MB output costs
    about 3000 page faults at first touch depends on what ran before: the same call took
    16-19% longer in one run than in another (BENCHMARKS.md, edges section). Pinned, the
    faults are gone for both sides and the run-to-run difference with them.
    """
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, PINNED_MMAP_THRESHOLD)
                    and libc.mallopt(m_trim_threshold, PINNED_MMAP_THRESHOLD))
    except (OSError, AttributeError):
        return False


def _ms(t):
    return f"{t * 1e3:.1f}"


def _verdict(ratio, target):
    if target is None:
        return "no target"
    return f"{'met' if ratio <= target else 'missed'} (<= {target:g}x)"


def _cv_magnitude(img):
    gx = cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=3)
    return cv2.magnitude(gx, gy)


def _scipy_magnitude(img):
    from scipy import ndimage

    x = img.astype(np.float32)
    gx = ndimage.sobel(x, axis=1, mode="mirror")
    return np.hypot(gx, ndimage.sobel(x, axis=0, mode="mirror"))


def _cases(u8, f32):
    """(label, ours, OpenCV, target ratios vs OpenCV (1 thread, all threads) or None, scipy,
    scikit-image) for every kernel."""
    from scipy import ndimage
    from skimage import filters as skf

    cases = []
    for img in (u8, f32):
        for sigma in (1, 2, 5):
            r = filters.gaussian_radius(sigma, 0.001)
            k = filters.gaussian_kernel(sigma, 0.001)
            ks = 2 * r + 1

            def scipy_g(img=img, k=k):
                x = ndimage.correlate1d(img, k, axis=0, mode="mirror")
                return ndimage.correlate1d(x, k, axis=1, mode="mirror")

            cases.append(
                (
                    f"gaussian {img.dtype} sigma={sigma} (r={r})",
                    lambda img=img, s=sigma: filters.gaussian(img, s),
                    lambda img=img, s=sigma, ks=ks: cv2.GaussianBlur(img, (ks, ks), s, s),
                    (1.0, 1.0),
                    scipy_g,
                    lambda img=img, s=sigma, r=r: skf.gaussian(
                        img, sigma=s, truncate=r / s, mode="mirror", preserve_range=True
                    ),
                )
            )
    for size in (3, 5, 9, 11, 51, 101):
        cases.append(
            (
                f"box uint8 {size}x{size}",
                lambda s=size: filters.box(u8, s),
                lambda s=size: cv2.blur(u8, (s, s)),
                {3: (1.0, None), 51: (1.2, 1.2)}.get(size),
                lambda s=size: ndimage.uniform_filter(u8, s, mode="mirror"),
                None,
            )
        )
    for img in (u8, f32):
        cases.append(
            (
                f"gradient magnitude {img.dtype} (fused)",
                lambda img=img: filters.gradient_magnitude(img),
                lambda img=img: _cv_magnitude(img),
                (0.7, 0.7),
                lambda img=img: _scipy_magnitude(img),
                lambda img=img: skf.sobel(img),
            )
        )
        cases.append(
            (
                f"laplacian {img.dtype} (4-neighbour)",
                lambda img=img: filters.laplacian(img),
                lambda img=img: cv2.Laplacian(img, cv2.CV_32F, ksize=1),
                (1.5, 1.5),
                lambda img=img: ndimage.laplace(img.astype(np.float32), mode="mirror"),
                lambda img=img: skf.laplace(img, ksize=3),
            )
        )
    cases.append(
        (
            "sobel uint8 (gx, gy)",
            lambda: filters.sobel(u8),
            lambda: (
                cv2.Sobel(u8, cv2.CV_32F, 1, 0, ksize=3),
                cv2.Sobel(u8, cv2.CV_32F, 0, 1, ksize=3),
            ),
            None,
            lambda: (
                ndimage.sobel(u8.astype(np.float32), axis=1, mode="mirror"),
                ndimage.sobel(u8.astype(np.float32), axis=0, mode="mirror"),
            ),
            None,
        )
    )
    return cases


ALLOCATOR_TEXT = (
    "Allocator: glibc's limits are pinned (`mallopt` M_MMAP_THRESHOLD and M_TRIM_THRESHOLD "
    "at 1 GiB) for the whole run, so both sides get their 12 MB outputs back from the heap "
    "with the pages already touched: glibc otherwise moves the limit as the process frees "
    "memory, and whether a call pays about 3000 page faults then depends on what ran "
    "before it (the edges section measures both cases)."
)

MISS_NOTES_BOX_RATIO = (
    "Box 51x51 vs 3x3: uint8 windows wider than 9 are summed rows first by vectorised prefix "
    "sums (about three uint16 passes per row plus the vertical pass), against two passes in "
    "uint16 lanes for windows up to 9 wide and 256 pixels (`box_small_u8`: 16 lanes per AVX2 "
    "vector, the mean by a multiply-high), which is the fast special case. The wide path "
    "itself does not grow with the window (101x101 / 11x11 above)."
)

_COMPILE_SCRIPT = textwrap.dedent(
    """
    import time
    t0 = time.perf_counter()
    import numpy as np
    from imgtool import filters
    t1 = time.perf_counter()
    for dtype in (np.uint8, np.float32):
        img = np.zeros((32, 32), dtype)
        filters.gaussian(img, 1.0)
        filters.box(img, 3)
        filters.laplacian(img)
        filters.sobel(img)
        filters.gradient_magnitude(img)
    t2 = time.perf_counter()
    print(t1 - t0, t2 - t1)
    """
)


_ONE_SHOT_SCRIPT = textwrap.dedent(
    """
    import json, statistics, sys, time
    import numpy as np
    import imgtool.kernels as k
    from imgtool import filters
    from imgtool.kernels import _ahead
    rounds = int(sys.argv[1])
    assert _ahead.status().split()[0].isdigit(), _ahead.status()
    rng = np.random.default_rng(0)
    out = {}
    for mp in (1, 2, 4, 8, 12, 24):
        h = int((mp * 1e6 * 3 / 4) ** 0.5)
        img = rng.integers(0, 256, (h, h * 4 // 3), dtype=np.uint8)
        for name, fn in (("gaussian sigma 2", lambda: filters.gaussian(img, 2.0)),
                         ("box 3x3", lambda: filters.box(img, 3)),
                         ("box 15x15", lambda: filters.box(img, 15)),
                         ("laplacian", lambda: filters.laplacian(img))):
            ts = {0: [], 1: []}
            for r in range(rounds):
                for split in ((0, 1) if r % 2 == 0 else (1, 0)):
                    k.SPLIT_MIN_SCALE = 0 if split else 1e30
                    t0 = time.perf_counter()
                    fn()
                    ts[split].append(time.perf_counter() - t0)
            ratios = [a / b for a, b in zip(ts[1], ts[0])]
            out.setdefault(name, []).append(
                [mp, min(ts[0]), min(ts[1]), statistics.median(ratios)])
    assert "numba" not in sys.modules
    print(json.dumps(out))
    """
)


def one_shot(rounds: int = 11) -> str:
    """A new process without Numba (the ahead-of-time kernels): one thread against the image
    cut into bands of rows for all threads, paired, at several sizes: the cross-over."""
    import json

    env = dict(os.environ, PYTHONPATH=str(_report.ROOT))
    env.pop("IMGTOOL_AHEAD", None)
    res = subprocess.run([sys.executable, "-c", _ONE_SHOT_SCRIPT, str(rounds)], env=env,
                         cwd=_report.ROOT, capture_output=True, text=True)
    if res.returncode != 0:
        return ("Not measured: the kernels compiled ahead of time are not usable here ("
                + res.stderr.strip().splitlines()[-1] + ").")
    data = json.loads(res.stdout)
    from imgtool.kernels import ROW_KERNELS
    from imgtool.kernels._jit import max_threads

    rows = []
    for name, entries in data.items():
        for mp, t1, tn, ratio in entries:
            rows.append([name, f"{mp:g}", _ms(t1), _ms(tn), f"**{ratio:.2f}**"])
    return (
        "A one-shot command (`imgtool filter`, `imgtool edges`) runs the kernels compiled "
        "ahead of time and never imports Numba (about 0.5 s saved). Those kernels release "
        "the GIL, so `imgtool.kernels` cuts a filter call on a large image into one band of "
        f"rows per thread (here {max_threads()}); the result is the same bit for bit "
        "(`tests/test_kernels_ahead.py`). Measured in a new process without Numba, random "
        f"uint8 images, {rounds} pairs per row (one thread / bands, interleaved); ratio < 1: "
        "the bands pay.\n\n"
        + _report.table(["filter", "megapixels", "1 thread min ms",
                         f"{max_threads()} bands min ms", "median paired ratio bands / 1"],
                        rows)
        + "\n\nThe sizes from which a call is cut (`imgtool.kernels.ROW_KERNELS`, set from "
        "this table): "
        + ", ".join(f"`{name.split('.')[1]}` {m / 2**20:g} Mi values"
                    for name, (_, _, m) in ROW_KERNELS.items())
        + f".\n\nLoad average at the end: {_report.load_average()}. Canny's hysteresis is "
        "global, so `edges` gains the bands for its Gaussian only; the JIT kernels (which "
        "`imgtool` uses once Numba is loaded, e.g. in a batch) use the threads themselves."
    )


def compile_times():
    """First call in a fresh process with an empty Numba cache, then a second fresh process."""
    root = _report.ROOT
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(root), IMGTOOL_AHEAD="0")
        out = []
        for _ in range(2):
            res = subprocess.run(
                [sys.executable, "-c", _COMPILE_SCRIPT],
                env=env,
                cwd=root,
                capture_output=True,
                text=True,
                check=True,
            )
            out.append(tuple(float(v) for v in res.stdout.split()))
    return out


def _cell(res, target):
    """``"**0.93** (0.90-0.97) met"``: median paired ratio, quartiles, verdict."""
    verdict = "" if target is None else (" met" if res.ratio <= target else " **missed**")
    return f"**{res.ratio:.2f}** ({res.spread()}){verdict}"


def main() -> None:
    import numba  # noqa: F401  (the JIT kernels, which use threads: see the text)

    from imgtool.kernels._jit import max_threads

    all_threads = max_threads()
    pinned = _pin_allocator()
    f32 = natural_image()
    u8 = np.round(f32 * 255).astype(np.uint8)

    load0 = _report.load_average()
    rows = []
    missed = []
    ours_box = {}
    for label, ours, ocv, targets, sp, sk in _cases(u8, f32):
        res = {}
        for n in (1, all_threads):
            filters.set_threads(n)
            cv2.setNumThreads(n)
            res[n] = _report.paired(ours, ocv, rounds=ROUNDS)
        t_sp = _report.timeit(sp, repeat=1, warmup=0)
        t_sk = _report.timeit(sk, repeat=1, warmup=0) if sk is not None else None
        if label.startswith("box"):
            ours_box[label] = res[1].ours_min
        t1, tn = targets if targets is not None else (None, None)
        for n, t in ((1, t1), (all_threads, tn)):
            if t is not None and res[n].ratio > t:
                missed.append(f"{label} at {n} thread(s): {res[n].ratio:.2f}x (target {t:g}x)")
        t_ours = res[all_threads].ours_min
        rows.append(
            [
                label,
                f"{_ms(res[1].ours_min)} / {_ms(res[1].peer_min)}",
                _cell(res[1], t1),
                f"{_ms(res[all_threads].ours_min)} / {_ms(res[all_threads].peer_min)}",
                _cell(res[all_threads], tn),
                "-" if targets is None else " / ".join("-" if t is None else f"<= {t:g}"
                                                       for t in targets),
                _ms(t_sp),
                f"{t_sp / t_ours:.0f}x {'met' if t_sp / t_ours >= 10 else 'missed'}",
                _ms(t_sk) if t_sk is not None else "-",
            ]
        )
        print(f"  {label}: {rows[-1][1:6]}", file=sys.stderr, flush=True)
    filters.set_threads(all_threads)
    cv2.setNumThreads(all_threads)
    b3, b51 = ours_box["box uint8 3x3"], ours_box["box uint8 51x51"]
    b11, b101 = ours_box["box uint8 11x11"], ours_box["box uint8 101x101"]
    notes = [MISS_NOTES_BOX_RATIO] if b51 / b3 > 1.3 else []
    (c_import, c_first), (w_import, w_first) = compile_times()

    table = _report.table(
        [
            "kernel",
            "1 thread: imgtool / OpenCV min ms",
            "1 thread: ratio (quartiles)",
            f"{all_threads} threads: imgtool / OpenCV min ms",
            f"{all_threads} threads: ratio (quartiles)",
            "targets (1 / all threads)",
            "scipy.ndimage ms",
            "scipy / imgtool (>= 10x)",
            "scikit-image ms",
        ],
        rows,
    )
    busy = (" The load exceeded the cores: other programs held part of the second core, so "
            "the 2-thread times say more about them than about either library (compare "
            "each side's 1- and 2-thread times); the 1-thread ratios are the ones this "
            "run can vouch for."
            if os.getloadavg()[0] > (os.cpu_count() or 1) else "")
    missed_text = ("Targets missed in this run: " + "; ".join(missed) + "."
                   if missed else "Every target met in this run.")
    body = f"""
Image {SHAPE[1]} x {SHAPE[0]} (smoothed noise at two scales plus edges), single channel.
imgtool runs its JIT kernels (`set_threads`), OpenCV the same number of threads
(`cv2.setNumThreads`), at 1 thread and at all {all_threads}. Border: reflect101 everywhere
(OpenCV's default; scipy/scikit-image `mode="mirror"`). The Gaussian peers use the same radius
(OpenCV `ksize = 2r + 1`, scipy `correlate1d` with our kernel, scikit-image
`truncate = r / sigma`). {ROUNDS} pairs per cell. {_report.PAIRED_METHOD} scipy and
scikit-image: one run at all threads (scipy is single-threaded), against imgtool's minimum at
all threads. scikit-image's Sobel is its normalised magnitude, its Laplacian the
8-neighbour-ish `ksize=3` one: comparable work, shown for scale.

{ALLOCATOR_TEXT if pinned else "glibc's allocator could not be pinned here (not glibc)."}

{table}

{missed_text}

Box cost vs window size (1 thread): imgtool 51x51 / 3x3 = {b51 / b3:.2f}
({_verdict(b51 / b3, 1.3)}); on the running-sum path alone (windows wider than 9),
101x101 / 11x11 = {b101 / b11:.2f}.

Load average (1 min) before / after the run: {load0} / {_report.load_average()} (other work
on the cores: the paired ratios are the figures to read, the minimum times are noisier).{busy}

{chr(10).join("- " + n for n in notes)}

Numba JIT compile time (all five filters, uint8 and float32 signatures, with
`IMGTOOL_AHEAD=0`: no kernel compiled ahead of time): first call in a fresh process with an
empty cache {c_first:.1f} s (import {c_import:.2f} s); a second fresh process loading that
cache {w_first:.2f} s (import {w_import:.2f} s). The first calls include Numba's import, which
`from imgtool import filters` does not do.
"""
    _report.write_section("filters", "Filters (imgtool.filters)", body)
    print(body, file=sys.stderr)
    shot = one_shot()
    _report.write_section("oneshot", "One-shot commands: threads without Numba", shot)
    print(shot, file=sys.stderr)


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"{time.perf_counter() - t:.0f} s", file=sys.stderr)
