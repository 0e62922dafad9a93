"""Civil alert output: one alert change as an OASIS CAP 1.2 document.

Intended use
------------
The run writer turns each change in an alert's lifecycle (:class:`mwx.warn.alerts.Alert` ``history``:
issued, updated, cancelled, ended, and the wire's track-lost) into one Common Alerting Protocol
message for public warning systems, and writes the files beside the run's other outputs::

    from mwx.warn import cap
    changes = [c for alert in manager.alerts.values() for c in cap.cap_alerts_from_history(alert)]
    cap.write_cap(run_dir / "cap", changes)

Everything here is pure (no clock, no randomness, no global state), so one run always gives the
same bytes. :func:`cap_xml` builds the document with :mod:`xml.etree.ElementTree`, which escapes
all text; characters XML 1.0 cannot carry at all are replaced by U+FFFD. The documents validate
against the official OASIS schema CAP-v1.2.xsd (``tests/data/cap/``); the mapping tables are in
``docs/cap.md``.

References are to OASIS *Common Alerting Protocol Version 1.2*, OASIS Standard, 1 July 2010
(CAP-v1.2-os): §3.2.1 the <alert> segment, §3.2.2 <info>, §3.2.4 <area>, §3.3.2 date and time.

Lifecycle → CAP (decided here; see :func:`msg_type_for` and :func:`response_type_for`):

========== ======= ====================================================
mwx        msgType responseType
========== ======= ====================================================
issued     Alert   Shelter
updated    Update  Shelter
cancelled  Cancel  AllClear (the threat to the area is withdrawn)
ended      Update  AllClear (the event is over; the warning was right)
track-lost Update  Monitor; AllClear once the predicted end has passed
========== ======= ====================================================
"""

from __future__ import annotations

import math
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal, NamedTuple, cast, get_args

import numpy as np
import shapely
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from mwx.geo.ellipse import geodesic_ellipse
from mwx.geo.lon import wrap_lon
from mwx.geo.regions import ProtectedArea

if TYPE_CHECKING:
    from mwx.warn.alerts import Alert

__all__ = [
    "ALL_CLEAR_LIFETIME_S",
    "CAP_NAMESPACE",
    "EXPIRES_AFTER_EVENT_S",
    "PARTNER_UTC_OFFSET_MIN",
    "CapAlert",
    "CapArea",
    "CapCodes",
    "CapReference",
    "cap_alerts_from_history",
    "cap_area",
    "cap_circle",
    "cap_codes",
    "cap_datetime",
    "cap_file_name",
    "cap_polygons",
    "cap_xml",
    "certainty_for",
    "ellipse_polygon",
    "msg_type_for",
    "response_type_for",
    "severity_for",
    "urgency_for",
    "write_cap",
]

CAP_NAMESPACE: Final = "urn:oasis:names:tc:emergency:cap:1.2"

Lifecycle = Literal["issued", "updated", "cancelled", "ended", "track-lost"]
Reason = Literal["impact", "overflight"]
CapStatus = Literal["Actual", "Exercise", "System", "Test", "Draft"]
MsgType = Literal["Alert", "Update", "Cancel"]
ResponseType = Literal["Shelter", "Monitor", "AllClear"]
Urgency = Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
Severity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
Certainty = Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]

# Local time of the partners' public (CAP §3.3.2 allows any explicit offset). Korea and Japan keep
# UTC+9 all year; the US spans many zones (Guam +10 .. Hawaii -10), so its messages carry UTC.
PARTNER_UTC_OFFSET_MIN: Final[Mapping[str, int]] = {"JP": 9 * 60, "KR": 9 * 60}

# Urgency thresholds (s before the event), after CAP §3.2.2 "Expected: ... soon (within next hour)".
IMMEDIATE_WITHIN_S: Final = 600.0
EXPECTED_WITHIN_S: Final = 3600.0
# Certainty thresholds (probability of the event in the area), after CAP §3.2.2
# "Likely (p > ~50%)", "Possible (p <= ~50%)", "Unlikely: not expected to occur (p ~ 0)".
LIKELY_ABOVE: Final = 0.5
UNLIKELY_BELOW: Final = 0.05

EXPIRES_AFTER_EVENT_S: Final = 900.0  # a warning expires 15 min after the predicted end of the event
ALL_CLEAR_LIFETIME_S: Final = 3600.0  # an all-clear (or cancel) stays current for 1 h after it is sent
HEADLINE_MAX_CHARS: Final = 160  # CAP §3.2.2 <headline>: "160 characters MAY be a useful target limit"

# Area simplification (see cap_polygons): the Douglas-Peucker tolerance t starts here (deg) and grows by
# TOLERANCE_GROWTH until every ring fits; the area is first buffered by BUFFER_PER_TOLERANCE * t.
START_TOLERANCE_DEG: Final = 0.005  # about 0.5 km
TOLERANCE_GROWTH: Final = 1.25  # factor per try
BUFFER_PER_TOLERANCE: Final = 1.25
_BUFFER_QUAD_SEGS = 8  # arc chords lie >= cos(pi/32) = 0.995 of the buffer distance out: margin >= 0.24 t
_COORD_DECIMALS = 5  # 1e-5 deg is about 1 m, far below the buffer margin
_WORLD = box(-180.0, -90.0, 180.0, 90.0)

