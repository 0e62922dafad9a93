"""Sensor measurement models (mwx.sim.sensors) against their documented statistics and independent geometry.

Statistical tests run with fixed seeds, so each is deterministic; every bound
is two-sided at 99.9 % (p > 1e-3), i.e. a correct model would fail a given
check for about one seed in a thousand.  The samples are large enough that
the mistakes these tests are meant to catch (a wrong power in the noise
scale, a missing floor, Pd off by 0.05, a per-row instead of per-scan delay)
lie far outside those bounds.

Geometry used as truth in the field-of-regard and first-detection tests is
computed here, not with sensors.py: sites through PROJ (EPSG:4979 → 4978),
east-north-up by an explicit rotation, limits compared in degrees.
"""

from __future__ import annotations

import math
from functools import cache

import msgspec
import numpy as np
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from scipy import stats

from mwx.geo import wgs84
from mwx.sim import sensors, truth
from mwx.sim.scenario import parse_scenario, theater_of
from mwx.sim.sensors import Measurements, simulate_sensors
from mwx.sim.theater import GeostationaryOrbit, InfraredSatellite, Radar, Site, scan_times
from mwx.sim.truth import TruthObject

P_MIN = 1e-3  # two-sided significance of every statistical check (99.9 % confidence)
T0 = 1_664_834_400.0  # 2022-10-03T22:00:00Z
GEOD = Geod(ellps="WGS84")
BLIND_M = 10e3  # radar blind zone, as documented (sensors.MIN_RANGE_M)

# 2022-10-04 overflight of Japan (Japan MoD: launched 07:22 JST from near Mupyong-ri, ~4600 km, apogee ~970 km).
OVERFLIGHT = """\
name: overflight-2022-10-04
launches:
  - {time: 2022-10-03T22:22:47Z, site: {lat: 40.61, lon: 126.43}, azimuth_deg: 84.2, apogee_km: 970, range_km: 4500}
"""
# 2017-11-28 lofted ICBM (Hwasong-15, 03:17 KST near Pyongsong; apogee ~4475 km, ~950 km, ~53 min).
LOFTED = """\
name: lofted-2017-11-28
launches:
  - {time: 2017-11-27T18:17:00Z, site: {lat: 39.25, lon: 125.87}, azimuth_deg: 95, apogee_km: 4475, range_km: 950}
"""


# ----------------------------------------------------------------- helpers
@cache
def _to_ecef() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)


def _site_ecef(site: Site) -> np.ndarray:
    return np.array(_to_ecef().transform(site.lon, site.lat, site.alt_m))


