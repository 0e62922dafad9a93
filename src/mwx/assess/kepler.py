"""Where a drag-free two-body arc meets a sphere: closed form, on any batch of states.

A coasting missile above the atmosphere follows a Kepler ellipse about the
Earth's centre to within J2 and drag.  For a state (r, v) in an inertial frame
the ellipse's elements follow from the energy and the angular momentum
(Vallado 2013, algorithm 9 "RV2COE"); the point where the descending branch
meets the sphere of radius R has the eccentric anomaly E with

    cos E = (1 − R / a) / e,      sin E < 0 after apogee,

and the time to get there is the difference of mean anomalies M = E − e sin E
over the mean motion √(μ/a³) (Kepler's equation, Vallado §2.2).  No iteration: thousands of samples
per track cost a few array operations, which is what a Monte Carlo impact
distribution needs (:mod:`mwx.assess.distribution`).

Frames: states are ECEF at one instant [m, m/s]; the inertial frame is the
one that coincides with ECEF at that instant, so the inertial velocity is
v + ω × r, and a point reached ``tof`` seconds later is turned back into ECEF
by the Earth's rotation ω · tof about z.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mwx.geo import wgs84


@dataclass(frozen=True)
class KeplerCrossing:
    """Arrays over states: where (ECEF at arrival, m) and after how long (s) each meets the sphere.

    ``apoapsis_radius`` is the ellipse's largest distance from the Earth's centre [m] and
    ``time_to_apoapsis`` [s] how long until it gets there (negative once past it).  States whose
    ellipse never reaches the sphere on a descending branch are NaN.
    """

    position: NDArray  # (..., 3) ECEF at the crossing instant [m]
    time_of_flight: NDArray  # (...) [s]
    apoapsis_radius: NDArray  # (...) [m]
    time_to_apoapsis: NDArray  # (...) [s]


def inertial_velocity(x: NDArray) -> NDArray:
    """Velocity [m/s] in the inertial frame aligned with ECEF at the state's instant: v + ω × r."""
    v = np.array(x[..., 3:6], dtype=float)
    v[..., 0] -= wgs84.OMEGA * x[..., 1]
    v[..., 1] += wgs84.OMEGA * x[..., 0]
    return v


