"""Tests of mwx.warn.cap: CAP 1.2 documents of alert changes, checked against the official OASIS schema.

The schema is OASIS CAP-v1.2.xsd (Copyright OASIS Open 2010), shipped in tests/data/cap/. The
expected codes at the boundaries are written out from the CAP 1.2 definitions (§3.2.2) and the
thresholds in docs/cap.md, not read from the code under test; expected times are computed with
the calendar module.
"""

from __future__ import annotations

import calendar
import math
import re
from pathlib import Path

import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lxml import etree
from pyproj import Geod
from shapely.geometry import MultiPoint, Point, Polygon

from mwx.geo import regions
from mwx.warn import cap
from mwx.warn.alerts import AlertManager, Threat

XSD = Path(__file__).parent / "data" / "cap" / "CAP-v1.2.xsd"
NS = "urn:oasis:names:tc:emergency:cap:1.2"
Q = {"cap": NS}
XS = {"xs": "http://www.w3.org/2001/XMLSchema"}
GEOD = Geod(ellps="WGS84")
# 2022-10-04 07:29 JST (+09:00), when J-Alert warned of the missile over Aomori: 22:29 UTC the day before.
JALERT_2022 = float(calendar.timegm((2022, 10, 3, 22, 29, 0)))
ID_FORBIDDEN = re.compile(r"[\s,<&]")


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


@pytest.fixture(scope="module")
def areas():
    return regions.load_areas()


def area_of(areas, partner: str, kind: str):
    (found,) = [a for a in areas if a.partner == partner and a.kind == kind]
    return found


def parse(document: bytes) -> etree._Element:
    return etree.fromstring(document)


def text(root: etree._Element, path: str) -> str:
    return root.findtext(path, namespaces=Q)


def simple_change(**overrides) -> cap.CapAlert:
    """An issued impact alert for a JP area, 5 min before impact; fields overridable."""
    fields = {
        "partner": "JP",
        "alert_id": "JP-A0001",
        "change_number": 1,
        "lifecycle": "issued",
        "reason": "impact",
        "area_kind": "territory",
        "sent_s": JALERT_2022,
        "track_id": "JP-F0001",
        "areas": (cap.CapArea("Aomori", (cap.ellipse_polygon(40.8, 140.7, 60.0, 30.0, 20.0),)),),
        "onset_s": JALERT_2022 + 300.0,
        "event_end_s": JALERT_2022 + 300.0,
        "impact_lat_deg": 40.8,
        "impact_lon_deg": 140.7,
        "probability": 0.8,
        "utc_offset_min": 9 * 60,
    }
    fields.update(overrides)
    return cap.CapAlert(**fields)


# ----------------------------------------------------------------- the schema itself
def test_shipped_schema_is_the_oasis_cap_1_2_schema():
    raw = XSD.read_text(encoding="utf-8")
    assert "Copyright OASIS Open 2010" in raw
    tree = etree.parse(str(XSD))
    root = tree.getroot()
    assert root.get("targetNamespace") == NS
    assert root.get("version") == "1.2"
    names = set(root.xpath("//xs:element/@name", namespaces=XS))
    assert {"alert", "info", "resource", "area", "polygon", "circle", "references", "valueName"} <= names
    patterns = root.xpath("//xs:element[@name='sent']//xs:pattern/@value", namespaces=XS)
    assert patterns == [r"\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d[-,+]\d\d:\d\d"]


def test_schema_rejects_a_z_time_and_other_broken_documents(schema):
    good = cap.cap_xml(simple_change())
    assert schema.validate(parse(good))
    sent = text(parse(good), "cap:sent")
    assert sent == "2022-10-04T07:29:00+09:00"
    zulu = good.replace(f"<sent>{sent}</sent>".encode(), b"<sent>2022-10-03T22:29:00Z</sent>")
    assert zulu != good
    assert not schema.validate(parse(zulu))
    assert "sent" in str(schema.error_log.last_error)
    fraction = good.replace(sent.encode(), b"2022-10-04T07:29:00.5+09:00")
    assert not schema.validate(parse(fraction))
    bad_type = good.replace(b"<msgType>Alert</msgType>", b"<msgType>Warning</msgType>")
    assert not schema.validate(parse(bad_type))
    no_scope = re.sub(rb"\s*<scope>Public</scope>", b"", good)
    assert not schema.validate(parse(no_scope))


