"""``imgtool scan``: find the page in a photo, flatten it, clean it up."""

from __future__ import annotations

import click

from imgtool.cli.options import Named, io_options, rotate_option, run_command

DEFAULT_NAME = "{stem}.scan.jpg"
#: Long side of the preview a large JPEG is searched on while it decodes in full: kept equal
#: to imgtool.scan.detection.DETECT_SIDE (not imported here: --help stays free of cv2).
PREVIEW_SIDE = 1000
#: imgtool.scan.enhance.MODES, listed here so --help need not import OpenCV (a test checks).
MODES = ("color", "enhanced", "gray", "bw")


def _parse_corners(text: str):
    import math

    from imgtool.errors import InvalidParameterError

    try:
        pts = [tuple(float(v) for v in p.split(",")) for p in text.replace(";", " ").split()]
    except ValueError:
        pts = []
    if len(pts) != 4 or any(len(p) != 2 for p in pts):
        raise InvalidParameterError(
            f"--corners {text!r}: give four points as \"x,y x,y x,y x,y\"")
    if not all(math.isfinite(v) for p in pts for v in p):
        raise InvalidParameterError(f"--corners {text!r}: the coordinates must be finite")
    from imgtool.scan.quad import order_corners

    try:  # the one thing left to refuse: four points that span no page (said once, here)
        order_corners(pts)
    except InvalidParameterError:
        raise InvalidParameterError(
            f"--corners {text!r}: the four points lie on one line") from None
    return pts


@click.command("scan", epilog="""\b
Inputs: JPEG, PNG, TIFF, WebP, BMP, PNM, GIF and HEIC/HEIF (iPhone photos), upright by EXIF.
Modes:
  color     the page as photographed, light white balance: for photos, covers, glossy print
  enhanced  colour with shadows and shading flattened, hues kept ("magic colour"): for
            colour documents (forms with stamps, highlighted notes, slides, whiteboards)
  gray      shading flattened, contrast stretched: for text and drawings in one ink
  bw        the scanned look for text: gray, then Sauvola adaptive thresholding
Default output name: '{stem}.scan.jpg', '{stem}.scan.png' for bw; with -o - (stdout)
the same format (JPEG, PNG for bw) unless --format says otherwise.
--rotate turns the finished page clockwise; --rotate auto turns it so that its text is
upright, and leaves it when unsure (off by default: see the README for its accuracy).
-o FILE.pdf puts every input's page into one PDF, in input order (folders in natural
order: page2 before page10); --paper sets the paper: auto (default) puts a page whose
proportions are within 3% of A4 or Letter on that paper, any other page is its own size at
--dpi, shrunk to fit 215.9 x 297 mm when larger. Colour and gray pages are JPEG
(--quality), bw pages 1-bit CCITT G4.
A page found with confidence below 0.5 is written with a warning to check it.
When no page is found (or only one with confidence below 0.2) the exit code is 5;
--fallback full (default) still writes the whole photo (cleaned up in --mode; in a PDF, in
that input's place), --fallback skip writes nothing (the page is left out of a PDF, and the
summary says so). --json prints one object per input: input, output (null when none was
written), status (ok, failed or skipped), found, corners (TL, TR, BR, BL of the written
page, in pixels of the upright input), size (width, height of the page in pixels), aspect,
confidence (0..1: how sure detection is that the corners are the page's; null for
--corners), cut (whether the page runs off the photo), rotate (clockwise degrees; not with
--detect-only), and error for a failed input (an unreadable one has no scan fields).""")
@click.option("--mode", type=click.Choice(MODES), default="color",
              show_default=True, help="How the flattened page is cleaned up (see below).")
@click.option("--aspect", default="auto", show_default=True,
              type=Named(("auto", "a4", "letter"), "auto|a4|letter|W:H"),
              help="Page proportions: recovered from the perspective, or fixed (a warning "
                   "when that stretches the page more than 3%).")
@click.option("--corners", default=None, metavar='"x,y x,y x,y x,y"',
              help="Use these page corners (any order) instead of detecting.")
@click.option("--fallback", type=click.Choice(["full", "skip"]), default="full",
              show_default=True, help="What to write when no page is found.")
@click.option("--detect-only", is_flag=True, help="Only find the corners; write no image.")
@click.option("--debug", "debug_dir", type=click.Path(file_okay=False), default=None,
              help="Write the intermediate pictures (edges, candidates, chosen quad) here.")
@click.option("--dpi", type=click.FloatRange(min=1), default=200.0, show_default=True,
              help="Resolution of a page that is its own size (see --paper): its PDF page "
                   "size, and recorded in PNG, JPEG and TIFF files (a page on paper records "
                   "the resolution that prints it at that size).")
@click.option("--paper", default="auto", show_default=True,
              type=Named(("auto", "page", "a4", "letter", "legal"),
                         "auto|page|a4|letter|legal|WxH{mm,in}"),
              help="PDF paper: the page fitted onto it (scaled, centred, never stretched); "
                   "auto: A4 or Letter when the page's proportions are within 3% of one, "
                   "else its own size at --dpi, shrunk to fit 215.9 x 297 mm when larger "
                   "(page: always its own size).")
@click.option("--title", default=None, metavar="TEXT",
              help="PDF title [default: the first input's name without extension].")
@click.option("--no-refine", is_flag=True, help="Do not refine the corners at full resolution.")
@click.option("--focal", type=click.FloatRange(min=1, max=2000), default=None, metavar="MM",
              help="The camera's 35 mm-equivalent focal length, for --aspect auto "
                   "[default: from EXIF, else estimated from the corners].")
