"""Which way up a scanned page is: the quarter turn that makes its text upright.

:func:`text_orientation` answers for a flattened page (any mode) in two classical steps,
both on the page's ink (the flattened page under a local mean threshold, keeping only
components of character size, so pictures, rules and the page border do not vote):

1. **Lines run across or down the page** (0/180 against 90/270): projection profiles. In a
   narrow strip cut along the lines, the ink per row alternates between text lines and the
   white gaps between them, so the row profile varies strongly; the profile across the
   lines averages over many lines and varies little. The page is cut into strips both ways
   (narrow strips keep the curved lines of a book page straight enough), each profile is
   band-passed at the scale of text lines (smoothed over one character, its trend over a
   few lines removed: letters' strokes and where text starts and stops are not lines), and
   the log-ratio of the two mean normalised variances decides.
2. **Up or down** (0 against 180): the ascender/descender asymmetry of Latin script. In each
   text line, the rows of the x-height band (a, e, n, o...) hold most ink; above them are the
   ascenders and capitals (b, d, f, h, k, l, t, A-Z, digits), below them the descenders (g,
   j, p, q, y). In English text the letters with ascenders, with capitals and digits, are
   about three times as frequent as those with descenders, so in an upright line more ink
   lies just above the band than just below it; upside down it is the other way round.
   The pooled ink share and the share of lines voting each way both count. A second
   cue: lines of left-aligned text start at one margin and end ragged, so more line starts
   than line ends line up with others (0 for justified or centred text). A third, the
   baseline: nearly every letter sits on it, while the tops split between the x-height and
   the ascender height, so in each line the letters' bottoms line up better than their
   tops. The first two decide alone when strong; a weaker vote decides when the baseline
   cue agrees with it.

Small print is measured at a resolution set by the character size found: when the median
character's short side (about its x-height) is under :data:`CHAR_PIXELS` at
:data:`WORK_SIDE`, the page is resampled to bring it there (up to :data:`MAX_UPSCALE` times
its own resolution).

Either step may be unsure (a page without text, a table of numbers, text in capitals,
handwriting, print too small to resolve its x-height): then the page is left as it is.
Accuracy on the real dev photos and generated pages is in BENCHMARKS.md ("Page
orientation"): far from the 95% target, which is why ``scan --rotate`` does not default to
``auto``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from imgtool.errors import InvalidParameterError
from imgtool.scan.enhance import flatten_lighting, gray8

#: Long side (pixels) of the copy the orientation is measured on: body text of a letter-size
#: page keeps an x-height of about 8 px, enough to tell ascenders from the x-height band.
WORK_SIDE = 1600
#: Character size (median long side of the ink components, pixels) the page is resampled
#: to when its characters are smaller than this at :data:`WORK_SIDE`.
CHAR_PIXELS = 9
#: At most this many times the page's own resolution (upsampling small pages).
MAX_UPSCALE = 2.0
#: Long side (pixels) the page is never resampled beyond.
MAX_SIDE = 4200
#: Strips per page side for the projection profiles: narrow enough that the curved lines of
#: a book page stay within a few pixels of straight inside one strip.
STRIPS = 8
#: The trend removed from a profile spans this many character sizes (about three lines).
TREND_SIZES = 6
#: Below this many character-sized components there is no text to go by.
MIN_COMPONENTS = 40
#: log-ratio of the two profile variances below which the line direction is not decided:
#: every real dev page scored 0.5 or more; the narrow generated receipts it got wrong, 0.2-0.4.
MIN_AXIS_SCORE = 0.45
#: The up/down ink vote (ascender/descender ink + weighted per-line votes + weighted margin
#: cue) at or above which up and down are decided on it alone. Calibrated on the generated
#: pages (no wrong turn there), then checked on the real dev pages (none there either).
MIN_UPDOWN_SCORE = 0.25
#: Weight of the per-line ascender/descender votes beside the pooled ink share.
VOTE_WEIGHT = 0.5
#: A weaker ink vote (at least this) decides when the baseline cue agrees with it.
MIN_AGREED_SCORE = 0.02
#: The baseline cue (share of lines whose letters' bottoms line up better than their tops,
#: minus the reverse) must reach this, over at least :data:`MIN_BASELINE_LINES` lines.
MIN_BASELINE_SCORE = 0.2
MIN_BASELINE_LINES = 3
#: How much darker than its neighbourhood's mean (grey levels of the flattened page) a pixel
#: must be to count as ink.
INK_CONTRAST = 12
#: Weight of the line-start alignment cue beside the ascender/descender one.
MARGIN_WEIGHT = 0.5
#: A line's x-height band: its rows holding at least this share of the line's peak ink.
CORE_SHARE = 0.5


@dataclass
class Orientation:
    """The result of :func:`text_orientation`."""

    rotate: int  #: clockwise degrees (0, 90, 180, 270) that make the text upright
    decided: bool  #: False when the page was left as it is for want of evidence
    axis_score: float  #: > 0: lines across the page as given; < 0: down it
    updown_score: float  #: > 0: upright after the quarter turn (if any), < 0: upside down
    components: int  #: character-sized ink components found


def text_orientation(page: np.ndarray) -> Orientation:
    """The clockwise quarter turn that makes the text on a flattened page upright.

    Parameters
    ----------
    page : numpy.ndarray
        The flattened page, uint8 or uint16, gray, BGR or BGRA (any :func:`enhance` mode).

    Returns
    -------
    Orientation
        ``rotate`` is 0 when the page is upright or when either step is unsure
        (``decided`` False).

    Examples
    --------
    >>> import cv2
    >>> page = np.full((700, 500), 245, np.uint8)
    >>> for i in range(14):
    ...     _ = cv2.putText(page, "the quick brown fox", (30, 60 + 45 * i),
    ...                     cv2.FONT_HERSHEY_SIMPLEX, 1.0, 20, 2)
    >>> text_orientation(page).rotate, text_orientation(np.rot90(page)).rotate
    (0, 90)
    >>> text_orientation(np.rot90(page, 2)).rotate
    180
    """
    page = np.asarray(page)
    if page.ndim not in (2, 3) or page.size == 0:
        raise InvalidParameterError(f"page must be a 2-D or 3-D array, got shape {page.shape}")
    if page.dtype not in (np.uint8, np.uint16):
        raise InvalidParameterError(f"page must be uint8 or uint16, got {page.dtype}")
    ink, count, size = _text_ink(page)
    if count < MIN_COMPONENTS:
        return Orientation(0, False, 0.0, 0.0, count)
    axis = _axis_score(ink, size)
    if abs(axis) < MIN_AXIS_SCORE:
        return Orientation(0, False, axis, 0.0, count)
    turn = 0 if axis > 0 else 90  # lines down the page: turn them across first
    across = ink if turn == 0 else np.rot90(ink, -1)
    updown = (_updown_score(across) + VOTE_WEIGHT * _updown_votes(across, size)[0]
              + MARGIN_WEIGHT * _margin_score(across))
    baseline, voters = _baseline_votes(across, size)
    agree = (abs(updown) >= MIN_AGREED_SCORE and voters >= MIN_BASELINE_LINES
             and abs(baseline) >= MIN_BASELINE_SCORE and np.sign(baseline) == np.sign(updown))
    if abs(updown) < MIN_UPDOWN_SCORE and not agree:
        return Orientation(0, False, axis, updown, count)
    rotate = turn if updown > 0 else (turn + 180) % 360
    return Orientation(rotate, True, axis, updown, count)


def _baseline_votes(ink: np.ndarray, size: float) -> tuple[float, int]:
    """Each text line votes by which edge of its letters lines up: in upright Latin text
    nearly every letter sits on the baseline, while the tops split between the x-height and
    the ascender/capital height. > 0: bottoms aligned better than tops (upright)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    stats = stats[1:]
    if len(stats) < 5:
        return 0.0, 0
    ch = stats[:, cv2.CC_STAT_HEIGHT]
    med = float(np.median(ch))
    big = ch >= 0.45 * med  # not dots, commas, hyphens
    gap = max(2, round(0.8 * size))
    smear = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((1, 2 * gap + 1), np.uint8))
    nl, llab, lstats, _ = cv2.connectedComponentsWithStats(smear, connectivity=8)
    top = stats[:, cv2.CC_STAT_TOP]
    bottom = top + ch
    cy = np.clip(top + ch // 2, 0, ink.shape[0] - 1)
    cx = np.clip(stats[:, cv2.CC_STAT_LEFT] + stats[:, cv2.CC_STAT_WIDTH] // 2, 0,
                 ink.shape[1] - 1)
    line_of = llab[cy, cx]
    up = down = 0
    order = np.argsort(line_of, kind="stable")
    keys = line_of[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    for a, b in zip(starts, np.r_[starts[1:], len(keys)], strict=True):
        idx = order[a:b]
        idx = idx[big[idx]]
        if len(idx) < 5 or keys[a] == 0:
            continue
        if lstats[keys[a], cv2.CC_STAT_HEIGHT] > 2.5 * np.median(ch[idx]):
            continue  # two lines run together
        tol = max(1.0, 0.12 * np.median(ch[idx]))
        b_share = np.mean(np.abs(bottom[idx] - np.median(bottom[idx])) <= tol)
        t_share = np.mean(np.abs(top[idx] - np.median(top[idx])) <= tol)
        if b_share - t_share > 0.1:
            up += 1
        elif t_share - b_share > 0.1:
            down += 1
    m = up + down
    return ((up - down) / m if m else 0.0), m


def _updown_votes(ink: np.ndarray, size: float) -> tuple[float, int]:
    """Each text line votes: (lines with more ink above their x-height band than below -
    lines with less) / lines."""
    nstrips = max(2, min(STRIPS, int(ink.shape[1] / (8 * size))))
    up = down = 0
    for ab, be in _ink_around_lines(ink, nstrips):
        if ab + be < 1:
            continue
        d = (ab - be) / (ab + be)
        if d > 0.1:
            up += 1
        elif d < -0.1:
            down += 1
    n = up + down
    return ((up - down) / n if n else 0.0), n


def _ink_around_lines(ink: np.ndarray, nstrips: int):
    """(ink above, ink below) the x-height band of every text line found in ``nstrips``
    vertical strips of ``ink`` (lines running across)."""
    edges = np.linspace(0, ink.shape[1], nstrips + 1).astype(int)
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        profile = ink[:, a:b].sum(axis=1, dtype=np.float64)
        for top, bottom in _runs(profile > 0):
            line = profile[top:bottom]
            peak = line.max()
            if bottom - top < 4 or peak < 2:
                continue
            core = np.flatnonzero(line >= CORE_SHARE * peak)
            yield line[:core[0]].sum(), line[core[-1] + 1:].sum()


def rotate_clockwise(image: np.ndarray, degrees: int) -> np.ndarray:
    """``image`` turned clockwise by 0, 90, 180 or 270 degrees (a contiguous copy).

    Examples
    --------
    >>> rotate_clockwise(np.array([[1, 2], [3, 4]]), 90)
    array([[3, 1],
           [4, 2]])
    """
    if degrees not in (0, 90, 180, 270):
        raise InvalidParameterError(f"rotation must be 0, 90, 180 or 270, got {degrees!r}")
    if degrees == 0:
        return image
    return np.ascontiguousarray(np.rot90(image, -(degrees // 90)))


def _text_ink(page: np.ndarray) -> tuple[np.ndarray, int, float]:
    """Ink of character size (uint8 0/1), how many components, and their median long side
    (the character size, in pixels), at a resolution set by that size: first at
    :data:`WORK_SIDE`; when the characters found there are smaller than
    :data:`CHAR_PIXELS`, again at the resolution that gives them that size (up to the
    page's own resolution times :data:`MAX_UPSCALE`, the long side at most
    :data:`MAX_SIDE`)."""
    gray = gray8(page)
    h, w = gray.shape
    first = min(1.0, WORK_SIDE / max(h, w))
    ink, count, size, short = _ink_at(gray, first)
    if count >= MIN_COMPONENTS and short < CHAR_PIXELS:
        factor = min(CHAR_PIXELS / short * first, MAX_UPSCALE, MAX_SIDE / max(h, w))
        if factor > first * 1.2:
            ink, count, size, short = _ink_at(gray, factor)
    return ink, count, size


def _ink_at(gray: np.ndarray, factor: float) -> tuple[np.ndarray, int, float]:
    h, w = gray.shape
    if factor != 1:
        gray = cv2.resize(gray, (max(1, round(w * factor)), max(1, round(h * factor))),
                          interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)
    flat = flatten_lighting(gray)
    # a local threshold: small grey print beside dark photographs still counts as ink
    block = max(15, (max(flat.shape) // 40) | 1)
    ink = cv2.adaptiveThreshold(flat, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                block, INK_CONTRAST)
    ink &= (flat < 225).astype(np.uint8)
    m = max(2, round(0.01 * max(ink.shape)))  # the page's edge may hold a sliver of desk
    ink[:m], ink[-m:], ink[:, :m], ink[:, -m:] = 0, 0, 0, 0
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    hh, ww = ink.shape
    cw, ch = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    area = stats[:, cv2.CC_STAT_AREA]
    # characters: a few pixels to a few percent of the page; not rules, borders or pictures
    # (the same test either way round: a page turned 90 degrees keeps the same components)
    long = np.maximum(cw, ch)
    keep = ((long >= 3) & (long <= min(hh, ww) / 12) & (area >= 4)
            & (area <= 0.7 * cw * ch + 8))
    keep[0] = False
    size = float(np.median(long[keep])) if keep.any() else 1.0
    short = float(np.median(np.minimum(cw, ch)[keep])) if keep.any() else 1.0
    return keep[labels].astype(np.uint8), int(keep.sum()), size, short


def _axis_score(ink: np.ndarray, size: float) -> float:
    """log of (row-profile variation in vertical strips) / (column-profile variation in
    horizontal strips): > 0 when the lines run across the page."""
    return float(np.log(_profile_variation(ink, size) + 1e-9)
                 - np.log(_profile_variation(ink.T, size) + 1e-9))


def _profile_variation(ink: np.ndarray, size: float) -> float:
    """Mean over vertical strips of the row profile's (ink per row) variation at the scale
    of text lines, relative to its mean, weighted by each strip's ink.

    The profile is band-passed: smoothed over one character size (across the lines, the
    strokes of single letters would otherwise vary as much as lines do) minus its trend over
    :data:`TREND_SIZES` character sizes (where text starts and stops is layout, not lines).
    """
    from scipy.ndimage import uniform_filter1d

    h, w = ink.shape
    edges = np.linspace(0, w, STRIPS + 1).astype(int)
    fine = max(1, round(size))
    coarse = max(3, round(TREND_SIZES * size))
    total, weight = 0.0, 0.0
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        profile = ink[:, a:b].sum(axis=1, dtype=np.float64)
        mass = profile.sum()
        if mass <= 0:
            continue
        band = (uniform_filter1d(profile, fine, mode="constant")
                - uniform_filter1d(profile, coarse, mode="constant"))
        mean = profile.mean()
        total += mass * float((band * band).mean() / (mean * mean))
        weight += mass
    return total / weight if weight else 0.0


def _updown_score(ink: np.ndarray) -> float:
    """(ink above the x-height bands - ink below them) / both, over every text line found in
    vertical strips of ``ink`` (lines running across). > 0: upright."""
    above = below = 0.0
    for ab, be in _ink_around_lines(ink, STRIPS):
        above += ab
        below += be
    total = above + below
    return float((above - below) / total) if total > 0 else 0.0


def _margin_score(ink: np.ndarray) -> float:
    """Left-aligned against ragged-right: (share of lines whose start lines up with another
    line's start - the same for their ends), over the text lines of ``ink`` found by
    smearing words into lines (run-length smoothing). > 0: the aligned edge is on the left,
    as in upright left-aligned text; about 0 for justified or centred text."""
    h, w = ink.shape
    gap = max(3, w // 60)  # bridges the spaces between words, not the gaps between columns
    lines = cv2.dilate(ink, np.ones((1, 2 * gap + 1), np.uint8))
    lines = cv2.erode(lines, np.ones((1, 2 * gap - 1), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    lw, lh = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    line = (lw >= 6 * lh) & (lw >= w // 10)  # long and thin: a line of words
    if line.sum() < 4:
        return 0.0
    left = stats[1:, cv2.CC_STAT_LEFT][line].astype(np.float64)
    right = left + lw[line]
    tol = max(2.0, w / 200)
    return _aligned_share(left, tol) - _aligned_share(right, tol)


def _aligned_share(x: np.ndarray, tol: float) -> float:
    """The share of positions within ``tol`` of at least two others."""
    near = np.abs(x[:, None] - x[None, :]) <= tol
    return float(((near.sum(axis=1) - 1) >= 2).mean())


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True in a 1-D mask."""
    padded = np.concatenate([[False], mask, [False]])
    change = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(change[::2], change[1::2], strict=True))


__all__ = ["Orientation", "rotate_clockwise", "text_orientation"]
