"""Which launch each object belongs to: one missile's objects kept together, a salvo's missiles kept apart.

A missile flies as one object until burnout; then its spent stage (or stages) separates at a few m/s and
flies on beside the warhead-bearing body, a few hundred metres to a few kilometres away for minutes.  The
fused picture can also hold one object twice for a while (a system split by fusion, a track started again
after a gap).  All of these are one launch: one threat to warn for, one event to report.  Missiles fired
from one site seconds apart are separate launches: at any instant the later one lags the earlier by the
interval along the same path — ten seconds is 3–8 km and 300–600 m/s in boost, 15–30 km and ~100 m/s
(gravity alone) in coast.

:func:`same_missile` tells the two cases apart from two states at one instant: their difference must lie
within the χ²(6) 99.9 % gate of their covariances plus an allowance for a separation (:data:`SEPARATION_M`,
:data:`SEPARATION_MPS` per axis).  Two objects both under thrust are one missile only if they are one
object (a duplicate, :data:`DUPLICATE_M`): no missile burns twice at once.  Objects too uncertain to tell
(an early infrared track, km/s of velocity σ) are not judged yet.

An object first seen long after it separated is judged where it came from: a coasting object's arc,
flown back (ballistically), passes through its missile at the separation — a first stage dropped while
the upper stage burns on (hundreds of m/s apart seconds later), a body and its stage tens of km apart
after an hour of coast.  A salvo's later missile, flown back, stays an interval's travel behind the
earlier one all along.  Flying back fails for an object first seen falling low in the air, where drag
has slowed it by km/s (a spent stage found in re-entry): below :data:`DEBRIS_CEILING_M`, descending, it
belongs to the launch with the nearest object within :data:`DEBRIS_RADIUS_M` — objects of one missile
fall within minutes and hundreds of km of each other (as :func:`mwx.assess.events._attach_debris`).

A first stage dropped in boost is, for a while, still called powered by the track that picks it up, next
to its missile burning on: at one instant it looks like a salvo's next missile.  A new object called powered
within :data:`WAIT_RADIUS_M` of a placed one that is too, and not one object with it, waits (up to
:data:`WAIT_S`) until its track shows it coasting, and is then flown back.

:class:`LaunchBook` applies both online, as a node's fused picture grows: each system track is placed in
a launch once it is settled enough to judge, by comparing it with the launches' objects now and, for a
coasting one, with where they were (:data:`HISTORY_S` of their states, every :data:`HISTORY_STEP_S`).
The instantaneous test also groups a partner's track histories into launch events after the run
(:func:`mwx.assess.events.group_launches`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

from mwx.fuse import motion
from mwx.geo import wgs84

#: m per axis: how far a separated stage may be from its body when first seen.  With the χ²(6) 99.9 % gate
#: this admits ~15 km; 3 km admitted 20 km and took a depressed salvo's missiles, 10 s and 13.7 km apart in
#: the coast, for one (tests/test_warnings.py, the salvo).  Farther stages are found by flying them back.
SEPARATION_M = 2e3
SEPARATION_MPS = 30.0  # m/s per axis: a stage separates at a few m/s; drag parts them faster low down
DUPLICATE_M = 500.0  # m per axis: one object held twice (both under thrust)
DUPLICATE_MPS = 30.0
GATE = float(chi2.ppf(0.999, 6))
JUDGE_VELOCITY_SIGMA = 150.0  # m/s, rms per axis: a state looser than this cannot tell a salvo from one missile
HISTORY_S = 5400.0  # s of each placed object's states kept, to fly a new coasting object back to (an ICBM's flight)
HISTORY_STEP_S = 10.0  # s between the states kept
BACK_Q = 1e-4  # m²/s³: white acceleration of the flight back (the vacuum's; in the air it is the allowance's)
BACK_FLOOR_M = 40e3  # only an object coasting above this is flown back
DEBRIS_CEILING_M = 50e3  # an object first seen falling below this, far slower than its missile, is debris ...
DEBRIS_RADIUS_M = 500e3  # ... of the launch whose object is nearest, within this
#: m: a new object called powered this near a placed one that is too, and not one object with it, waits ...
WAIT_RADIUS_M = 30e3
#: s: ... this long at most for its tracks to show it coasting (then it is flown back), before it starts a
#: launch of its own.  A first stage just dropped is still called powered by its tracks for a while, and
#: 10–30 s after the separation its missile, burning on at 30–50 m/s², is 1–20 km and hundreds of m/s
#: ahead: at one instant it looks like a salvo's next missile; flown back it meets its own.
WAIT_S = 60.0


def _falling_low(s: Sighting) -> bool:
    """Descending below :data:`DEBRIS_CEILING_M`, not under thrust."""
    height = float(np.linalg.norm(s.x[:3])) - wgs84.A  # spherical height: plenty for 50 km
    return not s.boosting and height < DEBRIS_CEILING_M and float(s.x[:3] @ s.x[3:6]) < 0.0


def _nearest(s: Sighting, references: list[Sighting]) -> str | None:
    """The reference object nearest to ``s`` within :data:`DEBRIS_RADIUS_M`, or None."""
    found = [(float(np.linalg.norm(r.x[:3] - s.x[:3])), r.system_id) for r in references if r.system_id != s.system_id]
    near = [f for f in found if f[0] <= DEBRIS_RADIUS_M]
    return min(near)[1] if near else None


def _allowance(position_m: float, speed_mps: float) -> NDArray:
    return np.diag([position_m**2] * 3 + [speed_mps**2] * 3)


def separation_d2(xa: NDArray, pa: NDArray, xb: NDArray, pb: NDArray, *, powered: bool = False) -> float:
    """χ² distance of two ECEF states (6,) at one instant, with covariances (6, 6), under "one missile".

    ``powered``: both under thrust, so only one object seen twice qualifies.
    """
    allowance = _allowance(DUPLICATE_M, DUPLICATE_MPS) if powered else _allowance(SEPARATION_M, SEPARATION_MPS)
    d = np.asarray(xa, float)[:6] - np.asarray(xb, float)[:6]
    s = np.asarray(pa, float)[:6, :6] + np.asarray(pb, float)[:6, :6] + allowance
    return float(d @ np.linalg.solve(s, d))


def same_missile(xa: NDArray, pa: NDArray, xb: NDArray, pb: NDArray, *, powered: bool = False) -> bool:
    """Whether two states at one instant are objects of one missile (see the module doc)."""
    return separation_d2(xa, pa, xb, pb, powered=powered) <= GATE


def judgeable(p: NDArray) -> bool:
    """Whether a state's velocity is known well enough to tell a salvo's missiles apart."""
    return math.sqrt(max(float(np.trace(np.asarray(p)[3:6, 3:6])), 0.0) / 3.0) < JUDGE_VELOCITY_SIGMA


@dataclass
class Launch:
    """One launch in a node's picture: its id, its objects (system track ids) and when it was first seen."""

    id: str
    first_time: float
    systems: list[str] = field(default_factory=list)
    merged_into: str | None = None  # set when found to be another launch's objects after all


