"""Aerodynamic lift of manoeuvring flight profiles: a depressed flight with a pull-up, and a boost-glide.

Frames and units
    SI throughout (m, s, kg, rad).  Vectors are in the launch-fixed inertial
    frame of :mod:`mwx.sim.flight` (ECI below), but every formula here takes a
    position ``r`` and the velocity relative to the atmosphere ``w = v - ω × r``
    and holds in any frame whose origin is the Earth's centre (ECEF included,
    where ``w`` is the ECEF velocity).  "Up" is the geocentric radial direction
    ``r̂`` (it differs from the ellipsoid normal by at most 0.19°).

Lift
    The body flies at a constant lift-to-drag ratio ``L/D`` (the trim of a
    slender body or a glide vehicle; Regan & Anandakrishnan, *Dynamics of
    Atmospheric Re-Entry*, AIAA 1993, ch. 7 and 9; Zarchan, *Tactical and
    Strategic Missile Guidance*, 6th ed., ch. 24 on manoeuvring re-entry
    vehicles), limited by the structure's load factor ``n_max``::

        |a_D| = ρ |w|² / (2β)                       drag acceleration (mwx.sim.flight)
        |a_L| = min(L/D · |a_D|, n_max · g0)        g0 = 9.80665 m/s²
        a_L   = |a_L| (cos σ ê + sin σ (ŵ × ê)),    ê = unit(r̂ - (r̂·ŵ) ŵ)

    ``ê`` is the unit vector perpendicular to ``w`` in the vertical plane of
    ``w``, pointing up; ``σ`` is the bank angle, positive to the right (``ŵ ×
    ê`` points to the right of the flight direction).  Lift is perpendicular
    to ``w``, so it does no work on the body relative to the atmosphere: in
    the Earth-fixed frame it changes the direction of flight only, and in a
    frame without Earth rotation the mechanical energy changes by the work of
    drag alone (``tests/test_lift.py`` checks both).

Profiles (:class:`PullUpProfile`, :class:`GlideProfile`; from the scenario's
``profile`` by :func:`from_scenario`)
    * **Pull-up** (the KN-23 family): the re-entry body (the brief's β) coasts
      ballistically until, on the way down, it is below ``start_alt``; then it
      lifts with ``σ = 0`` (straight up in its vertical plane) until it
      descends through ``dive_alt``, and dives ballistically from there.  The
      phase is history-dependent: once started, the lift stays on even if the
      body climbs again, until the dive.  An apogee below ``start_alt`` starts
      the lift at the apogee.  The lift flattens the descent into a shallow
      glide through the dense air and stretches the range.
    * **Boost-glide** (Hwasong-8, Hwasong-16B): at burnout a glide vehicle of
      its own ballistic coefficient ``beta`` is released and lifts from then
      on to impact.  Above ~80 km the air is too thin for the lift to matter;
      coming down, the vehicle pulls out of its dive as deep as its load
      factor requires (10–20 km for a 100 km apogee and 3 g), then skips and
      glides, lift plus centrifugal force against weight (the equilibrium
      glide of Eggers, Allen & Neice, NACA TR 1382, 1958, reached only where
      the speed is high enough), until it is too slow to hold altitude and
      sinks to the ground.  The lift adds range: a flight solved to a brief
      needs less velocity gain than the ballistic one.

Bank law (glide)
    Constant bank ``σ = ±GLIDE_BANK`` (the sign of ``turn``) from burnout until
    the ground track has turned by ``turn``, then wings level (``σ = 0``) to
    impact.  The turn is measured in the Earth-fixed frame as the dihedral
    angle between the great circle of the flight at burnout (the plane of
    ``r × w`` then) and the great circle it flies now (:func:`track_turn`):
    the heading change a ground observer sees, in which the Coriolis drift of
    any flight (about 0.005°/s at 40° N, to the right in the north) is
    included; the bank ends exactly when that angle reaches ``turn``.  A glide
    too short to turn that far ends still banked (``Trajectory.turn_end_t`` is
    NaN).  With ``turn = 0`` the vehicle never banks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mwx.geo import wgs84

if TYPE_CHECKING:
    from mwx.sim.scenario import Profile as ScenarioProfile

#: Standard gravity [m/s²]: load factors are in units of it.
G0 = 9.80665
#: Bank angle magnitude [rad] of a turning glide (see the module's bank law): 45° spends as much lift on the
#: turn as on holding altitude.
GLIDE_BANK = math.radians(45.0)
#: Highest apogee [m] of a flight with a lifting profile: the body must meet the atmosphere at a shallow angle
#: and a speed where the lift can shape the flight; the reported North Korean manoeuvring flights peak at
#: 20–101 km.  Above it a flight re-enters steeply enough to be ballistic (scenario check).
MAX_LIFT_APOGEE = 150e3


@dataclass(frozen=True)
class PullUpProfile:
    """A pull-up on the way down (SI): lift between ``start_alt`` and ``dive_alt`` [m] of geodetic altitude.

    ``lift_to_drag`` is L/D [-]; ``max_accel`` the load-factor bound ``n_max · g0`` [m/s²].
    """

    start_alt: float
    dive_alt: float
    lift_to_drag: float
    max_accel: float


@dataclass(frozen=True)
class GlideProfile:
    """A boost-glide (SI): a glide vehicle of ballistic coefficient ``beta`` [kg/m²] released at burnout.

    ``lift_to_drag`` is L/D [-]; ``max_accel`` the load-factor bound ``n_max · g0`` [m/s²]; ``turn`` the
    heading change [rad] of the glide, positive to the right.
    """

    lift_to_drag: float
    max_accel: float
    beta: float
    turn: float = 0.0


Profile = PullUpProfile | GlideProfile


def from_scenario(profile: ScenarioProfile | None) -> Profile | None:
    """The SI profile of a scenario's ``profile`` (km → m, g → m/s² with g0, deg → rad); None stays None."""
    from mwx.sim.scenario import Glide, PullUp

    if profile is None:
        return None
    if isinstance(profile, PullUp):
        return PullUpProfile(
            start_alt=profile.start_alt_km * 1e3,
            dive_alt=profile.dive_alt_km * 1e3,
            lift_to_drag=profile.lift_to_drag,
            max_accel=profile.load_factor_g * G0,
        )
    assert isinstance(profile, Glide)
    return GlideProfile(
        lift_to_drag=profile.lift_to_drag,
        max_accel=profile.load_factor_g * G0,
        beta=profile.beta_kg_m2,
        turn=math.radians(profile.turn_deg),
    )


