"""A partner's multi-target tracker: batched IMM-EKF, clustered GNN, M-of-N management, late reports.

Design
    * **State and filter.** Every track holds one estimate per motion mode
      (``xm`` (n, M, d), ``Pm`` (n, M, d, d)) and the mode probabilities
      ``mu`` (n, M); all tracks of a scan are predicted and updated together.
      The filter is an extended Kalman filter per mode (Joseph-form update),
      combined by the interacting multiple model (IMM) algorithm of Blom &
      Bar-Shalom (1988; Bar-Shalom, Li & Kirubarajan 2001, §11.6.6).  The EKF
      rather than a UKF: over one or two seconds between scans the ballistic
      dynamics are close to linear, so the EKF's linearisation error is far
      below the measurement noise at a third of the UKF's cost (the
      consistency tests measure it: ``tests/test_tracker.py``).  IMM rather
      than a single adaptive filter: boost and coast are different physics
      (thrust along the velocity vs. none), and burnout is a switch between
      them, which is what IMM models; drag needs no mode of its own because
      the coasting modes carry the inverse ballistic coefficient as a state.
    * **Three modes** (:func:`missile_tracker`; :mod:`mwx.track.motion`):
      boost, ballistic, and manoeuvre — ballistic flight plus an estimated
      aerodynamic lift across the velocity (a pull-up, a glide, a turn),
      bounded by what the air at the state can give (none above ~100 km).
      Ballistic ↔ manoeuvre switch at 1/300 s and 1/120 s, only below
      ``manoeuvre_ceiling_m`` (100 km): an exo-atmospheric coast is tracked as
      before.  In the air the IMM alone trusted the ballistic mode too far (a
      lift building up over tens of seconds barely shows in one innovation),
      so there the manoeuvre mode keeps a probability floor and the published
      covariance gives it at least half the weight (``TrackerConfig``); the
      lift, a state of that mode only, enters its mixing from itself
      (:meth:`Tracker._mixing_sources`).  Predictions in the air are chained
      in ≤ 5 s steps, updates after a long gap iterated (IEKF), κ kept ≥ 0
      and the lift within the air's bound.  Measured on manoeuvring flights (``tests/test_manoeuvre_tracking.py``,
      ``docs/tracking-benchmark.md``): the two-mode tracker broke the track
      into as many as 7 numbers, its NEES in the tens to hundreds; this keeps
      one track, the NEES within its 95 % bound, at about a fifth more time
      per scan.
    * **Association** (:mod:`mwx.track.association`): coarse k-d-tree gate,
      χ² gate, clusters, 2-D assignment per cluster.  The gate always allows
      ``gate_floor_sigma`` of position spread (radars' registration biases,
      which no track estimates, put one object's reports from two radars a few
      hundred metres apart), and the cost adds the squared mismatch of echo
      strength over ``feature_sigma_db`` (feature-aided: a re-entry body and
      its stage, close for minutes, differ by ~13 dB).
    * **Management.** Unexplained measurements start tentative tracks
      (:mod:`mwx.track.initiation`): radar reports in pairs from consecutive
      scans of one sensor (two-point initiation, so clutter costs little),
      infrared reports one by one.  M-of-N confirmation: a tentative track is
      confirmed once it has ``confirm_hits`` updates within ``confirm_looks``
      scans of the sensor that started it, and deleted otherwise.  A confirmed
      track is deleted when its predicted position σ exceeds
      ``max_position_sigma``, when it has had no update for
      ``boost_coast_limit_s`` while boosting or ``max_coast_s`` otherwise, or
      once it is predicted under ground.  So a coasting missile keeps its
      track across gaps between radars' coverage: in vacuum the prediction
      stays good for minutes.
    * **Identity at separation.** When, within ``split_radius`` of the
      measurement a confirmed track was given, an unassigned one has an echo
      weaker by more than ``split_feature_db`` (radar: the RCS estimated from the SNR,
      in dBsm), the track takes the weaker echo: a re-entry body
      is far smaller than the spent stage it leaves, so the warhead-bearing
      body keeps the track and the stage gets a new one.  The track's
      prediction is widened by the offset between the echoes before the update
      (a hand-over, not a pull between two objects).
    * **Duplicates** — a track that lost its object for a few scans and the
      new track started on it meanwhile — are merged into the older number
      (χ²(6) at the gate probability on position and velocity, within ``merge_radius``),
      unless one scan has updated both with separate reports (two reports of
      one scan are two objects: a radar that resolves a re-entry body and its
      stage while others still see one echo) or their echo strengths differ by
      more than ``split_feature_db``.
    * **Late and out-of-order reports** are used, not dropped: a scan older
      than a track's last update updates it by retrodiction (Bar-Shalom's
      one-step "B1" approximation: the state and covariance are carried back
      to the measurement time, the innovation formed there, and the gain
      applied through the cross-covariance ``P Fᵀ Hᵀ``; Bar-Shalom, IEEE TAES
      38(3), 2002), for lags up to ``max_lag_s``; older scans are counted in
      ``too_late`` and dropped.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from scipy.stats import chi2

from mwx.assess.kepler import inertial_velocity
from mwx.geo import wgs84
from mwx.track.association import Gated, assign, candidate_pairs
from mwx.track.base import Initiator, MotionModel, Scan
from mwx.track.initiation import InfraredInitiator, RadarInitiator
from mwx.track.motion import KAPPA, POS, VEL, Ballistic, Boost, Manoeuvre, height, propagate_modes, transition_modes
from mwx.track.registration import BIASED, Registration


@dataclass
class TrackerConfig:
    """What a tracker needs besides its models; the defaults are those of missile tracking."""

    gate_probability: float = 0.9999
    gate_floor_sigma: float = 300.0  # m: position spread always allowed in the gate (unestimated biases)
    confirm_hits: int = 3
    confirm_looks: int = 5
    boost_coast_limit_s: float = 20.0
    max_coast_s: float = 3600.0  # a coasting missile may be out of every radar's view for half an hour (ICBM)
    max_position_sigma: float = 20e3  # m
    tentative_limit_s: float = 30.0
    max_lag_s: float = 30.0
    split_feature_db: float = 6.0
    feature_sigma_db: float = 3.0  # spread of one object's echo strength, for feature-aided assignment
    split_radius: float = 2e3  # m
    merge_radius: float = 2e3  # m: duplicates closer than this are tested for merging
    separation_speed: float = 10.0  # m/s: relative speed of separated objects (velocity widening at hand-over)
    #: A missile's pieces (re-entry body, spent stage) part at burnout at a few m/s (σ, along the velocity)
    #: and stay one echo until a radar resolves them: the published covariance covers any piece of the group
    #: (see :meth:`Tracker.estimates`) until the track splits or ``group_allowance_s`` after burnout.
    group_separation_speed: float = 3.0
    #: ... and across it (the push is not exactly along the velocity, nor is the ECEF velocity the inertial one).
    group_cross_speed: float = 1.0
    group_allowance_s: float = 300.0
    #: σ of the time the pieces have been parting at a track's burnout call: the IMM calls burnout some
    #: seconds after it happens (the pieces' offset is Δv (τ + ε), ε ~ N(0, slack²)).
    group_time_slack_s: float = 15.0
    #: ... for missiles that burn out faster than this [m/s, inertial] only.  Slower ones are taken to stay
    #: whole: single-stage short-range missiles that keep their warhead on (the generic vehicle of
    #: :mod:`mwx.sim.flight` burns under 100 s below 3.11 km/s, and :func:`mwx.sim.truth.default_stages`
    #: separates nothing then).  Judged from the state's energy (see :func:`burnout_speed`).
    group_min_burnout_speed: float = 3111.0
    #: Per second, mode i → j, modes (boost, ballistic, manoeuvre) as :func:`missile_tracker` builds them
    #: (a two-mode tracker takes the top-left 2 × 2).  Boost → ballistic only: a motor that has burnt out
    #: does not relight, and a lift starts from a coast.  Ballistic → manoeuvre at 1/300 s: a body in
    #: the air starts to lift about once in the few minutes it flies there; manoeuvre → ballistic at
    #: 1/120 s: a lift phase lasts minutes (a pull-up ~3.5 min, a glide's bank ~5).  None enter the
    #: manoeuvre mode above ``manoeuvre_ceiling_m``.  Π = exp(Λ Δt) (:func:`switch_matrix`).
    switch_rates: tuple[tuple[float, ...], ...] = (
        (0.0, 1.0 / 60.0, 0.0),
        (0.0, 0.0, 1.0 / 300.0),
        (0.0, 1.0 / 120.0, 0.0),
    )
    #: A mode whose probability falls below this is dropped (probability 0): with no way back
    #: into boost, a lingering 10⁻⁴ of a boost mode would otherwise keep its far wider
    #: covariance in the output for minutes and make it needlessly conservative.  (Below the ceiling the
    #: manoeuvre mode has a floor of its own, ``manoeuvre_min_probability``.)
    mode_floor: float = 1e-4
    initial_modes: dict[str, tuple[float, ...]] = field(
        default_factory=lambda: {"radar": (0.45, 0.45, 0.1), "infrared": (0.95, 0.05, 0.0), "position": (1.0,)}
    )
    boost_mode: int | None = 0  # index of the powered-flight mode, if any
    #: Index of the lifting-flight mode (:class:`~mwx.track.motion.Manoeuvre`), if any ...
    manoeuvre_mode: int | None = 2
    #: ... and the height [m] above which no track enters it (its rates into it are 0 there) nor has the
    #: floors below: a body above the air cannot lift (the mode's bound is under 3·10⁻³ m/s² there), so an
    #: exo-atmospheric coast is tracked by the ballistic mode alone, as tight as without the mode.
    manoeuvre_ceiling_m: float = 100e3
    #: Below the ceiling, once coasting, the ballistic mode is not trusted beyond what the data support.
    #: A lift that builds up over tens of seconds hardly shows in one scan's innovation (radars that see
    #: a pull-up from the side at 500 km measure its vertical velocity through elevation alone), while
    #: the tighter ballistic mode wins each scan's likelihood: measured, the IMM gave it the probability
    #: with a velocity 30–50 m/s off and σ 2 m/s (NEES in the hundreds).  So (i) the manoeuvre mode keeps
    #: at least ``manoeuvre_min_probability`` after each update, enough that the mixing does not
    #: re-seed it from the ballistic mode at every scan (its lift estimate would follow the ballistic
    #: mode's errors), and (ii) the published covariance (:meth:`Tracker.estimates`, about the IMM
    #: mean) weighs the manoeuvre mode by at least ``manoeuvre_cover_probability``: half, so the lift the
    #: data cannot rule out is covered; the mean, hence the RMSE of a ballistic flight, is the IMM's.
    manoeuvre_min_probability: float = 0.05
    manoeuvre_cover_probability: float = 0.5
    #: Predictions of tracks below ``air_ceiling_m`` [m] are chained in steps of at most ``air_step_s``
    #: [s] (see :meth:`Tracker._prediction_steps`); 0: one step.
    air_step_s: float = 5.0
    air_ceiling_m: float = 100e3
    #: Updates whose predicted measurement σ exceeds the report's by more than ``iterate_ratio`` are
    #: iterated ``iterations`` times (:meth:`Tracker._iterate_update`); 0 iterations: never.
    iterate_ratio: float = 30.0
    iterations: int = 2
    #: State components an update may not make negative (:meth:`Tracker._project`): κ of the missile state.
    nonnegative_states: tuple[int, ...] = (KAPPA,)
    earth_fixed: bool = True  # states are ECEF: delete tracks predicted under ground
    two_point_kinds: tuple[str, ...] = ("radar",)  # scans whose reports start tracks in pairs
    max_speed: float = 8000.0  # m/s: fastest object a pair may describe
    max_acceleration: float = 100.0  # m/s²: boost and re-entry, for a pair's velocity spread
    pending_max_age_s: float = 12.0  # a lone report waits at most this for its pair


@dataclass
class TrackTable:
    """All tracks of one tracker, one row each (per-mode estimates and bookkeeping)."""

    xm: NDArray  # (n, M, d) bias-free estimates (see mwx.track.registration)
    Pm: NDArray  # (n, M, d, d) their covariances
    Qm: NDArray  # (n, M, d, d) the part of Pm the model's errors make (process noise; see Modes)
    Vm: NDArray  # (n, M, d, n_b) their sensitivities to the partner's registration biases
    mu: NDArray  # (n, M)
    t: NDArray  # (n,) time of the estimate, Unix s
    number: NDArray  # (n,) int
    hits: NDArray  # (n,) int
    looks: NDArray  # (n,) int: scans of the initiating sensor since initiation (M-of-N)
    init_sensor: NDArray  # (n,) int
    confirmed: NDArray  # (n,) bool
    first_time: NDArray  # (n,) first measurement time
    last_update: NDArray  # (n,) last measurement time
    feature_db: NDArray  # (n,) smoothed echo strength of its measurements (NaN: none)
    coasting_since: NDArray  # (n,) Unix s since when it has flown ballistic (boost mode under 1 %); NaN: not
    resolved: NDArray  # (n,) bool: it split from, or off, another piece of its missile (Tracker._split)

    @classmethod
    def empty(cls, modes: int, dim: int, biases: int = 0) -> TrackTable:
        return cls(
            np.empty((0, modes, dim)),
            np.empty((0, modes, dim, dim)),
            np.empty((0, modes, dim, dim)),
            np.empty((0, modes, dim, biases)),
            np.empty((0, modes)),
            np.empty(0),
            np.empty(0, np.int64),
            np.empty(0, np.int64),
            np.empty(0, np.int64),
            np.empty(0, np.int64),
            np.empty(0, bool),
            np.empty(0),
            np.empty(0),
            np.empty(0),
            np.empty(0),
            np.empty(0, bool),
        )

    def __len__(self) -> int:
        return int(self.t.size)

    def keep(self, mask: NDArray) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name)[mask])

    def append(self, other: TrackTable) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, np.concatenate([getattr(self, name), getattr(other, name)]))

    def modes(self, rows: NDArray) -> Modes:
        """The per-mode estimates of tracks ``rows``."""
        return Modes(self.xm[rows], self.Pm[rows], self.Qm[rows], self.Vm[rows], self.mu[rows])

    def set_modes(self, rows: NDArray, modes: Modes) -> None:
        self.xm[rows], self.Pm[rows], self.Qm[rows], self.Vm[rows] = modes.x, modes.P, modes.Q, modes.V
        self.mu[rows] = modes.mu


@dataclass
class Modes:
    """Per-mode estimates of some tracks: what a tracker predicts, gates and updates together.

    ``x`` (n, M, d) the bias-free filter's means, ``P`` (n, M, d, d) their covariances, ``Q`` the part
    of ``P`` that the motion model's errors make (its process noise, the IMM's spread between modes,
    the allowances for echoes that may be another object's), ``V`` (n, M, d, n_b) the sensitivities to
    the registration biases, ``mu`` (n, M) the mode probabilities.

    The split of P matters to whoever fuses this track with another partner's: the model's errors are
    the object's (a thrust profile, a drag, every tracker of it errs alike), so they may be correlated
    with other partners' errors; the rest of P — this partner's sensors' noise — and what is unknown of
    its registration are its own.  Q follows P's recursion without the measurement noise: Q⁻ = F Q Fᵀ +
    Q_w, Q = (I − K H) Q⁻ (I − K H)ᵀ (Joseph form), so P − Q stays the noise-driven part.
    """

    x: NDArray
    P: NDArray
    Q: NDArray
    V: NDArray
    mu: NDArray

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def take(self, index: NDArray) -> Modes:
        return Modes(self.x[index], self.P[index], self.Q[index], self.V[index], self.mu[index])

    @staticmethod
    def concat(parts: list[Modes]) -> Modes:
        return Modes(*(np.concatenate([getattr(m, f) for m in parts]) for f in ("x", "P", "Q", "V", "mu")))

    def copy(self) -> Modes:
        return Modes(self.x.copy(), self.P.copy(), self.Q.copy(), self.V.copy(), self.mu.copy())


class Split(NamedTuple):
    """A track handed over to the weaker of two echoes at a separation (:meth:`Tracker._keep_weaker_echo`).

    ``parent``: its row; ``stronger``, ``weaker``: the two echoes' measurement rows; ``prediction``:
    its per-mode prediction at the scan (one row), before the hand-over widened it.
    """

    parent: int
    stronger: int
    weaker: int
    prediction: Modes


class Estimates(NamedTuple):
    """A tracker's best estimates of some tracks: the bias-free states corrected by the registration.

    ``x`` (n, d) and ``P`` (n, d, d), ECEF.  ``P_own`` (n, d, d) is the part of ``P`` made by this
    partner's own errors, independent of other partners': its sensors' noise and what is still unknown
    of its radars' registration biases (the rest is the motion model's, :class:`Modes`).
    """

    x: NDArray
    P: NDArray
    P_own: NDArray


#: Tracks teach the registration only above this height [m]: below it drag acts (see Tracker._keep_for_registration).
REGISTRATION_FLOOR_M = 120e3
#: ... and only once they have flown ballistic this long [s] (ibid.).
REGISTRATION_SETTLE_S = 30.0
#: A track whose boost mode is less likely than this is coasting.
COASTING_PROBABILITY = 0.01


def _prior_part(p: NDArray) -> NDArray:
    """The part of new tracks' covariances ``p`` (m, d, d) that no report measured: all but the position."""
    q = p.copy()
    q[:, POS, :] = 0.0
    q[:, :, POS] = 0.0
    return q


