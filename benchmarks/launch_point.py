"""Launch point and time estimates against truth over flights across the envelope (US partner's tracks).

Run: ``.venv/bin/python benchmarks/launch_point.py`` (``--flights N`` (default 72), ``--seed S``
(default 13), ``--jobs J``, ``--per-flight`` to print every flight, ``--csv FILE`` to write them,
``--calibrate`` to fit the model errors of :mod:`mwx.assess.launch` to these flights instead of
checking the bars).

The set: ``N`` flights drawn from ``--seed``, taking the twelve class × shape cells in turn:

* class by the true ground range — SRBM 300–1000 km, MRBM 1000–3000 km, IRBM 3000–5500 km,
  ICBM 5500–12 000 km (the boundaries of :func:`mwx.assess.events.classify`), the range uniform in
  its logarithm within the class;
* shape by the apogee over the minimum-energy apogee of that range
  (:func:`mwx.sim.flight.minimum_energy_apogee`) — depressed 0.4–0.5, minimum-energy 0.9–1.1,
  lofted 2.0–2.5 (at least 30 km);
* a North Korean launch area of the gazetteer (``data/places/korea-japan.json``), an azimuth of
  45°–120° (the Sea of Japan and the Pacific), a launch time anywhere in the day of 2022-10-03 (so
  the Molniya-type infrared satellite is sometimes high, sometimes not) and a sensor seed of its own.

Each flight is solved and flown (:func:`mwx.sim.truth.fly`, default stages), the default theater's
sensors are simulated (:func:`mwx.sim.sensors.simulate_sensors`) from the launch until
``COAST_AFTER_S`` after burnout (or impact), and the US partner's sensors (three radars, two
infrared satellites) are replayed through the tracker a US node runs
(:func:`mwx.track.tracker.missile_tracker` with its radars' registration,
:func:`mwx.exercise.replay.replay`, which builds the scans as a node does).  Cutting the run there
changes no state the tracker records before the cut (it is causal), and the launch estimate reads
the powered states and the first settled coasting state only.  A track is the warhead's when most of
its states (or of its states before burnout) lie nearer the warhead-bearing object
(``launch.objects[0]``) than any other object of the launch, within ``ASSOCIATION_GATE_M``.
:func:`mwx.assess.launch.estimate` runs on each such track's history and the one with the smallest
launch-point σ is kept, as :func:`mwx.assess.events.launch_events` keeps a launch's best estimate.

Per flight: the launch point error [km] (and along the flight's azimuth: + downrange of the site),
its normalised squared error d² = dᵀ C⁻¹ d against the estimate's east/north covariance (χ²(2) when
honest: inside the 95 % region when d² ≤ 5.991), the launch time error and its σ, the method (boost
or coast), the US infrared reports of the burning missile, and whether the warhead's track saw the
boost.  Tables by class and by shape: max and median error, share within 5 km, 95 % region coverage.

Coast only: the same tracks with their powered states left out, as a partner whose radars first see
the missile in its coast would hold them: the coast estimate from the first settled coasting state
at least ``COAST_DELAYS_S`` after burnout (where the track still has one), in its own table.

Bars (issue 13), each a PASS/FAIL line, exit status 1 when one is missed: every flight whose boost
the US infrared saw (``IR_MIN_REPORTS`` reports or more of the burning missile) within 5 km; the
95 % region holds the truth in 90–98 % of the flights (at least 60 flights for this bar to count);
the same band for the coast-only estimates.

``--calibrate`` fits :class:`mwx.assess.launch.ModelError` for each method by maximum likelihood on
the flights' errors (the candidates' spread and the state errors as the estimator computes them;
the model error's terms free: state share, floor, along- and cross-track bridged fractions, share of
the candidates' spread, launch time floor) and prints the fitted values and the coverage they give,
overall and per class.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import itertools  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402
from pyproj import Geod  # noqa: E402
from scipy.optimize import minimize  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bars import Bars  # noqa: E402

from mwx.assess import launch as launch_estimation  # noqa: E402
from mwx.errors import UnreachableFlight  # noqa: E402
from mwx.exercise.replay import replay  # noqa: E402
from mwx.geo import wgs84  # noqa: E402
from mwx.sim.flight import minimum_energy_apogee  # noqa: E402
from mwx.sim.scenario import parse_scenario, theater_of  # noqa: E402
from mwx.sim.sensors import simulate_sensors  # noqa: E402
from mwx.sim.theater import InfraredSatellite  # noqa: E402
from mwx.sim.truth import fly  # noqa: E402
from mwx.track.registration import Registration  # noqa: E402
from mwx.track.tracker import missile_tracker  # noqa: E402

GEOD = Geod(ellps="WGS84")
PARTNER = "US"
CHI2_2_95 = 5.991  # 95 % point of χ²(2)
COAST_AFTER_S = 300.0  # s of coast simulated after burnout
COAST_DELAYS_S = (0.0, 60.0, 180.0)  # coast-only estimates from the first coasting state this long after burnout
ASSOCIATION_GATE_M = 50e3  # a track state further than this from every object of the launch is no one's
IR_MIN_REPORTS = 3  # US infrared reports of the burning missile for its boost to count as seen
CLASSES = (("SRBM", 300.0, 1000.0), ("MRBM", 1000.0, 3000.0), ("IRBM", 3000.0, 5500.0), ("ICBM", 5500.0, 12000.0))
SHAPES = (("depressed", 0.4, 0.5), ("minimum-energy", 0.9, 1.1), ("lofted", 2.0, 2.5))
#: North Korean launch areas of the shipped gazetteer (lat, lon) [deg].
SITES = (
    ("Sunan", 39.20, 125.67),
    ("Mupyong-ni", 40.61, 126.43),
    ("Sinpo", 40.03, 128.18),
    ("Tongchang-ri", 39.66, 124.70),
    ("Kusong", 39.98, 125.24),
    ("Hamhung", 39.92, 127.54),
    ("Wonsan", 39.15, 127.44),
    ("Kaechon", 39.70, 125.90),
    ("Musudan-ri", 40.85, 129.67),
    ("Sukchon", 39.41, 125.63),
)
DAY_START = datetime(2022, 10, 3, tzinfo=UTC).timestamp()


@dataclass(frozen=True)
class FlightSpec:
    """One flight of the set: what its scenario asks for."""

    index: int
    cls: str
    shape: str
    range_km: float
    apogee_km: float
    site: str
    lat: float
    lon: float
    azimuth_deg: float
    time: float  # Unix s
    seed: int

    def scenario_text(self) -> str:
        when = datetime.fromtimestamp(self.time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (
            f"name: launch-point-{self.index}\ntheater: korea-japan\nseed: {self.seed}\nlaunches:\n"
            f"  - {{id: F{self.index}, time: {when}, site: {{lat: {self.lat}, lon: {self.lon}}}, "
            f"azimuth_deg: {self.azimuth_deg:.2f}, apogee_km: {self.apogee_km:.2f}, range_km: {self.range_km:.1f}}}\n"
        )


def flight_set(count: int, seed: int) -> list[FlightSpec]:
    """``count`` flights drawn from ``seed``, taking the twelve class × shape cells in turn."""
    rng = np.random.default_rng(seed)
    specs = []
    for i in range(count):
        cls, lo, hi = CLASSES[i % len(CLASSES)]
        shape, f_lo, f_hi = SHAPES[(i // len(CLASSES)) % len(SHAPES)]
        range_km = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
        apogee_km = max(float(rng.uniform(f_lo, f_hi)) * minimum_energy_apogee(range_km * 1e3) / 1e3, 30.0)
        name, lat, lon = SITES[int(rng.integers(len(SITES)))]
        azimuth = float(rng.uniform(45.0, 120.0))
        when = DAY_START + float(np.round(rng.uniform(0.0, 86400.0)))
        specs.append(
            FlightSpec(i, cls, shape, range_km, apogee_km, name, lat, lon, azimuth, when, int(rng.integers(1 << 30)))
        )
    return specs


@dataclass
class Result:
    """One launch estimate against truth (km, s; NaN where there is none)."""

    index: int
    cls: str
    shape: str
    range_km: float
    apogee_km: float
    site: str
    azimuth_deg: float
    burn_s: float
    ir_reports: int  # US infrared reports of the burning missile
    tracks: int  # the warhead's tracks
    method: str  # boost, coast, none (no estimate) or unflown (no ballistic flight meets the brief)
    delay_s: float  # coast only: the traced state's time after burnout
    point_err_km: float
    along_err_km: float  # along the flight's azimuth (+: downrange of the site)
    d2: float  # normalised squared error against the estimate's covariance: χ²(2) if honest
    sigma_km: float  # root of the larger eigenvalue of the covariance
    time_err_s: float
    time_sigma_s: float
    wall_s: float

    @property
    def ir_seen(self) -> bool:
        return self.ir_reports >= IR_MIN_REPORTS

    @property
    def estimated(self) -> bool:
        return self.method in ("boost", "coast")


@dataclass
class Calibration:
    """What the maximum-likelihood fit of the model errors needs from one estimate."""

    method: str
    cls: str  # the flight's class (SRBM ... ICBM), for the coverage per class
    miss: NDArray  # (2,) truth − estimate, east/north [m] in the posterior's frame
    cov_states: NDArray
    cov_between: NDArray
    along: NDArray
    bridged: float
    burn: float  # s
    time_miss: float  # s
    time_var_states: float
    time_var_between: float


@dataclass
class FlightOutcome:
    boost: Result  # what estimate() gives on the whole history (boost, or coast if no boost was seen)
    coast: list[Result] = field(default_factory=list)  # coast only, one per delay the track allows
    calibration: list[Calibration] = field(default_factory=list)


def _warhead_tracks(record, objects, warhead_burnout: float) -> list[NDArray]:
    """Row indices of each track that follows the warhead-bearing object (``objects[0]``)."""
    t = record.time
    nearest = np.full(t.size, -1)
    best = np.full(t.size, np.inf)
    for k, obj in enumerate(objects):
        truth = obj.states_at(t)
        d = np.linalg.norm(record.x[:, :3] - truth[:, :3], axis=1)
        d = np.where(np.isfinite(d), d, np.inf)
        closer = (d < best) & (d < ASSOCIATION_GATE_M)
        nearest[closer], best[closer] = k, d[closer]
    out = []
    for number in np.unique(record.number):
        rows = np.flatnonzero(record.number == number)
        early = rows[t[rows] < warhead_burnout]
        if np.mean(nearest[rows] == 0) > 0.5 or (early.size and np.mean(nearest[early] == 0) > 0.5):
            out.append(rows)
    return out


def _score(spec: FlightSpec, launch, estimate, common: dict, method_delay: float) -> tuple[dict, NDArray]:
    """Error figures of ``estimate`` against the launch; also the miss (truth − estimate) east/north [m]."""
    site_lat, site_lon = math.radians(spec.lat), math.radians(spec.lon)
    east, north, _ = wgs84.enu_basis(estimate.lat, estimate.lon)
    miss = wgs84.geodetic_to_ecef(site_lat, site_lon, 0.0) - wgs84.geodetic_to_ecef(estimate.lat, estimate.lon, 0.0)
    d = np.array([miss @ east, miss @ north])
    azimuth, _, dist = GEOD.inv(spec.lon, spec.lat, math.degrees(estimate.lon), math.degrees(estimate.lat))
    along = dist * math.cos(math.radians(azimuth) - launch.trajectory.programme.azimuth)
    return dict(
        **common,
        method=estimate.method,
        delay_s=method_delay,
        point_err_km=dist / 1e3,
        along_err_km=along / 1e3,
        d2=float(d @ np.linalg.solve(estimate.cov_en, d)),
        sigma_km=estimate.sigma_km(),
        time_err_s=estimate.time - launch.launch_time,
        time_sigma_s=estimate.time_sigma,
    ), d


def _calibration(post: launch_estimation.Posterior, method: str, spec: FlightSpec, launch) -> Calibration:
    site = wgs84.geodetic_to_ecef(math.radians(spec.lat), math.radians(spec.lon), 0.0)
    miss = wgs84.ecef_to_enu(site, *post.origin, 0.0)[:2] - post.point
    return Calibration(
        method, spec.cls, miss, post.cov_states, post.cov_between, post.along, post.bridged, post.burn,
        launch.launch_time - post.time, post.time_var_states, post.time_var_between,
    )  # fmt: skip


def run_flight(spec: FlightSpec) -> FlightOutcome:
    """Fly, sense and track one flight; the launch estimates of its warhead track against truth."""
    start = time.perf_counter()
    scenario = parse_scenario(spec.scenario_text(), f"flight {spec.index}")
    nan = math.nan
    blank = dict(
        index=spec.index, cls=spec.cls, shape=spec.shape, range_km=spec.range_km, apogee_km=spec.apogee_km,
        site=spec.site, azimuth_deg=spec.azimuth_deg,
    )  # fmt: skip
    none = dict(point_err_km=nan, along_err_km=nan, d2=nan, sigma_km=nan, time_err_s=nan, time_sigma_s=nan)
    try:
        launch = fly(scenario)[0]
    except UnreachableFlight:
        result = Result(**blank, burn_s=nan, ir_reports=0, tracks=0, method="unflown", delay_s=nan, **none,
                        wall_s=time.perf_counter() - start)  # fmt: skip
        return FlightOutcome(result)
    theater = theater_of(scenario)
    burn = launch.trajectory.burnout_t
    t0 = launch.launch_time
    sensors = theater.sensors
    run = simulate_sensors(
        sensors, launch.objects, t0, min(launch.impact_time, t0 + burn + COAST_AFTER_S), scenario.seed
    )
    own = {i: s for i, s in enumerate(sensors) if s.partner == PARTNER}
    m = run.measurements
    infrared = np.array([isinstance(own.get(int(s)), InfraredSatellite) for s in m.sensor], bool)
    ir_reports = int(np.count_nonzero(infrared & (m.object == 0)))
    record = replay(missile_tracker(PARTNER, registration=Registration.of(own)), m, own)
    tracks = _warhead_tracks(record, launch.objects, t0 + burn)
    common = dict(**blank, burn_s=burn, ir_reports=ir_reports, tracks=len(tracks))
    outcome = FlightOutcome(Result(**common, method="none", delay_s=nan, **none, wall_s=nan))
    best = None
    for rows in tracks:
        t, x, p, powered = record.time[rows], record.x[rows, :6], record.P[rows, :6, :6], record.boosting[rows]
        estimate = launch_estimation.estimate(t, x, p, powered)
        if estimate is not None and (best is None or estimate.sigma_km() < best[0].sigma_km()):
            best = (estimate, (t, x, p, powered))
    if best is not None:
        estimate, (t, x, p, powered) = best
        figures, _ = _score(spec, launch, estimate, common, nan)
        outcome.boost = Result(**figures, wall_s=nan)
        use = launch_estimation.boost_states(t, x, p, powered)
        post = launch_estimation.boost_posterior(t[use], x[use], p[use]) if use.size else None
        if estimate.method == "boost" and post is not None:
            outcome.calibration.append(_calibration(post, "boost", spec, launch))
    # Coast only: the longest warhead track with its powered states left out, from each delay on.
    if tracks:
        rows = max(tracks, key=len)
        t, x, p, powered = record.time[rows], record.x[rows, :6], record.P[rows, :6, :6], record.boosting[rows]
        after = np.flatnonzero(powered)[-1] + 1 if powered.any() else 0
        for delay in COAST_DELAYS_S:
            keep = np.arange(len(t)) >= after
            keep &= t >= t0 + burn + delay
            if not keep.any():
                continue
            tc, xc, pc = t[keep], x[keep], p[keep]
            coasting = np.zeros(len(tc), bool)
            k = launch_estimation.coast_state(pc, coasting)
            if k is None:
                continue
            post = launch_estimation.coast_posterior(float(tc[k]), xc[k], pc[k])
            if post is None:
                continue
            estimate = post.estimate(launch_estimation.COAST_MODEL, "coast")
            figures, _ = _score(spec, launch, estimate, common, float(tc[k] - t0 - burn))
            outcome.coast.append(Result(**figures, wall_s=nan))
            outcome.calibration.append(_calibration(post, "coast", spec, launch))
    wall = time.perf_counter() - start
    outcome.boost.wall_s = wall
    return outcome


# ------------------------------------------------------------------------------------------ tables
def _row(name: str, results: list[Result], methods: bool = True) -> str:
    done = [r for r in results if r.estimated]
    count = f"{sum(r.method == 'boost' for r in done)}/{len(done)}" if methods else f"{len(done)}"
    if not done:
        return f"| {name} | {len(results)} | {count} | – | – | – | – | – | – |"
    err = np.array([r.point_err_km for r in done])
    d2 = np.array([r.d2 for r in done])
    terr = np.array([abs(r.time_err_s) for r in done])
    tz = np.array([abs(r.time_err_s) / r.time_sigma_s for r in done])
    return (
        f"| {name} | {len(results)} | {count} | {np.max(err):.1f} | {np.median(err):.2f} "
        f"| {100 * np.mean(err <= 5.0):.0f} % | {100 * np.mean(d2 <= CHI2_2_95):.0f} % "
        f"| {np.median(terr):.1f} | {100 * np.mean(tz <= 1.96):.0f} % |"
    )


def _head(first: str, count: str = "boost/estimated") -> str:
    return (
        f"| {first} | flights | {count} | max err km | median err km | within 5 km | in 95 % region "
        "| median abs time err s | time within 1.96σ |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )


def tables(results: list[Result]) -> str:
    """Markdown tables by class, by shape, by both, and by whether infrared saw the boost."""
    out = [_head("class")]
    out += [_row(c, [r for r in results if r.cls == c]) for c, _, _ in CLASSES]
    out += [_row("all", results), "", _head("shape")]
    out += [_row(s, [r for r in results if r.shape == s]) for s, _, _ in SHAPES]
    out += ["", _head("class, shape")]
    out += [_row(f"{c} {s}", [r for r in results if r.cls == c and r.shape == s]) for c, _, _ in CLASSES
            for s, _, _ in SHAPES]  # fmt: skip
    out += ["", _head("US infrared saw the boost")]
    out += [_row("yes", [r for r in results if r.ir_seen]), _row("no", [r for r in results if not r.ir_seen])]
    return "\n".join(out)


def coast_tables(results: list[Result]) -> str:
    """Markdown table of the coast-only estimates by class and by the traced state's time after burnout."""
    out = [_head("coast only: class, traced state after burnout", "estimates")]
    edges = (*COAST_DELAYS_S, math.inf)
    for c, _, _ in CLASSES:
        for lo, hi in itertools.pairwise(edges):
            picked = [r for r in results if r.cls == c and lo <= r.delay_s < hi]
            label = f"{c} {lo:.0f}–{hi:.0f} s" if math.isfinite(hi) else f"{c} ≥ {lo:.0f} s"
            out.append(_row(label, picked, methods=False))
    out.append(_row("all", results, methods=False))
    return "\n".join(out)


