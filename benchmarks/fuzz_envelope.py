"""Fuzz the receiving side of the exchange: random mutations of valid sealed envelopes fed to ``unseal``.

Run: ``taskset -c 0 .venv/bin/python benchmarks/fuzz_envelope.py [--cases 100000] [--seed 1]``.
Prints the cases per mutation family, the outcomes by rejection reason and the rate.  It fails
(exit 1) if anything but :class:`mwx.errors.Rejection` escapes ``unseal``, if a rejection comes
from the last-line-of-defence handler (``internal error``), or if a mutated envelope is accepted
while not byte-identical to one of the valid ones.  ``tests/test_envelope.py`` runs the same
campaign with fewer cases.

Mutation families (one to three mutations per case for the byte-level ones):

* ``bytes`` — bit flips, byte insertions, deletions, truncations, runs of random bytes;
* ``random`` — random bytes of a random length (0-700);
* ``structure`` — the envelope decoded to a MessagePack array and rebuilt with one element
  changed (type, value, dropped, duplicated, extra element, body bytes mutated, nested junk);
* ``signed`` — a mutated *body* sealed with the sender's real key (a buggy or compromised
  partner): reaches the content checks, must be accepted only if the message is valid.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from dataclasses import dataclass, field

import msgspec
import numpy as np

from mwx.errors import Rejection
from mwx.exchange import envelope, messages
from mwx.exchange.keys import Signer, Verifier
from mwx.exchange.messages import (
    Ack,
    Alert,
    Area,
    Ellipse,
    GeoPoint,
    Heartbeat,
    LaunchEventReport,
    Message,
    OperatorNote,
    TrackReport,
)

T0 = 1_700_000_000.0
PARTNERS = ("KR", "JP", "US")


def sample_messages(sender: str = "KR", t: float = T0) -> list[Message]:
    """One valid message of every kind (the track report twice: bare and with every option)."""
    cov = np.diag([1e4, 1e4, 1e4, 25.0, 25.0, 25.0])
    cov[0, 3] = cov[3, 0] = 300.0
    track = TrackReport(
        sender=sender,
        seq=7,
        track_id=f"{sender}-T0001",
        time=t,
        sent=t + 0.5,
        state=[-3.1e6, 4.1e6, 3.9e6, 1200.0, -800.0, 2500.0],
        covariance=cov.ravel().tolist(),
        first_detection=t - 60.0,
    )
    point = GeoPoint(lat=41.2, lon=139.9)
    ellipse = Ellipse(semi_major_km=12.0, semi_minor_km=3.1, orientation_deg=81.0)
    return [
        track,
        msgspec.structs.replace(
            track,
            boosting=True,
            quality=0.9,
            phase="coast",
            launch_time=t - 200.0,
            launch_time_sigma_s=3.0,
            launch_point=GeoPoint(lat=40.61, lon=126.43),
            launch_point_sigma_km=1.1,
            impact_time=t + 400.0,
            impact_time_sigma_s=0.4,
            impact_point=point,
            impact_ellipse_95=ellipse,
        ),
        LaunchEventReport(
            sender=sender,
            event_id=f"{sender}-T0001",
            time=t,
            first_detection=t - 60.0,
            final=True,
            track_ids=[f"{sender}-T0001", f"{sender}-T0002"],
            launch_time=t - 200.0,
            launch_time_sigma_s=14.2,
            launch_point=GeoPoint(lat=40.61, lon=126.43),
            launch_point_sigma_km=1.1,
            launch_method="boost",
            apogee_km=968.1,
            range_km=4493.0,
            flight_time_s=1358.0,
            max_speed_mps=6850.0,
            impact_time=t + 1000.0,
            impact_time_sigma_s=0.4,
            impact_point=point,
            impact_ellipse_95=ellipse,
            missile_class="IRBM",
            lofted=False,
            equivalent_range_km=4600.0,
            over_territory_of=["JP"],
            inside_eez_of=[],
            number_of_objects=2,
        ),
        Alert(
            sender=sender,
            alert_id=f"{sender}-A0001",
            time=t,
            status="issued",
            area=Area(partner=sender, kind="territory", name="Japan"),
            reason="overflight",
            track_id=f"{sender}-F0001",
            impact_point=point,
            impact_time=t + 1000.0,
            crossing_time=t + 300.0,
            probability=0.97,
        ),
        Heartbeat(sender=sender, time=t, interval_s=1.0),
        Ack(sender=sender, time=t, msg_id="JP-12"),
        OperatorNote(
            sender=sender,
            time=t,
            event_id="JP-T0001",
            text="Concur: IRBM, overflight of Aomori.\nImpact outside our EEZ.",
            in_reply_to="JP-40",
        ),
    ]


def sign_raw(signer: Signer, seq: int, t: float, sent: float, kind: str, body: bytes, **changes) -> bytes:
    """An envelope of any body, signed by ``signer`` without the sender's checks (``changes`` override fields)."""
    fields = {
        "version": messages.SCHEMA_VERSION,
        "sender": signer.partner,
        "seq": seq,
        "msg_id": envelope.msg_id(signer.partner, seq),
        "time": float(t),
        "sent": float(sent),
        "kind": kind,
        "body": body,
        "signature": b"",
    }
    fields.update(changes)
    unsigned = envelope.Envelope(**fields)
    signature = changes.get("signature") or signer.sign(unsigned.signed_bytes())
    return msgspec.msgpack.encode(msgspec.structs.replace(unsigned, signature=signature))


