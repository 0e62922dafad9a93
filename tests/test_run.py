"""`mwx run` end to end: the run folder's contract, determinism, and the demo."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import msgspec
import numpy as np
import pytest
from pyproj import Geod

from mwx.geo import wgs84

GEOD = Geod(ellps="WGS84")

SMALL = (Path(__file__).parent / "data" / "scenarios" / "small.yaml").read_text()


def _mwx(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mwx.cli", *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def small_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("small")
    scenario = base / "small.yaml"
    scenario.write_text(SMALL)
    outs = (base / "a", base / "b")
    for out in outs:
        done = _mwx("run", str(scenario), "--out", str(out), "--quiet")
        assert done.returncode == 0, done.stderr
    return outs


def test_same_scenario_and_seed_give_identical_truth_and_events(small_runs: tuple[Path, Path]) -> None:
    a, b = small_runs
    for name in ("truth.json", "events.json", "alerts.json", "tracks.csv", "measurements.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_truth_json_shape(small_runs: tuple[Path, Path]) -> None:
    truth = json.loads((small_runs[0] / "truth.json").read_text())
    (launch,) = truth["launches"]
    for key in (
        "id",
        "launch_time",
        "launch_point",
        "azimuth_deg",
        "apogee_km",
        "range_km",
        "flight_time_s",
        "burnout_time",
        "impact_time",
        "impact_point",
        "max_speed_mps",
        "objects",
    ):
        assert key in launch, key
    assert launch["launch_time"] == "2023-04-13T01:00:00Z"
    assert abs(launch["apogee_km"] - 90) < 0.9 and abs(launch["range_km"] - 650) < 6.5
    traj = np.array(launch["objects"][0]["trajectory"])
    assert traj.shape[1] == 7
    assert np.max(np.diff(traj[:, 0])) <= 1.0 + 1e-9  # sampled at least every second
    t0 = datetime.fromisoformat(launch["launch_time"]).timestamp()
    assert traj[0, 0] == pytest.approx(t0)
    assert traj[-1, 0] - t0 == pytest.approx(launch["flight_time_s"], abs=1e-3)
    # The first sample sits on the launch point, the last on the impact point (ECEF -> geodetic here).
    lat, lon, alt = wgs84.ecef_to_geodetic(traj[[0, -1], 1:4])
    assert abs(alt[-1]) < 1.0
    assert math.degrees(lat[0]) == pytest.approx(launch["launch_point"]["lat"], abs=1e-4)
    assert math.degrees(lon[-1]) == pytest.approx(launch["impact_point"]["lon"], abs=1e-4)
    # Velocities are ECEF: at lift-off the missile is at rest on the ground.
    assert np.linalg.norm(traj[0, 4:7]) < 1e-6


def test_events_one_per_partner_and_fused(small_runs: tuple[Path, Path]) -> None:
    events = json.loads((small_runs[0] / "events.json").read_text())["events"]
    truth = json.loads((small_runs[0] / "truth.json").read_text())["launches"][0]
    partners = {e["partner"] for e in events if e["truth_id"] == "S1"}
    assert "fused" in partners and "KR" in partners
    fused = next(e for e in events if e["partner"] == "fused")
    for key in (
        "launch_time",
        "launch_point",
        "apogee_km",
        "range_km",
        "flight_time_s",
        "impact_time",
        "impact_point",
        "impact_ellipse_95",
        "class",
        "first_detection",
        "first_warning",
        "over_territory_of",
        "inside_eez_of",
        "lofted",
        "equivalent_range_km",
        "number_of_objects",
    ):
        assert key in fused, key
    _, _, miss = GEOD.inv(
        truth["impact_point"]["lon"],
        truth["impact_point"]["lat"],
        fused["impact_point"]["lon"],
        fused["impact_point"]["lat"],
    )
    # docs/benchmarks.md: final fused impact points 0.0–0.8 km off (and within 1 % of range).  This
    # 650 km flight: 8 m at commit 68196c8; 1 km leaves room without hiding a real regression.
    assert miss < 1e3, miss
    assert fused["class"] == "SRBM"
    detected = datetime.fromisoformat(fused["first_detection"]).timestamp()
    launched = datetime.fromisoformat(truth["launch_time"]).timestamp()
    assert 0 < detected - launched < 120


def test_tracks_csv_columns_and_rows(small_runs: tuple[Path, Path]) -> None:
    from mwx.records import TRACKS_COLUMNS, TrackState

    with (small_runs[0] / "tracks.csv").open() as f:
        rows = list(csv.DictReader(f))
        assert f.seek(0) == 0 and next(csv.reader(f)) == list(TRACKS_COLUMNS)  # the contract: units in the names
    assert rows[0]["time_utc"].endswith("Z")
    states = [msgspec.convert(r, TrackState, strict=False) for r in rows]  # every row a valid TrackState
    partners = {s.partner for s in states}
    assert partners <= {"KR", "JP", "US", "fused"} and "fused" in partners
    # Every published position lies near a true object at its time, within what its covariance says
    # (an infrared-only track starts tens of km uncertain along the line of sight).
    launches = json.loads((small_runs[0] / "truth.json").read_text())["launches"]
    objects = [np.array(o["trajectory"]) for launch in launches for o in launch["objects"]]
    worst = 0.0
    for s in states:
        t, pos = s.time_unix_s, np.array([s.x_m, s.y_m, s.z_m])
        var = np.array([s.var_x_m2, s.var_y_m2, s.var_z_m2])
        assert s.time_utc.timestamp() == pytest.approx(t, abs=1e-3)
        # The geodetic columns say the same place as the ECEF ones.
        lat, lon, alt = wgs84.ecef_to_geodetic(pos)
        assert (math.degrees(lat), math.degrees(lon)) == pytest.approx((s.lat_deg, s.lon_deg), abs=1e-5)
        assert float(alt) == pytest.approx(s.alt_m, abs=0.01)
        errors = [
            float(np.linalg.norm(traj[i, 1:4] + traj[i, 4:7] * (t - traj[i, 0]) - pos))
            for traj in objects
            if traj[0, 0] - 0.5 <= t <= traj[-1, 0] + 0.5
            for i in [int(np.argmin(np.abs(traj[:, 0] - t)))]
        ]
        worst = max(worst, min(errors) / max(5e3, 4.0 * float(np.sqrt(var.sum()))))
    assert worst < 1.0


def test_metrics_and_report(small_runs: tuple[Path, Path]) -> None:
    metrics = json.loads((small_runs[0] / "metrics.json").read_text())
    per = metrics["launches"][0]["per_partner"]
    assert per["fused"]["impact_error_km"] < 1.0  # 0.008 km at commit 68196c8 (see test_events_one_per_partner...)
    assert metrics["run"]["measurements"] > 50
    # Tracking quality per partner and fused: every object tracked somewhere, no clutter track.
    tracking = metrics["tracking"]
    assert "fused" in tracking and set(tracking) <= {"KR", "JP", "US", "fused"}
    for figures in tracking.values():
        assert 0.0 < figures["completeness"] <= 1.0 and figures["ambiguity"] >= 1.0
        assert figures["spuriousness"] < 0.05
        assert 0.0 < figures["gospa_rms_m"] <= 10e3 / math.sqrt(2.0) * 2.0  # at most ~2 objects missed at c
    html = (small_runs[0] / "report.html").read_text()
    assert "data:image/png;base64," in html and "S1" in html


@pytest.mark.slow
def test_demo_runs_and_fuses_every_launch(demo_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, done = demo_run
    assert done.returncode == 0, done.stderr
    assert "report: " in done.stdout and (out / "report.html").exists()
    from test_records import assert_valid_run_folder

    assert_valid_run_folder(out)  # every JSON file against its shipped schema (docs/schemas/)
    truth = json.loads((out / "truth.json").read_text())["launches"]
    assert len(truth) >= 2
    metrics = json.loads((out / "metrics.json").read_text())
    # Fused final impact errors at commit 68196c8: L1 (4500 km IRBM) 1.16 km, L2 and L2.2 (600 km) 0.11 and
    # 0.13 km; docs/benchmarks.md gives 0.0–0.8 km for its set, and the bar is 1 % of range.
    for launch in metrics["launches"]:
        assert launch["per_partner"]["fused"]["impact_error_km"] < 2.0, launch
    # The overflight of Japan is seen over Japanese territory and alerted to Japan.
    events = json.loads((out / "events.json").read_text())["events"]
    overflight = [e for e in events if e["truth_id"] == "L1" and e["partner"] == "fused"]
    assert any("JP" in e["over_territory_of"] for e in overflight)
    alerts = json.loads((out / "alerts.json").read_text())["alerts"]
    assert any(a["partner"] == "JP" and a["reason"] == "overflight" and a["truth_id"] == "L1" for a in alerts)
    assert metrics["alerts"]["missed"] == 0


def test_sensor_down_inject_silences_that_sensor_only() -> None:
    from mwx.exercise.run import run_scenario
    from mwx.sim.scenario import parse_scenario

    inject = "injects:\n  - {kind: sensor_down, sensor: KR-R1, time: 2023-04-13T01:01:00Z, duration_s: 120}\n"
    base = run_scenario(parse_scenario(SMALL))
    down = run_scenario(parse_scenario(SMALL + inject))
    start = datetime.fromisoformat("2023-04-13T01:01:00+00:00").timestamp()

    def taken(result, sensor_id: str) -> np.ndarray:
        index = [s.id for s in result.theater.sensors].index(sensor_id)
        return result.measurements.time[result.measurements.sensor == index]

    kr_before, kr_after = taken(base, "KR-R1"), taken(down, "KR-R1")
    in_window = (kr_before >= start) & (kr_before < start + 120)
    assert in_window.sum() > 10  # the radar did see the missile then
    assert not ((kr_after >= start) & (kr_after < start + 120)).any()
    np.testing.assert_array_equal(kr_after, kr_before[~in_window])  # the rest is unchanged
    np.testing.assert_array_equal(taken(down, "KR-R2"), taken(base, "KR-R2"))


def test_a_nats_run_into_a_folder_another_nats_run_used_is_refused_unless_forced(tmp_path, capsys) -> None:
    """A second ``mwx run --bus nats`` into one ``--out`` would take up the first run's journals and JetStream
    store (before: silently, exit 0, its fused impact 312 km off): refused with one line and exit 2 before any
    work, the earlier run left as it was; ``--force`` removes its ``nats/`` first."""
    import time as clock

    from mwx.cli import clear_earlier_nats_run, main

    earlier = tmp_path / "nats" / "nodes" / "KR"
    earlier.mkdir(parents=True)
    (earlier / "journal.sqlite").write_bytes(b"an earlier run's journal")
    scenario = Path(__file__).parent / "data" / "scenarios" / "small.yaml"
    started = clock.perf_counter()
    assert main(["run", str(scenario), "--out", str(tmp_path), "--bus", "nats", "--quiet"]) == 2
    assert clock.perf_counter() - started < 5.0
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "another NATS run" in err and "--force" in err, err
    assert (earlier / "journal.sqlite").read_bytes() == b"an earlier run's journal"
    clear_earlier_nats_run(tmp_path, force=True)
    assert not (tmp_path / "nats").exists()
    clear_earlier_nats_run(tmp_path / "fresh", force=False)  # nothing there: nothing to refuse
