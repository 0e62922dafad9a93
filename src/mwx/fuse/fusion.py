"""Track-to-track fusion of own and received track reports into system tracks.

Every partner's tracker follows each object with its own radars and publishes confirmed tracks as
:class:`~mwx.exchange.messages.TrackReport` (ECEF state and covariance).  A :class:`FusionCenter` —
one per partner node, and the exchange's ``fused`` observer — groups the tracks of one object into a
:class:`SystemTrack` and fuses their latest states.

Fusion (:meth:`FusionCenter.fused_state`)
    The members fresh at the requested time (reported within ``stale_s``) are brought to it by the
    ballistic predictor (:mod:`mwx.fuse.motion`).  What errs in a member's state is of two kinds:

    * what its covariance P describes — measurement noise and the tracker's process noise.  Different
      partners' errors of this kind are correlated by an unknown amount: not through shared
      measurements (each tracker uses its own radars, nothing fused flows back into them) but through
      the object's common process noise (every tracker lags the same thrust change, the same drag);
      a partner's duplicate tracks of one object share its measurements outright;
    * what it does not — above all the registration biases of its radars, 100–300 m at 1000 km, which
      make partners' tracks of one object disagree far beyond their covariances (their NEES runs at
      15–100 in the default theater).  These are independent from one partner to the next;
      :mod:`mwx.fuse.registration` learns their size U per partner from how associated tracks
      disagree, and takes out gross offsets (a partner 2 km off).

    A partner's several tracks of one object are first intersected (CI) among themselves: they share
    its radars and its bias.  The partners' estimates are then combined with the information weights
    of their reported covariances — which is what tells a radar track from an infrared one, and a
    track's precise range from its loose cross-range — a partner counting less only where its learned
    error exceeds an ordinary registration error.  The fused covariance is a bound on the error of that
    combination that holds for any correlation of the P parts and independent U parts
    (:func:`mwx.fuse.intersection.bounded_fusion`: Σ W U Wᵀ + min_ω Σ W P Wᵀ/ω, the bound behind
    covariance intersection), scaled up by the Birge ratio (:func:`birge_ratio`) when the partners
    disagree more than P + U allow.  So the estimate is as good as the reported covariances allow and
    the covariance is conservative.  ``method`` selects an alternative, all measured by
    ``benchmarks/fusion_gain.py`` on the default theater (5 seeds): ``"split"`` — split CI (Julier &
    Uhlmann 2001), which fits its weights to the bound and so to the noisy learned U: fused RMSE
    20–40 % higher, above the best partner's in coast; ``"ci"`` (Julier & Uhlmann 1997) and ``"ici"``
    (Noack et al. 2017) over P + U, which treat the independent biases as possibly correlated too and
    give up their averaging: fused RMSE above the best partner's in coast and re-entry;
    ``"independent"``, the information combination over P + U as if all were independent: above the
    best partner's in coast, and optimistic without the learned U.

What partners report apart
    A partner's tracker estimates its radars' registration biases (:mod:`mwx.track.registration`) and
    reports the part of its covariance that its own errors make — its sensors' noise and what is still
    unknown of their registration — apart from the part its motion model's errors make
    (``TrackReport.independent_covariance``, :class:`mwx.track.tracker.Modes`).  The own part is
    independent from partner to partner — each partner's sensors are its own — so the fusion counts it
    with the learned U (independent errors, which average out), and only the model's part as possibly
    correlated (every tracker of one object errs alike about its thrust or its drag).  A report without
    it is taken as wholly correlated (safe).  The trackers also carry what closely spaced objects do to
    their tracks (echoes that one radar cannot resolve, a track that followed the stage handing over to
    the body: :mod:`mwx.track.tracker`), so the fusion no longer adds an allowance of its own for them.

Allowance (:meth:`FusionCenter._allowances`)
    An error a partner's tracker cannot report, because it does not know it makes it, but which the
    other members show.  Measured on the default theater (``benchmarks/fusion_gain.py``): without it the
    fused NEES was above its 95 % bound in 11 % of the boost bins.

    * *Missed thrust.*  A track that calls burnout while another member of its system, powered since
      before, still says the motor burns, flies its state without the thrust: its velocity error grows
      by the acceleration each second (seed 3 of the default theater: an infrared track 120 m/s off
      after 6 s, claiming 9 m/s).  It is allowed an unknown acceleration of :data:`THRUST_SIGMA` per axis
      from its call to the last time its object was seen powered, and the velocity error so gained
      since.  The allowance is a dependent error (it counts in the weights) and holds in association,
      so the track stays where it is instead of founding a lone system that claims 50 m while
      kilometres off; it ends when another partner agrees the flight is ballistic.  A new track's first
      guess of "powered" contradicts no one.

Association (χ²(6) at ``gate_probability`` on position and velocity; covariances P + U on both sides and a
small floor :data:`GATE_FLOOR`)
    * A report of a (sender, track) already in a system updates that member: persistence.
    * A (sender, track) not in a system — new, superseded and back, or moved out — is associated with
      the systems by 2-D assignment (:func:`scipy.optimize.linear_sum_assignment` of χ² costs, with one
      "new system" column per track at the gate value; :meth:`FusionCenter.ingest_many` assigns one
      sender's new tracks together).  A system is no candidate while it holds a *live* track of the same
      sender (updated within ``live_s``) that the new one is distinguishable from (same tracker, same
      registration: no floor between them) — the re-entry body and the stage it left, a few hundred
      metres apart, closer than the partners' registration errors.  One it cannot be told from is a
      duplicate (an infrared and a radar track of one booster the tracker has not merged yet) and joins.
      Joining supersedes the sender's tracks there that are no longer live: a partner's re-initiated
      track keeps the system's number.
    * Every ``review_interval_s`` the systems near one another (:data:`NEAR_M`) are reviewed.  Per
      sender, its live tracks — in units of duplicates — are assigned again to the systems (2-D
      assignment; cost: χ² against the fusion of the system's *other* partners, "alone" at the gate
      value).  Two tracks the sender has reported side by side for :data:`RESOLVED_S` are never
      duplicates, whatever their covariances (:func:`_kept_apart`): its tracker folds duplicates itself,
      and the covariances of a body and its stage hold the registration errors common to both.  The
      present assignment gets a bonus of ``stay_bonus``, and another is applied only once
      ``confirm_reviews`` reviews in a row propose it: hysteresis, so that the tracks of crossing objects
      or of partners disagreeing for a moment do not flicker between systems, while a track that follows
      another object (identities swapped at a separation or a crossing) or diverges does move.  A system
      left empty is retired into the one that took its last track; two systems that no sender holds live
      tracks in both and that agree for ``confirm_reviews`` reviews are merged into the older.  System
      numbers are never reused.  Nor does a merge or a sender's new track in a system drop a track the
      sender kept apart from one of the other's (a body it sees only now and then beside its stage).

Staleness
    Members older than ``stale_s`` at the requested time are left out of the fused state; a system with
    none fresh is stale (:meth:`FusionCenter.is_stale`), and its fused state is that of its latest
    members, predicted.

Ingestion is deterministic: the same reports in the same order give the same systems and states.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.stats import chi2

from mwx.exchange.messages import TrackReport
from mwx.fuse import motion
from mwx.fuse.intersection import (
    bounded_fusion,
    covariance_intersection,
    information_fusion,
    inverse_covariance_intersection,
    split_covariance_intersection,
)
from mwx.fuse.registration import PartnerErrors

Method = Literal["bounded", "split", "ci", "ici", "independent"]
GATE_PROBABILITY = 0.999
GATE_6 = float(chi2.ppf(GATE_PROBABILITY, 6))
# Spread always allowed between two tracks of one object beyond P + U [m, m/s per axis]: the prediction
# to a common time and what the learned statistics have not caught up with yet.
GATE_FLOOR = np.diag([50.0**2] * 3 + [1.0**2] * 3)
#: The longest span [s] over which the fusion centre moves a member's state (either way): it brings members
#: to times within ``stale_s`` of their reports (a stale system's, to its own last time), and a receiver
#: refuses a track measured long before or after its sending (``exchange/envelope.py``
#: ``TRACK_TIME_BEHIND_S``, ``TRACK_TIME_AHEAD_S``); a prediction costs in proportion to its span.
HORIZON_S = 900.0
RESOLVED_S = 10.0  # s: a sender's two tracks reported side by side this long are two objects (``_kept_apart``)
NEAR_M = 50e3  # systems closer than this (straight-line extrapolation) are reviewed together
REGISTRATION_WINDOW_M = 5e3  # tracks of systems sharing no live sender within this teach registration
# Allowances for what a partner's covariance cannot know (see "Allowances" in the module doc):
THRUST_SIGMA = 20.0  # m/s² per axis: the thrust a track that has stopped modelling it misses (2–4 g in all)
_NO = 1e12  # cost of a forbidden pairing in an assignment
_ACROSS = {"ci": covariance_intersection, "ici": inverse_covariance_intersection, "independent": information_fusion}


def regime(boosting: bool) -> str:
    """Key of the learned error statistics: powered and ballistic flight err differently."""
    return "boost" if boosting else "ballistic"


@dataclass
class Member:
    """The latest state of one partner's track in a system."""

    sender: str
    track_id: str
    time: float  # Unix s
    x: NDArray  # (6,) ECEF [m, m/s]
    P: NDArray  # (6, 6)
    first_detection: float
    boosting: bool = False
    accel: NDArray = field(default_factory=lambda: np.zeros(3))  # unmodelled acceleration [m/s²]
    accel_var: float = motion.FIRST_ACCEL_SIGMA**2  # its variance per axis [(m/s²)²]
    regime_since: float = math.nan  # Unix s: since when its reports agree with this one's ``boosting`` (or before)
    contradicted: bool = False  # it turned ballistic where another member still says powered (see FusionCenter._mark)
    powered_until: float = math.nan  # Unix s: the last review that found it contradicted
    P_independent: NDArray = field(default_factory=lambda: np.zeros((6, 6)))  # the part of P its sender's own
    # errors make (sensor noise, registration): independent of other partners' (zero: not reported)
    split_reported: bool = False  # its sender reported P_independent (and so estimates its registration)
    reported_since: float = math.nan  # Unix s: its sender's first report of this track

    @property
    def key(self) -> tuple[str, str]:
        return self.sender, self.track_id


