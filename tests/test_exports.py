"""Standard exports (mwx.exports, `mwx export`): each format loaded back by a real parser of it.

GeoJSON by the ``geojson`` library and shapely, KML by fastkml against the OGC KML 2.2 schema it ships, CZML by
czml3's pydantic models, CoT by takproto (TAK's protobuf, from the CoT XML).  A synthetic run folder (records
built here, a flight across the antimeridian, alert areas) checks the content; one real run checks `mwx run`
writes them and that they hold what events.json and alerts.json say.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import geojson
import msgspec
import numpy as np
import pytest
import shapely
import takproto
from czml3 import Document
from fastkml import kml as fastkml_kml
from fastkml.validator import validate as validate_kml
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from pyproj import Geod
from shapely.geometry import Polygon, shape

from mwx import records
from mwx.cli import main
from mwx.exports import FORMATS, export, load_run
from mwx.exports.common import horizontal_vertical_sigma
from mwx.exports.czml import cesium_rotation
from mwx.exports.geometry import split_line, split_polygons
from mwx.geo import wgs84
from mwx.geo.ellipse import geodesic_ellipse

GEOD = Geod(ellps="WGS84")
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
SCENARIOS = Path(__file__).parent / "data" / "scenarios"
REQUIRED_EVENT = ("version", "uid", "type", "time", "start", "stale", "how")
REQUIRED_POINT = ("lat", "lon", "hae", "ce", "le")


# --------------------------------------------------------------------------- a synthetic run folder
def _t(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _path(n: int = 61) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Times [s], lat, lon [deg] and height [m] of a 1500 km flight east across the antimeridian."""
    lon0, lat0, lon1, lat1 = 172.0, 40.0, -171.0, 36.0
    inner = np.array(GEOD.npts(lon0, lat0, lon1, lat1, n - 2))
    lon = np.r_[lon0, inner[:, 0], lon1]
    lat = np.r_[lat0, inner[:, 1], lat1]
    s = np.linspace(0.0, 1.0, n)
    return s * 600.0, lat, lon, 400e3 * 4.0 * s * (1.0 - s)


def _ellipse(a: float, b: float, o: float) -> dict:
    return {"semi_major_km": a, "semi_minor_km": b, "orientation_deg": o}


def _event(partner: str, event_id: str, impact: tuple[float, float], final: bool) -> dict:
    lat, lon = impact
    launch = {"lat": 40.0, "lon": 172.0}
    update = {
        "time": _t(200), "launch_time": _t(0), "launch_point": launch, "launch_ellipse_95": _ellipse(3, 1, 10),
        "launch_method": "boost", "apogee_km": 400.0, "range_km": 1500.0, "impact_time": _t(600),
        "impact_point": {"lat": lat + 0.1, "lon": lon}, "impact_ellipse_95": _ellipse(30, 10, 80), "class": "MRBM",
        "lofted": False, "equivalent_range_km": 1500.0, "stage_probability": 0.0, "over_territory_of": [],
        "inside_eez_of": [], "number_of_objects": 1, "estimated_at": _t(200),
    }  # fmt: skip
    last = update | {"time": _t(300), "estimated_at": _t(300), "impact_point": {"lat": lat, "lon": lon},
                     "impact_ellipse_95": _ellipse(12, 4, 95)}  # fmt: skip
    return {
        "partner": partner, "event_id": event_id, "truth_id": "L1", "truth_object": "L1/RV",
        "track_ids": [event_id], "grouped": {}, "track_truth_ids": {event_id: "L1"}, "final": final,
        "first_detection": _t(30), "first_warning": None, "launch_time": _t(0), "launch_time_sigma_s": 2.0,
        "launch_point": launch, "launch_point_sigma_km": 1.0, "launch_ellipse_95": _ellipse(3, 1, 10),
        "launch_method": "boost", "apogee_km": 400.0, "range_km": 1500.0, "flight_time_s": 600.0,
        "max_speed_mps": 4000.0, "impact_time": _t(600), "impact_time_sigma_s": 3.0,
        "impact_point": {"lat": lat, "lon": lon}, "impact_ellipse_95": _ellipse(12, 4, 95),
        "impact_area": {"partner": None, "kind": None, "name": None, "probability": 0.0},
        "impact_probability": {}, "class": "MRBM", "lofted": False, "equivalent_range_km": 1500.0,
        "stage_probability": 0.0, "overflights": [], "over_territory_of": [], "inside_eez_of": [],
        "number_of_objects": 1, "estimated_at": _t(300), "updates": [update, last],
    }  # fmt: skip


