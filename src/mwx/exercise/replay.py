"""Replay simulated measurements through one tracker and keep every estimate: the input of tracking metrics.

:func:`replay` feeds the scans of some sensors to a :class:`~mwx.track.tracker.Tracker`
in the order their reports arrive (as a partner node does) and records, after
each scan, the confirmed tracks it updated.  :func:`frames` turns that record
and the truth into :class:`mwx.exercise.metrics.Frame` objects at a fixed
cadence (each confirmed track predicted to the frame time along a straight
line from its last estimate, never more than ``max_age_s`` old), for GOSPA and
SIAP.
"""

from __future__ import annotations

import time as wallclock
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mwx.exercise.metrics import Frame
from mwx.sim.sensors import Measurements
from mwx.sim.theater import Sensor
from mwx.sim.truth import TruthObject
from mwx.track.scans import ScanBuilder, scans_in_arrival_order
from mwx.track.tracker import Tracker


@dataclass
class ReplayRecord:
    """Every confirmed estimate a replay produced: one row per (scan, updated confirmed track)."""

    time: NDArray  # estimate time (the scan's time taken), Unix s
    number: NDArray  # track number
    x: NDArray  # (n, d) combined state
    P: NDArray  # (n, d, d)
    boosting: NDArray  # (n,) bool
    measurements: int
    wall_s: float


def replay(tracker: Tracker, m: Measurements, sensors: dict[int, Sensor]) -> ReplayRecord:
    """Feed the scans of ``sensors`` (theater index → sensor) in ``m`` to ``tracker`` in arrival order."""
    keep = np.isin(m.sensor, list(sensors))
    m = m.take(np.flatnonzero(keep))
    ranges, ordered = scans_in_arrival_order(m)
    # A tracker that estimates its radars' biases takes their noise alone; one that does not, their
    # bias variance as noise too.
    build = ScanBuilder(sensors, bias_as_noise=tracker.registration.size == 0)
    times, numbers, states, covs, boost = [], [], [], [], []
    start = wallclock.perf_counter()
    for a, b in ranges:
        rows = tracker.process(build(ordered, a, b))
        tracks = tracker.tracks
        rows = rows[tracks.confirmed[rows]]
        if rows.size:
            times.append(tracks.t[rows].copy())
            numbers.append(tracks.number[rows].copy())
            x, p, _ = tracker.estimates(rows)
            states.append(x)
            covs.append(p)
            boost.append(tracker.boosting[rows])
    wall = wallclock.perf_counter() - start
    d = tracker.dim
    if not times:
        return ReplayRecord(
            np.empty(0), np.empty(0, np.int64), np.empty((0, d)), np.empty((0, d, d)), np.empty(0, bool), len(m), wall
        )
    return ReplayRecord(
        np.concatenate(times),
        np.concatenate(numbers),
        np.concatenate(states),
        np.concatenate(covs),
        np.concatenate(boost),
        len(m),
        wall,
    )


def frames(
    record: ReplayRecord,
    objects: Sequence[TruthObject],
    times: NDArray,
    max_age_s: float = 10.0,
) -> list[Frame]:
    """Truth and confirmed tracks at each of ``times`` (positions, velocities) for GOSPA/SIAP.

    A track appears at a frame time when its latest estimate is at most
    ``max_age_s`` old; its position is carried along a straight line.
    """
    order = np.argsort(record.time, kind="stable")
    t_sorted = record.time[order]
    out = []
    for t in times:
        truth_ids, truth_xyz, truth_vel = [], [], []
        for obj in objects:
            s = obj.states_at(np.array([t]))[0]
            if np.isfinite(s[0]):
                truth_ids.append(obj.id)
                truth_xyz.append(s[:3])
                truth_vel.append(s[3:6])
        upto = order[: np.searchsorted(t_sorted, t, side="right")]
        recent = upto[record.time[upto] >= t - max_age_s]
        latest: dict[int, int] = {}
        for row in recent:
            latest[int(record.number[row])] = int(row)
        rows = np.array(list(latest.values()), np.int64)
        dt = (t - record.time[rows])[:, None]
        pos = record.x[rows, :3] + dt * record.x[rows, 3:6]
        out.append(
            Frame(
                float(t),
                truth_ids,
                np.array(truth_xyz).reshape(-1, 3),
                [int(n) for n in record.number[rows]],
                pos.reshape(-1, 3),
                np.array(truth_vel).reshape(-1, 3),
                record.x[rows, 3:6].reshape(-1, 3),
            )
        )
    return out
