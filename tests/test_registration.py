"""Sensor registration in the tracker (mwx.track.registration) and what it does to the tracks' covariances.

Monte Carlo over seeded runs of one flight seen by radars with registration biases drawn from their
priors.  Consistency is judged as in ``tests/test_tracker.py``: Bar-Shalom's χ² test of the run-averaged
NEES (Bar-Shalom, Li & Kirubarajan 2001, §5.4), here of the bias estimates and of the tracks.
"""

from __future__ import annotations

import numpy as np
import pytest

from mwx.exercise import metrics
from mwx.exercise.replay import replay
from mwx.geo import wgs84
from mwx.sim import sensors
from mwx.sim.scenario import parse_scenario
from mwx.sim.theater import Radar, Site
from mwx.sim.truth import fly
from mwx.track.registration import Registration
from mwx.track.tracker import TrackerConfig, missile_tracker

FLIGHT = """\
name: registration
seed: 1
launches:
  - {{id: M, time: 2023-01-01T00:00:00Z, site: {{lat: 40.0, lon: 127.5}}, azimuth_deg: 90, apogee_km: {apogee},
     range_km: {range}, separating_stages: {stages}}}
"""
# Biases of the size of the theater's radars (0.2–0.3 mrad: 200–300 m at 1000 km), ten times the noise's
# effect on a settled track.  Pd ≈ 1 over the whole flight (huge reference range), no clutter.
_BIASED = dict(revisit_s=2.0, ref_range_km=1e5, max_range_km=2500, sigma_range_m=30, sigma_az_mrad=0.5,
               sigma_el_mrad=0.5, bias_range_m=20.0, bias_az_mrad=0.3, bias_el_mrad=0.3)  # fmt: skip
RADARS = [
    Radar(id="A", partner="X", site=Site(lat=38.5, lon=130.0, alt_m=100), **_BIASED),
    Radar(id="B", partner="X", site=Site(lat=41.0, lon=134.0, alt_m=100), sigma_range_rate_mps=2.0, **_BIASED),
]
RUNS = 12
#: The flight is one piece (``separating_stages: 0``): the tracker's allowance for a missile's unresolved
#: pieces (conservative by design when nothing parts) is off, so what is measured is the registration's.
ONE_PIECE = TrackerConfig(group_allowance_s=0.0)


def _runs(radars: list[Radar], runs: int, *, estimate: bool = True, apogee: int = 350, range_km: int = 1300):
    """Per run: (true biases (n_b,), the registration, coast errors (k, 6), covariances (k, 6, 6))."""
    launch = fly(parse_scenario(FLIGHT.format(apogee=apogee, range=range_km, stages=0)))[0]
    obj = launch.objects[0]
    burnout = launch.launch_time + launch.trajectory.burnout_t
    sensors_of = dict(enumerate(radars))
    out = []
    for seed in range(runs):
        run = sensors.simulate_sensors(radars, [obj], obj.t[0], obj.t[-1], seed)
        tracker = missile_tracker("X", ONE_PIECE, registration=Registration.of(sensors_of) if estimate else None)
        record = replay(tracker, run.measurements, sensors_of)
        truth = obj.states_at(record.time)
        coast = (record.time >= burnout + 60.0) & (wgs84.ellipsoidal_height(truth[:, :3]) > 100e3)
        true_bias = np.concatenate([run.biases[r.id] for r in radars])
        out.append((true_bias, tracker.registration, record.x[coast, :6] - truth[coast], record.P[coast, :6, :6]))
    return out


@pytest.fixture(scope="module")
def two_radars():
    return _runs(RADARS, RUNS)


