"""Calibration of the reachable impact region of manoeuvring flights (pull-up, glide), ballistic ones the control.

Run::

    .venv/bin/python benchmarks/manoeuvre_calibration.py                  # 80 flights per family, --jobs 2
    .venv/bin/python benchmarks/manoeuvre_calibration.py --flights 0 --pipeline 8   # 8 per family end to end
    .venv/bin/python benchmarks/manoeuvre_calibration.py --speed          # cost per prediction only

The assessment predicts the impact of a track that can manoeuvre with the lift it may still fly
(:mod:`mwx.assess.reach`): its 95 % region should hold the true impact point 90–98 % of the time for
pull-up and glide flights, and a ballistic flight of the same family must not lose its calibration.

Flights (seeded; each family's draws are its own, so ``--flights`` only adds flights):

* **site and aim**: one of six North Korean launch areas (Sunan, Samsok, Kusong, Hodo peninsula,
  Hamhung, Sinpo) at an azimuth of 50–100°, towards the Sea of Japan;
* **pull-up** (the KN-23 family): apogee 40–70 km, range 350–750 km; ``PullUp`` with load factor
  1–3 g, L/D 1–2.5, start 35–55 km, dive 10–20 km (the scenario defaults 2 g, 1.5, 45 km, 15 km inside);
* **glide** (Hwasong-8, Hwasong-16B): apogee 60–110 km, range 600–1100 km; ``Glide`` with load factor
  1–3 g, L/D 1–2.5, turn −30…+30° (defaults 3 g, 2.5, 0°);
* **ballistic** control: apogee 40–110 km, range 350–1100 km, no profile;
* every range, apogee and profile figure uniform in its interval; the re-entry body's (a glide
  vehicle's) ballistic coefficient log-normal about 8000 kg/m² with σ 0.3 of ln β, the assessment's own
  prior (:mod:`mwx.assess.drag`), so a calibrated prediction covers the truth 95 % of the time.
  These spreads are the prior of :class:`mwx.assess.reach.LiftPrior`: the kinds one third each
  (``--flights`` per family), so the benchmark draws from the prior it tests.

A brief no flight of its family reaches is redrawn (a glide too slow for its range, say).

Predictions (the shortcut, every flight): the true flight's state at the prediction time with an error
drawn from a tracker-like covariance (:data:`SIGMA_POSITION_M`, :data:`SIGMA_VELOCITY_MPS` per axis: the
order of the fused tracks' reported σ in the end-to-end runs, printed there), and a history of such states
every 5 s from 15 s after burnout (the track's settled coasting states: its highest point and its
evidence of lift), each with its own error; :func:`mwx.assess.reach.predict` with the re-entry body's
prior and 1000 samples.  Times: 120, 180, 240 and 300 s after launch, and by the flight's phase: at the
lift's start (a pull-up's start; a glide's burnout + 15 s; the control's descent through 45 km, the
default start), midway through the lift (the control: midway from there to the ground) and after it (a
pull-up's dive + 20 s, when the track's 10–20 s evidence window lies past it; the control's descent
through 15 km; a glide lifts to the ground).  A time counts when the flight is coasting (15 s after
burnout) and still 10 s from the ground.  Covered: the true impact point inside the stated 95 % ellipse.
Area: π a b of the ellipse.

End to end (``--pipeline N``: the first N flights of each family): the flight as a one-launch scenario of
the default theater (``separating_stages: 0``), :func:`mwx.exercise.run.run_scenario` (sensors, trackers,
exchange, fusion, assessment), and every launch-event report and update of every partner and the fused
picture judged against the true impact point, by the flight's phase at the report's state.

Printed: coverage per family and time with its Wilson 95 % interval (flights are independent: one
prediction per flight and time), the median ellipse area [km²], the median ballistic share of the pool,
and pooled over the times a run-bootstrap interval.  ``--speed``: wall time per prediction, today's
ballistic one (``predict_mixture``) against the reach, for a manoeuvre-capable track and an ICBM's.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402

import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

from mwx.assess import distribution, drag, reach  # noqa: E402
from mwx.errors import UnreachableFlight  # noqa: E402
from mwx.exercise.metrics import wilson  # noqa: E402
from mwx.geo import wgs84  # noqa: E402
from mwx.geo.hermite import interpolate_states  # noqa: E402
from mwx.sim.flight import FlightBrief, Trajectory, solve_flight  # noqa: E402
from mwx.sim.lift import G0, GlideProfile, PullUpProfile  # noqa: E402

FAMILIES = ("pullup", "glide", "ballistic")
SITES = {
    "Sunan": (39.20, 125.67),
    "Samsok": (39.112, 125.998),
    "Kusong": (39.98, 125.24),
    "Hodo": (39.40167, 127.5369),
    "Hamhung": (39.92, 127.54),
    "Sinpo": (40.03, 128.18),
}
AZIMUTH_DEG = (50.0, 100.0)
#: Per family: apogee [km] and range [km] intervals.
BRIEFS = {
    "pullup": ((40.0, 70.0), (350.0, 750.0)),
    "glide": ((60.0, 110.0), (600.0, 1100.0)),
    "ballistic": ((40.0, 110.0), (350.0, 1100.0)),
}
PRIOR = reach.PRIOR
BODY = drag.REENTRY_BODY[0]
SIGMA_POSITION_M = 60.0
SIGMA_VELOCITY_MPS = 4.0
SETTLE_S = 15.0  # s after burnout before the first prediction (and the first history state)
HISTORY_STEP_S = 5.0
FIXED_S = (120.0, 180.0, 240.0, 300.0)
PHASES = ("lift start", "mid-lift", "after lift")
SAMPLES = 1000
AFTER_S = 20.0  # s after a pull-up's dive: the track's evidence window (10–20 s) then lies past it


def draw(family: str, index: int, seed: int) -> tuple[dict, Trajectory]:
    """Flight ``index`` of ``family``: its brief's figures and its solved trajectory (redrawn until one flies)."""
    fam = FAMILIES.index(family)
    for attempt in range(50):
        rng = np.random.default_rng([seed, fam, index, attempt])
        site = list(SITES)[int(rng.integers(len(SITES)))]
        (a0, a1), (r0, r1) = BRIEFS[family]
        u = rng.random(8)
        beta = float(BODY.beta * math.exp(BODY.sigma_ln * rng.standard_normal()))
        flight = {
            "family": family,
            "index": index,
            "site": site,
            "azimuth_deg": float(np.interp(u[0], [0, 1], AZIMUTH_DEG)),
            "apogee_km": a0 + (a1 - a0) * u[1],
            "range_km": r0 + (r1 - r0) * u[2],
            "beta": beta,
            "load_g": float(np.interp(u[3], [0, 1], PRIOR.load_g)),
            "lift_to_drag": float(np.interp(u[4], [0, 1], PRIOR.lift_to_drag)),
            "start_km": float(np.interp(u[5], [0, 1], PRIOR.start_alt)) / 1e3,
            "dive_km": float(np.interp(u[6], [0, 1], PRIOR.dive_alt)) / 1e3,
            "turn_deg": math.degrees(float(np.interp(u[7], [0, 1], PRIOR.turn))),
            "attempt": attempt,
        }
        profile: PullUpProfile | GlideProfile | None = None
        if family == "pullup":
            profile = PullUpProfile(
                flight["start_km"] * 1e3, flight["dive_km"] * 1e3, flight["lift_to_drag"], flight["load_g"] * G0
            )
        elif family == "glide":
            profile = GlideProfile(
                flight["lift_to_drag"], flight["load_g"] * G0, beta, math.radians(flight["turn_deg"])
            )
        lat, lon = SITES[site]
        brief = FlightBrief.along_azimuth(
            math.radians(lat),
            math.radians(lon),
            math.radians(flight["azimuth_deg"]),
            flight["range_km"] * 1e3,
            flight["apogee_km"] * 1e3,
            reentry_beta=beta,
            profile=profile,
        )
        try:
            return flight, solve_flight(brief)
        except UnreachableFlight:
            continue
    raise RuntimeError(f"no {family} flight {index} flies")


