"""The exercise's pages and API (issue 17): who may see and do what, the request bodies checked at the door, the
desk's refusals as HTTP statuses, and the pages in a real browser against a fake desk.

The app is served for real (:class:`mwx.live.serve.ConsoleServer` on a free port) and spoken to over HTTP with
urllib, as a client would; the desk is an in-memory fake that records every request it is handed.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import msgspec
import pytest

from mwx import records
from mwx.exchange.messages import ConsultAct
from mwx.live.app import console_app
from mwx.live.operators import DeskClosed
from mwx.live.picture import LivePicture
from mwx.live.serve import ConsoleServer
from mwx.live.tokens import Tokens
from mwx.live.updates import (
    AnswerUpdate,
    AreaInfo,
    ClockUpdate,
    InjectUpdate,
    LaunchUpdate,
    NoteUpdate,
    Outline,
    Setup,
    WarningUpdate,
)
from mwx.ttx import log
from mwx.ttx.app import exercise_routes
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

CELLS = ("KR", "JP", "US")
T0 = datetime(2024, 3, 1, 0, 0, tzinfo=UTC)
HOSTILE = "<img src=x onerror=window.__pwned=1>"


def t(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --------------------------------------------------------------------------- a fake desk and its exercise
def exercise_state() -> ExerciseState:
    """An exercise five minutes in: two injects of three out, one action of every kind, two capabilities."""
    task = log.TaskResult(
        task="T1",
        text="Issue a warning within 2 min of the first track",
        measure="elapsed",
        cell="KR",
        target_s=120.0,
        reference_time=t(60),
        done_at=t(150),
        elapsed_s=90.0,
        status="met",
        evidence="W-KR-1 issued",
    )
    late = log.TaskResult(
        task="T2",
        text="Consult partners on the launch",
        measure="elapsed",
        cell=None,
        target_s=60.0,
        reference_time=t(60),
        done_at=None,
        elapsed_s=None,
        status="missed",
        evidence="",
    )
    plan_item = log.PlanItem(
        time=t(290),
        by="eval",
        item_id="IP-1",
        capability="C2",
        issue="No consultation",
        corrective_action="Drill the channel",
        owner="JP cell",
        due="2024-06-01",
    )
    return ExerciseState(
        name="ttx-demo",
        title="A tabletop on a lofted launch",
        cells=list(CELLS),
        start=T0,
        end=t(3600),
        time=t(300),
        clock="running",
        speed=10.0,
        injects=[
            InjectStatus(
                inject_id="I1",
                module="M1",
                at=t(30),
                kind="situation",
                source="white",
                to=[],
                text="Tension rises",
                expected_action="Review readiness",
                technical=False,
                delivered=True,
            ),
            InjectStatus(
                inject_id="L1",
                module="M1",
                at=t(60),
                kind="launch",
                source="white",
                to=[],
                text=None,
                expected_action="Detect, share, warn",
                technical=True,
                delivered=True,
            ),
            InjectStatus(
                inject_id="Q1",
                module="M2",
                at=t(600),
                kind="question",
                source="white",
                to=["KR"],
                text="Do you evacuate?",
                expected_action="Decide",
                technical=False,
                delivered=False,
            ),
        ],
        actions=[
            log.Control(time=t(0), by="white", action="start"),
            log.InjectDelivered(
                time=t(30), by="system", inject_id="I1", module="M1", kind="situation", to=[], text="Tension rises"
            ),
            log.Acknowledged(time=t(100), by="JP", msg_id="KR-4", alert_id="A1", sender="KR"),
            log.Consulted(time=t(110), by="KR", act="request", topic="E-1", text=HOSTILE, msg_id="KR-5"),
            log.NoteReceived(
                time=t(111), by="JP", sender="KR", msg_id="KR-5", act="request", topic="E-1", text=HOSTILE
            ),
            log.PublicWarning(time=t(150), by="KR", warning_id="W-KR-1", status="issued", area="Korea", text="Shelter"),
            log.Answered(time=t(200), by="US", inject_id="Q0", text="Yes", source="script"),
            log.Control(time=t(210), by="white", action="speed", speed=10.0),
            log.Rated(time=t(280), by="eval", capability="C1", rating="S", observation="Quick but noisy"),
            plan_item,
        ],
        evaluation=[
            log.CapabilityRating(
                capability="C1",
                name="Warning",
                proposed="P",
                reason="every task met",
                tasks=[task],
                rating="S",
                observation="Quick but noisy",
                rated_by="eval",
            ),
            log.CapabilityRating(capability="C2", name="Consultation", proposed="U", reason="T2 missed", tasks=[late]),
        ],
        plan=[plan_item],
    )


class FakeDesk:
    """An :class:`~mwx.ttx.desk.ExerciseDesk` that records what it is handed (and raises ``fail`` if set)."""

    def __init__(self, state: ExerciseState) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.fail: Exception | None = None
        self._state = state
        self._lock = threading.Lock()

    def _take(self, *call: Any) -> None:
        if self.fail is not None:
            raise self.fail
        with self._lock:
            self.calls.append(call)

    def state(self) -> ExerciseState:
        return self._state

    def control(self, request: ControlRequest) -> None:
        self._take("control", request)

    def note(self, cell: str, request: NoteRequest) -> None:
        self._take("note", cell, request)

    def warning(self, cell: str, request: WarningRequest) -> None:
        self._take("warning", cell, request)

    def answer(self, cell: str, request: AnswerRequest) -> None:
        self._take("answer", cell, request)

    def rate(self, evaluator: str, request: RatingRequest) -> None:
        self._take("rate", evaluator, request)

    def plan(self, evaluator: str, request: PlanRequest) -> None:
        self._take("plan", evaluator, request)

    def wait_for(self, found: Callable[[tuple[Any, ...]], bool], timeout: float = 5.0) -> tuple[Any, ...]:
        """The first call ``found`` accepts, waited for."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                hits = [c for c in self.calls if found(c)]
            if hits:
                return hits[0]
            time.sleep(0.05)
        raise AssertionError(f"no such call within {timeout} s; calls: {self.calls}")


