"""A node restarted from its journal: what its peers acknowledged, what it had received, the numbers it goes on
with, the alert changes it had sent, and a journal it must refuse (another run's, or behind its peers)."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import msgspec
import pytest

from mwx.errors import JournalBehind, JournalError, OutboxClash
from mwx.exchange import messages
from mwx.exchange.envelope import msg_id, seal, trusted_message
from mwx.exchange.keys import KEYS_FILE, Signer, save_private_key, save_public_keys
from mwx.exchange.messages import Ack, Heartbeat
from mwx.node.journal import Journal
from mwx.node.service import CONFIG_NAME, NodeConfig, NodeService, load_config, save_feed
from mwx.sim.sensors import Measurements

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


# ----------------------------------------------------------------- restart correctness (issue 14)
KR_EEZ = messages.Area(partner="KR", kind="eez", name="South Korea EEZ (approx. 200 nmi)")


def _node(tmp_path: Path, partner: str, *, run_id: str = "", heartbeat_s: float = 0.5) -> dict[str, Signer]:
    """A node folder for ``partner`` of the small scenario (keys, node.json, an empty sensor feed); its signers."""
    signers = {p: Signer.generate(p) for p in PARTICIPANTS}
    save_private_key(signers[partner], tmp_path / f"{partner}.key")
    save_public_keys({p: s.public_key_text() for p, s in signers.items()}, tmp_path / KEYS_FILE)
    save_feed(Measurements.empty(), tmp_path / "feed.npz")  # no scans: the feed is done at once
    config = NodeConfig(
        scenario=str(SMALL),
        feed=str(tmp_path / "feed.npz"),
        participants=PARTICIPANTS,
        senders=PARTICIPANTS[:3],
        url="nats://127.0.0.1:1",
        key=str(tmp_path / f"{partner}.key"),
        keys=str(tmp_path / KEYS_FILE),
        epoch=0.0,  # the clock far past the end: nothing waits
        t0=T,
        t_end=T + 600.0,
        heartbeat_s=heartbeat_s,
        run_id=run_id,
    )
    (tmp_path / CONFIG_NAME).write_bytes(msgspec.json.encode(config))
    return signers


def _journal(tmp_path: Path, partner: str) -> Journal:
    return Journal(tmp_path / "nodes" / partner / "journal.sqlite")


def _outbox_messages(journal: Journal, stream: str) -> list[tuple[int, object]]:
    return [(seq, trusted_message(data)) for s, seq, data in journal.outbox_rows() if s == stream]


def test_the_observer_restarted_numbers_on_after_its_outbox(tmp_path: Path) -> None:
    """Before: sequences were restored only once a replayed scan was caught up with, and the observer has no
    scans, so it numbered from 0 again and the outbox skipped every number in silence (a deadlock)."""
    signers = _node(tmp_path, "fused")
    journal = _journal(tmp_path, "fused")
    for seq in range(7):  # what it had sent: heartbeats 0..6, to every partner
        data = seal(Heartbeat(sender="fused", time=T + seq), signers["fused"], seq=seq, sent=T + seq)
        for p in PARTICIPANTS[:3]:
            journal.put_outbox(p, seq, data)
    journal.put_start(T, 1, 0, 0)
    journal.close()

    service = NodeService("fused", load_config(tmp_path), tmp_path)
    service.restore()
    service.endpoint.send(Heartbeat(sender="fused", time=T + 10), T + 10)
    assert service.journal.next_seqs() == {p: 8 for p in PARTICIPANTS[:3]}
    (seq, beat), *_ = [(s, m) for s, m in _outbox_messages(service.journal, "KR") if s == 7]
    assert isinstance(beat, Heartbeat) and beat.time == T + 10

    # Numbering from 0 again, as without the restore: a clash is loud, never skipped.
    service.journal.close()
    again = NodeService("fused", load_config(tmp_path), tmp_path)
    with pytest.raises(OutboxClash, match="seq 0 of stream KR is kept already"):
        again.endpoint.send(Heartbeat(sender="fused", time=T + 11), T + 11)


def test_a_restarted_partner_numbers_its_alert_changes_on_and_leaves_none_standing(tmp_path: Path) -> None:
    """KR had sent changes 1..3 of an alert (issued, then updated twice) when it was killed; its rebuilt
    picture has no such threat.  Before: the rebuilt alerts started from change 1 and nothing ended the one
    the partners held, so it stood there for good."""
    signers = _node(tmp_path, "KR")
    journal = _journal(tmp_path, "KR")
    prediction = {"impact_point": messages.GeoPoint(lat=36.0, lon=130.0), "impact_time": T + 300.0}
    told = [
        messages.Alert(
            sender="KR", alert_id="KR-A0001", time=T + 100 + 5 * k, status=status, area=KR_EEZ, reason="impact",
            track_id="KR-F0001", change=k + 1, level="warning", launch_id="KR-E001", why=[why], **prediction,
        )
        for k, (status, why) in enumerate([("issued", "level"), ("updated", "time"), ("updated", "time")])
    ]  # fmt: skip
    sent = [Heartbeat(sender="KR", time=T + 99), *told, Heartbeat(sender="KR", time=T + 120)]
    for seq, message in enumerate(sent):  # one stream per recipient, one sealing for all (open policy)
        data = seal(message, signers["KR"], seq=seq, sent=message.time)
        for p in ("JP", "US", "fused"):
            journal.put_outbox(p, seq, data)
    journal.put_start(T, 1, 0, 0)
    journal.close()

    service = NodeService("KR", load_config(tmp_path), tmp_path)
    assert service.restore() == 0
    assert [m.change for m in service._sent_alerts["KR-A0001"]] == [1, 2, 3]
    asyncio.run(service._feed(0))
    assert service.feed_finished

    new = [(seq, m) for seq, m in _outbox_messages(service.journal, "JP") if seq >= len(sent)]
    (seq, ended), *rest = [(seq, m) for seq, m in new if isinstance(m, messages.Alert)]
    assert seq == len(sent) and not rest  # numbered on after the outbox's highest
    # The partners' last word on it: over, as change 4, because of the restart (the impact still ahead).
    assert (ended.alert_id, ended.change, ended.status, ended.why) == ("KR-A0001", 4, "cancelled", ["restart"])
    alert = service.node.alerts.alerts["KR-A0001"]
    assert [(e["change"], e["status"]) for e in alert.history] == [
        (1, "issued"), (2, "updated"), (3, "updated"), (4, "cancelled")
    ]  # fmt: skip
    assert not alert.active and service.node.alerts.standing() == []
    assert service.node.alerts._next == 2  # a new alert would be KR-A0002


def test_a_journal_of_another_run_is_refused(tmp_path: Path) -> None:
    _node(tmp_path, "JP", run_id="run-2")
    journal = _journal(tmp_path, "JP")
    journal.set_meta("run_id", "run-1")
    journal.close()
    service = NodeService("JP", load_config(tmp_path), tmp_path)
    with pytest.raises(JournalError, match=r"^JP: the journal .* is of run run-1, not of this run run-2: ") as err:
        service.restore()
    assert "\n" not in str(err.value)
    # A journal's first start keeps the run id.
    other = tmp_path / "other"
    other.mkdir()
    _node(other, "JP", run_id="run-2")
    fresh = NodeService("JP", load_config(other), other)
    fresh.restore()
    assert fresh.journal.meta("run_id") == "run-2"


def test_a_journal_behind_what_a_peer_holds_is_refused_at_restore(tmp_path: Path) -> None:
    """The outbox ends at seq 4 but a heartbeat of JP in the inbox holds seq 9 of KR's: rows were lost."""
    signers = _node(tmp_path, "KR")
    journal = _journal(tmp_path, "KR")
    for seq in range(5):
        data = seal(Heartbeat(sender="KR", time=T + seq), signers["KR"], seq=seq, sent=T + seq)
        for p in ("JP", "US", "fused"):
            journal.put_outbox(p, seq, data)
    beat = Heartbeat(sender="JP", time=T + 20, held={"KR": 9, "US": 3})
    journal.put_inbox("JP", 0, seal(beat, signers["JP"], seq=0, sent=T + 20), T + 20, T + 20)
    journal.close()
    service = NodeService("KR", load_config(tmp_path), tmp_path)
    with pytest.raises(JournalBehind) as err:
        service.restore()
    assert str(err.value) == (
        "KR: journal is behind what JP holds from KR (seq 9 > 4): restore the journal or start a new run with --force"
    )


