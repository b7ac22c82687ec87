"""The scanner: real photos with hand-checked corners, generated photos with exact corners,
the scan() API, the enhancement modes and the scan command."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from imgtool.errors import NoPageError
from imgtool.io import read_image, write_image
from imgtool.scan import detect, scan, warp_page
from imgtool.scan.enhance import enhance
from imgtool.synth import render_photo
from tests.conftest import REPO, listing, run_cli

SHARED = REPO.parent / "shared"
PHOTOS = SHARED / "data" / "real-photos"
SCORER = SHARED / "tools" / "score_corners.py"
#: The issue's target for the 22 dev photos: mean IoU >= 0.98 and every photo >= 0.90.
TARGET_MEAN, TARGET_EACH = 0.98, 0.90


def _scorer():
    spec = importlib.util.spec_from_file_location("score_corners", SCORER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def real_scores() -> dict[str, float]:
    if not (PHOTOS / "corners.json").exists() or not SCORER.exists():
        pytest.skip("../shared/data/real-photos is not beside the repo")
    scorer = _scorer()
    truth = scorer.load_truth(PHOTOS / "corners.json")
    scores = {}
    for name, (gt, _, _) in truth.items():
        result = detect(read_image(PHOTOS / name))
        scores[name] = scorer.quad_iou(gt, result.corners) if result.found else 0.0
    return scores


@pytest.mark.xfail(strict=True, reason="not met: mean 0.971; on the cluttered desk the "
                   "SmartDoc letter and datasheet (each the top sheet of a stack, a cable "
                   "across it) are found as the stack's outline, at 0.851 and 0.864")
def test_real_photos_meet_the_target(real_scores):
    ious = np.array(list(real_scores.values()))
    assert ious.mean() >= TARGET_MEAN and ious.min() >= TARGET_EACH, real_scores


def test_real_photos_do_not_regress(real_scores):
    """What the scanner achieves now on the 22 photos (mean 0.971; 20 at IoU >= 0.90, the
    lowest of those 0.928; the cluttered SmartDoc datasheet 0.864 and letter 0.851, each the
    outline of the stack it lies on), less a small margin for floating-point differences
    between machines: guards regressions."""
    ious = np.array(list(real_scores.values()))
    assert len(ious) == 22
    assert ious.mean() >= 0.965, real_scores
    assert (ious >= 0.9).sum() >= 20, real_scores
    assert ious.min() >= 0.84, real_scores


def test_document_false_photo_is_not_scored(real_scores):
    assert "mzucker_boston_cooking_b.jpg" not in real_scores


def _in_frame_seeds(n: int) -> list[int]:
    """The first ``n`` seeds from 2000 whose page lies wholly inside the photo (pages that run
    off the frame are measured in the benchmark, where their IoU is reported separately)."""
    seeds, seed = [], 2000
    while len(seeds) < n:
        if not render_photo(seed, size=(80, 60), jpeg=False).params["leaves_frame"]:
            seeds.append(seed)
        seed += 1
    return seeds


@pytest.mark.parametrize("seed", _in_frame_seeds(12))
def test_generated_photos_are_found_precisely(seed):
    from benchmarks.bench_synth import quad_iou

    photo = render_photo(seed, size=(800, 600))
    assert not photo.params["leaves_frame"]
    result = detect(photo.image)
    assert result.found
    assert quad_iou(photo.corners, result.corners) >= 0.95
    # the true proportions come back from the perspective (within 3 %)
    assert abs(result.aspect / photo.aspect - 1) < 0.03


def test_samples_match_their_truth():
    from benchmarks.bench_synth import quad_iou

    truth = json.loads((REPO / "samples" / "truth.json").read_text())
    assert "letter_wood.jpg" in truth
    for name, rec in truth.items():
        gt = np.array([rec["corners"][k] for k in ("tl", "tr", "br", "bl")])
        result = detect(read_image(REPO / "samples" / name))
        assert quad_iou(gt, result.corners) >= 0.97, name


def test_hull_to_quads_restores_a_corner_cut_off():
    from imgtool.scan.candidates import _hull_to_quads

    # a square with its top-left corner cut off, as the frame or a hand cuts a page's corner
    pentagon = np.array([[0, 30], [30, 0], [100, 0], [100, 100], [0, 100]], np.float64)
    dropped, *cuts = _hull_to_quads(pentagon)
    assert len(dropped) == 4 and all(any(np.allclose(p, q) for q in pentagon) for p in dropped)
    square = np.array([[0, 0], [100, 0], [100, 100], [0, 100]], np.float64)
    assert any(all(any(np.allclose(p, q) for q in c) for p in square) for c in cuts)
    # each restored quad holds the whole pentagon and is convex
    for c in cuts:
        assert cv2.isContourConvex(c.astype(np.float32).reshape(-1, 1, 2))
        assert all(cv2.pointPolygonTest(c.astype(np.float32), (float(x), float(y)), True)
                   >= -1e-6 for x, y in pentagon)
    # nearly parallel neighbours meet far off: that is no cut corner
    flat = np.array([[0, 0], [100, 0], [100, 100], [50, 100.5], [0, 100]], np.float64)
    for c in _hull_to_quads(flat)[1:]:
        assert cv2.contourArea(c.astype(np.float32)) < 2 * cv2.contourArea(
            flat.astype(np.float32))
    # a quad as it is
    only, *none = _hull_to_quads(square)
    assert np.array_equal(only, square) and none == []


@pytest.mark.parametrize("seed", [1217, 2075, 2114])
def test_page_seen_with_a_corner_cut_off_is_found(seed):
    """Generated photos where the page's outline shows with a corner cut off: on 1217 the
    corner lies beyond the frame; on 2075 and 2114 (a light page on a light desk) the
    bright-region masks lose it. The corner is where the two cut sides meet."""
    from benchmarks.bench_synth import quad_iou

    photo = render_photo(seed, size=(1200, 900))
    h, w = photo.image.shape[:2]
    beyond = sum(x < 0 or y < 0 or x > w or y > h for x, y in photo.corners)
    assert beyond == (1 if seed == 1217 else 0)
    result = detect(photo.image)
    assert quad_iou(photo.corners, result.corners) >= 0.97


def _known_page(h=300, w=210):
    rng = np.random.default_rng(0)
    page = np.full((h, w, 3), 235, np.uint8)
    for y in range(30, h - 30, 14):
        x1 = int(rng.integers(w // 2, w - 20))
        cv2.line(page, (20, y), (x1, y), (30, 30, 30), 2)
    cv2.rectangle(page, (15, 10), (45, 25), (0, 0, 200), -1)  # a red mark at the top left
    return page


def test_scan_with_given_corners_recovers_the_page():
    page = _known_page()
    quad = np.array([[180, 90], [420, 130], [400, 470], [140, 430]], np.float64)
    h, w = page.shape[:2]
    src = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]],
                   np.float32)
    matrix = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    photo = np.full((600, 560, 3), 60, np.uint8)
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), matrix, (560, 600))
    warped = cv2.warpPerspective(page, matrix, (560, 600), flags=cv2.INTER_CUBIC)
    photo[mask > 128] = warped[mask > 128]
    result = scan(photo, corners=quad[[2, 0, 3, 1]], aspect=f"{w}:{h}", mode="color")
    back = cv2.resize(result.page, (w, h), interpolation=cv2.INTER_AREA)
    core = (slice(8, -8), slice(8, -8))
    corr = np.corrcoef(back[core].ravel().astype(float), page[core].ravel().astype(float))[0, 1]
    assert corr > 0.9
    assert back[17, 30, 2] > 150 and back[17, 30, 0] < 100  # the mark is at the top left


def test_warp_interpolation_can_be_chosen():
    ramp = np.tile(np.arange(0, 200, 10, dtype=np.uint8), (20, 1))  # 10 levels per column
    # the page's edges half a pixel right of the pixel edges: each output pixel lies half-way
    # between two input pixels, so linear interpolation gives their mean
    quad = [[1.0, 1.5], [11.0, 1.5], [11.0, 11.5], [1.0, 11.5]]
    linear = warp_page(ramp, quad, (10, 10), interpolation=cv2.INTER_LINEAR)
    assert linear[0].tolist() == list(range(15, 115, 10))
    step = np.zeros((20, 20), np.uint8)
    step[:, 10:] = 200
    quad = [[2.0, 2.5], [18.0, 2.5], [18.0, 18.5], [2.0, 18.5]]
    cubic = warp_page(step, quad, (16, 16))  # the default: cubic overshoots beside a step
    flat = warp_page(step, quad, (16, 16), interpolation=cv2.INTER_LINEAR)
    assert cubic.max() > 210 and flat.max() == 200
    assert (cubic[:, 7] == 100).all() and (flat[:, 7] == 100).all()  # both cross half-way


def test_warp_keeps_dtype_and_channels():
    img = np.random.default_rng(1).integers(0, 65535, (40, 50, 4), dtype=np.uint16)
    out = warp_page(img, [[5, 5], [40, 5], [40, 30], [5, 30]], (35, 25))
    assert out.dtype == np.uint16 and out.shape == (25, 35, 4)


def test_no_page_fallbacks():
    flat = np.full((200, 300, 3), 128, np.uint8)
    full = scan(flat)
    assert not full.found and full.page.shape[:2] == (200, 300) and full.corners is None
    with pytest.raises(NoPageError):
        scan(flat, fallback="skip")


def test_bw_mode_is_binary_keeps_text_and_whitens_a_shadow():
    page = np.full((400, 300), 220, np.uint8)
    text = np.zeros_like(page, bool)
    for y in range(40, 380, 20):
        cv2.putText(page, "Sample text line", (15, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 40, 1)
    text = page < 120
    ramp = np.linspace(1.0, 0.45, 300)[None, :]  # a shadow darkening the right side
    shaded = np.clip(page * ramp, 0, 255).astype(np.uint8)
    bw = enhance(shaded, "bw")
    assert set(np.unique(bw)) <= {0, 255}
    found = bw == 0
    precision = (found & cv2.dilate(text.astype(np.uint8), np.ones((3, 3))).astype(bool)).sum()
    precision /= max(found.sum(), 1)
    recall = (cv2.dilate(found.astype(np.uint8), np.ones((3, 3))).astype(bool) & text).sum()
    recall /= text.sum()
    assert precision > 0.9 and recall > 0.9
    paper = ~cv2.dilate(text.astype(np.uint8), np.ones((7, 7))).astype(bool)
    assert (bw[paper] == 255).mean() > 0.99  # white under the shadow too
    gray = enhance(shaded, "gray")
    assert gray[paper][:, None].std() < 12  # the lighting gradient is flattened


def test_scan_command_json_detect_only_and_outputs(tmp_path):
    sample = REPO / "samples" / "letter_wood.jpg"
    r = run_cli(["scan", "--detect-only", sample])
    assert r.code == 0, r.err
    rec = json.loads(r.text)
    assert set(rec) >= {"input", "found", "corners", "size", "aspect", "output"}
    assert rec["found"] and len(rec["corners"]) == 4 and rec["output"] is None
    out = tmp_path / "page.png"
    r = run_cli(["scan", "--mode", "bw", sample, "-o", out, "--json"])
    assert r.code == 0, r.err
    page = read_image(out)
    assert page.ndim == 2 and set(np.unique(page)) <= {0, 255}
    assert list(page.shape[::-1]) == json.loads(r.text)["size"]


def test_scan_command_no_page(tmp_path):
    flat = tmp_path / "flat.png"
    write_image(flat, np.full((120, 160, 3), 128, np.uint8))
    r = run_cli(["scan", flat, "-o", tmp_path / "skip.jpg", "--fallback", "skip", "--json"])
    assert r.code == 5 and "no page found" in r.err
    assert json.loads(r.text)["found"] is False
    assert not (tmp_path / "skip.jpg").exists()
    r = run_cli(["scan", flat, "-o", tmp_path / "full.jpg"])
    assert r.code == 5 and "wrote the whole photo" in r.err
    assert read_image(tmp_path / "full.jpg").shape[:2] == (120, 160)


def test_scan_command_corners_pdf_and_debug(tmp_path):
    sample = REPO / "samples" / "table_cloth.jpg"
    r = run_cli(["scan", sample, "--corners", "10,10 300,20 290,400 5,390", "-o",
                 tmp_path / "c.png", "--json"])
    assert r.code == 0, r.err
    assert json.loads(r.text)["corners"][0] == [10.0, 10.0]
    pdf = tmp_path / "pages.pdf"
    samples = sorted((REPO / "samples").glob("*.jpg"))
    r = run_cli(["scan", *samples, "-o", pdf, "--aspect", "a4"])
    assert r.code == 0, r.err
    data = pdf.read_bytes()
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) == len(samples)
    assert b"/MediaBox [ 0 0 595.27" in data or b"/MediaBox [0 0 595.27" in data
    import pypdf  # an independent reader: every page on A4 (--aspect a4, --paper auto)

    sizes = [sorted((float(p.mediabox.width), float(p.mediabox.height)))
             for p in pypdf.PdfReader(pdf).pages]
    assert sizes == [pytest.approx([595.276, 841.89], abs=0.01)] * len(samples)
    r = run_cli(["scan", sample, "--detect-only", "--debug", tmp_path / "dbg"])
    assert r.code == 0
    pictures = listing(tmp_path / "dbg" / "table_cloth")
    assert any("edges" in p for p in pictures) and any("chosen" in p for p in pictures)


def test_scan_command_takes_the_focal_length_from_exif_or_focal(tmp_path):
    from imgtool.io.read import focal_from_35mm
    from imgtool.scan.aspect import page_aspect

    sample = REPO / "samples" / "letter_wood.jpg"
    truth = json.loads((REPO / "samples" / "truth.json").read_text())["letter_wood.jpg"]
    size = (truth["width"], truth["height"])
    r = run_cli(["scan", "--detect-only", sample])
    assert r.code == 0, r.err
    rec = json.loads(r.text)
    exif = focal_from_35mm(truth["focal_35mm"], size)  # the generator writes it, like a phone
    assert rec["aspect"] == pytest.approx(page_aspect(rec["corners"], size, focal=exif), abs=1e-3)
    assert rec["aspect"] == pytest.approx(truth["aspect"], rel=0.01)
    # (the JSON corners are rounded to 0.1 px, hence abs=1e-3)
    r = run_cli(["scan", "--detect-only", "--focal", "18", sample])
    assert r.code == 0, r.err
    wide = json.loads(r.text)["aspect"]
    assert wide == pytest.approx(
        page_aspect(rec["corners"], size, focal=focal_from_35mm(18, size)), abs=1e-3)
    assert abs(wide - rec["aspect"]) > 0.005  # a wrong focal length gives another aspect
    r = run_cli(["scan", "--focal", "0", sample, "-o", tmp_path / "x.jpg"])
    assert r.code == 2 and "--focal" in r.err
    assert listing(tmp_path) == []


def test_bad_corners_and_aspect_are_usage_errors(tmp_path):
    sample = REPO / "samples" / "letter_wood.jpg"
    r = run_cli(["scan", sample, "--corners", "1,2 3,4", "-o", tmp_path / "x.jpg"])
    assert r.code == 2 and "four points" in r.err
    r = run_cli(["scan", sample, "--aspect", "wide", "-o", tmp_path / "x.jpg"])
    assert r.code == 2 and "--aspect" in r.err
    assert listing(tmp_path) == []


def test_page_path_is_relative_to_the_repo():
    assert Path("samples/letter_wood.jpg").as_posix() in (REPO / "Makefile").read_text()


def test_opaque_alpha_is_dropped_and_real_transparency_kept():
    photo = render_photo(2003, size=(400, 300)).image
    opaque = np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)])
    assert scan(opaque).page.shape[2] == 3  # a JPEG output needs no compositing warning
    holed = opaque.copy()
    holed[:20, :20, 3] = 0
    assert scan(holed, corners=[[0, 0], [399, 0], [399, 299], [0, 299]]).page.shape[2] == 4


# --- confidence -------------------------------------------------------------------------------


def _textured_desk(seed: int) -> np.ndarray:
    """A photo of a desk with no page on it: wood-like grain and blotches, no straight outline."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:600, 0:800].astype(np.float32)
    warp = cv2.resize(cv2.GaussianBlur(rng.normal(0, 1, (76, 101)).astype(np.float32), (0, 0),
                                       3), (800, 600)) * 40
    grain = 0.5 + 0.5 * np.sin((xx + warp) / rng.uniform(6, 14))
    img = np.stack([40 + 50 * grain, 70 + 60 * grain, 110 + 70 * grain], axis=2)
    img += rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def test_confidence_is_high_on_a_clear_page_and_in_range():
    photo = render_photo(2001, size=(1200, 900))
    result = detect(photo.image)
    assert 0.0 <= result.confidence <= 1.0
    assert result.confidence >= 0.9, result.confidence
    assert result.to_record()["confidence"] == round(result.confidence, 3)
    given = detect(photo.image, corners=photo.corners)
    assert given.confidence is None and given.to_record()["confidence"] is None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_confidence_is_low_without_a_page(seed):
    """No page: plain noise and a textured desk. Whatever the best candidate is, its raw
    confidence (no threshold) is below the threshold, and detect() reports no page."""
    from imgtool.scan.detection import MIN_CONFIDENCE, find_page

    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.integers(0, 256, (600, 800, 3), dtype=np.uint8), (0, 0), 1.0)
    for photo in (noise, _textured_desk(seed)):
        raw = find_page(photo, min_confidence=0.0)
        assert raw is None or 0.0 <= raw.confidence < MIN_CONFIDENCE
        result = detect(photo)
        assert not result.found and result.confidence == 0.0


