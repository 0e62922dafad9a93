"""Longitudes: the one place where a longitude is wrapped into a 360° window.

Every part of mwx that puts a longitude into a range (the run folder's [-180, 180), a map's window
around its centre, an area's polygon continuous around a point) calls :func:`wrap_lon`; azimuths and
other angles are not longitudes and are not wrapped here.
"""

from __future__ import annotations

from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["wrap_lon"]


@overload
def wrap_lon(lon_deg: float, center: float = 0.0) -> float: ...
@overload
def wrap_lon(lon_deg: ArrayLike, center: ArrayLike = 0.0) -> NDArray[np.float64]: ...
def wrap_lon(lon_deg: ArrayLike, center: ArrayLike = 0.0) -> float | NDArray[np.float64]:
    """Longitudes [deg] shifted by whole turns (360°) into ``[center - 180, center + 180)``.

    The same meridian, written in the window centred on ``center`` [deg]: ``wrap_lon(190.0)`` is
    ``-170.0``, ``wrap_lon(-170.0, center=180.0)`` is ``190.0`` (a path across the antimeridian kept
    continuous around 180°).  A number (``int``, ``float``, ``numpy.float64``) gives a ``float``;
    anything else (a list, an array) an array of float64 of its shape.  NaN stays NaN.  Wrapping twice changes
    nothing; a result that rounding would put on the open upper edge is moved to the lower one.  ``center`` may
    be an array that broadcasts with ``lon_deg`` (each longitude around its own centre).
    """
    scalar = isinstance(lon_deg, (int, float))
    lon = np.asarray(lon_deg, dtype=np.float64)
    center = np.asarray(center, dtype=np.float64)
    shifted = np.mod(lon - center + 180.0, 360.0)
    shifted = np.where(shifted >= 360.0, shifted - 360.0, shifted)  # np.mod of a tiny negative rounds up to 360
    out = shifted - 180.0 + center
    out = np.where(out >= center + 180.0, out - 360.0, out)
    out = np.where(out < center - 180.0, out + 360.0, out)
    return float(out) if scalar else out
