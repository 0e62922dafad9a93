"""The flight simulator and solver against physics, the public record and the envelope."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyproj import Geod
from scipy.optimize import brentq

from mwx.errors import UnreachableFlight
from mwx.geo import wgs84
from mwx.sim import flight
from mwx.sim.flight import FlightBrief, Physics, Programme, Vehicle, simulate, solve_flight

GEOD = Geod(ellps="WGS84")
SITE = (math.radians(40.0), math.radians(127.0))


def _brief(apogee_km: float, range_km: float, azimuth_deg: float = 70.0) -> FlightBrief:
    return FlightBrief.along_azimuth(*SITE, math.radians(azimuth_deg), range_km * 1e3, apogee_km * 1e3)


def _envelope() -> list[tuple[float, float]]:
    """Depressed, minimum-energy and lofted flights from SRBM to ICBM ranges, plus the corners the brief names."""
    pairs = [(50.0, 350.0), (7000.0, 1000.0), (flight.minimum_energy_apogee(13000e3) / 1e3, 13000.0)]
    for range_km in (350.0, 1000.0, 3000.0, 5500.0, 10000.0, 13000.0):
        minimum = flight.minimum_energy_apogee(range_km * 1e3) / 1e3
        for factor in (0.5, 1.0, 2.5):
            pairs.append((max(minimum * factor, 45.0), range_km))
    return pairs


@pytest.mark.parametrize(("apogee_km", "range_km"), _envelope())
def test_solver_meets_apogee_and_range_within_1_percent(apogee_km: float, range_km: float) -> None:
    traj = solve_flight(_brief(apogee_km, range_km))
    # Apogee: highest geodetic altitude, recomputed here from the sampled states.
    _, _, alt = wgs84.ecef_to_geodetic(traj.ecef[:, :3])
    assert abs(traj.apogee_alt - alt.max()) < 50.0  # the refined maximum lies between samples
    assert traj.apogee_alt >= alt.max() - 1e-6
    assert abs(traj.apogee_alt / 1e3 - apogee_km) / apogee_km < 0.01
    # Range: geodesic distance launch -> impact, recomputed from the last state.
    lat, lon, h = wgs84.ecef_to_geodetic(traj.ecef[-1, :3])
    assert abs(h) < 1.0
    _, _, dist = GEOD.inv(math.degrees(SITE[1]), math.degrees(SITE[0]), math.degrees(lon), math.degrees(lat))
    assert abs(dist / 1e3 - range_km) / range_km < 0.01


@pytest.mark.parametrize(
    ("apogee_km", "range_km", "reported_min"),
    [
        (4475.0, 950.0, 53.0),  # 2017-11-28 Hwasong-15 lofted test, ~53 min (Japan MoD, US DoD)
        (970.0, 4500.0, 22.0),  # 2022-10-04 overflight of Japan, ~22 min (Japan MoD)
    ],
)
def test_public_flight_times_within_10_percent(apogee_km: float, range_km: float, reported_min: float) -> None:
    traj = solve_flight(_brief(apogee_km, range_km, azimuth_deg=90.0))
    assert abs(traj.impact_t / 60.0 - reported_min) / reported_min < 0.10


def _kepler_time_to_ellipsoid(r0: np.ndarray, v0: np.ndarray) -> float:
    """Time [s] for the Kepler conic through (r0, v0) to reach the WGS-84 ellipsoid (descending)."""
    mu = wgs84.GM
    h = np.cross(r0, v0)
    e_vec = np.cross(v0, h) / mu - r0 / np.linalg.norm(r0)
    e = np.linalg.norm(e_vec)
    p_hat = e_vec / e
    q_hat = np.cross(h / np.linalg.norm(h), p_hat)
    slr = h @ h / mu
    a = slr / (1.0 - e * e)
    nu0 = math.atan2(r0 @ q_hat, r0 @ p_hat)

    def position(nu: float) -> np.ndarray:
        return slr / (1.0 + e * math.cos(nu)) * (math.cos(nu) * p_hat + math.sin(nu) * q_hat)

    def surface(nu: float) -> float:
        x, y, z = position(nu)
        return (x * x + y * y) / wgs84.A**2 + z * z / wgs84.B**2 - 1.0

    # After apogee (ν = π) the conic descends; find where it meets the ellipsoid.
    nu0 = nu0 % (2 * math.pi)
    nu_impact = brentq(surface, math.pi, 2 * math.pi - 1e-9, xtol=1e-15)

    def mean_anomaly(nu: float) -> float:
        ecc = 2.0 * math.atan2(math.sqrt(1 - e) * math.sin(nu / 2), math.sqrt(1 + e) * math.cos(nu / 2))
        return ecc - e * math.sin(ecc)

    n = math.sqrt(mu / a**3)
    return ((mean_anomaly(nu_impact) - mean_anomaly(nu0)) % (2 * math.pi)) / n


@pytest.mark.parametrize(("delta_v", "pitch_deg"), [(3000.0, 40.0), (6500.0, 35.0), (8000.0, 80.0)])
def test_coast_matches_analytic_kepler_without_drag_j2_or_rotation(delta_v: float, pitch_deg: float) -> None:
    physics = Physics(j2=False, drag=False, rotation=False)
    vehicle = Vehicle(burn_time_s=flight.burn_time_for_speed(delta_v))
    traj = simulate(*SITE, 0.0, Programme(delta_v, math.radians(pitch_deg), 1.2), vehicle, physics)
    burnout = int(np.flatnonzero(traj.t == traj.burnout_t)[0])
    coast = _kepler_time_to_ellipsoid(traj.eci[burnout, :3], traj.eci[burnout, 3:])
    assert abs((traj.impact_t - traj.burnout_t) - coast) < 0.1


def test_aim_point_is_hit() -> None:
    aim_lat, aim_lon = math.radians(35.0), math.radians(135.5)
    brief = FlightBrief(*SITE, aim_lat, aim_lon, 300e3)
    traj = solve_flight(brief)
    _, _, miss = GEOD.inv(
        math.degrees(aim_lon), math.degrees(aim_lat), math.degrees(traj.impact_lon), math.degrees(traj.impact_lat)
    )
    _, range_m = brief.azimuth_and_range
    assert miss < 0.001 * range_m


def test_rotation_and_drag_matter() -> None:
    """The same programme lands elsewhere on a rotating Earth and with drag: the forces are really there."""
    vehicle = Vehicle(burn_time_s=120.0)
    prog = Programme(5000.0, math.radians(40.0), math.radians(90.0))
    full = simulate(*SITE, 0.0, prog, vehicle)
    still = simulate(*SITE, 0.0, prog, vehicle, Physics(rotation=False))
    vacuum = simulate(*SITE, 0.0, prog, vehicle, Physics(drag=False))
    assert abs(full.range_m - still.range_m) > 20e3
    assert vacuum.range_m - full.range_m > 5e3


@pytest.mark.parametrize(
    ("apogee_km", "range_km", "words"),
    [
        (10.0, 300.0, "apogee"),
        (100.0, 30000.0, "range"),
        (12000.0, 10000.0, "burnout speed"),
    ],
)
def test_unreachable_pairs_are_rejected_clearly(apogee_km: float, range_km: float, words: str) -> None:
    with pytest.raises(UnreachableFlight, match=words):
        flight.check_reachable(apogee_km * 1e3, range_km * 1e3)


def test_minimum_energy_apogee_is_the_least_speed_arc() -> None:
    for range_m in (500e3, 3000e3, 10000e3):
        best = flight.minimum_energy_apogee(range_m)
        angle = range_m / wgs84.A
        speeds = [flight.kepler_burnout(wgs84.A, wgs84.A + best * f, angle)[0] for f in (0.95, 1.0, 1.05)]
        assert speeds[1] < speeds[0] and speeds[1] < speeds[2]
