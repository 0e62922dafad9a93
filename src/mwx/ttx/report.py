"""The after-action report and improvement plan of an exercise (HSEEP AAR/IP), from its log.

:func:`write_aar` writes, into one folder:

* ``aar.html`` — the report as one self-contained page (inline CSS, no script, no external asset) under an
  EXERCISE marking, rendered by the Jinja2 template ``ttx/templates/aar.html`` with autoescaping: no text of
  the log (a player's note, an answer, an observation) can become markup;
* ``aar.md`` — the same content as Markdown, to edit in any editor (every text escaped: HTML entities for
  ``& < >``, backslashes for the characters Markdown reads as links or table cells);
* ``improvement-plan.csv`` — the improvement plan (:data:`PLAN_COLUMNS`): the evaluators' items, then one
  open row per capability rated M or U (its final rating) that has no item yet, its issue the rating's
  reason, corrective action, owner and due left empty for the evaluators to fill in;
* ``exercise.json`` — the :class:`~mwx.ttx.log.ExerciseLog` (msgspec JSON), with its evaluation and plan.

The report's sections: exercise overview (name, title, STARTEX/ENDEX, duration, cells, modules, injects,
the scenario's launches); objectives and capabilities (proposed and final ratings, the evaluator's
observation); per capability its critical tasks (target, measured time, status); strengths (tasks met)
and areas for improvement (late or missed), with their evidence; the timeline (every action and system
mark, UTC and exercise time T+MM:SS); the consultation channel's messages; the public warnings; the
improvement plan.  Nothing reads a clock: the same MSEL and log give byte-identical files.

A log whose ``evaluation`` is empty (where the MSEL has capabilities) is evaluated here
(:func:`mwx.ttx.evaluation.evaluate`) and written so to ``exercise.json``; its ``plan`` is the improvement
plan as it stands (:func:`mwx.ttx.evaluation.plan_of` of its actions, or :func:`read_plan_csv` of an edited
file).

:func:`read_plan_csv` reads an edited ``improvement-plan.csv`` back (:func:`read_plan` also gives its open
rows): a bad row is an :class:`~mwx.errors.InputError` of one line naming the file, the row (the header is
row 1, as a spreadsheet shows it) and the column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from mwx.errors import InputError
from mwx.live.updates import EXERCISE_MARKING
from mwx.ttx.evaluation import clock, evaluate, exercise_time, launch_of_inject
from mwx.ttx.log import (
    RATING_WORDS,
    Acknowledged,
    Action,
    Answered,
    CapabilityRating,
    Consulted,
    Control,
    ExerciseLog,
    InjectDelivered,
    NoteReceived,
    PlanItem,
    PublicWarning,
    Rated,
    TaskResult,
)
from mwx.ttx.msel import Inject, Msel, parse_offset

if TYPE_CHECKING:
    import jinja2

__all__ = [
    "PLAN_COLUMNS", "Cell", "PlanRow", "PlanRows", "Section", "Table", "completed", "plan_rows", "read_plan",
    "read_plan_csv", "render_html", "render_markdown", "report_sections", "write_aar",
]  # fmt: skip

#: ``improvement-plan.csv`` columns, in order.
PLAN_COLUMNS = ("item_id", "capability", "issue", "corrective_action", "owner", "due")
#: The longest text a plan item holds (:class:`~mwx.ttx.log.PlanItem`).
MAX_TEXT = 2000
_ITEM_ID = re.compile(r"^[!-~]{1,64}$")
_DUE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: When a plan read from a file took effect, where the caller does not say: a plan file has no time of its own.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --------------------------------------------------------------------------------------- the plan's rows
class PlanRow(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the improvement plan as the CSV holds it (every cell text; empty: not filled in)."""

    item_id: str
    capability: str
    issue: str
    corrective_action: str = ""
    owner: str = ""
    due: str = ""

    @property
    def open(self) -> bool:
        """Whether the row still waits for its corrective action, owner or due date."""
        return not (self.corrective_action and self.owner and self.due)


