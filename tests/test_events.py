"""A launch event report's figures from a track's published states (:mod:`mwx.assess.events`)."""

from __future__ import annotations

import numpy as np
import pytest

from mwx.assess.events import History, assess_track
from mwx.geo import wgs84
from mwx.sim.scenario import parse_scenario
from mwx.sim.truth import fly

LOFTED = """\
name: lofted
seed: 2
launches:
  - {id: H, time: 2017-11-28T18:17:00Z, site: {lat: 39.2, lon: 125.67}, azimuth_deg: 95, apogee_km: 4475,
     range_km: 950}
"""


@pytest.fixture(scope="module")
def lofted():
    return fly(parse_scenario(LOFTED))[0]


def _history(t: np.ndarray, truth: np.ndarray, seed: int) -> History:
    p = np.diag([50.0**2] * 3 + [0.5**2] * 3)
    x = truth + np.random.default_rng(seed).multivariate_normal(np.zeros(6), p, len(t))
    return History("T", t, x, np.tile(p, (len(t), 1, 1)), float(t[0]), np.zeros(len(t), bool))


@pytest.mark.parametrize("seen", ["climb beside the stage, then the fall", "the fall", "the climb"])
def test_the_apogee_of_a_lofted_arc_whose_top_no_radar_saw(lofted, seen: str) -> None:
    """A 4475 km lofted arc seen only below 2500 km: one track that held the bright spent stage in the
    climb (a radar that does not resolve it from the body; the stage was pushed back 3 m/s) and the body
    as it falls, or the fall alone, or the climb alone.  The apogee is the body's within 0.5 km.  (Before:
    the climbing states alone, as two-body arcs over the Earth's radius under each state: 6–7 km low on
    the stage's, and the fall alone said only how high the track began.)"""
    body = lofted.objects[0]
    stage = max((o for o in lofted.objects if o.kind == "stage"), key=lambda o: o.t[0])
    t = np.arange(stage.t[0] + 40.0, body.t[-1], 4.0)
    height = wgs84.ellipsoidal_height(body.states_at(t)[:, :3])
    rising = np.r_[np.diff(height) > 0.0, False]
    low = (height < 2500e3) & (height > 30e3)
    climb, fall = t[low & rising], t[low & ~rising]
    if seen == "the fall":
        parts = [(fall, body)]
    elif seen == "the climb":
        parts = [(climb, body)]
    else:
        parts = [(climb, stage), (fall, body)]
    times = np.concatenate([when for when, _ in parts])
    truth = np.concatenate([obj.states_at(when) for when, obj in parts])
    report = assess_track(_history(times, truth, seed=len(seen)), (), np.random.default_rng(1))
    assert report is not None
    assert abs(report["apogee_km"] - lofted.trajectory.apogee_alt / 1e3) < 0.5, report["apogee_km"]


PAIR = """\
name: pair
seed: 3
launches:
  - {id: M, time: 2023-03-16T00:00:00Z, site: {lat: 39.2, lon: 125.67}, azimuth_deg: 80, apogee_km: 1300,
     range_km: 6500, separating_stages: 1}
"""


def test_of_a_parted_body_and_stage_the_one_keeping_more_energy_is_reported_as_the_body() -> None:
    """A 6500 km missile's re-entry body and its spent stage, pushed back 3 m/s at burnout, each held by a
    track from 60 s after it: the body's track is shown to be the body (more energy than its stage's, by
    more than three σ) and its report predicts the body's fall alone, stage probability nil, with an
    ellipse that holds the body's impact and is narrower than the body-or-stage one of the track alone.
    The stage's track is never taken for the body, and a track without its pair is never shown to be one.
    (Before: three in ten for a stage, the prior of its class, at every report of the pair.)"""
    from mwx.assess import distribution
    from mwx.assess.events import body_since, launch_events

    launch = fly(parse_scenario(PAIR))[0]
    body, stage = launch.objects[0], next(o for o in launch.objects if o.kind == "stage")
    t = np.arange(body.burnout + 60.0, stage.t[-1] - 200.0, 2.0)
    tracks = [_history(t, obj.states_at(t), seed) for seed, obj in enumerate((body, stage))]
    tracks[0].track_id, tracks[1].track_id = "B", "S"
    shown = body_since(tracks)
    assert shown["B"] < t[0] + 200.0 and shown["S"] == np.inf, shown
    assert body_since(tracks[:1]) == {"B": np.inf}
    [event] = launch_events(tracks, (), seed=1, end_time=float(body.t[-1]), partner="KR")
    [alone] = launch_events(tracks[:1], (), seed=1, end_time=float(body.t[-1]), partner="KR")
    assert event.event_id == "B"
    assert event.stage_probability < 0.01 and alone.stage_probability > 0.2
    fall_lat, fall_lon, _ = wgs84.ecef_to_geodetic(body.ecef[-1, :3])
    e = event.impact_ellipse_95
    d = distribution._east_north(
        np.radians(event.impact_point.lat), np.radians(event.impact_point.lon), fall_lat, fall_lon
    )
    a, b, theta = e.semi_major_km * 1e3, e.semi_minor_km * 1e3, np.radians(e.orientation_deg)
    along, across = d[0] * np.sin(theta) + d[1] * np.cos(theta), d[0] * np.cos(theta) - d[1] * np.sin(theta)
    assert (along / a) ** 2 + (across / b) ** 2 <= 1.0
    assert e.semi_major_km < 0.8 * alone.impact_ellipse_95.semi_major_km, (e, alone.impact_ellipse_95)
