"""Detection on scenes where the page is not the clearest outline: a page on a light desk top
whose own edges are in the photo, a page cut in pieces by a pen across it, one page of an open
notebook. Generated scenes (imgtool.synth) whose page was missed before, and drawn photos
whose page is known to the pixel."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from imgtool.scan import detect
from imgtool.scan.detection import find_page
from imgtool.synth import render_photo


def _iou(a, b) -> float:
    from benchmarks.bench_synth import quad_iou

    return quad_iou(np.asarray(a, np.float64), np.asarray(b, np.float64))


@pytest.mark.parametrize(("scene", "seed"), [
    ("desk_edges", 108),  # a light grey desk top, all in the photo, and the page on it
    ("desk_edges", 146),  # the same, the page's outline too faint for the photo's thresholds
    ("desk_edges", 11),  # a pen across a receipt: the larger piece scored best
    ("desk_edges", 151),
    ("hidden_corner", 16),  # a printed rule across a receipt, a mug over its top corner
    ("hidden_corner", 3),  # a pen across a receipt: the piece below it scored 0.06 better
    ("hidden_corner", 148),  # a phone over a corner: the phone's outline scored best
    ("hidden_corner", 52),  # the sides generator's quads were closed from lines of other
    ("hidden_corner", 75),  # things, a side running on past a corner (0.53; 0.04, a phone)
    ("notebook", 19),  # an open spread: one page was a clear page on its own
    ("notebook", 129),
    ("notebook", 29),  # a closed notebook: the label on its cover won, the spiral along a side
    ("notebook", 53),  # an orange notebook whose side continues a line of the desk top: the
    # desk's piece beyond that line, touching the cover in a sliver, was taken for the page
    # the "object" notebook lay on
    ("desk_edges", 15),  # a page on a light desk top, one side lost in a highlight: the
    # desk top won (0.08), the page's weakest side was held to REAL_SIDE
    ("desk_edges", 94),  # the same, a pen across one of its other sides (0.17 before)
    ("desk_edges", 111),  # a shadow along the page's side: its outer edge was snapped to,
    ("hidden_corner", 312),  # counted half as a step the wrong way (0.1; 0.0 before)
    ("clutter", 1),  # a page on a light desk top: a lighter piece of the desk top overlapping
    ("clutter", 317),  # it was taken for paper the page lay on (lost with the snap alone)
    ("hidden_corner", 60),  # a mug at the end of a page on a dark desk: the page was taken
    ("hidden_corner", 69),  # for a piece cut off by it, and grown into the desk (0.70, 0.75)
    ("hidden_corner", 155),  # a receipt on a desk top: its outline ranked 6th inside (0.0)
    ("hidden_corner", 61),  # a receipt on a desk top, a mug over its corner: the desk top won
    ("desk_edges", 324),  # a page half in a shadow on a white desk: two of its sides were no
    ("clutter", 118),  # line of the faint edge map, and nothing proposed it (0.54, 0.04)
    ("clutter", 420),  # a pen and a cable across a page: the whole shared two of the piece's
    # sides before snapping, three after, and was held to the corner rule's margin (0.42)
])
def test_generated_scene_page_is_found(scene, seed):
    photo = render_photo(seed, scene=scene, size=(1200, 900))
    result = detect(photo.image)
    assert result.found
    assert _iou(photo.corners, result.corners) >= 0.9


def test_a_corner_piece_gives_way_to_the_whole_page():
    """Generated clutter 401: a cable down the page and a pen across it cut off its top
    right corner, whose outline scored best (IoU 0.24). The whole page shares only two of
    its sides; it scores within PIECE_MARGIN, objects lie along both cuts and the rest of it
    is paper, so it is taken (0.89: its bottom end lies on a magazine)."""
    photo = render_photo(401, scene="clutter", size=(1200, 900))
    result = detect(photo.image)
    assert result.found
    assert _iou(photo.corners, result.corners) >= 0.85


def _text_lines(img, quad_box, rng):
    x0, y0, x1, y1 = quad_box
    for y in range(y0 + 20, y1 - 20, 12):
        cv2.line(img, (x0 + 15, y), (int(rng.integers((x0 + x1) // 2, x1 - 15)), y),
                 (60, 60, 60), 2)


def _paper_on(under, colour, paper, text_box):
    """A photo of a dark floor with the quad ``under`` filled with ``colour`` and a white
    sheet ``paper`` on it carrying lines of text in ``text_box``, lightly blurred."""
    img = np.full((600, 800, 3), 45, np.uint8)
    cv2.fillConvexPoly(img, under, colour)
    cv2.fillConvexPoly(img, paper, (238, 240, 241))
    _text_lines(img, text_box, np.random.default_rng(1))
    return cv2.GaussianBlur(img, (0, 0), 1.0)


def test_page_on_a_light_desk_top_not_the_desk_top():
    """A light grey desk top, all of it in the photo on a dark floor, and a white page on
    it: the desk top's outline is the stronger, the page is what is wanted."""
    desk = np.array([[80, 60], [720, 40], [760, 560], [40, 540]], np.int32)
    page = np.array([[330, 200], [480, 190], [495, 400], [340, 410]], np.int32)
    found = find_page(_paper_on(desk, (196, 198, 200), page, (345, 215, 475, 390)))
    assert found is not None
    assert _iou(page, found.corners) >= 0.95


