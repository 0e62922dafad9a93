"""Cursor-on-Target (CoT 2.0) events for TAK: one XML file per event in ``cot/``.

Each file is one ``<event>`` with the 12 required attributes (event ``version``, ``uid``, ``type``, ``time``,
``start``, ``stale``, ``how``; point ``lat``, ``lon``, ``hae``, ``ce``, ``le``), ``opex="e"`` (exercise) and a
``<detail>`` (``contact`` callsign, ``remarks``; ``track`` course and speed for a track; a ``shape`` ellipse for
an impact prediction; ``link`` points for an alert area).  The events:

* a track's last state (``<uid>`` ``mwx.<scenario>.track.<track id>``): type ``a-h-A-W-M-S-S`` (hostile /
  air / weapon / missile / surface-to-surface missile, CoTtypes.xml), how ``m-a`` (tracker) or ``m-f`` (the
  fused track), ``ce`` and ``le`` the 1σ horizontal and vertical errors from the state's covariance
  (:func:`mwx.exports.common.horizontal_vertical_sigma`), stale ``TRACK_STALE_S`` after the state;
* each impact prediction (every update of every launch event; one uid per event, so a later update replaces
  the earlier one): type ``b-m-p`` (map point) at the predicted impact point, how ``m-p`` (propagated), ``ce``
  the 1σ of the 95 % ellipse's major semi-axis (semi-axis / 2.4477), ``le`` unknown (9999999), start at the
  update, stale at the next update, the last ``IMPACT_STALE_S`` after the predicted impact;
* each alert change with an alert area (one uid per alert): type ``u-d-f`` (TAK's drawn shape, closed by
  repeating the first ``link`` point) at the area's centroid, how ``m-p``, ``ce`` the radius about the
  centroid that holds the area, ``le`` unknown, start at the change and stale at the next change or the end.

The builders (:func:`event_element`, :func:`add_point`, :func:`add_detail`, :func:`add_ellipse_shape`,
:func:`area_center`, :func:`add_area_links`) and the constants are shared with the live feed for TAK clients
(:mod:`mwx.live.cot`), so that a file and the feed describe the same things the same way.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import shapely
from pyproj import Geod

from mwx import records
from mwx.exports.common import RunData, course_speed, horizontal_vertical_sigma, iso, predictions
from mwx.exports.geometry import split_polygons

DIRNAME = "cot"
VERSION = "2.0"
#: Hostile air weapon: missile, surface-to-surface (CoTtypes.xml ``a-.-A-W-M-S-S``, affiliation ``h``).
MISSILE_TYPE = "a-h-A-W-M-S-S"
#: A map point (CoTtypes.xml ``b-m-p``): the predicted impact point.
IMPACT_TYPE = "b-m-p"
#: TAK's drawn free-form shape (a polygon with ``<link point=...>`` vertices): an alert area.
AREA_TYPE = "u-d-f"
#: CoT 2.0 ``opex``: ``o`` operations, ``e`` exercise, ``s`` simulation.  mwx data are exercise data.
OPEX = "e"
#: CoT's "unknown" for ce and le [m].
UNKNOWN_ERROR_M = 9999999.0
#: How long a track's last state stays valid [s]: a few revisits (a missile moves 20-150 km meanwhile).
TRACK_STALE_S = 30.0
#: How long the last impact prediction stays after the predicted impact time [s].
IMPACT_STALE_S = 600.0
#: Radius of the 95 % region of a 2-D normal in standard deviations: sqrt(chi2_2(0.95)) = sqrt(-2 ln 0.05).
SIGMA_95_2D = math.sqrt(-2.0 * math.log(0.05))

_GEOD = Geod(ellps="WGS84")


#: The XML declaration that starts every CoT event (TAK's parsers, takproto's included, look for ``<?xml``).
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
#: TAK's ``strokeColor`` and ``fillColor`` of an alert area (signed ARGB): opaque red, a translucent red fill.
AREA_STROKE_ARGB = "-65536"
AREA_FILL_ARGB = "1627324416"
#: What a uid part may hold; anything else becomes ``-``.
UID_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def event_element(uid: str, cot_type: str, how: str, time: datetime, start: datetime, stale: datetime) -> ET.Element:
    """A CoT ``<event>`` (``opex`` exercise) with its times as given: ``stale`` equal to ``start`` takes an
    earlier event of the same uid off a TAK map."""
    return ET.Element(
        "event",
        {
            "version": VERSION,
            "uid": uid,
            "type": cot_type,
            "time": iso(time),
            "start": iso(start),
            "stale": iso(stale),
            "how": how,
            "opex": OPEX,
        },
    )


def _event(uid: str, cot_type: str, how: str, time: datetime, start: datetime, stale: datetime) -> ET.Element:
    # a file's event is shown for at least a second, so that every exported event can be seen
    return event_element(uid, cot_type, how, time, start, max(stale, start + timedelta(seconds=1)))


def add_point(event: ET.Element, lat: float, lon: float, hae: float, ce: float, le: float) -> None:
    """The event's ``<point>``: degrees, height above the ellipsoid [m], 1σ errors ce and le [m] (at least 0.1)."""
    ET.SubElement(
        event,
        "point",
        {
            "lat": f"{lat:.7f}",
            "lon": f"{lon:.7f}",
            "hae": f"{hae:.1f}",
            "ce": f"{max(ce, 0.1):.1f}",
            "le": f"{max(le, 0.1):.1f}",
        },
    )


