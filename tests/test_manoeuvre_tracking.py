"""Manoeuvring flights through the partners' trackers: one track through the lift, and an honest covariance.

Two flights of the default theater (``korea-japan``) from the Hodo peninsula eastwards over the Sea of
Japan: a KN-23-like pull-up (50 km apogee, 600 km, ``profile: {kind: pullup}``, the scenario defaults: lift
of 1.5 times the drag up to 2 g from 45 km down to 15 km) and a boost-glide (100 km, 1000 km, ``profile:
{kind: glide, turn_deg: 30}``: L/D 2.5 up to 3 g from burnout to impact, banked 45° until it has turned).
Each truth is flown once; each partner's radars measure it at 20 seeds and the partner's tracker
(:func:`mwx.track.tracker.missile_tracker` with its radars' registration, as a partner node builds it)
takes the scans in arrival order (:func:`mwx.exercise.replay.replay`).

The manoeuvre (:func:`_manoeuvre`): the stretch of the lift phase (``lift_start_t`` .. ``lift_end_t``)
in which the true lift (:func:`_true_lift`) is 0.05 g0 or more, the last such stretch.  For the pull-up
that is its whole lift phase, from 45 km down; for the glide, whose lift phase starts at burnout, it is
the descent into the air and the pull-out, from about 60 km down: on its climb to 100 km the lift is
under 0.5 m/s² (the first seconds after burnout aside, which belong to the booster's separation and the
group logic of ``tests/test_tracker.py``).  The radars measure from 40 s before it to its end, so every
track is started and confirmed before the manoeuvre, as in a partner's picture.

* **Continuity.** Per partner whose radars report the object during the manoeuvre, at every seed: the
  track that holds it when the manoeuvre starts (or when the partner first sees it) holds it at the
  partner's last report, and no other confirmed track holds it meanwhile.  A record "holds" the object
  when it lies nearer to it than to any other object of the flight (the glide's spent stage) and within
  5 km; a track holds it when three or more of its records do.
* **Consistency.** The NEES of the published position and velocity, averaged over the 20 seeds at each
  2 s step of the manoeuvre, at or below the upper 95 % bound of the χ² average at 90 % of the steps or
  more (the steps are correlated, as in ``tests/test_tracker.py``), and on average over the steps.
* **Against the two-mode tracker** (the tracker before the manoeuvre mode: boost and ballistic, the same
  everything else, :func:`_two_mode_tracker`), at the first 3 seeds: position and velocity RMSE over the
  same steps, printed (``docs/tracking-benchmark.md``, "Manoeuvring flights", has the figures); the new
  tracker's are not worse, and the two-mode tracker, as measured, loses or splits the track and is
  inconsistent (NEES far above the bound) on both flights.

Ballistic flights are covered by ``tests/test_tracker.py`` (its consistency tests are unchanged) and the
figures before and after in the docs.  The checks can fail: with the manoeuvre mode's probability
floors off (``manoeuvre_min_probability`` and ``manoeuvre_cover_probability`` 0) the pull-up's NEES,
averaged over the 20 seeds, is 115 at the US radars (11 % of the steps inside the bound) and 9.9 at JP's
(55 % inside); the two-mode tracker fails every check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pytest
from scipy.stats import chi2

from mwx.exercise import metrics
from mwx.exercise.replay import ReplayRecord, replay
from mwx.geo import wgs84
from mwx.geo.atmosphere import density
from mwx.sim.lift import G0, GlideProfile
from mwx.sim.scenario import parse_scenario, theater_of
from mwx.sim.sensors import simulate_sensors
from mwx.sim.theater import Radar, Theater
from mwx.sim.truth import TruthLaunch, fly
from mwx.track.initiation import InfraredInitiator, RadarInitiator
from mwx.track.motion import THRUST, Ballistic, Boost, Manoeuvre, _jacobian
from mwx.track.registration import Registration
from mwx.track.tracker import Tracker, TrackerConfig, _mahalanobis, missile_tracker

SEEDS = range(20)
OLD_SEEDS = range(3)
PARTNERS = ("KR", "JP", "US")
LEAD_S = 40.0  # s of measurements before the manoeuvre: the track is confirmed by then
STEP_S = 2.0
LIFT_FLOOR = 0.05 * G0  # m/s²: the lift is "under way" above this
HOLD_M = 5e3
FLIGHTS = {
    "pullup": "{kind: pullup}",
    "glide": "{kind: glide, turn_deg: 30}",
}
_SHAPE = {"pullup": (50, 600), "glide": (100, 1000)}


def _scenario(name: str) -> str:
    apogee, range_km = _SHAPE[name]
    return (
        f"name: {name}\nseed: 1\nlaunches:\n"
        f"  - {{id: M, time: 2023-01-01T00:00:00Z, site: {{lat: 39.40167, lon: 127.5369}}, azimuth_deg: 90,\n"
        f"     apogee_km: {apogee}, range_km: {range_km}, profile: {FLIGHTS[name]}}}\n"
    )


def _two_mode_tracker(name: str, registration: Registration) -> Tracker:
    """The partner tracker as it was before the manoeuvre mode: IMM over boost and ballistic."""
    config = TrackerConfig(
        switch_rates=((0.0, 1.0 / 60.0), (0.0, 0.0)),
        initial_modes={"radar": (0.5, 0.5), "infrared": (0.95, 0.05), "position": (1.0,)},
    )
    initiators = {"radar": RadarInitiator(), "infrared": InfraredInitiator()}
    return Tracker(name, [Boost(), Ballistic()], initiators, config, registration=registration)


def _new_tracker(name: str, registration: Registration) -> Tracker:
    return missile_tracker(name, registration=registration)


def _true_lift(launch: TruthLaunch, t: np.ndarray) -> np.ndarray:
    """The truth's lift acceleration [m/s²] at Unix times ``t``: min(L/D ρ|v|²/(2β), n_max g0) in the lift phase.

    From the profile (:mod:`mwx.sim.lift`), the ECEF velocity (the air's) and the 1976 atmosphere.
    """
    traj = launch.trajectory
    profile = traj.profile
    assert profile is not None
    states = launch.objects[0].states_at(t)
    _, _, alt = wgs84.ecef_to_geodetic(states[:, :3])
    beta = profile.beta if isinstance(profile, GlideProfile) else traj.vehicle.beta_reentry
    drag = 0.5 * np.asarray(density(alt)) * np.einsum("ij,ij->i", states[:, 3:], states[:, 3:]) / beta
    lift = np.minimum(profile.lift_to_drag * drag, profile.max_accel)
    since = t - launch.launch_time
    return np.where((since >= traj.lift_start_t) & (since <= traj.lift_end_t), lift, 0.0)


@dataclass
class PartnerRun:
    """One partner's tracking of one flight at one seed, reduced to what the checks need."""

    holders: dict[int, int]  # track number → records that hold the object in the lift phase
    first: int | None  # the holder when the partner first sees the object in the lift phase
    last: int | None  # ... and at its last report there
    nees: np.ndarray  # (steps,) NEES of the latest holding estimate at each step (NaN: none within a step)
    errors: np.ndarray  # (steps, 6) its errors


@dataclass
class Flight:
    launch: TruthLaunch
    theater: Theater
    steps: np.ndarray  # Unix times of the NEES/RMSE steps: the manoeuvre, every STEP_S
    runs: dict[tuple[str, str, int], PartnerRun] = field(default_factory=dict)  # (tracker, partner, seed)


def _reduce(record: ReplayRecord, launch: TruthLaunch, window: tuple[float, float], steps: np.ndarray) -> PartnerRun:
    obj = launch.objects[0]
    truth = obj.states_at(np.clip(record.time, obj.t[0], obj.t[-1]))
    distance = np.linalg.norm(record.x[:, :3] - truth[:, :3], axis=1)
    holds = distance < HOLD_M
    for other in launch.objects[1:]:
        live = (record.time >= other.t[0]) & (record.time <= other.t[-1])
        there = other.states_at(np.clip(record.time, other.t[0], other.t[-1]))
        holds &= ~(live & (np.linalg.norm(record.x[:, :3] - there[:, :3], axis=1) < distance))
    inside = holds & (record.time >= window[0]) & (record.time <= window[1])
    numbers, counts = np.unique(record.number[inside], return_counts=True)
    holders = {int(k): int(c) for k, c in zip(numbers, counts, strict=True)}
    rows = np.flatnonzero(inside)
    first = int(record.number[rows[0]]) if rows.size else None
    last = int(record.number[rows[-1]]) if rows.size else None
    nees = np.full(steps.size, np.nan)
    errors = np.full((steps.size, 6), np.nan)
    idx = np.flatnonzero(holds)
    if idx.size:
        at = np.searchsorted(record.time[idx], steps, side="right") - 1
        ok = at >= 0
        ok[ok] &= steps[ok] - record.time[idx[at[ok]]] < STEP_S
        pick = idx[at[ok]]
        errors[ok] = record.x[pick, :6] - truth[pick]
        nees[ok] = metrics.nees(errors[ok], record.P[pick, :6, :6])
    return PartnerRun(holders, first, last, nees, errors)


def _manoeuvre(launch: TruthLaunch) -> np.ndarray:
    """Unix times every STEP_S of the last stretch of the lift phase with a true lift of ``LIFT_FLOOR`` or more."""
    traj = launch.trajectory
    t0 = launch.launch_time
    grid = np.arange(t0 + traj.lift_start_t, t0 + traj.lift_end_t, STEP_S)
    on = _true_lift(launch, grid) >= LIFT_FLOOR
    starts = np.flatnonzero(on & ~np.concatenate([[False], on[:-1]]))
    stretch = grid[starts[-1] :]
    return stretch[on[starts[-1] :].cumprod().astype(bool)]


def _fly(name: str) -> Flight:
    scenario = parse_scenario(_scenario(name))
    launch = fly(scenario)[0]
    return Flight(launch, theater_of(scenario), _manoeuvre(launch))


def _track(flight: Flight, tracker: str, seeds: range) -> None:
    launch = flight.launch
    start, end = float(flight.steps[0]), float(flight.steps[-1]) + STEP_S
    make = _new_tracker if tracker == "new" else _two_mode_tracker
    for partner in PARTNERS:
        radars = [s for s in flight.theater.sensors if s.partner == partner and isinstance(s, Radar)]
        own = dict(enumerate(radars))
        for seed in seeds:
            m = simulate_sensors(radars, launch.objects, start - LEAD_S, min(end, launch.impact_time), seed)
            m = m.measurements
            seen = m.time[(m.object == 0) & (m.time >= start)]
            if seen.size == 0:
                continue  # this partner does not see the manoeuvre
            m = m.take(np.flatnonzero(m.time <= seen.max() + STEP_S))
            record = replay(make(partner, Registration.of(own)), m, own)
            window = (max(start, float(seen.min())), float(seen.max()))
            flight.runs[(tracker, partner, seed)] = _reduce(record, launch, window, flight.steps)


@pytest.fixture(scope="module")
def flights() -> dict[str, Flight]:
    out = {}
    for name in FLIGHTS:
        flight = _fly(name)
        _track(flight, "new", SEEDS)
        _track(flight, "old", OLD_SEEDS)
        out[name] = flight
    return out


def _partners(flight: Flight, tracker: str) -> list[str]:
    return sorted({p for (k, p, _) in flight.runs if k == tracker})


def _averaged_nees(flight: Flight, tracker: str, partner: str, seeds: range) -> np.ndarray:
    """The NEES averaged over ``seeds`` at the steps where every seed has an estimate (steps,)."""
    nees = np.array([flight.runs[(tracker, partner, s)].nees for s in seeds if (tracker, partner, s) in flight.runs])
    every = np.all(np.isfinite(nees), axis=0)
    return nees[:, every].mean(axis=0)


def _rmse(flight: Flight, tracker: str, partner: str, seeds: range) -> tuple[float, float]:
    """Position [m] and velocity [m/s] RMSE over the steps every run of both trackers has an estimate at."""
    both = [flight.runs[(k, partner, s)] for k in ("new", "old") for s in seeds if (k, partner, s) in flight.runs]
    every = np.all([np.isfinite(r.nees) for r in both], axis=0)
    e = np.array([flight.runs[(tracker, partner, s)].errors[every] for s in seeds])
    return float(np.sqrt(np.mean(np.sum(e[..., :3] ** 2, axis=-1)))), float(
        np.sqrt(np.mean(np.sum(e[..., 3:] ** 2, axis=-1)))
    )


@pytest.mark.parametrize("name", list(FLIGHTS))
def test_one_track_holds_the_manoeuvring_missile_through_the_lift(flights, name) -> None:
    flight = flights[name]
    partners = _partners(flight, "new")
    assert {"JP", "US"} <= set(partners), partners  # the Sea of Japan radars see every lift phase here
    broken = []
    for partner in partners:
        for seed in SEEDS:
            run = flight.runs[("new", partner, seed)]
            holders = {k for k, c in run.holders.items() if c >= 3}
            if run.first is None or holders != {run.first} or run.last != run.first:
                broken.append((partner, seed, run.holders, run.first, run.last))
    assert not broken, broken


@pytest.mark.parametrize("name", list(FLIGHTS))
def test_nees_through_the_lift_is_within_its_95_percent_bound(flights, name) -> None:
    flight = flights[name]
    n = len(SEEDS)
    _, high = metrics.chi2_bounds(6, n)
    for partner in _partners(flight, "new"):
        averaged = _averaged_nees(flight, "new", partner, SEEDS)
        if averaged.size < 5:
            continue  # this partner sees the lift only while it is weak (KR: the glide's climb)
        inside = float(np.mean(averaged <= high))
        print(f"{name} {partner}: NEES over {averaged.size} steps, mean {averaged.mean():.2f}, "
              f"{inside:.0%} of steps ≤ {high:.2f}")  # fmt: skip
        assert inside >= 0.9, (partner, inside, float(np.median(averaged)), high)
        assert averaged.mean() <= high, (partner, float(averaged.mean()), high)


@pytest.mark.parametrize("name", list(FLIGHTS))
def test_the_new_tracker_is_no_worse_than_the_two_mode_one(flights, name) -> None:
    flight = flights[name]
    runs = len(OLD_SEEDS)
    _, high = chi2.ppf([0.025, 0.975], 6 * runs) / runs
    split, inconsistent = 0, 0
    for partner in _partners(flight, "new"):
        if not any(("old", partner, s) in flight.runs for s in OLD_SEEDS):
            continue
        new_p, new_v = _rmse(flight, "new", partner, OLD_SEEDS)
        old_p, old_v = _rmse(flight, "old", partner, OLD_SEEDS)
        old_nees = _averaged_nees(flight, "old", partner, OLD_SEEDS)
        print(f"{name} {partner}: RMSE position {new_p:.0f} m (two-mode {old_p:.0f} m), "
              f"velocity {new_v:.1f} m/s (two-mode {old_v:.1f} m/s); two-mode NEES median "
              f"{np.median(old_nees):.1f}")  # fmt: skip
        assert new_p <= 1.05 * old_p and new_v <= 1.05 * old_v, (partner, new_p, old_p, new_v, old_v)
        old_runs = [flight.runs[("old", partner, s)] for s in OLD_SEEDS]
        split += sum(len({k for k, c in r.holders.items() if c >= 3}) > 1 for r in old_runs)
        inconsistent += int(np.mean(old_nees > high) > 0.5)
    # As measured: the two-mode tracker breaks the track into several and its covariance does not
    # cover the truth (NEES in the hundreds to thousands at JP's and US's radars).
    assert split >= 5, split
    assert inconsistent >= 1, inconsistent


def test_true_lift_is_what_the_profile_says(flights) -> None:
    """The lift the checks window on: a pull-up starts lifting at 45 km (0.9 m/s²) and is capped at 2 g."""
    launch = flights["pullup"].launch
    traj = launch.trajectory
    t = launch.launch_time + np.array([traj.lift_start_t + 1.0, traj.lift_start_t + 60.0])
    lift = _true_lift(launch, t)
    assert 0.5 < lift[0] < 1.5 and math.isclose(lift[1], 2.0 * G0)
    assert _true_lift(launch, np.array([launch.launch_time + traj.lift_start_t - 5.0]))[0] == 0.0


# ----------------------------------------------------------------- what a mode may not do to the tracker
def _state(alt_m: float, velocity: tuple[float, float, float], a6: float) -> np.ndarray:
    """An 8-state over (39.4 N, 128 E) at ``alt_m``, ECEF ``velocity`` [m/s], x[6] = ``a6``, κ 10⁻⁴ m²/kg."""
    r = wgs84.geodetic_to_ecef(np.radians(39.4), np.radians(128.0), alt_m)
    return np.concatenate([np.ravel(r), velocity, [a6, 1e-4]])[None, :]


def test_the_estimated_lift_stays_within_what_the_air_allows() -> None:
    """A falling fragment's unused manoeuvre mode fitted its drag as a lift of 500 m/s² at 18 km, where the air
    gives 2 m/s² at most, and its covariance grew to 10²² m²/s² (breakup-oki: the gate raised)."""
    model = Manoeuvre()
    for alt, lift in ((18e3, 509.0), (18e3, -509.0), (40e3, 3.0), (200e3, 1.0)):
        x = _state(alt, (100.0, -100.0, -100.0), lift)
        bound = float(model.lift_bound(x)[0])
        model.project(x)
        assert abs(x[0, THRUST]) <= bound and abs(x[0, THRUST]) == min(abs(lift), bound)
    assert float(model.lift_bound(_state(200e3, (3e3, 0.0, 0.0), 0.0))[0]) < 1e-5  # none above the air


def test_the_jacobians_stay_tame_at_a_track_start_and_a_vertical_velocity() -> None:
    """∂v̇/∂v of the boost mode at a new radar track's few m/s (the thrust's turn a_T/|v| was 10 /s: the mode's
    second update was km/s off and it lost all probability) and of the manoeuvre mode for a near-vertical
    velocity (ê's turn 1/sin(angle to the vertical), 10⁶ at the fall of a fragment)."""
    boost = _jacobian(_state(8e3, (2.0, 1.0, 2.0), 30.0), thrust=True)
    assert np.abs(boost[0, 3:6, 3:6]).max() < 1.0
    r = _state(18e3, (0.0, 0.0, 0.0), 0.0)[0, :3]
    up = r / np.linalg.norm(r)
    for tilt in (0.0, 1e-6, 1e-3):
        v = -200.0 * up + tilt * 200.0 * np.cross(up, [0.0, 0.0, 1.0])
        lift = _jacobian(_state(18e3, tuple(v), 2.0), thrust=False, lift=True)
        assert np.all(np.isfinite(lift)) and np.abs(lift[0, 3:6, 3:6]).max() < 1.0


def test_a_broken_pair_is_not_gated_and_the_rest_are() -> None:
    """The gate's Mahalanobis distances: +∞ for an innovation covariance that is not finite or not positive
    definite (one broken track does not stop the scan), the usual figure for the others."""
    s = np.tile(np.diag([4.0, 1.0]), (4, 1, 1))
    s[1, 0, 0] = np.nan
    s[2] = [[1.0, 1.0], [1.0, 1.0]]
    s[3, 0, 0] = 1e300
    nu = np.array([[2.0, 1.0]] * 4)
    d2, log_det = _mahalanobis(nu, s)
    assert d2[0] == pytest.approx(2.0) and log_det[0] == pytest.approx(math.log(4.0))
    assert d2[1] == d2[2] == math.inf and log_det[1] == log_det[2] == math.inf
    assert np.isfinite(d2[3])
