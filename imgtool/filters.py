"""Linear filters: Gaussian blur, box (mean) filter, Laplacian, Sobel and gradient magnitude.

Every function takes a 2-D ``(H, W)`` or 3-D ``(H, W, C)`` array (any number of channels, each
filtered on its own) of dtype uint8, uint16, float32 or float64, C-contiguous or not (a
non-contiguous view is copied once). Smoothing filters (:func:`gaussian`, :func:`box`) return
the input dtype, integers rounded to nearest (halves up) and saturated. Derivative filters
(:func:`laplacian`, :func:`sobel`, :func:`gradient_magnitude`) return float32 (signed,
unnormalised, the units of OpenCV's ``CV_32F`` results). float64 input is computed in float64
and returned as float64 by every filter.

Borders (``border=``), with their OpenCV and scipy.ndimage names:

==============  ======================  ==================  ==================
border          pixels beyond the edge  OpenCV              scipy.ndimage mode
==============  ======================  ==================  ==================
``reflect101``  ``dcb|abcd|cba``        BORDER_REFLECT_101  ``"mirror"``
``reflect``     ``cba|abcd|dcb``        BORDER_REFLECT      ``"reflect"``
``replicate``   ``aaa|abcd|ddd``        BORDER_REPLICATE    ``"nearest"``
``constant``    ``kkk|abcd|kkk``        BORDER_CONSTANT     ``"constant"``
``wrap``        ``bcd|abcd|abc``        BORDER_WRAP         ``"wrap"``
==============  ======================  ==================  ==================

The constant value is ``cval`` (for integer images, rounded and saturated to the dtype).
Reflection repeats as often as needed, so every border works on images smaller than the
filter (a 1-pixel axis reflects onto itself). The JIT kernels run in parallel over rows;
:func:`set_threads` sets the number of threads. A process that has not imported Numba runs
8-bit calls on the kernels compiled ahead of time: one thread per call, and a large image is
cut into one band of rows per thread (:data:`imgtool.kernels.ROW_KERNELS`).
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from imgtool.errors import InvalidParameterError
from imgtool.kernels._jit import set_threads, threads

__all__ = [
    "BORDERS",
    "TruncationWarning",
    "box",
    "gaussian",
    "gaussian_epsilon_for",
    "gaussian_kept_mass",
    "gaussian_kernel",
    "gaussian_radius",
    "gradient_magnitude",
    "laplacian",
    "set_threads",
    "sobel",
]

#: The border modes every filter accepts (see the module docstring).
BORDERS = ("reflect101", "reflect", "replicate", "constant", "wrap")

#: :func:`gaussian` warns when the truncated kernel keeps less of the Gaussian's mass than this.
WARN_KEPT_MASS = 0.99
#: :func:`gaussian` refuses a kernel that keeps less of the Gaussian's mass than this.
MIN_KEPT_MASS = 0.9

_DTYPES = (np.uint8, np.uint16, np.float32, np.float64)


class TruncationWarning(UserWarning):
    """The Gaussian kernel is cut so short that it drops a noticeable part of the mass."""


def gaussian_radius(sigma: float, epsilon: float) -> int:
    """Radius at which the Gaussian density falls below ``epsilon``.

    The smallest integer ``r`` such that the normalised density
    ``exp(-x**2 / (2 sigma**2)) / (sigma sqrt(2 pi))`` is below ``epsilon`` for ``|x| > r``:
    ``r = ceil(sigma * sqrt(2 ln(1 / (epsilon sigma sqrt(2 pi)))))``, and 0 when ``epsilon``
    is at or above the peak ``1 / (sigma sqrt(2 pi))``.

    Parameters
    ----------
    sigma : float
        Standard deviation in pixels, > 0.
    epsilon : float
        Density threshold, 0 < epsilon < 1.

    Returns
    -------
    int
        The radius; the kernel has ``2 r + 1`` taps.

    Raises
    ------
    InvalidParameterError
        If ``sigma <= 0`` or ``epsilon`` is not in (0, 1).

    Examples
    --------
    >>> from imgtool.filters import gaussian_radius
    >>> [gaussian_radius(s, 0.01) for s in (0.5, 1, 1.5, 2, 2.5)]
    [2, 3, 4, 5, 6]
    >>> gaussian_radius(0.1, 0.01)
    1
    >>> gaussian_radius(100, 0.01)  # epsilon above the peak: a single tap
    0
    """
    sigma, epsilon = _check_sigma_epsilon(sigma, epsilon)
    peak = 1.0 / (sigma * math.sqrt(2.0 * math.pi))
    if epsilon >= peak:
        return 0
    return int(math.ceil(sigma * math.sqrt(2.0 * math.log(peak / epsilon))))


def gaussian_kernel(sigma: float, epsilon: float = 0.001) -> np.ndarray:
    """The sampled, normalised 1-D Gaussian kernel of radius ``gaussian_radius(sigma, epsilon)``.

    Parameters
    ----------
    sigma : float
        Standard deviation in pixels, > 0.
    epsilon : float, optional
        Density threshold that sets the radius, 0 < epsilon < 1.

    Returns
    -------
    numpy.ndarray
        float64 weights ``exp(-x**2 / (2 sigma**2))`` for ``x = -r .. r``, divided by their
        sum (so they sum to 1).

    Raises
    ------
    InvalidParameterError
        If ``sigma <= 0`` or ``epsilon`` is not in (0, 1).

    Examples
    --------
    >>> from imgtool.filters import gaussian_kernel
    >>> k = gaussian_kernel(1.0, 0.01)
    >>> k.size, round(float(k.sum()), 12)
    (7, 1.0)
    >>> bool(k[3] == k.max()), bool(k[0] == k[6])
    (True, True)
    """
    r = gaussian_radius(sigma, epsilon)
    x = np.arange(-r, r + 1, dtype=np.float64)
    w = np.exp(-(x * x) / (2.0 * float(sigma) ** 2))
    return w / w.sum()


def gaussian_kept_mass(sigma: float, epsilon: float = 0.001) -> float:
    """Fraction of the continuous Gaussian's mass that the truncated kernel covers.

    The kernel of radius ``r`` samples the pixels ``-r .. r``, which cover the interval
    ``[-r - 0.5, r + 0.5]``; the kept mass is ``erf((r + 0.5) / (sigma sqrt(2)))``.
    :func:`gaussian` warns (:class:`TruncationWarning`) below ``WARN_KEPT_MASS`` (0.99) and
    refuses below ``MIN_KEPT_MASS`` (0.9).

    Parameters
    ----------
    sigma : float
        Standard deviation in pixels, > 0.
    epsilon : float, optional
        Density threshold that sets the radius, 0 < epsilon < 1.

    Returns
    -------
    float
        The kept mass, in (0, 1].

    Raises
    ------
    InvalidParameterError
        If ``sigma <= 0`` or ``epsilon`` is not in (0, 1).

    Examples
    --------
    >>> from imgtool.filters import gaussian_kept_mass
    >>> round(gaussian_kept_mass(1.0, 0.01), 4)  # r = 3 covers [-3.5, 3.5]
    0.9995
    >>> round(gaussian_kept_mass(20.0, 0.01), 2)  # r = 24 for sigma 20: too short
    0.78
    """
    r = gaussian_radius(sigma, epsilon)
    return math.erf((r + 0.5) / (float(sigma) * math.sqrt(2.0)))


def gaussian_epsilon_for(sigma: float, kept_mass: float = WARN_KEPT_MASS) -> float:
    """The largest round epsilon (1, 2 or 5 times a power of ten) whose kernel for ``sigma``
    keeps at least ``kept_mass`` of the Gaussian: the value to suggest when an epsilon is too
    large for a sigma.

    Parameters
    ----------
    sigma : float
        Standard deviation in pixels, > 0.
    kept_mass : float, optional
        The share of the mass to keep, in (0, 1); default ``WARN_KEPT_MASS`` (0.99), so that
        :func:`gaussian` neither refuses nor warns.

    Returns
    -------
    float
        The epsilon.

    Raises
    ------
    InvalidParameterError
        If ``sigma`` or ``kept_mass`` is out of range, or no epsilon above 1e-300 keeps
        that much (a sigma of about 1e148 or more).

    Examples
    --------
    >>> from imgtool.filters import gaussian_epsilon_for, gaussian_kept_mass
    >>> gaussian_epsilon_for(150)
    5e-05
    >>> gaussian_kept_mass(150, 0.001) < 0.9 <= 0.99 <= gaussian_kept_mass(150, 5e-05)
    True
    >>> gaussian_epsilon_for(2.0), gaussian_epsilon_for(2.0, kept_mass=0.9)
    (0.02, 0.1)
    """
    sigma, _ = _check_sigma_epsilon(sigma, 0.5)
    if not 0 < kept_mass < 1:
        raise InvalidParameterError(f"kept_mass must be in (0, 1), not {kept_mass}")
    for exponent in range(-1, -301, -1):
        for digit in (5, 2, 1):  # descending: the first that keeps enough is the largest
            epsilon = float(f"{digit}e{exponent}")
            if gaussian_kept_mass(sigma, epsilon) >= kept_mass:
                return epsilon
    raise InvalidParameterError(f"no epsilon above 1e-300 keeps {kept_mass:.0%} of the "
                                f"Gaussian for sigma={sigma}")


def gaussian(
    image: np.ndarray,
    sigma: float,
    *,
    epsilon: float = 0.001,
    border: str = "reflect101",
    cval: float = 0.0,
) -> np.ndarray:
    """Gaussian blur: separable correlation with :func:`gaussian_kernel` along both axes.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W)`` or ``(H, W, C)``, uint8, uint16, float32 or float64.
    sigma : float
        Standard deviation in pixels, > 0 (the same along both axes).
    epsilon : float, optional
        Density threshold that sets the radius (see :func:`gaussian_radius`).
    border : str, optional
        One of :data:`BORDERS`.
    cval : float, optional
        The value beyond the edge for ``border="constant"``.

    Returns
    -------
    numpy.ndarray
        Same shape and dtype as ``image`` (integers rounded half up and saturated). Integer
        and float32 images are accumulated in float32, float64 images in float64.

    Raises
    ------
    InvalidParameterError
        Bad ``sigma``/``epsilon``/``border``/image, or a kernel that keeps less than
        ``MIN_KEPT_MASS`` of the Gaussian's mass (``epsilon`` too large for ``sigma``).

    Warns
    -----
    TruncationWarning
        If the kernel keeps less than ``WARN_KEPT_MASS`` of the mass.

    Examples
    --------
    >>> import numpy as np
    >>> from imgtool.filters import gaussian
    >>> img = np.zeros((9, 9), np.float32)
    >>> img[4, 4] = 1
    >>> out = gaussian(img, 1.0, epsilon=0.01)  # radius 3: the impulse spreads over 7 x 7
    >>> round(float(out.sum()), 6), bool(out[4, 4] == out.max()), float(out[0, 0])
    (1.0, True, 0.0)
    >>> gaussian(np.full((4, 5), 200, np.uint8), 2.0)[0, 0]
    np.uint8(200)
    """
    src, shape, channels = _prepare(image)
    code = _border_code(border)
    mass = gaussian_kept_mass(sigma, epsilon)
    if mass < MIN_KEPT_MASS:
        raise InvalidParameterError(
            f"gaussian: epsilon={epsilon} cuts the kernel for sigma={sigma} to radius "
            f"{gaussian_radius(sigma, epsilon)}, which keeps only {mass:.1%} of the Gaussian "
            f"(at least {MIN_KEPT_MASS:.0%} needed); use a smaller epsilon "
            f"({gaussian_epsilon_for(sigma):g} or less keeps {WARN_KEPT_MASS:.0%})"
        )
    if mass < WARN_KEPT_MASS:
        warnings.warn(
            f"gaussian: the kernel of radius {gaussian_radius(sigma, epsilon)} keeps only "
            f"{mass:.1%} of the Gaussian for sigma={sigma}; use a smaller epsilon "
            f"({gaussian_epsilon_for(sigma):g} or less keeps {WARN_KEPT_MASS:.0%})",
            TruncationWarning,
            stacklevel=2,
        )
    from imgtool.kernels import gaussian as kernels
    from imgtool.kernels._tables import border_index

    k = gaussian_kernel(sigma, epsilon)
    r = k.size // 2
    acc = np.float64 if src.dtype == np.float64 else np.float32
    half = np.ascontiguousarray(k[r:], dtype=acc)
    h, w = shape[0], shape[1]
    out = np.empty_like(src)
    kernels.separable_symmetric(
        src,
        channels,
        half,
        half,
        border_index(h, r, code),
        border_index(w, r, code),
        _cval_for(src.dtype, cval),
        _maxval(src.dtype),
        _blocks(4),
        out,
    )
    return out.reshape(shape)


def box(
    image: np.ndarray,
    size: int | tuple[int, int],
    *,
    border: str = "reflect101",
    cval: float = 0.0,
) -> np.ndarray:
    """Box (mean) filter over a ``size x size`` (or ``(h, w)``) window, by running and prefix sums.

    The cost per pixel does not grow with the window size; uint8 windows up to 9 pixels wide
    (and 256 pixels in all) are cheaper still, summed in 16-bit integers. Results do not
    depend on the number of threads. Integer images are summed exactly
    in integers and the mean is rounded to nearest, exactly (an odd window never gives a
    tie). ``cv2.blur`` scales its sums in floating point: on uint8 images the two agreed
    everywhere in our tests, on uint16 they may differ by 1 grey level.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W)`` or ``(H, W, C)``, uint8, uint16, float32 or float64.
    size : int or tuple of two ints
        Window side, or ``(height, width)``; odd and >= 1.
    border : str, optional
        One of :data:`BORDERS`.
    cval : float, optional
        The value beyond the edge for ``border="constant"``.

    Returns
    -------
    numpy.ndarray
        Same shape and dtype as ``image``. Float images are summed in float64.

    Raises
    ------
    InvalidParameterError
        If ``size`` is not odd and positive, or the border or image is not supported.

    Examples
    --------
    >>> import numpy as np
    >>> from imgtool.filters import box
    >>> img = np.zeros((5, 5), np.uint8)
    >>> img[2, 2] = 90
    >>> box(img, 3)[1:4, 1:4]
    array([[10, 10, 10],
           [10, 10, 10],
           [10, 10, 10]], dtype=uint8)
    >>> box(img, (1, 3))[2, 1:4]
    array([30, 30, 30], dtype=uint8)
    """
    sy, sx = _box_size(size)
    if sy * sx >= 2**20:
        raise InvalidParameterError(f"box: the window {sy} x {sx} is too large (2**20 pixels)")
    src, shape, channels = _prepare(image)
    code = _border_code(border)
    from imgtool.kernels import box as kernels
    from imgtool.kernels._tables import DIRECT_MAX, ROWS_FIRST_MAX, border_index, u16_division

    ry, rx = sy // 2, sx // 2
    # row blocks of a size set by the image, not the thread count, so that float results
    # (running sums restart at each block) do not depend on the number of threads
    nblocks = -(-shape[0] // max(256, 8 * sy))
    division = u16_division(sy * sx) if src.dtype == np.uint8 and sx <= DIRECT_MAX else None
    # what every box kernel takes first: the image, its border tables and the constant
    common = (src, channels, ry, rx, border_index(shape[0], ry, code),
              border_index(shape[1], rx, code), _cval_for(src.dtype, cval))
    out = np.empty_like(src)
    if division is not None:
        kernels.box_small_u8(*common, *division, nblocks, out)
    elif src.dtype == np.uint8 and DIRECT_MAX < sx <= ROWS_FIRST_MAX and sy <= ROWS_FIRST_MAX:
        kernels.box_rows_first_u8(*common, sy * sx < 16384, nblocks, out)
    else:
        if src.dtype.kind == "f":
            acc = np.float64
        else:
            largest = sy * sx * int(np.iinfo(src.dtype).max)
            acc = np.int32 if largest < 2**31 else np.int64
        kernels.box_sum_mean(*common, np.empty(0, acc),
                             src.dtype == np.uint8 and sy * sx < 16384, nblocks, out)
    return out.reshape(shape)


def laplacian(
    image: np.ndarray,
    *,
    neighbours: int = 4,
    border: str = "reflect101",
    cval: float = 0.0,
) -> np.ndarray:
    """Discrete Laplacian with the 4- or 8-neighbour 3x3 stencil.

    ``neighbours=4``: ``[[0, 1, 0], [1, -4, 1], [0, 1, 0]]`` (``cv2.Laplacian`` with
    ``ksize=1``); ``neighbours=8``: ``[[1, 1, 1], [1, -8, 1], [1, 1, 1]]``.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W)`` or ``(H, W, C)``, uint8, uint16, float32 or float64.
    neighbours : {4, 8}, optional
        Which stencil.
    border : str, optional
        One of :data:`BORDERS`.
    cval : float, optional
        The value beyond the edge for ``border="constant"``.

    Returns
    -------
    numpy.ndarray
        float32 (float64 for float64 input), same shape as ``image``, signed.

    Raises
    ------
    InvalidParameterError
        If ``neighbours`` is not 4 or 8, or the border or image is not supported.

    Examples
    --------
    >>> import numpy as np
    >>> from imgtool.filters import laplacian
    >>> img = np.zeros((3, 3), np.uint8)
    >>> img[1, 1] = 1
    >>> laplacian(img, border="constant")
    array([[ 0.,  1.,  0.],
           [ 1., -4.,  1.],
           [ 0.,  1.,  0.]], dtype=float32)
    """
    from imgtool.kernels import _tables as d

    if neighbours not in (4, 8) or isinstance(neighbours, bool):
        raise InvalidParameterError(f"laplacian: neighbours must be 4 or 8, not {neighbours!r}")
    op = d.LAPLACIAN4 if neighbours == 4 else d.LAPLACIAN8
    return _stencil(image, op, border, cval)[0]


def sobel(
    image: np.ndarray,
    *,
    border: str = "reflect101",
    cval: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The 3x3 Sobel derivatives along x (columns) and y (rows), unnormalised.

    ``gx`` correlates with ``[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]`` and ``gy`` with its
    transpose: the same values as ``cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3)`` and
    ``(0, 1)``.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W)`` or ``(H, W, C)``, uint8, uint16, float32 or float64.
    border : str, optional
        One of :data:`BORDERS`.
    cval : float, optional
        The value beyond the edge for ``border="constant"``.

    Returns
    -------
    gx, gy : numpy.ndarray
        float32 (float64 for float64 input), same shape as ``image``.

    Raises
    ------
    InvalidParameterError
        If the border or image is not supported.

    Examples
    --------
    >>> import numpy as np
    >>> from imgtool.filters import sobel
    >>> ramp = np.tile(np.arange(5, dtype=np.uint8) * 10, (4, 1))  # +10 per column
    >>> gx, gy = sobel(ramp)
    >>> gx[1:3, 1:4]
    array([[80., 80., 80.],
           [80., 80., 80.]], dtype=float32)
    >>> float(abs(gy).max())
    0.0
    """
    from imgtool.kernels import _tables as d

    gx, gy = _stencil(image, d.SOBEL, border, cval)
    return gx, gy


