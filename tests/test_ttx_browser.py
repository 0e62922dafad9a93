"""A whole exercise in a real browser (issue 17): the facilitator's, KR's and JP's pages in one Chromium.

The tests' MSEL (``small-ttx``: S1 launches at T+2:00, I2 to every cell at T+3:00, I3 a question to JP alone at
T+4:00) runs in-process, paced at :data:`SPEED` × real time, US played by its script, KR and JP by the pages.
The facilitator starts the clock and pauses it (the technical simulation stands still); while it is held, JP
asks for an assessment, KR answers it and JP warns its public; resumed, the injects reach their addressees
only and JP answers its question; ended, the after-action report lists all of it with its times.  What a page
must show is read from the API (plain JSON over HTTP), the run's pictures or the report's files, never from
the page's own code.
"""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from conftest import chromium_path
from mwx.exercise.run import RunResult, run_scenario
from mwx.live.updates import TrackUpdate
from mwx.ttx.control import ExerciseControl
from mwx.ttx.evaluation import marks_of
from mwx.ttx.journal import Journal
from mwx.ttx.msel import load_msel, scenario_of
from mwx.ttx.report import write_aar
from mwx.ttx.session import ExerciseSession

pytestmark = pytest.mark.requires_component("chromium")

SMALL = Path(__file__).parent / "data" / "exercises" / "small-ttx.yaml"
CELLS = ("KR", "JP", "US")
#: Scenario seconds per wall second: S1 is seen by KR ~7 s after the start, I3 is out ~3 s after the resume.
SPEED = 25.0
T = TypeVar("T")


class Exercise:
    """The exercise run in a thread, as ``mwx exercise start --http 0 --scripted US`` runs it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.msel = load_msel(SMALL)
        self.journal = Journal(folder / "journal.jsonl")
        self.control = ExerciseControl(self.msel, list(CELLS), scripted=["US"], journal=self.journal, folder=folder)
        self.session = ExerciseSession(self.control, speed=SPEED)
        self.result: RunResult | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.result = run_scenario(scenario_of(self.msel), console=self.session)
        except BaseException as err:
            self.error = err

    def start(self) -> None:
        self.thread.start()
        self.wait_for(lambda: self.session.begun.is_set() and self.session.server.server.started, 120)

    def close(self) -> None:
        if self.thread.is_alive():
            self.session.pacer.pause()  # a run left half-way (a failed test) idles, held, in its daemon thread
        self.session.close()
        self.journal.close()

    @property
    def url(self) -> str:
        assert self.session.server is not None
        return self.session.server.url

    def token(self, role: str) -> str:
        assert self.session.tokens is not None
        return self.session.tokens.by_partner[role]

    def state(self) -> dict[str, Any]:
        """The exercise's state as the facilitator's page gets it."""
        request = urllib.request.Request(
            f"{self.url}/api/exercise/state", headers={"Authorization": f"Bearer {self.token('white')}"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    def tracks(self, cell: str) -> tuple[int, float]:
        """How many track states ``cell``'s picture holds, and the latest one's scenario time."""
        updates = [u for u in self.session.pictures[cell].since(0).updates if isinstance(u, TrackUpdate)]
        return len(updates), max((u.time.timestamp() for u in updates), default=0.0)

    def wait_for(self, found: Callable[[], T], timeout: float, every: float = 0.05) -> T:
        deadline = time.monotonic() + timeout
        while True:
            if self.error is not None:
                raise AssertionError(f"the run failed: {self.error!r}") from self.error
            value = found()
            if value:
                return value
            assert time.monotonic() < deadline, f"not seen within {timeout} s"
            time.sleep(every)

    def finish(self, timeout: float = 120) -> RunResult:
        self.thread.join(timeout)
        if self.error is not None:
            raise AssertionError(f"the run failed: {self.error!r}") from self.error
        assert self.result is not None, "the run did not finish in time"
        return self.result


def _t(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _ex(t: float, start: float) -> str:
    """``T+MM:SS`` of Unix time ``t``, to the whole second (what the report writes)."""
    minutes, seconds = divmod(round(t - start), 60)
    return f"T+{minutes:02d}:{seconds:02d}"


def _utc(t: float) -> str:
    return datetime.fromtimestamp(round(t), UTC).strftime("%H:%M:%SZ")


def _shown(t: float, start: float) -> str:
    """``#clock-time`` of Unix time ``t``: the page cuts to the second (UTC and exercise time)."""
    minutes, seconds = divmod(math.floor(t - start), 60)
    return f"{datetime.fromtimestamp(math.floor(t), UTC):%H:%M:%SZ} T+{minutes:02d}:{seconds:02d}"


