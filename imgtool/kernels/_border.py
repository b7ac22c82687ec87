"""Border filling shared by the filter kernels.

The index tables come from :func:`imgtool.kernels._tables.border_index`; a kernel reads a
padded row and :func:`fill_row_border` fills its halo from the table.
"""

from __future__ import annotations

from imgtool.kernels._jit import kernel


@kernel
def fill_row_border(buf, r, channels, colidx, cval):
    """Fill the ``r`` border pixels on each side of a padded row ``buf`` in place.

    ``buf`` holds ``(W + 2r) * channels`` values, the row itself at offset ``r * channels``;
    ``colidx`` is ``border_index(W, r, mode)``.
    """
    n = colidx.size
    for i in range(r):
        for side in range(2):
            p = i if side == 0 else n - 1 - i
            src = colidx[p]
            for c in range(channels):
                if src < 0:
                    buf[p * channels + c] = cval
                else:
                    buf[p * channels + c] = buf[(src + r) * channels + c]
