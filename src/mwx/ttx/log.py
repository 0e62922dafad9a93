"""What happened in an exercise, as typed records: the journal's entries and ``exercise.json``.

Every entry says when it took effect (``time``: scenario time, UTC — the exercise clock, which the facilitator
pauses and speeds up) and who did it (``by``: a cell's code, ``white`` for the facilitator, ``eval`` for an
evaluator, ``system`` for exercise control).  ``source`` says whether a person did it at a console or a
scripted cell (:mod:`mwx.ttx.players`) did.  The system's own timestamps (a launch, its first detection, the
first track the exchange carried, each alert) are :class:`SystemMark` s, taken from the run at its end.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from mwx.exchange.messages import ConsultAct
from mwx.records import UtcTime

Role = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2,8}$", description="a cell's code, white, eval or system")]
Text = Annotated[str, msgspec.Meta(max_length=2000)]
Rating = Literal["P", "S", "M", "U"]
Source = Literal["console", "script"]
#: HSEEP's ratings, in words.
RATING_WORDS: dict[str, str] = {
    "P": "performed without challenges",
    "S": "performed with some challenges",
    "M": "performed with major challenges",
    "U": "unable to be performed",
}


class Entry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, tag_field="type"):
    """Common fields: when it took effect, who did it, whether a person or a script did."""

    time: UtcTime
    by: Role
    source: Source = "console"


class InjectDelivered(Entry, tag="inject", kw_only=True):
    """Exercise control delivered (a discussion inject) or carried out (a technical one) inject ``inject_id``."""

    inject_id: str
    module: str
    kind: str
    to: list[str]
    text: Text | None = None
    expected_action: Text | None = None


class Acknowledged(Entry, tag="ack", kw_only=True):
    """A cell acknowledged a partner's alert change (the envelope ``msg_id`` it came in)."""

    msg_id: str
    alert_id: str | None = None
    sender: str | None = None


class Consulted(Entry, tag="note", kw_only=True):
    """A cell's message on the consultation channel (an :class:`~mwx.exchange.messages.OperatorNote` sent
    over the exchange in envelope ``msg_id``): ``topic`` is the launch event or consultation it is about,
    ``to`` whom it asks (empty: every partner)."""

    act: ConsultAct
    topic: str
    text: Text
    to: list[str] = []
    in_reply_to: str | None = None
    msg_id: str | None = None


class NoteReceived(Entry, tag="received", kw_only=True):
    """A cell's node accepted a partner's consultation message (``by`` is the receiving cell)."""

    sender: str
    msg_id: str
    act: ConsultAct
    topic: str
    text: Text
    in_reply_to: str | None = None


class PublicWarning(Entry, tag="warning", kw_only=True):
    """A cell's public warning (CAP 1.2, status Exercise): drafted, issued, or the all-clear that ends it."""

    warning_id: str
    status: Literal["draft", "issued", "all-clear"]
    area: str
    text: Text
    cap_file: str | None = None


class Answered(Entry, tag="answer", kw_only=True):
    """A cell answered inject ``inject_id``'s question (to exercise control)."""

    inject_id: str
    text: Text


class Control(Entry, tag="control", kw_only=True):
    """The facilitator's clock: started, paused, resumed, jumped to the next inject, changed speed; ended."""

    action: Literal["start", "pause", "resume", "next", "speed", "end"]
    speed: float | None = None
    jumped_to: UtcTime | None = None


class Rated(Entry, tag="rating", kw_only=True):
    """An evaluator confirmed or overrode the proposed rating of ``capability``, with an observation."""

    capability: str
    rating: Rating
    observation: Text


class PlanItem(Entry, tag="plan", kw_only=True):
    """A row of the improvement plan, filled in by an evaluator."""

    item_id: str
    capability: str
    issue: Text
    corrective_action: Text
    owner: Text
    due: Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")]


Action = (
    InjectDelivered | Acknowledged | Consulted | NoteReceived | PublicWarning | Answered | Control | Rated | PlanItem
)


class JournalLine(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One line of the journal: an entry, and the run's step at which it took effect (``step``: the number of
    the run's step hooks called before it, so a resumed run carries it out at the same point)."""

    step: int
    entry: Action


class SystemMark(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A timestamp of the technical system: ``kind`` of ``launch`` (the MSEL's launch id) by ``partner``."""

    time: UtcTime
    kind: Literal[
        "launch", "first_detection", "first_shared_track", "first_alert", "alert_ended", "impact", "last_alert_ended"
    ]
    launch: str
    partner: str | None = None
    detail: str = ""


class TaskResult(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """How a critical task went: done at ``done_at`` (None: not done), ``elapsed_s`` from its reference."""

    task: str
    text: str
    measure: str
    cell: str | None
    target_s: float
    reference_time: UtcTime | None
    done_at: UtcTime | None
    elapsed_s: float | None
    status: Literal["met", "late", "missed", "not-applicable"]
    evidence: str


class CapabilityRating(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A capability's proposed rating from its tasks, and the evaluator's (None until one rates it)."""

    capability: str
    name: str
    proposed: Rating
    reason: str
    tasks: list[TaskResult]
    rating: Rating | None = None
    observation: str | None = None
    rated_by: str | None = None

    @property
    def final(self) -> Rating:
        return self.rating or self.proposed


class ExerciseLog(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``exercise.json``: the whole exercise as it happened, and its evaluation."""

    name: str
    title: str | None
    start: UtcTime
    end: UtcTime
    seed: int
    cells: list[str]
    actions: list[Action]
    marks: list[SystemMark]
    evaluation: list[CapabilityRating] = []
    plan: list[PlanItem] = []
    exercise: Literal[True] = True
