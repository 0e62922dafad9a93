"""Exchange throughput and latency: the NATS JetStream path against the in-process bus, signing included.

NATS: the hub as a JetStream cluster of ``--hub-servers`` servers (default 3; inbox streams with
min(3, servers) copies) and two leaf servers (KR, JP) on loopback (:class:`mwx.exchange.servers.NatsCluster`),
TLS with client certificates on every link, the real :class:`mwx.exchange.nats.NatsTransport` on both
sides, each with its own SQLite journal.  KR's process seals track reports (Ed25519) at a fixed offered
rate for ``--seconds`` and hands them to its transport (outbox, then JetStream with Nats-Msg-Id); JP's
process takes them from its durable consumer, verifies each (signature, sequence, time, content),
journals it and acknowledges.  Latency is from sealing to verified delivery (both processes read one
wall clock).  Each pass also reports the longest gap between consecutive deliveries at JP and the
longest PubAck stall at KR (envelopes waiting while no acknowledgement came).

* ``--kill-hub-at S``: a further pass in which the server leading JP's inbox stream is SIGKILLed S s
  into the offer: nothing may be lost, and the longest gap or stall is the failover pause.
* ``--fsync-cost``: the same load again with the nodes' journals not fsynced (``synchronous=OFF``), and,
  where nats-server accepts it (2.10+; 2.9.10 refuses the key), with ``sync_interval: always`` on the
  hub: what fsync on acknowledgement costs.

The run passes when it offered at least the issue's 2,000 reports/s and, in every pass, every report
arrives and none is refused; in the passes without a fault the delivered rate keeps up with the offered
one (at least 95 % of it) and p99 < 50 ms; with a hub server killed, the failover pause is under 12 s
(:data:`FAILOVER_BAR_MS`).  It exits with status 1 otherwise (``benchmarks/_bars.py``).

In process: the same seal → :class:`~mwx.exchange.bus.InMemoryBus` → verify path, as fast as it goes.

Run: ``.venv/bin/python benchmarks/exchange_throughput.py [--rate 2000] [--seconds 10] [--kill-hub-at 5]
[--fsync-cost] [--hub-servers 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _bars import Bars

from mwx.exchange.bus import InMemoryBus
from mwx.exchange.certs import client_name
from mwx.exchange.endpoint import Endpoint
from mwx.exchange.envelope import peek
from mwx.exchange.keys import Signer, Verifier
from mwx.exchange.messages import TrackReport
from mwx.exchange.nats import NatsTransport
from mwx.exchange.natsconf import Topology, ensure_streams, render_config, stream_name
from mwx.exchange.servers import NatsCluster, _monitor, find_nats_server
from mwx.node.journal import Journal

PARTNERS = ["KR", "JP"]
#: The failover pause allowed: a follower waits 4 to 9 s (nats-server's Raft election timeout) before it
#: campaigns, and a sender's publish waits up to 2 s for its PubAck and 0.5 s before it is tried again.
FAILOVER_BAR_MS = 12_000.0


def report(seq: int, now: float) -> TrackReport:
    return TrackReport(
        sender="KR",
        seq=seq,
        track_id=f"KR-T{seq % 50:04d}",
        time=now,
        sent=now,
        state=[-3_100_123.4 + seq, 4_100_987.6, 3_900_555.5, 1200.0, -800.0, 2500.0],
        covariance=np.diag([1e4, 1e4, 1e4, 25.0, 25.0, 25.0]).ravel().tolist(),
        first_detection=now - 60.0,
        boosting=False,
    )


def signers() -> dict[str, Signer]:
    return {p: Signer.from_seed(p, 1) for p in PARTNERS}


def in_process(n: int) -> float:
    """Reports per second sealed, carried and verified in one process."""
    bus = InMemoryBus()
    keys = signers()
    verifier = Verifier.of(*keys.values())
    got: list = []
    sender = Endpoint("KR", bus, verifier, lambda m: None, keys["KR"])
    Endpoint("JP", bus, verifier, got.append, keys["JP"])
    start = time.perf_counter()
    for i in range(n):
        now = time.time()
        sender.send(report(i, now), now)
    elapsed = time.perf_counter() - start
    assert len(got) == n
    return n / elapsed


@dataclass(frozen=True)
class Pass:
    """One measured pass: how the hub and the journals store, and whether a hub server is killed."""

    label: str
    hub_servers: int = 3
    journal_fsync: bool = True
    sync_interval: str | None = None
    kill_hub_at: float | None = None


def _journal(path: str, fsync: bool) -> Journal:
    journal = Journal(path)
    if not fsync:  # the benchmark's counterfactual only: a journal whose commits are not fsynced
        db = journal._db
        db.execute("COMMIT")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("BEGIN")
    return journal


def _longest_gap(times: list[float]) -> float:
    return float(np.diff(np.asarray(times)).max()) if len(times) > 1 else 0.0


def _sender(
    url: str, tls: tuple[str, str, str], journal_path: str, fsync: bool, rate: float, seconds: float, go, done
) -> None:
    async def main() -> None:
        keys = signers()
        journal = _journal(journal_path, fsync)
        transport = NatsTransport("KR", PARTNERS, journal, keys["KR"], time.time)
        endpoint = Endpoint("KR", transport, Verifier.of(*keys.values()), lambda m: None, keys["KR"])
        ca, cert, key = tls
        await transport.start(url, ca=ca, cert=cert, cert_key=key)
        n = int(rate * seconds)
        while not go.is_set():  # the receiver's consumer is bound and fetching
            await asyncio.sleep(0.01)
        stall = [0.0]

        async def watch_acks() -> None:
            """The longest time envelopes waited while no PubAck came (sampled every 2 ms)."""
            seen, since = 0, time.time()
            while True:
                await asyncio.sleep(0.002)
                now = time.time()
                if transport.published > seen or transport.idle:
                    seen, since = transport.published, now
                else:
                    stall[0] = max(stall[0], now - since)

        watcher = asyncio.create_task(watch_acks())
        t0 = time.time()
        for i in range(n):
            due = t0 + i / rate
            if (delay := due - time.time()) > 0:
                await asyncio.sleep(delay)
            now = time.time()
            endpoint.send(report(i, now), now)
            if i % 64 == 0:
                await asyncio.sleep(0)
        while not transport.idle:
            await asyncio.sleep(0.01)
        watcher.cancel()
        offered_s = time.time() - t0
        done.put({"sent": n, "offered_s": offered_s, "retries": transport.retries, "ack_stall_ms": stall[0] * 1e3})
        await asyncio.sleep(1.0)
        await transport.stop()

    asyncio.run(main())


def _receiver(url: str, tls: tuple[str, str, str], journal_path: str, fsync: bool, expect: int, ready, done) -> None:
    async def main() -> None:
        keys = signers()
        journal = _journal(journal_path, fsync)
        transport = NatsTransport("JP", PARTNERS, journal, keys["JP"], time.time)
        endpoint = Endpoint("JP", transport, Verifier.of(*keys.values()), lambda m: None, keys["JP"])
        latencies: list[float] = []
        arrivals: list[float] = []
        duplicates = [0]

        def on_bytes(data: bytes, now: float, redelivered: bool = False) -> None:
            claimed = peek(data)
            if journal.inbox_data(claimed.sender, claimed.seq) == data:  # delivered again (its ack lost), as a node
                duplicates[0] += 1
                return
            opened = endpoint.open(data, now)
            if opened is None:
                return
            journal.put_inbox(opened.sender, opened.seq, data, opened.envelope.sent, now)
            latencies.append(time.time() - opened.envelope.sent)
            arrivals.append(now)

        transport.subscribe_bytes("JP", on_bytes)
        ca, cert, key = tls
        await transport.start(url, ca=ca, cert=cert, cert_key=key)
        await asyncio.sleep(1.0)  # the consumer task binds its durable consumer and starts fetching
        ready.set()
        deadline = time.time() + 120.0
        while len(latencies) < expect and time.time() < deadline:
            await asyncio.sleep(0.05)
        await transport.stop()
        lat = np.array(latencies)
        done.put(
            {
                "received": len(lat),
                "rejected": endpoint.counters.rejected_total,
                "duplicates": duplicates[0],
                "span_s": arrivals[-1] - arrivals[0] if arrivals else 0.0,
                "gap_ms": _longest_gap(arrivals) * 1e3,
                "p50_ms": float(np.percentile(lat, 50) * 1e3),
                "p99_ms": float(np.percentile(lat, 99) * 1e3),
                "max_ms": float(lat.max() * 1e3),
            }
        )

    asyncio.run(main())


def _stream_leader(cluster: NatsCluster, recipient: str) -> int:
    """The hub server (0-based) leading ``recipient``'s inbox stream, as the running servers see it."""
    t = cluster.topology
    for i in range(t.hub_servers):
        jsz = _monitor(t.hub_http_ports[i], "/jsz?accounts=true&streams=true")
        for account in jsz.get("account_details") or []:
            for stream in account.get("stream_detail") or []:
                leader = (stream.get("cluster") or {}).get("leader")
                if stream.get("name") == stream_name(recipient) and leader in t.hub_names:
                    return t.hub_names.index(leader)
    return 0


