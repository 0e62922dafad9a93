"""TLS on every link of the exchange, and a hub that loses a server without losing a message.

Real nats-server processes (:class:`mwx.exchange.servers.NatsCluster`: a hub of three servers, a
leaf for KR and one for JP) on free loopback ports, with the configs and certificates of
:mod:`mwx.exchange.natsconf` and :mod:`mwx.exchange.certs`.  Every refusal is checked against a
control that is let in, so each test fails if the servers accept what they should refuse or refuse
what they should accept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import nats
import nats.errors
import nats.js.errors
import pytest
from nats.aio.client import Client

from mwx.exchange.certs import client_name, client_tls_context
from mwx.exchange.natsconf import (
    Topology,
    create_topology_pki,
    durable_name,
    ensure_streams,
    hub_name,
    inbox_subject,
    leaf_config,
    leaf_name,
    render_config,
    stream_name,
)
from mwx.exchange.servers import NatsCluster, _info, _leaf_connections, _monitor
from test_nats_topology import eventually

pytestmark = pytest.mark.requires_component("nats-server")  # skipped without it; a failure under CI=true

PARTICIPANTS = ["KR", "JP"]
#: What a publish that gets no PubAck raises in nats-py: no route now (503) or no answer in time.
#: What a client refused during the TLS handshake or right after it sees.
REFUSED = (OSError, nats.errors.Error, asyncio.TimeoutError)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    """One running exchange (three hub servers, two leaves) for the tests that only connect to it."""
    work = tmp_path_factory.mktemp("tls")
    with NatsCluster(Topology.local(PARTICIPANTS, work / "jetstream"), work) as c:
        asyncio.run(ensure_streams(c.topology, tls=c.client_tls()))
        yield c


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory, cluster: NatsCluster):
    """Certificates of the same names from another CA: what an outsider can make."""
    return create_topology_pki(cluster.topology, tmp_path_factory.mktemp("foreign") / "tls")


async def connect(url: str | list[str], tls: ssl.SSLContext | None, *, once: bool = False) -> Client:
    """A TLS client; ``once``: a single try (for refusals), else it reconnects quickly and forever."""
    if once:
        return await nats.connect(servers=url, tls=tls, connect_timeout=3, allow_reconnect=False)
    return await nats.connect(
        servers=url, tls=tls, connect_timeout=2, reconnect_time_wait=0.2, max_reconnect_attempts=-1
    )


def plain_session(host: str, port: int, user: str, password: str) -> tuple[dict, bytes]:
    """Speak NATS in plain TCP: read the INFO, send CONNECT and PING without TLS; return the INFO and the reply."""
    with socket.create_connection((host, port), timeout=3) as s:
        s.settimeout(3)
        info = _info(s, 3)
        assert info is not None, "no INFO from the server"
        connect = {"verbose": False, "pedantic": False, "user": user, "pass": password, "protocol": 1}
        s.sendall(f"CONNECT {json.dumps(connect)}\r\nPING\r\n".encode())
        reply = b""
        try:
            while chunk := s.recv(4096):
                reply += chunk
        except OSError:  # reset or timed out: nothing more comes
            pass
    return info, reply


# --------------------------------------------------------------------------- clients
def test_a_plain_tcp_client_is_refused_on_the_leaf_and_hub_client_ports(cluster: NatsCluster) -> None:
    t = cluster.topology
    user, password = t.credentials["KR"]
    for where, host, port in (
        ("KR's leaf", t.leaf_host, t.leaf_ports["KR"]),
        *((hub_name(i), t.hub_hosts[i], t.hub_client_ports[i]) for i in range(t.hub_servers)),
    ):
        info, reply = plain_session(host, port, user, password)
        assert info.get("tls_required") is True, where
        assert b"PONG" not in reply and b"+OK" not in reply, (where, reply)

    async def control() -> None:  # the same credentials over TLS with KR's certificate are let in
        for url in (t.url("KR"), *t.hub_urls("KR")):
            nc = await connect(url, cluster.client_tls("KR"), once=True)
            await nc.flush()
            await nc.close()

    asyncio.run(control())


def test_a_client_without_a_certificate_of_the_exchanges_ca_is_refused(cluster: NatsCluster, foreign) -> None:
    t = cluster.topology
    ours = cluster.pki
    assert ours is not None
    me = client_name("KR")
    refused = {
        "no client certificate": client_tls_context(ours.ca),
        "a certificate from another CA": client_tls_context(ours.ca, foreign.cert(me), foreign.key(me)),
        "trusting another CA (a server in the middle)": client_tls_context(foreign.ca, ours.cert(me), ours.key(me)),
    }

    async def attempts() -> None:
        for url in (t.url("KR"), t.hub_url("KR", 1)):
            for what, tls in refused.items():
                with pytest.raises(REFUSED):
                    nc = await connect(url, tls, once=True)
                    await nc.flush(timeout=2)  # a refusal may come just after the handshake
                    await nc.close()
                    pytest.fail(f"{url.rsplit('@', 1)[1]} let in a client with {what}")
            nc = await connect(url, client_tls_context(ours.ca, ours.cert(me), ours.key(me)), once=True)
            await nc.flush(timeout=2)
            await nc.close()

    asyncio.run(attempts())


def test_a_participants_certificate_cannot_join_the_hub_cluster(cluster: NatsCluster) -> None:
    """KR's certificate passes TLS on a cluster port (one CA), but the route password keeps it out of the hub."""
    t = cluster.topology

    def route_reply(credentials: tuple[str, str] | None) -> bytes:
        with socket.create_connection((t.hub_hosts[1], t.hub_cluster_ports[1]), timeout=3) as raw:
            raw.settimeout(3)
            with cluster.client_tls("KR").wrap_socket(raw, server_hostname=t.hub_hosts[1]) as s:
                assert _info(s, 3) is not None  # a route speaks TLS from the first byte
                connect = {"verbose": False, "pedantic": False, "tls_required": True, "name": "spy", "protocol": 1}
                if credentials:
                    connect |= {"user": credentials[0], "pass": credentials[1]}
                s.sendall(f"CONNECT {json.dumps(connect)}\r\nPING\r\n".encode())
                return s.recv(4096)

    assert b"Authorization Violation" in route_reply(None)
    assert t.route_credentials is not None
    assert b"Authorization Violation" not in route_reply(t.route_credentials)  # control: the route password passes