# ----------------------------------------------------------------- time
def test_cap_datetime_has_an_explicit_offset_and_whole_seconds():
    assert cap.cap_datetime(JALERT_2022, 9 * 60) == "2022-10-04T07:29:00+09:00"
    assert cap.cap_datetime(JALERT_2022 + 0.999, 9 * 60) == "2022-10-04T07:29:00+09:00"  # truncated
    # CAP §3.3.2: UTC is written "-00:00", never "Z".
    assert cap.cap_datetime(JALERT_2022) == "2022-10-03T22:29:00-00:00"
    assert cap.cap_datetime(JALERT_2022, -10 * 60) == "2022-10-03T12:29:00-10:00"  # Hawaii
    assert cap.cap_datetime(JALERT_2022, 5 * 60 + 45) == "2022-10-04T04:14:00+05:45"
    assert cap.cap_datetime(0.0) == "1970-01-01T00:00:00-00:00"
    for bad in (math.nan, math.inf, -1.0, 1e15):
        with pytest.raises(ValueError):
            cap.cap_datetime(bad)
    with pytest.raises(ValueError):
        cap.cap_datetime(JALERT_2022, 15 * 60)


# ----------------------------------------------------------------- derived codes
@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (None, "Unknown"),
        (math.nan, "Unknown"),
        (-3600.0, "Past"),
        (-0.001, "Past"),
        (0.0, "Immediate"),
        (599.999, "Immediate"),
        (600.0, "Expected"),  # 10 min
        (3599.999, "Expected"),
        (3600.0, "Future"),  # 1 h: CAP's "within next hour" ends
        (86400.0, "Future"),
    ],
)
def test_urgency_boundaries(seconds, expected):
    assert cap.urgency_for(seconds) == expected


@pytest.mark.parametrize(
    ("probability", "expected"),
    [
        (None, "Unknown"),
        (math.nan, "Unknown"),
        (0.0, "Unlikely"),
        (0.0499, "Unlikely"),
        (0.05, "Possible"),
        (0.5, "Possible"),  # CAP: Possible is p <= ~50 %
        (0.5001, "Likely"),  # Likely is p > ~50 %
        (1.0, "Likely"),
    ],
)
def test_certainty_boundaries(probability, expected):
    assert cap.certainty_for(probability) == expected


def test_certainty_observed_wins_and_bad_probability_raises():
    assert cap.certainty_for(0.01, observed=True) == "Observed"
    assert cap.certainty_for(None, observed=True) == "Observed"
    with pytest.raises(ValueError):
        cap.certainty_for(1.01)


def test_severity_by_reason_and_area():
    assert cap.severity_for("impact", "territory") == "Extreme"
    assert cap.severity_for("impact", "eez") == "Severe"
    assert cap.severity_for("overflight", "territory") == "Severe"
    assert cap.severity_for("overflight", "eez") == "Unknown"  # never raised by mwx


def test_lifecycle_mapping_to_msg_type_and_response_type():
    expected = {
        "issued": ("Alert", "Shelter"),
        "updated": ("Update", "Shelter"),
        "cancelled": ("Cancel", "AllClear"),
        "ended": ("Update", "AllClear"),
        "track-lost": ("Update", "Monitor"),
    }
    for lifecycle, (msg_type, response) in expected.items():
        assert cap.msg_type_for(lifecycle) == msg_type
        assert cap.response_type_for(lifecycle, "Immediate") == response
    assert cap.response_type_for("track-lost", "Past") == "AllClear"
    with pytest.raises(ValueError):
        cap.msg_type_for("expired")


