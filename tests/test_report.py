"""Tests of mwx.exercise.report against synthetic run folders (docs/run-folder.md).

The run folders are built here from an analytic flight: a WGS-84 geodesic ground track (pyproj) with a
parabolic altitude profile, so the expected figures (apogee, range, impact-point errors, times) are known
independently of the code under test.  The files are the run folder's records (mwx.records), written as
``mwx run`` writes them.
"""

from __future__ import annotations

import base64
import csv
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest
from pyproj import Geod

from mwx import records
from mwx.errors import RecordError
from mwx.exercise import report
from mwx.exercise.outputs import MEASUREMENT_COLUMNS
from mwx.geo.wgs84 import ecef_to_geodetic, geodetic_to_ecef

GEOD = Geod(ellps="WGS84")
T0 = datetime(2022, 10, 3, 22, 22, 47, tzinfo=UTC).timestamp()
PARTNERS = ("KR", "JP", "US", "fused")
# Distance [km] of each partner's impact estimate from the true impact point; distinct values so each shows
# up as a distinct string in the summary.
IMPACT_OFFSET_KM = {"KR": 4.2, "JP": 7.9, "US": 12.6, "fused": 2.3}
FIRST_DETECTION_S = {"KR": 24.0, "JP": 41.0, "US": 18.0, "fused": 18.0}
FIRST_UPDATE_S = 40.0  # first assessment of every event, s after launch
WARNING_S, UPDATE_S, ENDED_S = 61.0, 90.0, 400.0  # the JP alert's lifecycle, s after launch


def utc(t: float) -> datetime:
    return records.utc(t)


def flight(lat0: float, lon0: float, az: float, range_km: float, apogee_km: float, flight_s: int, t0: float) -> dict:
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
        "launch_point": records.Point(lat=lat0, lon=lon0),
        "impact_point": records.Point(lat=float(lat[-1]), lon=float(lon[-1])),
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


def offset_point(p: records.Point, dist_km: float, az: float = 30.0) -> records.Point:
    """The point dist_km from p along azimuth az (geodesic)."""
    lon, lat, _ = GEOD.fwd(p.lon, p.lat, az, dist_km * 1000.0)
    return records.Point(lat=float(lat), lon=float(((lon + 180.0) % 360.0) - 180.0))


