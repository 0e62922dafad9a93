"""Failing missiles recognised from their tracks: a body that breaks up, a motor that stops early.

A missile that fails is no longer the threat its first predictions described: a body that broke up
falls as pieces, each with more drag than the body; a motor cut short leaves the missile hundreds of
km short of where its boost was heading.  The warnings must follow (:meth:`mwx.warn.alerts.AlertManager.fail`:
alerts for areas no remaining object can reach end, ``why`` ``["failed"]``) and the launch event
report must say so (``outcome: failed``, :mod:`mwx.records`).  Two tests, each on the tracks of one
launch — a partner's own track histories after the run (:func:`recognise`, from
:func:`mwx.assess.events.launch_events`) or a node's fused system tracks as the picture grows
(:class:`FailureWatch`, from :meth:`mwx.node.node.PartnerNode.assess`).  Thresholds were measured on
the healthy flights of ``src/mwx/data/scenarios/demo.yaml`` and ``tests/data/scenarios/warn-*.yaml``
(every partner's tracks and the fused picture's: no test fires) and on the failures of
``nov-2022-failure.yaml`` and ``tests/data/scenarios/breakup-oki.yaml`` (both fire).

Break-up (:func:`breakup`)
    Evidence: the track of a coasting body ends — no update after some instant (online: none for
    :data:`BODY_QUIET_S`) — and, within :data:`BREAKUP_WINDOW_S` of that end, before or after it, at
    least :data:`BREAKUP_MIN_PIECES` new tracks start near where the body was or would be by then.
    "Near": the new track's first settled state (velocity σ under the lineage's
    :data:`mwx.assess.lineage.JUDGE_VELOCITY_SIGMA`) within :data:`BREAKUP_RADIUS_M` and
    :data:`BREAKUP_SPEED_MPS` of the body's state carried to that instant (its nearest state,
    flown ballistically by :func:`mwx.track.dynamics.propagate`).  The pieces are related to the
    launch by this test, not by :func:`mwx.assess.lineage.same_missile`: the pieces of a body that
    breaks up in the air part faster than a stage separates (light pieces lose hundreds of m/s to drag
    in seconds: 1–4 km and 7–470 m/s from the body's path at their first settled states in the break-up
    scenario), beyond the lineage's allowance for a separation (2 km and 30 m/s per axis); the
    radius and speed keep a salvo's next missile out (10 s behind in the coast: 15–30 km, by the
    lineage's measure).  Three guards against what healthy flights do:

    * the new tracks start at least :data:`BREAKUP_AFTER_BURNOUT_S` after the body's track last
      called it powered (or after its first state): a spent stage separates at burnout, and a
      radar that held the stack may find the stage and the body again as two new tracks while the
      first one ends — a depressed MRBM's US track did, within 12 s of burnout;
    * the body is at least :data:`BREAKUP_MIN_FALL_S` from the ground (its height over its descent
      rate) when the tracks start: in its last seconds a re-entering body decelerates by hundreds of
      m/s², and trackers start new tracks on the same object — the lofted Hwasong-18-like flight's fused
      picture did, twice, at 24–33 km and 5 s before impact;
    * at least two new tracks: a stage that a radar resolves from its body only minutes after
      burnout (the same flight: 80 s after, 1200 km up) is one new track near a body.

    A break-up in boost (the plume and the pieces appear together) or in the last
    :data:`BREAKUP_MIN_FALL_S` of the fall is not recognised, nor one whose pieces no radar holds.

Thrust termination (:func:`thrust_termination`)
    Evidence: the burn lasted clearly longer than the generic vehicle needs for the burnout speed
    reached.  The simulator and the launch estimator (:mod:`mwx.assess.launch`) tie a missile's burn
    time to its burnout speed (:func:`mwx.sim.flight.burn_time_for_speed`: 60 s at 2 km/s to 240 s at
    7 km/s); a motor cut at a share f of its burn has reached far less than that share of its speed (the
    mass left makes the last seconds the fastest), so its burn looks long for its speed.  Measured:
    the burn from the launch estimate (:func:`mwx.assess.launch.estimate`, boost seen only — the coast
    estimate assumes the rule under test) to the burnout the energy shows (:func:`burnout`: the Jacobi
    integral stops rising), against ``burn_time_for_speed`` of the speed the coasting states'
    energy gives at the equatorial radius (:func:`equivalent_speed`, the speed of the Kepler arc the
    rule was made for).  Healthy flights: ratio 0.82–1.00 for tracks that saw the boost, and up to
    1.11 where the launch estimate was poor (±8 s) or a salvo's tracks swapped missiles; a cut at 86 %
    of the burn (``nov-2022-failure.yaml``) gives 1.25, a cut at 92 % 1.13, at 60 % 1.8.  Failed:
    ratio at least :data:`THRUST_MIN_RATIO` and the excess at least :data:`THRUST_MIN_EXCESS_S` plus
    three σ of the burn (the launch time's σ and :data:`BURNOUT_SIGMA_S`), and no other track of the
    launch shows a motor burning after that burnout: a first stage dropped in boost stops its motor too,
    early and slow, while its missile burns on (the Hwasong-18-like flight's first stage, picked up 11 s
    after it separated, gave a burn of 140 s for an expected 56 s).  Not recognised: a cut
    in the last tenth or so of the burn, a missile first seen after its burnout (no burn to time), a
    real vehicle whose burn time does not follow the generic rule (this is template matching against
    the simulator's vehicle, as the launch estimate is), and a motor that stops and restarts (a
    staging coast: the generic vehicle has none) — its first stop is taken for the burnout.

Online (:class:`FailureWatch`)
    A node keeps, per system track, its fused state at its latest report at each assessment (every 5 s:
    states its reports made, not predictions) and the fusion's powered flag, and applies the same two
    tests; a body's track has ended once no report came for :data:`BODY_QUIET_S`.  Measured: the break-up
    recognised 18 s after the first piece's track (22 s after the break-up), the motor's stop 14 s after
    the cut.  Once a launch broke up, its body says nothing more (its fused state is the intact missile's,
    predicted on), and a piece says where it falls only once its track spans :data:`PIECE_MIN_SPAN_S` —
    with its own drag (:func:`piece_distribution`), never as powered.

What a failure changes is said where it is used: the alerts (:meth:`mwx.warn.alerts.AlertManager.fail`),
the event report (:func:`mwx.assess.events.launch_events`, :func:`region`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray
from pyproj import Geod

from mwx import records
from mwx.assess import distribution, drag, lineage
from mwx.assess import launch as launch_estimation
from mwx.assess.impact import CHI2_2_95, ellipse_95
from mwx.assess.kepler import inertial_velocity
from mwx.geo import wgs84
from mwx.geo.regions import ProtectedArea
from mwx.sim.flight import burn_time_for_speed
from mwx.track import dynamics

if TYPE_CHECKING:
    from mwx.assess.events import History

_GEOD = Geod(ellps="WGS84")
Kind = Literal["breakup", "thrust_termination"]
BREAKUP: Kind = "breakup"
THRUST_TERMINATION: Kind = "thrust_termination"

#: s: the new tracks of a break-up start this long after the body was last called powered, at least.
BREAKUP_AFTER_BURNOUT_S = 30.0
#: s: ... within this of the end of the body's track, before or after it.
BREAKUP_WINDOW_S = 30.0
#: Pieces: new tracks whose first settled state is this near the body's state carried to its time [m, m/s].
BREAKUP_RADIUS_M = 10e3
BREAKUP_SPEED_MPS = 700.0
BREAKUP_MIN_PIECES = 2
#: s: the body this far from the ground (height over descent rate) at least when the pieces are seen.
BREAKUP_MIN_FALL_S = 30.0
#: s: a body's track not updated for this long has ended (a node's fused picture; three revisits of a 2 s
#: radar, and a partner's reports arrive within a second or two).
BODY_QUIET_S = 6.0
#: A burn at least this many times the generic vehicle's for its burnout speed ...
THRUST_MIN_RATIO = 1.15
#: ... and longer than it by this much [s] plus three σ of the burn, is a motor stopped early.
THRUST_MIN_EXCESS_S = 10.0
#: s: 1σ of the burnout the energy shows (measured: within 1–4 s of the truth where one missile was tracked).
BURNOUT_SIGMA_S = 3.0
#: s: the energy is judged over at least this span (a radar track's consecutive states share their errors) ...
BURNOUT_BASELINE_S = 4.0
#: ... and the motor is stopped once it shows no rise over at least this long after the burnout.
BURNOUT_CONFIRM_S = 8.0
#: Coasting states whose speed tells the burnout speed: settled (velocity σ under this [m/s]) ...
SPEED_STATES_SIGMA = 200.0
#: ... the first ones after the burnout, up to this many.
SPEED_STATES = 5
#: s: a node watches a track for its burnout until this long after it last called it powered.
WATCH_BURN_S = 60.0


@dataclass(frozen=True)
class Failure:
    """A launch recognised as failed.

    ``time`` is when it failed as the tracks show it (Unix s): a break-up's first sign (the body's
    track's end or the first piece, whichever came first), a motor's stop (the burnout the energy shows);
    ``recognised`` when the evidence was complete.  ``body``: the track(s) of the body that failed,
    ``pieces``: a break-up's pieces' tracks.  ``burn_s`` and ``expected_burn_s``: a thrust termination's
    burn as measured and as the generic vehicle's for its burnout speed.
    """

    kind: Kind
    time: float
    recognised: float
    body: tuple[str, ...]
    pieces: tuple[str, ...] = ()
    burn_s: float = math.nan
    expected_burn_s: float = math.nan


# ----------------------------------------------------------------- helpers
def equivalent_speed(x: NDArray) -> NDArray:
    """Speed [m/s] at the equatorial radius with the inertial orbital energy of ECEF states (..., 6): the
    burnout speed of the drag-free Kepler arc from the surface that :func:`mwx.sim.flight.burn_time_for_speed`
    is written for."""
    x = np.asarray(x, float)
    r = np.linalg.norm(x[..., :3], axis=-1)
    v2 = np.einsum("...i,...i->...", inertial_velocity(x), inertial_velocity(x))
    return np.sqrt(np.maximum(v2 - 2.0 * wgs84.GM * (1.0 / r - 1.0 / wgs84.A), 0.0))


def _powered_until(h: History) -> float:
    """When the track last called its object powered before it first showed it coasting by its energy
    (its first state if it never did, or never called it powered) [Unix s]; inf if it never coasts."""
    coasting, _ = drag.coasting_and_thrusting(h.t, h.x[:, :6], h.P[:, :6, :6])
    boosting = np.zeros(len(h.t), bool) if h.boosting is None else np.asarray(h.boosting, bool)
    first = np.flatnonzero(coasting & ~boosting)
    if first.size == 0:
        return math.inf
    flagged = np.flatnonzero(boosting[: first[0]])
    return float(h.t[flagged[-1]]) if flagged.size else float(h.t[0])


def _first_settled(h: History) -> int | None:
    """Index of the track's first state settled enough to compare (:func:`mwx.assess.lineage.judgeable`)."""
    return next((k for k in range(len(h.t)) if lineage.judgeable(h.P[k])), None)


