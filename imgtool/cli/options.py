"""Options shared by the image commands, and the driver that runs a command over its inputs."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from imgtool.errors import ExitCode, InvalidParameterError

DEFAULT_MAX_MEGAPIXELS = 180.0  # kept equal to imgtool.io.read.DEFAULT_MAX_MEGAPIXELS


def io_options(default_name: str):
    """Decorator adding the inputs, output and batch options every image command takes."""

    def decorate(f):
        options = [
            click.argument("inputs", nargs=-1, required=True, metavar="INPUT..."),
            click.option("-o", "--output", metavar="PATH",
                         help="Output file, folder (for several inputs), '-' for stdout, or a "
                              "FILE.pdf collecting every result as one page. Default: next to "
                              f"each input, named '{default_name}'."),
            click.option("--name", "name_template", metavar="TEMPLATE",
                         help="Output file name for each input: {stem}, {name}, {ext}, "
                              f"{{index}} are replaced. Default: '{default_name}'."),
            click.option("--format", "fmt", metavar="FMT",
                         help="Output format when writing to stdout (png, jpg, tif, webp, "
                              "bmp, pdf)."),
            click.option("--overwrite", is_flag=True, help="Replace existing output files."),
            click.option("--skip-existing", is_flag=True,
                         help="Skip inputs whose output exists (resume an interrupted batch)."),
            click.option("-r", "--recursive", is_flag=True,
                         help="Look for images in sub-folders of folder inputs; -o DIR keeps "
                              "the sub-folder tree."),
            click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
                         help="Process this many files in parallel (default: the number of "
                              "cores), one thread each."),
            click.option("--threads", type=click.IntRange(min=1), default=None,
                         help="Threads for one image (default: all cores; a small "
                              "image is filtered on one)."),
            click.option("--json", "as_json", is_flag=True,
                         help="Print one JSON object per input on stdout."),
            click.option("--quality", type=click.IntRange(1, 100), default=92, show_default=True,
                         help="JPEG/WebP quality."),
            click.option("--no-auto-orient", is_flag=True,
                         help="Do not turn images upright by their EXIF orientation."),
            click.option("--max-megapixels", type=click.FloatRange(min=0, min_open=True),
                         default=DEFAULT_MAX_MEGAPIXELS, show_default=True,
                         help="Refuse larger images before decoding them."),
        ]
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


def run_command(ctx: click.Context, processor: str, params: dict, opts: dict, *,
                default_name: str, pdf: dict | None = None, writes_image: bool = True,
                preview: int | None = None) -> int:
    """Plan the outputs, run the processor on every input, report, return the exit code.

    ``preview``: see :attr:`imgtool.batch.Settings.preview` (the processor then takes an
    :class:`imgtool.io.Photo` for a large JPEG)."""
    from imgtool import batch

    verbose = ctx.obj.get("verbose", 0) if ctx.obj else 0
    quiet = ctx.obj.get("quiet", False) if ctx.obj else False
    output = opts["output"]
    fmt = opts["fmt"]
    if output == "-" and opts["as_json"]:
        raise InvalidParameterError("--json and -o - both want stdout; choose one")
    if fmt and output not in (None, "-"):
        raise InvalidParameterError("--format is for -o - (stdout); a file's extension names "
                                    "its format")
    inputs = batch.expand_inputs(opts["inputs"], recursive=opts["recursive"])
    if sum(1 for s, _ in inputs if s == "-") > 1:
        raise InvalidParameterError("'-' (stdin) can be given only once")
    collect = writes_image and output is not None and (
        Path(output).suffix.lower() == ".pdf" or (output == "-" and (fmt or "").lower() == "pdf")
    ) and len(inputs) > 1
    template = opts["name_template"] or default_name
    if not writes_image:
        tasks = [batch.Task(i, s, None) for i, (s, _) in enumerate(inputs)]
    else:
        tasks = batch.plan(inputs, output, lambda src: _name(template, src, inputs),
                           collect=collect)
    if output not in (None, "-") and not collect and len(tasks) > 1:
        os.makedirs(output, exist_ok=True)
        for t in tasks:
            os.makedirs(os.path.dirname(t.output) or ".", exist_ok=True)
    if collect:
        from imgtool.io import check_output

        check_output(output, overwrite=opts["overwrite"], inputs=[s for s, _ in inputs])
    settings = batch.Settings(
        processor=processor, params=params, auto_orient=not opts["no_auto_orient"],
        max_megapixels=opts["max_megapixels"], overwrite=opts["overwrite"], format=fmt,
        quality=opts["quality"], inputs=tuple(s for s, _ in inputs), collect=collect,
        threads=opts["threads"], verbose=verbose, pdf=pdf or {}, preview=preview,
    )  # fmt: skip
    jobs = opts["jobs"] or os.cpu_count() or 1
    progress = _progress(len(tasks), quiet)
    results = []
    try:
        for res in batch.run(tasks, settings, jobs=jobs, skip_existing=opts["skip_existing"],
                             progress=progress):
            results.append(res)
            if collect and res.status == "ok":
                res.output = output
            _report(res, opts["as_json"], quiet, progress)
    finally:
        if progress is not None:
            progress.close()
    if collect:
        _write_pdf(results, output, settings)
    return _summarise(results, quiet)


def _name(template: str, source: str, inputs) -> str:
    p = Path("stdin.png" if source == "-" else source)
    index = next((i for i, (s, _) in enumerate(inputs) if s == source), 0)
    try:
        name = template.format(stem=p.stem, name=p.name, ext=p.suffix.lstrip("."), index=index)
    except (KeyError, IndexError, ValueError) as exc:
        raise InvalidParameterError(f"--name {template!r}: bad template ({exc})") from None
    if not name or os.sep in name or name in (".", ".."):
        raise InvalidParameterError(f"--name {template!r} must give a plain file name")
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


def _summarise(results, quiet: bool) -> int:
    failed = [r for r in results if r.status == "failed"]
    if not failed:
        return ExitCode.OK
    if len(results) == 1:
        return failed[0].exit_code
    if not quiet:
        click.echo(f"imgtool: {len(failed)} of {len(results)} inputs failed:", err=True)
        for r in failed:
            click.echo(f"  {r.error.splitlines()[0]}", err=True)
    return ExitCode.PARTIAL


def _write_pdf(results, output: str, settings) -> None:
    from imgtool.io import write_bytes
    from imgtool.io.pdf import pdf_from_images

    pages = [r.image for r in results if r.status == "ok" and r.image is not None]
    if not pages:
        click.echo(f"imgtool: {output}: no pages to write", err=True)
        return
    data = pdf_from_images(pages, **settings.pdf)
    write_bytes(output, data, overwrite=settings.overwrite, inputs=settings.inputs)
    for r in results:
        if r.status == "ok" and r.image is not None:
            r.output = output
