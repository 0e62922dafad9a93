"""A run judged against the truth: matching reports and alerts to the true launches, and the figures of
``metrics.json`` (docs/run-folder.md).

Apart from writing files (:mod:`mwx.exercise.outputs` encodes what this module and the run give):

* matching — :func:`object_of` / :func:`truth_of` (the truth object or launch nearest a published state),
  :func:`alert_truth` (the truth launch of an alert's threat), :func:`first_warning` (the first alert
  behind an event's track);
* judging — on the typed records (:class:`~mwx.records.LaunchEvent`, :class:`~mwx.records.AlertRecord`):
  :func:`judge_alerts`, :func:`warning_timeliness`, :func:`threatened_areas`, :func:`ellipse_miss`,
  :func:`tracking_metrics`, :func:`fusion_gain`, and :func:`judge_run`, the whole of ``metrics.json``.

The metric maths (SIAP, GOSPA, NEES) is :mod:`mwx.exercise.metrics`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from mwx import records
from mwx.assess.events import GROUPED_ONE_MISSILE, classify, equivalent_range_km
from mwx.exercise import metrics
from mwx.exercise.replay import ReplayRecord, frames
from mwx.exercise.run import FUSED, RunResult
from mwx.geo import regions, wgs84
from mwx.geo.regions import ProtectedArea
from mwx.sim.truth import FRAGMENT, WARHEAD, TruthLaunch, TruthObject
from mwx.warn.alerts import threats
from mwx.warn.areas import MARGIN_KM, distance_km

__all__ = [
    "CHI2_6_95", "MATCH_KM", "NEAR_MISS_KM", "AlertVerdicts", "alert_truth", "ellipse_miss", "first_warning",
    "fusion_gain", "ground_point", "judge_alerts", "judge_run", "must_warn", "object_of", "threatened_areas",
    "tracking_metrics", "true_class", "true_equivalent_range_km", "truth_of", "truth_threat_times", "truth_threats",
    "warning_timeliness",
]  # fmt: skip

_GEOD = Geod(ellps="WGS84")
MATCH_KM = 100.0  # a track is matched to the truth object within this distance
#: An alert for an area that no object of its launch entered is false only when they all stayed farther
#: than this [km]: nearer is within the alert areas' granularity (:data:`mwx.warn.areas.MARGIN_KM`, which
#: also holds the error of the territories' outlines), a near miss that is neither false nor needed.
NEAR_MISS_KM = MARGIN_KM
CHI2_6_95 = 12.591587243743977  # χ²(6) 95 % point: a state's 95 % region in position and velocity

Areas = Sequence[ProtectedArea]


rounded = records.rounded  # the run folder's precision


# ----------------------------------------------------------------- the truth
def true_equivalent_range_km(launch: TruthLaunch) -> float:
    """Minimum-energy range [km] with the true burnout energy of the warhead-bearing object: of the flight as
    flown, so a motor cut early gives the energy it reached at the cut, a break-up in boost that at the break-up."""
    obj = launch.objects[0]
    burnout = int(np.searchsorted(obj.t, launch.flown.burnout_time))
    return equivalent_range_km(obj.ecef[min(burnout + 1, len(obj.t) - 1)])


def true_class(launch: TruthLaunch) -> records.MissileClass:
    """The true class of a launch, by its true equivalent range (truth.json → class)."""
    return classify(true_equivalent_range_km(launch))  # type: ignore[return-value]


def ground_point(obj: TruthObject) -> tuple[float, float]:
    """Where an object's flight ends: (lat, lon) [deg] of its last sample, on the ground."""
    lat, lon, _ = wgs84.ecef_to_geodetic(obj.ecef[-1, :3])
    return math.degrees(float(lat)), math.degrees(float(lon))


def truth_threats(launch: TruthLaunch, areas: Areas, *, every_object: bool = False) -> set[tuple[str, str, str]]:
    """(partner, area name, reason) that the true flight threatened: its warhead-bearing body's, or every object's."""
    return set(truth_threat_times(launch, areas, every_object=every_object))


