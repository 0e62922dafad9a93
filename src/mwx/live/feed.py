"""From a partner node to its live picture: what the node does, as :mod:`mwx.live.updates` records.

A :class:`NodeFeed` is handed to a :class:`~mwx.node.node.PartnerNode`, which calls it where things happen:
a state of its own track published, a partner's track report accepted, its fused system tracks assessed
(with the impact each is predicted to make), a change of one of its alerts, a partner's alert change
received, an acknowledgement; the run adds the exchange's health, the clock and the launch event reports.
Updates wait in the feed until :meth:`~NodeFeed.flush` (the end of a scan or of an assessment), so a step's
updates reach the picture, and the consoles, as one batch.

Geometry: states are ECEF (m, m/s); a track's uncertainty is the 95 % ellipse of its horizontal position
(the east/north block of its position covariance rotated into the local ENU frame, χ²₂ = 5.991), drawn as
a geodesic ellipse (:func:`mwx.geo.ellipse.geodesic_ellipse`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import msgspec
import numpy as np

from mwx import records
from mwx.geo import wgs84
from mwx.geo.ellipse import geodesic_ellipse
from mwx.live.picture import LivePicture
from mwx.live.updates import (
    AckUpdate,
    AlertUpdate,
    AreaInfo,
    ClockUpdate,
    HealthUpdate,
    Impact,
    LaunchUpdate,
    NoteUpdate,
    Outline,
    PeerHealth,
    SensorInfo,
    Setup,
    TrackKind,
    TrackUpdate,
    Update,
)

if TYPE_CHECKING:
    from mwx.exchange.endpoint import Endpoint
    from mwx.exchange.messages import Alert as AlertMessage
    from mwx.exchange.messages import OperatorNote, TrackReport
    from mwx.geo.regions import ProtectedArea
    from mwx.sim.theater import Theater
    from mwx.warn.alerts import Alert

#: χ² of 2 degrees of freedom at 95 %: the horizontal uncertainty drawn
CHI2_2D_95 = 5.991464547107979
#: points of a track's uncertainty outline (a small ellipse: a coarse outline is enough)
TRACK_OUTLINE_POINTS = 24
#: points of a predicted impact's 95 % outline
IMPACT_OUTLINE_POINTS = 72
#: m: height at which a radar's coverage is drawn (a missile's midcourse is higher, its boost lower)
COVERAGE_ALT_M = 100e3
#: s: a peer not heard from for this long is shown as not connected
PEER_SILENT_S = 30.0
#: km: the farthest from a radar the map's first window reaches
WINDOW_REACH_KM = 1500.0
KM_PER_DEG = 111.32  # km per degree of latitude (and of longitude at the equator), for the window only
#: s: a track (own, partner's or system) not updated for this long leaves the picture
TRACK_STALE_S = 30.0


def horizontal_ellipses(lat: np.ndarray, lon: np.ndarray, p_pos: np.ndarray) -> tuple[np.ndarray, ...]:
    """The 95 % ellipses of horizontal positions: semi-axes [km], major-axis azimuths [deg from north, in [0,
    180)], and the 1σ vertical errors [m].

    ``p_pos``: the (k, 3, 3) ECEF position covariances [m²] at geodetic (``lat``, ``lon``) [rad], (k,)."""
    basis = wgs84.enu_basis(lat, lon)  # (k, 3, 3): rows east, north, up in ECEF
    en = basis[:, :2] @ p_pos @ np.swapaxes(basis[:, :2], 1, 2)
    values, vectors = np.linalg.eigh(0.5 * (en + np.swapaxes(en, 1, 2)))
    values = np.clip(values, 0.0, None)
    major = vectors[:, :, 1]
    azimuth = np.degrees(np.arctan2(major[:, 0], major[:, 1])) % 180.0
    scale = math.sqrt(CHI2_2D_95) / 1e3
    vertical = np.einsum("ki,kij,kj->k", basis[:, 2], p_pos, basis[:, 2])
    return np.sqrt(values[:, 1]) * scale, np.sqrt(values[:, 0]) * scale, azimuth, np.sqrt(np.clip(vertical, 0, None))


def outline(lat_deg: float, lon_deg: float, major_km: float, minor_km: float, azimuth_deg: float, n: int) -> Outline:
    """The closed outline of an ellipse on the ground, as [lon, lat] degrees."""
    lats, lons = geodesic_ellipse(lat_deg, lon_deg, major_km, minor_km, azimuth_deg, n, closed=True)
    return Outline(rings=[_ring(lons, lats)])


def _ring(lons: np.ndarray, lats: np.ndarray) -> list[tuple[float, float]]:
    return [(x, y) for x, y in np.round(np.stack([lons, lats], axis=-1), 5).tolist()]


class RawTrack(NamedTuple):
    """A track state as a node holds it, before it becomes a :class:`TrackUpdate`: ``x`` (6,) ECEF [m, m/s],
    ``p`` (6, 6), at Unix time ``t``."""

    kind: TrackKind
    source: str
    track_id: str
    t: float
    x: np.ndarray
    p: np.ndarray
    boosting: bool
    members: tuple[str, ...] = ()
    launch_id: str | None = None
    impact: Impact | None = None


def track_updates(raw: Sequence[RawTrack]) -> list[TrackUpdate]:
    """Track states as updates, converted together (one call of each geometric step for all of them)."""
    if not raw:
        return []
    x = np.array([r.x[:6] for r in raw], float)
    p_pos = np.array([np.asarray(r.p, float)[:3, :3] for r in raw])
    lat, lon, alt = wgs84.ecef_to_geodetic(x[:, :3])
    basis = wgs84.enu_basis(lat, lon)
    enu = np.einsum("kij,kj->ki", basis, x[:, 3:6])
    major, minor, azimuth, vertical = horizontal_ellipses(lat, lon, p_pos)
    lat_deg, lon_deg = np.degrees(lat), np.degrees(lon)
    rings_lat, rings_lon = geodesic_ellipse(lat_deg, lon_deg, major, minor, azimuth, TRACK_OUTLINE_POINTS, closed=True)
    speed = np.linalg.norm(enu, axis=1)
    heading = np.degrees(np.arctan2(enu[:, 0], enu[:, 1])) % 360.0
    sigma_h = major * 1e3 / math.sqrt(CHI2_2D_95)
    return [
        TrackUpdate(
            time=records.utc(r.t),
            kind=r.kind,
            source=r.source,
            track_id=r.track_id,
            lat=round(float(lat_deg[k]), 5),
            lon=round(float(lon_deg[k]), 5),
            alt_km=round(float(alt[k]) / 1e3, 3),
            speed_mps=round(float(speed[k]), 1),
            heading_deg=round(float(heading[k]), 1),
            boosting=bool(r.boosting),
            uncertainty=Outline(rings=[_ring(rings_lon[k], rings_lat[k])]),
            sigma_h_m=round(float(sigma_h[k]), 1),
            sigma_v_m=round(float(vertical[k]), 1),
            members=list(r.members),
            launch_id=r.launch_id,
            impact=r.impact,
        )
        for k, r in enumerate(raw)
    ]


def track_update(
    kind: TrackKind, source: str, track_id: str, t: float, x: np.ndarray, p: np.ndarray, boosting: bool
) -> TrackUpdate:
    """A track's ECEF state ``x`` (6,) [m, m/s] and covariance ``p`` (6, 6) at Unix time ``t`` as an update."""
    return track_updates([RawTrack(kind, source, track_id, t, x, p, boosting)])[0]