def combine(xm: NDArray, pm: NDArray, mu: NDArray) -> tuple[NDArray, NDArray]:
    """IMM output: the mixture's mean and covariance over modes."""
    if xm.shape[1] == 1:
        return xm[:, 0], pm[:, 0]
    x = np.einsum("nm,nmd->nd", mu, xm)
    dx = xm - x[:, None, :]
    p = np.einsum("nm,nmij->nij", mu, pm + dx[:, :, :, None] * dx[:, :, None, :])
    return x, p


def switch_matrix(rates: NDArray, dt: NDArray) -> NDArray:
    """Mode transition probabilities Π (n, M, M) over ``dt`` (n,) of a continuous-time Markov chain.

    ``rates`` (M, M), or (n, M, M) one per track: per second, i → j (the diagonal is ignored).
    Π = exp(Λ |dt|), Λ the generator: in closed form for two modes, else by scaling and squaring
    (a degree-8 Taylor polynomial of Λ |dt| / 2ˢ, ‖Λ |dt| / 2ˢ‖ ≤ 1/4, squared s times).
    """
    m = rates.shape[-1]
    n = dt.size
    if m == 1:
        return np.ones((n, 1, 1))
    if m == 2 and rates.ndim == 2:
        a, b = rates[0, 1], rates[1, 0]
        total = max(a + b, 1e-300)
        decay = np.exp(-total * np.abs(dt))
        p00 = (b + a * decay) / total
        p11 = (a + b * decay) / total
        return np.stack([np.stack([p00, 1 - p00], -1), np.stack([1 - p11, p11], -1)], axis=1)
    if rates.ndim == 3:
        # One track's rates or another's: a few distinct generators, each in closed form.
        out = np.empty((n, m, m))
        flat = rates.reshape(n, -1)
        _, first, which = np.unique(flat, axis=0, return_index=True, return_inverse=True)
        for k, row in enumerate(first):
            pick = np.flatnonzero(which.ravel() == k)
            out[pick] = switch_matrix(rates[row], dt[pick])
        return out
    eigen = _generator_eigen(rates.tobytes(), m)
    if eigen is not None:
        lam, vec, inv = eigen
        out = np.einsum("ik,nk,kj->nij", vec, np.exp(np.outer(np.abs(dt), lam)), inv)
        out = np.clip(out, 0.0, 1.0)
        return out / out.sum(axis=2, keepdims=True)
    off = np.broadcast_to(rates, (n, m, m)) * (1.0 - np.eye(m))
    generator = off - np.eye(m) * off.sum(axis=2)[:, :, None]
    a = generator * np.abs(dt)[:, None, None]
    norm = float(np.abs(a).sum(axis=2).max()) if n else 0.0
    squarings = max(0, math.ceil(math.log2(norm / 0.25))) if norm > 0.25 else 0
    a = a / 2.0**squarings
    out = np.broadcast_to(np.eye(m), a.shape).copy()
    for k in range(8, 0, -1):  # Horner: I + a (I + a/2 (I + a/3 (...)))
        out = np.eye(m) + a @ out / k
    for _ in range(squarings):
        out = out @ out
    out = np.clip(out, 0.0, 1.0)
    return out / out.sum(axis=2, keepdims=True)


