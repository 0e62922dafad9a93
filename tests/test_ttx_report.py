"""mwx.ttx.report: the after-action report / improvement plan of a hand-built exercise log.

The files (HTML, Markdown, CSV, JSON) are read as a reader would: the HTML's sections by their ids, the
Markdown's tables by their lines, the CSV with the csv module, the JSON decoded as an ExerciseLog.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import msgspec
import pytest

from mwx.errors import InputError
from mwx.sim.scenario import Point
from mwx.ttx.evaluation import evaluate
from mwx.ttx.log import (
    Action,
    Answered,
    Consulted,
    ExerciseLog,
    InjectDelivered,
    PlanItem,
    PublicWarning,
    Rated,
    SystemMark,
)
from mwx.ttx.msel import Capability, Inject, LaunchSpec, Module, Msel, Objective, Reference, Task
from mwx.ttx.report import PLAN_COLUMNS, read_plan, read_plan_csv, write_aar

START = datetime(2022, 10, 3, 22, 20, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script> & | [link](javascript:alert(1)) `code` *bold*'
SECTIONS = [
    "overview",
    "capabilities",
    "tasks",
    "strengths",
    "areas-for-improvement",
    "timeline",
    "consultation",
    "public-warnings",
    "improvement-plan",
]


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def exercise_msel() -> Msel:
    """L1 at T+02:47; the question I5 to JP at T+06:00; four capabilities that come out P, S, M and U."""
    injects = [
        Inject(
            id="I1",
            at="00:02:47",
            kind="launch",
            text="IRBM launch from the west coast",
            launch=LaunchSpec(site=Point(lat=40.61, lon=126.43), apogee_km=970.0, range_km=4500.0, id="L1"),
        ),
        Inject(id="I5", at="06:00", kind="question", to=["JP"], text="What do you tell the public?"),
    ]

    def one(cap: str, measure: str, target: float, **ref: str) -> Capability:
        t = Task(
            id=f"{cap}.1",
            text=f"{measure} within {target:g} s",
            measure=measure,  # type: ignore[arg-type]
            target_s=target,
            reference=Reference(**ref),
            cell="JP" if measure == "inject_answered" else None,
        )
        return Capability(id=cap, name=f"{measure} capability", tasks=[t])

    return Msel(
        name="oct-2022-ttx",
        title="An IRBM over Japan",
        start=START,
        duration_min=40.0,
        modules=[Module(id="M1", name="Move 1 — the IRBM", injects=injects)],
        cells=["KR", "JP", "US"],
        objectives=[Objective(id="O1", text="Warn the public together", capabilities=["C1", "C2", "C3", "C4"])],
        capabilities=[
            one("C1", "first_detection", 60.0, launch="L1"),  # met: P
            one("C2", "first_shared_track", 60.0, launch="L1"),  # 95 s: late within twice: S
            one("C3", "inject_answered", 180.0, inject="I5"),  # JP never answers: U
            one("C4", "consultation_opened", 60.0, launch="L1"),  # 200 s: late beyond twice: M
        ],
    )


def exercise_log(msel: Msel, *, evaluated: bool = True) -> ExerciseLog:
    marks = [
        SystemMark(time=at(167), kind="launch", launch="L1", detail="L1"),
        SystemMark(time=at(207), kind="first_detection", launch="L1", partner="KR", detail="KR-T0001"),
        SystemMark(time=at(262), kind="first_shared_track", launch="L1", detail="KR-T0001"),
        SystemMark(time=at(1400), kind="impact", launch="L1", detail="L1"),
    ]
    actions: list[Action] = [
        InjectDelivered(time=at(167), by="white", inject_id="I1", module="M1", kind="launch", to=["white"]),
        InjectDelivered(time=at(360), by="white", inject_id="I5", module="M1", kind="question", to=["JP"], text="?"),
        Consulted(time=at(367), by="KR", act="request", topic="KR-E001", text=HOSTILE, msg_id="KR-12"),
        Consulted(time=at(400), by="US", act="share", topic="KR-E001", text="IRBM, Pacific", in_reply_to="KR-12",
                  source="script"),
        PublicWarning(time=at(420), by="JP", warning_id="JP-W1", status="issued", area="Japan", text=HOSTILE,
                      cap_file="cap/JP-W1.xml"),
        Answered(time=at(430), by="KR", inject_id="I5", text="not JP's answer"),
        Rated(time=at(2500), by="eval", capability="C2", rating="M", observation=f"slow hand-over {HOSTILE}"),
        PlanItem(time=at(2600), by="eval", item_id="P1", capability="C4", issue="Consultation opened late",
                 corrective_action="Drill the request", owner="KR J3", due="2023-03-01"),
    ]  # fmt: skip
    log = ExerciseLog(
        name=msel.name, title=msel.title, start=START, end=at(2400), seed=7, cells=["KR", "JP", "US"],
        actions=actions, marks=marks,
    )  # fmt: skip
    log.plan = [a for a in actions if isinstance(a, PlanItem)]
    if evaluated:
        log.evaluation = evaluate(msel, actions, marks)
    return log


@pytest.fixture
def written(tmp_path: Path) -> dict[str, Path]:
    msel = exercise_msel()
    return write_aar(tmp_path / "aar", msel, exercise_log(msel))


class _Ids(HTMLParser):
    """The ids of a page's sections, and its elements left open (a well-nested page leaves none)."""

    VOID = frozenset({"meta", "br", "hr", "img", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.stack: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "section":
            self.sections.append(dict(attrs)["id"] or "")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else ''}>"
        self.stack.pop()


# ------------------------------------------------------------------------------------------- the files
def test_the_four_files_are_written(written: dict[str, Path]) -> None:
    assert sorted(written) == ["aar.html", "aar.md", "exercise.json", "improvement-plan.csv"]
    for path in written.values():
        assert path.is_file() and path.stat().st_size > 0


def test_html_has_the_sections_the_marking_and_no_markup_from_the_log(written: dict[str, Path]) -> None:
    page = written["aar.html"].read_text(encoding="utf-8")
    parsed = _Ids()
    parsed.feed(page)
    assert parsed.stack == []
    top = [s for s in parsed.sections if not s.startswith("cap-")]
    assert top == SECTIONS
    assert [s for s in parsed.sections if s.startswith("cap-")] == ["cap-C1", "cap-C2", "cap-C3", "cap-C4"]
    assert page.count("EXERCISE EXERCISE EXERCISE") >= 2  # the banner, top and bottom
    # Self-contained and inert: no script of any kind, nothing fetched from elsewhere.
    assert "script" not in parsed.tags and "<script" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "src=" not in page and "http" not in page and "<link" not in page
    for text in ["oct-2022-ttx", "An IRBM over Japan", "2022-10-03 22:20:00Z", "2022-10-03 23:00:00Z"]:
        assert text in page
    assert "C3.1: JP did not answer inject I5 (target 180 s)." in page
    assert "performed with major challenges" in page  # C2's final rating, in words


def test_markdown_has_the_same_sections_and_tables_escaped(written: dict[str, Path]) -> None:
    text = written["aar.md"].read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Exercise overview",
        "## Objectives and capabilities",
        "## Critical tasks",
        "## Strengths",
        "## Areas for improvement",
        "## Timeline",
        "## Consultation",
        "## Public warnings",
        "## Improvement plan",
    ]
    lines = text.splitlines()
    assert "| Capability | Proposed | Final | Final rating in words | Rated by | Evaluator's observation |" in lines
    assert "| Item | Capability | Issue | Corrective action | Owner | Due |" in lines
    # Every table row has as many cells as its header: the pipes in the log's texts are escaped.
    for k, line in enumerate(lines):
        if line.startswith("|---") or line.startswith("|--"):
            width = lines[k - 1].count(" | ")
            for row in lines[k + 1 :]:
                if not row.startswith("| "):
                    break
                assert row.replace("\\|", "").count(" | ") == width, row
    assert "<script" not in text and "&lt;script&gt;" in text
    assert "\\[link\\](javascript:alert(1))" in text  # not a link
    assert "| C2 — first_shared_track capability | S | M | performed with major challenges | eval |" in text


