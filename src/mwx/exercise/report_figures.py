"""The after-action report's figures: a map per launch, a timeline per launch, error-over-time charts.

Each function takes plain data (the dataclasses below, built by :mod:`mwx.exercise.report` from the run
folder's records) and returns PNG bytes together with what it drew, so the report can say in words (alt
text, data attributes) exactly what a picture holds.  Figures are drawn with :mod:`mwx.plot` (fixed
style, no metadata), so the same data gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from numpy.typing import NDArray

from mwx.geo.ellipse import geodesic_ellipse
from mwx.geo.lon import wrap_lon
from mwx.plot import maps
from mwx.plot.figures import TRUTH_COLOUR, figure, partner_colour, png_bytes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "AlertArea",
    "ErrorSeries",
    "ImpactEstimate",
    "LaunchMap",
    "MapPicture",
    "SensorSite",
    "TimelineRow",
    "TrackPath",
    "TruthPath",
    "errors_png",
    "launch_map_png",
    "timeline_png",
]

FloatArray = NDArray[np.float64]

#: Map figure: width of the map panel and of the legend column [in], resolution.
MAP_PANEL_IN = 8.4
MAP_KEY_IN = 2.8
DPI = 100
#: An impact ellipse whose outline spans fewer pixels than this on the map gets an inset zoomed on the impact.
INSET_BELOW_PX = 12.0
#: Alert areas that together span fewer pixels than this get an inset zoomed on them.
AREA_INSET_BELOW_PX = 30.0
_KM_PER_DEG = 111.2  # km per degree of latitude, for window sizes only
_FRAGMENT_LINE: Final = "-."  # a fragment's true ground track (stages: dotted)


# ----------------------------------------------------------------------------------------- data
@dataclass(frozen=True)
class TruthPath:
    """A true object's ground track: ``warhead``, ``stage`` or ``fragment``, lon/lat [deg]."""

    object_id: str
    kind: str
    lon: FloatArray
    lat: FloatArray


@dataclass(frozen=True)
class TrackPath:
    """A partner's (or the fused picture's) published track over the ground, lon/lat [deg], by time."""

    partner: str
    track_id: str
    lon: FloatArray
    lat: FloatArray


@dataclass(frozen=True)
class ImpactEstimate:
    """A partner's predicted impact point [deg] and 95 % ellipse (semi-axes km, major-axis azimuth deg)."""

    partner: str
    event_id: str
    lat: float
    lon: float
    semi_major_km: float
    semi_minor_km: float
    orientation_deg: float


@dataclass(frozen=True)
class AlertArea:
    """The area of an alert as last warned and as first issued: rings of (lon, lat) [deg]."""

    partner: str
    alert_id: str
    rings: list[list[tuple[float, float]]]
    issued_rings: list[list[tuple[float, float]]] = field(default_factory=list)


@dataclass(frozen=True)
class SensorSite:
    """A ground or ship radar that detected the launch, at its site [deg]."""

    sensor_id: str
    partner: str
    lat: float
    lon: float


@dataclass(frozen=True)
class LaunchMap:
    """Everything to draw on one launch's map."""

    launch_id: str
    launch_lat: float
    launch_lon: float
    impact_lat: float
    impact_lon: float
    truth: list[TruthPath]
    tracks: list[TrackPath] = field(default_factory=list)
    estimates: list[ImpactEstimate] = field(default_factory=list)
    alert_areas: list[AlertArea] = field(default_factory=list)
    sensors: list[SensorSite] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)  # colour order of partners without a fixed colour


@dataclass(frozen=True)
class MapPicture:
    """A drawn map and what is on it (counts of what was actually drawn)."""

    png: bytes
    width_px: int
    height_px: int
    ellipses: int
    alert_areas: int
    tracks: int
    sensors: int
    #: The insets drawn, as (what they zoom on, width of their window [km]).
    insets: list[tuple[str, float]]
    #: The main window, for the caption.
    extent: maps.MapExtent


@dataclass(frozen=True)
class TimelineRow:
    """One partner's way through a launch, seconds after the true launch (None: did not happen)."""

    partner: str
    detection_s: float | None
    track_s: float | None
    assessment_s: float | None
    warning_s: float | None
    all_clear_s: float | None


