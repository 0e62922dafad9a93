"""The after-action report as a reader sees it: report.html opened in headless Chromium (Debian's ``chromium``,
driven by Playwright through ``executable_path``; no browser download) in a 1400 × 900 window.

Two run folders: the synthetic one of tests/test_report.py (fast, known numbers) and the demo's (``mwx demo``,
real alert areas and ellipses).  What the page must show is computed here from the run folder's JSON files,
read as plain JSON (docs/run-folder.md), not through the report's code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import chromium_path
from mwx.exercise import report
from test_report import make_run

pytestmark = pytest.mark.requires_component("chromium")

WIDTH, HEIGHT = 1400, 900


@pytest.fixture(scope="module", params=["synthetic", pytest.param("demo", marks=pytest.mark.slow)])
def run_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if request.param == "demo":
        out, done = request.getfixturevalue("demo_run")
        assert done.returncode == 0, done.stderr
    else:
        out = tmp_path_factory.mktemp(request.param) / "run"
        make_run(out)
        report.write_report(out)
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser: Any, run_dir: Path) -> Iterator[tuple[Any, list[str]]]:
    """The report open at 1400 × 900, and every console error and page error it raised."""
    errors: list[str] = []
    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.goto((run_dir / "report.html").as_uri())
    page.wait_for_load_state("load")
    yield page, errors
    page.close()


def load(run_dir: Path, name: str) -> Any:
    return json.loads((run_dir / name).read_text(encoding="utf-8"))


def test_no_console_errors_and_no_horizontal_scroll(page: tuple[Any, list[str]]) -> None:
    p, errors = page
    assert errors == []
    assert p.evaluate("document.documentElement.scrollWidth") <= WIDTH
    assert p.evaluate("document.body.scrollWidth") <= WIDTH
    # Every image decoded (a broken data: URL has no natural size).
    assert p.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")


def test_verdict_states_the_run_s_figures(page: tuple[Any, list[str]], run_dir: Path) -> None:
    p, _ = page
    metrics, truth = load(run_dir, "metrics.json"), load(run_dir, "truth.json")
    verdict = p.locator("section#verdict")
    assert verdict.is_visible()
    # The verdict comes first: above the first launch's section.
    first_launch = p.locator("section.launch").first.bounding_box()
    assert verdict.bounding_box()["y"] < first_launch["y"]

    def tile(key: str) -> tuple[str, str]:
        t = verdict.locator(f'[data-figure="{key}"]')
        return t.get_attribute("data-value"), t.inner_text()

    launches = metrics["launches"]
    assert len(launches) == len(truth["launches"])
    # metrics.json leaves "detected" out where it is true (docs/run-folder.md).
    detected = sum(any(f.get("detected", True) for f in la["per_partner"].values()) for la in launches)
    threatened = [t for la in launches for t in la["threatened_areas"]]
    warned = sum(t["warned"] for t in threatened)
    expected = {
        "launches": len(launches),
        "detected": detected,
        "warned": warned,
        "missed": metrics["alerts"]["missed"],
        "false": metrics["alerts"]["false"],
        "alerts": metrics["alerts"]["issued"],
    }
    for key, value in expected.items():
        number, text = tile(key)
        assert number == str(value), key
        assert re.match(rf"{value}\b", text), (key, text)
    assert f"of {len(threatened)}" in tile("warned")[1]
    for key, field in (("impact-coverage", "ellipse_95_coverage"), ("launch-coverage", "launch_ellipse_95_coverage")):
        inside, reports = metrics[field]["inside"], metrics[field]["reports"]
        number, text = tile(key)
        assert float(number) == pytest.approx(inside)
        assert f"{100 * inside:.1f} %" in text and f"of {reports} reports" in text
    # First detection, first warning and lead of each partner, per launch.
    for la in launches:
        for partner, figures in la["per_partner"].items():
            cell = verdict.locator(f'td[data-launch="{la["truth_id"]}"][data-partner="{partner}"]')
            text = cell.inner_text()
            if figures.get("first_detection_s") is not None:
                assert f"detected +{figures['first_detection_s']:.1f} s" in text
            for t in la["threatened_areas"]:
                if t["partner"] == partner and t["warned"]:
                    assert f"warned +{t['first_warning_after_launch_s']:.1f} s, lead {t['lead_s']:.1f} s" in text


def test_one_map_per_launch_with_its_ellipses_and_alert_areas(page: tuple[Any, list[str]], run_dir: Path) -> None:
    p, _ = page
    truth, events, alerts = load(run_dir, "truth.json"), load(run_dir, "events.json"), load(run_dir, "alerts.json")
    maps = p.locator("section.launch img[data-launch]")
    assert maps.count() == len(truth["launches"])
    for k, launch in enumerate(truth["launches"]):
        img = maps.nth(k)
        assert img.get_attribute("data-launch") == launch["id"]
        assert img.is_visible()
        # One 95 % impact ellipse per event matched to the launch; one area per alert of the launch that warned one.
        ellipses = sum(e["truth_id"] == launch["id"] for e in events["events"])
        areas = sum(
            a["truth_id"] == launch["id"]
            and any(c["status"] in ("issued", "updated") and c.get("alert_area") for c in a["history"])
            for a in alerts["alerts"]
        )
        assert img.get_attribute("data-ellipses") == str(ellipses)
        assert img.get_attribute("data-alert-areas") == str(areas)
        alt = img.get_attribute("alt")
        assert f"{ellipses} predicted impact point(s)" in alt and f"{areas} alert area(s)" in alt
        # Drawn at a readable size: no narrower than 900 px on a 1400 px window.
        assert img.bounding_box()["width"] >= 900


def test_no_raw_json_in_the_page(page: tuple[Any, list[str]]) -> None:
    p, _ = page
    text = p.evaluate("document.body.innerText")
    assert '{"' not in text and '":' not in text
    assert "Metrics" in text and "Verdict" in text