def make_run(
    run_dir: Path,
    *,
    scenario: str = "synthetic",
    flights: dict[str, dict[str, Any]] | None = None,
    drop: set[tuple[str, str]] = frozenset(),
    ellipse_km: tuple[float, float] = (25.0, 8.0),
) -> dict[str, dict[str, Any]]:
    """Write a run folder following docs/run-folder.md; return the flights by launch id.

    ``drop`` lists (launch id, partner) pairs that get no event (never detected); ``ellipse_km`` the
    semi-axes of every event's 95 % impact ellipse.
    """
    if flights is None:
        flights = {
            # Korean peninsula over Japan into the Pacific (short range, round apogee: easy numbers).
            "L1": flight(40.0, 127.5, 95.0, 1200.0, 312.34, 600, T0),
            "L2": flight(39.0, 125.7, 60.0, 450.0, 120.0, 300, T0 + 900.0),
        }
    run_dir.mkdir(parents=True, exist_ok=True)
    launches, events, alerts, track_rows, figures = [], [], [], [], []
    ellipse = records.Ellipse95(semi_major_km=ellipse_km[0], semi_minor_km=ellipse_km[1], orientation_deg=95.0)
    for lid, f in flights.items():
        traj, t0 = f["traj"], f["t0"]
        cls = missile_class(f["range_km"])
        launches.append(
            records.TruthLaunch(
                id=lid,
                launch_time=utc(t0),
                launch_point=f["launch_point"],
                azimuth_deg=f["azimuth_deg"],
                apogee_km=f["apogee_km"],
                range_km=f["range_km"],
                flight_time_s=f["flight_time_s"],
                burnout_time=utc(t0 + 60.0),
                impact_time=utc(t0 + f["flight_time_s"]),
                impact_point=f["impact_point"],
                max_speed_mps=f["max_speed_mps"],
                equivalent_range_km=f["range_km"],
                missile_class=cls,
                objects=[
                    records.TruthObject(
                        id=f"{lid}/RV", kind="warhead", rcs_m2=0.1, trajectory=[tuple(r) for r in traj.tolist()]
                    )
                ],
            )
        )
        per_partner = {}
        for k, partner in enumerate(PARTNERS):
            if (lid, partner) in drop:
                per_partner[partner] = records.PartnerLaunchFigures(detected=False)
                continue
            track_id = f"{partner}-{lid}"
            est_impact = offset_point(f["impact_point"], IMPACT_OFFSET_KM[partner])
            est_launch = offset_point(f["launch_point"], 5.0 + k, az=200.0)
            warned = partner in ("JP", "fused")
            update = records.EventUpdate(
                time=utc(t0 + FIRST_UPDATE_S),
                launch_time=utc(t0 + 1.5),
                launch_point=est_launch,
                launch_ellipse_95=ellipse,
                launch_method="boost",
                apogee_km=f["apogee_km"] - 1.0 - k,
                range_km=f["range_km"] + 3.0 + k,
                impact_time=utc(t0 + f["flight_time_s"] - 2.0),
                impact_point=est_impact,
                impact_ellipse_95=ellipse,
                missile_class=cls,
                lofted=False,
                equivalent_range_km=f["range_km"] + 10.0,
                stage_probability=0.0,
                over_territory_of=["JP"],
                inside_eez_of=[],
                number_of_objects=1,
                estimated_at=utc(t0 + FIRST_UPDATE_S),
            )
            events.append(
                records.LaunchEvent(
                    partner=partner,
                    event_id=f"{partner}-T{k + 1:04d}-{lid}",
                    truth_id=lid,
                    truth_object=f"{lid}/RV",
                    track_ids=[track_id],
                    grouped={},
                    track_truth_ids={track_id: lid},
                    final=True,
                    first_detection=utc(t0 + FIRST_DETECTION_S[partner]),
                    first_warning=utc(t0 + WARNING_S) if warned else None,
                    launch_time=utc(t0 + 1.5),
                    launch_time_sigma_s=1.0,
                    launch_point=est_launch,
                    launch_point_sigma_km=2.0,
                    launch_ellipse_95=ellipse,
                    launch_method="boost",
                    apogee_km=f["apogee_km"] - 1.0 - k,
                    range_km=f["range_km"] + 3.0 + k,
                    flight_time_s=f["flight_time_s"] - 2.0,
                    max_speed_mps=f["max_speed_mps"] - 10.0,
                    impact_time=utc(t0 + f["flight_time_s"] - 2.0),
                    impact_time_sigma_s=3.0,
                    impact_point=est_impact,
                    impact_ellipse_95=ellipse,
                    impact_area=records.ImpactArea(partner=None, kind=None, name=None, probability=0.0),
                    impact_probability={},
                    missile_class=cls,
                    lofted=False,
                    equivalent_range_km=f["range_km"] + 10.0,
                    stage_probability=0.0,
                    overflights=[],
                    over_territory_of=["JP"],
                    inside_eez_of=[],
                    number_of_objects=1,
                    estimated_at=utc(t0 + f["flight_time_s"] - 30.0),
                    updates=[update],
                )
            )
            per_partner[partner] = records.PartnerLaunchFigures(
                first_detection_s=FIRST_DETECTION_S[partner],
                first_warning_s=WARNING_S if warned else None,
                impact_error_km=IMPACT_OFFSET_KM[partner],
                apogee_error_km=-1.0 - k,
                range_error_km=3.0 + k,
                launch_point_error_km=5.0 + k,
                class_correct=True,
                over_time=[
                    records.OverTime(
                        after_first_detection_s=FIRST_UPDATE_S - FIRST_DETECTION_S[partner],
                        impact_error_km=IMPACT_OFFSET_KM[partner],
                        launch_point_error_km=5.0 + k,
                        apogee_error_km=-1.0 - k,
                        range_error_km=3.0 + k,
                        class_correct=True,
                        inside_ellipse_95=True,
                        inside_launch_ellipse_95=True,
                    )
                ],
            )
        alert_id = f"JP-A{len(alerts) + 1:04d}"
        area_ring = [(139.0, 36.0), (141.0, 36.0), (141.0, 38.0), (139.0, 38.0), (139.0, 36.0)]
        alerts.append(
            records.AlertRecord(
                alert_id=alert_id,
                partner="JP",
                area=records.AreaRef(partner="JP", kind="territory", name="Japan"),
                reason="overflight",
                launch_id=f"JP-E{len(alerts) + 1:03d}",
                track_id=f"JP-{lid}",
                level_changes=0,
                truth_id=lid,
                history=[
                    records.AlertChange(
                        time=utc(t0 + when),
                        status=status,
                        why=["level"],
                        level="warning" if status != "ended" else None,
                        reason="overflight" if status != "ended" else None,
                        impact_point=f["impact_point"] if status != "ended" else None,
                        impact_time=utc(t0 + f["flight_time_s"]) if status != "ended" else None,
                        crossing_time=utc(t0 + 200.0) if status != "ended" else None,
                        probability=0.8 if status != "ended" else None,
                        ellipse_95=ellipse if status != "ended" else None,
                        alert_area=[area_ring] if status != "ended" else None,
                    )
                    for when, status in ((WARNING_S, "issued"), (UPDATE_S, "updated"), (ENDED_S, "ended"))
                ],
            )
        )
        figures.append(
            records.LaunchFigures(
                truth_id=lid,
                missile_class=cls,
                per_partner=per_partner,
                warnings=[
                    records.WarningFigures(
                        alert_id=alert_id,
                        partner="JP",
                        area="Japan",
                        reason="overflight",
                        issued_after_launch_s=WARNING_S,
                        true_event_after_launch_s=200.0,
                        lead_s=200.0 - WARNING_S,
                        changes=3,
                        statuses=["issued", "updated", "ended"],
                    )
                ],
                alert_changes=3,
                threatened_areas=[
                    records.ThreatenedArea(
                        partner="JP",
                        area="Japan",
                        reason="overflight",
                        warned=True,
                        first_warning_after_launch_s=WARNING_S,
                        lead_s=200.0 - WARNING_S,
                        alerts=[alert_id],
                        changes_per_alert=[3],
                        level_changes_per_alert=[0],
                    )
                ],
            )
        )
        # Tracks: truth every 10 s from the first detection, the fused one displaced by 500 m north.
        for row in traj[int(FIRST_DETECTION_S["fused"]) :: 10]:
            t, x, y, z, vx, vy, vz = row
            for partner, dz in (("fused", 500.0), ("KR", 0.0)):
                lat, lon, alt = ecef_to_geodetic(np.array([x, y, z + dz]))
                track_rows.append(
                    [
                        utc(t).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                        f"{t:.3f}",
                        partner,
                        f"{partner}-{lid}",
                        f"{np.degrees(lat):.6f}",
                        f"{np.degrees(lon):.6f}",
                        f"{alt:.3f}",
                        x,
                        y,
                        z + dz,
                        vx,
                        vy,
                        vz,
                        1e4,
                        1e4,
                        1e4,
                        25.0,
                        25.0,
                        25.0,
                    ]
                )

    records.write(
        run_dir / "truth.json", records.TruthFile(scenario=scenario, seed=7, launches=launches, sensor_biases={})
    )
    records.write(run_dir / "events.json", records.EventsFile(events=events))
    records.write(run_dir / "alerts.json", records.AlertsFile(alerts=alerts))
    records.write(
        run_dir / "metrics.json",
        records.MetricsFile(
            launches=figures,
            ellipse_95_coverage=records.Coverage(reports=7, inside=6 / 7),
            launch_ellipse_95_coverage=records.Coverage(reports=7, inside=1.0),
            alerts=records.AlertFigures(
                issued=len(alerts),
                false=0,
                missed=0,
                near_misses=[],
                threatened=[(lid, "JP", "Japan", "overflight") for lid in flights],
                most_alerts_per_threat_and_area=1,
                most_alerts_per_threatened_area=1,
                most_changes_per_alert=3,
                most_level_changes_per_alert=0,
            ),
            tracking={},
            fusion=records.FusionFigures(),
            exchange={},
            run=records.RunFigures(
                wall_time_s=12.3,
                measurements=2,
                track_reports=len(track_rows),
                bus_bytes=0,
                lost_by_link_injects=0,
                held_by_link_injects=0,
            ),
        ),
    )
    with (run_dir / "tracks.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(records.TRACKS_COLUMNS)
        w.writerows(track_rows)
    with (run_dir / "measurements.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, MEASUREMENT_COLUMNS, restval="")
        w.writeheader()
        common = {"kind": "radar", "snr_db": 20.0, "range_m": 250e3, "azimuth_rad": 1.2, "elevation_rad": 0.3}
        first = next(iter(flights))
        w.writerow(
            common
            | {
                "sensor": "KR-R1",
                "partner": "KR",
                "object": f"{first}/RV",
                "time_taken": T0 + 24.0,
                "time_received": T0 + 24.5,
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
                "false_alarm": 1,
            }
        )
    return flights


def launch_section(page: str, lid: str) -> str:
    return page.split(f"<h2>Launch {lid}</h2>", 1)[1].split("<h2>", 1)[0]


def partner_row(page: str, partner: str, lid: str) -> str:
    """HTML of ``partner``'s row in the partners-against-the-truth table of launch ``lid``."""
    table = launch_section(page, lid).split('<table class="partners">', 1)[1].split("</table>", 1)[0]
    m = re.search(rf'<th scope="row">{re.escape(partner)}</th>(.*?)</tr>', table, re.DOTALL)
    assert m, f"no {partner} row for {lid}"
    return m.group(1)


def maps_of(page: str) -> list[dict[str, str]]:
    """The data attributes of each launch map image."""
    out = []
    for tag in re.findall(r'<img [^>]*data-launch="[^"]*"[^>]*>', page):
        out.append(dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag)))
    return out