def setup_of(partner: str) -> Setup:
    korea = AreaInfo(
        name="Korea",
        partner="KR",
        kind="territory",
        outline=Outline(rings=[[(126.0, 34.0), (129.5, 34.0), (129.5, 38.5), (126.0, 38.5), (126.0, 34.0)]]),
    )
    japan = AreaInfo(
        name="Japan",
        partner="JP",
        kind="territory",
        outline=Outline(rings=[[(130.0, 31.0), (141.0, 31.0), (141.0, 41.0), (130.0, 41.0), (130.0, 31.0)]]),
    )
    return Setup(
        partner=partner,
        partners=list(CELLS),
        mode="exercise",
        scenario="ttx-demo",
        start=T0,
        end=t(3600),
        bounds=(120.0, 28.0, 150.0, 46.0),
        sensors=[],
        areas=[korea, japan],
        stale_s=1e9,
    )


class Served:
    """The console app with the exercise's routes, served on a free port."""

    def __init__(self) -> None:
        self.desk = FakeDesk(exercise_state())
        self.tokens = Tokens.generate([*CELLS, "white", "eval"])
        self.pictures = {cell: LivePicture(setup_of(cell)) for cell in CELLS}
        app = console_app(self.pictures, self.tokens, extra_routes=exercise_routes(self.desk, self.tokens, CELLS))
        self.server = ConsoleServer(app).start()
        self.url = self.server.url

    def request(
        self,
        method: str,
        path: str,
        role: str | None,
        body: Any = None,
        raw: bytes | None = None,
        query_token: bool = False,
    ) -> tuple[int, dict[str, str], bytes]:
        token = self.tokens.by_partner[role] if role else None
        headers = {"Authorization": f"Bearer {token}"} if token and not query_token else {}
        if query_token and token:
            path += f"{'&' if '?' in path else '?'}token={token}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as answer:
                return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
        except urllib.error.HTTPError as err:
            return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    s = Served()
    yield s
    s.stop()


@pytest.fixture
def app(served: Served) -> Served:
    served.desk.calls.clear()
    served.desk.fail = None
    return served


# --------------------------------------------------------------------------- who may see and do what
NOTE = {"act": "request", "topic": "E-1", "text": "Do you see it?", "to": ["JP"]}
WARNING = {"status": "issued", "area": "Korea", "text": "Take shelter now"}
ANSWER = {"inject_id": "Q1", "text": "We evacuate"}
CONTROL = {"action": "speed", "speed": 20}
RATING = {"capability": "C2", "rating": "M", "observation": "Consulted late"}
PLAN = {"capability": "C2", "issue": "Late", "corrective_action": "Drill", "owner": "KR cell", "due": "2024-05-01"}

