"""``--tile``: run ``imgtool filter`` or ``imgtool edges`` tile by tile (:mod:`imgtool.tiled`).

An input goes this way when ``--tile SIZE`` is given, or without it when it is a TIFF or
zarr image of more than :data:`imgtool.tiled.AUTO_TILE_MEGAPIXELS` megapixels. Its result
is a tiled BigTIFF (or a zarr array, for ``-o OUT.zarr``) written tile by tile; default
name ``{stem}.filter.tif`` / ``{stem}.edges.tif``. The guarantees of the other path hold:
no partial file under the final name, ``--overwrite`` and ``--skip-existing``, a failing
input does not stop the others, ``--json`` lines in input order.
"""

from __future__ import annotations

import json
import os

import click

from imgtool.errors import ExitCode, ImgtoolError, InputError, InvalidParameterError

TILE_HELP = ("Work in SIZE x SIZE tiles, in bounded memory, and write a tiled BigTIFF (or "
             "-o OUT.zarr). Automatic for TIFF and zarr inputs above 100 megapixels.")


def split_inputs(args, tile: int | None, recursive: bool):
    """The inputs to run in tiles, and the command-line arguments left for the usual path."""
    from imgtool.batch import expand_inputs
    from imgtool.io.tiles import could_be_tiff, image_shape, is_zarr
    from imgtool.tiled import AUTO_TILE_MEGAPIXELS

    zarrs = [str(a) for a in args if is_zarr(a)]
    others = [a for a in args if not is_zarr(a)]
    found = expand_inputs(others, recursive=recursive) if others else []
    if tile is not None:
        if any(s == "-" for s, _ in found):
            raise InvalidParameterError("--tile reads files, not standard input ('-')")
        for source, _ in found:
            if not could_be_tiff(source):
                raise InvalidParameterError(
                    f"{source}: --tile needs a TIFF or zarr input (it reads the image tile by "
                    "tile); drop --tile to process this one whole")
        return [(z, None) for z in zarrs] + found, []

    def large(source):
        shape = image_shape(source) if source != "-" else None
        return shape is not None and shape[0] * shape[1] > AUTO_TILE_MEGAPIXELS * 1e6

    big = [(s, rel) for s, rel in found if large(s)]
    if not big:
        return [(z, None) for z in zarrs], others
    return [(z, None) for z in zarrs] + big, [s for s, rel in found if not large(s)]


def run_tiled(ctx: click.Context, command: str, params: dict, opts: dict, inputs, tile,
              default_name: str) -> int:
    """Run ``command`` ("filter" or "edges") on every input in tiles; return the exit code."""
    from imgtool.batch import plan
    from imgtool.cli.options import _name as name_for
    from imgtool.cli.options import batch_exit_code
    from imgtool.tiled import DEFAULT_TILE

    quiet = ctx.obj.get("quiet", False) if ctx.obj else False
    output = opts["output"]
    if output == "-":
        raise InvalidParameterError("a tiled result cannot go to standard output; give -o "
                                    "OUT.tif or OUT.zarr")
    template = opts["name_template"] or default_name
    tasks = plan(inputs, output, lambda src: name_for(template, src, inputs))
    if output is not None and len(tasks) > 1:
        for t in tasks:
            os.makedirs(os.path.dirname(t.output) or ".", exist_ok=True)
    tile = tile or DEFAULT_TILE
    codes = []
    for task in tasks:
        record = {"input": task.source, "output": task.output, "status": "ok", "tile": tile}
        code = 0
        if opts["skip_existing"] and os.path.exists(task.output):
            record["status"] = "skipped"
        else:
            try:
                record.update(_run_one(command, task, params, opts, tile, quiet))
            except ImgtoolError as exc:
                code = int(exc.exit_code)
                record.update(status="failed", output=None, error=str(exc))
                click.echo(f"imgtool: {exc}", err=True)  # errors are said with -q too
        codes.append(code)
        if opts["as_json"]:
            click.echo(json.dumps(record))
    failed = sum(1 for c in codes if c)
    if failed and len(codes) > 1 and not quiet:
        click.echo(f"imgtool: {failed} of {len(codes)} inputs failed", err=True)
    return batch_exit_code(codes)


