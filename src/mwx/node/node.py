"""One partner node: its tracker, its fused picture, its alerts, wired to the bus."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from mwx.assess import impact
from mwx.exchange.bus import InMemoryBus
from mwx.exchange.messages import TrackReport
from mwx.fuse.fusion import FusionCenter
from mwx.geo.regions import ProtectedArea
from mwx.track.tracker import RadarGeometry, Tracker
from mwx.warn.alerts import AlertManager, threats

MAX_VELOCITY_SIGMA = 200.0  # m/s
Recorder = Callable[[str, str, float, np.ndarray, np.ndarray], None]


class PartnerNode:
    """A partner: tracks its own radars, shares confirmed tracks, fuses, warns for its areas."""

    def __init__(
        self,
        partner: str,
        radars: list[RadarGeometry],
        bus: InMemoryBus,
        areas: tuple[ProtectedArea, ...],
        record: Recorder,
    ) -> None:
        self.partner = partner
        self.tracker = Tracker(partner, radars) if radars else None
        self.fusion = FusionCenter(partner)
        self.alerts = AlertManager(partner, areas)
        self.bus = bus
        self.record = record
        self.seq = 0
        self._last_scan: dict[int, float] = {}
        self.dropped_scans = 0
        bus.subscribe(partner, self.fusion.ingest)

    def on_scan(
        self, radar_index: int, time: float, received: float, z: np.ndarray, sigma: np.ndarray | None = None
    ) -> None:
        """Track one scan of one of this partner's radars and publish the confirmed tracks it updated.

        A scan older than one already used from the same radar (it was
        overtaken in transit) is dropped: the skeleton filter cannot go back
        in time.
        """
        assert self.tracker is not None
        if time < self._last_scan.get(radar_index, -math.inf):
            self.dropped_scans += 1
            return
        self._last_scan[radar_index] = time
        rows = self.tracker.process_scan(radar_index, time, z, sigma)
        tracks = self.tracker.tracks
        for row in rows[tracks.hits[rows] >= self.tracker.confirm_hits]:
            track_id = self.tracker.track_id(int(tracks.number[row]))
            self.record(self.partner, track_id, time, tracks.x[row], tracks.P[row])
            report = TrackReport(
                sender=self.partner,
                seq=self.seq,
                track_id=track_id,
                time=time,
                sent=received,
                state=tracks.x[row].tolist(),
                covariance=tracks.P[row].ravel().tolist(),
                first_detection=float(tracks.first_time[row]),
                boosting=bool(tracks.boosting[row]),
            )
            self.seq += 1
            self.fusion.ingest(report)
            self.bus.publish(report)

    def assess(self, time: float) -> None:
        """Predict the impact of every live system track and bring this partner's alerts up to date."""
        # A boosting track's ballistic impact prediction falls short
        # and sweeps across areas it does not threaten: warn once it coasts.
        live = [
            s
            for s in self.fusion.systems.values()
            if time - s.last_time <= self.fusion.stale_s and not self.fusion.boosting(s)
        ]
        if not live or not self.alerts.areas:
            return
        states = [self.fusion.fused_state(s, time) for s in live]
        # Only tracks whose velocity is known to ~200 m/s say where they will land.
        settled = [i for i, (_, p) in enumerate(states) if np.trace(p[3:, 3:]) < 3 * MAX_VELOCITY_SIGMA**2]
        live, states = [live[i] for i in settled], [states[i] for i in settled]
        if not live:
            return
        crossing = impact.to_ground(
            np.array([x for x, _ in states]), np.array([p for _, p in states]), np.full(len(states), time)
        )
        for i, system in enumerate(live):
            if not math.isfinite(crossing.time[i]):
                continue
            found = threats(
                self.alerts.areas,
                crossing.path_t[i],
                np.degrees(crossing.path_lat[i]),
                np.degrees(crossing.path_lon[i]),
                float(crossing.time[i]),
            )
            self.alerts.evaluate(time, system.id, found)
