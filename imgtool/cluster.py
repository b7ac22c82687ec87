"""Running a batch on a Dask cluster: ``imgtool scan|edges|filter ... --scheduler ADDRESS``.

The inputs go to the cluster in *chunks*: one Dask task runs :func:`run_chunk` on several
consecutive inputs, each through :func:`imgtool.batch.run_task`, the function every
executor uses per input. A chunk is sized by measurement as the batch runs (about
:data:`TARGET_CHUNK_SECONDS` of work, from the time per input the finished chunks report),
so that a million small files do not become a million tasks for the scheduler, and a few
large photos still spread over every worker. The task list is streamed: at most a window
of chunks (twice the cluster's threads) is in flight, and results are held only until
they can be reported in input order. ``docs/distributed.md`` gives the measurements.

What the other executors guarantee holds here too:

- outputs are written whole or not at all (the I/O layer's atomic writer), and a worker
  killed mid-chunk loses only that chunk, which Dask runs again on another worker: an
  output the lost attempt already wrote is kept when it holds exactly the bytes the new
  attempt makes (:func:`imgtool.batch.run_task` with ``retry``);
- a chunk that kills its worker again and again is split, so one bad input fails alone;
- Ctrl-C cancels the chunks; a running chunk stops after its current input.

Paths are made absolute before they leave this machine; workers must see them (a shared
disk) or be given fsspec URLs (``s3://...``). ``--scheduler local`` starts a
:class:`distributed.LocalCluster` of one single-threaded process per core.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import replace

from imgtool.batch import Result, Settings, Task, run_task
from imgtool.errors import ExitCode, InvalidParameterError
from imgtool.io import remote

#: A chunk holds about this many seconds of work. Chosen by measurement
#: (``docs/distributed.md``): a Dask task, with this module's bookkeeping, cost the
#: scheduler 3.4-5.5 ms of CPU here, so at 5 s a hundred single-threaded workers keep it
#: 7-11 % busy (one input per task would saturate it), while the last chunks of a batch
#: (and the work a killed worker loses) stay short.
TARGET_CHUNK_SECONDS = 5.0
#: Inputs in each of the first chunks, before any time per input is known.
FIRST_CHUNK = 2
#: The most inputs in one chunk (tiny inputs would otherwise make chunks of thousands).
MAX_CHUNK = 512
#: Chunks in flight per worker thread: one running, one waiting so no thread idles.
CHUNKS_PER_THREAD = 2
#: Seconds to wait for a scheduler to answer.
CONNECT_TIMEOUT = 10


def run(tasks: Iterable[Task], settings: Settings, address: str, *,
        chunk_size: int | None = None, progress=None, quiet: bool = False) -> Iterator[Result]:
    """Run ``tasks`` on the Dask scheduler at ``address`` (``"local"``: a new
    :class:`~distributed.LocalCluster`), yielding a :class:`Result` per task in input order.
    ``quiet``: say nothing on stderr (such as waiting for a worker)."""
    settings = replace(settings, preview=None)  # one thread per input on the workers
    client, close = connect(address, quiet=quiet)
    folders: set[str] = set()
    try:
        yield from _stream(client, tasks, settings, chunk_size, progress, folders)
    finally:
        close()
        # a worker killed on this host may have left a temporary file
        from imgtool.io.write import remove_stale_temporaries

        for folder in folders:
            remove_stale_temporaries(folder)


def connect(address: str, *, quiet: bool = False):
    """A :class:`distributed.Client` for ``address`` and a function that closes it (and the
    cluster, for ``"local"``). ``address`` is ``local``, ``tcp://HOST:PORT`` (or any address
    Dask takes), or a scheduler file written by ``dask scheduler --scheduler-file``."""
    _quiet_logs()
    from distributed import Client

    if address == "local":
        from distributed import LocalCluster

        cores = _usable_cores()
        cluster = LocalCluster(n_workers=cores, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR)
        client = Client(cluster)

        def close():
            client.close()
            cluster.close()

        return client, close
    try:
        if os.path.isfile(address):
            client = Client(scheduler_file=address, timeout=CONNECT_TIMEOUT)
        else:
            client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InvalidParameterError(
            f"--scheduler {address}: no Dask scheduler answers there ({exc})") from None
    try:
        _check_workers(client, address, quiet)
    except BaseException:
        client.close()
        raise
    return client, client.close


def run_chunk(settings: Settings, tasks: list[Task], name: str, attempted: bool = False
              ) -> tuple[list[Result], float]:
    """Run ``tasks`` one after the other on a Dask worker (the body of one Dask task).

    Returns the results and the seconds the chunk took. Stops early, returning what is
    done, when the chunk is cancelled (Ctrl-C on the client). ``name`` identifies the chunk
    across attempts: a second attempt (the first worker died) is told so, see
    :func:`imgtool.batch.run_task`; ``attempted`` says so of a first attempt (the inputs of
    a chunk that failed, run again one by one).
    """
    from contextlib import ExitStack

    from imgtool.kernels._ahead import policy
    from imgtool.kernels._jit import at_most_threads

    t0 = time.perf_counter()
    retry = _second_attempt(name) or attempted
    _one_thread_per_task()
    results = []
    with ExitStack() as stack:
        stack.enter_context(at_most_threads(1))
        if _worker_threads() == 1:
            # The only task thread of its process (dask worker --nthreads 1): the kernels
            # compiled ahead of time may run here although it is not the main thread (they
            # hold the GIL, which then stops no other task), so the worker neither imports
            # Numba nor compiles.
            stack.enter_context(policy("always"))
        for task in tasks:
            if _cancelled():
                break
            results.append(run_task(settings, task, retry=retry))
    return results, time.perf_counter() - t0


def _stream(client, tasks: Iterable[Task], settings: Settings, chunk_size: int | None,
            progress, folders: set[str]) -> Iterator[Result]:
    from distributed import Event, as_completed

    token = uuid.uuid4().hex[:12]
    total = len(tasks) if hasattr(tasks, "__len__") else None
    source = iter(tasks)
    threads = max(1, sum(client.nthreads().values()))
    per_input: list[float] = []  # seconds per input of the finished chunks (recent ones)
    inflight: dict = {}  # future -> (chunk number, the tasks as given, the event's name)
    parts_left: dict[int, int] = {}  # chunk number -> futures of it not finished
    finished: dict[int, list[Result]] = {}  # chunk number -> results, until reported
    next_chunk = 0  # the next chunk to number
    next_report = 0  # the chunk whose results are reported next
    exhausted = False
    submitted = 0  # futures made: each gets its own key
    queue = as_completed()

    def size() -> int:
        if chunk_size is not None:
            return chunk_size
        if not per_input:
            n = FIRST_CHUNK
        else:
            seconds = sorted(per_input)[len(per_input) // 2]
            n = int(TARGET_CHUNK_SECONDS / max(seconds, 1e-4))
        if total is not None:  # keep every worker busy to the end of a small batch
            n = min(n, total // (4 * threads))
        return max(1, min(n, MAX_CHUNK))

    def submit(number: int, chunk: list[Task], attempted: bool = False) -> None:
        nonlocal submitted
        submitted += 1
        name = f"imgtool-{token}-{number}-{submitted}"
        shipped = [_portable(t) for t in chunk]
        fut = client.submit(run_chunk, settings, shipped, name, attempted, key=name, pure=False)
        inflight[fut] = (number, chunk, name)
        queue.add(fut)

    def fill() -> None:
        nonlocal next_chunk, exhausted, threads
        window = CHUNKS_PER_THREAD * threads
        while not exhausted and len(inflight) < window and next_chunk - next_report < 4 * window:
            chunk = []
            want = size()
            for task in source:
                chunk.append(task)
                if task.output not in (None, "-"):
                    folders.add(_folder(task.output))
                if len(chunk) >= want:
                    break
            if not chunk:
                exhausted = True
                break
            parts_left[next_chunk] = 1
            finished[next_chunk] = []
            submit(next_chunk, chunk)
            next_chunk += 1

    last_look = time.monotonic()
    try:
        fill()
        for fut in queue:
            number, chunk, name = inflight.pop(fut)
            try:
                results, seconds = fut.result()
            except Exception as exc:  # the chunk's worker died (again), or imgtool is missing
                fut.release()
                Event(name, client=client).clear()
                if len(chunk) > 1:  # run each input alone: only the culprit fails
                    parts_left[number] += len(chunk) - 1
                    for task in chunk:
                        submit(number, [task], attempted=True)
                    continue
                results, seconds = [_lost(chunk[0], exc)], 0.0
            else:
                fut.release()
                Event(name, client=client).clear()
                if results:
                    per_input.append(seconds / len(results))
                    del per_input[:-16]
            if results and len(results) < len(chunk):  # stopped early: run the rest again
                parts_left[number] += 1
                submit(number, chunk[len(results):])
            elif not results:  # nothing done, nothing said: do not go round again
                results = [_lost(t, RuntimeError("the task returned no result")) for t in chunk]
            finished[number] += [_as_given(r, t) for r, t in zip(results, chunk, strict=False)]
            if progress is not None:
                progress.update(len(results))
            parts_left[number] -= 1
            while parts_left.get(next_report) == 0:
                del parts_left[next_report]
                yield from sorted(finished.pop(next_report), key=lambda r: r.index)
                next_report += 1
            if time.monotonic() - last_look > 5:  # workers may have joined or left
                threads = max(1, sum(client.nthreads().values()))
                last_look = time.monotonic()
            fill()
    finally:
        if inflight:
            client.cancel(list(inflight), force=True)


def _portable(task: Task) -> Task:
    """The task with its local paths absolute: a worker's working folder is not ours."""
    return Task(task.index, _absolute(task.source), _absolute(task.output), task.display)


