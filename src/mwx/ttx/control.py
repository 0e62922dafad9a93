"""Exercise control: the MSEL's injects at their times, the players' actions carried out, the clock, the journal.

:class:`ExerciseControl` is the white cell's machinery.  The run (:mod:`mwx.ttx.session`) calls
:meth:`~ExerciseControl.step` after every step of the technical simulation, in its own thread; the pages
(:mod:`mwx.ttx.app`) call the :class:`~mwx.ttx.desk.ExerciseDesk` methods from the server's thread.  At a
step, in this order: the injects that fell due are delivered (a discussion inject to its addressees'
consoles, a technical one recorded as carried out: the scenario already holds it), the scripted cells react
(:mod:`mwx.ttx.players`), and the people's requests that came in meanwhile are carried out at the step's
scenario time.  While the run waits for the clock (:meth:`~ExerciseControl.idle`: paused, or ahead of real
time) requests are carried out at once, at the clock's time: the cells consult while the facilitator holds
the simulation still.

Every entry goes to the journal (:mod:`mwx.ttx.journal`) before it takes effect, with the number of the
step it follows.  The technical simulation is deterministic in the scenario's seed and in what is done to
it when, so a resumed exercise re-runs it from the start and carries out each journalled request after the
same step, at the same scenario time: the same envelopes, the same picture, nothing lost.  It then holds the
clock (paused) where the journal ends, for the facilitator to resume.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

import msgspec

from mwx import records
from mwx.exchange.messages import OperatorNote
from mwx.live.feed import impact_of
from mwx.live.operators import DeskClosed
from mwx.live.updates import AnswerUpdate, InjectUpdate, WarningUpdate
from mwx.ttx import msel as msel_
from mwx.ttx.desk import (
    AnswerRequest,
    ControlRequest,
    ExerciseState,
    InjectStatus,
    NoteRequest,
    PlanRequest,
    RatingRequest,
    WarningRequest,
)
from mwx.ttx.journal import Journal
from mwx.ttx.log import (
    Acknowledged,
    Action,
    Answered,
    CapabilityRating,
    Consulted,
    Control,
    ExerciseLog,
    InjectDelivered,
    JournalLine,
    NoteReceived,
    PlanItem,
    PublicWarning,
    Rated,
    Source,
    SystemMark,
)
from mwx.ttx.players import ScriptedPlayers

if TYPE_CHECKING:
    from mwx.geo.regions import ProtectedArea
    from mwx.live.feed import NodeFeed
    from mwx.live.pacing import Pacer
    from mwx.node.node import PartnerNode
    from mwx.warn.cap import CapReference

PlayerRequest = NoteRequest | WarningRequest | AnswerRequest
#: Entries a resumed exercise carries out again (a person's doing, at a console); the rest of what the
#: journal holds is either made again by the deterministic run (injects, scripted cells, notes received) or
#: restored as it stands (the clock, ratings, the plan).
_REDONE = (Acknowledged, Consulted, PublicWarning, Answered)
_RESTORED = (Control, Rated, PlanItem)
CAP_FOLDER = "cap"


def utc(t: float) -> datetime:
    return records.utc(t)


class ExerciseControl:
    """The exercise's control for ``msel`` with cells ``cells``; ``scripted``: the cells scripted players play
    (their MSEL ``players`` entry, or the defaults); ``journal``: where entries go; ``resume``: the lines of the
    journal of an exercise to resume; ``folder``: where public warnings are written as CAP files."""

    def __init__(
        self,
        msel: msel_.Msel,
        cells: Sequence[str],
        *,
        scripted: Iterable[str] = (),
        journal: Journal | None = None,
        resume: Sequence[JournalLine] = (),
        folder: Path | None = None,
    ) -> None:
        self.msel = msel
        self.cells = list(cells)
        self.timed = msel_.injects_in_order(msel)
        self.journal = journal
        self.folder = folder
        self.actions: list[Action] = []
        self.marks: list[SystemMark] = []
        self.evaluation: list[CapabilityRating] = []
        self._lock = threading.RLock()
        self._waiting: list[tuple[str, PlayerRequest | str]] = []  # (cell, request or an alert's envelope id)
        self._closed: str | None = "the exercise has not started"
        self._started = False
        self._finished = False
        self._step = 0
        self._next = 0  # the next inject of self.timed to deliver
        self._delivered: dict[str, float] = {}  # inject id → when
        self._warnings: dict[str, PublicWarning] = {}  # latest state of each public warning
        self._warning_count: dict[str, int] = {}
        self._cap_sent: dict[str, list[CapReference]] = {}  # per public warning, its CAP messages so far
        self._redo: dict[int, list[Action]] = {}
        self._resume_step = -1
        self._nodes: Mapping[str, PartnerNode] = {}
        self._feeds: Mapping[str, NodeFeed] = {}
        self._areas: dict[str, dict[str, ProtectedArea]] = {}
        #: Per cell, its feed's partner alert changes received (envelope id → alert), in arrival order.
        self._received_alerts: Mapping[str, Mapping[str, object]] = {}
        self.pacer: Pacer | None = None
        self._time = msel.t_start  # the run's scenario time: its latest step (deterministic, as is what uses it)
        #: Called after an evaluator's rating or plan item once the exercise has ended (the report re-written).
        self.on_evaluation: Callable[[], None] | None = None
        scripts = {cell: msel.players.get(cell, msel_.ScriptedCell()) for cell in scripted}
        self.players = ScriptedPlayers(scripts, self._perform, self._acknowledge_now, self._assessment)
        for line in resume:
            if isinstance(line.entry, Consulted) and line.entry.act == "warning":
                continue  # the note a public warning sends: made again with its warning
            if isinstance(line.entry, Control) and line.entry.action == "end" and line.entry.by == "system":
                continue  # ENDEX: the re-run reaches it again
            if isinstance(line.entry, _REDONE) and line.entry.source == "console":
                self._redo.setdefault(line.step, []).append(line.entry)
            elif isinstance(line.entry, _RESTORED):
                self.actions.append(line.entry)
                self._restore(line.entry)
        self._resume_step = max((line.step for line in resume), default=-1)
        #: Re-doing the journal: what happens is on disk already (until the clock is held where it ends).
        self._replaying = self._resume_step >= 0

    # ------------------------------------------------------------------ the run's side
    def attach(
        self,
        nodes: Mapping[str, PartnerNode],
        feeds: Mapping[str, NodeFeed],
        areas: Iterable[ProtectedArea],
        pacer: Pacer | None,
    ) -> None:
        """The run has begun: its nodes, their consoles' feeds, the protected areas, the clock (None: headless)."""
        self._nodes, self._feeds, self.pacer = nodes, feeds, pacer
        self._received_alerts = {cell: feeds[cell].received_changes for cell in self.cells if cell in feeds}
        for area in areas:
            self._areas.setdefault(area.partner, {})[area.name] = area
        for cell in self.cells:
            nodes[cell].on_note = self._note_received(cell)
        with self._lock:
            self._closed = None

    def begin(self, t: float) -> None:
        """The clock stands at STARTEX ``t``, before the run's first step: what the journal holds from before it
        (people's requests while the clock waited for the facilitator) is carried out again."""
        self._time = t
        self._deliver(t)  # STARTEX's own injects
        self._after_step(t)

    @property
    def resuming(self) -> bool:
        """Whether the run is still re-doing a journal (the clock is not the people's yet)."""
        return self._step < self._resume_step

    def step(self, t: float) -> None:
        """After a step of the run at scenario time ``t``: injects due, scripted cells, people's requests."""
        self._step += 1
        self._time = max(self._time, t)
        self._deliver(t)
        self.players.watch(self._nodes, self._received_alerts, t)
        self.players.due(t)
        if self._step > self._resume_step:  # a request made while a journal is re-done waits for its end
            self._take(t)
        self._after_step(t)

    def _after_step(self, t: float) -> None:
        """What the journal holds after this step (people's requests carried out while the run waited), again;
        where the journal ends, the clock held for the facilitator."""
        for entry in self._redo.pop(self._step, []):
            self._redo_entry(entry)
        if self._step == self._resume_step:
            self._replaying = False
            if self.pacer is not None:
                self.pacer.jump_to(t)  # caught up unpaced: the clock is where the journal ends, held there
                self.pacer.pause()
                self._record(Control(time=utc(t), by="system", source="script", action="pause"))

    def idle(self, t: float) -> None:
        """While the run waits for the clock: people's requests carried out at once, at the clock's time."""
        if not self.resuming:
            self._take(t)

    def finish(self, t: float) -> None:
        """ENDEX: nothing more is carried out."""
        with self._lock:
            self._closed = "the exercise has ended"
            self._finished = True
        self._record(Control(time=utc(t), by="system", source="script", action="end"))

    def conclude(self, marks: Sequence[SystemMark]) -> ExerciseLog:
        """The exercise log with the run's marks and the evaluation (:mod:`mwx.ttx.evaluation`)."""
        from mwx.ttx.evaluation import evaluate, plan_of

        with self._lock:
            self.marks = list(marks)
            actions = sorted(self.actions, key=lambda a: a.time)  # stable: same-time entries in their order
            self.evaluation = evaluate(self.msel, actions, self.marks)
            return ExerciseLog(
                name=self.msel.name,
                title=self.msel.title,
                start=utc(self.msel.t_start),
                end=utc(self.msel.t_end),
                seed=self.msel.seed,
                cells=self.cells,
                actions=actions,
                marks=self.marks,
                evaluation=self.evaluation,
                plan=plan_of(actions),
            )

    # ------------------------------------------------------------------ the pages' side (ExerciseDesk)
    def state(self) -> ExerciseState:
        from mwx.ttx.evaluation import evaluate, plan_of

        with self._lock:
            actions = list(self.actions)
            delivered = dict(self._delivered)
        clock: Literal["waiting", "running", "paused", "finished"]
        if self._finished:
            evaluation = self.evaluation or evaluate(self.msel, actions, self.marks)
            clock = "finished"
        else:  # what happened by now: a task whose target has not passed is not yet due
            evaluation = evaluate(self.msel, actions, self._launch_marks(), end=self._now())
            clock = "waiting" if not self._started else ("paused" if self.pacer and self.pacer.paused else "running")
        now = self.pacer.now() if self.pacer is not None else self.msel.t_start
        return ExerciseState(
            name=self.msel.name,
            title=self.msel.title,
            cells=self.cells,
            start=utc(self.msel.t_start),
            end=utc(self.msel.t_end),
            time=utc(min(max(now, self.msel.t_start), self.msel.t_end)),
            clock=clock,
            speed=self.pacer.speed if self.pacer is not None else 0.0,
            injects=[
                InjectStatus(
                    inject_id=timed.inject.id,
                    module=timed.module,
                    at=utc(timed.time),
                    kind=timed.inject.kind,
                    source=timed.inject.source,
                    to=list(timed.inject.to),
                    text=timed.inject.text,
                    expected_action=timed.inject.expected_action,
                    technical=timed.inject.kind in msel_.TECHNICAL_KINDS,
                    delivered=timed.inject.id in delivered,
                )
                for timed in self.timed
            ],
            actions=actions,
            evaluation=evaluation,
            plan=plan_of(actions),
        )

    def control(self, request: ControlRequest) -> None:
        """The facilitator's clock, at once (the run may be waiting on it)."""
        pacer = self.pacer
        if pacer is None or self._finished:
            raise DeskClosed(self._closed or "the exercise is not paced")
        if self.resuming:
            raise DeskClosed("the exercise is still catching up with its journal")
        now = pacer.now()
        jumped: float | None = None
        if request.action == "start":
            if self._started:
                raise ValueError("the exercise has started already")
            self._started = True
            pacer.resume()
        elif request.action == "pause":
            pacer.pause()
        elif request.action == "resume":
            self._started = True
            pacer.resume()
        elif request.action == "speed":
            if request.speed is None:
                raise ValueError("speed needs a value")
            pacer.set_speed(request.speed)
        elif request.action == "next":
            with self._lock:
                upcoming = [t.time for t in self.timed if t.inject.id not in self._delivered and t.time > now]
            if not upcoming:
                raise ValueError("no inject is left")
            jumped = upcoming[0]
            pacer.jump_to(jumped)
        elif request.action == "end":
            jumped = self.msel.t_end
            pacer.jump_to(jumped)
            pacer.resume()
        self._record(
            Control(
                time=utc(self._now()),
                by="white",
                action=request.action,
                speed=request.speed,
                jumped_to=None if jumped is None else utc(jumped),
            )
        )

    def acknowledge(self, partner: str, msg_id: str) -> None:
        """A cell's operator acknowledges a partner's alert change (the console's Acknowledge button)."""
        self._enqueue(partner, msg_id)

    def note(self, cell: str, request: NoteRequest) -> None:
        self._check_cell(cell)
        self._check_text(request.text)
        unknown = [p for p in request.to if p not in self.cells or p == cell]
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not another cell of this exercise")
        self._enqueue(cell, request)

    def warning(self, cell: str, request: WarningRequest) -> None:
        self._check_cell(cell)
        if request.area not in self._areas.get(cell, {}):
            known = ", ".join(sorted(self._areas.get(cell, {})))
            raise ValueError(f"{request.area!r} is not one of {cell}'s areas ({known})")
        self._check_text(request.text)
        current = None
        if request.warning_id is not None:
            with self._lock:
                current = self._warnings.get(request.warning_id)
            if current is None or current.by != cell:
                raise ValueError(f"{cell} has no public warning {request.warning_id!r}")
            if current.area != request.area:
                raise ValueError(f"warning {request.warning_id!r} is for {current.area}, not {request.area}")
        if request.status == "all-clear" and (current is None or current.status != "issued"):
            raise ValueError("an all-clear ends an issued public warning: name it (warning_id)")
        if request.status == "draft" and current is not None and current.status != "draft":
            raise ValueError(f"warning {request.warning_id!r} has gone out: it is no draft any more")
        self._enqueue(cell, request)

    def answer(self, cell: str, request: AnswerRequest) -> None:
        self._check_cell(cell)
        self._check_text(request.text)
        timed = next((t for t in self.timed if t.inject.id == request.inject_id), None)
        if timed is None or timed.inject.kind != "question" or not self._addressed(timed.inject, cell):
            raise ValueError(f"no question {request.inject_id!r} for {cell}")
        with self._lock:
            if request.inject_id not in self._delivered:
                raise ValueError(f"question {request.inject_id!r} has not been asked yet")
        self._enqueue(cell, request)

    def rate(self, evaluator: str, request: RatingRequest) -> None:
        if request.capability not in {c.id for c in self.msel.capabilities}:
            raise ValueError(f"no capability {request.capability!r}")
        self._record(
            Rated(
                time=utc(self._now()),
                by=evaluator,
                capability=request.capability,
                rating=request.rating,
                observation=request.observation,
            )
        )
        self._evaluation_changed()

    def plan(self, evaluator: str, request: PlanRequest) -> None:
        if request.capability not in {c.id for c in self.msel.capabilities}:
            raise ValueError(f"no capability {request.capability!r}")
        with self._lock:
            count = sum(1 for a in self.actions if isinstance(a, PlanItem))
        item = PlanItem(
            time=utc(self._now()),
            by=evaluator,
            item_id=request.item_id or f"IP-{count + 1}",
            capability=request.capability,
            issue=request.issue,
            corrective_action=request.corrective_action,
            owner=request.owner,
            due=request.due,
        )
        self._record(item)
        self._evaluation_changed()

    # ------------------------------------------------------------------ inside
    def _launch_marks(self) -> list[SystemMark]:
        """While the exercise runs: its launches' times as exercise control planned them (the run's marks come
        at its end)."""
        return [
            SystemMark(time=utc(t.time), kind="launch", launch=t.inject.launch.id or t.inject.id)
            for t in self.timed
            if t.inject.launch is not None and t.time <= self._now()
        ]

    def _now(self) -> float:
        """The exercise's time for the facilitator's and evaluators' entries: the clock's, within STARTEX..ENDEX
        (a clock run ahead of a lagging run, or past ENDEX while the run finishes, says ENDEX at most)."""
        if self.pacer is None or self._finished:
            return self.msel.t_end
        return min(max(self.pacer.now(), self.msel.t_start), self.msel.t_end)

    def _evaluation_changed(self) -> None:
        if self._finished:
            from mwx.ttx.evaluation import evaluate

            with self._lock:
                self.evaluation = evaluate(self.msel, sorted(self.actions, key=lambda a: a.time), self.marks)
            if self.on_evaluation is not None:
                self.on_evaluation()

    @staticmethod
    def _check_text(text: str) -> None:
        if not text.strip():
            raise ValueError("the text is blank")

    def _check_cell(self, cell: str) -> None:
        if cell not in self.cells:
            raise ValueError(f"{cell!r} is not a cell of this exercise")

    def _enqueue(self, cell: str, request: PlayerRequest | str) -> None:
        with self._lock:
            if self._closed is not None:
                raise DeskClosed(self._closed)
            self._waiting.append((cell, request))

    def _take(self, t: float) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting, []
        for cell, request in waiting:
            if isinstance(request, str):
                self._acknowledge_now(cell, request, t, source="console")
            else:
                self._perform(cell, request, t, source="console")

    def _record(self, entry: Action) -> None:
        """Journal an entry (on disk first), then keep it in the log."""
        with self._lock:
            if self.journal is not None and not self._replaying:
                self.journal.append(self._step, entry)
            self.actions.append(entry)

    def _restore(self, entry: Action) -> None:
        if isinstance(entry, Control) and entry.action in ("start", "resume"):
            self._started = True

    @staticmethod
    def _addressed(inject: msel_.Inject, cell: str) -> bool:
        return msel_.ALL in inject.to or cell in inject.to

    def _deliver(self, t: float) -> None:
        while self._next < len(self.timed) and self.timed[self._next].time <= t:
            timed = self.timed[self._next]
            self._next += 1
            inject = timed.inject
            to = [c for c in self.cells if self._addressed(inject, c)]
            entry = InjectDelivered(
                time=utc(timed.time),
                by="white",
                source="script",
                inject_id=inject.id,
                module=timed.module,
                kind=inject.kind,
                to=to if inject.kind in msel_.DISCUSSION_KINDS else [],
                text=inject.text,
                expected_action=inject.expected_action,
            )
            self._record(entry)
            with self._lock:
                self._delivered[inject.id] = timed.time
            if inject.kind not in msel_.DISCUSSION_KINDS:
                continue  # the scenario carries a technical inject out: the facilitator's log says it did
            for cell in to:
                feed = self._feeds.get(cell)
                if feed is not None:
                    feed.add(
                        InjectUpdate(
                            time=utc(timed.time),
                            inject_id=inject.id,
                            kind=cast(msel_.DiscussionKind, inject.kind),  # checked above: a discussion kind
                            source=inject.source,
                            text=inject.text or "",
                            question=inject.kind == "question",
                        )
                    )
                if inject.kind == "question":
                    self.players.question(cell, inject.id, timed.time)

    def _note_received(self, cell: str) -> Callable[[str, OperatorNote], None]:
        def received(msg_id: str, note: OperatorNote) -> None:
            entry = NoteReceived(
                time=utc(max(note.time, self._time)),  # held by a cut link: received when delivered
                by=cell,
                source="script",
                sender=note.sender,
                msg_id=msg_id,
                act=note.act,
                topic=note.event_id,
                text=note.text,
                in_reply_to=note.in_reply_to,
            )
            self._record(entry)
            self.players.note(cell, msg_id, note, note.time)

        return received

    def _acknowledge_now(self, cell: str, msg_id: str, t: float, source: Source = "script") -> None:
        feed = self._feeds.get(cell)
        known = feed.received_changes.get(msg_id) if feed is not None else None
        if feed is not None and known is None:
            return  # not an alert change this cell received: nothing to acknowledge
        entry = Acknowledged(
            time=utc(t),
            by=cell,
            source=source,
            msg_id=msg_id,
            alert_id=known[1] if known else None,
            sender=known[0] if known else None,
        )
        self._record(entry)
        self._nodes[cell].acknowledge(msg_id, t)

    def _perform(self, cell: str, request: PlayerRequest, t: float, source: Source = "script") -> None:
        """Carry out a cell's request at scenario time ``t``: over the exchange, to the console, in the log."""
        node = self._nodes[cell]
        feed = self._feeds.get(cell)
        if isinstance(request, NoteRequest):
            note = OperatorNote(
                sender=cell,
                time=t,
                event_id=request.topic,
                text=request.text,
                in_reply_to=request.in_reply_to,
                act=request.act,
                to=list(request.to),
            )
            entry = Consulted(
                time=utc(t),
                by=cell,
                source=source,
                act=request.act,
                topic=request.topic,
                text=request.text,
                to=list(request.to),
                in_reply_to=request.in_reply_to,
            )
            self._record(msgspec.structs.replace(entry, msg_id=node.next_msg_id()))
            node.consult(note)
        elif isinstance(request, WarningRequest):
            with self._lock:
                if request.warning_id is None:
                    self._warning_count[cell] = self._warning_count.get(cell, 0) + 1
                    warning_id = f"{cell}-W{self._warning_count[cell]}"
                else:
                    warning_id = request.warning_id
            cap_file = self._write_cap(cell, warning_id, request, t) if request.status != "draft" else None
            warning = PublicWarning(
                time=utc(t),
                by=cell,
                source=source,
                warning_id=warning_id,
                status=request.status,
                area=request.area,
                text=request.text,
                cap_file=cap_file,
            )
            self._record(warning)
            with self._lock:
                self._warnings[warning_id] = warning
            if feed is not None:
                feed.add(
                    WarningUpdate(
                        time=utc(t), warning_id=warning_id, status=request.status, area=request.area, text=request.text
                    )
                )
            if request.status != "draft":
                what = "issued a public warning" if request.status == "issued" else "gave the all-clear"
                text = f"{cell} {what} for {request.area}: {request.text}"[:2000]
                self._perform(cell, NoteRequest(act="warning", topic=warning_id, text=text), t, source)
        else:
            answer = Answered(time=utc(t), by=cell, source=source, inject_id=request.inject_id, text=request.text)
            self._record(answer)
            if feed is not None:
                feed.add(AnswerUpdate(time=utc(t), inject_id=request.inject_id, text=request.text))

    def _redo_entry(self, entry: Action) -> None:
        """Carry a journalled request out again, as it was (a resumed exercise), without journalling it twice."""
        journal, self.journal = self.journal, None
        try:
            t = entry.time.timestamp()
            if isinstance(entry, Acknowledged):
                self._acknowledge_now(entry.by, entry.msg_id, t, source="console")
            elif isinstance(entry, Consulted):
                request = NoteRequest(
                    act=entry.act, topic=entry.topic, text=entry.text, to=entry.to, in_reply_to=entry.in_reply_to
                )
                self._perform(entry.by, request, t, source="console")
            elif isinstance(entry, PublicWarning):
                redo = WarningRequest(
                    status=entry.status, area=entry.area, text=entry.text, warning_id=entry.warning_id
                )
                self._perform(entry.by, redo, t, source="console")
            elif isinstance(entry, Answered):
                self._perform(entry.by, AnswerRequest(inject_id=entry.inject_id, text=entry.text), t, "console")
        finally:
            self.journal = journal

    def _write_cap(self, cell: str, warning_id: str, request: WarningRequest, t: float) -> str | None:
        """The public warning as CAP 1.2 (status Exercise) in ``cap/``; its path in the exercise folder."""
        if self.folder is None:
            return None
        from mwx.warn.cap import CapAlert, cap_area, cap_file_name, cap_xml

        area = self._areas[cell][request.area]
        earlier = self._cap_sent.setdefault(warning_id, [])  # CAP §3.2.1: an update names every earlier message
        number = len(earlier) + 1
        alert = CapAlert(
            partner=cell,
            alert_id=warning_id,
            change_number=number,
            lifecycle="issued"
            if request.status == "issued" and number == 1
            else ("updated" if request.status == "issued" else "ended"),
            reason=self._reason(cell, request.area),
            area_kind=area.kind,
            sent_s=t,
            track_id="-",
            areas=(cap_area(area),),
            references=tuple(earlier),
            instruction=request.text,
        )
        folder = self.folder / CAP_FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / cap_file_name(alert)
        path.write_bytes(cap_xml(alert))
        earlier.append(alert.reference)
        return str(path.relative_to(self.folder))

    def _reason(self, cell: str, area: str) -> Literal["impact", "overflight"]:
        """The reason of the cell's latest alert for ``area`` (what the warning is about), else impact."""
        node = self._nodes.get(cell)
        alerts = [a for a in node.alerts.alerts.values() if a.area.name == area] if node is not None else []
        return "overflight" if alerts and alerts[-1].reason == "overflight" else "impact"

    def _assessment(self, cell: str) -> str:
        """A cell's assessment, from its picture: its launches and the impacts it predicts (a scripted share)."""
        node = self._nodes[cell]
        parts = []
        for prediction in list(node.alerts.predictions.values())[-3:]:
            impact = impact_of(prediction)
            if impact is not None:
                when = f" at {impact.time:%H:%M:%S}Z" if impact.time is not None else ""
                parts.append(
                    f"impact near {impact.point.lat:.2f}N {impact.point.lon:.2f}E{when} "
                    f"(95 % ellipse {impact.ellipse_95.semi_major_km:.0f} km)"
                )
        launches = len(node.launches.launches)
        return f"{cell} assessment: {launches} launch(es) in our picture" + (
            "; " + "; ".join(parts) if parts else "; no impact predicted yet"
        )
