"""Launch point and time from a track history, with uncertainty.

Two estimators, chosen by what the track saw:

* **Boost seen** (space infrared or an early radar track: states the tracker
  judged powered).  Boost-phase assumption: the missile rose vertically from
  rest and turned over gradually, with constant acceleration at first.  So,
  over the powered states below 30 km, the horizontal position is the launch
  point plus c·h² (vertical at h = 0: the gravity turn bends the path
  quadratically at first), fitted by weighted least squares.  From rest, each
  state was reached ``BOOST_TIME_FACTOR`` · d/|v| after the launch (d its
  distance from the launch point; the factor is 2 under constant acceleration),
  and the launch time is the weighted mean over the states.
  The launch point's covariance is the fit's (from the states' σ) plus a model
  error of ``RAY_MODEL_FRACTION`` of the horizontal distance the fit bridges
  (at least 1 km).  In the default theater this puts the launch point within
  1–8 km of the site (``docs/benchmarks.md``).
* **Coast only** (the first track state is already ballistic).  The ballistic
  arc through the first settled state traced back to the ground
  (:func:`mwx.assess.impact.to_ground`, ``direction=-1``).  The powered flight
  left the ground earlier and steeper than that arc: for the generic vehicle
  of :mod:`mwx.sim.flight` (burn time T_b growing with burnout speed, 45–300 s)
  the back-traced time is 0.62–0.71 T_b after the launch (mean 0.67, measured
  by ``scripts/boost_back_trace.py`` over eleven flights from 300 to 12 000 km),
  and the back-traced point lies 5–210 km uprange of the site.  So the launch
  time is the back-traced time minus 0.67 T_b (σ 0.04 T_b), and the point is the
  back-traced point with an along-track σ of ``COAST_ALONG_FRACTION`` of the
  distance v·T_b (how far the burn could have carried it).

Points are geodetic [rad], times Unix [s], covariances east/north [m²].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mwx.assess import impact
from mwx.assess.kepler import inertial_velocity
from mwx.geo import wgs84
from mwx.sim.flight import burn_time_for_speed

RAY_MODEL_FRACTION = 0.3  # 1σ model error of the boost fit, share of the horizontal distance it bridges
MODEL_FLOOR_M = 1e3  # m: smallest 1σ model error of the boost fit
BOOST_MAX_POSITION_SIGMA = 3e3  # m: powered states this well measured enter the boost fit
BOOST_FIT_CEILING = 30e3  # m: ... below this height (where the path is still steep)
BOOST_FIT_MIN_STATES = 4
#: Elapsed boost time over (distance from the launch point / speed) in the first minute of powered
#: flight: 2 under constant acceleration; 2.4 for the generic vehicle of :mod:`mwx.sim.flight`, whose
#: thrust acceleration grows as its mass falls (measured on the demo's three launches).
BOOST_TIME_FACTOR = 2.4
BACK_TRACE_DELAY = 0.67  # ballistic back-trace time after the launch, in burn times (generic vehicle)
BACK_TRACE_DELAY_SIGMA = 0.04
COAST_ALONG_FRACTION = 0.1  # 1σ along-track error of the ballistic back-trace, share of v·T_b


@dataclass(frozen=True)
class LaunchEstimate:
    """Estimated launch: time [Unix s] with σ [s], point [rad] with east/north covariance [m²]."""

    time: float
    time_sigma: float
    lat: float
    lon: float
    cov_en: NDArray  # (2, 2)
    method: str  # "boost" or "coast"

    def sigma_km(self) -> float:
        """Root of the larger eigenvalue of the point's covariance [km] (1σ along the worse axis)."""
        return math.sqrt(max(float(np.linalg.eigvalsh(self.cov_en)[-1]), 0.0)) / 1e3


