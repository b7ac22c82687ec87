"""The first scene class, ``plain``: a page on a flat backdrop that fills the frame.

The backdrop (wood, cloth, a cluttered desk, a light desk, a dark desk) is drawn in the
image plane, not in perspective; the page is projected onto it with a soft drop shadow.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from imgtool.synth._camera import pose
from imgtool.synth._page import KINDS, page_aspect_for, render_page
from imgtool.synth._photo import SynthPhoto, finish

BACKGROUNDS = ("wood", "cloth", "desk", "light", "dark")


def render_plain(rng, kind, background, tilt, width, height, jpeg) -> SynthPhoto:
    kind = kind or str(rng.choice(KINDS))
    background = background or str(rng.choice(BACKGROUNDS))
    aspect = page_aspect_for(rng, kind)
    page = render_page(rng, kind, aspect)
    tilt = float(rng.uniform(0, 45) if tilt is None else tilt)
    corners, params, _ = pose(rng, aspect, tilt, width, height, kind)
    scene = _background(rng, background, width, height)
    photo = _composite(rng, scene, page, corners)
    photo = finish(rng, photo, params, jpeg)
    params["tilt"] = tilt
    return SynthPhoto(photo, corners, aspect, kind, background, params)


def _background(rng, kind, width, height):
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    if kind == "wood":
        warp = cv2.GaussianBlur(rng.normal(0, 1, (height // 8 + 1, width // 8 + 1)).astype(
            np.float32), (0, 0), 3)
        warp = cv2.resize(warp, (width, height)) * 40
        angle = rng.uniform(-0.3, 0.3)
        u = xx * math.cos(angle) + yy * math.sin(angle)
        grain = 0.5 + 0.5 * np.sin((u + warp) / rng.uniform(6, 14))
        dark = np.array(rng.uniform([20, 45, 80], [40, 70, 110]), np.float32)
        light = np.array(rng.uniform([60, 100, 150], [90, 130, 190]), np.float32)
        img = dark + grain[..., None] ** 2 * (light - dark)
        planks = (np.floor(yy / rng.uniform(120, 260)) % 2)[..., None] * rng.uniform(-15, 15)
        img = img + planks
    elif kind == "cloth":
        period = rng.uniform(3, 6)
        weave = np.sin(xx * 2 * np.pi / period) * np.sin(yy * 2 * np.pi / period)
        base = np.array(rng.uniform(40, 170, 3), np.float32)
        img = base + weave[..., None] * 18
        folds = cv2.GaussianBlur(rng.normal(0, 1, (height // 16 + 1, width // 16 + 1)).astype(
            np.float32), (0, 0), 4)
        img = img + cv2.resize(folds, (width, height))[..., None] * 60
    elif kind == "light":
        img = np.full((height, width, 3), rng.uniform(195, 225), np.float32)
        img += np.array(rng.uniform(-8, 8, 3), np.float32)
    elif kind == "dark":
        img = np.full((height, width, 3), rng.uniform(25, 70), np.float32)
        img += np.array(rng.uniform(-10, 10, 3), np.float32)
    else:  # desk: a surface with things on it
        img = np.full((height, width, 3), rng.uniform(70, 150, 3), np.float32)
        for _ in range(int(rng.integers(6, 14))):
            colour = tuple(float(v) for v in rng.uniform(0, 255, 3))
            cx, cy = rng.uniform(0, width), rng.uniform(0, height)
            shape = rng.integers(0, 3)
            if shape == 0:
                box = ((cx, cy), (rng.uniform(40, 400), rng.uniform(40, 300)),
                       rng.uniform(0, 180))
                pts = cv2.boxPoints(box).astype(np.int32)
                cv2.fillPoly(img, [pts], colour, cv2.LINE_AA)
            elif shape == 1:
                cv2.ellipse(img, (int(cx), int(cy)), (int(rng.uniform(20, 150)),
                            int(rng.uniform(20, 150))), 0, 0, 360, colour, -1, cv2.LINE_AA)
            else:  # a pen
                end = (int(cx + rng.uniform(-300, 300)), int(cy + rng.uniform(-300, 300)))
                cv2.line(img, (int(cx), int(cy)), end, colour, int(rng.integers(6, 14)),
                         cv2.LINE_AA)
    texture = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 1.5)
    return img + texture[..., None] * 6


def _composite(rng, scene, page, corners):
    h, w = scene.shape[:2]
    ph, pw = page.shape[:2]
    src = np.array([[-0.5, -0.5], [pw - 0.5, -0.5], [pw - 0.5, ph - 0.5], [-0.5, ph - 0.5]],
                   np.float32)
    matrix = cv2.getPerspectiveTransform(src, corners.astype(np.float32))
    warped = cv2.warpPerspective(page, matrix, (w, h), flags=cv2.INTER_AREA
                                 if max(ph, pw) > max(h, w) else cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.ones((ph, pw), np.float32), matrix, (w, h),
                               flags=cv2.INTER_LINEAR)
    # a soft drop shadow under the page
    offset = rng.uniform(2, 10, 2)
    shadow = cv2.warpAffine(mask, np.float32([[1, 0, offset[0]], [0, 1, offset[1]]]), (w, h))
    shadow = cv2.GaussianBlur(shadow, (0, 0), rng.uniform(3, 10))
    scene = scene * (1 - 0.35 * shadow[..., None])
    return scene * (1 - mask[..., None]) + warped.astype(np.float32) * mask[..., None]