def test_a_message_reaches_the_recipients_stream_over_tls(cluster: NatsCluster) -> None:
    t = cluster.topology

    async def scenario() -> None:
        kr = await connect(t.url("KR"), cluster.client_tls("KR"))
        ack = await kr.jetstream(timeout=2).publish(
            inbox_subject("JP", "KR"), b"over TLS", headers={"Nats-Msg-Id": "tls-1"}
        )
        assert ack.stream == stream_name("JP")
        connections = _monitor(t.leaf_http_ports["KR"], "/connz?auth=1").get("connections") or []
        assert connections and all(c.get("tls_version", "").startswith("1.") for c in connections), connections
        await kr.close()
        jp = await connect(t.url("JP"), cluster.client_tls("JP"))
        js = jp.jetstream(timeout=2)
        sub = await js.pull_subscribe("mwx.in.JP.*", durable=durable_name("JP"), stream=stream_name("JP"))
        [msg] = await sub.fetch(1, timeout=2)
        assert (msg.subject, msg.data) == ("mwx.in.JP.KR", b"over TLS")
        await msg.ack_sync()
        info = await js.stream_info(stream_name("JP"))
        assert info.config.num_replicas == 3 and info.cluster is not None
        assert sorted([info.cluster.leader, *(r.name for r in info.cluster.replicas or [])]) == t.hub_names
        await jp.close()

    asyncio.run(scenario())


