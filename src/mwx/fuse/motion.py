"""Bringing partners' track states to a common time: the ballistic predictor of the fusion.

States x = [r, v] (n, 6) ECEF [m, m/s], covariances (n, 6, 6).  A report carries six states and no
thrust or drag estimate, so the motion is the ballistic one of :mod:`mwx.track.dynamics` (J2 gravity,
centrifugal and Coriolis terms) plus an *unmodelled acceleration* a (thrust in boost, drag in re-entry)
that each member estimates from its own successive velocities (:func:`unmodelled_acceleration`), held
constant over the step:

    r(t + Δt) = r + v Δt + ½ (g(r, v) + a) Δt²,    v(t + Δt) = v + (g(r, v) + a) Δt
    P(t + Δt) = F P Fᵀ + Q_white(q, Δt) + J Σₐ Jᵀ,   J = [½ Δt² I₃; Δt I₃]

F the transition of the linearised ballistic dynamics (:func:`mwx.track.dynamics.transition`), Q_white
the white-acceleration noise of :func:`mwx.track.dynamics.white_acceleration_noise` with its
position–velocity term signed by Δt (members are carried backwards as well as forwards).  Steps
up to :data:`TAYLOR_MAX_S` use the second-order Taylor step above — its error, jerk·Δt³/6 with a
ballistic jerk of ~0.02 m/s³, is 2 cm at 2 s — and longer ones RK4 (:func:`mwx.track.dynamics.propagate`);
members of one system are usually a second or two apart, and the Taylor step costs one gravity
evaluation instead of four.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mwx.geo import wgs84
from mwx.track import dynamics

TAYLOR_MAX_S = 5.0
Q_WHITE = 1.0  # m²/s³: white acceleration besides a, under thrust or in the air
# ... and in the vacuum of midcourse, where the ballistic model lacks nothing but what the trackers' own
# (10⁻⁹) leaves: 1 m²/s³ there would add 1 m/s per second to states whose velocity is known to cm/s.
Q_VACUUM = 1e-4
# Random walk of the unmodelled acceleration [m²/s⁵]: thrust ends at burnout within a second, drag doubles every
# few seconds low in re-entry; in the vacuum of midcourse there is none.
JERK_PSD_POWERED = 400.0
JERK_PSD_VACUUM = 1e-2
ATMOSPHERE_TOP_M = 100e3
FIRST_ACCEL_SIGMA = 60.0  # m/s² per axis: a member's unmodelled acceleration before its second report
MIN_DIFFERENCE_S = 0.2  # s: reports closer than this do not difference into an acceleration


def predict(
    x: ArrayLike,
    P: ArrayLike,
    dt: ArrayLike,
    accel: ArrayLike | None = None,
    accel_var: ArrayLike = 0.0,
    q: ArrayLike = Q_WHITE,
) -> tuple[NDArray, NDArray]:
    """States (n, 6) and covariances (n, 6, 6) moved by ``dt`` (n,) seconds.

    ``accel`` (n, 3) [m/s²]: unmodelled acceleration, with ``accel_var`` (n,) its variance per axis
    [(m/s²)²]; ``q`` [m²/s³] white acceleration per axis, one for all or (n,) (:func:`white_psd`).
    """
    x, P = np.asarray(x, float), np.asarray(P, float)
    n = len(x)
    dt = np.broadcast_to(np.asarray(dt, float), (n,))
    q = np.broadcast_to(np.asarray(q, float), (n,))
    a = np.zeros((n, 3)) if accel is None else np.asarray(accel, float)
    s = np.broadcast_to(np.asarray(accel_var, float), (n,))
    h = dt[:, None]
    if np.all(np.abs(dt) <= TAYLOR_MAX_S):
        total = dynamics.acceleration(x[:, :3], x[:, 3:]) + a
        out = np.concatenate([x[:, :3] + h * x[:, 3:] + 0.5 * h * h * total, x[:, 3:] + h * total], axis=1)
    else:
        out = dynamics.propagate(x, dt)
        out[:, :3] += 0.5 * h * h * a
        out[:, 3:] += h * a
    f = dynamics.transition(x, dt)
    # White acceleration q and the constant unmodelled acceleration's variance s share one block pattern:
    # [[q|Δt|³/3 + sΔt⁴/4, qΔt|Δt|/2 + sΔt³/2], [·, q|Δt| + sΔt²]] ⊗ I₃.
    adt = np.abs(dt)
    pp = q * adt**3 / 3.0 + 0.25 * s * dt**4
    pv = 0.5 * q * dt * adt + 0.5 * s * dt**3
    vv = q * adt + s * dt**2
    noise = np.einsum("abn,ij->naibj", np.array([[pp, pv], [pv, vv]]), np.eye(3)).reshape(n, 6, 6)
    cov = f @ P @ np.swapaxes(f, 1, 2) + noise
    return out, 0.5 * (cov + np.swapaxes(cov, 1, 2))


def carry(x: ArrayLike, P: ArrayLike, dt: ArrayLike) -> NDArray:
    """Covariances (n, 6, 6) of errors that move with the states (n, 6) over ``dt`` (n,) s and gain no noise: F P Fᵀ."""
    x, P = np.asarray(x, float), np.asarray(P, float)
    f = dynamics.transition(x, np.broadcast_to(np.asarray(dt, float), (len(x),)))
    cov = f @ P @ np.swapaxes(f, 1, 2)
    return 0.5 * (cov + np.swapaxes(cov, 1, 2))


def in_vacuum(x: NDArray, boosting: bool) -> bool:
    """Coasting above the atmosphere's top (spherical height: plenty for telling it)."""
    return not boosting and math.sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]) - wgs84.A >= ATMOSPHERE_TOP_M