@dataclass
class SystemTrack:
    """One object in the fused picture."""

    id: str
    members: dict[tuple[str, str], Member] = field(default_factory=dict)
    created: float = math.nan
    merged_into: str | None = None  # set when retired into another system (its members then frozen here)
    version: int = 0  # bumped at every change of its members

    @property
    def first_detection(self) -> float:
        return min(m.first_detection for m in self.members.values())

    @property
    def last_time(self) -> float:
        return max(m.time for m in self.members.values())


class AtTime(NamedTuple):
    """Members brought to one time; row i is ``members[i]``."""

    members: list[Member]
    x: NDArray  # (k, 6) predicted, learned offsets taken out
    P: NDArray  # (k, 6, 6) predicted covariance as reported
    U: NDArray  # (k, 6, 6) learned unmodelled error
    A: NDArray  # (k, 6, 6) allowance for missed thrust (:meth:`FusionCenter._allowances`)
    own: NDArray  # (k, 6, 6) the part of P its sender's own errors make, carried to the time (independent)
    reported: NDArray  # (k, 6) predicted, as reported
    regimes: list[str]  # of the learned errors, per member


def predict(x: NDArray, p: NDArray, dt: float, q: float = motion.Q_WHITE) -> tuple[NDArray, NDArray]:
    """One state (6,) and covariance (6, 6) moved by ``dt`` seconds with the ballistic model."""
    xs, ps = motion.predict(x[None], p[None], np.array([dt]), q=q)
    return xs[0], ps[0]