def test_a_journal_that_lost_its_wal_refuses_to_go_on_when_a_peer_says_what_it_holds(tmp_path: Path) -> None:
    """KR sealed seqs 0..9 and was SIGKILLed; its WAL was deleted before the restart, so its journal lost them.
    JP holds up to 9: KR must stop with one line before it numbers anything, not reuse 0..9 (JP would refuse
    them as replays, and the broker could drop them as duplicates: envelopes lost with no word)."""
    signers = _node(tmp_path, "KR", heartbeat_s=0.5)
    path = tmp_path / "nodes" / "KR" / "journal.sqlite"
    script = textwrap.dedent(
        f"""
        import os
        from mwx.node.journal import Journal
        j = Journal({str(path)!r})
        j.put_start(1.0, 1, 0, 0)
        for seq in range(10):
            for p in ("JP", "US", "fused"):
                j.put_outbox(p, seq, b"sealed %d" % seq)
            j.commit()
        os._exit(9)  # what a SIGKILL leaves: the commits in the WAL
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 9, done.stderr
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink()
    service = NodeService("KR", load_config(tmp_path), tmp_path)
    assert service.journal.next_seqs() == {} and service.journal.starts() == []  # all of it lost
    service.journal.put_start(1.0, 1, 0, 0)  # (the start itself survived: a restart)
    service.journal.commit()

    started = []

    async def no_broker(*args: object, **kwargs: object) -> None:
        started.append(args)

    service.transport.start = no_broker  # type: ignore[method-assign]
    now = service.clock()
    beat = seal(Heartbeat(sender="JP", time=now, held={"KR": 9}), signers["JP"], seq=0, sent=now)
    alert = seal(_alert_from("JP", now), signers["JP"], seq=1, sent=now)

    async def restart() -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(0.1, service.on_bytes, alert, now)  # acknowledged by an operator: deferred, not numbered
        loop.call_later(0.2, service.on_bytes, beat, now)
        await service.run()

    with pytest.raises(JournalBehind, match=r"^KR: journal is behind what JP holds from KR \(seq 9 > -1\)"):
        asyncio.run(restart())
    assert started  # it went as far as the broker, and no further
    assert service.journal.next_seqs() == {}  # nothing numbered: no heartbeat, no acknowledgement
    service.endpoint.send(Heartbeat(sender="KR", time=now), now)  # nor anything after the refusal
    assert service.journal.next_seqs() == {}
    assert not (tmp_path / "nodes" / "KR" / "state.pickle").exists()


def _alert_from(sender: str, t: float) -> messages.Alert:
    area = messages.Area(partner=sender, kind="eez", name="Japan EEZ (approx. 200 nmi)")
    return messages.Alert(sender=sender, alert_id=f"{sender}-A0001", time=t, status="issued", area=area,
                          reason="impact", track_id=f"{sender}-F0001", change=1, level="warning")  # fmt: skip


def test_redeliveries_are_counted_apart_from_replays(tmp_path: Path) -> None:
    """A copy of an accepted envelope that JetStream delivers again is no attack; one published again is."""
    signers = _node(tmp_path, "US")
    service = NodeService("US", load_config(tmp_path), tmp_path)
    service.restore()
    now = service.clock()
    data = seal(Heartbeat(sender="JP", time=now, held={"KR": 3}), signers["JP"], seq=0, sent=now)
    service.on_bytes(data, now)
    assert service.journal.inbox_data("JP", 0) == data
    service.on_bytes(data, now, True)  # JetStream's redelivery (its acknowledgement was lost)
    assert (service.redelivered, service.duplicates, service.journal.rejections()) == (1, 0, [])
    service.on_bytes(data, now, False)  # a new stream message with the same bytes: a replay
    assert (service.redelivered, service.duplicates, service._refusal) == (1, 1, None)
    assert [(r, s, q) for _, r, _, s, q in service.journal.rejections()] == [("replayed", "JP", 0)]
    # The heartbeat says what US holds from each peer.
    service.config = msgspec.structs.replace(service.config, heartbeat_s=0.05)

    async def one_tick() -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(service._ticker(), 0.08)

    asyncio.run(one_tick())
    ((_, beat),) = _outbox_messages(service.journal, "JP")
    assert isinstance(beat, Heartbeat) and beat.held == {"JP": 0}


def test_a_node_started_by_hand_where_no_exchange_runs_says_so_and_exits(tmp_path: Path) -> None:
    """``mwx node`` whose leaf server does not answer: one line naming where it looked (not the password in the
    URL), a non-zero exit, within its first-connection bound, instead of retrying for ever."""
    _node(tmp_path, "KR")
    config = load_config(tmp_path)
    config = msgspec.structs.replace(config, url="nats://KR-user:s3cret@127.0.0.1:1", first_connect_s=1.0)
    (tmp_path / CONFIG_NAME).write_bytes(msgspec.json.encode(config))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "mwx.cli", "node", "--partner", "KR", "--config", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 1, done.stderr
    assert "no leaf server answers at 127.0.0.1:1 within 1 s" in last and "mwx run --bus nats" in last
    assert "s3cret" not in done.stdout + done.stderr
    assert time.monotonic() - started < 30.0


def test_a_running_node_takes_a_revocation_from_keys_json(tmp_path: Path) -> None:
    """KR's key revoked in keys.json while JP's node runs: at its next look (each heartbeat) JP refuses what the
    key signs, journalled as revoked-key, and the others' envelopes still pass."""
    from mwx.exchange.keys import revoke

    signers = _node(tmp_path, "JP")
    service = NodeService("JP", load_config(tmp_path), tmp_path)
    before = seal(Heartbeat(sender="KR", time=T), signers["KR"], seq=0, sent=T)
    service.on_bytes(before, T)
    revoke("KR", signers["KR"].public_key_text(), tmp_path / KEYS_FILE)
    assert "re-read" in (service.keys_watch.poll() or "")
    service.on_bytes(seal(Heartbeat(sender="KR", time=T + 1), signers["KR"], seq=1, sent=T + 1), T + 1)
    service.on_bytes(seal(Heartbeat(sender="US", time=T + 1), signers["US"], seq=0, sent=T + 1), T + 1)
    reasons = [(reason, sender, seq) for _, reason, _, sender, seq in service.journal.rejections()]
    assert reasons == [("revoked-key", "KR", 1)]
    assert service.journal.inbox_data("US", 0) is not None and service.journal.inbox_data("KR", 0) == before