@dataclass(frozen=True)
class ErrorSeries:
    """One partner's error over time: seconds after its first detection, impact and launch-point error [km]."""

    partner: str
    after_detection_s: list[float]
    impact_error_km: list[float | None]
    launch_point_error_km: list[float | None]


# ------------------------------------------------------------------------------------------ map
def _launch_extent(data: LaunchMap) -> maps.MapExtent:
    lons: list[Any] = [p.lon for p in data.truth] + [[data.launch_lon, data.impact_lon]]
    lats: list[Any] = [p.lat for p in data.truth] + [[data.launch_lat, data.impact_lat]]
    lons += [[s.lon] for s in data.sensors]
    lats += [[s.lat] for s in data.sensors]
    extent = maps.extent_of(lons, lats, min_lon_span=6.0, min_lat_span=4.5, pad_share=0.1, min_pad=1.0)
    assert extent is not None  # the launch and impact points are always there
    return extent


def _ellipse_ring(e: ImpactEstimate, center: float) -> tuple[FloatArray, FloatArray]:
    lat, lon = geodesic_ellipse(e.lat, e.lon, e.semi_major_km, e.semi_minor_km, e.orientation_deg, 72, closed=True)
    return lon + (wrap_lon(e.lon, center) - e.lon), lat


def _draw_layers(ax: Axes, data: LaunchMap, center: float, *, inset: bool) -> tuple[int, int]:
    """Tracks, alert areas, ellipses, truth, on ``ax``; returns (ellipses, alert areas) drawn."""
    colour = _colours(data)
    n_areas = 0
    for area in data.alert_areas:
        drawn = False
        if area.issued_rings != area.rings:
            for ring in area.issued_rings:
                if len(ring) >= 3:
                    xy = np.asarray(ring, float)
                    x = maps.continuous_lon(xy[:, 0], center)
                    ax.plot(x, xy[:, 1], color=colour(area.partner), linewidth=0.9, linestyle="--", zorder=3)
                    drawn = True
        for ring in area.rings:
            if len(ring) < 3:
                continue
            xy = np.asarray(ring, float)
            x = maps.continuous_lon(xy[:, 0], center)
            ax.fill(
                x,
                xy[:, 1],
                facecolor=colour(area.partner),
                alpha=0.22,
                edgecolor=colour(area.partner),
                linewidth=1.0,
                hatch="////",
                zorder=3,
            )
            drawn = True
        n_areas += drawn
    for track in data.tracks:
        if track.lon.size == 0:
            continue
        fused = track.partner == "fused"
        ax.plot(
            maps.continuous_lon(track.lon, center),
            track.lat,
            color=colour(track.partner),
            linewidth=1.2 if fused else 0.9,
            linestyle="--" if fused else "-",
            alpha=0.9,
            zorder=5,
        )
    for path in data.truth:
        warhead = path.kind == "warhead"
        ax.plot(
            maps.continuous_lon(path.lon, center),
            path.lat,
            color=TRUTH_COLOUR,
            linewidth=1.6 if warhead else 0.8,
            linestyle="-" if warhead else _FRAGMENT_LINE if path.kind == "fragment" else ":",
            zorder=4,
        )
    n_ellipses = 0
    for e in data.estimates:
        x, y = _ellipse_ring(e, center)
        ax.plot(x, y, color=colour(e.partner), linewidth=1.3 if inset else 1.0, zorder=8)
        ax.plot(
            [wrap_lon(e.lon, center)],
            [e.lat],
            marker="+",
            color=colour(e.partner),
            markersize=8,
            markeredgewidth=1.4,
            linestyle="none",
            zorder=9,
        )
        n_ellipses += 1
    ax.plot(
        [wrap_lon(data.launch_lon, center)],
        [data.launch_lat],
        marker="^",
        color=TRUTH_COLOUR,
        markersize=7,
        linestyle="none",
        zorder=10,
    )
    ax.plot(
        [wrap_lon(data.impact_lon, center)],
        [data.impact_lat],
        marker="X",
        color=TRUTH_COLOUR,
        markersize=7,
        markeredgecolor="white",
        markeredgewidth=0.5,
        linestyle="none",
        zorder=10,
    )
    return n_ellipses, n_areas


def _colours(data: LaunchMap) -> Any:
    others = [p for p in data.partners if p != "fused"]
    return lambda p: partner_colour(p, others)


