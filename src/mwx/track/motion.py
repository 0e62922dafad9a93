"""Motion models: ballistic flight with drag, powered boost, lifting (manoeuvring) flight, constant velocity.

The missile state is eight numbers in ECEF (WGS-84, rotating)::

    x = [r (3) m, v (3) m/s, a_T m/s², κ m²/kg]

with ``a_T`` the thrust acceleration along the velocity and ``κ = 1/β`` the
inverse ballistic coefficient (``β = m / (C_D A)``).  In the rotating frame

    r̈ = g_J2(r) - ω × (ω × r) - 2 ω × ṙ - ½ ρ(h) κ |ṙ| ṙ + a_T ṙ/|ṙ|

(the atmosphere turns with the Earth, so ECEF velocity is the air-relative
velocity; gravity as in :mod:`mwx.track.dynamics`).  Three modes of it, for an
interacting-multiple-model filter (:mod:`mwx.track.tracker`):

* :class:`Ballistic` — coast and re-entry: no thrust (``a_T`` is driven to 0),
  ``κ`` a slow random walk so re-entry drag estimates it, and a small white
  acceleration for what the model lacks;
* :class:`Boost` — powered flight: ``a_T`` a random walk (thrust rises as
  propellant burns and drops at staging), white lateral acceleration for the
  pitch programme, ``κ`` frozen;
* :class:`Manoeuvre` — coast and re-entry with an unknown aerodynamic lift (a
  pull-up, a glide, a turn: :mod:`mwx.sim.lift`): the ballistic mode's
  dynamics and noise plus white acceleration across the velocity, as large as
  a lift can be in the air the state is in (none above it).

Integration is RK4 with sub-steps of at most 10 s in vacuum and 1 s below
100 km (where drag acts on a time scale of seconds).  Jacobians are the
second-order expansion ``I + A dt + A² dt²/2`` of the linearised dynamics at
the start state (scaled and squared where drag makes them stiff, :func:`_expand`),
with the point-mass gravity gradient, the rotation terms, the drag partials
(density gradient included) and the thrust and lift partials.
:func:`propagate_modes` and :func:`transition_modes` take all missile modes
of all tracks in one batch.

:class:`ConstantVelocity` is the textbook nearly-constant-velocity model in
any Cartesian frame (Bar-Shalom, Li & Kirubarajan 2001, §6.2.2), for
benchmarks shared with other trackers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mwx.geo import wgs84
from mwx.track.dynamics import _DENSITY_GRID, _LOG_DENSITY

POS, VEL, THRUST, KAPPA = slice(0, 3), slice(3, 6), 6, 7
STATE_DIM = 8
_OMEGA_CROSS = np.array([[0.0, -wgs84.OMEGA, 0.0], [wgs84.OMEGA, 0.0, 0.0], [0.0, 0.0, 0.0]])
_SLOPE = np.gradient(_LOG_DENSITY, _DENSITY_GRID)  # d ln ρ / dh [1/m]
_DRAG_CEILING = 100e3  # m: below it RK4 takes 1 s sub-steps
#: m/s: the least speed the Jacobians take for how fast a push across the velocity turns it (thrust, lift).
_MIN_TURN_SPEED = 100.0


def _density(alt: NDArray) -> tuple[NDArray, NDArray]:
    """1976 density ρ [kg/m³] and its height derivative dρ/dh at geodetic heights [m]."""
    rho = np.where(alt > _DENSITY_GRID[-1], 0.0, np.exp(np.interp(alt, _DENSITY_GRID, _LOG_DENSITY)))
    return rho, rho * np.interp(alt, _DENSITY_GRID, _SLOPE)


def _height(r: NDArray) -> NDArray:
    """Geodetic height [m], to a few metres below 1000 km: the geocentric radius less the ellipsoid's.

    Cheap enough for every RK4 stage; the density it feeds changes by 1 % per 70 m.
    """
    rn = np.sqrt(np.einsum("ij,ij->i", r, r))
    s2 = (r[:, 2] / rn) ** 2
    return rn - wgs84.A * (1.0 - wgs84.F * s2)


def lift_direction(r: NDArray, v: NDArray) -> NDArray:
    """Unit vectors ê (n, 3) across the velocities ``v`` in their vertical planes, pointing up (0 if v is vertical).

    ``ê = unit(r̂ − (r̂·v̂) v̂)``, r̂ the geocentric up: the direction of an unbanked lift (:mod:`mwx.sim.lift`).
    """
    up = r / np.sqrt(np.einsum("ij,ij->i", r, r))[:, None]
    vhat = v / np.maximum(np.sqrt(np.einsum("ij,ij->i", v, v)), 1e-3)[:, None]
    e = up - np.einsum("ij,ij->i", up, vhat)[:, None] * vhat
    norm = np.sqrt(np.einsum("ij,ij->i", e, e))
    return e / np.where(norm > 1e-9, norm, np.inf)[:, None]


def _acceleration(x: NDArray, thrust: NDArray | bool, lift: NDArray | bool = False) -> NDArray:
    """ECEF acceleration [m/s²] of states (n, 8); ``thrust`` per row (or for all) adds a_T along v,
    ``lift`` per row (or for all) adds ``x[6]`` along :func:`lift_direction` instead (:class:`Manoeuvre`).

    Gravity is :func:`mwx.track.dynamics.gravity` written out in place: this
    runs four times per RK4 step and the stacking there cost a third of the
    tracker's time (pyinstrument, demo scenario).
    """
    r, v = x[:, POS], x[:, VEL]
    rx, ry, rz = r[:, 0], r[:, 1], r[:, 2]
    r2 = rx * rx + ry * ry + rz * rz
    rn = np.sqrt(r2)
    zr2 = rz * rz / r2
    common = -wgs84.GM / (r2 * rn)
    j2f = 1.5 * wgs84.J2 * wgs84.A**2 / r2
    horizontal = common * (1.0 - j2f * (5.0 * zr2 - 1.0))
    a = np.empty((x.shape[0], 3))
    w2 = wgs84.OMEGA**2
    a[:, 0] = horizontal * rx + w2 * rx + 2.0 * wgs84.OMEGA * v[:, 1]
    a[:, 1] = horizontal * ry + w2 * ry - 2.0 * wgs84.OMEGA * v[:, 0]
    a[:, 2] = common * rz * (1.0 - j2f * (5.0 * zr2 - 3.0))
    speed = np.maximum(np.sqrt(np.einsum("ij,ij->i", v, v)), 1e-3)
    height = rn - wgs84.A * (1.0 - wgs84.F * zr2)
    low = height < _DENSITY_GRID[-1]
    if low.any():
        rho = np.where(low, np.exp(np.interp(height, _DENSITY_GRID, _LOG_DENSITY)), 0.0)
        a -= (0.5 * rho * np.maximum(x[:, KAPPA], 0.0) * speed)[:, None] * v
    if np.any(thrust):
        a += (np.where(thrust, x[:, THRUST], 0.0) / speed)[:, None] * v
    if np.any(lift):
        on = np.flatnonzero(np.broadcast_to(lift, rx.shape) & (x[:, THRUST] != 0.0))
        if on.size:
            a[on] += x[on, THRUST, None] * lift_direction(r[on], v[on])
    return a


def height(r: NDArray) -> NDArray:
    """Geodetic height [m] (n,) of ECEF positions (n, 3), to a few metres below 1000 km (see :func:`_height`)."""
    return _height(r)


def drag_acceleration(x: NDArray) -> NDArray:
    """Drag deceleration [m/s²] of states (n, 8): ½ ρ(h) κ |v|² (ECEF velocity: the air turns with the Earth)."""
    rho, _ = _density(_height(x[:, POS]))
    speed2 = np.einsum("ij,ij->i", x[:, VEL], x[:, VEL])
    return 0.5 * rho * np.maximum(x[:, KAPPA], 0.0) * speed2


def _rk4(x: NDArray, dt: NDArray, thrust: NDArray | bool, lift: NDArray | bool = False) -> NDArray:
    """RK4 with each state's own number of sub-steps (a long gap does not slow the others)."""
    x = np.array(x, float)
    if x.size == 0:
        return x
    thrust = np.broadcast_to(np.asarray(thrust, bool), (x.shape[0],))
    lift = np.broadcast_to(np.asarray(lift, bool), (x.shape[0],))
    lifting = bool(lift.any())
    low = _height(x[:, POS]) < _DRAG_CEILING
    n_sub = np.maximum(np.ceil(np.abs(dt) / np.where(low, 1.0, 10.0)), 1).astype(np.int64)
    h = (dt / n_sub)[:, None]

    def derivative(s: NDArray, th: NDArray, li: NDArray) -> NDArray:
        out = np.empty_like(s)
        out[:, POS] = s[:, VEL]
        out[:, VEL] = _acceleration(s, th, li)
        out[:, 6:] = 0.0
        return out

    for step in range(int(n_sub.max())):
        active = n_sub > step
        if active.all():
            s, hh, th, li = x, h, thrust, lift
        else:
            s, hh, th, li = x[active], h[active], thrust[active], lift[active]
        li = li if lifting else np.zeros(0, bool)
        k1 = derivative(s, th, li)
        k2 = derivative(s + 0.5 * hh * k1, th, li)
        k3 = derivative(s + 0.5 * hh * k2, th, li)
        k4 = derivative(s + hh * k3, th, li)
        s = s + hh / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        if active.all():
            x = s
        else:
            x[active] = s
    return x


