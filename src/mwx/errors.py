"""The one exception tree of mwx.

Every error that mwx raises on purpose derives from :class:`MwxError`, so a
caller (the command line, a node, a test) can catch exactly mwx's own failures.
"""

from __future__ import annotations


class MwxError(Exception):
    """Base of every deliberate mwx error."""


class InputError(MwxError):
    """Bad user input: a scenario, a theater, a command-line value.

    ``source`` names the file (or ``"<string>"``), ``where`` the place inside
    it in the style ``launches[1].apogee_km`` (empty for the whole file).
    """

    def __init__(self, problem: str, *, source: str = "", where: str = "") -> None:
        self.problem = problem
        self.source = source
        self.where = where
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """``file: place: problem`` with empty parts left out."""
        return ": ".join(part for part in (self.source, self.where, self.problem) if part)


class UnreachableFlight(InputError):
    """No ballistic flight achieves the requested apogee and ground range."""


class MessageError(MwxError):
    """A message whose content mwx will not accept (exchange.messages).

    ``reason`` is a short machine-readable code: ``"schema"``, ``"time-implausible"``,
    ``"not-finite"``, ``"covariance-not-symmetric"``, ``"covariance-not-psd"``, ``"id"``,
    ``"ellipse"`` from decoding; ``"sender-mismatch"``, ``"too-large"`` from sealing (see
    docs/exchange.md).  ``detail`` says what and where for a person.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


class Rejection(MessageError):
    """A received envelope refused by exchange.envelope.unseal, and why.

    ``reason`` is one of exchange.envelope.Reason (``"malformed"``, ``"unknown-sender"``,
    ``"bad-signature"``, ``"replayed"``, ``"stale"``, ``"schema-version"``,
    ``"invalid-content"``).  ``sender``, ``seq`` and ``msg_id`` are what the envelope
    claims, when it could be read that far (unauthenticated unless the reason comes after
    the signature check: replayed, stale, invalid-content); empty / None otherwise.
    """

    def __init__(
        self, reason: str, detail: str = "", *, sender: str = "", seq: int | None = None, msg_id: str = ""
    ) -> None:
        self.sender = sender
        self.seq = seq
        self.msg_id = msg_id
        super().__init__(reason, detail)


class NatsUnavailable(MwxError):
    """No usable nats-server: the binary is missing, a server it runs fails to start or come up, or a node finds
    no leaf server where its configuration says (``mwx node`` started where no exchange runs).

    Raised by mwx.exchange.servers; the message names the binary or the server and ends with the
    tail of that server's log when there is one.
    """


class JournalError(InputError):
    """A node's journal it must not go on from: another run's, or one that cannot say what the node sent.

    Raised by mwx.node.service and mwx.node.journal, always with one line that names the node, what
    does not match and what to do.  An input error (``mwx node`` exits with status 2: it would refuse
    again if started again): the node stops rather than reuse a sequence number its peers already hold
    (their copy would be refused as a replay, or dropped by the broker as a duplicate: an envelope
    lost without a word).
    """


class OutboxClash(JournalError):
    """An envelope sealed with a (stream, sequence number) the outbox already keeps for other bytes."""


class JournalBehind(JournalError):
    """A peer holds a higher sequence number from this node than its journal's outbox: the journal lost
    what it had sent (truncated, restored from an older copy, its WAL deleted after a crash)."""


class RecordError(InputError):
    """A run-folder file (or other record input) that does not decode as its record type (mwx.records):
    missing, not JSON, a field of the wrong type or range, an unknown field.  The message is one line that
    names the file and the field (``$.events[0].launch_point.lat``)."""
