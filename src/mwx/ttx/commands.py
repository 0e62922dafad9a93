"""``mwx exercise ...``: check an MSEL, run an exercise (served or headless), resume it, report on it.

An exercise folder (``--out``) holds ``msel.yaml`` (the MSEL as run), ``session.json`` (which cells scripts
played), ``journal.jsonl`` (:mod:`mwx.ttx.journal`), ``console/`` (each role's token, 0600), ``cap/`` (the
cells' public warnings, CAP 1.2), ``run/`` (the technical run's folder: truth, events, alerts, tracks, metrics;
no report.html), and at the end ``exercise.json``, ``aar.html``, ``aar.md`` and ``improvement-plan.csv``
(:mod:`mwx.ttx.report`).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from mwx.errors import InputError

if TYPE_CHECKING:
    from mwx.ttx.log import JournalLine
    from mwx.ttx.msel import Msel

JOURNAL = "journal.jsonl"
MSEL_FILE = "msel.yaml"
SESSION_FILE = "session.json"
RUN_FOLDER = "run"
CAP_FOLDER = "cap"


class SessionInfo(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``session.json``: what a resumed exercise must play as before (the cells scripts played)."""

    scripted: list[str]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """The ``exercise`` command and its subcommands."""
    exercise = sub.add_parser(
        "exercise",
        help="tabletop exercises: MSEL files, facilitator and cell consoles, after-action report",
        description="Tabletop exercises over the live system: a master scenario events list (MSEL), a facilitator, "
        "player cells that consult over the exchange, evaluators, and an after-action report / improvement plan.",
    )
    ex = exercise.add_subparsers(dest="exercise_command", required=True, metavar="SUBCOMMAND")
    check = ex.add_parser("check", help="check an MSEL file", description="Check an MSEL file and its scenario.")
    check.add_argument("msel", help="MSEL YAML file (or the name of a built-in one, e.g. oct-2022-ttx)")
    check.set_defaults(func=cmd_check)

    start = ex.add_parser(
        "start",
        help="run an exercise: served to the facilitator, cells and evaluators, or headless",
        description="Run an exercise.  With --http, the facilitator's, each cell's and the evaluators' pages are "
        "served (URLs with tokens printed); the clock waits for the facilitator's start.  With --headless, scripted "
        "cells play and the run goes as fast as it computes.",
    )
    start.add_argument("msel", help="MSEL YAML file (or the name of a built-in one, e.g. oct-2022-ttx)")
    start.add_argument("--out", required=True, help="exercise folder (created)")
    _add_play_options(start)
    start.add_argument(
        "--scripted",
        default=None,
        metavar="CELLS",
        help="cells that scripts play (comma-separated; default: none served, all headless)",
    )
    start.add_argument("--force", action="store_true", help="replace an exercise already in --out")
    start.set_defaults(func=cmd_start)

    resume = ex.add_parser(
        "resume",
        help="resume an exercise that was stopped or killed, from its journal",
        description="Resume an exercise from its folder's journal: the run is redone to where the journal ends "
        "(every journalled action carried out again at its time), then held paused for the facilitator.",
    )
    resume.add_argument("folder", help="the exercise folder")
    _add_play_options(resume)
    resume.set_defaults(func=cmd_resume)

    csv_ = ex.add_parser(
        "csv", help="write an MSEL's injects as CSV (for a spreadsheet)", description="Write the MSEL's injects as CSV."
    )
    csv_.add_argument("msel", help="MSEL YAML file (or a built-in one's name)")
    csv_.add_argument("--out", help="CSV file (default: standard output)")
    csv_.set_defaults(func=cmd_csv)

    imp = ex.add_parser(
        "import",
        help="replace an MSEL's injects with a CSV's",
        description="Read injects from CSV into an MSEL and write the result as YAML (checked).",
    )
    imp.add_argument("csv", help="CSV file (columns as `mwx exercise csv` writes them)")
    imp.add_argument("--into", required=True, help="the MSEL whose other parts are kept")
    imp.add_argument("--out", required=True, help="the new MSEL YAML file")
    imp.set_defaults(func=cmd_import)

    report = ex.add_parser(
        "report",
        help="write the after-action report again (after the improvement plan was edited)",
        description="Write an exercise folder's after-action report again from exercise.json, with the "
        "improvement plan read from a CSV if given.",
    )
    report.add_argument("folder", help="the exercise folder")
    report.add_argument("--plan", help="improvement plan CSV (columns as improvement-plan.csv)")
    report.set_defaults(func=cmd_report)


