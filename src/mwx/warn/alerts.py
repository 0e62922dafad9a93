"""Alerts for a partner's protected areas: one per threat and area, with their lifecycle.

Rules (:mod:`mwx.warn.rules`): from each settled coasting system track's impact distribution, the
probability of impact in each of the partner's areas (territory, EEZ) and of overflight of its
territory, each with a threshold per level.  A :class:`Threat` carries that probability, the
predicted times and the alert area (:mod:`mwx.warn.areas`).  :func:`threats` is the older,
deterministic rule on one path (the truth's, in :mod:`mwx.exercise.evaluation`): certain threats.

One alert per threat and area.  A threat is a launch (:class:`mwx.assess.lineage.LaunchBook`): the
warhead-bearing body and the stages it dropped, however the fused picture holds them — several
system tracks, split and merged by fusion, renumbered after a gap.  Every object of the launch
*contributes* to the alerts of the areas it threatens (:class:`Contribution`, per object and reason);
the alert stands at the level of its strongest contribution, for that contribution's reason (impact
before overflight at one level).  A spent stage that falls on an area warns for it within the
launch's alert.

Lifecycle, every change one entry of its ``history``, in order, numbered from 1 (``change``), with the
reasons it was made (``why``), and handed to the ``on_change`` hook:

* ``issued`` — a contribution reached its rule's warning threshold (level ``warning``);
* ``updated`` — only when it matters to the people in the area: the level (``warning`` ↔
  ``advisory``), the reason (impact ↔ overflight), the alert area (grown to reach places more than
  ``update_area_km`` from any place warned, or shrunk to a third, so that most warned places no longer
  are: an ellipse that tightens as the track settles is announced a few times, not every 5 s), the time of
  the event (the crossing or the impact moved by more than ``update_s`` or a tenth of the time still
  to go), or the threat regained after ``track-lost`` (``why``: ``level``, ``reason``, ``area``,
  ``time``, ``regained``);
* ``cancelled`` — no contribution left above the advisory threshold before its time (the warning
  is withdrawn), or the alert of a launch found to be another launch's objects (``superseded_by``);
* ``ended`` — the all-clear: the time of the last contribution's event has passed, by
  :data:`END_GRACE_S` (another object of the launch may be found passing the same area); or the
  launch was recognised as failed (:mod:`mwx.assess.failure`: a break-up, a motor stopped early) and
  no remaining object of it holds the alert at the warning level (``why``: ``failed``, :meth:`AlertManager.fail`);
* ``track-lost`` — every contributing object went stale (no fresh member for the fusion's
  ``stale_s``) before the event.  Said once; the alert then stands (no news is no all-clear: CAP
  Monitor) and ends at its predicted end time, or is updated if the threat comes back.

Restarts.  A partner's node that restarts rebuilds its alerts by replaying its sensor feed, and then
brings them in line with what it had told the partners before (:meth:`AlertManager.resume`): change
numbers go on strictly above the ones sent, an alert sent as standing that the rebuilt picture no longer
holds is ended or cancelled (``why``: ``restart``), and none is left standing at the partners.

Hysteresis.  The thresholds have a band between warning and advisory (:mod:`mwx.warn.rules`); and
a lower level (warning → advisory, or withdrawing the alert) is taken only once
``downgrade_assessments`` assessments in a row have said so, over a tenth of the time still to the
event (up to a minute: :data:`DOWNGRADE_PATIENCE_SHARE`), so a probability hovering at a threshold,
or one object of the launch missing from one assessment, does not flip the public message.  A
warning is withdrawn before its event only by way of the advisory, each step with a patience of its
own; the withdrawal's is three tenths of the time still to go (up to the same minute:
:data:`WITHDRAW_PATIENCE_SHARE`), for it cannot be taken back.  A higher level goes out at once.

Entries hold ``time``, ``status``, ``change``, ``why``, ``track_id`` (the strongest contribution's
system track), ``launch_id`` and, for issued/updated, the prediction: ``impact_point`` {lat, lon}
deg, ``impact_time``, ``crossing_time``, ``end_time`` (Unix s), ``level``, ``probability`` (when
known), ``impact_time_sigma`` [s], ``ellipse`` (95 %: centre lat/lon deg, semi-axes km, orientation
deg) and ``area_geometry`` (shapely, lon/lat deg).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from shapely.geometry import GeometryCollection
from shapely.geometry.base import BaseGeometry

from mwx import records
from mwx.exchange import messages
from mwx.geo import regions
from mwx.geo.regions import ProtectedArea
from mwx.warn import areas as alert_areas
from mwx.warn import cap
from mwx.warn.rules import ADVISORY, END_SIGMAS, WARNING, Threat, level_for

__all__ = ["Alert", "AlertManager", "Contribution", "Threat", "alert_message", "cap_changes", "threats"]

#: An alert area that reaches this far [km] beyond the last one sent (places newly warned) is news ...
UPDATE_AREA_KM = 20.0
#: ... and one that shrank to this share of it (most places no longer warned).
UPDATE_AREA_SHRINK = 1.0 / 3.0
#: An event time that moved by more than this [s], and by a tenth of the time still to go, is news.
UPDATE_S = 15.0
UPDATE_TIME_SHARE = 0.1
#: Assessments in a row that must propose a lower level (or none) before it is taken ...
DOWNGRADE_ASSESSMENTS = 2
#: ... over at least this share of the time still to the event, up to this many s: a path that grazes an
#: island a quarter of an hour ahead swings the probability in and out of the band for a minute at a
#: time as the track settles, and a warning withdrawn and issued again four times tells the public
#: nothing (a coverage flight's lofted ICBM past the Aleutians did); close to the event the next
#: assessments decide.
DOWNGRADE_PATIENCE_SHARE = 0.1
DOWNGRADE_PATIENCE_MAX_S = 60.0
#: The withdrawal (advisory → cancelled before the event) waits this share of the time still to go, up to
#: the same minute: it cannot be taken back — a threat that returns after it is a new alert — and a lofted
#: ICBM's path grazing Honshu three minutes ahead left the band for 25 s and came back 10 s after a
#: withdrawal at a tenth (coverage flight 167: warning, advisory, cancelled, then a second warning).
WITHDRAW_PATIENCE_SHARE = 0.3
#: s an alert stands after its event has passed before the all-clear: a launch's objects pass one after
#: another (a stage trails its body over the coast by seconds), and one found late must not bring a new
#: alert for the area just cleared.
END_GRACE_S = 20.0
#: s after a launch is recognised as failed during which its earlier alerts stand only while an object left of
#: it holds them at the warning level (:meth:`AlertManager.fail`): a piece's first predictions carry the wide
#: prior of a piece's drag, which its own deceleration narrows within seconds to tens of seconds.
FAILED_RECHECK_S = 60.0
_RANK = {None: 0, ADVISORY: 1, WARNING: 2}
#: The statuses after which an alert is over (nothing follows them).
OVER = frozenset({"cancelled", "ended"})
_ID_NUMBER = re.compile(r"-A(\d+)\Z")


@dataclass
class Contribution:
    """What one object of a threat says about one area, for one reason: its latest :class:`Threat`.

    ``system_id``: the object's system track; ``time``: when it said so; ``lost``: the system went
    stale since (its word stands until its event's time, as no news is no all-clear).
    """

    system_id: str
    threat: Threat
    time: float
    lost: bool = False


@dataclass
class Alert:
    """One partner's alert for one threat (launch) and one of its areas (see the module docstring)."""

    alert_id: str
    partner: str
    area: ProtectedArea
    launch_id: str
    reason: str  # the strongest contribution's: "impact" or "overflight"
    track_id: str  # the strongest contribution's system track
    history: list[dict] = field(default_factory=list)
    active: bool = True
    contributions: dict[tuple[str, str], Contribution] = field(default_factory=dict)  # (system, reason)
    last_onset: float = math.nan  # Unix s: the crossing (overflight) or impact (impact) time last sent
    end_time: float = math.nan  # Unix s when the threat is over (the latest contribution's end)
    level: str = WARNING
    probability: float | None = None
    geometry: BaseGeometry | None = None  # the latest alert area sent, lon/lat deg
    lost: bool = False  # every contributing object went stale and none has come back
    # A lower level proposed, how many assessments in a row, and since when [Unix s].
    pending: tuple[str | None, int, float] = (None, 0, math.nan)
    #: The number of the latest change (the next is one more): the history's length, unless a restart
    #: found more changes sent than the rebuilt alert had made (:meth:`AlertManager.resume`).
    last_change: int = 0

    def key(self) -> tuple[str, str, str]:
        return (self.launch_id, self.area.kind, self.area.name)

    @property
    def status(self) -> str:
        """The latest lifecycle state."""
        return self.history[-1]["status"] if self.history else "new"

    def level_changes(self) -> int:
        """How many times the level changed after the issue (a flip-flop counts twice)."""
        levels = [e["level"] for e in self.history if e.get("level") is not None]
        return sum(a != b for a, b in itertools.pairwise(levels))


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


Key = tuple[str, str, str]
OnChange = Callable[[Alert, dict], None]


def _onset(threat: Threat) -> float:
    """When the threat's event begins [Unix s]: the crossing (overflight) or the impact."""
    if threat.reason == "overflight" and threat.crossing_time is not None:
        return threat.crossing_time
    return threat.impact_time


class AlertManager:
    """The alerts one partner raises for its own areas, one per threat (launch) and area.

    ``alerts`` holds every alert by id, in issue order (cancelled and ended ones stay).
    ``on_change(alert, entry)`` is called after each new history entry (the node sends it as an
    exchange :class:`~mwx.exchange.messages.Alert`: :func:`alert_message`).
    """

    def __init__(
        self,
        partner: str,
        areas: tuple[ProtectedArea, ...],
        *,
        update_s: float = UPDATE_S,
        update_area_km: float = UPDATE_AREA_KM,
        downgrade_assessments: int = DOWNGRADE_ASSESSMENTS,
        on_change: OnChange | None = None,
    ):
        self.partner = partner
        self.areas = tuple(a for a in areas if a.partner == partner)
        self.update_s = update_s
        self.update_area_km = update_area_km
        self.downgrade_assessments = downgrade_assessments
        self.on_change = on_change
        self.alerts: dict[str, Alert] = {}
        #: The latest prediction of each evaluated system track: ``time``, ``impact_time`` and the 95 % ``ellipse``.
        self.predictions: dict[str, dict] = {}
        self._standing: dict[Key, Alert] = {}
        self._next = 1
        #: Launches recognised as failed (:meth:`fail`): launch id → when.
        self.failed: dict[str, float] = {}

    def standing(self) -> list[Alert]:
        """The alerts not yet cancelled or ended, in issue order."""
        return list(self._standing.values())

    def evaluate(
        self,
        time: float,
        launch_id: str,
        found: Mapping[str, list[Threat]],
        predictions: Mapping[str, dict] | None = None,
    ) -> None:
        """Bring the alerts of launch ``launch_id`` up to date at ``time``.

        ``found``: per system track of the launch evaluated now, its threats (any area; a partner
        warns for its own areas only, whatever the caller hands in).  Systems of the launch not in
        ``found`` (stale, or boosting again for a moment) keep their contributions.  ``predictions``
        (per system: impact time and 95 % ellipse, kept in :attr:`predictions`) is what the threats
        were judged on, whether or not any was found.
        """
        for system_id, prediction in (predictions or {}).items():
            self.predictions[system_id] = {"time": time, **prediction}
        for area in self.areas:
            key = (launch_id, area.kind, area.name)
            alert = self._standing.get(key)
            current = {
                (system_id, t.reason): Contribution(system_id, t, time)
                for system_id, found_threats in found.items()
                for t in found_threats
                if t.area.partner == self.partner and (t.area.kind, t.area.name) == (area.kind, area.name)
                and level_for(t.reason, area.kind, t.probability, alert is not None) is not None
            }  # fmt: skip
            if alert is None:
                if any(level_for(c.threat.reason, area.kind, c.threat.probability, False) for c in current.values()):
                    self._issue(time, launch_id, area, current)
                continue
            for k in [k for k in alert.contributions if k[0] in found]:
                del alert.contributions[k]  # re-evaluated: what it says now replaces what it said
            regained = alert.lost and bool(current)
            alert.contributions.update(current)
            self._revise(alert, time, regained=regained)

    def transfer(self, time: float, merged: Mapping[str, str]) -> None:
        """Launches found to be another's objects (``merged``: launch id → the launch it went into).

        An alert of a merged launch moves to the surviving launch with its id and history, or, where
        the survivor already has an alert for the area, is cancelled naming the one that supersedes it.
        """
        for key, alert in list(self._standing.items()):
            target = merged.get(key[0])
            if target is None or target == key[0]:
                continue
            new_key = (target, *key[1:])
            other = self._standing.get(new_key)
            if other is not None:
                other.contributions.update(alert.contributions)
                self._change(alert, time, "cancelled", why=["merged"], superseded_by=other.alert_id)
                continue
            del self._standing[key]
            alert.launch_id = target
            self._standing[new_key] = alert

    def review(self, time: float, lost: Collection[str], merged: Mapping[str, str] | None = None) -> None:
        """Mark the contributions of stale system tracks (``lost``), end what is over.

        A contribution whose event has passed leaves; an alert left with none ends (all-clear) once
        :data:`END_GRACE_S` has passed too.  An alert whose every contribution is lost says
        ``track-lost``, once.

        ``merged``: system tracks the fusion found to be another (id → the one it went into).  A merged
        system's word becomes its survivor's, unless the survivor has its own for that reason: it is one
        object, and what the survivor says at its next evaluation replaces it.  (Kept as a lost system's
        word, a prediction made before the merge stood until its own end: in a chaos run JP's node, killed,
        held its reports back, KR's track split in two, and KR's warning ended at the stale half's predicted
        end, 8 s after the merged track's.)
        """
        for alert in list(self._standing.values()):
            if merged and any(k[0] in merged for k in alert.contributions):
                for system_id, reason in [k for k in alert.contributions if k[0] in merged]:
                    word = alert.contributions.pop((system_id, reason))
                    into = _survivor(system_id, merged)
                    alert.contributions.setdefault(
                        (into, reason), dataclasses.replace(word, system_id=into, lost=into in lost)
                    )
                if alert.contributions:
                    alert.end_time = max(c.threat.end_time for c in alert.contributions.values())
            for contribution in alert.contributions.values():
                if contribution.system_id in lost:
                    contribution.lost = True
            passed = [k for k, c in alert.contributions.items() if time >= c.threat.end_time]
            for k in passed:
                del alert.contributions[k]
            # Every contribution's event has passed.  (One re-evaluated to nothing is not over: the level's
            # downgrade patience in _revise decides; ending it here re-issued a fresh alert at the next
            # assessment that found the threat again, six times for one overflight.)
            over = not alert.contributions and math.isfinite(alert.end_time) and time >= alert.end_time + END_GRACE_S
            if over:
                self._change(alert, time, "ended", why=["time"])
                continue
            words = alert.contributions.values()
            # A track that ends inside its predicted impact window has met the ground, not been lost: the alert
            # stands to its end as before, without a "track lost" that would send partners looking for it.
            if (
                not alert.lost
                and words
                and all(c.lost for c in words)
                and not all(_landing(c.threat, time) for c in words)
            ):
                self._change(alert, time, "track-lost", why=["lost"])

    def fail(self, time: float, launch_id: str, gone: Collection[str] = ()) -> None:
        """Launch ``launch_id`` is recognised as failed (:mod:`mwx.assess.failure`: a body that broke up, or a
        motor stopped early); call it at every assessment after :meth:`evaluate` (the first call marks when).

        The alerts the intact missile raised (issued before the failure was recognised) are judged afresh on
        what the launch's objects seen now say: every contribution of a body that is gone (``gone``: the
        system tracks of a body that broke up) and every one made before the failure was recognised leaves
        them — said of an intact missile (the body's tracks, those lost since boost included), of a piece
        predicted as one, or by an object no longer seen; what the objects evaluated since say (a piece with a
        piece's drag, a terminated body on its coasting state, a spent stage) stays.  Such an alert that no
        remaining contribution holds at the warning level (the level an alert is issued at: what it would
        take to issue it now) ends, ``why`` ``["failed"]``: the threat it warned of no longer exists, and
        the hysteresis that keeps a warning through a wavering prediction of one threat has nothing to keep.
        For :data:`FAILED_RECHECK_S` after the failure was recognised this is judged at every assessment
        (a piece's prediction narrows as the air slows it); then, and for alerts issued since, the usual
        rules hold.
        """
        since = self.failed.setdefault(launch_id, time)
        if time - since > FAILED_RECHECK_S:
            return
        for alert in list(self._standing.values()):
            if alert.launch_id != launch_id or alert.history[0]["time"] >= since:
                continue
            for key in [k for k, c in alert.contributions.items() if c.time < since or c.system_id in gone]:
                del alert.contributions[key]
            held = any(
                level_for(c.threat.reason, alert.area.kind, c.threat.probability, False) == WARNING
                for c in alert.contributions.values()
            )
            if not held:
                self._change(alert, time, "ended", why=["failed"])

    def resume(self, time: float, sent: Mapping[str, Sequence[messages.Alert]]) -> None:
        """After a restart: bring what the partners were told in line with the alerts rebuilt since, at ``time``.

        ``sent``: per alert id, the changes this partner sent before the restart (its outbox), in change
        order.  The manager has rebuilt its alerts by replaying the sensor feed: the same ids and changes as
        the first time where the rebuilt picture is the same, which it need not be (the partners' reports
        fused at other moments of the replay).  Each alert sent is paired with the rebuilt one of its id,
        launch and area, else with the one of its launch and area (the threat), else with the one of its id
        and area; its history becomes what the partners were told (the rebuilt entries where they agree: same
        status, time and level), numbered as it was sent, and every later change is numbered above.  Then:

        * sent as standing, standing here: it goes on; if its level, reason or track-lost state is not what
          was last sent, an ``updated`` (or ``track-lost``) change says so now;
        * sent as standing, over here: that (``ended`` or ``cancelled``) is sent now;
        * sent as standing, not rebuilt at all: ended, or cancelled if its predicted impact is still ahead;
        * sent as over, standing here: over here too (the partners were told; a threat still there is a new
          alert at the next assessment);
        * rebuilt but never sent: forgotten (the next assessment issues what still threatens).

        Changes made here say ``why``: ``restart``.  New alerts are numbered after every id sent or rebuilt.
        """
        rebuilt = dict(self.alerts)  # not paired yet, in issue order
        numbers = [int(m.group(1)) for i in [*rebuilt, *sent] if (m := _ID_NUMBER.search(i))]
        in_order = sorted(sent.items(), key=lambda item: (item[1][0].time, item[0]))
        paired: dict[str, Alert] = {}
        # Same id, launch and area; else the same launch and area (the threat: the rebuilt picture may number
        # its alerts in another order); else the same id and area (it may number its launches otherwise).
        for same in (
            lambda a, i, m: a.alert_id == i and a.key() == (m.launch_id, *_area_of(m)),
            lambda a, i, m: a.key() == (m.launch_id, *_area_of(m)),
            lambda a, i, m: a.alert_id == i and (a.area.kind, a.area.name) == _area_of(m),
        ):
            for alert_id, changes in in_order:
                found = None if alert_id in paired else next(
                    (a for a in rebuilt.values() if same(a, alert_id, changes[-1])), None
                )  # fmt: skip
                if found is not None:
                    paired[alert_id] = rebuilt.pop(found.alert_id)
        for unsent in rebuilt.values():  # never sent: the partners know nothing of it
            if self._standing.get(unsent.key()) is unsent:
                del self._standing[unsent.key()]
        self.alerts = {}
        for alert_id, changes in in_order:
            last = changes[-1]
            told_over = last.status in OVER
            alert = paired.get(alert_id)
            if alert is None:
                alert = self.alerts[alert_id] = self._as_sent(alert_id, changes)
                if not told_over:
                    end = next((m.impact_time for m in reversed(changes) if m.impact_time is not None), None)
                    status = "ended" if end is not None and time >= end else "cancelled"
                    self._change(alert, time, status, why=["restart"])
                continue
            was = alert.status
            alert.alert_id = alert_id
            mine = {e.get("change"): e for e in alert.history}
            alert.history = [
                e if e is not None and _agrees(e, m) else _entry_of(m) for m in changes for e in [mine.get(m.change)]
            ]
            alert.last_change = int(last.change or len(changes))
            # What is news from now on is judged against what the partners were told last.
            latest = _latest(alert, alert.history[-1])
            if latest:
                crossing = latest.get("crossing_time") if latest.get("reason") == "overflight" else None
                alert.last_onset = crossing if crossing is not None else latest["impact_time"]
                alert.geometry = latest.get("area_geometry", alert.geometry)
            self.alerts[alert_id] = alert
            if told_over:
                if self._standing.get(alert.key()) is alert:  # told it is over: so it is
                    del self._standing[alert.key()]
                alert.active = False
            elif not alert.active:
                self._change(alert, time, was, why=["restart"])
            elif (alert.level, alert.reason, alert.lost) != (last.level, last.reason, last.status == "track-lost"):
                if alert.lost:
                    self._change(alert, time, "track-lost", why=["restart"])
                elif alert.contributions:
                    top = _strongest(alert.contributions.values(), alert.area.kind, standing=True)
                    self._change(alert, time, "updated", top, alert.level, why=["restart"])
                else:
                    self._change(alert, time, "updated", level=alert.level, why=["restart"])
        self._next = max([self._next, *(n + 1 for n in numbers)])

    def _as_sent(self, alert_id: str, changes: Sequence[messages.Alert]) -> Alert:
        """The alert the partners hold, from the changes they were told (one the rebuilt picture lacks)."""
        last = changes[-1]
        area = next(
            (a for a in self.areas if (a.kind, a.name) == _area_of(last)),
            ProtectedArea(last.area.partner, last.area.kind, last.area.name, GeometryCollection()),
        )
        alert = Alert(alert_id, self.partner, area, last.launch_id or "", last.reason, last.track_id)
        alert.history = [_entry_of(m) for m in changes]
        alert.last_change = int(last.change or len(changes))
        alert.active = last.status not in OVER
        alert.lost = last.status == "track-lost"
        alert.level = last.level or WARNING
        alert.probability = last.probability
        return alert

    def close(self, time: float) -> None:
        """End every alert still standing at the end of the run (no earlier than its end time)."""
        for alert in list(self._standing.values()):
            end = max(time, alert.end_time) if np.isfinite(alert.end_time) else time
            self._change(alert, end, "ended", why=["time"])

    # ----------------------------------------------------------------- rules of change
    def _issue(self, time: float, launch_id: str, area: ProtectedArea, current: dict) -> None:
        top = _strongest(current.values(), area.kind, standing=False)
        alert = Alert(f"{self.partner}-A{self._next:04d}", self.partner, area, launch_id, top.threat.reason,
                      top.system_id)  # fmt: skip
        self._next += 1
        alert.contributions = dict(current)
        self.alerts[alert.alert_id] = alert
        self._standing[alert.key()] = alert
        self._change(alert, time, "issued", top, WARNING, why=["level"])

    def _revise(self, alert: Alert, time: float, *, regained: bool) -> None:
        """After new contributions: the level (with the downgrade's patience), and an update if it is news."""
        live = [c for c in alert.contributions.values() if not c.lost]
        top = _strongest(alert.contributions.values(), alert.area.kind, standing=True) if alert.contributions else None
        level = None if top is None else level_for(top.threat.reason, alert.area.kind, top.threat.probability, True)
        if _RANK[level] < _RANK[alert.level] and not regained:
            proposed, count, since = alert.pending
            if count == 0 or proposed != level:
                count, since = 0, time
            alert.pending = (level, count + 1, since)
            ahead = alert.last_onset - time if math.isfinite(alert.last_onset) else 0.0
            withdrawal = level is None and alert.level == ADVISORY  # a warning steps down to advisory first
            share = WITHDRAW_PATIENCE_SHARE if withdrawal else DOWNGRADE_PATIENCE_SHARE
            patience = min(DOWNGRADE_PATIENCE_MAX_S, share * ahead)
            if count + 1 < self.downgrade_assessments or time - since < patience:
                level = alert.level  # not yet: keep the public message as it is
        else:
            alert.pending = (None, 0, math.nan)
        passed = time >= alert.last_onset or time >= alert.end_time
        if level is None and alert.level == WARNING and not passed:
            # A warning is withdrawn before its time by way of the advisory, each step with its own patience:
            # a path grazing the area swings in and out of the band as the track settles, and a withdrawal
            # followed by a new alert is the worst a public can be told.  With nothing left above the
            # advisory threshold, the advisory stands on the last prediction.
            if top is None:
                self._change(alert, time, "updated", level=ADVISORY, why=["level"])
                return
            level = ADVISORY
        if level is None:
            # Withdrawn before its time, or over: an overflight no longer threatens once the object is over it.
            if passed and not alert.contributions and time < alert.end_time + END_GRACE_S:
                return  # over: the all-clear waits out the grace (review says it)
            self._change(alert, time, "ended" if passed else "cancelled", why=["level"])
            return
        if top is None:
            return
        why = self._news(alert, top, level, time)
        if regained:
            why.append("regained")
        if live and why:
            self._change(alert, time, "updated", top, level, why=why)
        else:
            alert.end_time = max(c.threat.end_time for c in alert.contributions.values())

    def _news(self, alert: Alert, top: Contribution, level: str, time: float) -> list[str]:
        """Why a new prediction for a standing alert matters to the people in its area (empty: it does not)."""
        why = []
        if level != alert.level:
            why.append("level")
        if top.threat.reason != alert.reason:
            why.append("reason")
        if _area_changed(alert.geometry, top.threat.geometry, self.update_area_km):
            why.append("area")
        onset = _onset(top.threat)
        if math.isfinite(alert.last_onset) and abs(onset - alert.last_onset) > max(
            self.update_s, UPDATE_TIME_SHARE * max(alert.last_onset - time, 0.0)
        ):
            why.append("time")
        return why

    def _change(
        self,
        alert: Alert,
        time: float,
        status: str,
        top: Contribution | None = None,
        level: str | None = None,
        *,
        why: list[str],
        **extra: object,
    ) -> None:
        alert.last_change += 1
        entry: dict = {
            "time": time,
            "status": status,
            "change": alert.last_change,
            "why": list(why),
            "track_id": top.system_id if top is not None else alert.track_id,
            "launch_id": alert.launch_id,
        }
        if top is not None:
            threat = top.threat
            entry.update(
                impact_point={"lat": threat.impact_lat, "lon": threat.impact_lon},
                impact_time=threat.impact_time,
                crossing_time=threat.crossing_time,
                end_time=threat.end_time,
                level=level or WARNING,
                reason=threat.reason,
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
            alert.reason, alert.track_id = threat.reason, top.system_id
            alert.last_onset = _onset(threat)
            alert.end_time = max(c.threat.end_time for c in alert.contributions.values())
            alert.level = level or WARNING
            alert.probability = threat.probability
            alert.lost = False
            alert.pending = (None, 0, math.nan)
        elif level is not None:  # a new level on the last prediction (no contribution left to give one)
            last = {k: v for k, v in _latest(alert, entry).items() if k not in entry and k != "probability"}
            entry.update(last, level=level)
            alert.level = level
            alert.pending = (None, 0, math.nan)
        entry.update(extra)
        if status == "track-lost":
            alert.lost = True
        alert.history.append(entry)
        if status in OVER:
            alert.active = False
            if self._standing.get(alert.key()) is alert:
                del self._standing[alert.key()]
        if self.on_change is not None:
            self.on_change(alert, entry)


def _landing(threat: Threat, time: float) -> bool:
    """Whether ``time`` lies in ``threat``'s predicted impact window (an impact threat with its time's σ, from
    :data:`~mwx.warn.rules.END_SIGMAS` σ before its mean impact time on)."""
    sigma = threat.impact_time_sigma
    return threat.reason == "impact" and sigma is not None and time >= threat.impact_time - END_SIGMAS * sigma


def _survivor(system_id: str, merged: Mapping[str, str]) -> str:
    """The system track that ``system_id`` went into, following merges of merges."""
    seen = {system_id}
    while (into := merged.get(system_id)) is not None and into not in seen:
        seen.add(into)
        system_id = into
    return system_id


def _area_changed(old: BaseGeometry | None, new: BaseGeometry | None, reach_km: float) -> bool:
    """Whether an alert area reaches ``reach_km`` beyond the last one sent, or shrank to a third of it."""
    if old is None or new is None or old.is_empty or new.is_empty:
        return False
    return alert_areas.distance_beyond_km(new, old) > reach_km or new.area < UPDATE_AREA_SHRINK * old.area


def _strongest(contributions: Collection[Contribution], kind: str, *, standing: bool) -> Contribution:
    """The contribution that sets the alert: the highest level, then impact before overflight, then likeliest."""

    def rank(c: Contribution) -> tuple[int, int, float, str]:
        level = level_for(c.threat.reason, kind, c.threat.probability, standing)
        p = 1.0 if c.threat.probability is None else c.threat.probability
        return (_RANK[level], c.threat.reason == "impact", p, c.system_id)

    return max(contributions, key=rank)


def _area_of(message: messages.Alert) -> tuple[str, str]:
    return (message.area.kind, message.area.name)


def _agrees(entry: dict, message: messages.Alert) -> bool:
    """Whether a rebuilt history entry is the change that was sent: the same status, time and level.

    A replay fuses the partners' reports by their arrival stamps, not quite when the first life fused them, and
    its picture may make a change an assessment earlier or later: that entry is not what the partners were told.
    """
    level = entry.get("level") if message.status in ("issued", "updated") else message.level
    return (
        entry["status"] == message.status
        and math.isclose(float(entry["time"]), message.time, rel_tol=0.0, abs_tol=1e-6)
        and level == message.level
    )


def _entry_of(message: messages.Alert) -> dict:
    """A history entry from an alert change as it was sent (what a restarted node's outbox holds)."""
    entry: dict = {
        "time": message.time,
        "status": message.status,
        "change": message.change,
        "why": list(message.why),
        "track_id": message.track_id,
        "launch_id": message.launch_id,
    }
    if message.status in ("issued", "updated") and message.impact_point is not None and message.impact_time:
        entry.update(
            impact_point={"lat": message.impact_point.lat, "lon": message.impact_point.lon},
            impact_time=message.impact_time,
            crossing_time=message.crossing_time,
            level=message.level or WARNING,
            reason=message.reason,
        )
        if message.probability is not None:
            entry["probability"] = message.probability
    return entry


# ----------------------------------------------------------------- outputs of one change
def _latest(alert: Alert, entry: dict) -> dict:
    """The latest prediction in ``alert``'s history up to and including ``entry`` (empty if none)."""
    at = next((k for k, e in enumerate(alert.history) if e is entry), None)
    upto = [*alert.history, entry] if at is None else alert.history[: at + 1]
    return next((e for e in reversed(upto) if e.get("impact_point") is not None), {})


def _area_kind(kind: str) -> messages.AreaKind:
    """A protected area's kind as the wire types it (:class:`~mwx.geo.regions.ProtectedArea` holds a plain str)."""
    if kind == "territory":
        return "territory"
    if kind == "eez":
        return "eez"
    raise ValueError(f"unknown protected area kind {kind!r}")


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
        area=messages.Area(partner=alert.area.partner, kind=_area_kind(alert.area.kind), name=alert.area.name),
        reason=_latest(alert, entry).get("reason", alert.reason),
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
        launch_id=alert.launch_id,
        why=list(entry.get("why", [])),
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
            what = "impact" if change.reason == "impact" else "overflight"
            area = cap.CapArea(f"{alert.area.name}: {what} warning area", polygons)
            change = dataclasses.replace(change, areas=(area,))
        out.append(change)
    return out


def alert_record(alert: Alert, changes: Sequence[cap.CapAlert] | None = None) -> records.AlertRecord:
    """The record an alert publishes (:class:`mwx.records.AlertRecord`, what ``alerts.json`` holds): its history in
    the run folder's units and precision, each change with the alert area of its CAP document (``changes``: its
    :func:`cap_changes`, when the caller has them).  ``truth_id`` is the evaluation's, left to the run."""
    changes = cap_changes(alert) if changes is None else changes
    return records.AlertRecord(
        alert_id=alert.alert_id,
        partner=alert.partner,
        area=records.AreaRef(partner=alert.area.partner, kind=_area_kind(alert.area.kind), name=alert.area.name),
        reason="impact" if alert.reason == "impact" else "overflight",
        launch_id=alert.launch_id,
        track_id=alert.track_id,
        level_changes=alert.level_changes(),
        history=[_change_record(h, c) for h, c in zip(alert.history, changes, strict=True)],
    )


def _change_record(entry: Mapping[str, Any], change: cap.CapAlert) -> records.AlertChange:
    """One history entry of an alert as its record, with its CAP change's alert area."""

    out = records.AlertChange(time=records.utc(entry["time"]), status=entry["status"], why=list(entry["why"]))
    if "level" in entry:
        out.level, out.reason = entry["level"], entry["reason"]
    if "impact_point" in entry:
        out.impact_point = records.point(entry["impact_point"]["lat"], entry["impact_point"]["lon"])
        out.impact_time = records.utc_or_none(entry["impact_time"])
        out.crossing_time = records.utc_or_none(entry["crossing_time"])
    if entry.get("probability") is not None:
        out.probability = round(min(max(float(entry["probability"]), 0.0), 1.0), 4)
    if (ellipse := entry.get("ellipse")) is not None:
        out.ellipse_95 = records.Ellipse95(
            semi_major_km=round(float(ellipse["semi_major_km"]), 3),
            semi_minor_km=round(float(ellipse["semi_minor_km"]), 3),
            orientation_deg=round(float(ellipse["orientation_deg"]), 3),
        )
    # CAP writes "lat,lon" pairs; the record's rings are (lon, lat), as GeoJSON.
    out.alert_area = [
        [(float(lon), float(lat)) for pair in polygon.split() for lat, lon in [pair.split(",")]]
        for area in change.areas
        for polygon in area.polygons
    ]
    return out
