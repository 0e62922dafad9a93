"""The master scenario events list (MSEL): what happens in an exercise, when, to whom, and what is expected.

An MSEL is YAML (``docs/exercises.md``)::

    name: oct-2022-ttx
    title: An IRBM over Japan, then a salvo
    start: 2022-10-03T22:20:00Z      # STARTEX: exercise time T+0
    duration_min: 40                 # ENDEX at start + 40 min
    theater: korea-japan             # the technical scenario's theater and seed
    seed: 7
    cells: [KR, JP, US]              # player cells (default: the theater's partners)
    objectives: [{id: O1, text: ..., capabilities: [C1]}]
    capabilities:                    # the exercise evaluation guide
      - id: C1
        name: Shared warning
        tasks:
          - {id: C1.1, text: ..., measure: first_shared_track, from: {launch: L1}, target_s: 60}
    modules:
      - id: M1
        name: Move 1 — the IRBM
        injects:
          - {id: I1, at: "00:02:47", kind: launch, to: [white], text: ...,
             launch: {id: L1, site: {lat: 40.61, lon: 126.43}, azimuth_deg: 84.2, apogee_km: 970, range_km: 4500}}
          - {id: I2, at: "00:06:00", kind: question, from: white, to: [JP], text: ..., expected_action: ...}
    players:                         # scripted cells, for headless play
      KR: {acknowledge_s: 20, answer_s: 60}
      JP: {answer_s: null}           # never answers

Times: ``at`` is an offset from ``start`` written ``HH:MM:SS`` or ``MM:SS`` (or a number of seconds); the
technical injects become a :class:`~mwx.sim.scenario.Scenario` (:func:`scenario_of`) whose launch and inject
times are ``start + at``.  Every problem is an :class:`~mwx.errors.InputError` naming the file, the place and
the problem (``mwx exercise check`` prints it on one line and exits 2).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from mwx.sim.scenario import Ghost, Launch, Point

Id = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{1,32}$")]
Cell = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2,8}$")]
#: Who an inject comes from or goes to: a cell, ``white`` (the facilitator, exercise control), ``media`` (a
#: simulated press or public source), or ``all`` (every cell) in ``to``.
Role = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2,8}$")]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Offset = str | Annotated[float, msgspec.Meta(ge=0.0)]  # "HH:MM:SS", "MM:SS" or seconds from STARTEX
Seconds = Annotated[float, msgspec.Meta(ge=0.0, le=86400.0)]

WHITE = "white"
MEDIA = "media"
ALL = "all"

#: Injects mwx carries out in the technical simulation.
TechnicalKind = Literal["launch", "sensor_down", "link_down", "link_latency", "link_loss", "withhold", "spurious_track"]
#: Injects that reach the addressed cells' consoles as text; a ``question`` expects an answer.
DiscussionKind = Literal["situation", "question", "media"]
TECHNICAL_KINDS: frozenset[str] = frozenset(TechnicalKind.__args__)  # type: ignore[attr-defined]
DISCUSSION_KINDS: frozenset[str] = frozenset(DiscussionKind.__args__)  # type: ignore[attr-defined]


class _Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class LaunchSpec(_Strict):
    """A launch (or salvo) of a ``launch`` inject: a scenario launch's keys (:class:`mwx.sim.scenario.Launch`)
    but ``time``, which is the inject's."""

    site: Point
    apogee_km: Annotated[float, msgspec.Meta(gt=0.0)]
    range_km: Annotated[float, msgspec.Meta(gt=0.0)] | None = None
    azimuth_deg: Annotated[float, msgspec.Meta(ge=-360.0, le=360.0)] | None = None
    aim: Point | None = None
    id: Id | None = None
    count: Annotated[int, msgspec.Meta(ge=1, le=100)] = 1
    interval_s: Annotated[float, msgspec.Meta(ge=0.0, le=3600.0)] = 0.0
    separating_stages: Annotated[int, msgspec.Meta(ge=0, le=2)] | None = None
    reentry_beta_kg_m2: Annotated[float, msgspec.Meta(ge=500.0, le=100000.0)] | None = None
    stage_beta_kg_m2: Annotated[float, msgspec.Meta(ge=20.0, le=20000.0)] | None = None


