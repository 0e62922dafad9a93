"""Write a run's results to the run folder, in the shapes of ``docs/run-folder.md``.

The JSON files are the typed records of :mod:`mwx.records`, built here from the :class:`RunResult` and
only encoded (:func:`mwx.records.write`); what they say about the truth (the truth launch of an event or
an alert, its first warning, every figure of ``metrics.json``) comes from :mod:`mwx.exercise.evaluation`.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import msgspec
import numpy as np
from pyproj import Geod

import mwx
from mwx import records
from mwx.exercise import evaluation
from mwx.exercise.run import FUSED, RunResult
from mwx.geo import wgs84
from mwx.geo.lon import wrap_lon
from mwx.sim.scenario import RUN_SCENARIO_FILE, BreakUp, encode_scenario
from mwx.sim.truth import FRAGMENT, TruthLaunch
from mwx.warn.alerts import alert_record, cap_changes
from mwx.warn.cap import CapAlert, write_cap

__all__ = [
    "MEASUREMENT_COLUMNS", "TRACKS_COLUMNS", "alerts_json", "events_json", "manifest_json", "metrics_json",
    "truth_json", "write_measurements", "write_run", "write_tracks",
]  # fmt: skip

_GEOD = Geod(ellps="WGS84")
#: ``tracks.csv`` columns (units in the names): :data:`mwx.records.TRACKS_COLUMNS`.
TRACKS_COLUMNS = records.TRACKS_COLUMNS


# ----------------------------------------------------------------- truth.json
def truth_json(result: RunResult) -> records.TruthFile:
    """``truth.json``: what really flew, and the registration biases drawn for the run."""
    launches = []
    for launch in result.truth:
        traj, m, flown = launch.trajectory, launch.missile, launch.flown
        az, _, _ = _GEOD.inv(
            math.degrees(traj.site[1]),
            math.degrees(traj.site[0]),
            math.degrees(flown.impact_lon),
            math.degrees(flown.impact_lat),
        )
        launches.append(
            records.TruthLaunch(
                id=m.id,
                launch_time=records.utc(m.launch_time),
                launch_point=records.point(math.degrees(traj.site[0]), math.degrees(traj.site[1])),
                azimuth_deg=round(az % 360.0, 3),
                apogee_km=round(flown.apogee_alt / 1e3, 3),
                range_km=round(flown.range_m / 1e3, 3),
                flight_time_s=round(
                    traj.impact_t if launch.failure_time is None else flown.impact_time - m.launch_time, 3
                ),
                burnout_time=records.utc(flown.burnout_time),
                impact_time=records.utc(flown.impact_time),
                impact_point=records.point(math.degrees(flown.impact_lat), math.degrees(flown.impact_lon)),
                max_speed_mps=round(flown.max_speed, 3),
                equivalent_range_km=round(evaluation.true_equivalent_range_km(launch), 3),
                missile_class=evaluation.true_class(launch),
                objects=[
                    records.TruthObject(
                        id=obj.id,
                        kind=obj.kind,  # type: ignore[arg-type]
                        rcs_m2=obj.rcs_m2,
                        trajectory=np.round(np.column_stack([obj.t, obj.ecef]), 3).tolist(),
                    )
                    for obj in launch.objects
                ],
                failure=_truth_failure(launch),
            )
        )
    biases = {
        sensor_id: records.SensorBias(
            range_m=round(float(b[0]), 3),
            azimuth_mrad=round(float(b[1]) * 1e3, 4),
            elevation_mrad=round(float(b[2]) * 1e3, 4),
        )
        for sensor_id, b in result.biases.items()
    }
    return records.TruthFile(
        scenario=result.scenario.name, seed=result.scenario.seed, launches=launches, sensor_biases=biases
    )


def _truth_failure(launch: TruthLaunch) -> records.TruthFailure | None:
    """truth.json → launches[].failure: how the missile failed and the flight it was briefed to fly."""
    failure, intended = launch.missile.failure, launch.intended
    if failure is None or launch.failure_time is None or intended is None:
        return None
    fragments = [obj for obj in launch.objects if obj.kind == FRAGMENT]
    return records.TruthFailure(
        kind="breakup" if isinstance(failure, BreakUp) else "thrust_termination",
        time=records.utc(launch.failure_time),
        intended_apogee_km=round(intended.apogee_alt / 1e3, 3),
        intended_range_km=round(intended.range_m / 1e3, 3),
        intended_impact_time=records.utc(launch.launch_time + intended.impact_t),
        intended_impact_point=records.point(math.degrees(intended.impact_lat), math.degrees(intended.impact_lon)),
        fragments=len(fragments),
        visible_fragments=sum(obj.visible for obj in fragments),
    )


# ----------------------------------------------------------------- events.json
def events_json(result: RunResult) -> records.EventsFile:
    """``events.json``: every partner's (and the fused picture's) launch event reports, matched to the truth."""
    histories = result.log.histories()
    out = []
    for event in result.events:
        partner = event.partner
        h = histories[(partner, event.event_id)]
        # The object its estimates are of: the one its reported track follows at its end (the re-entry body,
        # or a stage where that is all the partner held).  Not the one nearest at each update: before a
        # radar resolves the pieces the track follows their centroid, near the bright stage, and keeps the
        # weaker echo (the body) when they part (mwx.track.tracker: identity at separation).
        end = evaluation.object_of(result, float(h.t[-1]), h.x[-1])
        warned = [w for k in event.track_ids if (w := evaluation.first_warning(result, partner, k)) is not None]
        out.append(
            msgspec.structs.replace(
                event,
                truth_id=evaluation.truth_of(result, float(h.t[0]), h.x[0]),
                truth_object=end[1].id if end else None,
                # Evaluation: the truth launch each of its tracks began on (a launch grouped into another's event).
                track_truth_ids={
                    k: evaluation.truth_of(result, float(histories[(partner, k)].t[0]), histories[(partner, k)].x[0])
                    for k in event.track_ids
                },
                first_warning=records.utc_or_none(min(warned, default=None)),
            )
        )
    order = {p: i for i, p in enumerate(result.partners)} | {FUSED: len(result.partners)}
    out.sort(key=lambda e: (e.truth_id or "~", order.get(e.partner, 99), e.event_id))
    return records.EventsFile(events=out)


# ----------------------------------------------------------------- alerts.json
def alerts_json(result: RunResult, caps: dict[str, list[CapAlert]] | None = None) -> records.AlertsFile:
    """``alerts.json``: every alert of every partner with its history, matched to the truth.

    Each change carries the alert area of its CAP document (:func:`mwx.warn.alerts.cap_changes`; ``caps``:
    those changes per alert id, when the caller has them already).
    """
    histories = result.log.histories()
    out = []
    for partner in result.partners:
        for alert in result.pictures[partner].alerts:
            record = alert_record(alert, caps[alert.alert_id] if caps is not None else None)
            truth_id = evaluation.alert_truth(result, histories, partner, alert.launch_id)
            out.append(msgspec.structs.replace(record, truth_id=truth_id))
    out.sort(key=lambda a: (a.history[0].time, a.alert_id))
    return records.AlertsFile(alerts=out)


# ----------------------------------------------------------------- metrics.json, manifest.json
def metrics_json(result: RunResult, events: records.EventsFile, alerts: records.AlertsFile) -> records.MetricsFile:
    """``metrics.json``: the run judged against the truth (:func:`mwx.exercise.evaluation.judge_run`)."""
    return evaluation.judge_run(result, events, alerts)


def manifest_json(result: RunResult, files: list[str]) -> records.Manifest:
    """``manifest.json``: what made the run folder (version, scenario, seed, theater, bus, participants), the span
    it covers (first launch to last impact) and the files it holds (``files``)."""
    return records.Manifest(
        mwx_version=mwx.__version__,
        scenario=result.scenario.name,
        seed=result.scenario.seed,
        theater=result.theater.name,
        bus=result.bus_kind,
        participants=list(result.pictures),
        start=records.utc(min(launch.launch_time for launch in result.truth)),
        end=records.utc(max(launch.impact_time for launch in result.truth)),
        files=sorted(files),
    )


# ----------------------------------------------------------------- CSV
def write_tracks(result: RunResult, path: Path) -> None:
    """``tracks.csv``: every published track state (:class:`mwx.records.TrackState`, one row each, in publication
    order): UTC and Unix time, geodetic position, ECEF state and the covariance's diagonal."""
    rows = result.log.rows
    if rows:
        lat, lon, alt = wgs84.ecef_to_geodetic(np.array([row.x[:3] for row in rows]))
        lat_deg, lon_deg = np.degrees(lat), wrap_lon(np.degrees(lon))
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(TRACKS_COLUMNS)
        for k, row in enumerate(rows):
            when = records.utc(row.time).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            w.writerow(
                [when, f"{row.time:.3f}", row.partner, row.track_id,
                 f"{lat_deg[k]:.6f}", f"{lon_deg[k]:.6f}", f"{alt[k]:.3f}",
                 *(f"{v:.3f}" for v in row.x), *(f"{v:.6g}" for v in np.diag(row.P))]
            )  # fmt: skip