def impact_of(prediction: Mapping[str, Any]) -> Impact | None:
    """A node's impact prediction (:attr:`mwx.warn.alerts.AlertManager.predictions`) as an :class:`Impact`."""
    ellipse = prediction["ellipse"]
    if not all(math.isfinite(ellipse[k]) for k in ("lat", "lon", "semi_major_km", "semi_minor_km")):
        return None
    ellipse_95 = records.Ellipse95(
        semi_major_km=round(float(ellipse["semi_major_km"]), 3),
        semi_minor_km=round(float(ellipse["semi_minor_km"]), 3),
        orientation_deg=round(float(ellipse["orientation_deg"]) % 180.0, 3),
    )
    lat, lon = float(ellipse["lat"]), float(ellipse["lon"])
    return Impact(
        time=records.utc_or_none(prediction.get("impact_time")),
        point=records.point(lat, lon),
        ellipse_95=ellipse_95,
        outline=outline(
            lat,
            lon,
            ellipse_95.semi_major_km,
            ellipse_95.semi_minor_km,
            ellipse_95.orientation_deg,
            IMPACT_OUTLINE_POINTS,
        ),
    )


def alert_update(record: records.AlertRecord, number: int, *, as_received: bool = False) -> AlertUpdate:
    """Change ``number`` (from 1) of an alert's record as an update of its owner's picture; ``as_received``: as
    another partner receives it over the exchange, without the ellipse and alert area the message lacks."""
    change = record.history[number - 1]
    if as_received:
        change = msgspec.structs.replace(change, ellipse_95=None, alert_area=None)
    return AlertUpdate(
        time=change.time,
        owner=record.partner,
        alert_id=record.alert_id,
        area=record.area.name,
        area_kind=record.area.kind,
        reason=record.reason,
        launch_id=record.launch_id,
        change_number=number,
        change=change,
    )