#: (method, path, body, the one role it is for (or roles), what the desk gets)
ROUTES: list[tuple[str, str, Any, set[str], tuple[Any, ...] | None]] = [
    ("GET", "/exercise/white", None, {"white"}, None),
    ("GET", "/exercise/eval", None, {"eval"}, None),
    ("GET", "/api/exercise/state", None, {"white", "eval"}, None),
    ("POST", "/api/exercise/control", CONTROL, {"white"}, ("control", ControlRequest(action="speed", speed=20.0))),
    (
        "POST",
        "/api/exercise/rating",
        RATING,
        {"eval"},
        ("rate", "eval", RatingRequest(capability="C2", rating="M", observation="Consulted late")),
    ),
    (
        "POST",
        "/api/exercise/plan",
        PLAN,
        {"eval"},
        (
            "plan",
            "eval",
            PlanRequest(capability="C2", issue="Late", corrective_action="Drill", owner="KR cell", due="2024-05-01"),
        ),
    ),
    (
        "POST",
        "/api/KR/note",
        NOTE,
        {"KR"},
        ("note", "KR", NoteRequest(act="request", topic="E-1", text="Do you see it?", to=["JP"])),
    ),
    (
        "POST",
        "/api/KR/warning",
        WARNING,
        {"KR"},
        ("warning", "KR", WarningRequest(status="issued", area="Korea", text="Take shelter now")),
    ),
    ("POST", "/api/JP/answer", ANSWER, {"JP"}, ("answer", "JP", AnswerRequest(inject_id="Q1", text="We evacuate"))),
]
ROLES = [None, *CELLS, "white", "eval"]


@pytest.mark.parametrize(("method", "path", "body", "allowed", "handed"), ROUTES, ids=[r[1] for r in ROUTES])
def test_every_route_opens_to_its_own_role_only(
    app: Served, method: str, path: str, body: Any, allowed: set[str], handed: tuple[Any, ...] | None
) -> None:
    for role in ROLES:
        app.desk.calls.clear()
        status, headers, answer = app.request(method, path, role, body)
        if role is None:
            assert status == 401, (path, answer)
            assert headers["www-authenticate"] == "Bearer"
        elif role not in allowed:
            assert status == 403, (path, role, answer)
            assert app.desk.calls == [], (path, role)
        elif method == "GET":
            assert status == 200, (path, role, answer)
        else:
            assert status == 202, (path, role, answer)
            assert json.loads(answer) == {"exercise": True, "accepted": True}
            assert app.desk.calls == [handed]
        assert headers["mwx-data"] == "exercise"


def test_a_token_in_the_address_opens_a_page_as_in_the_header(app: Served) -> None:
    status, headers, _ = app.request("GET", "/exercise/white", "white", query_token=True)
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert app.request("GET", "/exercise/white", "eval", query_token=True)[0] == 403
    assert app.request("GET", "/exercise/white?token=not-a-token", None)[0] == 401


def test_a_cell_acts_for_itself_only(app: Served) -> None:
    for cell in CELLS:
        for other in CELLS:
            status, _, _ = app.request("POST", f"/api/{other}/note", cell, NOTE)
            assert status == (202 if cell == other else 403), (cell, other)
    assert [c[1] for c in app.desk.calls] == list(CELLS)
    # a role is no cell, even on its own name; an unknown cell is no one's
    assert app.request("POST", "/api/white/note", "white", NOTE)[0] == 403
    assert app.request("POST", "/api/eval/answer", "eval", ANSWER)[0] == 403
    assert app.request("POST", "/api/CN/note", "KR", NOTE)[0] == 403
    # the consoles themselves: a cell opens its own only, and the roles open none
    assert app.request("GET", "/console/KR", "KR")[0] == 200
    assert app.request("GET", "/console/JP", "KR")[0] == 403
    assert app.request("GET", "/api/JP/picture", "KR")[0] == 403
    assert app.request("GET", "/console/KR", "white")[0] == 403
    assert app.request("GET", "/api/KR/stream", "eval")[0] == 403


