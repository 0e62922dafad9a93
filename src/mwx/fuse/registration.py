"""What partners' track covariances leave out, learned from how far their tracks of one object disagree.

A partner's published track of an object is x + bᵢ + nᵢ: nᵢ the error its covariance Pᵢ describes, bᵢ
what it does not — the registration biases of its radars (a range offset and a fraction of a milliradian
of pointing, i.e. 100–300 m at 1000 km), and the tracker's own lag in boost and re-entry.  bᵢ varies
slowly (with the geometry) and is independent from one partner to the next, since each partner's
radars and tracker are its own.  One partner's bᵢ is unobservable alone, but the difference of two
partners' tracks of one object, dᵢⱼ = xᵢ − xⱼ, has

    E[dᵢⱼ] = E[bᵢ − bⱼ],   E[‖dᵢⱼ‖²] = tr(Pᵢ + Pⱼ) + 3 (uᵢ + uⱼ)

for isotropic unmodelled variances uᵢ I₃ (per axis; velocity alike with vᵢ).  So the excess of the mean
squared difference over what the two covariances explain, eᵢⱼ = (‖d‖² − tr(Pᵢ + Pⱼ))/3, measures
uᵢ + uⱼ; with three or more partners the pairs determine every uᵢ (non-negative least squares), with
two each gets half.

How it is used (:mod:`mwx.fuse.fusion`).  The mean differences give the offsets bᵢ − bⱼ, which fix every
partner's offset but for a common part no comparison of partners can see; it is fixed by the median
partner (an L1 gauge: of three partners, the one misregistered moves).  An offset of the size of
ordinary registration errors is *not* taken out — independent biases partly cancel in the fusion, and
aligning everyone to one partner would give that up — while a gross one (a partner 2 km off) is, by
firm shrinkage at λ = 3 σ_prior (:func:`firm_shrink`).  What is left, (‖d − s‖² − tr(Pᵢ + Pⱼ))/3 with s
the offsets taken out, is split into the partners' uᵢ, by which each member's covariance is
*inflated* in gating and in the fused covariance.  (Okello & Ristic, "Maximum likelihood registration
for multiple dissimilar sensors", IEEE TAES 39(3), 2003, estimate biases from common tracks by
maximum likelihood; here a method of moments, cheap and online, is enough for their size.)

Samples are weighted by the inverse variance of their position difference and exponentially forgotten
with time constant ``tau_s`` (the geometry changes), kept apart by ``regime`` (boost and ballistic
flight differ by an order of magnitude).  A pair sets offsets once it has ``prior_weight`` samples'
worth of evidence; its excess is shrunk towards a prior of ``prior_weight`` pseudo-samples, and the
variances never go below a floor (:data:`ALLOWANCES`): the velocity error a 0.3 mrad rotation gives a
3 km/s object, say, cannot be learned from partners whose velocities differ by more than that through
their own noise.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import nnls


@dataclass(frozen=True)
class Allowance:
    """Per-axis 1σ of a partner's unmodelled error in one regime: the prior, and the floor under the estimate."""

    prior_m: float
    prior_mps: float
    floor_m: float
    floor_mps: float

    @property
    def prior(self) -> NDArray:
        return np.array([self.prior_m, self.prior_mps]) ** 2

    @property
    def floor(self) -> NDArray:
        return np.array([self.floor_m, self.floor_mps]) ** 2


# Ballistic flight: registration biases of 0.1–0.3 mrad put tracks 100–300 m apart at 1000 km and turn their
# velocities by as much (0.3 mrad of 3 km/s is 1 m/s), which the covariance of a tracker that does not
# estimate them lacks; the floor, 30 m, is 0.05 mrad at 600 km, better than any radar here registers.  Boost:
# a tracker follows thrust changes with a lag of tens of m/s.  (mwx's own trackers estimate their biases and
# report the split of their covariances: the fusion takes those at their word and uses only the offsets, so
# these sizes concern other trackers' reports, and which offsets count as gross.)
ALLOWANCES: dict[Hashable, Allowance] = {
    "ballistic": Allowance(prior_m=100.0, prior_mps=2.0, floor_m=30.0, floor_mps=1.0),
    "boost": Allowance(prior_m=150.0, prior_mps=20.0, floor_m=50.0, floor_mps=5.0),
}


