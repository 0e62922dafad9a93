"""A failing missile recognised (mwx.assess.failure), and the event report and the alerts following it.

Two end-to-end runs, one each (module fixtures):

* ``nov-2022-failure`` (the shipped scenario): the 3 November 2022 (local time) ICBM from Sunan whose
  intended flight would have crossed northern Honshu and whose motor stopped after the first stage
  separated; it fell in the Sea of Japan.  The run must end with no standing alert for Japanese land and a
  clean lifecycle at every partner, and the fused event report must say it failed, with the region where
  the terminated body falls holding the truth.
* ``breakup-oki`` (tests/data/scenarios): a depressed MRBM warned as an overflight of Japan (the Oki Islands)
  breaks up over the Sea of Japan; its pieces fall short, in the sea.  Every overflight alert for an area
  no piece reaches must end within 30 s of the first track of a piece, saying why (``failed``); the event
  report must say it failed and give each seen piece's impact, whose 95 % ellipses hold the truth.

Healthy flights get no "failed": the demo's run folder (the session's ``demo_run``).  ``pytest -s`` prints
the figures.
"""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import msgspec
import numpy as np
import pytest

from mwx.exercise.evaluation import ellipse_miss
from mwx.exercise.event_text import format_event
from mwx.exercise.outputs import write_run
from mwx.exercise.report import format_summary
from mwx.exercise.run import FUSED, Simulation, simulate
from mwx.geo import regions, wgs84
from mwx.sim.scenario import ThrustTermination, load_scenario
from mwx.sim.truth import FRAGMENT, TruthLaunch
from mwx.warn.alerts import FAILED_RECHECK_S, OVER, AlertManager, Threat, cap_changes, threats
from mwx.warn.cap import cap_xml

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[1]
NOV_2022 = ROOT / "src" / "mwx" / "data" / "scenarios" / "nov-2022-failure.yaml"
BREAKUP = Path(__file__).parent / "data" / "scenarios" / "breakup-oki.yaml"
WITHIN_S = 30.0  # the bound: alerts follow the evidence of a failure within this [s]
#: 3 November 2022, 07:39 KST (nagix/nk-missile-tests, test.en.json and facility.en.json: Sunan, bearing 90°,
#: apogee 1920 km, 760 km, failure).
SUNAN = (39.20299, 125.70926)


@pytest.fixture(scope="module")
def nov() -> Simulation:
    return simulate(load_scenario(NOV_2022))


@pytest.fixture(scope="module")
def broken() -> Simulation:
    return simulate(load_scenario(BREAKUP))


def _t0(sim: Simulation) -> float:
    return min(launch.launch_time for launch in sim.result.truth)


def _alerts(sim: Simulation) -> list:
    return [a for p in sim.result.partners for a in sim.result.pictures[p].alerts]


def _fused_event(sim: Simulation):
    (event,) = [e for e in sim.result.events if e.partner == FUSED]
    return event


def _clean_lifecycle(sim: Simulation) -> None:
    """Every alert issued is over (ended or cancelled), as its owner holds it and as every partner was told."""
    for alert in _alerts(sim):
        assert alert.history[0]["status"] == "issued", alert.alert_id
        assert alert.history[-1]["status"] in OVER, (alert.alert_id, alert.history[-1]["status"])
        assert [e["change"] for e in alert.history] == list(range(1, len(alert.history) + 1))
    for partner, node in sim.nodes.items():
        last: dict[str, str] = {}
        for _, alert_id, _, status, _ in node.received_alerts:
            last[alert_id] = status
        standing = {k: v for k, v in last.items() if v not in OVER}
        assert not standing, f"{partner} was left with standing alerts {standing}"


def _first_piece_track(sim: Simulation, launch: TruthLaunch) -> float:
    """When the first published track (any partner, or the fused picture) of a piece of ``launch`` began: the
    earliest first state of a track whose first state lies nearest to one of its fragments."""
    objects = [o for lt in sim.result.truth for o in lt.objects]
    pieces = {o.id for o in launch.objects if o.kind == FRAGMENT}
    first = math.inf
    for history in sim.result.log.histories().values():
        t = float(history.t[0])
        alive = [o for o in objects if o.t[0] <= t <= o.t[-1]]
        if not alive:
            continue
        nearest = min(alive, key=lambda o: float(np.linalg.norm(o.states_at(np.array([t]))[0, :3] - history.x[0, :3])))
        if nearest.id in pieces:
            first = min(first, t)
    return first


# ----------------------------------------------------------------- the alerts' rule, alone
T0 = 1.7e9


def _manager() -> tuple[AlertManager, regions.ProtectedArea, regions.ProtectedArea]:
    areas = regions.load_areas("korea-japan")
    territory = next(a for a in areas if (a.partner, a.kind) == ("JP", "territory"))
    eez = next(a for a in areas if (a.partner, a.kind) == ("JP", "eez"))
    return AlertManager("JP", areas), territory, eez