def test_confidence_follows_the_score():
    from imgtool.scan.score import CONFIDENT_SCORE, MIN_SCORE, confidence

    scores = np.linspace(0, 1, 101)
    values = [confidence(s) for s in scores]
    assert all(0.0 <= v <= 1.0 for v in values)
    assert np.all(np.diff(values) >= 0)
    assert confidence(MIN_SCORE) == 0.0 and confidence(CONFIDENT_SCORE) == 1.0


def test_below_the_threshold_is_no_page_through_the_command(tmp_path, monkeypatch):
    """A page found with a confidence below MIN_CONFIDENCE takes the no-page path of the real
    command: exit 5, --fallback skip writes nothing, --fallback full the whole photo. Here the
    threshold is raised above the clear page's confidence."""
    import imgtool.scan.detection as detection

    sample = REPO / "samples" / "letter_wood.jpg"
    r = run_cli(["scan", "--detect-only", sample])
    assert r.code == 0 and json.loads(r.text)["confidence"] >= 0.5
    monkeypatch.setattr(detection, "MIN_CONFIDENCE", 1.01)
    r = run_cli(["scan", sample, "-o", tmp_path / "skip.jpg", "--fallback", "skip", "--json"])
    assert r.code == 5 and "no page found" in r.err
    rec = json.loads(r.text)
    assert rec["found"] is False and rec["confidence"] == 0.0
    assert not (tmp_path / "skip.jpg").exists()
    r = run_cli(["scan", sample, "-o", tmp_path / "full.jpg"])
    assert r.code == 5 and "wrote the whole photo" in r.err
    assert read_image(tmp_path / "full.jpg").shape[:2] == read_image(sample).shape[:2]


