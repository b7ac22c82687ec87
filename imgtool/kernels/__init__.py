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
"""

from __future__ import annotations

import importlib


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
            return fn(*args)
        if self._jit is None:
            module = importlib.import_module(f"imgtool.kernels.{self._module}")
            self._jit = getattr(module, self._name)
        return self._jit(*args)

    def __repr__(self):
        return f"<imgtool kernel {self._key}>"


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