def _carried(h: History, time: float) -> NDArray:
    """The track's state (6,) at ``time``: its nearest state flown ballistically there."""
    j = int(np.argmin(np.abs(h.t - time)))
    return dynamics.propagate(h.x[j : j + 1, :6], time - float(h.t[j]))[0]


def _fall_s(x: NDArray) -> float:
    """Seconds to the ground at the present descent rate (inf while climbing)."""
    r = np.asarray(x[:3], float)
    rate = float(r @ np.asarray(x[3:6], float)) / float(np.linalg.norm(r))
    height = float(wgs84.ellipsoidal_height(r[None])[0])
    return math.inf if rate >= 0.0 else height / -rate


# ----------------------------------------------------------------- break-up
def breakup(
    launch: Sequence[History], others: Iterable[History] = (), *, ended: Mapping[str, float] | None = None
) -> Failure | None:
    """A break-up of one of the launch's bodies, by the evidence of the module's docstring, or None.

    ``launch``: the tracks of the launch; ``others``: tracks not (yet) in it, which may be its pieces (a
    light piece's track found apart by the lineage).  ``ended``: per track id, when its track ended
    (its last update); a track not in it goes on.  None: every track ended with its last state (a
    partner's histories after the run).
    """
    candidates = list(launch) + [h for h in others if all(h is not m for m in launch)]
    firsts = {id(h): _first_settled(h) for h in candidates}
    for body in launch:
        end = float(body.t[-1]) if ended is None else ended.get(body.track_id, math.nan)
        if not math.isfinite(end):
            continue
        since = _powered_until(body) + BREAKUP_AFTER_BURNOUT_S
        pieces: list[tuple[float, str]] = []
        for h in candidates:
            k = firsts[id(h)]
            if h is body or k is None or h.t[0] <= body.t[0]:
                continue
            f = float(h.t[k])
            if f < since or abs(f - end) > BREAKUP_WINDOW_S:
                continue
            there = _carried(body, f)
            if (
                np.linalg.norm(h.x[k, :3] - there[:3]) <= BREAKUP_RADIUS_M
                and np.linalg.norm(h.x[k, 3:6] - there[3:6]) <= BREAKUP_SPEED_MPS
                and _fall_s(there) >= BREAKUP_MIN_FALL_S
            ):
                pieces.append((f, h.track_id))
        if len(pieces) >= BREAKUP_MIN_PIECES:
            pieces.sort()
            return Failure(
                BREAKUP,
                time=min(end, pieces[0][0]),
                recognised=max(end, pieces[BREAKUP_MIN_PIECES - 1][0]),
                body=(body.track_id,),
                pieces=tuple(track_id for _, track_id in pieces),
            )
    return None


