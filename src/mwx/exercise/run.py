"""Run a scenario end to end, embedded: truth, sensors, nodes, bus, fusion, warnings, outputs.

The run is a discrete-event simulation in scenario time: radar scans are
processed in the order their reports arrive, every node re-assesses its
fused picture every ``assess_interval_s`` seconds, and all three partner
nodes plus the exchange observer (``fused``: every report, no sensors) share
one in-process bus.  Nothing reads the wall clock except the run-time figure
in ``metrics.json``, so the same scenario and seed give the same files.
"""

from __future__ import annotations

import math
import time as wallclock
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np

from mwx import records
from mwx.assess.events import History, launch_events
from mwx.assess.lineage import LaunchBook
from mwx.exchange.bus import InMemoryBus
from mwx.exchange.endpoint import Endpoint
from mwx.exchange.keys import Signer, Verifier
from mwx.exchange.messages import TrackReport
from mwx.exchange.policy import OPEN, ReleasePolicy
from mwx.fuse.fusion import FusionCenter
from mwx.geo import regions
from mwx.node.node import PartnerNode
from mwx.sim import sensors
from mwx.sim.flight import Trajectory
from mwx.sim.scenario import Scenario, SensorDown, SpuriousTrack, link_injects, theater_of, withholds
from mwx.sim.theater import Theater
from mwx.sim.truth import TruthLaunch, TruthObject, fly
from mwx.track.scans import scans_in_arrival_order
from mwx.warn.alerts import Alert, AlertManager

if TYPE_CHECKING:
    from mwx.live.session import ConsoleSession

Progress = Callable[[str, float | None], None]

FUSED = "fused"


class LoggedState(NamedTuple):
    """One published track state: ECEF ``x`` (6,) [m, m/s], ``P`` (6, 6); ``P_independent`` the part of ``P``
    its partner's own errors make (as its track report says; None for the fused observer's states)."""

    time: float
    partner: str
    track_id: str
    x: np.ndarray
    P: np.ndarray
    boosting: bool
    P_independent: np.ndarray | None = None


@dataclass
class TrackLog:
    """Every published state, per (partner, track id), in publication order."""

    rows: list[LoggedState] = field(default_factory=list)
    first_detection: dict[tuple[str, str], float] = field(default_factory=dict)

    def record(
        self,
        partner: str,
        track_id: str,
        time: float,
        x: np.ndarray,
        p: np.ndarray,
        boosting: bool = False,
        first_detection: float | None = None,
        p_independent: np.ndarray | None = None,
    ) -> None:
        own = None if p_independent is None else np.array(p_independent, float)
        self.rows.append(LoggedState(time, partner, track_id, np.array(x, float), np.array(p, float), boosting, own))
        if first_detection is not None:
            self.first_detection.setdefault((partner, track_id), first_detection)

    def histories(self) -> dict[tuple[str, str], History]:
        grouped: dict[tuple[str, str], list] = defaultdict(list)
        for row in self.rows:
            grouped[(row.partner, row.track_id)].append((row.time, row.x, row.P, row.boosting))
        out = {}
        for key, items in grouped.items():
            out[key] = History(
                key[1],
                np.array([i[0] for i in items]),
                np.array([i[1] for i in items]),
                np.array([i[2] for i in items]),
                self.first_detection.get(key, items[0][0]),
                np.array([i[3] for i in items], bool),
            )
        return out


class SystemInfo(NamedTuple):
    """One system track of a fused picture at the end of the run: its member tracks (sender, track id), its first
    detection [Unix s] and, for one retired into another, that one's id."""

    members: tuple[tuple[str, str], ...]
    first_detection: float
    merged_into: str | None = None


@dataclass
class Picture:
    """A participant's fused picture and alerts at the end of the run, as data (no live node).

    ``launches``: per launch of its :class:`~mwx.assess.lineage.LaunchBook` (merged ones too), its system
    tracks; ``launch_of``: per member track (sender, track id) of any system, the live launch of the system
    holding it now (tracks of no launch left out); ``alerts``: its :class:`~mwx.warn.alerts.Alert` objects in
    issue order, and ``predictions`` the latest prediction of each system it evaluated
    (:attr:`~mwx.warn.alerts.AlertManager.predictions`).  The ``fused`` observer has systems only.
    """

    partner: str
    systems: dict[str, SystemInfo]
    stale_s: float
    launches: dict[str, tuple[str, ...]] = field(default_factory=dict)
    launch_of: dict[tuple[str, str], str] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)
    predictions: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        partner: str,
        fusion: FusionCenter,
        launches: LaunchBook | None = None,
        alerts: AlertManager | None = None,
    ) -> Picture:
        """The data of a node's (or the observer's) fusion centre, launch book and alert manager."""
        systems = {
            system_id: SystemInfo(
                tuple(system.members),
                min((m.first_detection for m in system.members.values()), default=math.nan),
                system.merged_into,
            )
            for system_id, system in fusion.systems.items()
        }
        picture = cls(partner, systems, fusion.stale_s)
        if launches is not None:
            picture.launches = {k: tuple(launch.systems) for k, launch in launches.launches.items()}
            for key in dict.fromkeys(k for s in systems.values() for k in s.members):
                launch_id = launches.of(fusion.system_of(*key) or "")
                if launch_id is not None:
                    picture.launch_of[key] = launch_id
        if alerts is not None:
            picture.alerts = list(alerts.alerts.values())
            picture.predictions = {k: dict(v) for k, v in alerts.predictions.items()}
        return picture


