"""mwx's tracker against Stone Soup and FilterPy on the same measurements: throughput and GOSPA.

Run (one core)::

    taskset -c 0 .venv/bin/python benchmarks/tracking_peers.py

(``pip install -e '.[bench]'`` brings Stone Soup and FilterPy.)  Two cases:

* **cv** — 50 targets in nearly-constant-velocity motion, 200 scans at 1 s,
  Cartesian position measurements (σ = 25 m per axis), Pd = 0.9 and 10 false
  alarms per scan uniform over the surveillance volume.  The same seeded
  measurements go to mwx's :class:`~mwx.track.tracker.Tracker` (one
  constant-velocity mode), to Stone Soup's ``MultiTargetTracker`` with
  ``GNNWith2DAssignment`` (and, as a second row, with Stone Soup's own k-d
  tree pre-gate ``DetectionKDTreeGNN2D``), and to 50 FilterPy
  ``KalmanFilter`` objects fed only their own target's detections (oracle
  association, no clutter): the single-filter cost of a Python loop over one
  filter, and the GOSPA a tracker could reach with perfect association.
  Every tracker has the same process noise, measurement noise, velocity
  prior, χ² gate probability, confirmation (3 hits) and deletion rules.
* **salvo** — mwx only: a 20-missile salvo (launches 10–30 s apart, spent
  stages) seen by the nine radars of the ``korea-japan`` theater with their
  reference range cut to 70 % (mean Pd over visible looks ≈ 0.8) and 10 false
  alarms per scan each, tracked by ONE missile tracker (IMM boost/ballistic
  EKF) over all nine radars, scans in order of arrival, as a partner node
  does.  Reported as × real time (simulated span / tracker wall time).

Throughput is measurements fed per second of tracker wall time (data
generation, conversion to each library's input types and the evaluation are
not timed): best of ``--repeats`` (5) runs for mwx and FilterPy, of
``--ss-repeats`` (2) for each Stone Soup tracker, one salvo run.  GOSPA
(p = α = 2) is evaluated on confirmed tracks only, each predicted to the
evaluation time: after every scan in the cv case (c = 1 km), every 5 s of
scenario time in the salvo (c = 10 km, mwx's default) against the objects in
flight that radars have detected at least 3 times so far (confirmation needs
3; printed below the table: against every object in flight).  The whole run
takes about 1½ minutes on the development machine.  Figures, configurations
and discussion: docs/tracking-benchmark.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import time
from dataclasses import dataclass, field

# One core, set before numpy loads its BLAS (and run under `taskset -c 0`).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np
from numpy.typing import NDArray

from mwx.exercise.metrics import GospaSeries, gospa_series
from mwx.track.base import Scan
from mwx.track.initiation import PositionInitiator
from mwx.track.measurement import Position
from mwx.track.motion import ConstantVelocity, propagate_modes
from mwx.track.tracker import Tracker, TrackerConfig, combine, gate_threshold

# ------------------------------------------------------------------------------------------------ cv case
N_TARGETS = 50
N_SCANS = 200
SCAN_DT = 1.0  # s
Q = 0.5  # m²/s³: white-acceleration PSD per axis, truth and every filter
SIGMA_Z = 25.0  # m per axis
PD = 0.9
CLUTTER_PER_SCAN = 10
SPEED_SIGMA = 300.0  # m/s per axis: the velocity prior of a new track (targets fly 100–300 m/s)
GATE_PROBABILITY = 0.9999  # χ²(3) gate of every tracker
CONFIRM_HITS = 3  # a tentative track is confirmed by its 3rd update ...
TENTATIVE_MISSES = 2  # ... and dropped after 2 scans in a row without one (mwx: also 3-of-5 M-of-N)
CONFIRMED_MISSES = 5  # a confirmed track is dropped after 5 scans in a row without an update
CV_CUTOFF = 1000.0  # m: GOSPA c for the cv case (errors are tens of metres; targets km apart)
SALVO_CUTOFF = 10e3  # m: GOSPA c for the salvo (mwx's default, the theater's scale)
VOLUME = np.array([[-90e3, 90e3], [-90e3, 90e3], [0.0, 12e3]])  # m: where clutter falls (targets stay in it)


@dataclass
class CvCase:
    """Seeded truth and measurements of the cv case; each scan's rows are shuffled (targets, clutter)."""

    times: NDArray  # (K,) s
    truth: NDArray  # (K, N, 6) [r, v]
    z: list[NDArray]  # K × (m_k, 3)
    origin: list[NDArray]  # K × (m_k,) target index, -1 clutter
    R: NDArray  # (3, 3)

    @property
    def n_measurements(self) -> int:
        return sum(len(z) for z in self.z)

    @property
    def n_detections(self) -> int:
        return sum(int((o >= 0).sum()) for o in self.origin)


