"""After-action report of a run folder (docs/run-folder.md), for an analyst.

:func:`write_report` turns the run folder's records (:mod:`mwx.records`: ``truth.json``, ``events.json``,
``alerts.json``, ``metrics.json``, ``manifest.json``, ``tracks.csv``, ``measurements.csv``) into one
self-contained ``report.html``:

* a **verdict** at the top: launches, how many were detected and warned, missed and false alerts, each
  partner's first detection, first warning and lead per launch, and how often the 95 % regions held the
  truth;
* per launch, a **map** zoomed to the flight (true ground track, every partner's and the fused tracks, the
  radars that detected it, each partner's predicted impact with its 95 % ellipse to scale, with an inset
  where the ellipses are too small to see, and the alert areas), a **timeline** per partner (detection →
  first shared track → first assessment → warning → all-clear), the partners' pictures against the
  truth, the alerts' lifecycles, the sensors that saw it and **error-over-time** charts;
* the remaining **metrics** as tables with units.

The page is rendered by Jinja2 templates (``exercise/templates/``) with autoescaping, so no text of the
run folder can become markup.  Images are PNGs inlined as base64 (no network).  The report is a pure
function of the run folder: no clock, no host name, no absolute path, no wall time, PNGs without
metadata; the same run folder (and so the same scenario and seed) gives a byte-identical file.

:func:`format_summary` gives the per-launch comparison as fixed-width text for the terminal (``mwx run``).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from pyproj import Geod

from mwx import records
from mwx.exercise import report_figures as figs
from mwx.geo.wgs84 import ecef_to_geodetic
from mwx.plot import maps

if TYPE_CHECKING:
    import jinja2

__all__ = [
    "DASH",
    "NOT_DETECTED",
    "PARTNERS",
    "PartnerRow",
    "RunFolder",
    "format_summary",
    "load_run",
    "map_extent",
    "partner_rows",
    "render_html",
    "write_report",
]

FloatArray = NDArray[np.float64]

#: Row order of the per-launch tables when the run folder has no manifest naming its participants.
PARTNERS: tuple[str, ...] = ("KR", "JP", "US", "fused")
FUSED = "fused"
#: Shown for a value that is unknown (``null`` in the run folder).
DASH = "—"
#: The same in the terminal summary: ASCII, so any console encoding can print it.
TEXT_DASH = "-"
#: Shown in the first-detection column of a partner with no event for the launch.
NOT_DETECTED = "not detected"
#: The theater whose sensors are drawn when the run folder has no manifest.
DEFAULT_THEATER = "korea-japan"

_GEOD = Geod(ellps="WGS84")


# --------------------------------------------------------------------------------------- loading
@dataclass(frozen=True)
class TrackStates:
    """One published track's states from ``tracks.csv``: Unix time [s], latitude, longitude [deg], by time."""

    partner: str
    track_id: str
    t: FloatArray
    lat: FloatArray
    lon: FloatArray


@dataclass(frozen=True)
class SensorSeen:
    """What one sensor saw of one launch: its owner, kind, detections and the first one's Unix time [s]."""

    sensor: str
    partner: str
    kind: str
    detections: int
    first_s: float


@dataclass(frozen=True)
class RunFolder:
    """A run folder's records; files other than truth.json may be absent (empty, or None)."""

    truth: records.TruthFile
    events: list[records.LaunchEvent] = field(default_factory=list)
    alerts: list[records.AlertRecord] = field(default_factory=list)
    metrics: records.MetricsFile | None = None
    manifest: records.Manifest | None = None
    #: Published tracks by (partner, track id).
    tracks: dict[tuple[str, str], TrackStates] = field(default_factory=dict)
    #: Per truth launch id, what each sensor saw of it (from measurements.csv), by sensor id.
    seen: dict[str, dict[str, SensorSeen]] = field(default_factory=dict)
    #: The run's radars: sensor id → (partner, lat, lon) (scenario.yaml's theater, else the built-in one).
    radar_sites: dict[str, tuple[str, float, float]] = field(default_factory=dict)

    @property
    def launches(self) -> list[records.TruthLaunch]:
        """Truth launches in the order of truth.json."""
        return self.truth.launches

    @property
    def partners(self) -> list[str]:
        """Row order of partners: the manifest's participants (else KR, JP, US and any other seen), then fused."""
        if self.manifest is not None:
            base = [p for p in self.manifest.participants if p != FUSED]
        else:
            base = [p for p in PARTNERS if p != FUSED]
        seen = {e.partner for e in self.events} | {a.partner for a in self.alerts}
        if self.metrics is not None:
            seen |= {p for launch in self.metrics.launches for p in launch.per_partner}
        extra = sorted(p for p in seen if p not in base and p != FUSED)
        return [*base, *extra, FUSED]


def _optional(path: Path, kind: type[records.R]) -> records.R | None:
    return records.read(path, kind) if path.is_file() else None


def _read_tracks(path: Path) -> dict[tuple[str, str], TrackStates]:
    """``tracks.csv`` as :class:`mwx.records.TrackState` rows, gathered per track and sorted by time."""
    if not path.is_file():
        return {}
    rows: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for state in records.read_csv(path, records.TrackState):
        rows.setdefault((state.partner, state.track_id), []).append((state.time_unix_s, state.lat_deg, state.lon_deg))
    tracks = {}
    for key in sorted(rows):
        states = np.asarray(rows[key], float)
        states = states[np.argsort(states[:, 0], kind="stable")]
        tracks[key] = TrackStates(key[0], key[1], states[:, 0], states[:, 1], states[:, 2])
    return tracks


def _read_seen(path: Path, truth: records.TruthFile) -> dict[str, dict[str, SensorSeen]]:
    """Per launch and sensor, the detections of the launch's objects in ``measurements.csv`` (false alarms
    and objects of no launch left out)."""
    if not path.is_file():
        return {}
    launch_of = {obj.id: launch.id for launch in truth.launches for obj in launch.objects}
    acc: dict[str, dict[str, list]] = {}
    for report in records.read_csv(path, records.Measurement):
        launch_id = launch_of.get(report.object) if report.object is not None else None
        if report.false_alarm or launch_id is None:
            continue
        entry = acc.setdefault(launch_id, {}).setdefault(report.sensor, [report.partner, report.kind, 0, math.inf])
        entry[2] += 1
        entry[3] = min(entry[3], report.time_taken)
    return {
        lid: {s: SensorSeen(s, str(v[0]), str(v[1]), int(v[2]), float(v[3])) for s, v in sorted(by_sensor.items())}
        for lid, by_sensor in acc.items()
    }


def load_run(run_dir: Path) -> RunFolder:
    """Read the run folder ``run_dir``: truth.json is required, every other file optional.

    A file that is there but does not decode as its record raises :class:`mwx.errors.RecordError`.
    """
    run_dir = Path(run_dir)
    truth = records.read(run_dir / "truth.json", records.TruthFile)
    events = _optional(run_dir / "events.json", records.EventsFile)
    alerts = _optional(run_dir / "alerts.json", records.AlertsFile)
    manifest = _optional(run_dir / "manifest.json", records.Manifest)
    return RunFolder(
        truth=truth,
        events=events.events if events else [],
        alerts=alerts.alerts if alerts else [],
        metrics=_optional(run_dir / "metrics.json", records.MetricsFile),
        manifest=manifest,
        tracks=_read_tracks(run_dir / "tracks.csv"),
        seen=_read_seen(run_dir / "measurements.csv", truth),
        radar_sites=_radar_sites(run_dir, manifest.theater if manifest is not None else DEFAULT_THEATER),
    )


