"""An exercise judged against its critical tasks: the system's own marks, each task's time, proposed ratings.

Three steps, each a pure function of its inputs (the same log gives the same ratings, byte for byte):

* :func:`marks_of` — the technical system's own timestamps from a finished run (:class:`SystemMark`): per
  scenario launch (the MSEL's launch id; a salvo's members under their launch's id) its ``launch`` and last
  ``impact``, and per partner its ``first_detection``, ``first_shared_track``, ``first_alert``, each
  ``alert_ended`` and ``last_alert_ended``.  Tracks and alerts are attributed to the truth by the run's
  own evaluation (:func:`mwx.exercise.evaluation.truth_of`, :func:`~mwx.exercise.evaluation.alert_truth`),
  the same matching that fills ``events.json`` and ``alerts.json`` with truth ids.
* :func:`evaluate` — per capability of the MSEL, per critical task: its reference time, the first
  qualifying event at or after it, the time between (``elapsed_s``) against the task's target, and the
  capability's **proposed rating**; then the evaluators' ratings (:class:`~mwx.ttx.log.Rated`) over it.
* :func:`plan_of` — the improvement plan the evaluators wrote (:class:`~mwx.ttx.log.PlanItem`).

A task's **reference** (``from``): a launch's ``launch`` mark, an inject's delivery (its
:class:`~mwx.ttx.log.InjectDelivered` entry) or STARTEX (neither).  A reference that never happened makes
the task ``not-applicable``.  The task is **done** at the first qualifying event at or after the
reference, by the task's cell (``cell`` None: by anyone):

======================= =========================================================================
measure                 qualifying event
======================= =========================================================================
first_detection         the ``first_detection`` mark of the task's launch (the cell's partner)
first_shared_track      the ``first_shared_track`` mark of the task's launch
first_alert             the ``first_alert`` mark of the task's launch
all_clear               the cell's ``last_alert_ended`` mark of the launch, or its all-clear
                        :class:`~mwx.ttx.log.PublicWarning`; with no cell: the last partner's
                        ``last_alert_ended`` (every alert of the launch over), or anyone's all-clear
alert_acknowledged      an :class:`~mwx.ttx.log.Acknowledged`
consultation_opened     a :class:`~mwx.ttx.log.Consulted` with act ``request``
assessment_shared       ... act ``share``
assessment_agreed       ... act ``concur`` or ``decision``
launch_confirmed        ... act ``confirm`` or ``dispute``
public_warning          a :class:`~mwx.ttx.log.PublicWarning` with status ``issued``
inject_answered         an :class:`~mwx.ttx.log.Answered` of the inject ``from.inject`` (any, without one)
======================= =========================================================================

The task's launch, for the mark measures, is ``from.launch``, else the launch of ``from.inject`` where that
is a launch inject (its ``launch.id``, else its own id); with neither, a mark of any launch counts.

**Status**: ``met`` (done, ``elapsed_s`` ≤ ``target_s``), ``late`` (done after the target), ``missed``
(not done).  With ``end`` (the evaluation taken while the exercise runs, Unix s) only what happened by
``end`` counts, and a task not done whose target has not yet elapsed is ``not-applicable`` ("not yet
due") rather than missed.

**Proposed rating** (the rule; HSEEP's P/S/M/U, :data:`~mwx.ttx.log.RATING_WORDS`), over the applicable
tasks (every status but ``not-applicable``):

* **P** — every task met;
* **S** — none missed, and every late one done within twice its target;
* **M** — a task missed, or one done later than twice its target;
* **U** — more than half of the tasks missed;
* a capability with no applicable task (nothing to measure: its references never happened) is proposed
  **P** with the reason "Nothing to measure: …", for an evaluator to confirm or override.

The ``reason`` is one sentence naming each task not met with its numbers (``C3.1: JP did not answer inject
I5 (target 180 s)``, ``C1.2: first shared track 95 s after L1's launch (target 60 s)``).  An evaluator's
latest :class:`~mwx.ttx.log.Rated` entry for a capability (whenever it came: ratings are given after play)
sets its ``rating``, ``observation`` and ``rated_by``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NamedTuple

from mwx import records
from mwx.ttx.log import (
    Acknowledged,
    Action,
    Answered,
    CapabilityRating,
    Consulted,
    InjectDelivered,
    PlanItem,
    PublicWarning,
    Rated,
    Rating,
    SystemMark,
    TaskResult,
)
from mwx.ttx.msel import Msel, Task

if TYPE_CHECKING:  # the run's machinery is imported where marks are taken: evaluating and reporting need none of it
    from mwx.exercise.run import RunResult
    from mwx.sim.truth import TruthLaunch
    from mwx.warn.alerts import Alert

__all__ = ["LATE_FACTOR", "clock", "evaluate", "exercise_time", "launch_of_inject", "marks_of", "plan_of", "propose"]

#: A late task done within this many times its target leaves a capability at S; later is M.
LATE_FACTOR = 2.0

#: The order of marks at the same instant: the flight's course.
_KIND_ORDER = {
    k: i
    for i, k in enumerate(
        ["launch", "first_detection", "first_shared_track", "first_alert", "alert_ended", "last_alert_ended", "impact"]
    )
}


# ----------------------------------------------------------------------------------------------- times
def exercise_time(t: float, start: float) -> str:
    """Exercise time of Unix time ``t`` [s]: ``T+MM:SS`` from STARTEX ``start`` [Unix s] (minutes not capped at
    59; ``T-MM:SS`` before STARTEX), to the whole second."""
    offset = round(t - start)
    sign = "-" if offset < 0 else "+"
    minutes, seconds = divmod(abs(offset), 60)
    return f"T{sign}{minutes:02d}:{seconds:02d}"


def clock(t: float) -> str:
    """Unix time ``t`` [s] as UTC ``YYYY-MM-DD HH:MM:SSZ`` (to the second; no local time anywhere)."""
    return datetime.fromtimestamp(round(t), UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _s(value: float) -> str:
    """Seconds for a sentence: whole seconds, one decimal where it matters (``95``, ``12.5``)."""
    return f"{round(value, 1):g}" if abs(value) < 1e5 else f"{value:.0f}"


# ----------------------------------------------------------------------------------------------- marks
def launch_of_inject(inject_id: str, launch_id: str | None) -> str:
    """The launch id of an MSEL launch inject: its ``launch.id`` (``launch_id``), else its own id."""
    return launch_id or inject_id


def _scenario_launch_ids(result: RunResult) -> dict[str, str]:
    """Truth missile id (``L2``, ``L2.2``, …) → the id of the scenario launch it belongs to (``L2``)."""
    launches = result.scenario.launches
    return {t.missile.id: launches[t.missile.launch_index].id or f"L{t.missile.launch_index + 1}" for t in result.truth}


def _flight_marks(result: RunResult, launch_of: dict[str, str]) -> list[SystemMark]:
    """Per scenario launch: its first missile's launch and its last impact."""
    grouped: dict[str, list[TruthLaunch]] = defaultdict(list)
    for t in result.truth:
        grouped[launch_of[t.missile.id]].append(t)
    out = []
    for launch, flights in grouped.items():
        first = min(flights, key=lambda f: (f.launch_time, f.missile.id))
        last = max(flights, key=lambda f: (f.impact_time, f.missile.id))
        what = f"{len(flights)} missiles" if len(flights) > 1 else first.missile.id
        out.append(SystemMark(time=records.utc(first.launch_time), kind="launch", launch=launch, detail=what))
        out.append(SystemMark(time=records.utc(last.impact_time), kind="impact", launch=launch, detail=last.missile.id))
    return out


