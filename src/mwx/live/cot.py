"""Cursor-on-Target over TCP (or TLS) for TAK clients: one partner's live picture as a stream of CoT events.

A TAK client (ATAK, WinTAK, iTAK, a TAK server's input) connects to :class:`CotFeed` and first gets the events
of the picture as it stands (:meth:`~mwx.live.picture.LivePicture.snapshot`), then, batch by batch as updates
are appended, the events of what changed.  Each event is an XML document (``<?xml ...?>`` then one
``<event>``, no separator: how TAK servers stream), with the builders and constants of
:mod:`mwx.exports.cot`:

* a track's latest state (uid ``mwx.<partner>.track.<kind>.<source>.<track id>``): type ``a-h-A-W-M-S-S``, how
  ``m-a`` for the partner's own and its partners' tracks, ``m-f`` for its fused system tracks; ``ce`` the 1σ
  horizontal error [m] (the state's ``sigma_h_m``, else the 95 % outline's largest radius / 2.4477, else
  unknown), ``le`` the 1σ vertical error (``sigma_v_m``, else unknown 9999999); stale ``TRACK_STALE_S`` after
  the state;
* a system track's predicted impact point (uid ``mwx.<partner>.impact.<kind>.<source>.<track id>``): type
  ``b-m-p``, how ``m-p``, ``ce`` the 95 % ellipse's major semi-axis / 2.4477, a ``shape`` ellipse; stale
  ``IMPACT_STALE_S`` after the predicted impact (at least as long as the track state); a later state of the
  track without a prediction takes it off the map;
* an alert's area, one event per ring (uid ``mwx.<partner>.alert.<owner>.<alert id>.<ring>``): type ``u-d-f``
  with a ``link`` point per vertex (the ring closed), how ``m-p``, stale ``IMPACT_STALE_S`` after the change's
  impact or crossing time and at least ``AREA_STALE_S`` after the change.  A change without an area keeps the
  area last sent; an ``ended`` or ``cancelled`` change (:data:`mwx.exports.common.CLOSING`) sends the area's
  events again with ``stale`` equal to their time, which takes them off a TAK map.  ``track-lost`` does not:
  losing the track is no evidence the threat has gone (:mod:`mwx.warn.cap` keeps such an alert standing too).

Every event says ``opex="e"`` (exercise); ``time`` and ``start`` are the update's scenario time (UTC, ``Z``).
A TAK client removes an event once its own clock passes ``stale``: a replay of a past run is scenario time in
the past, so its events show only on a client whose clock is set to the scenario's.

Clients are written to, never read: whatever a client sends (TAK pings, its own position) is read and dropped.
A client that reads slower than the picture changes is dropped (with a log line) once ``max_queued`` batches
wait for it, so a slow client never holds up the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import ssl
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from pyproj import Geod

from mwx.exports.common import CLOSING, iso
from mwx.exports.cot import (
    AREA_TYPE,
    IMPACT_STALE_S,
    IMPACT_TYPE,
    MISSILE_TYPE,
    SIGMA_95_2D,
    TRACK_STALE_S,
    UID_UNSAFE,
    UNKNOWN_ERROR_M,
    XML_DECLARATION,
    add_area_links,
    add_detail,
    add_ellipse_shape,
    add_point,
    area_center,
    event_element,
    impact_ce_m,
)
from mwx.geo.lon import wrap_lon
from mwx.live.picture import LivePicture
from mwx.live.updates import AlertUpdate, AlertView, Impact, Snapshot, TrackUpdate, Update

log = logging.getLogger(__name__)

#: Batches that may wait for one client before it is dropped as too far behind.
MAX_QUEUED_BATCHES = 256
#: Bytes read at a time from a client (what it sends is dropped).
READ_CHUNK = 65536
#: How long an alert area stays on a TAK map after its latest change at least [s]: longer than a flight, so a
#: standing area never lapses while the feed runs; the alert's end takes it off at once.
AREA_STALE_S = 1800.0

_GEOD = Geod(ellps="WGS84")

Ring = list[tuple[float, float]]


# --------------------------------------------------------------------------- events
def _uid(partner: str, *parts: str) -> str:
    """A uid stable per object: the picture's partner first, so that the feeds of two partners never collide."""
    return ".".join(["mwx", *(UID_UNSAFE.sub("-", part) for part in (partner, *parts))])