EVENT_NAMES: Final[Mapping[str, str]] = {
    "impact": "Ballistic missile impact",
    "overflight": "Ballistic missile overflight",
}
INSTRUCTIONS: Final[Mapping[str, str]] = {
    "Shelter": (
        "Take shelter immediately in a sturdy building or underground. If there is no building nearby, "
        "take cover behind something solid or lie flat on the ground and protect your head. Stay away "
        "from windows. Do not approach any fallen object; report it to the police or fire service."
    ),
    "Monitor": (
        "Tracking of the missile has been lost. Stay in shelter until the predicted time has passed "
        "and follow official information."
    ),
    "AllClear": (
        "The threat has passed; you may leave shelter. If you find a fallen object, do not approach "
        "or touch it; report it to the police or fire service."
    ),
}

# Characters that XML 1.0 cannot carry (§2.2 Char), replaced by U+FFFD in every text.
_NOT_XML_CHAR = re.compile("[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# CAP §3.2.1: identifier and sender "MUST NOT include spaces, commas or restricted characters (< and &)";
# '%' is escaped too so the encoding stays one-to-one.
_NOT_ID_CHAR = re.compile(r"[^!-~]|[,<&%]")
_NOT_FILE_CHAR = re.compile(r"[^A-Za-z0-9._-]")


# ----------------------------------------------------------------- inputs
@dataclass(frozen=True)
class CapReference:
    """An earlier message, as CAP §3.2.1 <references> names it: ``sender,identifier,sent``."""

    sender: str
    identifier: str
    sent: str  # CAP dateTime, as in the earlier message's <sent>

    def __str__(self) -> str:
        return f"{self.sender},{self.identifier},{self.sent}"


@dataclass(frozen=True)
class CapArea:
    """One CAP <area> (§3.2.4): a description and its shapes, WGS 84.

    ``polygons`` are CAP polygon strings ("lat,lon lat,lon ...", first point equal to the last, at
    least 4 points), ``circles`` CAP circle strings ("lat,lon radius_km"): see :func:`cap_polygons`,
    :func:`ellipse_polygon` and :func:`cap_circle`.
    """

    description: str
    polygons: tuple[str, ...] = ()
    circles: tuple[str, ...] = ()


@dataclass(frozen=True)
class CapAlert:
    """One change of an mwx alert, everything :func:`cap_xml` needs to write it as CAP 1.2.

    Times are Unix s (UTC); they are written in the partner's local time with an explicit offset
    (``utc_offset_min``, minutes east of UTC) and truncated to whole seconds, as CAP's dateTime has
    no fraction. ``onset_s`` is when the event is predicted to start: the impact time (``reason``
    "impact") or the time the object enters the area's airspace ("overflight"); ``event_end_s`` when
    the threat to the area is over (the impact time, or the exit from the airspace). Positions are
    WGS-84 degrees; ``probability`` is that of the event in the area (0–1), when known.
    ``references`` are all earlier messages of the same alert, oldest first (needed by Update and
    Cancel: CAP §3.2.1 <msgType>).
    """

    partner: str
    alert_id: str
    change_number: int  # 1 for the first message of the alert, then 2, 3, ...
    lifecycle: Lifecycle
    reason: Reason
    area_kind: str  # "territory" or "eez"
    sent_s: float
    track_id: str
    areas: tuple[CapArea, ...]
    onset_s: float | None = None
    event_end_s: float | None = None
    impact_lat_deg: float | None = None
    impact_lon_deg: float | None = None
    probability: float | None = None
    references: tuple[CapReference, ...] = ()
    status: CapStatus = "Exercise"
    utc_offset_min: int = 0
    expires_s: float | None = None  # None: derived (EXPIRES_AFTER_EVENT_S, ALL_CLEAR_LIFETIME_S)
    web: str | None = None
    language: str = "en-US"
    #: what the public should do, in the issuing authority's own words (an operator's warning); None: the
    #: standard instruction of the response type (:data:`INSTRUCTIONS`)
    instruction: str | None = None
    #: why the change was made (the mwx alert history's ``why``); ``failed`` words an all-clear's description
    why: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.lifecycle not in get_args(Lifecycle):
            raise ValueError(f"unknown lifecycle state {self.lifecycle!r}")
        if self.reason not in get_args(Reason):
            raise ValueError(f"unknown reason {self.reason!r}")
        if self.status not in get_args(CapStatus):
            raise ValueError(f"unknown CAP status {self.status!r}")
        if self.change_number < 1:
            raise ValueError(f"change_number must be >= 1, got {self.change_number}")
        if not self.areas:
            raise ValueError("a CAP alert needs at least one area")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"probability must be in [0, 1], got {self.probability}")
        if (self.impact_lat_deg is None) != (self.impact_lon_deg is None):
            raise ValueError("impact_lat_deg and impact_lon_deg go together")
        if self.impact_lat_deg is not None and not (
            -90.0 <= self.impact_lat_deg <= 90.0 and -180.0 <= self.impact_lon_deg <= 180.0  # type: ignore[operator]
        ):
            raise ValueError(f"impact point out of range: {self.impact_lat_deg}, {self.impact_lon_deg}")
        if msg_type_for(self.lifecycle) != "Alert" and not self.references:
            raise ValueError(f"a {self.lifecycle!r} change needs references to the earlier messages")
        for t in (self.sent_s, self.onset_s, self.event_end_s, self.expires_s):
            if t is not None:
                cap_datetime(t, self.utc_offset_min)  # raises on NaN, inf, out of range

    @property
    def identifier(self) -> str:
        """``mwx-{partner}-{alert_id}-{change_number}``; unique per change and deterministic (CAP §3.2.1)."""
        return f"mwx-{_id_token(self.partner)}-{_id_token(self.alert_id)}-{self.change_number}"

    @property
    def sender(self) -> str:
        """``mwx@{partner}`` (CAP §3.2.1 <sender>)."""
        return f"mwx@{_id_token(self.partner)}"

    @property
    def sent(self) -> str:
        """The CAP dateTime of ``sent_s``."""
        return cap_datetime(self.sent_s, self.utc_offset_min)

    @property
    def msg_type(self) -> MsgType:
        """CAP msgType of this change (:func:`msg_type_for`)."""
        return msg_type_for(self.lifecycle)

    @property
    def reference(self) -> CapReference:
        """How later messages of the same alert refer to this one."""
        return CapReference(self.sender, self.identifier, self.sent)


