"""``mwx node``: one participant as a long-lived process on NATS JetStream.

The node reads its own sensors' reports from the run's sensor feed, paced against the wall
clock (scenario time = ``t0 + speed·(wall − epoch)``), tracks them, shares its confirmed
tracks through :class:`~mwx.exchange.nats.NatsTransport`, fuses what it receives and warns
for its areas: the same :class:`~mwx.node.node.PartnerNode` as the embedded run.  The
listen-only observer ``fused`` is a node without sensors.

Nothing lost, end to end (see :mod:`mwx.node.journal`):

* every envelope sealed goes to the outbox first; every envelope accepted to the inbox
  before it is acknowledged to JetStream;
* **gaps**: heartbeats travel in each sender's sequence, so a receiver knows the sender's
  latest sequence number; a gap that stays open for ``patience_s`` is asked for with a
  :class:`~mwx.exchange.messages.Resend`, which the sender answers from its outbox;
* **restart**: a node started on an existing journal restores its replay guard and its
  fused picture from the inbox, replays its sensor feed up to the last scan it had
  processed without sending anything again (the outbox has it), and goes on with the
  sequence numbers after the outbox's highest; every start is journalled (``starts``: when,
  pid, what it resumed from) and logged, so a restart can be seen after the fact;
* **end**: when its feed is done a node sends a *final* heartbeat, after which it sends only
  control messages (heartbeats, acknowledgements, resend requests); a receiver that holds a
  sender's stream gap-free up to its final acknowledges it (:class:`~mwx.exchange.messages.Ack`);
  a node stops once it holds every other participant's stream up to their finals, every
  other participant acknowledged its own, and the broker acknowledged its outbox.  The
  observer sends its final once it holds every partner's.  The guarantee is therefore
  "everything up to each sender's final": the closing control messages after it are best
  effort (one of them must be the last, and nothing acknowledges the last acknowledgement).

Outputs, in ``out/<partner>/``: ``state.pickle`` (the node's own published states, its fused
picture and alerts, its exchange counters), for :mod:`mwx.exercise.natsrun` to gather.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import pickle
import signal
import time as wallclock
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import numpy as np

from mwx.errors import InputError
from mwx.exchange.endpoint import RejectedMessage
from mwx.exchange.envelope import msg_id, peek, trusted_message
from mwx.exchange.keys import Verifier, own_signer
from mwx.exchange.messages import Ack, Heartbeat, Message, Resend, TrackReport
from mwx.exchange.nats import NatsTransport
from mwx.exchange.policy import OPEN, load_policy
from mwx.exercise.run import TrackLog
from mwx.geo import regions
from mwx.node.journal import Journal
from mwx.node.node import PartnerNode
from mwx.sim import sensors
from mwx.sim.scenario import SensorDown, load_scenario, theater_of
from mwx.track.scans import scans_in_arrival_order

CONFIG_NAME = "node.json"


class NodeConfig(msgspec.Struct, forbid_unknown_fields=True):
    """One node's configuration (``DIR/node.json``, mode 0600: it holds the node's own credentials and no one
    else's), written by ``mwx run --bus nats`` into the node's own folder."""

    scenario: str  # scenario file
    feed: str  # sensor feed (.npz of Measurements)
    participants: list[str]  # partners, then the observer
    senders: list[str]  # participants that have sensors (their final comes when their feed ends)
    url: str  # this node's leaf server's URL with this node's credentials
    key: str  # this node's private signing key (PEM file, mode 0600)
    keys: str  # keys.json: every participant's public key, what received envelopes are verified with
    epoch: float  # wall clock [Unix s] at which scenario time is t0
    t0: float  # scenario time [Unix s] at epoch
    t_end: float  # scenario time [Unix s] after which the feed holds nothing
    speed: float = 1.0  # scenario seconds per wall second
    assess_interval_s: float = 5.0  # scenario s
    heartbeat_s: float = 0.5  # wall s
    patience_s: float = 1.0  # wall s a gap may stay open before it is asked for
    replay_window_s: float = 3600.0  # scenario s: the guard is journalled, so the window only bounds clock skew
    policy: str | None = None
    out: str = "nodes"


def load_config(directory: str | Path) -> NodeConfig:
    path = Path(directory) / CONFIG_NAME
    try:
        return msgspec.json.decode(path.read_bytes(), type=NodeConfig)
    except FileNotFoundError:
        raise InputError(f"no node configuration at {path}", source=str(path)) from None
    except msgspec.DecodeError as err:
        raise InputError(f"bad node configuration: {err}", source=str(path)) from None


def load_feed(path: str | Path) -> sensors.Measurements:
    with np.load(path) as data:
        return sensors.Measurements(*(data[name] for name in sensors.Measurements.FIELDS))


def save_feed(measurements: sensors.Measurements, path: str | Path) -> None:
    np.savez(path, **{name: getattr(measurements, name) for name in sensors.Measurements.FIELDS})


@dataclass
class Peer:
    """What this node knows of one other participant's stream."""

    final_seq: int | None = None  # seq of its final heartbeat, once seen
    acked_us: bool = False  # it acknowledged our final: it holds all we sent
    we_acked: bool = False
    gap_since: float | None = None  # wall s since a gap in its stream is open