class Traffic(NamedTuple):
    """What the bus carried: envelopes sent (one per recipient) and their bytes; envelopes a ``link_loss``
    inject dropped and a ``link_down`` / ``link_latency`` inject held back (embedded bus only)."""

    sent: int
    bytes: int
    lost: int = 0
    held: int = 0


def exchange_figures(endpoint: Endpoint) -> records.ExchangeFigures:
    """An endpoint's figures for metrics.json: envelopes sealed and sent, accepted, refused by reason, bytes;
    sequence numbers still missing below each sender's highest (unrepaired losses)."""
    guard = endpoint.guard
    return records.ExchangeFigures(
        **endpoint.counters.as_dict(),
        rejections_journalled=len(endpoint.rejections),
        withheld=endpoint.withheld,
        gaps_open=sum(len(guard.missing(sender, 1_000_000)) for sender in guard.senders()),
    )


@dataclass
class RunResult:
    """Everything a run produced, as data, before (and after) it is written to the run folder.

    No live part of the run (nodes, bus, endpoints) is kept: what the outputs and the evaluation
    (:mod:`mwx.exercise.evaluation`) need is taken out at its end — each participant's :class:`Picture`
    (partners in the theater's order, then ``fused``), the exchange figures of every endpoint and what the
    bus carried.  :func:`simulate` keeps the live parts, for tests that look inside a node.
    """

    scenario: Scenario
    theater: Theater
    truth: list[TruthLaunch]
    measurements: sensors.Measurements
    biases: dict[str, np.ndarray]
    object_ids: list[str]
    log: TrackLog
    events: list[records.LaunchEvent]  # the assessment's reports, before the evaluation fills in truth ids
    pictures: dict[str, Picture]
    #: Per endpoint (each partner's and the listen-only ``fused`` observer's): metrics.json → exchange.
    exchange: dict[str, records.ExchangeFigures]
    traffic: Traffic
    wall_time_s: float = math.nan
    #: The observer's (time, sender, report state, fused state, fused covariance) per accepted report.
    fusion_pairs: list = field(default_factory=list)
    #: Which bus carried the exchange: the in-process one, or NATS servers (``mwx run --bus nats``).
    bus_kind: Literal["embedded", "nats"] = "embedded"

    @property
    def partners(self) -> list[str]:
        """The partners, in the theater's order (the ``fused`` observer left out)."""
        return [p for p in self.pictures if p != FUSED]


@dataclass
class Prepared:
    """What every transport's run starts from: the theater, the true flights and the sensor reports."""

    theater: Theater
    areas: tuple[regions.ProtectedArea, ...]
    truth: list[TruthLaunch]
    objects: list
    t_start: float  # first launch, Unix s
    t_end: float  # last impact, Unix s
    sensor_run: sensors.SensorRun

    @property
    def measurements(self) -> sensors.Measurements:
        return self.sensor_run.measurements


def prepare(scenario: Scenario, say: Progress, solved: Mapping[int, Trajectory] | None = None) -> Prepared:
    """Fly the scenario's missiles and simulate every sensor (deterministic in the scenario seed); ``solved``: the
    launches' flights where the caller solved them already (:func:`mwx.sim.truth.solve_launches`)."""
    theater = theater_of(scenario)
    areas = regions.load_areas(scenario.theater)
    say("flying the missiles", None)
    truth = fly(scenario, lambda message: say(message, None), solved)
    objects = [obj for launch in truth for obj in launch.objects]
    t_start = min(launch.launch_time for launch in truth)
    t_end = max(launch.impact_time for launch in truth)
    say("simulating the sensors", None)
    outages: dict[str, list[tuple[float, float]]] = defaultdict(list)
    ghosts: dict[str, list[TruthObject]] = defaultdict(list)
    for k, inject in enumerate(scenario.injects):
        if isinstance(inject, SensorDown):
            outages[inject.sensor].append((inject.start, inject.end))
        elif isinstance(inject, SpuriousTrack):
            ghost = sensors.spurious_object(inject.ghost, inject.start, inject.end, f"spurious-{k + 1}")
            ghosts[inject.sensor].append(ghost)
    sensor_run = sensors.simulate_sensors(theater.sensors, objects, t_start, t_end, scenario.seed, outages, ghosts)
    return Prepared(theater, areas, truth, objects, t_start, t_end, sensor_run)