def _ring(lat: float, lon: float, a: float, b: float, o: float) -> list[list[float]]:
    """A closed alert ring of [lon, lat] in [-180, 180] (as CAP writes it: not cut at the antimeridian)."""
    lats, lons = geodesic_ellipse(lat, lon, a, b, o, 24, closed=True, circumscribed=True)
    return [[round(float((x + 180.0) % 360.0 - 180.0), 5), round(float(y), 5)] for x, y in zip(lons, lats, strict=True)]


#: Alert changes of the synthetic run: an area across the antimeridian, one of two rings, one ordinary.
ACROSS = _ring(36.0, 179.9, 60, 30, 70)
TWO = [_ring(36.0, -171.0, 40, 20, 0), _ring(37.5, -169.0, 30, 30, 0)]
PLAIN = _ring(38.0, 135.0, 50, 20, 45)


def _alerts() -> dict:
    change = {"why": ["level"], "level": "warning", "reason": "impact", "impact_point": {"lat": 36.0, "lon": 179.9},
              "impact_time": _t(600), "probability": 0.7, "ellipse_95": _ellipse(20, 8, 70)}  # fmt: skip
    return {
        "alerts": [
            {"alert_id": "US-A0001", "partner": "US", "area": {"partner": "US", "kind": "eez", "name": "Islands EEZ"},
             "reason": "impact", "launch_id": "US-E001", "track_id": "US-T0001", "level_changes": 0,
             "truth_id": "L1",
             "history": [change | {"time": _t(210), "status": "issued", "alert_area": [ACROSS]},
                         change | {"time": _t(320), "status": "updated", "why": ["area"], "alert_area": TWO},
                         {"time": _t(640), "status": "ended", "why": ["impact"], "alert_area": TWO}]},
            {"alert_id": "JP-A0001", "partner": "JP", "area": {"partner": "JP", "kind": "territory", "name": "Japan"},
             "reason": "overflight", "launch_id": "JP-E001", "track_id": "JP-T0001", "level_changes": 0,
             "truth_id": None,
             "history": [{"time": _t(100), "status": "issued", "why": ["level"], "level": "advisory",
                          "reason": "overflight", "crossing_time": _t(150), "alert_area": [PLAIN]},
                         {"time": _t(400), "status": "cancelled", "why": ["track"]}]},
        ]
    }  # fmt: skip


def write_synthetic_run(folder: Path) -> None:
    """A run folder of one flight across the antimeridian, tracked by JP and the fused picture, two events,
    two alerts; every file written from its record type (so the test breaks if the records change)."""
    folder.mkdir(parents=True, exist_ok=True)
    t, lat, lon, alt = _path()
    xyz = wgs84.geodetic_to_ecef(np.radians(lat), np.radians(lon), alt)
    trajectory = [(T0.timestamp() + ti, *p, 0.0, 0.0, 0.0) for ti, p in zip(t.tolist(), xyz.tolist(), strict=True)]
    truth = {
        "scenario": "antimeridian", "seed": 1, "sensor_biases": {},
        "launches": [{"id": "L1", "launch_time": _t(0), "launch_point": {"lat": 40.0, "lon": 172.0},
                      "azimuth_deg": 100.0, "apogee_km": 400.0, "range_km": 1500.0, "flight_time_s": 600.0,
                      "burnout_time": _t(60), "impact_time": _t(600), "impact_point": {"lat": 36.0, "lon": -171.0},
                      "max_speed_mps": 4000.0, "equivalent_range_km": 1500.0, "class": "MRBM",
                      "objects": [{"id": "L1/RV", "kind": "warhead", "rcs_m2": 0.1, "trajectory": trajectory}]}],
    }  # fmt: skip
    records.write(folder / "truth.json", msgspec.convert(truth, records.TruthFile))
    events = {
        "events": [
            _event("JP", "JP-T0001", (36.0, 179.95), True),
            _event("fused", "fused-F0001", (36.0, -171.0), False),
        ]
    }
    records.write(folder / "events.json", msgspec.convert(events, records.EventsFile))
    records.write(folder / "alerts.json", msgspec.convert(_alerts(), records.AlertsFile))
    manifest = {"mwx_version": "0", "scenario": "antimeridian", "seed": 1, "theater": "korea-japan",
                "bus": "embedded", "participants": ["KR", "JP", "US", "fused"], "start": _t(0), "end": _t(640),
                "files": []}  # fmt: skip
    records.write(folder / "manifest.json", msgspec.convert(manifest, records.Manifest))
    with (folder / "tracks.csv").open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(records.TRACKS_COLUMNS)
        for partner, track_id in (("JP", "JP-T0001"), ("fused", "fused-F0001")):
            for k in range(5, len(t)):
                out.writerow([records.utc(T0.timestamp() + t[k]).isoformat().replace("+00:00", "Z"),
                              T0.timestamp() + t[k], partner, track_id, lat[k], lon[k], alt[k], *xyz[k],
                              100.0, 0.0, -50.0, 400.0, 900.0, 100.0, 1.0, 1.0, 1.0])  # fmt: skip


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("exports") / "run"
    write_synthetic_run(folder)
    export(folder)
    return folder


