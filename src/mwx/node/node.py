"""One partner node: its tracker, its fused picture, its alerts, wired to the bus."""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable

import numpy as np

from mwx.assess import distribution
from mwx.exchange.endpoint import Endpoint, Transport
from mwx.exchange.envelope import Opened, msg_id
from mwx.exchange.keys import Signer, Verifier
from mwx.exchange.messages import Ack, TrackReport
from mwx.exchange.messages import Alert as AlertMessage
from mwx.exchange.policy import OPEN, ReleasePolicy
from mwx.fuse.fusion import FusionCenter
from mwx.geo import wgs84
from mwx.geo.regions import ProtectedArea
from mwx.sim.theater import Sensor
from mwx.track.base import Scan
from mwx.track.scans import ScanBuilder
from mwx.track.tracker import missile_tracker
from mwx.warn import rules
from mwx.warn.alerts import Alert, AlertManager, alert_message

MAX_VELOCITY_SIGMA = 1000.0  # m/s, rms per axis: the loosest velocity a warning is predicted from
WARN_SAMPLES = distribution.DEFAULT_SAMPLES
MIN_HEIGHT_M = 1000.0  # below this a fused state says nothing new about where it lands
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
        self.alerts = AlertManager(partner, areas, on_change=self._alert_changed)
        self.record = record
        self.seq = 0
        # Received reports reach fusion only once verified (signature, sequence, time, content).
        self.exchange = Endpoint(partner, bus, verifier, self._received, signer, policy)
        self.exchange.on_opened = self._acknowledge
        #: Other partners' alert changes received: (sender, alert id, change, status, time) in arrival order.
        self.received_alerts: list[tuple[str, str, int | None, str, float]] = []
        #: Operators' acknowledgements of this partner's alert changes: msg id → who acknowledged.
        self.alert_acks: dict[str, set[str]] = {}
        self._alert_msg_ids: set[str] = set()

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
        elif isinstance(message, AlertMessage):
            entry = (message.sender, message.alert_id, message.change, message.status, message.time)
            self.received_alerts.append(entry)
        elif isinstance(message, Ack) and message.msg_id in self._alert_msg_ids:
            self.alert_acks.setdefault(message.msg_id, set()).add(message.sender)

    def _alert_changed(self, alert: Alert, entry: dict) -> None:
        """Every change of one of this partner's alerts goes to the partners as one exchange message."""
        if self.exchange.signer is None:
            return
        # Known before sending: in process the acknowledgements come back inside the send.
        for recipient in self.exchange.transport.recipients(self.partner):
            self._alert_msg_ids.add(msg_id(self.partner, self.exchange.last_seq(recipient) + 1))
        self.exchange.send(alert_message(alert, entry), float(entry["time"]))

    def _acknowledge(self, opened: Opened) -> None:
        """The operator's acknowledgement of a partner's alert change (simulated: at once, on arrival)."""
        if isinstance(opened.message, AlertMessage) and self.exchange.signer is not None:
            now = opened.envelope.sent
            self.exchange.send(Ack(sender=self.partner, time=now, msg_id=opened.msg_id), now)

    def assess(self, time: float) -> None:
        """Predict the impact distribution of every live coasting system track and bring the alerts up to date.

        Every settled coasting system track (fused at ``time``) gets a Monte Carlo impact
        distribution (:func:`mwx.assess.distribution.predict`, :data:`WARN_SAMPLES` samples) and its
        threats by the warning rules (:mod:`mwx.warn.rules`); then the alerts of tracks merged into
        others follow them, and those of stale tracks say track-lost or end (:class:`AlertManager`).
        """
        merged, lost, live = _systems_by_state(self.fusion, time)
        self.alerts.transfer(time, merged)
        evaluated: set[str] = set()
        if live and self.alerts.areas:
            states = [self.fusion.fused_state(s, time) for s in live]
            # The impact samples carry the covariance, so an uncertain track gives a wide spread and
            # low (honest) probabilities: only a velocity so poor that samples escape or orbit (an
            # infrared-only track, km/s) is left out.  The first coasting state of a radar-held
            # track is well inside (tens of m/s).  A state predicted past its last report may lie
            # underground (it has landed): no prediction.
            settled = [
                i
                for i, (x, p) in enumerate(states)
                if np.trace(p[3:, 3:]) < 3 * MAX_VELOCITY_SIGMA**2 and wgs84.ellipsoidal_height(x[:3]) > MIN_HEIGHT_M
            ]
            if settled:
                x = np.array([states[i][0] for i in settled])
                p = np.array([states[i][1] for i in settled])
                rng = self._warning_rng()
                dist = distribution.predict(x, p, np.full(len(settled), time), rng, samples=WARN_SAMPLES)
                found = rules.distribution_threats(self.alerts.areas, dist)
                for k, i in enumerate(settled):
                    if math.isfinite(dist.time[k]) and np.isfinite(dist.cov_en[k]).all():
                        prediction = {"impact_time": float(dist.time[k]), "ellipse": rules.ellipse_of(dist, k)}
                        self.alerts.evaluate(time, live[i].id, found[k], prediction)
                        evaluated.add(live[i].id)
        self.alerts.review(time, evaluated, lost)

    def _warning_rng(self) -> np.random.Generator:
        """The impact samples' generator: the same draws at every assessment (common random numbers).

        Seeded by the partner alone, so a run repeats, and a track's probabilities change only
        with its state, never with Monte Carlo noise between two assessments (no update churn).
        """
        return np.random.default_rng(zlib.crc32(f"warn:{self.partner}".encode()))


def _systems_by_state(fusion: FusionCenter, time: float) -> tuple[dict[str, str], set[str], list]:
    """The fusion's system tracks at ``time``: merged (id → the id it went into), stale ids, live coasting ones.

    A boosting track's ballistic impact prediction falls short and sweeps across areas it does
    not threaten: it is warned for once it coasts (and is neither stale nor live-coasting meanwhile).
    """
    merged: dict[str, str] = {}
    lost: set[str] = set()
    live = []
    for system in fusion.systems.values():
        into = getattr(system, "merged_into", None)
        if into is not None:
            merged[system.id] = into
        elif time - system.last_time > fusion.stale_s:
            lost.add(system.id)
        elif not fusion.boosting(system):
            live.append(system)
    return merged, lost, live
