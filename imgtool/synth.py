"""Realistic document photos with known corners: for the samples, the tests and benchmarks.

A flat page (a letter, a form with a table, or a receipt) is rendered, placed in 3-D in front
of a pinhole camera (principal point at the image centre, square pixels), tilted by up to
45 degrees and turned in its plane, and projected onto a background (wood, cloth, a
cluttered desk, a light desk, a dark desk). Shadows, a lighting gradient, glare, defocus,
sensor noise and JPEG compression follow. The true corners are the projected page corners,
so they are exact, and the true aspect ratio is the page's.

``python -m imgtool.synth samples`` writes the bundled samples (see ``samples/README.md``).
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from imgtool.io._exif import exif_app1
from imgtool.io.read import FILM_DIAGONAL_MM

KINDS = ("letter", "table", "receipt")
BACKGROUNDS = ("wood", "cloth", "desk", "light", "dark")
PAPER = {"a4": 210 / 297, "letter": 8.5 / 11}

_WORDS = (
    "the of and to in is that for it as with was on be by this are from or at an which have "
    "not but all were when we there can more if will one about their has would so what been "
    "invoice total payment account order delivery please date reference number customer "
    "amount balance statement service period contract signature dear sincerely regards "
    "meeting project report review budget quarter results summary agenda notes"
).split()


@dataclass
class SynthPhoto:
    """A generated photo and what is true about it."""

    image: np.ndarray  #: BGR uint8 photo
    corners: np.ndarray  #: (4, 2) page corners TL, TR, BR, BL in photo pixels
    aspect: float  #: true page width / height
    kind: str
    background: str
    params: dict = field(default_factory=dict)

    @property
    def focal_35mm(self) -> int:
        """The camera's focal length as a phone writes it in EXIF: 35 mm-equivalent, whole mm."""
        h, w = self.image.shape[:2]
        return int(round(self.params["focal"] / math.hypot(w, h) * FILM_DIAGONAL_MM))


def render_photo(seed: int, *, kind: str | None = None, background: str | None = None,
                 tilt: float | None = None, size=(1600, 1200), jpeg: bool = True) -> SynthPhoto:
    """Render one document photo, deterministically for ``seed``.

    Parameters
    ----------
    seed : int
        Everything random (page, pose, scene, effects) follows from it.
    kind : {"letter", "table", "receipt"}, optional
    background : {"wood", "cloth", "desk", "light", "dark"}, optional
    tilt : float, optional
        Angle (degrees) between the page and the image plane; random up to 45 by default.
    size : (int, int)
        ``(width, height)`` of the photo.
    jpeg : bool
        Pass the photo through JPEG compression, as a phone does.

    Returns
    -------
    SynthPhoto

    Examples
    --------
    >>> p = render_photo(3, size=(400, 300))
    >>> p.image.shape, p.corners.shape
    ((300, 400, 3), (4, 2))
    >>> bool(np.array_equal(render_photo(3, size=(400, 300)).image, p.image))
    True
    """
    rng = np.random.default_rng(seed)
    kind = kind or str(rng.choice(KINDS))
    background = background or str(rng.choice(BACKGROUNDS))
    width, height = int(size[0]), int(size[1])
    if kind == "receipt":
        aspect = float(rng.uniform(0.3, 0.42))
    else:
        aspect = float(rng.choice([PAPER["a4"], PAPER["letter"], rng.uniform(0.6, 0.9)]))
    page = render_page(rng, kind, aspect)
    tilt = float(rng.uniform(0, 45) if tilt is None else tilt)
    corners, params = _pose(rng, aspect, tilt, width, height, kind)
    scene = _background(rng, background, width, height)
    photo = _composite(rng, scene, page, corners)
    photo = _lighting(rng, photo)
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
    params.update(tilt=tilt, blur=sigma)
    return SynthPhoto(photo, corners, aspect, kind, background, params)


def render_page(rng, kind: str, aspect: float, height: int = 1400) -> np.ndarray:
    """The flat page, BGR uint8, ``height`` pixels high, ``aspect`` = width / height."""
    width = max(8, round(height * aspect))
    tone = rng.uniform(232, 252)
    paper = np.full((height, width, 3), tone, np.float32)
    paper[:, :, 0] -= rng.uniform(0, 10)  # a little warm
    page = np.clip(paper + rng.normal(0, 1.5, paper.shape), 0, 255).astype(np.uint8)
    ink = tuple(int(v) for v in rng.uniform(10, 60, 3))
    if kind == "receipt":
        _receipt(rng, page, ink)
    elif kind == "table":
        _table(rng, page, ink)
    else:
        _letter(rng, page, ink)
    return page