@dataclass
class Campaign:
    """Valid envelopes to mutate and the keys to check them."""

    signers: dict[str, Signer]
    verifier: Verifier
    valid: list[bytes]
    sent: float
    outcomes: collections.Counter = field(default_factory=collections.Counter)
    families: collections.Counter = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)


def make_campaign() -> Campaign:
    signers = {p: Signer.from_seed(p, "fuzz") for p in PARTNERS}
    verifier = Verifier.of(*signers.values())
    valid = []
    for k, partner in enumerate(PARTNERS):
        for j, message in enumerate(sample_messages(partner, T0 + k)):
            valid.append(envelope.seal(message, signers[partner], seq=10 * k + j, sent=T0 + 1.0))
    return Campaign(signers, verifier, valid, T0 + 1.0)


_JUNK = [None, True, -1, 2**64 - 1, 1.5, float("nan"), "", "KR", b"", b"\x00" * 64, [], {}, [[[]]], {"a": 1}]


def _mutate_bytes(data: bytearray, rng: np.random.Generator) -> bytearray:
    for _ in range(int(rng.integers(1, 4))):
        op = int(rng.integers(0, 5))
        pos = int(rng.integers(0, len(data) + 1))
        if op == 0 and data:  # flip bits of one byte
            pos = min(pos, len(data) - 1)
            data[pos] ^= int(rng.integers(1, 256))
        elif op == 1:  # insert a byte
            data.insert(pos, int(rng.integers(0, 256)))
        elif op == 2 and data:  # delete a byte
            del data[min(pos, len(data) - 1)]
        elif op == 3:  # overwrite a run with random bytes
            run = int(rng.integers(1, 17))
            data[pos : pos + run] = rng.integers(0, 256, run, dtype=np.uint8).tobytes()
        else:  # truncate
            del data[pos:]
    return data


def _mutate_structure(data: bytes, rng: np.random.Generator) -> bytes:
    items = list(msgspec.msgpack.decode(data))
    op = int(rng.integers(0, 6))
    i = int(rng.integers(0, len(items)))
    if op == 0:  # replace an element with junk of another type
        items[i] = _JUNK[int(rng.integers(0, len(_JUNK)))]
    elif op == 1:  # drop an element
        del items[i]
    elif op == 2:  # duplicate one / add an extra one
        items.insert(i, items[i] if rng.random() < 0.5 else _JUNK[int(rng.integers(0, len(_JUNK)))])
    elif op == 3:  # nudge a number or change a string
        v = items[i]
        if isinstance(v, bool) or not isinstance(v, int | float | str | bytes):
            items[i] = None
        elif isinstance(v, int):
            items[i] = v + int(rng.choice([-1, 1, 2**32]))
        elif isinstance(v, float):
            items[i] = v + float(rng.choice([-1e-6, 1.0, 400.0]))
        elif isinstance(v, str):
            items[i] = v + "x" if rng.random() < 0.5 else v[:-1]
        else:
            items[i] = bytes(_mutate_bytes(bytearray(v), rng))
    elif op == 4:  # mutate the body's message map and re-encode it (signature now stale)
        items[7] = _mutated_body(items[7], rng)
    else:  # wrap or re-encode as a map
        items = {"envelope": items} if rng.random() < 0.5 else [items]  # type: ignore[assignment]
    return msgspec.msgpack.encode(items)