def test_codes_of_a_change_over_its_lifecycle():
    ref = (simple_change().reference,)
    # Issued 5 min before impact, p = 0.8, on territory.
    assert cap.cap_codes(simple_change()) == ("Shelter", "Immediate", "Extreme", "Likely")
    # 20 min before: Expected; 2 h before: Future.
    assert (
        cap.cap_codes(simple_change(onset_s=JALERT_2022 + 1200, event_end_s=JALERT_2022 + 1200)).urgency == "Expected"
    )
    assert cap.cap_codes(simple_change(onset_s=JALERT_2022 + 7200, event_end_s=JALERT_2022 + 7200)).urgency == "Future"
    # An overflight under way (entered, not yet left) is observed and immediate.
    over = simple_change(
        reason="overflight", onset_s=JALERT_2022 - 10, event_end_s=JALERT_2022 + 30, probability=None, change_number=2
    )
    assert cap.cap_codes(over) == ("Shelter", "Immediate", "Severe", "Observed")
    # Cancelled: withdrawn, no longer expected in the area.
    cancelled = simple_change(lifecycle="cancelled", change_number=2, references=ref)
    assert cap.cap_codes(cancelled) == ("AllClear", "Past", "Minor", "Unlikely")
    # Ended: over.
    ended = simple_change(lifecycle="ended", change_number=2, references=ref, sent_s=JALERT_2022 + 400)
    assert cap.cap_codes(ended) == ("AllClear", "Past", "Minor", "Likely")
    # Track lost before the predicted impact: keep monitoring; after it: all clear.
    lost = simple_change(lifecycle="track-lost", change_number=2, references=ref, sent_s=JALERT_2022 + 60)
    assert cap.cap_codes(lost) == ("Monitor", "Immediate", "Extreme", "Likely")
    lost_late = simple_change(lifecycle="track-lost", change_number=2, references=ref, sent_s=JALERT_2022 + 400)
    assert cap.cap_codes(lost_late)[:2] == ("AllClear", "Past")


def test_update_and_cancel_need_references():
    with pytest.raises(ValueError, match="references"):
        simple_change(lifecycle="updated", change_number=2)
    with pytest.raises(ValueError, match="references"):
        simple_change(lifecycle="cancelled", change_number=2)
    with pytest.raises(ValueError):
        simple_change(probability=1.5)
    with pytest.raises(ValueError):
        simple_change(onset_s=math.nan)


# ----------------------------------------------------------------- a whole lifecycle, every msgType
def lifecycle_changes(areas) -> list[cap.CapAlert]:
    """CAP changes of a real AlertManager run: impact alert issued, updated, kept as advisory, cancelled;
    overflight issued, ended."""
    eez = area_of(areas, "JP", "eez")
    territory = area_of(areas, "JP", "territory")
    mgr = AlertManager("JP", areas)
    t0 = JALERT_2022
    impact = Threat(eez, "impact", t0 + 600, 40.0, 138.7, None, t0 + 600)
    later = Threat(eez, "impact", t0 + 660, 40.2, 138.7, None, t0 + 660)  # a minute later: news
    over = Threat(territory, "overflight", t0 + 900, 40.6, 168.0, t0 + 290, t0 + 330)
    mgr.evaluate(t0, "JP-E001", {"JP-F0001": [impact]})
    mgr.evaluate(t0 + 4, "JP-E001", {"JP-F0001": [later]})
    mgr.evaluate(t0 + 8, "JP-E001", {"JP-F0001": []})
    mgr.evaluate(t0 + 70, "JP-E001", {"JP-F0001": []})  # advisory after the patience (~a minute, 590 s ahead)
    mgr.evaluate(t0 + 75, "JP-E001", {"JP-F0001": []})
    mgr.evaluate(t0 + 140, "JP-E001", {"JP-F0001": []})  # withdrawn after a patience of its own
    mgr.evaluate(t0 + 2, "JP-E002", {"JP-F0002": [over]})
    mgr.close(t0 + 1000)
    out = []
    for alert in mgr.alerts.values():
        out.extend(cap.cap_alerts_from_history(alert, web="https://example.org/mwx?a=1&b=2"))
    return out


