"""The scene classes built in 3-D: desk tops with their edges, clutter, hidden corners, light
wood, spiral notebooks (see :data:`imgtool.synth.SCENES`).

The page's pose gives the camera; the desk is the page's plane (:mod:`._desk` textures it in
perspective); the page, the sheets under it and the notebook are laid flat on it, and the
things on the desk are solids projected by the same camera (:mod:`._objects`).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from imgtool.synth import _objects as obj
from imgtool.synth._camera import Camera, pose
from imgtool.synth._desk import desk_for, surface
from imgtool.synth._page import (
    HOLE_INSET,
    KINDS,
    SPREAD_GAP,
    magazine_page,
    notebook_image,
    page_aspect_for,
    render_page,
)
from imgtool.synth._photo import SynthPhoto, finish

# How much of the frame's short side the page spans, per class: small enough on a desk
# top that the desk's edges fit in the frame.
_FILL = {"desk_edges": (0.3, 0.55), "clutter": (0.38, 0.65), "hidden_corner": (0.4, 0.7),
         "light_wood": (0.4, 0.8), "notebook": (0.42, 0.75)}


def render_scene(rng, scene, kind, tilt, width, height, jpeg) -> SynthPhoto:
    # Pages are drawn at about the photo's resolution (at most 1400 pixels high, as the
    # plain class does), from a stream of their own: a seed gives the same scene at any size.
    texel = int(np.clip(1.2 * max(width, height), 480, 1400))
    page_rng = np.random.default_rng(rng.integers(2**63))
    if scene == "notebook":
        kind = kind or str(rng.choice(["closed", "spread"]))
        if kind not in ("closed", "spread"):
            raise ValueError(f"unknown notebook kind {kind!r} (closed or spread)")
        page_aspect = float(rng.uniform(0.68, 0.78))
        spiral = "left" if kind == "spread" or rng.random() < 0.7 else "top"
        page, holes = notebook_image(page_rng, kind, page_aspect, spiral, texel)
        aspect = page_aspect if kind == "closed" else 2 * page_aspect + SPREAD_GAP
    else:
        if kind is not None and kind not in KINDS:
            raise ValueError(f"unknown page kind {kind!r} (one of {', '.join(KINDS)})")
        kind = kind or str(rng.choice(KINDS, p=[0.45, 0.35, 0.2]))
        aspect = page_aspect_for(rng, kind)
        page = render_page(page_rng, kind, aspect, texel)
    tilt = float(rng.uniform(0, 45) if tilt is None else tilt)
    corners, params, cam = pose(rng, aspect, tilt, width, height, kind, fill=_FILL[scene],
                                may_leave=False)
    params["tilt"] = tilt
    light = _polar(rng.uniform(0, 2 * np.pi), rng.uniform(0.25, 0.8))
    outline = np.array([[-aspect / 2, -0.5], [aspect / 2, -0.5], [aspect / 2, 0.5],
                        [-aspect / 2, 0.5]])
    masks = {}
    desk_z = 0.0
    if scene == "notebook" and kind == "closed":
        # the cover is the top face; the desk lies one notebook's thickness below it
        thickness = float(rng.uniform(0.008, 0.03))
        desk_z = -cam.up * thickness
        params["thickness"] = thickness
    table = desk_for(rng, scene)
    canvas, desk = surface(rng, cam, table, desk_z, outline)
    background = table["name"]
    if desk is not None:
        masks["desk"] = desk
    if scene == "clutter":
        _under_sheets(rng, page_rng, canvas, cam, aspect, outline, params, texel // 2)
    if scene == "notebook" and kind == "closed":
        _notebook_block(rng, canvas, cam, outline, desk_z)
    _paste(rng, canvas, cam, page, outline, shadow=scene != "notebook" or kind == "spread")
    page_mask = obj.polygon_mask(canvas.shape, corners) > 0.5
    if scene == "notebook":
        rings = _binding(rng, canvas, cam, kind, spiral, aspect, page_aspect, holes, desk_z)
        masks["rings"] = rings > 0.5
        params["spiral"] = spiral if kind == "closed" else "middle"
    over = np.zeros(canvas.shape[:2], np.float32)
    objects = []
    if scene == "clutter":
        over = _clutter(rng, canvas, cam, outline, light, objects)
    elif scene == "hidden_corner":
        over = _occlude_corner(rng, canvas, cam, outline, light, objects, params)
    elif scene in ("light_wood", "notebook", "desk_edges") and rng.random() < 0.3:
        over = _pens(rng, canvas, cam, outline, light, 1, objects)
    params["objects"] = objects
    masks["objects"] = over > 0.5
    masks["over_page"] = masks["objects"] & page_mask
    canvas *= np.array(1 + rng.normal(0, 0.03, 3), np.float32)  # white balance
    if rng.random() < 0.25:  # a hand that moved: a short streak, as in video frames
        canvas = _motion_blur(canvas, rng.uniform(2, 7), rng.uniform(0, np.pi))
        params["motion_blur"] = True
    photo = finish(rng, canvas, params, jpeg, obj.blur)
    return SynthPhoto(photo, corners, aspect, kind, background, params, scene, masks)


def _motion_blur(image, length, angle):
    size = int(math.ceil(length)) | 1
    kernel = np.zeros((size, size), np.float32)
    c = size // 2
    d = np.array([math.cos(angle), math.sin(angle)]) * (length - 1) / 2
    cv2.line(kernel, (int(round(c - d[0])), int(round(c - d[1]))),
             (int(round(c + d[0])), int(round(c + d[1]))), 1.0, 1, cv2.LINE_AA)
    return cv2.filter2D(image, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REFLECT)


def _polar(angle, r):
    return np.array([math.cos(angle), math.sin(angle)]) * r


# ---------------------------------------------------------------- flat things

def _paste(rng, canvas, cam: Camera, image, quad, *, z=0.0, shadow=True, alpha=None):
    """Lay ``image`` flat on the desk over the desk quadrilateral ``quad`` (TL, TR, BR, BL)."""
    h, w = canvas.shape[:2]
    ih, iw = image.shape[:2]
    src = np.array([[-0.5, -0.5], [iw - 0.5, -0.5], [iw - 0.5, ih - 0.5], [-0.5, ih - 0.5]],
                   np.float32)
    dst = cam.project(np.column_stack([quad, np.full(4, z)])).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    flags = cv2.INTER_AREA if max(ih, iw) > max(h, w) else cv2.INTER_LINEAR
    warped = cv2.warpPerspective(image, matrix, (w, h), flags=flags).astype(np.float32)
    mask = cv2.warpPerspective(np.ones((ih, iw), np.float32) if alpha is None else alpha,
                               matrix, (w, h), flags=cv2.INTER_LINEAR)
    if shadow:
        offset = rng.uniform(1, 5, 2)
        sh = cv2.warpAffine(mask, np.float32([[1, 0, offset[0]], [0, 1, offset[1]]]), (w, h))
        obj.shade(canvas, sh, rng.uniform(0.15, 0.35), rng.uniform(2, 6))
    obj.paint(canvas, mask, warped)
    return mask


def _place(outline, shift, turn):
    c, s = math.cos(turn), math.sin(turn)
    return outline @ np.array([[c, s], [-s, c]]) + shift


def _under_sheets(rng, page_rng, canvas, cam, aspect, outline, params, texel):
    """Other sheets under the page: a stack slightly askew, or a magazine partly under it."""
    under = []
    if rng.random() < 0.6:
        for _ in range(int(rng.integers(1, 4))):
            quad = _place(outline, rng.normal(0, 0.03, 2), rng.normal(0, 0.04))
            sheet = render_page(page_rng, str(rng.choice(KINDS[:2])), aspect, texel)
            _paste(rng, canvas, cam, sheet, quad)
            under.append("sheet")
    if rng.random() < 0.5 or not under:  # a magazine or another sheet, well askew
        m_aspect = rng.uniform(0.7, 0.8)
        magazine = rng.random() < 0.6
        mag = (magazine_page(page_rng, m_aspect, texel) if magazine else
               render_page(page_rng, str(rng.choice(KINDS[:2])), m_aspect, texel))
        size = rng.uniform(0.9, 1.1)
        direction = _polar(rng.uniform(0, 2 * np.pi), 1)
        shift = direction * np.array([aspect, 1.0]) * rng.uniform(0.5, 0.8)
        base = np.array([[-m_aspect / 2, -0.5], [m_aspect / 2, -0.5], [m_aspect / 2, 0.5],
                         [-m_aspect / 2, 0.5]]) * size
        _paste(rng, canvas, cam, mag, _place(base, shift, rng.uniform(-0.6, 0.6)))
        under.append("magazine" if magazine else "sheet")
    params["under"] = under


# ---------------------------------------------------------------- notebooks

def _notebook_block(rng, canvas, cam, outline, desk_z):
    """The closed notebook's sides: the page block's edges under the cover."""
    top = np.column_stack([outline, np.zeros(4)])
    bottom = np.column_stack([outline, np.full(4, desk_z)])
    shadow = obj._shadow_points(top, desk_z, cam.up, np.array([0.15, 0.1]))
    obj.shade(canvas, obj.polygon_mask(canvas.shape, cv2.convexHull(
        cam.project(np.vstack([bottom, shadow])).astype(np.float32))[:, 0]), 0.35, 3)
    hull = cv2.convexHull(cam.project(np.vstack([top, bottom])).astype(np.float32))[:, 0]
    obj.paint(canvas, obj.polygon_mask(canvas.shape, hull),
              np.float32(rng.uniform(205, 235)) - np.float32([6, 0, 0]))


def _binding(rng, canvas, cam, kind, spiral, aspect, page_aspect, holes, desk_z):
    """The spiral's loops along the bound edge (a closed notebook) or the middle (a spread)."""
    radius = rng.uniform(0.012, 0.02)
    wire = rng.uniform(0.004, 0.007)
    colour = (rng.uniform(150, 210),) * 3 if rng.random() < 0.6 else tuple(
        rng.uniform(10, 120, 3))
    if kind == "spread":
        xs = np.zeros_like(holes)
        ys = holes - 0.5
        centres = np.column_stack([xs, ys])
        gap = SPREAD_GAP / 2
        return obj.draw_rings(canvas, cam, centres, np.array([1.0, 0.0]), gap + HOLE_INSET,
                              0.0,
                              wire, colour, open_between=(-gap, gap))
    thickness = abs(desk_z)
    mid = desk_z / 2
    r = max(radius, thickness / 2 + 0.006)
    # each loop runs from its hole (HOLE_INSET inside the edge) round the edge and back
    inner = HOLE_INSET - r  # the loop's centre, from the edge inwards
    if spiral == "left":
        edge = -aspect / 2
        centres = np.column_stack([np.full(len(holes), edge + inner), holes - 0.5])
        out = np.array([-1.0, 0.0])
    else:
        edge = -0.5
        centres = np.column_stack([holes * aspect - aspect / 2, np.full(len(holes),
                                                                        edge + inner)])
        out = np.array([0.0, -1.0])
    return obj.draw_rings(canvas, cam, centres, out, r, mid, wire, colour,
                          open_between=(-edge, np.inf))