def test_csv_has_the_plan_items_then_an_open_row_per_m_or_u_capability(written: dict[str, Path]) -> None:
    with written["improvement-plan.csv"].open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(PLAN_COLUMNS)
    # P1 is the evaluators' (C4, proposed M); C2 (rated M by the evaluator) and C3 (U) have none: prefilled.
    assert [(r["item_id"], r["capability"]) for r in rows] == [("P1", "C4"), ("IP-C2", "C2"), ("IP-C3", "C3")]
    c3 = rows[2]
    assert c3["issue"].startswith("inject_answered capability rated U: C3.1: JP did not answer inject I5")
    assert (c3["corrective_action"], c3["owner"], c3["due"]) == ("", "", "")
    assert rows[1]["issue"].endswith(f"Evaluator: slow hand-over {HOSTILE}")


def test_exercise_json_is_the_log(written: dict[str, Path]) -> None:
    msel = exercise_msel()
    log = msgspec.json.decode(written["exercise.json"].read_bytes(), type=ExerciseLog)
    assert log == exercise_log(msel)
    assert [r.final for r in log.evaluation] == ["P", "M", "U", "M"]
    assert [r.proposed for r in log.evaluation] == ["P", "S", "U", "M"]


def test_a_log_without_its_evaluation_is_evaluated_when_written(tmp_path: Path, written: dict[str, Path]) -> None:
    msel = exercise_msel()
    files = write_aar(tmp_path / "again", msel, exercise_log(msel, evaluated=False))
    for name in written:
        assert files[name].read_bytes() == written[name].read_bytes(), name


def test_the_same_log_gives_byte_identical_files(tmp_path: Path, written: dict[str, Path]) -> None:
    msel = exercise_msel()
    again = write_aar(tmp_path / "second", msel, exercise_log(msel))
    for name, path in written.items():
        assert again[name].read_bytes() == path.read_bytes(), name


