"""Fused against single-partner tracks on the default theater: position RMSE per flight phase, and NEES.

Run::

    .venv/bin/python benchmarks/fusion_gain.py                 # seeds 1–5, every method, ~4 min
    .venv/bin/python benchmarks/fusion_gain.py --seeds 1 2 --methods split --cache /tmp/fusion-runs

Monte Carlo over the built-in demo scenario (``mwx demo``: an IRBM with its spent stage and a pair of
MRBMs, seen by the KR, JP and US radars and the US infrared satellites), the scenario's seed varied: it
draws the sensors' noise, detections, false alarms and registration biases.  Each seed runs
:func:`mwx.exercise.run.run_scenario` once; the partners' published track reports (``result.log``,
in publication order, which is what the ``fused`` observer receives) are then fed to a fresh
:class:`mwx.fuse.fusion.FusionCenter` per fusion method, offline.

Paired comparison.  For every partner report whose object (the nearest truth object within 10 km) is
held by two or more partners at that time (each with a report within ±2 s), the partner's position
error is paired with the error of the fused state of the system the report went into, at the same
instant, just after it (against the fused state's own nearest object).  So each partner's RMSE is
set against the fused RMSE on exactly its instants: "fused better than any single partner" is the
fused column below every partner's, in particular the best one's.  Phases of the object: *boost* while
its motor burns, *re-entry* descending below 100 km, *coast* otherwise.

Consistency.  Fused NEES (position and velocity, 6 dof) of the same samples, each against the truth object
the fused state statistically follows (:func:`mwx.exercise.metrics.nearest_nees`, as ``metrics.json``):
mean and median, and
the Bar-Shalom test (:func:`mwx.exercise.metrics.chi2_bounds`): per object and 5 s bin of flight time,
the NEES averaged over the samples of each seed, then over the N seeds with samples there; the share
of bins inside the 95 % interval [χ²(6N; 0.025)/N, χ²(6N; 0.975)/N], below it (conservative: the
covariance larger than the error) and above it (optimistic).

``--bias-km D`` (default 2) adds a run where JP's reported positions are all offset by D km (one fixed
ECEF direction), as a misregistered partner's would be, and prints the fused error at KR's and US's
instants (first method given) for clean and offset reports, against the information-weighted average of
all partners' latest reports (naive fusion, had the offset partner been associated).

The bars, on the default method ``bounded`` over the seeds run (exit status 1 when one is missed,
``benchmarks/_bars.py``): in every phase the fused RMSE below every partner's at that partner's
instants, and at most 2.5 % of the 5 s bins with the fused NEES above the 95 % interval (the share a
consistent estimator would put above its upper 97.5 % point: more means the fused covariance is
optimistic).  The NEES bins need two or more seeds.

The design and the choice of method: the docstring of :mod:`mwx.fuse.fusion`.
"""

from __future__ import annotations

import argparse
import pickle
import time
from collections import defaultdict
from importlib import resources
from pathlib import Path

import msgspec
import numpy as np
from _bars import Bars

from mwx.exchange.messages import TrackReport
from mwx.exercise.metrics import chi2_bounds, nearest_nees
from mwx.exercise.run import FUSED, run_scenario
from mwx.fuse import motion
from mwx.fuse.fusion import FusionCenter
from mwx.fuse.intersection import information_fusion
from mwx.geo import wgs84
from mwx.sim.scenario import load_scenario

PARTNERS = ("KR", "JP", "US")
PHASES = ("boost", "coast", "reentry")
MATCH_M = 10e3
HOLD_S = 2.0
BIN_S = 5.0
METHODS = {
    "bounded": {"method": "bounded"},
    "split": {"method": "split"},
    "ci": {"method": "ci"},
    "ici": {"method": "ici"},
    "independent": {"method": "independent"},
    "independent, no learning": {"method": "independent", "learn_errors": False},
}


def simulate(seed: int, cache: Path | None) -> dict:
    """The demo scenario run with ``seed``: partner rows, first detections and truth objects (cached)."""
    path = cache / f"demo-seed{seed}.pkl" if cache else None
    if path is not None and path.exists():
        return pickle.loads(path.read_bytes())
    scenario = load_scenario(Path(str(resources.files("mwx") / "data" / "scenarios" / "demo.yaml")))
    result = run_scenario(msgspec.structs.replace(scenario, seed=seed))
    run = {
        "rows": [r for r in result.log.rows if r[1] != FUSED],
        "fd": dict(result.log.first_detection),
        "objects": [o for launch in result.truth for o in launch.objects],
    }
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(run))
    return run