def _pixel_span(ax: Axes, x: FloatArray, y: FloatArray) -> float:
    """The larger side [px] of the box the points (data coordinates) cover on the display."""
    xy = ax.transData.transform(np.column_stack([x, y]))
    return float(max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1])))


def _inset_place(
    ax: Axes, points: FloatArray, taken: Sequence[tuple[float, float]] = ()
) -> tuple[float, float, float, float]:
    """The axes-fraction box (x0, y0, w, h) of the free corner (not in ``taken``) with the fewest of ``points``
    (data coordinates) under it."""
    size = 0.34
    frac = ax.transAxes.inverted().transform(ax.transData.transform(points)) if len(points) else np.empty((0, 2))
    corners = [(0.98 - size, 0.98 - size), (0.02, 0.98 - size), (0.98 - size, 0.02), (0.02, 0.02)]
    corners = [c for c in corners if c not in taken] or corners
    best, best_n = corners[0], math.inf
    for x0, y0 in corners:
        inside = (frac[:, 0] >= x0 - 0.02) & (frac[:, 0] <= x0 + size + 0.02)
        inside &= (frac[:, 1] >= y0 - 0.02) & (frac[:, 1] <= y0 + size + 0.02)
        n = int(inside.sum())
        if n < best_n:
            best, best_n = (x0, y0), n
    return (best[0], best[1], size, size)


