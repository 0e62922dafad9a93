"""The Monte Carlo impact distribution against brute-force propagation of the same uncertainty."""

from __future__ import annotations

import numpy as np
import pytest

from mwx.assess import distribution
from mwx.assess.impact import ASSUMED_BETA, fly_to_ground, to_ground
from mwx.geo import regions, wgs84
from mwx.sim.scenario import parse_scenario
from mwx.sim.truth import fly

FLIGHT = """\
name: d
seed: 1
launches:
  - {id: A, time: 2022-10-03T22:22:47Z, site: {lat: 40.61, lon: 126.43}, azimuth_deg: 84.2, apogee_km: 970,
     range_km: 4500, separating_stages: 0}
  - {id: B, time: 2022-10-03T22:22:47Z, site: {lat: 39.2, lon: 125.67}, azimuth_deg: 88, apogee_km: 90,
     range_km: 700, separating_stages: 0}
"""


@pytest.fixture(scope="module")
def flights():
    return fly(parse_scenario(FLIGHT))


def _coast_state(launch, fraction: float) -> tuple[np.ndarray, float]:
    obj = launch.objects[0]
    burnout = launch.launch_time + launch.trajectory.burnout_t
    t = burnout + 30.0 + fraction * (obj.t[-1] - burnout - 90.0)
    return obj.states_at(np.array([t]))[0], float(t)


@pytest.mark.parametrize(("which", "fraction"), [(0, 0.1), (0, 0.6), (1, 0.2), (1, 0.7)])
def test_95_percent_ellipse_holds_95_percent_of_brute_force_impacts(flights, which, fraction) -> None:
    """Truths drawn from the track's own uncertainty (state and ballistic coefficient), flown with the
    full model one by one: the predicted 95 % ellipse must hold about 95 % of them."""
    x, t = _coast_state(flights[which], fraction)
    p = np.diag([200.0**2] * 3 + [3.0**2] * 3)
    rng = np.random.default_rng(5)
    truths = rng.multivariate_normal(x, p, 400)
    betas = ASSUMED_BETA * np.exp(distribution.BETA_SIGMA_LN * rng.standard_normal(400))
    hit, _, _ = fly_to_ground(truths, np.full(400, t), beta=betas)
    lat, lon, _ = wgs84.ecef_to_geodetic(hit[:, :3])
    d = distribution.predict(x[None], p[None], np.array([t]), np.random.default_rng(1), samples=4000)
    inside = np.array([bool(d.inside_95(np.array([la]), np.array([lo]))[0]) for la, lo in zip(lat, lon, strict=True)])
    # 400 draws: the 99.9 % binomial band around 0.95 is about ±0.036.
    assert 0.91 <= inside.mean() <= 0.99, inside.mean()


def test_agrees_with_sigma_points_and_repeats_with_the_seed(flights) -> None:
    x, t = _coast_state(flights[0], 0.3)
    p = np.diag([100.0**2] * 3 + [1.0**2] * 3)
    one = distribution.predict(x[None], p[None], np.array([t]), np.random.default_rng(3), beta_sigma_ln=0.0)
    again = distribution.predict(x[None], p[None], np.array([t]), np.random.default_rng(3), beta_sigma_ln=0.0)
    assert np.array_equal(one.sample_position, again.sample_position)
    sigma = to_ground(x[None], p[None], np.array([t]))
    # Same uncertainty, two methods: the covariances' traces agree to 10 %, the centres to 5 % of σ.
    assert np.trace(one.cov_en[0]) == pytest.approx(np.trace(sigma.cov_en[0]), rel=0.1)
    offset = wgs84.ecef_to_enu(
        wgs84.geodetic_to_ecef(one.lat[0], one.lon[0], 0.0)[None], sigma.lat[0], sigma.lon[0], 0.0
    )[0, :2]
    assert np.linalg.norm(offset) < 0.05 * np.sqrt(np.trace(sigma.cov_en[0])) + 5.0


def test_probability_inside_areas(flights) -> None:
    areas = regions.load_areas()
    jp_eez = next(k for k, a in enumerate(areas) if a.partner == "JP" and a.kind == "eez")
    # The 700 km flight falls in the Sea of Japan inside Japan's EEZ approximation; the 4500 km one far outside.
    xs, ts = zip(*(_coast_state(f, 0.5) for f in flights), strict=True)
    p = np.broadcast_to(np.diag([50.0**2] * 3 + [1.0**2] * 3), (2, 6, 6))
    d = distribution.predict(np.array(xs), p, np.array(ts), np.random.default_rng(0))
    prob = d.probability_inside(areas)
    lat, lon = np.degrees(d.lat), np.degrees(d.lon)
    mean_inside = regions.contains(areas, lat, lon)[jp_eez]
    assert mean_inside.tolist() == [False, True]
    assert prob[:, jp_eez].tolist() == pytest.approx(mean_inside.astype(float).tolist(), abs=0.02)
    assert prob.shape == (2, len(areas)) and np.all((prob >= 0) & (prob <= 1))
