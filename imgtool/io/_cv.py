"""The one place that imports cv2 for the I/O layer, quietly and with a pixel limit."""

import os

# A backstop for formats whose header imgtool cannot read: OpenCV refuses larger images.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(1 << 30))

import cv2  # noqa: E402

cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)

__all__ = ["cv2"]
