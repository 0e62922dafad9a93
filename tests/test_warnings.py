"""Warnings end to end on a test set of flights in the default theater, checked against the truth.

The set (``tests/data/scenarios/warn-*.yaml``): the 4 October 2022 IRBM over Aomori, a Nodong-like
flight into Japan's EEZ, a flight that falls outside every partner's EEZ, short-range missiles
towards South Korea's waters, the Nodong-like flight again with its track lost midway, a
Hwasong-18-like lofted ICBM (75 min of flight, out of every radar's view for most of it), a flight
towards Guam over South Korea and Japan, and six short-range missiles from one site 10 s apart.
Each scenario runs once (``mwx.exercise.run.run_scenario``); the expected threats come from the true
flights (:func:`mwx.exercise.evaluation.truth_threats`, :func:`mwx.warn.alerts.threats` on each
object's true path), never from the predictions under test, and that oracle is itself checked
against what each scenario was built to threaten.

Checks: no threatened area missed; no false alert; exactly one alert per threatened area per
threat (launch); at most two level changes per alert; every alert's final area within 100 km of
the final 95 % ellipse (impact) or of the true ground path (overflight); a lost track says
"track-lost"; the lifecycle is ordered and every change makes a valid exchange message and CAP 1.2
document; Japan's overflight warning for Aomori goes out at least 3 minutes before the missile
crosses the coast.  ``pytest -s`` prints the figures.
"""

from __future__ import annotations

import functools
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from lxml import etree
from pyproj import Geod

from mwx import records
from mwx.exchange import messages
from mwx.exercise.evaluation import judge_alerts, truth_threats
from mwx.exercise.outputs import events_json
from mwx.exercise.run import RunResult, run_scenario
from mwx.geo import regions, wgs84
from mwx.sim.flight import FlightBrief
from mwx.sim.scenario import Missile, parse_scenario
from mwx.sim.truth import TruthLaunch, TruthObject
from mwx.warn import cap
from mwx.warn.alerts import UPDATE_AREA_SHRINK, Alert, alert_message, cap_changes, threats
from mwx.warn.areas import MARGIN_KM, distance_beyond_km, ellipse_polygon

pytestmark = pytest.mark.slow

SCENARIOS = Path(__file__).parent / "data" / "scenarios"
XSD = Path(__file__).parent / "data" / "cap" / "CAP-v1.2.xsd"
TEST_SET = (
    "warn-overflight", "warn-jp-eez", "warn-no-eez", "warn-srbm-kr", "warn-track-lost",
    "warn-hwasong18", "warn-guam", "warn-salvo", "warn-boost-srbm",
)  # fmt: skip
#: What each scenario was built to threaten, by geography (partner, area kind, reason), for every launch:
#: the oracle must find it, or the tests against it prove nothing.
BUILT_FOR = {
    "warn-overflight": {("JP", "territory", "overflight")},
    "warn-jp-eez": {("JP", "eez", "impact")},
    "warn-no-eez": set(),
    "warn-srbm-kr": {("KR", "eez", "impact")},
    "warn-track-lost": {("JP", "eez", "impact")},
    "warn-hwasong18": {("JP", "eez", "impact")},  # 250 km west of Hokkaido
    "warn-guam": {("KR", "territory", "overflight"), ("JP", "territory", "overflight"), ("US", "eez", "impact")},
    "warn-salvo": {("KR", "eez", "impact")},
    "warn-boost-srbm": {("JP", "eez", "impact")},
}
GEOD = Geod(ellps="WGS84")
BEYOND_KM = 100.0  # the bound on how far an alert area may reach beyond what justifies it
LEAD_S = 180.0  # the bound on the overflight warning's lead before the coast crossing
LEVEL_CHANGES = 2  # the bound on level changes per alert (no flip-flop)


@functools.cache
def run(name: str) -> RunResult:
    return run_scenario(parse_scenario((SCENARIOS / f"{name}.yaml").read_text()))


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


# ----------------------------------------------------------------- truth
def ground_track(obj) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times [Unix s] and geodetic lat, lon [deg] of a true object's path."""
    return obj.t, *obj.ground_track()


def all_alerts(result: RunResult) -> list[Alert]:
    return [a for partner in result.partners for a in result.pictures[partner].alerts]