def _track_marks(result: RunResult, launch_of: dict[str, str]) -> list[SystemMark]:
    """Per partner and launch: its first detection and its first published (so sent) track; and the first
    track of the launch the exchange carried from anyone (partner None).

    A partner's own track belongs to the launch whose truth object is nearest its first published state
    (:func:`mwx.exercise.evaluation.truth_of`, within ``MATCH_KM``: a spurious track, whose reports have no
    truth object, belongs to none).  ``first_detection`` is the track's first detection (its first
    measurement, as its reports say); ``first_shared_track`` the time of the first state it published: every
    published own track state is sent to the exchange at once.
    """
    from mwx.exercise import evaluation as run_evaluation
    from mwx.exercise.run import FUSED

    detection: dict[tuple[str, str], tuple[float, str]] = {}
    shared: dict[tuple[str, str], tuple[float, str]] = {}
    for (partner, track_id), h in sorted(result.log.histories().items()):
        if partner == FUSED:
            continue
        truth_id = run_evaluation.truth_of(result, float(h.t[0]), h.x[0])
        if truth_id is None:
            continue
        key = (launch_of[truth_id], partner)
        detection[key] = min(detection.get(key, (math.inf, "")), (float(h.first_detection), track_id))
        shared[key] = min(shared.get(key, (math.inf, "")), (float(h.t[0]), track_id))
    out = []
    for (launch, partner), (t, track_id) in detection.items():
        out.append(
            SystemMark(time=records.utc(t), kind="first_detection", launch=launch, partner=partner, detail=track_id)
        )
    anyone: dict[str, tuple[float, str]] = {}
    for (launch, partner), (t, track_id) in shared.items():
        out.append(
            SystemMark(time=records.utc(t), kind="first_shared_track", launch=launch, partner=partner, detail=track_id)
        )
        anyone[launch] = min(anyone.get(launch, (math.inf, "")), (t, track_id))
    for launch, (t, track_id) in anyone.items():
        out.append(SystemMark(time=records.utc(t), kind="first_shared_track", launch=launch, detail=track_id))
    return out


