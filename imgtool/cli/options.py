"""Options shared by the image commands, and the driver that runs a command over its inputs."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from imgtool.errors import ExitCode, InvalidParameterError

DEFAULT_MAX_MEGAPIXELS = 180.0  # kept equal to imgtool.io.read.DEFAULT_MAX_MEGAPIXELS
#: Clockwise quarter turns --rotate accepts (the result is turned, as an image viewer does).
ROTATIONS = ("0", "90", "180", "270")


class Named(click.ParamType):
    """A value that is one of some names or free text of a documented form (``--aspect
    auto|a4|letter|W:H``). Shell completion offers the names; the command checks the value.

    Completion is click's own for every parameter: a :class:`click.Choice` completes its
    choices, a ``Named`` its names, and the inputs complete file names, so a new option of
    either type completes with no more code.
    """

    name = "text"

    def __init__(self, names, metavar: str):
        self.names = tuple(names)
        self.metavar = metavar

    def get_metavar(self, param, ctx=None):
        return self.metavar

    def convert(self, value, param, ctx):
        return value if isinstance(value, str) else str(value)

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem

        return [CompletionItem(n) for n in self.names if n.startswith(incomplete.lower())]


def verbosity_options(f):
    """``-v``/``-q`` on a command, so that they work after the command name as well as
    before it (``imgtool scan x.jpg -q``); they add to the group's own."""

    def set_verbose(ctx, param, value):
        if value:
            apply_verbosity(ctx, verbose=value)
        return value

    def set_quiet(ctx, param, value):
        if value:
            apply_verbosity(ctx, quiet=True)
        return value

    f = click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=set_quiet,
                     help="Only errors on stderr (same as 'imgtool -q').")(f)
    f = click.option("-v", "--verbose", count=True, expose_value=False, callback=set_verbose,
                     help="More detail on stderr (same as 'imgtool -v').")(f)
    return f


def apply_verbosity(ctx: click.Context, *, verbose: int = 0, quiet: bool = False) -> None:
    """Record -v/-q in the context shared by the group and its command (counts add up; -q
    wins) and show imgtool's log on stderr at the level asked for."""
    obj = ctx.ensure_object(dict)
    obj["verbose"] = obj.get("verbose", 0) + verbose
    obj["quiet"] = obj.get("quiet", False) or quiet
    if obj["quiet"]:
        obj["verbose"] = 0
    elif verbose:  # imgtool logs only detail (INFO); the default shows none of it
        import logging  # here: a few milliseconds of every command's start otherwise

        level = logging.DEBUG if obj["verbose"] > 1 else logging.INFO
        logging.basicConfig(level=level, format="imgtool: %(message)s", stream=sys.stderr,
                            force=True)


def rotate_option(*, auto: bool):
    """``--rotate``: turn the result clockwise by a quarter turn (scan also: ``auto``)."""
    choices = ROTATIONS + (("auto",) if auto else ())
    extra = (" 'auto' turns a page whose text runs sideways or upside down upright "
             "(see 'How --rotate auto decides' in the README).") if auto else ""
    return click.option("--rotate", type=click.Choice(choices), default="0",
                        show_default=True,
                        help="Turn the result clockwise by this many degrees." + extra)


