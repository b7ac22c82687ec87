"""Private Numba kernels.

Nothing here validates its input: the public wrappers in :mod:`imgtool.filters` and
:mod:`imgtool.edges` check dtypes, shapes and parameters, then call these. Every kernel is
compiled with :func:`imgtool.kernels._jit.kernel` (``cache=True``, ``nogil=True``).
"""