def _add_play_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--http", type=int, metavar="PORT", help="serve the pages on PORT (0: a free one)")
    parser.add_argument(
        "--http-host",
        default="127.0.0.1",
        metavar="HOST",
        help="address to serve on (default 127.0.0.1: this machine only)",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="scenario seconds per wall second when served (default 1: real time)"
    )
    parser.add_argument("--headless", action="store_true", help="nothing served: scripted cells, unpaced")
    parser.add_argument("--quiet", action="store_true", help="no progress line")


def _load(name_or_path: str) -> Msel:
    from mwx.ttx.msel import load_msel, sample_path

    path = Path(name_or_path)
    if not path.exists() and "/" not in name_or_path and not name_or_path.endswith((".yaml", ".yml")):
        with contextlib.suppress(InputError):
            path = sample_path(name_or_path)
    return load_msel(path)


def cmd_check(args: argparse.Namespace) -> int:
    from mwx.cli import solve_launches
    from mwx.ttx.msel import injects_in_order, scenario_of

    msel = _load(args.msel)
    solve_launches(scenario_of(msel), args.msel)
    injects = injects_in_order(msel)
    tasks = sum(len(c.tasks) for c in msel.capabilities)
    print(
        f"{args.msel}: OK — {msel.name}: {msel.duration_min:g} min, {len(injects)} injects in "
        f"{len(msel.modules)} modules, {len(msel.capabilities)} capabilities with {tasks} critical tasks"
    )
    return 0


def _options(args: argparse.Namespace) -> tuple[float | None, str, int]:
    """(speed or None for headless, host, port), checked before any work."""
    if args.headless and args.http is not None:
        raise InputError("an exercise is served (--http) or headless, not both", where="--headless")
    if not args.headless and args.http is None:
        raise InputError(
            "give --http PORT to serve the exercise, or --headless to play it with scripted cells", where="--http"
        )
    if args.http is not None and not 0 <= args.http <= 65535:
        raise InputError(f"a port is 0 to 65535 (0: any free one), not {args.http}", where="--http")
    if not 0.0 < args.speed <= 1000.0:
        raise InputError(f"speed is above 0 and at most 1000, not {args.speed:g}", where="--speed")
    return (None if args.headless else args.speed), args.http_host, args.http or 0


def cmd_start(args: argparse.Namespace) -> int:
    from mwx.ttx.msel import encode_msel

    msel = _load(args.msel)
    speed, host, port = _options(args)
    cells = _cells(msel)
    if args.scripted is None:
        scripted = cells if speed is None else []
    else:
        scripted = [c.strip() for c in args.scripted.split(",") if c.strip()]
        unknown = [c for c in scripted if c not in cells]
        if unknown:
            raise InputError(f"{unknown[0]!r} is not a cell of the exercise ({', '.join(cells)})", where="--scripted")
    out = Path(args.out)
    if (out / JOURNAL).exists():
        if not args.force:
            raise InputError(
                f"holds an exercise already: resume it (mwx exercise resume {out}), or --force to replace it",
                source=str(out / JOURNAL),
            )
        (out / JOURNAL).unlink()
        shutil.rmtree(out / CAP_FOLDER, ignore_errors=True)  # the replaced exercise's public warnings
    out.mkdir(parents=True, exist_ok=True)
    (out / MSEL_FILE).write_bytes(encode_msel(msel))
    (out / SESSION_FILE).write_bytes(msgspec.json.encode(SessionInfo(scripted=scripted)))
    return play(msel, out, scripted, speed, host, port, quiet=args.quiet)