def check_gaussian(sigma: float, epsilon: float, *, epsilon_option: bool = True) -> None:
    """Refuse, once and before any input is read, a ``--sigma`` (and ``--epsilon``) whose
    Gaussian kernel :func:`imgtool.filters.gaussian` would refuse for every input.

    ``epsilon_option``: the command has ``--epsilon`` (``filter``, ``kernel``); ``edges``
    smooths with the default epsilon, so a smaller ``--sigma`` is the way out there.
    """
    import math

    if not sigma > 0:
        raise InvalidParameterError(f"--sigma must be > 0, got {sigma:g}")
    if not math.isfinite(sigma):
        raise InvalidParameterError(f"--sigma must be finite, got {sigma:g}")
    if not 0 < epsilon < 1:
        raise InvalidParameterError(f"--epsilon must be in (0, 1), got {epsilon:g}")
    from imgtool.filters import (
        MIN_KEPT_MASS,
        WARN_KEPT_MASS,
        gaussian_epsilon_for,
        gaussian_kept_mass,
    )

    mass = gaussian_kept_mass(sigma, epsilon)
    if mass >= MIN_KEPT_MASS:
        return
    short = (f"the kernel keeps only {mass:.1%} of the Gaussian (at least "
             f"{MIN_KEPT_MASS:.0%} needed)")
    if epsilon_option:
        raise InvalidParameterError(
            f"--sigma {sigma:g} with --epsilon {epsilon:g}: {short}; use --epsilon "
            f"{gaussian_epsilon_for(sigma):g} or smaller (keeps {WARN_KEPT_MASS:.0%})")
    raise InvalidParameterError(f"--sigma {sigma:g}: {short}; use --sigma "
                                f"{_widest_sigma(epsilon, MIN_KEPT_MASS):g} or less")


def _widest_sigma(epsilon: float, kept_mass: float) -> int:
    """The largest whole sigma whose kernel at ``epsilon`` keeps ``kept_mass``, or more."""
    from imgtool.filters import gaussian_kept_mass

    low, high = 1, 2
    while gaussian_kept_mass(high, epsilon) >= kept_mass:
        low, high = high, high * 2
    while high - low > 1:  # the kept mass falls with sigma, give or take the radius' rounding
        mid = (low + high) // 2
        low, high = (mid, high) if gaussian_kept_mass(mid, epsilon) >= kept_mass else (low, mid)
    return low


class OptionalValues(click.Command):
    """Options whose value is optional (``--laplacian [4|8]``, ``--auto [METHOD]``) that
    never take an input path as their value.

    click would read the word after such an option as its value whatever it is, so
    ``--laplacian in.png`` failed. Here the next word is the value only when it is one of
    the option's values and no file or folder of that name exists; otherwise the option
    gets its default. ``--laplacian=8`` is always read as a value.
    ``optional_values`` maps each such option to ``(values, default, means_value)``, where
    ``means_value(word)`` may accept more words than ``values`` (so that ``--auto magic``
    is reported as an unknown method rather than as a missing file).
    """

    optional_values: dict = {}

    def parse_args(self, ctx, args):
        out, i = [], 0
        while i < len(args):
            arg = args[i]
            if arg == "--":
                out += args[i:]
                break
            spec = self.optional_values.get(arg)
            if spec is None:
                out.append(arg)
                i += 1
                continue
            values, default, means_value = spec
            nxt = args[i + 1] if i + 1 < len(args) else None
            if nxt is not None and not os.path.exists(nxt) and (
                    nxt in values or (means_value is not None and means_value(nxt))):
                out.append(f"{arg}={nxt}")
                i += 2
            else:
                out.append(f"{arg}={default}")
                i += 1
        return super().parse_args(ctx, out)


#: --threads of filter and edges.
THREADS_HELP = "Threads for one image (default: all cores; a small image is filtered on one)."


