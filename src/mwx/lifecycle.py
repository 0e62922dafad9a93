"""The lives of the processes a run starts: they end with it, however it ends.

``mwx run --bus nats`` starts nats-server processes and one ``mwx node`` per participant.  Two
rules keep none of them behind:

* **Bound to the parent** (:func:`child_options`): each child is started in a process group of
  its own (a Ctrl-C at the terminal reaches ``mwx run`` only, which then stops its children in
  order: nodes first, so they save what they hold, then the servers) and, on Linux, asks the
  kernel for SIGTERM when the process that started it dies (``PR_SET_PDEATHSIG``): a run killed
  with SIGKILL, which runs no clean-up, still takes its children with it.
* **Signals end the run cleanly** (:func:`signals_end_the_run`): SIGTERM and SIGINT raise
  :class:`Interrupted` in the main thread, so ``with`` blocks unwind and every ``close()`` runs.

The death signal is tied to the *thread* that started the child: start children from the main
thread (every caller in mwx does).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from mwx.errors import MwxError

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class Interrupted(MwxError):
    """The run was asked to stop (SIGTERM or SIGINT); ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + its number."""
        return 128 + self.signum


def _die_with_parent() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)

    def arm() -> None:  # runs in the child between fork and exec
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return arm


def child_options() -> dict[str, Any]:
    """Keyword arguments for :class:`subprocess.Popen` that bind a child to this process (module doc)."""
    options: dict[str, Any] = {"process_group": 0}
    arm = _die_with_parent()
    if arm is not None:
        options["preexec_fn"] = arm
    return options


@contextmanager
def signals_end_the_run() -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT raise :class:`Interrupted`; the handlers are restored after.

    Off the main thread (where Python cannot set handlers) the block runs with the handlers as they are.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_interrupted(signum: int, frame: object) -> None:
        for s in previous:  # a second Ctrl-C must not cut short the clean-up the first one started
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signum)

    previous = {s: signal.signal(s, raise_interrupted) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
