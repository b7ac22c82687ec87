"""Desk tops in perspective: laminate, wood grain, and tables whose edges are in the frame.

Every pixel's ray is traced to the desk plane (and past a table's edge, to the table's side
and to the floor or a wall below and behind it), so the texture recedes with the page.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from imgtool.synth import _objects as obj
from imgtool.synth._camera import Camera

_TABLE_DROP = (2.2, 2.8)  # desk top to floor, in page heights (70-85 cm under an A4 page)
_TABLE_THICKNESS = (0.06, 0.12)  # the desk top's own thickness (2-4 cm)


def desk_for(rng, scene):
    """The kind of desk a class of scene is set on (a dict the surface is drawn from)."""
    return _SURFACES[scene](rng)


def surface(rng, cam: Camera, desk, desk_z, outline):
    """The desk (and past its edges, the table's side and the floor), float BGR, and the
    desk top's mask where its edges are in the scene (else None)."""
    u, v = cam.plane_coords(desk_z)
    foot = cam.footprint(desk_z, grow=0.02)
    lo, hi = foot.min(axis=0), foot.max(axis=0)
    density = float(cam.pixel_size(foot).max())  # pixels per desk unit, nearest
    if desk["style"] == "wood":
        top = _wood(rng, u, v, lo, hi, density, desk)
    else:
        top = _laminate(rng, u, v, lo, hi, density, desk["colour"])
    if not desk["edges"]:
        return top, None
    return _table_edges(rng, cam, top, u, v, foot, desk_z, outline, desk["beyond"])


def _grey_desk(rng):
    g = rng.uniform(165, 225)
    return {"name": "office table", "style": "laminate",
            "colour": g + rng.uniform(-8, 8, 3), "edges": True, "beyond": "floor"}


def _clutter_desk(rng):
    if rng.random() < 0.6:  # light, like the office desks in SmartDoc's cluttered scenes
        colour = rng.uniform(185, 230) + rng.uniform(-10, 10, 3)
    else:  # greys, a little tinted
        colour = rng.uniform(80, 170) + rng.uniform(-15, 15, 3)
    return {"name": "cluttered desk", "style": "laminate", "colour": colour,
            "edges": rng.random() < 0.3, "beyond": "floor"}


def _wood_desk(rng):
    """Beech, birch, oak, maple laminates: from pale to honey, a little pink to yellow."""
    level = rng.uniform(0.68, 0.94)  # of the page's white
    blue = rng.uniform(0.62, 0.8)
    hue = np.array([blue, blue + (1 - blue) * rng.uniform(0.35, 0.75), 1.0])  # B, G, R
    return {"name": "light wood", "style": "wood", "edges": rng.random() < 0.35,
            "beyond": "wall" if rng.random() < 0.6 else "floor",
            "light": 245 * level * hue / hue.mean() * 0.93, "rings": 14.0}


def _any_desk(rng):
    r = rng.random()
    if r < 0.35:
        d = _wood_desk(rng)
        if rng.random() < 0.5:  # darker woods too: walnut, teak
            d["light"] = d["light"] * rng.uniform(0.35, 0.75)
            d["rings"] = 30.0
        d["name"] = "wood"
        return d
    colour = rng.uniform(20, 230) + rng.uniform(-12, 12, 3)
    return {"name": "desk", "style": "laminate", "colour": colour,
            "edges": rng.random() < 0.25, "beyond": "floor"}


_SURFACES = {"desk_edges": _grey_desk, "clutter": _clutter_desk, "hidden_corner": _any_desk,
             "light_wood": _wood_desk, "notebook": _any_desk}


def _noise_field(rng, lo, hi, res, sigma):
    """Smooth noise over the desk box ``lo-hi``, ``res`` texels a unit (x, y), blurred
    ``sigma`` texels (x, y); returns the texture and how to sample it."""
    n = np.maximum(((hi - lo) * res).astype(int) + 2, 2)
    n = np.minimum(n, 6000)
    res = (n - 2) / np.maximum(hi - lo, 1e-6)
    tex = rng.normal(0, 1, (n[1], n[0])).astype(np.float32)
    tex = cv2.GaussianBlur(tex, (0, 0), sigmaX=float(sigma[0]), sigmaY=float(sigma[1]))
    tex /= max(float(tex.std()), 1e-6)

    def sample(x, y):
        mx = ((x - lo[0]) * res[0]).astype(np.float32)
        my = ((y - lo[1]) * res[1]).astype(np.float32)
        return cv2.remap(tex, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return sample


def _laminate(rng, u, v, lo, hi, density, colour):
    """A plain desk top: fine speckle and broad mottling, in perspective."""
    fine = _noise_field(rng, lo, hi, np.full(2, density / 1.5), (0.7, 0.7))(u, v)
    broad = _noise_field(rng, lo, hi, np.full(2, 40.0), (6, 6))(u, v)
    tone = fine * rng.uniform(1.5, 4) + broad * rng.uniform(2, 7)
    return np.asarray(colour, np.float32) + tone[..., None]


def _wood(rng, u, v, lo, hi, density, surface):
    """Wood grain along a random direction: fine straight streaks and faint growth rings."""
    ang = rng.uniform(0, np.pi) if rng.random() < 0.3 else rng.choice([0, np.pi / 2]) + \
        rng.uniform(-0.15, 0.15)
    c, s = math.cos(ang), math.sin(ang)
    along, across = u * c + v * s, -u * s + v * c
    corners = np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])
    ra, rc = corners @ [c, s], corners @ [-s, c]
    blo, bhi = np.array([ra.min(), rc.min()]), np.array([ra.max(), rc.max()])
    streaks = _noise_field(rng, blo, bhi, np.array([density / 15, density / 1.5]),
                           (2.0, 0.7))(along, across)
    wander = _noise_field(rng, blo, bhi, np.array([6.0, 6.0]), (3, 3))(along, across)
    period = rng.uniform(0.03, 0.12)
    rings = np.sin(2 * np.pi * (across + wander * period * rng.uniform(0.3, 1.5)) / period)
    rings = np.maximum(rings, 0) ** 4  # thin darker late-wood lines
    light = surface["light"].astype(np.float32)
    tone = (streaks * rng.uniform(2, 6) - rings * rng.uniform(0, surface["rings"]))
    return light + tone[..., None] * (light / light.mean())