def io_options(default_name: str, *, threads_help: str = THREADS_HELP):
    """Decorator adding the inputs, output and batch options every image command takes
    (``threads_help``: what ``--threads`` does for this command)."""

    def decorate(f):
        options = [
            click.argument("inputs", nargs=-1, required=True, metavar="INPUT...",
                           type=click.Path()),
            click.option("-o", "--output", metavar="PATH", type=click.Path(),
                         help="Output file; a folder (for several inputs, a folder input, or "
                              "a name ending in '/'); '-' for stdout (in --format, default "
                              "the command's own format); or a FILE.pdf collecting every "
                              f"result as one page. Default: next to each input, named "
                              f"'{default_name}'."),
            click.option("--name", "name_template", metavar="TEMPLATE",
                         help="Output file name for each input: {stem}, {name}, {ext}, "
                              f"{{index}} are replaced. Default: '{default_name}'."),
            click.option("--format", "fmt", metavar="FMT",
                         help="Output format when writing to stdout (png, jpg, tif, webp, "
                              "bmp, pdf); default: that of the default output name."),
            click.option("--overwrite", is_flag=True, help="Replace existing output files."),
            click.option("--skip-existing", is_flag=True,
                         help="Skip inputs whose output exists (resume an interrupted batch)."),
            click.option("-r", "--recursive", is_flag=True,
                         help="Look for images in sub-folders of folder inputs; -o DIR keeps "
                              "the sub-folder tree."),
            click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
                         help="Process this many files in parallel (default: the number of "
                              "cores), one thread each."),
            click.option("--scheduler", metavar="ADDRESS", default=None,
                         help="Run the batch on a Dask cluster: its scheduler's address "
                              "(tcp://HOST:8786) or scheduler file, or 'local' for a new "
                              "cluster of this machine's cores. Inputs and outputs must be "
                              "paths the workers see, or URLs (s3://...)."),
            click.option("--chunk-size", type=click.IntRange(min=1), default=None,
                         metavar="N",
                         help="With --scheduler: inputs per Dask task (default: sized to "
                              "about 5 s of work each, measured as the batch runs)."),
            click.option("--threads", type=click.IntRange(min=1), default=None,
                         help=threads_help),
            click.option("--json", "as_json", is_flag=True,
                         help="Print one JSON object per input on stdout."),
            click.option("--quality", type=click.IntRange(1, 100), default=92, show_default=True,
                         help="JPEG/WebP quality, also of JPEG pages in a PDF."),
            click.option("--no-auto-orient", is_flag=True,
                         help="Do not turn images upright by their EXIF orientation."),
            click.option("--max-megapixels", type=click.FloatRange(min=0, min_open=True),
                         default=DEFAULT_MAX_MEGAPIXELS, show_default=True,
                         help="Refuse larger images before decoding them."),
        ]
        for option in reversed(options):
            f = option(f)
        return verbosity_options(f)

    return decorate