def received_change(message: AlertMessage) -> records.AlertChange:
    """A partner's alert change as it came over the exchange, in the run folder's record."""
    point = message.impact_point
    return records.AlertChange(
        time=records.utc(message.time),
        status=message.status,
        why=list(message.why),
        level=message.level,
        reason=message.reason if message.status in ("issued", "updated") else None,
        impact_point=None if point is None else records.point(point.lat, point.lon),
        impact_time=records.utc_or_none(message.impact_time),
        crossing_time=records.utc_or_none(message.crossing_time),
        probability=message.probability,
    )


def setup_of(
    partner: str,
    theater: Theater,
    areas: Sequence[ProtectedArea],
    *,
    mode: Literal["live", "replay", "exercise"],
    scenario: str,
    start: float,
    end: float,
) -> Setup:
    """A partner's :class:`Setup`: its own sensors with their coverage, its protected areas, the map's window."""
    from mwx.sim import coverage
    from mwx.sim.theater import Radar

    sensors = []
    for sensor in theater.sensors:
        if sensor.partner != partner:
            continue
        if isinstance(sensor, Radar):
            rings = coverage.radar_footprint(sensor, COVERAGE_ALT_M, step_deg=2.0, n_el=120).rings()
            cover = Outline(
                rings=[
                    [(round(float(x), 4), round(float(y), 4)) for x, y in zip(lon, lat, strict=True)]
                    for lon, lat in rings
                ]
            )
            sensors.append(
                SensorInfo(
                    name=sensor.id,
                    partner=partner,
                    kind="radar",
                    lat=sensor.site.lat,
                    lon=records.point(sensor.site.lat, sensor.site.lon).lon,
                    coverage=cover if rings else None,
                )
            )
        else:
            sensors.append(
                SensorInfo(name=sensor.id, partner=partner, kind="infrared", lat=None, lon=None, coverage=None)
            )
    own_areas = [
        AreaInfo(
            name=a.name,
            partner=a.partner,
            kind="territory" if a.kind == "territory" else "eez",
            outline=Outline(rings=_rings(a.geometry)),
        )
        for a in areas
        if a.partner == partner
    ]
    return Setup(
        partner=partner,
        partners=theater.partner_ids,
        mode=mode,
        scenario=scenario,
        start=records.utc(start),
        end=records.utc(end),
        bounds=_bounds(theater, areas),
        sensors=sensors,
        areas=own_areas,
        stale_s=TRACK_STALE_S,
    )


def _rings(geometry: Any) -> list[list[tuple[float, float]]]:
    polygons = getattr(geometry, "geoms", [geometry])
    return [[(round(x, 4), round(y, 4)) for x, y in p.exterior.coords] for p in polygons]