def _crossing_down(traj: Trajectory, alt: float) -> float:
    """Seconds after launch the flight comes down through ``alt`` [m] for the last time (NaN if never)."""
    h = wgs84.ellipsoidal_height(traj.ecef[:, :3])
    above = h >= alt
    k = np.flatnonzero(above[:-1] & ~above[1:])
    if k.size == 0:
        return math.nan
    k = int(k[-1])
    return float(np.interp(alt, [h[k + 1], h[k]], [traj.t[k + 1], traj.t[k]]))


def times(family: str, traj: Trajectory) -> dict[str, float]:
    """Prediction times [s after launch] by label (module docstring); those the flight does not allow left out."""
    if family == "pullup":
        start, end = traj.lift_start_t, traj.lift_end_t
        after = end + AFTER_S
    elif family == "glide":
        start, end, after = traj.burnout_t + SETTLE_S, traj.impact_t, math.nan
    else:
        start, end = _crossing_down(traj, 45e3), traj.impact_t
        after = _crossing_down(traj, 15e3)
    out = {f"{s:.0f} s": s for s in FIXED_S}
    out |= {"lift start": start, "mid-lift": 0.5 * (start + end), "after lift": after}
    return {k: v for k, v in out.items() if traj.burnout_t + SETTLE_S <= v <= traj.impact_t - 10.0}


