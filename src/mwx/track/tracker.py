"""A partner's multi-target tracker: batched EKF, GNN association, M-of-N track management.

Skeleton design (deepened by the tracking issue):

* state: ECEF position and velocity per track, all tracks in arrays
  ``x (n, 6)``, ``P (n, 6, 6)`` predicted and updated together;
* motion: ballistic (J2 gravity, Earth rotation) plus white acceleration
  noise whose level switches between a coast level and a manoeuvre level
  (boost, re-entry): up at once when an innovation passes the χ²(3) 99 %
  point, down after eight quiet updates — the "adjustable level process
  noise" of Bar-Shalom, Li & Kirubarajan, *Estimation with Applications to
  Tracking and Navigation* (2001), §11.2;
* association: per scan, Mahalanobis gate at the χ²(3) 99.99 % point under
  the manoeuvre level (so a track that starts to manoeuvre keeps its
  measurements) and global nearest neighbour by 2-D assignment
  (``linear_sum_assignment``);
* management: every unassigned measurement starts a tentative track
  (position from the measurement, velocity unknown: 4 km/s standard
  deviation); 3 updates confirm it; a tentative track without an update for
  three revisits, or a confirmed one for ``coast_limit_s``, is deleted.

Measurements that arrive older than a track's state are not used for that
track (the tracking issue adds retrodiction).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.stats import chi2

from mwx.geo import wgs84
from mwx.track import dynamics, radar_model

GATE = float(chi2.ppf(0.9999, 3))
Q_COAST = 1.0  # m²/s³
Q_MANOEUVRE = 20000.0  # m²/s³: follows ~130 m/s² of unmodelled thrust or drag over 2 s scans
INITIAL_SPEED_SIGMA = 4000.0  # m/s
BOOST_WINDOW_S = 10.0  # s over which the energy rise is judged
BOOST_ENERGY_RATE = 2.0e4  # J/kg/s: ~7 m/s² of thrust at 3 km/s; coast noise is ~10× smaller
MANOEUVRE_ONSET = float(chi2.ppf(0.99, 3))  # NIS that switches a track to the manoeuvre level
CALM_UPDATES = 8  # quiet updates in a row before a track returns to the coast level


@dataclass(frozen=True)
class RadarGeometry:
    """What the tracker needs to know about a radar: site and noise."""

    lat: float
    lon: float
    alt: float
    sigma: tuple[float, float, float]
    revisit_s: float

    @property
    def site_ecef(self) -> NDArray:
        return wgs84.geodetic_to_ecef(self.lat, self.lon, self.alt)

    @property
    def enu_rows(self) -> NDArray:
        return wgs84.enu_basis(self.lat, self.lon)

    @property
    def noise(self) -> NDArray:
        return np.diag(np.square(self.sigma))


@dataclass
class TrackTable:
    """All tracks of one partner, one row each."""

    x: NDArray = field(default_factory=lambda: np.empty((0, 6)))
    P: NDArray = field(default_factory=lambda: np.empty((0, 6, 6)))
    t: NDArray = field(default_factory=lambda: np.empty(0))
    number: NDArray = field(default_factory=lambda: np.empty(0, np.int64))
    hits: NDArray = field(default_factory=lambda: np.empty(0, np.int64))
    first_time: NDArray = field(default_factory=lambda: np.empty(0))
    last_update: NDArray = field(default_factory=lambda: np.empty(0))
    nis_ema: NDArray = field(default_factory=lambda: np.empty(0))
    manoeuvre: NDArray = field(default_factory=lambda: np.empty(0, bool))
    calm: NDArray = field(default_factory=lambda: np.empty(0, np.int64))
    energy_ref: NDArray = field(default_factory=lambda: np.empty(0))
    energy_ref_t: NDArray = field(default_factory=lambda: np.empty(0))
    boosting: NDArray = field(default_factory=lambda: np.empty(0, bool))

    def __len__(self) -> int:
        return int(self.t.size)

    def keep(self, mask: NDArray) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name)[mask])

    def append(self, other: TrackTable) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, np.concatenate([getattr(self, name), getattr(other, name)]))


def specific_energy(x: NDArray) -> NDArray:
    """Inertial specific orbital energy v²/2 - μ/r [J/kg] of ECEF states (n, 6)."""
    vx = x[:, 3] - wgs84.OMEGA * x[:, 1]
    vy = x[:, 4] + wgs84.OMEGA * x[:, 0]
    return 0.5 * (vx * vx + vy * vy + x[:, 5] ** 2) - wgs84.GM / np.linalg.norm(x[:, :3], axis=1)


class Tracker:
    """Tracks of one partner from its radars' scans."""

    def __init__(
        self, partner: str, radars: list[RadarGeometry], *, confirm_hits: int = 3, coast_limit_s: float = 20.0
    ):
        self.partner = partner
        self.radars = radars
        self.confirm_hits = confirm_hits
        self.coast_limit_s = coast_limit_s
        self.tracks = TrackTable()
        self._next_number = 1
        self._site = [r.site_ecef for r in radars]
        self._enu = [r.enu_rows for r in radars]

    def track_id(self, number: int) -> str:
        return f"{self.partner}-T{number:04d}"

    @property
    def confirmed(self) -> NDArray:
        return self.tracks.hits >= self.confirm_hits

    def process_scan(self, radar_index: int, time: float, z: NDArray, sigma: NDArray | None = None) -> NDArray:
        """Use one radar's measurements (m, 3) taken at ``time``; return the rows updated.

        ``sigma`` (m, 3) are the standard deviations each report states (range
        [m], azimuth, elevation [rad]); without them the radar's nominal noise.
        """
        if sigma is None:
            sigma = np.tile(self.radars[radar_index].sigma, (len(z), 1))
        noise = np.einsum("mi,ij->mij", np.square(sigma), np.eye(3))  # (m, 3, 3)
        self._delete_stale(time)
        radar = self.radars[radar_index]
        tracks = self.tracks
        usable = np.flatnonzero(tracks.t <= time)
        assigned_meas = np.zeros(len(z), bool)
        updated = np.empty(0, np.int64)
        if usable.size and len(z):
            dt = time - tracks.t[usable]
            x = dynamics.propagate(tracks.x[usable], dt)
            f = dynamics.transition(tracks.x[usable], dt)
            p_free = f @ tracks.P[usable] @ np.swapaxes(f, 1, 2)
            z_pred, h = radar_model.measure(x, self._site[radar_index], self._enu[radar_index])
            ht = np.swapaxes(h, 1, 2)
            # Gate and assign with the manoeuvre noise level (the wide gate) so a
            # track that starts to manoeuvre keeps its measurements.
            p_wide = p_free + dynamics.white_acceleration_noise(dt, Q_MANOEUVRE)
            s_wide = (h @ p_wide @ ht)[None, :, :, :] + noise[:, None, :, :]  # (m, n, 3, 3)
            nu = radar_model.innovation(z[:, None, :], z_pred[None, :, :])  # (m, n, 3)
            d2 = np.einsum("mni,mni->mn", nu, np.linalg.solve(s_wide, nu[..., None])[..., 0])
            cost = np.where(d2 < GATE, d2 + np.log(np.linalg.det(s_wide)), 1e12)
            rows, cols = linear_sum_assignment(cost)
            ok = cost[rows, cols] < 1e11
            rows, cols = rows[ok], cols[ok]
            assigned_meas[rows] = True
            idx = usable[cols]
            innov = nu[rows, cols]
            # Per track: its current noise level, unless the innovation under it
            # is beyond the 99 % point — then the manoeuvre level (and mode).
            q = np.where(tracks.manoeuvre[idx], Q_MANOEUVRE, Q_COAST)
            p = p_free[cols] + dynamics.white_acceleration_noise(dt[cols], q)
            r_assigned = noise[rows]
            s_cov = h[cols] @ p @ ht[cols] + r_assigned
            nis = np.einsum("ni,nij,nj->n", innov, np.linalg.inv(s_cov), innov)
            jump = nis > MANOEUVRE_ONSET
            p[jump], s_cov[jump] = p_wide[cols][jump], s_wide[rows, cols][jump]
            nis[jump] = d2[rows, cols][jump]
            # Joseph-form EKF update of the assigned tracks, all at once.
            k = p @ ht[cols] @ np.linalg.inv(s_cov)
            tracks.x[idx] = x[cols] + np.einsum("nij,nj->ni", k, innov)
            i_kh = np.eye(6) - k @ h[cols]
            tracks.P[idx] = i_kh @ p @ np.swapaxes(i_kh, 1, 2) + k @ r_assigned @ np.swapaxes(k, 1, 2)
            tracks.t[idx] = time
            tracks.last_update[idx] = time
            tracks.hits[idx] += 1
            tracks.nis_ema[idx] = 0.7 * tracks.nis_ema[idx] + 0.3 * nis
            # Back to the coast level only after CALM_UPDATES quiet updates in a row.
            quiet = (tracks.nis_ema[idx] < 4.5) & ~jump
            tracks.calm[idx] = np.where(quiet, tracks.calm[idx] + 1, 0)
            tracks.manoeuvre[idx] = jump | (tracks.manoeuvre[idx] & (tracks.calm[idx] < CALM_UPDATES))
            self._judge_boost(idx, time)
            updated = idx
        new = ~assigned_meas
        if new.any():
            start = len(tracks)
            self.tracks.append(self._initiate(radar, time, z[new], noise[new]))
            updated = np.concatenate([updated, np.arange(start, len(self.tracks))])
        return updated

    def _judge_boost(self, idx: NDArray, time: float) -> None:
        """Boosting while the inertial specific energy rises faster than BOOST_ENERGY_RATE.

        In coast ``v²/2 - μ/r`` is conserved (drag only lowers it), in boost it
        grows at ``a·v`` — e.g. 6×10⁴ J/kg/s for 20 m/s² of thrust at 3 km/s —
        so its rise over ``BOOST_WINDOW_S`` tells powered flight from coast
        without a thrust model.
        """
        tracks = self.tracks
        energy = specific_energy(tracks.x[idx])
        due = (time - tracks.energy_ref_t[idx] >= BOOST_WINDOW_S) | np.isnan(tracks.energy_ref[idx])
        judged = due & ~np.isnan(tracks.energy_ref[idx])
        rate = (energy - tracks.energy_ref[idx]) / np.maximum(time - tracks.energy_ref_t[idx], 1e-9)
        tracks.boosting[idx] = np.where(judged, rate > BOOST_ENERGY_RATE, tracks.boosting[idx])
        tracks.energy_ref[idx] = np.where(due, energy, tracks.energy_ref[idx])
        tracks.energy_ref_t[idx] = np.where(due, time, tracks.energy_ref_t[idx])

    def _initiate(self, radar: RadarGeometry, time: float, z: NDArray, noise: NDArray) -> TrackTable:
        n = len(z)
        pos = radar_model.to_ecef(z, radar.lat, radar.lon, radar.alt)
        # Position covariance of the polar measurement: J R Jᵀ in ENU, rotated to ECEF.
        rng, az, el = z[:, 0], z[:, 1], z[:, 2]
        ce, se, ca, sa = np.cos(el), np.sin(el), np.cos(az), np.sin(az)
        j = np.zeros((n, 3, 3))
        j[:, 0] = np.stack([ce * sa, rng * ce * ca, -rng * se * sa], axis=1)
        j[:, 1] = np.stack([ce * ca, -rng * ce * sa, -rng * se * ca], axis=1)
        j[:, 2] = np.stack([se, np.zeros(n), rng * ce], axis=1)
        rot = radar.enu_rows.T
        p_pos = rot @ j @ noise @ np.swapaxes(j, 1, 2) @ rot.T
        p = np.zeros((n, 6, 6))
        p[:, :3, :3] = p_pos
        p[:, 3:, 3:] = np.eye(3) * INITIAL_SPEED_SIGMA**2
        numbers = np.arange(self._next_number, self._next_number + n)
        self._next_number += n
        return TrackTable(
            x=np.concatenate([pos, np.zeros((n, 3))], axis=1),
            P=p,
            t=np.full(n, time),
            number=numbers,
            hits=np.ones(n, np.int64),
            first_time=np.full(n, time),
            last_update=np.full(n, time),
            nis_ema=np.full(n, 3.0),
            manoeuvre=np.ones(n, bool),
            calm=np.zeros(n, np.int64),
            energy_ref=np.full(n, np.nan),
            energy_ref_t=np.full(n, time),
            boosting=np.ones(n, bool),
        )

    def _delete_stale(self, time: float) -> None:
        tracks = self.tracks
        if not len(tracks):
            return
        revisit = max(r.revisit_s for r in self.radars)
        limit = np.where(tracks.hits >= self.confirm_hits, self.coast_limit_s, 3.0 * revisit + 0.01)
        _, _, alt = wgs84.ecef_to_geodetic(tracks.x[:, :3])
        tracks.keep(((time - tracks.last_update) <= limit) & (alt > -1000.0))
