"""Alerts for a partner's protected areas, with their lifecycle.

Skeleton rules (deepened by the warnings issue): from the fused picture, an
area is threatened when the predicted impact point lies in it (``impact``:
territory or EEZ approximation) or the predicted ground path crosses it
(``overflight``: territory only).  A threat not yet alerted is *issued*; a
standing alert whose impact point moves by more than ``update_km`` or whose
crossing time moves by more than ``update_s`` is *updated*; one no longer
threatened is *cancelled*; one whose predicted time has passed is *ended*.
Each change is one entry in the alert's history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from pyproj import Geod

from mwx.geo import regions
from mwx.geo.regions import ProtectedArea

_GEOD = Geod(ellps="WGS84")


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

    def key(self) -> tuple[str, str, str, str]:
        return (self.track_id, self.area.kind, self.area.name, self.reason)


@dataclass(frozen=True)
class Threat:
    area: ProtectedArea
    reason: str
    impact_time: float
    impact_lat: float  # deg
    impact_lon: float  # deg
    crossing_time: float | None
    end_time: float


def threats(areas: tuple[ProtectedArea, ...], path_t, path_lat_deg, path_lon_deg, impact_time: float) -> list[Threat]:
    """Threats to ``areas`` from one predicted path (times Unix s, degrees) ending at impact."""
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


class AlertManager:
    """The alerts one partner raises for its own areas."""

    def __init__(
        self, partner: str, areas: tuple[ProtectedArea, ...], *, update_km: float = 10.0, update_s: float = 10.0
    ):
        self.partner = partner
        self.areas = tuple(a for a in areas if a.partner == partner)
        self.update_km = update_km
        self.update_s = update_s
        self.alerts: dict[tuple[str, str, str, str], Alert] = {}
        self._next = 1

    def evaluate(self, time: float, track_id: str, found: list[Threat]) -> None:
        """Bring the alerts of ``track_id`` up to date with its current threats at ``time``."""
        # A partner warns for its own areas only, whatever the caller hands in.
        current = {(track_id, t.area.kind, t.area.name, t.reason): t for t in found if t.area.partner == self.partner}
        for key, threat in current.items():
            alert = self.alerts.get(key)
            if alert is None or not alert.active:
                alert = Alert(f"{self.partner}-A{self._next:04d}", self.partner, threat.area, threat.reason, track_id)
                self._next += 1
                self.alerts[key] = alert
                self._change(alert, time, "issued", threat)
                continue
            moved = _GEOD.inv(alert.last_impact[1], alert.last_impact[0], threat.impact_lon, threat.impact_lat)[2] / 1e3
            shifted = (
                threat.crossing_time is not None
                and alert.last_crossing is not None
                and abs(threat.crossing_time - alert.last_crossing) > self.update_s
            )
            if moved > self.update_km or shifted:
                self._change(alert, time, "updated", threat)
        for key, alert in self.alerts.items():
            if key[0] == track_id and alert.active and key not in current:
                self._change(alert, time, "ended" if time >= alert.end_time else "cancelled", None)

    def close(self, time: float) -> None:
        """End every alert still standing at the end of the run."""
        for alert in self.alerts.values():
            if alert.active:
                self._change(alert, max(time, alert.end_time) if np.isfinite(alert.end_time) else time, "ended", None)

    @staticmethod
    def _change(alert: Alert, time: float, status: str, threat: Threat | None) -> None:
        entry: dict = {"time": time, "status": status}
        if threat is not None:
            entry.update(
                impact_point={"lat": threat.impact_lat, "lon": threat.impact_lon},
                impact_time=threat.impact_time,
                crossing_time=threat.crossing_time,
            )
            alert.last_impact = (threat.impact_lat, threat.impact_lon)
            alert.last_crossing = threat.crossing_time
            alert.end_time = threat.end_time
        alert.history.append(entry)
        if status in ("cancelled", "ended"):
            alert.active = False
