"""Does a stated 95 % region hold the truth 95 % of the time?  Monte Carlo flights across the envelope.

Run::

    .venv/bin/python benchmarks/coverage.py                      # 200 flights, --jobs 2 (21–41 min on 2 cores)
    .venv/bin/python benchmarks/coverage.py --flights 24 --out /tmp/coverage   # a quick look; resumes

Each flight is one scenario of the default theater (``korea-japan``: every partner's radars with their
registration biases drawn from their priors, latencies, false alarms; the US infrared satellites), run end
to end by :func:`mwx.exercise.run.run_scenario` with its own seed: tracking, exchange, fusion, warnings,
launch event reports.  The flights are drawn (seeded) over the envelope: four classes by ground range —
SRBM 300–950 km, MRBM 1000–2900 km, IRBM 3000–5400 km, ICBM 5600–12000 km — each flown depressed (half the
minimum-energy apogee, at least 40 km), on the minimum-energy arc, and lofted (2.5 times it), from seven
launch areas at azimuths 45–120°, at any time of day (the infrared satellites' view changes with it), the
re-entry body and the spent stages with ballistic coefficients drawn from the assessment's priors (flown
at the priors' medians alone, no flight would realise the spread the impact ellipses allow for).

Measured per flight, against the truth (``truth.json``'s objects):

* every launch event report and each of its updates (every partner and the fused picture): whether the
  true impact point lies in its 95 % impact ellipse, the true launch point in its 95 % launch ellipse, and
  the launch point error (the 5 km bar for launches whose boost the infrared satellites saw);
* every published track state (partners and fused): its NEES against the object it follows
  (:func:`mwx.exercise.metrics.nearest_nees`) and whether its 95 % region (position and velocity) holds it;
* the alerts: threatened areas missed, false alerts, alerts per threat and area, level changes.

Printed: coverage per class and shape and overall, with a run-bootstrap 95 % interval (the reports of one
flight share its registration biases and its tracks, so flights, not reports, are the independent draws).
The bars (exit status 1 when one is missed, ``benchmarks/_bars.py``), from the trustworthy-warnings issue:
impact and launch 95 % regions hold the truth 90–98 % of the time per class and overall; partner and fused
track regions too, or more (a conservative covariance is stated as such); launch points within 5 km where
the boost was seen by infrared; no threatened area missed, no false alert, one alert per threatened area per
threat, at most two level changes per alert.  An alert for an area that no object of the flight entered but
one passed within ``NEAR_MISS_KM`` of (the alert areas' granularity) is a near miss, listed, not false.
Results per flight are kept in ``--out`` (JSON), so a run that stops resumes where it was.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from _bars import Bars

from mwx.assess import drag
from mwx.errors import UnreachableFlight
from mwx.exercise import metrics
from mwx.exercise.evaluation import NEAR_MISS_KM, ellipse_miss, ground_point
from mwx.exercise.outputs import alerts_json, events_json, metrics_json
from mwx.exercise.run import run_scenario
from mwx.sim.flight import minimum_energy_apogee
from mwx.sim.scenario import parse_scenario

CLASSES = {"SRBM": (300.0, 950.0), "MRBM": (1000.0, 2900.0), "IRBM": (3000.0, 5400.0), "ICBM": (5600.0, 12000.0)}
SHAPES = {"depressed": 0.5, "minimum-energy": 1.0, "lofted": 2.5}
SITES = [(40.61, 126.43), (39.20, 125.67), (39.17, 127.48), (40.00, 127.40), (39.03, 125.75), (38.50, 125.20),
         (40.00, 128.20)]  # fmt: skip
CHI2_6_95 = 12.591587243743977
ALERT_FIGURES = ("issued", "false", "missed", "most_alerts_per_threatened_area", "most_alerts_per_threat_and_area",
                 "most_level_changes_per_alert", "most_changes_per_alert")  # fmt: skip
BAND = (0.90, 0.98)
SCENARIO = """\
name: coverage-{index}
theater: korea-japan
seed: {seed}
launches:
  - {{id: F{index}, time: {time}, site: {{lat: {lat}, lon: {lon}}}, azimuth_deg: {azimuth:.1f}, apogee_km: {apogee:.1f},
     range_km: {range:.1f}, reentry_beta_kg_m2: {reentry_beta:.0f}, stage_beta_kg_m2: {stage_beta:.0f}}}