def _table_edges(rng, cam: Camera, top, u, v, foot, desk_z, outline, beyond):
    """Cut the desk top to a table whose edges (one to four) run through the frame."""
    ang = rng.choice([0.0, np.pi / 2]) + rng.uniform(-0.2, 0.2)
    axes = np.array([[math.cos(ang), math.sin(ang)], [-math.sin(ang), math.cos(ang)]])
    page = outline * 1.1  # with room for a page's shadow, and sheets a little askew
    sides = []  # (axis index, sign, page reach, frame reach)
    for i in (0, 1):
        for sign in (1, -1):
            n = axes[i] * sign
            sides.append((i, sign, float((page @ n).max()), float((foot @ n).max())))
    room = [k for k, s in enumerate(sides) if s[3] - s[2] > 0.15]
    if not room:
        room = [int(np.argmax([s[3] - s[2] for s in sides]))]
    count = min(len(room), int(rng.choice([1, 2, 3, 4], p=[0.2, 0.45, 0.25, 0.1])))
    shown = set(rng.choice(room, count, replace=False).tolist())
    half = np.zeros((2, 2))  # [axis][0: negative side, 1: positive side] reach
    for k, (i, sign, p, f) in enumerate(sides):
        if k in shown:
            reach = p + 0.05 + rng.uniform(0.05, 0.7) * max(f - p - 0.05, 0.01)
        else:
            reach = f + 2.0
        half[i, 0 if sign < 0 else 1] = reach
    centre_ab = (half[:, 1] - half[:, 0]) / 2
    half_size = (half[:, 1] + half[:, 0]) / 2
    radius = float(rng.choice([0.0, rng.uniform(0.02, 0.2)]))

    def signed(x, y):
        a = x * axes[0, 0] + y * axes[0, 1] - centre_ab[0]
        b = x * axes[1, 0] + y * axes[1, 1] - centre_ab[1]
        qa, qb = np.abs(a) - (half_size[0] - radius), np.abs(b) - (half_size[1] - radius)
        out = np.hypot(np.maximum(qa, 0), np.maximum(qb, 0))
        return out + np.minimum(np.maximum(qa, qb), 0) - radius

    h, w = top.shape[:2]
    unit = 1 / max(float(cam.pixel_size(foot).min()), 1e-6)  # desk units per pixel, far
    d_top = signed(u, v)
    inside = np.clip(0.5 - d_top / (unit * 0.7), 0, 1)
    # the table's edge banding: a thin band along the rim, darker or lighter
    band = rng.uniform(0.004, 0.015)
    band_colour = rng.uniform(40, 150) if rng.random() < 0.6 else rng.uniform(190, 235)
    rim = np.clip(0.5 - (-d_top - band) / (unit * 0.7), 0, 1) * inside
    thickness = rng.uniform(*_TABLE_THICKNESS)
    u2, v2 = cam.plane_coords(desk_z - cam.up * thickness)
    side = np.clip(0.5 - signed(u2, v2) / (unit * 0.7), 0, 1) * (1 - inside)
    drop = rng.uniform(*_TABLE_DROP)
    fu, fv = cam.plane_coords(desk_z - cam.up * drop)
    ffoot = cam.footprint(desk_z - cam.up * drop, grow=0.02)
    floor = _laminate(rng, fu, fv, ffoot.min(axis=0), ffoot.max(axis=0),
                      float(cam.pixel_size(foot).max()) / 3,
                      rng.uniform(30, 110) + rng.uniform(-10, 10, 3))
    if beyond == "wall":  # a white wall behind the desk instead
        floor = floor * 0.3 + rng.uniform(150, 200)
    floor = obj.blur(floor, rng.uniform(1.0, 3.0))  # out of focus
    under = obj.blur(np.maximum(inside, side), 0.05 * w)
    floor *= (1 - rng.uniform(0.2, 0.5) * under)[..., None]  # the table's shadow
    side_colour = np.float32(band_colour) * rng.uniform(0.6, 0.9)
    out = floor * (1 - side - inside)[..., None] + side[..., None] * side_colour
    top = top * (1 - rim[..., None]) + rim[..., None] * np.float32(band_colour)
    out += top * inside[..., None]
    return out.astype(np.float32), inside > 0.5