# ----------------------------------------------------------------- thrust termination
def burnout(h: History) -> tuple[float, int, float] | None:
    """When the track's motor stopped, by its energy, the index of the first state after it, and when its
    states had shown no rise for long enough to say so [Unix s]; None when the track did not see a motor stop
    (it never saw a rise, or the rise never stopped).

    Each state is judged against the latest state at least :data:`BURNOUT_BASELINE_S` before it
    (:func:`mwx.assess.drag.shows_coasting`, and a rise beyond its tolerance for thrust); the burnout
    lies within the last pair that shows thrust before the states show none for
    :data:`BURNOUT_CONFIRM_S`: its midpoint.
    """
    t, x, p = h.t, h.x[:, :6], h.P[:, :6, :6]
    thrust_end: float | None = None
    for k in range(len(t)):
        i = int(np.searchsorted(t, t[k] - BURNOUT_BASELINE_S, side="right")) - 1
        if i < 0:
            continue
        rise, var = drag.energy_change(x[i], p[i], x[k], p[k])
        speed = float(np.linalg.norm(x[k, 3:6]))
        limit = max(drag.THRUST_TOLERANCE * 0.5 * speed * speed, 3.0 * math.sqrt(max(float(var), 0.0)))
        if float(rise) > limit:
            thrust_end = 0.5 * float(t[i] + t[k])
        elif (
            thrust_end is not None
            and float(t[k]) - thrust_end >= BURNOUT_CONFIRM_S
            and drag.shows_coasting(t[i], x[i], p[i], t[k], x[k], p[k])
        ):
            return thrust_end, int(np.searchsorted(t, thrust_end, side="right")), float(t[k])
    return None


