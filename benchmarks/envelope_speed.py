"""Seal and unseal speed of track reports: signed envelopes per second on one core.

Run: ``taskset -c 0 .venv/bin/python benchmarks/envelope_speed.py [--n 20000] [--repeats 5]``.
For a bare TrackReport (state + covariance) and one with every optional assessment field,
prints the best of ``--repeats`` rates of: the skeleton codec (encode + decode, no checks), the
content checks alone (``validate``), Ed25519 sign and verify alone, ``seal``, ``unseal`` and
seal + unseal in series (one partner sending to one other, on one core).  The issue asks for
2,000 track reports/s through NATS with signing and verification; this is the budget the
envelope leaves to the transport.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz_envelope import T0, sample_messages

from mwx.exchange import envelope, messages
from mwx.exchange.keys import Signer, Verifier


def rate(n: int, repeats: int, run: Callable[[int], None]) -> float:
    """Best of ``repeats`` rates [1/s] of ``run(n)``, which does n operations."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run(n)
        best = min(best, time.perf_counter() - started)
    return n / best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="operations per timed run (default: 20000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs, the best is kept (default: 5)")
    args = parser.parse_args(argv)
    kr = Signer.from_seed("KR", "bench")
    verifier = Verifier.of(kr)
    samples = sample_messages("KR", T0)
    sent = T0 + 1.0
    print(f"{'track report':14s} {'bytes':>6s} {'codec/s':>9s} {'validate/s':>10s} {'sign/s':>8s} {'verify/s':>9s} "
          f"{'seal/s':>8s} {'unseal/s':>9s} {'seal+unseal/s':>13s}")  # fmt: skip
    for label, report in (("bare", samples[0]), ("with options", samples[1])):
        wire = envelope.seal(report, kr, seq=0, sent=sent)
        signed = msgspec.msgpack.decode(wire, type=envelope.Envelope).signed_bytes()
        signature = kr.sign(signed)
        batches = [[envelope.seal(report, kr, seq=r * args.n + i, sent=sent) for i in range(args.n)]
                   for r in range(args.repeats)]  # fmt: skip

        def codec(n: int, report=report) -> None:
            for _ in range(n):
                messages.decode(messages.encode(report))

        def validate(n: int, report=report) -> None:
            for _ in range(n):
                messages.validate(report)

        def sign(n: int, signed=signed) -> None:
            for _ in range(n):
                kr.sign(signed)

        def verify(n: int, signed=signed, signature=signature) -> None:
            for _ in range(n):
                verifier.verify("KR", signature, signed)

        def seal(n: int, report=report) -> None:
            for i in range(n):
                envelope.seal(report, kr, seq=i, sent=sent)

        pending = iter(batches)

        def unseal(n: int, pending=pending) -> None:
            guard = envelope.ReplayGuard()
            for data in next(pending)[:n]:
                envelope.unseal(data, verifier, guard, sent)

        def both(n: int, report=report) -> None:
            guard = envelope.ReplayGuard()
            for i in range(n):
                envelope.unseal(envelope.seal(report, kr, seq=i, sent=sent), verifier, guard, sent)

        figures = [rate(args.n, args.repeats, f) for f in (codec, validate, sign, verify, seal, unseal, both)]
        print(
            f"{label:14s} {len(wire):6d} "
            + " ".join(f"{v:{w},.0f}" for v, w in zip(figures, (9, 10, 8, 9, 8, 9, 13), strict=True))
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