def max_lift_acceleration(profile: Profile | None) -> float:
    """The largest lift acceleration [m/s²] a profile can give its body: ``n_max · g0`` (0 when ballistic).

    For trackers and assessments: a manoeuvring body's acceleration differs from the ballistic one (gravity
    and drag) by at most this much, perpendicular to its velocity relative to the air.
    """
    return 0.0 if profile is None else profile.max_accel


def lift_acceleration(
    r: ArrayLike,
    w: ArrayLike,
    drag_accel: ArrayLike,
    lift_to_drag: float,
    max_accel: float,
    bank: ArrayLike = 0.0,
) -> NDArray[np.float64]:
    """Lift acceleration [m/s²], shape (..., 3), of bodies at ``r`` [m] (..., 3) flying ``w`` [m/s] (..., 3).

    ``w`` is the velocity relative to the atmosphere, ``drag_accel`` (...) the magnitude of the drag
    acceleration ρ|w|²/(2β) [m/s²], ``bank`` (...) the bank angle σ [rad].  Zero where ``w`` is zero or
    vertical (no vertical plane).  Vectorised; :func:`lift_scalar` is the same for one body in floats.
    """
    r = np.asarray(r, float)
    w = np.asarray(w, float)
    speed = np.linalg.norm(w, axis=-1, keepdims=True)
    w_hat = w / np.where(speed > 0.0, speed, 1.0)
    up = r / np.linalg.norm(r, axis=-1, keepdims=True)
    e = up - np.sum(up * w_hat, axis=-1, keepdims=True) * w_hat
    e_norm = np.linalg.norm(e, axis=-1, keepdims=True)
    ok = (speed > 0.0) & (e_norm > 1e-12)
    e = np.where(ok, e / np.where(ok, e_norm, 1.0), 0.0)
    side = np.cross(w_hat, e)
    bank = np.asarray(bank, float)[..., None]
    magnitude = np.minimum(lift_to_drag * np.asarray(drag_accel, float), max_accel)[..., None]
    return magnitude * (np.cos(bank) * e + np.sin(bank) * side)