def combine(
    states: list[tuple[NDArray, NDArray]], method: Literal["ci", "ici", "independent"] = "ci"
) -> tuple[NDArray, NDArray]:
    """Fuse estimates (x (6,), P (6, 6)) of one state at one time by CI, ICI or the independent combination."""
    if len(states) == 1:
        return states[0]
    fx, fP, _ = _ACROSS[method](np.array([s[0] for s in states]), np.array([s[1] for s in states]))
    return fx, fP


def birge_ratio(xs: NDArray, ps: NDArray, x: NDArray) -> float:
    """max(1, χ²/ν) of estimates xs (k, d) with covariances ps about their fused value x, ν = d (k − 1).

    Estimates that disagree more than their covariances allow share an error none of them reports;
    scaling the fused covariance by this ratio keeps it honest (Birge, Phys. Rev. 40, 1932; the Particle
    Data Group's scale factor S², Navas et al., Phys. Rev. D 110, 2024, §5.2.2).
    """
    if len(xs) < 2:
        return 1.0
    d = xs - x
    value = float(np.einsum("ki,ki->", d, np.linalg.solve(ps, d[..., None])[..., 0]))
    return max(1.0, value / (d.shape[1] * (len(xs) - 1)))


def chi2_distance(xa: NDArray, pa: NDArray, xb: NDArray, pb: NDArray, floor: NDArray = GATE_FLOOR) -> float:
    """(xa − xb)ᵀ (Pa + Pb + floor)⁻¹ (xa − xb): χ²(6) under the hypothesis of one object."""
    d = xa - xb
    return float(d @ np.linalg.solve(pa + pb + floor, d))