# --------------------------------------------------------------------------- checks shared by both runs
def check_geojson(path: Path) -> dict:
    fc = geojson.loads(path.read_text())
    assert isinstance(fc, geojson.FeatureCollection) and fc.is_valid, fc.errors()
    for feature in fc["features"]:
        assert feature.is_valid, (feature["id"], feature.errors())
        geom = shape(feature["geometry"])
        assert geom.is_valid and not geom.is_empty, feature["id"]
        xy = shapely.get_coordinates(geom)
        assert (np.abs(xy[:, 0]) <= 180.0).all() and (np.abs(xy[:, 1]) <= 90.0).all(), feature["id"]
        for part in _lines(feature["geometry"]):
            assert (np.abs(np.diff(np.asarray(part)[:, 0])) <= 180.0).all(), feature["id"]
        props = feature["properties"]
        assert props["kind"] and "partner" in props and "truth" in props, feature["id"]
        for key in ("time", "start", "end", "estimated_at"):
            if props.get(key) is not None:
                datetime.fromisoformat(props[key])
    return fc


def _lines(geometry: dict) -> list[list[list[float]]]:
    kind, coords = geometry["type"], geometry["coordinates"]
    if kind == "LineString":
        return [coords]
    if kind in ("MultiLineString", "Polygon"):
        return coords
    return [ring for polygon in coords for ring in polygon] if kind == "MultiPolygon" else []


def check_against_records(folder: Path, fc: dict) -> None:
    """One ellipse per event (final ones marked), and the alert areas of alerts.json, ring for ring."""
    events = records.read(folder / "events.json", records.EventsFile).events
    alerts = records.read(folder / "alerts.json", records.AlertsFile).alerts
    by_kind: dict[str, list[dict]] = {}
    for feature in fc["features"]:
        by_kind.setdefault(feature["properties"]["kind"], []).append(feature)
    ellipses = by_kind.get("impact-ellipse-95", [])
    assert sorted(f["properties"]["event_id"] for f in ellipses) == sorted(e.event_id for e in events)
    assert sum(f["properties"]["final"] for f in ellipses) == sum(e.final for e in events)
    for f in ellipses:
        event = next(e for e in events if e.event_id == f["properties"]["event_id"])
        area_km2 = abs(GEOD.geometry_area_perimeter(shape(f["geometry"]))[0]) / 1e6
        a, b = event.impact_ellipse_95.semi_major_km, event.impact_ellipse_95.semi_minor_km
        assert area_km2 == pytest.approx(math.pi * max(a, 0.01) * max(b, 0.01), rel=0.02), event.event_id
    expected = {(a.alert_id, i): c.alert_area for a in alerts for i, c in enumerate(a.history) if c.alert_area}
    areas = {(f["properties"]["alert_id"], f["properties"]["change"]): f for f in by_kind.get("alert-area", [])}
    assert set(areas) == set(expected)
    for key, rings in expected.items():
        props = areas[key]["properties"]
        alert = next(a for a in alerts if a.alert_id == key[0])
        assert (props["partner"], props["status"]) == (alert.partner, alert.history[key[1]].status)
        got = shape(areas[key]["geometry"])
        want = split_polygons(rings)
        assert got.symmetric_difference(want).area <= 1e-6 * want.area, key
        if all(max(x for x, _ in r) - min(x for x, _ in r) < 180.0 for r in rings):  # not across the seam
            want_plain = shapely.union_all([Polygon(r) for r in rings])
            assert got.symmetric_difference(want_plain).area <= 1e-6 * want_plain.area, key