def test_report_is_self_contained_and_complete(tmp_path: Path) -> None:
    flights = make_run(tmp_path)
    out = report.write_report(tmp_path)
    assert out == tmp_path / "report.html"
    page = out.read_text(encoding="utf-8")
    assert 'src="http' not in page and 'href="http' not in page
    assert "http://" not in page and "https://" not in page
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert images, "no image inlined"
    assert all(base64.b64decode(b).startswith(b"\x89PNG\r\n\x1a\n") for b in images)
    assert "synthetic" in page and "seed 7" in page
    for lid, f in flights.items():
        assert f"<h2>Launch {lid}</h2>" in page
        for partner in PARTNERS:
            row = partner_row(page, partner, lid)
            # The true apogee, as the report formats it, next to the estimate.
            assert f"/ {f['apogee_km']:.1f}" in row
            assert f"{FIRST_DETECTION_S[partner]:.1f}" in row
    # Alert lifecycle and metrics are there, as tables.
    for status in ("issued", "updated", "ended"):
        assert f">{status}<" in page
    assert "JP territory: Japan" in page
    assert "<h2>Metrics</h2>" in page and "alerts issued" in page
    assert '{"' not in page and "wall_time_s" not in page  # no raw JSON, no wall time (not reproducible)


def test_one_map_per_launch_with_what_it_shows(tmp_path: Path) -> None:
    flights = make_run(tmp_path, drop={("L2", "US")})
    page = report.write_report(tmp_path).read_text(encoding="utf-8")
    drawn = maps_of(page)
    assert [m["launch"] for m in drawn] == list(flights)
    by_launch = {m["launch"]: m for m in drawn}
    # One 95 % ellipse per event of the launch; the JP alert area of each launch; KR's and the fused track.
    assert by_launch["L1"]["ellipses"] == "4" and by_launch["L2"]["ellipses"] == "3"
    assert all(m["alert-areas"] == "1" and m["tracks"] == "2" for m in drawn)
    # The only radar detection is KR-R1's of L1, and KR-R1 is a radar of the built-in theater.
    assert by_launch["L1"]["sensors"] == "1" and by_launch["L2"]["sensors"] == "0"
    section = launch_section(page, "L1")
    assert "KR-R1" in section and "US-R1" not in section  # a false alarm is no detection of the launch


