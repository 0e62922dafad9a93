"""Launch event reports against truth on four flights of the default theater.

Run: ``.venv/bin/python benchmarks/assessment_set.py [--out DIR] [--seed N]``.  The set (also
``tests/test_assessment.py``): the 2022-10-04 IRBM over Aomori (O), a depressed 700 km missile
into the Sea of Japan (S), a 2000 km missile over northern Honshu (M) and a 2017-11-28-like lofted
ICBM (H) into Japan's EEZ west of Aomori, launched minutes apart.  Prints per launch and partner:
the final report's impact, range and apogee errors, class and lofted flag, launch point and time
errors, and the first update at least 60 s after the report's first one (the first report needs a
coasting state).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import datetime
from pathlib import Path

from pyproj import Geod

from mwx.exercise.outputs import write_run
from mwx.exercise.run import run_scenario
from mwx.sim.scenario import parse_scenario

GEOD = Geod(ellps="WGS84")
SET = """\
name: assessment-set
theater: korea-japan
seed: {seed}
launches:
  - {{id: O, time: 2022-10-03T22:22:47Z, site: {{lat: 40.61, lon: 126.43}}, azimuth_deg: 84.2, apogee_km: 970,
     range_km: 4500}}
  - {{id: S, time: 2022-10-03T22:27:00Z, site: {{lat: 39.20, lon: 125.67}}, azimuth_deg: 88, apogee_km: 90,
     range_km: 700}}
  - {{id: M, time: 2022-10-03T22:31:00Z, site: {{lat: 40.00, lon: 127.40}}, azimuth_deg: 95, apogee_km: 500,
     range_km: 2000}}
  - {{id: H, time: 2022-10-03T22:35:00Z, site: {{lat: 39.25, lon: 125.87}}, aim: {{lat: 40.7, lon: 136.9}},
     apogee_km: 4475}}
"""


def scenario_text(seed: int = 11) -> str:
    return SET.format(seed=seed)


def km(a: dict, b: dict) -> float:
    return GEOD.inv(a["lon"], a["lat"], b["lon"], b["lat"])[2] / 1e3


def seconds(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def table(run_dir: Path) -> str:
    truth = json.loads((run_dir / "truth.json").read_text())
    events = json.loads((run_dir / "events.json").read_text())["events"]
    rows = [
        "| launch | partner | class (true) | lofted | eq. range km | impact err km (% of range) | range err % "
        "| apogee err % | launch pt err km | launch time err s | at +60 s: impact err km, range %, apogee % |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for launch in truth["launches"]:
        rng, apo = launch["range_km"], launch["apogee_km"]
        for e in (e for e in events if e["truth_id"] == launch["id"]):
            impact = km(e["impact_point"], launch["impact_point"])
            first = seconds(e["updates"][0]["time"])
            due = [u for u in e["updates"] if seconds(u["time"]) >= first + 60.0]
            early = "–"
            if due:
                u = due[0]
                miss = km(u["impact_point"], launch["impact_point"])
                early = (
                    f"{miss:.1f}, {100 * (u['range_km'] - rng) / rng:+.1f}, {100 * (u['apogee_km'] - apo) / apo:+.1f}"
                )
            rows.append(
                f"| {launch['id']} | {e['partner']} | {e['class']} ({launch['class']}) | {e['lofted']} "
                f"| {e['equivalent_range_km']:.0f} | {impact:.1f} ({100 * impact / rng:.2f}) "
                f"| {100 * (e['range_km'] - rng) / rng:+.2f} | {100 * (e['apogee_km'] - apo) / apo:+.2f} "
                f"| {km(e['launch_point'], launch['launch_point']):.1f} ({e['launch_method']}) "
                f"| {seconds(e['launch_time']) - seconds(launch['launch_time']):+.1f} | {early} |"
            )
    metrics = json.loads((run_dir / "metrics.json").read_text())
    cov = metrics["ellipse_95_coverage"]
    rows.append("")
    rows.append(f"95 % ellipse coverage over all {cov['reports']} reports and updates: {cov['inside']:.2f}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="run folder to write (default: a temporary one)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        write_run(run_scenario(parse_scenario(scenario_text(args.seed), "assessment-set")), out)
        print(table(out))


if __name__ == "__main__":
    main()
