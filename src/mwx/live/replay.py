"""A finished run, replayed in the consoles: each partner's picture rebuilt from its run folder (``mwx view``).

What the run folder holds becomes the same updates a live run pushes, in time order, so the console's slider
asks :meth:`~mwx.live.picture.LivePicture.snapshot` for the picture at any instant:

* the partner's own tracks (``tracks.csv``, its rows) and the partners' tracks the run's release policy let
  through to it (``policy.yaml`` when the run had one; rounding of positions is not redone); the observer's
  fused rows and other partners' withheld ones are left out.  ``tracks.csv`` keeps the covariance's
  diagonal only, so a replayed track's uncertainty outline is drawn from that diagonal;
* its launch event reports as they stood at each of their ``updates`` (``events.json``) and as they ended;
* its own alerts, every change with its alert area, and the partners' alerts it could receive, as the
  exchange carried them (no area).  Acknowledgements are not in the run folder.

The partners' fused system tracks are not in the run folder either: a replay shows none.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mwx import records
from mwx.exchange.policy import OPEN, ReleasePolicy, load_policy
from mwx.exports.common import load_run
from mwx.geo import regions
from mwx.live.feed import alert_update, report_now, setup_of, track_update
from mwx.live.picture import LivePicture
from mwx.live.updates import ClockUpdate, LaunchUpdate, Update

#: The run's release policy, kept in the run folder by ``mwx run --policy``.
POLICY_FILE = "policy.yaml"
FUSED = "fused"


def replay_pictures(folder: Path) -> dict[str, LivePicture]:
    """Every partner's picture of the run in ``folder``; :class:`~mwx.errors.InputError` if it is not a run
    folder (one line)."""
    run = load_run(folder)
    if run.theater is None:
        from mwx.errors import InputError

        raise InputError("the run's theater is not built in: nothing to draw the consoles on", source=str(folder))
    theater = run.theater
    theater_name = run.manifest.theater if run.manifest is not None else "korea-japan"
    areas = regions.load_areas(theater_name)
    policy = load_policy(folder / POLICY_FILE) if (folder / POLICY_FILE).is_file() else OPEN
    times = [s.time_unix_s for s in run.track_states]
    launches = run.truth.launches
    start = min([records.unix(launch.launch_time) for launch in launches] + times)
    end = max([records.unix(launch.impact_time) for launch in launches] + times)
    scenario = run.truth.scenario
    pictures = {}
    for partner in theater.partner_ids:
        setup = setup_of(partner, theater, areas, mode="replay", scenario=scenario, start=start, end=end)
        picture = LivePicture(setup)
        updates = _track_updates(run.track_states, partner, policy) + _launch_updates(run.events, partner)
        updates += _alert_updates(run.alerts, partner, policy)
        updates.append(ClockUpdate(time=records.utc(end), speed=1.0, state="finished"))
        updates.sort(key=lambda u: u.time)  # stable: a time's updates keep the order they were made in
        picture.extend(updates)
        pictures[partner] = picture
    return pictures


def _sees(policy: ReleasePolicy, sender: str, recipient: str, kind: str) -> bool:
    return sender == recipient or kind in policy.rule(sender, recipient).kinds


def _track_updates(states: list[records.TrackState], partner: str, policy: ReleasePolicy) -> list[Update]:
    out: list[Update] = []
    for s in states:
        if s.partner == FUSED or not _sees(policy, s.partner, partner, "track"):
            continue
        x = np.array([s.x_m, s.y_m, s.z_m, s.vx_mps, s.vy_mps, s.vz_mps])
        p = np.diag([s.var_x_m2, s.var_y_m2, s.var_z_m2, s.var_vx_m2ps2, s.var_vy_m2ps2, s.var_vz_m2ps2])
        out.append(
            track_update(
                "own" if s.partner == partner else "partner", s.partner, s.track_id, s.time_unix_s, x, p, False
            )
        )
    return out


def _launch_updates(events: records.EventsFile, partner: str) -> list[Update]:
    out: list[Update] = []
    for event in events.events:
        if event.partner != partner:
            continue
        for update in event.updates:
            out.append(LaunchUpdate(time=update.time, event_id=event.event_id, report=update))
        out.append(
            LaunchUpdate(
                time=event.estimated_at,
                event_id=event.event_id,
                report=report_now(event, records.unix(event.estimated_at)),
            )
        )
    return out


def _alert_updates(alerts: records.AlertsFile, partner: str, policy: ReleasePolicy) -> list[Update]:
    return [
        alert_update(alert, number, as_received=alert.partner != partner)
        for alert in alerts.alerts
        if _sees(policy, alert.partner, partner, "alert")
        for number in range(1, len(alert.history) + 1)
    ]
