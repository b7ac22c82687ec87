"""Running one command over many inputs: planning outputs, parallel jobs, atomic writes.

The CLI turns its options into :class:`Settings` and a list of :class:`Task`; this module
reads each input, calls the command's processor, and writes the result with the I/O
layer's atomic writer. A failing input is recorded and the others go on. With ``jobs > 1``
inputs run in worker processes (``spawn``), each with one Numba and one OpenCV thread so
the cores are not oversubscribed; with a Dask scheduler, on a cluster
(:mod:`imgtool.cluster`). Every executor runs each input through :func:`run_task`, so the
guarantees (atomic writes, ``--skip-existing``, failures recorded) are the same on all.

A processor is a module-level function ``process(image, params, ctx) -> Outcome`` named by
a ``"module:function"`` string, so worker processes can import it.
"""

from __future__ import annotations

import glob
import importlib
import os
import re
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from imgtool._collection import resume_collection
from imgtool.errors import (
    ExitCode,
    ImgtoolError,
    InputError,
    InvalidParameterError,
    OutputError,
)
from imgtool.io import remote

#: Extensions picked up when a folder is given as input.
IMAGE_EXTENSIONS = (
    ".png", ".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".webp", ".bmp",
    ".pgm", ".ppm", ".pnm", ".gif", ".heic", ".heif", ".hif",
)  # fmt: skip


@dataclass
class Outcome:
    """What a processor returns: the image to write (or None) and a JSON-able record."""

    image: object = None
    record: dict = field(default_factory=dict)
    exit_code: int = 0  #: non-zero marks a soft failure that still wrote its output
    message: str = ""  #: said on stderr with the soft failure
    dpi: float | None = None  #: resolution to record in the image (default: the input's)


@dataclass(slots=True)
class Task:
    """One input and where its result goes (a path, ``"-"``, or None for no image)."""

    index: int
    source: str
    output: str | None
    #: How the input is named in messages, when not as ``source`` (a cluster's workers get
    #: absolute paths; messages keep the user's).
    label: str | None = None

    @property
    def display(self) -> str:
        if self.label is not None:
            return self.label
        return "<stdin>" if self.source == "-" else self.source


@dataclass
class Settings:
    """Everything a worker needs besides the task; must stay picklable."""

    processor: str
    params: dict
    auto_orient: bool = True
    max_megapixels: float | None = None
    overwrite: bool = False
    format: str | None = None
    quality: int = 92
    inputs: tuple = ()
    collect: bool = False  #: return the image instead of writing it (PDF assembly)
    threads: int | None = None
    verbose: int = 0
    pdf: dict = field(default_factory=dict)  #: imgtool.io.pdf.pdf_from_images options
    #: Read large JPEGs with a preview of this long side while the full image decodes in
    #: the background (:func:`imgtool.io.read_photo`), and hand the processor the
    #: :class:`~imgtool.io.Photo`. Only when one process works on the inputs with more than
    #: one thread: otherwise no core is free for the background decode.
    preview: int | None = None
    #: Leave an input whose output exists alone (status "skipped"): resuming a batch.
    skip_existing: bool = False


@dataclass
class Result:
    """What happened to one task."""

    index: int
    input: str
    output: str | None
    status: str  #: "ok", "failed" or "skipped"
    record: dict = field(default_factory=dict)
    exit_code: int = 0
    error: str | None = None
    warnings: list = field(default_factory=list)
    image: object = None  #: the result image when Settings.collect

    def to_json(self) -> dict:
        out = {"input": self.input, "output": self.output, "status": self.status}
        out.update(self.record)
        if self.error:
            out["error"] = self.error
        return out


def expand_inputs(args, *, recursive: bool = False) -> list[tuple[str, Path | None]]:
    """Paths from the command line: files as given, folders expanded, globs matched.

    Returns (source, relative path) pairs; the relative path (under the folder given)
    is set for files found in folders so ``-o DIR`` can keep the sub-folder tree. Files
    found in a folder or by a pattern are in natural order (``page2`` before ``page10``);
    files named on the command line keep their order. An fsspec URL
    (``s3://bucket/photos/``) is expanded the same way through its file system.
    """
    found: list[tuple[str, Path | None]] = []
    for arg in args:
        arg = str(arg)
        if arg == "-":
            found.append(("-", None))
        elif remote.local_path(arg) is None:
            found += _expand_url(arg, recursive)
        elif os.path.isdir(remote.local_path(arg)):
            root = Path(remote.local_path(arg))
            pattern = "**/*" if recursive else "*"
            files = sorted(
                (p for p in root.glob(pattern)
                 if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
                 and not any(part.startswith(".") for part in p.relative_to(root).parts)),
                key=lambda p: natural_key(p.relative_to(root)),
            )  # fmt: skip
            if not files:
                raise InputError(f"{arg}: folder holds no images" + ("" if recursive else
                                 " (use --recursive to look in sub-folders)"))
            if arg != str(root):  # a file:// URL: its files as URLs too
                found += [(remote.join(arg, p.relative_to(root).as_posix()), p.relative_to(root))
                          for p in files]
            else:
                found += [(str(p), p.relative_to(root)) for p in files]
        elif not os.path.exists(arg) and glob.has_magic(arg):
            matches = sorted(glob.glob(arg, recursive=True), key=natural_key)
            if not matches:
                raise InputError(f"{arg}: no file matches this pattern")
            found += [(m, None) for m in matches if os.path.isfile(m)]
        else:
            found.append((arg, None))
    return found


