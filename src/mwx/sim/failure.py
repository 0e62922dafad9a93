"""Failing missiles: a motor that stops early (thrust termination) and a body that breaks up into fragments.

Frames and units
    As in :mod:`mwx.sim.flight`: the equations of motion in the launch-fixed
    inertial frame (ECI), states handed out in WGS-84 ECEF; SI units, times in
    seconds after launch, ballistic coefficients β = m / (C_D A) in kg/m².

Thrust termination (:func:`terminate_thrust`, scenario key ``failure: {kind: thrust_termination}``)
    The flight is first solved to its brief (:func:`mwx.sim.flight.solve_flight`:
    the *intended* flight, what the crew planned and what a warning system that
    assumed a nominal missile would predict), then flown again by
    :func:`mwx.sim.flight.simulate` with the same programme (velocity gain,
    pitch, azimuth) and the motor cut ``at_s`` after launch.  Up to the cut
    the two flights are the same to the last bit (the cut stops the same
    integration steps, see ``cutoff`` there); after it the missile is not
    separated — the motor with its unburnt propellant, any upper stage and
    the re-entry body stay one body — and coasts with the ballistic
    coefficient the boost body had at the cut,
    ``beta_boost (1 - k t_cut / T)`` (4000–20000 kg/m² for the generic
    :class:`~mwx.sim.flight.Vehicle`): heavy, so drag hardly matters above the
    lower atmosphere.  A termination is modelled as an instantaneous cut-off
    (no tail-off, no tumbling, no venting of the remaining propellant): the
    range lost is the kinetic energy the motor did not give.  A cut flight
    flies no manoeuvring profile (:mod:`mwx.sim.lift`): the body that would
    lift is never released.

Break-up (:func:`break_up`, scenario key ``failure: {kind: breakup}``)
    ``at_s`` after launch the warhead-bearing body (during boost the whole
    missile, after it the re-entry body or the single-stage airframe) becomes
    ``fragments`` pieces at the body's state on the intended flight
    (:func:`mwx.geo.hermite.interpolate_states` of its samples, sub-millimetre).
    Each piece ``k`` (1..n) gets

    * a velocity kick in the inertial frame, direction uniform on the sphere
      (a normalised 3-D standard normal), magnitude ``u · spread_mps`` with
      ``u`` uniform in [0, 1]: an explosion or structural failure scatters
      pieces at up to tens of m/s (the scenario's ``spread_mps``);
    * its own ballistic coefficient, log-uniform in
      [:data:`FRAGMENT_BETA_MIN`, :data:`FRAGMENT_BETA_MAX`] = 100–3000 kg/m²:
      from light tumbling panels and debris (~100) to dense pieces such as a
      motor case end or the re-entry body's core (~3000), below the intact
      re-entry body's 8000, so every piece decelerates more than the missile
      would have (an assumption of this model, not a measured distribution);
    * its own aspect-averaged radar cross-section: the first ``visible``
      pieces (F1..Fv) log-uniform in [:data:`VISIBLE_RCS_MIN_M2`,
      :data:`VISIBLE_RCS_MAX_M2`] = 0.05–1 m², a piece as large as a re-entry
      body or larger, which the theatre's radars see as they see a warhead;
      the others :data:`DEBRIS_RCS_M2` = 1e-6 m² (−60 dBsm, a centimetre-sized
      piece), for a radar of 20 dB at 1000 km on 1 m² an SNR of 0 dB at
      100 km: seen by no radar but one standing next to it.

    and then coasts with :func:`mwx.sim.flight.coast` (gravity with J2, drag
    against the rotating U.S. Standard Atmosphere 1976) to the ground.  No
    piece burns: a motor that breaks up stops.  Pieces do not break up again,
    nor do they ablate, lift or shed mass.

Draws
    Every draw of a missile's break-up comes from one
    :class:`numpy.random.Generator`, ``np.random.default_rng([seed,
    FAILURE_STREAM, launch_index, member])`` for the scenario's ``seed``, the
    launch's index in the scenario and the missile's place in its salvo (0 for
    the first; :func:`failure_rng`), so a run repeats exactly and no other draw
    of the run (sensors, links) moves when a failure is added.  Per piece, in
    order F1..Fn: the kick's direction (3 normals), its magnitude (1 uniform),
    β (1 uniform), the RCS (1 uniform, drawn for every piece so that changing
    ``visible`` changes no other draw).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mwx.geo import wgs84
from mwx.geo.hermite import interpolate_states
from mwx.sim.flight import Trajectory, coast, simulate

#: Range of a fragment's ballistic coefficient [kg/m²], drawn log-uniform.
FRAGMENT_BETA_MIN = 100.0
FRAGMENT_BETA_MAX = 3000.0
#: Range of a visible fragment's radar cross-section [m²], drawn log-uniform.
VISIBLE_RCS_MIN_M2 = 0.05
VISIBLE_RCS_MAX_M2 = 1.0
#: Radar cross-section of a fragment too small for the theatre's radars [m²].
DEBRIS_RCS_M2 = 1e-6
#: Second entry of the failure draws' seed: keeps them apart from any other stream seeded with small integers.
FAILURE_STREAM = 0x4641494C  # "FAIL"


def terminate_thrust(intended: Trajectory, at_s: float, *, step: float = 1.0) -> Trajectory:
    """The flight of ``intended``'s missile with its motor cut ``at_s`` seconds after launch.

    Same site, programme, vehicle and physics as ``intended``; the returned
    trajectory's ``burnout_t`` is ``at_s`` and its impact, apogee and range are
    those of the flight as flown.  ``at_s`` must lie within the burn
    (``0 < at_s < intended.vehicle.burn_time_s``), else :class:`ValueError`;
    :class:`~mwx.errors.UnreachableFlight` if the cut missile never leaves
    the ground.
    """
    burn = intended.vehicle.burn_time_s
    if not 0.0 < at_s < burn:
        raise ValueError(f"a thrust termination at {at_s:g} s is not within the {burn:.1f} s burn")
    return simulate(*intended.site, intended.programme, intended.vehicle, intended.physics, step=step, cutoff=at_s)


@dataclass(frozen=True)
class Fragment:
    """One piece of a broken-up missile: ``t`` seconds after launch (n,), ECEF states (n, 6) [m, m/s]
    from the break-up to its impact, its ballistic coefficient ``beta`` [kg/m²], radar cross-section
    ``rcs_m2`` [m²], whether it is one of the ``visible`` pieces, and its inertial velocity kick [m/s]."""

    t: NDArray[np.float64]
    ecef: NDArray[np.float64]
    beta: float
    rcs_m2: float
    visible: bool
    kick: NDArray[np.float64]


def failure_rng(seed: int, launch_index: int, member: int) -> np.random.Generator:
    """The generator of one missile's failure draws: scenario ``seed``, the launch's index in the scenario and
    the missile's place in its salvo (0 for the first)."""
    return np.random.default_rng([seed, FAILURE_STREAM, launch_index, member])