def cv_transition(step: float) -> tuple[NDArray, NDArray]:
    """F and Q of the nearly-constant-velocity model over ``step`` [s], state [r (3), v (3)]."""
    model = ConstantVelocity(Q)
    x = np.zeros((1, 6))
    t = np.array([step])
    return model.transition(x, t)[0], model.noise(x, t)[0]


def make_cv_case(seed: int = 2024) -> CvCase:
    rng = np.random.default_rng(seed)
    f, q = cv_transition(SCAN_DT)
    chol_q = np.linalg.cholesky(q)
    x = np.zeros((N_TARGETS, 6))
    x[:, :2] = rng.uniform(-25e3, 25e3, (N_TARGETS, 2))
    x[:, 2] = rng.uniform(2e3, 10e3, N_TARGETS)
    speed, heading = rng.uniform(100.0, 300.0, N_TARGETS), rng.uniform(0.0, 2 * math.pi, N_TARGETS)
    x[:, 3], x[:, 4], x[:, 5] = speed * np.cos(heading), speed * np.sin(heading), rng.normal(0.0, 2.0, N_TARGETS)
    truth, zs, origins = [], [], []
    for _ in range(N_SCANS):
        truth.append(x.copy())
        seen = np.flatnonzero(rng.random(N_TARGETS) < PD)
        det = x[seen, :3] + rng.normal(0.0, SIGMA_Z, (seen.size, 3))
        n_fa = CLUTTER_PER_SCAN
        clutter = rng.uniform(VOLUME[:, 0], VOLUME[:, 1], (n_fa, 3))
        z = np.concatenate([det, clutter])
        origin = np.concatenate([seen, np.full(n_fa, -1)])
        order = rng.permutation(len(z))
        zs.append(z[order])
        origins.append(origin[order])
        x = x @ f.T + rng.standard_normal((N_TARGETS, 6)) @ chol_q.T
    return CvCase(np.arange(N_SCANS) * SCAN_DT, np.array(truth), zs, origins, SIGMA_Z**2 * np.eye(3))


