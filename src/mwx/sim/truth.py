"""Truth: every missile of a scenario flown, and its objects' states at any time.

Times are Unix seconds; states are ECEF [m, m/s].

Objects
    Each missile yields the warhead-bearing object (kind ``warhead``: the
    whole missile while its motor burns, the re-entry body after) and, by the
    missile's size, spent stages (kind ``stage``) that separate and coast on
    with their own, low ballistic coefficient, so they fall short.  With
    ``separating_stages`` = 1 the final stage separates at burnout; with 2 a
    first stage also separates at 45 % of the burn.  The default is 0 for
    burns under 100 s (a single-stage short-range missile whose airframe stays
    whole), 1 under 240 s and 2 beyond.  Separation pushes a stage back by
    ``SEPARATION_SPEED``.

Failures (scenario key ``failure``, :mod:`mwx.sim.failure`)
    A thrust termination: the warhead object follows the flight with the
    motor cut (its ``burnout`` is the cut, so infrared sensors lose the plume
    there) and stays whole: a stage that separated before the cut still
    flies on its own, nothing separates after it (the final stage stays on the
    body, whose cross-section is then ``BODY_RCS_M2``).  A break-up: the
    warhead object's samples stop at the break-up, and its pieces fly on as
    objects of kind ``fragment`` (``<missile>/F1``, ``/F2``, ...); a stage
    that separated before the break-up still flies, later ones never do.

Radar cross-sections are generic, aspect-averaged values (m²): large while
the missile is whole, small for a re-entry body.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from pyproj import Geod

from mwx.errors import UnreachableFlight
from mwx.geo import wgs84
from mwx.geo.hermite import interpolate_states
from mwx.sim import failure as failures
from mwx.sim.flight import Trajectory, coast, solve_flight
from mwx.sim.scenario import BreakUp, Missile, Scenario, ThrustTermination, missiles

STACK_RCS_M2 = 3.0  # the whole missile in boost
WARHEAD_RCS_M2 = 0.1  # re-entry body after separation
BODY_RCS_M2 = 0.5  # single-stage airframe that does not separate
STAGE_RCS_M2 = 2.0  # tumbling spent stage
STAGE_BETA = 600.0  # kg/m², empty tumbling stage
SEPARATION_SPEED = 3.0  # m/s, stage pushed back along the velocity
FIRST_STAGE_FRACTION = 0.45  # share of the burn after which a first stage separates
#: Object kinds: the warhead-bearing body, a spent stage, a piece of a broken-up body.
WARHEAD, STAGE, FRAGMENT = "warhead", "stage", "fragment"

_GEOD = Geod(ellps="WGS84")


def default_stages(burn_time_s: float) -> int:
    """Spent stages that fly on as objects of their own, by the missile's burn time [s]."""
    if burn_time_s < 100.0:
        return 0
    return 1 if burn_time_s < 240.0 else 2


