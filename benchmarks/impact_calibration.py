"""Calibration of the predicted 95 % impact ellipse against truth, per missile class (Monte Carlo).

Run: ``.venv/bin/python benchmarks/impact_calibration.py`` (``--runs``, ``--classes``,
``--seed``, ``--jobs``; ``--stratified`` draws β by the strata of :data:`TAIL_STRATA` instead
of freely, as ``tests/test_calibration.py`` does; ``--drag-check`` prints only the drag-model
comparison of :func:`drag_check`, in seconds).  The assessment issue's bar: over at least 100 runs per class,
the true impact point lies inside the predicted 95 % ellipse in 90–98 % of the
predictions made during the coast phase.

Each run of a class:

* **Truth.** The class's flight (launch site and azimuth of the 2022-10-04 case,
  ``separating_stages: 0``) is solved once; the run then draws its own re-entry
  ballistic coefficient β = 8000 kg/m² · exp(0.3 η), η ~ N(0, 1) — the very prior
  :func:`mwx.assess.distribution.predict` assumes, so a calibrated prediction should
  cover the truth 95 % of the time — and flies the warhead from burnout to the
  ground with it (:func:`mwx.sim.flight.coast`).  Before burnout the object is the
  solved boost, so the tracker's IMM sees burnout as it would in an exercise.
* **Sensors and tracker.** Two or three radars under or near the flight, Pd ≈ 1
  (reference range 10⁵ km), no clutter, no registration bias.  Revisit 2 s for the
  SRBM, 4 s for the IRBM and 5 s for the lofted ICBM: the tracker's time is almost all
  of a run's (~3 ms a scan), and 53 min of ICBM flight at 2 s from three radars would
  take the default 300 runs well past 15 min on two cores; predictions 20 s apart
  still follow dozens of updates each.  With
  so strong an echo the noise sits at the simulator's floor (``SIGMA_FLOOR`` = 0.25
  of the reference σ), so the reference σ are four times the wanted ones: 30 m in
  range and 0.5 mrad in angle in effect (as ``tests/test_tracker.py``), one radar
  per class also measures range rate (2 m/s).  One missile tracker takes every scan.
* **Predictions.** In the coast phase — from 60 s after burnout (the track has
  settled) while the true altitude is above 15 km (a depressed SRBM is inside the
  atmosphere for much of its flight: that is its coast) — the track's state and
  covariance are taken every 20 s of track time (consecutive scans give nearly the
  same prediction, so every scan would only repeat them) and passed to ``predict``
  (1000 samples).  A prediction counts as covered when the true impact point lies
  inside its 95 % ellipse (``ImpactDistribution.inside_95``).

Reported per class: runs, predictions, coverage with its Wilson 95 % interval
(which treats the predictions as independent) and a run-bootstrap 95 % interval
(which does not: all predictions of a run share its β draw and its tracker errors),
median miss distance, median semi-major axis of the 95 % ellipse, and the median and
90th percentile of the normalised miss d² = dᵀ C⁻¹ d (χ²(2) if calibrated: median
1.39, 90 % point 4.61, 95 % point 5.99).  Two more tables break coverage down by time
to impact and by the run's true β (η < −1: low β, more drag than assumed).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
from collections.abc import Callable  # noqa: E402
from functools import cache  # noqa: E402
from statistics import NormalDist  # noqa: E402
from typing import NamedTuple  # noqa: E402

import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

from mwx.assess import distribution  # noqa: E402
from mwx.assess.impact import ASSUMED_BETA, CHI2_2_95  # noqa: E402
from mwx.exercise.metrics import wilson  # noqa: E402
from mwx.exercise.replay import replay  # noqa: E402
from mwx.geo import wgs84  # noqa: E402
from mwx.geo.hermite import interpolate_states  # noqa: E402
from mwx.sim import sensors  # noqa: E402
from mwx.sim.flight import coast  # noqa: E402
from mwx.sim.scenario import parse_scenario  # noqa: E402
from mwx.sim.theater import Radar, Site  # noqa: E402
from mwx.sim.truth import TruthLaunch, TruthObject, fly  # noqa: E402
from mwx.track.tracker import missile_tracker  # noqa: E402

BETA_SIGMA_LN = distribution.BETA_SIGMA_LN  # spread of the true β: the prediction's own prior
SETTLE_S = 60.0  # s after burnout before the first prediction: the track has settled
FLOOR_ALT_M = 15e3  # m: the coast phase ends when the truth descends below this
PREDICTION_EVERY_S = 20.0  # s of track time between predictions taken from one run
SAMPLES = 1000  # Monte Carlo samples per prediction (predict's default)
BUCKETS_S = (0.0, 60.0, 180.0, 600.0, math.inf)  # time-to-impact buckets of the breakdown [s]
# Buckets of the run's true η = ln(β/β₀)/σ: low β (more drag) on the left; 16 %, 68 %, 16 % of runs.
ETA_BUCKETS = (-math.inf, -1.0, 1.0, math.inf)

# Pd ≈ 1 at any range (reference range 10⁵ km); noise at the 0.25 floor of these reference σ,
# i.e. 30 m and 0.5 mrad in effect.
_COMMON = dict(partner="X", ref_range_km=1e5, sigma_range_m=120.0, sigma_az_mrad=2.0,
               sigma_el_mrad=2.0)  # fmt: skip


def _radar(name: str, lat: float, lon: float, max_range_km: float, revisit_s: float, **extra: float) -> Radar:
    site = Site(lat=lat, lon=lon, alt_m=100.0)
    return Radar(id=name, site=site, max_range_km=max_range_km, revisit_s=revisit_s, **_COMMON, **extra)


class FlightClass(NamedTuple):
    """One missile class: its flight brief and the radars that see its coast.

    (A named tuple, not a dataclass: tests load this file with ``importlib`` without
    registering it in ``sys.modules``, which dataclasses need.)
    """

    name: str
    apogee_km: float
    range_km: float
    radars: tuple[Radar, ...]

    def scenario(self) -> str:
        return f"""\