@dataclass
class PairStats:
    """Exponentially weighted moments of one partner pair's track differences d = x_a − x_b (a < b)."""

    weight: float = 0.0  # Σ of the samples' weights, each forgotten since
    time: float = -math.inf  # of the latest sample
    mean: NDArray = field(default_factory=lambda: np.zeros(6))  # E[d] [m, m/s]
    square: NDArray = field(default_factory=lambda: np.zeros(2))  # E[‖d‖²]: position, velocity
    explained: NDArray = field(default_factory=lambda: np.zeros(2))  # E[tr(P_a + P_b)]: position, velocity

    def excess(self, shift: NDArray) -> NDArray:
        """E[‖d − s‖² − tr(P_a + P_b)]/3 (position, velocity) for a position shift s (3,) taken out of d."""
        moved = np.array([shift @ shift - 2.0 * shift @ self.mean[:3], 0.0])
        return (self.square + moved - self.explained) / 3.0


class PartnerErrors:
    """Per-partner gross position offsets and unmodelled error variances (isotropic), from associated tracks."""

    def __init__(
        self,
        tau_s: float = 300.0,
        prior_weight: float = 3.0,
        allowances: dict[Hashable, Allowance] | None = None,
        resolve_s: float = 10.0,
    ) -> None:
        self.tau_s = tau_s
        self.resolve_s = resolve_s
        self.prior_weight = prior_weight
        self.allowances = dict(ALLOWANCES if allowances is None else allowances)
        self.pairs: dict[tuple[str, str, Hashable], PairStats] = {}
        self._solved: dict[Hashable, tuple[dict[str, NDArray], dict[str, NDArray]]] = {}
        self._arrays: dict[tuple[str, Hashable], tuple[NDArray, NDArray]] = {}
        self._solved_at: dict[Hashable, tuple[float, int]] = {}
        self.revision = 0  # bumped whenever the offsets and variances are solved again

    def allowance(self, regime: Hashable) -> Allowance:
        return self.allowances.get(regime, self.allowances["ballistic"])

    def observe(
        self, a: str, b: str, time: float, d: NDArray, cov_sum: NDArray, regime: Hashable = "ballistic"
    ) -> None:
        """One difference d = x_a − x_b (6,) of the two partners' tracks of one object at ``time``.

        ``cov_sum``: P_a + P_b (6, 6) at that time, as the tracks report them (not inflated).
        """
        if a == b:
            return
        if b < a:
            a, b, d = b, a, -d
        stats = self.pairs.setdefault((a, b, regime), PairStats())
        explained = np.array([np.trace(cov_sum[:3, :3]), np.trace(cov_sum[3:, 3:])])
        # Weight: the inverse variance of the sample's position difference, tr C/3 + 2σ², relative to a
        # sample of covariance-free tracks (2σ² the prior pair variance): a kilometre-wide early infrared
        # track says next to nothing about a hundred-metre bias.
        pair_prior = 2.0 * self.allowance(regime).prior_m ** 2
        w = pair_prior / (explained[0] / 3.0 + pair_prior)
        # Forget in scenario time: a sample Δt old counts exp(−Δt/τ) (late samples count fully).
        stats.weight = stats.weight * math.exp(-max(time - stats.time, 0.0) / self.tau_s) + w
        stats.time = max(stats.time, time)
        k = w / stats.weight
        stats.mean += k * (d - stats.mean)
        stats.square += k * (np.array([d[:3] @ d[:3], d[3:] @ d[3:]]) - stats.square)
        stats.explained += k * (explained - stats.explained)
        solved_at, pairs = self._solved_at.get(regime, (-math.inf, -1))
        if time - solved_at >= self.resolve_s or len(self.pairs) != pairs:
            self._solved.pop(regime, None)  # statistics move slowly: solve again at most every resolve_s

    def _solve(self, regime: Hashable) -> tuple[dict[str, NDArray], dict[str, NDArray]]:
        """(offsets, variances) per partner in ``regime``, from the pairs' moments; cached until the next sample."""
        if regime in self._solved:
            return self._solved[regime]
        self.revision += 1
        pairs = [(a, b, s) for (a, b, r), s in self.pairs.items() if r == regime]
        now = max((s.time for _, _, s in pairs), default=-math.inf)
        self._solved_at[regime] = (now, len(self.pairs))
        allowance = self.allowance(regime)
        partners = sorted({p for a, b, _ in pairs for p in (a, b)})
        index = {p: i for i, p in enumerate(partners)}
        if not partners:
            self._solved[regime] = ({}, {})
            return self._solved[regime]
        self._arrays = {k: a for k, a in self._arrays.items() if k[1] != regime}
        # Each pair's weight forgotten up to now: a pair last seen on another object long ago counts little.
        sqrt_w = np.sqrt([s.weight * math.exp(-(now - s.time) / self.tau_s) for _, _, s in pairs])
        # Offsets: b_a − b_b = E[d_ab] in the least-squares sense, the free common part fixed by the median
        # partner (an L1 gauge: one misregistered partner out of three is the one that moves), then firm
        # shrinkage (Gao & Bruce, Statistica Sinica 7, 1997) with λ = 3 σ_prior: offsets of the size of
        # ordinary registration errors are left to the averaging of independent partners (they cancel in
        # part), gross ones are taken out.
        signs = np.zeros((len(pairs), len(partners)))
        for k, (a, b, _) in enumerate(pairs):
            signs[k, index[a]], signs[k, index[b]] = 1.0, -1.0
        # Pairs with less than ``prior_weight`` samples' worth of evidence do not set offsets.
        lsq_w = np.where(sqrt_w**2 >= self.prior_weight, sqrt_w, 0.0)
        means = np.array([s.mean[:3] for _, _, s in pairs])
        raw = np.linalg.lstsq(signs * lsq_w[:, None], means * lsq_w[:, None], rcond=None)[0]
        raw -= np.median(raw, axis=0)
        offsets = {p: firm_shrink(raw[i], 3.0 * allowance.prior_m) for p, i in index.items()}
        # Variances: rows √w (u_a + u_b) = √w e_ab with e_ab the excess left once the offsets are taken out;
        # a light prior row per partner keeps the system determined (two partners: an even split).
        rows = np.zeros((len(pairs) + len(partners), len(partners)))
        rhs = np.zeros((len(rows), 2))
        for k, (a, b, s) in enumerate(pairs):
            # The excess left once the offsets are out, shrunk towards the prior's (2 σ² for the pair) as
            # if the prior were ``prior_weight`` samples.
            w = s.weight * math.exp(-(now - s.time) / self.tau_s)
            excess = (w * s.excess(offsets[a] - offsets[b]) + self.prior_weight * 2.0 * allowance.prior) / (
                w + self.prior_weight
            )
            rows[k, index[a]] = rows[k, index[b]] = sqrt_w[k]
            rhs[k] = sqrt_w[k] * np.maximum(excess, 0.0)
        for i in range(len(partners)):
            rows[len(pairs) + i, i] = 1e-3
            rhs[len(pairs) + i] = 1e-3 * allowance.prior
        solved = np.linalg.lstsq(rows, rhs, rcond=None)[0]
        if np.any(solved < 0.0):  # only then the non-negative solution differs
            solved = np.column_stack([nnls(rows, rhs[:, c])[0] for c in range(2)])
        variances = {p: np.maximum(solved[i], allowance.floor) for p, i in index.items()}
        self._solved[regime] = (offsets, variances)
        for p in partners:
            u, v = variances[p]
            self._arrays[(p, regime)] = (np.concatenate([offsets[p], np.zeros(3)]), np.diag([u, u, u, v, v, v]))
        return offsets, variances

    def variances(self, regime: Hashable = "ballistic") -> dict[str, NDArray]:
        """(uᵢ, vᵢ) per partner seen in ``regime`` [m², m²/s² per axis], once the offsets are taken out."""
        return self._solve(regime)[1]

    def offsets(self, regime: Hashable = "ballistic") -> dict[str, NDArray]:
        """Position offset (3,) [m, ECEF] to subtract from each partner's tracks in ``regime`` (zero if ordinary)."""
        return self._solve(regime)[0]

    def correction(self, partner: str, regime: Hashable = "ballistic") -> tuple[NDArray, NDArray]:
        """(shift (6,), covariance (6, 6)) for ``partner``'s tracks in ``regime``: the learned position offset to
        subtract (zero velocity part), and diag(uᵢ I₃, vᵢ I₃) to add.  The prior if the partner was never paired.

        The arrays are shared: do not modify them.
        """
        self._solve(regime)
        found = self._arrays.get((partner, regime))
        if found is None:
            u, v = self.allowance(regime).prior
            found = self._arrays[(partner, regime)] = (np.zeros(6), np.diag([u, u, u, v, v, v]))
        return found

    def covariance(self, partner: str, regime: Hashable = "ballistic") -> NDArray:
        """diag(uᵢ I₃, vᵢ I₃) (6, 6) to add to ``partner``'s track covariance (the prior if never seen)."""
        return self.correction(partner, regime)[1].copy()

    def offset(self, a: str, b: str, regime: Hashable = "ballistic") -> NDArray | None:
        """Weighted mean of x_a − x_b (6,) [m, m/s] over their associated tracks, or None if never paired."""
        stats = self.pairs.get((min(a, b), max(a, b), regime))
        if stats is None:
            return None
        return stats.mean if a < b else -stats.mean


def firm_shrink(b: NDArray, lam: float) -> NDArray:
    """Firm shrinkage of a vector by its norm r: 0 below λ, all of it above 2λ, linear in between."""
    r = float(np.linalg.norm(b))
    if r <= lam:
        return np.zeros_like(b)
    return b if r >= 2.0 * lam else b * (2.0 * (r - lam) / r)
