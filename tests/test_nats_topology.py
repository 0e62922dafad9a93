"""The exchange's NATS topology on real nats-server processes: delivery, isolation, failures, configs.

Each test starts its own hub (three servers, a JetStream cluster) and leaf servers on free ports in
``tmp_path`` (:class:`mwx.exchange.servers.NatsCluster`), TLS on every link, and stops them; the
server on 127.0.0.1:4222, if any, is never touched.  Skipped when no nats-server binary is installed,
but under ``CI=true`` that skip is a failure (tests/conftest.py).  TLS and the loss of one hub server
are tested in tests/test_nats_tls.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import ssl
import stat
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import nats
import nats.errors
import nats.js.errors
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from mwx.cli import main
from mwx.exchange.certs import OPERATOR, Pki, client_name, client_tls_context
from mwx.exchange.natsconf import (
    Topology,
    durable_name,
    ensure_streams,
    free_ports,
    inbox_subject,
    leaf_config,
    render_config,
    stream_name,
)
from mwx.exchange.servers import NatsCluster, find_nats_server

pytestmark = pytest.mark.requires_component("nats-server")  # skipped without it; a failure under CI=true

PARTICIPANTS = ["KR", "JP", "US", "fused"]
#: What a publish that gets no PubAck raises in nats-py: no route now (503) or no answer in time.
NO_PUBACK = (nats.js.errors.NoStreamResponseError, nats.errors.NoRespondersError, nats.errors.TimeoutError)
#: What a refused JetStream API call raises: dropped by permissions (timeout) or answered with an error.
REFUSED = (*NO_PUBACK, nats.js.errors.APIError)


class Errors:
    """A quiet nats-py error callback that keeps what the server said (e.g. permission violations)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def callback(self, err: Exception) -> None:
        """The ``error_cb`` (nats-py wants a coroutine function, not a callable object)."""
        self.seen.append(str(err))

    def permission_violations(self) -> list[str]:
        return [e for e in self.seen if "permissions violation" in e.lower()]


async def connect(url: str | list[str], tls: ssl.SSLContext, errors: Errors | None = None) -> Client:
    """A client (TLS with the client certificate of ``tls``) that reconnects quickly and forever (the servers
    under test get killed).  ``url`` may list several servers (every hub server)."""
    return await nats.connect(
        servers=url,
        tls=tls,
        connect_timeout=2,
        reconnect_time_wait=0.2,
        max_reconnect_attempts=-1,
        error_cb=(errors or Errors()).callback,
    )


def cluster_for(tmp_path: Path, *, link_faults: bool = False) -> NatsCluster:
    return NatsCluster(Topology.local(PARTICIPANTS, tmp_path / "jetstream"), tmp_path, link_faults=link_faults)


async def eventually(call: Callable[[], Awaitable[object]], within_s: float = 10.0) -> object:
    """``await call()`` until it stops raising a no-PubAck error, or re-raise after ``within_s``."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            return await call()
        except NO_PUBACK:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def stream_messages(url: str, recipient: str, tls: ssl.SSLContext) -> int:
    """How many messages ``recipient``'s inbox holds, asked as ``recipient`` through ``url``."""
    nc = await connect(url, tls)
    try:
        info = await nc.jetstream(timeout=2).stream_info(stream_name(recipient))
        return info.state.messages
    finally:
        await nc.close()


# --------------------------------------------------------------------------- 1. delivery
def test_message_reaches_recipient_stream_and_durable_consumer(tmp_path: Path) -> None:
    async def scenario(c: NatsCluster) -> None:
        await ensure_streams(c.topology, tls=c.client_tls())
        await ensure_streams(c.topology, tls=c.client_tls())  # idempotent

        kr = await connect(c.url("KR"), c.client_tls("KR"))
        js = kr.jetstream(timeout=2)
        ack = await js.publish(inbox_subject("JP", "KR"), b"track 1", headers={"Nats-Msg-Id": "KR-1"})
        assert (ack.stream, ack.seq, bool(ack.duplicate)) == (stream_name("JP"), 1, False)
        again = await js.publish(inbox_subject("JP", "KR"), b"track 1", headers={"Nats-Msg-Id": "KR-1"})
        assert (again.stream, again.seq, again.duplicate) == (stream_name("JP"), 1, True)
        ack2 = await js.publish(inbox_subject("fused", "KR"), b"to the observer", headers={"Nats-Msg-Id": "KR-2"})
        assert ack2.stream == stream_name("fused")
        await kr.close()

        jp = await connect(c.url("JP"), c.client_tls("JP"))
        jjs = jp.jetstream(timeout=2)
        sub = await jjs.pull_subscribe("mwx.in.JP.*", durable=durable_name("JP"), stream=stream_name("JP"))
        [msg] = await sub.fetch(1, timeout=2)
        assert (msg.subject, msg.data, msg.headers) == ("mwx.in.JP.KR", b"track 1", {"Nats-Msg-Id": "KR-1"})
        await msg.ack_sync()
        info = await jjs.consumer_info(stream_name("JP"), durable_name("JP"))
        assert (info.num_ack_pending, info.num_pending, info.ack_floor.stream_seq) == (0, 0, 1)
        info = await jjs.stream_info(stream_name("JP"))
        assert (info.state.messages, info.config.num_replicas) == (1, 3)  # a copy on every hub server
        with pytest.raises(nats.errors.TimeoutError):
            await sub.fetch(1, timeout=0.5)  # the duplicate was not stored
        await jp.close()

    with cluster_for(tmp_path) as cluster:
        asyncio.run(scenario(cluster))


