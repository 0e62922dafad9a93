"""Write a run's results to the run folder, in the shapes of ``docs/run-folder.md``."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import shapely
from pyproj import Geod

from mwx.assess.events import GROUPED_ONE_MISSILE, classify, equivalent_range_km
from mwx.exercise import metrics
from mwx.exercise.replay import ReplayRecord, frames
from mwx.exercise.run import FUSED, RunResult
from mwx.geo import regions, wgs84
from mwx.sim.truth import TruthLaunch, TruthObject
from mwx.warn.alerts import cap_changes, threats
from mwx.warn.areas import MARGIN_KM, distance_km
from mwx.warn.cap import write_cap

_GEOD = Geod(ellps="WGS84")
TRACKS_COLUMNS = [
    "time",
    "partner",
    "track_id",
    "x",
    "y",
    "z",
    "vx",
    "vy",
    "vz",
    "var_x",
    "var_y",
    "var_z",
    "var_vx",
    "var_vy",
    "var_vz",
]
MATCH_KM = 100.0  # a track is matched to the truth object within this distance
#: An alert for an area that no object of its launch entered is false only when they all stayed farther
#: than this [km]: nearer is within the alert areas' granularity (:data:`mwx.warn.areas.MARGIN_KM`, which
#: also holds the error of the territories' outlines), a near miss that is neither false nor needed.
NEAR_MISS_KM = MARGIN_KM
CHI2_6_95 = 12.591587243743977  # χ²(6) 95 % point: a state's 95 % region in position and velocity


def iso(t: float | None) -> str | None:
    """ISO 8601 UTC with milliseconds and a Z, or None."""
    if t is None or not math.isfinite(t):
        return None
    return datetime.fromtimestamp(round(t, 3), UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _r(value: float, digits: int = 3) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), digits)


def _point(lat: float, lon: float) -> dict:
    return {"lat": round(lat, 5), "lon": round((lon + 180.0) % 360.0 - 180.0, 5)}


def truth_json(result: RunResult) -> dict:
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
            {
                "id": m.id,
                "launch_time": iso(m.launch_time),
                "launch_point": _point(math.degrees(traj.site[0]), math.degrees(traj.site[1])),
                "azimuth_deg": round(az % 360.0, 3),
                "apogee_km": round(traj.apogee_alt / 1e3, 3),
                "range_km": round(traj.range_m / 1e3, 3),
                "flight_time_s": round(traj.impact_t, 3),
                "burnout_time": iso(m.launch_time + traj.burnout_t),
                "impact_time": iso(m.launch_time + traj.impact_t),
                "impact_point": _point(math.degrees(traj.impact_lat), math.degrees(traj.impact_lon)),
                "max_speed_mps": round(traj.max_speed, 3),
                "equivalent_range_km": round(_true_equivalent_range_km(launch), 3),
                "class": _true_class(launch),
                "objects": [
                    {
                        "id": obj.id,
                        "kind": obj.kind,
                        "rcs_m2": obj.rcs_m2,
                        "trajectory": np.round(np.column_stack([obj.t, obj.ecef]), 3).tolist(),
                    }
                    for obj in launch.objects
                ],
            }
        )
    biases = {
        sensor_id: {
            "range_m": round(float(b[0]), 3),
            "azimuth_mrad": round(float(b[1]) * 1e3, 4),
            "elevation_mrad": round(float(b[2]) * 1e3, 4),
        }
        for sensor_id, b in result.biases.items()
    }
    return {
        "scenario": result.scenario.name,
        "seed": result.scenario.seed,
        "launches": launches,
        "sensor_biases": biases,
    }


def _object_of(result: RunResult, t: float, x: np.ndarray) -> tuple[str, TruthObject] | None:
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


def _truth_of(result: RunResult, t: float, x: np.ndarray) -> str | None:
    """The truth launch whose object is nearest to state ``x`` at ``t``, within MATCH_KM."""
    found = _object_of(result, t, x)
    return found[0] if found else None


def ground_point(obj: TruthObject) -> tuple[float, float]:
    """Where an object's flight ends: (lat, lon) [deg] of its last sample, on the ground."""
    lat, lon, _ = wgs84.ecef_to_geodetic(obj.ecef[-1, :3])
    return math.degrees(float(lat)), math.degrees(float(lon))