class CapCodes(NamedTuple):
    """The coded <info> fields of one message (CAP §3.2.2)."""

    response_type: ResponseType
    urgency: Urgency
    severity: Severity
    certainty: Certainty


# ----------------------------------------------------------------- time
def cap_datetime(unix_s: float, utc_offset_min: int = 0) -> str:
    """CAP dateTime of a Unix time (s), e.g. ``2022-10-04T07:29:00+09:00``.

    CAP §3.3.2: "Alphabetic timezone designators such as 'Z' MUST NOT be used. The timezone for
    UTC MUST be represented as '-00:00'"; the schema's pattern also forbids fractional seconds, so
    the time is truncated (floor) to whole seconds. ``utc_offset_min`` is minutes east of UTC
    (−14 h .. +14 h). Raises ValueError for NaN, ±inf, or a time outside years 1970..9998.
    """
    if not math.isfinite(unix_s) or not 0.0 <= unix_s < 253_370_764_800.0:  # 9999-01-01T00:00:00Z
        raise ValueError(f"time {unix_s!r} s is not a Unix time CAP can carry")
    if not -14 * 60 <= utc_offset_min <= 14 * 60:
        raise ValueError(f"UTC offset {utc_offset_min} min is outside -14 h .. +14 h")
    local = datetime.fromtimestamp(math.floor(unix_s), tz=UTC) + timedelta(minutes=utc_offset_min)
    sign = "-" if utc_offset_min <= 0 else "+"
    hours, minutes = divmod(abs(utc_offset_min), 60)
    return f"{local.replace(tzinfo=None).isoformat(timespec='seconds')}{sign}{hours:02d}:{minutes:02d}"


# ----------------------------------------------------------------- codes
def msg_type_for(lifecycle: str) -> MsgType:
    """CAP <msgType> (§3.2.1) of an mwx lifecycle state.

    * ``issued`` → "Alert": "Initial information requiring attention by targeted recipients";
    * ``updated`` → "Update": "Updates and supercedes the earlier message(s) identified in <references>";
    * ``ended`` → "Update": the event happened as warned and is over; the all-clear supersedes the
      warning (responseType AllClear), it does not retract it;
    * ``cancelled`` → "Cancel": "Cancels the earlier message(s) identified in <references>": the
      prediction no longer threatens the area, the warning is withdrawn before its time;
    * ``track-lost`` → "Update": losing the track is no evidence that the threat has gone, so it
      neither cancels nor clears the warning (see :func:`response_type_for`).
    """
    mapping: dict[str, MsgType] = {
        "issued": "Alert",
        "updated": "Update",
        "ended": "Update",
        "cancelled": "Cancel",
        "track-lost": "Update",
    }
    try:
        return mapping[lifecycle]
    except KeyError:
        raise ValueError(f"unknown lifecycle state {lifecycle!r}") from None


def response_type_for(lifecycle: str, urgency: str) -> ResponseType:
    """CAP <responseType> (§3.2.2) of a lifecycle state, given the message's urgency.

    "Shelter – Take shelter in place or per <instruction>" while an alert stands (issued,
    updated); "AllClear – The subject event no longer poses a threat or concern" once it is over
    (cancelled, ended). For track-lost: "Monitor – Attend to information sources as described in
    <instruction>" while the predicted event may still come (urgency not "Past"), else AllClear.
    """
    msg_type_for(lifecycle)  # validates the state
    if lifecycle in ("issued", "updated"):
        return "Shelter"
    if lifecycle == "track-lost" and urgency != "Past":
        return "Monitor"
    return "AllClear"