def cmd_resume(args: argparse.Namespace) -> int:
    from mwx.ttx.journal import read_journal
    from mwx.ttx.msel import load_msel

    folder = Path(args.folder)
    if not (folder / JOURNAL).exists():
        raise InputError("no exercise journal here: start one with mwx exercise start", source=str(folder))
    msel = load_msel(folder / MSEL_FILE)
    speed, host, port = _options(args)
    try:
        info = msgspec.json.decode((folder / SESSION_FILE).read_bytes(), type=SessionInfo)
    except (OSError, msgspec.DecodeError) as err:
        raise InputError(f"cannot read: {err}", source=str(folder / SESSION_FILE)) from None
    lines = read_journal(folder / JOURNAL)
    # The same cells scripted as before: a script acting where a person did would change what was journalled.
    return play(msel, folder, info.scripted, speed, host, port, quiet=args.quiet, resume=lines)


def _cells(msel: Msel) -> list[str]:
    from mwx.sim.theater import load_theater

    return list(msel.cells) or list(load_theater(msel.theater).partner_ids)


def play(
    msel: Msel,
    out: Path,
    scripted: Sequence[str],
    speed: float | None,
    host: str,
    port: int,
    *,
    quiet: bool,
    resume: Sequence[JournalLine] = (),
) -> int:
    """Run the exercise into ``out``: the technical run, its folder, the exercise log and the report; served, the
    pages stay up (evaluators rate, the report is written again) until Ctrl-C."""
    from mwx.cli import ProgressLine, _serve_until_interrupted, solve_launches
    from mwx.exercise.outputs import write_run
    from mwx.exercise.run import run_scenario
    from mwx.ttx.control import ExerciseControl
    from mwx.ttx.evaluation import marks_of
    from mwx.ttx.journal import Journal
    from mwx.ttx.msel import scenario_of
    from mwx.ttx.report import write_aar
    from mwx.ttx.session import ExerciseSession

    scenario = scenario_of(msel)
    solved = solve_launches(scenario, str(out / MSEL_FILE))
    journal = Journal(out / JOURNAL)
    control = ExerciseControl(msel, _cells(msel), scripted=scripted, journal=journal, resume=resume, folder=out)

    def say(line: str) -> None:
        print(f"mwx: {line}", file=sys.stderr, flush=True)

    session = ExerciseSession(control, speed=speed, host=host, port=port, token_dir=out / "console", say=say)
    progress = ProgressLine(quiet=quiet or speed is not None)
    try:
        result = run_scenario(scenario, progress, solved=solved, console=session)
        progress(f"writing {out}", None)
        write_run(result, out / RUN_FOLDER)
        log = control.conclude(marks_of(result))
        paths = write_aar(out, msel, log)

        def rewrite() -> None:
            write_aar(out, msel, control.conclude(control.marks))

        control.on_evaluation = rewrite
        print(f"{msel.name}: {len(log.actions)} entries; after-action report {paths['aar.html']}")
        for rating in log.evaluation:
            print(f"  {rating.capability} {rating.name}: {rating.final} — {rating.reason}")
        if speed is not None:
            say("the exercise has ended; the pages stay up for the evaluators until Ctrl-C")
            _serve_until_interrupted()
    finally:
        session.close()
        journal.close()
    return 0


def cmd_csv(args: argparse.Namespace) -> int:
    from mwx.ttx.msel import injects_csv

    text = injects_csv(_load(args.msel))
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8", newline="")
    else:
        sys.stdout.write(text)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from mwx.ttx.msel import encode_msel, with_injects_from_csv

    base = _load(args.into)
    try:
        text = Path(args.csv).read_text(encoding="utf-8")
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", source=args.csv) from None
    msel = with_injects_from_csv(base, text, args.csv)
    Path(args.out).write_bytes(encode_msel(msel))
    print(f"{args.out}: {sum(len(m.injects) for m in msel.modules)} injects in {len(msel.modules)} modules")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from mwx.ttx.log import ExerciseLog
    from mwx.ttx.msel import load_msel
    from mwx.ttx.report import read_plan_csv, write_aar

    folder = Path(args.folder)
    try:
        log = msgspec.json.decode((folder / "exercise.json").read_bytes(), type=ExerciseLog)
    except (OSError, msgspec.DecodeError) as err:
        raise InputError(f"cannot read: {err}", source=str(folder / "exercise.json")) from None
    msel = load_msel(folder / MSEL_FILE)
    if args.plan:
        log = msgspec.structs.replace(log, plan=read_plan_csv(Path(args.plan), at=log.end))
    paths = write_aar(folder, msel, log)
    print(f"{paths['aar.html']}")
    return 0
