"""Things on a desk, in 3-D and in perspective: mugs, cups, phones, pens, cables, rings.

Each ``draw_*`` function paints one object into a float BGR canvas (in place), its shadow
first, and returns the object's coverage (float32, 0-1) so that the caller knows what it
hides. Shapes are given on the desk in page heights (see :mod:`imgtool.synth._camera`);
``z0`` is the height of the surface the object stands on, ``light`` the shadow's run per
unit of height, on the desk.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from imgtool.synth._camera import Camera

_SHIFT = 4  # sub-pixel bits for cv2 drawing
_ONE = 1 << _SHIFT


def polygon_mask(shape, pts) -> np.ndarray:
    """Anti-aliased coverage (float32) of the polygon ``pts`` (pixels)."""
    mask = np.zeros(shape[:2], np.float32)
    cv2.fillPoly(mask, [np.round(np.asarray(pts) * _ONE).astype(np.int32)], 1.0, cv2.LINE_AA,
                 _SHIFT)
    return mask


def polyline_mask(shape, pts, thickness) -> np.ndarray:
    mask = np.zeros(shape[:2], np.float32)
    cv2.polylines(mask, [np.round(np.asarray(pts) * _ONE).astype(np.int32)], False, 1.0,
                  max(1, int(round(thickness))), cv2.LINE_AA, _SHIFT)
    return mask


def _box(mask):
    """The slices around where ``mask`` is non-zero (None if nowhere)."""
    rows = np.flatnonzero(mask.any(axis=1))
    if len(rows) == 0:
        return None
    cols = np.flatnonzero(mask[rows[0]:rows[-1] + 1].any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def paint(canvas, mask, colour) -> None:
    """Paint ``colour`` (BGR, or an image) over ``canvas`` where ``mask`` covers it."""
    box = _box(mask)
    if box is None:
        return
    m = mask[box][..., None]
    colour = np.asarray(colour, np.float32)
    if colour.ndim == 3:
        colour = colour[box]
    sub = canvas[box]
    sub *= 1 - m
    sub += m * colour


def blur(image, sigma):
    """A Gaussian blur; a wide one is done at a lower resolution (the result is smooth)."""
    if sigma <= 8:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    h, w = image.shape[:2]
    f = sigma / 4
    small = cv2.resize(image, (max(1, int(w / f)), max(1, int(h / f))),
                       interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), 4)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def shade(canvas, mask, strength, sigma) -> None:
    """Darken the canvas under a soft shadow."""
    if sigma > 0.3:
        mask = blur(mask, sigma)
    box = _box(mask > 1e-3)
    if box is None:
        return
    canvas[box] *= 1 - strength * mask[box][..., None]


def _hull(cam: Camera, points3d) -> np.ndarray:
    return cv2.convexHull(cam.project(points3d).astype(np.float32))[:, 0]


def _shadow_points(points3d, z0, up, light):
    """Where the points' shadows fall on the surface at height ``z0``."""
    h = (points3d[:, 2] - z0) * up
    return np.column_stack([points3d[:, :2] + h[:, None] * light, np.full(len(h), z0)])


def _circle(centre, radius, z, n=72):
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.column_stack([centre[0] + radius * np.cos(a), centre[1] + radius * np.sin(a),
                            np.full(n, z)])


def _body_shading(canvas, mask, cam, axis_px, strength):
    """Light a cylinder's silhouette across its axis: bright on one side, dark on the other."""
    ys, xs = np.nonzero(mask > 0)
    if len(xs) == 0:
        return
    d = np.array([-axis_px[1], axis_px[0]]) / max(np.hypot(*axis_px), 1e-9)
    t = xs * d[0] + ys * d[1]
    t = (t - t.min()) / max(np.ptp(t), 1e-9)
    gain = 1 - strength * (0.5 - 0.5 * np.cos(np.pi * (t - 0.3)) ** 2)
    sub = canvas[ys, xs]
    canvas[ys, xs] = sub * (1 - mask[ys, xs, None] * (1 - gain[:, None]))


def mug_hull(cam: Camera, centre, radius, height, *, z0=0.0, taper=1.0) -> np.ndarray:
    """The pixels' outline of a mug's body (without its handle)."""
    return _hull(cam, np.vstack([_circle(centre, radius / taper, z0),
                                 _circle(centre, radius, z0 + cam.up * height)]))