def must_warn(launch: TruthLaunch) -> list[TruthObject]:
    """The objects whose threats must be warned: the warhead-bearing body and, where it broke up, the pieces a
    radar can see (the others, and spent stages, may be warned: :func:`truth_threat_times`)."""
    return [obj for obj in launch.objects if obj.kind == WARHEAD or (obj.kind == FRAGMENT and obj.visible)]


def truth_threat_times(
    launch: TruthLaunch, areas: Areas, *, every_object: bool = False
) -> dict[tuple[str, str, str], float]:
    """(partner, area name, reason) the true flight threatened → when [Unix s]: entering the area, or impact.

    The warhead-bearing body's threats (what must be warned: :func:`must_warn`), or with ``every_object`` also
    its spent stages' and every fragment's (what may be warned).  A body that broke up strikes nothing itself:
    its pieces do.
    """
    out: dict[tuple[str, str, str], float] = {}
    for obj in launch.objects if every_object else must_warn(launch):
        aloft = obj.kind == WARHEAD and launch.broke_up  # its samples end at the break-up, not on the ground
        for t in threats(tuple(areas), obj.t, *obj.ground_track(), float(obj.t[-1])):
            if aloft and t.reason == "impact":
                continue
            key = (t.area.partner, t.area.name, t.reason)
            out[key] = min(out.get(key, math.inf), t.crossing_time or t.impact_time)
    return out


# ----------------------------------------------------------------- matching
def object_of(result: RunResult, t: float, x: np.ndarray) -> tuple[str, TruthObject] | None:
    """The truth object nearest to state ``x`` at ``t`` within MATCH_KM, with its launch's id."""
    best, best_d = None, MATCH_KM * 1e3
    for launch in result.truth:
        for obj in launch.objects:
            s = obj.states_at(np.array([t]))[0]
            if np.isnan(s[0]):
                continue
            d = float(np.linalg.norm(s[:3] - x[:3]))
            if d < best_d:
                best, best_d = (launch.missile.id, obj), d
    return best


def truth_of(result: RunResult, t: float, x: np.ndarray) -> str | None:
    """The truth launch whose object is nearest to state ``x`` at ``t``, within MATCH_KM."""
    found = object_of(result, t, x)
    return found[0] if found else None


def alert_truth(result: RunResult, histories: dict, partner: str, launch_id: str) -> str | None:
    """The truth launch of a partner's launch (threat): the one most of its objects' tracks began on.

    ``histories``: the published track histories (:meth:`mwx.exercise.run.TrackLog.histories`).
    """
    picture = result.pictures[partner]
    systems = picture.launches.get(launch_id)
    if systems is None:
        return None
    votes: dict[str, int] = {}
    for system_id in systems:
        system = picture.systems.get(system_id)
        for sender, track_id in system.members if system is not None else ():
            h = histories.get((sender, track_id))
            if h is not None and (found := truth_of(result, float(h.t[0]), h.x[0])):
                votes[found] = votes.get(found, 0) + 1
    return max(sorted(votes), key=lambda k: votes[k]) if votes else None


def first_warning(result: RunResult, partner: str, track_id: str) -> float | None:
    """Earliest alert issue time [Unix s] for the launch behind one event's track: a partner's own alerts of
    the launch its track is in; for a fused system, any partner's alerts of the launch its members are in."""
    if partner == FUSED:
        members = result.pictures[FUSED].systems[track_id].members
        pictures = [result.pictures[p] for p in result.partners]
    else:
        members = ((partner, track_id),)
        pictures = [result.pictures[partner]]
    times = []
    for picture in pictures:
        launch_ids = {picture.launch_of.get(member) for member in members} - {None}
        times += [alert.history[0]["time"] for alert in picture.alerts if alert.launch_id in launch_ids]
    return min(times) if times else None