def apoapsis(x: NDArray) -> NDArray:
    """The apoapsis [m] of the two-body arcs through ECEF states ``x`` (..., 6): a (1 + e) along −ê.

    In the inertial frame aligned with ECEF at each state's instant, so its longitude is that of no
    one instant but its latitude and radius are the apoapsis's own: enough for its height above the
    ellipsoid (:func:`mwx.geo.wgs84.ellipsoidal_height`), which the Earth's turning about z leaves
    alone.  NaN for an arc that is no ellipse.  ê = ((v² − μ/r) r − (r·v) v) / μ (Vallado 2013, alg. 9).
    """
    x = np.asarray(x, float)
    r, v = x[..., :3], inertial_velocity(x)
    rn = np.linalg.norm(r, axis=-1, keepdims=True)
    v2 = np.einsum("...i,...i->...", v, v)[..., None]
    rv = np.einsum("...i,...i->...", r, v)[..., None]
    e_vec = ((v2 - wgs84.GM / rn) * r - rv * v) / wgs84.GM
    e = np.linalg.norm(e_vec, axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = -wgs84.GM / (v2 - 2.0 * wgs84.GM / rn)
        out = -a * (1.0 + e) * e_vec / e
    return np.where((a > 0.0) & (e < 1.0), out, np.nan)


#: States per block.  Every operation below makes a temporary the size of a block: blocks of 8192
#: (64 KiB per temporary) stay in cache and in the allocator's pool, where 10⁵ at once make each
#: temporary a fresh 800 KiB mapping and cost three times as long (measured).
BLOCK = 8192


def crossing(x: NDArray, radius: NDArray | float, *, apoapsis: bool = True) -> KeplerCrossing:
    """Descending crossing of the sphere ``radius`` [m] by the two-body arcs through ECEF states ``x`` (..., 6).

    ``radius`` broadcasts against ``x[..., 0]``.  A state already below the
    sphere and falling crosses it "now" only if it is on the way down: its
    result is the next descending crossing, which for a sub-orbital arc does
    not exist (NaN), so callers start from states above the sphere.  ``apoapsis=False`` skips
    the apoapsis figures (NaN) for callers that need only the crossing.
    """
    x = np.asarray(x, float)
    shape = x.shape[:-1]
    flat = x.reshape(-1, x.shape[-1])
    rad = np.broadcast_to(np.asarray(radius, float), shape).reshape(-1)
    n = flat.shape[0]
    position, tof, r_apo, t_apo = np.empty((n, 3)), np.empty(n), np.empty(n), np.empty(n)
    for start in range(0, n, BLOCK):
        block = slice(start, min(start + BLOCK, n))
        position[block], tof[block], r_apo[block], t_apo[block] = _crossing(flat[block], rad[block], apoapsis)
    return KeplerCrossing(position.reshape(*shape, 3), tof.reshape(shape), r_apo.reshape(shape), t_apo.reshape(shape))


def _crossing(x: NDArray, radius: NDArray, apoapsis: bool) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """:func:`crossing` on one block of states (m, 6) and radii (m,), component by component
    (several times faster than ``np.cross`` on (m, 3) arrays)."""
    mu = wgs84.GM
    # Contiguous components: strided views of (..., 6) would slow every operation below.
    rx, ry, rz, vx, vy, vz = x[:, :6].T.copy()
    vx -= wgs84.OMEGA * ry  # inertial velocity v + ω × r
    vy += wgs84.OMEGA * rx
    rn = np.sqrt(rx * rx + ry * ry + rz * rz)
    hx, hy, hz = ry * vz - rz * vy, rz * vx - rx * vz, rx * vy - ry * vx  # angular momentum r × v
    h2 = hx * hx + hy * hy + hz * hz
    rv = rx * vx + ry * vy + rz * vz
    v2 = vx * vx + vy * vy + vz * vz
    with np.errstate(divide="ignore", invalid="ignore"):
        a = -mu / (2.0 * (0.5 * v2 - mu / rn))  # semi-major axis; negative for escape (not a missile)
        # Eccentricity vector e = ((v² − μ/r) r − (r·v) v) / μ.
        k1, k2 = (v2 - mu / rn) / mu, rv / mu
        ex, ey, ez = k1 * rx - k2 * vx, k1 * ry - k2 * vy, k1 * rz - k2 * vz
        e = np.sqrt(ex * ex + ey * ey + ez * ez)
        # Perifocal basis: P̂ along e, Q̂ = ĥ × P̂.
        px, py, pz = ex / e, ey / e, ez / e
        hn = np.sqrt(h2)
        qx, qy, qz = (hy * pz - hz * py) / hn, (hz * px - hx * pz) / hn, (hx * py - hy * px) / hn
        # Eccentric anomalies straight from r (no true anomaly needed): now, from
        # e cos E = 1 − r/a and e sin E = r·v / √(μa); at the crossing, r = R on the
        # descending branch (sin E < 0).
        sqrt_mu_a = np.sqrt(mu * a)
        e_sin0 = rv / sqrt_mu_a
        m0 = np.arctan2(e_sin0, 1.0 - rn / a) - e_sin0
        cos1 = (1.0 - radius / a) / e
        sin1 = -np.sqrt(1.0 - cos1 * cos1)
        m1 = np.arctan2(sin1, cos1) - e * sin1
        n = sqrt_mu_a / (a * a)  # mean motion √(μ/a³)
        tof = (m1 - m0) / n
        tof = np.where(tof < 0.0, tof + 2.0 * np.pi / n, tof)  # ascending now: wraps once
        bad = ~(np.abs(cos1) <= 1.0) | ~(a > 0.0) | ~(e < 1.0)
        # Perifocal coordinates of the crossing: a (cos E − e), b sin E.
        c1, s1 = a * (cos1 - e), a * np.sqrt(1.0 - e * e) * sin1
    # Back to ECEF at the crossing instant: the Earth has turned by ω · tof.
    ix, iy = c1 * px + s1 * qx, c1 * py + s1 * qy
    angle = wgs84.OMEGA * tof
    c, s = np.cos(angle), np.sin(angle)
    out = np.stack([c * ix + s * iy, -s * ix + c * iy, c1 * pz + s1 * qz], axis=-1)
    out[bad] = np.nan
    tof[bad] = np.nan
    if not apoapsis:
        return out, tof, np.full_like(tof, np.nan), np.full_like(tof, np.nan)
    r_apo = np.where((a > 0.0) & (e < 1.0), a * (1.0 + e), np.nan)
    # Apoapsis is at M = ±π: ahead while M₀ ≥ 0 (climbing), behind once M₀ < 0.
    t_apo = np.where(bad, np.nan, np.where(m0 >= 0.0, (np.pi - m0) / n, -(np.pi + m0) / n))
    return out, tof, r_apo, t_apo
