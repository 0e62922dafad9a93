"""Every alert change travels as one exchange message, in order, and other partners' operators acknowledge it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mwx.exercise.run import simulate
from mwx.sim.scenario import parse_scenario

SMALL = (Path(__file__).parent / "data" / "scenarios" / "small.yaml").read_text()


@pytest.fixture(scope="module")
def sim():
    return simulate(parse_scenario(SMALL))  # the live nodes: what each received and what was acknowledged


def test_each_alert_change_reaches_every_other_partner_once_and_in_order(sim) -> None:
    changes = {
        (p, a.alert_id): [(h["change"], h["status"]) for h in a.history]
        for p, node in sim.nodes.items()
        for a in node.alerts.alerts.values()
    }
    assert changes, "the small scenario raises no alert: nothing to check"
    for receiver, node in sim.nodes.items():
        got: dict[tuple[str, str], list[tuple[int, str]]] = {}
        for sender, alert_id, change, status, _ in node.received_alerts:
            got.setdefault((sender, alert_id), []).append((change, status))
        want = {k: v for k, v in changes.items() if k[0] != receiver}
        assert got == want, receiver


def test_every_alert_message_is_acknowledged_by_each_other_partner(sim) -> None:
    for partner, node in sim.nodes.items():
        n_changes = sum(len(a.history) for a in node.alerts.alerts.values())
        others = set(sim.nodes) - {partner}
        # One message per change, sealed once for all (open policy): one id each, acknowledged by all others.
        assert len(node._alert_msg_ids) == n_changes
        assert set(node.alert_acks) == node._alert_msg_ids
        assert all(who == others for who in node.alert_acks.values()), partner
