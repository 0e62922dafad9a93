"""WGS-84 ellipsoid and the frames mwx uses: geodetic, ECEF and local ENU.

All angles in radians and lengths in metres; every function takes scalars or
arrays (broadcast together) and returns the same shape.  Degrees only appear at
the edges of mwx (scenario files, reports), never here.

Constants: NIMA TR8350.2, *Department of Defense World Geodetic System 1984*,
3rd ed. (2000), table 3.1 and 3.3.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Semi-major axis a [m].
A = 6378137.0
#: Flattening f.
F = 1.0 / 298.257223563
#: Semi-minor axis b [m].
B = A * (1.0 - F)
#: First eccentricity squared e².
E2 = F * (2.0 - F)
#: Second eccentricity squared e'².
EP2 = E2 / (1.0 - E2)
#: Earth's gravitational parameter GM [m³/s²] (with atmosphere).
GM = 3.986004418e14
#: Earth's rotation rate ω [rad/s].
OMEGA = 7.292115e-5
#: Second zonal harmonic J2 (unnormalised; EGM96 C̄20 = -4.84165371736e-4 · √5).
J2 = 1.08262998905e-3

FloatArray = NDArray[np.float64]


def geodetic_to_ecef(lat: ArrayLike, lon: ArrayLike, alt: ArrayLike) -> FloatArray:
    """ECEF position [m], shape (..., 3), of geodetic latitude, longitude [rad], height [m]."""
    lat, lon, alt = np.broadcast_arrays(np.asarray(lat, float), np.asarray(lon, float), np.asarray(alt, float))
    sin_lat = np.sin(lat)
    n = A / np.sqrt(1.0 - E2 * sin_lat**2)  # prime-vertical radius of curvature
    p = (n + alt) * np.cos(lat)
    return np.stack([p * np.cos(lon), p * np.sin(lon), (n * (1.0 - E2) + alt) * sin_lat], axis=-1)


def ecef_to_geodetic(xyz: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Geodetic latitude, longitude [rad] and ellipsoidal height [m] of ECEF points (..., 3).

    Bowring's (1976) parametric-latitude start followed by two Newton-like
    refinements of the same formula; better than 0.1 mm from the centre of the
    Earth to beyond geostationary altitude.
    """
    xyz = np.asarray(xyz, float)
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    p = np.hypot(x, y)
    lon = np.arctan2(y, x)
    # Parametric latitude start (Bowring 1976, eq. 3), refined by iterating
    # the same closed form; three passes reach float precision everywhere.
    beta = np.arctan2(z * A, p * B)
    for _ in range(3):
        lat = np.arctan2(z + EP2 * B * np.sin(beta) ** 3, p - E2 * A * np.cos(beta) ** 3)
        beta = np.arctan2(B * np.sin(lat), A * np.cos(lat))
    sin_lat, cos_lat = np.sin(lat), np.cos(lat)
    n = A / np.sqrt(1.0 - E2 * sin_lat**2)
    # Height formula stable at all latitudes (no division by cos near the poles).
    alt = p * cos_lat + z * sin_lat - A * A / n
    return lat, lon, alt


def ellipsoidal_height(xyz: ArrayLike) -> FloatArray:
    """Ellipsoidal height [m] of ECEF points (..., 3) by one Bowring step.

    Cheaper than :func:`ecef_to_geodetic` and within 1 cm of it below
    1000 km (tests/test_wgs84.py): enough for drag and ground-crossing tests.
    """
    xyz = np.asarray(xyz, float)
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    p = np.hypot(x, y)
    beta = np.arctan2(z * A, p * B)
    lat = np.arctan2(z + EP2 * B * np.sin(beta) ** 3, p - E2 * A * np.cos(beta) ** 3)
    sin_lat, cos_lat = np.sin(lat), np.cos(lat)
    return p * cos_lat + z * sin_lat - A * np.sqrt(1.0 - E2 * sin_lat**2)


def geodetic_altitude(x: float, y: float, z: float) -> float:
    """Ellipsoidal height [m] of one point; pure-float fast path for integrators.

    Rotation about the z axis leaves it unchanged, so it is the same in ECEF and
    in any frame that differs from ECEF by such a rotation (mwx's inertial frame).
    """
    p = math.hypot(x, y)
    beta = math.atan2(z * A, p * B)
    lat = 0.0
    for _ in range(2):
        lat = math.atan2(z + EP2 * B * math.sin(beta) ** 3, p - E2 * A * math.cos(beta) ** 3)
        beta = math.atan2(B * math.sin(lat), A * math.cos(lat))
    s, c = math.sin(lat), math.cos(lat)
    n = A / math.sqrt(1.0 - E2 * s * s)
    return p * c + z * s - A * A / n