def check_kml(path: Path) -> fastkml_kml.KML:
    assert validate_kml(file_to_validate=path)  # the OGC KML 2.2 schema (fastkml ships it)
    etree.parse(str(path))
    return fastkml_kml.KML.parse(path, strict=True, validate=True)


def check_czml(path: Path) -> Document:
    doc = Document.model_validate_json(path.read_text())  # czml3's pydantic models
    assert doc.packets[0].id == "document" and doc.packets[0].clock is not None
    ids = [p.id for p in doc.packets]
    assert len(ids) == len(set(ids))
    return doc


def check_cot(folder: Path) -> list[tuple[ET.Element, Any]]:
    parsed = []
    for path in sorted(folder.glob("*.cot")):
        data = path.read_bytes()
        message = takproto.parse_proto(bytearray(data))  # TAK's own parser: CoT XML to its protobuf
        assert message is not None, path
        event = ET.fromstring(data)
        point = event.find("point")
        assert event.tag == "event" and point is not None
        assert all(event.get(k) for k in REQUIRED_EVENT) and all(point.get(k) for k in REQUIRED_POINT), path
        assert event.get("version") == "2.0" and event.get("opex") == "e"
        cot = message.cotEvent
        assert (cot.type, cot.uid, cot.how, cot.opex) == (event.get("type"), event.get("uid"), event.get("how"), "e")
        assert -90.0 <= cot.lat <= 90.0 and -180.0 <= cot.lon <= 180.0 and math.isfinite(cot.hae)
        assert math.isfinite(cot.ce) and cot.ce > 0.0 and math.isfinite(cot.le) and cot.le > 0.0
        assert cot.startTime >= cot.sendTime and cot.staleTime > cot.sendTime and cot.staleTime > cot.startTime
        parsed.append((event, message))
    return parsed


# --------------------------------------------------------------------------- the synthetic run
def test_every_format_is_written_and_read_back(synthetic: Path) -> None:
    out = synthetic / "exports"
    assert sorted(p.name for p in out.iterdir()) == ["cot", "run.czml", "run.geojson", "run.kml"]
    check_against_records(synthetic, check_geojson(out / "run.geojson"))
    check_kml(out / "run.kml")
    check_czml(out / "run.czml")
    assert check_cot(out / "cot")


def test_geojson_cuts_the_flight_and_the_areas_at_the_antimeridian(synthetic: Path) -> None:
    fc = geojson.loads((synthetic / "exports" / "run.geojson").read_text())
    by_id = {f["id"]: f for f in fc["features"]}
    for fid in ("track/JP/JP-T0001", "track/fused/fused-F0001", "trajectory/L1/RV"):
        geometry = by_id[fid]["geometry"]
        assert geometry["type"] == "MultiLineString", fid
        west, east = geometry["coordinates"]
        assert west[-1][0] == 180.0 and east[0][0] == -180.0 and west[-1][1] == east[0][1]
    assert by_id["trajectory/L1/RV"]["properties"]["truth"] is True
    assert by_id["alert-area/US-A0001/0"]["geometry"]["type"] == "MultiPolygon"  # across the seam
    assert by_id["alert-area/US-A0001/1"]["geometry"]["type"] == "MultiPolygon"  # two rings
    assert by_id["alert-area/US-A0001/2"]["properties"]["status"] == "ended"  # every change alerts.json gives
    assert by_id["alert-area/JP-A0001/0"]["geometry"]["type"] == "Polygon"
    assert by_id["impact-ellipse-95/JP/JP-T0001"]["geometry"]["type"] == "MultiPolygon"  # centre 179.95°E
    issued = {"alert_id": "US-A0001", "partner": "US", "area": "Islands EEZ", "status": "issued", "level": "warning",
              "time": "2024-03-01T12:03:30.000Z"}  # fmt: skip
    assert by_id["alert-area/US-A0001/0"]["properties"].items() >= issued.items()
    assert "alert-ellipse-95/US-A0001/0" in by_id
    sensors = [f for f in fc["features"] if f["properties"]["kind"] == "sensor"]
    assert sensors and all({"id", "partner", "sensor_kind"} <= set(f["properties"]) for f in sensors)
    assert {f["properties"]["partner"] for f in sensors} == {"KR", "JP", "US"}


