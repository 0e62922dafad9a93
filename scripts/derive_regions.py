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
  countries' land, plus the partner's own territory. It ignores median lines
  and agreed boundaries with neighbours (so JP/KR/RU/CN zones overlap at sea)
  and baselines/low-tide lines (the coastline is used as the baseline).
  The buffer is computed on the WGS-84 ellipsoid: each territory part is cut
  into <= 5 deg tiles (dilation distributes over union, so buffering tiles and
  uniting them is exact), and each tile is buffered in an azimuthal-equidistant
  projection centred on it, where planar distance is within ~0.5 % of geodesic
  distance out to the buffer edge.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely
from shapely.affinity import translate
from shapely.geometry import MultiPolygon, Polygon, box, mapping
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


def geodesic_buffer(piece: BaseGeometry, dist_m: float) -> BaseGeometry:
    """Buffer a small (<= TILE_DEG) lon/lat piece by dist_m metres on WGS-84.

    The result is in the same continuous-longitude frame as the piece (it may
    extend past +/-180); the caller splits it at the antimeridian.
    """
    c = piece.centroid
    lon0, lat0 = c.x, c.y
    aeqd = pyproj.CRS.from_proj4(
        f"+proj=aeqd +lat_0={lat0:.6f} +lon_0={float(wrap_lon(lon0)):.6f} +ellps=WGS84 +units=m"
    )
    fwd = pyproj.Transformer.from_crs(_WGS84, aeqd, always_xy=True)
    inv = pyproj.Transformer.from_crs(aeqd, _WGS84, always_xy=True)

    def to_plane(xy: np.ndarray) -> np.ndarray:
        x, y = fwd.transform(wrap_lon(xy[:, 0]), xy[:, 1])
        return np.column_stack([x, y])

    def to_lonlat(xy: np.ndarray) -> np.ndarray:
        lon, lat = inv.transform(xy[:, 0], xy[:, 1])
        # inverse gives lon in [-180, 180]; put it back next to the piece's frame
        lon = lon0 + wrap_lon(np.asarray(lon) - lon0)
        return np.column_stack([lon, lat])

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


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("atlas", type=Path, help="unpacked world-atlas package directory")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = ap.parse_args(argv)

    topo = json.loads((args.atlas / "countries-50m.json").read_text(encoding="utf-8"))
    arcs = decode_arcs(topo)
    countries: dict[str, MultiPolygon] = {}
    for obj in topo["objects"]["countries"]["geometries"]:
        name = obj.get("properties", {}).get("name", "")
        if obj.get("type") and "arcs" in obj:
            g = topo_geometry(obj, arcs)
            countries[name] = polygons_only(unary_union([countries.get(name, MultiPolygon()), g]))

    source = "Natural Earth 1:50m admin-0 countries via npm world-atlas (countries-50m.json)"
    features = []
    for code, (display, ne_names) in PARTNERS.items():
        missing = [n for n in ne_names if n not in countries]
        if missing:
            raise SystemExit(f"world-atlas lacks countries {missing} for {code}")
        raw = polygons_only(unary_union([countries[n] for n in ne_names]))
        eez_raw = eez_of(raw)
        # an EEZ is a sea zone: other countries' land inside 200 nmi is not part of it
        foreign = [g for n, g in countries.items() if n not in ne_names and g.intersects(eez_raw)]
        eez_raw = eez_raw.difference(unary_union(foreign))
        territory = finish(raw, TERRITORY_TOL_DEG)
        # Re-add the territory after simplifying so the eez still covers it along
        # land borders. A 2-grid-cell (~20 m) mitred margin keeps that true after
        # overlay noding and grid snapping move shared border edges by <= 1/2 cell.
        margin = territory.buffer(2 * GRID, quad_segs=1, join_style="mitre")
        eez = finish(unary_union([finish(eez_raw, EEZ_TOL_DEG), margin]), 0.0)
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
    meta = {
        "theater": THEATER,
        "source": source,
        "license": "Natural Earth data: public domain",
        "crs": "WGS-84 lon/lat degrees",
        "antimeridian": "geometries split at +/-180; all longitudes in [-180, 180]",
        "eez": (
            "APPROXIMATION: 200 nmi (370400 m) geodesic buffer of territory minus other "
            "countries' land; ignores median lines, agreed boundaries and baselines"
        ),
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
