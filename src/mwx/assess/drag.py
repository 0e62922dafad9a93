"""What a track's energy says: the ballistic coefficient of the body it follows, and whether a motor still burns.

No sensor measures a body's ballistic coefficient β = m / (C_D A) before it meets the air, and the
bodies of one launch differ by more than a factor of ten: a re-entry vehicle a few thousand kg/m²,
a tumbling spent stage a few hundred.  A track that may follow either (a radar that held the
booster through staging cannot tell which piece it kept) must carry both until the air tells them
apart: a prior *mixture* of log-normal components, weighed by the evidence.

The evidence is the energy the track loses.  In the rotating ECEF frame the Jacobi integral

    C = ½|v|² − ½ω²(x² + y²) + U(r),   U = −(μ/r) [1 − J₂ (a/r)² (3 sin²φ − 1)/2]

(φ the geocentric latitude) is conserved under gravity with J₂ and the rotation; drag, with the air
turning with the Earth, takes it away at the rate ``dC/dt = −½ ρ(h) |v|³ κ`` (κ = 1/β).  Between an
earlier state 0 and a later state k of one track, then,

    C₀ − C_k = κ · W,   W = ∫ ½ ρ |v|³ dt   (trapezoid over the track's states),

linear in κ, with the states' covariances giving the noise of C (first order: ∇C = [−a_g, v], a_g
the gravitational and centrifugal acceleration).  The two ends' errors are counted as independent,
which overstates the noise of a filter's correlated states (so the evidence is weighed cautiously).
Telling light bodies from heavy ones by their deceleration in the air is the classic re-entry
discrimination (Regan & Anandakrishnan 1993, on re-entry dynamics; Zarchan, *Tactical and Strategic
Missile Guidance*, on estimating the ballistic coefficient); the energy form needs no filter of its own.

The mirror image: C *rises* only under thrust, so two states of a track whose C stayed flat, with
noise small enough that a motor would have shown, show it coasting (:func:`shows_coasting`) — what
a ballistic prediction from it needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mwx.assess.impact import ASSUMED_BETA
from mwx.geo import wgs84
from mwx.track import dynamics

#: Above this height the air takes less than 1e-3 of κW over a flight for any body: states above it anchor W.
AIR_CEILING_M = 120e3
#: Grid of η = ln(β/β_j)/σ_j per component on which the posterior is computed.
_ETA = np.linspace(-4.0, 4.0, 81)
#: A component of less weight than this is left out of predictions (:func:`usable`).
NEGLIGIBLE_WEIGHT = 0.01
#: Least σ of ln β kept after the evidence (the density of the day differs from the standard atmosphere's).
MIN_SIGMA_LN = 0.1


@dataclass(frozen=True)
class Component:
    """One log-normal component of a ballistic-coefficient prior: weight, median β [kg/m²], σ of ln β."""

    weight: float
    beta: float
    sigma_ln: float


#: Spread (σ of ln β) of a re-entry body's ballistic coefficient: one σ is a factor 1.35 either way.
REENTRY_SIGMA_LN = 0.3
#: A re-entry body (the assumption of :mod:`mwx.assess.impact`).
REENTRY_BODY = (Component(1.0, ASSUMED_BETA, REENTRY_SIGMA_LN),)
#: An empty tumbling stage: a few hundred kg/m², uncertain by a factor 1.65 either way.
STAGE_BETA, STAGE_SIGMA_LN = 600.0, 0.5
#: Prior probability that a coasting track follows a spent stage, not the re-entry body, by its burnout
#: energy (as a minimum-energy range [km], from): every missile of medium range or more separates its
#: re-entry body from the last stage, and the two fly together until the air parts them; which one a
#: track holds is the tracker's and the sensors' doing.  Measured, the share of the reports whose track
#: followed a stage at its end, on the calibration flights of ``benchmarks/coverage.py --seed 14
#: --flights 96`` (the 72 of medium range or more, every partner and the fused picture, before this
#: prior was set; the benchmark's own seed is 13): MRBM 1 of 393, IRBM 12 of 372, ICBM 99 of 324.
#: Below 1000 km (a single-stage missile, or a first stage dropped in boost whose missile was not seen
#: burning on) the weight is a hint, too small to count until the air says so (:data:`NEGLIGIBLE_WEIGHT`).
STAGE_SHARES = ((0.0, 1e-4), (1000.0, 0.01), (3000.0, 0.04), (5500.0, 0.30))
#: Prior probability of a stage for an object seen coasting while another object of its missile still
#: burns (``dropped`` of :func:`prior`): a missile burns on only after dropping a stage, never its
#: re-entry body.  What is left is the chance that the lineage test took another missile for its own.
DROPPED_SHARE = 0.95
#: Prior probability of a stage for an object shown to keep more energy than another of its missile that
#: parted from it after burnout (``body`` of :func:`prior`, :func:`mwx.assess.events.body_since`): of the
#: two the spent stage is the one pushed back and slowed by the air.  Below :data:`NEGLIGIBLE_WEIGHT`, so
#: the prediction is the body's alone until the air says otherwise; on the assessment set's six seeds every
#: track so shown followed a body (docs/benchmarks.md).
BODY_SHOWN_SHARE = 0.002


#: Where :func:`prior` (and so :func:`posterior`) puts the re-entry body and the spent stage.
BODY, STAGE = 0, 1


def prior(equivalent_range_km: float, *, dropped: bool = False, body: bool = False) -> tuple[Component, ...]:
    """The ballistic-coefficient prior of a coasting track with the burnout energy of that range [km].

    Component ``BODY`` a re-entry body; ``STAGE`` a spent stage, with :data:`DROPPED_SHARE` for an
    object dropped while its missile burns on (``dropped``), else :data:`BODY_SHOWN_SHARE` for one shown
    to be the body of a parted pair (``body``), else the share of :data:`STAGE_SHARES` for the range.
    """
    share = STAGE_SHARES[0][1]
    for lowest, weight in STAGE_SHARES:
        if equivalent_range_km >= lowest:
            share = weight
    if body:
        share = BODY_SHOWN_SHARE
    if dropped:
        share = DROPPED_SHARE
    reentry = REENTRY_BODY[0]
    return (Component(1.0 - share, reentry.beta, reentry.sigma_ln), Component(share, STAGE_BETA, STAGE_SIGMA_LN))


def usable(mixture: tuple[Component, ...]) -> tuple[Component, ...]:
    """The components worth predicting with: those of at least :data:`NEGLIGIBLE_WEIGHT`, renormalised."""
    kept = [c for c in mixture if c.weight >= NEGLIGIBLE_WEIGHT]
    norm = sum(c.weight for c in kept)
    return tuple(Component(c.weight / norm, c.beta, c.sigma_ln) for c in kept)


def jacobi_energy(x: NDArray) -> NDArray:
    """The Jacobi integral C [m²/s²] of ECEF states (..., 6): conserved in flight without drag."""
    r, v = x[..., :3], x[..., 3:6]
    rn2 = np.einsum("...i,...i->...", r, r)
    rn = np.sqrt(rn2)
    sin2 = r[..., 2] ** 2 / rn2
    potential = -wgs84.GM / rn * (1.0 - wgs84.J2 * wgs84.A**2 / rn2 * 0.5 * (3.0 * sin2 - 1.0))
    spin = 0.5 * wgs84.OMEGA**2 * (r[..., 0] ** 2 + r[..., 1] ** 2)
    return 0.5 * np.einsum("...i,...i->...", v, v) - spin + potential


def energy_gradient(x: NDArray) -> NDArray:
    """∂C/∂x (..., 6) of ECEF states: minus the gravitational and centrifugal acceleration, and v."""
    r = x[..., :3]
    field = dynamics.acceleration(r, np.zeros_like(r))  # at rest: gravity and centrifugal, no Coriolis
    return np.concatenate([-field, x[..., 3:6]], axis=-1)


def energy_change(
    x_then: NDArray, p_then: NDArray, x_now: NDArray, p_now: NDArray
) -> tuple[NDArray, NDArray] | tuple[float, float]:
    """C_now − C_then [m²/s²] between pairs of states (ECEF (..., 6), covariances (..., 6, 6)) and its
    variance [m⁴/s⁴], first order, the two states' errors counted as independent (floats for one pair)."""
    x_then, x_now = np.asarray(x_then)[..., :6], np.asarray(x_now)[..., :6]
    g_then, g_now = energy_gradient(x_then), energy_gradient(x_now)
    var = np.einsum("...i,...ij,...j->...", g_then, np.asarray(p_then)[..., :6, :6], g_then) + np.einsum(
        "...i,...ij,...j->...", g_now, np.asarray(p_now)[..., :6, :6], g_now
    )
    rise = jacobi_energy(x_now) - jacobi_energy(x_then)
    return (float(rise), float(var)) if np.ndim(rise) == 0 else (rise, var)