class FusionCenter:
    """The fused picture kept by one node (or by the exchange observer).

    ``method``: how the partners' estimates are fused (see the module doc); ``learn_errors``: learn and
    use the partners' unmodelled errors (:attr:`errors`).  The other arguments tune the association.
    """

    def __init__(
        self,
        owner: str,
        *,
        stale_s: float = 15.0,
        method: Method = "bounded",
        learn_errors: bool = True,
        gate_probability: float = GATE_PROBABILITY,
        live_s: float = 5.0,
        review_interval_s: float = 3.0,
        stay_bonus: float = 6.0,
        confirm_reviews: int = 2,
    ) -> None:
        self.owner = owner
        self.stale_s = stale_s
        self.method: Method = method
        self.learn_errors = learn_errors
        self.gate = float(chi2.ppf(gate_probability, 6))
        self.live_s = live_s
        self.review_interval_s = review_interval_s
        self.stay_bonus = stay_bonus
        self.confirm_reviews = confirm_reviews
        self.systems: dict[str, SystemTrack] = {}
        self.errors = PartnerErrors()
        self._member_of: dict[tuple[str, str], str] = {}
        self._next = 1
        self._next_review = -math.inf
        self._proposals: dict[object, tuple[object, int]] = {}
        self._cache: dict[str, tuple[tuple[int, int, float], NDArray, NDArray]] = {}

    # ------------------------------------------------------------------------------------------- ingest
    def ingest(self, report: TrackReport) -> SystemTrack:
        """Take one report; return the system track it now belongs to."""
        return self.ingest_many([report])[0]

    def ingest_many(self, reports: list[TrackReport]) -> list[SystemTrack]:
        """Take reports in order (one scan's, say); the new tracks of one sender are assigned jointly."""
        out: list[SystemTrack | None] = [None] * len(reports)
        newcomers: dict[str, list[tuple[int, Member]]] = {}
        latest = -math.inf
        for i, report in enumerate(reports):
            member = _member(report)
            latest = max(latest, member.time)
            system = self._system_holding(member.key)
            if system is None:
                newcomers.setdefault(member.sender, []).append((i, member))
                continue
            out[i] = system
            old = system.members[member.key]
            if member.time >= old.time:  # an out-of-order report leaves the newer state standing
                member.first_detection = min(member.first_detection, old.first_detection)
                member.reported_since = old.reported_since
                member.accel, member.accel_var = motion.unmodelled_acceleration(
                    old.x, old.P, old.time, old.accel, old.accel_var, member.x, member.P, member.time, member.boosting
                )
                if member.boosting == old.boosting:
                    member.regime_since = old.regime_since
                    member.contradicted, member.powered_until = old.contradicted, old.powered_until
                else:
                    member.regime_since = old.time  # it changed its mind after its last report, at the latest
                system.members[member.key] = member
                self._contradict(system, member.time)
                system.version += 1
        for items in newcomers.values():
            for (i, _), system_id in zip(items, self._associate([m for _, m in items]), strict=True):
                out[i] = self.systems[system_id]
        if latest >= self._next_review:
            self._next_review = latest + self.review_interval_s
            self._review(latest)
            # The review may have moved a track: answer with the system that holds it now.
            for i, report in enumerate(reports):
                out[i] = self._system_holding((report.sender, report.track_id)) or out[i]
        return out  # type: ignore[return-value]

    def _system_holding(self, key: tuple[str, str]) -> SystemTrack | None:
        """The system in which ``key`` is an active member, if any."""
        system_id = self._member_of.get(key)
        if system_id is None:
            return None
        system = self.systems[system_id]
        return system if system.merged_into is None and key in system.members else None

    # ------------------------------------------------------------------------------------------ fusion
    def _at(self, members: list[Member], time: float, powered: list[bool] | None = None) -> AtTime:
        """``members`` brought to ``time``, with their learned corrections.

        ``powered``: per member, whether its object is under thrust — any member of its system says so
        (default: each member's own judgement).  The regime of the learned errors is the object's: a
        tracker that takes a booster for ballistic errs as trackers err in boost, and more.
        """
        dt = np.array([time - m.time for m in members])
        if not np.all(np.abs(dt) <= HORIZON_S):
            span = float(np.max(np.abs(dt)))
            raise ValueError(f"fusion horizon: a member moved by {span:.3g} s, over {HORIZON_S:g} s")
        powered = [m.boosting for m in members] if powered is None else powered
        xs, ps = motion.predict(
            np.array([m.x for m in members]),
            np.array([m.P for m in members]),
            dt,
            np.array([m.accel for m in members]),
            np.array([m.accel_var for m in members]),
            np.array([motion.white_psd(m.x, b) for m, b in zip(members, powered, strict=True)]),
        )
        own = motion.carry(np.array([m.x for m in members]), np.array([m.P_independent for m in members]), dt)
        regimes = [regime(b) for b in powered]
        thrust = self._allowances(members, time)
        if not self.learn_errors:
            return AtTime(members, xs, ps, np.zeros_like(ps), thrust, own, xs, regimes)
        found = [self.errors.correction(m.sender, r) for m, r in zip(members, regimes, strict=True)]
        shift = np.array([f[0] for f in found])
        # A member whose sender reports the split of its covariance carries its registration errors in it:
        # it is taken at its word (the offsets still come out); one that does not is inflated by U.
        inflation = np.array(
            [np.zeros((6, 6)) if m.split_reported else f[1] for m, f in zip(members, found, strict=True)]
        )
        return AtTime(members, xs - shift, ps, inflation, thrust, own, xs, regimes)

    @staticmethod
    def _allowances(members: list[Member], time: float) -> NDArray:
        """Per member (k, 6, 6): the error its reported covariance leaves out, by what the others show.

        Missed thrust: a contradicted member (:meth:`_mark`) has flown its state without the thrust from
        when it turned ballistic to the last review that still found its object powered, τ: an unknown
        acceleration of :data:`THRUST_SIGMA` per axis over τ, its velocity error carried on since, Δt.
        """
        thrust = np.zeros((len(members), 6, 6))
        for k, m in enumerate(members):
            if m.contradicted and not m.boosting:
                end = min(m.powered_until, time)
                tau, after = max(end - m.regime_since, 0.0), time - end
                r, v = THRUST_SIGMA * (0.5 * tau * tau + tau * after), THRUST_SIGMA * tau
                thrust[k] = np.kron(np.array([[r * r, r * v], [r * v, v * v]]), np.eye(3))
        return thrust

    def _fuse(self, at: AtTime, rows: list[int] | None = None) -> tuple[NDArray, NDArray]:
        """The fused state and covariance of the rows ``rows`` (all by default) of ``at``.

        Per partner, the part of its covariance its own errors make (``at.own``) counts as independent,
        with the learned U; the rest (and the missed-thrust allowance) as possibly correlated.
        """
        rows = list(range(len(at.members))) if rows is None else rows
        by_sender: dict[str, list[int]] = {}
        for i in rows:
            by_sender.setdefault(at.members[i].sender, []).append(i)
        # One estimate per partner: its duplicate tracks share its radars and its bias, so intersect them
        # (and count all of the intersection as possibly correlated with the other partners').
        xs, ps, us, rs = [], [], [], []
        for idx in by_sender.values():
            p_all = at.P[idx] + at.A[idx]
            if len(idx) == 1:
                x, p, r = at.x[idx[0]], p_all[0], at.own[idx[0]]
            else:
                (x, p), r = covariance_intersection(at.x[idx], p_all)[:2], np.zeros((6, 6))
            xs.append(x)
            ps.append(p)
            us.append(at.U[idx[0]])
            rs.append(r)
        if len(xs) == 1:
            return xs[0], ps[0] + us[0]
        xa, pa, ua, ra = np.array(xs), np.array(ps), np.array(us), np.array(rs)
        if self.method == "bounded":
            fx, fp, _ = bounded_fusion(xa, pa - ra, ua + ra, pa + self._weight_excess(at, by_sender))
        elif self.method == "split":
            fx, fp, _ = split_covariance_intersection(xa, pa - ra, ua + ra)
        else:
            fx, fp, _ = _ACROSS[self.method](xa, pa + ua)
        return fx, fp * birge_ratio(xa, pa + ua, fx)

    def _weight_excess(self, at: AtTime, by_sender: dict[str, list[int]]) -> NDArray:
        """Per sender, the part of its learned error beyond an ordinary registration error (the regime's
        prior σ per axis): only that counts against its weight."""
        out = []
        for idx in by_sender.values():
            prior = self.errors.allowance(at.regimes[idx[0]]).prior
            u = np.diag(at.U[idx[0]])
            out.append(np.diag(np.maximum(u - np.repeat(prior, 3), 0.0)))
        return np.array(out)

    def _fresh(self, system: SystemTrack, time: float) -> list[Member]:
        return [m for m in system.members.values() if abs(time - m.time) <= self.stale_s]

    def fused_state(self, system: SystemTrack, time: float) -> tuple[NDArray, NDArray]:
        """The fused state (6,) and covariance (6, 6) of ``system`` at ``time`` (Unix s), ECEF [m, m/s].

        From the members fresh at ``time``; for a stale system, from its latest members, predicted.
        """
        key = (system.version, self.errors.revision, time)
        cached = self._cache.get(system.id)
        if cached is not None and cached[0] == key:
            return cached[1].copy(), cached[2].copy()
        members = self._fresh(system, time)
        if not members:
            latest = system.last_time
            members = [m for m in system.members.values() if latest - m.time <= self.stale_s]
        x, p = self._fuse(self._at(members, time, [any(m.boosting for m in members)] * len(members)))
        self._cache[system.id] = (key, x, p)
        return x.copy(), p.copy()

    def is_stale(self, system: SystemTrack, time: float) -> bool:
        """True when no member of ``system`` is fresh at ``time`` (or it was retired into another)."""
        return system.merged_into is not None or not self._fresh(system, time)

    def boosting(self, system: SystemTrack) -> bool:
        """True when any fresh member judges the object under thrust."""
        latest = system.last_time
        return any(m.boosting for m in system.members.values() if latest - m.time <= self.stale_s)

    def system_of(self, sender: str, track_id: str) -> str | None:
        return self._member_of.get((sender, track_id))

    # ------------------------------------------------------------------------------------- association
    def _associate(self, members: list[Member]) -> list[str]:
        """System ids for one sender's tracks not in a system: 2-D assignment, or new systems."""
        sender = members[0].sender
        candidates = [s for s in self.systems.values() if s.merged_into is None]
        keys = {m.key for m in members}
        cost = np.full((len(members), len(candidates) + len(members)), _NO)
        cost[:, len(candidates) :][np.diag_indices(len(members))] = self.gate
        for r, member in enumerate(members):
            new = self._at([member], member.time)
            for c, system in enumerate(candidates):
                fresh = [m for m in self._fresh(system, member.time) if m.key not in keys]
                if not fresh or min(_gap(m, member) for m in fresh) > NEAR_M:
                    continue
                at = self._at(fresh, member.time, [any(m.boosting for m in fresh)] * len(fresh))
                own = [i for i, m in enumerate(fresh) if m.sender == sender]
                if any(
                    abs(member.time - fresh[i].time) <= self.live_s
                    and chi2_distance(new.reported[0], new.P[0], at.reported[i], at.P[i]) > self.gate
                    for i in own
                ):
                    continue  # its tracker holds a live track there it tells apart from this one: two objects
                x, p = self._fuse(at, [i for i, m in enumerate(fresh) if m.sender != sender] or own)
                d2 = chi2_distance(new.x[0], new.P[0] + new.U[0] + new.A[0], x, p)
                if d2 <= self.gate:
                    cost[r, c] = d2
        rows, cols = linear_sum_assignment(cost)
        ids = [""] * len(members)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            if c < len(candidates) and cost[r, c] < _NO:
                ids[r] = self._join(candidates[c], [members[r]], members[r].time)
            else:
                ids[r] = self._join(self._new_system(members[r].time), [members[r]], members[r].time)
        return ids

    def _join(self, system: SystemTrack, members: list[Member], time: float) -> str:
        """Put ``members`` into ``system``; their senders' tracks there that are no longer live leave, but for
        those kept apart from them (:func:`_kept_apart`: another object, between two of its reports)."""
        senders = {m.sender for m in members}
        for key in [
            k
            for k, m in system.members.items()
            if m.sender in senders and time - m.time > self.live_s and not any(_kept_apart(m, new) for new in members)
        ]:
            del system.members[key]  # superseded: the sender's re-initiated track takes its place
        for member in members:
            system.members[member.key] = member
            self._member_of[member.key] = system.id
        self._contradict(system, time)
        system.version += 1
        return system.id

    def _new_system(self, time: float) -> SystemTrack:
        system_id = f"{self.owner}-F{self._next:04d}"
        self._next += 1
        self.systems[system_id] = SystemTrack(system_id, created=time)
        return self.systems[system_id]

    def _leave(self, system: SystemTrack, member: Member, into: str) -> None:
        """Take ``member`` out of ``system``; a system so emptied is retired into system ``into``."""
        if len(system.members) == 1:
            self._retire(system, into)
        else:
            del system.members[member.key]
            system.version += 1

    def _retire(self, system: SystemTrack, into: str) -> None:
        """Retire ``system`` into ``into``: its members stay as they are (frozen), its keys point there."""
        system.members = dict(system.members)
        system.merged_into = into
        system.version += 1
        for key, system_id in self._member_of.items():
            if system_id == system.id:
                self._member_of[key] = into

    # ------------------------------------------------------------------------------------------ review
    def _review(self, time: float) -> None:
        """Re-examine the association of the live tracks of systems near one another (see the module doc)."""
        active = [s for s in self.systems.values() if s.merged_into is None and self._fresh(s, time)]
        for cluster in _clusters(active, time):
            fresh = [self._fresh(s, time) for s in cluster]
            powered = [any(m.boosting for m in f) for f in fresh for _ in f]
            at = self._at([m for f in fresh for m in f], time, powered)
            if self._mark(cluster, fresh, time):
                at = self._at(at.members, time, powered)
            if self.learn_errors:
                self._learn(cluster, at, time)
            if len(cluster) == 1 and len({m.sender for m in at.members}) == len(at.members):
                continue  # one system, one track per sender: nothing to reassign
            for sender in sorted({m.sender for m in at.members if time - m.time <= self.live_s}):
                self._reassign(sender, [s for s in cluster if s.merged_into is None], at, time)
            self._merge_agreeing([s for s in cluster if s.merged_into is None], at, time)

    def _contradict(self, system: SystemTrack, time: float) -> None:
        """Set the ``contradicted`` flags of the ballistic members of ``system`` fresh at ``time`` (:meth:`_mark`)."""
        members = self._fresh(system, time)
        for m in members:
            if m.boosting:
                continue
            others = [o for o in members if o is not m]
            if any(o.boosting and o.regime_since < m.regime_since for o in others):
                m.contradicted, m.powered_until = True, time
            elif any(o.sender != m.sender for o in others) and not any(o.boosting for o in others):
                m.contradicted = False

    def _mark(self, cluster: list[SystemTrack], fresh: list[list[Member]], time: float) -> bool:
        """Set the members' flags behind their allowances (:meth:`_allowances`); True if any changed.

        A ballistic member is contradicted while another member of its system has said powered since
        before it turned ballistic — the disagreement began with its call of burnout, not with a new
        track's first guess — and stays so, its allowance growing no more, until another partner's member
        there says ballistic with none saying powered: so a track that stopped modelling thrust too early
        keeps its allowance when it drifts out of its system.
        """
        before = [[m.contradicted for m in members] for members in fresh]
        for system in cluster:
            self._contradict(system, time)
        changed = False
        for system, members, flags in zip(cluster, fresh, before, strict=True):
            if any(was != m.contradicted for m, was in zip(members, flags, strict=True)):
                system.version += 1
                changed = True
        return changed

    def _learn(self, cluster: list[SystemTrack], at: AtTime, time: float) -> None:
        """Feed the registration statistics with pairs of live tracks of two partners thought one object:
        in one system, or in two systems no sender holds live tracks in both, within
        :data:`REGISTRATION_WINDOW_M` (a partner too far off to be associated yet)."""
        holder = {m.key: s.id for s in cluster for m in s.members.values()}
        live = [i for i, m in enumerate(at.members) if time - m.time <= self.live_s]
        senders: dict[str, set[str]] = {}
        for i in live:
            senders.setdefault(holder[at.members[i].key], set()).add(at.members[i].sender)
        for n, i in enumerate(live):
            for j in live[n + 1 :]:
                a, b = at.members[i], at.members[j]
                if a.sender == b.sender:
                    continue
                ha, hb = holder[a.key], holder[b.key]
                d = at.reported[i] - at.reported[j]
                if ha == hb or (
                    not senders[ha] & senders[hb] and float(np.linalg.norm(d[:3])) <= REGISTRATION_WINDOW_M
                ):
                    kind = regime("boost" in (at.regimes[i], at.regimes[j]))
                    self.errors.observe(a.sender, b.sender, time, d, at.P[i] + at.P[j] + at.A[i] + at.A[j], kind)

    def _reassign(self, sender: str, systems: list[SystemTrack], at: AtTime, time: float) -> None:
        """``sender``'s live tracks, in units of duplicates, assigned again to ``systems`` (with hysteresis)."""
        row = {m.key: i for i, m in enumerate(at.members)}
        holder = {m.key: s for s in systems for m in s.members.values() if m.sender == sender}
        live = [k for k in holder if k in row and time - holder[k].members[k].time <= self.live_s]
        if not live:
            return
        units = _duplicates([row[k] for k in live], at, self.gate)
        order = {s.id: n for n, s in enumerate(self.systems.values())}
        cost = np.full((len(units), len(systems) + len(units)), _NO)
        cost[:, len(systems) :][np.diag_indices(len(units))] = self.gate  # alone
        current = []
        for u, unit in enumerate(units):
            ux, up = self._fuse(at, list(unit))
            here = [holder[at.members[i].key].id for i in unit]
            current.append(min(set(here), key=lambda sid: (-here.count(sid), order[sid])))
            for c, system in enumerate(systems):
                others = [row[k] for k, m in system.members.items() if m.sender != sender and k in row]
                if others:
                    x, p = self._fuse(at, others)
                    d2 = chi2_distance(ux, up, x, p)
                    if d2 <= self.gate:
                        cost[u, c] = d2
                elif system.id == current[u]:
                    cost[u, c] = self.gate  # alone where it is: as good as alone anywhere
                if system.id == current[u] and cost[u, c] < _NO:
                    cost[u, c] -= self.stay_bonus
        target: list[str | None] = [None] * len(units)
        rows, cols = linear_sum_assignment(cost)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            target[r] = systems[c].id if c < len(systems) and cost[r, c] < _NO else None
        moves = tuple(
            (tuple(at.members[i].key for i in unit), target[u])
            for u, unit in enumerate(units)
            if target[u] is None or any(holder[at.members[i].key].id != target[u] for i in unit)
        )
        if not self._confirmed(sender, moves):
            return
        for keys, system_id in moves:
            moving = [holder[k].members[k] for k in keys]
            if system_id is None:
                system_id = self._new_system(time).id
                systems.append(self.systems[system_id])
            for member in moving:
                if holder[member.key].id != system_id:
                    self._leave(holder[member.key], member, system_id)
            self._join(self.systems[system_id], moving, time)

    def _confirmed(self, key: object, proposal: tuple) -> bool:
        """Whether ``proposal`` (non-empty) has now been made ``confirm_reviews`` reviews in a row under ``key``."""
        if not proposal:
            self._proposals.pop(key, None)
            return False
        seen, count = self._proposals.get(key, (None, 0))
        count = count + 1 if seen == proposal else 1
        if count < self.confirm_reviews:
            self._proposals[key] = (proposal, count)
            return False
        self._proposals.pop(key, None)
        return True

    def _merge_agreeing(self, systems: list[SystemTrack], at: AtTime, time: float) -> None:
        """Merge, into the older, pairs of systems whose states agree and no sender holds live tracks in both
        or has kept apart tracks of both (:func:`_kept_apart`)."""
        row = {m.key: i for i, m in enumerate(at.members)}
        for n, a in enumerate(systems):
            for b in systems[n + 1 :]:
                if a.merged_into is not None or b.merged_into is not None:
                    continue
                live_a = {m.sender for m in a.members.values() if time - m.time <= self.live_s}
                live_b = {m.sender for m in b.members.values() if time - m.time <= self.live_s}
                ia, ib = [row[k] for k in a.members if k in row], [row[k] for k in b.members if k in row]
                agree = (
                    bool(ia and ib)
                    and not live_a & live_b
                    and not any(_kept_apart(ma, mb) for ma in a.members.values() for mb in b.members.values())
                )
                if agree:
                    (xa, pa), (xb, pb) = self._fuse(at, ia), self._fuse(at, ib)
                    agree = chi2_distance(xa, pa, xb, pb) <= self.gate
                if self._confirmed(("merge", a.id, b.id), ("merge",) if agree else ()):
                    self._join(a, list(b.members.values()), time)
                    self._retire(b, a.id)