name: calibration-{self.name}
launches:
  - {{id: M, time: 2022-10-03T22:22:47Z, site: {{lat: 40.61, lon: 126.43}}, azimuth_deg: 84.2,
     apogee_km: {self.apogee_km}, range_km: {self.range_km}, separating_stages: 0}}
"""


CLASSES: dict[str, FlightClass] = {
    # Depressed SRBM: impact near (40.95 N, 134.71 E); apogee 90 km, so the radars must be
    # within a few hundred km of the track to keep it above their horizon.
    "SRBM": FlightClass(
        "SRBM",
        90.0,
        700.0,
        (
            _radar("S1", 39.8, 128.8, 1500.0, 2.0, sigma_range_rate_mps=2.0),
            _radar("S2", 41.6, 131.5, 1500.0, 2.0),
            _radar("S3", 40.2, 135.5, 1500.0, 2.0),
        ),
    ),
    # IRBM over Japan into the Pacific: impact near (33.03 N, 176.69 E), 22.7 min of flight.
    "IRBM": FlightClass(
        "IRBM",
        970.0,
        4500.0,
        (
            _radar("I1", 39.0, 131.0, 3000.0, 4.0, sigma_range_rate_mps=2.0),
            _radar("I2", 37.5, 150.0, 3000.0, 4.0),
            _radar("I3", 34.0, 173.0, 3000.0, 4.0),
        ),
    ),
    # Lofted ICBM (2017-11-28): impact near (40.93 N, 137.68 E), apogee 4475 km straight above
    # the middle of the track, so the radars look up to the zenith and out to ~4500 km.
    "ICBM": FlightClass(
        "ICBM",
        4475.0,
        950.0,
        (
            _radar("C1", 39.8, 129.0, 6000.0, 5.0, max_elevation_deg=90.0, sigma_range_rate_mps=2.0),
            _radar("C2", 41.6, 132.5, 6000.0, 5.0, max_elevation_deg=90.0),
            _radar("C3", 40.3, 138.5, 6000.0, 5.0, max_elevation_deg=90.0),
        ),
    ),
}
CLASS_INDEX = {name: k for k, name in enumerate(CLASSES)}


@cache
def _launch(cls: str) -> TruthLaunch:
    """The class's solved flight (once per process)."""
    return fly(parse_scenario(CLASSES[cls].scenario()))[0]


