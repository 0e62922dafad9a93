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

import os
from collections.abc import Callable, Iterator

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


#: Component name → a check that returns None when it is there, else why not.  One line per component
#: (the same names as the ``require`` lines of .ci/run).
COMPONENTS: dict[str, Callable[[], str | None]] = {
    "nats-server": _nats_server,
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
