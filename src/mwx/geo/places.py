"""Named places of a theater, for describing where a launch, an overflight or an impact was.

The gazetteer ships as JSON in ``mwx/data/places/`` (written by hand from
approximate public coordinates, about 0.05° ≈ 5 km). Everything at this edge is
in WGS-84 geodetic **degrees** (latitude in [-90, 90], longitude east-positive,
any range on input) and distances are in **km**.

Distances and azimuths are geodesics on the WGS-84 ellipsoid (pyproj ``Geod``),
not a haversine: it is the same ellipsoid and library the rest of mwx (regions,
alerts, metrics) measures with, so a distance printed here agrees with the
others to the metre, and ``Geod.inv`` is vectorised in C, so the brute-force
search over ~150 places stays cheap. A sphere would be off by up to ~0.5 %
(15 km at 3000 km), enough to flip a rounded "about N km".

Sea names come from a few hand-drawn lon/lat polygons (:data:`SEAS`), and land
from Natural Earth 1:110m: both are APPROXIMATE (tens of km near coasts and
small islands); they name a sea in words, they do not decide any boundary.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from numpy.typing import ArrayLike
from pyproj import Geod
from shapely.geometry import Polygon, shape

from mwx.errors import InputError
from mwx.geo.lon import wrap_lon

__all__ = [
    "KINDS",
    "SEAS",
    "Nearest",
    "Place",
    "compass_word",
    "describe",
    "load_places",
    "nearest",
    "on_land",
    "round_km",
    "sea_at",
    "time_zone_at",
    "time_zones",
]

KINDS = ("island", "cape", "city", "prefecture", "site", "peninsula")
# kinds that lie on the coast by nature; cities, sites and prefecture points say so explicitly
_COASTAL_KINDS = frozenset({"island", "cape", "peninsula"})
DEFAULT_THEATER = "korea-japan"
NEAR_KM = 30.0  # closer than this a place is "near X", not "about N km <direction> of X"
_GEOD = Geod(ellps="WGS84")
_THEATER_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
# points per block in nearest(): keeps the (points x places) work arrays to a few MB
_BLOCK = 20_000

_COMPASS_16 = (
    "north",
    "north-north-east",
    "north-east",
    "east-north-east",
    "east",
    "east-south-east",
    "south-east",
    "south-south-east",
    "south",
    "south-south-west",
    "south-west",
    "west-south-west",
    "west",
    "west-north-west",
    "north-west",
    "north-north-west",
)


@dataclass(frozen=True)
class Place:
    """One named feature: ``lat``/``lon`` in degrees, ``country`` an ISO 3166 alpha-2 code."""

    name: str
    kind: str  # one of KINDS
    country: str  # "JP", "KR", "KP", "CN", "RU"
    lat: float  # deg
    lon: float  # deg, [-180, 180)
    coastal: bool  # usable as the reference point for a sea impact


@dataclass(frozen=True)
class Nearest:
    """Result of :func:`nearest`; every array has the broadcast shape of the query points.

    ``index`` points into the tuple of :func:`load_places` (-1 where the query
    point is not finite or no place qualifies), ``distance_km`` is the geodesic
    distance in km, ``azimuth_deg`` the azimuth **from the place to the point**
    in degrees clockwise from north, in [0, 360) (NaN with index -1).
    """

    index: np.ndarray
    distance_km: np.ndarray
    azimuth_deg: np.ndarray
    places: tuple[Place, ...]

    def place(self, i: int | tuple[int, ...] = ()) -> Place | None:
        """The place for element ``i`` (default: the only one of a scalar query); None where index is -1."""
        k = int(self.index[i])
        return self.places[k] if k >= 0 else None


def _data_file(theater: str):
    if not _THEATER_RE.fullmatch(theater):
        raise InputError(f"bad theater name {theater!r} for places")
    path = resources.files("mwx").joinpath("data", "places", f"{theater}.json")
    if not path.is_file():
        raise InputError(f"no gazetteer ships for theater {theater!r}")
    return path


@functools.cache
def _load(theater: str) -> dict[str, Any]:
    data = json.loads(_data_file(theater).read_text(encoding="utf-8"))
    places = []
    for i, f in enumerate(data["features"]):
        if f["kind"] not in KINDS:
            raise ValueError(f"places/{theater}.json features[{i}]: bad kind {f['kind']!r}")
        places.append(
            Place(
                name=str(f["name"]),
                kind=str(f["kind"]),
                country=str(f["country"]),
                lat=float(f["lat"]),
                lon=wrap_lon(float(f["lon"])),
                coastal=bool(f.get("coastal", f["kind"] in _COASTAL_KINDS)),
            )
        )
    zones = {str(k): str(v) for k, v in data["time_zones"].items()}
    missing = {p.country for p in places} - zones.keys()
    if missing:
        raise ValueError(f"places/{theater}.json: no time zone for {', '.join(sorted(missing))}")
    places_t = tuple(places)
    lat = np.array([p.lat for p in places_t])
    lon = np.array([p.lon for p in places_t])
    lat.flags.writeable = False  # shared by every caller through the cache
    lon.flags.writeable = False
    return {"places": places_t, "zones": zones, "lat": lat, "lon": lon}


def load_places(theater: str = DEFAULT_THEATER) -> tuple[Place, ...]:
    """Every place of ``theater``'s gazetteer, in file order (cached)."""
    return _load(theater)["places"]