# ---------------------------------------------------------------- things on the desk

_PEN_COLOURS = [(40, 40, 40), (200, 200, 200), (160, 60, 20), (30, 30, 170), (40, 220, 230),
                (60, 200, 90), (230, 230, 230)]


def _far_from_corners(outline, pts, clearance):
    """Whether the desk points ``pts`` all keep ``clearance`` from every page corner."""
    d = np.linalg.norm(pts[:, None, :] - outline[None], axis=2)
    return bool((d > clearance).all())


def _pens(rng, canvas, cam, outline, light, count, objects):
    over = np.zeros(canvas.shape[:2], np.float32)
    span = outline.max(axis=0)
    for _ in range(count):
        for _try in range(30):
            centre = rng.uniform(-0.8, 0.8, 2) * span
            direction = _polar(rng.uniform(0, 2 * np.pi), 1)
            length = rng.uniform(0.4, 0.5)
            a, b = centre - direction * length / 2, centre + direction * length / 2
            line = a + np.outer(np.linspace(0, 1, 20), b - a)
            if _far_from_corners(outline, line, 0.08):
                break
        else:
            continue  # no room for it
        marker = rng.random() < 0.4
        radius = rng.uniform(0.025, 0.035) if marker else rng.uniform(0.012, 0.018)
        body = _PEN_COLOURS[int(rng.integers(len(_PEN_COLOURS)))]
        cap = _PEN_COLOURS[int(rng.integers(len(_PEN_COLOURS)))]
        over = np.maximum(over, obj.draw_pen(canvas, cam, a, b, radius, body, cap, light=light,
                                             cap_share=rng.uniform(0.2, 0.35)))
        objects.append("marker" if marker else "pen")
    return over