def test_every_msg_type_of_a_lifecycle_validates_and_refers_to_all_earlier(schema, areas):
    changes = lifecycle_changes(areas)
    assert [c.lifecycle for c in changes] == ["issued", "updated", "updated", "cancelled", "issued", "ended"]
    seen_types = set()
    by_alert: dict[str, list[etree._Element]] = {}
    for change in changes:
        root = parse(cap.cap_xml(change))
        schema.assertValid(root)
        earlier = by_alert.setdefault(change.alert_id, [])
        assert text(root, "cap:identifier") == change.identifier
        assert text(root, "cap:sender") == "mwx@JP"
        assert text(root, "cap:status") == "Exercise"
        assert text(root, "cap:scope") == "Public"
        assert text(root, "cap:sent").endswith("+09:00")
        msg_type = text(root, "cap:msgType")
        seen_types.add(msg_type)
        triples = [f"{text(e, 'cap:sender')},{text(e, 'cap:identifier')},{text(e, 'cap:sent')}" for e in earlier]
        if msg_type == "Alert":
            assert root.find("cap:references", Q) is None
        else:
            assert text(root, "cap:references").split(" ") == triples
        earlier.append(root)
    assert seen_types == {"Alert", "Update", "Cancel"}
    # Onsets and ends come from the predictions: impact at t0 + 600, then 660 (kept by the cancel);
    # overflight from t0 + 290 to t0 + 330.
    assert [(c.onset_s - JALERT_2022, c.event_end_s - JALERT_2022) for c in changes] == [
        (600, 600),
        (660, 660),
        (660, 660),
        (660, 660),
        (290, 330),
        (290, 330),
    ]
    assert changes[2].impact_lat_deg == changes[3].impact_lat_deg == 40.2  # the advisory and the cancel keep
    # the last prediction
    # The identifiers are unique and deterministic.
    assert len({c.identifier for c in changes}) == len(changes)
    assert [c.identifier for c in lifecycle_changes(areas)] == [c.identifier for c in changes]
    assert [cap.cap_xml(c) for c in lifecycle_changes(areas)] == [cap.cap_xml(c) for c in changes]


def test_a_track_lost_message_validates(schema):
    lost = simple_change(lifecycle="track-lost", change_number=2, references=(simple_change().reference,))
    root = parse(cap.cap_xml(lost))
    schema.assertValid(root)
    assert text(root, "cap:msgType") == "Update"
    assert text(root, "cap:info/cap:responseType") == "Monitor"


def test_document_fields(schema):
    root = parse(cap.cap_xml(simple_change(status="Actual")))
    schema.assertValid(root)
    info = root.find("cap:info", Q)
    assert [c.text for c in info.findall("cap:category", Q)] == ["Safety", "Security"]
    assert text(info, "cap:event") == "Ballistic missile impact"
    assert text(info, "cap:onset") == "2022-10-04T07:34:00+09:00"
    assert text(info, "cap:expires") == "2022-10-04T07:49:00+09:00"  # 15 min after the impact
    assert "shelter" in text(info, "cap:instruction").lower()
    description = text(info, "cap:description")
    assert "Aomori" in description and "07:34:00+09:00" in description and "80 %" in description
    assert root.find("cap:note", Q) is None  # only exercise messages carry the note
    parameters = {
        p.findtext("cap:valueName", namespaces=Q): p.findtext("cap:value", namespaces=Q)
        for p in info.findall("cap:parameter", Q)
    }
    assert parameters["mwx:alertId"] == "JP-A0001"
    assert parameters["mwx:trackId"] == "JP-F0001"
    assert float(parameters["mwx:probability"]) == 0.8
    assert (float(parameters["mwx:impactLatDeg"]), float(parameters["mwx:impactLonDeg"])) == (40.8, 140.7)
    exercise = parse(cap.cap_xml(simple_change()))
    assert "EXERCISE" in text(exercise, "cap:note")
    assert text(exercise, "cap:info/cap:headline").startswith("EXERCISE")


# ----------------------------------------------------------------- areas
def ring_points(polygon_text: str) -> list[tuple[float, float]]:
    return [tuple(float(v) for v in pair.split(",")) for pair in polygon_text.split(" ")]


def ring_shape(polygon_text: str) -> Polygon:
    return Polygon([(lon, lat) for lat, lon in ring_points(polygon_text)])


