"""The tracker against truth: consistency (NEES), efficiency (PCRLB), identity, late reports, clutter.

Monte Carlo figures use fixed seeds; bounds are the 95 % χ² bounds of the
run-averaged NEES (Bar-Shalom, Li & Kirubarajan 2001, §5.4).
"""

from __future__ import annotations

import math

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from mwx.exercise import metrics
from mwx.exercise.replay import frames, replay
from mwx.geo import wgs84
from mwx.sim import flight, sensors
from mwx.sim.scenario import parse_scenario, theater_of
from mwx.sim.theater import Radar, Site
from mwx.sim.truth import fly
from mwx.track.association import Gated, assign
from mwx.track.base import Scan
from mwx.track.initiation import PositionInitiator
from mwx.track.measurement import Position
from mwx.track.motion import ConstantVelocity
from mwx.track.tracker import Tracker, TrackerConfig, burnout_speed, missile_tracker, switch_matrix

RUNS = 50
FLIGHT = """\
name: coast
seed: 1
launches:
  - {id: M, time: 2023-01-01T00:00:00Z, site: {lat: 40.0, lon: 127.5}, azimuth_deg: 90, apogee_km: 350,
     range_km: 1300, separating_stages: 0}
"""
# Two radars that see the whole coast: Pd ≈ 1 (huge reference range), no clutter, no bias.
_COMMON = dict(revisit_s=2.0, ref_range_km=1e5, max_range_km=2500, sigma_range_m=30, sigma_az_mrad=0.5,
               sigma_el_mrad=0.5)  # fmt: skip
RADARS = [
    Radar(id="A", partner="X", site=Site(lat=38.5, lon=130.0, alt_m=100), **_COMMON),
    Radar(id="B", partner="X", site=Site(lat=41.0, lon=134.0, alt_m=100), sigma_range_rate_mps=2.0, **_COMMON),
]


#: The flight is one piece (``separating_stages: 0``): the allowance for a missile's unresolved pieces
#: (:meth:`Tracker.estimates`, conservative by design when there is nothing to part) is off, so the
#: filter's own consistency is what is measured.  ``test_group_allowance_covers_the_warhead_before_the_split``
#: measures it with a stage.
ONE_PIECE = TrackerConfig(group_allowance_s=0.0)


def _coast_runs(from_launch: bool, runs: int):
    """``runs`` runs of one ballistic flight tracked by two radars: coast-phase errors, covariances, times.

    ``from_launch``: the radars report from lift-off (the track starts in boost
    and the IMM sees burnout), else from 20 s after burnout.
    """
    launch = fly(parse_scenario(FLIGHT))[0]
    obj = launch.objects[0]
    burnout = launch.launch_time + launch.trajectory.burnout_t
    start, end = (obj.t[0] if from_launch else burnout + 20.0), obj.t[-1]
    per_run, first = [], None
    for seed in range(runs):
        run = sensors.simulate_sensors(RADARS, [obj], start, end, seed)
        if first is None:
            first = run.measurements
        record = replay(missile_tracker("X", ONE_PIECE), run.measurements, dict(enumerate(RADARS)))
        truth = obj.states_at(record.time)
        _, _, alt = wgs84.ecef_to_geodetic(truth[:, :3])
        # Settled (60 s into the coast, and into tracking), above the atmosphere.
        coast = (record.time >= max(start, burnout) + 60.0) & (alt > 100e3)
        assert len(np.unique(record.number[coast])) == 1  # one object, one track through the coast
        per_run.append((record.time[coast], record.x[coast, :6] - truth[coast], record.P[coast, :6, :6]))
    # The steps every run has an estimate at (all but a handful: the two radars' scans interleave).
    times = per_run[0][0]
    for t, _, _ in per_run[1:]:
        times = np.intersect1d(times, t)
    errors = np.array([e[np.isin(t, times)] for t, e, _ in per_run])
    covs = np.array([p[np.isin(t, times)] for t, _, p in per_run])
    return obj, errors, covs, times, first, start


@pytest.fixture(scope="module")
def coast_runs():
    """Tracks started 20 s after burnout: the coast alone, for the PCRLB (20 runs)."""
    return _coast_runs(False, 20)


