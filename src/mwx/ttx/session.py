"""An exercise's run: the technical simulation with its exercise control, served to the roles or played headless.

:class:`ExerciseSession` is a :class:`~mwx.live.session.ConsoleSession` whose consoles are the cells' (mode
``exercise``: injects, the consultation channel, public warnings), beside the facilitator's and the
evaluators' pages (:mod:`mwx.ttx.app`), each role with its own token.  The clock waits at STARTEX for the
facilitator's start; pausing it holds the simulation still.  After the last impact the clock runs on to
ENDEX, a second at a time, for the discussion injects and the cells' consultation.

Headless (``speed=None``): nothing is served and nothing waits: the scripted cells play and the run goes as
fast as it computes, the same run step for step (the clock's pace never changes what happens at a step).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from mwx import records
from mwx.exchange.bus import InMemoryBus
from mwx.live.app import console_app
from mwx.live.session import ConsoleSession, Say
from mwx.live.tokens import Tokens
from mwx.ttx.control import ExerciseControl

if TYPE_CHECKING:
    from pathlib import Path

    from mwx.assess.events import History
    from mwx.geo.regions import ProtectedArea
    from mwx.node.node import PartnerNode
    from mwx.sim.scenario import Scenario
    from mwx.sim.theater import Theater

WHITE, EVALUATOR = "white", "eval"
#: s of scenario time between two steps of the clock after the technical simulation's end
TICK_AFTER_S = 1.0


class ExerciseSession(ConsoleSession):
    """The run of ``control``'s exercise at ``speed`` × real time (None: headless, unpaced, nothing served)."""

    def __init__(
        self,
        control: ExerciseControl,
        *,
        speed: float | None,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Tokens | None = None,
        token_dir: Path | None = None,
        say: Say | None = None,
        autostart: bool = False,
    ) -> None:
        """``autostart``: the clock starts at once (no facilitator's start); a resumed exercise catches up with
        its journal at once and holds there, paused."""
        headless = speed is None
        super().__init__(speed=speed or 1.0, host=host, port=port, tokens=tokens, token_dir=token_dir, say=say,
                         live_events=not headless)  # fmt: skip
        self.control = control
        self.headless = headless
        self.feed_tracks = not headless  # headless, no one looks at a map: the pictures keep the rest
        self.autostart = autostart or headless
        self._bus: InMemoryBus | None = None

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
        """Feeds for the cells, the roles' pages served, the clock held at STARTEX for the facilitator."""
        msel = self.control.msel
        self._attach(scenario, theater, areas, msel.t_start, msel.t_end, nodes, histories, mode="exercise")
        transport = next(iter(nodes.values())).exchange.transport
        self._bus = transport if isinstance(transport, InMemoryBus) else None
        self.control.attach(nodes, self.feeds, areas, None if self.headless else self.pacer)
        if not self.headless:
            from mwx.ttx.app import exercise_routes

            roles = [*self.control.cells, WHITE, EVALUATOR]
            tokens = self.tokens_for(roles)
            app = console_app(self.pictures, tokens, self.control,
                              extra_routes=exercise_routes(self.control, tokens, self.control.cells))  # fmt: skip
            self._serve(app, roles)
        if not self.autostart and not self.control.resuming:
            self.pacer.pause()  # held at STARTEX until the facilitator starts
        self._start_clock(msel.t_start)
        self.control.begin(msel.t_start)
        self._tick(msel.t_start, t_start)  # STARTEX to the first launch: the injects before it go out on time

    def page_of(self, role: str) -> tuple[str, str]:
        if role == WHITE:
            return "facilitator", "/exercise/white"
        if role == EVALUATOR:
            return "evaluator", "/exercise/eval"
        return super().page_of(role)

    # ------------------------------------------------------------------ the run's steps
    def wait_until(self, t: float) -> None:
        """Hold the run until the clock reaches ``t``; headless, or catching up with a journal, go on at once."""
        if not self.headless and not self.control.resuming:
            super().wait_until(t)

    def step(self, t: float) -> None:
        self.control.step(t)
        self._flush()

    def assessed(self, t: float) -> None:
        self.control.step(t)
        super().assessed(t)

    def _idle(self, t: float) -> None:
        self.control.idle(t)
        super()._idle(t)

    def _take_actions(self, t: float) -> None:
        """The control carries the people's requests out (acknowledgements included)."""

    def finish(self, t: float, events: Sequence[records.LaunchEvent]) -> None:
        """The technical simulation is over at ``t``: the clock runs on to ENDEX, then the exercise ends."""
        end = self.control.msel.t_end
        self._tick(t, end, inclusive=True)
        self.control.finish(max(t, end))
        super().finish(max(t, end), events)

    def _tick(self, after: float, until: float, *, inclusive: bool = False) -> None:
        """Steps of the exercise's clock every :data:`TICK_AFTER_S` from after ``after`` to ``until`` where the
        technical simulation has none (before the first launch, after the last impact): what the exchange holds
        is delivered, the control takes its step."""
        tick = math.floor(after / TICK_AFTER_S) * TICK_AFTER_S + TICK_AFTER_S
        while tick < until or (inclusive and tick == until):
            self.wait_until(tick)
            if self._bus is not None:
                self._bus.deliver_until(tick)
            self.control.step(tick)
            if tick % 5.0 == 0.0:  # the clock and the exchange's health, as during the run
                super().assessed(tick)
            self._flush()
            tick += TICK_AFTER_S