def draw_mug(canvas, cam: Camera, centre, radius, height, colour, *, z0=0.0, light=(0.3, 0.2),
             shadow=0.45, handle=True, fill=None, taper=1.0, rng=None) -> np.ndarray:
    """A mug (or, with ``taper`` > 1 and no handle, a paper cup) standing on the desk."""
    up = cam.up
    top = z0 + up * height
    base = _circle(centre, radius / taper, z0)
    rim = _circle(centre, radius, top)
    light = np.asarray(light, float)
    shade(canvas, polygon_mask(canvas.shape, _hull(cam, _shadow_points(
        np.vstack([base, rim]), z0, up, light))), shadow, cam.pixel_size([centre])[0] * 0.02)
    cover = np.zeros(canvas.shape[:2], np.float32)
    px = cam.pixel_size([centre])[0]
    if handle:
        phi = float(np.arctan2(light[1], light[0]) + (rng.uniform(-2, 2) if rng else 1.0))
        s = np.linspace(0, 1, 24)
        reach = radius + 0.35 * radius * np.sin(np.pi * s)
        pts = np.column_stack([centre[0] + reach * math.cos(phi), centre[1] + reach *
                               math.sin(phi), z0 + up * height * (0.2 + 0.6 * s)])
        hm = polyline_mask(canvas.shape, cam.project(pts), 0.18 * radius * px)
        paint(canvas, hm, np.asarray(colour) * 0.85)
        cover = np.maximum(cover, hm)
    body = polygon_mask(canvas.shape, _hull(cam, np.vstack([base, rim])))
    paint(canvas, body, colour)
    axis = cam.project(np.array([[*centre, top]])) - cam.project(np.array([[*centre, z0]]))
    _body_shading(canvas, body, cam, axis[0] if np.hypot(*axis[0]) > 1 else (0.0, 1.0), 0.35)
    cover = np.maximum(cover, body)
    opening = polygon_mask(canvas.shape, cam.project(rim))
    paint(canvas, opening, np.asarray(colour) * 0.78)
    if fill is not None:  # coffee, seen through the opening
        level = polygon_mask(canvas.shape, cam.project(_circle(
            centre, radius * 0.93, z0 + up * height * 0.8)))
        paint(canvas, level * opening, fill)
    ring = polyline_mask(canvas.shape, np.vstack([cam.project(rim), cam.project(rim[:1])]),
                         max(1.0, 0.04 * radius * px))
    paint(canvas, ring * 0.7, np.minimum(np.asarray(colour) * 1.15 + 10, 255))
    return cover


def draw_ellipsoid(canvas, cam: Camera, centre, radii, angle, colour, *, z0=0.0,
                   light=(0.3, 0.2), shadow=0.45, gloss=0.3) -> np.ndarray:
    """A rounded solid resting on the surface: a computer mouse, an orange (half-axes
    ``radii`` along, across and up; turned by ``angle`` on the desk)."""
    up = cam.up
    u, w = np.meshgrid(np.linspace(0, 2 * np.pi, 32), np.linspace(0, np.pi / 2, 9))
    c, s = math.cos(angle), math.sin(angle)
    x = radii[0] * np.cos(u) * np.cos(w)
    y = radii[1] * np.sin(u) * np.cos(w)
    pts = np.column_stack([(centre[0] + c * x - s * y).ravel(),
                           (centre[1] + s * x + c * y).ravel(),
                           (z0 + up * radii[2] * np.sin(w)).ravel()])
    shade(canvas, polygon_mask(canvas.shape, _hull(cam, _shadow_points(pts, z0, up,
          np.asarray(light)))), shadow, cam.pixel_size([centre])[0] * 0.03)
    hull = _hull(cam, pts)
    body = polygon_mask(canvas.shape, hull)
    box = _box(body > 0)
    if box is None:
        return body
    ys, xs = np.mgrid[box[0], box[1]]
    top = cam.project(np.array([[*centre, z0 + up * radii[2]]]))[0]
    reach = max(float(np.ptp(hull, axis=0).max()) / 2, 1.0)
    r = np.hypot(xs - top[0], ys - top[1]) / reach
    lit = np.asarray(colour, np.float32) * (1.05 - 0.45 * np.clip(r, 0, 1) ** 2)[..., None]
    lit += (gloss * 120 * np.exp(-(r / 0.25) ** 2))[..., None]
    image = np.zeros_like(canvas)
    image[box] = lit
    paint(canvas, body, image)
    return body