@dataclass
class TruthObject:
    """One physical object in flight, sampled at ``t`` (Unix s) with ECEF states ``ecef`` (n, 6).

    ``burnout`` is the Unix time its motor stops (before it, the object is the
    burning missile with ``stack_rcs_m2``; a stage never burns on its own);
    ``rcs_m2`` is its cross-section after that.
    """

    id: str
    kind: str
    launch_id: str
    t: NDArray[np.float64]
    ecef: NDArray[np.float64]
    rcs_m2: float = WARHEAD_RCS_M2
    burnout: float = -np.inf
    stack_rcs_m2: float = STACK_RCS_M2

    def burning(self, times: NDArray) -> NDArray:
        """Whether its motor burns at ``times`` (within the object's flight)."""
        times = np.asarray(times, float)
        return (times >= self.t[0]) & (times < self.burnout)

    def rcs_at(self, times: NDArray) -> NDArray:
        """Radar cross-section [m²] at ``times``."""
        return np.where(self.burning(times), self.stack_rcs_m2, self.rcs_m2)

    def ground_track(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Geodetic latitude and longitude [deg] under each sample (n,), longitudes in [−180, 180]."""
        lat, lon, _ = wgs84.ecef_to_geodetic(self.ecef[:, :3])
        return np.degrees(lat), np.degrees(lon)

    def states_at(self, times: NDArray[np.float64]) -> NDArray[np.float64]:
        """ECEF states (m, 6) at ``times``; NaN where the object is not in flight.

        Cubic Hermite interpolation between samples, which uses the sampled
        velocities: with 1 s samples its position error stays below 1 mm
        except within a second of burnout.
        """
        return interpolate_states(self.t, self.ecef, times)

    @property
    def visible(self) -> bool:
        """Whether a radar can see it: every object but a fragment of :data:`mwx.sim.failure.DEBRIS_RCS_M2`."""
        return self.kind != FRAGMENT or self.rcs_m2 > failures.DEBRIS_RCS_M2


@dataclass(frozen=True)
class FlownFigures:
    """What a launch really did, whatever became of it: ``impact_time`` (Unix s: its last object on the ground),
    ``impact_lat``/``impact_lon`` [rad], ``apogee_alt`` and ``range_m`` [m] (over the ground, from the site to
    the impact point), ``burnout_time`` (Unix s: burnout, the motor's cut or a break-up in boost) and
    ``max_speed`` (inertial [m/s])."""

    impact_time: float
    impact_lat: float
    impact_lon: float
    apogee_alt: float
    range_m: float
    burnout_time: float
    max_speed: float


@dataclass
class TruthLaunch:
    """One missile as flown: its brief, trajectory and objects.

    ``trajectory`` is the flight of the warhead-bearing body: the solved flight; for a thrust termination
    the flight with the motor cut (:func:`mwx.sim.failure.terminate_thrust`); for a break-up the solved
    flight, which the body followed up to the break-up (its object's samples stop there).  ``intended``
    is the flight as briefed where the missile failed (None: it flew as briefed, ``trajectory``), and
    ``failure_time`` when it failed (Unix s: the cut or the break-up; None: it did not).  The figures of
    the flight as flown are :attr:`flown` (for a break-up, its pieces' figures).
    """

    missile: Missile
    trajectory: Trajectory
    objects: list[TruthObject]
    intended: Trajectory | None = None
    failure_time: float | None = None

    @property
    def launch_time(self) -> float:
        return self.missile.launch_time

    @property
    def briefed(self) -> Trajectory:
        """The flight as briefed (solved to the scenario's apogee and range), failed or not."""
        return self.trajectory if self.intended is None else self.intended

    @property
    def broke_up(self) -> bool:
        """Whether the warhead-bearing body broke up in flight (its pieces are objects of kind ``fragment``)."""
        return self.failure_time is not None and isinstance(self.missile.failure, BreakUp)

    @property
    def impact_time(self) -> float:
        """When the launch's last object reaches the ground [Unix s]; for a flight that did not fail, the
        warhead's impact (a spent stage that lands later is not waited for)."""
        if self.failure_time is None:
            return self.missile.launch_time + self.trajectory.impact_t
        return max(float(obj.t[-1]) for obj in self.objects)

    @cached_property
    def flown(self) -> FlownFigures:
        """The flight's figures as flown: the trajectory's; for a break-up the pieces' (see :func:`breakup_figures`)."""
        if self.broke_up:
            return breakup_figures(self)
        traj, t0 = self.trajectory, self.missile.launch_time
        return FlownFigures(
            self.impact_time,
            traj.impact_lat,
            traj.impact_lon,
            traj.apogee_alt,
            traj.range_m,
            t0 + traj.burnout_t,
            traj.max_speed,
        )


def breakup_figures(launch: TruthLaunch) -> FlownFigures:
    """A broken-up launch's figures: impact time of its last piece; impact point the centre of its pieces'
    impact points (the mean of their ECEF positions, on the ground below); apogee the highest point of the
    body before the break-up and of the pieces after it; range from the site to that impact point; burnout
    the break-up where it came first; the highest inertial speed of the body and of its pieces."""
    traj, t0 = launch.trajectory, launch.missile.launch_time
    assert launch.failure_time is not None
    at_s = launch.failure_time - t0
    pieces = [obj for obj in launch.objects if obj.kind == FRAGMENT]
    centre = np.mean([obj.ecef[-1, :3] for obj in pieces], axis=0)
    lat, lon, _ = wgs84.ecef_to_geodetic(centre)
    body = [obj for obj in launch.objects if obj.kind == WARHEAD]
    apogee = max(float(np.max(wgs84.ellipsoidal_height(obj.ecef[:, :3]))) for obj in pieces + body)
    if traj.apogee_t <= at_s:
        apogee = max(apogee, traj.apogee_alt)
    _, _, dist = _GEOD.inv(
        math.degrees(traj.site[1]), math.degrees(traj.site[0]), math.degrees(float(lon)), math.degrees(float(lat))
    )
    speeds = [float(np.max(np.linalg.norm(traj.eci[traj.t <= at_s, 3:], axis=1)))]
    speeds += [float(np.max(failures.inertial_speed(obj.ecef, traj.physics.omega))) for obj in pieces]
    return FlownFigures(
        launch.impact_time,
        float(lat),
        float(lon),
        apogee,
        float(dist),
        t0 + min(traj.burnout_t, at_s),
        max(speeds),
    )


def solve_launches(scenario: Scenario, progress: Callable[[str], None] | None = None) -> dict[int, Trajectory]:
    """Each launch's flight (:func:`mwx.sim.flight.solve_flight`) by its index in the scenario (salvo members share
    one); an :class:`UnreachableFlight` names the launch (``launches[i]``)."""
    solved: dict[int, Trajectory] = {}
    for missile in missiles(scenario):
        if missile.launch_index not in solved:
            if progress:
                progress(f"solving flight {missile.id}")
            try:
                solved[missile.launch_index] = solve_flight(missile.brief)
            except UnreachableFlight as err:
                raise UnreachableFlight(err.problem, where=f"launches[{missile.launch_index}]") from None
    return solved


def fly(
    scenario: Scenario,
    progress: Callable[[str], None] | None = None,
    solved: Mapping[int, Trajectory] | None = None,
) -> list[TruthLaunch]:
    """Fly every missile of the scenario: ``solved``, its launches' flights by index where the caller solved them
    already (:func:`solve_launches`), else solved here."""
    solved = solve_launches(scenario, progress) if solved is None else solved
    stages: dict[int, list[tuple[NDArray, NDArray]]] = {}
    terminated: dict[int, Trajectory] = {}
    out = []
    for missile in missiles(scenario):
        intended = solved[missile.launch_index]
        traj, failure = intended, missile.failure
        if missile.launch_index not in stages:
            count = missile.separating_stages
            if count is None:
                count = default_stages(intended.vehicle.burn_time_s)
            beta = STAGE_BETA if missile.stage_beta is None else missile.stage_beta
            stages[missile.launch_index] = _spent_stages(intended, count, beta)
        separated = stages[missile.launch_index]
        if failure is not None:
            # Only a stage that separated before the failure flies on its own.
            separated = [(t, ecef) for t, ecef in separated if t[0] < failure.at_s]
        rcs = WARHEAD_RCS_M2 if separated else BODY_RCS_M2
        t, ecef, burnout = intended.t, intended.ecef, intended.burnout_t
        pieces: list[failures.Fragment] = []
        if isinstance(failure, ThrustTermination):
            if missile.launch_index not in terminated:
                if progress:
                    progress(f"flying {missile.id} with its motor cut at {failure.at_s:g} s")
                with _naming_failure(missile):
                    terminated[missile.launch_index] = failures.terminate_thrust(intended, failure.at_s)
            traj = terminated[missile.launch_index]
            t, ecef, burnout = traj.t, traj.ecef, traj.burnout_t
            rcs = BODY_RCS_M2  # the final stage stays on the body
        elif isinstance(failure, BreakUp):
            if progress:
                progress(f"breaking {missile.id} up at {failure.at_s:g} s")
            rng = failures.failure_rng(scenario.seed, missile.launch_index, _salvo_member(scenario, missile))
            with _naming_failure(missile):
                pieces = failures.break_up(
                    intended, failure.at_s, failure.fragments, failure.visible, failure.spread_mps, rng
                )
            keep = intended.t < failure.at_s
            _, last = failures.parent_state(intended, failure.at_s)
            t = np.append(intended.t[keep], failure.at_s)
            ecef = np.vstack([intended.ecef[keep], last])
            burnout = min(burnout, failure.at_s)
        warhead = TruthObject(
            id=f"{missile.id}/RV",
            kind=WARHEAD,
            launch_id=missile.id,
            t=missile.launch_time + t,
            ecef=ecef,
            rcs_m2=rcs,
            burnout=missile.launch_time + burnout,
        )
        objects = [warhead]
        for k, (t, ecef) in enumerate(separated, start=1):
            objects.append(
                TruthObject(
                    id=f"{missile.id}/S{k}",
                    kind=STAGE,
                    launch_id=missile.id,
                    t=missile.launch_time + t,
                    ecef=ecef,
                    rcs_m2=STAGE_RCS_M2,
                )
            )
        for k, piece in enumerate(pieces, start=1):
            objects.append(
                TruthObject(
                    id=f"{missile.id}/F{k}",
                    kind=FRAGMENT,
                    launch_id=missile.id,
                    t=missile.launch_time + piece.t,
                    ecef=piece.ecef,
                    rcs_m2=piece.rcs_m2,
                    stack_rcs_m2=piece.rcs_m2,
                )
            )
        if failure is None:
            out.append(TruthLaunch(missile, traj, objects))
        else:
            out.append(TruthLaunch(missile, traj, objects, intended, missile.launch_time + failure.at_s))
    return out


@contextmanager
def _naming_failure(missile: Missile) -> Iterator[None]:
    """An :class:`UnreachableFlight` of a failed flight, naming the launch's failure (``launches[i].failure``)."""
    try:
        yield
    except UnreachableFlight as err:
        raise UnreachableFlight(err.problem, where=f"launches[{missile.launch_index}].failure") from None


def _salvo_member(scenario: Scenario, missile: Missile) -> int:
    """The missile's place in its launch's salvo (0 for the first), from its id as :func:`missiles` gives it."""
    index = missile.launch_index
    base = scenario.launches[index].id or f"L{index + 1}"
    ids = [base if k == 0 else f"{base}.{k + 1}" for k in range(scenario.launches[index].count)]
    return ids.index(missile.id)


def _spent_stages(traj: Trajectory, count: int, beta: float) -> list[tuple[NDArray, NDArray]]:
    """Times after launch and ECEF states of each spent stage (ballistic coefficient ``beta`` [kg/m²])."""
    burn = traj.vehicle.burn_time_s
    times = [burn * FIRST_STAGE_FRACTION, burn][2 - count :] if count else []
    out = []
    for t0 in times:
        eci0 = interpolate_states(traj.t, traj.eci, np.array([t0]))[0]
        v = eci0[3:]
        eci0[3:] = v - SEPARATION_SPEED * v / np.linalg.norm(v)
        out.append(coast(traj, t0, eci0, beta))
    return out
