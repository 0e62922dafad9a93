"""mwx.ttx.evaluation: each measure, met/late/missed, the proposed ratings, the evaluators' ratings, the plan; and
the system's marks of a real (small) run.

The MSELs are built here from the records (not parsed from YAML), with the actions and marks by hand: each test
says what happened and when, and checks what the evaluation makes of it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import msgspec
import pytest

from mwx.exchange.messages import ConsultAct
from mwx.sim.scenario import Point
from mwx.ttx.evaluation import evaluate, exercise_time, marks_of, plan_of
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
    SystemMark,
)
from mwx.ttx.msel import Capability, Inject, LaunchSpec, Measure, Module, Msel, Reference, Task

MarkKind = Literal[
    "launch", "first_detection", "first_shared_track", "first_alert", "alert_ended", "impact", "last_alert_ended"
]
START = datetime(2022, 10, 3, 22, 20, tzinfo=UTC)
L1_AT = 167.0  # the launch of L1 [s after STARTEX]
I5_AT = 360.0  # the question I5 reaches JP


def at(seconds: float) -> datetime:
    """STARTEX + ``seconds``."""
    return START + timedelta(seconds=seconds)


def msel_with(*capabilities: Capability) -> Msel:
    """A one-module MSEL: launch L1 (inject I1) at T+02:47, the question I5 to JP at T+06:00."""
    injects = [
        Inject(
            id="I1",
            at="00:02:47",
            kind="launch",
            launch=LaunchSpec(site=Point(lat=40.61, lon=126.43), apogee_km=970.0, range_km=4500.0, id="L1"),
        ),
        Inject(id="I5", at="00:06:00", kind="question", source="white", to=["JP"], text="What do you tell the public?"),
    ]
    return Msel(
        name="ttx-test",
        start=START,
        duration_min=40.0,
        modules=[Module(id="M1", name="Move 1", injects=injects)],
        cells=["KR", "JP", "US"],
        capabilities=list(capabilities),
    )


def task(
    measure: Measure,
    target_s: float = 60.0,
    *,
    cell: str | None = None,
    launch: str | None = "L1",
    inject: str | None = None,
    id: str = "C1.1",
) -> Task:
    reference = Reference(launch=None, inject=inject) if inject else Reference(launch=launch)
    return Task(id=id, text=f"{measure} task", measure=measure, target_s=target_s, reference=reference, cell=cell)


def capability(*tasks: Task, id: str = "C1") -> Capability:
    return Capability(id=id, name=f"Capability {id}", tasks=list(tasks))


def launched() -> list[SystemMark]:
    return [SystemMark(time=at(L1_AT), kind="launch", launch="L1", detail="L1")]


def delivered() -> list[Action]:
    """Exercise control's deliveries of I1 (the launch) and I5 (the question to JP)."""
    return [
        InjectDelivered(time=at(L1_AT), by="white", inject_id="I1", module="M1", kind="launch", to=["white"]),
        InjectDelivered(
            time=at(I5_AT), by="white", inject_id="I5", module="M1", kind="question", to=["JP"], text="What?"
        ),
    ]


def only(ratings: list[CapabilityRating]) -> CapabilityRating:
    assert len(ratings) == 1
    return ratings[0]


# ------------------------------------------------------------------------------------------- each measure
def _mark(kind: MarkKind, after_launch_s: float, partner: str | None = "JP") -> SystemMark:
    return SystemMark(time=at(L1_AT + after_launch_s), kind=kind, launch="L1", partner=partner, detail="x")


def _consulted(act: ConsultAct) -> list[Action]:
    return [Consulted(time=at(L1_AT + 30.0), by="JP", act=act, topic="JP-E001", text="...")]


def _warning(status: Literal["issued", "all-clear"]) -> list[Action]:
    return [PublicWarning(time=at(L1_AT + 30.0), by="JP", warning_id="W1", status=status, area="Japan", text="!")]


NONE = None  # the task counts from L1's launch
MEASURES: list[tuple[Measure, str | None, list[Action], list[SystemMark]]] = [
    ("first_detection", NONE, [], [_mark("first_detection", 30.0)]),
    ("first_shared_track", NONE, [], [_mark("first_shared_track", 30.0)]),
    ("first_alert", NONE, [], [_mark("first_alert", 30.0)]),
    ("all_clear", NONE, [], [_mark("last_alert_ended", 30.0)]),
    ("all_clear", NONE, _warning("all-clear"), []),
    ("alert_acknowledged", NONE, [Acknowledged(time=at(L1_AT + 30.0), by="JP", msg_id="KR-7", alert_id="A1")], []),
    ("consultation_opened", NONE, _consulted("request"), []),
    ("assessment_shared", NONE, _consulted("share"), []),
    ("assessment_agreed", NONE, _consulted("concur"), []),
    ("assessment_agreed", NONE, _consulted("decision"), []),
    ("launch_confirmed", NONE, _consulted("confirm"), []),
    ("launch_confirmed", NONE, _consulted("dispute"), []),
    ("public_warning", NONE, _warning("issued"), []),
    (
        "inject_answered",
        "I5",  # the task counts from I5's delivery
        [Answered(time=at(I5_AT + 30.0), by="JP", inject_id="I5", text="We warn Okinawa.")],
        [],
    ),
]


