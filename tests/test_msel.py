"""MSEL files: the sample loads and makes the right scenario, the CSV round trip is exact, and every broken MSEL
gives one line naming the file, the place and the problem."""

from __future__ import annotations

import csv
import io
import math
import random
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from pyproj import Geod

from mwx.errors import InputError
from mwx.sim.coverage import radar_detection_probability
from mwx.sim.scenario import (
    BreakUp,
    LinkDown,
    LinkLatency,
    LinkLoss,
    SensorDown,
    SpuriousTrack,
    ThrustTermination,
    Withhold,
    encode_scenario,
    load_scenario,
    parse_scenario,
)
from mwx.sim.theater import Radar, load_theater
from mwx.ttx.msel import (
    CSV_COLUMNS,
    Msel,
    encode_msel,
    format_offset,
    injects_csv,
    injects_in_order,
    known_exercises,
    launch_ids,
    load_msel,
    parse_msel,
    parse_offset,
    sample_path,
    scenario_of,
    with_injects_from_csv,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sample() -> Msel:
    return load_msel(sample_path("oct-2022-ttx"))


# --------------------------------------------------------------------------- the sample


def test_sample_is_shipped_and_parses(sample: Msel) -> None:
    assert "oct-2022-ttx" in known_exercises()
    assert sample.name == "oct-2022-ttx"
    assert sample.start == datetime(2022, 10, 3, 22, 20, tzinfo=UTC)
    assert sample.duration_min == 40 and sample.theater == "korea-japan" and sample.seed == 7
    assert sample.cells == ["KR", "JP", "US"]
    assert [m.id for m in sample.modules] == ["M1", "M2", "M3", "M4"]
    assert launch_ids(sample) == ["L1", "L2"]
    assert set(sample.players) == {"KR", "JP", "US"}


def test_sample_gives_every_cell_discussion(sample: Msel) -> None:
    injects = [t.inject for t in injects_in_order(sample)]
    for cell in sample.cells:
        questions = [i for i in injects if i.kind == "question" and i.to == [cell]]
        assert len(questions) >= 2, cell  # questions to the cell alone ...
    kinds = {i.kind for i in injects if "all" in i.to}
    assert {"situation", "question", "media"} <= kinds  # ... and to everyone
    assert any(i.kind == "media" and "Tokyo" in (i.text or "") for i in injects)


def test_sample_evaluation_guide_uses_the_measures(sample: Msel) -> None:
    tasks = {t.id: t for c in sample.capabilities for t in c.tasks}
    measures = {t.measure for t in tasks.values()}
    assert {
        "first_shared_track",
        "consultation_opened",
        "assessment_shared",
        "assessment_agreed",
        "public_warning",
        "inject_answered",
    } <= measures
    warning = next(t for t in tasks.values() if t.measure == "public_warning")
    assert (warning.cell, warning.reference.launch, warning.target_s) == ("JP", "L1", 300)
    answered = [t for t in tasks.values() if t.measure == "inject_answered"]
    assert {t.cell for t in answered} == {"KR", "JP", "US"} and {t.target_s for t in answered} == {180}


def test_scenario_of_the_sample(sample: Msel) -> None:
    scenario = scenario_of(sample)
    assert (scenario.name, scenario.theater, scenario.seed) == ("oct-2022-ttx", "korea-japan", 7)
    # The launches are the demo scenario's, to the second.
    assert scenario.launches == load_scenario(ROOT / "src/mwx/data/scenarios/demo.yaml").launches
    l1, l2 = scenario.launches
    assert l1.time == datetime(2022, 10, 3, 22, 22, 47, tzinfo=UTC) and l1.time.tzinfo is UTC
    assert (l2.id, l2.count, l2.interval_s, l2.apogee_km) == ("L2", 2, 60.0, 60.0)
    cut, ghost = scenario.injects
    assert cut == LinkDown(time=datetime(2022, 10, 3, 22, 26, tzinfo=UTC), duration_s=300.0, a="KR", b="US")
    assert isinstance(ghost, SpuriousTrack) and ghost.sensor == "JP-R1" and 120 <= ghost.duration_s <= 180
    # Realistic times: the cut while L1 flies (about 22 min), the ghost between the launches, all before ENDEX.
    assert l1.time.timestamp() < cut.start and cut.end < l1.time.timestamp() + 20 * 60
    assert l1.time.timestamp() < ghost.start and ghost.end < l2.time.timestamp()
    assert l2.time.timestamp() + 60 + 6 * 60 < sample.t_end
    assert parse_scenario(encode_scenario(scenario)) == scenario


def test_sample_ghost_is_inside_its_radars_coverage(sample: Msel) -> None:
    ghost = scenario_of(sample).injects[1]
    assert isinstance(ghost, SpuriousTrack)
    radar = load_theater("korea-japan").sensor(ghost.sensor)
    assert isinstance(radar, Radar)
    g = ghost.ghost
    # Start, and a crude ballistic arc (flat Earth, net gravity 9.5 m/s² less the centripetal term) to the end.
    horizontal = g.speed_mps * math.cos(math.radians(g.climb_deg))
    climb = g.speed_mps * math.sin(math.radians(g.climb_deg))
    for t in (0.0, ghost.duration_s / 2, ghost.duration_s):
        alt = g.alt_km * 1e3 + climb * t - 0.5 * (9.5 - horizontal**2 / 6.37e6) * t * t
        lon, lat, _ = Geod(ellps="WGS84").fwd(g.lon, g.lat, g.heading_deg, horizontal * t)
        assert radar_detection_probability(radar, lat, lon, alt, g.rcs_m2) > 0.9, t


def test_injects_in_order_resolve_times(sample: Msel) -> None:
    timed = injects_in_order(sample)
    assert timed[0].time == sample.t_start and timed[-1].time == sample.t_end
    assert [t.time for t in timed] == sorted(t.time for t in timed)
    launch = next(t for t in timed if t.inject.kind == "launch")
    assert launch.time == datetime(2022, 10, 3, 22, 22, 47, tzinfo=UTC).timestamp() and launch.module == "M1"
    tie = [t.inject.to for t in timed if t.time == sample.t_start + 35 * 60]
    assert tie == [["KR"], ["JP"], ["US"]]  # ties keep the file's order


def test_ties_go_by_module_order_then_position() -> None:
    msel = parse_msel(
        SMALL.replace('at: "00:03:00"', 'at: "00:01:00"').replace('at: "00:02:00"', 'at: "00:01:00"'),
    )
    assert [t.inject.id for t in injects_in_order(msel)] == ["I1", "I2", "I3", "I4"]
    reordered = msgspec.structs.replace(msel, modules=msel.modules[::-1])
    assert [t.inject.id for t in injects_in_order(reordered)] == ["I3", "I1", "I2", "I4"]


def test_encode_reads_back_equal(sample: Msel) -> None:
    assert parse_msel(encode_msel(sample)) == sample


# --------------------------------------------------------------------------- offsets


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("00:02:47", 167.0),
        ("2:47", 167.0),
        ("02:47", 167.0),
        ("1:00:00", 3600.0),
        ("100:00:00", 360000.0),
        ("00:02:47.25", 167.25),
        ("167", 167.0),
        ("167.5", 167.5),
        (" 00:00:05 ", 5.0),
        (167, 167.0),
        (0.5, 0.5),
    ],
)
def test_parse_offset(value: str | float, seconds: float) -> None:
    assert parse_offset(value) == seconds


