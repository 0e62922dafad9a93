"""CZML (Cesium) of a partner's live picture: the document of a snapshot, and packets that keep it current.

:func:`czml_document` turns a :class:`~mwx.live.updates.Snapshot` into a CZML document (JSON, built with czml3
as :mod:`mwx.exports.czml` is): the document packet (name, and a clock over the run's window at the picture's
time), then a packet per

* track, ``track/<kind>/<source>/<track id>``: its latest position (degrees, height [m]), a point and a label
  in its colour (the source partner's; a fused system track's purple), a line on the ground along its trail
  (the path flown, as the snapshot holds it) and a description;
* predicted impact of a system track, ``impact/<kind>/<source>/<track id>``: a point and the 95 % ellipse;
* ring of a standing alert's area, ``alert/<owner>/<alert id>/<ring>``: a polygon in the owner's colour (an
  ended or cancelled alert has none).

:func:`czml_packets` turns an :class:`~mwx.live.updates.UpdateBatch` into packets for Cesium's
``CzmlDataSource.process`` with the same ids, so that a page that loaded the document and processes each batch
stays current: a track state moves its track (the trail line is the document's: a page redraws it by loading
the document again) and sets or deletes its impact; an alert change redraws its area's rings and deletes rings
it no longer has (up to :data:`MAX_AREA_RINGS`); an ended or cancelled alert deletes them; a clock update sets
the document's clock.  Positions are constant (not sampled in time), so what is drawn does not depend on
Cesium's clock.  Stale tracks are not deleted by the stream (a batch does not say when a track went stale): the
document of the next snapshot leaves them out.  Descriptions are HTML (Cesium's info box): every text from the
exchange in them is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import datetime

from czml3 import Document, Packet
from czml3.enums import ClockRanges, ClockSteps
from czml3.properties import (
    Clock,
    Color,
    Label,
    Material,
    Point,
    Polygon,
    Polyline,
    PolylineMaterial,
    Position,
    PositionList,
    SolidColorMaterial,
)
from czml3.types import TimeInterval

from mwx.exports.common import CLOSING, iso
from mwx.exports.czml import ellipse_graphics, ground_position, rgba
from mwx.live.updates import (
    AlertUpdate,
    AlertView,
    ClockUpdate,
    Impact,
    Snapshot,
    TrackUpdate,
    TrackView,
    UpdateBatch,
)

#: CZML version of the documents.
VERSION = "1.0"
#: The most rings of one alert area the stream deletes when the area shrinks or the alert closes.
MAX_AREA_RINGS = 32
#: The colour key of fused system tracks (:data:`mwx.exports.common.PARTNER_RGB`).
SYSTEM_COLOUR = "fused"

Ring = list[tuple[float, float]]


def _name(partner: str) -> str:
    """The document's name: the same in the document and the stream (Cesium renames the data source to it)."""
    return f"mwx {partner} live picture - EXERCISE, simulated data"


def track_packet_id(state: TrackUpdate) -> str:
    return f"track/{state.kind}/{state.source}/{state.track_id}"


def impact_packet_id(state: TrackUpdate) -> str:
    return f"impact/{state.kind}/{state.source}/{state.track_id}"


def area_packet_id(owner: str, alert_id: str, ring: int) -> str:
    return f"alert/{owner}/{alert_id}/{ring}"


def _colour_key(state: TrackUpdate) -> str:
    return SYSTEM_COLOUR if state.kind == "system" else state.source


def _degrees(points: Iterable[tuple[float, float]], height_m: float = 0.0) -> list[float]:
    """[lon, lat, height, ...] of (lon, lat) points [deg] at one height [m]: czml3's cartographicDegrees list."""
    return [v for lon, lat in points for v in (float(lon), float(lat), height_m)]


# --------------------------------------------------------------------------- packets
def _document_packet(partner: str, clock: Clock | None = None) -> Packet:
    return Packet(id="document", name=_name(partner), version=VERSION, clock=clock)


def _clock(time: datetime | None, update: ClockUpdate | None, window: TimeInterval | None = None) -> Clock:
    """Cesium's clock at scenario time ``time``, running at the clock update's speed [scenario s per s] (1 before
    any), over the run's ``window`` where given."""
    return Clock(
        interval=window,
        currentTime=iso(time) if time is not None else None,
        multiplier=update.speed if update is not None else 1.0,
        range=ClockRanges.UNBOUNDED,
        step=ClockSteps.SYSTEM_CLOCK_MULTIPLIER,
    )


def track_packet(state: TrackUpdate, trail: list[tuple[float, float]] | None = None) -> Packet:
    """A track at its latest state; with ``trail`` ([lon, lat] degrees, oldest first), a line along it."""
    colour = rgba(_colour_key(state))
    members = f"<br>members: {html.escape(', '.join(state.members))}" if state.members else ""
    line = None
    if trail is not None and len(trail) >= 2:
        line = Polyline(
            positions=PositionList(cartographicDegrees=_degrees(trail)),
            width=2,
            material=PolylineMaterial(solidColor=SolidColorMaterial(color=colour)),
        )
    return Packet(
        id=track_packet_id(state),
        name=f"{state.source} {state.kind} track {state.track_id}",
        description=(
            f"EXERCISE. {html.escape(state.kind)} missile track {html.escape(state.track_id)} of "
            f"{html.escape(state.source)} at {iso(state.time)}: {state.alt_km:.1f} km, {state.speed_mps:.0f} m/s, "
            f"heading {state.heading_deg:.0f}°, {'boosting' if state.boosting else 'coasting'}{members}"
        ),
        position=Position(cartographicDegrees=[state.lon, state.lat, round(state.alt_km * 1e3, 1)]),
        point=Point(
            pixelSize=8 if state.kind == "system" else 6,
            color=colour,
            outlineColor=Color(rgba=[255, 255, 255, 255]),
            outlineWidth=1,
        ),
        label=Label(text=state.track_id, font="11pt sans-serif", fillColor=colour),
        polyline=line,
    )


