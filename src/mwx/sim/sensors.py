"""Sensors: ground and ship radars, and space-based infrared, as measurement generators.

Radar (:func:`radar_measurements`)
    Every ``revisit_s`` seconds (a per-sensor phase, see
    :func:`mwx.sim.theater.scan_times`) the radar looks at its whole field of
    regard: an azimuth sector, elevation limits and an instrumented range.  An
    object there whose line of sight clears the WGS-84 ellipsoid (straight
    lines: no refraction) has the signal-to-noise ratio of the radar equation,
    ``SNR = SNR_ref · (σ / σ_ref) · (R_ref / R)⁴`` (Skolnik, *Introduction to
    Radar Systems*, 3rd ed., eq. 2.1), and is detected with the single-look
    Swerling 1 probability ``Pd = Pfa^(1/(1+SNR))`` (ibid. §2.8).  A detection
    reports range, azimuth, elevation and, where the radar has it, range
    rate, each with Gaussian noise whose standard deviation scales as
    ``√(SNR_ref / SNR)`` (the thermal-noise accuracy of a monopulse radar,
    ibid. §4.4) and never falls below a quarter of its reference value; the
    radar reports that standard deviation with the measurement.  Objects
    closer than the range resolution in range and than the beamwidth in angle
    are unresolved: the radar reports one detection, the strongest echo's.  A fixed
    registration bias per sensor and run (range, azimuth, elevation) is drawn
    once and added to every detection.  False alarms: a Poisson number per
    scan, uniform in range, azimuth and elevation over the field of regard,
    reported at the detection threshold's SNR ``ln(1/Pfa)``.

Space infrared (:func:`infrared_measurements`)
    Every ``frame_s`` seconds a satellite sees each object whose motor burns
    and which is above the cloud tops, where the line of sight clears the
    ellipsoid, with probability ``pd``; it reports the line of sight as two
    angles in its nadir frame (:func:`nadir_frame`) with Gaussian noise.

Latency
    A sensor reports each scan (or frame) as one message that arrives
    ``latency_s`` plus an exponential extra delay of mean ``latency_jitter_s``
    after it was taken, so a scan can overtake an earlier one when the jitter
    is comparable to the revisit time.

An outage (a ``sensor_down`` inject) removes the reports taken while the
sensor is down and nothing else: the draws are made as if it were up, so the
rest of its run is unchanged.

Everything a sensor draws comes from its own generator seeded by the
scenario seed and the sensor id (:func:`sensor_rng`), in a fixed order: the
bias, the scans' delays, detections, noise, false alarms.  Adding a sensor changes no other sensor's draws.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mwx.geo import wgs84
from mwx.sim.theater import InfraredSatellite, Radar, Sensor, scan_times
from mwx.sim.truth import TruthObject
from mwx.track.dynamics import propagate

if TYPE_CHECKING:
    from mwx.sim.scenario import Ghost

SIGMA_FLOOR = 0.25  # smallest noise, as a share of the reference standard deviation
MIN_RANGE_M = 10e3  # nearest range a radar reports (blind zone)
FALSE_ALARM_MAX_SPEED = 7000.0  # m/s: false-alarm range rates are uniform within ±this
RADAR_COLUMNS = ("range_m", "az_rad", "el_rad", "range_rate_mps")
INFRARED_COLUMNS = ("", "alpha_rad", "beta_rad", "")


@dataclass
class Measurements:
    """A batch of measurements, one row each, sorted by time taken.

    ``z`` (n, 4): radar rows hold range [m], azimuth [rad, clockwise from
    north], elevation [rad] and range rate [m/s] (NaN where the radar does
    not measure it); infrared rows hold NaN, the two nadir-frame angles α, β
    [rad], NaN.  ``sigma`` (n, 4) is the standard deviation each report
    states for its values; ``snr_db`` the radar's signal-to-noise ratio (NaN
    for infrared); ``origin`` (n, 3) the sensor's ECEF position [m] when the
    measurement was taken.  ``object`` indexes the truth objects (-1: false
    alarm) and is for evaluation only: trackers never read it.
    """

    sensor: NDArray[np.int64]
    time: NDArray[np.float64]
    received: NDArray[np.float64]
    z: NDArray[np.float64]
    sigma: NDArray[np.float64]
    snr_db: NDArray[np.float64]
    origin: NDArray[np.float64]
    object: NDArray[np.int64]

    FIELDS = ("sensor", "time", "received", "z", "sigma", "snr_db", "origin", "object")

    @classmethod
    def empty(cls) -> Measurements:
        return cls(
            np.empty(0, np.int64),
            np.empty(0),
            np.empty(0),
            np.empty((0, 4)),
            np.empty((0, 4)),
            np.empty(0),
            np.empty((0, 3)),
            np.empty(0, np.int64),
        )

    @classmethod
    def concatenate(cls, parts: Sequence[Measurements]) -> Measurements:
        """All ``parts`` in one batch, sorted by time taken, then sensor, then object."""
        if not parts:
            return cls.empty()
        joined = cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls.FIELDS))
        return joined.take(np.lexsort((joined.object, joined.sensor, joined.time)))

    def take(self, index: NDArray) -> Measurements:
        return Measurements(*(getattr(self, f)[index] for f in self.FIELDS))

    def __len__(self) -> int:
        return int(self.time.size)

    @property
    def false_alarm(self) -> NDArray[np.bool_]:
        return self.object < 0


def sensor_rng(seed: int, sensor_id: str) -> np.random.Generator:
    """The generator of one sensor: independent of the other sensors' draws."""
    return np.random.default_rng([seed, zlib.crc32(sensor_id.encode())])


