"""The run folder's typed records (mwx.records): shipped JSON Schemas, files that validate against them, decoding
errors that are one RecordError naming the file and the field, and files that read back as what was written.

The run: the small scenario of test_run.py, run once in process for this module (``run_dir``).  The demo's
files are checked by test_run.py::test_demo_runs_and_fuses_every_launch and a NATS run's by
test_nats_run.py, both with :func:`assert_valid_run_folder`.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import shutil
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from mwx import records
from mwx.cli import main
from mwx.errors import RecordError
from mwx.exercise.outputs import write_run
from mwx.exercise.run import run_scenario
from mwx.sim.scenario import parse_scenario

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "docs" / "schemas"
SMALL = (Path(__file__).parent / "data" / "scenarios" / "small.yaml").read_text()


def _load(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


export_schemas = _load(ROOT / "scripts" / "export_schemas.py", "export_schemas")

# RFC 3339 date-time with its zone (jsonschema checks "date-time" only with an optional package: here by hand).
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # the type keyword judges non-strings
    if not _DATE_TIME.match(value):
        raise ValueError(f"not an RFC 3339 date-time with a zone: {value!r}")
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def validator(file_name: str) -> Draft202012Validator:
    """The validator of a run-folder file's shipped schema (docs/schemas/), checking date-time formats."""
    schema = json.loads((SCHEMAS / export_schemas.run_schema_name(file_name)).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FORMATS)


def assert_valid_run_folder(folder: Path) -> None:
    """Every run-folder JSON file in ``folder`` (all of them there: a run writes each) validates against its
    shipped schema, and decodes as its record."""
    for name, cls in records.RUN_FILES.items():
        path = folder / name
        assert path.is_file(), f"{path}: missing"
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(name).iter_errors(
            json.loads(path.read_text(encoding="utf-8")))]  # fmt: skip
        assert not errors, (name, errors[:5])
        records.read(path, cls)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("records")
    write_run(run_scenario(parse_scenario(SMALL)), out)
    return out


# ----------------------------------------------------------------- (a) the shipped schemas
def test_the_shipped_run_folder_schemas_are_up_to_date() -> None:
    wanted = export_schemas.run_schemas()
    assert sorted(wanted) == sorted(p.name for p in SCHEMAS.glob("*.json"))
    assert sorted(wanted) == sorted(export_schemas.run_schema_name(n) for n in records.RUN_FILES)
    for name, text in wanted.items():
        assert (SCHEMAS / name).read_text(encoding="utf-8") == text, f"{name}: run scripts/export_schemas.py"
    assert export_schemas.main(["--check"]) == 0


# ----------------------------------------------------------------- (b) a run's files validate
def test_every_run_folder_file_validates_against_its_schema(run_dir: Path) -> None:
    assert_valid_run_folder(run_dir)
    manifest = records.read(run_dir / "manifest.json", records.Manifest)
    assert manifest.scenario == "small" and manifest.bus == "embedded"
    assert manifest.participants == ["KR", "JP", "US", "fused"]
    assert set(manifest.files) == {p.name + ("/" if p.is_dir() else "") for p in run_dir.iterdir()}
    truth = records.read(run_dir / "truth.json", records.TruthFile)
    assert manifest.start == min(launch.launch_time for launch in truth.launches)
    assert manifest.end == max(launch.impact_time for launch in truth.launches)


def test_every_csv_row_is_a_record(run_dir: Path, tmp_path: Path) -> None:
    states = records.read_csv(run_dir / "tracks.csv", records.TrackState)
    measurements = records.read_csv(run_dir / "measurements.csv", records.Measurement)
    assert states and measurements
    assert {s.partner for s in states} == {"KR", "JP", "US", "fused"}
    assert all((m.object is None) == m.false_alarm for m in measurements)
    assert all((m.range_m is None) == (m.kind == "infrared") for m in measurements)
    # A corrupted cell: one line naming the file, the row (the header is row 1) and the column.
    lines = (run_dir / "tracks.csv").read_text().splitlines()
    cells = lines[3].split(",")
    cells[records.TRACKS_COLUMNS.index("lat_deg")] = "north"
    (tmp_path / "tracks.csv").write_text("\n".join([*lines[:3], ",".join(cells), *lines[4:]]) + "\n")
    with pytest.raises(RecordError, match=r"tracks\.csv: row 4: .*`\$\.lat_deg`"):
        records.read_csv(tmp_path / "tracks.csv", records.TrackState)


def test_the_schemas_refuse_what_the_records_refuse(run_dir: Path) -> None:
    """The schema is no looser than the decoder on the fields that matter: a latitude out of range, a time
    without its zone, an unknown field, a missing field."""
    events = json.loads((run_dir / "events.json").read_text())
    check = validator("events.json")
    for change in (
        lambda e: e["events"][0]["launch_point"].update(lat=91.0),
        lambda e: e["events"][0].update(launch_time="2023-04-13T01:00:00"),
        lambda e: e["events"][0].update(colour="red"),
        lambda e: e["events"][0].pop("apogee_km"),
    ):
        bad = copy.deepcopy(events)
        change(bad)
        assert not check.is_valid(bad)
        with pytest.raises(RecordError):
            records.decode(json.dumps(bad), records.EventsFile)


