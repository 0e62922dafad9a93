"""The assessment set's final-report errors over several seeds, against another revision's on the same seeds.

Run::

    git worktree add /tmp/before ab748f3          # the revision to compare with (any checkout)
    .venv/bin/python benchmarks/assessment_seeds.py --seeds 1 2 3 4 5 6 --before /tmp/before \
        --keep /tmp/before-errors.json                 # optional: the before errors, kept for the next run

One seed's errors are one draw of the noise, biases and false alarms: a partner's impact error on one
launch moves by kilometres from seed to seed, so "no worse than before" is judged on several.  For each
seed, each checkout (this one, and ``--before``) runs :mod:`benchmarks.assessment_set`'s four launches in a
process of its own and writes, per launch and partner, the final report's impact, range, apogee and
launch point errors (``metrics.json``); printed: per partner and overall, the mean, median and root mean
square of their absolute values for the pairs (seed, launch, partner) both have, and per figure the three
pairs whose error grew most.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FIGURES = ("impact_error_km", "range_error_km", "apogee_error_km", "launch_point_error_km")
#: Run in the checkout under test: its own mwx and its own assessment_set (the set may differ between them).
_ONE_SEED = """
import json, sys, tempfile
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import assessment_set
from mwx.exercise.outputs import write_run
from mwx.exercise.run import run_scenario
from mwx.sim.scenario import parse_scenario
seed = int(sys.argv[2])
with tempfile.TemporaryDirectory() as tmp:
    write_run(run_scenario(parse_scenario(assessment_set.scenario_text(seed), "assessment-set")), Path(tmp))
    figures = json.loads((Path(tmp) / "metrics.json").read_text())
for launch in figures["launches"]:
    for partner, f in launch["per_partner"].items():
        if "impact_error_km" in f:
            print(json.dumps({"seed": seed, "launch": launch["truth_id"], "partner": partner,
                              **{k: f[k] for k in sys.argv[3:]}}))
"""


def errors(checkout: Path, seed: int) -> dict[tuple, dict]:
    """(seed, launch, partner) → the final report's errors, from ``checkout``'s code."""
    env = {**os.environ, "PYTHONPATH": str(checkout / "src")}
    command = [sys.executable, "-c", _ONE_SEED, str(checkout / "benchmarks"), str(seed), *FIGURES]
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {(r["seed"], r["launch"], r["partner"]): r for r in rows}


def _stats(values: np.ndarray) -> str:
    return f"{values.mean():7.3f} / {np.median(values):6.3f} / {np.sqrt(np.mean(values**2)):7.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6])
    parser.add_argument("--before", type=Path, required=True, help="a checkout of the revision to compare with")
    parser.add_argument(
        "--keep",
        type=Path,
        help="JSON file of the --before checkout's errors: read the seeds it holds from it, add those it lacks",
    )
    args = parser.parse_args()
    if not (args.before / "src" / "mwx").is_dir():
        parser.error(f"{args.before}: not a checkout of mwx (no src/mwx)")
    kept: dict[str, list[dict]] = json.loads(args.keep.read_text()) if args.keep and args.keep.exists() else {}
    now, before = {}, {}
    for seed in args.seeds:
        now |= errors(HERE.parent, seed)
        if str(seed) not in kept:
            kept[str(seed)] = list(errors(args.before, seed).values())
            if args.keep:
                args.keep.write_text(json.dumps(kept))
        before |= {(r["seed"], r["launch"], r["partner"]): r for r in kept[str(seed)]}
        print(f"seed {seed} done", file=sys.stderr, flush=True)
    keys = sorted(now.keys() & before.keys())
    print(f"{len(keys)} (seed, launch, partner) in both; |error| mean / median / rms, before → now")
    for figure in FIGURES:
        for partner in ("KR", "JP", "US", "fused", "all"):
            mine = [k for k in keys if partner in ("all", k[2])]
            b = np.abs([before[k][figure] for k in mine])
            n = np.abs([now[k][figure] for k in mine])
            print(f"  {figure:22s} {partner:5s} {len(mine):3d}  {_stats(b)}  →  {_stats(n)}")
    print("largest increases of |error| (seed, launch, partner: before → now):")
    for figure in FIGURES:
        worse = sorted(keys, key=lambda k: abs(before[k][figure]) - abs(now[k][figure]))[:3]
        pairs = (f"{k[0]} {k[1]} {k[2]}: {before[k][figure]:+.2f} → {now[k][figure]:+.2f}" for k in worse)
        print(f"  {figure:22s} " + "; ".join(pairs))


if __name__ == "__main__":
    main()