def _words(rng, n: int) -> str:
    return " ".join(rng.choice(_WORDS, n))


def _text_line(page, text, x, y, scale, ink, font=cv2.FONT_HERSHEY_SIMPLEX, thick=1):
    cv2.putText(page, text, (int(x), int(y)), font, scale, ink, thick, cv2.LINE_AA)


def _letter(rng, page, ink):
    h, w = page.shape[:2]
    s = h / 1400
    margin = int(w * 0.1)
    if rng.random() < 0.6:  # a coloured logo block
        colour = tuple(int(v) for v in rng.uniform(40, 200, 3))
        cv2.rectangle(page, (margin, int(60 * s)), (margin + int(90 * s), int(130 * s)),
                      colour, -1)
    _text_line(page, _words(rng, 3).title(), margin + int(110 * s), int(110 * s), 1.2 * s,
               ink, cv2.FONT_HERSHEY_DUPLEX, max(1, int(2 * s)))
    y = int(200 * s)
    _text_line(page, f"{rng.integers(1, 28)} March 2026", w - margin - int(220 * s), y,
               0.6 * s, ink)
    y += int(60 * s)
    line_h = int(rng.uniform(26, 34) * s)
    while y < h * 0.8:
        for _ in range(int(rng.integers(3, 7))):
            if y > h * 0.8:
                break
            chars = int((w - 2 * margin) / (11 * s))
            text = _words(rng, 14)[:chars]
            _text_line(page, text, margin, y, 0.55 * s, ink)
            y += line_h
        y += line_h // 2
    pts = np.cumsum(rng.normal(0, 6 * s, (40, 2)), axis=0) + [margin + 60 * s, h * 0.88]
    pts[:, 0] += np.linspace(0, 200 * s, 40)
    cv2.polylines(page, [pts.astype(np.int32)], False, (120, 40, 20), max(1, int(2 * s)),
                  cv2.LINE_AA)


def _table(rng, page, ink):
    h, w = page.shape[:2]
    s = h / 1400
    margin = int(w * 0.08)
    _text_line(page, _words(rng, 2).upper(), margin, int(110 * s), 1.1 * s, ink,
               cv2.FONT_HERSHEY_DUPLEX, max(1, int(2 * s)))
    rows, cols = int(rng.integers(10, 22)), int(rng.integers(3, 6))
    top, bottom = int(180 * s), int(h * 0.9)
    xs = np.linspace(margin, w - margin, cols + 1).astype(int)
    ys = np.linspace(top, bottom, rows + 1).astype(int)
    for x in xs:
        cv2.line(page, (x, top), (x, bottom), ink, max(1, int(2 * s)))
    for y in ys:
        cv2.line(page, (margin, y), (w - margin, y), ink, max(1, int(2 * s)))
    for r in range(rows):
        for c in range(cols):
            if rng.random() < 0.8:
                text = _words(rng, 2) if c == 0 else f"{rng.uniform(0, 999):.2f}"
                chars = max(1, int((xs[c + 1] - xs[c]) / (10 * s)) - 1)
                _text_line(page, text[:chars], xs[c] + 6 * s, ys[r + 1] - 8 * s, 0.45 * s, ink)


def _receipt(rng, page, ink):
    h, w = page.shape[:2]
    s = w / 500
    y = int(60 * s)
    _text_line(page, "STORE " + str(rng.integers(100, 999)), w * 0.25, y, 0.9 * s, ink,
               cv2.FONT_HERSHEY_DUPLEX, max(1, int(2 * s)))
    y += int(50 * s)
    total = 0.0
    while y < h - 140 * s:
        if rng.random() < 0.12:
            cv2.line(page, (int(20 * s), y), (w - int(20 * s), y), ink, 1)
            y += int(20 * s)
            continue
        price = float(rng.uniform(0.5, 40))
        total += price
        _text_line(page, _words(rng, 2)[:16], 20 * s, y, 0.5 * s, ink, cv2.FONT_HERSHEY_PLAIN
                   if rng.random() < 0.5 else cv2.FONT_HERSHEY_SIMPLEX)
        _text_line(page, f"{price:6.2f}", w - 110 * s, y, 0.5 * s, ink)
        y += int(30 * s)
    _text_line(page, f"TOTAL {total:.2f}", 20 * s, h - 80 * s, 0.8 * s, ink,
               cv2.FONT_HERSHEY_DUPLEX, max(1, int(2 * s)))


