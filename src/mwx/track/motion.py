"""Motion models: ballistic flight with drag, powered boost, and constant velocity.

The missile state is eight numbers in ECEF (WGS-84, rotating)::

    x = [r (3) m, v (3) m/s, a_T m/s², κ m²/kg]

with ``a_T`` the thrust acceleration along the velocity and ``κ = 1/β`` the
inverse ballistic coefficient (``β = m / (C_D A)``).  In the rotating frame

    r̈ = g_J2(r) - ω × (ω × r) - 2 ω × ṙ - ½ ρ(h) κ |ṙ| ṙ + a_T ṙ/|ṙ|

(the atmosphere turns with the Earth, so ECEF velocity is the air-relative
velocity; gravity as in :mod:`mwx.track.dynamics`).  Two modes of it, for an
interacting-multiple-model filter (:mod:`mwx.track.imm`):

* :class:`Ballistic` — coast and re-entry: no thrust (``a_T`` is driven to 0),
  ``κ`` a slow random walk so re-entry drag estimates it, and a small white
  acceleration for what the model lacks;
* :class:`Boost` — powered flight: ``a_T`` a random walk (thrust rises as
  propellant burns and drops at staging), white lateral acceleration for the
  pitch programme, ``κ`` frozen.

Integration is RK4 with sub-steps of at most 10 s in vacuum and 1 s below
100 km (where drag acts on a time scale of seconds).  Jacobians are the
second-order expansion ``I + A dt + A² dt²/2`` of the linearised dynamics at
the start state, with the point-mass gravity gradient, the rotation terms,
the drag partials (density gradient included) and the thrust partials.

:class:`ConstantVelocity` is the textbook nearly-constant-velocity model in
any Cartesian frame (Bar-Shalom, Li & Kirubarajan 2001, §6.2.2), for
benchmarks shared with other trackers.
"""

from __future__ import annotations

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


def _acceleration(x: NDArray, thrust: NDArray | bool) -> NDArray:
    """ECEF acceleration [m/s²] of states (n, 8); ``thrust`` per row (or for all) adds a_T along v.

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
    return a


def drag_acceleration(x: NDArray) -> NDArray:
    """Drag deceleration [m/s²] of states (n, 8): ½ ρ(h) κ |v|² (ECEF velocity: the air turns with the Earth)."""
    rho, _ = _density(_height(x[:, POS]))
    speed2 = np.einsum("ij,ij->i", x[:, VEL], x[:, VEL])
    return 0.5 * rho * np.maximum(x[:, KAPPA], 0.0) * speed2


def _rk4(x: NDArray, dt: NDArray, thrust: NDArray | bool) -> NDArray:
    """RK4 with each state's own number of sub-steps (a long gap does not slow the others)."""
    x = np.array(x, float)
    if x.size == 0:
        return x
    thrust = np.broadcast_to(np.asarray(thrust, bool), (x.shape[0],))
    low = _height(x[:, POS]) < _DRAG_CEILING
    n_sub = np.maximum(np.ceil(np.abs(dt) / np.where(low, 1.0, 10.0)), 1).astype(np.int64)
    h = (dt / n_sub)[:, None]

    def derivative(s: NDArray, th: NDArray) -> NDArray:
        out = np.empty_like(s)
        out[:, POS] = s[:, VEL]
        out[:, VEL] = _acceleration(s, th)
        out[:, 6:] = 0.0
        return out

    for step in range(int(n_sub.max())):
        active = n_sub > step
        if active.all():
            s, hh, th = x, h, thrust
        else:
            s, hh, th = x[active], h[active], thrust[active]
        k1 = derivative(s, th)
        k2 = derivative(s + 0.5 * hh * k1, th)
        k3 = derivative(s + 0.5 * hh * k2, th)
        k4 = derivative(s + hh * k3, th)
        s = s + hh / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        if active.all():
            x = s
        else:
            x[active] = s
    return x


def _jacobian(x: NDArray, thrust: bool) -> NDArray:
    """Continuous-time Jacobians A = ∂ẋ/∂x (n, 8, 8)."""
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
    if thrust:
        at = x[:, THRUST]
        a[:, VEL, VEL] += (at / speed)[:, None, None] * (np.eye(3) - vhat[:, :, None] * vhat[:, None, :])
        a[:, VEL, THRUST] = vhat
    return a


def _expand(a: NDArray, dt: NDArray) -> NDArray:
    dt = dt[:, None, None]
    return np.eye(a.shape[1]) + a * dt + (a @ a) * dt**2 / 2.0


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
        f = _expand(_jacobian(x, thrust=False), dt)
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
        f = _expand(_jacobian(x, thrust=True), dt)
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
    if all(isinstance(model, Ballistic | Boost) for model in models):
        thrust = np.tile([model.thrust for model in models], n)
        out = _rk4(x.reshape(n * m, d), np.repeat(dt, m), thrust).reshape(n, m, d)
        for j, model in enumerate(models):
            if not model.thrust:
                out[:, j, THRUST] = 0.0
        return out
    return np.stack([model.propagate(x[:, j], dt) for j, model in enumerate(models)], axis=1)