def enu_basis(lat: ArrayLike, lon: ArrayLike) -> FloatArray:
    """Rows east, north, up (unit ECEF vectors), shape (..., 3, 3), at geodetic lat, lon [rad]."""
    lat, lon = np.broadcast_arrays(np.asarray(lat, float), np.asarray(lon, float))
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    zero = np.zeros_like(lat)
    east = np.stack([-so, co, zero], axis=-1)
    north = np.stack([-sl * co, -sl * so, cl], axis=-1)
    up = np.stack([cl * co, cl * so, sl], axis=-1)
    return np.stack([east, north, up], axis=-2)


def ecef_to_enu(xyz: ArrayLike, lat0: ArrayLike, lon0: ArrayLike, alt0: ArrayLike) -> FloatArray:
    """ENU coordinates [m] of ECEF points relative to the geodetic origin (lat0, lon0, alt0)."""
    origin = geodetic_to_ecef(lat0, lon0, alt0)
    d = np.asarray(xyz, float) - origin
    return np.einsum("...ij,...j->...i", enu_basis(lat0, lon0), d)


def enu_to_ecef(enu: ArrayLike, lat0: ArrayLike, lon0: ArrayLike, alt0: ArrayLike) -> FloatArray:
    """ECEF points [m] of ENU coordinates relative to the geodetic origin (lat0, lon0, alt0)."""
    origin = geodetic_to_ecef(lat0, lon0, alt0)
    return origin + np.einsum("...ji,...j->...i", enu_basis(lat0, lon0), np.asarray(enu, float))


def enu_to_aer(enu: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Azimuth (from north, clockwise), elevation [rad] and slant range [m] of ENU vectors."""
    enu = np.asarray(enu, float)
    e, n, u = enu[..., 0], enu[..., 1], enu[..., 2]
    horizontal = np.hypot(e, n)
    # mod(-tiny, 2π) rounds to exactly 2π; the second mod maps that to 0 so
    # azimuth stays in [0, 2π) (and keeps the scalar/array return types).
    az = np.mod(np.mod(np.arctan2(e, n), 2 * np.pi), 2 * np.pi)
    return az, np.arctan2(u, horizontal), np.hypot(horizontal, u)


def aer_to_enu(az: ArrayLike, el: ArrayLike, rng: ArrayLike) -> FloatArray:
    """ENU vectors [m] of azimuth, elevation [rad] and slant range [m]."""
    az, el, rng = np.broadcast_arrays(np.asarray(az, float), np.asarray(el, float), np.asarray(rng, float))
    horizontal = rng * np.cos(el)
    return np.stack([horizontal * np.sin(az), horizontal * np.cos(az), rng * np.sin(el)], axis=-1)


def ecef_to_eci(t: ArrayLike, xyz: ArrayLike, vel: ArrayLike | None = None):
    """Rotate ECEF states to mwx's launch-fixed inertial frame at seconds t after its epoch.

    The inertial frame coincides with ECEF at t = 0 and does not rotate; over
    the hour of a ballistic flight precession and nutation (< 0.1 arcsec) do not
    matter, so the two frames differ by the rotation ωt about z alone.
    Returns positions, or (positions, velocities) when ``vel`` is given.
    """
    return _rotate_z(t, xyz, vel, +1.0)


def eci_to_ecef(t: ArrayLike, xyz: ArrayLike, vel: ArrayLike | None = None):
    """Inverse of :func:`ecef_to_eci`."""
    return _rotate_z(t, xyz, vel, -1.0)


def _rotate_z(t, xyz, vel, sign):
    theta = sign * OMEGA * np.asarray(t, float)
    c, s = np.cos(theta), np.sin(theta)
    xyz = np.asarray(xyz, float)
    x, y = xyz[..., 0], xyz[..., 1]
    # broadcast_arrays: z alone does not pick up the shape of t (many t, one point).
    pos = np.stack(np.broadcast_arrays(c * x - s * y, s * x + c * y, xyz[..., 2]), axis=-1)
    if vel is None:
        return pos
    vel = np.asarray(vel, float)
    # v_eci = R (v_ecef + ω × r_ecef);  v_ecef = Rᵀ v_eci - ω × r_ecef.
    if sign > 0:
        vx, vy = vel[..., 0] - OMEGA * y, vel[..., 1] + OMEGA * x
        v = np.stack(np.broadcast_arrays(c * vx - s * vy, s * vx + c * vy, vel[..., 2]), axis=-1)
    else:
        vx, vy = c * vel[..., 0] - s * vel[..., 1], s * vel[..., 0] + c * vel[..., 1]
        v = np.stack(
            np.broadcast_arrays(vx + OMEGA * pos[..., 1], vy - OMEGA * pos[..., 0], vel[..., 2]),
            axis=-1,
        )
    return pos, v