def add_detail(event: ET.Element, callsign: str, remarks: str) -> ET.Element:
    """The event's ``<detail>`` with a ``contact`` callsign and ``remarks``; returned for more elements."""
    detail = ET.SubElement(event, "detail")
    ET.SubElement(detail, "contact", {"callsign": callsign})
    ET.SubElement(detail, "remarks").text = remarks
    return detail


def add_ellipse_shape(detail: ET.Element, ellipse: records.Ellipse95) -> None:
    """A ``<shape><ellipse>`` of a 95 % ellipse: semi-axes [m], major axis ``angle`` [deg from north]."""
    shape = ET.SubElement(detail, "shape")
    ET.SubElement(
        shape,
        "ellipse",
        {
            "major": f"{ellipse.semi_major_km * 1e3:.1f}",
            "minor": f"{ellipse.semi_minor_km * 1e3:.1f}",
            "angle": f"{ellipse.orientation_deg:.2f}",
        },
    )


def impact_ce_m(ellipse: records.Ellipse95) -> float:
    """The 1σ circular error [m] of a 95 % ellipse: its major semi-axis / 2.4477 (conservative across)."""
    return ellipse.semi_major_km * 1e3 / SIGMA_95_2D


def area_center(rings: list[list[tuple[float, float]]]) -> tuple[float, float, float] | None:
    """Where an area's event stands: (lat, lon) [deg] of the area's centroid (a point inside it where the centroid
    falls outside) and the radius [m] about it that holds every vertex; None for an area without extent."""
    area = split_polygons(rings)
    if area.is_empty:
        return None
    center = area.representative_point() if not area.centroid.within(area) else area.centroid
    lon0, lat0 = center.x, center.y
    vertices = shapely.get_coordinates(area)
    _, _, dist = _GEOD.inv(np.full(len(vertices), lon0), np.full(len(vertices), lat0), vertices[:, 0], vertices[:, 1])
    return lat0, lon0, float(max(dist))


def add_area_links(detail: ET.Element, rings: list[list[tuple[float, float]]]) -> None:
    """TAK's drawn shape: a ``<link point="lat,lon">`` per vertex of the (lon, lat) rings, then its colours."""
    for ring in rings:
        for lon, lat in ring:
            ET.SubElement(detail, "link", {"point": f"{lat:.7f},{lon:.7f}"})
    ET.SubElement(detail, "strokeColor", {"value": AREA_STROKE_ARGB})
    ET.SubElement(detail, "fillColor", {"value": AREA_FILL_ARGB})


def _uid(run: RunData, *parts: str) -> str:
    return ".".join(["mwx", UID_UNSAFE.sub("-", run.scenario), *parts])