def _covariance() -> NDArray:
    return np.diag([SIGMA_POSITION_M**2] * 3 + [SIGMA_VELOCITY_MPS**2] * 3)


def run_flight(args: tuple[str, int, int]) -> dict:
    """One flight's predictions (the shortcut): per time label, covered, area [km²], ballistic share."""
    family, index, seed = args
    flight, traj = draw(family, index, seed)
    p = _covariance()
    chol = np.linalg.cholesky(p)
    truth = (traj.impact_lat, traj.impact_lon)
    out = {}
    for label, t in times(family, traj).items():
        rng = np.random.default_rng([seed, FAMILIES.index(family), index, int(t * 10)])
        ht = np.arange(t, traj.burnout_t + SETTLE_S - 1e-9, -HISTORY_STEP_S)[::-1]
        hx = interpolate_states(traj.t, traj.ecef, ht) + rng.standard_normal((ht.size, 6)) @ chol.T
        hp = np.repeat(p[None], ht.size, axis=0)
        info: list[reach.Reach | None] = []
        dist = reach.predict(
            hx[-1:], p[None], ht[-1:], rng, drag.REENTRY_BODY, samples=SAMPLES, history=(ht, hx, hp), details=info
        )
        a, b, _ = dist.ellipse_95(0)
        inside = bool(dist.inside_95(np.array([truth[0]]), np.array([truth[1]]))[0])
        detail = info[0]
        out[label] = {
            "inside": inside,
            "area_km2": math.pi * a * b / 1e6,
            "ballistic": 1.0 if detail is None else detail.ballistic_share,
            "capable": detail is not None,
        }
    return {"flight": flight, "predictions": out}


# --- end to end ----------------------------------------------------------------------------------------------

SCENARIO = """\
name: manoeuvre-{family}-{index}
seed: {seed}
launches:
  - {{id: M, time: 2024-04-02T00:00:00Z, site: {{lat: {lat}, lon: {lon}}}, azimuth_deg: {azimuth_deg:.2f},
     apogee_km: {apogee_km:.2f}, range_km: {range_km:.2f}, separating_stages: 0{extra}}}
"""