def _pose(rng, aspect, tilt, width, height, kind):
    """Place the page (height 1, width ``aspect``) in 3-D and project its corners."""
    f = float(rng.uniform(0.8, 1.4)) * width
    axis = float(rng.uniform(0, 2 * np.pi))  # direction of the tilt axis in the page plane
    t = math.radians(tilt)
    k = np.array([math.cos(axis), math.sin(axis), 0.0])
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    r_tilt = np.eye(3) + math.sin(t) * kx + (1 - math.cos(t)) * kx @ kx
    if rng.random() < 0.15:
        roll = float(rng.choice([90.0, -90.0, 180.0]) + rng.uniform(-15, 15))
    else:
        roll = float(rng.uniform(-30, 30))
    c, s_ = math.cos(math.radians(roll)), math.sin(math.radians(roll))
    r_roll = np.array([[c, -s_, 0], [s_, c, 0], [0, 0, 1.0]])
    rot = r_tilt @ r_roll
    page = np.array([[-aspect / 2, -0.5, 0], [aspect / 2, -0.5, 0], [aspect / 2, 0.5, 0],
                     [-aspect / 2, 0.5, 0]])
    fill = float(rng.uniform(0.45, 0.85)) if kind != "receipt" else float(rng.uniform(0.55, 0.9))
    leave = rng.random() < 0.08  # sometimes the page runs off the frame
    for _ in range(50):
        depth = f / (fill * min(width, height)) * (1.0 if aspect < 1 else aspect)
        centre = rng.uniform(-0.12, 0.12, 2) * [width / f * depth, height / f * depth]
        if leave:
            centre *= 2.2
        cam = page @ rot.T + [centre[0], centre[1], depth]
        if (cam[:, 2] <= 0.05 * depth).any():
            continue
        uv = f * cam[:, :2] / cam[:, 2:3] + [width / 2 - 0.5, height / 2 - 0.5]
        lo, hi = uv.min(axis=0), uv.max(axis=0)
        inside = (lo >= 2).all() and (hi <= [width - 3, height - 3]).all()
        if inside or (leave and _visible_share(uv, width, height) > 0.7):
            break
        fill *= 0.93
    return uv, {"focal": f, "roll": roll, "tilt_axis": math.degrees(axis), "fill": fill,
                "leaves_frame": bool(leave and not inside)}


def _visible_share(uv, width, height):
    frame = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    inter, _ = cv2.intersectConvexConvex(uv.astype(np.float32), frame)
    return inter / max(cv2.contourArea(uv.astype(np.float32)), 1e-6)


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


def _lighting(rng, photo):
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
        shade = cv2.GaussianBlur(shade, (0, 0), rng.uniform(15, 60))
        gain *= 1 - rng.uniform(0.15, 0.45) * shade
    out = photo * gain[..., None]
    if rng.random() < 0.3:  # glare
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        spot = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * rng.uniform(30, 120) ** 2))
        out = out + spot[..., None] * rng.uniform(40, 110)
    return out


SAMPLES = {  # file name: (seed, kind, background, tilt)
    "letter_wood.jpg": (11, "letter", "wood", 25.0),
    "receipt_desk.jpg": (13, "receipt", "desk", 20.0),
    "table_cloth.jpg": (13, "table", "cloth", 35.0),
    "letter_light.jpg": (14, "letter", "light", 15.0),
}


def write_samples(folder: Path, size=(1400, 1050)) -> None:
    """Write the bundled samples and ``truth.json`` (the corners.json schema) to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    truth = {}
    for name, (seed, kind, background, tilt) in SAMPLES.items():
        photo = render_photo(seed, kind=kind, background=background, tilt=tilt, size=size)
        ok, buf = cv2.imencode(".jpg", photo.image, [cv2.IMWRITE_JPEG_QUALITY, 88])
        data = buf.tobytes()
        exif = exif_app1(focal_35mm=photo.focal_35mm, size=size)
        (folder / name).write_bytes(data[:2] + exif + data[2:])  # right after SOI, as phones do
        c = photo.corners.round(2).tolist()
        truth[name] = {"width": size[0], "height": size[1], "document": True,
                       "corners": dict(zip(("tl", "tr", "br", "bl"), c, strict=True)),
                       "aspect": round(photo.aspect, 5), "seed": seed, "kind": kind,
                       "background": background, "tilt": tilt,
                       "focal_35mm": photo.focal_35mm}
    (folder / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")


def main(argv: list[str]) -> int:
    if argv[:1] != ["samples"]:
        print("usage: python -m imgtool.synth samples [FOLDER]", file=sys.stderr)
        return 2
    folder = Path(argv[1]) if len(argv) > 1 else Path("samples")
    write_samples(folder)
    print(f"wrote {len(SAMPLES)} samples and truth.json to {folder}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
