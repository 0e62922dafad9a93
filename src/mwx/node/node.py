"""One partner node: its tracker, its fused picture, its alerts, wired to the bus."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from mwx.assess import impact
from mwx.exchange.endpoint import Endpoint, Transport
from mwx.exchange.keys import Signer, Verifier
from mwx.exchange.messages import TrackReport
from mwx.exchange.policy import OPEN, ReleasePolicy
from mwx.fuse.fusion import FusionCenter
from mwx.geo.regions import ProtectedArea
from mwx.sim.theater import Sensor
from mwx.track.base import Scan
from mwx.track.scans import ScanBuilder
from mwx.track.tracker import missile_tracker
from mwx.warn.alerts import AlertManager, threats

MAX_VELOCITY_SIGMA = 200.0  # m/s
# (partner, track id, time, state, covariance, boosting, first detection time)
Recorder = Callable[[str, str, float, np.ndarray, np.ndarray, bool, float], None]


class PartnerNode:
    """A partner: tracks its own radars, shares confirmed tracks, fuses, warns for its areas."""

    def __init__(
        self,
        partner: str,
        sensors: dict[int, Sensor],
        bus: Transport,
        areas: tuple[ProtectedArea, ...],
        record: Recorder,
        signer: Signer,
        verifier: Verifier,
        policy: ReleasePolicy = OPEN,
    ) -> None:
        self.partner = partner
        self.sensors = sensors  # this partner's sensors by their index in the theater
        self.tracker = missile_tracker(partner) if sensors else None
        self.scan = ScanBuilder(sensors)  # rows of Measurements → the tracker's Scan
        self.fusion = FusionCenter(partner)
        self.alerts = AlertManager(partner, areas)
        self.record = record
        self.seq = 0
        # Received reports reach fusion only once verified (signature, sequence, time, content).
        self.exchange = Endpoint(partner, bus, verifier, self._received, signer, policy)

    def on_scan(self, scan: Scan, received: float) -> None:
        """Track one scan of one of this partner's sensors and publish the confirmed tracks it updated."""
        assert self.tracker is not None
        rows = self.tracker.process(scan)
        tracks = self.tracker.tracks
        rows = rows[tracks.confirmed[rows]]
        if rows.size == 0:
            return
        x, p = tracks.x[rows], tracks.P[rows]
        boosting = self.tracker.boosting[rows]
        for k, row in enumerate(rows):
            track_id = self.tracker.track_id(int(tracks.number[row]))
            state, cov = x[k, :6], p[k, :6, :6]
            self.record(
                self.partner,
                track_id,
                float(tracks.t[row]),
                state,
                cov,
                bool(boosting[k]),
                float(tracks.first_time[row]),
            )
            report = TrackReport(
                sender=self.partner,
                seq=self.seq,
                track_id=track_id,
                time=float(tracks.t[row]),
                sent=received,
                state=state.tolist(),
                covariance=cov.ravel().tolist(),
                first_detection=float(tracks.first_time[row]),
                boosting=bool(boosting[k]),
            )
            self.seq += 1
            self.fusion.ingest(report)
            self.exchange.send(report, received)

    def _received(self, message: object) -> None:
        if isinstance(message, TrackReport):
            self.fusion.ingest(message)

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
