"""The live picture's feeds for standard tools: Cursor-on-Target over TCP/TLS for TAK clients, CZML for Cesium.

A :class:`LivePicture` is built by hand (a Setup, tracks of the three kinds, a system track's predicted impact, an
alert standing and one issued then ended) and the expected values are written out here, not computed with the
code under test.  The CoT feed is read by pytak (a TAK client library: its socket and RXWorker) and every event is
parsed by takproto (TAK's protobuf from the CoT XML); the CZML by czml3's pydantic models.
"""

from __future__ import annotations

import asyncio
import json
import math
import socket
import ssl
import time
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
import takproto
from czml3 import Document
from pyproj import Geod

from mwx import records
from mwx.exchange.certs import client_name, create_pki
from mwx.live.cot import CotEncoder, CotFeed, wire
from mwx.live.czml import czml_document, czml_packets
from mwx.live.picture import LivePicture
from mwx.live.updates import AlertUpdate, Impact, Outline, Setup, TrackUpdate

with warnings.catch_warnings():  # pytak warns at import that aiohttp (for its HTTP transports) is missing
    warnings.simplefilter("ignore")
    import pytak

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
SIGMA_95 = 2.4477  # radius of the 95 % region of a 2-D normal, in σ
UNKNOWN = 9999999.0
GEOD = Geod(ellps="WGS84")
#: KR's alert area (lon, lat), closed, as alerts.json and the live updates give rings.
KR_RING = [(129.0, 35.5), (130.0, 35.5), (130.0, 36.5), (129.0, 36.5), (129.0, 35.5)]
JP_RING = [(131.0, 33.0), (132.0, 33.0), (131.5, 34.0), (131.0, 33.0)]
WAIT_S = 5.0  # the most a test waits for anything (loaded machines); the latency check is separate

T = TypeVar("T")
Ring = list[tuple[float, float]]


