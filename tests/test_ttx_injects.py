"""The technical injects an exercise adds to a scenario: a partner withholding, a spurious track; and the checks."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from mwx.errors import InputError
from mwx.exchange.messages import OperatorNote, TrackReport
from mwx.exchange.policy import OPEN, ReleasePolicy
from mwx.geo import wgs84
from mwx.sim.scenario import Ghost, SpuriousTrack, Withhold, parse_scenario, theater_of
from mwx.sim.sensors import sensor_rng, simulate_sensors, spurious_object

T0 = datetime(2023, 4, 13, 1, 0, tzinfo=UTC)


def _report(sender: str, t: float) -> TrackReport:
    cov = np.diag([1e6, 1e6, 1e6, 1e2, 1e2, 1e2]).ravel().tolist()
    return TrackReport(sender=sender, seq=0, track_id="T1", time=t, sent=t, state=[6.4e6, 0, 0, 0, 0, 1000.0],
                       covariance=cov, first_detection=t)  # fmt: skip


def test_withhold_holds_back_its_kinds_to_its_recipients_in_its_window_only() -> None:
    window = Withhold(time=T0, duration_s=120.0, partner="KR", withheld_from=["JP"], kinds=["track"])
    policy = OPEN.with_windows([window])
    assert OPEN.with_windows([]) is OPEN  # no window: the fast path stays
    start = T0.timestamp()
    assert policy.release(_report("KR", start + 10.0), "JP") is None
    assert policy.release(_report("KR", start + 10.0), "US") is not None  # another recipient
    assert policy.release(_report("JP", start + 10.0), "KR") is not None  # another sender
    assert policy.release(_report("KR", start - 1.0), "JP") is not None  # before the window
    assert policy.release(_report("KR", start + 120.0), "JP") is not None  # after it (end excluded)
    note = OperatorNote(sender="KR", time=start + 10.0, event_id="L1", text="assessment", act="share")
    assert policy.release(note, "JP") is not None  # a kind it does not name
    assert isinstance(policy, ReleasePolicy) and policy.windows == (window,)


def test_a_spurious_object_coasts_from_its_start() -> None:
    ghost = Ghost(lat=39.0, lon=133.5, alt_km=120.0, speed_mps=2000.0, heading_deg=100.0, climb_deg=5.0)
    start = T0.timestamp()
    obj = spurious_object(ghost, start, start + 90.0, "spurious-1")
    assert obj.kind == "spurious" and obj.t[0] == start and obj.t[-1] == start + 90.0
    lat, lon, alt = wgs84.ecef_to_geodetic(obj.ecef[:1, :3])
    assert np.degrees(lat[0]) == pytest.approx(39.0) and np.degrees(lon[0]) == pytest.approx(133.5)
    assert alt[0] == pytest.approx(120e3, abs=1.0)
    assert np.linalg.norm(obj.ecef[0, 3:]) == pytest.approx(2000.0, rel=1e-9)  # ECEF speed as given
    # Energy per unit mass is kept to a part in 10⁴ over 90 s (J2 and the Earth's turning make the ECEF
    # energy not exact; a drag-free coast keeps it nearly so).
    r = np.linalg.norm(obj.ecef[:, :3], axis=1)
    energy = 0.5 * np.sum(obj.ecef[:, 3:] ** 2, axis=1) - 3.986004418e14 / r
    assert np.ptp(energy) < 1e-3 * abs(energy[0])


def test_a_radar_sees_a_ghost_and_nothing_else_changes() -> None:
    theater = theater_of(parse_scenario(_SCENARIO))
    sensors = [s for s in theater.sensors if s.id == "JP-R1"]
    start = T0.timestamp()
    ghost = spurious_object(Ghost(lat=39.0, lon=133.5, alt_km=120.0), start, start + 60.0, "spurious-1")
    plain = simulate_sensors(sensors, [], start - 30.0, start + 90.0, 3).measurements
    haunted = simulate_sensors(sensors, [], start - 30.0, start + 90.0, 3, ghosts={"JP-R1": [ghost]}).measurements
    # Its own draws: the radar's false alarms are the same with the ghost as without it.
    extra = len(haunted) - len(plain)
    assert extra >= 25  # a 2 s revisit over 60 s, close by: seen on most scans
    plain_rows = {(float(t), tuple(np.round(z[:3], 6))) for t, z in zip(plain.time, plain.z, strict=True)}
    haunted_rows = {(float(t), tuple(np.round(z[:3], 6))) for t, z in zip(haunted.time, haunted.z, strict=True)}
    assert plain_rows <= haunted_rows
    # Reported in the radar's own scans, at the scan's arrival time, and as a false alarm to the evaluation.
    assert (haunted.object == -1).all()
    ghost_times = sorted({float(t) for t, z in zip(haunted.time, haunted.z, strict=True)
                          if (float(t), tuple(np.round(z[:3], 6))) not in plain_rows})  # fmt: skip
    assert start <= ghost_times[0] and ghost_times[-1] <= start + 60.0
    assert sensor_rng(3, "JP-R1:spurious") is not None


_SCENARIO = """
name: ghosts
seed: 3
launches:
  - {id: S1, time: 2023-04-13T01:00:00Z, site: {lat: 39.2, lon: 125.67}, azimuth_deg: 85, apogee_km: 90, range_km: 650}