# ----------------------------------------------------------------- alerts
@dataclass(frozen=True)
class AlertVerdicts:
    """The alerts of a run judged against the truth.

    Keys are (launch id, partner, area name), with the reason the true flight threatened the area
    (``impact``, ``overflight``) last in ``threatened`` and ``missed``.
    """

    threatened: frozenset[tuple[str, str, str, str]]  # what the warhead-bearing bodies threatened
    missed: frozenset[tuple[str, str, str, str]]  # ... without an alert of the launch for the area
    false: frozenset[tuple[str | None, str, str]]  # alerts for areas every object kept away from (launch id
    # None: an alert of a launch that follows no true one)
    near_misses: dict[tuple[str | None, str, str], float]  # alerts for areas one came within NEAR_MISS_KM of → km
    alerts_per_area: dict[tuple[str | None, str, str], int]  # how many alerts each (launch, partner, area) had

    def most_alerts_per_threatened_area(self) -> int:
        """The most alerts one launch raised for one area its warhead-bearing body threatened."""
        return max((self.alerts_per_area.get(t[:3], 0) for t in self.threatened), default=0)


def judge_alerts(truth: Sequence[TruthLaunch], areas: Areas, alerts: Sequence[records.AlertRecord]) -> AlertVerdicts:
    """Which threatened areas were warned, which alerts were false and which near misses (see :class:`AlertVerdicts`).

    An alert is true when any object of its launch threatened its area (a spent stage may warn), and a
    threatened area is warned by an alert of its launch for it, whatever the reason the alert stood for.
    """
    threatened: set[tuple[str, str, str, str]] = set()
    any_object: set[tuple[str | None, str, str]] = set()
    for launch in truth:
        threatened |= {(launch.missile.id, *t) for t in truth_threats(launch, areas)}
        any_object |= {(launch.missile.id, *t[:2]) for t in truth_threats(launch, areas, every_object=True)}
    per_area: dict[tuple[str | None, str, str], int] = {}
    for a in alerts:
        key = (a.truth_id, a.area.partner, a.area.name)
        per_area[key] = per_area.get(key, 0) + 1
    alerted = set(per_area)
    truth_by_id = {launch.missile.id: launch for launch in truth}
    area_of = {(area.partner, area.name): area.geometry for area in areas}
    # An alert of a launch that follows no true one (clutter) is false wherever it is.
    closest = {
        a: _closest_km(truth_by_id[a[0]], area_of[a[1:]]) if a[0] in truth_by_id else math.inf
        for a in alerted - any_object
    }
    return AlertVerdicts(
        threatened=frozenset(threatened),
        missed=frozenset(t for t in threatened if t[:3] not in alerted),
        false=frozenset(a for a, km in closest.items() if km > NEAR_MISS_KM),
        near_misses={a: km for a, km in closest.items() if km <= NEAR_MISS_KM},
        alerts_per_area=per_area,
    )


def _closest_km(launch: TruthLaunch, area: BaseGeometry) -> float:
    """How near [km] any object of the true flight came to ``area`` (lon/lat deg) over the ground."""
    nearest = math.inf
    for obj in launch.objects:
        lat, lon = obj.ground_track()
        path = shapely.LineString(np.column_stack([np.unwrap(lon, period=360.0), lat]))
        nearest = min(nearest, distance_km(path, area))
    return nearest


def threatened_areas(
    launch: TruthLaunch, areas: Areas, alerts: Sequence[records.AlertRecord]
) -> list[records.ThreatenedArea]:
    """Per area the true flight threatened (the warhead-bearing body): whether it was warned, when, how long
    before the true event, by how many alerts and with how many changes each."""
    out = []
    for (partner, name, reason), event_time in sorted(truth_threat_times(launch, areas).items()):
        mine = [
            a for a in alerts if a.truth_id == launch.missile.id and (a.area.partner, a.area.name) == (partner, name)
        ]
        first = min((records.unix(a.history[0].time) for a in mine), default=None)
        out.append(
            records.ThreatenedArea(
                partner=partner,
                area=name,
                reason=reason,  # type: ignore[arg-type]
                warned=bool(mine),
                first_warning_after_launch_s=rounded(first - launch.launch_time) if first is not None else None,
                lead_s=rounded(event_time - first) if first is not None else None,
                alerts=[a.alert_id for a in mine],
                changes_per_alert=[len(a.history) for a in mine],
                level_changes_per_alert=[a.level_changes for a in mine],
            )
        )
    return out


