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
* **restart**, on every start, the observer's too: a node refuses a journal of another run
  (``run_id``); restores, before it can seal anything, its sequence numbers (after the
  outbox's highest, per stream), its replay guard and fused picture (from the inbox) and the
  alert changes it had sent (from the outbox); replays its sensor feed up to the last step it
  had done (scans, then the assessments after the feed and the alerts' close) without sending
  anything again (the outbox has it); then, live again, brings its alerts in line with what it
  had sent (:meth:`~mwx.warn.alerts.AlertManager.resume`: change numbers strictly above the
  ones sent, an alert no longer standing ended or cancelled, none left standing at the
  partners).  Every start is journalled (``starts``: when, pid, what it resumed from) and
  logged, so a restart can be seen after the fact;
* **a journal behind its peers**: each heartbeat says, per sender, the highest sequence
  number the node holds from it (``held``).  A restarted node waits a few heartbeats
  (:data:`HELD_WAIT_BEATS`, only for peers that answer) before it numbers anything, and a
  node that hears a peer hold a higher number from it than it ever sealed (its journal was
  truncated, restored from an older copy, or lost its WAL) stops with one line and a non-zero
  exit (:class:`~mwx.errors.JournalBehind`) rather than reuse numbers the peer holds;
* **redeliveries**: a copy of an accepted envelope that JetStream delivers again (its
  acknowledgement was lost, e.g. in a hub restart) is dropped and counted (``redelivered``);
  one it delivers for the first time was published again (a replay) and is refused as
  ``replayed``, journalled and counted (``duplicates``);
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
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import numpy as np

from mwx.errors import InputError, JournalBehind, JournalError
from mwx.exchange.endpoint import RejectedMessage
from mwx.exchange.envelope import msg_id, peek, trusted_message
from mwx.exchange.keys import KeyRingWatch, Verifier, own_signer
from mwx.exchange.messages import Ack, Heartbeat, Message, Resend, TrackReport
from mwx.exchange.messages import Alert as AlertMessage
from mwx.exchange.nats import NatsTransport
from mwx.exchange.policy import OPEN, load_policy
from mwx.exercise.run import TrackLog
from mwx.geo import regions
from mwx.node.journal import Journal
from mwx.node.node import PartnerNode
from mwx.sim import sensors
from mwx.sim.scenario import Scenario, link_injects, load_scenario, theater_of, withholds
from mwx.sim.theater import Theater
from mwx.track.scans import scans_in_arrival_order

CONFIG_NAME = "node.json"
#: Heartbeat intervals a restarted node waits, before it numbers anything, to hear from its peers what
#: they hold from it (only peers that answer: one that is down too is not waited for longer).
HELD_WAIT_BEATS = 4


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
    run_id: str = ""  # the run this node belongs to: its journal is kept for this run only
    first_connect_s: float = 15.0  # wall s to reach its leaf server at start, else it exits with one line
    ca: str | None = None  # the exchange's CA certificate (PEM): the only issuer this node's TLS trusts
    cert: str | None = None  # this node's TLS client certificate (PEM; its leaf requires one)
    cert_key: str | None = None  # the private key of ``cert`` (PEM file, mode 0600)
    http_port: int | None = None  # serve this node's console and API on this port (0: a free one); None: none
    http_host: str = "127.0.0.1"
    token_file: str | None = None  # the console's token (mode 0600; made if missing); default DIR/console.token


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
    heard: float = -math.inf  # the time [scenario s] of its latest heartbeat


@dataclass
class NodeService:
    """One participant's process; :meth:`run` until the exchange is complete."""

    partner: str
    config: NodeConfig
    directory: Path
    peers: dict[str, Peer] = field(default_factory=dict)
    duplicates: int = 0  # copies of accepted envelopes published again (replays): refused, journalled
    redelivered: int = 0  # copies of accepted envelopes JetStream delivered again (at-least-once delivery)
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
        #: keys.json re-read when it changes: a rotation or revocation given to the node takes effect at once.
        self.keys_watch = KeyRingWatch(cfg.keys, verifier)
        signer = own_signer(cfg.key, self.partner, verifier, now=self.clock())  # key spans are in the run's time
        policy = load_policy(cfg.policy) if cfg.policy else OPEN
        policy = policy.with_windows(withholds(scenario))
        links = link_injects(scenario)
        self.transport = NatsTransport(
            self.partner,
            cfg.participants,
            self.journal,
            signer,
            self.clock,
            links=links,
            seed=scenario.seed,
            speed=cfg.speed,
            first_connect_s=cfg.first_connect_s,
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
        self._sent_alerts: dict[str, list[AlertMessage]] = {}  # per own alert id: the changes sent, in order
        self._done = 0  # scans processed before this start
        self._replayed = False  # this start replays steps done before it (muted)
        self._live = False  # past the replay: what the node sends now is new
        self._main: asyncio.Task | None = None  # the task of run(): cancelled on a refusal
        self._finishing = False
        self._refusal: JournalError | None = None  # why the node stopped, if it refused to go on
        #: Track reports accepted but not fused yet, with when they arrived [scenario s], in arrival order: the
        #: inbox's after a restart, and what arrives before the feed is live again (fused in its turn).
        self._restored: deque[tuple[float, TrackReport]] = deque()
        self.console: NodeConsole | None = None
        if cfg.http_port is not None:
            self.console = NodeConsole(self, scenario, theater, areas)

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
    def on_bytes(self, data: bytes, now: float, redelivered: bool = False) -> None:
        """One envelope from JetStream (``redelivered``: JetStream delivered it before): verify, journal, act on it."""
        try:
            claimed = peek(data)  # unverified: only to recognise a copy of what is journalled
        except (msgspec.DecodeError, TypeError, ValueError):
            claimed = None
        if claimed is not None and self.journal.inbox_data(claimed.sender, claimed.seq) == data:
            if redelivered:
                # JetStream delivers at least once: its acknowledgement lost (a hub restart), a message comes
                # again.  Not an attack: dropped and counted, no rejection.
                self.redelivered += 1
                return
            # A new message in the stream with the bytes of an accepted one: published again, a replay.
            # Refused, counted, journalled.  (Anything else claiming an accepted seq is verified below:
            # altered → bad signature.)
            self.duplicates += 1
            detail = "a copy of an accepted envelope, published again"
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
        if isinstance(opened.message, TrackReport) and (self._restored or not self._live):
            # The feed is being replayed after a restart (or is catching up with what arrived meanwhile): fused
            # in its turn, after what arrived before it, as it would have been without the restart.
            self._restored.append((now, opened.message))
        else:
            self.endpoint.deliver(opened)  # the node: fusion, others' alerts, operators' acknowledgements
        try:
            self.act(opened.message, env.seq)
        except JournalError as err:
            self._refuse(err)
        if self.console is not None:
            self.console.feed.flush()

    def act(self, message: Message, seq: int) -> None:
        """The exchange's own control messages: finals, what peers hold from us, acknowledgements of our final,
        resend requests.  Raises :class:`~mwx.errors.JournalBehind` for a peer that holds more from us than
        we ever sealed."""
        peer = self.peers.get(message.sender)
        if isinstance(message, Heartbeat) and peer is not None:
            peer.heard = max(peer.heard, message.time)
            if message.final:
                peer.final_seq = seq if peer.final_seq is None else min(peer.final_seq, seq)
            held = (message.held or {}).get(self.partner)
            sealed = self.endpoint.last_seq(message.sender)
            if held is not None and held > sealed and self._refusal is None:
                raise JournalBehind(
                    f"{self.partner}: journal is behind what {message.sender} holds from {self.partner} "
                    f"(seq {held} > {sealed}): restore the journal or start a new run with --force"
                )
        elif isinstance(message, Ack) and peer is not None and message.msg_id == self.final_msg_ids.get(message.sender):
            peer.acked_us = True
        elif isinstance(message, Resend) and message.of == self.partner:
            self.transport.resend(message.sender, list(message.seqs))

    # ----------------------------------------------------------------- restart
    def _refuse(self, err: JournalError) -> None:
        """Stop at once, sealing nothing more: :meth:`run` ends with ``err`` (one line, a non-zero exit)."""
        if self._refusal is not None:
            return
        self._refusal = err
        self.endpoint.muted = True
        if self._main is not None and not self._finishing:
            self._main.cancel()

    def restore(self) -> int:
        """Rebuild from the journal; return how many feed scans were already processed (0 on a fresh start).

        Raises :class:`~mwx.errors.JournalError` for a journal of another run, and
        :class:`~mwx.errors.JournalBehind` if a peer's heartbeat in the inbox holds a higher number from
        this node than its outbox.
        """
        cfg, journal = self.config, self.journal
        run_id = journal.meta("run_id")
        if run_id is None:  # its first start (or a journal older than run ids): it is this run's from now on
            journal.set_meta("run_id", cfg.run_id)
        elif run_id != cfg.run_id:
            raise JournalError(
                f"{self.partner}: the journal {journal.path} is of run {run_id or '(none)'}, not of this run "
                f"{cfg.run_id or '(none)'}: give the node its own run's folder, or start a new run with --force"
            )
        # Before anything can be sealed: the sequences go on after the outbox's highest, and the alert changes
        # sent are known (what a restarted node's alerts must go on from).
        self._next_seqs = journal.next_seqs()
        self.endpoint.restore_sequences(self._next_seqs)
        self._sent_alerts = {}
        for _, seq, data in journal.outbox_rows():
            if peek(data).kind != "alert":
                continue
            message = trusted_message(data)
            assert isinstance(message, AlertMessage)
            self.node._alert_msg_ids.add(msg_id(self.partner, seq))  # its acknowledgements are in the inbox
            changes = self._sent_alerts.setdefault(message.alert_id, [])
            if message.change not in {c.change for c in changes}:  # one per recipient stream: the same change
                changes.append(message)
        for changes in self._sent_alerts.values():
            changes.sort(key=lambda m: (m.change or 0, m.time))
        done = int(journal.meta("scans_done", "0") or 0)
        # Before the inbox: acknowledgements of our final in it must be recognised (else a node restarted
        # after its final would wait for acknowledgements its peers already sent).
        self.final_sent = self.journal.meta("final_sent") == "1"
        self.final_msg_ids = msgspec.json.decode(self.journal.meta("final_msg_ids", "{}") or "{}")
        guard = self.endpoint.guard
        received: list[tuple[float, TrackReport]] = []
        self.restored_envelopes = 0
        for sender, seq, data, arrived in self.journal.inbox_arrivals():
            self.restored_envelopes += 1
            guard.record(sender, seq)
            message = trusted_message(data)
            if isinstance(message, TrackReport):
                received.append((arrived, message))
            elif not isinstance(message, Resend):  # old requests were answered before the restart
                self.node._received(message)
                self.act(message, seq)
        # Fused again as they arrived the first time, between the node's own scans: the same picture, and the
        # same alerts (fused by their own times, a picture rebuilt after a restart split a launch in two).
        self._restored = deque(sorted(received, key=lambda item: item[0]))
        self._done = done
        return done

    def _ingest_restored_until(self, t: float) -> None:
        """Fuse the reports that arrived (before the restart, or during the replay) up to scenario time ``t``."""
        while self._restored and self._restored[0][0] <= t:
            self.node.fusion.ingest(self._restored.popleft()[1])

    # ----------------------------------------------------------------- the run
    async def run(self) -> None:
        """The node until the exchange is complete; raises :class:`~mwx.errors.JournalError` if it refuses to
        start or to go on (its journal is another run's, or behind what a peer holds from it)."""
        self._main = asyncio.current_task()
        restarted = bool(self.journal.starts())
        done = self.restore()
        # Every start is journalled and logged: a restart shows when, as which process, and from what.
        self.journal.put_start(wallclock.time(), os.getpid(), done, self.restored_envelopes)
        self.journal.commit()
        resumed = f"resuming from its journal: {done} scans processed, {self.restored_envelopes} envelopes accepted"
        fresh = done == 0 and self.restored_envelopes == 0
        print(f"{self.partner}: node started, pid {os.getpid()}, " + ("new" if fresh else resumed), flush=True)
        self.endpoint.defer()  # nothing is numbered before the node knows what its peers hold from it
        await self.transport.start(
            self.config.url, ca=self.config.ca, cert=self.config.cert, cert_key=self.config.cert_key
        )
        ticker: asyncio.Task | None = None
        serving: asyncio.Task | None = None
        if self.console is not None:
            serving = asyncio.create_task(self.console.server.serve())
        try:
            if restarted:
                await self._hear_peers()
            self.endpoint.release()
            ticker = asyncio.create_task(self._ticker())
            await self._feed(done)
            await self._stop.wait()
        except asyncio.CancelledError:
            if self._refusal is None:  # SIGTERM: stop, keeping what was done
                raise
        finally:
            self._finishing = True
            if ticker is not None:
                ticker.cancel()
                await asyncio.gather(ticker, return_exceptions=True)
            if serving is not None and self.console is not None:
                self.console.server.server.should_exit = True
                await asyncio.gather(serving, return_exceptions=True)
            await self.transport.stop()
            if self._refusal is None:
                self.save()
        if self._refusal is not None:
            raise self._refusal

    async def _hear_peers(self) -> None:
        """After a restart, before numbering anything: wait until every peer has sent a heartbeat since this
        start (it says what the peer holds from us: :meth:`act` refuses a journal behind it), for at most
        :data:`HELD_WAIT_BEATS` heartbeat intervals (a peer that is down too is not waited for)."""
        since = self.clock()
        deadline = wallclock.monotonic() + HELD_WAIT_BEATS * self.config.heartbeat_s
        while wallclock.monotonic() < deadline and any(p.heard < since for p in self.peers.values()):
            await asyncio.sleep(0.05)

    async def _feed(self, done: int) -> None:
        """The sensor feed's scans (each after the assessments due before it), the assessments after the feed
        up to the end, and the alerts' close, paced on the clock.  After a restart the steps done before it
        (``scans_done``, ``assessed``, ``closed`` in the journal) are replayed muted and unpaced: they rebuild
        the tracks and the alerts, and what they would send is in the outbox."""
        cfg, node = self.config, self.node
        assessed = float(self.journal.meta("assessed", "-inf") or "-inf")
        closed = self.journal.meta("closed") == "1"
        self._replayed = done > 0 or assessed > -math.inf or closed
        next_assess = math.floor(cfg.t0 / cfg.assess_interval_s) * cfg.assess_interval_s + cfg.assess_interval_s
        for n, (a, b) in enumerate(self.scans):
            t = float(self.m.received[a])
            replay = n < done
            if not replay:
                self._live_again(t)
                await self.until(t)
            with self._muted(replay):
                self._ingest_restored_until(t)
                while next_assess <= t:
                    node.assess(next_assess)
                    next_assess += cfg.assess_interval_s
                node.on_scan(node.scan(self.m, a, b), t)
            if self.console is not None:
                self.console.feed.flush()
            self.journal.set_meta("scans_done", str(n + 1))  # committed with the outbox rows of this scan
            if n % 16 == 0:
                await asyncio.sleep(0)  # let the publisher and the consumer run
        while next_assess <= cfg.t_end:  # as the embedded run: assess on until the last impact
            replay = next_assess <= assessed
            if not replay:
                self._live_again(next_assess)
                await self.until(next_assess)
            with self._muted(replay):
                self._ingest_restored_until(next_assess)
                node.assess(next_assess)
            if self.console is not None:
                self.console.feed.flush()
            self.journal.set_meta("assessed", repr(next_assess))
            next_assess += cfg.assess_interval_s
        if not closed:
            self._live_again(cfg.t_end)
            await self.until(cfg.t_end)
        self._ingest_restored_until(math.inf)
        with self._muted(closed):
            node.alerts.close(cfg.t_end)
        self.journal.set_meta("closed", "1")
        self._live_again(self.clock())
        self.feed_finished = True  # nothing but control messages after this: the final heartbeat may go

    @contextlib.contextmanager
    def _muted(self, replay: bool) -> Iterator[None]:
        """One step of the feed: muted if it is replayed (what it sends was sent before the restart)."""
        before = self.endpoint.muted
        self.endpoint.muted = before or replay
        try:
            yield
        finally:
            self.endpoint.muted = before

    def _live_again(self, t: float) -> None:
        """The first step of the feed not done before this start (``t``: its time): what the node sends from here
        is new.  After a restart, the alerts are first brought in line with what was sent before."""
        if self._live:
            return
        self._live = True
        if self._sent_alerts:
            self.node.alerts.resume(t, self._sent_alerts)
        if self._replayed:
            print(
                f"{self.partner}: replayed {self._done} scans without sending; live again at scenario time {t:.1f}",
                flush=True,
            )

    def _complete(self, sender: str) -> bool:
        peer = self.peers[sender]
        guard = self.endpoint.guard
        return peer.final_seq is not None and not guard.missing(sender, 1) and guard.highest(sender) >= peer.final_seq

    async def _ticker(self) -> None:
        cfg = self.config
        while True:
            await asyncio.sleep(cfg.heartbeat_s)
            if note := self.keys_watch.poll():
                print(f"{self.partner}: {note}", flush=True)
            # Stop once the exchange is complete and the last tick's messages are acknowledged by the broker
            # (checked before this tick queues another heartbeat).
            everyone = all(p.we_acked and p.acked_us for p in self.peers.values())
            if self.final_sent and everyone and self.transport.idle:
                self._stop.set()
                return
            now, wall = self.clock(), wallclock.time()
            if self.console is not None:
                self.console.tick(now)
            if not self.final_sent:
                if self.partner in cfg.senders:
                    ready = self.feed_finished
                else:  # the observer: final once it holds every sender's stream
                    ready = all(self._complete(p) for p in cfg.senders if p != self.partner)
                if ready:
                    self.final_sent = True
                    self.journal.set_meta("final_sent", "1")
            # What it holds from each peer: a peer whose journal lost what it had sent must not number on.
            held = {p: h for p in self.peers if (h := self.endpoint.guard.highest(p)) >= 0}
            self.endpoint.send(Heartbeat(sender=self.partner, time=now, interval_s=cfg.heartbeat_s,
                                         final=self.final_sent, held=held or None), now)  # fmt: skip
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
            "redelivered": self.redelivered,
            "latencies_s": latencies,
        }
        with (self.out / "state.pickle").open("wb") as f:
            pickle.dump(state, f)


class NodeConsole:
    """The node's own console and API (``http_port``): its partner's live picture only, opened by its own token.

    The HTTP server runs in the node's loop, so an operator's acknowledgement is carried out at once, at the
    node's clock.  After a restart the picture is rebuilt by the replayed feed (the journal's steps)."""

    def __init__(
        self, service: NodeService, scenario: Scenario, theater: Theater, areas: tuple[regions.ProtectedArea, ...]
    ) -> None:
        from mwx.live.app import console_app
        from mwx.live.feed import NodeFeed, setup_of
        from mwx.live.picture import LivePicture
        from mwx.live.serve import ConsoleServer
        from mwx.live.tokens import Tokens, own_token

        cfg = service.config
        self.service = service
        setup = setup_of(service.partner, theater, areas, mode="live", scenario=scenario.name, start=cfg.t0,
                         end=cfg.t_end)  # fmt: skip
        self.picture = LivePicture(setup)
        self.feed = NodeFeed(self.picture)
        service.node.feed = self.feed
        service.node.operators = True
        token_path = Path(cfg.token_file) if cfg.token_file else service.directory / "console.token"
        token = own_token(token_path)
        app = console_app({service.partner: self.picture}, Tokens({service.partner: token}), self)
        assert cfg.http_port is not None
        self.server = ConsoleServer(app, cfg.http_host, cfg.http_port)
        print(f"{service.partner}: console at {self.server.url}/console/{service.partner} (token in {token_path})",
              flush=True)  # fmt: skip

    def acknowledge(self, partner: str, msg_id: str) -> None:
        """An operator's acknowledgement from the console: sent now, in the node's loop."""
        from mwx.live.operators import DeskClosed

        if self.service.endpoint.muted or self.service._refusal is not None:
            raise DeskClosed("the node is not live (replaying its journal, or stopped)")
        self.service.node.acknowledge(msg_id, self.service.clock())
        self.feed.flush()

    def tick(self, now: float) -> None:
        """Every heartbeat: the exchange's health and the clock."""
        node = self.service.node
        self.feed.health(now, node.exchange, list(self.service.peers), node.last_heard)
        self.feed.clock(now, self.service.config.speed, "finished" if self.service.feed_finished else "running")
        self.feed.flush()


def run_node(
    partner: str,
    directory: str | Path,
    http_port: int | None = None,
    http_host: str | None = None,
    token_file: str | None = None,
) -> int:
    """Run ``partner``'s node from ``directory``'s configuration until the exchange is complete; ``http_port``
    (and ``http_host``, ``token_file``) override the configuration's console."""
    directory = Path(directory)
    config = load_config(directory)
    overrides = {k: v for k, v in (("http_port", http_port), ("http_host", http_host), ("token_file", token_file))
                 if v is not None}  # fmt: skip
    service = NodeService(partner, msgspec.structs.replace(config, **overrides), directory)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(service.run())
        for signum in (signal.SIGTERM, signal.SIGINT):  # stop, saving what is done (the journal has the rest)
            loop.add_signal_handler(signum, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())
    return 0