class Stopwatch:
    """Wall and process-CPU time summed over the timed blocks only (CPU time ignores other processes' load)."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def __enter__(self) -> Stopwatch:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall += time.perf_counter() - self._wall
        self.cpu += time.process_time() - self._cpu


@dataclass
class Result:
    """One tracker on one case: what it was fed, how long it took, how good its picture was."""

    tracker: str
    case: str
    measurements: int
    wall_s: float
    cpu_s: float
    gospa: GospaSeries
    runs: int = 1
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.measurements / self.wall_s


def cv_gospa(case: CvCase, tracks: list[NDArray]) -> GospaSeries:
    return gospa_series([t[:, :3] for t in case.truth], tracks, c=CV_CUTOFF)


# ------------------------------------------------------------------------------------------------ mwx, cv
def mwx_cv_tracker() -> Tracker:
    config = TrackerConfig(
        gate_probability=GATE_PROBABILITY,
        confirm_hits=CONFIRM_HITS,
        confirm_looks=5,
        # Deletion is checked at the start of a scan on the time since the last update: a track that
        # missed k scans in a row has gap k + 1 there, so "dropped after k misses" is a limit of k + ½.
        max_coast_s=(CONFIRMED_MISSES + 0.5) * SCAN_DT,
        tentative_limit_s=(TENTATIVE_MISSES + 0.5) * SCAN_DT,
        max_position_sigma=5e3,
        initial_modes={"position": (1.0,)},
        boost_mode=None,
        earth_fixed=False,
        gate_floor_sigma=0.0,  # the floor is for radars' unestimated biases; this case has none, nor has Stone Soup
    )
    return Tracker("B", [ConstantVelocity(Q)], {"position": PositionInitiator(speed_sigma=SPEED_SIGMA)}, config, dim=6)


def run_mwx_cv(case: CvCase, repeats: int) -> Result:
    scans = [
        Scan(float(t), 0, "position", Position(), z, np.broadcast_to(case.R, (len(z), 3, 3)).copy())
        for t, z in zip(case.times, case.z, strict=True)
    ]
    best, best_cpu, pictures = math.inf, math.inf, []
    for _ in range(repeats):
        tracker = mwx_cv_tracker()
        clock, pictures = Stopwatch(), []
        for scan in scans:
            with clock:
                tracker.process(scan)
            tr = tracker.tracks
            rows = np.flatnonzero(tr.confirmed)
            x = tr.x[rows]  # combined state (one mode here) at each track's own time
            pictures.append(x[:, :3] + (scan.time - tr.t[rows])[:, None] * x[:, 3:6])
        best, best_cpu = min(best, clock.wall), min(best_cpu, clock.cpu)
    name = "mwx Tracker (1-mode CV, clustered GNN)"
    return Result(name, "cv", case.n_measurements, best, best_cpu, cv_gospa(case, pictures), repeats)


# ------------------------------------------------------------------------------------------------ Stone Soup, cv
def run_stonesoup_cv(case: CvCase, repeats: int, kd_tree: bool) -> Result:
    from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
    from stonesoup.dataassociator.tree import DetectionKDTreeGNN2D
    from stonesoup.deleter.time import UpdateTimeStepsDeleter
    from stonesoup.hypothesiser.distance import DistanceHypothesiser
    from stonesoup.initiator.simple import MultiMeasurementInitiator
    from stonesoup.measures import Mahalanobis
    from stonesoup.models.measurement.linear import LinearGaussian
    from stonesoup.models.transition.linear import CombinedLinearGaussianTransitionModel
    from stonesoup.models.transition.linear import ConstantVelocity as SsConstantVelocity
    from stonesoup.predictor.kalman import KalmanPredictor
    from stonesoup.tracker.simple import MultiTargetTracker
    from stonesoup.types.array import StateVector
    from stonesoup.types.detection import Clutter, Detection
    from stonesoup.types.state import GaussianState
    from stonesoup.updater.kalman import KalmanUpdater

    # Stone Soup orders the state [x, ẋ, y, ẏ, z, ż]; measurements are (x, y, z).
    transition = CombinedLinearGaussianTransitionModel([SsConstantVelocity(Q)] * 3)
    measurement = LinearGaussian(ndim_state=6, mapping=(0, 2, 4), noise_covar=case.R)
    epoch = dt.datetime(2026, 1, 1)
    frames = []
    for t, z, origin in zip(case.times, case.z, case.origin, strict=True):
        stamp = epoch + dt.timedelta(seconds=float(t))
        kinds = [Detection if o >= 0 else Clutter for o in origin]
        rows = zip(kinds, z, strict=True)
        frames.append((stamp, {k(StateVector(row), timestamp=stamp, measurement_model=measurement) for k, row in rows}))
    gate = math.sqrt(gate_threshold(GATE_PROBABILITY, 3))  # Stone Soup's Mahalanobis is the distance, not d²

    def associator(predictor, updater):
        hypothesiser = DistanceHypothesiser(predictor, updater, measure=Mahalanobis(), missed_distance=gate)
        if kd_tree:
            # Pre-gate by Euclidean distance in measurement space: 5 km holds the χ² gate of a new track
            # (σ ≈ 300 m per axis one scan after initiation, gate radius √21 σ ≈ 1.4 km) with room to spare.
            return DetectionKDTreeGNN2D(hypothesiser, predictor, updater, max_distance=5e3)
        return GNNWith2DAssignment(hypothesiser)

    best, best_cpu, pictures = math.inf, math.inf, []
    for _ in range(repeats):
        predictor = KalmanPredictor(transition)
        updater = KalmanUpdater(measurement)
        prior = GaussianState(StateVector(np.zeros(6)), np.diag([0.0, SPEED_SIGMA**2] * 3))
        initiator = MultiMeasurementInitiator(
            prior_state=prior,
            measurement_model=measurement,
            deleter=UpdateTimeStepsDeleter(TENTATIVE_MISSES),
            data_associator=associator(predictor, updater),
            updater=updater,
            min_points=CONFIRM_HITS,
        )
        tracker = MultiTargetTracker(
            initiator=initiator,
            deleter=UpdateTimeStepsDeleter(CONFIRMED_MISSES),
            detector=frames,
            data_associator=associator(predictor, updater),
            updater=updater,
        )
        steps = iter(tracker)
        clock, pictures = Stopwatch(), []
        for _ in frames:
            with clock:
                _, tracks = next(steps)
            # Every live track holds a state at this scan's time (an update or a prediction).
            pictures.append(np.array([np.ravel(tr.state_vector)[[0, 2, 4]] for tr in tracks]).reshape(-1, 3))
        best, best_cpu = min(best, clock.wall), min(best_cpu, clock.cpu)
    name = "Stone Soup MultiTargetTracker, " + ("DetectionKDTreeGNN2D" if kd_tree else "GNNWith2DAssignment")
    return Result(name, "cv", case.n_measurements, best, best_cpu, cv_gospa(case, pictures), repeats)


# ------------------------------------------------------------------------------------------------ FilterPy, cv
def run_filterpy_cv(case: CvCase, repeats: int) -> Result:
    """50 ``KalmanFilter`` objects, each given only its own target's detections: cost of one filter's loop."""
    from filterpy.kalman import KalmanFilter

    f, q = cv_transition(SCAN_DT)
    h = np.zeros((3, 6))
    h[:, :3] = np.eye(3)
    per_target = [[None] * N_SCANS for _ in range(N_TARGETS)]
    for k, (z, origin) in enumerate(zip(case.z, case.origin, strict=True)):
        for row in np.flatnonzero(origin >= 0):
            per_target[origin[row]][k] = z[row].reshape(3, 1)
    best, best_cpu, positions = math.inf, math.inf, None
    for _ in range(repeats):
        positions = np.full((N_SCANS, N_TARGETS, 3), np.nan)
        clock = Stopwatch()
        for target, zs in enumerate(per_target):
            kf = KalmanFilter(dim_x=6, dim_z=3)
            kf.F, kf.Q, kf.H, kf.R = f, q, h, case.R.copy()
            started = False
            out = positions[:, target]
            with clock:
                for k, z in enumerate(zs):
                    if not started:
                        if z is None:
                            continue
                        kf.x = np.vstack([z, np.zeros((3, 1))])
                        kf.P = np.diag([SIGMA_Z**2] * 3 + [SPEED_SIGMA**2] * 3)
                        started = True
                    else:
                        kf.predict()
                        if z is not None:
                            kf.update(z)
                    out[k] = kf.x[:3, 0]
        best, best_cpu = min(best, clock.wall), min(best_cpu, clock.cpu)
    pictures = [p[np.isfinite(p[:, 0])] for p in positions]
    return Result(
        "FilterPy KalmanFilter ×50, oracle association",
        "cv",
        case.n_detections,
        best,
        best_cpu,
        cv_gospa(case, pictures),
        repeats,
        "single-filter cost; no clutter, no association, not a tracker",
    )


# ------------------------------------------------------------------------------------------------ salvo case
SALVO = """\
name: salvo-20-tight
seed: 11
launches:
  - {id: A, time: 2022-10-03T22:00:00Z, site: {lat: 39.20, lon: 125.67}, azimuth_deg: 88, apogee_km: 60,
     range_km: 600, count: 6, interval_s: 10}
  - {id: B, time: 2022-10-03T22:00:30Z, site: {lat: 38.90, lon: 125.50}, azimuth_deg: 100, apogee_km: 120,
     range_km: 900, count: 5, interval_s: 20}
  - {id: C, time: 2022-10-03T22:01:00Z, site: {lat: 40.00, lon: 127.40}, azimuth_deg: 95, apogee_km: 500,
     range_km: 2000, count: 4, interval_s: 30}
  - {id: D, time: 2022-10-03T22:01:30Z, site: {lat: 40.61, lon: 126.43}, azimuth_deg: 84.2, apogee_km: 970,
     range_km: 4500, count: 4, interval_s: 15}
  - {id: E, time: 2022-10-03T22:02:00Z, site: {lat: 39.25, lon: 125.87}, azimuth_deg: 95, apogee_km: 4475,
     range_km: 950}