@pytest.mark.slow
def test_two_radars_learn_their_biases_as_well_as_their_covariance_says(two_radars) -> None:
    # Run-averaged NEES of the six bias estimates inside its 95 % bounds: the registration is neither
    # optimistic (it would be if the innovations it takes were not white) nor needlessly conservative.
    nees = [float((reg.b - b) @ np.linalg.solve(reg.P, reg.b - b)) for b, reg, _, _ in two_radars]
    low, high = metrics.chi2_bounds(6, RUNS)
    assert low <= np.mean(nees) <= high, (np.mean(nees), low, high)
    # And it learned: the angle offsets (0.3 mrad prior) to a third of their prior or better, and to a
    # tenth on the median run.
    sigmas = np.array([reg.sigma(sensor)[1:] for _, reg, _, _ in two_radars for sensor in reg.columns])
    assert np.all(sigmas < 0.34 * 0.3e-3), sigmas
    assert np.median(sigmas) < 0.1 * 0.3e-3, np.median(sigmas)


@pytest.mark.slow
def test_tracks_carry_what_is_unknown_of_the_biases(two_radars) -> None:
    # Coast NEES per run (its median over the coast), then the mean over the runs: near 6.
    medians = [np.median(metrics.nees(e, p)) for _, _, e, p in two_radars]
    assert 3.5 <= np.mean(medians) <= 7.5, medians
    # The same radars, the biases taken as noise instead (the tracker before registration): each report's
    # noise widened by the bias variance, which averaging over many reports shrinks away — optimistic by
    # orders of magnitude.  The test above can fail.
    without = _runs(RADARS, 3, estimate=False)
    assert np.mean([np.median(metrics.nees(e, p)) for _, _, e, p in without]) > 50.0


@pytest.mark.slow
def test_what_one_radar_cannot_see_stays_in_the_covariance() -> None:
    """One radar: its azimuth offset turns every track about the site, which no trajectory shows."""
    runs = _runs(RADARS[:1], 6)
    for _, reg, _, _ in runs:
        prior = reg.prior_sigma[1]
        assert reg.sigma(0)[1] > 0.9 * prior, (reg.sigma(0), prior)  # azimuth: unobservable, still unknown
        assert reg.sigma(0)[2] < 0.5 * prior  # elevation: the direction of gravity shows it
    medians = [np.median(metrics.nees(e, p)) for _, _, e, p in runs]
    assert 3.5 <= np.mean(medians) <= 7.5, medians


def test_a_radar_without_bias_has_no_columns_and_the_selector_places_the_rest() -> None:
    reg = Registration({0: (0.0, 0.0, 0.0), 3: (10.0, 2e-4, 3e-4), 5: (5.0, 1e-4, 1e-4)})
    assert reg.columns == {3: 0, 5: 3} and reg.size == 6
    c = reg.selector(5, 4)  # range, azimuth, elevation, range rate
    np.testing.assert_array_equal(c[:3, 3:], np.eye(3))
    assert not c[3].any() and not c[:, :3].any()
    assert not reg.selector(0, 3).any()
    np.testing.assert_allclose(reg.sigma(3), [10.0, 2e-4, 3e-4])


def test_the_update_is_the_information_filter_on_stacked_innovations() -> None:
    # Two scalar biases, two innovations ν = S b + ε: the posterior is the batch least-squares one.
    reg = Registration({0: (10.0, 1e-3, 1e-3)})
    rng = np.random.default_rng(4)
    b_true = np.array([7.0, 2e-4, -5e-4])
    s = rng.normal(size=(5, 3, 3)) * np.array([1.0, 1e3, 1e3])
    cov = np.tile(np.eye(3) * 4.0, (5, 1, 1))
    nu = np.einsum("mkb,b->mk", s, b_true) + rng.normal(0.0, 2.0, (5, 3))
    reg.update(s, nu, cov)
    prior_info = np.diag(1.0 / np.array([10.0, 1e-3, 1e-3]) ** 2)
    info = prior_info + sum(si.T @ si / 4.0 for si in s)
    expected = np.linalg.solve(info, sum(si.T @ ni / 4.0 for si, ni in zip(s, nu, strict=True)))
    np.testing.assert_allclose(reg.b, expected, rtol=1e-8)
    np.testing.assert_allclose(reg.P, np.linalg.inv(info), rtol=1e-8)
