"""Tests for mwx.exercise.event_text and ``mwx report events``.

Events are written by hand (as ``events.json`` entries, decoded into :class:`mwx.records.LaunchEvent`),
modelled on two real launches:

* 4 Oct 2022 (local): an IRBM from near Mupyong-ni (40.61 N 126.43 E) at 22:22:47 UTC on 3 Oct,
  apogee about 970 km, range about 4,600 km, over Aomori Prefecture into the Pacific.
  Pyongyang has been on UTC+9 since May 2018, so the local time is 07:22 on 4 October.
* 29 Nov 2017 (local): a lofted ICBM at 18:17 UTC on 28 Nov, apogee about 4,475 km, range about
  960 km, into the Sea of Japan inside Japan's EEZ west of Aomori. Pyongyang kept UTC+8:30 from
  August 2015 to May 2018, so the local time was 02:47 on 29 November (not 03:17 as in Tokyo).

Expected nearest-place phrases are computed here from the raw gazetteer with pyproj, by brute force.
"""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from pyproj import Geod

from mwx import records
from mwx.cli import main
from mwx.errors import RecordError
from mwx.exercise.event_text import format_event, format_events, round_report_km

GEOD = Geod(ellps="WGS84")
COMPASS = (
    "north", "north-north-east", "north-east", "east-north-east", "east", "east-south-east", "south-east",
    "south-south-east", "south", "south-south-west", "south-west", "west-south-west", "west", "west-north-west",
    "north-west", "north-north-west",
)  # fmt: skip
FEATURES = json.loads((resources.files("mwx") / "data" / "places" / "korea-japan.json").read_text(encoding="utf-8"))[
    "features"
]


def expected_phrase(lat: float, lon: float, *, coastal_only: bool) -> str:
    """ "near X" / "about N km <16-point word> of X" from the raw file, independently of mwx.geo.places."""
    pool = [f for f in FEATURES if not coastal_only or f.get("coastal", f["kind"] in ("island", "cape", "peninsula"))]
    n = len(pool)
    az, _, s = GEOD.inv(
        np.array([f["lon"] for f in pool]), np.array([f["lat"] for f in pool]), np.full(n, lon), np.full(n, lat)
    )
    k = int(np.argmin(s))
    km = s[k] / 1e3
    if km < 30.0:
        return f"near {pool[k]['name']}"
    step = 10 if km < 300 else 50 if km < 1000 else 100
    word = COMPASS[math.floor((az[k] % 360.0) / 22.5 + 0.5) % 16]
    return f"about {math.floor(km / step + 0.5) * step:,} km {word} of {pool[k]['name']}"


def one_line(text: str) -> str:
    """The paragraph with its line breaks undone, so phrases can be searched across wrapping."""
    return " ".join(text.split())


def ellipse(a: float, b: float, orientation: float) -> dict:
    return {"semi_major_km": a, "semi_minor_km": b, "orientation_deg": orientation}


NO_AREA = {"partner": None, "kind": None, "name": None, "probability": 0.0}


def overflight(partner: str, lat: float, lon: float) -> dict:
    return {"partner": partner, "name": partner, "enter": "2022-10-03T22:29:00Z", "leave": "2022-10-03T22:31:00Z",
            "lat": lat, "lon": lon, "probability": 1.0}  # fmt: skip


def _complete(event: dict) -> dict:
    """An events.json entry with the fields the text does not use filled in (as a run writes them)."""
    return {
        "truth_id": "L1", "truth_object": "L1/RV", "track_ids": [event["event_id"]], "grouped": {},
        "track_truth_ids": {event["event_id"]: "L1"}, "final": True,
        "launch_time_sigma_s": 2.0, "launch_point_sigma_km": 1.0, "launch_ellipse_95": ellipse(2.5, 1.0, 80.0),
        "launch_method": "boost", "impact_time_sigma_s": 0.5, "impact_area": NO_AREA, "impact_probability": {},
        "stage_probability": 0.0, "overflights": [], "updates": [],
    } | event  # fmt: skip