@pytest.mark.parametrize("value", ["4h30", "00:61:00", "00:00:60", "1:2:3:4", "", "-00:01:00", "abc", -1.0, math.nan])
def test_parse_offset_refuses(value: str | float) -> None:
    with pytest.raises(ValueError, match="is not an offset"):
        parse_offset(value)


def test_format_offset() -> None:
    assert format_offset(0) == "00:00:00"
    assert format_offset(167) == "00:02:47"
    assert format_offset(167.5) == "00:02:47.5"
    assert format_offset(1e-5) == "00:00:00.00001"
    assert format_offset(360000) == "100:00:00"
    with pytest.raises(ValueError):
        format_offset(-1)


def test_offsets_round_trip_exactly() -> None:
    rng = random.Random(17)
    values = [rng.uniform(0, 1e5) for _ in range(300)] + [
        rng.randrange(100000) + rng.random() * 1e-9 for _ in range(50)
    ]
    for x in values:
        assert parse_offset(format_offset(x)) == x, x


def test_yaml_base_60_numbers_mean_the_same() -> None:
    # YAML 1.1 reads an unquoted 2:47 as 167 and 1:02:03 as 3723: the same seconds the strings mean.
    msel = parse_msel(SMALL.replace('at: "00:02:00"', "at: 2:47"))
    assert msel.modules[0].injects[1].at == "00:02:47"


# --------------------------------------------------------------------------- CSV


def test_csv_round_trip_of_the_sample_is_exact(sample: Msel) -> None:
    text = injects_csv(sample)
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS)
    assert with_injects_from_csv(sample, text, "s.csv") == sample
    assert with_injects_from_csv(sample, text.encode("utf-8-sig"), "s.csv") == sample  # a spreadsheet's BOM