def _thrust_after(h: History, since: float) -> bool:
    """Whether the track's energy shows thrust between two of its states after ``since`` (at least
    :data:`BURNOUT_BASELINE_S` apart): a motor burning then."""
    t, x, p = h.t, h.x[:, :6], h.P[:, :6, :6]
    for k in np.flatnonzero(t >= since + BURNOUT_BASELINE_S):
        i = int(np.searchsorted(t, t[k] - BURNOUT_BASELINE_S, side="right")) - 1
        if i < 0 or t[i] < since:
            continue
        rise, var = drag.energy_change(x[i], p[i], x[k], p[k])
        speed = float(np.linalg.norm(x[k, 3:6]))
        if float(rise) > max(drag.THRUST_TOLERANCE * 0.5 * speed * speed, 3.0 * math.sqrt(max(float(var), 0.0))):
            return True
    return False


def thrust_termination(
    launch: Sequence[History],
    estimates: Mapping[str, launch_estimation.LaunchEstimate | None] | None = None,
    *,
    judged: Sequence[History] | None = None,
) -> Failure | None:
    """A motor stopped early, by the evidence of the module's docstring, from the launch's tracks that saw
    its boost and its burnout (``judged`` of them only, where given); None when none shows it.  A track whose
    motor stopped while another track of the launch shows a motor burning on after it (:func:`_thrust_after`)
    followed a stage dropped in boost, not a failure.  ``estimates``: the tracks' launch estimates where the
    caller has them (worked out here otherwise)."""
    for h in launch if judged is None else judged:
        if h.boosting is None or not np.any(h.boosting):
            continue
        stop = burnout(h)
        if stop is None:
            continue
        t_b, after, shown = stop
        vel_sigma = np.sqrt(np.trace(h.P[after:, 3:6, 3:6], axis1=1, axis2=2) / 3.0)
        settled = after + np.flatnonzero(vel_sigma < SPEED_STATES_SIGMA)[:SPEED_STATES]
        if settled.size == 0:
            continue
        estimate = (estimates or {}).get(h.track_id)
        if estimate is None:
            estimate = launch_estimation.estimate(h.t, h.x[:, :6], h.P[:, :6, :6], h.boosting)
        if estimate is None or estimate.method != "boost":
            continue
        # A stage dropped in boost stops its motor too, while its missile burns on: not a failure.
        if any(_thrust_after(g, t_b) for g in launch if g is not h):
            continue
        expected = burn_time_for_speed(float(np.median(equivalent_speed(h.x[settled, :6]))))
        burn = t_b - estimate.time
        sigma = math.hypot(estimate.time_sigma, BURNOUT_SIGMA_S)
        if burn >= THRUST_MIN_RATIO * expected and burn - expected >= THRUST_MIN_EXCESS_S + 3.0 * sigma:
            return Failure(
                THRUST_TERMINATION,
                time=t_b,
                recognised=max(shown, float(h.t[settled[0]])),
                body=(h.track_id,),
                burn_s=burn,
                expected_burn_s=expected,
            )
    return None


def recognise(
    launch: Sequence[History],
    others: Iterable[History] = (),
    *,
    ended: Mapping[str, float] | None = None,
    estimates: Mapping[str, launch_estimation.LaunchEstimate | None] | None = None,
) -> Failure | None:
    """The launch's failure, if its tracks show one: a break-up (:func:`breakup`), else a motor stopped early
    (:func:`thrust_termination`); None when neither shows."""
    return breakup(launch, others, ended=ended) or thrust_termination(launch, estimates)