def test_simplified_territory_polygons_cover_the_territory(areas):
    japan = area_of(areas, "JP", "territory")
    cap_area = cap.cap_area(japan, max_vertices=100)
    assert cap_area.description == japan.name
    assert len(cap_area.polygons) == len(japan.geometry.geoms)  # one ring per island polygon
    for polygon in cap_area.polygons:
        points = ring_points(polygon)
        assert 4 <= len(points) <= 100
        assert points[0] == points[-1]
    cover = shapely.union_all([ring_shape(p).buffer(0) for p in cap_area.polygons])
    assert cover.covers(japan.geometry)
    # ... and hugs it: no part of the cover lies more than 0.2° (about 20 km) from Japan.
    assert japan.geometry.buffer(0.2).covers(cover)
    assert cover.area < 1.5 * japan.geometry.area


def test_polygon_with_a_hole_is_covered_whole():
    ring = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (3, 1), (3, 3), (1, 3)]])
    (polygon,) = cap.cap_polygons(ring, max_vertices=10)
    assert ring_shape(polygon).covers(Polygon(ring.exterior))


def test_ellipse_polygon_contains_the_ellipse():
    lat0, lon0, a_km, b_km, azimuth = 39.5, 135.0, 80.0, 25.0, 60.0
    polygon = cap.ellipse_polygon(lat0, lon0, a_km, b_km, azimuth, n_vertices=24)
    points = ring_points(polygon)
    assert len(points) == 25 and points[0] == points[-1]
    shape = ring_shape(polygon)
    # Points on the ellipse: polar radius r(psi) = ab / sqrt((b cos psi)^2 + (a sin psi)^2), psi from the major axis.
    for k in range(360):
        psi = math.radians(k)
        r_km = a_km * b_km / math.hypot(b_km * math.cos(psi), a_km * math.sin(psi))
        lon, lat, _ = GEOD.fwd(lon0, lat0, azimuth + k, 0.995 * r_km * 1e3)
        assert shape.contains(Point(lon, lat)), k
    # The major-axis tip is the first vertex, a/cos(pi/n) out along the azimuth.
    az, _, dist = GEOD.inv(lon0, lat0, points[0][1], points[0][0])
    assert az == pytest.approx(azimuth, abs=0.01)
    assert dist / 1e3 == pytest.approx(a_km / math.cos(math.pi / 24), rel=1e-4)


def test_circle_text():
    assert cap.cap_circle(35.6812, 139.7671, 12.5) == "35.6812,139.7671 12.5"
    with pytest.raises(ValueError):
        cap.cap_circle(95.0, 0.0, 1.0)


# ----------------------------------------------------------------- writing files
def test_write_cap_files_sort_in_issue_order(tmp_path, areas):
    changes = lifecycle_changes(areas)
    paths = cap.write_cap(tmp_path / "cap", list(reversed(changes)))
    assert [p.name for p in paths] == [cap.cap_file_name(c) for c in reversed(changes)]
    names = sorted(p.name for p in (tmp_path / "cap").iterdir())
    assert names == [cap.cap_file_name(c) for c in changes]  # alert by alert, each in issue order
    assert names[0] == "JP-JP-A0001-001.xml"
    for path, change in zip(paths, reversed(changes), strict=True):
        assert path.read_bytes() == cap.cap_xml(change)
    with pytest.raises(ValueError, match="share"):
        cap.write_cap(tmp_path / "again", [changes[0], changes[0]])
    assert not (tmp_path / "again").exists()


# ----------------------------------------------------------------- properties
XML_SPECIAL = "<>&\"'"
NON_ASCII = "青森県北海道東京都서울특별시沖縄ÅéŁ𝔘"
xml_text = st.text(
    alphabet=st.one_of(st.sampled_from(XML_SPECIAL + NON_ASCII + " \n\t"), st.characters(codec="utf-8")),
    min_size=1,
    max_size=40,
)
printable_id = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=64)


