"""The exercise's journal: every entry appended as it takes effect, flushed to disk, read back to resume.

One JSON line per :class:`~mwx.ttx.log.JournalLine` (msgspec), in ``DIR/journal.jsonl``.  Each line is
written whole, flushed and fsync'ed before the action it records is carried out, so an exercise killed at
any instant has on disk every action that took effect (and perhaps one more that had not yet: it is
carried out on resume).  A line cut short by the kill (no newline at its end) is dropped on reading; any
other line that does not decode is an :class:`~mwx.errors.InputError` naming its line.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from mwx.errors import InputError
from mwx.ttx.log import Action, JournalLine

JOURNAL_FILE = "journal.jsonl"

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(JournalLine)


class Journal:
    """Append-only, one line per entry, each on disk before :meth:`append` returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._drop_torn_tail()
        self._file = open(path, "ab")  # noqa: SIM115 - held open for the exercise's life

    def append(self, step: int, entry: Action) -> None:
        self._file.write(_encoder.encode(JournalLine(step=step, entry=entry)) + b"\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    def _drop_torn_tail(self) -> None:
        """Cut a last line the kill left without its newline: it never took effect."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            with open(self.path, "r+b") as f:
                f.truncate(data.rfind(b"\n") + 1)


def read_journal(path: Path) -> list[JournalLine]:
    """The journal's lines in order ([] when there is none); a torn last line is left out."""
    if not path.exists():
        return []
    lines = path.read_bytes().split(b"\n")
    complete, torn = lines[:-1], lines[-1]
    del torn  # no newline: cut short by a kill, never acted on
    out = []
    for number, line in enumerate(complete, 1):
        if not line.strip():
            continue
        try:
            out.append(_decoder.decode(line))
        except msgspec.DecodeError as err:
            raise InputError(f"not a journal line: {err}", source=str(path), where=f"line {number}") from None
    return out