def warning_timeliness(
    launch: TruthLaunch, areas: Areas, alerts: Sequence[records.AlertRecord]
) -> list[records.WarningFigures]:
    """Per alert of this launch: when it was first issued after launch and how long before the true event.

    The event is the true object entering the alerted area (overflight) or striking it (impact);
    ``lead_s`` is the time from the first issue to it (negative: the alert came late), None for
    an alert whose area the truth did not threaten (a false alert).
    """
    events = truth_threat_times(launch, areas)
    out = []
    for a in alerts:
        if a.truth_id != launch.missile.id:
            continue
        issued = [h for h in a.history if h.status == "issued"]
        first = records.unix(issued[0].time) if issued else None
        event = events.get((a.area.partner, a.area.name, a.reason))
        if event is None:  # an overflight alert for an area the missile struck counts, and the reverse
            event = next((t for (p, n, _), t in events.items() if (p, n) == (a.area.partner, a.area.name)), None)
        out.append(
            records.WarningFigures(
                alert_id=a.alert_id,
                partner=a.partner,
                area=a.area.name,
                reason=a.reason,
                issued_after_launch_s=rounded(first - launch.launch_time) if first is not None else None,
                true_event_after_launch_s=rounded(event - launch.launch_time) if event is not None else None,
                lead_s=rounded(event - first) if event is not None and first is not None else None,
                changes=len(a.history),
                statuses=[h.status for h in a.history],
            )
        )
    return out


# ----------------------------------------------------------------- reports
Report = records.LaunchEvent | records.EventUpdate


def ellipse_miss(report: Report, truth: tuple[float, float], which: str = "impact") -> float:
    """How far the truth point (lat, lon degrees) lies from a report's ``which`` (impact, launch) point, in
    units of its 95 % ellipse: (along / a)² + (across / b)², at most 1 inside (χ²(2) / 5.99 if calibrated)."""
    point: records.Point = getattr(report, f"{which}_point")
    ellipse: records.Ellipse95 = getattr(report, f"{which}_ellipse_95")
    azimuth, _, dist = _GEOD.inv(point.lon, point.lat, truth[1], truth[0])
    # Offset along and across the major axis (azimuth in degrees from north).
    angle = math.radians(azimuth - ellipse.orientation_deg)
    along, across = dist * math.cos(angle), dist * math.sin(angle)
    a, b = max(ellipse.semi_major_km * 1e3, 1e-3), max(ellipse.semi_minor_km * 1e3, 1e-3)
    return float((along / a) ** 2 + (across / b) ** 2)


def _inside_ellipse(report: Report, truth: tuple[float, float], which: str = "impact") -> bool:
    """Whether the truth point (lat, lon degrees) lies inside a report's 95 % ``which`` (impact, launch) ellipse."""
    return ellipse_miss(report, truth, which) <= 1.0


def _km(a: tuple[float, float], b: records.Point) -> float:
    """Geodesic distance [km] from (lat, lon) degrees to a point."""
    return float(_GEOD.inv(a[1], a[0], b.lon, b.lat)[2]) / 1e3


def _coverage(reports: list[records.OverTime], inside: str) -> records.Coverage:
    """How many reports and updates state a region, and the share whose region held the truth (``inside``)."""
    checks = [bool(getattr(u, inside)) for u in reports]
    return records.Coverage(reports=len(checks), inside=rounded(float(np.mean(checks)) if checks else math.nan))


def _undetected(truth_id: str, partner: str, events: Sequence[records.LaunchEvent]) -> records.PartnerLaunchFigures:
    """A partner without an event of its own for a launch: the event that holds its tracks, if any, and why."""
    for e in events:
        if e.partner != partner or e.truth_id == truth_id:
            continue
        tracks = [k for k, t in e.track_truth_ids.items() if t == truth_id]
        if tracks:
            return records.PartnerLaunchFigures(
                detected=True,
                grouped_with=e.truth_id,
                event_id=e.event_id,
                why=sorted({e.grouped.get(k, GROUPED_ONE_MISSILE) for k in tracks}),
            )
    return records.PartnerLaunchFigures(detected=False)


