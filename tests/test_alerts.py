"""Tests of mwx.warn.alerts and mwx.warn.rules: threats, levels, alert areas and the alert lifecycle.

Paths and impact distributions are synthetic (times Unix s, lat/lon degrees); the expected
areas come from geography (where Aomori's coasts are, how far a point is from Japan), and the
expected probabilities from how the samples were placed, not from the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from pyproj import Geod

from mwx import records
from mwx.assess.distribution import ImpactDistribution
from mwx.exchange import messages
from mwx.geo import regions, wgs84
from mwx.warn import cap, rules
from mwx.warn.alerts import END_GRACE_S, AlertManager, Threat, alert_message, alert_record, cap_changes, threats
from mwx.warn.areas import MARGIN_KM, distance_beyond_km, ellipse_polygon

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


LAUNCH = "JP-E001"


def test_lifecycle_issue_update_cancel(areas):
    eez = area(areas, "JP", "eez")
    mgr = AlertManager("JP", areas)
    lat0, lon0 = 40.0, 138.7
    impact_t = T0 + 600.0

    mgr.evaluate(T0 + 100, LAUNCH, {"JP-F0001": [impact_threat(eez, lat0, lon0, impact_t)]})
    (alert,) = mgr.alerts.values()
    assert alert.active and alert.partner == "JP" and alert.reason == "impact" and alert.launch_id == LAUNCH
    assert alert.track_id == "JP-F0001"
    assert statuses(alert) == ["issued"] and alert.history[0]["why"] == ["level"]
    assert alert.history[0]["time"] == T0 + 100
    assert alert.history[0]["impact_point"] == {"lat": lat0, "lon": lon0}
    assert alert.history[0]["impact_time"] == impact_t

    # 15 km further on, the same time: the point moved, but nothing the people in the area act on
    # (the area is the EEZ here; an ellipse's area is tested below).
    moved = destination(lat0, lon0, 90, 15.0)
    mgr.evaluate(T0 + 104, LAUNCH, {"JP-F0001": [impact_threat(eez, *moved, impact_t)]})
    assert statuses(alert) == ["issued"]
    # The impact 60 s later than announced, 490 s ahead: more than a tenth of the time to go, news.
    mgr.evaluate(T0 + 110, LAUNCH, {"JP-F0001": [impact_threat(eez, *moved, impact_t + 60.0)]})
    assert statuses(alert) == ["issued", "updated"] and alert.history[-1]["why"] == ["time"]
    assert alert.history[-1]["impact_time"] == impact_t + 60.0

    # Threat gone before its time: withdrawn once assessments in a row have said so for a tenth of the
    # time still to go (the impact 540 s ahead: up to a minute).
    mgr.evaluate(T0 + 115, LAUNCH, {"JP-F0001": []})
    mgr.evaluate(T0 + 120, LAUNCH, {"JP-F0001": []})
    assert statuses(alert) == ["issued", "updated"] and alert.active
    mgr.evaluate(T0 + 160, LAUNCH, {"JP-F0001": []})  # 45 s of it, a tenth of the 500 s to go is 50 s
    assert statuses(alert) == ["issued", "updated"] and alert.active
    mgr.evaluate(T0 + 170, LAUNCH, {"JP-F0001": []})  # first to advisory, on the last prediction ...
    assert statuses(alert) == ["issued", "updated", "updated"] and alert.active
    assert alert.history[-1]["level"] == "advisory" and alert.history[-1]["impact_time"] == impact_t + 60.0
    mgr.evaluate(T0 + 175, LAUNCH, {"JP-F0001": []})
    mgr.evaluate(T0 + 230, LAUNCH, {"JP-F0001": []})  # ... then withdrawn after a patience of its own: three
    assert statuses(alert) == ["issued", "updated", "updated"] and alert.active  # tenths of 480 s, up to 60 s
    mgr.evaluate(T0 + 235, LAUNCH, {"JP-F0001": []})
    assert statuses(alert) == ["issued", "updated", "updated", "cancelled"] and not alert.active
    assert alert.history[-1]["time"] == T0 + 235

    # Nothing more happens to a cancelled alert, and close() leaves it alone.
    mgr.evaluate(T0 + 240, LAUNCH, {"JP-F0001": []})
    mgr.close(T0 + 2000)
    assert statuses(alert) == ["issued", "updated", "updated", "cancelled"]

    # The threat coming back raises a new alert.
    mgr.evaluate(T0 + 130, LAUNCH, {"JP-F0001": [impact_threat(eez, *moved, impact_t)]})
    (again,) = [a for a in mgr.alerts.values() if a.active]
    assert again.alert_id != alert.alert_id and statuses(again) == ["issued"]


def test_one_alert_per_launch_and_area_whatever_holds_its_objects(areas):
    eez, territory = area(areas, "JP", "eez"), area(areas, "JP", "territory")
    mgr = AlertManager("JP", areas)
    # The body overflies Japan; its stage falls in the EEZ; a fusion split holds the body twice; a later
    # system (the body renumbered) says the same: one alert per area, for the one launch.
    body = Threat(territory, "overflight", T0 + 900, 40.6, 168.0, T0 + 290, T0 + 330, probability=1.0)
    stage = Threat(eez, "impact", T0 + 500, 40.2, 138.0, None, T0 + 510, probability=0.9)
    mgr.evaluate(T0, LAUNCH, {"JP-F0001": [body], "JP-F0002": [stage], "JP-F0003": [body]})
    mgr.evaluate(T0 + 5, LAUNCH, {"JP-F0001": [body], "JP-F0004": [body], "JP-F0002": [stage]})
    kinds = sorted((a.area.kind, a.reason) for a in mgr.alerts.values())
    assert kinds == [("eez", "impact"), ("territory", "overflight")]
    # Another launch (a salvo's second missile) on the same path has alerts of its own.
    mgr.evaluate(T0 + 5, "JP-E002", {"JP-F0005": [body]})
    assert len(mgr.alerts) == 3
    # A stage that would fall on land makes the territory's alert an impact warning: same alert, why "reason".
    (land,) = [a for a in mgr.alerts.values() if a.area.kind == "territory" and a.launch_id == LAUNCH]
    on_land = Threat(territory, "impact", T0 + 500, 39.7, 140.4, None, T0 + 510, probability=0.3)
    mgr.evaluate(T0 + 10, LAUNCH, {"JP-F0002": [stage, on_land], "JP-F0001": [body]})
    assert statuses(land) == ["issued", "updated"] and land.history[-1]["why"] == ["reason", "time"]
    assert land.reason == "impact" and land.track_id == "JP-F0002"
    assert len([a for a in mgr.alerts.values() if a.launch_id == LAUNCH]) == 2


def test_overflight_crossing_time_shift_updates(areas):
    territory = area(areas, "JP", "territory")
    mgr = AlertManager("JP", areas)

    def over(crossing):
        return Threat(territory, "overflight", T0 + 900, 40.6, 168.0, crossing, crossing + 40)

    mgr.evaluate(T0 + 100, LAUNCH, {"JP-F0001": [over(T0 + 290)]})
    (alert,) = mgr.alerts.values()
    mgr.evaluate(T0 + 102, LAUNCH, {"JP-F0001": [over(T0 + 303)]})  # 13 s: no news
    assert statuses(alert) == ["issued"]
    mgr.evaluate(T0 + 104, LAUNCH, {"JP-F0001": [over(T0 + 310)]})  # 20 s, a tenth is 19 s: news
    assert statuses(alert) == ["issued", "updated"]
    assert alert.history[-1]["crossing_time"] == T0 + 310


def test_threat_gone_after_its_time_is_ended(areas):
    eez = area(areas, "JP", "eez")
    mgr = AlertManager("JP", areas)
    mgr.evaluate(T0 + 100, LAUNCH, {"JP-F0001": [impact_threat(eez, 40.0, 138.7, T0 + 200)]})
    mgr.evaluate(T0 + 250, LAUNCH, {"JP-F0001": []})
    mgr.evaluate(T0 + 255, LAUNCH, {"JP-F0001": []})
    (alert,) = mgr.alerts.values()
    assert statuses(alert) == ["issued", "ended"] and not alert.active


def test_close_ends_standing_alerts_no_earlier_than_their_end(areas):
    eez = area(areas, "JP", "eez")
    territory = area(areas, "JP", "territory")
    mgr = AlertManager("JP", areas)
    mgr.evaluate(T0 + 100, LAUNCH, {"JP-F0001": [impact_threat(eez, 40.0, 138.7, T0 + 600)]})
    mgr.evaluate(T0 + 100, "JP-E002", {"JP-F0002": [Threat(territory, "overflight", T0 + 900, 40.6, 168.0, T0 + 290,
                                                           T0 + 330)]})  # fmt: skip
    assert len(mgr.alerts) == 2
    mgr.close(T0 + 400)
    by_track = {a.track_id: a for a in mgr.alerts.values()}
    for alert in by_track.values():
        assert statuses(alert) == ["issued", "ended"]
        assert not alert.active
    assert by_track["JP-F0001"].history[-1]["time"] == T0 + 600  # impact still ahead at close
    assert by_track["JP-F0002"].history[-1]["time"] == T0 + 400  # overflight already over


def test_alerts_of_one_launch_are_not_touched_by_another(areas):
    eez = area(areas, "JP", "eez")
    mgr = AlertManager("JP", areas)
    mgr.evaluate(T0 + 100, LAUNCH, {"JP-F0001": [impact_threat(eez, 40.0, 138.7, T0 + 600)]})
    mgr.evaluate(T0 + 102, "JP-E002", {"JP-F0002": []})
    mgr.evaluate(T0 + 104, "JP-E002", {"JP-F0002": []})
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
    jp.evaluate(T0 + 100, LAUNCH, {"JP-F0001": found})
    assert jp.alerts == {}
    # The KR manager, given the same path, does raise.
    kr = AlertManager("KR", areas)
    kr.evaluate(T0 + 100, "KR-E001", {"KR-F0001": threats(kr.areas, t, lat, lon, float(t[-1]))})
    assert {(a.area.partner, a.area.kind) for a in kr.alerts.values()} == {("KR", "territory"), ("KR", "eez")}


def test_manager_never_raises_for_another_partners_area(areas):
    jp = AlertManager("JP", areas)
    t, lat, lon = straight_path(39.0, 125.7, 37.0, 127.5)
    found = threats(areas, t, lat, lon, float(t[-1]))  # all partners' areas
    assert {x.area.partner for x in found} == {"KR"}
    jp.evaluate(T0 + 100, LAUNCH, {"JP-F0001": found})
    assert jp.alerts == {}


# ----------------------------------------------------------------- levels and thresholds
def scored(a, p, *, reason="impact", crossing=None, end=T0 + 600, geometry=None, lat=40.0, lon=138.7):
    return Threat(a, reason, T0 + 600, lat, lon, crossing, end, probability=p, geometry=geometry)


def test_thresholds_favour_warning_over_missing() -> None:
    # A missed warning costs more than a false one: warn below even odds, lowest for land.
    for (reason, kind), rule in rules.THRESHOLDS.items():
        assert 0.0 < rule.advisory < rule.warning < 0.5, (reason, kind)
    assert rules.THRESHOLDS["impact", "territory"].warning < rules.THRESHOLDS["impact", "eez"].warning
    assert rules.level_for("impact", "territory", 0.05, False) == "warning"
    assert rules.level_for("impact", "territory", 0.03, False) is None
    assert rules.level_for("impact", "territory", 0.03, True) == "advisory"
    assert rules.level_for("impact", "eez", None, False) == "warning"  # a certain threat
    assert rules.level_for("overflight", "eez", 1.0, False) is None  # no such rule


def test_levels_issue_at_warning_keep_as_advisory_then_cancel(areas):
    eez = area(areas, "JP", "eez")
    changes = []
    mgr = AlertManager("JP", areas, on_change=lambda alert, entry: changes.append((alert.alert_id, entry)))
    # The impact a minute ahead: the downgrade's patience is two assessments (a tenth of the time to go is less).
    near = lambda p: Threat(eez, "impact", T0 + 60, 40.0, 138.7, None, T0 + 70, probability=p)  # noqa: E731
    one = lambda t, p: mgr.evaluate(t, LAUNCH, {"JP-F0001": [near(p)]})  # noqa: E731
    one(T0, 0.15)  # below the EEZ warning threshold (0.2): nothing
    assert mgr.alerts == {} and changes == []
    one(T0 + 5, 0.25)
    (alert,) = mgr.alerts.values()
    assert statuses(alert) == ["issued"] and alert.history[0]["level"] == "warning"
    assert alert.history[0]["probability"] == 0.25
    one(T0 + 10, 0.15)  # between the thresholds once: not yet
    assert statuses(alert) == ["issued"]
    one(T0 + 15, 0.12)  # twice in a row: kept, as advisory
    assert statuses(alert) == ["issued", "updated"] and alert.history[-1]["level"] == "advisory"
    assert alert.history[-1]["why"] == ["level"]
    one(T0 + 20, 0.11)  # same level, small change: no news
    assert len(alert.history) == 2
    one(T0 + 25, 0.05)  # below the advisory threshold ...
    one(T0 + 30, 0.04)  # ... twice, but the withdrawal waits three tenths of the time to go (9 s at T0 + 30)
    assert statuses(alert) == ["issued", "updated"] and alert.active
    one(T0 + 35, 0.04)  # 10 s of it, 7.5 s needed: withdrawn
    assert statuses(alert) == ["issued", "updated", "cancelled"] and not alert.active
    # Every change went through the hook, once, in order, numbered.
    assert [e for _, e in changes] == alert.history
    assert [e["change"] for e in alert.history] == [1, 2, 3]


def test_a_probability_hovering_at_a_threshold_does_not_flip_the_level(areas):
    # Above and below the warning threshold, assessment after assessment: the public message stays a
    # warning (a lower level needs two assessments in a row); a real rise goes out at once.
    eez = area(areas, "JP", "eez")
    mgr = AlertManager("JP", areas)
    for k, p in enumerate([0.25, 0.15, 0.22, 0.16, 0.21, 0.18, 0.3, 0.12, 0.5]):
        mgr.evaluate(T0 + 5 * k, LAUNCH, {"JP-F0001": [scored(eez, p)]})
    (alert,) = mgr.alerts.values()
    assert statuses(alert) == ["issued"] and alert.level_changes() == 0
    # A large change of probability at the same level is no news either.
    mgr.evaluate(T0 + 50, LAUNCH, {"JP-F0001": [scored(eez, 0.95)]})
    assert statuses(alert) == ["issued"]


def test_a_warning_is_withdrawn_by_way_of_the_advisory_and_can_come_back_as_the_same_alert(areas):
    """A grazing path's probability can drop from above the warning threshold to below the advisory's as
    the track settles, and rise again: the warning steps down to advisory first and is withdrawn only
    after a second patience of its own, so a threat that returns meanwhile is the same alert again."""
    eez = area(areas, "JP", "eez")
    for comes_back in (True, False):
        mgr = AlertManager("JP", areas)
        mgr.evaluate(T0, LAUNCH, {"JP-F0001": [scored(eez, 0.3)]})
        (alert,) = mgr.alerts.values()
        t = T0
        while alert.level == "warning" and t < T0 + 300:  # far below the advisory threshold, again and again
            t += 5.0
            mgr.evaluate(t, LAUNCH, {"JP-F0001": [scored(eez, 0.01)]})
        assert statuses(alert) == ["issued", "updated"] and alert.level == "advisory" and alert.active
        assert t - T0 >= 0.1 * (T0 + 600 - t)  # the downgrade's patience, a tenth of the time still to go
        stepped = t
        if comes_back:
            mgr.evaluate(t + 30, LAUNCH, {"JP-F0001": [scored(eez, 0.3)]})
            assert len(mgr.alerts) == 1 and statuses(alert) == ["issued", "updated", "updated"]
            assert alert.level == "warning" and alert.level_changes() == 2
            continue
        while alert.active and t < T0 + 300:
            t += 5.0
            mgr.evaluate(t, LAUNCH, {"JP-F0001": [scored(eez, 0.01)]})
        assert statuses(alert) == ["issued", "updated", "cancelled"]
        assert t - stepped >= 0.1 * (T0 + 600 - t)  # a patience of its own


def test_a_threat_back_soon_after_leaving_the_band_minutes_ahead_is_not_withdrawn_in_between(areas):
    """Coverage flight 167 (a lofted ICBM's path grazing Honshu, the crossing about 4 minutes ahead): the
    overflight probability left the band for 25 s after the step down to advisory and came back 10 s
    later.  Withdrawn at a tenth of the time still to go, it had become a second alert; now the alert
    steps back up to warning (two level changes, one alert)."""
    territory = area(areas, "JP", "territory")
    mgr = AlertManager("JP", areas)
    crossing = T0 + 260.0

    def assess(t: float, p: float) -> None:
        found = [Threat(territory, "overflight", T0 + 900, 40.0, 140.0, crossing, crossing + 20, probability=p)]
        mgr.evaluate(t, LAUNCH, {"JP-F0001": [f for f in found if p >= 0.1]})
        mgr.review(t, lost=set())

    assess(T0, 0.6)
    (alert,) = mgr.alerts.values()
    t = T0
    while alert.level == "warning":
        t += 5.0
        assess(t, 0.0)
    stepped = t  # advisory now
    while t < stepped + 35.0:  # out of the band for 35 s more (25 s outlasted a tenth of the time to go) ...
        t += 5.0
        assess(t, 0.0)
    assess(t + 5.0, 0.6)  # ... and back
    assert len(mgr.alerts) == 1, [statuses(a) for a in mgr.alerts.values()]
    assert statuses(alert) == ["issued", "updated", "updated"] and alert.level == "warning"
    assert alert.level_changes() == 2


def test_an_area_that_moves_materially_is_news(areas):
    eez = area(areas, "JP", "eez")
    mgr = AlertManager("JP", areas)

    def disc(lat, lon, km):
        return ellipse_polygon(lat, lon, km, km, 0.0)

    mgr.evaluate(T0, LAUNCH, {"JP-F0001": [scored(eez, 0.9, geometry=disc(40.0, 138.7, 100.0))]})
    (alert,) = mgr.alerts.values()
    mgr.evaluate(T0 + 5, LAUNCH, {"JP-F0001": [scored(eez, 0.9, geometry=disc(40.0, 138.7, 95.0))]})  # 5 km: no
    assert statuses(alert) == ["issued"]
    smaller = disc(40.0, 138.7, 50.0)
    mgr.evaluate(T0 + 10, LAUNCH, {"JP-F0001": [scored(eez, 0.9, geometry=smaller)]})  # shrunk by 50 km: news
    assert statuses(alert) == ["issued", "updated"] and alert.history[-1]["why"] == ["area"]
    assert alert.history[-1]["area_geometry"] is smaller and alert.geometry is smaller


# ----------------------------------------------------------------- objects lost, launches merged
def test_an_alert_is_lost_only_when_all_its_objects_are(areas):
    eez = area(areas, "JP", "eez")
    mgr = AlertManager("JP", areas)
    mgr.evaluate(T0, LAUNCH, {"JP-F0001": [scored(eez, 0.9)], "JP-F0002": [scored(eez, 0.9)]})
    (alert,) = mgr.alerts.values()
    mgr.review(T0 + 20, lost={"JP-F0001"})  # the stage's track is lost, the body's is not
    assert statuses(alert) == ["issued"]
    mgr.review(T0 + 25, lost={"JP-F0001", "JP-F0002"})
    mgr.review(T0 + 30, lost={"JP-F0001", "JP-F0002"})
    assert statuses(alert) == ["issued", "track-lost"] and alert.active
    message = alert_message(alert, alert.history[-1])
    assert message.status == "track-lost" and message.impact_point == messages.GeoPoint(lat=40.0, lon=138.7)
    mgr.review(T0 + 600, lost={"JP-F0001", "JP-F0002"})  # the predicted time has passed ...
    assert statuses(alert) == ["issued", "track-lost"]
    mgr.review(T0 + 600 + END_GRACE_S, lost={"JP-F0001", "JP-F0002"})  # ... and the grace: all-clear
    assert statuses(alert) == ["issued", "track-lost", "ended"] and not alert.active
    assert alert.history[-1]["time"] == T0 + 600 + END_GRACE_S


def test_a_track_that_ends_in_its_impact_window_has_landed_not_been_lost(areas):
    """Found in the salvo: a track's covariance wide enough that its impact time's σ is 10 s, deleted when it
    met the ground 5 s before its mean impact time, told partners "track lost" at the impact itself."""
    eez = area(areas, "JP", "eez")
    landing = Threat(eez, "impact", T0 + 600, 40.0, 138.7, None, T0 + 620, impact_time_sigma=10.0)
    for lost_at, told in ((T0 + 595, ["issued"]), (T0 + 570, ["issued", "track-lost"])):
        mgr = AlertManager("JP", areas)
        mgr.evaluate(T0, LAUNCH, {"JP-F0001": [landing]})
        (alert,) = mgr.alerts.values()
        mgr.review(lost_at, lost={"JP-F0001"})  # in the window (600 - 2 x 10 s on), or 10 s before it
        assert statuses(alert) == told, lost_at - T0
        mgr.review(T0 + 620 + END_GRACE_S, lost={"JP-F0001"})  # either way it stands to its end and the grace
        assert statuses(alert) == [*told, "ended"] and alert.history[-1]["time"] == T0 + 620 + END_GRACE_S


def test_a_launch_that_comes_back_updates_its_alert(areas):
    eez = area(areas, "JP", "eez")
    mgr = AlertManager("JP", areas)
    mgr.evaluate(T0, LAUNCH, {"JP-F0001": [scored(eez, 0.9)]})
    mgr.review(T0 + 20, lost={"JP-F0001"})
    mgr.evaluate(T0 + 40, LAUNCH, {"JP-F0007": [scored(eez, 0.9)]})  # renumbered: the same launch
    (alert,) = mgr.alerts.values()
    assert statuses(alert) == ["issued", "track-lost", "updated"] and not alert.lost
    assert alert.history[-1]["why"] == ["regained"] and alert.history[-1]["track_id"] == "JP-F0007"


def test_a_system_merged_into_another_leaves_its_word_to_it(areas):
    """Found in a chaos run: JP's reports held back, KR's track split in two; the half that went stale kept its
    early prediction (impact ending at T0 + 360) after the fusion merged it into the other, and the warning ended
    there, not at the merged track's later, better prediction (T0 + 352)."""
    eez = area(areas, "JP", "eez")
    mgr = AlertManager("JP", areas)
    mgr.evaluate(T0 + 190, LAUNCH, {"JP-F0001": [impact_threat(eez, 40.0, 138.7, T0 + 360)]})
    mgr.review(T0 + 195, lost={"JP-F0001"})
    mgr.evaluate(T0 + 200, LAUNCH, {"JP-F0003": [impact_threat(eez, 40.0, 138.7, T0 + 359)]})
    (alert,) = mgr.alerts.values()
    assert set(alert.contributions) == {("JP-F0001", "impact"), ("JP-F0003", "impact")}
    # Kept apart (a stage lost, the body held), the lost word stands: the all-clear waits for its end.
    mgr.review(T0 + 205, lost={"JP-F0001"})
    assert alert.end_time == T0 + 360
    # Merged (merges of merges followed): one object, whose word is the survivor's.
    mgr.review(T0 + 255, lost=set(), merged={"JP-F0001": "JP-F0002", "JP-F0002": "JP-F0003"})
    assert set(alert.contributions) == {("JP-F0003", "impact")} and alert.end_time == T0 + 359
    mgr.evaluate(T0 + 345, LAUNCH, {"JP-F0003": [impact_threat(eez, 40.0, 138.7, T0 + 352)]})
    mgr.close(T0 + 351)
    assert statuses(alert) == ["issued", "track-lost", "updated", "ended"] and alert.history[-1]["time"] == T0 + 352
    # A merged system's word the survivor lacks becomes the survivor's, until the survivor says otherwise.
    mgr = AlertManager("JP", areas)
    mgr.evaluate(T0 + 190, LAUNCH, {"JP-F0001": [impact_threat(eez, 40.0, 138.7, T0 + 360)]})
    mgr.review(T0 + 195, lost={"JP-F0001"})
    mgr.review(T0 + 200, lost=set(), merged={"JP-F0001": "JP-F0004"})
    (alert,) = mgr.alerts.values()
    (word,) = alert.contributions.values()
    assert (word.system_id, word.lost, word.threat.end_time) == ("JP-F0004", False, T0 + 360)
    assert statuses(alert) == ["issued", "track-lost"]


def test_alerts_follow_a_merged_launch_and_duplicates_are_cancelled(areas):
    eez = area(areas, "JP", "eez")
    territory = area(areas, "JP", "territory")
    mgr = AlertManager("JP", areas)
    mgr.evaluate(T0, LAUNCH, {"JP-F0001": [scored(eez, 0.9)]})
    mgr.evaluate(T0, "JP-E002", {"JP-F0002": [scored(eez, 0.9), scored(territory, 0.2)]})
    by = {(a.launch_id, a.area.kind): a for a in mgr.alerts.values()}
    first, duplicate, moved = by[LAUNCH, "eez"], by["JP-E002", "eez"], by["JP-E002", "territory"]
    mgr.transfer(T0 + 5, {"JP-E002": LAUNCH})
    assert statuses(duplicate) == ["issued", "cancelled"] and duplicate.history[-1]["why"] == ["merged"]
    assert duplicate.history[-1]["superseded_by"] == first.alert_id
    assert moved.launch_id == LAUNCH and statuses(moved) == ["issued"]
    mgr.evaluate(T0 + 10, LAUNCH, {"JP-F0001": [scored(eez, 0.9), scored(territory, 0.2)]})
    assert statuses(moved) == ["issued"] and statuses(first) == ["issued"]


def test_an_overflight_that_has_passed_ends_rather_than_cancels(areas):
    territory = area(areas, "JP", "territory")
    mgr = AlertManager("JP", areas)
    over = scored(territory, 1.0, reason="overflight", crossing=T0 + 290, end=T0 + 330)
    mgr.evaluate(T0 + 100, LAUNCH, {"JP-F0001": [over]})
    mgr.evaluate(T0 + 300, LAUNCH, {"JP-F0001": []})  # over the area and no longer threatening it: it has passed
    mgr.evaluate(T0 + 305, LAUNCH, {"JP-F0001": []})
    (alert,) = mgr.alerts.values()
    assert statuses(alert) == ["issued"]  # not withdrawn: its all-clear waits for the exit and the grace
    mgr.review(T0 + 330 + END_GRACE_S, lost=set())
    assert statuses(alert) == ["issued", "ended"]


# ----------------------------------------------------------------- messages and CAP
def test_alert_message_of_each_change(areas):
    eez = area(areas, "JP", "eez")
    mgr = AlertManager("JP", areas)
    mgr.evaluate(T0, LAUNCH, {"JP-F0001": [scored(eez, 0.9, lon=181.0)]})
    mgr.evaluate(T0 + 5, LAUNCH, {"JP-F0001": []})
    mgr.evaluate(T0 + 65, LAUNCH, {"JP-F0001": []})  # advisory after the patience (a minute, 600 s ahead)
    mgr.evaluate(T0 + 70, LAUNCH, {"JP-F0001": []})
    mgr.evaluate(T0 + 130, LAUNCH, {"JP-F0001": []})  # withdrawn after a patience of its own
    (alert,) = mgr.alerts.values()
    issued, advisory, cancelled = (alert_message(alert, e) for e in alert.history)
    for message in (issued, advisory, cancelled):
        messages.validate(message)
        assert messages.decode_message(messages.encode(message), "alert") == message
    assert issued.status == "issued" and issued.probability == 0.9 and issued.area.kind == "eez"
    assert issued.impact_point.lon == pytest.approx(-179.0)  # wrapped to [-180, 180]
    assert issued.impact_time == T0 + 600 and issued.sender == "JP" and issued.track_id == "JP-F0001"
    assert issued.launch_id == LAUNCH and issued.why == ["level"]
    assert advisory.status == "updated" and advisory.level == "advisory" and advisory.why == ["level"]
    assert advisory.impact_point == issued.impact_point and advisory.probability is None
    assert cancelled.status == "cancelled" and cancelled.impact_point is None and cancelled.probability is None


def test_cap_changes_carry_each_changes_alert_area(areas):
    eez = area(areas, "JP", "eez")
    mgr = AlertManager("JP", areas)
    big, small = ellipse_polygon(40.0, 138.7, 100.0, 60.0, 30.0), ellipse_polygon(40.0, 138.7, 30.0, 20.0, 30.0)
    mgr.evaluate(T0, LAUNCH, {"JP-F0001": [scored(eez, 0.9, geometry=big)]})
    mgr.evaluate(T0 + 5, LAUNCH, {"JP-F0001": [scored(eez, 0.9, geometry=small)]})
    mgr.evaluate(T0 + 10, LAUNCH, {"JP-F0001": []})
    mgr.evaluate(T0 + 70, LAUNCH, {"JP-F0001": []})  # advisory after the patience (a minute, 600 s ahead)
    mgr.evaluate(T0 + 75, LAUNCH, {"JP-F0001": []})
    mgr.evaluate(T0 + 140, LAUNCH, {"JP-F0001": []})  # withdrawn after a patience of its own
    (alert,) = mgr.alerts.values()
    changes = cap_changes(alert)
    assert [c.lifecycle for c in changes] == ["issued", "updated", "updated", "cancelled"]
    covers = []
    for change, geometry in zip(changes, (big, small, small, small), strict=True):
        (cap_area,) = change.areas
        rings = [
            shapely.Polygon([(float(p.split(",")[1]), float(p.split(",")[0])) for p in ring.split(" ")])
            for ring in cap_area.polygons
        ]
        covers.append(shapely.union_all(rings))
        assert covers[-1].covers(geometry)
    assert covers[1].area < 0.5 * covers[0].area  # the CAP area shrinks with the alert's
    assert cap.cap_xml(changes[0]) != cap.cap_xml(cap.cap_alerts_from_history(alert)[0])
    # The alert's record (alerts.json) carries the same areas, as (lon, lat) rings, and decodes as its type.
    record = alert_record(alert)
    assert [c.status for c in record.history] == ["issued", "updated", "updated", "cancelled"]
    assert (record.alert_id, record.partner, record.area.kind, record.truth_id) == (alert.alert_id, "JP", "eez", None)
    for change, cover in zip(record.history, covers, strict=True):
        assert change.alert_area is not None
        assert shapely.union_all([shapely.Polygon(ring) for ring in change.alert_area]).equals(cover)
    assert record.history[0].level == "warning" and record.history[0].probability == 0.9
    assert records.decode(records.encode(record), records.AlertRecord) == record


# ----------------------------------------------------------------- rules on a synthetic distribution
def synthetic(path_lat, path_lon, sample_lat, sample_lon, duration=600.0) -> ImpactDistribution:
    """One track's impact distribution: a mean path (lat/lon deg, 100 km up, then down) and impact samples (deg)."""
    n = len(path_lat)
    t = T0 + np.linspace(0.0, duration, n)
    alt = np.full(n, 100e3)
    alt[-1] = 0.0
    pos = wgs84.geodetic_to_ecef(np.radians(path_lat), np.radians(path_lon), alt)
    states = np.concatenate([pos, np.gradient(pos, t, axis=0)], axis=1)
    lat_r, lon_r = np.radians(sample_lat), np.radians(sample_lon)
    samples = wgs84.geodetic_to_ecef(lat_r, lon_r, np.zeros_like(lat_r))
    lat0, lon0 = float(np.mean(lat_r)), float(np.mean(lon_r))
    enu = wgs84.ecef_to_enu(samples, lat0, lon0, 0.0)[:, :2]
    return ImpactDistribution(
        time=np.array([t[-1]]),
        lat=np.array([lat0]),
        lon=np.array([lon0]),
        cov_en=np.cov(enu.T)[None],
        time_sigma=np.array([5.0]),
        sample_position=samples[None],
        sample_time=np.full((1, len(sample_lat)), t[-1]),
        apogee_alt=np.array([100e3]),
        nominal_path=[(t, states)],
    )


def cloud(lat, lon, sigma_km, n=1000, seed=0):
    rng = np.random.default_rng(seed)
    north, east = rng.standard_normal((2, n)) * sigma_km
    return lat + north / 111.0, lon + east / (111.0 * math.cos(math.radians(lat)))


def test_impact_probability_and_area_off_akita(areas):
    jp = tuple(a for a in areas if a.partner == "JP")
    # 100 km west of Akita's coast, 10 km σ: all in the EEZ, none on land (the coast is 10 σ away).
    s_lat, s_lon = cloud(40.0, 138.7, 10.0)
    lat, lon = np.linspace(38.5, 40.0, 301), np.linspace(125.2, 138.7, 301)
    (found,) = rules.distribution_threats(jp, synthetic(lat, lon, s_lat, s_lon))
    assert [(t.area.kind, t.reason) for t in found] == [("eez", "impact")]
    (threat,) = found
    assert threat.probability == 1.0
    assert threat.ellipse["semi_major_km"] == pytest.approx(10.0 * math.sqrt(5.991), rel=0.1)
    # The alert area: the 95 % ellipse plus the margin, not the EEZ (a million km²).
    e = threat.ellipse
    justified = ellipse_polygon(e["lat"], e["lon"], e["semi_major_km"], e["semi_minor_km"], e["orientation_deg"])
    assert distance_beyond_km(threat.geometry, justified) <= MARGIN_KM + 1.0
    assert threat.geometry.area < 0.01 * area(areas, "JP", "eez").geometry.area
    assert threat.end_time == pytest.approx(threat.impact_time + 2.0 * 5.0, abs=1.0)


def test_impact_probability_counts_the_share_on_land(areas):
    jp = tuple(a for a in areas if a.partner == "JP")
    # Half the samples on Honshu (Akita, inland), half 100 km offshore.
    on_land = cloud(39.7, 140.4, 2.0, n=500, seed=1)
    at_sea = cloud(40.0, 138.7, 2.0, n=500, seed=2)
    s_lat, s_lon = np.concatenate([on_land[0], at_sea[0]]), np.concatenate([on_land[1], at_sea[1]])
    lat, lon = np.linspace(38.5, 39.85, 301), np.linspace(125.2, 139.5, 301)
    (found,) = rules.distribution_threats(jp, synthetic(lat, lon, s_lat, s_lon))
    by_kind = {t.area.kind: t for t in found if t.reason == "impact"}
    assert by_kind["territory"].probability == pytest.approx(0.5, abs=0.01)
    assert by_kind["eez"].probability == 1.0
    assert by_kind["territory"].geometry.bounds[0] > 139.5  # land only: Akita's coast and inland


def test_overflight_of_aomori_from_the_sample_paths(areas):
    jp = tuple(a for a in areas if a.partner == "JP")
    # The path of test_path_over_aomori_into_the_pacific_is_one_overflight, its samples 10 km σ at the end.
    lat, lon = np.full(601, 40.6), np.linspace(128.5, 168.0, 601)
    s_lat, s_lon = cloud(40.6, 168.0, 10.0)
    (found,) = rules.distribution_threats(jp, synthetic(lat, lon, s_lat, s_lon, duration=1200.0))
    (over,) = [t for t in found if t.reason == "overflight"]
    assert over.probability == 1.0
    t = T0 + np.linspace(0.0, 1200.0, 601)
    assert 139.6 < np.interp(over.crossing_time, t, lon) < 140.3  # Aomori's Sea of Japan coast
    assert 141.1 < np.interp(over.end_time, t, lon) < 142.0  # its Pacific coast
    # The area is Aomori under the path: about 40.6° N ± the swath, not Japan.
    west, south, east, north = over.geometry.bounds
    assert west > 139.6 and east < 142.0 and south > 40.3 and north < 40.9
    assert over.geometry.intersects(shapely.LineString([(128.5, 40.6), (168.0, 40.6)]))


def test_overflight_probability_is_the_share_of_sample_paths_over_land(areas):
    jp = tuple(a for a in areas if a.partner == "JP")
    # The mean path runs along 26.5° N from 125° E to 135° E, over Okinawa Island (26.1–26.9° N
    # at 127.6–128.3° E) and nothing else of Japan.  Half the samples fall 1200 km south of its
    # end: their paths pass Okinawa's longitude about 3° further south, over the open sea.  So only
    # the other half passes over.
    lat, lon = np.full(601, 26.5), np.linspace(125.0, 135.0, 601)
    north = cloud(26.5, 135.0, 5.0, n=500, seed=3)
    south = cloud(26.5 - 1200.0 / 111.0, 135.0, 5.0, n=500, seed=4)
    # Interleaved, as independent draws would be: the first OVERFLIGHT_SAMPLES are half and half.
    s_lat, s_lon = np.stack([north[0], south[0]], axis=1).ravel(), np.stack([north[1], south[1]], axis=1).ravel()
    (found,) = rules.distribution_threats(jp, synthetic(lat, lon, s_lat, s_lon, duration=600.0))
    (over,) = [t for t in found if t.reason == "overflight"]
    assert over.probability == pytest.approx(0.5, abs=0.01)
    # Its area is Okinawa under the northern paths' swath, not the southern sea nor all of Japan.
    assert over.geometry.bounds[1] > 25.9 and over.geometry.bounds[3] < 27.0


def test_a_threat_missing_from_one_assessment_keeps_its_alert_through_the_review(areas):
    # A node reviews its alerts after every assessment.  A track re-evaluated once without the threat
    # (between two assessments that find it) is not an all-clear: the alert stands, says nothing, and the
    # next finding continues it.  (Ended by the review, it was issued afresh each time: six alerts for one
    # overflight in the coverage benchmark.)
    eez = area(areas, "JP", "eez")
    mgr = AlertManager("JP", areas)
    for k, found in enumerate([[scored(eez, 0.4)], [], [scored(eez, 0.45)], [], [scored(eez, 0.5)]]):
        mgr.evaluate(T0 + 5 * k, LAUNCH, {"JP-F0001": found})
        mgr.review(T0 + 5 * k + 1, lost=set())
    (alert,) = mgr.alerts.values()
    assert statuses(alert) == ["issued"] and alert.active


def test_an_alert_left_without_findings_still_ends_when_its_event_has_passed(areas):
    # Its track re-evaluated to nothing once and then never again (stale): the alert stands on the
    # downgrade's patience, and ends when the event it announced is over, not at the end of the run.
    eez = area(areas, "JP", "eez")
    mgr = AlertManager("JP", areas)
    mgr.evaluate(T0, LAUNCH, {"JP-F0001": [scored(eez, 0.4, end=T0 + 100)]})
    mgr.evaluate(T0 + 5, LAUNCH, {"JP-F0001": []})
    mgr.review(T0 + 6, lost=set())
    (alert,) = mgr.alerts.values()
    assert alert.active
    mgr.review(T0 + 101, lost=set())
    assert alert.active  # the grace after the event (another object of the launch may still pass)
    mgr.review(T0 + 100 + END_GRACE_S, lost=set())
    assert statuses(alert) == ["issued", "ended"] and alert.history[-1]["time"] == T0 + 100 + END_GRACE_S


def test_a_path_grazing_an_island_far_ahead_keeps_one_alert(areas):
    """An overflight a quarter of an hour ahead whose probability swings in and out of the band for half a
    minute at a time (a path grazing an island as the track settles): one alert, which is not withdrawn
    and issued again.  (Before: withdrawn after two assessments and issued again, four alerts.)"""
    territory = area(areas, "US", "territory")
    mgr = AlertManager("US", areas)
    crossing = T0 + 1000
    swings = [0.27, 0.2, 0.16, 0.15, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.28, 0.25, 0.0, 0.0, 0.0, 0.0, 0.28, 0.19]
    swings += [0.0] * 9 + [0.26, 0.3]
    for k, p in enumerate(swings):
        time = T0 + 110 + 5 * k
        found = [Threat(territory, "overflight", T0 + 2000, 40.0, 170.0, crossing, crossing + 20, probability=p)]
        mgr.evaluate(time, LAUNCH, {"US-F0001": [f for f in found if p >= 0.1]})
        mgr.review(time, lost=set())
    (alert,) = mgr.alerts.values()
    assert alert.active and alert.level_changes() <= 2, statuses(alert)


def test_a_stage_passing_just_after_its_body_keeps_the_overflight_alert(areas):
    """The body's overflight is over; the stage, found a few seconds later, crosses the same territory
    seconds behind it: the same alert is updated, with no all-clear between and no second alert.
    (Before: the all-clear went out as the body's crossing passed, and the stage issued a new alert.)"""
    territory = area(areas, "JP", "territory")
    mgr = AlertManager("JP", areas)
    body = Threat(territory, "overflight", T0 + 900, 40.6, 168.0, T0 + 290, T0 + 330, probability=0.9)
    mgr.evaluate(T0 + 100, LAUNCH, {"JP-F0001": [body]})
    for k in range(1, 5):  # the body's track, re-evaluated after its crossing: nothing ahead
        mgr.evaluate(T0 + 325 + 5 * k, LAUNCH, {"JP-F0001": []})
        mgr.review(T0 + 326 + 5 * k, lost=set())
    stage = Threat(territory, "overflight", T0 + 880, 40.6, 166.0, T0 + 345, T0 + 380, probability=0.6)
    mgr.evaluate(T0 + 346, LAUNCH, {"JP-F0003": [stage]})
    (alert,) = mgr.alerts.values()
    assert statuses(alert)[0] == "issued" and "ended" not in statuses(alert), statuses(alert)
    mgr.review(T0 + 380 + END_GRACE_S, lost=set())
    assert statuses(alert)[-1] == "ended" and len(mgr.alerts) == 1


# ----------------------------------------------------------------- after a restart: resume
def told(mgr: AlertManager) -> list[messages.Alert]:
    """What the manager sends from now on (its on_change hook, as the node sends it)."""
    out: list[messages.Alert] = []
    mgr.on_change = lambda alert, entry: out.append(alert_message(alert, entry))
    return out


def by_id(sent: list[messages.Alert]) -> dict[str, list[messages.Alert]]:
    out: dict[str, list[messages.Alert]] = {}
    for m in sent:
        out.setdefault(m.alert_id, []).append(m)
    return out


def first_life(areas) -> list[messages.Alert]:
    """JP's alert for its EEZ as sent before the restart: issued, then updated twice (the impact later twice)."""
    eez = area(areas, "JP", "eez")
    mgr = AlertManager("JP", areas)
    sent = told(mgr)
    mgr.evaluate(T0 + 100, LAUNCH, {"JP-F0001": [impact_threat(eez, 40.0, 138.7, T0 + 600)]})
    mgr.evaluate(T0 + 110, LAUNCH, {"JP-F0001": [impact_threat(eez, 40.0, 138.7, T0 + 660)]})
    mgr.evaluate(T0 + 120, LAUNCH, {"JP-F0001": [impact_threat(eez, 40.0, 138.7, T0 + 720)]})
    assert [(m.change, m.status) for m in sent] == [(1, "issued"), (2, "updated"), (3, "updated")]
    return sent


def test_a_restarted_alert_that_goes_on_is_numbered_above_what_was_sent(areas):
    eez = area(areas, "JP", "eez")
    sent = first_life(areas)
    # Rebuilt by the replay, the picture saw the issue only (its reports fused in another order).
    mgr = AlertManager("JP", areas)
    mgr.evaluate(T0 + 100, LAUNCH, {"JP-F0001": [impact_threat(eez, 40.0, 138.7, T0 + 600)]})
    now = told(mgr)
    mgr.resume(T0 + 125, by_id(sent))
    assert now == []  # still a warning for an impact: nothing to correct
    (alert,) = mgr.alerts.values()
    assert [(e["change"], e["status"]) for e in alert.history] == [(1, "issued"), (2, "updated"), (3, "updated")]
    # Its next change is 4, not 2 (before, "ended" went out as change 2 after change 3: ignored, the warning
    # stood at the partners for good).
    mgr.evaluate(T0 + 750, LAUNCH, {"JP-F0001": []})
    mgr.review(T0 + 750, set())
    assert [(m.alert_id, m.change, m.status) for m in now] == [("JP-A0001", 4, "ended")]


def test_a_restarted_alert_keeps_the_times_its_changes_were_sent_at(areas):
    """The replay fuses the partners' reports by their arrival stamps, which the live run may have fused a scan
    earlier: the rebuilt picture can issue an assessment later than the first life did.  The history is what
    the partners were told (issued at T0 + 100), not what the replay rebuilt (T0 + 105)."""
    eez = area(areas, "JP", "eez")
    sent = first_life(areas)
    mgr = AlertManager("JP", areas)
    mgr.evaluate(T0 + 105, LAUNCH, {"JP-F0001": [impact_threat(eez, 40.0, 138.7, T0 + 600)]})
    mgr.evaluate(T0 + 110, LAUNCH, {"JP-F0001": [impact_threat(eez, 40.0, 138.7, T0 + 660)]})
    mgr.evaluate(T0 + 120, LAUNCH, {"JP-F0001": [impact_threat(eez, 40.0, 138.7, T0 + 720)]})
    rebuilt = mgr.alerts["JP-A0001"].history
    now = told(mgr)
    mgr.resume(T0 + 125, by_id(sent))
    assert now == []
    (alert,) = mgr.alerts.values()
    assert [(e["change"], e["status"], e["time"]) for e in alert.history] == [
        (m.change, m.status, m.time) for m in sent
    ]
    assert alert_message(alert, alert.history[0]) == sent[0]  # what was sent, as sent
    assert alert.history[1:] == rebuilt[1:]  # where the replay agrees, its entries (with their alert areas)


def test_a_restarted_alert_over_in_the_rebuilt_picture_is_ended_for_the_partners(areas):
    eez = area(areas, "JP", "eez")
    sent = first_life(areas)
    mgr = AlertManager("JP", areas)  # the rebuilt picture: issued, then over (the issue's failure)
    mgr.evaluate(T0 + 100, LAUNCH, {"JP-F0001": [impact_threat(eez, 40.0, 138.7, T0 + 110)]})
    mgr.review(T0 + 140, set())
    assert statuses(mgr.alerts["JP-A0001"]) == ["issued", "ended"]
    now = told(mgr)
    mgr.resume(T0 + 145, by_id(sent))
    assert [(m.change, m.status, m.why, m.time) for m in now] == [(4, "ended", ["restart"], T0 + 145)]
    assert statuses(mgr.alerts["JP-A0001"]) == ["issued", "updated", "updated", "ended"]
    assert mgr.standing() == []


def test_a_sent_alert_the_rebuilt_picture_lacks_is_cancelled_or_ended(areas):
    sent = first_life(areas)
    for at, status in ((T0 + 130, "cancelled"), (T0 + 800, "ended")):  # its impact (T0 + 720) ahead, or past
        mgr = AlertManager("JP", areas)
        now = told(mgr)
        mgr.resume(at, by_id(sent))
        assert [(m.alert_id, m.change, m.status, m.why) for m in now] == [("JP-A0001", 4, status, ["restart"])]
        alert = mgr.alerts["JP-A0001"]  # what the partners were told is what it shows
        assert [e["status"] for e in alert.history] == ["issued", "updated", "updated", status]
        assert alert.history[1]["impact_time"] == T0 + 660 and not alert.active
    # A new alert gets a new id.
    mgr.evaluate(T0 + 900, "JP-E002", {"JP-F0009": [impact_threat(area(areas, "JP", "eez"), 40, 138.7, T0 + 999)]})
    assert [m.alert_id for m in now][-1] == "JP-A0002"


def test_a_sent_end_stands_and_what_was_never_sent_is_forgotten(areas):
    eez, territory = area(areas, "JP", "eez"), area(areas, "JP", "territory")
    first = AlertManager("JP", areas)
    sent = told(first)
    first.evaluate(T0 + 100, LAUNCH, {"JP-F0001": [impact_threat(eez, 40.0, 138.7, T0 + 110)]})
    first.review(T0 + 140, set())  # ended, as change 2
    # Rebuilt: the EEZ alert still stands (the all-clear not yet reached), and an overflight alert the first
    # life never issued.
    mgr = AlertManager("JP", areas)
    mgr.evaluate(T0 + 100, LAUNCH, {"JP-F0001": [impact_threat(eez, 40.0, 138.7, T0 + 110)]})
    over = Threat(territory, "overflight", T0 + 900, 40.6, 168.0, T0 + 290, T0 + 330)
    mgr.evaluate(T0 + 100, LAUNCH, {"JP-F0002": [over]})
    assert len(mgr.standing()) == 2
    now = told(mgr)
    mgr.resume(T0 + 145, by_id(sent))
    assert now == []  # the partners hold it ended already; the other they never heard of
    assert list(mgr.alerts) == ["JP-A0001"] and statuses(mgr.alerts["JP-A0001"]) == ["issued", "ended"]
    assert mgr.standing() == []
    # The overflight, still found, is issued at the next assessment, under a new id, from change 1.
    mgr.evaluate(T0 + 150, LAUNCH, {"JP-F0002": [over]})
    assert [(m.alert_id, m.change, m.status) for m in now] == [("JP-A0003", 1, "issued")]


def test_a_restarted_alert_at_another_level_says_so(areas):
    eez = area(areas, "JP", "eez")
    sent = first_life(areas)
    mgr = AlertManager("JP", areas)
    mgr.evaluate(T0 + 100, LAUNCH, {"JP-F0001": [impact_threat(eez, 40.0, 138.7, T0 + 600)]})
    mgr.alerts["JP-A0001"].level = "advisory"  # the rebuilt picture stepped it down
    now = told(mgr)
    mgr.resume(T0 + 125, by_id(sent))
    assert [(m.change, m.status, m.level, m.why) for m in now] == [(4, "updated", "advisory", ["restart"])]


def test_a_restarted_alert_is_paired_by_its_threat_before_its_id(areas):
    """Found in a chaos run: the rebuilt picture held a second launch and numbered its alerts in another order
    (JP-A0001 for the other launch, JP-A0002 for the one the partners were warned of).  Paired by id, the warned
    launch's alert was forgotten and issued again as a new alert: two alerts where there was one."""
    eez = area(areas, "JP", "eez")
    sent = first_life(areas)  # JP-A0001, for LAUNCH
    mgr = AlertManager("JP", areas)
    mgr.evaluate(T0 + 95, "JP-E002", {"JP-F0002": [impact_threat(eez, 40.1, 138.6, T0 + 600)]})
    mgr.evaluate(T0 + 100, LAUNCH, {"JP-F0001": [impact_threat(eez, 40.0, 138.7, T0 + 600)]})
    assert [(a.alert_id, a.launch_id) for a in mgr.alerts.values()] == [("JP-A0001", "JP-E002"), ("JP-A0002", LAUNCH)]
    now = told(mgr)
    mgr.resume(T0 + 125, by_id(sent))
    assert now == []
    assert [(a.alert_id, a.launch_id) for a in mgr.alerts.values()] == [("JP-A0001", LAUNCH)]
    assert [a.launch_id for a in mgr.standing()] == [LAUNCH]
    mgr.evaluate(T0 + 130, LAUNCH, {"JP-F0001": [impact_threat(eez, 40.0, 138.7, T0 + 720)]})
    assert now == []  # the same threat as told: no news
    mgr.evaluate(T0 + 130, "JP-E002", {"JP-F0002": [impact_threat(eez, 40.1, 138.6, T0 + 600)]})
    assert [(m.alert_id, m.change, m.status) for m in now] == [("JP-A0003", 1, "issued")]  # the other launch: new
