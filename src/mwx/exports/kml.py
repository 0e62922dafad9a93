"""KML 2.2 (OGC): the run in folders, for Google Earth, QGIS and ATAK/WinTAK's KML import.

``run.kml`` holds a folder ``Sensors``, a folder ``Truth`` (true trajectories in 3-D, launch and impact points)
and one folder per partner (``fused`` last) with ``Tracks`` (3-D, absolute altitude, each with a TimeSpan
from its first to its last state), ``Launch points``, ``Impact points``, ``Impact ellipses 95 %`` and ``Alert
areas`` (each with a TimeSpan from its change to the next).  Geometry is that of the GeoJSON export: longitudes
in [-180, 180], cut at the antimeridian (MultiGeometry).  Written with fastkml.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import cast

from fastkml import containers, data, enums, features, geometry, kml, styles, times
from pygeoif import geometry as pg
from shapely.geometry.base import BaseGeometry

from mwx.exports.common import RunData, iso, partners_of, rgb_of
from mwx.exports.geometry import ellipse_geometry, rings_of, split_line, split_polygons
from mwx.sim.theater import Radar

FILENAME = "run.kml"
PRECISION = 6


def _color(rgb: tuple[int, int, int], alpha: int = 255) -> str:
    """KML colour: aabbggrr hex."""
    r, g, b = rgb
    return f"{alpha:02x}{b:02x}{g:02x}{r:02x}"


def _style(sid: str, rgb: tuple[int, int, int]) -> styles.Style:
    return styles.Style(
        id=sid,
        styles=[
            styles.IconStyle(color=_color(rgb), scale=0.8),
            styles.LineStyle(color=_color(rgb), width=2.0),
            styles.PolyStyle(color=_color(rgb, 0x50)),
        ],
    )


def _style_id(partner: str | None) -> str:
    return "truth" if partner is None else f"partner-{partner}"


def _span(begin: datetime, end: datetime | None = None) -> times.TimeSpan:
    return times.TimeSpan(begin=times.KmlDateTime(begin), end=times.KmlDateTime(end) if end is not None else None)


def _data(**values: object) -> data.ExtendedData:
    return data.ExtendedData(elements=[data.Data(name=k, value="" if v is None else str(v)) for k, v in values.items()])


def _line3d(points: list[tuple[float, float, float]]) -> geometry.LineString | geometry.MultiGeometry | None:
    parts = split_line(points)
    lines = [
        geometry.LineString(
            geometry=pg.LineString(cast(list[tuple[float, float, float]], part)),
            altitude_mode=enums.AltitudeMode.absolute,
        )
        for part in parts
    ]
    if not lines:
        return None
    return lines[0] if len(lines) == 1 else geometry.MultiGeometry(kml_geometries=lines)


def _polygons(area: BaseGeometry) -> geometry.Polygon | geometry.MultiGeometry | None:
    polys = [geometry.Polygon(geometry=pg.Polygon(ring), tessellate=True) for ring in rings_of(area)]
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else geometry.MultiGeometry(kml_geometries=polys)


def _point(lat: float, lon: float, alt: float | None = None) -> geometry.Point:
    if alt is None:
        return geometry.Point(geometry=pg.Point(lon, lat))
    return geometry.Point(geometry=pg.Point(lon, lat, alt), altitude_mode=enums.AltitudeMode.absolute)


def _placemark(name: str, geom, who: str | None, description: str = "", span=None, **values: object):
    """A placemark styled as partner ``who`` (None: the truth), its ``values`` as ExtendedData."""
    if geom is None:
        return None
    return features.Placemark(
        name=name,
        description=description or None,
        kml_geometry=geom,
        times=span,
        style_url=styles.StyleUrl(url=f"#{_style_id(who)}"),
        extended_data=_data(**values),
    )


def _folder(name: str, items: list) -> containers.Folder:
    return containers.Folder(name=name, features=[i for i in items if i is not None])


def document(run: RunData) -> kml.KML:
    partners = partners_of(run)
    sensors = _folder(
        "Sensors",
        [
            _placemark(
                s.id,
                _point(s.site.lat, s.site.lon),
                s.partner,
                f"{s.partner} {s.platform} radar",
                kind="sensor",
                partner=s.partner,
                id=s.id,
                sensor_kind=s.kind,
            )
            for s in run.sensors
            if isinstance(s, Radar)
        ],
    )
    truth_items = [
        _placemark(
            f"{p.obj.id} (truth)",
            _line3d(list(zip(p.lon.tolist(), p.lat.tolist(), p.alt.tolist(), strict=True))),
            None,
            f"true {p.obj.kind} of {p.launch.id}",
            _span(p.start, p.end),
            kind="trajectory",
            truth=True,
            launch_id=p.launch.id,
            object_id=p.obj.id,
            start=iso(p.start),
            end=iso(p.end),
        )
        for p in run.truth_paths
    ]
    for launch in run.truth.launches:
        truth_items.append(
            _placemark(
                f"{launch.id} launch (truth)",
                _point(launch.launch_point.lat, launch.launch_point.lon),
                None,
                f"true launch at {iso(launch.launch_time)}",
                kind="launch-point",
                truth=True,
                launch_id=launch.id,
                time=iso(launch.launch_time),
            )
        )
        truth_items.append(
            _placemark(
                f"{launch.id} impact (truth)",
                _point(launch.impact_point.lat, launch.impact_point.lon),
                None,
                f"true impact at {iso(launch.impact_time)}",
                kind="impact-point",
                truth=True,
                launch_id=launch.id,
                time=iso(launch.impact_time),
            )
        )
    folders = [sensors, _folder("Truth", truth_items)]
    for partner in partners:
        tracks = [
            _placemark(
                t.track_id,
                _line3d([(s.lon_deg, s.lat_deg, s.alt_m) for s in t.states]),
                partner,
                f"{partner} track {t.track_id}: {len(t.states)} states",
                _span(t.start, t.end),
                kind="track",
                partner=partner,
                track_id=t.track_id,
                start=iso(t.start),
                end=iso(t.end),
            )
            for t in run.tracks
            if t.partner == partner
        ]
        events = [e for e in run.events.events if e.partner == partner]
        launches, impacts, ellipses = [], [], []
        for e in events:
            common = {
                "partner": partner,
                "event_id": e.event_id,
                "truth_id": e.truth_id,
                "final": e.final,
                "estimated_at": iso(e.estimated_at),
                "class": e.missile_class,
            }
            launches.append(
                _placemark(
                    f"{e.event_id} launch",
                    _point(e.launch_point.lat, e.launch_point.lon),
                    partner,
                    f"reported launch at {iso(e.launch_time)}",
                    kind="launch-point",
                    time=iso(e.launch_time),
                    **common,
                )
            )
            impacts.append(
                _placemark(
                    f"{e.event_id} impact",
                    _point(e.impact_point.lat, e.impact_point.lon),
                    partner,
                    f"predicted impact at {iso(e.impact_time)}",
                    kind="impact-point",
                    time=iso(e.impact_time),
                    **common,
                )
            )
            ie = e.impact_ellipse_95
            ellipses.append(
                _placemark(
                    f"{e.event_id} impact 95 %",
                    _polygons(ellipse_geometry(e.impact_point, ie)),
                    partner,
                    f"95 % impact ellipse: {ie.semi_major_km:g} x {ie.semi_minor_km:g} km, major axis at "
                    f"{ie.orientation_deg:g}°",
                    kind="impact-ellipse-95",
                    semi_major_km=ie.semi_major_km,
                    semi_minor_km=ie.semi_minor_km,
                    orientation_deg=ie.orientation_deg,
                    **common,
                )
            )
        areas = []
        for ac in run.area_changes:
            if ac.alert.partner != partner:
                continue
            a, c = ac.alert, ac.change
            areas.append(
                _placemark(
                    f"{a.alert_id} {c.status}: {a.area.name}",
                    _polygons(split_polygons(ac.rings)),
                    partner,
                    f"{c.level or ''} {a.reason} alert for {a.area.name}, {c.status} at {iso(c.time)}".strip(),
                    _span(c.time, ac.until),
                    kind="alert-area",
                    partner=partner,
                    alert_id=a.alert_id,
                    change=ac.index,
                    area=a.area.name,
                    status=c.status,
                    level=c.level,
                    reason=a.reason,
                    time=iso(c.time),
                    until=iso(ac.until),
                )
            )
        folders.append(
            _folder(
                partner,
                [
                    _folder("Tracks", tracks),
                    _folder("Launch points", launches),
                    _folder("Impact points", impacts),
                    _folder("Impact ellipses 95 %", ellipses),
                    _folder("Alert areas", areas),
                ],
            )
        )
    doc = containers.Document(
        name=f"mwx run {run.scenario} (seed {run.seed})",
        description=f"EXERCISE - simulated data (mwx). {iso(run.start)} to {iso(run.end)}",
        styles=[_style(_style_id(None), rgb_of(None))] + [_style(_style_id(p), rgb_of(p)) for p in partners],
        features=folders,
    )
    return kml.KML(features=[doc])


def write(run: RunData, out_dir: Path) -> list[Path]:
    """Write ``run.kml`` into ``out_dir``."""
    path = out_dir / FILENAME
    text = document(run).to_string(prettyprint=True, precision=PRECISION)
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + text, encoding="utf-8")
    return [path]