def _absolute(name: str | None) -> str | None:
    if name in (None, "-") or remote.is_url(name):
        return name
    return os.path.abspath(name)


def _as_given(result: Result, task: Task) -> Result:
    """The result naming the output as the user gave it (the input is named by its label)."""
    shipped = _absolute(task.output)
    if result.error and shipped != task.output:
        result.error = result.error.replace(shipped, task.output)
    if result.output is not None:
        result.output = task.output
    return result


def _lost(task: Task, exc: BaseException) -> Result:
    name = type(exc).__name__
    why = ("its worker died each time it ran (out of memory?)" if name == "KilledWorker"
           else f"the cluster could not run it ({name}: {exc})")
    return Result(task.index, task.display, task.output, "failed", exit_code=ExitCode.FAILURE,
                  error=f"{task.display}: {why}")


def _folder(output: str) -> str:
    return remote.parent(output) if remote.is_url(output) else (os.path.dirname(output) or ".")


def _second_attempt(name: str) -> bool:
    """Whether an attempt of chunk ``name`` started before (on a worker since lost): each
    attempt sets an event on the scheduler, which the client clears when the chunk is done."""
    try:
        from distributed import Event, get_worker

        get_worker()
    except (ImportError, ValueError):  # not on a Dask worker
        return False
    event = Event(name)
    before = event.is_set()
    event.set()
    return before


