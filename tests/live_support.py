"""A paced embedded run with its consoles, for the tests of the live API and the console pages.

:class:`LiveRun` starts ``run_scenario`` with a :class:`~mwx.live.session.ConsoleSession` in a thread and
talks to its API over real HTTP (urllib), as a client would.  The answers are read as plain JSON: what the
API promises is checked against the documented shapes, not through the code that makes them.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from mwx.exchange.policy import OPEN, load_policy
from mwx.exercise.run import RunResult, run_scenario
from mwx.live.session import ConsoleSession
from mwx.sim.scenario import load_scenario

DEMO = Path(str(resources.files("mwx") / "data" / "scenarios" / "demo.yaml"))
T = TypeVar("T")


class LiveRun:
    """The scenario run at ``speed`` × real time with consoles served on a free port of 127.0.0.1."""

    def __init__(self, scenario: Path = DEMO, *, speed: float, policy: Path | None = None,
                 cot_port: int | None = None, live_events: bool = True) -> None:  # fmt: skip
        self.scenario = load_scenario(scenario)
        self.lines: list[str] = []
        self.session = ConsoleSession(speed=speed, say=self.lines.append, cot_port=cot_port, live_events=live_events)
        self.policy = load_policy(policy) if policy else OPEN
        self.result: RunResult | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.result = run_scenario(self.scenario, console=self.session, policy=self.policy)
        except BaseException as err:
            self.error = err

    def __enter__(self) -> LiveRun:
        self.thread.start()
        self.wait_for(lambda: self.session.begun.is_set() and self.session.server.server.started, 120)
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.close()

    @property
    def url(self) -> str:
        assert self.session.server is not None
        return self.session.server.url

    def token(self, partner: str) -> str:
        assert self.session.tokens is not None
        return self.session.tokens.by_partner[partner]

    def console_url(self, partner: str) -> str:
        return f"{self.url}/console/{partner}?token={self.token(partner)}"

    def request(self, path: str, token: str | None, *, body: Any = None) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) of a GET (or a POST of ``body`` as JSON) with ``token`` as a bearer token."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as answer:
                return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
        except urllib.error.HTTPError as err:
            return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()

    def get(self, path: str, partner: str) -> Any:
        status, _, body = self.request(path, self.token(partner))
        assert status == 200, (path, status, body[:300])
        return json.loads(body)

    def picture(self, partner: str) -> dict[str, Any]:
        return self.get(f"/api/{partner}/picture", partner)

    def wait_for(self, found: Callable[[], T], timeout: float, every: float = 0.05) -> T:
        """Poll ``found`` until it returns something true; fail the test after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            if self.error is not None:
                raise AssertionError(f"the run failed: {self.error!r}") from self.error
            value = found()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"not seen within {timeout} s")
            time.sleep(every)

    def finish(self, timeout: float = 300) -> RunResult:
        self.thread.join(timeout)
        if self.error is not None:
            raise AssertionError(f"the run failed: {self.error!r}") from self.error
        assert self.result is not None, "the run did not finish in time"
        return self.result


def sse_batches(url: str, *, last_event_id: str | None = None, count: int, timeout: float = 30) -> list[dict]:
    """The first ``count`` ``updates`` events of a server-sent event stream, parsed as JSON (a plain reader)."""
    headers = {"Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    out: list[dict] = []
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as stream:
        event, data = None, []
        for raw in stream:
            line = raw.decode().rstrip("\n")
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
            elif line == "":
                if event == "updates" and data:
                    out.append(json.loads("\n".join(data)))
                    if len(out) >= count:
                        return out
                event, data = None, []
    return out
