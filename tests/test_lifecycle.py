"""`mwx run --bus nats` leaves no process behind, however it is stopped (mwx.lifecycle).

Each test starts the real command in a process of its own on the small scenario, waits until every
node process is running, stops the command (SIGTERM, Ctrl-C's SIGINT, or SIGKILL, which runs no
clean-up at all) and looks through /proc for any process of that run: nats-server with a config in the
run's folder, or ``mwx node`` with its configuration there.  None may be left 10 s after the signal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.requires_component("nats-server"), pytest.mark.slow]  # see tests/conftest.py

SCENARIO = Path(__file__).parent / "data" / "scenarios" / "small.yaml"
PARTICIPANTS = ("KR", "JP", "US", "fused")
GRACE_S = 10.0


def processes_of(run_dir: Path) -> dict[int, str]:
    """pid → command line of every live process whose command line names ``run_dir`` (zombies have none)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(run_dir) in cmdline:
            found[int(entry.name)] = cmdline.strip()
    return found


def start_run(out: Path) -> subprocess.Popen[bytes]:
    """``mwx run`` on the small scenario over NATS, once every node process has started (its log says so)."""
    run = subprocess.Popen(
        [sys.executable, "-m", "mwx.cli", "run", str(SCENARIO), "--out", str(out), "--bus", "nats", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 120.0
    logs = [out / "nats" / f"{p}.log" for p in PARTICIPANTS]
    while not all(log.exists() and "node started" in log.read_text(errors="replace") for log in logs):
        assert run.poll() is None, run.communicate()[0].decode(errors="replace")
        assert time.monotonic() < deadline, "the nodes did not start within 120 s"
        time.sleep(0.2)
    return run


def assert_none_left(out: Path, since: float) -> None:
    while processes_of(out) and time.monotonic() - since < GRACE_S:
        time.sleep(0.1)
    left = processes_of(out)
    for pid in left:  # do not leave them to the next test either
        os.kill(pid, signal.SIGKILL)
    assert not left, f"left {time.monotonic() - since:.1f} s after the signal: {left}"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_run_ends_every_server_and_node_and_says_so(tmp_path: Path, signum: int) -> None:
    out = tmp_path / "run"
    run = start_run(out)
    children = processes_of(out)
    servers = [c for c in children.values() if "nats-server" in c]
    nodes = [c for c in children.values() if " node " in c]
    assert len(servers) >= 1 + len(PARTICIPANTS) and len(nodes) == len(PARTICIPANTS), children
    sent = time.monotonic()
    run.send_signal(signum)
    output = run.communicate(timeout=GRACE_S)[0].decode(errors="replace")
    assert run.returncode == 128 + signum, output
    assert f"stopped by {signal.Signals(signum).name}" in output.strip().splitlines()[-1]
    assert_none_left(out, sent)
    # The nodes were asked to stop, not killed: each saved what it held.
    for p in PARTICIPANTS:
        assert (out / "nats" / "nodes" / p / "state.pickle").exists(), p


def test_a_run_killed_outright_takes_its_children_with_it(tmp_path: Path) -> None:
    """SIGKILL runs no handler: the children end because the kernel tells them their parent died."""
    out = tmp_path / "run"
    run = start_run(out)
    assert processes_of(out)
    sent = time.monotonic()
    run.kill()
    run.communicate(timeout=GRACE_S)
    assert_none_left(out, sent)