def _boost_fit(t: NDArray, x: NDArray, p: NDArray) -> LaunchEstimate | None:
    """Launch from the low powered states (t (n,), ECEF x (n, 6), p (n, 6, 6)), by the fits of the module doc."""
    origin_lat, origin_lon, _ = wgs84.ecef_to_geodetic(x[0, :3])
    enu = wgs84.ecef_to_enu(x[:, :3], origin_lat, origin_lon, 0.0)
    height = wgs84.ellipsoidal_height(x[:, :3])
    sigma = np.maximum(np.sqrt(np.trace(p[:, :3, :3], axis1=1, axis2=2) / 3.0), 10.0)
    w = 1.0 / sigma
    # Horizontal position = launch point + c·h² (vertical at lift-off): weighted least squares.
    design = np.stack([np.ones_like(height), (height / 1e4) ** 2], axis=1)
    solution = np.linalg.lstsq(design * w[:, None], enu[:, :2] * w[:, None], rcond=None)[0]  # (2, 2)
    ground = solution[0]
    normal = np.linalg.inv((design * w[:, None]).T @ (design * w[:, None]))
    fit_var = normal[0, 0]  # of each horizontal coordinate, from the states' σ
    # Model error: a share of the horizontal distance the fit bridges to the lowest state.
    bridged = float(np.linalg.norm(enu[0, :2] - ground))
    model = max(RAY_MODEL_FRACTION * bridged, MODEL_FLOOR_M)
    cov = (fit_var + model**2) * np.eye(2)
    # Time: from rest the mean speed is a fraction of the final (½ under constant acceleration, less
    # as the thrust acceleration grows while propellant burns: 1/BOOST_TIME_FACTOR), so each state was
    # reached BOOST_TIME_FACTOR·d/|v| after the launch (d: straight distance from the launch point).
    point = wgs84.enu_to_ecef(np.array([ground[0], ground[1], 0.0]), origin_lat, origin_lon, 0.0)
    distance = np.linalg.norm(x[:, :3] - point, axis=1)
    speed = np.linalg.norm(x[:, 3:6], axis=1)
    starts = t - BOOST_TIME_FACTOR * distance / np.maximum(speed, 1.0)
    launch_time = float(np.average(starts, weights=w))
    spread = float(np.sqrt(np.average((starts - launch_time) ** 2, weights=w)))
    time_sigma = math.hypot(spread, RAY_MODEL_FRACTION * (t[0] - launch_time))
    lat, lon, _ = wgs84.ecef_to_geodetic(point)
    return LaunchEstimate(launch_time, time_sigma, float(lat), float(lon), cov, "boost")


def _coast_estimate(t: float, x: NDArray, p: NDArray) -> LaunchEstimate | None:
    back = impact.to_ground(x[None], p[None], np.array([t]), direction=-1)
    if not math.isfinite(back.time[0]):
        return None
    r = float(np.linalg.norm(x[:3]))
    # Speed the same orbital energy has at the surface: about the burnout speed.
    v2 = float(np.sum(inertial_velocity(x) ** 2)) + 2.0 * wgs84.GM * (1.0 / wgs84.A - 1.0 / r)
    speed = math.sqrt(max(v2, 0.0))
    burn = burn_time_for_speed(speed)
    along = COAST_ALONG_FRACTION * speed * burn
    # Along-track axis: the azimuth of the back-traced ground track at the ground.
    east, north, _ = wgs84.enu_basis(back.lat[0], back.lon[0])
    heading = np.array([np.dot(x[3:6], east), np.dot(x[3:6], north)])
    heading /= max(float(np.linalg.norm(heading)), 1e-9)
    cov = back.cov_en[0] + along**2 * np.outer(heading, heading)
    time_sigma = math.hypot(BACK_TRACE_DELAY_SIGMA * burn, math.sqrt(max(float(np.trace(back.cov_en[0])), 0.0)) / 3e3)
    return LaunchEstimate(
        float(back.time[0] - BACK_TRACE_DELAY * burn), time_sigma, float(back.lat[0]), float(back.lon[0]), cov, "coast"
    )


def estimate(t: NDArray, x: NDArray, p: NDArray, boosting: NDArray | None) -> LaunchEstimate | None:
    """Launch estimate from a track history: times (n,), ECEF states (n, 6), covariances (n, 6, 6), powered flags.

    A boost fit over the powered states with position σ under ``BOOST_MAX_POSITION_SIGMA``
    below ``BOOST_FIT_CEILING`` (at least ``BOOST_FIT_MIN_STATES`` of them: boost seen), else
    the back-trace of the first coasting state with velocity σ under 200 m/s.
    None when the history has neither.
    """
    pos_sigma = np.sqrt(np.trace(p[:, :3, :3], axis1=1, axis2=2) / 3.0)
    vel_sigma = np.sqrt(np.trace(p[:, 3:6, 3:6], axis1=1, axis2=2) / 3.0)
    powered = np.zeros(len(t), bool) if boosting is None else np.asarray(boosting, bool)
    good_boost = np.flatnonzero(powered & (pos_sigma < BOOST_MAX_POSITION_SIGMA))
    if good_boost.size >= BOOST_FIT_MIN_STATES:
        low = good_boost[wgs84.ellipsoidal_height(x[good_boost, :3]) < BOOST_FIT_CEILING]
        # Seen only higher up: the lowest few powered states (the fit bridges more, and says so).
        use = low if low.size >= BOOST_FIT_MIN_STATES else good_boost[:BOOST_FIT_MIN_STATES]
        fitted = _boost_fit(t[use], x[use, :6], p[use, :6, :6])
        if fitted is not None:
            return fitted
    settled = np.flatnonzero(~powered & (vel_sigma < 200.0))
    if settled.size == 0:
        return None
    k = int(settled[0])
    return _coast_estimate(float(t[k]), x[k, :6], p[k, :6, :6])