@rotate_option(auto=True)
@io_options(DEFAULT_NAME, threads_help=(
    "Threads for one photo (default: all cores), for OpenCV and imgtool's kernels; with "
    "more than one, a large JPEG is searched on a preview while it decodes in full "
    "alongside."))
@click.pass_context
def scan_command(ctx, mode, aspect, corners, fallback, detect_only, debug_dir, dpi, paper,
                 title, no_refine, focal, rotate, **opts):
    """Find the page in each photo, flatten it to its true proportions and clean it up.

    \b
      imgtool scan photo.jpg                       writes photo.scan.jpg
      imgtool scan --mode bw photo.jpg -o page.png
      imgtool scan a.jpg b.jpg c.jpg -o pages.pdf
      imgtool scan --json --detect-only photo.jpg  corners only, as JSON
      imgtool scan --rotate auto --mode enhanced sideways.jpg
    """
    from imgtool.errors import InvalidParameterError
    from imgtool.io.pdf import parse_paper

    aspect_value = _check_aspect(aspect)
    try:
        paper_value = parse_paper(paper)
    except InvalidParameterError as exc:
        raise InvalidParameterError(f"--paper {paper!r}: {exc}") from None
    points = _parse_corners(corners) if corners else None
    if detect_only and opts["output"]:
        raise InvalidParameterError("--detect-only writes no image; drop -o")
    if detect_only and rotate != "0":
        raise InvalidParameterError("--rotate turns the written page; --detect-only writes none")
    name = opts["name_template"] or ("{stem}.scan.png" if mode == "bw" else DEFAULT_NAME)
    opts["name_template"] = name
    params = {"mode": mode, "aspect": aspect_value, "corners": points, "fallback": fallback,
              "detect_only": detect_only, "debug_dir": debug_dir, "refine": not no_refine,
              "focal_35mm": focal, "paper": paper_value, "dpi": dpi,
              "rotate": rotate if rotate == "auto" else int(rotate)}
    pdf = {"dpi": dpi, "paper": paper_value, **({"title": title} if title is not None else {})}
    if detect_only and not opts["as_json"]:
        opts["as_json"] = True  # corners are the only result: print them
    return run_command(ctx, "imgtool.cli.scan_cmd:process", params, opts, default_name=name,
                       pdf=pdf, writes_image=not detect_only,
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
    import warnings
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
                                  refine=params["refine"], focal=focal,
                                  rotate=params.get("rotate", 0), debug=debug)
        record = result.to_record()
        if not params["detect_only"]:
            record["rotate"] = result.rotation
        page = None if params["detect_only"] else result.page
        if page is not None and result.found and params["aspect"].lower() != "auto":
            _warn_if_stretched(result, size, focal)
        elif page is not None and result.found and result.cut and corners is None:
            warnings.warn("the page runs off the photo: its proportions are those of the part "
                          "in view (give --aspect if they are known)", stacklevel=2)
        if result.found and corners is None and result.confidence < UNSURE_CONFIDENCE:
            warnings.warn(f"the page was found with low confidence ({result.confidence:.2f}):"
                          " check it (or give its corners with --corners)", stacklevel=2)
    except NoPageError:
        record = {"found": False, "corners": None, "size": None, "aspect": None,
                  "confidence": 0.0, "cut": None}
        page = None
    if debug is not None:
        _write_debug(debug, Path(params["debug_dir"]), ctx)
    record = {"input": ctx["display"], **record}
    if not record.get("found"):
        wrote = page is not None
        msg = "no page found" + ("; wrote the whole photo (--fallback full)" if wrote else "")
        return Outcome(page, record, exit_code=ExitCode.NO_PAGE, message=msg,
                       dpi=_page_dpi(page, params))
    return Outcome(page, record, dpi=_page_dpi(page, params))


def _page_dpi(page, params) -> float | None:
    """The resolution a written page records: the one that prints it as the PDF would lay
    it out (on A4 or Letter for --paper auto when it matches one), else --dpi."""
    if page is None:
        return None
    from imgtool.io.pdf import page_dpi

    return page_dpi(page.shape[1], page.shape[0], paper=params["paper"], dpi=params["dpi"])


#: A page found with a confidence under this (and at least detection's MIN_CONFIDENCE) is
#: said to be unsure (one warning line): measured over every development range of the
#: generated classes, from 0.2 to 0.5 about as many of the quads detection returns are wrong
#: as right (31 right, 26 wrong, and 99 more on photos with no page), above it 92% are right
#: (README, "How sure the scanner is").
UNSURE_CONFIDENCE = 0.5


#: A fixed --aspect more than this fraction away from the aspect recovered from the
#: perspective is said (one warning line): the recovered aspect is within 3 % on the
#: generated benchmark, so a larger change is the page being stretched, not corrected.
ASPECT_WARN_TOLERANCE = 0.03


def _warn_if_stretched(result, size, focal) -> None:
    import warnings

    from imgtool.scan.aspect import resolve_aspect

    recovered = resolve_aspect("auto", result.corners, size, focal=focal)
    change = result.aspect / recovered - 1.0
    if abs(change) > ASPECT_WARN_TOLERANCE:
        warnings.warn(f"--aspect {result.aspect:.3f} (width/height) "
                      f"{'stretches' if change > 0 else 'squeezes'} the page {abs(change):.0%} "
                      f"across: its proportions measure {recovered:.3f}", stacklevel=2)


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