# ------------------------------------------------------------------------------------ evaluation
def _since(t: datetime | None, t0: datetime | None) -> float | None:
    """Seconds from ``t0`` to ``t``; None if either is unknown."""
    return None if t is None or t0 is None else (t - t0).total_seconds()


def _geodesic_km(p: records.Point | None, q: records.Point | None) -> float | None:
    """WGS-84 geodesic distance [km] between two points; None if either is unknown."""
    if p is None or q is None:
        return None
    _, _, dist_m = _GEOD.inv(p.lon, p.lat, q.lon, q.lat)
    return float(dist_m) / 1000.0


def _figures(run: RunFolder, truth_id: str) -> records.LaunchFigures | None:
    if run.metrics is None:
        return None
    return next((f for f in run.metrics.launches if f.truth_id == truth_id), None)


def _partner_figures(run: RunFolder, truth_id: str, partner: str) -> records.PartnerLaunchFigures | None:
    figures = _figures(run, truth_id)
    return None if figures is None else figures.per_partner.get(partner)


def _events_of(run: RunFolder, launch: records.TruthLaunch, partner: str) -> list[records.LaunchEvent]:
    """The partner's events matched to ``launch``, earliest first detection first (then by event id)."""
    matched = [e for e in run.events if e.partner == partner and e.truth_id == launch.id]
    return sorted(matched, key=lambda e: (e.first_detection, e.event_id))


def _alerts_of(run: RunFolder, launch: records.TruthLaunch, partner: str | None = None) -> list[records.AlertRecord]:
    return [a for a in run.alerts if a.truth_id == launch.id and (partner is None or a.partner == partner)]


@dataclass(frozen=True)
class PartnerRow:
    """One partner's final picture of one launch, compared with the truth."""

    partner: str
    event_id: str | None  # None: the partner has no event of its own for the launch
    first_detection_s: float | None
    first_warning_s: float | None
    apogee_km: float | None
    true_apogee_km: float
    range_km: float | None
    true_range_km: float
    impact_error_km: float | None
    launch_point_error_km: float | None
    estimated_class: str | None
    class_correct: bool | None
    #: Further events of this partner matched to the same launch (track breaks).
    other_events: int = 0
    #: Without an event of its own: what it did (``not detected``, or grouped into which launch and why).
    absent: str = NOT_DETECTED

    @property
    def detected(self) -> bool:
        """Whether the partner reported the launch with an event of its own."""
        return self.event_id is not None


def not_detected_text(run: RunFolder, launch: records.TruthLaunch, partner: str) -> str:
    """What a partner without an event of its own for ``launch`` did: grouped it into another launch's
    event (metrics.json says which, and why), or nothing."""
    figures = _partner_figures(run, launch.id, partner)
    if figures is not None and figures.grouped_with:
        return f"grouped with {figures.grouped_with} ({', '.join(figures.why)})"
    return NOT_DETECTED


def partner_rows(run: RunFolder, launch: records.TruthLaunch) -> list[PartnerRow]:
    """One row per partner (:attr:`RunFolder.partners`) for ``launch``; a partner without an event gets an
    empty row.  With several events (a broken track) the earliest is shown: it decides detection and warning."""
    rows = []
    for partner in run.partners:
        matched = _events_of(run, launch, partner)
        if not matched:
            rows.append(
                PartnerRow(
                    partner,
                    None,
                    None,
                    None,
                    None,
                    launch.apogee_km,
                    None,
                    launch.range_km,
                    None,
                    None,
                    None,
                    None,
                    absent=not_detected_text(run, launch, partner),
                )
            )
            continue
        event = matched[0]
        figures = _partner_figures(run, launch.id, partner)
        class_correct = figures.class_correct if figures is not None else None
        if class_correct is None:
            class_correct = event.missile_class == launch.missile_class
        rows.append(
            PartnerRow(
                partner=partner,
                event_id=event.event_id,
                first_detection_s=_since(event.first_detection, launch.launch_time),
                first_warning_s=_since(event.first_warning, launch.launch_time),
                apogee_km=event.apogee_km,
                true_apogee_km=launch.apogee_km,
                range_km=event.range_km,
                true_range_km=launch.range_km,
                impact_error_km=_geodesic_km(event.impact_point, launch.impact_point),
                launch_point_error_km=_geodesic_km(event.launch_point, launch.launch_point),
                estimated_class=event.missile_class,
                class_correct=class_correct,
                other_events=len(matched) - 1,
            )
        )
    return rows


def _track_ids(run: RunFolder, launch: records.TruthLaunch, partner: str) -> list[str]:
    """The partner's tracks that its events tie to ``launch`` (the reported track and those grouped with it)."""
    ids: set[str] = set()
    for event in _events_of(run, launch, partner):
        ids.update(t for t in event.track_ids if event.track_truth_ids.get(t, launch.id) == launch.id)
    return sorted(ids)


def timeline_rows(run: RunFolder, launch: records.TruthLaunch) -> list[figs.TimelineRow]:
    """Per partner, seconds after the true launch of: its sensors' first detection of the launch's objects
    (measurements.csv), its first published track of the launch (tracks.csv), its first assessment (the
    first update of its event), its first warning (alerts.json) and the all-clear (the last end of its
    alerts, once every one of them has ended or been cancelled).  The fused picture's detection is any
    partner's, its warning and all-clear any partner's alert of the launch."""
    t0 = launch.launch_time.timestamp()
    seen = run.seen.get(launch.id, {})
    rows = []
    for partner in run.partners:
        fused = partner == FUSED
        detections = [s.first_s for s in seen.values() if fused or s.partner == partner]
        track_starts = [
            float(run.tracks[(partner, t)].t[0]) for t in _track_ids(run, launch, partner) if (partner, t) in run.tracks
        ]
        events = _events_of(run, launch, partner)
        assessments = [min(u.time for u in e.updates) if e.updates else e.estimated_at for e in events]
        alerts = _alerts_of(run, launch, None if fused else partner)
        issued = [a.history[0].time for a in alerts if a.history]
        ends = [a.history[-1] for a in alerts if a.history]
        all_clear = (
            max(c.time for c in ends) if ends and all(c.status in ("ended", "cancelled") for c in ends) else None
        )
        rows.append(
            figs.TimelineRow(
                partner=partner,
                detection_s=min(detections) - t0 if detections else None,
                track_s=min(track_starts) - t0 if track_starts else None,
                assessment_s=_since(min(assessments), launch.launch_time) if assessments else None,
                warning_s=_since(min(issued), launch.launch_time) if issued else None,
                all_clear_s=_since(all_clear, launch.launch_time),
            )
        )
    return rows