# --------------------------------------------------------------------------- 2. security
def _loosen_leaf(cluster: NatsCluster, participant: str) -> None:
    """Restart ``participant``'s leaf with no permissions on its user: what a careless participant might run."""
    assert cluster.pki is not None
    conf = leaf_config(cluster.topology, participant, cluster.pki, remote_ports=cluster.link_ports(participant))
    del conf["accounts"][participant]["users"][0]["permissions"]
    cluster.kill_leaf(participant)
    cluster.configs[f"leaf-{participant}.conf"].write_text(render_config(conf), encoding="utf-8")
    cluster.start_leaf(participant)


def test_participant_cannot_read_or_pose_in_another_inbox(tmp_path: Path) -> None:
    async def attempts(c: NatsCluster, url: str, where: str, legit_so_far: int) -> list[str]:
        """Every attack of KR's on JP's inbox through ``url``; returns the server's permission errors."""
        errors = Errors()
        kr = await connect(url, c.client_tls("KR"), errors)
        js = kr.jetstream(timeout=0.5)
        # Read JP's inbox: consumer on its stream, a message of it, or the raw subjects.
        with pytest.raises(REFUSED):
            await js.add_consumer(stream_name("JP"), durable_name="spy", filter_subject="mwx.in.JP.*")
        with pytest.raises(REFUSED):
            await js.pull_subscribe("mwx.in.JP.*", durable=durable_name("JP"), stream=stream_name("JP"))
        with pytest.raises(REFUSED):
            await js.get_msg(stream_name("JP"), 1)
        seen: list[Msg] = []

        async def spy(msg: Msg) -> None:
            seen.append(msg)

        sub = await kr.subscribe("mwx.in.JP.>", cb=spy)
        await kr.flush()
        us = await connect(c.url("US"), c.client_tls("US"))
        ack = await us.jetstream(timeout=2).publish(inbox_subject("JP", "US"), f"from US {where}".encode())
        assert ack.stream == stream_name("JP")
        await us.close()
        await asyncio.sleep(0.5)
        assert seen == [], f"KR saw JP's traffic via {where}"
        await sub.unsubscribe()
        # Pose as US: with a PubAck wait and as a bare publish.
        with pytest.raises(NO_PUBACK):
            await js.publish(inbox_subject("JP", "US"), b"forged", headers={"Nats-Msg-Id": f"forged-{where}"})
        await kr.publish(inbox_subject("JP", "US"), b"forged bare")
        await kr.flush()
        await asyncio.sleep(0.3)
        await kr.close()
        # What matters: JP's stream holds only the legitimate messages and no consumer.
        jp = await connect(c.url("JP"), c.client_tls("JP"))
        info = await jp.jetstream(timeout=2).stream_info(stream_name("JP"))
        assert (info.state.messages, info.state.consumer_count) == (legit_so_far + 1, 0), where
        last = await jp.jetstream(timeout=2).get_msg(stream_name("JP"), info.state.last_seq)
        assert (last.subject, last.data) == ("mwx.in.JP.US", f"from US {where}".encode())
        await jp.close()
        return errors.permission_violations()

    async def scenario(c: NatsCluster) -> None:
        await ensure_streams(c.topology, tls=c.client_tls())
        on_leaf = await attempts(c, c.url("KR"), "KR's leaf", 0)
        assert on_leaf, "KR's own leaf should refuse outright"
        on_hub = await attempts(c, c.hub_url("KR"), "the hub", 1)
        assert on_hub, "the hub should refuse outright"
        # A participant that drops every permission on its own leaf still gets nothing: the hub enforces.
        _loosen_leaf(c, "KR")
        await attempts(c, c.url("KR"), "KR's loosened leaf", 2)
        # ... and KR can still do its own job through the loosened leaf.
        kr = await connect(c.url("KR"), c.client_tls("KR"))
        ack = await kr.jetstream(timeout=2).publish(inbox_subject("JP", "KR"), b"legit")
        assert (ack.stream, ack.seq) == (stream_name("JP"), 4)
        await kr.close()

    with cluster_for(tmp_path) as cluster:
        asyncio.run(scenario(cluster))