def run_command(ctx: click.Context, processor: str, params: dict, opts: dict, *,
                default_name: str, pdf: dict | None = None, writes_image: bool = True,
                preview: int | None = None) -> int:
    """Plan the outputs, run the processor on every input, report, return the exit code.

    ``pdf``: options of :func:`imgtool.io.pdf.pdf_from_images` for PDF output (``quality``
    comes from ``--quality``).
    ``preview``: see :attr:`imgtool.batch.Settings.preview` (the processor then takes an
    :class:`imgtool.io.Photo` for a large JPEG)."""
    from imgtool import batch

    verbose = ctx.obj.get("verbose", 0) if ctx.obj else 0
    quiet = ctx.obj.get("quiet", False) if ctx.obj else False
    check_io_options(opts)
    output = opts["output"]
    fmt = opts["fmt"]
    if output == "-" and opts["as_json"]:
        raise InvalidParameterError("--json and -o - both want stdout; choose one")
    if fmt and output not in (None, "-"):
        raise InvalidParameterError("--format is for -o - (stdout); a file's extension names "
                                    "its format")
    scheduler = opts.get("scheduler")
    if opts.get("chunk_size") is not None and scheduler is None:
        raise InvalidParameterError("--chunk-size is for --scheduler")
    if scheduler is not None and opts["jobs"] is not None:
        raise InvalidParameterError("--jobs is for this machine; the cluster's workers set "
                                    "its parallelism (use --scheduler local for this one)")
    inputs = batch.expand_inputs(opts["inputs"], recursive=opts["recursive"])
    to_stdout = output == "-" or (output is None and any(s == "-" for s, _ in inputs))
    if to_stdout and not fmt:  # the command's own format, that of its default output name
        fmt = Path(default_name).suffix.lstrip(".")
    if sum(1 for s, _ in inputs if s == "-") > 1:
        raise InvalidParameterError("'-' (stdin) can be given only once")
    if scheduler is not None and ("-" in (output, *(s for s, _ in inputs))):
        raise InvalidParameterError("--scheduler cannot send stdin or stdout ('-') to a "
                                    "cluster; give files or URLs")
    collect = writes_image and output is not None and (
        Path(output).suffix.lower() == ".pdf" or (output == "-" and (fmt or "").lower() == "pdf")
    ) and len(inputs) > 1
    template = opts["name_template"] or default_name
    if opts["name_template"] and inputs:
        _name(template, inputs[0][0], inputs)  # a bad --name is refused before any work
    if not writes_image:
        tasks = [batch.Task(i, s, None) for i, (s, _) in enumerate(inputs)]
    else:
        first = {}  # each input's index, found once (a batch may hold a million)
        for i, (s, _) in enumerate(inputs):
            first.setdefault(s, i)
        tasks = batch.plan(inputs, output, lambda src: _name(template, src, first[src]),
                           collect=collect)
    if output not in (None, "-") and not collect and any(t.output != output for t in tasks):
        _make_folders([output, *{_folder(t.output) for t in tasks}])  # batch.plan chose a folder
    if collect:
        from imgtool.io import check_output

        check_output(output, overwrite=opts["overwrite"], inputs=[s for s, _ in inputs])
    settings = batch.Settings(
        processor=processor, params=params, auto_orient=not opts["no_auto_orient"],
        max_megapixels=opts["max_megapixels"], overwrite=opts["overwrite"], format=fmt,
        quality=opts["quality"], inputs=tuple(s for s, _ in inputs) if collect else (),
        collect=collect, threads=opts["threads"], verbose=verbose,
        pdf={"quality": opts["quality"], **(pdf or {})}, preview=preview,
    )  # fmt: skip
    jobs = opts["jobs"] or os.cpu_count() or 1
    progress = _progress(len(tasks), quiet)
    results = []
    try:
        for res in batch.run(tasks, settings, jobs=jobs, skip_existing=opts["skip_existing"],
                             progress=progress, scheduler=scheduler,
                             chunk_size=opts.get("chunk_size"), quiet=quiet):
            results.append(res)
            if collect and res.image is not None:  # a fallback page too (--fallback full)
                res.output = output
            _report(res, opts["as_json"], quiet, progress)
    finally:
        if progress is not None:
            progress.close()
    pages = _write_pdf(results, output, settings) if collect else None
    code = _summarise(results, quiet)
    if collect:
        code = _report_pdf(results, output, pages, code, quiet)
    return code


def check_io_options(opts: dict) -> None:
    """Refuse, before any input is read, the options of :func:`io_options` that contradict
    each other or say nothing."""
    if opts["output"] == "":
        raise InvalidParameterError("-o is empty: give a file, a folder or '-'")
    if opts["overwrite"] and opts["skip_existing"]:
        raise InvalidParameterError("--overwrite replaces existing outputs, --skip-existing "
                                    "keeps them; choose one")


def _folder(output: str) -> str:
    from imgtool.io import remote

    if remote.local_path(output) is None:
        return remote.parent(output)
    return os.path.dirname(output) or "."


def _make_folders(folders) -> None:
    from imgtool.io import remote

    for folder in sorted(set(folders)):
        local = remote.local_path(folder)
        if local is None:
            remote.makedirs(folder)
        else:
            os.makedirs(local, exist_ok=True)


