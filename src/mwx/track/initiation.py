"""Initiators: a tentative track from one unexplained measurement.

A single report fixes a position (radar: all three coordinates; infrared:
two angles) but not the velocity, so each initiator states a prior for what
it cannot see, wide enough that the true missile lies inside it:

* radar — position from (range, azimuth, elevation) with covariance
  ``J R Jᵀ``; velocity zero-mean with σ = 4 km/s on each axis, except the
  line-of-sight component when the radar measures range rate;
* infrared — a plume seen from space is a burning motor above the cloud tops,
  so the position is where the line of sight meets the shell ``h0 = 30 km``
  above the ellipsoid, with σ_h = 25 km along the line of sight (the
  boost-phase assumption: plumes are seen between ~10 and ~80 km) and the
  angle noise across it; velocity 1 km/s upwards, σ 2 km/s;
* position — Cartesian position measurement, velocity zero-mean with a given σ.

Missile states are 8-dimensional (:mod:`mwx.track.motion`): thrust
acceleration prior 30 ± 30 m/s² (radar; it matters only in the boost mode) or
20 ± 20 m/s² (infrared, the motor is burning), inverse ballistic coefficient 5×10⁻⁴ ± 5×10⁻⁴ m²/kg (β from
~1000 to ~10 000 kg/m² within 2σ).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mwx.geo import wgs84
from mwx.track.base import Scan
from mwx.track.measurement import Infrared, Radar
from mwx.track.motion import KAPPA, POS, STATE_DIM, THRUST, VEL

KAPPA_PRIOR = (5e-4, 5e-4)  # m²/kg: mean, σ


def _missile_prior(m: int, thrust: tuple[float, float]) -> tuple[NDArray, NDArray]:
    x = np.zeros((m, STATE_DIM))
    p = np.zeros((m, STATE_DIM, STATE_DIM))
    x[:, THRUST], p[:, THRUST, THRUST] = thrust[0], thrust[1] ** 2
    x[:, KAPPA], p[:, KAPPA, KAPPA] = KAPPA_PRIOR[0], KAPPA_PRIOR[1] ** 2
    return x, p


@dataclass(frozen=True)
class RadarInitiator:
    speed_sigma: float = 4000.0  # m/s per axis

    def initiate(self, scan: Scan, rows: NDArray) -> tuple[NDArray, NDArray]:
        model = scan.model
        assert isinstance(model, Radar)
        z, r = scan.z[rows], scan.R[rows]
        m = len(rows)
        x, p = _missile_prior(m, (30.0, 30.0))
        x[:, POS] = model.position(z)
        j = model.position_jacobian(z)
        p[:, POS, POS] = j @ r[:, :3, :3] @ np.swapaxes(j, 1, 2)
        p[:, VEL, VEL] = self.speed_sigma**2 * np.eye(3)
        if model.range_rate:
            u = model.line_of_sight(z)
            outer = u[:, :, None] * u[:, None, :]
            x[:, VEL] = z[:, 3:4] * u
            p[:, VEL, VEL] = self.speed_sigma**2 * (np.eye(3) - outer) + r[:, 3, 3][:, None, None] * outer
        return x, p


@dataclass(frozen=True)
class InfraredInitiator:
    shell_height: float = 30e3  # m
    height_sigma: float = 25e3  # m
    upward_speed: float = 1000.0  # m/s
    speed_sigma: float = 2000.0  # m/s per axis

    def initiate(self, scan: Scan, rows: NDArray) -> tuple[NDArray, NDArray]:
        model = scan.model
        assert isinstance(model, Infrared)
        z, r = scan.z[rows], scan.R[rows]
        u = model.line_of_sight(z)
        origin = np.asarray(model.origin, float)
        # Nearest crossing of the line of sight with the sphere of radius a + h0
        # (the ellipsoid's flattening is inside σ_h).
        radius = wgs84.A + self.shell_height
        b = u @ origin
        disc = b * b - (origin @ origin - radius**2)
        ok = disc > 0.0
        s = -b - np.sqrt(np.where(ok, disc, 0.0))
        pos = origin + s[:, None] * u
        up = pos / np.linalg.norm(pos, axis=1, keepdims=True)
        cos_zenith = np.maximum(np.abs(np.einsum("ij,ij->i", u, up)), 0.2)
        along = (self.height_sigma / cos_zenith) ** 2
        angle_var = np.mean(np.diagonal(r, axis1=1, axis2=2), axis=1)
        outer = u[:, :, None] * u[:, None, :]
        m = len(rows)
        x, p = _missile_prior(m, (20.0, 20.0))
        x[:, POS] = pos
        p[:, POS, POS] = along[:, None, None] * outer + (s**2 * angle_var)[:, None, None] * (np.eye(3) - outer)
        x[:, VEL] = self.upward_speed * up
        p[:, VEL, VEL] = self.speed_sigma**2 * np.eye(3)
        x[~ok] = np.nan  # the line of sight misses the shell: no track
        return x, p


@dataclass(frozen=True)
class PositionInitiator:
    speed_sigma: float = 50.0  # m/s per axis
    dim: int = 6

    def initiate(self, scan: Scan, rows: NDArray) -> tuple[NDArray, NDArray]:
        m = len(rows)
        x = np.zeros((m, self.dim))
        p = np.zeros((m, self.dim, self.dim))
        x[:, POS] = scan.z[rows]
        p[:, POS, POS] = scan.R[rows]
        p[:, VEL, VEL] = self.speed_sigma**2 * np.eye(3)
        return x, p
