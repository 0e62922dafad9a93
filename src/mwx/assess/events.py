"""Launch event reports: what a track history says about its launch.

From one track's published states (a partner's own track, or a fused system
track) the report gives the launch time and point, apogee, range, flight
time, impact time and point with the 95 % ellipse, class, lofted flag and the
equivalent standard-trajectory range, and which partners' areas it concerns.

Skeleton estimators (deepened by the assessment issue): impact from the last
state (:func:`mwx.assess.impact.to_ground`); launch by tracing the first
settled state (velocity σ under 200 m/s) ballistically back to the ground;
apogee as the highest altitude on the track history and its predicted path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from pyproj import Geod

from mwx.assess import impact
from mwx.geo import regions, wgs84
from mwx.sim.flight import minimum_energy_apogee

_GEOD = Geod(ellps="WGS84")
SETTLED_VELOCITY_SIGMA = 200.0  # m/s
LOFTED_FACTOR = 1.5  # apogee over the minimum-energy apogee for the range


@dataclass
class History:
    """Published states of one track: times (n,), states (n, 6), covariances (n, 6, 6)."""

    track_id: str
    t: NDArray
    x: NDArray
    P: NDArray
    first_detection: float
    boosting: NDArray | None = None  # (n,) bool: powered flight at that state


def classify(equivalent_range_km: float) -> str:
    """Class by the equivalent minimum-energy range [km]: SRBM < 1000 ≤ MRBM < 3000 ≤ IRBM < 5500 ≤ ICBM."""
    if equivalent_range_km < 1000.0:
        return "SRBM"
    if equivalent_range_km < 3000.0:
        return "MRBM"
    if equivalent_range_km < 5500.0:
        return "IRBM"
    return "ICBM"


def inertial_speed(x: NDArray) -> NDArray:
    """Speed [m/s] in the inertial frame of ECEF states (..., 6): |v + ω × r|."""
    vx = x[..., 3] - wgs84.OMEGA * x[..., 1]
    vy = x[..., 4] + wgs84.OMEGA * x[..., 0]
    return np.sqrt(vx**2 + vy**2 + x[..., 5] ** 2)


def equivalent_range_km(x: NDArray) -> float:
    """Minimum-energy ground range [km] with the orbital energy of a coasting ECEF state.

    The specific energy ``v²/2 - μ/r`` (inertial speed) is conserved in
    vacuum; at the equatorial radius it gives the speed ``v``, and the
    minimum-energy arc with that speed spans the angle Ψ with
    ``sin(Ψ/2) = q / (2 - q)``, ``q = v² R / μ`` (Regan & Anandakrishnan 1993, §2.3).
    """
    r = float(np.linalg.norm(x[:3]))
    energy = 0.5 * float(inertial_speed(x)) ** 2 - wgs84.GM / r
    q = 2.0 * (energy + wgs84.GM / wgs84.A) * wgs84.A / wgs84.GM
    if q <= 0.0:
        return 0.0
    s = q / (2.0 - q)
    if s >= 1.0:
        return math.pi * wgs84.A / 1e3
    return 2.0 * math.asin(s) * wgs84.A / 1e3


def lofted(apogee_km: float, range_km: float) -> bool:
    """True when the apogee is well above the minimum-energy apogee for that range."""
    return range_km > 0 and apogee_km > LOFTED_FACTOR * minimum_energy_apogee(range_km * 1e3) / 1e3


def areas_concerned(
    areas: tuple[regions.ProtectedArea, ...], path_t, path_lat_deg, path_lon_deg, impact_time: float
) -> tuple[list[str], list[str]]:
    """Partners whose territory the path crosses before impact; partners whose EEZ holds the impact."""
    territories = tuple(a for a in areas if a.kind == "territory")
    over = sorted(
        {a.partner for a, _, leave in regions.path_crossings(territories, path_t, path_lat_deg, path_lon_deg)}
    )
    eez = tuple(a for a in areas if a.kind == "eez")
    inside = regions.contains(eez, path_lat_deg[-1], path_lon_deg[-1])[:, 0]
    return over, sorted({a.partner for a, hit in zip(eez, inside, strict=True) if hit})


def event_report(history: History, areas: tuple[regions.ProtectedArea, ...]) -> dict | None:
    """The launch event report of one track, or None when it never settles enough to say."""
    vel_sigma = np.sqrt(np.trace(history.P[:, 3:, 3:], axis1=1, axis2=2) / 3.0)
    coasting_now = np.ones(len(history.t), bool) if history.boosting is None else ~history.boosting
    # A ballistic prediction from a powered state falls short: only coasting states say where it lands.
    settled = np.flatnonzero((vel_sigma < SETTLED_VELOCITY_SIGMA) & coasting_now)
    if settled.size == 0:
        return None
    first, last = settled[0], settled[-1]
    ahead = impact.to_ground(history.x[last : last + 1], history.P[last : last + 1], history.t[last : last + 1])
    back = impact.to_ground(
        history.x[first : first + 1], history.P[first : first + 1], history.t[first : first + 1], direction=-1
    )
    if not (math.isfinite(ahead.time[0]) and math.isfinite(back.time[0])):
        return None
    launch_lat, launch_lon = math.degrees(back.lat[0]), math.degrees(back.lon[0])
    impact_lat, impact_lon = math.degrees(ahead.lat[0]), math.degrees(ahead.lon[0])
    _, _, range_m = _GEOD.inv(launch_lon, launch_lat, impact_lon, impact_lat)
    _, _, hist_alt = wgs84.ecef_to_geodetic(history.x[:, :3])
    apogee_km = max(float(np.max(hist_alt)), float(np.max(ahead.path_alt[0]))) / 1e3
    coasting = np.flatnonzero((hist_alt > 100e3) & (vel_sigma < SETTLED_VELOCITY_SIGMA))
    energy_state = history.x[coasting[-1]] if coasting.size else history.x[last]
    eq_range = equivalent_range_km(energy_state)
    semi_major, semi_minor, orientation = ahead.ellipse_95(0)
    hist_lat, hist_lon, _ = wgs84.ecef_to_geodetic(history.x[: last + 1, :3])
    path_t = np.concatenate([history.t[: last + 1], ahead.path_t[0][1:]])
    path_lat = np.degrees(np.concatenate([hist_lat, ahead.path_lat[0][1:]]))
    path_lon = np.degrees(np.concatenate([hist_lon, ahead.path_lon[0][1:]]))
    over, eez = areas_concerned(areas, path_t, path_lat, path_lon, float(ahead.time[0]))
    max_speed = max(float(np.max(inertial_speed(history.x))), 0.0)
    return {
        "event_id": history.track_id,
        "first_detection": history.first_detection,
        "launch_time": float(back.time[0]),
        "launch_point": {"lat": launch_lat, "lon": launch_lon},
        "apogee_km": apogee_km,
        "range_km": range_m / 1e3,
        "flight_time_s": float(ahead.time[0] - back.time[0]),
        "max_speed_mps": max_speed,
        "impact_time": float(ahead.time[0]),
        "impact_point": {"lat": impact_lat, "lon": impact_lon},
        "impact_ellipse_95": {
            "semi_major_km": semi_major / 1e3,
            "semi_minor_km": semi_minor / 1e3,
            "orientation_deg": math.degrees(orientation),
        },
        "class": classify(eq_range),
        "lofted": lofted(apogee_km, range_m / 1e3),
        "equivalent_range_km": eq_range,
        "over_territory_of": over,
        "inside_eez_of": eez,
        "number_of_objects": 1,
        "estimated_at": float(history.t[last]),
    }