def test_the_state_is_the_desks_and_decodes_back(app: Served) -> None:
    for role in ("white", "eval"):
        status, headers, body = app.request("GET", "/api/exercise/state", role)
        assert status == 200 and headers["content-type"] == "application/json"
        assert msgspec.json.decode(body, type=ExerciseState) == app.desk.state()
        assert json.loads(body)["exercise"] is True
        assert [a["type"] for a in json.loads(body)["actions"]][:3] == ["control", "inject", "ack"]


# --------------------------------------------------------------------------- bodies checked at the door
BAD_BODIES = [
    ("/api/KR/note", "KR", {**NOTE, "urgent": True}, "unknown field `urgent`"),
    ("/api/KR/note", "KR", {**NOTE, "text": ""}, "length >= 1"),
    ("/api/KR/note", "KR", {**NOTE, "act": "shout"}, "$.act"),
    ("/api/KR/note", "KR", {**NOTE, "to": ["K R"]}, "$.to[0]"),
    ("/api/KR/note", "KR", {**NOTE, "in_reply_to": "<b>"}, "$.in_reply_to"),
    ("/api/KR/note", "KR", {"act": "text", "text": "no topic"}, "missing required field `topic`"),
    ("/api/KR/warning", "KR", {**WARNING, "status": "final"}, "$.status"),
    ("/api/KR/warning", "KR", {**WARNING, "text": "x" * 2001}, "length <= 2000"),
    ("/api/KR/answer", "KR", {"inject_id": "Q1", "text": 42}, "Expected `str`, got `int`"),
    ("/api/exercise/control", "white", {"action": "rewind"}, "$.action"),
    ("/api/exercise/control", "white", {"action": "speed", "speed": "fast"}, "$.speed"),
    ("/api/exercise/control", "white", {"action": "speed", "speed": 0}, "$.speed"),
    ("/api/exercise/rating", "eval", {**RATING, "rating": "A"}, "$.rating"),
    ("/api/exercise/rating", "eval", {**RATING, "observation": ""}, "$.observation"),
    ("/api/exercise/plan", "eval", {**PLAN, "due": "next week"}, "$.due"),
    ("/api/exercise/plan", "eval", [PLAN], "Expected `object`, got `array`"),
]


@pytest.mark.parametrize(("path", "role", "body", "why"), BAD_BODIES, ids=[f"{b[0]}:{b[3]}" for b in BAD_BODIES])
def test_a_bad_body_is_a_422_with_a_one_line_reason(app: Served, path: str, role: str, body: Any, why: str) -> None:
    status, _, answer = app.request("POST", path, role, body)
    assert status == 422, answer
    detail = json.loads(answer)["detail"]
    assert isinstance(detail, str) and "\n" not in detail and why in detail, detail
    assert app.desk.calls == []


def test_a_body_that_is_not_json_is_a_422(app: Served) -> None:
    for raw in (b"", b"{", b"act=text", b"\xff\xfe"):
        status, _, answer = app.request("POST", "/api/KR/note", "KR", raw=raw)
        assert status == 422, (raw, answer)
        assert "\n" not in json.loads(answer)["detail"]


def test_the_desks_refusals_are_409_and_400(app: Served) -> None:
    posts = [(p, r, b) for m, p, b, roles, _ in ROUTES if m == "POST" for r in sorted(roles)]
    for path, role, body in posts:
        app.desk.fail = DeskClosed("the exercise is over")
        status, _, answer = app.request("POST", path, role, body)
        assert (status, json.loads(answer)["detail"]) == (409, "the exercise is over"), path
        app.desk.fail = ValueError("no inject Q1 in the MSEL")
        status, _, answer = app.request("POST", path, role, body)
        assert (status, json.loads(answer)["detail"]) == (400, "no inject Q1 in the MSEL"), path
    assert app.desk.calls == []