def _mutated_body(body: bytes, rng: np.random.Generator) -> bytes:
    fields = msgspec.msgpack.decode(body)
    key = list(fields)[int(rng.integers(0, len(fields)))]
    op = int(rng.integers(0, 5))
    if op == 0:
        fields[key] = _JUNK[int(rng.integers(0, len(_JUNK)))]
    elif op == 1:
        del fields[key]
    elif op == 2:
        fields["extra"] = 1
    elif op == 3 and key == "covariance":
        cov = list(fields[key])
        j = int(rng.integers(0, len(cov)))
        cov[j] = float(rng.choice([-1.0, 1e9, float("nan"), float("inf"), -cov[j], cov[j] * (1 + 1e-3)]))
        fields[key] = cov
    elif op == 3 and isinstance(fields[key], float):
        fields[key] = float(rng.choice([0.0, -1.0, 1e10, fields[key] + 1.0, float("nan")]))
    else:
        return bytes(_mutate_bytes(bytearray(body), rng))
    return msgspec.msgpack.encode(fields)


def run(cases: int, seed: int, campaign: Campaign | None = None) -> Campaign:
    """Feed ``cases`` mutated envelopes to ``unseal``; record outcomes and failures."""
    c = campaign or make_campaign()
    rng = np.random.default_rng(seed)
    valid_set = set(c.valid)
    originals = [msgspec.msgpack.decode(v) for v in c.valid]
    for case in range(cases):
        k = case % len(c.valid)
        family = ("bytes", "bytes", "bytes", "random", "structure", "structure", "signed")[case % 7]
        signed = False
        if family == "bytes":
            data = bytes(_mutate_bytes(bytearray(c.valid[k]), rng))
        elif family == "random":
            data = rng.integers(0, 256, int(rng.integers(0, 700)), dtype=np.uint8).tobytes()
        elif family == "structure":
            data = _mutate_structure(c.valid[k], rng)
        else:
            _, sender, seq, _, t, sent, kind, body, _ = originals[k]
            data = sign_raw(c.signers[sender], seq, t, sent, kind, _mutated_body(body, rng))
            signed = True
        c.families[family] += 1
        guard = envelope.ReplayGuard()  # fresh, so a valid copy would be accepted, not refused as replayed
        try:
            opened = envelope.unseal(data, c.verifier, guard, c.sent)
        except Rejection as rejection:
            c.outcomes[str(rejection.reason)] += 1
            if rejection.detail.startswith("internal error"):
                c.failures.append(f"case {case} ({family}): {rejection.detail}")
            continue
        except Exception as err:  # the property under test: nothing else escapes
            c.failures.append(f"case {case} ({family}): {type(err).__name__}: {err}")
            continue
        if signed:
            # A partner's own key vouches for it: it must at least be a valid message.
            messages.validate(opened.message)
            c.outcomes["accepted (re-signed valid body)"] += 1
            continue
        c.outcomes["accepted"] += 1
        if data not in valid_set:
            c.failures.append(f"case {case} ({family}): mutated envelope accepted: {data.hex()}")
    return c


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fuzz mwx.exchange.envelope.unseal with mutated envelopes.")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    c = run(args.cases, args.seed)
    elapsed = time.perf_counter() - started
    print(f"{args.cases} mutated envelopes in {elapsed:.1f} s ({args.cases / elapsed:,.0f}/s, one process)")
    print("families: " + ", ".join(f"{k} {v}" for k, v in sorted(c.families.items())))
    for outcome, count in c.outcomes.most_common():
        print(f"  {outcome:32s} {count:7d}")
    for failure in c.failures[:20]:
        print("FAILURE", failure)
    print(f"failures: {len(c.failures)}")
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
