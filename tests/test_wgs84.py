"""Tests of mwx.geo.wgs84 against pyproj (PROJ) and independent constructions.

pyproj is the reference for the forward geodetic→ECEF conversion (EPSG:4979 →
EPSG:4978) and for topocentric ENU (PROJ's ``topocentric`` operation).  PROJ's
own inverse is *not* used as a reference: it loses ~0.3 m of height near
40 000 km, which is worse than the module under test, so the inverse is checked
by round trip instead.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mwx.geo import wgs84

MM = 1e-3  # one millimetre [m]

lats = st.floats(min_value=-math.pi / 2, max_value=math.pi / 2)
lons = st.floats(min_value=-math.pi, max_value=math.pi)
heights = st.floats(min_value=-10_000.0, max_value=40_000_000.0)
# Sensor sites and the short-range geometry ENU is used for.
site_heights = st.floats(min_value=-500.0, max_value=10_000.0)
offsets = st.floats(min_value=-3_000_000.0, max_value=3_000_000.0)
times = st.floats(min_value=-86_400.0, max_value=86_400.0)
speeds = st.floats(min_value=-8_000.0, max_value=8_000.0)


@cache
def _to_ecef() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)


def pyproj_ecef(lat: float, lon: float, h: float) -> np.ndarray:
    x, y, z = _to_ecef().transform(math.degrees(lon), math.degrees(lat), h)
    return np.array([x, y, z])


def pyproj_enu(xyz: np.ndarray, lat0: float, lon0: float, h0: float) -> np.ndarray:
    # float() so numpy 2's repr (``np.float64(...)``) never reaches the PROJ string.
    t = pyproj.Transformer.from_pipeline(
        f"+proj=topocentric +ellps=WGS84 +lat_0={math.degrees(float(lat0))!r}"
        f" +lon_0={math.degrees(float(lon0))!r} +h_0={float(h0)!r}"
    )
    return np.array(t.transform(*(float(c) for c in xyz)))


def angle_diff(a: float, b: float) -> float:
    """|a - b| wrapped into [0, π] (longitudes ±π are the same meridian)."""
    return abs(math.remainder(a - b, 2.0 * math.pi))


# --- geodetic ↔ ECEF ---------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(lats, lons, heights)
def test_geodetic_to_ecef_matches_pyproj(lat: float, lon: float, h: float) -> None:
    np.testing.assert_allclose(wgs84.geodetic_to_ecef(lat, lon, h), pyproj_ecef(lat, lon, h), rtol=0, atol=MM)


def test_geodetic_to_ecef_matches_pyproj_in_batch() -> None:
    rng = np.random.default_rng(1984)
    n = 20_000
    lat = rng.uniform(-math.pi / 2, math.pi / 2, n)
    lon = rng.uniform(-math.pi, math.pi, n)
    h = np.concatenate([rng.uniform(-10e3, 100e3, n // 2), rng.uniform(-10e3, 4e7, n // 2)])
    x, y, z = _to_ecef().transform(np.degrees(lon), np.degrees(lat), h)
    np.testing.assert_allclose(wgs84.geodetic_to_ecef(lat, lon, h), np.stack([x, y, z], -1), rtol=0, atol=MM)
    # And the inverse over the same cloud, in one vectorised call.
    lat2, lon2, h2 = wgs84.ecef_to_geodetic(np.stack([x, y, z], -1))
    np.testing.assert_allclose(h2, h, rtol=0, atol=MM)
    np.testing.assert_allclose(lat2, lat, rtol=0, atol=1e-10)
    np.testing.assert_allclose(np.remainder(lon2 - lon + np.pi, 2 * np.pi) - np.pi, 0, atol=1e-10)


def test_known_points() -> None:
    # Equator/prime meridian, the poles: the defining radii a and b.
    np.testing.assert_allclose(wgs84.geodetic_to_ecef(0, 0, 0), [wgs84.A, 0, 0], atol=1e-9)
    np.testing.assert_allclose(
        wgs84.geodetic_to_ecef(math.pi / 2, 0.3, 100.0),
        [0, 0, wgs84.B + 100.0],
        atol=1e-6,
    )
    np.testing.assert_allclose(wgs84.geodetic_to_ecef(-math.pi / 2, 0, 0), [0, 0, -wgs84.B], atol=1e-6)
    assert pytest.approx(6356752.314245, abs=1e-6) == wgs84.B  # TR8350.2 table 3.3
    lat, lon, h = wgs84.ecef_to_geodetic([0.0, 0.0, wgs84.B + 5.0])
    assert (lat, lon, h) == (
        pytest.approx(math.pi / 2),
        0.0,
        pytest.approx(5.0, abs=1e-9),
    )


@settings(max_examples=300, deadline=None)
@given(lats, lons, heights)
def test_ecef_to_geodetic_round_trip(lat: float, lon: float, h: float) -> None:
    lat2, lon2, h2 = wgs84.ecef_to_geodetic(wgs84.geodetic_to_ecef(lat, lon, h))
    assert abs(h2 - h) < MM
    assert abs(lat2 - lat) < 1e-10
    # Longitude is undefined on the axis; elsewhere compare along the parallel
    # (a 1e-10 rad error there is < 0.7 mm even at 40 000 km).
    if math.cos(lat) > 1e-9:
        assert angle_diff(lon2, lon) < 1e-10


@settings(max_examples=300, deadline=None)
@given(lats, lons, heights)
def test_geodetic_altitude_equals_array_path(lat: float, lon: float, h: float) -> None:
    xyz = wgs84.geodetic_to_ecef(lat, lon, h)
    fast = wgs84.geodetic_altitude(*(float(c) for c in xyz))
    assert isinstance(fast, float)
    # Two Bowring passes against three: equal to rounding (1.5e-8 m seen at 40 000 km).
    assert abs(fast - float(wgs84.ecef_to_geodetic(xyz)[2])) < 1e-6
    assert abs(fast - h) < MM


@settings(max_examples=100, deadline=None)
@given(lats, lons, heights, st.floats(min_value=-math.pi, max_value=math.pi))
def test_geodetic_altitude_is_invariant_under_z_rotation(lat: float, lon: float, h: float, theta: float) -> None:
    # The docstring promises the same height in ECEF and in the inertial frame.
    x, y, z = wgs84.geodetic_to_ecef(lat, lon, h)
    c, s = math.cos(theta), math.sin(theta)
    rotated = wgs84.geodetic_altitude(c * x - s * y, s * x + c * y, z)
    assert abs(rotated - wgs84.geodetic_altitude(x, y, z)) < 1e-6


# --- ENU / AER ---------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(lats, lons, site_heights, offsets, offsets, offsets)
def test_ecef_to_enu_matches_pyproj_topocentric(
    lat0: float, lon0: float, h0: float, dx: float, dy: float, dz: float
) -> None:
    xyz = wgs84.geodetic_to_ecef(lat0, lon0, h0) + np.array([dx, dy, dz])
    np.testing.assert_allclose(
        wgs84.ecef_to_enu(xyz, lat0, lon0, h0),
        pyproj_enu(xyz, lat0, lon0, h0),
        rtol=0,
        atol=MM,
    )


@settings(max_examples=200, deadline=None)
@given(lats, lons, site_heights, st.floats(min_value=0.0, max_value=40_000_000.0))
def test_point_straight_up_is_pure_u(lat0: float, lon0: float, h0: float, d: float) -> None:
    # The ellipsoid normal *is* the geodetic up direction, at any height.
    xyz = wgs84.geodetic_to_ecef(lat0, lon0, h0 + d)
    e, n, u = wgs84.ecef_to_enu(xyz, lat0, lon0, h0)
    assert abs(e) < MM and abs(n) < MM
    assert abs(u - d) < MM


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-1.5, max_value=1.5), lons, site_heights)
def test_small_steps_north_and_east(lat0: float, lon0: float, h0: float) -> None:
    step = 1e-6  # rad: a few metres
    sin_lat = math.sin(lat0)
    w = math.sqrt(1.0 - wgs84.E2 * sin_lat**2)
    meridian = wgs84.A * (1.0 - wgs84.E2) / w**3  # radius of curvature M
    prime_vertical = wgs84.A / w  # N
    north = wgs84.ecef_to_enu(wgs84.geodetic_to_ecef(lat0 + step, lon0, h0), lat0, lon0, h0)
    assert north[1] > 0.0
    assert north[1] == pytest.approx((meridian + h0) * step, rel=1e-5)
    # East of a step due north: zero but for rounding of ECEF coordinates of ~6.4e6 m (ulp ~1e-9 m,
    # so a few ulps); up: the curvature drop ~ n²/2R.
    assert abs(north[0]) < 1e-8 and abs(north[2]) < 1e-4
    east = wgs84.ecef_to_enu(wgs84.geodetic_to_ecef(lat0, lon0 + step, h0), lat0, lon0, h0)
    assert east[0] > 0.0
    assert east[0] == pytest.approx((prime_vertical + h0) * math.cos(lat0) * step, rel=1e-5)
    assert abs(east[1]) < 1e-4 and abs(east[2]) < 1e-4


@settings(max_examples=200, deadline=None)
@given(lats, lons, site_heights, offsets, offsets, offsets)
def test_enu_ecef_round_trip(lat0: float, lon0: float, h0: float, e: float, n: float, u: float) -> None:
    enu = np.array([e, n, u])
    xyz = wgs84.enu_to_ecef(enu, lat0, lon0, h0)
    np.testing.assert_allclose(wgs84.ecef_to_enu(xyz, lat0, lon0, h0), enu, rtol=0, atol=MM)


@settings(max_examples=100, deadline=None)
@given(lats, lons)
def test_enu_basis_is_right_handed_orthonormal(lat: float, lon: float) -> None:
    basis = wgs84.enu_basis(lat, lon)
    np.testing.assert_allclose(basis @ basis.T, np.eye(3), atol=1e-15)
    np.testing.assert_allclose(np.cross(basis[0], basis[1]), basis[2], atol=1e-15)


@settings(max_examples=300, deadline=None)
@given(offsets, offsets, offsets)
def test_aer_enu_round_trip(e: float, n: float, u: float) -> None:
    enu = np.array([e, n, u])
    az, el, rng = wgs84.enu_to_aer(enu)
    assert 0.0 <= az < 2.0 * math.pi
    assert -math.pi / 2 <= el <= math.pi / 2
    assert rng >= 0.0
    np.testing.assert_allclose(wgs84.aer_to_enu(az, el, rng), enu, rtol=0, atol=1e-6)


@settings(max_examples=200, deadline=None)
@given(
    st.floats(min_value=0.0, max_value=2 * math.pi, exclude_max=True),
    st.floats(min_value=-1.5, max_value=1.5),
    st.floats(min_value=1.0, max_value=1e7),
)
def test_enu_aer_round_trip(az: float, el: float, rng: float) -> None:
    az2, el2, rng2 = wgs84.enu_to_aer(wgs84.aer_to_enu(az, el, rng))
    assert angle_diff(az2, az) < 1e-12
    assert el2 == pytest.approx(el, abs=1e-12)
    assert rng2 == pytest.approx(rng, rel=1e-14)


@pytest.mark.parametrize(
    ("enu", "az", "el"),
    [
        ((0.0, 1.0, 0.0), 0.0, 0.0),  # north
        ((1.0, 0.0, 0.0), math.pi / 2, 0.0),  # east: azimuth is clockwise from north
        ((0.0, -1.0, 0.0), math.pi, 0.0),  # south
        ((-1.0, 0.0, 0.0), 3 * math.pi / 2, 0.0),  # west: in [0, 2π), not -π/2
        ((0.0, 0.0, 1.0), 0.0, math.pi / 2),  # zenith
        ((1.0, 1.0, math.sqrt(2.0)), math.pi / 4, math.pi / 4),
    ],
)
def test_azimuth_elevation_convention(enu: tuple[float, float, float], az: float, el: float) -> None:
    az2, el2, rng = wgs84.enu_to_aer(enu)
    assert az2 == pytest.approx(az, abs=1e-15)
    assert el2 == pytest.approx(el, abs=1e-15)
    assert rng == pytest.approx(math.sqrt(sum(c * c for c in enu)))


# --- ECEF ↔ inertial -----------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(times, offsets, offsets, offsets, speeds, speeds, speeds)
def test_eci_round_trip_positions_and_velocities(
    t: float, x: float, y: float, z: float, vx: float, vy: float, vz: float
) -> None:
    r = np.array([x, y, z]) + np.array([wgs84.A, 0.0, 0.0])
    v = np.array([vx, vy, vz])
    r_i, v_i = wgs84.ecef_to_eci(t, r, v)
    r2, v2 = wgs84.eci_to_ecef(t, r_i, v_i)
    np.testing.assert_allclose(r2, r, rtol=0, atol=1e-6)
    np.testing.assert_allclose(v2, v, rtol=0, atol=1e-9)
    np.testing.assert_allclose(wgs84.eci_to_ecef(t, wgs84.ecef_to_eci(t, r)), r, atol=1e-6)
    # Pure rotation about z: norms and z are kept.
    assert np.linalg.norm(r_i) == pytest.approx(np.linalg.norm(r), rel=1e-14)
    assert r_i[2] == r[2]


@settings(max_examples=200, deadline=None)
@given(times, lats, lons, heights)
def test_point_fixed_in_ecef_moves_at_omega_p(t: float, lat: float, lon: float, h: float) -> None:
    r = wgs84.geodetic_to_ecef(lat, lon, h)
    r_i, v_i = wgs84.ecef_to_eci(t, r, np.zeros(3))
    p = math.hypot(r[0], r[1])
    assert np.linalg.norm(v_i) == pytest.approx(wgs84.OMEGA * p, rel=1e-12, abs=1e-12)
    # Eastward (counter-clockwise seen from +z), perpendicular to the radius.
    assert v_i[2] == 0.0
    assert abs(np.dot(v_i[:2], r_i[:2])) <= 1e-9 * max(p, 1.0) ** 2 * wgs84.OMEGA
    assert r_i[0] * v_i[1] - r_i[1] * v_i[0] >= 0.0


def test_inertial_velocity_matches_finite_difference_of_position() -> None:
    # v_eci = d/dt r_eci for a point moving in ECEF: checks the ω×r sign.
    r0, v = np.array([4.0e6, -3.0e6, 2.5e6]), np.array([120.0, -45.0, 300.0])
    t, dt = 1234.5, 1e-3

    def r_eci(tt: float) -> np.ndarray:
        return wgs84.ecef_to_eci(tt, r0 + v * (tt - t))

    _, v_i = wgs84.ecef_to_eci(t, r0, v)
    np.testing.assert_allclose(v_i, (r_eci(t + dt) - r_eci(t - dt)) / (2 * dt), atol=1e-6)


def test_eci_frame_coincides_at_epoch_and_rotates_eastward() -> None:
    r = np.array([wgs84.A, 0.0, 1000.0])
    np.testing.assert_array_equal(wgs84.ecef_to_eci(0.0, r), r)
    quarter = math.pi / 2 / wgs84.OMEGA  # a quarter turn of the Earth
    np.testing.assert_allclose(wgs84.ecef_to_eci(quarter, r), [0.0, wgs84.A, 1000.0], atol=1e-6)


# --- batch and scalar agree (one code path) ------------------------------------


def _cloud(n: int = 64) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(7)
    return (
        rng.uniform(-math.pi / 2, math.pi / 2, n),
        rng.uniform(-math.pi, math.pi, n),
        rng.uniform(-10e3, 4e7, n),
    )


def test_batch_equals_scalar_calls() -> None:
    lat, lon, h = _cloud()
    xyz = wgs84.geodetic_to_ecef(lat, lon, h)
    geo = wgs84.ecef_to_geodetic(xyz)
    lat0, lon0, h0 = 0.6, -1.2, 250.0
    enu = wgs84.ecef_to_enu(xyz, lat0, lon0, h0)
    enu_per_origin = wgs84.ecef_to_enu(xyz, lat, lon, np.zeros_like(h))  # broadcast origins
    back = wgs84.enu_to_ecef(enu, lat0, lon0, h0)
    aer = wgs84.enu_to_aer(enu)
    again = wgs84.aer_to_enu(*aer)
    t = np.linspace(-3600.0, 3600.0, lat.size)
    r_i, v_i = wgs84.ecef_to_eci(t, xyz, xyz * 1e-3)
    r_e, v_e = wgs84.eci_to_ecef(t, xyz, xyz * 1e-3)
    assert xyz.shape == enu.shape == back.shape == again.shape == r_i.shape == (lat.size, 3)
    for k in range(lat.size):
        # Equal to rounding: einsum and the SIMD loops may sum in another order
        # for a batch than for one point, so ask for 1e-9 m rather than bits.
        np.testing.assert_allclose(wgs84.geodetic_to_ecef(lat[k], lon[k], h[k]), xyz[k], atol=1e-9)
        one = wgs84.ecef_to_geodetic(xyz[k])
        assert all(abs(one[i] - geo[i][k]) < 1e-9 for i in range(3))
        np.testing.assert_allclose(wgs84.ecef_to_enu(xyz[k], lat0, lon0, h0), enu[k], atol=1e-9)
        np.testing.assert_allclose(wgs84.ecef_to_enu(xyz[k], lat[k], lon[k], 0.0), enu_per_origin[k], atol=1e-9)
        np.testing.assert_allclose(wgs84.enu_to_ecef(enu[k], lat0, lon0, h0), back[k], atol=1e-9)
        one_aer = wgs84.enu_to_aer(enu[k])
        assert all(abs(one_aer[i] - aer[i][k]) <= 1e-9 * max(1.0, abs(aer[i][k])) for i in range(3))
        np.testing.assert_allclose(wgs84.aer_to_enu(*one_aer), again[k], atol=1e-9)
        one_i = wgs84.ecef_to_eci(t[k], xyz[k], xyz[k] * 1e-3)
        np.testing.assert_allclose(one_i[0], r_i[k], atol=1e-9)
        np.testing.assert_allclose(one_i[1], v_i[k], atol=1e-12)
        one_e = wgs84.eci_to_ecef(t[k], xyz[k], xyz[k] * 1e-3)
        np.testing.assert_allclose(one_e[0], r_e[k], atol=1e-9)
        np.testing.assert_allclose(one_e[1], v_e[k], atol=1e-12)
        np.testing.assert_allclose(wgs84.enu_basis(lat[k], lon[k]), wgs84.enu_basis(lat, lon)[k])


def test_azimuth_just_west_of_north_is_below_two_pi() -> None:
    # arctan2 gives -tiny; a plain mod(·, 2π) would round that to exactly 2π.
    for e in (-1e-300, -5e-324, -1e-17):
        az = wgs84.enu_to_aer([e, 1.0, 0.0])[0]
        assert 0.0 <= az < 2 * math.pi
    az = wgs84.enu_to_aer(np.array([[-1e-300, 1.0, 0.0], [-1.0, 0.0, 0.0]]))[0]
    assert np.all((az >= 0.0) & (az < 2 * math.pi))


def test_many_times_one_point_broadcast() -> None:
    # The module promises broadcasting: a site's inertial track over a time grid.
    t = np.linspace(0.0, 3600.0, 7)
    site = wgs84.geodetic_to_ecef(0.5, 1.0, 100.0)
    vel = np.array([1.0, 2.0, 3.0])
    for forward, backward in (
        (wgs84.ecef_to_eci, wgs84.eci_to_ecef),
        (wgs84.eci_to_ecef, wgs84.ecef_to_eci),
    ):
        r, v = forward(t, site, vel)
        assert r.shape == v.shape == (7, 3)
        for k in range(t.size):
            one_r, one_v = forward(t[k], site, vel)
            np.testing.assert_allclose(r[k], one_r, atol=1e-9)
            np.testing.assert_allclose(v[k], one_v, atol=1e-12)
        r2, v2 = backward(t, r, v)
        np.testing.assert_allclose(r2, np.broadcast_to(site, (7, 3)), atol=1e-6)
        np.testing.assert_allclose(v2, np.broadcast_to(vel, (7, 3)), atol=1e-9)


def test_shapes_follow_inputs() -> None:
    assert wgs84.geodetic_to_ecef(0.1, 0.2, 3.0).shape == (3,)
    grid = wgs84.geodetic_to_ecef(np.zeros((4, 5)), 0.2, np.arange(5.0))
    assert grid.shape == (4, 5, 3)
    lat, lon, h = wgs84.ecef_to_geodetic(grid)
    assert lat.shape == lon.shape == h.shape == (4, 5)
    assert wgs84.enu_basis(np.zeros(7), 0.0).shape == (7, 3, 3)
    assert wgs84.ecef_to_eci(np.arange(6.0), np.ones(3)).shape == (6, 3)
