"""The ``mwx`` command line.

Exit codes: 0 success, 2 bad input (one line on stderr naming the file, the
place and the problem), 1 any other failure.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from mwx import __version__
from mwx.errors import InputError, MwxError
from mwx.lifecycle import Interrupted, signals_end_the_run

if TYPE_CHECKING:
    from mwx.sim.flight import Trajectory
    from mwx.sim.scenario import Scenario
    from mwx.sim.theater import InfraredSatellite, Sensor

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


class CommandParser(argparse.ArgumentParser):
    """argparse with one line for an unknown command or subcommand, naming the closest: ``mwx: unknown command
    'rnu' (did you mean 'run'?)``, exit 2 (argparse's own message lists every choice after a usage line)."""

    def _check_value(self, action: argparse.Action, value: object) -> None:
        if isinstance(action, argparse._SubParsersAction) and action.choices and value not in action.choices:
            import difflib

            close = difflib.get_close_matches(str(value), list(action.choices), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"commands: {', '.join(action.choices)}"
            self.exit(2, f"{self.prog}: unknown command {value!r} ({hint})\n")
        super()._check_value(action, value)


def _demo_path() -> Path:
    return Path(str(resources.files("mwx") / "data" / "scenarios" / DEMO_SCENARIO))


def _run(
    scenario_path: Path,
    out: Path,
    quiet: bool,
    policy_path: str | None = None,
    bus: str = "embedded",
    speed: float = 20.0,
    exercise_keys: bool = False,
    console: Consoles | None = None,
) -> int:
    from mwx.exchange.policy import OPEN, load_policy
    from mwx.exercise.outputs import add_to_manifest, write_run
    from mwx.exercise.report import format_summary, write_report
    from mwx.exercise.run import run_scenario
    from mwx.exports import export
    from mwx.sim.scenario import load_scenario, theater_of

    scenario = load_scenario(scenario_path)
    solved = solve_launches(scenario, str(scenario_path))
    warn_uncovered(scenario, solved, str(scenario_path))
    policy = load_policy(policy_path) if policy_path else OPEN
    progress = ProgressLine(quiet=quiet)
    session = None
    if console is not None and bus != "nats":
        from mwx.live.session import ConsoleSession

        def say(line: str) -> None:
            print(f"mwx: {line}", file=sys.stderr, flush=True)

        session = ConsoleSession(speed=speed, host=console.host, port=console.port, cot_port=console.cot_port,
                                 token_dir=out / "console", say=say)  # fmt: skip
    try:
        try:
            if bus == "nats":
                from mwx.exercise.natsrun import run_nats

                http = None
                if console is not None:
                    http = (console.host, console.port)
                    _say_node_consoles(console, theater_of(scenario).partner_ids, out)
                result = run_nats(scenario_path, out, speed=speed, policy_path=policy_path, progress=progress,
                                  http=http)  # fmt: skip
            else:
                result = run_scenario(scenario, progress, policy=policy, exercise_keys=exercise_keys, solved=solved,
                                      console=session)  # fmt: skip
        except InputError as err:
            raise InputError(err.problem, source=str(scenario_path), where=err.where) from None
        progress(f"writing {out}", None)
        write_run(result, out)
        written = [write_report(out)]
        if policy_path:
            from mwx.live.replay import POLICY_FILE

            shutil.copyfile(policy_path, out / POLICY_FILE)  # a replay withholds what the run withheld
            written.append(out / POLICY_FILE)
        progress(f"writing {out / 'exports'}", None)
        export(out)
        add_to_manifest(out, [*written, out / "exports"])
        print(format_summary(out))
        if session is not None:
            print(f"mwx: the run is over; its consoles stay up until Ctrl-C (replay it later: mwx view {out})",
                  file=sys.stderr, flush=True)  # fmt: skip
            _serve_until_interrupted()
    finally:
        if session is not None:
            session.close()
    return 0


def _say_node_consoles(console: Consoles, partners: list[str], out: Path) -> None:
    """Where each partner node of a NATS run serves its console, and where its token will be."""
    for k, partner in enumerate(partners):
        port = "a free port" if console.port == 0 else f"port {console.port + k}"
        token = out / "nats" / "config" / partner / "console.token"
        print(f"mwx: console {partner}: its node serves it on {console.host}, {port}; token in {token}",
              file=sys.stderr, flush=True)  # fmt: skip


class Consoles(NamedTuple):
    """Where ``--http`` serves the consoles (and ``--cot`` the CoT feeds)."""

    host: str
    port: int
    cot_port: int | None = None


def _consoles(args: argparse.Namespace) -> Consoles | None:
    """The ``--http``/``--http-host``/``--cot`` options, checked (one line, exit 2, before any work)."""
    if args.http is None:
        if args.cot is not None:
            raise InputError("the CoT feed comes with the consoles: give --http PORT too", where="--cot")
        return None
    for name, port in (("--http", args.http), ("--cot", args.cot)):
        if port is not None and not 0 <= port <= 65535:
            raise InputError(f"a port is 0 to 65535 (0: any free one), not {port}", where=name)
    return Consoles(args.http_host, args.http, args.cot)


def _serve_until_interrupted() -> None:
    """Wait for Ctrl-C (SIGINT) or SIGTERM, which end the command (:func:`mwx.lifecycle.signals_end_the_run`)."""
    import threading

    threading.Event().wait()


def _add_console_options(parser: argparse.ArgumentParser, *, what: str) -> None:
    parser.add_argument("--http", type=int, metavar="PORT",
                        help=f"serve each partner's console and the HTTP API on PORT (0: a free one) {what}; "
                        "the URLs, with each partner's token, are printed")  # fmt: skip
    parser.add_argument("--http-host", default="127.0.0.1", metavar="HOST",
                        help="address to serve the consoles on (default 127.0.0.1: this machine only)")  # fmt: skip
    parser.add_argument("--cot", type=int, metavar="PORT",
                        help="with --http: a Cursor-on-Target feed for TAK clients per partner, on PORT, PORT+1, ... "
                        "in the theater's order (0: free ones)")  # fmt: skip


def clear_earlier_nats_run(out: Path, force: bool) -> None:
    """Refuse (InputError, one line) a ``--bus nats`` run into a folder another NATS run used, or, with
    ``force``, remove that run's ``nats/`` first: its journals and JetStream store would be taken up by
    the new run's nodes and broker (a second run into one folder once reused them silently, exit 0, its
    fused impact 312 km off).  An embedded run keeps no state there and simply overwrites its files."""
    earlier = out / "nats"
    if not earlier.exists():
        return
    if not force:
        raise InputError(
            "holds another NATS run (its journals and JetStream store): choose another --out, or --force to remove it",
            source=str(earlier),
        )
    shutil.rmtree(earlier)


#: What a run folder holds (mwx.exercise.outputs.write_run; nats/ from a NATS run, even one that did not finish):
#: a folder with one of them is a run folder.
RUN_FOLDER_MARKS = ("events.json", "metrics.json", "nats")


def check_out_folder(out: Path, force: bool) -> None:
    """Refuse (InputError, one line) an ``--out`` the run could not write, or one holding other things, before any
    simulation: a file; a folder that cannot be written (e.g. under /proc); a non-empty folder that is not a run
    folder (a source tree, a home folder), unless ``force``.  A run folder is overwritten, as before."""
    if out.exists() and not out.is_dir():
        raise InputError("is a file, not a folder: give --out a folder for the run", source=str(out))
    if out.is_dir():
        try:
            holds = any(out.iterdir())
        except OSError as err:
            raise InputError(f"cannot read: {err.strerror}", source=str(out)) from None
        if holds and not force and not any((out / mark).exists() for mark in RUN_FOLDER_MARKS):
            raise InputError("holds other files and is not a run folder: choose another --out, or --force to "
                             "write into it anyway", source=str(out))  # fmt: skip
    # The folder itself, or the nearest one above it that exists (where it would be made): nothing is created.
    folder = out if out.is_dir() else next(p for p in out.absolute().parents if p.exists())
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError("cannot be written", source=str(folder))
    try:  # os.access says yes to root everywhere; /proc and read-only mounts refuse only a real write
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise InputError(f"cannot write: {err.strerror}", source=str(folder)) from None


def cmd_run(args: argparse.Namespace) -> int:
    if not args.speed > 0:
        raise InputError(f"--speed must be > 0, got {args.speed}")
    console = _consoles(args)
    if console is not None and args.bus == "nats" and console.cot_port is not None:
        raise InputError(
            "with --bus nats the CoT feed is not served (the embedded run's consoles serve it)", where="--cot"
        )
    if args.bus == "nats" and args.exercise_keys:
        raise InputError("exercise keys are for the embedded bus: a NATS run gives each node a key of its own",
                         where="--exercise-keys")  # fmt: skip
    check_out_folder(Path(args.out), args.force)
    if args.bus == "nats":
        clear_earlier_nats_run(Path(args.out), args.force)
    if args.exercise_keys:
        print("mwx: WARNING: EXERCISE KEYS, derived from the scenario seed: anyone who has the scenario can sign "
              "as any partner; never for real traffic", file=sys.stderr)  # fmt: skip
    return _run(Path(args.scenario), Path(args.out), args.quiet, args.policy, args.bus, args.speed, args.exercise_keys,
                console)  # fmt: skip


def cmd_node(args: argparse.Namespace) -> int:
    from mwx.node.service import run_node

    if args.http is not None and not 0 <= args.http <= 65535:
        raise InputError(f"a port is 0 to 65535 (0: any free one), not {args.http}", where="--http")
    return run_node(args.partner, Path(args.config), args.http, args.http_host, args.token_file)


def cmd_demo(args: argparse.Namespace) -> int:
    if not args.speed > 0:
        raise InputError(f"--speed must be > 0, got {args.speed}")
    console = _consoles(args)
    check_out_folder(Path(args.out), args.force)
    return _run(_demo_path(), Path(args.out), args.quiet, speed=args.speed, console=console)


def cmd_view(args: argparse.Namespace) -> int:
    from mwx.live.app import console_app
    from mwx.live.replay import replay_pictures
    from mwx.live.serve import ConsoleServer
    from mwx.live.tokens import Tokens

    folder = Path(args.dir)
    console = _consoles(args) or Consoles(args.http_host, 8000)
    pictures = replay_pictures(folder)
    tokens = Tokens.generate(pictures)
    tokens.write(folder / "console")
    server = ConsoleServer(console_app(pictures, tokens), console.host, console.port).start()
    try:
        for partner in pictures:
            print(f"mwx: replay {partner}: {server.url}/console/{partner}?token={tokens.by_partner[partner]}",
                  file=sys.stderr, flush=True)  # fmt: skip
        print("mwx: Ctrl-C to stop", file=sys.stderr, flush=True)
        _serve_until_interrupted()
    finally:
        server.stop()
    return 0


def cmd_scenario_check(args: argparse.Namespace) -> int:
    from mwx.sim.scenario import load_scenario, missiles

    scenario = load_scenario(args.file)
    print(f"{args.file}: scenario {scenario.name!r}, theater {scenario.theater}, seed {scenario.seed}")
    solved = solve_launches(scenario, args.file)
    for missile in missiles(scenario):
        traj = solved[missile.launch_index]
        print(
            f"  {missile.id}: apogee {traj.apogee_alt / 1e3:.1f} km, range {traj.range_m / 1e3:.1f} km, "
            f"flight time {traj.impact_t / 60:.1f} min, burnout speed {traj.max_speed / 1e3:.2f} km/s, "
            f"impact {_latlon(math.degrees(traj.impact_lat), math.degrees(traj.impact_lon))}"
        )
    warn_uncovered(scenario, solved, args.file)
    print("OK")
    return 0


def solve_launches(scenario: Scenario, source: str) -> dict[int, Trajectory]:
    """Each launch's flight by its index in the scenario (:func:`mwx.sim.truth.solve_launches`); an unreachable
    one is an InputError naming the file and the launch."""
    from mwx.sim.truth import solve_launches as solve

    try:
        return solve(scenario)
    except InputError as err:
        raise InputError(err.problem, source=source, where=err.where) from None


def warn_uncovered(scenario: Scenario, trajectories: dict[int, Trajectory], source: str) -> None:
    """One line on stderr for each launch no sensor of the theater covers at any point of its flight
    (mwx.sim.coverage.uncovered_missiles): its run could only end "not detected"."""
    from mwx.sim.coverage import uncovered_missiles

    for index, ids in uncovered_missiles(scenario, trajectories).items():
        launch = scenario.launches[index]
        name = launch.id or f"L{index + 1}"
        which = f"{name}, {launch.count} missiles" if len(ids) == launch.count > 1 else ", ".join(ids)
        print(f"mwx: warning: {source}: launches[{index}] ({which}): no sensor of theater {scenario.theater} "
              "covers any part of its flight: it cannot be detected", file=sys.stderr)  # fmt: skip


# --------------------------------------------------------------------------- theater
DEFAULT_THEATER = "korea-japan"
DEFAULT_MAP_ALTITUDES_KM = "100,500,1000"


def _table(header: list[str], rows: list[list[str]], indent: str = "  ") -> list[str]:
    """Left-aligned columns separated by two spaces."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [(indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))).rstrip() for r in [header, *rows]]


def _latlon(lat: float, lon: float) -> str:
    from mwx.geo.lon import wrap_lon

    lon = wrap_lon(lon)
    return f"{abs(lat):.2f}°{'N' if lat >= 0 else 'S'} {abs(lon):.2f}°{'E' if lon >= 0 else 'W'}"


def _g(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:g}{' ' + unit if unit else ''}"


def _latency(sensor: Sensor) -> str:
    extra = f" + exp({sensor.latency_jitter_s:g})" if sensor.latency_jitter_s > 0 else ""
    return f"{sensor.latency_s:g}{extra} s"


def _orbit(satellite: InfraredSatellite) -> str:
    from mwx.geo import wgs84
    from mwx.sim.theater import GeostationaryOrbit

    o = satellite.orbit
    if isinstance(o, GeostationaryOrbit):
        return f"GEO over {abs(o.lon_deg):g}°{'E' if o.lon_deg >= 0 else 'W'}"
    period_h = 2.0 * math.pi * math.sqrt((o.a_km * 1e3) ** 3 / wgs84.GM) / 3600.0
    return (
        f"Kepler a {o.a_km:.0f} km, e {o.e:g}, i {o.i_deg:g}°, period {period_h:.1f} h "
        f"(epoch {o.epoch.strftime('%Y-%m-%dT%H:%MZ')})"
    )


def _theater_areas(name: str) -> list:
    from mwx.geo import regions

    try:
        return list(regions.load_areas(name))
    except regions.UnknownTheaterError:
        return []


def format_theater(name: str) -> str:
    """The text of ``mwx theater show NAME``: partners, sensors and protected areas."""
    from pyproj import Geod

    from mwx.sim.coverage import DEFAULT_MIN_PD, DEFAULT_RCS_M2, detection_range_m
    from mwx.sim.theater import load_theater

    theater = load_theater(name)
    lines = [f"Theater {theater.name}: {theater.description}".rstrip(": ")]
    lines.append("Every sensor value is generic and NOTIONAL: an exercise setting, not a claim about a real system.")
    lines += ["", "Partners"]
    lines += _table(["id", "name"], [[p.id, p.name] for p in theater.partners])

    radars = theater.radars
    lines += ["", f"Radars ({len(radars)}): site, field of regard, detection"]
    lines += _table(
        [
            "id",
            "partner",
            "platform",
            "site",
            "alt",
            "revisit",
            "azimuth sector",
            "elevation",
            "ref range (SNR)",
            "max range",
            f"range Pd>={DEFAULT_MIN_PD:g} ({DEFAULT_RCS_M2:g} m2)",
        ],
        [
            [
                r.id,
                r.partner,
                r.platform,
                _latlon(r.site.lat, r.site.lon),
                f"{r.site.alt_m:g} m",
                f"{r.revisit_s:g} s",
                "360°" if r.sector_deg >= 360.0 else f"{r.boresight_deg % 360:g}° ± {r.sector_deg / 2:g}°",
                f"{r.min_elevation_deg:g}-{r.max_elevation_deg:g}°",
                f"{r.ref_range_km:g} km ({r.ref_snr_db:g} dB, {r.ref_rcs_m2:g} m2)",
                f"{r.max_range_km:g} km",
                f"{detection_range_m(r) / 1e3:.0f} km",
            ]
            for r in radars
        ],
    )
    lines += ["", "Radars: accuracy (1 sigma at the reference SNR), bias (1 sigma), false alarms, latency"]
    lines += _table(
        ["id", "range", "az", "el", "range rate", "bias range/az/el", "pfa", "false alarms", "latency", "resolution"],
        [
            [
                r.id,
                f"{r.sigma_range_m:g} m",
                f"{r.sigma_az_mrad:g} mrad",
                f"{r.sigma_el_mrad:g} mrad",
                _g(r.sigma_range_rate_mps, "m/s"),
                f"{r.bias_range_m:g} m / {r.bias_az_mrad:g} / {r.bias_el_mrad:g} mrad",
                f"{r.pfa:g}",
                f"{r.false_alarms_per_scan:g}/scan",
                _latency(r),
                f"{r.range_resolution_m:g} m, {r.beamwidth_mrad:g} mrad",
            ]
            for r in radars
        ],
    )
    if theater.infrared:
        lines += ["", f"Infrared satellites ({len(theater.infrared)})"]
        lines += _table(
            ["id", "partner", "orbit", "frame", "line of sight", "Pd", "cloud tops", "latency"],
            [
                [
                    s.id,
                    s.partner,
                    _orbit(s),
                    f"{s.frame_s:g} s",
                    f"{s.sigma_urad:g} µrad",
                    f"{s.pd:g}",
                    f"{s.cloud_top_km:g} km",
                    _latency(s),
                ]
                for s in theater.infrared
            ],
        )
    areas = _theater_areas(theater.name)
    lines += ["", f"Protected areas ({len(areas)})"]
    if areas:
        geod = Geod(ellps="WGS84")
        lines += _table(
            ["partner", "kind", "area km2", "name"],
            [
                [a.partner, a.kind, f"{abs(geod.geometry_area_perimeter(a.geometry)[0]) / 1e6:,.0f}", a.name]
                for a in areas
            ],
        )
    else:
        lines.append("  (no region data ships for this theater)")
    return "\n".join(lines)


def cmd_theater_list(args: argparse.Namespace) -> int:
    from mwx.sim.theater import known_theaters, load_theater

    names = known_theaters()
    width = max(len(n) for n in names)
    for name in names:
        print(f"{name.ljust(width)}  {load_theater(name).description}".rstrip())
    return 0


def cmd_theater_show(args: argparse.Namespace) -> int:
    print(format_theater(args.name))
    return 0


def _altitudes_km(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or len(values) > 4 or not all(math.isfinite(v) and 0.0 < v <= 5000.0 for v in values):
        raise InputError(
            f"expected 1 to 4 comma-separated heights in km in (0, 5000], got {text!r}", where="--altitudes"
        )
    return values


def cmd_theater_map(args: argparse.Namespace) -> int:
    from datetime import datetime

    from mwx.sim.coverage import coverage_map_png
    from mwx.sim.theater import load_theater

    if Path(args.out).suffix.lower() != ".png":
        raise InputError("the coverage map is a PNG image: give --out a .png file", source=args.out)
    theater = load_theater(args.name)
    altitudes = _altitudes_km(args.altitudes)
    if not (math.isfinite(args.rcs) and args.rcs > 0.0):
        raise InputError(f"must be > 0, got {args.rcs:g}", where="--rcs")
    if not 0.0 < args.min_pd < 1.0:
        raise InputError(f"must be between 0 and 1, got {args.min_pd:g}", where="--min-pd")
    t = None
    if args.time is not None:
        try:
            when = datetime.fromisoformat(args.time)
        except ValueError:
            raise InputError(f"not an ISO 8601 time: {args.time!r}", where="--time") from None
        if when.tzinfo is None:
            raise InputError(f"needs a timezone (Z or +hh:mm): {args.time!r}", where="--time")
        t = when.timestamp()
    png = coverage_map_png(
        theater, [a * 1e3 for a in altitudes], args.rcs, args.min_pd, t, _theater_areas(theater.name)
    )
    out = Path(args.out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(png)
    except OSError as err:
        raise InputError(f"cannot write: {err.strerror}", source=str(out)) from None
    print(
        f"{out}: coverage of {len(theater.radars)} radars at {', '.join(f'{a:g}' for a in altitudes)} km "
        f"({args.rcs:g} m2, Pd >= {args.min_pd:g})"
    )
    return 0


# --------------------------------------------------------------------------- report
def cmd_report_events(args: argparse.Namespace) -> int:
    """Print the run folder's launch event reports as plain text (mwx.exercise.event_text)."""
    from mwx import records
    from mwx.exercise.event_text import format_events

    folder = Path(args.dir)
    if not folder.is_dir():
        raise InputError("no such run folder", source=str(folder))
    path = folder / "events.json"
    # Decoding checks every field of every event (RecordError: one line naming the file and the field).
    events = records.read(path, records.EventsFile).events
    wanted = {p if p.lower() == "fused" else p.upper() for p in args.partner} if args.partner else None
    known = _run_participants(folder) | {e.partner for e in events}
    if wanted and wanted - known:
        raise InputError(f"no partner {', '.join(sorted(wanted - known))} in this run "
                         f"(it has {', '.join(sorted(known))})", where="--partner")  # fmt: skip
    chosen = [e for e in events if (wanted is None or e.partner in wanted) and not (args.final_only and not e.final)]
    text = format_events(chosen)
    if not text:
        print(f"{path}: no launch events" + (" match" if len(events) else ""))
        return 0
    print(text)
    return 0


def _run_participants(folder: Path) -> set[str]:
    """The participants of a run folder: its manifest.json's, else those its metrics.json has exchange figures
    of; none if neither can be read."""
    from mwx import records
    from mwx.errors import RecordError

    try:
        return set(records.read(folder / "manifest.json", records.Manifest).participants)
    except RecordError:
        pass
    try:
        return set(records.read(folder / "metrics.json", records.MetricsFile).exchange)
    except RecordError:
        return set()


def cmd_export(args: argparse.Namespace) -> int:
    """Write a run folder's standard exports (mwx.exports, docs/exports.md): GeoJSON, KML, CZML, Cursor-on-Target."""
    from mwx.exports import FORMATS, export

    formats = [f.lower() for f in args.format] if args.format else list(FORMATS)
    written = export(Path(args.dir), formats, Path(args.out) if args.out else None)
    events = [p for p in written if p.suffix == ".cot"]
    for path in written:
        if path.suffix != ".cot":
            print(path)
    if events:
        print(f"{events[0].parent}: {len(events)} CoT events")
    return 0


# --------------------------------------------------------------------------- keys
def cmd_keys_generate(args: argparse.Namespace) -> int:
    """Write a partner's Ed25519 key pair and put its public key in DIR/keys.json (mwx.exchange.keys)."""
    from mwx.exchange.keys import KEYS_FILE, check_partner_code, generate

    partner = check_partner_code(args.partner)
    key_path, pub_path = generate(partner, args.dir, overwrite=args.force)
    print(f"{key_path}: private key of {partner} (PEM, mode 0600: keep it on {partner}'s node only)")
    print(f"{pub_path}: public key of {partner}")
    print(f"{Path(args.dir) / KEYS_FILE}: public key of {partner} added (give this file to every partner)")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    """Give a partner a new key pair; in keys.json its old keys end after the overlap (mwx.exchange.keys.rotate)."""
    from mwx.exchange.keys import KEYS_FILE, check_partner_code, parse_utc, rotate

    partner = check_partner_code(args.partner)
    at = parse_utc(args.at) if args.at else None
    if args.at and at is None:
        raise InputError(f"expected an ISO 8601 time with its zone, e.g. 2026-12-05T23:00:00Z, got {args.at!r}",
                         where="--at")  # fmt: skip
    key_path, _ = rotate(partner, args.dir, at=at, overlap_s=args.overlap)
    print(f"{key_path}: new private key of {partner} (0600; the old one is {key_path.name}.retired)")
    print(f"{Path(args.dir) / KEYS_FILE}: {partner}'s new key from {args.at or 'now'}, its old keys end "
          f"{args.overlap:g} s later: give it to every partner; restart {partner}'s node with its new key")  # fmt: skip
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    """Mark one of a partner's public keys revoked in keys.json (mwx.exchange.keys.revoke)."""
    from mwx.exchange.keys import check_partner_code, revoke

    partner = check_partner_code(args.partner)
    key = Path(args.key).read_text(encoding="ascii").strip() if Path(args.key).is_file() else args.key
    revoke(partner, key, args.keys)
    print(f"{args.keys}: that key of {partner} is revoked: nodes reading this file refuse what it signs")
    return 0


# --------------------------------------------------------------------------- nats-config
def cmd_nats_config(args: argparse.Namespace) -> int:
    """Write the certificates, every hub server's and every leaf's nats-server config and credentials.json
    (mwx.exchange.natsconf, mwx.exchange.certs)."""
    from mwx.exchange.certs import client_name
    from mwx.exchange.natsconf import (
        DEFAULT_HUB_CLIENT_PORT,
        DEFAULT_HUB_CLUSTER_PORT,
        DEFAULT_HUB_LEAF_PORT,
        MAX_HUB_SERVERS,
        Topology,
        leaf_name,
        write_configs,
    )

    participants = [p.strip() for p in args.participants.split(",") if p.strip()]
    leaf_ports: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in (args.leaf_ports or "").split(","))):
        name, sep, port = item.partition("=")
        if not sep or not port.strip().isdigit() or name.strip() not in participants:
            raise InputError(f"expected P=PORT for participants of --participants, got {item!r}", where="--leaf-ports")
        leaf_ports[name.strip()] = int(port)
    n = args.hub_servers
    if not 1 <= n <= MAX_HUB_SERVERS:
        raise InputError(f"the hub needs 1 to {MAX_HUB_SERVERS} servers, got {n}", where="--hub-servers")
    out = Path(args.out)
    hosts = _per_hub_server(args.host, n, "--host", str)
    shared = len(set(hosts)) < n  # servers on one host need ports of their own: one port given counts up
    topology = Topology(
        participants=participants,
        hub_servers=n,
        hub_hosts=hosts,
        hub_client_ports=_per_hub_server(args.hub_port, n, "--hub-port", int, DEFAULT_HUB_CLIENT_PORT, shared),
        hub_leaf_ports=_per_hub_server(args.leaf_port, n, "--leaf-port", int, DEFAULT_HUB_LEAF_PORT, shared),
        hub_cluster_ports=_per_hub_server(
            args.cluster_port, n, "--cluster-port", int, DEFAULT_HUB_CLUSTER_PORT, shared
        ),
        leaf_ports=leaf_ports,
        store_dir=Path(args.store_dir).resolve() if args.store_dir else (out / "jetstream").resolve(),
        sync_interval=args.sync_interval,
    )
    try:
        written = write_configs(topology, out)
    except OSError as err:
        raise InputError(f"cannot write: {err.strerror}", source=str(out)) from None
    t = topology
    for i, name in enumerate(t.hub_names):
        cluster = f", routes on {t.hub_hosts[i]}:{t.hub_cluster_ports[i]}" if n > 1 else ""
        print(
            f"{written[f'{name}.conf']}: hub server {name}, clients on {t.hub_hosts[i]}:{t.hub_client_ports[i]}, "
            f"leaf nodes on {t.hub_hosts[i]}:{t.hub_leaf_ports[i]}{cluster}, JetStream store {t.store_dir / name}"
        )
    for p in t.participants:
        leaf = written[f"{leaf_name(p)}.conf"]
        print(f"{leaf}: leaf of {p} on {t.leaf_host}:{t.leaf_ports[p]} (give it to {p} only)")
    tls = written["tls"]
    print(f"{written['credentials.json']}: every participant's user, password, URLs and TLS files (secret, mode 0600)")
    print(f"{tls / 'ca.pem'}: the exchange's CA certificate (give it to every server and node)")
    print(f"{tls / 'ca.key'}: the CA's private key (mode 0600: keep it here, never on a server or node)")
    print(
        f"{tls}/: each server's certificate and key (hub-N, leaf-P: give leaf-P's to P only), each node's client "
        f"certificate and key ({client_name('P')}: to P only) and the hub operator's (operator); keys mode 0600"
    )
    print(
        f"TLS with client certificates on every port; {n} hub server{'s' if n > 1 else ''}, inbox streams with "
        f"{t.replicas} cop{'ies' if t.replicas > 1 else 'y'} each"
    )
    print(
        "start each with: nats-server -c FILE; then create the inbox streams (mwx.exchange.natsconf.ensure_streams, "
        "with the operator's certificate)"
    )
    return 0


