"""A node's journal: its outbox, its inbox, its refusals and its progress, in one SQLite file.

Why a journal of its own: nats-server 2.9 writes its file store to disk only every 60 s,
so a broker restart after a machine crash can lose what it had acknowledged.  Each node
therefore keeps, durably and before it counts anything as done:

* ``outbox`` — every envelope it sealed, per recipient stream and sequence number, with
  whether the broker acknowledged it.  Unacknowledged rows are published again after a
  restart or an outage; any row can be sent again when a recipient asks for a gap.  A
  restarted node numbers on after the outbox's highest sequence per stream, and reads from
  it the alert changes it had sent (:mod:`mwx.node.service`).  A (stream, seq) is kept
  once: the same bytes again are a no-op, other bytes under a kept number are a loud
  :class:`~mwx.errors.OutboxClash` (a number is never reused, nor silently skipped).
* ``inbox`` — every envelope it accepted (verified), per sender and sequence, with the
  send and receive times: a restarted node rebuilds its replay guard and its fused picture
  from it, and the run's fused reports are computed from the observer's inbox.
* ``rejections`` — every refused envelope with its reason (never delivered).
* ``meta`` — small values: the run id the journal belongs to (``run_id``, kept on the first
  start: a node refuses a journal of another run) and the node's progress (sensor scans
  processed, the last assessment after its feed ended, alerts closed, final heartbeat sent).
* ``starts`` — every start of the node's process: when, its pid, and what it found in the
  journal (scans already processed, envelopes already accepted).  A restart after a crash
  is a second row, with what the node resumed from.

SQLite in WAL mode with ``synchronous=FULL``: a transaction is on disk when :meth:`commit`
returns.  Writes are grouped: the node commits once per batch (before publishing the batch,
before acknowledging a fetched batch to the broker), so the cost of an fsync is shared.
One connection, used from one thread (the node's event loop).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from mwx.errors import OutboxClash

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    stream TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL, acked INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (stream, seq)
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (acked) WHERE acked = 0;
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY, sender TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL,
    sent REAL NOT NULL, received REAL NOT NULL, latency_s REAL,
    UNIQUE (sender, seq)
);
CREATE TABLE IF NOT EXISTS rejections (
    id INTEGER PRIMARY KEY, time REAL NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL,
    sender TEXT, seq INTEGER
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS starts (
    id INTEGER PRIMARY KEY, wall REAL NOT NULL, pid INTEGER NOT NULL, scans_done INTEGER NOT NULL,
    inbox INTEGER NOT NULL
);
"""


