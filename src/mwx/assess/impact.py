"""Impact (and launch) prediction: a state and covariance carried to the ground.

Each state's covariance is represented by the 12 symmetric sigma points
``x ± √(6 P) eᵢ`` (Julier & Uhlmann's unscented transform with κ = 0) plus
the mean; all points of all tracks are propagated together, ballistically
(:mod:`mwx.track.dynamics`, drag with an assumed ballistic coefficient), until
each crosses the ellipsoid.  The impact mean is the mean point's crossing;
the impact covariance the sigma points' spread in the local east/north plane.
The 95 % ellipse scales that covariance by the χ²(2) 95 % point (5.991).

Run backwards (``direction=-1``) the same code gives a skeleton launch point
estimate: the ballistic arc through an early state, traced back to the ground
(it ignores powered flight, so it errs towards the target).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mwx.geo import wgs84
from mwx.geo.hermite import densify
from mwx.track import dynamics

ASSUMED_BETA = 8000.0  # kg/m², generic re-entry body (the tracking issue estimates it)
CHI2_2_95 = 5.991464547107979
_MAX_TIME_S = 3.0 * 3600.0
PATH_STEP_S = 10.0  # largest gap between predicted path samples [s]


@dataclass
class GroundCrossing:
    """Where and when states reach the ground; arrays over tracks (NaN when they never do)."""

    time: NDArray  # Unix s
    lat: NDArray  # rad
    lon: NDArray  # rad
    cov_en: NDArray  # (n, 2, 2) east/north covariance at the crossing [m²]
    path_t: list[NDArray]  # per track, times of the mean path samples (Unix s)
    path_lat: list[NDArray]  # rad
    path_lon: list[NDArray]  # rad
    path_alt: list[NDArray]  # m
    path_speed: list[NDArray]  # m/s, ECEF

    def ellipse_95(self, i: int) -> tuple[float, float, float]:
        """Semi-major, semi-minor axes [m] and azimuth of the major axis [rad from north]."""
        cov = self.cov_en[i] * CHI2_2_95
        vals, vecs = np.linalg.eigh(cov)
        major = vecs[:, 1]
        return math.sqrt(max(vals[1], 0.0)), math.sqrt(max(vals[0], 0.0)), math.atan2(major[0], major[1]) % math.pi


def _vertical_speed(x: NDArray) -> NDArray:
    """Radial (geocentric) speed [m/s] of ECEF states (n, 6); near enough to the vertical."""
    r = x[:, :3]
    return np.einsum("ij,ij->i", r, x[:, 3:]) / np.linalg.norm(r, axis=1)


def sigma_points(x: NDArray, p: NDArray) -> NDArray:
    """(n, 13, 6): the mean then ± columns of the Cholesky factor of 6 P."""
    n = x.shape[0]
    # A tiny diagonal load, relative to each variance (so it never matters
    # next to that variance, whatever the scales), keeps Cholesky well-defined
    # for nearly singular P.
    sym = 0.5 * (p + np.swapaxes(p, 1, 2))
    diag = np.diagonal(sym, axis1=1, axis2=2)
    load = np.einsum("ni,ij->nij", 1e-10 * diag + 1e-12, np.eye(6))
    chol = np.linalg.cholesky(6.0 * (sym + load))
    offsets = np.swapaxes(chol, 1, 2)  # rows are columns of L
    pts = np.empty((n, 13, 6))
    pts[:, 0] = x
    pts[:, 1:7] = x[:, None, :] + offsets
    pts[:, 7:] = x[:, None, :] - offsets
    return pts


def to_ground(
    x: NDArray, p: NDArray, t: NDArray, *, direction: int = 1, beta: float | None = ASSUMED_BETA
) -> GroundCrossing:
    """Carry states (n, 6) with covariances (n, 6, 6) at Unix times t (n,) to the ground."""
    n = x.shape[0]
    pts = sigma_points(x, p).reshape(n * 13, 6)
    time = np.repeat(np.asarray(t, float), 13)
    active = np.ones(n * 13, bool)
    hit = np.full((n * 13, 6), np.nan)
    hit_t = np.full(n * 13, np.nan)
    alt = wgs84.ellipsoidal_height(pts[:, :3])
    elapsed = np.zeros(n * 13)
    path = [[] for _ in range(n)]
    centre = np.arange(n) * 13
    while active.any():
        for i in range(n):
            if active[centre[i]]:
                path[i].append((float(time[centre[i]]), pts[centre[i]].copy()))
        idx = np.flatnonzero(active)
        # Each point steps by about a quarter of its time to the ground (at
        # least 1 s, at most 60 s): long steps in vacuum, short ones in the air.
        descent = np.maximum(-direction * _vertical_speed(pts[idx]), 500.0)
        dt = np.clip(0.25 * alt[idx] / descent, 1.0, 60.0) * direction
        low = alt[idx] < 120e3
        new = pts[idx].copy()
        if low.any():
            new[low] = dynamics.propagate(pts[idx][low], dt[low], max_step=60.0, beta=beta)
        if (~low).any():
            new[~low] = dynamics.propagate(pts[idx][~low], dt[~low], max_step=60.0)
        new_alt = wgs84.ellipsoidal_height(new[:, :3])
        down = new_alt <= 0.0
        if down.any():
            # Linear interpolation of the crossing inside the last step; a state
            # already below the ellipsoid crosses where it is.
            with np.errstate(divide="ignore", invalid="ignore"):
                frac = np.clip(np.nan_to_num(alt[idx][down] / (alt[idx][down] - new_alt[down])), 0.0, 1.0)[:, None]
            hit[idx[down]] = pts[idx][down] + frac * (new[down] - pts[idx][down])
            hit_t[idx[down]] = time[idx[down]] + frac[:, 0] * dt[down]
            active[idx[down]] = False
        pts[idx], alt[idx], time[idx] = new, new_alt, time[idx] + dt
        elapsed[idx] += np.abs(dt)
        active &= elapsed < _MAX_TIME_S
    for i in range(n):
        if not active[centre[i]] and not np.isnan(hit_t[centre[i]]) and hit_t[centre[i]] > path[i][-1][0]:
            path[i].append((hit_t[centre[i]], hit[centre[i]]))
    lat, lon, _ = wgs84.ecef_to_geodetic(hit[:, :3])
    lat, lon, hit_t = lat.reshape(n, 13), lon.reshape(n, 13), hit_t.reshape(n, 13)
    cov_en = np.full((n, 2, 2), np.nan)
    for i in range(n):
        if np.isnan(lat[i]).any():
            continue
        enu = wgs84.ecef_to_enu(hit[i * 13 : i * 13 + 13, :3], lat[i, 0], lon[i, 0], 0.0)[:, :2]
        spread = enu[1:] - enu[1:].mean(axis=0)
        cov_en[i] = spread.T @ spread / 12.0
    path_t, path_lat, path_lon, path_alt, path_speed = [], [], [], [], []
    for samples in path:
        # Dense enough (10 s ≈ 30–70 km) that a path cannot skip over an island.
        ts, states = densify(
            np.array([s[0] for s in samples]), np.array([s[1] for s in samples]).reshape(-1, 6), PATH_STEP_S
        )
        la, lo, al = wgs84.ecef_to_geodetic(states[:, :3])
        path_t.append(ts)
        path_lat.append(la)
        path_lon.append(lo)
        path_alt.append(al)
        path_speed.append(np.linalg.norm(states[:, 3:], axis=1))
    return GroundCrossing(hit_t[:, 0], lat[:, 0], lon[:, 0], cov_en, path_t, path_lat, path_lon, path_alt, path_speed)
