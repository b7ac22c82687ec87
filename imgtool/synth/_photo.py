"""What every generated photo shares: its record, and the camera's own effects."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from imgtool.io.read import FILM_DIAGONAL_MM


@dataclass
class SynthPhoto:
    """A generated photo and what is true about it."""

    image: np.ndarray  #: BGR uint8 photo
    corners: np.ndarray  #: (4, 2) page corners TL, TR, BR, BL in photo pixels
    aspect: float  #: true page width / height
    kind: str
    background: str
    params: dict = field(default_factory=dict)
    scene: str = "plain"  #: the class of scene, one of ``imgtool.synth.SCENES``
    #: boolean masks of the photo, by name: ``"objects"`` (the things on the desk that
    #: may hide the page: mugs, phones, pens, cables), ``"over_page"`` (those of them lying
    #: over the page), ``"desk"`` (the desk top, when its edges are in the scene),
    #: ``"rings"`` (a notebook's spiral)
    masks: dict = field(default_factory=dict)

    @property
    def focal_35mm(self) -> int:
        """The camera's focal length as a phone writes it in EXIF: 35 mm-equivalent, whole mm."""
        h, w = self.image.shape[:2]
        return int(round(self.params["focal"] / math.hypot(w, h) * FILM_DIAGONAL_MM))


def finish(rng, photo: np.ndarray, params: dict, jpeg: bool, wide_blur=None) -> np.ndarray:
    """Light, defocus, sensor noise and JPEG: the float scene becomes the uint8 photo.

    ``wide_blur(image, sigma)`` softens the cast shadow (by default an exact Gaussian blur).
    """
    photo = lighting(rng, photo, wide_blur)
    sigma = float(rng.uniform(0, 1.2))
    if sigma > 0.3:
        photo = cv2.GaussianBlur(photo, (0, 0), sigma)
    noise = rng.normal(0, rng.uniform(1.5, 5), photo.shape)
    photo = np.clip(photo + noise, 0, 255).astype(np.uint8)
    if jpeg:
        quality = int(rng.integers(70, 96))
        ok, buf = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, quality])
        photo = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        params["jpeg_quality"] = quality
    params["blur"] = sigma
    return photo


def lighting(rng, photo, wide_blur=None):
    h, w = photo.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (xx * math.cos(angle) + yy * math.sin(angle)) / max(w, h)
    gain = 1 - rng.uniform(0, 0.35) * (ramp - ramp.min())
    r = np.hypot(xx - w / 2, yy - h / 2) / math.hypot(w / 2, h / 2)
    gain *= 1 - rng.uniform(0, 0.25) * r**2
    if rng.random() < 0.5:  # a cast shadow (a hand, a phone) across part of the scene
        pts = np.array([[rng.uniform(-0.2, 1.2) * w, rng.uniform(-0.2, 1.2) * h]
                        for _ in range(4)], np.float32)
        hull = cv2.convexHull(pts).astype(np.int32)
        shade = np.zeros((h, w), np.float32)
        cv2.fillPoly(shade, [hull], 1.0)
        sigma = rng.uniform(15, 60)
        shade = (wide_blur(shade, sigma) if wide_blur is not None
                 else cv2.GaussianBlur(shade, (0, 0), sigma))
        gain *= 1 - rng.uniform(0.15, 0.45) * shade
    out = photo * gain[..., None]
    if rng.random() < 0.3:  # glare
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        spot = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * rng.uniform(30, 120) ** 2))
        out = out + spot[..., None] * rng.uniform(40, 110)
    return out


