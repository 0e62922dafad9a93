"""An embedded run with its consoles: a live picture per partner, served while the run is paced on the clock.

``mwx run --http PORT --speed S`` makes a :class:`ConsoleSession`; :func:`mwx.exercise.run.simulate` calls
:meth:`~ConsoleSession.begin` once the nodes exist (the session then attaches a :class:`~mwx.live.feed.
NodeFeed` to each, starts the server, and paces the run), :meth:`~ConsoleSession.step` after every scan,
:meth:`~ConsoleSession.assessed` after every assessment and :meth:`~ConsoleSession.finish` at the end.
Operators' acknowledgements from the consoles are carried out by the run's own thread, at the scenario time
the clock has reached (:class:`~mwx.live.operators.ActionQueue`).

Launch event reports are worked out from the tracks so far every :data:`EVENTS_EVERY_S` of scenario time,
in a worker process (they take a second or more, which the paced run must not wait for); the run's final
reports replace them at the end.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mwx import records
from mwx.live.app import console_app
from mwx.live.feed import NodeFeed, setup_of
from mwx.live.operators import ActionQueue
from mwx.live.pacing import Pacer
from mwx.live.picture import LivePicture
from mwx.live.serve import ConsoleServer
from mwx.live.tokens import Tokens

if TYPE_CHECKING:
    from fastapi import FastAPI

    from mwx.assess.events import History
    from mwx.geo.regions import ProtectedArea
    from mwx.node.node import PartnerNode
    from mwx.sim.scenario import Scenario
    from mwx.sim.theater import Theater

#: s of scenario time between two workings-out of the launch event reports
EVENTS_EVERY_S = 20.0

Say = Callable[[str], None]


def _events_now(
    histories: Mapping[str, list[History]], areas: tuple[ProtectedArea, ...], seed: int, t: float
) -> list[records.LaunchEvent]:
    """Every partner's launch event reports from its tracks up to ``t`` (in the worker process)."""
    from mwx.assess.events import launch_events

    out: list[records.LaunchEvent] = []
    for partner, own in histories.items():
        out += launch_events(own, areas, seed, t, partner=partner)
    return out