def nearest(objects: list, t: float, x: np.ndarray) -> tuple[object, np.ndarray] | None:
    """The truth object nearest to position x[:3] at t, within MATCH_M, and its state; or None."""
    best = None
    for obj in objects:
        s = obj.states_at(np.array([t]))[0]
        if np.isfinite(s[0]):
            d = float(np.linalg.norm(s[:3] - x[:3]))
            if d <= MATCH_M and (best is None or d < best[0]):
                best = (d, obj, s)
    return None if best is None else (best[1], best[2])


def phase_of(obj: object, t: float, state: np.ndarray) -> str:
    if obj.burning(np.array([t]))[0]:
        return "boost"
    descending = float(state[:3] @ state[3:]) < 0.0
    return "reentry" if descending and wgs84.ellipsoidal_height(state[None, :3])[0] < 100e3 else "coast"


def paired_samples(run: dict, offset: dict[str, np.ndarray] | None = None, **options) -> tuple[list, float]:
    """(samples, fusion wall time [s]) of one run: per report (phase, partner, obj id, flight time,
    partner squared error, fused squared error, fused NEES)."""
    objects = run["objects"]
    rows = [r._replace(x=r.x + offset.get(r.partner, 0.0)) if offset else r for r in run["rows"]]
    labels = [nearest(objects, r[0], r[3]) for r in rows]
    held: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for r, label in zip(rows, labels, strict=True):
        if label is not None:
            held[label[0].id][r[1]].append(r[0])
    held_sorted = {o: {p: np.sort(ts) for p, ts in by.items()} for o, by in held.items()}
    center = FusionCenter(FUSED, **options)
    seq: dict[str, int] = defaultdict(int)
    out, wall = [], 0.0
    for (t, p, track_id, x, P, boosting, own), label in zip(rows, labels, strict=True):
        report = TrackReport(
            sender=p,
            seq=seq[p],
            track_id=track_id,
            time=t,
            sent=t,
            state=x.tolist(),
            covariance=P.ravel().tolist(),
            first_detection=run["fd"].get((p, track_id), t),
            boosting=boosting,
            independent_covariance=None if own is None else own.ravel().tolist(),
        )
        seq[p] += 1
        started = time.perf_counter()
        system = center.ingest(report)
        fx, fp = center.fused_state(system, t)
        wall += time.perf_counter() - started
        if label is None:
            continue
        obj, truth = label
        holders = 0
        for ts in held_sorted[obj.id].values():
            i = int(np.searchsorted(ts, t))
            holders += any(abs(ts[j] - t) <= HOLD_S for j in (i - 1, i) if 0 <= j < len(ts))
        fused_label = nearest(objects, t, fx)
        if holders < 2 or fused_label is None:
            continue
        e, ef = x - truth, fx - fused_label[1]
        # NEES against the object the fused state statistically follows (mwx.exercise.metrics.nearest_nees):
        # before a body and its stage resolve, a track follows their centroid, nearer the bright stage.
        states = np.stack([o.states_at(np.array([t])) for o in objects])
        nees = float(nearest_nees(fx[None], fp[None], states)[0][0])
        out.append((phase_of(obj, t, truth), p, obj.id, t - obj.t[0], e[:3] @ e[:3], ef[:3] @ ef[:3], nees))
    return out, wall


def averaged_samples(run: dict, offset: dict[str, np.ndarray]) -> list:
    """Per report, as :func:`paired_samples` (without NEES): the error of the information-weighted average of
    every partner's latest report of the same object (within ±2 s), predicted to the time — naive fusion."""
    latest: dict[str, dict[str, tuple]] = defaultdict(dict)
    out = []
    for t, p, _, x, P, _, _ in run["rows"]:
        x = x + offset.get(p, 0.0)
        label = nearest(run["objects"], t, x - offset.get(p, 0.0))
        if label is None:
            continue
        obj, truth = label
        latest[obj.id][p] = (t, x, P)
        near = [v for v in latest[obj.id].values() if abs(t - v[0]) <= HOLD_S]
        if len(near) < 2:
            continue
        xs, ps = motion.predict(
            np.array([v[1] for v in near]), np.array([v[2] for v in near]), np.array([t - v[0] for v in near])
        )
        e = information_fusion(xs, ps)[0] - truth
        out.append((phase_of(obj, t, truth), p, obj.id, t - obj.t[0], 0.0, float(e[:3] @ e[:3]), 0.0))
    return out


def rmse(values: list[float]) -> float:
    return float(np.sqrt(np.mean(values))) if values else float("nan")