def launch_map_png(data: LaunchMap, land: Sequence[FloatArray], areas: Sequence[Any]) -> MapPicture:
    """One launch's map: the flight and what each partner made of it, zoomed to the flight.

    Drawn: land and protected areas (``land``, ``areas``: :func:`mwx.plot.maps.background`), the true
    ground track of each object (warhead solid, stages dotted, fragments of a break-up dash-dotted), launch
    (▲) and impact (✕) points, every partner's and the fused published tracks (fused dashed), the radars
    that detected it, each partner's
    predicted impact (+) with its 95 % ellipse to scale, and the alert areas (hatched as last warned, dashed
    as first issued).  Where they are too small to see (:data:`INSET_BELOW_PX`, :data:`AREA_INSET_BELOW_PX`)
    insets zoom on the impact and on the alert areas (one inset when they lie together).
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    extent = _launch_extent(data)
    hw = min(1.0, max(0.5, extent.lat_span * maps.aspect(extent) / extent.lon_span))
    extent = maps.fill_box(extent, hw)
    center = extent.center_lon
    colour = _colours(data)
    height_in = MAP_PANEL_IN * hw + 0.7
    width_in = MAP_PANEL_IN + MAP_KEY_IN
    with figure(width_in, height_in, dpi=DPI) as fig:
        grid = fig.add_gridspec(1, 2, width_ratios=[MAP_PANEL_IN, MAP_KEY_IN], wspace=0.02)
        ax = fig.add_subplot(grid[0, 0])
        key = fig.add_subplot(grid[0, 1])
        key.set_axis_off()
        handles = maps.draw_background(ax, extent, land, areas, colour)
        n_ellipses, n_areas = _draw_layers(ax, data, center, inset=False)
        for s in data.sensors:
            x = wrap_lon(s.lon, center)
            ax.plot(
                [x],
                [s.lat],
                marker="^",
                markersize=6.5,
                markerfacecolor=colour(s.partner),
                markeredgecolor="white",
                markeredgewidth=0.7,
                linestyle="none",
                zorder=7,
            )
            ax.annotate(
                s.sensor_id,
                (x, s.lat),
                xytext=(4, 3),
                textcoords="offset points",
                fontsize=7,
                zorder=7,
                bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.7},
            )
        maps.set_map_axes(ax, extent)
        ax.tick_params(labelsize=8)
        fig.subplots_adjust(left=0.07, right=0.99, bottom=0.07, top=0.97)
        ax.apply_aspect()

        insets = _draw_insets(ax, data, center, land, areas)

        legend: list[Any] = [
            Line2D([], [], color=TRUTH_COLOUR, linewidth=1.6, label="true ground track"),
            Line2D([], [], color=TRUTH_COLOUR, linewidth=0.8, linestyle=":", label="spent stage (truth)"),
            *(
                [Line2D([], [], color=TRUTH_COLOUR, linewidth=0.8, linestyle=_FRAGMENT_LINE, label="fragment (truth)")]
                if any(path.kind == "fragment" for path in data.truth)
                else []
            ),
            Line2D([], [], color=TRUTH_COLOUR, marker="^", linestyle="none", label="launch point"),
            Line2D([], [], color=TRUTH_COLOUR, marker="X", linestyle="none", label="impact point"),
        ]
        shown = sorted({t.partner for t in data.tracks} | {e.partner for e in data.estimates}, key=_partner_order)
        for p in shown:
            legend.append(
                Line2D(
                    [],
                    [],
                    color=colour(p),
                    linestyle="--" if p == "fused" else "-",
                    marker="+",
                    markersize=8,
                    label=f"{p}: track, impact + 95 % ellipse",
                )
            )
        if data.sensors:
            legend.append(Line2D([], [], marker="^", color="#555555", linestyle="none", label="radar that detected it"))
        for p in sorted({a.partner for a in data.alert_areas}, key=_partner_order):
            legend.append(
                Patch(facecolor=colour(p), alpha=0.3, hatch="////", edgecolor=colour(p), label=f"{p} alert area (last)")
            )
            legend.append(Line2D([], [], color=colour(p), linestyle="--", label=f"{p} alert area as issued"))
        legend += [h for k, h in handles.items() if k in ("land", "territory", "eez")]
        key.legend(handles=legend, loc="upper left", fontsize=8, frameon=False, borderaxespad=0.0)
        png = png_bytes(fig, dpi=DPI)
    return MapPicture(
        png=png,
        width_px=round(width_in * DPI),
        height_px=round(height_in * DPI),
        ellipses=n_ellipses,
        alert_areas=n_areas,
        tracks=len([t for t in data.tracks if t.lon.size]),
        sensors=len(data.sensors),
        insets=insets,
        extent=extent,
    )


def _partner_order(p: str) -> tuple[int, str]:
    return ({"KR": 0, "JP": 1, "US": 2, "fused": 9}.get(p, 5), p)


def _km_text(km: float) -> str:
    return f"{km:.0f} km" if km >= 10 else f"{km:.1f} km"


def _rings_xy(data: LaunchMap, center: float) -> list[FloatArray]:
    """Every alert-area ring (as issued and as last warned), (n, 2) lon continuous around ``center``, lat."""
    out = []
    for area in data.alert_areas:
        for ring in [*area.rings, *area.issued_rings]:
            if len(ring) >= 3:
                xy = np.asarray(ring, float)
                out.append(np.column_stack([maps.continuous_lon(xy[:, 0], center), xy[:, 1]]))
    return out


def _km_box(points: FloatArray) -> tuple[float, float, float]:
    """Centre (lon, lat) [deg] and the larger side [km] of the lon/lat box around ``points`` (n, 2)."""
    lon0, lat0 = (points.min(axis=0) + points.max(axis=0)) / 2.0
    coslat = max(math.cos(math.radians(lat0)), 0.05)
    side = max(float(np.ptp(points[:, 0])) * coslat, float(np.ptp(points[:, 1]))) * _KM_PER_DEG
    return float(lon0), float(lat0), side


def _zoom_targets(ax: Axes, data: LaunchMap, center: float) -> list[tuple[str, FloatArray]]:
    """What needs an inset: the impact, where the largest ellipse spans fewer than :data:`INSET_BELOW_PX`
    pixels, and the alert areas, where all of them together span fewer than :data:`AREA_INSET_BELOW_PX`;
    one inset for both when they lie close together.  Each as (label, points (n, 2) to hold)."""
    targets: list[tuple[str, FloatArray]] = []
    rings = [_ellipse_ring(e, center) for e in data.estimates]
    if rings and max(_pixel_span(ax, x, y) for x, y in rings) < INSET_BELOW_PX:
        pts = np.concatenate([np.column_stack(r) for r in rings])
        targets.append(("impact", np.vstack([pts, [[wrap_lon(data.impact_lon, center), data.impact_lat]]])))
    area_rings = _rings_xy(data, center)
    if area_rings:
        pts = np.concatenate(area_rings)
        if _pixel_span(ax, pts[:, 0], pts[:, 1]) < AREA_INSET_BELOW_PX:
            if targets:
                both = np.vstack([targets[0][1], pts])
                if _km_box(both)[2] <= 3.0 * max(_km_box(targets[0][1])[2], _km_box(pts)[2], 20.0):
                    return [("impact and alert area", both)]
            targets.append(("alert area", pts))
    return targets


def _draw_insets(
    ax: Axes, data: LaunchMap, center: float, land: Sequence[FloatArray], areas: Sequence[Any]
) -> list[tuple[str, float]]:
    """Draw an inset for each zoom target (:func:`_zoom_targets`) in the corners the flight leaves free."""
    targets = _zoom_targets(ax, data, center)
    if not targets:
        return []
    track_pts = [np.column_stack([maps.continuous_lon(p.lon, center), p.lat]) for p in data.truth]
    track_pts += [np.column_stack([maps.continuous_lon(t.lon, center), t.lat]) for t in data.tracks]
    track_pts += [np.array([[wrap_lon(s.lon, center), s.lat]]) for s in data.sensors]
    pts = np.concatenate(track_pts) if track_pts else np.empty((0, 2))
    taken: list[tuple[float, float]] = []
    out = []
    for label, target in targets:
        place = _inset_place(ax, pts, taken)
        taken.append(place[:2])
        inset = ax.inset_axes(place)
        width_km = _zoom(inset, target)
        x0, x1 = inset.get_xlim()
        y0, y1 = inset.get_ylim()
        maps.draw_background(inset, maps.MapExtent(center, x0, x1, y0, y1), land, areas, _colours(data))
        _draw_layers(inset, data, center, inset=True)
        inset.set_xticks([])
        inset.set_yticks([])
        inset.set_facecolor(maps.SEA_COLOUR)
        inset.text(
            0.03,
            0.03,
            f"{label}, {_km_text(width_km)} across",
            transform=inset.transAxes,
            fontsize=7.5,
            bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
            zorder=20,
        )
        ax.indicate_inset_zoom(inset, edgecolor="#333333", alpha=0.8)
        out.append((label, width_km))
    return out


def _zoom(inset: Axes, points: FloatArray) -> float:
    """Set the inset's window to hold ``points`` (n, 2) with a margin, square in km; return its width [km]."""
    lon0, lat0, side_km = _km_box(points)
    coslat = max(math.cos(math.radians(lat0)), 0.05)
    half_km = max(0.6 * side_km, 1.0)
    half_lat = half_km / _KM_PER_DEG
    inset.set_xlim(lon0 - half_lat / coslat, lon0 + half_lat / coslat)
    inset.set_ylim(lat0 - half_lat, lat0 + half_lat)
    inset.set_aspect(1.0 / coslat, adjustable="box")
    return 2.0 * half_km


