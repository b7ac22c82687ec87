"""The detector's first stage: a clear page found by the edge map's contours alone is final,
and it is the page the full search would find."""

from __future__ import annotations

import cv2
import numpy as np

import imgtool.scan.score as score
from imgtool.scan import detect
from imgtool.scan.detection import find_page
from imgtool.synth import render_photo


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float32), b.astype(np.float32)
    inter = cv2.intersectConvexConvex(a, b)[0]
    return inter / (cv2.contourArea(a) + cv2.contourArea(b) - inter)


def _page_with_box(desk: int, page: int, box: int | None) -> np.ndarray:
    img = np.full((750, 1000, 3), desk, np.uint8)
    outline = np.array([[250, 80], [760, 100], [780, 690], [230, 670]], np.int32)
    cv2.fillPoly(img, [outline], (page, page, page))
    if box is not None:  # a large dark picture printed on the page
        inner = np.array([[350, 200], [650, 210], [660, 500], [340, 490]], np.int32)
        cv2.fillPoly(img, [inner], (box, box, box))
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    noise = np.random.default_rng(0).normal(0, 3, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


PAGE = np.array([[250, 80], [760, 100], [780, 690], [230, 670]], np.float64)


def test_white_page_on_a_dark_desk_is_found_by_the_first_stage():
    found = find_page(_page_with_box(desk=40, page=230, box=None))
    assert found.quick and found.source.startswith("edges")
    assert np.abs(found.corners - PAGE).max() < 3


def test_dark_picture_on_a_faint_page_goes_to_the_full_search():
    # the picture has four strong sides, the page against the light desk only a faint step:
    # the picture is darker inside than out, so it is not taken as a clear page
    found = find_page(_page_with_box(desk=200, page=235, box=60))
    assert not found.quick
    assert _iou(found.corners, PAGE) > 0.97


def test_first_stage_agrees_with_the_full_search(monkeypatch):
    # At detection scale the full search sometimes wins with a near-identical quad from
    # another generator; after refinement at full resolution the two are the same page.
    photos = [render_photo(seed, size=(800, 600)).image for seed in range(3000, 3016)]
    fired = [find_page(p).quick for p in photos]
    quick = [detect(p) for p in photos]
    monkeypatch.setattr(score, "CLEAR_SUPPORT", 2.0)  # never clear: always search fully
    assert not any(find_page(p).quick for p in photos[:4])
    full = [detect(p) for p in photos]
    assert sum(fired) >= 8  # the first stage decides most of these photos
    for i in np.flatnonzero(fired):
        assert full[i].found and quick[i].found
        assert _iou(quick[i].corners, full[i].corners) > 0.999


def test_faint_edge_map_holds_the_automatic_one():
    # detection finds the automatic thresholds once and the inner search draws only the faint
    # map: both rest on Canny's edges at lower thresholds holding those at higher ones
    from imgtool.edges import auto_thresholds, detect_edges
    from imgtool.scan.candidates import EDGE_SIGMA, auto_edge_map, edge_map

    for seed, scene in ((0, "plain"), (1, "clutter"), (2, "desk_edges"), (3, "notebook")):
        gray = cv2.cvtColor(render_photo(seed, scene=scene, size=(640, 480)).image,
                            cv2.COLOR_BGR2GRAY)
        for crop in (gray, gray[60:300, 100:500]):
            edges, found = auto_edge_map(crop)
            reference, info = detect_edges(crop, sigma=EDGE_SIGMA)
            assert (edges == reference).all()
            assert found == (info["low"], info["high"]) == tuple(auto_thresholds(
                crop, sigma=EDGE_SIGMA))
            faint = edge_map(crop, 0.4)
            assert (faint == edge_map(crop, 0.4, found)).all()
            assert faint[edges > 0].all() and (faint > 0).sum() > (edges > 0).sum()


def test_each_generator_has_its_best_two_snapped():
    # past the best SNAP_CANDIDATES, each generator's best SNAP_PER_GENERATOR are snapped (a
    # colour mask can hold the page and another region; the page's rough outline may rank
    # second); a generator's third is not, and the restored-corner quads count as one
    from imgtool.scan.candidates import Candidate

    planes = np.zeros((3, 750, 1000), np.float32)
    quad = PAGE / 2 + 100

    def cands(source, scores):
        return [Candidate(quad.copy(), source, s) for s in scores]

    top = cands("edges", np.linspace(0.9, 0.8, score.SNAP_CANDIDATES))
    tint = cands("tint-b", [0.5, 0.3, 0.2])
    cut = cands("tint-a-cut", [0.45]) + cands("faint-cut", [0.4, 0.1])
    zero = cands("lines", [0.0])
    kept = score.worth_snapping(top + tint[::-1] + cut + zero, planes)
    assert kept[:len(top)] == top
    assert [c.score for c in kept if c.source == "tint-b"] == [0.5, 0.3]
    assert [c.source for c in kept if c.source.endswith("-cut")] == ["tint-a-cut", "faint-cut"]
    assert [c.source for c in kept if c.source == "edges"] == ["edges"] * len(top)
    assert not any(c.score == 0 for c in kept)
