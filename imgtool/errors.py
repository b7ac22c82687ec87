"""One exception hierarchy; each error carries the exit code the CLI returns for it.

The CLI catches :class:`ImgtoolError` at a single boundary and prints ``imgtool: <message>``
on one line (a traceback only with ``-v``). Library users catch the same classes.
Invalid parameters raise :class:`InvalidParameterError`, which is also a ``ValueError``.
"""

from __future__ import annotations

import enum
from contextlib import contextmanager


class ExitCode(enum.IntEnum):
    """Exit codes of the ``imgtool`` command (documented in the README)."""

    OK = 0
    FAILURE = 1  #: an unexpected internal error (a bug: please report it)
    USAGE = 2  #: bad command line or parameter value
    INPUT = 3  #: the input cannot be read: missing, not an image, truncated, too large
    OUTPUT = 4  #: the output cannot be written: exists, is the input, unwritable, disk full
    NO_PAGE = 5  #: scan: no page was found (``--fallback full`` still wrote the photo)
    PARTIAL = 6  #: batch: some inputs failed, the others were processed
    INTERRUPTED = 130  #: Ctrl-C
    CLOSED_PIPE = 141  #: stdout's reader quit (128 + SIGPIPE, as a shell reports ``yes | head``)


class ImgtoolError(Exception):
    """Base class of every error imgtool reports to a user."""

    exit_code: ExitCode = ExitCode.FAILURE


class InvalidParameterError(ImgtoolError, ValueError):
    """A parameter value is out of range or of the wrong kind."""

    exit_code = ExitCode.USAGE


class InputError(ImgtoolError):
    """An input image cannot be read or decoded, or is refused (too large)."""

    exit_code = ExitCode.INPUT


class OutputError(ImgtoolError):
    """An output cannot be written (exists, equals the input, unwritable, disk full)."""

    exit_code = ExitCode.OUTPUT


class NoPageError(ImgtoolError):
    """The scanner found no page in a photo."""

    exit_code = ExitCode.NO_PAGE


@contextmanager
def reading(name: str):
    """Turn the operating system's errors while reading the input ``name`` (a local file or
    an fsspec URL) into one-line :class:`InputError` messages that name it."""
    try:
        yield
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except PermissionError:
        raise InputError(f"{name}: permission denied") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a folder, not an image file") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from None
