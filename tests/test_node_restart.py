"""A node restarted from its journal knows what its peers acknowledged and what it had received."""

from __future__ import annotations

from pathlib import Path

import msgspec

from mwx.exchange.envelope import msg_id, seal
from mwx.exchange.keys import KEYS_FILE, Signer, save_private_key, save_public_keys
from mwx.exchange.messages import Ack, Heartbeat
from mwx.node.journal import Journal
from mwx.node.service import CONFIG_NAME, NodeConfig, NodeService, load_config

SMALL = Path(__file__).parent / "data" / "scenarios" / "small.yaml"
PARTICIPANTS = ["KR", "JP", "US", "fused"]
T = 1_681_347_700.0


def test_a_node_restarted_after_its_final_keeps_its_peers_acknowledgements(tmp_path: Path) -> None:
    config = NodeConfig(
        scenario=str(SMALL),
        feed=str(tmp_path / "unused.npz"),  # the observer has no sensors: it reads no feed
        participants=PARTICIPANTS,
        senders=PARTICIPANTS[:3],
        url="nats://127.0.0.1:1",
        key=str(tmp_path / "fused.key"),
        keys=str(tmp_path / KEYS_FILE),
        epoch=0.0,
        t0=T,
        t_end=T + 600.0,
    )
    (tmp_path / CONFIG_NAME).write_bytes(msgspec.json.encode(config))
    signers = {p: Signer.generate(p) for p in PARTICIPANTS}
    save_private_key(signers["fused"], tmp_path / "fused.key")
    save_public_keys({p: s.public_key_text() for p, s in signers.items()}, tmp_path / KEYS_FILE)
    # What the observer's journal held when it was killed: its final sent (seq 7 in each stream), JP's
    # final (seq 4) and JP's acknowledgement of the observer's final, all accepted.
    journal = Journal(tmp_path / "nodes" / "fused" / "journal.sqlite")
    journal.set_meta("final_sent", "1")
    journal.set_meta("final_msg_ids", msgspec.json.encode({p: msg_id("fused", 7) for p in PARTICIPANTS[:3]}).decode())
    for seq, message in enumerate(
        [Heartbeat(sender="JP", time=T + s) for s in range(4)]
        + [Heartbeat(sender="JP", time=T + 4, final=True), Ack(sender="JP", time=T + 5, msg_id=msg_id("fused", 7))]
    ):
        data = seal(message, signers["JP"], seq=seq, sent=message.time)
        journal.put_inbox("JP", seq, data, message.time, message.time)
    journal.close()

    service = NodeService("fused", load_config(tmp_path), tmp_path)
    assert service.restore() == 0
    jp = service.peers["JP"]
    assert service.final_sent and jp.final_seq == 4 and jp.acked_us
    assert not service.peers["KR"].acked_us
    assert service.endpoint.guard.highest("JP") == 5 and service.endpoint.guard.missing("JP") == []
