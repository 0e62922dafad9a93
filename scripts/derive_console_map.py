"""Derive the live console's background map, ``src/mwx/live/static/map/theater-50m.geojson``.

Source: Natural Earth 1:50m (public domain) as packaged in the npm package ``world-atlas`` 2.0.2 (TopoJSON;
the package itself is ISC-licensed).  Node is NOT needed to run this script -- only npm, to *fetch* the
package tarball::

    mkdir -p /tmp/wa && cd /tmp/wa && npm pack world-atlas@2.0.2 \
        && tar xzf world-atlas-2.0.2.tgz          # -> /tmp/wa/package/*.json
    cd /work/main && .venv/bin/python scripts/derive_console_map.py /tmp/wa/package

The positional argument is the unpacked ``package`` directory (it must hold ``land-50m.json`` and
``countries-50m.json``); ``--out`` overrides the output file, ``--window`` the clip window.  The script is
deterministic and safe to re-run.  It writes one GeoJSON FeatureCollection with two features:

* ``{"layer": "land"}`` -- a MultiPolygon: Natural Earth 1:50m land clipped to the window;
* ``{"layer": "borders"}`` -- a MultiLineString: the land borders between countries (the TopoJSON arcs that
  two countries share: no coastlines), clipped to the window.

Conventions (also recorded in the file's ``metadata`` member): WGS-84 lon/lat degrees rounded to 4 decimals
(~11 m); the default window is lon 100..180 E, lat 0..60 N, which holds the korea-japan theater's sensors,
Korea, Japan, Guam and the Northern Mariana Islands, and the western Aleutians.  Geometry crossing the
antimeridian is unwrapped to continuous longitude before clipping, so nothing is lost at 180 E.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.affinity import translate
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon, box, mapping
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "src" / "mwx" / "live" / "static" / "map" / "theater-50m.geojson"
DEFAULT_WINDOW = (100.0, 0.0, 180.0, 60.0)  # west, south, east, north degrees
DECIMALS = 4


# --------------------------------------------------------------------------- TopoJSON decoding
def decode_arcs(topo: dict[str, Any]) -> list[np.ndarray]:
    """Absolute lon/lat arcs of a TopoJSON topology (undo the quantization and the delta encoding)."""
    tr = topo.get("transform")
    arcs = []
    for arc in topo["arcs"]:
        a = np.asarray(arc, dtype=float)[:, :2]
        if tr is not None:  # quantized: each position is a delta from the previous one
            a = np.cumsum(a, axis=0) * np.asarray(tr["scale"]) + np.asarray(tr["translate"])
        arcs.append(a)
    return arcs


def unwrap(xy: np.ndarray) -> np.ndarray:
    """Make a line's longitudes continuous (no jump of ~360 degrees between neighbours)."""
    lon = xy[:, 0].copy()
    step = np.diff(lon)
    lon[1:] = lon[0] + np.cumsum(step - 360.0 * np.round(step / 360.0))
    return np.column_stack([lon, xy[:, 1]])


def ring(indices: Sequence[int], arcs: list[np.ndarray]) -> np.ndarray:
    """One ring from its arc indices (``~i``: arc ``i`` backwards; consecutive arcs share an end point)."""
    parts = []
    for k, i in enumerate(indices):
        a = arcs[i] if i >= 0 else arcs[~i][::-1]
        parts.append(a if k == 0 else a[1:])
    return unwrap(np.concatenate(parts))


def polygon(rings: Sequence[Sequence[int]], arcs: list[np.ndarray]) -> BaseGeometry:
    """A polygon in continuous longitude; a ring still winding around the globe (Antarctica) is dropped:
    no such ring reaches the theater."""
    shell, *holes = [ring(r, arcs) for r in rings]
    if abs(shell[-1, 0] - shell[0, 0]) > 180.0 or len(shell) < 4:
        return Polygon()
    mid = 0.5 * (shell[:, 0].min() + shell[:, 0].max())
    holes = [h + [360.0 * round((mid - h[:, 0].mean()) / 360.0), 0.0] for h in holes if len(h) >= 4]
    return shapely.make_valid(Polygon(shell, holes))


def polygons(obj: dict[str, Any], arcs: list[np.ndarray]) -> list[BaseGeometry]:
    """Every polygon of a TopoJSON geometry object."""
    typ = obj["type"]
    if typ == "Polygon":
        return [polygon(obj["arcs"], arcs)]
    if typ == "MultiPolygon":
        return [polygon(p, arcs) for p in obj["arcs"]]
    if typ == "GeometryCollection":
        return [p for g in obj["geometries"] for p in polygons(g, arcs)]
    return []


