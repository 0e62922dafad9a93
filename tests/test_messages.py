"""Tests of the wire format (mwx.exchange.messages) and the in-memory bus."""

from __future__ import annotations

import math

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mwx.errors import MessageError
from mwx.exchange import messages
from mwx.exchange.bus import InMemoryBus
from mwx.exchange.messages import TrackReport

T0 = 1.7e9
FIELDS = ("sender", "seq", "track_id", "time", "sent", "state", "covariance", "first_detection")
WIRE_ERRORS = (msgspec.ValidationError, msgspec.DecodeError, ValueError)


def report(**changes) -> TrackReport:
    fields = {
        "sender": "KR",
        "seq": 7,
        "track_id": "KR-T0001",
        "time": T0,
        "sent": T0 + 0.5,
        "state": [-3.1e6, 4.1e6, 3.9e6, 1200.0, -800.0, 2500.0],
        "covariance": np.diag([1e4, 1e4, 1e4, 25.0, 25.0, 25.0]).ravel().tolist(),
        "first_detection": T0 - 60.0,
    }
    fields.update(changes)
    return TrackReport(**fields)


def wire(**changes) -> bytes:
    """Encoded bytes of a valid report's fields with some replaced (or removed with ``...``)."""
    raw = msgspec.msgpack.decode(messages.encode(report()))
    for key, value in changes.items():
        if value is ...:
            del raw[key]
        else:
            raw[key] = value
    return msgspec.msgpack.encode(raw)


def check_valid(msg) -> None:
    """What every decoded report must satisfy, whatever bytes it came from."""
    assert isinstance(msg, TrackReport)
    assert len(msg.state) == 6 and len(msg.covariance) == 36
    assert all(math.isfinite(v) for v in (*msg.state, *msg.covariance))
    for t in (msg.time, msg.sent, msg.first_detection):
        assert 0.0 <= t <= 1e10
    assert msg.seq >= 0
    assert isinstance(msg.sender, str) and isinstance(msg.track_id, str)
    assert messages.decode(messages.encode(msg)) == msg


# ----------------------------------------------------------------- round trip
finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
times = st.floats(min_value=0.0, max_value=1e10, allow_nan=False)
reports = st.builds(
    TrackReport,
    sender=st.from_regex(r"[A-Za-z]{2,8}", fullmatch=True),
    seq=st.integers(min_value=0, max_value=2**63 - 1),
    track_id=st.text(max_size=64),
    time=times,
    sent=times,
    state=st.lists(finite, min_size=6, max_size=6),
    covariance=st.lists(finite, min_size=36, max_size=36),
    first_detection=times,
)


@settings(max_examples=100, deadline=None)
@given(reports)
def test_round_trip(msg):
    data = messages.encode(msg)
    assert isinstance(data, bytes)
    back = messages.decode(data)
    assert back == msg
    # Bit-exact floats (MessagePack float64), signs of zero included.
    for a, b in zip((*back.state, *back.covariance), (*msg.state, *msg.covariance), strict=True):
        assert math.copysign(1.0, a) == math.copysign(1.0, b) and a == b
    check_valid(back)


def test_the_default_report_is_valid():
    check_valid(messages.decode(wire()))


# ----------------------------------------------------------------- rejection
@pytest.mark.parametrize(
    "changes",
    [
        {"seq": "7"},
        {"seq": 1.5},
        {"seq": True},
        {"seq": -1},
        {"sender": 12},
        {"sender": "K"},
        {"sender": "K1"},
        {"sender": "TOOLONGNAME"},
        {"track_id": 5},
        {"track_id": "x" * 65},
        {"time": "1700000000"},
        {"time": None},
        {"state": "1,2,3,4,5,6"},
        {"state": [1.0, 2.0, 3.0, 4.0, 5.0]},
        {"state": [1.0] * 7},
        {"state": [1.0, 2.0, 3.0, 4.0, 5.0, "6"]},
        {"state": [1.0, 2.0, 3.0, 4.0, 5.0, float("nan")]},
        {"state": [1.0, 2.0, 3.0, 4.0, 5.0, float("inf")]},
        {"state": [1.0, 2.0, 3.0, 4.0, 5.0, 1e13]},
        {"covariance": [0.0] * 35},
        {"covariance": [float("nan")] + [0.0] * 35},
        {"covariance": [[0.0] * 6] * 6},
        {"time": -1.0},
        {"time": 1e10 * 1.0001},
        {"time": 1e300},
        {"time": float("nan")},
        {"time": float("inf")},
        {"sent": -0.5},
        {"sent": 2e10},
        {"first_detection": -1e9},
        {"first_detection": 3e10},
        {"first_detection": float("nan")},
        {"extra": 1},
        {"type": "other"},
    ],
    ids=repr,
)
def test_decoder_rejects(changes):
    with pytest.raises(msgspec.ValidationError):
        messages.decode(wire(**changes))


