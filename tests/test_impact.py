"""Tests of mwx.assess.impact against simulator truth.

The truth is an independent computation: :func:`mwx.sim.flight.simulate` integrates
the flight in a launch-fixed inertial frame with scipy's DOP853, while the
predictor integrates in ECEF with its own RK4.  Both use the same force model
(J2 gravity, 1976 atmosphere, β = 8000 kg/m² for the re-entry body), so a
prediction started from an exact truth state must land where the truth lands.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pyproj import Geod

from mwx.assess import impact
from mwx.geo import wgs84
from mwx.sim.flight import FlightBrief, Trajectory, Vehicle, solve_flight

GEOD = Geod(ellps="WGS84")
T0 = 1.7e9  # launch time, Unix s
SITE = (math.radians(39.0), math.radians(125.7))  # generic inland launch site
CHI2_2_95 = 5.991464547107979  # χ²(2) 95 % point, from tables (not the module's constant)

FLIGHTS = {
    "srbm": (math.radians(100.0), 600e3, 150e3),
    "irbm": (math.radians(95.0), 3000e3, 700e3),
}


@cache
def flight(name: str) -> Trajectory:
    azimuth, range_m, apogee = FLIGHTS[name]
    return solve_flight(FlightBrief.along_azimuth(*SITE, azimuth, range_m, apogee))


def coast_index(traj: Trajectory, fraction: float) -> int:
    """Index of the truth sample at ``fraction`` of the way from burnout to impact."""
    return int(np.searchsorted(traj.t, traj.burnout_t + fraction * (traj.impact_t - traj.burnout_t)))


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Geodesic distance [m] between two geodetic points [rad]."""
    return float(GEOD.inv(math.degrees(lon1), math.degrees(lat1), math.degrees(lon2), math.degrees(lat2))[2])


def test_same_reentry_beta_as_the_simulator():
    # The accuracy tests below rely on the predictor assuming the simulated body.
    assert Vehicle(burn_time_s=60.0).beta_reentry == impact.ASSUMED_BETA


# ----------------------------------------------------------------- forward
@pytest.mark.parametrize("name", sorted(FLIGHTS))
def test_prediction_from_truth_lands_on_truth(name):
    traj = flight(name)
    fractions = [0.05, 0.25, 0.5, 0.75, 0.9, 0.97]
    idx = np.array([coast_index(traj, f) for f in fractions])
    x = traj.ecef[idx]
    # Tiny covariance: 1 m and 1 cm/s.
    p = np.broadcast_to(np.diag([1.0] * 3 + [1e-4] * 3), (idx.size, 6, 6)).copy()
    crossing = impact.to_ground(x, p, T0 + traj.t[idx])
    assert crossing.time.shape == (idx.size,)
    for k, i in enumerate(idx):
        miss = distance_m(crossing.lat[k], crossing.lon[k], traj.impact_lat, traj.impact_lon)
        assert miss < 1000.0, f"{name} from t={traj.t[i]:.0f} s: impact point off by {miss:.0f} m"
        late = crossing.time[k] - (T0 + traj.impact_t)
        assert abs(late) < 2.0, f"{name} from t={traj.t[i]:.0f} s: impact time off by {late:.2f} s"
        # The mean path starts at the state and ends at the crossing.
        assert crossing.path_t[k][0] == pytest.approx(T0 + traj.t[i])
        assert crossing.path_t[k][-1] == pytest.approx(crossing.time[k])
        assert np.all(np.diff(crossing.path_t[k]) > 0)
        assert abs(crossing.path_alt[k][-1]) < 1.0
        # The tiny input covariance stays small at the ground (<< 1 km).
        assert np.all(np.isfinite(crossing.cov_en[k]))
        assert np.sqrt(np.trace(crossing.cov_en[k])) < 200.0