class Inject(_Strict):
    """One timed event of the MSEL.

    Technical kinds carry their parameters: ``launch`` (a scenario launch without its ``time``: the inject's
    time is it), ``sensor`` (``sensor_down``), ``a``/``b`` (link injects: the two participants),
    ``latency_s`` / ``probability`` (``link_latency`` / ``link_loss``), ``partner``/``withheld_from``/
    ``kinds`` (``withhold``: ``partner`` sends nothing of ``kinds`` to ``withheld_from``), ``sensor`` and
    ``ghost`` (``spurious_track``: :class:`mwx.sim.scenario.SpuriousTrack`).  ``duration_s`` is the window
    of every technical kind but ``launch``.  Discussion kinds carry ``text`` for their addressees; a
    ``question`` expects an answer.
    """

    id: Id
    at: Offset
    kind: TechnicalKind | DiscussionKind
    text: Text | None = None
    source: Role = msgspec.field(default=WHITE, name="from")
    to: list[Role] = msgspec.field(default_factory=lambda: [ALL])
    expected_action: Text | None = None
    # ---- technical parameters
    launch: LaunchSpec | None = None
    duration_s: Seconds | None = None
    sensor: str | None = None
    a: Cell | None = None
    b: Cell | None = None
    latency_s: Annotated[float, msgspec.Meta(gt=0.0, le=3600.0)] | None = None
    probability: Annotated[float, msgspec.Meta(gt=0.0, le=1.0)] | None = None
    partner: Cell | None = None
    withheld_from: list[Cell] = []
    kinds: list[Literal["track", "event", "alert", "note"]] = msgspec.field(default_factory=lambda: ["track"])
    ghost: Ghost | None = None


class Module(_Strict):
    """A move of the exercise: a named group of injects."""

    id: Id
    name: Text
    injects: list[Inject] = []


#: What a critical task measures, from the system's own timestamps and the players' actions (see
#: :mod:`mwx.ttx.evaluation`).
Measure = Literal[
    "first_detection",  # the cell's (or any) partner first tracks the launch
    "first_shared_track",  # the exchange first carries a track of the launch (the cell's, or any partner's)
    "first_alert",  # the cell's first alert for the launch
    "alert_acknowledged",  # the cell acknowledges a partner's alert change
    "consultation_opened",  # the cell (or any) requests an assessment
    "assessment_shared",  # the cell (or any) shares an assessment
    "assessment_agreed",  # a concurrence or a decision on the consultation
    "launch_confirmed",  # the cell confirms or disputes the launch
    "public_warning",  # the cell issues a public warning
    "all_clear",  # the cell's alerts for the launch have all ended, or it issued an all-clear
    "inject_answered",  # the cell answers the inject ``from.inject``
]


class Reference(_Strict):
    """What a task's time counts from: a launch of the MSEL, an inject's delivery, or STARTEX (neither)."""

    launch: Id | None = None
    inject: Id | None = None


class Task(_Strict):
    """A critical task: ``measure`` done by ``cell`` (None: any cell) within ``target_s`` of ``from``."""

    id: Id
    text: Text
    measure: Measure
    target_s: Annotated[float, msgspec.Meta(gt=0.0, le=86400.0)]
    reference: Reference = msgspec.field(default_factory=Reference, name="from")
    cell: Cell | None = None


class Capability(_Strict):
    """A capability the exercise evaluates, with its critical tasks."""

    id: Id
    name: Text
    tasks: Annotated[list[Task], msgspec.Meta(min_length=1)]


class Objective(_Strict):
    id: Id
    text: Text
    capabilities: list[Id] = []


class ScriptedCell(_Strict):
    """How a scripted cell plays (headless play): each reaction's delay in seconds, ``None`` for never.

    ``acknowledge_s``: after a partner's alert change arrives; ``answer_s``: after a question reaches it;
    ``request_s``: after its first alert of a launch, it requests an assessment from the others;
    ``share_s``: after a request arrives, it shares its assessment; ``concur_s``: after an assessment is
    shared, it concurs; ``confirm_s``: after its first launch report, it confirms the launch;
    ``warn_s``: after its first alert for its own territory, it issues a public warning.
    """

    acknowledge_s: Seconds | None = 15.0
    answer_s: Seconds | None = 60.0
    request_s: Seconds | None = None
    share_s: Seconds | None = 45.0
    concur_s: Seconds | None = 30.0
    confirm_s: Seconds | None = None
    warn_s: Seconds | None = None


class Msel(_Strict):
    """A whole MSEL file."""

    name: Id
    start: Annotated[datetime, msgspec.Meta(tz=True)]
    duration_min: Annotated[float, msgspec.Meta(gt=0.0, le=1440.0)]
    modules: Annotated[list[Module], msgspec.Meta(min_length=1)]
    title: Text | None = None
    theater: str = "korea-japan"
    seed: Annotated[int, msgspec.Meta(ge=0)] = 0
    cells: list[Cell] = []  # [] = the theater's partners
    objectives: list[Objective] = []
    capabilities: list[Capability] = []
    players: dict[Cell, ScriptedCell] = {}

    @property
    def t_start(self) -> float:
        """STARTEX [Unix s]."""
        return self.start.timestamp()

    @property
    def t_end(self) -> float:
        """ENDEX [Unix s]."""
        return self.t_start + self.duration_min * 60.0


class TimedInject(msgspec.Struct, frozen=True):
    """An inject with its module and its time resolved to Unix seconds (:func:`injects_in_order`)."""

    time: float
    module: str
    inject: Inject


__all__ = [
    "ALL",
    "MEDIA",
    "WHITE",
    "Capability",
    "Ghost",
    "Inject",
    "Launch",
    "LaunchSpec",
    "Module",
    "Msel",
    "Objective",
    "Reference",
    "ScriptedCell",
    "Task",
    "TimedInject",
]