def run_signers(scenario: Scenario, participants: list[str], *, exercise_keys: bool = False) -> dict[str, Signer]:
    """The partners' keys for an embedded run: fresh key pairs from the operating system's random source, held in
    memory for the run only; with ``exercise_keys``, keys derived from the scenario seed
    (:meth:`~mwx.exchange.keys.Signer.from_seed`: anyone who has the scenario can sign as any partner, so only
    for exercises whose envelopes must repeat byte for byte).  A deployment reads key files (mwx keys generate)."""
    if exercise_keys:
        return {partner: Signer.from_seed(partner, scenario.seed) for partner in participants}
    return {partner: Signer.generate(partner) for partner in participants}


class FusedLog:
    """The exchange observer's picture: every report it accepted, fused, one state per system per second.

    Reports must come in the senders' order: by send time, then the sender's sequence (what an
    in-process run delivers; a NATS run sorts the observer's journal with :func:`canonical_order`).
    """

    def __init__(self, log: TrackLog) -> None:
        self.log = log
        self.center = FusionCenter(FUSED)
        self._last: dict[str, float] = {}
        #: Per accepted report: (time, sender, the report's state, the fused state and covariance of its
        #: system at that instant) — the like-for-like pairs of the fusion gain (metrics.json → fusion).
        self.pairs: list[tuple[float, str, np.ndarray, np.ndarray, np.ndarray]] = []

    def take(self, report: object) -> None:
        if not isinstance(report, TrackReport):
            return
        system = self.center.ingest(report)
        x, p = self.center.fused_state(system, report.time)
        self.pairs.append((report.time, report.sender, np.asarray(report.state, float), x, p))
        if report.time - self._last.get(system.id, -math.inf) >= 1.0:
            self._last[system.id] = report.time
            self.log.record(FUSED, system.id, report.time, x, p, self.center.boosting(system))
            self.log.first_detection[(FUSED, system.id)] = system.first_detection


def canonical_order(reports: list[TrackReport], partners: list[str]) -> list[TrackReport]:
    """Track reports in the order an in-process run delivers them: send time, scan time, sender, sequence."""
    rank = {p: i for i, p in enumerate(partners)}
    return sorted(reports, key=lambda r: (r.sent, r.time, rank.get(r.sender, len(rank)), r.seq))


def own_histories(log: TrackLog) -> dict[str, list[History]]:
    """Each partner's histories of its own published tracks (the observer's left out)."""
    out: dict[str, list[History]] = defaultdict(list)
    for (partner, _), history in log.histories().items():
        if partner != FUSED:
            out[partner].append(history)
    return out


def partner_events(
    log: TrackLog, areas, seed: int, t_end: float, fused: FusionCenter | None = None
) -> list[records.LaunchEvent]:
    """Every partner's (and the observer's) launch event reports from the published states.

    ``fused``: the observer's fusion centre.  A system track it merged into another (two systems
    found to be one object) leaves the event reports: its object's history goes on in the survivor.
    """
    merged = {s.id for s in fused.systems.values() if getattr(s, "merged_into", None)} if fused else set()
    events = []
    per_partner: dict[str, list[History]] = defaultdict(list)
    for (partner, track_id), history in log.histories().items():
        if partner == FUSED and track_id in merged:
            continue
        per_partner[partner].append(history)
    for partner, histories in per_partner.items():
        events += launch_events(histories, areas, seed, t_end, partner=partner)
    return events


@dataclass
class Simulation:
    """An embedded run with its live parts, for tests and tools that look inside a node or the bus: the
    partners' nodes, the observer's fusion centre, the bus and every endpoint; ``result`` is the data."""

    result: RunResult
    nodes: dict[str, PartnerNode]
    observer: FusionCenter
    bus: InMemoryBus
    exchanges: dict[str, Endpoint]


def run_scenario(
    scenario: Scenario,
    progress: Progress | None = None,
    *,
    assess_interval_s: float = 5.0,
    policy: ReleasePolicy = OPEN,
    exercise_keys: bool = False,
    solved: Mapping[int, Trajectory] | None = None,
    console: ConsoleSession | None = None,
) -> RunResult:
    """Simulate the whole scenario; :func:`mwx.exercise.outputs.write_run` writes the files.

    ``policy``: the release policy every partner applies before sending (default: everything to
    everyone).  The ``fused`` observer is a recipient like the others (name ``fused`` in rules).
    ``exercise_keys``: sign with keys derived from the scenario seed (:func:`run_signers`).  ``solved``: the
    launches' flights where the caller solved them already (:func:`prepare`).  ``console``: serve each
    partner's console while the run goes on, paced on the wall clock (:mod:`mwx.live.session`).
    """
    return simulate(
        scenario,
        progress,
        assess_interval_s=assess_interval_s,
        policy=policy,
        exercise_keys=exercise_keys,
        solved=solved,
        console=console,
    ).result