def test_prediction_of_many_states_at_once_matches_one_by_one():
    traj = flight("srbm")
    idx = np.array([coast_index(traj, f) for f in (0.2, 0.6)])
    p = np.broadcast_to(np.diag([100.0**2] * 3 + [2.0**2] * 3), (2, 6, 6)).copy()
    both = impact.to_ground(traj.ecef[idx], p, T0 + traj.t[idx])
    for k, i in enumerate(idx):
        one = impact.to_ground(traj.ecef[i][None], p[k][None], np.array([T0 + traj.t[i]]))
        assert one.time[0] == pytest.approx(both.time[k], abs=1e-6)
        assert one.lat[0] == pytest.approx(both.lat[k], abs=1e-12)
        assert one.lon[0] == pytest.approx(both.lon[k], abs=1e-12)
        np.testing.assert_allclose(one.cov_en[0], both.cov_en[k], rtol=1e-9)


# ----------------------------------------------------------------- coverage
def _inside_by_cov(crossing: impact.GroundCrossing, truth_xyz: np.ndarray) -> np.ndarray:
    """Truth inside the predicted 95 % region, from cov_en in the ENU frame at each predicted impact."""
    n = crossing.time.size
    out = np.zeros(n, bool)
    for k in range(n):
        en = wgs84.ecef_to_enu(truth_xyz, crossing.lat[k], crossing.lon[k], 0.0)[:2]
        out[k] = en @ np.linalg.solve(crossing.cov_en[k], en) <= CHI2_2_95
    return out


def _inside_by_ellipse(crossing: impact.GroundCrossing, truth_xyz: np.ndarray) -> np.ndarray:
    """Truth inside the ellipse given by ellipse_95's semi-axes and major-axis azimuth."""
    n = crossing.time.size
    out = np.zeros(n, bool)
    for k in range(n):
        east, north = wgs84.ecef_to_enu(truth_xyz, crossing.lat[k], crossing.lon[k], 0.0)[:2]
        major, minor, azimuth = crossing.ellipse_95(k)
        along = east * math.sin(azimuth) + north * math.cos(azimuth)
        across = east * math.cos(azimuth) - north * math.sin(azimuth)
        out[k] = (along / major) ** 2 + (across / minor) ** 2 <= 1.0
    return out


@pytest.mark.parametrize(("name", "fraction"), [("srbm", 0.4), ("irbm", 0.3)])
def test_95_percent_ellipse_covers_truth_at_its_rate(name, fraction):
    traj = flight(name)
    i = coast_index(traj, fraction)
    p = np.diag([200.0**2] * 3 + [5.0**2] * 3)
    n = 200
    rng = np.random.default_rng(20240601)
    states = rng.multivariate_normal(traj.ecef[i], p, size=n)
    crossing = impact.to_ground(states, np.broadcast_to(p, (n, 6, 6)).copy(), np.full(n, T0 + traj.t[i]))
    assert np.all(np.isfinite(crossing.time))
    truth_xyz = wgs84.geodetic_to_ecef(traj.impact_lat, traj.impact_lon, 0.0)
    by_cov = _inside_by_cov(crossing, truth_xyz)
    by_ellipse = _inside_by_ellipse(crossing, truth_xyz)
    # The two descriptions of the same ellipse agree (up to points on its edge).
    assert np.mean(by_cov != by_ellipse) <= 0.01
    for rate in (by_cov.mean(), by_ellipse.mean()):
        assert 0.88 <= rate <= 0.99, f"{name}: 95 % ellipse covers the truth {rate:.1%} of the time"


def test_ellipse_95_axes_and_orientation():
    # A covariance built from known axes: σ 3 km along azimuth 30°, 1 km across.
    az = math.radians(30.0)
    major_dir = np.array([math.sin(az), math.cos(az)])  # (east, north)
    minor_dir = np.array([math.cos(az), -math.sin(az)])
    cov = 3000.0**2 * np.outer(major_dir, major_dir) + 1000.0**2 * np.outer(minor_dir, minor_dir)
    nan = np.full(1, np.nan)
    crossing = impact.GroundCrossing(nan, nan, nan, cov[None], [], [], [], [], [])
    major, minor, azimuth = crossing.ellipse_95(0)
    scale = math.sqrt(CHI2_2_95)
    assert major == pytest.approx(3000.0 * scale, rel=1e-9)
    assert minor == pytest.approx(1000.0 * scale, rel=1e-9)
    assert azimuth == pytest.approx(az, abs=1e-9)