def _bounds(theater: Theater, areas: Sequence[ProtectedArea]) -> tuple[float, float, float, float]:
    """The map's window: the theater's radars and the ground they reach (up to :data:`WINDOW_REACH_KM`), in
    continuous longitude east of 0 (a window across ±180° has east > 180).  Protected areas far from every
    radar (Alaska, Hawaii) are left out: they would stretch the window round the globe."""
    from mwx.sim.theater import Radar

    west, south, east, north = 360.0, 90.0, -360.0, -90.0
    for radar in theater.sensors:
        if not isinstance(radar, Radar):
            continue
        reach = min(radar.max_range_km, WINDOW_REACH_KM)
        dlat = reach / KM_PER_DEG
        dlon = reach / (KM_PER_DEG * max(math.cos(math.radians(radar.site.lat)), 0.1))
        lon = radar.site.lon % 360.0
        west, east = min(west, lon - dlon), max(east, lon + dlon)
        south, north = min(south, radar.site.lat - dlat), max(north, radar.site.lat + dlat)
    if west > east:  # no radar: the areas' own extent
        for area in areas:
            x0, y0, x1, y1 = area.geometry.bounds
            west, south, east, north = min(west, x0), min(south, y0), max(east, x1), max(north, y1)
    return (round(west, 2), round(max(south, -85.0), 2), round(east, 2), round(min(north, 85.0), 2))