def _partner_figures(launch: TruthLaunch, e: records.LaunchEvent) -> records.PartnerLaunchFigures:
    """A partner's figures for one launch from its final event (``e``, its first detection the partner's
    earliest of the launch)."""
    traj, m, flown = launch.trajectory, launch.missile, launch.flown
    true_launch = (math.degrees(traj.site[0]), math.degrees(traj.site[1]))
    # The flight as flown (a failed missile's cut flight, the centre of a break-up's pieces' impacts).
    true_impact = (math.degrees(flown.impact_lat), math.degrees(flown.impact_lon))
    true_eq = true_class(launch)
    # A region is judged against the truth of what it estimates: the impact point of the object
    # the report's track followed (a stage's, where the partner held only the stage).
    ends = {o.id: ground_point(o) for o in launch.objects}
    impact_at = ends.get(e.truth_object, true_impact) if e.truth_object is not None else true_impact
    detected = records.unix(e.first_detection)
    first_detection_s = rounded(detected - m.launch_time)
    first_warning_s = rounded(records.unix(e.first_warning) - m.launch_time) if e.first_warning is not None else None
    return records.PartnerLaunchFigures(
        first_detection_s=first_detection_s,
        first_warning_s=first_warning_s,
        first_warning_after_detection_s=(
            rounded(first_warning_s - first_detection_s)
            if first_warning_s is not None and first_detection_s is not None
            else None
        ),
        impact_error_km=rounded(_km(true_impact, e.impact_point)),
        apogee_error_km=rounded(e.apogee_km - flown.apogee_alt / 1e3),
        range_error_km=rounded(e.range_km - flown.range_m / 1e3),
        launch_point_error_km=rounded(_km(true_launch, e.launch_point)),
        launch_time_error_s=rounded(records.unix(e.launch_time) - m.launch_time),
        class_correct=e.missile_class == true_eq,
        lofted=e.lofted,
        number_of_objects=e.number_of_objects,
        true_number_of_objects=len(launch.objects),
        reported_object=e.truth_object,
        inside_ellipse_95=_inside_ellipse(e, impact_at),
        inside_launch_ellipse_95=_inside_ellipse(e, true_launch, "launch"),
        over_time=[
            records.OverTime(
                after_first_detection_s=rounded(records.unix(u.time) - detected),
                impact_error_km=rounded(_km(true_impact, u.impact_point)),
                launch_point_error_km=rounded(_km(true_launch, u.launch_point)),
                apogee_error_km=rounded(u.apogee_km - flown.apogee_alt / 1e3),
                range_error_km=rounded(u.range_km - flown.range_m / 1e3),
                class_correct=u.missile_class == true_eq,
                inside_ellipse_95=_inside_ellipse(u, impact_at),
                inside_launch_ellipse_95=_inside_ellipse(u, true_launch, "launch"),
            )
            for u in e.updates
        ],
    )