def _name(template: str, source: str, index: int) -> str:
    p = Path("stdin.png" if source == "-" else source)
    try:
        name = template.format(stem=p.stem, name=p.name, ext=p.suffix.lstrip("."), index=index)
    except (KeyError, IndexError, ValueError) as exc:
        raise InvalidParameterError(f"--name {template!r}: bad template ({exc})") from None
    if not name or os.sep in name or name in (".", ".."):
        raise InvalidParameterError(f"--name {template!r} must give a plain file name")
    if not Path(name).suffix:
        raise InvalidParameterError(
            f"--name {template!r} gives {name!r}, with no extension to choose the format "
            "by; add one, e.g. '{stem}.png'")
    return name


def _progress(total: int, quiet: bool):
    if total < 2 or quiet or sys.stderr is None or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, file=sys.stderr, unit="img", leave=False)


def _report(res, as_json: bool, quiet: bool, progress) -> None:
    say = progress.write if progress is not None else (lambda m: click.echo(m, err=True))
    if not quiet:
        for w in res.warnings:
            say(f"imgtool: warning: {res.input}: {w}")
    if res.status == "failed":
        say(f"imgtool: {res.error}")
    if as_json:
        click.echo(json.dumps(res.to_json()))


def batch_exit_code(codes) -> int:
    """The exit code of a run from each input's code (0: done or skipped).

    0 when no input failed; when every input failed, their code, the lowest when they
    differ (1, a bug, before 2 usage, 3 input, 4 output, 5 no page); otherwise 6: some
    failed, the others were processed (the README's exit-code table says the same).

    Examples
    --------
    >>> batch_exit_code([0, 0]), batch_exit_code([3, 0]), batch_exit_code([3, 3])
    (0, 6, 3)
    >>> batch_exit_code([4, 3])
    3
    """
    codes = [int(c) for c in codes]
    failed = [c for c in codes if c]
    if not failed:
        return int(ExitCode.OK)
    if len(failed) == len(codes):
        return min(failed)
    return int(ExitCode.PARTIAL)


def _summarise(results, quiet: bool) -> int:
    """The exit code; with several inputs and some failed, one line counting the failures
    (each was said once as it happened, by :func:`_report`)."""
    codes = [(r.exit_code or ExitCode.FAILURE) if r.status == "failed" else 0 for r in results]
    failed = sum(1 for c in codes if c)
    if failed and len(results) > 1 and not quiet:
        click.echo(f"imgtool: {failed} of {len(results)} inputs failed", err=True)
    return batch_exit_code(codes)


def _write_pdf(results, output: str, settings) -> int:
    """Write every result that has an image (fallback pages included) as one PDF, in input
    order; the number of pages (0: nothing written)."""
    from imgtool.batch import pdf_title
    from imgtool.io import write_bytes
    from imgtool.io.pdf import pdf_from_images

    pages = [r.image for r in results if r.image is not None]
    if pages:
        options = {"title": pdf_title(settings.inputs[0]), **settings.pdf}
        data = pdf_from_images(pages, **options)
        write_bytes(output, data, overwrite=settings.overwrite, inputs=settings.inputs)
    return len(pages)


def _report_pdf(results, output: str, pages: int, code: int, quiet: bool) -> int:
    """Say what the PDF holds when it is not one page per input; the exit code."""
    left_out = [r.input for r in results if r.image is None]
    whole = [(i + 1, r.input) for i, r in enumerate(r for r in results if r.image is not None)
             if r.status == "failed"]  # --fallback full: the whole photo in its place
    if not pages:
        click.echo(f"imgtool: {output}: not written: none of the {len(results)} inputs gave "
                   "a page", err=True)
        return code  # every input failed: their own code (batch_exit_code)
    if quiet or not (left_out or whole):
        return code
    said = [f"imgtool: wrote {output}: {pages} page{'s' if pages > 1 else ''} from "
            f"{len(results)} inputs"]
    if whole:
        said.append("the whole photo as page " + ", ".join(f"{n} ({name})" for n, name in whole))
    if left_out:
        said.append("left out: " + ", ".join(left_out))
    click.echo("; ".join(said), err=True)
    return code