def true_flight(cls: str, beta: float) -> TruthObject:
    """The class's warhead: the solved boost, then a coast from burnout with ballistic coefficient β [kg/m²]."""
    launch = _launch(cls)
    traj = launch.trajectory
    body = launch.objects[0]
    burnout = traj.burnout_t
    eci0 = interpolate_states(traj.t, traj.eci, np.array([burnout]))[0]
    t_coast, ecef_coast = coast(traj, burnout, eci0, beta)
    boost = traj.t < burnout  # the coast starts with the burnout sample itself
    return TruthObject(
        id=f"{launch.missile.id}/RV",
        kind="warhead",
        launch_id=launch.missile.id,
        t=launch.launch_time + np.concatenate([traj.t[boost], t_coast]),
        ecef=np.concatenate([traj.ecef[boost], ecef_coast]),
        rcs_m2=body.rcs_m2,
        burnout=launch.launch_time + burnout,
    )


def run_once(cls: str, seed: int, run: int, eta: float | None = None, covariance_scale: float = 1.0) -> dict:
    """One Monte Carlo run of class ``cls``: every coast-phase prediction's figures.

    ``eta``: the run's η = ln(β/β₀)/σ if given (stratified runs), else drawn from N(0, 1); the
    sensor noise is the same either way.  ``covariance_scale``: the track covariance handed to
    the prediction is multiplied by it (1: as the tracker gives it; a negative control uses 2.5).
    Returns per prediction ``t_go`` (true time to impact [s]), ``inside`` (truth inside the
    95 % ellipse), ``miss`` [m], ``semi_major`` [m] and ``d2`` (normalised miss), plus the
    run's ``beta`` [kg/m²], ``tracks`` (track numbers seen in the coast) and ``no_impact``
    (predictions whose mean never reached the ground).
    """
    rng = np.random.default_rng([seed, CLASS_INDEX[cls], run])
    drawn = rng.standard_normal()
    beta = ASSUMED_BETA * math.exp(BETA_SIGMA_LN * (drawn if eta is None else eta))
    obj = true_flight(cls, beta)
    radars = list(CLASSES[cls].radars)
    sensor_seed = int(rng.integers(2**31))
    m = sensors.simulate_sensors(radars, [obj], obj.t[0], obj.t[-1], sensor_seed).measurements
    record = replay(missile_tracker("X"), m, dict(enumerate(radars)))

    truth = obj.states_at(record.time)
    _, _, alt = wgs84.ecef_to_geodetic(truth[:, :3])
    in_coast = (record.time >= obj.burnout + SETTLE_S) & (alt > FLOOR_ALT_M)
    numbers, counts = np.unique(record.number[in_coast], return_counts=True)
    empty = {"t_go": np.empty(0), "inside": np.empty(0, bool), "miss": np.empty(0), "semi_major": np.empty(0)}
    if numbers.size == 0:
        return {**empty, "d2": np.empty(0), "beta": beta, "tracks": 0, "no_impact": 0}
    # The track that followed the warhead through most of the coast (the only one, normally).
    rows = np.flatnonzero(in_coast & (record.number == numbers[np.argmax(counts)]))
    # The first estimate at or after each 20 s mark.
    marks = np.arange(record.time[rows[0]], record.time[rows[-1]] + 1e-6, PREDICTION_EVERY_S)
    rows = np.unique(rows[np.minimum(np.searchsorted(record.time[rows], marks), rows.size - 1)])

    t = record.time[rows]
    dist = distribution.predict(
        record.x[rows, :6], covariance_scale * record.P[rows, :6, :6], t,
        np.random.default_rng([seed, CLASS_INDEX[cls], run, 1]), samples=SAMPLES,
    )  # fmt: skip
    impact = obj.ecef[-1, :3]  # the coast ends on the ellipsoid
    lat, lon, _ = wgs84.ecef_to_geodetic(impact)
    lat_n, lon_n = np.full(rows.size, lat), np.full(rows.size, lon)
    inside = dist.inside_95(lat_n, lon_n)
    east, north = distribution._east_north(dist.lat, dist.lon, lat_n, lon_n)
    d = np.stack([east, north], axis=-1)
    with np.errstate(invalid="ignore"):
        d2 = np.einsum("ni,ni->n", d, np.linalg.solve(dist.cov_en, d[..., None])[..., 0])
    semi = np.array([dist.ellipse_95(i)[0] if np.isfinite(dist.cov_en[i]).all() else np.nan for i in range(rows.size)])
    return {
        "t_go": obj.t[-1] - t,
        "inside": inside,
        "miss": np.hypot(east, north),
        "semi_major": semi,
        "d2": d2,
        "beta": beta,
        "tracks": int(numbers.size),
        "no_impact": int(np.sum(~np.isfinite(dist.time))),
    }


