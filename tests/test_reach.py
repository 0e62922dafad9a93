"""The reachable impact region of a body that can manoeuvre (:mod:`mwx.assess.reach`).

Truth from :func:`mwx.sim.flight.solve_flight` (the coverage set: :func:`mwx.sim.flight.simulate`, faster) with a
profile (:mod:`mwx.sim.lift`); the track a true state with a small, tracker-like error and covariance, its
history the true states every 5 s of its coast, each with its own error.
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace

import numpy as np
import pytest

from mwx.assess import distribution, drag, reach
from mwx.geo import wgs84
from mwx.geo.hermite import interpolate_states
from mwx.sim import lift
from mwx.sim.flight import FlightBrief, Physics, Programme, Trajectory, simulate, solve_flight
from mwx.sim.lift import G0, GlideProfile, PullUpProfile

#: The KN-23 flight of tests/test_lift.py: Hodo peninsula, bearing 70°, 600 km, apogee 50 km; the scenario's
#: ``PullUp`` defaults (start 45 km, dive 15 km, L/D 1.5, 2 g).
HODO = (math.radians(39.40167), math.radians(127.5369))
PULLUP = PullUpProfile(start_alt=45e3, dive_alt=15e3, lift_to_drag=1.5, max_accel=2.0 * G0)
#: A tracker's state error after some tens of seconds of radar track (σ per axis, position [m], velocity [m/s]).
SIGMA_R, SIGMA_V = 60.0, 4.0
P = np.diag([SIGMA_R**2] * 3 + [SIGMA_V**2] * 3)


@pytest.fixture(scope="module")
def kn23() -> Trajectory:
    return solve_flight(FlightBrief.along_azimuth(*HODO, math.radians(70.0), 600e3, 50e3, profile=PULLUP))


def _track(traj: Trajectory, t: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, tuple]:
    """The state at ``t`` [s after launch] with an error drawn from P, and the history every 5 s from 15 s after
    burnout (each state with its own error): what :func:`mwx.assess.events.assess_track` hands the prediction."""
    rng = np.random.default_rng([seed, int(t)])
    times = np.arange(t, traj.burnout_t + 15.0 - 1e-9, -5.0)[::-1]
    states = interpolate_states(traj.t, traj.ecef, times) + rng.standard_normal((times.size, 6)) @ np.sqrt(P)
    return states[-1:], times[-1:], (times, states, np.repeat(P[None], times.size, axis=0))


def _inside(dist: distribution.ImpactDistribution, traj: Trajectory) -> bool:
    return bool(dist.inside_95(np.array([traj.impact_lat]), np.array([traj.impact_lon]))[0])


def _area_km2(dist: distribution.ImpactDistribution) -> float:
    a, b, _ = dist.ellipse_95(0)
    return math.pi * a * b / 1e6


def test_lifted_flight_lands_where_the_simulator_does(kn23: Trajectory) -> None:
    """The assessor's lifted flight with the true programme, from the true state, lands within a few km of the
    simulator's (DOP853) impact: the lift law and the step control of :func:`reach.fly_lifted`."""
    prog = reach.Programmes(
        kind=np.array([reach.PULLUP]), lift_to_drag=np.array([PULLUP.lift_to_drag]),
        max_accel=np.array([PULLUP.max_accel]), beta=np.array([kn23.vehicle.beta_reentry]),
        start_alt=np.array([PULLUP.start_alt]), dive_alt=np.array([PULLUP.dive_alt]), turn=np.zeros(1),
    )  # fmt: skip
    truth = wgs84.geodetic_to_ecef(kn23.impact_lat, kn23.impact_lon, 0.0)
    for t in (kn23.burnout_t + 15.0, kn23.lift_start_t - 10.0):
        x = interpolate_states(kn23.t, kn23.ecef, np.array([t]))
        hit, hit_t, _ = reach.fly_lifted(x, np.array([t]), prog)
        assert np.linalg.norm(hit[0] - truth) < 5e3, t
        assert abs(hit_t[0] - kn23.impact_t) < 5.0
    # Without its lift the same body falls ~170 km short: what the test above would miss.
    ballistic = reach.Programmes(**{**prog.__dict__, "kind": np.array([reach.BALLISTIC])})
    hit, _, _ = reach.fly_lifted(x, np.array([t]), ballistic)
    assert np.linalg.norm(hit[0] - truth) > 100e3


