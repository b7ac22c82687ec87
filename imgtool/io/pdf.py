"""PDF from images (img2pdf): pages on printable paper, JPEG or 1-bit CCITT pages, metadata.

Each image becomes one page. Colour and gray images are embedded as JPEG at the quality
asked for; two-level (black and white) images as 1-bit CCITT Group 4, the fax and scanner
standard for text (0.3-0.5 of the size of an 8-bit gray PNG of the same page, measured
on real scans). The page is either the image at its
resolution, or a paper size with the image scaled to fit, centred, never stretched.

Nothing here imports cv2 or Pillow until a PDF is made.
"""

from __future__ import annotations

import datetime
import re

import numpy as np

from imgtool.errors import InvalidParameterError, OutputError

#: Paper sizes in millimetres (portrait).
PAPER_SIZES_MM = {"a4": (210.0, 297.0), "letter": (215.9, 279.4), "legal": (215.9, 355.6)}

#: The papers ``paper="auto"`` chooses from.
AUTO_PAPERS = ("a4", "letter")

#: ``paper="auto"`` puts a page on A4 or Letter when its width / height (portrait) is within
#: this fraction of the paper's: 3 %, the largest aspect error the scanner makes on the
#: generated benchmark with EXIF (0.75 %, median 0.08 %) with room to spare, and less than
#: half the 9 % that separates A4 (0.707) from Letter (0.773), so at most one paper matches.
AUTO_TOLERANCE = 0.03

#: ``paper="auto"``: a page that matches no paper keeps its proportions, but is never larger
#: than this box (mm, portrait; the larger of A4 and Letter each way), so that a page
#: photographed at 12 MP (about 390 x 580 mm at 200 dpi) still prints on common paper.
#: Smaller pages (a receipt, a card) keep their own size at ``dpi``.
AUTO_MAX_MM = (215.9, 297.0)

DEFAULT_DPI = 200.0
DEFAULT_QUALITY = 92

_MM_PER_INCH = 25.4
_POINTS_PER_INCH = 72.0


def parse_paper(spec) -> str | tuple[float, float]:
    """Parse a paper option: ``"auto"``, ``"page"``, a name, or ``"WxH"`` in mm or inches.

    Returns ``"auto"``, ``"page"`` (the image's own size at its resolution), or the paper's
    (width, height) in millimetres as given (the page turns it to suit the image).

    Raises
    ------
    InvalidParameterError
        If the text is none of those, or a size is not positive.

    Examples
    --------
    >>> parse_paper("A4")
    (210.0, 297.0)
    >>> parse_paper("8.5x11in")
    (215.9, 279.4)
    >>> parse_paper("100 x 150 mm")
    (100.0, 150.0)
    >>> parse_paper("auto")
    'auto'
    """
    text = str(spec).strip().lower()
    if text in ("auto", "page"):
        return text
    if text in PAPER_SIZES_MM:
        return PAPER_SIZES_MM[text]
    match = re.fullmatch(r"([0-9]*\.?[0-9]+)\s*[x×]\s*([0-9]*\.?[0-9]+)\s*(mm|in)", text)
    if match is None:
        raise InvalidParameterError(
            f"paper must be auto, page, {', '.join(PAPER_SIZES_MM)} or WxH with a unit "
            f"(e.g. 210x297mm, 8.5x11in), got {spec!r}")
    scale = _MM_PER_INCH if match[3] == "in" else 1.0
    width, height = float(match[1]) * scale, float(match[2]) * scale
    if not (width > 0 and height > 0):
        raise InvalidParameterError(f"paper size must be positive, got {spec!r}")
    return round(width, 3), round(height, 3)


def page_layout(width_px: int, height_px: int, *, paper="auto", dpi: float = DEFAULT_DPI):
    """Where an image of ``width_px`` x ``height_px`` goes: (page width, page height,
    image width, image height), all in points (1/72 inch); the image is centred.

    ``paper``: as :func:`parse_paper` returns (or its text). A paper is turned to
    landscape for an image wider than tall; the image is scaled to fit it, keeping its
    proportions. ``"auto"`` takes the first of :data:`AUTO_PAPERS` whose proportions are
    within :data:`AUTO_TOLERANCE` of the image's, else the image's own size at ``dpi``,
    shrunk (never stretched) to fit :data:`AUTO_MAX_MM` when it is larger.

    Examples
    --------
    >>> [round(v, 1) for v in page_layout(1700, 2400, paper="auto")]  # 0.708: A4
    [595.3, 841.9, 595.3, 840.4]
    >>> [round(v, 1) for v in page_layout(500, 1000, paper="auto", dpi=100)]  # 0.5: its own
    [360.0, 720.0, 360.0, 720.0]
    >>> [round(v, 1) for v in page_layout(2300, 3400, paper="auto")]  # 0.68, too large: capped
    [569.5, 841.9, 569.5, 841.9]
    """
    if isinstance(paper, str):
        paper = parse_paper(paper)
    if not (np.isfinite(dpi) and dpi > 0):
        raise InvalidParameterError(f"dpi must be positive, got {dpi!r}")
    capped = paper == "auto"
    if paper == "auto":
        paper = _matching_paper(width_px, height_px)
    if paper is None or paper == "page":
        w = width_px / dpi * _POINTS_PER_INCH
        h = height_px / dpi * _POINTS_PER_INCH
        if capped:
            bw, bh = (v / _MM_PER_INCH * _POINTS_PER_INCH for v in AUTO_MAX_MM)
            if (w > h) != (bw > bh):
                bw, bh = bh, bw
            shrink = min(1.0, bw / w, bh / h)
            w, h = w * shrink, h * shrink
        return w, h, w, h
    pw, ph = (v / _MM_PER_INCH * _POINTS_PER_INCH for v in paper)
    if (width_px > height_px) != (pw > ph):
        pw, ph = ph, pw
    scale = min(pw / width_px, ph / height_px)
    return pw, ph, width_px * scale, height_px * scale


