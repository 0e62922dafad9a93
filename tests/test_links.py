"""Link injects (link_down, link_latency, link_loss) on the in-process bus, and their checks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from mwx import records
from mwx.errors import InputError
from mwx.exchange.bus import InMemoryBus, arrival_time
from mwx.exercise.evaluation import judge_run
from mwx.exercise.run import run_scenario
from mwx.sim.scenario import LinkDown, LinkLatency, LinkLoss, parse_scenario

T0 = datetime(2023, 4, 13, 1, 2, tzinfo=UTC)
SMALL = (Path(__file__).parent / "data" / "scenarios" / "small.yaml").read_text()


def _bus(*links) -> tuple[InMemoryBus, dict[str, list[tuple[bytes, float]]]]:
    bus = InMemoryBus(links, seed=5)
    got: dict[str, list[tuple[bytes, float]]] = {p: [] for p in ("KR", "JP", "US")}
    for p, inbox in got.items():
        bus.subscribe_bytes(p, lambda data, now, inbox=inbox: inbox.append((data, now)))
    return bus, got


def test_a_link_down_holds_messages_between_its_two_ends_until_it_ends() -> None:
    down = LinkDown(a="JP", b="KR", time=T0, duration_s=60.0)
    bus, got = _bus(down)
    t = T0.timestamp()
    bus.publish_bytes("KR", b"during-1", t + 10.0)
    bus.publish_bytes("KR", b"during-2", t + 20.0)
    bus.deliver_until(t + 59.0)
    assert got["JP"] == [] and len(got["US"]) == 2  # US's links are up
    bus.publish_bytes("KR", b"after", t + 61.0)  # the link is back: the held ones arrive first, in order
    assert got["JP"] == [(b"during-1", t + 60.0), (b"during-2", t + 60.0), (b"after", t + 61.0)]
    assert bus.held == 2 and bus.lost == 0


def test_latency_delays_and_the_window_is_half_open() -> None:
    slow = LinkLatency(a="US", b="JP", time=T0, duration_s=30.0, latency_s=2.5)
    t = T0.timestamp()
    rng = np.random.default_rng(0)
    assert arrival_time([slow], "JP", "US", t, rng) == t + 2.5
    assert arrival_time([slow], "JP", "US", t + 30.0, rng) == t + 30.0  # the window ends at start + duration
    assert arrival_time([slow], "JP", "KR", t + 1.0, rng) == t + 1.0  # another link


def test_loss_is_seeded_and_near_its_probability() -> None:
    loss = LinkLoss(a="US", b="JP", time=T0, duration_s=1e4, probability=0.3)
    t = T0.timestamp()

    def lost(seed: int) -> list[bool]:
        rng = np.random.default_rng(seed)
        return [arrival_time([loss], "US", "JP", t + i, rng) is None for i in range(2000)]

    assert lost(1) == lost(1)
    assert lost(1) != lost(2)
    assert 0.3 - 0.035 < np.mean(lost(1)) < 0.3 + 0.035  # 3.4 σ of a binomial(2000, 0.3) proportion


def test_link_injects_name_known_participants() -> None:
    bad = SMALL + "injects:\n  - {kind: link_down, a: KR, b: XX, time: 2023-04-13T01:02:00Z, duration_s: 60}\n"
    with pytest.raises(InputError, match="no participant 'XX'") as err:
        parse_scenario(bad)
    assert err.value.where == "injects[0].b"
    same = SMALL + "injects:\n  - {kind: link_loss, a: KR, b: KR, time: 2023-04-13T01:02:00Z, duration_s: 60}\n"
    with pytest.raises(InputError, match="two different participants"):
        parse_scenario(same)


@pytest.fixture(scope="module")
def runs() -> dict[str, dict]:
    injects = {
        "none": "",
        "loss": "injects:\n  - {kind: link_loss, a: KR, b: fused, time: 2023-04-13T01:00:30Z, duration_s: 300,"
        " probability: 0.3}\n",
        "down": "injects:\n  - {kind: link_down, a: KR, b: fused, time: 2023-04-13T01:00:30Z, duration_s: 120}\n",
    }
    out = {}
    for name, text in injects.items():
        result = run_scenario(parse_scenario(SMALL + text))
        out[name] = {
            "result": result,
            "metrics": judge_run(result, records.EventsFile(events=[]), records.AlertsFile(alerts=[])),
        }
    return out


def test_in_process_loss_leaves_gaps_that_the_metrics_show(runs: dict[str, dict]) -> None:
    none, loss = runs["none"]["metrics"], runs["loss"]["metrics"]
    assert none.exchange["fused"].gaps_open == 0 and none.run.lost_by_link_injects == 0
    lost = loss.run.lost_by_link_injects
    assert lost > 10
    # Every loss is a hole in the observer's view of KR, except losses after KR's last accepted envelope.
    assert 0 < loss.exchange["fused"].gaps_open <= lost
    assert loss.exchange["JP"].gaps_open == 0  # other links are whole
    assert loss.exchange["fused"].received < none.exchange["fused"].received


def test_in_process_link_down_delivers_everything_late(runs: dict[str, dict]) -> None:
    none, down = runs["none"], runs["down"]
    m = down["metrics"]
    assert m.run.held_by_link_injects > 10 and m.run.lost_by_link_injects == 0
    assert m.exchange["fused"].gaps_open == 0
    # Held 2 minutes (< the 300 s window): all accepted, none refused.
    assert m.exchange["fused"].received == none["metrics"].exchange["fused"].received
    assert sum(m.exchange["fused"].rejected.values()) == 0
    # JP's link to the observer stayed up: only KR's envelopes were held.
    assert m.exchange["JP"].received == none["metrics"].exchange["JP"].received