def test_kml_has_a_folder_per_partner_with_timed_tracks(synthetic: Path) -> None:
    doc = check_kml(synthetic / "exports" / "run.kml").features[0]
    folders = {f.name: f for f in doc.features}
    assert list(folders)[:2] == ["Sensors", "Truth"] and list(folders)[-1] == "fused"
    assert {"JP", "US", "fused"} <= set(folders)
    jp = {f.name: f for f in folders["JP"].features}
    assert [p.name for p in jp["Tracks"].features] == ["JP-T0001"]
    track = jp["Tracks"].features[0]
    assert track.times.begin is not None and track.times.end is not None
    assert len(jp["Impact ellipses 95 %"].features) == 1
    assert [p.name for p in {f.name: f for f in folders["US"].features}["Alert areas"].features] == [
        "US-A0001 issued: Islands EEZ", "US-A0001 updated: Islands EEZ"]  # fmt: skip


def test_czml_samples_every_track_and_draws_ellipses_and_alert_areas(synthetic: Path) -> None:
    doc = check_czml(synthetic / "exports" / "run.czml")
    packets = {p.id: p for p in doc.packets}
    clock = packets["document"].clock
    assert clock.interval.start.startswith("2024-03-01T12:00:00") and clock.interval.end.startswith(
        "2024-03-01T12:10:40"
    )
    track = packets["track/JP-T0001"]
    samples = np.asarray(track.position.cartesian.values).reshape(-1, 4)
    assert len(samples) == 56 and (np.diff(samples[:, 0]) > 0).all() and track.position.referenceFrame == "FIXED"
    assert "truth/L1/RV" in packets
    impact = packets["impact/JP-T0001/1"]  # the last update: 12 x 4 km, major axis at 95°
    assert (impact.ellipse.semiMajorAxis, impact.ellipse.semiMinorAxis) == (12000.0, 4000.0)
    assert impact.ellipse.rotation == pytest.approx(math.radians(90.0 - 95.0), abs=1e-6)
    alerts = [p for p in doc.packets if p.id.startswith("alert/")]
    # in force from each change to the next: the ended change repeats the area but closes it, so it is not shown
    assert sorted(p.id for p in alerts) == ["alert/JP-A0001/0/0", "alert/US-A0001/0/0", "alert/US-A0001/1/0",
                                            "alert/US-A0001/1/1"]  # fmt: skip
    assert packets["alert/US-A0001/1/0"].availability.end.startswith("2024-03-01T12:10:40")  # ended at +640 s


def test_cesium_rotation_turns_an_azimuth_into_east_counter_clockwise() -> None:
    """Cesium's EllipseGeometryLibrary puts the semi-major axis along east·cos(r) + north·sin(r)."""
    for azimuth in (0.0, 30.0, 90.0, 135.0, 179.0):
        r = cesium_rotation(azimuth)
        east, north = math.cos(r), math.sin(r)
        assert math.degrees(math.atan2(east, north)) % 180.0 == pytest.approx(azimuth % 180.0, abs=1e-4)


def test_cot_events_carry_the_required_attributes_and_sane_values(synthetic: Path) -> None:
    parsed = check_cot(synthetic / "exports" / "cot")
    kinds: dict[str, list[ET.Element]] = {}
    for event, _ in parsed:
        kinds.setdefault(event.get("uid", "").split(".")[2], []).append(event)
    assert len(kinds["track"]) == 2 and len(kinds["impact"]) == 4 and len(kinds["alert"]) == 3
    for event in kinds["track"]:
        assert event.get("type", "").startswith("a-h-") and event.get("how") in {"m-a", "m-f"}
        track = event.find("detail/track")
        assert track is not None and 0.0 <= float(track.get("course", "-1")) < 360.0
    for event in kinds["impact"]:
        ellipse = event.find("detail/shape/ellipse")
        point = event.find("point")
        assert ellipse is not None and point is not None
        assert float(point.get("ce", "0")) == pytest.approx(float(ellipse.get("major", "0")) / 2.4477, rel=1e-3)
    stale = [datetime.fromisoformat(e.get("stale", "")) for e in kinds["alert"] if "US-A0001" in e.get("uid", "")]
    assert stale == [_t(320), _t(640)]  # each area until the next change, the last until the alert ended
    (jp,) = [e for e in kinds["alert"] if "JP-A0001" in e.get("uid", "")]
    links = jp.findall("detail/link")  # JP's advisory: one ring, as alerts.json gives it
    assert [[float(v) for v in reversed(link.get("point", "").split(","))] for link in links] == PLAIN


