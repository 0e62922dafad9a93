"""The ``mwx`` command line.

Exit codes: 0 success, 2 bad input (one line on stderr naming the file, the
place and the problem), 1 any other failure.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from importlib import resources
from pathlib import Path

from mwx.errors import InputError, MwxError

DEMO_SCENARIO = "demo.yaml"


class ProgressLine:
    """Progress on stderr: a rewritten line on a terminal, one line per step otherwise."""

    def __init__(self, stream=sys.stderr, *, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        self.started = time.monotonic()
        self.tty = stream.isatty()
        self._last_line = ""

    def __call__(self, message: str, fraction: float | None) -> None:
        if self.quiet:
            return
        elapsed = time.monotonic() - self.started
        pct = f" {fraction * 100:3.0f}%" if fraction is not None else ""
        line = f"[{elapsed:6.1f} s] {message}{pct}"
        if self.tty:
            self.stream.write("\r\033[K" + line)
            if fraction is None or fraction >= 1.0:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self._last_line = line
        self.stream.flush()


def _demo_path() -> Path:
    return Path(str(resources.files("mwx") / "data" / "scenarios" / DEMO_SCENARIO))


def _run(scenario_path: Path, out: Path, quiet: bool) -> int:
    from mwx.exercise.outputs import write_run
    from mwx.exercise.report import format_summary, write_report
    from mwx.exercise.run import run_scenario
    from mwx.sim.scenario import load_scenario

    scenario = load_scenario(scenario_path)
    progress = ProgressLine(quiet=quiet)
    try:
        result = run_scenario(scenario, progress)
    except InputError as err:
        raise InputError(err.problem, source=str(scenario_path), where=err.where) from None
    progress(f"writing {out}", None)
    write_run(result, out)
    write_report(out)
    print(format_summary(out))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    return _run(Path(args.scenario), Path(args.out), args.quiet)


def cmd_demo(args: argparse.Namespace) -> int:
    return _run(_demo_path(), Path(args.out), args.quiet)


def cmd_scenario_check(args: argparse.Namespace) -> int:
    from mwx.sim.flight import solve_flight
    from mwx.sim.scenario import load_scenario, missiles

    scenario = load_scenario(args.file)
    print(f"{args.file}: scenario {scenario.name!r}, theater {scenario.theater}, seed {scenario.seed}")
    solved = {}
    for missile in missiles(scenario):
        if missile.launch_index not in solved:
            try:
                solved[missile.launch_index] = solve_flight(missile.brief)
            except InputError as err:
                raise InputError(err.problem, source=args.file, where=f"launches[{missile.launch_index}]") from None
        traj = solved[missile.launch_index]
        print(
            f"  {missile.id}: apogee {traj.apogee_alt / 1e3:.1f} km, range {traj.range_m / 1e3:.1f} km, "
            f"flight time {traj.impact_t / 60:.1f} min, burnout speed {traj.max_speed / 1e3:.2f} km/s, "
            f"impact {math.degrees(traj.impact_lat):.2f}°N {math.degrees(traj.impact_lon):.2f}°E"
        )
    print("OK")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mwx", description="mwx: missile-warning exchange — simulate, track, share, fuse and warn."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run a scenario and write the run folder",
        description="Run a scenario file end to end (embedded bus) and write the run folder (see docs/run-folder.md).",
    )
    run.add_argument("scenario", help="scenario YAML file")
    run.add_argument("--out", required=True, help="run folder to write (created if missing)")
    run.add_argument("--quiet", action="store_true", help="no progress display")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser(
        "demo",
        help="run the built-in demo scenario",
        description="Run the built-in scenario: "
        "an overflight of Japan like 4 Oct 2022 and an SRBM pair into the Sea of Japan.",
    )
    demo.add_argument("--out", default="demo-run", help="run folder to write (default: demo-run)")
    demo.add_argument("--quiet", action="store_true", help="no progress display")
    demo.set_defaults(func=cmd_demo)

    scenario = sub.add_parser("scenario", help="work with scenario files", description="Scenario file tools.")
    scenario_sub = scenario.add_subparsers(dest="scenario_command", required=True, metavar="SUBCOMMAND")
    check = scenario_sub.add_parser(
        "check",
        help="check a scenario file and solve its flights",
        description="Check a scenario file: schema, values, and that every flight "
        "is physically reachable (solves each one).",
    )
    check.add_argument("file", help="scenario YAML file")
    check.set_defaults(func=cmd_scenario_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except InputError as err:
        print(f"mwx: {err.one_line()}", file=sys.stderr)
        return 2
    except MwxError as err:
        print(f"mwx: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mwx: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