def urgency_for(seconds_to_event: float | None) -> Urgency:
    """CAP <urgency> (§3.2.2) from the time left before the event, in seconds (negative: after it).

    CAP: "Immediate – Responsive action SHOULD be taken immediately", "Expected – ... soon (within
    next hour)", "Future – ... in the near future", "Past – Responsive action is no longer
    required", "Unknown". Here: Immediate when 0 ≤ s < 600 (10 min: a missile's remaining flight
    leaves no time to wait), Expected when 600 ≤ s < 3600, Future when s ≥ 3600, Past when s < 0,
    Unknown when the time is not known (None or NaN).
    """
    if seconds_to_event is None or math.isnan(seconds_to_event):
        return "Unknown"
    if seconds_to_event < 0.0:
        return "Past"
    if seconds_to_event < IMMEDIATE_WITHIN_S:
        return "Immediate"
    if seconds_to_event < EXPECTED_WITHIN_S:
        return "Expected"
    return "Future"


def certainty_for(probability: float | None, *, observed: bool = False) -> Certainty:
    """CAP <certainty> (§3.2.2) from the probability (0–1) of the event in the area.

    CAP: "Observed – Determined to have occurred or to be ongoing", "Likely – Likely (p > ~50%)",
    "Possible – Possible but not likely (p <= ~50%)", "Unlikely – Not expected to occur (p ~ 0)",
    "Unknown – Certainty unknown". Here: Observed when ``observed`` (the event is under way),
    else Likely for p > 0.5, Possible for 0.05 ≤ p ≤ 0.5, Unlikely for p < 0.05, Unknown when
    the probability is None or NaN.
    """
    if observed:
        return "Observed"
    if probability is None or math.isnan(probability):
        return "Unknown"
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"probability must be in [0, 1], got {probability}")
    if probability > LIKELY_ABOVE:
        return "Likely"
    if probability < UNLIKELY_BELOW:
        return "Unlikely"
    return "Possible"


def severity_for(reason: str, area_kind: str) -> Severity:
    """CAP <severity> (§3.2.2) of a threat while it stands.

    CAP: "Extreme – Extraordinary threat to life or property", "Severe – Significant threat to
    life or property", "Moderate – Possible threat ...", "Minor – Minimal to no known threat ...".
    Here: a predicted impact on the partner's territory is Extreme (a warhead or the missile's
    body falls where people live); an impact in its EEZ (at sea: ships, fishing, aircraft) and an
    overflight of its territory (falling boosters and debris) are Severe; anything else Unknown.
    """
    if reason == "impact" and area_kind == "territory":
        return "Extreme"
    if (reason == "impact" and area_kind == "eez") or (reason == "overflight" and area_kind == "territory"):
        return "Severe"
    return "Unknown"


def cap_codes(alert: CapAlert) -> CapCodes:
    """The responseType, urgency, severity and certainty of one change (rules in ``docs/cap.md``).

    * urgency: "Past" for cancelled and ended; else :func:`urgency_for` the seconds from ``sent_s``
      to ``onset_s``, counted as 0 (Immediate) while the event is under way (onset passed, end not);
    * certainty: "Unlikely" for cancelled (the event is no longer expected in the area); else
      :func:`certainty_for` the probability, Observed while an issued/updated event is under way;
    * severity: "Minor" once the response is AllClear, else :func:`severity_for`;
    * responseType: :func:`response_type_for`.
    """
    end = alert.event_end_s if alert.event_end_s is not None else alert.onset_s
    ongoing = alert.onset_s is not None and end is not None and alert.onset_s <= alert.sent_s <= max(end, alert.onset_s)
    if alert.lifecycle in ("cancelled", "ended"):
        urgency: Urgency = "Past"
    elif alert.onset_s is None:
        urgency = "Unknown"
    elif ongoing:
        urgency = urgency_for(0.0)
    elif end is not None and alert.sent_s > end:
        urgency = "Past"
    else:
        urgency = urgency_for(alert.onset_s - alert.sent_s)
    response = response_type_for(alert.lifecycle, urgency)
    if alert.lifecycle == "cancelled":
        certainty: Certainty = "Unlikely"
    else:
        certainty = certainty_for(alert.probability, observed=ongoing and alert.lifecycle in ("issued", "updated"))
    severity = "Minor" if response == "AllClear" else severity_for(alert.reason, alert.area_kind)
    return CapCodes(response, urgency, severity, certainty)


# ----------------------------------------------------------------- areas
def _coord(value_deg: float) -> str:
    text = f"{value_deg:.{_COORD_DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _ring_text(lat_lon: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{_coord(lat)},{_coord(lon)}" for lat, lon in lat_lon)


