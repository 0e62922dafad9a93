"""What every export reads: a run folder's records, its tracks and its theater's sensors, loaded once.

Every file is read through :mod:`mwx.records` (``records.read(path, Type)``; ``tracks.csv`` rows converted
to :class:`~mwx.records.TrackState`), so a malformed run folder fails with one
:class:`~mwx.errors.RecordError` line naming the file and the field.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from mwx import records
from mwx.errors import InputError
from mwx.geo import wgs84
from mwx.sim.scenario import RUN_SCENARIO_FILE, run_theater
from mwx.sim.theater import Sensor, Theater

#: The files a folder needs for an export (``manifest.json`` is used where there is one).
NEEDED = ("truth.json", "events.json", "alerts.json", "tracks.csv")
#: The theater of a run folder without a manifest (written before manifest.json existed).
DEFAULT_THEATER = "korea-japan"
#: Alert statuses that close an alert: its area is no longer in force from that change on.
CLOSING = ("ended", "cancelled")


def iso(t: datetime) -> str:
    """ISO 8601 UTC to the millisecond with ``Z``, as in the run folder."""
    t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Track:
    """One published track: its states in time order (one per time)."""

    partner: str
    track_id: str
    states: list[records.TrackState]

    @property
    def start(self) -> datetime:
        return self.states[0].time_utc

    @property
    def end(self) -> datetime:
        return self.states[-1].time_utc


@dataclass(frozen=True)
class TruthPath:
    """One true object's trajectory: Unix times [s], ECEF [m] (n, 3), geodetic lat, lon [deg], height [m]."""

    launch: records.TruthLaunch
    obj: records.TruthObject
    t: NDArray[np.float64]
    ecef: NDArray[np.float64]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    alt: NDArray[np.float64]

    @property
    def start(self) -> datetime:
        return records.utc(float(self.t[0]))

    @property
    def end(self) -> datetime:
        return records.utc(float(self.t[-1]))


@dataclass(frozen=True)
class AreaChange:
    """An alert change that carries an alert area: the change, and until when it holds (the next change of
    the alert, or the run's end for the last)."""

    alert: records.AlertRecord
    index: int
    change: records.AlertChange
    until: datetime

    @property
    def rings(self) -> list[list[tuple[float, float]]]:
        return self.change.alert_area or []


@dataclass(frozen=True)
class Prediction:
    """One impact prediction of a launch event: an update (or the event itself where it has none), when it was
    made and until when it held (the next update's time; None for the last)."""

    event: records.LaunchEvent
    index: int
    count: int
    time: datetime
    until: datetime | None
    impact_point: records.Point
    impact_time: datetime
    ellipse: records.Ellipse95


def predictions(event: records.LaunchEvent) -> list[Prediction]:
    """Every impact prediction of a launch event, in time order: its updates, or the event itself if none."""
    made = [(u.time, u.impact_point, u.impact_time, u.impact_ellipse_95) for u in event.updates]
    if not made:
        made = [(event.estimated_at, event.impact_point, event.impact_time, event.impact_ellipse_95)]
    return [
        Prediction(event, i, len(made), time, made[i + 1][0] if i + 1 < len(made) else None, point, impact, ellipse)
        for i, (time, point, impact, ellipse) in enumerate(made)
    ]


@dataclass
class RunData:
    """A run folder's records, ready for the writers."""

    folder: Path
    truth: records.TruthFile
    events: records.EventsFile
    alerts: records.AlertsFile
    manifest: records.Manifest | None
    track_states: list[records.TrackState]
    theater: Theater | None
    notes: list[str] = field(default_factory=list)

    @property
    def scenario(self) -> str:
        return self.manifest.scenario if self.manifest else self.truth.scenario

    @property
    def seed(self) -> int:
        return self.manifest.seed if self.manifest else self.truth.seed

    @cached_property
    def tracks(self) -> list[Track]:
        """Every track, by partner then track id, its states in time order (the last of equal times kept)."""
        grouped: dict[tuple[str, str], dict[float, records.TrackState]] = defaultdict(dict)
        for s in self.track_states:
            grouped[(s.partner, s.track_id)][s.time_unix_s] = s
        return [
            Track(partner, track_id, [by_time[t] for t in sorted(by_time)])
            for (partner, track_id), by_time in sorted(grouped.items())
        ]

    @cached_property
    def truth_paths(self) -> list[TruthPath]:
        paths = []
        for launch in self.truth.launches:
            for obj in launch.objects:
                if not obj.trajectory:
                    continue
                rows = np.asarray(obj.trajectory, float)
                lat, lon, alt = wgs84.ecef_to_geodetic(rows[:, 1:4])
                paths.append(TruthPath(launch, obj, rows[:, 0], rows[:, 1:4], np.degrees(lat), np.degrees(lon), alt))
        return paths

    @cached_property
    def start(self) -> datetime:
        """The first of: launches, track states, alert changes (the manifest's start where there is one)."""
        times = [launch.launch_time for launch in self.truth.launches]
        times += [t.start for t in self.tracks] + [a.history[0].time for a in self.alerts.alerts if a.history]
        if self.manifest:
            times.append(self.manifest.start)
        return min(times) if times else records.utc(0.0)

    @cached_property
    def end(self) -> datetime:
        """The last of: impacts, track states, alert changes (the manifest's end where there is one)."""
        times = [launch.impact_time for launch in self.truth.launches] + [p.end for p in self.truth_paths]
        times += [t.end for t in self.tracks] + [c.time for a in self.alerts.alerts for c in a.history]
        if self.manifest:
            times.append(self.manifest.end)
        return max(times) if times else self.start + timedelta(seconds=1)

    @cached_property
    def area_changes(self) -> list[AreaChange]:
        """Every alert change that puts an alert area in force (issued, updated, track-lost: not the ended or
        cancelled one that closes the alert, though it repeats the area), in alerts.json order, each with the
        time it holds until: the alert's next change."""
        out = []
        for alert in self.alerts.alerts:
            for i, change in enumerate(alert.history):
                if change.alert_area and change.status not in CLOSING:
                    until = alert.history[i + 1].time if i + 1 < len(alert.history) else self.end
                    out.append(AreaChange(alert, i, change, max(until, change.time)))
        return out

    @property
    def sensors(self) -> list[Sensor]:
        return list(self.theater.sensors) if self.theater else []


