"""Measurement models: radar (range, azimuth, elevation, range rate), space infrared, Cartesian position.

Each works on states of any dimension d ≥ 6 whose first six entries are ECEF
position and velocity (:mod:`mwx.track.motion`); the Jacobians are zero on the
other entries.  Angles follow :mod:`mwx.sim.sensors`: radar azimuth clockwise
from north and elevation above the site's geodetic horizon; infrared angles
α, β in the satellite's nadir frame (:func:`mwx.sim.sensors.nadir_frame`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from mwx.geo import wgs84
from mwx.sim.sensors import nadir_frame


def _wrap(angle: NDArray) -> NDArray:
    return np.mod(angle + np.pi, 2.0 * np.pi) - np.pi


@dataclass(frozen=True)
class Radar:
    """h(x) = (range, azimuth, elevation[, range rate]) from a site at geodetic (lat, lon [rad], alt [m])."""

    lat: float
    lon: float
    alt: float
    range_rate: bool = False
    site: NDArray = field(init=False, repr=False, compare=False)
    enu: NDArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "site", wgs84.geodetic_to_ecef(self.lat, self.lon, self.alt))
        object.__setattr__(self, "enu", wgs84.enu_basis(self.lat, self.lon))

    @property
    def dim(self) -> int:
        return 4 if self.range_rate else 3

    def predict(self, x: NDArray) -> tuple[NDArray, NDArray]:
        n, d = x.shape
        line = x[:, :3] - self.site
        local = line @ self.enu.T
        e, nn, u = local[:, 0], local[:, 1], local[:, 2]
        h2 = np.maximum(e * e + nn * nn, 1e-6)
        h = np.sqrt(h2)
        r2 = h2 + u * u
        r = np.sqrt(r2)
        jac_local = np.zeros((n, 3, 3))
        jac_local[:, 0] = local / r[:, None]
        jac_local[:, 1, 0] = nn / h2
        jac_local[:, 1, 1] = -e / h2
        jac_local[:, 2, 0] = -e * u / (r2 * h)
        jac_local[:, 2, 1] = -nn * u / (r2 * h)
        jac_local[:, 2, 2] = h / r2
        jac = np.zeros((n, self.dim, d))
        jac[:, :3, :3] = jac_local @ self.enu
        z = np.empty((n, self.dim))
        z[:, 0], z[:, 1], z[:, 2] = r, np.mod(np.arctan2(e, nn), 2.0 * np.pi), np.arctan2(u, h)
        if self.range_rate:
            v = x[:, 3:6]
            rate = np.einsum("ij,ij->i", line, v) / r
            z[:, 3] = rate
            jac[:, 3, :3] = (v - (rate / r)[:, None] * line) / r[:, None]
            jac[:, 3, 3:6] = line / r[:, None]
        return z, jac

    def residual(self, z: NDArray, z_pred: NDArray) -> NDArray:
        nu = z - z_pred
        nu[..., 1] = _wrap(nu[..., 1])
        return nu

    def position(self, z: NDArray) -> NDArray:
        """ECEF positions (m, 3) of measurements (m, ≥3)."""
        return self.site + wgs84.aer_to_enu(z[:, 1], z[:, 2], z[:, 0]) @ self.enu

    def position_jacobian(self, z: NDArray) -> NDArray:
        """∂(ECEF position)/∂(range, az, el) (m, 3, 3)."""
        rng, az, el = z[:, 0], z[:, 1], z[:, 2]
        ce, se, ca, sa = np.cos(el), np.sin(el), np.cos(az), np.sin(az)
        j = np.zeros((z.shape[0], 3, 3))
        j[:, 0] = np.stack([ce * sa, rng * ce * ca, -rng * se * sa], axis=1)
        j[:, 1] = np.stack([ce * ca, -rng * ce * sa, -rng * se * ca], axis=1)
        j[:, 2] = np.stack([se, np.zeros_like(rng), rng * ce], axis=1)
        return self.enu.T @ j

    def line_of_sight(self, z: NDArray) -> NDArray:
        """Unit vectors (m, 3), ECEF, from the site along the measured direction."""
        return self.position_jacobian(np.column_stack([np.ones(len(z)), z[:, 1:3]]))[:, :, 0]


@dataclass(frozen=True)
class Infrared:
    """h(x) = (α, β): line-of-sight angles from a satellite at ECEF ``origin`` [m] in its nadir frame."""

    origin: NDArray
    dim: int = 2
    frame: NDArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "frame", nadir_frame(np.asarray(self.origin, float)[None, :])[0])

    def predict(self, x: NDArray) -> tuple[NDArray, NDArray]:
        n, d = x.shape
        u = (x[:, :3] - self.origin) @ self.frame.T
        a2 = u[:, 0] ** 2 + u[:, 2] ** 2
        b2 = u[:, 1] ** 2 + u[:, 2] ** 2
        z = np.stack([np.arctan2(u[:, 0], u[:, 2]), np.arctan2(u[:, 1], u[:, 2])], axis=1)
        du = np.zeros((n, 2, 3))
        du[:, 0, 0] = u[:, 2] / a2
        du[:, 0, 2] = -u[:, 0] / a2
        du[:, 1, 1] = u[:, 2] / b2
        du[:, 1, 2] = -u[:, 1] / b2
        jac = np.zeros((n, 2, d))
        jac[:, :, :3] = du @ self.frame
        return z, jac

    def residual(self, z: NDArray, z_pred: NDArray) -> NDArray:
        return _wrap(z - z_pred)

    def line_of_sight(self, z: NDArray) -> NDArray:
        """Unit vectors (m, 3), ECEF, along measured angles (m, 2)."""
        local = np.column_stack([np.tan(z[:, 0]), np.tan(z[:, 1]), np.ones(len(z))])
        local /= np.linalg.norm(local, axis=1, keepdims=True)
        return local @ self.frame


@dataclass(frozen=True)
class Position:
    """h(x) = r: a Cartesian position measurement (benchmarks, fused positions)."""

    dim: int = 3

    def predict(self, x: NDArray) -> tuple[NDArray, NDArray]:
        n, d = x.shape
        jac = np.zeros((n, 3, d))
        jac[:, :, :3] = np.eye(3)
        return x[:, :3].copy(), jac

    def residual(self, z: NDArray, z_pred: NDArray) -> NDArray:
        return z - z_pred
