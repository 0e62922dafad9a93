"""Sensor coverage: where a sensor can detect a target at a given altitude.

Everything here asks the same questions the simulator asks
(:mod:`mwx.sim.sensors`), for targets placed on a map rather than flying:

Radar
    A target at ellipsoidal height ``alt_m`` is *covered* when it lies in the
    radar's field of regard (azimuth sector, elevation limits, blind zone and
    instrumented range: :func:`~mwx.sim.sensors.in_field_of_regard`), its
    straight line of sight clears the WGS-84 ellipsoid
    (:func:`~mwx.sim.sensors.line_of_sight_clear`) and its single-look
    detection probability for a radar cross-section ``rcs_m2``
    (:func:`~mwx.sim.sensors.signal_to_noise`,
    :func:`~mwx.sim.sensors.detection_probability`) is at least ``min_pd``.
    :func:`radar_coverage_mask` answers it on any lat/lon grid;
    :func:`radar_footprint` traces the boundary of the covered region ray by
    ray, in the radar's own azimuth/elevation frame, to a fraction of a metre.

Space infrared
    A burning target at height ``alt_m`` is seen by a satellite when it is
    above the satellite's cloud tops and the line of sight from the satellite's
    position at Unix time ``t`` clears the ellipsoid
    (:func:`infrared_visible_mask`, :func:`infrared_footprint`).  The
    satellite's per-frame probability ``pd`` is not part of coverage.

Geometry is WGS-84 throughout (:mod:`mwx.geo.wgs84`) with straight lines of
sight (no refraction), as in the simulator.  At this edge latitudes and
longitudes are **degrees** (as in theater files and :mod:`mwx.geo.regions`);
heights, ranges and distances are metres, azimuths and elevations radians.

:func:`coverage_map_png` draws a theater's coverage over the coastlines (the
``mwx theater map`` command); matplotlib is imported only there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mwx.geo import wgs84
from mwx.geo.lon import wrap_lon
from mwx.sim.sensors import detection_probability, in_field_of_regard, line_of_sight_clear, signal_to_noise
from mwx.sim.theater import GeostationaryOrbit, InfraredSatellite, Radar, Theater

if TYPE_CHECKING:
    from mwx.sim.flight import Trajectory
    from mwx.sim.scenario import Scenario

__all__ = [
    "DEFAULT_MIN_PD",
    "DEFAULT_RCS_M2",
    "RadarFootprint",
    "coverage_map_png",
    "detection_range_m",
    "infrared_footprint",
    "infrared_visible_mask",
    "radar_coverage_mask",
    "radar_detection_probability",
    "radar_footprint",
    "sensors_covering_flight",
    "uncovered_missiles",
]

#: Detection probability a covered target must reach (single look).
DEFAULT_MIN_PD = 0.5
#: Radar cross-section of the reference target [m²].
DEFAULT_RCS_M2 = 1.0

_EDGE = 1e-9  # rad: rays start this far inside the sector and elevation limits
_BISECT_STEPS = 48  # halvings of a sample interval: far below a metre on the ground
_NEWTON_STEPS = 5  # height solves along a ray: converged to well under a millimetre


# --------------------------------------------------------------------------- radar
def detection_range_m(radar: Radar, rcs_m2: float = DEFAULT_RCS_M2, min_pd: float = DEFAULT_MIN_PD) -> float:
    """Slant range [m] out to which a target of ``rcs_m2`` [m²] is detected with Pd ≥ ``min_pd``.

    Inverts the radar equation and the Swerling 1 law of :mod:`mwx.sim.sensors`:
    ``Pd = Pfa^(1/(1+SNR)) ≥ p`` needs ``SNR ≥ ln Pfa / ln p - 1``, reached out
    to ``R = R_ref · (SNR_ref · (σ/σ_ref) / SNR)^(1/4)``.  The instrumented
    range (``max_range_km``) is not applied here.
    """
    _check_pd(min_pd)
    if min_pd >= 1.0:
        return 0.0
    snr_needed = math.log(radar.pfa) / math.log(min_pd) - 1.0
    if snr_needed <= 0.0:
        return math.inf
    return radar.ref_range_km * 1e3 * (radar.ref_snr * (rcs_m2 / radar.ref_rcs_m2) / snr_needed) ** 0.25


def _radar_pd_ecef(radar: Radar, xyz: NDArray, rcs_m2: float) -> NDArray:
    """Pd of targets at ECEF ``xyz`` (..., 3) [m]: 0 outside the field of regard or behind the Earth."""
    site = radar.site
    lat0, lon0 = math.radians(site.lat), math.radians(site.lon)
    az, el, rng_m = wgs84.enu_to_aer(wgs84.ecef_to_enu(xyz, lat0, lon0, site.alt_m))
    finite = np.all(np.isfinite(xyz), axis=-1)
    visible = finite & in_field_of_regard(radar, az, el, rng_m) & line_of_sight_clear(radar.site_ecef, xyz)
    snr = signal_to_noise(radar, rcs_m2, np.maximum(np.nan_to_num(rng_m, nan=1.0), 1.0))
    return np.where(visible, detection_probability(snr, radar.pfa), 0.0)


def _ecef_deg(lat_deg: ArrayLike, lon_deg: ArrayLike, alt_m: ArrayLike) -> NDArray:
    return wgs84.geodetic_to_ecef(np.radians(lat_deg), np.radians(lon_deg), alt_m)


def radar_detection_probability(
    radar: Radar, lat_deg: ArrayLike, lon_deg: ArrayLike, alt_m: ArrayLike, rcs_m2: float = DEFAULT_RCS_M2
) -> NDArray:
    """Single-look detection probability of targets at geodetic ``lat_deg``, ``lon_deg`` [deg], ``alt_m`` [m].

    The inputs broadcast together (a grid, a list of points); the result has
    their shape.  Zero outside the field of regard and where the Earth hides
    the target; ``rcs_m2`` is the target's radar cross-section [m²].
    """
    return _radar_pd_ecef(radar, _ecef_deg(lat_deg, lon_deg, alt_m), rcs_m2)


def radar_coverage_mask(
    radar: Radar,
    lat_deg: ArrayLike,
    lon_deg: ArrayLike,
    alt_m: ArrayLike,
    rcs_m2: float = DEFAULT_RCS_M2,
    min_pd: float = DEFAULT_MIN_PD,
) -> NDArray[np.bool_]:
    """Whether targets at ``lat_deg``, ``lon_deg`` [deg], ``alt_m`` [m] are covered by ``radar``.

    Covered: in the field of regard, line of sight clear of the ellipsoid and
    detection probability ≥ ``min_pd`` for a target of ``rcs_m2`` [m²].
    Inputs broadcast together; e.g. ``radar_coverage_mask(r, lat[:, None],
    lon[None, :], 500e3)`` gives a (n_lat, n_lon) grid.
    """
    _check_pd(min_pd)
    return radar_detection_probability(radar, lat_deg, lon_deg, alt_m, rcs_m2) >= min_pd


@dataclass(frozen=True)
class RadarFootprint:
    """The region where one radar covers targets at one altitude, traced along azimuth rays.

    Along each ray (azimuth ``az_rad[k]`` from the site, clockwise from north)
    the covered targets form one stretch, from the *near* edge (maximum
    elevation, blind zone) to the *far* edge (minimum elevation or horizon,
    instrumented range, or the Pd ≥ min_pd range).  ``near_*``/``far_*`` hold
    the geodetic position [deg] of the target at each edge and its slant
    range [m] from the site; NaN where a ray covers nothing.
    Longitudes are continuous around the site (not wrapped to ±180°).
    """

    radar_id: str
    alt_m: float
    rcs_m2: float
    min_pd: float
    site_lat: float
    site_lon: float
    az_rad: NDArray
    covered: NDArray[np.bool_]
    near_lat: NDArray
    near_lon: NDArray
    near_range_m: NDArray
    far_lat: NDArray
    far_lon: NDArray
    far_range_m: NDArray
    full_circle: bool

    @property
    def empty(self) -> bool:
        return not bool(self.covered.any())

    def rings(self) -> list[tuple[NDArray, NDArray]]:
        """Closed outlines (lon, lat [deg]) of the covered region: one per run of covered rays.

        A sector's outline runs out along the far edge and back along the near
        edge; a full circle gives the far ring and, separately, the near ring
        (the hole over the radar).
        """
        cov = self.covered
        if not cov.any():
            return []
        if self.full_circle and cov.all():
            out = []
            for lon, lat in ((self.far_lon, self.far_lat), (self.near_lon, self.near_lat)):
                out.append((np.r_[lon, lon[:1]], np.r_[lat, lat[:1]]))
            return out
        runs = _runs(cov, circular=self.full_circle)
        rings = []
        for idx in runs:
            lon = np.r_[self.far_lon[idx], self.near_lon[idx][::-1], self.far_lon[idx][:1]]
            lat = np.r_[self.far_lat[idx], self.near_lat[idx][::-1], self.far_lat[idx][:1]]
            rings.append((lon, lat))
        return rings

    def polygon(self) -> Any:
        """The covered region as a shapely (Multi)Polygon in lon/lat degrees (empty Polygon if none)."""
        import shapely
        from shapely.geometry import Polygon

        cov = self.covered
        if not cov.any():
            return Polygon()
        if self.full_circle and cov.all():
            shell = np.column_stack([self.far_lon, self.far_lat])
            hole = np.column_stack([self.near_lon, self.near_lat])
            return shapely.make_valid(Polygon(shell, [hole]))
        parts = [Polygon(np.column_stack(ring)) for ring in self.rings()]
        return shapely.make_valid(shapely.union_all(parts))


def _runs(mask: NDArray[np.bool_], circular: bool) -> list[NDArray]:
    """Index arrays of the maximal runs of True in ``mask`` (wrapping round when ``circular``)."""
    n = mask.size
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > 1) + 1
    runs = np.split(idx, breaks)
    if circular and len(runs) > 1 and runs[0][0] == 0 and runs[-1][-1] == n - 1:
        runs = [np.r_[runs[-1], runs[0]], *runs[1:-1]]
    return runs


def _ray_points(radar: Radar, az: NDArray, el: NDArray, alt_m: float) -> tuple[NDArray, NDArray]:
    """ECEF points [m] (..., 3) and slant ranges [m] where rays (az, el) [rad] from the site reach ``alt_m``.

    Spherical start, then Newton steps on the ellipsoidal height along the ray.
    NaN where a ray never reaches that height (it starts above it and points
    down, or misses it).
    """
    site = radar.site_ecef
    basis = wgs84.enu_basis(math.radians(radar.site.lat), math.radians(radar.site.lon))
    u = np.einsum("...i,ij->...j", wgs84.aer_to_enu(az, el, 1.0), basis)  # unit ECEF directions
    r0 = float(np.linalg.norm(site))
    r_h = r0 - radar.site.alt_m + alt_m  # radius of the target shell, locally
    b = u @ site
    disc = b * b - r0 * r0 + r_h * r_h
    rng = np.where(disc >= 0.0, -b + np.sqrt(np.maximum(disc, 0.0)), np.nan)
    for _ in range(_NEWTON_STEPS):
        p = site + rng[..., None] * u
        height = wgs84.ellipsoidal_height(p)
        slope = np.einsum("...i,...i->...", p / np.linalg.norm(p, axis=-1, keepdims=True), u)
        rng = rng - (height - alt_m) / np.where(slope > 1e-6, slope, np.nan)
    rng = np.where(rng > 0.0, rng, np.nan)
    return site + rng[..., None] * u, rng


def radar_footprint(
    radar: Radar,
    alt_m: float,
    rcs_m2: float = DEFAULT_RCS_M2,
    min_pd: float = DEFAULT_MIN_PD,
    step_deg: float = 0.5,
    n_el: int = 400,
) -> RadarFootprint:
    """Where ``radar`` covers targets at ellipsoidal height ``alt_m`` [m] (see :func:`radar_coverage_mask`).

    Rays every ``step_deg`` [deg] of azimuth across the sector (its edges
    included) are each sampled at ``n_el`` elevations between the limits; the
    first and last covered samples are then refined by bisection against the
    same coverage test, so the edges agree with :func:`radar_coverage_mask`.
    Coverage along a ray is one stretch because slant range falls and
    elevation rises monotonically as the target nears the radar.
    """
    _check_pd(min_pd)
    full = radar.sector_deg >= 360.0
    if full:
        az = np.radians(np.arange(0.0, 360.0, step_deg))
    else:
        half = math.radians(radar.sector_deg) / 2.0 - _EDGE
        n_az = max(2, math.ceil(radar.sector_deg / step_deg) + 1)
        az = np.mod(math.radians(radar.boresight_deg) + np.linspace(-half, half, n_az), 2.0 * math.pi)
    el_lo = math.radians(radar.min_elevation_deg) + _EDGE
    el_hi = math.radians(radar.max_elevation_deg) - _EDGE
    # Quadratic spacing: ground distance changes fastest just above the horizon.
    el_grid = el_lo + (el_hi - el_lo) * np.linspace(0.0, 1.0, n_el) ** 2

    def covered_at(az_k: NDArray, el_k: NDArray) -> NDArray[np.bool_]:
        xyz, _ = _ray_points(radar, az_k, el_k, alt_m)
        return _radar_pd_ecef(radar, xyz, rcs_m2) >= min_pd

    hit = covered_at(az[:, None], el_grid[None, :])  # (n_az, n_el)
    any_hit = np.asarray(hit.any(axis=1))
    first = np.argmax(hit, axis=1)  # lowest covered elevation: the far edge
    last = n_el - 1 - np.argmax(hit[:, ::-1], axis=1)  # highest: the near edge
    far_el = _edge(covered_at, az, el_grid, first, first - 1, any_hit)
    near_el = _edge(covered_at, az, el_grid, last, last + 1, any_hit)
    far_el = np.where(any_hit, far_el, np.nan)
    near_el = np.where(any_hit, near_el, np.nan)

    def geodetic(el: NDArray) -> tuple[NDArray, NDArray, NDArray]:
        xyz, rng = _ray_points(radar, az, np.nan_to_num(el), alt_m)
        lat, lon, _ = wgs84.ecef_to_geodetic(xyz)
        lon_deg = wrap_lon(np.degrees(lon), radar.site.lon)
        return (
            np.where(any_hit, np.degrees(lat), np.nan),
            np.where(any_hit, lon_deg, np.nan),
            np.where(any_hit, rng, np.nan),
        )

    near_lat, near_lon, near_rng = geodetic(near_el)
    far_lat, far_lon, far_rng = geodetic(far_el)
    return RadarFootprint(
        radar_id=radar.id,
        alt_m=float(alt_m),
        rcs_m2=float(rcs_m2),
        min_pd=float(min_pd),
        site_lat=radar.site.lat,
        site_lon=radar.site.lon,
        az_rad=az,
        covered=any_hit,
        near_lat=near_lat,
        near_lon=near_lon,
        near_range_m=near_rng,
        far_lat=far_lat,
        far_lon=far_lon,
        far_range_m=far_rng,
        full_circle=full,
    )


def _edge(covered_at, az: NDArray, grid: NDArray, inside: NDArray, outside: NDArray, valid: NDArray) -> NDArray:
    """Bisect between covered sample ``inside`` and uncovered neighbour ``outside`` on each ray.

    Where the neighbour is off the grid the covered sample is the limit itself.
    """
    n = grid.size
    off = (outside < 0) | (outside >= n) | ~valid
    lo = grid[np.clip(inside, 0, n - 1)]  # covered
    hi = grid[np.clip(outside, 0, n - 1)]  # not covered
    active = ~off
    if active.any():
        a, b, azs = lo[active], hi[active], az[active]
        for _ in range(_BISECT_STEPS):
            mid = 0.5 * (a + b)
            ok = covered_at(azs, mid)
            a = np.where(ok, mid, a)
            b = np.where(ok, b, mid)
        lo = lo.copy()
        lo[active] = a
    return lo


def _check_pd(min_pd: float) -> None:
    if not 0.0 < min_pd <= 1.0:
        raise ValueError(f"min_pd must be in (0, 1], got {min_pd}")


# --------------------------------------------------------------------------- infrared
def infrared_visible_mask(
    satellite: InfraredSatellite, t: float, lat_deg: ArrayLike, lon_deg: ArrayLike, alt_m: ArrayLike
) -> NDArray[np.bool_]:
    """Whether ``satellite`` sees targets at ``lat_deg``, ``lon_deg`` [deg], ``alt_m`` [m] at Unix time ``t`` [s].

    Seen: above the cloud tops (``cloud_top_km``) and the straight line of
    sight from the satellite clears the ellipsoid.  Inputs broadcast together.
    """
    xyz = _ecef_deg(lat_deg, lon_deg, alt_m)
    origin = satellite.position(float(t))[0]
    alt = np.broadcast_to(np.asarray(alt_m, float), xyz.shape[:-1])
    return (alt > satellite.cloud_top_km * 1e3) & line_of_sight_clear(origin, xyz)


def infrared_footprint(
    satellite: InfraredSatellite, t: float, alt_m: float, step_deg: float = 1.0
) -> tuple[NDArray, NDArray]:
    """Outline (lon, lat [deg], closed) of where ``satellite`` sees targets at height ``alt_m`` [m] at time ``t``.

    Rays leave the sub-satellite point every ``step_deg`` of azimuth (along
    great circles of the geodetic coordinates: the path only has to sweep
    outwards) and the limb on each is found by bisection on the line-of-sight
    test.  Longitudes are continuous (unwrapped): an outline round a pole spans
    360° and is left open (draw it again shifted by ±360°).  Empty arrays when
    ``alt_m`` is not above the cloud tops.
    """
    if alt_m <= satellite.cloud_top_km * 1e3:
        return np.empty(0), np.empty(0)
    origin = satellite.position(float(t))[0]
    lat0, lon0, _ = wgs84.ecef_to_geodetic(origin)
    az = np.radians(np.arange(0.0, 360.0, step_deg))

    def point(angle: NDArray) -> tuple[NDArray, NDArray]:
        lat = np.arcsin(np.sin(lat0) * np.cos(angle) + np.cos(lat0) * np.sin(angle) * np.cos(az))
        lon = lon0 + np.arctan2(np.sin(az) * np.sin(angle) * np.cos(lat0), np.cos(angle) - np.sin(lat0) * np.sin(lat))
        return lat, lon

    lo = np.zeros(az.size)  # central angle [rad] still seen
    hi = np.full(az.size, math.pi)  # the antipode: never seen
    for _ in range(_BISECT_STEPS):
        mid = 0.5 * (lo + hi)
        lat, lon = point(mid)
        ok = line_of_sight_clear(origin, wgs84.geodetic_to_ecef(lat, lon, alt_m))
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    lat, lon = point(lo)
    lon_deg = np.unwrap(np.degrees(lon), period=360.0)
    lat_deg = np.degrees(lat)
    if abs(lon_deg[-1] - lon_deg[0]) > 180.0:  # winds round a pole: leave it open
        return lon_deg, lat_deg
    return np.r_[lon_deg, lon_deg[:1]], np.r_[lat_deg, lat_deg[:1]]


# --------------------------------------------------------------------------- flights
def sensors_covering_flight(theater: Theater, t: ArrayLike, ecef: ArrayLike, burnout: float) -> list[str]:
    """Ids of the sensors of ``theater`` that cover some sample of a flight: Unix times ``t`` [s] (n,), ECEF
    states or positions ``ecef`` [m] (n, 3 or 6), its motor burning before ``burnout`` [Unix s].

    A radar covers a sample in its field of regard with its line of sight clear of the ellipsoid (the
    detection probability aside: any is a chance); an infrared satellite a sample of the burning motor
    above its cloud tops in its line of sight.  The questions the simulator asks at each scan and frame
    (:mod:`mwx.sim.sensors`), asked at the flight's samples.  Empty: no sensor can detect the flight.
    """
    times = np.asarray(t, float)
    xyz = np.asarray(ecef, float)[:, :3]
    covering = []
    for radar in theater.radars:
        site = radar.site
        enu = wgs84.ecef_to_enu(xyz, math.radians(site.lat), math.radians(site.lon), site.alt_m)
        az, el, rng_m = wgs84.enu_to_aer(enu)
        if np.any(in_field_of_regard(radar, az, el, rng_m) & line_of_sight_clear(radar.site_ecef, xyz)):
            covering.append(radar.id)
    burning = times < burnout
    if np.any(burning):
        _, _, alt = wgs84.ecef_to_geodetic(xyz[burning])
        for satellite in theater.infrared:
            origin = satellite.position(times[burning])
            seen = (alt > satellite.cloud_top_km * 1e3) & line_of_sight_clear(origin, xyz[burning])
            if np.any(seen):
                covering.append(satellite.id)
    return covering


def uncovered_missiles(scenario: Scenario, trajectories: Mapping[int, Trajectory]) -> dict[int, list[str]]:
    """The scenario's missiles that no sensor of its theater (overrides and extra sensors included) covers
    at any sample of the flight (:func:`sensors_covering_flight`): their ids by launch (index in the
    scenario file), launches some sensor covers left out.  ``trajectories``: each launch's solved flight by
    index (:func:`mwx.sim.flight.solve_flight`; a salvo's missiles fly it at their own launch times)."""
    from mwx.sim.scenario import missiles, theater_of

    theater = theater_of(scenario)
    out: dict[int, list[str]] = {}
    for missile in missiles(scenario):
        traj = trajectories[missile.launch_index]
        start = missile.launch_time
        if not sensors_covering_flight(theater, start + traj.t, traj.ecef, start + traj.burnout_t):
            out.setdefault(missile.launch_index, []).append(missile.id)
    return out


# --------------------------------------------------------------------------- map
_MAX_ALTITUDES = 4
_PANEL_IN = 6.4  # width of one map panel [in]
_FIG_DPI = 100


_LABEL_PT = 7.0  # site label font size [pt]
# Label places tried in turn: offset [pt] and alignment.
_LABEL_PLACES = (
    (4.0, 3.0, "left", "bottom"),
    (4.0, -3.0, "left", "top"),
    (-4.0, 3.0, "right", "bottom"),
    (-4.0, -3.0, "right", "top"),
    (0.0, 6.0, "center", "bottom"),
    (0.0, -6.0, "center", "top"),
)


def _label_places(xy_px: NDArray, labels: Sequence[str]) -> list[tuple[float, float, str, str]]:
    """A place from :data:`_LABEL_PLACES` for each label of a site at display position ``xy_px`` [px].

    Greedy: each label takes the first place whose box (estimated from its
    length) overlaps no site marker and no label placed before it.
    """
    scale = _FIG_DPI / 72.0  # px per pt
    w_char, h = 0.62 * _LABEL_PT * scale, 1.25 * _LABEL_PT * scale
    r = 4.5 * scale  # marker half-size
    taken = [(x - r, y - r, x + r, y + r) for x, y in xy_px]
    out = []
    for (x, y), text in zip(xy_px, labels, strict=True):
        w = w_char * len(text)
        choice = _LABEL_PLACES[0]
        for place in _LABEL_PLACES:
            dx, dy, ha, va = place
            x0 = x + dx * scale - {"left": 0.0, "right": w, "center": w / 2}[ha]
            y0 = y + dy * scale - {"bottom": 0.0, "top": h}[va]
            box = (x0, y0, x0 + w, y0 + h)
            mine = (x - r, y - r, x + r, y + r)
            if not any(_overlap(box, other) for other in taken if other != mine):
                choice = place
                break
        dx, dy, ha, va = choice
        x0 = x + dx * scale - {"left": 0.0, "right": w, "center": w / 2}[ha]
        y0 = y + dy * scale - {"bottom": 0.0, "top": h}[va]
        taken.append((x0, y0, x0 + w, y0 + h))
        out.append(choice)
    return out


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _orbit_text(satellite: InfraredSatellite) -> str:
    o = satellite.orbit
    if isinstance(o, GeostationaryOrbit):
        return f"GEO {abs(o.lon_deg):g}°{'E' if o.lon_deg >= 0 else 'W'}"
    return f"Kepler e {o.e:g}, i {o.i_deg:g}°"


def coverage_map_png(
    theater: Theater,
    altitudes_m: Sequence[float],
    rcs_m2: float = DEFAULT_RCS_M2,
    min_pd: float = DEFAULT_MIN_PD,
    t: float | None = None,
    areas: Sequence[Any] = (),
) -> bytes:
    """PNG of every radar's coverage at each of ``altitudes_m`` [m] (1 to 4), one map panel per altitude.

    Every panel shows the same window over the world land outlines and the
    ``areas`` (:class:`mwx.geo.regions.ProtectedArea`: territory filled, EEZ
    dotted), every radar's covered region at that altitude outlined and
    lightly filled in its partner's colour (line style by altitude, as in the
    legend) and every site marked with its sensor id.  A last cell holds the
    legend and the infrared satellites: each is drawn as a dash-dot outline of
    what it sees just above its cloud tops at Unix time ``t`` [s] (only
    geostationary ones when ``t`` is None), or named in a note when it sees
    all or none of the window.  No timestamp in the PNG: same inputs, same bytes.
    """
    from matplotlib.artist import Artist
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from mwx.geo import regions
    from mwx.plot import maps
    from mwx.plot.figures import OTHER_COLOUR, figure, partner_colour, png_bytes

    altitudes = sorted(float(a) for a in altitudes_m)
    if not 1 <= len(altitudes) <= _MAX_ALTITUDES:
        raise ValueError(f"between 1 and {_MAX_ALTITUDES} altitudes, got {len(altitudes)}")
    colour_of = {p: partner_colour(p, theater.partner_ids) for p in theater.partner_ids}
    styles: tuple[Literal["-", "--", "-.", ":"], ...] = (
        ("-", "--", "-.", ":") if len(altitudes) == 1 else (":", "--", "-", "-.")
    )

    # Coverage first: the window has to hold all of it.
    footprints = [[radar_footprint(r, alt, rcs_m2, min_pd) for r in theater.radars] for alt in altitudes]
    sites = [(r.site.lon, r.site.lat) for r in theater.radars]
    center = math.degrees(
        math.atan2(sum(math.sin(math.radians(x)) for x, _ in sites), sum(math.cos(math.radians(x)) for x, _ in sites))
        if sites
        else 0.0
    )
    lons = [wrap_lon(x, center) for x, _ in sites]
    lats = [y for _, y in sites]
    for row in footprints:
        for fp in row:
            for lon, lat in fp.rings()[:1] if fp.full_circle else fp.rings():
                lons.extend(wrap_lon(lon, center).tolist())
                lats.extend(lat.tolist())
    if not lons:
        lons, lats = [center - 10.0, center + 10.0], [0.0, 30.0]
    pad = 1.0
    n_cells = len(altitudes) + 1
    ncols = 2 if n_cells <= 4 else 3
    nrows = math.ceil(n_cells / ncols)
    data = maps.MapExtent(
        center, min(lons) - pad, max(lons) + pad, max(-89.0, min(lats) - pad), min(89.0, max(lats) + pad)
    )
    # Panel shape (height / width) follows the data, within reason.
    box = min(1.3, max(0.6, data.lat_span * maps.aspect(data) / data.lon_span))
    extent = maps.fill_box(data, box)

    # Infrared: outlines where they fall in the window, notes otherwise.
    ir_lines: list[tuple[str, NDArray, NDArray]] = []
    notes: list[str] = []
    grid_lat, grid_lon = np.meshgrid(
        np.linspace(extent.lat_min, extent.lat_max, 21), np.linspace(extent.lon_min, extent.lon_max, 21)
    )
    for sat in theater.infrared:
        name = f"{sat.id} ({_orbit_text(sat)})"
        if t is None and not isinstance(sat.orbit, GeostationaryOrbit):
            notes.append(f"{name}: not drawn; give --time")
            continue
        when = 0.0 if t is None else t
        h = sat.cloud_top_km * 1e3 + 1.0
        seen = infrared_visible_mask(sat, when, grid_lat, grid_lon, h)
        if seen.all() or not seen.any():
            notes.append(f"{name}: sees {'all' if seen.all() else 'none'} of the map above {sat.cloud_top_km:g} km")
            continue
        lon, lat = infrared_footprint(sat, when, h)
        ir_lines.append((sat.partner, lon, lat))
        notes.append(f"{name}: dash-dot line bounds what it sees above {sat.cloud_top_km:g} km")

    land = [np.asarray(ring, float) for ring in regions.world_land_outlines()]
    # Tick labels take about 0.7 in beside each panel and 0.6 in below it.
    size = (ncols * _PANEL_IN, nrows * ((_PANEL_IN - 0.7) * box + 0.6) + 0.5)
    with figure(*size, dpi=_FIG_DPI) as fig:
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for k, alt in enumerate(altitudes):
            ax = axes[k]
            maps.draw_background(ax, extent, land, areas, lambda p: colour_of.get(p, OTHER_COLOUR))
            for partner, lon, lat in ir_lines:
                for shift in (-360.0, 0.0, 360.0):
                    ax.plot(lon + shift, lat, color=colour_of.get(partner, OTHER_COLOUR), linestyle="-.", linewidth=0.9)
            for radar, fp in zip(theater.radars, footprints[k], strict=True):
                colour = colour_of.get(radar.partner, OTHER_COLOUR)
                rings = fp.rings()
                for j, (lon, lat) in enumerate(rings):
                    x = wrap_lon(lon, center)
                    if not (fp.full_circle and j == 1):  # a circle's hole over the radar: too small to matter
                        ax.fill(x, lat, facecolor=colour, alpha=0.04, edgecolor="none", zorder=3)
                        ax.plot(x, lat, color=colour, linestyle=styles[k], linewidth=1.4, zorder=4)
            for radar in theater.radars:
                colour = colour_of.get(radar.partner, OTHER_COLOUR)
                ship = radar.platform == "ship"
                ax.plot(
                    [wrap_lon(radar.site.lon, center)],
                    [radar.site.lat],
                    marker="D" if ship else "^",
                    markersize=5 if ship else 6.5,
                    markerfacecolor=colour,
                    markeredgecolor="white",
                    markeredgewidth=0.7,
                    linestyle="none",
                    zorder=6,
                )
            maps.set_map_axes(ax, extent)
            ax.tick_params(labelsize=8)
            ax.set_title(f"target at {alt / 1e3:g} km", fontsize=10, fontweight="bold")

        key = axes[len(altitudes)]
        key.set_axis_off()
        for ax in axes[len(altitudes) + 1 :]:
            ax.set_axis_off()
        partners = [p for p in theater.partners if any(r.partner == p.id for r in theater.radars)]
        handles: list[Artist] = [
            Patch(facecolor=colour_of[p.id], alpha=0.35, edgecolor=colour_of[p.id], label=f"{p.id} radar coverage")
            for p in partners
        ]
        handles += [
            Line2D([], [], color="#333333", linestyle=styles[k], linewidth=1.3, label=f"outline at {alt / 1e3:g} km")
            for k, alt in enumerate(altitudes)
        ]
        handles += [
            Line2D([], [], marker="^", color="#555555", linestyle="none", label="ground radar site"),
            Line2D([], [], marker="D", color="#555555", markersize=5, linestyle="none", label="ship radar"),
            Patch(facecolor=maps.LAND_COLOURS[0], edgecolor=maps.LAND_COLOURS[1], label="land"),
        ]
        if any(a.kind == "territory" for a in areas):
            handles.append(Patch(facecolor="#999999", alpha=0.35, edgecolor="#777777", label="partner territory"))
        if any(a.kind == "eez" for a in areas):
            handles.append(
                Line2D([], [], color="#777777", linestyle=(0, (1, 2)), linewidth=0.8, label="EEZ (200 nmi approx.)")
            )
        if ir_lines:
            handles.append(Line2D([], [], color="#555555", linestyle="-.", linewidth=0.9, label="infrared view"))
        key.legend(handles=handles, loc="upper left", fontsize=8.5, frameon=False, borderaxespad=0.0)
        text = [
            f"Covered: in the field of regard, line of sight clear of the WGS-84 ellipsoid, "
            f"single-look Pd ≥ {min_pd:g} for a {rcs_m2:g} m² target (Swerling 1).",
        ]
        if notes:
            text += ["", "Infrared satellites:", *notes]
        key.text(0.0, 0.42, "\n".join(text), fontsize=8, va="top", ha="left", wrap=True, transform=key.transAxes)
        fig.suptitle(
            f"{theater.name}: radar coverage by target altitude (generic, notional sensors — not real systems)",
            fontsize=11.5,
        )
        fig.tight_layout(rect=(0.0, 0.0, 1.0, 0.97))
        # Labels last, once the panels have their final place: greedy, clear of markers and each other.
        for ax in axes[: len(altitudes)]:
            ax.apply_aspect()
            xy = ax.transData.transform([(wrap_lon(x, center), y) for x, y in sites])
            for radar, (dx, dy, ha, va) in zip(
                theater.radars, _label_places(xy, [r.id for r in theater.radars]), strict=True
            ):
                ax.annotate(
                    radar.id,
                    (wrap_lon(radar.site.lon, center), radar.site.lat),
                    xytext=(dx, dy),
                    textcoords="offset points",
                    ha=ha,
                    va=va,
                    fontsize=_LABEL_PT,
                    zorder=7,
                    annotation_clip=True,
                    bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.75},
                )
        png = png_bytes(fig, dpi=_FIG_DPI)
    return png