def load_run(folder: Path) -> RunData:
    """A run folder's records; :class:`InputError` (one line) if it is not a run folder, RecordError if a file
    does not decode as its record type."""
    if not folder.is_dir():
        raise InputError("no such run folder", source=str(folder))
    missing = [name for name in NEEDED if not (folder / name).is_file()]
    if missing:
        raise InputError(f"not a run folder (no {', '.join(missing)})", source=str(folder))
    manifest = None
    notes = []
    if (folder / "manifest.json").is_file():
        manifest = records.read(folder / "manifest.json", records.Manifest)
    theater_name = manifest.theater if manifest else DEFAULT_THEATER
    if not (folder / RUN_SCENARIO_FILE).is_file():
        notes.append(f"no {RUN_SCENARIO_FILE}: sensors are those of the built-in theater {theater_name!r} as shipped")
    theater = run_theater(folder, theater_name)
    if theater is None:
        notes.append(f"theater {theater_name!r} is not built in: no sensors exported")
    return RunData(
        folder=folder,
        truth=records.read(folder / "truth.json", records.TruthFile),
        events=records.read(folder / "events.json", records.EventsFile),
        alerts=records.read(folder / "alerts.json", records.AlertsFile),
        manifest=manifest,
        track_states=records.read_csv(folder / "tracks.csv", records.TrackState),
        theater=theater,
        notes=notes,
    )


# --------------------------------------------------------------------------- covariance
def horizontal_vertical_sigma(state: records.TrackState) -> tuple[float, float]:
    """1σ horizontal and vertical position error [m] of a track state: its ECEF position variances rotated
    into east-north-up at the state's position (tracks.csv has the covariance's diagonal only, so the ECEF
    cross-covariances are taken as zero); horizontal is the square root of the larger eigenvalue of the
    east-north block (the major semi-axis of the 1σ error ellipse), vertical the up standard deviation."""
    basis = wgs84.enu_basis(math.radians(state.lat_deg), math.radians(state.lon_deg))
    cov = basis @ np.diag([state.var_x_m2, state.var_y_m2, state.var_z_m2]) @ basis.T
    horizontal = float(np.sqrt(max(np.linalg.eigvalsh(cov[:2, :2])[-1], 0.0)))
    vertical = float(np.sqrt(max(cov[2, 2], 0.0)))
    return horizontal, vertical


def course_speed(state: records.TrackState) -> tuple[float, float]:
    """Course over ground [deg from true north, clockwise, in [0, 360)] and speed [m/s] of a track state."""
    basis = wgs84.enu_basis(math.radians(state.lat_deg), math.radians(state.lon_deg))
    east, north, up = basis @ np.array([state.vx_mps, state.vy_mps, state.vz_mps])
    return math.degrees(math.atan2(east, north)) % 360.0, float(math.sqrt(east**2 + north**2 + up**2))


# --------------------------------------------------------------------------- colours
#: Display colours (r, g, b) per partner, shared by KML and CZML; the truth is white, others grey.
PARTNER_RGB = {"KR": (40, 100, 230), "JP": (225, 45, 45), "US": (40, 170, 70), "fused": (160, 70, 220)}
TRUTH_RGB = (255, 255, 255)
OTHER_RGB = (150, 150, 150)


def rgb_of(partner: str | None) -> tuple[int, int, int]:
    """The display colour of a partner (None: the truth)."""
    return TRUTH_RGB if partner is None else PARTNER_RGB.get(partner, OTHER_RGB)


def partners_of(run: RunData) -> list[str]:
    """The partners with something to show, in the manifest's order (or sorted), ``fused`` last."""
    seen = {t.partner for t in run.tracks} | {e.partner for e in run.events.events}
    seen |= {a.partner for a in run.alerts.alerts} | {s.partner for s in run.sensors}
    order = list(run.manifest.participants) if run.manifest else []
    ordered = [p for p in order if p in seen] + sorted(seen - set(order))
    return sorted(ordered, key=lambda p: p == "fused")