@dataclass
class Sighting:
    """A system track's state at an instant, for :meth:`LaunchBook.place`.

    ``live``: from fresh reports; otherwise a stale system's last state predicted to the instant,
    which can hold a launch's place (a coasting object lost for minutes is where its arc says) but
    is never placed itself.
    """

    system_id: str
    time: float
    x: NDArray  # (6,) ECEF [m, m/s]
    P: NDArray  # (6, 6)
    boosting: bool
    live: bool = True


class LaunchBook:
    """The launches of one node's fused picture (see the module doc).

    ``place`` is given the systems' states at each assessment; ``of`` says the launch of a system.
    Launch ids are ``{owner}-E{n:03d}``, never reused.
    """

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.launches: dict[str, Launch] = {}
        self._of: dict[str, str] = {}
        self._history: dict[str, list[Sighting]] = {}  # per placed system: its live states, oldest first
        self._waiting: dict[str, float] = {}  # systems not placed yet for a burning neighbour → since when
        self._next = 1

    def of(self, system_id: str) -> str | None:
        """The live launch of a system track (following merges), or None while it is not placed."""
        launch_id = self._of.get(system_id)
        return None if launch_id is None else self._live(launch_id)

    def _live(self, launch_id: str) -> str:
        while (into := self.launches[launch_id].merged_into) is not None:
            launch_id = into
        return launch_id

    def merged(self) -> dict[str, str]:
        """Launch id → the live launch it was merged into, for every merged launch."""
        return {k: self._live(k) for k, v in self.launches.items() if v.merged_into is not None}

    def join(self, system_id: str, into: str, time: float) -> None:
        """System ``system_id`` was found (by the fusion) to be system ``into``: their launches are one."""
        a, b = self.of(system_id), self.of(into)
        if a is None or b is None or a == b:
            if a is None and b is not None:
                self._add(system_id, b)
            return
        older, younger = sorted((self.launches[a], self.launches[b]), key=lambda launch: (launch.first_time, launch.id))
        younger.merged_into = older.id

    def place(self, time: float, sightings: list[Sighting]) -> None:
        """Place every live, judgeable, not yet placed system of ``sightings`` (states at ``time``) in a launch.

        Each is compared with the placed systems' states at the same instant (live ones, and lost ones
        predicted along their arcs); it joins the launch of the nearest that is :func:`same_missile`
        with it, else starts a launch.  Systems placed in one call can be each other's references:
        a body and the stage first seen with it.
        """
        references = [s for s in sightings if s.system_id in self._of]
        new = [s for s in sightings if s.live and s.system_id not in self._of and judgeable(s.P)]
        for s in sorted(new, key=lambda s: s.system_id):
            best, best_d2 = None, GATE
            for other in references:
                d2 = separation_d2(s.x, s.P, other.x, other.P, powered=s.boosting and other.boosting)
                if coasting_high(s.x, s.boosting):
                    d2 = min(d2, self._back_d2(s, other.system_id))
                if d2 <= best_d2:
                    best, best_d2 = other.system_id, d2
            if best is None and _falling_low(s):
                best = _nearest(s, references)
            if best is None and self._waits(s, references):
                continue
            if best is None:
                launch = Launch(f"{self.owner}-E{self._next:03d}", s.time)
                self._next += 1
                self.launches[launch.id] = launch
                self._add(s.system_id, launch.id)
            else:
                self._add(s.system_id, self._of[best])
            self._waiting.pop(s.system_id, None)  # placed: it waits no more
            references.append(s)
        for s in sightings:
            if s.live and s.system_id in self._of:
                kept = self._history.setdefault(s.system_id, [])
                if not kept or s.time - kept[-1].time >= HISTORY_STEP_S:
                    kept.append(s)
                while kept and s.time - kept[0].time > HISTORY_S:
                    kept.pop(0)

    def _waits(self, s: Sighting, references: list[Sighting]) -> bool:
        """Whether ``s``, not one missile with any placed object now, waits before starting a launch: called
        powered within :data:`WAIT_RADIUS_M` of a placed object called powered too, for :data:`WAIT_S` at
        most (see there: a stage just dropped, until its tracks show it coasting and it can be flown back)."""
        near = any(
            r.live and r.boosting and float(np.linalg.norm(r.x[:3] - s.x[:3])) < WAIT_RADIUS_M for r in references
        )
        if not (s.boosting and near):
            return False
        since = self._waiting.setdefault(s.system_id, s.time)
        return s.time - since < WAIT_S

    def _back_d2(self, s: Sighting, system_id: str) -> float:
        """The least χ² distance of coasting ``s``, flown back, to the kept states of a placed system."""
        kept = self._history.get(system_id, [])
        times = np.array([k.time for k in kept])
        return flown_back_d2(s.x, s.P, s.time, times, np.array([k.x for k in kept]), np.array([k.P for k in kept]))

    def _add(self, system_id: str, launch_id: str) -> None:
        self._of[system_id] = launch_id
        self.launches[launch_id].systems.append(system_id)