def test_ce_and_le_come_from_the_covariance_rotated_into_east_north_up() -> None:
    """At (0°N, 0°E) ECEF x is up, y east, z north: ce is the larger horizontal σ, le the vertical one."""
    row = dict.fromkeys(records.TRACKS_COLUMNS, 0.0) | {
        "time_utc": T0, "partner": "JP", "track_id": "JP-T0001", "x_m": wgs84.A,
        "var_x_m2": 25.0, "var_y_m2": 900.0, "var_z_m2": 400.0,
    }  # fmt: skip
    state = msgspec.convert(row, records.TrackState)
    assert horizontal_vertical_sigma(state) == pytest.approx((30.0, 5.0))
    at_pole = msgspec.convert(row | {"lat_deg": 90.0, "x_m": 0.0, "z_m": wgs84.B}, records.TrackState)
    assert horizontal_vertical_sigma(at_pole) == pytest.approx((30.0, 20.0))  # x, y horizontal; z up


def test_exports_repeat_byte_for_byte(synthetic: Path, tmp_path: Path) -> None:
    export(synthetic, out_dir=tmp_path)
    for name in ("run.geojson", "run.kml", "run.czml"):
        assert (tmp_path / name).read_bytes() == (synthetic / "exports" / name).read_bytes(), name
    assert sorted(p.name for p in (tmp_path / "cot").iterdir()) == sorted(
        p.name for p in (synthetic / "exports" / "cot").iterdir()
    )


# --------------------------------------------------------------------------- the command line
def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_mwx_export_writes_the_formats_asked_for(
    synthetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", str(synthetic), "--format", "geojson", "--format", "COT", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cot", "run.geojson"]
    out = capsys.readouterr().out
    assert str(tmp_path / "run.geojson") in out and "CoT events" in out