def _run_one(command, task, params, opts, tile, quiet) -> dict:
    import contextlib
    import sys

    from imgtool.io.tiles import open_tiles

    if not os.path.exists(task.source):
        raise InputError(f"{task.source}: no such file")
    progress = contextlib.nullcontext()
    if not quiet and sys.stderr is not None and sys.stderr.isatty():
        from dask.diagnostics import ProgressBar

        progress = ProgressBar(out=sys.stderr)
    with open_tiles(task.source, tile) as source, progress:
        return _compute(command, source.array, task, params, opts, tile)


def _compute(command, x, task, params, opts, tile) -> dict:
    from imgtool import tiled
    from imgtool.cli.edges_cmd import json_record
    from imgtool.io.tiles import tile_writer

    writer = None
    try:
        if command == "filter":
            y, record = _filter_chain(x, params, tile)
            writer = tile_writer(task.output, y.shape, y.dtype, _tiff_tile(tile),
                                 overwrite=opts["overwrite"], inputs=[task.source])
            tiled.store(y, writer)
        else:
            if x.ndim == 3 and x.shape[2] == 4:
                x = x[:, :, :3]
            writer = tile_writer(task.output, x.shape[:2], "uint8", _tiff_tile(tile),
                                 overwrite=opts["overwrite"], inputs=[task.source])
            kwargs = {"sigma": params["sigma"], "norm": params["norm"],
                      "median_sigma": params["median_sigma"], "tile": tile,
                      "scratch": os.path.dirname(os.path.abspath(task.output))}
            method = params["method"]
            if method is None:
                kwargs.update(method=None, low=params["low"], high=params["high"])
            elif method != "default":
                kwargs["method"] = method
            try:
                record = json_record(tiled.detect_edges(x, writer, **kwargs))
            except InvalidParameterError as exc:  # found in the pixels (NaN): the input's
                raise InputError(f"{task.source}: {exc}") from None
        writer.commit()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return record


def _tiff_tile(tile):
    return max(16, -(-tile // 16) * 16)


def _filter_chain(x, params, tile):
    """The filter steps of ``imgtool filter`` on a dask array (alpha passed through)."""
    import numpy as np

    from imgtool import tiled
    from imgtool.cli.filter_cmd import _to_dtype, apply_steps, json_record

    alpha = None
    if x.ndim == 3 and x.shape[2] == 4:
        x, alpha = x[:, :, :3], x[:, :, 3]
    out, _ = apply_steps(x, params, tiled, tile=tile)  # tiles are TIFF: no derivative mapping
    if alpha is not None:
        import dask.array as da

        a = alpha.map_blocks(_to_dtype, out.dtype, dtype=out.dtype,
                             meta=np.empty((0, 0), out.dtype))
        out = da.concatenate([out, a[:, :, None].rechunk(out.chunks[:2] + ((1,),))], axis=2)
    return out, {**json_record(params), "dtype": str(out.dtype)}


def run_both(ctx, command, params, opts, tile, tiled_name, run_in_memory) -> int:
    """Send each input its way: in tiles (:func:`run_tiled`) or in memory (``run_in_memory``
    called with the options for the other inputs); one exit code for both."""
    from imgtool.cli.options import check_io_options

    check_io_options(opts)  # before split_inputs reads the inputs' headers
    tiled, rest = split_inputs(opts["inputs"], tile, opts["recursive"])
    if not tiled:
        return run_in_memory(opts)
    if params.get("rotate"):
        from imgtool.errors import InvalidParameterError

        raise InvalidParameterError(
            f"{tiled[0]}: --rotate is not available in tiles (--tile, or a TIFF/zarr input "
            "above the tiling threshold); rotate the result with another tool")
    code = run_tiled(ctx, command, params, opts, tiled, tile, tiled_name)
    if not rest:
        return code
    other = run_in_memory(dict(opts, inputs=tuple(rest)))
    if ExitCode.OK in (code, other) or ExitCode.PARTIAL in (code, other):
        return ExitCode.OK if code == other == ExitCode.OK else ExitCode.PARTIAL
    return min(code, other)  # every input failed, in both parts: as batch_exit_code