def _aer_deg(site: Site, xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Azimuth, elevation [deg] and range [m] of ECEF points (n, 3) from ``site``: own rotation, PROJ site."""
    lat, lon = math.radians(site.lat), math.radians(site.lon)
    sl, cl, so, co = math.sin(lat), math.cos(lat), math.sin(lon), math.cos(lon)
    rot = np.array([[-so, co, 0.0], [-sl * co, -sl * so, cl], [cl * co, cl * so, sl]])
    e, n, u = ((np.asarray(xyz) - _site_ecef(site)) @ rot.T).T
    return (
        np.degrees(np.arctan2(e, n)) % 360.0,
        np.degrees(np.arctan2(u, np.hypot(e, n))),
        np.sqrt(e * e + n * n + u * u),
    )


def _in_regard(radar: Radar, az: np.ndarray, el: np.ndarray, rng_m: np.ndarray, margin: float = 0.0) -> np.ndarray:
    """Field of regard from the radar's settings (degrees, km); ``margin`` > 0 shrinks it, < 0 grows it."""
    off = np.abs((az - radar.boresight_deg + 180.0) % 360.0 - 180.0)
    sector = (off <= radar.sector_deg / 2.0 - margin) | (radar.sector_deg >= 360.0)
    return (
        sector
        & (el >= radar.min_elevation_deg + margin)
        & (el <= radar.max_elevation_deg - margin)
        & (rng_m >= BLIND_M + margin)
        & (rng_m <= radar.max_range_km * 1e3 - margin)
    )


def _radar(**changes) -> Radar:
    base = {
        "id": "TEST-R",
        "partner": "JP",
        "site": Site(lat=35.0, lon=135.0, alt_m=100.0),
        "revisit_s": 1.0,
        "ref_range_km": 800.0,
        "max_range_km": 3000.0,
        "sigma_range_m": 20.0,
        "sigma_az_mrad": 0.5,
        "sigma_el_mrad": 0.7,
        "sigma_range_rate_mps": 2.0,
        "false_alarms_per_scan": 0.0,
        "latency_s": 0.5,
        "latency_jitter_s": 0.0,
    }
    return Radar(**(base | changes))


def _object(
    index: int,
    site: Site,
    az_deg: float,
    el_deg: float,
    range_km: float,
    t_end: float,
    velocity_enu: tuple[float, float, float] = (0.0, 0.0, 0.0),
    rcs_m2: float = 1.0,
    burnout: float = -np.inf,
) -> TruthObject:
    """A straight-line (constant ECEF velocity) object starting at (az, el, range) from ``site`` at T0."""
    lat, lon = math.radians(site.lat), math.radians(site.lon)
    enu = wgs84.aer_to_enu(math.radians(az_deg), math.radians(el_deg), range_km * 1e3)
    p0 = wgs84.enu_to_ecef(enu, lat, lon, site.alt_m)
    v = wgs84.enu_basis(lat, lon).T @ np.asarray(velocity_enu, float)
    t = np.arange(T0, t_end + 1.0, 1.0)
    ecef = np.hstack([p0 + (t - T0)[:, None] * v, np.tile(v, (t.size, 1))])
    return TruthObject(f"T{index}", "warhead", "T", t, ecef, rcs_m2=rcs_m2, burnout=burnout)


def _true_states(objects, which: np.ndarray, times: np.ndarray) -> np.ndarray:
    out = np.full((times.size, 6), np.nan)
    for k in np.unique(which):
        rows = which == k
        out[rows] = objects[k].states_at(times[rows])
    return out


def _chi2_ok(x: np.ndarray) -> tuple[float, float, float]:
    """Sum of squares of ``x`` and the 99.9 % two-sided chi-square bounds for len(x) degrees of freedom."""
    n = x.size
    return float(np.sum(x * x)), float(stats.chi2.ppf(P_MIN / 2, n)), float(stats.chi2.ppf(1 - P_MIN / 2, n))


def _assert_chi2(x: np.ndarray, what: str) -> None:
    s, lo, hi = _chi2_ok(x)
    assert lo <= s <= hi, f"{what}: chi2 {s:.1f} with {x.size} dof outside [{lo:.1f}, {hi:.1f}]"


def _fly(text: str):
    scenario = parse_scenario(text)
    (launch,) = truth.fly(scenario)
    return launch, theater_of(scenario)


@pytest.fixture(scope="module")
def overflight():
    return _fly(OVERFLIGHT)


@pytest.fixture(scope="module")
def lofted():
    return _fly(LOFTED)


@pytest.fixture(scope="module", params=["overflight", "lofted"])
def flight(request):
    return request.getfixturevalue(request.param)


# ----------------------------------------------------------------- 1. noise vs the stated covariance
def _noise_run():
    radar = _radar()
    t1 = T0 + 1500.0
    site = radar.site
    # Ranges from well inside the floor ((R/R_ref)² < 1/4) to beyond R_ref; 45° apart, so never unresolved.
    specs = [
        (0.0, 20.0, 150.0, (80.0, 0.0, 0.0)),
        (45.0, 15.0, 300.0, (0.0, -100.0, 0.0)),
        (90.0, 25.0, 500.0, (60.0, 60.0, 0.0)),
        (135.0, 10.0, 700.0, (-90.0, 30.0, 0.0)),
        (180.0, 30.0, 900.0, (0.0, 100.0, 0.0)),
        (225.0, 12.0, 1050.0, (70.0, -70.0, 0.0)),
    ]
    objects = [_object(i, site, a, e, r, t1, v) for i, (a, e, r, v) in enumerate(specs)]
    return radar, objects, simulate_sensors([radar], objects, T0, t1, seed=101).measurements


def test_radar_noise_matches_reported_sigma_and_snr_scaling() -> None:
    radar, objects, m = _noise_run()
    assert not m.false_alarm.any() and len(m) > 5000
    truth_states = _true_states(objects, m.object, m.time)
    lat0, lon0 = math.radians(radar.site.lat), math.radians(radar.site.lon)
    az, el, rng_m = wgs84.enu_to_aer(wgs84.ecef_to_enu(truth_states[:, :3], lat0, lon0, radar.site.alt_m))
    line = truth_states[:, :3] - radar.site_ecef
    rate = np.einsum("ij,ij->i", line, truth_states[:, 3:]) / np.linalg.norm(line, axis=1)

    # Reported sigma: reference sigma × max(√(SNR_ref/SNR), floor), SNR by the R⁴ law (rcs 1 m² = ref).
    snr = radar.ref_snr * (radar.ref_range_km * 1e3 / rng_m) ** 4
    scale = np.maximum(np.sqrt(radar.ref_snr / snr), sensors.SIGMA_FLOOR)
    ref = np.array([radar.sigma_range_m, radar.sigma_az_mrad * 1e-3, radar.sigma_el_mrad * 1e-3, 2.0])
    np.testing.assert_allclose(m.sigma, ref[None, :] * scale[:, None], rtol=1e-9)
    np.testing.assert_allclose(m.snr_db, 10 * np.log10(snr), atol=1e-9)
    floored = np.sqrt(radar.ref_snr / snr) < sensors.SIGMA_FLOOR
    assert 1000 < floored.sum() < floored.size - 1000  # both regimes well sampled

    residual = np.column_stack(
        [m.z[:, 0] - rng_m, (m.z[:, 1] - az + math.pi) % (2 * math.pi) - math.pi, m.z[:, 2] - el, m.z[:, 3] - rate]
    )
    normalized = residual / m.sigma
    for k, name in enumerate(sensors.RADAR_COLUMNS):
        _assert_chi2(normalized[:, k], name)
        # Separately where the floor holds and where √(SNR_ref/SNR) does: a noise that ignored either fails here.
        _assert_chi2(normalized[floored, k], f"{name} (floor)")
        _assert_chi2(normalized[~floored, k], f"{name} (SNR-scaled)")
        # Unbiased (bias sigmas are zero): mean of n standard normals within 3.29/√n.
        assert abs(normalized[:, k].mean()) < stats.norm.ppf(1 - P_MIN / 2) / math.sqrt(len(m)), name


def _infrared_run(pd: float = 1.0, seed: int = 202):
    satellite = InfraredSatellite(
        id="TEST-IR", partner="US", orbit=GeostationaryOrbit(lon_deg=130.0), frame_s=1.0, sigma_urad=30.0, pd=pd
    )
    t1 = T0 + 1500.0
    site = Site(lat=35.0, lon=130.0)
    # Burning objects at 40-400 km altitude (above the 10 km cloud tops), 50 km apart.
    objects = [
        _object(i, site, 90.0 * i, 60.0 + 5 * i, 50.0 + 100.0 * i, t1, (300.0, 200.0, 100.0), burnout=t1 + 10.0)
        for i in range(4)
    ]
    return satellite, objects, simulate_sensors([satellite], objects, T0, t1, seed=seed).measurements


def test_infrared_angle_noise_matches_sigma_urad() -> None:
    satellite, objects, m = _infrared_run()
    assert len(m) == 4 * 1500  # pd = 1: every frame of every burning object
    np.testing.assert_allclose(m.origin, satellite.position(m.time), atol=1e-6)
    truth_states = _true_states(objects, m.object, m.time)
    alpha, beta = sensors.los_angles(m.origin, truth_states[:, :3])
    np.testing.assert_allclose(m.sigma[:, 1:3], 30e-6, rtol=1e-12)
    assert np.isnan(m.z[:, [0, 3]]).all() and np.isnan(m.snr_db).all()
    for name, residual in (("alpha", m.z[:, 1] - alpha), ("beta", m.z[:, 2] - beta)):
        _assert_chi2(residual / 30e-6, name)


# ----------------------------------------------------------------- 2. detection rates vs the Pd model
def _range_for_pd(radar: Radar, pd: float, rcs_m2: float = 1.0) -> float:
    """Range [km] at which the Swerling 1 model gives ``pd``: invert Pd = Pfa^(1/(1+SNR)) and the R⁴ law."""
    snr = math.log(radar.pfa) / math.log(pd) - 1.0
    return radar.ref_range_km * (radar.ref_snr * rcs_m2 / radar.ref_rcs_m2 / snr) ** 0.25


def test_detection_rates_match_swerling1_model_and_field_of_regard_edges() -> None:
    # Sector [-40°, 160°] (wraps through north), elevations [0.5°, 85°], ranges [10 km, 2000 km].
    radar = _radar(ref_range_km=500.0, max_range_km=2000.0, boresight_deg=60.0, sector_deg=200.0)
    n_scans = 3000
    t1 = T0 + n_scans - 0.5
    site = radar.site
    targets = {0.3: 0.0, 0.6: 40.0, 0.9: 80.0}  # Pd -> azimuth
    objects = [_object(i, site, az, 10.0, _range_for_pd(radar, pd), t1) for i, (pd, az) in enumerate(targets.items())]
    big = 1e6  # m²: Pd ≥ 0.99996 anywhere inside
    edges = [  # (az, el, range km, inside?)
        (159.0, 20.0, 300.0, True),
        (161.0, 20.0, 300.0, False),
        (-39.0, 20.0, 300.0, True),
        (-41.0, 20.0, 300.0, False),
        (100.0, 10.0, 1990.0, True),
        (110.0, 10.0, 2010.0, False),
        (130.0, 0.6, 200.0, True),
        (135.0, 0.4, 200.0, False),
        (20.0, 84.5, 500.0, True),
        (60.0, 85.5, 500.0, False),
        (140.0, 30.0, 12.0, True),
        (150.0, 30.0, 8.0, False),
    ]
    objects += [_object(len(objects) + i, site, a, e, r, t1, rcs_m2=big) for i, (a, e, r, _) in enumerate(edges)]
    m = simulate_sensors([radar], objects, T0, t1, seed=303).measurements
    n_scans = scan_times(radar.revisit_s, radar.id, T0, t1).size
    assert n_scans >= 2999
    counts = np.bincount(m.object[m.object >= 0], minlength=len(objects))
    for k, pd in enumerate(targets):
        snr = radar.ref_snr * (500.0 / _range_for_pd(radar, pd)) ** 4
        model = radar.pfa ** (1.0 / (1.0 + snr))
        assert model == pytest.approx(pd, rel=1e-9)
        assert sensors.detection_probability(
            sensors.signal_to_noise(radar, 1.0, _range_for_pd(radar, pd) * 1e3), 1e-6
        ) == (pytest.approx(pd, rel=1e-9))
        result = stats.binomtest(int(counts[k]), n_scans, pd)
        assert result.pvalue > P_MIN, f"Pd {pd}: {counts[k]}/{n_scans} detections"
    for i, (az, el, r, inside) in enumerate(edges):
        count = counts[len(targets) + i]
        if inside:
            assert count >= n_scans - 3, (az, el, r)
        else:
            assert count == 0, (az, el, r)


def test_unresolved_objects_give_one_detection_the_strongest() -> None:
    radar = _radar(ref_range_km=50_000.0)  # SNR > 10⁸: a miss in 100 scans has probability < 1e-5
    t1 = T0 + 99.5
    site = radar.site
    objects = [
        _object(0, site, 30.0, 20.0, 600.0, t1, rcs_m2=0.1),
        _object(1, site, 30.0, 20.0, 600.05, t1, rcs_m2=2.0),  # 50 m behind: same range cell and beam
        _object(2, site, 30.0, 20.0, 600.5, t1, rcs_m2=0.1),  # 500 m behind: resolved
    ]
    m = simulate_sensors([radar], objects, T0, t1, seed=5).measurements
    n = scan_times(radar.revisit_s, radar.id, T0, t1).size
    counts = np.bincount(m.object, minlength=3)
    assert counts.tolist() == [0, n, n]


def test_infrared_detection_rate_matches_pd() -> None:
    _, _, m = _infrared_run(pd=0.9, seed=204)
    result = stats.binomtest(len(m), 4 * 1500, 0.9)
    assert result.pvalue > P_MIN, len(m)


# ----------------------------------------------------------------- 3. false alarms
def test_false_alarms_are_poisson_and_uniform_over_the_field_of_regard() -> None:
    lam = 2.5
    radar = _radar(
        boresight_deg=350.0,
        sector_deg=120.0,
        min_elevation_deg=2.0,
        max_elevation_deg=70.0,
        max_range_km=1500.0,
        false_alarms_per_scan=lam,
    )
    t1 = T0 + 4000.0 - 0.5
    m = simulate_sensors([radar], [], T0, t1, seed=404).measurements
    assert m.false_alarm.all()
    scans = scan_times(radar.revisit_s, radar.id, T0, t1)
    index = np.searchsorted(scans, m.time)
    np.testing.assert_array_equal(scans[index], m.time)  # every false alarm belongs to a scan
    counts = np.bincount(index, minlength=scans.size)
    n = scans.size
    # Total ~ Poisson(n λ).
    total = int(counts.sum())
    assert stats.poisson.ppf(P_MIN / 2, n * lam) <= total <= stats.poisson.ppf(1 - P_MIN / 2, n * lam), total
    # Dispersion index Σ(c - c̄)²/c̄ ~ χ²(n - 1) for Poisson counts (1 for the variance-to-mean ratio).
    dispersion = float(np.sum((counts - counts.mean()) ** 2) / counts.mean())
    assert stats.chi2.ppf(P_MIN / 2, n - 1) <= dispersion <= stats.chi2.ppf(1 - P_MIN / 2, n - 1), dispersion / (n - 1)
    # Goodness of fit of the count histogram (0..6, ≥ 7) to Poisson(λ).
    observed = np.bincount(np.minimum(counts, 7), minlength=8)
    expected = n * np.r_[stats.poisson.pmf(np.arange(7), lam), stats.poisson.sf(6, lam)]
    assert stats.chisquare(observed, expected).pvalue > P_MIN

    # Inside the field of regard, and uniform in range, azimuth and elevation over it.
    az, el, r = np.degrees(m.z[:, 1]), np.degrees(m.z[:, 2]), m.z[:, 0]
    assert _in_regard(radar, az, el, r).all()
    offset = (az - radar.boresight_deg + 180.0) % 360.0 - 180.0
    assert stats.kstest(offset, "uniform", args=(-60.0, 120.0)).pvalue > P_MIN
    assert stats.kstest(el, "uniform", args=(2.0, 68.0)).pvalue > P_MIN
    assert stats.kstest(r, "uniform", args=(BLIND_M, 1500e3 - BLIND_M)).pvalue > P_MIN
    assert (np.abs(m.z[:, 3]) <= sensors.FALSE_ALARM_MAX_SPEED).all()
    # Reported at the threshold SNR ln(1/Pfa), with the sigma that SNR gives.
    snr = math.log(1.0 / radar.pfa)
    np.testing.assert_allclose(m.snr_db, 10 * math.log10(snr))
    np.testing.assert_allclose(m.sigma[:, 0], radar.sigma_range_m * max(math.sqrt(radar.ref_snr / snr), 0.25))


# ----------------------------------------------------------------- 4. never below the horizon or outside the field
def test_built_in_theater_detections_lie_in_field_of_regard_above_horizon(flight) -> None:
    launch, theater = flight
    objects = launch.objects
    run = simulate_sensors(theater.sensors, objects, launch.launch_time, launch.impact_time, seed=17)
    m = run.measurements
    seen_by = 0
    for i, radar in enumerate(theater.radars):
        rows = (m.sensor == i) & ~m.false_alarm
        fa = (m.sensor == i) & m.false_alarm
        seen_by += bool(rows.any())
        states = _true_states(objects, m.object[rows], m.time[rows])
        az, el, r = _aer_deg(radar.site, states[:, :3])
        assert _in_regard(radar, az, el, r, margin=-1e-7).all(), radar.id
        assert sensors.line_of_sight_clear(_site_ecef(radar.site), states[:, :3]).all(), radar.id
        # False alarms (reported without noise or bias) lie in the field too.
        assert _in_regard(radar, np.degrees(m.z[fa, 1]), np.degrees(m.z[fa, 2]), m.z[fa, 0], margin=-1e-7).all()
        if radar.sigma_range_rate_mps is None:
            assert np.isnan(m.z[rows | fa, 3]).all() and np.isnan(m.sigma[rows | fa, 3]).all()
    assert seen_by >= 7


# ----------------------------------------------------------------- 5. latency
@pytest.mark.parametrize("kind", ["radar", "infrared"])
def test_latency_one_draw_per_scan_with_configured_mean(kind: str) -> None:
    latency, jitter, n_scans = 1.0, 1.5, 3000
    t1 = T0 + n_scans - 0.5
    if kind == "radar":
        sensor = _radar(ref_range_km=5000.0, latency_s=latency, latency_jitter_s=jitter, false_alarms_per_scan=0.5)
        site = sensor.site
        burnout = -np.inf
    else:
        sensor, _, _ = _infrared_run()
        sensor = msgspec.structs.replace(sensor, latency_s=latency, latency_jitter_s=jitter)
        site = Site(lat=35.0, lon=130.0)
        burnout = t1 + 10.0
    # Two objects every scan (Pd ≈ 1), so each scan has rows sharing one delay.
    objects = [_object(i, site, 100.0 * i, 60.0, 200.0 + 100 * i, t1, rcs_m2=10.0, burnout=burnout) for i in range(2)]
    m = simulate_sensors([sensor], objects, T0, t1, seed=505).measurements
    delay = m.received - m.time
    assert (delay >= latency - 1e-9).all()
    scans, first, inverse = np.unique(m.time, return_index=True, return_inverse=True)
    n_scans = scan_times(1.0, sensor.id, T0, t1).size
    assert scans.size == n_scans  # every scan has rows
    np.testing.assert_array_equal(delay, delay[first][inverse])  # every row of a scan has the scan's delay
    extra = delay[first] - latency
    # Mean of n exponentials of mean j ~ Gamma(n, j/n).
    lo, hi = stats.gamma.ppf([P_MIN / 2, 1 - P_MIN / 2], n_scans, scale=jitter / n_scans)
    assert lo <= extra.mean() <= hi, extra.mean()
    assert stats.kstest(extra, "expon", args=(0.0, jitter)).pvalue > P_MIN
    # Jitter 1.5 s over a 1 s revisit: P(a scan arrives before its predecessor) = ½ e^(-1/1.5) ≈ 0.26.
    arrival = m.received[first]
    overtaken = np.mean(arrival[1:] < arrival[:-1])
    assert 0.2 < overtaken < 0.32, overtaken


def test_latency_without_jitter_is_exact_and_in_order() -> None:
    radar = _radar(ref_range_km=5000.0, latency_s=0.7, false_alarms_per_scan=1.0)
    t1 = T0 + 200.0
    m = simulate_sensors([radar], [_object(0, radar.site, 10.0, 30.0, 300.0, t1)], T0, t1, seed=1).measurements
    np.testing.assert_allclose(m.received - m.time, 0.7, atol=1e-9)
    assert (np.diff(m.received) >= 0).all()


# ----------------------------------------------------------------- 6. first detection vs independent geometry
def _certain(radar: Radar) -> Radar:
    """The radar with Pd ≈ 1 everywhere in its field (SNR > 10⁷ at 3000 km for 0.1 m²), no false alarms or bias."""
    return msgspec.structs.replace(
        radar, ref_range_km=1e5, false_alarms_per_scan=0.0, bias_range_m=0.0, bias_az_mrad=0.0, bias_el_mrad=0.0
    )


def first_detection_differences(launch, theater) -> dict[str, tuple[float, float, float]]:
    """Per radar that sees the warhead: (geometric first sight after launch [s], first detection - it, revisit)."""
    warhead = launch.objects[0]
    assert warhead.kind == "warhead"
    radars = [_certain(r) for r in theater.radars]
    t0, t1 = launch.launch_time, launch.impact_time
    # The warhead alone: a spent stage beside it could hide it as unresolved, which is not geometry.
    m = simulate_sensors(radars, [warhead], t0, t1, seed=606).measurements
    grid = np.arange(t0, t1, 0.1)
    states = warhead.states_at(grid)
    out = {}
    for i, radar in enumerate(radars):
        # Elevation ≥ min_elevation > 0 from a site on or above the convex ellipsoid implies a clear line of sight.
        visible = _in_regard(radar, *_aer_deg(radar.site, states[:, :3]))
        detected = m.time[m.sensor == i]
        if not visible.any():
            assert detected.size == 0, radar.id
            continue
        assert detected.size > 0, radar.id
        t_geo = grid[np.argmax(visible)]
        out[radar.id] = (t_geo - t0, detected[0] - t_geo, radar.revisit_s)
    return out


def test_first_detection_agrees_with_independent_geometry(flight) -> None:
    launch, theater = flight
    differences = first_detection_differences(launch, theater)
    assert len(differences) >= 5, differences
    for radar_id, (_, dt, revisit) in differences.items():
        # The first scan at or after first sight (grid 0.1 s) detects: -0.1 s ≤ Δt ≤ one revisit.
        assert -0.1 - 1e-6 <= dt <= revisit + 1e-6, (radar_id, dt)


def test_detections_at_every_scan_match_independent_geometry(flight) -> None:
    """Stronger than first detection: at every scan the warhead is detected iff it is in the field of regard."""
    launch, theater = flight
    warhead = launch.objects[0]
    radars = [_certain(r) for r in theater.radars]
    t0, t1 = launch.launch_time, launch.impact_time
    m = simulate_sensors(radars, [warhead], t0, t1, seed=607).measurements
    for i, radar in enumerate(radars):
        scans = scan_times(radar.revisit_s, radar.id, t0, t1)
        scans = scans[(scans >= warhead.t[0]) & (scans <= warhead.t[-1])]
        az, el, r = _aer_deg(radar.site, warhead.states_at(scans)[:, :3])
        surely_in = _in_regard(radar, az, el, r, margin=1e-6)
        surely_out = ~_in_regard(radar, az, el, r, margin=-1e-6)
        detected = np.isin(scans, m.time[m.sensor == i])
        assert not (detected & surely_out).any(), radar.id
        assert np.sum(surely_in & ~detected) <= 1, radar.id  # each miss has probability < 1e-6


# ----------------------------------------------------------------- 7. determinism
def _rows_of(m: Measurements, index: int) -> Measurements:
    return m.take(m.sensor == index)


def _same(a: Measurements, b: Measurements, fields=Measurements.FIELDS) -> bool:
    return len(a) == len(b) and all(np.array_equal(getattr(a, f), getattr(b, f), equal_nan=True) for f in fields)


def test_seeded_runs_repeat_and_sensors_draw_independently(overflight) -> None:
    launch, theater = overflight
    objects, t0, t1 = launch.objects, launch.launch_time, launch.impact_time
    first = simulate_sensors(theater.sensors, objects, t0, t1, seed=7)
    again = simulate_sensors(theater.sensors, objects, t0, t1, seed=7)
    other = simulate_sensors(theater.sensors, objects, t0, t1, seed=8)
    assert _same(first.measurements, again.measurements)
    assert all(np.array_equal(first.biases[k], again.biases[k]) for k in first.biases)
    assert not _same(first.measurements, other.measurements)
    assert not np.array_equal(first.measurements.z[:50], other.measurements.z[:50], equal_nan=True)

    # An extra radar and infrared satellite put FIRST (every index shifts) change no other sensor's draws.
    extra_radar = _radar(id="XX-R9", site=Site(lat=38.0, lon=130.0), false_alarms_per_scan=1.0, latency_jitter_s=1.0)
    extra_ir = msgspec.structs.replace(_infrared_run()[0], id="XX-IR9", latency_jitter_s=0.5)
    more = simulate_sensors([extra_radar, extra_ir, *theater.sensors], objects, t0, t1, seed=7)
    assert (more.measurements.sensor < 2).sum() > 0
    fields = tuple(f for f in Measurements.FIELDS if f != "sensor")
    for i, sensor in enumerate(theater.sensors):
        mine, theirs = _rows_of(first.measurements, i), _rows_of(more.measurements, i + 2)
        assert len(mine) > 0, sensor.id
        assert _same(mine, theirs, fields), sensor.id
        if isinstance(sensor, Radar):
            np.testing.assert_array_equal(first.biases[sensor.id], more.biases[sensor.id])
    # An outage of one sensor does not touch the others either.
    down = simulate_sensors(theater.sensors, objects, t0, t1, seed=7, outages={"US-R3": [(t0, t1)]})
    for i, sensor in enumerate(theater.sensors):
        if sensor.id == "US-R3":
            assert len(_rows_of(down.measurements, i)) == 0
        else:
            assert _same(_rows_of(first.measurements, i), _rows_of(down.measurements, i)), sensor.id


# ----------------------------------------------------------------- 8. properties of the geometry helpers
latitudes = st.floats(min_value=-89.0, max_value=89.0)
longitudes = st.floats(min_value=-180.0, max_value=180.0)


def _ecef(lat_deg: float, lon_deg: float, alt_m: float) -> np.ndarray:
    return wgs84.geodetic_to_ecef(math.radians(lat_deg), math.radians(lon_deg), alt_m)


@settings(max_examples=200, deadline=None)
@given(
    latitudes,
    longitudes,
    st.floats(min_value=10e3, max_value=3000e3),
    st.floats(min_value=-0.3, max_value=0.3),
    st.floats(min_value=-0.3, max_value=0.3),
    st.floats(min_value=10e3, max_value=3000e3),
)
def test_line_of_sight_between_close_points_above_the_surface_is_clear(lat, lon, alt, dlat, dlon, alt2) -> None:
    # ≤ 0.42° apart: the chord sags < 0.2 km below its ends, which are ≥ 10 km up.
    a, b = _ecef(lat, lon, alt), _ecef(lat + dlat, lon + dlon, alt2)
    assert sensors.line_of_sight_clear(a, b)
    assert sensors.line_of_sight_clear(b, a)


@settings(max_examples=200, deadline=None)
@given(latitudes, longitudes, st.floats(min_value=0.0, max_value=50_000e3), st.floats(min_value=0.05, max_value=10.0))
def test_line_of_sight_through_the_centre_is_blocked(lat, lon, alt, k) -> None:
    a = _ecef(lat, lon, alt)
    assert not sensors.line_of_sight_clear(a, -k * a)
    assert not sensors.line_of_sight_clear(-k * a, a)
    assert not sensors.line_of_sight_clear(a, -_ecef(lat, lon, alt))  # the antipode at the same height


@settings(max_examples=300, deadline=None)
@given(
    latitudes,
    longitudes,
    st.floats(min_value=0.0, max_value=360.0),
    st.floats(min_value=0.01, max_value=90.0),
    st.floats(min_value=1.0, max_value=1e8),
    st.floats(min_value=1.0, max_value=89.0),
    st.floats(min_value=1e3, max_value=100e3),
)
def test_line_of_sight_from_the_surface_follows_the_local_horizon(lat, lon, az, el_up, r_up, el_down, r_down) -> None:
    """From a site on the ellipsoid, up the horizon is clear at any range; 1°+ below it, within 100 km, blocked."""
    site = _ecef(lat, lon, 0.0)
    la, lo = math.radians(lat), math.radians(lon)

    def target(el: float, r: float) -> np.ndarray:
        return wgs84.enu_to_ecef(wgs84.aer_to_enu(math.radians(az), math.radians(el), r), la, lo, 0.0)

    assert sensors.line_of_sight_clear(site, target(el_up, r_up))
    assert not sensors.line_of_sight_clear(site, target(-el_down, r_down))


@settings(max_examples=200, deadline=None)
@given(
    st.floats(min_value=-80.0, max_value=80.0),
    longitudes,
    st.floats(min_value=200e3, max_value=50_000e3),
    st.floats(min_value=0.0, max_value=0.99),
    st.floats(min_value=-1e6, max_value=1e6),
)
def test_nadir_frame_is_orthonormal_and_the_sub_satellite_point_has_zero_angles(lat, lon, alt, k, east_m) -> None:
    origin = _ecef(lat, lon, alt)[None, :]
    (frame,) = sensors.nadir_frame(origin)
    np.testing.assert_allclose(frame @ frame.T, np.eye(3), atol=1e-12)
    east, north, nadir = frame
    np.testing.assert_allclose(nadir, -origin[0] / np.linalg.norm(origin), atol=1e-15)
    assert abs(east[2]) < 1e-15 and north[2] > 0.0  # east is horizontal, north points to the north pole's side
    # Any point on the line to the Earth's centre (the sub-satellite point included) is seen at α = β = 0.
    alpha, beta = sensors.los_angles(origin, k * origin)
    assert abs(alpha[0]) < 1e-12 and abs(beta[0]) < 1e-12
    # Displaced east by d at nadir distance D: α = atan(d / D), β = 0.
    alpha, beta = sensors.los_angles(origin, k * origin + east_m * east)
    distance = (1.0 - k) * np.linalg.norm(origin)
    assert alpha[0] == pytest.approx(math.atan2(east_m, distance), abs=1e-12)
    assert abs(beta[0]) < 1e-12


# ----------------------------------------------------------------- 9. spent stages and infrared
def _ground_range(launch, xyz: np.ndarray) -> float:
    lat, lon, _ = wgs84.ecef_to_geodetic(xyz)
    site_lat, site_lon = (math.degrees(a) for a in launch.trajectory.site[:2])
    _, _, dist = GEOD.inv(site_lon, site_lat, math.degrees(float(lon)), math.degrees(float(lat)))
    return float(dist)


def test_spent_stages_separate_at_burnout_and_fall_short(flight) -> None:
    launch, _ = flight
    warhead, *stages = launch.objects
    burnout = warhead.burnout
    burn = burnout - launch.launch_time
    assert warhead.kind == "warhead" and all(s.kind == "stage" for s in stages)
    assert len(stages) == truth.default_stages(burn) >= 1
    separations = [burnout * 1.0]
    if len(stages) == 2:
        separations.insert(0, launch.launch_time + truth.FIRST_STAGE_FRACTION * burn)
    warhead_range = _ground_range(launch, warhead.ecef[-1, :3])
    for stage, t_sep in zip(stages, separations, strict=True):
        assert stage.t[0] == pytest.approx(t_sep, abs=1e-6)
        assert np.isnan(stage.states_at(np.array([t_sep - 0.5]))).all()  # it does not exist before
        s, w = stage.states_at(np.array([t_sep]))[0], warhead.states_at(np.array([t_sep]))[0]
        assert np.linalg.norm(s[:3] - w[:3]) < 1.0
        assert np.linalg.norm(s[3:] - w[3:]) == pytest.approx(truth.SEPARATION_SPEED, abs=0.01)
        assert not stage.burning(stage.t).any()
        np.testing.assert_array_equal(stage.rcs_at(stage.t), truth.STAGE_RCS_M2)
        # Lofted: the last stage re-enters steeply and lands only ~1.3 km short; the first ~920 km short.
        assert _ground_range(launch, stage.ecef[-1, :3]) < warhead_range - 100.0
    # The warhead's cross-section drops from the whole missile's to the re-entry body's at burnout.
    before, after = warhead.rcs_at(np.array([burnout - 1e-3, burnout + 1e-3]))
    assert before == truth.STACK_RCS_M2 and after == truth.WARHEAD_RCS_M2


def test_infrared_sees_only_burning_motors_above_the_clouds(flight) -> None:
    launch, theater = flight
    objects = launch.objects
    m = simulate_sensors(theater.infrared, objects, launch.launch_time, launch.impact_time, seed=909).measurements
    warhead = objects[0]
    for i, satellite in enumerate(theater.infrared):
        rows = m.take(m.sensor == i)
        assert len(rows) > 10, satellite.id
        assert (rows.object == 0).all()  # stages never burn
        assert (rows.time >= warhead.t[0]).all() and (rows.time < warhead.burnout).all()
        states = _true_states(objects, rows.object, rows.time)
        _, _, alt = wgs84.ecef_to_geodetic(states[:, :3])
        assert (alt > satellite.cloud_top_km * 1e3).all(), satellite.id
        assert sensors.line_of_sight_clear(satellite.position(rows.time), states[:, :3]).all()
        # Of the frames where it could see the plume, it reports a share pd.
        frames = scan_times(satellite.frame_s, satellite.id, launch.launch_time, launch.impact_time)
        frames = frames[warhead.burning(frames)]
        pos = warhead.states_at(frames)[:, :3]
        _, _, h = wgs84.ecef_to_geodetic(pos)
        could = (h > satellite.cloud_top_km * 1e3) & sensors.line_of_sight_clear(satellite.position(frames), pos)
        assert np.isin(rows.time, frames[could]).all()
        assert stats.binomtest(len(rows), int(could.sum()), satellite.pd).pvalue > P_MIN, satellite.id