@pytest.mark.parametrize("case", ["not a run folder", "missing", "unknown format", "bad record"])
def test_mwx_export_refuses_with_one_line(
    case: str, synthetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, args = synthetic, []
    if case == "not a run folder":
        folder = tmp_path
    elif case == "missing":
        folder = tmp_path / "nowhere"
    elif case == "unknown format":
        args = ["--format", "kmz"]
    else:
        folder = tmp_path / "run"
        write_synthetic_run(folder)
        events = json.loads((folder / "events.json").read_text())
        events["events"][0]["impact_point"]["lat"] = 123.0
        (folder / "events.json").write_text(json.dumps(events))
    assert main(["export", str(folder), *args, "--out", str(tmp_path / "out")]) == 2
    line = error_line(capsys)
    assert {"not a run folder": "not a run folder", "missing": "no such run folder", "unknown format": "kmz",
            "bad record": "impact_point.lat"}[case] in line  # fmt: skip
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_the_format_names_are_the_documented_ones() -> None:
    assert list(FORMATS) == ["geojson", "kml", "czml", "cot"]
    doc = (Path(__file__).parents[1] / "docs" / "exports.md").read_text()
    assert all(f"`{name}`" in doc for name in FORMATS)


# --------------------------------------------------------------------------- the antimeridian, by property
@st.composite
def walks(draw: st.DrawFn) -> list[tuple[float, float]]:
    """A path of short steps (< 90° of longitude) in unwrapped longitude, written in [-180, 180]."""
    lon = draw(st.floats(-540.0, 540.0))
    lat = draw(st.floats(-85.0, 85.0))
    points = []
    for dlon, dlat in draw(st.lists(st.tuples(st.floats(-89.0, 89.0), st.floats(-5.0, 5.0)), max_size=40)):
        points.append((lon, lat))
        lon, lat = lon + dlon, min(85.0, max(-85.0, lat + dlat))
    points.append((lon, lat))
    return [(((x + 180.0) % 360.0) - 180.0, y) for x, y in points]


@given(walks())
@settings(max_examples=300, deadline=None)
def test_split_lines_stay_in_range_with_no_segment_over_180(points: list[tuple[float, float]]) -> None:
    parts = split_line(points)
    for part in parts:
        xy = np.asarray(part)
        assert len(xy) >= 2
        assert (xy[:, 0] >= -180.0).all() and (xy[:, 0] <= 180.0).all()
        assert (np.abs(np.diff(xy[:, 0])) <= 180.0).all()
    distinct = {p for i, p in enumerate(points) if i == 0 or p != points[i - 1]}
    kept = {tuple(c) for part in parts for c in part}
    assert {(x if x != 180.0 else -180.0, y) for x, y in distinct if len(distinct) > 1} <= {
        (x if x != 180.0 else -180.0, y) for x, y in kept
    }


@given(
    st.floats(-180.0, 180.0),
    st.floats(-70.0, 70.0),
    st.floats(1.0, 1500.0),
    st.floats(0.05, 1.0),
    st.floats(0.0, 180.0),
)
@settings(max_examples=200, deadline=None)
def test_split_polygons_stay_in_range_and_keep_the_area(
    lon: float, lat: float, a_km: float, ratio: float, orientation: float
) -> None:
    lats, lons = geodesic_ellipse(lat, lon, a_km, a_km * ratio, orientation, 36, closed=True)
    ring = list(zip(((lons + 180.0) % 360.0 - 180.0).tolist(), lats.tolist(), strict=True))  # as written out
    out = split_polygons([ring])
    assert out.is_valid and not out.is_empty
    for part in getattr(out, "geoms", [out]):
        xy = np.asarray(part.exterior.coords)
        assert (np.abs(xy[:, 0]) <= 180.0).all()
        assert (np.abs(np.diff(xy[:, 0])) <= 180.0).all()
        assert part.exterior.is_ccw
    continuous = Polygon(np.column_stack([lons, lats]))
    assert out.area == pytest.approx(continuous.area, rel=1e-6, abs=continuous.length * 1e-6)  # 1e-6° grid


# --------------------------------------------------------------------------- a real run
def _mwx(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mwx.cli", *args], capture_output=True, text=True, timeout=600)


def check_real_run(folder: Path) -> None:
    out = folder / "exports"
    assert {"run.geojson", "run.kml", "run.czml", "cot"} <= {p.name for p in out.iterdir()}
    fc = check_geojson(out / "run.geojson")
    check_against_records(folder, fc)
    check_kml(out / "run.kml")
    check_czml(out / "run.czml")
    parsed = check_cot(out / "cot")
    run = load_run(folder)
    assert sum(e.get("uid", "").split(".")[2] == "track" for e, _ in parsed) == len(run.tracks)
    assert any(e.get("type", "").startswith("a-h-") for e, _ in parsed)


#: A radar the scenario adds to its theater (far south of the flights: it changes nothing they see).
EXTRA_RADAR = """extra_radars:
  - {id: X-R9, partner: JP, site: {lat: 26.2, lon: 127.7}, revisit_s: 5, ref_range_km: 300, max_range_km: 400,
     sigma_range_m: 30, sigma_az_mrad: 1, sigma_el_mrad: 1}
"""


def test_mwx_run_writes_the_exports(tmp_path: Path) -> None:
    """A real run (Korea's EEZ warned of two SRBMs, and a radar the scenario adds): exports in DIR/exports, and what
    they hold; the run folder keeps its scenario, so the added radar is exported and on the report's map, and its
    manifest names every file made, the report and the exports included."""
    from mwx.exercise.report import load_run as load_report_run
    from test_records import assert_valid_run_folder

    scenario = tmp_path / "scenario.yaml"
    scenario.write_text((SCENARIOS / "warn-srbm-kr.yaml").read_text() + EXTRA_RADAR)
    out = tmp_path / "run"
    done = _mwx("run", str(scenario), "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    check_real_run(out)
    assert_valid_run_folder(out)
    alerts = records.read(out / "alerts.json", records.AlertsFile).alerts
    assert any(c.alert_area for a in alerts for c in a.history)  # the areas the check compared
    sensors = [f for f in json.loads((out / "exports" / "run.geojson").read_text())["features"]
               if f["properties"]["kind"] == "sensor"]  # fmt: skip
    assert "X-R9" in {f["properties"]["id"] for f in sensors}
    assert {f["properties"]["id"] for f in sensors} >= {"KR-R1", "JP-R1"}
    assert load_report_run(out).radar_sites["X-R9"] == ("JP", 26.2, 127.7)
    manifest = records.read(out / "manifest.json", records.Manifest)
    assert {"scenario.yaml", "report.html", "exports/", "events.json", "cap/"} <= set(manifest.files)
    assert all((out / name).exists() for name in manifest.files)


@pytest.mark.slow
def test_the_demo_geojson_holds_the_ellipses_and_alert_areas_of_alerts_json(
    demo_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, done = demo_run
    assert done.returncode == 0, done.stderr
    check_real_run(out)
