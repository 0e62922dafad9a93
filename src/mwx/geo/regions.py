"""Protected areas (partner territory and approximate EEZ) of a theater.

Geometry ships as GeoJSON in ``mwx/data/regions/`` (derived from Natural Earth,
public domain, by ``scripts/derive_regions.py``). Everything at this edge is in
WGS-84 geodetic **degrees**: latitude in [-90, 90], longitude east-positive.

Conventions of the shipped data (see the script for details):

* Geometries are split at the antimeridian, so every longitude lies in
  [-180, 180]; query longitudes are wrapped into [-180, 180) before testing.
* Points on an area's boundary count as inside (closed sets). That is what makes
  the +/-180 seam seamless: a point at exactly lon -180 lies on the seam edge of
  the piece that continues east of it.
* ``kind == "eez"`` is an APPROXIMATION: the 200 nmi (370.4 km) geodesic buffer of
  the partner's territory, minus other countries' land, plus the territory
  itself, split along the median (equidistance) line where two partners' buffers
  overlap, so partners' zones never overlap (``docs/theater.md``, "Where two
  partners' zones meet").  Other countries' claims and agreed boundaries are not
  modelled.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from mwx.errors import InputError
from mwx.geo.lon import wrap_lon

__all__ = [
    "ProtectedArea",
    "UnknownTheaterError",
    "available_theaters",
    "contains",
    "load_areas",
    "path_crossings",
    "world_land_outlines",
]

KINDS = ("territory", "eez")
_LAND_FILE = "world-land-110m.geojson"
_THEATER_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
# bisection steps when locating a boundary crossing between two samples;
# 2**-40 of a sample interval is far below any meaningful time resolution
_BISECT_STEPS = 40


class UnknownTheaterError(InputError, ValueError):
    """No region data ships for the requested theater.

    Derives from ``ValueError`` as well as mwx's ``InputError`` so callers can
    catch it either way.
    """


@dataclass(frozen=True)
class ProtectedArea:
    """One protected area of a partner.

    ``geometry`` is a (multi)polygon in lon/lat **degrees** (WGS-84), x = longitude
    in [-180, 180], y = latitude; it is prepared for fast point tests.
    """

    partner: str  # "JP", "KR", "US"
    kind: str  # "territory" or "eez"
    name: str
    geometry: BaseGeometry


def _regions_dir() -> Traversable:
    # importlib.resources finds the data both in a source tree and when installed
    return resources.files("mwx").joinpath("data", "regions")


def available_theaters() -> tuple[str, ...]:
    """Names of the theaters for which region data ships, sorted."""
    names = (
        entry.name.removesuffix(".geojson")
        for entry in _regions_dir().iterdir()
        if entry.name.endswith(".geojson") and entry.name != _LAND_FILE
    )
    return tuple(sorted(names))


def _read_json(name: str) -> dict[str, Any]:
    return json.loads(_regions_dir().joinpath(name).read_text(encoding="utf-8"))


def load_areas(theater: str = "korea-japan") -> tuple[ProtectedArea, ...]:
    """All protected areas of ``theater``, in file order (cached; do not mutate).

    Raises :class:`UnknownTheaterError` (a ``ValueError``) naming the theater if
    no region data ships for it.
    """
    # cache on the plain name so load_areas() and load_areas("korea-japan") share it
    return _load_areas(theater)


@functools.cache
def _load_areas(theater: str) -> tuple[ProtectedArea, ...]:
    known = available_theaters()
    if not _THEATER_RE.fullmatch(theater) or theater not in known:
        raise UnknownTheaterError(
            f"unknown theater {theater!r} for protected areas; available: {', '.join(known) or '(none)'}"
        )
    data = _read_json(f"{theater}.geojson")
    areas = []
    for i, feature in enumerate(data["features"]):
        props = feature["properties"]
        if props.get("kind") not in KINDS:
            raise ValueError(f"{theater}.geojson feature {i}: bad kind {props.get('kind')!r}")
        geom = shape(feature["geometry"])
        shapely.prepare(geom)
        areas.append(
            ProtectedArea(
                partner=str(props["partner"]),
                kind=str(props["kind"]),
                name=str(props["name"]),
                geometry=geom,
            )
        )
    return tuple(areas)


def _points(lat_deg: ArrayLike, lon_deg: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Flattened (lat, lon) degrees with lon wrapped to [-180, 180)."""
    lat, lon = np.broadcast_arrays(np.asarray(lat_deg, dtype=float), np.asarray(lon_deg, dtype=float))
    lat = lat.ravel()
    lon = wrap_lon(lon.ravel())
    return lat, lon