def natural_key(path) -> tuple:
    """Sort key that orders the digits in names by value: ``page2`` before ``page10``,
    folder by folder, letters without regard to case (ties broken by the exact name).

    Examples
    --------
    >>> sorted(["page10.jpg", "Page2.jpg", "page1.jpg"], key=natural_key)
    ['page1.jpg', 'Page2.jpg', 'page10.jpg']
    """
    parts = Path(path).parts
    return tuple((tuple(int(t) if t.isdigit() else t.casefold()
                        for t in re.split(r"(\d+)", part)), part) for part in parts)


def _expand_url(arg: str, recursive: bool) -> list[tuple[str, Path | None]]:
    if glob.has_magic(arg.split("://", 1)[1]):
        matches = sorted(remote.glob(arg), key=natural_key)
        if not matches:
            raise InputError(f"{arg}: no file matches this pattern")
        return [(m, None) for m in matches]
    if not remote.isdir(arg):
        return [(arg, None)]
    files = sorted(remote.list_images(arg, IMAGE_EXTENSIONS, recursive=recursive),
                   key=lambda pair: natural_key(pair[1]))
    if not files:
        raise InputError(f"{arg}: folder holds no images" + ("" if recursive else
                         " (use --recursive to look in sub-folders)"))
    return [(url, Path(rel)) for url, rel in files]


def plan(
    inputs: list[tuple[str, Path | None]],
    output: str | None,
    name_for: Callable[[str], str],
    *,
    collect: bool = False,
) -> list[Task]:
    """Decide the output of every input.

    - ``output`` None: next to each input, named by ``name_for(source)`` (stdin: stdout);
    - one input and ``output`` a file name (or ``-``): that file;
    - ``collect`` (a PDF of all pages): the tasks write nothing themselves;
    - otherwise ``output`` is a folder (created if needed): ``output/rel/name_for(source)``.

    Raises :class:`InvalidParameterError` when two inputs would be written to one output,
    and :class:`OutputError` when an output would replace another input.
    """
    tasks: list[Task] = []
    # a folder input means a folder output, however many images it holds
    from_folder = any(rel is not None for _, rel in inputs)
    folder_mode = output is not None and not collect and output != "-" and (
        _isdir(output) or output.endswith(("/", os.sep)) or len(inputs) > 1
        or (from_folder and Path(output).suffix.lower() != ".pdf")
    )
    if folder_mode and (len(inputs) > 1 or from_folder) and Path(output).suffix.lower() in (
        ext for ext in IMAGE_EXTENSIONS
    ):
        what = "several inputs need" if len(inputs) > 1 else "a folder input needs"
        raise InvalidParameterError(
            f"{output}: {what} -o FOLDER (or -o FILE.pdf for scan), not one file"
        )
    if output == "-" and len(inputs) > 1 and not collect:
        raise InvalidParameterError("-o - (stdout) takes one input, or a PDF of all pages")
    for i, (source, rel) in enumerate(inputs):
        if collect:
            out = None
        elif output is None:
            if source == "-":
                out = "-"
            elif remote.is_url(source):
                out = remote.join(remote.parent(source), name_for(source))
            else:
                out = str(Path(source).with_name(name_for(source)))
        elif folder_mode:
            sub = rel.parent if rel is not None else Path()
            if remote.is_url(output):
                out = remote.join(output, sub.as_posix(), name_for(source))
            else:
                out = str(Path(output) / sub / name_for(source))
        else:
            out = output
        tasks.append(Task(i, source, out))
    seen: dict[str, str] = {}
    keys = _PathKeys()
    for t in tasks:
        if t.output and t.output != "-":
            key = keys(t.output)
            if key in seen:
                raise InvalidParameterError(
                    f"{t.display} and {seen[key]} would both be written to {t.output}; "
                    "use --name with {stem} and {ext} to tell them apart"
                )
            seen[key] = t.display
    # an output that names another input (its own is refused when it runs, exit 4)
    for source, _ in inputs:
        if source != "-":
            other = seen.get(keys(source))
            if other is not None and other != source:
                raise OutputError(f"{other}: its output would replace the input {source}; "
                                  "choose another -o or --name")
    return tasks


