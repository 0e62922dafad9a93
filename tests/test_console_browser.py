"""The consoles in a real browser (issue 16): headless Debian ``chromium`` driven by Playwright.

One paced demo run (45× real time) under a release policy that withholds US's tracks from JP, with the KR,
JP and US consoles open from its start; and a replay of the demo's run folder.  What each page must show is
taken from the API (plain JSON over HTTP) or from the run folder's files, never from the page's own code.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import chromium_path
from live_support import LiveRun
from mwx.live.updates import AlertUpdate

pytestmark = pytest.mark.requires_component("chromium")

PARTNERS = ("KR", "JP", "US")
SPEED = 45.0

#: Before the page's scripts: every 20 ms, the first wall-clock time each (owner, alert, status) is shown and
#: every track key ever drawn.
RECORDER = """
window.__seen = {};
window.__keys = new Set();
setInterval(() => {
  if (!window.mwx || !window.mwx.alertStates) return;
  const now = Date.now() / 1000;
  for (const a of window.mwx.alertStates()) {
    const key = `${a.owner}/${a.alert_id}/${a.status}`;
    if (!(key in window.__seen)) window.__seen[key] = now;
  }
  for (const k of window.mwx.trackKeys()) window.__keys.add(k);
}, 20);
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=chromium_path())
        yield chromium
        chromium.close()


class Consoles:
    """The three pages of a live run, with every console error they logged."""

    def __init__(self, browser: Any, run: LiveRun) -> None:
        self.run = run
        self.errors: list[str] = []
        self.pages = {}
        for partner in PARTNERS:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.add_init_script(RECORDER)
            page.on(
                "console", lambda m, who=partner: self.errors.append(f"{who}: {m.text}") if m.type == "error" else None
            )
            page.on("pageerror", lambda e, who=partner: self.errors.append(f"{who}: {e}"))
            page.goto(run.console_url(partner))
            self.pages[partner] = page
        for page in self.pages.values():
            page.wait_for_function("document.body.dataset.ready === '1'", timeout=30_000)

    def caught_up(self, partner: str) -> dict[str, Any]:
        """The API's picture once the page has applied every update of it (the run paused meanwhile)."""
        picture = self.run.picture(partner)
        self.pages[partner].wait_for_function(f"Number(document.body.dataset.seq) >= {picture['seq']}", timeout=10_000)
        return picture


@pytest.fixture(scope="module")
def live(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveRun, Consoles]]:
    policy = tmp_path_factory.mktemp("policy") / "policy.yaml"
    policy.write_text("rules:\n  - {sender: US, recipient: JP, kinds: [event, alert, heartbeat, ack, note]}\n")
    with LiveRun(speed=SPEED, policy=policy) as run:
        run.session.pacer.pause()  # the pages open before the first launch is seen
        consoles = Consoles(browser, run)
        run.session.pacer.resume()
        yield run, consoles


def _keys(picture: dict[str, Any]) -> list[str]:
    return sorted(f"{t['state']['kind']}/{t['state']['source']}/{t['state']['track_id']}" for t in picture["tracks"])