def _alert_truth(result: RunResult, histories, partner: str, launch_id: str) -> str | None:
    """The truth launch of a partner's launch (threat): the one most of its objects' tracks began on."""
    node = result.nodes[partner]
    launch = node.launches.launches.get(launch_id)
    if launch is None:
        return None
    votes: dict[str, int] = {}
    for system_id in launch.systems:
        system = node.fusion.systems.get(system_id)
        for sender, track_id in system.members if system is not None else ():
            h = histories.get((sender, track_id))
            if h is not None and (found := _truth_of(result, float(h.t[0]), h.x[0])):
                votes[found] = votes.get(found, 0) + 1
    return max(sorted(votes), key=lambda k: votes[k]) if votes else None


def _first_warning(result: RunResult, partner: str, track_id: str) -> float | None:
    """Earliest alert issue time for the launch behind one event's track."""
    if partner == FUSED:
        system = result.observer.systems[track_id]
        members = list(system.members)
        nodes = list(result.nodes.values())
    else:
        members = [(partner, track_id)]
        nodes = [result.nodes[partner]]
    times = []
    for node in nodes:
        launch_ids = {node.launches.of(node.fusion.system_of(s, t) or "") for s, t in members} - {None}
        for alert in node.alerts.alerts.values():
            if alert.launch_id in launch_ids:
                times.append(alert.history[0]["time"])
    return min(times) if times else None


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
    """An event (or one of its updates) in run-folder form: ISO times, rounded figures, wrapped longitudes."""
    e = dict(e)
    for key in _TIMES:
        if key in e:
            e[key] = iso(e[key])
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
            {**o, "enter": iso(o["enter"]), "leave": iso(o["leave"]), **_point(o["lat"], o["lon"]),
             "probability": _r(o["probability"])}
            for o in e["overflights"]
        ]  # fmt: skip
    return e


def events_json(result: RunResult) -> dict:
    histories = result.log.histories()
    out = []
    for event in result.events:
        h = histories[(event["partner"], event["event_id"])]
        e = _event_fields(event)
        e["truth_id"] = _truth_of(result, float(h.t[0]), h.x[0])
        # The object its estimates are of: the one its reported track follows at its end (the re-entry body,
        # or a stage where that is all the partner held).  Not the one nearest at each update: before a
        # radar resolves the pieces the track follows their centroid, near the bright stage, and keeps the
        # weaker echo (the body) when they part (mwx.track.tracker: identity at separation).
        end = _object_of(result, float(h.t[-1]), h.x[-1])
        e["truth_object"] = end[1].id if end else None
        # Evaluation: the truth launch each of its tracks began on (a launch grouped into another's event).
        e["track_truth_ids"] = {
            k: _truth_of(result, float(histories[(event["partner"], k)].t[0]), histories[(event["partner"], k)].x[0])
            for k in event["track_ids"]
        }
        e["first_warning"] = iso(
            min(
                (w for w in (_first_warning(result, event["partner"], k) for k in event["track_ids"]) if w is not None),
                default=None,
            )
        )
        e["updates"] = [_event_fields(u) for u in event["updates"]]
        out.append({k: e[k] for k in EVENT_FIELDS})
    order = {p: i for i, p in enumerate(result.nodes)} | {FUSED: len(result.nodes)}
    out.sort(key=lambda e: (e["truth_id"] or "~", order.get(e["partner"], 99), e["event_id"]))
    return {"events": out}


