"""Failing missiles (mwx.sim.failure, the scenario key ``failure``): a motor cut early, a body that breaks up."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import shapely

from mwx import records
from mwx.errors import InputError
from mwx.exercise.evaluation import truth_threat_times
from mwx.exercise.outputs import truth_json
from mwx.geo import regions, wgs84
from mwx.sim import failure as failures
from mwx.sim.flight import Trajectory
from mwx.sim.scenario import parse_scenario
from mwx.sim.truth import FRAGMENT, STAGE, WARHEAD, TruthLaunch, fly, solve_launches

# A 1000 km flight with an apogee of 300 km: a 97.6 s burn, 607 s of flight; two stages that separate (at 44 s
# and at burnout) so that the failures' effect on them shows.
FLIGHT = """\
name: failing
seed: {seed}
launches:
  - id: A
    time: 2022-10-03T22:22:00Z
    site: {{lat: 39.0, lon: 125.7}}
    azimuth_deg: 90
    range_km: 1000
    apogee_km: 300
    separating_stages: 2
    count: {count}
"""


def _scenario(failure: str | None = None, seed: int = 7, count: int = 1):
    text = FLIGHT.format(seed=seed, count=count)
    return parse_scenario(text if failure is None else text + f"    failure: {failure}\n", "f.yaml")


@pytest.fixture(scope="module")
def solved() -> dict[int, Trajectory]:
    return solve_launches(_scenario())


def _fly(solved: dict[int, Trajectory], failure: str | None = None, **kw) -> list[TruthLaunch]:
    return fly(_scenario(failure, **kw), solved=solved)


def _kinds(launch: TruthLaunch, kind: str) -> list:
    return [obj for obj in launch.objects if obj.kind == kind]


def _range_km(site: tuple[float, float, float], ecef: np.ndarray) -> float:
    """Great-circle distance [km] from the site to the ground under an ECEF position (enough to rank ranges)."""
    a = wgs84.geodetic_to_ecef(site[0], site[1], 0.0)
    return float(np.arccos(np.clip(a @ ecef / np.linalg.norm(a) / np.linalg.norm(ecef), -1, 1))) * wgs84.A / 1e3


# ----------------------------------------------------------------- no failure
def test_failure_null_flies_exactly_as_no_failure_key(solved) -> None:
    (plain,) = _fly(solved)
    (null,) = _fly(solved, "null")
    assert plain.intended is None and plain.failure_time is None and null.failure_time is None
    assert plain.impact_time == null.impact_time == plain.launch_time + plain.trajectory.impact_t
    assert [o.id for o in plain.objects] == [o.id for o in null.objects] == ["A/RV", "A/S1", "A/S2"]
    for a, b in zip(plain.objects, null.objects, strict=True):
        assert (a.kind, a.rcs_m2, a.burnout) == (b.kind, b.rcs_m2, b.burnout)
        assert np.array_equal(a.t, b.t) and np.array_equal(a.ecef, b.ecef)
    assert plain.flown.apogee_alt == plain.trajectory.apogee_alt and plain.flown.range_m == plain.trajectory.range_m


# ----------------------------------------------------------------- thrust termination
def test_a_motor_cut_at_half_burn_falls_far_short_and_low(solved) -> None:
    intended = solved[0]
    cut = intended.vehicle.burn_time_s / 2
    (launch,) = _fly(solved, f"{{kind: thrust_termination, at_s: {cut}}}")
    flown = launch.trajectory
    assert launch.intended is intended and launch.briefed is intended
    assert launch.failure_time == launch.launch_time + cut
    assert flown.burnout_t == cut
    # Most of a constant-mass-flow motor's velocity comes late in the burn: half the burn gives a third of it.
    assert flown.range_m < 0.2 * intended.range_m and flown.apogee_alt < 0.2 * intended.apogee_alt
    assert flown.impact_t < intended.impact_t and flown.max_speed < 0.5 * intended.max_speed
    assert launch.impact_time == launch.launch_time + flown.impact_t == launch.flown.impact_time
    # The warhead object follows the cut flight; its plume ends at the cut.
    (warhead,) = _kinds(launch, WARHEAD)
    assert warhead.burnout == launch.launch_time + cut
    assert np.array_equal(warhead.ecef, flown.ecef)
    assert warhead.burning(launch.launch_time + np.array([cut - 0.5, cut + 0.5])).tolist() == [True, False]


def test_the_cut_flight_is_the_intended_one_up_to_the_cut(solved) -> None:
    intended = solved[0]
    cut = 0.8 * intended.vehicle.burn_time_s
    (launch,) = _fly(solved, f"{{kind: thrust_termination, at_s: {cut}}}")
    flown = launch.trajectory
    before = intended.t[intended.t < cut]
    assert before.size > 50
    i = np.searchsorted(flown.t, before)
    assert np.array_equal(flown.t[i], before)
    assert np.max(np.linalg.norm(flown.ecef[i, :3] - intended.ecef[: before.size, :3], axis=1)) < 1e-3
    assert np.array_equal(flown.ecef[i], intended.ecef[: before.size])  # the same integration steps, in fact
    # After the cut it coasts short of the aim.
    assert flown.range_m < 0.9 * intended.range_m


def test_a_stage_separated_before_the_cut_still_flies_none_after(solved) -> None:
    burn = solved[0].vehicle.burn_time_s  # first stage off at 45 % of the burn
    (late,) = _fly(solved, f"{{kind: thrust_termination, at_s: {0.6 * burn}}}")
    (early,) = _fly(solved, f"{{kind: thrust_termination, at_s: {0.3 * burn}}}")
    assert [o.id for o in late.objects] == ["A/RV", "A/S1"]
    assert [o.id for o in early.objects] == ["A/RV"]
    assert late.objects[0].rcs_m2 == early.objects[0].rcs_m2 == 0.5  # the body stays whole


# ----------------------------------------------------------------- break-up
BREAKUP = "{kind: breakup, at_s: 200, fragments: 8, visible: 3, spread_mps: 30}"


@pytest.fixture(scope="module")
def broken(solved) -> TruthLaunch:
    (launch,) = _fly(solved, BREAKUP)
    return launch


def test_a_break_up_gives_fragments_exactly_visible_of_them_seen(broken) -> None:
    at = broken.launch_time + 200.0
    assert broken.failure_time == at and broken.broke_up
    pieces = _kinds(broken, FRAGMENT)
    assert [o.id for o in pieces] == [f"A/F{k}" for k in range(1, 9)]
    big = [o for o in pieces if o.rcs_m2 >= failures.VISIBLE_RCS_MIN_M2]
    assert len(big) == 3 and all(o.rcs_m2 <= failures.VISIBLE_RCS_MAX_M2 for o in big)
    assert all(o.visible for o in big) and not any(o.visible for o in pieces if o not in big)
    assert all(o.rcs_m2 == failures.DEBRIS_RCS_M2 for o in pieces if o not in big)
    # Both stages separated before the break-up; the body's samples stop at it.
    assert [o.id for o in _kinds(broken, STAGE)] == ["A/S1", "A/S2"]
    (warhead,) = _kinds(broken, WARHEAD)
    assert warhead.t[-1] == at and np.all(np.isnan(warhead.states_at(np.array([at + 1.0]))))
    assert broken.impact_time == max(o.t[-1] for o in pieces) > broken.launch_time + broken.trajectory.impact_t


def test_each_fragment_starts_from_the_body_at_the_break_up_pushed_by_at_most_the_spread(broken) -> None:
    warhead = broken.objects[0]
    intended = broken.trajectory
    for piece in _kinds(broken, FRAGMENT):
        assert piece.t[0] == warhead.t[-1]
        assert np.linalg.norm(piece.ecef[0, :3] - warhead.ecef[-1, :3]) < 1e-3
        kick = np.linalg.norm(piece.ecef[0, 3:] - warhead.ecef[-1, 3:])
        assert 0.0 < kick <= 30.0 + 1e-6
        # A second later (at 250 km, no drag to speak of) it is within spread · dt of where the body would be.
        dt = piece.t[1] - piece.t[0]
        body = intended.ecef[np.searchsorted(intended.t, piece.t[1] - broken.launch_time)]
        assert np.linalg.norm(piece.ecef[1, :3] - body[:3]) <= 30.0 * dt + 0.01


def test_a_lower_ballistic_coefficient_falls_shorter(solved) -> None:
    """With a negligible push, the pieces' ranges rank as their ballistic coefficients, all short of the aim."""
    intended = solved[0]
    rng = failures.failure_rng(7, 0, 0)
    pieces = failures.break_up(intended, 200.0, 8, 8, 0.01, rng)
    betas = [p.beta for p in pieces]
    assert min(betas) >= failures.FRAGMENT_BETA_MIN and max(betas) <= failures.FRAGMENT_BETA_MAX
    ranges = [_range_km(intended.site, p.ecef[-1, :3]) for p in sorted(pieces, key=lambda p: p.beta)]
    assert ranges == sorted(ranges) and ranges[-1] < _range_km(intended.site, intended.ecef[-1, :3])
    assert ranges[-1] - ranges[0] > 5.0  # drag, not the push, spreads them