def time_zones(theater: str = DEFAULT_THEATER) -> dict[str, str]:
    """IANA time-zone name per country code of the gazetteer (a copy)."""
    return dict(_load(theater)["zones"])


def _selection(
    theater: str, kinds: Collection[str] | None, country: str | Collection[str] | None, coastal: bool | None
) -> np.ndarray:
    places = load_places(theater)
    if isinstance(kinds, str):
        kinds = (kinds,)
    if isinstance(country, str):
        country = (country,)
    if kinds is not None and not set(kinds) <= set(KINDS):
        raise ValueError(f"unknown kind(s) {sorted(set(kinds) - set(KINDS))}; known: {', '.join(KINDS)}")
    keep = [
        k
        for k, p in enumerate(places)
        if (kinds is None or p.kind in kinds)
        and (country is None or p.country in country)
        and (coastal is None or p.coastal == coastal)
    ]
    return np.asarray(keep, dtype=np.intp)


def nearest(
    lat_deg: ArrayLike,
    lon_deg: ArrayLike,
    kinds: Collection[str] | None = None,
    country: str | Collection[str] | None = None,
    *,
    coastal: bool | None = None,
    theater: str = DEFAULT_THEATER,
) -> Nearest:
    """The nearest place (geodesic, WGS-84) to each point, among those that qualify.

    ``lat_deg``/``lon_deg`` are degrees, broadcast together (scalars give 0-d
    arrays). ``kinds`` restricts to some of :data:`KINDS`, ``country`` to one
    code or several, ``coastal`` to coastal (True) or other (False) places.
    Ties go to the place first in the file.
    """
    lat, lon = np.broadcast_arrays(np.asarray(lat_deg, dtype=float), np.asarray(lon_deg, dtype=float))
    shape_ = lat.shape
    lat, lon = lat.ravel(), lon.ravel()
    data = _load(theater)
    sel = _selection(theater, kinds, country, coastal)
    index = np.full(lat.size, -1, dtype=np.intp)
    dist = np.full(lat.size, np.nan)
    azi = np.full(lat.size, np.nan)
    ok = np.isfinite(lat) & np.isfinite(lon)
    if sel.size and np.any(ok):
        plat, plon = data["lat"][sel], data["lon"][sel]
        todo = np.flatnonzero(ok)
        for start in range(0, todo.size, _BLOCK):
            rows = todo[start : start + _BLOCK]
            # (points, places) grid; azimuth from the place so it reads "<direction> of <place>"
            az, _, s = _GEOD.inv(
                np.broadcast_to(plon, (rows.size, sel.size)),
                np.broadcast_to(plat, (rows.size, sel.size)),
                np.broadcast_to(lon[rows, None], (rows.size, sel.size)),
                np.broadcast_to(lat[rows, None], (rows.size, sel.size)),
            )
            s = np.asarray(s).reshape(rows.size, sel.size)
            az = np.asarray(az).reshape(rows.size, sel.size)
            best = np.argmin(s, axis=1)  # first minimum: ties go to file order
            pick = np.arange(rows.size)
            index[rows] = sel[best]
            dist[rows] = s[pick, best] / 1e3
            azi[rows] = az[pick, best] % 360.0
    return Nearest(index.reshape(shape_), dist.reshape(shape_), azi.reshape(shape_), data["places"])


