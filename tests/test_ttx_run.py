"""Exercises run end to end: injects to their addressees only, consultation over the exchange, scripted cells,
a cell that never answers, the same report twice, and an exercise killed mid-way resumed from its journal."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import msgspec
import pytest

from mwx.exercise.run import simulate
from mwx.live.operators import DeskClosed
from mwx.live.updates import InjectUpdate, NoteUpdate
from mwx.ttx.control import ExerciseControl
from mwx.ttx.desk import AnswerRequest, NoteRequest, WarningRequest
from mwx.ttx.evaluation import marks_of
from mwx.ttx.journal import Journal, read_journal
from mwx.ttx.log import Acknowledged, Answered, Consulted, ExerciseLog, NoteReceived, PublicWarning
from mwx.ttx.msel import load_msel, sample_path, scenario_of
from mwx.ttx.session import ExerciseSession

SMALL = Path(__file__).parent / "data" / "exercises" / "small-ttx.yaml"
MWX = [sys.executable, "-m", "mwx.cli"]


def _headless(msel, folder: Path):
    control = ExerciseControl(
        msel, ["KR", "JP", "US"], scripted=["KR", "JP", "US"], journal=Journal(folder / "j.jsonl"), folder=folder
    )
    session = ExerciseSession(control, speed=None)
    sim = simulate(scenario_of(msel), console=session)
    return control, session, sim


@pytest.fixture(scope="module")
def silent_jp(tmp_path_factory: pytest.TempPathFactory):
    """The small exercise headless, JP scripted never to answer a question."""
    msel = load_msel(SMALL)
    players = dict(msel.players) | {"JP": msgspec.structs.replace(msel.players["JP"], answer_s=None)}
    msel = msgspec.structs.replace(msel, players=players)
    folder = tmp_path_factory.mktemp("silent-jp")
    control, session, sim = _headless(msel, folder)
    log = control.conclude(marks_of(sim.result))
    return control, session, sim, log


def test_injects_reach_only_their_addressees(silent_jp) -> None:
    _, session, _, _ = silent_jp
    seen = {cell: [u.inject_id for u in session.pictures[cell].snapshot().injects] for cell in ("KR", "JP", "US")}
    assert seen["JP"] == ["I2", "I3", "I6"]  # I3: the question to JP alone
    assert seen["KR"] == seen["US"] == ["I2", "I6"]
    # Technical injects reach no console: the players meet them in the picture, not as text.
    assert not any(u.inject_id in ("I1", "I4", "I5") for c in seen for u in session.pictures[c].snapshot().injects)
    question = next(u for u in session.pictures["JP"].snapshot().injects if u.inject_id == "I3")
    assert isinstance(question, InjectUpdate) and question.question and question.source == "white"


def test_consultation_travels_over_the_exchange(silent_jp) -> None:
    _control, session, sim, log = silent_jp
    requests = [a for a in log.actions if isinstance(a, Consulted) and a.act == "request" and a.by == "JP"]
    assert requests, "JP's scripted cell requests an assessment after its first alert"
    request = requests[0]
    assert request.msg_id is not None and request.msg_id.startswith("JP-")
    # KR's node accepted it from the exchange (a verified envelope of JP's stream), then answered it.
    received = [a for a in log.actions if isinstance(a, NoteReceived) and a.msg_id == request.msg_id]
    assert {a.by for a in received} == {"KR", "US"}
    shares = [
        a for a in log.actions if isinstance(a, Consulted) and a.act == "share" and a.in_reply_to == request.msg_id
    ]
    assert {a.by for a in shares} >= {"KR"}
    kr_share = next(a for a in shares if a.by == "KR")
    assert (kr_share.time - request.time).total_seconds() == pytest.approx(40.0)  # KR's share_s
    # ... and KR's answer appears in JP's console, as a partner's note naming JP's request.
    notes = [u for u in session.pictures["JP"].snapshot().notes if isinstance(u, NoteUpdate)]
    answer = next(u for u in notes if u.sender == "KR" and u.act == "share")
    assert not answer.own and answer.in_reply_to == request.msg_id and answer.msg_id == kr_share.msg_id
    # The exchange counted them: notes are envelopes like every other message.
    assert sim.nodes["JP"].exchange.counters.received > 0


def test_a_cell_that_never_answers_fails_its_capability(silent_jp) -> None:
    _, _, _, log = silent_jp
    assert not [a for a in log.actions if isinstance(a, Answered) and a.by == "JP"]
    rating = next(r for r in log.evaluation if r.capability == "C3")
    assert rating.proposed in ("M", "U")
    assert "JP" in rating.reason and "I3" in rating.reason
    assert next(t for t in rating.tasks if t.task == "C3.1").status == "missed"


def test_requests_that_make_no_sense_are_refused_before_they_wait(silent_jp) -> None:
    control = silent_jp[0]
    refused = [
        (control.warning, "JP", WarningRequest(status="all-clear", area="Japan", text="over")),  # which warning?
        (control.warning, "JP", WarningRequest(status="issued", area="South Korea", text="shelter")),  # not JP's
        (control.warning, "JP", WarningRequest(status="issued", area="Japan", text="x", warning_id="JP-W9")),
        (control.note, "JP", NoteRequest(act="request", topic="S1", text="   ")),  # blank
        (control.note, "JP", NoteRequest(act="request", topic="S1", text="?", to=["CN"])),
        (control.answer, "JP", AnswerRequest(inject_id="I2", text="a situation is no question")),
        (control.answer, "KR", AnswerRequest(inject_id="I3", text="I3 was JP's")),
        (control.note, "XX", NoteRequest(act="text", topic="S1", text="who?")),
    ]  # fmt: skip
    for method, cell, request in refused:
        with pytest.raises(ValueError):
            method(cell, request)
    with pytest.raises(DeskClosed):  # a sound request once the exercise has ended
        control.note("JP", NoteRequest(act="text", topic="S1", text="after ENDEX"))


def test_spurious_track_is_seen_by_its_radar_alone(silent_jp) -> None:
    _, _, sim, _ = silent_jp
    m = sim.result.measurements
    jp_r1 = next(i for i, s in enumerate(sim.result.theater.sensors) if s.id == "JP-R1")
    start = load_msel(SMALL).t_start + 360.0  # I5 at 00:06:00 for 90 s
    inside = (m.time >= start) & (m.time < start + 90.0)
    ghost_rows = inside & (m.sensor == jp_r1) & (m.object == -1)
    others = inside & (m.sensor != jp_r1) & (m.object == -1)
    # A 2 s revisit over 90 s: dozens of reports from the ghost beside JP-R1's 0.3 false alarms a scan.
    assert ghost_rows.sum() > 35 + others.sum() / 8
    # JP's tracker made a track of it: a JP track first detected inside the window.
    firsts = [t for (p, _), t in sim.result.log.first_detection.items() if p == "JP" and start <= t < start + 90.0]
    assert firsts


def _run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MWX, *args], capture_output=True, text=True, timeout=timeout, check=False)


def test_the_sample_msel_headless_gives_the_same_report_twice(tmp_path: Path) -> None:
    """Two headless runs of the shipped sample at once (one core each): byte-identical reports."""
    outs = [tmp_path / "a", tmp_path / "b"]
    runs = [
        subprocess.Popen(
            [*MWX, "exercise", "start", "oct-2022-ttx", "--headless", "--quiet", "--out", str(o)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for o in outs
    ]
    for run in runs:
        _, err = run.communicate(timeout=600)
        assert run.returncode == 0, err
    for name in ("aar.html", "aar.md", "exercise.json", "improvement-plan.csv"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    log = msgspec.json.decode((outs[0] / "exercise.json").read_bytes(), type=ExerciseLog)
    msel = load_msel(sample_path("oct-2022-ttx"))
    delivered = {a.inject_id for a in log.actions if a.__struct_config__.tag == "inject"}
    assert delivered == {i.id for m in msel.modules for i in m.injects}
    assert [w for w in log.actions if isinstance(w, PublicWarning) and w.status == "issued"]
    assert len(log.evaluation) == len(msel.capabilities)


# ---------------------------------------------------------------------------- killed and resumed
def _post(url: str, token: str, body: dict) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as err:
        return err.code


def _state(url: str, token: str) -> dict:
    request = urllib.request.Request(f"{url}/api/exercise/state", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def test_an_exercise_killed_mid_way_resumes_from_its_journal(tmp_path: Path) -> None:
    out = tmp_path / "ex"
    process = subprocess.Popen(
        [*MWX, "exercise", "start", str(SMALL), "--out", str(out), "--http", "0", "--speed", "20", "--scripted", "US"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the kill takes its worker processes too
    )
    pages: dict[str, tuple[str, str]] = {}
    try:
        assert process.stderr is not None
        while len(pages) < 5:
            line = process.stderr.readline()
            assert line, "the exercise stopped before serving its pages"
            found = re.search(r"mwx: (console \w+|facilitator|evaluator): (http://[^/]+)\S*\?token=(\S+)", line)
            if found:
                pages[found[1]] = (found[2], found[3])
        url, white = pages["facilitator"]
        tokens = {cell: pages[f"console {cell}"][1] for cell in ("KR", "JP", "US")}
        assert _state(url, white)["clock"] == "waiting"
        assert _post(f"{url}/api/exercise/control", white, {"action": "start"}) == 202
        deadline = time.monotonic() + 120
        while _state(url, white)["time"] < "2023-04-13T01:01:30":  # S1 has flown for 90 s
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.2)
        # JP asks, KR answers JP's request by its envelope id, JP warns the public: all journalled.
        assert _post(f"{url}/api/JP/note", tokens["JP"], {"act": "request", "topic": "S1", "text": "Assess S1?"}) == 202
        deadline = time.monotonic() + 60
        while not (
            request_id := next(
                (a["msg_id"] for a in _state(url, white)["actions"] if a["type"] == "note" and a["by"] == "JP"), None
            )
        ):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        reply = {"act": "share", "topic": "S1", "text": "KR: SRBM, Sea of Japan.", "in_reply_to": request_id}
        assert _post(f"{url}/api/KR/note", tokens["KR"], reply) == 202
        warning = {"status": "issued", "area": "Japan", "text": "Take shelter. EXERCISE."}
        assert _post(f"{url}/api/JP/warning", tokens["JP"], warning) == 202
        deadline = time.monotonic() + 60

        # The warning and the note it sends (journalled just after it; a resumed run makes it again with the
        # warning), so that what the journal holds at the kill is every action of the resumed log.
        def warned() -> bool:
            entries = [line.entry for line in read_journal(out / "journal.jsonl")]
            return any(isinstance(e, PublicWarning) for e in entries) and any(
                isinstance(e, Consulted) and e.act == "warning" for e in entries
            )

        while not warned():
            assert time.monotonic() < deadline
            time.sleep(0.1)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    lines_before = read_journal(out / "journal.jsonl")
    journalled = [line.entry for line in lines_before if line.entry.source == "console"]
    assert not (out / "exercise.json").exists()  # killed before the end

    resumed = _run_cli("exercise", "resume", str(out), "--headless", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    log = msgspec.json.decode((out / "exercise.json").read_bytes(), type=ExerciseLog)
    console = [a for a in log.actions if a.source == "console" and a.__struct_config__.tag != "control"]
    # Nothing lost: every journalled action carried out again, at its time, in the same envelopes.
    assert [(type(a).__name__, a.time, a.by) for a in console] == [
        (type(a).__name__, a.time, a.by) for a in journalled if a.__struct_config__.tag != "control"
    ]
    notes = {a.by: a for a in console if isinstance(a, Consulted) and a.act in ("request", "share")}
    assert notes["JP"].msg_id == request_id and notes["KR"].in_reply_to == request_id
    heard = [a for a in log.actions if isinstance(a, NoteReceived) and a.msg_id == notes["KR"].msg_id]
    assert {a.by for a in heard} == {"JP", "US"}
    # The journal goes on from where it was cut: what was redone is not written twice.
    lines_after = read_journal(out / "journal.jsonl")
    assert lines_after[: len(lines_before)] == lines_before
    redone = {(line.step, msgspec.json.encode(line.entry)) for line in lines_before}
    assert not [
        line for line in lines_after[len(lines_before) :] if (line.step, msgspec.json.encode(line.entry)) in redone
    ]
    issued = next(a for a in console if isinstance(a, PublicWarning))
    assert issued.cap_file is not None and b"<status>Exercise</status>" in (out / issued.cap_file).read_bytes()
    # The people's cells stay people's: no script acted for KR or JP, before the kill or after.
    assert not [
        a for a in log.actions if isinstance(a, Acknowledged | Consulted) and a.by != "US" and a.source == "script"
    ]


def test_a_broken_msel_is_one_line_and_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(SMALL.read_text().replace('at: "00:04:00"', 'at: "00:74:00"'))
    for command in (["exercise", "check", str(broken)], ["exercise", "start", str(broken), "--headless", "--out",
                                                         str(tmp_path / "out")]):  # fmt: skip
        answer = _run_cli(*command, timeout=60)
        assert answer.returncode == 2
        lines = answer.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"mwx: {broken}: modules[0].injects[2].at: ")
        assert not (tmp_path / "out").exists()  # refused before any work


def test_start_refuses_a_folder_holding_an_exercise(tmp_path: Path) -> None:
    (tmp_path / "journal.jsonl").write_text("")
    answer = _run_cli("exercise", "start", str(SMALL), "--headless", "--out", str(tmp_path), timeout=60)
    assert answer.returncode == 2 and "mwx exercise resume" in answer.stderr and len(answer.stderr.splitlines()) == 1
    answer = _run_cli("exercise", "start", str(SMALL), "--out", str(tmp_path), timeout=60)  # neither mode
    assert answer.returncode == 2 and "--http" in answer.stderr