def _rounded_rect(half_w, half_h, r, angle, centre, n=10):
    """Outline of a rounded rectangle, turned by ``angle``, as (m, 2) desk points."""
    r = min(r, half_w, half_h)
    pts = []
    for cx, cy, a0 in ((half_w - r, half_h - r, 0), (-half_w + r, half_h - r, 90),
                       (-half_w + r, -half_h + r, 180), (half_w - r, -half_h + r, 270)):
        a = np.radians(a0 + np.linspace(0, 90, n))
        pts.append(np.column_stack([cx + r * np.cos(a), cy + r * np.sin(a)]))
    pts = np.vstack(pts)
    c, s = math.cos(angle), math.sin(angle)
    return pts @ np.array([[c, s], [-s, c]]) + centre


def phone_outline(centre, angle, half_w=0.12, half_h=0.25, r=0.035):
    return _rounded_rect(half_w, half_h, r, angle, np.asarray(centre, float))


def draw_phone(canvas, cam: Camera, centre, angle, *, face, side, z0=0.0, light=(0.3, 0.2),
               shadow=0.45, half_w=0.12, half_h=0.25, thickness=0.028, rng=None) -> np.ndarray:
    """A phone lying flat: ``face`` is the colour of its top (glass or case)."""
    up = cam.up
    outline = phone_outline(centre, angle, half_w, half_h)
    bottom = np.column_stack([outline, np.full(len(outline), z0)])
    top = np.column_stack([outline, np.full(len(outline), z0 + up * thickness)])
    shade(canvas, polygon_mask(canvas.shape, _hull(cam, _shadow_points(
        np.vstack([bottom, top]), z0, up, np.asarray(light)))), shadow,
        cam.pixel_size([centre])[0] * 0.01)
    body = polygon_mask(canvas.shape, _hull(cam, np.vstack([bottom, top])))
    paint(canvas, body, side)
    face_mask = polygon_mask(canvas.shape, cam.project(top))
    paint(canvas, face_mask, face)
    # a glossy reflection across the glass
    ys, xs = np.nonzero(face_mask > 0)
    if len(xs):
        a = rng.uniform(0, np.pi) if rng is not None else 0.7
        t = xs * math.cos(a) + ys * math.sin(a)
        t = (t - t.min()) / max(np.ptp(t), 1e-9)
        glow = 35 * np.exp(-((t - (rng.uniform(0.2, 0.8) if rng is not None else 0.5)) / 0.12)
                           ** 2)
        canvas[ys, xs] += (face_mask[ys, xs] * glow)[:, None]
    return body


def draw_pen(canvas, cam: Camera, a, b, radius, colour, cap_colour, *, z0=0.0,
             light=(0.3, 0.2), shadow=0.4, cap_share=0.25) -> np.ndarray:
    """A pen or marker lying on a surface, from desk point ``a`` to ``b``."""
    up = cam.up
    a, b = np.asarray(a, float), np.asarray(b, float)
    axis = (b - a) / max(np.linalg.norm(b - a), 1e-9)
    normal = np.array([-axis[1], axis[0]])

    def tube(p, q, r):
        pts = []
        for end in (p, q):
            ang = np.linspace(0, 2 * np.pi, 24, endpoint=False)
            xy = end + np.outer(np.cos(ang) * r, normal)
            z = z0 + up * (radius + np.sin(ang) * r)
            pts.append(np.column_stack([xy, z]))
            pts.append(np.column_stack([end + np.outer(np.cos(ang) * r * 0.6, normal)
                                        + axis * (r * 0.5 if end is q else -r * 0.5),
                                        z0 + up * (radius + np.sin(ang) * r * 0.6)]))
        return np.vstack(pts)

    whole = tube(a, b, radius)
    shade(canvas, polygon_mask(canvas.shape, _hull(cam, _shadow_points(whole, z0, up,
          np.asarray(light)))), shadow, 1.5)
    body = polygon_mask(canvas.shape, _hull(cam, whole))
    paint(canvas, body, colour)
    cut = a + (b - a) * (1 - cap_share)
    cap = polygon_mask(canvas.shape, _hull(cam, tube(cut, b, radius * 1.08)))
    paint(canvas, cap, cap_colour)
    shine = np.column_stack([np.vstack([a, b]) + normal * radius * 0.35,
                             np.full(2, z0 + up * radius * 1.9)])
    px = cam.pixel_size([(a + b) / 2])[0]
    paint(canvas, polyline_mask(canvas.shape, cam.project(shine), max(1, radius * px * 0.3))
          * 0.45, (250, 250, 250))
    return np.maximum(body, cap)