def test_fragment_draws_repeat_with_the_seed_and_differ_with_another_or_per_salvo_member(solved, broken) -> None:
    (again,) = _fly(solved, BREAKUP)
    (other,) = _fly(solved, BREAKUP, seed=8)
    first, second = _fly(solved, BREAKUP, count=2)
    for a, b in zip(_kinds(broken, FRAGMENT), _kinds(again, FRAGMENT), strict=True):
        assert a.rcs_m2 == b.rcs_m2 and np.array_equal(a.t, b.t) and np.array_equal(a.ecef, b.ecef)
    assert np.array_equal(broken.objects[1].ecef, other.objects[1].ecef)  # a stage draws nothing
    for launch in (other, second):
        assert not np.array_equal(_kinds(broken, FRAGMENT)[0].ecef[-1], _kinds(launch, FRAGMENT)[0].ecef[-1])
    assert np.array_equal(_kinds(first, FRAGMENT)[0].ecef, _kinds(broken, FRAGMENT)[0].ecef)


def _jacobi(ecef: np.ndarray) -> np.ndarray:
    """Energy per unit mass [J/kg] in the rotating frame: kinetic (relative to the Earth) + J2 gravity potential −
    centrifugal.  Gravity and the Coriolis force do no work on it; drag against the air only takes it."""
    r = np.linalg.norm(ecef[:, :3], axis=1)
    sin2 = (ecef[:, 2] / r) ** 2
    gravity = -wgs84.GM / r * (1.0 - wgs84.J2 * (wgs84.A / r) ** 2 * (3.0 * sin2 - 1.0) / 2.0)
    centrifugal = 0.5 * wgs84.OMEGA**2 * (ecef[:, 0] ** 2 + ecef[:, 1] ** 2)
    return 0.5 * np.sum(ecef[:, 3:] ** 2, axis=1) + gravity - centrifugal


