"""A screenshot of the after-action report's top (header, verdict, the first launch's facts and map) at 1400 px.

Run: ``.venv/bin/python scripts/report_screenshot.py [RUN_DIR] [--out docs/report-screenshot.png]``.  Without
RUN_DIR it runs the demo (``mwx demo``, about a minute) into a temporary folder first.  The page is opened in
Debian's headless ``chromium`` (or ``MWX_CHROMIUM``) driven by Playwright, as tests/test_report_browser.py
does, in a 1400 × 900 window; the picture runs from the top of the page to the bottom of the first
launch's map.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

WIDTH = 1400


def screenshot(run_dir: Path, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("MWX_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("no chromium on PATH (Debian: apt-get install chromium; or set MWX_CHROMIUM)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": WIDTH, "height": 900})
        page.goto((run_dir / "report.html").resolve().as_uri())
        page.wait_for_load_state("load")
        box = page.locator("section.launch figure.map").first.bounding_box()
        bottom = box["y"] + box["height"] + 16 if box else 1600
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), clip={"x": 0, "y": 0, "width": WIDTH, "height": bottom}, full_page=True)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", nargs="?", type=Path, help="a run folder with report.html (default: run the demo)")
    parser.add_argument("--out", type=Path, default=Path("docs/report-screenshot.png"))
    args = parser.parse_args()
    if args.run_dir is not None:
        screenshot(args.run_dir, args.out)
        return
    from mwx.cli import main as mwx

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "demo"
        if mwx(["demo", "--out", str(run_dir), "--quiet"]) != 0:
            sys.exit("mwx demo failed")
        screenshot(run_dir, args.out)
    print(args.out)


if __name__ == "__main__":
    main()
