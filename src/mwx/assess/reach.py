"""Where a body that can manoeuvre can still fall: the impact prediction with aerodynamic lift (the reach).

A ballistic prediction (:mod:`mwx.assess.distribution`) is right for a body that only falls.  A
depressed body that flies in the sensible atmosphere may instead *lift*: pull up on the way down
(the KN-23 family) or glide from burnout (Hwasong-8, Hwasong-16B), and land hundreds of km beyond
and beside its ballistic impact point (:mod:`mwx.sim.lift` has the physics).  The assessor does not
know whether or how it will lift, so the impact samples here include lifted flights drawn from a
prior over the lift programme, and the 95 % region holds 95 % of all of them: the *reachable
footprint*, calibrated by ``benchmarks/manoeuvre_calibration.py`` (docs/benchmarks.md).

Which tracks (:func:`can_manoeuvre`)
    A track whose flight stays low enough for the air to shape it: the highest point of its history
    and of the two-body arc through its state below :data:`mwx.sim.lift.MAX_LIFT_APOGEE` (150 km, the
    ceiling the scenario checks hold a lifting flight to): the short-range depressed family.  Every
    other track gets exactly :func:`mwx.assess.distribution.predict_mixture` (the same samples from
    the same generator).  A manoeuvre-mode probability of the tracker is not used (the trackers have
    none yet); the track's own states are the evidence (below).

The prior (:class:`LiftPrior`; programmes drawn from the caller's generator)
    A pull-up with probability 1/3, a glide 1/3, ballistic 1/3: no knowledge among the three families
    the simulator flies.  Load factor 1–3 g and L/D 1–2.5 (uniform); a pull-up lifts on the way down
    below its start, 35–55 km, until it falls through its dive, 10–20 km; a glide lifts to the ground,
    banked 45° (:data:`mwx.sim.lift.GLIDE_BANK`) until it has turned by −30…+30° from now, then wings
    level; the body's ballistic coefficient is drawn from the track's re-entry-body component
    (:mod:`mwx.assess.drag`; a stage does not lift).  The spreads of
    ``benchmarks/manoeuvre_calibration.py`` about the scenario defaults (``PullUp``, ``Glide``).

Evidence: what the track shows (:func:`lift_evidence`, :func:`weigh`)
    Lift acts across the velocity relative to the air, where gravity and drag give nothing.  The
    track's state 10–20 s before its last is flown on ballistically (with drag) to the last one's
    time; the last position's offset from it, across the flight direction (in its vertical plane and
    sideways), is ½ a Δt² for the mean lift a over the window (positions, not velocities: a filter's
    velocity lags a manoeuvre's onset, its positions follow the measurements).  Each candidate
    programme predicts the mean lift it gives over the window (a pull-up lifts below its start on the
    way down, or once seen lifting below it, until its dive; a glide always, banked while it turns;
    ballistic: none) and is weighed by the Gaussian likelihood of the observed one, with an
    allowance of 30 % of the predicted lift and 0.3 m/s² for a filter that lags.  So a body seen
    falling cleanly through 30 km has shown it does not lift (a pull-up that had started would lift
    now, a glide always does) and one seen lifting is not ballistic.  :data:`CANDIDATES` programmes
    are drawn and weighed; the ballistic share of the pool is the posterior ballistic probability;
    :data:`PROGRAMMES` lifted ones are resampled (systematic) by weight and flown.

The samples
    Each flown programme's flight of the track's mean state is integrated to the ground
    (:func:`fly_lifted`: RK4 in ECEF with J2, rotation, drag and the lift law of :mod:`mwx.sim.lift`,
    steps that keep the turn of the velocity, the change of speed and of the air's force small and
    stop at each switch of the programme; a few km from the simulator's DOP853 flight).  They start
    from the current state, so what the body can still do shrinks as its flight commits: below a
    pull-up's start little is left, after its dive nothing.  A lifted sample is its programme's impact
    plus the track's own uncertainty: a state drawn from N(x, P) carried in closed form
    (:func:`mwx.assess.kepler.crossing`) less the mean's crossing (the first-order perturbation the
    drag shift uses too).  The ballistic samples are :func:`~mwx.assess.distribution.predict_mixture`'s.
    The pool is shuffled, so any leading part of it (the overflight rule uses the first 400) is a
    fair draw, and the probabilities of areas (:meth:`ImpactDistribution.probability_inside`,
    :mod:`mwx.warn.rules`) are shares of it.

The region (:func:`fair_holding`)
    Centred on the ballistic impact point while the ballistic outcome keeps at least
    :data:`CENTRE_SHARE` of the pool (the likeliest single outcome, where the report's impact point
    has always been and the mean path ends; the region then reaches from it to where a lift can
    take the body), else on the pool's mean.  Its 95 % ellipse holds 95 % of the pool, as
    ``distribution._holding`` makes it, and at least 95 % of each kind of lifted flight in the pool: its
    shape is the pool's second moment about the centre with the pull-ups' and the glides' parts weighted
    so that it holds both kinds alike, and where one kind's reach lies beyond the other's (no shape then
    holds both alike) it grows until it holds 95 % of that kind too, and so more
    than 95 % of the pool.  Impact time: the centre's (ballistic, or the pool's mean), its σ the
    pool's spread about it.

Cost: the lifted flights, one batch of RK4 steps (about 40 for the longest glide), cost about twice the
ballistic prediction's own: a prediction that can lift about three times one that cannot
(``benchmarks/manoeuvre_calibration.py --speed``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mwx.assess import distribution, drag, kepler
from mwx.assess.distribution import ImpactDistribution
from mwx.assess.impact import ASSUMED_BETA, CHI2_2_95
from mwx.geo import wgs84
from mwx.sim.lift import G0, GLIDE_BANK, MAX_LIFT_APOGEE
from mwx.track import dynamics

#: Programme kinds.
BALLISTIC, PULLUP, GLIDE = 0, 1, 2
#: Candidate programmes drawn from the prior and weighed by the evidence; flown ones after resampling.
CANDIDATES = 4096
PROGRAMMES = 96
#: Least share of the pool for the ballistic outcome that keeps the region centred on it.
CENTRE_SHARE = 0.05
#: Bisection of the fair region's shape (:func:`fair_holding`): λ within ±FAIR_RANGE, FAIR_STEPS halvings.
FAIR_RANGE, FAIR_STEPS = 4.0, 10
#: Evidence window: the earlier state is the first one this long before the last [s].
EVIDENCE_WINDOW_S = (10.0, 20.0)
#: Model allowance of the evidence: relative to the predicted lift, and absolute [m/s²].
EVIDENCE_RELATIVE, EVIDENCE_FLOOR = 0.3, 0.3
#: Lifted flights' steps (:func:`fly_lifted`): largest [s]; turn of the velocity [rad]; relative change of speed;
#: share of the density scale height crossed; smallest [s].
MAX_STEP_S, TURN_PER_STEP, SPEED_PER_STEP, SCALE_PER_STEP, MIN_STEP_S = 20.0, 0.1, 0.2, 0.7, 1.0
#: Below this speed [m/s] the turn per step may grow as 1/speed (the path's error per turn shrinks with it).
SLOW_SPEED = 1500.0
#: Drag and lift [m/s²] above which a step is an air step; below it a ballistic one.
AIR_FLOOR = 0.1
_SCALE_HEIGHT = 7000.0  # m, near enough for the step control
_MAX_FLIGHT_S = 3600.0
_MAX_STEPS = 2000


@dataclass(frozen=True)
class LiftPrior:
    """The prior over the lift programme of a track that can manoeuvre (module docstring).

    Shares of the kinds, and (low, high) ranges of uniform draws: load factor [g], L/D [-], a
    pull-up's start and dive altitudes [m], a glide's turn [rad] (positive to the right).
    """

    pullup: float = 1.0 / 3.0
    glide: float = 1.0 / 3.0
    load_g: tuple[float, float] = (1.0, 3.0)
    lift_to_drag: tuple[float, float] = (1.0, 2.5)
    start_alt: tuple[float, float] = (35e3, 55e3)
    dive_alt: tuple[float, float] = (10e3, 20e3)
    turn: tuple[float, float] = (math.radians(-30.0), math.radians(30.0))


PRIOR = LiftPrior()


@dataclass
class Programmes:
    """Lift programmes, arrays (k,): kind (:data:`BALLISTIC`, :data:`PULLUP`, :data:`GLIDE`), L/D, largest lift
    acceleration [m/s²], ballistic coefficient [kg/m²], a pull-up's start and dive altitudes [m], a glide's
    turn [rad]."""

    kind: NDArray
    lift_to_drag: NDArray
    max_accel: NDArray
    beta: NDArray
    start_alt: NDArray
    dive_alt: NDArray
    turn: NDArray

    def __len__(self) -> int:
        return len(self.kind)

    def take(self, index: NDArray) -> Programmes:
        return Programmes(*(getattr(self, f)[index] for f in self.__dataclass_fields__))


def draw_programmes(
    rng: np.random.Generator, count: int, beta: float, beta_sigma_ln: float, prior: LiftPrior = PRIOR
) -> Programmes:
    """``count`` programmes from the prior (kinds included); β log-normal about ``beta`` [kg/m²]."""
    u = rng.random((count, 6))
    kind = np.where(u[:, 0] < prior.pullup, PULLUP, np.where(u[:, 0] < prior.pullup + prior.glide, GLIDE, BALLISTIC))

    def spread(lo_hi: tuple[float, float], col: NDArray) -> NDArray:
        return lo_hi[0] + (lo_hi[1] - lo_hi[0]) * col

    eta = rng.standard_normal(count)
    return Programmes(
        kind=kind,
        lift_to_drag=spread(prior.lift_to_drag, u[:, 1]),
        max_accel=spread(prior.load_g, u[:, 2]) * G0,
        beta=beta * np.exp(beta_sigma_ln * eta),
        start_alt=spread(prior.start_alt, u[:, 3]),
        dive_alt=spread(prior.dive_alt, u[:, 4]),
        turn=np.where(kind == GLIDE, spread(prior.turn, u[:, 5]), 0.0),
    )


# --- lifted flights in ECEF, batched ----------------------------------------------------------------------
#
# States are held as rows (6, k): one array per component, so that each operation is one short
# vectorised call (a (k, 3) layout with axis reductions costs three times as much per step here).

_GM, _A, _J2, _OMEGA = wgs84.GM, wgs84.A, wgs84.J2, wgs84.OMEGA
_J2F = 1.5 * wgs84.J2 * wgs84.A**2
_DENSITY_GRID, _LOG_DENSITY = dynamics._DENSITY_GRID, dynamics._LOG_DENSITY
_RADIUS_GRID, _A_F = _DENSITY_GRID + wgs84.A, wgs84.A * wgs84.F  # the density by rn + A F (z/r)² = h + A


def _height(x: NDArray, y: NDArray, z: NDArray, rn: NDArray) -> NDArray:
    """Height [m] above the ellipsoid, to first order in the flattening (metres: enough for the air density)."""
    return rn - _A * (1.0 - wgs84.F * z * z / (rn * rn))


def _density(h: NDArray) -> NDArray:
    return np.exp(np.interp(h, _DENSITY_GRID, _LOG_DENSITY))


def _derivative(s: NDArray, inv_beta: NDArray, lift_to_drag: NDArray, max_accel: NDArray, cos_b: NDArray,
                sin_b: NDArray) -> tuple[NDArray, tuple[NDArray, NDArray, NDArray, NDArray]]:  # fmt: skip
    """d/dt of states (6, k): J2 gravity, rotation, drag (1/β) and lift (L/D·drag up to ``max_accel``, bank σ);
    and, of the states, the radial speed r̂·w, the drag and lift accelerations [m/s²] and |w|².

    The lift law of :func:`mwx.sim.lift.lift_acceleration` (``lift_to_drag`` 0: none), written with
    ê = (|w|² r̂ − (r̂·w) w) / (|w| |w_h|) and ŵ × ê = (w × r̂) / |w_h|, w_h the horizontal velocity.
    """
    r, v = s[:3], s[3:]
    x, y, z, vx, vy, vz = s
    r2 = x * x + y * y + z * z
    rn = np.sqrt(r2)
    zr2 = z * z / r2
    common = -_GM / (r2 * rn)
    j2f = _J2F / r2
    w2 = vx * vx + vy * vy + vz * vz
    w = np.sqrt(w2)
    # Height above the ellipsoid to first order in the flattening (metres: enough for the air density).
    drag = (0.5 * inv_beta) * w2 * np.exp(np.interp(rn + _A_F * zr2, _RADIUS_GRID, _LOG_DENSITY))  # |a_D|
    lift = np.minimum(lift_to_drag * drag, max_accel)
    radial = (x * vx + y * vy + z * vz) / rn  # r̂·w
    lift_across = lift / np.sqrt(np.maximum(w2 - radial * radial, 1e-6))  # lift / |w_h|
    # Coefficients of r (gravity, centrifugal, the ê term's |w|² r̂ / (|w| |w_h|) = |w| r / (rn |w_h|)),
    # of w (the ê term's and the drag) and of w × r (the side term).
    coef_r = common * (1.0 - j2f * (5.0 * zr2 - 1.0)) + _OMEGA * _OMEGA + lift_across * cos_b * w / rn
    coef_v = -(lift_across * cos_b * radial + drag) / w
    side = lift_across * sin_b / rn
    out = np.empty_like(s)
    out[:3] = v
    out[3:] = coef_r * r + coef_v * v
    out[3] += 2.0 * _OMEGA * vy + side * (vy * z - vz * y)
    out[4] += -2.0 * _OMEGA * vx + side * (vz * x - vx * z)
    out[5] += (2.0 * common * j2f - _OMEGA * _OMEGA) * z + side * (vx * y - vy * x)  # J2's z term, no centrifugal
    return out, (radial, drag, lift, w2)


def _lift_size(s: NDArray, inv_beta: NDArray, lift_to_drag: NDArray, max_accel: NDArray) -> tuple[NDArray, NDArray]:
    """The lift [m/s²] programmes would give at states (6, k) if lifting, and the drag acceleration [m/s²]."""
    x, y, z, vx, vy, vz = s
    rn = np.sqrt(x * x + y * y + z * z)
    drag = 0.5 * _density(_height(x, y, z, rn)) * (vx * vx + vy * vy + vz * vz) * inv_beta
    return np.minimum(lift_to_drag * drag, max_accel), drag


def _radial(s: NDArray) -> NDArray:
    x, y, z, vx, vy, vz = s
    return (x * vx + y * vy + z * vz) / np.sqrt(x * x + y * y + z * z)


def _normal(s: NDArray) -> NDArray:
    """Unit normals (3, k) of the planes of flight r × v of states (6, k)."""
    x, y, z, vx, vy, vz = s
    n = np.array([y * vz - z * vy, z * vx - x * vz, x * vy - y * vx])
    return n / np.sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2])


def _track_turn(s: NDArray, normal0: NDArray) -> NDArray:
    """Turn [rad] of the ground track since the plane of ``normal0``, positive right (as
    :func:`mwx.sim.lift.track_turn`): the signed angle from ``normal0`` to the plane's normal now about r̂."""
    n = _normal(s)
    a0, a1, a2 = normal0
    b0, b1, b2 = n
    cos = a0 * b0 + a1 * b1 + a2 * b2
    x, y, z = s[0], s[1], s[2]
    sin = (a1 * b2 - a2 * b1) * x + (a2 * b0 - a0 * b2) * y + (a0 * b1 - a1 * b0) * z
    return np.arctan2(-sin / np.sqrt(x * x + y * y + z * z), cos)