def arc_ids(obj: dict[str, Any]) -> set[int]:
    """The arcs (as non-negative indices) a polygonal geometry object uses."""
    typ = obj["type"]
    if typ == "Polygon":
        return {i if i >= 0 else ~i for r in obj["arcs"] for i in r}
    if typ == "MultiPolygon":
        return {i if i >= 0 else ~i for p in obj["arcs"] for r in p for i in r}
    if typ == "GeometryCollection":
        return set().union(*(arc_ids(g) for g in obj["geometries"]))
    return set()


# --------------------------------------------------------------------------- clipping
def clip(geom: BaseGeometry, window: tuple[float, float, float, float]) -> BaseGeometry:
    """``geom`` (continuous longitude) inside the window, taking each copy of it 360 degrees apart."""
    west, south, east, north = window
    pieces = []
    for shift in (-360.0, 0.0, 360.0):
        piece = translate(geom, xoff=shift).intersection(box(west, south, east, north))
        if not piece.is_empty:
            pieces.append(piece)
    return unary_union(pieces) if pieces else Polygon()


def parts(geom: BaseGeometry, kind: type) -> list[BaseGeometry]:
    """The parts of ``geom`` of type ``kind`` (Polygon or LineString), flattened."""
    if geom.is_empty:
        return []
    if isinstance(geom, kind):
        return [geom]
    return [p for g in getattr(geom, "geoms", []) for p in parts(g, kind)]


def rounded(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON geometry with coordinates rounded to DECIMALS (repeated points after rounding removed)."""
    geom = shapely.set_precision(geom, 10.0**-DECIMALS)
    out = mapping(geom)

    def rnd(c: Any) -> Any:
        if isinstance(c[0], (int, float)):
            return [round(float(c[0]), DECIMALS), round(float(c[1]), DECIMALS)]
        return [rnd(x) for x in c]

    out["coordinates"] = rnd(out["coordinates"])
    return out


# --------------------------------------------------------------------------- main
def derive(atlas: Path, window: tuple[float, float, float, float]) -> dict[str, Any]:
    land_topo = json.loads((atlas / "land-50m.json").read_text())
    land_arcs = decode_arcs(land_topo)
    land = clip(unary_union(polygons(land_topo["objects"]["land"], land_arcs)), window)
    land_mp = MultiPolygon(parts(land, Polygon))

    countries_topo = json.loads((atlas / "countries-50m.json").read_text())
    country_arcs = decode_arcs(countries_topo)
    uses = Counter(i for g in countries_topo["objects"]["countries"]["geometries"] for i in arc_ids(g))
    border_lines = [LineString(unwrap(country_arcs[i])) for i in sorted(uses) if uses[i] >= 2]
    borders = clip(shapely.line_merge(MultiLineString(border_lines)), window)
    borders_ml = MultiLineString(parts(borders, LineString))

    package = json.loads((atlas / "package.json").read_text())
    return {
        "type": "FeatureCollection",
        "metadata": {
            "source": "Natural Earth 1:50m land and admin-0 countries via npm world-atlas "
            f"{package.get('version', '?')} (land-50m.json, countries-50m.json)",
            "license": "Natural Earth data: public domain; world-atlas package: ISC",
            "window": {"west": window[0], "south": window[1], "east": window[2], "north": window[3]},
            "decimals": DECIMALS,
            "derived_by": "scripts/derive_console_map.py",
        },
        "features": [
            {"type": "Feature", "properties": {"layer": "land"}, "geometry": rounded(land_mp)},
            {"type": "Feature", "properties": {"layer": "borders"}, "geometry": rounded(borders_ml)},
        ],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("atlas", type=Path, help="unpacked world-atlas package directory")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--window", type=float, nargs=4, default=DEFAULT_WINDOW, metavar=("W", "S", "E", "N"))
    args = ap.parse_args()
    data = derive(args.atlas, tuple(args.window))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    size = args.out.stat().st_size
    land, borders = (f["geometry"]["coordinates"] for f in data["features"])
    print(f"wrote {args.out} ({size / 1e6:.2f} MB): {len(land)} land polygons, {len(borders)} border lines")


if __name__ == "__main__":
    main()