def _jacobian(x: NDArray, thrust: NDArray | bool, lift: NDArray | bool = False) -> NDArray:
    """Continuous-time Jacobians A = ∂ẋ/∂x (n, 8, 8); ``thrust``, ``lift`` per row (or for all) as in
    :func:`_acceleration`.

    The lift's partials are ∂(ℓ ê)/∂ℓ = ê and ℓ ∂ê/∂v (:func:`_lift_direction_gradient`); ê turns with r
    too, 1/|r| as fast, which is left out.
    """
    n = x.shape[0]
    r, v = x[:, POS], x[:, VEL]
    rn = np.linalg.norm(r, axis=1)[:, None, None]
    u = r[:, :, None] / rn
    a = np.zeros((n, STATE_DIM, STATE_DIM))
    a[:, POS, VEL] = np.eye(3)
    a[:, VEL, POS] = wgs84.GM / rn**3 * (3.0 * u * np.swapaxes(u, 1, 2) - np.eye(3)) - _OMEGA_CROSS @ _OMEGA_CROSS
    a[:, VEL, VEL] = -2.0 * _OMEGA_CROSS
    speed = np.maximum(np.linalg.norm(v, axis=1), 1e-3)
    vhat = v / speed[:, None]
    kappa = np.maximum(x[:, KAPPA], 0.0)
    rho, drho = _density(_height(r))
    if np.any(rho > 0.0):
        up = u[:, :, 0]  # geocentric up: near enough for the density gradient
        k = (0.5 * rho * kappa)[:, None, None]
        a[:, VEL, VEL] -= k * (speed[:, None, None] * np.eye(3) + v[:, :, None] * vhat[:, None, :])
        a[:, VEL, POS] -= (0.5 * drho * kappa * speed)[:, None, None] * v[:, :, None] * up[:, None, :]
        a[:, VEL, KAPPA] = -(0.5 * rho * speed)[:, None] * v
    thrusting = np.broadcast_to(np.asarray(thrust, bool), (n,))
    lifting = np.broadcast_to(np.asarray(lift, bool), (n,)) & ~thrusting
    if thrusting.any():
        on = np.flatnonzero(thrusting)
        at, vh = x[on, THRUST], vhat[on]
        # ∂(a_T v̂)/∂v = a_T (I − v̂v̂ᵀ)/|v|, with |v| at least 100 m/s: a radar track starts with its velocity
        # unknown (a few m/s), and a_T/|v| = 10 /s then made the boost mode's second update 300 m/s to
        # 4 km/s off; the mode lost all probability and a salvo's SRBM was tracked through its boost as
        # coasting (a false overflight alert).  The lift's ∂ê/∂v has the same floor.
        turn = at / np.maximum(speed[on], _MIN_TURN_SPEED)
        a[on, VEL, VEL] += turn[:, None, None] * (np.eye(3) - vh[:, :, None] * vh[:, None, :])
        a[on, VEL, THRUST] = vh
    if lifting.any():
        on = np.flatnonzero(lifting)
        e = lift_direction(r[on], v[on])
        a[on, VEL, THRUST] = e
        # (Below 100 m/s there is no lift to speak of, and ê turns too fast with v to linearise.)
        gradient = _lift_direction_gradient(r[on], vhat[on], e, np.maximum(speed[on], _MIN_TURN_SPEED))
        a[on, VEL, VEL] += x[on, THRUST, None, None] * gradient
    return a


