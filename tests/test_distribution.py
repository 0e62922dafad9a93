"""The Monte Carlo impact distribution against brute-force propagation of the same uncertainty."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mwx.assess import distribution
from mwx.assess.impact import ASSUMED_BETA, fly_to_ground, to_ground
from mwx.geo import regions, wgs84
from mwx.sim.flight import coast
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
    kr_eez = next(k for k, a in enumerate(areas) if a.partner == "KR" and a.kind == "eez")
    # The 700 km flight falls in the Sea of Japan on Korea's side of the median line, inside Korea's EEZ
    # approximation; the 4500 km one far outside it.
    xs, ts = zip(*(_coast_state(f, 0.5) for f in flights), strict=True)
    p = np.broadcast_to(np.diag([50.0**2] * 3 + [1.0**2] * 3), (2, 6, 6))
    d = distribution.predict(np.array(xs), p, np.array(ts), np.random.default_rng(0))
    prob = d.probability_inside(areas)
    lat, lon = np.degrees(d.lat), np.degrees(d.lon)
    mean_inside = regions.contains(areas, lat, lon)[kr_eez]
    assert mean_inside.tolist() == [False, True]
    assert prob[:, kr_eez].tolist() == pytest.approx(mean_inside.astype(float).tolist(), abs=0.02)
    assert prob.shape == (2, len(areas)) and np.all((prob >= 0) & (prob <= 1))


# ----------------------------------------------------------------- the published ellipse against independent truth
TRUTHS = 1000  # truth impacts per case: the binomial σ of a 95 % share is 0.7 %
BAND = (0.93, 0.97)  # ±2.9 σ about 0.95


def _along_track(x: np.ndarray, position_m: float, along_mps: float, across_mps: float) -> np.ndarray:
    """A track covariance: isotropic position σ, velocity σ ``along_mps`` along the velocity, ``across_mps`` across."""
    v = x[3:] / np.linalg.norm(x[3:])
    cross = np.cross(x[:3], v)
    cross /= np.linalg.norm(cross)
    basis = np.stack([v, cross, np.cross(v, cross)], axis=1)
    p = np.zeros((6, 6))
    p[:3, :3] = np.eye(3) * position_m**2
    p[3:, 3:] = basis @ np.diag([along_mps**2, across_mps**2, across_mps**2]) @ basis.T
    return p


# (flight, seconds before impact, covariance): two ways an ellipse gets long and narrow.
ORIENTATION_CASES = {
    # The 4500 km IRBM 10 min before impact, 970 km up, its speed known 10× worse than its direction:
    # the ellipse is ~14× longer than wide, along the track (azimuth ~118°).
    "IRBM-along-track-speed": (0, 600.0, lambda x: _along_track(x, 30.0, 2.0, 0.2)),
    # The 700 km SRBM 150 s before impact, 90 km up: the unknown ballistic coefficient stretches the
    # ellipse ~4× along the track (azimuth ~94°).
    "SRBM-ballistic-coefficient": (1, 150.0, lambda x: np.diag([20.0**2] * 3 + [3.0**2] * 3)),
}


@pytest.fixture(scope="module", params=list(ORIENTATION_CASES))
def independent_truths(flights, request) -> tuple[distribution.ImpactDistribution, np.ndarray, ...]:
    """The prediction for one coasting state; east/north offsets [m], latitudes and longitudes [rad] of truths.

    Truths: states drawn from N(x, P) and ballistic coefficients from the documented prior
    β = 8000 kg/m² · e^(0.3 η), η ~ N(0, 1), each flown to the ground one by one by the simulator's
    own integrator (:func:`mwx.sim.flight.coast`: scipy DOP853 on the truth's force model in the
    launch-fixed inertial frame).  None of that is the prediction's code path, which is the closed-form
    two-body crossing (:mod:`mwx.assess.kepler`) plus offsets of the mean from an ECEF RK4
    (:func:`mwx.assess.impact.fly_to_ground`); only the constants and the atmosphere table are shared.
    """
    which, t_go, covariance = ORIENTATION_CASES[request.param]
    launch = flights[which]
    obj = launch.objects[0]
    t = float(obj.t[-1] - t_go)
    x = obj.states_at(np.array([t]))[0]
    p = covariance(x)
    # 20 000 samples: the ellipse's own sampling noise (±0.7 % of coverage at the default 1000) out of the way.
    predicted = distribution.predict(x[None], p[None], np.array([t]), np.random.default_rng(1), samples=20_000)
    rng = np.random.default_rng(5)
    states = rng.multivariate_normal(x, p, TRUTHS)
    betas = 8000.0 * np.exp(0.3 * rng.standard_normal(TRUTHS))
    since_launch = t - launch.launch_time
    hits = np.empty((TRUTHS, 3))
    for k, (state, beta) in enumerate(zip(states, betas, strict=True)):
        r, v = wgs84.ecef_to_eci(since_launch, state[:3], state[3:])
        _, ecef = coast(launch.trajectory, since_launch, np.concatenate([r, v]), float(beta), step=1e9, rtol=1e-8)
        hits[k] = ecef[-1, :3]  # on the ellipsoid: the impact
    enu = wgs84.ecef_to_enu(hits, predicted.lat[0], predicted.lon[0], 0.0)
    lat, lon, _ = wgs84.ecef_to_geodetic(hits)
    return predicted, enu[:, 0], enu[:, 1], lat, lon


def _share_inside(east: np.ndarray, north: np.ndarray, semi_major: float, semi_minor: float, azimuth: float) -> float:
    """Share of points inside the ellipse with these semi-axes [m], major axis at ``azimuth`` [rad from north]."""
    along = east * math.sin(azimuth) + north * math.cos(azimuth)
    across = east * math.cos(azimuth) - north * math.sin(azimuth)
    return float(np.mean((along / semi_major) ** 2 + (across / semi_minor) ** 2 <= 1.0))


@pytest.mark.slow
def test_published_95_percent_ellipse_holds_95_percent_of_independently_flown_truths(independent_truths) -> None:
    """Centre, size, shape and orientation at once: a long, narrow ellipse covers 95 % only if all are right.

    Measured (1000 truths each, seed 5; ~25 s for both cases): IRBM case 14.3:1 at azimuth 118°, share
    0.959 (inside_95 the same), turned 90° 0.120; SRBM case 4.0:1 at 94°, share 0.947, turned 0.458.
    With the ellipse turned 90° in ``distribution.py`` (``ellipse_95``'s azimuth, or ``cov_en``) both fail.
    """
    predicted, east, north, lat, lon = independent_truths
    semi_major, semi_minor, azimuth = predicted.ellipse_95(0)  # what events.json and the CAP areas publish
    assert semi_major > 3.0 * semi_minor, "the case must have a long, narrow ellipse, or a rotation goes unseen"
    share = _share_inside(east, north, semi_major, semi_minor, azimuth)
    assert BAND[0] <= share <= BAND[1], share
    # The predicate the metrics and warnings use (one point per track) decides the same way.
    inside = [bool(predicted.inside_95(la[None], lo[None])[0]) for la, lo in zip(lat, lon, strict=True)]
    assert BAND[0] <= np.mean(inside) <= BAND[1], np.mean(inside)


@pytest.mark.slow
def test_the_same_ellipse_turned_90_degrees_fails_the_band(independent_truths) -> None:
    """Negative control: the check above can see a wrong orientation."""
    predicted, east, north, _, _ = independent_truths
    semi_major, semi_minor, azimuth = predicted.ellipse_95(0)
    turned = _share_inside(east, north, semi_major, semi_minor, azimuth + math.pi / 2.0)
    assert turned < BAND[0] - 0.3, turned


def test_the_holding_ellipse_stays_finite_when_many_samples_never_land() -> None:
    """A mixture's ellipse is sized to hold 95 % of its samples; where more than 5 % never land (NaN) no
    finite ellipse does, and the landing samples' second moment is kept rather than an infinite one."""
    from mwx.assess.distribution import _holding, _spread

    rng = np.random.default_rng(3)
    centre = wgs84.geodetic_to_ecef(np.radians([40.0]), np.radians([135.0]), np.zeros(1))
    east = wgs84.enu_basis(np.radians([40.0]), np.radians([135.0]))[0, 0]
    pos = centre[:, None, :] + rng.normal(0.0, 5e3, (1, 400, 1)) * east
    cov, lat, lon = _spread(pos, centre)
    held = _holding(cov, pos, centre, lat, lon, 0.95)
    assert 0.5 < held[0, 0, 0] / cov[0, 0, 0] < 2.0  # a Gaussian cloud: about the χ² ellipse
    pos[0, :40] = np.nan  # a tenth never lands
    cov, lat, lon = _spread(pos, centre)
    held = _holding(cov, pos, centre, lat, lon, 0.95)
    assert np.isfinite(held).all() and np.allclose(held, cov)
