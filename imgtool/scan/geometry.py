"""The corner geometry's public functions under their former module name.

They live by idea now: :func:`~imgtool.scan.quad.order_corners` in :mod:`imgtool.scan.quad`,
:func:`~imgtool.scan.refine.refine_corners` in :mod:`imgtool.scan.refine` and
:func:`~imgtool.scan.warp.warp_page` in :mod:`imgtool.scan.warp`. This module only keeps
``from imgtool.scan.geometry import ...`` working; nothing inside :mod:`imgtool.scan` uses it.
"""

from imgtool.scan.quad import order_corners
from imgtool.scan.refine import refine_corners
from imgtool.scan.warp import warp_page

__all__ = ["order_corners", "refine_corners", "warp_page"]
