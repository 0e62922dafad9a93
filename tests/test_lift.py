"""Manoeuvring flights (:mod:`mwx.sim.lift`): the lift law, its physics, reported flights and scenario checks.

Reported flights, from the CNS North Korea Missile Test Database as copied in
``shared/data/nk-missile-tests`` (``test.en.json``; sites from ``facility.en.json``; the
``maneuver`` of each missile from ``missile.en.json``: Hwasong-11A (KN-23) ``pullup``,
Hwasong-16B ``glide``).  Dates there are UTC; the Korean date is a day later for morning launches.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from scipy.integrate import trapezoid

from mwx.errors import InputError
from mwx.geo import wgs84
from mwx.geo.atmosphere import density
from mwx.sim import lift
from mwx.sim.flight import FlightBrief, Physics, Programme, Trajectory, Vehicle, simulate, solve_flight
from mwx.sim.lift import G0, GlideProfile, PullUpProfile
from mwx.sim.scenario import missiles, parse_scenario
from mwx.sim.truth import fly

GEOD = Geod(ellps="WGS84")

#: 2019-07-25 KST (2019-07-24 in the database), Hwasong-11A (KN-23) from the Hodo peninsula
#: (39.40167 N, 127.5369 E): apogee 50 km, 600 km, bearing 70°.
KN23_SITE = (math.radians(39.40167), math.radians(127.5369))
KN23 = dict(azimuth=math.radians(70.0), range_m=600e3, apogee=50e3)
#: The scenario defaults of ``PullUp`` (start 45 km, 2 g, L/D 1.5, dive 15 km).
PULLUP = PullUpProfile(start_alt=45e3, dive_alt=15e3, lift_to_drag=1.5, max_accel=2.0 * G0)
#: The scenario defaults of ``Glide`` (L/D 2.5, 3 g, β 10 000 kg/m²).
GLIDE = GlideProfile(lift_to_drag=2.5, max_accel=3.0 * G0, beta=10000.0)

#: Hwasong-16B flights: 2024-04-02 KST (2024-04-01 in the database) from the Samsok test site
#: (39.112 N, 125.998 E), apogee 101 km, 1000 km, bearing 60°; 2025-01-06 from East Pyongyang
#: (39.191389 N, 125.956944 E), apogee 100 km, 1100 km, bearing 58°.
HS16B = {
    "2024-04-02": ((math.radians(39.112), math.radians(125.998)), math.radians(60.0), 1000e3, 101e3),
    "2025-01-06": ((math.radians(39.191389), math.radians(125.956944)), math.radians(58.0), 1100e3, 100e3),
}


def _kn23(profile: PullUpProfile | None) -> FlightBrief:
    return FlightBrief.along_azimuth(*KN23_SITE, KN23["azimuth"], KN23["range_m"], KN23["apogee"], profile=profile)


def _hs16b(date: str, profile: GlideProfile) -> FlightBrief:
    site, azimuth, range_m, apogee = HS16B[date]
    return FlightBrief.along_azimuth(*site, azimuth, range_m, apogee, profile=profile)


def _altitude(traj: Trajectory) -> np.ndarray:
    return wgs84.ecef_to_geodetic(traj.ecef[:, :3])[2]


def _assert_meets(traj: Trajectory, brief: FlightBrief) -> None:
    """Apogee and range to 0.1 %, recomputed from the samples, and the aim point hit within 0.1 % of the range."""
    _, range_m = brief.azimuth_and_range
    assert abs(traj.apogee_alt - brief.apogee) / brief.apogee < 1e-3
    assert abs(_altitude(traj).max() - brief.apogee) / brief.apogee < 1e-3
    lat, lon, h = wgs84.ecef_to_geodetic(traj.ecef[-1, :3])
    assert abs(h) < 1.0
    site_lon, site_lat = math.degrees(brief.site_lon), math.degrees(brief.site_lat)
    _, _, dist = GEOD.inv(site_lon, site_lat, math.degrees(lon), math.degrees(lat))
    assert abs(dist - range_m) / range_m < 1e-3
    _, _, miss = GEOD.inv(
        math.degrees(brief.aim_lon), math.degrees(brief.aim_lat), math.degrees(lon), math.degrees(lat)
    )
    assert miss < 1e-3 * range_m


# --- the lift law -------------------------------------------------------------------------------------------


def _random_states(n: int, seed: int = 3) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    r = rng.normal(size=(n, 3))
    r *= (wgs84.A + rng.uniform(0.0, 200e3, n))[:, None] / np.linalg.norm(r, axis=1, keepdims=True)
    w = rng.normal(size=(n, 3)) * rng.uniform(0.0, 8000.0, n)[:, None]
    drag = rng.exponential(20.0, n)  # m/s², from thin air to a hard pull-out
    bank = rng.uniform(-math.pi, math.pi, n)
    return r, w, drag, bank


@pytest.mark.parametrize(("lift_to_drag", "load_g"), [(1.5, 2.0), (2.5, 3.0), (5.0, 0.5)])
def test_lift_is_bounded_perpendicular_and_upward(lift_to_drag: float, load_g: float) -> None:
    r, w, drag, bank = _random_states(20000)
    max_accel = load_g * G0
    a = lift.lift_acceleration(r, w, drag, lift_to_drag, max_accel, bank)
    size = np.linalg.norm(a, axis=1)
    w_hat = w / np.linalg.norm(w, axis=1, keepdims=True)
    assert np.all(size <= max_accel * (1 + 1e-12))
    assert np.allclose(size, np.minimum(lift_to_drag * drag, max_accel), rtol=1e-12)
    assert np.all(np.abs(np.sum(a * w_hat, axis=1)) <= 1e-9 * np.maximum(size, 1.0))
    # The bank turns the lift about w: its component up (in the vertical plane) is |a| cos σ.
    up = r / np.linalg.norm(r, axis=1, keepdims=True)
    e = up - np.sum(up * w_hat, axis=1, keepdims=True) * w_hat
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    assert np.allclose(np.sum(a * e, axis=1), size * np.cos(bank), atol=1e-9)
    # Positive bank is to the right: a northbound body banked right is pushed east.
    east, north, _ = wgs84.enu_basis(0.7, 2.2)
    site = wgs84.geodetic_to_ecef(0.7, 2.2, 30e3)
    right = lift.lift_acceleration(site, 2000.0 * north, 10.0, lift_to_drag, max_accel, math.radians(30.0))
    assert right @ east > 0.0
    # Unbanked: in the vertical plane of w, upward.
    level = lift.lift_acceleration(r, w, drag, lift_to_drag, max_accel)
    assert np.all(np.abs(np.sum(level * np.cross(r, w), axis=1)) <= 1e-6 * np.linalg.norm(np.cross(r, w), axis=1))
    assert np.all(np.sum(level * up, axis=1) >= 0.0)


finite = st.floats(-8000.0, 8000.0)


@settings(max_examples=200, deadline=None)
@given(
    st.tuples(st.floats(-1.0, 1.0), st.floats(-1.0, 1.0), st.floats(-1.0, 1.0)).filter(lambda u: math.hypot(*u) > 0.1),
    st.tuples(finite, finite, finite),
    st.floats(0.0, 500.0),
    st.floats(0.1, 5.0),
    st.floats(0.1, 10.0),
    st.floats(-math.pi, math.pi),
)
def test_scalar_lift_matches_vectorised(
    u: tuple[float, float, float],
    w: tuple[float, float, float],
    drag: float,
    lift_to_drag: float,
    load_g: float,
    bank: float,
) -> None:
    r = np.array(u) / math.hypot(*u) * (wgs84.A + 40e3)
    vector = lift.lift_acceleration(r, w, drag, lift_to_drag, load_g * G0, bank)
    scalar = lift.lift_scalar(*r, *w, drag, lift_to_drag, load_g * G0, math.cos(bank), math.sin(bank))
    assert np.allclose(scalar, vector, rtol=1e-9, atol=1e-9)
    assert math.hypot(*scalar) <= load_g * G0 * (1 + 1e-12)


def test_max_lift_acceleration_is_the_load_factor() -> None:
    assert lift.max_lift_acceleration(None) == 0.0
    assert lift.max_lift_acceleration(PULLUP) == pytest.approx(2.0 * 9.80665)
    assert lift.max_lift_acceleration(GLIDE) == pytest.approx(3.0 * 9.80665)


# --- lift does no work ----------------------------------------------------------------------------------------


def _potential(r: np.ndarray) -> np.ndarray:
    """Gravitational potential energy per mass [J/kg] of point mass plus J2 (the force of mwx.sim.flight)."""
    rn = np.linalg.norm(r, axis=1)
    sin2 = (r[:, 2] / rn) ** 2
    return -wgs84.GM / rn + wgs84.GM * wgs84.J2 * wgs84.A**2 / (2.0 * rn**3) * (3.0 * sin2 - 1.0)


@pytest.mark.parametrize("rotation", [False, True])
@pytest.mark.parametrize("profile", [PULLUP, replace(GLIDE, turn=math.radians(40.0))], ids=["pullup", "glide"])
def test_lift_does_no_work(profile: PullUpProfile | GlideProfile, rotation: bool) -> None:
    """From burnout to impact the mechanical energy changes by the work of drag alone.

    Without Earth rotation: kinetic plus gravitational (J2) energy in the inertial frame.  With it: the same in the
    Earth-fixed frame plus the centrifugal potential (the Jacobi integral), where the air is still and the
    Coriolis force does no work either.  Lift of L/D 1.5–2.5 times the drag along the velocity would miss by more
    than the drag's own work; the tolerance is 1e-4 of it.
    """
    physics = Physics(rotation=rotation)
    vehicle = Vehicle(burn_time_s=80.0, beta_reentry=8000.0)
    programme = Programme(3400.0 if isinstance(profile, PullUpProfile) else 4000.0, math.radians(20.0), 1.2)
    traj = simulate(*KN23_SITE, 0.0, programme, vehicle, physics, step=0.05, profile=profile)
    assert math.isfinite(traj.lift_start_t) and traj.lift_end_t > traj.lift_start_t + 30.0
    if isinstance(profile, GlideProfile):
        assert traj.burnout_t < traj.turn_end_t < traj.impact_t
    keep = traj.t >= traj.burnout_t
    t, state = traj.t[keep], (traj.ecef if rotation else traj.eci)[keep]
    r, w = state[:, :3], state[:, 3:]
    omega = wgs84.OMEGA if rotation else 0.0
    energy = 0.5 * np.sum(w * w, axis=1) + _potential(r) - 0.5 * omega**2 * (r[:, 0] ** 2 + r[:, 1] ** 2)
    rho = density(wgs84.ecef_to_geodetic(r)[2])
    body_beta = profile.beta if isinstance(profile, GlideProfile) else vehicle.beta_reentry  # a glider's own
    drag_power = -rho * np.linalg.norm(w, axis=1) ** 3 / (2.0 * body_beta)
    drag_work = trapezoid(drag_power, t)
    assert drag_work < -1e6  # J/kg: the air takes a good part of the energy
    assert abs((energy[-1] - energy[0]) - drag_work) < 1e-4 * abs(drag_work)


# --- pull-up: the KN-23 -------------------------------------------------------------------------------------


def test_pullup_stretches_range_and_kn23_is_met() -> None:
    """2019-07-25 KN-23: apogee 50 km, 600 km.  The pull-up of the ballistic programme lands much further (the
    defaults' L/D 1.5 nearly doubles it); the solved pull-up meets the brief with a lower velocity gain."""
    ballistic = solve_flight(_kn23(None))
    assert math.isnan(ballistic.lift_start_t) and math.isnan(ballistic.lift_end_t) and ballistic.profile is None
    same = simulate(*KN23_SITE, 0.0, ballistic.programme, ballistic.vehicle, profile=PULLUP)
    assert same.range_m > 1.3 * ballistic.range_m
    assert same.apogee_alt == pytest.approx(ballistic.apogee_alt, abs=1.0)  # the lift acts after the apogee only
    brief = _kn23(PULLUP)
    solved = solve_flight(brief)
    _assert_meets(solved, brief)
    assert solved.profile == PULLUP
    assert solved.programme.delta_v < ballistic.programme.delta_v - 300.0
    # The lift phase: from crossing 45 km on the way down to crossing 15 km.
    alt = _altitude(solved)
    at = np.searchsorted(solved.t, [solved.lift_start_t, solved.lift_end_t])
    assert solved.apogee_t < solved.lift_start_t < solved.lift_end_t < solved.impact_t
    assert alt[at[0]] == pytest.approx(45e3, abs=3e3) and alt[at[1]] == pytest.approx(15e3, abs=3e3)
    # It flattens the descent: the body flies lower than 45 km for far longer than the ballistic one does.
    low_time = np.count_nonzero((alt < 45e3) & (solved.t > solved.apogee_t))
    ballistic_low = np.count_nonzero((_altitude(ballistic) < 45e3) & (ballistic.t > ballistic.apogee_t))
    assert low_time > 2 * ballistic_low


# --- boost-glide: the Hwasong-16B ---------------------------------------------------------------------------


def test_hwasong16b_glide_is_met() -> None:
    """2024-04-02 Hwasong-16B: apogee 101 km, 1000 km, flown as a glide with the scenario defaults."""
    brief = _hs16b("2024-04-02", GLIDE)
    traj = solve_flight(brief)
    _assert_meets(traj, brief)
    assert traj.lift_start_t == traj.burnout_t and traj.lift_end_t == traj.impact_t
    assert traj.vehicle.beta_reentry == GLIDE.beta
    ballistic = solve_flight(replace(brief, profile=None))
    assert traj.programme.delta_v < ballistic.programme.delta_v - 300.0


def _track_turn_deg(traj: Trajectory, index: int) -> float:
    """Signed angle [deg] (right positive) between the Earth-fixed plane of flight at burnout and at a sample."""
    b = int(np.searchsorted(traj.t, traj.burnout_t))
    n0 = np.cross(traj.ecef[b, :3], traj.ecef[b, 3:])
    n = np.cross(traj.ecef[index, :3], traj.ecef[index, 3:])
    n0, n = n0 / np.linalg.norm(n0), n / np.linalg.norm(n)
    sign = -np.sign(np.cross(n0, n) @ traj.ecef[index, :3])
    return float(sign * math.degrees(math.acos(min(1.0, n0 @ n))))


@pytest.mark.parametrize("turn_deg", [35.0, -60.0])
def test_glide_turns_by_the_asked_angle(turn_deg: float) -> None:
    """2025-01-06 Hwasong-16B (apogee 100 km, 1100 km) flown with a turn: the flight still meets the brief, and its
    ground track has turned by ``turn_deg`` when the bank ends.  Before and after, the Coriolis force curves every
    Earth-fixed track to the right in the north, by at most 2ω per second (~5° over this glide): at impact the
    turn is ``turn_deg`` plus that drift; on an Earth without rotation the same programme turns by ``turn_deg``
    ± 1° at impact."""
    brief = _hs16b("2025-01-06", replace(GLIDE, turn=math.radians(turn_deg)))
    traj = solve_flight(brief)
    _assert_meets(traj, brief)
    assert traj.burnout_t < traj.turn_end_t < traj.impact_t
    end = int(np.searchsorted(traj.t, traj.turn_end_t))
    assert _track_turn_deg(traj, end) == pytest.approx(turn_deg, abs=0.1)
    drift_bound = math.degrees(2.0 * wgs84.OMEGA * (traj.impact_t - traj.burnout_t))
    assert 0.0 < _track_turn_deg(traj, -1) - turn_deg < drift_bound
    site = (brief.site_lat, brief.site_lon, 0.0)
    still = simulate(*site, traj.programme, traj.vehicle, Physics(rotation=False), profile=brief.profile)
    assert math.isfinite(still.turn_end_t)
    assert _track_turn_deg(still, -1) == pytest.approx(turn_deg, abs=1.0)
    # The solver aims off to the other side, so that the turn brings the glide onto the aim point.
    straight = solve_flight(replace(brief, profile=GLIDE))
    assert math.isnan(straight.turn_end_t)
    assert math.copysign(1.0, straight.programme.azimuth - traj.programme.azimuth) == math.copysign(1.0, turn_deg)


# --- scenario keys ------------------------------------------------------------------------------------------

SCENARIO = """\
name: manoeuvre
launches:
  - time: 2019-07-24T21:34:00Z
    site: {{lat: 39.40167, lon: 127.5369}}
    azimuth_deg: 70
    apogee_km: {apogee}
    range_km: 600
{extra}    profile: {profile}
"""


def _scenario(profile: str, apogee: float = 50.0, extra: str = "") -> str:
    return SCENARIO.format(profile=profile, apogee=apogee, extra=extra)


def test_profile_keys_reach_the_brief_in_si() -> None:
    scenario = parse_scenario(
        _scenario("{kind: pullup, start_alt_km: 40, load_factor_g: 3, lift_to_drag: 1.2, dive_alt_km: 10}")
    )
    (missile,) = missiles(scenario)
    assert missile.brief.profile == PullUpProfile(40e3, 10e3, 1.2, 3.0 * 9.80665)
    glide = parse_scenario(_scenario("{kind: glide, turn_deg: -20, beta_kg_m2: 7000}", apogee=60.0))
    assert missiles(glide)[0].brief.profile == GlideProfile(2.5, 3.0 * 9.80665, 7000.0, math.radians(-20.0))
    assert missiles(parse_scenario(_scenario("null")))[0].brief.profile is None


def test_scenario_pullup_is_flown_with_its_lift() -> None:
    (launch,) = fly(parse_scenario(_scenario("{kind: pullup}")))
    traj = launch.trajectory
    assert traj.profile == PULLUP and traj.lift_start_t < traj.lift_end_t
    assert traj.range_m == pytest.approx(600e3, rel=1e-3) and traj.apogee_alt == pytest.approx(50e3, rel=1e-3)


@pytest.mark.parametrize(
    ("profile", "apogee", "extra", "where", "words"),
    [
        ("{kind: pullup, start_alt_km: 30, dive_alt_km: 30}", 50.0, "", "profile.dive_alt_km", "below `start_alt_km`"),
        ("{kind: pullup, start_alt_km: 60, dive_alt_km: 40}", 35.0, "", "profile.dive_alt_km", "below `apogee_km`"),
        ("{kind: pullup}", 300.0, "", "profile", "`apogee_km` of at most 150"),
        ("{kind: glide}", 200.0, "", "profile", "a boost-glide needs `apogee_km` of at most 150"),
        ("{kind: glide}", 60.0, "    reentry_beta_kg_m2: 9000\n", "reentry_beta_kg_m2", "profile.beta_kg_m2"),
        ("{kind: pullup, start_alt: 40}", 50.0, "", "profile.start_alt", "did you mean `start_alt_km`"),
        ("{kind: glide, turn_deg: 120}", 60.0, "", "profile.turn_deg", "<= 90"),
        ("{kind: loop}", 50.0, "", "profile.kind", "invalid value 'loop'"),
    ],
)
def test_bad_profile_keys_give_one_clear_line(profile: str, apogee: float, extra: str, where: str, words: str) -> None:
    with pytest.raises(InputError) as info:
        parse_scenario(_scenario(profile, apogee, extra), "s.yaml")
    err = info.value
    assert err.where == f"launches[0].{where}"
    assert words in err.problem
    assert "\n" not in str(err)
