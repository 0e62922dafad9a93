"""Missile flights: boost, ballistic or lifting coast and re-entry, solved to a brief.

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
      for a short rise, turns linearly to the final pitch, then holds it;
    * lift (after burnout, only with a brief's ``profile``): ``L/D`` times the
      drag, at most ``n_max g0``, perpendicular to ``v_rel``, for a pull-up on
      the way down between two altitudes, for a boost-glide from burnout on
      and banked to turn (:mod:`mwx.sim.lift`).  Without a profile the flight
      is ballistic after burnout, exactly as before profiles existed.

Integrator
    scipy's DOP853 (Dormand–Prince 8(5,3)), split at every discontinuity of
    the thrust programme and at every switch of the lift (events: a pull-up's
    start on the way down and its dive, a glide's end of turn), with
    ``rtol=1e-10, atol=1e-4`` (m, m/s) for truth and ``rtol=1e-9`` inside the
    solver.  Against the analytic Kepler solution (forces other than
    point-mass gravity switched off) the impact time is reproduced to better
    than 1 ms over an ICBM flight (``tests/test_flight.py``); with lift, the
    energy balance holds to 1e-4 of the work of drag (``tests/test_lift.py``).

Solving a flight to a brief
    A scenario asks for an apogee and a ground range along an azimuth (or to an
    aim point).  :func:`solve_flight` finds the ideal velocity gain, the final
    pitch and the azimuth of the plane of fire whose simulated flight (all
    forces, rotating Earth) reaches that apogee and lands on the aim point,
    by a damped Newton iteration on finite-difference Jacobians, started from
    the drag-free Kepler solution.  The result meets both to 0.01 %.  A
    lifting flight is started from the solved ballistic flight of the same
    brief: its apogee is right and the lift only stretches the range, so the
    iteration lowers the velocity gain smoothly (about 1 s per solve).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import astuple, dataclass, field, replace

import numpy as np
from numpy.typing import NDArray
from pyproj import Geod
from scipy.integrate import OdeSolution, solve_ivp

from mwx.errors import UnreachableFlight
from mwx.geo import wgs84
from mwx.geo.atmosphere import density_scalar
from mwx.sim import lift as lift_model
from mwx.sim.lift import GlideProfile, Profile, PullUpProfile

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
    #: The manoeuvring profile flown (:mod:`mwx.sim.lift`); None: ballistic after burnout.
    profile: Profile | None = None
    #: Seconds after launch the lift acts from and to (a pull-up: from crossing ``start_alt`` on the way down to
    #: crossing ``dive_alt``, or impact; a glide: from burnout to impact); NaN when nothing lifts.
    lift_start_t: float = math.nan
    lift_end_t: float = math.nan
    #: Seconds after launch a glide's bank ends, its turn done; NaN without a turn or when the glide ended first.
    turn_end_t: float = math.nan


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


def _rhs(
    vehicle: Vehicle,
    programme: Programme,
    physics: Physics,
    site_ecef: NDArray,
    boost: bool,
    lift: tuple[float, float, float] | None = None,
):
    """Right-hand side of the equations of motion in ECI, in plain floats for speed.

    ``lift``: (L/D, largest lift acceleration [m/s²], bank [rad]) adds the lift of
    :func:`mwx.sim.lift.lift_scalar` after burnout; lift is a multiple of drag, so none without drag.
    """
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
    lifting = lift is not None and not boost
    lift_to_drag, max_lift, bank = lift if lift is not None else (0.0, 0.0, 0.0)
    cos_bank, sin_bank = math.cos(bank), math.sin(bank)
    lift_scalar = lift_model.lift_scalar

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
                if lifting:
                    drag_accel = 0.5 * rho * (wx * wx + wy * wy + wz * wz) / beta
                    lx, ly, lz = lift_scalar(
                        x, y, z, wx, wy, wz, drag_accel, lift_to_drag, max_lift, cos_bank, sin_bank
                    )
                    ax += lx
                    ay += ly
                    az += lz
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


def _time_event(at: float):
    """A terminal event at ``at`` seconds after launch (a motor's cut-off)."""

    def event(t: float, s: NDArray) -> float:
        return t - at

    event.terminal = True  # type: ignore[attr-defined]
    event.direction = 1  # type: ignore[attr-defined]
    return event


def _to_ground(rhs, t0: float, state: NDArray, rtol: float, atol: float, what: str) -> tuple[OdeSolution, float]:
    """Coast from ``state`` at ``t0`` [s after launch] under ``rhs`` to the ground: the dense solution and the
    impact time; :class:`UnreachableFlight` (naming ``what``) if it does not come back within 3 hours."""
    sol = solve_ivp(
        rhs, (t0, t0 + _MAX_COAST_S), state, method="DOP853", rtol=rtol, atol=atol, dense_output=True,
        events=_impact_event,
    )  # fmt: skip
    if sol.status != 1:
        raise UnreachableFlight(f"{what} does not come back to the ground within 3 hours")
    assert sol.t_events is not None and sol.sol is not None  # events given, dense_output=True
    return sol.sol, float(sol.t_events[0][0])


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
    cutoff: float | None = None,
    profile: Profile | None = None,
) -> Trajectory:
    """Fly one missile from a geodetic site [rad, m] with a given programme.

    ``profile`` (:mod:`mwx.sim.lift`): how it flies after burnout, with lift;
    None: ballistic.  A glide's vehicle coasts with the profile's ``beta``
    instead of ``vehicle.beta_reentry``.  A flight cut off (``cutoff``) flies
    no profile: the body that would lift is never released or never trimmed.

    ``cutoff`` [s after launch], before ``vehicle.burn_time_s``: the motor
    stops then (a thrust termination, :mod:`mwx.sim.failure`).  The thrust
    programme is flown unchanged up to the cut, with the uncut flight's very
    integration steps (the same samples to the last bit); after it the whole missile,
    nothing separated, coasts with the boost-phase ballistic coefficient it
    had at the cut, ``beta_boost (1 - k t_cut / T)``; the trajectory's
    ``burnout_t`` is the cut.  None: the motor burns out as planned.

    Raises :class:`UnreachableFlight` if the flight never leaves the ground or
    never comes back (orbits).
    """
    site_ecef = wgs84.geodetic_to_ecef(site_lat, site_lon, site_alt)
    r0, v0 = wgs84.ecef_to_eci(0.0, site_ecef, np.zeros(3))
    if not physics.rotation:
        v0 = np.zeros(3)
    state = np.concatenate([r0, v0])
    boost_rhs, (t_vertical, t_turned) = _rhs(vehicle, programme, physics, site_ecef, True)
    planned = [(0.0, t_vertical), (t_vertical, t_turned), (t_turned, vehicle.burn_time_s)]
    pieces = planned
    burnout = vehicle.burn_time_s
    coasting = vehicle
    if cutoff is not None:
        if not 0.0 < cutoff < vehicle.burn_time_s:
            raise ValueError(f"cut-off {cutoff} s is not within the burn (0, {vehicle.burn_time_s}) s")
        pieces = [(t0, min(t1, cutoff)) for t0, t1 in planned if t0 < cutoff]
        burnout = cutoff
        mass_ratio = 1.0 - vehicle.burnt_fraction * cutoff / vehicle.burn_time_s  # what is left of the lift-off mass
        coasting = replace(vehicle, beta_reentry=vehicle.beta_boost * mass_ratio)
    coast_rhs, _ = _rhs(coasting, programme, physics, site_ecef, False)
    atol = 1e-4
    segments: list[OdeSolution] = []
    for (t0, t1), (_, planned_t1) in zip(pieces, planned, strict=False):
        # The piece a cut falls in is integrated over its planned span and stopped at the cut by an event: the
        # same steps as the uncut flight, so the flight up to the cut is the uncut one to the last bit.
        cut = t1 < planned_t1
        sol = solve_ivp(
            boost_rhs,
            (t0, planned_t1),
            state,
            method="DOP853",
            rtol=rtol,
            atol=atol,
            dense_output=True,
            events=[_buried_event, _time_event(t1)] if cut else _buried_event,
        )
        if sol.status == 1 and not (cut and sol.t_events is not None and sol.t_events[0].size == 0):
            raise UnreachableFlight("the missile does not leave the ground during boost")
        if not sol.success:  # pragma: no cover - DOP853 on smooth forces
            raise UnreachableFlight(f"boost integration failed: {sol.message}")
        assert sol.sol is not None  # dense_output=True
        segments.append(sol.sol)
        state = sol.y[:, -1]
    if wgs84.geodetic_altitude(*state[:3]) <= 0.0:
        raise UnreachableFlight("the missile does not leave the ground during boost")
    if profile is None or cutoff is not None:
        profile = None
        dense, impact_t = _to_ground(coast_rhs, burnout, state, rtol, atol, "the flight")
        segments.append(dense)
        bounds = [t1 for _, t1 in pieces]
        phases = (math.nan, math.nan, math.nan)
    else:
        lifted = _fly_profile(profile, coasting, programme, physics, site_ecef, burnout, state, rtol, atol)
        impact_t, phases = lifted.impact_t, (lifted.lift_start_t, lifted.lift_end_t, lifted.turn_end_t)
        segments.extend(lifted.segments)
        bounds = [t1 for _, t1 in pieces] + lifted.ends[:-1]

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
        profile=profile,
        lift_start_t=phases[0],
        lift_end_t=phases[1],
        turn_end_t=phases[2],
    )


