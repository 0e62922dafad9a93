"""Ballistic missile flights: boost, ballistic coast and re-entry, solved to a brief.

Frames and units
    The equations of motion are integrated in a launch-fixed inertial frame
    (ECI below): it coincides with WGS-84 ECEF at the launch instant and does
    not rotate (see :func:`mwx.geo.wgs84.ecef_to_eci`).  SI units throughout.

Forces
    * gravity: point mass plus the J2 zonal term (Vallado, *Fundamentals of
      Astrodynamics and Applications*, 4th ed., eq. 8-30);
    * drag: ``-ρ |v_rel| v_rel / (2β)`` with the U.S. Standard Atmosphere 1976
      density, ``v_rel`` the velocity relative to the rotating atmosphere, and
      β the ballistic coefficient ``m / (C_D A)`` [kg/m²];
    * thrust (boost only): a constant-mass-flow rocket, acceleration
      ``a(t) = c k / (T (1 - k t / T))`` for effective exhaust speed ``c``,
      burnt mass fraction ``k`` and burn time ``T``, so the ideal velocity gain
      is ``Δv = -c ln(1 - k)``; pointed in the inertial plane of fire at a
      pitch angle above the local (geocentric) horizontal that stays vertical
      for a short rise, turns linearly to the final pitch, then holds it.

Integrator
    scipy's DOP853 (Dormand–Prince 8(5,3)), split at every discontinuity of
    the thrust programme, with ``rtol=1e-10, atol=1e-4`` (m, m/s) for truth and
    ``rtol=1e-9`` inside the solver.  Against the analytic Kepler solution
    (forces other than point-mass gravity switched off) the impact time is
    reproduced to better than 1 ms over an ICBM flight (``tests/test_flight.py``).

Solving a flight to a brief
    A scenario asks for an apogee and a ground range along an azimuth (or to an
    aim point).  :func:`solve_flight` finds the ideal velocity gain, the final
    pitch and the azimuth of the plane of fire whose simulated flight (all
    forces, rotating Earth) reaches that apogee and lands on the aim point,
    by a damped Newton iteration on finite-difference Jacobians, started from
    the drag-free Kepler solution.  The result meets both to 0.01 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from pyproj import Geod
from scipy.integrate import OdeSolution, solve_ivp

from mwx.errors import UnreachableFlight
from mwx.geo import wgs84
from mwx.geo.atmosphere import density_scalar

_GEOD = Geod(ellps="WGS84")

#: Largest burnout speed we accept [m/s]: a lofted ICBM (apogee 7000 km at
#: 1000 km) needs 8.1 km/s; escape speed is 11.2 km/s.
MAX_BURNOUT_SPEED = 8600.0
#: Lowest apogee a boosted flight can have [m]: the motor burns in the atmosphere.
MIN_APOGEE = 25e3
#: Largest ground range [m]: beyond ~ half the circumference a flight is orbital.
MAX_RANGE = 16000e3
#: Shortest ground range [m].
MIN_RANGE = 20e3


@dataclass(frozen=True)
class Physics:
    """Which forces act; the defaults are the real world."""

    j2: bool = True
    drag: bool = True
    rotation: bool = True

    @property
    def omega(self) -> float:
        """Earth rotation rate used [rad/s]."""
        return wgs84.OMEGA if self.rotation else 0.0


#: Ballistic coefficient [kg/m²] of a warhead-bearing body after burnout unless a scenario sets one: the
#: median of the assessment's prior (:data:`mwx.assess.drag.REENTRY_BODY`).
REENTRY_BETA = 8000.0


@dataclass(frozen=True)
class Vehicle:
    """A generic single-stage-equivalent missile (documented, not a real type).

    ``burn_time_s`` grows with the energy of the flight (see
    :func:`burn_time_for_speed`); the ballistic coefficients are generic values
    for a slender missile body in boost and for its re-entry body.
    """

    burn_time_s: float
    burnt_fraction: float = 0.8  # k: propellant mass / lift-off mass
    beta_boost: float = 20000.0  # kg/m², full vehicle at lift-off
    beta_reentry: float = REENTRY_BETA  # kg/m², warhead-bearing body after burnout
    vertical_fraction: float = 0.08  # share of the burn spent rising vertically
    turn_fraction: float = 0.6  # share of the rest spent turning to the final pitch


@dataclass(frozen=True)
class Programme:
    """The free parameters of one flight: what the solver adjusts."""

    delta_v: float  # ideal velocity gain of the motor [m/s]
    pitch: float  # final pitch above the local horizontal [rad]
    azimuth: float  # azimuth of the plane of fire at the launch site [rad]


@dataclass
class Trajectory:
    """One simulated flight of the warhead-bearing object.

    ``t`` are seconds after launch; ``eci`` and ``ecef`` are (n, 6) states
    [m, m/s] at those times, sampled every ``step`` seconds plus burnout and
    impact.  Geodetic angles in radians.
    """

    t: NDArray[np.float64]
    eci: NDArray[np.float64]
    ecef: NDArray[np.float64]
    burnout_t: float
    impact_t: float
    impact_lat: float
    impact_lon: float
    apogee_alt: float
    apogee_t: float
    range_m: float
    max_speed: float  # largest inertial speed [m/s]
    site: tuple[float, float, float]
    programme: Programme
    vehicle: Vehicle
    physics: Physics = field(default_factory=Physics)


def burn_time_for_speed(speed: float) -> float:
    """Burn time [s] of a generic missile that must reach ``speed`` [m/s] at burnout.

    Short-range missiles burn for about a minute, ICBMs (several stages) for
    four to five: 60 s at 2 km/s rising linearly to 240 s at 7 km/s, clipped
    to [45, 300] s.
    """
    return float(np.clip(60.0 + (speed - 2000.0) * (180.0 / 5000.0), 45.0, 300.0))


def kepler_burnout(r_burnout: float, r_apogee: float, angle: float) -> tuple[float, float]:
    """Speed [m/s] and flight-path angle [rad] of a symmetric Kepler arc.

    The arc leaves radius ``r_burnout`` [m], peaks at ``r_apogee`` and comes
    back to ``r_burnout`` after the geocentric angle ``angle`` [rad]: with
    ``c = cos(angle/2)`` the conic has ``e = (r_a - r_b)/(r_a - r_b c)``,
    ``p = r_a (1 - e)`` (apogee at true anomaly π, burnout at π - angle/2).
    """
    c = math.cos(angle / 2.0)
    e = (r_apogee - r_burnout) / (r_apogee - r_burnout * c)
    p = r_apogee * (1.0 - e)
    a = p / (1.0 - e * e)
    speed = math.sqrt(wgs84.GM * (2.0 / r_burnout - 1.0 / a))
    gamma = math.atan2(e * math.sin(angle / 2.0), 1.0 - e * c)
    return speed, gamma


def minimum_energy_apogee(range_m: float) -> float:
    """Apogee height [m] of the drag-free minimum-energy Kepler arc over ``range_m`` from the surface.

    The arc leaves and comes back at the equatorial radius with the optimal
    flight-path angle ``(π - Ψ)/4`` for the geocentric angle Ψ (Regan & Anandakrishnan,
    *Dynamics of Atmospheric Re-Entry*, 1993, §2.3).
    """
    angle = range_m / wgs84.A
    gamma = (math.pi - angle) / 4.0
    # Speed on the arc through the surface with that angle (free-flight range equation).
    q = 2.0 * math.sin(angle / 2.0) / (1.0 + math.sin(angle / 2.0))  # v²R/μ at the optimum
    speed2 = q * wgs84.GM / wgs84.A
    energy = speed2 / 2.0 - wgs84.GM / wgs84.A
    a = -wgs84.GM / (2.0 * energy)
    h = wgs84.A * math.sqrt(speed2) * math.cos(gamma)
    p = h * h / wgs84.GM
    e = math.sqrt(max(0.0, 1.0 - p / a))
    return a * (1.0 + e) - wgs84.A


def kepler_flight_time(r_burnout: float, r_apogee: float, angle: float) -> float:
    """Time [s] to fly the symmetric Kepler arc of :func:`kepler_burnout`."""
    c = math.cos(angle / 2.0)
    e = (r_apogee - r_burnout) / (r_apogee - r_burnout * c)
    a = r_apogee / (1.0 + e)
    nu = math.pi - angle / 2.0  # burnout true anomaly; apogee at π
    ecc_anomaly = 2.0 * math.atan2(math.sqrt(1 - e) * math.sin(nu / 2), math.sqrt(1 + e) * math.cos(nu / 2))
    mean_anomaly = ecc_anomaly - e * math.sin(ecc_anomaly)
    return 2.0 * (math.pi - mean_anomaly) * math.sqrt(a**3 / wgs84.GM)


def _rhs(vehicle: Vehicle, programme: Programme, physics: Physics, site_ecef: NDArray, boost: bool):
    """Right-hand side of the equations of motion in ECI, in plain floats for speed."""
    gm, re2, j2 = wgs84.GM, wgs84.A**2, (wgs84.J2 if physics.j2 else 0.0)
    omega = physics.omega
    drag = physics.drag
    burn = vehicle.burn_time_s
    k = vehicle.burnt_fraction
    exhaust = programme.delta_v / -math.log(1.0 - k)
    t_vertical = vehicle.vertical_fraction * burn
    t_turned = t_vertical + vehicle.turn_fraction * (burn - t_vertical)
    # Fixed inertial unit vector of the plane of fire, horizontal at the site.
    lat0, lon0, _ = wgs84.ecef_to_geodetic(site_ecef)
    east, north, _up = wgs84.enu_basis(lat0, lon0)
    dx, dy, dz = (math.sin(programme.azimuth) * east + math.cos(programme.azimuth) * north).tolist()
    pitch_final = programme.pitch
    drag_ceiling2 = (wgs84.A + 1.0e6) ** 2  # above 1000 km the density is zero

    def rhs(t: float, s: NDArray) -> list[float]:
        x, y, z, vx, vy, vz = s.tolist()
        r2 = x * x + y * y + z * z
        r = math.sqrt(r2)
        zr2 = z * z / r2
        common = -gm / (r2 * r)
        j2f = 1.5 * j2 * re2 / r2
        ax = common * x * (1.0 - j2f * (5.0 * zr2 - 1.0))
        ay = common * y * (1.0 - j2f * (5.0 * zr2 - 1.0))
        az = common * z * (1.0 - j2f * (5.0 * zr2 - 3.0))
        if boost:
            mass_ratio = 1.0 - k * t / burn
            if drag and r2 < drag_ceiling2:
                beta = vehicle.beta_boost * mass_ratio
            else:
                beta = 0.0
            if t < t_vertical:
                pitch = 0.5 * math.pi
            elif t < t_turned:
                pitch = 0.5 * math.pi + (pitch_final - 0.5 * math.pi) * (t - t_vertical) / (t_turned - t_vertical)
            else:
                pitch = pitch_final
            ux, uy, uz = x / r, y / r, z / r
            dot = dx * ux + dy * uy + dz * uz
            hx, hy, hz = dx - dot * ux, dy - dot * uy, dz - dot * uz
            hn = math.sqrt(hx * hx + hy * hy + hz * hz)
            thrust = exhaust * k / (burn * mass_ratio)
            cp, sp = math.cos(pitch) / hn, math.sin(pitch)
            ax += thrust * (cp * hx + sp * ux)
            ay += thrust * (cp * hy + sp * uy)
            az += thrust * (cp * hz + sp * uz)
        else:
            beta = vehicle.beta_reentry if drag and r2 < drag_ceiling2 else 0.0
        if beta > 0.0:
            rho = density_scalar(wgs84.geodetic_altitude(x, y, z))
            if rho > 0.0:
                wx, wy, wz = vx + omega * y, vy - omega * x, vz  # v - ω × r
                f = -0.5 * rho * math.sqrt(wx * wx + wy * wy + wz * wz) / beta
                ax += f * wx
                ay += f * wy
                az += f * wz
        return [vx, vy, vz, ax, ay, az]

    return rhs, (t_vertical, t_turned)


def _impact_event(t: float, s: NDArray) -> float:
    return wgs84.geodetic_altitude(s[0], s[1], s[2])


def _buried_event(t: float, s: NDArray) -> float:
    """Zero when a trial programme drives the missile 1 km underground during boost."""
    return wgs84.geodetic_altitude(s[0], s[1], s[2]) + 1000.0


_impact_event.terminal = True  # type: ignore[attr-defined]
_impact_event.direction = -1  # type: ignore[attr-defined]
_buried_event.terminal = True  # type: ignore[attr-defined]
_buried_event.direction = -1  # type: ignore[attr-defined]

_MAX_COAST_S = 3.0 * 3600.0


def simulate(
    site_lat: float,
    site_lon: float,
    site_alt: float,
    programme: Programme,
    vehicle: Vehicle,
    physics: Physics = Physics(),
    *,
    step: float = 1.0,
    rtol: float = 1e-10,
) -> Trajectory:
    """Fly one missile from a geodetic site [rad, m] with a given programme.

    Raises :class:`UnreachableFlight` if the flight never leaves the ground or
    never comes back (orbits).
    """
    site_ecef = wgs84.geodetic_to_ecef(site_lat, site_lon, site_alt)
    r0, v0 = wgs84.ecef_to_eci(0.0, site_ecef, np.zeros(3))
    if not physics.rotation:
        v0 = np.zeros(3)
    state = np.concatenate([r0, v0])
    boost_rhs, (t_vertical, t_turned) = _rhs(vehicle, programme, physics, site_ecef, True)
    coast_rhs, _ = _rhs(vehicle, programme, physics, site_ecef, False)
    atol = 1e-4
    segments: list[OdeSolution] = []
    for t0, t1 in ((0.0, t_vertical), (t_vertical, t_turned), (t_turned, vehicle.burn_time_s)):
        sol = solve_ivp(
            boost_rhs, (t0, t1), state, method="DOP853", rtol=rtol, atol=atol, dense_output=True, events=_buried_event
        )
        if sol.status == 1:
            raise UnreachableFlight("the missile does not leave the ground during boost")
        if not sol.success:  # pragma: no cover - DOP853 on smooth forces
            raise UnreachableFlight(f"boost integration failed: {sol.message}")
        assert sol.sol is not None  # dense_output=True
        segments.append(sol.sol)
        state = sol.y[:, -1]
    burnout = vehicle.burn_time_s
    if wgs84.geodetic_altitude(*state[:3]) <= 0.0:
        raise UnreachableFlight("the missile does not leave the ground during boost")
    coast = solve_ivp(
        coast_rhs,
        (burnout, burnout + _MAX_COAST_S),
        state,
        method="DOP853",
        rtol=rtol,
        atol=atol,
        dense_output=True,
        events=_impact_event,
    )
    if coast.status != 1:
        raise UnreachableFlight("the flight does not come back to the ground within 3 hours")
    assert coast.t_events is not None and coast.sol is not None  # events given, dense_output=True
    impact_t = float(coast.t_events[0][0])
    segments.append(coast.sol)
    bounds = [t_vertical, t_turned, burnout]

    t = np.arange(0.0, impact_t, step)
    t = np.unique(np.concatenate([t, [burnout, impact_t]]))
    eci = np.empty((t.size, 6))
    which = np.searchsorted(bounds, t, side="left")
    for i, dense in enumerate(segments):
        mask = which == i
        if mask.any():
            eci[mask] = dense(t[mask]).T
    pos, vel = wgs84.eci_to_ecef(t, eci[:, :3], eci[:, 3:]) if physics.rotation else (eci[:, :3], eci[:, 3:])
    ecef = np.concatenate([pos, vel], axis=1)
    lat, lon, alt = wgs84.ecef_to_geodetic(pos)
    impact_lat, impact_lon = float(lat[-1]), float(lon[-1])
    apogee_alt, apogee_t = _refine_maximum(t, alt, segments, bounds)
    _, _, dist = _GEOD.inv(
        math.degrees(site_lon), math.degrees(site_lat), math.degrees(impact_lon), math.degrees(impact_lat)
    )
    return Trajectory(
        t=t,
        eci=eci,
        ecef=ecef,
        burnout_t=burnout,
        impact_t=impact_t,
        impact_lat=impact_lat,
        impact_lon=impact_lon,
        apogee_alt=apogee_alt,
        apogee_t=apogee_t,
        range_m=float(dist),
        max_speed=float(np.max(np.linalg.norm(eci[:, 3:], axis=1))),
        site=(site_lat, site_lon, site_alt),
        programme=programme,
        vehicle=vehicle,
        physics=physics,
    )


def coast(
    trajectory: Trajectory,
    t0: float,
    eci0: NDArray,
    beta: float,
    *,
    step: float = 1.0,
    rtol: float = 1e-10,
) -> tuple[NDArray, NDArray]:
    """Fly an object released from ``trajectory`` at ``t0`` with ECI state ``eci0`` to the ground.

    The object coasts under the same forces as its parent with its own
    ballistic coefficient ``beta`` [kg/m²] (a spent stage: low, so it falls
    short).  Returns times after launch (n,) sampled every ``step`` seconds
    plus the impact, and ECEF states (n, 6) [m, m/s].
    """
    vehicle = Vehicle(burn_time_s=trajectory.vehicle.burn_time_s, beta_reentry=beta)
    site_ecef = wgs84.geodetic_to_ecef(*trajectory.site)
    rhs, _ = _rhs(vehicle, trajectory.programme, trajectory.physics, site_ecef, False)
    sol = solve_ivp(
        rhs,
        (t0, t0 + _MAX_COAST_S),
        np.asarray(eci0, float),
        method="DOP853",
        rtol=rtol,
        atol=1e-4,
        dense_output=True,
        events=_impact_event,
    )
    if sol.status != 1:
        raise UnreachableFlight("a released object does not come back to the ground within 3 hours")
    assert sol.t_events is not None and sol.sol is not None  # events given, dense_output=True
    impact_t = float(sol.t_events[0][0])
    t = np.unique(np.concatenate([np.arange(math.ceil(t0 / step) * step, impact_t, step), [t0, impact_t]]))
    eci = sol.sol(t).T
    if trajectory.physics.rotation:
        pos, vel = wgs84.eci_to_ecef(t, eci[:, :3], eci[:, 3:])
    else:
        pos, vel = eci[:, :3], eci[:, 3:]
    return t, np.concatenate([pos, vel], axis=1)


def _refine_maximum(t: NDArray, alt: NDArray, segments: list[OdeSolution], bounds: list[float]) -> tuple[float, float]:
    """Highest geodetic altitude [m] and its time, refined between samples by golden search."""
    i = int(np.argmax(alt))
    lo, hi = t[max(i - 1, 0)], t[min(i + 1, t.size - 1)]

    def altitude(time: float) -> float:
        seg = segments[int(np.searchsorted(bounds, time, side="left"))]
        s = seg(time)
        return wgs84.geodetic_altitude(s[0], s[1], s[2])

    inv_phi = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = lo, hi
    c, d = b - inv_phi * (b - a), a + inv_phi * (b - a)
    fc, fd = altitude(c), altitude(d)
    while b - a > 1e-3:
        if fc > fd:
            b, d, fd = d, c, fc
            c = b - inv_phi * (b - a)
            fc = altitude(c)
        else:
            a, c, fc = c, d, fd
            d = a + inv_phi * (b - a)
            fd = altitude(d)
    best_t = 0.5 * (a + b)
    best = altitude(best_t)
    if alt[i] > best:
        return float(alt[i]), float(t[i])
    return best, best_t


@dataclass(frozen=True)
class FlightBrief:
    """What a scenario asks of one flight: site, aim point, apogee (all SI, radians), re-entry body's β."""

    site_lat: float
    site_lon: float
    aim_lat: float
    aim_lon: float
    apogee: float
    site_alt: float = 0.0
    reentry_beta: float = REENTRY_BETA  # kg/m²

    @classmethod
    def along_azimuth(
        cls,
        site_lat: float,
        site_lon: float,
        azimuth: float,
        range_m: float,
        apogee: float,
        site_alt: float = 0.0,
        reentry_beta: float = REENTRY_BETA,
    ) -> FlightBrief:
        """The brief whose aim point lies ``range_m`` along the geodesic at ``azimuth``."""
        lon, lat, _ = _GEOD.fwd(math.degrees(site_lon), math.degrees(site_lat), math.degrees(azimuth), range_m)
        return cls(site_lat, site_lon, math.radians(lat), math.radians(lon), apogee, site_alt, reentry_beta)

    @property
    def azimuth_and_range(self) -> tuple[float, float]:
        """Geodesic azimuth [rad] and distance [m] from site to aim point."""
        az, _, dist = _GEOD.inv(
            math.degrees(self.site_lon),
            math.degrees(self.site_lat),
            math.degrees(self.aim_lon),
            math.degrees(self.aim_lat),
        )
        return math.radians(az), float(dist)