def test_a_failed_launch_ends_the_alerts_nothing_left_of_it_holds_and_keeps_the_others() -> None:
    manager, territory, eez = _manager()
    over = Threat(territory, "overflight", T0 + 400, 38.0, 145.0, T0 + 300, T0 + 330, probability=0.9)
    sea = Threat(eez, "impact", T0 + 400, 38.0, 136.0, None, T0 + 410, probability=0.9)
    manager.evaluate(T0 + 100, "JP-E001", {"body": [over, sea]})
    assert {a.area.kind for a in manager.standing()} == {"territory", "eez"}
    # Recognised: the body is gone; a piece falls in the EEZ, nothing passes over Japan.
    piece_sea = Threat(eez, "impact", T0 + 380, 38.0, 135.5, None, T0 + 390, probability=0.6)
    manager.evaluate(T0 + 160, "JP-E001", {"piece": [piece_sea]})
    manager.fail(T0 + 160, "JP-E001", {"body"})
    (ended,) = [a for a in manager.alerts.values() if a.area.kind == "territory"]
    assert ended.history[-1]["status"] == "ended" and ended.history[-1]["why"] == ["failed"]
    assert ended.history[-1]["time"] == T0 + 160
    (kept,) = manager.standing()
    assert kept.area.kind == "eez" and set(kept.contributions) == {("piece", "impact")}


def test_a_piece_at_the_advisory_level_only_does_not_keep_the_intact_missiles_alert() -> None:
    manager, territory, _ = _manager()
    manager.evaluate(T0, "L", {"body": [Threat(territory, "impact", T0 + 400, 38, 139, None, T0 + 410, 0.5)]})
    weak = Threat(territory, "impact", T0 + 390, 38, 138.5, None, T0 + 400, probability=0.03)  # advisory band
    manager.evaluate(T0 + 50, "L", {"piece": [weak]})
    manager.fail(T0 + 50, "L", {"body"})
    assert not manager.standing() and manager.alerts["JP-A0001"].history[-1]["why"] == ["failed"]


def test_a_piece_at_the_warning_level_keeps_the_alert_and_the_recheck_ends_it_once_the_piece_no_longer_does() -> None:
    manager, territory, _ = _manager()
    manager.evaluate(T0, "L", {"body": [Threat(territory, "impact", T0 + 400, 38, 139, None, T0 + 410, 0.5)]})
    strong = Threat(territory, "impact", T0 + 390, 38, 138.5, None, T0 + 400, probability=0.2)
    manager.evaluate(T0 + 50, "L", {"piece": [strong]})
    manager.fail(T0 + 50, "L", {"body"})
    assert manager.standing()
    manager.evaluate(T0 + 55, "L", {"piece": []})  # its drag shown: it falls short
    manager.fail(T0 + 55, "L", {"body"})
    assert not manager.standing() and manager.alerts["JP-A0001"].history[-1]["time"] == T0 + 55
    # After the recheck window the usual rules hold again: a new alert is not ended for the old failure.
    manager.evaluate(T0 + 200, "L", {"piece": [strong]})
    manager.fail(T0 + 200, "L", {"body"})
    assert [a.alert_id for a in manager.standing()] == ["JP-A0002"]
    assert FAILED_RECHECK_S < 200 - 50


def test_nothing_is_recognised_in_a_healthy_track_and_a_cut_is() -> None:
    """The thrust test on a flight of the generic vehicle seen by perfect tracks: as flown, and cut at 70 %."""
    from mwx.assess.events import History
    from mwx.assess.failure import breakup, thrust_termination
    from mwx.sim.failure import terminate_thrust
    from mwx.sim.flight import solve_flight
    from mwx.sim.scenario import missiles, parse_scenario

    text = "name: t\nseed: 1\nlaunches:\n  - {time: 2022-10-03T22:22:00Z, site: {lat: 39, lon: 125.7}, "
    text += "azimuth_deg: 90, apogee_km: 900, range_km: 3000}\n"
    flight = solve_flight(missiles(parse_scenario(text))[0].brief)

    def track(trajectory, name: str) -> History:
        keep = np.arange(0, int(trajectory.impact_t) - 5, 2)
        t = trajectory.t[keep]
        p = np.tile(np.diag([30.0**2] * 3 + [3.0**2] * 3), (len(t), 1, 1))
        return History(name, T0 + t, trajectory.ecef[keep], p, T0, t < trajectory.burnout_t)

    healthy = track(flight, "healthy")
    assert thrust_termination([healthy]) is None and breakup([healthy]) is None
    cut = track(terminate_thrust(flight, 0.7 * flight.vehicle.burn_time_s), "cut")
    found = thrust_termination([cut])
    assert found is not None and found.kind == "thrust_termination"
    assert abs(found.time - (T0 + 0.7 * flight.vehicle.burn_time_s)) <= 3.0
    # A first stage dropped in boost stops too, while its missile burns on: not a failure.
    assert thrust_termination([cut, healthy], judged=[cut]) is None


