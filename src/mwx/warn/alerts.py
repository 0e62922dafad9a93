"""Alerts for a partner's protected areas, with their lifecycle.

Rules (:mod:`mwx.warn.rules`): from each settled coasting system track's impact distribution, the
probability of impact in each of the partner's areas (territory, EEZ) and of overflight of its
territory, each with a threshold per level.  A :class:`Threat` carries that probability, the
predicted times and the alert area (:mod:`mwx.warn.areas`).  :func:`threats` is the older,
deterministic rule on one path (the truth's, in :mod:`mwx.exercise.outputs`): certain threats.

Lifecycle of one alert (one area, one reason, one system track), every change one entry of its
``history``, in order, numbered from 1 (``change``), and handed to the ``on_change`` hook:

* ``issued`` — the probability reached the rule's warning threshold (level ``warning``);
* ``updated`` — a material change: the level (``warning`` ↔ ``advisory``, below the warning
  threshold but above the advisory one), the probability by ``update_probability``, the impact
  point by ``update_km`` (impact alerts), the crossing time by ``update_s`` (overflight), the alert
  area by ``update_area_km`` (Hausdorff distance), the track regained after ``track-lost``, or the
  track taken over by another system track (fusion merged them);
* ``cancelled`` — the threat fell below the advisory threshold before its time (the warning is
  withdrawn), or a duplicate alert of a merged system track (``superseded_by``);
* ``ended`` — the all-clear: the threat's time has passed (the impact time plus 2σ, the exit from
  the airspace), or for an overflight the object was due over the area and no longer threatens it;
* ``track-lost`` — the system track went stale (no fresh member for the fusion's ``stale_s``)
  before the threat's time.  Said once; the alert then stands (no news is no all-clear: CAP
  Monitor) and ends at its predicted end time, or is updated if the track comes back.

Entries hold ``time``, ``status``, ``change``, ``track_id`` and, for issued/updated, the
prediction: ``impact_point`` {lat, lon} deg, ``impact_time``, ``crossing_time``, ``end_time`` (Unix
s), ``level``, ``probability`` (when known), ``impact_time_sigma`` [s], ``ellipse`` (95 %: centre
lat/lon deg, semi-axes km, orientation deg) and ``area_geometry`` (shapely, lon/lat deg).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from mwx.exchange import messages
from mwx.geo import regions
from mwx.geo.regions import ProtectedArea
from mwx.warn import areas as alert_areas
from mwx.warn import cap
from mwx.warn.rules import WARNING, Threat, level_for

__all__ = ["Alert", "AlertManager", "Threat", "alert_message", "cap_changes", "threats"]

_GEOD = Geod(ellps="WGS84")
#: An alert area whose boundary moved by more than this [km] (Hausdorff) is news: towns enter or leave it.
UPDATE_AREA_KM = 20.0
#: A probability that moved by this much (absolute) is news (CAP certainty changes at 0.05 and 0.5).
UPDATE_PROBABILITY = 0.2


@dataclass
class Alert:
    alert_id: str
    partner: str
    area: ProtectedArea
    reason: str  # "impact" or "overflight"
    track_id: str
    history: list[dict] = field(default_factory=list)
    active: bool = True
    last_impact: tuple[float, float] = (math.nan, math.nan)  # lat, lon deg
    last_crossing: float | None = None
    end_time: float = math.nan  # Unix s when the threat is over
    level: str = WARNING
    probability: float | None = None
    geometry: BaseGeometry | None = None  # the latest alert area, lon/lat deg
    lost: bool = False  # the track went stale and has not come back
    retracked: bool = False  # another system track took it over; the next prediction is news

    def key(self) -> tuple[str, str, str, str]:
        return (self.track_id, self.area.kind, self.area.name, self.reason)

    @property
    def status(self) -> str:
        """The latest lifecycle state."""
        return self.history[-1]["status"] if self.history else "new"


def threats(areas: tuple[ProtectedArea, ...], path_t, path_lat_deg, path_lon_deg, impact_time: float) -> list[Threat]:
    """Threats to ``areas`` from one predicted path (times Unix s, degrees) ending at impact: certain ones."""
    if len(path_t) == 0 or not math.isfinite(impact_time):
        return []
    out = []
    lat_i, lon_i = float(path_lat_deg[-1]), float(path_lon_deg[-1])
    inside = regions.contains(areas, lat_i, lon_i)[:, 0]
    for area, hit in zip(areas, inside, strict=True):
        if hit:
            out.append(Threat(area, "impact", impact_time, lat_i, lon_i, None, impact_time))
    territories = tuple(a for a in areas if a.kind == "territory")
    seen = set()
    for area, enter, leave in regions.path_crossings(territories, path_t, path_lat_deg, path_lon_deg):
        if area.name in seen or leave >= impact_time - 1e-6:  # ending inside is an impact, not an overflight
            continue
        seen.add(area.name)
        out.append(Threat(area, "overflight", impact_time, lat_i, lon_i, enter, leave))
    return out


Key = tuple[str, str, str, str]
OnChange = Callable[[Alert, dict], None]


class AlertManager:
    """The alerts one partner raises for its own areas.

    ``alerts`` holds every alert by id, in issue order (cancelled and ended ones stay).
    ``on_change(alert, entry)`` is called after each new history entry (the node sends it as an
    exchange :class:`~mwx.exchange.messages.Alert`: :func:`alert_message`).
    """

    def __init__(
        self,
        partner: str,
        areas: tuple[ProtectedArea, ...],
        *,
        update_km: float = 10.0,
        update_s: float = 10.0,
        update_area_km: float = UPDATE_AREA_KM,
        update_probability: float = UPDATE_PROBABILITY,
        on_change: OnChange | None = None,
    ):
        self.partner = partner
        self.areas = tuple(a for a in areas if a.partner == partner)
        self.update_km = update_km
        self.update_s = update_s
        self.update_area_km = update_area_km
        self.update_probability = update_probability
        self.on_change = on_change
        self.alerts: dict[str, Alert] = {}
        #: The latest prediction of each evaluated track: ``time``, ``impact_time`` and the 95 % ``ellipse``.
        self.predictions: dict[str, dict] = {}
        self._standing: dict[Key, Alert] = {}
        self._next = 1

    def standing(self) -> list[Alert]:
        """The alerts not yet cancelled or ended, in issue order."""
        return list(self._standing.values())

    def evaluate(self, time: float, track_id: str, found: list[Threat], prediction: dict | None = None) -> None:
        """Bring the alerts of ``track_id`` up to date with its current threats at ``time``.

        ``prediction`` (the track's impact time and 95 % ellipse, kept in :attr:`predictions`) is
        what the threats were judged on, whether or not any was found.
        """
        if prediction is not None:
            self.predictions[track_id] = {"time": time, **prediction}
        # A partner warns for its own areas only, whatever the caller hands in.
        current = {(track_id, t.area.kind, t.area.name, t.reason): t for t in found if t.area.partner == self.partner}
        kept = set()
        for key, threat in current.items():
            alert = self._standing.get(key)
            level = level_for(threat.reason, threat.area.kind, threat.probability, alert is not None)
            if level is None:
                continue  # below every threshold: as if not found
            kept.add(key)
            if alert is None:
                alert = Alert(f"{self.partner}-A{self._next:04d}", self.partner, threat.area, threat.reason, track_id)
                self._next += 1
                self.alerts[alert.alert_id] = alert
                self._standing[key] = alert
                self._change(alert, time, "issued", threat, level)
            elif self._material(alert, threat, level):
                self._change(alert, time, "updated", threat, level)
        for key, alert in list(self._standing.items()):
            if key[0] == track_id and key not in kept:
                self._change(alert, time, "ended" if self._passed(alert, time) else "cancelled")

    def transfer(self, time: float, merged: Mapping[str, str]) -> None:
        """Hand the standing alerts of system tracks merged into others (``merged``: old id → new id) over.

        The alert keeps its id and history under the surviving track; its next prediction is an
        update.  Where the survivor already has a standing alert for the same area and reason, the
        merged track's one is a duplicate: cancelled, naming the one that supersedes it.
        """
        for key, alert in list(self._standing.items()):
            target = key[0]
            seen = {target}
            while target in merged and merged[target] not in seen:  # a chain of merges ends at the survivor
                target = merged[target]
                seen.add(target)
            if target == key[0]:
                continue
            new_key = (target, *key[1:])
            other = self._standing.get(new_key)
            if other is not None:
                self._change(alert, time, "cancelled", superseded_by=other.alert_id)
                continue
            del self._standing[key]
            alert.track_id = target
            alert.retracked = True
            self._standing[new_key] = alert

    def review(self, time: float, evaluated: Collection[str], lost: Collection[str]) -> None:
        """End or mark the standing alerts of tracks not evaluated at ``time``.

        ``evaluated``: track ids whose threats were just evaluated (left alone); ``lost``: stale
        track ids.  An alert past its end time ends (all-clear); one of a lost track not yet past
        it says ``track-lost``, once.  A track neither evaluated nor lost (boosting again for a
        moment, or not settled) keeps its alerts as they are.
        """
        for alert in list(self._standing.values()):
            if alert.track_id in evaluated:
                continue
            if time >= alert.end_time:
                self._change(alert, time, "ended")
            elif alert.track_id in lost and not alert.lost:
                self._change(alert, time, "track-lost")

    def close(self, time: float) -> None:
        """End every alert still standing at the end of the run (no earlier than its end time)."""
        for alert in list(self._standing.values()):
            self._change(alert, max(time, alert.end_time) if np.isfinite(alert.end_time) else time, "ended")

    # ----------------------------------------------------------------- rules of change
    @staticmethod
    def _passed(alert: Alert, time: float) -> bool:
        """Whether the threat's time has come: its end, or for an overflight its entry (it has passed over)."""
        if time >= alert.end_time:
            return True
        return alert.reason == "overflight" and alert.last_crossing is not None and time >= alert.last_crossing

    def _material(self, alert: Alert, threat: Threat, level: str) -> bool:
        """Whether a new prediction for a standing alert is news (see the module docstring)."""
        if level != alert.level or alert.lost or alert.retracked:
            return True
        if (
            threat.probability is not None
            and alert.probability is not None
            and abs(threat.probability - alert.probability) >= self.update_probability
        ):
            return True
        if threat.reason == "impact" or threat.geometry is None:
            # An overflight alert's area and crossing time say what matters; its far impact point does not.
            moved = _GEOD.inv(alert.last_impact[1], alert.last_impact[0], threat.impact_lon, threat.impact_lat)[2]
            if moved / 1e3 > self.update_km:
                return True
        if (
            threat.crossing_time is not None
            and alert.last_crossing is not None
            and abs(threat.crossing_time - alert.last_crossing) > self.update_s
        ):
            return True
        if threat.geometry is not None and alert.geometry is not None:
            return alert_areas.hausdorff_km(threat.geometry, alert.geometry) > self.update_area_km
        return False

    def _change(
        self,
        alert: Alert,
        time: float,
        status: str,
        threat: Threat | None = None,
        level: str | None = None,
        **extra: object,
    ) -> None:
        entry: dict = {"time": time, "status": status, "change": len(alert.history) + 1, "track_id": alert.track_id}
        if threat is not None:
            entry.update(
                impact_point={"lat": threat.impact_lat, "lon": threat.impact_lon},
                impact_time=threat.impact_time,
                crossing_time=threat.crossing_time,
                end_time=threat.end_time,
                level=level or WARNING,
            )
            if threat.probability is not None:
                entry["probability"] = threat.probability
            if threat.impact_time_sigma is not None:
                entry["impact_time_sigma"] = threat.impact_time_sigma
            if threat.ellipse is not None:
                entry["ellipse"] = dict(threat.ellipse)
            if threat.geometry is not None:
                entry["area_geometry"] = threat.geometry
                alert.geometry = threat.geometry
            alert.last_impact = (threat.impact_lat, threat.impact_lon)
            alert.last_crossing = threat.crossing_time
            alert.end_time = threat.end_time
            alert.level = level or WARNING
            alert.probability = threat.probability
            alert.lost = alert.retracked = False
        entry.update(extra)
        if status == "track-lost":
            alert.lost = True
        alert.history.append(entry)
        if status in ("cancelled", "ended"):
            alert.active = False
            self._standing.pop(alert.key(), None)
        if self.on_change is not None:
            self.on_change(alert, entry)


# ----------------------------------------------------------------- outputs of one change
def _latest(alert: Alert, entry: dict) -> dict:
    """The latest prediction in ``alert``'s history up to and including ``entry`` (empty if none)."""
    at = next((k for k, e in enumerate(alert.history) if e is entry), None)
    upto = [*alert.history, entry] if at is None else alert.history[: at + 1]
    return next((e for e in reversed(upto) if e.get("impact_point") is not None), {})


def alert_message(alert: Alert, entry: dict) -> messages.Alert:
    """The exchange :class:`~mwx.exchange.messages.Alert` of one history entry of ``alert``.

    Issued and updated carry their prediction; track-lost carries the last one (what the warning
    still stands on); cancelled and ended carry none.  Longitudes are wrapped to [−180, 180].
    """
    prediction = entry if entry.get("impact_point") is not None else {}
    if entry["status"] == "track-lost":
        prediction = _latest(alert, entry)
    point = prediction.get("impact_point")
    probability = prediction.get("probability")

    def finite(value: float | None) -> float | None:
        return float(value) if value is not None and math.isfinite(value) else None

    return messages.Alert(
        sender=alert.partner,
        alert_id=alert.alert_id,
        time=float(entry["time"]),
        status=entry["status"],
        area=messages.Area(partner=alert.area.partner, kind=alert.area.kind, name=alert.area.name),
        reason=alert.reason,
        track_id=entry.get("track_id", alert.track_id),
        impact_point=(
            messages.GeoPoint(lat=float(point["lat"]), lon=float(alert_areas.wrap_lon(point["lon"])))
            if point is not None and math.isfinite(point["lat"]) and math.isfinite(point["lon"])
            else None
        ),
        impact_time=finite(prediction.get("impact_time")),
        crossing_time=finite(prediction.get("crossing_time")),
        probability=None if probability is None else min(max(float(probability), 0.0), 1.0),
        change=int(entry["change"]) if entry.get("change") else None,
        level=prediction.get("level"),
    )


def cap_changes(alert: Alert, **kwargs: Any) -> list[cap.CapAlert]:
    """CAP changes (:class:`mwx.warn.cap.CapAlert`) of ``alert`` with each change's own alert area.

    As :func:`mwx.warn.cap.cap_alerts_from_history` (``kwargs`` passed on), but each change's
    <area> is the alert area of the latest prediction up to it (``area_geometry``), so the CAP
    area shrinks with the ellipse; changes before any geometry keep the whole protected area.
    """
    out = []
    geometry = None
    for change, entry in zip(cap.cap_alerts_from_history(alert, **kwargs), alert.history, strict=True):
        if entry.get("area_geometry") is not None:
            geometry = entry["area_geometry"]
        if geometry is not None and not geometry.is_empty:
            polygons = tuple(cap.cap_polygons(geometry))
            what = "impact" if alert.reason == "impact" else "overflight"
            area = cap.CapArea(f"{alert.area.name}: {what} warning area", polygons)
            change = dataclasses.replace(change, areas=(area,))
        out.append(change)
    return out