def check_reachable(apogee: float, range_m: float) -> None:
    """Reject, with a reason, briefs no ballistic missile can fly (drag-free Kepler bounds)."""
    if not MIN_RANGE <= range_m <= MAX_RANGE:
        half_way = _GEOD.inv(0.0, -90.0, 0.0, 90.0)[2]  # half a meridian: no two points are farther apart
        beyond = f", more than half the Earth's circumference ({half_way / 1e3:.0f} km)" if range_m > half_way else ""
        raise UnreachableFlight(
            f"ground range {range_m / 1e3:.0f} km is outside the ballistic envelope "
            f"({MIN_RANGE / 1e3:.0f}–{MAX_RANGE / 1e3:.0f} km){beyond}",
            where="range_km",
        )
    if apogee < MIN_APOGEE:
        raise UnreachableFlight(
            f"apogee {apogee / 1e3:.0f} km is below {MIN_APOGEE / 1e3:.0f} km, where no boosted flight ends",
            where="apogee_km",
        )
    speed, _ = kepler_burnout(wgs84.A, wgs84.A + apogee, range_m / wgs84.A)
    if speed > MAX_BURNOUT_SPEED:
        raise UnreachableFlight(
            f"apogee {apogee / 1e3:.0f} km at a range of {range_m / 1e3:.0f} km needs a burnout speed of "
            f"{speed / 1e3:.1f} km/s, above the {MAX_BURNOUT_SPEED / 1e3:.1f} km/s any ballistic missile reaches",
            where="apogee_km",
        )