def oct_2022(**changes) -> dict:
    event = {
        "partner": "JP",
        "event_id": "JP-T0001",
        "truth_id": "L1",
        "first_detection": "2022-10-03T22:23:20.000Z",
        "first_warning": "2022-10-03T22:24:01.000Z",
        "launch_time": "2022-10-03T22:22:47.000Z",
        "launch_point": {"lat": 40.61, "lon": 126.43},
        "apogee_km": 970.0,
        "range_km": 4600.0,
        "flight_time_s": 1361.0,
        "max_speed_mps": 6900.0,
        "impact_time": "2022-10-03T22:45:28.000Z",
        "impact_point": {"lat": 41.2, "lon": 179.9},
        "impact_ellipse_95": ellipse(12.0, 3.1, 81.0),
        "class": "IRBM",
        "lofted": False,
        "equivalent_range_km": 4650.0,
        "over_territory_of": ["JP"],
        "inside_eez_of": [],
        "number_of_objects": 1,
        "estimated_at": "2022-10-03T22:40:00.000Z",
        # where the path entered Japan: the west coast of the Tsugaru Peninsula, Aomori Prefecture
        "overflights": [overflight("JP", 40.85, 140.25)],
    }
    return _complete(event | changes)


def nov_2017(**changes) -> dict:
    event = {
        "partner": "fused",
        "event_id": "fused-F0001",
        "truth_id": "L1",
        "first_detection": "2017-11-28T18:17:40.000Z",
        "first_warning": None,
        "launch_time": "2017-11-28T18:17:00.000Z",
        "launch_point": {"lat": 39.25, "lon": 125.87},  # near Pyongsong, north of Pyongyang
        "apogee_km": 4475.0,
        "range_km": 960.0,
        "flight_time_s": 53 * 60.0,
        "max_speed_mps": 7000.0,
        "impact_time": "2017-11-28T19:10:00.000Z",
        "impact_point": {"lat": 40.9, "lon": 138.9},
        "impact_ellipse_95": ellipse(0.26, 0.004, 261.0),
        "class": "ICBM",
        "lofted": True,
        "equivalent_range_km": 13000.0,
        "over_territory_of": [],
        "inside_eez_of": ["JP"],
        "number_of_objects": 1,
        "estimated_at": "2017-11-28T19:00:00.000Z",
        "final": False,
    }
    return _complete(event | changes)


def launch_event(event: dict) -> records.LaunchEvent:
    """The record of an events.json entry, decoded as ``mwx report events`` decodes it."""
    return records.decode(json.dumps(event), records.LaunchEvent, source="test")


def statement(event: dict) -> str:
    return format_event(launch_event(event))


# --------------------------------------------------------------------------- one event
def test_oct_2022_overflight() -> None:
    heading, body = statement(oct_2022()).split("\n", 1)
    assert heading == "Japan, event JP-T0001"  # final by default: not provisional
    flat = one_line(body)
    # 22:22:47 UTC + 9 h, truncated to the minute as the ministries do
    assert flat.startswith("At about 07:22 on 4 October 2022 (local time, UTC+9; 22:22 UTC on 3 October), ")
    assert "North Korea launched one ballistic missile from near Mupyong-ni" in flat
    # initial geodesic azimuth Mupyong-ni -> 41.2 N 179.9 E is about 71°: the 8-point sector of east
    azimuth = GEOD.inv(126.43, 40.61, 179.9, 41.2)[0]
    assert 67.5 <= azimuth < 112.5
    assert "towards the east." in flat
    assert "It flew about 4,600 km at a maximum altitude of about 970 km" in flat
    assert "passed over Japan (Aomori Prefecture)" in flat
    assert "fell into the Pacific Ocean " + expected_phrase(41.2, 179.9, coastal_only=True) in flat
    # the easternmost cape of Hokkaido is the nearest coastal place to an impact 2,800 km out
    assert "east of Cape Nosappu" in flat
    assert "outside Japan's EEZ" in flat
    assert "inside" not in flat
    assert "an IRBM" in flat and "lofted" not in flat
    assert "about 23 minutes" in flat  # 1361 s
    assert "semi-axes of 12 km and 3.1 km" in flat and "81° from north" in flat
    assert "22:24:01 UTC, 74 s after launch" in flat
    # wrapped for a terminal, a number never separated from its unit
    lines = body.split("\n")
    assert len(lines) > 1 and all(len(line) <= 100 for line in lines)
    assert not any(line.startswith(("km", "%", "minutes")) for line in lines)