# --------------------------------------------------------------------------------------------- map
def _ground_track(trajectory: Sequence[Sequence[float]]) -> tuple[FloatArray, FloatArray]:
    """Longitude, latitude [deg] of a truth trajectory's ECEF positions."""
    xyz = np.asarray(trajectory, float)[:, 1:4] if len(trajectory) else np.empty((0, 3))
    if not len(xyz):
        return np.empty(0), np.empty(0)
    lat, lon, _ = ecef_to_geodetic(xyz)
    return np.degrees(lon), np.degrees(lat)


def map_extent(launches: Sequence[records.TruthLaunch]) -> maps.MapExtent:
    """Window holding every truth ground track and launch and impact point of ``launches``, plus a margin.

    Centred on the circular mean longitude, so a flight across the antimeridian gets a narrow window around
    180°; with nothing to show, the Korea-Japan theater.
    """
    lons: list[FloatArray] = []
    lats: list[FloatArray] = []
    for launch in launches:
        for obj in launch.objects:
            lon, lat = _ground_track(obj.trajectory)
            lons.append(lon)
            lats.append(lat)
        for p in (launch.launch_point, launch.impact_point):
            lons.append(np.array([p.lon]))
            lats.append(np.array([p.lat]))
    extent = maps.extent_of(lons, lats)
    return extent if extent is not None else maps.MapExtent(133.0, 120.0, 146.0, 28.0, 46.0)


def _radar_sites(run_dir: Path, theater_name: str) -> dict[str, tuple[str, float, float]]:
    """Radar sites of the run's theater (:func:`mwx.sim.scenario.run_theater`): sensor id → (partner, lat, lon)."""
    from mwx.sim.scenario import run_theater

    theater = run_theater(run_dir, theater_name)
    return {r.id: (r.partner, r.site.lat, r.site.lon) for r in theater.radars} if theater is not None else {}


def _theater_name(run: RunFolder) -> str:
    return run.manifest.theater if run.manifest is not None else DEFAULT_THEATER


def _warned_areas(alert: records.AlertRecord) -> list[list[list[tuple[float, float]]]]:
    """The alert areas of the alert's issued and updated changes, in order (empty ones left out)."""
    return [c.alert_area for c in alert.history if c.status in ("issued", "updated") and c.alert_area]


def launch_map_data(run: RunFolder, launch: records.TruthLaunch) -> figs.LaunchMap:
    """What the map of ``launch`` shows, from the records (see :func:`mwx.exercise.report_figures.launch_map_png`)."""
    truth = []
    for obj in launch.objects:
        lon, lat = _ground_track(obj.trajectory)
        truth.append(figs.TruthPath(obj.id, obj.kind, lon, lat))
    tracks = []
    for partner in run.partners:
        for track_id in _track_ids(run, launch, partner):
            states = run.tracks.get((partner, track_id))
            if states is not None:
                tracks.append(figs.TrackPath(partner, track_id, states.lon, states.lat))
    estimates = [
        figs.ImpactEstimate(
            e.partner,
            e.event_id,
            e.impact_point.lat,
            e.impact_point.lon,
            e.impact_ellipse_95.semi_major_km,
            e.impact_ellipse_95.semi_minor_km,
            e.impact_ellipse_95.orientation_deg,
        )
        for partner in run.partners
        for e in _events_of(run, launch, partner)
    ]
    areas = [
        figs.AlertArea(a.partner, a.alert_id, warned[-1], warned[0])
        for a in _alerts_of(run, launch)
        if (warned := _warned_areas(a))
    ]
    sites = run.radar_sites
    sensors = [
        figs.SensorSite(s.sensor, s.partner, sites[s.sensor][1], sites[s.sensor][2])
        for s in run.seen.get(launch.id, {}).values()
        if s.sensor in sites
    ]
    return figs.LaunchMap(
        launch_id=launch.id,
        launch_lat=launch.launch_point.lat,
        launch_lon=launch.launch_point.lon,
        impact_lat=launch.impact_point.lat,
        impact_lon=launch.impact_point.lon,
        truth=truth,
        tracks=tracks,
        estimates=estimates,
        alert_areas=areas,
        sensors=sensors,
        partners=run.partners,
    )


# -------------------------------------------------------------------------------------- formatting
def _fmt(value: float | None, digits: int = 1, dash: str = DASH) -> str:
    """Fixed-point number, or ``dash`` for an unknown value."""
    return dash if value is None else f"{value:.{digits}f}"


def _signed(value: float | None, digits: int = 1) -> str:
    """``+1.2``, ``-0.4``; ``0.0`` for what rounds to zero (no ``-0.0``); a dash if unknown."""
    if value is None:
        return DASH
    text = f"{value:+.{digits}f}"
    return text[1:] if float(text) == 0.0 else text


def _pair(estimated: float | None, true: float | None, dash: str = DASH) -> str:
    """``estimated / true`` with one decimal, ``dash`` for unknown values."""
    return f"{_fmt(estimated, dash=dash)} / {_fmt(true, dash=dash)}"


def _pct(share: float | None) -> str:
    return DASH if share is None else f"{100.0 * share:.1f} %"


def _yes(value: bool | None) -> str:
    return DASH if value is None else ("yes" if value else "no")


def _int(value: int | None) -> str:
    return DASH if value is None else f"{value:,}".replace(",", "\u202f")  # thin space that does not break


def _point(p: records.Point | None) -> str:
    """``40.610°N 126.430°E``, or a dash."""
    if p is None:
        return DASH
    return f"{abs(p.lat):.3f}°{'N' if p.lat >= 0 else 'S'} {abs(p.lon):.3f}°{'E' if p.lon >= 0 else 'W'}"


