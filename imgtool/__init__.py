"""imgtool: classical image processing from one command line and one Python API.

The package is layered (see README, "Architecture"):

- :mod:`imgtool.io` reads and writes images safely;
- :mod:`imgtool.kernels` holds the private Numba kernels;
- :mod:`imgtool.filters` is the public, validating API over those kernels;
- :mod:`imgtool.edges` and :mod:`imgtool.scan` are pipelines built on the filters;
- :mod:`imgtool.cli` parses options, calls the API and maps errors to exit codes.

Importing :mod:`imgtool` itself is cheap: cv2 loads only when a module that needs it is
imported, and Numba only when a kernel call needs the JIT (:mod:`imgtool.kernels`).
"""

__version__ = "0.1.0"