# ----------------------------------------------------------------- where the pieces fall
#: Ballistic coefficient prior of a piece of a body that broke up [kg/m²]: log-normal with median 550 and
#: σ of ln β 1.0 (68 % within a factor 2.7 either way) — light tumbling panels and debris at ~100 to dense
#: pieces at a few thousand, all below an intact re-entry body's 8000 (the simulator draws 100–3000
#: log-uniform, :mod:`mwx.sim.failure`; no measured distribution of real debris is used).  Predicted with the
#: re-entry body's prior, a piece that decelerates in the air is predicted to fly on as the body would have:
#: the intact missile's threat again.  The piece's own drag (:func:`mwx.assess.drag.posterior`) then narrows it.
PIECE_PRIOR = (drag.Component(1.0, 550.0, 1.0),)
#: s: a node predicts where a piece falls once its track spans this long (its energy loss over it is the
#: evidence of its drag): two assessments.
PIECE_MIN_SPAN_S = 4.0


def piece_drag(h: History) -> tuple[drag.Component, ...]:
    """The ballistic-coefficient mixture of a break-up's piece from its track: :data:`PIECE_PRIOR` weighed by
    the energy its coasting states (settled ones: velocity σ under :data:`SPEED_STATES_SIGMA`) lost in the
    air.  A piece does not burn: a tracker's powered flag on it (a hard deceleration read as a manoeuvre)
    is not heeded."""
    vel_sigma = np.sqrt(np.trace(h.P[:, 3:6, 3:6], axis1=1, axis2=2) / 3.0)
    settled = np.flatnonzero(vel_sigma < SPEED_STATES_SIGMA)
    if settled.size < 2:
        return PIECE_PRIOR
    found = drag.evidence(h.t[settled], h.x[settled, :6], h.P[settled, :6, :6])
    return drag.usable(drag.posterior(PIECE_PRIOR, found))


def piece_distribution(
    h: History, rng: np.random.Generator, *, samples: int = distribution.DEFAULT_SAMPLES
) -> distribution.ImpactDistribution | None:
    """The impact distribution of a break-up's piece from the last settled state of its track (velocity σ under
    :data:`SPEED_STATES_SIGMA`), with its own drag (:func:`piece_drag`); None when it has none."""
    vel_sigma = np.sqrt(np.trace(h.P[:, 3:6, 3:6], axis1=1, axis2=2) / 3.0)
    settled = np.flatnonzero(vel_sigma < SPEED_STATES_SIGMA)
    if settled.size == 0:
        return None
    k = int(settled[-1])
    dist = distribution.predict_mixture(
        h.x[k : k + 1, :6], h.P[k : k + 1, :6, :6], h.t[k : k + 1], rng, piece_drag(h), samples=samples
    )
    return dist if math.isfinite(dist.time[0]) and np.all(np.isfinite(dist.cov_en[0])) else None


@dataclass(frozen=True)
class Fall:
    """Where one object of a failed launch falls: impact time (Unix s), point [deg] and east/north covariance
    [m²] of its impact, from its own track."""

    track_id: str
    time: float
    lat: float
    lon: float
    cov_en: NDArray


def cov_of_ellipse(semi_major_m: float, semi_minor_m: float, orientation_rad: float) -> NDArray:
    """The east/north covariance [m²] whose 95 % ellipse has these semi-axes [m] and major-axis azimuth."""
    major = np.array([math.sin(orientation_rad), math.cos(orientation_rad)])
    minor = np.array([major[1], -major[0]])
    return (np.outer(major, major) * semi_major_m**2 + np.outer(minor, minor) * semi_minor_m**2) / CHI2_2_95


@dataclass(frozen=True)
class Region:
    """Where a failed launch's pieces fall together: the centre of their impact points (their mean ECEF
    position, on the ground below), the 95 % ellipse of the pieces' mixture about it (each piece's
    covariance plus the spread of their points: semi-axes [m], azimuth [rad]), the last piece's impact time
    and its σ."""

    lat: float
    lon: float
    ellipse: tuple[float, float, float]
    time: float
    falls: list[Fall] = field(default_factory=list)


def region(falls: Sequence[Fall]) -> Region:
    """The pieces' region (:class:`Region`) from each piece's fall (at least one)."""
    ecef = np.array([wgs84.geodetic_to_ecef(math.radians(f.lat), math.radians(f.lon), 0.0) for f in falls])
    lat_r, lon_r, _ = wgs84.ecef_to_geodetic(ecef.mean(axis=0))
    lat, lon = math.degrees(float(lat_r)), math.degrees(float(lon_r))
    cov = np.zeros((2, 2))
    for f in falls:
        point = wgs84.geodetic_to_ecef(math.radians(f.lat), math.radians(f.lon), 0.0)
        east, north, _ = wgs84.ecef_to_enu(point, math.radians(lat), math.radians(lon), 0.0)
        d = np.array([east, north])
        cov += np.asarray(f.cov_en, float) + np.outer(d, d)
    cov /= len(falls)
    return Region(lat, lon, ellipse_95(cov), max(f.time for f in falls), list(falls))


# ----------------------------------------------------------------- online: a node's fused picture
def _recognised_at(failure: Failure, time: float) -> Failure:
    """The failure as recognised at ``time`` (a node's assessment), after its evidence."""
    return Failure(
        failure.kind,
        failure.time,
        max(failure.recognised, time),
        failure.body,
        failure.pieces,
        failure.burn_s,
        failure.expected_burn_s,
    )