class _PathKeys:
    """A key per output or input naming the file, the same for two spellings of one path:
    the real path of its folder (resolved once per folder: a batch has many files in few
    folders) and its name. A URL other than ``file://`` is its own key."""

    def __init__(self):
        self._folders: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        local = remote.local_path(name)
        if local is None:
            return name
        folder, base = os.path.split(os.path.abspath(local))
        real = self._folders.get(folder)
        if real is None:
            real = self._folders[folder] = os.path.realpath(folder)
        return os.path.join(real, base)


def _isdir(name: str) -> bool:
    local = remote.local_path(name)
    return os.path.isdir(local) if local is not None else remote.isdir(name)


def run(
    tasks: Iterable[Task],
    settings: Settings,
    *,
    jobs: int = 1,
    skip_existing: bool = False,
    progress=None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    quiet: bool = False,
) -> Iterator[Result]:
    """Process ``tasks``, yielding a :class:`Result` for each in input order.

    Tasks whose output exists are skipped with ``skip_existing``. ``progress`` (a tqdm-like
    object or None) is advanced once per finished task. With ``scheduler`` (a Dask
    scheduler's address, or ``"local"``) the tasks run on that cluster in chunks of
    ``chunk_size`` inputs (None: sized by measurement, :mod:`imgtool.cluster`); ``tasks``
    may then be any iterable, consumed as the cluster takes work; ``quiet`` keeps its
    notes (waiting for a worker) off stderr.
    """
    if skip_existing:
        settings = replace(settings, skip_existing=True)
    if scheduler is not None:
        from imgtool import cluster

        yield from cluster.run(tasks, settings, scheduler, chunk_size=chunk_size,
                               progress=progress, quiet=quiet)
        return
    pending = list(tasks)
    ready: dict[int, Result] = {}
    order = [t.index for t in pending]
    nxt = 0

    def drain():
        nonlocal nxt
        while nxt < len(order) and order[nxt] in ready:
            yield ready.pop(order[nxt])
            nxt += 1

    if jobs <= 1 or len(pending) <= 1:
        _configure_threads(settings.threads)
        if settings.threads == 1 or _usable_cores() < 2:
            settings = replace(settings, preview=None)
        for t in pending:
            ready[t.index] = run_task(settings, t)
            resume_collection()  # start-up and the first input are done
            if progress is not None:
                progress.update(1)
            yield from drain()
        yield from drain()
        return

    import concurrent.futures as cf
    import multiprocessing

    resume_collection()  # the workers do the work

    ctx = multiprocessing.get_context("spawn")
    settings = replace(settings, preview=None)  # workers have one thread each
    with cf.ProcessPoolExecutor(
        max_workers=min(jobs, len(pending)), mp_context=ctx, initializer=_init_worker
    ) as pool:
        futures = {pool.submit(run_task, settings, t): t for t in pending}
        try:
            for fut in cf.as_completed(futures):
                t = futures[fut]
                try:
                    ready[t.index] = fut.result()
                except cf.process.BrokenProcessPool:
                    ready[t.index] = Result(
                        t.index, t.display, t.output, "failed", exit_code=ExitCode.FAILURE,
                        error=f"{t.display}: worker process died (out of memory?)",
                    )
                if progress is not None:
                    progress.update(1)
                yield from drain()
        except BaseException:
            # Ctrl-C or a fatal error: stop the workers; their SIGTERM handler unwinds
            # through the atomic writer, which removes its temporary file.
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    yield from drain()