# ------------------------------------------------------------------------------------- timeline
_STAGES = (
    ("detection_s", "first detection by a sensor", "o", "#555555"),
    ("track_s", "first shared track", "s", "#1f77b4"),
    ("assessment_s", "first assessment (event report)", "D", "#6a4c93"),
    ("warning_s", "first warning", "v", "#c62828"),
    ("all_clear_s", "all clear", "P", "#2e7d32"),
)


def timeline_png(rows: Sequence[TimelineRow], burnout_s: float, impact_s: float, threats_s: Sequence[float]) -> bytes:
    """One launch's timeline: for each partner its first detection, first shared track, first assessment,
    first warning and all-clear [s after launch], against burnout, the true threats (a territory crossed
    or an impact in a protected area) and the impact."""
    from matplotlib.lines import Line2D

    height = 0.9 + 0.42 * max(len(rows), 1)
    with figure(MAP_PANEL_IN + MAP_KEY_IN, height, dpi=DPI) as fig:
        grid = fig.add_gridspec(1, 2, width_ratios=[MAP_PANEL_IN, MAP_KEY_IN], wspace=0.02)
        ax = fig.add_subplot(grid[0, 0])
        key = fig.add_subplot(grid[0, 1])
        key.set_axis_off()
        for k, row in enumerate(rows):
            y = len(rows) - 1 - k
            times = [getattr(row, name) for name, *_ in _STAGES]
            known = [t for t in times if t is not None]
            if known:
                ax.plot([min(known), max(known)], [y, y], color="#bbbbbb", linewidth=1.0, zorder=1)
            for (name, _, marker, c), t in zip(_STAGES, times, strict=True):
                if t is None:
                    continue
                if name == "detection_s":  # hollow and larger: the first track often follows within seconds
                    ax.plot(
                        [t],
                        [y],
                        marker=marker,
                        markerfacecolor="none",
                        markeredgecolor=c,
                        markersize=11,
                        markeredgewidth=1.4,
                        linestyle="none",
                        zorder=4,
                    )
                else:
                    ax.plot(
                        [t],
                        [y],
                        marker=marker,
                        color=c,
                        markersize=7,
                        linestyle="none",
                        zorder=3,
                        markeredgecolor="white",
                        markeredgewidth=0.6,
                    )
        ax.axvline(burnout_s, color="#999999", linestyle=":", linewidth=1.0, zorder=0)
        for t in threats_s:
            ax.axvline(t, color="#c62828", linestyle="--", linewidth=0.9, alpha=0.7, zorder=0)
        ax.axvline(impact_s, color=TRUTH_COLOUR, linestyle="-", linewidth=1.0, zorder=0)
        ax.set_yticks(range(len(rows)), [r.partner for r in reversed(rows)])
        ax.set_ylim(-0.7, len(rows) - 0.3)
        last = max([impact_s, *(t for r in rows for t in (r.warning_s, r.all_clear_s) if t is not None)])
        ax.set_xlim(0.0, last * 1.04 if last > 0 else 1.0)
        ax.set_xlabel("s after the true launch")
        ax.grid(True, axis="x", color="#e4e4e4", linewidth=0.6)
        ax.set_axisbelow(True)
        handles = [
            Line2D(
                [],
                [],
                marker=m,
                color=c,
                linestyle="none",
                markersize=7,
                label=label,
                markerfacecolor="none" if name == "detection_s" else c,
            )
            for name, label, m, c in _STAGES
        ]
        handles += [
            Line2D([], [], color="#999999", linestyle=":", label="burnout (truth)"),
            Line2D([], [], color="#c62828", linestyle="--", label="true threat (crossing, impact)"),
            Line2D([], [], color=TRUTH_COLOUR, label="impact (truth)"),
        ]
        key.legend(handles=handles, loc="center left", fontsize=7.5, frameon=False, borderaxespad=0.0)
        fig.subplots_adjust(left=0.07, right=0.99, bottom=0.6 / height, top=1.0 - 0.15 / height)
        png = png_bytes(fig, dpi=DPI)
    return png