def test_page_on_a_desk_top_whose_side_is_missed_before_snapping():
    """Generated desk top 326 (a seed looked at only after the rule was written): a form on a
    white board on a dark floor. Before snapping, the candidate inside the board lies a few
    pixels off the page's bottom edge and shows no boundary there at all; that is no sign
    of print on paper, so the candidate is snapped and the page found (it was the board,
    IoU 0.17). The full-resolution refinement then keeps to the page's faint edge, not the
    form's grey table block just inside it (it went there, 0.85, while it told a side's
    polarity by the stronger step)."""
    photo = render_photo(326, scene="desk_edges", size=(1200, 900))
    result = detect(photo.image)
    assert result.found
    assert _iou(photo.corners, result.corners) >= 0.95


def test_brighter_all_round_lets_one_side_through():
    from imgtool.scan.rules import _brighter_all_round
    from imgtool.scan.support import evidence_planes

    img = np.full((300, 400, 3), 150, np.uint8)
    img[80:220, 120:280] = 235
    planes = evidence_planes(img)
    page = np.array([[119.5, 79.5], [279.5, 79.5], [279.5, 219.5], [119.5, 219.5]])
    assert _brighter_all_round(page, planes)
    off = page.copy()
    off[2:, 1] += 20  # the bottom side 20 px out on the desk: no boundary there at all
    assert _brighter_all_round(off, planes)
    two_off = off.copy()
    two_off[[1, 2], 0] += 20  # and the right side: two sides unseen is too many
    assert not _brighter_all_round(two_off, planes)
    dark = img.copy()
    dark[80:220, 120:280] = 90  # darker inside: print, not paper
    assert not _brighter_all_round(page, evidence_planes(dark))
    assert not _brighter_all_round(off, evidence_planes(dark))
    shadow = img.copy()
    shadow[80:220, 280:296] = 80  # a shadow along the right side, snapped to its outer edge
    on_shadow = page.copy()
    on_shadow[[1, 2], 0] += 16
    assert _brighter_all_round(on_shadow, evidence_planes(shadow))
    shadow[220:236, 120:296] = 80  # along the bottom too: two sides darker outside is print
    on_shadow[[2, 3], 1] += 16
    assert not _brighter_all_round(on_shadow, evidence_planes(shadow))


def test_coloured_cover_is_no_desk_top():
    """The same drawing with a saturated cover for the desk top: a white label on a
    notebook's cover is not a page on a desk; the cover is kept."""
    cover = np.array([[200, 80], [600, 70], [620, 540], [190, 550]], np.int32)
    label = np.array([[300, 140], [500, 135], [503, 215], [302, 220]], np.int32)
    found = find_page(_paper_on(cover, (40, 140, 60), label, (310, 145, 490, 210)))
    assert found is not None
    assert _iou(label, found.corners) < 0.5


def test_page_cut_by_a_pen_is_found_whole():
    """A dark pen lies across a white page on a dark desk, leaving a larger and a smaller
    piece: the page is the whole."""
    rng = np.random.default_rng(2)
    img = np.full((600, 800, 3), 70, np.uint8)
    page = np.array([[250, 80], [560, 100], [540, 520], [230, 500]], np.int32)
    cv2.fillConvexPoly(img, page, (235, 236, 238))
    _text_lines(img, (260, 110, 530, 480), rng)
    cv2.line(img, (150, 230), (650, 270), (40, 40, 150), 14, cv2.LINE_AA)
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    found = find_page(img)
    assert found is not None
    assert _iou(page, found.corners) >= 0.95


