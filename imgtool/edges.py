"""Canny edge detection with automatic thresholds, built on imgtool's own kernels.

The pipeline: grey conversion, optional Gaussian smoothing (:func:`imgtool.filters.gaussian`),
3x3 Sobel gradients (:func:`imgtool.filters.sobel`), non-maximum suppression, double threshold
and 8-connected hysteresis (Numba kernels in :mod:`imgtool.kernels._canny`).

Units. Thresholds are gradient magnitudes in the units of ``cv2.Canny``: the unnormalised
3x3 Sobel of an image on the 0..255 scale, L2 norm ``sqrt(gx**2 + gy**2)`` by default or L1
``|gx| + |gy|``. A pixel is a candidate if its magnitude is ``> low`` and a seed if ``> high``.
Whatever the input dtype, thresholds mean the same thing:

- uint8: used as is;
- uint16: divided by 257 (65535 -> 255), so thresholds stay on the 8-bit scale;
- float32/float64: assumed to be in 0..1 and multiplied by 255 (values outside are kept).

Colour input (``(H, W, 3)`` BGR or ``(H, W, 4)`` BGRA, OpenCV's channel order) is converted
to grey with the ITU-R BT.601 weights 0.299 R + 0.587 G + 0.114 B, like
``cv2.cvtColor(..., cv2.COLOR_BGR2GRAY)`` (bit-exact for uint8: the same 15-bit fixed point).

Agreement with OpenCV. Given the same (already smoothed) uint8 input, the same thresholds and
norm, :func:`canny` with ``sigma=None`` returns exactly ``cv2.Canny(image, low, high,
L2gradient=...)``: the same 4-sector direction quantisation, the same tie rule (horizontal and
vertical sectors: ``>`` the left/upper neighbour and ``>=`` the right/lower one; diagonals
``>`` both), magnitude 0 outside the image, and the same Sobel border. Note that
``cv2.Canny`` computes its Sobel with a *replicated* border (``aaa|abcd``), not OpenCV's usual
reflect-101, and so do we here; the difference only touches the outermost pixel ring.
The Gaussian smoothing uses reflect-101, like ``cv2.GaussianBlur``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from imgtool.errors import InvalidParameterError

__all__ = [
    "DEFAULT_METHOD",
    "DEFAULT_SIGMA",
    "METHODS",
    "auto_thresholds",
    "canny",
    "detect_edges",
]

#: Automatic threshold methods. ``"otsu"`` and ``"median"`` measure grey levels;
#: ``"gradient_otsu"`` and ``"gradient_percentile"`` measure the gradient magnitudes that
#: survive non-maximum suppression, i.e. the very values the thresholds are compared with.
METHODS = ("gradient_otsu", "gradient_percentile", "otsu", "median")

#: The method ``imgtool edges --auto`` uses, chosen from the quality benchmark
#: (``benchmarks/bench_edges.py``, BENCHMARKS.md): best F1 against known edges, and
#: insensitive to contrast and brightness changes.
DEFAULT_METHOD = "gradient_otsu"

#: Gaussian sigma of :func:`detect_edges` (pixels). 1.4 is the classic Canny choice, close to
#: the 5x5 blur usually put in front of ``cv2.Canny``.
DEFAULT_SIGMA = 1.4

#: low = LOW_RATIO * high for the automatic methods (except ``"median"``).
LOW_RATIO = 0.5
#: ``"gradient_percentile"``: high = this percentile of the ridge magnitudes.
PERCENTILE = 90.0

_NORMS = ("l2", "l1")
_DTYPES = (np.uint8, np.uint16, np.float32, np.float64)
# Ridge magnitudes are histogrammed in bins of this width (threshold units) up to the largest
# possible 3x3 Sobel magnitude of a 0..255 image (L1: 8 * 255 = 2040).
_BIN_WIDTH = 0.25
_NBINS = int(2048 / _BIN_WIDTH)
# The gradient methods histogram every row of images up to 2 x this many pixels, else every
# n-th row so that at least this many pixels are counted. On the two 12-megapixel photos of
# the benchmark, every 12th row (1 M pixels) puts the high threshold 6.1% and 0.2% from the
# one of all rows, every 6th row (2 M) 3.6% and 0%, at twice the cost.
_HIST_SAMPLES = 1_000_000


def canny(
    image: np.ndarray,
    low: float,
    high: float,
    *,
    sigma: float | None = None,
    norm: str = "l2",
    epsilon: float = 0.001,
) -> np.ndarray:
    """Canny edge map with fixed thresholds, in the units of ``cv2.Canny``.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W)`` grey, ``(H, W, 1)``, ``(H, W, 3)`` BGR or ``(H, W, 4)`` BGRA; uint8,
        uint16 (scaled by 1/257) or float32/float64 (0..1, scaled by 255).
    low, high : float
        Hysteresis thresholds on the gradient magnitude, ``0 <= low <= high``. Pixels above
        ``high`` start edges; pixels above ``low`` continue them.
    sigma : float or None, optional
        Gaussian smoothing before the gradients (pixels, > 0); ``None`` smooths nothing, so
        the result can be compared with ``cv2.Canny`` on the same input.
    norm : {"l2", "l1"}, optional
        Gradient magnitude ``sqrt(gx**2 + gy**2)`` (``L2gradient=True``) or ``|gx| + |gy|``.
    epsilon : float, optional
        Density threshold that sets the Gaussian's radius (see
        :func:`imgtool.filters.gaussian_radius`).

    Returns
    -------
    numpy.ndarray
        ``(H, W)`` uint8, 255 on edges and 0 elsewhere.

    Raises
    ------
    InvalidParameterError
        If the image is not supported, a threshold is negative or not finite,
        ``low > high``, ``sigma <= 0`` or ``norm`` is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> from imgtool.edges import canny
    >>> img = np.zeros((7, 8), np.uint8)
    >>> img[:, 4:] = 200  # a vertical step between columns 3 and 4
    >>> canny(img, 100, 200)[3]  # a tie: like cv2.Canny, the left pixel of the pair wins
    array([  0,   0,   0, 255,   0,   0,   0,   0], dtype=uint8)
    >>> int(canny(img, 900, 1000).max())  # the step's magnitude is 4 * 200 = 800
    0
    """
    low, high = _check_thresholds(low, high)
    norm = _check_norm(norm)
    sigma = _check_sigma(sigma)
    return _canny_fixed(_edge_source(_smooth(_grey(image), sigma, epsilon)), low, high, norm)


def auto_thresholds(
    image: np.ndarray,
    method: str = DEFAULT_METHOD,
    *,
    sigma: float | None = DEFAULT_SIGMA,
    norm: str = "l2",
    median_sigma: float = 0.33,
    epsilon: float = 0.001,
) -> tuple[float, float]:
    """Canny thresholds ``(low, high)`` chosen from the image itself.

    Methods (see :data:`METHODS`):

    - ``"gradient_otsu"`` (default): Otsu's threshold of the magnitudes that survive
      non-maximum suppression (the ridge pixels, i.e. every potential edge pixel) as
      ``high``, ``low = 0.5 * high``. It separates the weak ridges of noise and texture from
      the strong ridges of object boundaries, in the very units of the thresholds, so it
      follows contrast changes (``a * I + b`` scales it by ``a``).
    - ``"gradient_percentile"``: ``high`` = the 90th percentile of the ridge magnitudes,
      ``low = 0.5 * high``.
    - ``"otsu"``: Otsu's threshold of the (smoothed) grey levels as ``high``,
      ``low = 0.5 * high``.
    - ``"median"``: ``v`` = median grey level; ``low = max(0, (1 - s) v)``,
      ``high = min(255, (1 + s) v)`` with ``s = median_sigma``.

    The defaults are those of :func:`detect_edges` (and ``imgtool edges --auto``): the
    thresholds are measured on the image smoothed with ``sigma`` =
    :data:`DEFAULT_SIGMA`, so ``canny(image, *auto_thresholds(image), sigma=DEFAULT_SIGMA)``
    is ``detect_edges(image)[0]``. Smoothing changes the gradients a lot (noise is most of
    an unsmoothed image's ridge pixels), so thresholds are only meaningful for :func:`canny`
    with the same ``sigma`` and ``norm`` as here.

    The grey-level methods measure intensities on the 0..255 scale (see the module docstring
    for uint16 and float input), which are not gradient magnitudes: they are the common
    recipes, kept for comparison. Otsu follows ``cv2.threshold(..., THRESH_OTSU)`` (on float
    input, on the grey levels floored to integers).

    Parameters
    ----------
    image : numpy.ndarray
        As for :func:`canny`.
    method : str, optional
        One of :data:`METHODS`.
    sigma : float or None, optional
        Gaussian smoothing applied first (pixels, > 0), default :data:`DEFAULT_SIGMA` (1.4,
        as :func:`detect_edges`); ``None`` for none.
    norm : {"l2", "l1"}, optional
        Magnitude norm, for the gradient methods.
    median_sigma : float, optional
        ``s`` of the median recipe, >= 0.
    epsilon : float, optional
        Density threshold of the Gaussian's radius.

    Returns
    -------
    low, high : float
        Thresholds for :func:`canny` with the same ``sigma`` and ``norm``.

    Raises
    ------
    InvalidParameterError
        Unknown method or norm, ``sigma <= 0``, ``median_sigma < 0``, unsupported image.

    Examples
    --------
    >>> import numpy as np
    >>> from imgtool.edges import auto_thresholds
    >>> img = np.full((20, 20), 40, np.uint8)
    >>> img[5:15, 5:15] = 200
    >>> [round(t, 2) for t in auto_thresholds(img, "median", sigma=None)]  # 0.67*40, 1.33*40
    [26.8, 53.2]
    >>> auto_thresholds(img, "otsu", sigma=None)  # Otsu splits 40 from 200 at 40
    (20.0, 40.0)
    >>> from imgtool.edges import DEFAULT_SIGMA, canny, detect_edges
    >>> edge_map, info = detect_edges(img)
    >>> auto_thresholds(img) == (info["low"], info["high"])
    True
    >>> bool((canny(img, *auto_thresholds(img), sigma=DEFAULT_SIGMA) == edge_map).all())
    True
    """
    method = _check_method(method, allow_none=False)
    norm = _check_norm(norm)
    sigma = _check_sigma(sigma)
    median_sigma = _check_median_sigma(median_sigma)
    smoothed = _smooth(_grey(image), sigma, epsilon)
    if method in ("otsu", "median"):
        return _intensity_thresholds(smoothed, method, median_sigma)
    return _gradient_thresholds(_edge_source(smoothed), method, norm)


def detect_edges(
    image: np.ndarray,
    *,
    method: str | None = DEFAULT_METHOD,
    low: float | None = None,
    high: float | None = None,
    sigma: float | None = DEFAULT_SIGMA,
    norm: str = "l2",
    median_sigma: float = 0.33,
    epsilon: float = 0.001,
) -> tuple[np.ndarray, dict]:
    """The whole ``imgtool edges`` path: smooth, gradients, thresholds, Canny, in one call.

    The smoothing and the gradients are computed once and shared by the threshold selection
    and the edge tracing (for the gradient methods, the non-maximum suppression too).

    Parameters
    ----------
    image : numpy.ndarray
        As for :func:`canny`.
    method : str or None, optional
        Automatic threshold method (one of :data:`METHODS`, default :data:`DEFAULT_METHOD`),
        or ``None`` to use ``low`` and ``high``.
    low, high : float or None, optional
        Fixed thresholds; when both are given they are used and ``method`` is ignored
        (``info["method"]`` is then ``None``). Give both or neither.
    sigma : float or None, optional
        Gaussian smoothing (pixels, > 0), default :data:`DEFAULT_SIGMA` (1.4); ``None`` for
        none.
    norm : {"l2", "l1"}, optional
        Magnitude norm.
    median_sigma : float, optional
        ``s`` of the ``"median"`` method.
    epsilon : float, optional
        Density threshold of the Gaussian's radius.

    Returns
    -------
    edges : numpy.ndarray
        ``(H, W)`` uint8 edge map, 0/255.
    info : dict
        ``{"method", "low", "high", "sigma", "norm", "edge_fraction"}``: the thresholds used
        and the fraction of pixels marked as edges.

    Raises
    ------
    InvalidParameterError
        Bad parameters (see :func:`canny` and :func:`auto_thresholds`), only one of
        ``low``/``high`` given, or neither a method nor thresholds.

    Examples
    --------
    >>> import numpy as np
    >>> from imgtool.edges import detect_edges
    >>> img = np.full((40, 40), 30, np.uint8)
    >>> img[10:30, 10:30] = 220
    >>> edges, info = detect_edges(img)
    >>> info["method"], info["sigma"], info["norm"]
    ('gradient_otsu', 1.4, 'l2')
    >>> bool(edges[20, 9] or edges[20, 10]), int(edges[20, 20])  # the square's side, not inside
    (True, 0)
    >>> detect_edges(img, method=None, low=50, high=100)[1]["low"]
    50.0
    """
    if (low is None) != (high is None):
        raise InvalidParameterError("detect_edges: give both low and high, or neither")
    if low is not None:
        low, high = _check_thresholds(low, high)
        method = None
    else:
        method = _check_method(method, allow_none=True)
        if method is None:
            raise InvalidParameterError(
                "detect_edges: method=None needs fixed thresholds low and high"
            )
    norm = _check_norm(norm)
    sigma = _check_sigma(sigma)
    median_sigma = _check_median_sigma(median_sigma)

    smoothed = _smooth(_grey(image), sigma, epsilon)
    source = _edge_source(smoothed)  # for float input, the gradients are made once here
    if method in ("gradient_otsu", "gradient_percentile"):
        low, high = _gradient_thresholds(source, method, norm)
    elif method is not None:
        low, high = _intensity_thresholds(smoothed, method, median_sigma)
    edges = _canny_fixed(source, low, high, norm)
    info = {
        "method": method,
        "low": float(low),
        "high": float(high),
        "sigma": sigma,
        "norm": norm,
        "edge_fraction": _edge_fraction(edges),
    }
    return edges, info


# --- pipeline stages ------------------------------------------------------------------------


def _grey(image):
    """One grey channel: uint8 as is, anything else float32 on the 0..255 scale."""
    if not isinstance(image, np.ndarray):
        raise InvalidParameterError(f"image must be a numpy array, not {type(image).__name__}")
    if image.dtype not in _DTYPES:
        raise InvalidParameterError(
            f"image dtype must be uint8, uint16, float32 or float64, not {image.dtype}"
        )
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3 and image.shape[2] not in (3, 4):
        raise InvalidParameterError(
            f"colour image must have 3 (BGR) or 4 (BGRA) channels, not {image.shape[2]}"
        )
    if image.ndim not in (2, 3):
        raise InvalidParameterError(
            f"image must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), not {image.shape}"
        )
    if image.size == 0:
        raise InvalidParameterError(f"image is empty (shape {image.shape})")
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        raise InvalidParameterError("image contains NaN or infinite values")

    if image.dtype == np.uint8:
        if image.ndim == 2:
            return np.ascontiguousarray(image)
        from imgtool.kernels import canny as k

        return k.bgr_to_gray_u8(np.ascontiguousarray(image))
    if image.ndim == 2:
        grey = image.astype(np.float32)
    else:
        b, g, r = (image[:, :, c].astype(np.float32) for c in range(3))
        grey = b * np.float32(0.114) + g * np.float32(0.587) + r * np.float32(0.299)
    if image.dtype == np.uint16:
        # a division, not a product with 1/257: 257 * v / 257 is exactly v in float32
        grey /= np.float32(257.0)
    else:
        grey *= np.float32(255.0)
    return grey


def _smooth(grey, sigma, epsilon):
    if sigma is None:
        return grey
    from imgtool.filters import gaussian

    return gaussian(grey, sigma, epsilon=epsilon)


def _edge_source(smoothed):
    """What the Canny kernels read: a uint8 image as is (its Sobel is computed row by row
    inside the kernels, in exact integers, and never stored), else its float gradients."""
    if smoothed.dtype == np.uint8:
        return smoothed
    from imgtool.filters import sobel

    # cv2.Canny's own Sobel replicates the border; so do we, to agree pixel for pixel.
    return sobel(smoothed, border="replicate")


def _canny_fixed(source, low, high, norm):
    from imgtool.kernels import canny as k

    lo, hi = _magnitude_units(low, high, norm)
    if isinstance(source, np.ndarray):
        return k.canny_u8(source, lo, hi, norm == "l2", _blocks(source.shape[0]))
    gx, gy = source
    return k.canny_from_gradients(gx, gy, lo, hi, norm == "l2", _blocks(gx.shape[0]))


def _magnitude_units(low, high, norm):
    """Thresholds in the kernels' units: squared for L2 (the kernels skip the square root)."""
    if norm == "l2":
        return float(low) * float(low), float(high) * float(high)
    return float(low), float(high)


def _intensity_thresholds(smoothed, method, median_sigma):
    from imgtool.kernels import canny as k

    if smoothed.dtype == np.uint8:
        hist = k.histogram_u8(smoothed)
    else:
        levels = np.clip(np.floor(smoothed), 0, 255).astype(np.uint8)
        hist = k.histogram_u8(levels)
    if method == "otsu":
        high = float(k.otsu_bin(hist))
        return LOW_RATIO * high, high
    if smoothed.dtype == np.uint8:
        v = _median_from_histogram(hist)
    else:
        v = float(np.median(smoothed))
    low = max(0.0, (1.0 - median_sigma) * v)
    high = min(255.0, (1.0 + median_sigma) * v)
    return low, high


def _median_from_histogram(hist):
    """Exact median of integer data from its histogram (mean of the two middle values)."""
    cum = np.cumsum(hist)
    n = int(cum[-1])
    lo = int(np.searchsorted(cum, (n - 1) // 2, side="right"))
    hi = int(np.searchsorted(cum, n // 2, side="right"))
    return (lo + hi) / 2.0


def _gradient_thresholds(source, method, norm):
    """Thresholds from the histogram of the ridge magnitudes (the non-maximum-suppression
    survivors) of ``source`` (see :func:`_edge_source`)."""
    from imgtool.kernels import canny as k

    # Large images: a regular sample of rows (at least _HIST_SAMPLES pixels) describes the
    # distribution as well as all of them; the suppression runs on those rows only.
    l2 = norm == "l2"
    if isinstance(source, np.ndarray):
        row_step = max(1, source.size // _HIST_SAMPLES)
        hist = k.ridge_histogram_u8(source, l2, _BIN_WIDTH, _NBINS, row_step)
    else:
        gx, gy = source
        row_step = max(1, gx.size // _HIST_SAMPLES)
        hist = k.ridge_histogram_from_gradients(gx, gy, l2, _BIN_WIDTH, _NBINS, row_step)
    if hist.sum() == 0:  # a flat image: no ridge at all, any threshold gives no edge
        return 0.0, 0.0
    if method == "gradient_otsu":
        high = (k.otsu_bin(hist) + 1) * _BIN_WIDTH
    else:
        cum = np.cumsum(hist)
        rank = PERCENTILE / 100.0 * cum[-1]
        b = int(np.searchsorted(cum, rank, side="left"))
        before = cum[b - 1] if b > 0 else 0
        frac = (rank - before) / hist[b] if hist[b] else 1.0
        high = (b + frac) * _BIN_WIDTH
    return LOW_RATIO * float(high), float(high)


def _edge_fraction(edges):
    return float(np.count_nonzero(edges)) / edges.size  # edges are 0/255


def _blocks(h):
    """Row blocks for the parallel kernels: a few per thread, at least 8 rows each."""
    from imgtool.kernels._jit import threads

    return max(1, min(4 * threads(), h // 8))


# --- validation -----------------------------------------------------------------------------


def _check_thresholds(low, high):
    for name, v in (("low", low), ("high", high)):
        if not isinstance(v, numbers.Real) or isinstance(v, bool):
            raise InvalidParameterError(f"{name} threshold must be a number, not {v!r}")
        if not math.isfinite(v) or v < 0:
            raise InvalidParameterError(f"{name} threshold must be finite and >= 0, not {v}")
    if low > high:
        raise InvalidParameterError(f"low threshold ({low}) must be <= high threshold ({high})")
    return float(low), float(high)


def _check_norm(norm):
    if norm not in _NORMS:
        raise InvalidParameterError(f"norm must be 'l2' or 'l1', not {norm!r}")
    return norm


def _check_sigma(sigma):
    if sigma is None:
        return None
    if not isinstance(sigma, numbers.Real) or isinstance(sigma, bool):
        raise InvalidParameterError(f"sigma must be a number > 0 or None, not {sigma!r}")
    if not (math.isfinite(sigma) and sigma > 0):
        raise InvalidParameterError(f"sigma must be a finite number > 0 or None, not {sigma}")
    return float(sigma)


def _check_median_sigma(s):
    if not isinstance(s, numbers.Real) or isinstance(s, bool) or not (math.isfinite(s) and s >= 0):
        raise InvalidParameterError(f"median_sigma must be a finite number >= 0, not {s!r}")
    return float(s)


def _check_method(method, *, allow_none):
    if method is None and allow_none:
        return None
    if method not in METHODS:
        raise InvalidParameterError(
            f"unknown threshold method {method!r}; choose one of {', '.join(METHODS)}"
        )
    return method