def alerts_json(result: RunResult) -> dict:
    histories = result.log.histories()
    out = []
    for node in result.nodes.values():
        for alert in node.alerts.alerts.values():
            out.append(
                {
                    "alert_id": alert.alert_id,
                    "partner": alert.partner,
                    "area": {"partner": alert.area.partner, "kind": alert.area.kind, "name": alert.area.name},
                    "reason": alert.reason,
                    "launch_id": alert.launch_id,
                    "track_id": alert.track_id,
                    "level_changes": alert.level_changes(),
                    "truth_id": _alert_truth(result, histories, node.partner, alert.launch_id),
                    "history": [
                        {
                            "time": iso(h["time"]),
                            "status": h["status"],
                            "why": h["why"],
                            **({"level": h["level"], "reason": h["reason"]} if "level" in h else {}),
                            **(
                                {
                                    "impact_point": _point(h["impact_point"]["lat"], h["impact_point"]["lon"]),
                                    "impact_time": iso(h["impact_time"]),
                                    "crossing_time": iso(h["crossing_time"]),
                                }
                                if "impact_point" in h
                                else {}
                            ),
                        }
                        for h in alert.history
                    ],
                }
            )
    out.sort(key=lambda a: (a["history"][0]["time"], a["alert_id"]))
    return {"alerts": out}


def truth_threats(launch: TruthLaunch, areas, *, every_object: bool = False) -> set[tuple[str, str, str]]:
    """(partner, area name, reason) that the true flight threatened: its warhead-bearing body's, or every object's."""
    return set(truth_threat_times(launch, areas, every_object=every_object))


def truth_threat_times(launch: TruthLaunch, areas, *, every_object: bool = False) -> dict[tuple[str, str, str], float]:
    """(partner, area name, reason) the true flight threatened → when [Unix s]: entering the area, or impact.

    The warhead-bearing body's threats (what must be warned), or with ``every_object`` also its spent
    stages' (what may be warned).
    """
    out: dict[tuple[str, str, str], float] = {}
    for obj in launch.objects if every_object else launch.objects[:1]:
        for t in threats(areas, obj.t, *obj.ground_track(), float(obj.t[-1])):
            key = (t.area.partner, t.area.name, t.reason)
            out[key] = min(out.get(key, math.inf), t.crossing_time or t.impact_time)
    return out


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


def judge_alerts(truth: list[TruthLaunch], areas, alerts: list[dict]) -> AlertVerdicts:
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
        key = (a["truth_id"], a["area"]["partner"], a["area"]["name"])
        per_area[key] = per_area.get(key, 0) + 1
    alerted = set(per_area)
    truth_of = {launch.missile.id: launch for launch in truth}
    area_of = {(area.partner, area.name): area.geometry for area in areas}
    # An alert of a launch that follows no true one (clutter) is false wherever it is.
    closest = {
        a: _closest_km(truth_of[a[0]], area_of[a[1:]]) if a[0] in truth_of else math.inf for a in alerted - any_object
    }
    return AlertVerdicts(
        threatened=frozenset(threatened),
        missed=frozenset(t for t in threatened if t[:3] not in alerted),
        false=frozenset(a for a, km in closest.items() if km > NEAR_MISS_KM),
        near_misses={a: km for a, km in closest.items() if km <= NEAR_MISS_KM},
        alerts_per_area=per_area,
    )


def _closest_km(launch: TruthLaunch, area) -> float:
    """How near [km] any object of the true flight came to ``area`` (lon/lat deg) over the ground."""
    nearest = math.inf
    for obj in launch.objects:
        lat, lon = obj.ground_track()
        path = shapely.LineString(np.column_stack([np.unwrap(lon, period=360.0), lat]))
        nearest = min(nearest, distance_km(path, area))
    return nearest


def _coverage(reports: list[dict], key: str) -> dict:
    """How many reports and updates state a region (``key``) and the share whose region held the truth."""
    checks = [u[key] for u in reports if key in u]
    return {"reports": len(checks), "inside": _r(float(np.mean(checks)) if checks else math.nan)}


def _undetected(truth_id: str, partner: str, events: list[dict]) -> dict:
    """A partner without an event of its own for a launch: the event that holds its tracks, if any, and why."""
    for e in events:
        if e["partner"] != partner or e["truth_id"] == truth_id:
            continue
        tracks = [k for k, t in e["track_truth_ids"].items() if t == truth_id]
        if tracks:
            return {
                "detected": True,
                "grouped_with": e["truth_id"],
                "event_id": e["event_id"],
                "why": sorted({e["grouped"].get(k, GROUPED_ONE_MISSILE) for k in tracks}),
            }
    return {"detected": False}


