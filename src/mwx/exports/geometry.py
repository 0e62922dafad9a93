"""Geometry for the exports: lines and polygons cut at the antimeridian (RFC 7946 §3.1.9) and the 95 % ellipse.

Every output longitude is in [-180, 180] and no segment spans more than 180° of longitude: a line or polygon
that crosses ±180° is cut there into parts that end on the seam (a line into a MultiLineString, a polygon
into a MultiPolygon), so that GIS tools (QGIS, GDAL, Google Earth) draw it the short way round.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from mwx import records
from mwx.geo.ellipse import geodesic_ellipse
from mwx.geo.lon import wrap_lon

#: Coordinates are kept to 1e-6 degree (about 0.1 m), the precision RFC 7946 §11.2 suggests.
DEGREE_GRID = 1e-6
#: Points on a 95 % ellipse's outline.
ELLIPSE_POINTS = 72
#: Smallest semi-axis drawn [km]: a degenerate ellipse is drawn as a 10 m one, so it still has an area.
MIN_SEMI_AXIS_KM = 0.01

Coord = tuple[float, ...]


def split_line(points: Iterable[Sequence[float]]) -> list[list[Coord]]:
    """A line of (lon, lat[, more...]) points cut where it crosses the antimeridian.

    Longitudes are wrapped into [-180, 180]; a step of more than 180° of longitude between two points is
    taken as the short way across ±180°, and the line ends on the seam at the interpolated latitude (and any
    further coordinate, e.g. height) and goes on from the other side.  Parts of fewer than two distinct points
    are dropped.
    """
    parts: list[list[Coord]] = []
    current: list[Coord] = []
    prev: Coord | None = None
    for p in points:
        q: Coord = (wrap_lon(float(p[0])), *(float(v) for v in p[1:]))
        if prev is not None:
            step = q[0] - prev[0]
            if abs(step) > 180.0:
                seam = -180.0 if step > 180.0 else 180.0
                unwrapped = q[0] - 360.0 if step > 180.0 else q[0] + 360.0
                f = (seam - prev[0]) / (unwrapped - prev[0])
                rest = tuple(a + f * (b - a) for a, b in zip(prev[1:], q[1:], strict=True))
                current.append((seam, *rest))
                parts.append(current)
                current = [(-seam, *rest)]
        current.append(q)
        prev = q
    parts.append(current)
    out = []
    for part in parts:
        kept = [c for i, c in enumerate(part) if i == 0 or c != part[i - 1]]
        if len(kept) >= 2:
            out.append(kept)
    return out


def unwrap_ring(ring: Sequence[Sequence[float]]) -> np.ndarray:
    """A ring's (lon, lat) rows with longitudes made continuous (each within 180° of the one before), the first
    longitude wrapped into [-180, 180)."""
    xy = np.asarray(ring, float)[:, :2].copy()
    if len(xy) == 0:
        return xy
    lon = wrap_lon(xy[:, 0])
    xy[:, 0] = lon[0] + np.concatenate([[0.0], np.cumsum(wrap_lon(np.diff(lon)))])
    return xy


def split_polygons(rings: Iterable[Sequence[Sequence[float]]]) -> BaseGeometry:
    """The union of polygons, each given by its outer ring of (lon, lat) [deg], cut at the antimeridian.

    Each ring is unwrapped (:func:`unwrap_ring`), cut by the boxes [-540, -180], [-180, 180] and [180, 540]
    and the pieces moved back into [-180, 180]; the result is valid, its exteriors counter-clockwise (RFC 7946
    right-hand rule), snapped to :data:`DEGREE_GRID`.  An empty geometry if no ring has an area.
    """
    pieces: list[BaseGeometry] = []
    for ring in rings:
        xy = unwrap_ring(ring)
        if len(xy) < 3:
            continue
        polygon = shapely.make_valid(Polygon(xy))
        for k in (-1, 0, 1):
            part = shapely.intersection(polygon, box(-180.0 + 360.0 * k, -90.0, 180.0 + 360.0 * k, 90.0))
            if not part.is_empty:
                pieces.append(shapely.affinity.translate(part, xoff=-360.0 * k))
    areas = [g for piece in pieces for g in _polygons(piece)]
    if not areas:
        return Polygon()
    merged = shapely.set_precision(shapely.union_all(areas), DEGREE_GRID)
    parts = [orient(p, sign=1.0) for p in _polygons(merged)]
    if not parts:
        return Polygon()
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def _polygons(geometry: BaseGeometry) -> list[Polygon]:
    """The polygons with an area inside any geometry (a collection's lines and points left out)."""
    if isinstance(geometry, Polygon):
        return [geometry] if geometry.area > 0.0 else []
    return [p for g in getattr(geometry, "geoms", []) for p in _polygons(g)]


def ellipse_ring(center: records.Point, ellipse: records.Ellipse95) -> list[tuple[float, float]]:
    """The closed (lon, lat) ring [deg] of a 95 % ellipse on the WGS-84 ellipsoid (:func:`mwx.geo.ellipse.
    geodesic_ellipse`: each vertex at its tangent-plane distance and direction from the centre along the
    geodesic), longitudes continuous around the centre's (they may pass ±180: cut with :func:`split_polygons`)."""
    lat, lon = geodesic_ellipse(
        center.lat,
        center.lon,
        max(ellipse.semi_major_km, MIN_SEMI_AXIS_KM),
        max(ellipse.semi_minor_km, MIN_SEMI_AXIS_KM),
        ellipse.orientation_deg,
        ELLIPSE_POINTS,
        closed=True,
    )
    return list(zip(lon.tolist(), lat.tolist(), strict=True))


def ellipse_geometry(center: records.Point, ellipse: records.Ellipse95) -> BaseGeometry:
    """A 95 % ellipse as a polygon (or multipolygon across the antimeridian) with longitudes in [-180, 180]."""
    return split_polygons([ellipse_ring(center, ellipse)])


def rings_of(geometry: BaseGeometry) -> list[list[tuple[float, float]]]:
    """The exterior rings of a polygon or multipolygon, as (lon, lat) lists (for KML and CZML)."""
    return [[(float(x), float(y)) for x, y in p.exterior.coords] for p in _polygons(geometry)]