#: Energy gained beyond this share of the kinetic energy (and beyond three σ of its noise) is a motor's:
#: ballistic flight keeps C, drag only takes from it.  Under thrust C rises by tens of per cent in 20 s.
THRUST_TOLERANCE = 0.03
#: m/s²: the least thrust acceleration a test must be able to see (a missile's motor gives 10-60 m/s²).
LEAST_THRUST = 5.0
#: s: a track's state is judged against the oldest of its states at most this long before it
#: (the second figure), and at least this long back (the first): the span a weak motor needs to show.
ENERGY_BASELINE_S = (5.0, 30.0)


def _judged(rise: NDArray, var: NDArray, speed: NDArray, span: NDArray) -> tuple[NDArray, NDArray]:
    """(coasting, thrusting) from an energy change, its variance and the later state's speed over ``span`` [s]."""
    noise = 3.0 * np.sqrt(var)
    limit = np.maximum(THRUST_TOLERANCE * 0.5 * speed * speed, noise)
    return (noise <= LEAST_THRUST * speed * span) & (rise <= limit), rise > limit


def shows_coasting(
    t_then: float, x_then: NDArray, p_then: NDArray, t_now: float, x_now: NDArray, p_now: NDArray
) -> bool:
    """Whether two states of one object (Unix s, ECEF (6,), covariances (6, 6)) show it coasting.

    Coasting: the Jacobi energy did not rise by more than ``THRUST_TOLERANCE`` of the kinetic energy
    or three σ of its noise (the two states' errors counted as independent) — and that noise is small
    enough that a motor would have shown: three σ under the energy that ``LEAST_THRUST`` along the
    velocity adds over the interval (a·|v|·Δt).  A state too loose to tell (an infrared track's
    velocity, hundreds of m/s) does not show coasting.
    """
    rise, var = energy_change(x_then, p_then, x_now, p_now)
    speed = np.linalg.norm(np.asarray(x_now)[3:6])
    return bool(_judged(np.array(rise), np.array(var), np.asarray(speed), np.array(t_now - t_then))[0])


