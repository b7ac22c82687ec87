"""``imgtool filter``: Gaussian, box average, Laplacian and Sobel magnitude, chained in order."""

from __future__ import annotations

import click

from imgtool.cli.options import (
    OptionalValues,
    check_gaussian,
    io_options,
    rotate_option,
    run_command,
)
from imgtool.cli.tiled_run import TILE_HELP, run_both

STEP_OPTIONS = {"--gaussian": "gaussian", "--average": "average", "--laplacian": "laplacian",
                "--sobel": "sobel"}
BORDERS = ("reflect101", "reflect", "replicate", "constant", "wrap")
DEFAULT_NAME = "{stem}.filter.png"
#: The default name of a result made in tiles (``--tile``): a tiled BigTIFF.
TILED_NAME = "{stem}.filter.tif"


class OrderedSteps(OptionalValues):
    """Records the order in which the filter-step options appear on the command line.

    click groups repeated options into lists and loses their interleaving; the chain
    ``--average 5 --laplacian`` differs from ``--laplacian --average 5``, so the raw
    order is kept in ``ctx.meta["steps"]``. ``--laplacian`` takes the next word as its
    value only when it is a number and names no file (:class:`OptionalValues`).
    """

    # a bare number naming no file is meant as the value: '--laplacian 6' is refused as such
    optional_values = {"--laplacian": (("4", "8"), "4", str.isdigit)}

    def parse_args(self, ctx, args):
        order = []
        for arg in args:
            if arg == "--":
                break
            flag = arg.split("=", 1)[0]
            if flag in STEP_OPTIONS:
                order.append(STEP_OPTIONS[flag])
        ctx.meta["step_order"] = order
        return super().parse_args(ctx, args)


@click.command("filter", cls=OrderedSteps, epilog="""\b
Steps run in the order given: '--average 5 --laplacian' smooths, then takes the Laplacian.
Gaussian and average keep the input's dtype (uint8, uint16, float32). Laplacian and Sobel
give signed/float results in the input's units; how they are written:
  - TIFF (.tif): float32, signs and values kept exactly;
  - other formats: mapped to the input's depth by --map:
      abs     |v|, saturated (like cv2.convertScaleAbs)          [default]
      offset  mid-grey + v/2: zero is grey, negative darker, positive lighter
      stretch min..max of the result to the full range
Alpha channels are passed through untouched.""")
@click.option("--gaussian", "gaussian", is_flag=True, multiple=True,
              help="Gaussian blur with --sigma (kernel radius solved from --epsilon).")
@click.option("--sigma", type=float, default=None, help="Gaussian standard deviation (> 0).")
@click.option("--epsilon", type=float, default=0.001, show_default=True,
              help="Smallest kernel weight kept, in (0, 1): sets the radius.")
@click.option("--average", type=int, multiple=True, metavar="K",
              help="Box (mean) filter over a K x K window, K odd.")
@click.option("--laplacian", type=click.Choice(["4", "8"]), multiple=True, metavar="[4|8]",
              help="Laplacian with 4 (default) or 8 neighbours ('--laplacian=8' or "
                   "'--laplacian 8').")
@click.option("--sobel", is_flag=True, multiple=True, help="Sobel gradient magnitude.")
@click.option("--l1", is_flag=True, help="Sobel magnitude as |gx|+|gy| instead of the L2 norm.")
@click.option("--border", type=click.Choice(BORDERS), default="reflect101", show_default=True,
              help="How pixels beyond the edge are made up.")
@click.option("--cval", type=float, default=0.0, show_default=True,
              help="The value outside the image for --border constant.")
@click.option("--map", "mapping", type=click.Choice(["abs", "offset", "stretch"]),
              default="abs", show_default=True,
              help="How Laplacian/Sobel results are written to non-float formats.")
@click.option("--tile", type=click.IntRange(min=1), default=None, metavar="SIZE",
              help=TILE_HELP)
@rotate_option(auto=False)
@io_options(DEFAULT_NAME)
@click.pass_context
def filter_command(ctx, gaussian, sigma, epsilon, average, laplacian, sobel, l1, border, cval,
                   mapping, rotate, tile, **opts):
    """Filter images with imgtool's own Numba kernels.

    \b
      imgtool filter --gaussian --sigma 2 in.png -o out.png
      imgtool filter --average 5 --laplacian in.png -o lap.tif
      imgtool filter --sobel photos/ -o edges/ --jobs 2
    """
    from imgtool.errors import InvalidParameterError

    values = {"gaussian": [None] * len(gaussian), "average": list(average),
              "laplacian": [int(v) for v in laplacian], "sobel": [None] * len(sobel)}
    steps = []
    for name in ctx.meta.get("step_order", []):
        if values[name]:
            steps.append((name, values[name].pop(0)))
    if not steps:
        raise InvalidParameterError(
            "no filter given: use --gaussian, --average K, --laplacian [4|8] or --sobel")
    if any(name == "gaussian" for name, _ in steps):
        if sigma is None:
            raise InvalidParameterError("--gaussian needs --sigma")
        check_gaussian(sigma, epsilon)  # once, before any input is read
    for name, k in steps:
        if name == "average" and (k <= 0 or k % 2 == 0):
            raise InvalidParameterError(f"--average needs an odd size >= 1, got {k}")
    params = {"steps": steps, "sigma": sigma, "epsilon": epsilon, "border": border,
              "cval": cval, "norm": "l1" if l1 else "l2", "mapping": mapping,
              "rotate": int(rotate)}
    return run_both(ctx, "filter", params, opts, tile, TILED_NAME,
                    lambda o: run_command(ctx, "imgtool.cli.filter_cmd:process", params, o,
                                          default_name=DEFAULT_NAME))