def launch_of(result: RunResult, alert: Alert) -> str:
    """The truth launch of an alert: the one whose objects its system tracks followed.

    Each partner track in the systems that ever gave the alert its prediction (``track_id`` of its
    entries) votes with the truth object nearest to its first published state: the members of a salvo
    fly one path seconds apart, too close in place and time to tell by where they fall.
    """
    picture = result.pictures[alert.partner]
    histories = result.log.histories()
    votes: dict[str, int] = {}
    for system_id in {e["track_id"] for e in alert.history}:
        for key in picture.systems[system_id].members:
            h = histories[key]
            t = float(h.t[0])
            nearest = min(
                ((float(np.linalg.norm(o.states_at(np.array([t]))[0, :3] - h.x[0, :3])), launch.missile.id)
                 for launch in result.truth for o in launch.objects if o.t[0] <= t <= o.t[-1]),
                default=(math.inf, ""),
            )  # fmt: skip
            votes[nearest[1]] = votes.get(nearest[1], 0) + 1
    return max(sorted(votes), key=lambda k: votes[k])


def threatened(result: RunResult, *, every_object: bool = False) -> set[tuple[str, str, str, str]]:
    """(launch, partner, area name, reason) the true flights threatened: the warhead's, or every object's."""
    areas = regions.load_areas(result.scenario.theater)
    out = set()
    for launch in result.truth:
        out |= {(launch.missile.id, *t) for t in truth_threats(launch, areas)}
        if every_object:
            for obj in launch.objects:
                t, lat, lon = ground_track(obj)
                out |= {
                    (launch.missile.id, x.area.partner, x.area.name, x.reason)
                    for x in threats(areas, t, lat, lon, t[-1])
                }
    return out


def alerted(result: RunResult) -> set[tuple[str, str, str, str]]:
    """(launch, partner, area name, reason) of every alert, for each reason it stood for in its life."""
    out = set()
    for a in all_alerts(result):
        for reason in {e["reason"] for e in a.history if "reason" in e}:
            out.add((launch_of(result, a), a.partner, a.area.name, reason))
    return out


def final_area(alert: Alert):
    return next(e["area_geometry"] for e in reversed(alert.history) if e.get("area_geometry") is not None)


def final_ellipse_polygon(result: RunResult, alert: Alert):
    """The 95 % ellipse of the alert's track's last prediction (lon/lat polygon)."""
    e = result.pictures[alert.partner].predictions[alert.track_id]["ellipse"]
    return ellipse_polygon(e["lat"], e["lon"], e["semi_major_km"], e["semi_minor_km"], e["orientation_deg"])


def true_paths(result: RunResult, launch_id: str):
    """The true ground paths of a launch's objects, as one lon/lat (multi)line."""
    (launch,) = [x for x in result.truth if x.missile.id == launch_id]
    lines = []
    for obj in launch.objects:
        _, lat, lon = ground_track(obj)
        lines.append(shapely.LineString(np.column_stack([lon, lat])))
    return shapely.MultiLineString(lines)


# ----------------------------------------------------------------- checks per scenario
@pytest.mark.parametrize("name", TEST_SET)
def test_the_truth_oracle_finds_what_each_scenario_was_built_for(name: str) -> None:
    result = run(name)
    kinds = {a.name: a.kind for a in regions.load_areas(result.scenario.theater)}
    for launch in result.truth:
        found = {(p, kinds[n], r) for lid, p, n, r in threatened(result) if lid == launch.missile.id}
        assert found == BUILT_FOR[name], (launch.missile.id, found)


@pytest.mark.parametrize("name", TEST_SET)
def test_no_threatened_area_is_missed_and_no_alert_is_false(name: str) -> None:
    result = run(name)
    missed = threatened(result) - alerted(result)
    # An area is threatened by a launch for any reason (an alert that became an impact warning when a
    # stage would fall there is for the same area); an alert is true when any object of its launch
    # threatened its area.
    any_reason = {t[:3] for t in threatened(result, every_object=True)}
    false = {a for a in alerted(result) if a[:3] not in any_reason}
    print(f"\n{name}: threatened {sorted(threatened(result))}; missed {sorted(missed)}; false {sorted(false)}")
    assert not {m for m in missed if m[:3] not in {a[:3] for a in alerted(result)}}
    assert not false