def scenario_text(flight: dict, seed: int) -> str:
    lat, lon = SITES[flight["site"]]
    if flight["family"] == "pullup":
        extra = (
            f", reentry_beta_kg_m2: {flight['beta']:.1f}, profile: {{kind: pullup, start_alt_km: "
            f"{flight['start_km']:.3f}, dive_alt_km: {flight['dive_km']:.3f}, load_factor_g: "
            f"{flight['load_g']:.4f}, lift_to_drag: {flight['lift_to_drag']:.4f}}}"
        )
    elif flight["family"] == "glide":
        extra = (
            f", profile: {{kind: glide, beta_kg_m2: {flight['beta']:.1f}, load_factor_g: {flight['load_g']:.4f}, "
            f"lift_to_drag: {flight['lift_to_drag']:.4f}, turn_deg: {flight['turn_deg']:.3f}}}"
        )
    else:
        extra = f", reentry_beta_kg_m2: {flight['beta']:.1f}"
    return SCENARIO.format(**flight, lat=lat, lon=lon, seed=seed + flight["index"], extra=extra)


def pipeline_flight(args: tuple[str, int, int]) -> dict:
    """One flight end to end: per report (every partner's and the fused), its phase, covered, area, σ."""
    from mwx.exercise.evaluation import ellipse_miss
    from mwx.exercise.outputs import events_json
    from mwx.exercise.run import run_scenario
    from mwx.sim.scenario import parse_scenario

    family, index, seed = args
    flight, traj = draw(family, index, seed)
    try:
        result = run_scenario(parse_scenario(scenario_text(flight, seed), f"manoeuvre-{family}-{index}"))
    except Exception as err:  # a run that fails is counted and named, not measured
        return {"flight": flight, "reports": [], "sigma_r": [], "sigma_v": [], "error": f"{type(err).__name__}: {err}"}
    launch = result.truth[0]
    t0 = launch.launch_time
    truth = (math.degrees(launch.trajectory.impact_lat), math.degrees(launch.trajectory.impact_lon))
    marks = times(family, launch.trajectory)
    start, mid, after = (marks.get(k, math.nan) for k in PHASES)
    reports = []
    for event in events_json(result).events:
        for u in event.updates:
            at = u.estimated_at.timestamp() - t0
            phase = (
                "before lift"
                if not at >= start
                else "early lift"
                if not at >= mid
                else "late lift"
                if not at >= after
                else "after lift"
            )
            reports.append(
                {
                    "partner": event.partner,
                    "after_launch_s": at,
                    "phase": phase,
                    "inside": ellipse_miss(u, truth) <= 1.0,
                    "area_km2": math.pi * u.impact_ellipse_95.semi_major_km * u.impact_ellipse_95.semi_minor_km,
                }
            )
    sigma_r, sigma_v = [], []
    for (partner, _), h in result.log.histories().items():
        if partner == "fused":
            coast = (h.t > t0 + traj.burnout_t + SETTLE_S) & (h.t < t0 + traj.impact_t - 10.0)
            d = np.sqrt(np.diagonal(h.P[coast], axis1=1, axis2=2))
            sigma_r += list(d[:, :3].ravel())
            sigma_v += list(d[:, 3:6].ravel())
    return {"flight": flight, "reports": reports, "sigma_r": sigma_r, "sigma_v": sigma_v}


# --- figures -------------------------------------------------------------------------------------------------


def bootstrap(per_flight: list[list[bool]], seed: int, resamples: int = 2000) -> tuple[float, float]:
    """95 % interval of the pooled coverage with whole flights resampled (their predictions correlate)."""
    hits = np.array([sum(r) for r in per_flight], float)
    sizes = np.array([len(r) for r in per_flight], float)
    if sizes.sum() == 0:
        return math.nan, math.nan
    pick = np.random.default_rng(seed).integers(0, len(per_flight), (resamples, len(per_flight)))
    with np.errstate(invalid="ignore"):
        rates = hits[pick].sum(axis=1) / sizes[pick].sum(axis=1)
    lo, hi = np.nanpercentile(rates, [2.5, 97.5])
    return float(lo), float(hi)