def _alert_states(picture: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for a in picture["alerts"]:
        latest = a["changes"][-1]["change_number"]
        acked = sorted({k["by"] for k in a["acks"] if k["change_number"] == latest})
        out.append({"owner": a["owner"], "alert_id": a["alert_id"], "status": a["changes"][-1]["change"]["status"],
                    "acked_by": acked})  # fmt: skip
    return sorted(out, key=lambda s: (s["owner"], s["alert_id"]))


def test_consoles_follow_the_run(live: tuple[LiveRun, Consoles]) -> None:
    run, consoles = live
    pages = consoles.pages

    # Mid-run, with tracks in the air: every page draws exactly the API's tracks, and a reload resumes there.
    run.wait_for(lambda: len(run.picture("JP")["tracks"]) >= 3, 120)
    run.session.pacer.pause()
    try:
        for partner in PARTNERS:
            picture = consoles.caught_up(partner)
            assert pages[partner].evaluate("window.mwx.trackKeys()") == _keys(picture), partner
            assert int(pages[partner].evaluate("document.body.dataset.trackCount")) == len(picture["tracks"])
        before = pages["KR"].evaluate("[window.mwx.trackKeys(), window.mwx.alertStates()]")
        pages["KR"].reload()
        pages["KR"].wait_for_function("document.body.dataset.ready === '1'", timeout=30_000)
        picture = consoles.caught_up("KR")
        assert pages["KR"].evaluate("[window.mwx.trackKeys(), window.mwx.alertStates()]") == before
        assert before[0] == _keys(picture)
    finally:
        run.session.pacer.resume()

    # KR's first alert, acknowledged in the JP console, is seen acknowledged in the KR console.
    def kr_alert_at_jp() -> Any:
        return pages["JP"].query_selector('[data-owner="KR"] .ack-button')

    button = run.wait_for(kr_alert_at_jp, 240)
    alert_id = button.evaluate("b => b.closest('[data-alert-id]').dataset.alertId")
    button.click()

    def acked_in_kr() -> bool:
        states = pages["KR"].evaluate("window.mwx.alertStates()")
        return any(s["alert_id"] == alert_id and "JP" in s["acked_by"] for s in states)

    run.wait_for(acked_in_kr, 5)
    assert pages["KR"].query_selector(f'[data-owner="KR"][data-alert-id="{alert_id}"][data-acked-by~="JP"]')

    result = run.finish()

    # Every alert change was on its console within 1 s of being issued (and the all-clear likewise).
    late = []
    for partner in PARTNERS:
        picture = run.session.pictures[partner]
        seen = pages[partner].evaluate("window.__seen")
        for update in picture.since(0).updates:
            if not isinstance(update, AlertUpdate) or update.change.status not in ("issued", "ended"):
                continue
            key = f"{update.owner}/{update.alert_id}/{update.change.status}"
            if key in seen and seen[key] - picture.emitted_at(update.seq) > 1.0:
                late.append((partner, key, round(seen[key] - picture.emitted_at(update.seq), 2)))
        shown = {k.rsplit("/", 1)[0] for k in seen}
        own = {f"{partner}/{a.alert_id}" for a in result.pictures[partner].alerts}
        assert own <= shown, (partner, own - shown)
    assert not late, late

    # The release policy: US withheld its tracks from JP — never drawn there; KR drew them (the control).
    drawn_jp = pages["JP"].evaluate("[...window.__keys]")
    drawn_kr = pages["KR"].evaluate("[...window.__keys]")
    assert drawn_jp and not [k for k in drawn_jp if "/US/" in k]
    assert [k for k in drawn_kr if k.startswith("partner/US/")]
    assert not consoles.errors, consoles.errors


# --------------------------------------------------------------------------- replay
def test_replay_slider_shows_the_run_folder_at_a_chosen_time(browser: Any, demo_run: tuple[Path, Any]) -> None:
    from mwx.live.app import console_app
    from mwx.live.replay import replay_pictures
    from mwx.live.serve import ConsoleServer
    from mwx.live.tokens import Tokens

    out, done = demo_run
    assert done.returncode == 0, done.stderr
    pictures = replay_pictures(out)
    tokens = Tokens.generate(pictures)
    server = ConsoleServer(console_app(pictures, tokens)).start()
    errors: list[str] = []
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{server.url}/console/JP?token={tokens.by_partner['JP']}")
        page.wait_for_function("document.body.dataset.ready === '1'", timeout=30_000)
        with (out / "tracks.csv").open() as f:
            rows = list(csv.DictReader(f))
        alerts = json.loads((out / "alerts.json").read_text())["alerts"]
        slider = page.locator("#replay-slider")
        start = datetime.fromisoformat(pictures["JP"].setup.start.isoformat()).timestamp()
        for offset in (300, 1350):
            t = start + offset
            slider.evaluate("(s, v) => { s.value = String(v); s.dispatchEvent(new Event('input', {bubbles: true}));"
                            " s.dispatchEvent(new Event('change', {bubbles: true})); }", offset)  # fmt: skip
            latest: dict[tuple[str, str], float] = {}
            for r in rows:
                if r["partner"] != "fused" and float(r["time_unix_s"]) <= t + 1e-6:
                    latest[(r["partner"], r["track_id"])] = float(r["time_unix_s"])
            expected = sorted(f"{'own' if p == 'JP' else 'partner'}/{p}/{tid}" for (p, tid), last in latest.items()
                              if t - last <= 30.0)  # fmt: skip
            deadline = time.monotonic() + 10
            while page.evaluate("window.mwx.trackKeys()") != expected and time.monotonic() < deadline:
                time.sleep(0.1)
            assert page.evaluate("window.mwx.trackKeys()") == expected, offset
            statuses = {}
            for alert in alerts:
                times = [datetime.fromisoformat(c["time"].replace("Z", "+00:00")).timestamp() for c in alert["history"]]
                before = [c for c, when in zip(alert["history"], times, strict=True) if when <= t + 1e-6]
                if before:
                    statuses[alert["alert_id"]] = before[-1]["status"]
            shown = {s["alert_id"]: s["status"] for s in page.evaluate("window.mwx.alertStates()")}
            assert shown == statuses, offset
        assert not errors, errors
    finally:
        server.stop()


# --------------------------------------------------------------------------- hostile content
def test_what_partners_send_is_shown_as_text_never_run(browser: Any) -> None:
    """A partner's ids and names are printable ASCII up to 64 characters (exchange.messages.Id): enough for
    markup.  Shown in the panels and the map's tooltips, they stay text."""
    from mwx import records
    from mwx.live.app import console_app
    from mwx.live.feed import outline
    from mwx.live.picture import LivePicture
    from mwx.live.serve import ConsoleServer
    from mwx.live.tokens import Tokens
    from mwx.live.updates import AlertUpdate, Setup, TrackUpdate

    hostile = "<img src=x onerror=window.__pwned=1>"
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    setup = Setup(partner="JP", partners=["JP", "KR"], mode="live", scenario="hostile", start=t0, end=t0,
                  bounds=(120, 30, 145, 45), sensors=[], areas=[], stale_s=1e9)  # fmt: skip
    picture = LivePicture(setup)
    picture.append(TrackUpdate(time=t0, kind="partner", source="KR", track_id=hostile, lat=38.0, lon=131.0,
                               alt_km=100.0, speed_mps=2000.0, heading_deg=90.0, boosting=False,
                               uncertainty=outline(38.0, 131.0, 5.0, 2.0, 30.0, 24)))  # fmt: skip
    change = records.AlertChange(time=t0, status="issued", why=["level"], level="warning", reason="impact",
                                 alert_area=[[(131.0, 38.0), (132.0, 38.0), (132.0, 39.0), (131.0, 38.0)]])  # fmt: skip
    picture.append(AlertUpdate(time=t0, owner="KR", alert_id=hostile, area=hostile, reason="impact", change=change,
                               msg_id="KR-7"))  # fmt: skip
    tokens = Tokens.generate(["JP"])
    server = ConsoleServer(console_app({"JP": picture}, tokens)).start()
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{server.url}/console/JP?token={tokens.by_partner['JP']}")
        page.wait_for_function("document.body.dataset.ready === '1'", timeout=30_000)
        page.evaluate("""() => { for (const e of document.querySelectorAll('.leaflet-interactive'))
                                   e.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})); }""")
        page.wait_for_timeout(300)
        assert page.evaluate("window.__pwned") is None
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
        assert hostile in page.inner_text("body")  # shown, as text
    finally:
        server.stop()
