"""Realistic document photos with known corners: for the samples, the tests and benchmarks.

A flat page (a letter, a form with a table, a receipt, or a spiral notebook) is rendered,
placed in 3-D in front of a pinhole camera (principal point at the image centre, square
pixels), tilted by up to 45 degrees and turned in its plane, and projected into a scene.
Shadows, a lighting gradient, glare, defocus, sensor noise and JPEG compression follow. The
true corners are the projected page corners, so they are exact, and the true aspect ratio
is the page's.

Each photo belongs to one class of scene (:data:`SCENES`), the situations a scanner meets on
real desks:

``plain``
    a page on a backdrop filling the frame (wood, cloth, a cluttered desk, a light desk, a
    dark desk), drawn flat in the image;
``desk_edges``
    a page on a light grey or white table top whose own edges are in the frame, against a
    darker floor (the table is a larger bright quadrilateral with strong edges);
``clutter``
    a cable across the page, pens or markers on it, a mug beside it, a magazine or other
    sheets partly under it;
``hidden_corner``
    a mug, a cup or a phone over one page corner; the true corner is where the two page
    sides meet, under the object;
``light_wood``
    a white page on a light wooden desk (wood grain, low contrast);
``notebook``
    a spiral notebook, closed or opened flat as a two-page spread; the truth is the outline
    of the whole notebook.

Apart from ``plain``, the scene is built in 3-D: the desk, the floor below it and the things
on the desk are in perspective with the page.

``python -m imgtool.synth samples`` writes the bundled samples (see ``samples/README.md``).
"""

from __future__ import annotations

import json
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np

from imgtool.io._exif import exif_app1
from imgtool.synth._page import KINDS, PAPER, render_page
from imgtool.synth._photo import SynthPhoto
from imgtool.synth._plain import BACKGROUNDS, render_plain

__all__ = ["BACKGROUNDS", "KINDS", "PAPER", "SCENES", "SynthPhoto", "render_page",
           "render_photo", "write_samples"]

SCENES = ("plain", "desk_edges", "clutter", "hidden_corner", "light_wood", "notebook")


def render_photo(seed: int, *, scene: str = "plain", kind: str | None = None,
                 background: str | None = None, tilt: float | None = None, size=(1600, 1200),
                 jpeg: bool = True) -> SynthPhoto:
    """Render one document photo, deterministically for ``seed`` and ``scene``.

    Parameters
    ----------
    seed : int
        Everything random (page, pose, scene, effects) follows from it.
    scene : str
        The class of scene, one of :data:`SCENES`. Each class draws from its own random
        stream: the same seed in two classes gives unrelated photos.
    kind : {"letter", "table", "receipt"}, optional
        The page; for ``notebook``, ``"closed"`` or ``"spread"``.
    background : {"wood", "cloth", "desk", "light", "dark"}, optional
        The backdrop of a ``plain`` scene (the other classes bring their own).
    tilt : float, optional
        Angle (degrees) between the page and the image plane; random up to 45 by default.
    size : (int, int)
        ``(width, height)`` of the photo.
    jpeg : bool
        Pass the photo through JPEG compression, as a phone does.

    Returns
    -------
    SynthPhoto

    Raises
    ------
    ValueError
        For an unknown scene, kind or background.

    Examples
    --------
    >>> p = render_photo(3, size=(400, 300))
    >>> p.image.shape, p.corners.shape, p.scene
    ((300, 400, 3), (4, 2), 'plain')
    >>> bool(np.array_equal(render_photo(3, size=(400, 300)).image, p.image))
    True
    >>> q = render_photo(3, scene="hidden_corner", size=(400, 300))
    >>> q.scene, q.masks["over_page"].shape
    ('hidden_corner', (300, 400))
    """
    width, height = int(size[0]), int(size[1])
    if scene == "plain":
        if kind is not None and kind not in KINDS:
            raise ValueError(f"unknown page kind {kind!r} (one of {', '.join(KINDS)})")
        if background is not None and background not in BACKGROUNDS:
            raise ValueError(f"unknown background {background!r} "
                             f"(one of {', '.join(BACKGROUNDS)})")
        # the original stream, unchanged: seeds pinned by tests render as they always did
        return render_plain(np.random.default_rng(seed), kind, background, tilt, width,
                            height, jpeg)
    if scene not in SCENES:
        raise ValueError(f"unknown scene {scene!r} (one of {', '.join(SCENES)})")
    if background is not None:
        raise ValueError(f"scene {scene!r} brings its own background; pass background=None")
    from imgtool.synth._scenes import render_scene

    rng = np.random.default_rng([seed, zlib.crc32(scene.encode())])
    return render_scene(rng, scene, kind, tilt, width, height, jpeg)


SAMPLES = {  # file name: (seed, kind, background, tilt, scene)
    "letter_wood.jpg": (11, "letter", "wood", 25.0, "plain"),
    "receipt_desk.jpg": (13, "receipt", "desk", 20.0, "plain"),
    "table_cloth.jpg": (13, "table", "cloth", 35.0, "plain"),
    "letter_light.jpg": (14, "letter", "light", 15.0, "plain"),
    "letter_clutter.jpg": (16, "letter", None, 20.0, "clutter"),
}


def write_samples(folder: Path, size=(1400, 1050)) -> None:
    """Write the bundled samples and ``truth.json`` (the corners.json schema) to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    truth = {}
    for name, (seed, kind, background, tilt, scene) in SAMPLES.items():
        photo = render_photo(seed, scene=scene, kind=kind, background=background, tilt=tilt,
                             size=size)
        ok, buf = cv2.imencode(".jpg", photo.image, [cv2.IMWRITE_JPEG_QUALITY, 88])
        data = buf.tobytes()
        exif = exif_app1(focal_35mm=photo.focal_35mm, size=size)
        (folder / name).write_bytes(data[:2] + exif + data[2:])  # right after SOI, as phones do
        c = photo.corners.round(2).tolist()
        truth[name] = {"width": size[0], "height": size[1], "document": True,
                       "corners": dict(zip(("tl", "tr", "br", "bl"), c, strict=True)),
                       "aspect": round(photo.aspect, 5), "seed": seed, "scene": scene,
                       "kind": kind, "background": photo.background, "tilt": tilt,
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