def process(image, params, ctx):
    """Run the filter chain on one image (worker side; imports the kernels)."""
    import numpy as np

    from imgtool import filters
    from imgtool.batch import Outcome

    alpha = None
    if image.ndim == 3 and image.shape[2] == 4:
        image, alpha = image[:, :, :3], image[:, :, 3]
    in_dtype = image.dtype
    out, signed = apply_steps(image, params, filters)
    if signed and ctx.get("output_format") != "tiff":
        out = map_derivative(out, in_dtype, params["mapping"])
    if alpha is not None:
        out = np.dstack([out if out.ndim == 3 else out[:, :, None], _to_dtype(alpha, out.dtype)])
    record = {**json_record(params), "dtype": str(out.dtype)}
    if signed and ctx.get("output_format") != "tiff":
        record["map"] = params["mapping"]
    if params.get("rotate"):
        out = np.ascontiguousarray(np.rot90(out, -params["rotate"] // 90))  # clockwise
        record["rotate"] = params["rotate"]
    return Outcome(out, record)


def json_record(params) -> dict:
    """What ``--json`` says of the filtering: each step with the parameters it used (a
    Gaussian's sigma, epsilon and the radius they give), and the border every step used.

    Examples
    --------
    >>> json_record({"steps": [("gaussian", None), ("average", 5)], "sigma": 2.0,
    ...              "epsilon": 0.001, "norm": "l2", "border": "constant", "cval": 7.0})
    {'steps': [['gaussian', {'sigma': 2.0, 'epsilon': 0.001, 'radius': 7}], \
['average', {'size': 5}]], 'border': 'constant', 'cval': 7.0}
    """
    from imgtool.filters import gaussian_radius

    steps = []
    for name, value in params["steps"]:
        if name == "gaussian":
            used = {"sigma": params["sigma"], "epsilon": params["epsilon"],
                    "radius": gaussian_radius(params["sigma"], params["epsilon"])}
        elif name == "average":
            used = {"size": value}
        elif name == "laplacian":
            used = {"neighbours": value}
        else:
            used = {"norm": params["norm"]}
        steps.append([name, used])
    record = {"steps": steps, "border": params["border"]}
    if params["border"] == "constant":
        record["cval"] = params["cval"]
    return record


def apply_steps(image, params, ops, **extra):
    """The filter steps of ``params`` on ``image``, in order, through ``ops``: the module
    :mod:`imgtool.filters` for an array in memory, :mod:`imgtool.tiled` for a dask array
    (``extra``: its ``tile``). Returns the result and whether it holds derivatives."""
    border = {"border": params["border"], "cval": params["cval"], **extra}
    out, signed = image, False
    for name, value in params["steps"]:
        if name == "gaussian":
            out = ops.gaussian(out, params["sigma"], epsilon=params["epsilon"], **border)
        elif name == "average":
            out = ops.box(out, value, **border)
        elif name == "laplacian":
            out = ops.laplacian(out, neighbours=value, **border)
            signed = True
        elif name == "sobel":
            out = ops.gradient_magnitude(out, norm=params["norm"], **border)
            signed = True
    return out, signed


def map_derivative(values, dtype, mapping: str):
    """Map a float derivative result to ``dtype``'s range (see ``imgtool filter --help``).

    Examples
    --------
    >>> import numpy as np
    >>> v = np.array([-300.0, -10.0, 0.0, 10.0, 300.0], np.float32)
    >>> map_derivative(v, np.dtype(np.uint8), "abs")
    array([255,  10,   0,  10, 255], dtype=uint8)
    >>> map_derivative(v, np.dtype(np.uint8), "offset")
    array([  0, 123, 128, 133, 255], dtype=uint8)
    """
    import numpy as np

    if dtype == np.float32 or dtype == np.float64:
        top, mid, target = 1.0, 0.5, np.float32
    else:
        top = float(np.iinfo(dtype).max)
        mid, target = (top + 1) / 2, dtype
    v = values.astype(np.float64)
    if mapping == "abs":
        out = np.abs(v)
    elif mapping == "offset":
        out = mid + v / 2
    else:
        lo, hi = float(v.min()), float(v.max())
        out = (v - lo) * (top / (hi - lo)) if hi > lo else np.zeros_like(v)
    out = np.clip(out, 0, top)
    if target is np.float32:
        return out.astype(np.float32)
    return np.rint(out).astype(target)


def _to_dtype(alpha, dtype):
    import numpy as np

    if alpha.dtype == dtype:
        return alpha
    src = 1.0 if alpha.dtype.kind == "f" else float(np.iinfo(alpha.dtype).max)
    dst = 1.0 if np.dtype(dtype).kind == "f" else float(np.iinfo(dtype).max)
    out = alpha.astype(np.float64) * (dst / src)
    return out.astype(dtype) if np.dtype(dtype).kind == "f" else np.rint(out).astype(dtype)
