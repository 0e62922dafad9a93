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

Radar cross-sections are generic, aspect-averaged values (m²): large while
the missile is whole, small for a re-entry body.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mwx.errors import UnreachableFlight
from mwx.geo import wgs84
from mwx.geo.hermite import interpolate_states
from mwx.sim.flight import Trajectory, coast, solve_flight
from mwx.sim.scenario import Missile, Scenario, missiles

STACK_RCS_M2 = 3.0  # the whole missile in boost
WARHEAD_RCS_M2 = 0.1  # re-entry body after separation
BODY_RCS_M2 = 0.5  # single-stage airframe that does not separate
STAGE_RCS_M2 = 2.0  # tumbling spent stage
STAGE_BETA = 600.0  # kg/m², empty tumbling stage
SEPARATION_SPEED = 3.0  # m/s, stage pushed back along the velocity
FIRST_STAGE_FRACTION = 0.45  # share of the burn after which a first stage separates


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


@dataclass
class TruthLaunch:
    """One missile as flown: its brief, trajectory and objects."""

    missile: Missile
    trajectory: Trajectory
    objects: list[TruthObject]

    @property
    def launch_time(self) -> float:
        return self.missile.launch_time

    @property
    def impact_time(self) -> float:
        return self.missile.launch_time + self.trajectory.impact_t


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
    out = []
    for missile in missiles(scenario):
        traj = solved[missile.launch_index]
        if missile.launch_index not in stages:
            count = missile.separating_stages
            if count is None:
                count = default_stages(traj.vehicle.burn_time_s)
            beta = STAGE_BETA if missile.stage_beta is None else missile.stage_beta
            stages[missile.launch_index] = _spent_stages(traj, count, beta)
        warhead = TruthObject(
            id=f"{missile.id}/RV",
            kind="warhead",
            launch_id=missile.id,
            t=missile.launch_time + traj.t,
            ecef=traj.ecef,
            rcs_m2=WARHEAD_RCS_M2 if stages[missile.launch_index] else BODY_RCS_M2,
            burnout=missile.launch_time + traj.burnout_t,
        )
        objects = [warhead]
        for k, (t, ecef) in enumerate(stages[missile.launch_index], start=1):
            objects.append(
                TruthObject(
                    id=f"{missile.id}/S{k}",
                    kind="stage",
                    launch_id=missile.id,
                    t=missile.launch_time + t,
                    ecef=ecef,
                    rcs_m2=STAGE_RCS_M2,
                )
            )
        out.append(TruthLaunch(missile, traj, objects))
    return out


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
