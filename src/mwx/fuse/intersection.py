"""Fusing estimates of one state whose errors are correlated by an unknown amount.

Every function takes n estimates ``x`` (n, d) with covariances ``P`` (n, d, d) of the same state (any
units, any frame, as long as all n agree) and returns the fused ``(x, P, ω)``; ``ω`` (n,) are the weights
on the simplex (Σω = 1, ω ≥ 0), NaN where a method has none (ICI: one ω per pairwise step).

* :func:`information_fusion` — the Kalman/Millman combination, P⁻¹ = Σ Pᵢ⁻¹: optimal when the errors are
  independent, optimistic (P too small) when they are correlated, as two trackers of one object are
  through its common process noise.
* :func:`covariance_intersection` — CI (Julier & Uhlmann, "A non-divergent estimation algorithm in the
  presence of unknown correlations", ACC 1997): P⁻¹ = Σ ωᵢ Pᵢ⁻¹, x = P Σ ωᵢ Pᵢ⁻¹ xᵢ.  For every ω on
  the simplex and *any* cross-correlation of the inputs, P ⪰ E[(x − x_true)(x − x_true)ᵀ] when each
  Pᵢ bounds its own error (ibid.; Chen, Arambel & Mehra, IEEE TAC 47(8), 2002), so the choice of ω only
  buys tightness, never consistency.  The price: two independent estimates with equal P fuse to P, not P/2.
* :func:`inverse_covariance_intersection` — ICI (Noack, Sijs, Reinhardt & Hanebeck, "Decentralized data
  fusion with inverse covariance intersection", Automatica 79, 2017):
  P⁻¹ = P_a⁻¹ + P_b⁻¹ − Γ⁻¹, Γ = (1 − ω) P_a + ω P_b (ω the weight of a, as in CI; the paper's 1 − ω).
  Never looser than CI at the same ω, and consistent whenever the correlation stems from information
  both estimates share (their Theorem 1) — the case of two trackers following one object's common
  process noise — but not for every conceivable cross-covariance, as CI is.
* :func:`split_covariance_intersection` — split CI (Julier & Uhlmann 2001; Li, Nashashibi & Yang 2013):
  each error split into a part of unknown correlation and a part independent of the other estimates;
  the former intersected, the latter combined.
* :func:`bounded_fusion` — any chosen linear combination (by default the information weights of the
  covariances), with the covariance bound of the split model: as consistent as split CI, and its
  weights free to follow what is best known about the inputs.

The CI and ICI weight ω minimises a size of the fused covariance (Julier & Uhlmann 1997 propose trace or
determinant): ``"trace"`` of the ``block`` (default: the first three components, the position, so
the fused position error is what is made small) or ``"det"`` (the volume of the whole ellipsoid;
unit-free).  Both are convex in ω (matrix inversion is operator-convex, −log det concave).

How ω is found.  For two estimates, the generalised eigenvectors V of (P_a⁻¹, P_b⁻¹)
(Vᵀ P_b⁻¹ V = I, Vᵀ P_a⁻¹ V = Λ) diagonalise both, and in that basis CI and ICI fuse each of the d modes
as a scalar:

    CI:   P(ω) = V diag(1 / (1 + ω(λₖ − 1))) Vᵀ
    ICI:  P(ω) = V diag(1 / (λₖ + 1 − λₖ / (1 − ω + ω λₖ))) Vᵀ

so one 6×6 eigendecomposition turns the search into a scalar function of ω, minimised exactly on a
grid of :data:`GRID` points (the closed form of Reinhardt, Noack & Hanebeck, FUSION 2012, exists only
for d ≤ 2).  For three or four estimates CI (and split CI, from two) minimises over a lattice of the
simplex in one batched call (O(100) 6×6 inversions); beyond, the closed-form fast CI of Niehsen
("Information fusion based on fast covariance intersection filtering", FUSION 2002), ωᵢ ∝ 1/tr Pᵢ.
ICI of more than two is applied sequentially, most informative first.  A grid's ω is within
1/(GRID − 1) of the optimum; since any ω is consistent, that costs a negligible fraction of tightness
and nothing else, and the result is deterministic.
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Criterion = Literal["trace", "det"]
GRID = 513  # ω grid for two estimates: resolution 1/512
POSITION = slice(0, 3)


def _sym(a: NDArray) -> NDArray:
    return 0.5 * (a + np.swapaxes(a, -1, -2))


def _inputs(x: ArrayLike, P: ArrayLike) -> tuple[NDArray, NDArray]:
    x, P = np.asarray(x, float), np.asarray(P, float)
    if x.ndim != 2 or P.shape != (*x.shape, x.shape[1]) or len(x) == 0:
        raise ValueError("need x (n, d) and P (n, d, d) with n ≥ 1")
    return x, P


def information_fusion(x: ArrayLike, P: ArrayLike) -> tuple[NDArray, NDArray, NDArray]:
    """Independent-error fusion P = (Σ Pᵢ⁻¹)⁻¹, x = P Σ Pᵢ⁻¹ xᵢ (Bar-Shalom, Li & Kirubarajan 2001, §1.4.16)."""
    x, P = _inputs(x, P)
    info = np.linalg.inv(P)
    cov = _sym(np.linalg.inv(info.sum(axis=0)))
    return cov @ np.einsum("nij,nj->i", info, x), cov, np.full(len(x), np.nan)


# ----------------------------------------------------------------------------------------------------- two
def _joint_basis(Pa: NDArray, Pb: NDArray) -> tuple[NDArray, NDArray, NDArray]:
    """λ (d,), V (d, d) and V⁻¹ with Vᵀ P_b⁻¹ V = I and Vᵀ P_a⁻¹ V = diag(λ).

    With P_b = L Lᵀ (Cholesky) and L⁻¹ P_a L⁻ᵀ = W diag(μ) Wᵀ: V = L W, λ = 1/μ, V⁻¹ = Wᵀ L⁻¹.
    """
    L = np.linalg.cholesky(Pb)
    Linv = np.linalg.inv(L)
    mu, W = np.linalg.eigh(_sym(Linv @ Pa @ Linv.T))
    return 1.0 / np.maximum(mu, 1e-300), L @ W, W.T @ Linv


def _size(var: NDArray, V: NDArray, criterion: Criterion, block: slice) -> NDArray:
    """The criterion for modal variances ``var`` (..., d) in basis V: trace of the block, or log det."""
    if criterion == "det":
        return np.sum(np.log(var), axis=-1)
    c = np.sum(V[block, :] ** 2, axis=0)  # tr(S V diag(var) Vᵀ Sᵀ) = Σₖ cₖ varₖ
    return var @ c


def _best(size: NDArray, omega: NDArray) -> int:
    """Index of the smallest ``size`` (k,) over weights ``omega`` (k, n); among ties, the most even weights.

    (Equal inputs make the criterion flat: any ω is optimal, and the even one treats the inputs alike.)
    """
    tied = np.flatnonzero(size <= size.min() + 1e-12 * abs(size.min()))
    return int(tied[np.argmin(np.sum((omega[tied] - 1.0 / omega.shape[1]) ** 2, axis=1))])


def _best_on_grid(modal: NDArray, V: NDArray, criterion: Criterion, block: slice) -> float:
    """The grid ω minimising the criterion of modal variances ``modal`` (GRID, d)."""
    grid = np.linspace(0.0, 1.0, GRID)
    return float(grid[_best(_size(modal, V, criterion, block), np.column_stack([grid, 1.0 - grid]))])


def _ci_two(
    x: NDArray, P: NDArray, criterion: Criterion, block: slice, omega: float | None
) -> tuple[NDArray, NDArray, float]:
    lam, V, Vinv = _joint_basis(P[0], P[1])
    w = np.linspace(0.0, 1.0, GRID)[:, None] if omega is None else np.array([[omega]])
    modal = 1.0 / (1.0 + w * (lam - 1.0))  # modal variances of P(ω), (k, d)
    if omega is None:
        omega = _best_on_grid(modal, V, criterion, block)
    var = 1.0 / (1.0 + omega * (lam - 1.0))
    za, zb = Vinv @ x[0], Vinv @ x[1]
    z = var * (omega * lam * za + (1.0 - omega) * zb)
    return V @ z, _sym((V * var) @ V.T), omega


def _ici_two(
    x: NDArray, P: NDArray, criterion: Criterion, block: slice, omega: float | None
) -> tuple[NDArray, NDArray, float]:
    """ICI with ω the weight of the first estimate, as in CI: Γ = (1 − ω) P_a + ω P_b (Noack et al.'s 1 − ω)."""
    lam, V, Vinv = _joint_basis(P[0], P[1])

    def gamma_inv(w: NDArray) -> NDArray:  # modal Γ(ω)⁻¹ = λ / (1 − ω + ω λ)
        return lam / (1.0 - w + w * lam)

    if omega is None:
        w = np.linspace(0.0, 1.0, GRID)[:, None]
        omega = _best_on_grid(1.0 / (lam + 1.0 - gamma_inv(w)), V, criterion, block)
    g = gamma_inv(np.asarray(omega))
    var = 1.0 / (lam + 1.0 - g)
    # K = P (P_a⁻¹ − (1 − ω) Γ⁻¹), L = P (P_b⁻¹ − ω Γ⁻¹), both diagonal in the joint basis.
    ka, kb = var * (lam - (1.0 - omega) * g), var * (1.0 - omega * g)
    z = ka * (Vinv @ x[0]) + kb * (Vinv @ x[1])
    return V @ z, _sym((V * var) @ V.T), omega


# ----------------------------------------------------------------------------------------------------- many
@lru_cache(maxsize=8)
def simplex_lattice(n: int, m: int) -> NDArray:
    """All ω (k, n) on the simplex with coordinates in multiples of 1/m."""
    corners = [c for c in itertools.product(range(m + 1), repeat=n - 1) if sum(c) <= m]
    a = np.array(corners, float).reshape(-1, n - 1)
    return np.column_stack([a, m - a.sum(axis=1)]) / m


LATTICE = {3: 16, 4: 8}  # lattice resolution by number of estimates (153 and 165 points)


def ci_weights(P: ArrayLike, criterion: Criterion = "trace", block: slice = POSITION) -> NDArray:
    """CI weights ω (n,) for covariances P (n, d, d): the optimum (lattice, n ≤ 4) or Niehsen's fast CI."""
    P = np.asarray(P, float)
    n = len(P)
    if n == 1:
        return np.ones(1)
    if n == 2:
        w = _ci_two(np.zeros((2, P.shape[-1])), P, criterion, block, None)[2]
        return np.array([w, 1.0 - w])
    if n not in LATTICE:
        inv_trace = 1.0 / np.trace(P[:, block, block], axis1=1, axis2=2)
        return inv_trace / inv_trace.sum()
    omega = simplex_lattice(n, LATTICE[n])
    info = np.linalg.inv(P)
    fused = np.linalg.inv(np.einsum("kn,nij->kij", omega, info))
    if criterion == "det":
        size = np.linalg.slogdet(fused)[1]
    else:
        size = np.trace(fused[:, block, block], axis1=1, axis2=2)
    return omega[_best(size, omega)]


def covariance_intersection(
    x: ArrayLike,
    P: ArrayLike,
    omega: ArrayLike | None = None,
    criterion: Criterion = "trace",
    block: slice = POSITION,
) -> tuple[NDArray, NDArray, NDArray]:
    """CI of n estimates: P⁻¹ = Σ ωᵢ Pᵢ⁻¹, x = P Σ ωᵢ Pᵢ⁻¹ xᵢ, ω optimised unless given."""
    x, P = _inputs(x, P)
    n = len(x)
    if n == 1:
        return x[0].copy(), P[0].copy(), np.ones(1)
    if n == 2:
        fx, fP, w_first = _ci_two(x, P, criterion, block, None if omega is None else float(np.atleast_1d(omega)[0]))
        return fx, fP, np.array([w_first, 1.0 - w_first])
    w = ci_weights(P, criterion, block) if omega is None else np.asarray(omega, float)
    keep = w > 0.0
    info = np.linalg.inv(P[keep]) * w[keep, None, None]
    cov = _sym(np.linalg.inv(info.sum(axis=0)))
    return cov @ np.einsum("nij,nj->i", info, x[keep]), cov, w


def inverse_covariance_intersection(
    x: ArrayLike,
    P: ArrayLike,
    omega: float | None = None,
    criterion: Criterion = "trace",
    block: slice = POSITION,
) -> tuple[NDArray, NDArray, NDArray]:
    """ICI of two estimates (ω, the weight of the first, optimised unless given); of more, sequentially
    from the most informative.  Returns the ω of each pairwise step (n − 1,), not simplex weights.
    """
    x, P = _inputs(x, P)
    if len(x) == 1:
        return x[0].copy(), P[0].copy(), np.empty(0)
    order = np.arange(2) if len(x) == 2 else np.argsort(np.trace(P[:, block, block], axis1=1, axis2=2), kind="stable")
    fx, fP = x[order[0]], P[order[0]]
    steps = []
    for i in order[1:]:
        fx, fP, w = _ici_two(np.stack([fx, x[i]]), np.stack([fP, P[i]]), criterion, block, omega)
        steps.append(w)
    return fx, fP, np.array(steps)


SPLIT_LATTICE = {2: 32, 3: 8, 4: 4}


def split_covariance_intersection(
    x: ArrayLike,
    P_dep: ArrayLike,
    P_ind: ArrayLike,
    criterion: Criterion = "trace",
    block: slice = POSITION,
) -> tuple[NDArray, NDArray, NDArray]:
    """Split CI: estimates whose error has a part of unknown correlation and a part independent of the others.

    Julier & Uhlmann, "General decentralized data fusion with covariance intersection", in *Handbook of
    Multisensor Data Fusion*, CRC 2001 (ch. 12); Li, Nashashibi & Yang, IEEE T-ITS 14(3), 2013.  With
    Pᵢ = P_dep,ᵢ + P_ind,ᵢ, the dependent parts are intersected and the independent ones combined:

        P̃ᵢ(ω) = P_dep,ᵢ / ωᵢ + P_ind,ᵢ,   P⁻¹ = Σ P̃ᵢ⁻¹,   x = P Σ P̃ᵢ⁻¹ xᵢ

    consistent when the independent parts are independent across estimates and the dependent ones
    correlated in any way.  ω on a lattice of the simplex (:data:`SPLIT_LATTICE`), else Niehsen's weights.
    """
    x, Pd = _inputs(x, P_dep)
    Pi = np.asarray(P_ind, float)
    n = len(x)
    if n == 1:
        return x[0].copy(), Pd[0] + Pi[0], np.ones(1)
    if n in SPLIT_LATTICE:
        omega = simplex_lattice(n, SPLIT_LATTICE[n])
        omega = omega[np.all(omega > 0.0, axis=1)]
    else:
        inv_trace = 1.0 / np.trace(Pd[:, block, block], axis1=1, axis2=2)
        omega = (inv_trace / inv_trace.sum())[None]
    info = np.linalg.inv(Pd[None] / omega[:, :, None, None] + Pi[None])  # (k, n, d, d)
    fused = np.linalg.inv(info.sum(axis=1))
    if criterion == "det":
        size = np.linalg.slogdet(fused)[1]
    else:
        size = np.trace(fused[:, block, block], axis1=1, axis2=2)
    best = _best(size, omega)
    cov = _sym(fused[best])
    return cov @ np.einsum("nij,nj->i", info[best], x), cov, omega[best]


def bounded_fusion(
    x: ArrayLike,
    P_dep: ArrayLike,
    P_ind: ArrayLike,
    P_weight: ArrayLike | None = None,
    block: slice = POSITION,
) -> tuple[NDArray, NDArray, NDArray]:
    """A chosen linear combination of estimates, with a covariance that bounds its error.

    x = Σ Wᵢ xᵢ, Wᵢ = (Σ Cⱼ⁻¹)⁻¹ Cᵢ⁻¹ — the information weights of the covariances ``P_weight`` = Cᵢ
    (default P_dep + P_ind).  Whatever the weights, if each error is eᵢ = dᵢ + uᵢ with Cov dᵢ ⪯ P_dep,ᵢ
    correlated in any way and uᵢ independent of everything else with Cov uᵢ ⪯ P_ind,ᵢ, then for every ω on
    the simplex

        Cov(Σ Wᵢ eᵢ) ⪯ Σ Wᵢ P_ind,ᵢ Wᵢᵀ + Σ Wᵢ P_dep,ᵢ Wᵢᵀ / ωᵢ

    (the second term is the bound behind CI: (Σ aᵢ)(Σ aᵢ)ᵀ ⪯ Σ aᵢaᵢᵀ/ωᵢ).  Its block trace is least at
    ωᵢ ∝ √tr(Wᵢ P_dep,ᵢ Wᵢᵀ) over the block, in closed form.  Split CI chooses weights and bound together;
    here the weights are free, so they can follow what is known to separate good estimates from poor ones
    (the reported covariances) while the bound stays honest about what is not.  Returns (x, P, ω).
    """
    x, Pd = _inputs(x, P_dep)
    Pi = np.asarray(P_ind, float)
    C = Pd + Pi if P_weight is None else np.asarray(P_weight, float)
    info = np.linalg.inv(C)
    total = np.linalg.inv(info.sum(axis=0))
    W = total[None] @ info  # (n, d, d)
    dep = W @ Pd @ np.swapaxes(W, 1, 2)
    size = np.sqrt(np.maximum(np.trace(dep[:, block, block], axis1=1, axis2=2), 0.0))
    omega = size / size.sum() if size.sum() > 0 else np.full(len(x), 1.0 / len(x))
    keep = omega > 0.0
    cov = np.einsum("nij,njk,nlk->il", W, Pi, W) + (dep[keep] / omega[keep, None, None]).sum(axis=0)
    return np.einsum("nij,nj->i", W, x), _sym(cov), omega