def _clutter(rng, canvas, cam, outline, light, objects):
    span = outline.max(axis=0)
    over = np.zeros(canvas.shape[:2], np.float32)
    foot = cam.footprint(0.0)
    corners = cam.project(outline)
    centre = None
    if rng.random() < 0.7:  # a mug beside the page, clear of its corners
        radius, height = rng.uniform(0.12, 0.15), rng.uniform(0.3, 0.36)
        clear = 0.05 * float(cam.pixel_size([[0.0, 0.0]])[0])
        for _ in range(40):
            centre = _polar(rng.uniform(0, 2 * np.pi), 1) * (span + rng.uniform(0.18, 0.5))
            hull = obj.mug_hull(cam, centre, radius * 1.35, height)  # with its handle
            if (cv2.pointPolygonTest(foot.astype(np.float32), tuple(centre), False) > 0
                    and all(cv2.pointPolygonTest(hull, tuple(map(float, c)), True) < -clear
                            for c in corners)):
                break
        else:
            centre = None  # no room for it
    if centre is not None:
        over = np.maximum(over, obj.draw_mug(
            canvas, cam, centre, radius, height,
            tuple(rng.uniform(150, 245, 3)) if rng.random() < 0.6 else tuple(
                rng.uniform(20, 200, 3)), light=light, fill=(25, 45, 70)
            if rng.random() < 0.6 else None, rng=rng))
        objects.append("mug")
    if rng.random() < 0.8:  # a cable across the page, in from beyond the frame
        reach = float(np.abs(foot).max()) + 0.5
        for _ in range(30):
            a = _polar(rng.uniform(0, 2 * np.pi), reach)
            b = -a + rng.normal(0, 0.3, 2)
            path = obj.smooth_curve(rng, a, b, rng.uniform(0.1, 0.4))
            path = path[_inside(path, cam)]
            if len(path) > 10 and _far_from_corners(outline, path, 0.07):
                break
        else:
            path = path[:0]  # no way across that leaves the corners clear
        if len(path) > 10:
            over = np.maximum(over, obj.draw_cable(
                canvas, cam, path, rng.uniform(0.008, 0.014),
                tuple(rng.uniform(10, 50, 3)) if rng.random() < 0.75 else tuple(
                    rng.uniform(180, 230, 3)), light=light))
            objects.append("cable")
    for thing, chance in (("mouse", 0.4), ("orange", 0.25)):  # more, beside the page
        if rng.random() >= chance:
            continue
        size = np.array([0.2, 0.11, 0.12]) if thing == "mouse" else np.full(3, 0.11)
        for _ in range(20):
            where = _polar(rng.uniform(0, 2 * np.pi), 1) * (span + rng.uniform(0.2, 0.6))
            ring = where + np.array([[math.cos(a), math.sin(a)] for a in
                                     np.linspace(0, 2 * np.pi, 16)]) * size[0]
            if (cv2.pointPolygonTest(foot.astype(np.float32), tuple(where), False) > 0
                    and _far_from_corners(outline, ring, 0.12)):
                break
        else:
            continue
        colour = (tuple(rng.uniform(15, 60, 3)) if thing == "mouse" and rng.random() < 0.7
                  else (25, 120, 235) if thing == "orange" else tuple(rng.uniform(150, 230, 3)))
        over = np.maximum(over, obj.draw_ellipsoid(canvas, cam, where, size,
                                                   rng.uniform(0, np.pi), colour, light=light,
                                                   gloss=0.35 if thing == "mouse" else 0.15))
        objects.append(thing)
    over = np.maximum(over, _pens(rng, canvas, cam, outline, light, int(rng.integers(1, 4)),
                                  objects))
    return over