def lift_scalar(
    x: float,
    y: float,
    z: float,
    wx: float,
    wy: float,
    wz: float,
    drag_accel: float,
    lift_to_drag: float,
    max_accel: float,
    cos_bank: float = 1.0,
    sin_bank: float = 0.0,
) -> tuple[float, float, float]:
    """:func:`lift_acceleration` of one body in plain floats (for the integrator's right-hand side)."""
    w2 = wx * wx + wy * wy + wz * wz
    r = math.sqrt(x * x + y * y + z * z)
    if w2 <= 0.0:
        return 0.0, 0.0, 0.0
    speed = math.sqrt(w2)
    hx, hy, hz = wx / speed, wy / speed, wz / speed
    ux, uy, uz = x / r, y / r, z / r
    dot = ux * hx + uy * hy + uz * hz
    ex, ey, ez = ux - dot * hx, uy - dot * hy, uz - dot * hz
    en = math.sqrt(ex * ex + ey * ey + ez * ez)
    if en <= 1e-12:
        return 0.0, 0.0, 0.0
    mag = min(lift_to_drag * drag_accel, max_accel)
    ex, ey, ez = ex / en, ey / en, ez / en
    sx, sy, sz = hy * ez - hz * ey, hz * ex - hx * ez, hx * ey - hy * ex  # ŵ × ê: to the right
    a, b = mag * cos_bank, mag * sin_bank
    return a * ex + b * sx, a * ey + b * sy, a * ez + b * sz


def track_turn(r: ArrayLike, w: ArrayLike, normal0: ArrayLike) -> NDArray[np.float64] | float:
    """Turn [rad] of the ground track, positive to the right, since the flight plane had unit normal ``normal0``.

    ``r`` (..., 3) [m] and ``w`` (..., 3) [m/s] are Earth-fixed position and velocity (or an inertial position
    and the velocity relative to the atmosphere, with ``normal0`` rotated into that frame); ``normal0`` is
    ``unit(r0 × w0)`` of the reference state (:func:`plane_normal`).  The result is the signed dihedral angle
    between that plane and the plane of ``r × w`` now: the heading change at the node of the two great
    circles.
    """
    r = np.asarray(r, float)
    w = np.asarray(w, float)
    n0 = np.asarray(normal0, float)
    n = np.cross(r, w)
    n = n / np.linalg.norm(n, axis=-1, keepdims=True)
    cos = np.sum(n0 * n, axis=-1)
    # Turning right rotates the plane's normal by a negative angle about the local vertical.
    sin = -np.sum(np.cross(n0, n) * r, axis=-1) / np.linalg.norm(r, axis=-1)
    out = np.arctan2(sin, cos)
    return float(out) if out.ndim == 0 else out


def plane_normal(r: ArrayLike, w: ArrayLike) -> NDArray[np.float64]:
    """Unit normal ``unit(r × w)`` of the plane of flight of a state (..., 3)."""
    n = np.cross(np.asarray(r, float), np.asarray(w, float))
    return n / np.linalg.norm(n, axis=-1, keepdims=True)


Event = Callable[[float, NDArray], float]


def _event(fn: Any, direction: float) -> Event:
    fn.terminal = True
    fn.direction = direction
    event: Event = fn
    return event


def descending_below(alt: float) -> Event:
    """Integration event: zero when the body is below ``alt`` [m] and descending (terminal, falling through 0).

    ``max(h - alt, r̂·v)`` is positive while the body is above ``alt`` or climbing; ``r·v = r·w``, so the same
    in the inertial and the Earth-fixed frame.
    """

    def event(t: float, s: NDArray) -> float:
        x, y, z, vx, vy, vz = s[:6].tolist()
        radial = (x * vx + y * vy + z * vz) / math.sqrt(x * x + y * y + z * z)
        return max(wgs84.geodetic_altitude(x, y, z) - alt, radial)

    return _event(event, -1.0)


def altitude_below(alt: float) -> Event:
    """Integration event: the geodetic altitude falls through ``alt`` [m] (terminal)."""

    def event(t: float, s: NDArray) -> float:
        return wgs84.geodetic_altitude(s[0], s[1], s[2]) - alt

    return _event(event, -1.0)


def turn_reached(turn: float, normal0_ecef: NDArray, omega: float) -> Event:
    """Integration event on inertial states: the ground track has turned by ``turn`` [rad] (terminal).

    ``normal0_ecef`` is the Earth-fixed plane normal at the start of the turn (:func:`plane_normal`); at time
    ``t`` [s after launch] it is rotated into the inertial frame by ``ω t``.
    """
    sign = 1.0 if turn >= 0.0 else -1.0
    n0x, n0y, n0z = (float(c) for c in normal0_ecef)

    def event(t: float, s: NDArray) -> float:
        x, y, z, vx, vy, vz = s[:6].tolist()
        c, si = math.cos(omega * t), math.sin(omega * t)
        n0 = (c * n0x - si * n0y, si * n0x + c * n0y, n0z)
        w = (vx + omega * y, vy - omega * x, vz)
        return sign * float(track_turn((x, y, z), w, n0)) - abs(turn)

    return _event(event, 1.0)
