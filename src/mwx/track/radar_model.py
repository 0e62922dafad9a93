"""Radar measurement model h(x) = (range, azimuth, elevation) and its Jacobian, batched.

Azimuth is measured clockwise from geodetic north, elevation above the local
geodetic horizon of the site, as in :mod:`mwx.geo.wgs84`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mwx.geo import wgs84


def measure(x: NDArray, site_ecef: NDArray, enu_rows: NDArray) -> tuple[NDArray, NDArray]:
    """Predicted measurements (n, 3) and Jacobians (n, 3, 6) of ECEF states (n, 6).

    ``enu_rows`` is the (3, 3) east/north/up basis of the site.
    """
    d = (x[:, :3] - site_ecef) @ enu_rows.T  # ENU offsets (n, 3)
    e, n, u = d[:, 0], d[:, 1], d[:, 2]
    horizontal2 = e * e + n * n
    horizontal = np.sqrt(horizontal2)
    rng2 = horizontal2 + u * u
    rng = np.sqrt(rng2)
    z = np.stack([rng, np.mod(np.arctan2(e, n), 2 * np.pi), np.arctan2(u, horizontal)], axis=1)
    jac_enu = np.zeros((x.shape[0], 3, 3))
    jac_enu[:, 0] = d / rng[:, None]
    jac_enu[:, 1, 0] = n / horizontal2
    jac_enu[:, 1, 1] = -e / horizontal2
    jac_enu[:, 2, 0] = -e * u / (rng2 * horizontal)
    jac_enu[:, 2, 1] = -n * u / (rng2 * horizontal)
    jac_enu[:, 2, 2] = horizontal / rng2
    jac = np.zeros((x.shape[0], 3, 6))
    jac[:, :, :3] = jac_enu @ enu_rows
    return z, jac


def innovation(z: NDArray, z_pred: NDArray) -> NDArray:
    """Measurement minus prediction with the azimuth difference wrapped to (-π, π]."""
    nu = z - z_pred
    nu[..., 1] = (nu[..., 1] + np.pi) % (2 * np.pi) - np.pi
    return nu


def to_ecef(z: NDArray, lat: float, lon: float, alt: float) -> NDArray:
    """ECEF positions (n, 3) of measurements (n, 3) taken at a geodetic site."""
    return wgs84.enu_to_ecef(wgs84.aer_to_enu(z[:, 1], z[:, 2], z[:, 0]), lat, lon, alt)
