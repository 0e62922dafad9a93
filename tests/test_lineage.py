"""Launch lineage: a missile's objects stay one launch, a salvo's missiles stay apart (mwx.assess.lineage)."""

from __future__ import annotations

import functools

import numpy as np

from mwx.assess.lineage import WAIT_S, LaunchBook, Sighting
from mwx.sim.scenario import parse_scenario
from mwx.sim.truth import TruthLaunch, fly

P = np.diag([30.0**2] * 3 + [3.0**2] * 3)  # a well-settled radar track: 30 m, 3 m/s per axis
POWERED_AFTER_SEPARATION_S = 15.0  # how long a new stage track is still called powered by its tracker


@functools.cache
def icbm() -> TruthLaunch:
    """A 9000 km flight whose first stage drops at 45 % of its burn while the upper stage burns on."""
    text = """\
name: lineage
launches:
  - {time: 2024-01-01T00:00:00Z, site: {lat: 39.0, lon: 125.7}, azimuth_deg: 70, apogee_km: 1500,
     range_km: 9000, separating_stages: 2}
"""
    (launch,) = fly(parse_scenario(text))
    return launch


def sighting(system_id: str, obj, t: float, *, boosting: bool, lag_s: float = 0.0) -> Sighting:
    x = obj.states_at(np.array([t - lag_s]))[0]
    return Sighting(system_id, t, x, P, boosting)


def test_a_first_stage_dropped_in_boost_is_its_missiles_object() -> None:
    """The stage's track starts next to the burning missile and is still called powered for a while: at
    one instant it is a salvo's next missile; it waits until it coasts, and flown back it meets its own."""
    launch = icbm()
    body, first = launch.objects[0], next(o for o in launch.objects if o.id.endswith("/S1"))
    book = LaunchBook("KR")
    seen_from = first.t[0] + 5.0
    for t in np.arange(launch.launch_time + 60.0, first.t[0] + 120.0, 5.0):
        found = [sighting("KR-F0001", body, t, boosting=bool(body.burning(np.array([t]))[0]))]
        if t >= seen_from:
            found.append(sighting("KR-F0002", first, t, boosting=t < first.t[0] + POWERED_AFTER_SEPARATION_S))
        book.place(t, found)
    assert book.of("KR-F0002") == book.of("KR-F0001") is not None
    assert len(book.launches) == 1
    assert not book._waiting  # placed: nothing left waiting


def test_a_salvos_next_missile_waits_at_most_a_while_and_is_a_launch_of_its_own() -> None:
    """Ten seconds behind on the same path, burning: it waits (a stage would show itself coasting), then
    starts its own launch within WAIT_S, long before its burnout."""
    launch = icbm()
    body = launch.objects[0]
    book = LaunchBook("JP")
    first_seen = launch.launch_time + 80.0
    placed_at = None
    for t in np.arange(launch.launch_time + 70.0, launch.launch_time + 200.0, 5.0):
        found = [sighting("JP-F0001", body, t, boosting=True)]
        if t >= first_seen:
            found.append(sighting("JP-F0002", body, t, boosting=True, lag_s=10.0))
        book.place(t, found)
        if placed_at is None and book.of("JP-F0002") is not None:
            placed_at = t
    assert body.burnout > launch.launch_time + 200.0  # still burning throughout
    assert placed_at is not None and first_seen < placed_at <= first_seen + WAIT_S + 5.0
    assert book.of("JP-F0002") != book.of("JP-F0001")
    assert len(book.launches) == 2
    assert not book._waiting