def test_help_states_the_threshold_in_use():
    from imgtool.scan.detection import MIN_CONFIDENCE

    r = run_cli(["scan", "--help"])
    assert f"confidence below {MIN_CONFIDENCE:g}" in " ".join(r.text.split())


def test_an_unsure_page_is_written_with_a_warning(tmp_path):
    """A page found with a confidence between the threshold and UNSURE_CONFIDENCE (here a
    white page on a light desk top, one side faint) is written, with one warning line naming
    the file and the confidence; with its corners given there is no confidence and no
    warning."""
    from benchmarks.bench_synth import quad_iou
    from imgtool.cli.scan_cmd import UNSURE_CONFIDENCE
    from imgtool.scan.detection import MIN_CONFIDENCE

    photo = render_photo(111, scene="desk_edges", size=(1200, 900))
    src = tmp_path / "unsure.png"
    write_image(src, photo.image)
    r = run_cli(["scan", src, "-o", tmp_path / "page.png", "--json"])
    assert r.code == 0, r.err
    record = json.loads(r.text)
    assert MIN_CONFIDENCE <= record["confidence"] < UNSURE_CONFIDENCE
    assert quad_iou(photo.corners, np.array(record["corners"])) >= 0.9
    assert (tmp_path / "page.png").exists()
    (line,) = r.err.splitlines()
    assert line.startswith("imgtool: warning: ") and "unsure.png" in line
    assert f"low confidence ({record['confidence']:.2f})" in line
    given = " ".join(f"{x:.1f},{y:.1f}" for x, y in photo.corners)
    r = run_cli(["scan", src, "-o", tmp_path / "given.png", "--json", "--corners", given])
    assert r.code == 0 and r.err == "", r.err
    assert json.loads(r.text)["confidence"] is None
    r = run_cli(["scan", "--help"])
    assert f"confidence below {UNSURE_CONFIDENCE:g} is written with a warning" in " ".join(
        r.text.split())


