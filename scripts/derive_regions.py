"""Derive the protected-area GeoJSON shipped in ``src/mwx/data/regions/``.

Source: Natural Earth (public domain) as packaged in the npm package
``world-atlas`` (TopoJSON; the package itself is ISC-licensed). Node is NOT
needed to run this script -- only to *fetch* the package tarball::

    mkdir -p /tmp/wa && cd /tmp/wa && npm pack world-atlas@2.0.2 \
        && tar xzf world-atlas-2.0.2.tgz          # -> /tmp/wa/package/*.json
    cd /work/main && .venv/bin/python scripts/derive_regions.py /tmp/wa/package

The positional argument is the unpacked ``package`` directory (it must hold
``countries-50m.json`` and ``land-110m.json``); ``--out`` overrides the output
directory. The script is deterministic and safe to re-run: it overwrites

* ``korea-japan.geojson`` -- one Feature per (partner, kind):
  ``partner`` in {"JP", "KR", "US"}, ``kind`` in {"territory", "eez"}.
* ``world-land-110m.geojson`` -- coarse world land for map backgrounds.

Conventions (also recorded in each file's ``metadata`` member):

* Coordinates are WGS-84 lon/lat degrees, rounded to 4 decimals (~11 m).
* Antimeridian: every geometry is split at +/-180 deg, so all longitudes lie in
  [-180, 180] and a planar point-in-polygon test with the query longitude
  wrapped into [-180, 180) is correct. Pieces meet along the seam lines
  x = -180 / x = +180 (a point exactly on the seam is on a polygon boundary).
* "eez" is an APPROXIMATION of an exclusive economic zone: the 200 nmi
  (370 400 m) geodesic buffer of the partner's territory, minus other
  countries' land, plus the partner's own territory. It uses the coastline as
  the baseline (no straight baselines or low-tide lines) and ignores the claims
  of non-partners (so a partner's zone still overlaps Chinese, Russian or North
  Korean waters).
  The buffer is computed on the WGS-84 ellipsoid: each territory part is cut
  into <= 5 deg tiles (dilation distributes over union, so buffering tiles and
  uniting them is exact), and each tile is buffered in an azimuthal-equidistant
  projection centred on it, where planar distance is within ~0.5 % of geodesic
  distance out to the buffer edge.
* Partners' zones never overlap. Where two partners' buffers overlap (in
  Natural Earth 1:50m only JP/KR do: Korea Strait, Sea of Japan / East Sea,
  East China Sea; JP/US do not: the source's Japanese land nearest the Marianas
  is in the Bonin Islands (26.6 N) and its northernmost Northern Mariana Island
  is Agrihan (18.8 N), 935 km apart, more than 2 x 200 nmi; it has no Volcano
  Islands, Farallon de Pajaros or Maug), each point of the overlap
  goes to the partner whose territory -- the shipped, simplified coastline of
  this file -- is nearer by geodesic distance: the equidistance (median) line.
  No agreed boundary is used: none fixes the KR-JP EEZ line (the 1974
  continental-shelf agreement covers only the Korea Strait area). The line is
  the boundary of a planar Voronoi partition of coastline points in an AEQD
  plane centred on the overlap; the script then measures each point of it
  against true geodesic distances and records the offsets in ``metadata``
  (max 0.44 km for JP/KR). Disputed features (DISPUTED) are checked: the
  source has no land at the Liancourt Rocks (Dokdo / Takeshima), so the line
  ignores them; the script stops if a source ever has land there.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely
from scipy.spatial import cKDTree
from shapely.affinity import translate
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon, box, mapping
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from shapely.ops import unary_union

EEZ_M = 370_400.0  # 200 international nautical miles, metres
TILE_DEG = 5.0  # max tile size for the per-tile AEQD buffer (keeps distortion < ~0.5 %)
TERRITORY_TOL_DEG = 0.005  # Douglas-Peucker tolerance for territory (~0.5 km)
EEZ_TOL_DEG = 0.01  # eez boundary is mostly smooth arcs (~1 km)
LAND_TOL_DEG = 0.05  # world background map only
DECIMALS = 4
GRID = 10.0**-DECIMALS

THEATER = "korea-japan"
# partner code -> (display name, Natural Earth names as spelled by world-atlas)
PARTNERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "JP": ("Japan", ("Japan",)),
    "KR": ("South Korea", ("South Korea",)),
    "US": (
        "United States (incl. Alaska, Hawaii, Guam, N. Mariana Is.)",
        ("United States of America", "Guam", "N. Mariana Is."),
    ),
}

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "src" / "mwx" / "data" / "regions"


# --------------------------------------------------------------------------- TopoJSON
def decode_arcs(topo: dict[str, Any]) -> list[np.ndarray]:
    """Absolute lon/lat arcs of a TopoJSON topology (undo quantization + deltas)."""
    tr = topo.get("transform")
    out: list[np.ndarray] = []
    for arc in topo["arcs"]:
        a = np.asarray(arc, dtype=float)[:, :2]
        if tr is not None:
            # quantized topologies store each position as a delta from the previous one
            a = np.cumsum(a, axis=0) * np.asarray(tr["scale"]) + np.asarray(tr["translate"])
        out.append(a)
    return out


def _ring(indices: Sequence[int], arcs: list[np.ndarray]) -> np.ndarray:
    parts = []
    for k, i in enumerate(indices):
        a = arcs[i] if i >= 0 else arcs[~i][::-1]  # ~i: arc i traversed backwards
        parts.append(a if k == 0 else a[1:])  # consecutive arcs share their end point
    return np.concatenate(parts)


def _unwrap_ring(xy: np.ndarray) -> np.ndarray:
    """Make a ring's longitudes continuous (world-atlas rings run across +/-180).

    A ring that still winds once around the globe after unwrapping encircles a
    pole (Antarctica); it is closed along that pole so it bounds the cap.
    """
    lon = xy[:, 0].copy()
    step = np.diff(lon)
    lon[1:] = lon[0] + np.cumsum(step - 360.0 * np.round(step / 360.0))
    out = np.column_stack([lon, xy[:, 1]])
    winding = lon[-1] - lon[0]
    if abs(winding) > 180.0:
        pole = math.copysign(90.0, float(np.mean(xy[:, 1])))
        out = np.vstack([out, [[lon[-1], pole], [lon[0], pole]], out[:1]])
    return out


def _polygon(rings: Sequence[Sequence[int]], arcs: list[np.ndarray]) -> Polygon:
    """Polygon in a continuous-longitude frame (may extend past +/-180)."""
    shell, *holes = [_unwrap_ring(_ring(r, arcs)) for r in rings]
    mid = 0.5 * (shell[:, 0].min() + shell[:, 0].max())
    # put each hole in the shell's 360-degree frame
    holes = [h + [360.0 * round((mid - h[:, 0].mean()) / 360.0), 0.0] for h in holes]
    return Polygon(shell, holes)


def topo_geometry(obj: dict[str, Any], arcs: list[np.ndarray]) -> BaseGeometry:
    """Shapely geometry of one TopoJSON geometry object (polygonal types only)."""
    typ = obj["type"]
    if typ == "Polygon":
        geom: BaseGeometry = _polygon(obj["arcs"], arcs)
    elif typ == "MultiPolygon":
        geom = MultiPolygon([_polygon(p, arcs) for p in obj["arcs"]])
    elif typ == "GeometryCollection":
        geom = unary_union([topo_geometry(g, arcs) for g in obj["geometries"]])
    else:
        raise ValueError(f"unsupported TopoJSON geometry type {typ!r}")
    return split_antimeridian(shapely.make_valid(geom))


# --------------------------------------------------------------------------- geometry helpers
def polygon_parts(geom: BaseGeometry) -> list[Polygon]:
    """Flatten any geometry into its polygon parts (drops points/lines)."""
    if geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in polygon_parts(g)]
    return []


def polygons_only(geom: BaseGeometry) -> MultiPolygon:
    return MultiPolygon(polygon_parts(geom))


def wrap_lon(lon: np.ndarray | float) -> np.ndarray:
    return (np.asarray(lon) + 180.0) % 360.0 - 180.0


def split_antimeridian(geom: BaseGeometry) -> MultiPolygon:
    """Cut a geometry in a continuous-longitude frame into pieces inside [-180, 180]."""
    pieces = []
    for shift in (-360.0, 0.0, 360.0):
        window = box(-180.0 - shift, -90.0, 180.0 - shift, 90.0)
        clip = geom.intersection(window)
        if not clip.is_empty:
            pieces.append(translate(clip, xoff=shift))
    return polygons_only(unary_union(pieces))


def tiles(poly: Polygon, size: float) -> list[BaseGeometry]:
    minx, miny, maxx, maxy = poly.bounds
    if maxx - minx <= size and maxy - miny <= size:
        return [poly]
    out = []
    for x0 in np.arange(math.floor(minx / size) * size, maxx, size):
        for y0 in np.arange(math.floor(miny / size) * size, maxy, size):
            piece = poly.intersection(box(x0, y0, x0 + size, y0 + size))
            if not piece.is_empty and piece.area > 0:
                out.append(piece)
    return out


_WGS84 = pyproj.CRS.from_epsg(4326)
_GEOD = pyproj.Geod(ellps="WGS84")
_ECEF = pyproj.Transformer.from_crs(_WGS84, pyproj.CRS.from_epsg(4978), always_xy=True)

PlaneMap = Callable[[np.ndarray], np.ndarray]


def aeqd(lon0: float, lat0: float) -> tuple[PlaneMap, PlaneMap]:
    """Coordinate maps lon/lat degrees <-> azimuthal-equidistant plane (metres) at (lon0, lat0).

    Both act on (n, 2) arrays, for ``shapely.transform``. The inverse puts each
    longitude within 180 deg of lon0, so a geometry near the antimeridian comes
    back in one continuous-longitude frame (split it with split_antimeridian).
    Distances and azimuths from the centre are exact on WGS-84; other distances
    are stretched by at most ~(r/R)^2/6 at r from the centre (0.1 % at 500 km).
    """
    crs = pyproj.CRS.from_proj4(
        f"+proj=aeqd +lat_0={lat0:.6f} +lon_0={float(wrap_lon(lon0)):.6f} +ellps=WGS84 +units=m"
    )
    fwd = pyproj.Transformer.from_crs(_WGS84, crs, always_xy=True)
    inv = pyproj.Transformer.from_crs(crs, _WGS84, always_xy=True)

    def to_plane(xy: np.ndarray) -> np.ndarray:
        x, y = fwd.transform(wrap_lon(xy[:, 0]), xy[:, 1])
        return np.column_stack([x, y])

    def to_lonlat(xy: np.ndarray) -> np.ndarray:
        lon, lat = inv.transform(xy[:, 0], xy[:, 1])
        # inverse gives lon in [-180, 180]; put it back next to the centre's frame
        lon = lon0 + wrap_lon(np.asarray(lon) - lon0)
        return np.column_stack([lon, lat])

    return to_plane, to_lonlat


def geodesic_buffer(piece: BaseGeometry, dist_m: float) -> BaseGeometry:
    """Buffer a small (<= TILE_DEG) lon/lat piece by dist_m metres on WGS-84.

    The result is in the same continuous-longitude frame as the piece (it may
    extend past +/-180); the caller splits it at the antimeridian.
    """
    c = piece.centroid
    to_plane, to_lonlat = aeqd(c.x, c.y)
    buf = shapely.transform(piece, to_plane).buffer(dist_m, quad_segs=16)
    # densify so straight plane edges stay faithful after the nonlinear inverse
    buf = shapely.segmentize(buf, 20_000.0)
    return shapely.transform(buf, to_lonlat)


def eez_of(territory: MultiPolygon, dist_m: float = EEZ_M) -> MultiPolygon:
    buffers = []
    # parts are already split at +/-180; buffering each side separately is exact
    # because buffer(A u B) = buffer(A) u buffer(B)
    for part in territory.geoms:
        for piece in tiles(part, TILE_DEG):
            buffers.append(split_antimeridian(geodesic_buffer(piece, dist_m)))
    return polygons_only(unary_union(buffers))


def finish(geom: BaseGeometry, tol_deg: float) -> MultiPolygon:
    """Simplify, snap to the output grid, keep valid polygons."""
    g = shapely.simplify(geom, tol_deg, preserve_topology=True)
    g = shapely.set_precision(g, GRID)  # snapping like this keeps the result valid
    g = polygons_only(shapely.make_valid(g))
    assert g.is_valid
    return g


# --------------------------------------------------------------------------- median lines
# Where two partners' 200 nmi zones overlap, every point of the overlap goes to the partner whose
# coastline is nearer: the equidistance (median) line. No agreed EEZ boundary exists between the
# partners here; equidistance is the usual provisional line (UNCLOS art. 15 for the territorial
# sea; for the EEZ, art. 74 leaves it to agreement and courts start from it, e.g. ICJ, Maritime
# Delimitation in the Black Sea, Romania v. Ukraine, 2009).
#
# Construction: Voronoi cells of coastline sample points, computed in one azimuthal-equidistant
# plane centred on the overlap; the union of one partner's cells is the part nearer to it. The
# plane distorts distances by <= ~(r/R)^2/6 (0.1 % at r = 500 km), so the line is then measured
# against true WGS-84 geodesic distances (median_line_offsets_m) and the result is reported.
SITE_SPACING_M = 1_000.0  # coastline sample spacing for the Voronoi sites (vertex-vs-edge error << 10 m)
LINE_EDGE_M = 2_000.0  # densify median-line edges before unprojecting (chord sag of the curve << 10 m)
REACH_M = EEZ_M + 20_000.0  # a coast farther than this from the whole overlap is nobody's nearest
COAST_STEP_DEG = 0.001  # (~100 m) coastline sampling for the geodesic distance check
CHORD_SLACK_M = 5.0  # the geodesic nearest vertex is within this of the nearest ECEF chord
COAST_CANDIDATES = 128  # k-d tree candidates per query (must reach past CHORD_SLACK_M)
OFFSET_SEARCH_M = 10_000.0  # search the true median line this far either side of the drawn one
CHECK_STEP_DEG = 0.05  # spacing (~5 km) of the points along the line where its accuracy is measured

# Disputed features between partners: (name, lon, lat [deg], claimants). The line must not take
# a side silently: the script stops if the source has land there (a rule must then be chosen),
# and otherwise records that the line ignores the feature and where its position falls.
DISPUTED: tuple[tuple[str, float, float, tuple[str, ...]], ...] = (
    ("Liancourt Rocks (Dokdo / Takeshima)", 131.8670, 37.2410, ("KR", "JP")),
)
DISPUTED_SEARCH_M = 10_000.0  # land of any country this close counts as "in the source"


def margin(territory: MultiPolygon) -> BaseGeometry:
    """The territory grown by 2 grid cells (~20 m), mitred.

    Snapping to the output grid moves shared edges by <= 1/2 cell; the margin keeps a
    territory inside its own zone (and out of a neighbour's) through that.
    """
    return territory.buffer(2 * GRID, quad_segs=1, join_style="mitre")


def coast_parts(territory: MultiPolygon, overlap: BaseGeometry) -> MultiPolygon:
    """The territory parts (lon/lat) that can hold the nearest coast of some point of overlap."""
    c = overlap.envelope.centroid
    to_plane, _ = aeqd(c.x, c.y)
    near = shapely.transform(overlap, to_plane)
    keep = [p for p in territory.geoms if shapely.dwithin(shapely.transform(p, to_plane), near, REACH_M)]
    return MultiPolygon(keep)


def coast_sites(parts: MultiPolygon, to_plane: PlaneMap) -> np.ndarray:
    """Coastline sample points (n, 2) in the plane [m], <= SITE_SPACING_M apart, sorted, unique."""
    # densify in lon/lat first so the plane follows the lon/lat edges that are the coastline
    rings = shapely.segmentize(shapely.boundary(parts), 0.01)
    rings = shapely.segmentize(shapely.transform(rings, to_plane), SITE_SPACING_M)
    return np.unique(shapely.get_coordinates(rings), axis=0)


def nearer_region(parts_a: MultiPolygon, parts_b: MultiPolygon, overlap: BaseGeometry) -> MultiPolygon:
    """Where, around ``overlap`` (lon/lat), the coast of ``parts_a`` is nearer than that of ``parts_b``.

    Planar Voronoi partition of both coastlines' sample points in an AEQD plane centred on
    the overlap, clipped to the overlap's envelope grown by 10 km; returned in lon/lat,
    split at the antimeridian.
    """
    minx, _, maxx, _ = overlap.bounds
    if maxx - minx > 180.0:
        raise SystemExit("an overlap straddles the antimeridian: unwrap it before splitting (not needed so far)")
    c = overlap.envelope.centroid
    to_plane, to_lonlat = aeqd(c.x, c.y)
    sites_a, sites_b = coast_sites(parts_a, to_plane), coast_sites(parts_b, to_plane)
    sites = np.vstack([sites_a, sites_b])
    if len(np.unique(sites, axis=0)) != len(sites):
        raise SystemExit("two partners' coastlines share a point: a land border needs no median line")
    window = shapely.transform(overlap, to_plane).envelope.buffer(10_000.0, join_style="mitre")
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(sites), extend_to=window))
    # each site lies strictly inside its own cell
    site_idx, cell_idx = shapely.STRtree(cells).query(shapely.points(sites), predicate="within")
    assert np.array_equal(np.sort(site_idx), np.arange(len(sites)))
    mine = np.unique(cell_idx[site_idx < len(sites_a)])
    region = shapely.coverage_union_all(cells[mine]).intersection(window)
    region = shapely.segmentize(region, LINE_EDGE_M)
    return split_antimeridian(shapely.transform(region, to_lonlat))


def split_overlap(
    terr_a: MultiPolygon, eez_a: MultiPolygon, terr_b: MultiPolygon, eez_b: MultiPolygon
) -> tuple[MultiPolygon, MultiPolygon, dict[str, Any]]:
    """Split the overlap of two partners' zones along the median line of their coasts.

    Returns the new zones of A and B (grid-snapped, disjoint, same union as before) and what
    was done. The baseline is the shipped (simplified) territory, so the file is self-consistent.
    """
    overlap = eez_a.intersection(eez_b)
    if overlap.area == 0.0:
        return eez_a, eez_b, {}
    parts_a, parts_b = coast_parts(terr_a, overlap), coast_parts(terr_b, overlap)
    near_a = nearer_region(parts_a, parts_b, overlap)
    # own land is nearest to itself; the margins absorb grid snapping
    near_a = near_a.union(margin(terr_a)).difference(margin(terr_b))
    new_b = finish(eez_b.difference(near_a.intersection(eez_a)), 0.0)
    # A keeps the rest of its zone: the complement of B's on the same grid
    new_a = finish(shapely.difference(eez_a, new_b, grid_size=GRID), 0.0)
    # Snap-rounding that difference can bend an edge of A by <= 1/2 cell into B where the line
    # meets the 200 nmi arcs; one more pass the other way removes such slivers (~1e-8 deg^2).
    new_b = finish(shapely.difference(new_b, new_a, grid_size=GRID), 0.0)
    if new_a.intersection(new_b).area > 0.0:
        raise SystemExit("zones still overlap after the median-line split")
    line = shared_line(new_a, new_b)
    offsets = median_line_offsets_m(line, CoastDistance(parts_a), CoastDistance(parts_b))
    info = {
        "overlap_km2": round(geodesic_area_km2(overlap)),
        "line_km": round(float(_GEOD.geometry_length(line)) / 1e3),
        "offset_km": {
            "max": round(float(offsets.max()) / 1e3, 2),
            "p95": round(float(np.percentile(offsets, 95)) / 1e3, 2),
            "median": round(float(np.median(offsets)) / 1e3, 2),
            "points": int(offsets.size),
        },
    }
    return new_a, new_b, info


def shared_line(a: MultiPolygon, b: MultiPolygon) -> BaseGeometry:
    """The (multi)line where two disjoint zones meet: their median line."""
    touch = shapely.intersection(a.boundary, b.boundary, grid_size=GRID)
    lines = [g for g in shapely.get_parts(touch) if isinstance(g, LineString | MultiLineString)]
    return shapely.line_merge(shapely.union_all(lines))


def geodesic_area_km2(geom: BaseGeometry) -> float:
    """Area [km^2] of a lon/lat geometry on WGS-84 (as ``mwx theater show`` computes it)."""
    return abs(_GEOD.geometry_area_perimeter(geom)[0]) / 1e6


class CoastDistance:
    """Geodesic distance [m] on WGS-84 from points to a coastline (the rings of a territory).

    The rings are sampled every COAST_STEP_DEG (~100 m), so the nearest sample is within
    step^2 / (8 d) (< 1 m at d >= 2 km) of the nearest point of the polyline. Candidates come
    from a k-d tree over ECEF chords: up to ~400 km the geodesic exceeds the chord by ~c^3/(24 R^2)
    (<= 70 m) and that excess varies by < 1 m with azimuth, so the geodesically nearest sample
    is among those within CHORD_SLACK_M of the nearest chord.
    """

    def __init__(self, parts: MultiPolygon) -> None:
        xy = shapely.get_coordinates(shapely.segmentize(shapely.boundary(parts), COAST_STEP_DEG))
        self.lon, self.lat = xy[:, 0], xy[:, 1]
        self.tree = cKDTree(_ecef(self.lon, self.lat))

    def __call__(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        lon, lat = np.atleast_1d(lon), np.atleast_1d(lat)
        k = min(COAST_CANDIDATES, len(self.lon))
        chord, idx = self.tree.query(_ecef(lon, lat), k=k)
        if k < len(self.lon) and np.any(chord[:, -1] < chord[:, 0] + CHORD_SLACK_M):
            raise RuntimeError("too few nearest-coast candidates: raise COAST_CANDIDATES")
        n = idx.shape[1]
        _, _, s = _GEOD.inv(np.repeat(lon, n), np.repeat(lat, n), self.lon[idx.ravel()], self.lat[idx.ravel()])
        return s.reshape(idx.shape).min(axis=1)


def _ecef(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    x, y, z = _ECEF.transform(lon, lat, np.zeros_like(lon))
    return np.column_stack([x, y, z])


def median_line_offsets_m(line: BaseGeometry, dist_a: CoastDistance, dist_b: CoastDistance) -> np.ndarray:
    """Distance [m] from points every ~5 km along ``line`` to the true geodesic median line.

    At each point the true median (d_a = d_b) is located by bisection along the geodesic
    normal to the drawn line, within +/- OFFSET_SEARCH_M; a point with no sign change of
    d_a - d_b in that range reports OFFSET_SEARCH_M (so it shows up as a failure).
    """
    lon, lat, az = [], [], []
    for part in shapely.get_parts(shapely.segmentize(line, CHECK_STEP_DEG)):
        xy = np.asarray(part.coords)
        if len(xy) < 3:
            continue
        # direction of the line at each inner vertex: from its predecessor to its successor
        fwd_az, _, _ = _GEOD.inv(xy[:-2, 0], xy[:-2, 1], xy[2:, 0], xy[2:, 1])
        lon.append(xy[1:-1, 0])
        lat.append(xy[1:-1, 1])
        az.append(fwd_az + 90.0)
    lon0, lat0, normal = np.concatenate(lon), np.concatenate(lat), np.concatenate(az)

    def gap(t: np.ndarray) -> np.ndarray:
        x, y, _ = _GEOD.fwd(lon0, lat0, normal, t)
        return dist_a(x, y) - dist_b(x, y)

    lo, hi = np.full(lon0.size, -OFFSET_SEARCH_M), np.full(lon0.size, OFFSET_SEARCH_M)
    g_lo = gap(lo)
    found = np.sign(g_lo) != np.sign(gap(hi))
    for _ in range(20):  # 20 km / 2^20: 2 cm
        mid = 0.5 * (lo + hi)
        same = np.sign(gap(mid)) == np.sign(g_lo)
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    return np.where(found, np.abs(0.5 * (lo + hi)), OFFSET_SEARCH_M)


# --------------------------------------------------------------------------- output
def _round_coords(obj: Any) -> Any:
    if isinstance(obj, list | tuple):
        if obj and isinstance(obj[0], float | int):
            return [round(float(v), DECIMALS) for v in obj]
        return [_round_coords(o) for o in obj]
    return obj


def geojson_geometry(geom: MultiPolygon) -> dict[str, Any]:
    # RFC 7946: exterior rings counter-clockwise, holes clockwise
    g = MultiPolygon([orient(p, sign=1.0) for p in geom.geoms])
    m = mapping(g)
    return {"type": m["type"], "coordinates": _round_coords(m["coordinates"])}


def write_collection(path: Path, features: Iterable[dict[str, Any]], metadata: dict[str, Any]) -> None:
    feats = list(features)
    lines = ['{"type":"FeatureCollection",']
    lines.append('"metadata":' + json.dumps(metadata, separators=(",", ":")) + ",")
    lines.append('"features":[')
    # one feature per line keeps diffs of the regenerated file readable
    lines.append(",\n".join(json.dumps(f, separators=(",", ":")) for f in feats))
    lines.append("]}\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")


Zones = dict[str, tuple[MultiPolygon, MultiPolygon]]  # partner -> (territory, eez)


def read_countries(atlas: Path) -> dict[str, MultiPolygon]:
    """Natural Earth 1:50m countries by name, split at the antimeridian."""
    topo = json.loads((atlas / "countries-50m.json").read_text(encoding="utf-8"))
    arcs = decode_arcs(topo)
    countries: dict[str, MultiPolygon] = {}
    for obj in topo["objects"]["countries"]["geometries"]:
        name = obj.get("properties", {}).get("name", "")
        if obj.get("type") and "arcs" in obj:
            g = topo_geometry(obj, arcs)
            countries[name] = polygons_only(unary_union([countries.get(name, MultiPolygon()), g]))
    return countries


def partner_zones(countries: dict[str, MultiPolygon]) -> Zones:
    """Each partner's territory and its full 200 nmi zone (before any median line)."""
    zones: Zones = {}
    for code, (_, ne_names) in PARTNERS.items():
        missing = [n for n in ne_names if n not in countries]
        if missing:
            raise SystemExit(f"world-atlas lacks countries {missing} for {code}")
        raw = polygons_only(unary_union([countries[n] for n in ne_names]))
        eez_raw = eez_of(raw)
        # an EEZ is a sea zone: other countries' land inside 200 nmi is not part of it
        foreign = [g for n, g in countries.items() if n not in ne_names and g.intersects(eez_raw)]
        eez_raw = eez_raw.difference(unary_union(foreign))
        territory = finish(raw, TERRITORY_TOL_DEG)
        # Re-add the territory after simplifying so the eez still covers it along land borders.
        eez = finish(unary_union([finish(eez_raw, EEZ_TOL_DEG), margin(territory)]), 0.0)
        zones[code] = (territory, eez)
    return zones


def split_all_overlaps(zones: Zones) -> list[dict[str, Any]]:
    """Split the overlap of every pair of partners' zones along their median line (in place).

    Pairs go in sorted order. Each split only shrinks zones, so pairs made disjoint stay
    disjoint; a point within 200 nmi of three partners would need a three-way partition,
    which this theater does not have (checked).
    """
    codes = sorted(zones)
    for a, b, c in itertools.combinations(codes, 3):
        if zones[a][1].intersection(zones[b][1]).intersection(zones[c][1]).area > 0.0:
            raise SystemExit(f"the zones of {a}, {b} and {c} overlap: pairwise median lines do not cover that")
    boundaries = []
    for a, b in itertools.combinations(codes, 2):
        (terr_a, eez_a), (terr_b, eez_b) = zones[a], zones[b]
        eez_a, eez_b, info = split_overlap(terr_a, eez_a, terr_b, eez_b)
        zones[a], zones[b] = (terr_a, eez_a), (terr_b, eez_b)
        boundaries.append({"partners": [a, b], **(info or {"overlap_km2": 0})})
    return boundaries


def disputed_features(countries: dict[str, MultiPolygon], zones: Zones) -> list[dict[str, Any]]:
    """Check each DISPUTED feature against the source; stop if it holds land there.

    Otherwise the median line cannot depend on the feature; record that, the distance
    [km] from its position to each claimant's coast, and whose zone the position falls in.
    """
    out = []
    for name, lon, lat, claimants in DISPUTED:
        spot = Point(lon, lat)
        disk = split_antimeridian(geodesic_buffer(spot, DISPUTED_SEARCH_M))
        land = sorted(n for n, g in countries.items() if g.intersects(disk))
        if land:
            raise SystemExit(f"{name}: the source has land of {land} there; choose a rule for it first")
        coast_km = {
            c: round(float(CoastDistance(coast_parts(zones[c][0], disk))(lon, lat)[0]) / 1e3, 1) for c in claimants
        }
        out.append(
            {
                "feature": name,
                "lon": lon,
                "lat": lat,
                "claimants": list(claimants),
                "in_source": False,
                "effect": "none: no land within 10 km in the source, so the line ignores it",
                "nearest_coast_km": coast_km,
                "position_in_zone_of": [c for c in sorted(zones) if zones[c][1].intersects(spot)],
            }
        )
    return out


def region_features(zones: Zones) -> list[dict[str, Any]]:
    """One GeoJSON Feature per (partner, kind), partners in PARTNERS order."""
    features = []
    for code, (display, _) in PARTNERS.items():
        territory, eez = zones[code]
        assert eez.contains(territory), code
        for kind, geom, name in (
            ("territory", territory, display),
            ("eez", eez, f"{display} EEZ (approx. 200 nmi)"),
        ):
            features.append(
                {
                    "type": "Feature",
                    "properties": {"partner": code, "kind": kind, "name": name},
                    "geometry": geojson_geometry(geom),
                }
            )
            print(
                f"{code:2s} {kind:9s} parts={len(geom.geoms):4d} "
                f"vertices={shapely.get_num_coordinates(geom):6d} area={geom.area:9.2f} deg^2"
            )
    return features


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("atlas", type=Path, help="unpacked world-atlas package directory")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = ap.parse_args(argv)

    countries = read_countries(args.atlas)
    zones = partner_zones(countries)
    boundaries = split_all_overlaps(zones)
    for b in boundaries:
        print(f"median line {'/'.join(b['partners'])}: {json.dumps({k: v for k, v in b.items() if k != 'partners'})}")
    disputed = disputed_features(countries, zones)
    features = region_features(zones)
    source = "Natural Earth 1:50m admin-0 countries via npm world-atlas (countries-50m.json)"
    meta = {
        "theater": THEATER,
        "source": source,
        "license": "Natural Earth data: public domain",
        "crs": "WGS-84 lon/lat degrees",
        "antimeridian": "geometries split at +/-180; all longitudes in [-180, 180]",
        "eez": (
            "APPROXIMATION: 200 nmi (370400 m) geodesic buffer of territory minus other "
            "countries' land; where two partners' buffers overlap, each point goes to the partner "
            "whose territory (this file's territory feature) is nearer by WGS-84 geodesic distance "
            "(equidistance line; no agreed boundary used); ignores non-partners' claims and baselines"
        ),
        "boundaries": boundaries,
        "disputed": disputed,
        "simplify_deg": {"territory": TERRITORY_TOL_DEG, "eez": EEZ_TOL_DEG},
        "generator": "scripts/derive_regions.py",
    }
    regions_path = args.out / f"{THEATER}.geojson"
    write_collection(regions_path, features, meta)

    land_topo = json.loads((args.atlas / "land-110m.json").read_text(encoding="utf-8"))
    land = finish(
        topo_geometry(land_topo["objects"]["land"], decode_arcs(land_topo)),
        LAND_TOL_DEG,
    )
    land_path = args.out / "world-land-110m.geojson"
    write_collection(
        land_path,
        [
            {
                "type": "Feature",
                "properties": {"name": "land"},
                "geometry": geojson_geometry(land),
            }
        ],
        {
            "source": "Natural Earth 1:110m land via npm world-atlas (land-110m.json)",
            "license": "Natural Earth data: public domain",
            "crs": "WGS-84 lon/lat degrees",
            "antimeridian": "geometries split at +/-180",
            "simplify_deg": LAND_TOL_DEG,
            "generator": "scripts/derive_regions.py",
        },
    )
    print(f"land      parts={len(land.geoms):4d} vertices={shapely.get_num_coordinates(land):6d}")
    for p in (regions_path, land_path):
        print(f"wrote {p} ({p.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