def test_csv_rows(sample: Msel) -> None:
    rows = injects_csv(sample).splitlines()
    launch = next(r for r in rows if ",launch," in r)
    assert launch.startswith("M1,Move 1 - the IRBM,I02,00:02:47,launch,white,white,")
    assert launch.endswith(
        '"{""launch"":{""site"":{""lat"":40.61,""lon"":126.43},""apogee_km"":970.0,""range_km"":4500.0,'
        '""azimuth_deg"":84.2,""id"":""L1""}}"'
    )
    cut = next(r for r in rows if ",link_down," in r)
    assert cut.endswith('"{""a"":""KR"",""b"":""US"",""duration_s"":300.0}"')
    question = next(r for r in rows if ",I03," in r)
    assert question.endswith(",")  # no params


def test_csv_rows_may_be_reordered_and_padded() -> None:
    msel = parse_msel(SMALL)
    header, *rows = injects_csv(msel).splitlines()
    # Columns in another order, a blank spreadsheet row, module_name left blank after the first row of a module.
    columns = header.split(",")
    order = list(reversed(range(len(columns))))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([columns[k] for k in order])
    for k, record in enumerate(csv.reader(io.StringIO("\n".join(rows)))):
        if k == 1:
            record[1] = ""
        writer.writerow([record[j] for j in order])
        writer.writerow([""] * len(columns))
    assert with_injects_from_csv(msel, out.getvalue()) == msel


def _random_msel(rng: random.Random) -> Msel:
    """A valid MSEL with every kind of inject and awkward texts, through the YAML parser like a file."""
    theater = load_theater("korea-japan")
    partners = theater.partner_ids
    radars = [r.id for r in theater.radars]
    sensors = [s.id for s in theater.sensors]
    texts = ['a, "quoted" text', "two\nlines", "Ünïcödé — 台風", " spaced ", "=1+2", "x"]
    injects: list[dict[str, Any]] = []
    for n in range(rng.randint(2, 12)):
        kind = rng.choice(
            ["launch", "sensor_down", "link_down", "link_latency", "link_loss", "withhold", "spurious_track"]
            + ["situation", "question", "media"] * 2
        )
        at: str | float = rng.choice([rng.randrange(0, 3600), round(rng.uniform(0, 3600), rng.randint(0, 6))])
        if rng.random() < 0.5:
            at = format_offset(float(at))
        inject: dict[str, Any] = {"id": f"X{n}", "at": at, "kind": kind}
        if rng.random() < 0.7:
            inject["to"] = rng.sample([*partners, "all", "white"], rng.randint(1, 3))
        if rng.random() < 0.5:
            inject["from"] = rng.choice([*partners, "white", "media"])
        if kind in ("situation", "question", "media") or rng.random() < 0.5:
            inject["text"] = rng.choice(texts)
        if rng.random() < 0.3:
            inject["expected_action"] = rng.choice(texts)
        if kind not in ("launch", "situation", "question", "media"):
            inject["duration_s"] = rng.choice([1, 60.5, 300])
        if kind == "launch":
            spec: dict[str, Any] = {"site": {"lat": 39.2, "lon": 125.67}, "apogee_km": rng.uniform(60, 600)}
            spec["azimuth_deg"], spec["range_km"] = 90, 900
            if rng.random() < 0.5:
                spec["id"] = f"L{n}"
            if rng.random() < 0.3:
                spec["count"], spec["interval_s"] = 3, 20
            inject["launch"] = spec
        elif kind == "sensor_down":
            inject["sensor"] = rng.choice(sensors)
        elif kind.startswith("link_"):
            inject["a"], inject["b"] = rng.sample([*partners, "fused"], 2)
            if kind == "link_latency" and rng.random() < 0.5:
                inject["latency_s"] = 2.5
            if kind == "link_loss" and rng.random() < 0.5:
                inject["probability"] = 0.25
        elif kind == "withhold":
            inject["partner"], other = rng.sample(partners, 2)
            inject["withheld_from"] = [other]
            if rng.random() < 0.5:
                inject["kinds"] = ["track", "alert"]
        elif kind == "spurious_track":
            inject["sensor"] = rng.choice(radars)
            inject["ghost"] = {"lat": 39.8, "lon": 133.5, "heading_deg": rng.uniform(0, 360)}
        injects.append(inject)
    aimed = {"site": {"lat": 39.2, "lon": 125.67}, "aim": {"lat": 39.5, "lon": 131}, "apogee_km": 80}
    injects.append({"id": "LZ", "at": 0, "kind": "launch", "launch": aimed})
    rng.shuffle(injects)
    cut = rng.randint(1, len(injects) - 1)
    modules = [
        {"id": "A", "name": rng.choice(texts), "injects": injects[:cut]},
        {"id": "B", "name": "Move, two", "injects": injects[cut:]},
    ]
    raw = {"name": "gen", "start": "2022-10-03T22:20:00+09:00", "duration_min": 60, "modules": modules}
    return parse_msel(msgspec.yaml.encode(raw), "gen.yaml")