# ----------------------------------------------------------------- geometry
def line_of_sight_clear(origin: NDArray, target: NDArray) -> NDArray[np.bool_]:
    """Whether the straight segments ``origin`` → ``target`` (ECEF, (..., 3)) miss the ellipsoid's interior.

    Scaling z by a/b turns the ellipsoid into a sphere of radius a; the
    segment's closest point to the centre then decides.  A point on the
    surface itself (a site at height 0) does not block its own line of sight.
    """
    scale = np.array([1.0, 1.0, wgs84.A / wgs84.B])
    p0 = np.asarray(origin, float) * scale / wgs84.A
    d = np.asarray(target, float) * scale / wgs84.A - p0
    s = np.clip(-np.sum(p0 * d, axis=-1) / np.maximum(np.sum(d * d, axis=-1), 1e-300), 0.0, 1.0)
    closest = p0 + s[..., None] * d
    return np.sum(closest * closest, axis=-1) >= 1.0 - 1e-12


def nadir_frame(origin: NDArray) -> NDArray:
    """Rows east, north, nadir (n, 3, 3) of a satellite's measurement frame at ECEF ``origin`` (n, 3).

    Nadir points at the Earth's centre; east is ẑ × origin, normalised;
    north = east × nadir completes the frame.  Line-of-sight angles in it,
    ``α = atan2(u·east, u·nadir)`` and ``β = atan2(u·north, u·nadir)``, are
    regular over the whole Earth disk (nadir is never the pole for the
    orbits used).
    """
    origin = np.atleast_2d(np.asarray(origin, float))
    nadir = -origin / np.linalg.norm(origin, axis=1, keepdims=True)
    east = np.cross([0.0, 0.0, 1.0], origin)
    east /= np.linalg.norm(east, axis=1, keepdims=True)
    north = np.cross(east, nadir)
    return np.stack([east, north, nadir], axis=1)


def los_angles(origin: NDArray, target: NDArray) -> tuple[NDArray, NDArray]:
    """Nadir-frame line-of-sight angles α, β [rad] from ``origin`` to ``target`` (ECEF, (n, 3))."""
    u = np.einsum("nij,nj->ni", nadir_frame(origin), np.asarray(target, float) - origin)
    return np.arctan2(u[:, 0], u[:, 2]), np.arctan2(u[:, 1], u[:, 2])


def azimuth_offset(az: NDArray, boresight: NDArray | float) -> NDArray:
    """Signed azimuth difference ``az - boresight`` wrapped to (-π, π]."""
    return np.mod(az - boresight + math.pi, 2.0 * math.pi) - math.pi


def in_field_of_regard(radar: Radar, az: NDArray, el: NDArray, rng_m: NDArray) -> NDArray[np.bool_]:
    """Whether directions (az, el [rad]) and ranges [m] lie in the radar's field of regard."""
    half = math.radians(radar.sector_deg) / 2.0
    in_sector = np.abs(azimuth_offset(az, math.radians(radar.boresight_deg))) <= half + 1e-12
    return (
        (in_sector | (radar.sector_deg >= 360.0))
        & (el >= math.radians(radar.min_elevation_deg))
        & (el <= math.radians(radar.max_elevation_deg))
        & (rng_m >= MIN_RANGE_M)
        & (rng_m <= radar.max_range_km * 1e3)
    )