# --------------------------------------------------------------------------- the pages as served
def test_the_pages_are_marked_escaped_and_self_contained(app: Served) -> None:
    from mwx.live.updates import EXERCISE_MARKING

    for role in ("white", "eval"):
        status, _, body = app.request("GET", f"/exercise/{role}", role, query_token=True)
        page = body.decode()
        assert status == 200
        assert 'id="exercise-banner"' in page and EXERCISE_MARKING in page
        assert f'data-token="{app.tokens.by_partner[role]}"' in page
        assert "/ttx-static/exercise.js" in page and "/ttx-static/exercise.css" in page
        assert "http://" not in page and "https://" not in page  # no CDN
        for ids in ('id="clock-state"', 'id="clock-time"', 'id="clock-speed"', 'id="injects"', 'id="actions"'):
            assert ids in page, (role, ids)
        controls = ('id="start"', 'id="pause"', 'id="resume"', 'id="next"', 'id="end"', 'id="speed-input"')
        assert all((c in page) == (role == "white") for c in controls), role
        forms = ('id="evaluation"', 'id="plan"', 'id="plan-capability"', 'id="plan-due"', 'id="plan-add"')
        assert all((f in page) == (role == "eval") for f in forms), role
    for asset in ("exercise.js", "exercise.css"):
        status, _, body = app.request("GET", f"/ttx-static/{asset}", None)
        assert status == 200 and body
        assert b"innerHTML" not in body and b"insertAdjacentHTML" not in body and b"document.write" not in body


def test_the_cell_console_has_the_exercise_panel_in_an_exercise_only(app: Served) -> None:
    from mwx.live.app import _templates

    status, _, body = app.request("GET", "/console/KR", "KR", query_token=True)
    page = body.decode()
    assert status == 200 and 'id="exercise-panel"' in page and 'data-mode="exercise"' in page
    select = re.search(r'<select id="note-act".*?</select>', page, re.S)
    assert select is not None
    acts = re.findall(r'<option value="([a-z]+)"', select.group(0))
    assert acts == list(get_args(ConsultAct))  # the compose form offers every act the exchange carries
    for ids in (
        "note-act",
        "note-topic",
        "note-to",
        "note-text",
        "note-send",
        "warning-area",
        "warning-text",
        "warning-draft",
        "warning-issue",
        "warning-all-clear",
        "notes",
        "inject-list",
        "warnings",
    ):
        assert f'id="{ids}"' in page, ids
    for mode in ("live", "replay"):
        other = (
            _templates()
            .get_template("console.html")
            .render(partner="KR", token="", mode=mode, marking="", static="/static")
        )
        assert "exercise-panel" not in other and "note-send" not in other
    status, _, script = app.request("GET", "/static/console.js", None)
    assert status == 200 and b"innerHTML" not in script and b"insertAdjacentHTML" not in script


def test_the_openapi_document_lists_the_exercise_routes(app: Served) -> None:
    status, _, body = app.request("GET", "/openapi.json", None)
    paths = json.loads(body)["paths"]
    assert status == 200
    for path in (
        "/api/exercise/state",
        "/api/exercise/control",
        "/api/exercise/rating",
        "/api/exercise/plan",
        "/api/{cell}/note",
        "/api/{cell}/warning",
        "/api/{cell}/answer",
        "/exercise/white",
    ):
        assert path in paths, path


# --------------------------------------------------------------------------- the pages in a browser
def _launch(event_id: str, at: datetime) -> LaunchUpdate:
    ellipse = records.Ellipse95(semi_major_km=20.0, semi_minor_km=10.0, orientation_deg=45.0)
    report = records.EventUpdate(
        time=at,
        launch_time=at - timedelta(seconds=60),
        launch_point=records.Point(lat=39.0, lon=125.7),
        launch_ellipse_95=ellipse,
        launch_method="boost",
        apogee_km=550.0,
        range_km=900.0,
        impact_time=at + timedelta(seconds=400),
        impact_point=records.Point(lat=40.0, lon=136.0),
        impact_ellipse_95=ellipse,
        missile_class="MRBM",
        lofted=False,
        equivalent_range_km=900.0,
        stage_probability=0.9,
        over_territory_of=[],
        inside_eez_of=["JP"],
        number_of_objects=1,
        estimated_at=at,
    )
    return LaunchUpdate(time=at, event_id=event_id, report=report)


