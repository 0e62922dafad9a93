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
STEP_FRACTION = 0.25  # a propagation step: this share of the time to the ground (MIN_STEP_S to 120 s)
MIN_STEP_S = 2.0  # s: the crossing is interpolated linearly inside the last step
#: RK4 sub-step above the air [s].  Against 60 s sub-steps, predictions from true states of 700 to
#: 4500 km flights (lofted included) moved by at most 5 m (the simulator's truth is DOP853).
VACUUM_STEP_S = 120.0


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
        return ellipse_95(self.cov_en[i])


def ellipse_95(cov_en: NDArray) -> tuple[float, float, float]:
    """The 95 % ellipse of an east/north covariance (2, 2) [m²]: semi-major, semi-minor axes [m] and the
    azimuth of the major axis [rad from north, 0..π]."""
    vals, vecs = np.linalg.eigh(np.asarray(cov_en, float) * CHI2_2_95)
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


def fly_to_ground(
    states: NDArray,
    t: NDArray,
    *,
    direction: int = 1,
    beta: float | NDArray | None = ASSUMED_BETA,
    paths: NDArray | None = None,
    floor: float = 0.0,
) -> tuple[NDArray, NDArray, list[tuple[NDArray, NDArray]]]:
    """Propagate ECEF states (N, 6) at Unix times t (N,) until each crosses the ellipsoid.

    ``floor`` [m]: stop at that ellipsoidal height instead (states starting below it stop at once).

    Ballistic (J2, rotation; drag below 120 km with ballistic coefficient ``beta``
    [kg/m²], one for all or one per state, ``inf`` or None for none).  Returns the
    states at the crossing (N, 6), the crossing times (N,) (NaN for states that do
    not reach the ground within 3 h), and for each index in ``paths`` the samples
    on the way: times (k,) and states (k, 6), the crossing last.
    """
    pts = np.array(states, float)
    n = pts.shape[0]
    time = np.array(t, float)
    per_state = beta is not None and np.ndim(beta) > 0
    active = np.ones(n, bool)
    hit = np.full((n, 6), np.nan)
    hit_t = np.full(n, np.nan)
    alt = wgs84.ellipsoidal_height(pts[:, :3]) - floor
    elapsed = np.zeros(n)
    record = np.empty(0, np.int64) if paths is None else np.asarray(paths, np.int64)
    snapshots: list[tuple[NDArray, NDArray, NDArray]] = []
    # Backwards in time drag feeds energy in (anti-damping): 1 s steps keep RK4 stable near the ground.
    min_step = MIN_STEP_S if direction > 0 else 1.0
    while active.any():
        if record.size:
            snapshots.append((time[record].copy(), pts[record].copy(), active[record].copy()))
        idx = np.flatnonzero(active)
        cur, cur_alt = pts[idx], alt[idx]
        # Each point steps by about a quarter of its time to the ground (at least 1 s, at
        # most 120 s in two RK4 sub-steps): long steps in vacuum, short ones in the air.
        descent = np.maximum(-direction * _vertical_speed(cur), 500.0)
        dt = np.clip(STEP_FRACTION * cur_alt / descent, min_step, 120.0) * direction
        low = cur_alt + floor < 120e3
        if low.all():
            new = dynamics.propagate(cur, dt, max_step=60.0, beta=np.asarray(beta)[idx] if per_state else beta)
        elif not low.any():
            new = dynamics.propagate(cur, dt, max_step=VACUUM_STEP_S)
        else:
            new = cur.copy()
            b = np.asarray(beta)[idx][low] if per_state else beta
            new[low] = dynamics.propagate(cur[low], dt[low], max_step=60.0, beta=b)
            new[~low] = dynamics.propagate(cur[~low], dt[~low], max_step=VACUUM_STEP_S)
        new_alt = wgs84.ellipsoidal_height(new[:, :3]) - floor
        down = new_alt <= 0.0
        if down.any():
            # Linear interpolation of the crossing inside the last step; a state
            # already below the ellipsoid crosses where it is.
            with np.errstate(divide="ignore", invalid="ignore"):
                frac = np.clip(np.nan_to_num(cur_alt[down] / (cur_alt[down] - new_alt[down])), 0.0, 1.0)[:, None]
            hit[idx[down]] = cur[down] + frac * (new[down] - cur[down])
            hit_t[idx[down]] = time[idx[down]] + frac[:, 0] * dt[down]
            active[idx[down]] = False
        pts[idx], alt[idx], time[idx] = new, new_alt, time[idx] + dt
        elapsed[idx] += np.abs(dt)
        active &= elapsed < _MAX_TIME_S
    out: list[tuple[NDArray, NDArray]] = []
    if record.size:
        times = np.stack([s[0] for s in snapshots], axis=1)  # (paths, steps)
        samples = np.stack([s[1] for s in snapshots], axis=1)
        alive = np.stack([s[2] for s in snapshots], axis=1)
        for k, i in enumerate(record):
            pt, ps = times[k, alive[k]], samples[k, alive[k]]
            if not np.isnan(hit_t[i]) and (pt.size == 0 or hit_t[i] > pt[-1]):
                pt, ps = np.append(pt, hit_t[i]), np.concatenate([ps, hit[i][None]])
            out.append((pt, ps))
    return hit, hit_t, out


def to_ground(
    x: NDArray, p: NDArray, t: NDArray, *, direction: int = 1, beta: float | None = ASSUMED_BETA
) -> GroundCrossing:
    """Carry states (n, 6) with covariances (n, 6, 6) at Unix times t (n,) to the ground."""
    n = x.shape[0]
    pts = sigma_points(x, p).reshape(n * 13, 6)
    hit, hit_t, path = fly_to_ground(
        pts, np.repeat(np.asarray(t, float), 13), direction=direction, beta=beta, paths=np.arange(n) * 13
    )
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
    for times, samples in path:
        # Dense enough (10 s ≈ 30–70 km) that a path cannot skip over an island.
        ts, states = densify(times, samples, PATH_STEP_S)
        la, lo, al = wgs84.ecef_to_geodetic(states[:, :3])
        path_t.append(ts)
        path_lat.append(la)
        path_lon.append(lo)
        path_alt.append(al)
        path_speed.append(np.linalg.norm(states[:, 3:], axis=1))
    return GroundCrossing(hit_t[:, 0], lat[:, 0], lon[:, 0], cov_en, path_t, path_lat, path_lon, path_alt, path_speed)
