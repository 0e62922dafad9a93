"""Operators' actions from the console, handed to the node that carries them out.

The console's HTTP handlers run in the server's thread; a node's state belongs to the thread (or loop) that
runs it.  An :class:`OperatorDesk` takes an action from the first and gives it to the second: in an embedded
run an :class:`ActionQueue` the run drains between steps, in ``mwx node`` a call into the node's own loop.
"""

from __future__ import annotations

import threading
from typing import NamedTuple, Protocol


class DeskClosed(Exception):
    """The run is over (or not started): there is no node to carry an action out."""


class Acknowledgement(NamedTuple):
    """An operator of ``partner`` acknowledged the alert change that came in envelope ``msg_id``."""

    partner: str
    msg_id: str


class OperatorDesk(Protocol):
    """Where the console hands operators' actions."""

    def acknowledge(self, partner: str, msg_id: str) -> None:
        """Have ``partner``'s node acknowledge envelope ``msg_id``; :class:`DeskClosed` if it cannot."""
        ...


class ActionQueue:
    """An :class:`OperatorDesk` for a run in another thread: actions wait until the run :meth:`take` s them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: list[Acknowledgement] = []
        self._closed: str | None = "the run has not started"

    def open(self) -> None:
        with self._lock:
            self._closed = None

    def close(self, why: str) -> None:
        with self._lock:
            self._closed = why

    def acknowledge(self, partner: str, msg_id: str) -> None:
        with self._lock:
            if self._closed is not None:
                raise DeskClosed(self._closed)
            self._waiting.append(Acknowledgement(partner, msg_id))

    def take(self) -> list[Acknowledgement]:
        """The actions waiting, oldest first; the queue is left empty."""
        with self._lock:
            taken, self._waiting = self._waiting, []
        return taken