def track_uid(partner: str, state: TrackUpdate) -> str:
    """``mwx.<partner>.track.<kind>.<source>.<track id>``: every state of a track replaces the last on a map."""
    return _uid(partner, "track", state.kind, state.source, state.track_id)


def impact_uid(partner: str, state: TrackUpdate) -> str:
    """``mwx.<partner>.impact.<kind>.<source>.<track id>``: one predicted impact point per track."""
    return _uid(partner, "impact", state.kind, state.source, state.track_id)


def area_uid(partner: str, owner: str, alert_id: str, ring: int) -> str:
    """``mwx.<partner>.alert.<owner>.<alert id>.<ring>``: one drawn shape per ring of an alert's area."""
    return _uid(partner, "alert", owner, alert_id, str(ring))


def _seconds(t: datetime, s: float) -> datetime:
    """``s`` seconds after ``t``."""
    return t + timedelta(seconds=s)


def horizontal_sigma_m(state: TrackUpdate) -> float:
    """1σ horizontal error [m] of a track state: its ``sigma_h_m``, else the largest distance from the state to
    its 95 % outline (the ellipse's major semi-axis) / 2.4477, else CoT's unknown."""
    if state.sigma_h_m is not None:
        return state.sigma_h_m
    if state.uncertainty is None:
        return UNKNOWN_ERROR_M
    vertices = np.array([v for ring in state.uncertainty.rings for v in ring], float).reshape(-1, 2)
    if len(vertices) == 0:
        return UNKNOWN_ERROR_M
    n = len(vertices)
    _, _, dist = _GEOD.inv(np.full(n, state.lon), np.full(n, state.lat), vertices[:, 0], vertices[:, 1])
    return float(np.max(dist)) / SIGMA_95_2D


def track_event(partner: str, state: TrackUpdate) -> ET.Element:
    """The event of a track's latest state (module doc)."""
    how = "m-f" if state.kind == "system" else "m-a"
    event = event_element(
        track_uid(partner, state), MISSILE_TYPE, how, state.time, state.time, _seconds(state.time, TRACK_STALE_S)
    )
    le = state.sigma_v_m if state.sigma_v_m is not None else UNKNOWN_ERROR_M
    add_point(event, state.lat, state.lon, state.alt_km * 1e3, horizontal_sigma_m(state), le)
    phase = "boosting" if state.boosting else "coasting"
    members = f", members {' '.join(state.members)}" if state.members else ""
    detail = add_detail(
        event,
        state.track_id,
        f"EXERCISE. {partner}'s picture: {state.kind} missile track {state.track_id} of {state.source}, {phase}, "
        f"{state.alt_km:.1f} km at {iso(state.time)}{members}.",
    )
    ET.SubElement(detail, "track", {"course": f"{state.heading_deg % 360.0:.2f}", "speed": f"{state.speed_mps:.1f}"})
    return event


def impact_event(partner: str, state: TrackUpdate, impact: Impact) -> ET.Element:
    """The event of a track's predicted impact point (module doc)."""
    threat = impact.time if impact.time is not None else state.time
    stale = max(_seconds(threat, IMPACT_STALE_S), _seconds(state.time, TRACK_STALE_S))
    event = event_element(impact_uid(partner, state), IMPACT_TYPE, "m-p", state.time, state.time, stale)
    ellipse = impact.ellipse_95
    add_point(event, impact.point.lat, impact.point.lon, 0.0, impact_ce_m(ellipse), UNKNOWN_ERROR_M)
    when = iso(impact.time) if impact.time is not None else "an unknown time"
    detail = add_detail(
        event,
        f"{state.track_id} impact",
        f"EXERCISE. {partner}'s predicted impact of track {state.track_id} at {when}; 95 % ellipse "
        f"{ellipse.semi_major_km:g} x {ellipse.semi_minor_km:g} km, major axis {ellipse.orientation_deg:g} deg "
        "from north.",
    )
    add_ellipse_shape(detail, ellipse)
    return event


