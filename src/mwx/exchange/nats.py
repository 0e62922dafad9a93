"""The NATS JetStream transport: a partner's endpoint to its leaf server, with an outbox that loses nothing.

The endpoint (:class:`mwx.exchange.endpoint.Endpoint`) stays synchronous: it hands sealed
envelopes to :meth:`NatsTransport.publish_bytes`, which only keeps them in the journal's
outbox (one row per recipient stream and sequence number) and wakes the publisher.  Two
tasks on the node's event loop do the I/O:

* the **publisher** commits the journal (the envelope is durable before it leaves), then
  keeps up to ``window`` envelopes awaiting their acknowledgement at once, each on the recipient's inbox subject
  (:func:`mwx.exchange.natsconf.inbox_subject`) with ``Nats-Msg-Id`` bound to the envelope's signature
  (:func:`mwx.exchange.envelope.broker_id`), so that JetStream drops a copy it already stored and no one
  else's envelope of the same number.  An envelope counts as
  sent when the hub's JetStream acknowledges it; one that is not acknowledged (leaf link
  down, hub down, timeout) stays in the outbox and is published again, re-signed with the
  present time if it has waited longer than ``reseal_after_s`` (receivers refuse envelopes
  sent outside their time window).
* the **consumer** takes the partner's own stream from its durable push consumer (explicit acks),
  hands each envelope to the node (which verifies it and keeps it in the journal's inbox),
  commits the journal, and only then acknowledges the batch to JetStream: what was
  acknowledged is on this node's disk.

Gap repair (:meth:`resend`) publishes kept envelopes again to one recipient, re-signed, under
a fresh ``Nats-Msg-Id`` (the original may still sit in JetStream's duplicate window).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import nats
import numpy as np
from nats.errors import Error as NatsError
from nats.js.errors import Error as JetStreamError

from mwx.errors import NatsUnavailable
from mwx.exchange.bus import arrival_time
from mwx.exchange.certs import client_tls_context
from mwx.exchange.envelope import broker_id, peek, reseal
from mwx.exchange.keys import Signer
from mwx.exchange.natsconf import durable_name, inbox_subject, stream_name
from mwx.node.journal import Journal
from mwx.sim.scenario import LinkInject

#: ``handler(data, now, redelivered)``: ``redelivered`` when JetStream delivered the message before (its
#: acknowledgement was lost): a copy the node accepted already is then no replay.
BytesHandler = Callable[[bytes, float, bool], None]
_FAILURES = (NatsError, JetStreamError, asyncio.TimeoutError, TimeoutError, OSError)


class NatsTransport:
    """``partner``'s transport over JetStream; ``clock()`` gives the node's time (Unix s, scenario time)."""

    def __init__(
        self,
        partner: str,
        participants: list[str],
        journal: Journal,
        signer: Signer | None,
        clock: Callable[[], float],
        *,
        window: int = 256,
        publish_timeout_s: float = 2.0,
        first_connect_s: float = 15.0,
        reseal_after_s: float = 30.0,
        retry_s: float = 0.5,
        links: Sequence[LinkInject] = (),
        seed: int = 0,
        speed: float = 1.0,
    ) -> None:
        self.partner = partner
        self.participants = list(participants)
        self.journal = journal
        self.signer = signer
        self.clock = clock
        self.window = window
        self.publish_timeout_s = publish_timeout_s
        self.first_connect_s = first_connect_s  # wall s the first connection may take (start() then says why)
        self.reseal_after_s = reseal_after_s
        self.retry_s = retry_s
        #: Scenario link injects applied to what this node sends (``link_loss`` drops an envelope after
        #: it left the outbox; ``link_down``/``link_latency`` hold it), at ``speed`` scenario s per wall s.
        self.links = list(links)
        self.speed = speed
        self._rng = np.random.default_rng([seed, *partner.encode()])
        self.lost = 0
        self.published = 0  # envelopes JetStream acknowledged
        self.retries = 0  # publishes that failed and were tried again
        self.resent = 0  # envelopes sent again on a recipient's request
        self._handler: BytesHandler | None = None
        self._pending: deque[tuple[str, int, bytes, str]] = deque()  # (recipient, seq, data, Nats-Msg-Id)
        self._wake = asyncio.Event()
        self._nc: nats.NATS | None = None
        self._tasks: list[asyncio.Task] = []
        self._stopping = False
        self._in_flight = 0  # publishes awaiting their PubAck

    # ----------------------------------------------------------------- the endpoint's side (synchronous)
    def recipients(self, sender: str) -> list[str]:
        return [p for p in self.participants if p != sender]

    def subscribe_bytes(self, partner: str, handler: BytesHandler) -> None:
        self._handler = handler

    def publish_bytes(self, sender: str, data: bytes, now: float, recipient: str | None = None) -> None:
        """Keep ``data`` in the outbox for ``recipient`` (or every other participant) and wake the publisher."""
        seq = peek(data).seq
        for r in [recipient] if recipient is not None else self.recipients(sender):
            if self.journal.put_outbox(r, seq, data):
                self._pending.append((r, seq, data, broker_id(data)))
        self._wake.set()

    def resend(self, recipient: str, seqs: list[int]) -> int:
        """Send the kept envelopes ``seqs`` of ``recipient``'s stream again (re-signed); how many were kept."""
        if self.signer is None:
            return 0
        rows = self.journal.outbox(recipient, seqs)
        for seq, data in rows:
            fresh = reseal(data, self.signer, self.clock())
            self.journal.replace_outbox(recipient, seq, fresh)
            self._pending.append((recipient, seq, fresh, broker_id(fresh)))
        self.resent += len(rows)
        self._wake.set()
        return len(rows)

    @property
    def idle(self) -> bool:
        """Nothing waits to be published (the outbox is acknowledged up to date)."""
        return not self._pending and self._in_flight == 0

    # ----------------------------------------------------------------- I/O (asynchronous)
    async def start(
        self,
        url: str,
        *,
        tls: ssl.SSLContext | None = None,
        ca: str | None = None,
        cert: str | None = None,
        cert_key: str | None = None,
    ) -> None:
        """Connect to the leaf server at ``url``, queue what the outbox holds unacknowledged, start the tasks.

        The servers require TLS with a client certificate (``tls://`` URLs): pass the client context
        ``tls``, or the files to make one from (``ca``: the exchange's CA; ``cert``/``cert_key``: this
        node's client certificate and key, see :func:`mwx.exchange.certs.client_tls_context`).
        """
        if tls is None and ca is not None:
            tls = client_tls_context(ca, cert, cert_key)
        for stream, seq, data in self.journal.unacked():
            self._pending.append((stream, seq, data, broker_id(data)))
        # Reconnects after the first connection go on for ever (a leaf or hub restart is a pause, not an end);
        # the first one is bounded, so a node started where no exchange runs says so instead of waiting.
        connecting = nats.connect(
            url,
            tls=tls,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.25,
            allow_reconnect=True,
            connect_timeout=2,
            error_cb=self._connection_error,
        )
        try:
            self._nc = await asyncio.wait_for(connecting, self.first_connect_s)
        except (TimeoutError, *_FAILURES) as err:
            where = urlsplit(url)
            raise NatsUnavailable(
                f"{self.partner}: no leaf server answers at {where.hostname}:{where.port} within "
                f"{self.first_connect_s:g} s ({type(err).__name__}): is the exchange running (mwx run --bus nats)?"
            ) from None
        js = self._nc.jetstream(timeout=self.publish_timeout_s)
        self._tasks = [
            asyncio.create_task(self._publisher(js), name=f"{self.partner}-publisher"),
            asyncio.create_task(self._consumer(js), name=f"{self.partner}-consumer"),
        ]
        self._wake.set()

    async def _connection_error(self, err: Exception) -> None:
        """nats-py's report of a connection error: one line in the node's log (its default prints a traceback).

        What it reports while the node closes its connection is dropped: a TLS peer that closed first
        (``APPLICATION_DATA_AFTER_CLOSE_NOTIFY``) says nothing about the exchange.
        """
        if self._stopping:
            return
        print(f"{self.partner}: NATS connection: {type(err).__name__}: {err}", flush=True)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, *_FAILURES):
                await task
        self.journal.commit()
        if self._nc is not None:
            with contextlib.suppress(*_FAILURES):
                await self._nc.close()

    async def _publisher(self, js) -> None:
        # Pipelined: up to ``window`` publishes await their PubAck at once, and a new one starts as soon as
        # any finishes (a batch barrier would hold every envelope behind the slowest ack of the batch before).
        room = asyncio.Semaphore(self.window)
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            while self._pending and not self._stopping:
                batch = [self._pending.popleft() for _ in range(min(self.window, len(self._pending)))]
                self.journal.commit()  # durable before it leaves
                for item in batch:
                    await room.acquire()
                    self._in_flight += 1
                    task = asyncio.create_task(self._publish_one(js, *item))
                    task.add_done_callback(lambda _: room.release())

    async def _publish_one(self, js, recipient: str, seq: int, data: bytes, msg_id: str) -> None:
        try:
            if self.links:  # the scenario's link injects, as the link itself would act
                now = self.clock()
                at = arrival_time(self.links, self.partner, recipient, now, self._rng)
                if at is None:  # lost on the way: counted as sent, so only gap repair can bring it
                    self.lost += 1
                    self.journal.mark_acked(recipient, [seq])
                    return
                if at > now:  # link down or slow: the envelope waits, as on a real link
                    await asyncio.sleep((at - now) / self.speed)
            now = self.clock()
            if self.signer is not None and now - peek(data).sent > self.reseal_after_s:
                data = reseal(data, self.signer, now)
                self.journal.replace_outbox(recipient, seq, data)
            await js.publish(inbox_subject(recipient, self.partner), data, headers={"Nats-Msg-Id": msg_id})
        except _FAILURES:
            self.retries += 1
            await asyncio.sleep(self.retry_s)
            self._pending.appendleft((recipient, seq, data, msg_id))  # first in line again
            self._wake.set()
        else:
            self.journal.mark_acked(recipient, [seq])
            self.published += 1
        finally:
            self._in_flight -= 1

    async def _consumer(self, js) -> None:
        # A durable *push* consumer with explicit acks: JetStream sends each envelope as soon as it is
        # stored (a pull fetch of a batch lingers until the batch fills or times out: tens of ms).
        sub = None
        while not self._stopping:
            try:
                if sub is None:
                    sub = await js.subscribe(
                        inbox_subject(self.partner, "*"),
                        durable=durable_name(self.partner),
                        stream=stream_name(self.partner),
                        manual_ack=True,
                    )
                msgs = [await sub.next_msg(timeout=0.5)]
                while len(msgs) < self.window and sub.pending_msgs > 0:  # what has arrived meanwhile
                    msgs.append(await sub.next_msg(timeout=0.5))
            except TimeoutError:
                continue
            except _FAILURES:
                # The hub restarted or the link dropped: bind the durable consumer again once it answers.
                if sub is not None:
                    with contextlib.suppress(*_FAILURES):
                        await sub.unsubscribe()
                sub = None
                await asyncio.sleep(self.retry_s)
                continue
            assert self._handler is not None
            for msg in msgs:
                try:
                    redelivered = msg.metadata.num_delivered > 1  # delivered before, its acknowledgement lost
                except NatsError:  # no JetStream metadata: taken as a first delivery
                    redelivered = False
                self._handler(msg.data, self.clock(), redelivered)
            self.journal.commit()  # on disk before JetStream forgets it
            for msg in msgs:
                with contextlib.suppress(*_FAILURES):
                    await msg.ack()