def test_turning_glide_lands_where_the_simulator_does() -> None:
    """A glide banked to turn 20° right, flown from its state after burnout with the turn it has left: the bank
    ends where the simulator's does (its ground track turned by 20° since burnout)."""
    glide = GlideProfile(lift_to_drag=2.0, max_accel=2.0 * G0, beta=9000.0, turn=math.radians(20.0))
    traj = solve_flight(FlightBrief.along_azimuth(*HODO, math.radians(70.0), 900e3, 90e3, profile=glide))
    assert math.isfinite(traj.turn_end_t)
    burnout = interpolate_states(traj.t, traj.ecef, np.array([traj.burnout_t]))[0]
    truth = wgs84.geodetic_to_ecef(traj.impact_lat, traj.impact_lon, 0.0)
    for t in (traj.burnout_t + 15.0, traj.apogee_t):
        x = interpolate_states(traj.t, traj.ecef, np.array([t]))
        turned = lift.track_turn(x[0, :3], x[0, 3:], lift.plane_normal(burnout[:3], burnout[3:]))
        prog = reach.Programmes(
            kind=np.array([reach.GLIDE]), lift_to_drag=np.array([glide.lift_to_drag]),
            max_accel=np.array([glide.max_accel]), beta=np.array([glide.beta]), start_alt=np.zeros(1),
            dive_alt=np.zeros(1), turn=np.array([glide.turn - turned]),
        )  # fmt: skip
        hit, _, _ = reach.fly_lifted(x, np.array([t]), prog)
        assert np.linalg.norm(hit[0] - truth) < 5e3, (t, np.linalg.norm(hit[0] - truth))


def test_pull_up_region_reaches_the_pulled_up_impact_the_ballistic_ellipse_misses(kn23: Trajectory) -> None:
    for t in (kn23.burnout_t + 30.0, kn23.lift_start_t):
        x, tt, history = _track(kn23, t)
        ballistic = distribution.predict_mixture(x, P[None], tt, np.random.default_rng(1), drag.REENTRY_BODY)
        assert not _inside(ballistic, kn23), t
        dist = reach.predict(x, P[None], tt, np.random.default_rng(1), drag.REENTRY_BODY, history=history)
        assert _inside(dist, kn23), t
        # The region's meaning: its 95 % ellipse holds 95 % of the samples (or more: every kind its share).
        share = _share_inside(dist)
        assert 0.95 <= share <= 0.99, share


def _share_inside(dist: distribution.ImpactDistribution) -> float:
    """Share of the samples inside the 95 % ellipse (one track)."""
    lat, lon = dist.sample_lat_lon()
    east, north = distribution._east_north(dist.lat[0], dist.lon[0], lat[0], lon[0])
    d = np.stack([east, north], axis=-1)
    m2 = np.einsum("si,si->s", d, np.linalg.solve(dist.cov_en[0], d.T).T)
    return float(np.mean(m2 <= distribution.CHI2_2_95))


def test_region_shrinks_as_the_flight_commits(kn23: Trajectory) -> None:
    """At the lift's start the body may still do all of its pull-up; midway less; after its dive nothing (once the
    track's evidence window, 10–20 s, lies past the dive: until then a lower dive is still possible)."""
    start, end = kn23.lift_start_t, kn23.lift_end_t
    areas = []
    for t in (start, 0.5 * (start + end), end + 20.0):
        x, tt, history = _track(kn23, t)
        dist = reach.predict(x, P[None], tt, np.random.default_rng(2), drag.REENTRY_BODY, history=history)
        assert _inside(dist, kn23), t
        areas.append(_area_km2(dist))
    assert areas[0] > 3.0 * areas[1] > 3.0 * 3.0 * areas[2], areas