def simulate(
    scenario: Scenario,
    progress: Progress | None = None,
    *,
    assess_interval_s: float = 5.0,
    policy: ReleasePolicy = OPEN,
    exercise_keys: bool = False,
    solved: Mapping[int, Trajectory] | None = None,
    console: ConsoleSession | None = None,
) -> Simulation:
    """:func:`run_scenario`, keeping the live nodes, observer, bus and endpoints beside the result."""
    started = wallclock.perf_counter()
    say = progress or (lambda message, fraction: None)
    prep = prepare(scenario, say, solved)
    theater, areas, t_start, t_end = prep.theater, prep.areas, prep.t_start, prep.t_end
    measurements = prep.measurements

    bus = InMemoryBus(link_injects(scenario), scenario.seed)
    policy = policy.with_windows(withholds(scenario))
    signers = run_signers(scenario, theater.partner_ids, exercise_keys=exercise_keys)
    verifier = Verifier.of(*signers.values())
    log = TrackLog()
    nodes: dict[str, PartnerNode] = {}
    local_index: dict[int, str] = {}
    for partner in theater.partner_ids:
        own = {i: s for i, s in enumerate(theater.sensors) if s.partner == partner}
        for i in own:
            local_index[i] = partner
        nodes[partner] = PartnerNode(partner, own, bus, areas, log.record, signers[partner], verifier, policy)
    fused = FusedLog(log)
    observer_exchange = Endpoint(FUSED, bus, verifier, fused.take)  # listens only: no key
    if console is not None:
        console.begin(scenario, theater, areas, t_start, t_end, nodes, lambda: own_histories(log))

    say("tracking, sharing, fusing, warning", 0.0)
    scans, m = scans_in_arrival_order(measurements)
    next_assess = math.floor(t_start / assess_interval_s) * assess_interval_s + assess_interval_s

    def assess_until(t: float) -> None:
        """Every node assesses at each mark up to ``t``, with what the bus delivered by then."""
        nonlocal next_assess
        while next_assess <= t:
            if console is not None:
                console.wait_until(next_assess)
            bus.deliver_until(next_assess)
            for node in nodes.values():
                node.assess(next_assess)
            if console is not None:
                console.assessed(next_assess)
            next_assess += assess_interval_s

    last_report = -1.0
    for n, (a, b) in enumerate(scans):
        now = float(m.received[a])
        assess_until(now)
        if console is not None:
            console.wait_until(now)
        bus.deliver_until(now)  # what link injects held back and is due by now
        sensor = int(m.sensor[a])
        node = nodes[local_index[sensor]]
        scan = node.scan(m, a, b)
        node.on_scan(scan, now)
        if console is not None:
            console.step(now)
        fraction = n / max(len(scans), 1)
        if fraction - last_report >= 0.05:
            say("tracking, sharing, fusing, warning", fraction)
            last_report = fraction
    # Assessments go on after the last radar report until the last impact: a track that is lost must
    # say so, and an alert whose time has passed must end, even when no sensor reports anything more.
    assess_until(t_end)
    bus.deliver_until(math.inf)
    for node in nodes.values():
        node.alerts.close(t_end)
    say("tracking, sharing, fusing, warning", 1.0)

    say("writing the event reports", None)
    events = partner_events(log, areas, scenario.seed, t_end, fused.center)
    if console is not None:
        console.finish(t_end, events)
    exchanges = {p: node.exchange for p, node in nodes.items()} | {FUSED: observer_exchange}
    pictures = {p: Picture.of(p, node.fusion, node.launches, node.alerts) for p, node in nodes.items()}
    pictures[FUSED] = Picture.of(FUSED, fused.center)
    result = RunResult(
        scenario=scenario,
        theater=theater,
        truth=prep.truth,
        measurements=measurements,
        biases=prep.sensor_run.biases,
        object_ids=[o.id for o in prep.objects],
        log=log,
        events=events,
        pictures=pictures,
        exchange={p: exchange_figures(e) for p, e in exchanges.items()},
        traffic=Traffic(bus.sent, bus.bytes, bus.lost, bus.held),
        fusion_pairs=fused.pairs,
    )
    result.wall_time_s = wallclock.perf_counter() - started
    return Simulation(result, nodes, fused.center, bus, exchanges)
