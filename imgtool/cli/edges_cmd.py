"""``imgtool edges``: Canny with automatic or fixed thresholds."""

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

DEFAULT_NAME = "{stem}.edges.png"
#: The default name of a result made in tiles (``--tile``): a tiled BigTIFF.
TILED_NAME = "{stem}.edges.tif"
#: Names of imgtool.edges.METHODS, listed here so --help need not import numba
#: (tests check the two agree).
AUTO_METHODS = ("gradient_otsu", "gradient_percentile", "otsu", "median")
#: The Gaussian's epsilon edges smooths with: imgtool.edges.detect_edges' default (a test
#: checks the two agree).
EPSILON = 0.001


def _looks_like_method(word) -> bool:
    """A bare word that is no file (``--auto magic``): meant as a method, reported as unknown."""
    import os

    return (not word.startswith("-") and "." not in word and os.sep not in word
            and not os.path.exists(word))


class AutoOption(OptionalValues):
    """Lets ``--auto`` take an optional METHOD without swallowing an input path.

    ``--auto photo.jpg`` means the default method on photo.jpg; the next word is taken as
    the method only when it names one, or is a bare word naming no file (reported as an
    unknown method), or is written ``--auto=NAME``.
    """

    optional_values = {"--auto": (AUTO_METHODS, "default", _looks_like_method)}


@click.command("edges", cls=AutoOption, epilog="""\b
Automatic methods (--auto METHOD; default gradient_otsu, chosen by measurement, see
BENCHMARKS.md):
  gradient_otsu        Otsu's threshold of the gradient magnitudes that survive
                       non-maximum suppression = high; low = high / 2
  gradient_percentile  a high percentile of those magnitudes = high; low = high / 2
  otsu                 Otsu's threshold of the smoothed grey levels = high; low = high / 2
  median               v = median grey level: low = (1-s) v, high = (1+s) v
Thresholds are in the units of cv2.Canny (unnormalised 3x3 Sobel on 8-bit levels);
16-bit input is scaled to 8-bit units, float input is taken as 0..1.
The output is a 0/255 edge map (PNG by default).""")
@click.option("--auto", "auto", default=None, metavar="[METHOD]",
              help="Choose the thresholds automatically (the default).")
@click.option("--low", type=float, default=None, help="Fixed low threshold (with --high).")
@click.option("--high", type=float, default=None, help="Fixed high threshold (with --low).")
@click.option("--sigma", type=float, default=1.4, show_default=True,
              help="Gaussian smoothing before the gradients; 0 for none.")
@click.option("--l1", is_flag=True, help="Gradient magnitude |gx|+|gy| instead of L2.")
@click.option("--median-sigma", type=float, default=0.33, show_default=True,
              help="s of the median method.")
@click.option("--tile", type=click.IntRange(min=1), default=None, metavar="SIZE",
              help=TILE_HELP)
@rotate_option(auto=False)
@io_options(DEFAULT_NAME)
@click.pass_context
def edges_command(ctx, auto, low, high, sigma, l1, median_sigma, rotate, tile, **opts):
    """Find edges with imgtool's Canny detector.

    \b
      imgtool edges --auto photo.jpg
      imgtool edges --auto median --json photo.jpg -o edges.png
      imgtool edges --low 50 --high 150 --sigma 2 photo.jpg -o edges.png
    """
    import math

    from imgtool.errors import InvalidParameterError

    manual = low is not None or high is not None
    if auto is not None and manual:
        raise InvalidParameterError("give either --auto or --low/--high, not both")
    if manual:
        if low is None or high is None:
            raise InvalidParameterError("--low and --high go together")
        if not all(math.isfinite(v) and v >= 0 for v in (low, high)):
            raise InvalidParameterError(f"thresholds must be finite and >= 0, got --low {low:g} "
                                        f"--high {high:g}")
        if low > high:
            raise InvalidParameterError(f"--low {low:g} is above --high {high:g}")
        method = None
    else:
        method = None if auto in (None, "default") else auto
        if method is not None and method not in AUTO_METHODS:
            raise InvalidParameterError(
                f"unknown --auto method {method!r} (choose from {', '.join(AUTO_METHODS)})")
        method = method or "default"
    if not sigma >= 0:
        raise InvalidParameterError(f"--sigma must be >= 0 (0: no smoothing), got {sigma:g}")
    if not math.isfinite(sigma):
        raise InvalidParameterError(f"--sigma must be finite, got {sigma:g}")
    if sigma > 0:  # once, before any input is read
        check_gaussian(sigma, EPSILON, epsilon_option=False)
    if not 0 <= median_sigma < 1:
        raise InvalidParameterError(f"--median-sigma must be in [0, 1), got {median_sigma:g}")
    params = {"method": method, "low": low, "high": high, "sigma": sigma or None,
              "norm": "l1" if l1 else "l2", "median_sigma": median_sigma,
              "rotate": int(rotate)}
    return run_both(ctx, "edges", params, opts, tile, TILED_NAME,
                    lambda o: run_command(ctx, "imgtool.cli.edges_cmd:process", params, o,
                                          default_name=DEFAULT_NAME))


def process(image, params, ctx):
    """Detect the edges of one image (worker side)."""
    import logging

    import numpy as np

    from imgtool import edges
    from imgtool.batch import Outcome
    from imgtool.errors import InputError

    if image.dtype.kind == "f" and not np.isfinite(image).all():
        raise InputError(f"{ctx['display']}: image has NaN or infinite values")
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    method = params["method"]
    kwargs = {"sigma": params["sigma"], "norm": params["norm"],
              "median_sigma": params["median_sigma"]}
    if method is None:
        result, info = edges.detect_edges(image, method=None, low=params["low"],
                                          high=params["high"], **kwargs)
    elif method == "default":
        result, info = edges.detect_edges(image, **kwargs)
    else:
        result, info = edges.detect_edges(image, method=method, **kwargs)
    logging.getLogger("imgtool").info(
        "%s: method %s, low %.2f, high %.2f, edge pixels %.2f%%", ctx["display"],
        info["method"] or "fixed", info["low"], info["high"], 100 * info["edge_fraction"])
    info = json_record(info)
    if params.get("rotate"):
        result = np.ascontiguousarray(np.rot90(result, -params["rotate"] // 90))  # clockwise
        info["rotate"] = params["rotate"]
    return Outcome(result, info)


def json_record(info: dict) -> dict:
    """What ``--json`` says of one input: the detector's ``info`` with the smoothing as given
    on the command line (``--sigma 0``, no smoothing, is 0 rather than the library's None)."""
    return {**info, "sigma": 0.0 if info["sigma"] is None else info["sigma"]}
