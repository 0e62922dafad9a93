"""Signed envelopes: what goes on the wire between partners, and the checks on receipt.

Wire format: one MessagePack array of nine elements, in this order ::

    [version, sender, seq, msg_id, time, sent, kind, body, signature]

=============== ======== ==============================================================
element         type     meaning
=============== ======== ==============================================================
``version``     int      :data:`~mwx.exchange.messages.SCHEMA_VERSION`
``sender``      str      partner code (2–8 letters) whose key signs
``seq``         int      the sender's sequence number, 0, 1, 2, ... over all kinds
``msg_id``      str      ``f"{sender}-{seq}"``: deterministic, unique per sender and seq
``time``        float    measurement time of the message, Unix s (= the message's ``time``)
``sent``        float    when the sender sealed it, Unix s (sender's clock)
``kind``        str      the message's tag: track, event, alert, heartbeat, ack, note
``body``        bin      MessagePack of the message (:func:`mwx.exchange.messages.encode`)
``signature``   bin (64) Ed25519 signature of the signed bytes
=============== ======== ==============================================================

**Canonical bytes**: the MessagePack array of the first eight elements, each in its
shortest MessagePack form (msgspec's encoding: integers in the smallest int/uint format,
floats always float64 ``0xcb``, strings UTF-8 with the smallest str header, ``body`` with
the smallest bin header).  **Signed bytes** = ``b"mwx-envelope\\x00"`` + canonical bytes
(the prefix keeps an envelope signature from being valid for anything else the key signs).
The wire array must itself be canonical: :func:`unseal` re-encodes what it decoded and
refuses any other encoding of the same values, so only byte-identical copies of a sealed
envelope are ever accepted.

Checks on receipt (:func:`unseal`), in order, each a :class:`Reason`:

1. ``malformed`` — over 64 KiB, not the nine-element array, a field outside its type or
   range, not canonical, or ``msg_id`` not ``f"{sender}-{seq}"``;
2. ``schema-version`` — ``version`` is not ours;
3. ``unknown-sender`` — no public key for ``sender``;
4. ``bad-signature`` — the signature does not verify with the sender's key;
5. ``replayed`` — this sender's ``seq`` was accepted before (:class:`ReplayGuard`);
6. ``stale`` — ``sent`` is more than the window (300 s) from the receiver's ``now``;
7. ``invalid-content`` — the body is not a valid message of ``kind`` (schema and content,
   :func:`mwx.exchange.messages.decode_message`), or its ``sender`` or ``time`` differ from
   the envelope's.

The guard records the ``seq`` once 1–6 pass, before the body is read: an authentic message
whose content is invalid uses up its sequence number (asking for it again would not help).
Every failure raises :class:`~mwx.errors.Rejection`; nothing else escapes :func:`unseal`.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, TypedDict

import msgspec

from mwx.errors import MessageError, Rejection
from mwx.exchange import messages
from mwx.exchange.keys import SIGNATURE_BYTES, KeyCheck, Signer, Verifier
from mwx.exchange.messages import Kind, Message, MsgId, Partner, UnixTime

DOMAIN = b"mwx-envelope\x00"  # prefix of the signed bytes
MAX_ENVELOPE_BYTES = 65_536
MAX_SEQ = 2**63 - 1
DEFAULT_WINDOW_S = 300.0
DEFAULT_MAX_PENDING = 65_536
#: A track report's measurement time against its envelope's send time [s]: no later than this after it
#: (the sender's clock rounds) and no earlier than this before it (latency, a link's backlog: a resent
#: envelope is re-sealed with a fresh send time, and a track state ten minutes old says nothing a warning
#: needs).  With ``sent`` within the receiver's window of its clock
#: (:class:`ReplayGuard`), no state dated an hour or ten years ahead reaches fusion, whose prediction
#: over such a span would cost in proportion to it.
TRACK_TIME_AHEAD_S = 1.0
TRACK_TIME_BEHIND_S = 600.0


class Reason(StrEnum):
    """Why an envelope was rejected (the ``reason`` of :class:`~mwx.errors.Rejection`)."""

    MALFORMED = "malformed"
    SCHEMA_VERSION = "schema-version"
    UNKNOWN_SENDER = "unknown-sender"
    BAD_SIGNATURE = "bad-signature"
    REVOKED_KEY = "revoked-key"
    REPLAYED = "replayed"
    STALE = "stale"
    INVALID_CONTENT = "invalid-content"


class Envelope(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    """The signed wire form of one message (a nine-element MessagePack array; see the module docstring)."""

    version: Annotated[int, msgspec.Meta(ge=0, le=65_535)]
    sender: Partner
    seq: Annotated[int, msgspec.Meta(ge=0, le=MAX_SEQ)]
    msg_id: MsgId
    time: UnixTime
    sent: UnixTime
    kind: Kind
    body: Annotated[bytes, msgspec.Meta(max_length=MAX_ENVELOPE_BYTES)]
    signature: Annotated[bytes, msgspec.Meta(min_length=SIGNATURE_BYTES, max_length=SIGNATURE_BYTES)]

    def canonical_bytes(self) -> bytes:
        """MessagePack of [version, sender, seq, msg_id, time, sent, kind, body]: what is signed, after DOMAIN."""
        return _encoder.encode(
            (self.version, self.sender, self.seq, self.msg_id, self.time, self.sent, self.kind, self.body)
        )

    def signed_bytes(self) -> bytes:
        return DOMAIN + self.canonical_bytes()


class _Version(msgspec.Struct, array_like=True):
    """The first element of an array, the rest skipped: tells an old or new envelope from garbage."""

    version: int


_encoder = msgspec.msgpack.Encoder()
_envelope_decoder = msgspec.msgpack.Decoder(Envelope)
_version_decoder = msgspec.msgpack.Decoder(_Version)
# ValidationError is a DecodeError; msgspec raises UnicodeDecodeError for a str that is not UTF-8, and
# RecursionError for deeply nested input (even where it only skips it).
_BAD_WIRE = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)


def msg_id(sender: str, seq: int) -> str:
    """The message id of a sender's ``seq``: ``"KR-17"``."""
    return f"{sender}-{seq}"


