"""Truth: every missile of a scenario flown, and its objects' states at any time.

Times are Unix seconds; states are ECEF [m, m/s].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mwx.errors import UnreachableFlight
from mwx.geo.hermite import interpolate_states
from mwx.sim.flight import Trajectory, solve_flight
from mwx.sim.scenario import Missile, Scenario, missiles


@dataclass
class TruthObject:
    """One physical object in flight, sampled at ``t`` (Unix s) with ECEF states ``ecef`` (n, 6)."""

    id: str
    kind: str
    launch_id: str
    t: NDArray[np.float64]
    ecef: NDArray[np.float64]

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


def fly(scenario: Scenario, progress: Callable[[str], None] | None = None) -> list[TruthLaunch]:
    """Solve and fly every missile of the scenario (salvo members share one solution)."""
    solved: dict[int, Trajectory] = {}
    out = []
    for missile in missiles(scenario):
        if missile.launch_index not in solved:
            if progress:
                progress(f"solving flight {missile.id}")
            try:
                solved[missile.launch_index] = solve_flight(missile.brief)
            except UnreachableFlight as err:
                raise UnreachableFlight(err.problem, where=f"launches[{missile.launch_index}]") from None
        traj = solved[missile.launch_index]
        warhead = TruthObject(
            id=f"{missile.id}/RV",
            kind="warhead",
            launch_id=missile.id,
            t=missile.launch_time + traj.t,
            ecef=traj.ecef,
        )
        out.append(TruthLaunch(missile, traj, [warhead]))
    return out