"""
REF_RANGE_FACTOR = 0.7  # every radar's ref_range_km times this: mean Pd over visible looks ≈ 0.8
SALVO_FALSE_ALARMS = 10  # per scan and radar
SALVO_EVAL_S = 5.0  # GOSPA every 5 s of scenario time
SEEN_DETECTIONS = 3  # an object in flight counts as trackable once radars have detected it this often


@dataclass
class SalvoCase:
    scans: list[Scan]
    objects: list
    t0: float
    t1: float
    detections: tuple[NDArray, NDArray]  # (time, object) of every target detection, for "trackable"
    mean_pd: dict[str, float]
    n_false: int

    @property
    def n_measurements(self) -> int:
        return sum(len(s) for s in self.scans)


def _salvo_scenario():
    from mwx.sim.scenario import parse_scenario, theater_of

    base = parse_scenario(SALVO, "salvo")
    radars = [s for s in theater_of(base).sensors if s.kind == "radar"]
    overrides = "".join(
        f"  {r.id}: {{ref_range_km: {r.ref_range_km * REF_RANGE_FACTOR:g}, "
        f"false_alarms_per_scan: {SALVO_FALSE_ALARMS}}}\n"
        for r in radars
    )
    scenario = parse_scenario(SALVO + "sensor_overrides:\n" + overrides, "salvo")
    return scenario, theater_of(scenario)


def _mean_pd(radar, objects, t0: float, t1: float) -> tuple[float, int]:
    """Mean single-look Pd [0–1] of the objects over the looks where they are in this radar's view."""
    from mwx.geo import wgs84
    from mwx.sim import sensors
    from mwx.sim.theater import scan_times

    total, looks = 0.0, 0
    scans = scan_times(radar.revisit_s, radar.id, t0, t1)
    lat0, lon0 = math.radians(radar.site.lat), math.radians(radar.site.lon)
    for obj in objects:
        t = scans[(scans >= obj.t[0]) & (scans <= obj.t[-1])]
        if not t.size:
            continue
        states = obj.states_at(t)
        az, el, rng = wgs84.enu_to_aer(wgs84.ecef_to_enu(states[:, :3], lat0, lon0, radar.site.alt_m))
        visible = sensors.in_field_of_regard(radar, az, el, rng) & sensors.line_of_sight_clear(
            radar.site_ecef, states[:, :3]
        )
        snr = sensors.signal_to_noise(radar, obj.rcs_at(t[visible]), rng[visible])
        total += float(sensors.detection_probability(snr, radar.pfa).sum())
        looks += int(visible.sum())
    return total / max(looks, 1), looks