def threatened_areas_json(launch: TruthLaunch, areas, alerts: list[dict]) -> list[dict]:
    """Per area the true flight threatened (the warhead-bearing body): whether it was warned, when, how long
    before the true event, by how many alerts and with how many changes each."""
    out = []
    for (partner, name, reason), event_time in sorted(truth_threat_times(launch, areas).items()):
        mine = [a for a in alerts if a["truth_id"] == launch.missile.id and (a["area"]["partner"], a["area"]["name"])
                == (partner, name)]  # fmt: skip
        issued = [datetime.fromisoformat(a["history"][0]["time"]).timestamp() for a in mine]
        first = min(issued, default=None)
        out.append(
            {
                "partner": partner,
                "area": name,
                "reason": reason,
                "warned": bool(mine),
                "first_warning_after_launch_s": _r(first - launch.launch_time) if first is not None else None,
                "lead_s": _r(event_time - first) if first is not None else None,
                "alerts": [a["alert_id"] for a in mine],
                "changes_per_alert": [len(a["history"]) for a in mine],
                "level_changes_per_alert": [a["level_changes"] for a in mine],
            }
        )
    return out


def warning_timeliness(launch: TruthLaunch, areas, alerts: list[dict]) -> list[dict]:
    """Per alert of this launch: when it was first issued after launch and how long before the true event.

    The event is the true object entering the alerted area (overflight) or striking it (impact);
    ``lead_s`` is the time from the first issue to it (negative: the alert came late), None for
    an alert whose area the truth did not threaten (a false alert).
    """
    events = truth_threat_times(launch, areas)
    out = []
    for a in alerts:
        if a["truth_id"] != launch.missile.id:
            continue
        issued = [h for h in a["history"] if h["status"] == "issued"]
        first = datetime.fromisoformat(issued[0]["time"]).timestamp() if issued else None
        event = events.get((a["area"]["partner"], a["area"]["name"], a["reason"]))
        if event is None:  # an overflight alert for an area the missile struck counts, and the reverse
            event = next((t for (p, n, _), t in events.items() if (p, n) == (a["area"]["partner"], a["area"]["name"])),
                         None)  # fmt: skip
        out.append(
            {
                "alert_id": a["alert_id"],
                "partner": a["partner"],
                "area": a["area"]["name"],
                "reason": a["reason"],
                "issued_after_launch_s": _r(first - launch.launch_time) if first is not None else None,
                "true_event_after_launch_s": _r(event - launch.launch_time) if event is not None else None,
                "lead_s": _r(event - first) if event is not None and first is not None else None,
                "changes": len(a["history"]),
                "statuses": [h["status"] for h in a["history"]],
            }
        )
    return out


def ellipse_miss(report: dict, truth: tuple[float, float], which: str = "impact") -> float:
    """How far the truth point (lat, lon degrees) lies from a report's ``which`` (impact, launch) point, in
    units of its 95 % ellipse: (along / a)² + (across / b)², at most 1 inside (χ²(2) / 5.99 if calibrated)."""
    point, ellipse = report[f"{which}_point"], report[f"{which}_ellipse_95"]
    azimuth, _, dist = _GEOD.inv(point["lon"], point["lat"], truth[1], truth[0])
    # Offset along and across the major axis (azimuth in degrees from north).
    angle = math.radians(azimuth - ellipse["orientation_deg"])
    along, across = dist * math.cos(angle), dist * math.sin(angle)
    a, b = max(ellipse["semi_major_km"] * 1e3, 1e-3), max(ellipse["semi_minor_km"] * 1e3, 1e-3)
    return float((along / a) ** 2 + (across / b) ** 2)


def _inside_ellipse(report: dict, truth: tuple[float, float], which: str = "impact") -> bool:
    """Whether the truth point (lat, lon degrees) lies inside a report's 95 % ``which`` (impact, launch) ellipse."""
    return ellipse_miss(report, truth, which) <= 1.0