# ----------------------------------------------------------------- the whole run
def judge_run(result: RunResult, events: records.EventsFile, alerts: records.AlertsFile) -> records.MetricsFile:
    """``metrics.json``: the run's events and alerts (as written, truth ids included) judged against the truth,
    with the tracking, fusion, exchange and run figures (docs/run-folder.md)."""
    areas = regions.load_areas(result.scenario.theater)
    launches = []
    for launch in result.truth:
        m = launch.missile
        mine = [e for e in events.events if e.truth_id == m.id]
        earliest: dict[str, records.UtcTime] = {}
        for e in mine:
            earliest[e.partner] = min(earliest.get(e.partner, e.first_detection), e.first_detection)
        per_partner: dict[str, records.PartnerLaunchFigures] = {}
        # Per partner, the event estimated last: the partner's final picture of the launch
        # (a launch whose track broke has several; the tracking issue keeps one).
        for e in sorted(mine, key=lambda e: e.estimated_at, reverse=True):
            if e.partner not in per_partner:
                first = msgspec.structs.replace(e, first_detection=earliest[e.partner])
                per_partner[e.partner] = _partner_figures(launch, first)
        for partner in [*result.partners, FUSED]:
            if partner not in per_partner:
                per_partner[partner] = _undetected(m.id, partner, events.events)
        warnings = warning_timeliness(launch, areas, alerts.alerts)
        launches.append(
            records.LaunchFigures(
                truth_id=m.id,
                missile_class=true_class(launch),
                per_partner=per_partner,
                warnings=warnings,
                alert_changes=sum(w.changes for w in warnings),
                threatened_areas=threatened_areas(launch, areas, alerts.alerts),
            )
        )
    # Share of all reports and updates (every partner, every launch) whose 95 % ellipse held the truth.
    reports = [u for launch in launches for p in launch.per_partner.values() for u in p.over_time]
    judged = judge_alerts(result.truth, areas, alerts.alerts)
    near = sorted(((*a, rounded(km)) for a, km in judged.near_misses.items()), key=lambda r: (r[0] or "~", *r[1:3]))
    return records.MetricsFile(
        launches=launches,
        ellipse_95_coverage=_coverage(reports, "inside_ellipse_95"),
        launch_ellipse_95_coverage=_coverage(reports, "inside_launch_ellipse_95"),
        alerts=records.AlertFigures(
            issued=len(alerts.alerts),
            false=len(judged.false),
            missed=len(judged.missed),
            # Alerts for an area no object of the launch entered but passed within NEAR_MISS_KM of: the
            # alert areas' own granularity (and that of the territories' outlines), so neither false nor
            # needed.  Each with how near it came [km].
            near_misses=near,
            threatened=sorted(judged.threatened),
            # What a reviewer asks first: one alert per threatened area per threat, few changes, no flip-flop.
            most_alerts_per_threat_and_area=max(judged.alerts_per_area.values(), default=0),
            # ... counting only the areas the launch's warhead-bearing body threatened (the bar; an
            # area it only passed near may have been warned, withdrawn and warned again).
            most_alerts_per_threatened_area=judged.most_alerts_per_threatened_area(),
            most_changes_per_alert=max((len(a.history) for a in alerts.alerts), default=0),
            most_level_changes_per_alert=max((a.level_changes for a in alerts.alerts), default=0),
        ),
        tracking=tracking_metrics(result),
        fusion=fusion_gain(result),
        # Per endpoint: envelopes sealed and sent, accepted, refused by reason (never reaching fusion).
        # In process every envelope arrives when it is sent; over NATS (``transport``) the node adds
        # what JetStream acknowledged, retries, gap repairs and latency from publish to verified delivery.
        exchange=dict(result.exchange),
        run=records.RunFigures(
            wall_time_s=rounded(result.wall_time_s, 2),
            measurements=len(result.measurements),
            track_reports=result.traffic.sent,
            bus_bytes=result.traffic.bytes,
            lost_by_link_injects=result.traffic.lost,
            held_by_link_injects=result.traffic.held,
        ),
    )


def fusion_gain(result: RunResult, match_m: float = 10e3, hold_s: float = 2.0) -> records.FusionFigures:
    """Fused against each partner, like for like: position RMSE [m] at the partner's own reports.

    Each report the observer accepted is paired with the fused state of its system at the same
    instant (``result.fusion_pairs``); both are scored against the truth object nearest to the
    report (within ``match_m``), and only where two or more partners report that object within
    ±``hold_s`` — where fusion has something to combine.  The fused states' NEES (6 degrees of
    freedom, against the object each is statistically nearest to: :func:`metrics.nearest_nees`):
    ``fused_nees_median`` (5.35 when consistent, below when conservative) and ``fused_region_95_coverage``,
    the share whose 95 % region holds the truth.  The Monte Carlo version over several seeds and per
    phase is ``benchmarks/fusion_gain.py`` ([docs/fusion.md]).
    """
    pairs = result.fusion_pairs
    if not pairs:
        return records.FusionFigures()
    objects = [o for launch in result.truth for o in launch.objects]
    t = np.array([p[0] for p in pairs])
    x = np.array([p[2] for p in pairs])
    truth = np.stack([o.states_at(t) for o in objects])  # (objects, n, 6), NaN out of flight
    d = np.linalg.norm(truth[:, :, :3] - x[None, :, :3], axis=2)
    d = np.where(np.isfinite(d), d, np.inf)
    nearest = np.argmin(d, axis=0)
    matched = d[nearest, np.arange(len(t))] <= match_m
    senders = np.array([p[1] for p in pairs])
    out: dict[str, list[tuple[float, float, float]]] = {}
    for k in np.flatnonzero(matched):
        same = matched & (nearest == nearest[k]) & (np.abs(t - t[k]) <= hold_s)
        if len(set(senders[same])) < 2:
            continue
        true_state = truth[nearest[k], k]
        e_partner = x[k, :3] - true_state[:3]
        e_fused = pairs[k][3] - true_state
        score = float(metrics.nearest_nees(pairs[k][3][None], pairs[k][4][None], truth[:, k : k + 1])[0][0])
        out.setdefault(str(senders[k]), []).append((e_partner @ e_partner, e_fused[:3] @ e_fused[:3], score))
    if not out:
        return records.FusionFigures()
    per_partner = {
        p: records.FusionPartner(
            reports=len(v),
            partner_rmse_m=rounded(math.sqrt(np.mean([a for a, _, _ in v])), 1),
            fused_rmse_m=rounded(math.sqrt(np.mean([b for _, b, _ in v])), 1),
        )
        for p, v in sorted(out.items())
    }
    nees = np.array([c for v in out.values() for _, _, c in v])
    nees = nees[np.isfinite(nees)]
    return records.FusionFigures(
        per_partner=per_partner,
        fused_nees_median=rounded(float(np.median(nees)), 2),
        fused_region_95_coverage=rounded(float(np.mean(nees <= CHI2_6_95)), 4),
    )