@pytest.mark.parametrize("seed", [1103, 1217])
def test_a_page_the_frame_cuts_is_flagged_and_warned(tmp_path, seed):
    """Generated photos whose page has a corner beyond the frame: `cut` in --json, and one
    warning line that its proportions are those in view; a page in view is neither."""
    from imgtool.scan.aspect import runs_off

    photo = render_photo(seed, size=(1200, 900))
    assert photo.params["leaves_frame"] and runs_off(photo.corners, (1200, 900))
    src = tmp_path / "cut.png"
    write_image(src, photo.image)
    r = run_cli(["scan", src, "-o", tmp_path / "page.png", "--json"])
    assert r.code == 0, r.err
    assert json.loads(r.text)["cut"] is True
    (line,) = r.err.splitlines()
    assert line.startswith("imgtool: warning: ") and "runs off the photo" in line
    assert "cut.png" in line
    clear = render_photo(2001, size=(1200, 900))
    assert not runs_off(clear.corners, (1200, 900))
    write_image(tmp_path / "clear.png", clear.image)
    r = run_cli(["scan", tmp_path / "clear.png", "-o", tmp_path / "clear.out.png", "--json"])
    assert r.code == 0 and r.err == "" and json.loads(r.text)["cut"] is False


def test_runs_off_reads_each_border():
    from imgtool.scan.aspect import runs_off

    inside = np.array([[100.0, 80], [500, 90], [480, 400], [120, 390]])
    assert not runs_off(inside, (600, 450))
    for side, (axis, value) in enumerate([(1, 0.0), (0, 599.0), (1, 449.0), (0, 0.0)]):
        quad = inside.copy()
        quad[[side, (side + 1) % 4], axis] = value  # move one side onto the border
        assert runs_off(quad, (600, 450)), side
        one = inside.copy()
        one[side, axis] = value  # a single corner on the border is a page in view
        assert not runs_off(one, (600, 450)), side