# --------------------------------------------------------------------------------------- errors
def errors_png(series: Sequence[ErrorSeries], partners: Sequence[str]) -> bytes:
    """Impact-point and launch-point error [km] of each update of each partner's event against the time after
    that partner's first detection [s]; a log scale where the errors span more than a factor of 30."""
    others = [p for p in partners if p != "fused"]
    with figure(MAP_PANEL_IN + MAP_KEY_IN, 3.2, dpi=DPI) as fig:
        axes = fig.subplots(1, 2)
        for ax, which, title in (
            (axes[0], "impact_error_km", "impact point error"),
            (axes[1], "launch_point_error_km", "launch point error"),
        ):
            values: list[float] = []
            for s in series:
                ys = getattr(s, which)
                pts = [(x, y) for x, y in zip(s.after_detection_s, ys, strict=True) if y is not None]
                if not pts:
                    continue
                xs, vs = zip(*pts, strict=True)
                values += [v for v in vs if v > 0]
                ax.plot(
                    xs,
                    vs,
                    marker="o",
                    markersize=3.5,
                    linewidth=1.2,
                    color=partner_colour(s.partner, others),
                    linestyle="--" if s.partner == "fused" else "-",
                    label=s.partner,
                )
            if values and max(values) / max(min(values), 1e-3) > 30.0:
                ax.set_yscale("log")
            else:
                ax.set_ylim(bottom=0.0)
            ax.set_title(title, fontsize=9.5)
            ax.set_xlabel("s after the partner's first detection")
            ax.set_ylabel("km")
            ax.grid(True, color="#e4e4e4", linewidth=0.6)
            ax.set_axisbelow(True)
        if any(s.after_detection_s for s in series):
            axes[1].legend(loc="best", fontsize=8, framealpha=0.9)
        fig.tight_layout()
        png = png_bytes(fig, dpi=DPI)
    return png
