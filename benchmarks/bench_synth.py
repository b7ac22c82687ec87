"""The scanner on generated photos: page IoU per class of scene, and the aspect-ratio error
of the output (Zhang and He's recovery against the naive "longest opposite sides")."""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks._report import table, write_section

SEEDS = range(1000, 1240)  # 240 photos of the plain class (the set measured since the start)
SCENE_SEEDS = range(0, 30)  # per class of scene that a real desk brings (150 photos)
# The seeds above were looked at while the scanner was tuned, class by class. These were
# not (nor are they in a test): the per-class figures a new photo of that class can expect.
HELD_OUT_SEEDS = range(700, 760)
SIZE = (1200, 900)


def quad_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two quadrilaterals: the shared scorer's when ../shared is there, else ours."""
    scorer = Path(__file__).resolve().parents[2] / "shared" / "tools" / "score_corners.py"
    if scorer.exists():
        spec = importlib.util.spec_from_file_location("score_corners", scorer)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return float(mod.quad_iou(a, b))
    pts = np.vstack([a, b])
    lo = pts.min(axis=0)
    scale = 2000 / max(float(np.ptp(pts, axis=0).max()), 1e-9)
    size = np.ceil(np.ptp(pts, axis=0) * scale).astype(int) + 3
    masks = []
    for q in (a, b):
        m = np.zeros((size[1], size[0]), np.uint8)
        cv2.fillPoly(m, [np.round((q - lo) * scale).astype(np.int32)], 1)
        masks.append(m.astype(bool))
    return float((masks[0] & masks[1]).sum() / max((masks[0] | masks[1]).sum(), 1))


def naive_aspect(quad: np.ndarray) -> float:
    """Width / height from the longest opposite sides (the textbook recipe)."""
    d = np.linalg.norm(np.roll(quad, -1, axis=0) - quad, axis=1)
    return max(d[0], d[2]) / max(d[1], d[3])


def measure(seed, scene):
    """One photo: its truth, what the scanner found, and how far apart they are."""
    from imgtool.io.read import focal_from_35mm
    from imgtool.scan import detect
    from imgtool.scan.aspect import page_aspect
    from imgtool.synth import render_photo

    photo = render_photo(seed, scene=scene, size=SIZE)
    result = detect(photo.image)
    iou = quad_iou(photo.corners, result.corners) if result.found else 0.0
    true_zh = abs(page_aspect(photo.corners, SIZE) / photo.aspect - 1)
    true_naive = abs(naive_aspect(photo.corners) / photo.aspect - 1)
    # The scanner keeps the page as it lies in the photo (it does not read the text to
    # turn it upright): a page photographed sideways comes out sideways, 1 / aspect.
    sideways = 45 < abs(photo.params["roll"]) % 180 < 135
    seen = 1 / photo.aspect if sideways else photo.aspect
    det_zh = abs(result.aspect / seen - 1) if result.found else np.nan
    # what read_photo gives for a phone photo: EXIF focal length in whole 35 mm-mm
    focal = focal_from_35mm(photo.focal_35mm, SIZE)
    det_exif = (abs(page_aspect(result.corners, SIZE, focal=focal) / seen - 1)
                if result.found else np.nan)
    true_exif = abs(page_aspect(photo.corners, SIZE, focal=focal) / photo.aspect - 1)
    return {"seed": seed, "scene": scene, "true_exif": true_exif, "kind": photo.kind,
            "background": photo.background, "tilt": photo.params["tilt"], "iou": iou,
            "zh": true_zh, "naive": true_naive, "det_zh": det_zh, "det_exif": det_exif,
            "leaves": photo.params["leaves_frame"], "cut": bool(result.found and result.cut)}


def _row(label, sel):
    ious = np.array([r["iou"] for r in sel])
    return [label, len(sel), f"{ious.mean():.4f}", f"{np.mean(ious >= 0.9):.0%}",
            f"{ious.min():.3f}", int((ious < 0.9).sum())]


