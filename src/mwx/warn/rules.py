"""Warning rules: how likely a track threatens each protected area, from its impact distribution.

Three rules, each a probability from the Monte Carlo impact distribution
(:func:`mwx.assess.distribution.predict`) and a threshold per alert level:

* **impact on territory** — the share of impact samples inside the territory;
* **impact in the EEZ** — the share inside the EEZ (which holds the territory);
* **overflight of territory** — the share of samples whose ground path passes over the
  territory and leaves it again (a path that ends inside is an impact).  A sample's ground path
  is modelled as the mean path displaced, at each point, by the share of the path's ground
  length flown so far times the sample's impact offset from the mean path's end.  This is the
  first-order picture of a perturbed free-flight arc (the reference-trajectory perturbations of
  Regan & Anandakrishnan 1993, ch. 5): the object is where the track says now, and a small error
  of the state turns into a deviation that grows along the arc to the impact offset — exactly
  linearly in the angle flown for an error of heading on a sphere (sin ψ ≈ ψ for the few tens of
  degrees of these flights), and monotonically for errors of speed and climb angle.  The crossing
  time reported is the mean path's entry when the mean path crosses, else the median entry of
  the crossing samples; the overflight is over (``end_time``) once the 95th percentile of their
  exits has passed.

Thresholds and levels.  A *warning* is issued (the public is told to shelter) when the
probability reaches :data:`THRESHOLDS` ``[rule].warning``; a standing warning whose probability
falls below it is kept at level *advisory* (operators and authorities stay ready, the public
message stands) until the probability falls below ``[rule].advisory``, where it is cancelled.  The
band between the two is hysteresis: a prediction hovering at a threshold does not flip the public
warning on and off.  The thresholds follow the cost-loss rule (Thompson 1952; Murphy 1977, "The
value of climatologically calibrated probability forecasts"): act when p ≥ C/L, C the cost of a
false warning and L the loss a missed one causes.  A missed warning costs far more than a false one:

* impact on territory, p ≥ 0.05 (keep ≥ 0.02): a warhead or a missile body falling on land where
  people live, unwarned, against an hour of sheltering and some lost trust: L/C of 20 or more;
* impact in the EEZ, p ≥ 0.2 (keep ≥ 0.1): at sea the exposure is ships, fishing boats and
  aircraft, few people and reachable by targeted notices: L/C about 4;
* overflight, p ≥ 0.2 (keep ≥ 0.1): the hazard is falling stages and debris along the path, and
  an overflown public is told to shelter (J-Alert does, as on 4 October 2022): L/C about 4.  A path
  over the territory is nearly certain once the track settles (the samples spread a few km across
  track), so the threshold mostly decides how early, not whether, the warning goes out.

With 1000 samples the probability's standard error is at most 1.6 % (0.7 % at p = 0.05), well
below the hysteresis band.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from mwx.assess.distribution import ImpactDistribution
from mwx.assess.impact import CHI2_2_95
from mwx.geo import regions, wgs84
from mwx.geo.regions import ProtectedArea
from mwx.warn import areas as alert_areas

WARNING = "warning"
ADVISORY = "advisory"
CHI2_2_999 = 13.815510557964274  # χ²(2) 99.9 % point: inside samples beyond it are not used for an area


@dataclass(frozen=True)
class Thresholds:
    """Probability thresholds of one rule: warn at ``warning``, keep a standing alert down to ``advisory``."""

    warning: float
    advisory: float


#: (reason, area kind) → thresholds; see the module docstring for the reasons.
THRESHOLDS: dict[tuple[str, str], Thresholds] = {
    ("impact", "territory"): Thresholds(warning=0.05, advisory=0.02),
    ("impact", "eez"): Thresholds(warning=0.2, advisory=0.1),
    ("overflight", "territory"): Thresholds(warning=0.2, advisory=0.1),
}
#: Impact samples whose ground paths are tested for an overflight (the first ones of the draw, an
#: unbiased subset): the standard error at the thresholds is 2.3 % at most, and a path costs ~0.1 ms.
OVERFLIGHT_SAMPLES = 400
#: Spacing [s] of the path points tested for an overflight: at the 3–4 km/s ground speed of an
#: IRBM 6–8 km, so a sample path cannot step over a peninsula (the 10 s default is 30–40 km).
OVERFLIGHT_STEP_S = 2.0
#: An impact alert's threat lasts until the mean impact time plus this many σ of the impact time.
END_SIGMAS = 2.0


def thresholds_for(reason: str, kind: str) -> Thresholds:
    """The thresholds of a rule; a rule without its own (overflight of an EEZ) never warns."""
    return THRESHOLDS.get((reason, kind), Thresholds(math.inf, math.inf))


def level_for(reason: str, kind: str, probability: float | None, standing: bool) -> str | None:
    """The alert level a probability gives: ``warning``, ``advisory`` (only for a standing alert) or None.

    ``probability`` None means a certain threat (a deterministic path, :func:`mwx.warn.alerts.threats`).
    """
    p = 1.0 if probability is None else probability
    rule = thresholds_for(reason, kind)
    if p >= rule.warning:
        return WARNING
    if standing and p >= rule.advisory:
        return ADVISORY
    return None


@dataclass(frozen=True)
class Threat:
    """One area threatened by one track's prediction (times Unix s, angles degrees).

    ``probability`` is that of the event (impact in the area, or overflight of it), None when
    the threat comes from a single path (certain); ``geometry`` the alert area (lon/lat degrees)
    and ``ellipse`` the 95 % impact ellipse that justifies it (centre ``lat``, ``lon`` deg,
    ``semi_major_km``, ``semi_minor_km``, ``orientation_deg`` from north), when known.
    """

    area: ProtectedArea
    reason: str
    impact_time: float
    impact_lat: float  # deg
    impact_lon: float  # deg
    crossing_time: float | None
    end_time: float
    probability: float | None = None
    geometry: BaseGeometry | None = None
    ellipse: dict | None = None
    impact_time_sigma: float | None = None


def ellipse_of(dist: ImpactDistribution, i: int) -> dict:
    """Track i's 95 % impact ellipse as a dict: centre lat/lon [deg], semi-axes [km], major-axis azimuth [deg]."""
    major, minor, azimuth = dist.ellipse_95(i)
    return {
        "lat": math.degrees(float(dist.lat[i])),
        "lon": float(alert_areas.wrap_lon(math.degrees(float(dist.lon[i])))),
        "semi_major_km": major / 1e3,
        "semi_minor_km": minor / 1e3,
        "orientation_deg": math.degrees(azimuth),
    }