def _polygon_parts(geometry: BaseGeometry) -> list[Polygon]:
    """The polygons of a (multi)polygon or collection, holes dropped (a covering needs none)."""
    parts = shapely.get_parts(geometry)
    out = []
    for part in parts:
        if isinstance(part, Polygon):
            if not part.is_empty:
                out.append(Polygon(part.exterior))
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            out.extend(_polygon_parts(part))
    return out


def cap_polygons(
    geometry: BaseGeometry, *, max_vertices: int = 100, start_tolerance_deg: float = START_TOLERANCE_DEG
) -> list[str]:
    """CAP polygon strings (§3.2.4 <polygon>) that together cover a shapely (multi)polygon.

    ``geometry`` is in lon/lat degrees (x = longitude, as :mod:`mwx.geo.regions` has it). Each of
    its polygons becomes one ring "lat,lon lat,lon ..." (WGS 84, first point equal to the last, at
    most ``max_vertices`` points counting the closing one, at least 4); holes are dropped.

    Covering, not approximating: the polygon is first buffered by d = 1.25 t, clipped to lon
    [−180, 180], lat [−90, 90], then simplified by Douglas-Peucker with tolerance t (topology
    preserved). Every point of the simplified ring is within t of the buffered ring, which lies
    at least 0.995 d from the original (buffer arcs are drawn as chords, 8 per quarter circle), so
    the simplified ring keeps ≥ 0.24 t clear of the original and still contains it; it strays at
    most d + t = 2.25 t outside. t starts at ``start_tolerance_deg`` (0.005°, about 0.5 km) and
    grows by 1.25 per try until the ring fits ``max_vertices``; each result is checked with shapely
    (covers, after rounding to 1e-5°) and t grows again if the check fails. Once t would exceed
    the polygon's extent, its minimum rotated rectangle (buffered by 1.25 × the start tolerance;
    the clipped lon/lat bounding box if that leaves the globe) is used: 5 points. All of this is
    planar in lon/lat degrees, the plane in which CAP polygons are drawn (straight edges between
    lat,lon points). ``max_vertices`` must be at least 5.
    """
    if max_vertices < 5:
        raise ValueError(f"max_vertices must be at least 5 (a rectangle), got {max_vertices}")
    if not start_tolerance_deg > 0.0:
        raise ValueError(f"start_tolerance_deg must be > 0, got {start_tolerance_deg}")
    rings: list[str] = []
    for part in _polygon_parts(geometry):
        rings.extend(_covering_rings(part, max_vertices, start_tolerance_deg))
    return rings


def _covering_rings(shell: Polygon, max_vertices: int, start_tolerance_deg: float) -> list[str]:
    tolerance_deg = start_tolerance_deg
    min_x, min_y, max_x, max_y = shell.bounds
    extent_deg = max(max_x - min_x, max_y - min_y)
    while tolerance_deg < extent_deg:
        buffer_deg = BUFFER_PER_TOLERANCE * tolerance_deg
        grown = shell.buffer(buffer_deg, quad_segs=_BUFFER_QUAD_SEGS).intersection(_WORLD)
        coords = []
        for piece in _polygon_parts(grown):
            # simplify() with preserve_topology keeps a polygon a polygon (shapely types it as any geometry).
            simple = cast(Polygon, piece.simplify(tolerance_deg, preserve_topology=True))
            xy = np.round(np.asarray(simple.exterior.coords)[:, :2], _COORD_DECIMALS)
            if len(xy) > max_vertices:
                break
            coords.append(xy)
        else:
            if coords and _covers(coords, shell):
                return [_ring_text((lat, lon) for lon, lat in xy) for xy in coords]
        tolerance_deg *= TOLERANCE_GROWTH
    # Tolerance as large as the shape: a rectangle (5 points) around it does better than simplifying.
    grown = shell.buffer(BUFFER_PER_TOLERANCE * start_tolerance_deg, quad_segs=_BUFFER_QUAD_SEGS)
    # The rectangle of a buffered polygon (an area, never a line or a point) is a polygon.
    rectangle = cast(Polygon, shapely.minimum_rotated_rectangle(grown))
    xy = np.round(np.asarray(rectangle.exterior.coords)[:, :2], _COORD_DECIMALS)
    if not (rectangle.within(_WORLD) and _covers([xy], shell)):
        xy = np.round(np.asarray(box(*grown.intersection(_WORLD).bounds).exterior.coords)[:, :2], _COORD_DECIMALS)
    return [_ring_text((lat, lon) for lon, lat in xy)]


def _covers(rings_xy: list[np.ndarray], shell: Polygon) -> bool:
    """Whether the rings (lon, lat rows, as they will be written) together cover ``shell``."""
    cover = shapely.union_all([shapely.make_valid(Polygon(xy)) for xy in rings_xy])
    return bool(cover.covers(shell))


