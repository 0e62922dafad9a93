"""The geodesic ellipse: the one outline of an error ellipse on the WGS-84 ellipsoid.

A 95 % ellipse (impact, launch point) is stated by its centre, its semi-axes [km] and the azimuth of its
major axis (degrees clockwise from north; :class:`mwx.records.Ellipse95`).  :func:`geodesic_ellipse` turns
that into points on the ground for a map, an alert area or a CAP ``<polygon>``: each point of the ellipse
drawn in the centre's tangent plane is carried to the ground along the geodesic from the centre, in its
direction (azimuth) and at its distance from the centre.  So every vertex lies exactly at the ellipse's
distance from the centre in its direction, however large the ellipse, and the outline is right on both
sides of the antimeridian and near the poles (pyproj's ``Geod.fwd``, Karney's algorithm).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from pyproj import Geod

from mwx.geo.lon import wrap_lon

__all__ = ["geodesic_ellipse", "tangent_offsets"]

_GEOD = Geod(ellps="WGS84")


def tangent_offsets(
    semi_major_km: float,
    semi_minor_km: float,
    orientation_deg: float,
    n: int,
    *,
    circumscribed: bool = False,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """East and north offsets [km] of ``n`` points of the ellipse in the tangent plane at its centre.

    The points are at parametric angles 2πk/n (k = 0 … n-1; k = 0 is the end of the major axis in the
    direction ``orientation_deg``; the minor axis is 90° clockwise of it).  With ``circumscribed`` the
    points are scaled by 1/cos(π/n): the affine image of the n-gon circumscribing a circle, so the polygon
    through them contains the ellipse instead of cutting its edges.
    """
    if n < 3:
        raise ValueError(f"an ellipse needs at least 3 points, got {n}")
    for name, value in (("semi_major_km", semi_major_km), ("semi_minor_km", semi_minor_km)):
        if not (math.isfinite(value) and value >= 0.0):
            raise ValueError(f"{name} must be finite and >= 0, got {value}")
    phi = 2.0 * np.pi * np.arange(n) / n
    scale = 1.0 / math.cos(math.pi / n) if circumscribed else 1.0
    along = semi_major_km * scale * np.cos(phi)
    across = semi_minor_km * scale * np.sin(phi)
    theta = math.radians(orientation_deg)
    east = along * math.sin(theta) + across * math.cos(theta)
    north = along * math.cos(theta) - across * math.sin(theta)
    return east, north


def geodesic_ellipse(
    lat_deg: float,
    lon_deg: float,
    semi_major_km: float,
    semi_minor_km: float,
    orientation_deg: float,
    n: int = 72,
    *,
    closed: bool = False,
    circumscribed: bool = False,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Latitudes and longitudes [deg] of ``n`` points of an ellipse on the WGS-84 ellipsoid.

    The ellipse is centred on (``lat_deg``, ``lon_deg``) [deg] with semi-axes ``semi_major_km`` and
    ``semi_minor_km`` [km] and its major axis at azimuth ``orientation_deg`` [deg clockwise from north].
    Point k is the tangent-plane point at parametric angle 2πk/n (:func:`tangent_offsets`, k = 0 at the
    major axis' end along ``orientation_deg``, going clockwise seen from above), placed on the ellipsoid
    at geodesic distance ``hypot(east, north)`` from the centre along the azimuth
    ``atan2(east, north)``.  ``closed`` repeats the first point at the end (n + 1 points, a ring to
    draw); ``circumscribed`` scales the points by 1/cos(π/n) so the polygon holds the whole ellipse (an
    alert area, a CAP polygon).  Longitudes are continuous around the centre's: in
    ``[lon_deg - 180, lon_deg + 180)`` (so they may pass ±180; wrap them with
    :func:`mwx.geo.lon.wrap_lon` to write them out).  Semi-axes of 0 give the centre repeated.
    """
    east, north = tangent_offsets(semi_major_km, semi_minor_km, orientation_deg, n, circumscribed=circumscribed)
    if closed:
        east, north = np.r_[east, east[:1]], np.r_[north, north[:1]]
    m = east.size
    azimuth = np.degrees(np.arctan2(east, north))
    distance_m = np.hypot(east, north) * 1e3
    lon, lat, _ = _GEOD.fwd(np.full(m, float(lon_deg)), np.full(m, float(lat_deg)), azimuth, distance_m)
    return np.asarray(lat, np.float64), wrap_lon(np.asarray(lon, np.float64), center=float(lon_deg))