@pytest.mark.parametrize("name", TEST_SET)
def test_one_alert_per_threatened_area_per_threat_and_no_flip_flop(name: str) -> None:
    result = run(name)
    per: dict[tuple, list[str]] = {}
    for alert in all_alerts(result):
        per.setdefault((launch_of(result, alert), alert.partner, alert.area.name), []).append(alert.alert_id)
        print(f"\n{name} {alert.alert_id} {alert.area.name}: {[e['status'] for e in alert.history]}, "
              f"{alert.level_changes()} level changes")  # fmt: skip
        assert alert.level_changes() <= LEVEL_CHANGES, (alert.alert_id, [e.get("level") for e in alert.history])
    assert all(len(ids) == 1 for ids in per.values()), per
    # Every threatened (launch, area) has its alert: one each.
    assert {(t[0], t[1], t[2]) for t in threatened(result)} <= set(per)


def test_no_alert_when_nothing_is_threatened() -> None:
    result = run("warn-no-eez")
    assert not threatened(result, every_object=True)
    assert all_alerts(result) == []


@pytest.mark.parametrize("name", TEST_SET)
def test_alert_areas_stay_near_what_justifies_them(name: str) -> None:
    result = run(name)
    for alert in all_alerts(result):
        area = final_area(alert)
        assert not area.is_empty
        # Never beyond the protected area itself (up to rounding).
        assert distance_beyond_km(area, alert.area.geometry) < 0.1
        if alert.reason == "impact":
            beyond = distance_beyond_km(area, final_ellipse_polygon(result, alert))
        else:
            beyond = distance_beyond_km(area, true_paths(result, launch_of(result, alert)))
        print(f"\n{name} {alert.alert_id} {alert.reason} {alert.area.kind}: {beyond:.1f} km beyond")
        assert beyond <= BEYOND_KM, (alert.alert_id, beyond)


@pytest.mark.parametrize("name", TEST_SET)
def test_lifecycle_is_ordered_and_every_change_is_a_valid_message(name: str) -> None:
    for alert in all_alerts(run(name)):
        history = alert.history
        assert history[0]["status"] == "issued"
        assert [e["change"] for e in history] == list(range(1, len(history) + 1))
        assert all(a["time"] <= b["time"] for a, b in itertools.pairwise(history))
        statuses = [e["status"] for e in history]
        # Closed at the end of the run: exactly one final entry, last.
        assert statuses[-1] in ("cancelled", "ended") and not {"cancelled", "ended"} & set(statuses[:-1])
        assert not alert.active
        for before, after in itertools.pairwise(statuses):
            assert not (before == after == "track-lost")  # said once
        for entry in history:
            message = alert_message(alert, entry)
            messages.validate(message)
            assert messages.decode_message(messages.encode(message), "alert") == message
            assert message.status == entry["status"] and message.time == entry["time"]
            if entry["status"] in ("issued", "updated"):
                assert message.impact_point is not None and message.probability is not None
                assert entry["level"] in ("warning", "advisory")
            if entry["status"] == "issued":
                assert entry["level"] == "warning"


@pytest.mark.parametrize("name", TEST_SET)
def test_every_cap_document_validates(name: str, schema: etree.XMLSchema) -> None:
    for alert in all_alerts(run(name)):
        for changes in (cap.cap_alerts_from_history(alert), cap_changes(alert)):
            assert [c.lifecycle for c in changes] == [e["status"] for e in alert.history]
            for change in changes:
                schema.assertValid(etree.fromstring(cap.cap_xml(change)))


def test_the_alert_area_shrinks_to_the_ellipse() -> None:
    # The Nodong-like flight: the area first issued is larger than (or as large as) the final one,
    # which lies within the margin of the final ellipse.
    result = run("warn-jp-eez")
    (alert,) = [a for a in all_alerts(result) if a.partner == "JP"]
    first = alert.history[0]["area_geometry"]
    assert final_area(alert).area <= first.area * 1.05
    # Updated when the area shrinks to a third: the last area sent is less than three times the one the
    # final ellipse gives (the margin included), and no larger than the first.
    e = result.pictures["JP"].predictions[alert.track_id]["ellipse"]
    justified = ellipse_polygon(e["lat"], e["lon"], e["semi_major_km"] + MARGIN_KM, e["semi_minor_km"] + MARGIN_KM,
                                e["orientation_deg"]).intersection(alert.area.geometry)  # fmt: skip
    assert final_area(alert).area <= justified.area / UPDATE_AREA_SHRINK * 1.05