def _member(report: TrackReport) -> Member:
    return Member(
        report.sender,
        report.track_id,
        report.time,
        np.asarray(report.state, float),
        np.asarray(report.covariance, float).reshape(6, 6),
        report.first_detection,
        report.boosting,
        regime_since=report.time,
        reported_since=report.time,
        P_independent=(
            np.zeros((6, 6))
            if report.independent_covariance is None
            else np.asarray(report.independent_covariance, float).reshape(6, 6)
        ),
        split_reported=report.independent_covariance is not None,
    )


def _gap(a: Member, b: Member) -> float:
    """Distance [m] between two members' positions, the older carried along its velocity to the newer's time."""
    if a.time > b.time:
        a, b = b, a
    return float(np.linalg.norm(a.x[:3] + (b.time - a.time) * a.x[3:] - b.x[:3]))


def _clusters(systems: list[SystemTrack], time: float) -> list[list[SystemTrack]]:
    """Systems grouped by single linkage at :data:`NEAR_M`, each placed by its latest member carried to ``time``."""
    if not systems:
        return []
    latest = [max(s.members.values(), key=lambda m: m.time) for s in systems]
    where = np.array([m.x[:3] + (time - m.time) * m.x[3:] for m in latest])
    near = np.linalg.norm(where[:, None] - where[None], axis=-1) <= NEAR_M
    return [[systems[i] for i in group] for group in _components(near)]