def test_csv_and_yaml_round_trips_over_generated_msels() -> None:
    rng = random.Random(4)
    for _ in range(25):
        msel = _random_msel(rng)
        assert with_injects_from_csv(msel, injects_csv(msel)) == msel
        assert parse_msel(encode_msel(msel)) == msel
        scenario_of(msel)  # and it makes a scenario


def test_scenario_of_maps_every_technical_kind() -> None:
    msel = parse_msel(SMALL.replace(SMALL_TAIL, SMALL_TAIL + EVERY_KIND))
    injects = scenario_of(msel).injects
    assert {type(i) for i in injects} == {SensorDown, LinkDown, LinkLatency, LinkLoss, Withhold, SpuriousTrack}
    for inject in injects:
        if isinstance(inject, LinkLatency):
            assert inject.latency_s == 1.0  # the scenario's default when the MSEL leaves it out
        elif isinstance(inject, LinkLoss):
            assert inject.probability == 0.3
        elif isinstance(inject, Withhold):
            assert inject.kinds == ["track", "alert"] and inject.withheld_from == ["KR"]
        elif isinstance(inject, SensorDown):
            assert inject.time == datetime(2022, 10, 3, 22, 24, tzinfo=UTC) and inject.duration_s == 120.0


def test_scenario_of_needs_a_launch() -> None:
    msel = msgspec.convert(msgspec.yaml.decode(SMALL), Msel)
    without = msgspec.structs.replace(msel, modules=msel.modules[1:])
    with pytest.raises(InputError, match="no `launch` inject"):
        scenario_of(without)


# --------------------------------------------------------------------------- broken MSELs

SMALL = """\
name: small
start: 2022-10-03T22:20:00Z
duration_min: 30
cells: [KR, JP]
capabilities:
  - id: C1
    name: Warning
    tasks:
      - {id: T1, text: Shared, measure: first_shared_track, from: {launch: L1}, target_s: 60}
      - {id: T2, text: Answered, measure: inject_answered, cell: JP, from: {inject: I3}, target_s: 180}
objectives:
  - {id: O1, text: Warn, capabilities: [C1]}
modules:
  - id: M1
    name: Move 1
    injects:
      - id: I1
        at: "00:01:00"
        kind: launch
        to: [white]
        launch: {id: L1, site: {lat: 40.61, lon: 126.43}, azimuth_deg: 84.2, apogee_km: 970, range_km: 4500}
      - {id: I2, at: "00:02:00", kind: situation, text: A launch.}
  - id: M2
    name: Move 2
    injects:
      - {id: I3, at: "00:03:00", kind: question, to: [JP], text: "Warn?"}
      - {id: I4, at: "00:04:00", kind: sensor_down, sensor: JP-R1, duration_s: 120}
players:
  KR: {answer_s: 30}
"""
SMALL_TAIL = '      - {id: I4, at: "00:04:00", kind: sensor_down, sensor: JP-R1, duration_s: 120}\n'
EVERY_KIND = """\
      - {id: I5, at: "00:05:00", kind: link_down, a: KR, b: US, duration_s: 60}
      - {id: I6, at: "00:05:00", kind: link_latency, a: JP, b: fused, duration_s: 60}
      - {id: I7, at: "00:05:00", kind: link_loss, a: JP, b: US, duration_s: 60, probability: 0.3}
      - {id: I8, at: "00:05:00", kind: withhold, partner: US, withheld_from: [KR], kinds: [track, alert],
         duration_s: 60}
      - {id: I9, at: "00:06:00", kind: spurious_track, sensor: JP-R1, ghost: {lat: 39.8, lon: 133.5}, duration_s: 120}
"""


def test_small_msel_parses_with_defaults() -> None:
    msel = parse_msel(SMALL)
    assert msel.theater == "korea-japan" and msel.seed == 0
    question = msel.modules[1].injects[0]
    assert question.source == "white" and question.to == ["JP"]
    assert msel.modules[0].injects[1].to == ["all"]
    assert parse_msel(SMALL.replace("cells: [KR, JP]\n", "")).cells == ["KR", "JP", "US"]  # the theater's partners