def metrics_json(result: RunResult, events: dict, alerts: dict) -> dict:
    areas = regions.load_areas(result.scenario.theater)
    launches = []
    for launch in result.truth:
        traj, m = launch.trajectory, launch.missile
        true_launch = (math.degrees(traj.site[0]), math.degrees(traj.site[1]))
        true_impact = (math.degrees(traj.impact_lat), math.degrees(traj.impact_lon))
        per_partner = {}
        mine = [e for e in events["events"] if e["truth_id"] == m.id]
        earliest = {}
        for e in mine:
            earliest[e["partner"]] = min(earliest.get(e["partner"], e["first_detection"]), e["first_detection"])
        # Per partner, the event estimated last: the partner's final picture of the launch
        # (a launch whose track broke has several; the tracking issue keeps one).
        for e in sorted(mine, key=lambda e: e["estimated_at"], reverse=True):
            if e["partner"] in per_partner:
                continue
            e = {**e, "first_detection": earliest[e["partner"]]}

            def km(a: tuple[float, float], b: dict) -> float:
                return _GEOD.inv(a[1], a[0], b["lon"], b["lat"])[2] / 1e3

            first_detection = datetime.fromisoformat(e["first_detection"]).timestamp() - m.launch_time
            first_warning = (
                datetime.fromisoformat(e["first_warning"]).timestamp() - m.launch_time if e["first_warning"] else None
            )
            true_eq = _true_class(launch)
            # A region is judged against the truth of what it estimates: the impact point of the object
            # the report's track followed (a stage's, where the partner held only the stage).
            ends = {o.id: ground_point(o) for o in launch.objects}
            per_partner[e["partner"]] = {
                "first_detection_s": _r(first_detection),
                "first_warning_s": _r(first_warning) if first_warning is not None else None,
                "impact_error_km": _r(km(true_impact, e["impact_point"])),
                "apogee_error_km": _r(e["apogee_km"] - traj.apogee_alt / 1e3),
                "range_error_km": _r(e["range_km"] - traj.range_m / 1e3),
                "launch_point_error_km": _r(km(true_launch, e["launch_point"])),
                "launch_time_error_s": _r(datetime.fromisoformat(e["launch_time"]).timestamp() - m.launch_time),
                "class_correct": e["class"] == true_eq,
                "lofted": e["lofted"],
                "number_of_objects": e["number_of_objects"],
                "true_number_of_objects": len(launch.objects),
                "reported_object": e["truth_object"],
                "inside_ellipse_95": _inside_ellipse(e, ends.get(e["truth_object"], true_impact)),
                "inside_launch_ellipse_95": _inside_ellipse(e, true_launch, "launch"),
                "over_time": [
                    {
                        "after_first_detection_s": _r(datetime.fromisoformat(u["time"]).timestamp()
                                                      - datetime.fromisoformat(e["first_detection"]).timestamp()),
                        "impact_error_km": _r(km(true_impact, u["impact_point"])),
                        "launch_point_error_km": _r(km(true_launch, u["launch_point"])),
                        "apogee_error_km": _r(u["apogee_km"] - traj.apogee_alt / 1e3),
                        "range_error_km": _r(u["range_km"] - traj.range_m / 1e3),
                        "class_correct": u["class"] == true_eq,
                        "inside_ellipse_95": _inside_ellipse(u, ends.get(e["truth_object"], true_impact)),
                        "inside_launch_ellipse_95": _inside_ellipse(u, true_launch, "launch"),
                    }
                    for u in e["updates"]
                ],
            }  # fmt: skip
        for figures in per_partner.values():
            warned, detected = figures["first_warning_s"], figures["first_detection_s"]
            figures["first_warning_after_detection_s"] = (
                _r(warned - detected) if warned is not None and detected is not None else None
            )
        for partner in [*result.nodes, FUSED]:
            if partner not in per_partner:
                per_partner[partner] = _undetected(m.id, partner, events["events"])
        warnings = warning_timeliness(launch, areas, alerts["alerts"])
        launches.append(
            {
                "truth_id": m.id,
                "class": _true_class(launch),
                "per_partner": per_partner,
                "warnings": warnings,
                "alert_changes": sum(w["changes"] for w in warnings),
                "threatened_areas": threatened_areas_json(launch, areas, alerts["alerts"]),
            }
        )
    # Share of all reports and updates (every partner, every launch) whose 95 % ellipse held the truth.
    reports = [u for launch in launches for p in launch["per_partner"].values() for u in p.get("over_time", [])]
    judged = judge_alerts(result.truth, areas, alerts["alerts"])
    return {
        "launches": launches,
        "ellipse_95_coverage": _coverage(reports, "inside_ellipse_95"),
        "launch_ellipse_95_coverage": _coverage(reports, "inside_launch_ellipse_95"),
        "alerts": {
            "issued": len(alerts["alerts"]),
            "false": len(judged.false),
            "missed": len(judged.missed),
            # Alerts for an area no object of the launch entered but passed within NEAR_MISS_KM of: the
            # alert areas' own granularity (and that of the territories' outlines), so neither false nor
            # needed.  Each with how near it came [km].
            "near_misses": sorted([[*a, _r(km)] for a, km in judged.near_misses.items()]),
            "threatened": sorted([list(t) for t in judged.threatened]),
            # What a reviewer asks first: one alert per threatened area per threat, few changes, no flip-flop.
            "most_alerts_per_threat_and_area": max(judged.alerts_per_area.values(), default=0),
            # ... counting only the areas the launch's warhead-bearing body threatened (the bar; an
            # area it only passed near may have been warned, withdrawn and warned again).
            "most_alerts_per_threatened_area": judged.most_alerts_per_threatened_area(),
            "most_changes_per_alert": max((len(a["history"]) for a in alerts["alerts"]), default=0),
            "most_level_changes_per_alert": max((a["level_changes"] for a in alerts["alerts"]), default=0),
        },
        "tracking": tracking_metrics(result),
        "fusion": fusion_gain(result),
        # Per endpoint: envelopes sealed and sent, accepted, refused by reason (never reaching fusion).
        # In process every envelope arrives when it is sent; over NATS (``transport``) the node adds
        # what JetStream acknowledged, retries, gap repairs and latency from publish to verified delivery.
        "exchange": {
            p: {
                **e.counters.as_dict(),
                "rejections_journalled": len(e.rejections),
                "withheld": e.withheld,
                # Sequence numbers still missing below each sender's highest (unrepaired losses).
                **({"gaps_open": _gaps_open(e.guard)} if hasattr(e, "guard") else {}),
                **({"transport": e.nats_figures} if hasattr(e, "nats_figures") else {}),
            }
            for p, e in result.exchanges.items()
        },
        "run": {
            "wall_time_s": _r(result.wall_time_s, 2),
            "measurements": len(result.measurements),
            "track_reports": result.bus.sent,
            "bus_bytes": result.bus.bytes,
            "lost_by_link_injects": getattr(result.bus, "lost", 0),
            "held_by_link_injects": getattr(result.bus, "held", 0),
        },
    }