# --------------------------------------------------------------------------- 3. hub crash
def test_hub_killed_and_restarted_keeps_stream_and_serves_again(tmp_path: Path) -> None:
    with cluster_for(tmp_path) as c:

        async def before() -> tuple[Client, Client]:
            await ensure_streams(c.topology, tls=c.client_tls())
            kr = await connect(c.url("KR"), c.client_tls("KR"))
            us = await connect(c.hub_urls("US"), c.client_tls("US"))  # directly on the hub: reconnects itself
            ack = await kr.jetstream(timeout=2).publish(
                inbox_subject("JP", "KR"), b"before", headers={"Nats-Msg-Id": "a"}
            )
            assert ack.seq == 1
            return kr, us

        async def after(kr: Client, us: Client) -> None:
            assert await stream_messages(c.url("JP"), "JP", c.client_tls("JP")) == 1
            kjs = kr.jetstream(timeout=2)
            again = await kjs.publish(inbox_subject("JP", "KR"), b"before", headers={"Nats-Msg-Id": "a"})
            assert again.duplicate  # the de-duplication window survives the crash
            ack = await eventually(
                lambda: kjs.publish(inbox_subject("JP", "KR"), b"after", headers={"Nats-Msg-Id": "b"})
            )
            assert ack.seq == 2
            ujs = us.jetstream(timeout=1)
            ack = await eventually(
                lambda: ujs.publish(inbox_subject("JP", "US"), b"US after", headers={"Nats-Msg-Id": "c"})
            )
            assert (ack.stream, ack.seq) == (stream_name("JP"), 3)
            jp = await connect(c.url("JP"), c.client_tls("JP"))
            sub = await jp.jetstream(timeout=2).pull_subscribe(
                "mwx.in.JP.*", durable=durable_name("JP"), stream=stream_name("JP")
            )
            msgs = await sub.fetch(3, timeout=2)
            assert [m.data for m in msgs] == [b"before", b"after", b"US after"]
            for m in msgs:
                await m.ack_sync()
            for nc in (kr, us, jp):
                await nc.close()

        loop = asyncio.new_event_loop()
        try:
            kr, us = loop.run_until_complete(before())
            c.kill_hub()  # every hub server
            c.start_hub()  # waits until the cluster has settled and every leaf reaches its JetStream again
            loop.run_until_complete(after(kr, us))
        finally:
            loop.close()


# --------------------------------------------------------------------------- 4. link cut
def test_cut_link_stops_publishing_until_restored(tmp_path: Path) -> None:
    with cluster_for(tmp_path, link_faults=True) as c:

        async def scenario() -> None:
            await ensure_streams(c.topology, tls=c.client_tls())
            kr = await connect(c.url("KR"), c.client_tls("KR"))
            js = kr.jetstream(timeout=1)
            assert (await js.publish(inbox_subject("JP", "KR"), b"1", headers={"Nats-Msg-Id": "1"})).seq == 1
            c.cut_link("KR")
            cut_at = time.monotonic()
            with pytest.raises(NO_PUBACK):
                await js.publish(inbox_subject("JP", "KR"), b"2", headers={"Nats-Msg-Id": "2"})
            await asyncio.sleep(max(0.0, 2.0 - (time.monotonic() - cut_at)))
            with pytest.raises(NO_PUBACK):
                await js.publish(inbox_subject("JP", "KR"), b"2", headers={"Nats-Msg-Id": "2"})
            assert await stream_messages(c.url("JP"), "JP", c.client_tls("JP")) == 1  # JP's own link is fine
            c.restore_link("KR")
            ack = await eventually(lambda: js.publish(inbox_subject("JP", "KR"), b"2", headers={"Nats-Msg-Id": "2"}))
            assert (ack.seq, bool(ack.duplicate)) == (2, False)
            await kr.close()

        asyncio.run(scenario())