def _inside(path, cam, grow=0.3):
    """Which desk points are seen within the frame pushed out by ``grow``."""
    foot = cam.footprint(0.0, grow=grow).astype(np.float32)
    return np.array([cv2.pointPolygonTest(foot, (float(x), float(y)), False) >= 0
                     for x, y in path], bool)


def _occlude_corner(rng, canvas, cam, outline, light, objects, params):
    """A mug, a cup or a phone over one page corner, that corner's neighbours left clear."""
    which = int(rng.integers(4))
    corner = outline[which]
    params["hidden_corner"] = which
    others = np.delete(outline, which, axis=0)
    thing = str(rng.choice(["mug", "cup", "phone"], p=[0.45, 0.2, 0.35]))
    objects.append(thing)
    for _ in range(50):
        if thing == "phone":
            angle = rng.uniform(0, np.pi)
            centre = corner + rng.uniform(-0.1, 0.1, 2)
            ring = obj.phone_outline(centre, angle)
            ok = cv2.pointPolygonTest(ring.astype(np.float32), tuple(corner), True) > 0.03
        else:
            radius = rng.uniform(0.11, 0.15)
            centre = corner + _polar(rng.uniform(0, 2 * np.pi), rng.uniform(0, 0.5) * radius)
            ring = centre + np.array([[math.cos(a), math.sin(a)] for a in
                                      np.linspace(0, 2 * np.pi, 24)]) * radius
            ok = True
        if ok and _far_from_corners(others, ring, 0.1):
            break
    else:  # no room for a random placement: centred on the corner, turned along a side
        centre = corner
        if thing == "phone":
            side = outline[(which + 1) % 4] - corner
            angle = math.atan2(side[1], side[0]) + np.pi / 2
        else:
            radius = 0.11
    if thing == "phone":
        face = (tuple(rng.uniform(15, 40, 3)) if rng.random() < 0.6 else
                tuple(rng.uniform(30, 220, 3)))
        over = obj.draw_phone(canvas, cam, centre, angle, face=face,
                              side=tuple(rng.uniform(40, 180, 3)), light=light, rng=rng)
    elif thing == "mug":
        over = obj.draw_mug(canvas, cam, centre, radius, rng.uniform(0.3, 0.36),
                            tuple(rng.uniform(20, 245, 3)), light=light, rng=rng,
                            fill=(25, 45, 70) if rng.random() < 0.6 else None)
    else:
        over = obj.draw_mug(canvas, cam, centre, radius, rng.uniform(0.3, 0.4),
                            tuple(rng.uniform(170, 250, 3)), light=light, handle=False,
                            taper=1.3, fill=(30, 50, 80) if rng.random() < 0.5 else None)
    if rng.random() < 0.3:
        over = np.maximum(over, _pens(rng, canvas, cam, outline, light, 1, objects))
    return over