@dataclass
class _Kept:
    """One system track's fused states at the node's assessments, and its last report time [Unix s]."""

    t: list[float] = field(default_factory=list)
    x: list[NDArray] = field(default_factory=list)
    P: list[NDArray] = field(default_factory=list)
    powered: list[bool] = field(default_factory=list)
    last_report: float = -math.inf


@dataclass(frozen=True)
class Seen:
    """A fresh system track at a node's assessment: when its last report came in [Unix s], its fused state
    then (a state its reports made, not one predicted on: a piece's drag shows only in those), and whether its
    members' trackers call it powered (:meth:`mwx.fuse.fusion.FusionCenter.boosting`)."""

    system_id: str
    x: NDArray
    P: NDArray
    boosting: bool
    last_report: float


class FailureWatch:
    """Failures of the launches of one node's fused picture, recognised as it grows (see the module doc).

    :meth:`observe` is given the fresh system tracks at each assessment and the launch of each; it keeps
    their fused states (at most one per assessment, at their latest report) and says which launches it found
    failed then, once each.  A
    system track with no report for :data:`BODY_QUIET_S` has ended (a break-up's body).  Only what can
    still be evidence is judged: bodies that ended within :data:`BREAKUP_WINDOW_S` (and the pieces that
    started since), and a track's burnout until :data:`WATCH_BURN_S` after it was last called powered.
    """

    def __init__(self) -> None:
        self._kept: dict[str, _Kept] = {}
        self._done_burn: set[str] = set()
        #: Launch id → its failure, once recognised.
        self.failed: dict[str, Failure] = {}

    def observe(self, time: float, seen: Sequence[Seen], launch_of: Mapping[str, str | None]) -> dict[str, Failure]:
        """Keep ``seen`` (the fresh systems at ``time``) and return the launches newly found failed, by id.

        ``launch_of``: the live launch of every system placed in one.  A break-up's pieces may be systems of
        no launch or of another (a light piece found apart by the lineage): the caller joins them to the
        failed launch (:meth:`mwx.assess.lineage.LaunchBook.join`).
        """
        for s in seen:
            kept = self._kept.setdefault(s.system_id, _Kept())
            if not kept.t or s.last_report > kept.t[-1]:
                kept.t.append(s.last_report)
                kept.x.append(np.asarray(s.x, float)[:6])
                kept.P.append(np.asarray(s.P, float)[:6, :6])
                kept.powered.append(bool(s.boosting))
            kept.last_report = max(kept.last_report, s.last_report)
        ended = {
            k: v.last_report
            for k, v in self._kept.items()
            if BODY_QUIET_S <= time - v.last_report <= BODY_QUIET_S + BREAKUP_WINDOW_S
        }
        young = [k for k, v in self._kept.items() if v.t[0] >= time - 2.0 * BREAKUP_WINDOW_S - BODY_QUIET_S]
        found: dict[str, Failure] = {}
        launches = sorted({lid for k in self._kept if (lid := launch_of.get(k)) is not None} - self.failed.keys())
        for launch_id in launches:
            bodies = [self._history(k) for k in ended if launch_of.get(k) == launch_id]
            failure = None
            if bodies:
                failure = breakup(bodies, [self._history(k) for k in young], ended=ended)
            if failure is None:
                failure = self._thrust(time, [k for k in self._kept if launch_of.get(k) == launch_id])
            if failure is not None:
                found[launch_id] = self.failed[launch_id] = _recognised_at(failure, time)
        return found

    def follow(self, merged: Mapping[str, str]) -> None:
        """Launches merged into others (``merged``: id → the live launch, :meth:`mwx.assess.lineage.LaunchBook.merged`):
        a failure goes with its launch (the one it merged into keeps its own, if it has one)."""
        for launch_id in [k for k in self.failed if k in merged]:
            self.failed.setdefault(merged[launch_id], self.failed[launch_id])
            del self.failed[launch_id]

    def piece(self, system_id: str, launch_id: str | None) -> History | None:
        """The track of ``system_id`` (its fused states so far) if it is a piece of a launch that broke up: one of
        the failure's pieces, or a system of that launch first seen after the break-up; else None."""
        failure = self.failed.get(launch_id or "")
        kept = self._kept.get(system_id)
        if failure is None or failure.kind != BREAKUP or kept is None or not kept.t:
            return None
        if system_id in failure.body:  # reported again since: it follows a piece now
            return self._history(system_id) if kept.last_report > failure.recognised else None
        if system_id in failure.pieces or kept.t[0] >= failure.time:
            return self._history(system_id)
        return None

    def silent(self, system_id: str, launch_id: str | None) -> bool:
        """Whether ``system_id``, of a launch that broke up, has nothing to say about where anything falls: the
        body, not reported since the break-up was recognised (it follows nothing any more: its fused state is a
        prediction of the intact body), or a piece whose track does not yet span :data:`PIECE_MIN_SPAN_S` (its
        drag not shown: with the prior alone a piece could be anything from a panel to the re-entry body, and
        a track that followed the body until the break-up and a piece for a few seconds after it still has the
        intact body's speed)."""
        failure = self.failed.get(launch_id or "")
        kept = self._kept.get(system_id)
        if failure is None or failure.kind != BREAKUP:
            return False
        if system_id in failure.body:
            return kept is None or kept.last_report <= failure.recognised
        return self.piece(system_id, launch_id) is not None and (
            kept is None or kept.t[-1] - kept.t[0] < PIECE_MIN_SPAN_S
        )

    def _thrust(self, time: float, systems: list[str]) -> Failure | None:
        """A thrust termination, judged once per system track, when its burnout is first seen with a settled
        state after it; a track not called powered for :data:`WATCH_BURN_S` is not watched any more."""
        ready = []
        for system_id in systems:
            kept = self._kept[system_id]
            if system_id in self._done_burn or not any(kept.powered):
                continue
            last_powered = max(t for t, powered in zip(kept.t, kept.powered, strict=True) if powered)
            if time - last_powered > WATCH_BURN_S:
                self._done_burn.add(system_id)
                continue
            h = self._history(system_id)
            stop = burnout(h)
            if stop is None:
                continue
            vel_sigma = np.sqrt(np.trace(h.P[stop[1] :, 3:6, 3:6], axis1=1, axis2=2) / 3.0)
            if np.any(vel_sigma < SPEED_STATES_SIGMA):
                self._done_burn.add(system_id)
                ready.append(h)
        if not ready:
            return None
        return thrust_termination([self._history(k) for k in systems], judged=ready)

    def _history(self, system_id: str) -> History:
        from mwx.assess.events import History  # the event module builds on this one

        kept = self._kept[system_id]
        return History(
            system_id, np.array(kept.t), np.array(kept.x), np.array(kept.P), kept.t[0], np.array(kept.powered, bool)
        )


