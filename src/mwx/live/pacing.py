"""Pacing a simulation on the wall clock: scenario time runs ``speed`` times as fast as real time.

A :class:`Pacer` maps scenario time to wall time from the moment it :meth:`~Pacer.start` s; the run asks it to
:meth:`~Pacer.wait_until` each step's scenario time, and while it waits it keeps doing what must not wait
for the next step (``idle``: an operator's acknowledgement goes out within a tick, not at the next radar
scan).  A run that falls behind (more work than real time allows) is not slowed further: it goes on at once,
and :attr:`~Pacer.lag_s` says how far behind it is.  Pausing stops scenario time; resuming goes on from there.
"""

from __future__ import annotations

import threading
import time as wallclock
from collections.abc import Callable

#: s: how often a waiting run wakes to do its idle work
TICK_S = 0.05


class Pacer:
    """Scenario time ``t0`` at wall time of :meth:`start`, then ``speed`` scenario seconds per wall second."""

    def __init__(self, speed: float, idle: Callable[[float], None] | None = None) -> None:
        if not speed > 0.0:
            raise ValueError(f"speed must be positive, not {speed}")
        self.speed = speed
        self.idle = idle or (lambda t: None)
        self._t0 = 0.0
        self._wall0: float | None = None
        self._paused_at: float | None = None  # scenario time at which it was paused
        self._resumed = threading.Event()
        self._resumed.set()
        self.lag_s = 0.0

    def start(self, t0: float) -> None:
        """Scenario time ``t0`` now; a pacer paused before it started stays paused, at ``t0``."""
        self._t0, self._wall0 = t0, wallclock.monotonic()
        if self._paused_at is not None:
            self._paused_at = t0

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def now(self) -> float:
        """The scenario time the wall clock says now [Unix s]."""
        if self._wall0 is None:
            return self._t0
        if self._paused_at is not None:
            return self._paused_at
        return self._t0 + (wallclock.monotonic() - self._wall0) * self.speed

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = self.now()
            self._resumed.clear()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._t0, self._wall0 = self._paused_at, wallclock.monotonic()
            self._paused_at = None
            self._resumed.set()

    def set_speed(self, speed: float) -> None:
        if not speed > 0.0:
            raise ValueError(f"speed must be positive, not {speed}")
        self._t0, self._wall0, self.speed = self.now(), wallclock.monotonic(), speed

    def jump_to(self, t: float) -> None:
        """Scenario time ``t`` now, if it is ahead (a run paused stays paused, at ``t``): what lies between is run
        at once."""
        if t <= self.now():
            return
        if self._paused_at is not None:
            self._paused_at = t
        else:
            self._t0, self._wall0 = t, wallclock.monotonic()

    def wait_until(self, t: float) -> None:
        """Return when the wall clock reaches scenario time ``t``, doing the idle work every tick meanwhile."""
        while True:
            ahead = t - self.now()
            if ahead <= 0.0:  # paused too: a run behind a held clock catches up with it, then holds
                if not self.paused:
                    self.lag_s = -ahead
                return
            self.idle(min(self.now(), t))
            if self.paused:
                self._resumed.wait(TICK_S)
            else:
                wallclock.sleep(min(TICK_S, ahead / self.speed))