@dataclass
class _Lifted:
    """The flight after burnout of a profile: dense segments, their end times, impact and phase times [s]."""

    segments: list[OdeSolution] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)
    impact_t: float = math.nan
    lift_start_t: float = math.nan
    lift_end_t: float = math.nan
    turn_end_t: float = math.nan


def _fly_profile(
    profile: Profile,
    vehicle: Vehicle,
    programme: Programme,
    physics: Physics,
    site_ecef: NDArray,
    burnout: float,
    state: NDArray,
    rtol: float,
    atol: float,
) -> _Lifted:
    """Fly from burnout to impact with ``profile``'s lift, one DOP853 run per phase (split at each switch).

    Pull-up: ballistic until below ``start_alt`` on the way down, lifting until descending through
    ``dive_alt``, ballistic to impact.  Glide: the glide vehicle (its own β) lifts from burnout to impact,
    banked until its turn is done (:mod:`mwx.sim.lift`).
    """
    out = _Lifted()
    end = burnout + _MAX_COAST_S

    def leg(rhs, t0: float, s0: NDArray, *events) -> tuple[float, NDArray, int | None]:
        """Integrate from ``t0`` until impact or the first of ``events``; (time, state, which event or None)."""
        sol = solve_ivp(
            rhs,
            (t0, end),
            s0,
            method="DOP853",
            rtol=rtol,
            atol=atol,
            dense_output=True,
            events=[_impact_event, *events],
        )
        if sol.status != 1:
            raise UnreachableFlight("the flight does not come back to the ground within 3 hours")
        assert sol.t_events is not None and sol.sol is not None and sol.y_events is not None
        out.segments.append(sol.sol)
        out.ends.append(float(sol.t[-1]))
        for k, times in enumerate(sol.t_events):
            if len(times):
                return float(times[0]), np.asarray(sol.y_events[k][0], float), (k - 1 if k else None)
        raise AssertionError("status 1 without an event")  # pragma: no cover

    if isinstance(profile, PullUpProfile):
        ballistic, _ = _rhs(vehicle, programme, physics, site_ecef, False)
        lifting, _ = _rhs(
            vehicle, programme, physics, site_ecef, False, lift=(profile.lift_to_drag, profile.max_accel, 0.0)
        )
        start = lift_model.descending_below(profile.start_alt)
        t, s, fired = (burnout, state, 0) if start(burnout, state) <= 0.0 else leg(ballistic, burnout, state, start)
        if fired is None or wgs84.geodetic_altitude(*s[:3]) <= profile.dive_alt:
            # Never came down through start_alt, or never above dive_alt: ballistic all the way.
            if fired is not None:
                t, s, _ = leg(ballistic, t, s)
            out.impact_t = t
            return out
        out.lift_start_t = t
        t, s, fired = leg(lifting, t, s, lift_model.altitude_below(profile.dive_alt))
        out.lift_end_t = t
        if fired is None:
            out.impact_t = t
            return out
        t, s, _ = leg(ballistic, t, s)
        out.impact_t = t
        return out
    assert isinstance(profile, GlideProfile)
    glider = replace(vehicle, beta_reentry=profile.beta)
    out.lift_start_t = burnout
    t, s = burnout, state
    if profile.turn != 0.0:
        bank = math.copysign(lift_model.GLIDE_BANK, profile.turn)
        banked, _ = _rhs(
            glider, programme, physics, site_ecef, False, lift=(profile.lift_to_drag, profile.max_accel, bank)
        )
        pos, vel = wgs84.eci_to_ecef(burnout, s[:3], s[3:]) if physics.rotation else (s[:3], s[3:])
        normal0 = lift_model.plane_normal(pos, vel)
        t, s, fired = leg(banked, t, s, lift_model.turn_reached(profile.turn, normal0, physics.omega))
        if fired is None:
            out.impact_t = out.lift_end_t = t
            return out
        out.turn_end_t = t
    level, _ = _rhs(glider, programme, physics, site_ecef, False, lift=(profile.lift_to_drag, profile.max_accel, 0.0))
    t, s, _ = leg(level, t, s)
    out.impact_t = out.lift_end_t = t
    return out


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
    dense, impact_t = _to_ground(rhs, t0, np.asarray(eci0, float), rtol, 1e-4, "a released object")
    t = np.unique(np.concatenate([np.arange(math.ceil(t0 / step) * step, impact_t, step), [t0, impact_t]]))
    eci = dense(t).T
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
    """What a scenario asks of one flight: site, aim point, apogee (all SI, radians), re-entry body's β, and the
    manoeuvring ``profile`` flown after burnout (:mod:`mwx.sim.lift`; None: ballistic)."""

    site_lat: float
    site_lon: float
    aim_lat: float
    aim_lon: float
    apogee: float
    site_alt: float = 0.0
    reentry_beta: float = REENTRY_BETA  # kg/m²
    profile: Profile | None = None

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
        profile: Profile | None = None,
    ) -> FlightBrief:
        """The brief whose aim point lies ``range_m`` along the geodesic at ``azimuth``."""
        lon, lat, _ = _GEOD.fwd(math.degrees(site_lon), math.degrees(site_lat), math.degrees(azimuth), range_m)
        return cls(site_lat, site_lon, math.radians(lat), math.radians(lon), apogee, site_alt, reentry_beta, profile)

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
    profile = brief.profile
    beta = profile.beta if isinstance(profile, GlideProfile) else brief.reentry_beta
    vehicle = Vehicle(burn_time_s=burn_time_for_speed(speed), beta_reentry=beta)
    # Kepler start: the burnout speed plus gravity losses over the burn; the
    # outer iteration absorbs drag, rotation and the ground covered in boost.
    x = np.array([speed + 9.8 * vehicle.burn_time_s * 0.5 * math.sin(gamma) + 150.0, gamma, azimuth])
    if profile is not None:
        # A lifting flight starts from the ballistic flight of the same brief: its apogee is right and the lift
        # only stretches the range, which the iteration takes back smoothly.  The Kepler start can peak so low
        # that a pull-up lifts from a dense-air apogee, where the range jumps with the programme.  A brief no
        # ballistic flight reaches (the lift may reach it) starts from Kepler.
        with contextlib.suppress(UnreachableFlight):
            x = np.array(astuple(solve_flight(replace(brief, profile=None), physics, tolerance=tolerance).programme))
    aim_ecef = wgs84.geodetic_to_ecef(brief.aim_lat, brief.aim_lon, 0.0)
    steps = np.array([2.0, 2e-4, 2e-5])
    lower = np.array([300.0, math.radians(0.5), -np.inf])
    upper = np.array([12000.0, math.radians(89.95), np.inf])

    def residual(params: NDArray, rtol: float = 1e-9) -> tuple[NDArray, Trajectory]:
        prog = Programme(*params.tolist())
        traj = simulate(
            brief.site_lat, brief.site_lon, brief.site_alt, prog, vehicle, physics, step=5.0, rtol=rtol, profile=profile
        )
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
    traj = simulate(
        brief.site_lat, brief.site_lon, brief.site_alt, Programme(*best_x.tolist()), vehicle, physics, profile=profile
    )
    apogee_error = abs(traj.apogee_alt - brief.apogee) / brief.apogee
    range_error = abs(traj.range_m - range_m) / range_m
    if max(apogee_error, range_error) > 0.005:
        kind = {PullUpProfile: "pull-up", GlideProfile: "boost-glide"}.get(type(profile), "ballistic")
        raise UnreachableFlight(
            f"no {kind} flight reaches apogee {brief.apogee / 1e3:.0f} km at a range of {range_m / 1e3:.0f} km "
            f"(closest found: apogee {traj.apogee_alt / 1e3:.0f} km, range {traj.range_m / 1e3:.0f} km)"
        )
    return traj
