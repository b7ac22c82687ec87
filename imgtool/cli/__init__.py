"""The command line: one module per command, shared options, one error boundary.

Nothing here imports numba or cv2 at import time, so ``imgtool --help`` and shell
completion stay instant; the command bodies import the library when they run.
"""
