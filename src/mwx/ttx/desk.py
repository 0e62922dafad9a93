"""What the exercise's pages hand to the run: the players', the facilitator's and the evaluators' requests.

The pages' HTTP handlers run in the server's thread; the exercise runs in its own.  An :class:`ExerciseDesk`
takes a request from the first and gives it to the second (:class:`mwx.ttx.control.ExerciseControl` queues
it and carries it out at the run's next step, at the scenario time the clock has reached), and answers what
the facilitator and the evaluators see (:class:`ExerciseState`).  The request bodies are typed records,
checked at the door: an unknown field, a wrong type or an empty text is a 422.
"""

from __future__ import annotations

from typing import Annotated, Literal, Protocol

import msgspec

from mwx.exchange.messages import ConsultAct, NoteText
from mwx.records import UtcTime
from mwx.ttx.log import Action, CapabilityRating, PlanItem, Rating

#: What a person writes: what the exchange carries as a note's text (1–2000 characters, no control characters
#: but tab and newline, no bidirectional overrides), so nothing accepted here is refused by the partners.
Text = NoteText
Cell = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2,8}$")]
RefId = Annotated[str, msgspec.Meta(pattern=r"^[!-~]{1,64}$")]


class _Request(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class NoteRequest(_Request):
    """A cell's message on the consultation channel (sent over the exchange to every partner)."""

    act: ConsultAct
    topic: RefId  # the launch event (from the cell's picture) or consultation it is about
    text: Text
    to: list[Cell] = []  # whom it asks; [] = every partner
    in_reply_to: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2,8}-[0-9]{1,19}$")] | None = None


class WarningRequest(_Request):
    """A cell drafts, issues or ends (all-clear) a public warning for one of its protected areas."""

    status: Literal["draft", "issued", "all-clear"]
    area: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]  # one of the cell's area names
    text: Text
    warning_id: RefId | None = None  # None: a new warning; else the one it changes


class AnswerRequest(_Request):
    """A cell's answer to an inject's question."""

    inject_id: RefId
    text: Text


class ControlRequest(_Request):
    """The facilitator's clock: start, pause, resume, jump to the next inject, set the speed, end the exercise."""

    action: Literal["start", "pause", "resume", "next", "speed", "end"]
    speed: Annotated[float, msgspec.Meta(gt=0.0, le=1000.0)] | None = None


class RatingRequest(_Request):
    """An evaluator confirms or overrides a capability's proposed rating, with an observation."""

    capability: RefId
    rating: Rating
    observation: Text


class PlanRequest(_Request):
    """An evaluator adds (or, with an existing ``item_id``, replaces) a row of the improvement plan."""

    capability: RefId
    issue: Text
    corrective_action: Text
    owner: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    due: Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    item_id: RefId | None = None


class InjectStatus(msgspec.Struct, kw_only=True):
    """An inject of the MSEL as the facilitator sees it: when it is due, and whether it went out."""

    inject_id: str
    module: str
    at: UtcTime
    kind: str
    source: str
    to: list[str]
    text: str | None
    expected_action: str | None
    technical: bool
    delivered: bool


class ExerciseState(msgspec.Struct, kw_only=True):
    """What the facilitator's and the evaluators' pages show: the clock, the MSEL's injects, everything done so
    far (newest last), the evaluation (proposed ratings from the marks so far) and the improvement plan."""

    name: str
    title: str | None
    cells: list[str]
    start: UtcTime
    end: UtcTime
    time: UtcTime
    clock: Literal["waiting", "running", "paused", "finished"]
    speed: float
    injects: list[InjectStatus]
    actions: list[Action]
    evaluation: list[CapabilityRating]
    plan: list[PlanItem]
    exercise: Literal[True] = True


class ExerciseDesk(Protocol):
    """Where the exercise's pages hand their requests.  Each raises
    :class:`~mwx.live.operators.DeskClosed` when the exercise is over (or not running) and ``ValueError`` with
    a one-line reason for a request that makes no sense now (an unknown inject, area or capability)."""

    def state(self) -> ExerciseState: ...

    def control(self, request: ControlRequest) -> None: ...

    def note(self, cell: str, request: NoteRequest) -> None: ...

    def warning(self, cell: str, request: WarningRequest) -> None: ...

    def answer(self, cell: str, request: AnswerRequest) -> None: ...

    def rate(self, evaluator: str, request: RatingRequest) -> None: ...

    def plan(self, evaluator: str, request: PlanRequest) -> None: ...