@pytest.mark.parametrize(("ellipse_km", "inset"), [((0.4, 0.2), "yes"), ((150.0, 60.0), "no")])
def test_small_ellipses_get_an_inset(tmp_path: Path, ellipse_km: tuple[float, float], inset: str) -> None:
    make_run(tmp_path, ellipse_km=ellipse_km)
    page = report.write_report(tmp_path).read_text(encoding="utf-8")
    assert {m["inset"] for m in maps_of(page)} == {inset}


def test_timeline_from_the_records(tmp_path: Path) -> None:
    make_run(tmp_path)
    run = report.load_run(tmp_path)
    rows = {r.partner: r for r in report.timeline_rows(run, run.launches[0])}
    assert [r for r in rows] == list(PARTNERS)
    # KR's only detection in measurements.csv is at +24 s; tracks start at +18 s; every event's first update at
    # +40 s; JP's alert is issued at +61 s and ended at +400 s; the fused picture takes any partner's.
    assert rows["KR"].detection_s == pytest.approx(24.0)
    assert rows["fused"].detection_s == pytest.approx(24.0)
    assert rows["JP"].detection_s is None
    assert rows["KR"].track_s == pytest.approx(18.0) and rows["fused"].track_s == pytest.approx(18.0)
    assert rows["US"].track_s is None  # no US track in tracks.csv
    assert all(r.assessment_s == pytest.approx(FIRST_UPDATE_S) for r in rows.values())
    assert rows["JP"].warning_s == pytest.approx(WARNING_S) and rows["JP"].all_clear_s == pytest.approx(ENDED_S)
    assert rows["fused"].warning_s == pytest.approx(WARNING_S)
    assert rows["KR"].warning_s is None and rows["KR"].all_clear_s is None


