"""Tests of mwx.exercise.report against synthetic run folders (docs/run-folder.md).

The run folders are built here from an analytic flight: a WGS-84 geodesic ground
track (pyproj) with a parabolic altitude profile, so the expected figures (apogee,
range, impact-point errors) are known independently of the code under test.
"""

from __future__ import annotations

import base64
import csv
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pyproj import Geod

from mwx.exercise import report
from mwx.exercise.outputs import MEASUREMENT_COLUMNS, TRACKS_COLUMNS
from mwx.geo.wgs84 import geodetic_to_ecef

GEOD = Geod(ellps="WGS84")
T0 = datetime(2022, 10, 3, 22, 22, 47, tzinfo=UTC).timestamp()
PARTNERS = ("KR", "JP", "US", "fused")
# Distance [km] of each partner's impact estimate from the true impact point; distinct
# values so each shows up as a distinct string in the summary.
IMPACT_OFFSET_KM = {"KR": 4.2, "JP": 7.9, "US": 12.6, "fused": 2.3}
FIRST_DETECTION_S = {"KR": 24.0, "JP": 41.0, "US": 18.0, "fused": 18.0}


def iso(t: float) -> str:
    """ISO 8601 UTC with milliseconds and a Z, as the run folder writes times."""
    dt = datetime.fromtimestamp(round(t, 3), UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def flight(
    lat0: float,
    lon0: float,
    az: float,
    range_km: float,
    apogee_km: float,
    flight_s: int,
    t0: float,
) -> dict[str, Any]:
    """Truth of one analytic flight: geodesic ground track, parabolic altitude."""
    ts = np.arange(0.0, flight_s + 0.5, 1.0)
    s = ts / flight_s
    n = ts.size
    lon, lat, _ = GEOD.fwd(np.full(n, lon0), np.full(n, lat0), np.full(n, az), s * range_km * 1000.0)
    alt = 4.0 * apogee_km * 1000.0 * s * (1.0 - s)  # peak apogee_km at s = 1/2
    xyz = geodetic_to_ecef(np.radians(lat), np.radians(lon), alt)
    vel = np.gradient(xyz, ts, axis=0)
    traj = np.column_stack([ts + t0, xyz, vel])
    return {
        "traj": traj,
        "launch_point": {"lat": lat0, "lon": lon0},
        "impact_point": {"lat": float(lat[-1]), "lon": float(lon[-1])},
        "apogee_km": apogee_km,
        "range_km": range_km,
        "flight_time_s": float(flight_s),
        "max_speed_mps": float(np.linalg.norm(vel, axis=1).max()),
        "azimuth_deg": az,
        "t0": t0,
    }


def missile_class(range_km: float) -> str:
    """Class by the thresholds of docs/run-folder.md."""
    if range_km < 1000:
        return "SRBM"
    if range_km < 3000:
        return "MRBM"
    if range_km < 5500:
        return "IRBM"
    return "ICBM"


def offset_point(p: dict[str, float], dist_km: float, az: float = 30.0) -> dict[str, float]:
    """The point dist_km from p along azimuth az (geodesic)."""
    lon, lat, _ = GEOD.fwd(p["lon"], p["lat"], az, dist_km * 1000.0)
    return {"lat": float(lat), "lon": float(lon)}


def make_run(
    run_dir: Path,
    *,
    scenario: str = "synthetic",
    flights: dict[str, dict[str, Any]] | None = None,
    drop: set[tuple[str, str]] = frozenset(),
) -> dict[str, dict[str, Any]]:
    """Write a run folder following docs/run-folder.md; return the flights by launch id.

    *drop* lists (launch id, partner) pairs that get no event (never detected).
    """
    if flights is None:
        flights = {
            # Korean peninsula over Japan into the Pacific (IRBM-like, but short range
            # and a round apogee so the expected numbers are easy to read).
            "L1": flight(40.0, 127.5, 95.0, 1200.0, 312.34, 600, T0),
            "L2": flight(39.0, 125.7, 60.0, 450.0, 120.0, 300, T0 + 900.0),
        }
    run_dir.mkdir(parents=True, exist_ok=True)
    launches, events, alerts, track_rows, metric_launches = [], [], [], [], []
    for lid, f in flights.items():
        traj, t0 = f["traj"], f["t0"]
        launches.append(
            {
                "id": lid,
                "launch_time": iso(t0),
                "launch_point": f["launch_point"],
                "azimuth_deg": f["azimuth_deg"],
                "apogee_km": f["apogee_km"],
                "range_km": f["range_km"],
                "flight_time_s": f["flight_time_s"],
                "burnout_time": iso(t0 + 60.0),
                "impact_time": iso(t0 + f["flight_time_s"]),
                "impact_point": f["impact_point"],
                "max_speed_mps": f["max_speed_mps"],
                "objects": [{"id": f"{lid}/RV", "kind": "warhead", "trajectory": traj.tolist()}],
            }
        )
        per_partner = {}
        for k, partner in enumerate(PARTNERS):
            if (lid, partner) in drop:
                # Never detected: no event, and metrics that are unknown are null.
                per_partner[partner] = {
                    "first_detection_s": None,
                    "first_warning_s": None,
                    "impact_error_km": None,
                    "apogee_error_km": None,
                    "range_error_km": None,
                    "launch_point_error_km": None,
                    "class_correct": None,
                }
                continue
            est_impact = offset_point(f["impact_point"], IMPACT_OFFSET_KM[partner])
            est_launch = offset_point(f["launch_point"], 5.0 + k, az=200.0)
            events.append(
                {
                    "partner": partner,
                    "event_id": f"{partner}-T{k + 1:04d}-{lid}",
                    "truth_id": lid,
                    "first_detection": iso(t0 + FIRST_DETECTION_S[partner]),
                    "first_warning": iso(t0 + 61.0),
                    "launch_time": iso(t0 + 1.5),
                    "launch_point": est_launch,
                    "apogee_km": f["apogee_km"] - 1.0 - k,
                    "range_km": f["range_km"] + 3.0 + k,
                    "flight_time_s": f["flight_time_s"] - 2.0,
                    "max_speed_mps": f["max_speed_mps"] - 10.0,
                    "impact_time": iso(t0 + f["flight_time_s"] - 2.0),
                    "impact_point": est_impact,
                    "impact_ellipse_95": {"semi_major_km": 25.0, "semi_minor_km": 8.0, "orientation_deg": 95.0},
                    "class": missile_class(f["range_km"]),
                    "lofted": False,
                    "equivalent_range_km": f["range_km"] + 10.0,
                    "over_territory_of": ["JP"],
                    "inside_eez_of": [],
                    "number_of_objects": 1,
                    "estimated_at": iso(t0 + f["flight_time_s"] - 30.0),
                }
            )
            per_partner[partner] = {
                "first_detection_s": FIRST_DETECTION_S[partner],
                "first_warning_s": 61.0,
                "impact_error_km": IMPACT_OFFSET_KM[partner],
                "apogee_error_km": 1.0 + k,
                "range_error_km": 3.0 + k,
                "launch_point_error_km": 5.0 + k,
                "class_correct": True,
            }
        metric_launches.append({"truth_id": lid, "per_partner": per_partner})
        alerts.append(
            {
                "alert_id": f"JP-A{len(alerts) + 1:04d}",
                "partner": "JP",
                "area": {"partner": "JP", "kind": "territory", "name": "Japan"},
                "reason": "overflight",
                "track_id": f"JP-F{len(alerts) + 1:04d}",
                "truth_id": lid,
                "history": [
                    {
                        "time": iso(t0 + 61.0),
                        "status": status,
                        "impact_point": f["impact_point"],
                        "impact_time": iso(t0 + f["flight_time_s"]),
                        "crossing_time": iso(t0 + 200.0),
                    }
                    for status in ("issued", "updated", "ended")
                ],
            }
        )
        # Fused track: truth every 10 s from first detection, displaced by 500 m north.
        for row in traj[int(FIRST_DETECTION_S["fused"]) :: 10]:
            t, x, y, z, vx, vy, vz = row
            track_rows.append([t, "fused", f"F-{lid}", x, y, z + 500.0, vx, vy, vz, 1e4, 1e4, 1e4, 25.0, 25.0, 25.0])
            track_rows.append([t, "KR", f"KR-{lid}", x, y, z, vx, vy, vz, 1e4, 1e4, 1e4, 25.0, 25.0, 25.0])

    (run_dir / "truth.json").write_text(json.dumps({"scenario": scenario, "seed": 7, "launches": launches}))
    (run_dir / "events.json").write_text(json.dumps({"events": events}))
    (run_dir / "alerts.json").write_text(json.dumps({"alerts": alerts}))
    (run_dir / "metrics.json").write_text(
        json.dumps(
            {
                "launches": metric_launches,
                "alerts": {"issued": len(alerts), "false": 0, "missed": 0},
                "run": {"wall_time_s": 12.3, "measurements": 3, "track_reports": len(track_rows)},
            }
        )
    )
    with (run_dir / "tracks.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(TRACKS_COLUMNS)
        w.writerows(track_rows)
    with (run_dir / "measurements.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, MEASUREMENT_COLUMNS, restval="")
        w.writeheader()
        common = {"kind": "radar", "snr_db": 20.0}
        w.writerow(
            common
            | {
                "sensor": "KR-R1",
                "partner": "KR",
                "object": "L1/RV",
                "time_taken": T0 + 24.0,
                "time_received": T0 + 24.5,
                "range_m": 250e3,
                "azimuth_rad": 1.2,
                "elevation_rad": 0.3,
                "false_alarm": 0,
            }
        )
        w.writerow(
            common
            | {
                "sensor": "US-R1",
                "partner": "US",
                "object": "",
                "time_taken": T0 + 50.0,
                "time_received": T0 + 50.2,
                "range_m": 700e3,
                "azimuth_rad": 4.4,
                "elevation_rad": 0.2,
                "false_alarm": 1,
            }
        )
    return flights


def partner_row(page: str, partner: str, lid: str) -> str:
    """HTML of *partner*'s row in the table of launch *lid*."""
    section = page.split(f"<h2>Launch {lid}</h2>", 1)[1].split("<h2>", 1)[0]
    m = re.search(rf'<th scope="row">{re.escape(partner)}</th>(.*?)</tr>', section, re.DOTALL)
    assert m, f"no {partner} row for {lid}"
    return m.group(1)


def test_report_is_self_contained_and_complete(tmp_path: Path) -> None:
    flights = make_run(tmp_path)
    out = report.write_report(tmp_path)
    assert out == tmp_path / "report.html"
    page = out.read_text(encoding="utf-8")
    assert 'src="http' not in page and 'href="http' not in page
    assert "http://" not in page and "https://" not in page
    m = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert m, "map not inlined"
    assert base64.b64decode(m.group(1)).startswith(b"\x89PNG\r\n\x1a\n")
    assert "synthetic" in page and "seed 7" in page
    for lid, f in flights.items():
        assert f"<h2>Launch {lid}</h2>" in page
        for partner in PARTNERS:
            row = partner_row(page, partner, lid)
            # The true apogee, as the report formats it, next to the estimate.
            assert f"/ {f['apogee_km']:.1f}" in row
            assert f"{FIRST_DETECTION_S[partner]:.1f}" in row
    # Alert lifecycle and metrics are there.
    for status in ("issued", "updated", "ended"):
        assert f">{status}<" in page
    assert "JP territory: Japan" in page
    assert "<h2>Metrics</h2>" in page and "wall_time_s" in page


def test_scenario_name_is_escaped(tmp_path: Path) -> None:
    make_run(tmp_path, scenario="<script>alert('x')</script> & co")
    page = report.write_report(tmp_path).read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in page


def test_summary_lists_launches_partners_and_impact_errors(tmp_path: Path) -> None:
    flights = make_run(tmp_path)
    text = report.format_summary(tmp_path)
    lines = text.splitlines()
    assert lines[-1] == f"report: {tmp_path / 'report.html'}"
    assert "\x1b" not in text  # no colour codes
    events = json.loads((tmp_path / "events.json").read_text())["events"]
    for lid, f in flights.items():
        block = text.split(f"\n{lid} ", 1)[1].split("\n\n", 1)[0]
        assert f"{f['apogee_km']:.1f}" in block
        for partner in PARTNERS:
            (event,) = [e for e in events if e["truth_id"] == lid and e["partner"] == partner]
            _, _, dist_m = GEOD.inv(
                f["impact_point"]["lon"],
                f["impact_point"]["lat"],
                event["impact_point"]["lon"],
                event["impact_point"]["lat"],
            )
            (line,) = [ln for ln in block.splitlines() if ln.split()[0] == partner]
            assert line.split()[-1] == f"{dist_m / 1000.0:.1f}"
            assert line.split()[1] == f"{FIRST_DETECTION_S[partner]:.1f}"


def test_report_is_byte_identical_for_same_inputs(tmp_path: Path) -> None:
    make_run(tmp_path / "a")
    make_run(tmp_path / "b")
    first = report.write_report(tmp_path / "a").read_bytes()
    again = report.write_report(tmp_path / "a").read_bytes()
    other = report.write_report(tmp_path / "b").read_bytes()
    assert first == again == other


def test_partner_that_never_detected(tmp_path: Path) -> None:
    make_run(tmp_path, drop={("L1", "US")})
    page = report.write_report(tmp_path).read_text(encoding="utf-8")
    row = partner_row(page, "US", "L1")
    assert report.NOT_DETECTED in row and report.DASH in row
    assert report.NOT_DETECTED not in partner_row(page, "US", "L2")
    text = report.format_summary(tmp_path)
    block = text.split("\nL1 ", 1)[1].split("\n\n", 1)[0]
    (line,) = [ln for ln in block.splitlines() if ln.split()[0] == "US"]
    assert report.NOT_DETECTED in line


def test_flight_across_the_antimeridian(tmp_path: Path) -> None:
    flights = {"L1": flight(45.0, 172.0, 80.0, 2500.0, 500.0, 800, T0)}
    make_run(tmp_path, flights=flights)
    assert flights["L1"]["impact_point"]["lon"] < 0  # really crosses 180°
    page = report.write_report(tmp_path).read_text(encoding="utf-8")
    assert "data:image/png;base64," in page
    truth = json.loads((tmp_path / "truth.json").read_text())
    ext = report.map_extent(truth["launches"])
    # A narrow window around 180°, not one spanning the world.
    assert ext.lon_max - ext.lon_min < 60.0

    def in_window(lon: float) -> bool:
        return any(ext.lon_min <= lon + k * 360.0 <= ext.lon_max for k in (-1, 0, 1))

    track_lons = np.degrees(np.arctan2(flights["L1"]["traj"][:, 2], flights["L1"]["traj"][:, 1]))
    assert all(in_window(float(lon)) for lon in track_lons)
    assert in_window(180.0)


def test_report_without_region_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_run(tmp_path)
    # None in sys.modules makes the import raise ImportError.
    monkeypatch.setitem(sys.modules, "mwx.geo.regions", None)
    page = report.write_report(tmp_path).read_text(encoding="utf-8")
    assert "data:image/png;base64," in page


def test_ellipse_orientation() -> None:
    # Major axis due east: the outline spans 2 a east-west and 2 b north-south.
    lon, lat = report.ellipse_outline(0.0, 10.0, 30.0, 10.0, 90.0)
    ew_km = GEOD.inv(lon.min(), 0.0, lon.max(), 0.0)[2] / 1000.0
    ns_km = GEOD.inv(10.0, lat.min(), 10.0, lat.max())[2] / 1000.0
    assert ew_km == pytest.approx(60.0, rel=1e-3)
    assert ns_km == pytest.approx(20.0, rel=1e-3)