def ellipse_polygon(
    center_lat_deg: float,
    center_lon_deg: float,
    semi_major_km: float,
    semi_minor_km: float,
    orientation_deg: float,
    *,
    n_vertices: int = 36,
) -> str:
    """A CAP polygon string (§3.2.4) of an ellipse on the WGS-84 ellipsoid, e.g. a 95 % impact ellipse.

    ``orientation_deg`` is the azimuth of the major axis, degrees clockwise from north (as
    :class:`mwx.exchange.messages.Ellipse`). The ``n_vertices`` points (plus the closing one) lie at
    parametric angles 2πk/n, scaled by 1/cos(π/n): the affine image of the n-gon circumscribing a
    circle, so the polygon contains the ellipse rather than cutting its edges. Each point is the
    geodesic from the centre at the point's azimuth and distance in the local tangent plane
    (:func:`mwx.geo.ellipse.geodesic_ellipse`).
    Longitudes are wrapped to [−180, 180]; an ellipse straddling the antimeridian is not split.
    """
    if not semi_major_km > 0.0 or not 0.0 <= semi_minor_km <= semi_major_km:
        raise ValueError(
            f"need 0 <= semi_minor_km <= semi_major_km, 0 < semi_major_km: {semi_minor_km}, {semi_major_km}"
        )
    if n_vertices < 3:
        raise ValueError(f"an ellipse polygon needs at least 3 vertices, got {n_vertices}")
    lat, lon = geodesic_ellipse(
        center_lat_deg,
        center_lon_deg,
        semi_major_km,
        semi_minor_km,
        orientation_deg,
        n_vertices,
        circumscribed=True,
    )
    lon = wrap_lon(lon)
    points = [(float(a), float(o)) for a, o in zip(lat, lon, strict=True)]
    return _ring_text([*points, points[0]])


def cap_circle(center_lat_deg: float, center_lon_deg: float, radius_km: float) -> str:
    """A CAP circle string (§3.2.4 <circle>): "lat,lon radius", WGS 84 degrees and km."""
    if not (-90.0 <= center_lat_deg <= 90.0 and -180.0 <= center_lon_deg <= 180.0) or not radius_km >= 0.0:
        raise ValueError(f"bad circle: {center_lat_deg}, {center_lon_deg}, {radius_km} km")
    return f"{_coord(center_lat_deg)},{_coord(center_lon_deg)} {_coord(radius_km)}"


def cap_area(area: ProtectedArea, *, max_vertices: int = 100) -> CapArea:
    """The CAP <area> of a protected area: its name, and polygons covering its geometry (:func:`cap_polygons`)."""
    return CapArea(area.name, tuple(cap_polygons(area.geometry, max_vertices=max_vertices)))


# ----------------------------------------------------------------- text
def _xml_text(text: str) -> str:
    """Text XML 1.0 can carry: line ends as LF (a parser would fold CR anyway), others → U+FFFD."""
    return _NOT_XML_CHAR.sub("\ufffd", text.replace("\r\n", "\n").replace("\r", "\n"))


def _id_token(text: str) -> str:
    """``text`` with what CAP identifiers may not hold (§3.2.1) percent-encoded, one-to-one."""
    return _NOT_ID_CHAR.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), text)


def _latlon_text(lat_deg: float, lon_deg: float) -> str:
    return f"{abs(lat_deg):.2f}°{'N' if lat_deg >= 0 else 'S'} {abs(lon_deg):.2f}°{'E' if lon_deg >= 0 else 'W'}"


def _relative(seconds: float) -> str:
    minutes = round(abs(seconds) / 60.0)
    if minutes == 0:
        return "now"
    amount = f"about {minutes} min"
    return f"in {amount}" if seconds > 0 else f"{amount} ago"


def _headline(alert: CapAlert, response: str) -> str:
    area = alert.areas[0].description
    event = EVENT_NAMES[alert.reason].lower()
    if response == "AllClear":
        text = f"All clear: {event} threat to {area} is over"
        if alert.lifecycle == "cancelled":
            text = f"Cancelled: {event} warning for {area}"
    elif response == "Monitor":
        text = f"Track lost: {event} warning for {area}"
    else:
        text = f"{'Updated: ' if alert.lifecycle == 'updated' else ''}{EVENT_NAMES[alert.reason]} warning for {area}"
    if alert.status == "Exercise":
        text = f"EXERCISE: {text}"
    return text if len(text) <= HEADLINE_MAX_CHARS else text[: HEADLINE_MAX_CHARS - 1] + "…"