def _alert_end(alert: Alert) -> tuple[float, str] | None:
    """When and how an alert ended (its first ``ended`` or ``cancelled`` change) [Unix s], None if it stands."""
    from mwx.warn.alerts import OVER

    for change in alert.history:
        if change["status"] in OVER:
            return float(change["time"]), str(change["status"])
    return None


def _alert_marks(result: RunResult, launch_of: dict[str, str]) -> list[SystemMark]:
    """Per partner and launch: its first alert, each alert's end and when all its alerts of the launch had ended.

    A partner's alert belongs to the scenario launch of the truth launch most of its threat's tracks began on
    (:func:`mwx.exercise.evaluation.alert_truth`, as ``alerts.json`` says): the partner's launch-book id
    names its own picture of the threat, not the scenario's launch.  An alert of no true launch (clutter)
    belongs to none.
    """
    from mwx.exercise import evaluation as run_evaluation

    histories = result.log.histories()
    out = []
    for partner in result.partners:
        by_launch: dict[str, list[Alert]] = defaultdict(list)
        truth_of_threat: dict[str, str | None] = {}
        for alert in result.pictures[partner].alerts:
            if alert.launch_id not in truth_of_threat:
                truth_of_threat[alert.launch_id] = run_evaluation.alert_truth(
                    result, histories, partner, alert.launch_id
                )
            truth_id = truth_of_threat[alert.launch_id]
            if truth_id is not None and alert.history:
                by_launch[launch_of[truth_id]].append(alert)
        for launch, alerts in by_launch.items():
            out += _partner_alert_marks(partner, launch, alerts)
    return out