def make_salvo_case() -> SalvoCase:
    from mwx.sim import sensors
    from mwx.sim.truth import fly
    from mwx.track.scans import ScanBuilder, scans_in_arrival_order

    scenario, theater = _salvo_scenario()
    truth = fly(scenario)
    objects = [o for launch in truth for o in launch.objects]
    t0 = min(launch.launch_time for launch in truth)
    t1 = max(launch.impact_time for launch in truth)
    m = sensors.simulate_sensors(theater.sensors, objects, t0, t1, scenario.seed).measurements
    radar_index = [i for i, s in enumerate(theater.sensors) if s.kind == "radar"]
    m = m.take(np.flatnonzero(np.isin(m.sensor, radar_index)))
    rows, ordered = scans_in_arrival_order(m)
    build = ScanBuilder({i: theater.sensors[i] for i in radar_index})  # what PartnerNode.scan does
    scans = [build(ordered, a, b) for a, b in rows]
    pd, looks = {}, {}
    for i in radar_index:
        pd[theater.sensors[i].id], looks[theater.sensors[i].id] = _mean_pd(theater.sensors[i], objects, t0, t1)
    pd["all"] = sum(pd[k] * looks[k] for k in looks) / max(sum(looks.values()), 1)
    hit = m.object >= 0
    return SalvoCase(scans, objects, t0, t1, (m.time[hit], m.object[hit]), pd, int((~hit).sum()))


def _salvo_truth(case: SalvoCase, when: NDArray) -> tuple[list[NDArray], list[NDArray]]:
    """True positions at ``when``: every object in flight, and those radars have detected 3 times by then.

    The second set is what a tracker can be asked to hold: an object no radar has seen is not
    trackable, while one that coasts through a gap in radar coverage still is (the ballistic
    prediction carries its track), so it stays in the set until it lands.
    """
    states = np.stack([obj.states_at(when)[:, :3] for obj in case.objects], axis=1)  # (T, objects, 3)
    det_t, det_o = case.detections
    seen = np.zeros(states.shape[:2], bool)
    for k, t in enumerate(when):
        counts = np.bincount(det_o[det_t <= t], minlength=seen.shape[1])
        seen[k] = counts >= SEEN_DETECTIONS
    flying = np.isfinite(states[:, :, 0])
    return [states[k, flying[k]] for k in range(len(when))], [states[k, flying[k] & seen[k]] for k in range(len(when))]


