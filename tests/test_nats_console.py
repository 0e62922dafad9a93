"""Each partner node of a NATS run serves its own console (``mwx node --http``): its own picture, its own token,
and an operator's acknowledgement that travels over NATS to the alert's owner."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from mwx.exercise.natsrun import NatsExercise

pytestmark = [pytest.mark.requires_component("nats-server"), pytest.mark.slow]

SMALL = Path(__file__).parent / "data" / "scenarios" / "small.yaml"  # raises a KR alert (test_nats_run.py)


def _call(url: str, token: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Authorization": f"Bearer {token}",
                                                          "Content-Type": "application/json"})  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def _until(found: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not seen within {timeout} s")


def test_partner_nodes_serve_their_own_consoles_and_acks_travel_over_nats(tmp_path: Path) -> None:
    with NatsExercise(SMALL, tmp_path, speed=8.0, http=("127.0.0.1", 0)) as run:
        run.start()
        urls: dict[str, str] = {}
        tokens: dict[str, str] = {}

        def consoles_up() -> bool:
            for partner in run.partners:
                log = run.dir / f"{partner}.log"
                found = re.search(r"console at (http://\S+)/console/", log.read_text()) if log.exists() else None
                if found:
                    urls[partner] = found.group(1)
            return len(urls) == len(run.partners)

        _until(consoles_up, 60)
        for partner in run.partners:
            path = run.node_folder(partner) / "console.token"
            assert path.stat().st_mode & 0o777 == 0o600
            tokens[partner] = path.read_text().strip()
        kr, jp = urls["KR"], urls["JP"]
        # A node knows its own partner's token only.
        assert _call(f"{kr}/api/KR/picture", tokens["JP"])[0] == 401
        assert _call(f"{kr}/api/JP/picture", tokens["KR"])[0] == 403  # its token opens KR only
        status, picture = _call(f"{kr}/api/KR/picture", tokens["KR"])
        assert status == 200 and picture["exercise"] is True and picture["setup"]["partner"] == "KR"

        def alert_at_jp() -> dict | None:
            status, pic = _call(f"{jp}/api/JP/picture", tokens["JP"])
            return next((a for a in pic["alerts"] if a["owner"] == "KR"), None) if status == 200 else None

        received = _until(alert_at_jp, 120)
        msg_id = received["changes"][-1]["msg_id"]
        status, answer = _call(f"{jp}/api/JP/ack", tokens["JP"], {"msg_id": msg_id})
        assert status == 202, answer

        def acked_at_kr() -> bool:
            _, pic = _call(f"{kr}/api/KR/picture", tokens["KR"])
            mine = next(a for a in pic["alerts"] if a["alert_id"] == received["alert_id"])
            return any(k["by"] == "JP" and k["msg_id"] == msg_id for k in mine["acks"])

        _until(acked_at_kr, 15)
        _, health = _call(f"{kr}/api/KR/picture", tokens["KR"])
        assert {p["partner"] for p in health["health"]["peers"]} >= {"JP", "US"}

        def a_peer_connected() -> bool:  # heard within its heartbeats: on a loaded machine a beat may come late
            _, pic = _call(f"{kr}/api/KR/picture", tokens["KR"])
            return any(p["connected"] for p in pic["health"]["peers"])

        _until(a_peer_connected, 15)
        run.wait()