#: Sine of the angle to the vertical below which :func:`_lift_direction_gradient` takes it as this.
_MIN_SINE = 0.1


def _lift_direction_gradient(r: NDArray, vhat: NDArray, e: NDArray, speed: NDArray) -> NDArray:
    """∂ê/∂v (n, 3, 3) of :func:`lift_direction`: ê turns as v does (its turn with r, 1/|r| as fast, is left out).

    With u = r̂, w = v̂, c = u·w, s = √(1 − c²), ê = (u − c w)/s: ∂ê/∂w = (−w uᵀ − c I)/s + c ê uᵀ/s², and
    ∂w/∂v = (I − w wᵀ)/|v|.
    """
    u = r / np.linalg.norm(r, axis=1, keepdims=True)
    c = np.einsum("ij,ij->i", u, vhat)[:, None, None]
    # Within ~6° of the vertical ê turns faster than a linearisation can follow (1/s): taken at 6°.  Left
    # at 1/10⁻⁶, a falling fragment's near-vertical velocity gave gradients of 10⁴ /s and a covariance of 10⁴⁹.
    sn = np.sqrt(np.maximum(1.0 - c * c, _MIN_SINE**2))
    outer = lambda a, b: a[:, :, None] * b[:, None, :]  # noqa: E731
    de_dw = (-outer(vhat, u) - c * np.eye(3)) / sn + c * outer(e, u) / sn**2
    return de_dw @ ((np.eye(3) - outer(vhat, vhat)) / speed[:, None, None])