def _row(family: str, label: str, rows: list[dict], interval: str = "") -> str:
    k, n = sum(r["inside"] for r in rows), len(rows)
    if not interval:
        lo, hi = wilson(k, n)
        interval = f"{100 * lo:.1f}–{100 * hi:.1f} %"
    area = np.median([r["area_km2"] for r in rows])
    share = np.median([r["ballistic"] for r in rows])
    return f"| {family} | {label} | {n} | **{100 * k / n:.1f} %** | {interval} | {area:,.0f} | {share:.2f} |"


def table(results: list[dict], seed: int) -> str:
    """Coverage per family and time, pooled per family (flights resampled), and the control split by whether
    the evidence had ruled the lift out (ballistic share ≥ 0.99: the region is the ballistic ellipse)."""
    labels = [f"{s:.0f} s" for s in FIXED_S] + list(PHASES)
    lines = [
        "| family | time | predictions | inside 95 % region | 95 % interval | median area km² | ballistic share |",
        "|---|---|---:|---:|---|---:|---:|",
    ]
    for family in (*FAMILIES, "pull-up and glide"):
        lifted = family == "pull-up and glide"
        mine = [r for r in results if r["flight"]["family"] in ((family,) if not lifted else ("pullup", "glide"))]
        if not lifted:
            for label in labels:
                rows = [r["predictions"][label] for r in mine if label in r["predictions"]]
                if rows:
                    lines.append(_row(family, label, rows))
        rows = [p for r in mine for p in r["predictions"].values()]
        if rows:
            lo, hi = bootstrap([[p["inside"] for p in r["predictions"].values()] for r in mine], seed)
            interval = f"{100 * lo:.1f}–{100 * hi:.1f} % (flights resampled)"
            lines.append(_row(family, f"**all times** ({len(mine)} flights)", rows, interval))
        if family == "ballistic":
            for label, keep in (
                ("lift ruled out", lambda p: p["ballistic"] >= 0.99),
                ("lift possible", lambda p: p["ballistic"] < 0.99),
            ):
                part = [p for p in rows if keep(p)]
                if part:
                    lines.append(_row(family, f"all times, {label}", part))
    return "\n".join(lines)


def pipeline_table(results: list[dict], seed: int) -> str:
    lines = ["| family | phase | reports | inside 95 % region | median area km² |", "|---|---|---:|---:|---:|"]
    for family in FAMILIES:
        mine = [r for r in results if r["flight"]["family"] == family]
        for phase in ("before lift", "early lift", "late lift", "after lift", "all"):
            rows = [x for r in mine for x in r["reports"] if phase in ("all", x["phase"])]
            if not rows:
                continue
            k, n = sum(x["inside"] for x in rows), len(rows)
            extra = ""
            if phase == "all":
                lo, hi = bootstrap([[x["inside"] for x in r["reports"]] for r in mine], seed)
                extra = f" ({100 * lo:.1f}–{100 * hi:.1f} %, flights resampled)"
            lines.append(
                f"| {family} ({len(mine)} flights) | {phase} | {n} | **{100 * k / n:.1f} %**{extra} "
                f"| {np.median([x['area_km2'] for x in rows]):,.0f} |"
            )
    for r in results:
        if "error" in r:
            lines.append(f"\n{r['flight']['family']} flight {r['flight']['index']} did not run: {r['error']}")
    sr = np.concatenate([r["sigma_r"] for r in results]) if results else np.empty(0)
    sv = np.concatenate([r["sigma_v"] for r in results]) if results else np.empty(0)
    if sr.size:
        lines.append(
            f"\nfused tracks in the coast, reported σ per axis: position median {np.median(sr):.0f} m, "
            f"velocity median {np.median(sv):.1f} m/s"
        )
    return "\n".join(lines)