def test_a_lost_track_says_track_lost_once_and_then_ends() -> None:
    result = run("warn-track-lost")
    down = min(i.start for i in result.scenario.injects)
    (launch,) = result.truth
    jp = [a for a in all_alerts(result) if a.partner == "JP" and a.history[0]["time"] < down]
    assert jp, "the Japanese EEZ warning goes out before the radars fall silent"
    for alert in jp:
        statuses = [e["status"] for e in alert.history]
        assert statuses.count("track-lost") == 1
        lost = next(e for e in alert.history if e["status"] == "track-lost")
        stale_s = result.pictures["JP"].stale_s
        assert down + stale_s <= lost["time"] <= down + stale_s + 10.0  # the first assessment after it went stale
        assert lost["time"] < launch.impact_time  # said before the predicted time, not after
        # Nothing but the end follows: no silent stale alert, no all-clear before the predicted end.
        after = alert.history[alert.history.index(lost) + 1 :]
        assert [e["status"] for e in after] == ["ended"]
        assert after[0]["time"] >= alert.end_time
        assert alert_message(alert, lost).impact_point is not None  # it says what the warning stood on


# ----------------------------------------------------------------- timeliness (4 October 2022)
def test_overflight_warning_reaches_aomori_two_minutes_before_the_missile() -> None:
    result = run("warn-overflight")
    (launch,) = result.truth
    areas = regions.load_areas(result.scenario.theater)
    (japan,) = [a for a in areas if a.partner == "JP" and a.kind == "territory"]
    t, lat, lon = ground_track(launch.objects[0])
    (crossing, *_) = regions.path_crossings((japan,), t, lat, lon)
    coast = crossing[1]  # the true object enters Japan's airspace over Aomori's coast
    over_japan = shapely.LineString(np.column_stack([lon, lat])).intersection(japan.geometry)
    figures = {}
    for partner in result.partners:
        picture = result.pictures[partner]
        detected = min((s.first_detection for s in picture.systems.values()), default=math.nan)
        mine = [a for a in picture.alerts if a.reason == "overflight" and a.area.name == japan.name]
        issued = min((a.history[0]["time"] for a in mine), default=math.nan)
        figures[partner] = (detected - launch.launch_time, issued - launch.launch_time, coast - issued)
        print(
            f"\n{partner}: first detection {detected - launch.launch_time:.0f} s after launch, first warning "
            f"{issued - launch.launch_time:.0f} s after launch ({issued - detected:.0f} s after detection), "
            f"lead before the coast {coast - issued:.0f} s (coast crossed {coast - launch.launch_time:.0f} s)"
        )
    lead = figures["JP"][2]
    assert lead >= LEAD_S
    # The warning's area is where the missile crosses: Aomori, not all of Japan.
    first = min((a for a in all_alerts(result) if a.partner == "JP"), key=lambda a: a.history[0]["time"])
    area = first.history[0]["area_geometry"]
    assert area.intersects(over_japan)
    assert area.area < 0.05 * japan.geometry.area


def test_a_salvo_of_six_from_one_site_is_six_launch_events_none_before_its_launch() -> None:
    """Six missiles from one site 10 s apart: every partner here tracks each one, so each reports six events.

    The missiles fly one path 10 s apart, 13–14 km and ~80 m/s apart in the coast: a lineage allowance
    of 3 km per axis took JP's first two for one missile (five events); each event's first detection and
    every update lie after its own missile's launch.
    """
    result = run("warn-salvo")
    launched = {launch.missile.id: launch.launch_time for launch in result.truth}
    assert len(launched) == 6
    events = events_json(result).events
    for partner in (*result.partners, "fused"):
        mine = [e for e in events if e.partner == partner]
        assert sorted(str(e.truth_id) for e in mine) == sorted(launched), (partner, [e.event_id for e in mine])
        for e in mine:
            start = launched[str(e.truth_id)]
            assert records.unix(e.first_detection) > start, (partner, e.event_id)
            assert all(records.unix(u.time) > start for u in e.updates), (partner, e.event_id)