def track_events(run: RunData) -> list[ET.Element]:
    """One event per track: its last state."""
    out = []
    for track in run.tracks:
        s = track.states[-1]
        ce, le = horizontal_vertical_sigma(s)
        course, speed = course_speed(s)
        event = _event(
            _uid(run, "track", track.track_id),
            MISSILE_TYPE,
            "m-f" if track.partner == "fused" else "m-a",
            s.time_utc,
            s.time_utc,
            s.time_utc + timedelta(seconds=TRACK_STALE_S),
        )
        add_point(event, s.lat_deg, s.lon_deg, s.alt_m, ce, le)
        detail = add_detail(
            event,
            track.track_id,
            f"EXERCISE. {track.partner} missile track {track.track_id}, last state of {len(track.states)} "
            f"(first {iso(track.start)}); ce/le 1-sigma from the track covariance.",
        )
        ET.SubElement(detail, "track", {"course": f"{course:.2f}", "speed": f"{speed:.1f}"})
        out.append(event)
    return out


def impact_events(run: RunData) -> list[ET.Element]:
    """One event per impact prediction: every update of every launch event (the event itself if none)."""
    out = []
    for e in run.events.events:
        for p in predictions(e):
            stale = p.until if p.until is not None else p.impact_time + timedelta(seconds=IMPACT_STALE_S)
            ellipse = p.ellipse
            event = _event(_uid(run, "impact", e.event_id), IMPACT_TYPE, "m-p", p.time, p.time, stale)
            add_point(event, p.impact_point.lat, p.impact_point.lon, 0.0, impact_ce_m(ellipse), UNKNOWN_ERROR_M)
            detail = add_detail(
                event,
                f"{e.event_id} impact",
                f"EXERCISE. {e.partner} predicted impact of {e.missile_class} {e.event_id} at {iso(p.impact_time)} "
                f"(prediction {p.index + 1} of {p.count}); 95 % ellipse {ellipse.semi_major_km:g} x "
                f"{ellipse.semi_minor_km:g} km, major axis {ellipse.orientation_deg:g} deg from north.",
            )
            add_ellipse_shape(detail, ellipse)
            out.append(event)
    return out


def area_events(run: RunData) -> list[ET.Element]:
    """One event per alert change with an alert area."""
    out = []
    for ac in run.area_changes:
        a, c = ac.alert, ac.change
        center = area_center(ac.rings)
        if center is None:
            continue
        lat0, lon0, radius = center
        event = _event(_uid(run, "alert", a.alert_id), AREA_TYPE, "m-p", c.time, c.time, ac.until)
        add_point(event, lat0, lon0, 0.0, radius, UNKNOWN_ERROR_M)
        detail = add_detail(
            event,
            f"{a.alert_id} {a.area.name}",
            f"EXERCISE. {a.partner} {c.level or ''} {a.reason} alert {a.alert_id} for {a.area.name}: {c.status} at "
            f"{iso(c.time)}" + (f", probability {c.probability:.2f}" if c.probability is not None else "") + ".",
        )
        add_area_links(detail, ac.rings)
        out.append(event)
    return out


def events(run: RunData) -> list[ET.Element]:
    """Every CoT event of the run: tracks, impact predictions, alert areas."""
    return track_events(run) + impact_events(run) + area_events(run)


def to_xml(event: ET.Element) -> bytes:
    """One event as an XML document (declaration, UTF-8)."""
    return XML_DECLARATION + ET.tostring(event, encoding="utf-8") + b"\n"


def write(run: RunData, out_dir: Path) -> list[Path]:
    """Write one ``.cot`` file per event into ``out_dir/cot`` (files of an earlier export there are replaced)."""
    folder = out_dir / DIRNAME
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.cot"):
        old.unlink()
    paths = []
    for n, event in enumerate(events(run), start=1):
        path = folder / f"{n:04d}-{event.get('uid', '')}.cot"
        path.write_bytes(to_xml(event))
        paths.append(path)
    return paths