def test_exo_atmospheric_icbm_gets_exactly_todays_prediction() -> None:
    """A lofted ICBM (apogee 4475 km) cannot lift: the same samples from the same generator as predict_mixture."""
    traj = solve_flight(FlightBrief.along_azimuth(*HODO, math.radians(90.0), 950e3, 4475e3))
    assert traj.apogee_alt > 1000e3
    x, tt, history = _track(traj, 1200.0)
    mixture = (drag.Component(0.9, 8000.0, 0.3), drag.Component(0.1, 600.0, 0.5))
    today = distribution.predict_mixture(x, P[None], tt, np.random.default_rng(7), mixture, samples=500)
    details: list = []
    now = reach.predict(x, P[None], tt, np.random.default_rng(7), mixture, samples=500, history=history,
                        details=details)  # fmt: skip
    assert details == [None]
    for field in ("time", "lat", "lon", "cov_en", "time_sigma", "sample_position", "sample_time", "apogee_alt"):
        np.testing.assert_array_equal(getattr(now, field), getattr(today, field), err_msg=field)


@functools.cache
def _base(kind: str) -> Trajectory:
    """The ballistic flights whose programmes the coverage set varies: a KN-23-like 600 km flight peaking at 50 km
    (pull-ups) and a 900 km one peaking at 90 km (glides), from Hodo at 70°."""
    range_m, apogee = (600e3, 50e3) if kind == "pullup" else (900e3, 90e3)
    return solve_flight(FlightBrief.along_azimuth(*HODO, math.radians(70.0), range_m, apogee))


def _drawn_flight(k: int) -> Trajectory:
    """Flight k of the coverage set: a pull-up (even k) or a glide (odd k) with its programme drawn over the
    prior's spread (:data:`mwx.assess.reach.PRIOR`) and the re-entry β over the body's prior, flown
    (:func:`mwx.sim.flight.simulate`) with its base flight's motor, the velocity gain −8…+4 %, the final pitch
    ±10 % and the azimuth ±15° about it (no solving to a brief: a few tenths of a second per flight)."""
    prior = reach.PRIOR
    rng = np.random.default_rng([11, k])
    u = rng.random(9)

    def spread(lo_hi: tuple[float, float], v: float) -> float:
        return lo_hi[0] + (lo_hi[1] - lo_hi[0]) * v

    beta = 8000.0 * math.exp(0.3 * rng.standard_normal())
    n_max, lift_to_drag = spread(prior.load_g, u[0]) * G0, spread(prior.lift_to_drag, u[1])
    profile: PullUpProfile | GlideProfile
    if k % 2 == 0:
        profile = PullUpProfile(spread(prior.start_alt, u[2]), spread(prior.dive_alt, u[3]), lift_to_drag, n_max)
        base = _base("pullup")
    else:
        profile = GlideProfile(lift_to_drag, n_max, beta, spread(prior.turn, u[2]))
        base = _base("glide")
    prog = base.programme
    programme = Programme(
        prog.delta_v * spread((0.92, 1.04), u[4]), prog.pitch * spread((0.9, 1.1), u[5]),
        prog.azimuth + math.radians(spread((-15.0, 15.0), u[6])),
    )  # fmt: skip
    vehicle = replace(base.vehicle, beta_reentry=beta)
    return simulate(*HODO, 0.0, programme, vehicle, Physics(), profile=profile)


def test_coverage_of_seeded_manoeuvring_flights() -> None:
    """40 pull-ups and glides with drawn programmes, one prediction each at a drawn time of the coast: the 95 %
    region holds the true impact point in at least 85 % of them (docs/benchmarks.md: 90–98 % over 240 flights);
    the ballistic prediction of the same states would hold it in few (the test fails if the lift is ignored)."""
    reached, ballistic = [], []
    for k in range(40):
        traj = _drawn_flight(k)
        t = float(np.random.default_rng([12, k]).uniform(traj.burnout_t + 20.0, traj.impact_t - 20.0))
        x, tt, history = _track(traj, t, seed=k)
        rng = np.random.default_rng([13, k])
        reached.append(_inside(reach.predict(x, P[None], tt, rng, drag.REENTRY_BODY, history=history), traj))
        plain = distribution.predict_mixture(x, P[None], tt, np.random.default_rng([13, k]), drag.REENTRY_BODY)
        ballistic.append(_inside(plain, traj))
    assert np.mean(reached) >= 0.85, np.mean(reached)
    assert np.mean(ballistic) <= 0.5, np.mean(ballistic)
