"""Kernels compiled ahead of time, so that a one-shot command starts without Numba.

A new process that imports Numba and loads the cached JIT kernels spends about 0.5 s before
its first kernel runs: more than a whole scan of a 12-megapixel photo. So ``make`` compiles the
kernels that the scanner, ``imgtool edges`` and ``imgtool filter`` call on 8-bit images, with
exactly the argument types of those calls (:data:`EXPORTS`), into one extension module with
Numba's ahead-of-time compiler (``numba.pycc``). The code is the same Python functions that the
JIT compiles; only when it is compiled differs. The module needs NumPy, not Numba.

A kernel call (through :mod:`imgtool.kernels`) runs the ahead-of-time build when

- it is built, from the same kernel sources, Numba, llvmlite, NumPy, Python and CPU
  (:func:`fingerprint`);
- the arguments have exactly the types of one of its signatures;
- this process has not imported Numba. Once it has (a call that needed the JIT, or a
  caller that imported a kernel module), the JIT kernels run, which use several threads;
- and the call comes from the main thread (:mod:`imgtool.kernels` may then cut the call
  into bands of rows, run by threads of its own).

Both builds give the same results bit for bit (``tests/test_kernels_ahead.py``). An
ahead-of-time kernel runs on one thread and releases the GIL while it runs (the build
patches ``numba.pycc``'s compile flags for that), so filters cut into bands use several
cores. ``IMGTOOL_AHEAD=0`` in the environment turns the build off.

Build: ``python -m imgtool.kernels._ahead`` (``make`` does it; it needs a C compiler, and does
nothing when the build is current). Without the build, everything works through the JIT.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import platform
import sys
import threading
import time
import zlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np

#: The module the build makes, beside this file, and its manifest.
LIB_NAME = "_ahead_lib"
HERE = Path(__file__).resolve().parent
MANIFEST = HERE / f"{LIB_NAME}.json"
#: Written when a build fails: why (the tests skip their checks of the build then).
FAILED = HERE / f"{LIB_NAME}.failed"

#: (kernel module, kernel, argument types in Numba's notation). The signatures are those of
#: the calls the wrappers make on uint8 images: ``tests/test_kernels_ahead.py`` runs the
#: scanner, ``edges`` and ``filter`` in a new process and checks that Numba is not imported.
EXPORTS = (
    ("_gaussian", "separable_symmetric",
     "uint8[:, ::1], int64, float32[::1], float32[::1], int64[::1], int64[::1], float64, "
     "float64, int64, uint8[:, ::1]"),
    ("_derivatives", "stencil3x3",
     "uint8[:, ::1], int64, int64, int64[::1], int64[::1], float64, int64, float32[:, ::1], "
     "float32[:, ::1]"),
    ("_box", "box_sum_mean",
     "uint8[:, ::1], int64, int64, int64, int64[::1], int64[::1], float64, int32[::1], "
     "boolean, int64, uint8[:, ::1]"),
    ("_box", "box_small_u8",
     "uint8[:, ::1], int64, int64, int64, int64[::1], int64[::1], float64, int64, int64, int64, "
     "uint8[:, ::1]"),
    ("_box", "box_rows_first_u8",
     "uint8[:, ::1], int64, int64, int64, int64[::1], int64[::1], float64, boolean, int64, "
     "uint8[:, ::1]"),
    ("_canny", "bgr_to_gray_u8", "uint8[:, :, ::1]"),
    ("_canny", "histogram_u8", "uint8[:, ::1]"),
    ("_canny", "otsu_bin", "int64[::1]"),
    ("_canny", "ridge_histogram_u8", "uint8[:, ::1], boolean, float64, int64, int64"),
    ("_canny", "canny_u8", "uint8[:, ::1], float64, float64, boolean, int64"),
    ("_lab", "lab_ab_u8",
     "uint8[:, :, ::1], float64[::1], float64[::1], float64, float32[:, :, ::1]"),
    ("_quad", "boundary_share",
     "float32[:, :, ::1], float64[:, ::1], float64[:, ::1], float64, float64, int64, float64, "
     "float64, float64, float64"),
)

#: "auto" (the rule in the module docstring), "never", or "always" (also after Numba is
#: imported: the tests use it to compare the two builds in one process).
_policy = "never" if os.environ.get("IMGTOOL_AHEAD", "1") == "0" else "auto"
_table: dict | None = None  # kernel -> {argument types: function}; {} when not usable
_why_not = ""
_load_lock = threading.Lock()


_ARRAY_KEYS: dict = {}  # (dtype, ndim) -> type key (``dtype.name`` is slow to look up)


def type_key(value) -> str | None:
    """The type of one argument as the manifest writes it, e.g. ``uint8[2]C`` or ``int64``;
    None for a value no export takes."""
    if isinstance(value, np.ndarray):
        f = value.flags
        if not (f.c_contiguous and f.writeable and f.aligned):
            return None
        key = _ARRAY_KEYS.get((value.dtype, value.ndim))
        if key is None:
            key = _ARRAY_KEYS[value.dtype, value.ndim] = f"{value.dtype.name}[{value.ndim}]C"
        return key
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, np.generic):
        return value.dtype.name
    return None


def find(kernel: str, args: tuple):
    """The ahead-of-time function for ``kernel`` (``"_canny.hysteresis"``) called with
    ``args``, or None when the call should go to the JIT."""
    if _policy == "never" or (_policy == "auto" and (
            "numba" in sys.modules or threading.current_thread() is not threading.main_thread())):
        return None
    table = _table if _table is not None else _load()
    sigs = table.get(kernel)
    if not sigs:
        return None
    return sigs.get(tuple(type_key(a) for a in args))


def status() -> str:
    """One line: whether the ahead-of-time build is used, and if not, why."""
    table = _table if _table is not None else _load()
    if table:
        n = sum(len(s) for s in table.values())
        return f"{n} kernel signatures compiled ahead of time ({_policy})"
    return f"no kernels compiled ahead of time: {_why_not}"


@contextmanager
def policy(value: str):
    """Use ``value`` ("auto", "never", "always") inside the block (tests, benchmarks)."""
    global _policy
    before, _policy = _policy, value
    try:
        yield
    finally:
        _policy = before


def fingerprint() -> str:
    """What the build depends on: the kernel sources, Numba, llvmlite, NumPy, Python and the
    CPU."""
    crc = 0
    for f in sorted(HERE.glob("*.py")):
        crc = zlib.crc32(f.read_bytes(), zlib.crc32(f.name.encode(), crc))
    for package in ("numba", "llvmlite"):  # their version files, without importing them
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin:
            try:
                crc = zlib.crc32((Path(spec.origin).parent / "_version.py").read_bytes(), crc)
            except OSError:
                pass
    return f"{crc:08x}|{np.__version__}|{sys.version}|{_cpu()}"


def _cpu() -> str:
    """The CPU model and its instruction-set flags (the build targets this CPU)."""
    found = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "flags", "Features", "CPU part") and key not in found:
                    found[key] = value.strip()
                if not line.strip() and found:
                    break  # the first processor is enough
    except OSError:
        pass
    text = "|".join([platform.machine(), *(f"{k}={v}" for k, v in sorted(found.items()))])
    return f"{zlib.crc32(text.encode()):08x}"


def _load() -> dict:
    global _table, _why_not
    with _load_lock:
        if _table is None:
            _table, _why_not = _read_build()
    return _table


def _read_build() -> tuple[dict, str]:
    """The table of the build beside this file, or ``{}`` and why it is not used."""
    try:
        manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, "not built (make builds it)"
    if manifest.get("fingerprint") != fingerprint():
        return {}, ("built from other kernel sources, Numba, NumPy, Python or CPU (make "
                    "rebuilds it)")
    try:
        lib = importlib.import_module(f"imgtool.kernels.{LIB_NAME}")
        table = {}
        for entry in manifest["exports"]:
            fn = getattr(lib, entry["symbol"])
            table.setdefault(entry["kernel"], {})[tuple(entry["args"])] = fn
    except Exception as exc:  # noqa: BLE001 (a broken build leaves the JIT, which works)
        return {}, f"cannot load the build: {type(exc).__name__}: {exc}"
    return table, ""


def _numba_key(t) -> str:
    """:func:`type_key` of a Numba type."""
    from numba import types

    if isinstance(t, types.Array):
        if t.layout != "C":
            raise ValueError(f"exports take C-contiguous arrays only, not {t}")
        return f"{t.dtype}[{t.ndim}]C"
    return str(t)


def build() -> int:
    """Compile :data:`EXPORTS` into ``_ahead_lib`` beside this file, unless it is current.
    Returns the number of signatures compiled (0 when nothing was to do)."""
    fp = fingerprint()
    try:
        current = json.loads(MANIFEST.read_text(encoding="utf-8")).get("fingerprint") == fp
    except (OSError, ValueError):
        current = False
    import sysconfig

    if current and (HERE / f"{LIB_NAME}{sysconfig.get_config_var('EXT_SUFFIX')}").exists():
        return 0
    import shutil
    import tempfile

    import numba
    from numba import types
    from numba.pycc import CC

    start = time.perf_counter()
    entries = []
    with tempfile.TemporaryDirectory(prefix="imgtool-ahead-") as tmp:
        cc = CC(LIB_NAME)
        cc.output_dir = tmp
        cc.target_cpu = "host"
        cc.verbose = False
        for i, (module, name, argtext) in enumerate(EXPORTS):
            dispatcher = getattr(importlib.import_module(f"imgtool.kernels.{module}"), name)
            argtypes = tuple(eval(f"({argtext},)", dict(vars(types))))  # noqa: S307 (our table)
            dispatcher.compile(argtypes)
            ret = dispatcher.overloads[argtypes].signature.return_type
            symbol = f"k{i}_{name}"
            cc.export(symbol, ret(*argtypes))(dispatcher.py_func)
            entries.append({"kernel": f"{module}.{name}", "symbol": symbol,
                            "args": [_numba_key(t) for t in argtypes]})
        _compile_releasing_the_gil(cc)
        built = list(Path(tmp).glob(f"{LIB_NAME}.*"))
        if len(built) != 1:
            raise RuntimeError(f"the compiler made {len(built)} files, expected one")
        for old in HERE.glob(f"{LIB_NAME}.*"):
            if old.suffix not in (".json", ".failed"):
                old.unlink()
        target = HERE / built[0].name
        staged = HERE / f".{built[0].name}.tmp"
        shutil.copyfile(built[0], staged)  # then a rename: never a half-written module
        os.replace(staged, target)
        text = json.dumps({"fingerprint": fp, "numba": numba.__version__,
                           "exports": entries}, indent=1)
        tmp_manifest = MANIFEST.with_suffix(".json.tmp")
        tmp_manifest.write_text(text, encoding="utf-8")
        os.replace(tmp_manifest, MANIFEST)
    FAILED.unlink(missing_ok=True)
    print(f"imgtool: compiled {len(entries)} kernel signatures ahead of time in "
          f"{time.perf_counter() - start:.0f} s ({target.name})")
    return len(entries)


def _compile_releasing_the_gil(cc) -> None:
    """``cc.compile()`` with wrappers that release the GIL while a kernel runs, like the JIT
    kernels' ``nogil=True``: ``numba.pycc`` has no option for it, so the compile flags it
    makes are given ``release_gil`` for the duration of the build. The kernels touch no
    Python object, so threads can run them at once (:mod:`imgtool.kernels` cuts filters
    into bands of rows)."""
    import numba.pycc.compiler as pycc_compiler

    plain = pycc_compiler.Flags

    class _FlagsReleasingTheGil(plain):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.release_gil = True

    pycc_compiler.Flags = _FlagsReleasingTheGil
    try:
        cc.compile()
    finally:
        pycc_compiler.Flags = plain


def main() -> int:
    """``make ahead``: build, or warn why not; exit 0 either way (the JIT always works)."""
    try:
        build()
    except Exception as exc:  # noqa: BLE001 (any failure leaves the JIT, which always works)
        why = f"{type(exc).__name__}: {exc}".splitlines()[0]
        FAILED.write_text(why + "\n", encoding="utf-8")
        print(f"imgtool: warning: kernels not compiled ahead of time ({why}); imgtool works, "
              "but each new process spends about 0.5 s loading Numba", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