class NodeFeed:
    """Turns one node's doings into updates of its partner's :class:`LivePicture`, a step at a time."""

    def __init__(self, picture: LivePicture, *, tracks: bool = True) -> None:
        """``tracks``: False for a picture no one looks at the map of (a headless exercise): track states are
        left out, the rest (alerts, acknowledgements, notes) kept."""
        self.picture = picture
        self.tracks = tracks
        self.partner = picture.partner
        self._pending: list[Update | RawTrack] = []
        #: msg id of each envelope that carried one of this partner's alert changes → (alert id, change number)
        self.sent_changes: dict[str, tuple[str, int | None]] = {}
        #: msg id of each partner's alert change received → (owner, alert id, change number)
        self.received_changes: dict[str, tuple[str, str, int | None]] = {}

    def flush(self) -> None:
        """Hand the step's updates to the picture as one batch (its track states converted together)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        converted = iter(track_updates([u for u in pending if isinstance(u, RawTrack)]))
        self.picture.extend([next(converted) if isinstance(u, RawTrack) else u for u in pending])

    def track(
        self, kind: TrackKind, source: str, track_id: str, t: float, x: np.ndarray, p: np.ndarray, boosting: bool
    ) -> None:
        """A track state: converted with the step's others at :meth:`flush`."""
        if not self.tracks:
            return
        self._pending.append(RawTrack(kind, source, track_id, t, np.array(x, float), np.array(p, float), boosting))

    def partner_track(self, report: TrackReport) -> None:
        """A partner's track report accepted (what its release policy let through)."""
        if not self.tracks:
            return
        p = np.asarray(report.covariance, float).reshape(6, 6)
        self.track(
            "partner", report.sender, report.track_id, report.time, np.asarray(report.state, float), p, report.boosting
        )

    def system_track(
        self,
        system_id: str,
        t: float,
        x: np.ndarray,
        p: np.ndarray,
        boosting: bool,
        members: Sequence[tuple[str, str]],
        launch_id: str | None,
        prediction: Mapping[str, Any] | None,
    ) -> None:
        """A fused system track at an assessment, with its launch and the impact predicted for it then."""
        if not self.tracks:
            return
        self._pending.append(
            RawTrack("system", self.partner, system_id, t, np.array(x, float), np.array(p, float), boosting,
                     members=tuple(f"{sender}/{track}" for sender, track in members), launch_id=launch_id,
                     impact=None if prediction is None else impact_of(prediction))
        )  # fmt: skip

    def own_alert(self, alert: Alert, index: int) -> None:
        """Change ``index`` of one of this partner's alerts (its record: what alerts.json will hold)."""
        from mwx.warn.alerts import alert_record

        record = alert_record(alert)
        self._pending.append(alert_update(record, index + 1))

    def sent(self, msg_id: str, alert_id: str, change_number: int | None) -> None:
        """One of this partner's alert changes left in envelope ``msg_id`` (an acknowledgement will name it)."""
        self.sent_changes[msg_id] = (alert_id, change_number)

    def received_alert(self, message: AlertMessage, msg_id: str) -> None:
        """A partner's alert change came in envelope ``msg_id``: it can be acknowledged here."""
        self.received_changes[msg_id] = (message.sender, message.alert_id, message.change)
        self._pending.append(
            AlertUpdate(
                time=records.utc(message.time),
                owner=message.sender,
                alert_id=message.alert_id,
                area=message.area.name,
                area_kind=message.area.kind,
                reason=message.reason,
                launch_id=message.launch_id,
                change_number=message.change,
                change=received_change(message),
                msg_id=msg_id,
            )
        )

    def ack_of_own(self, msg_id: str, by: str, t: float) -> None:
        """A partner's operator acknowledged one of this partner's alert changes."""
        if msg_id in self.sent_changes:
            alert_id, number = self.sent_changes[msg_id]
            self._pending.append(
                AckUpdate(
                    time=records.utc(t),
                    owner=self.partner,
                    alert_id=alert_id,
                    change_number=number,
                    by=by,
                    msg_id=msg_id,
                )
            )

    def ack_by_own(self, msg_id: str, t: float) -> None:
        """This partner's operator acknowledged a partner's alert change (the acknowledgement has left)."""
        if msg_id in self.received_changes:
            owner, alert_id, number = self.received_changes[msg_id]
            self._pending.append(
                AckUpdate(
                    time=records.utc(t),
                    owner=owner,
                    alert_id=alert_id,
                    change_number=number,
                    by=self.partner,
                    msg_id=msg_id,
                )
            )

    def health(self, t: float, endpoint: Endpoint, peers: Sequence[str], last_heard: Mapping[str, float]) -> None:
        """The exchange's health at ``t``: peers heard from, gaps still open, what was refused."""
        guard = endpoint.guard
        counters = endpoint.counters
        rows = []
        for peer in peers:
            heard = last_heard.get(peer)
            rows.append(
                PeerHealth(
                    partner=peer,
                    last_heard=records.utc_or_none(heard),
                    connected=heard is not None and t - heard <= PEER_SILENT_S,
                    gaps=len(guard.missing(peer, 10_000)) if peer in guard.senders() else 0,
                )
            )
        refused = {reason: n for reason, n in counters.rejected.items() if n}
        self._pending.append(
            HealthUpdate(
                time=records.utc(t),
                peers=rows,
                accepted=counters.received,
                sent=counters.sent,
                refused=refused,
                withheld=endpoint.withheld,
            )
        )

    def note(self, note: OperatorNote, msg_id: str, *, own: bool) -> None:
        """A message of the consultation channel: this partner's (``own``, sent in envelope ``msg_id``) or a
        partner's, accepted from envelope ``msg_id``."""
        self._pending.append(
            NoteUpdate(
                time=records.utc(note.time),
                msg_id=msg_id,
                sender=note.sender,
                own=own,
                act=note.act,
                topic=note.event_id,
                text=note.text,
                to=list(note.to),
                in_reply_to=note.in_reply_to,
            )
        )

    def add(self, update: Update) -> None:
        """An update made elsewhere (an exercise's inject, public warning or answer), sent with the step's."""
        self._pending.append(update)

    def clock(self, t: float, speed: float, state: Literal["running", "paused", "finished"]) -> None:
        self._pending.append(ClockUpdate(time=records.utc(t), speed=speed, state=state))

    def launches(self, t: float, events: Sequence[records.LaunchEvent]) -> None:
        """The partner's launch event reports as they stand at ``t``."""
        for event in events:
            if event.partner == self.partner:
                self._pending.append(
                    LaunchUpdate(time=records.utc(t), event_id=event.event_id, report=report_now(event, t))
                )


def report_now(event: records.LaunchEvent, t: float) -> records.EventUpdate:
    """A launch event report as it stands at ``t``, in the shape of one of its ``updates``."""
    fields = {name: getattr(event, name) for name in records.EventUpdate.__struct_fields__ if name != "time"}
    return records.EventUpdate(time=records.utc(t), **fields)