def impact_packet(state: TrackUpdate, impact: Impact) -> Packet:
    """A track's predicted impact: its mean point and 95 % ellipse."""
    e = impact.ellipse_95
    when = iso(impact.time) if impact.time is not None else "an unknown time"
    return Packet(
        id=impact_packet_id(state),
        name=f"{state.track_id} predicted impact",
        description=(
            f"EXERCISE. predicted impact of {html.escape(state.source)} track {html.escape(state.track_id)} at "
            f"{when}; 95 % ellipse {e.semi_major_km:g} x {e.semi_minor_km:g} km, major axis at "
            f"{e.orientation_deg:g}° from north"
        ),
        position=ground_position(impact.point),
        point=Point(pixelSize=5, color=rgba(_colour_key(state))),
        ellipse=ellipse_graphics(e, _colour_key(state)),
    )


def area_packets(update: AlertUpdate, rings: list[Ring]) -> list[Packet]:
    """An alert's area as of the change ``update``: a polygon per ring."""
    change = update.change
    level = f"{change.level} " if change.level else ""
    text = (
        f"EXERCISE. {level}{update.reason} alert {html.escape(update.alert_id)} of {html.escape(update.owner)} "
        f"for {html.escape(update.area)}, {change.status} at {iso(update.time)}"
    )
    return [
        Packet(
            id=area_packet_id(update.owner, update.alert_id, k),
            name=f"{update.alert_id} {change.status}: {update.area}",
            description=text,
            polygon=Polygon(
                positions=PositionList(cartographicDegrees=_degrees(ring)),
                material=Material(solidColor=SolidColorMaterial(color=rgba(update.owner, 70))),
                outline=True,
                outlineColor=rgba(update.owner),
            ),
        )
        for k, ring in enumerate(rings)
    ]


def _deleted(ids: Iterable[str]) -> list[Packet]:
    return [Packet(id=i, delete=True) for i in ids]


# --------------------------------------------------------------------------- the document
def _track_packets(view: TrackView) -> list[Packet]:
    out = [track_packet(view.state, view.trail)]
    if view.state.impact is not None:
        out.append(impact_packet(view.state, view.state.impact))
    return out


def _standing_area(alert: AlertView) -> list[Packet]:
    """A snapshot's alert: its area as last given, unless the alert ended or was cancelled."""
    latest = alert.changes[-1]
    if latest.change.status in CLOSING:
        return []
    rings = next((u.change.alert_area for u in reversed(alert.changes) if u.change.alert_area), None)
    return area_packets(latest, list(rings)) if rings else []


def czml_document(snapshot: Snapshot) -> bytes:
    """The CZML document (JSON, UTF-8) of the picture ``snapshot`` (module doc)."""
    setup = snapshot.setup
    window = TimeInterval(start=iso(setup.start), end=iso(max(setup.start, setup.end)))
    packets = [_document_packet(snapshot.partner, _clock(snapshot.time, snapshot.clock, window))]
    for view in snapshot.tracks:
        packets += _track_packets(view)
    for alert in snapshot.alerts:
        packets += _standing_area(alert)
    return Document(packets=packets).dumps().encode("utf-8")


# --------------------------------------------------------------------------- the stream
def _track_update(state: TrackUpdate) -> list[Packet]:
    out = [track_packet(state)]
    if state.impact is not None:
        out.append(impact_packet(state, state.impact))
    elif state.kind == "system":  # only system tracks carry predictions: one withdrawn is deleted
        out += _deleted([impact_packet_id(state)])
    return out


def _alert_update(update: AlertUpdate) -> list[Packet]:
    change = update.change
    if change.status in CLOSING:
        return _deleted(area_packet_id(update.owner, update.alert_id, k) for k in range(MAX_AREA_RINGS))
    if not change.alert_area:  # the change keeps the area last drawn
        return []
    rings = list(change.alert_area)
    shrunk = range(len(rings), MAX_AREA_RINGS)
    return area_packets(update, rings) + _deleted(area_packet_id(update.owner, update.alert_id, k) for k in shrunk)


def czml_packets(batch: UpdateBatch) -> bytes:
    """The CZML packets (a JSON array, UTF-8) that bring a document up to date with ``batch`` (module doc).

    The array starts with the document packet (Cesium's ``process`` wants one before any other in a data source
    that has none), carrying the clock where the batch has a clock update; each entity's packet appears once,
    as of its newest update in the batch.
    """
    latest: dict[str, Packet] = {}
    clock: ClockUpdate | None = None
    for update in batch.updates:
        if isinstance(update, TrackUpdate):
            packets = _track_update(update)
        elif isinstance(update, AlertUpdate):
            packets = _alert_update(update)
        else:
            clock = update if isinstance(update, ClockUpdate) else clock
            continue
        for packet in packets:
            latest.pop(packet.id, None)  # a later packet of the same entity replaces it, in the later place
            latest[packet.id] = packet
    document = _document_packet(batch.partner, _clock(clock.time, clock) if clock is not None else None)
    return Document(packets=[document, *latest.values()]).dumps().encode("utf-8")
