"""Private Numba kernels, and the way the rest of imgtool calls them.

Nothing here validates its input: the public wrappers in :mod:`imgtool.filters`,
:mod:`imgtool.edges` and :mod:`imgtool.scan` check dtypes, shapes and parameters, then call
these. Every kernel is compiled with :func:`imgtool.kernels._jit.kernel` (``cache=True``,
``nogil=True``).

The wrappers call a kernel through a stand-in for its module, which imports nothing::

    from imgtool.kernels import canny
    edges = canny.canny_u8(smoothed, low, high, l2, nblocks)

The call runs the kernel compiled ahead of time when :mod:`imgtool.kernels._ahead` has it
for these argument types, Numba is not imported yet and the caller is the main thread (a
one-shot command then never imports Numba); otherwise it imports the kernel module, and with
it Numba, and runs the JIT kernel. Both give the same results.

The ahead-of-time build runs on one thread per call, but releases the GIL. So a filter whose
output rows are independent (:data:`ROW_KERNELS`) is cut into bands of rows, one per thread
(:func:`imgtool.kernels._jit.threads`), when the image is large enough for the threads to pay
(the kernel's minimum in :data:`ROW_KERNELS`): a one-shot command uses the cores without
importing Numba. The bands give the same result bit for bit (each output row is computed from
the same source rows the same way).
"""

from __future__ import annotations

import importlib

#: Kernels whose output rows are made independently of each other: kernel -> (position of
#: the row border table ``rowidx``, positions of the outputs, the smallest output (values)
#: worth cutting). A band of output rows ``[y0, y1)`` is the call with
#: ``rowidx[y0 : y1 + halo]`` (``halo = rowidx.size - H``) and the outputs' rows
#: ``[y0, y1)``; the kernels take the height from their output. The minimums are where
#: BENCHMARKS.md ("One-shot commands") measured the bands a clear gain on 2 cores: a cheap
#: kernel pays for the threads' hand-over only on large images, if at all. The small uint8
#: box (3x3: about 0.15 ms per megapixel at 1 thread, bound by memory) gained nothing at 8
#: and 12 megapixels in two runs (1.02-1.14 bands / 1 thread), and 0.80 or lost (1.13) at
#: 24: its minimum lies above 24 megapixels.
ROW_KERNELS = {
    "_gaussian.separable_symmetric": (4, (9,), 4 << 20),
    "_derivatives.stencil3x3": (3, (7, 8), 8 << 20),
    "_box.box_sum_mean": (4, (10,), 16 << 20),
    "_box.box_small_u8": (4, (10,), 32 << 20),
    "_box.box_rows_first_u8": (4, (9,), 8 << 20),
}
#: Multiplies every minimum above (0: cut every call; the tests and the benchmark use it).
SPLIT_MIN_SCALE = 1.0
_pool = None


def _find(kernel, args):
    """:func:`imgtool.kernels._ahead.find`, imported at the first call (so that
    ``python -m imgtool.kernels._ahead`` does not find itself imported already)."""
    global _find
    from imgtool.kernels._ahead import find

    _find = find
    return find(kernel, args)


class _Kernel:
    __slots__ = ("_module", "_name", "_key", "_jit")

    def __init__(self, module: str, name: str):
        self._module, self._name = module, name
        self._key = f"{module}.{name}"
        self._jit = None

    def __call__(self, *args):
        fn = _find(self._key, args)
        if fn is not None:
            split = ROW_KERNELS.get(self._key)
            if split is not None:
                return _in_bands(fn, args, *split)
            return fn(*args)
        if self._jit is None:
            module = importlib.import_module(f"imgtool.kernels.{self._module}")
            self._jit = getattr(module, self._name)
        return self._jit(*args)

    def __repr__(self):
        return f"<imgtool kernel {self._key}>"


def _in_bands(fn, args, rowpos, outpos, min_size):
    """``fn(*args)``, with the output rows cut into one band per thread when that pays."""
    out = args[outpos[0]]
    h = out.shape[0]
    from imgtool.kernels._jit import threads

    n = min(threads(), h // 16) if out.size >= min_size * SPLIT_MIN_SCALE else 1
    if n <= 1:
        return fn(*args)
    rowidx = args[rowpos]
    halo = rowidx.size - h
    bands = []
    for b in range(n):
        y0, y1 = b * h // n, (b + 1) * h // n
        part = list(args)
        part[rowpos] = rowidx[y0 : y1 + halo]
        for p in outpos:
            part[p] = args[p][y0:y1]
        bands.append(part)
    global _pool
    if _pool is None or _pool._max_workers < n - 1:
        from concurrent.futures import ThreadPoolExecutor

        _pool = ThreadPoolExecutor(max_workers=n - 1, thread_name_prefix="imgtool-band")
    futures = [_pool.submit(fn, *part) for part in bands[1:]]
    fn(*bands[0])  # the calling thread makes the first band
    for f in futures:
        f.result()
    return out


class _Module:
    """Stands for one kernel module without importing it: ``stand_in.name`` is a callable
    kernel (see the module docstring)."""

    def __init__(self, module: str):
        self._module_name = module

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        kernel = _Kernel(self._module_name, name)
        setattr(self, name, kernel)
        return kernel


box = _Module("_box")
canny = _Module("_canny")
derivatives = _Module("_derivatives")
gaussian = _Module("_gaussian")
lab = _Module("_lab")
quad = _Module("_quad")