def initial_phase(x: NDArray, prog: Programmes, seen_lifting: NDArray | bool = False) -> NDArray:
    """Whether each programme lifts at ECEF states x (k, 6) now: a glide always; a pull-up below its start and above
    its dive when descending, or when it is ``seen_lifting`` (then it started earlier: once on, the lift stays on
    while it climbs again); ballistic never."""
    s = np.asarray(x, float).T
    alt = wgs84.ellipsoidal_height(x[:, :3])
    below = (alt < prog.start_alt) & (alt > prog.dive_alt)
    pull = below & ((_radial(s) <= 0.0) | np.asarray(seen_lifting, bool))
    return np.where(prog.kind == GLIDE, True, np.where(prog.kind == PULLUP, pull, False))


def fly_lifted(
    x: NDArray, t: NDArray, prog: Programmes, lifting: NDArray | None = None
) -> tuple[NDArray, NDArray, int]:
    """Fly ECEF states x (k, 6) at Unix times t (k,) to the ground, each with its programme's lift.

    ``lifting`` (k,): whether each pull-up is in its lift phase at the start (:func:`initial_phase` by
    default).  A pull-up then lifts from the first moment below its start altitude on the way down until it
    falls through its dive altitude; a glide lifts to the ground, banked (:data:`mwx.sim.lift.GLIDE_BANK`,
    the sign of its turn) until its ground track has turned by ``turn`` from the plane of flight at the
    start, then wings level.  RK4 with the phase held over each step.  The step per state: where drag and
    lift are under :data:`AIR_FLOOR`, a quarter of the time to the ground at the descent rate (at least
    500 m/s; 2 to 120 s, as :func:`mwx.assess.impact.fly_to_ground`); else the shortest of the times to
    turn the velocity by :data:`TURN_PER_STEP` (more below :data:`SLOW_SPEED`), to change the speed by
    :data:`SPEED_PER_STEP` of itself and to cross :data:`SCALE_PER_STEP` of a density scale height (more
    where the air's force is small next to gravity), within :data:`MIN_STEP_S` to :data:`MAX_STEP_S`.  No
    step goes past a switch of the programme at the present rates (a pull-up reaching its start or its
    dive, a glide its end of turn), except by :data:`MIN_STEP_S`.  The crossing of the ellipsoid is
    interpolated linearly in the last step.  Returns the crossing positions (k, 3) [m], times (k,) [Unix s]
    (NaN for a state still up after an hour) and the number of steps taken.
    """
    s = np.array(x, float).T.copy()  # (6, k)
    k = s.shape[1]
    time = np.array(t, float)
    phase = initial_phase(x, prog) if lifting is None else np.asarray(lifting, bool).copy()
    inv_beta, max_accel = 1.0 / prog.beta, prog.max_accel
    pullup = prog.kind == PULLUP
    start_alt, dive_alt = np.where(pullup, prog.start_alt, -np.inf), np.where(pullup, prog.dive_alt, -np.inf)
    turning = (prog.kind == GLIDE) & (prog.turn != 0.0)
    sign, target = np.sign(prog.turn), np.abs(prog.turn)
    normal0 = _normal(s)
    bank = np.where(turning, sign * GLIDE_BANK, 0.0)
    cos_b, sin_b = np.cos(bank), np.sin(bank)
    hit = np.full((3, k), np.nan)
    hit_t = np.full(k, np.nan)
    active = np.ones(k, bool)
    alt = _height(s[0], s[1], s[2], np.sqrt(np.sum(s[:3] ** 2, axis=0)))
    turn_now = np.zeros(k)
    steps = 0
    while active.any() and steps < _MAX_STEPS:
        steps += 1
        lift_to_drag = np.where(phase, prog.lift_to_drag, 0.0)
        k1, (radial, drag_accel, lift, speed2) = _derivative(s, inv_beta, lift_to_drag, max_accel, cos_b, sin_b)
        # The step: ballistic (a quarter of the time to the ground) where the air does little, else short
        # enough that the velocity turns and changes little and the density not too much.
        dt = np.clip(0.25 * alt / np.maximum(-radial, 500.0), 2.0, 120.0)
        v, a = s[3:], k1[3:]
        along = np.sum(a * v, axis=0) / speed2  # a·v / |v|²: the along-track acceleration over |v|
        turn_rate = np.sqrt(np.maximum(np.sum(a * a, axis=0) / speed2 - along * along, 1e-18))  # |a_perp| / |v|
        limit = np.minimum(
            TURN_PER_STEP * np.maximum(1.0, SLOW_SPEED / np.sqrt(speed2)) / turn_rate,
            np.minimum(
                SPEED_PER_STEP / np.maximum(np.abs(along), 1e-9),
                # The air's force changes e-fold over a scale height; it matters next to gravity's.
                SCALE_PER_STEP * _SCALE_HEIGHT / np.abs(radial) * np.sqrt(np.maximum(1.0, G0 / (drag_accel + lift))),
            ),
        )
        dt = np.where(drag_accel + lift > AIR_FLOOR, np.clip(limit, MIN_STEP_S, MAX_STEP_S), dt)
        # No step goes past a switch of the phase: a pull-up coming down to its start or its dive, a glide's
        # ground track turning to its end of turn (at the turn rate of its bank: side lift over the horizontal
        # speed); each step reaches where the switch would be at the present rate, or MIN_STEP_S.
        edge = np.where(phase, dive_alt, start_alt)
        to_edge = np.where((alt > edge) & (radial < 0.0), (alt - edge) / -np.minimum(radial, -1e-3), np.inf)
        dt = np.minimum(dt, np.maximum(to_edge, MIN_STEP_S))
        if turning.any():
            rate = lift * np.abs(sin_b) / np.sqrt(np.maximum(speed2 - radial * radial, 1.0))
            to_turn = np.where(turning & (rate > 0.0), (target - sign * turn_now) / np.maximum(rate, 1e-12), np.inf)
            dt = np.minimum(dt, np.maximum(to_turn, MIN_STEP_S))
        dt = np.where(active, dt, 0.0)
        h = dt[None, :]
        k2, _ = _derivative(s + 0.5 * h * k1, inv_beta, lift_to_drag, max_accel, cos_b, sin_b)
        k3, _ = _derivative(s + 0.5 * h * k2, inv_beta, lift_to_drag, max_accel, cos_b, sin_b)
        k4, _ = _derivative(s + h * k3, inv_beta, lift_to_drag, max_accel, cos_b, sin_b)
        new = s + h / 6.0 * (k1 + 2.0 * (k2 + k3) + k4)
        new_alt = _height(new[0], new[1], new[2], np.sqrt(np.sum(new[:3] ** 2, axis=0)))
        down = active & (new_alt <= 0.0)
        if down.any():
            with np.errstate(divide="ignore", invalid="ignore"):
                frac = np.clip(np.nan_to_num(alt[down] / (alt[down] - new_alt[down])), 0.0, 1.0)
            hit[:, down] = s[:3, down] + frac * (new[:3, down] - s[:3, down])
            hit_t[down] = time[down] + frac * dt[down]
            active &= ~down
        # Phase switches at the end of the step: a pull-up starts on the way down below its start (above
        # its dive), and ends below its dive; a glide's bank ends once it has turned by its turn.
        phase |= (new_alt < start_alt) & (new_alt >= dive_alt) & (new_alt < alt)
        phase &= new_alt >= dive_alt
        if turning.any():
            turn_now = _track_turn(new, normal0)
            turned = turning & (sign * turn_now >= target)
            if turned.any():
                turning &= ~turned
                cos_b, sin_b = np.where(turned, 1.0, cos_b), np.where(turned, 0.0, sin_b)
        s, alt, time = new, new_alt, time + dt
        active &= time - t < _MAX_FLIGHT_S
    return hit.T, hit_t, steps