# ----------------------------------------------------------------- 3 November 2022: a motor stopped early
def test_the_nov_2022_scenario_is_the_reported_flight(nov: Simulation) -> None:
    scenario = nov.result.scenario
    (launch,) = scenario.launches
    assert (launch.site.lat, launch.site.lon) == SUNAN and launch.azimuth_deg == 90
    assert launch.time.isoformat().startswith("2022-11-02T22:39")
    assert isinstance(launch.failure, ThrustTermination)
    (truth,) = nov.result.truth
    assert truth.intended is not None and truth.failure_time is not None
    # Flown as reported (apogee 1920 km, 760 km: the cut is fitted to the apogee; the range comes out longer).
    assert truth.flown.apogee_alt / 1e3 == pytest.approx(1920, rel=0.02)
    assert 700 <= truth.flown.range_m / 1e3 <= 900
    # Briefed to cross northern Honshu (and land beyond it): what a warning from its boost would have said.
    japan = tuple(a for a in regions.load_areas(scenario.theater) if a.partner == "JP" and a.kind == "territory")
    lat, lon, _ = wgs84.ecef_to_geodetic(truth.intended.ecef[:, :3])
    t = truth.launch_time + truth.intended.t
    assert [c.reason for c in threats(japan, t, np.degrees(lat), np.degrees(lon), float(t[-1]))] == ["overflight"]


def test_nov_2022_ends_with_no_alert_for_japanese_land_and_a_clean_lifecycle(nov: Simulation) -> None:
    (truth,) = nov.result.truth
    for alert in _alerts(nov):
        if (alert.area.partner, alert.area.kind) == ("JP", "territory"):
            # Over before the missile came down: not left to the run's close.
            assert alert.history[-1]["time"] < truth.impact_time, alert.history
    _clean_lifecycle(nov)


def test_nov_2022_every_node_recognises_the_stopped_motor_within_30_s(nov: Simulation) -> None:
    (truth,) = nov.result.truth
    assert truth.failure_time is not None
    for partner, node in nov.nodes.items():
        (failure,) = node.failures.failed.values()
        assert failure.kind == "thrust_termination", partner
        print(f"{partner}: motor stop recognised {failure.recognised - truth.failure_time:.1f} s after the cut")
        assert abs(failure.time - truth.failure_time) <= 10.0
        assert failure.recognised - truth.failure_time <= WITHIN_S


def test_nov_2022_the_fused_report_says_failed_and_where_the_body_falls(nov: Simulation) -> None:
    (truth,) = nov.result.truth
    event = _fused_event(nov)
    assert event.outcome == "failed" and event.failure is not None
    assert event.failure.kind == "thrust_termination" and event.failure.fragments == 0
    assert event.failure.burn_s is not None and event.failure.expected_burn_s is not None
    assert event.failure.burn_s > 1.15 * event.failure.expected_burn_s
    assert abs(event.failure.time.timestamp() - truth.failure_time) <= 10.0
    flown = (math.degrees(truth.flown.impact_lat), math.degrees(truth.flown.impact_lon))
    miss = ellipse_miss(event, flown)
    print(f"fused: range {event.range_km:.0f} km (true {truth.flown.range_m / 1e3:.0f}), ellipse miss {miss:.2f}")
    assert miss <= 1.0
    assert event.range_km == pytest.approx(truth.flown.range_m / 1e3, rel=0.05)


# ----------------------------------------------------------------- a break-up short of Japan
def _reached(launch: TruthLaunch) -> set[tuple[str, str]]:
    """(partner, area name) that some piece of ``launch`` falls in or passes over, by the truth."""
    areas = regions.load_areas("korea-japan")
    out = set()
    for obj in launch.objects:
        if obj.kind == FRAGMENT:
            out |= {(t.area.partner, t.area.name) for t in threats(areas, obj.t, *obj.ground_track(), float(obj.t[-1]))}
    return out


def test_the_break_up_was_warned_as_an_overflight_of_japan_before_it(broken: Simulation) -> None:
    (truth,) = broken.result.truth
    assert truth.broke_up and truth.failure_time is not None
    assert ("JP", "Japan") not in _reached(truth), "a piece reaches Japan: the scenario no longer tests this"
    burnout = truth.launch_time + truth.trajectory.burnout_t
    japan = [a for a in broken.result.pictures["JP"].alerts if (a.area.kind, a.area.name) == ("territory", "Japan")]
    said = [
        e for a in japan for e in a.history if e.get("reason") == "overflight" and e["status"] in ("issued", "updated")
    ]
    # From the intact missile's coasting states too, not only from its boost.
    assert any(burnout < e["time"] < truth.failure_time for e in said), said