@dataclass(frozen=True)
class Opened:
    """An accepted envelope and the message it carried."""

    envelope: Envelope
    message: Message

    @property
    def sender(self) -> str:
        return self.envelope.sender

    @property
    def seq(self) -> int:
        return self.envelope.seq

    @property
    def msg_id(self) -> str:
        return self.envelope.msg_id


@dataclass
class Counters:
    """What a node's exchange sent, accepted (``received``) and rejected by reason, with bytes."""

    sent: int = 0
    received: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    rejected: dict[str, int] = field(default_factory=lambda: {reason.value: 0 for reason in Reason})

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (for metrics.json)."""
        return {
            "sent": self.sent,
            "received": self.received,
            "rejected": dict(self.rejected),
            "rejected_total": self.rejected_total,
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
        }


class ReplayGuard:
    """Per sender: which sequence numbers were accepted, and the time window for ``sent``.

    Compact: per sender the highest ``floor`` below which every seq was seen (−1 at first)
    and the set of seen seqs above it (out-of-order arrivals waiting for a gap to fill).
    That set holds at most ``max_pending`` numbers; beyond that the older half of the gaps
    is given up (the floor jumps), so a message in a gap older than about ``max_pending``
    later arrivals is then rejected as replayed.  Gap repair must come before that.

    The guard lives in memory: a node that restarts must restore it (:meth:`state`,
    :meth:`restore`) from its journal, or it would accept, within the window, replays of
    what it saw before.
    """

    def __init__(self, window_s: float = DEFAULT_WINDOW_S, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        if not (math.isfinite(window_s) and window_s > 0.0) or max_pending < 1:
            raise ValueError("window_s must be > 0 and max_pending ≥ 1")
        self.window_s = window_s
        self.max_pending = max_pending
        self._floor: dict[str, int] = {}
        self._above: dict[str, set[int]] = {}

    def seen(self, sender: str, seq: int) -> bool:
        return seq <= self._floor.get(sender, -1) or seq in self._above.get(sender, ())

    def check(self, sender: str, seq: int, sent: float, now: float) -> None:
        """Raise Rejection ``replayed`` if ``seq`` was seen, ``stale`` if |sent − now| > window (s)."""
        if self.seen(sender, seq):
            raise Rejection(Reason.REPLAYED, f"seq {seq} already seen", sender=sender, seq=seq)
        if not abs(sent - now) <= self.window_s:
            raise Rejection(
                Reason.STALE,
                f"sent {sent - now:+.1f} s from now, window ±{self.window_s:g} s",
                sender=sender,
                seq=seq,
            )

    def record(self, sender: str, seq: int) -> None:
        """Mark ``seq`` of ``sender`` as seen."""
        floor = self._floor.get(sender, -1)
        above = self._above.setdefault(sender, set())
        if seq <= floor:
            return
        above.add(seq)
        if len(above) > self.max_pending:
            floor = sorted(above)[len(above) // 2]
            above.difference_update([s for s in above if s <= floor])
        while floor + 1 in above:
            floor += 1
            above.discard(floor)
        self._floor[sender] = floor

    def highest(self, sender: str) -> int:
        """The highest seq seen from ``sender`` (−1 if none)."""
        above = self._above.get(sender)
        return max(above) if above else self._floor.get(sender, -1)

    def senders(self) -> list[str]:
        """Every sender this guard has accepted an envelope from."""
        return sorted(set(self._floor) | set(self._above))

    def missing(self, sender: str, limit: int = 1000) -> list[int]:
        """Up to ``limit`` seqs of ``sender`` not seen below the highest seen, lowest first (gaps to repair)."""
        above = self._above.get(sender)
        if not above:
            return []
        out: list[int] = []
        for seq in range(self._floor.get(sender, -1) + 1, max(above)):
            if seq not in above:
                out.append(seq)
                if len(out) >= limit:
                    break
        return out

    def state(self) -> dict[str, tuple[int, list[int]]]:
        """Sender → (floor, sorted seqs seen above it): what to journal to survive a restart."""
        return {
            s: (self._floor.get(s, -1), sorted(self._above.get(s, ()))) for s in set(self._floor) | set(self._above)
        }

    def restore(self, state: dict[str, tuple[int, list[int]]]) -> None:
        """Take back what :meth:`state` gave."""
        for sender, (floor, above) in state.items():
            self._floor[sender] = int(floor)
            self._above[sender] = {int(s) for s in above if s > floor}


def _check_time_window(kind: str, time: float, sent: float) -> None:
    """Raise MessageError ``"time-window"`` for a track measured after its sending or long before it
    (:data:`TRACK_TIME_AHEAD_S`, :data:`TRACK_TIME_BEHIND_S`)."""
    if kind == "track" and not -TRACK_TIME_BEHIND_S <= time - sent <= TRACK_TIME_AHEAD_S:
        raise MessageError(
            "time-window",
            f"measured {time - sent:+.1f} s from its sending, "
            f"not within -{TRACK_TIME_BEHIND_S:g}..+{TRACK_TIME_AHEAD_S:g} s",
        )


def seal(message: Message, signer: Signer, *, seq: int, sent: float, counters: Counters | None = None) -> bytes:
    """The wire bytes of ``message`` signed by ``signer``, as the sender's ``seq``, sealed at ``sent`` (Unix s).

    The message must be the signer's (``message.sender == signer.partner``) and valid
    (its own bytes pass :func:`mwx.exchange.messages.decode_message`, schema and content):
    a node never sends what a receiver refuses.
    Raises :class:`~mwx.errors.MessageError` otherwise, and ValueError for a seq outside
    0 .. 2⁶³−1.
    """
    if message.sender != signer.partner:
        raise MessageError("sender-mismatch", f"message from {message.sender!r} signed by {signer.partner!r}")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_SEQ:
        raise ValueError(f"seq must be an int in 0 .. 2**63-1, got {seq!r}")
    sent = float(sent)
    if not messages.EARLIEST <= sent <= messages.LATEST:
        raise MessageError("time-implausible", f"envelope.sent = {sent!r} is not between 2000 and 2100")
    body = messages.encode(message)
    messages.decode_message(body, messages.kind_of(message))  # schema and content, exactly as the receiver
    _check_time_window(messages.kind_of(message), float(message.time), sent)
    unsigned = Envelope(
        messages.SCHEMA_VERSION,
        signer.partner,
        seq,
        msg_id(signer.partner, seq),
        float(message.time),  # floats, so the canonical form is float64 whatever the caller passed
        sent,
        messages.kind_of(message),
        body,
        b"",
    )
    data = _encoder.encode(msgspec.structs.replace(unsigned, signature=signer.sign(unsigned.signed_bytes())))
    if len(data) > MAX_ENVELOPE_BYTES:
        raise MessageError("too-large", f"{len(data)} bytes > {MAX_ENVELOPE_BYTES}")
    if counters is not None:
        counters.sent += 1
        counters.bytes_sent += len(data)
    return data


class _Claims(TypedDict):
    """What an envelope claims of itself, passed on to every :class:`~mwx.errors.Rejection` of it."""

    sender: str
    seq: int
    msg_id: str


def unseal(data: bytes, verifier: Verifier, guard: ReplayGuard, now: float, counters: Counters | None = None) -> Opened:
    """Verify an envelope received at ``now`` (Unix s, receiver's clock) and return it with its message.

    Raises :class:`~mwx.errors.Rejection` (and nothing else, whatever ``data`` holds) with a
    :class:`Reason`; counts the outcome in ``counters`` if given.
    """
    try:
        opened = _unseal(data, verifier, guard, now)
    except Rejection as rejection:
        if counters is not None:
            counters.rejected[rejection.reason] = counters.rejected.get(rejection.reason, 0) + 1
        raise
    except Exception as err:  # a last line of defence: the fuzz tests check this never happens
        if counters is not None:
            counters.rejected[Reason.MALFORMED] += 1
        raise Rejection(Reason.MALFORMED, f"internal error: {type(err).__name__}") from None
    if counters is not None:
        counters.received += 1
        counters.bytes_received += len(data)
    return opened


def _unseal(data: bytes, verifier: Verifier, guard: ReplayGuard, now: float) -> Opened:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise Rejection(Reason.MALFORMED, f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > MAX_ENVELOPE_BYTES:
        raise Rejection(Reason.MALFORMED, f"{len(data)} bytes > {MAX_ENVELOPE_BYTES}")
    try:
        env = _envelope_decoder.decode(data)
    except _BAD_WIRE as err:
        # An envelope of another version may have another layout: say so rather than "malformed".
        try:
            version = _version_decoder.decode(data).version
        except _BAD_WIRE:
            version = messages.SCHEMA_VERSION
        if version != messages.SCHEMA_VERSION:
            raise Rejection(Reason.SCHEMA_VERSION, f"version {version}, expected {messages.SCHEMA_VERSION}") from None
        raise Rejection(Reason.MALFORMED, str(err)[:200]) from None
    claims: _Claims = {"sender": env.sender, "seq": env.seq, "msg_id": env.msg_id}
    if env.version != messages.SCHEMA_VERSION:
        raise Rejection(Reason.SCHEMA_VERSION, f"version {env.version}, expected {messages.SCHEMA_VERSION}", **claims)
    # Only the canonical encoding is accepted, so no other bytes carry the same signed values.
    if _encoder.encode(env) != data:
        raise Rejection(Reason.MALFORMED, "not the canonical encoding", **claims)
    if env.msg_id != msg_id(env.sender, env.seq):
        raise Rejection(Reason.MALFORMED, "msg_id is not SENDER-SEQ", **claims)
    if not verifier.knows(env.sender):
        raise Rejection(Reason.UNKNOWN_SENDER, f"no public key for {env.sender!r}", **claims)
    check = verifier.check(env.sender, env.signature, env.signed_bytes(), env.sent)
    if check is KeyCheck.REVOKED:  # a stolen key, or a node not yet given its new one: journalled as such
        raise Rejection(Reason.REVOKED_KEY, f"signed with a key of {env.sender}'s that keys.json revokes", **claims)
    if check is KeyCheck.OUT_OF_VALIDITY:
        raise Rejection(Reason.BAD_SIGNATURE, f"signed with a key of {env.sender}'s outside its span", **claims)
    if check is not KeyCheck.VALID:
        raise Rejection(Reason.BAD_SIGNATURE, "signature does not verify", **claims)
    try:
        guard.check(env.sender, env.seq, env.sent, now)
    except Rejection as err:
        raise Rejection(err.reason, err.detail, **claims) from None
    guard.record(env.sender, env.seq)
    try:
        _check_time_window(env.kind, env.time, env.sent)
    except MessageError as err:
        raise Rejection(Reason.INVALID_CONTENT, f"{err.reason}: {err.detail}", **claims) from None
    try:
        message = messages.decode_message(env.body, env.kind)
    except MessageError as err:
        raise Rejection(Reason.INVALID_CONTENT, f"{err.reason}: {err.detail}", **claims) from None
    if message.sender != env.sender:
        raise Rejection(Reason.INVALID_CONTENT, f"sender-mismatch: body from {message.sender!r}", **claims)
    if message.time != env.time:
        raise Rejection(Reason.INVALID_CONTENT, "time-mismatch: body time differs from the envelope's", **claims)
    return Opened(env, message)


def broker_id(data: bytes) -> str:
    """The broker's message id of a sealed envelope (JetStream's ``Nats-Msg-Id``): ``SENDER-SEQ-`` and the
    first 16 hex digits of SHA-256 of its signature.

    The broker drops a message whose id it has stored within its duplicate window.  Bound to the signature,
    an id names these bytes only: a third party cannot make one that collides with a partner's envelope
    before that envelope is out (it would need the partner's signature), so a forgery of the same number
    cannot get the genuine one dropped, as ``SENDER-SEQ`` alone let it.  The same bytes published again
    (a retry whose acknowledgement was lost) keep the id and are dropped as copies.
    """
    env = peek(data)
    return f"{env.msg_id}-{hashlib.sha256(env.signature).hexdigest()[:16]}"


def peek(data: bytes) -> Envelope:
    """The envelope in ``data``, decoded but NOT verified: for a node's own journal, never for what arrives.

    Raises msgspec.DecodeError for bytes that are not an envelope.
    """
    return _envelope_decoder.decode(data)


def trusted_message(data: bytes) -> Message:
    """The message of an envelope this node verified before and journalled (no signature check again)."""
    env = _envelope_decoder.decode(data)
    return messages.decode_message(env.body, env.kind)


def reseal(data: bytes, signer: Signer, sent: float) -> bytes:
    """One of the signer's own envelopes signed again with a new send time: same seq, msg_id and body.

    Gap repair and retries after an outage send what the outbox kept; re-signing with the
    present time keeps the copy inside receivers' time window, while the unchanged sequence
    number and message id still let them (and JetStream's deduplication) tell it is the same
    message.  Raises MessageError if ``data`` is not an envelope of ``signer``'s.
    """
    env = _envelope_decoder.decode(data)
    if env.sender != signer.partner:
        raise MessageError("sender-mismatch", f"envelope from {env.sender!r} resealed by {signer.partner!r}")
    unsigned = msgspec.structs.replace(env, sent=float(sent), signature=b"")
    return _encoder.encode(msgspec.structs.replace(unsigned, signature=signer.sign(unsigned.signed_bytes())))
