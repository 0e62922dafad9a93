"""Fuzzing the console API's decoders of outside input: the acknowledgement body, the query parameters
(``at``, ``since``, ``after``, ``token``) and the ``Last-Event-ID`` and ``Authorization`` headers.

Whatever a client sends, the answer is a refusal with a reason (401, 403, 404, 409, 422) or a success, never
a server error, and nothing reaches the operators' desk that is not an acknowledgement of an alert change
that came to the partner.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mwx import records
from mwx.live.app import console_app
from mwx.live.operators import ActionQueue
from mwx.live.picture import LivePicture
from mwx.live.serve import ConsoleServer
from mwx.live.tokens import Tokens
from mwx.live.updates import AlertUpdate, Setup

T0 = datetime(2024, 1, 1, tzinfo=UTC)
ALLOWED = {200, 202, 401, 403, 404, 409, 422}


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[ConsoleServer, Tokens, ActionQueue]]:
    setup = Setup(partner="JP", partners=["JP", "KR"], mode="live", scenario="fuzz", start=T0, end=T0,
                  bounds=(120, 20, 150, 50), sensors=[], areas=[], stale_s=30.0)  # fmt: skip
    picture = LivePicture(setup)
    change = records.AlertChange(time=T0, status="issued", why=["level"], level="warning", reason="impact")
    picture.append(AlertUpdate(time=T0, owner="KR", alert_id="KR-A0001", area="Korea", reason="impact", change=change,
                               msg_id="KR:7"))  # fmt: skip
    tokens = Tokens.generate(["JP", "KR"])
    desk = ActionQueue()
    desk.open()
    kr_setup = Setup(**{f: getattr(setup, f) for f in setup.__struct_fields__ if f != "partner"}, partner="KR")
    served = ConsoleServer(console_app({"JP": picture, "KR": LivePicture(kr_setup)}, tokens, desk)).start()
    yield served, tokens, desk
    served.stop()


def _send(url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None) -> int:
    req = urllib.request.Request(url, data=body, headers=headers or {}, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=10) as answer:
            if "stream" not in url:
                answer.read()
            return answer.status
    except urllib.error.HTTPError as err:
        return err.code


text = st.text(max_size=60)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=200), st.builds(lambda v: json.dumps(v).encode(), st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3), max_leaves=8))))  # fmt: skip
def test_acknowledgement_bodies(server: tuple[ConsoleServer, Tokens, ActionQueue], body: bytes) -> None:
    served, tokens, desk = server
    status = _send(
        f"{served.url}/api/JP/ack", body=body, headers={"Authorization": f"Bearer {tokens.by_partner['JP']}"}
    )
    assert status in ALLOWED
    for ack in desk.take():  # only ever the one alert change that came to JP
        assert ack == ("JP", "KR:7"), ack


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(["picture", "picture.geojson", "history", "czml"]),
       name=st.sampled_from(["at", "since", "after", "token", "x"]), value=text,
       header=st.sampled_from(["Authorization", "Last-Event-ID"]), header_value=st.text(
           alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60))  # fmt: skip
def test_query_parameters_and_headers(
    server: tuple[ConsoleServer, Tokens, ActionQueue], route: str, name: str, value: str, header: str,
    header_value: str,
) -> None:  # fmt: skip
    served, tokens, _ = server
    query = urllib.parse.urlencode({name: value})
    headers = {"Authorization": f"Bearer {tokens.by_partner['JP']}", header: header_value}
    status = _send(f"{served.url}/api/JP/{route}?{query}", headers=headers)
    assert status in ALLOWED, (route, name, value, header, header_value)
    takes_time = (name == "at" and route.startswith("picture")) or (name == "since" and route == "history")
    if header != "Authorization" and takes_time and status == 200:
        datetime.fromisoformat(value.replace("Z", "+00:00"))  # a time it took must be one: ISO 8601