@pytest.mark.slow
def test_coast_nees_lies_within_its_95_percent_bounds() -> None:
    _, errors, covs, _, _, _ = _coast_runs(True, RUNS)
    nees = metrics.nees(errors, covs)  # (runs, steps)
    averaged = nees.mean(axis=0)
    low, high = metrics.chi2_bounds(6, RUNS)
    inside = np.mean((averaged >= low) & (averaged <= high))
    # 95 % bounds: about 95 % of the steps inside; 90 % leaves room for the steps' correlation.
    assert inside >= 0.90, (inside, averaged.mean(), low, high)
    assert low <= averaged.mean() <= high


RATIO_BAR = 1.3


def _true_transitions(launch, t: np.ndarray) -> np.ndarray:
    """Fₖ (T − 1, 6, 6): Jacobians of the truth's own flow from ECEF state at t[k] to t[k + 1] [Unix s].

    The flow is the simulator's coast force model (:mod:`mwx.sim.flight`: J2 gravity, drag at the
    body's ballistic coefficient against the rotating air) in its launch-fixed inertial frame, stepped
    here by RK4 (≤ 1 s sub-steps) from states perturbed by ±1 m and
    ±1 cm/s about the truth: central differences.  Nothing of the tracker's motion model enters.
    """
    traj = launch.trajectory
    rhs, _ = flight._rhs(traj.vehicle, traj.programme, traj.physics, wgs84.geodetic_to_ecef(*traj.site), False)
    since = t - launch.launch_time
    truth = launch.objects[0].states_at(t)
    steps = np.eye(6) * np.array([1.0] * 3 + [0.01] * 3)
    out = np.empty((len(t) - 1, 6, 6))
    for k in range(len(t) - 1):
        n = max(1, math.ceil(since[k + 1] - since[k]))
        h = (since[k + 1] - since[k]) / n
        ends = []
        for sign in (1.0, -1.0):
            for d in steps:
                x = truth[k] + sign * d
                r, v = wgs84.ecef_to_eci(since[k], x[:3], x[3:])
                s = np.concatenate([r, v])
                for i in range(n):
                    tau = since[k] + i * h
                    k1 = np.array(rhs(tau, s))
                    k2 = np.array(rhs(tau + h / 2, s + h / 2 * k1))
                    k3 = np.array(rhs(tau + h / 2, s + h / 2 * k2))
                    k4 = np.array(rhs(tau + h, s + h * k3))
                    s = s + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
                r, v = wgs84.eci_to_ecef(since[k + 1], s[:3], s[3:])
                ends.append(np.concatenate([r, v]))
        ends = np.array(ends)
        out[k] = ((ends[:6] - ends[6:]) / (2.0 * np.diag(steps))[:, None]).T
    return out


def _true_measurement_jacobians(radar: Radar, states: np.ndarray) -> np.ndarray:
    """H (n, 4, 6) of range, azimuth, elevation and range rate at ECEF states (n, 6), by central differences.

    The measurement function is the simulator's (:func:`mwx.sim.sensors.radar_measurements`: the
    site's geodetic ENU frame, line-of-sight range rate), not the tracker's measurement model.
    """
    lat0, lon0, site = math.radians(radar.site.lat), math.radians(radar.site.lon), radar.site_ecef

    def measure(x: np.ndarray) -> np.ndarray:
        az, el, rng = wgs84.enu_to_aer(wgs84.ecef_to_enu(x[..., :3], lat0, lon0, radar.site.alt_m))
        rate = np.einsum("...i,...i->...", x[..., :3] - site, x[..., 3:]) / rng
        return np.stack([rng, az, el, rate], axis=-1)

    steps = np.eye(6) * np.array([1.0] * 3 + [0.01] * 3)
    diff = measure(states[:, None, :] + steps) - measure(states[:, None, :] - steps)  # (n, 6, 4)
    diff[..., 1] = (diff[..., 1] + math.pi) % (2.0 * math.pi) - math.pi  # azimuth across north
    return np.swapaxes(diff / (2.0 * np.diag(steps))[None, :, None], 1, 2)