def _per_hub_server(
    text: str | None, n: int, option: str, kind: type, first: object = None, count_up: bool = False
) -> list:
    """``text`` as one value per hub server: ``A,B,C`` as given, or one value for all (``count_up``: ports
    count up from it, for servers that share a host)."""
    if text is None:
        if first is None:
            return []
        text = str(first)
    values = [v.strip() for v in str(text).split(",") if v.strip()]
    try:
        parsed = [kind(v) for v in values]
    except ValueError:
        raise InputError(f"expected a value or one per hub server, got {text!r}", where=option) from None
    if len(parsed) == 1 and n > 1:
        parsed = [parsed[0] + i for i in range(n)] if count_up else parsed * n
    if len(parsed) != n:
        raise InputError(f"expected one value or {n} (one per hub server), got {len(parsed)}", where=option)
    return parsed


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="mwx", description="mwx: missile-warning exchange — simulate, track, share, fuse and warn."
    )
    parser.add_argument("--version", action="version", version=f"mwx {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run a scenario and write the run folder",
        description="Run a scenario file end to end (embedded bus) and write the run folder (see docs/run-folder.md).",
    )
    run.add_argument("scenario", help="scenario YAML file")
    run.add_argument("--out", required=True, help="run folder to write (created if missing)")
    run.add_argument("--quiet", action="store_true", help="no progress display")
    run.add_argument(
        "--policy", metavar="FILE", help="release policy YAML (docs/exchange.md); default: everything to everyone"
    )
    run.add_argument(
        "--bus",
        choices=("embedded", "nats"),
        default="embedded",
        help="embedded: one process, no server (default); nats: hub and leaf nats-servers, one process per partner",
    )
    run.add_argument(
        "--speed",
        type=float,
        default=20.0,
        help="with --bus nats or --http: scenario seconds per wall-clock second (default 20)",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="write into --out even if it holds other files; with --bus nats, remove an earlier NATS run's nats/ "
        "folder (journals, JetStream store) from it",
    )
    run.add_argument(
        "--exercise-keys",
        action="store_true",
        help="embedded bus only: sign with keys derived from the scenario seed, so envelopes repeat byte for byte "
        "(anyone with the scenario can sign as any partner; default: fresh keys held in memory for the run)",
    )
    _add_console_options(run, what="while the run goes on, paced at --speed")
    run.set_defaults(func=cmd_run)

    node = sub.add_parser(
        "node",
        help="run one partner's node on NATS (started by mwx run --bus nats)",
        description="Run one participant as a long-lived node: its sensor feed, tracking, the signed exchange "
        "over its NATS leaf server, fusion, warnings and its journal, configured by DIR/node.json.",
    )
    node.add_argument("--partner", required=True, help="participant code, e.g. JP (or fused for the observer)")
    node.add_argument("--config", required=True, metavar="DIR", help="folder holding node.json")
    node.add_argument("--http", type=int, metavar="PORT",
                      help="serve this partner's console and API on PORT (0: a free one)")  # fmt: skip
    node.add_argument("--http-host", metavar="HOST", help="address to serve the console on (default 127.0.0.1)")
    node.add_argument("--token-file", metavar="FILE",
                      help="the console's token, mode 0600 (made if missing; default DIR/console.token)")  # fmt: skip
    node.set_defaults(func=cmd_node)

    demo = sub.add_parser(
        "demo",
        help="run the built-in demo scenario",
        description="Run the built-in scenario: "
        "an overflight of Japan like 4 Oct 2022 and an SRBM pair into the Sea of Japan.",
    )
    demo.add_argument("--out", default="demo-run", help="run folder to write (default: demo-run)")
    demo.add_argument("--force", action="store_true", help="write into --out even if it holds other files")
    demo.add_argument("--quiet", action="store_true", help="no progress display")
    demo.add_argument("--speed", type=float, default=20.0,
                      help="with --http: scenario seconds per wall-clock second (default 20)")  # fmt: skip
    _add_console_options(demo, what="while the demo goes on, paced at --speed")
    demo.set_defaults(func=cmd_demo)

    view = sub.add_parser(
        "view",
        help="replay a finished run in the consoles",
        description="Serve each partner's console over a run folder, with a time slider, play/pause and speed "
        "(the picture at any instant as the run folder has it).",
    )
    view.add_argument("dir", metavar="DIR", help="run folder (written by mwx run or mwx demo)")
    view.add_argument("--http", type=int, default=8000, metavar="PORT", help="port to serve on (default 8000; 0: any)")
    view.add_argument("--http-host", default="127.0.0.1", metavar="HOST",
                      help="address to serve on (default 127.0.0.1: this machine only)")  # fmt: skip
    view.set_defaults(func=cmd_view, cot=None)

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

    theater = sub.add_parser(
        "theater",
        help="show a built-in theater and map its sensor coverage",
        description="Built-in theaters: partners, sensors (generic, notional values) and protected areas.",
    )
    theater_sub = theater.add_subparsers(dest="theater_command", required=True, metavar="SUBCOMMAND")
    tlist = theater_sub.add_parser("list", help="list the built-in theaters", description="List the built-in theaters.")
    tlist.set_defaults(func=cmd_theater_list)
    show = theater_sub.add_parser(
        "show",
        help="print a theater's partners, sensors and protected areas",
        description="Print a built-in theater: partners, every sensor with its settings (generic, notional "
        "values) and the protected areas with their area.",
    )
    show.add_argument("name", nargs="?", default=DEFAULT_THEATER, help=f"theater name (default: {DEFAULT_THEATER})")
    show.set_defaults(func=cmd_theater_show)
    tmap = theater_sub.add_parser(
        "map",
        help="draw the radars' coverage at a few target altitudes to a PNG",
        description="Draw where each radar detects a target at a few altitudes (in its field of regard, line of "
        "sight clear of the WGS-84 ellipsoid, single-look Pd at least --min-pd for a target of --rcs) over "
        "coastlines and the partners' territory and EEZ; infrared satellites as their visible region.",
    )
    tmap.add_argument("name", nargs="?", default=DEFAULT_THEATER, help=f"theater name (default: {DEFAULT_THEATER})")
    tmap.add_argument("--out", required=True, help="PNG file to write")
    tmap.add_argument(
        "--altitudes",
        default=DEFAULT_MAP_ALTITUDES_KM,
        metavar="KM,KM,...",
        help=f"1 to 4 target heights above the ellipsoid in km (default: {DEFAULT_MAP_ALTITUDES_KM})",
    )
    tmap.add_argument(
        "--rcs", type=float, default=1.0, metavar="M2", help="target radar cross-section in m² (default: 1)"
    )
    tmap.add_argument(
        "--min-pd",
        type=float,
        default=0.5,
        metavar="P",
        help="single-look detection probability to count (default: 0.5)",
    )
    tmap.add_argument(
        "--time",
        metavar="ISO8601",
        help="time for the infrared satellites not in geostationary orbit, e.g. 2022-10-03T22:30:00Z "
        "(default: show geostationary ones only)",
    )
    tmap.set_defaults(func=cmd_theater_map)

    report = sub.add_parser(
        "report",
        help="print a run folder's results as text",
        description="Text reports of a run folder (see docs/run-folder.md).",
    )
    report_sub = report.add_subparsers(dest="report_command", required=True, metavar="SUBCOMMAND")
    revents = report_sub.add_parser(
        "events",
        help="print the launch event reports as a defence ministry would",
        description="Print each launch event report of DIR/events.json as a short statement: local and UTC "
        "launch time, launch place, direction, range and apogee, class, territory passed over, impact place and "
        "sea, EEZ, 95 % impact ellipse and flight time. Places come from an approximate gazetteer.",
    )
    revents.add_argument("dir", metavar="DIR", help="run folder (written by mwx run or mwx demo)")
    revents.add_argument(
        "--partner",
        action="append",
        metavar="P",
        help="only this partner's events: KR, JP, US or fused (repeat for several; default: all)",
    )
    revents.add_argument("--final-only", action="store_true", help='leave out provisional events ("final": false)')
    revents.set_defaults(func=cmd_report_events)

    exp = sub.add_parser(
        "export",
        help="write a run folder's standard exports: GeoJSON, KML, CZML, CoT",
        description="Write the run folder's tracks, true trajectories, launch and impact points, 95 % impact "
        "ellipses, alert areas and sensors as GeoJSON (run.geojson), KML (run.kml), CZML (run.czml) and "
        "Cursor-on-Target events for TAK (cot/*.cot); see docs/exports.md.",
    )
    exp.add_argument("dir", metavar="DIR", help="run folder (written by mwx run or mwx demo)")
    exp.add_argument(
        "--format",
        action="append",
        metavar="FORMAT",
        help="geojson, kml, czml or cot (repeat for several; default: all)",
    )
    exp.add_argument("--out", metavar="OUTDIR", help="folder to write (created if missing; default: DIR/exports)")
    exp.set_defaults(func=cmd_export)

    keys = sub.add_parser(
        "keys",
        help="make partners' signing keys",
        description="Ed25519 keys that sign and verify exchanged messages (see docs/exchange.md).",
    )
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="SUBCOMMAND")
    kgen = keys_sub.add_parser(
        "generate",
        help="write a partner's key pair and add its public key to keys.json",
        description="Write DIR/PARTNER.key (private key, PEM, mode 0600) and DIR/PARTNER.pub (public key, base64) "
        "and add or replace the partner's public key in DIR/keys.json, the file every node verifies with.",
    )
    kgen.add_argument("partner", metavar="PARTNER", help="partner code: 2 to 8 upper-case letters, e.g. KR (or fused)")
    kgen.add_argument("--dir", default="keys", metavar="DIR", help="folder of the key files (default: keys)")
    kgen.add_argument("--force", action="store_true", help="replace an existing private key of the partner")
    kgen.set_defaults(func=cmd_keys_generate)
    krot = keys_sub.add_parser(
        "rotate",
        help="give a partner a new key pair; its old keys end after an overlap",
        description="Write a new DIR/PARTNER.key and .pub (the old private key kept as PARTNER.key.retired) and, "
        "in DIR/keys.json, start the new key at --at while the partner's old keys end --overlap seconds later.",
    )
    krot.add_argument("partner", metavar="PARTNER", help="partner code: 2 to 8 upper-case letters, e.g. KR (or fused)")
    krot.add_argument("--dir", default="keys", metavar="DIR", help="folder of the key files (default: keys)")
    krot.add_argument("--at", metavar="TIME", help="when the new key starts, ISO 8601 with zone (default: now)")
    krot.add_argument("--overlap", type=float, default=600.0, metavar="S",
                      help="seconds the old keys still sign after --at (default: 600)")  # fmt: skip
    krot.set_defaults(func=cmd_keys_rotate)
    krev = keys_sub.add_parser(
        "revoke",
        help="revoke one of a partner's public keys in keys.json",
        description="Mark a partner's public key revoked in keys.json: nodes reading the file (they re-read it "
        "when it changes) refuse every envelope it signed, as revoked-key.",
    )
    krev.add_argument("partner", metavar="PARTNER", help="partner code: 2 to 8 upper-case letters, e.g. KR (or fused)")
    krev.add_argument("--key", required=True, metavar="KEY", help="the public key: base64, or a .pub file")
    krev.add_argument("--keys", default="keys/keys.json", metavar="FILE", help="keys.json (default: keys/keys.json)")
    krev.set_defaults(func=cmd_keys_revoke)

    nats_config = sub.add_parser(
        "nats-config",
        help="write the NATS server configs and certificates of a deployment",
        description="Write hub-N.conf for each server of the US-run hub (a JetStream cluster: one account and "
        "inbox stream per participant, each stream kept on up to 3 servers), leaf-P.conf for each participant's "
        "leaf node, credentials.json (random passwords) and tls/ (a private CA and a certificate for every server "
        "and node: TLS with client certificates on every link), for nats-server 2.9+ (see mwx.exchange.natsconf). "
        "The files holding passwords or keys are written mode 0600.",
    )
    nats_config.add_argument("--participants", required=True, metavar="P,P,...", help="e.g. KR,JP,US,fused")
    nats_config.add_argument("--out", required=True, metavar="DIR", help="folder to write (created if missing)")
    nats_config.add_argument(
        "--hub-servers", type=int, default=3, metavar="N", help="servers of the hub (default 3; 1: no cluster)"
    )
    nats_config.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="H[,H,...]",
        help="the hub servers' address (one, or one per server): they listen there, leaves dial it",
    )
    nats_config.add_argument(
        "--hub-port",
        metavar="N[,N,...]",
        help="client port per hub server, or one for all (default 4222; servers sharing a host count up from it)",
    )
    nats_config.add_argument(
        "--leaf-port",
        metavar="N[,N,...]",
        help="leaf port per hub server, or one for all (default 7422; servers sharing a host count up from it)",
    )
    nats_config.add_argument(
        "--cluster-port",
        metavar="N[,N,...]",
        help="route port per hub server, or one for all (default 6222; servers sharing a host count up from it)",
    )
    nats_config.add_argument(
        "--leaf-ports", metavar="P=N,...", help="client port of each leaf (default: up from 4223, after the hub's)"
    )
    nats_config.add_argument("--store-dir", metavar="DIR", help="hub JetStream stores (default DIR/jetstream/hub-N)")
    nats_config.add_argument(
        "--sync-interval",
        metavar="always|DURATION",
        help="JetStream fsync interval of the hub servers (always: before every acknowledgement); nats-server "
        "2.10+ only, 2.9 refuses the key and fsyncs every 60 s (docs/exchange.md)",
    )
    nats_config.set_defaults(func=cmd_nats_config)

    from mwx.ttx import commands as exercise_commands

    exercise_commands.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with signals_end_the_run():
            return int(args.func(args))
    except Interrupted as err:  # SIGTERM or SIGINT: the with blocks have stopped every child process
        print(f"mwx: {err}", file=sys.stderr)
        return err.exit_code
    except InputError as err:
        print(f"mwx: {err.one_line()}", file=sys.stderr)
        return 2
    except MwxError as err:
        print(f"mwx: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