def _partner_alert_marks(partner: str, launch: str, alerts: list[Alert]) -> list[SystemMark]:
    """One partner's alert marks of one launch (its alerts in issue order)."""
    first = min(alerts, key=lambda a: (float(a.history[0]["time"]), a.alert_id))
    out = [
        SystemMark(
            time=records.utc(float(first.history[0]["time"])),
            kind="first_alert",
            launch=launch,
            partner=partner,
            detail=f"{first.alert_id} ({first.area.name})",
        )
    ]
    ends = []
    for alert in alerts:
        end = _alert_end(alert)
        if end is None:
            continue
        ends.append(end[0])
        detail = f"{alert.alert_id} ({alert.area.name}) {end[1]}"
        out.append(
            SystemMark(time=records.utc(end[0]), kind="alert_ended", launch=launch, partner=partner, detail=detail)
        )
    if len(ends) == len(alerts):
        out.append(
            SystemMark(
                time=records.utc(max(ends)),
                kind="last_alert_ended",
                launch=launch,
                partner=partner,
                detail=f"{len(alerts)} alert(s)",
            )
        )
    return out


def _mark_key(mark: SystemMark) -> tuple[datetime, int, str, str, str]:
    return (mark.time, _KIND_ORDER[mark.kind], mark.launch, mark.partner or "", mark.detail)


def marks_of(result: RunResult) -> list[SystemMark]:
    """The technical system's own timestamps of a finished run, per scenario launch, in time order.

    ``launch`` (its first missile's true launch) and ``impact`` (its last missile's); per partner
    ``first_detection``, ``first_shared_track`` (and with partner None the first of anyone's),
    ``first_alert``, ``alert_ended`` (one per alert that ended) and ``last_alert_ended`` (when every alert
    the partner had for the launch had ended).  Times to the millisecond; marks at the same instant in the
    flight's order, then by launch, partner and detail, so the list is deterministic.
    """
    launch_of = _scenario_launch_ids(result)
    marks = _flight_marks(result, launch_of) + _track_marks(result, launch_of) + _alert_marks(result, launch_of)
    return sorted(marks, key=_mark_key)


# ----------------------------------------------------------------------------------------------- tasks
class _Done(NamedTuple):
    """A qualifying event: when [Unix s] and what, in words."""

    time: float
    what: str


class _Reference(NamedTuple):
    """A task's reference: when [Unix s] (None: it never happened), and in words."""

    time: float | None
    words: str


#: Per measure: (what it is, as a noun, for "X's <noun> 95 s after …"; the verb for "did not <verb>";
#: the same in the past tense, for "no cell <verb>").  ``{launch}`` is the task's launch, in words.
_WORDS: dict[str, tuple[str, str, str]] = {
    "first_detection": ("first detection", "detect {launch}", "detected {launch}"),
    "first_shared_track": ("first shared track", "share a track of {launch}", "shared a track of {launch}"),
    "first_alert": ("first alert", "alert for {launch}", "alerted for {launch}"),
    "all_clear": ("all-clear", "end its alerts for {launch}", "ended its alerts for {launch}"),
    "alert_acknowledged": ("acknowledgement", "acknowledge an alert", "acknowledged an alert"),
    "consultation_opened": ("consultation request", "open a consultation", "opened a consultation"),
    "assessment_shared": ("shared assessment", "share an assessment", "shared an assessment"),
    "assessment_agreed": ("concurrence or decision", "concur or decide", "concurred or decided"),
    "launch_confirmed": ("confirmation", "confirm or dispute the launch", "confirmed or disputed the launch"),
    "public_warning": ("public warning", "issue a public warning", "issued a public warning"),
    "inject_answered": ("answer", "answer {inject}", "answered {inject}"),
}
_CONSULT_ACTS: dict[str, frozenset[str]] = {
    "consultation_opened": frozenset({"request"}),
    "assessment_shared": frozenset({"share"}),
    "assessment_agreed": frozenset({"concur", "decision"}),
    "launch_confirmed": frozenset({"confirm", "dispute"}),
}
_MARK_MEASURES = frozenset({"first_detection", "first_shared_track", "first_alert"})


def _unix(t: datetime) -> float:
    return t.timestamp()


def _launch_injects(msel: Msel) -> dict[str, str]:
    """Inject id → launch id, for the MSEL's launch injects."""
    return {
        inject.id: launch_of_inject(inject.id, inject.launch.id if inject.launch else None)
        for module in msel.modules
        for inject in module.injects
        if inject.kind == "launch"
    }


