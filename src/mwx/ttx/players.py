"""Scripted cells for headless play: each reacts to what reaches it after a set delay, or never.

A :class:`ScriptedPlayers` watches, at every step of the run, what reached each scripted cell (a question
inject, a partner's alert change, a consultation message) and what its own node did (its first alert of a
launch, a launch placed in its launch book), and answers after the delays of the MSEL's ``players`` section
(:class:`mwx.ttx.msel.ScriptedCell`; ``None``: never).  Reactions fall due in scenario time and are carried
out at the first step at or after it, in the order they fell due (ties by when they were scheduled), so a
headless exercise repeats exactly with the same MSEL and seed.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING

from mwx.exchange.messages import OperatorNote
from mwx.ttx.desk import AnswerRequest, NoteRequest, WarningRequest
from mwx.ttx.msel import ScriptedCell

if TYPE_CHECKING:
    from mwx.node.node import PartnerNode

#: A reaction: carried out with the scenario time it falls due at.
Reaction = Callable[[float], None]


@dataclass(order=True)
class _Due:
    time: float
    order: int
    reaction: Reaction = field(compare=False)


class ScriptedPlayers:
    """The scripted cells of an exercise.  ``do(cell, request, t)`` carries out a cell's request at scenario time
    ``t`` (the exercise control's: the path a person's request takes too); ``acknowledge(cell, msg_id, t)``
    acknowledges a partner's alert change."""

    def __init__(
        self,
        scripts: Mapping[str, ScriptedCell],
        do: Callable[[str, NoteRequest | WarningRequest | AnswerRequest, float], None],
        acknowledge: Callable[[str, str, float], None],
        assessment: Callable[[str], str],
    ) -> None:
        """``assessment``: a cell's assessment as text, from its picture (what it shares when asked)."""
        self.scripts = dict(scripts)
        self._do, self._acknowledge, self._assessment = do, acknowledge, assessment
        self._queue: list[_Due] = []
        self._order = 0
        self._seen_alerts: dict[str, int] = {cell: 0 for cell in scripts}  # received alert changes looked at
        self._alerted: dict[str, set[str]] = {cell: set() for cell in scripts}  # launches with an own alert
        self._warned: dict[str, set[str]] = {cell: set() for cell in scripts}  # areas publicly warned for
        self._launches: dict[str, set[str]] = {cell: set() for cell in scripts}  # launches confirmed

    def __contains__(self, cell: str) -> bool:
        return cell in self.scripts

    # ------------------------------------------------------------------ what reaches a cell
    def question(self, cell: str, inject_id: str, t: float) -> None:
        """A question inject reached ``cell``: it answers after ``answer_s``."""
        if cell in self:
            text = f"{cell}: inject {inject_id} received; acting on it according to our procedures."
            self._later(cell, self.scripts[cell].answer_s, t, AnswerRequest(inject_id=inject_id, text=text))

    def note(self, cell: str, msg_id: str, note: OperatorNote, t: float) -> None:
        """A partner's consultation message reached ``cell``: a request is answered with its assessment
        (``share_s``), a shared assessment concurred with (``concur_s``)."""
        if cell not in self or (note.to and cell not in note.to):
            return
        script = self.scripts[cell]
        if note.act == "request":
            self._after(script.share_s, t, lambda now: self._share(cell, note.event_id, msg_id, now))
        elif note.act == "share":
            text = f"{cell} concurs with {note.sender}'s assessment."
            self._later(
                cell, script.concur_s, t, NoteRequest(act="concur", topic=note.event_id, text=text, in_reply_to=msg_id)
            )

    # ------------------------------------------------------------------ a step of the run
    def watch(self, nodes: Mapping[str, PartnerNode], received: Mapping[str, Mapping[str, object]], t: float) -> None:
        """At a step: each scripted cell's new partner alert changes (``received``: keyed by their envelope ids,
        in arrival order: the feeds' own, looked at only past what was seen), its own new alerts and launches;
        reactions scheduled."""
        for cell, script in self.scripts.items():
            node = nodes[cell]
            ids = received.get(cell, {})
            if len(ids) > self._seen_alerts[cell]:
                for msg_id in islice(ids, self._seen_alerts[cell], None):
                    self._after(script.acknowledge_s, t, _acknowledging(self._acknowledge, cell, msg_id))
                self._seen_alerts[cell] = len(ids)
            for alert in list(node.alerts.alerts.values()):
                if alert.launch_id not in self._alerted[cell]:
                    self._alerted[cell].add(alert.launch_id)
                    text = f"{cell} requests the partners' assessment of launch {alert.launch_id}."
                    self._later(cell, script.request_s, t, NoteRequest(act="request", topic=alert.launch_id, text=text))
                if alert.area.kind == "territory" and alert.area.name not in self._warned[cell]:
                    self._warned[cell].add(alert.area.name)
                    text = f"Missile launch: take shelter in {alert.area.name} now. EXERCISE."
                    self._later(
                        cell, script.warn_s, t, WarningRequest(status="issued", area=alert.area.name, text=text)
                    )
            for launch_id in sorted(node.launches.launches):
                if launch_id not in self._launches[cell]:
                    self._launches[cell].add(launch_id)
                    text = f"{cell} confirms launch {launch_id}."
                    self._later(cell, script.confirm_s, t, NoteRequest(act="confirm", topic=launch_id, text=text))

    def due(self, t: float) -> None:
        """Carry out every reaction due by ``t``, in order."""
        while self._queue and self._queue[0].time <= t:
            item = heapq.heappop(self._queue)
            item.reaction(item.time)

    # ------------------------------------------------------------------ inside
    def _later(
        self, cell: str, delay: float | None, t: float, request: NoteRequest | WarningRequest | AnswerRequest
    ) -> None:
        do = self._do
        self._after(delay, t, lambda now: do(cell, request, now))

    def _after(self, delay: float | None, t: float, reaction: Reaction) -> None:
        if delay is None or not math.isfinite(delay):
            return
        self._order += 1
        heapq.heappush(self._queue, _Due(t + delay, self._order, reaction))

    def _share(self, cell: str, topic: str, msg_id: str, now: float) -> None:
        text = self._assessment(cell)
        self._do(cell, NoteRequest(act="share", topic=topic, text=text, in_reply_to=msg_id), now)


def _acknowledging(acknowledge: Callable[[str, str, float], None], cell: str, msg_id: str) -> Reaction:
    return lambda now: acknowledge(cell, msg_id, now)