def _utc(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S") + f".{t.microsecond // 1000:03d} UTC"


def _plain(text: object) -> str:
    """Text safe for a terminal: control characters (escape sequences) become '?'."""
    return "".join(ch if ch.isprintable() else "?" for ch in str(text))


def _text_table(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str) -> list[str]:
    """Fixed-width lines: first column left-aligned, the others right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


# ---------------------------------------------------------------------------------- text summary
def _alert_lines(run: RunFolder, launch: records.TruthLaunch) -> list[str]:
    """The launch's alerts for the terminal: issue time, lead before the true event, the lifecycle."""
    figures = _figures(run, launch.id)
    found = figures.warnings if figures is not None else []
    if not found:
        return ["  alerts: none"]
    lines = ["  alerts:"]
    for w in found:
        lead_text = f"lead {_fmt(w.lead_s, dash=TEXT_DASH)} s" if w.lead_s is not None else "no true threat"
        lines.append(
            f"    {_plain(w.alert_id)} {_plain(w.partner)} {_plain(w.reason)} {_plain(w.area)}:"
            f" issued +{_fmt(w.issued_after_launch_s, dash=TEXT_DASH)} s, {lead_text};"
            f" {' > '.join(_plain(s) for s in w.statuses)}"
        )
    return lines


def format_summary(run_dir: Path) -> str:
    """Plain-text per-launch, per-partner summary of a run folder for the terminal.

    Times are seconds after the true launch; the last line names the report file (``run_dir/report.html``,
    written by :func:`write_report`).
    """
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    lines = [f"scenario {_plain(run.truth.scenario)}  seed {run.truth.seed}  launches {len(run.launches)}"]
    header = ("partner", "detect s", "warn s", "apogee km est/true", "range km est/true", "impact err km")
    for launch in run.launches:
        lines.append("")
        launched = launch.launch_time.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        lines.append(
            f"{_plain(launch.id)}  launched {launched}  apogee {_fmt(launch.apogee_km, dash=TEXT_DASH)} km"
            f"  range {_fmt(launch.range_km, dash=TEXT_DASH)} km  {launch.missile_class}"
        )
        table = []
        for row in partner_rows(run, launch):
            if not row.detected:
                table.append(
                    (
                        row.partner,
                        row.absent,
                        TEXT_DASH,
                        _pair(None, row.true_apogee_km, TEXT_DASH),
                        _pair(None, row.true_range_km, TEXT_DASH),
                        TEXT_DASH,
                    )
                )
                continue
            table.append(
                (
                    row.partner,
                    _fmt(row.first_detection_s, dash=TEXT_DASH),
                    _fmt(row.first_warning_s, dash=TEXT_DASH),
                    _pair(row.apogee_km, row.true_apogee_km, TEXT_DASH),
                    _pair(row.range_km, row.true_range_km, TEXT_DASH),
                    _fmt(row.impact_error_km, dash=TEXT_DASH),
                )
            )
        lines.extend(_text_table(header, table, indent="  "))
        lines.extend(f"  {_plain(label)}: {_plain(text)}" for label, text in assessed_failures(run, launch))
        lines.extend(_alert_lines(run, launch))
    lines.append("")
    lines.append(f"report: {run_dir / 'report.html'}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ page content
@dataclass(frozen=True)
class Cell:
    """A table cell: its text, CSS classes and data attributes (name without ``data-`` → value)."""

    text: str
    cls: str = ""
    rowspan: int = 1
    data: dict[str, str] = field(default_factory=dict)
    #: Further lines, each shown on its own line in the cell.
    more: tuple[str, ...] = ()


@dataclass(frozen=True)
class Row:
    """A table row: its header cell (None under a header spanning rows) and its cells."""

    head: Cell | None
    cells: list[Cell]


@dataclass(frozen=True)
class Table:
    """A table: column headings (units in them) and rows."""

    header: list[str]
    rows: list[Row]
    caption: str = ""
    cls: str = ""


@dataclass(frozen=True)
class Image:
    """A PNG shown inline, with words for what it shows."""

    b64: str
    width: int
    height: int
    alt: str
    caption: str
    cls: str = ""
    data: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Tile:
    """One figure of the verdict: ``data-figure`` key, its value as shown and as a number, its label."""

    key: str
    value: str
    label: str
    number: str
    note: str = ""
    cls: str = ""


@dataclass(frozen=True)
class Verdict:
    tiles: list[Tile]
    table: Table
    notes: list[str]


@dataclass(frozen=True)
class LaunchView:
    id: str
    anchor: str
    title: str
    facts: list[tuple[str, str]]
    map: Image
    timeline: Image
    timeline_table: Table
    partners_table: Table
    alerts_table: Table | None
    sensors_table: Table | None
    sensors_note: str
    errors: Image | None


@dataclass(frozen=True)
class Section:
    """A titled group of tables (the metrics, what matched no launch)."""

    title: str
    anchor: str
    intro: str
    tables: list[Table]


def _png(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


def _anchor(prefix: str, text: str) -> str:
    return prefix + "-" + "".join(ch if ch.isalnum() else "-" for ch in text)


def _launch_detected(figures: records.LaunchFigures | None, rows: Sequence[PartnerRow]) -> bool:
    if figures is not None:
        return any(f.detected for f in figures.per_partner.values())
    return any(r.detected for r in rows)


def verdict(run: RunFolder) -> Verdict:
    """The figures a reader asks first, from metrics.json (and the events where it is absent)."""
    launches = run.launches
    rows_by_launch = {launch.id: partner_rows(run, launch) for launch in launches}
    detected = sum(_launch_detected(_figures(run, la.id), rows_by_launch[la.id]) for la in launches)
    tiles = [
        Tile("launches", str(len(launches)), "launches", str(len(launches))),
        Tile(
            "detected",
            f"{detected} of {len(launches)}",
            "detected (by a partner or the fused picture)",
            str(detected),
            cls="good" if detected == len(launches) else "bad",
        ),
    ]
    notes = []
    m = run.metrics
    if m is not None:
        threatened = [t for f in m.launches for t in f.threatened_areas]
        warned = sum(t.warned for t in threatened)
        tiles += [
            Tile(
                "warned",
                f"{warned} of {len(threatened)}",
                "threatened areas warned",
                str(warned),
                cls="good" if warned == len(threatened) else "bad",
            ),
            Tile(
                "missed",
                str(m.alerts.missed),
                "missed (threatened, no alert)",
                str(m.alerts.missed),
                cls="good" if m.alerts.missed == 0 else "bad",
            ),
            Tile(
                "false",
                str(m.alerts.false),
                "false alerts",
                str(m.alerts.false),
                cls="good" if m.alerts.false == 0 else "bad",
            ),
            Tile("alerts", str(m.alerts.issued), "alerts issued", str(m.alerts.issued)),
        ]
        for key, label, coverage in (
            ("impact-coverage", "95 % impact ellipses that held the true impact", m.ellipse_95_coverage),
            ("launch-coverage", "95 % launch ellipses that held the true launch point", m.launch_ellipse_95_coverage),
        ):
            tiles.append(
                Tile(
                    key,
                    _pct(coverage.inside),
                    label,
                    "" if coverage.inside is None else f"{coverage.inside:.6g}",
                    note=f"of {coverage.reports} reports",
                    cls="" if coverage.inside is None else ("good" if coverage.inside >= 0.9 else "bad"),
                )
            )
        notes.append(
            "A 95 % region should hold the truth in about 95 % of reports: much less means the stated "
            "uncertainty is too small (overconfident), much more that it is too large."
        )
    header = ["launch", *run.partners]
    body = []
    for launch in launches:
        figures = _figures(run, launch.id)
        threats = [f"{t.partner} {t.area} ({t.reason})" for t in figures.threatened_areas] if figures else []
        head = Cell(launch.id, more=(launch.missile_class, *(threats or ["no area threatened"])))
        cells = []
        for row in rows_by_launch[launch.id]:
            cells.append(_verdict_cell(run, launch, row, figures))
        body.append(Row(head, cells))
    table = Table(
        header,
        body,
        caption="Per launch and partner: first detection and first warning (seconds after the true launch) and "
        "the lead of the warning over the true event (crossing of the territory, or impact), for the areas the "
        "true flight threatened.",
        cls="verdict",
    )
    return Verdict(tiles, table, notes)


def _verdict_cell(
    run: RunFolder, launch: records.TruthLaunch, row: PartnerRow, figures: records.LaunchFigures | None
) -> Cell:
    data = {"launch": launch.id, "partner": row.partner}
    if not row.detected:
        return Cell(row.absent, cls="nd", data=data)
    lines = [f"detected +{_fmt(row.first_detection_s)} s"]
    cls = ""
    if figures is not None:
        mine = [t for t in figures.threatened_areas if t.partner == row.partner]
        for t in mine:
            if t.warned:
                lines.append(f"warned +{_fmt(t.first_warning_after_launch_s)} s, lead {_fmt(t.lead_s)} s ({t.area})")
            else:
                lines.append(f"NOT warned: {t.area}")
                cls = "bad"
        warned_ids = {a for t in mine for a in t.alerts}
        for w in figures.warnings:
            if w.partner == row.partner and w.alert_id not in warned_ids:
                lines.append(f"warned +{_fmt(w.issued_after_launch_s)} s: {w.area}, not threatened")
                cls = "bad"
        if not mine and not any(w.partner == row.partner for w in figures.warnings) and row.partner != FUSED:
            lines.append("none of its areas threatened")
    if row.partner == FUSED and row.first_warning_s is not None:
        lines.append(f"first warning +{_fmt(row.first_warning_s)} s (a partner's alert)")
    return Cell(lines[0], cls=cls, data=data, more=tuple(lines[1:]))


def _partners_table(rows: Sequence[PartnerRow]) -> Table:
    header = [
        "partner",
        "event",
        "first detection (s)",
        "first warning (s)",
        "apogee (km) est. / true",
        "range (km) est. / true",
        "impact point error (km)",
        "launch point error (km)",
        "class",
    ]
    body = []
    for r in rows:
        if not r.detected:
            body.append(
                Row(
                    Cell(r.partner),
                    [
                        Cell(DASH),
                        Cell(r.absent, cls="nd"),
                        Cell(DASH),
                        Cell(_pair(None, r.true_apogee_km)),
                        Cell(_pair(None, r.true_range_km)),
                        Cell(DASH),
                        Cell(DASH),
                        Cell(DASH),
                    ],
                )
            )
            continue
        event = (r.event_id or DASH) + (f" (+{r.other_events} more)" if r.other_events else "")
        body.append(
            Row(
                Cell(r.partner),
                [
                    Cell(event, cls="l"),
                    Cell(_fmt(r.first_detection_s)),
                    Cell(_fmt(r.first_warning_s)),
                    Cell(_pair(r.apogee_km, r.true_apogee_km)),
                    Cell(_pair(r.range_km, r.true_range_km)),
                    Cell(_fmt(r.impact_error_km)),
                    Cell(_fmt(r.launch_point_error_km)),
                    Cell(
                        f"{r.estimated_class} ✗" if r.class_correct is False else (r.estimated_class or DASH),
                        cls="bad" if r.class_correct is False else "",
                    ),
                ],
            )
        )
    return Table(
        header,
        body,
        caption="Each partner's final picture against the truth; times after the true launch.",
        cls="partners",
    )


def _alerts_table(alerts: Sequence[records.AlertRecord], t0: datetime | None) -> Table:
    """One row per lifecycle change of each alert; times in seconds after ``t0``."""
    header = [
        "alert",
        "partner",
        "area",
        "reason",
        "t (s)",
        "status",
        "level",
        "probability",
        "predicted impact",
        "impact t (s)",
        "crossing t (s)",
    ]
    body = []
    for alert in sorted(alerts, key=lambda a: (a.history[0].time if a.history else datetime.max, a.alert_id)):
        kind = "EEZ" if alert.area.kind == "eez" else alert.area.kind
        area = f"{alert.area.partner} {kind}: {alert.area.name}"
        span = max(len(alert.history), 1)
        for i, change in enumerate(alert.history):
            lead = (
                [
                    Cell(alert.partner, cls="l", rowspan=span),
                    Cell(area, cls="l", rowspan=span),
                    Cell(alert.reason, cls="l", rowspan=span),
                ]
                if i == 0
                else []
            )
            cells = [
                *lead,
                Cell(_fmt(_since(change.time, t0))),
                Cell(f"{change.status} (launch failed)" if "failed" in change.why else change.status, cls="l"),
                Cell(change.level or DASH, cls="l"),
                Cell(_pct(change.probability)),
                Cell(_point(change.impact_point), cls="l"),
                Cell(_fmt(_since(change.impact_time, t0))),
                Cell(_fmt(_since(change.crossing_time, t0))),
            ]
            body.append(Row(Cell(alert.alert_id, rowspan=span) if i == 0 else None, cells))
    return Table(header, body)


def _timeline_table(rows: Sequence[figs.TimelineRow]) -> Table:
    header = [
        "partner",
        "first detection (s)",
        "first shared track (s)",
        "first assessment (s)",
        "first warning (s)",
        "all clear (s)",
    ]
    body = [
        Row(
            Cell(r.partner),
            [Cell(_fmt(v)) for v in (r.detection_s, r.track_s, r.assessment_s, r.warning_s, r.all_clear_s)],
        )
        for r in rows
    ]
    return Table(
        header,
        body,
        caption="Seconds after the true launch; a dash: it did not happen. First detection: its sensors' first "
        "report of the launch's objects (measurements.csv), which may come before its event's first detection "
        "(the first report of the track the event follows).",
    )


def _sensors_table(run: RunFolder, launch: records.TruthLaunch) -> tuple[Table | None, str]:
    seen = run.seen.get(launch.id, {})
    if not seen:
        return None, "No sensor report of this launch's objects in measurements.csv."
    sites = run.radar_sites
    t0 = launch.launch_time.timestamp()
    body = []
    for s in sorted(seen.values(), key=lambda s: (s.first_s, s.sensor)):
        where = DASH
        if s.sensor in sites:
            _, lat, lon = sites[s.sensor]
            where = _point(records.Point(lat=lat, lon=lon))
        elif s.kind == "infrared":
            where = "in orbit (not drawn)"
        body.append(
            Row(
                Cell(s.sensor),
                [
                    Cell(s.partner, cls="l"),
                    Cell(s.kind, cls="l"),
                    Cell(where, cls="l"),
                    Cell(_int(s.detections)),
                    Cell(_fmt(s.first_s - t0)),
                ],
            )
        )
    missing = [s.sensor for s in seen.values() if s.kind == "radar" and s.sensor not in sites]
    note = ""
    if missing:
        note = (
            f"Not on the map (not radars of the theater {_theater_name(run)} as shipped, and the run folder "
            f"has no scenario.yaml to add the scenario's extra radars): {', '.join(missing)}."
        )
    header = ["sensor", "partner", "kind", "site", "detections", "first detection (s)"]
    return Table(header, body, caption="Sensors that detected the launch's objects (false alarms left out)."), note


def _error_series(run: RunFolder, launch: records.TruthLaunch) -> list[figs.ErrorSeries]:
    figures = _figures(run, launch.id)
    if figures is None:
        return []
    out = []
    for partner in run.partners:
        pf = figures.per_partner.get(partner)
        if pf is None or not pf.over_time:
            continue
        pts = [o for o in pf.over_time if o.after_first_detection_s is not None]
        out.append(
            figs.ErrorSeries(
                partner,
                [float(o.after_first_detection_s) for o in pts if o.after_first_detection_s is not None],
                [o.impact_error_km for o in pts],
                [o.launch_point_error_km for o in pts],
            )
        )
    return out


def _facts(launch: records.TruthLaunch) -> list[tuple[str, str]]:
    return [
        ("launch time", _utc(launch.launch_time)),
        ("launch point", _point(launch.launch_point)),
        ("impact point", _point(launch.impact_point)),
        ("azimuth", f"{launch.azimuth_deg:.1f}°"),
        ("apogee", f"{launch.apogee_km:.1f} km"),
        ("range", f"{launch.range_km:.1f} km"),
        ("flight time", f"{launch.flight_time_s:.1f} s"),
        ("max speed", f"{launch.max_speed_mps:.0f} m/s"),
        ("class", launch.missile_class),
        ("objects", ", ".join(f"{o.id} ({o.kind})" for o in launch.objects) or DASH),
        *_failure_facts(launch.failure),
    ]


def _failure_facts(failure: records.TruthFailure | None) -> list[tuple[str, str]]:
    """How a failed missile failed and what it was briefed to fly (nothing for one that flew as briefed)."""
    if failure is None:
        return []
    what = f"{'thrust termination' if failure.kind == 'thrust_termination' else 'break-up'} at {_utc(failure.time)}"
    if failure.kind == "breakup":
        what += f" into {failure.fragments} fragments ({failure.visible_fragments} visible to radar)"
    return [
        ("failure", what),
        (
            "briefed flight",
            f"apogee {failure.intended_apogee_km:.1f} km, range {failure.intended_range_km:.1f} km, impact "
            f"{_point(failure.intended_impact_point)} at {_utc(failure.intended_impact_time)}",
        ),
    ]


def assessed_failures(run: RunFolder, launch: records.TruthLaunch) -> list[tuple[str, str]]:
    """Per partner whose event for ``launch`` says it failed (``outcome`` ``failed``): what, when (after the true
    launch), where its seen fragments fall, and which of its alerts ended because of it."""
    out = []
    for partner in run.partners:
        event = next((e for e in _events_of(run, launch, partner) if e.failure is not None), None)
        if event is None or event.failure is None:
            continue
        f = event.failure
        kind = "break-up" if f.kind == "breakup" else "thrust termination"
        text = (
            f"failed: {kind} at +{_fmt(_since(f.time, launch.launch_time))} s, recognised "
            f"+{_fmt(_since(f.recognised, launch.launch_time))} s (event {event.event_id})"
        )
        if f.kind == "breakup":
            text += f"; {f.fragments} fragment{'s' if f.fragments != 1 else ''} seen"
            if f.fragment_impacts:
                text += ", falling at " + "; ".join(
                    f"{_point(i.impact_point)} (±{i.impact_ellipse_95.semi_major_km:.1f} km)"
                    for i in f.fragment_impacts
                )
        elif f.burn_s is not None and f.expected_burn_s is not None:
            text += f"; burn {f.burn_s:.0f} s, {f.expected_burn_s:.0f} s expected for the speed reached"
        ended = [a.alert_id for a in _alerts_of(run, launch, partner) if any("failed" in c.why for c in a.history)]
        if ended:
            text += f"; alerts ended for the failure: {', '.join(ended)}"
        out.append((f"assessed ({partner})", text))
    return out


def _map_image(run: RunFolder, launch: records.TruthLaunch, land: list, areas: list) -> Image:
    data = launch_map_data(run, launch)
    pic = figs.launch_map_png(data, land, areas)
    partners = sorted({t.partner for t in data.tracks}, key=lambda p: run.partners.index(p))
    parts = [
        f"Map of launch {launch.id}: the true ground track from the launch point to the impact point",
        f"tracks of {', '.join(partners)}" if partners else "no partner track",
        f"{pic.sensors} radar site(s) that detected it",
        f"{pic.ellipses} predicted impact point(s) with 95 % ellipse(s) drawn to scale",
        f"{pic.alert_areas} alert area(s)",
    ]
    zooms = [f"an inset {km:.1f} km across zoomed on the {what}" for what, km in pic.insets]
    alt = "; ".join(parts + zooms) + "."
    e = pic.extent
    caption = (
        f"Window {maps.lon_label(e.lon_min)} to {maps.lon_label(e.lon_max)}, {maps.lat_label(e.lat_min)} to "
        f"{maps.lat_label(e.lat_max)} (equirectangular, true scale at mid-latitude). Ellipses: each partner's "
        "final 95 % impact ellipse around its predicted impact (+). Alert areas: hatched as last warned, dashed "
        "as first issued."
        + (" Where too small to see at this scale, they are shown again in the inset(s)." if pic.insets else "")
    )
    return Image(
        b64=_png(pic.png),
        width=pic.width_px,
        height=pic.height_px,
        alt=alt,
        caption=caption,
        cls="map",
        data={
            "launch": launch.id,
            "ellipses": str(pic.ellipses),
            "alert-areas": str(pic.alert_areas),
            "tracks": str(pic.tracks),
            "sensors": str(pic.sensors),
            "inset": "yes" if pic.insets else "no",
            "insets": ",".join(what for what, _ in pic.insets),
        },
    )


def launch_view(run: RunFolder, launch: records.TruthLaunch, land: list, areas: list) -> LaunchView:
    rows = timeline_rows(run, launch)
    figures = _figures(run, launch.id)
    threats = sorted(
        {w.true_event_after_launch_s for w in figures.warnings if w.true_event_after_launch_s is not None}
        if figures
        else set()
    )
    burnout = _since(launch.burnout_time, launch.launch_time) or 0.0
    timeline = figs.timeline_png(rows, burnout, launch.flight_time_s, threats)
    timeline_alt = f"Timeline of launch {launch.id}: " + "; ".join(
        f"{r.partner} detection {_fmt(r.detection_s)} s, track {_fmt(r.track_s)} s, assessment "
        f"{_fmt(r.assessment_s)} s, warning {_fmt(r.warning_s)} s, all clear {_fmt(r.all_clear_s)} s"
        for r in rows
    )
    series = _error_series(run, launch)
    errors = None
    if series:
        errors = Image(
            b64=_png(figs.errors_png(series, run.partners)),
            width=round((figs.MAP_PANEL_IN + figs.MAP_KEY_IN) * figs.DPI),
            height=round(3.2 * figs.DPI),
            alt=f"Impact point and launch point error of each update of launch {launch.id}'s events, per partner, "
            "against the time after the partner's first detection.",
            caption="Error of each update of each partner's event (its final one last) against the truth, over the "
            "time after that partner's first detection.",
            cls="chart",
        )
    alerts = _alerts_of(run, launch)
    sensors, note = _sensors_table(run, launch)
    return LaunchView(
        id=launch.id,
        anchor=_anchor("launch", launch.id),
        title=f"Launch {launch.id}",
        facts=_facts(launch) + assessed_failures(run, launch),
        map=_map_image(run, launch, land, areas),
        timeline=Image(
            b64=_png(timeline),
            width=round((figs.MAP_PANEL_IN + figs.MAP_KEY_IN) * figs.DPI),
            height=round((0.9 + 0.42 * max(len(rows), 1)) * figs.DPI),
            alt=timeline_alt,
            caption="Per partner: first detection by its sensors, first shared (published) track, first assessment "
            "(event report), first warning and all clear, against burnout, the true threats and the impact.",
            cls="chart",
        ),
        timeline_table=_timeline_table(rows),
        partners_table=_partners_table(partner_rows(run, launch)),
        alerts_table=_alerts_table(alerts, launch.launch_time) if alerts else None,
        sensors_table=sensors,
        sensors_note=note,
        errors=errors,
    )


# --------------------------------------------------------------------------------------- metrics
def _launch_metrics_table(run: RunFolder, figures: records.LaunchFigures) -> Table:
    header = [
        "partner",
        "detected",
        "first detection (s)",
        "first warning (s)",
        "warning after detection (s)",
        "impact error (km)",
        "apogee error (km)",
        "range error (km)",
        "launch point error (km)",
        "launch time error (s)",
        "class right",
        "objects (reported / true)",
        "truth in 95 % impact ellipse",
        "truth in 95 % launch ellipse",
    ]
    body = []
    partners = [p for p in run.partners if p in figures.per_partner]
    partners += sorted(p for p in figures.per_partner if p not in partners)
    for partner in partners:
        f = figures.per_partner[partner]
        if not f.has_event:
            what = f"grouped with {f.grouped_with} ({', '.join(f.why)})" if f.grouped_with else NOT_DETECTED
            body.append(Row(Cell(partner), [Cell(_yes(f.detected)), Cell(what, cls="nd l")] + [Cell(DASH)] * 11))
            continue
        objects = f"{_int(f.number_of_objects)} / {_int(f.true_number_of_objects)}"
        body.append(
            Row(
                Cell(partner),
                [
                    Cell(_yes(f.detected)),
                    Cell(_fmt(f.first_detection_s)),
                    Cell(_fmt(f.first_warning_s)),
                    Cell(_fmt(f.first_warning_after_detection_s)),
                    Cell(_fmt(f.impact_error_km, 2)),
                    Cell(_signed(f.apogee_error_km, 2)),
                    Cell(_signed(f.range_error_km, 2)),
                    Cell(_fmt(f.launch_point_error_km, 2)),
                    Cell(_signed(f.launch_time_error_s, 2)),
                    Cell(_yes(f.class_correct), cls="bad" if f.class_correct is False else ""),
                    Cell(objects),
                    Cell(_yes(f.inside_ellipse_95)),
                    Cell(_yes(f.inside_launch_ellipse_95)),
                ],
            )
        )
    return Table(
        header,
        body,
        caption=f"Launch {figures.truth_id} ({figures.missile_class}): final reports judged "
        "against the truth; errors are reported − true where signed.",
    )


def _threats_table(figures: records.LaunchFigures) -> Table | None:
    if not figures.threatened_areas and not figures.warnings:
        return None
    header = [
        "area",
        "partner",
        "reason",
        "threatened",
        "warned",
        "first warning (s)",
        "true event (s)",
        "lead (s)",
        "alerts",
        "changes",
    ]
    body = []
    for t in figures.threatened_areas:
        event_s = (
            t.first_warning_after_launch_s + t.lead_s
            if t.first_warning_after_launch_s is not None and t.lead_s is not None
            else None
        )
        body.append(
            Row(
                Cell(t.area),
                [
                    Cell(t.partner, cls="l"),
                    Cell(t.reason, cls="l"),
                    Cell("yes"),
                    Cell(_yes(t.warned), cls="" if t.warned else "bad"),
                    Cell(_fmt(t.first_warning_after_launch_s)),
                    Cell(_fmt(event_s)),
                    Cell(_fmt(t.lead_s)),
                    Cell(", ".join(t.alerts) or DASH, cls="l"),
                    Cell(", ".join(str(c) for c in t.changes_per_alert) or DASH),
                ],
            )
        )
    threatened = {a for t in figures.threatened_areas for a in t.alerts}
    for w in figures.warnings:
        if w.alert_id in threatened:
            continue
        body.append(
            Row(
                Cell(w.area),
                [
                    Cell(w.partner, cls="l"),
                    Cell(w.reason, cls="l"),
                    Cell("no", cls="bad"),
                    Cell("yes"),
                    Cell(_fmt(w.issued_after_launch_s)),
                    Cell(_fmt(w.true_event_after_launch_s)),
                    Cell(_fmt(w.lead_s)),
                    Cell(w.alert_id, cls="l"),
                    Cell(str(w.changes)),
                ],
            )
        )
    return Table(
        header, body, caption=f"Launch {figures.truth_id}: areas threatened and warned; seconds after the true launch."
    )


def _key_table(rows: Iterable[tuple[str, str]], caption: str = "") -> Table:
    return Table(["figure", "value"], [Row(Cell(k), [Cell(v)]) for k, v in rows], caption=caption, cls="keys")


def metrics_sections(run: RunFolder) -> list[Section]:
    """metrics.json as tables, with units: per launch, alerts, tracking, fusion, exchange, the run."""
    m = run.metrics
    if m is None:
        return []
    per_launch: list[Table] = []
    for figures in m.launches:
        per_launch.append(_launch_metrics_table(run, figures))
        threats = _threats_table(figures)
        if threats is not None:
            per_launch.append(threats)
    a = m.alerts
    near = "; ".join(
        f"{truth_id or 'no launch'} {partner} {area} ({_fmt(km)} km)" for truth_id, partner, area, km in a.near_misses
    )
    alerts = _key_table(
        [
            ("alerts issued", _int(a.issued)),
            ("false alerts (launch, partner, area)", _int(a.false)),
            ("missed (threatened areas without an alert)", _int(a.missed)),
            ("near misses (within the alert area margin)", near or "none"),
            ("most alerts per threat and area", _int(a.most_alerts_per_threat_and_area)),
            ("most alerts per threatened area", _int(a.most_alerts_per_threatened_area)),
            ("most changes per alert", _int(a.most_changes_per_alert)),
            ("most level changes per alert", _int(a.most_level_changes_per_alert)),
            (
                "95 % impact ellipses holding the truth",
                f"{_pct(m.ellipse_95_coverage.inside)} of {m.ellipse_95_coverage.reports} reports",
            ),
            (
                "95 % launch ellipses holding the truth",
                f"{_pct(m.launch_ellipse_95_coverage.inside)} of {m.launch_ellipse_95_coverage.reports} reports",
            ),
        ],
        caption="Alerts judged against the truth, and the calibration of the stated 95 % regions.",
    )
    tracking = Table(
        [
            "partner",
            "completeness",
            "ambiguity (tracks per object)",
            "spuriousness",
            "position accuracy (m)",
            "most track number changes",
            "GOSPA RMS (m)",
            "NEES median",
            "truth in 95 % state region",
        ],
        [
            Row(
                Cell(p),
                [
                    Cell(_pct(t.completeness)),
                    Cell(_fmt(t.ambiguity, 3)),
                    Cell(_pct(t.spuriousness)),
                    Cell(_fmt(t.position_accuracy_m)),
                    Cell(_int(t.max_track_number_changes)),
                    Cell(_fmt(t.gospa_rms_m)),
                    Cell(_fmt(t.nees_median, 2)),
                    Cell(_pct(t.region_95_coverage)),
                ],
            )
            for p, t in _ordered(run, m.tracking)
        ],
        caption="Each partner's published tracks against every true object (SIAP, GOSPA; NEES is about 6 for a "
        "consistent 6-state filter).",
    )
    fusion_rows = [
        Row(Cell(p), [Cell(_int(f.reports)), Cell(_fmt(f.partner_rmse_m)), Cell(_fmt(f.fused_rmse_m))])
        for p, f in _ordered(run, m.fusion.per_partner)
    ]
    fusion = Table(
        ["partner", "reports compared", "partner RMSE (m)", "fused RMSE (m)"],
        fusion_rows,
        caption="Fusion gain, like for like: position error of a partner's reports and of the fused picture at the "
        f"same times. Fused NEES median {_fmt(m.fusion.fused_nees_median, 2)}; truth in the fused 95 % state region "
        f"{_pct(m.fusion.fused_region_95_coverage)}.",
    )
    exchange = Table(
        [
            "endpoint",
            "sent",
            "received",
            "refused",
            "refused by reason",
            "bytes sent",
            "bytes received",
            "refusals journalled",
            "withheld",
            "gaps open",
        ],
        [
            Row(
                Cell(p),
                [
                    Cell(_int(x.sent)),
                    Cell(_int(x.received)),
                    Cell(_int(x.rejected_total)),
                    Cell(", ".join(f"{k} {v}" for k, v in sorted(x.rejected.items()) if v) or "none", cls="l"),
                    Cell(_int(x.bytes_sent)),
                    Cell(_int(x.bytes_received)),
                    Cell(_int(x.rejections_journalled)),
                    Cell(_int(x.withheld)),
                    Cell(_int(x.gaps_open)),
                ],
            )
            for p, x in _ordered(run, m.exchange)
        ],
        caption="Envelopes each endpoint sealed and sent, accepted, and refused (by reason).",
    )
    tables = [alerts, tracking, fusion, exchange]
    transport = [(p, x.transport) for p, x in _ordered(run, m.exchange) if x.transport is not None]
    if transport:
        tables.append(
            Table(
                [
                    "node",
                    "published",
                    "publish retries",
                    "resend requests",
                    "resent",
                    "lost by link injects",
                    "gaps repaired",
                    "duplicates dropped",
                    "redelivered",
                    "latency p50 (ms)",
                    "latency p99 (ms)",
                    "latency max (ms)",
                ],
                [
                    Row(
                        Cell(p),
                        [
                            Cell(_int(t.published)),
                            Cell(_int(t.publish_retries)),
                            Cell(_int(t.resend_requests)),
                            Cell(_int(t.resent)),
                            Cell(_int(t.lost_by_link_injects)),
                            Cell(_int(t.gaps_repaired)),
                            Cell(_int(t.duplicates_dropped)),
                            Cell(_int(t.redelivered)),
                            Cell(_fmt(t.latency_ms.p50)),
                            Cell(_fmt(t.latency_ms.p99)),
                            Cell(_fmt(t.latency_ms.max)),
                        ],
                    )
                    for p, t in transport
                    if t is not None
                ],
                caption="What each NATS node's transport did.",
            )
        )
    r = m.run
    tables.append(
        _key_table(
            [
                ("sensor reports (measurements)", _int(r.measurements)),
                ("track reports published", _int(r.track_reports)),
                ("bytes on the bus", _int(r.bus_bytes)),
                ("envelopes lost by link injects", _int(r.lost_by_link_injects)),
                ("envelopes held by link injects", _int(r.held_by_link_injects)),
            ],
            caption="The run (its wall time is in metrics.json; left out here so that a run's report depends on "
            "its scenario and seed only).",
        )
    )
    return [
        Section("Per launch", "metrics-launches", "", per_launch),
        Section("Alerts, tracking, fusion, exchange", "metrics-run", "", [t for t in tables if t.rows]),
    ]


def _ordered(run: RunFolder, mapping: dict[str, records.R]) -> list[tuple[str, records.R]]:
    """Items in the partners' order, others after in name order."""
    order = run.partners
    return sorted(mapping.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0]))


def unmatched_section(run: RunFolder) -> Section | None:
    """False tracks' events and false alerts: what the evaluation tied to no launch."""
    ids = {launch.id for launch in run.launches}
    events = sorted((e for e in run.events if e.truth_id not in ids), key=lambda e: (e.first_detection, e.event_id))
    alerts = [a for a in run.alerts if a.truth_id not in ids]
    if not events and not alerts:
        return None
    first = min((launch.launch_time for launch in run.launches), default=None)
    tables = []
    if events:
        tables.append(
            Table(
                ["partner", "event", "first detection (s)", "launch point", "impact point", "class"],
                [
                    Row(
                        Cell(e.partner),
                        [
                            Cell(e.event_id, cls="l"),
                            Cell(_fmt(_since(e.first_detection, first))),
                            Cell(_point(e.launch_point), cls="l"),
                            Cell(_point(e.impact_point), cls="l"),
                            Cell(e.missile_class),
                        ],
                    )
                    for e in events
                ],
                caption="Events matched to no launch.",
            )
        )
    if alerts:
        tables.append(_alerts_table(alerts, first))
    return Section("Not matched to a launch", "unmatched", "Times in seconds after the first launch.", tables)


# -------------------------------------------------------------------------------------------- HTML
@cache
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("mwx.exercise", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(run: RunFolder) -> str:
    """The whole report as one HTML document (every text from the run folder escaped by the template engine)."""
    land, areas = maps.background()
    scenario, seed = run.truth.scenario, run.truth.seed
    m = run.manifest
    about = [("scenario", scenario), ("seed", str(seed))]
    if m is not None:
        about += [
            ("theater", m.theater),
            ("bus", m.bus),
            ("participants", ", ".join(m.participants)),
            ("from", _utc(m.start)),
            ("to", _utc(m.end)),
            ("mwx", m.mwx_version),
        ]
    launches = [launch_view(run, launch, land, areas) for launch in run.launches]
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            title=f"mwx after-action report: {scenario} (seed {seed})",
            about=about,
            counts=f"{len(run.launches)} launch(es), {len(run.events)} event report(s), {len(run.alerts)} alert(s)",
            verdict=verdict(run),
            launches=launches,
            unmatched=unmatched_section(run),
            metrics=metrics_sections(run),
            dash=DASH,
        )
    )


def write_report(run_dir: Path) -> Path:
    """Write ``run_dir/report.html`` from the run folder's records and return its path."""
    run_dir = Path(run_dir)
    text = render_html(load_run(run_dir))
    out = run_dir / "report.html"
    with out.open("w", encoding="utf-8", newline="\n") as f:  # the same bytes on every platform
        f.write(text)
    return out
