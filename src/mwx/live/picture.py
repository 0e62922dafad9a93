"""One partner's live picture: its updates in order, the picture they add up to, and who is waiting for more.

Producers (the node's :class:`~mwx.live.feed.NodeFeed`, a replay) :meth:`~LivePicture.append` updates from
any thread; readers take a :meth:`~LivePicture.snapshot` (the picture now, or at an instant of scenario
time) and the updates :meth:`~LivePicture.since` a sequence number, and wait for new ones with
:meth:`~LivePicture.wait` in their own asyncio loop (the push stream: a client that reconnects says the last
number it has and misses nothing).  The reduction (:func:`reduce`) is the one rule of what the picture holds:
the latest state of every track not stale at the clock's time, every alert with all its changes and
acknowledgements, the latest report of every launch event, the latest health and clock.
"""

from __future__ import annotations

import asyncio
import bisect
import threading
import time as wallclock
from collections.abc import Iterable
from datetime import datetime

from mwx.live.updates import (
    AckUpdate,
    AlertUpdate,
    AlertView,
    AnswerUpdate,
    ClockUpdate,
    HealthUpdate,
    InjectUpdate,
    LaunchUpdate,
    NoteUpdate,
    Setup,
    Snapshot,
    TrackUpdate,
    TrackView,
    Update,
    UpdateBatch,
    WarningUpdate,
)


class LivePicture:
    """The updates of one partner's picture, numbered from 1 in the order they were appended."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self._updates: list[Update] = []
        self._times: list[float] = []  # each update's scenario time [Unix s], for at= lookups in a replay
        self._emitted: list[float] = []  # wall-clock Unix s at which each was appended
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._received: set[str] = set()  # msg ids of the partners' alert changes that came in

    @property
    def partner(self) -> str:
        return self.setup.partner

    @property
    def seq(self) -> int:
        """The number of the newest update (0: none yet)."""
        return len(self._updates)

    def append(self, update: Update) -> int:
        """Number ``update``, keep it and wake every waiting reader; returns its number."""
        return self.extend([update])

    def extend(self, updates: Iterable[Update]) -> int:
        """:meth:`append` several updates at once (one wake-up); returns the newest number."""
        now = wallclock.time()
        with self._lock:
            for update in updates:
                update.seq = len(self._updates) + 1
                self._updates.append(update)
                self._times.append(update.time.timestamp())
                self._emitted.append(now)
                if isinstance(update, AlertUpdate) and update.msg_id is not None:
                    self._received.add(update.msg_id)
            seq = len(self._updates)
            waiters = list(self._waiters)
        for loop, event in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)
        return seq

    def emitted_at(self, seq: int) -> float:
        """The wall-clock Unix time [s] at which update ``seq`` was appended."""
        with self._lock:
            return self._emitted[seq - 1]

    def knows_received(self, msg_id: str) -> bool:
        """Whether a partner's alert change came to this picture in envelope ``msg_id`` (what can be acknowledged)."""
        with self._lock:
            return msg_id in self._received

    def since(self, after: int, limit: int | None = None) -> UpdateBatch:
        """The updates numbered above ``after`` (at most ``limit``, oldest first)."""
        with self._lock:
            end = len(self._updates) if limit is None else min(len(self._updates), max(after, 0) + limit)
            updates = self._updates[max(after, 0) : end]
            # The oldest update's: the latency a client works out from it is the batch's worst.
            emitted = self._emitted[max(after, 0)] if updates else None
        return UpdateBatch(
            partner=self.partner, after=after, seq=max(after, 0) + len(updates), emitted=emitted, updates=list(updates)
        )

    def since_time(self, t: datetime) -> UpdateBatch:
        """The updates of scenario time ``t`` or later (a replay's updates are in time order)."""
        with self._lock:
            first = next((i for i, u in enumerate(self._updates) if u.time >= t), len(self._updates))
        return self.since(first)

    def snapshot(self, at: datetime | None = None) -> Snapshot:
        """The picture now (every update so far), or at scenario time ``at`` (the updates up to it)."""
        with self._lock:
            if at is None:
                updates = list(self._updates)
            else:
                updates = self._updates[: bisect.bisect_right(self._times, at.timestamp())]
        return reduce(self.setup, updates, at)

    async def wait(self, after: int, timeout: float | None = None) -> bool:
        """Wait in the caller's loop until there is an update above ``after`` (or ``timeout`` s pass)."""
        if self.seq > after:
            return True
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        waiter = (loop, event)
        with self._lock:
            self._waiters.add(waiter)
        try:
            while self.seq <= after:
                event.clear()
                if self.seq > after:
                    break
                try:
                    await asyncio.wait_for(event.wait(), timeout)
                except TimeoutError:
                    return self.seq > after
            return True
        finally:
            with self._lock:
                self._waiters.discard(waiter)


