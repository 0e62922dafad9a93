"""Flight solver over the envelope: achieved apogee and range error, flight time, solve time.

Run: ``.venv/bin/python benchmarks/flight_envelope.py``. Prints one row per
(apogee, range) pair — depressed, minimum-energy and lofted flights from SRBM
to ICBM ranges — and the two public-record flight times. Figures go into
docs/architecture.md.
"""

from __future__ import annotations

import math
import time

from pyproj import Geod

from mwx.sim import flight
from mwx.sim.flight import FlightBrief, solve_flight

GEOD = Geod(ellps="WGS84")
SITE = (math.radians(40.0), math.radians(127.0))
PUBLIC = [("2017-11-28", 4475.0, 950.0, 53.0), ("2022-10-04", 970.0, 4500.0, 22.0)]


def envelope() -> list[tuple[float, float]]:
    pairs = [(50.0, 350.0), (7000.0, 1000.0)]
    for range_km in (350.0, 1000.0, 3000.0, 5500.0, 10000.0, 13000.0):
        minimum = flight.minimum_energy_apogee(range_km * 1e3) / 1e3
        pairs += [(max(minimum * f, 45.0), range_km) for f in (0.5, 1.0, 2.5)]
    return pairs


def solve(apogee_km: float, range_km: float) -> tuple[flight.Trajectory, float]:
    brief = FlightBrief.along_azimuth(*SITE, math.radians(70.0), range_km * 1e3, apogee_km * 1e3)
    start = time.perf_counter()
    traj = solve_flight(brief)
    return traj, time.perf_counter() - start


def main() -> None:
    print(
        f"{'apogee km':>10} {'range km':>9} {'apogee err':>11} {'range err':>10} "
        f"{'burn s':>7} {'flight s':>9} {'solve s':>8}"
    )
    worst = 0.0
    for apogee_km, range_km in envelope():
        traj, seconds = solve(apogee_km, range_km)
        e_apogee = abs(traj.apogee_alt / 1e3 - apogee_km) / apogee_km
        e_range = abs(traj.range_m / 1e3 - range_km) / range_km
        worst = max(worst, e_apogee, e_range)
        print(
            f"{apogee_km:10.1f} {range_km:9.1f} {e_apogee:11.2e} {e_range:10.2e} "
            f"{traj.burnout_t:7.1f} {traj.impact_t:9.1f} {seconds:8.2f}"
        )
    print(f"worst relative error over the grid: {worst:.2e} (requirement 1e-2)")
    for date, apogee_km, range_km, reported in PUBLIC:
        traj, _ = solve(apogee_km, range_km)
        minutes = traj.impact_t / 60.0
        print(
            f"{date}: apogee {apogee_km:.0f} km, range {range_km:.0f} km: flight {minutes:.2f} min, "
            f"reported ~{reported:.0f} min ({100 * (minutes - reported) / reported:+.1f} %)"
        )


if __name__ == "__main__":
    main()
