"""Multi-page PDF from images, with img2pdf: JPEG and PNG data embedded without re-compression."""

from __future__ import annotations

import numpy as np

from imgtool.errors import InvalidParameterError, OutputError

#: Named page sizes in millimetres (portrait).
PAGE_SIZES_MM = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}

DEFAULT_DPI = 200.0


def pdf_from_images(
    images, *, dpi: float = DEFAULT_DPI, page_size: str | None = None, quality: int = 90
) -> bytes:
    """One PDF page per image, each page as large as the image at ``dpi``, or ``page_size``.

    Colour and gray photos are embedded as JPEG (quality ``quality``); two-level (black
    and white) pages as PNG, which img2pdf stores losslessly without re-encoding. With
    ``page_size`` ("a4" or "letter"), each image is fitted into that page, turned to
    landscape when the image is wider than tall.

    Examples
    --------
    >>> import numpy as np
    >>> pdf = pdf_from_images([np.full((100, 80), 255, np.uint8)], dpi=100)
    >>> pdf[:5]
    b'%PDF-'
    """
    import img2pdf

    from imgtool.io.write import encode_image, fit_to_format

    if dpi <= 0:
        raise InvalidParameterError(f"--dpi must be positive, got {dpi:g}")
    blobs = []
    for image in images:
        image = fit_to_format(image, "pdf")
        binary = image.dtype == np.uint8 and bool(np.isin(image, (0, 255)).all())
        blobs.append(encode_image(image, "png" if binary else "jpeg", quality=quality))

    def layout(width_px, height_px, _dpi):
        # img2pdf calls this per page with that page's pixel size; sizes are in points.
        if page_size is None:
            w, h = width_px / dpi * 72.0, height_px / dpi * 72.0
            return w, h, w, h
        pw, ph = (img2pdf.mm_to_pt(v) for v in PAGE_SIZES_MM[page_size])
        if width_px > height_px:
            pw, ph = ph, pw
        scale = min(pw / width_px, ph / height_px)
        return pw, ph, width_px * scale, height_px * scale

    try:
        return img2pdf.convert(blobs, layout_fun=layout, rotation=img2pdf.Rotation.ifvalid)
    except Exception as exc:  # img2pdf raises its own and generic errors
        raise OutputError(f"cannot build PDF: {exc}") from None