def _pcrlb(launch, measurements, times: np.ndarray) -> np.ndarray:
    """Position bound √tr(J⁻¹)_pos at ``times`` from the true dynamics, geometry and noise alone.

    Tichavský's recursion along the truth with the scans of ``measurements`` (one run's, all from
    the truth: no clutter here): the truth's own transition Jacobians, process noise zero (the truth
    is a deterministic flight), the simulator's measurement Jacobians and each report's true noise σ
    (``Measurements.sigma``, the σ its noise was drawn with).  The prior is a physical one, not the
    tracker's: position unknown, velocity within 10 km/s.  Nothing here depends on the filter's tuning.
    """
    obj = launch.objects[0]
    scan_times = np.unique(measurements.time[measurements.object >= 0])
    scan_times = scan_times[scan_times <= times[-1]]
    truth = obj.states_at(scan_times)
    transitions = _true_transitions(launch, scan_times)
    rows_at = [np.flatnonzero((measurements.time == t) & (measurements.object >= 0)) for t in scan_times]
    h_at = [
        [(_true_measurement_jacobians(RADARS[int(measurements.sensor[row])], truth[k : k + 1])[0], row) for row in rows]
        for k, rows in enumerate(rows_at)
    ]

    def jacobians(k: int, x: np.ndarray) -> list:
        out = []
        for h, row in h_at[k]:
            sigma = measurements.sigma[row]
            dim = 4 if np.isfinite(sigma[3]) else 3  # range rate only from the radar that measures it
            out.append((h[:dim], np.diag(sigma[:dim] ** 2)))
        return out

    j0 = np.diag([1e-12] * 3 + [1.0 / 10e3**2] * 3)
    bounds = metrics.pcrlb(
        truth, scan_times, lambda x, dt: transitions, lambda x, dt: np.zeros((len(x), 6, 6)), jacobians, j0
    )
    rms = metrics.rms_bound(bounds)
    return rms[np.searchsorted(scan_times, times)]


@pytest.mark.slow
def test_coast_position_rmse_is_within_1_3_of_the_pcrlb(coast_runs) -> None:
    """Efficiency against a bound the filter's tuning cannot move (:func:`_pcrlb`: truth, geometry, noise).

    Measured at commit 68196c8 (20 runs, 434 coast steps): RMSE median 4.18 m, bound median 4.29 m,
    ratio 0.98 overall (RMS over the coast), median 0.96, 90th percentile 1.09.  With the tracker's
    process noise ×10⁶ (``Ballistic.q`` 10⁻⁹ → 10⁻³ m²/s³) the RMSE median is 9.10 m against the same
    4.29 m bound: ratio 1.96 overall, median 2.13, so the test fails.  (Built from the filter's own
    process noise, as before, that bound rose with it and the ratio improved.)
    """
    _, errors, _, times, first, _ = coast_runs
    launch = fly(parse_scenario(FLIGHT))[0]  # the flight coast_runs tracked (deterministic)
    rmse = metrics.rmse(np.swapaxes(errors[:, :, :3], 0, 1))
    bound = _pcrlb(launch, first, times)
    ratio = rmse / bound
    overall = float(np.sqrt(np.mean(rmse**2) / np.mean(bound**2)))
    # 20 runs: the RMSE of one step scatters by ~15 % about its mean, so judge the coast as a whole.
    assert overall < RATIO_BAR, (overall, np.median(ratio))
    assert np.median(ratio) < RATIO_BAR, (overall, np.median(ratio))
    # A lower bound: an RMSE well under it would mean the bound itself is wrong.
    assert overall > 0.8, (overall, np.median(ratio))


# ----------------------------------------------------------------- identity at separation
SEPARATION = """\
name: separation
seed: 3
launches:
  - {id: S, time: 2022-10-03T22:22:47Z, site: {lat: 40.61, lon: 126.43}, azimuth_deg: 84.2, apogee_km: 970,
     range_km: 4500, separating_stages: 1}
"""