def run_task(settings: Settings, task: Task, *, retry: bool = False) -> Result:
    """Read, process and write one input; any :class:`ImgtoolError` becomes a failed result.

    This is the one function every executor runs per input. ``retry``: the input may have
    been processed by an attempt that was lost (a cluster worker that died); an output
    already there with exactly the bytes this run makes then counts as written.
    """
    from imgtool.io import check_output, encode_image, format_for, read_photo, write_bytes
    from imgtool.io.write import output_exists

    writes = task.output is not None and not settings.collect and task.output != "-"
    if writes and settings.skip_existing and output_exists(task.output):
        return Result(task.index, task.display, task.output, "skipped")
    guard = (task.source, *settings.inputs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fmt = None
            # a retry of work a lost worker may have finished: its output may be there
            compare = writes and retry and not settings.overwrite and output_exists(task.output)
            if task.output is not None and not settings.collect:
                fmt = format_for(task.output, settings.format if task.output == "-" else None)
                # refuse an existing or unwritable output before reading and processing
                if not compare:
                    check_output(task.output, overwrite=settings.overwrite, inputs=guard)
            photo = read_photo(
                task.source,
                auto_orient=settings.auto_orient,
                max_megapixels=settings.max_megapixels,
                preview=settings.preview,
            )
            process = _processor(settings.processor)
            ctx = {"display": task.display, "output_format": fmt, "source": task.source,
                   "focal": photo.focal}
            outcome = process(photo if photo.preview is not None else photo.image,
                              settings.params, ctx)
            result = Result(task.index, task.display, task.output, "ok", record=outcome.record)
            if outcome.image is None:
                result.output = None
            elif settings.collect:
                result.image = outcome.image
            elif task.output is not None:
                if fmt == "pdf":
                    from imgtool.io.pdf import pdf_from_images

                    pdf = {"title": pdf_title(task.source), **settings.pdf}
                    data = pdf_from_images([outcome.image], **pdf)
                else:
                    dpi = photo.dpi if outcome.dpi is None else outcome.dpi
                    data = encode_image(outcome.image, fmt, quality=settings.quality, dpi=dpi)
                if compare and _existing_bytes(task.output) == data:
                    pass  # written whole by the lost attempt
                else:
                    write_bytes(task.output, data, overwrite=settings.overwrite, inputs=guard)
            else:
                result.output = None
            if outcome.exit_code:
                result.status = "failed"
                result.exit_code = outcome.exit_code
                result.error = _named(task.display, outcome.message)
        except ImgtoolError as exc:
            # Output errors name the output file; everything else names the input.
            message = str(exc)
            if task.label is not None and task.source != "-":
                message = message.replace(task.source, task.label)
            if not isinstance(exc, OutputError):
                message = _named(task.display, message)
            result = Result(
                task.index, task.display, task.output, "failed",
                exit_code=int(exc.exit_code), error=message,
            )  # fmt: skip
        except BrokenPipeError:
            raise  # stdout's reader quit: the CLI stops quietly, no "internal error"
        except MemoryError:
            result = Result(
                task.index, task.display, task.output, "failed", exit_code=ExitCode.INPUT,
                error=f"{task.display}: not enough memory for this image",
            )
        except Exception as exc:  # a bug: report it, keep the batch going
            if _interrupted(exc):
                raise KeyboardInterrupt from None
            detail = traceback.format_exc() if settings.verbose else ""
            result = Result(
                task.index, task.display, task.output, "failed", exit_code=ExitCode.FAILURE,
                error=f"{task.display}: internal error: {type(exc).__name__}: {exc}"
                + (f"\n{detail}" if detail else ""),
            )
        if result.status == "failed" and result.output not in (None, "-"):
            if not os.path.exists(result.output):
                result.output = None
    result.warnings = [str(w.message) for w in caught]
    return result


def pdf_title(source: str) -> str:
    """The default title of a PDF made from ``source``: its file name without extension."""
    return "stdin" if source == "-" else Path(source).stem


def _existing_bytes(path: str) -> bytes | None:
    local = remote.local_path(path)
    try:
        return Path(local).read_bytes() if local is not None else remote.read_bytes(path, path)
    except (OSError, ImgtoolError):
        return None


def _interrupted(exc: BaseException) -> bool:
    """True when Ctrl-C arrived inside compiled code and surfaced as another exception."""
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _named(display: str, message: str) -> str:
    return message if message.startswith(display) else f"{display}: {message}"


def _processor(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _usable_cores() -> int:
    """The cores this process may run on (a container or taskset may allow fewer than the
    machine has)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on every platform
        return os.cpu_count() or 1


def _configure_threads(threads: int | None) -> None:
    if threads is None:
        return
    from imgtool.io._cv import cv2
    from imgtool.kernels._jit import set_threads

    set_threads(threads)
    cv2.setNumThreads(threads)


def _init_worker() -> None:
    """Worker processes: one thread each; Ctrl-C is the parent's, SIGTERM unwinds cleanly."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminate)
    os.environ["NUMBA_NUM_THREADS"] = "1"
    from imgtool.io._cv import cv2

    cv2.setNumThreads(1)


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


__all__ = [
    "IMAGE_EXTENSIONS",
    "Outcome",
    "Result",
    "Settings",
    "Task",
    "expand_inputs",
    "natural_key",
    "pdf_title",
    "plan",
    "run",
    "run_task",
]