def compass_word(azimuth_deg: float, points: int = 16) -> str:
    """Compass word for an azimuth (degrees clockwise from north): 8 or 16 points ("north-north-east")."""
    if points not in (8, 16):
        raise ValueError(f"points must be 8 or 16, got {points}")
    if not math.isfinite(azimuth_deg):
        raise ValueError(f"azimuth must be finite, got {azimuth_deg}")
    sector = 360.0 / points
    k = math.floor((azimuth_deg % 360.0) / sector + 0.5) % points
    return _COMPASS_16[k * (16 // points)]


def round_km(km: float) -> int:
    """A distance in km rounded as a report says it: to 10 km under 300 km, 50 km under 1000, else 100.

    Halves round up (295 -> 300), not to even.
    """
    step = 10 if km < 300.0 else 50 if km < 1000.0 else 100
    return math.floor(km / step + 0.5) * step


def describe(
    lat: float,
    lon: float,
    *,
    kinds: Collection[str] | None = None,
    country: str | Collection[str] | None = None,
    coastal: bool | None = None,
    theater: str = DEFAULT_THEATER,
) -> str:
    """Where a point is, from the nearest place: "near Mupyong-ni" or "about 200 km west of Okushiri Island".

    Within :data:`NEAR_KM` (30 km) of the place it says "near"; otherwise the
    distance rounded by :func:`round_km` and the 16-point compass direction of
    the point as seen from the place. The filters are those of :func:`nearest`.
    Raises ValueError for a non-finite point or when no place qualifies.
    """
    found = nearest(lat, lon, kinds, country, coastal=coastal, theater=theater)
    place = found.place()
    if place is None:
        raise ValueError(f"no place to describe ({lat}, {lon}) by")
    km = float(found.distance_km)
    if km < NEAR_KM:
        return f"near {place.name}"
    return f"about {round_km(km):,} km {compass_word(float(found.azimuth_deg))} of {place.name}"


def time_zone_at(lat: float, lon: float, *, theater: str = DEFAULT_THEATER) -> ZoneInfo:
    """Time zone of the country of the nearest place (any kind) to ``lat``/``lon`` degrees.

    Near a border this is the nearer country's zone, which is an approximation.
    """
    place = nearest(lat, lon, theater=theater).place()
    if place is None:
        raise ValueError(f"no time zone for ({lat}, {lon})")
    return ZoneInfo(_load(theater)["zones"][place.country])


# --------------------------------------------------------------------------- seas
# Hand-drawn outlines, lon/lat degrees with longitudes in [100, 220) so the Pacific
# polygon runs across the antimeridian in one piece. They follow the coasts and
# straits only roughly (a few tens of km) and may overlap land: land is tested
# first. Limits follow the IHO's loosely: the Korea Strait belongs to the Sea of
# Japan, the Bohai to the Yellow Sea.
# fmt: off
SEAS: dict[str, tuple[tuple[float, float], ...]] = {
    "the Sea of Japan (East Sea)": (
        (126.3, 34.4), (126.9, 33.5), (128.6, 32.6), (129.75, 32.58), (129.9, 33.3), (130.4, 33.7),
        (131.0, 34.0), (131.4, 34.4), (132.1, 34.9), (132.7, 35.4), (134.2, 35.5), (135.2, 35.8),
        (136.0, 35.65), (136.1, 36.2), (136.7, 36.9), (137.35, 37.6), (137.3, 36.8), (138.3, 37.2),
        (139.0, 37.9), (139.8, 38.9), (139.7, 40.0), (139.9, 40.6), (140.35, 41.25), (140.2, 41.45),
        (140.0, 42.0), (140.4, 42.8), (140.5, 43.4), (141.0, 43.2), (141.6, 43.9), (141.7, 45.4),
        (141.94, 45.52), (141.93, 45.9), (142.0, 46.6), (142.0, 48.0), (141.9, 49.5), (141.5, 51.5),
        (141.0, 52.2), (140.5, 52.0), (140.4, 49.0), (138.5, 47.0), (137.0, 45.5), (135.5, 43.8),
        (132.9, 42.8), (131.9, 43.1), (130.7, 42.3), (129.8, 41.8), (129.2, 40.7), (127.6, 39.8),
        (127.5, 39.15), (128.6, 38.2), (128.9, 37.75), (129.4, 36.0), (129.4, 35.5), (129.05, 35.1),
        (128.0, 34.7), (127.5, 34.6),
    ),
    "the Yellow Sea": (
        (121.9, 31.7), (126.2, 33.2), (126.3, 34.4), (126.4, 36.0), (126.6, 37.45), (125.6, 37.8),
        (124.7, 38.0), (125.2, 38.6), (125.3, 39.5), (124.4, 39.8), (123.0, 39.6), (121.6, 38.9),
        (121.2, 38.8), (122.2, 40.5), (121.0, 40.9), (119.5, 39.8), (118.0, 39.0), (118.5, 38.0),
        (119.0, 37.3), (120.3, 37.6), (122.5, 37.4), (121.0, 36.5), (120.3, 36.0), (119.3, 35.0),
        (120.5, 33.5), (121.0, 32.5),
    ),
    "the East China Sea": (
        (121.9, 31.7), (126.2, 33.2), (126.9, 33.5), (128.6, 32.6), (129.75, 32.58), (130.2, 31.3),
        (130.2, 30.9), (130.5, 30.4), (129.5, 28.2), (128.0, 26.0), (125.5, 24.5), (123.0, 24.3),
        (121.7, 25.1), (120.0, 26.5), (121.5, 28.5), (122.0, 30.0),
    ),
    "the Sea of Okhotsk": (
        (141.94, 45.52), (143.5, 44.2), (145.3, 44.35), (145.8, 43.5), (146.5, 43.6), (150.0, 45.5),
        (154.0, 48.0), (156.7, 50.9), (156.0, 52.5), (156.5, 57.0), (160.0, 61.0), (155.0, 59.5),
        (150.0, 59.5), (143.0, 59.3), (140.0, 57.0), (137.5, 54.5), (141.0, 53.0), (142.5, 54.3),
        (143.2, 52.0), (143.3, 49.0), (143.0, 47.0), (143.4, 46.0), (142.6, 46.0), (141.93, 45.9),
    ),
    "the Pacific Ocean": (
        (121.0, 15.0), (121.5, 20.0), (121.7, 24.5), (123.0, 24.3), (125.5, 24.5), (128.0, 26.0),
        (129.5, 28.2), (130.5, 30.4), (131.0, 30.5), (131.7, 32.0), (133.0, 32.7), (134.2, 33.2),
        (135.8, 33.4), (137.0, 34.6), (138.8, 34.6), (139.9, 34.9), (140.9, 35.7), (141.0, 37.0),
        (141.1, 38.3), (142.1, 39.5), (141.5, 40.5), (141.5, 41.4), (141.2, 41.8), (143.25, 41.9),
        (144.4, 43.0), (145.8, 43.4), (146.5, 43.6), (150.0, 45.5), (154.0, 48.0), (156.7, 50.9),
        (158.6, 53.0), (162.0, 55.0), (170.0, 54.0), (180.0, 51.5), (200.0, 53.0), (220.0, 55.0),
        (220.0, 15.0),
    ),
}
# fmt: on


@functools.cache
def _sea_polygons() -> tuple[tuple[str, Polygon], ...]:
    out = []
    for name, ring in SEAS.items():
        poly = Polygon(ring)
        shapely.prepare(poly)
        out.append((name, poly))
    return tuple(out)


@functools.cache
def _land():
    # the same Natural Earth 1:110m land that mwx.geo.regions ships for map backgrounds
    path = resources.files("mwx").joinpath("data", "regions", "world-land-110m.geojson")
    geom = shape(json.loads(path.read_text(encoding="utf-8"))["features"][0]["geometry"])
    shapely.prepare(geom)
    return geom


def on_land(lat: float, lon: float) -> bool:
    """Whether ``lat``/``lon`` degrees is on land per Natural Earth 1:110m (misses small islands)."""
    return bool(shapely.intersects_xy(_land(), wrap_lon(lon), lat))


def sea_at(lat: float, lon: float) -> str | None:
    """Name of the sea at ``lat``/``lon`` degrees, with its article ("the Sea of Japan (East Sea)").

    None on land (1:110m) or where no outline of :data:`SEAS` is within about
    1° (~100 km); a point just outside every outline (a bay the rough outline
    cuts off) takes the nearest one. Approximate: for words, not boundaries.
    """
    if not (math.isfinite(lat) and math.isfinite(lon)) or on_land(lat, lon):
        return None
    x = wrap_lon(lon, center=280.0)  # the outlines' longitude range [100, 460) covers the theater
    point = shapely.Point(x, lat)
    best, best_d = None, 1.0  # degrees: farther than this from every outline -> unnamed
    for name, poly in _sea_polygons():
        if shapely.intersects_xy(poly, x, lat):
            return name
        d = poly.distance(point)
        if d < best_d:
            best, best_d = name, d
    return best