def _task_launch(task: Task, msel: Msel) -> str | None:
    """The launch a task's marks must be of: ``from.launch``, else the launch of ``from.inject`` (a launch inject)."""
    if task.reference.launch is not None:
        return task.reference.launch
    return _launch_injects(msel).get(task.reference.inject or "")


def _reference_words(task: Task) -> str:
    """A task's reference in words: ``L1's launch``, ``inject I5``, ``STARTEX``."""
    ref = task.reference
    if ref.launch is not None:
        return f"{ref.launch}'s launch"
    if ref.inject is not None:
        return f"inject {ref.inject}"
    return "STARTEX"


def _reference(task: Task, msel: Msel, actions: Sequence[Action], marks: Sequence[SystemMark]) -> _Reference:
    """When a task's time starts: its launch's ``launch`` mark, its inject's (first) delivery, or STARTEX."""
    ref, words = task.reference, _reference_words(task)
    if ref.launch is not None:
        times = [_unix(m.time) for m in marks if m.kind == "launch" and m.launch == ref.launch]
        return _Reference(min(times, default=None), words)
    if ref.inject is not None:
        times = [_unix(a.time) for a in actions if isinstance(a, InjectDelivered) and a.inject_id == ref.inject]
        return _Reference(min(times, default=None), words)
    return _Reference(msel.t_start, words)


def _by(cell: str | None, who: str | None) -> bool:
    """Whether ``who`` (an entry's ``by``, a mark's partner) counts for a task of ``cell`` (None: anyone)."""
    return cell is None or who == cell


def _mark_events(task: Task, launch: str | None, marks: Sequence[SystemMark]) -> list[_Done]:
    """The marks that do a mark measure (first_detection, first_shared_track, first_alert) of the task's launch."""
    out = []
    for m in marks:
        if m.kind != task.measure or (launch is not None and m.launch != launch):
            continue
        if task.measure == "first_detection" and m.partner is None:
            continue
        if _by(task.cell, m.partner):
            who = f"{m.partner}'s " if m.partner else ""
            out.append(_Done(_unix(m.time), f"{who}{_WORDS[task.measure][0]} of {m.launch} ({m.detail})"))
    return out


def _all_clear_events(
    task: Task, launch: str | None, actions: Sequence[Action], marks: Sequence[SystemMark]
) -> list[_Done]:
    """The cell's alerts of the launch all over, or its all-clear warning (no cell: everyone's alerts over)."""
    ended = [m for m in marks if m.kind == "last_alert_ended" and (launch is None or m.launch == launch)]
    out = [
        _Done(_unix(m.time), f"{m.partner}'s alerts for {m.launch} all ended")
        for m in ended
        if task.cell is not None and m.partner == task.cell
    ]
    if task.cell is None and ended:
        # Every partner that alerted has ended its alerts: the latest of their ends, per launch.
        per_launch: dict[str, float] = {}
        for m in ended:
            per_launch[m.launch] = max(per_launch.get(m.launch, -math.inf), _unix(m.time))
        out += [_Done(t, f"every partner's alerts for {name} ended") for name, t in sorted(per_launch.items())]
    out += [
        _Done(_unix(a.time), f"{a.by}'s all-clear {a.warning_id} ({a.area})")
        for a in actions
        if isinstance(a, PublicWarning) and a.status == "all-clear" and _by(task.cell, a.by)
    ]
    return out


def _answers(task: Task, answer: Answered) -> bool:
    """Whether an answer is to the task's inject (any inject's, for a task without one)."""
    return task.reference.inject is None or answer.inject_id == task.reference.inject