def test_scenario_name_is_escaped(tmp_path: Path) -> None:
    make_run(tmp_path, scenario="<script>alert('x')</script> & co")
    page = report.write_report(tmp_path).read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co" in page


def test_summary_lists_launches_partners_and_impact_errors(tmp_path: Path) -> None:
    flights = make_run(tmp_path)
    text = report.format_summary(tmp_path)
    lines = text.splitlines()
    assert lines[-1] == f"report: {tmp_path / 'report.html'}"
    assert "\x1b" not in text  # no colour codes
    events = records.read(tmp_path / "events.json", records.EventsFile).events
    for lid, f in flights.items():
        block = text.split(f"\n{lid} ", 1)[1].split("\n\n", 1)[0]
        assert f"{f['apogee_km']:.1f}" in block
        for partner in PARTNERS:
            (event,) = [e for e in events if e.truth_id == lid and e.partner == partner]
            _, _, dist_m = GEOD.inv(
                f["impact_point"].lon, f["impact_point"].lat, event.impact_point.lon, event.impact_point.lat
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
    assert flights["L1"]["impact_point"].lon < 0  # really crosses 180°
    page = report.write_report(tmp_path).read_text(encoding="utf-8")
    assert len(maps_of(page)) == 1
    truth = records.read(tmp_path / "truth.json", records.TruthFile)
    ext = report.map_extent(truth.launches)
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
    assert len(maps_of(page)) == 2


def test_a_malformed_file_is_one_clear_error(tmp_path: Path) -> None:
    make_run(tmp_path)
    (tmp_path / "events.json").write_text('{"events": [{"partner": "KR"}]}')
    with pytest.raises(RecordError) as err:
        report.write_report(tmp_path)
    assert "events.json" in str(err.value) and "\n" not in str(err.value)
    make_run(tmp_path)
    tracks = tmp_path / "tracks.csv"
    tracks.write_text("time,partner,track_id,x,y,z\n")
    with pytest.raises(RecordError, match=r"tracks\.csv.*columns"):
        report.write_report(tmp_path)


def test_what_matched_no_launch_is_listed(tmp_path: Path) -> None:
    make_run(tmp_path)
    events = records.read(tmp_path / "events.json", records.EventsFile)
    stray = msgspec.structs.replace(events.events[0], event_id="US-T0099", partner="US", truth_id=None)
    records.write(tmp_path / "events.json", records.EventsFile(events=[*events.events, stray]))
    alerts = records.read(tmp_path / "alerts.json", records.AlertsFile)
    false_alert = msgspec.structs.replace(alerts.alerts[0], alert_id="JP-A0099", truth_id=None)
    records.write(tmp_path / "alerts.json", records.AlertsFile(alerts=[*alerts.alerts, false_alert]))
    page = report.write_report(tmp_path).read_text(encoding="utf-8")
    section = page.split("<h2>Not matched to a launch</h2>", 1)[1].split("<h2>", 1)[0]
    assert "US-T0099" in section and "JP-A0099" in section
    assert "US-T0099" not in launch_section(page, "L1") and "JP-A0099" not in launch_section(page, "L1")