@pytest.mark.parametrize(("measure", "inject", "actions", "marks"), MEASURES)
def test_each_measure_is_done_by_its_event_30_s_after_the_reference(
    measure: Measure, inject: str | None, actions: list[Action], marks: list[SystemMark]
) -> None:
    msel = msel_with(capability(task(measure, 60.0, cell="JP", inject=inject)))
    result = only(evaluate(msel, [*delivered(), *actions], [*launched(), *marks]))
    t = result.tasks[0]
    assert t.reference_time is not None
    assert (t.status, t.elapsed_s, t.done_at) == ("met", 30.0, t.reference_time + timedelta(seconds=30))
    assert result.proposed == "P" and result.reason == "All 1 task(s) met."
    assert "30 s after" in t.evidence


def test_another_cells_action_or_one_before_the_reference_does_not_count() -> None:
    msel = msel_with(capability(task("inject_answered", 180.0, cell="JP", inject="I5")))
    actions = [
        *delivered(),
        Answered(time=at(I5_AT - 10.0), by="JP", inject_id="I5", text="too early: before it came"),
        Answered(time=at(I5_AT + 20.0), by="KR", inject_id="I5", text="not JP"),
        Answered(time=at(I5_AT + 25.0), by="JP", inject_id="I4", text="another inject"),
    ]
    assert only(evaluate(msel, actions, launched())).tasks[0].status == "missed"


def test_a_mark_of_another_launch_does_not_count_and_any_cell_takes_the_earliest() -> None:
    msel = msel_with(capability(task("first_alert", 120.0)))
    marks = [
        *launched(),
        SystemMark(time=at(L1_AT + 10), kind="first_alert", launch="L2", partner="KR"),
        SystemMark(time=at(L1_AT + 90), kind="first_alert", launch="L1", partner="US", detail="US-A0001 (Guam)"),
        SystemMark(time=at(L1_AT + 50), kind="first_alert", launch="L1", partner="JP", detail="JP-A0001 (Japan)"),
    ]
    t = only(evaluate(msel, delivered(), marks)).tasks[0]
    assert (t.status, t.elapsed_s) == ("met", 50.0)
    assert "JP's first alert of L1 (JP-A0001 (Japan))" in t.evidence


def test_a_launch_injects_reference_takes_its_launchs_marks() -> None:
    msel = msel_with(capability(task("first_detection", 60.0, cell="KR", inject="I1")))
    marks = [*launched(), SystemMark(time=at(L1_AT + 45), kind="first_detection", launch="L1", partner="KR")]
    t = only(evaluate(msel, delivered(), marks)).tasks[0]
    assert (t.status, t.elapsed_s) == ("met", 45.0)


# ------------------------------------------------------------------------------------------- met, late, missed
@pytest.mark.parametrize(
    ("after_s", "status"), [(0.0, "met"), (60.0, "met"), (60.5, "late"), (500.0, "late"), (None, "missed")]
)
def test_met_late_missed(after_s: float | None, status: str) -> None:
    msel = msel_with(capability(task("first_shared_track", 60.0)))
    marks = launched()
    if after_s is not None:
        marks.append(SystemMark(time=at(L1_AT + after_s), kind="first_shared_track", launch="L1", detail="KR-T0001"))
    t = only(evaluate(msel, delivered(), marks)).tasks[0]
    assert t.status == status
    assert t.elapsed_s == after_s
    assert t.reference_time == at(L1_AT)


# ------------------------------------------------------------------------------------------- the ratings
def three_tasks() -> Msel:
    return msel_with(
        capability(
            task("first_shared_track", 60.0, id="C1.1"),
            task("first_alert", 120.0, cell="JP", id="C1.2"),
            task("inject_answered", 180.0, cell="JP", inject="I5", id="C1.3"),
        )
    )


def happened(
    shared_s: float | None, alert_s: float | None, answer_s: float | None
) -> tuple[list[Action], list[SystemMark]]:
    """L1 launched and I5 delivered; the shared track and JP's alert ``*_s`` after the launch, JP's answer
    ``answer_s`` after I5 (None: never)."""
    marks = launched()
    if shared_s is not None:
        marks.append(SystemMark(time=at(L1_AT + shared_s), kind="first_shared_track", launch="L1", detail="KR-T0001"))
    if alert_s is not None:
        marks.append(
            SystemMark(time=at(L1_AT + alert_s), kind="first_alert", launch="L1", partner="JP", detail="JP-A1")
        )
    actions = delivered()
    if answer_s is not None:
        actions.append(Answered(time=at(I5_AT + answer_s), by="JP", inject_id="I5", text="answer"))
    return actions, sorted(marks, key=lambda m: m.time)


