"""Warnings on manoeuvring flights aimed near and across Korean and Japanese territory, judged against the truth.

Run: ``.venv/bin/python benchmarks/manoeuvre_warnings.py [--seeds 1,2,3] [--only P1,G1]``.

The set: KN-23-like depressed flights with a terminal pull-up (``profile: pullup``) and boost-glide flights
(``profile: glide``, some turning), from North Korean sites, aimed at South Korean land, at the waters off
its coast, into Japan's EEZ, across Honshu and at Japanese land, launched minutes apart in one scenario
per seed.  Each seed runs once (:func:`mwx.exercise.run.run_scenario`, the default theater, every partner
and the fused picture); the expected threats come from the true flights
(:func:`mwx.exercise.evaluation.judge_alerts`), never from the predictions under test.  Prints per seed and
flight the threatened areas, the missed ones and the false alerts, then the totals: the false-alert rate is
false alerts over all alerts issued.  The figures are in ``docs/benchmarks.md`` ("Warnings on manoeuvring
flights"); no test runs it (a seed is about a minute of CPU, and the suite is at its 15-minute limit).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from mwx.exercise.evaluation import AlertVerdicts, judge_alerts
from mwx.exercise.outputs import alerts_json
from mwx.exercise.run import RunResult, run_scenario
from mwx.geo import regions
from mwx.sim.scenario import parse_scenario

#: (id, site, aim, apogee km, profile), launched 4 minutes apart.  Sites: Wonsan, Sunan, Kaechon, Hamhung.
FLIGHTS = (
    ("P1", (39.15, 127.45), (35.87, 128.60), 50, "{kind: pullup}"),  # KN-23 at Daegu: South Korean land
    ("P2", (39.20, 125.67), (37.60, 129.60), 45, "{kind: pullup, load_factor_g: 1.5}"),  # off Gangneung
    ("P3", (39.70, 125.90), (37.00, 133.00), 55, "{kind: pullup, start_alt_km: 40}"),  # Japan's EEZ near Oki
    ("G1", (39.20, 125.67), (38.50, 142.50), 100, "{kind: glide}"),  # across Honshu into the Pacific
    ("G2", (39.90, 127.50), (38.60, 136.80), 90, "{kind: glide, turn_deg: 20}"),  # turning, towards Sado
    ("G3", (39.70, 125.90), (35.05, 135.80), 100, "{kind: glide, turn_deg: -15}"),  # Japanese land, Kyoto
)


def scenario_text(seed: int, only: set[str] | None = None) -> str:
    lines = [f"name: manoeuvre-warnings-{seed}", "theater: korea-japan", f"seed: {seed}", "launches:"]
    for k, (ident, site, aim, apogee, profile) in enumerate(f for f in FLIGHTS if only is None or f[0] in only):
        lines.append(
            f"  - {{id: {ident}, time: 2024-04-02T00:{10 + 4 * k:02d}:00Z, site: {{lat: {site[0]}, lon: {site[1]}}}, "
            f"aim: {{lat: {aim[0]}, lon: {aim[1]}}}, apogee_km: {apogee}, profile: {profile}}}"
        )
    return "\n".join(lines) + "\n"


def judge(result: RunResult) -> tuple[AlertVerdicts, int]:
    """The run's alert verdicts against its truth (every partner's alerts, as ``alerts.json`` has them), and how
    many alerts were issued."""
    alerts = alerts_json(result).alerts
    return judge_alerts(result.truth, regions.load_areas(result.scenario.theater), alerts), len(alerts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated scenario seeds")
    parser.add_argument("--only", default="", help="comma-separated flight ids (default: all)")
    args = parser.parse_args()
    only = {s for s in args.only.split(",") if s} or None
    totals: Counter[str] = Counter()
    for seed in (int(s) for s in args.seeds.split(",")):
        start = time.perf_counter()
        result = run_scenario(parse_scenario(scenario_text(seed, only), f"manoeuvre-warnings-{seed}"))
        verdicts, issued = judge(result)
        totals.update(threatened=len(verdicts.threatened), missed=len(verdicts.missed),
                      false=len(verdicts.false), alerts=issued)  # fmt: skip
        print(f"seed {seed} ({time.perf_counter() - start:.0f} s): {issued} alerts")
        for t in sorted(verdicts.threatened):
            print(f"  threatened {t}{'  MISSED' if t in verdicts.missed else ''}")
        for f in sorted(verdicts.false, key=str):
            print(f"  false {f}")
    rate = totals["false"] / totals["alerts"] if totals["alerts"] else 0.0
    print(
        f"total: {totals['threatened']} threatened areas, {totals['missed']} missed; {totals['alerts']} alerts, "
        f"{totals['false']} false ({100 * rate:.1f} %)"
    )


if __name__ == "__main__":
    main()
