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
    """No usable nats-server: the binary is missing, or a server it runs fails to start or come up.

    Raised by mwx.exchange.servers; the message names the binary or the server and ends with the
    tail of that server's log when there is one.
    """