def _run_star(args: tuple) -> dict:
    return run_once(*args)


#: Strata of the β prior (cumulative probabilities of η): tenths in the middle, finer in the tails,
#: where a run's coverage changes fastest with β (a low-β body falls short of the drag model's reach).
TAIL_STRATA = (0.0, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.975, 0.99, 1.0)


def strata_edges(strata: int | tuple[float, ...]) -> NDArray:
    """Cumulative probabilities bounding the strata: ``strata`` equal ones, or the edges given."""
    edges = np.linspace(0.0, 1.0, strata + 1) if isinstance(strata, int) else np.asarray(strata, float)
    if edges[0] != 0.0 or edges[-1] != 1.0 or np.any(np.diff(edges) <= 0.0):
        raise ValueError(f"strata edges must rise from 0 to 1: {strata}")
    return edges


def stratified_etas(cls: str, runs: int, edges: NDArray, seed: int) -> list[float]:
    """η of each run, with the prior N(0, 1) cut into strata at the cumulative probabilities ``edges``.

    The runs fill the strata in order, the same number each; a run takes a uniform draw within its
    stratum (as a quantile of N(0, 1)), so it is a draw from the prior restricted to the stratum, and
    the strata's coverages, weighted by their prior probability, estimate the same coverage as runs
    with η drawn freely.  But every part of the prior gets its runs, which takes most of the
    run-to-run scatter out (a run's coverage depends on its β above all), and the tails, where
    coverage changes fastest with β, can be cut finer.
    """
    strata = len(edges) - 1
    per = runs // strata
    if per * strata != runs or per < 2:
        raise ValueError(f"{runs} runs do not split into {strata} strata of two or more runs each")
    unit = NormalDist()
    out = []
    for r in range(runs):
        h = r // per
        u = float(np.random.default_rng([seed, CLASS_INDEX[cls], r, 2]).random())
        out.append(unit.inv_cdf(min(max(edges[h] + u * (edges[h + 1] - edges[h]), 1e-12), 1 - 1e-12)))
    return out


def run_bootstrap(
    per_run: list[NDArray], seed: int, resamples: int = 2000, weights: NDArray | None = None
) -> tuple[float, float]:
    """95 % percentile interval of the pooled coverage when whole runs are resampled (their predictions correlate).

    With ``weights`` (the strata's prior probabilities; the runs in equal consecutive groups, as
    :func:`stratified_etas` makes them) the coverage is the weighted mean of the strata's pooled
    coverages, and each replicate draws n − 1 of a stratum's n runs, with replacement, in every
    stratum: the stratified bootstrap of McCarthy & Snowden (1985), whose variance is unbiased for a
    mean (drawing all n would understate it by (n − 1)/n: by half for pairs).
    """
    hits = np.array([r.sum() for r in per_run], float)
    sizes = np.array([r.size for r in per_run], float)
    if sizes.sum() == 0:
        return math.nan, math.nan
    n = len(per_run)
    rng = np.random.default_rng(seed)
    if weights is not None:
        strata = len(weights)
        per = n // strata
        pick = rng.integers(0, per, (resamples, strata, per - 1)) + (np.arange(strata) * per)[None, :, None]
        with np.errstate(invalid="ignore"):
            rates = (hits[pick].sum(axis=2) / sizes[pick].sum(axis=2)) @ weights
    else:
        pick = rng.integers(0, n, (resamples, n))
        with np.errstate(invalid="ignore"):
            rates = hits[pick].sum(axis=1) / sizes[pick].sum(axis=1)
    lo, hi = np.nanpercentile(rates, [2.5, 97.5])
    return float(lo), float(hi)