@st.composite
def convex_polygons(draw) -> Polygon:
    lon0 = draw(st.floats(-175.0, 175.0))
    lat0 = draw(st.floats(-80.0, 80.0))
    size = draw(st.floats(0.01, 4.0))
    n = draw(st.integers(3, 40))
    unit = st.floats(-1.0, 1.0)
    points = [(lon0 + size * draw(unit), lat0 + size * draw(unit)) for _ in range(n)]
    hull = MultiPoint(points).convex_hull
    assume(hull.geom_type == "Polygon" and hull.area > 1e-4 * size * size)
    return hull


@st.composite
def cap_alerts(draw) -> tuple[cap.CapAlert, Polygon, int]:
    partner = draw(st.sampled_from(["JP", "KR", "US"]))
    lifecycle = draw(st.sampled_from(["issued", "updated", "cancelled", "ended", "track-lost"]))
    offset = draw(st.sampled_from([0, 9 * 60, -10 * 60, 5 * 60 + 30]))
    sent = draw(st.floats(946_684_800.0, 4_102_444_800.0))
    onset = draw(st.none() | st.floats(-7200.0, 7200.0).map(lambda d: sent + d))
    n_refs = 0 if lifecycle == "issued" else draw(st.integers(1, 5))
    references = tuple(
        cap.CapReference(
            f"mwx@{partner}", f"mwx-{partner}-x-{i + 1}", cap.cap_datetime(sent - 10.0 * (n_refs - i), offset)
        )
        for i in range(n_refs)
    )
    polygon = draw(convex_polygons())
    max_vertices = draw(st.integers(5, 100))
    impact = draw(st.none() | st.tuples(st.floats(-90.0, 90.0), st.floats(-180.0, 180.0)))
    return (
        cap.CapAlert(
            partner=partner,
            alert_id=draw(printable_id),
            change_number=n_refs + 1,
            lifecycle=lifecycle,
            reason=draw(st.sampled_from(["impact", "overflight"])),
            area_kind=draw(st.sampled_from(["territory", "eez"])),
            sent_s=sent,
            track_id=draw(printable_id),
            areas=(cap.CapArea(draw(xml_text), tuple(cap.cap_polygons(polygon, max_vertices=max_vertices))),),
            onset_s=onset,
            event_end_s=None if onset is None else onset + draw(st.floats(0.0, 600.0)),
            impact_lat_deg=None if impact is None else impact[0],
            impact_lon_deg=None if impact is None else impact[1],
            probability=draw(st.none() | st.floats(0.0, 1.0)),
            references=references,
            status=draw(st.sampled_from(["Exercise", "Actual"])),
            utc_offset_min=offset,
        ),
        polygon,
        max_vertices,
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cap_alerts())
def test_any_change_validates_and_round_trips(schema, case):
    change, polygon, max_vertices = case
    document = cap.cap_xml(change)
    assert document.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = parse(document)
    schema.assertValid(root)
    assert root.tag == f"{{{NS}}}alert"
    identifier = text(root, "cap:identifier")
    assert identifier == change.identifier
    assert not ID_FORBIDDEN.search(identifier)
    assert text(root, "cap:msgType") == cap.msg_type_for(change.lifecycle)
    references = root.find("cap:references", Q)
    if change.references:
        assert references.text.split(" ") == [str(r) for r in change.references]
        for triple in references.text.split(" "):
            _sender, _identifier, sent = triple.split(",")
            assert sent.endswith(("+09:00", "-00:00", "-10:00", "+05:30"))
    else:
        assert references is None
    # Text comes back as written, less what XML 1.0 cannot carry (→ U+FFFD) and CR (→ LF).
    description = change.areas[0].description
    expected = re.sub(
        "[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]",
        "\ufffd",
        description.replace("\r\n", "\n").replace("\r", "\n"),
    )
    assert text(root, "cap:info/cap:area/cap:areaDesc") == expected
    polygons = [e.text for e in root.findall("cap:info/cap:area/cap:polygon", Q)]
    assert polygons == list(change.areas[0].polygons)
    assert len(polygons) == 1
    points = ring_points(polygons[0])
    assert 4 <= len(points) <= max_vertices
    assert points[0] == points[-1]
    assert all(-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0 for lat, lon in points)
    assert ring_shape(polygons[0]).buffer(0).covers(polygon)
