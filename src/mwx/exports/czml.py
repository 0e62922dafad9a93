"""CZML (Cesium): the run as a time-dynamic 3-D scene, written with czml3.

``run.czml`` starts with the document packet (its clock runs from the run's start to its end, 10× real time)
and holds a packet per: track (``track/<id>``: ECEF positions sampled at its states, a path and a point),
true object (``truth/<id>``: ECEF positions of truth.json, every second), impact prediction
(``impact/<event>/<n>``: the n-th update's point and its 95 % ellipse, semi-axes in metres, shown from that
update to the next), alert area (``alert/<alert>/<change>/<ring>``: a polygon, shown from the change to the
next), launch point and sensor (radars at their sites; infrared satellites on their orbits).
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import numpy as np
from czml3 import Document, Packet
from czml3.enums import ClockRanges, ClockSteps, InterpolationAlgorithms
from czml3.properties import (
    Clock,
    Color,
    Ellipse,
    Label,
    Material,
    Point,
    Polygon,
    PolylineMaterial,
    Position,
    PositionList,
    SolidColorMaterial,
)
from czml3.properties import (
    Path as CzmlPath,
)
from czml3.types import TimeInterval

from mwx import records
from mwx.exports.common import RunData, iso, predictions, rgb_of
from mwx.sim.theater import GeostationaryOrbit, Radar

FILENAME = "run.czml"
#: Clock speed of the scene: scenario seconds per second.
MULTIPLIER = 10.0
#: Smallest semi-axis drawn [m] (Cesium refuses an ellipse with a zero axis).
MIN_AXIS_M = 1.0


def rgba(partner: str | None, alpha: int = 255) -> Color:
    """A partner's display colour (None: the truth's) with opacity ``alpha`` (0-255)."""
    return Color(rgba=[*rgb_of(partner), alpha])


def _interval(start: datetime, end: datetime) -> TimeInterval:
    return TimeInterval(start=iso(start), end=iso(max(start, end)))


def _sampled(epoch: datetime, t: np.ndarray, xyz: np.ndarray, *, lagrange: bool) -> Position:
    """ECEF positions [m] sampled at Unix times ``t`` as seconds after ``epoch`` (strictly increasing)."""
    seconds = np.round(np.asarray(t, float) - epoch.timestamp(), 3)
    keep = np.r_[True, np.diff(seconds) > 0.0]  # a repeated time (e.g. burnout on a whole second) once
    rows = np.column_stack([seconds[keep], np.round(np.asarray(xyz, float)[keep], 1)])
    return Position(
        epoch=iso(epoch),
        referenceFrame="FIXED",
        cartesian=rows.ravel().tolist(),
        interpolationAlgorithm=InterpolationAlgorithms.LAGRANGE if lagrange else InterpolationAlgorithms.LINEAR,
        interpolationDegree=5 if lagrange else 1,
    )


def cesium_rotation(orientation_deg: float) -> float:
    """Cesium's ellipse rotation [rad] of a major axis at azimuth ``orientation_deg`` (clockwise from north).

    Cesium puts the semi-major axis east at rotation 0 and turns it counter-clockwise (EllipseGeometryLibrary:
    the semi-major axis lies along east·cos(rotation) + north·sin(rotation))."""
    return round(math.radians(90.0 - orientation_deg), 6)


def ellipse_graphics(ellipse: records.Ellipse95, partner: str) -> Ellipse:
    """A 95 % ellipse drawn in ``partner``'s colour: semi-axes [m] (at least MIN_AXIS_M), Cesium's rotation."""
    major = max(ellipse.semi_major_km * 1e3, MIN_AXIS_M)
    minor = min(max(ellipse.semi_minor_km * 1e3, MIN_AXIS_M), major)
    return Ellipse(
        semiMajorAxis=round(major, 1),
        semiMinorAxis=round(minor, 1),
        rotation=cesium_rotation(ellipse.orientation_deg),
        material=Material(solidColor=SolidColorMaterial(color=rgba(partner, 90))),
        outline=True,
        outlineColor=rgba(partner),
    )


def ground_position(point: records.Point) -> Position:
    """A point on the ellipsoid (height 0)."""
    return Position(cartographicDegrees=[point.lon, point.lat, 0.0])


def packets(run: RunData) -> list[Packet]:
    everything = _interval(run.start, run.end)
    out = [
        Packet(
            id="document",
            name=f"mwx run {run.scenario} (seed {run.seed}) - EXERCISE, simulated data",
            version="1.0",
            clock=Clock(
                interval=everything,
                currentTime=iso(run.start),
                multiplier=MULTIPLIER,
                range=ClockRanges.LOOP_STOP,
                step=ClockSteps.SYSTEM_CLOCK_MULTIPLIER,
            ),
        )
    ]
    for track in run.tracks:
        t = np.array([s.time_unix_s for s in track.states])
        xyz = np.array([[s.x_m, s.y_m, s.z_m] for s in track.states])
        out.append(
            Packet(
                id=f"track/{track.track_id}",
                name=f"{track.partner} track {track.track_id}",
                description=f"{track.partner} track {track.track_id}: {len(t)} states, {iso(track.start)} to "
                f"{iso(track.end)}",
                availability=_interval(track.start, track.end),
                position=_sampled(track.start, t, xyz, lagrange=False),
                point=Point(pixelSize=6, color=rgba(track.partner)),
                path=CzmlPath(
                    width=2,
                    leadTime=0,
                    trailTime=3600,
                    material=PolylineMaterial(solidColor=SolidColorMaterial(color=rgba(track.partner))),
                ),
                label=Label(text=track.track_id, font="11pt sans-serif", fillColor=rgba(track.partner)),
            )
        )
    for path in run.truth_paths:
        out.append(
            Packet(
                id=f"truth/{path.obj.id}",
                name=f"{path.obj.id} (truth)",
                description=f"true {path.obj.kind} of launch {path.launch.id}",
                availability=_interval(path.start, path.end),
                position=_sampled(path.start, path.t, path.ecef, lagrange=len(path.t) > 5),
                point=Point(pixelSize=4, color=rgba(None)),
                path=CzmlPath(
                    width=1,
                    leadTime=0,
                    trailTime=3600,
                    material=PolylineMaterial(solidColor=SolidColorMaterial(color=rgba(None, 200))),
                ),
            )
        )
    for launch in run.truth.launches:
        out.append(
            Packet(
                id=f"launch/truth/{launch.id}",
                name=f"{launch.id} launch point (truth)",
                availability=_interval(launch.launch_time, run.end),
                position=ground_position(launch.launch_point),
                point=Point(pixelSize=8, color=rgba(None), outlineColor=Color(rgba=[0, 0, 0, 255]), outlineWidth=1),
            )
        )
    for e in run.events.events:
        out.append(
            Packet(
                id=f"launch/{e.event_id}",
                name=f"{e.event_id} launch point ({e.partner})",
                availability=_interval(e.first_detection, run.end),
                position=ground_position(e.launch_point),
                point=Point(pixelSize=7, color=rgba(e.partner)),
            )
        )
        for p in predictions(e):
            out.append(
                Packet(
                    id=f"impact/{e.event_id}/{p.index}",
                    name=f"{e.event_id} predicted impact ({e.partner}, prediction {p.index + 1} of {p.count})",
                    description=f"predicted impact at {iso(p.impact_time)}; 95 % ellipse "
                    f"{p.ellipse.semi_major_km:g} x {p.ellipse.semi_minor_km:g} km, major axis at "
                    f"{p.ellipse.orientation_deg:g}° from north",
                    availability=_interval(p.time, p.until or run.end),
                    position=ground_position(p.impact_point),
                    point=Point(pixelSize=5, color=rgba(e.partner)),
                    ellipse=ellipse_graphics(p.ellipse, e.partner),
                )
            )
    for ac in run.area_changes:
        a, c = ac.alert, ac.change
        for k, ring in enumerate(ac.rings):
            out.append(
                Packet(
                    id=f"alert/{a.alert_id}/{ac.index}/{k}",
                    name=f"{a.alert_id} {c.status}: {a.area.name}",
                    description=f"{c.level or ''} {a.reason} alert of {a.partner} for {a.area.name}, {c.status} at "
                    f"{iso(c.time)}".strip(),
                    availability=_interval(c.time, ac.until),
                    polygon=Polygon(
                        positions=PositionList(cartographicDegrees=[v for lon, lat in ring for v in (lon, lat, 0.0)]),
                        material=Material(solidColor=SolidColorMaterial(color=rgba(a.partner, 70))),
                        outline=True,
                        outlineColor=rgba(a.partner),
                    ),
                )
            )
    for sensor in run.sensors:
        if isinstance(sensor, Radar):
            position = Position(cartographicDegrees=[sensor.site.lon, sensor.site.lat, sensor.site.alt_m])
        elif isinstance(sensor.orbit, GeostationaryOrbit):
            position = Position(referenceFrame="FIXED", cartesian=np.round(sensor.position(0.0)[0], 1).tolist())
        else:
            t = np.arange(run.start.timestamp(), run.end.timestamp() + 60.0, 60.0)
            position = _sampled(run.start, t, sensor.position(t), lagrange=True)
        out.append(
            Packet(
                id=f"sensor/{sensor.id}",
                name=f"{sensor.id} ({sensor.partner} {sensor.kind})",
                position=position,
                point=Point(
                    pixelSize=9,
                    color=rgba(sensor.partner),
                    outlineColor=Color(rgba=[255, 255, 255, 255]),
                    outlineWidth=1,
                ),
                label=Label(text=sensor.id, font="10pt sans-serif", fillColor=rgba(sensor.partner)),
            )
        )
    return out


def document(run: RunData) -> Document:
    return Document(packets=packets(run))


def write(run: RunData, out_dir: Path) -> list[Path]:
    """Write ``run.czml`` into ``out_dir``."""
    path = out_dir / FILENAME
    path.write_text(document(run).to_json(indent=1) + "\n", encoding="utf-8")
    return [path]
