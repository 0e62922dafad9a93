"""Alert areas: the part of a protected area that a prediction's uncertainty region touches.

A warning names where people should act, so its area is the piece of the protected area
(:class:`mwx.geo.regions.ProtectedArea`) that the prediction justifies, not the whole country:

* impact: the 95 % impact ellipse with :data:`MARGIN_KM` added to both semi-axes
  (:func:`ellipse_polygon`), intersected with the area (:func:`clip`);
* overflight: the swath of the predicted ground path, the union of the impact ellipse carried
  back along the path (:func:`swath`), intersected with the territory.

Geometries are shapely (multi)polygons in lon/lat **degrees** (x = longitude), as in
:mod:`mwx.geo.regions`, so they can be written as CAP polygons (:func:`mwx.warn.cap.cap_polygons`).
Distances between geometries (:func:`distance_km`, :func:`distance_beyond_km`) are measured in
a local equirectangular plane (km), good to about 1 % over the few hundred km an alert spans.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
import shapely.ops
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from mwx.geo import wgs84
from mwx.geo.ellipse import geodesic_ellipse
from mwx.geo.lon import wrap_lon

__all__ = [
    "ELLIPSE_VERTICES",
    "KM_PER_DEG_LAT",
    "MARGIN_KM",
    "clip",
    "distance_beyond_km",
    "distance_km",
    "ellipse_polygon",
    "hull_of_points",
    "swath",
    "wrap_lon",
]

#: Margin [km] added around the region that justifies an alert: the sirens' and cell broadcast
#: cells' granularity (a few km) plus the error of the polygon approximations.  Small next to
#: the 100 km that an alert area may at most reach beyond its ellipse.
MARGIN_KM = 10.0
ELLIPSE_VERTICES = 36
KM_PER_DEG_LAT = math.pi * wgs84.A / 180.0 / 1e3  # at the equator; the 0.7 % flattening is below the margin


def ellipse_polygon(
    lat_deg: float, lon_deg: float, semi_major_km: float, semi_minor_km: float, orientation_deg: float
) -> BaseGeometry:
    """A polygon (lon/lat degrees) holding the ellipse with the given centre, semi-axes [km] and major-axis azimuth.

    The :data:`ELLIPSE_VERTICES` vertices are those of :func:`mwx.geo.ellipse.geodesic_ellipse` with
    ``circumscribed`` (the affine image of the polygon circumscribing a circle), so the polygon contains
    the ellipse; semi-axes under 1 m are taken as 1 m so the polygon has an area.  Longitudes stay
    continuous around the centre's (they may pass ±180; :func:`clip` handles that).
    """
    lat, lon = geodesic_ellipse(
        lat_deg,
        lon_deg,
        max(semi_major_km, 1e-3),
        max(semi_minor_km, 1e-3),
        orientation_deg,
        ELLIPSE_VERTICES,
        circumscribed=True,
    )
    return shapely.Polygon(np.column_stack([lon, lat]))


def clip(area: BaseGeometry, region: BaseGeometry) -> BaseGeometry:
    """The part of ``area`` (lon in [−180, 180]) inside ``region`` (lon may run past ±180).

    A region that straddles the antimeridian is intersected once more shifted by ∓360°, so the
    pieces of an area split at the seam (Aleutians, Fiji) are found on both sides.
    """
    min_x, _, max_x, _ = region.bounds
    parts = [shapely.intersection(area, region)]
    if max_x > 180.0:
        parts.append(shapely.intersection(area, shapely.affinity.translate(region, xoff=-360.0)))
    if min_x < -180.0:
        parts.append(shapely.intersection(area, shapely.affinity.translate(region, xoff=360.0)))
    return shapely.union_all(parts) if len(parts) > 1 else parts[0]


def hull_of_points(lat_deg: NDArray, lon_deg: NDArray, margin_km: float = MARGIN_KM) -> BaseGeometry:
    """The convex hull of points [deg] grown by ``margin_km`` (lon continuous around the first point)."""
    if len(lat_deg) == 0:
        return shapely.Polygon()
    lon = wrap_lon(lon_deg, center=float(lon_deg[0]))
    hull = shapely.MultiPoint(np.column_stack([lon, lat_deg])).convex_hull
    # Buffered in degrees of latitude: a longitude degree is shorter, so the margin is never smaller.
    return hull.buffer(margin_km / KM_PER_DEG_LAT, quad_segs=4)


def swath(
    path_lat_deg: NDArray,
    path_lon_deg: NDArray,
    weight: NDArray,
    cov_km2: NDArray,
    ref_lat_deg: float,
    *,
    chi2: float,
    margin_km: float = MARGIN_KM,
) -> BaseGeometry:
    """The swath of a predicted ground path: the union over its points of the impact ellipse scaled by ``weight``.

    The impact samples' ground paths are modelled as the mean path displaced by ``weight`` (0 now,
    1 at impact: the share of the path's ground length flown) times each sample's impact offset
    (see :mod:`mwx.warn.rules`); so at path point k the samples spread as the impact spread scaled
    by weight[k], and their ``chi2`` ellipse there is the impact one scaled.  ``cov_km2`` is that
    impact-offset covariance (2, 2) [km²], east scaled by cos(``ref_lat_deg``), north; ``margin_km``
    is added to both semi-axes.  Consecutive ellipses are joined by their convex hulls.
    Points (k,) in degrees; the result in lon/lat degrees, lon continuous along the path.
    """
    vals, vecs = np.linalg.eigh(np.asarray(cov_km2, float) * chi2)
    axes = np.sqrt(np.maximum(vals, 0.0))  # minor, major [km]
    phi = 2.0 * np.pi * np.arange(16) / 16
    circle = np.stack([np.cos(phi), np.sin(phi)]) / math.cos(math.pi / 16)  # circumscribing 16-gon
    semi = weight[:, None] * axes[None, :] + margin_km  # (k, 2)
    # Vertices (k, 16, 2) as east/north km in the eigenbasis, then rotated.
    local = np.einsum("ij,kjv->kvi", vecs, semi[:, :, None] * circle[None, :, :])
    scale_lon = KM_PER_DEG_LAT * max(math.cos(math.radians(ref_lat_deg)), 1e-6)
    lon = wrap_lon(path_lon_deg, center=float(path_lon_deg[0]))
    x = lon[:, None] + local[..., 0] / scale_lon
    y = path_lat_deg[:, None] + local[..., 1] / KM_PER_DEG_LAT
    pts = np.stack([x, y], axis=-1)  # (k, 16, 2)
    if len(pts) == 1:
        return shapely.Polygon(pts[0])
    pairs = np.concatenate([pts[:-1], pts[1:]], axis=1)  # (k-1, 32, 2)
    return shapely.union_all(shapely.convex_hull(shapely.multipoints(pairs)))


def _to_km(geometry: BaseGeometry, lat0: float, lon0: float) -> BaseGeometry:
    """``geometry`` (lon/lat deg) in a local equirectangular plane [km] about (lat0, lon0)."""
    c = math.cos(math.radians(lat0))

    def project(xy: NDArray) -> NDArray:
        return np.column_stack([wrap_lon(xy[:, 0] - lon0) * c * KM_PER_DEG_LAT, (xy[:, 1] - lat0) * KM_PER_DEG_LAT])

    return shapely.transform(geometry, project)


def _reference(*geometries: BaseGeometry) -> tuple[float, float]:
    """A reference point (lat, lon deg) for projecting the geometries: the first non-empty one's centroid."""
    for g in geometries:
        if not g.is_empty:
            c = g.centroid
            return float(c.y), float(c.x)
    return 0.0, 0.0


