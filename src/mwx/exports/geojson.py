"""GeoJSON (RFC 7946): one FeatureCollection of the run, for QGIS, GDAL, geojson.io and any GIS.

Features (``properties.kind``): ``track`` (a partner's or the fused track's ground track, LineString),
``trajectory`` (a true object's ground track, ``truth: true``), ``launch-point`` and ``impact-point`` (each
event's reported point, and the true ones with ``truth: true``), ``impact-ellipse-95`` (each event's final
95 % impact ellipse, geodesic Polygon), ``alert-area`` (each alert change's area, Polygon or MultiPolygon),
``alert-ellipse-95`` (an alert change's 95 % ellipse) and ``sensor`` (Point).  Longitudes are in [-180, 180];
lines and polygons that cross the antimeridian are cut there (MultiLineString / MultiPolygon).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geojson
import numpy as np
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from mwx.exports.common import RunData, iso
from mwx.exports.geometry import ellipse_geometry, split_line, split_polygons
from mwx.geo import wgs84
from mwx.geo.lon import wrap_lon
from mwx.sim.theater import GeostationaryOrbit, InfraredSatellite, Radar

FILENAME = "run.geojson"
PRECISION = 6  # decimals of a degree: 0.1 m


def line_geometry(points: list[tuple[float, ...]]) -> geojson.geometry.Geometry | None:
    parts = split_line(points)
    if not parts:
        return None
    if len(parts) == 1:
        return geojson.LineString(parts[0], validate=True, precision=PRECISION)
    return geojson.MultiLineString(parts, validate=True, precision=PRECISION)


def point_geometry(lat: float, lon: float) -> geojson.Point:
    return geojson.Point((lon if -180.0 <= lon <= 180.0 else wrap_lon(lon), lat), precision=PRECISION)


def area_geometry(geometry: BaseGeometry) -> geojson.geometry.Geometry | None:
    if geometry.is_empty:
        return None
    shape = mapping(geometry)
    if shape["type"] == "Polygon":
        return geojson.Polygon(shape["coordinates"], validate=True, precision=PRECISION)
    return geojson.MultiPolygon(shape["coordinates"], validate=True, precision=PRECISION)


def features(run: RunData) -> list[geojson.Feature]:
    """Every feature of the run, in a fixed order: tracks, truth, events, alerts, sensors."""
    out: list[geojson.Feature] = []

    def add(fid: str, geometry: Any, **properties: Any) -> None:
        if geometry is not None:
            out.append(geojson.Feature(id=fid, geometry=geometry, properties=properties))

    for track in run.tracks:
        add(
            f"track/{track.partner}/{track.track_id}",
            line_geometry([(s.lon_deg, s.lat_deg) for s in track.states]),
            kind="track",
            truth=False,
            partner=track.partner,
            track_id=track.track_id,
            start=iso(track.start),
            end=iso(track.end),
            states=len(track.states),
        )
    for path in run.truth_paths:
        add(
            f"trajectory/{path.obj.id}",
            line_geometry(list(zip(path.lon.tolist(), path.lat.tolist(), strict=True))),
            kind="trajectory",
            truth=True,
            partner=None,
            launch_id=path.launch.id,
            object_id=path.obj.id,
            object_kind=path.obj.kind,
            start=iso(path.start),
            end=iso(path.end),
        )
    for launch in run.truth.launches:
        common: dict[str, Any] = {"truth": True, "partner": None, "launch_id": launch.id, "class": launch.missile_class}
        add(
            f"launch-point/truth/{launch.id}",
            point_geometry(launch.launch_point.lat, launch.launch_point.lon),
            kind="launch-point",
            time=iso(launch.launch_time),
            **common,
        )
        add(
            f"impact-point/truth/{launch.id}",
            point_geometry(launch.impact_point.lat, launch.impact_point.lon),
            kind="impact-point",
            time=iso(launch.impact_time),
            **common,
        )
    for e in run.events.events:
        common = {
            "truth": False,
            "partner": e.partner,
            "event_id": e.event_id,
            "truth_id": e.truth_id,
            "final": e.final,
            "estimated_at": iso(e.estimated_at),
            "class": e.missile_class,
        }
        le = e.launch_ellipse_95
        add(
            f"launch-point/{e.partner}/{e.event_id}",
            point_geometry(e.launch_point.lat, e.launch_point.lon),
            kind="launch-point",
            time=iso(e.launch_time),
            sigma_km=e.launch_point_sigma_km,
            semi_major_km=le.semi_major_km,
            semi_minor_km=le.semi_minor_km,
            orientation_deg=le.orientation_deg,
            **common,
        )
        add(
            f"impact-point/{e.partner}/{e.event_id}",
            point_geometry(e.impact_point.lat, e.impact_point.lon),
            kind="impact-point",
            time=iso(e.impact_time),
            sigma_s=e.impact_time_sigma_s,
            **common,
        )
        ie = e.impact_ellipse_95
        add(
            f"impact-ellipse-95/{e.partner}/{e.event_id}",
            area_geometry(ellipse_geometry(e.impact_point, ie)),
            kind="impact-ellipse-95",
            time=iso(e.impact_time),
            semi_major_km=ie.semi_major_km,
            semi_minor_km=ie.semi_minor_km,
            orientation_deg=ie.orientation_deg,
            **common,
        )
    for alert in run.alerts.alerts:
        for i, change in enumerate(alert.history):
            common = {
                "truth": False,
                "partner": alert.partner,
                "alert_id": alert.alert_id,
                "change": i,
                "area": alert.area.name,
                "area_kind": alert.area.kind,
                "area_partner": alert.area.partner,
                "reason": alert.reason,
                "launch_id": alert.launch_id,
                "track_id": alert.track_id,
                "truth_id": alert.truth_id,
                "status": change.status,
                "level": change.level,
                "probability": change.probability,
                "time": iso(change.time),
            }
            if change.alert_area:
                add(
                    f"alert-area/{alert.alert_id}/{i}",
                    area_geometry(split_polygons(change.alert_area)),
                    kind="alert-area",
                    **common,
                )
            if change.ellipse_95 and change.impact_point:
                ce = change.ellipse_95
                add(
                    f"alert-ellipse-95/{alert.alert_id}/{i}",
                    area_geometry(ellipse_geometry(change.impact_point, ce)),
                    kind="alert-ellipse-95",
                    semi_major_km=ce.semi_major_km,
                    semi_minor_km=ce.semi_minor_km,
                    orientation_deg=ce.orientation_deg,
                    **common,
                )
    for sensor in run.sensors:
        props: dict[str, Any] = {
            "kind": "sensor",
            "truth": False,
            "partner": sensor.partner,
            "id": sensor.id,
            "sensor_kind": sensor.kind,
        }
        if isinstance(sensor, Radar):
            props |= {"platform": sensor.platform, "alt_m": sensor.site.alt_m, "max_range_km": sensor.max_range_km}
            add(f"sensor/{sensor.id}", point_geometry(sensor.site.lat, sensor.site.lon), **props)
        elif isinstance(sensor, InfraredSatellite):
            at = run.start.timestamp()
            lat, lon, alt = wgs84.ecef_to_geodetic(sensor.position(at)[0])
            props |= {
                "platform": "satellite",
                "alt_m": round(float(alt), 1),
                "orbit": "geostationary" if isinstance(sensor.orbit, GeostationaryOrbit) else "kepler",
                "at": iso(run.start),
            }
            add(f"sensor/{sensor.id}", point_geometry(float(np.degrees(lat)), float(np.degrees(lon))), **props)
    return out


def collection(run: RunData) -> geojson.FeatureCollection:
    return geojson.FeatureCollection(
        features(run),
        mwx={"scenario": run.scenario, "seed": run.seed, "start": iso(run.start), "end": iso(run.end)},
    )


def write(run: RunData, out_dir: Path) -> list[Path]:
    """Write ``run.geojson`` into ``out_dir``."""
    path = out_dir / FILENAME
    path.write_text(geojson.dumps(collection(run), sort_keys=False) + "\n", encoding="utf-8")
    return [path]