def test_nov_2017_lofted_icbm() -> None:
    heading, body = statement(nov_2017()).split("\n", 1)
    assert heading == "Fused (all partners), event fused-F0001 (provisional)"
    flat = one_line(body)
    # Pyongyang time was UTC+8:30 in 2017: 18:17 UTC -> 02:47 the next day
    assert flat.startswith("At about 02:47 on 29 November 2017 (local time, UTC+8:30; 18:17 UTC on 28 November), ")
    spot = expected_phrase(39.25, 125.87, coastal_only=False)
    assert (
        f"North Korea launched one ballistic missile from {'' if spot.startswith('near') else 'a point '}{spot}" in flat
    )
    # Pyongsong lies about 18 km east of Sunan airfield (39.20 N 125.67 E): within the 30 km of "near"
    assert spot == "near Sunan"
    assert "It flew about 960 km at a maximum altitude of about 4,500 km" in flat
    assert "passed over" not in flat
    assert "fell into the Sea of Japan (East Sea) " + expected_phrase(40.9, 138.9, coastal_only=True) in flat
    assert "inside Japan's EEZ" in flat and "outside" not in flat
    assert "an ICBM" in flat and "lofted trajectory" in flat
    assert "on a standard trajectory it would fly about 13,000 km" in flat
    assert "about 53 minutes" in flat
    assert "semi-axes of 260 m and under 10 m" in flat
    assert "No alert was raised" in flat


def test_nov_2017_impact_is_west_of_northern_japan() -> None:
    """The impact at 40.9 N 138.9 E lies in the Sea of Japan west of Aomori / south-west Hokkaido."""
    flat = one_line(statement(nov_2017()))
    phrase = flat.split("fell into the Sea of Japan (East Sea) ", 1)[1].split(",", 1)[0]
    name = phrase.rsplit(" of ", 1)[1]
    assert name in {"Oshima-Oshima", "Aomori Prefecture", "Cape Tappi", "Tsugaru Peninsula", "Cape Nyudo"}
    assert any(w in phrase for w in ("west", "south-south-west"))


def test_partner_eez_wording() -> None:
    kr = one_line(statement(oct_2022(partner="KR", event_id="KR-T0001")))
    assert "outside the Republic of Korea's EEZ and any other partner's" in kr
    us = one_line(statement(oct_2022(partner="US", event_id="US-T0001")))
    assert "outside the United States' EEZ" in us
    fused = one_line(statement(oct_2022(partner="fused", event_id="F1")))
    assert "outside any partner's EEZ" in fused
    both = one_line(statement(nov_2017(inside_eez_of=["JP", "KR"])))
    assert "inside Japan's and the Republic of Korea's EEZ" in both


def test_impact_area_probability() -> None:
    area = {"partner": "JP", "kind": "eez", "name": "Japan EEZ", "probability": 0.93}
    flat = one_line(statement(nov_2017(impact_area=area)))
    assert "93 % inside Japan's EEZ" in flat
    flat = one_line(statement(nov_2017(impact_area=area | {"kind": "territory", "probability": 0.6})))
    assert "60 % inside Japan's territory" in flat
    # An impact in no partner's area (partner null, probability 0) adds nothing: no "0 % inside the EEZ".
    flat = one_line(statement(nov_2017(impact_area=NO_AREA)))
    assert "estimated probability" not in flat


def test_overflights_without_points_name_the_partner() -> None:
    flat = one_line(statement(oct_2022(overflights=[])))
    assert "passed over Japan and fell" in flat
    # a crossing over Gangneung's coast names the Republic of Korea's place (it has no prefecture points)
    flat = one_line(
        statement(
            oct_2022(
                over_territory_of=["KR", "JP"],
                overflights=[overflight("KR", 37.76, 128.88), overflight("JP", 40.85, 140.25)],
            )
        )
    )
    assert "passed over the Republic of Korea (near Gangneung) and Japan (Aomori Prefecture)" in flat
    # an overflight below the "over territory" probability still names the partner it crosses
    flat = one_line(statement(oct_2022(over_territory_of=[])))
    assert "passed over Japan (Aomori Prefecture)" in flat


