"""A partner's end of the exchange: applies the release policy, signs what it sends, verifies what it receives.

Every message leaves in a sealed envelope (:func:`mwx.exchange.envelope.seal`, the
partner's own Ed25519 key and its own sequence numbers) and every envelope that
arrives is opened against the partners' public keys and this endpoint's replay
guard (:func:`mwx.exchange.envelope.unseal`).  What is refused never reaches the
handler: it is counted by reason and kept in the rejection journal with the time,
the reason and the sender and sequence it claimed.

The endpoint is transport-agnostic: it hands bytes to a transport's
``publish_bytes(sender, data, now)`` and takes bytes from it in :meth:`receive`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from mwx.errors import Rejection
from mwx.exchange.envelope import Counters, Opened, ReplayGuard, seal, unseal
from mwx.exchange.keys import Signer, Verifier
from mwx.exchange.messages import Message
from mwx.exchange.policy import OPEN, ReleasePolicy

Handler = Callable[[Message], None]


class BytesReceiver(Protocol):
    """Takes an envelope's bytes delivered at ``now``; ``redelivered``: the transport delivered them before.

    A transport that never redelivers (:class:`mwx.exchange.bus.InMemoryBus`) calls it with two arguments;
    JetStream's (:class:`mwx.exchange.nats.NatsTransport`) with three.
    """

    def __call__(self, data: bytes, now: float, redelivered: bool = False) -> None: ...


class Transport(Protocol):
    """What an endpoint needs of a transport: publish bytes (to all or one), and deliver others' bytes to it."""

    def publish_bytes(self, sender: str, data: bytes, now: float, recipient: str | None = None) -> None: ...

    def subscribe_bytes(self, partner: str, handler: BytesReceiver) -> None: ...

    def recipients(self, sender: str) -> list[str]: ...


@dataclass(frozen=True)
class RejectedMessage:
    """One refused envelope: when [Unix s], why, and what it claimed to be (unauthenticated)."""

    time: float
    reason: str
    detail: str
    sender: str | None
    seq: int | None


@dataclass
class Endpoint:
    """``partner``'s end: ``signer`` None for a listen-only observer."""

    partner: str
    transport: Transport
    verifier: Verifier
    handler: Handler
    signer: Signer | None = None
    #: Applied before anything leaves.  Under the open policy a message is sealed once for all;
    #: otherwise once per recipient, in that recipient's own sequence (a stream per recipient), so
    #: what is withheld from one leaves no gap in another's.
    policy: ReleasePolicy = OPEN
    guard: ReplayGuard = field(default_factory=ReplayGuard)
    counters: Counters = field(default_factory=Counters)
    rejections: list[RejectedMessage] = field(default_factory=list)
    withheld: int = 0  # messages the policy kept from a recipient
    #: Called with each accepted envelope before ``handler`` gets its message (who needs the envelope's
    #: message id, e.g. to acknowledge it).
    on_opened: Callable[[Opened], None] | None = None
    #: The sender's clock [Unix s]: when set, envelopes carry the time they are sealed (a paced node may
    #: run behind the scan it reports); otherwise the ``now`` the caller gives (the simulation's time).
    clock: Callable[[], float] | None = None
    #: While True, :meth:`send` drops what it is given, unsealed and unnumbered: a restarted node replays
    #: its sensor feed to rebuild its tracks and alerts, and what that regenerates is in its outbox already
    #: (sealing it would use up sequence numbers that nothing then fills: gaps no one could repair).
    muted: bool = False
    _seq: dict[str, int] = field(default_factory=dict)
    _deferred: list[tuple[Message, float]] | None = None

    def __post_init__(self) -> None:
        self.transport.subscribe_bytes(self.partner, self.receive)

    def send(self, message: Message, now: float) -> None:
        """Seal ``message`` (this partner's next sequence number, sent at ``now``) and publish it."""
        if self.signer is None:
            raise RuntimeError(f"{self.partner} listens only: it has no key to sign with")
        if self.muted:
            return
        if self._deferred is not None:
            self._deferred.append((message, now))
            return
        if self.clock is not None:
            now = self.clock()
        if self.policy is OPEN:
            self.transport.publish_bytes(self.partner, self._seal(message, "*", now), now)
            return
        for recipient in self.transport.recipients(self.partner):
            released = self.policy.release(message, recipient)
            if released is None:
                self.withheld += 1
                continue
            self.transport.publish_bytes(self.partner, self._seal(released, recipient, now), now, recipient)

    def _seal(self, message: Message, stream: str, now: float) -> bytes:
        assert self.signer is not None
        seq = self._seq.get(stream, 0)
        self._seq[stream] = seq + 1
        return seal(message, self.signer, seq=seq, sent=now, counters=self.counters)

    def defer(self) -> None:
        """Keep what is sent from now on, unsealed, until :meth:`release`: a restarted node first hears what its
        peers hold from it, and numbers nothing before it knows it may go on."""
        if self._deferred is None:
            self._deferred = []

    def release(self) -> None:
        """Seal and send, in order, what was kept since :meth:`defer`; send at once again from now on."""
        kept, self._deferred = self._deferred or [], None
        for message, now in kept:
            self.send(message, now)

    def last_seq(self, recipient: str) -> int:
        """The sequence number of the last envelope sealed for ``recipient`` (−1 if none)."""
        return self._seq.get("*" if self.policy is OPEN else recipient, 0) - 1

    def restore_sequences(self, next_seqs: dict[str, int]) -> None:
        """Go on from a journal's outbox (per recipient stream, the seq after the highest kept) after a restart."""
        if self.policy is OPEN:  # one stream for all: the outbox keeps it under every recipient
            self._seq = {"*": max(next_seqs.values(), default=0)}
        else:
            self._seq = dict(next_seqs)

    def open(self, data: bytes, now: float) -> Opened | None:
        """Verify an envelope that arrived at ``now``: the opened envelope, or None with the refusal journalled."""
        try:
            return unseal(data, self.verifier, self.guard, now, self.counters)
        except Rejection as refused:
            self.rejections.append(
                RejectedMessage(now, str(refused.reason), refused.detail, refused.sender, refused.seq)
            )
            return None

    def receive(self, data: bytes, now: float, redelivered: bool = False) -> None:
        """Open an envelope that arrived at ``now``; hand its message on, or journal the refusal.

        ``redelivered`` (the transport delivered it before) changes nothing here: the replay guard refuses a
        second copy of an accepted envelope either way (:mod:`mwx.node.service` tells the two apart).
        """
        opened = self.open(data, now)
        if opened is not None:
            self.deliver(opened)

    def deliver(self, opened: Opened) -> None:
        """Hand an accepted envelope on: to ``on_opened`` (if any), then its message to ``handler``."""
        if self.on_opened is not None:
            self.on_opened(opened)
        self.handler(opened.message)