LAUNCH = "launch: {id: L1, site: {lat: 40.61, lon: 126.43}, azimuth_deg: 84.2, apogee_km: 970, range_km: 4500}"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # the schema, with a hint for a misspelt key
        (
            "azimuth_deg: 84.2",
            "azimuth: 84.2",
            "modules[0].injects[0].launch.azimuth: unknown key (did you mean `azimuth_deg`?)",
        ),
        ("duration_min: 30", "duration: 30", "duration: unknown key (did you mean `duration_min`?)"),
        (
            "kind: situation",
            "kind: situaton",
            "modules[0].injects[1].kind: invalid enum value 'situaton' (did you mean `situation`?)",
        ),
        ("target_s: 60", "target_s: 0", "capabilities[0].tasks[0].target_s: expected `float` > 0.0"),
        # times
        (
            'at: "00:02:00"',
            'at: "2 min"',
            "modules[0].injects[1].at: '2 min' is not an offset: write HH:MM:SS or MM:SS (minutes and "
            "seconds 00–59) or a number of seconds",
        ),
        (
            'at: "00:02:00"',
            'at: "00:31:00"',
            "modules[0].injects[1].at: 00:31:00 is after ENDEX at 00:30:00 (duration_min 30)",
        ),
        ('at: "00:02:00"', "at: -5", "modules[0].injects[1].at: expected `float` >= 0.0"),
        # ids
        ("{id: I4,", "{id: I2,", "modules[1].injects[1].id: duplicate inject id 'I2' (also modules[0].injects[1].id)"),
        ("  - id: M2", "  - id: M1", "modules[1].id: duplicate module id 'M1' (also modules[0].id)"),
        (
            "{id: T2,",
            "{id: T1,",
            "capabilities[0].tasks[1].id: duplicate task id 'T1' (also capabilities[0].tasks[0].id)",
        ),
        # cells and roles
        (
            "to: [JP]",
            "to: [JP, FR]",
            "modules[1].injects[0].to[1]: unknown addressee 'FR' (a cell: KR, JP; `all` or `white`)",
        ),
        (
            "to: [JP]",
            "to: [US]",
            "modules[1].injects[0].to[0]: unknown addressee 'US' (a cell: KR, JP; `all` or `white`)",
        ),
        ("to: [JP]", "to: []", "modules[1].injects[0].to: name at least one addressee (a cell, `all` or `white`)"),
        (
            "kind: question, to",
            "kind: question, from: all, to",
            "modules[1].injects[0].from: unknown sender 'all' (a cell: KR, JP; `white` or `media`)",
        ),
        (
            "cells: [KR, JP]",
            "cells: [KR, FR]",
            "cells[1]: 'FR' is not a partner of theater korea-japan (partners: KR, JP, US)",
        ),
        (
            "  KR: {answer_s: 30}",
            "  US: {answer_s: 30}",
            "players.US: 'US' is not a cell of the exercise (cells: KR, JP)",
        ),
        # kinds and their parameters
        ("apogee_km: 970, ", "", "modules[0].injects[0].launch.apogee_km: required key is missing"),
        (LAUNCH, "duration_s: 60", "modules[0].injects[0].duration_s: not a parameter of a `launch` inject"),
        (
            "        to: [white]\n        " + LAUNCH + "\n",
            "",
            "modules[0].injects[0].launch: required for a `launch` inject",
        ),
        (", duration_s: 120}", "}", "modules[1].injects[1].duration_s: required for a `sensor_down` inject"),
        ("sensor: JP-R1, ", "a: KR, b: JP, ", "modules[1].injects[1].a: not a parameter of a `sensor_down` inject"),
        (
            "kind: situation, text: A launch.",
            "kind: situation",
            "modules[0].injects[1].text: required for a `situation` inject",
        ),
        (
            "kind: situation, text:",
            "kind: situation, sensor: JP-R1, text:",
            "modules[0].injects[1].sensor: not a parameter of a `situation` inject",
        ),
        ("duration_s: 120", "duration_s: 0", "modules[1].injects[1].duration_s: expected `float` > 0.0"),
        # the scenario's checks, placed in the MSEL
        (
            "apogee_km: 970",
            "apogee_km: 20000",
            "modules[0].injects[0].launch.apogee_km: apogee 20000 km at a range of 4500 km needs a "
            "burnout speed of 9.7 km/s, above the 8.6 km/s any ballistic missile reaches",
        ),
        ("azimuth_deg: 84.2, ", "", "modules[0].injects[0].launch: give exactly one of `azimuth_deg` and `aim`"),
        ("sensor: JP-R1", "sensor: JP-R9", "modules[1].injects[1].sensor: no sensor 'JP-R9' in the theater"),
        ("kind: launch", "kind: situation", "modules[0].injects[0].launch: not a parameter of a `situation` inject"),
        # the evaluation guide
        (
            "from: {inject: I3}",
            "from: {inject: I9}",
            "capabilities[0].tasks[1].from.inject: no inject 'I9' in the MSEL",
        ),
        (
            "from: {inject: I3}",
            "from: {inject: I2}",
            "capabilities[0].tasks[1].from.inject: 'I2' is a `situation` inject; `inject_answered` needs a `question`",
        ),
        (
            "cell: JP, from: {inject: I3}",
            "cell: KR, from: {inject: I3}",
            "capabilities[0].tasks[1].cell: question 'I3' does not go to KR (to: JP)",
        ),
        (
            "from: {inject: I3}",
            "from: {launch: L1}",
            "capabilities[0].tasks[1].from.inject: required for measure `inject_answered`: the question to answer",
        ),
        (
            "from: {launch: L1}",
            "from: {launch: L2}",
            "capabilities[0].tasks[0].from.launch: no launch 'L2' in the MSEL (launches: L1)",
        ),
        (
            "from: {launch: L1}",
            "from: {launch: L1, inject: I3}",
            "capabilities[0].tasks[0].from: give at most one of `launch` and `inject`",
        ),
        (
            "capabilities: [C1]",
            "capabilities: [C2]",
            "objectives[0].capabilities[0]: no capability 'C2' (capabilities: C1)",
        ),
        (
            "measure: first_shared_track",
            "measure: first_track",
            "capabilities[0].tasks[0].measure: invalid enum value 'first_track' (did you mean `first_shared_track`?)",
        ),
    ],
)
def test_broken_msel_gives_one_line(old: str, new: str, message: str) -> None:
    assert old in SMALL, old
    with pytest.raises(InputError) as info:
        parse_msel(SMALL.replace(old, new, 1), "x.yaml")
    assert info.value.one_line() == f"x.yaml: {message}"
    assert info.value.source == "x.yaml" and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            SMALL.replace("duration_min: 30\n", "duration_min: 30\ntheater: europe\n"),
            "x.yaml: theater: unknown theater 'europe' (known: korea-japan)",
        ),
        (
            SMALL.replace("launch: {id: L1, ", "launch: {").replace("{launch: L1}", "{launch: I1}"),
            None,
        ),  # the inject's id is the launch's
        (
            SMALL.replace("kind: sensor_down, sensor: JP-R1, duration_s: 120", f"kind: launch, {LAUNCH}"),
            "x.yaml: modules[1].injects[1].launch.id: duplicate launch id 'L1' (also modules[0].injects[0].launch.id)",
        ),
        (
            "- a list\n",
            "x.yaml: an MSEL must be a YAML mapping with at least `name`, `start`, `duration_min` and `modules`",
        ),
        (
            "name: x\nmodules: [\n",
            "x.yaml: line 3, column 1: malformed YAML: expected the node content, but found '<stream end>'",
        ),
        (
            SMALL.replace("2022-10-03T22:20:00Z", "2022-10-33T22:20:00Z"),
            "x.yaml: malformed YAML: day is out of range for month",
        ),
        (
            SMALL.replace("2022-10-03T22:20:00Z", "2022-10-03T22:20:00"),
            "x.yaml: start: expected `datetime` with a timezone component",
        ),
    ],
)
def test_more_broken_msels(text: str, message: str | None) -> None:
    if message is None:
        assert launch_ids(parse_msel(text)) == ["I1"]
        return
    with pytest.raises(InputError) as info:
        parse_msel(text, "x.yaml")
    assert info.value.one_line() == message


