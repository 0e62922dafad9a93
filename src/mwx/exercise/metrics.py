"""Tracking quality against truth: GOSPA, SIAP, RMSE, NEES/NIS and the posterior Cramér–Rao bound.

Everything here works on plain arrays (positions in metres, times in seconds,
states and covariances in SI units) and callables supplied by the caller, so
the same functions judge a partner's own tracks, the fused system tracks or
any other tracker's output.  Nothing here imports the tracker.

* GOSPA (Rahmathullah, García-Fernández & Svensson, "Generalized optimal
  sub-pattern assignment metric", FUSION 2017): one distance between the set
  of true positions and the set of track positions at one time, split into
  localisation, missed-target and false-track parts (for α = 2).
* Track-to-truth association with persistence (after Stone Soup's
  ``TrackToTruth``) and the SIAP measures built on it (Votruba et al., "Single
  Integrated Air Picture (SIAP) Metrics Implementation", SIAP SE Task Force,
  2001; Stone Soup's ``SIAPMetrics``).
* Monte Carlo RMSE, NEES/NIS and their χ² acceptance bounds (Bar-Shalom, Li &
  Kirubarajan, *Estimation with Applications to Tracking and Navigation*,
  Wiley 2001, §5.4).
* The posterior Cramér–Rao lower bound for additive Gaussian noise
  (Tichavský, Muravchik & Nehorai, "Posterior Cramér–Rao bounds for
  discrete-time nonlinear filtering", IEEE Trans. Signal Processing 46(5),
  1998), Jacobians evaluated along the one true trajectory.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from scipy.stats import chi2

# GOSPA cut-off [m].  A track still "tracks" its object while its position error is below c.  Long-range
# early-warning radars and space-based infrared give position errors of a few km at thousands of km range
# (1 mrad at 3000 km is 3 km; 3σ approaches 10 km), so a working track stays inside 10 km, while a track
# 10 km or more from every object is of no more use for warning than none (it also bounds what one missed
# or false object costs: c/√2 for p = α = 2).
GOSPA_CUTOFF_M = 10e3
# Track-to-truth association gate [m]: the same scale, for the same reason.
ASSOCIATION_THRESHOLD_M = 10e3

FloatArray = NDArray[np.float64]


def _points(a: ArrayLike | None, n: int) -> FloatArray:
    """Points (n, k) from an array-like; an empty one whatever its shape."""
    return np.asarray(a, float).reshape(n, -1) if n else np.empty((0, 0))


# --------------------------------------------------------------------------------------------------------------
# GOSPA
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GospaResult:
    """GOSPA at one time [m] and its parts.

    ``distance**p == localisation**p + missed**p + false**p``: each part is the p-th root of its share of the
    sum.  For α = 2, ``localisation`` covers assigned pairs closer than c, and each missed object or false
    track costs c^p/2.  For α ≠ 2 the parts follow the paper's Definition 1: ``localisation`` is
    Σ min(d, c)^p over the min(n, m) assigned pairs and ``missed``/``false`` carry c^p/α · |n − m|.
    """

    distance: float
    localisation: float
    missed: float
    false: float
    n_missed: int
    n_false: int


def gospa(
    truth_xyz: ArrayLike, track_xyz: ArrayLike, c: float = GOSPA_CUTOFF_M, p: float = 2.0, alpha: float = 2.0
) -> GospaResult:
    """GOSPA distance between true positions (n, 3) and track positions (m, 3) [m].

    d = ( min_π Σ_i min(‖xᵢ − y_π(i)‖, c)^p + c^p/α · |n − m| )^(1/p)   (Rahmathullah et al. 2017, Def. 1)

    with π over assignments of the smaller set into the larger, solved exactly by
    :func:`scipy.optimize.linear_sum_assignment`.  For α = 2 (the default, a metric for p ≥ 1) this equals
    the assignment form of their Proposition 1: localisation of pairs closer than c, c^p/2 per missed object
    and per false track.  Any dimension k works, not only 3.
    """
    if not (c > 0 and p >= 1 and 0 < alpha <= 2):
        raise ValueError("GOSPA needs c > 0, p ≥ 1 and 0 < α ≤ 2")
    truth, track = np.asarray(truth_xyz, float), np.asarray(track_xyz, float)
    x, y = _points(truth, len(truth)), _points(track, len(track))
    n, m = len(x), len(y)
    cp = c**p
    if n and m:
        d = cdist(x, y)
        rows, cols = linear_sum_assignment(np.minimum(d, c) ** p)
        pair_d = d[rows, cols]
    else:
        pair_d = np.empty(0)
    if alpha == 2:
        close = pair_d < c
        n_missed = n - int(close.sum())
        n_false = m - int(close.sum())
        loc = float(np.sum(pair_d[close] ** p))
        missed, false = cp / 2 * n_missed, cp / 2 * n_false
    else:
        n_missed, n_false = max(n - m, 0), max(m - n, 0)
        loc = float(np.sum(np.minimum(pair_d, c) ** p))
        missed, false = cp / alpha * n_missed, cp / alpha * n_false
    return GospaResult(
        distance=(loc + missed + false) ** (1 / p),
        localisation=loc ** (1 / p),
        missed=missed ** (1 / p),
        false=false ** (1 / p),
        n_missed=n_missed,
        n_false=n_false,
    )


@dataclass(frozen=True)
class GospaSeries:
    """GOSPA over evaluation times: arrays (T,) of the parts [m] and the counts."""

    distance: FloatArray
    localisation: FloatArray
    missed: FloatArray
    false: FloatArray
    n_missed: NDArray[np.int64]
    n_false: NDArray[np.int64]

    @property
    def mean_squared_distance(self) -> float:
        """Mean over time of GOSPA² [m²]."""
        return float(np.mean(self.distance**2))

    @property
    def rms_distance(self) -> float:
        """√(mean over time of GOSPA²) [m]."""
        return float(np.sqrt(self.mean_squared_distance))

    @property
    def mean_squared_localisation(self) -> float:
        """Mean over time of the squared localisation part [m²]."""
        return float(np.mean(self.localisation**2))

    @property
    def mean_squared_missed(self) -> float:
        """Mean over time of the squared missed part [m²]."""
        return float(np.mean(self.missed**2))

    @property
    def mean_squared_false(self) -> float:
        """Mean over time of the squared false part [m²]."""
        return float(np.mean(self.false**2))


def gospa_series(
    truths: Sequence[ArrayLike],
    tracks: Sequence[ArrayLike],
    c: float = GOSPA_CUTOFF_M,
    p: float = 2.0,
    alpha: float = 2.0,
) -> GospaSeries:
    """:func:`gospa` at each evaluation time; ``truths[t]`` (n_t, 3) and ``tracks[t]`` (m_t, 3) [m].

    With p = α = 2 the mean squared parts add up to the mean squared GOSPA.
    """
    if len(truths) != len(tracks):
        raise ValueError("truths and tracks need one array per evaluation time each")
    r = [gospa(x, y, c, p, alpha) for x, y in zip(truths, tracks, strict=True)]

    def col(name: str, dtype: type = float) -> NDArray:
        return np.array([getattr(g, name) for g in r], dtype=dtype)

    return GospaSeries(
        col("distance"), col("localisation"), col("missed"), col("false"), col("n_missed", int), col("n_false", int)
    )


# --------------------------------------------------------------------------------------------------------------
# Track-to-truth association and SIAP
# --------------------------------------------------------------------------------------------------------------


@dataclass
class Frame:
    """Truth and tracks at one evaluation time.

    ``time`` [s]; ``truth_ids`` (n,) with ``truth_xyz`` (n, 3) [m]; ``track_ids`` (m,) with ``track_xyz``
    (m, 3) [m]; optionally velocities (n, 3) and (m, 3) [m/s] for the SIAP velocity accuracy.  Ids are any
    hashable values (partner track numbers, fused track ids, object names).
    """

    time: float
    truth_ids: Sequence[Hashable]
    truth_xyz: ArrayLike
    track_ids: Sequence[Hashable]
    track_xyz: ArrayLike
    truth_vel: ArrayLike | None = None
    track_vel: ArrayLike | None = None


def associate(frames: Sequence[Frame], threshold: float = ASSOCIATION_THRESHOLD_M) -> list[dict[Hashable, Hashable]]:
    """Track → truth association at each frame, with persistence (after Stone Soup's ``TrackToTruth``).

    A track keeps the object it was last associated with while that object is present and within
    ``threshold`` [m]; otherwise it takes the nearest object within ``threshold``, or none.  So a track
    between two objects a few hundred metres apart does not flip from one to the other as it drifts.
    Several tracks may share an object (SIAP ambiguity); each track has at most one object.
    """
    held: dict[Hashable, Hashable] = {}
    out: list[dict[Hashable, Hashable]] = []
    for f in frames:
        tracks, truths = list(f.track_ids), list(f.truth_ids)
        mapping: dict[Hashable, Hashable] = {}
        if tracks and truths:
            d = cdist(_points(f.track_xyz, len(tracks)), _points(f.truth_xyz, len(truths)))
            column = {g: j for j, g in enumerate(truths)}
            prev = np.array([column.get(held[k], -1) if k in held else -1 for k in tracks])
            rows = np.arange(len(tracks))
            keep = (prev >= 0) & (d[rows, prev] <= threshold)
            nearest = d.argmin(axis=1)
            chosen = np.where(keep, prev, np.where(d[rows, nearest] <= threshold, nearest, -1))
            mapping = {k: truths[j] for k, j in zip(tracks, chosen, strict=True) if j >= 0}
        for k in tracks:
            if k in mapping:
                held[k] = mapping[k]
            else:
                held.pop(k, None)
        out.append(mapping)
    return out


@dataclass(frozen=True)
class SiapResult:
    """SIAP measures over an exercise (Votruba et al. 2001; Stone Soup ``SIAPMetrics``).

    Ratios with an empty denominator are NaN.  Per-time counts (T,): ``n_truths`` J(t), ``n_covered`` JT(t)
    (objects with at least one track), ``n_associated`` NA(t) (tracks with an object), ``n_tracks`` N(t).
    """

    completeness: float  # Σ JT / Σ J
    ambiguity: float  # Σ NA / Σ JT
    spuriousness: float  # Σ (N − NA) / Σ N
    position_accuracy: float  # mean ‖track − truth‖ over associated pairs [m]
    velocity_accuracy: float  # mean ‖v_track − v_truth‖ over associated pairs [m/s]; NaN without velocities
    track_number_changes: dict[Hashable, int]  # per object
    rate_of_track_number_changes: float  # Σ changes / Σ time tracked [1/s]
    longest_segment: dict[Hashable, float]  # per object: longest time held by one track without a break [s]
    longest_segment_fraction: float  # Σ longest segment / Σ object lifetime
    n_truths: NDArray[np.int64] = field(repr=False)
    n_covered: NDArray[np.int64] = field(repr=False)
    n_associated: NDArray[np.int64] = field(repr=False)
    n_tracks: NDArray[np.int64] = field(repr=False)


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


def _fewest_tracks(covered: list[set[Hashable]]) -> int:
    """Fewest tracks, one after another, that cover every step of ``covered`` (non-empty sets).

    Greedy furthest reach: at each step take the track that stays longest; optimal for covering a line
    by runs (as Stone Soup's ``min_num_tracks_needed_to_track``).
    """
    reach: list[dict[Hashable, int]] = [{} for _ in covered]  # step → track → last step of its run from here
    for s in range(len(covered) - 1, -1, -1):
        after = reach[s + 1] if s + 1 < len(covered) else {}
        reach[s] = {k: after.get(k, s) for k in covered[s]}
    count, s = 0, 0
    while s < len(covered):
        count += 1
        s = max(reach[s].values()) + 1
    return count


def _continuity(steps: list[tuple[float, set[Hashable]]]) -> tuple[int, float, float, float]:
    """One object's (track-number changes, longest segment [s], time tracked [s], lifetime [s]).

    ``steps``: (time, tracks associated with it) at each frame where it exists, in time order.
    """
    times = np.array([s[0] for s in steps])
    sets = [s[1] for s in steps]
    changes = max(_fewest_tracks([s for s in sets if s]) - 1, 0)
    longest = tracked = 0.0
    start: dict[Hashable, int] = {}  # track → first step of its current run
    for s, (tk, now) in enumerate(zip(times, sets, strict=True)):
        start = {k: start.get(k, s) for k in now}
        if s and sets[s - 1] & now:
            tracked += float(tk - times[s - 1])
        longest = max([longest, *(float(tk - times[s0]) for s0 in start.values())])
    return changes, longest, tracked, float(times[-1] - times[0])


def siap(
    frames: Sequence[Frame],
    associations: Sequence[dict[Hashable, Hashable]] | None = None,
    threshold: float = ASSOCIATION_THRESHOLD_M,
) -> SiapResult:
    """SIAP measures from a track-to-truth association over the frames (default :func:`associate`).

    * completeness C = Σₜ JT(t) / Σₜ J(t); ambiguity A = Σₜ NA(t) / Σₜ JT(t);
      spuriousness S = Σₜ (N(t) − NA(t)) / Σₜ N(t);
    * positional (velocity) accuracy: mean error norm over all associated track–truth pairs;
    * track-number changes of object j: (fewest tracks that, one after another, cover the times it is
      covered) − 1.  Times it is not covered are skipped, so a gap is no change but resuming on another
      track is; a persisting track among several (ambiguity) is no change.  Rate R = Σⱼ changes /
      Σⱼ TTⱼ, TTⱼ the time between consecutive frames of object j that share an associated track;
    * longest segment TLⱼ: longest time one track stays associated with object j over consecutive frames
      of j; fraction LS = Σⱼ TLⱼ / Σⱼ Tⱼ with Tⱼ the object's lifetime in the frames.
    """
    if associations is None:
        associations = associate(frames, threshold)
    if len(associations) != len(frames):
        raise ValueError("one association per frame")
    counts = np.zeros((len(frames), 4), dtype=np.int64)  # J, JT, NA, N
    pos_err: list[FloatArray] = []
    vel_err: list[FloatArray] = []
    history: dict[Hashable, list[tuple[float, set[Hashable]]]] = {}
    have_vel = True
    for t, (f, a) in enumerate(zip(frames, associations, strict=True)):
        truths, tracks = list(f.truth_ids), list(f.track_ids)
        ti = {g: j for j, g in enumerate(truths)}
        pairs = [(i, ti[a[k]]) for i, k in enumerate(tracks) if k in a and a[k] in ti]
        per_truth: dict[Hashable, set[Hashable]] = {g: set() for g in truths}
        for i, j in pairs:
            per_truth[truths[j]].add(tracks[i])
        for g in truths:
            history.setdefault(g, []).append((float(f.time), per_truth[g]))
        counts[t] = len(truths), sum(bool(s) for s in per_truth.values()), len(pairs), len(tracks)
        if pairs:
            i, j = np.array(pairs).T
            dx = _points(f.track_xyz, len(tracks))[i] - _points(f.truth_xyz, len(truths))[j]
            pos_err.append(np.linalg.norm(dx, axis=1))
            if f.truth_vel is None or f.track_vel is None:
                have_vel = False
            else:
                dv = _points(f.track_vel, len(tracks))[i] - _points(f.truth_vel, len(truths))[j]
                vel_err.append(np.linalg.norm(dv, axis=1))
    J, JT, NA, N = counts.sum(axis=0)
    pe = np.concatenate(pos_err) if pos_err else np.empty(0)
    ve = np.concatenate(vel_err) if vel_err and have_vel else np.empty(0)

    per_object = {g: _continuity(steps) for g, steps in history.items()}
    changes = {g: c[0] for g, c in per_object.items()}
    longest = {g: c[1] for g, c in per_object.items()}
    tracked_time = sum(c[2] for c in per_object.values())
    lifetime = sum(c[3] for c in per_object.values())
    return SiapResult(
        completeness=_ratio(JT, J),
        ambiguity=_ratio(NA, JT),
        spuriousness=_ratio(N - NA, N),
        position_accuracy=float(pe.mean()) if pe.size else float("nan"),
        velocity_accuracy=float(ve.mean()) if ve.size else float("nan"),
        track_number_changes=changes,
        rate_of_track_number_changes=_ratio(sum(changes.values()), tracked_time),
        longest_segment=longest,
        longest_segment_fraction=_ratio(sum(longest.values()), lifetime),
        n_truths=counts[:, 0],
        n_covered=counts[:, 1],
        n_associated=counts[:, 2],
        n_tracks=counts[:, 3],
    )


# --------------------------------------------------------------------------------------------------------------
# Monte Carlo errors and consistency
# --------------------------------------------------------------------------------------------------------------


def rmse(errors: ArrayLike) -> FloatArray:
    """RMSE per time over Monte Carlo runs: errors (T, N, k) → (T,), √(1/N Σₙ ‖eₜₙ‖²) [units of e]."""
    e = np.asarray(errors, float)
    return np.sqrt(np.mean(np.sum(e**2, axis=-1), axis=-1))


def component_rmse(errors: ArrayLike) -> FloatArray:
    """RMSE per time and component over Monte Carlo runs: errors (T, N, k) → (T, k)."""
    return np.sqrt(np.mean(np.asarray(errors, float) ** 2, axis=-2))


def nees(err: ArrayLike, P: ArrayLike) -> FloatArray:
    """Normalised estimation error squared εᵀ P⁻¹ ε: err (..., d), P (..., d, d) → (...).

    Bar-Shalom, Li & Kirubarajan (2001) §5.4.2; P⁻¹ε by a linear solve, never an explicit inverse.
    """
    e = np.asarray(err, float)
    return np.einsum("...i,...i->...", e, np.linalg.solve(np.asarray(P, float), e[..., None])[..., 0])


def nearest_nees(
    x: ArrayLike, P: ArrayLike, truth: ArrayLike, within: float = ASSOCIATION_THRESHOLD_M
) -> tuple[FloatArray, NDArray[np.int64]]:
    """Each estimate's NEES against the true object it is statistically nearest to, and that object's index.

    ``x`` (n, d), ``P`` (n, d, d); ``truth`` (objects, n, d): every object's state at each estimate's time
    (NaN where it does not exist).  Objects farther than ``within`` [m] in position are no candidates;
    an estimate with none gets NaN and index −1.  Scored this way, a track is judged against the object
    it follows, which may rightly change: at a separation a track that followed a spent stage hands
    over to the body it left (``mwx.track.tracker``), and before they resolve it follows the stronger
    echo of the two, whatever object it first associated with.  A track midway between two objects
    still scores badly against both.
    """
    e = np.asarray(x, float)[None] - np.asarray(truth, float)  # (objects, n, d)
    finite = np.all(np.isfinite(e), axis=-1) & (np.linalg.norm(np.nan_to_num(e[..., :3]), axis=-1) <= within)
    values = np.where(finite, nees(np.nan_to_num(e), np.broadcast_to(np.asarray(P, float), e.shape + e.shape[-1:])),
                      np.inf)  # fmt: skip
    best = np.argmin(values, axis=0) if len(values) else np.zeros(e.shape[1], np.int64)
    score = values[best, np.arange(e.shape[1])] if len(values) else np.full(e.shape[1], np.inf)
    ok = np.isfinite(score)
    return np.where(ok, score, np.nan), np.where(ok, best, -1)


def nis(nu: ArrayLike, S: ArrayLike) -> FloatArray:
    """Normalised innovation squared νᵀ S⁻¹ ν: nu (..., m), S (..., m, m) → (...) (ibid. §5.4.2)."""
    return nees(nu, S)


def chi2_bounds(dof: int, runs: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided acceptance interval for the run-averaged NEES/NIS of a consistent filter.

    N·ε̄ ~ χ²(N·d) for N independent runs of a d-dimensional error (Bar-Shalom, Li & Kirubarajan 2001,
    §5.4.2), so ε̄ lies in [χ²⁻¹((1−c)/2; N d)/N, χ²⁻¹((1+c)/2; N d)/N] with probability c.
    """
    n = dof * runs
    return float(chi2.ppf((1 - confidence) / 2, n) / runs), float(chi2.ppf((1 + confidence) / 2, n) / runs)


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion k/n (95 % for the default z; Wilson 1927); (nan, nan) for n 0.

    Used for coverage rates: a share of stated regions that hold the truth.
    """
    if n == 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def average_nees(values: ArrayLike) -> FloatArray:
    """Run-averaged NEES/NIS: values (T, N) per time and run → (T,)."""
    return np.mean(np.asarray(values, float), axis=-1)


def fraction_consistent(values: ArrayLike, dof: int, confidence: float = 0.95) -> float:
    """Share of times whose run-averaged NEES/NIS lies inside :func:`chi2_bounds`; values (T, N).

    Near ``confidence`` for a consistent filter; far below it when P is too small (or too large).
    """
    v = np.asarray(values, float)
    low, high = chi2_bounds(dof, v.shape[-1], confidence)
    avg = average_nees(v)
    return float(np.mean((avg >= low) & (avg <= high)))


# --------------------------------------------------------------------------------------------------------------
# Posterior Cramér–Rao lower bound
# --------------------------------------------------------------------------------------------------------------

Transition = Callable[[FloatArray, FloatArray], FloatArray]
MeasurementJacobians = Callable[[int, FloatArray], Sequence[tuple[ArrayLike, ArrayLike]]]


def _sym(a: FloatArray) -> FloatArray:
    return 0.5 * (a + np.swapaxes(a, -1, -2))


def _inverse(a: FloatArray) -> FloatArray:
    return _sym(np.asarray(np.linalg.solve(a, np.eye(a.shape[-1])), np.float64))


def _information(measurements: Sequence[tuple[ArrayLike, ArrayLike]], d: int) -> FloatArray:
    """Σ Hᵀ R⁻¹ H over the measurements at one step, (d, d)."""
    total = np.zeros((d, d))
    for H, R in measurements:
        h = np.asarray(H, float).reshape(-1, d)
        total += h.T @ np.linalg.solve(np.asarray(R, float).reshape(len(h), len(h)), h)
    return _sym(total)


def pcrlb(
    x_true: ArrayLike,
    times: ArrayLike,
    transition: Transition,
    process_noise: Transition,
    measurement_jacobians: MeasurementJacobians,
    J0: ArrayLike,
) -> FloatArray:
    """Posterior Cramér–Rao lower bound (T, d, d) along a true trajectory x_true (T, d) at times (T,) [s].

    Tichavský, Muravchik & Nehorai (1998), additive Gaussian noise, Jacobians at the true states:

        J₀ = J0 + Σ H₀ᵀ R⁻¹ H₀,
        Jₖ₊₁ = (Qₖ + Fₖ Jₖ⁻¹ Fₖᵀ)⁻¹ + Σ Hₖ₊₁ᵀ R⁻¹ Hₖ₊₁,

    the bound being Jₖ⁻¹.  This form needs no Q⁻¹, so Q → 0 is fine; inverses are linear solves,
    symmetrised.  ``transition(x (n, d), dt (n,))`` gives Fₖ (n, d, d) and ``process_noise`` Qₖ
    (n, d, d) for the steps from tₖ to tₖ₊₁ (both called once, for all steps);
    ``measurement_jacobians(k, x_true[k])`` lists (H (mᵢ, d), R (mᵢ, mᵢ)) for the measurements at step k
    (empty when none).  J0 (d, d): prior information at times[0], before its measurements; positive definite.
    """
    x = np.asarray(x_true, float)
    t = np.asarray(times, float)
    T, d = x.shape
    J = _sym(np.asarray(J0, float)) + _information(measurement_jacobians(0, x[0]), d)
    bounds = np.empty((T, d, d))
    bounds[0] = _inverse(J)
    if T > 1:
        dt = np.diff(t)
        F = np.asarray(transition(x[:-1], dt), float)
        Q = np.asarray(process_noise(x[:-1], dt), float)
        for k in range(T - 1):
            predicted = _sym(Q[k] + F[k] @ bounds[k] @ F[k].T)
            J = _inverse(predicted) + _information(measurement_jacobians(k + 1, x[k + 1]), d)
            bounds[k + 1] = _inverse(J)
    return bounds


def rms_bound(bounds: ArrayLike, index: slice | Sequence[int] = slice(0, 3)) -> FloatArray:
    """√(trace of a block of the bound), (T, d, d) → (T,); the default block is the position [m]."""
    b = np.asarray(bounds, float)
    idx = np.arange(b.shape[-1])[index]
    return np.sqrt(np.trace(b[..., idx[:, None], idx[None, :]], axis1=-2, axis2=-1))