# ----------------------------------------------------------------- the launch event report
#: Why a track is in a launch event (``grouped``): a piece of the launch's break-up (:func:`breakup`).
GROUPED_PIECE = "a piece of its break-up"


def launch_failures(
    groups: list[list[tuple[History, dict]]],
    burning: list[list[History]],
    why: dict[str, str],
    estimate: Callable[[History], launch_estimation.LaunchEstimate | None] | None = None,
) -> list[Failure | None]:
    """Per launch of a partner's event reports (:func:`mwx.assess.events.launch_events`: its tracks with their
    reports, and its tracks never seen coasting), the failure its tracks show (:func:`recognise`), or None.

    A break-up's pieces found in another launch (a light piece that the lineage found apart from its body
    and that started a launch of its own) move into the failed one, ``why`` :data:`GROUPED_PIECE`; a launch
    left with no track is dropped (``groups`` and ``burning`` are changed in place).  ``estimate``: a track's
    launch estimate from all its states, where the caller keeps them.
    """
    every = [h for members in groups for h, _ in members] + [h for extra in burning for h in extra]
    found: list[Failure | None] = []
    for members, extra in zip(groups, burning, strict=True):
        tracks = [h for h, _ in members] + extra
        estimates = None if estimate is None else {h.track_id: estimate(h) for h in tracks}
        found.append(recognise(tracks, [h for h in every if all(h is not t for t in tracks)], estimates=estimates))
    for k, failure in enumerate(found):
        if failure is None or failure.kind != BREAKUP:
            continue
        for j in range(len(groups)):
            if j == k:
                continue
            moved = [m for m in groups[j] if m[0].track_id in failure.pieces]
            also = [h for h in burning[j] if h.track_id in failure.pieces]
            groups[j][:] = [m for m in groups[j] if all(m is not n for n in moved)]
            burning[j][:] = [h for h in burning[j] if all(h is not n for n in also)]
            groups[k].extend(moved)
            burning[k].extend(also)
            why.update(dict.fromkeys([m[0].track_id for m in moved] + [h.track_id for h in also], GROUPED_PIECE))
            if not groups[j]:  # nothing of its own left: what is left goes with the failed launch
                burning[k].extend(burning[j])
                burning[j][:] = []
    keep = [k for k in range(len(groups)) if groups[k]]
    groups[:] = [groups[k] for k in keep]
    burning[:] = [burning[k] for k in keep]
    return [found[k] for k in keep]


def reported_from(
    failure: Failure | None, members: list[tuple[History, dict]], chosen: tuple[History, dict]
) -> tuple[History, dict]:
    """The track a launch event is reported from: a break-up's body (its launch estimate, class and apogee are
    the missile's; its impact prediction is replaced by the pieces' region: :func:`event_fields`), else
    ``chosen``."""
    if failure is None or failure.kind != BREAKUP:
        return chosen
    return next((m for m in members if m[0].track_id in failure.body), chosen)