def _picture(tracker: Tracker, when: float) -> NDArray:
    """Confirmed tracks' positions predicted (or retrodicted) to ``when`` by the tracker's own motion models."""
    tr = tracker.tracks
    rows = np.flatnonzero(tr.confirmed)
    if rows.size == 0:
        return np.empty((0, 3))
    xm = propagate_modes(tracker.modes, tr.xm[rows], when - tr.t[rows])
    x, _ = combine(xm, tr.Pm[rows], tr.mu[rows])
    return x[:, :3]


def run_mwx_salvo(case: SalvoCase, repeats: int) -> Result:
    from mwx.track.tracker import missile_tracker

    when = np.arange(case.t0 + SALVO_EVAL_S, case.t1, SALVO_EVAL_S)
    best, best_cpu, pictures, tracker = math.inf, math.inf, [], None
    for _ in range(repeats):
        tracker = missile_tracker("ALL")  # IMM boost/ballistic, radar and infrared initiators, defaults
        clock, pictures, k = Stopwatch(), [], 0
        for scan in case.scans:
            # The picture at each evaluation time is what the tracker had from the scans received by then.
            while k < when.size and when[k] < scan.received:
                pictures.append(_picture(tracker, when[k]))
                k += 1
            with clock:
                tracker.process(scan)
        pictures += [_picture(tracker, t) for t in when[k:]]
        best, best_cpu = min(best, clock.wall), min(best_cpu, clock.cpu)
    all_flying, trackable = _salvo_truth(case, when)
    result = Result(
        "mwx missile_tracker (IMM boost/ballistic EKF)",
        "salvo",
        case.n_measurements,
        best,
        best_cpu,
        gospa_series(trackable, pictures, c=SALVO_CUTOFF),
        repeats,
    )
    result.extra = {
        "span_s": case.t1 - case.t0,
        "gospa_all_flying": gospa_series(all_flying, pictures, c=SALVO_CUTOFF),
        "late_updates": tracker.late_updates,
        "too_late": tracker.too_late,
        "scans": len(case.scans),
        "false_alarms": case.n_false,
        "objects": len(case.objects),
        "mean_pd": case.mean_pd,
    }
    return result


# ------------------------------------------------------------------------------------------------ report
STEADY_FROM = 10  # cv: the steady-state GOSPA leaves out the first 10 scans (initiation)


def _gospa_cells(r: Result) -> str:
    g = r.gospa
    steady = f"{np.mean(g.distance[STEADY_FROM:]):.1f}" if r.case == "cv" else "–"
    return (
        f"{np.mean(g.distance):.1f} | {steady} | {np.sqrt(g.mean_squared_localisation):.1f}"
        f" | {np.sqrt(g.mean_squared_missed):.0f} | {np.sqrt(g.mean_squared_false):.0f}"
        f" | {np.mean(g.n_missed):.2f} | {np.mean(g.n_false):.2f}"
    )