def main() -> None:
    from imgtool.synth import SCENES

    start = time.perf_counter()
    records = [measure(seed, "plain") for seed in SEEDS]
    plain_time = time.perf_counter() - start
    classes = {scene: [measure(seed, scene) for seed in SCENE_SEEDS] for scene in SCENES[1:]}
    scene_time = time.perf_counter() - start - plain_time
    held_out = {scene: [measure(seed, scene) for seed in HELD_OUT_SEEDS] for scene in SCENES}
    held_time = time.perf_counter() - start - plain_time - scene_time
    held_rows = [_row(scene, sel) for scene, sel in held_out.items()]
    held_all = [r for sel in held_out.values() for r in sel]
    held_rows.append(_row("all six classes", held_all))
    held_class = {scene: np.mean([r["iou"] for r in sel]) for scene, sel in held_out.items()}
    held_failing = [s for s, v in held_class.items() if v < 0.98]
    held_mean = float(np.mean([r["iou"] for r in held_all]))
    ious = np.array([r["iou"] for r in records])
    rows = []
    for key in ("kind", "background"):
        for value in sorted({r[key] for r in records}):
            rows.append(_row(f"{key} = {value}", [r for r in records if r[key] == value]))
    for lo, hi in ((0, 15), (15, 30), (30, 45)):
        rows.append(_row(f"tilt {lo}-{hi} deg", [r for r in records if lo <= r["tilt"] < hi]))
    everything = records + [r for sel in classes.values() for r in sel]
    scene_rows = [_row("plain (the set above)", records)]
    for scene, sel in classes.items():
        scene_rows.append(_row(scene, sel))
        for kind in sorted({r["kind"] for r in sel}) if scene == "notebook" else ():
            scene_rows.append(_row(f"  {kind}", [r for r in sel if r["kind"] == kind]))
    scene_rows.append(_row("all six classes", everything))
    scene_ious = np.array([r["iou"] for sel in classes.values() for r in sel])
    per_class = {scene: np.mean([r["iou"] for r in sel]) for scene, sel in classes.items()}
    zh = np.array([r["zh"] for r in records])
    naive = np.array([r["naive"] for r in records])
    # The aspect target is for pages in view: where the frame cuts the page the sheet's
    # proportions are not in the photo (the scanner says so: `cut` in --json, a warning);
    # those photos are reported on their own row.
    whole = [r for r in records if r["iou"] >= 0.9 and not r["leaves"]]
    cut = [r for r in records if r["iou"] >= 0.9 and r["leaves"]]
    det = np.array([r["det_zh"] for r in whole])
    exif = np.array([r["det_exif"] for r in whole])
    cut_exif = np.array([r["det_exif"] for r in cut])
    worst = max(whole, key=lambda r: r["det_exif"])
    aspect_rows = [
        ["Zhang & He, true corners", f"{100 * np.median(zh):.2f}%", f"{100 * zh.max():.2f}%"],
        ["Zhang & He, true corners, f from EXIF",
         f"{100 * np.median([r['true_exif'] for r in records]):.2f}%",
         f"{100 * max(r['true_exif'] for r in records):.2f}%"],
        ["longest opposite sides, true corners", f"{100 * np.median(naive):.2f}%",
         f"{100 * naive.max():.2f}%"],
        ["Zhang & He, detected corners (IoU >= 0.9), f estimated", f"{100 * np.median(det):.2f}%",
         f"{100 * det.max():.2f}%"],
        ["(the same, share within 3%)", f"{100 * np.mean(det <= 0.03):.1f}%", ""],
        ["Zhang & He, detected corners (IoU >= 0.9), f from EXIF", f"{100 * np.median(exif):.2f}%",
         f"{100 * exif.max():.2f}%"],
        ["(the same, share within 3%)", f"{100 * np.mean(exif <= 0.03):.1f}%", ""],
        [f"pages the frame cuts ({len(cut)} found at IoU >= 0.9, {sum(r['cut'] for r in cut)} "
         "of them flagged `cut`), f from EXIF",
         f"{100 * np.median(cut_exif):.2f}%" if len(cut) else "-",
         f"{100 * cut_exif.max():.2f}%" if len(cut) else "-"],
    ]
    for scene, sel in classes.items():
        found = np.array([r["det_exif"] for r in sel if r["iou"] >= 0.9 and not r["leaves"]])
        if len(found):
            aspect_rows.append([f"{scene}: detected corners (IoU >= 0.9), f from EXIF",
                                f"{100 * np.median(found):.2f}%", f"{100 * found.max():.2f}%"])
    failing = [s for s, v in per_class.items() if v < 0.98]
    body = (
        f"{len(records)} photos from `imgtool.synth.render_photo(seed)` (the `plain` class), "
        f"seeds {SEEDS.start}-{SEEDS.stop - 1}, {SIZE[0]}x{SIZE[1]} JPEG: letters, forms, "
        "receipts on wood, cloth, cluttered desks, light and dark desks, drawn flat; tilts 0-45 "
        "degrees, any in-plane rotation, shadows, glare, blur, noise; some pages run off the "
        "frame. Detection with `imgtool.scan.detect` (detection plus full-resolution "
        "refinement).\n\n"
        f"**Page IoU: mean {ious.mean():.4f}** (target >= 0.99: "
        f"{'met' if ious.mean() >= 0.99 else 'missed'}), median {np.median(ious):.4f}, "
        f"{(ious < 0.9).sum()} photos below 0.9.\n\n"
        + table(["photos", "n", "mean IoU", "IoU >= 0.9", "min IoU", "below 0.9"], rows)
        + "\n\n**Per class of scene.** The classes a real desk brings, built in 3-D "
        f"(`render_photo(seed, scene=...)`, seeds {SCENE_SEEDS.start}-{SCENE_SEEDS.stop - 1} "
        "each, same size): `desk_edges` a page on a light grey or white table whose edges are "
        "in the frame, against a darker floor; `clutter` cables, pens and markers on the page, "
        "a mug beside it, other sheets or a magazine under it; `hidden_corner` a mug, cup or "
        "phone over one corner (the truth is where the two sides meet, under it); "
        "`light_wood` a white page on light wood; `notebook` a spiral notebook, closed or open "
        "flat (the truth is the whole notebook's outline).\n\n"
        + table(["class", "n", "mean IoU", "IoU >= 0.9", "min IoU", "below 0.9"], scene_rows)
        + f"\n\nMean over the five new classes {scene_ious.mean():.4f}; target per class "
        ">= 0.98: " + ("met." if not failing else f"missed by {', '.join(failing)}.")
        + "\n\n**Per class, on seeds never used while tuning.** The seeds above have been "
        "looked at, photo by photo, while the scanner was developed; a rule fitted to them "
        "need not carry. These "
        f"{len(HELD_OUT_SEEDS)} seeds per class ({HELD_OUT_SEEDS.start}-{HELD_OUT_SEEDS.stop - 1},"
        " in no test) were not, and are what a new photo of each class can expect:\n\n"
        + table(["class", "n", "mean IoU", "IoU >= 0.9", "min IoU", "below 0.9"], held_rows)
        + f"\n\nOn these seeds: mean over the six classes {held_mean:.4f} (target >= 0.99: "
        + ("met" if held_mean >= 0.99 else "missed") + "); target per class >= 0.98: "
        + ("met." if not held_failing else f"missed by {', '.join(held_failing)}.")
        + "\n\n**Aspect-ratio error of the output** (target: median <= 1%, max <= 3% for "
        "tilts up to 45 degrees, pages in view; the first rows on the plain set):\n\n"
        + table(["method", "median error", "max error"], aspect_rows)
        + "\n\nOn detected corners the aspect is compared with the page as it lies in the photo (a "
        "page photographed sideways is scanned sideways). Pages the frame cuts have no "
        "proportions in the photo to recover (a corner beyond the frame is a guess where two cut "
        "sides meet): they are left out of the target rows and shown on their own row, and the "
        "scanner flags them (`cut` in `--json`, a warning line). Each generated photo carries its"
        " camera's focal length as a phone writes it in EXIF (FocalLengthIn35mmFilm, whole "
        "millimetres), which `imgtool scan` reads; the 'f estimated' rows are what a photo "
        "without EXIF gets. Where one pair of sides is almost parallel in the photo the focal "
        "length is ill-conditioned: half a pixel of corner error moves the estimate's aspect by "
        "up to 20%, while the EXIF focal length keeps it within a fraction of a percent. "
        f"The worst case with EXIF is {100 * worst['det_exif']:.1f}% (seed {worst['seed']}, a "
        f"{worst['kind']} detected at IoU {worst['iou']:.3f}): "
        + ("the target max <= 3% is met." if exif.max() <= 0.03 else
           "the target max <= 3% is NOT met.")
        + f"\n\nRun time: {plain_time:.0f} s for the plain set, {scene_time:.0f} s for the "
        f"classes, {held_time:.0f} s for the held-out seeds (rendering and detection, "
        f"{os.cpu_count()} cores, shared with other work "
        "while measured)."
    )
    write_section("synth", "Scanner on generated photos", body)
    print(body)


if __name__ == "__main__":
    main()