def nees_bins(per_seed: dict[int, list], phase: str) -> tuple[int, float, float, float]:
    """(bins, share inside, below, above the 95 % interval) of the seed-averaged fused NEES per 5 s bin."""
    by_bin: dict[tuple, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for seed, samples in per_seed.items():
        for ph, _, obj, age, _, _, nees in samples:
            if ph == phase:
                by_bin[(obj, int(age // BIN_S))][seed].append(nees)
    counts = np.zeros(3)
    for seeds in by_bin.values():
        if len(seeds) < 2:
            continue
        low, high = chi2_bounds(6, len(seeds))
        mean = float(np.mean([np.mean(v) for v in seeds.values()]))
        counts += [low <= mean <= high, mean < low, mean > high]
    n = int(counts.sum())
    return (n, *(counts / max(n, 1)))


def table(name: str, per_seed: dict[int, list], wall: float) -> None:
    samples = [s for v in per_seed.values() for s in v]
    print(f"\n== {name}   (fusion {wall:.2f} s per run: ingest + fused state at every report)")
    print(f"{'phase':8s} {'partner':7s} {'n':>6s} {'partner RMSE m':>15s} {'fused RMSE m':>13s}")
    for phase in PHASES:
        for p in PARTNERS:
            sel = [s for s in samples if s[0] == phase and s[1] == p]
            if sel:
                own, fused = rmse([s[4] for s in sel]), rmse([s[5] for s in sel])
                print(f"{phase:8s} {p:7s} {len(sel):6d} {own:15.1f} {fused:13.1f}")
    heads = ("fused NEES mean", "median", "5 s bins", "inside", "below", "above")
    print(f"{'phase':8s} " + " ".join(f"{h:>{w}s}" for h, w in zip(heads, (16, 7, 9, 7, 6, 6), strict=True)))
    for phase in PHASES:
        nees = [s[6] for s in samples if s[0] == phase]
        bins, inside, below, above = nees_bins(per_seed, phase)
        print(
            f"{phase:8s} {np.mean(nees):16.2f} {np.median(nees):7.2f} {bins:9d} {inside:7.2f} {below:6.2f} {above:6.2f}"
        )


def check_bars(bars: Bars, per_seed: dict[int, list]) -> None:
    """The fusion issue's bars on one method's samples (see the module docstring)."""
    samples = [s for v in per_seed.values() for s in v]
    for phase in PHASES:
        for p in PARTNERS:
            sel = [s for s in samples if s[0] == phase and s[1] == p]
            if sel:
                own, fused = rmse([s[4] for s in sel]), rmse([s[5] for s in sel])
                bars.check(f"{phase}: fused RMSE below {p}'s at {p}'s instants", fused < own,
                           f"fused {fused:.1f} m, {p} {own:.1f} m ({len(sel)} reports)")  # fmt: skip
        bins, _, _, above = nees_bins(per_seed, phase)
        bars.check(f"{phase}: at most 2.5 % of the fused NEES bins above the 95 % interval", above <= 0.025,
                   f"{100 * above:.1f} % of {bins} bins")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--cache", type=Path, default=None, help="folder to keep the simulated runs in")
    parser.add_argument("--bias-km", type=float, default=2.0, help="offset of JP's reports in the bias run (0: none)")
    args = parser.parse_args()
    started = time.perf_counter()
    runs = {seed: simulate(seed, args.cache) for seed in args.seeds}
    print(f"seeds {args.seeds}: simulated in {time.perf_counter() - started:.0f} s")
    lo, hi = chi2_bounds(6, len(args.seeds))
    print(f"fused NEES 95 % interval for {len(args.seeds)} seeds (6 dof): [{lo:.2f}, {hi:.2f}]")
    bars = Bars()
    for name in args.methods:
        per_seed, wall = {}, 0.0
        for seed, run in runs.items():
            per_seed[seed], w = paired_samples(run, **METHODS[name])
            wall += w / len(runs)
        table(name, per_seed, wall)
        if name == "bounded":
            print("\nbars (method bounded):")
            check_bars(bars, per_seed)
    if args.bias_km:
        direction = np.array([2.0, -1.0, 1.5]) / np.linalg.norm([2.0, -1.0, 1.5])
        offset = {"JP": np.concatenate([args.bias_km * 1e3 * direction, np.zeros(3)])}
        print(f"\n== JP's reports offset by {args.bias_km:g} km: fused RMSE [m] at KR's and US's instants")
        print(f"{'phase':8s} {'clean':>8s} {'offset':>8s} {'offset, averaged':>17s}")
        results = {
            "clean": [s for run in runs.values() for s in paired_samples(run, **METHODS[args.methods[0]])[0]],
            "offset": [s for run in runs.values() for s in paired_samples(run, offset, **METHODS[args.methods[0]])[0]],
            "averaged": [s for run in runs.values() for s in averaged_samples(run, offset)],
        }
        for phase in PHASES:
            cells = [rmse([s[5] for s in results[k] if s[0] == phase and s[1] != "JP"]) for k in results]
            print(f"{phase:8s} {cells[0]:8.1f} {cells[1]:8.1f} {cells[2]:17.1f}")
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    if "bounded" not in args.methods:
        print("no bars checked: they are on the default method, bounded")
    bars.finish()


if __name__ == "__main__":
    main()
