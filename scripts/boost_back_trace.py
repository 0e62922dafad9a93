"""The launch estimators' own error: :mod:`mwx.assess.launch` fed true states, against the true launch.

Run: `.venv/bin/python scripts/boost_back_trace.py`.  For flights of the generic vehicle of
`mwx.sim.flight` (300 to 12 000 km, depressed to lofted, from the 2022-10-04 site towards the
Pacific), with states taken from the truth (no tracker; a nominal 30 m / 3 m/s covariance):

* boost: the states every second while the motor burns, from where space infrared first sees the
  plume (above the 10 km cloud tops) or from 20 km (a radar seeing it rise over its horizon), to
  burnout (:func:`mwx.assess.launch.boost_posterior`);
* coast: the state 20 s and 120 s after burnout traced back (:func:`mwx.assess.launch.coast_posterior`).

Prints each estimate's error along the azimuth of fire (+ downrange of the site) and across it,
and the launch time error, then the root mean square of each method's errors per axis: what the
planar, non-rotating flights of the library and their interpolation cost with perfect states.
Those are the floors of :data:`mwx.assess.launch.BOOST_MODEL` and ``COAST_MODEL`` (``floor_m``,
``time_s``); the rest of their model error is fitted to tracked flights by
``benchmarks/launch_point.py --calibrate``.  (This script measured, before, where the plain
ballistic back-trace lands: 5–210 km uprange of the site.)
"""

from __future__ import annotations

import math

import numpy as np

from mwx.assess import launch
from mwx.geo import wgs84
from mwx.sim.scenario import parse_scenario
from mwx.sim.truth import fly

SITE = (40.61, 126.43)  # deg
AZIMUTH = 84.0  # deg
FLIGHTS = [
    (40, 300),
    (60, 600),
    (90, 700),
    (100, 300),
    (300, 600),
    (200, 1000),
    (500, 2000),
    (970, 4500),
    (1200, 3000),
    (400, 5000),
    (1400, 8000),
    (4475, 950),
    (600, 10000),
    (2000, 12000),
]  # fmt: skip  (apogee km, range km)
COVARIANCE = np.diag([30.0**2] * 3 + [3.0**2] * 3)  # nominal: the states are the truth


def _errors(post: launch.Posterior, site_ecef, azimuth: float, launch_time: float) -> tuple[float, float, float]:
    """Along and across the azimuth [km], and the time error [s], of a posterior's launch."""
    miss = post.point - wgs84.ecef_to_enu(site_ecef, *post.origin, 0.0)[:2]
    along = np.array([math.sin(azimuth), math.cos(azimuth)])
    return float(miss @ along) / 1e3, float(miss[0] * along[1] - miss[1] * along[0]) / 1e3, post.time - launch_time


def main() -> None:
    site_ecef = wgs84.geodetic_to_ecef(math.radians(SITE[0]), math.radians(SITE[1]), 0.0)
    rows: dict[str, list[tuple[float, float, float]]] = {"boost": [], "coast": []}
    for apogee, ground_range in FLIGHTS:
        scenario = parse_scenario(
            "name: x\nseed: 1\nlaunches:\n"
            f"  - {{id: A, time: 2022-10-03T22:22:47Z, site: {{lat: {SITE[0]}, lon: {SITE[1]}}}, "
            f"azimuth_deg: {AZIMUTH}, apogee_km: {apogee}, range_km: {ground_range}, separating_stages: 0}}\n"
        )
        flight = fly(scenario)[0]
        obj, burn, t0 = flight.objects[0], flight.trajectory.burnout_t, flight.launch_time
        azimuth = flight.trajectory.programme.azimuth
        figures = []
        for floor in (10e3, 20e3):
            ts = t0 + np.arange(0.0, burn, 1.0)
            x = obj.states_at(ts)
            keep = wgs84.ellipsoidal_height(x[:, :3]) > floor
            if keep.sum() < launch.BOOST_FIT_MIN_STATES:
                figures.append("      –      –      –")
                continue
            pick = np.flatnonzero(keep)
            pick = pick[
                np.round(np.linspace(0, pick.size - 1, min(pick.size, launch.BOOST_FIT_MAX_STATES))).astype(int)
            ]
            p = np.broadcast_to(COVARIANCE, (pick.size, 6, 6))
            post = launch.boost_posterior(ts[pick], x[pick], p)
            err = _errors(post, site_ecef, azimuth, t0)
            rows["boost"].append(err)
            figures.append(f"{err[0]:+6.2f} {err[1]:+6.2f} {err[2]:+6.1f}")
        for delay in (20.0, 120.0):
            t = t0 + burn + delay
            if t >= flight.impact_time - 30.0:
                figures.append("      –      –      –")
                continue
            post = launch.coast_posterior(t, obj.states_at(np.array([t]))[0], COVARIANCE)
            if post is None:
                figures.append("   none")
                continue
            err = _errors(post, site_ecef, azimuth, t0)
            rows["coast"].append(err)
            figures.append(f"{err[0]:+6.2f} {err[1]:+6.2f} {err[2]:+6.1f}")
        print(f"{apogee:5d} km / {ground_range:6d} km  burn {burn:6.1f} s  | " + " | ".join(figures))
    print("columns: along km, across km, time s — boost from 10 km, boost from 20 km | coast 20 s, 120 s after burnout")
    for method, errors in rows.items():
        e = np.array(errors)
        rms = np.sqrt(np.mean(e**2, axis=0))
        print(
            f"{method}: {len(e)} estimates, RMS along {rms[0]:.3f} km, across {rms[1]:.3f} km, time {rms[2]:.2f} s; "
            f"largest along {np.max(np.abs(e[:, 0])):.2f} km, across {np.max(np.abs(e[:, 1])):.2f} km"
        )


if __name__ == "__main__":
    main()