def _action_events(task: Task, actions: Sequence[Action]) -> list[_Done]:
    """The players' actions that do an action measure."""
    out = []
    for a in actions:
        if not _by(task.cell, a.by):
            continue
        if task.measure == "alert_acknowledged" and isinstance(a, Acknowledged):
            out.append(_Done(_unix(a.time), f"{a.by} acknowledged {a.alert_id or a.msg_id}"))
        elif isinstance(a, Consulted) and a.act in _CONSULT_ACTS.get(task.measure, ()):
            out.append(_Done(_unix(a.time), f"{a.by}'s {a.act} on {a.topic}"))
        elif task.measure == "public_warning" and isinstance(a, PublicWarning) and a.status == "issued":
            out.append(_Done(_unix(a.time), f"{a.by} issued warning {a.warning_id} ({a.area})"))
        elif task.measure == "inject_answered" and isinstance(a, Answered) and _answers(task, a):
            out.append(_Done(_unix(a.time), f"{a.by} answered inject {a.inject_id}"))
    return out


def _events(task: Task, launch: str | None, actions: Sequence[Action], marks: Sequence[SystemMark]) -> list[_Done]:
    if task.measure in _MARK_MEASURES:
        return _mark_events(task, launch, marks)
    if task.measure == "all_clear":
        return _all_clear_events(task, launch, actions, marks)
    return _action_events(task, actions)


def _launch_words(launch: str | None) -> str:
    return launch if launch is not None else "the launch"


def _missed_words(task: Task, launch: str | None) -> str:
    """``JP did not answer inject I5`` / ``no cell answered inject I5``."""
    _, verb, past = _WORDS[task.measure]
    names = {"launch": _launch_words(launch), "inject": f"inject {task.reference.inject or '(any)'}"}
    if task.cell is None:
        return "no cell " + past.format(**names)
    return f"{task.cell} did not " + verb.format(**names)


def _late_words(task: Task, elapsed: float) -> str:
    """``JP's first alert 200 s after L1's launch`` / ``first shared track 95 s after L1's launch``."""
    who = f"{task.cell}'s " if task.cell else ""
    return f"{who}{_WORDS[task.measure][0]} {_s(elapsed)} s after {_reference_words(task)}"


def _not_happened(task: Task, *, yet: bool) -> str:
    """Why a task has nothing to measure: ``L1's launch did not happen``, ``inject I5 was not delivered``."""
    if task.reference.inject is not None and task.reference.launch is None:
        return f"inject {task.reference.inject} " + ("has not been delivered yet" if yet else "was not delivered")
    return f"{_reference_words(task)} " + ("has not happened yet" if yet else "did not happen")


def _task_result(
    task: Task, msel: Msel, actions: Sequence[Action], marks: Sequence[SystemMark], end: float | None
) -> TaskResult:
    ref = _reference(task, msel, actions, marks)
    launch = _task_launch(task, msel)

    def result(status: str, evidence: str, done: _Done | None = None) -> TaskResult:
        elapsed = None if done is None or ref.time is None else records.rounded(max(done.time - ref.time, 0.0))
        return TaskResult(
            task=task.id,
            text=task.text,
            measure=task.measure,
            cell=task.cell,
            target_s=task.target_s,
            reference_time=records.utc_or_none(ref.time),
            done_at=records.utc_or_none(done.time if done else None),
            elapsed_s=elapsed,
            status=status,  # type: ignore[arg-type]
            evidence=evidence,
        )

    if ref.time is None:
        return result("not-applicable", _not_happened(task, yet=False))
    if end is not None and ref.time > end:
        return result("not-applicable", _not_happened(task, yet=True))
    if end is not None and task.measure in _MARK_MEASURES | {"all_clear"}:
        # The system's own timestamps come from the run's records, which are complete only at its end.
        return result("not-applicable", "measured from the run's records at ENDEX")
    since = f"{ref.words} at {exercise_time(ref.time, msel.t_start)}"
    candidates = [
        (e.time, k, e) for k, e in enumerate(_events(task, launch, actions, marks)) if e.time >= ref.time - 1e-6
    ]
    candidates = [c for c in candidates if end is None or c[0] <= end]
    target = f"target {_s(task.target_s)} s"
    if not candidates:
        if end is not None and end < ref.time + task.target_s:
            return result("not-applicable", f"not yet due: from {since}, {target}")
        until = "the end" if end is None else exercise_time(end, msel.t_start)
        return result("missed", f"{_missed_words(task, launch)} from {since} to {until} ({target})")
    done = min(candidates)[2]
    elapsed = max(done.time - ref.time, 0.0)
    status = "met" if elapsed <= task.target_s else "late"
    evidence = f"{done.what} at {exercise_time(done.time, msel.t_start)}, {_s(elapsed)} s after {since} ({target})"
    return result(status, evidence, done)