def contains(areas: Sequence[ProtectedArea], lat_deg: ArrayLike, lon_deg: ArrayLike) -> np.ndarray:
    """Which areas contain which points.

    ``lat_deg``/``lon_deg`` are geodetic degrees, broadcast together and
    flattened to n points; longitudes may be in any range (wrapped to
    [-180, 180)). Returns a bool array of shape ``(len(areas), n)``. Boundary
    points count as inside; NaN coordinates are never inside.
    """
    lat, lon = _points(lat_deg, lon_deg)
    out = np.zeros((len(areas), lat.size), dtype=bool)
    for k, area in enumerate(areas):
        # intersects_xy (not contains_xy) so the closed boundary is inside: keeps
        # points on the +/-180 seam inside the split pieces
        out[k] = shapely.intersects_xy(area.geometry, lon, lat)
    return out


def path_crossings(
    areas: Sequence[ProtectedArea], t: ArrayLike, lat_deg: ArrayLike, lon_deg: ArrayLike
) -> list[tuple[ProtectedArea, float, float]]:
    """Intervals during which a sampled ground path is inside each area.

    ``t`` are sample times in seconds (non-decreasing), ``lat_deg``/``lon_deg``
    the ground-track positions in degrees, all 1-D of equal length. Returns
    ``(area, t_enter_s, t_exit_s)`` tuples sorted by entry time (then exit time,
    then area order). Between samples the path is taken as linear in time, lat
    and (shortest-way) lon, and boundary crossings are located by bisection;
    a path inside at its first/last sample enters/exits at ``t[0]``/``t[-1]``.
    Excursions shorter than the sample spacing can be missed.
    """
    tt = np.asarray(t, dtype=float)
    lat = np.asarray(lat_deg, dtype=float)
    lon = np.asarray(lon_deg, dtype=float)
    if tt.ndim != 1 or lat.shape != tt.shape or lon.shape != tt.shape:
        raise ValueError(
            f"t, lat_deg, lon_deg must be 1-D of equal length, got shapes {tt.shape}, {lat.shape}, {lon.shape}"
        )
    if tt.size == 0 or not areas:
        return []
    if np.any(np.diff(tt) < 0):
        raise ValueError("t must be non-decreasing")

    inside = contains(areas, lat, lon)
    n = tt.size
    # runs of True per area: +1 where a run starts, -1 one past where it ends
    edges = np.diff(np.pad(inside.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    run_area, run_start = np.nonzero(edges == 1)
    _, run_stop = np.nonzero(edges == -1)  # same row-major order as the starts
    run_end = run_stop - 1  # last inside sample

    t_enter = tt[run_start].copy()
    t_exit = tt[run_end].copy()
    # refine entries that happened between samples (outside at i-1, inside at i)
    sel = run_start > 0
    if np.any(sel):
        i = run_start[sel]
        t_enter[sel] = _boundary_time(areas, run_area[sel], tt, lat, lon, i - 1, i)
    sel = run_end < n - 1
    if np.any(sel):
        i = run_end[sel]
        t_exit[sel] = _boundary_time(areas, run_area[sel], tt, lat, lon, i + 1, i)

    order = np.lexsort((run_area, t_exit, t_enter))
    return [(areas[run_area[j]], float(t_enter[j]), float(t_exit[j])) for j in order]


def _boundary_time(
    areas: Sequence[ProtectedArea],
    area_idx: np.ndarray,
    t: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    i_out: np.ndarray,
    i_in: np.ndarray,
) -> np.ndarray:
    """Time (s) where the segment from sample i_out (outside) to i_in (inside) enters."""
    geoms = np.array([areas[k].geometry for k in area_idx], dtype=object)
    dlon = wrap_lon(lon[i_in] - lon[i_out])  # shortest way round
    lo = np.zeros(area_idx.size)  # fraction from the outside sample: known outside
    hi = np.ones(area_idx.size)  # known inside
    for _ in range(_BISECT_STEPS):
        mid = 0.5 * (lo + hi)
        y = lat[i_out] + mid * (lat[i_in] - lat[i_out])
        x = wrap_lon(lon[i_out] + mid * dlon)
        hit = shapely.intersects_xy(geoms, x, y)
        hi = np.where(hit, mid, hi)
        lo = np.where(hit, lo, mid)
    return t[i_out] + 0.5 * (lo + hi) * (t[i_in] - t[i_out])


@functools.lru_cache(maxsize=1)
def _land_rings() -> tuple[np.ndarray, ...]:
    geom = shape(_read_json(_LAND_FILE)["features"][0]["geometry"])
    rings = []
    for poly in getattr(geom, "geoms", [geom]):
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords, dtype=float)[:, :2]
            xy.flags.writeable = False  # shared by every caller through the cache
            rings.append(xy)
    return tuple(rings)


def world_land_outlines() -> list[np.ndarray]:
    """Closed world land rings (Natural Earth 1:110m) for drawing a map background.

    Each array has shape (n, 2) with columns lon, lat in degrees, lon in
    [-180, 180]; rings are split at the antimeridian (and Antarctica is closed
    along the +/-180 meridians and the pole). The arrays are read-only.
    """
    return list(_land_rings())