def white_psd(x: NDArray, boosting: bool) -> float:
    """White acceleration [m²/s³] a state's prediction needs beside its unmodelled acceleration."""
    return Q_VACUUM if in_vacuum(x, boosting) else Q_WHITE


def jerk_psd(x: NDArray, boosting: bool) -> float:
    """How fast the unmodelled acceleration may change [m²/s⁵]: fast under thrust or in the air.

    The altitude is spherical (|r| − the equatorial radius, up to 21 km low at the poles): plenty for
    telling the atmosphere's top.
    """
    return JERK_PSD_VACUUM if in_vacuum(x, boosting) else JERK_PSD_POWERED


def ballistic_acceleration(r: NDArray, v: NDArray) -> tuple[float, float, float]:
    """:func:`mwx.track.dynamics.acceleration` (J2 gravity, centrifugal, Coriolis; no drag) of one state [m/s²].

    Plain floating point: for one state it is ten times faster than the batched numpy version.
    """
    x, y, z = float(r[0]), float(r[1]), float(r[2])
    r2 = x * x + y * y + z * z
    common = -wgs84.GM / (r2 * math.sqrt(r2))
    zr2 = z * z / r2
    j2f = 1.5 * wgs84.J2 * wgs84.A**2 / r2
    horizontal = common * (1.0 - j2f * (5.0 * zr2 - 1.0))
    w = wgs84.OMEGA
    return (
        horizontal * x + w * w * x + 2.0 * w * float(v[1]),
        horizontal * y + w * w * y - 2.0 * w * float(v[0]),
        common * z * (1.0 - j2f * (5.0 * zr2 - 3.0)),
    )


def unmodelled_acceleration(
    x0: NDArray,
    P0: NDArray,
    t0: float,
    a0: NDArray,
    s0: float,
    x1: NDArray,
    P1: NDArray,
    t1: float,
    boosting: bool,
) -> tuple[NDArray, float]:
    """One member's unmodelled acceleration (3,) [m/s²] and its variance per axis, after a new report.

    A scalar-variance Kalman filter on a (random walk of PSD :func:`jerk_psd`) whose measurement is the
    finite difference of the member's velocities less the ballistic acceleration at the midpoint,

        ã = (v₁ − v₀)/Δt − g((x₀ + x₁)/2),   R = tr(P_v,1)/(3 Δt²),

    R counting only the newer velocity's variance: successive filter outputs share most of their
    error, so their difference is far more precise than the sum of the two variances would say.
    """
    dt = t1 - t0
    if dt < MIN_DIFFERENCE_S:
        return a0, s0
    mid = 0.5 * (x0 + x1)
    measured = (x1[3:] - x0[3:]) / dt - np.array(ballistic_acceleration(mid[:3], mid[3:]))
    r = (P1[3, 3] + P1[4, 4] + P1[5, 5]) / (3.0 * dt * dt)
    s = s0 + jerk_psd(x1, boosting) * dt
    k = s / (s + r)
    return a0 + k * (measured - a0), (1.0 - k) * s