def t(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ellipse_outline(lat: float, lon: float, major_km: float, minor_km: float, azimuth: float) -> Outline:
    """A 95 % ellipse's outline drawn here: 72 points at distance r(θ) in direction azimuth + θ."""
    ring = []
    for k in range(73):
        theta = math.radians(5.0 * k)
        along, across = major_km * 1e3 * math.cos(theta), minor_km * 1e3 * math.sin(theta)
        az = azimuth + math.degrees(math.atan2(across, along))
        x, y, _ = GEOD.fwd(lon, lat, az, math.hypot(along, across))
        ring.append((x, y))
    return Outline(rings=[ring])


def track(seconds: float, kind: str, source: str, track_id: str, lat: float, lon: float, **more: Any) -> TrackUpdate:
    return TrackUpdate(time=t(seconds), kind=kind, source=source, track_id=track_id, lat=lat, lon=lon,
                       alt_km=more.pop("alt_km", 80.0), speed_mps=2000.0, heading_deg=95.0, boosting=False,
                       **more)  # fmt: skip


IMPACT = Impact(
    time=t(400),
    point=records.Point(lat=36.0, lon=129.5),
    ellipse_95=records.Ellipse95(semi_major_km=12.0, semi_minor_km=4.0, orientation_deg=95.0),
    outline=ellipse_outline(36.0, 129.5, 12.0, 4.0, 95.0),
)


def alert(seconds: float, owner: str, alert_id: str, status: str, rings: list[Ring] | None) -> AlertUpdate:
    change = records.AlertChange(time=t(seconds), status=status, why=["test"], level="warning", reason="impact",
                                 impact_time=t(400), alert_area=rings)  # fmt: skip
    return AlertUpdate(time=t(seconds), owner=owner, alert_id=alert_id, area=f"{owner} territory",
                       area_kind="territory", reason="impact", change=change)  # fmt: skip


MEMBERS = ["KR/KR-T1", "JP/JP-T7"]


def picture() -> LivePicture:
    setup = Setup(partner="KR", partners=["KR", "JP", "US"], mode="live", scenario="feeds", start=T0, end=t(3600),
                  bounds=(120.0, 30.0, 140.0, 45.0), sensors=[], areas=[], stale_s=120.0)  # fmt: skip
    p = LivePicture(setup)
    p.extend(
        [
            track(10, "own", "KR", "KR-T1", 38.1, 125.5),
            track(12, "partner", "JP", "JP-T7", 37.9, 126.2, alt_km=95.0),
            track(14, "own", "KR", "KR-T1", 38.05, 125.9, uncertainty=ellipse_outline(38.05, 125.9, 3.0, 1.0, 30.0)),
            track(
                15, "system", "KR", "S-1", 38.0, 126.0, members=MEMBERS, impact=IMPACT, sigma_h_m=500.0, sigma_v_m=300.0
            ),
            alert(20, "KR", "KR-A1", "issued", [KR_RING]),
            alert(21, "JP", "JP-A3", "issued", [JP_RING]),
            alert(25, "JP", "JP-A3", "ended", [JP_RING]),
        ]
    )
    return p


# --------------------------------------------------------------------------- a TAK client
@dataclass
class Cot:
    """One received event as takproto parsed it (times in ms since the epoch), and its link points (lat, lon)."""

    uid: str
    type: str
    how: str
    opex: str
    lat: float
    lon: float
    hae: float
    ce: float
    le: float
    send: int
    start: int
    stale: int
    links: list[tuple[float, float]]
    xml_detail: str


def parse(data: bytes) -> Cot:
    message = takproto.parse_proto(bytearray(data))  # TAK's parser: the XML document to its protobuf
    assert message is not None, data[:200]
    e = message.cotEvent
    detail = ET.fromstring(f"<detail>{e.detail.xmlDetail}</detail>")  # what takproto kept as XML (link, shape)
    links = [tuple(float(v) for v in link.get("point", "").split(",")) for link in detail.findall("link")]
    return Cot(e.uid, e.type, e.how, e.opex, e.lat, e.lon, e.hae, e.ce, e.le, e.sendTime, e.startTime, e.staleTime,
               [(lat, lon) for lat, lon in links], e.detail.xmlDetail)  # fmt: skip


def ms(when: datetime) -> int:
    return round(when.timestamp() * 1000)


class Tak:
    """A TAK client: pytak's socket (``protocol_factory``) and its RXWorker putting each event read on a queue."""

    def __init__(self, config: dict[str, str]) -> None:
        self.config = {"TAK_PROTO": "0", **config}  # CoT XML on the wire, as the feed sends it
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.seen: list[Cot] = []

    async def __aenter__(self) -> Tak:
        self.reader, self.writer = await pytak.protocol_factory(self.config)
        self.task = asyncio.create_task(pytak.RXWorker(self.queue, self.config, self.reader).run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.task.cancel()
        self.writer.close()
        await asyncio.gather(self.task, return_exceptions=True)

    async def until(self, done: Callable[[list[Cot]], bool], timeout: float = WAIT_S) -> list[Cot]:
        """Read events until ``done(every event so far)``; every event so far."""
        deadline = time.monotonic() + timeout
        while not done(self.seen):
            left = deadline - time.monotonic()
            assert left > 0, f"timed out; received {[c.uid for c in self.seen]}"
            self.seen.append(parse(await asyncio.wait_for(self.queue.get(), left)))
        return self.seen

    async def uid(self, uid: str, after: int = 0, timeout: float = WAIT_S) -> Cot:
        """The first event of ``uid`` among those received after the first ``after``."""
        seen = await self.until(lambda s: any(c.uid == uid for c in s[after:]), timeout)
        return next(c for c in seen[after:] if c.uid == uid)


def tcp(feed: CotFeed) -> dict[str, str]:
    return {"COT_URL": f"tcp://127.0.0.1:{feed.port}"}


def run(main: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(main(), 15.0)

    return asyncio.run(bounded())


def latest(events: Iterable[Cot], uid: str) -> Cot:
    return [c for c in events if c.uid == uid][-1]


SNAPSHOT_UIDS = {
    "mwx.KR.track.own.KR.KR-T1",
    "mwx.KR.track.partner.JP.JP-T7",
    "mwx.KR.track.system.KR.S-1",
    "mwx.KR.impact.system.KR.S-1",
    "mwx.KR.alert.KR.KR-A1.0",
}


# --------------------------------------------------------------------------- CoT
def test_a_tak_client_gets_the_picture_then_what_changes() -> None:
    pic = picture()

    async def main() -> None:
        feed = CotFeed(pic, "127.0.0.1", 0)
        await feed.start()
        try:
            async with Tak(tcp(feed)) as tak:
                seen = await tak.until(lambda s: {c.uid for c in s} >= SNAPSHOT_UIDS)
                await asyncio.sleep(0.2)  # anything else of the snapshot would have come by now
                assert sorted(c.uid for c in tak.seen) == sorted(SNAPSHOT_UIDS)  # JP-A3 ended: no area
                check_snapshot(seen)

                moved = track(30, "own", "KR", "KR-T1", 37.95, 126.4)
                n = len(tak.seen)
                sent = time.monotonic()
                pic.append(moved)
                got = await tak.uid("mwx.KR.track.own.KR.KR-T1", after=n)
                assert time.monotonic() - sent < 1.0
                assert (got.lat, got.lon) == (pytest.approx(37.95, abs=1e-5), pytest.approx(126.4, abs=1e-5))
                assert (got.send, got.start, got.stale) == (ms(t(30)), ms(t(30)), ms(t(60)))

                n = len(tak.seen)
                pic.extend([track(31, "system", "KR", "S-1", 37.9, 126.3),  # its prediction withdrawn
                            alert(32, "KR", "KR-A1", "ended", None)])  # fmt: skip
                ended = await tak.uid("mwx.KR.alert.KR.KR-A1.0", after=n)
                assert ended.type == "u-d-f" and ended.send == ended.start == ended.stale == ms(t(32))
                assert ended.links == [(lat, lon) for lon, lat in KR_RING]  # the same area, taken off the map
                withdrawn = await tak.uid("mwx.KR.impact.system.KR.S-1", after=n)
                assert withdrawn.start == withdrawn.stale == ms(t(31))
        finally:
            await feed.stop()

    run(main)


def check_snapshot(seen: list[Cot]) -> None:
    for c in seen:
        assert c.opex == "e" and c.stale > c.start >= c.send
    own = latest(seen, "mwx.KR.track.own.KR.KR-T1")  # its latest state
    assert (own.type, own.how) == ("a-h-A-W-M-S-S", "m-a")
    assert (own.lat, own.lon, own.hae) == (pytest.approx(38.05, abs=1e-5), pytest.approx(125.9, abs=1e-5), 80000.0)
    assert own.ce == pytest.approx(3000.0 / SIGMA_95, rel=1e-3) and own.le == UNKNOWN
    assert (own.start, own.stale) == (ms(t(14)), ms(t(44)))
    partner = latest(seen, "mwx.KR.track.partner.JP.JP-T7")
    assert (partner.type, partner.how, partner.ce, partner.le) == ("a-h-A-W-M-S-S", "m-a", UNKNOWN, UNKNOWN)
    assert (partner.lat, partner.lon) == (pytest.approx(37.9, abs=1e-5), pytest.approx(126.2, abs=1e-5))
    system = latest(seen, "mwx.KR.track.system.KR.S-1")
    assert (system.type, system.how, system.ce, system.le) == ("a-h-A-W-M-S-S", "m-f", 500.0, 300.0)
    impact = latest(seen, "mwx.KR.impact.system.KR.S-1")
    assert (impact.type, impact.how) == ("b-m-p", "m-p")
    assert (impact.lat, impact.lon) == (pytest.approx(36.0, abs=1e-5), pytest.approx(129.5, abs=1e-5))
    assert impact.ce == pytest.approx(12000.0 / SIGMA_95, rel=1e-3) and impact.stale == ms(t(400 + 600))
    shape = ET.fromstring(f"<d>{impact.xml_detail}</d>").find("shape/ellipse")
    assert shape is not None and (shape.get("major"), shape.get("minor"), shape.get("angle")) == (
        "12000.0",
        "4000.0",
        "95.00",
    )
    area = latest(seen, "mwx.KR.alert.KR.KR-A1.0")
    assert (area.type, area.start) == ("u-d-f", ms(t(20)))
    assert area.links == [(lat, lon) for lon, lat in KR_RING]
    assert 35.5 < area.lat < 36.5 and 129.0 < area.lon < 130.0 and area.stale > area.start


def test_what_a_client_sends_is_dropped_and_other_clients_go_on() -> None:
    """TAK clients send pings and their own position; one that sends garbage breaks nothing."""
    pic = picture()

    async def main() -> None:
        feed = CotFeed(pic, "127.0.0.1", 0)
        await feed.start()
        try:
            noisy_reader, noisy = await asyncio.open_connection("127.0.0.1", feed.port)
            async with Tak(tcp(feed)) as tak:
                await tak.until(lambda s: {c.uid for c in s} >= SNAPSHOT_UIDS)
                ping = pytak.hello_event("noisy")  # a TAK client's hello / ping event, as pytak writes it
                noisy.write(ping + b"\x00\xff\xfe not xml <event <<< \x1b" * 500 + b"</event>" * 3)
                await noisy.drain()
                tak.writer.write(ping)  # pytak's own client too
                await tak.writer.drain()
                n = len(tak.seen)
                pic.append(track(40, "partner", "JP", "JP-T7", 37.7, 127.0))
                got = await tak.uid("mwx.KR.track.partner.JP.JP-T7", after=n)
                assert got.lon == pytest.approx(127.0, abs=1e-5)
                raw = await asyncio.wait_for(noisy_reader.readuntil(b'uid="mwx.KR.track.partner.JP.JP-T7"'), WAIT_S)
                assert b"<?xml" in raw  # the noisy client was sent the picture all the same
                assert feed.clients == 2
                noisy.close()
                await asyncio.wait_for(until(lambda: feed.clients == 1), WAIT_S)  # a client gone is forgotten
        finally:
            await feed.stop()

    run(main)


async def until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.01)


def test_a_client_too_far_behind_is_dropped_without_holding_up_the_others() -> None:
    pic = picture()

    async def main() -> None:
        feed = CotFeed(pic, "127.0.0.1", 0, max_queued=2)
        await feed.start()
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # and it never reads
        slow.setblocking(False)
        try:
            await asyncio.get_running_loop().sock_connect(slow, ("127.0.0.1", feed.port))
            async with Tak(tcp(feed)) as tak:
                await tak.until(lambda s: {c.uid for c in s} >= SNAPSHOT_UIDS)
                await until(lambda: feed.clients == 2)
                for k in range(200):
                    pic.extend(track(50 + k, "partner", "US", f"US-T{j}", 37.0, 127.0 + k / 1000) for j in range(40))
                    await asyncio.sleep(0.002)  # a batch each
                    if feed.clients == 1:
                        break
                assert feed.clients == 1  # the slow one was dropped
                n = len(tak.seen)
                pic.append(track(300, "own", "KR", "KR-T1", 37.5, 127.5))
                got = await tak.uid("mwx.KR.track.own.KR.KR-T1", after=n)
                assert got.lon == pytest.approx(127.5, abs=1e-5)
        finally:
            slow.close()
            await feed.stop()

    run(main)


@pytest.mark.filterwarnings("ignore:ssl.OP_NO:DeprecationWarning")  # pytak's TLS context still sets them
def test_the_feed_serves_tak_clients_over_tls_with_client_certificates(tmp_path: Path) -> None:
    """TAK's streaming TLS (port 8089 on a TAK server): the client presents a certificate of the feed's CA."""
    pki = create_pki(tmp_path / "pki", {"cot": ["127.0.0.1"]}, [client_name("KR")])
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca))
    server.load_cert_chain(str(pki.cert("cot")), str(pki.key("cot")))
    server.verify_mode = ssl.CERT_REQUIRED
    pic = picture()

    async def main() -> None:
        feed = CotFeed(pic, "127.0.0.1", 0, ssl_context=server)
        await feed.start()
        try:
            config = {
                "COT_URL": f"tls://127.0.0.1:{feed.port}",
                "PYTAK_TLS_CLIENT_CERT": str(pki.cert(client_name("KR"))),
                "PYTAK_TLS_CLIENT_KEY": str(pki.key(client_name("KR"))),
                "PYTAK_TLS_CLIENT_CAFILE": str(pki.ca),
            }
            async with Tak(config) as tak:
                await tak.until(lambda s: {c.uid for c in s} >= SNAPSHOT_UIDS)
                n = len(tak.seen)
                pic.append(track(60, "own", "KR", "KR-T1", 37.4, 127.6))
                assert (await tak.uid("mwx.KR.track.own.KR.KR-T1", after=n)).lat == pytest.approx(37.4, abs=1e-5)
        finally:
            await feed.stop()

    run(main)