def area_stale(update: AlertUpdate) -> datetime:
    """Until when a standing alert's area holds on a TAK map (module doc)."""
    change = update.change
    threat = [t for t in (change.impact_time, change.crossing_time) if t is not None]
    return max([_seconds(update.time, AREA_STALE_S), *(_seconds(t, IMPACT_STALE_S) for t in threat)])


def _closed(ring: Ring) -> Ring:
    """A ring in [-180, 180] longitudes (TAK's range), its first vertex repeated at the end (TAK's closed shape)."""
    out = [(wrap_lon(float(lon)), float(lat)) for lon, lat in ring]
    return out + out[:1] if out and out[0] != out[-1] else out


def area_events(partner: str, update: AlertUpdate, rings: list[Ring]) -> dict[str, ET.Element]:
    """The events of an alert's area by uid, one per ring with an extent, as of the change ``update``."""
    change = update.change
    stale = area_stale(update)
    probability = f", probability {change.probability:.2f}" if change.probability is not None else ""
    remarks = (
        f"EXERCISE. {update.owner} {change.level or ''} {update.reason} alert {update.alert_id} for {update.area}: "
        f"{change.status} at {iso(update.time)}{probability}."
    )
    out: dict[str, ET.Element] = {}
    for k, ring in enumerate(rings):
        center = area_center([ring])
        if center is None:
            continue
        lat0, lon0, radius = center
        uid = area_uid(partner, update.owner, update.alert_id, k)
        event = event_element(uid, AREA_TYPE, "m-p", update.time, update.time, stale)
        add_point(event, lat0, lon0, 0.0, radius, UNKNOWN_ERROR_M)
        detail = add_detail(event, f"{update.alert_id} {update.area}", remarks)
        add_area_links(detail, [_closed(ring)])
        out[uid] = event
    return out


def expired(event: ET.Element, now: datetime) -> ET.Element:
    """``event`` again with time, start and stale ``now``: TAK takes it off the map."""
    again = copy.deepcopy(event)
    for name in ("time", "start", "stale"):
        again.set(name, iso(now))
    return again


def _latest_rings(alert: AlertView) -> list[Ring]:
    """The area an alert's changes last gave (a change may leave it out)."""
    return next((list(u.change.alert_area) for u in reversed(alert.changes) if u.change.alert_area), [])


def standing_area_events(partner: str, alert: AlertView) -> dict[str, ET.Element]:
    """The area events of an alert in a snapshot: none once it ended or was cancelled."""
    latest = alert.changes[-1]
    if latest.change.status in CLOSING:
        return {}
    return area_events(partner, latest, _latest_rings(alert))


def snapshot_events(snapshot: Snapshot) -> list[ET.Element]:
    """The events of the picture as it stands: every track, every predicted impact, every standing alert area."""
    partner = snapshot.partner
    out: list[ET.Element] = []
    for view in snapshot.tracks:
        out.append(track_event(partner, view.state))
        if view.state.impact is not None:
            out.append(impact_event(partner, view.state, view.state.impact))
    for alert in snapshot.alerts:
        out += standing_area_events(partner, alert).values()
    return out


def wire(events: list[ET.Element]) -> bytes:
    """Events as TAK streams them: each an XML document (declaration, UTF-8), back to back."""
    return b"".join(XML_DECLARATION + ET.tostring(event, encoding="utf-8") for event in events)