# ----------------------------------------------------------------- backward
def test_backward_trace_lands_near_the_launch_site():
    for name in sorted(FLIGHTS):
        traj = flight(name)
        _, range_m, _ = FLIGHTS[name]
        idx = np.array([int(np.searchsorted(traj.t, traj.burnout_t + dt)) for dt in (5.0, 30.0)])
        p = np.broadcast_to(np.diag([10.0**2] * 3 + [0.1**2] * 3), (2, 6, 6)).copy()
        back = impact.to_ground(traj.ecef[idx], p, T0 + traj.t[idx], direction=-1)
        assert np.all(np.isfinite(back.time))
        assert np.all(back.time < T0 + traj.t[idx])
        for k in range(2):
            assert np.all(np.diff(back.path_t[k]) < 0)  # going back in time
            off = distance_m(back.lat[k], back.lon[k], *SITE)
            assert off < 0.3 * range_m, f"{name}: back-traced launch point {off / 1e3:.0f} km from the site"
        # Both states lie on the same ballistic arc, so both trace back to the same point.
        assert distance_m(back.lat[0], back.lon[0], back.lat[1], back.lon[1]) < 500.0
        assert back.time[0] == pytest.approx(back.time[1], abs=2.0)


# ----------------------------------------------------------------- sigma points
@st.composite
def spd_problems(draw):
    x = draw(hnp.arrays(np.float64, 6, elements=st.floats(-1e7, 1e7)))
    a = draw(hnp.arrays(np.float64, (6, 6), elements=st.floats(-1.0, 1.0)))
    # Standard deviations spanning three decades, as position [m] and velocity [m/s] do in a track.
    scales = draw(hnp.arrays(np.float64, 6, elements=st.floats(1.0, 1e3)))
    ridge = draw(st.floats(0.05, 1.0))
    m = a @ a.T + ridge * np.eye(6)  # symmetric positive definite
    p = scales[:, None] * m * scales[None, :]
    return x, p


@settings(max_examples=150, deadline=None)
@given(spd_problems())
def test_sigma_points_reconstruct_mean_and_covariance(problem):
    x, p = problem
    pts = impact.sigma_points(x[None], p[None])[0]
    assert pts.shape == (13, 6)
    np.testing.assert_array_equal(pts[0], x)
    spread = pts[1:] - x
    # Symmetric pairs: +L column and -L column.
    np.testing.assert_allclose(pts[1:7] - x, -(pts[7:] - x), rtol=1e-9, atol=1e-9 * (1.0 + np.abs(x).max()))
    mean = pts[1:].mean(axis=0)
    sd = np.sqrt(np.diag(p))
    assert np.all(np.abs(mean - x) <= 1e-12 * np.abs(x) + 1e-9 * sd)
    cov = spread.T @ spread / 12.0  # unscented transform with κ = 0: weights 1/12
    # Compare in correlation units so every scale counts the same; 1e-3 leaves room for a
    # numerical-safety diagonal load far below any physically meaningful variance.
    tolerance = 1e-3
    np.testing.assert_allclose(cov / np.outer(sd, sd), p / np.outer(sd, sd), atol=tolerance)


def test_back_trace_from_low_in_the_air_reaches_the_ground() -> None:
    """A depressed flight seen only on its way down: tracing back through the air (drag feeds energy
    in backwards, which destabilises long RK4 steps) must reach the ground, before the state, from
    every descending state."""
    from mwx.sim.scenario import parse_scenario
    from mwx.sim.truth import fly

    launch = fly(
        parse_scenario(
            "name: x\nseed: 1\nlaunches:\n  - {id: A, time: 2022-10-03T22:45:00Z, site: {lat: 39.2, lon: 125.67},"
            " azimuth_deg: 88, apogee_km: 60, range_km: 600, separating_stages: 0}\n"
        )
    )[0]
    obj = launch.objects[0]
    states = obj.states_at(obj.t)
    alt = wgs84.ellipsoidal_height(states[:, :3])
    rows = np.arange(int(np.argmax(alt)), len(alt) - 1, 5)  # the way down, to 1 s before impact
    _, hit_t, _ = impact.fly_to_ground(states[rows], obj.t[rows], direction=-1)
    assert np.all(np.isfinite(hit_t)) and np.all(hit_t < obj.t[rows])
