"""Ballistic motion in ECEF for filters and predictors, batched over states.

State ``x = [r, v]`` (n, 6), ECEF [m, m/s].  In the rotating frame

    r̈ = g_J2(r) - ω × (ω × r) - 2 ω × ṙ  [- drag]

with the same J2 gravity as the simulator (:mod:`mwx.sim.flight`).  Drag, when
asked for, uses an assumed ballistic coefficient β [kg/m²] and the 1976
standard atmosphere.  Integration is classical RK4 with sub-steps no longer
than ``max_step``; the transition matrix is the second-order expansion
``I + A dt + A² dt²/2`` of the linearised dynamics at the start state.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mwx.geo import wgs84
from mwx.geo.atmosphere import density

# ln ρ tabulated every 50 m from -5 to 1000 km: np.interp of it costs ~5 µs per
# batch against ~100 µs for the layered formula, and agrees to 3e-4 relative
# (tests/test_dynamics.py).
_DENSITY_GRID = np.arange(-5e3, 1000e3 + 1.0, 50.0)
_LOG_DENSITY = np.log(np.maximum(np.asarray(density(_DENSITY_GRID)), 1e-300))


def fast_density(alt: NDArray) -> NDArray:
    """1976 standard density [kg/m³] by interpolation of ln ρ; 0 above 1000 km."""
    rho = np.exp(np.interp(alt, _DENSITY_GRID, _LOG_DENSITY))
    return np.where(alt > _DENSITY_GRID[-1], 0.0, rho)


_OMEGA = np.array([0.0, 0.0, wgs84.OMEGA])
_OMEGA_CROSS = np.array([[0.0, -wgs84.OMEGA, 0.0], [wgs84.OMEGA, 0.0, 0.0], [0.0, 0.0, 0.0]])


def gravity(r: NDArray) -> NDArray:
    """J2 gravitational acceleration [m/s²] at ECEF positions (..., 3)."""
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    r2 = x * x + y * y + z * z
    rn = np.sqrt(r2)
    zr2 = z * z / r2
    common = -wgs84.GM / (r2 * rn)
    j2f = 1.5 * wgs84.J2 * wgs84.A**2 / r2
    horizontal = common * (1.0 - j2f * (5.0 * zr2 - 1.0))
    return np.stack([horizontal * x, horizontal * y, common * z * (1.0 - j2f * (5.0 * zr2 - 3.0))], axis=-1)


def acceleration(r: NDArray, v: NDArray, beta: float | NDArray | None = None) -> NDArray:
    """Total acceleration [m/s²] in ECEF: gravity, centrifugal, Coriolis and optional drag.

    ``beta``: ballistic coefficient [kg/m²], one for all or one per state (``inf``: no drag).
    """
    a = gravity(r)
    a[..., 0] += wgs84.OMEGA**2 * r[..., 0] + 2.0 * wgs84.OMEGA * v[..., 1]
    a[..., 1] += wgs84.OMEGA**2 * r[..., 1] - 2.0 * wgs84.OMEGA * v[..., 0]
    if beta is not None:
        rho = fast_density(wgs84.ellipsoidal_height(r))
        speed = np.linalg.norm(v, axis=-1)
        a -= (0.5 * rho * speed / beta)[..., None] * v
    return a


def _derivative(x: NDArray, beta: float | NDArray | None) -> NDArray:
    return np.concatenate([x[..., 3:], acceleration(x[..., :3], x[..., 3:], beta)], axis=-1)


def propagate(x: NDArray, dt: ArrayLike, *, max_step: float = 10.0, beta: float | NDArray | None = None) -> NDArray:
    """States (n, 6) moved by ``dt`` seconds (scalar or (n,)), RK4."""
    x = np.array(x, float)
    dt = np.broadcast_to(np.asarray(dt, float), x.shape[:-1])
    if x.size == 0:
        return x
    n_sub = max(1, int(np.ceil(np.max(np.abs(dt)) / max_step)))
    h = (dt / n_sub)[..., None]
    for _ in range(n_sub):
        k1 = _derivative(x, beta)
        k2 = _derivative(x + 0.5 * h * k1, beta)
        k3 = _derivative(x + 0.5 * h * k2, beta)
        k4 = _derivative(x + h * k3, beta)
        x = x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return x


def transition(x: NDArray, dt: ArrayLike) -> NDArray:
    """Transition matrices (n, 6, 6) of the linearised ballistic dynamics over ``dt``."""
    x = np.asarray(x, float)
    n = x.shape[0]
    dt = np.broadcast_to(np.asarray(dt, float), (n,))[:, None, None]
    r = x[:, :3]
    rn = np.linalg.norm(r, axis=1)[:, None, None]
    u = r[:, :, None] / rn
    gradient = wgs84.GM / rn**3 * (3.0 * u * np.swapaxes(u, 1, 2) - np.eye(3))  # point-mass gravity gradient
    gradient = gradient - _OMEGA_CROSS @ _OMEGA_CROSS  # centrifugal
    a = np.zeros((n, 6, 6))
    a[:, :3, 3:] = np.eye(3)
    a[:, 3:, :3] = gradient
    a[:, 3:, 3:] = -2.0 * _OMEGA_CROSS
    return np.eye(6) + a * dt + (a @ a) * dt**2 / 2.0


def white_acceleration_noise(dt: ArrayLike, q: ArrayLike) -> NDArray:
    """Process noise (n, 6, 6) of white acceleration with spectral density q [m²/s³] per axis."""
    dt = np.atleast_1d(np.asarray(dt, float))
    q = np.broadcast_to(np.asarray(q, float), dt.shape)
    out = np.zeros((dt.size, 6, 6))
    eye = np.eye(3)
    out[:, :3, :3] = (q * dt**3 / 3.0)[:, None, None] * eye
    out[:, :3, 3:] = (q * dt**2 / 2.0)[:, None, None] * eye
    out[:, 3:, :3] = out[:, :3, 3:]
    out[:, 3:, 3:] = (q * np.abs(dt))[:, None, None] * eye
    return out