def smooth_curve(rng, start, end, wiggle, n=240):
    """A cable's path from ``start`` to ``end``: a smooth random bend, as (n, 2) desk points."""
    start, end = np.asarray(start, float), np.asarray(end, float)
    t = np.linspace(0, 1, n)
    line = start + np.outer(t, end - start)
    d = end - start
    normal = np.array([-d[1], d[0]]) / max(np.linalg.norm(d), 1e-9)
    bend = np.zeros(n)
    for k in range(1, 4):
        bend += rng.normal(0, wiggle / k) * np.sin(k * np.pi * t + rng.uniform(-0.3, 0.3))
    return line + np.outer(bend, normal)


def draw_cable(canvas, cam: Camera, path, radius, colour, *, z0=0.0, light=(0.3, 0.2),
               shadow=0.5) -> np.ndarray:
    """A cable lying along the desk points ``path``."""
    up = cam.up
    light = np.asarray(light)
    shadow_path = cam.project(np.column_stack([path + radius * 1.2 * light,
                                               np.full(len(path), z0)]))
    centre = cam.project(np.column_stack([path, np.full(len(path), z0 + up * radius)]))
    d = np.gradient(centre, axis=0)
    n = np.column_stack([-d[:, 1], d[:, 0]]) / np.maximum(np.hypot(*d.T), 1e-9)[:, None]
    shadow_mask = np.zeros(canvas.shape[:2], np.float32)
    body = np.zeros(canvas.shape[:2], np.float32)
    shine = np.zeros(canvas.shape[:2], np.float32)
    step = 12  # pieces short enough that the width follows the perspective
    for i in range(0, len(path) - 1, step):
        piece = slice(i, min(i + step + 1, len(path)))
        width = 2 * radius * float(cam.pixel_size(path[i:i + 1])[0])
        shadow_mask = np.maximum(shadow_mask, polyline_mask(canvas.shape, shadow_path[piece],
                                                            width * 1.3))
        body = np.maximum(body, polyline_mask(canvas.shape, centre[piece], width))
        shine = np.maximum(shine, polyline_mask(canvas.shape, centre[piece] + n[piece] * width
                                                * 0.2, max(1, width * 0.25)))
    width = 2 * radius * float(cam.pixel_size(path[::20]).mean())
    shade(canvas, shadow_mask, shadow, max(0.8, width * 0.4))
    paint(canvas, body, colour)
    paint(canvas, shine * 0.35 * body, np.minimum(np.asarray(colour, float) + 90, 255))
    return body


def draw_rings(canvas, cam: Camera, centres, outward, radius, z_mid, wire, colour, *,
               page_z=0.0, open_between=(0.0, np.inf)) -> np.ndarray:
    """A spiral binding: one loop per desk point in ``centres``, each a circle of ``radius``
    in the upright plane across the bound edge (``outward`` points off the page), around
    ``z_mid``. The part of a loop below the page's surface (``page_z``) is hidden, except
    where no page is: ``open_between`` (a range of ``dot(point, outward)``)."""
    up = cam.up
    a = np.linspace(0, 2 * np.pi, 40)
    runs = []
    for centre in np.asarray(centres, float):
        xy = centre + np.outer(np.cos(a) * radius, outward)
        z = z_mid + up * np.sin(a) * radius
        across = xy @ np.asarray(outward, float)
        seen = ((z - page_z) * up >= 0) | ((across > open_between[0])
                                           & (across < open_between[1]))
        pts = cam.project(np.column_stack([xy, z]))
        start = None
        for i, s in enumerate(np.append(seen, False)):
            if s and start is None:
                start = i
            elif not s and start is not None:
                if i - start > 1:
                    runs.append(pts[start:i])
                start = None
    px = cam.pixel_size(np.asarray(centres, float)[:1])[0]
    masks = []
    for share in (1.0, 0.4):  # the wire, then the highlight along it
        mask = np.zeros(canvas.shape[:2], np.float32)
        cv2.polylines(mask, [np.round(r * _ONE).astype(np.int32) for r in runs], False, 1.0,
                      max(1, int(round(share * wire * px))), cv2.LINE_AA, _SHIFT)
        masks.append(np.minimum(mask, 1))
    colour = np.asarray(colour, np.float32)
    paint(canvas, masks[0], colour * 0.7)
    paint(canvas, masks[1] * 0.8, np.minimum(colour * 1.2 + 20, 255))
    return masks[0]