def _expand(a: NDArray, dt: NDArray) -> NDArray:
    """exp(A dt) (n, d, d): ``I + A dt + A² dt²/2``, by scaling and squaring where the dynamics are fast.

    "Fast": ‖∂v̇/∂v‖ dt + ‖∂v̇/∂r‖ dt² over 1/2 (row sums; the kinematic ṙ = v the expansion holds exactly).
    Over a scan in vacuum that is ~10⁻⁴ and the expansion is taken at once, as before this was added; in
    dense air drag makes ∂v̇/∂v stiff (a falling stage: ~0.3 /s), and the expansion of a 5 s step,
    1 − 1.5 + 1.1, would amplify what it should damp.
    """
    ad = a * dt[:, None, None]
    if ad.shape[1] >= 6 and ad.size:
        vel = np.abs(ad[:, VEL, VEL]).sum(axis=2) + np.abs(ad[:, VEL, POS] * dt[:, None, None]).sum(axis=2)
        norm = float(vel.max())
    else:
        norm = 0.0
    squarings = math.ceil(math.log2(norm / 0.5)) if norm > 0.5 else 0
    ad = ad / 2.0**squarings
    out = np.eye(a.shape[1]) + ad + (ad @ ad) / 2.0
    for _ in range(squarings):
        out = out @ out
    return out


def _white_acceleration(dt: NDArray, q: NDArray | float, d: int) -> NDArray:
    """White-acceleration process noise of PSD ``q`` [m²/s³] per axis, embedded in a d-state."""
    adt = np.abs(dt)
    q = np.broadcast_to(np.asarray(q, float), adt.shape)
    out = np.zeros((adt.size, d, d))
    eye = np.eye(3)
    out[:, POS, POS] = (q * adt**3 / 3.0)[:, None, None] * eye
    out[:, POS, VEL] = (q * adt**2 / 2.0 * np.sign(dt))[:, None, None] * eye
    out[:, VEL, POS] = out[:, POS, VEL]
    out[:, VEL, VEL] = (q * adt)[:, None, None] * eye
    return out