@dataclass
class NodeService:
    """One participant's process; :meth:`run` until the exchange is complete."""

    partner: str
    config: NodeConfig
    directory: Path
    peers: dict[str, Peer] = field(default_factory=dict)
    duplicates: int = 0  # redelivered envelopes already in the inbox (at-least-once delivery)
    resend_requests: int = 0  # Resend messages this node sent
    gaps_repaired: int = 0  # envelopes that arrived below their sender's highest seq: a gap filled

    def __post_init__(self) -> None:
        cfg = self.config
        if self.partner not in cfg.participants:
            raise InputError(f"{self.partner!r} is not a participant of this run: {', '.join(cfg.participants)}")
        scenario = load_scenario(cfg.scenario)
        theater = theater_of(scenario)
        self.out = self.directory / cfg.out / self.partner
        self.out.mkdir(parents=True, exist_ok=True)
        self.journal = Journal(self.out / "journal.sqlite")
        verifier = Verifier.from_file(cfg.keys)
        signer = own_signer(cfg.key, self.partner, verifier)
        policy = load_policy(cfg.policy) if cfg.policy else OPEN
        links = [i for i in scenario.injects if not isinstance(i, SensorDown)]
        self.transport = NatsTransport(
            self.partner,
            cfg.participants,
            self.journal,
            signer,
            self.clock,
            links=links,
            seed=scenario.seed,
            speed=cfg.speed,
        )
        self.log = TrackLog()
        own = {i: s for i, s in enumerate(theater.sensors) if s.partner == self.partner}
        areas = regions.load_areas(scenario.theater)
        self.node = PartnerNode(self.partner, own, self.transport, areas, self.log.record, signer,
                                verifier, policy)  # fmt: skip
        self.endpoint = self.node.exchange
        self.endpoint.guard.window_s = cfg.replay_window_s
        self.endpoint.clock = self.clock  # envelopes say when they were sealed: latency is seal → delivery
        self.transport.subscribe_bytes(self.partner, self.on_bytes)  # journal, then the endpoint
        self.peers = {p: Peer() for p in cfg.participants if p != self.partner}
        if own:
            feed = load_feed(cfg.feed)
            mine = np.isin(feed.sensor, list(own))
            self.scans, self.m = scans_in_arrival_order(feed.take(np.flatnonzero(mine)))
        else:
            self.scans, self.m = [], sensors.Measurements.empty()
        self.final_sent = False
        self.final_msg_ids: dict[str, str] = {}  # per peer: the message id of our first final heartbeat
        self.feed_finished = False
        self._stop = asyncio.Event()

    # ----------------------------------------------------------------- time
    def clock(self) -> float:
        """Scenario time now [Unix s]."""
        return self.config.t0 + self.config.speed * (wallclock.time() - self.config.epoch)

    async def until(self, t: float) -> None:
        """Sleep until scenario time ``t``."""
        delay = (t - self.clock()) / self.config.speed
        if delay > 0:
            await asyncio.sleep(delay)

    # ----------------------------------------------------------------- receiving
    def on_bytes(self, data: bytes, now: float) -> None:
        """One envelope from JetStream: verify, journal, act on it."""
        try:
            claimed = peek(data)  # unverified: only to recognise a redelivery of what is journalled
        except (msgspec.DecodeError, TypeError, ValueError):
            claimed = None
        if claimed is not None and self.journal.inbox_data(claimed.sender, claimed.seq) == data:
            # JetStream delivers at least once, and a replay looks the same: dropped, counted, journalled.
            # (Anything else claiming an accepted seq is verified below: altered → bad signature.)
            self.duplicates += 1
            detail = "a copy of an accepted envelope (redelivery or replay)"
            self.journal.put_rejection(now, "replayed", detail, claimed.sender, claimed.seq)
            return
        n_rejected = len(self.endpoint.rejections)
        opened = self.endpoint.open(data, now)
        for r in self.endpoint.rejections[n_rejected:]:
            self.journal.put_rejection(r.time, r.reason, r.detail, r.sender, r.seq)
        if opened is None:
            return
        env = opened.envelope
        self.journal.put_inbox(env.sender, env.seq, data, env.sent, now, (now - env.sent) / self.config.speed)
        # Arrived after later ones of its sender: a retried or resent envelope filled a gap.
        self.gaps_repaired += int(env.seq < self.endpoint.guard.highest(env.sender))
        self.endpoint.deliver(opened)  # the node: fusion, others' alerts, operators' acknowledgements
        self.act(opened.message, env.seq)

    def act(self, message: Message, seq: int) -> None:
        """The exchange's own control messages: finals, acknowledgements of our final, resend requests."""
        peer = self.peers.get(message.sender)
        if isinstance(message, Heartbeat) and message.final and peer is not None:
            peer.final_seq = seq if peer.final_seq is None else min(peer.final_seq, seq)
        elif isinstance(message, Ack) and peer is not None and message.msg_id == self.final_msg_ids.get(message.sender):
            peer.acked_us = True
        elif isinstance(message, Resend) and message.of == self.partner:
            self.transport.resend(message.sender, list(message.seqs))

    # ----------------------------------------------------------------- restart
    def restore(self) -> int:
        """Rebuild from the journal; return how many feed scans were already processed (0 on a fresh start)."""
        done = int(self.journal.meta("scans_done", "0") or 0)
        # Before the inbox: acknowledgements of our final in it must be recognised (else a node restarted
        # after its final would wait for acknowledgements its peers already sent).
        self.final_sent = self.journal.meta("final_sent") == "1"
        self.final_msg_ids = msgspec.json.decode(self.journal.meta("final_msg_ids", "{}") or "{}")
        guard = self.endpoint.guard
        received: list[tuple[float, TrackReport]] = []
        self.restored_envelopes = 0
        for sender, seq, data in self.journal.inbox():
            self.restored_envelopes += 1
            guard.record(sender, seq)
            message = trusted_message(data)
            if isinstance(message, TrackReport):
                received.append((message.time, message))
            elif not isinstance(message, Resend):  # old requests were answered before the restart
                self.node._received(message)
                self.act(message, seq)
        self._restored = sorted(received, key=lambda item: item[0])
        self._next_seqs = self.journal.next_seqs()
        return done

    def _ingest_restored_until(self, t: float) -> None:
        while self._restored and self._restored[0][0] <= t:
            self.node.fusion.ingest(self._restored.pop(0)[1])

    # ----------------------------------------------------------------- the run
    async def run(self) -> None:
        done = self.restore()
        # Every start is journalled and logged: a restart shows when, as which process, and from what.
        self.journal.put_start(wallclock.time(), os.getpid(), done, self.restored_envelopes)
        self.journal.commit()
        resumed = f"resuming from its journal: {done} scans processed, {self.restored_envelopes} envelopes accepted"
        fresh = done == 0 and self.restored_envelopes == 0
        print(f"{self.partner}: node started, pid {os.getpid()}, " + ("new" if fresh else resumed), flush=True)
        await self.transport.start(self.config.url)
        ticker = asyncio.create_task(self._ticker())
        try:
            await self._feed(done)
            await self._stop.wait()
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
            await self.transport.stop()
            self.save()

    async def _feed(self, done: int) -> None:
        cfg, node = self.config, self.node
        next_assess = math.floor(cfg.t0 / cfg.assess_interval_s) * cfg.assess_interval_s + cfg.assess_interval_s
        self.transport.muted = done > 0
        for n, (a, b) in enumerate(self.scans):
            t = float(self.m.received[a])
            if n == done and self.transport.muted:  # caught up with what was sent before the restart
                self._live_again(done, t)
            if not self.transport.muted:
                await self.until(t)
            self._ingest_restored_until(t)
            while next_assess <= t:
                node.assess(next_assess)
                next_assess += cfg.assess_interval_s
            node.on_scan(node.scan(self.m, a, b), t)
            self.journal.set_meta("scans_done", str(n + 1))  # committed with the outbox rows of this scan
            if n % 16 == 0:
                await asyncio.sleep(0)  # let the publisher and the consumer run
        if self.transport.muted:
            self._live_again(done, self.clock())
        self._ingest_restored_until(math.inf)
        while next_assess <= cfg.t_end:  # as the embedded run: assess on until the last impact
            await self.until(next_assess)
            node.assess(next_assess)
            next_assess += cfg.assess_interval_s
        await self.until(cfg.t_end)
        node.alerts.close(cfg.t_end)
        self.feed_finished = True  # nothing but control messages after this: the final heartbeat may go

    def _live_again(self, done: int, t: float) -> None:
        """Caught up after a restart: send again, numbering on after the outbox's highest sequences."""
        self.transport.muted = False
        self.endpoint.restore_sequences(self._next_seqs)
        print(f"{self.partner}: replayed {done} scans without sending; live again at scenario time {t:.1f}", flush=True)

    def _complete(self, sender: str) -> bool:
        peer = self.peers[sender]
        guard = self.endpoint.guard
        return peer.final_seq is not None and not guard.missing(sender, 1) and guard.highest(sender) >= peer.final_seq

    async def _ticker(self) -> None:
        cfg = self.config
        while True:
            await asyncio.sleep(cfg.heartbeat_s)
            if self.transport.muted:  # still replaying the feed after a restart: sequence numbers not restored yet
                continue
            # Stop once the exchange is complete and the last tick's messages are acknowledged by the broker
            # (checked before this tick queues another heartbeat).
            everyone = all(p.we_acked and p.acked_us for p in self.peers.values())
            if self.final_sent and everyone and self.transport.idle:
                self._stop.set()
                return
            now, wall = self.clock(), wallclock.time()
            if not self.final_sent:
                if self.partner in cfg.senders:
                    ready = self.feed_finished
                else:  # the observer: final once it holds every sender's stream
                    ready = all(self._complete(p) for p in cfg.senders if p != self.partner)
                if ready:
                    self.final_sent = True
                    self.journal.set_meta("final_sent", "1")
            self.endpoint.send(Heartbeat(sender=self.partner, time=now, interval_s=cfg.heartbeat_s,
                                         final=self.final_sent), now)  # fmt: skip
            if self.final_sent and not self.final_msg_ids:  # the first final: what peers acknowledge
                self.final_msg_ids = {p: msg_id(self.partner, self.endpoint.last_seq(p)) for p in self.peers}
                self.journal.set_meta("final_msg_ids", msgspec.json.encode(self.final_msg_ids).decode())
            for sender, peer in self.peers.items():
                missing = self.endpoint.guard.missing(sender)
                if missing:
                    peer.gap_since = peer.gap_since or wall
                    if wall - peer.gap_since >= cfg.patience_s:
                        self.endpoint.send(Resend(sender=self.partner, time=now, of=sender, seqs=missing[:1000]), now)
                        self.resend_requests += 1
                        peer.gap_since = wall
                else:
                    peer.gap_since = None
                if not peer.we_acked and self._complete(sender):
                    assert peer.final_seq is not None
                    self.endpoint.send(Ack(sender=self.partner, time=now, msg_id=msg_id(sender, peer.final_seq)), now)
                    peer.we_acked = True
            self.journal.commit()

    # ----------------------------------------------------------------- outputs
    def save(self) -> None:
        """What the run gathers: own published states, fused picture, alerts, exchange figures."""
        self.journal.commit()
        self.node.alerts.on_change = None  # a bound method of the node: not part of what is saved
        latencies = np.array(self.journal.latencies())
        state = {
            "partner": self.partner,
            "log": self.log,
            "fusion": self.node.fusion,
            "alerts": self.node.alerts,
            "launches": self.node.launches,
            "counters": self.endpoint.counters,
            "rejections": [RejectedMessage(*r) for r in self.journal.rejections()],
            "withheld": self.endpoint.withheld,
            "published": self.transport.published,
            "retries": self.transport.retries,
            "resent": self.transport.resent,
            "lost_by_link_injects": self.transport.lost,
            "resend_requests": self.resend_requests,
            "gaps_repaired": self.gaps_repaired,
            "duplicates": self.duplicates,
            "latencies_s": latencies,
        }
        with (self.out / "state.pickle").open("wb") as f:
            pickle.dump(state, f)


def run_node(partner: str, directory: str | Path) -> int:
    """Run ``partner``'s node from ``directory``'s configuration until the exchange is complete."""
    directory = Path(directory)
    service = NodeService(partner, load_config(directory), directory)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(service.run())
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())
    return 0