def table(results: list[Result]) -> str:
    reference = {r.case: r.rate for r in results if r.tracker.endswith("GNNWith2DAssignment")}
    lines = [
        "| tracker | case | measurements | wall s | CPU s | meas/s | × Stone Soup GNN2D | mean GOSPA m"
        f" | mean GOSPA m, scans ≥ {STEADY_FROM} | RMS loc. m | RMS missed m | RMS false m"
        " | mean missed | mean false |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        ratio = f"{r.rate / reference[r.case]:.0f}×" if r.case in reference else "n/a"
        if "span_s" in r.extra:
            ratio += f" ({r.extra['span_s'] / r.wall_s:.0f}× real time)"
        runs = f" (best of {r.runs})" if r.runs > 1 else ""
        lines.append(
            f"| {r.tracker} | {r.case} | {r.measurements:,} | {r.wall_s:.3f}{runs} | {r.cpu_s:.3f} | {r.rate:,.0f}"
            f" | {ratio}"
            f" | {_gospa_cells(r)} |"
        )
    return "\n".join(lines)


def _tree_state() -> str:
    """The commit benchmarked and whether the working tree had local changes (figures depend on both)."""
    import subprocess

    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "src"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    changed = [line[3:] for line in dirty.stdout.splitlines()]
    return head.stdout.strip() + (f" + local changes in {', '.join(changed)}" if changed else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of mwx and FilterPy (best is kept)")
    parser.add_argument("--ss-repeats", type=int, default=2, help="runs of each Stone Soup tracker")
    parser.add_argument("--salvo-repeats", type=int, default=1, help="runs of the salvo")
    parser.add_argument("--skip", nargs="*", default=(), choices=("stonesoup", "kdtree", "filterpy", "salvo"))
    args = parser.parse_args()

    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.processor() or platform.machine()}")
    print(f"usable cores: {len(os.sched_getaffinity(0))} (run under `taskset -c 0` for one); mwx at {_tree_state()}")
    print(f"load average at start: {os.getloadavg()[0]:.2f} (other processes on this core inflate wall times)")
    results: list[Result] = []
    start = time.perf_counter()
    case = make_cv_case()
    print(
        f"cv case: {N_TARGETS} targets, {N_SCANS} scans, {case.n_measurements:,} measurements "
        f"({case.n_detections:,} target detections), generated in {time.perf_counter() - start:.2f} s"
    )
    results.append(run_mwx_cv(case, args.repeats))
    if "stonesoup" not in args.skip:
        results.append(run_stonesoup_cv(case, args.ss_repeats, kd_tree=False))
    if "kdtree" not in args.skip:
        results.append(run_stonesoup_cv(case, args.ss_repeats, kd_tree=True))
    if "filterpy" not in args.skip:
        results.append(run_filterpy_cv(case, args.repeats))
    for r in results:
        print(
            f"  {r.tracker}: {r.wall_s:.3f} s wall, {r.cpu_s:.3f} s CPU, {r.rate:,.0f} meas/s, "
            f"mean GOSPA {np.mean(r.gospa.distance):.1f} m" + (f" ({r.note})" if r.note else "")
        )
    for r in results[1:]:
        if r.tracker.startswith("Stone Soup"):
            print(
                f"  mwx vs {r.tracker}: {r.wall_s / results[0].wall_s:.0f}× by wall time, "
                f"{r.cpu_s / results[0].cpu_s:.0f}× by CPU time"
            )
            diff = np.abs(r.gospa.distance - results[0].gospa.distance)
            print(
                f"  per-scan GOSPA, mwx vs {r.tracker}: max |difference| {diff.max():.2g} m, "
                f"scans that differ by > 1 m: {int((diff > 1.0).sum())} of {diff.size}"
            )

    if "salvo" not in args.skip:
        start = time.perf_counter()
        salvo = make_salvo_case()
        print(
            f"salvo case: {len(salvo.objects)} objects, {len(salvo.scans):,} radar scans, "
            f"{salvo.n_measurements:,} measurements ({salvo.n_false:,} false alarms), span {salvo.t1 - salvo.t0:.0f} s,"
            f" mean Pd over visible looks {salvo.mean_pd['all']:.2f}; generated in {time.perf_counter() - start:.1f} s"
        )
        print("  mean Pd per radar: " + ", ".join(f"{k} {v:.2f}" for k, v in salvo.mean_pd.items() if k != "all"))
        r = run_mwx_salvo(salvo, args.salvo_repeats)
        results.append(r)
        e = r.extra
        print(
            f"  {r.tracker}: {r.wall_s:.2f} s for {e['span_s']:.0f} s of scenario = {e['span_s'] / r.wall_s:.1f}× real"
            f" time, {r.rate:,.0f} meas/s; late (out-of-order) updates {e['late_updates']}, scans too late"
            f" {e['too_late']}"
        )
        print(
            f"  GOSPA (c = {SALVO_CUTOFF / 1e3:g} km) vs objects in flight detected ≥ {SEEN_DETECTIONS} times: "
            f"mean {np.mean(r.gospa.distance):.0f} m; vs every object in flight: "
            f"mean {np.mean(e['gospa_all_flying'].distance):.0f} m "
            f"(mean missed {np.mean(e['gospa_all_flying'].n_missed):.2f})"
        )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print()
    print(f"GOSPA p = α = 2; c = {CV_CUTOFF / 1e3:g} km (cv), {SALVO_CUTOFF / 1e3:g} km (salvo)")
    print(table(results))


if __name__ == "__main__":
    main()