class Journal:
    """The journal file at ``path`` (created if absent).  Nothing is durable before :meth:`commit`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None)  # transactions managed here
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._db.execute("BEGIN")

    def commit(self) -> None:
        """Make everything written so far durable (one fsync of the WAL)."""
        self._db.execute("COMMIT")
        self._db.execute("BEGIN")

    def close(self) -> None:
        self.commit()
        self._db.execute("COMMIT")
        self._db.close()

    # ----------------------------------------------------------------- outbox
    def put_outbox(self, stream: str, seq: int, data: bytes) -> bool:
        """Keep the envelope ``seq`` of ``stream``; False if these very bytes are kept already.

        Raises :class:`~mwx.errors.OutboxClash` if the number is kept for other bytes: the node's sequence
        numbers went back (a journal that lost its end), and skipping the new envelope would lose it
        without a word (as ``INSERT OR IGNORE`` did).
        """
        cur = self._db.execute("INSERT OR IGNORE INTO outbox (stream, seq, data) VALUES (?, ?, ?)", (stream, seq, data))
        if cur.rowcount == 1:
            return True
        (kept,) = self._db.execute("SELECT data FROM outbox WHERE stream = ? AND seq = ?", (stream, seq)).fetchone()
        if kept != data:
            raise OutboxClash(
                f"outbox of {self.path}: seq {seq} of stream {stream} is kept already for another envelope: "
                "the node numbered it twice (its journal lost its end?)"
            )
        return False

    def replace_outbox(self, stream: str, seq: int, data: bytes) -> None:
        """Keep a re-signed copy of an envelope in place of the old one (same stream and seq)."""
        self._db.execute("UPDATE outbox SET data = ? WHERE stream = ? AND seq = ?", (data, stream, seq))

    def mark_acked(self, stream: str, seqs: Iterable[int]) -> None:
        """The broker acknowledged these envelopes of ``stream``."""
        self._db.executemany("UPDATE outbox SET acked = 1 WHERE stream = ? AND seq = ?", [(stream, s) for s in seqs])

    def unacked(self) -> list[tuple[str, int, bytes]]:
        """(stream, seq, data) of every envelope the broker has not acknowledged, in stream and seq order."""
        return self._db.execute("SELECT stream, seq, data FROM outbox WHERE acked = 0 ORDER BY stream, seq").fetchall()

    def outbox(self, stream: str, seqs: Iterable[int]) -> list[tuple[int, bytes]]:
        """(seq, data) of the kept envelopes among ``seqs`` of ``stream``, in seq order."""
        wanted = sorted(set(seqs))
        rows = []
        for k in range(0, len(wanted), 500):  # SQLite's limit on bound parameters
            part = wanted[k : k + 500]
            marks = ",".join("?" * len(part))
            rows += self._db.execute(
                f"SELECT seq, data FROM outbox WHERE stream = ? AND seq IN ({marks})", (stream, *part)
            ).fetchall()
        return sorted(rows)

    def outbox_rows(self) -> Iterator[tuple[str, int, bytes]]:
        """(stream, seq, data) of every kept envelope, in stream and seq order (what the node ever sealed)."""
        yield from self._db.execute("SELECT stream, seq, data FROM outbox ORDER BY stream, seq")

    def next_seqs(self) -> dict[str, int]:
        """Per stream, the sequence number after the highest kept (where a restarted sender goes on)."""
        return {s: int(m) + 1 for s, m in self._db.execute("SELECT stream, MAX(seq) FROM outbox GROUP BY stream")}

    def outbox_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    # ----------------------------------------------------------------- inbox
    def put_inbox(
        self, sender: str, seq: int, data: bytes, sent: float, received: float, latency_s: float | None = None
    ) -> bool:
        """Keep an accepted envelope; False if ``(sender, seq)`` was already kept."""
        cur = self._db.execute(
            "INSERT OR IGNORE INTO inbox (sender, seq, data, sent, received, latency_s) VALUES (?, ?, ?, ?, ?, ?)",
            (sender, seq, data, sent, received, latency_s),
        )
        return cur.rowcount == 1

    def inbox_data(self, sender: str, seq: int) -> bytes | None:
        """The bytes of the accepted envelope ``seq`` of ``sender``, or None."""
        row = self._db.execute("SELECT data FROM inbox WHERE sender = ? AND seq = ?", (sender, seq)).fetchone()
        return row[0] if row else None

    def inbox(self) -> Iterator[tuple[str, int, bytes]]:
        """(sender, seq, data) of every accepted envelope, in the order they were accepted."""
        yield from self._db.execute("SELECT sender, seq, data FROM inbox ORDER BY id")

    def inbox_arrivals(self) -> Iterator[tuple[str, int, bytes, float]]:
        """(sender, seq, data, received) of every accepted envelope, in the order they were accepted."""
        yield from self._db.execute("SELECT sender, seq, data, received FROM inbox ORDER BY id")

    def inbox_seqs(self) -> Iterator[tuple[str, int]]:
        yield from self._db.execute("SELECT sender, seq FROM inbox ORDER BY id")

    def latencies(self) -> list[float]:
        """Publish-to-verified-delivery latencies [s] of the accepted envelopes that have one."""
        return [r[0] for r in self._db.execute("SELECT latency_s FROM inbox WHERE latency_s IS NOT NULL")]

    # ----------------------------------------------------------------- refusals, progress
    def put_rejection(self, time: float, reason: str, detail: str, sender: str | None, seq: int | None) -> None:
        self._db.execute(
            "INSERT INTO rejections (time, reason, detail, sender, seq) VALUES (?, ?, ?, ?, ?)",
            (time, reason, detail, sender, seq),
        )

    def rejections(self) -> list[tuple[float, str, str, str | None, int | None]]:
        return self._db.execute("SELECT time, reason, detail, sender, seq FROM rejections ORDER BY id").fetchall()

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def put_start(self, wall: float, pid: int, scans_done: int, inbox: int) -> None:
        """The node's process ``pid`` started at wall time ``wall`` [Unix s] and found this much journalled."""
        self._db.execute(
            "INSERT INTO starts (wall, pid, scans_done, inbox) VALUES (?, ?, ?, ?)", (wall, pid, scans_done, inbox)
        )

    def starts(self) -> list[tuple[float, int, int, int]]:
        """(wall, pid, scans_done, inbox) of every start of the node's process, oldest first."""
        return self._db.execute("SELECT wall, pid, scans_done, inbox FROM starts ORDER BY id").fetchall()