@lru_cache(maxsize=64)
def _generator_eigen(rates: bytes, m: int) -> tuple[NDArray, NDArray, NDArray] | None:
    """Eigendecomposition Λ = V diag(λ) V⁻¹ of the generator of switch rates (M, M) given as bytes; None when
    Λ is not safely diagonalisable (switch_matrix then scales and squares)."""
    off = np.frombuffer(rates, float).reshape(m, m) * (1.0 - np.eye(m))
    generator = off - np.diag(off.sum(axis=1))
    lam, vec = np.linalg.eig(generator)
    if (np.iscomplexobj(lam) and np.abs(lam.imag).max() > 0.0) or np.linalg.cond(vec) > 1e6:
        return None
    return lam.real, vec.real, np.linalg.inv(vec.real)


@lru_cache(maxsize=64)
def gate_threshold(probability: float, dim: int) -> float:
    """χ²(dim) quantile of the gate probability."""
    return float(chi2.ppf(probability, dim))


def _mahalanobis(nu: NDArray, s: NDArray) -> tuple[NDArray, NDArray]:
    """νᵀ S⁻¹ ν and log det S (p,) of innovations ``nu`` (p, k), covariances ``s`` (p, k, k); both +inf where S
    is not finite and positive definite (such a pair is not gated, and one broken track does not stop the scan).
    """
    d2 = np.full(len(s), np.inf)
    log_det = np.full(len(s), np.inf)
    ok = np.flatnonzero(np.isfinite(s).all(axis=(1, 2)) & np.isfinite(nu).all(axis=1))
    if not ok.size:
        return d2, log_det
    sign, ld = np.linalg.slogdet(s[ok])
    ok, ld = ok[sign > 0], ld[sign > 0]
    try:
        solved = np.linalg.solve(s[ok], nu[ok, :, None])[..., 0]
    except np.linalg.LinAlgError:  # numerically singular (slogdet's sign is > 0): row by row, keep what solves
        solved = np.full((ok.size, nu.shape[1]), np.nan)
        for i, row in enumerate(ok):
            with contextlib.suppress(np.linalg.LinAlgError):
                solved[i] = np.linalg.solve(s[row], nu[row])
    d2[ok] = np.einsum("pi,pi->p", nu[ok], solved)
    log_det[ok] = ld
    bad = ~np.isfinite(d2)
    d2[bad], log_det[bad] = np.inf, np.inf
    return d2, log_det


def _gaussian_log_likelihood(nu: NDArray, s: NDArray) -> NDArray:
    _, log_det = np.linalg.slogdet(s)
    d2 = np.einsum("...i,...i->...", nu, np.linalg.solve(s, nu[..., None])[..., 0])
    return -0.5 * (d2 + log_det + nu.shape[-1] * math.log(2.0 * math.pi))