def _not_met_words(task: Task, r: TaskResult, msel: Msel) -> str:
    """A task not met, with its numbers: ``C1.2: first shared track 95 s after L1's launch (target 60 s)``."""
    target = f"(target {_s(task.target_s)} s)"
    if r.elapsed_s is None:
        return f"{task.id}: {_missed_words(task, _task_launch(task, msel))} {target}"
    return f"{task.id}: {_late_words(task, r.elapsed_s)} {target}"


def propose(tasks: Sequence[Task], results: Sequence[TaskResult], msel: Msel) -> tuple[Rating, str]:
    """A capability's proposed rating from its tasks' results (in the same order), and the sentence that says
    why (the rule: the module docstring)."""
    pairs = [(t, r) for t, r in zip(tasks, results, strict=True) if r.status != "not-applicable"]
    if not pairs:
        why = "; ".join(f"{r.task}: {r.evidence}" for r in results)
        return "P", f"Nothing to measure: {why}."
    missed = [r for _, r in pairs if r.status == "missed"]
    late = [r for _, r in pairs if r.status == "late"]
    if not missed and not late:
        return "P", f"All {len(pairs)} task(s) met."
    reason = "; ".join(_not_met_words(t, r, msel) for t, r in pairs if r.status in ("missed", "late")) + "."
    if 2 * len(missed) > len(pairs):
        return "U", reason
    if missed or any(r.elapsed_s is not None and r.elapsed_s > LATE_FACTOR * r.target_s for r in late):
        return "M", reason
    return "S", reason


def _latest_ratings(actions: Sequence[Action]) -> dict[str, Rated]:
    """Per capability, the evaluators' latest rating (by time; the later entry of two at the same time)."""
    out: dict[str, Rated] = {}
    for a in actions:
        if isinstance(a, Rated) and (a.capability not in out or a.time >= out[a.capability].time):
            out[a.capability] = a
    return out


def evaluate(
    msel: Msel, actions: Sequence[Action], marks: Sequence[SystemMark], end: float | None = None
) -> list[CapabilityRating]:
    """Every capability of the MSEL judged: its tasks' results, its proposed rating and the evaluator's.

    ``actions``: the log's entries; ``marks``: the system's (:func:`marks_of`); ``end`` [Unix s]: the time
    the evaluation is taken at while the exercise runs (only what happened by then counts; tasks not yet
    due are ``not-applicable``), None after the exercise (everything the log holds counts).  See the module
    docstring for the rules.
    """
    rated = _latest_ratings(actions)
    out = []
    for capability in msel.capabilities:
        results = [_task_result(task, msel, actions, marks, end) for task in capability.tasks]
        proposed, reason = propose(capability.tasks, results, msel)
        rating = rated.get(capability.id)
        out.append(
            CapabilityRating(
                capability=capability.id,
                name=capability.name,
                proposed=proposed,
                reason=reason,
                tasks=results,
                rating=rating.rating if rating else None,
                observation=rating.observation if rating else None,
                rated_by=rating.by if rating else None,
            )
        )
    return out


# ----------------------------------------------------------------------------------------------- the plan
def plan_of(actions: Sequence[Action]) -> list[PlanItem]:
    """The improvement plan: per ``item_id`` its latest entry (the last in the log), in order of first appearance."""
    items: dict[str, PlanItem] = {}
    for a in actions:
        if isinstance(a, PlanItem):
            items[a.item_id] = a  # a dict keeps the first insertion's place when a key is replaced
    return list(items.values())
