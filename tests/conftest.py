"""Real components the tests run against, and the rule that CI may not skip them.

A test that needs a real program marks itself ``@pytest.mark.requires_component("nats-server")``.
Where the component is missing the test is skipped with the reason ``missing component nats-server:
<why>``; under ``CI=true`` that skip is turned into a failure with the same reason, so a CI run whose
real components went missing cannot pass by skipping them (``.ci/run`` installs them and stops if it
cannot).  Any skip whose reason starts with ``missing component`` is treated the same way.

``MWX_TEST_HIDE_COMPONENTS=nats-server[,...]`` makes the named components count as missing, to check
this rule without touching the installed programs.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mwx.errors import NatsUnavailable
from mwx.exchange.servers import find_nats_server

MISSING = "missing component"
HIDE_ENV = "MWX_TEST_HIDE_COMPONENTS"


def _nats_server() -> str | None:
    try:
        find_nats_server()
    except NatsUnavailable as err:
        return str(err)
    return None


def chromium_path() -> str | None:
    """The Chromium to drive with Playwright: ``MWX_CHROMIUM``, else ``chromium`` on PATH (Debian's package)."""
    return os.environ.get("MWX_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium() -> str | None:
    if chromium_path() is None:
        return "no chromium on PATH (Debian: apt-get install chromium; or set MWX_CHROMIUM)"
    if importlib.util.find_spec("playwright") is None:
        return "the Python package playwright is not installed (pip install -e '.[test]')"
    return None


#: Component name → a check that returns None when it is there, else why not.  One line per component
#: (the same names as the ``require`` lines of .ci/run).
COMPONENTS: dict[str, Callable[[], str | None]] = {
    "nats-server": _nats_server,
    "chromium": _chromium,
}


def missing_reason(name: str) -> str | None:
    """Why component ``name`` is unavailable here, or None if it is available."""
    if name in {c.strip() for c in os.environ.get(HIDE_ENV, "").split(",")}:
        return f"hidden by {HIDE_ENV}"
    return COMPONENTS[name]()


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires_component(name): needs a real program (see tests/conftest.py); skipped where it is missing, "
        "a failure under CI=true",
    )


#: The test files that take longest (module fixtures of minutes, NATS runs, paced browser runs), slowest first:
#: `make test` runs files whole on one worker each (``--dist loadfile``: a module's fixture is made once, not
#: once per worker), and these go first so that the short files fill in around them rather than wait behind.
LONG_FIRST = (
    "test_nats_run.py",
    "test_assessment.py",
    "test_nats_chaos.py",
    "test_tracker.py",
    "test_console_browser.py",
    "test_warnings.py",
    "test_calibration.py",
    "test_live.py",
    "test_ttx_run.py",
    "test_nats_console.py",
    "test_ttx_browser.py",
    "test_fusion.py",
    "test_links.py",
    "test_run.py",
    "test_drag.py",
    "test_registration.py",
    "test_exports.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: k for k, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest as collected


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("requires_component"):
        (name,) = mark.args
        if name not in COMPONENTS:
            raise pytest.UsageError(f"requires_component({name!r}): unknown; known: {', '.join(COMPONENTS)}")
        why = missing_reason(name)
        if why is not None:
            pytest.skip(f"{MISSING} {name}: {why}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if not (report.skipped and in_ci()) or hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    reason = reason.removeprefix("Skipped: ")
    if reason.startswith(MISSING):
        report.outcome = "failed"
        report.longrepr = f"CI=true: a real component is missing, so this test may not be skipped: {reason}"


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """``mwx demo`` run once for the whole test session (shared by the xdist workers: the first to come runs it
    under a lock, the others read its folder), with what it printed.  Tests only read the folder."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's folder, above each worker's own
    out, record = root / "demo-run", root / "demo-run.json"
    with (root / "demo-run.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            done = subprocess.run(
                [sys.executable, "-m", "mwx.cli", "demo", "--out", str(out)],
                capture_output=True,
                text=True,
                timeout=900,
            )
            record.write_text(json.dumps([done.returncode, done.stdout, done.stderr]))
    returncode, stdout, stderr = json.loads(record.read_text())
    return out, subprocess.CompletedProcess(["mwx", "demo"], returncode, stdout, stderr)