def fusion_gain(result: RunResult, match_m: float = 10e3, hold_s: float = 2.0) -> dict:
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
        return {}
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
        nees = float(metrics.nearest_nees(pairs[k][3][None], pairs[k][4][None], truth[:, k : k + 1])[0][0])
        out.setdefault(str(senders[k]), []).append((e_partner @ e_partner, e_fused[:3] @ e_fused[:3], nees))
    if not out:
        return {}
    per_partner = {
        p: {
            "reports": len(v),
            "partner_rmse_m": _r(math.sqrt(np.mean([a for a, _, _ in v])), 1),
            "fused_rmse_m": _r(math.sqrt(np.mean([b for _, b, _ in v])), 1),
        }
        for p, v in sorted(out.items())
    }
    nees = np.array([c for v in out.values() for _, _, c in v])
    nees = nees[np.isfinite(nees)]
    return {
        "per_partner": per_partner,
        "fused_nees_median": _r(float(np.median(nees)), 2),
        "fused_region_95_coverage": _r(float(np.mean(nees <= CHI2_6_95)), 4),
    }


def _gaps_open(guard) -> int:
    """Envelopes missing below each sender's highest accepted sequence number, summed over senders."""
    return sum(len(guard.missing(sender, 1_000_000)) for sender in guard.senders())