def _description(alert: CapAlert) -> str:
    """Plain text: what, where, when, how likely."""
    area = alert.areas[0].description
    missile = f"The ballistic missile (track {alert.track_id})"
    verb = "fall in" if alert.reason == "impact" else "pass over"
    when = ""
    if alert.onset_s is not None:
        when = f" at {cap_datetime(alert.onset_s, alert.utc_offset_min)} ({_relative(alert.onset_s - alert.sent_s)})"
    if alert.lifecycle in ("issued", "updated"):
        lines = [f"{missile} is predicted to {verb} {area}{when}."]
    elif alert.lifecycle == "cancelled":
        lines = [f"{missile} is no longer predicted to {verb} {area}. The warning is withdrawn."]
    elif alert.lifecycle == "ended" and "failed" in alert.why:
        lines = [f"{missile} failed in flight. Nothing left of it is predicted to {verb} {area}: the threat is over."]
    elif alert.lifecycle == "ended":
        end = alert.event_end_s if alert.event_end_s is not None else alert.onset_s
        over = f" ({cap_datetime(end, alert.utc_offset_min)})" if end is not None else ""
        lines = [f"The predicted time when {missile[0].lower() + missile[1:]} would {verb} {area} has passed{over}."]
    else:
        lines = [
            f"Tracking of {missile[0].lower() + missile[1:]} has been lost. It was predicted to {verb} {area}{when}."
        ]
    if alert.reason == "overflight" and alert.lifecycle in ("issued", "updated", "track-lost"):
        lines.append("It is not predicted to fall in the area; falling debris is possible.")
    if alert.impact_lat_deg is not None and alert.impact_lon_deg is not None:
        last = "" if alert.lifecycle in ("issued", "updated") else "Last p"
        point = _latlon_text(alert.impact_lat_deg, alert.impact_lon_deg)
        lines.append(f"{last or 'P'}redicted impact point: {point}.")
    if alert.probability is not None:
        place = "falls in" if alert.reason == "impact" else "passes over"
        lines.append(f"Probability that it {place} the area: {100.0 * alert.probability:.0f} %.")
    return " ".join(lines)


# ----------------------------------------------------------------- document
def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{CAP_NAMESPACE}}}{tag}")
    if text is not None:
        element.text = _xml_text(text)
    return element


def _expires(alert: CapAlert, response: str) -> float:
    if alert.expires_s is not None:
        return alert.expires_s
    if response == "AllClear":
        return alert.sent_s + ALL_CLEAR_LIFETIME_S
    end = max(t for t in (alert.event_end_s, alert.onset_s, alert.sent_s) if t is not None)
    return max(end, alert.sent_s) + EXPIRES_AFTER_EVENT_S


def cap_xml(alert: CapAlert) -> bytes:
    """The CAP 1.2 document (UTF-8 bytes, namespace :data:`CAP_NAMESPACE`) of one alert change.

    One <info> (language ``alert.language``; categories Safety and Security; event
    :data:`EVENT_NAMES`; codes from :func:`cap_codes`; onset, expires, senderName, headline,
    description, instruction, web, mwx parameters) with the alert's <area> elements. Exercise
    messages carry a <note> saying so (CAP §3.2.1 <note>). Update and Cancel carry <references>
    to every earlier message; <incidents> names the mwx alert so a receiver can group them.
    """
    codes = cap_codes(alert)
    root = ET.Element(f"{{{CAP_NAMESPACE}}}alert")
    _sub(root, "identifier", alert.identifier)
    _sub(root, "sender", alert.sender)
    _sub(root, "sent", alert.sent)
    _sub(root, "status", alert.status)
    _sub(root, "msgType", alert.msg_type)
    _sub(root, "source", "mwx missile-warning exchange")
    _sub(root, "scope", "Public")
    if alert.status == "Exercise":
        _sub(root, "note", "EXERCISE EXERCISE EXERCISE. This message belongs to an exercise; there is no real threat.")
    if alert.references:
        _sub(root, "references", " ".join(str(ref) for ref in alert.references))
    _sub(root, "incidents", f"mwx-{_id_token(alert.partner)}-{_id_token(alert.alert_id)}")

    info = _sub(root, "info")
    _sub(info, "language", alert.language)
    _sub(info, "category", "Safety")
    _sub(info, "category", "Security")
    _sub(info, "event", EVENT_NAMES[alert.reason])
    _sub(info, "responseType", codes.response_type)
    _sub(info, "urgency", codes.urgency)
    _sub(info, "severity", codes.severity)
    _sub(info, "certainty", codes.certainty)
    if alert.onset_s is not None:
        _sub(info, "onset", cap_datetime(alert.onset_s, alert.utc_offset_min))
    _sub(info, "expires", cap_datetime(_expires(alert, codes.response_type), alert.utc_offset_min))
    _sub(info, "senderName", f"mwx missile-warning exchange ({alert.partner})")
    _sub(info, "headline", _headline(alert, codes.response_type))
    _sub(info, "description", _description(alert))
    _sub(info, "instruction", alert.instruction or INSTRUCTIONS[codes.response_type])
    if alert.web is not None:
        _sub(info, "web", alert.web)
    parameters: list[tuple[str, str]] = [
        ("mwx:alertId", alert.alert_id),
        ("mwx:changeNumber", str(alert.change_number)),
        ("mwx:lifecycle", alert.lifecycle),
        ("mwx:reason", alert.reason),
        ("mwx:areaKind", alert.area_kind),
        ("mwx:trackId", alert.track_id),
    ]
    if alert.probability is not None:
        parameters.append(("mwx:probability", f"{alert.probability:.3f}"))
    if alert.impact_lat_deg is not None and alert.impact_lon_deg is not None:
        parameters += [
            ("mwx:impactLatDeg", _coord(alert.impact_lat_deg)),
            ("mwx:impactLonDeg", _coord(alert.impact_lon_deg)),
        ]
    for name, value in parameters:
        parameter = _sub(info, "parameter")
        _sub(parameter, "valueName", name)
        _sub(parameter, "value", value)
    for area in alert.areas:
        element = _sub(info, "area")
        _sub(element, "areaDesc", area.description)
        for polygon in area.polygons:
            _sub(element, "polygon", polygon)
        for circle in area.circles:
            _sub(element, "circle", circle)
    ET.indent(root)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True, default_namespace=CAP_NAMESPACE) + b"\n"


