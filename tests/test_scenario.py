"""Scenario files: good ones load, bad ones give one clear line naming file, place and problem."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mwx.errors import InputError
from mwx.geo import wgs84
from mwx.sim.scenario import load_scenario, missiles, parse_scenario
from mwx.sim.truth import fly

GOOD = """\
name: oct-2022-overflight
theater: korea-japan
seed: 7
launches:
  - id: L1
    time: 2022-10-03T22:22:00Z
    site: {lat: 40.61, lon: 126.43}
    azimuth_deg: 80
    apogee_km: 970
    range_km: 4500
  - time: 2022-10-03T23:00:00Z
    site: {lat: 39.2, lon: 125.7}
    aim: {lat: 39.5, lon: 131.0}
    apogee_km: 80
    count: 3
    interval_s: 20
"""


def test_good_scenario_loads_with_defaults_and_salvo_ids() -> None:
    scenario = parse_scenario(GOOD)
    assert scenario.theater == "korea-japan" and scenario.seed == 7
    flying = missiles(scenario)
    assert [m.id for m in flying] == ["L1", "L2", "L2.2", "L2.3"]
    assert flying[2].launch_time - flying[1].launch_time == 20.0
    assert math.isclose(flying[0].brief.apogee, 970e3)


def test_theater_defaults_to_korea_japan() -> None:
    text = GOOD.replace("theater: korea-japan\n", "")
    assert parse_scenario(text).theater == "korea-japan"


def _error(text: str) -> InputError:
    with pytest.raises(InputError) as info:
        parse_scenario(text, "s.yaml")
    return info.value


@pytest.mark.parametrize(
    ("old", "new", "where", "words"),
    [
        ("    apogee_km: 80\n", "    apogee_km: 80\n    colour: red\n", "launches[1].colour", "unknown key"),
        ("apogee_km: 80", "apogee_km: eighty", "launches[1].apogee_km", "expected `float`"),
        ("site: {lat: 39.2", "site: {lat: 95", "launches[1].site.lat", "<= 90"),
        ("apogee_km: 80", "apogee_km: 20000", "launches[1].apogee_km", "burnout speed"),
        ("apogee_km: 80", "apogee_km: 5", "launches[1].apogee_km", "apogee 5 km"),
        ("seed: 7", "seed: -1", "seed", ">= 0"),
        ("    apogee_km: 970\n", "", "launches[0].apogee_km", "required key is missing"),
        ("    azimuth_deg: 80\n", "", "launches[0]", "exactly one of"),
        ("    range_km: 4500\n", "", "launches[0].range_km", "required with `azimuth_deg`"),
        ("theater: korea-japan", "theater: atlantis", "theater", "unknown theater"),
        ("time: 2022-10-03T22:22:00Z", "time: 2022-10-03T22:22:00", "launches[0].time", "timezone"),
        ("- id: L1\n", "- id: L2\n", "launches[1].id", "duplicate"),
    ],
)
def test_bad_input_names_the_place(old: str, new: str, where: str, words: str) -> None:
    assert old in GOOD
    err = _error(GOOD.replace(old, new, 1))
    assert err.source == "s.yaml"
    assert err.where == where
    assert words in err.problem
    assert err.one_line().startswith(f"s.yaml: {where}: ")


def test_malformed_yaml_names_line() -> None:
    err = _error("name: x\nlaunches: [\n  {time: 1\n")
    assert err.problem.startswith("malformed YAML")
    assert err.where.startswith("line ")


def test_not_a_mapping() -> None:
    assert "mapping" in _error("- just\n- a list\n").problem


def test_range_must_agree_with_aim() -> None:
    text = GOOD.replace("    aim: {lat: 39.5, lon: 131.0}\n", "    aim: {lat: 39.5, lon: 131.0}\n    range_km: 900\n")
    err = _error(text)
    assert err.where == "launches[1].range_km" and "disagrees" in err.problem


def test_missing_file_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_scenario(tmp_path / "nope.yaml")


def _mwx(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mwx.cli", *args], capture_output=True, text=True, timeout=120)


def test_cli_bad_input_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("apogee_km: 80", "apogee_km: 20000"))
    for args in (["scenario", "check", str(bad)], ["run", str(bad), "--out", str(tmp_path / "out")]):
        done = _mwx(*args)
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert str(bad) in lines[0] and "launches[1].apogee_km" in lines[0]
        assert "Traceback" not in done.stderr


def test_cli_scenario_check_solves_flights(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    done = _mwx("scenario", "check", str(good))
    assert done.returncode == 0, done.stderr
    assert "L1: apogee 970.0 km, range 4500.0 km" in done.stdout
    assert done.stdout.strip().endswith("OK")


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["demo", "--help"], ["scenario", "check", "--help"]])
def test_cli_help(args: list[str]) -> None:
    done = _mwx(*args)
    assert done.returncode == 0 and "usage: mwx" in done.stdout


# ----------------------------------------------------------------- sensors in the scenario
SENSORS = """\
sensor_overrides:
  KR-R1: {revisit_s: 5, false_alarms_per_scan: 0}