@dataclass(frozen=True)
class Ballistic:
    """Coast and re-entry: gravity, rotation, drag with estimated κ; no thrust.

    ``q`` [m²/s³]: white acceleration for what the model lacks.  The model has
    the simulator's forces, so in vacuum it lacks almost nothing: over a long
    coast two radars pin the velocity to ~1 cm/s, and anything above ~10⁻⁹
    makes the covariance measurably conservative (NEES, ``tests/test_tracker.py``).
    ``q_air`` [s]: in the air the filter linearises a drag that doubles every
    few kilometres of descent and learns κ as it goes, so it adds white
    acceleration of PSD ``q_air`` · a_D² (a_D the drag deceleration): 1 % of it
    over 1 s.  Without it a depressed 600 km flight (all of it below 60 km) was
    tracked with a NEES of 7–8 against 6 at 20–60 km.
    ``q_kappa`` [(m²/kg)²/s]: random walk of κ, so re-entry drag is followed.
    """

    q: float = 1e-9
    q_air: float = 1e-4
    q_kappa: float = 1e-10
    thrust_residual: float = 1e-4  # m²/s⁴ of a_T kept so mixing stays well-conditioned
    thrust: bool = False

    def propagate(self, x: NDArray, dt: NDArray) -> NDArray:
        out = _rk4(x, dt, thrust=False)
        out[:, THRUST] = 0.0
        return out

    def transition(self, x: NDArray, dt: NDArray) -> NDArray:
        return self.finish(_expand(_jacobian(x, thrust=False), dt))

    def finish(self, f: NDArray) -> NDArray:
        """This mode's transitions from the plain dynamics' ``f`` (n, 8, 8) (:func:`transition_modes`)."""
        f[:, THRUST, :] = 0.0  # no thrust in this mode: a_T is reset
        return f

    def noise(self, x: NDArray, dt: NDArray) -> NDArray:
        q = _white_acceleration(dt, self.q + self.q_air * drag_acceleration(x) ** 2, STATE_DIM)
        q[:, THRUST, THRUST] = self.thrust_residual
        q[:, KAPPA, KAPPA] = self.q_kappa * np.abs(dt)
        return q


@dataclass(frozen=True)
class Boost:
    """Powered flight: thrust ``a_T`` along the velocity as a random walk, plus lateral white acceleration.

    ``q_thrust`` [(m/s²)²/s]: random walk of a_T; ``q`` [m²/s³]: white
    acceleration on every axis (the pitch programme turns the thrust off the
    velocity by up to ~10 m/s²).
    """

    q: float = 100.0
    q_thrust: float = 25.0
    thrust: bool = True

    def propagate(self, x: NDArray, dt: NDArray) -> NDArray:
        return _rk4(x, dt, thrust=True)

    def transition(self, x: NDArray, dt: NDArray) -> NDArray:
        return self.finish(_expand(_jacobian(x, thrust=True), dt))

    def finish(self, f: NDArray) -> NDArray:
        """This mode's transitions from the plain dynamics' ``f`` (n, 8, 8) (:func:`transition_modes`)."""
        f[:, KAPPA, :] = 0.0
        f[:, KAPPA, KAPPA] = 1.0
        return f

    def noise(self, x: NDArray, dt: NDArray) -> NDArray:
        adt = np.abs(dt)
        q = _white_acceleration(dt, self.q, STATE_DIM)
        # a_T as a random walk feeding the velocity along v̂: integrated-noise blocks.
        vhat = x[:, VEL] / np.maximum(np.linalg.norm(x[:, VEL], axis=1), 1e-3)[:, None]
        qt = self.q_thrust
        q[:, THRUST, THRUST] = qt * adt
        q[:, VEL, THRUST] = (qt * adt**2 / 2.0)[:, None] * vhat * np.sign(dt)[:, None]
        q[:, THRUST, VEL] = q[:, VEL, THRUST]
        q[:, VEL, VEL] += (qt * adt**3 / 3.0)[:, None, None] * vhat[:, :, None] * vhat[:, None, :]
        q[:, POS, THRUST] = (qt * adt**3 / 6.0)[:, None] * vhat
        q[:, THRUST, POS] = q[:, POS, THRUST]
        q[:, POS, POS] += (qt * adt**5 / 20.0)[:, None, None] * vhat[:, :, None] * vhat[:, None, :]
        q[:, POS, VEL] += (qt * adt**4 / 8.0 * np.sign(dt))[:, None, None] * vhat[:, :, None] * vhat[:, None, :]
        q[:, VEL, POS] = np.swapaxes(q[:, POS, VEL], 1, 2)
        q[:, KAPPA, KAPPA] = 1e-14 * adt
        return q


