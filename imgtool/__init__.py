"""imgtool: classical image processing from one command line and one Python API.

The package is layered (see README, "Architecture"):

- :mod:`imgtool.io` reads and writes images safely;
- :mod:`imgtool.kernels` holds the private Numba kernels;
- :mod:`imgtool.filters` is the public, validating API over those kernels;
- :mod:`imgtool.edges` and :mod:`imgtool.scan` are pipelines built on the filters;
- :mod:`imgtool.cli` parses options, calls the API and maps errors to exit codes.

Importing :mod:`imgtool` itself is cheap: numba and cv2 load only when a module that
needs them is imported.
"""

__version__ = "0.1.0"