def per_flight(results: list[Result]) -> str:
    lines = [
        "   # class shape            range km apogee km site          az   burn s   IR trk method  delay  err km"
        "  along km     d²   σ km  time err s   σ s"
    ]
    for r in results:
        lines.append(
            f"{r.index:4d} {r.cls} {r.shape:15s} {r.range_km:8.0f} {r.apogee_km:9.1f} {r.site:12s} "
            f"{r.azimuth_deg:5.1f} {r.burn_s:7.1f} {r.ir_reports:4d} {r.tracks:3d} {r.method:6s} {r.delay_s:6.0f} "
            f"{r.point_err_km:7.2f} {r.along_err_km:9.2f} {r.d2:6.2f} {r.sigma_km:6.2f} {r.time_err_s:+10.1f} "
            f"{r.time_sigma_s:5.1f}"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------------------- calibration
def calibrate(samples: list[Calibration], method: str) -> None:
    """Fit the method's ModelError by maximum likelihood on the estimates' errors and print the fits.

    Two fits: every term free (state share, floor, along- and cross-track bridged fractions, share of
    the candidates' spread, floor per second of burn); and without the burn term, for comparison.  The
    launch time's floor is fitted after, with the shares of the point's fit.
    Coverage is printed per class too: a pooled fit can hide classes on either side of the band.
    """
    picked = [c for c in samples if c.method == method]
    if len(picked) < 10:
        print(f"{method}: {len(picked)} estimates, too few to fit")
        return
    miss_t = np.array([c.time_miss for c in picked])
    along = np.array([c.along for c in picked])
    across = np.stack([-along[:, 1], along[:, 0]], axis=1)
    bridged = np.array([c.bridged for c in picked])
    burn = np.array([c.burn for c in picked])
    miss = np.array([c.miss for c in picked])
    states = np.array([c.cov_states for c in picked])
    between = np.array([c.cov_between for c in picked])
    classes = np.array([c.cls for c in picked])

    def covs(share: float, floor: float, fraction: float, cross: float, spread: float, per_burn: float) -> NDArray:
        return (
            share * states + spread * between + (floor**2 + (per_burn * burn) ** 2)[:, None, None] * np.eye(2)
            + ((fraction * bridged) ** 2)[:, None, None] * np.einsum("ni,nj->nij", along, along)
            + ((cross * bridged) ** 2)[:, None, None] * np.einsum("ni,nj->nij", across, across)
        )  # fmt: skip

    def d2(*terms: float) -> NDArray:
        return np.einsum("ni,ni->n", miss, np.linalg.solve(covs(*terms), miss[..., None])[..., 0])

    def nll(*terms: float) -> float:
        try:
            sign, logdet = np.linalg.slogdet(covs(*terms))
            return float(0.5 * np.sum(d2(*terms) + np.where(sign > 0, logdet, 1e9)))
        except np.linalg.LinAlgError:  # the simplex wandered off to a corner where a covariance degenerates
            return math.inf

    def time_var(share: float, spread: float, time_s: float) -> NDArray:
        return np.array([share * c.time_var_states + spread * c.time_var_between for c in picked]) + time_s**2

    def report(label: str, share: float, floor: float, fraction: float, cross: float, spread: float,
               per_burn: float, time_s: float) -> None:  # fmt: skip
        inside = d2(share, floor, fraction, cross, spread, per_burn) <= CHI2_2_95
        tz = np.abs(miss_t) / np.sqrt(time_var(share, spread, time_s))
        per_class = ", ".join(
            f"{name} {100 * np.mean(inside[classes == name]):.1f} % of {np.sum(classes == name)}"
            for name, _, _ in CLASSES if np.any(classes == name)
        )  # fmt: skip
        print(
            f"{method} ({len(picked)} estimates), {label}: ModelError(state_share={share:.3f}, floor_m={floor:.1f}, "
            f"bridged_fraction={fraction:.4f}, time_s={time_s:.2f}, cross_fraction={cross:.5f}, "
            f"between_share={spread:.3f}, burn_fraction={per_burn:.3f}) → inside the 95 % region "
            f"{100 * np.mean(inside):.1f} % ({per_class}); "
            f"time within 1.96σ {100 * np.mean(tz <= 1.96):.1f} %"
        )

    def time_fit(share: float, spread: float) -> float:
        def nll_time(log_t: NDArray) -> float:
            var = time_var(share, spread, math.exp(log_t[0]))
            return float(0.5 * np.sum(miss_t**2 / var + np.log(var)))

        return math.exp(minimize(nll_time, [0.0], method="Nelder-Mead").x[0])

    # The likelihood is flat along share against floor: the best of a few starts (in logarithms).
    options = dict(maxiter=8000, xatol=1e-5, fatol=1e-4)
    starts = ((0.5, 100.0, 0.01, 0.002, 0.5, 0.2), (0.1, 50.0, 0.001, 0.001, 0.1, 0.05),
              (1.0, 300.0, 0.03, 0.005, 1.0, 0.5), (0.07, 80.0, 1e-4, 1e-3, 0.03, 0.01),
              (0.07, 20.0, 1e-4, 1e-3, 0.03, 0.25))  # fmt: skip

    def best_fit(fixed: dict[int, float]) -> tuple[NDArray, float]:
        """The terms (and the negative log-likelihood) with those of ``fixed`` (index → value) held."""
        free_at = [i for i in range(6) if i not in fixed]

        def terms(q: NDArray) -> list[float]:
            out = [0.0] * 6
            for i, v in fixed.items():
                out[i] = v
            for i, v in zip(free_at, np.exp(q), strict=True):
                out[i] = float(v)
            return out

        fits = [minimize(lambda q: nll(*terms(q)), np.log([start[i] for i in free_at]), method="Nelder-Mead",
                         options=options) for start in starts]  # fmt: skip
        fit = min(fits, key=lambda f: f.fun)
        return np.array(terms(fit.x)), float(fit.fun)

    free, nll_free = best_fit({})
    report(f"all free (-log L {nll_free:.1f})", *free, time_fit(free[0], free[4]))
    held, nll_held = best_fit({5: 0.0})
    report(f"no burn term (-log L {nll_held:.1f})", *held, time_fit(held[0], held[4]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flights", type=int, default=72, help="number of flights (default 72: 6 per cell)")
    parser.add_argument("--seed", type=int, nargs="+", default=[13], help="one or more seeds (default 13)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--csv", type=Path, help="write the per-flight rows (boost, then coast only) here")
    parser.add_argument("--per-flight", action="store_true", help="print the per-flight rows")
    parser.add_argument("--calibrate", action="store_true", help="fit the model errors instead of checking bars")
    args = parser.parse_args()
    specs = [spec for seed in args.seed for spec in flight_set(args.flights, seed)]
    start = time.perf_counter()
    if args.jobs > 1:
        with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
            outcomes = pool.map(run_flight, specs, chunksize=1)
    else:
        outcomes = [run_flight(s) for s in specs]
    wall = time.perf_counter() - start
    results = [o.boost for o in outcomes]
    coast = [r for o in outcomes for r in o.coast]
    if args.calibrate:
        samples = [c for o in outcomes for c in o.calibration]
        calibrate(samples, "boost")
        calibrate(samples, "coast")
        print(f"{len(results)} flights, seed {args.seed}: {wall:.0f} s wall with {args.jobs} job(s)")
        return
    if args.per_flight:
        print(per_flight(results) + "\n\ncoast only:\n" + per_flight(coast) + "\n")
    if args.csv:
        with args.csv.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(asdict(results[0])))
            writer.writeheader()
            writer.writerows(asdict(r) for r in results + coast)
    print(tables(results) + "\n\n" + coast_tables(coast))
    unflown = [r.index for r in results if r.method == "unflown"]
    without = [r.index for r in results if r.method == "none"]
    no_boost = [r.index for r in results if r.ir_seen and r.method != "boost"]
    print(
        f"\n{len(results)} flights, seed {args.seed}: {len(unflown)} unflown {unflown}, {len(without)} without an "
        f"estimate {without}; US infrared saw the boost of {sum(r.ir_seen for r in results)}, its track did not "
        f"hold the boost for {no_boost}; {wall:.0f} s wall with {args.jobs} job(s)"
    )
    bars = Bars()
    seen = [r for r in results if r.ir_seen]
    worst = max(seen, key=lambda r: r.point_err_km if math.isfinite(r.point_err_km) else math.inf, default=None)
    figure = f"worst {worst.point_err_km:.2f} km (flight {worst.index}, {worst.method})" if worst else "none"
    bars.check(
        "every flight whose boost US infrared saw: launch point within 5 km",
        bool(seen) and all(math.isfinite(r.point_err_km) and r.point_err_km <= 5.0 for r in seen),
        f"{len(seen)} flights, {figure}",
    )
    for name, picked, least in (("boost seen or not", results, 60), ("coast only", coast, 60)):
        done = [r for r in picked if r.estimated]
        coverage = float(np.mean([r.d2 <= CHI2_2_95 for r in done])) if done else math.nan
        bars.check(
            f"{name}: the 95 % launch-point region holds the truth in 90-98 % (at least {least} estimates)",
            len(done) >= least and 0.90 <= coverage <= 0.98,
            f"{100 * coverage:.1f} % of {len(done)}",
        )
    bars.finish()


if __name__ == "__main__":
    main()