#: Standard gravity [m/s²] (as :data:`mwx.sim.lift.G0`): load factors are in units of it.
G0 = 9.80665


def _integrated_noise(dt: NDArray, q: NDArray, u: NDArray, out: NDArray) -> None:
    """Add to ``out`` (n, 8, 8) a random walk of PSD ``q`` (n,) in x[6] that accelerates along the unit ``u`` (n, 3).

    The blocks of white noise integrated three times (x[6] → v → r), as for the thrust of :class:`Boost`.
    """
    adt = np.abs(dt)
    sign = np.sign(dt)[:, None]
    uu = u[:, :, None] * u[:, None, :]
    out[:, THRUST, THRUST] += q * adt
    vel = (q * adt**2 / 2.0)[:, None] * u * sign
    pos = (q * adt**3 / 6.0)[:, None] * u
    out[:, VEL, THRUST] += vel
    out[:, THRUST, VEL] += vel
    out[:, POS, THRUST] += pos
    out[:, THRUST, POS] += pos
    out[:, VEL, VEL] += (q * adt**3 / 3.0)[:, None, None] * uu
    out[:, POS, POS] += (q * adt**5 / 20.0)[:, None, None] * uu
    cross = (q * adt**4 / 8.0)[:, None, None] * uu * sign[:, :, None]
    out[:, POS, VEL] += cross
    out[:, VEL, POS] += np.swapaxes(cross, 1, 2)


def _white_acceleration_along(dt: NDArray, q: NDArray, u: NDArray, out: NDArray) -> None:
    """Add to ``out`` (n, 8, 8) white acceleration of PSD ``q`` (n,) [m²/s³] along the unit vectors ``u`` (n, 3)."""
    adt = np.abs(dt)
    uu = u[:, :, None] * u[:, None, :]
    out[:, POS, POS] += (q * adt**3 / 3.0)[:, None, None] * uu
    cross = (q * adt**2 / 2.0 * np.sign(dt))[:, None, None] * uu
    out[:, POS, VEL] += cross
    out[:, VEL, POS] += cross
    out[:, VEL, VEL] += (q * adt)[:, None, None] * uu