def test_open_notebook_is_found_whole():
    """Two pages side by side with a dark spiral between them, on a dark desk: each page is
    a clear outline of its own, but the paper goes on past the spiral; the notebook is the
    whole spread."""
    rng = np.random.default_rng(3)
    img = np.full((600, 800, 3), 60, np.uint8)
    spread = np.array([[150, 120], [650, 120], [650, 470], [150, 470]], np.int32)
    cv2.fillConvexPoly(img, spread, (232, 234, 236))
    for x0, x1 in ((150, 390), (410, 650)):
        _text_lines(img, (x0, 120, x1, 470), rng)
    cv2.rectangle(img, (393, 120), (407, 470), (60, 60, 60), -1)  # the desk between the pages
    for y in range(128, 468, 10):  # the spiral's loops, dark on the desk between them
        cv2.ellipse(img, (400, y), (9, 3), 0, 0, 360, (30, 30, 30), 2, cv2.LINE_AA)
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    found = find_page(img)
    assert found is not None
    assert _iou(spread, found.corners) >= 0.95


def test_phone_over_a_corner_gives_way_to_the_page():
    """A dark phone lying over one corner of a white page on a light desk: the phone's own
    outline is the clearest quadrilateral, the page beneath it is what is wanted, its hidden
    corner where its two sides meet."""
    img = np.full((600, 800, 3), (150, 165, 160), np.uint8)
    page = np.array([[300, 150], [640, 170], [625, 520], [285, 500]], np.int32)
    cv2.fillConvexPoly(img, page, (236, 238, 240))
    _text_lines(img, (300, 170, 620, 480), np.random.default_rng(2))
    phone = cv2.boxPoints(((250, 480), (120, 230), 35)).astype(np.int32)
    cv2.fillConvexPoly(img, phone, (60, 40, 70))
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    result = detect(img)
    assert result.found
    assert _iou(page, result.corners) >= 0.95


@pytest.mark.parametrize("seed", [0, 23])
def test_underexposed_photo_is_searched_brightened(seed):
    """The same generated photo at half the exposure: the boundary tests work in grey levels,
    so without brightening the copy searched the page's fainter sides were lost."""
    photo = render_photo(seed, size=(1200, 900))
    result = detect(cv2.convertScaleAbs(photo.image, alpha=0.5))
    assert result.found
    assert _iou(photo.corners, result.corners) >= 0.95


def test_clear_enough_but_one_side_or_one_corner():
    """_clear_enough: three clear sides and any fourth, or two clear sides and the two
    meeting at the corner opposite them (a mug over it); not two clear sides facing each
    other, nor a side with no boundary at all."""
    from imgtool.scan.rules import _clear_enough

    steps = np.full(4, 30.0)
    assert _clear_enough(np.array([0.9, 0.9, 0.9, 0.2]), steps)
    assert _clear_enough(np.array([0.98, 0.64, 0.55, 0.48]), steps)  # corner 3 hidden
    assert _clear_enough(np.array([0.55, 0.98, 0.64, 0.48]), steps)  # corner 0 hidden
    assert not _clear_enough(np.array([0.98, 0.5, 0.64, 0.5]), steps)  # 0 and 2 face
    assert not _clear_enough(np.array([0.98, 0.64, 0.55, 0.1]), steps)
    assert not _clear_enough(np.array([0.98, 0.9, 0.55, 0.48]), np.array([30, -30, 30, 30.]))


def test_a_page_goes_on_past_a_cut_not_past_its_end():
    """_goes_on: the sides of a page go on being boundaries past the corners of a piece cut
    off it (a pen across it), not past the page's own corners (a mug at its end)."""
    from imgtool.scan.rules import _goes_on
    from imgtool.scan.support import beyond_corners, evidence_planes

    img = np.full((600, 800, 3), 60, np.uint8)
    cv2.fillConvexPoly(img, np.array([[250, 100], [550, 100], [550, 500], [250, 500]]),
                       (235, 236, 238))
    planes = evidence_planes(img)
    piece = np.array([[250, 100], [550, 100], [550, 300], [250, 300]], np.float64)
    page = np.array([[250, 100], [550, 100], [550, 500], [250, 500]], np.float64)
    beyond_piece = beyond_corners(piece, planes)
    assert _goes_on(beyond_piece, [2])  # its bottom side: the page's sides go on past it
    assert not _goes_on(beyond_corners(page, planes), [2])  # the page's own bottom: the desk
    assert not _goes_on(beyond_piece, [0])  # the piece's top is the page's