@pytest.mark.requires_component("chromium")
def test_the_pages_in_a_browser(app: Served) -> None:
    """The facilitator's page drives the clock; the KR cell's console shows the exercise's updates as text and
    posts its notes, answers, launch confirmations and warnings; an evaluator saves a rating."""
    from playwright.sync_api import sync_playwright

    from conftest import chromium_path

    kr = app.pictures["KR"]
    kr.extend(
        [
            ClockUpdate(time=t(290), speed=10.0, state="running"),
            _launch("E-1", t(100)),
            InjectUpdate(time=t(120), inject_id="I1", kind="situation", source="white", text="Tension rises"),
            InjectUpdate(
                time=t(130), inject_id="Q1", kind="question", source="white", text="Do you evacuate?", question=True
            ),
            NoteUpdate(time=t(140), msg_id="JP-3", sender="JP", own=False, act="request", topic="E-1", text=HOSTILE),
        ]
    )
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path())
        try:
            # ---- the facilitator: the state drawn, the clock driven
            white = browser.new_page(viewport={"width": 1400, "height": 900})
            white.on("pageerror", lambda e: errors.append(f"white: {e}"))
            white.goto(f"{app.url}/exercise/white?token={app.tokens.by_partner['white']}")
            white.wait_for_function("document.body.dataset.ready === '1'", timeout=10_000)
            assert white.text_content("#clock-state") == "running"
            assert white.text_content("#clock-time") == "00:05:00Z T+05:00"
            assert white.text_content("#clock-speed") == "×10"
            rows = white.eval_on_selector_all(
                "tr.inject", "rs => rs.map(r => [r.dataset.injectId, r.dataset.delivered])"
            )
            assert rows == [["I1", "true"], ["L1", "true"], ["Q1", "false"]]
            types = white.eval_on_selector_all("#actions li", "ls => ls.map(l => l.dataset.type)")
            assert types == [
                "plan",
                "rating",
                "control",
                "answer",
                "warning",
                "received",
                "note",
                "ack",
                "inject",
                "control",
            ]
            assert white.is_disabled("#start") and white.is_disabled("#resume") and not white.is_disabled("#pause")
            white.click("#pause")
            assert app.desk.wait_for(lambda c: c[0] == "control")[1] == ControlRequest(action="pause")
            white.fill("#speed-input", "30")
            white.click("#speed-set")
            app.desk.wait_for(lambda c: c == ("control", ControlRequest(action="speed", speed=30.0)))
            assert "KR" in white.inner_text("#cells tr.cell[data-cell='KR']")

            # ---- the KR cell: what came before the page opened, and what is pushed after
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("pageerror", lambda e: errors.append(f"KR: {e}"))
            page.goto(f"{app.url}/console/KR?token={app.tokens.by_partner['KR']}")
            page.wait_for_function("document.body.dataset.ready === '1'", timeout=15_000)
            assert page.is_visible("#exercise-panel")
            kr.extend(
                [
                    NoteUpdate(
                        time=t(150),
                        msg_id="KR-9",
                        sender="KR",
                        own=True,
                        act="share",
                        topic="E-1",
                        text="We track it",
                        to=["JP", "US"],
                    ),
                    WarningUpdate(time=t(160), warning_id="W-KR-1", status="issued", area="Korea", text="Take shelter"),
                ]
            )
            page.wait_for_function("window.mwx.notes().length === 2 && document.querySelector('.warning')")
            assert page.evaluate("window.mwx.injects()") == ["I1", "Q1"]
            assert page.evaluate("window.mwx.notes()") == [
                {"msgId": "JP-3", "act": "request", "sender": "JP", "text": HOSTILE},
                {"msgId": "KR-9", "act": "share", "sender": "KR", "text": "We track it"},
            ]
            notes = page.eval_on_selector_all(
                "#notes .note", "ns => ns.map(n => [n.dataset.msgId, n.dataset.act, n.dataset.sender, n.dataset.own])"
            )
            assert notes == [["KR-9", "share", "KR", "true"], ["JP-3", "request", "JP", "false"]]  # newest first
            assert page.evaluate("window.__pwned") is None
            assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
            assert HOSTILE in page.inner_text("#notes")
            kinds = page.eval_on_selector_all(
                "#inject-list .inject", "is => is.map(i => [i.dataset.injectId, i.dataset.kind])"
            )
            assert kinds == [["Q1", "question"], ["I1", "situation"]]
            assert page.get_attribute(".warning[data-warning-id='W-KR-1']", "data-status") == "issued"
            area_options = page.eval_on_selector_all("#warning-area option", "os => os.map(o => o.value)")
            assert area_options == ["Korea"]  # the cell's own areas only
            topics = page.eval_on_selector_all("#note-topics option", "os => os.map(o => o.value)")
            assert topics == ["E-1"]

            # a reply to JP's note, asking JP only
            page.click(".note[data-msg-id='JP-3'] .note-reply")
            assert page.input_value("#note-topic") == "E-1"
            page.select_option("#note-act", "concur")
            page.check("#note-to input[value='JP']")
            page.fill("#note-text", "Concur: <b>shelter</b>")
            page.click("#note-send")
            call = app.desk.wait_for(lambda c: c[0] == "note")
            assert call == (
                "note",
                "KR",
                NoteRequest(act="concur", topic="E-1", text="Concur: <b>shelter</b>", to=["JP"], in_reply_to="JP-3"),
            )
            page.wait_for_function("document.querySelector('#note-text').value === ''")

            # the question answered, then the answer as exercise control received it
            page.fill(".inject[data-inject-id='Q1'] .answer-text", "We evacuate the coast")
            page.click(".inject[data-inject-id='Q1'] .answer-send")
            call = app.desk.wait_for(lambda c: c[0] == "answer")
            assert call == ("answer", "KR", AnswerRequest(inject_id="Q1", text="We evacuate the coast"))
            kr.append(AnswerUpdate(time=t(170), inject_id="Q1", text="We evacuate the coast"))
            page.wait_for_selector(".inject[data-inject-id='Q1'][data-answered='true']")
            assert "We evacuate the coast" in page.inner_text(".inject[data-inject-id='Q1'] .answers")

            # the launch event confirmed; the issued warning ended by an all-clear
            page.click(".launch[data-event-id='E-1'] .confirm-launch")
            call = app.desk.wait_for(lambda c: c[0] == "note" and c[2].act == "confirm")
            assert call[2].topic == "E-1" and call[1] == "KR"
            page.click("#warning-all-clear")
            call = app.desk.wait_for(lambda c: c[0] == "warning")
            assert call == (
                "warning",
                "KR",
                WarningRequest(status="all-clear", area="Korea", text="All clear: Korea", warning_id="W-KR-1"),
            )

            # ---- an evaluator overrides a proposed rating
            ev = browser.new_page(viewport={"width": 1400, "height": 900})
            ev.on("pageerror", lambda e: errors.append(f"eval: {e}"))
            ev.goto(f"{app.url}/exercise/eval?token={app.tokens.by_partner['eval']}")
            ev.wait_for_function("document.body.dataset.ready === '1'", timeout=10_000)
            caps = ev.eval_on_selector_all(
                "tr.capability", "rs => rs.map(r => [r.dataset.capability, r.dataset.proposed, r.dataset.rating])"
            )
            assert caps == [["C1", "P", "S"], ["C2", "U", ""]]
            assert "Quick but noisy" in ev.inner_text("tr.capability[data-capability='C1']")
            assert "every task met" in ev.inner_text("tr.capability[data-capability='C1']")  # the proposal's reason
            assert ev.eval_on_selector_all("#plan tr[data-item-id]", "rs => rs.map(r => r.dataset.itemId)") == ["IP-1"]
            row = "tr.capability[data-capability='C2']"
            ev.select_option(f"{row} .rating-select", "M")
            ev.fill(f"{row} .rating-observation", "Consulted, but late")
            ev.click(f"{row} .rating-save")
            call = app.desk.wait_for(lambda c: c[0] == "rate")
            assert call == (
                "rate",
                "eval",
                RatingRequest(capability="C2", rating="M", observation="Consulted, but late"),
            )
            ev.select_option("#plan-capability", "C2")
            ev.fill("#plan-issue", "Consultation came late")
            ev.fill("#plan-action", "Drill the consultation channel")
            ev.fill("#plan-owner", "KR cell")
            ev.fill("#plan-due", "2024-07-01")
            ev.click("#plan-add")
            call = app.desk.wait_for(lambda c: c[0] == "plan")
            assert call == (
                "plan",
                "eval",
                PlanRequest(capability="C2", issue="Consultation came late",
                            corrective_action="Drill the consultation channel", owner="KR cell", due="2024-07-01"),
            )  # fmt: skip
            assert ev.evaluate("window.__pwned") is None and HOSTILE in ev.inner_text("#actions")
        finally:
            browser.close()
    assert not errors, errors