#: ``measurements.csv`` columns (units in the names): :data:`mwx.records.MEASUREMENT_COLUMNS`.
MEASUREMENT_COLUMNS = records.MEASUREMENT_COLUMNS


def write_measurements(result: RunResult, path: Path) -> None:
    """``measurements.csv``: one row per report (:class:`mwx.records.Measurement`), empty cells where a sensor does
    not measure a value."""
    m = result.measurements
    sensors = result.theater.sensors

    def cells(values: np.ndarray, fmt: str) -> list[str]:
        return ["" if not np.isfinite(v) else format(v, fmt) for v in values.tolist()]

    radar = np.array([s.kind == "radar" for s in sensors], bool)[m.sensor] if len(m) else np.empty(0, bool)

    def only(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.where(mask, values, np.nan)

    columns = [
        [sensors[i].id for i in m.sensor.tolist()],
        [sensors[i].partner for i in m.sensor.tolist()],
        [sensors[i].kind for i in m.sensor.tolist()],
        [result.object_ids[o] if o >= 0 else "" for o in m.object.tolist()],
        cells(m.time, ".3f"),
        cells(m.received, ".3f"),
        cells(only(m.z[:, 0], radar), ".3f"),
        cells(only(m.z[:, 1], radar), ".8f"),
        cells(only(m.z[:, 2], radar), ".8f"),
        cells(only(m.z[:, 3], radar), ".3f"),
        cells(only(m.z[:, 1], ~radar), ".9f"),
        cells(only(m.z[:, 2], ~radar), ".9f"),
        cells(only(m.sigma[:, 0], radar), ".3f"),
        cells(only(m.sigma[:, 1], radar), ".3e"),
        cells(only(m.sigma[:, 2], radar), ".3e"),
        cells(only(m.sigma[:, 3], radar), ".3f"),
        cells(only(m.sigma[:, 1], ~radar), ".3e"),
        cells(m.snr_db, ".2f"),
        [str(int(o < 0)) for o in m.object.tolist()],
    ]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(MEASUREMENT_COLUMNS)
        w.writerows(zip(*columns, strict=True))


# ----------------------------------------------------------------- the folder
def write_run(result: RunResult, out: Path) -> dict[str, Path]:
    """Write every run-folder file (``manifest.json`` last, naming them); return their paths by name."""
    out.mkdir(parents=True, exist_ok=True)
    # Civil alert output: one CAP 1.2 document per alert change, each with its change's own area; alerts.json
    # carries the same areas.
    caps: dict[str, list[CapAlert]] = {
        alert.alert_id: cap_changes(alert) for p in result.partners for alert in result.pictures[p].alerts
    }
    events = events_json(result)
    alerts = alerts_json(result, caps)
    files = {name: out / name for name in ("truth.json", "events.json", "alerts.json", "tracks.csv",
                                           "measurements.csv", "metrics.json")}  # fmt: skip
    records.write(files["truth.json"], truth_json(result))
    records.write(files["events.json"], events)
    records.write(files["alerts.json"], alerts)
    write_tracks(result, files["tracks.csv"])
    write_measurements(result, files["measurements.csv"])
    records.write(files["metrics.json"], metrics_json(result, events, alerts))
    files[RUN_SCENARIO_FILE] = out / RUN_SCENARIO_FILE  # the scenario as run: its theater's sensors for readers
    files[RUN_SCENARIO_FILE].write_bytes(encode_scenario(result.scenario))
    cap_dir = out / "cap"
    if cap_dir.exists():
        for old in cap_dir.glob("*.xml"):
            old.unlink()
    write_cap(cap_dir, [c for changes in caps.values() for c in changes])
    files["cap"] = cap_dir
    files["manifest.json"] = out / "manifest.json"
    names = [f"{name}/" if path.is_dir() else name for name, path in files.items()]
    records.write(files["manifest.json"], manifest_json(result, names))
    return files


def add_to_manifest(out: Path, products: list[Path]) -> None:
    """Name in ``manifest.json`` what was made from the run folder after it (``report.html``, ``exports/``)."""
    manifest = records.read(out / "manifest.json", records.Manifest)
    names = {f"{p.relative_to(out)}/" if p.is_dir() else str(p.relative_to(out)) for p in products}
    manifest.files = sorted(set(manifest.files) | names)
    records.write(out / "manifest.json", manifest)