def signal_to_noise(radar: Radar, rcs_m2: ArrayLike, rng_m: NDArray) -> NDArray:
    """Mean SNR (power ratio) of targets of cross-section ``rcs_m2`` at ``rng_m`` [m]: the R⁴ law."""
    return radar.ref_snr * (np.asarray(rcs_m2) / radar.ref_rcs_m2) * (radar.ref_range_km * 1e3 / rng_m) ** 4


def detection_probability(snr: NDArray, pfa: float) -> NDArray:
    """Single-look Swerling 1 detection probability ``Pfa^(1/(1+SNR))``."""
    return pfa ** (1.0 / (1.0 + np.asarray(snr, float)))


def noise_scale(radar: Radar, snr: ArrayLike) -> NDArray:
    """Factor on the reference standard deviations at ``snr``: √(SNR_ref/SNR), floored at SIGMA_FLOOR."""
    return np.maximum(np.sqrt(radar.ref_snr / np.asarray(snr, float)), SIGMA_FLOOR)


def registration_bias(radar: Radar, rng: np.random.Generator) -> NDArray:
    """The fixed bias of one run: range [m], azimuth, elevation [rad] (draws 3 normals)."""
    return rng.standard_normal(3) * np.array(radar.bias_sigma)


def _latency(sensor: Sensor, n: int, rng: np.random.Generator) -> NDArray:
    extra = rng.exponential(sensor.latency_jitter_s, n) if sensor.latency_jitter_s > 0 else np.zeros(n)
    return sensor.latency_s + extra


def _down(times: NDArray, outages: Sequence[tuple[float, float]]) -> NDArray[np.bool_]:
    down = np.zeros(times.shape, bool)
    for start, end in outages:
        down |= (times >= start) & (times < end)
    return down


def _samples(objects: Sequence[TruthObject], scans: NDArray) -> tuple[NDArray, NDArray, NDArray]:
    """(scan time, object index, ECEF state) of every object in flight at every scan."""
    times, which, states = [], [], []
    for index, obj in enumerate(objects):
        inside = scans[(scans >= obj.t[0]) & (scans <= obj.t[-1])]
        if inside.size:
            times.append(inside)
            which.append(np.full(inside.size, index, np.int64))
            states.append(obj.states_at(inside))
    if not times:
        return np.empty(0), np.empty(0, np.int64), np.empty((0, 6))
    return np.concatenate(times), np.concatenate(which), np.concatenate(states)


# ----------------------------------------------------------------- radar
def _unresolved(
    radar: Radar, t: NDArray, az: NDArray, el: NDArray, rng_m: NDArray, snr: NDArray, detected: NDArray
) -> NDArray[np.bool_]:
    """Detections hidden inside a stronger echo of the same scan (same range cell and beam)."""
    hidden = np.zeros(t.size, bool)
    rows = np.flatnonzero(detected)
    if rows.size < 2:
        return hidden
    order = rows[np.lexsort((-snr[rows], t[rows]))]  # by scan, strongest first
    scan_t = t[order]
    starts = np.flatnonzero(np.r_[True, scan_t[1:] != scan_t[:-1]])
    stops = np.r_[starts[1:], order.size]
    beam = radar.beamwidth_mrad * 1e-3
    for a, b in zip(starts, stops, strict=True):
        if b - a < 2:
            continue
        idx = order[a:b]
        close = (np.abs(rng_m[idx][:, None] - rng_m[idx][None, :]) < radar.range_resolution_m) & (
            np.hypot(
                azimuth_offset(az[idx][:, None], az[idx][None, :]) * np.cos(el[idx])[:, None],
                el[idx][:, None] - el[idx][None, :],
            )
            < beam
        )
        # Each echo is hidden by any stronger (earlier) one that is close to it.
        hidden[idx] = np.triu(close, k=1).any(axis=0)
    return hidden


