"""After-action report of a run folder (docs/run-folder.md).

:func:`write_report` turns the files ``mwx run`` writes (truth.json, events.json,
alerts.json, tracks.csv, metrics.json) into one self-contained ``report.html``: a map
inlined as a base64 PNG, per-launch tables of what each partner saw against the truth,
the alerts with their lifecycle and the run metrics.  :func:`format_summary` gives the
same per-launch comparison as a fixed-width table for the terminal.

The report is a pure function of the run folder: no clock, no host name, no absolute
path, and a PNG without a timestamp, so the same run gives a byte-identical file (which
lets CI diff reports and keeps exercise archives reproducible).
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pyproj import Geod

from mwx.assess.events import classify
from mwx.geo.wgs84 import E2, A, ecef_to_geodetic

__all__ = [
    "PARTNERS",
    "MapExtent",
    "PartnerRow",
    "format_summary",
    "load_run",
    "map_extent",
    "partner_rows",
    "write_report",
]

Json = dict[str, Any]
FloatArray = NDArray[np.float64]

#: Row order of every per-launch table.
PARTNERS: tuple[str, ...] = ("KR", "JP", "US", "fused")
#: Shown for a value that is unknown (``null`` in the run folder).
DASH = "—"
#: The same in the terminal summary: ASCII, so any console encoding can print it.
TEXT_DASH = "-"
#: Shown in the first-detection column of a partner with no event for the launch.
NOT_DETECTED = "not detected"
#: Map size; fixed so the PNG (and the report) does not depend on the data's aspect.
FIG_SIZE_IN = (10.0, 6.5)
FIG_DPI = 100

_GEOD = Geod(ellps="WGS84")

# Light, colour-blind-distinguishable partner colours for territories and EEZs.
_PARTNER_COLOURS = {"KR": "#3b6fb6", "JP": "#b5452f", "US": "#6a4c93"}
_OTHER_COLOUR = "#777777"
_TRUTH_COLOUR = "#111111"
_FUSED_COLOUR = "#e07b00"


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class RunFolder:
    """The parsed contents of a run folder; optional files are empty when absent."""

    truth: Json
    events: list[Json]
    alerts: list[Json]
    metrics: Json | None
    #: Fused track states, track id -> array (n, 4) of t [Unix s], x, y, z [m], by time.
    fused_tracks: dict[str, FloatArray]

    @property
    def launches(self) -> list[Json]:
        """Truth launches in the order of truth.json."""
        return list(self.truth.get("launches") or [])


def _read_json(path: Path) -> Json | None:
    """Parsed JSON object at *path*, or None if the file does not exist."""
    if not path.is_file():
        return None
    with path.open(encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise TypeError(f"{path}: expected a JSON object at the top level")
    return data


def _read_fused_tracks(path: Path) -> dict[str, FloatArray]:
    """Positions of the fused tracks in tracks.csv (other partners' rows are skipped)."""
    if not path.is_file():
        return {}
    rows: dict[str, list[tuple[float, float, float, float]]] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row.get("partner") != "fused":
                continue
            rows.setdefault(row["track_id"], []).append(
                (float(row["time"]), float(row["x"]), float(row["y"]), float(row["z"]))
            )
    tracks: dict[str, FloatArray] = {}
    for track_id in sorted(rows):
        states = np.asarray(rows[track_id], float)
        # A stable sort keeps the file order of equal times, so output is deterministic.
        tracks[track_id] = states[np.argsort(states[:, 0], kind="stable")]
    return tracks


def load_run(run_dir: Path) -> RunFolder:
    """Read the run folder *run_dir*; truth.json is required, every other file optional."""
    run_dir = Path(run_dir)
    truth = _read_json(run_dir / "truth.json")
    if truth is None:
        raise FileNotFoundError(f"{run_dir / 'truth.json'} does not exist")
    events = (_read_json(run_dir / "events.json") or {}).get("events") or []
    alerts = (_read_json(run_dir / "alerts.json") or {}).get("alerts") or []
    return RunFolder(
        truth=truth,
        events=list(events),
        alerts=list(alerts),
        metrics=_read_json(run_dir / "metrics.json"),
        fused_tracks=_read_fused_tracks(run_dir / "tracks.csv"),
    )


# ------------------------------------------------------------------------ evaluation


def _unix(iso: str | None) -> float | None:
    """Unix seconds of an ISO 8601 UTC time (``...Z``), None for None."""
    if iso is None:
        return None
    # Python >= 3.11 reads the trailing Z as UTC; a time without a zone is taken as UTC
    # too, never as the local time of whoever renders the report.
    dt = datetime.fromisoformat(iso)
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


def _since(iso: str | None, t0: float | None) -> float | None:
    """Seconds from *t0* to the ISO time *iso*; None if either is unknown."""
    t = _unix(iso)
    return None if t is None or t0 is None else t - t0


def _geodesic_km(p: Mapping[str, Any] | None, q: Mapping[str, Any] | None) -> float | None:
    """WGS-84 geodesic distance [km] between two ``{"lat", "lon"}`` points; None if unknown."""
    if not p or not q:
        return None
    if None in (p.get("lat"), p.get("lon"), q.get("lat"), q.get("lon")):
        return None
    _, _, dist_m = _GEOD.inv(p["lon"], p["lat"], q["lon"], q["lat"])
    return float(dist_m) / 1000.0


def true_class(launch: Json) -> str | None:
    """The true class of a truth.json launch: its ``class``, else that of its ground range."""
    if launch.get("class"):
        return str(launch["class"])
    range_km = launch.get("range_km")
    return None if range_km is None else classify(float(range_km))


@dataclass(frozen=True)
class PartnerRow:
    """One partner's final picture of one launch, compared with the truth."""

    partner: str
    event_id: str | None  # None: the partner never detected the launch
    first_detection_s: float | None
    first_warning_s: float | None
    apogee_km: float | None
    true_apogee_km: float | None
    range_km: float | None
    true_range_km: float | None
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
        """Whether the partner reported the launch at all."""
        return self.event_id is not None


def _event_order(event: Json) -> tuple[float, str]:
    """Sort key: earliest first detection first (unknown last), then by event id."""
    t = _unix(event.get("first_detection"))
    return (math.inf if t is None else t, str(event.get("event_id")))


def _metrics_for(metrics: Json | None, truth_id: str, partner: str) -> Json:
    """The metrics.json per-partner figures of one launch, or {} if absent."""
    for launch in (metrics or {}).get("launches") or []:
        if launch.get("truth_id") == truth_id:
            return dict((launch.get("per_partner") or {}).get(partner) or {})
    return {}


def not_detected_text(run: RunFolder, launch: Json, partner: str) -> str:
    """What a partner without an event of its own for ``launch`` did: grouped it into another launch's
    event (metrics.json says which, and why), or nothing."""
    figures = _metrics_for(run.metrics, str(launch.get("id")), partner)
    if figures.get("grouped_with"):
        return f"grouped with {figures['grouped_with']} ({', '.join(figures.get('why') or [])})"
    return NOT_DETECTED


def partner_rows(run: RunFolder, launch: Json) -> list[PartnerRow]:
    """Rows KR, JP, US, fused for *launch*; a partner without an event gets an empty row."""
    t0 = _unix(launch.get("launch_time"))
    truth_class = true_class(launch)
    rows = []
    for partner in PARTNERS:
        matched = sorted(
            (e for e in run.events if e.get("partner") == partner and e.get("truth_id") == launch.get("id")),
            key=_event_order,
        )
        if not matched:
            rows.append(
                PartnerRow(
                    partner,
                    None,
                    None,
                    None,
                    None,
                    launch.get("apogee_km"),
                    None,
                    launch.get("range_km"),
                    None,
                    None,
                    None,
                    None,
                    absent=not_detected_text(run, launch, partner),
                )
            )
            continue
        # Several events for one launch mean the partner broke the track; the earliest
        # is the one that decides detection and warning times, so it is the one shown.
        event = matched[0]
        estimated_class = event.get("class")
        class_correct = _metrics_for(run.metrics, launch["id"], partner).get("class_correct")
        if class_correct is None and estimated_class is not None and truth_class is not None:
            class_correct = estimated_class == truth_class
        rows.append(
            PartnerRow(
                partner=partner,
                event_id=str(event.get("event_id")),
                first_detection_s=_since(event.get("first_detection"), t0),
                first_warning_s=_since(event.get("first_warning"), t0),
                apogee_km=event.get("apogee_km"),
                true_apogee_km=launch.get("apogee_km"),
                range_km=event.get("range_km"),
                true_range_km=launch.get("range_km"),
                impact_error_km=_geodesic_km(event.get("impact_point"), launch.get("impact_point")),
                launch_point_error_km=_geodesic_km(event.get("launch_point"), launch.get("launch_point")),
                estimated_class=estimated_class,
                class_correct=class_correct,
                other_events=len(matched) - 1,
            )
        )
    return rows


# ------------------------------------------------------------------------ formatting


def _fmt(value: float | None, digits: int = 1, dash: str = DASH) -> str:
    """Fixed-point number, or *dash* for an unknown value."""
    return dash if value is None else f"{value:.{digits}f}"


def _pair(estimated: float | None, true: float | None, dash: str = DASH) -> str:
    """``estimated / true`` with one decimal, *dash* for unknown values."""
    return f"{_fmt(estimated, dash=dash)} / {_fmt(true, dash=dash)}"


def _fmt_value(value: Any) -> str:
    """Generic cell text of a metrics.json value."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        # Three decimals at most, without trailing zeros: 12.3, 24, 0.125.
        text = f"{value:.3f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _point(p: Mapping[str, Any] | None) -> str:
    """``40.610°N 126.430°E`` of a ``{"lat", "lon"}`` point, dash if unknown."""
    if not p or p.get("lat") is None or p.get("lon") is None:
        return DASH
    lat, lon = float(p["lat"]), float(p["lon"])
    return f"{abs(lat):.3f}°{'N' if lat >= 0 else 'S'} {abs(lon):.3f}°{'E' if lon >= 0 else 'W'}"


def _plain(text: Any) -> str:
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


def _alert_lines(run: RunFolder, launch: Json) -> list[str]:
    """The launch's alerts for the terminal: issue time, lead before the true event, the lifecycle."""
    found = [
        w
        for m in (run.metrics or {}).get("launches") or []
        if m.get("truth_id") == launch.get("id")
        for w in m.get("warnings") or []
    ]
    if not found:
        return ["  alerts: none"]
    lines = ["  alerts:"]
    for w in found:
        lead = w.get("lead_s")
        lead_text = f"lead {_fmt(lead, dash=TEXT_DASH)} s" if lead is not None else "no true threat"
        lines.append(
            f"    {_plain(w.get('alert_id'))} {_plain(w.get('partner'))} {_plain(w.get('reason'))}"
            f" {_plain(w.get('area'))}: issued +{_fmt(w.get('issued_after_launch_s'), dash=TEXT_DASH)} s, {lead_text};"
            f" {' > '.join(_plain(s) for s in w.get('statuses') or [])}"
        )
    return lines


def format_summary(run_dir: Path) -> str:
    """Plain-text per-launch, per-partner summary of a run folder for the terminal.

    Times are seconds after the true launch; the last line names the report file
    (``run_dir/report.html``, written by :func:`write_report`).
    """
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    lines = [
        (
            f"scenario {_plain(run.truth.get('scenario'))}  seed {_plain(run.truth.get('seed'))}"
            f"  launches {len(run.launches)}"
        )
    ]
    header = (
        "partner",
        "detect s",
        "warn s",
        "apogee km est/true",
        "range km est/true",
        "impact err km",
    )
    for launch in run.launches:
        lines.append("")
        lines.append(
            f"{_plain(launch.get('id'))}  launched {_plain(launch.get('launch_time'))}"
            f"  apogee {_fmt(launch.get('apogee_km'), dash=TEXT_DASH)} km"
            f"  range {_fmt(launch.get('range_km'), dash=TEXT_DASH)} km"
            f"  {_plain(true_class(launch) or TEXT_DASH)}"
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
        lines.extend(_alert_lines(run, launch))
    lines.append("")
    lines.append(f"report: {run_dir / 'report.html'}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------- map


@dataclass(frozen=True)
class MapExtent:
    """Map window in degrees; longitudes continuous around *center_lon* (may pass 180)."""

    center_lon: float
    lon_min: float
    lon_max: float
    lat_min: float
    lat_max: float


def _wrap_near(lon: FloatArray | float, center: float) -> FloatArray:
    """Longitudes shifted by multiples of 360° into [center - 180, center + 180)."""
    return (np.asarray(lon, float) - center + 180.0) % 360.0 - 180.0 + center


def _continuous_lon(lon_deg: FloatArray, center: float) -> FloatArray:
    """A path's longitudes without 360° jumps, as a whole placed near *center*.

    Unwrapping keeps a flight that crosses the antimeridian one continuous line (170°
    to 190° instead of 170° then -170°); shifting its mean keeps it on the same sheet
    as the other paths.
    """
    lon = np.unwrap(np.asarray(lon_deg, float), period=360.0)
    if lon.size == 0:
        return lon
    return lon + (_wrap_near(float(lon.mean()), center) - float(lon.mean()))


def _ground_track(xyz: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Geodetic longitude, latitude [deg] of ECEF points (n, 3)."""
    lat, lon, _ = ecef_to_geodetic(xyz)
    return np.degrees(lon), np.degrees(lat)


def _truth_paths(launch: Json) -> Iterator[tuple[Json, FloatArray, FloatArray]]:
    """(object, lon, lat [deg]) of each truth object of *launch* with a trajectory."""
    for obj in launch.get("objects") or []:
        traj = np.asarray(obj.get("trajectory") or [], float)
        if traj.ndim == 2 and traj.shape[0] > 0 and traj.shape[1] >= 4:
            lon, lat = _ground_track(traj[:, 1:4])
            yield obj, lon, lat


def _circular_mean_deg(lon_deg: FloatArray) -> float:
    """Mean direction of longitudes [deg]; well defined across the antimeridian."""
    rad = np.radians(lon_deg)
    return float(np.degrees(np.arctan2(np.sin(rad).mean(), np.cos(rad).mean())))


def map_extent(launches: Sequence[Json]) -> MapExtent:
    """Window fitting every truth ground track (and launch/impact point) plus a margin.

    The window is centred on the circular mean longitude of the data, so a flight
    across the antimeridian gets a narrow window around 180° rather than one spanning
    the whole world.
    """
    lons: list[FloatArray] = []
    lats: list[FloatArray] = []
    for launch in launches:
        for _, lon, lat in _truth_paths(launch):
            lons.append(lon)
            lats.append(lat)
        for key in ("launch_point", "impact_point"):
            p = launch.get(key) or {}
            if p.get("lat") is not None and p.get("lon") is not None:
                lons.append(np.array([float(p["lon"])]))
                lats.append(np.array([float(p["lat"])]))
    if not lons:
        # Nothing flew: show the Korea-Japan theatre rather than failing.
        return MapExtent(133.0, 120.0, 146.0, 28.0, 46.0)
    center = _circular_mean_deg(np.concatenate(lons))
    cont = np.concatenate([_continuous_lon(lon, center) for lon in lons])
    lat_all = np.concatenate(lats)
    lon_lo, lon_hi = float(cont.min()), float(cont.max())
    lat_lo, lat_hi = float(lat_all.min()), float(lat_all.max())
    # Margin: 15 % of the span but at least 2°, and at least 8° shown, so short-range
    # shots still show enough coastline to be read.
    lon_pad = max(2.0, 0.15 * (lon_hi - lon_lo), (8.0 - (lon_hi - lon_lo)) / 2.0)
    lat_pad = max(2.0, 0.15 * (lat_hi - lat_lo), (6.0 - (lat_hi - lat_lo)) / 2.0)
    return MapExtent(
        center_lon=center,
        lon_min=lon_lo - lon_pad,
        lon_max=lon_hi + lon_pad,
        lat_min=max(-90.0, lat_lo - lat_pad),
        lat_max=min(90.0, lat_hi + lat_pad),
    )


def _aspect(extent: MapExtent) -> float:
    """Display aspect (y unit / x unit) of an equirectangular map true at mid-latitude."""
    mid_lat = math.radians(0.5 * (extent.lat_min + extent.lat_max))
    return 1.0 / max(math.cos(mid_lat), 0.1)


def _fill_box(extent: MapExtent, height_over_width: float) -> MapExtent:
    """*extent* widened in longitude or latitude to the shape of the axes box.

    Widening (never cropping) keeps every trajectory in view while the fixed-size
    figure is filled by map rather than by blank margins.
    """
    lon_span = extent.lon_max - extent.lon_min
    lat_span = extent.lat_max - extent.lat_min
    k = _aspect(extent)
    if lat_span * k / lon_span < height_over_width:
        grow = height_over_width * lon_span / k - lat_span
        lat_lo, lat_hi = extent.lat_min - grow / 2.0, extent.lat_max + grow / 2.0
        # Slide the window back inside [-90, 90] rather than cut it.
        if lat_lo < -90.0:
            lat_lo, lat_hi = -90.0, min(90.0, lat_hi + (-90.0 - lat_lo))
        if lat_hi > 90.0:
            lat_lo, lat_hi = max(-90.0, lat_lo - (lat_hi - 90.0)), 90.0
        return MapExtent(extent.center_lon, extent.lon_min, extent.lon_max, lat_lo, lat_hi)
    grow = lat_span * k / height_over_width - lon_span
    return MapExtent(
        extent.center_lon, extent.lon_min - grow / 2.0, extent.lon_max + grow / 2.0, extent.lat_min, extent.lat_max
    )


def ellipse_outline(
    lat_deg: float,
    lon_deg: float,
    semi_major_km: float,
    semi_minor_km: float,
    orientation_deg: float,
    n: int = 73,
) -> tuple[FloatArray, FloatArray]:
    """Longitudes, latitudes [deg] of an error ellipse, in a local tangent approximation.

    *orientation_deg* is the azimuth of the major axis (from north, clockwise).  The
    east/north offsets are turned into degrees with the WGS-84 meridian and
    prime-vertical radii at the centre, which is exact enough for ellipses of tens
    of kilometres.
    """
    theta = np.linspace(0.0, 2.0 * np.pi, n)
    az = math.radians(orientation_deg)
    a, b = semi_major_km * 1000.0, semi_minor_km * 1000.0
    # Major axis along (east, north) = (sin az, cos az); minor axis 90° clockwise of it.
    east = a * np.cos(theta) * math.sin(az) + b * np.sin(theta) * math.cos(az)
    north = a * np.cos(theta) * math.cos(az) - b * np.sin(theta) * math.sin(az)
    phi = math.radians(lat_deg)
    w = math.sqrt(1.0 - E2 * math.sin(phi) ** 2)
    meridian_r = A * (1.0 - E2) / w**3
    normal_r = A / w
    lat = lat_deg + np.degrees(north / meridian_r)
    lon = lon_deg + np.degrees(east / (normal_r * max(math.cos(phi), 1e-6)))
    return lon, lat


def _rings(geometry: Any) -> Iterator[FloatArray]:
    """Coordinate arrays (n, 2) lon, lat of every ring / line of a shapely geometry."""
    kind = getattr(geometry, "geom_type", "")
    if kind == "Polygon":
        yield np.asarray(geometry.exterior.coords, float)[:, :2]
        for interior in geometry.interiors:
            yield np.asarray(interior.coords, float)[:, :2]
    elif kind in ("LineString", "LinearRing"):
        yield np.asarray(geometry.coords, float)[:, :2]
    elif hasattr(geometry, "geoms"):
        for part in geometry.geoms:
            yield from _rings(part)


def _background() -> tuple[list[FloatArray], list[tuple[Any, FloatArray]]]:
    """World land outlines and (area, ring) of the protected areas, if regions is there.

    The map background is decoration: a report without coastlines is still worth
    having, so a missing or broken mwx.geo.regions (or its data) must not stop it.
    """
    try:
        from mwx.geo import regions  # optional: see above

        land = [np.asarray(r, float) for r in regions.world_land_outlines()]
        areas = [(area, ring) for area in regions.load_areas() for ring in _rings(area.geometry)]
    except Exception:
        return [], []
    return land, areas


def _sheets(ring: FloatArray, extent: MapExtent) -> Iterator[FloatArray]:
    """Copies of a [-180, 180] ring shifted by -360, 0, +360° that overlap the window.

    Outlines are split at ±180°, so drawing each at the three offsets covers any
    window in unwrapped longitudes without drawing lines across the map.
    """
    if ring.size == 0:
        return
    lo, hi = float(ring[:, 0].min()), float(ring[:, 0].max())
    lat_lo, lat_hi = float(ring[:, 1].min()), float(ring[:, 1].max())
    if lat_hi < extent.lat_min or lat_lo > extent.lat_max:
        return
    for offset in (-360.0, 0.0, 360.0):
        if hi + offset >= extent.lon_min and lo + offset <= extent.lon_max:
            shifted = ring.copy()
            shifted[:, 0] += offset
            yield shifted


def _without_cuts(ring: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Lon, lat of a ring's outline with the edges along the ±180° cut left out.

    Region data split at the antimeridian close their pieces along ±180°; drawn,
    that seam would show as a meridian line through the Aleutians or Chukotka.
    """
    lon, lat = ring[:, 0], ring[:, 1]
    on_cut = np.isclose(np.abs(_wrap_near(lon, 0.0)), 180.0, atol=1e-6) | np.isclose(np.abs(lon), 180.0, atol=1e-6)
    seam = on_cut[:-1] & on_cut[1:]
    if not seam.any():
        return lon, lat
    # A NaN after each point that starts a seam edge lifts the pen for that edge.
    breaks = np.flatnonzero(seam) + 1
    return np.insert(lon, breaks, np.nan), np.insert(lat, breaks, np.nan)


def _lon_label(value: float, _pos: Any = None) -> str:
    """Tick label of an unwrapped longitude: 190 -> 170°W."""
    lon = float(_wrap_near(value, 0.0))
    if abs(lon) < 1e-9 or abs(abs(lon) - 180.0) < 1e-9:
        return f"{abs(lon):.0f}°"
    return f"{abs(lon):.0f}°{'E' if lon > 0 else 'W'}"


def _lat_label(value: float, _pos: Any = None) -> str:
    """Tick label of a latitude: -10 -> 10°S."""
    if abs(value) < 1e-9:
        return "0°"
    return f"{abs(value):.0f}°{'N' if value > 0 else 'S'}"


def render_map_png(run: RunFolder) -> tuple[bytes, MapExtent]:
    """PNG of the map (truth, fused tracks, estimated impacts) and the window it shows."""
    import matplotlib  # heavy: only the HTML report needs it
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    # Height/width of the axes box inside the fixed figure (ticks and labels take the rest).
    extent = _fill_box(map_extent(run.launches), 0.64)
    center = extent.center_lon
    land, areas = _background()
    # Fixed style, independent of the user's matplotlibrc, so the PNG is reproducible.
    style = {
        "font.family": "DejaVu Sans",
        "font.size": 9.0,
        "svg.hashsalt": "mwx-report",
        "path.simplify": True,
        "axes.unicode_minus": True,
    }
    with matplotlib.rc_context(style):
        # Figure + Agg canvas instead of pyplot: no global figure registry, no
        # interactive backend, safe to call from any thread.
        fig = Figure(figsize=FIG_SIZE_IN, dpi=FIG_DPI)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        ax.set_facecolor("#eef4fa")
        handles: dict[str, Any] = {}

        for ring in land:
            for sheet in _sheets(ring, extent):
                ax.fill(sheet[:, 0], sheet[:, 1], facecolor="#e6e1d6", edgecolor="none", zorder=1)
                ax.plot(*_without_cuts(sheet), color="#b8b0a0", linewidth=0.4, zorder=1)
                handles["land"] = Patch(facecolor="#e6e1d6", edgecolor="#b8b0a0", label="land")
        for area, ring in areas:
            partner = str(getattr(area, "partner", "?"))
            kind = str(getattr(area, "kind", ""))
            colour = _PARTNER_COLOURS.get(partner, _OTHER_COLOUR)
            for sheet in _sheets(ring, extent):
                if kind == "territory":
                    ax.fill(sheet[:, 0], sheet[:, 1], facecolor=colour, alpha=0.12, edgecolor="none", zorder=2)
                    ax.plot(*_without_cuts(sheet), color=colour, linewidth=0.6, zorder=2)
                    handles[f"{partner} territory"] = Patch(
                        facecolor=colour,
                        alpha=0.25,
                        edgecolor=colour,
                        label=f"{partner} territory",
                    )
                else:
                    ax.plot(*_without_cuts(sheet), color=colour, linewidth=0.6, linestyle="--", alpha=0.6, zorder=2)
                    label = f"{partner} {'EEZ' if kind == 'eez' else kind}"
                    handles[f"{partner} {kind}"] = Line2D(
                        [], [], color=colour, linestyle="--", linewidth=0.8, label=label
                    )

        for launch in run.launches:
            for obj, lon, lat in _truth_paths(launch):
                warhead = obj.get("kind") == "warhead"
                ax.plot(
                    _continuous_lon(lon, center),
                    lat,
                    color=_TRUTH_COLOUR,
                    linewidth=1.6 if warhead else 0.7,
                    linestyle="-" if warhead else ":",
                    zorder=4,
                )
            lp, ip = launch.get("launch_point") or {}, launch.get("impact_point") or {}
            if lp.get("lat") is not None and lp.get("lon") is not None:
                x = float(_wrap_near(float(lp["lon"]), center))
                ax.plot([x], [lp["lat"]], marker="^", color=_TRUTH_COLOUR, markersize=7, linestyle="none", zorder=6)
                ax.annotate(
                    str(launch.get("id", "")),
                    (x, float(lp["lat"])),
                    xytext=(5, -11),
                    textcoords="offset points",
                    fontsize=8,
                    zorder=7,
                )
            if ip.get("lat") is not None and ip.get("lon") is not None:
                ax.plot(
                    [float(_wrap_near(float(ip["lon"]), center))],
                    [ip["lat"]],
                    marker="X",
                    color=_TRUTH_COLOUR,
                    markersize=7,
                    linestyle="none",
                    zorder=6,
                )
        if run.launches:
            handles["truth"] = Line2D([], [], color=_TRUTH_COLOUR, linewidth=1.6, label="truth ground track")
            handles["launch"] = Line2D([], [], color=_TRUTH_COLOUR, marker="^", linestyle="none", label="launch point")
            handles["impact"] = Line2D([], [], color=_TRUTH_COLOUR, marker="X", linestyle="none", label="impact point")

        for states in run.fused_tracks.values():
            lon, lat = _ground_track(states[:, 1:4])
            ax.plot(_continuous_lon(lon, center), lat, color=_FUSED_COLOUR, linewidth=1.0, linestyle="--", zorder=5)
        if run.fused_tracks:
            handles["fused"] = Line2D([], [], color=_FUSED_COLOUR, linestyle="--", label="fused track")

        for event in run.events:
            ip = event.get("impact_point") or {}
            if event.get("partner") != "fused" or ip.get("lat") is None or ip.get("lon") is None:
                continue
            x = float(_wrap_near(float(ip["lon"]), center))
            ax.plot(
                [x],
                [ip["lat"]],
                marker="+",
                color=_FUSED_COLOUR,
                markersize=9,
                markeredgewidth=1.6,
                linestyle="none",
                zorder=8,
            )
            handles["est"] = Line2D(
                [], [], color=_FUSED_COLOUR, marker="+", linestyle="none", markersize=9, label="fused impact estimate"
            )
            ell = event.get("impact_ellipse_95") or {}
            if None not in (ell.get("semi_major_km"), ell.get("semi_minor_km"), ell.get("orientation_deg")):
                elon, elat = ellipse_outline(
                    float(ip["lat"]),
                    x,
                    float(ell["semi_major_km"]),
                    float(ell["semi_minor_km"]),
                    float(ell["orientation_deg"]),
                )
                ax.plot(elon, elat, color=_FUSED_COLOUR, linewidth=1.0, zorder=8)
                handles["ellipse"] = Line2D([], [], color=_FUSED_COLOUR, linewidth=1.0, label="95 % impact ellipse")

        ax.set_xlim(extent.lon_min, extent.lon_max)
        ax.set_ylim(extent.lat_min, extent.lat_max)
        # Equirectangular with the mid-latitude scale, so shapes look right near the
        # data; the window already has about the box's shape, so the box barely shrinks.
        ax.set_aspect(_aspect(extent), adjustable="box")
        ax.xaxis.set_major_formatter(FuncFormatter(_lon_label))
        ax.yaxis.set_major_formatter(FuncFormatter(_lat_label))
        ax.grid(True, color="#ffffff", linewidth=0.6, zorder=0)
        ax.set_axisbelow(True)
        if handles:
            ax.legend(handles=list(handles.values()), loc="best", fontsize=8, framealpha=0.9)
        fig.tight_layout()
        buf = io.BytesIO()
        # No 'Software' text chunk and no timestamp: identical inputs, identical bytes.
        fig.savefig(buf, format="png", dpi=FIG_DPI, metadata={"Software": None})
    return buf.getvalue(), extent


# ------------------------------------------------------------------------------ HTML

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em auto;
max-width:1100px;padding:0 1em;color:#1b1b1b;line-height:1.35}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.6em;
border-bottom:1px solid #ccc}h3{font-size:1em;margin-bottom:.3em}
.sub{color:#555;margin-top:0}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .55em;text-align:right;vertical-align:top}
th{background:#f2f2f2}th[scope=row],td.l{text-align:left}
td.nd{color:#888;font-style:italic}td.bad{color:#a40000}
figure{margin:0}img{max-width:100%;height:auto;border:1px solid #ccc}
figcaption{color:#555;font-size:.85em}
dl.truth{display:grid;grid-template-columns:max-content auto;gap:.1em 1em;font-size:.9em}
dl.truth dt{color:#555}dl.truth dd{margin:0}
"""


def _e(value: Any) -> str:
    """HTML-escaped text of any value (quotes too, so it is safe in attributes)."""
    return html.escape(str(value), quote=True)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], row_header: bool = True) -> str:
    """An HTML table of pre-escaped cells; the first cell of each row is its header."""
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr></thead>", "<tbody>"]
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            if i == 0 and row_header:
                cells.append(f'<th scope="row">{cell}</th>')
            else:
                cells.append(cell if cell.startswith("<td") else f"<td>{cell}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _launch_table(rows: Sequence[PartnerRow]) -> str:
    """The per-partner comparison table of one launch."""
    header = [
        "partner",
        "event",
        "first detection (s)",
        "first warning (s)",
        "apogee km (est / true)",
        "range km (est / true)",
        "impact point error (km)",
        "launch point error (km)",
        "class",
    ]
    body = []
    for r in rows:
        if not r.detected:
            body.append(
                [
                    _e(r.partner),
                    _e(DASH),
                    f'<td class="nd">{_e(r.absent)}</td>',
                    _e(DASH),
                    _e(_pair(None, r.true_apogee_km)),
                    _e(_pair(None, r.true_range_km)),
                    _e(DASH),
                    _e(DASH),
                    _e(DASH),
                ]
            )
            continue
        event = _e(r.event_id) + (f" (+{r.other_events} more)" if r.other_events else "")
        cls = _e(r.estimated_class or DASH)
        cls_cell = f'<td class="bad">{cls} ✗</td>' if r.class_correct is False else cls
        body.append(
            [
                _e(r.partner),
                f'<td class="l">{event}</td>',
                _e(_fmt(r.first_detection_s)),
                _e(_fmt(r.first_warning_s)),
                _e(_pair(r.apogee_km, r.true_apogee_km)),
                _e(_pair(r.range_km, r.true_range_km)),
                _e(_fmt(r.impact_error_km)),
                _e(_fmt(r.launch_point_error_km)),
                cls_cell,
            ]
        )
    return _table(header, body)


def _truth_summary(launch: Json) -> str:
    """Definition list of what really flew."""
    items = [
        ("launch time", _e(launch.get("launch_time") or DASH)),
        ("launch point", _e(_point(launch.get("launch_point")))),
        ("impact point", _e(_point(launch.get("impact_point")))),
        ("azimuth", _e(_fmt(launch.get("azimuth_deg")) + "°")),
        ("apogee", _e(_fmt(launch.get("apogee_km")) + " km")),
        ("range", _e(_fmt(launch.get("range_km")) + " km")),
        ("flight time", _e(_fmt(launch.get("flight_time_s")) + " s")),
        ("max speed", _e(_fmt(launch.get("max_speed_mps"), 0) + " m/s")),
        ("class", _e(true_class(launch) or DASH)),
        ("objects", _e(len(launch.get("objects") or []))),
    ]
    return '<dl class="truth">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"


def _alert_order(alert: Json) -> tuple[float, str]:
    """Sort key: time of the first history entry, then alert id."""
    times = [_unix(h.get("time")) for h in alert.get("history") or []]
    known = [t for t in times if t is not None]
    return (min(known) if known else math.inf, str(alert.get("alert_id")))


def _alerts_table(alerts: Sequence[Json], t0: float | None) -> str:
    """One row per lifecycle step of each alert; times in seconds after *t0*."""
    header = [
        "alert",
        "partner",
        "area",
        "reason",
        "t (s)",
        "status",
        "predicted impact",
        "impact t (s)",
        "crossing t (s)",
    ]
    body = []
    for alert in sorted(alerts, key=_alert_order):
        area = alert.get("area") or {}
        area_text = f"{area.get('partner', '?')} {area.get('kind', '?')}: {area.get('name', '?')}"
        history = list(alert.get("history") or []) or [{}]
        span = f' rowspan="{len(history)}"' if len(history) > 1 else ""
        for i, step in enumerate(history):
            row = []
            if i == 0:
                row = [
                    f'<th scope="row"{span}>{_e(alert.get("alert_id", DASH))}</th>',
                    f'<td class="l"{span}>{_e(alert.get("partner", DASH))}</td>',
                    f'<td class="l"{span}>{_e(area_text)}</td>',
                    f'<td class="l"{span}>{_e(alert.get("reason", DASH))}</td>',
                ]
            row += [
                f"<td>{_e(_fmt(_since(step.get('time'), t0)))}</td>",
                f'<td class="l">{_e(step.get("status", DASH))}</td>',
                f'<td class="l">{_e(_point(step.get("impact_point")))}</td>',
                f"<td>{_e(_fmt(_since(step.get('impact_time'), t0)))}</td>",
                f"<td>{_e(_fmt(_since(step.get('crossing_time'), t0)))}</td>",
            ]
            body.append(row)
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr></thead>", "<tbody>"]
    out += ["<tr>" + "".join(r) + "</tr>" for r in body]
    out.append("</tbody></table>")
    return "\n".join(out)


def _coverage_note(metrics: Json | None) -> str:
    """`` (held the truth in 93 % of 57 reports)``: the measured coverage next to a 95 % label, if known."""
    coverage = (metrics or {}).get("ellipse_95_coverage") or {}
    inside, reports = coverage.get("inside"), coverage.get("reports")
    if inside is None or not reports:
        return ""
    return f" (every partner's and the fused 95 % ellipses held the truth in {100 * inside:.0f} % of {reports} reports)"


def _key_values(data: Mapping[str, Any]) -> str:
    """Two-column table of a flat mapping (nested values as compact JSON)."""
    return _table(["figure", "value"], [[_e(k), _e(_fmt_value(v))] for k, v in data.items()])


def _metrics_html(metrics: Json) -> str:
    """metrics.json as tables: per launch and partner, alerts, run, anything else."""
    parts = []
    for launch in metrics.get("launches") or []:
        per = launch.get("per_partner") or {}
        # Every partner gets a row, so a partner missing from the file reads as dashes
        # rather than silently disappearing from the table.
        partners = list(PARTNERS) + sorted(p for p in per if p not in PARTNERS)
        columns: list[str] = []
        for p in partners:
            for key in per.get(p) or {}:
                if key not in columns:
                    columns.append(key)
        rows = [[_e(p)] + [_e(_fmt_value((per.get(p) or {}).get(c))) for c in columns] for p in partners]
        parts.append(f"<h3>{_e(launch.get('truth_id', DASH))}</h3>")
        parts.append(_table(["partner", *(_e(c) for c in columns)], rows))
    for key in ("alerts", "run"):
        if isinstance(metrics.get(key), dict):
            parts.append(f"<h3>{_e(key)}</h3>")
            parts.append(_key_values(metrics[key]))
    rest = {k: v for k, v in metrics.items() if k not in ("launches", "alerts", "run")}
    if rest:
        parts.append("<h3>other</h3>")
        parts.append(_key_values(rest))
    return "\n".join(parts)


def render_html(run: RunFolder) -> str:
    """The whole report as one HTML document (every inserted text escaped)."""
    scenario = run.truth.get("scenario", DASH)
    seed = run.truth.get("seed", DASH)
    title = f"mwx after-action report: {scenario} (seed {seed})"
    png, extent = render_map_png(run)
    lon_lo, lon_hi = _lon_label(extent.lon_min), _lon_label(extent.lon_max)
    lat_lo, lat_hi = _lat_label(extent.lat_min), _lat_label(extent.lat_max)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        (
            f'<p class="sub">{_e(len(run.launches))} launch(es), {_e(len(run.events))} event '
            f"report(s), {_e(len(run.alerts))} alert(s). "
            "Times are seconds after the true launch.</p>"
        ),
        "<h2>Map</h2>",
        "<figure>",
        (
            f'<img alt="map of truth ground tracks, fused tracks and impact estimates" '
            f'width="{int(FIG_SIZE_IN[0] * FIG_DPI)}" height="{int(FIG_SIZE_IN[1] * FIG_DPI)}" '
            f'src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'
        ),
        (
            f"<figcaption>Window about {_e(lon_lo)} to {_e(lon_hi)}, "
            f"{_e(lat_lo)} to {_e(lat_hi)} (equirectangular). "
            f"Ellipses: 95 % impact region of the fused estimate{_e(_coverage_note(run.metrics))}.</figcaption>"
        ),
        "</figure>",
    ]
    launch_ids = set()
    for launch in run.launches:
        launch_ids.add(launch.get("id"))
        t0 = _unix(launch.get("launch_time"))
        parts.append(f"<h2>Launch {_e(launch.get('id', DASH))}</h2>")
        parts.append(_truth_summary(launch))
        parts.append(_launch_table(partner_rows(run, launch)))
        alerts = [a for a in run.alerts if a.get("truth_id") == launch.get("id")]
        parts.append("<h3>Alerts</h3>")
        parts.append(_alerts_table(alerts, t0) if alerts else "<p>No alert for this launch.</p>")

    # What the evaluation could not tie to a launch: false tracks and false alerts.
    first_launch = min(
        (t for t in (_unix(la.get("launch_time")) for la in run.launches) if t is not None),
        default=None,
    )
    stray_events = [e for e in run.events if e.get("truth_id") not in launch_ids]
    stray_alerts = [a for a in run.alerts if a.get("truth_id") not in launch_ids]
    if stray_events or stray_alerts:
        parts.append("<h2>Not matched to a launch</h2>")
        parts.append("<p>Times in seconds after the first launch.</p>")
    if stray_events:
        rows = [
            [
                _e(e.get("partner", DASH)),
                f'<td class="l">{_e(e.get("event_id", DASH))}</td>',
                _e(_fmt(_since(e.get("first_detection"), first_launch))),
                _e(_point(e.get("launch_point"))),
                _e(_point(e.get("impact_point"))),
                _e(e.get("class") or DASH),
            ]
            for e in sorted(stray_events, key=_event_order)
        ]
        parts.append("<h3>Events</h3>")
        parts.append(_table(["partner", "event", "first detection (s)", "launch point", "impact point", "class"], rows))
    if stray_alerts:
        parts.append("<h3>Alerts</h3>")
        parts.append(_alerts_table(stray_alerts, first_launch))

    if run.metrics is not None:
        parts.append("<h2>Metrics</h2>")
        parts.append(_metrics_html(run.metrics))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(run_dir: Path) -> Path:
    """Write ``run_dir/report.html`` from the run folder's files and return its path."""
    run_dir = Path(run_dir)
    text = render_html(load_run(run_dir))
    out = run_dir / "report.html"
    # newline="\n": the same bytes on every platform.
    with out.open("w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return out
