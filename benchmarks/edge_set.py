"""A generated set of grey images whose true edges are known, for the edge-quality benchmark.

Each image is a piecewise-constant scene (background, filled shapes and text, drawn with
OpenCV) that is then blurred a little (optics), shaded by an illumination gradient, and given
Gaussian noise. The true edge map comes from the piecewise-constant scene before any of that:
a pixel is a true edge if its grey level differs from its right or lower neighbour by at
least ``MIN_STEP`` (so the boundaries between two regions of nearly equal grey are not
counted). The set varies contrast (the grey-level step between regions), noise, shading,
dark and light backgrounds, shapes and text sizes, from a fixed seed.

:func:`edge_f1` scores a detected edge map against the truth with a distance tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

#: Smallest grey-level step (in the clean scene) that counts as a true edge.
MIN_STEP = 8
CONTRASTS = {"low": 20, "mid": 45, "high": 100}
NOISES = (0.0, 4.0, 8.0, 16.0)
SHADINGS = (0.0, 0.5)  # fraction of light lost across the image
BACKGROUNDS = {"dark": 35, "light": 215}
FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX)
WORDS = ("Edges", "Canny 1986", "imgtool", "Otsu", "THRESHOLD", "ridge 42")


@dataclass
class EdgeSample:
    """One image of the set: the uint8 image, its true edges and how it was made."""

    image: np.ndarray
    truth: np.ndarray
    params: dict = field(default_factory=dict)


def make_set(n: int = 48, size: tuple[int, int] = (240, 320), seed: int = 0) -> list[EdgeSample]:
    """``n`` samples cycling through every contrast x noise x shading x background setting."""
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(n):
        params = {
            "contrast": list(CONTRASTS)[i % 3],
            "noise": NOISES[(i // 3) % 4],
            "shading": SHADINGS[(i // 12) % 2],
            "background": list(BACKGROUNDS)[(i // 24) % 2],
        }
        samples.append(make_sample(rng, size, **params))
    return samples


def make_sample(rng, size, *, contrast, noise, shading, background) -> EdgeSample:
    """One scene with the given settings; shapes, text and their grey levels from ``rng``."""
    h, w = size
    step = CONTRASTS[contrast]
    bg = BACKGROUNDS[background]
    away = 1 if bg < 128 else -1  # shapes are lighter on dark, darker on light backgrounds
    scene = np.full((h, w), bg, np.uint8)

    def grey():
        return int(np.clip(bg + away * step * rng.uniform(1.0, 2.0), 0, 255))

    for _ in range(rng.integers(3, 7)):
        kind = rng.integers(0, 4)
        cx, cy = int(rng.integers(20, w - 20)), int(rng.integers(20, h - 20))
        if kind == 0:
            cv2.circle(scene, (cx, cy), int(rng.integers(10, h // 4)), grey(), -1, cv2.LINE_8)
        elif kind == 1:
            dx, dy = int(rng.integers(12, w // 4)), int(rng.integers(12, h // 4))
            cv2.rectangle(scene, (cx - dx, cy - dy), (cx + dx, cy + dy), grey(), -1)
        elif kind == 2:
            axes = (int(rng.integers(10, w // 4)), int(rng.integers(6, h // 5)))
            angle = float(rng.uniform(0, 180))
            cv2.ellipse(scene, (cx, cy), axes, angle, 0, 360, grey(), -1, cv2.LINE_8)
        else:
            pts = rng.integers(0, [w, h], size=(int(rng.integers(3, 6)), 2)).astype(np.int32)
            cv2.fillPoly(scene, [cv2.convexHull(pts)], grey(), cv2.LINE_8)
    for _ in range(rng.integers(1, 3)):
        word = WORDS[int(rng.integers(len(WORDS)))]
        scale = float(rng.uniform(0.6, 1.4))
        org = (int(rng.integers(0, w // 3)), int(rng.integers(h // 5, h - 5)))
        font = FONTS[int(rng.integers(len(FONTS)))]
        cv2.putText(scene, word, org, font, scale, grey(), int(rng.integers(1, 3)), cv2.LINE_8)

    truth = true_edges(scene)
    img = cv2.GaussianBlur(scene.astype(np.float32), (0, 0), 0.8)
    if shading:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        theta = rng.uniform(0, 2 * np.pi)
        ramp = np.cos(theta) * xx / w + np.sin(theta) * yy / h
        ramp = (ramp - ramp.min()) / (ramp.max() - ramp.min())
        img *= 1.0 - shading * ramp
    if noise:
        img += rng.normal(0.0, noise, img.shape).astype(np.float32)
    image = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    params = {"contrast": contrast, "noise": noise, "shading": shading, "background": background}
    return EdgeSample(image, truth, params)


def true_edges(scene: np.ndarray) -> np.ndarray:
    """Pixels whose grey level differs from the right or lower neighbour by >= MIN_STEP."""
    s = scene.astype(np.int16)
    edge = np.zeros(scene.shape, bool)
    edge[:, :-1] |= np.abs(s[:, 1:] - s[:, :-1]) >= MIN_STEP
    edge[:-1, :] |= np.abs(s[1:, :] - s[:-1, :]) >= MIN_STEP
    return edge


def edge_f1(detected: np.ndarray, truth: np.ndarray, tolerance: float = 2.0):
    """(precision, recall, F1) of an edge map against the truth, within ``tolerance`` pixels.

    Precision: the fraction of detected pixels within ``tolerance`` of a true edge pixel.
    Recall: the fraction of true edge pixels within ``tolerance`` of a detected pixel.
    """
    det = detected > 0
    tru = truth > 0
    if not det.any() or not tru.any():
        return 0.0, 0.0, 0.0
    to_truth = cv2.distanceTransform((~tru).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    to_det = cv2.distanceTransform((~det).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    precision = float(np.mean(to_truth[det] <= tolerance))
    recall = float(np.mean(to_det[tru] <= tolerance))
    f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return precision, recall, f1