def radar_measurements(
    radar: Radar,
    sensor_index: int,
    objects: Sequence[TruthObject],
    t_start: float,
    t_end: float,
    rng: np.random.Generator,
    bias: NDArray | None = None,
    outages: Sequence[tuple[float, float]] = (),
    ghosts: Sequence[TruthObject] = (),
    ghost_rng: np.random.Generator | None = None,
) -> Measurements:
    """Every detection and false alarm of ``radar`` between ``t_start`` and ``t_end`` (Unix s); ``ghosts``: false
    objects it alone sees (spurious tracks), drawn from ``ghost_rng``, reported as false alarms (object -1)."""
    scans = scan_times(radar.revisit_s, radar.id, t_start, t_end)
    arrival = scans + _latency(radar, scans.size, rng)
    bias = np.zeros(3) if bias is None else np.asarray(bias, float)
    site = radar.site_ecef
    lat0, lon0 = math.radians(radar.site.lat), math.radians(radar.site.lon)
    has_rate = radar.sigma_range_rate_mps is not None
    sigma_ref = np.array([*radar.noise_sigma, radar.sigma_range_rate_mps if has_rate else np.nan])

    def detections(objs: Sequence[TruthObject], draws: np.random.Generator) -> Measurements:
        """Geometry, SNR, detection and noise of ``objs`` at every scan, all samples at once."""
        t, which, states = _samples(objs, scans)
        az, el, rng_m = wgs84.enu_to_aer(wgs84.ecef_to_enu(states[:, :3], lat0, lon0, radar.site.alt_m))
        visible = in_field_of_regard(radar, az, el, rng_m) & line_of_sight_clear(site, states[:, :3])
        rcs = np.empty(t.size)
        for index in np.unique(which):
            rows = which == index
            rcs[rows] = objs[index].rcs_at(t[rows])
        snr = np.where(visible, signal_to_noise(radar, rcs, np.maximum(rng_m, 1.0)), 0.0)
        detected = visible & (draws.random(t.size) < detection_probability(snr, radar.pfa))
        detected &= ~_unresolved(radar, t, az, el, rng_m, snr, detected)
        t, which, states = t[detected], which[detected], states[detected]
        az, el, rng_m, snr = az[detected], el[detected], rng_m[detected], snr[detected]
        line = states[:, :3] - site
        rate = np.einsum("ij,ij->i", line, states[:, 3:]) / rng_m
        sigma = sigma_ref[None, :] * noise_scale(radar, snr)[:, None]
        z = np.stack([rng_m, az, el, rate], axis=1) + draws.standard_normal((t.size, 4)) * np.nan_to_num(sigma)
        z[:, :3] += bias
        if not has_rate:
            z[:, 3] = np.nan
        return Measurements(
            np.full(t.size, sensor_index, np.int64),
            t,
            arrival[np.searchsorted(scans, t)],
            z,
            sigma,
            10.0 * np.log10(snr),
            np.tile(site, (t.size, 1)),
            which,
        )

    targets = detections(objects, rng)
    # Spurious objects: their own draws (the real objects' detections stay as without them), reported in the
    # same scans, and false alarms to the evaluation (object -1): nothing real is there.
    spurious = detections(ghosts, ghost_rng if ghost_rng is not None else np.random.default_rng(0))
    spurious.object[:] = -1

    # False alarms: Poisson per scan, uniform over the field of regard.
    counts = rng.poisson(radar.false_alarms_per_scan, scans.size)
    n = int(counts.sum())
    fa_t = np.repeat(scans, counts)
    half = math.radians(radar.sector_deg) / 2.0
    fa = np.column_stack(
        [
            rng.uniform(MIN_RANGE_M, radar.max_range_km * 1e3, n),
            np.mod(math.radians(radar.boresight_deg) + rng.uniform(-half, half, n), 2.0 * math.pi),
            rng.uniform(math.radians(radar.min_elevation_deg), math.radians(radar.max_elevation_deg), n),
            rng.uniform(-FALSE_ALARM_MAX_SPEED, FALSE_ALARM_MAX_SPEED, n) if has_rate else np.full(n, np.nan),
        ]
    )
    snr_fa = math.log(1.0 / radar.pfa)
    false_alarms = Measurements(
        np.full(n, sensor_index, np.int64),
        fa_t,
        np.repeat(arrival, counts),
        fa,
        np.tile(sigma_ref * noise_scale(radar, snr_fa), (n, 1)),
        np.full(n, 10.0 * math.log10(snr_fa)),
        np.tile(site, (n, 1)),
        np.full(n, -1, np.int64),
    )
    out = Measurements.concatenate([targets, spurious, false_alarms])
    out.z[:, 1] = np.mod(out.z[:, 1], 2.0 * math.pi)
    return out.take(~_down(out.time, outages))