def _inside_ellipse(dist: ImpactDistribution, i: int, lat: NDArray, lon: NDArray, chi2: float) -> NDArray:
    """Whether sample points [deg] lie within the χ² = ``chi2`` ellipse of track i's impact distribution."""
    c = math.cos(float(dist.lat[i]))
    east = alert_areas.wrap_lon(lon - math.degrees(float(dist.lon[i]))) * c * alert_areas.KM_PER_DEG_LAT * 1e3
    north = (lat - math.degrees(float(dist.lat[i]))) * alert_areas.KM_PER_DEG_LAT * 1e3
    d = np.stack([east, north], axis=-1)
    m2 = np.einsum("si,si->s", d, np.linalg.solve(dist.cov_en[i], d.T).T)
    return m2 <= chi2


def impact_area(area: ProtectedArea, ellipse: dict, inside_lat: NDArray, inside_lon: NDArray) -> BaseGeometry:
    """The alert area of an impact threat: the area inside the 95 % ellipse grown by the margin.

    When the ellipse misses the area (its probability comes from the tail), the convex hull of the
    samples that fall inside the area (within the 99.9 % ellipse), grown by the margin, is used.
    """
    region = alert_areas.ellipse_polygon(
        ellipse["lat"],
        ellipse["lon"],
        ellipse["semi_major_km"] + alert_areas.MARGIN_KM,
        ellipse["semi_minor_km"] + alert_areas.MARGIN_KM,
        ellipse["orientation_deg"],
    )
    out = alert_areas.clip(area.geometry, region)
    if out.is_empty and len(inside_lat):
        out = alert_areas.clip(area.geometry, alert_areas.hull_of_points(inside_lat, inside_lon))
    return out