@dataclass(frozen=True)
class Manoeuvre:
    """Coast and re-entry with an aerodynamic lift: :class:`Ballistic` plus an estimated lift ``ℓ = x[6]``.

    A lifting body (:mod:`mwx.sim.lift`) feels, besides gravity and drag, a lift perpendicular to its
    velocity relative to the air (the ECEF velocity), ``L/D`` times its drag and at most ``n_max g0``::

        |a_L| ≤ a_max = min(lift_per_pressure · ½ ρ(h) |v|², max_lift),
        a_L   = |a_L| (cos σ ê + sin σ ŝ),   ê = unit(r̂ − (r̂·v̂) v̂) (up, across v),  ŝ = v̂ × ê,

    σ the bank.  A lift is held for tens of seconds to minutes (a pull-up's, a glide's), so white
    noise alone describes it badly.  Measured with white acceleration of PSD a_max² · 1 s across v (one
    second of it covers a_max, 3 g low down) and nothing else: on the pull-up of
    ``tests/test_manoeuvre_tracking.py`` the US radars, which see it from the side at 500 km and measure
    its vertical velocity through elevation alone, kept one track in one seed of four (two in the
    others), with NEES averaging 160–270: the mode only widens, never predicts, so the tighter
    ballistic mode won every scan's likelihood while 30–50 m/s off.  So in this mode the state's
    fourth block, a thrust ``a_T`` in the powered mode, is the lift along ê, ``ℓ`` [m/s²], estimated
    (one state: a bank's share, ŝ, stays white noise):

        r̈ = (ballistic, :class:`Ballistic`) + ℓ ê,   ℓ a random walk,

    plus white acceleration along ŝ for the banked part of a lift (a glide's turn) and along ê for
    what the random walk misses.  Noise, scaled by the air's bound a_max at the state:

    * ``ℓ``: random walk of PSD a_max² / ``lift_change_s`` [(m/s²)²/s] (the lift may change by a_max
      in ``lift_change_s``: a pull-up's grows from 1 to 20 m/s² in ~60 s as it descends);
    * along ŝ: white acceleration of PSD (``bank_fraction`` · a_max)² · 1 s [m²/s³], one second of it
      a velocity of ``bank_fraction`` · a_max: sin 45° (:data:`mwx.sim.lift.GLIDE_BANK`) of the lift;
    * along ê: white acceleration of PSD (``residual_fraction`` · a_max)² · 1 s.

    Bounds (derivation in ``docs/tracking-benchmark.md``, "Manoeuvring flights"):

    * ``max_lift`` [m/s²]: 3 g0, the largest load factor the scenario's profiles use by default
      (the glide's 3 g; the pull-up's is 2 g).  A harder manoeuvre is outside the model.
    * ``lift_per_pressure`` [m²/kg]: the largest (L/D)/β, lift per unit dynamic pressure: 10⁻³,
      4× the scenario's default glide vehicle (L/D 2.5, β 10 000 kg/m²: 2.5·10⁻⁴) and 5× its default
      pull-up (L/D 1.5, β 8000: 1.9·10⁻⁴): L/D 2.5 at β 2500 or L/D 5 at β 5000.  It ties the mode
      to the air: at 3 km/s a_max is 3 g below ~40 km, 1.4 m/s² at 60 km, 0.08 at 80 km and under
      3·10⁻³ m/s² above 100 km, where this mode is the ballistic one.

    ρ is taken at the lowest of the start height and the height after ``dt`` on a straight fall
    (``h + ḣ dt − ½ g0 dt²``), so a long prediction into the air gets the lift of where it ends.
    A new track starts this mode with ``ℓ`` = 0 ± a_max (:meth:`start`).
    """

    max_lift: float = 3.0 * G0
    lift_per_pressure: float = 1e-3
    lift_change_s: float = 20.0
    bank_fraction: float = math.sin(math.radians(45.0))
    residual_fraction: float = 0.1
    ballistic: Ballistic = Ballistic()
    thrust: bool = False
    lift: bool = True
    #: States this mode has and the others lack (the lift): an IMM takes them from this mode when it mixes
    #: the others into it (:meth:`mwx.track.tracker.Tracker._mixing_sources`).
    own_states: tuple[int, ...] = (THRUST,)

    def propagate(self, x: NDArray, dt: NDArray) -> NDArray:
        return _rk4(x, dt, thrust=False, lift=True)

    def transition(self, x: NDArray, dt: NDArray) -> NDArray:
        return _expand(_jacobian(x, thrust=False, lift=True), dt)

    def finish(self, f: NDArray) -> NDArray:
        """This mode's transitions from the plain dynamics' ``f`` (n, 8, 8) (:func:`transition_modes`)."""
        return f

    def lift_bound(self, x: NDArray, dt: NDArray | float = 0.0) -> NDArray:
        """The largest lift acceleration a_max [m/s²] (n,) of states (n, 8) over the next ``dt`` [s]."""
        r, v = x[:, POS], x[:, VEL]
        rn = np.sqrt(np.einsum("ij,ij->i", r, r))
        h0 = _height(r)
        dt = np.broadcast_to(np.asarray(dt, float), h0.shape)
        h1 = h0 + np.einsum("ij,ij->i", r, v) / rn * dt - 0.5 * G0 * dt**2
        rho, _ = _density(np.minimum(h0, h1))
        speed2 = np.einsum("ij,ij->i", v, v)
        return np.minimum(self.lift_per_pressure * 0.5 * rho * speed2, self.max_lift)

    def noise(self, x: NDArray, dt: NDArray) -> NDArray:
        q = self.ballistic.noise(x, dt)
        q[:, THRUST, THRUST] = 0.0
        a2 = self.lift_bound(x, dt) ** 2
        r, v = x[:, POS], x[:, VEL]
        e = lift_direction(r, v)
        vhat = v / np.maximum(np.linalg.norm(v, axis=1), 1e-3)[:, None]
        side = np.cross(vhat, e)
        _integrated_noise(dt, a2 / self.lift_change_s, e, q)
        _white_acceleration_along(dt, self.bank_fraction**2 * a2, side, q)
        _white_acceleration_along(dt, self.residual_fraction**2 * a2, e, q)
        q[:, THRUST, THRUST] += self.ballistic.thrust_residual  # keeps mixing well-conditioned above the air
        return q

    def project(self, x: NDArray) -> None:
        """States (n, 8) of this mode onto its bound, in place: the lift within ± a_max at the state.

        Like κ ≥ 0 (:meth:`mwx.track.tracker.Tracker._project`): the update may fit what the other modes
        explain (a motor's push, a fragment's drag) as a lift no air can give, and the lift then feeds the
        Jacobian (ℓ ∂ê/∂v) and the next predictions.  Unbounded, a boosting track's unused manoeuvre mode
        reached ℓ = 500 m/s² at 18 km (a_max 2 m/s² there) and its covariance 10²² m²/s².
        """
        bound = self.lift_bound(x)
        np.clip(x[:, THRUST], -bound, bound, out=x[:, THRUST])

    def start(self, x: NDArray, p: NDArray) -> tuple[NDArray, NDArray]:
        """This mode's part of new tracks' means (m, 8) and covariances: ``ℓ`` = 0 ± a_max, independent."""
        x, p = x.copy(), p.copy()
        x[:, THRUST] = 0.0
        p[:, THRUST, :] = 0.0
        p[:, :, THRUST] = 0.0
        p[:, THRUST, THRUST] = self.lift_bound(x) ** 2 + self.ballistic.thrust_residual
        return x, p


