"""The image I/O layer every command uses.

- :func:`read_image` / :func:`decode_image`: any path or stdin, the pixel size checked from
  the header before decoding, dtype and channels kept, EXIF orientation applied.
  :func:`read_photo` also gives the camera's focal length from EXIF.
- :func:`write_image` / :func:`write_bytes`: encode in memory, atomic no-clobber write,
  never over an input, ``-`` for stdout.
- :func:`imgtool.io.pdf.pdf_from_images`: multi-page PDF.

Importing this package does not import cv2; the functions do when called.
"""

from imgtool.io.read import (
    DEFAULT_MAX_MEGAPIXELS,
    InputWarning,
    Photo,
    decode_image,
    image_header,
    read_image,
    read_photo,
)
from imgtool.io.write import (
    FORMATS,
    ConversionWarning,
    check_output,
    encode_image,
    fit_to_format,
    format_for,
    write_bytes,
    write_image,
)

__all__ = [
    "DEFAULT_MAX_MEGAPIXELS",
    "FORMATS",
    "ConversionWarning",
    "InputWarning",
    "Photo",
    "check_output",
    "decode_image",
    "encode_image",
    "fit_to_format",
    "format_for",
    "image_header",
    "read_image",
    "read_photo",
    "write_bytes",
    "write_image",
]
