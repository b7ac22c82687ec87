"""Make docs/before_after.png: a bundled sample photo beside what ``imgtool scan`` makes of it.

Run from the repo root: ``.venv/bin/python docs/make_figure.py``. The picture is built only
from the repo's own generated sample and imgtool's own scanner.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from imgtool.io import encode_image, read_image, write_bytes
from imgtool.scan import scan

ROOT = Path(__file__).resolve().parent.parent
HEIGHT = 520


def _fit(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    scale = HEIGHT / image.shape[0]
    return cv2.resize(image, (round(image.shape[1] * scale), HEIGHT), interpolation=cv2.INTER_AREA)


def _label(image: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((34, image.shape[1], 3), 40, np.uint8)
    cv2.putText(bar, text, (10, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2,
                cv2.LINE_AA)
    return np.vstack([bar, image])


def main() -> None:
    photo = read_image(ROOT / "samples" / "letter_wood.jpg")
    color = scan(photo, mode="color")
    bw = scan(photo, mode="bw")
    marked = photo.copy()
    pts = np.round(color.corners).astype(np.int32)
    cv2.polylines(marked, [pts], True, (0, 200, 0), max(3, photo.shape[1] // 300), cv2.LINE_AA)
    gap = np.full((HEIGHT + 34, 12, 3), 255, np.uint8)
    panels = [_label(_fit(marked), "photo: page found"), gap,
              _label(_fit(color.page), "scan --mode color"), gap,
              _label(_fit(bw.page), "scan --mode bw")]
    write_bytes(ROOT / "docs" / "before_after.png", encode_image(np.hstack(panels), "png"),
                overwrite=True)


if __name__ == "__main__":
    main()