def reduce(setup: Setup, updates: list[Update], at: datetime | None = None) -> Snapshot:
    """The picture the updates add up to, at the clock's time (``at``, else the newest clock or update time).

    A track is in the picture while its latest state is no older than ``setup.stale_s`` at that time; an
    alert is in it from its first change on, with every change and acknowledgement; a launch event with its
    latest report.
    """
    tracks: dict[str, TrackView] = {}
    alerts: dict[tuple[str, str], AlertView] = {}
    launches: dict[str, LaunchUpdate] = {}
    health: HealthUpdate | None = None
    clock: ClockUpdate | None = None
    latest: datetime | None = None
    injects: list[InjectUpdate] = []
    notes: list[NoteUpdate] = []
    warnings: dict[str, WarningUpdate] = {}
    answers: list[AnswerUpdate] = []
    for update in updates:
        latest = update.time if latest is None or update.time > latest else latest
        if isinstance(update, TrackUpdate):
            view = tracks.get(update.key)
            if view is None:
                tracks[update.key] = TrackView(state=update, trail=[(update.lon, update.lat)])
            else:
                view.state = update
                view.trail.append((update.lon, update.lat))
        elif isinstance(update, AlertUpdate):
            key = (update.owner, update.alert_id)
            if key not in alerts:
                alerts[key] = AlertView(
                    owner=update.owner,
                    alert_id=update.alert_id,
                    area=update.area,
                    area_kind=update.area_kind,
                    reason=update.reason,
                    launch_id=update.launch_id,
                    changes=[],
                    acks=[],
                )
            alerts[key].changes.append(update)
            alerts[key].reason = update.reason
        elif isinstance(update, AckUpdate):
            if (update.owner, update.alert_id) in alerts:
                alerts[(update.owner, update.alert_id)].acks.append(update)
        elif isinstance(update, LaunchUpdate):
            launches[update.event_id] = update
        elif isinstance(update, HealthUpdate):
            health = update
        elif isinstance(update, ClockUpdate):
            clock = update
        elif isinstance(update, InjectUpdate):
            injects.append(update)
        elif isinstance(update, NoteUpdate):
            notes.append(update)
        elif isinstance(update, WarningUpdate):
            warnings[update.warning_id] = update
        elif isinstance(update, AnswerUpdate):
            answers.append(update)
    now = at if at is not None else (clock.time if clock is not None else latest)
    live = [view for view in tracks.values() if now is None or (now - view.state.time).total_seconds() <= setup.stale_s]
    return Snapshot(
        partner=setup.partner,
        seq=updates[-1].seq if updates else 0,
        time=now,
        clock=clock,
        setup=setup,
        tracks=sorted(live, key=lambda v: v.state.key),
        alerts=sorted(alerts.values(), key=lambda a: (a.changes[0].time, a.owner, a.alert_id)),
        launches=sorted(launches.values(), key=lambda e: e.event_id),
        health=health,
        injects=injects,
        notes=notes,
        warnings=list(warnings.values()),
        answers=answers,
    )