# --------------------------------------------------------------------------- leaf links
def test_a_leaf_with_a_wrong_ca_cannot_link(tmp_path: Path) -> None:
    topology = Topology.local(PARTICIPANTS, tmp_path / "jetstream", hub_servers=1)
    with NatsCluster(topology, tmp_path) as c:
        t = c.topology
        ours = c.pki
        assert ours is not None
        outsider = create_topology_pki(t, tmp_path / "outsider")
        conf = c.configs[f"{leaf_name('KR')}.conf"]
        original = conf.read_text()
        name = leaf_name("KR")
        wrong = {
            "a leaf certificate from another CA": {"cert_file": outsider.cert(name), "key_file": outsider.key(name)},
            "a leaf that trusts another CA": {"ca_file": outsider.ca},
        }
        for what, files in wrong.items():
            config = leaf_config(t, "KR", ours)
            config["leafnodes"]["remotes"][0]["tls"] |= {k: str(v) for k, v in files.items()}
            c.kill_leaf("KR")
            conf.write_text(render_config(config))
            c.start_leaf("KR", wait_link=False)
            time.sleep(4.0)  # the leaf retries every second
            assert _leaf_connections(t.leaf_http_ports["KR"]) == 0, what
            assert [leaf["account"] for leaf in _monitor(t.hub_http_ports[0], "/leafz").get("leafs", [])] == ["JP"]
        c.kill_leaf("KR")
        conf.write_text(original)
        c.start_leaf("KR")  # control: with its own certificate and the exchange's CA it links
        assert _leaf_connections(t.leaf_http_ports["KR"]) == 1
        log = (tmp_path / "logs" / "hub-1.log").read_text()
        assert "TLS handshake error" in log or "tls: " in log


# --------------------------------------------------------------------------- a hub server lost
def test_one_hub_server_killed_publishing_goes_on_nothing_lost_and_it_rejoins(tmp_path: Path) -> None:
    total, kill_at = 300, 100
    with NatsCluster(Topology.local(PARTICIPANTS, tmp_path / "jetstream"), tmp_path) as c:
        t = c.topology

        async def scenario() -> tuple[int, float]:
            await ensure_streams(t, tls=c.client_tls())
            jp = await connect(t.url("JP"), c.client_tls("JP"))
            jjs = jp.jetstream(timeout=2)
            info = await jjs.stream_info(stream_name("JP"))  # only JP may look at its inbox
            assert info.cluster is not None and info.config.num_replicas == 3
            leader = t.hub_names.index(info.cluster.leader)
            kr = await connect(t.url("KR"), c.client_tls("KR"))
            js = kr.jetstream(timeout=1)
            longest, last = 0.0, time.monotonic()
            for i in range(total):
                if i == kill_at:
                    c.kill_hub(leader)  # SIGKILL the server that leads JP's inbox
                subject, data = inbox_subject("JP", "KR"), f"{i}".encode()
                ack = await eventually(lambda s=subject, d=data, i=i: js.publish(s, d, headers={"Nats-Msg-Id": f"{i}"}))
                assert not ack.duplicate, i
                now = time.monotonic()
                longest, last = max(longest, now - last), now
            await kr.close()
            info = await eventually(lambda: jjs.stream_info(stream_name("JP")))
            assert info.state.messages == total
            assert info.cluster is not None and info.cluster.leader != hub_name(leader)
            # A new consumer waits for a metadata leader: a new one if the killed server led the cluster.
            sub = await eventually(
                lambda: jjs.pull_subscribe("mwx.in.JP.*", durable=durable_name("JP"), stream=stream_name("JP"))
            )
            got: list[bytes] = []
            deadline = time.monotonic() + 20.0
            while len(got) < total and time.monotonic() < deadline:
                with contextlib.suppress(nats.errors.TimeoutError):  # the consumer's own leader comes first
                    got += [m.data for m in await sub.fetch(100, timeout=2)]
            assert got == [f"{i}".encode() for i in range(total)]  # all, once each, in order
            await jp.close()
            return leader, longest

        leader, longest = asyncio.run(scenario())
        assert longest < 10.0, longest  # failover, not a wait for the server to come back
        c.start_hub(leader)  # waits until the cluster has settled
        # The returned server catches up on what it missed from the stream's leader: within seconds.
        deadline, held = time.monotonic() + 30.0, -1
        while time.monotonic() < deadline:
            jsz = _monitor(t.hub_http_ports[leader], "/jsz?accounts=true&streams=true")
            streams = {s["name"]: s for a in jsz["account_details"] for s in a.get("stream_detail", [])}
            held = streams[stream_name("JP")]["state"]["messages"] if stream_name("JP") in streams else -1
            if held == total:
                break
            time.sleep(0.25)
        assert held == total  # the returned server caught up
        assert jsz["meta_cluster"]["leader"] in t.hub_names
