"""``imgtool scan``: find the page in a photo, flatten it, clean it up."""

from __future__ import annotations

import click

from imgtool.cli.options import io_options, run_command

DEFAULT_NAME = "{stem}.scan.jpg"
#: Long side of the preview a large JPEG is searched on while it decodes in full: kept equal
#: to imgtool.scan.detection.DETECT_SIDE (not imported here: --help stays free of cv2).
PREVIEW_SIDE = 1000


def _parse_corners(text: str):
    from imgtool.errors import InvalidParameterError

    try:
        pts = [tuple(float(v) for v in p.split(",")) for p in text.replace(";", " ").split()]
    except ValueError:
        pts = []
    if len(pts) != 4 or any(len(p) != 2 for p in pts):
        raise InvalidParameterError(
            f"--corners {text!r}: give four points as \"x,y x,y x,y x,y\"")
    return pts


@click.command("scan", epilog="""\b
Modes: color (the page as photographed, light white balance), gray (shading flattened,
contrast stretched), bw (the scanned look for text: shading flattened, then Sauvola
adaptive thresholding). Default output name: '{stem}.scan.jpg', '{stem}.scan.png' for bw.
-o FILE.pdf puts every input's page into one PDF (page size from the page's aspect at
--dpi, or A4/Letter with --aspect a4|letter).
When no page is found (or only one with confidence below 0.2) the exit code is 5;
--fallback full (default) still writes the whole photo (enhanced), --fallback skip writes
nothing. --json prints one object per input: input, found, corners (TL, TR, BR, BL in
pixels of the upright input), size, aspect, confidence (0..1: how sure detection is that
the corners are the page's; null for --corners), output.""")
@click.option("--mode", type=click.Choice(["color", "gray", "bw"]), default="color",
              show_default=True, help="How the flattened page is cleaned up.")
@click.option("--aspect", default="auto", show_default=True, metavar="auto|a4|letter|W:H",
              help="Page proportions: recovered from the perspective, or fixed.")
@click.option("--corners", default=None, metavar='"x,y x,y x,y x,y"',
              help="Use these page corners (any order) instead of detecting.")
@click.option("--fallback", type=click.Choice(["full", "skip"]), default="full",
              show_default=True, help="What to write when no page is found.")
@click.option("--detect-only", is_flag=True, help="Only find the corners; write no image.")
@click.option("--debug", "debug_dir", type=click.Path(file_okay=False), default=None,
              help="Write the intermediate pictures (edges, candidates, chosen quad) here.")
@click.option("--dpi", type=click.FloatRange(min=1), default=200.0, show_default=True,
              help="Resolution that sets the PDF page size.")
@click.option("--no-refine", is_flag=True, help="Do not refine the corners at full resolution.")
@click.option("--focal", type=click.FloatRange(min=1, max=2000), default=None, metavar="MM",
              help="The camera's 35 mm-equivalent focal length, for --aspect auto "
                   "[default: from EXIF, else estimated from the corners].")
@io_options(DEFAULT_NAME)
@click.pass_context
def scan_command(ctx, mode, aspect, corners, fallback, detect_only, debug_dir, dpi, no_refine,
                 focal, **opts):
    """Find the page in each photo, flatten it to its true proportions and clean it up.

    \b
      imgtool scan photo.jpg                       writes photo.scan.jpg
      imgtool scan --mode bw photo.jpg -o page.png
      imgtool scan a.jpg b.jpg c.jpg -o pages.pdf
      imgtool scan --json --detect-only photo.jpg  corners only, as JSON
    """
    from imgtool.errors import InvalidParameterError

    aspect_value = _check_aspect(aspect)
    points = _parse_corners(corners) if corners else None
    if detect_only and opts["output"]:
        raise InvalidParameterError("--detect-only writes no image; drop -o")
    name = opts["name_template"] or ("{stem}.scan.png" if mode == "bw" else DEFAULT_NAME)
    opts["name_template"] = name
    params = {"mode": mode, "aspect": aspect_value, "corners": points, "fallback": fallback,
              "detect_only": detect_only, "debug_dir": debug_dir, "refine": not no_refine,
              "focal_35mm": focal}
    page_size = aspect.lower() if aspect.lower() in ("a4", "letter") else None
    if detect_only and not opts["as_json"]:
        opts["as_json"] = True  # corners are the only result: print them
    return run_command(ctx, "imgtool.cli.scan_cmd:process", params, opts, default_name=name,
                       pdf={"dpi": dpi, "page_size": page_size}, writes_image=not detect_only,
                       preview=None if corners else PREVIEW_SIDE)


def _check_aspect(text: str):
    from imgtool.errors import InvalidParameterError
    from imgtool.scan.aspect import parse_aspect

    try:
        parse_aspect(text)
    except ValueError as exc:
        raise InvalidParameterError(f"--aspect {text!r}: {exc}") from None
    return text


def process(image, params, ctx):
    """Scan one photo (worker side)."""
    from pathlib import Path

    import numpy as np

    from imgtool import scan as scanner
    from imgtool.batch import Outcome
    from imgtool.errors import ExitCode, InputError, NoPageError
    from imgtool.io import Photo

    size = image.size if isinstance(image, Photo) else image.shape[1::-1]
    if not isinstance(image, Photo) and image.dtype.kind == "f":
        if not np.isfinite(image).all():
            raise InputError(f"{ctx['display']}: image has NaN or infinite values")
    debug = {} if params["debug_dir"] else None
    corners = None if params["corners"] is None else np.asarray(params["corners"], float)
    focal = ctx.get("focal")
    if params["focal_35mm"] is not None:
        from imgtool.io.read import focal_from_35mm

        focal = focal_from_35mm(params["focal_35mm"], size)
    try:
        if params["detect_only"]:
            result = scanner.detect(image, corners=corners, refine=params["refine"],
                                    focal=focal, debug=debug)
        else:
            result = scanner.scan(image, mode=params["mode"], aspect=params["aspect"],
                                  corners=corners, fallback=params["fallback"],
                                  refine=params["refine"], focal=focal, debug=debug)
        record = result.to_record()
        page = None if params["detect_only"] else result.page
    except NoPageError:
        record = {"found": False, "corners": None, "size": None, "aspect": None,
                  "confidence": 0.0}
        page = None
    if debug is not None:
        _write_debug(debug, Path(params["debug_dir"]), ctx)
    record = {"input": ctx["display"], **record}
    if not record.get("found"):
        wrote = page is not None
        msg = "no page found" + ("; wrote the whole photo (--fallback full)" if wrote else "")
        return Outcome(page, record, exit_code=ExitCode.NO_PAGE, message=msg)
    return Outcome(page, record)


def _write_debug(debug: dict, folder, ctx) -> None:
    """Write the scanner's intermediate pictures to FOLDER/<input stem>/NN-name.png."""
    from pathlib import Path

    from imgtool.io import encode_image, write_bytes

    stem = "stdin" if ctx["source"] == "-" else Path(ctx["source"]).stem
    target = folder / stem
    target.mkdir(parents=True, exist_ok=True)
    for i, (name, picture) in enumerate(debug.items()):
        write_bytes(target / f"{i:02d}-{name}.png", encode_image(picture, "png"),
                    overwrite=True)