def spurious_object(ghost: Ghost, start: float, end: float, name: str) -> TruthObject:
    """A false object (:class:`mwx.sim.scenario.SpuriousTrack`): from ``ghost``'s start at ``start`` [Unix s],
    coasting under gravity (J2, no drag: :func:`mwx.track.dynamics.propagate`) until ``end`` or the ground,
    sampled every second."""
    lat, lon = math.radians(ghost.lat), math.radians(ghost.lon)
    heading, climb = math.radians(ghost.heading_deg), math.radians(ghost.climb_deg)
    position = wgs84.geodetic_to_ecef(lat, lon, ghost.alt_km * 1e3)
    east, north, up = wgs84.enu_basis(lat, lon)
    horizontal = ghost.speed_mps * math.cos(climb)
    velocity = (
        horizontal * (math.sin(heading) * east + math.cos(heading) * north) + ghost.speed_mps * math.sin(climb) * up
    )
    t = np.arange(start, end + 0.5, 1.0)
    x0 = np.tile(np.concatenate([position, velocity]), (t.size, 1))
    states = propagate(x0, t - start, max_step=5.0)
    aloft = np.flatnonzero(wgs84.ellipsoidal_height(states[:, :3]) > 0.0)
    keep = slice(0, int(aloft[-1]) + 1 if aloft.size else 1)
    return TruthObject(name, "spurious", "", t[keep], states[keep], rcs_m2=ghost.rcs_m2, stack_rcs_m2=ghost.rcs_m2)


# ----------------------------------------------------------------- infrared
def infrared_measurements(
    satellite: InfraredSatellite,
    sensor_index: int,
    objects: Sequence[TruthObject],
    t_start: float,
    t_end: float,
    rng: np.random.Generator,
    outages: Sequence[tuple[float, float]] = (),
) -> Measurements:
    """Every line-of-sight report of ``satellite`` on burning motors between ``t_start`` and ``t_end``."""
    frames = scan_times(satellite.frame_s, satellite.id, t_start, t_end)
    arrival = frames + _latency(satellite, frames.size, rng)
    t, which, states = _samples(objects, frames)
    burning = np.zeros(t.size, bool)
    for index in np.unique(which):
        rows = which == index
        burning[rows] = objects[index].burning(t[rows])
    t, which, states = t[burning], which[burning], states[burning]
    origin = satellite.position(t) if t.size else np.empty((0, 3))
    _, _, alt = wgs84.ecef_to_geodetic(states[:, :3])
    seen = (alt > satellite.cloud_top_km * 1e3) & line_of_sight_clear(origin, states[:, :3])
    detected = seen & (rng.random(t.size) < satellite.pd)
    t, which, states, origin = t[detected], which[detected], states[detected], origin[detected]
    alpha, beta = los_angles(origin, states[:, :3])
    sigma = satellite.sigma_urad * 1e-6
    n = t.size
    z = np.full((n, 4), np.nan)
    z[:, 1] = alpha + rng.standard_normal(n) * sigma
    z[:, 2] = beta + rng.standard_normal(n) * sigma
    sig = np.full((n, 4), np.nan)
    sig[:, 1:3] = sigma
    out = Measurements(
        np.full(n, sensor_index, np.int64),
        t,
        arrival[np.searchsorted(frames, t)],
        z,
        sig,
        np.full(n, np.nan),
        origin,
        which,
    )
    return out.take(~_down(out.time, outages))


# ----------------------------------------------------------------- all sensors
@dataclass
class SensorRun:
    """What every sensor of a run produced, and the registration biases it drew (truth)."""

    measurements: Measurements
    biases: dict[str, NDArray]


def simulate_sensors(
    sensors: Sequence[Sensor],
    objects: Sequence[TruthObject],
    t_start: float,
    t_end: float,
    seed: int,
    outages: dict[str, list[tuple[float, float]]] | None = None,
    ghosts: dict[str, list[TruthObject]] | None = None,
) -> SensorRun:
    """Measurements of every sensor (index = position in ``sensors``) over the run; ``ghosts``: per radar, the
    false objects it alone sees (:func:`spurious_object`)."""
    outages, ghosts = outages or {}, ghosts or {}
    parts, biases = [], {}
    for index, sensor in enumerate(sensors):
        rng = sensor_rng(seed, sensor.id)
        down = outages.get(sensor.id, [])
        if isinstance(sensor, Radar):
            bias = registration_bias(sensor, rng)
            biases[sensor.id] = bias
            own_ghosts = ghosts.get(sensor.id, [])
            ghost_rng = sensor_rng(seed, f"{sensor.id}:spurious") if own_ghosts else None
            parts.append(radar_measurements(sensor, index, objects, t_start, t_end, rng, bias, down, own_ghosts,
                                            ghost_rng))  # fmt: skip
        else:
            parts.append(infrared_measurements(sensor, index, objects, t_start, t_end, rng, down))
    return SensorRun(Measurements.concatenate(parts), biases)