def page_dpi(width_px: int, height_px: int, *, paper="auto", dpi: float = DEFAULT_DPI) -> float:
    """The resolution at which an image prints as :func:`page_layout` places it: ``dpi``
    for its own size, else the resolution that fits it on the paper.

    Examples
    --------
    >>> round(page_dpi(1654, 2339, paper="a4"))  # A4 at 200 dpi
    200
    >>> page_dpi(600, 1200, paper="auto", dpi=150)  # no paper matches: its own size
    150.0
    >>> round(page_dpi(2300, 3400, paper="auto"))  # no paper matches, too large to print
    291
    """
    image_width_pt = page_layout(width_px, height_px, paper=paper, dpi=dpi)[2]
    return width_px / image_width_pt * _POINTS_PER_INCH


def pdf_from_images(images, *, dpi: float = DEFAULT_DPI, paper="auto",
                    quality: int = DEFAULT_QUALITY, title: str | None = None,
                    created: datetime.datetime | None = None) -> bytes:
    """One PDF page per image, in order: see :func:`page_layout` for the page size.

    Parameters
    ----------
    images : iterable of numpy.ndarray
        uint8 (other depths are converted, with a warning), gray or BGR(A).
    dpi : float
        The images' resolution: the page size for ``paper="page"`` (and for ``"auto"``
        when no paper matches), and the resolution recorded with each image.
    paper : str or (width_mm, height_mm)
        See :func:`parse_paper`.
    quality : int
        JPEG quality (1-100) of colour and gray pages. Black-and-white pages (only the
        values 0 and 255) are stored 1-bit, CCITT Group 4, losslessly.
    title : str, optional
        The document title (metadata); the producer is ``imgtool VERSION``.
    created : datetime, optional
        The creation date (default: now).

    Examples
    --------
    >>> pdf = pdf_from_images([np.full((100, 80), 255, np.uint8)], dpi=100, paper="page")
    >>> pdf[:5]
    b'%PDF-'
    """
    import img2pdf

    from imgtool import __version__

    if isinstance(paper, str):
        paper = parse_paper(paper)
    if not (np.isfinite(dpi) and dpi > 0):
        raise InvalidParameterError(f"--dpi must be positive, got {dpi:g}")
    if not 1 <= int(quality) <= 100:
        raise InvalidParameterError(f"quality must be 1..100, got {quality}")
    blobs = [_encode_page(image, dpi, int(quality)) for image in images]
    if not blobs:
        raise InvalidParameterError("a PDF needs at least one page")

    def layout(width_px, height_px, _ndpi):
        # img2pdf calls this per page with that page's pixel size; it centres the image
        return page_layout(width_px, height_px, paper=paper, dpi=dpi)

    when = created or datetime.datetime.now(datetime.timezone.utc)
    try:
        return img2pdf.convert(blobs, layout_fun=layout, rotation=img2pdf.Rotation.ifvalid,
                               title=title, producer=f"imgtool {__version__}",
                               creator=f"imgtool {__version__}", creationdate=when,
                               moddate=when)
    except Exception as exc:  # img2pdf raises its own and generic errors
        raise OutputError(f"cannot build PDF: {exc}") from None


def is_two_level(image: np.ndarray) -> bool:
    """True for a 2-D uint8 image holding only 0 and 255 (a black-and-white scan)."""
    return (image.ndim == 2 and image.dtype == np.uint8
            and not np.any((image != 0) & (image != 255)))


def _encode_page(image: np.ndarray, dpi: float, quality: int) -> bytes:
    from imgtool.io.write import encode_image, fit_to_format

    image = fit_to_format(image, "pdf")
    if is_two_level(image):
        return _ccitt_tiff(image, dpi)
    return encode_image(image, "jpeg", quality=quality, dpi=dpi)


def _ccitt_tiff(image: np.ndarray, dpi: float) -> bytes:
    """A 1-bit TIFF, CCITT Group 4, that img2pdf embeds as it is (/CCITTFaxDecode)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).convert("1", dither=Image.Dither.NONE).save(
        buf, format="TIFF", compression="group4", dpi=(dpi, dpi))
    return buf.getvalue()


def _matching_paper(width_px: int, height_px: int):
    aspect = min(width_px, height_px) / max(width_px, height_px)
    for name in AUTO_PAPERS:
        w, h = PAPER_SIZES_MM[name]
        if abs(aspect / (w / h) - 1.0) <= AUTO_TOLERANCE:
            return w, h
    return None
