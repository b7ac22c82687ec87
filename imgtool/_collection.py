"""Python's cyclic garbage collector during a command (used by :mod:`imgtool.cli.main` and
:mod:`imgtool.batch`; kept apart so that every command, ``--help`` too, imports only ``gc``
for it)."""

from __future__ import annotations

import gc

_collection_paused = False
_collection_frozen = False


def pause_collection() -> None:
    """Turn the cyclic garbage collector off until :func:`resume_collection` (the CLI does
    this as it starts). Start-up creates a few hundred thousand long-lived objects (NumPy,
    OpenCV, click and our modules), and the collector would walk them again and again while
    they come: about 10 ms of a one-photo ``imgtool scan`` (measured, new processes taking
    turns)."""
    global _collection_paused
    if gc.isenabled():
        gc.disable()
        _collection_paused = True


def resume_collection() -> None:
    """Turn the collector back on if :func:`pause_collection` turned it off, with everything
    alive now frozen (``gc.freeze``: the start-up's objects are never walked, nor collected,
    again) until :func:`end_collection_pause`."""
    global _collection_paused, _collection_frozen
    if _collection_paused:
        _collection_paused = False
        _collection_frozen = True
        gc.freeze()
        gc.enable()


def end_collection_pause(unfreeze: bool = True) -> None:
    """Turn the collector back on if :func:`pause_collection` turned it off, and with
    ``unfreeze`` leave nothing frozen by :func:`resume_collection`: as it was, for a caller
    of the CLI's ``main`` in its own process. A process that exits next keeps the objects
    frozen, so that the collection Python makes at exit does not walk them all once more
    (measured: unfreezing there costs a one-photo ``imgtool scan`` 9-17 ms)."""
    global _collection_paused, _collection_frozen
    if _collection_paused:
        _collection_paused = False
        gc.enable()
    if _collection_frozen and unfreeze:
        _collection_frozen = False
        gc.unfreeze()
