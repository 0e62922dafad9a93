"""Where the ballistic back-trace of a coasting missile meets the ground, against its true launch.

Run: `.venv/bin/python scripts/boost_back_trace.py`.  For flights of the generic vehicle of
`mwx.sim.flight` (300 to 12 000 km, depressed to lofted), the arc through the state 20 s after
burnout is traced back to the ground; prints how far uprange of the site it lands and how long after
the launch, the figures behind `mwx.assess.launch` (BACK_TRACE_DELAY: mean of dt / burn).
"""

from __future__ import annotations

import math

import numpy as np
from pyproj import Geod

from mwx.assess import impact
from mwx.assess.kepler import inertial_velocity
from mwx.sim.scenario import parse_scenario
from mwx.sim.truth import fly

GEOD = Geod(ellps="WGS84")
FLIGHTS = [
    (60, 600),
    (90, 700),
    (200, 1000),
    (500, 2000),
    (970, 4500),
    (1200, 3000),
    (1400, 8000),
    (4475, 950),
    (2000, 12000),
    (300, 600),
    (100, 300),
]  # fmt: skip  (apogee km, range km)


def main() -> None:
    ratios = []
    for apogee, ground_range in FLIGHTS:
        scenario = parse_scenario(
            "name: x\nseed: 1\nlaunches:\n"
            "  - {id: A, time: 2022-10-03T22:22:47Z, site: {lat: 40.61, lon: 126.43}, azimuth_deg: 84, "
            f"apogee_km: {apogee}, range_km: {ground_range}, separating_stages: 0}}\n"
        )
        launch = fly(scenario)[0]
        obj = launch.objects[0]
        burn = launch.trajectory.burnout_t
        ts = np.array([launch.launch_time + burn + 20.0])
        x = obj.states_at(ts)
        back = impact.to_ground(x, np.zeros((1, 6, 6)) + np.eye(6) * 1e-6, ts, direction=-1)
        azimuth, _, dist = GEOD.inv(126.43, 40.61, math.degrees(back.lon[0]), math.degrees(back.lat[0]))
        speed = float(np.linalg.norm(inertial_velocity(x[0])))
        delay = back.time[0] - launch.launch_time
        ratios.append(delay / burn)
        print(f"{apogee:5d} km / {ground_range:6d} km  burn {burn:6.1f} s  speed {speed:7.1f} m/s  back-trace "
              f"{dist / 1e3:7.1f} km from the site (azimuth {azimuth:6.1f})  {delay:6.1f} s after launch "
              f"= {delay / burn:.2f} burn")  # fmt: skip
    print(f"delay / burn: mean {np.mean(ratios):.3f}, sd {np.std(ratios, ddof=1):.3f}")


if __name__ == "__main__":
    main()
