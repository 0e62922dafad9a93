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
from numpy.typing import ArrayLike, NDArray
from pyproj import Geod

from mwx.geo.lon import wrap_lon

__all__ = ["geodesic_ellipse", "tangent_offsets"]

_GEOD = Geod(ellps="WGS84")


def tangent_offsets(
    semi_major_km: ArrayLike,
    semi_minor_km: ArrayLike,
    orientation_deg: ArrayLike,
    n: int,
    *,
    circumscribed: bool = False,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """East and north offsets [km] of ``n`` points of the ellipse in the tangent plane at its centre.

    The points are at parametric angles 2πk/n (k = 0 … n-1; k = 0 is the end of the major axis in the
    direction ``orientation_deg``; the minor axis is 90° clockwise of it).  With ``circumscribed`` the
    points are scaled by 1/cos(π/n): the affine image of the n-gon circumscribing a circle, so the polygon
    through them contains the ellipse instead of cutting its edges.  Scalar or batch: the arguments
    broadcast to a batch shape B and the offsets have shape B + (n,).
    """
    if n < 3:
        raise ValueError(f"an ellipse needs at least 3 points, got {n}")
    a, b = np.asarray(semi_major_km, np.float64), np.asarray(semi_minor_km, np.float64)
    for name, value in (("semi_major_km", a), ("semi_minor_km", b)):
        if not (np.isfinite(value) & (value >= 0.0)).all():
            raise ValueError(f"{name} must be finite and >= 0, got {value}")
    phi = 2.0 * np.pi * np.arange(n) / n
    scale = 1.0 / math.cos(math.pi / n) if circumscribed else 1.0
    along = a[..., None] * scale * np.cos(phi)
    across = b[..., None] * scale * np.sin(phi)
    theta = np.radians(np.asarray(orientation_deg, np.float64))[..., None]
    east = along * np.sin(theta) + across * np.cos(theta)
    north = along * np.cos(theta) - across * np.sin(theta)
    return east, north


def geodesic_ellipse(
    lat_deg: ArrayLike,
    lon_deg: ArrayLike,
    semi_major_km: ArrayLike,
    semi_minor_km: ArrayLike,
    orientation_deg: ArrayLike,
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
    :func:`mwx.geo.lon.wrap_lon` to write them out).  Semi-axes of 0 give the centre repeated.  Scalar or
    batch: the arguments broadcast to a batch shape B (one geodesic call for all) and the results have
    shape B + (n,) (n + 1 if ``closed``).
    """
    east, north = tangent_offsets(semi_major_km, semi_minor_km, orientation_deg, n, circumscribed=circumscribed)
    if closed:
        east = np.concatenate([east, east[..., :1]], axis=-1)
        north = np.concatenate([north, north[..., :1]], axis=-1)
    lat0 = np.asarray(lat_deg, np.float64)[..., None]
    lon0 = np.asarray(lon_deg, np.float64)[..., None]
    shape = np.broadcast_shapes(east.shape, lat0.shape, lon0.shape)
    azimuth = np.degrees(np.arctan2(east, north))
    distance_m = np.hypot(east, north) * 1e3
    lon, lat, _ = _GEOD.fwd(
        np.broadcast_to(lon0, shape).ravel(),
        np.broadcast_to(lat0, shape).ravel(),
        np.broadcast_to(azimuth, shape).ravel(),
        np.broadcast_to(distance_m, shape).ravel(),
    )
    center = np.broadcast_to(lon0, shape)
    lon_out = wrap_lon(np.asarray(lon, np.float64).reshape(shape), center=center)
    return np.asarray(lat, np.float64).reshape(shape), lon_out
