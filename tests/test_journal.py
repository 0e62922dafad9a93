"""The node journal: outbox, inbox, refusals and progress survive a process that dies without closing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mwx.errors import OutboxClash
from mwx.node.journal import Journal


def test_outbox_keeps_each_sequence_once_and_tracks_acknowledgements(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite")
    assert j.put_outbox("JP", 0, b"a") and j.put_outbox("JP", 1, b"b") and j.put_outbox("KR", 0, b"c")
    assert not j.put_outbox("JP", 1, b"b")  # the same envelope again: kept once
    # Another envelope under a kept number: the node numbered it twice.  Loud, never skipped in silence.
    with pytest.raises(OutboxClash, match="seq 1 of stream JP is kept already"):
        j.put_outbox("JP", 1, b"other")
    assert j.outbox("JP", [1]) == [(1, b"b")]  # the first copy stays
    j.mark_acked("JP", [0])
    assert j.unacked() == [("JP", 1, b"b"), ("KR", 0, b"c")]
    assert j.outbox("JP", [1, 0, 5]) == [(0, b"a"), (1, b"b")]
    j.replace_outbox("JP", 1, b"b2")
    assert j.outbox("JP", [1]) == [(1, b"b2")]
    assert j.next_seqs() == {"JP": 2, "KR": 1}
    assert j.outbox_count() == 3
    assert list(j.outbox_rows()) == [("JP", 0, b"a"), ("JP", 1, b"b2"), ("KR", 0, b"c")]


def test_inbox_refuses_a_second_copy_and_keeps_acceptance_order(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite")
    assert j.put_inbox("KR", 1, b"x", 10.0, 10.5, 0.5)
    assert j.put_inbox("US", 0, b"y", 11.0, 11.1, None)
    assert not j.put_inbox("KR", 1, b"x", 10.0, 12.0, 2.0)
    assert j.inbox_data("KR", 1) == b"x" and j.inbox_data("KR", 0) is None
    assert list(j.inbox()) == [("KR", 1, b"x"), ("US", 0, b"y")]
    assert j.latencies() == [0.5]
    j.put_rejection(3.0, "bad-signature", "signature does not verify", "JP", 4)
    assert j.rejections() == [(3.0, "bad-signature", "signature does not verify", "JP", 4)]
    j.set_meta("scans_done", "7")
    assert j.meta("scans_done") == "7" and j.meta("absent", "d") == "d"


def test_what_was_committed_survives_a_killed_process_and_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    script = textwrap.dedent(
        f"""
        import os
        from mwx.node.journal import Journal
        j = Journal({str(path)!r})
        j.put_outbox("JP", 0, b"committed")
        j.put_inbox("KR", 0, b"in", 1.0, 2.0)
        j.commit()
        j.put_outbox("JP", 1, b"not committed")
        os._exit(9)  # no close, no flush: what a SIGKILL leaves
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 9, done.stderr
    j = Journal(path)
    assert j.outbox("JP", [0, 1]) == [(0, b"committed")]
    assert list(j.inbox()) == [("KR", 0, b"in")]
