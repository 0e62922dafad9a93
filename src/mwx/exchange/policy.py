"""The release policy: what each partner may pass to each other partner, applied before sending.

A policy file (YAML) names, per sender and recipient, which message kinds may go,
which optional fields are withheld, and how coarsely positions are released::

    default: {kinds: [track, event, alert, heartbeat, ack, note]}
    rules:
      - {sender: JP, recipient: KR, kinds: [track, event], round_position_m: 1000, withhold: [quality]}
      - {sender: US, recipient: KR, kinds: [event]}

The first rule whose sender and recipient match (``"*"`` matches any) applies, else
``default``.  :meth:`ReleasePolicy.release` returns the message as it may leave for
that recipient, or None when it may not leave at all.  Withheld fields are reset to
their defaults (absent on the wire).  A track report's position released on a grid
of ``round_position_m`` has its covariance widened by the rounding's variance q²/12
on each axis, so a recipient that fuses it stays consistent.

Without a policy file every kind goes to every partner in full (:data:`OPEN`).  The exchange's
control messages (heartbeats, acknowledgements, resend requests) always go, whatever the rules
say: they carry no picture, and without them no recipient could find or repair a gap.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Protocol

import msgspec
import yaml

from mwx.errors import InputError
from mwx.exchange.messages import CONTROL_KINDS, KINDS, Message, TrackReport, kind_of

_Kind = Annotated[str, msgspec.Meta(pattern=r"^(track|event|alert|heartbeat|ack|resend|note)\Z")]
_Who = Annotated[str, msgspec.Meta(pattern=r"^([A-Za-z]{2,8}|\*)\Z")]


class Release(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """What may go on one (sender, recipient) link."""

    kinds: list[_Kind] = msgspec.field(default_factory=lambda: list(KINDS))
    withhold: list[str] = msgspec.field(default_factory=list)
    round_position_m: Annotated[float, msgspec.Meta(ge=0.0, le=1e6)] = 0.0


class Rule(Release, forbid_unknown_fields=True, frozen=True):
    sender: _Who = "*"
    recipient: _Who = "*"


class _PolicyFile(msgspec.Struct, forbid_unknown_fields=True):
    default: Release = msgspec.field(default_factory=Release)
    rules: list[Rule] = msgspec.field(default_factory=list)


def _optional_fields(kind: str) -> set[str]:
    """Fields of a message kind that have a default: the only ones a policy may withhold."""
    info = msgspec.inspect.type_info(KINDS[kind])
    return {f.name for f in info.fields if not f.required}  # type: ignore[attr-defined]


class Window(Protocol):
    """A time-bound withholding (a scenario's or an exercise's ``withhold`` inject,
    :class:`mwx.sim.scenario.Withhold`)."""

    def covers(self, sender: str, recipient: str, kind: str, t: float) -> bool:
        """Whether a message of ``kind`` from ``sender`` to ``recipient`` at ``t`` [Unix s] is withheld."""
        ...


@dataclass(frozen=True)
class ReleasePolicy:
    """Rules per (sender, recipient); see the module docstring.  ``windows``: time-bound withholdings on top
    of the rules, by the message's ``time``."""

    default: Release = field(default_factory=Release)
    rules: tuple[Rule, ...] = ()
    windows: tuple[Window, ...] = ()

    def with_windows(self, windows: Iterable[Window]) -> ReleasePolicy:
        """This policy with ``windows`` added (itself when there are none: :data:`OPEN` stays OPEN)."""
        windows = tuple(windows)
        return dataclasses.replace(self, windows=self.windows + windows) if windows else self

    def rule(self, sender: str, recipient: str) -> Release:
        """The release that applies to messages from ``sender`` to ``recipient``."""
        for r in self.rules:
            if r.sender in ("*", sender) and r.recipient in ("*", recipient):
                return r
        return self.default

    def release(self, message: Message, recipient: str) -> Message | None:
        """``message`` as it may leave for ``recipient``, or None if it may not go to them at all."""
        kind = kind_of(message)
        if kind in CONTROL_KINDS:  # heartbeats, acknowledgements and resend requests carry no picture
            return message
        rule = self.rule(message.sender, recipient)
        if kind not in rule.kinds:
            return None
        if any(w.covers(message.sender, recipient, kind, message.time) for w in self.windows):
            return None
        withheld = [name for name in rule.withhold if name in _optional_fields(kind)]
        if withheld:
            fields = {f.name: f for f in msgspec.inspect.type_info(KINDS[kind]).fields}  # type: ignore[attr-defined]
            changes = {
                name: fields[name].default_factory()
                if fields[name].default is msgspec.NODEFAULT
                else fields[name].default
                for name in withheld
            }
            message = msgspec.structs.replace(message, **changes)
        if rule.round_position_m > 0.0 and isinstance(message, TrackReport):
            message = _rounded(message, rule.round_position_m)
        return message


def _rounded(report: TrackReport, step: float) -> TrackReport:
    """The report with its position on a grid of ``step`` metres and its covariance widened to match."""
    state = list(report.state)
    state[:3] = [round(v / step) * step for v in state[:3]]
    cov = list(report.covariance)
    for i in range(3):
        cov[i * 6 + i] += step * step / 12.0  # variance of a uniform rounding error
    return msgspec.structs.replace(report, state=state, covariance=cov)


OPEN = ReleasePolicy()


def load_policy(path: str | Path) -> ReleasePolicy:
    """Read a policy file; :class:`~mwx.errors.InputError` naming the file and place when it is wrong."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise InputError(f"cannot read the policy file: {err.strerror}", source=str(path)) from None
    except yaml.YAMLError as err:
        raise InputError(f"not YAML: {err}", source=str(path)) from None
    try:
        parsed = msgspec.convert(raw or {}, _PolicyFile)
    except msgspec.ValidationError as err:
        from mwx.sim.scenario import validation_error  # the one place msgspec's messages are made readable

        raise validation_error(err, str(path), root=_PolicyFile, data=raw or {}) from None
    optional = set().union(*(_optional_fields(kind) for kind in KINDS))
    for k, r in enumerate([parsed.default, *parsed.rules]):
        unknown = [name for name in r.withhold if name not in optional]
        if unknown:
            where = "default.withhold" if k == 0 else f"rules[{k - 1}].withhold"
            raise InputError(f"no message kind has an optional field {unknown[0]!r}", source=str(path), where=where)
    return ReleasePolicy(parsed.default, tuple(parsed.rules))