@pytest.mark.parametrize(
    ("shared_s", "alert_s", "answer_s", "rating"),
    [
        (40.0, 100.0, 60.0, "P"),  # every task met
        (95.0, 100.0, 60.0, "S"),  # one late, within twice its target
        (120.0, 240.0, 360.0, "S"),  # all late, each at exactly twice its target
        (121.0, 100.0, 60.0, "M"),  # one late beyond twice its target
        (40.0, 100.0, None, "M"),  # one of three missed
        (40.0, None, None, "U"),  # two of three missed: more than half
    ],
)
def test_proposed_rating_rule(shared_s: float, alert_s: float | None, answer_s: float | None, rating: str) -> None:
    actions, marks = happened(shared_s, alert_s, answer_s)
    assert only(evaluate(three_tasks(), actions, marks)).proposed == rating


def test_the_reason_names_each_task_not_met_with_its_numbers() -> None:
    actions, marks = happened(95.0, 100.0, None)
    result = only(evaluate(three_tasks(), actions, marks))
    assert result.proposed == "M"
    assert result.reason == (
        "C1.1: first shared track 95 s after L1's launch (target 60 s); "
        "C1.3: JP did not answer inject I5 (target 180 s)."
    )


def test_a_cell_that_never_answers_is_u_alone_and_m_beside_met_tasks() -> None:
    alone = msel_with(capability(task("inject_answered", 180.0, cell="JP", inject="I5", id="C3.1"), id="C3"))
    result = only(evaluate(alone, delivered(), launched()))
    assert (result.proposed, result.reason) == ("U", "C3.1: JP did not answer inject I5 (target 180 s).")
    assert result.tasks[0].evidence.startswith("JP did not answer inject I5 from inject I5 at T+06:00 to the end")

    beside = msel_with(
        capability(
            task("inject_answered", 180.0, cell="JP", inject="I5", id="C3.1"),
            task("inject_answered", 180.0, cell="KR", inject="I5", id="C3.2"),
            id="C3",
        )
    )
    actions = [*delivered(), Answered(time=at(I5_AT + 30.0), by="KR", inject_id="I5", text="done")]
    result = only(evaluate(beside, actions, launched()))
    assert (result.proposed, result.reason) == ("M", "C3.1: JP did not answer inject I5 (target 180 s).")


def test_no_cell_named_the_reason_says_no_cell() -> None:
    msel = msel_with(capability(task("public_warning", 300.0, launch=None)))
    result = only(evaluate(msel, delivered(), launched()))
    assert result.reason == "C1.1: no cell issued a public warning (target 300 s)."


# ------------------------------------------------------------------------------------------- not applicable
def test_a_reference_that_never_happened_is_not_applicable() -> None:
    msel = msel_with(
        capability(
            task("first_detection", 60.0, launch="L9", id="C1.1"),
            task("inject_answered", 60.0, inject="I7", id="C1.2"),
            task("first_shared_track", 60.0, id="C1.3"),
        )
    )
    marks = [*launched(), SystemMark(time=at(L1_AT + 70), kind="first_shared_track", launch="L1")]
    result = only(evaluate(msel, delivered(), marks))
    assert [t.status for t in result.tasks] == ["not-applicable", "not-applicable", "late"]
    assert result.tasks[0].reference_time is None and result.tasks[0].evidence == "L9's launch did not happen"
    assert result.tasks[1].evidence == "inject I7 was not delivered"
    # Only the applicable task rates: one late within twice its target.
    assert result.proposed == "S"


def test_nothing_to_measure_is_proposed_p_with_its_reason() -> None:
    msel = msel_with(capability(task("first_detection", 60.0, launch="L9")))
    result = only(evaluate(msel, delivered(), launched()))
    assert result.proposed == "P"
    assert result.reason == "Nothing to measure: C1.1: L9's launch did not happen."


def test_while_the_exercise_runs_a_task_not_yet_due_is_not_applicable() -> None:
    msel = msel_with(capability(task("inject_answered", 180.0, cell="JP", inject="I5")))
    actions = [*delivered(), Answered(time=at(I5_AT + 100.0), by="JP", inject_id="I5", text="later")]
    now = START.timestamp() + I5_AT + 60.0  # the answer has not come yet, the target not elapsed
    t = only(evaluate(msel, actions, launched(), end=now)).tasks[0]
    assert (t.status, t.evidence) == ("not-applicable", "not yet due: from inject I5 at T+06:00, target 180 s")
    later = START.timestamp() + I5_AT + 200.0  # past the target, not answered by then (the answer counts at 100 s)
    assert only(evaluate(msel, actions, launched(), end=later)).tasks[0].status == "met"
    t = only(evaluate(msel, delivered(), launched(), end=later)).tasks[0]
    assert t.status == "missed" and "to T+09:20" in t.evidence
    before = START.timestamp() + I5_AT - 60.0  # I5 comes later
    t = only(evaluate(msel, actions, launched(), end=before)).tasks[0]
    assert (t.status, t.evidence) == ("not-applicable", "inject I5 has not been delivered yet")


