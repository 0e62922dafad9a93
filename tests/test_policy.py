"""The release policy: a recipient never receives what the policy withholds."""

from __future__ import annotations

import numpy as np
import pytest

from mwx.errors import InputError
from mwx.exchange.bus import InMemoryBus
from mwx.exchange.endpoint import Endpoint
from mwx.exchange.keys import Signer, Verifier
from mwx.exchange.messages import Heartbeat, TrackReport
from mwx.exchange.policy import OPEN, load_policy

T0 = 1_664_835_767.0
POLICY = """\
default: {kinds: [track, event, alert, heartbeat, ack, note]}
rules:
  - {sender: JP, recipient: KR, kinds: [track, event], round_position_m: 1000, withhold: [quality, phase]}
  - {sender: US, recipient: KR, kinds: [event]}
"""


def report(sender: str, seq: int = 0) -> TrackReport:
    return TrackReport(
        sender=sender,
        seq=seq,
        track_id=f"{sender}-T0001",
        time=T0 + seq,
        sent=T0 + seq,
        state=[-3_100_123.4, 4_100_987.6, 3_900_555.5, 1200.0, -800.0, 2500.0],
        covariance=np.diag([1e4, 1e4, 1e4, 25.0, 25.0, 25.0]).ravel().tolist(),
        first_detection=T0 - 60.0,
        quality=0.9,
        phase="coast",
    )


@pytest.fixture
def network(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    policy = load_policy(path)
    bus = InMemoryBus()
    signers = {p: Signer.from_seed(p, 3) for p in ("KR", "JP", "US")}
    verifier = Verifier.of(*signers.values())
    inbox: dict[str, list] = {p: [] for p in signers}
    ends = {p: Endpoint(p, bus, verifier, inbox[p].append, signers[p], policy) for p in signers}
    return ends, inbox


def test_withheld_kinds_fields_and_precision_never_reach_the_recipient(network) -> None:
    ends, inbox = network
    for seq in range(3):
        ends["JP"].send(report("JP", seq), T0 + seq)
        ends["US"].send(report("US", seq), T0 + seq)
    ends["JP"].send(Heartbeat(sender="JP", time=T0 + 5.0), T0 + 5.0)
    kr = inbox["KR"]
    # KR: JP's tracks and its heartbeat (control messages always go: gap repair needs them), nothing of US's.
    assert [(m.sender, type(m).__name__) for m in kr] == [("JP", "TrackReport")] * 3 + [("JP", "Heartbeat")]
    for m in kr[:3]:
        assert m.quality is None and m.phase is None
        assert all(abs(v / 1000.0 - round(v / 1000.0)) < 1e-9 for v in m.state[:3])
        # The rounding's variance is added, so the released covariance stays honest.
        assert m.covariance[0] == pytest.approx(1e4 + 1000.0**2 / 12.0)
    # JP and US see each other in full.
    assert inbox["US"][0] == report("JP", 0) and inbox["JP"][0] == report("US", 0)
    assert len(inbox["US"]) == 4  # three tracks and the heartbeat
    assert ends["US"].withheld == 3 and ends["JP"].withheld == 0
    # Every stream is contiguous for its recipient: nothing refused as a replay or out of window.
    assert all(e.counters.rejected_total == 0 for e in ends.values())


def test_open_policy_releases_everything_unchanged() -> None:
    m = report("JP")
    assert OPEN.release(m, "KR") is m


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("rules:\n  - {sender: JP, recipient: KR, kinds: [tracks]}\n", "rules[0].kinds"),
        ("rules:\n  - {sender: JP, recipient: KR, withhold: [colour]}\n", "rules[0].withhold"),
        ("default: {kinds: [track], round_position_m: -5}\n", "default.round_position_m"),
        ("rules: [{sender: JP, recipent: KR}]\n", "recipent"),
    ],
)
def test_bad_policy_files_name_the_place(tmp_path, text: str, where: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load_policy(path)
    assert str(path) in str(err.value) and where in str(err.value)


SHORT = """\
name: policy-run
seed: 4
launches:
  - {id: S, time: 2022-10-03T22:27:00Z, site: {lat: 39.20, lon: 125.67}, azimuth_deg: 88, apogee_km: 90, range_km: 700}
"""


@pytest.mark.slow
def test_a_run_under_a_policy_keeps_withheld_tracks_out_of_the_others_pictures(tmp_path) -> None:
    from mwx.exercise.run import run_scenario
    from mwx.sim.scenario import parse_scenario

    path = tmp_path / "policy.yaml"
    path.write_text("rules:\n  - {sender: US, recipient: '*', kinds: []}\n")
    result = run_scenario(parse_scenario(SHORT), policy=load_policy(path))
    assert result.exchange["US"].withheld > 0
    # US sends only the exchange's control messages: its operators acknowledge the others' alerts.
    acks = sum(1 for n in ("KR", "JP") for a in result.pictures[n].alerts for _ in a.history)
    assert result.exchange["US"].sent == acks * 3  # sealed once per recipient: KR, JP, fused
    assert result.exchange["US"].received > 0  # US still hears the others
    for partner in ("KR", "JP"):
        senders = {s for system in result.pictures[partner].systems.values() for s, _ in system.members}
        assert "US" not in senders and senders, (partner, senders)
    observed = {s for system in result.pictures["fused"].systems.values() for s, _ in system.members}
    assert "US" not in observed
