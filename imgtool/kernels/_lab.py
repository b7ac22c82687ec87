"""CIELAB colour-opponent planes (a*, b*) of an 8-bit BGR image, for the page detector.

The formulas are those of the CIELAB definition (and of OpenCV's ``COLOR_BGR2Lab``): sRGB
values are linearised, turned into CIE XYZ with the sRGB (D65) matrix, divided by the white
point, and ``a* = 500 (f(X) - f(Y))``, ``b* = 200 (f(Y) - f(Z))`` with ``f(t) = t^(1/3)``
above ``(6/29)^3`` and ``t / (3 (6/29)^2) + 4/29`` below. As in OpenCV's 8-bit output, each
value is offset by 128, but not rounded to whole levels.

``f`` is read from a table (:func:`imgtool.kernels._tables.lab_tables`) with linear
interpolation: a cube root per value cost ten times more than all the rest. Over all 8-bit
colours the result is within 0.005 units of scikit-image's ``rgb2lab``
(``tests/test_kernels_lab.py``). OpenCV's own 8-bit conversion differs from it by up to 2.7
units (it interpolates in a coarser table and rounds), and builds its tables the first time a
process converts an image to CIELAB, about 70 ms: a third of a one-shot ``imgtool scan``'s
extra time over a plain OpenCV script. These tables take a fraction of a millisecond.
"""

from __future__ import annotations

from numba import prange

from imgtool.kernels._jit import kernel
from imgtool.kernels._tables import LAB_TABLE_STEPS, LAB_TABLE_TOP

#: sRGB (D65) to XYZ, each row divided by the white point's component.
_XN, _ZN = 0.950456, 1.088754
_M = (
    (0.412453 / _XN, 0.357580 / _XN, 0.180423 / _XN),
    (0.212671, 0.715160, 0.072169),
    (0.019334 / _ZN, 0.119193 / _ZN, 0.950227 / _ZN),
)


@kernel
def _f(table, t):
    u = min(max(t, 0.0), LAB_TABLE_TOP) * LAB_TABLE_STEPS
    i = int(u)
    return table[i] + (u - i) * (table[i + 1] - table[i])


@kernel(parallel=True)
def lab_ab_u8(bgr, linear, table, gain, out):
    """Write ``gain`` times a* + 128 and b* + 128 of ``bgr`` (H, W, 3) into ``out[1]`` and
    ``out[2]`` (``out`` is (3, H, W) float32; ``out[0]`` is left alone). ``linear`` and
    ``table`` come from :func:`imgtool.kernels._tables.lab_tables`."""
    h, w = bgr.shape[0], bgr.shape[1]
    m00, m01, m02 = _M[0]
    m10, m11, m12 = _M[1]
    m20, m21, m22 = _M[2]
    for y in prange(h):
        row = bgr[y]
        oa = out[1, y]
        ob = out[2, y]
        for x in range(w):
            b = linear[row[x, 0]]
            g = linear[row[x, 1]]
            r = linear[row[x, 2]]
            fx = _f(table, m00 * r + m01 * g + m02 * b)
            fy = _f(table, m10 * r + m11 * g + m12 * b)
            fz = _f(table, m20 * r + m21 * g + m22 * b)
            oa[x] = (500.0 * (fx - fy) + 128.0) * gain
            ob[x] = (200.0 * (fy - fz) + 128.0) * gain