def test_a_launch_inject_may_fail_and_is_checked_as_a_scenario_launch() -> None:
    """A failed missile as a technical inject: the launch's ``failure`` (and ``profile``) reach the scenario, go
    through the CSV and back, and a failure the flight cannot have is one line at the MSEL's own place."""
    cut = SMALL.replace("range_km: 4500}", "range_km: 4500, failure: {kind: thrust_termination, at_s: 60}}")
    msel = parse_msel(cut, "x.yaml")
    (launch,) = scenario_of(msel).launches
    assert launch.failure == ThrustTermination(at_s=60.0) and launch.profile is None
    assert with_injects_from_csv(msel, injects_csv(msel), "x.csv") == msel
    broken = SMALL.replace(
        "range_km: 4500}", "range_km: 4500, failure: {kind: breakup, at_s: 150, fragments: 6, visible: 2}}"
    )
    assert isinstance(scenario_of(parse_msel(broken)).launches[0].failure, BreakUp)
    late = SMALL.replace("range_km: 4500}", "range_km: 4500, failure: {kind: thrust_termination, at_s: 900}}")
    with pytest.raises(InputError) as info:
        parse_msel(late, "x.yaml")
    assert re.fullmatch(
        r"x\.yaml: modules\[0\]\.injects\[0\]\.launch\.failure\.at_s: 900 s is not before the planned burnout, "
        r"[0-9.]+ s after launch for this apogee and range",
        info.value.one_line(),
    ), info.value.one_line()
    glide = SMALL.replace("apogee_km: 970", "apogee_km: 90").replace(
        "range_km: 4500}", "range_km: 800, profile: {kind: glide, turn_deg: 200}}"
    )
    with pytest.raises(InputError) as info:
        parse_msel(glide, "x.yaml")
    assert info.value.one_line().startswith("x.yaml: modules[0].injects[0].launch.profile.turn_deg: ")