def evaluate(
    cls: str,
    runs: int,
    seed: int = 0,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    *,
    strata: int | tuple[float, ...] = 0,
    covariance_scale: float = 1.0,
) -> dict:
    """``runs`` Monte Carlo runs of class ``cls`` (``SRBM``, ``IRBM`` or ``ICBM``) and their pooled figures.

    ``strata``: 0 draws each run's β freely from the prior; else the prior is cut into that many
    equally likely strata, or at the cumulative probabilities given (e.g. :data:`TAIL_STRATA`),
    with ``runs / strata`` runs each (:func:`stratified_etas`); then ``rate`` is the strata's
    coverages weighted by their probability, ``bootstrap`` resamples within strata, and ``wilson``
    (which would treat the predictions as independent and equally weighted) is NaN.
    ``covariance_scale``: see :func:`run_once`.
    Keys: ``runs``, ``predictions``, ``covered``, ``rate``, ``wilson`` (low, high),
    ``bootstrap`` (low, high, over runs), ``median_miss_m``, ``median_semi_major_m``,
    ``d2_median``, ``d2_p90``, ``multi_track_runs``, ``no_impact``, ``buckets`` (list of
    (low_s, high_s, predictions, rate) by time to impact), ``by_eta`` (the same by the run's
    true η = ln(β/β₀)/σ), ``per_run`` (the raw results)
    and ``wall_s``.
    """
    start = time.perf_counter()
    edges = strata_edges(strata) if strata else None
    etas = stratified_etas(cls, runs, edges, seed) if edges is not None else [None] * runs
    tasks = [(cls, seed, r, etas[r], covariance_scale) for r in range(runs)]
    results: list[dict] = []
    if jobs > 1:
        if __name__ not in sys.modules:
            # Loaded by path (importlib, as the tests do): the workers look the run function up by
            # module name, so make the name resolve to this module's namespace.
            module = types.ModuleType(__name__)
            module.__dict__.update(globals())
            sys.modules[__name__] = module
        with multiprocessing.Pool(jobs) as pool:
            for res in pool.imap(_run_star, tasks):
                results.append(res)
                if progress:
                    progress(len(results), runs)
    else:
        for task in tasks:
            results.append(_run_star(task))
            if progress:
                progress(len(results), runs)
    inside = np.concatenate([r["inside"] for r in results])
    t_go = np.concatenate([r["t_go"] for r in results])
    miss = np.concatenate([r["miss"] for r in results])
    semi = np.concatenate([r["semi_major"] for r in results])
    d2 = np.concatenate([r["d2"] for r in results])
    eta = np.concatenate(
        [np.full(r["inside"].size, math.log(r["beta"] / ASSUMED_BETA) / BETA_SIGMA_LN) for r in results]
    )
    n, k = int(inside.size), int(inside.sum())
    weights = None if edges is None else np.diff(edges)
    by_eta = []
    for lo, hi in itertools.pairwise(ETA_BUCKETS):
        sel = (eta >= lo) & (eta < hi)
        by_eta.append((lo, hi, int(sel.sum()), float(inside[sel].mean()) if sel.any() else math.nan))
    buckets = []
    for lo, hi in itertools.pairwise(BUCKETS_S):
        sel = (t_go >= lo) & (t_go < hi)
        buckets.append((lo, hi, int(sel.sum()), float(inside[sel].mean()) if sel.any() else math.nan))
    return {
        "class": cls,
        "runs": runs,
        "predictions": n,
        "covered": k,
        "rate": (k / n if n else math.nan) if weights is None else _weighted_rate(results, weights),
        "wilson": wilson(k, n) if weights is None else (math.nan, math.nan),
        "bootstrap": run_bootstrap([r["inside"] for r in results], seed, weights=weights),
        "strata": 0 if weights is None else len(weights),
        "median_miss_m": float(np.nanmedian(miss)) if n else math.nan,
        "median_semi_major_m": float(np.nanmedian(semi)) if n else math.nan,
        "d2_median": float(np.nanmedian(d2)) if n else math.nan,
        "d2_p90": float(np.nanpercentile(d2, 90)) if n else math.nan,
        "multi_track_runs": sum(r["tracks"] > 1 for r in results),
        "no_impact": sum(r["no_impact"] for r in results),
        "buckets": buckets,
        "by_eta": by_eta,
        "per_run": results,
        "wall_s": time.perf_counter() - start,
    }


