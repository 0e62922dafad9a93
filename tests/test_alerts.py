"""Tests of mwx.warn.alerts: threats from a predicted ground path and the alert lifecycle.

Paths are synthetic (times Unix s, lat/lon degrees); the expected areas come from
geography (where Aomori's coasts are, how far a point is from Japan), not from
the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from mwx.geo import regions
from mwx.warn.alerts import AlertManager, Threat, threats

GEOD = Geod(ellps="WGS84")
T0 = 1.7e9


@pytest.fixture(scope="module")
def areas():
    return regions.load_areas()


def area(areas, partner: str, kind: str):
    (found,) = [a for a in areas if a.partner == partner and a.kind == kind]
    return found


def straight_path(lat0, lon0, lat1, lon1, n=400, duration=1000.0):
    """A path linear in time, latitude and longitude (what threats() assumes between samples)."""
    t = T0 + np.linspace(0.0, duration, n)
    return t, np.linspace(lat0, lat1, n), np.linspace(lon0, lon1, n)


def summary(found):
    return sorted((t.area.partner, t.area.kind, t.reason) for t in found)


# ----------------------------------------------------------------- threats()
def test_path_over_aomori_into_the_pacific_is_one_overflight(areas):
    # Along 40.6° N (south of Mutsu Bay): Aomori's Sea of Japan coast is near 139.9° E
    # (Fukaura), its Pacific coast near 141.5° E (Hachinohe).  The path ends at 168° E,
    # over 2000 km east of Honshu and far from any partner's EEZ.
    t, lat, lon = straight_path(40.6, 128.5, 40.6, 168.0)
    assert GEOD.inv(141.5, 40.6, lon[-1], lat[-1])[2] > 2000e3
    found = threats(areas, t, lat, lon, float(t[-1]))
    assert summary(found) == [("JP", "territory", "overflight")]
    (threat,) = found
    assert t[0] < threat.crossing_time < threat.end_time < t[-1]
    assert threat.impact_time == t[-1]
    assert (threat.impact_lat, threat.impact_lon) == (lat[-1], lon[-1])
    # Entry over the west coast, exit over the east coast of Aomori.
    assert 139.6 < np.interp(threat.crossing_time, t, lon) < 140.3
    assert 141.1 < np.interp(threat.end_time, t, lon) < 141.9


def test_impact_in_the_sea_of_japan_off_honshu_threatens_the_jp_eez(areas):
    # Ends about 100 km west of Akita's coast (40° N, 139.9° E): inside 200 nmi of Japan,
    # far (> 600 km) from South Korea.
    end = (40.0, 138.7)
    offshore_km = GEOD.inv(139.9, 40.0, end[1], end[0])[2] / 1e3
    assert 80 < offshore_km < 120
    t, lat, lon = straight_path(40.0, 128.5, *end)
    found = threats(areas, t, lat, lon, float(t[-1]))
    assert summary(found) == [("JP", "eez", "impact")]
    (threat,) = found
    assert threat.crossing_time is None
    assert threat.end_time == threat.impact_time == t[-1]


def test_impact_in_korea_threatens_kr_territory_and_eez(areas):
    # From north of the DMZ to about 37° N, 127.5° E, inland in South Korea.
    t, lat, lon = straight_path(39.0, 125.7, 37.0, 127.5)
    found = threats(areas, t, lat, lon, float(t[-1]))
    impacts = {(x.area.partner, x.area.kind) for x in found if x.reason == "impact"}
    assert impacts == {("KR", "territory"), ("KR", "eez")}
    # Flying into the territory and ending there is an impact, not an overflight.
    assert not [x for x in found if x.reason == "overflight"]


def test_no_threat_from_an_empty_path_or_unknown_impact_time(areas):
    t, lat, lon = straight_path(39.0, 125.7, 37.0, 127.5)
    assert threats(areas, t[:0], lat[:0], lon[:0], float(t[-1])) == []
    assert threats(areas, t, lat, lon, float("nan")) == []


# ----------------------------------------------------------------- AlertManager
def destination(lat, lon, azimuth_deg, km):
    lon2, lat2, _ = GEOD.fwd(lon, lat, azimuth_deg, km * 1e3)
    return lat2, lon2


def impact_threat(a, lat, lon, impact_time):
    return Threat(a, "impact", impact_time, lat, lon, None, impact_time)


def statuses(alert):
    return [h["status"] for h in alert.history]


def test_lifecycle_issue_update_cancel(areas):
    eez = area(areas, "JP", "eez")
    mgr = AlertManager("JP", areas)
    lat0, lon0 = 40.0, 138.7
    impact_t = T0 + 600.0

    mgr.evaluate(T0 + 100, "JP-F0001", [impact_threat(eez, lat0, lon0, impact_t)])
    assert len(mgr.alerts) == 1
    (alert,) = mgr.alerts.values()
    assert alert.active and alert.partner == "JP" and alert.reason == "impact"
    assert alert.track_id == "JP-F0001"
    assert statuses(alert) == ["issued"]
    assert alert.history[0]["time"] == T0 + 100
    assert alert.history[0]["impact_point"] == {"lat": lat0, "lon": lon0}
    assert alert.history[0]["impact_time"] == impact_t

    # 1 km is within the noise of a prediction: no new entry.
    mgr.evaluate(T0 + 102, "JP-F0001", [impact_threat(eez, *destination(lat0, lon0, 90, 1.0), impact_t)])
    assert statuses(alert) == ["issued"]

    # 15 km is news.
    moved = destination(lat0, lon0, 90, 15.0)
    mgr.evaluate(T0 + 104, "JP-F0001", [impact_threat(eez, *moved, impact_t)])
    assert statuses(alert) == ["issued", "updated"]
    assert alert.history[-1]["impact_point"] == {"lat": moved[0], "lon": moved[1]}
    assert alert.history[-1]["time"] == T0 + 104

    # Threat gone before its time: cancelled.
    mgr.evaluate(T0 + 106, "JP-F0001", [])
    assert statuses(alert) == ["issued", "updated", "cancelled"]
    assert not alert.active
    assert alert.history[-1]["time"] == T0 + 106

    # Nothing more happens to a cancelled alert, and close() leaves it alone.
    mgr.evaluate(T0 + 108, "JP-F0001", [])
    mgr.close(T0 + 2000)
    assert statuses(alert) == ["issued", "updated", "cancelled"]

    # The threat coming back raises a new alert.
    mgr.evaluate(T0 + 110, "JP-F0001", [impact_threat(eez, *moved, impact_t)])
    assert sum(a.active for a in mgr.alerts.values()) == 1
    (again,) = [a for a in mgr.alerts.values() if a.active]
    assert again.alert_id != alert.alert_id
    assert statuses(again) == ["issued"]


def test_slow_drift_is_reported_once_it_adds_up(areas):
    # The update rule compares with the last *announced* impact point, so a prediction
    # drifting 1 km per evaluation is updated once the drift passes 10 km.
    eez = area(areas, "JP", "eez")
    mgr = AlertManager("JP", areas)
    lat, lon = 40.0, 138.7
    mgr.evaluate(T0, "JP-F0001", [impact_threat(eez, lat, lon, T0 + 600)])
    (alert,) = mgr.alerts.values()
    for k in range(1, 10):
        mgr.evaluate(T0 + k, "JP-F0001", [impact_threat(eez, *destination(lat, lon, 0, 1.0 * k), T0 + 600)])
    assert statuses(alert) == ["issued"]
    mgr.evaluate(T0 + 11, "JP-F0001", [impact_threat(eez, *destination(lat, lon, 0, 11.0), T0 + 600)])
    assert statuses(alert) == ["issued", "updated"]


def test_overflight_crossing_time_shift_updates(areas):
    territory = area(areas, "JP", "territory")
    mgr = AlertManager("JP", areas)

    def over(crossing):
        return Threat(territory, "overflight", T0 + 900, 40.6, 168.0, crossing, crossing + 40)

    mgr.evaluate(T0 + 100, "JP-F0001", [over(T0 + 290)])
    (alert,) = mgr.alerts.values()
    mgr.evaluate(T0 + 102, "JP-F0001", [over(T0 + 293)])  # 3 s: no news
    assert statuses(alert) == ["issued"]
    mgr.evaluate(T0 + 104, "JP-F0001", [over(T0 + 310)])  # 20 s: news
    assert statuses(alert) == ["issued", "updated"]
    assert alert.history[-1]["crossing_time"] == T0 + 310


def test_threat_gone_after_its_time_is_ended(areas):
    eez = area(areas, "JP", "eez")
    mgr = AlertManager("JP", areas)
    mgr.evaluate(T0 + 100, "JP-F0001", [impact_threat(eez, 40.0, 138.7, T0 + 200)])
    mgr.evaluate(T0 + 250, "JP-F0001", [])
    (alert,) = mgr.alerts.values()
    assert statuses(alert) == ["issued", "ended"]
    assert not alert.active
    assert alert.history[-1]["time"] == T0 + 250


def test_close_ends_standing_alerts_no_earlier_than_their_end(areas):
    eez = area(areas, "JP", "eez")
    territory = area(areas, "JP", "territory")
    mgr = AlertManager("JP", areas)
    mgr.evaluate(T0 + 100, "JP-F0001", [impact_threat(eez, 40.0, 138.7, T0 + 600)])
    mgr.evaluate(T0 + 100, "JP-F0002", [Threat(territory, "overflight", T0 + 900, 40.6, 168.0, T0 + 290, T0 + 330)])
    assert len(mgr.alerts) == 2
    mgr.close(T0 + 400)
    by_track = {a.track_id: a for a in mgr.alerts.values()}
    for alert in by_track.values():
        assert statuses(alert) == ["issued", "ended"]
        assert not alert.active
    assert by_track["JP-F0001"].history[-1]["time"] == T0 + 600  # impact still ahead at close
    assert by_track["JP-F0002"].history[-1]["time"] == T0 + 400  # overflight already over


def test_alerts_of_one_track_are_not_touched_by_another(areas):
    eez = area(areas, "JP", "eez")
    mgr = AlertManager("JP", areas)
    mgr.evaluate(T0 + 100, "JP-F0001", [impact_threat(eez, 40.0, 138.7, T0 + 600)])
    mgr.evaluate(T0 + 102, "JP-F0002", [])
    (alert,) = mgr.alerts.values()
    assert statuses(alert) == ["issued"] and alert.active


def test_manager_keeps_only_its_own_partner_areas(areas):
    jp = AlertManager("JP", areas)
    assert jp.areas
    assert {a.partner for a in jp.areas} == {"JP"}
    assert {(a.kind, a.name) for a in jp.areas} == {(a.kind, a.name) for a in areas if a.partner == "JP"}
    # The node's flow: threats computed against the manager's areas.  A flight into
    # Korea threatens nothing of Japan's, so the JP manager raises nothing.
    t, lat, lon = straight_path(39.0, 125.7, 37.0, 127.5)
    found = threats(jp.areas, t, lat, lon, float(t[-1]))
    assert found == []
    jp.evaluate(T0 + 100, "JP-F0001", found)
    assert jp.alerts == {}
    # The KR manager, given the same path, does raise.
    kr = AlertManager("KR", areas)
    kr.evaluate(T0 + 100, "KR-F0001", threats(kr.areas, t, lat, lon, float(t[-1])))
    assert {(a.area.partner, a.area.kind) for a in kr.alerts.values()} == {("KR", "territory"), ("KR", "eez")}


def test_manager_never_raises_for_another_partners_area(areas):
    jp = AlertManager("JP", areas)
    t, lat, lon = straight_path(39.0, 125.7, 37.0, 127.5)
    found = threats(areas, t, lat, lon, float(t[-1]))  # all partners' areas
    assert {x.area.partner for x in found} == {"KR"}
    jp.evaluate(T0 + 100, "JP-F0001", found)
    assert jp.alerts == {}