class Tracker:
    """Tracks of one partner from its sensors' scans (see the module docstring)."""

    def __init__(
        self,
        name: str,
        modes: list[MotionModel],
        initiators: dict[str, Initiator],
        config: TrackerConfig | None = None,
        dim: int = 8,
        registration: Registration | None = None,
    ) -> None:
        self.name = name
        self.modes = list(modes)
        self.initiators = initiators
        self.config = config or TrackerConfig()
        rates = np.asarray(self.config.switch_rates, float)
        self.rates = rates[: len(modes), : len(modes)] if len(modes) > 1 else np.zeros((1, 1))
        self.dim = dim
        #: The partner's radar biases, estimated from the tracks' innovations (:mod:`mwx.track.registration`);
        #: empty (no biased sensor) when none is given.
        self.registration = registration if registration is not None else Registration({})
        self.tracks = TrackTable.empty(len(self.modes), dim, self.registration.size)
        self._next_number = 1
        self.too_late = 0
        self.late_updates = 0
        self.handovers = 0  # identities handed to a weaker echo at a separation
        self.merges = 0  # duplicate tracks folded into one
        self._positions_of: Scan | None = None
        self._positions: tuple[NDArray, NDArray, NDArray, NDArray] = (
            np.empty((0, 3)), np.empty((0, 3, 3)), np.empty(0), np.empty((0, 3, self.registration.size))
        )  # fmt: skip
        # Per sensor: the previous scan's unexplained reports awaiting a pair
        # (time, positions, position covariances, traces, position sensitivities to the biases).
        self._pending: dict[int, tuple[float, NDArray, NDArray, NDArray, NDArray]] = {}
        # One scan's bias-free innovations of settled tracks for the registration: (S, ν, Σ) per update.
        self._learn: list[tuple[NDArray, NDArray, NDArray]] = []
        # Pairs of track numbers (lower, higher) that one scan resolved: two reports of one scan
        # are two objects, so such tracks are never merged as duplicates.
        self._resolved: set[tuple[int, int]] = set()

    # ----------------------------------------------------------------- queries
    def track_id(self, number: int) -> str:
        return f"{self.name}-T{number:04d}"

    def estimates(self, rows: NDArray | None = None) -> Estimates:
        """Best estimates of tracks ``rows`` (all by default): x̂ = x̃ + V b̂, P = P̃ + V P_b Vᵀ, combined over modes.

        ``P_own`` is P less the model's part: Σ μ (P̃ − Q + V P_b Vᵀ) over the modes (the spread between
        modes counts as the model's).

        Coasting tracks below the manoeuvre ceiling publish P with the manoeuvre mode weighted at least
        ``manoeuvre_cover_probability`` about the same mean, Σ w (P_j + (x_j − x)(x_j − x)ᵀ)
        (:meth:`_cover_weights`, ``TrackerConfig.manoeuvre_min_probability``), and ``P_own`` with the same
        weights w (so P − P_own = Σ w Q + spread stays positive semi-definite): the lift the data
        cannot yet rule out is covered.

        A missile track that has not split since burnout may hold its missile's pieces as one echo, and its
        state then follows their echo-weighted centroid (the bright spent stage's, mostly), not the piece
        it will keep (the re-entry body, :meth:`_keep_weaker_echo`).  Its P adds, to the model's part, the
        pieces' parting since burnout — velocity σ ``group_separation_speed`` along the velocity v̂, the
        position offset it makes over τ = t − burnout — [τ² + s² τ; τ 1] ⊗ (σ² v̂v̂ᵀ + σ⊥² (I − v̂v̂ᵀ)), σ⊥
        ``group_cross_speed`` across it, s ``group_time_slack_s`` — for ``group_allowance_s``
        after burnout unless the track splits first.  The filter itself is left alone: it estimates what
        it is given, the centroid; the allowance says which object that is is not known.
        """
        pick = np.arange(len(self.tracks)) if rows is None else np.asarray(rows)
        m = self.tracks.modes(pick)
        xm, pm, reg = self._corrected(m)
        x, p = combine(xm, pm, m.mu)
        weights = self._cover_weights(m.mu, x)
        if weights is None:
            weights = m.mu
        else:
            dx = xm - x[:, None, :]
            p = np.einsum("nm,nmij->nij", weights, pm + dx[:, :, :, None] * dx[:, :, None, :])
        own = np.einsum("nm,nmij->nij", weights, m.P - m.Q + reg)
        p = p + self._group_allowance(pick, x)
        return Estimates(x, p, 0.5 * (own + np.swapaxes(own, 1, 2)))

    def _group_allowance(self, rows: NDArray, x: NDArray) -> NDArray:
        """The unresolved pieces' covariance (n, d, d) for tracks ``rows`` at states ``x`` (see :meth:`estimates`)."""
        cfg, tr = self.config, self.tracks
        out = np.zeros((len(rows), self.dim, self.dim))
        if cfg.boost_mode is None or len(self.modes) < 2 or not len(rows):
            return out
        tau = tr.t[rows] - tr.coasting_since[rows]  # NaN while powered
        on = (tau >= 0.0) & (tau < cfg.group_allowance_s) & ~tr.resolved[rows]
        on[on] = burnout_speed(x[on]) >= cfg.group_min_burnout_speed
        if not on.any():
            return out
        v = x[on][:, VEL]
        u = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
        along = np.einsum("ni,nj->nij", u, u)
        uu = cfg.group_separation_speed**2 * along + cfg.group_cross_speed**2 * (np.eye(3) - along)
        t = tau[on][:, None, None]
        block = np.zeros((int(on.sum()), self.dim, self.dim))
        slack = cfg.group_time_slack_s**2
        block[:, POS, POS], block[:, POS, VEL], block[:, VEL, POS], block[:, VEL, VEL] = (
            (t * t + slack) * uu,
            t * uu,
            t * uu,
            uu,
        )
        out[on] = block
        return out

    def _corrected(self, m: Modes) -> tuple[NDArray, NDArray, NDArray]:
        """Per-mode bias-free states corrected by the registration: x̃ + V b̂, P̃ + V P_b Vᵀ, and V P_b Vᵀ."""
        reg = self.registration
        if reg.size == 0:
            return m.x, m.P, np.zeros_like(m.P)
        part = m.V @ reg.P @ np.swapaxes(m.V, -1, -2)
        return m.x + m.V @ reg.b, m.P + part, part

    @property
    def boosting(self) -> NDArray:
        """Whether each track is more likely powered than not."""
        return self.boost_probability() > 0.5

    def boost_probability(self, rows: NDArray | None = None) -> NDArray:
        """Probability of the powered-flight mode of tracks ``rows`` (all by default); 0 without one."""
        b = self.config.boost_mode
        pick = slice(None) if rows is None else rows
        if b is None or len(self.modes) == 1:
            return np.zeros(len(self.tracks.t[pick]))
        return self.tracks.mu[pick, b]

    def manoeuvre_probability(self, rows: NDArray | None = None) -> NDArray:
        """Probability of the lifting-flight mode of tracks ``rows`` (all by default); 0 without one."""
        j = self.config.manoeuvre_mode
        pick = slice(None) if rows is None else rows
        if j is None or j >= len(self.modes):
            return np.zeros(len(self.tracks.t[pick]))
        return self.tracks.mu[pick, j]

    # ----------------------------------------------------------------- prediction
    def _switch_rates(self, now: Modes) -> NDArray:
        """The mode switch rates (M, M), or (n, M, M) per track: none into the manoeuvre mode above its ceiling."""
        j = self.config.manoeuvre_mode
        if j is None or j >= len(self.modes) or not len(now):
            return self.rates
        pos = np.einsum("nm,nmd->nd", now.mu, now.x[:, :, POS])
        above = height(pos) > self.config.manoeuvre_ceiling_m
        if not above.any():
            return self.rates
        rates = np.repeat(self.rates[None], len(now), axis=0)
        rates[above, :, j] = 0.0
        return rates

    def _mixing_sources(self, now: Modes) -> tuple[NDArray, NDArray, NDArray, NDArray]:
        """Each mode's estimate as it enters the mixing of each mode: x (n, i, j, d), P, Q, V (n, i, j, d, ·).

        A mode's own states — those the others do not model (:class:`~mwx.track.motion.Manoeuvre`'s lift,
        its ``own_states``) — are taken, in every other mode's contribution to it, from the mode itself,
        mean and variance, uncorrelated with the rest (Granström, Willett & Bar-Shalom, "Systematic
        approach to IMM mixing for unequal dimension states", IEEE TAES 51(4), 2015): else the ballistic
        mode's unused 0 would pull the estimated lift to 0 at every scan while the manoeuvre mode is
        unlikely, and it could never build up the lift that would show it likelier.

        A mode that has lost all probability (``mode_floor``) has no estimate of its own states to give: they
        come from its prior for new tracks (its ``start``: the lift 0 ± a_max at the state) instead, so what it
        fitted while it was out of the mixture (a motor's push or a fragment's drag as a lift) is not kept.
        """
        n_modes = len(self.modes)
        shape = (len(now), n_modes, n_modes)
        xs = np.broadcast_to(now.x[:, :, None], (*shape, self.dim))
        ps = np.broadcast_to(now.P[:, :, None], (*shape, self.dim, self.dim))
        qs = np.broadcast_to(now.Q[:, :, None], (*shape, self.dim, self.dim))
        vs = np.broadcast_to(now.V[:, :, None], (*shape, *now.V.shape[2:]))
        filled = [(j, tuple(getattr(model, "own_states", ()))) for j, model in enumerate(self.modes)]
        filled = [(j, own) for j, own in filled if own]
        if not filled:
            return xs, ps, qs, vs
        xs, ps, qs, vs = xs.copy(), ps.copy(), qs.copy(), vs.copy()
        for j, own in filled:
            mine_x, mine_p, mine_q, mine_v = now.x[:, j], now.P[:, j], now.Q[:, j], now.V[:, j]
            dead = np.flatnonzero(now.mu[:, j] <= 0.0)
            start = getattr(self.modes[j], "start", None)
            if dead.size and start is not None:
                mine_x, mine_p, mine_q, mine_v = mine_x.copy(), mine_p.copy(), mine_q.copy(), mine_v.copy()
                mixture = np.einsum("nm,nmd->nd", now.mu[dead], now.x[dead])  # where the prior is taken
                mine_x[dead], mine_p[dead] = start(mixture, mine_p[dead])
                mine_q[dead] = start(mixture, mine_q[dead])[1]
                mine_v[np.ix_(dead, own)] = 0.0
            for k in own:
                for i in range(n_modes):
                    if i == j:
                        continue
                    xs[:, i, j, k] = mine_x[:, k]
                    for cov, mine in ((ps, mine_p), (qs, mine_q)):
                        cov[:, i, j, k, :] = 0.0
                        cov[:, i, j, :, k] = 0.0
                        cov[:, i, j, k, k] = mine[:, k, k]
                    vs[:, i, j, k] = mine_v[:, k]
        return xs, ps, qs, vs

    def _cover_weights(self, mu: NDArray, x: NDArray) -> NDArray | None:
        """Mode weights (n, M) of the published covariance, about the mean of ``mu``: the manoeuvre mode's at
        least ``manoeuvre_cover_probability`` below the ceiling; None where no track needs other weights.

        A flat weight, not one that follows the evidence of a lift: the lift is poorly observed (its σ stays
        at 0.3–0.9 of the air's bound a_max on ballistic and lifting flights alike, and its estimate within
        2 σ of 0 on a pull-up seen from Japan at 20 m/s² of true lift), so weighting by how far the estimate
        is from 0 (full weight from 3 σ, or from 2 σ) left the pull-up's NEES at Japan's radars above its
        95 % bound at 22–31 % of the steps, and a flat 0.3 at the US radars' at 38 %.
        """
        cfg = self.config
        j, lo = cfg.manoeuvre_mode, cfg.manoeuvre_cover_probability
        if j is None or j >= len(self.modes) or lo <= 0.0 or not len(mu):
            return None
        low = (height(x[:, POS]) < cfg.manoeuvre_ceiling_m) & (mu[:, j] < lo)
        if cfg.boost_mode is not None:
            low &= mu[:, cfg.boost_mode] < COASTING_PROBABILITY
        if not low.any():
            return None
        w = mu.copy()
        rest = 1.0 - w[low, j]
        w[low] *= ((1.0 - lo) / np.maximum(rest, 1e-300))[:, None]
        w[low, j] = lo
        return w

    def _keep_manoeuvre(self, mu: NDArray, xm: NDArray) -> NDArray:
        """Mode probabilities ``mu`` (n, M) with the manoeuvre mode's at least ``manoeuvre_min_probability``
        for coasting tracks below the ceiling (per-mode states ``xm`` (n, M, d)); the others scaled down."""
        cfg = self.config
        j, lo = cfg.manoeuvre_mode, cfg.manoeuvre_min_probability
        if j is None or j >= len(self.modes) or lo <= 0.0 or not len(mu):
            return mu
        pos = np.einsum("nm,nmd->nd", mu, xm[:, :, POS])
        low = (height(pos) < cfg.manoeuvre_ceiling_m) & (mu[:, j] < lo)
        if cfg.boost_mode is not None:
            low &= mu[:, cfg.boost_mode] < COASTING_PROBABILITY
        if low.any():
            rest = 1.0 - mu[low, j]
            mu[low] *= ((1.0 - lo) / np.maximum(rest, 1e-300))[:, None]
            mu[low, j] = lo
        return mu

    def _predict_forward(self, rows: NDArray, time: float) -> Modes:
        """IMM mixing then per-mode prediction of tracks ``rows`` to ``time`` (``mu``: the predicted probabilities)."""
        tr = self.tracks
        dt = time - tr.t[rows]
        now = tr.modes(rows)
        if not rows.size:
            return now
        n_modes = len(self.modes)
        if n_modes > 1:
            pi = switch_matrix(self._switch_rates(now), dt)  # (n, i, j)
            c = np.einsum("nij,ni->nj", pi, now.mu)  # predicted mode probabilities
            w = pi * now.mu[:, :, None] / np.maximum(c[:, None, :], 1e-300)  # μ_{i|j}
            # A mode nobody can enter (c = 0) starts from the mixture, so it stays finite.
            dead = c <= 0.0
            if dead.any():
                w[dead.nonzero()[0], :, dead.nonzero()[1]] = now.mu[dead.nonzero()[0]]
            xs, ps, qs, vs = self._mixing_sources(now)
            x0 = np.einsum("nij,nijd->njd", w, xs)
            dx = xs - x0[:, None, :, :]  # (n, i, j, d)
            spread = dx[..., :, None] * dx[..., None, :]  # the modes' disagreement: the model's
            p0 = np.einsum("nij,nijab->njab", w, ps + spread)
            q0 = np.einsum("nij,nijab->njab", w, qs + spread)
            v0 = np.einsum("nij,nijdb->njdb", w, vs)  # the bias sensitivities mix as the states do
        else:
            c, x0, p0, q0, v0 = now.mu, now.x, now.P, now.Q, now.V
        steps = self._prediction_steps(x0, dt)
        out = Modes(x0.copy(), p0.copy(), q0.copy(), v0.copy(), c)
        for step in range(int(steps.max(initial=1))):
            on = np.flatnonzero(steps > step) if steps.max(initial=1) > 1 else slice(None)
            h = (dt / steps)[on]
            xs = out.x[on]
            out.x[on] = propagate_modes(self.modes, xs, h)
            f = transition_modes(self.modes, xs, h)
            noise = np.stack([model.noise(xs[:, j], h) for j, model in enumerate(self.modes)], axis=1)
            ft = np.swapaxes(f, 2, 3)
            out.P[on] = f @ out.P[on] @ ft + noise
            out.Q[on] = f @ out.Q[on] @ ft + noise
            out.V[on] = f @ out.V[on]
        return out

    def _prediction_steps(self, x0: NDArray, dt: NDArray) -> NDArray:
        """Into how many steps (n,) to split each track's prediction: below ``air_ceiling_m``, ``air_step_s`` at most.

        The transition and the noise are linearised at a step's start state: in the air, where drag and
        lift turn the flight within seconds, a coverage gap of tens of seconds taken in one step gave the
        first update after it a NEES in the thousands (a pull-up seen again after 50 s).
        """
        cfg = self.config
        steps = np.ones(dt.size, np.int64)
        if cfg.air_step_s <= 0.0 or not dt.size:
            return steps
        long = np.abs(dt) > cfg.air_step_s
        if long.any():
            low = height(x0[long, 0, POS]) < cfg.air_ceiling_m
            steps[np.flatnonzero(long)[low]] = np.ceil(np.abs(dt[long][low]) / cfg.air_step_s).astype(np.int64)
        return steps

    def _retrodict(self, rows: NDArray, time: float) -> tuple[Modes, NDArray]:
        """Per-mode estimates of tracks ``rows`` carried back to ``time``, and the backward transitions."""
        tr = self.tracks
        dt = time - tr.t[rows]  # negative
        now = tr.modes(rows)
        if not rows.size:
            return now, np.empty_like(now.P)
        back = Modes(propagate_modes(self.modes, now.x, dt), np.empty_like(now.P), np.empty_like(now.Q),
                     np.empty_like(now.V), now.mu)  # fmt: skip
        bf = transition_modes(self.modes, now.x, dt)
        noise = np.stack([model.noise(now.x[:, j], dt) for j, model in enumerate(self.modes)], axis=1)
        ft = np.swapaxes(bf, 2, 3)
        back.P[:] = bf @ (now.P + noise) @ ft
        back.Q[:] = bf @ (now.Q + noise) @ ft
        back.V[:] = bf @ now.V
        return back, bf

    # ----------------------------------------------------------------- the scan
    def process(self, scan: Scan) -> NDArray:
        """Use one scan; return the rows of the tracks it updated (tentative ones included)."""
        cfg = self.config
        self._delete_stale(scan.time)
        tr = self.tracks
        m = len(scan)
        fwd_rows = np.flatnonzero(tr.t <= scan.time)
        late_rows = np.flatnonzero((tr.t > scan.time) & (tr.t - scan.time <= cfg.max_lag_s))
        if len(tr) and late_rows.size == 0 and fwd_rows.size == 0:
            self.too_late += 1
            return np.empty(0, np.int64)
        fwd_rows, late_rows = self._near(scan, fwd_rows, late_rows)
        rows = np.concatenate([fwd_rows, late_rows])
        n_fwd = fwd_rows.size
        updated = np.empty(0, np.int64)
        assigned_meas = np.zeros(m, bool)
        if rows.size and m:
            fwd_pred = self._predict_forward(fwd_rows, scan.time)
            back, bf = self._retrodict(late_rows, scan.time)
            pred = Modes.concat([fwd_pred, back])
            merged = self._unresolved(scan, pred)
            gated = self._gate(scan, pred, merged, rows)
            mi, ti = assign(gated, m, rows.size)
            mi, splits = self._keep_weaker_echo(scan, mi, ti, rows, pred, n_fwd)
            assigned_meas[mi] = True
            fwd = ti < n_fwd
            self._update_forward(scan, rows[ti[fwd]], mi[fwd], pred.take(ti[fwd]), merged[ti[fwd]])
            late = ~fwd
            back_k = ti[late]
            self._update_late(scan, rows[back_k], mi[late], pred.take(back_k), bf[back_k - n_fwd], merged[back_k])
            self.late_updates += int(late.sum())
            updated = np.concatenate([rows[ti], self._split(scan, splits)])
            assigned_meas[[split.stronger for split in splits]] = True
            self._learn_registration()
            # Tracks predicted to this scan but given nothing keep the prediction
            # (a missed detection), so a track coasting through a gap in coverage
            # is carried forward scan by scan instead of from its last update each time.
            missed = np.ones(n_fwd, bool)
            missed[ti[fwd]] = False
            if missed.any():
                keep_rows = fwd_rows[missed]  # the split-off tracks were appended after these rows
                tr.set_modes(keep_rows, fwd_pred.take(np.flatnonzero(missed)))
                tr.t[keep_rows] = scan.time
        # M-of-N bookkeeping for tentative tracks started by this sensor (before this scan).
        looked = ~tr.confirmed & (tr.init_sensor == scan.sensor) & (tr.first_time < scan.time)
        tr.looks[looked] += 1
        newly = ~tr.confirmed & (tr.hits >= cfg.confirm_hits) & (tr.looks <= cfg.confirm_looks)
        tr.confirmed |= newly
        failed = ~tr.confirmed & (tr.looks >= cfg.confirm_looks)
        if failed.any():
            keep = ~failed
            remap = np.cumsum(keep) - 1
            updated = remap[updated[keep[updated]]]
            tr.keep(keep)
        new = np.flatnonzero(~assigned_meas)
        if new.size and scan.kind in self.initiators:
            start = len(self.tracks)
            if scan.kind in self.config.two_point_kinds:
                added = self._initiate_pairs(scan, new)
            else:
                added = self._initiate(scan, new)
            updated = np.concatenate([updated, np.arange(start, start + added)])
        self._note_resolved(updated)
        return self._merge_duplicates(scan.time, updated)

    def _note_resolved(self, updated: NDArray) -> None:
        """Remember which close tracks this scan updated with separate reports (so, separate objects)."""
        if updated.size < 2:
            return
        tr = self.tracks
        pos = np.einsum("nm,nmd->nd", tr.mu[updated], tr.xm[updated][:, :, POS])  # the IMM mean position
        pairs = cKDTree(pos).query_pairs(self.config.merge_radius, output_type="ndarray")
        if pairs.size == 0:
            return
        a, b = tr.number[updated[pairs[:, 0]]], tr.number[updated[pairs[:, 1]]]
        self._resolved.update(zip(np.minimum(a, b).tolist(), np.maximum(a, b).tolist(), strict=True))
        if len(self._resolved) > 4 * len(tr) + 100:  # forget pairs whose tracks are gone
            alive = set(tr.number.tolist())
            self._resolved = {(i, j) for i, j in self._resolved if i in alive and j in alive}

    def _merge_duplicates(self, time: float, updated: NDArray) -> NDArray:
        """Fold confirmed tracks that describe one object into the oldest number; return ``updated`` remapped.

        A track that loses its object for a few scans (a missed gate in boost, a
        hand-over) and a new track started meanwhile on the same object are
        duplicates: their positions and velocities agree within the χ²(6) quantile
        gate (the association gate's probability) and their positions within ``merge_radius``.  The survivor keeps
        the state of whichever was updated last (the better one) and the number,
        first time and hits of the older, so the object's track number does not
        change.
        """
        tr = self.tracks
        confirmed = np.flatnonzero(tr.confirmed)
        if confirmed.size < 2:
            return updated
        x, p, _ = self.estimates(confirmed)
        lag = time - tr.t[confirmed]
        pos = x[:, POS] + lag[:, None] * x[:, VEL]
        pairs = cKDTree(pos).query_pairs(self.config.merge_radius, output_type="ndarray")
        if pairs.size == 0:
            return updated
        a, b = confirmed[pairs[:, 0]], confirmed[pairs[:, 1]]
        ia, ib = pairs[:, 0], pairs[:, 1]
        delta = np.concatenate([pos[ia] - pos[ib], x[ia, VEL] - x[ib, VEL]], axis=1)
        s = p[ia, :6, :6] + p[ib, :6, :6]
        d2 = np.einsum("pi,pi->p", delta, np.linalg.solve(s, delta[..., None])[..., 0])
        same = d2 < gate_threshold(self.config.gate_probability, 6)
        # Two objects a few hundred metres apart (a re-entry body and its stage just after they
        # resolve) pass the kinematic test while the new track's velocity is still vague; their echo
        # strengths tell them apart.
        echo_gap = np.abs(tr.feature_db[a] - tr.feature_db[b])
        same &= ~(echo_gap > self.config.split_feature_db)  # NaN (no echo yet): kinematics alone
        if self._resolved:
            lo, hi = np.minimum(tr.number[a], tr.number[b]), np.maximum(tr.number[a], tr.number[b])
            same &= np.array([(i, j) not in self._resolved for i, j in zip(lo.tolist(), hi.tolist(), strict=True)])
        if not same.any():
            return updated
        drop = np.zeros(len(tr), bool)
        for i, j in zip(a[same], b[same], strict=True):
            if drop[i] or drop[j]:
                continue
            old, new = (i, j) if tr.number[i] < tr.number[j] else (j, i)
            keep, gone = (new, old) if tr.last_update[new] >= tr.last_update[old] else (old, new)
            if keep != old:  # the newer estimate survives under the older identity
                tr.number[keep], tr.first_time[keep] = tr.number[old], tr.first_time[old]
            tr.hits[keep] = tr.hits[i] + tr.hits[j]
            drop[gone] = True
            self.merges += 1
        keep_mask = ~drop
        remap = np.cumsum(keep_mask) - 1
        tr.keep(keep_mask)
        return remap[updated[keep_mask[updated]]]

    def _near(self, scan: Scan, fwd_rows: NDArray, late_rows: NDArray) -> tuple[NDArray, NDArray]:
        """The tracks that may explain some measurement of the scan, by a cheap straight-line prediction.

        Only these are predicted properly (RK4, covariance), so tracks far
        from this sensor's reports cost almost nothing.  The bound adds to the
        gate radius the largest deviation from a straight line a missile can
        make over the gap (½ · 80 m/s² · Δt²: gravity plus thrust).
        """
        if scan.kind not in ("radar", "position") or not len(scan):
            return fwd_rows, late_rows
        rows = np.concatenate([fwd_rows, late_rows])
        tr = self.tracks
        x, p, _ = self.estimates(rows)
        dt = scan.time - tr.t[rows]
        pos = x[:, POS] + dt[:, None] * x[:, VEL]
        var = (
            np.trace(p[:, POS, POS], axis1=1, axis2=2)
            + 2.0 * dt * np.trace(p[:, POS, VEL], axis1=1, axis2=2)
            + dt**2 * np.trace(p[:, VEL, VEL], axis1=1, axis2=2)
        )
        meas_pos, meas_var = self._measured_positions(scan)
        gamma = gate_threshold(self.config.gate_probability, 3)
        radius = np.sqrt(gamma * (np.maximum(var, 0.0) + meas_var.max())) + 40.0 * dt**2 + 1e3
        near = np.zeros(rows.size, bool)
        for i, found in enumerate(cKDTree(meas_pos).query_ball_point(pos, r=radius)):
            near[i] = bool(found)
        n_fwd = fwd_rows.size
        return fwd_rows[near[:n_fwd]], late_rows[near[n_fwd:]]

    def _measured_positions(self, scan: Scan) -> tuple[NDArray, NDArray]:
        """Positions (m, 3) of a radar or position scan's reports and traces of their covariances."""
        pos, _, var, _ = self._positions_and_covariances(scan)
        return pos, var

    def _positions_and_covariances(self, scan: Scan) -> tuple[NDArray, NDArray, NDArray, NDArray]:
        """Report positions (m, 3), their covariances (m, 3, 3), traces (m,) and bias sensitivities (m, 3, n_b).

        Computed once per scan.  A radar report's position g(z) errs by −G C b through the radar's
        registration biases b (G = ∂position/∂(range, az, el)): its sensitivity is −G C.
        """
        if self._positions_of is not scan:
            nb = self.registration.size
            if scan.kind == "radar":
                model = scan.model
                j = model.position_jacobian(scan.z)  # type: ignore[attr-defined]
                cov = j @ scan.R[:, :3, :3] @ np.swapaxes(j, 1, 2)
                pos = model.position(scan.z)  # type: ignore[attr-defined]
                sens = -j @ self.registration.selector(scan.sensor, BIASED)
            else:
                pos, cov = scan.z[:, :3], scan.R[:, :3, :3]
                sens = np.zeros((len(scan), 3, nb))
            self._positions_of = scan
            self._positions = (pos, cov, np.trace(cov, axis1=1, axis2=2), sens)
        return self._positions

    def _unresolved(self, scan: Scan, pred: Modes) -> NDArray:
        """Per track (n, k, k): the noise its echo may carry because a neighbour shares its resolution cell.

        A radar that cannot resolve two objects (range closer than its range resolution, direction
        within its beamwidth) reports one echo, the stronger one's (:mod:`mwx.sim.sensors`); a track
        given it may be given its neighbour's position.  Moment-matched, that is an extra error Δz Δzᵀ
        in measurement space, Δz the difference of the two tracks' predicted measurements (Chang &
        Bar-Shalom, "Joint probabilistic data association for multitarget tracking with possibly
        unresolved measurements", IEEE TAC 29(7), 1984; Daum & Fitzgerald, SPIE 2235, 1994): the
        track neither jumps to the other object nor claims to know which it saw.  Two tracks count as
        sharing a cell when their predicted ranges differ by less than the resolution plus 2σ of that
        difference and their directions by less than the beamwidth.
        """
        n, k = len(pred), scan.model.dim
        out = np.zeros((n, k, k))
        if scan.resolution is None or n < 2:
            return out
        res_range, beam = scan.resolution
        cx, cp, _ = self._corrected(pred)
        x, p = combine(cx, cp, pred.mu)
        z, h = scan.model.predict(x)
        var_range = np.einsum("ni,nij,nj->n", h[:, 0], p, h[:, 0])
        dz = scan.model.residual(z[None, :, :], z[:, None, :])  # (i, j, k): j's prediction less i's
        across = np.hypot(dz[..., 1] * np.cos(z[:, None, 2]), dz[..., 2])
        shared = (np.abs(dz[..., 0]) < res_range + 2.0 * np.sqrt(var_range[:, None] + var_range[None, :])) & (
            across < beam
        )
        np.fill_diagonal(shared, False)
        if shared.any():
            out = np.einsum("ij,ijk,ijl->ikl", shared.astype(float), dz, dz)
        return out

    def _gate(self, scan: Scan, pred: Modes, merged: NDArray, rows: NDArray | None = None) -> Gated:
        """Gate every close (measurement, track) pair on each mode's prediction ``pred``.

        The predictions are the bias-free ones corrected by the registration (x̃ + V b̂), and the
        innovation's covariance carries what is still unknown of the biases, (H V + C) P_b (H V + C)ᵀ,
        and each track's allowance for an echo merged with a neighbour's (``merged`` (n, k, k),
        :meth:`_unresolved`).
        """
        k = scan.model.dim
        gamma = gate_threshold(self.config.gate_probability, k)
        meas_pos = meas_var = None
        if scan.kind in ("radar", "position"):
            meas_pos, meas_var = self._measured_positions(scan)
        cx, cp, _ = self._corrected(pred)
        pmu, pp, pv = pred.mu, pred.P, pred.V
        xc, pc = combine(cx, cp, pmu)
        track_var = np.trace(pc[:, POS, POS], axis1=1, axis2=2)
        # A track whose prediction is not finite (any mode) is gated on nothing; it is dropped next scan.
        broken = ~(np.isfinite(pred.x).all(axis=(1, 2)) & np.isfinite(pred.P).all(axis=(1, 2, 3)))
        if broken.any():
            xc, track_var = xc.copy(), track_var.copy()
            xc[broken], track_var[broken] = 1e12, 0.0  # far from every report
        mi, ti = candidate_pairs(len(scan), meas_pos, meas_var, xc[:, POS], track_var, gamma)
        if broken.any():
            keep = ~broken[ti]
            mi, ti = mi[keep], ti[keep]
        if mi.size == 0:
            return Gated(mi, ti, np.empty(0))
        _, n_modes, d = pred.x.shape
        floor = self.config.gate_floor_sigma**2
        reg = self.registration
        c_scan = reg.selector(scan.sensor, k)
        # Every (pair, mode) at once: predictions of the gated tracks' modes, flattened pair-major.
        z_all, h_all = scan.model.predict(cx[ti].reshape(-1, d))
        h = h_all
        hp = h[:, :, :3]
        sb = h @ pv[ti].reshape(ti.size * n_modes, d, -1) + c_scan  # the innovation's sensitivity to the biases
        # A floor on the position spread the gate allows, for what neither the filter nor the
        # registration describes (the prediction's linearisation, unresolved echoes).
        s = (
            h @ pp[ti].reshape(-1, d, d) @ np.swapaxes(h, 1, 2)
            + np.repeat(scan.R[mi] + merged[ti], n_modes, axis=0)
            + floor * hp @ np.swapaxes(hp, 1, 2) + sb @ reg.P @ np.swapaxes(sb, 1, 2)
        )  # fmt: skip
        nu = scan.model.residual(np.repeat(scan.z[mi], n_modes, axis=0), z_all + c_scan @ reg.b)
        d2, log_det = _mahalanobis(nu, s)
        log_like = (-0.5 * (d2 + log_det)).reshape(ti.size, n_modes)
        d2 = d2.reshape(ti.size, n_modes)
        weight = np.where(pmu[ti] > 0.0, np.log(np.maximum(pmu[ti], 1e-300)), -np.inf)
        mixture = weight + log_like
        top = np.max(mixture, axis=1)
        cost = -2.0 * (top + np.log(np.sum(np.exp(mixture - top[:, None]), axis=1)))
        live = pmu[ti] > 0.0
        ok = np.any((d2 < gamma) & live, axis=1) & np.isfinite(cost)
        if scan.feature_db is not None:
            # Feature-aided: an echo much stronger or weaker than the track's usual one costs more
            # (a re-entry body and its stage differ by ~13 dB), so close objects keep their tracks.
            track_feature = self.tracks.feature_db[rows[ti]] if rows is not None else np.full(ti.size, np.nan)
            mismatch = (scan.feature_db[mi] - track_feature) / self.config.feature_sigma_db
            cost = cost + np.where(np.isnan(mismatch), 0.0, mismatch**2)
        return Gated(mi[ok], ti[ok], cost[ok])

    def _keep_weaker_echo(
        self,
        scan: Scan,
        mi: NDArray,
        ti: NDArray,
        rows: NDArray,
        pred: Modes,
        n_fwd: int,
    ) -> tuple[NDArray, list[Split]]:
        """At a separation, a confirmed track moves to a much weaker unassigned echo close to its own.

        "Close" is within ``split_radius`` of the echo the track was given: when
        a re-entry body and its spent stage resolve they are a range cell apart,
        usually outside a settled track's gate.  The track's predicted
        covariance (``pred.P``, and its model part ``pred.Q``: which object is
        which is no measurement noise; modified in place) is widened by the
        offset between the two echoes (and their noise), so the update that
        follows hands the identity over instead of pulling the track between
        the two objects.
        The stronger echo is the object the track has followed so far: it
        continues as a track of its own from the track's prediction (:meth:`_split`).
        Returns the new measurement rows ``mi`` and the splits.
        """
        splits: list[Split] = []
        if scan.feature_db is None or mi.size == 0 or scan.kind != "radar":
            return mi, splits
        free = np.ones(len(scan), bool)
        free[mi] = False
        if not free.any():
            return mi, splits
        pos, cov, _, _ = self._positions_and_covariances(scan)
        confirmed = self.tracks.confirmed[rows]
        mi = mi.copy()
        for k in np.flatnonzero(confirmed[ti] & (ti < n_fwd)):
            candidates = np.flatnonzero(free)
            if candidates.size == 0:
                break
            near = candidates[np.linalg.norm(pos[candidates] - pos[mi[k]], axis=1) < self.config.split_radius]
            if near.size == 0:
                continue
            weakest = near[np.argmin(scan.feature_db[near])]
            # Not when another track is already there: that echo has an owner who missed it.
            others = np.delete(np.arange(len(pred)), ti[k])
            owner_near = others.size and np.any(
                np.linalg.norm(pred.x[others, :, POS] - pos[weakest], axis=2).min(axis=1) < self.config.split_radius
            )
            if not owner_near and scan.feature_db[weakest] < scan.feature_db[mi[k]] - self.config.split_feature_db:
                splits.append(Split(int(rows[ti[k]]), int(mi[k]), int(weakest), pred.take(ti[k : k + 1]).copy()))
                # Widen the prediction along the measured offset (and by both echoes' noise),
                # so the update moves the track onto the weaker echo as far as the data say.
                offset = pos[weakest] - pos[mi[k]]
                widen = np.zeros((self.dim, self.dim))
                widen[POS, POS] = np.outer(offset, offset) + cov[weakest] + cov[mi[k]]
                # ... and the velocity by the speed at which objects separate (range rate sees it).
                widen[VEL, VEL] = self.config.separation_speed**2 * np.eye(3)
                pred.P[ti[k]] += widen
                pred.Q[ti[k]] += widen
                free[weakest] = False  # the stronger echo stays taken: its object continues in the split-off track
                mi[k] = weakest
                self.handovers += 1
        return mi, splits

    def _split(self, scan: Scan, splits: list[Split]) -> NDArray:
        """The objects that handed-over tracks followed until now, each continued as a new confirmed track.

        Each starts from its parent's prediction at this scan (the parent has followed it, the
        stronger echo, so far) and is updated with that echo; the parent's echo strength becomes the
        weaker echo's, so the next scans give each echo to its own track.  Returns the new rows.
        """
        if not splits:
            return np.empty(0, np.int64)
        tr = self.tracks
        start = len(tr)
        n = len(splits)
        parents = np.array([split.parent for split in splits])
        meas = np.array([split.stronger for split in splits])
        pred = Modes.concat([split.prediction for split in splits])
        numbers = np.arange(self._next_number, self._next_number + n)
        self._next_number += n
        tr.append(
            TrackTable(
                pred.x, pred.P, pred.Q, pred.V, pred.mu, np.full(n, scan.time), numbers,
                np.full(n, self.config.confirm_hits, np.int64), np.ones(n, np.int64), np.full(n, scan.sensor, np.int64),
                np.ones(n, bool), np.full(n, scan.time), np.full(n, scan.time), np.full(n, np.nan),
                self.tracks.coasting_since[parents], np.ones(n, bool),
            )
        )  # fmt: skip
        new = np.arange(start, start + n)
        self._update_forward(scan, new, meas, pred, np.zeros((n, scan.model.dim, scan.model.dim)))
        tr.hits[new] -= 1  # the update counted one; the split-off track starts with its parent's confirmation
        # Echo strengths: each track's own from now on (smoothing would keep the parent's at the stronger's).
        assert scan.feature_db is not None
        tr.feature_db[parents] = scan.feature_db[[split.weaker for split in splits]]
        tr.resolved[parents] = True
        return new

    def _update_forward(self, scan: Scan, rows: NDArray, meas: NDArray, pred: Modes, merged: NDArray) -> None:
        """The bias-free EKF update of each mode of the predictions ``pred`` of tracks ``rows``, and the IMM weights.

        Per mode (Joseph form): P = (I − K̃H) P⁻ (I − K̃H)ᵀ + K̃ R Kᵀ̃; its model part Q the same without
        the noise; the bias sensitivity V = (I − K̃H) V⁻ − K̃C.  The mode likelihoods are those of the
        innovation corrected by the registration (ν̃ − S b̂, covariance S̃ + S P_b Sᵀ with S = H V⁻ + C):
        what the best estimate predicts.  ``merged`` (n, k, k): the allowance for an echo that may be a
        neighbour's, added to the noise (and, as it is no noise of the sensor's, to Q through K).
        """
        if rows.size == 0:
            return
        tr = self.tracks
        n, n_modes, d = pred.x.shape
        z, r = scan.z[meas], scan.R[meas] + merged
        flat_x = pred.x.reshape(n * n_modes, d)
        flat_p = pred.P.reshape(n * n_modes, d, d)
        flat_q = pred.Q.reshape(n * n_modes, d, d)
        flat_v = pred.V.reshape(n * n_modes, d, -1)
        z_rep = np.repeat(z, n_modes, axis=0)
        r_rep = np.repeat(r, n_modes, axis=0)
        z_pred, h = scan.model.predict(flat_x)
        nu = scan.model.residual(z_rep, z_pred)
        ht = np.swapaxes(h, 1, 2)
        s = h @ flat_p @ ht + r_rep
        k = flat_p @ ht @ np.linalg.inv(s)
        new_x = flat_x + np.einsum("nij,nj->ni", k, nu)
        hk, k = self._iterate_update(scan, flat_x, flat_p, z_rep, r_rep, s, h, k, new_x)
        self._project(new_x)
        kt = np.swapaxes(k, 1, 2)
        i_kh = np.eye(d) - k @ hk
        i_kh_t = np.swapaxes(i_kh, 1, 2)
        new_p = i_kh @ flat_p @ i_kh_t + k @ r_rep @ kt
        new_q = i_kh @ flat_q @ i_kh_t + k @ np.repeat(merged, n_modes, axis=0) @ kt
        reg = self.registration
        c_scan = reg.selector(scan.sensor, scan.model.dim)
        sb = h @ flat_v + c_scan  # the bias-free innovation's sensitivity to the biases
        new_v = i_kh @ flat_v - k @ c_scan
        nu_best = nu - sb @ reg.b
        s_best = s + sb @ reg.P @ np.swapaxes(sb, 1, 2)
        log_l = _gaussian_log_likelihood(nu_best, s_best).reshape(n, n_modes)
        log_w = log_l + np.log(np.maximum(pred.mu, 1e-300))
        w = np.exp(log_w - log_w.max(axis=1, keepdims=True))
        mu = w / w.sum(axis=1, keepdims=True)
        mu[mu < self.config.mode_floor] = 0.0
        mu = self._keep_manoeuvre(mu / mu.sum(axis=1, keepdims=True), new_x.reshape(pred.x.shape))
        tr.set_modes(
            rows,
            Modes(
                new_x.reshape(pred.x.shape), new_p.reshape(pred.P.shape), new_q.reshape(pred.Q.shape),
                new_v.reshape(pred.V.shape), mu / mu.sum(axis=1, keepdims=True),
            ),
        )  # fmt: skip
        tr.t[rows] = scan.time
        coasting = self.boost_probability(rows) < COASTING_PROBABILITY
        since = tr.coasting_since[rows]
        tr.coasting_since[rows] = np.where(coasting, np.where(np.isnan(since), scan.time, since), np.nan)
        self._count_hit(scan, rows, meas)
        self._keep_for_registration(rows, sb, nu, s, merged)

    def _project(self, x: NDArray) -> None:
        """Updated states (n·M, d), mode-minor, onto their physical bounds, in place: ``nonnegative_states``
        at least 0, and each mode's own bounds (its ``project``: :meth:`Manoeuvre.project`, the lift).

        The inverse ballistic coefficient κ: the dynamics take a negative κ as none (no drag pushes), but
        its linearisation does not, so without this a coasting mode fitted a burning motor's push as a
        negative κ (−0.01 m²/kg, seen in boost) and kept it for minutes: a glide then dived at 15 g of
        drag through a model that had none.
        """
        for k in self.config.nonnegative_states:
            if k < x.shape[1]:
                np.maximum(x[:, k], 0.0, out=x[:, k])
        n_modes = len(self.modes)
        for j, model in enumerate(self.modes):
            project = getattr(model, "project", None)
            if project is not None and x.size:
                project(x[j::n_modes])  # a view: mode j of each track

    def _iterate_update(
        self,
        scan: Scan,
        x: NDArray,
        p: NDArray,
        z: NDArray,
        r: NDArray,
        s: NDArray,
        h: NDArray,
        k: NDArray,
        new_x: NDArray,
    ) -> tuple[NDArray, NDArray]:
        """Iterated EKF (Gauss–Newton) for updates whose prediction is far wider than the report: (H, K) at the end.

        Where some predicted measurement σ exceeds the report's by more than ``iterate_ratio``, the
        measurement is relinearised at the updated state (``new_x``, modified in place) ``iterations``
        times: x ← x⁻ + K (z − h(x) − H (x⁻ − x)) with H, K at x (Bell & Cathey 1993).  Only there: after
        a long gap the prediction is kilometres and tens of m/s wide, and the angles' and range rate's
        curvature over that spread made the one-step update claim a precision it did not have (a pull-up
        seen again after 50 s: NEES 1300 at the first update, 5 after the second).
        """
        cfg = self.config
        if cfg.iterations <= 0:
            return h, k
        ratio = np.diagonal(s, axis1=1, axis2=2) / np.maximum(np.diagonal(r, axis1=1, axis2=2), 1e-300)
        wide = np.flatnonzero(np.any(ratio > cfg.iterate_ratio**2, axis=1))
        if not wide.size:
            return h, k
        h, k = h.copy(), k.copy()
        x0, p0, z0, r0 = x[wide], p[wide], z[wide], r[wide]
        for _ in range(cfg.iterations):
            xi = new_x[wide]
            zi, hi = scan.model.predict(xi)
            nu = scan.model.residual(z0, zi) - np.einsum("nij,nj->ni", hi, x0 - xi)
            hit = np.swapaxes(hi, 1, 2)
            ki = p0 @ hit @ np.linalg.inv(hi @ p0 @ hit + r0)
            new_x[wide] = x0 + np.einsum("nij,nj->ni", ki, nu)
            h[wide], k[wide] = hi, ki
        return h, k

    def _update_late(self, scan: Scan, rows: NDArray, meas: NDArray, back: Modes, bf: NDArray, merged: NDArray) -> None:
        """Retrodicted update (B1) of the present state from the states carried ``back`` to the scan.

        With the gain K = P Fᵦᵀ Hᵀ S⁻¹ (Fᵦ the backward transitions ``bf``): x += K ν, P −= K S Kᵀ; the
        model part Q ← A Q Aᵀ with A = I − K H Fᵦ (plus the merged-echo allowance through K); the bias
        sensitivity V ← V − K (H V_back + C).
        """
        if rows.size == 0:
            return
        tr = self.tracks
        n, n_modes, d = back.x.shape
        now = tr.modes(rows)
        z = np.repeat(scan.z[meas], n_modes, axis=0)
        r = np.repeat(scan.R[meas] + merged, n_modes, axis=0)
        z_pred, h = scan.model.predict(back.x.reshape(n * n_modes, d))
        nu = scan.model.residual(z, z_pred)
        ht = np.swapaxes(h, 1, 2)
        s = h @ back.P.reshape(-1, d, d) @ ht + r
        p_now = now.P.reshape(-1, d, d)
        f_back = bf.reshape(-1, d, d)
        p_xz = p_now @ np.swapaxes(f_back, 1, 2) @ ht
        k = p_xz @ np.linalg.inv(s)
        kt = np.swapaxes(k, 1, 2)
        new_x = now.x.reshape(-1, d) + np.einsum("nij,nj->ni", k, nu)
        self._project(new_x)
        new_p = p_now - k @ s @ kt
        a = np.eye(d) - k @ h @ f_back
        new_q = a @ now.Q.reshape(-1, d, d) @ np.swapaxes(a, 1, 2) + k @ np.repeat(merged, n_modes, axis=0) @ kt
        sb = h @ back.V.reshape(n * n_modes, d, -1) + self.registration.selector(scan.sensor, scan.model.dim)
        new_v = now.V.reshape(n * n_modes, d, -1) - k @ sb
        tr.set_modes(
            rows,
            Modes(
                new_x.reshape(now.x.shape), (0.5 * (new_p + np.swapaxes(new_p, 1, 2))).reshape(now.P.shape),
                (0.5 * (new_q + np.swapaxes(new_q, 1, 2))).reshape(now.Q.shape), new_v.reshape(now.V.shape), now.mu,
            ),
        )  # fmt: skip
        self._count_hit(scan, rows, meas)
        self._keep_for_registration(rows, sb, nu, s, merged)

    def _keep_for_registration(self, rows: NDArray, sb: NDArray, nu: NDArray, s: NDArray, merged: NDArray) -> None:
        """Keep the innovations (per mode: S (n·M, k, n_b), ν̃, S̃) of settled tracks for :meth:`_learn_registration`.

        Settled: confirmed; in ballistic flight for :data:`REGISTRATION_SETTLE_S` at least (just after
        burnout the estimate still carries what the boost model got wrong, errors the innovations then
        repeat scan after scan, which the registration would take for a bias: measured, the biases came
        out twice as far off as their covariance said without this wait); above the air
        (:data:`REGISTRATION_FLOOR_M`: there the drag the filter is still learning makes its
        innovations err together over time); and with an echo of its own (no neighbour in the
        resolution cell, nor another track within ``split_radius``).  Each track gives its likeliest
        mode's innovation.
        """
        if self.registration.size == 0 or rows.size == 0:
            return
        tr = self.tracks
        n_modes = len(self.modes)
        settled = tr.confirmed[rows] & ~np.any(merged != 0.0, axis=(1, 2))
        settled &= tr.t[rows] - tr.coasting_since[rows] >= REGISTRATION_SETTLE_S  # False while NaN
        settled &= wgs84.ellipsoidal_height(tr.xm[rows, 0, POS]) > REGISTRATION_FLOOR_M
        if settled.any() and len(tr) > 1:
            # Not beside another track: where two objects are close, echoes go to the wrong track now
            # and then, and such innovations, inside the gate, are no white noise.
            here = tr.xm[rows, 0, POS]
            others = cKDTree(tr.xm[:, 0, POS]).query_ball_point(here, r=self.config.split_radius)
            settled &= np.array([len(found) <= 1 for found in others])
        if not settled.any():
            return
        pick = np.flatnonzero(settled) * n_modes + np.argmax(tr.mu[rows[settled]], axis=1)
        self._learn.append((sb[pick], nu[pick], s[pick]))

    def _learn_registration(self) -> None:
        """One registration update from the innovations this scan's settled tracks gave (see the module doc)."""
        if self._learn:
            sb, nu, s = (np.concatenate(part) for part in zip(*self._learn, strict=True))
            self._learn.clear()
            self.registration.update(sb, nu, s)

    def _count_hit(self, scan: Scan, rows: NDArray, meas: NDArray) -> None:
        tr = self.tracks
        tr.hits[rows] += 1
        tr.last_update[rows] = np.maximum(tr.last_update[rows], scan.time)
        if scan.feature_db is not None:
            f = scan.feature_db[meas]
            old = tr.feature_db[rows]
            tr.feature_db[rows] = np.where(np.isnan(old), f, 0.8 * old + 0.2 * f)

    # ----------------------------------------------------------------- management
    def _initiate_pairs(self, scan: Scan, meas: NDArray) -> int:
        """Two-point initiation: a track only from two unexplained reports of one sensor a scan apart.

        Each report no track explains waits one scan (``_pending``); a report of
        the sensor's next scan within ``max_speed · Δt`` (plus 4σ) of it makes a
        tentative track whose velocity is their difference over Δt.  Clutter
        rarely pairs up (ten false alarms per scan in a field of regard of
        ~10⁹ km³ put one within 16 km of another about once in 10⁴ scans), so
        it costs a k-d-tree query instead of a track each.
        """
        cfg = self.config
        pos, cov, var, sens = self._positions_and_covariances(scan)
        prev = self._pending.get(scan.sensor)
        started = 0
        used = np.zeros(meas.size, bool)
        if prev is not None and 0.0 < scan.time - prev[0] <= cfg.pending_max_age_s:
            t_prev, p_prev, cov_prev, var_prev, sens_prev = prev
            dt = scan.time - t_prev
            radius = cfg.max_speed * dt + 4.0 * np.sqrt(var[meas] + var_prev.max())
            tree = cKDTree(p_prev)
            dist, near = tree.query(pos[meas], distance_upper_bound=float(radius.max()))
            dist, near = np.asarray(dist), np.asarray(near)  # arrays for (m, 3) points (the stubs allow a scalar)
            ok = np.isfinite(dist) & (dist <= radius)
            # One previous report per new one: the nearest, first come first served.
            taken: set[int] = set()
            pairs = []
            for k in np.flatnonzero(ok)[np.argsort(dist[ok], kind="stable")]:
                if int(near[k]) not in taken:
                    taken.add(int(near[k]))
                    pairs.append((k, int(near[k])))
            if pairs:
                ks = np.array([k for k, _ in pairs])
                js = np.array([j for _, j in pairs])
                x, p = self.initiators[scan.kind].initiate(scan, meas[ks])
                x[:, VEL] = (x[:, POS] - p_prev[js]) / dt
                cov_new = p[:, POS, POS]
                # Velocity from two positions, plus what an unknown acceleration of
                # ``max_acceleration`` does over Δt.
                p[:, VEL, VEL] = (cov_new + cov_prev[js]) / dt**2 + (cfg.max_acceleration * dt / 2.0) ** 2 * np.eye(3)
                p[:, POS, VEL] = cov_new / dt
                p[:, VEL, POS] = cov_new / dt
                # Both positions carry the radar's biases: the velocity their difference gives only
                # feels how the offsets turn with the line of sight.
                v = np.zeros((ks.size, self.dim, self.registration.size))
                v[:, POS] = sens[meas[ks]]
                v[:, VEL] = (sens[meas[ks]] - sens_prev[js]) / dt
                # The model's part: the unknown acceleration, and the priors the reports do not touch.
                q = _prior_part(p)
                q[:, VEL, VEL] = (cfg.max_acceleration * dt / 2.0) ** 2 * np.eye(3)
                started = self._add(scan, meas[ks], x, p, hits=2, v=v, q=q)
                used[ks] = True
        rest = meas[~used]
        if scan.time >= (prev[0] if prev is not None else -math.inf):
            self._pending[scan.sensor] = (
                scan.time, pos[rest], cov[rest], var[rest] if rest.size else np.zeros(1), sens[rest]
            )  # fmt: skip
        return started

    def _initiate(self, scan: Scan, meas: NDArray) -> int:
        x, p = self.initiators[scan.kind].initiate(scan, meas)
        v = np.zeros((meas.size, self.dim, self.registration.size))
        if scan.kind == "radar":
            v[:, POS] = self._positions_and_covariances(scan)[3][meas]
            return self._add(scan, meas, x, p, v=v, q=_prior_part(p))
        # An infrared line of sight fixes two angles; where along it (the 30 km shell) is the model's.
        return self._add(scan, meas, x, p, v=v, q=p.copy())

    def _add(
        self,
        scan: Scan,
        meas: NDArray,
        x: NDArray,
        p: NDArray,
        hits: int = 1,
        v: NDArray | None = None,
        q: NDArray | None = None,
    ) -> int:
        """Append tentative tracks from ``scan.z[meas]``: means ``x``, covariances ``p``, their model part ``q``
        (all of ``p`` by default) and bias sensitivities ``v`` (zero by default)."""
        ok = np.all(np.isfinite(x), axis=1)
        v = np.zeros((len(meas), self.dim, self.registration.size)) if v is None else v
        q = p.copy() if q is None else q
        x, p, q, v, meas = x[ok], p[ok], q[ok], v[ok], meas[ok]
        n = len(meas)
        if n == 0:
            return 0
        n_modes = len(self.modes)
        mu0 = np.asarray(self.config.initial_modes.get(scan.kind, (1.0,) * n_modes)[:n_modes], float)
        mu0 = mu0 / mu0.sum() if mu0.size == n_modes else np.full(n_modes, 1.0 / n_modes)
        numbers = np.arange(self._next_number, self._next_number + n)
        self._next_number += n
        feature = scan.feature_db[meas] if scan.feature_db is not None else np.full(n, np.nan)
        xm = np.repeat(x[:, None, :], n_modes, axis=1)
        pm = np.repeat(p[:, None, :, :], n_modes, axis=1)
        qm = np.repeat(q[:, None, :, :], n_modes, axis=1)
        for j, model in enumerate(self.modes):
            start = getattr(model, "start", None)  # a mode's own prior for what the report does not measure
            if start is not None:
                xm[:, j], pm[:, j] = start(x, p)
                qm[:, j] = start(x, q)[1]
        self.tracks.append(
            TrackTable(
                xm,
                pm,
                qm,
                np.repeat(v[:, None, :, :], n_modes, axis=1),
                np.tile(mu0, (n, 1)),
                np.full(n, scan.time),
                numbers,
                np.full(n, hits, np.int64),
                np.ones(n, np.int64),
                np.full(n, scan.sensor, np.int64),
                np.zeros(n, bool),
                np.full(n, scan.time),
                np.full(n, scan.time),
                feature,
                np.full(n, np.nan),
                np.zeros(n, bool),
            )
        )
        return n

    def _delete_stale(self, time: float) -> None:
        tr = self.tracks
        if not len(tr):
            return
        cfg = self.config
        gap = time - tr.last_update
        x, p = combine(tr.xm, tr.Pm, tr.mu)
        lag = np.maximum(time - tr.t, 0.0)
        var = (
            np.trace(p[:, POS, POS], axis1=1, axis2=2)
            + 2.0 * lag * np.trace(p[:, POS, VEL], axis1=1, axis2=2)
            + lag**2 * np.trace(p[:, VEL, VEL], axis1=1, axis2=2)
        )
        underground = np.zeros(len(tr), bool)
        if cfg.earth_fixed:
            _, _, alt = wgs84.ecef_to_geodetic(x[:, POS])
            up = x[:, POS] / np.linalg.norm(x[:, POS], axis=1, keepdims=True)
            climb = np.einsum("ij,ij->i", up, x[:, VEL])
            underground = alt + np.minimum(climb, 0.0) * lag < -5e3
        limit = np.where(self.boosting, cfg.boost_coast_limit_s, cfg.max_coast_s)
        drop_confirmed = tr.confirmed & ((gap > limit) | (var > cfg.max_position_sigma**2) | underground)
        drop_tentative = ~tr.confirmed & (gap > cfg.tentative_limit_s)
        # A track with a mode that is not finite cannot be predicted any more (no one mode's failure may
        # stop the tracker: such a track is not gated, :meth:`_gate`).
        broken = ~(np.isfinite(tr.xm).all(axis=(1, 2)) & np.isfinite(tr.Pm).all(axis=(1, 2, 3)))
        keep = ~(drop_confirmed | drop_tentative | broken)
        if not keep.all():
            tr.keep(keep)