def coasting_and_thrusting(t: NDArray, x: NDArray, p: NDArray) -> tuple[NDArray, NDArray]:
    """Per state of one track's history (Unix s (n,), ECEF (n, 6), covariances (n, 6, 6)): whether its
    energy shows it coasting (:func:`shows_coasting`), and whether it shows thrust (a rise beyond the
    tolerance and three σ of the noise), each against the track's oldest state within
    :data:`ENERGY_BASELINE_S` before it.  A state without such a state behind it shows neither.
    """
    t = np.asarray(t, float)
    base = np.searchsorted(t, t - ENERGY_BASELINE_S[1], side="left")
    span = t - t[base]
    judged = span >= ENERGY_BASELINE_S[0]
    rise, var = energy_change(x[base], p[base], x, p)
    coasting, thrusting = _judged(np.asarray(rise), np.asarray(var), np.linalg.norm(x[:, 3:6], axis=1), span)
    return coasting & judged, thrusting & judged


def drag_work(t: NDArray, x: NDArray) -> NDArray:
    """W (n,) [m³/kg·m²/s² per κ]: ∫ ½ ρ |v|³ dt from the first state to each, trapezoidal over the states."""
    rate = 0.5 * dynamics.fast_density(wgs84.ellipsoidal_height(x[:, :3])) * np.linalg.norm(x[:, 3:6], axis=1) ** 3
    return np.concatenate([[0.0], np.cumsum(0.5 * (rate[1:] + rate[:-1]) * np.diff(t))])


@dataclass(frozen=True)
class DragEvidence:
    """Energy lost between two states of a track: ``loss`` = C₀ − C_k ± ``sigma`` [m²/s²] over ``work`` W."""

    loss: float
    sigma: float
    work: float

    def log_likelihood(self, kappa: NDArray) -> NDArray:
        """ln p(loss | κ) up to a constant, for κ = 1/β [m²/kg] (any shape)."""
        return -0.5 * ((self.loss - kappa * self.work) / self.sigma) ** 2


def evidence(t: NDArray, x: NDArray, p: NDArray) -> DragEvidence | None:
    """What the coasting states (times (n,), ECEF (n, 6), covariances (n, 6, 6)) of one track say about κ.

    The anchor is the last state above ``AIR_CEILING_M`` (or the first state, for a flight that never
    leaves the air); the evidence is the energy lost from it to the last state.  None when no state
    after the anchor has met the air.
    """
    if len(t) < 2:
        return None
    high = np.flatnonzero(wgs84.ellipsoidal_height(x[:, :3]) >= AIR_CEILING_M)
    anchor = int(high[-1]) if high.size else 0
    if anchor >= len(t) - 1:
        return None
    work = float(drag_work(t[anchor:], x[anchor:, :6])[-1])
    if not work > 0.0:
        return None
    rise, var = energy_change(x[anchor], p[anchor], x[-1], p[-1])  # one pair of states: floats
    return DragEvidence(-float(rise), math.sqrt(max(float(var), 1.0)), work)


def posterior(prior: tuple[Component, ...], found: DragEvidence | None) -> tuple[Component, ...]:
    """The prior mixture weighed by the evidence: each component's weight and log-normal refitted.

    Computed on a grid of ln β per component (±4σ of its prior); the σ of ln β is kept no smaller
    than ``MIN_SIGMA_LN``.
    """
    if found is None:
        return prior
    logs = []
    for c in prior:
        ln_beta = math.log(c.beta) + c.sigma_ln * _ETA
        logs.append(math.log(max(c.weight, 1e-300)) - 0.5 * _ETA**2 + found.log_likelihood(np.exp(-ln_beta)))
    top = max(float(np.max(g)) for g in logs)
    masses = [np.exp(g - top) for g in logs]
    total = sum(float(m.sum()) for m in masses)
    out = []
    for c, m in zip(prior, masses, strict=True):
        weight = float(m.sum()) / total
        if weight == 0.0:  # underflow: nothing of it is left
            out.append(Component(0.0, c.beta, c.sigma_ln))
            continue
        ln_beta = math.log(c.beta) + c.sigma_ln * _ETA
        mean = float(np.sum(m * ln_beta) / m.sum())
        sd = math.sqrt(max(float(np.sum(m * (ln_beta - mean) ** 2) / m.sum()), 0.0))
        out.append(Component(weight, math.exp(mean), max(sd, MIN_SIGMA_LN)))
    return tuple(out)