@pytest.mark.parametrize("missing", FIELDS)
def test_decoder_rejects_a_missing_field(missing):
    with pytest.raises(msgspec.ValidationError):
        messages.decode(wire(**{missing: ...}))


@pytest.mark.parametrize("data", [b"", b"\xc1", b"\x93\x01\x02\x03", msgspec.msgpack.encode([1, 2]), b"\xff" * 8])
def test_decoder_rejects_garbage(data):
    with pytest.raises(WIRE_ERRORS):
        messages.decode(data)


def test_constructor_rejects_nan():
    with pytest.raises(ValueError):
        report(state=[float("nan")] + [0.0] * 5)


def test_the_independent_part_must_be_a_part_of_the_covariance():
    full = np.diag([1e4, 1e4, 1e4, 25.0, 25.0, 25.0])
    part = np.diag([4e3, 4e3, 4e3, 9.0, 9.0, 9.0])
    ok = report(covariance=full.ravel().tolist(), independent_covariance=part.ravel().tolist())
    assert messages.decode_message(messages.encode(ok), "track") == ok
    bad = [
        ("covariance-not-psd", (full * 1.01).ravel().tolist()),  # larger than the whole: the rest is negative
        ("covariance-not-psd", (-part).ravel().tolist()),
        ("covariance-not-symmetric", (part + np.triu(np.ones((6, 6)), 1) * 10.0).ravel().tolist()),
    ]
    for reason, values in bad:
        with pytest.raises(MessageError) as err:
            messages.decode_message(messages.encode(report(independent_covariance=values)), "track")
        assert err.value.reason == reason, values
    with pytest.raises(ValueError):
        report(independent_covariance=[float("nan")] * 36)


def test_decoder_rejects_a_sender_with_a_trailing_newline():
    with pytest.raises(msgspec.ValidationError):
        messages.decode(wire(sender="KR\n"))


# ----------------------------------------------------------------- fuzz
def test_fuzz_mutated_messages_decode_or_fail_cleanly():
    seeds = np.random.default_rng(1234)
    valid = [messages.encode(report())]
    for k in range(7):
        state = (seeds.standard_normal(6) * [3e6, 3e6, 3e6, 2e3, 2e3, 2e3]).tolist()
        cov = seeds.standard_normal((6, 6))
        valid.append(
            messages.encode(
                report(
                    sender=["KR", "JP", "US", "abcdefgh"][k % 4],
                    seq=int(seeds.integers(0, 2**40)),
                    track_id=f"T{k:04d}" * (k + 1),
                    time=T0 + k,
                    state=state,
                    covariance=(cov @ cov.T).ravel().tolist(),
                )
            )
        )
    rng = np.random.default_rng(20240601)
    n_cases = 25_000
    accepted = rejected = 0
    for case in range(n_cases):
        data = bytearray(valid[case % len(valid)])
        for _ in range(int(rng.integers(1, 4))):  # one to three mutations per case
            op = int(rng.integers(0, 4))
            pos = int(rng.integers(0, len(data) + 1))
            if op == 0 and data:  # flip bits of one byte
                pos = min(pos, len(data) - 1)
                data[pos] ^= int(rng.integers(1, 256))
            elif op == 1:  # insert a byte
                data.insert(pos, int(rng.integers(0, 256)))
            elif op == 2 and data:  # delete a byte
                del data[min(pos, len(data) - 1)]
            else:  # truncate
                del data[pos:]
        try:
            msg = messages.decode(bytes(data))
        except WIRE_ERRORS:
            rejected += 1
            continue
        check_valid(msg)
        accepted += 1
    assert accepted + rejected == n_cases
    # The mutations are not all harmless: most messages are rejected, a few survive
    # (a flipped mantissa bit still gives a valid float).
    assert rejected > n_cases // 2
    assert accepted > 0


