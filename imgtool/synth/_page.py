"""The flat things the camera sees: printed pages, notebook pages and covers, magazines
(BGR uint8)."""

from __future__ import annotations

import cv2
import numpy as np

KINDS = ("letter", "table", "receipt")
PAPER = {"a4": 210 / 297, "letter": 8.5 / 11}

_WORDS = (
    "the of and to in is that for it as with was on be by this are from or at an which have "
    "not but all were when we there can more if will one about their has would so what been "
    "invoice total payment account order delivery please date reference number customer "
    "amount balance statement service period contract signature dear sincerely regards "
    "meeting project report review budget quarter results summary agenda notes"
).split()


def page_aspect_for(rng, kind: str) -> float:
    """A page's width / height: a receipt's, or A4, Letter or something else."""
    if kind == "receipt":
        return float(rng.uniform(0.3, 0.42))
    return float(rng.choice([PAPER["a4"], PAPER["letter"], rng.uniform(0.6, 0.9)]))


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


def words(rng, n: int) -> str:
    return " ".join(rng.choice(_WORDS, n))


def text_line(page, text, x, y, scale, ink, font=cv2.FONT_HERSHEY_SIMPLEX, thick=1):
    cv2.putText(page, text, (int(x), int(y)), font, scale, ink, thick, cv2.LINE_AA)