def test_an_empty_exercise_is_reported(tmp_path: Path) -> None:
    msel = msgspec.structs.replace(exercise_msel(), capabilities=[], objectives=[])
    log = ExerciseLog(name=msel.name, title=None, start=START, end=at(60), seed=0, cells=[], actions=[], marks=[])
    files = write_aar(tmp_path, msel, log)
    page = files["aar.html"].read_text(encoding="utf-8")
    assert "The MSEL names no capability to evaluate." in page and "No improvement item." in page
    assert files["improvement-plan.csv"].read_text(encoding="utf-8") == ",".join(PLAN_COLUMNS) + "\n"


# ------------------------------------------------------------------------------------------- the plan read back
def test_read_plan_csv_round_trip(written: dict[str, Path]) -> None:
    path = written["improvement-plan.csv"]
    when = at(3000)
    assert read_plan_csv(path, at=when) == [
        PlanItem(time=when, by="eval", item_id="P1", capability="C4", issue="Consultation opened late",
                 corrective_action="Drill the request", owner="KR J3", due="2023-03-01")
    ]  # fmt: skip
    plan = read_plan(path)
    assert [r.item_id for r in plan.open] == ["IP-C2", "IP-C3"]
    # An evaluator fills in C3's row in a spreadsheet (which may add a byte-order mark and CRLF line ends).
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    rows[3][3:6] = ["Make answering questions a checklist item", "JP J5", "2023-04-15"]
    edited = path.with_name("edited.csv")
    with edited.open("w", newline="", encoding="utf-8-sig") as f:
        csv.writer(f).writerows(rows)
    items = read_plan_csv(edited)
    assert [(i.item_id, i.owner, i.due) for i in items] == [
        ("P1", "KR J3", "2023-03-01"),
        ("IP-C3", "JP J5", "2023-04-15"),
    ]
    assert [r.item_id for r in read_plan(edited).open] == ["IP-C2"]
    assert all(i.time == datetime(1970, 1, 1, tzinfo=UTC) for i in items)  # no time of its own


def test_read_plan_csv_checks_the_header(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text("item,capability,issue\n")
    with pytest.raises(InputError) as err:
        read_plan_csv(path)
    assert str(err.value) == f"{path}: row 1: the header must be {','.join(PLAN_COLUMNS)}"
    with pytest.raises(InputError, match=r"missing\.csv: missing$"):
        read_plan_csv(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    ("row", "where", "problem"),
    [
        ("P2,C1,Slow,Drill,J3,2023-02-30", "row 3, column due", "'2023-02-30' is not a date YYYY-MM-DD"),
        ("P2,C1,Slow,Drill,J3,1 March", "row 3, column due", "'1 March' is not a date YYYY-MM-DD"),
        ("P2,C1,,Drill,J3,2023-03-01", "row 3, column issue", "is empty"),
        ("P2,,Slow,Drill,J3,2023-03-01", "row 3, column capability", "is empty"),
        (",C1,Slow,Drill,J3,2023-03-01", "row 3, column item_id", "must be 1-64 printable characters without spaces"),
        ("P1,C1,Slow,Drill,J3,2023-03-01", "row 3, column item_id", "'P1' is given twice"),
        ("P2,C1,Slow,Drill,J3", "row 3, column due", "5 cells where the header has 6"),
        ("P2,C1,Slow,Drill,J3,2023-03-01,extra", "row 3, column due", "7 cells where the header has 6"),
        (f"P2,C1,{'x' * 2001},Drill,J3,2023-03-01", "row 3, column issue", "is longer than 2000 characters"),
    ],
)
def test_read_plan_csv_names_the_row_and_column_of_a_bad_row(
    tmp_path: Path, row: str, where: str, problem: str
) -> None:
    path = tmp_path / "plan.csv"
    path.write_text(f"{','.join(PLAN_COLUMNS)}\nP1,C1,Late,Drill,J3,2023-03-01\n{row}\n")
    with pytest.raises(InputError) as err:
        read_plan_csv(path)
    assert str(err.value) == f"{path}: {where}: {problem}"
    assert "\n" not in str(err.value)


def test_blank_lines_are_skipped_and_open_rows_kept_open(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text(f"{','.join(PLAN_COLUMNS)}\n\nP1,C1,Late,Drill,J3,2023-03-01\n,,,,,\nP2,C2,Slow,,,\n")
    plan = read_plan(path)
    assert [i.item_id for i in plan.items] == ["P1"]
    assert [(r.item_id, r.issue, r.open) for r in plan.open] == [("P2", "Slow", True)]


def test_the_plan_read_back_writes_the_same_plan(tmp_path: Path, written: dict[str, Path]) -> None:
    msel = exercise_msel()
    log = msgspec.json.decode(written["exercise.json"].read_bytes(), type=ExerciseLog)
    log.plan = read_plan_csv(written["improvement-plan.csv"], at=log.end)
    again = write_aar(tmp_path / "again", msel, log)
    assert again["improvement-plan.csv"].read_bytes() == written["improvement-plan.csv"].read_bytes()