def tracking_metrics(result: RunResult, step_s: float = 5.0) -> dict:
    """Per partner (and ``fused``): SIAP, GOSPA and NEES of the published tracks against the truth objects.

    Frames every ``step_s`` seconds from the first launch to the last impact
    (see :func:`mwx.exercise.replay.frames`); GOSPA with c = 10 km, p = α = 2;
    NEES over position and velocity of each published state against the truth
    object it is statistically nearest to (:func:`mwx.exercise.metrics.nearest_nees`: a track may
    hold several pieces of a missile as one, so its identity is not judged here), and the share of
    states whose 95 % region holds that object.
    """
    objects = [o for launch in result.truth for o in launch.objects]
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
        out[partner] = {
            "completeness": _r(siap.completeness, 4),
            "ambiguity": _r(siap.ambiguity, 4),
            "spuriousness": _r(siap.spuriousness, 4),
            "position_accuracy_m": _r(siap.position_accuracy, 1),
            "max_track_number_changes": max(siap.track_number_changes.values(), default=0),
            "gospa_rms_m": _r(gospa.rms_distance, 1),
            "nees_median": _r(float(np.median(nees)), 3) if nees.size else None,
            # Share of states whose 95 % region (position and velocity) holds the truth: 0.95 when consistent.
            "region_95_coverage": _r(float(np.mean(nees <= CHI2_6_95)), 4) if nees.size else None,
        }
    return out


def _true_equivalent_range_km(launch: TruthLaunch) -> float:
    """Minimum-energy range [km] with the true burnout energy of the warhead-bearing object."""
    obj = launch.objects[0]
    burnout = int(np.searchsorted(obj.t, launch.launch_time + launch.trajectory.burnout_t))
    return equivalent_range_km(obj.ecef[min(burnout + 1, len(obj.t) - 1)])


def _true_class(launch: TruthLaunch) -> str:
    return classify(_true_equivalent_range_km(launch))


MEASUREMENT_COLUMNS = [
    "sensor",
    "partner",
    "kind",
    "object",
    "time_taken",
    "time_received",
    "range_m",
    "azimuth_rad",
    "elevation_rad",
    "range_rate_mps",
    "alpha_rad",
    "beta_rad",
    "sigma_range_m",
    "sigma_azimuth_rad",
    "sigma_elevation_rad",
    "sigma_range_rate_mps",
    "sigma_angle_rad",
    "snr_db",
    "false_alarm",
]


def write_measurements(result: RunResult, path: Path) -> None:
    """``measurements.csv``: one row per report, empty cells where a sensor does not measure a value."""
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


def _dump(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def write_run(result: RunResult, out: Path) -> dict[str, Path]:
    """Write every run-folder file; return their paths by name."""
    out.mkdir(parents=True, exist_ok=True)
    events = events_json(result)
    alerts = alerts_json(result)
    files = {
        name: out / name
        for name in ("truth.json", "events.json", "alerts.json", "tracks.csv", "measurements.csv", "metrics.json")
    }
    _dump(files["truth.json"], truth_json(result))
    _dump(files["events.json"], events)
    _dump(files["alerts.json"], alerts)
    with files["tracks.csv"].open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(TRACKS_COLUMNS)
        for row in result.log.rows:
            w.writerow(
                [f"{row.time:.3f}", row.partner, row.track_id, *(f"{v:.3f}" for v in row.x),
                 *(f"{v:.6g}" for v in np.diag(row.P))]
            )  # fmt: skip
    write_measurements(result, files["measurements.csv"])
    _dump(files["metrics.json"], metrics_json(result, events, alerts))
    # Civil alert output: one CAP 1.2 document per alert change, each with its change's own area.
    cap_dir = out / "cap"
    if cap_dir.exists():
        for old in cap_dir.glob("*.xml"):
            old.unlink()
    changes = [c for node in result.nodes.values() for a in node.alerts.alerts.values() for c in cap_changes(a)]
    write_cap(cap_dir, changes)
    files["cap"] = cap_dir
    return files