def gradient_magnitude(
    image: np.ndarray,
    *,
    norm: str = "l2",
    border: str = "reflect101",
    cval: float = 0.0,
) -> np.ndarray:
    """Norm of the Sobel gradient, computed in one pass (``gx``, ``gy`` are never stored).

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W)`` or ``(H, W, C)``, uint8, uint16, float32 or float64.
    norm : {"l2", "l1"}, optional
        ``sqrt(gx**2 + gy**2)`` or ``|gx| + |gy|``, with ``gx, gy`` as in :func:`sobel`.
    border : str, optional
        One of :data:`BORDERS`.
    cval : float, optional
        The value beyond the edge for ``border="constant"``.

    Returns
    -------
    numpy.ndarray
        float32 (float64 for float64 input), same shape as ``image``.

    Raises
    ------
    InvalidParameterError
        If ``norm`` is unknown, or the border or image is not supported.

    Examples
    --------
    >>> import numpy as np
    >>> from imgtool.filters import gradient_magnitude
    >>> img = np.zeros((5, 5), np.float32)
    >>> img[:, 3:] = 1  # a vertical step: gx = 4 next to it, gy = 0
    >>> gradient_magnitude(img)[2]
    array([0., 0., 4., 4., 0.], dtype=float32)
    """
    from imgtool.kernels import _tables as d

    if norm not in ("l2", "l1"):
        raise InvalidParameterError(f"gradient_magnitude: norm must be 'l2' or 'l1', not {norm!r}")
    op = d.MAGNITUDE_L2 if norm == "l2" else d.MAGNITUDE_L1
    return _stencil(image, op, border, cval)[0]