def test_the_warhead_keeps_its_track_when_the_stage_separates() -> None:
    scenario = parse_scenario(SEPARATION)
    theater = theater_of(scenario)
    launch = fly(scenario)[0]
    rv, stage = launch.objects
    # The US forward radars see the separation; Pd ≈ 1 so the test is about identity, not detection.
    us = {
        i: msgspec.structs.replace(s, ref_range_km=1e5, false_alarms_per_scan=0.0)
        for i, s in enumerate(theater.sensors)
        if s.partner == "US" and s.kind == "radar"
    }
    run = sensors.simulate_sensors(list(us.values()), [rv, stage], launch.launch_time, stage.t[-1], 3)
    record = replay(missile_tracker("US"), run.measurements, dict(enumerate(us.values())))
    burnout = launch.launch_time + launch.trajectory.burnout_t
    times = np.arange(burnout - 60.0, rv.t[-1] - 30.0, 5.0)
    result = metrics.siap(frames(record, [rv, stage], times))
    # The bar: at most one track-number change per object.
    assert max(result.track_number_changes.values()) <= 1, result.track_number_changes
    # Before separation the one track follows the missile; once the stage has a track of its own
    # (the objects resolve), the warhead still holds the number it had in boost.
    assoc = metrics.associate(frames(record, [rv, stage], times))
    owners = [(time, {o: t for t, o in a.items()}) for a, time in zip(assoc, times, strict=True)]
    before = {own["S/RV"] for time, own in owners if time < burnout and "S/RV" in own}
    resolved = [time for time, own in owners if "S/S1" in own and own.get("S/RV") not in (None, own["S/S1"])]
    assert before and resolved
    at_split = {own["S/RV"] for time, own in owners if resolved[0] <= time <= resolved[0] + 30.0 and "S/RV" in own}
    assert at_split and at_split <= before, (before, at_split)
    stage_tracks = {own["S/S1"] for _, own in owners if "S/S1" in own}
    assert stage_tracks and not stage_tracks & at_split  # the stage has a track of its own


def test_tracks_one_scan_resolved_are_never_merged_as_duplicates() -> None:
    """Two objects 80 m apart: radar 0 resolves them, radar 1 sees one echo (as before a separation).

    Kinematically the two tracks pass the duplicate test (80 m against 30 m noise, same velocity), so
    without the "two reports of one scan are two objects" rule the tracker would fold them into one
    whenever radar 1's single echo leaves one of them without an update.
    """
    tracker = Tracker(
        "X",
        [ConstantVelocity(1.0)],
        {"position": PositionInitiator(speed_sigma=200.0)},
        TrackerConfig(initial_modes={"position": (1.0,)}, boost_mode=None, earth_fixed=False, gate_floor_sigma=0.0),
        dim=6,
    )
    rng = np.random.default_rng(3)
    r = np.eye(3) * 30.0**2
    for k in range(40):
        t = float(k)
        a = np.array([0.0, 100.0 * t, 1e5])
        b = a + [80.0, 0.0, 0.0]
        z = np.array([a, b]) if k % 2 == 0 else a[None, :]
        z = z + rng.normal(0.0, 30.0, z.shape)
        tracker.process(Scan(t, k % 2, "position", Position(), z, np.repeat(r[None], len(z), axis=0)))
    tracks = tracker.tracks
    assert tracker.merges == 0
    assert int(tracks.confirmed.sum()) == 2
    x = tracker.estimates(np.flatnonzero(tracks.confirmed)).x
    assert abs(abs(x[0, 0] - x[1, 0]) - 80.0) < 60.0  # one track on each object


# ----------------------------------------------------------------- late and out-of-order reports
def test_late_reports_are_used_and_help(coast_runs) -> None:
    obj, _, _, _, _, start = coast_runs
    jittery = [msgspec.structs.replace(r, latency_jitter_s=3.0) for r in RADARS]
    end = start + 300.0
    cases = {"in order": (RADARS, 30.0), "late, used": (jittery, 30.0), "late, dropped": (jittery, 0.0)}
    rms, late_updates, dropped = {}, {}, {}
    for name, (radars, max_lag) in cases.items():
        squares, late_updates[name], dropped[name] = [], 0, 0
        for seed in range(6):
            run = sensors.simulate_sensors(radars, [obj], start, end, 100 + seed)
            tracker = missile_tracker("X", TrackerConfig(max_lag_s=max_lag))
            record = replay(tracker, run.measurements, dict(enumerate(radars)))
            keep = (record.time >= start + 60.0) & (record.time <= end - 10.0)
            err = record.x[keep, :3] - obj.states_at(record.time[keep])[:, :3]
            squares.append(np.mean(np.sum(err**2, axis=1)))
            late_updates[name] += tracker.late_updates
            dropped[name] += tracker.too_late
        rms[name] = float(np.sqrt(np.mean(squares)))
    # With 3 s of jitter against 2 s scans about a third of the scans arrive after a later one.
    assert late_updates["late, used"] > 300 and dropped["late, used"] == 0
    assert late_updates["in order"] == 0 and dropped["late, dropped"] > 300
    assert rms["late, used"] < rms["late, dropped"], rms
    assert rms["late, used"] < 1.3 * rms["in order"], rms