def speed(repeats: int = 15) -> str:
    """Wall time per prediction [ms], best of ``repeats``: ``predict_mixture`` against ``reach.predict``."""
    lines = ["| track | predict_mixture (today) | reach.predict | lifted flights |", "|---|---:|---:|---:|"]
    cases = []
    for family, index in (("pullup", 0), ("glide", 0), ("ballistic", 0)):
        _, traj = draw(family, index, 0)
        for label, t in times(family, traj).items():
            if label in ("180 s", "lift start"):
                cases.append((f"{family} at {label}", traj, t))
    icbm = solve_flight(
        FlightBrief.along_azimuth(math.radians(39.2), math.radians(125.67), math.radians(90.0), 950e3, 4475e3)
    )
    cases.append(("lofted ICBM at 1200 s", icbm, 1200.0))
    p = _covariance()
    for label, traj, t in cases:
        ht = np.arange(t, traj.burnout_t + SETTLE_S - 1e-9, -HISTORY_STEP_S)[::-1]
        hx = interpolate_states(traj.t, traj.ecef, ht)
        hp = np.repeat(p[None], ht.size, axis=0)
        best = {}
        for name in ("today", "reach"):
            walls = []
            for r in range(repeats):
                rng = np.random.default_rng(r)
                start = time.perf_counter()
                if name == "today":
                    distribution.predict_mixture(hx[-1:], p[None], ht[-1:], rng, drag.REENTRY_BODY, samples=SAMPLES)
                else:
                    reach.predict(
                        hx[-1:], p[None], ht[-1:], rng, drag.REENTRY_BODY, samples=SAMPLES, history=(ht, hx, hp)
                    )
                walls.append(time.perf_counter() - start)
            best[name] = 1e3 * min(walls)
        capable = bool(reach.can_manoeuvre(hx[-1:], hx)[0])
        lines.append(
            f"| {label} | {best['today']:.1f} ms | {best['reach']:.1f} ms "
            f"({best['reach'] / best['today']:.1f}×) | {'yes' if capable else 'no'} |"
        )
    return "\n".join(lines)


def _map(fn, tasks: list, jobs: int, name: str) -> list[dict]:
    out = []
    if jobs > 1:
        with multiprocessing.Pool(jobs) as pool:
            for res in pool.imap(fn, tasks):
                out.append(res)
                if len(out) % 10 == 0 or len(out) == len(tasks):
                    print(f"{name}: {len(out)}/{len(tasks)}", file=sys.stderr, flush=True)
    else:
        for task in tasks:
            out.append(fn(task))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flights", type=int, default=80, help="flights per family (default 80; 0: only --pipeline)")
    parser.add_argument("--pipeline", type=int, default=0, help="also this many per family end to end (default 0)")
    parser.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--speed", action="store_true", help="only the cost per prediction")
    args = parser.parse_args()
    if args.speed:
        print(speed())
        return
    if args.flights:
        started = time.perf_counter()
        tasks = [(family, i, args.seed) for i in range(args.flights) for family in FAMILIES]
        results = _map(run_flight, tasks, args.jobs, "shortcut")
        redrawn = defaultdict(int)
        for r in results:
            redrawn[r["flight"]["family"]] += r["flight"]["attempt"] > 0
        print(
            f"seed {args.seed}, {args.flights} flights per family (redrawn briefs: {dict(redrawn)}), "
            f"{SAMPLES} samples, truth states with σ {SIGMA_POSITION_M:g} m / {SIGMA_VELOCITY_MPS:g} m/s, "
            f"{time.perf_counter() - started:.0f} s\n"
        )
        print(table(results, args.seed))
    if args.pipeline:
        started = time.perf_counter()
        tasks = [(family, i, args.seed) for i in range(args.pipeline) for family in FAMILIES]
        piped = _map(pipeline_flight, tasks, args.jobs, "pipeline")
        print(
            f"\nend to end: {args.pipeline} flights per family, every partner's and the fused reports, "
            f"{time.perf_counter() - started:.0f} s\n"
        )
        print(pipeline_table(piped, args.seed))


if __name__ == "__main__":
    main()