@dataclass
class _SentArea:
    """An alert's area as last sent: its rings and its events by uid."""

    rings: list[Ring]
    events: dict[str, ET.Element]


class CotEncoder:
    """Turns a picture's updates, in order, into CoT events; it remembers what a later update may take back (the
    impact points and alert areas last sent), since an update says only what changed."""

    def __init__(self, partner: str) -> None:
        self.partner = partner
        self._impacts: dict[str, ET.Element] = {}  # track key -> its impact event
        self._areas: dict[tuple[str, str], _SentArea] = {}  # (owner, alert id) -> its area as last sent

    def prime(self, snapshot: Snapshot) -> None:
        """Start from the picture ``snapshot`` (what a client connecting now is sent)."""
        self._impacts = {
            view.state.key: impact_event(self.partner, view.state, view.state.impact)
            for view in snapshot.tracks
            if view.state.impact is not None
        }
        self._areas = {
            (alert.owner, alert.alert_id): _SentArea(_latest_rings(alert), standing_area_events(self.partner, alert))
            for alert in snapshot.alerts
        }

    def events(self, update: Update) -> list[ET.Element]:
        """The events of one update (none for acknowledgements, launch reports, health and clock)."""
        if isinstance(update, TrackUpdate):
            return self._track(update)
        if isinstance(update, AlertUpdate):
            return self._alert(update)
        return []

    def _track(self, state: TrackUpdate) -> list[ET.Element]:
        out = [track_event(self.partner, state)]
        if state.impact is not None:
            self._impacts[state.key] = impact_event(self.partner, state, state.impact)
            out.append(self._impacts[state.key])
        elif state.key in self._impacts:  # the prediction was withdrawn
            out.append(expired(self._impacts.pop(state.key), state.time))
        return out

    def _alert(self, update: AlertUpdate) -> list[ET.Element]:
        before = self._areas.pop((update.owner, update.alert_id), _SentArea([], {}))
        if update.change.status in CLOSING:
            return [expired(event, update.time) for event in before.events.values()]
        rings = list(update.change.alert_area) if update.change.alert_area else before.rings
        now = _SentArea(rings, area_events(self.partner, update, rings))
        self._areas[(update.owner, update.alert_id)] = now
        gone = [expired(event, update.time) for uid, event in before.events.items() if uid not in now.events]
        return [*now.events.values(), *gone]