# ----------------------------------------------------------------- infrared launch detection
def test_space_infrared_alone_detects_the_launch_in_boost() -> None:
    scenario = parse_scenario(SEPARATION)
    theater = theater_of(scenario)
    launch = fly(scenario)[0]
    ir = {i: s for i, s in enumerate(theater.sensors) if s.kind == "infrared"}
    run = sensors.simulate_sensors(list(ir.values()), launch.objects, launch.launch_time, launch.impact_time, 5)
    record = replay(missile_tracker("US"), run.measurements, dict(enumerate(ir.values())))
    first_report = float(run.measurements.time.min())
    assert record.time.size and record.time.min() <= first_report + 15.0  # confirmed within a few frames
    assert record.boosting.mean() > 0.9  # infrared sees burning motors: the tracks say so
    truth = launch.objects[0].states_at(record.time)
    err = record.x[:, :3] - truth[:, :3]
    nees = metrics.nees(err, record.P[:, :3, :3])
    assert np.mean(nees < 16.3) > 0.95  # χ²(3) 99.9 %: the stated uncertainty covers the truth


# ----------------------------------------------------------------- clutter, misses, biases
@pytest.mark.slow
def test_cluttered_salvo_is_tracked_without_losing_a_warhead() -> None:
    """The tracking issue's robustness bar, on ``benchmarks/tracking_salvo.py``'s scenario (seed 5).

    Seeds 5 to 8 keep every warhead with at most one track-number change; at seeds 6 and 7 a
    spent stage gets 2 and 3 (see docs/benchmarks.md), so this guards what is reached.
    """
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "tracking_salvo.py"
    spec = importlib.util.spec_from_file_location("tracking_salvo", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    r = module.evaluate()
    assert r["false_alarms"] > 50_000  # ten per scan per radar, as the bar asks
    assert len(r["warheads"]) == 20 and r["missed"] == []
    assert max(r["siap"].track_number_changes.values()) <= 1, r["siap"].track_number_changes
    assert r["siap"].spuriousness < 0.05


# ----------------------------------------------------------------- building blocks
@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8), st.integers(1, 8), st.integers(0, 2**32 - 1))
def test_clustered_assignment_equals_one_global_assignment(m: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    gate = rng.random((m, n)) < 0.4
    cost = rng.random((m, n)) * 10.0
    mi, ti = np.nonzero(gate)
    got_m, got_t = assign(Gated(mi, ti, cost[mi, ti]), m, n)
    got = sorted(zip(got_m.tolist(), got_t.tolist(), strict=True))
    # Reference: one assignment on the whole matrix, gated pairs only.
    big = 1e6
    full = np.where(gate, cost, big)
    rows, cols = linear_sum_assignment(full)
    want = sorted((int(r), int(c)) for r, c in zip(rows, cols, strict=True) if gate[r, c])
    assert len(got) == len(want)
    assert math.isclose(sum(cost[r, c] for r, c in got), sum(cost[r, c] for r, c in want), rel_tol=1e-9)


@given(st.floats(0.0, 600.0))
def test_mode_switch_probabilities_are_stochastic(dt: float) -> None:
    rates = np.array([[0.0, 1.0 / 60.0], [0.0, 0.0]])
    pi = switch_matrix(rates, np.array([dt]))[0]
    np.testing.assert_allclose(pi.sum(axis=1), 1.0)
    assert np.all(pi >= 0.0)
    assert math.isclose(pi[0, 0], math.exp(-dt / 60.0), rel_tol=1e-9)  # boost survives as e^(-t/60)
    assert pi[1, 0] == 0.0  # no way back into boost


STAGED_FLIGHT = FLIGHT.replace("separating_stages: 0", "separating_stages: 1")


def _unresolved_nees_to_the_warhead(config: TrackerConfig, runs: int) -> np.ndarray:
    """NEES (runs, steps) of the one track a warhead and its spent stage make, against the warhead.

    From 20 s after burnout until the radars resolve the two (the second track's first state): the
    stage is bright (2 m² against 0.1 m²), so the echo and the track follow it, 3 m/s apart from the
    warhead along the velocity and drifting (:data:`mwx.sim.truth.SEPARATION_SPEED`).
    """
    launch = fly(parse_scenario(STAGED_FLIGHT))[0]
    warhead = launch.objects[0]
    burnout = launch.launch_time + launch.trajectory.burnout_t
    out = []
    for seed in range(runs):
        run = sensors.simulate_sensors(RADARS, launch.objects, warhead.t[0], burnout + 200.0, seed)
        record = replay(missile_tracker("X", config), run.measurements, dict(enumerate(RADARS)))
        starts = [record.time[record.number == k].min() for k in np.unique(record.number)]
        split = min(t for t in [*starts, np.inf] if t > burnout)
        one = (record.time > burnout + 20.0) & (record.time < split)
        assert len(np.unique(record.number[one])) == 1 and one.sum() > 20
        errors = record.x[one, :6] - warhead.states_at(record.time[one])
        out.append(metrics.nees(errors[None], record.P[None, one, :6, :6])[0])
    steps = min(len(n) for n in out)
    return np.array([n[:steps] for n in out])


def test_group_allowance_covers_the_warhead_before_the_split() -> None:
    """Until a radar resolves a warhead from its stage, the one track's region holds the warhead too.

    Without the allowance (``group_allowance_s`` 0) the run-averaged NEES against the warhead is
    far above its 95 % bound at every step (about 1500 per step); with it, at or below the bound (the
    allowance is conservative: it covers whichever piece the echo follows).
    """
    runs = 5
    _, high = metrics.chi2_bounds(6, runs)
    with_allowance = _unresolved_nees_to_the_warhead(TrackerConfig(), runs).mean(axis=0)
    without = _unresolved_nees_to_the_warhead(TrackerConfig(group_allowance_s=0.0), runs).mean(axis=0)
    assert np.mean(with_allowance <= high) >= 0.95, (np.median(with_allowance), high)
    assert np.all(without > high), np.median(without)


@pytest.mark.parametrize(
    "range_km, apogee_km, tolerance",
    [(600.0, 150.0, 150.0), (900.0, 60.0, 400.0), (1300.0, 350.0, 150.0), (4500.0, 970.0, 280.0)],
)
def test_burnout_speed_from_a_coast_state_matches_the_flights(
    range_km: float, apogee_km: float, tolerance: float
) -> None:
    """The speed a coasting missile had at burnout, from its state alone, within ``tolerance`` [m/s].

    150 m/s where the coast is out of the air and burnout near the height taken; the depressed
    flight (60 km apogee, 4.6 km/s) loses up to 400 m/s to drag and the IRBM's burnout lies far above
    that height: both stay far from the threshold.  The flight's is its inertial
    speed at burnout (the simulator's launch-fixed inertial frame); the states are ECEF truth states
    over the coast above half the apogee.  This decides which missiles the group allowance covers
    (``group_min_burnout_speed``, 3.11 km/s), so a 3 km/s missile must not read as 3.3.
    """
    scenario = FLIGHT.replace("apogee_km: 350,", f"apogee_km: {apogee_km},").replace(
        "range_km: 1300", f"range_km: {range_km}"
    )
    launch = fly(parse_scenario(scenario))[0]
    traj = launch.trajectory
    at_burnout = np.searchsorted(traj.t, traj.burnout_t)
    true_speed = float(np.linalg.norm(traj.eci[at_burnout, 3:]))
    obj = launch.objects[0]
    t = obj.t[(obj.t > launch.launch_time + traj.burnout_t + 10.0)]
    states = obj.states_at(t)
    _, _, alt = wgs84.ecef_to_geodetic(states[:, :3])
    got = burnout_speed(states[alt > 0.5 * apogee_km * 1e3])
    assert len(got) > 5
    assert np.all(np.abs(got - true_speed) < tolerance), (true_speed, got.min(), got.max())
