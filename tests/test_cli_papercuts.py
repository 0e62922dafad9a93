"""Papercuts of the command line found by trying it as a new user would (issue 15), each fixed with a test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mwx import __version__
from mwx.cli import main


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_mwx_version_says_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"mwx {__version__}" and __version__[0].isdigit()


def test_theater_map_writes_png_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It once wrote PNG bytes into x.svg: a file a browser or an editor then refuses."""
    assert main(["theater", "map", "korea-japan", "--out", str(tmp_path / "x.svg")]) == 2
    assert "PNG image" in error_line(capsys) and not (tmp_path / "x.svg").exists()


@pytest.mark.parametrize("kind", ["file", "proc", "source folder"])
def test_run_refuses_an_out_it_must_not_write_before_any_simulation(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file, a place no one can write, or a folder of other things: one line, exit 2, nothing simulated."""
    scenario = Path(__file__).parent / "data" / "scenarios" / "small.yaml"
    if kind == "file":
        out = tmp_path / "notes.txt"
        out.write_text("mine")
    elif kind == "proc":
        out = Path("/proc") / str(os.getpid()) / "run"
    else:
        out = tmp_path / "src"
        out.mkdir()
        (out / "main.py").write_text("print('mine')\n")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 2
    line = error_line(capsys)
    assert str(out) in line or str(out.parent) in line
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before  # untouched
    assert not (tmp_path / "src" / "events.json").exists()


def test_run_into_a_folder_of_other_things_goes_ahead_with_force(tmp_path: Path) -> None:
    from mwx.cli import check_out_folder

    out = tmp_path / "src"
    out.mkdir()
    (out / "main.py").write_text("print('mine')\n")
    check_out_folder(out, force=True)  # no error
    (out / "main.py").unlink()
    (out / "events.json").write_text("{}")  # a run folder (an earlier run's) is written over without --force
    check_out_folder(out, force=False)


# --------------------------------------------------------------------------- keys generate jp
@pytest.mark.parametrize(("typed", "meant"), [("jp", "JP"), ("Jp", "JP"), ("FUSED", "fused")])
def test_keys_refuse_a_partner_code_in_the_wrong_case(
    typed: str, meant: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``keys generate jp`` once made a partner ``jp`` beside ``JP`` (the theaters' codes are upper case; the
    observer is ``fused``)."""
    assert main(["keys", "generate", meant, "--dir", str(tmp_path)]) == 0
    capsys.readouterr()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for command in ("generate", "rotate"):
        assert main(["keys", command, typed, "--dir", str(tmp_path)]) == 2
        assert error_line(capsys).endswith(f"(did you mean {meant}?)")
    assert main(["keys", "revoke", typed, "--key", "x", "--keys", str(tmp_path / "keys.json")]) == 2
    assert f"(did you mean {meant}?)" in error_line(capsys)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing written


# --------------------------------------------------------------------------- range_km round the Earth
def _scenario(tmp_path: Path, launch: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"name: papercut\nseed: 1\nlaunches:\n  - id: P1\n    time: 2023-04-13T01:00:00Z\n{launch}")
    return path


@pytest.mark.parametrize("range_km", [1000000, 25000])
def test_a_range_round_the_earth_is_called_what_it_is(
    range_km: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With ``azimuth_deg`` (no ``aim``) such a range was said to disagree with "the 1203 km to `aim`"."""
    scenario = _scenario(
        tmp_path,
        f"    site: {{lat: 39.2, lon: 125.67}}\n    azimuth_deg: 85\n    apogee_km: 90\n    range_km: {range_km}\n",
    )
    for argv in (["scenario", "check", str(scenario)], ["run", str(scenario), "--out", str(tmp_path / "o"), "--quiet"]):
        assert main(argv) == 2
        line = error_line(capsys)
        assert line == (
            f"mwx: {scenario}: launches[0].range_km: ground range {range_km} km is outside the ballistic envelope "
            "(20–16000 km), more than half the Earth's circumference (20004 km)"
        )
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- a launch no sensor sees
SOUTH_ATLANTIC = "    site: {lat: -40.0, lon: -20.0}\n    azimuth_deg: 90\n    apogee_km: 90\n    range_km: 600\n"
UNCOVERED = "launches[0] (P1): no sensor of theater korea-japan covers any part of its flight: it cannot be detected"


def test_a_launch_no_sensor_covers_is_said_before_the_run(tmp_path: Path) -> None:
    """It once ran silently all the way to "not detected"."""
    import subprocess
    import sys

    scenario = _scenario(tmp_path, SOUTH_ATLANTIC)
    done = subprocess.run(
        [sys.executable, "-m", "mwx.cli", "run", str(scenario), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    err = done.stderr.splitlines()
    assert err[0] == f"mwx: warning: {scenario}: {UNCOVERED}"  # before any progress line
    assert "flying the missiles" in err[1] and sum(line.startswith("mwx: warning") for line in err) == 1
    assert "not detected" in done.stdout


def test_scenario_check_says_which_launch_no_sensor_covers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = _scenario(tmp_path, SOUTH_ATLANTIC)
    assert main(["scenario", "check", str(scenario)]) == 0
    captured = capsys.readouterr()
    assert captured.err == f"mwx: warning: {scenario}: {UNCOVERED}\n" and captured.out.endswith("OK\n")
    # 600 km east of 40° S 20° W falls at about 39.8° S 13° W: hemispheres by letter, never "-39.8°N".
    assert "impact 39.79°S 12.99°W" in captured.out, captured.out
    demo = Path(__file__).parents[1] / "src" / "mwx" / "data" / "scenarios" / "demo.yaml"
    assert main(["scenario", "check", str(demo)]) == 0
    assert capsys.readouterr().err == ""  # every launch of the demo is covered


def test_the_sensors_that_detect_a_flight_are_among_those_said_to_cover_it() -> None:
    """The check asks the simulator's questions: a sensor that detects a missile in the simulation covers it,
    and a sensor said not to cover it never detects it."""
    from mwx.sim import sensors
    from mwx.sim.coverage import sensors_covering_flight
    from mwx.sim.scenario import load_scenario, theater_of
    from mwx.sim.truth import fly

    scenario = load_scenario(Path(__file__).parent / "data" / "scenarios" / "warn-srbm-kr.yaml")
    theater = theater_of(scenario)
    truth = fly(scenario)
    objects = [o for launch in truth for o in launch.objects]
    t0, t1 = min(x.launch_time for x in truth), max(x.impact_time for x in truth)
    m = sensors.simulate_sensors(theater.sensors, objects, t0, t1, scenario.seed).measurements
    for launch in truth:
        (warhead,) = [i for i, o in enumerate(objects) if o.launch_id == launch.missile.id]
        detected = {theater.sensors[i].id for i in m.sensor[m.object == warhead]}
        covering = set(
            sensors_covering_flight(theater, objects[warhead].t, objects[warhead].ecef, objects[warhead].burnout)
        )
        assert detected and detected <= covering < {s.id for s in theater.sensors}


# --------------------------------------------------------------------------- did you mean
@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["rnu"], "mwx: unknown command 'rnu' (did you mean 'run'?)"),
        (["theater", "shwo"], "mwx theater: unknown command 'shwo' (did you mean 'show'?)"),
        (["keys", "genrate", "KR"], "mwx keys: unknown command 'genrate' (did you mean 'generate'?)"),
    ],
)
def test_a_mistyped_command_gets_one_line_and_the_closest(
    argv: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert error_line(capsys) == line


def test_an_unknown_command_like_none_lists_them(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["xyzzy"])
    assert info.value.code == 2
    assert error_line(capsys).startswith("mwx: unknown command 'xyzzy' (commands: run, ")


@pytest.mark.parametrize(
    ("typo", "where", "meant"),
    [
        ("azimuth_deg: 85", "launches[0].azimth_deg", "azimuth_deg"),
        ("lon: 125.67", "launches[0].site.lng", "lon"),
        ("seed: 1", "sed", "seed"),
    ],
)
def test_a_mistyped_scenario_key_gets_the_closest(
    typo: str, where: str, meant: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    launch = "    site: {lat: 39.2, lon: 125.67}\n    azimuth_deg: 85\n    apogee_km: 90\n    range_km: 650\n"
    scenario = _scenario(tmp_path, launch)
    text = scenario.read_text()
    scenario.write_text(text.replace(typo, typo.replace(meant, where.rsplit(".", 1)[-1]), 1))
    assert main(["scenario", "check", str(scenario)]) == 2
    assert error_line(capsys) == f"mwx: {scenario}: {where}: unknown key (did you mean `{meant}`?)"


def test_a_mistyped_sensor_setting_or_inject_key_gets_the_closest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    launch = "    site: {lat: 39.2, lon: 125.67}\n    azimuth_deg: 85\n    apogee_km: 90\n    range_km: 650\n"
    scenario = _scenario(tmp_path, launch + "sensor_overrides:\n  KR-R1: {revisit: 5}\n")
    assert main(["scenario", "check", str(scenario)]) == 2
    assert error_line(capsys).endswith("sensor_overrides.KR-R1.revisit: unknown key (did you mean `revisit_s`?)")
    scenario = _scenario(
        tmp_path,
        launch + "injects:\n  - {kind: link_loss, a: KR, b: JP, time: 2023-04-13T01:00:00Z, duration_s: 60, "
        "probabilty: 0.5}\n",
    )
    assert main(["scenario", "check", str(scenario)]) == 2
    assert error_line(capsys).endswith("injects[0].probabilty: unknown key (did you mean `probability`?)")


# --------------------------------------------------------------------------- make demo installs no test tools
def test_make_demo_installs_mwx_without_the_test_tools(tmp_path: Path) -> None:
    """``make demo`` once installed ``.[test]`` (pytest, ruff, mypy, ...); ``make test`` and ``make venv`` need them."""
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("no make")
    root = Path(__file__).parents[1]
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(root / name, tmp_path / name)

    def installs(target: str) -> list[str]:
        done = subprocess.run(["make", "-n", target], cwd=tmp_path, capture_output=True, text=True, check=True)
        return [line for line in done.stdout.splitlines() if "pip install" in line and "--upgrade pip" not in line]

    (demo,) = installs("demo")
    assert demo.split()[-2:] == ["-e", "."]
    for target in ("test", "venv"):
        (line,) = installs(target)
        assert line.split()[-2:] == ["-e", "'.[test]'"]