# ----------------------------------------------------------------- bus
def test_bus_delivers_to_everyone_but_the_sender_and_counts():
    bus = InMemoryBus()
    inbox: dict[str, list[TrackReport]] = {"KR": [], "JP": [], "US": []}
    for partner, box in inbox.items():
        bus.subscribe(partner, box.append)
    msg = report(sender="KR")
    bus.publish(msg)
    assert inbox["KR"] == []
    assert inbox["JP"] == [msg] and inbox["US"] == [msg]
    # Each recipient gets its own decoded copy, as over a network.
    assert inbox["JP"][0] is not msg and inbox["JP"][0] is not inbox["US"][0]
    size = len(messages.encode(msg))
    assert (bus.sent, bus.delivered, bus.bytes) == (1, 2, size)

    second = report(sender="JP", track_id="JP-T0003", seq=0)
    bus.publish(second)
    assert inbox["KR"] == [second] and inbox["US"] == [msg, second] and inbox["JP"] == [msg]
    assert (bus.sent, bus.delivered, bus.bytes) == (2, 4, size + len(messages.encode(second)))

    # A sender that is not subscribed reaches all subscribers.
    bus.publish(report(sender="NATO", seq=1))
    assert [len(inbox[p]) for p in ("KR", "JP", "US")] == [2, 2, 3]
    assert (bus.sent, bus.delivered) == (3, 7)


def test_bus_with_no_subscribers_still_counts_what_was_sent():
    bus = InMemoryBus()
    bus.publish(report())
    assert (bus.sent, bus.delivered, bus.bytes) == (1, 0, len(messages.encode(report())))


# ----------------------------------------------------------------- absurd content
_ZERO = [0.0] * 36


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"state": [-2.7e6, 3.6e6, 3.4e6, 1200.0, -800.0, 2500.0]}, "state-implausible"),  # 560 km underground
        ({"state": [1e12, 0.0, 0.0, 1200.0, -800.0, 2500.0]}, "state-implausible"),
        ({"state": [-3.1e6, 4.1e6, 3.9e6, 1e5, 0.0, 0.0]}, "state-implausible"),  # 100 km/s
        ({"covariance": _ZERO}, "covariance-floor"),
        ({"covariance": np.diag([1e-20] * 6).ravel().tolist()}, "covariance-floor"),
        ({"covariance": np.diag([1e4, 1e4, 1e4, 1e-20, 1e-20, 1e-20]).ravel().tolist()}, "covariance-floor"),
        # Near-singular: x and y known only together, their difference to a micrometre.
        (
            {
                "covariance": (np.diag([1e4] * 3 + [25.0] * 3) + np.pad([[0, 1e4 - 1e-12], [1e4 - 1e-12, 0]], (0, 4)))
                .ravel()
                .tolist()
            },
            "covariance-floor",
        ),
        ({"covariance": np.diag([1e12] * 6).ravel().tolist()}, "covariance-ceiling"),
        ({"covariance": np.diag([1e4, 1e4, 1e4, 1e12, 1e12, 1e12]).ravel().tolist()}, "covariance-ceiling"),
    ],
    ids=[
        "underground",
        "far-out",
        "100-km-s",
        "zero",
        "1e-20",
        "velocity-1e-20",
        "near-singular",
        "1e12",
        "velocity-1e12",
    ],
)
def test_absurd_tracks_are_refused_with_their_reason(changes, reason):
    """Positions under the ground or beyond any missile's reach, speeds no missile has, covariances that claim
    certainty no sensor gives or say nothing: each refused by name.  (Before: all were fused, and the tiny
    covariances raised EEZ alerts.)"""
    messages.decode(wire(**changes))  # the schema alone takes it
    with pytest.raises(MessageError) as err:
        messages.decode_message(wire(**changes), "track")
    assert err.value.reason == reason, err.value


def test_the_assessment_sets_published_tracks_are_within_the_bounds():
    """The bounds leave room around what real tracks publish (measured over six seeds of the assessment set:
    1.4 m to 32 km and 0.002 m/s to 1.9 km/s): a report at either end of that is accepted."""
    for pos, vel in ((1.4, 0.002), (32e3, 1.9e3)):
        messages.decode_message(wire(covariance=np.diag([pos**2] * 3 + [vel**2] * 3).ravel().tolist()), "track")