def test_each_fragment_only_loses_energy_after_the_break_up(broken) -> None:
    for piece in _kinds(broken, FRAGMENT):
        energy = _jacobi(piece.ecef)
        assert np.max(np.diff(energy)) < 1.0, piece.id  # J/kg: integrator noise only
        assert energy[0] - energy[-1] > 1e6, piece.id  # re-entry drag takes most of 3 km/s


def test_a_break_up_in_boost_ends_the_plume_and_the_later_stage(solved) -> None:
    (launch,) = _fly(solved, "{kind: breakup, at_s: 60, fragments: 3, visible: 1}")
    warhead = launch.objects[0]
    assert warhead.burnout == launch.launch_time + 60.0 == warhead.t[-1]
    assert [o.kind for o in launch.objects] == [WARHEAD, STAGE, FRAGMENT, FRAGMENT, FRAGMENT]
    assert not any(o.burning(o.t).any() for o in launch.objects[1:])
    assert launch.flown.burnout_time == launch.launch_time + 60.0


# ----------------------------------------------------------------- truth.json and the evaluation
def test_truth_json_of_a_broken_up_missile(broken) -> None:
    result = SimpleNamespace(truth=[broken], scenario=_scenario(BREAKUP), biases={})
    file = records.decode(records.encode(truth_json(result)), records.TruthFile)  # type: ignore[arg-type]
    (launch,) = file.launches
    assert launch.failure is not None and launch.failure.kind == "breakup"
    assert (launch.failure.fragments, launch.failure.visible_fragments) == (8, 3)
    assert records.unix(launch.failure.time) == broken.failure_time
    assert launch.failure.intended_range_km == pytest.approx(1000.0, abs=0.5)
    assert [o.kind for o in launch.objects].count("fragment") == 8
    assert records.unix(launch.impact_time) == pytest.approx(broken.impact_time, abs=1e-3)
    # The impact point: the centre of the pieces' impact points.
    lat, lon, _ = wgs84.ecef_to_geodetic(np.mean([o.ecef[-1, :3] for o in _kinds(broken, FRAGMENT)], axis=0))
    assert launch.impact_point.lat == pytest.approx(math.degrees(lat), abs=1e-5)
    assert launch.impact_point.lon == pytest.approx(math.degrees(lon), abs=1e-5)
    assert launch.range_km < launch.failure.intended_range_km


