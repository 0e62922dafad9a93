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
from mwx.warn.alerts import cap_changes
from mwx.warn.cap import CapAlert, write_cap

__all__ = [
    "MEASUREMENT_COLUMNS", "TRACKS_COLUMNS", "alerts_json", "events_json", "manifest_json", "metrics_json",
    "truth_json", "write_measurements", "write_run", "write_tracks",
]  # fmt: skip

_GEOD = Geod(ellps="WGS84")
#: ``tracks.csv`` columns (units in the names): :data:`mwx.records.TRACKS_COLUMNS`.
TRACKS_COLUMNS = records.TRACKS_COLUMNS
_r = evaluation.rounded


def _point(lat: float, lon: float) -> records.Point:
    return records.Point(lat=round(lat, 5), lon=round(wrap_lon(lon), 5))


def _time(t: float | None) -> records.UtcTime | None:
    """A Unix time as the run folder's UTC time (to the millisecond), None if unknown."""
    return None if t is None or not math.isfinite(t) else records.utc(t)


# ----------------------------------------------------------------- truth.json
def truth_json(result: RunResult) -> records.TruthFile:
    """``truth.json``: what really flew, and the registration biases drawn for the run."""
    launches = []
    for launch in result.truth:
        traj, m = launch.trajectory, launch.missile
        az, _, _ = _GEOD.inv(
            math.degrees(traj.site[1]),
            math.degrees(traj.site[0]),
            math.degrees(traj.impact_lon),
            math.degrees(traj.impact_lat),
        )
        launches.append(
            records.TruthLaunch(
                id=m.id,
                launch_time=records.utc(m.launch_time),
                launch_point=_point(math.degrees(traj.site[0]), math.degrees(traj.site[1])),
                azimuth_deg=round(az % 360.0, 3),
                apogee_km=round(traj.apogee_alt / 1e3, 3),
                range_km=round(traj.range_m / 1e3, 3),
                flight_time_s=round(traj.impact_t, 3),
                burnout_time=records.utc(m.launch_time + traj.burnout_t),
                impact_time=records.utc(m.launch_time + traj.impact_t),
                impact_point=_point(math.degrees(traj.impact_lat), math.degrees(traj.impact_lon)),
                max_speed_mps=round(traj.max_speed, 3),
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


# ----------------------------------------------------------------- events.json
EVENT_FIELDS = (
    "partner", "event_id", "truth_id", "truth_object", "track_ids", "grouped", "track_truth_ids", "final",
    "first_detection", "first_warning",
    "launch_time", "launch_time_sigma_s", "launch_point", "launch_point_sigma_km", "launch_ellipse_95", "launch_method",
    "apogee_km", "range_km", "flight_time_s", "max_speed_mps",
    "impact_time", "impact_time_sigma_s", "impact_point", "impact_ellipse_95", "impact_area", "impact_probability",
    "class", "lofted", "equivalent_range_km", "stage_probability",
    "overflights", "over_territory_of", "inside_eez_of", "number_of_objects", "estimated_at", "updates",
)  # fmt: skip
_TIMES = ("first_detection", "launch_time", "impact_time", "estimated_at", "time")
_FIGURES = ("launch_time_sigma_s", "launch_point_sigma_km", "apogee_km", "range_km", "flight_time_s", "max_speed_mps",
            "impact_time_sigma_s", "equivalent_range_km", "stage_probability")  # fmt: skip


def _event_fields(e: dict) -> dict:
    """An event (or one of its updates) in run-folder form: UTC times, rounded figures, wrapped longitudes."""
    e = dict(e)
    for key in _TIMES:
        if key in e:
            e[key] = _time(e[key])
    for key in _FIGURES:
        if key in e:
            e[key] = _r(e[key])
    for key in ("launch_point", "impact_point"):
        if key in e:
            e[key] = _point(e[key]["lat"], e[key]["lon"])
    for key in ("impact_ellipse_95", "launch_ellipse_95"):
        if key in e:
            e[key] = {k: _r(v) for k, v in e[key].items()}
    if "impact_area" in e:
        e["impact_area"] = {**e["impact_area"], "probability": _r(e["impact_area"]["probability"])}
    if "impact_probability" in e:
        e["impact_probability"] = {k: _r(v) for k, v in e["impact_probability"].items()}
    if "overflights" in e:
        e["overflights"] = [
            {**o, "enter": _time(o["enter"]), "leave": _time(o["leave"]),
             **msgspec.structs.asdict(_point(o["lat"], o["lon"])), "probability": _r(o["probability"])}
            for o in e["overflights"]
        ]  # fmt: skip
    return e


def events_json(result: RunResult) -> records.EventsFile:
    """``events.json``: every partner's (and the fused picture's) launch event reports, matched to the truth."""
    histories = result.log.histories()
    out = []
    for event in result.events:
        partner = event["partner"]
        h = histories[(partner, event["event_id"])]
        e = _event_fields(event)
        e["truth_id"] = evaluation.truth_of(result, float(h.t[0]), h.x[0])
        # The object its estimates are of: the one its reported track follows at its end (the re-entry body,
        # or a stage where that is all the partner held).  Not the one nearest at each update: before a
        # radar resolves the pieces the track follows their centroid, near the bright stage, and keeps the
        # weaker echo (the body) when they part (mwx.track.tracker: identity at separation).
        end = evaluation.object_of(result, float(h.t[-1]), h.x[-1])
        e["truth_object"] = end[1].id if end else None
        # Evaluation: the truth launch each of its tracks began on (a launch grouped into another's event).
        e["track_truth_ids"] = {
            k: evaluation.truth_of(result, float(histories[(partner, k)].t[0]), histories[(partner, k)].x[0])
            for k in event["track_ids"]
        }
        warned = [w for k in event["track_ids"] if (w := evaluation.first_warning(result, partner, k)) is not None]
        e["first_warning"] = _time(min(warned, default=None))
        e["updates"] = [_event_fields(u) for u in event["updates"]]
        out.append(msgspec.convert({k: e[k] for k in EVENT_FIELDS}, records.LaunchEvent))
    order = {p: i for i, p in enumerate(result.partners)} | {FUSED: len(result.partners)}
    out.sort(key=lambda e: (e.truth_id or "~", order.get(e.partner, 99), e.event_id))
    return records.EventsFile(events=out)


# ----------------------------------------------------------------- alerts.json
def _rings(change: CapAlert) -> list[list[tuple[float, float]]]:
    """The polygons of a CAP change's <area>s as rings of (lon, lat) degrees (CAP writes "lat,lon" pairs)."""
    rings = []
    for area in change.areas:
        for polygon in area.polygons:
            rings.append([(float(lon), float(lat)) for pair in polygon.split() for lat, lon in [pair.split(",")]])
    return rings


def _change(entry: dict, cap: CapAlert) -> records.AlertChange:
    """One history entry of an alert in run-folder form, with its CAP change's alert area."""
    change = records.AlertChange(time=records.utc(entry["time"]), status=entry["status"], why=list(entry["why"]))
    if "level" in entry:
        change.level, change.reason = entry["level"], entry["reason"]
    if "impact_point" in entry:
        change.impact_point = _point(entry["impact_point"]["lat"], entry["impact_point"]["lon"])
        change.impact_time = _time(entry["impact_time"])
        change.crossing_time = _time(entry["crossing_time"])
    if entry.get("probability") is not None:
        change.probability = _r(min(max(float(entry["probability"]), 0.0), 1.0), 4)
    if (ellipse := entry.get("ellipse")) is not None:
        change.ellipse_95 = records.Ellipse95(
            semi_major_km=_r(ellipse["semi_major_km"]),  # type: ignore[arg-type]
            semi_minor_km=_r(ellipse["semi_minor_km"]),  # type: ignore[arg-type]
            orientation_deg=_r(ellipse["orientation_deg"]),  # type: ignore[arg-type]
        )
    change.alert_area = _rings(cap)
    return change


def alerts_json(result: RunResult, caps: dict[str, list[CapAlert]] | None = None) -> records.AlertsFile:
    """``alerts.json``: every alert of every partner with its history, matched to the truth.

    Each change carries the alert area of its CAP document (:func:`mwx.warn.alerts.cap_changes`; ``caps``:
    those changes per alert id, when the caller has them already).
    """
    histories = result.log.histories()
    out = []
    for partner in result.partners:
        for alert in result.pictures[partner].alerts:
            changes = caps[alert.alert_id] if caps is not None else cap_changes(alert)
            out.append(
                records.AlertRecord(
                    alert_id=alert.alert_id,
                    partner=alert.partner,
                    area=records.AreaRef(
                        partner=alert.area.partner,
                        kind=alert.area.kind,  # type: ignore[arg-type]
                        name=alert.area.name,
                    ),
                    reason=alert.reason,  # type: ignore[arg-type]
                    launch_id=alert.launch_id,
                    track_id=alert.track_id,
                    level_changes=alert.level_changes(),
                    truth_id=evaluation.alert_truth(result, histories, partner, alert.launch_id),
                    history=[_change(h, c) for h, c in zip(alert.history, changes, strict=True)],
                )
            )
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