# --------------------------------------------------------------------------- 5. CLI configs
def _wait_tcp(port: int, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"nats-server exited with {proc.returncode}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def test_nats_config_cli_writes_configs_nats_server_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "conf"
    ports = free_ports(11)
    hub_ports, leaf_ports, cluster_ports, (kr_port, jp_port) = ports[0:3], ports[3:6], ports[6:9], ports[9:]
    listed = [",".join(map(str, q)) for q in (hub_ports, leaf_ports, cluster_ports)]
    argv = ["nats-config", "--participants", "KR,JP", "--out", str(out), "--hub-port", listed[0]]
    argv += ["--leaf-port", listed[1], "--cluster-port", listed[2], "--leaf-ports", f"KR={kr_port},JP={jp_port}"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    servers = ["hub-1.conf", "hub-2.conf", "hub-3.conf", "leaf-KR.conf", "leaf-JP.conf"]
    private = [*servers, "credentials.json", "tls/ca.key", "tls/client-KR.key", "tls/leaf-JP.key", "tls/hub-2.key"]
    for name in private:
        assert stat.S_IMODE(os.stat(out / name).st_mode) == 0o600, name
    for name in [*servers, "credentials.json", "tls/ca.pem", "tls/ca.key"]:
        assert str(out / name) in printed, name
    assert stat.S_IMODE(os.stat(out / "tls").st_mode) == 0o700
    assert main(["nats-config", "--participants", "KR,JP", "--out", str(out), "--leaf-ports", "CN=5000"]) == 2
    assert main(["nats-config", "--participants", "KR,K.R", "--out", str(out)]) == 2
    assert main(["nats-config", "--participants", "KR,JP", "--out", str(out), "--hub-port", "1,2"]) == 2
    capsys.readouterr()
    assert (out / "hub-1.conf").read_text().count(f"{cluster_ports[0]}") == 1  # its own cluster port, no route to it

    binary = find_nats_server()
    for name in servers:
        checked = subprocess.run([binary, "-t", "-c", str(out / name)], capture_output=True, timeout=10)
        assert checked.returncode == 0, checked.stderr.decode()

    creds = json.loads((out / "credentials.json").read_text())
    assert creds["KR"]["url"].startswith("tls://") and creds["KR"]["url"].endswith(f"@127.0.0.1:{kr_port}")
    topology = Topology(
        participants=["KR", "JP"],
        hub_client_ports=hub_ports,
        hub_leaf_ports=leaf_ports,
        hub_cluster_ports=cluster_ports,
        leaf_ports={"KR": kr_port, "JP": jp_port},
        credentials={p: (c["user"], c["password"]) for p, c in creds.items()},
    )
    tls = {p: client_tls_context(c["ca"], c["cert"], c["key"]) for p, c in creds.items()}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for name, port in zip(servers, [*hub_ports, kr_port, jp_port], strict=True):
            with open(tmp_path / f"{name}.log", "wb") as log:
                procs.append(subprocess.Popen([binary, "-c", str(out / name)], stdout=log, stderr=subprocess.STDOUT))
            _wait_tcp(port, procs[-1])

        async def scenario() -> None:
            operator = Pki(out / "tls").client_context(OPERATOR)
            deadline = time.monotonic() + 30.0
            while True:  # the cluster elects its metadata leader first
                try:
                    await ensure_streams(topology, tls=operator)
                    break
                except (nats.errors.Error, nats.js.errors.Error, OSError):
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.5)
            kr = await connect(creds["KR"]["url"], tls["KR"])
            js = kr.jetstream(timeout=1)
            ack = await eventually(
                lambda: js.publish(inbox_subject("JP", "KR"), b"hello", headers={"Nats-Msg-Id": "1"}), within_s=20.0
            )
            assert (ack.stream, ack.seq) == (stream_name("JP"), 1)
            await kr.close()
            assert await stream_messages(creds["JP"]["url"], "JP", tls["JP"]) == 1

        asyncio.run(scenario())
        assert sorted(q.name for q in (out / "jetstream").iterdir()) == ["hub-1", "hub-2", "hub-3"]
        assert client_name("KR") in creds["KR"]["cert"]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)


def test_under_ci_a_missing_nats_server_fails_the_tests_that_need_it() -> None:
    """tests/conftest.py: without the binary these tests skip, but under CI=true they fail and say why."""
    this = f"{__file__}::test_message_reaches_recipient_stream_and_durable_consumer"
    hidden = {k: v for k, v in os.environ.items() if k != "CI"} | {"MWX_TEST_HIDE_COMPONENTS": "nats-server"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider", this]
    local = subprocess.run(command, env=hidden, capture_output=True, text=True, timeout=120)
    assert local.returncode == 0 and "1 skipped" in local.stdout, local.stdout
    ci = subprocess.run(command, env=hidden | {"CI": "true"}, capture_output=True, text=True, timeout=120)
    assert ci.returncode == 1, ci.stdout
    assert "CI=true: a real component is missing" in ci.stdout and "missing component nats-server" in ci.stdout


def test_free_ports_lie_outside_the_range_the_kernel_hands_out_itself() -> None:
    """A port from the ephemeral range (what binding to port 0 gives) is also the next outgoing connection's source
    port, which once took a leaf's monitoring port before the leaf bound it ("address already in use")."""
    low, _ = (int(v) for v in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    ports = free_ports(50)
    assert len(set(ports)) == 50 and all(1024 < p < low for p in ports), ports
    for port in ports[:5]:  # free now: each can be bound
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", port))