def distance_km(geometry: BaseGeometry, region: BaseGeometry) -> float:
    """Least distance [km] between ``geometry`` and ``region`` (both lon/lat deg); 0 where they meet.

    Measured in the plane about the nearest point of ``region`` (either side of the antimeridian: a
    geometry given with longitudes beyond ±180° is tried shifted by a turn).  ``inf`` when either is empty.
    """
    if geometry.is_empty or region.is_empty:
        return math.inf
    best = math.inf
    for turn in (0.0, -360.0, 360.0):
        shifted = shapely.affinity.translate(geometry, xoff=turn)
        near = shapely.ops.nearest_points(region, shifted)[0]
        g, r = _to_km(shifted, near.y, near.x), _to_km(region, near.y, near.x)
        best = min(best, float(shapely.distance(g, r)))
    return best


def distance_beyond_km(geometry: BaseGeometry, region: BaseGeometry) -> float:
    """How far [km] ``geometry`` reaches outside ``region`` (both lon/lat deg): its farthest point's distance.

    0 when ``geometry`` lies inside ``region`` or is empty.
    """
    if geometry.is_empty:
        return 0.0
    lat0, lon0 = _reference(region, geometry)
    g, r = _to_km(geometry, lat0, lon0), _to_km(region, lat0, lon0)
    outside = shapely.difference(g, r)
    if outside.is_empty:
        return 0.0
    # The farthest point of a polygon from a convex-ish region is one of its vertices; densify the
    # edges so long straight edges are sampled too.
    xy = shapely.get_coordinates(shapely.segmentize(outside, 1.0))
    return float(np.max(shapely.distance(r, shapely.points(xy))))
