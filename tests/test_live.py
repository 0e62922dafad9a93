"""The live picture and its HTTP API (issue 16), over real HTTP against a paced embedded run.

What the API must answer is worked out here from the documented JSON shapes (docs/console.md) and from the
run folder's files, read as plain JSON/CSV: never through the code that makes the answers.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import geojson
import pytest

from live_support import LiveRun, sse_batches
from mwx.live import tokens as live_tokens
from mwx.live.replay import replay_pictures

PARTNERS = ("KR", "JP", "US")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --------------------------------------------------------------------------- tokens
def test_token_files_are_the_owners_only(tmp_path: Path) -> None:
    made = live_tokens.own_token(tmp_path / "KR.token")
    assert (tmp_path / "KR.token").stat().st_mode & 0o777 == 0o600
    assert live_tokens.own_token(tmp_path / "KR.token") == made  # kept, not made again
    assert len(made) >= 40
    loose = tmp_path / "loose.token"
    loose.write_text(made + "\n")
    loose.chmod(0o644)
    with pytest.raises(live_tokens.InputError, match="readable by others"):
        live_tokens.read_token(loose)
    tokens = live_tokens.Tokens({"KR": made, "JP": live_tokens.new_token()})
    assert tokens.partner_of(made) == "KR"
    assert tokens.partner_of(made[:-1]) is None
    assert tokens.partner_of("") is None


# --------------------------------------------------------------------------- the live demo
@pytest.fixture(scope="module")
def live() -> Any:
    with LiveRun(speed=60.0, cot_port=0) as run:
        yield run


def test_access_needs_the_partners_own_token(live: LiveRun) -> None:
    status, headers, body = live.request("/api/KR/picture", None)
    assert status == 401
    assert live.request("/api/KR/picture", "not-a-token")[0] == 401
    status, _, body = live.request("/api/KR/picture", live.token("JP"))
    assert status == 403 and b"JP" in body
    assert live.request("/api/KR/stream", live.token("US"))[0] == 403
    assert live.request("/api/KR/ack", live.token("JP"), body={"msg_id": "x"})[0] == 403
    assert live.request("/api/XX/picture", live.token("JP"))[0] == 403
    # The page's own address and EventSource carry the token as a query parameter.
    status, headers, body = live.request(f"/console/KR?token={live.token('KR')}", None)
    assert status == 200 and headers["mwx-data"] == "exercise" and b"EXERCISE" in body
    assert live.request(f"/console/KR?token={live.token('JP')}", None)[0] == 403


def test_every_answer_says_exercise(live: LiveRun) -> None:
    _status, headers, body = live.request("/api/JP/picture", live.token("JP"))
    picture = json.loads(body)
    assert headers["mwx-data"] == "exercise" and headers["referrer-policy"] == "no-referrer"
    assert picture["exercise"] is True and "EXERCISE" in picture["marking"]
    assert picture["setup"]["exercise"] is True and picture["partner"] == "JP"
    history = live.get("/api/JP/history?after=0", "JP")
    assert history["exercise"] is True
    collection = live.get("/api/JP/picture.geojson", "JP")
    assert collection["exercise"] is True


def test_stream_resumes_after_a_reconnect_without_loss(live: LiveRun) -> None:
    live.wait_for(lambda: live.picture("KR")["seq"] > 200, 60)
    url = f"{live.url}/api/KR/stream?after=0&token={live.token('KR')}"
    first = sse_batches(url, count=2)
    seen = [u["seq"] for b in first for u in b["updates"]]
    last = first[-1]["seq"]
    assert seen == list(range(1, last + 1))  # nothing skipped, nothing twice, in order
    # The browser reconnects with Last-Event-ID: the stream goes on after it, whatever ``after`` says.
    again = sse_batches(url, last_event_id=str(last), count=1)
    assert again[0]["after"] == last and again[0]["updates"][0]["seq"] == last + 1
    # What was pushed is what the history holds.
    history = live.get(f"/api/KR/history?after={last - 5}", "KR")
    pushed = {u["seq"]: u for u in again[0]["updates"]}
    for update in history["updates"]:
        if update["seq"] in pushed:
            assert pushed[update["seq"]] == update


def test_an_operators_acknowledgement_travels_over_the_exchange(live: LiveRun) -> None:
    def kr_alert() -> dict | None:
        return next((a for a in live.picture("KR")["alerts"] if a["owner"] == "KR"), None)

    alert = live.wait_for(kr_alert, 120)

    # The same alert, received at JP, with the id of the envelope that carried each change.
    def at_jp() -> dict | None:
        return next((a for a in live.picture("JP")["alerts"] if a["alert_id"] == alert["alert_id"]), None)

    received = live.wait_for(at_jp, 10)
    assert received["owner"] == "KR"
    change = received["changes"][0]
    assert change["msg_id"] and not received["acks"]  # operators acknowledge: nothing at once on arrival
    status, _, body = live.request("/api/JP/ack", live.token("JP"), body={"msg_id": change["msg_id"]})
    assert status == 202, body

    def acked_at_kr() -> list:
        mine = next(a for a in live.picture("KR")["alerts"] if a["alert_id"] == alert["alert_id"])
        return [a for a in mine["acks"] if a["by"] == "JP"]

    acks = live.wait_for(acked_at_kr, 5)
    assert acks[0]["change_number"] == change["change_number"] and acks[0]["msg_id"] == change["msg_id"]
    node = live.session._nodes["KR"]
    assert node.alert_acks[change["msg_id"]] == {"JP"}  # the KR node itself got the exchange's Ack
    mine_at_jp = live.wait_for(at_jp, 5)
    assert [a["by"] for a in mine_at_jp["acks"]] == ["JP"]
    # Nothing else can be acknowledged: an id that never came, a body that is not one.
    assert live.request("/api/JP/ack", live.token("JP"), body={"msg_id": "KR:999999"})[0] == 404
    assert live.request("/api/JP/ack", live.token("JP"), body={"id": 1})[0] == 422


def test_a_tak_client_of_the_cot_feed_gets_tracks_and_alert_areas(live: LiveRun) -> None:
    """A client on KR's CoT feed (plain TCP, as TAK's 8087) reads events until KR's first alert area has come;
    each event is parsed by takproto (TAK's own protobuf of the CoT XML)."""
    import socket

    import takproto

    live.wait_for(lambda: live.session.cot.get("KR"), 30)
    port = live.session.cot["KR"].port
    data = b""
    kinds: dict[str, list[Any]] = {}
    with socket.create_connection(("127.0.0.1", port), timeout=120) as client:
        deadline = time.monotonic() + 150
        while "u-d-f" not in kinds and time.monotonic() < deadline:
            data += client.recv(65536)
            *complete, data = data.split(b"<?xml")  # each event starts its own XML document
            for chunk in complete:
                if chunk.strip():
                    event = takproto.parse_proto(bytearray(b"<?xml" + chunk)).cotEvent
                    kinds.setdefault(event.type, []).append(event)
    tracks = kinds.get("a-h-A-W-M-S-S", [])
    assert tracks and all(e.uid.startswith("mwx.KR.") for e in tracks)
    assert all(0 < e.ce < 1e5 and 0 < e.le < 1e5 for e in tracks)  # from the track's covariance, not "unknown"
    areas = kinds["u-d-f"]
    assert any("link" in e.detail.xmlDetail for e in areas)
    own = {a["alert_id"] for a in live.picture("KR")["alerts"] if a["owner"] == "KR"}
    assert any(any(alert_id in e.uid for alert_id in own) for e in areas), [e.uid for e in areas]


def test_picture_as_geojson_czml_and_openapi(live: LiveRun) -> None:
    live.wait_for(lambda: live.picture("US")["tracks"], 60)
    _, headers, body = live.request("/api/US/picture.geojson", live.token("US"))
    assert headers["content-type"].startswith("application/geo+json")
    collection = geojson.loads(body.decode())
    assert collection.is_valid, collection.errors()
    kinds = {f["id"].split("/")[0] for f in collection["features"]}
    assert "track" in kinds and "path" in kinds
    status, _, body = live.request("/api/US/czml", live.token("US"))
    assert status == 200 and json.loads(body)[0]["id"] == "document"
    api = live.get("/openapi.json", "US")
    assert "/api/{partner}/picture" in api["paths"] and "Snapshot" in api["components"]["schemas"]
    assert live.request("/docs", None)[0] == 404  # no CDN-loaded API pages


def test_the_run_ends_with_its_final_reports_and_refuses_acks_after(live: LiveRun) -> None:
    result = live.finish()
    kr = live.picture("KR")
    assert kr["clock"]["state"] == "finished"
    final = {e.event_id for e in result.events if e.partner == "KR"}
    assert {e["event_id"] for e in kr["launches"]} >= final
    own = {a.alert_id for a in result.pictures["KR"].alerts}
    assert {a["alert_id"] for a in kr["alerts"] if a["owner"] == "KR"} == own
    received = next(a for a in live.picture("JP")["alerts"] if a["owner"] == "KR")
    status, _, body = live.request("/api/JP/ack", live.token("JP"), body={"msg_id": received["changes"][-1]["msg_id"]})
    assert status == 409 and b"ended" in body


# --------------------------------------------------------------------------- release policy
def test_a_partners_withheld_tracks_reach_neither_its_api_nor_its_picture(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("rules:\n  - {sender: US, recipient: JP, kinds: [event, alert, heartbeat, ack, note]}\n")
    with LiveRun(speed=1000.0, policy=policy, live_events=False) as run:
        run.finish()
        jp = run.get("/api/JP/history?after=0", "JP")["updates"]
        kr = run.get("/api/KR/history?after=0", "KR")["updates"]
        geo = run.request("/api/JP/picture.geojson", run.token("JP"))[2].decode()
        czml = run.request("/api/JP/czml", run.token("JP"))[2].decode()
    tracks_jp = [u for u in jp if u["type"] == "track"]
    assert tracks_jp and not [u for u in tracks_jp if u["source"] == "US"]
    assert not [u for u in tracks_jp if any(m.startswith("US/") for m in u["members"])]
    assert "US-T" not in json.dumps(jp) and "US-T" not in geo and "US-T" not in czml
    # The control: without the rule US's tracks do reach KR, so the check above can fail.
    assert [u for u in kr if u["type"] == "track" and u["source"] == "US"]


# --------------------------------------------------------------------------- replay
def test_replay_shows_the_picture_at_a_time_as_the_run_folder_has_it(demo_run: tuple[Path, Any]) -> None:
    out, done = demo_run
    assert done.returncode == 0, done.stderr
    pictures = replay_pictures(out)
    with (out / "tracks.csv").open() as f:
        rows = list(csv.DictReader(f))
    alerts = json.loads((out / "alerts.json").read_text())["alerts"]
    start = min(float(r["time_unix_s"]) for r in rows)
    for offset in (200.0, 700.0, 1350.0):
        t = start + offset
        at = datetime.fromtimestamp(t).astimezone()
        for partner in ("JP", "KR"):
            latest: dict[tuple[str, str], float] = {}
            for r in rows:
                if r["partner"] != "fused" and float(r["time_unix_s"]) <= t + 1e-6:
                    latest[(r["partner"], r["track_id"])] = float(r["time_unix_s"])
            expected = {
                f"{'own' if p == partner else 'partner'}/{p}/{tid}" for (p, tid), last in latest.items()
                if t - last <= 30.0
            }  # fmt: skip
            snapshot = pictures[partner].snapshot(at)
            assert {v.state.key for v in snapshot.tracks} == expected, (partner, offset)
            statuses = {}
            for alert in alerts:
                before = [c for c in alert["history"] if _time(c["time"]).timestamp() <= t + 1e-6]
                if before:
                    statuses[alert["alert_id"]] = before[-1]["status"]
            assert {a.alert_id: a.status for a in snapshot.alerts} == statuses


# --------------------------------------------------------------------------- the command line
def test_console_options_refuse_bad_values_before_any_work(tmp_path: Path) -> None:
    def mwx(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "mwx.cli", *args], capture_output=True, text=True, timeout=60)

    for args, words in (
        (["demo", "--out", str(tmp_path / "a"), "--http", "70000"], "--http: a port is 0 to 65535"),
        (["demo", "--out", str(tmp_path / "a"), "--cot", "9000"], "give --http PORT too"),
        (["view", str(tmp_path / "nothing")], "no such run folder"),
        (["view", str(tmp_path)], "not a run folder"),
    ):
        done = mwx(*args)
        assert done.returncode == 2 and words in done.stderr and len(done.stderr.strip().splitlines()) == 1, done


def test_mwx_run_http_serves_the_consoles_until_ctrl_c(tmp_path: Path) -> None:
    out = tmp_path / "run"
    small = Path(__file__).parent / "data" / "scenarios" / "small.yaml"  # one missile: a short run
    proc = subprocess.Popen([sys.executable, "-m", "mwx.cli", "run", str(small), "--out", str(out), "--quiet",
                             "--http", "0", "--speed", "200"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    try:
        urls = {}
        assert proc.stderr is not None
        deadline = time.monotonic() + 240
        for line in proc.stderr:
            if line.startswith("mwx: console "):
                partner, url = line[len("mwx: console ") :].strip().split(": ", 1)
                urls[partner] = url
            if "stay up until Ctrl-C" in line or time.monotonic() > deadline:
                break
        assert set(urls) == set(PARTNERS)
        import urllib.request

        with urllib.request.urlopen(urls["KR"], timeout=10) as page:
            assert b"EXERCISE" in page.read()
        api = urls["KR"].replace("/console/KR", "/api/KR/picture")
        with urllib.request.urlopen(api, timeout=10) as answer:
            assert json.loads(answer.read())["clock"]["state"] == "finished"
        for partner in PARTNERS:
            token = out / "console" / f"{partner}.token"
            assert token.stat().st_mode & 0o777 == 0o600 and token.read_text().strip() in urls[partner]
        assert (out / "events.json").is_file() and (out / "report.html").is_file()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 128 + signal.SIGINT  # Ctrl-C ends it, as an interrupted command
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