class PlanRows(msgspec.Struct, frozen=True, kw_only=True):
    """An improvement plan read back: its complete rows as plan items, and its open rows."""

    items: list[PlanItem]
    open: list[PlanRow]


def _row_of(item: PlanItem) -> PlanRow:
    return PlanRow(
        item_id=item.item_id,
        capability=item.capability,
        issue=item.issue,
        corrective_action=item.corrective_action,
        owner=item.owner,
        due=item.due,
    )


def _open_id(capability: str, taken: set[str]) -> str:
    """An item id for a capability's prefilled row: ``IP-C1`` (``IP-C1-2``, … where taken)."""
    base = f"IP-{capability}"[:60]
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def plan_rows(evaluation: Sequence[CapabilityRating], plan: Sequence[PlanItem]) -> list[PlanRow]:
    """The improvement plan's rows: the evaluators' items, then an open row for each capability whose final
    rating is M or U and that has no item yet (its issue: the rating's reason, and the evaluator's observation)."""
    rows = [_row_of(item) for item in plan]
    planned = {item.capability for item in plan}
    taken = {item.item_id for item in plan}
    for rating in evaluation:
        if rating.final not in ("M", "U") or rating.capability in planned:
            continue
        issue = f"{rating.name} rated {rating.final}: {rating.reason}"
        if rating.observation:
            issue += f" Evaluator: {rating.observation}"
        item_id = _open_id(rating.capability, taken)
        taken.add(item_id)
        rows.append(PlanRow(item_id=item_id, capability=rating.capability, issue=issue[:MAX_TEXT]))
    return rows


