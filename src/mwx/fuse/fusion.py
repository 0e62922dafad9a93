"""Track-to-track fusion of own and received track reports into system tracks.

Skeleton design (deepened by the fusion issue): a report whose (sender,
track) is new is associated with the system track it fits best — both brought
to the report time, Mahalanobis distance under the χ²(6) 99.9 % gate, at most
one member per sender — or starts a new system track.  The fused state is the
information-weighted combination of the members' latest states predicted to a
common time, members older than ``stale_s`` left out.  That combination
assumes independent errors; partners' tracks are in fact correlated through
shared history, so it is optimistic — the fusion issue replaces it with
covariance intersection.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

from mwx.exchange.messages import TrackReport
from mwx.track import dynamics

GATE_6 = float(chi2.ppf(0.999, 6))


@dataclass
class Member:
    """The latest state of one partner's track."""

    sender: str
    track_id: str
    time: float
    x: NDArray
    P: NDArray
    first_detection: float
    boosting: bool = False


@dataclass
class SystemTrack:
    """One object in the fused picture."""

    id: str
    members: dict[tuple[str, str], Member] = field(default_factory=dict)

    @property
    def first_detection(self) -> float:
        return min(m.first_detection for m in self.members.values())

    @property
    def last_time(self) -> float:
        return max(m.time for m in self.members.values())


def predict(x: NDArray, p: NDArray, dt: float, q: float = 1.0) -> tuple[NDArray, NDArray]:
    """One state and covariance moved by ``dt`` seconds with the ballistic model."""
    xs = dynamics.propagate(x[None], dt)[0]
    f = dynamics.transition(x[None], dt)[0]
    return xs, f @ p @ f.T + dynamics.white_acceleration_noise(abs(dt), q)[0]


def combine(states: list[tuple[NDArray, NDArray]]) -> tuple[NDArray, NDArray]:
    """Information-weighted combination of independent estimates of one state."""
    if len(states) == 1:
        return states[0]
    info = sum(np.linalg.inv(p) for _, p in states)
    info_x = sum(np.linalg.solve(p, x) for x, p in states)
    cov = np.linalg.inv(info)
    return cov @ info_x, 0.5 * (cov + cov.T)


class FusionCenter:
    """The fused picture kept by one node (or by the exchange observer)."""

    def __init__(self, owner: str, *, stale_s: float = 15.0) -> None:
        self.owner = owner
        self.stale_s = stale_s
        self.systems: dict[str, SystemTrack] = {}
        self._member_of: dict[tuple[str, str], str] = {}
        self._next = 1

    def ingest(self, report: TrackReport) -> SystemTrack:
        """Take one report; return the system track it now belongs to."""
        key = (report.sender, report.track_id)
        member = Member(
            report.sender,
            report.track_id,
            report.time,
            np.asarray(report.state, float),
            np.asarray(report.covariance, float).reshape(6, 6),
            report.first_detection,
            report.boosting,
        )
        system_id = self._member_of.get(key) or self._associate(member)
        system = self.systems[system_id]
        # A partner's re-initiated track replaces its own stale one in the system.
        for old in [k for k in system.members if k[0] == report.sender and k != key]:
            del system.members[old]
        system.members[key] = member
        self._member_of[key] = system_id
        return system

    def _associate(self, member: Member) -> str:
        best, best_d2 = None, GATE_6
        for system in self.systems.values():
            if any(k[0] == member.sender and member.time - m.time <= self.stale_s for k, m in system.members.items()):
                continue
            if member.time - system.last_time > self.stale_s:
                continue
            x, p = self.fused_state(system, member.time)
            d = member.x - x
            d2 = float(d @ np.linalg.solve(p + member.P, d))
            if d2 < best_d2:
                best, best_d2 = system.id, d2
        if best is not None:
            return best
        system_id = f"{self.owner}-F{self._next:04d}"
        self._next += 1
        self.systems[system_id] = SystemTrack(system_id)
        return system_id

    def fused_state(self, system: SystemTrack, time: float) -> tuple[NDArray, NDArray]:
        """The fused state and covariance of ``system`` at ``time`` (Unix s)."""
        latest = system.last_time
        fresh = [m for m in system.members.values() if latest - m.time <= self.stale_s]
        return combine([predict(m.x, m.P, time - m.time) for m in fresh])

    def boosting(self, system: SystemTrack) -> bool:
        """True when any fresh member judges the object under thrust."""
        latest = system.last_time
        return any(m.boosting for m in system.members.values() if latest - m.time <= self.stale_s)

    def system_of(self, sender: str, track_id: str) -> str | None:
        return self._member_of.get((sender, track_id))