# ----------------------------------------------------------------- from mwx alerts
def cap_alerts_from_history(
    alert: Alert,
    *,
    status: CapStatus = "Exercise",
    utc_offset_min: int | None = None,
    areas: Sequence[CapArea] | None = None,
    web: str | None = None,
) -> list[CapAlert]:
    """One :class:`CapAlert` per entry of an mwx alert's ``history``, each referring to all before it.

    ``history`` entries are dicts with ``time`` (Unix s) and ``status`` (the lifecycle state) and,
    for issued/updated, ``impact_point`` ({lat, lon} deg), ``impact_time`` and ``crossing_time``
    (Unix s); optional ``probability`` and ``end_time`` are used when present. Entries without a
    prediction (cancelled, ended) keep the last one. The onset is the impact time (impact) or the
    crossing time (overflight); the end of the threat is the entry's ``end_time`` if given, else,
    from the latest prediction on, the alert's ``end_time`` (the exit from the airspace for an
    overflight), else the impact time (an overflight is over by then at the latest).
    ``utc_offset_min`` defaults to the partner's (:data:`PARTNER_UTC_OFFSET_MIN`, else UTC);
    ``areas`` to :func:`cap_area` of the alert's protected area.
    """
    offset = PARTNER_UTC_OFFSET_MIN.get(alert.partner, 0) if utc_offset_min is None else utc_offset_min
    cap_areas = tuple(areas) if areas is not None else (cap_area(alert.area),)
    out: list[CapAlert] = []
    last: dict = {}
    # The alert keeps the end time (s) of its latest prediction: it holds from that entry on.
    latest_prediction = max(
        (i for i, e in enumerate(alert.history, start=1) if e.get("impact_time") is not None), default=0
    )
    latest_end = _finite_or_none(getattr(alert, "end_time", None))
    for number, entry in enumerate(alert.history, start=1):
        if entry.get("impact_time") is not None:
            last.pop("end_time", None)  # an end time belongs to its prediction
        for key in ("impact_point", "impact_time", "crossing_time", "probability", "end_time", "reason"):
            if entry.get(key) is not None:
                last[key] = entry[key]
        if number == latest_prediction and entry.get("end_time") is None and latest_end is not None:
            last["end_time"] = latest_end
        impact_time = last.get("impact_time")
        reason = last.get("reason", alert.reason)
        onset = impact_time if reason == "impact" else last.get("crossing_time", impact_time)
        point = last.get("impact_point") or {}
        change = CapAlert(
            partner=alert.partner,
            alert_id=alert.alert_id,
            change_number=number,
            lifecycle=entry["status"],
            reason=reason,
            area_kind=alert.area.kind,
            sent_s=float(entry["time"]),
            track_id=alert.track_id,
            areas=cap_areas,
            onset_s=_finite_or_none(onset),
            event_end_s=_finite_or_none(last.get("end_time", impact_time)),
            impact_lat_deg=_finite_or_none(point.get("lat")),
            impact_lon_deg=_finite_or_none(point.get("lon")),
            probability=_finite_or_none(last.get("probability")),
            references=tuple(earlier.reference for earlier in out),
            status=status,
            utc_offset_min=offset,
            web=web,
            why=tuple(entry.get("why", ())),
        )
        out.append(change)
    return out


def _finite_or_none(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def cap_file_name(alert: CapAlert) -> str:
    """``{partner}-{alert_id}-{n:03d}.xml`` (unsafe characters → "_"): one alert's files sort in issue order."""
    return _NOT_FILE_CHAR.sub("_", f"{alert.partner}-{alert.alert_id}-{alert.change_number:03d}") + ".xml"


def write_cap(directory: str | os.PathLike[str], alerts: Iterable[CapAlert]) -> list[Path]:
    """Write one CAP file per change into ``directory`` (created if missing); the paths, in input order.

    File names from :func:`cap_file_name`; two changes that would share a file are an error
    (ValueError, nothing written).
    """
    changes = list(alerts)
    folder = Path(directory)
    paths = [folder / cap_file_name(change) for change in changes]
    if len(set(paths)) != len(paths):
        raise ValueError("two CAP messages would share a file name (same partner, alert and change number)")
    documents = [cap_xml(change) for change in changes]
    folder.mkdir(parents=True, exist_ok=True)
    for path, document in zip(paths, documents, strict=True):
        path.write_bytes(document)
    return paths