@dataclass(frozen=True)
class ConstantVelocity:
    """Nearly constant velocity in a Cartesian frame: state [r (3), v (3)], white acceleration PSD ``q``."""

    q: float = 1.0

    def propagate(self, x: NDArray, dt: NDArray) -> NDArray:
        out = np.array(x, float)
        out[:, POS] += dt[:, None] * out[:, VEL]
        return out

    def transition(self, x: NDArray, dt: NDArray) -> NDArray:
        f = np.tile(np.eye(6), (x.shape[0], 1, 1))
        f[:, POS, VEL] = dt[:, None, None] * np.eye(3)
        return f

    def noise(self, x: NDArray, dt: NDArray) -> NDArray:
        return _white_acceleration(dt, self.q, 6)


def propagate_modes(models: list, x: NDArray, dt: NDArray) -> NDArray:
    """States (n, M, d) of M modes moved by ``dt`` (n,): one RK4 batch when all are missile modes."""
    n, m, d = x.shape
    if _missile_modes(models):
        thrust = np.tile([model.thrust for model in models], n)
        lift = np.tile([isinstance(model, Manoeuvre) for model in models], n)
        out = _rk4(x.reshape(n * m, d), np.repeat(dt, m), thrust, lift).reshape(n, m, d)
        for j, model in enumerate(models):
            if isinstance(model, Ballistic):
                out[:, j, THRUST] = 0.0
        return out
    return np.stack([model.propagate(x[:, j], dt) for j, model in enumerate(models)], axis=1)


def _missile_modes(models: list) -> bool:
    return all(isinstance(model, Ballistic | Boost | Manoeuvre) for model in models)


def transition_modes(models: list, x: NDArray, dt: NDArray) -> NDArray:
    """Transitions (n, M, d, d) of M modes at states (n, M, d) over ``dt`` (n,): one Jacobian batch (missile modes)."""
    n, m, d = x.shape
    if not _missile_modes(models):
        return np.stack([model.transition(x[:, j], dt) for j, model in enumerate(models)], axis=1)
    thrust = np.tile([model.thrust for model in models], n)
    lift = np.tile([isinstance(model, Manoeuvre) for model in models], n)
    f = _expand(_jacobian(x.reshape(n * m, d), thrust, lift), np.repeat(dt, m)).reshape(n, m, d, d)
    for j, model in enumerate(models):
        f[:, j] = model.finish(f[:, j])
    return f