"""


def flights(n: int, seed: int) -> list[dict]:
    """``n`` flights drawn over the envelope, classes and shapes in turn (so every cell gets its share).

    Each flight's re-entry body and spent stages get ballistic coefficients drawn from the assessment's
    priors (:mod:`mwx.assess.drag`), from a generator of their own so the flights are those drawn before.
    """
    rng = np.random.default_rng(seed)
    bodies = np.random.default_rng((seed, 1))
    body = drag.REENTRY_BODY[0]
    cells = [(c, s) for c in CLASSES for s in SHAPES]
    out = []
    for index in range(n):
        cls, shape = cells[index % len(cells)]
        lo, hi = CLASSES[cls]
        range_km = float(rng.uniform(lo, hi))
        apogee = max(SHAPES[shape] * minimum_energy_apogee(range_km * 1e3) / 1e3, 40.0)
        lat, lon = SITES[int(rng.integers(len(SITES)))]
        when = datetime(2023, 1, 1, tzinfo=UTC).timestamp() + float(rng.uniform(0.0, 365.0 * 86400.0))
        out.append(
            {
                "index": index, "class": cls, "shape": shape, "seed": int(rng.integers(1, 2**31)),
                "time": datetime.fromtimestamp(round(when), UTC).isoformat().replace("+00:00", "Z"),
                "lat": lat, "lon": lon, "azimuth": float(rng.uniform(45.0, 120.0)), "apogee": apogee, "range": range_km,
                "reentry_beta": float(body.beta * np.exp(body.sigma_ln * bodies.standard_normal())),
                "stage_beta": float(drag.STAGE_BETA * np.exp(drag.STAGE_SIGMA_LN * bodies.standard_normal())),
            }
        )  # fmt: skip
    return out


def evaluate(flight: dict) -> dict:
    """Run one flight and return what it measured (see the module doc)."""
    started = time.perf_counter()
    try:
        result = run_scenario(parse_scenario(SCENARIO.format(**flight), f"coverage-{flight['index']}"))
    except UnreachableFlight as err:  # the solver found no flight for this brief: counted, not measured
        return {**flight, "skipped": err.one_line()}
    events, alerts = events_json(result), alerts_json(result)
    figures = metrics_json(result, events, alerts)
    reports, launch_points = [], []
    for truth, launch in zip(result.truth, figures.launches, strict=True):
        site = (math.degrees(truth.trajectory.site[0]), math.degrees(truth.trajectory.site[1]))
        ends = {o.id: ground_point(o) for o in truth.objects}
        for partner, per in launch.per_partner.items():
            if not per.over_time:
                continue
            # The event metrics.json judges (the partner's last), for the misses in units of the ellipse.
            mine = [e for e in events.events if e.partner == partner and e.truth_id == launch.truth_id]
            event = max(mine, key=lambda e: e.estimated_at)
            rv = ends[f"{launch.truth_id}/RV"]
            impact_at = ends.get(event.truth_object, rv) if event.truth_object is not None else rv
            for u, judged in zip(event.updates, per.over_time, strict=True):
                reports.append({"partner": partner, "impact": judged.inside_ellipse_95,
                                "launch": judged.inside_launch_ellipse_95, "object": event.truth_object,
                                "after_s": judged.after_first_detection_s,
                                "impact_error_km": judged.impact_error_km,
                                "impact_miss": round(ellipse_miss(u, impact_at), 3),
                                "impact_axes_km": [u.impact_ellipse_95.semi_major_km,
                                                   u.impact_ellipse_95.semi_minor_km],
                                "launch_miss": round(ellipse_miss(u, site, "launch"), 3),
                                "launch_method": u.launch_method,
                                "launch_axes_km": [u.launch_ellipse_95.semi_major_km,
                                                   u.launch_ellipse_95.semi_minor_km]})  # fmt: skip
            if per.launch_point_error_km is not None:
                # The US holds the infrared satellites; the fused picture has their tracks too.
                launch_points.append({"partner": partner, "error_km": per.launch_point_error_km,
                                      "boost_seen": event.launch_method == "boost"
                                      and partner in ("US", "fused")})  # fmt: skip
    objects = [o for launch in result.truth for o in launch.objects]
    tracks = defaultdict(list)
    for partner in sorted({r.partner for r in result.log.rows}):
        rows = [r for r in result.log.rows if r.partner == partner]
        t = np.array([r.time for r in rows])
        nees = metrics.nearest_nees(np.array([r.x for r in rows]), np.array([r.P for r in rows]),
                                    np.stack([o.states_at(t) for o in objects]))[0]  # fmt: skip
        nees = nees[np.isfinite(nees)]
        tracks[partner] = [float(np.median(nees)), float(np.mean(nees <= CHI2_6_95)), int(nees.size)]
    a = figures.alerts
    return {
        **flight,
        "wall_s": time.perf_counter() - started,
        "reports": reports,
        "launch_points": launch_points,
        "tracks": tracks,
        "alerts": {k: getattr(a, k) for k in ALERT_FIGURES},
        "near_misses": [list(n) for n in a.near_misses],
    }


def _run(args: tuple[dict, Path]) -> dict:
    flight, out = args
    path = out / f"flight-{flight['index']:03d}.json"
    if path.exists():
        return json.loads(path.read_text())
    found = evaluate(flight)
    path.write_text(json.dumps(found))
    return found


def bootstrap(per_flight: list[list[bool]], rng: np.random.Generator, draws: int = 2000) -> tuple[float, float]:
    """95 % interval of the pooled share, resampling whole flights."""
    n = len(per_flight)
    hits = np.array([sum(f) for f in per_flight], float)
    counts = np.array([len(f) for f in per_flight], float)
    picks = rng.integers(0, n, (draws, n))
    shares = hits[picks].sum(axis=1) / np.maximum(counts[picks].sum(axis=1), 1.0)
    return float(np.percentile(shares, 2.5)), float(np.percentile(shares, 97.5))


def coverage_rows(results: list[dict], key: str, rng: np.random.Generator) -> list[tuple[str, int, float, tuple]]:
    """(group, reports, share, bootstrap interval) of one kind of region, per class, per shape and overall."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in results:
        groups[r["class"]].append(r)
        groups[r["shape"]].append(r)
        groups["all"].append(r)
    out = []
    for name in [*CLASSES, *SHAPES, "all"]:
        per_flight = [[rep[key] for rep in r["reports"]] for r in groups.get(name, [])]
        per_flight = [f for f in per_flight if f]
        n = sum(len(f) for f in per_flight)
        if n:
            out.append((name, n, sum(sum(f) for f in per_flight) / n, bootstrap(per_flight, rng)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flights", type=int, default=200)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("coverage-runs"), help="per-flight results (resumable)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    todo = flights(args.flights, args.seed)
    started = time.perf_counter()
    results = []
    with multiprocessing.Pool(args.jobs) as pool:
        for k, found in enumerate(pool.imap_unordered(_run, [(f, args.out) for f in todo]), start=1):
            results.append(found)
            print(f"[{k}/{len(todo)}] flight {found['index']} {found['class']} {found['shape']} "
                  f"{found['range']:.0f} km: {found.get('wall_s', 0.0):.0f} s", flush=True)  # fmt: skip
    skipped = [r for r in results if "skipped" in r]
    results = sorted((r for r in results if "skipped" not in r), key=lambda r: r["index"])
    for r in skipped:
        print(f"flight {r['index']} not flown: {r['skipped']}")
    rng = np.random.default_rng(0)
    bars = Bars()
    print(f"\n{len(results)} flights in {time.perf_counter() - started:.0f} s ({args.jobs} processes)")
    for key, label in (("impact", "95 % impact ellipse"), ("launch", "95 % launch ellipse")):
        print(f"\n{label}: share of reports and updates holding the truth (run-bootstrap 95 % interval)")
        for name, n, share, (lo, hi) in coverage_rows(results, key, rng):
            print(f"  {name:15s} {n:6d}  {100 * share:5.1f} %  [{100 * lo:5.1f}, {100 * hi:5.1f}]")
            if name in CLASSES or name == "all":
                bars.check(f"{label} {name}: 90-98 %", BAND[0] <= share <= BAND[1], f"{100 * share:.1f} % of {n}")
    print(
        "\n95 % impact ellipse by what the reported track follows at its end (the warhead-bearing body or a"
        "\nspent stage; body or stage is weighed by the track's energy loss in the air, mwx.assess.drag):"
    )
    for name in CLASSES:
        cells = []
        for kind in ("RV", "S"):
            reps = [rep for r in results if r["class"] == name for rep in r["reports"]
                    if (rep["object"] or "").split("/")[-1].startswith(kind)]  # fmt: skip
            share = f"{100 * sum(rep['impact'] for rep in reps) / len(reps):5.1f} %" if reps else "    –  "
            cells.append(f"{'warhead' if kind == 'RV' else 'stage'} {share} of {len(reps):4d}")
        print(f"  {name:15s} " + "   ".join(cells))
    print("\ntrack states: median NEES (χ²(6) median 5.35) and share holding the truth in their 95 % region")
    for partner in ("KR", "JP", "US", "fused"):
        rows = [r["tracks"][partner] for r in results if partner in r["tracks"]]
        n = sum(x[2] for x in rows)
        share = sum(x[1] * x[2] for x in rows) / max(n, 1)
        median = float(np.median([x[0] for x in rows])) if rows else math.nan
        print(f"  {partner:6s} states {n:8d}  median NEES (of flights) {median:5.2f}  "
              f"in 95 % region {100 * share:5.1f} %")  # fmt: skip
        bars.check(f"{partner} track 95 % regions hold the truth 90 % or more", share >= BAND[0],
                   f"{100 * share:.1f} %")  # fmt: skip
    seen = [lp["error_km"] for r in results for lp in r["launch_points"] if lp["boost_seen"]]
    worst = max(seen, default=math.nan)
    print(f"\nlaunch point, boost seen by infrared (US and fused, final reports): {len(seen)} reports, "
          f"worst {worst:.1f} km, median {np.median(seen) if seen else math.nan:.1f} km")  # fmt: skip
    bars.check("launch point within 5 km where infrared saw the boost", worst <= 5.0, f"worst {worst:.1f} km")
    totals = {k: sum(r["alerts"][k] for r in results) for k in ALERT_FIGURES[:3]}
    most = {k: max(r["alerts"][k] for r in results) for k in ALERT_FIGURES[3:]}
    print(f"\nalerts: {totals}, {most}")
    near = [(r["index"], *n) for r in results for n in r["near_misses"]]
    print(
        f"near misses (alerts for an area the flight passed within {NEAR_MISS_KM:g} km of; neither false nor "
        f"needed): {len(near)}" + "".join(f"\n  flight {i}: {p} {name}, {km} km" for i, _, p, name, km in near)
    )
    bars.check("no threatened area missed", totals["missed"] == 0, f"{totals['missed']} missed")
    bars.check("no false alert", totals["false"] == 0, f"{totals['false']} false")
    bars.check("one alert per threatened area per threat", most["most_alerts_per_threatened_area"] <= 1,
               f"at most {most['most_alerts_per_threatened_area']}")  # fmt: skip
    twice = [r["index"] for r in results if r["alerts"]["most_alerts_per_threat_and_area"] > 1]
    print(f"areas warned more than once by one threat (threatened or not): flights {twice or 'none'}")
    bars.check("at most two level changes per alert", most["most_level_changes_per_alert"] <= 2,
               f"at most {most['most_level_changes_per_alert']}")  # fmt: skip
    bars.finish()


if __name__ == "__main__":
    main()
