"""The consoles under load: a 20-missile salvo at 10× real time with the KR, JP and US consoles open.

Run: ``.venv/bin/python benchmarks/console_load.py`` (``--speed``, ``--seed``; needs Debian's ``chromium``).
The embedded run serves its consoles (:mod:`mwx.live.session`) while it is paced at ``--speed``; three pages
of one headless Chromium (Playwright, ``executable_path``) open the three consoles and stay open to the end.

Figures:

* push latency: for every batch a page applies, its arrival (``Date.now()``) minus the wall time at which
  the batch's oldest update was appended to the partner's picture (right after the node's scan or
  assessment that made it): the batch's worst update, so the percentiles are of worst cases;
* responsiveness: each page's event-loop delay, sampled by a 50 ms timer injected before the page's own
  scripts (how late each tick fires): what a click waits, at most, before it is handled;
* the run's own lag behind the clock (``Pacer.lag_s`` at its worst), updates and batches pushed, and, at the
  end, the tracks each page draws against its API's picture.

Bars (exit status 1 if missed, ``benchmarks/_bars.py``): push latency p99 < 500 ms on every page; event-loop
delay p99 < 100 ms on every page (a response within 100 ms reads as immediate); every page draws the API's
tracks at the end.  The salvo is ``benchmarks/tracking_salvo.py``'s twenty missiles from three sites, seen by
the theater as shipped (no added clutter).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tracking_salvo import scenario_text

from mwx.exercise.run import run_scenario
from mwx.live.session import ConsoleSession
from mwx.sim.scenario import parse_scenario

CHROMIUM = os.environ.get("MWX_CHROMIUM", "/usr/bin/chromium")
PARTNERS = ("KR", "JP", "US")

#: Injected before the page's scripts: how late a 50 ms timer fires, every tick [ms].
LAG_PROBE = """
window.__lag = [];
(function () {
  let expected = performance.now() + 50;
  setInterval(() => {
    const now = performance.now();
    window.__lag.push(Math.max(0, now - expected));
    expected = now + 50;
  }, 50);
})();
"""


def percentiles(values: list[float]) -> dict[str, float]:
    a = np.asarray(values, float)
    if a.size == 0:
        return {"n": 0}
    return {"n": int(a.size), "p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)),
            "p99": float(np.percentile(a, 99)), "max": float(a.max())}  # fmt: skip


def main() -> None:
    from _bars import Bars
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=10.0, help="scenario seconds per wall second (default 10)")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    scenario = parse_scenario(scenario_text(args.seed, clutter=False), "salvo-20")
    lines: list[str] = []
    session = ConsoleSession(speed=args.speed, say=lines.append)
    worst_lag = [0.0]
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = run_scenario(scenario, console=session)
        except BaseException as err:
            outcome["error"] = err

    thread = threading.Thread(target=run, daemon=True)
    started = time.perf_counter()
    thread.start()
    while session.server is None or not session.server.server.started:
        if "error" in outcome:
            raise SystemExit(f"the run failed: {outcome['error']!r}")
        time.sleep(0.1)
    assert session.tokens is not None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        pages = {}
        errors: list[str] = []
        for partner in PARTNERS:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.add_init_script(LAG_PROBE)
            page.on("console", lambda m, who=partner: errors.append(f"{who}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e, who=partner: errors.append(f"{who}: {e}"))
            page.goto(f"{session.server.url}/console/{partner}?token={session.tokens.by_partner[partner]}")
            pages[partner] = page
        while thread.is_alive():
            worst_lag[0] = max(worst_lag[0], session.pacer.lag_s)
            pages["KR"].wait_for_timeout(500)
        wall = time.perf_counter() - started
        if "error" in outcome:
            raise SystemExit(f"the run failed: {outcome['error']!r}")
        figures: dict[str, dict] = {}
        for partner, page in pages.items():
            seq = session.pictures[partner].seq
            page.wait_for_function(f"Number(document.body.dataset.seq) >= {seq}", timeout=30_000)
            drawn = page.evaluate("window.mwx.trackKeys()")
            api = sorted(v.state.key for v in session.pictures[partner].snapshot().tracks)
            figures[partner] = {
                "latency_ms": percentiles([1e3 * x for x in page.evaluate("window.mwx.latencies")]),
                "event_loop_delay_ms": percentiles(page.evaluate("window.__lag")),
                "updates": seq,
                "tracks_drawn_equal_api": drawn == api,
            }
        browser.close()
    session.close()
    print(json.dumps({"speed": args.speed, "seed": args.seed, "wall_s": round(wall, 1),
                      "run_lag_behind_clock_max_s": round(worst_lag[0], 2), "cores": os.cpu_count(),
                      "console_errors": errors[:5], "pages": figures}, indent=1))  # fmt: skip
    bars = Bars()
    for partner, f in figures.items():
        lat, lag = f["latency_ms"], f["event_loop_delay_ms"]
        bars.check(f"{partner}: push latency p99 < 500 ms", lat.get("p99", 1e9) < 500,
                   f"p50 {lat.get('p50', 0):.0f} ms, p99 {lat.get('p99', 0):.0f} ms, max {lat.get('max', 0):.0f} ms "
                   f"over {lat['n']} batches")  # fmt: skip
        bars.check(f"{partner}: event-loop delay p99 < 100 ms", lag.get("p99", 1e9) < 100,
                   f"p99 {lag.get('p99', 0):.0f} ms, max {lag.get('max', 0):.0f} ms")  # fmt: skip
        bars.check(f"{partner}: tracks drawn equal the API's at the end", f["tracks_drawn_equal_api"], "")
    bars.check("no console errors", not errors, f"{len(errors)}")
    bars.finish()


if __name__ == "__main__":
    main()