def _letter(rng, page, ink):
    h, w = page.shape[:2]
    s = h / 1400
    margin = int(w * 0.1)
    if rng.random() < 0.6:  # a coloured logo block
        colour = tuple(int(v) for v in rng.uniform(40, 200, 3))
        cv2.rectangle(page, (margin, int(60 * s)), (margin + int(90 * s), int(130 * s)),
                      colour, -1)
    text_line(page, words(rng, 3).title(), margin + int(110 * s), int(110 * s), 1.2 * s,
               ink, cv2.FONT_HERSHEY_DUPLEX, max(1, int(2 * s)))
    y = int(200 * s)
    text_line(page, f"{rng.integers(1, 28)} March 2026", w - margin - int(220 * s), y,
               0.6 * s, ink)
    y += int(60 * s)
    line_h = int(rng.uniform(26, 34) * s)
    while y < h * 0.8:
        for _ in range(int(rng.integers(3, 7))):
            if y > h * 0.8:
                break
            chars = int((w - 2 * margin) / (11 * s))
            text = words(rng, 14)[:chars]
            text_line(page, text, margin, y, 0.55 * s, ink)
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
    text_line(page, words(rng, 2).upper(), margin, int(110 * s), 1.1 * s, ink,
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
                text = words(rng, 2) if c == 0 else f"{rng.uniform(0, 999):.2f}"
                chars = max(1, int((xs[c + 1] - xs[c]) / (10 * s)) - 1)
                text_line(page, text[:chars], xs[c] + 6 * s, ys[r + 1] - 8 * s, 0.45 * s, ink)


def _receipt(rng, page, ink):
    h, w = page.shape[:2]
    s = w / 500
    y = int(60 * s)
    text_line(page, "STORE " + str(rng.integers(100, 999)), w * 0.25, y, 0.9 * s, ink,
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
        text_line(page, words(rng, 2)[:16], 20 * s, y, 0.5 * s, ink, cv2.FONT_HERSHEY_PLAIN
                   if rng.random() < 0.5 else cv2.FONT_HERSHEY_SIMPLEX)
        text_line(page, f"{price:6.2f}", w - 110 * s, y, 0.5 * s, ink)
        y += int(30 * s)
    text_line(page, f"TOTAL {total:.2f}", 20 * s, h - 80 * s, 0.8 * s, ink,
               cv2.FONT_HERSHEY_DUPLEX, max(1, int(2 * s)))




# Spiral notebooks: the binding's geometry, in page heights (an A5-A4 notebook).
RING_PITCH = 0.028  # the spacing of the loops (about 8.5 mm on A4)
HOLE_INSET = 0.018  # from the bound edge to the holes' centres
SPREAD_GAP = 0.03  # between the two pages of an open spread, where the loops run


def notebook_image(rng, kind: str, page_aspect: float, spiral: str, height: int = 1400):
    """A notebook seen from above: its cover (``"closed"``) or an open two-page ``"spread"``.

    ``spiral`` is the bound side of a closed notebook (``"left"`` or ``"top"``); a spread is
    bound down its middle. Returns the image and the positions of the holes along the bound
    edge as fractions of its length.
    """
    n = int(1 / RING_PITCH) if (kind == "spread" or spiral == "left") else int(
        page_aspect / RING_PITCH)
    along = (np.arange(n) + 0.5) / n
    if kind == "closed":
        image = _cover(rng, page_aspect, height)
        _holes(image, along, spiral, height)
        return image, along
    page_w = round(height * page_aspect)
    gap = round(height * SPREAD_GAP)
    image = np.empty((height, 2 * page_w + gap, 3), np.uint8)
    image[:, :gap + 2 * page_w] = tuple(int(v) for v in rng.uniform(70, 120, 3))  # the cover
    ruling = str(rng.choice(["ruled", "squared"]))
    for side in (0, 1):
        sheet = _notebook_sheet(rng, page_aspect, height, ruling, margin_left=side == 1)
        _holes(sheet, along, "right" if side == 0 else "left", height)
        x0 = 0 if side == 0 else page_w + gap
        image[:, x0:x0 + page_w] = sheet
    return image, along


def _holes(image, along, side, height):
    h, w = image.shape[:2]
    inset = HOLE_INSET * height
    r = max(1, int(0.006 * height))
    for t in along:
        if side in ("left", "right"):
            x = inset if side == "left" else w - 1 - inset
            centre = (int(x), int(t * h))
        else:
            centre = (int(t * w), int(inset))
        cv2.circle(image, centre, r, (55, 55, 55), -1, cv2.LINE_AA)


def _cover(rng, aspect, height):
    width = round(height * aspect)
    palette = [(140, 60, 20), (40, 40, 170), (35, 35, 35), (60, 120, 40), (110, 150, 190),
               (190, 180, 60), (150, 90, 160), (40, 140, 220)]
    base = np.array(palette[int(rng.integers(len(palette)))], np.float32)
    base = base + rng.uniform(-15, 15, 3)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 1.0)
    cover = base + grain[..., None] * 5
    cover = np.clip(cover, 0, 255).astype(np.uint8)
    if rng.random() < 0.7:  # a label
        x0, y0 = int(width * rng.uniform(0.2, 0.35)), int(height * rng.uniform(0.08, 0.2))
        x1, y1 = int(width * rng.uniform(0.75, 0.9)), y0 + int(height * rng.uniform(0.1, 0.18))
        cv2.rectangle(cover, (x0, y0), (x1, y1), (236, 240, 242), -1, cv2.LINE_AA)
        ink = (60, 40, 30)
        for k in range(3):
            y = y0 + (k + 1) * (y1 - y0) // 4
            cv2.line(cover, (x0 + 12, y), (x1 - 12, y), (170, 160, 150), 1, cv2.LINE_AA)
        text_line(cover, words(rng, 2).title(), x0 + 16, y0 + (y1 - y0) // 4 - 6,
                   height / 1400 * 1.0, ink, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 2)
    if rng.random() < 0.5:  # a brand name
        text_line(cover, words(rng, 1).upper(), width * 0.3, height * 0.9,
                   height / 1400 * 1.3, tuple(float(v) for v in np.clip(base * 1.6 + 60, 0, 255)),
                   cv2.FONT_HERSHEY_DUPLEX, 2)
    return cover


def _notebook_sheet(rng, aspect, height, ruling, margin_left):
    width = round(height * aspect)
    s = height / 1400
    tone = rng.uniform(235, 252)
    sheet = np.full((height, width, 3), tone, np.float32)
    sheet[:, :, 0] -= rng.uniform(0, 8)
    sheet = np.clip(sheet + rng.normal(0, 1.2, sheet.shape), 0, 255).astype(np.uint8)
    line = (215, 185, 160)
    if ruling == "squared":
        step = 0.017 * height
        for x in np.arange(step, width, step):
            cv2.line(sheet, (int(x), 0), (int(x), height), line, 1, cv2.LINE_AA)
        for y in np.arange(step, height, step):
            cv2.line(sheet, (0, int(y)), (width, int(y)), line, 1, cv2.LINE_AA)
        ys = np.arange(0.12 * height, 0.92 * height, 2 * step)
    else:
        step = 0.027 * height
        ys = np.arange(0.1 * height, 0.96 * height, step)
        for y in ys:
            cv2.line(sheet, (0, int(y)), (width, int(y)), line, max(1, int(s)), cv2.LINE_AA)
        mx = int(width * (0.12 if margin_left else 0.88))
        cv2.line(sheet, (mx, 0), (mx, height), (90, 90, 215), max(1, int(s)), cv2.LINE_AA)
    ink = (150, 60, 20) if rng.random() < 0.7 else (30, 30, 30)
    written = int(len(ys) * rng.uniform(0.2, 0.9))
    x0 = width * (0.15 if margin_left else 0.06)
    chars = int(width * 0.75 / (14 * s))
    for y in ys[1:written]:
        text_line(sheet, words(rng, 10)[:chars], x0, y - 4 * s, 0.8 * s, ink,
                   cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, max(1, int(1.5 * s)))
    return sheet


def magazine_page(rng, aspect, height=700):
    """A magazine page or cover: photographs, a headline, columns of text."""
    width = round(height * aspect)
    sc = height / 700
    cover = rng.random() < 0.4
    paper = rng.uniform(60, 200, 3) if cover else np.full(3, rng.uniform(228, 248))
    img = np.empty((height, width, 3), np.float32)
    img[:] = paper
    boxes = [(0, int(height * 0.2), width, height)] if cover else []
    for _ in range(0 if cover else int(rng.integers(1, 3))):
        x0, y0 = int(rng.uniform(0.05, 0.5) * width), int(rng.uniform(0.1, 0.6) * height)
        boxes.append((x0, y0, min(width - int(20 * sc), x0 + int(rng.uniform(0.3, 0.6) * width)),
                      min(height - int(20 * sc), y0 + int(rng.uniform(0.15, 0.35) * height))))
    for x0, y0, x1, y1 in boxes:
        img[y0:y1, x0:x1] = _photograph(rng, x1 - x0, y1 - y0)
    img = np.clip(img, 0, 255).astype(np.uint8)
    ink = (250, 250, 250) if cover else tuple(float(v) for v in rng.uniform(0, 60, 3))
    title = words(rng, 2).title()
    text_line(img, title, 20 * sc, int(height * 0.12), width / 260, ink, cv2.FONT_HERSHEY_DUPLEX,
               max(2, width // 120))
    if not cover:  # columns of small text around the photographs
        cols = int(rng.integers(2, 4))
        col_w = (width - int(40 * sc)) // cols
        for c in range(cols):
            x = int(20 * sc) + c * col_w
            for y in range(int(height * 0.2), height - int(20 * sc), max(3, int(11 * sc))):
                if any(x0 - 5 < x + col_w // 2 < x1 + 5 and y0 - 5 < y < y1 + 12 * sc
                       for x0, y0, x1, y1 in boxes):
                    continue
                text_line(img, words(rng, 6)[:max(1, int(col_w / (7 * sc)))], x, y, 0.33 * sc,
                           (40, 40, 40))
    return img


def _photograph(rng, width, height):
    """Something like a photograph: soft light, a few shapes, texture."""
    small = rng.uniform(20, 230, (3, 3, 3)).astype(np.float32)
    small = small.mean(axis=2, keepdims=True) * 0.5 + small * 0.5  # muted, as photos are
    img = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    for _ in range(int(rng.integers(2, 6))):
        colour = rng.uniform(0, 255, 3)
        colour = tuple(float(v) for v in colour.mean() * 0.4 + colour * 0.6)
        centre = (int(rng.uniform(0, width)), int(rng.uniform(0, height)))
        axes = (int(rng.uniform(0.05, 0.4) * width), int(rng.uniform(0.05, 0.4) * height))
        cv2.ellipse(img, centre, axes, rng.uniform(0, 180), 0, 360, colour, -1, cv2.LINE_AA)
    img = cv2.GaussianBlur(img, (0, 0), 2)
    return img + rng.normal(0, 6, img.shape).astype(np.float32)