def _kill_later(cluster: NatsCluster, go, after_s: float, killed: list[int]) -> None:
    """SIGKILL the server leading JP's inbox ``after_s`` seconds after the offer began."""
    go.wait(timeout=120.0)
    time.sleep(after_s)
    victim = _stream_leader(cluster, "JP")
    cluster.kill_hub(victim)
    killed.append(victim)


def over_nats(rate: float, seconds: float, how: Pass) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        topology = Topology.local(PARTNERS, work / "js", hub_servers=how.hub_servers)
        topology.sync_interval = how.sync_interval
        with NatsCluster(topology, work) as cluster:
            asyncio.run(ensure_streams(cluster.topology, tls=cluster.client_tls()))
            assert cluster.pki is not None
            pki = cluster.pki
            tls = {p: (str(pki.ca), str(pki.cert(client_name(p))), str(pki.key(client_name(p)))) for p in PARTNERS}
            ctx = mp.get_context("spawn")
            out: mp.Queue = ctx.Queue()
            n = int(rate * seconds)
            go = ctx.Event()
            fsync = how.journal_fsync
            receiver = ctx.Process(
                target=_receiver, args=(cluster.url("JP"), tls["JP"], str(work / "jp.sqlite"), fsync, n, go, out)
            )
            sender = ctx.Process(
                target=_sender,
                args=(cluster.url("KR"), tls["KR"], str(work / "kr.sqlite"), fsync, rate, seconds, go, out),
            )
            receiver.start()
            sender.start()
            killed: list[int] = []
            killer = None
            if how.kill_hub_at is not None:
                killer = threading.Thread(target=_kill_later, args=(cluster, go, how.kill_hub_at, killed))
                killer.start()
            results: dict = {}
            for _ in range(2):
                results |= out.get(timeout=seconds + 180.0)
            sender.join()
            receiver.join()
            if killer is not None:
                killer.join()
                results["killed"] = cluster.topology.hub_names[killed[0]] if killed else None
    return results