def test_null_fields() -> None:
    """The fields a run may leave null: first_warning (no alert), and the evaluation's truth_id, truth_object."""
    body = one_line(statement(oct_2022(first_warning=None, truth_id=None, truth_object=None)))
    assert "No alert was raised for this event." in body and "first alert" not in body
    # a launch nearest a Chinese place is described, not attributed
    body = one_line(statement(oct_2022(launch_point={"lat": 38.95, "lon": 121.55})).split("\n", 1)[1])
    assert "one ballistic missile was launched from near Dalian (China) towards the east" in body
    assert "(local time, UTC+8; " in body  # China Standard Time


@pytest.mark.parametrize(
    ("field", "value"),
    [("apogee_km", "high"), ("launch_time", "yesterday"), ("launch_point", [40.6, 126.4]), ("lofted", "no"),
     ("final", "yes"), ("over_territory_of", "JP"), ("partner", None), ("first_detection", None),
     ("launch_time", "2022-10-03T22:22:47"), ("apogee_km", -5.0), ("class", "XRBM")],
)  # fmt: skip
def test_bad_field_types_raise(field: str, value: object) -> None:
    """A field of the wrong type or range (a time without its zone, a negative apogee) is refused when decoded."""
    with pytest.raises(RecordError, match=rf"\$\.{field}"):
        launch_event(oct_2022(**{field: value}))


@pytest.mark.parametrize("field", ["apogee_km", "launch_point", "impact_ellipse_95", "class", "updates"])
def test_a_missing_field_is_named(field: str) -> None:
    event = {k: v for k, v in oct_2022().items() if k != field}
    with pytest.raises(RecordError, match=f"missing required field `{field}`"):
        launch_event(event)


@pytest.mark.parametrize(
    ("km", "said"),
    [(968.1, 970), (994.0, 990), (995.0, 1000), (1024.0, 1000), (1025.0, 1050), (2980.0, 3000),
     (4493.0, 4500), (4549.0, 4500), (4550.0, 4600), (12960.0, 13000)],
)  # fmt: skip
def test_round_report_km(km: float, said: int) -> None:
    assert round_report_km(km) == said


def test_order_by_launch_time_then_partner() -> None:
    later = "2022-10-03T22:45:00.000Z"
    events = [
        oct_2022(partner="fused", event_id="F2", launch_time=later),
        oct_2022(partner="US", event_id="U1"),
        oct_2022(partner="fused", event_id="F1"),
        oct_2022(partner="KR", event_id="K1"),
        oct_2022(partner="JP", event_id="J1"),
        nov_2017(partner="JP", event_id="J0"),
        oct_2022(partner="KR", event_id="K9", launch_time="2022-10-03T23:00:00Z"),
    ]
    headings = [block.split("\n", 1)[0] for block in format_events(map(launch_event, events)).split("\n\n")]
    assert [h.split("event ")[1].split()[0] for h in headings] == ["J0", "K1", "J1", "U1", "F1", "F2", "K9"]


def test_a_bad_event_is_named_by_its_index() -> None:
    data = json.dumps({"events": [oct_2022(), oct_2022(apogee_km="x")]})
    with pytest.raises(RecordError, match=r"events.json: .* at `\$\.events\[1\]\.apogee_km`"):
        records.decode(data, records.EventsFile, source="run/events.json")


# --------------------------------------------------------------------------- command line
def write_events(folder: Path, events: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "events.json").write_text(json.dumps({"events": events}), encoding="utf-8")