def test_truth_json_of_a_flight_that_did_not_fail_has_no_failure(solved) -> None:
    result = SimpleNamespace(truth=_fly(solved), scenario=_scenario(), biases={})
    data = records.encode(truth_json(result))  # type: ignore[arg-type]
    assert b'"failure"' not in data
    assert records.decode(data, records.TruthFile).launches[0].failure is None


def _box(name: str, lat_deg: float, lon_deg: float, half: float = 0.05) -> regions.ProtectedArea:
    box = shapely.box(lon_deg - half, lat_deg - half, lon_deg + half, lat_deg + half)
    return regions.ProtectedArea("JP", "territory", name, box)


def test_a_broken_up_body_strikes_nothing_its_seen_pieces_must_be_warned_the_others_may(broken) -> None:
    warhead, pieces = broken.objects[0], _kinds(broken, FRAGMENT)
    lat, lon = warhead.ground_track()
    under_break_up = _box("below", lat[-1], lon[-1])
    seen = next(o for o in pieces if o.visible)
    unseen = max(
        (o for o in pieces if not o.visible), key=lambda o: abs(o.ground_track()[1][-1] - seen.ground_track()[1][-1])
    )
    areas = [under_break_up] + [
        _box(o.id, o.ground_track()[0][-1], o.ground_track()[1][-1], 0.01) for o in (seen, unseen)
    ]
    must = truth_threat_times(broken, areas)
    may = truth_threat_times(broken, areas, every_object=True)
    # Above the area when it broke up, the missile flew over it (its pieces on), and struck nothing there.
    assert ("JP", "below", "impact") not in may and ("JP", "below", "overflight") in must
    assert ("JP", seen.id, "impact") in must and ("JP", seen.id, "impact") in may
    assert ("JP", unseen.id, "impact") not in must and ("JP", unseen.id, "impact") in may


# ----------------------------------------------------------------- scenario checks
@pytest.mark.parametrize(
    ("failure", "where", "words"),
    [
        ("{kind: breakup, at_s: 100, fragments: 3, visible: 4}", "failure.visible", "must not exceed `fragments`"),
        ("{kind: thrust_termination, at_s: 120}", "failure.at_s", "not before the planned burnout, 97.6 s"),
        ("{kind: breakup, at_s: 600}", "failure.at_s", "not before the end of the flight, about 531 s"),
        ("{kind: breakup, at_s: 100, fragments: 1}", "failure.fragments", ">= 2"),
        ("{kind: breakup, at_s: 0}", "failure.at_s", "> 0"),
        ("{kind: breakup, at_s: 100, visble: 2}", "failure.visble", "did you mean `visible`"),
        ("{kind: explode, at_s: 100}", "failure", "kind"),
    ],
)
def test_bad_failure_keys_give_one_clear_line(failure: str, where: str, words: str) -> None:
    with pytest.raises(InputError) as info:
        _scenario(failure)
    message = str(info.value)
    assert "\n" not in message
    assert f"launches[0].{where}" in message and words in message, message


def test_good_failures_load() -> None:
    assert _scenario("{kind: thrust_termination, at_s: 97}").launches[0].failure is not None
    breakup = _scenario("{kind: breakup, at_s: 500}").launches[0].failure
    assert isinstance(breakup, type(_scenario(BREAKUP).launches[0].failure))
    assert (breakup.fragments, breakup.visible, breakup.spread_mps) == (6, 3, 30.0)  # type: ignore[union-attr]