def _plan_csv(rows: Sequence[PlanRow]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(PLAN_COLUMNS)
    for r in rows:
        w.writerow([r.item_id, r.capability, r.issue, r.corrective_action, r.owner, r.due])
    return out.getvalue()


def _row_error(path: Path, n: int, column: str, problem: str) -> InputError:
    return InputError(problem, source=str(path), where=f"row {n}, column {column}")


def _check_row(path: Path, n: int, cells: dict[str, str]) -> PlanRow:
    """One data row as a :class:`PlanRow`, its cells checked (row ``n``: the header is row 1)."""
    if not _ITEM_ID.match(cells["item_id"]):
        raise _row_error(path, n, "item_id", "must be 1-64 printable characters without spaces")
    for column in ("capability", "issue"):
        if not cells[column]:
            raise _row_error(path, n, column, "is empty")
    for column in PLAN_COLUMNS:
        if len(cells[column]) > MAX_TEXT:
            raise _row_error(path, n, column, f"is longer than {MAX_TEXT} characters")
    due = cells["due"]
    if due:
        try:
            valid = bool(_DUE.match(due)) and date.fromisoformat(due) is not None
        except ValueError:
            valid = False
        if not valid:
            raise _row_error(path, n, "due", f"{due!r} is not a date YYYY-MM-DD")
    return PlanRow(**cells)


def _csv_rows(path: Path) -> list[list[str]]:
    try:
        # utf-8-sig: a spreadsheet may save the file with a byte-order mark.
        with path.open(newline="", encoding="utf-8-sig") as f:
            return list(csv.reader(f))
    except FileNotFoundError:
        raise InputError("missing", source=str(path)) from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise InputError(f"cannot read ({' '.join(str(err).split())})", source=str(path)) from None


def read_plan(path: Path, *, at: datetime = EPOCH, by: str = "eval") -> PlanRows:
    """An edited ``improvement-plan.csv``: its complete rows as plan items (``time`` ``at``, ``by``), its open
    rows (corrective action, owner or due left empty) as they are.

    Blank lines are skipped; an item id given twice, a row with too few or too many cells, an empty item id,
    capability or issue, a text over 2000 characters or a due date that is not ``YYYY-MM-DD`` is an
    :class:`~mwx.errors.InputError` naming the file, the row and the column.
    """
    rows = _csv_rows(path)
    if not rows or tuple(c.strip() for c in rows[0]) != PLAN_COLUMNS:
        raise InputError(f"the header must be {','.join(PLAN_COLUMNS)}", source=str(path), where="row 1")
    items: list[PlanItem] = []
    open_rows: list[PlanRow] = []
    seen: set[str] = set()
    for n, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(PLAN_COLUMNS):
            column = PLAN_COLUMNS[min(len(cells), len(PLAN_COLUMNS) - 1)]
            raise _row_error(path, n, column, f"{len(cells)} cells where the header has {len(PLAN_COLUMNS)}")
        row = _check_row(path, n, dict(zip(PLAN_COLUMNS, (c.strip() for c in cells), strict=True)))
        if row.item_id in seen:
            raise _row_error(path, n, "item_id", f"{row.item_id!r} is given twice")
        seen.add(row.item_id)
        if row.open:
            open_rows.append(row)
        else:
            items.append(
                PlanItem(
                    time=at,
                    by=by,
                    item_id=row.item_id,
                    capability=row.capability,
                    issue=row.issue,
                    corrective_action=row.corrective_action,
                    owner=row.owner,
                    due=row.due,
                )
            )
    return PlanRows(items=items, open=open_rows)


def read_plan_csv(path: Path, *, at: datetime = EPOCH, by: str = "eval") -> list[PlanItem]:
    """The plan items of an edited ``improvement-plan.csv`` (:func:`read_plan`).

    An open row (its corrective action, owner or due date still empty) is not a plan item yet: a
    :class:`~mwx.ttx.log.PlanItem` has all three.  It is left out here (:func:`read_plan` gives it) and
    stays open: :func:`write_aar` writes again an open row for every capability rated M or U that has no
    item.  ``at``: when the items took effect (the exercise's end, say; the Unix epoch where not given: a plan
    file has no time of its own); ``by``: who wrote them.
    """
    return read_plan(path, at=at, by=by).items


# --------------------------------------------------------------------------------------- the report's content
@dataclass(frozen=True)
class Cell:
    """A table cell: its text and a CSS class (``r-P``… for ratings, ``st-met``… for statuses, ``l`` for text)."""

    text: str
    cls: str = ""


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: list[list[Cell]]
    caption: str = ""


@dataclass
class Section:
    """A section of the report, the same for the HTML and the Markdown: paragraphs, facts (name, value),
    bullet items, tables and subsections, in that order."""

    anchor: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    subsections: list[Section] = field(default_factory=list)


def _t(cell: str) -> Cell:
    """A cell of free text (left-aligned)."""
    return Cell(cell, "l")


def _n(value: float | None, digits: int = 0) -> Cell:
    """A number cell; an empty one for None."""
    return Cell("" if value is None else f"{value:.{digits}f}", "n")


class _Clock:
    """Times of the exercise as text: UTC, and exercise time from STARTEX."""

    def __init__(self, start: float) -> None:
        self.start = start

    def utc(self, t: datetime | float) -> str:
        return clock(t if isinstance(t, float) else t.timestamp())

    def ex(self, t: datetime | float) -> str:
        return exercise_time(t if isinstance(t, float) else t.timestamp(), self.start)

    def both(self, t: datetime) -> str:
        return f"{self.ex(t)} ({self.utc(t)})"


def _planned(inject: Inject, msel: Msel, c: _Clock) -> str:
    try:
        return c.ex(msel.t_start + parse_offset(inject.at))
    except ValueError:  # an MSEL built by hand, not through parse_msel
        return str(inject.at)


def _overview(msel: Msel, log: ExerciseLog, c: _Clock) -> Section:
    start, end = log.start.timestamp(), log.end.timestamp()
    delivered: dict[str, datetime] = {}
    for a in log.actions:
        if isinstance(a, InjectDelivered):
            delivered.setdefault(a.inject_id, a.time)
    launched = {m.launch: m.time for m in log.marks if m.kind == "launch"}
    injects = [(module, inject) for module in msel.modules for inject in module.injects]
    facts = [
        ("Exercise", log.name),
        ("Title", log.title or msel.title or ""),
        ("STARTEX", c.utc(log.start)),
        ("ENDEX", f"{c.utc(log.end)} ({c.ex(log.end)})"),
        ("Duration", f"{(end - start) / 60:.1f} min (planned {msel.duration_min:g} min)"),
        ("Cells", ", ".join(log.cells)),
        ("Theater", f"{msel.theater} (seed {log.seed})"),
        ("Logged", f"{len(log.actions)} action(s), {len(log.marks)} system mark(s)"),
    ]
    modules = Table(
        ("Module", "Name", "Injects", "Technical", "Discussion"),
        [
            [
                _t(m.id),
                _t(m.name),
                _n(len(m.injects)),
                _n(sum(i.kind not in ("situation", "question", "media") for i in m.injects)),
                _n(sum(i.kind in ("situation", "question", "media") for i in m.injects)),
            ]
            for m in msel.modules
        ],
        "Modules (moves)",
    )
    inject_table = Table(
        ("Inject", "Module", "Planned", "Delivered", "Kind", "From", "To", "Text", "Expected action"),
        [
            [
                _t(i.id),
                _t(m.id),
                _t(_planned(i, msel, c)),
                _t(c.both(delivered[i.id]) if i.id in delivered else "not delivered"),
                _t(i.kind),
                _t(i.source),
                _t(", ".join(i.to)),
                _t(i.text or ""),
                _t(i.expected_action or ""),
            ]
            for m, i in injects
        ],
        "Injects (the MSEL)",
    )
    launches = []
    for m, i in injects:
        if i.kind != "launch" or i.launch is None:
            continue
        spec, launch_id = i.launch, launch_of_inject(i.id, i.launch.id)
        launches.append(
            [
                _t(launch_id),
                _t(f"{i.id} ({m.id})"),
                _t(_planned(i, msel, c)),
                _t(c.both(launched[launch_id]) if launch_id in launched else "did not fly"),
                _t(f"{spec.site.lat:.2f}, {spec.site.lon:.2f}"),
                _n(spec.apogee_km),
                _n(spec.range_km),
                _n(spec.count),
            ]
        )
    scenario = Table(
        ("Launch", "Inject", "Planned", "Launched", "Site (lat, lon deg)", "Apogee km", "Range km", "Missiles"),
        launches,
        "The scenario's launches",
    )
    return Section("overview", "Exercise overview", facts=facts, tables=[modules, inject_table, scenario])


def _rating_cell(rating: str) -> Cell:
    return Cell(rating, f"r-{rating}")


def _capabilities(msel: Msel, evaluation: Sequence[CapabilityRating]) -> Section:
    objectives = Table(
        ("Objective", "Text", "Capabilities"),
        [[_t(o.id), _t(o.text), _t(", ".join(o.capabilities))] for o in msel.objectives],
        "Objectives",
    )
    ratings = Table(
        ("Capability", "Proposed", "Final", "Final rating in words", "Rated by", "Evaluator's observation"),
        [
            [
                _t(f"{r.capability} — {r.name}"),
                _rating_cell(r.proposed),
                _rating_cell(r.final),
                _t(RATING_WORDS[r.final]),
                _t(r.rated_by or "not rated yet"),
                _t(r.observation or ""),
            ]
            for r in evaluation
        ],
        "Capabilities: P performed without challenges, S with some challenges, M with major challenges, "
        "U unable to be performed",
    )
    tables = [objectives, ratings] if msel.objectives else [ratings]
    paragraphs = [] if evaluation else ["The MSEL names no capability to evaluate."]
    return Section("capabilities", "Objectives and capabilities", paragraphs=paragraphs, tables=tables)


def _measured(r: TaskResult) -> str:
    return "" if r.elapsed_s is None else f"{r.elapsed_s:.1f}"


def _task_rows(results: Sequence[TaskResult], c: _Clock) -> list[list[Cell]]:
    return [
        [
            _t(r.task),
            _t(r.text),
            _t(r.cell or "any"),
            _t(r.measure),
            _n(r.target_s),
            Cell(_measured(r), "n"),
            _t(c.ex(r.done_at) if r.done_at else ""),
            Cell(r.status, f"st-{r.status}"),
        ]
        for r in results
    ]


def _capability_sections(evaluation: Sequence[CapabilityRating], c: _Clock) -> list[Section]:
    out = []
    for r in evaluation:
        paragraphs = [f"Proposed {r.proposed} ({RATING_WORDS[r.proposed]}): {r.reason}"]
        if r.rating is not None:
            paragraphs.append(f"Rated {r.rating} ({RATING_WORDS[r.rating]}) by {r.rated_by}: {r.observation or ''}")
        table = Table(
            ("Task", "Text", "Cell", "Measure", "Target s", "Measured s", "Done at", "Status"),
            _task_rows(r.tasks, c),
            "Critical tasks: measured from each task's reference (a launch, an inject's delivery or STARTEX)",
        )
        out.append(Section(f"cap-{r.capability}", f"{r.capability} — {r.name}", paragraphs=paragraphs, tables=[table]))
    return out


def _evidence_table(evaluation: Sequence[CapabilityRating], statuses: tuple[str, ...], caption: str) -> Table:
    return Table(
        ("Capability", "Task", "Status", "Measured s", "Target s", "Evidence"),
        [
            [_t(r.capability), _t(f"{t.task}: {t.text}"), Cell(t.status, f"st-{t.status}"), Cell(_measured(t), "n"),
             _n(t.target_s), _t(t.evidence)]
            for r in evaluation
            for t in r.tasks
            if t.status in statuses
        ],
        caption,
    )  # fmt: skip


def _findings(evaluation: Sequence[CapabilityRating]) -> list[Section]:
    strengths = _evidence_table(evaluation, ("met",), "Critical tasks met within their targets")
    areas = _evidence_table(evaluation, ("late", "missed"), "Critical tasks done late or not at all")
    return [
        Section(
            "strengths",
            "Strengths",
            paragraphs=[] if strengths.rows else ["No critical task was met."],
            tables=[strengths] if strengths.rows else [],
        ),
        Section(
            "areas-for-improvement",
            "Areas for improvement",
            paragraphs=[] if areas.rows else ["Every critical task measured was met."],
            tables=[areas] if areas.rows else [],
        ),
    ]


def _who(a: Action) -> str:
    return f"{a.by} (scripted)" if a.source == "script" else a.by


def _action_words(a: Action) -> tuple[str, str]:
    """What an action was, and its text or detail."""
    if isinstance(a, InjectDelivered):
        return f"inject {a.inject_id} ({a.kind}, {a.module}) to {', '.join(a.to)}", a.text or ""
    if isinstance(a, Acknowledged):
        what = f"acknowledged alert {a.alert_id}" if a.alert_id else "acknowledged"
        return what + (f" from {a.sender}" if a.sender else ""), f"message {a.msg_id}"
    if isinstance(a, Consulted):
        return f"{a.act} on {a.topic}" + (f" to {', '.join(a.to)}" if a.to else ""), a.text
    if isinstance(a, NoteReceived):
        return f"received {a.act} from {a.sender} on {a.topic}", a.text
    if isinstance(a, PublicWarning):
        return f"public warning {a.warning_id} {a.status} ({a.area})", a.text
    if isinstance(a, Answered):
        return f"answered inject {a.inject_id}", a.text
    if isinstance(a, Control):
        detail = f"speed {a.speed:g}" if a.speed is not None else ""
        if a.jumped_to is not None:
            detail = f"to {clock(a.jumped_to.timestamp())}"
        return f"clock: {a.action}", detail
    if isinstance(a, Rated):
        return f"rated {a.capability} {a.rating}", a.observation
    return f"plan item {a.item_id} ({a.capability})", a.issue


_MARK_WORDS = {
    "launch": "launch",
    "first_detection": "first detection",
    "first_shared_track": "first shared track",
    "first_alert": "first alert",
    "alert_ended": "alert ended",
    "last_alert_ended": "all alerts ended",
    "impact": "impact",
}


def _timeline(log: ExerciseLog, c: _Clock) -> Section:
    """Every action and mark in time order (actions before marks at the same instant, each in the log's order)."""
    lines: list[tuple[datetime, int, int, list[Cell]]] = []
    for k, a in enumerate(log.actions):
        what, detail = _action_words(a)
        lines.append((a.time, 0, k, [_t(c.ex(a.time)), _t(c.utc(a.time)), _t(_who(a)), _t(what), _t(detail)]))
    for k, m in enumerate(log.marks):
        who = f"system ({m.partner})" if m.partner else "system"
        what = f"{_MARK_WORDS[m.kind]} of {m.launch}"
        lines.append((m.time, 1, k, [_t(c.ex(m.time)), _t(c.utc(m.time)), _t(who), _t(what), _t(m.detail)]))
    lines.sort(key=lambda line: line[:3])
    table = Table(("Exercise time", "UTC", "Who", "What", "Detail"), [line[3] for line in lines])
    return Section(
        "timeline",
        "Timeline",
        paragraphs=["Scenario time: the exercise clock, which the facilitator paused and sped up."],
        tables=[table] if lines else [],
    )


def _consultation(log: ExerciseLog, c: _Clock) -> Section:
    notes = [a for a in log.actions if isinstance(a, Consulted)]
    table = Table(
        ("Exercise time", "Who", "Act", "Topic", "To", "Text", "Reply to", "Message"),
        [
            [_t(c.ex(a.time)), _t(_who(a)), _t(a.act), _t(a.topic), _t(", ".join(a.to) or "all"), _t(a.text),
             _t(a.in_reply_to or ""), _t(a.msg_id or "")]
            for a in notes
        ],
    )  # fmt: skip
    return Section(
        "consultation",
        "Consultation",
        paragraphs=[] if notes else ["No message on the consultation channel."],
        tables=[table] if notes else [],
    )


def _warnings(log: ExerciseLog, c: _Clock) -> Section:
    warnings = [a for a in log.actions if isinstance(a, PublicWarning)]
    table = Table(
        ("Exercise time", "Cell", "Warning", "Status", "Area", "Text", "CAP file"),
        [
            [_t(c.ex(a.time)), _t(_who(a)), _t(a.warning_id), _t(a.status), _t(a.area), _t(a.text),
             _t(a.cap_file or "")]
            for a in warnings
        ],
    )  # fmt: skip
    return Section(
        "public-warnings",
        "Public warnings",
        paragraphs=["Every public warning is CAP 1.2 with status Exercise."] if warnings else ["No public warning."],
        tables=[table] if warnings else [],
    )


def _plan_section(rows: Sequence[PlanRow]) -> Section:
    table = Table(
        ("Item", "Capability", "Issue", "Corrective action", "Owner", "Due"),
        [
            [_t(r.item_id), _t(r.capability), _t(r.issue), _t(r.corrective_action or "(open)"), _t(r.owner),
             _t(r.due)]
            for r in rows
        ],
    )  # fmt: skip
    note = (
        "The same rows as improvement-plan.csv: an open row (a capability rated M or U without an item) waits "
        "for the evaluators' corrective action, owner and due date."
    )
    return Section(
        "improvement-plan",
        "Improvement plan",
        paragraphs=[note] if rows else ["No improvement item."],
        tables=[table] if rows else [],
    )


def report_sections(msel: Msel, log: ExerciseLog) -> list[Section]:
    """The report's sections, in order (the HTML and the Markdown render the same)."""
    c = _Clock(log.start.timestamp())
    evaluation = log.evaluation
    sections = [_overview(msel, log, c), _capabilities(msel, evaluation)]
    if evaluation:
        sections.append(Section("tasks", "Critical tasks", subsections=_capability_sections(evaluation, c)))
    sections += _findings(evaluation)
    sections += [_timeline(log, c), _consultation(log, c), _warnings(log, c)]
    sections.append(_plan_section(plan_rows(evaluation, log.plan)))
    return sections


def _title(msel: Msel, log: ExerciseLog) -> str:
    return f"After-action report / improvement plan: {log.title or msel.title or log.name}"


# --------------------------------------------------------------------------------------- HTML
@cache
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("mwx.ttx", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(msel: Msel, log: ExerciseLog) -> str:
    """The report as one HTML page (every text from the MSEL and the log escaped by the template engine)."""
    return (
        _environment()
        .get_template("aar.html")
        .render(
            title=_title(msel, log), marking=EXERCISE_MARKING, sections=report_sections(msel, log), ratings=RATING_WORDS
        )
    )


# --------------------------------------------------------------------------------------- Markdown
_MD_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\\": "\\\\", "[": "\\[", "]": "\\]", "`": "\\`", "*": "\\*"}
)


def _md(text: str) -> str:
    """Text for Markdown: HTML entities for ``& < >`` (no raw HTML), backslashes before what makes a link,
    code or emphasis, line breaks as ``<br>``."""
    return "<br>".join(line.translate(_MD_ESCAPES) for line in text.splitlines() or [""])


def _md_cell(text: str) -> str:
    return _md(text).replace("|", "\\|") or " "


def _md_table(t: Table) -> list[str]:
    out = [f"*{_md(t.caption)}*", ""] if t.caption else []
    out.append("| " + " | ".join(_md_cell(h) for h in t.header) + " |")
    out.append("|" + "|".join("---:" if h.endswith((" s", " km")) else "---" for h in t.header) + "|")
    out += ["| " + " | ".join(_md_cell(cell.text) for cell in row) + " |" for row in t.rows]
    return [*out, ""]


def _md_section(s: Section, level: int) -> list[str]:
    out = [f"{'#' * level} {_md(s.title)}", ""]
    for p in s.paragraphs:
        out += [_md(p), ""]
    if s.facts:
        out += [f"- **{_md(k)}:** {_md(v)}" for k, v in s.facts] + [""]
    if s.items:
        out += [f"- {_md(item)}" for item in s.items] + [""]
    for t in s.tables:
        out += _md_table(t)
    for sub in s.subsections:
        out += _md_section(sub, level + 1)
    return out


def render_markdown(msel: Msel, log: ExerciseLog) -> str:
    """The report as Markdown (the same sections and tables as the HTML)."""
    lines = [f"# {_md(_title(msel, log))}", "", f"**{_md(EXERCISE_MARKING)}**", ""]
    for s in report_sections(msel, log):
        lines += _md_section(s, 2)
    lines += [f"**{_md(EXERCISE_MARKING)}**", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------- files
_JSON = msgspec.json.Encoder(decimal_format="number")


def completed(msel: Msel, log: ExerciseLog) -> ExerciseLog:
    """The log with its evaluation: the one it holds, else taken from its actions and marks now.

    Its plan is the one it holds, even empty (an improvement plan read back from a CSV file whose rows were
    all deleted or left open has no item, whatever the evaluators had entered during the exercise).
    """
    if log.evaluation or not msel.capabilities:
        return log
    return msgspec.structs.replace(log, evaluation=evaluate(msel, log.actions, log.marks))


def _write(path: Path, text: str) -> Path:
    with path.open("w", encoding="utf-8", newline="\n") as f:  # the same bytes on every platform
        f.write(text)
    return path


def write_aar(folder: Path, msel: Msel, log: ExerciseLog) -> dict[str, Path]:
    """Write ``aar.html``, ``aar.md``, ``improvement-plan.csv`` and ``exercise.json`` into ``folder`` (made if
    missing); return their paths by name."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    log = completed(msel, log)
    writers: dict[str, Callable[[], str]] = {
        "aar.html": lambda: render_html(msel, log),
        "aar.md": lambda: render_markdown(msel, log),
        "improvement-plan.csv": lambda: _plan_csv(plan_rows(log.evaluation, log.plan)),
        "exercise.json": lambda: (msgspec.json.format(_JSON.encode(log), indent=1) + b"\n").decode(),
    }
    return {name: _write(folder / name, make()) for name, make in writers.items()}
