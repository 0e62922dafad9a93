"""The impact distribution of tracks: a vectorised Monte Carlo, thousands of samples per track.

For each track state x with covariance P (ECEF, 6-state) at time t:

1. The *nominal* flight of the mean is propagated to the ground with the full
   model (:func:`mwx.assess.impact.fly_to_ground`: J2, Earth rotation, drag)
   for three ballistic coefficients β₀·e^(σ_β η), η = −1, 0, +1 (β₀ the
   assumed one), and without drag; and once in closed form as a two-body arc
   (:func:`mwx.assess.kepler.crossing`) to the sphere through the nominal
   impact point (:func:`nominal_flights`).
2. Samples xₛ ~ N(x, P) go only through the closed form.  What the closed form
   leaves out is carried over from the mean: J2 and the ellipsoid (full
   without drag − two-body), and drag's shift of the impact (full with β −
   full without drag).  Each sample draws its own ballistic coefficient,
   β = β₀ · e^(σ_β η) with η ~ N(0, 1), and takes the drag shift of the
   quadratic in η through the three nominal flights: the shift grows faster
   than 1/β (measured by ``benchmarks/impact_calibration.py --drag-check``:
   a linear 1/β scaling made the ellipse 1.25–1.5× too narrow along track).
   So the spread of the samples carries the track's uncertainty through the
   nonlinear vacuum arc exactly, and the (small, smooth) perturbations
   about the nominal — the usual "perturbation about a reference trajectory"
   of ballistic impact prediction (Regan & Anandakrishnan 1993, ch. 5).
3. The impact ellipse is the samples' mean and covariance in the local
   east/north plane at that mean, scaled by the χ²(2) 95 % point; the
   probability of impact inside an area is the share of samples inside it.

All random draws come from the generator passed in (seeded by the caller).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mwx.assess import drag, kepler
from mwx.assess.impact import ASSUMED_BETA, CHI2_2_95, PATH_STEP_S, ellipse_95, fly_to_ground
from mwx.geo import regions, wgs84
from mwx.geo.hermite import densify

#: Spread (σ of ln β) of the re-entry body's ballistic coefficient, which no sensor
#: measures before re-entry: one σ is a factor 1.35 either way around β₀.
BETA_SIGMA_LN = drag.REENTRY_SIGMA_LN
DRAG_CEILING_M = 120e3  # above this the nominal flights with and without drag are the same
DEFAULT_SAMPLES = 1000


@dataclass
class ImpactDistribution:
    """Arrays over n tracks (NaN where a track's mean does not reach the ground)."""

    time: NDArray  # (n,) mean impact time [Unix s]
    lat: NDArray  # (n,) mean impact point, geodetic latitude [rad]
    lon: NDArray  # (n,) [rad]
    cov_en: NDArray  # (n, 2, 2) east/north covariance at the mean point [m²]
    time_sigma: NDArray  # (n,) [s]
    sample_position: NDArray  # (n, s, 3) ECEF impact points of the samples [m]
    sample_time: NDArray  # (n, s) [Unix s]
    apogee_alt: NDArray  # (n,) highest altitude of the mean flight from now to impact [m]
    nominal_path: list[tuple[NDArray, NDArray]]  # per track: times (k,) and ECEF states (k, 6), ≤ 120 s apart

    def path(self, i: int, step: float = PATH_STEP_S) -> tuple[NDArray, NDArray]:
        """Track i's mean path to impact, Hermite-densified to ``step`` seconds [Unix s], ECEF (k, 6)."""
        return densify(*self.nominal_path[i], step)

    def ellipse_95(self, i: int) -> tuple[float, float, float]:
        """Semi-major, semi-minor axes [m] and azimuth of the major axis [rad from north, 0..π]."""
        return ellipse_95(self.cov_en[i])

    def inside_95(self, lat: NDArray, lon: NDArray) -> NDArray:
        """Whether points (n,) [rad] lie inside each track's 95 % ellipse (one point per track)."""
        east, north = _east_north(self.lat, self.lon, np.asarray(lat, float), np.asarray(lon, float))
        d = np.stack([east, north], axis=-1)
        with np.errstate(invalid="ignore"):
            m2 = np.einsum("ni,ni->n", d, np.linalg.solve(self.cov_en, d[..., None])[..., 0])
        return m2 <= CHI2_2_95

    def sample_lat_lon(self) -> tuple[NDArray, NDArray]:
        """Geodetic latitude and longitude (n, s) [rad] of the samples' impact points."""
        lat, lon, _ = wgs84.ecef_to_geodetic(self.sample_position)
        return lat, lon

    def probability_inside(self, areas: Sequence[regions.ProtectedArea]) -> NDArray:
        """(n, len(areas)): share of each track's samples that fall inside each area."""
        lat, lon = self.sample_lat_lon()
        n, s = lat.shape
        out = np.zeros((n, len(areas)))
        ok = np.isfinite(lat)
        if not areas or not ok.any():
            return out
        inside = regions.contains(areas, np.degrees(lat[ok]), np.degrees(lon[ok]))  # (areas, points)
        rows = np.nonzero(ok)[0]
        for a in range(len(areas)):
            out[:, a] = np.bincount(rows, weights=inside[a], minlength=n) / s
        return out


def _east_north(lat0: NDArray, lon0: NDArray, lat: NDArray, lon: NDArray) -> tuple[NDArray, NDArray]:
    """East and north offsets [m] of surface points (lat, lon) from (lat0, lon0) in the tangent plane there."""
    enu = wgs84.ecef_to_enu(wgs84.geodetic_to_ecef(lat, lon, np.zeros_like(lat)), lat0, lon0, np.zeros_like(lat0))
    return enu[..., 0], enu[..., 1]


def _highest(paths: list[tuple[NDArray, NDArray]]) -> NDArray:
    """Highest ellipsoidal height [m] along each sampled path: the top sample refined by a parabola in time.

    Near the top of a ballistic arc the height is a parabola in time to well under a metre over a
    minute either side, so three samples up to 120 s apart suffice.  NaN for an empty path.
    """
    out = np.full(len(paths), math.nan)
    if not paths:
        return out
    heights = np.split(wgs84.ellipsoidal_height(np.concatenate([s[:, :3] for _, s in paths])),
                       np.cumsum([len(t) for t, _ in paths])[:-1])  # fmt: skip
    for i, ((times, _), h) in enumerate(zip(paths, heights, strict=True)):
        if len(h) == 0:
            continue
        k = int(np.argmax(h))
        out[i] = h[k]
        if 0 < k < len(h) - 1:
            (t0, t1, t2), (h0, h1, h2) = times[k - 1 : k + 2] - times[k], h[k - 1 : k + 2]
            # Vertex of the parabola through the three points (divided differences).
            d1, d2 = (h1 - h0) / (t1 - t0), (h2 - h1) / (t2 - t1)
            c = (d2 - d1) / (t2 - t0)
            if c < 0.0:
                slope = d1 - c * (t0 + t1)  # h(τ) = h1 + slope·τ + c·τ², τ from the top sample (t1 = 0)
                out[i] = h1 - slope * slope / (4.0 * c)
    return out


def _spread(pos: NDArray, centre: NDArray | None = None) -> tuple[NDArray, NDArray, NDArray]:
    """East/north covariance (k, 2, 2) [m²] of impact points (k, s, 3) about their centre, and the centre [rad].

    The centre is the point on the ellipsoid below the samples' mean position, or below ``centre``
    (k, 3) [m, ECEF] where given (then the matrix is the samples' second moment about it); the
    covariance is the samples' 3-D one projected on its tangent plane (the curvature over tens of km
    changes it by parts per million).  Samples that never land (NaN) are left out.
    """
    if np.isnan(pos).any():
        good = np.isfinite(pos).all(axis=-1)
        count = np.maximum(good.sum(axis=1), 2)
        mean_pos = np.nanmean(pos, axis=1) if centre is None else centre
        d = np.where(good[..., None], pos - mean_pos[:, None, :], 0.0)
    else:
        count = np.full(pos.shape[0], pos.shape[1])
        mean_pos = pos.mean(axis=1) if centre is None else centre
        d = pos - mean_pos[:, None, :]
    lat, lon, _ = wgs84.ecef_to_geodetic(mean_pos)
    cov3 = np.swapaxes(d, 1, 2) @ d / (count - 1)[:, None, None]
    basis = wgs84.enu_basis(lat, lon)[:, :2]  # (k, 2, 3): rows east, north
    return basis @ cov3 @ np.swapaxes(basis, 1, 2), lat, lon


@dataclass
class NominalFlights:
    """The means' flights to the ground (arrays over n tracks).

    ``drag_hit`` (3, n, 3) and ``drag_time`` (3, n): impact positions [m, ECEF] and times [Unix s]
    with the ballistic coefficient β₀·e^(σ·η) for η = −1, 0, +1; ``vacuum_hit`` (n, 3) and
    ``vacuum_time`` (n,): without drag; ``paths``: per track, times and ECEF states with β₀.
    """

    drag_hit: NDArray
    drag_time: NDArray
    vacuum_hit: NDArray
    vacuum_time: NDArray
    paths: list[tuple[NDArray, NDArray]]


def nominal_flights(x: NDArray, t: NDArray, beta: float, beta_sigma_ln: float = BETA_SIGMA_LN) -> NominalFlights:
    """Flights of ECEF states x (n, 6) at times t (n,) to the ground, with drag at three β and without.

    Above the air the flights are one: that part is flown once (RK4, J2), to ``DRAG_CEILING_M``.
    Below it the three flights with drag are flown on in one batch; the one without drag is the
    closed-form two-body arc from there to the sphere through the impact point (J2 acts on it for
    half a minute: metres).
    """
    n = x.shape[0]
    top, top_t, upper = fly_to_ground(x, t, beta=None, paths=np.arange(n), floor=DRAG_CEILING_M)
    start = np.where(np.isfinite(top_t)[:, None], top, x)
    start_t = np.where(np.isfinite(top_t), top_t, t)
    betas = np.repeat(beta * np.exp(beta_sigma_ln * np.array([0.0, -1.0, 1.0])), n)
    hit, hit_t, lower = fly_to_ground(np.tile(start, (3, 1)), np.tile(start_t, 3), beta=betas, paths=np.arange(n))
    order = [1, 0, 2]  # rows η = −1, 0, +1
    drag_hit = hit[:, :3].reshape(3, n, 3)[order]
    drag_time = hit_t.reshape(3, n)[order]
    arc = kepler.crossing(start, np.linalg.norm(drag_hit[1], axis=1))
    paths = [
        (np.concatenate([a[0][:-1], b[0]]), np.concatenate([a[1][:-1], b[1]]))
        for a, b in zip(upper, lower, strict=True)
    ]
    return NominalFlights(drag_hit, drag_time, arc.position, start_t + arc.time_of_flight, paths)


def predict_mixture(
    x: NDArray,
    p: NDArray,
    t: NDArray,
    rng: np.random.Generator,
    components: Sequence[drag.Component],
    *,
    samples: int = DEFAULT_SAMPLES,
) -> ImpactDistribution:
    """:func:`predict` with a mixture of ballistic-coefficient priors (:mod:`mwx.assess.drag`).

    The likeliest component gets ``samples`` samples and each other its weight's share of that
    (at least one), each with its own nominal flights; the samples are pooled.  The impact point
    is the likeliest component's mean (a re-entry body and its stage fall tens of km apart: the
    pool's mean, between them, is where neither falls), and the covariance the pool's second
    moment about it, scaled so that its 95 % ellipse holds 95 % of the pool (:func:`_holding`): it
    reaches the other component's fall where that carries more than the 5 % left out; the impact
    time, its σ, the nominal path and the apogee are the likeliest component's.  One component is
    exactly :func:`predict` with its β and σ.
    """
    weights = np.array([c.weight for c in components], float)
    counts = np.maximum(np.round(samples * weights / weights.max()).astype(int), 1)
    parts = [
        predict(x, p, t, rng, samples=int(m), beta=c.beta, beta_sigma_ln=c.sigma_ln)
        for c, m in zip(components, counts, strict=True)
    ]
    if len(parts) == 1:
        return parts[0]
    main = parts[int(np.argmax(weights))]
    pos = np.concatenate([d.sample_position for d in parts], axis=1)
    when = np.concatenate([d.sample_time for d in parts], axis=1)
    centre = np.where(np.isfinite(main.lat)[:, None], wgs84.geodetic_to_ecef(main.lat, main.lon, 0.0 * main.lat), 0.0)
    cov, lat, lon = _spread(pos, centre)
    cov = _holding(cov, pos, centre, lat, lon, 0.95)
    cov[~np.isfinite(main.time)] = np.nan
    return ImpactDistribution(
        time=main.time,
        lat=lat,
        lon=lon,
        cov_en=cov,
        time_sigma=main.time_sigma,
        sample_position=pos,
        sample_time=when,
        apogee_alt=main.apogee_alt,
        nominal_path=main.nominal_path,
    )


def _holding(cov: NDArray, pos: NDArray, centre: NDArray, lat: NDArray, lon: NDArray, share: float) -> NDArray:
    """``cov`` (k, 2, 2) scaled so that its χ²(2) 95 % ellipse about ``centre`` holds ``share`` of the samples
    ``pos`` (k, s, 3) [m, ECEF] (those that never land counted outside; unscaled where too many never land).

    A mixture's samples are no Gaussian cloud (a body and its stage fall tens of km apart): the
    ellipse of their second moment scaled by the χ²(2) point would hold nearly all of them.  Its
    shape is kept and its size set from the samples, so the 95 % ellipse holds 95 % of the mixture.
    """
    basis = wgs84.enu_basis(lat, lon)[:, :2]  # (k, 2, 3)
    d = np.einsum("kij,ksj->ksi", basis, pos - centre[:, None, :])
    with np.errstate(invalid="ignore"):
        m2 = np.einsum("ksi,ksi->ks", d, np.linalg.solve(cov[:, None], d[..., None])[..., 0])
        m2 = np.where(np.isfinite(m2), m2, np.inf)
        scale = np.quantile(m2, share, axis=1) / CHI2_2_95  # inf where the share reaches the samples lost
    # More than the share left out never lands (a loose state's samples escaping): no finite ellipse
    # holds the share, so the second moment's own (of the samples that land) is given.
    return cov * np.where(np.isfinite(scale), scale, 1.0)[:, None, None]


def predict(
    x: NDArray,
    p: NDArray,
    t: NDArray,
    rng: np.random.Generator,
    *,
    samples: int = DEFAULT_SAMPLES,
    beta: float = ASSUMED_BETA,
    beta_sigma_ln: float = BETA_SIGMA_LN,
) -> ImpactDistribution:
    """Impact distribution of ECEF states x (n, 6), covariances p (n, 6, 6) at Unix times t (n,)."""
    x = np.asarray(x, float)
    n = x.shape[0]
    t = np.broadcast_to(np.asarray(t, float), (n,))
    nominal = nominal_flights(x, t, beta, beta_sigma_ln)
    hit_t, paths = nominal.drag_time[1], nominal.paths
    radius = np.linalg.norm(nominal.drag_hit[1], axis=1)
    mean_arc = kepler.crossing(x, radius)
    j2_offset = nominal.vacuum_hit - mean_arc.position
    j2_dt = nominal.vacuum_time - (t + mean_arc.time_of_flight)
    # Drag's shift of the impact as a quadratic in η = ln(β/β₀)/σ through η = −1, 0, +1: the shift
    # grows faster than 1/β (a low-β body slows more, so it falls more steeply and shorter still).
    shift = nominal.drag_hit - nominal.vacuum_hit[None]  # (3, n, 3)
    shift_dt = nominal.drag_time - nominal.vacuum_time[None]
    slope, curve = 0.5 * (shift[2] - shift[0]), 0.5 * (shift[2] - 2.0 * shift[1] + shift[0])
    slope_dt, curve_dt = 0.5 * (shift_dt[2] - shift_dt[0]), 0.5 * (shift_dt[2] - 2.0 * shift_dt[1] + shift_dt[0])

    sym = 0.5 * (p + np.swapaxes(p, 1, 2))
    diag = np.diagonal(sym, axis1=1, axis2=2)
    # A load tiny next to each variance keeps Cholesky defined for nearly singular P.
    chol = np.linalg.cholesky(sym + np.einsum("ni,ij->nij", 1e-10 * diag + 1e-9, np.eye(6)))
    # Common random numbers: one set of standard normal draws serves every track (each track's
    # samples are still exact draws from its own distribution), a 100-track batch costs one draw.
    draws = rng.standard_normal((samples, 7))
    eta = draws[:, 6]  # ln(β/β₀)/σ per sample
    powers = np.stack([np.ones_like(eta), eta, eta**2], axis=1)  # (s, 3)
    pos, when = np.empty((n, samples, 3)), np.empty((n, samples))
    cov, c_lat, c_lon = np.empty((n, 2, 2)), np.empty(n), np.empty(n)
    # A few tracks at a time, so the temporaries stay small (see mwx.assess.kepler.BLOCK).
    per_block = max(1, kepler.BLOCK // samples)
    for start in range(0, n, per_block):
        b = slice(start, min(start + per_block, n))
        xs = x[b, None, :] + draws[None, :, :6] @ np.swapaxes(chol[b], 1, 2)
        arcs = kepler.crossing(xs, radius[b, None], apoapsis=False)
        # Offsets per sample as one product: [1, η, η²] (s, 3) times (J2 + drag at η = 0, slope, curve).
        pos[b] = arcs.position + powers @ np.stack([j2_offset[b] + shift[1, b], slope[b], curve[b]], axis=1)
        when[b] = (
            arcs.time_of_flight + (powers @ np.stack([t[b] + j2_dt[b] + shift_dt[1, b], slope_dt[b], curve_dt[b]])).T
        )
        cov[b], c_lat[b], c_lon[b] = _spread(pos[b])
    cov[~np.isfinite(hit_t)] = np.nan

    apogee = _highest(paths)
    return ImpactDistribution(
        time=np.nanmean(when, axis=1),
        lat=c_lat,
        lon=c_lon,
        cov_en=cov,
        time_sigma=np.nanstd(when, axis=1),
        sample_position=pos,
        sample_time=when,
        apogee_alt=apogee,
        nominal_path=paths,
    )