def flown_back_d2(x: NDArray, p: NDArray, time: float, times: NDArray, xs: NDArray, ps: NDArray) -> float:
    """The least χ² distance (:func:`separation_d2`) of a coasting state ``x`` (6,), ``p`` at ``time``, flown
    back ballistically to each earlier instant ``times`` (k,), to another object's states there (k, 6), (k, 6, 6).

    Inf without earlier states.  See the module doc: where a separated object came from.
    """
    earlier = np.flatnonzero(times <= time)
    if earlier.size == 0:
        return math.inf
    k = earlier.size
    x6, p6 = np.asarray(x, float)[None, :6], np.asarray(p, float)[None, :6, :6]
    back, back_p = motion.predict(np.repeat(x6, k, 0), np.repeat(p6, k, 0), times[earlier] - time, q=BACK_Q)
    return min(separation_d2(bx, bp, xs[i], ps[i]) for bx, bp, i in zip(back, back_p, earlier, strict=True))


def coasting_high(x: NDArray, boosting: bool) -> bool:
    """Coasting above :data:`BACK_FLOOR_M`: high enough that its arc can be flown back (a missile still
    burning low down may be taken for coasting by a radar track that has not seen it accelerate)."""
    return not boosting and float(np.linalg.norm(np.asarray(x)[:3])) - wgs84.A > BACK_FLOOR_M