def test_an_exercise_played_in_the_browser(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    ex = Exercise(tmp_path)
    startex = ex.msel.t_start
    errors: list[str] = []
    ex.start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path())
            try:
                pages = {}
                for role, path in (("white", "/exercise/white"), ("KR", "/console/KR"), ("JP", "/console/JP")):
                    context = browser.new_context(viewport={"width": 1400, "height": 900})  # one person each
                    page = context.new_page()
                    page.on(
                        "console", lambda m, who=role: errors.append(f"{who}: {m.text}") if m.type == "error" else None
                    )
                    page.on("pageerror", lambda e, who=role: errors.append(f"{who}: {e}"))
                    page.goto(f"{ex.url}{path}?token={ex.token(role)}")
                    pages[role] = page
                for page in pages.values():
                    page.wait_for_function("document.body.dataset.ready === '1'", timeout=30_000)
                white, kr, jp = pages["white"], pages["KR"], pages["JP"]

                def displayed() -> tuple[Any, ...]:
                    """The facilitator's clock, KR's clock and the tracks KR's map draws."""
                    return (
                        white.text_content("#clock-time"),
                        kr.text_content("#clock"),
                        kr.evaluate("window.mwx.trackKeys()"),
                    )

                assert kr.is_visible("#exercise-panel") and jp.is_visible("#exercise-panel")

                # ---- 1. Before the start the clock waits at STARTEX: nothing of the simulation moves.
                assert white.text_content("#clock-state") == "waiting"
                assert white.is_enabled("#start") and white.is_disabled("#pause")
                seq_before = kr.evaluate("document.body.dataset.seq")
                time.sleep(1.0)
                state = ex.state()
                assert state["clock"] == "waiting" and _t(state["time"]) == startex
                assert white.text_content("#clock-time") == _shown(startex, startex)
                assert kr.evaluate("document.body.dataset.seq") == seq_before
                assert ex.tracks("KR") == (0, 0.0) and kr.evaluate("window.mwx.trackKeys()") == []

                # ---- 2. Started, the clock runs; KR's radars see S1 (launched at T+2:00).
                white.click("#start")
                white.wait_for_function("document.querySelector('#clock-state').textContent === 'running'")
                kr.wait_for_function("window.mwx.trackKeys().length > 0", timeout=60_000)
                assert _t(ex.state()["time"]) > startex + 120.0

                # ---- 3. Paused, the technical simulation stands still ...
                white.click("#pause")
                white.wait_for_function("document.querySelector('#clock-state').textContent === 'paused'")
                assert white.is_enabled("#resume") and white.is_disabled("#pause")
                # A run behind the clock when the pause came catches up with the held time first (as fast as it
                # computes), then takes no step: wait until nothing moves for 0.5 s, then watch it stand still.
                held = ex.state()
                t_pause = _t(held["time"])
                pictures, shown = {}, ()
                deadline = time.monotonic() + 30.0
                while (now := ({cell: ex.tracks(cell) for cell in CELLS}, displayed())) != (pictures, shown):
                    assert time.monotonic() < deadline, "the run did not come to rest at the held clock"
                    pictures, shown = now
                    time.sleep(0.5)
                time.sleep(1.5)
                assert _t(ex.state()["time"]) == t_pause
                assert {cell: ex.tracks(cell) for cell in CELLS} == pictures
                assert pictures["KR"][0] > 0 and pictures["KR"][1] <= t_pause
                assert displayed() == shown
                assert white.text_content("#clock-time") == _shown(t_pause, startex)

                # ... while the cells consult: JP asks KR for an assessment of S1 ...
                jp.select_option("#note-act", "request")
                jp.fill("#note-topic", "S1")
                jp.check("#note-to input[type=checkbox][value='KR']")
                jp.fill("#note-text", "JP requests KR's assessment of S1: where does it fall?")
                jp.click("#note-send")
                mine = jp.wait_for_selector("#notes .note[data-sender='JP'][data-act='request'][data-own='true']")
                request_id = mine.get_attribute("data-msg-id")
                assert request_id and request_id.startswith("JP-")

                # ... KR sees it and answers it, as a reply ...
                asked = kr.wait_for_selector(f"#notes .note[data-msg-id='{request_id}']", timeout=10_000)
                assert (asked.get_attribute("data-sender"), asked.get_attribute("data-act")) == ("JP", "request")
                assert asked.get_attribute("data-own") == "false"
                asked.query_selector(".note-reply").click()
                assert kr.input_value("#note-topic") == "S1"
                assert request_id in kr.text_content("#note-reply-to")
                kr.select_option("#note-act", "share")
                kr.fill("#note-text", "KR assessment: one SRBM from the west coast, impact in the Sea of Japan.")
                kr.click("#note-send")

                # ... and KR's answer is in JP's console, naming JP's request.
                answer = jp.wait_for_selector("#notes .note[data-sender='KR'][data-act='share']", timeout=10_000)
                assert answer.get_attribute("data-own") == "false"
                assert request_id in answer.query_selector(".reply-to").text_content()
                assert "one SRBM from the west coast" in answer.query_selector(".note-text").text_content()
                share_id = answer.get_attribute("data-msg-id")
                assert share_id and share_id.startswith("KR-")

                # ---- 4. JP warns its public (still paused), then the facilitator resumes.
                areas = jp.eval_on_selector_all("#warning-area option", "os => os.map(o => o.value)")
                assert "Japan" in areas
                jp.select_option("#warning-area", "Japan")
                jp.fill("#warning-text", "Missile launch: take shelter in a building. EXERCISE.")
                jp.click("#warning-issue")
                warning = jp.wait_for_selector("#warnings .warning[data-status='issued']", timeout=10_000)
                warning_id = warning.get_attribute("data-warning-id")
                assert warning_id and "Japan" in warning.text_content()
                held = ex.state()
                assert held["clock"] == "paused" and _t(held["time"]) == t_pause  # all of it while held
                assert {cell: ex.tracks(cell) for cell in CELLS} == pictures

                white.click("#resume")
                white.wait_for_function("document.querySelector('#clock-state').textContent === 'running'")
                ex.wait_for(lambda: _t(ex.state()["time"]) > t_pause + 5.0, 10)

                # ---- 5. The injects reach their addressees only: I2 everyone, I3 (a question) JP alone.
                jp.wait_for_selector("#inject-list .inject[data-inject-id='I3'][data-kind='question']", timeout=30_000)
                assert jp.is_visible("#inject-list .inject[data-inject-id='I2'][data-kind='situation']")
                kr_seq = ex.session.pictures["KR"].seq  # KR's picture once I3 went out ...
                kr.wait_for_function(f"Number(document.body.dataset.seq) >= {kr_seq}", timeout=10_000)
                kr_injects = kr.evaluate("window.mwx.injects()")  # ... all of it on KR's page
                assert "I2" in kr_injects and "I3" not in kr_injects, kr_injects
                assert kr.query_selector("#inject-list .inject[data-inject-id='I3']") is None
                assert {"I2", "I3"} <= set(jp.evaluate("window.mwx.injects()"))
                white.wait_for_selector("#injects tr.inject[data-inject-id='I3'][data-delivered='true']")
                assert white.get_attribute("#injects tr.inject[data-inject-id='I2']", "data-delivered") == "true"
                assert white.get_attribute("#injects tr.inject[data-inject-id='I6']", "data-delivered") == "false"

                question = "#inject-list .inject[data-inject-id='I3']"
                jp.fill(f"{question} .answer-text", "Yes: JP warned Japan's public while the clock was held.")
                jp.click(f"{question} .answer-send")
                jp.wait_for_selector(f"{question}[data-answered='true']", timeout=10_000)

                # ---- 6. The facilitator ends the exercise: the run goes on to ENDEX unpaced.
                white.click("#end")
                result = ex.finish()
                white.wait_for_function("document.querySelector('#clock-state').textContent === 'finished'")
                logged = white.eval_on_selector_all(
                    "#actions li[data-by='white'][data-type='control']", "ls => ls.map(l => l.textContent)"
                )
                assert len(logged) == 4, logged  # start, pause, resume, end
            finally:
                browser.close()
    finally:
        ex.close()
    assert not errors, errors

    # ---- 7. The report lists what was done, each with its time.
    log = ex.control.conclude(marks_of(result))
    paths = write_aar(tmp_path, ex.msel, log)
    assert set(paths) >= {"aar.html", "aar.md", "exercise.json"}
    actions = json.loads((tmp_path / "exercise.json").read_text())["actions"]

    def one(**fields: Any) -> dict[str, Any]:
        found = [a for a in actions if all(a.get(k) == v for k, v in fields.items())]
        assert len(found) == 1, (fields, found)
        return found[0]

    start = one(type="control", by="white", action="start")
    pause = one(type="control", by="white", action="pause")
    resume = one(type="control", by="white", action="resume")
    one(type="control", by="white", action="end")
    request = one(type="note", by="JP", act="request", source="console")
    share = one(type="note", by="KR", act="share", source="console")
    issued = one(type="warning", by="JP", status="issued")
    answered = one(type="answer", by="JP", inject_id="I3")
    i3 = one(type="inject", inject_id="I3")
    assert request["msg_id"] == request_id and request["topic"] == "S1" and request["to"] == ["KR"]
    assert share["msg_id"] == share_id and share["in_reply_to"] == request_id and share["topic"] == "S1"
    assert issued["warning_id"] == warning_id and issued["area"] == "Japan" and issued["source"] == "console"
    assert one(type="received", by="JP", msg_id=share_id)["sender"] == "KR"
    assert one(type="received", by="KR", msg_id=request_id)["sender"] == "JP"
    assert i3["to"] == ["JP"] and one(type="inject", inject_id="I2")["to"] == list(CELLS)

    # Their times: the start at STARTEX; the consultation and the warning at the held clock; the answer after I3.
    entries = {"start": start, "pause": pause, "resume": resume, "request": request, "share": share,
               "warning": issued, "answer": answered, "I3": i3}  # fmt: skip
    times = {k: _t(a["time"]) for k, a in entries.items()}
    assert times["start"] == pytest.approx(startex, abs=0.01)
    assert startex + 120.0 < times["pause"] == pytest.approx(t_pause, abs=0.01)
    assert times["resume"] == pytest.approx(t_pause, abs=0.01)
    assert times["request"] == times["share"] == times["warning"]  # one held instant
    assert times["request"] == pytest.approx(t_pause, abs=0.01)  # a run behind the held clock caught up first
    assert times["I3"] == startex + 240.0 <= times["answer"] < ex.msel.t_end
    assert times["start"] < times["pause"] < times["I3"] < times["answer"]

    # The CAP file of the public warning, marked an exercise.
    assert issued["cap_file"] and issued["cap_file"].startswith("cap/")
    assert b"<status>Exercise</status>" in (tmp_path / issued["cap_file"]).read_bytes()

    # aar.md: each entry in the timeline with its exercise time and UTC; the consultation and the warnings tables.
    md = (tmp_path / "aar.md").read_text()
    html = (tmp_path / "aar.html").read_text()

    def section(title: str) -> list[str]:
        rest = md.split(f"\n## {title}\n", 1)[1]
        return [line for line in rest.split("\n## ", 1)[0].splitlines() if line.startswith("|")]

    def row(lines: list[str], needle: str) -> str:
        found = [line for line in lines if needle in line]
        assert len(found) == 1, (needle, found)
        return found[0]

    timeline = section("Timeline")
    for what, needle in (
        ("start", "| white | clock: start |"),
        ("pause", "| white | clock: pause |"),
        ("request", "| JP | request on S1 to KR |"),
        ("share", "| KR | share on S1 |"),
        ("warning", f"| JP | public warning {warning_id} issued (Japan) |"),
        ("answer", "| JP | answered inject I3 |"),
    ):
        line = row(timeline, needle)
        assert line.startswith(f"| {_ex(times[what], startex)} | 2023-04-13 {_utc(times[what])} |"), line
        assert _ex(times[what], startex) in html, what
    consulted = row(section("Consultation"), "| KR | share | S1 |")  # KR's reply names JP's request
    assert consulted.startswith(f"| {_ex(times['share'], startex)} |")
    assert consulted.endswith(f"| {request_id} | {share_id} |"), consulted
    warned = row(section("Public warnings"), f"| {warning_id} | issued | Japan |")
    assert warned.startswith(f"| {_ex(times['warning'], startex)} | JP |") and issued["cap_file"] in warned, warned
    for text in ("JP requests KR", "KR assessment: one SRBM", "take shelter in a building", "Yes: JP warned Japan"):
        assert text in md and text in html, text
