"""Endpoints on the in-process bus: what is sealed by a partner arrives; what is not, never reaches the handler."""

from __future__ import annotations

import numpy as np
import pytest

from mwx.exchange.bus import InMemoryBus
from mwx.exchange.endpoint import Endpoint
from mwx.exchange.envelope import seal
from mwx.exchange.keys import Signer, Verifier
from mwx.exchange.messages import TrackReport

T0 = 1_664_835_767.0


def report(seq: int = 0, sender: str = "KR") -> TrackReport:
    return TrackReport(
        sender=sender,
        seq=seq,
        track_id=f"{sender}-T0001",
        time=T0 + seq,
        sent=T0 + seq + 0.5,
        state=[-3.1e6, 4.1e6, 3.9e6, 1200.0, -800.0, 2500.0],
        covariance=np.diag([1e4, 1e4, 1e4, 25.0, 25.0, 25.0]).ravel().tolist(),
        first_detection=T0 - 60.0,
    )


@pytest.fixture
def pair():
    bus = InMemoryBus()
    kr, jp = Signer.from_seed("KR", 1), Signer.from_seed("JP", 1)
    verifier = Verifier.of(kr, jp)
    got: list = []
    sender = Endpoint("KR", bus, verifier, lambda m: None, kr)
    receiver = Endpoint("JP", bus, verifier, got.append, jp)
    return bus, sender, receiver, got


def test_a_sealed_report_arrives_once_and_is_counted(pair) -> None:
    bus, sender, receiver, got = pair
    sender.send(report(0), T0 + 1.0)
    sender.send(report(1), T0 + 2.0)
    assert [m.seq for m in got] == [0, 1] and got[0] == report(0)
    assert (sender.counters.sent, receiver.counters.received, receiver.counters.rejected_total) == (2, 2, 0)
    assert bus.sent == 2 and bus.delivered == 2


def test_tampered_forged_and_replayed_envelopes_are_journalled_not_delivered(pair) -> None:
    bus, _, receiver, got = pair
    good = seal(report(5), Signer.from_seed("KR", 1), seq=5, sent=T0 + 6.0)
    tampered = bytearray(good)
    tampered[len(tampered) // 2] ^= 0x01
    forged = seal(report(6), Signer.from_seed("KR", 999), seq=6, sent=T0 + 7.0)  # KR's name, another key
    stranger = seal(report(0, sender="RU"), Signer.from_seed("RU", 1), seq=0, sent=T0 + 1.0)
    bus.publish_bytes("KR", bytes(tampered), T0 + 6.0)
    bus.publish_bytes("KR", forged, T0 + 7.0)
    bus.publish_bytes("RU", stranger, T0 + 1.0)
    bus.publish_bytes("KR", good, T0 + 6.0)
    bus.publish_bytes("KR", good, T0 + 6.5)  # the same envelope again
    assert [m.seq for m in got] == [5]  # only the genuine one, once
    reasons = [r.reason for r in receiver.rejections]
    assert reasons[1:] == ["bad-signature", "unknown-sender", "replayed"]
    assert reasons[0] in ("bad-signature", "malformed")
    assert receiver.counters.rejected_total == 4 and receiver.counters.received == 1
    assert receiver.rejections[-1].sender == "KR" and receiver.rejections[-1].seq == 5


def test_a_listen_only_endpoint_cannot_send(pair) -> None:
    bus, _, _, _ = pair
    observer = Endpoint("fused", bus, Verifier.of(Signer.from_seed("KR", 1)), lambda m: None)
    with pytest.raises(RuntimeError):
        observer.send(report(0), T0)
