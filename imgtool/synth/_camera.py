"""The pinhole camera over the desk: the page's pose, and how desk-plane points project.

Desk coordinates are those of the page's plane, in page heights: the page is centred at the
origin, ``x`` along its width and ``y`` down its height, ``z`` off the desk (the camera side
has ``z * camera.up > 0``). A point's pixel is ``focal * (R p + t)_xy / (R p + t)_z`` plus
the principal point (the image centre, square pixels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Camera:
    """A pinhole camera looking at the desk plane ``z = 0``."""

    focal: float  #: focal length in pixels
    rot: np.ndarray  #: (3, 3) desk to camera rotation
    t: np.ndarray  #: (3,) desk origin in camera coordinates
    width: int
    height: int

    @property
    def up(self) -> float:
        """+1 or -1: the sign of ``z`` on the camera's side of the desk."""
        return float(np.sign((-self.rot.T @ self.t)[2]))

    @property
    def matrix(self) -> np.ndarray:
        return np.array([[self.focal, 0, self.width / 2 - 0.5],
                         [0, self.focal, self.height / 2 - 0.5], [0, 0, 1.0]])

    def project(self, points: np.ndarray) -> np.ndarray:
        """Pixels of desk points ``(n, 3)`` (or ``(n, 2)`` on the desk), as ``(n, 2)``."""
        points = np.asarray(points, np.float64)
        if points.shape[1] == 2:
            points = np.column_stack([points, np.zeros(len(points))])
        cam = points @ self.rot.T + self.t
        return self.focal * cam[:, :2] / cam[:, 2:3] + [self.width / 2 - 0.5,
                                                         self.height / 2 - 0.5]

    def homography(self, z: float = 0.0) -> np.ndarray:
        """The 3x3 map from the plane at height ``z`` (its ``x, y``) to pixels."""
        basis = np.column_stack([self.rot[:, 0], self.rot[:, 1], self.rot[:, 2] * z + self.t])
        return self.matrix @ basis

    def plane_coords(self, z: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Per pixel, where its ray meets the plane at height ``z``: float32 ``x, y`` maps."""
        inv = np.linalg.inv(self.homography(z)).astype(np.float32)
        yy, xx = np.mgrid[0:self.height, 0:self.width].astype(np.float32)
        den = inv[2, 0] * xx + inv[2, 1] * yy + inv[2, 2]
        return ((inv[0, 0] * xx + inv[0, 1] * yy + inv[0, 2]) / den,
                (inv[1, 0] * xx + inv[1, 1] * yy + inv[1, 2]) / den)

    def footprint(self, z: float = 0.0, grow: float = 0.0) -> np.ndarray:
        """Desk points ``(4, 2)`` seen at the frame's corners (pushed out by ``grow``)."""
        w, h = self.width, self.height
        inv = np.linalg.inv(self.homography(z))
        while True:  # a frame grown past the horizon would meet the desk behind the camera
            frame = np.array([[-grow * w, -grow * h], [(1 + grow) * w, -grow * h],
                              [(1 + grow) * w, (1 + grow) * h], [-grow * w, (1 + grow) * h]])
            p = np.column_stack([frame, np.ones(4)]) @ inv.T
            p = p[:, :2] / p[:, 2:3]
            depth = (np.column_stack([p, np.full(4, z)]) @ self.rot.T + self.t)[:, 2]
            if (depth > 0.05 * self.t[2]).all() and (depth < 20 * self.t[2]).all() or grow <= 0:
                return p
            grow = max(0.0, grow - 0.05)

    def pixel_size(self, points: np.ndarray) -> np.ndarray:
        """Pixels per desk unit near desk points ``(n, 2)`` (the local scale)."""
        points = np.asarray(points, np.float64)
        step = 1e-3
        a = self.project(points)
        bx = self.project(points + [step, 0])
        by = self.project(points + [0, step])
        dx, dy = bx - a, by - a
        return np.sqrt(np.abs(dx[:, 0] * dy[:, 1] - dx[:, 1] * dy[:, 0])) / step


def pose(rng, aspect, tilt, width, height, kind, *, fill=None, may_leave=True):
    """Place the page (height 1, width ``aspect``) in 3-D and project its corners.

    Returns the corners ``(4, 2)`` in pixels, the parameters drawn, and the :class:`Camera`.
    ``fill`` (a range) is how much of the frame's short side the page spans; by default
    0.45-0.85 (receipts 0.55-0.9). With ``may_leave``, one page in 12 runs off the frame.
    """
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
    if fill is not None:
        fill = float(rng.uniform(*fill))
    elif kind != "receipt":
        fill = float(rng.uniform(0.45, 0.85))
    else:
        fill = float(rng.uniform(0.55, 0.9))
    leave = rng.random() < 0.08 and may_leave  # sometimes the page runs off the frame
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
        if inside or (leave and visible_share(uv, width, height) > 0.7):
            break
        fill *= 0.93
    camera = Camera(f, rot, np.array([centre[0], centre[1], depth]), width, height)
    return uv, {"focal": f, "roll": roll, "tilt_axis": math.degrees(axis), "fill": fill,
                "leaves_frame": bool(leave and not inside)}, camera


def visible_share(uv, width, height):
    """The share of the quadrilateral ``uv`` inside the frame."""
    frame = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    inter, _ = cv2.intersectConvexConvex(uv.astype(np.float32), frame)
    return inter / max(cv2.contourArea(uv.astype(np.float32)), 1e-6)
