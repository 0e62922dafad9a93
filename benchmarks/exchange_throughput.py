"""Exchange throughput and latency: the NATS JetStream path against the in-process bus, signing included.

NATS: a hub and two leaf servers (KR, JP) on loopback (:class:`mwx.exchange.servers.NatsCluster`),
the real :class:`mwx.exchange.nats.NatsTransport` on both sides, each with its own SQLite journal.
KR's process seals track reports (Ed25519) at a fixed offered rate for ``--seconds`` and hands them
to its transport (outbox, then JetStream with Nats-Msg-Id); JP's process fetches them from its
durable consumer, verifies each (signature, sequence, time, content), journals it and acknowledges.
Latency is from sealing to verified delivery (both processes read one wall clock).  The run passes
when it offered at least the issue's 2,000 reports/s, every report arrives and none is refused, the
delivered rate keeps up with the offered one (at least 95 % of it), and p99 < 50 ms; it exits with
status 1 otherwise (``benchmarks/_bars.py``).

In process: the same seal → :class:`~mwx.exchange.bus.InMemoryBus` → verify path, as fast as it goes.

Run: ``.venv/bin/python benchmarks/exchange_throughput.py [--rate 2000] [--seconds 10]``
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import tempfile
import time
from pathlib import Path

import numpy as np
from _bars import Bars

from mwx.exchange.bus import InMemoryBus
from mwx.exchange.endpoint import Endpoint
from mwx.exchange.keys import Signer, Verifier
from mwx.exchange.messages import TrackReport
from mwx.exchange.nats import NatsTransport
from mwx.exchange.natsconf import Topology, ensure_streams, write_configs
from mwx.exchange.servers import NatsCluster
from mwx.node.journal import Journal

PARTNERS = ["KR", "JP"]


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


def _sender(url: str, journal_path: str, rate: float, seconds: float, go: mp.Event, done: mp.Queue) -> None:
    async def main() -> None:
        keys = signers()
        journal = Journal(journal_path)
        transport = NatsTransport("KR", PARTNERS, journal, keys["KR"], time.time)
        endpoint = Endpoint("KR", transport, Verifier.of(*keys.values()), lambda m: None, keys["KR"])
        await transport.start(url)
        n = int(rate * seconds)
        while not go.is_set():  # the receiver's consumer is bound and fetching
            await asyncio.sleep(0.01)
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
        done.put({"sent": n, "offered_s": time.time() - t0, "retries": transport.retries})
        await asyncio.sleep(1.0)
        await transport.stop()

    asyncio.run(main())


def _receiver(url: str, journal_path: str, expect: int, ready: mp.Event, done: mp.Queue) -> None:
    async def main() -> None:
        keys = signers()
        journal = Journal(journal_path)
        transport = NatsTransport("JP", PARTNERS, journal, keys["JP"], time.time)
        endpoint = Endpoint("JP", transport, Verifier.of(*keys.values()), lambda m: None, keys["JP"])
        latencies: list[float] = []
        first_last = [0.0, 0.0]

        def on_bytes(data: bytes, now: float) -> None:
            opened = endpoint.open(data, now)
            if opened is None:
                return
            journal.put_inbox(opened.sender, opened.seq, data, opened.envelope.sent, now)
            latencies.append(time.time() - opened.envelope.sent)
            first_last[0] = first_last[0] or now
            first_last[1] = now

        transport.subscribe_bytes("JP", on_bytes)
        await transport.start(url)
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
                "span_s": first_last[1] - first_last[0],
                "p50_ms": float(np.percentile(lat, 50) * 1e3),
                "p99_ms": float(np.percentile(lat, 99) * 1e3),
                "max_ms": float(lat.max() * 1e3),
            }
        )

    asyncio.run(main())


def over_nats(rate: float, seconds: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        topology = Topology.local(PARTNERS, work / "js")
        write_configs(topology, work)
        with NatsCluster(topology, work) as cluster:
            asyncio.run(ensure_streams(topology))
            ctx = mp.get_context("spawn")
            out: mp.Queue = ctx.Queue()
            n = int(rate * seconds)
            go = ctx.Event()
            receiver = ctx.Process(target=_receiver, args=(cluster.url("JP"), str(work / "jp.sqlite"), n, go, out))
            sender = ctx.Process(
                target=_sender, args=(cluster.url("KR"), str(work / "kr.sqlite"), rate, seconds, go, out)
            )
            receiver.start()
            sender.start()
            results: dict = {}
            for _ in range(2):
                results |= out.get(timeout=seconds + 180.0)
            sender.join()
            receiver.join()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=2000.0, help="offered track reports per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--in-process", type=int, default=20_000, help="reports for the in-process figure")
    args = parser.parse_args()
    r = over_nats(args.rate, args.seconds)
    delivered = r["received"] / r["span_s"] if r["span_s"] > 0 else float("nan")
    ip = in_process(args.in_process)
    print("| path | offered /s | delivered /s | reports | lost | rejected | p50 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    nats_row = [
        "NATS JetStream (hub + 2 leaves, signed, journalled)",
        f"{args.rate:,.0f}",
        f"{delivered:,.0f}",
        f"{r['sent']:,}",
        str(r["sent"] - r["received"]),
        str(r["rejected"]),
        *(f"{r[k]:.1f}" for k in ("p50_ms", "p99_ms", "max_ms")),
    ]
    memory_row = ["in-process bus (signed, verified)", "as fast as it goes", f"{ip:,.0f}", f"{args.in_process:,}"]
    print("| " + " | ".join(nats_row) + " |")
    print("| " + " | ".join(memory_row + ["0", "0", "—", "—", "—"]) + " |")
    print(f"publish retries: {r['retries']}")
    bars = Bars()
    bars.check("offered at least 2,000 track reports/s", args.rate >= 2000.0, f"{args.rate:,.0f}/s")
    bars.check("none lost", r["received"] == r["sent"], f"{r['received']:,} of {r['sent']:,} delivered")
    bars.check("none refused", r["rejected"] == 0, f"{r['rejected']} rejected")
    bars.check("delivered rate at least 95 % of the offered", delivered >= 0.95 * args.rate, f"{delivered:,.0f}/s")
    bars.check("p99 seal-to-delivery latency under 50 ms", r["p99_ms"] < 50.0, f"{r['p99_ms']:.1f} ms")
    bars.finish()


if __name__ == "__main__":
    main()