def test_alert_changes_carry_probability_ellipse_and_the_cap_area(run_dir: Path) -> None:
    alerts = records.read(run_dir / "alerts.json", records.AlertsFile).alerts
    assert alerts, "the small scenario raises an alert"
    for alert in alerts:
        issued = alert.history[0]
        assert issued.status == "issued" and issued.probability is not None and issued.ellipse_95 is not None
        for change in alert.history:
            assert change.alert_area, (alert.alert_id, change.status)  # the CAP <area> of every change
            for ring in change.alert_area:
                assert len(ring) >= 4 and ring[0] == ring[-1]
                assert all(-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0 for lon, lat in ring)
        # The same polygons as the change's CAP document ("lat,lon" pairs there), change by change.
        documents = sorted((run_dir / "cap").glob(f"*-{alert.alert_id}-*.xml"))
        assert len(documents) == len(alert.history)
        for change, document in zip(alert.history, documents, strict=True):
            polygons = re.findall(r"<polygon>([^<]*)</polygon>", document.read_text())
            rings = [
                [(float(lon), float(lat)) for pair in p.split() for lat, lon in [pair.split(",")]] for p in polygons
            ]
            assert rings == change.alert_area, (alert.alert_id, change.status)


# ----------------------------------------------------------------- (c) a corrupted field is a RecordError
def _paths(node: Any, path: tuple = ()) -> list[tuple]:
    """Every place in a JSON document: dict keys and list indices, down to the leaves."""
    out = [path] if path else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:3]):  # a few items of each list are enough
            out += _paths(v, (*path, i))
    return out


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_corrupted_field_is_a_record_error_and_nothing_else(run_dir: Path, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(["events.json", "alerts.json", "metrics.json", "manifest.json"]))
    document = json.loads((run_dir / name).read_text())
    path = data.draw(st.sampled_from(_paths(document)))
    *parents, last = path
    node = document
    for key in parents:
        node = node[key]
    if data.draw(st.booleans(), label="remove"):
        del node[last]
    else:
        node[last] = data.draw(JSON_VALUES, label="value")
    try:
        records.decode(json.dumps(document), records.RUN_FILES[name], source=name)
    except RecordError as err:
        line = err.one_line()
        assert line.startswith(f"{name}: ") and "\n" not in line
        assert "$" in line or "missing" in line or "JSON" in line, line


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=64) | st.text(max_size=64))
def test_bytes_that_are_not_a_record_are_a_record_error(raw: bytes | str) -> None:
    for cls in records.RUN_FILES.values():
        try:
            records.decode(raw, cls)
        except RecordError as err:
            assert "\n" not in err.one_line()


def test_a_corrupted_events_json_gives_one_line_naming_the_field_and_exit_2(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for field, change in (
        ("$.events[0].launch_point.lat", lambda e: e["events"][0]["launch_point"].update(lat="north")),
        ("missing required field `apogee_km` - at `$.events[1]`", lambda e: e["events"][1].pop("apogee_km")),
    ):
        folder = tmp_path / str(len(field))
        shutil.copytree(run_dir, folder)
        events = json.loads((folder / "events.json").read_text())
        change(events)
        (folder / "events.json").write_text(json.dumps(events))
        assert main(["report", "events", str(folder)]) == 2
        out, err = capsys.readouterr()
        lines = err.strip().splitlines()
        assert out == "" and len(lines) == 1, lines
        assert lines[0].startswith(f"mwx: {folder / 'events.json'}: ") and field in lines[0], lines[0]
    assert main(["report", "events", str(run_dir)]) == 0  # the run's own file reads
    assert "Republic of Korea, event KR-" in capsys.readouterr().out


# ----------------------------------------------------------------- (d) read back, written again
@pytest.mark.parametrize("name", list(records.RUN_FILES))
def test_a_file_read_and_encoded_again_is_the_same(run_dir: Path, name: str) -> None:
    data = (run_dir / name).read_bytes()
    record = records.read(run_dir / name, records.RUN_FILES[name])
    assert records.encode(record) == data  # byte for byte: the writer is records.encode
    assert records.decode(records.encode(record), records.RUN_FILES[name]) == record


def test_times_are_utc_instants_to_the_millisecond() -> None:
    t = 1664835767.1234
    assert records.utc(t).isoformat() == "2022-10-03T22:22:47.123000+00:00"
    assert records.unix(records.utc(t)) == pytest.approx(1664835767.123, abs=1e-9)
    encoded = records.encode(records.Point(lat=1.0, lon=2.0))
    assert json.loads(encoded) == {"lat": 1.0, "lon": 2.0}


def test_a_launch_event_record_goes_on_the_exchange_as_its_wire_message(run_dir: Path) -> None:
    """The exchange's ``event`` message is made from the run's record (LaunchEventReport.of): it passes the
    receiver's schema and content checks, and carries the record's figures under the same names."""
    from mwx.exchange import messages

    events = records.read(run_dir / "events.json", records.EventsFile).events
    assert events
    for event in events:
        wire = messages.LaunchEventReport.of(event)
        received = messages.decode_message(messages.encode(wire), "event")
        assert isinstance(received, messages.LaunchEventReport)
        assert (received.sender, received.event_id, received.track_ids) == (
            event.partner,
            event.event_id,
            event.track_ids,
        )
        assert received.time == event.estimated_at.timestamp() and received.impact_time == event.impact_time.timestamp()
        assert received.impact_point is not None and received.impact_ellipse_95 is not None
        assert (received.impact_point.lat, received.impact_point.lon) == (
            event.impact_point.lat,
            event.impact_point.lon,
        )
        assert received.impact_ellipse_95.semi_major_km == event.impact_ellipse_95.semi_major_km
        assert (received.missile_class, received.apogee_km, received.number_of_objects) == (
            event.missile_class, event.apogee_km, event.number_of_objects)  # fmt: skip