def _cancelled() -> bool:
    """Whether the chunk running in this thread was cancelled (its worker may drop it)."""
    try:
        from distributed import get_worker

        worker = get_worker()
        key = worker.get_current_task()
    except (ImportError, ValueError):
        return False
    state = worker.state.tasks.get(key)
    return state is None or state.state in ("cancelled", "released", "forgotten")


def _worker_threads() -> int:
    """The task threads of this process: 0 when not on a Dask worker."""
    try:
        from distributed import Worker, get_worker

        get_worker()
    except (ImportError, ValueError):
        return 0
    return sum(w.state.nthreads for w in list(Worker._instances))  # in-process clusters


_threads_set = False


def _one_thread_per_task() -> None:
    """OpenCV's threads, process-wide, once per worker: one per task (a worker process runs
    one task per thread it has)."""
    global _threads_set
    if not _threads_set:
        from imgtool.io._cv import cv2

        cv2.setNumThreads(1)
        _threads_set = True


def _check_workers(client, address: str, quiet: bool) -> None:
    """Refuse a cluster whose workers cannot import imgtool; warn of another version."""
    from imgtool import __version__

    if not client.nthreads():
        if not quiet:
            print(f"imgtool: waiting for a worker to join the scheduler at {address}",
                  file=sys.stderr, flush=True)
        client.wait_for_workers(1)
    try:
        versions = client.run(_worker_version)
    except Exception as exc:  # noqa: BLE001 - anything a worker raises unpickling or running
        raise InvalidParameterError(
            f"--scheduler {address}: the workers cannot run imgtool ({type(exc).__name__}: "
            f"{exc}); install imgtool where they run") from None
    other = sorted({v for v in versions.values() if v != __version__})
    if other and not quiet:
        print(f"imgtool: warning: workers run imgtool {', '.join(other)}, this is "
              f"{__version__}", file=sys.stderr, flush=True)


def _worker_version() -> str:
    from imgtool import __version__

    return __version__


def _quiet_logs() -> None:
    """Dask's own messages (a worker lost, a task run again) are detail for ``-v``."""
    if not logging.getLogger("imgtool").isEnabledFor(logging.INFO):
        for name in ("distributed", "dask"):
            logging.getLogger(name).setLevel(logging.ERROR)


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
