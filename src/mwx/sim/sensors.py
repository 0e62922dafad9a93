"""Sensors: ground radars measuring range, azimuth and elevation.

Skeleton model (to be deepened): a radar scans every ``revisit_s`` seconds on
a grid fixed to the Unix epoch, detects every object above its minimum
elevation and inside its maximum range with probability one, and adds
independent Gaussian noise to range [m], azimuth and elevation [rad].  The
line of sight of a target above the local geodetic horizon of a site on or
above the ellipsoid cannot cross the (convex) ellipsoid, so the elevation
test is also the Earth-horizon test.  Every draw comes from a generator seeded
by the scenario seed and the sensor id, so adding a sensor does not change the
others' noise.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mwx.geo import wgs84
from mwx.sim.theater import Radar
from mwx.sim.truth import TruthObject


@dataclass
class Measurements:
    """A batch of radar measurements, one row each, sorted by time taken.

    ``z`` columns: range [m], azimuth [rad, from north], elevation [rad];
    ``object`` indexes the truth objects list (-1 for a false alarm) and is for
    evaluation only: trackers never read it.
    """

    sensor: NDArray[np.int64]
    time: NDArray[np.float64]
    received: NDArray[np.float64]
    z: NDArray[np.float64]
    object: NDArray[np.int64]

    @classmethod
    def empty(cls) -> Measurements:
        return cls(np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty((0, 3)), np.empty(0, np.int64))

    @classmethod
    def concatenate(cls, parts: list[Measurements]) -> Measurements:
        if not parts:
            return cls.empty()
        joined = cls(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in ("sensor", "time", "received", "z", "object"))
        )
        order = np.lexsort((joined.sensor, joined.time))
        return joined.take(order)

    def take(self, index: NDArray) -> Measurements:
        return Measurements(
            self.sensor[index], self.time[index], self.received[index], self.z[index], self.object[index]
        )

    def __len__(self) -> int:
        return int(self.time.size)


def sensor_rng(seed: int, sensor_id: str) -> np.random.Generator:
    """The generator of one sensor: independent of the other sensors' draws."""
    return np.random.default_rng([seed, zlib.crc32(sensor_id.encode())])


def radar_measurements(
    radar: Radar,
    sensor_index: int,
    objects: list[TruthObject],
    t_start: float,
    t_end: float,
    rng: np.random.Generator,
    latency_s: float = 0.5,
) -> Measurements:
    """Every detection of ``objects`` by ``radar`` between ``t_start`` and ``t_end`` (Unix s)."""
    k0, k1 = math.ceil(t_start / radar.revisit_s), math.floor(t_end / radar.revisit_s)
    scans = np.arange(k0, k1 + 1) * radar.revisit_s
    lat0, lon0, alt0 = math.radians(radar.site.lat), math.radians(radar.site.lon), radar.site.alt_m
    sigma = np.array(radar.noise_sigma)
    parts = []
    for index, obj in enumerate(objects):
        times = scans[(scans >= obj.t[0]) & (scans <= obj.t[-1])]
        if times.size == 0:
            continue
        states = obj.states_at(times)
        az, el, rng_m = wgs84.enu_to_aer(wgs84.ecef_to_enu(states[:, :3], lat0, lon0, alt0))
        seen = (el >= math.radians(radar.min_elevation_deg)) & (rng_m <= radar.max_range_km * 1e3)
        n = int(seen.sum())
        if n == 0:
            continue
        z = np.stack([rng_m[seen], az[seen], el[seen]], axis=1) + rng.standard_normal((n, 3)) * sigma
        z[:, 1] = np.mod(z[:, 1], 2 * np.pi)
        parts.append(
            Measurements(
                np.full(n, sensor_index, np.int64), times[seen], times[seen] + latency_s, z, np.full(n, index, np.int64)
            )
        )
    return Measurements.concatenate(parts)
