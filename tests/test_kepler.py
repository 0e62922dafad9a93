"""The closed-form Kepler crossing against a numerical two-body integration."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from mwx.assess import kepler
from mwx.geo import wgs84


def _state(lat: float, lon: float, alt: float, speed: float, gamma: float, heading: float) -> np.ndarray:
    """ECEF state [m, m/s] at a geodetic point with an Earth-relative speed, flight-path angle and heading (rad)."""
    r = wgs84.geodetic_to_ecef(lat, lon, alt)
    e, n, u = wgs84.enu_basis(lat, lon)
    v = speed * (math.cos(gamma) * (math.sin(heading) * e + math.cos(heading) * n) + math.sin(gamma) * u)
    return np.concatenate([r, v])


def _numerical(x: np.ndarray, radius: float) -> tuple[np.ndarray, float]:
    """Two-body flight (inertial frame = ECEF at t0) to the descending crossing of ``radius``; ECEF there."""
    y0 = np.concatenate([x[:3], kepler.inertial_velocity(x)])

    def f(_t, y):
        r = y[:3]
        return np.concatenate([y[3:], -wgs84.GM * r / np.linalg.norm(r) ** 3])

    def down(_t, y):
        return np.linalg.norm(y[:3]) - radius

    down.terminal, down.direction = True, -1
    sol = solve_ivp(f, (0.0, 20000.0), y0, events=down, rtol=1e-11, atol=1e-6, method="DOP853")
    t = float(sol.t_events[0][0])
    p = sol.y_events[0][0][:3]
    a = wgs84.OMEGA * t
    return np.array([math.cos(a) * p[0] + math.sin(a) * p[1], -math.sin(a) * p[0] + math.cos(a) * p[1], p[2]]), t


@settings(max_examples=40, deadline=None)
@given(
    lat=st.floats(-1.2, 1.2),
    lon=st.floats(-math.pi, math.pi),
    alt=st.floats(50e3, 1500e3),
    speed=st.floats(1500.0, 6000.0),  # sub-orbital at every altitude drawn (missiles, not satellites)
    gamma=st.floats(-1.2, 1.3),
    heading=st.floats(0.0, 2 * math.pi),
)
def test_crossing_matches_a_numerical_two_body_flight(lat, lon, alt, speed, gamma, heading) -> None:
    x = _state(lat, lon, alt, speed, gamma, heading)
    radius = float(np.linalg.norm(x[:3])) - alt  # the sphere through the point below
    got = kepler.crossing(x, radius)
    want, t = _numerical(x, radius)
    assert abs(float(got.time_of_flight) - t) < 1e-3 * max(t, 1.0)
    assert np.linalg.norm(got.position - want) < 1.0  # m


def test_batches_give_the_scalar_results() -> None:
    rng = np.random.default_rng(1)
    xs = np.array([_state(0.7, 2.2, 200e3, s, g, h) for s, g, h in rng.uniform([2000, -0.5, 0], [6000, 1, 6], (5, 3))])
    batch = kepler.crossing(xs, 6.37e6)
    for i, x in enumerate(xs):
        one = kepler.crossing(x, 6.37e6)
        assert np.allclose(one.position, batch.position[i], equal_nan=True)
        assert np.allclose(one.time_of_flight, batch.time_of_flight[i], equal_nan=True)


def test_an_arc_that_never_reaches_the_sphere_is_nan_and_apoapsis_is_the_top() -> None:
    x = _state(0.7, 2.2, 300e3, 3000.0, 0.6, 1.0)
    radius = float(np.linalg.norm(x[:3]))
    assert np.isnan(kepler.crossing(x, radius + 5e6).time_of_flight)
    c = kepler.crossing(x, radius)
    # Climbing at first: apoapsis ahead and higher than the start.
    assert c.time_to_apoapsis > 0 and c.apoapsis_radius > radius


def _to_frame_at(t: float, y: np.ndarray) -> np.ndarray:
    """An inertial state (the frame of ECEF at t = 0) as an ECEF state at t [m, m/s]."""
    a = wgs84.OMEGA * t
    rot = np.array([[math.cos(a), math.sin(a), 0.0], [-math.sin(a), math.cos(a), 0.0], [0.0, 0.0, 1.0]])
    r, v = rot @ y[:3], rot @ y[3:]
    return np.concatenate([r, v - np.cross([0.0, 0.0, wgs84.OMEGA], r)])


@settings(max_examples=30, deadline=None)
@given(
    lat=st.floats(-1.2, 1.2),
    lon=st.floats(-math.pi, math.pi),
    speed=st.floats(2000.0, 7000.0),
    gamma=st.floats(0.1, 1.4),
    heading=st.floats(0.0, 2 * math.pi),
    after=st.floats(-0.9, 0.9),
)
def test_apoapsis_is_the_top_of_a_numerical_two_body_flight(lat, lon, speed, gamma, heading, after) -> None:
    """From a climbing state and from one on either side of the top, flown numerically: the point where
    the radial speed turns (in the frame of ECEF at the state's instant, as :func:`kepler.apoapsis` gives it)."""
    x = _state(lat, lon, 150e3, speed, gamma, heading)
    y0 = np.concatenate([x[:3], kepler.inertial_velocity(x)])

    def f(_t, y):
        return np.concatenate([y[3:], -wgs84.GM * y[:3] / np.linalg.norm(y[:3]) ** 3])

    def top(_t, y):
        return float(np.dot(y[:3], y[3:]))

    top.terminal, top.direction = True, -1
    sol = solve_ivp(f, (0.0, 20000.0), y0, events=top, rtol=1e-11, atol=1e-6, method="DOP853")
    t_top, p_top = float(sol.t_events[0][0]), sol.y_events[0][0][:3]
    t1 = t_top * (1.0 + after)  # a state before or after the top (the arc is symmetric about it: still high)
    y1 = solve_ivp(f, (0.0, t1), y0, rtol=1e-11, atol=1e-6, method="DOP853").y[:, -1]
    got = kepler.apoapsis(x)
    assert np.linalg.norm(got - p_top) < 1.0, (got, p_top)  # m
    x1 = _to_frame_at(t1, y1)  # as ECEF at its own instant
    want = _to_frame_at(t1, np.concatenate([p_top, np.zeros(3)]))[:3]
    assert np.linalg.norm(kepler.apoapsis(x1) - want) < 1.0