# --- validation and plumbing -------------------------------------------------------------


def _stencil(image, op, border, cval):
    from imgtool.kernels import derivatives
    from imgtool.kernels._tables import SOBEL, border_index

    src, shape, channels = _prepare(image)
    code = _border_code(border)
    ftype = np.float64 if src.dtype == np.float64 else np.float32
    out = np.empty(src.shape, ftype)
    out2 = np.empty(src.shape, ftype) if op == SOBEL else out
    derivatives.stencil3x3(
        src,
        channels,
        op,
        border_index(shape[0], 1, code),
        border_index(shape[1], 1, code),
        _cval_for(src.dtype, cval),
        _blocks(4),
        out,
        out2,
    )
    return out.reshape(shape), out2.reshape(shape)


def _prepare(image):
    """Check an image; return it as a C-contiguous (H, W * C) array, its shape and C."""
    if not isinstance(image, np.ndarray):
        raise InvalidParameterError(f"image must be a numpy array, not {type(image).__name__}")
    if image.ndim not in (2, 3):
        raise InvalidParameterError(
            f"image must be 2-D (H, W) or 3-D (H, W, C), not {image.ndim}-D {image.shape}"
        )
    if image.dtype not in _DTYPES:
        raise InvalidParameterError(
            f"image dtype must be uint8, uint16, float32 or float64, not {image.dtype}"
        )
    if image.size == 0:
        raise InvalidParameterError(f"image is empty (shape {image.shape})")
    channels = 1 if image.ndim == 2 else image.shape[2]
    src = np.ascontiguousarray(image).reshape(image.shape[0], image.shape[1] * channels)
    return src, image.shape, channels