def test_an_msel_without_launch_is_refused() -> None:
    text = SMALL.replace(
        "        kind: launch\n        to: [white]\n        " + LAUNCH + "\n",
        "        kind: situation\n        text: Quiet.\n",
    )
    text = text.replace("from: {launch: L1}", "from: {}")
    with pytest.raises(InputError) as info:
        parse_msel(text, "x.yaml")
    assert (
        info.value.one_line()
        == "x.yaml: modules: no `launch` inject: the technical simulation needs at least one launch"
    )


def test_unreadable_file_and_unknown_sample(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_msel(tmp_path / "nope.yaml")
    with pytest.raises(InputError, match="unknown exercise 'nope'"):
        sample_path("nope")


# --------------------------------------------------------------------------- broken CSV


def _csv_error(msel: Msel, text: str | bytes) -> str:
    with pytest.raises(InputError) as info:
        with_injects_from_csv(msel, text, "p.csv")
    return info.value.one_line()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('""apogee_km"":970.0', '""apogee_km"":-1', "row 2, column params: launch.apogee_km: expected `float` > 0.0"),
        (
            '""apogee_km"":970.0',
            '""apogee_km"":20000',
            "row 2, column params: launch.apogee_km: apogee 20000 km at a range of 4500 km needs a "
            "burnout speed of 9.7 km/s, above the 8.6 km/s any ballistic missile reaches",
        ),
        (
            '""azimuth_deg""',
            '""azimuth""',
            "row 2, column params: launch.azimuth: unknown key (did you mean `azimuth_deg`?)",
        ),
        (
            '""sensor"":""JP-R1""',
            '""sensr"":""JP-R1""',
            "row 5, column params: sensr: unknown key (did you mean `sensor`?)",
        ),
        (
            '""sensor"":""JP-R1""',
            '""sensor"":""JP-R9""',
            "row 5, column params: sensor: no sensor 'JP-R9' in the theater",
        ),
        ('""sensor"":""JP-R1""', '""text"":""x""', "row 5, column params: `text` has its own column"),
        (
            '"{""sensor"":""JP-R1"",""duration_s"":120.0}"',
            "[1]",
            'row 5, column params: a JSON object of technical parameters, e.g. {"sensor":"JP-R1","duration_s":120}',
        ),
        (
            '"{""sensor"":""JP-R1"",""duration_s"":120.0}"',
            "{sensor",
            "row 5, column params: malformed JSON: JSON is malformed: object keys must be strings (byte 1)",
        ),
        (
            "I2,00:02:00",
            "I2,2 min",
            "row 3, column at: '2 min' is not an offset: write HH:MM:SS or MM:SS (minutes and seconds "
            "00–59) or a number of seconds",
        ),
        ("I2,00:02:00", "I2,00:45:00", "row 3, column at: 00:45:00 is after ENDEX at 00:30:00 (duration_min 30)"),
        (
            "I3,00:03:00,question",
            "I3,00:03:00,quest",
            "row 4, column kind: invalid enum value 'quest' (did you mean `question`?)",
        ),
        (
            ",white,JP,Warn?",
            ",white,JP FR,Warn?",
            "row 4, column to: unknown addressee 'FR' (a cell: KR, JP; `all` or `white`)",
        ),
        (",I4,", ",I2,", "row 5, column id: duplicate inject id 'I2' (also row 3)"),
        (",I3,", ",I3 x,", "row 4, column id: expected `str` matching regex '^[A-Za-z0-9_.-]{1,32}$'"),
        ("M2,Move 2,I4", "M2,Move two,I4", "row 5, column module_name: module 'M2' is named 'Move 2' in row 4"),
        (
            "M1,Move 1,I1",
            "M 1,Move 1,I1",
            "row 2, column module: expected `str` matching regex '^[A-Za-z0-9_.-]{1,32}$'",
        ),
        (
            "I3,00:03:00,question,white,JP,Warn?,",
            "I3,00:03:00,question,white,JP,,",
            "row 4, column text: required for a `question` inject",
        ),
        (
            ",I3,",
            ",I7,",
            "p.csv: capabilities[0].tasks[1].from.inject: no inject 'I3' in the MSEL (in the MSEL the "
            "CSV's injects go into)",
        ),
        ("module,module_name", "modul,module_name", "row 1: unknown column 'modul' (did you mean `module`?)"),
        (",params\n", ",\n", "row 1: unknown column ''"),
        ("Warn?,,\n", "Warn?,,,\n", "row 4: 11 fields, the header has 10"),
        (",launch,", ",situation,", "row 2, column params: launch: not a parameter of a `situation` inject"),
    ],
)
def test_broken_csv_names_row_and_column(old: str, new: str, message: str) -> None:
    msel = parse_msel(SMALL)
    text = injects_csv(msel)
    assert old in text, old
    expected = message if message.startswith("p.csv: ") else f"p.csv: {message}"
    assert _csv_error(msel, text.replace(old, new, 1)) == expected