# --- evidence -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """The lift a track shows (:func:`lift_evidence`): the two states [ECEF (6,)] at times t0 < t1 [Unix s], the
    observed mean acceleration across the flight (along ê and ŵ × ê at the later state) [m/s²] and its
    covariance (2, 2) [m²/s⁴]."""

    t0: float
    x0: NDArray
    t1: float
    x1: NDArray
    accel: NDArray
    cov: NDArray

    @property
    def lifting(self) -> bool:
        """Whether the lift shows beyond doubt: outside the 99 % region of no lift and above 0.5 m/s²."""
        a = self.accel
        return bool(a @ np.linalg.solve(self.cov, a) > 9.21 and np.hypot(*a) > 0.5)


def lift_evidence(t: NDArray, x: NDArray, p: NDArray, beta: float = ASSUMED_BETA) -> Evidence | None:
    """The acceleration across the flight that gravity and drag do not give, from a track's states.

    ``t`` (m,) [Unix s], ``x`` (m, 6) ECEF, ``p`` (m, 6, 6): the track's settled coasting states, the last
    the one predicted from.  The earlier state is the first one :data:`EVIDENCE_WINDOW_S` (10–20 s) before
    it; None if there is none.  That state is flown ballistically (drag with
    ``beta``) to the later one's time; the later one's *position* less the flown one's, across the flight
    direction, is ½ a Δt² for a mean acceleration a across it (positions, not velocities: a filter's
    velocity lags a manoeuvre's onset for seconds, its positions follow the measurements).  The
    covariance counts the two states' errors as independent (which overstates a filter's, so the
    evidence is weighed cautiously): the later position's and the earlier state's carried over Δt.
    """
    t = np.asarray(t, float)
    if t.size < 2:
        return None
    t1 = float(t[-1])
    early = np.flatnonzero((t <= t1 - EVIDENCE_WINDOW_S[0]) & (t >= t1 - EVIDENCE_WINDOW_S[1]))
    if early.size == 0:
        return None
    j = int(early[0])
    dt = t1 - float(t[j])
    flown = dynamics.propagate(np.asarray(x[j : j + 1], float), dt, max_step=10.0, beta=beta)[0]
    x1 = np.asarray(x[-1], float)
    _, _, e, side = _frame_rows(x1[:, None])
    basis = np.stack([e[:, 0], side[:, 0]])  # (2, 3)
    accel = 2.0 * basis @ (x1[:3] - flown[:3]) / dt**2
    p0 = p[j]
    carried = p0[:3, :3] + dt * (p0[:3, 3:] + p0[3:, :3]) + dt * dt * p0[3:, 3:]
    cov = 4.0 * basis @ (carried + p[-1][:3, :3]) @ basis.T / dt**4
    return Evidence(float(t[j]), np.asarray(x[j], float), t1, x1, accel, cov)


def _frame_rows(s: NDArray) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """Speed (k,) and unit vectors (3, k) of states (6, k): along w, ê (up, perpendicular to w), ŵ × ê."""
    r, w = s[:3], s[3:]
    speed = np.sqrt(np.sum(w * w, axis=0))
    w_hat = w / np.maximum(speed, 1e-9)
    up = r / np.sqrt(np.sum(r * r, axis=0))
    e = up - np.sum(up * w_hat, axis=0) * w_hat
    e = e / np.maximum(np.sqrt(np.sum(e * e, axis=0)), 1e-12)
    return speed, w_hat, e, np.cross(w_hat.T, e.T).T


def _predicted_lift(x: NDArray, prog: Programmes, on: NDArray) -> NDArray:
    """Lift (2, k) [m/s²] along ê and ŵ × ê that programmes give at one ECEF state x (6,) if ``on``."""
    s = np.repeat(np.asarray(x, float)[:, None], len(prog), axis=1)
    size, _ = _lift_size(s, 1.0 / prog.beta, prog.lift_to_drag, prog.max_accel)
    size = np.where(on, size, 0.0)
    bank = np.where((prog.kind == GLIDE) & (prog.turn != 0.0), np.sign(prog.turn) * GLIDE_BANK, 0.0)
    return np.stack([size * np.cos(bank), size * np.sin(bank)])


def weigh(prog: Programmes, evidence: Evidence | None) -> tuple[NDArray, NDArray]:
    """Likelihood weights (k,) of programmes given the evidence (all 1 without), and whether each lifts now."""
    if evidence is None:
        return np.ones(len(prog)), np.zeros(len(prog), bool)
    seen = evidence.lifting
    on0 = initial_phase(evidence.x0[None].repeat(len(prog), 0), prog, seen)
    on1 = initial_phase(evidence.x1[None].repeat(len(prog), 0), prog, seen)
    mean = 0.5 * (_predicted_lift(evidence.x0, prog, on0) + _predicted_lift(evidence.x1, prog, on1))  # (2, k)
    size2 = np.sum(mean * mean, axis=0)
    extra = (EVIDENCE_RELATIVE**2) * size2 + EVIDENCE_FLOOR**2
    c = evidence.cov[:, :, None] + extra[None, None, :] * np.eye(2)[:, :, None]  # (2, 2, k)
    r = evidence.accel[:, None] - mean
    det = c[0, 0] * c[1, 1] - c[0, 1] * c[1, 0]
    m2 = (c[1, 1] * r[0] ** 2 - 2.0 * c[0, 1] * r[0] * r[1] + c[0, 0] * r[1] ** 2) / det
    log_w = -0.5 * m2 - 0.5 * np.log(det)
    return np.exp(log_w - log_w.max()), on1


# --- the prediction -----------------------------------------------------------------------------------------


def can_manoeuvre(x: NDArray, history_x: NDArray | None = None) -> NDArray:
    """Whether tracks at ECEF states x (n, 6) fly low enough to lift: the highest of their history's states
    (``history_x`` (m, 6), one track's, for n = 1) and of the two-body arc through x below
    :data:`mwx.sim.lift.MAX_LIFT_APOGEE`."""
    x = np.asarray(x, float)
    top = wgs84.ellipsoidal_height(kepler.apoapsis(x))
    if history_x is not None and len(history_x):
        top = np.maximum(top, float(np.max(wgs84.ellipsoidal_height(np.asarray(history_x)[:, :3]))))
    return np.asarray(np.isfinite(top) & (top < MAX_LIFT_APOGEE))


@dataclass(frozen=True)
class Reach:
    """What the lift adds to one track's prediction (for benchmarks and tests): the ballistic share of the pool,
    the flown programmes, their impact points (k, 3) [m, ECEF] and times (k,) [Unix s], and the evidence."""

    ballistic_share: float
    programmes: Programmes
    hit: NDArray
    hit_t: NDArray
    evidence: Evidence | None


def predict(
    x: NDArray,
    p: NDArray,
    t: NDArray,
    rng: np.random.Generator,
    components: Sequence[drag.Component] = drag.REENTRY_BODY,
    *,
    samples: int = distribution.DEFAULT_SAMPLES,
    history: tuple[NDArray, NDArray, NDArray] | None = None,
    prior: LiftPrior = PRIOR,
    details: list[Reach | None] | None = None,
) -> ImpactDistribution:
    """Impact distribution of ECEF states x (n, 6), covariances p (n, 6, 6) at Unix times t (n,), with the lift
    of the tracks that can manoeuvre (module docstring).

    ``components``: the ballistic-coefficient mixture, as :func:`mwx.assess.distribution.predict_mixture`.
    ``history``: the track's settled coasting states (times (m,), states (m, 6), covariances (m, 6, 6)), the
    last at t, for n = 1: its highest point and its evidence of lift.  A batch in which no track can
    manoeuvre is exactly ``predict_mixture``.  ``details``, if given, gets each track's :class:`Reach` (None
    for a track that cannot manoeuvre).
    """
    x = np.asarray(x, float)
    p = np.asarray(p, float)
    n = x.shape[0]
    t = np.broadcast_to(np.asarray(t, float), (n,))
    if history is not None and n != 1:
        raise ValueError("history is one track's: predict it alone")
    capable = can_manoeuvre(x, None if history is None else history[1])
    if not capable.any():
        if details is not None:
            details.extend([None] * n)
        return distribution.predict_mixture(x, p, t, rng, components, samples=samples)
    parts = []
    for i in range(n):
        if capable[i]:
            part, info = _predict_one(x[i], p[i], float(t[i]), rng, components, samples, history, prior)
        else:
            part, info = distribution.predict_mixture(x[i : i + 1], p[i : i + 1], t[i : i + 1], rng, components,
                                                      samples=samples), None  # fmt: skip
        parts.append(part)
        if details is not None:
            details.append(info)
    return _stack(parts)


def _stack(parts: list[ImpactDistribution]) -> ImpactDistribution:
    """One distribution of the tracks of ``parts`` (one track each).  Their pools are as large (those of one
    mixture of components); a smaller one would be padded with NaN, samples that never land."""
    if len(parts) == 1:
        return parts[0]
    s = max(d.sample_time.shape[1] for d in parts)

    def pad(a: NDArray) -> NDArray:
        width = [(0, 0), (0, s - a.shape[1])] + [(0, 0)] * (a.ndim - 2)
        return np.pad(a, width, constant_values=np.nan)

    return ImpactDistribution(
        time=np.concatenate([d.time for d in parts]),
        lat=np.concatenate([d.lat for d in parts]),
        lon=np.concatenate([d.lon for d in parts]),
        cov_en=np.concatenate([d.cov_en for d in parts]),
        time_sigma=np.concatenate([d.time_sigma for d in parts]),
        sample_position=np.concatenate([pad(d.sample_position) for d in parts]),
        sample_time=np.concatenate([pad(d.sample_time) for d in parts]),
        apogee_alt=np.concatenate([d.apogee_alt for d in parts]),
        nominal_path=[path for d in parts for path in d.nominal_path],
    )


def fair_holding(pos: NDArray, kinds: NDArray, centre: NDArray, lat: float, lon: float, share: float = 0.95) -> NDArray:
    """East/north covariance (2, 2) [m²] whose χ²(2) 95 % ellipse about ``centre`` holds ``share`` of the impact
    samples ``pos`` (s, 3) [m, ECEF] (those that never land counted outside) and at least ``share`` of each
    kind of lifted flight among them (``kinds`` (s,): :data:`PULLUP`, :data:`GLIDE`; a kind under
    :data:`CENTRE_SHARE` of the pool not counted).

    The shape is the samples' second moment about the centre with the pull-ups' part weighted by e^λ and the
    glides' by e^−λ (the ballistic part as it is), λ found by bisection where the ellipse that holds
    ``share`` of all samples holds the same share of each of the two kinds; then, where that is less than
    ``share`` for a kind (one kind's reach beyond the other's: no shape holds both alike), the ellipse grows
    until it holds ``share`` of that kind.  λ = 0 is the plain second moment of
    :func:`mwx.assess.distribution._holding`, which holds the pull-ups' narrow streak and leaves out the
    edges of the glides' fan (``benchmarks/manoeuvre_calibration.py``: pull-ups 98 %, glides 84 % covered):
    one region for bodies the assessor cannot tell apart should not mean less for one than for the other.
    """
    basis = wgs84.enu_basis(np.array(lat), np.array(lon))[:2]  # (2, 3)
    d = (pos - centre) @ basis.T  # (s, 2)
    ok = np.isfinite(d).all(axis=1)
    east, north = np.where(ok, d[:, 0], 0.0), np.where(ok, d[:, 1], 0.0)
    norm = max(int(ok.sum()) - 1, 1)
    # Second moments (ee, en, nn) of each kind about the centre.
    parts = []
    for kind in (BALLISTIC, PULLUP, GLIDE):
        e_k, n_k = east[kinds == kind], north[kinds == kind]
        parts.append(np.array([e_k @ e_k, e_k @ n_k, n_k @ n_k]) / norm)
    pull, glide = kinds == PULLUP, kinds == GLIDE
    # Each kind of lifted flight the pool allows for gets its own ``share``: whichever the body flies, the
    # region holds that share of it (the ballistic samples, at the centre, are all held anyway).
    lifted = [k for k in (pull, glide) if k.mean() >= CENTRE_SHARE]
    rank = min(max(math.ceil(share * len(kinds)) - 1, 0), len(kinds) - 1)

    def ellipse(lam: float) -> tuple[NDArray, float, float]:
        ee, en, nn = parts[0] + math.exp(lam) * parts[1] + math.exp(-lam) * parts[2]
        det = ee * nn - en * en
        if not det > 0.0:
            return np.array([[ee, en], [en, nn]]), math.inf, 0.0
        m2 = np.where(ok, (nn * east * east - 2.0 * en * east * north + ee * north * north) / det, np.inf)
        q = float(np.partition(m2, rank)[rank])
        inside = m2 <= q
        held = (inside[pull].mean() if pull.any() else 1.0) - (inside[glide].mean() if glide.any() else 1.0)
        # Where that shape holds one kind less than ``share`` (its reach beyond the other's), the region grows
        # until it holds that share of it too, and so more than ``share`` of the pool.
        q = max([q] + [float(np.quantile(m2[k], share)) for k in lifted])
        return np.array([[ee, en], [en, nn]]) * q / CHI2_2_95, q, held

    cov, q, held = ellipse(0.0)
    if len(lifted) == 2 and held != 0.0:
        lo, hi = -FAIR_RANGE, FAIR_RANGE
        for _ in range(FAIR_STEPS):
            mid = 0.5 * (lo + hi)
            cov, q, held = ellipse(mid)
            if held > 0.0:
                hi = mid
            elif held < 0.0:
                lo = mid
            else:
                break
    if math.isfinite(q):
        return cov
    # More than the share left out never lands: no finite ellipse holds it (as distribution._holding).
    ee, en, nn = parts[0] + parts[1] + parts[2]
    return np.array([[ee, en], [en, nn]])


def _systematic(weights: NDArray, count: int, rng: np.random.Generator) -> NDArray:
    """Indices of ``count`` draws from ``weights`` (k,) by systematic resampling."""
    edges = np.cumsum(weights / weights.sum())
    edges[-1] = 1.0
    return np.searchsorted(edges, (rng.random() + np.arange(count)) / count)


def _predict_one(
    x: NDArray,
    p: NDArray,
    t: float,
    rng: np.random.Generator,
    components: Sequence[drag.Component],
    samples: int,
    history: tuple[NDArray, NDArray, NDArray] | None,
    prior: LiftPrior,
) -> tuple[ImpactDistribution, Reach]:
    """One track that can manoeuvre: ballistic samples, lifted samples, the pooled region (module docstring)."""
    weights = np.array([c.weight for c in components], float)
    weights /= weights.sum()
    body = int(np.argmax([c.beta for c in components]))  # the re-entry body: the only one that lifts
    evidence = None if history is None else lift_evidence(*history, beta=components[body].beta)
    candidates = draw_programmes(rng, CANDIDATES, components[body].beta, components[body].sigma_ln, prior)
    like, _ = weigh(candidates, evidence)
    lifts = candidates.kind != BALLISTIC
    ballistic = float(like[~lifts].sum() / like.sum())
    # Hypotheses' shares of the pool: each ballistic component (the body's scaled by its ballistic
    # probability), and the body's lifted flights.
    shares = weights.copy()
    shares[body] *= ballistic
    lifted_share = weights[body] * (1.0 - ballistic)
    if shares.max() * samples >= 0.5:
        main_count = max(round(samples * shares.max()), 1)
        n_ballistic = int(np.maximum(np.round(main_count * shares / shares.max()), 1).sum())
    else:  # nothing ballistic left: its flight only for the path and the apogee
        shares, main_count, n_ballistic = weights, 2, 0
    # The pool as large as predict_mixture's of the same components (so a batch's tracks pool alike).
    total = int(np.maximum(np.round(samples * weights / weights.max()), 1).sum())
    n_lifted = max(total - n_ballistic, 0) if lifted_share > 0.0 else 0
    scaled = [drag.Component(float(w), c.beta, c.sigma_ln) for w, c in zip(shares, components, strict=True)]
    with np.errstate(invalid="ignore", divide="ignore"):  # a component of one sample has no spread of its own
        main = distribution.predict_mixture(x[None], p[None], np.array([t]), rng, scaled, samples=main_count)
    pos, when = main.sample_position[0, :n_ballistic], main.sample_time[0, :n_ballistic]
    kinds = np.full(len(when), BALLISTIC)
    flown = candidates.take(np.flatnonzero(lifts)[_systematic(like[lifts], PROGRAMMES, rng)]) if n_lifted else None
    hit, hit_t = np.empty((0, 3)), np.empty(0)
    if flown is not None:
        seen = evidence is not None and evidence.lifting
        states = np.repeat(x[None], PROGRAMMES, axis=0)
        hit, hit_t, _ = fly_lifted(states, np.full(PROGRAMMES, t), flown, initial_phase(states, flown, seen))
        pick = np.arange(n_lifted) % PROGRAMMES
        radius = np.linalg.norm(hit, axis=1)
        sym = 0.5 * (p + p.T)
        chol = np.linalg.cholesky(sym + np.diag(1e-10 * np.diag(sym) + 1e-9))
        xs = x[None] + rng.standard_normal((n_lifted, 6)) @ chol.T
        arcs = kepler.crossing(xs, radius[pick], apoapsis=False)
        mean_arc = kepler.crossing(np.repeat(x[None], PROGRAMMES, axis=0), radius, apoapsis=False)
        pos = np.concatenate([pos, hit[pick] + arcs.position - mean_arc.position[pick]])
        when = np.concatenate([when, hit_t[pick] + arcs.time_of_flight - mean_arc.time_of_flight[pick]])
        kinds = np.concatenate([kinds, flown.kind[pick]])
    order = rng.permutation(len(when))
    pos, when, kinds = pos[order][None], when[order][None], kinds[order]
    if shares.sum() * (n_ballistic > 0) >= CENTRE_SHARE and np.isfinite(main.lat[0]):
        centre = wgs84.geodetic_to_ecef(main.lat, main.lon, np.zeros(1))
        time = main.time
    else:
        mean = np.nanmean(pos, axis=1)
        lat, lon, _ = wgs84.ecef_to_geodetic(mean)
        centre = wgs84.geodetic_to_ecef(lat, lon, np.zeros(1))
        time = np.nanmean(when, axis=1)
    _, lat, lon = distribution._spread(pos, centre)
    cov = fair_holding(pos[0], kinds, centre[0], float(lat[0]), float(lon[0]))[None]
    cov[~np.isfinite(main.time)] = np.nan
    with np.errstate(invalid="ignore"):
        time_sigma = np.sqrt(np.nanmean((when - time[:, None]) ** 2, axis=1))
    out = ImpactDistribution(
        time=time,
        lat=lat,
        lon=lon,
        cov_en=cov,
        time_sigma=time_sigma,
        sample_position=pos,
        sample_time=when,
        apogee_alt=main.apogee_alt,
        nominal_path=main.nominal_path,
    )
    empty = candidates.take(np.zeros(0, int))
    return out, Reach(ballistic, flown if flown is not None else empty, hit, hit_t, evidence)
