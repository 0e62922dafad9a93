"""One partner node: its tracker, its fused picture, its alerts, wired to the bus."""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping

import numpy as np

from mwx.assess import distribution, drag
from mwx.assess import failure as failures
from mwx.assess.events import History
from mwx.assess.failure import Failure, FailureWatch, Seen
from mwx.assess.lineage import LaunchBook, Sighting
from mwx.exchange.endpoint import Endpoint, Transport
from mwx.exchange.envelope import Opened, msg_id
from mwx.exchange.keys import Signer, Verifier
from mwx.exchange.messages import Ack, OperatorNote, TrackReport
from mwx.exchange.messages import Alert as AlertMessage
from mwx.exchange.policy import OPEN, ReleasePolicy
from mwx.fuse import motion
from mwx.fuse.fusion import FusionCenter, SystemTrack
from mwx.geo import wgs84
from mwx.geo.regions import ProtectedArea
from mwx.live.feed import NodeFeed
from mwx.sim.theater import Sensor
from mwx.track.base import Scan
from mwx.track.registration import Registration
from mwx.track.scans import ScanBuilder
from mwx.track.tracker import missile_tracker
from mwx.warn import rules
from mwx.warn.alerts import Alert, AlertManager, alert_message

MAX_VELOCITY_SIGMA = 1000.0  # m/s, rms per axis: the loosest velocity a warning is predicted from
WARN_SAMPLES = distribution.DEFAULT_SAMPLES
MIN_HEIGHT_M = 1000.0  # below this a fused state says nothing new about where it lands
REMEMBER_S = 3600.0  # s: a lost system track holds its launch's place this long (an ICBM's coast out of view)
#: s: how far ahead an overflight predicted from a state that may be under thrust is warned for (a lofted
#: or depressed flight's boost lasts up to 5 minutes; a path 15 minutes ahead swept across US islands).
BOOST_OVERFLIGHT_AHEAD_S = 300.0
# (partner, track id, time, state, covariance, boosting, first detection time, independent part)
Recorder = Callable[[str, str, float, np.ndarray, np.ndarray, bool, float, np.ndarray], None]


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
        feed: NodeFeed | None = None,
        operators: bool = False,
    ) -> None:
        """``feed``: where the node's doings go as live updates (a console), None for none; ``operators``: a
        partner's alert change is acknowledged by this partner's operators (:meth:`acknowledge`, from the
        console), not at once on arrival."""
        self.partner = partner
        self.feed = feed
        self.operators = operators
        self.sensors = sensors  # this partner's sensors by their index in the theater
        # The tracker estimates its radars' registration biases, so the scans state their noise alone.
        self.tracker = missile_tracker(partner, registration=Registration.of(sensors)) if sensors else None
        self.scan = ScanBuilder(sensors, bias_as_noise=False)  # rows of Measurements → the tracker's Scan
        self.fusion = FusionCenter(partner)
        self.alerts = AlertManager(partner, areas, on_change=self._alert_changed)
        self.launches = LaunchBook(partner)  # which launch each of its system tracks belongs to: the threats
        self.failures = FailureWatch()  # which of those launches failed: a break-up, a motor stopped early
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
        #: When each peer was last heard from (the send time of its newest accepted envelope) [Unix s].
        self.last_heard: dict[str, float] = {}
        self._opened: Opened | None = None  # the envelope whose message the handler is being given
        #: Told of every partner's consultation message accepted, with the envelope it came in (an exercise).
        self.on_note: Callable[[str, OperatorNote], None] | None = None
        #: Fused states of the live system tracks over the last drag.ENERGY_BASELINE_S[1]: time, state, covariance.
        self._recent: dict[str, list[tuple[float, np.ndarray, np.ndarray]]] = {}

    def on_scan(self, scan: Scan, received: float) -> None:
        """Track one scan of one of this partner's sensors and publish the confirmed tracks it updated."""
        assert self.tracker is not None
        rows = self.tracker.process(scan)
        tracks = self.tracker.tracks
        rows = rows[tracks.confirmed[rows]]
        if rows.size == 0:
            return
        x, p, p_own = self.tracker.estimates(rows)
        boosting = self.tracker.boosting[rows]
        for k, row in enumerate(rows):
            track_id = self.tracker.track_id(int(tracks.number[row]))
            state, cov, own = x[k, :6], p[k, :6, :6], p_own[k, :6, :6]
            self.record(
                self.partner,
                track_id,
                float(tracks.t[row]),
                state,
                cov,
                bool(boosting[k]),
                float(tracks.first_time[row]),
                own,
            )
            if self.feed is not None:
                self.feed.track("own", self.partner, track_id, float(tracks.t[row]), state, cov, bool(boosting[k]))
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
                independent_covariance=own.ravel().tolist(),
            )
            self.seq += 1
            self.fusion.ingest(report)
            self.exchange.send(report, received)

    def _received(self, message: object) -> None:
        if isinstance(message, TrackReport):
            self.fusion.ingest(message)
            if self.feed is not None:
                self.feed.partner_track(message)
        elif isinstance(message, AlertMessage):
            entry = (message.sender, message.alert_id, message.change, message.status, message.time)
            self.received_alerts.append(entry)
            if self.feed is not None and self._opened is not None:
                self.feed.received_alert(message, self._opened.msg_id)
        elif isinstance(message, OperatorNote) and self._opened is not None:
            if self.feed is not None:
                self.feed.note(message, self._opened.msg_id, own=False)
            if self.on_note is not None:
                self.on_note(self._opened.msg_id, message)
        elif isinstance(message, Ack) and message.msg_id in self._alert_msg_ids:
            self.alert_acks.setdefault(message.msg_id, set()).add(message.sender)
            if self.feed is not None:
                self.feed.ack_of_own(message.msg_id, message.sender, message.time)

    def _alert_changed(self, alert: Alert, entry: dict) -> None:
        """Every change of one of this partner's alerts goes to the partners as one exchange message."""
        if self.exchange.signer is None or self.exchange.muted:  # muted: a restarted node's replay, sent before
            return
        message = alert_message(alert, entry)
        if self.feed is not None:
            index = next(i for i in range(len(alert.history) - 1, -1, -1) if alert.history[i] is entry)
            self.feed.own_alert(alert, index)
        # Known before sending: in process the acknowledgements come back inside the send.
        for recipient in self.exchange.transport.recipients(self.partner):
            sent_as = msg_id(self.partner, self.exchange.last_seq(recipient) + 1)
            self._alert_msg_ids.add(sent_as)
            if self.feed is not None:
                self.feed.sent(sent_as, alert.alert_id, message.change)
        self.exchange.send(message, float(entry["time"]))

    def _acknowledge(self, opened: Opened) -> None:
        """Every accepted envelope: its sender heard from; a partner's alert change acknowledged at once on
        arrival (a simulated operator) unless this partner's operators acknowledge from the console."""
        self.last_heard[opened.envelope.sender] = max(self.last_heard.get(opened.envelope.sender, 0.0),
                                                      opened.envelope.sent)  # fmt: skip
        self._opened = opened
        if isinstance(opened.message, AlertMessage) and not self.operators:
            self.acknowledge(opened.msg_id, opened.envelope.sent)

    def acknowledge(self, acked: str, now: float) -> None:
        """This partner's operator acknowledges the partner's alert change that came in envelope ``acked``: the
        acknowledgement goes to every partner over the exchange."""
        if self.exchange.signer is None:
            return
        self.exchange.send(Ack(sender=self.partner, time=now, msg_id=acked), now)
        if self.feed is not None:
            self.feed.ack_by_own(acked, now)

    def next_msg_id(self) -> str:
        """The id of the envelope the next message will leave in (under a release policy each recipient's stream
        numbers it apart: the first recipient's)."""
        recipients = self.exchange.transport.recipients(self.partner)
        return msg_id(self.partner, self.exchange.last_seq(recipients[0]) + 1 if recipients else 0)

    def consult(self, note: OperatorNote) -> str:
        """Send a message on the consultation channel (to every partner, signed and ordered like every other);
        the id of the envelope it left in (:meth:`next_msg_id`)."""
        sent_as = self.next_msg_id()
        self.exchange.send(note, note.time)
        if self.feed is not None:
            self.feed.note(note, sent_as, own=True)
        return sent_as

    def assess(self, time: float) -> None:
        """Place the fused picture's objects in launches, predict where they fall, bring the alerts up to date.

        Every live system track is placed in a launch (:class:`mwx.assess.lineage.LaunchBook`: its
        warhead-bearing body and spent stages together, a salvo's missiles apart).  Every settled
        coasting one (fused at ``time``) gets a Monte Carlo impact distribution
        (:func:`mwx.assess.distribution.predict`, :data:`WARN_SAMPLES` samples) and its threats by
        the warning rules (:mod:`mwx.warn.rules`), which go to the alerts of its launch: one per
        launch and area (:class:`AlertManager`).  Systems merged by the fusion join their launches;
        stale ones leave their alerts standing, track-lost once all of an alert's objects are.
        """
        merged, lost, fresh = _systems_by_state(self.fusion, time)
        for system_id, into in merged.items():
            self.launches.join(system_id, into, time)
        self.alerts.transfer(time, self.launches.merged())
        states = {s.id: self.fusion.fused_state(s, time) for s in fresh}
        boosting = {s.id: self.fusion.boosting(s) for s in fresh}
        sightings = [Sighting(s.id, time, states[s.id][0], states[s.id][1], boosting[s.id]) for s in fresh]
        waiting = any(self.launches.of(s.id) is None for s in fresh)
        self.launches.place(time, sightings + (self._remembered(time, lost) if waiting else []))
        for gone in self._recent.keys() - {s.id for s in fresh}:
            del self._recent[gone]
        # Powered: called so by the fusion, or not shown coasting by its energy (see _threats for what is warned).
        powered = {s.id: boosting[s.id] or self._maybe_powered(s.id, time, *states[s.id]) for s in fresh}
        self._failures(time, fresh)  # which launches failed: their pieces join them
        # A broken-up missile's pieces do not burn (a tracker may read their deceleration as a manoeuvre).
        pieces = {s.id: h for s in fresh if (h := self.failures.piece(s.id, self.launches.of(s.id))) is not None}
        powered.update(dict.fromkeys(pieces, False))
        # The body that broke up is gone (its fused state, predicted on from its last report, is the intact
        # missile), and a piece says nothing until its track shows its drag.
        silent = {s.id for s in fresh if self.failures.silent(s.id, self.launches.of(s.id))}
        alive = [s for s in fresh if s.id not in silent]
        predictions: dict[str, dict] = {}
        if self.alerts.areas:
            threats_by_launch, predictions = self._threats(time, alive, states, powered, pieces)
            for launch_id, threats_of in threats_by_launch.items():
                self.alerts.evaluate(
                    time, launch_id, threats_of, {s: predictions[s] for s in threats_of if s in predictions}
                )
        for launch_id, failure in self.failures.failed.items():
            # A broken-up body's word is void, and a piece's until it says where it falls.
            mine = [k for k in self.fusion.systems if self.launches.of(k) == launch_id]
            void = {*failure.body, *(k for k in mine if self.failures.silent(k, launch_id))}
            self.alerts.fail(time, launch_id, void if failure.kind == failures.BREAKUP else ())
        self.alerts.review(time, lost, merged)
        if self.feed is not None:
            for s in fresh:
                x, p = states[s.id]
                self.feed.system_track(s.id, time, x, p, boosting[s.id], list(s.members), self.launches.of(s.id),
                                       predictions.get(s.id))  # fmt: skip

    def _failures(self, time: float, fresh: list[SystemTrack]) -> dict[str, Failure]:
        """The launches recognised as failed at ``time`` (:class:`mwx.assess.failure.FailureWatch`), by id; a
        break-up's pieces placed in another launch, or in none yet, join the failed one (its alerts then
        follow them: :meth:`~mwx.warn.alerts.AlertManager.transfer`)."""
        self.failures.follow(self.launches.merged())
        seen = [
            Seen(s.id, *self.fusion.fused_state(s, s.last_time), self.fusion.boosting(s), s.last_time) for s in fresh
        ]
        failed = self.failures.observe(time, seen, {k: self.launches.of(k) for k in self.fusion.systems})
        for launch_id, failure in failed.items():
            for piece in failure.pieces:
                if self.launches.of(piece) != launch_id:
                    self.launches.join(piece, failure.body[0], time)
        if failed:
            self.alerts.transfer(time, self.launches.merged())
        self.failures.follow(self.launches.merged())
        return {self.launches.of(failure.body[0]) or k: failure for k, failure in failed.items()}

    def _maybe_powered(self, system_id: str, time: float, x: np.ndarray, p: np.ndarray) -> bool:
        """Whether the system track's fused state at ``time`` may still be under thrust: against its oldest
        kept state (:data:`mwx.assess.drag.ENERGY_BASELINE_S`: a motor the fusion does not call powered
        still shows in the energy) its energy does not show it coasting
        (:func:`mwx.assess.drag.shows_coasting`), or it has no such state yet (a new track's first states
        are the likeliest to be in boost, and its tracker the slowest to say so).  Keeps the state."""
        kept = [r for r in self._recent.get(system_id, []) if time - r[0] <= drag.ENERGY_BASELINE_S[1]]
        self._recent[system_id] = [*kept, (time, x, p)]
        if not kept or time - kept[0][0] < drag.ENERGY_BASELINE_S[0]:
            return True
        return not drag.shows_coasting(kept[0][0], kept[0][1], kept[0][2], time, x, p)

    def _remembered(self, time: float, lost: set[str]) -> list[Sighting]:
        """The lost system tracks that still hold a launch's place: coasting, predicted along their arcs to
        ``time``, and not yet down (a missile re-found after minutes out of every radar's view rejoins its
        launch), for :data:`REMEMBER_S` at most."""
        out = []
        for system_id in sorted(lost):
            system = self.fusion.systems[system_id]
            if self.launches.of(system_id) is None or self.fusion.boosting(system):
                continue
            if time - system.last_time > REMEMBER_S:
                continue
            # Its last fused state flown ballistically: the unmodelled acceleration its members last
            # showed is no guide over minutes (0.01 m/s² is 16 km in half an hour).
            x, p = self.fusion.fused_state(system, system.last_time)
            xs, ps = motion.predict(x[None], p[None], np.array([time - system.last_time]), q=motion.Q_VACUUM)
            if wgs84.ellipsoidal_height(xs[0, :3]) > 0.0:
                out.append(Sighting(system_id, time, xs[0], ps[0], False, live=False))
        return out

    def _threats(
        self,
        time: float,
        fresh: list[SystemTrack],
        states: dict[str, tuple],
        powered: dict[str, bool],
        pieces: Mapping[str, History] | None = None,
    ) -> tuple[dict[str, dict[str, list]], dict[str, dict]]:
        """Per launch, per settled coasting system track of it: its threats; and each one's prediction.

        The impact samples carry the covariance, so an uncertain track gives a wide spread and low
        (honest) probabilities: only a velocity so poor that samples escape or orbit (an
        infrared-only track, km/s) is left out.  The first coasting state of a radar-held track is
        well inside (tens of m/s).  A state predicted past its last report may lie underground (it
        has landed): no prediction.  A boosting track's ballistic prediction falls short, so its
        impact says nothing; but the missile flies on along that path and beyond, so a territory the
        short path crosses soon will be overflown: a track that may be under thrust and has never
        coasted is warned for overflights within :data:`BOOST_OVERFLIGHT_AHEAD_S` (a depressed flight
        may cross a partner's territory before its motor stops; further ahead the heading the motor
        still turns sweeps the path sideways), and for everything once it coasts.  The pieces of a missile
        that broke up (``pieces``: their tracks, :meth:`mwx.assess.failure.FailureWatch.piece`) are predicted
        with a piece's drag, not a re-entry body's (:func:`mwx.assess.failure.piece_distribution`).
        """
        pieces = pieces or {}
        usable = [
            s.id
            for s in fresh
            if self.launches.of(s.id) is not None
            and np.trace(states[s.id][1][3:, 3:]) < 3 * MAX_VELOCITY_SIGMA**2
            and wgs84.ellipsoidal_height(states[s.id][0][:3]) > MIN_HEIGHT_M
            and (not powered[s.id] or s.id not in self.alerts.predictions)
        ]
        by_launch: dict[str, dict[str, list]] = {}
        predictions: dict[str, dict] = {}
        if not usable:
            return by_launch, predictions
        x = np.array([states[i][0] for i in usable])
        p = np.array([states[i][1] for i in usable])
        dist = distribution.predict(x, p, np.full(len(usable), time), self._warning_rng(), samples=WARN_SAMPLES)
        found = rules.distribution_threats(self.alerts.areas, dist)
        each = [(dist, k) for k in range(len(usable))]
        for k, system_id in enumerate(usable):
            if system_id in pieces:
                piece = failures.piece_distribution(pieces[system_id], self._warning_rng(), samples=WARN_SAMPLES)
                found[k] = [] if piece is None else rules.distribution_threats(self.alerts.areas, piece)[0]
                each[k] = (dist, k) if piece is None else (piece, 0)
        for k, system_id in enumerate(usable):
            launch_id = self.launches.of(system_id)
            d, i = each[k]
            if launch_id is None or not (math.isfinite(d.time[i]) and np.isfinite(d.cov_en[i]).all()):
                continue
            if powered[system_id]:
                ahead = [
                    t
                    for t in found[k]
                    if t.reason == "overflight" and t.crossing_time is not None
                    and t.crossing_time - time <= BOOST_OVERFLIGHT_AHEAD_S
                ]  # fmt: skip
                if ahead:  # else it keeps no contribution to lose: nothing to say yet
                    by_launch.setdefault(launch_id, {})[system_id] = ahead
                continue
            by_launch.setdefault(launch_id, {})[system_id] = found[k]
            predictions[system_id] = {"impact_time": float(d.time[i]), "ellipse": rules.ellipse_of(d, i)}
        return by_launch, predictions

    def _warning_rng(self) -> np.random.Generator:
        """The impact samples' generator: the same draws at every assessment (common random numbers).

        Seeded by the partner alone, so a run repeats, and a track's probabilities change only
        with its state, never with Monte Carlo noise between two assessments (no update churn).
        """
        return np.random.default_rng(zlib.crc32(f"warn:{self.partner}".encode()))


def _systems_by_state(fusion: FusionCenter, time: float) -> tuple[dict[str, str], set[str], list[SystemTrack]]:
    """The fusion's system tracks at ``time``: merged (id → the id it went into), stale ids, and the fresh ones."""
    merged: dict[str, str] = {}
    lost: set[str] = set()
    fresh = []
    for system in fusion.systems.values():
        if system.merged_into is not None:
            merged[system.id] = system.merged_into
        elif time - system.last_time > fusion.stale_s:
            lost.add(system.id)
        else:
            fresh.append(system)
    return merged, lost, fresh