def test_cli_prints_events(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_events(tmp_path / "run", [nov_2017(), oct_2022(), oct_2022(partner="fused", event_id="fused-F0002")])
    assert main(["report", "events", str(tmp_path / "run")]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    blocks = out.rstrip("\n").split("\n\n")
    assert [b.split("\n", 1)[0] for b in blocks] == [
        "Fused (all partners), event fused-F0001 (provisional)",
        "Japan, event JP-T0001",
        "Fused (all partners), event fused-F0002",
    ]
    assert "07:22" in out and "02:47" in out

    assert main(["report", "events", str(tmp_path / "run"), "--partner", "jp"]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("Japan, event JP-T0001\n") and "Fused" not in out

    assert main(["report", "events", str(tmp_path / "run"), "--final-only"]) == 0
    out, _ = capsys.readouterr()
    headings = [b.split("\n", 1)[0] for b in out.rstrip("\n").split("\n\n")]
    assert headings == ["Japan, event JP-T0001", "Fused (all partners), event fused-F0002"]

    # KR took part (the manifest says so) but reported nothing: nothing matches; XX did not take part: an error.
    manifest = records.Manifest(
        mwx_version="0", scenario="test", seed=1, theater="korea-japan", bus="embedded",
        participants=["KR", "JP", "US", "fused"], start=records.utc(0.0), end=records.utc(60.0), files=[],
    )  # fmt: skip
    records.write(tmp_path / "run" / "manifest.json", manifest)
    assert main(["report", "events", str(tmp_path / "run"), "--partner", "KR"]) == 0
    out, _ = capsys.readouterr()
    assert out.strip().endswith("no launch events match")
    assert main(["report", "events", str(tmp_path / "run"), "--partner", "XX"]) == 2
    assert "no partner XX in this run (it has JP, KR, US, fused)" in one_error_line(capsys)


def test_cli_partners_of_an_older_run_folder_come_from_its_metrics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run folder without manifest.json: the participants are those metrics.json has exchange figures of."""
    write_events(tmp_path, [oct_2022()])
    figures = records.ExchangeFigures(sent=0, received=0, rejected={}, rejected_total=0, bytes_sent=0,
                                      bytes_received=0, rejections_journalled=0, withheld=0)  # fmt: skip
    alerts = records.AlertFigures(issued=0, false=0, missed=0, near_misses=[], threatened=[],
                                  most_alerts_per_threat_and_area=0, most_alerts_per_threatened_area=0,
                                  most_changes_per_alert=0, most_level_changes_per_alert=0)  # fmt: skip
    metrics = records.MetricsFile(
        launches=[], ellipse_95_coverage=records.Coverage(reports=0, inside=None),
        launch_ellipse_95_coverage=records.Coverage(reports=0, inside=None), alerts=alerts, tracking={},
        fusion=records.FusionFigures(), exchange={p: figures for p in ("KR", "JP", "fused")},
        run=records.RunFigures(wall_time_s=None, measurements=0, track_reports=0, bus_bytes=0,
                               lost_by_link_injects=0, held_by_link_injects=0),
    )  # fmt: skip
    records.write(tmp_path / "metrics.json", metrics)
    assert main(["report", "events", str(tmp_path), "--partner", "KR"]) == 0
    assert capsys.readouterr().out.strip().endswith("no launch events match")
    assert main(["report", "events", str(tmp_path), "--partner", "US"]) == 2
    assert "no partner US in this run (it has JP, KR, fused)" in one_error_line(capsys)


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("mwx: ") and "Traceback" not in err
    return lines[0]


def test_cli_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "events", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in one_error_line(capsys)


def test_cli_missing_events_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "events", str(tmp_path)]) == 2
    assert "events.json" in one_error_line(capsys)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"events": [', "not valid JSON"),
        (b"[]", "Expected `object`, got `array`"),
        (b'{"events": {}}', "at `$.events`"),
        (json.dumps({"events": [oct_2022(), oct_2022(range_km="far")]}).encode(), "at `$.events[1].range_km`"),
        (b'{"events": [3]}', "at `$.events[0]`"),
        (b'{"events": ["\xff"]}', "at `$.events[0]`"),
        (b"\xff", "not valid JSON"),
    ],
)
def test_cli_malformed(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, words: str) -> None:
    (tmp_path / "events.json").write_bytes(content)
    assert main(["report", "events", str(tmp_path)]) == 2
    line = one_error_line(capsys)
    assert "events.json" in line and words in line


def test_a_report_that_may_follow_a_spent_stage_says_so() -> None:
    event = oct_2022(impact_ellipse_95=ellipse(30.0, 2.0, 80.0), stage_probability=0.25)
    flat = one_line(statement(event))
    assert "spent stage" in flat and "25%" in flat, flat
    flat = one_line(statement({**event, "stage_probability": 0.0}))
    assert "spent stage" not in flat, flat