def test_overflight_alerts_no_piece_justifies_end_within_30_s_of_the_first_piece_track(broken: Simulation) -> None:
    (truth,) = broken.result.truth
    first = _first_piece_track(broken, truth)
    assert truth.failure_time is not None and truth.failure_time <= first <= truth.failure_time + WITHIN_S
    reached = _reached(truth)
    checked = 0
    for alert in _alerts(broken):
        if (alert.area.partner, alert.area.name) in reached or alert.history[-1]["time"] < first:
            continue
        if not any(e.get("reason") == "overflight" for e in alert.history):
            continue
        end = alert.history[-1]
        print(f"{alert.alert_id} {alert.area.name}: {end['status']} {end['why']} {end['time'] - first:+.1f} s")
        assert end["status"] in OVER and end["time"] - first <= WITHIN_S, alert.history
        if alert.history[0]["time"] < truth.failure_time:  # the intact missile's alert: over for the failure
            assert end["status"] == "ended" and end["why"] == ["failed"], alert.history
            checked += 1
    assert checked >= 1, "no alert of the intact missile was ended for the failure"
    _clean_lifecycle(broken)


def test_areas_a_piece_falls_in_keep_their_alert(broken: Simulation) -> None:
    (truth,) = broken.result.truth
    reached = _reached(truth)
    kept = [a for a in _alerts(broken) if (a.area.partner, a.area.name) in reached and a.area.kind == "eez"]
    assert kept, "no EEZ a piece falls in was warned"
    for alert in kept:
        assert ["failed"] not in [e["why"] for e in alert.history], alert.history


def test_the_event_report_says_broken_up_with_each_piece_where_it_falls(broken: Simulation) -> None:
    (truth,) = broken.result.truth
    seen = [o for o in truth.objects if o.kind == FRAGMENT and o.visible]
    for partner in [*broken.result.partners, FUSED]:
        events = [e for e in broken.result.events if e.partner == partner]
        failed = [e for e in events if e.outcome == "failed"]
        if partner == "KR" and not failed:  # KR's radars lose the missile before it breaks up
            continue
        # One launch: the pieces are in it, not launches (or clutter) of their own.
        assert len(events) == 1 and len(failed) == 1, [(e.event_id, e.track_ids, e.outcome) for e in events]
        (event,) = failed
        assert event.failure is not None and event.failure.kind == "breakup"
        assert 2 <= event.failure.fragments <= len(seen)
        assert abs(event.failure.time.timestamp() - truth.failure_time) <= WITHIN_S
        for piece in seen:
            lat, lon = piece.ground_track()
            misses = [ellipse_miss(i, (float(lat[-1]), float(lon[-1]))) for i in event.failure.fragment_impacts]
            print(f"{partner} {piece.id}: best ellipse miss {min(misses):.2f}")
            assert min(misses) <= 1.0, (piece.id, event.failure.fragment_impacts)
        # Not a piece's early loose state: the range is the pieces' region's.
        assert event.range_km == pytest.approx(truth.flown.range_m / 1e3, rel=0.1)


def test_the_run_folder_and_the_after_action_summary_show_the_failure(
    broken: Simulation, tmp_path_factory: pytest.TempPathFactory
) -> None:
    out = tmp_path_factory.mktemp("breakup-run")
    write_run(broken.result, out)
    events = json.loads((out / "events.json").read_text())["events"]
    assert any(e["outcome"] == "failed" and e["failure"]["fragment_impacts"] for e in events)
    alerts = json.loads((out / "alerts.json").read_text())["alerts"]
    assert any(c["why"] == ["failed"] for a in alerts for c in a["history"])
    summary = format_summary(out)
    assert "failed: break-up" in summary and "alerts ended for the failure" in summary, summary
    assert "broken up about" in format_event(_fused_event(broken))
    # The all-clear says why in its CAP text.
    alert = next(a for a in _alerts(broken) if a.history[-1]["why"] == ["failed"])
    assert b"failed in flight" in cap_xml(cap_changes(alert)[-1])


# ----------------------------------------------------------------- healthy flights
def test_the_demo_is_not_reported_failed(demo_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, done = demo_run
    assert done.returncode == 0, done.stderr[-2000:]
    events = msgspec.json.decode((out / "events.json").read_bytes())["events"]
    assert events and not [e["event_id"] for e in events if e.get("outcome") == "failed"]
    alerts = msgspec.json.decode((out / "alerts.json").read_bytes())["alerts"]
    assert not [a["alert_id"] for a in alerts if any("failed" in c["why"] for c in a["history"])]