# ------------------------------------------------------------------------------------------- evaluators
def test_the_evaluators_latest_rating_is_applied() -> None:
    actions, marks = happened(95.0, 100.0, None)
    actions += [
        Rated(time=at(2400), by="eval", capability="C1", rating="U", observation="first look"),
        Rated(time=at(2500), by="eval", capability="C1", rating="S", observation="JP answered by phone"),
        Rated(time=at(2450), by="eval", capability="C9", rating="P", observation="not in the MSEL"),
    ]
    result = only(evaluate(three_tasks(), actions, marks))
    assert (result.proposed, result.rating, result.final) == ("M", "S", "S")
    assert (result.observation, result.rated_by) == ("JP answered by phone", "eval")


def test_unrated_capability_has_its_proposed_rating_as_final() -> None:
    actions, marks = happened(40.0, 100.0, 60.0)
    result = only(evaluate(three_tasks(), actions, marks))
    assert (result.rating, result.observation, result.rated_by, result.final) == (None, None, None, "P")


# ------------------------------------------------------------------------------------------- plan, determinism
def _item(item_id: str, t: float, issue: str) -> PlanItem:
    return PlanItem(
        time=at(t), by="eval", item_id=item_id, capability="C1", issue=issue, corrective_action="train",
        owner="JP J3", due="2023-03-01",
    )  # fmt: skip


def test_plan_of_keeps_the_latest_item_in_first_appearance_order() -> None:
    actions: list[Action] = [_item("P1", 100, "first"), _item("P2", 110, "second"), _item("P1", 120, "first, edited")]
    assert [(i.item_id, i.issue) for i in plan_of(actions)] == [("P1", "first, edited"), ("P2", "second")]
    assert plan_of(delivered()) == []


def test_evaluation_is_deterministic() -> None:
    actions, marks = happened(95.0, 100.0, None)
    first = msgspec.json.encode(evaluate(three_tasks(), actions, marks))
    assert first == msgspec.json.encode(evaluate(three_tasks(), list(actions), list(marks)))


def test_exercise_time() -> None:
    start = START.timestamp()
    assert exercise_time(start + 167.4, start) == "T+02:47"
    assert exercise_time(start + 4500, start) == "T+75:00"
    assert exercise_time(start - 10, start) == "T-00:10"


# ------------------------------------------------------------------------------------------- marks of a real run
SMALL = Path(__file__).parent / "data" / "scenarios" / "small.yaml"


def test_marks_of_a_small_run_are_ordered_and_plausible() -> None:
    from mwx.exercise.run import run_scenario
    from mwx.sim.scenario import parse_scenario

    result = run_scenario(parse_scenario(SMALL.read_text()))
    marks = marks_of(result)
    assert marks == sorted(marks, key=lambda m: m.time)
    assert {m.launch for m in marks} == {"S1"}
    assert all(m.time.tzinfo is not None for m in marks)
    by_kind: dict[str, list[SystemMark]] = {}
    for m in marks:
        by_kind.setdefault(m.kind, []).append(m)
    (launch,) = by_kind["launch"]
    (impact,) = by_kind["impact"]
    assert launch.time == datetime(2023, 4, 13, 1, 0, tzinfo=UTC)
    assert launch.time < impact.time < launch.time + timedelta(minutes=10)
    detections = {m.partner: m for m in by_kind["first_detection"]}
    assert detections and set(detections) <= set(result.partners)
    for m in detections.values():
        assert launch.time < m.time < launch.time + timedelta(minutes=3)
    shared = {m.partner: m for m in by_kind["first_shared_track"]}
    assert set(shared) == set(detections) | {None}
    for partner, m in shared.items():
        if partner is not None:
            assert detections[partner].time <= m.time < launch.time + timedelta(minutes=3)
    assert shared[None].time == min(m.time for p, m in shared.items() if p is not None)
    alerts = by_kind["first_alert"]
    assert alerts, "the small scenario's missile falls in KR's EEZ: KR alerts"
    for m in alerts:
        assert detections[m.partner].time <= m.time < impact.time
        (ended,) = [e for e in by_kind["last_alert_ended"] if e.partner == m.partner]
        assert m.time < ended.time
    assert marks_of(result) == marks  # deterministic