def test_csv_without_rows_or_launch() -> None:
    msel = parse_msel(SMALL)
    header, *rows = injects_csv(msel).splitlines()
    assert _csv_error(msel, header + "\n") == "p.csv: no injects: the CSV has only its header"
    assert _csv_error(msel, "") == "p.csv: empty: the first row must name the columns (" + ", ".join(CSV_COLUMNS) + ")"
    launchless = "\n".join([header, *[r for r in rows if ",launch," not in r]]) + "\n"
    assert (
        _csv_error(msel, launchless) == "p.csv: no `launch` inject: the technical simulation needs at least one launch"
    )
    assert _csv_error(msel, b"\xff\xfe") == "p.csv: not UTF-8 text: invalid start byte at byte 0"


# --------------------------------------------------------------------------- fuzz

_TOKENS = [
    "-1", "0", "1e400", ".nan", "null", "~", "[]", "{}", "yes", "''", "00:99:00", "99:00:00", "1:2:3:4", "[1, 2]",
    "{a: 1}", "&a x", "*a", "2022-13-01T00:00:00Z", "KR", "white", "all", "media", "L1", "I03", "question", "launch",
    "JP-R1", "fused", ":", "#", '"', "99999999999999999999",
]  # fmt: skip


def _mutate(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        i, op = rng.randrange(len(lines)), rng.randrange(6)
        if op == 0:
            del lines[i]
        elif op == 1:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 2 and (values := list(re.finditer(r":\s+([^,}\]\n]+)", lines[i]))):
            value = rng.choice(values)
            lines[i] = lines[i][: value.start(1)] + rng.choice(_TOKENS) + lines[i][value.end(1) :]
        elif op == 3:
            lines.insert(i, rng.choice(lines))
        elif op == 4 and lines[i]:
            k = rng.randrange(len(lines[i]))
            lines[i] = lines[i][:k] + lines[i][k + 1 :]
        elif op == 5:
            k = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:k] + rng.choice(_TOKENS) + lines[i][k:]
    return "\n".join(lines)


def test_mutated_samples_parse_or_raise_input_error() -> None:
    rng = random.Random(2022)
    base = sample_path().read_text()
    outcomes = {"ok": 0, "error": 0}
    for _ in range(120):
        text = _mutate(rng, base)
        try:
            msel = parse_msel(text, "m.yaml")
        except InputError as err:
            assert err.source == "m.yaml" and "\n" not in str(err)
            outcomes["error"] += 1
        else:
            assert with_injects_from_csv(msel, injects_csv(msel)) == msel
            outcomes["ok"] += 1
    assert outcomes["ok"] and outcomes["error"]  # the mutations reach both sides


def test_docs_example_parses() -> None:
    docs = (ROOT / "docs/exercises.md").read_text()
    block = re.search(r"## MSEL files.*?```yaml\n(.*?)```", docs, re.S)
    assert block is not None
    msel = parse_msel(block[1], "docs/exercises.md")
    assert scenario_of(msel).launches