def parent_state(intended: Trajectory, at_s: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """ECI and ECEF states (6,) [m, m/s] of the warhead-bearing body on ``intended`` at ``at_s`` seconds
    after launch (within the flight, else :class:`ValueError`)."""
    if not 0.0 < at_s < intended.impact_t:
        raise ValueError(f"a break-up at {at_s:g} s is not within the {intended.impact_t:.1f} s flight")
    eci = interpolate_states(intended.t, intended.eci, np.array([at_s]))[0]
    if not intended.physics.rotation:
        return eci, eci.copy()
    pos, vel = wgs84.eci_to_ecef(at_s, eci[:3], eci[3:])
    return eci, np.concatenate([pos, vel])


def break_up(
    intended: Trajectory,
    at_s: float,
    fragments: int,
    visible: int,
    spread_mps: float,
    rng: np.random.Generator,
    *,
    step: float = 1.0,
) -> list[Fragment]:
    """The ``fragments`` pieces of ``intended``'s warhead-bearing body after it breaks up ``at_s`` seconds
    after launch, each flown to the ground (see the module's docstring for the model and the draws); the
    first ``visible`` of them are large enough for a radar."""
    if not 0 <= visible <= fragments:
        raise ValueError(f"{visible} visible fragments of {fragments}")
    eci0, _ = parent_state(intended, at_s)
    log_beta = (math.log(FRAGMENT_BETA_MIN), math.log(FRAGMENT_BETA_MAX))
    log_rcs = (math.log(VISIBLE_RCS_MIN_M2), math.log(VISIBLE_RCS_MAX_M2))
    out = []
    for k in range(fragments):
        direction = rng.standard_normal(3)
        direction /= np.linalg.norm(direction)
        kick = spread_mps * rng.random() * direction
        beta = math.exp(rng.uniform(*log_beta))
        rcs = math.exp(rng.uniform(*log_rcs))
        seen = k < visible
        state = eci0.copy()
        state[3:] += kick
        t, ecef = coast(intended, at_s, state, beta, step=step)
        out.append(Fragment(t, ecef, beta, rcs if seen else DEBRIS_RCS_M2, seen, kick))
    return out


def inertial_speed(ecef: NDArray, omega: float = wgs84.OMEGA) -> NDArray[np.float64]:
    """Speed [m/s] in the inertial frame of ECEF states (n, 6): ``|v + ω × r|`` for Earth rotation ``omega``."""
    ecef = np.asarray(ecef, float)
    vx = ecef[:, 3] - omega * ecef[:, 1]
    vy = ecef[:, 4] + omega * ecef[:, 0]
    return np.sqrt(vx * vx + vy * vy + ecef[:, 5] ** 2)