def _weighted_rate(results: list[dict], weights: NDArray) -> float:
    """Coverage of stratified runs: each stratum's pooled coverage weighted by its prior probability."""
    per = len(results) // len(weights)
    rates = [
        sum(int(r["inside"].sum()) for r in group) / max(sum(r["inside"].size for r in group), 1)
        for group in (results[h * per : (h + 1) * per] for h in range(len(weights)))
    ]
    return float(np.dot(weights, rates))


def _table(rows: list[dict]) -> str:
    out = [
        "| class | runs | predictions | inside 95 % ellipse | Wilson 95 % | run bootstrap 95 % | median miss "
        "| median semi-major | d² median | d² 90 % | wall |",
        "|---|---:|---:|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        fc = CLASSES[r["class"]]
        out.append(
            f"| {r['class']} ({fc.apogee_km:g} km / {fc.range_km:g} km) | {r['runs']} | {r['predictions']} "
            f"| **{100 * r['rate']:.1f} %** | {_interval(r['wilson'])} "
            f"| {100 * r['bootstrap'][0]:.1f}–{100 * r['bootstrap'][1]:.1f} % | {r['median_miss_m']:.0f} m "
            f"| {r['median_semi_major_m']:.0f} m | {r['d2_median']:.2f} | {r['d2_p90']:.2f} | {r['wall_s']:.0f} s |"
        )
    out += ["", "| class | " + " | ".join(_bucket_name(lo, hi) for lo, hi, _, _ in rows[0]["buckets"]) + " |"]
    out.append("|---|" + "---:|" * len(rows[0]["buckets"]))
    for r in rows:
        cells = [f"{100 * rate:.1f} % ({n})" if n else "–" for _, _, n, rate in r["buckets"]]
        out.append(f"| {r['class']} | " + " | ".join(cells) + " |")
    out += ["", "| class | " + " | ".join(_eta_name(lo, hi) for lo, hi, _, _ in rows[0]["by_eta"]) + " |"]
    out.append("|---|" + "---:|" * len(rows[0]["by_eta"]))
    for r in rows:
        cells = [f"{100 * rate:.1f} % ({n})" if n else "–" for _, _, n, rate in r["by_eta"]]
        out.append(f"| {r['class']} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def _interval(low_high: tuple[float, float]) -> str:
    low, high = low_high
    return "–" if math.isnan(low) else f"{100 * low:.1f}–{100 * high:.1f} %"


def _eta_name(lo: float, hi: float) -> str:
    if math.isinf(lo):
        return f"η < {hi:g} (low β)"
    return f"η ≥ {lo:g} (high β)" if math.isinf(hi) else f"{lo:g} ≤ η < {hi:g}"


def drag_check(cls: str, t_go: float = 60.0) -> list[tuple[float, float, float, float]]:
    """How far a β other than β₀ moves the impact: truth against the prediction's drag model.

    For true flights with η = −2, −1, +1, +2 (β = β₀ e^{ση}), from the noise-free state
    ``t_go`` seconds before impact: the drag offset D (impact with β₀ less impact in vacuum)
    and, along D, the true impact's displacement from the β₀ impact against the model's, the
    quadratic in η through the nominal flights at η = −1, 0, +1
    (:func:`mwx.assess.distribution.nominal_flights`), which is what
    :func:`mwx.assess.distribution.predict` gives each sample.  Returns (η, |D| [m], true
    shift [m], model shift [m]) per η.
    """
    out = []
    for eta in (-2.0, -1.0, 1.0, 2.0):
        beta = ASSUMED_BETA * math.exp(BETA_SIGMA_LN * eta)
        obj = true_flight(cls, beta)
        t = np.array([obj.t[-1] - t_go])
        nominal = distribution.nominal_flights(obj.states_at(t), t, ASSUMED_BETA, BETA_SIGMA_LN)
        shift = nominal.drag_hit[:, 0] - nominal.vacuum_hit[0]  # (3, 3): η = −1, 0, +1
        model = shift[1] + eta * 0.5 * (shift[2] - shift[0]) + eta**2 * 0.5 * (shift[2] - 2.0 * shift[1] + shift[0])
        along = shift[1] / np.linalg.norm(shift[1])
        true = float((obj.ecef[-1, :3] - nominal.drag_hit[1, 0]) @ along)
        out.append((eta, float(np.linalg.norm(shift[1])), true, float((model - shift[1]) @ along)))
    return out


def _bucket_name(lo: float, hi: float) -> str:
    return f"t_go ≥ {lo:.0f} s" if math.isinf(hi) else f"t_go {lo:.0f}–{hi:.0f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="Monte Carlo runs per class (default 100)")
    parser.add_argument("--classes", default=",".join(CLASSES), help=f"comma-separated subset of {list(CLASSES)}")
    parser.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument(
        "--stratified", action="store_true",
        help=f"draw β by the strata of TAIL_STRATA ({len(TAIL_STRATA) - 1}; --runs a multiple of twice that)",
    )  # fmt: skip
    parser.add_argument(
        "--drag-check", action="store_true", help="only compare true and modelled impact shifts for β ≠ β₀ (seconds)"
    )
    args = parser.parse_args()
    classes = [c.strip() for c in args.classes.split(",") if c.strip()]
    unknown = [c for c in classes if c not in CLASSES]
    if unknown:
        parser.error(f"unknown classes {unknown}; choose from {list(CLASSES)}")
    if args.drag_check:
        print("| class | t_go | η | β | drag offset at β₀ | true shift | model shift | true / model |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for cls in classes:
            for t_go in (150.0, 60.0):
                for eta, drag, true, model in drag_check(cls, t_go):
                    beta = ASSUMED_BETA * math.exp(BETA_SIGMA_LN * eta)
                    print(f"| {cls} | {t_go:.0f} s | {eta:+.0f} | {beta:.0f} | {drag:.1f} m | {true:.1f} m "
                          f"| {model:.1f} m | {true / model:.2f} |")  # fmt: skip
        return
    rows = []
    for cls in classes:

        def progress(done: int, total: int, cls: str = cls) -> None:
            if done == total or done % 10 == 0:
                print(f"{cls}: {done}/{total} runs", file=sys.stderr, flush=True)

        r = evaluate(cls, args.runs, args.seed, args.jobs, progress, strata=TAIL_STRATA if args.stratified else 0)
        print(
            f"{cls}: {r['predictions']} predictions, {100 * r['rate']:.1f} % inside, {r['wall_s']:.0f} s; "
            f"runs with more than one track in the coast: {r['multi_track_runs']}; "
            f"predictions without impact: {r['no_impact']}",
            file=sys.stderr,
            flush=True,
        )
        rows.append(r)
    print(f"seed {args.seed}, {args.runs} runs per class, {SAMPLES} samples per prediction, "
          f"χ²(2) 95 % = {CHI2_2_95:.3f}\n")  # fmt: skip
    print(_table(rows))


if __name__ == "__main__":
    main()