extra_radars:
  - {id: X-R1, partner: JP, site: {lat: 41.0, lon: 135.0}, revisit_s: 3, ref_range_km: 800, max_range_km: 1000,
     sigma_range_m: 30, sigma_az_mrad: 1, sigma_el_mrad: 1, platform: ship}
injects:
  - {kind: sensor_down, sensor: JP-R1, time: 2022-10-03T22:25:00Z, duration_s: 120}
"""


def test_sensor_overrides_extra_sensors_and_injects_apply() -> None:
    from mwx.sim.scenario import theater_of
    from mwx.sim.theater import load_theater

    scenario = parse_scenario(GOOD + SENSORS)
    theater = theater_of(scenario)
    built_in = load_theater(scenario.theater)
    kr = theater.sensor("KR-R1")
    assert kr.revisit_s == 5 and kr.false_alarms_per_scan == 0
    assert kr.sigma_range_m == built_in.sensor("KR-R1").sigma_range_m  # untouched fields stay
    assert built_in.sensor("KR-R1").revisit_s != 5  # the built-in theater is not modified
    assert [s.id for s in theater.sensors if s.id not in {b.id for b in built_in.sensors}] == ["X-R1"]
    (down,) = scenario.injects
    assert down.sensor == "JP-R1" and down.end - down.start == 120


@pytest.mark.parametrize(
    ("old", "new", "where", "words"),
    [
        ("KR-R1: {revisit_s: 5", "KR-R9: {revisit_s: 5", "sensor_overrides.KR-R9", "no sensor"),
        ("{revisit_s: 5,", "{revisit_s: fast,", "sensor_overrides.KR-R1.revisit_s", "expected `float`"),
        ("{revisit_s: 5,", "{revisit_s: -1,", "sensor_overrides.KR-R1.revisit_s", "> 0"),
        ("{revisit_s: 5,", "{colour: red,", "sensor_overrides.KR-R1.colour", "unknown key"),
        ("{revisit_s: 5,", "{id: KR-R7,", "sensor_overrides.KR-R1.id", "cannot be overridden"),
        ("sensor: JP-R1", "sensor: JP-R7", "injects[0].sensor", "no sensor"),
        ("kind: sensor_down", "kind: earthquake", "injects[0].kind", "invalid value 'earthquake'"),
        ("duration_s: 120", "duration_s: -5", "injects[0].duration_s", "> 0"),
        ("platform: ship", "platform: balloon", "extra_radars[0].platform", "balloon"),
        ("partner: JP, site", "partner: FR, site", "extra_radars[0].partner", "unknown partner"),
        ("id: X-R1", "id: KR-R2", "extra_radars[0].id", "duplicate sensor id"),
    ],
)
def test_bad_sensor_settings_name_the_place(old: str, new: str, where: str, words: str) -> None:
    text = GOOD + SENSORS
    assert old in text
    err = _error(text.replace(old, new, 1))
    assert err.where == where
    assert words in err.problem


def test_separating_stages_is_checked() -> None:
    assert parse_scenario(GOOD.replace("    range_km: 4500\n", "    range_km: 4500\n    separating_stages: 2\n"))
    err = _error(GOOD.replace("    range_km: 4500\n", "    range_km: 4500\n    separating_stages: 3\n"))
    assert err.where == "launches[0].separating_stages"


def test_ballistic_coefficients_are_checked() -> None:
    for key, bad in (("reentry_beta_kg_m2", 100), ("stage_beta_kg_m2", 50000)):
        err = _error(GOOD.replace("    range_km: 4500\n", f"    range_km: 4500\n    {key}: {bad}\n"))
        assert err.where == f"launches[0].{key}"


def test_ballistic_coefficients_reach_the_flown_objects() -> None:
    """A lighter re-entry body lands slower (still on the aim point: the flight is solved with it); a lighter
    spent stage falls shorter."""
    text = """\
name: beta
launches:
  - {{time: 2024-01-01T00:00:00Z, site: {{lat: 39.0, lon: 125.7}}, azimuth_deg: 90, apogee_km: 150,
     range_km: 600, separating_stages: 1, reentry_beta_kg_m2: {body}, stage_beta_kg_m2: {stage}}}
"""
    flown = {}
    for body, stage in ((3000, 200), (20000, 1500)):
        (launch,) = fly(parse_scenario(text.format(body=body, stage=stage)))
        rv, spent = launch.objects
        flown[body] = (np.linalg.norm(rv.ecef[-1, 3:]), rv.ecef[-1, :3], spent.ecef[-1, :3])
    (slow, light_end, light_stage), (fast, heavy_end, heavy_stage) = flown[3000], flown[20000]
    assert slow < 0.8 * fast
    assert np.linalg.norm(light_end - heavy_end) < 6e3  # both on the aim point (1 % of the range)
    site = wgs84.geodetic_to_ecef(math.radians(39.0), math.radians(125.7), 0.0)
    assert np.linalg.norm(light_stage - site) < np.linalg.norm(heavy_stage - site) - 1e3