def tracking_metrics(result: RunResult, step_s: float = 5.0) -> dict[str, records.TrackingFigures]:
    """Per partner (and ``fused``): SIAP, GOSPA and NEES of the published tracks against the truth objects.

    Frames every ``step_s`` seconds from the first launch to the last impact
    (see :func:`mwx.exercise.replay.frames`); GOSPA with c = 10 km, p = α = 2;
    NEES over position and velocity of each published state against the truth
    object it is statistically nearest to (:func:`mwx.exercise.metrics.nearest_nees`: a track may
    hold several pieces of a missile as one, so its identity is not judged here), and the share of
    states whose 95 % region holds that object.  The truth is every object a radar can see: a fragment too
    small for any (:attr:`mwx.sim.truth.TruthObject.visible`) is left out, lest it count as never tracked.
    """
    objects = [o for launch in result.truth for o in launch.objects if o.visible]
    t0 = min(launch.launch_time for launch in result.truth)
    t1 = max(launch.impact_time for launch in result.truth)
    times = np.arange(t0, t1, step_s)
    by_partner: dict[str, list] = {}
    for row in result.log.rows:
        by_partner.setdefault(row[1], []).append(row)
    out = {}
    for partner, rows in by_partner.items():
        numbers = {tid: k for k, tid in enumerate(sorted({r[2] for r in rows}))}
        record = ReplayRecord(
            np.array([r[0] for r in rows]),
            np.array([numbers[r[2]] for r in rows], np.int64),
            np.array([r[3] for r in rows]),
            np.array([r[4] for r in rows]),
            np.array([r[5] for r in rows], bool),
            0,
            0.0,
        )
        fr = frames(record, objects, times)
        siap = metrics.siap(fr)
        gospa = metrics.gospa_series([f.truth_xyz for f in fr], [f.track_xyz for f in fr])
        # NEES of published states against the object each is statistically nearest to (metrics.nearest_nees).
        truth = np.stack([o.states_at(record.time) for o in objects])
        nees = metrics.nearest_nees(record.x, record.P, truth)[0]
        nees = nees[np.isfinite(nees)]
        out[partner] = records.TrackingFigures(
            completeness=rounded(siap.completeness, 4),
            ambiguity=rounded(siap.ambiguity, 4),
            spuriousness=rounded(siap.spuriousness, 4),
            position_accuracy_m=rounded(siap.position_accuracy, 1),
            max_track_number_changes=max(siap.track_number_changes.values(), default=0),
            gospa_rms_m=rounded(gospa.rms_distance, 1),
            nees_median=rounded(float(np.median(nees)), 3) if nees.size else None,
            # Share of states whose 95 % region (position and velocity) holds the truth: 0.95 when consistent.
            region_95_coverage=rounded(float(np.mean(nees <= CHI2_6_95)), 4) if nees.size else None,
        )
    return out