def test_an_area_that_loses_a_ring_takes_it_off_and_a_lost_track_leaves_it_standing() -> None:
    encoder = CotEncoder("KR")
    encoder.prime(picture().snapshot())

    def events(update: AlertUpdate) -> dict[str, Cot]:
        return {c.uid: c for c in (parse(wire([e])) for e in encoder.events(update))}

    ring0, ring1 = "mwx.KR.alert.KR.KR-A1.0", "mwx.KR.alert.KR.KR-A1.1"
    two = events(alert(40, "KR", "KR-A1", "updated", [KR_RING, JP_RING]))
    assert set(two) == {ring0, ring1} and all(c.stale > c.start == ms(t(40)) for c in two.values())
    assert two[ring1].links == [(lat, lon) for lon, lat in JP_RING]
    one = events(alert(41, "KR", "KR-A1", "updated", [KR_RING]))
    assert one[ring0].stale > one[ring0].start and one[ring1].stale == one[ring1].start == ms(t(41))
    lost = events(alert(42, "KR", "KR-A1", "track-lost", None))  # no evidence the threat is gone: still shown
    assert set(lost) == {ring0} and lost[ring0].stale > lost[ring0].start == ms(t(42))
    assert lost[ring0].links == [(lat, lon) for lon, lat in KR_RING]