class ConsoleSession:
    """The consoles of an embedded run: served on ``host``:``port`` at ``speed`` × real time."""

    def __init__(
        self,
        *,
        speed: float,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Tokens | None = None,
        token_dir: Path | None = None,
        cot_port: int | None = None,
        say: Say | None = None,
        live_events: bool = True,
    ) -> None:
        self.speed = speed
        self.host, self.port, self.cot_port = host, port, cot_port
        self.tokens = tokens
        self.token_dir = token_dir
        self.say = say or (lambda line: None)
        self.live_events = live_events
        self.pictures: dict[str, LivePicture] = {}
        self.feeds: dict[str, NodeFeed] = {}
        self.desk = ActionQueue()
        self.feed_tracks = True  # track states to the pictures (a console's map shows them)
        #: Set once the consoles are served and the clock has started (what another thread may wait for).
        self.begun = threading.Event()
        self.pacer = Pacer(speed, idle=self._idle)
        self.server: ConsoleServer | None = None
        self.cot: dict[str, Any] = {}
        self._nodes: Mapping[str, PartnerNode] = {}
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._pending: tuple[float, Future[list[records.LaunchEvent]]] | None = None
        self._next_events = 0.0
        self._seed = 0
        self._areas: tuple[ProtectedArea, ...] = ()
        self._histories: Callable[[], Mapping[str, list[History]]] | None = None

    # ------------------------------------------------------------------ set-up
    def begin(
        self,
        scenario: Scenario,
        theater: Theater,
        areas: tuple[ProtectedArea, ...],
        t_start: float,
        t_end: float,
        nodes: Mapping[str, PartnerNode],
        histories: Callable[[], Mapping[str, list[History]]],
    ) -> None:
        """Attach a feed to every node, serve the consoles and start the clock at the first launch."""
        self._attach(scenario, theater, areas, t_start, t_end, nodes, histories, mode="live")
        self._serve(console_app(self.pictures, self.tokens_for(nodes), self.desk), list(nodes))
        self.desk.open()
        self._start_clock(t_start)

    def _attach(
        self,
        scenario: Scenario,
        theater: Theater,
        areas: tuple[ProtectedArea, ...],
        t_start: float,
        t_end: float,
        nodes: Mapping[str, PartnerNode],
        histories: Callable[[], Mapping[str, list[History]]],
        *,
        mode: Literal["live", "exercise"],
    ) -> None:
        """A live picture and a feed for every node; its partner's operators acknowledge (not the node at once)."""
        self._nodes = nodes
        self._seed, self._areas, self._histories = scenario.seed, areas, histories
        for partner, node in nodes.items():
            setup = setup_of(partner, theater, areas, mode=mode, scenario=scenario.name, start=t_start, end=t_end)
            self.pictures[partner] = LivePicture(setup)
            self.feeds[partner] = node.feed = NodeFeed(self.pictures[partner], tracks=self.feed_tracks)
            node.operators = True
        self._next_events = t_start + EVENTS_EVERY_S

    def tokens_for(self, roles: Iterable[str]) -> Tokens:
        """The session's tokens (made for ``roles`` if it was given none), written to the token folder if any."""
        if self.tokens is None:
            self.tokens = Tokens.generate(roles)
        if self.token_dir is not None:
            self.tokens.write(self.token_dir)
        return self.tokens

    def _serve(self, app: FastAPI, pages: Iterable[str]) -> None:
        """Serve ``app`` (and the CoT feeds), say each page's address with its token, start the launch reports'
        worker."""
        assert self.tokens is not None
        beside = []
        if self.cot_port is not None:
            beside.append(self._start_cot)
        self.server = ConsoleServer(app, self.host, self.port, beside=beside).start()
        for page in pages:
            name, path = self.page_of(page)
            self.say(f"{name}: {self.server.url}{path}?token={self.tokens.by_partner[page]}")
        if self.live_events:
            self._pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))

    def page_of(self, role: str) -> tuple[str, str]:
        """What ``role``'s page is called, and where it is served."""
        return f"console {role}", f"/console/{role}"

    def _start_clock(self, t_start: float) -> None:
        self.pacer.start(t_start)
        for feed in self.feeds.values():
            feed.clock(t_start, self.speed, "paused" if self.pacer.paused else "running")
            feed.flush()
        self.begun.set()

    async def _start_cot(self) -> None:
        from mwx.live.cot import CotFeed

        assert self.cot_port is not None
        for k, (partner, picture) in enumerate(self.pictures.items()):
            feed = CotFeed(picture, self.host, 0 if self.cot_port == 0 else self.cot_port + k)
            await feed.start()
            self.cot[partner] = feed
            self.say(f"CoT feed {partner}: tcp://{self.host}:{feed.port}")

    # ------------------------------------------------------------------ the run's steps
    def wait_until(self, t: float) -> None:
        """Hold the run until the clock reaches scenario time ``t`` (operators' actions go out meanwhile)."""
        self.pacer.wait_until(t)

    def step(self, t: float) -> None:
        """After a scan at ``t``: operators' actions waiting (a run behind the clock does not wait, so they are
        also taken here), then the step's updates to the consoles."""
        self._take_actions(t)
        self._flush()

    def assessed(self, t: float) -> None:
        """After an assessment at ``t``: the exchange's health, the clock, the launch reports when due."""
        for partner, node in self._nodes.items():
            feed = self.feeds[partner]
            peers = [p for p in self._nodes if p != partner]
            feed.health(t, node.exchange, peers, node.last_heard)
            feed.clock(t, self.speed, "paused" if self.pacer.paused else "running")
        self._events(t)
        self._flush()

    def finish(self, t: float, events: Sequence[records.LaunchEvent]) -> None:
        """The run is over: its final launch reports, the clock stopped; no more acknowledgements."""
        self.desk.close("the run has ended")
        if self._pending is not None:
            self._pending[1].cancel()
            self._pending = None
        for feed in self.feeds.values():
            feed.launches(t, events)
            feed.clock(t, self.speed, "finished")
        self._flush()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        """Stop serving."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if self.server is not None:
            for feed in self.cot.values():
                self.server.call(feed.stop())
            self.server.stop()

    # ------------------------------------------------------------------ inside
    def _idle(self, t: float) -> None:
        """While the run waits for the clock: carry out operators' acknowledgements, pick up launch reports."""
        self._take_actions(t)
        self._events(t)
        self._flush()

    def _take_actions(self, t: float) -> None:
        for ack in self.desk.take():
            self._nodes[ack.partner].acknowledge(ack.msg_id, t)

    def _events(self, t: float) -> None:
        if self._pool is None or self._histories is None:
            return
        if self._pending is not None and self._pending[1].done():
            at, future = self._pending
            self._pending = None
            if future.exception() is None:
                for feed in self.feeds.values():
                    feed.launches(at, future.result())
            elif isinstance(future.exception(), BrokenProcessPool):
                self._no_live_events(future.exception())
                return
        if self._pending is None and t >= self._next_events:
            self._next_events = t + EVENTS_EVERY_S
            try:
                job = self._pool.submit(_events_now, self._histories(), self._areas, self._seed, t)
            except BrokenProcessPool as err:
                self._no_live_events(err)
                return
            self._pending = (t, job)

    def _no_live_events(self, err: BaseException | None) -> None:
        """The worker died (a script without ``if __name__ == "__main__":`` that starts a run, say): the run goes
        on, and the consoles get the launch reports at its end only."""
        self.say(f"launch reports only at the end of the run: their worker process failed ({err})")
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool, self._pending = None, None

    def _flush(self) -> None:
        for feed in self.feeds.values():
            feed.flush()