def solve_flight(brief: FlightBrief, physics: Physics = Physics(), *, tolerance: float = 1e-4) -> Trajectory:
    """The flight that reaches ``brief.apogee`` and lands on the aim point.

    Relative tolerance ``tolerance`` on apogee and on the miss distance over
    the range.  Raises :class:`UnreachableFlight` when no flight does.
    """
    azimuth, range_m = brief.azimuth_and_range
    check_reachable(brief.apogee, range_m)
    angle = range_m / wgs84.A
    speed, gamma = kepler_burnout(wgs84.A, wgs84.A + brief.apogee, angle)
    vehicle = Vehicle(burn_time_s=burn_time_for_speed(speed), beta_reentry=brief.reentry_beta)
    # Kepler start: the burnout speed plus gravity losses over the burn; the
    # outer iteration absorbs drag, rotation and the ground covered in boost.
    x = np.array([speed + 9.8 * vehicle.burn_time_s * 0.5 * math.sin(gamma) + 150.0, gamma, azimuth])
    aim_ecef = wgs84.geodetic_to_ecef(brief.aim_lat, brief.aim_lon, 0.0)
    steps = np.array([2.0, 2e-4, 2e-5])
    lower = np.array([300.0, math.radians(0.5), -np.inf])
    upper = np.array([12000.0, math.radians(89.95), np.inf])

    def residual(params: NDArray, rtol: float = 1e-9) -> tuple[NDArray, Trajectory]:
        prog = Programme(*params.tolist())
        traj = simulate(brief.site_lat, brief.site_lon, brief.site_alt, prog, vehicle, physics, step=5.0, rtol=rtol)
        impact = wgs84.geodetic_to_ecef(traj.impact_lat, traj.impact_lon, 0.0)
        east, north, _ = wgs84.ecef_to_enu(impact, brief.aim_lat, brief.aim_lon, 0.0) - wgs84.ecef_to_enu(
            aim_ecef, brief.aim_lat, brief.aim_lon, 0.0
        )
        return np.array([(traj.apogee_alt - brief.apogee) / brief.apogee, east / range_m, north / range_m]), traj

    best_norm, best_x = math.inf, x
    f, _ = residual(x)
    for _ in range(40):
        norm = float(np.max(np.abs(f)))
        if norm < best_norm:
            best_norm, best_x = norm, x
        if norm < tolerance * 0.5:
            break
        jac = np.empty((3, 3))
        for j in range(3):
            xp = x.copy()
            xp[j] += steps[j]
            jac[:, j] = (residual(xp)[0] - f) / steps[j]
        try:
            dx = np.linalg.solve(jac, -f)
        except np.linalg.LinAlgError:
            break
        # Damped step: never more than 10 % of the speed or 10° at a time.
        scale = min(1.0, 0.1 * x[0] / max(abs(dx[0]), 1e-12), math.radians(10) / max(abs(dx[1]), 1e-12))
        for _ in range(8):
            trial = np.clip(x + scale * dx, lower, upper)
            try:
                f_trial, _ = residual(trial)
            except UnreachableFlight:
                scale *= 0.5
                continue
            if np.max(np.abs(f_trial)) < norm:
                break
            scale *= 0.5
        else:
            break
        x, f = trial, f_trial
    traj = simulate(brief.site_lat, brief.site_lon, brief.site_alt, Programme(*best_x.tolist()), vehicle, physics)
    apogee_error = abs(traj.apogee_alt - brief.apogee) / brief.apogee
    range_error = abs(traj.range_m - range_m) / range_m
    if max(apogee_error, range_error) > 0.005:
        raise UnreachableFlight(
            f"no ballistic flight reaches apogee {brief.apogee / 1e3:.0f} km at a range of {range_m / 1e3:.0f} km "
            f"(closest found: apogee {traj.apogee_alt / 1e3:.0f} km, range {traj.range_m / 1e3:.0f} km)"
        )
    return traj