# ------------------------------------------------------------------ judging alerts against the truth
ISLE = regions.ProtectedArea("JP", "territory", "Isle", shapely.box(140.0, 39.9, 140.2, 40.1))


def isle_alert(truth_id: str | None) -> records.AlertRecord:
    """An alert for the isle, matched to launch ``truth_id`` (what judge_alerts looks at: truth id and area)."""
    return records.AlertRecord(
        alert_id="JP-A0001", partner="JP", area=records.AreaRef(partner="JP", kind="territory", name="Isle"),
        reason="overflight", launch_id="JP-E001", track_id="JP-F0001", level_changes=0, truth_id=truth_id,
        history=[],
    )  # fmt: skip


def _flight_past_the_isle(north_of_its_edge_km: float) -> TruthLaunch:
    """One object flying east at 100 km along a parallel ``north_of_its_edge_km`` north of the isle's edge
    (negative: over it), from 138° E to 142° E, one sample a second."""
    lon = np.radians(np.linspace(138.0, 142.0, 401))
    lat = np.full_like(lon, np.radians(40.1 + north_of_its_edge_km / 111.2))
    ecef = np.hstack([wgs84.geodetic_to_ecef(lat, lon, np.full_like(lon, 100e3)), np.zeros((lon.size, 3))])
    brief = FlightBrief(0.0, 0.0, 0.0, 0.0, 100e3)
    obj = TruthObject(id="F1/RV", kind="warhead", launch_id="F1", t=np.arange(lon.size, dtype=float), ecef=ecef)
    return TruthLaunch(Missile("F1", 0, 0.0, brief), None, [obj])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("north_km", "alert", "verdict"),
    [(-5.0, True, "true"), (-5.0, False, "missed"), (3.0, True, "near miss"), (3.0, False, "quiet"),
     (30.0, True, "false"), (30.0, False, "quiet")],
)  # fmt: skip
def test_an_alert_for_an_area_the_flight_only_passed_near_is_a_near_miss_not_false(
    north_km: float, alert: bool, verdict: str
) -> None:
    """Overflight over the isle must be warned; passing 3 km off is within the alert areas' granularity (a near
    miss: neither false nor needed); 30 km off, an alert is false."""
    launch = _flight_past_the_isle(north_km)
    alerts = [isle_alert("F1")] if alert else []
    judged = judge_alerts([launch], (ISLE,), alerts)
    key = ("F1", "JP", "Isle")
    assert (key + ("overflight",) in judged.missed) == (verdict == "missed")
    assert (key in judged.false) == (verdict == "false")
    assert (key in judged.near_misses) == (verdict == "near miss")
    assert bool(judged.threatened) == (north_km < 0)
    if verdict == "near miss":
        assert judged.near_misses[key] == pytest.approx(3.0, abs=0.1)


def test_alerts_per_area_are_counted_and_the_bar_is_over_threatened_areas() -> None:
    """Two alerts of one launch for the isle: counted for the isle; they break the one-alert bar only where the
    flight threatened it (over it), not where it passed 3 km off (a near miss warned, withdrawn, warned)."""
    alerts = [isle_alert("F1")] * 2
    over = judge_alerts([_flight_past_the_isle(-5.0)], (ISLE,), alerts)
    near = judge_alerts([_flight_past_the_isle(3.0)], (ISLE,), alerts)
    assert over.alerts_per_area == near.alerts_per_area == {("F1", "JP", "Isle"): 2}
    assert over.most_alerts_per_threatened_area() == 2
    assert near.most_alerts_per_threatened_area() == 0


def test_an_alert_of_a_launch_that_is_no_true_one_is_false() -> None:
    alerts = [isle_alert(None)]
    judged = judge_alerts([_flight_past_the_isle(3.0)], (ISLE,), alerts)
    assert judged.false == {(None, "JP", "Isle")} and not judged.near_misses