def event_fields(
    failure: Failure,
    event: dict,
    objects: Sequence[History],
    areas: Sequence[ProtectedArea],
    rng: Callable[[History], np.random.Generator],
    *,
    samples: int = distribution.DEFAULT_SAMPLES,
) -> dict:
    """What a failure changes in a launch event report (:func:`mwx.assess.events.launch_events`' working form:
    Unix times, degrees, km; ``event`` holds its launch fields already): ``outcome`` and ``failure`` (in the
    record's form, :class:`mwx.records.LaunchFailure`) and, for a break-up whose pieces have a prediction,
    the impact figures of their region (:func:`region`): impact point, ellipse, time and its σ, the range
    from the launch point, the areas' probabilities (for each area, the most likely of the pieces to fall in
    it: at least that likely some piece does), the likeliest area, the EEZs likelier than not; and the
    overflights of the body's path up to the break-up only (the pieces' paths are not followed)."""
    out: dict = {"outcome": "failed"}
    falls: list[Fall] = []
    dists = []
    if failure.kind == BREAKUP:
        for h in objects:
            if h.track_id not in failure.pieces:
                continue
            dist = piece_distribution(h, rng(h), samples=samples)
            if dist is not None:
                dists.append(dist)
                falls.append(
                    Fall(h.track_id, float(dist.time[0]), math.degrees(float(dist.lat[0])),
                         math.degrees(float(dist.lon[0])), np.array(dist.cov_en[0]))
                )  # fmt: skip
    pieces = [h for h in objects if h.track_id in failure.pieces]
    record = records.LaunchFailure(
        kind=failure.kind,
        time=records.utc(failure.time),
        recognised=records.utc(failure.recognised),
        body_track_ids=list(failure.body),
        fragments=_count(pieces),
        fragment_impacts=[
            records.FragmentImpact(
                track_id=f.track_id,
                impact_time=records.utc(f.time),
                impact_point=records.point(f.lat, f.lon),
                impact_ellipse_95=_ellipse_record(ellipse_95(f.cov_en)),
            )
            for f in falls
        ],
        burn_s=records.rounded(failure.burn_s),
        expected_burn_s=records.rounded(failure.expected_burn_s),
    )
    out["failure"] = record
    if not falls:
        return out
    where = region(falls)
    last = max(range(len(falls)), key=lambda i: falls[i].time)
    launch_point = event["launch_point"]
    _, _, range_m = _GEOD.inv(launch_point["lon"], launch_point["lat"], where.lon, where.lat)
    probability = np.max([d.probability_inside(tuple(areas))[0] for d in dists], axis=0) if areas else np.zeros(0)
    ranked = sorted(
        range(len(areas)),
        key=lambda k: (probability[k] >= 0.5 and areas[k].kind == "territory", probability[k]),
        reverse=True,
    )
    impact_area: dict = {"partner": None, "kind": None, "name": None, "probability": 0.0}
    if ranked and probability[ranked[0]] > 0.0:
        area = areas[ranked[0]]
        impact_area = {"partner": area.partner, "kind": area.kind, "name": area.name,
                       "probability": float(probability[ranked[0]])}  # fmt: skip
    flown = [o for o in event.get("overflights", []) if o["enter"] <= failure.time]
    out.update(
        impact_point={"lat": where.lat, "lon": where.lon},
        impact_ellipse_95={
            "semi_major_km": where.ellipse[0] / 1e3,
            "semi_minor_km": where.ellipse[1] / 1e3,
            "orientation_deg": math.degrees(where.ellipse[2]),
        },
        impact_time=where.time,
        impact_time_sigma_s=float(dists[last].time_sigma[0]),
        range_km=range_m / 1e3,
        impact_probability={f"{a.partner} {a.kind}": float(p) for a, p in zip(areas, probability, strict=True)},
        impact_area=impact_area,
        inside_eez_of=sorted(
            {a.partner for a, p in zip(areas, probability, strict=True) if a.kind == "eez" and p >= 0.5}
        ),
        overflights=flown,
        over_territory_of=sorted({o["partner"] for o in flown if o["probability"] >= 0.5}),
    )
    return out


def _count(tracks: Sequence[History]) -> int:
    """Objects among ``tracks``: the most alive at one instant (as :func:`mwx.assess.events.count_objects`)."""
    spans = [(float(h.t[0]), float(h.t[-1])) for h in tracks]
    return max((sum(1 for a, b in spans if a <= start <= b) for start, _ in spans), default=0)


def _ellipse_record(axes: tuple[float, float, float]) -> records.Ellipse95:
    return records.Ellipse95(
        semi_major_km=round(axes[0] / 1e3, 3),
        semi_minor_km=round(axes[1] / 1e3, 3),
        orientation_deg=round(math.degrees(axes[2]), 3),
    )