"""


_WINDOW = "time: 2023-04-13T01:00:00Z, duration_s: 60"


@pytest.mark.parametrize(
    ("inject", "message"),
    [
        ("{kind: spurious_track, time: 2023-04-13T01:00:00Z, duration_s: 60, sensor: XX-R9, ghost: {lat: 39, lon: 1}}",
         "injects[0].sensor: no sensor 'XX-R9' in the theater"),
        (f"{{kind: spurious_track, {_WINDOW}, sensor: US-IR-GEO1, ghost: {{lat: 1, lon: 1}}}}",
         "injects[0].sensor: 'US-IR-GEO1' is not a radar (a spurious track is a radar's)"),
        ("{kind: withhold, time: 2023-04-13T01:00:00Z, duration_s: 60, partner: KR, withheld_from: [KR]}",
         "injects[0].withheld_from: a partner cannot withhold from itself"),
        ("{kind: withhold, time: 2023-04-13T01:00:00Z, duration_s: 60, partner: XX, withheld_from: [JP]}",
         "injects[0].partner: no participant 'XX'"),
        ("{kind: withhold, time: 2023-04-13T01:00:00Z, duration_s: 60, partner: KR, withheld_from: []}",
         "injects[0].withheld_from: expected `array` of length >= 1"),
    ],
)  # fmt: skip
def test_the_new_injects_are_checked(inject: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_scenario(_SCENARIO + f"injects:\n  - {inject}\n", "s.yaml")
    assert message in caught.value.one_line()


def test_an_impossible_date_is_one_clear_line() -> None:
    with pytest.raises(InputError) as caught:
        parse_scenario(_SCENARIO.replace("2023-04-13T01:00:00Z", "2023-04-33T01:00:00Z"), "s.yaml")
    assert caught.value.one_line() == "s.yaml: malformed YAML: day is out of range for month"


def test_scenario_injects_split_between_bus_policy_and_sensors() -> None:
    from mwx.sim.scenario import LinkDown, link_injects, withholds

    scenario = parse_scenario(
        _SCENARIO
        + """injects:
  - {kind: link_down, time: 2023-04-13T01:00:00Z, duration_s: 60, a: KR, b: US}
  - {kind: withhold, time: 2023-04-13T01:00:00Z, duration_s: 60, partner: KR, withheld_from: [JP]}
  - {kind: spurious_track, time: 2023-04-13T01:00:00Z, duration_s: 60, sensor: JP-R1, ghost: {lat: 39, lon: 133}}
"""
    )
    assert [type(i) for i in link_injects(scenario)] == [LinkDown]
    assert [type(i) for i in withholds(scenario)] == [Withhold]
    assert isinstance(scenario.injects[2], SpuriousTrack)