# --------------------------------------------------------------------------- the server
@dataclass(eq=False)
class _Client:
    """A connected TAK client: the batches waiting for it, and the newest update its snapshot held."""

    peer: str
    writer: asyncio.StreamWriter
    after: int
    queue: asyncio.Queue[bytes]
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class CotFeed:
    """A CoT server for TAK clients over one partner's :class:`LivePicture` (module doc).

    ``host``/``port``: where to listen (port 0: a free one, :attr:`port` says which); ``ssl_context``: serve
    TLS with it (a server context: its certificate, and the CA of client certificates if it asks for them).
    :meth:`start` and :meth:`stop` run in the loop that serves (any running asyncio loop, e.g. the HTTP
    server's); the picture may be appended to from any thread.
    """

    def __init__(
        self,
        picture: LivePicture,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        *,
        max_queued: int = MAX_QUEUED_BATCHES,
    ) -> None:
        self.picture = picture
        self.host = host
        self.requested_port = port
        self.ssl_context = ssl_context
        self.max_queued = max_queued
        self._encoder = CotEncoder(picture.partner)
        self._seq = 0  # the newest update the pump has seen
        self._primed = False  # whether the encoder's memory is that of update self._seq
        self._clients: set[_Client] = set()
        self._server: asyncio.Server | None = None
        self._pump_task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The port listened on (the free one picked for port 0)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the CoT feed is not started")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def clients(self) -> int:
        """How many TAK clients are connected."""
        return len(self._clients)

    async def start(self) -> None:
        """Listen, and start turning the picture's new updates into events for the clients."""
        self._seq, self._primed = self.picture.seq, False
        self._server = await asyncio.start_server(self._serve, self.host, self.requested_port, ssl=self.ssl_context)
        self._pump_task = asyncio.create_task(self._pump(), name=f"cot-feed-{self.picture.partner}")
        log.info("CoT feed of %s's picture on %s:%d", self.picture.partner, self.host, self.port)

    async def stop(self) -> None:
        """Stop listening, disconnect every client and stop the pump."""
        if self._server is not None:
            self._server.close()
        if self._pump_task is not None:
            self._pump_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump_task
        tasks = [task for client in list(self._clients) for task in client.tasks]
        for client in list(self._clients):
            self._disconnect(client)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        self._server = self._pump_task = None

    # ---------------------------------------------------------------- the pump: one encoding, every client
    async def _pump(self) -> None:
        while True:
            await self.picture.wait(self._seq)
            if not self._clients:  # nobody to tell: no encoding; the next client's snapshot primes the encoder
                self._seq, self._primed = self.picture.seq, False
                continue
            batch = self.picture.since(self._seq)
            if not batch.updates:
                continue
            self._seq = batch.seq
            # events are built once per update and numbered, so that a client whose snapshot already held
            # some of the batch gets only the rest
            items = [(u.seq, wire(self._encoder.events(u))) for u in batch.updates]
            whole = b"".join(data for _, data in items)
            for client in list(self._clients):
                payload = whole if client.after <= batch.after else b"".join(d for s, d in items if s > client.after)
                self._offer(client, payload)

    def _offer(self, client: _Client, payload: bytes) -> None:
        if not payload:
            return
        try:
            client.queue.put_nowait(payload)
        except asyncio.QueueFull:
            log.warning(
                "CoT feed of %s: dropped TAK client %s, %d batches behind",
                self.picture.partner,
                client.peer,
                client.queue.qsize(),
            )
            self._disconnect(client)

    # ---------------------------------------------------------------- one client
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """A client: its snapshot, then the pump's batches, while what it sends is read and dropped."""
        peer = writer.get_extra_info("peername")
        # the snapshot and the registration happen with no await between, so the pump's next batch starts
        # where the snapshot ended (updates it already held are filtered out by number)
        snapshot = self.picture.snapshot()
        client = _Client(str(peer), writer, snapshot.seq, asyncio.Queue(maxsize=self.max_queued))
        if not self._primed:
            self._encoder.prime(snapshot)
            self._seq, self._primed = snapshot.seq, True
        client.queue.put_nowait(wire(snapshot_events(snapshot)))
        self._clients.add(client)
        log.info("CoT feed of %s: TAK client %s connected", self.picture.partner, client.peer)
        sender = asyncio.create_task(self._send(client))
        current = asyncio.current_task()
        client.tasks = [sender] + ([current] if current is not None else [])
        try:
            await self._discard(reader)
        finally:
            sender.cancel()
            self._disconnect(client)
            log.info("CoT feed of %s: TAK client %s gone", self.picture.partner, client.peer)

    @staticmethod
    async def _discard(reader: asyncio.StreamReader) -> None:
        """Read what the client sends until it hangs up; nothing it sends is looked at."""
        with contextlib.suppress(OSError):  # a reset, a TLS error: the client is gone all the same
            while await reader.read(READ_CHUNK):
                pass

    async def _send(self, client: _Client) -> None:
        """Write the client's batches, one write each; a write that fails hangs the client up."""
        try:
            while True:
                payload = await client.queue.get()
                if payload:
                    client.writer.write(payload)
                    await client.writer.drain()
        except OSError:
            self._disconnect(client)

    def _disconnect(self, client: _Client) -> None:
        """Forget the client and drop its connection at once (no flushing to a client that does not read)."""
        self._clients.discard(client)
        client.writer.transport.abort()