def _border_code(border):
    if border not in BORDERS:
        raise InvalidParameterError(
            f"unknown border {border!r}; choose one of {', '.join(BORDERS)}"
        )
    return BORDERS.index(border)


def _check_sigma_epsilon(sigma, epsilon):
    try:
        sigma, epsilon = float(sigma), float(epsilon)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"sigma and epsilon must be numbers, not {sigma!r} and {epsilon!r}"
        ) from None
    if not (sigma > 0 and math.isfinite(sigma)):
        raise InvalidParameterError(f"sigma must be a finite number > 0, not {sigma}")
    if not 0 < epsilon < 1:
        raise InvalidParameterError(f"epsilon must be in (0, 1), not {epsilon}")
    return sigma, epsilon


def _box_size(size):
    sizes = size if isinstance(size, (tuple, list)) else (size, size)
    if len(sizes) != 2:
        raise InvalidParameterError(f"box: size must be an int or (height, width), not {size!r}")
    for s in sizes:
        if not isinstance(s, numbers.Integral) or isinstance(s, bool) or s < 1 or s % 2 == 0:
            raise InvalidParameterError(f"box: size must be odd and >= 1, not {size!r}")
    return int(sizes[0]), int(sizes[1])


def _blocks(per_thread):
    """How many row blocks a parallel kernel splits the image into."""
    return per_thread * threads()


def _maxval(dtype):
    return float(np.iinfo(dtype).max) if dtype.kind == "u" else 0.0


def _cval_for(dtype, cval):
    """``cval`` as a float, rounded and saturated to ``dtype``'s range for integer images."""
    try:
        value = float(cval)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"cval must be a number, not {cval!r}") from None
    if not math.isfinite(value):
        raise InvalidParameterError(f"cval must be finite, not {cval!r}")
    if dtype.kind == "u":
        value = min(max(math.floor(value + 0.5), 0), np.iinfo(dtype).max)
    return float(value)