def sync_interval_supported() -> bool:
    """Whether this nats-server accepts ``jetstream { sync_interval: always }`` (2.10+; 2.9.10 refuses the key)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "probe.conf"
        path.write_text(render_config({"port": -1, "jetstream": {"store_dir": tmp, "sync_interval": "always"}}))
        checked = subprocess.run([find_nats_server(), "-t", "-c", str(path)], capture_output=True, timeout=10)
        return checked.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=2000.0, help="offered track reports per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--hub-servers", type=int, default=3, help="servers of the hub (default 3)")
    parser.add_argument("--kill-hub-at", type=float, metavar="S", help="also a pass with a hub server SIGKILLed at S s")
    parser.add_argument("--fsync-cost", action="store_true", help="also passes without fsync (journals, hub)")
    parser.add_argument("--in-process", type=int, default=20_000, help="reports for the in-process figure")
    args = parser.parse_args()
    h = args.hub_servers
    hub = f"{h}-server hub R{min(3, h)}" if h > 1 else "1-server hub"
    passes = [Pass(f"{hub}, TLS, journals fsynced", hub_servers=h)]
    if args.kill_hub_at is not None:
        label = f"{hub}, TLS, stream leader SIGKILLed at {args.kill_hub_at:g} s"
        passes.append(Pass(label, hub_servers=h, kill_hub_at=args.kill_hub_at))
    supported = None
    if args.fsync_cost:
        passes.append(Pass(f"{hub}, TLS, journals not fsynced", hub_servers=h, journal_fsync=False))
        supported = sync_interval_supported()
        if supported:
            passes.append(Pass(f"{hub} sync_interval always, TLS", hub_servers=h, sync_interval="always"))
    rows = []
    for how in passes:
        print(f"pass: {how.label} ...", flush=True)
        rows.append((how, over_nats(args.rate, args.seconds, how)))
    ip = in_process(args.in_process)
    print(
        "| path | offered /s | delivered /s | reports | lost | rejected | p50 ms | p99 ms | max ms "
        "| longest delivery gap ms | longest PubAck stall ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for how, r in rows:
        r["delivered_rate"] = r["received"] / r["span_s"] if r["span_s"] > 0 else float("nan")
        cells = [
            f"NATS JetStream ({how.label})",
            f"{args.rate:,.0f}",
            f"{r['delivered_rate']:,.0f}",
            f"{r['sent']:,}",
            str(r["sent"] - r["received"]),
            str(r["rejected"]),
            *(f"{r[k]:.1f}" for k in ("p50_ms", "p99_ms", "max_ms", "gap_ms", "ack_stall_ms")),
        ]
        print("| " + " | ".join(cells) + " |")
    memory_row = ["in-process bus (signed, verified)", "as fast as it goes", f"{ip:,.0f}", f"{args.in_process:,}"]
    print("| " + " | ".join(memory_row + ["0", "0", "—", "—", "—", "—", "—"]) + " |")
    for how, r in rows:
        extra = f", killed {r['killed']}" if how.kill_hub_at is not None else ""
        print(f"{how.label}: publish retries {r['retries']}, redeliveries dropped {r['duplicates']}{extra}")
    if supported is False:
        print("sync_interval: this nats-server refuses the key (2.10+ only): no pass with fsync on acknowledgement")
    bars = Bars()
    bars.check("offered at least 2,000 track reports/s", args.rate >= 2000.0, f"{args.rate:,.0f}/s")
    for how, r in rows:
        bars.check(f"none lost ({how.label})", r["received"] == r["sent"], f"{r['received']:,} of {r['sent']:,}")
        bars.check(f"none refused ({how.label})", r["rejected"] == 0, f"{r['rejected']} rejected")
        if how.kill_hub_at is None:
            rate_ok = r["delivered_rate"] >= 0.95 * args.rate
            figure = f"{r['delivered_rate']:,.0f}/s"
            bars.check(f"delivered at least 95 % of the offered ({how.label})", rate_ok, figure)
            bars.check(f"p99 seal-to-delivery under 50 ms ({how.label})", r["p99_ms"] < 50.0, f"{r['p99_ms']:.1f} ms")
        else:  # the pause is the measure here: the rate and latencies over the run include it
            pause = max(r["gap_ms"], r["ack_stall_ms"])
            bars.check(f"failover pause under 12 s ({how.label})", pause < FAILOVER_BAR_MS, f"{pause:,.0f} ms")
    bars.finish()


if __name__ == "__main__":
    main()