#: m: height of burnout taken by :func:`burnout_speed` (short-range missiles burn out at 30–80 km).
BURNOUT_HEIGHT = 60e3


def burnout_speed(x: NDArray) -> NDArray:
    """Inertial speed [m/s] (n,) a coasting missile at ECEF states ``x`` (n, ≥6) had at burnout.

    Its energy v²/2 − μ/r (inertial speed, point-mass gravity) is kept in the coast; burnout is taken at
    ``BURNOUT_HEIGHT`` above the equatorial radius (±30 km moves the answer by about 2 g Δh / v: under
    100 m/s at 3 km/s).
    """
    inertial = inertial_velocity(x[:, :6])
    energy = 0.5 * np.einsum("ni,ni->n", inertial, inertial) - wgs84.GM / np.linalg.norm(x[:, POS], axis=1)
    return np.sqrt(np.maximum(2.0 * (energy + wgs84.GM / (wgs84.A + BURNOUT_HEIGHT)), 0.0))


def missile_tracker(
    name: str, config: TrackerConfig | None = None, registration: Registration | None = None
) -> Tracker:
    """The tracker a partner node runs: IMM over boost, ballistic and manoeuvre modes, radar and infrared initiation.

    ``registration``: the partner's radar biases to estimate (:meth:`Registration.of` its sensors);
    without one the tracker takes its radars as unbiased.
    """
    return Tracker(
        name,
        [Boost(), Ballistic(), Manoeuvre()],
        {"radar": RadarInitiator(), "infrared": InfraredInitiator()},
        config,
        registration=registration,
    )