# --------------------------------------------------------------------------- CZML
def test_the_czml_document_holds_tracks_trails_impacts_and_standing_areas() -> None:
    data = czml_document(picture().snapshot())
    doc = Document.model_validate_json(data)  # czml3's pydantic models
    assert doc.packets[0].id == "document" and doc.packets[0].clock is not None
    packets = {p.id: p for p in doc.packets}
    assert len(packets) == len(doc.packets)
    assert set(packets) == {"document", "track/own/KR/KR-T1", "track/partner/JP/JP-T7", "track/system/KR/S-1",
                            "impact/system/KR/S-1", "alert/KR/KR-A1/0"}  # fmt: skip
    own = packets["track/own/KR/KR-T1"]
    assert own.position.cartographicDegrees.values == pytest.approx([125.9, 38.05, 80000.0])
    assert own.polyline.positions.cartographicDegrees.values == pytest.approx([125.5, 38.1, 0.0, 125.9, 38.05, 0.0])
    assert own.point.color.rgba != packets["track/partner/JP/JP-T7"].point.color.rgba  # partner colours
    impact = packets["impact/system/KR/S-1"]
    assert impact.position.cartographicDegrees.values == pytest.approx([129.5, 36.0, 0.0])
    assert (impact.ellipse.semiMajorAxis, impact.ellipse.semiMinorAxis) == (12000.0, 4000.0)
    ring = packets["alert/KR/KR-A1/0"].polygon.positions.cartographicDegrees.values
    assert ring == pytest.approx([v for lon, lat in KR_RING for v in (lon, lat, 0.0)])
    assert json.loads(data)[0]["name"].endswith("EXERCISE, simulated data")


def test_czml_packets_update_the_documents_entities() -> None:
    pic = picture()
    document_ids = {p.id for p in Document.model_validate_json(czml_document(pic.snapshot())).packets}
    after = pic.seq
    pic.extend([track(30, "own", "KR", "KR-T1", 37.95, 126.4), track(31, "own", "KR", "KR-T1", 37.9, 126.5),
                track(31, "system", "KR", "S-1", 37.9, 126.3), alert(32, "KR", "KR-A1", "ended", None)])  # fmt: skip
    stream = Document.model_validate_json(czml_packets(pic.since(after)))
    packets = [p for p in stream.packets if p.id != "document"]
    assert stream.packets[0].id == "document" and {p.id for p in packets} <= document_ids | {
        f"alert/KR/KR-A1/{k}" for k in range(64)
    }
    moved = [p for p in packets if p.id == "track/own/KR/KR-T1"]
    assert len(moved) == 1 and moved[0].position.cartographicDegrees.values == pytest.approx([126.5, 37.9, 80000.0])
    deleted = {p.id for p in packets if p.delete}
    assert {"impact/system/KR/S-1", "alert/KR/KR-A1/0"} <= deleted
    assert not any(p.delete for p in packets if p.id.startswith("track/"))