def _kept_apart(a: Member, b: Member) -> bool:
    """Whether ``a`` and ``b`` are two tracks one sender reported side by side for :data:`RESOLVED_S` or more.

    Such tracks are two objects whatever their covariances say: the sender's tracker folds duplicates
    of one object at every scan and keeps apart only what one scan resolved or what echoes differently
    (:meth:`mwx.track.tracker.Tracker._merge_duplicates`).  The covariances would join a re-entry body and
    its stage a few hundred metres apart: they hold the radars' registration errors, common to both
    tracks and no help in telling them apart.  A track re-initiated after its object was lost overlaps
    the old one not at all.
    """
    if a.sender != b.sender or a.track_id == b.track_id:
        return False
    return min(a.time, b.time) - max(a.reported_since, b.reported_since) >= RESOLVED_S


def _duplicates(rows: list[int], at: AtTime, gate: float) -> list[tuple[int, ...]]:
    """One sender's tracks (rows of ``at``) in units it cannot tell apart: χ² under their own covariances,
    unless it has kept them apart (:func:`_kept_apart`).

    Single linkage; each unit a sorted tuple of rows, the units sorted.
    """
    m = at.members
    same = np.array(
        [
            [
                i == j
                or (
                    not _kept_apart(m[i], m[j])
                    and chi2_distance(at.reported[i], at.P[i], at.reported[j], at.P[j]) <= gate
                )
                for j in rows
            ]
            for i in rows
        ]
    )
    return sorted(tuple(sorted(rows[i] for i in group)) for group in _components(same))


def _components(adjacent: NDArray) -> list[list[int]]:
    """Connected components (lists of indices, in index order) of a symmetric boolean adjacency matrix."""
    label = list(range(len(adjacent)))
    for i in range(len(adjacent)):
        for j in np.flatnonzero(adjacent[i]):
            a, b = label[i], label[int(j)]
            if a != b:
                label = [min(a, b) if lab in (a, b) else lab for lab in label]
    groups: dict[int, list[int]] = {}
    for i, lab in enumerate(label):
        groups.setdefault(lab, []).append(i)
    return list(groups.values())
