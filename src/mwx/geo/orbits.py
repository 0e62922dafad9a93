"""Satellite positions for space-based sensors: geostationary and Keplerian orbits.

Frames: an orbit's elements are referred to a quasi-inertial equatorial frame
(the mean equator and equinox of date, "TOD" without nutation); ECEF follows by
a rotation through the Greenwich mean sidereal angle (:func:`gmst`).  That is
accurate to a few hundred metres at geostationary distance, far below the
tens-of-kilometre footprint of a line-of-sight error of 30 µrad there, and
precession between epoch and run (days) is ignored likewise.

Two-body motion only: a highly elliptical orbit drifts by J2 over weeks, not
over the hours of an exercise.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from mwx.geo import wgs84

#: Radius of the geostationary orbit [m]: (GM / ω²)^(1/3).
GEO_RADIUS = (wgs84.GM / wgs84.OMEGA**2) ** (1.0 / 3.0)
_J2000_UNIX = 946728000.0  # 2000-01-01T12:00:00 UTC (UT1 ≈ UTC to a second)


def gmst(t: NDArray | float) -> NDArray:
    """Greenwich mean sidereal angle [rad] at Unix time ``t`` [s].

    Linear form of the IAU 1982 expression (Vallado, 4th ed., eq. 3-45 with the
    quadratic terms dropped: < 0.1 s of time over a century).
    """
    days = (np.asarray(t, float) - _J2000_UNIX) / 86400.0
    return np.radians(np.mod(280.46061837 + 360.98564736629 * days, 360.0))


def geostationary_ecef(lon_deg: float, t: NDArray | float) -> NDArray:
    """ECEF position [m] (n, 3) of a geostationary satellite over ``lon_deg`` at times ``t``."""
    t = np.atleast_1d(np.asarray(t, float))
    lon = math.radians(lon_deg)
    return np.tile([GEO_RADIUS * math.cos(lon), GEO_RADIUS * math.sin(lon), 0.0], (t.size, 1))


def kepler_ecef(
    t: NDArray | float,
    epoch: float,
    a: float,
    e: float,
    inclination: float,
    raan: float,
    argp: float,
    mean_anomaly: float,
) -> NDArray:
    """ECEF positions [m] (n, 3) of a two-body orbit at Unix times ``t``.

    Elements at Unix ``epoch``: semi-major axis ``a`` [m], eccentricity ``e``,
    inclination, right ascension of the ascending node, argument of perigee and
    mean anomaly [rad].  Kepler's equation is solved by Newton's method
    (Vallado, algorithm 2).
    """
    t = np.atleast_1d(np.asarray(t, float))
    n = math.sqrt(wgs84.GM / a**3)
    m = np.mod(mean_anomaly + n * (t - epoch), 2.0 * math.pi)
    big_e = m + e * np.sin(m) if e < 0.8 else np.full_like(m, math.pi)
    for _ in range(30):
        step = (big_e - e * np.sin(big_e) - m) / (1.0 - e * np.cos(big_e))
        big_e -= step
        if np.max(np.abs(step)) < 1e-13:
            break
    # Perifocal coordinates, then the 3-1-3 rotation (Ω, i, ω) to the equatorial frame.
    xp = a * (np.cos(big_e) - e)
    yp = a * math.sqrt(1.0 - e * e) * np.sin(big_e)
    co, so = math.cos(raan), math.sin(raan)
    ci, si = math.cos(inclination), math.sin(inclination)
    cw, sw = math.cos(argp), math.sin(argp)
    p = np.array([co * cw - so * sw * ci, so * cw + co * sw * ci, sw * si])
    q = np.array([-co * sw - so * cw * ci, -so * sw + co * cw * ci, cw * si])
    inertial = xp[:, None] * p + yp[:, None] * q
    theta = gmst(t)
    c, s = np.cos(theta), np.sin(theta)
    return np.stack(
        [c * inertial[:, 0] + s * inertial[:, 1], -s * inertial[:, 0] + c * inertial[:, 1], inertial[:, 2]], axis=1
    )