def path_weights(lat_deg: NDArray, lon_deg: NDArray) -> NDArray:
    """Share (k,) of a ground path's length flown at each point: 0 at the first, 1 at the last."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    # Haversine central angles between consecutive points (the sphere is close enough for a share).
    h = np.sin(np.diff(lat) / 2) ** 2 + np.cos(lat[:-1]) * np.cos(lat[1:]) * np.sin(np.diff(lon) / 2) ** 2
    steps = 2.0 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    total = float(steps.sum())
    if len(lat) == 1:
        return np.ones(1)
    if total <= 0.0:
        return np.linspace(0.0, 1.0, len(lat))
    return np.concatenate([[0.0], np.cumsum(steps) / total])


def overflight_threats(
    areas: tuple[ProtectedArea, ...],
    dist: ImpactDistribution,
    i: int,
    sample_lat: NDArray,
    sample_lon: NDArray,
    ellipse: dict,
) -> list[Threat]:
    """Overflights of each territory by track i, with their probabilities, times and swaths.

    ``sample_lat``, ``sample_lon`` (s,) [deg]: the impact samples to model paths for (NaN: the
    sample never lands, and counts as no overflight).
    """
    territories = [a for a in areas if a.kind == "territory"]
    if not territories:
        return []
    path_t, states = dist.path(i, OVERFLIGHT_STEP_S)
    lat_r, lon_r, _ = wgs84.ecef_to_geodetic(states[:, :3])
    plat, plon = np.degrees(lat_r), np.degrees(lon_r)
    weight = path_weights(plat, plon)
    valid = np.isfinite(sample_lat)
    d_lat = np.where(valid, sample_lat - plat[-1], 0.0)
    d_lon = np.where(valid, alert_areas.wrap_lon(sample_lon - plon[-1]), 0.0)
    lat_ks = plat[:, None] + weight[:, None] * d_lat[None, :]  # (k, s)
    lon_ks = plon[:, None] + weight[:, None] * d_lon[None, :]
    impact_time = float(dist.time[i])
    # Impact offsets in km (east scaled at the mean end point) for the swath.
    ref_lat = float(plat[-1])
    offsets = np.column_stack([d_lon[valid] * math.cos(math.radians(ref_lat)), d_lat[valid]])
    offsets *= alert_areas.KM_PER_DEG_LAT
    cov_km2 = np.cov(offsets.T) if offsets.shape[0] > 2 else np.zeros((2, 2))
    out = []
    k_all = np.arange(len(path_t))
    reach_deg = alert_areas.MARGIN_KM / (alert_areas.KM_PER_DEG_LAT * max(math.cos(math.radians(ref_lat)), 0.1))
    for area in territories:
        # Only path points whose sample cloud's bounding box (grown by the margin) touches the
        # territory can be over it, or in the swath over it.
        rows = _rows_touching(area.geometry, lat_ks, lon_ks, reach_deg)
        if rows.size == 0:
            continue
        inside = np.zeros(lat_ks.shape, bool)
        inside[rows] = regions.contains((area,), lat_ks[rows], lon_ks[rows])[0].reshape(rows.size, -1)
        inside[:, ~valid] = False
        any_in = inside.any(axis=0)
        first_in = np.where(any_in, np.argmax(inside, axis=0), len(path_t))
        after = ~inside & (k_all[:, None] > first_in[None, :])
        over = any_in & after.any(axis=0)
        probability = float(over.sum()) / len(sample_lat)
        if probability <= 0.0:
            continue
        exit_k = np.argmax(after, axis=0)[over]
        enter_k = first_in[over]
        # A boundary lies between the last point outside and the first inside (or at the path's start).
        enter_s = np.where(enter_k > 0, 0.5 * (path_t[np.maximum(enter_k - 1, 0)] + path_t[enter_k]), path_t[0])
        leave_s = 0.5 * (path_t[exit_k - 1] + path_t[exit_k])
        mean_cross = [
            (enter, leave)
            for _, enter, leave in regions.path_crossings((area,), path_t, plat, plon)
            if leave < impact_time - 1e-6
        ]
        crossing = mean_cross[0][0] if mean_cross else float(np.median(enter_s))
        end = max(float(np.percentile(leave_s, 95)), mean_cross[0][1] if mean_cross else -math.inf)
        # The swath over every path point near the territory (one more either side): clipped to the
        # territory it is the land under the path ± its 95 % spread, whatever the points' spacing.
        lo, hi = max(int(rows[0]) - 1, 0), min(int(rows[-1]) + 2, len(path_t))
        region = alert_areas.swath(plat[lo:hi], plon[lo:hi], weight[lo:hi], cov_km2, ref_lat, chi2=CHI2_2_95)
        geometry = alert_areas.clip(area.geometry, region)
        if geometry.is_empty:
            pts = inside[:, over]
            geometry = alert_areas.clip(
                area.geometry, alert_areas.hull_of_points(lat_ks[:, over][pts], lon_ks[:, over][pts])
            )
        out.append(
            Threat(
                area,
                "overflight",
                impact_time,
                ellipse["lat"],
                ellipse["lon"],
                crossing,
                end,
                probability=probability,
                geometry=geometry,
                ellipse=ellipse,
                impact_time_sigma=float(dist.time_sigma[i]),
            )
        )
    return out


def _rows_touching(geometry: BaseGeometry, lat_ks: NDArray, lon_ks: NDArray, grow_deg: float = 0.0) -> NDArray:
    """Indices of the rows of points (k, s) [deg] whose bounding box, grown by ``grow_deg``, touches ``geometry``.

    A box is tested at its longitudes wrapped by its western edge and once more shifted by
    −360° (for a box past +180°), so a cloud near the antimeridian is not missed.
    """
    x0, x1 = lon_ks.min(axis=1) - grow_deg, lon_ks.max(axis=1) + grow_deg
    shift = alert_areas.wrap_lon(x0) - x0
    y0, y1 = lat_ks.min(axis=1) - grow_deg, lat_ks.max(axis=1) + grow_deg
    hit = shapely.intersects(geometry, shapely.box(x0 + shift, y0, x1 + shift, y1))
    hit |= shapely.intersects(geometry, shapely.box(x0 + shift - 360.0, y0, x1 + shift - 360.0, y1))
    return np.flatnonzero(hit)


def distribution_threats(
    areas: tuple[ProtectedArea, ...], dist: ImpactDistribution, *, overflight_samples: int = OVERFLIGHT_SAMPLES
) -> list[list[Threat]]:
    """Per track of ``dist``, the threats to ``areas`` whose probability reaches the rule's advisory threshold.

    A threat below every threshold could neither raise nor keep an alert, so it is left out (and
    a standing alert for it is cancelled by :class:`mwx.warn.alerts.AlertManager`).
    """
    n = len(dist.time)
    out: list[list[Threat]] = [[] for _ in range(n)]
    if not areas or n == 0:
        return out
    p_in = dist.probability_inside(areas)
    lat_r, lon_r = dist.sample_lat_lon()
    s_lat, s_lon = np.degrees(lat_r), np.degrees(lon_r)
    for i in range(n):
        if not math.isfinite(dist.time[i]) or not np.all(np.isfinite(dist.cov_en[i])):
            continue
        ellipse = ellipse_of(dist, i)
        sigma_t = float(dist.time_sigma[i])
        impact_time = float(dist.time[i])
        near = None
        for k, area in enumerate(areas):
            p = float(p_in[i, k])
            if p <= 0.0 or p < thresholds_for("impact", area.kind).advisory:
                continue
            if near is None:
                ok = np.isfinite(s_lat[i])
                near = ok.copy()
                near[ok] = _inside_ellipse(dist, i, s_lat[i, ok], s_lon[i, ok], CHI2_2_999)
            hit = near & regions.contains((area,), np.nan_to_num(s_lat[i]), np.nan_to_num(s_lon[i]))[0]
            geometry = impact_area(area, ellipse, s_lat[i, hit], s_lon[i, hit])
            out[i].append(
                Threat(
                    area,
                    "impact",
                    impact_time,
                    ellipse["lat"],
                    ellipse["lon"],
                    None,
                    impact_time + END_SIGMAS * sigma_t,
                    probability=p,
                    geometry=geometry,
                    ellipse=ellipse,
                    impact_time_sigma=sigma_t,
                )
            )
        m = min(overflight_samples, s_lat.shape[1])
        found = overflight_threats(areas, dist, i, s_lat[i, :m], s_lon[i, :m], ellipse)
        out[i].extend(
            t
            for t in found  # overflight_threats gives each its probability (None would mean certain)
            if t.probability is None or t.probability >= thresholds_for("overflight", t.area.kind).advisory
        )
    return out
