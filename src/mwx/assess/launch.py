"""Launch point and time from a track history, with uncertainty.

Both estimators match the track to the flights of the generic vehicle of :mod:`mwx.sim.flight`, the
model the simulated missiles fly: vertical rise for the first 8 % of the burn, a linear turn to
the final pitch over 60 % of the rest, that pitch held to burnout; a constant-mass-flow motor;
drag; the burn time tied to the burnout speed (:func:`mwx.sim.flight.burn_time_for_speed`).
:func:`flight_library` flies that vehicle once per process over a grid of final pitch × ideal
velocity gain × burn-time scale, in the plane of fire over a spherical, non-rotating Earth, and
tabulates each flight against height: time since launch, ground distance from the launch point,
horizontal and vertical speed, and its burnout state.  Each candidate flight gives a launch point
and time and a χ² for how well it explains the track; the grid is refined around the best one by
interpolating between its flights, and the estimate is the average over the candidates weighted
by their likelihood — Bayesian model averaging over the vehicle's unknown programme (Hoeting,
Madigan, Raftery & Volinsky, *Statistical Science* 14 (1999) 382–417) — so its covariance holds
the candidates' spread as well as each one's error from the track.  Two cases:

* **Boost seen** (space infrared or an early radar track: states the tracker judged powered).
  For each candidate the states' heights say where on that flight they lie; the launch point is
  the states' horizontal position less that flight's ground distance along its direction (fitted
  per candidate from the positions and horizontal velocities), and the launch time the states'
  times less the flight's times since launch.  χ² of the positions along and across the direction
  (each state's height error times the flight's slope included) and of the times.
* **Coast only** (no powered state to fit).  The first settled coasting state is traced back
  ballistically (:func:`mwx.assess.impact.fly_to_ground`, ``direction=-1``, the vehicle's re-entry
  ballistic coefficient): the missile flew that arc since burnout.  Each candidate meets the arc
  where the arc is at the candidate's burnout height; χ² of the arc's speed and flight-path angle
  there against the candidate's burnout; the launch point lies the candidate's burnout ground
  distance back along the ground track (a geodesic), the launch time its burn time before.

The errors are measured, not assumed (:class:`ModelError`): the state-error share, the floors and
the bridged-distance terms were fitted by maximum likelihood to the launch-point and launch-time
errors of the flights of ``benchmarks/launch_point.py --calibrate`` (seeds 14 and 15, 144 flights
across the envelope tracked by the US partner's tracker), and checked on the default set (seed 13).
The planar flights leave out the Earth's rotation (Coriolis: a few hundred metres at 30 km, more
for long burns); the interpolation between flights is linear.  This is template matching against
the simulator's vehicle: a real vehicle's programme differs, and its own family of flights (and the
errors measured against it) would replace this one.

Points are geodetic [rad], times Unix [s], covariances east/north [m²].
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from pyproj import Geod

from mwx.assess import impact
from mwx.geo import wgs84
from mwx.geo.atmosphere import density
from mwx.geo.hermite import densify
from mwx.sim.flight import MAX_BURNOUT_SPEED, Vehicle, burn_time_for_speed

_GEOD = Geod(ellps="WGS84")

# --- which states enter the boost fit
BOOST_MAX_POSITION_SIGMA = 3e3  # m: powered states this well measured enter the boost fit ...
BOOST_FIT_CEILING = 80e3  # m: ... below this height (the lowest few when none is)
BOOST_FIT_MIN_STATES = 4
BOOST_FIT_MAX_STATES = 30  # evenly thinned beyond this: consecutive filter states repeat each other
COAST_MAX_VELOCITY_SIGMA = 200.0  # m/s: the coasting state traced back must be settled this well
# --- the library of the generic vehicle's flights
GENERIC_VEHICLE = Vehicle(burn_time_s=100.0)  # its programme, motor and drag; the burn time is set per flight
LIBRARY_PITCH_DEG = np.arange(1.0, 90.0, 2.0)  # final pitch [deg] (the solver's range: 0.5–89.95°)
LIBRARY_DELTA_V = np.arange(1500.0, 10801.0, 300.0)  # ideal velocity gain [m/s]
LIBRARY_BURN_SCALE = np.array([0.96, 1.0, 1.04])  # burn time over the simulator's rule (see flight_library)
LIBRARY_BOOST_STEPS = 200  # RK4 steps over the burn (≤ 1.5 s: within 6 m of 1600 steps)
LIBRARY_COAST_FRACTION = 0.4  # the flights go on coasting this share of the burn (a powered flag lags)
LIBRARY_BURN_ITERATIONS = 3  # fixed-point passes tying the burn time to the burnout speed
REFINE_SUBDIVISION = (4, 4, 2)  # refinement around the best flight: points per grid cell along each axis
# --- per-state errors of the match that the states' covariances do not carry
STATE_MODEL_M = 50.0  # m: 1σ position error of a flight at a state (RK4, height grid, float32)
STATE_MODEL_FRACTION = 0.01  # ... plus this share of its ground distance from the launch point (rotation)
STATE_MODEL_S = 0.5  # s: 1σ error of a flight's time since launch at a state
#: s: a tracker's consecutive states share their errors: what tells the flights apart (the path's shape,
#: which a shared offset leaves alone) comes in about one independent look per this long.  Chosen on
#: the calibration flights (below): 2 s gives the highest likelihood of their errors (1–3 s within
#: one unit) and the smallest largest error; 5 s, 4.9 km against 3.9 km.
STATE_CORRELATION_S = 2.0
COAST_FLOOR_M = 5e3  # m: the arc is traced back to this height (lower down, backward drag runs away)
COAST_MODEL_SPEED_FRACTION = 0.01  # 1σ of a flight's burnout speed against the ECEF arc's (no rotation)
COAST_MODEL_GAMMA_RAD = math.radians(0.5)  # 1σ of its flight-path angle (rotation bends the ECEF path)


@dataclass(frozen=True)
class ModelError:
    """What the estimate's covariance adds to the candidates' spread (see the module doc).

    ``state_share``: share of the error the track's states carry that the launch point keeps
    (consecutive states share most of theirs); ``floor_m`` [m, 1σ, each axis]; ``bridged_fraction``:
    1σ along the direction of flight per metre of ground distance bridged from the launch point to
    the states, and ``cross_fraction`` across it; ``time_s`` [s, 1σ] of the launch time;
    ``burn_fraction`` [m/s]: 1σ each axis per second of the flight's burn, beside the floor (what the
    planar flights leave out of the Earth's rotation grows with the burn); ``between_share``: share of
    the candidates' spread (launch point and time) that is error — the
    coast match's χ² carries a priori allowances for the planar flights (``COAST_MODEL_*``) that
    leave many candidates alike, so their spread overstates the error along the track.
    """

    state_share: float
    floor_m: float
    bridged_fraction: float
    time_s: float
    cross_fraction: float = 0.0
    between_share: float = 1.0
    burn_fraction: float = 0.0


#: Fitted by ``benchmarks/launch_point.py --calibrate --seed 14 15`` (144 flights across the envelope
#: tracked by the US partner; every term by maximum likelihood; refitted 2026-12-04 with the burn term):
#: 138 boost estimates, 93.5 % inside their 95 % region (SRBM 83.9 %, MRBM 100 %, IRBM 100 %, ICBM
#: 88.6 %).  The floor grows with the burn (60 m, plus 0.26 m per second of burn, in quadrature: 62 m
#: for a 50 s burn, 88 m for 250 s), as the model's own error with perfect states does
#: (``scripts/boost_back_trace.py``: 30–50 m across the track for burns under 100 s, 70–90 m over
#: 170 s, where the rotation the planar flights leave out shows).  On the tracked flights alone the
#: burn term is barely told apart (−log L 1503.9 against 1504.8 without it, floor 83 m); over every
#: partner's reports of ``benchmarks/coverage.py`` a flat 83 m floor held 98.7 % of MRBM launch points
#: (median miss a seventh of the 95 % boundary) against 93.8 % of SRBM.
BOOST_MODEL = ModelError(
    state_share=0.114, floor_m=60.4, bridged_fraction=0.0, time_s=0.61, between_share=0.666, burn_fraction=0.259
)
#: Same fit, 389 coast-only estimates (their first settled coasting state 0–300 s after burnout), every
#: term free: 94.1 % inside (SRBM 90.5 %, MRBM 99.0 %, IRBM 96.9 %, ICBM 89.0 %; the fit before the
#: cross-track and spread terms, along-track only, gave 100 %, 100 %, 94.9 %, 85.4 %).  The cross-track
#: fraction holds the rotation the planar flights leave out, which turns the burnout velocity of long
#: flights sideways (the ICBMs' misses were 0.3–2.3 km across the track against a candidates' spread of
#: tens of metres there); of the candidates' spread along the track a thirtieth is error (its σ was
#: five times the misses), and the launch time's floor takes what its spread held (94.3 % of the
#: times within 1.96σ).
COAST_MODEL = ModelError(
    state_share=0.47, floor_m=52.0, bridged_fraction=0.0, time_s=3.67, cross_fraction=0.00086, between_share=0.033
)


@dataclass(frozen=True)
class LaunchEstimate:
    """Estimated launch: time [Unix s] with σ [s], point [rad] with east/north covariance [m²]."""

    time: float
    time_sigma: float
    lat: float
    lon: float
    cov_en: NDArray  # (2, 2)
    method: str  # "boost" or "coast"

    def sigma_km(self) -> float:
        """Root of the larger eigenvalue of the point's covariance [km] (1σ along the worse axis)."""
        return math.sqrt(max(float(np.linalg.eigvalsh(self.cov_en)[-1]), 0.0)) / 1e3


# ---------------------------------------------------------------------------------------- library
_TABLES = ("tau", "downrange", "v_h", "v_v")


@dataclass(frozen=True)
class FlightLibrary:
    """The generic vehicle's flights on a grid (final pitch × ideal velocity gain × burn-time scale).

    ``tau``, ``downrange``: (P, D, S, K) time since launch [s] and ground distance from the launch
    point [m] when each flight first reaches ``heights[k]`` [m] (NaN above the highest it reaches
    before it stops rising or ends, ``LIBRARY_COAST_FRACTION`` of its burn after burnout); ``v_h``,
    ``v_v`` its horizontal and vertical speed there [m/s]; all float32 (metres of rounding at most).
    ``burn`` (P, D, S) its burn time [s]; ``burnout`` (P, D, S, 4) its height [m], ground distance
    [m], speed [m/s] and flight-path angle [rad] at burnout.  NaN throughout for a flight beyond the
    envelope.
    """

    pitch: NDArray  # (P,) rad
    delta_v: NDArray  # (D,) m/s
    burn_scale: NDArray  # (S,)
    burn: NDArray
    heights: NDArray  # (K,) m
    tau: NDArray
    downrange: NDArray
    v_h: NDArray
    v_v: NDArray
    burnout: NDArray

    @property
    def grid(self) -> tuple[int, ...]:
        return self.burn.shape


def _height_grid() -> NDArray:
    """Heights [m] the flights are tabulated at: every 200 m to 10 km, then 2 % apart up to 700 km.

    Linear interpolation between them errs by about 10⁻⁴ of the ground distance (which goes as h²).
    """
    low = np.arange(0.0, 10e3, 200.0)
    high = 10e3 * 1.02 ** np.arange(0, int(math.log(70.0) / math.log(1.02)) + 2)
    return np.concatenate([low, high])


#: log density of :func:`mwx.geo.atmosphere.density` every 250 m to 1000 km, for the flights' drag.
_DENSITY_HEIGHTS = np.arange(0.0, 1000e3 + 1.0, 250.0)
_LOG_DENSITY = np.log(np.maximum(np.asarray(density(_DENSITY_HEIGHTS)), 1e-300))


def _burn_time(speed: NDArray) -> NDArray:
    """:func:`mwx.sim.flight.burn_time_for_speed` on arrays (it is linear between its clips); 300 s for NaN."""
    lo, hi = burn_time_for_speed(2000.0), burn_time_for_speed(7000.0)
    out = np.clip(lo + (np.asarray(speed, float) - 2000.0) * (hi - lo) / 5000.0, 45.0, 300.0)
    return np.where(np.isfinite(out), out, 300.0)


def _fly(
    delta_v: NDArray, pitch: NDArray, burn: NDArray, vehicle: Vehicle, coast: bool
) -> tuple[NDArray, NDArray, NDArray, NDArray, NDArray]:
    """Planar flights of a batch (M,) of programmes from rest on a spherical Earth, by RK4.

    The pitch programme, thrust and drag of the simulator's vehicle (:mod:`mwx.sim.flight`) with
    point-mass gravity and no rotation, in the plane of fire: Earth's centre at the origin, the site
    at (0, a), downrange +x.  Returns times since launch [s], positions x, y [m] and velocities vx,
    vy [m/s], each (M, steps + 1); the burn ends at step ``LIBRARY_BOOST_STEPS``, then (``coast``)
    the flights coast ``LIBRARY_COAST_FRACTION`` of their burn more.
    """
    k = vehicle.burnt_fraction
    exhaust = delta_v / -math.log(1.0 - k)
    t_vertical = vehicle.vertical_fraction * burn
    t_turned = t_vertical + vehicle.turn_fraction * (burn - t_vertical)
    dt = burn / LIBRARY_BOOST_STEPS
    steps = LIBRARY_BOOST_STEPS + (round(LIBRARY_COAST_FRACTION * LIBRARY_BOOST_STEPS) if coast else 0)

    def rhs(tau: NDArray, s: NDArray, powered: bool) -> NDArray:
        x, y, vx, vy = s
        r = np.hypot(x, y)
        ux, uy = x / r, y / r  # up; the downrange horizontal is (uy, -ux)
        g = -wgs84.GM / (r * r)
        ax, ay = g * ux, g * uy
        if powered:
            mass = 1.0 - k * tau / burn
            turning = np.clip((tau - t_vertical) / (t_turned - t_vertical), 0.0, 1.0)
            pitch_now = 0.5 * np.pi + (pitch - 0.5 * np.pi) * turning
            thrust = exhaust * k / (burn * mass)
            c, s_ = thrust * np.cos(pitch_now), thrust * np.sin(pitch_now)
            ax, ay = ax + c * uy + s_ * ux, ay - c * ux + s_ * uy
            beta = vehicle.beta_boost * mass
        else:
            beta = vehicle.beta_reentry
        drag = -0.5 * np.exp(np.interp(r - wgs84.A, _DENSITY_HEIGHTS, _LOG_DENSITY)) * np.hypot(vx, vy) / beta
        return np.stack([vx, vy, ax + drag * vx, ay + drag * vy])

    s = np.stack([np.zeros_like(burn), np.full_like(burn, wgs84.A), np.zeros_like(burn), np.zeros_like(burn)])
    out = np.empty((steps + 1, 4, burn.size))
    out[0] = s
    for j in range(steps):
        powered = j < LIBRARY_BOOST_STEPS
        tau = j * dt
        k1 = rhs(tau, s, powered)
        k2 = rhs(tau + 0.5 * dt, s + 0.5 * dt * k1, powered)
        k3 = rhs(tau + 0.5 * dt, s + 0.5 * dt * k2, powered)
        k4 = rhs(tau + dt, s + dt * k3, powered)
        s = s + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        out[j + 1] = s
    tau = np.arange(steps + 1)[:, None] * dt[None, :]
    return tau.T, out[:, 0].T, out[:, 1].T, out[:, 2].T, out[:, 3].T


def _brief_speed(x: NDArray, y: NDArray, vx: NDArray, vy: NDArray) -> NDArray:
    """The speed the simulator sizes the burn by [m/s], from burnout states of :func:`_fly`.

    The solver takes the burn time from the speed of the symmetric drag-free Kepler arc from the
    surface that reaches the brief's apogee over its range (:func:`mwx.sim.flight.kepler_burnout`);
    here apogee and range are those of the drag-free arc through the burnout state (the ground
    covered in boost included).  NaN for an escaping or never-returning state, or one beyond the
    envelope (:data:`mwx.sim.flight.MAX_BURNOUT_SPEED`).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.hypot(x, y)
        h = np.abs(x * vy - y * vx)
        energy = 0.5 * (vx * vx + vy * vy) - wgs84.GM / r
        a = -wgs84.GM / (2.0 * energy)
        p = h * h / wgs84.GM
        e = np.sqrt(np.maximum(1.0 - p / a, 1e-12))
        r_apogee = a * (1.0 + e)
        nu_burnout = np.arccos(np.clip((p / r - 1.0) / e, -1.0, 1.0))
        nu_burnout = np.where(x * vx + y * vy >= 0.0, nu_burnout, 2.0 * np.pi - nu_burnout)
        nu_impact = 2.0 * np.pi - np.arccos(np.clip((p / wgs84.A - 1.0) / e, -1.0, 1.0))
        angle = np.arctan2(x, y) + nu_impact - nu_burnout
        c = np.cos(0.5 * angle)
        e_arc = (r_apogee - wgs84.A) / (r_apogee - wgs84.A * c)
        a_arc = r_apogee * (1.0 - e_arc) / (1.0 - e_arc * e_arc)
        speed = np.sqrt(wgs84.GM * (2.0 / wgs84.A - 1.0 / a_arc))
    return np.where((energy < 0.0) & (angle > 0.0) & (speed <= MAX_BURNOUT_SPEED), speed, np.nan)


def _tabulate(tau: NDArray, x: NDArray, y: NDArray, vx: NDArray, vy: NDArray, heights: NDArray) -> list[NDArray]:
    """Flights of :func:`_fly` against ``heights``: tau, downrange, v_h, v_v, each (M, K) float32.

    NaN above the highest a flight reaches while it climbs, and throughout for a flight that falls
    back before burnout (no flight of the envelope does).
    """
    r = np.hypot(x, y)
    height = r - wgs84.A
    series = (tau, wgs84.A * np.arctan2(x, y), (y * vx - x * vy) / r, (x * vx + y * vy) / r)
    out = [np.full((len(tau), heights.size), np.nan, np.float32) for _ in _TABLES]
    for m in np.flatnonzero(np.all(np.isfinite(height), axis=1) & (height[:, LIBRARY_BOOST_STEPS] > 1e3)):
        h = height[m]
        stops = np.flatnonzero(np.diff(h) <= 0.0)
        end = stops[0] + 1 if stops.size else h.size  # up to the top (or the end of the flight)
        if end <= LIBRARY_BOOST_STEPS:
            continue
        reach = heights <= h[end - 1]
        for table, values in zip(out, series, strict=True):
            table[m, reach] = np.interp(heights[reach], h[:end], values[m, :end])
    return out


@functools.lru_cache(maxsize=4)
def flight_library(vehicle: Vehicle = GENERIC_VEHICLE) -> FlightLibrary:
    """The grid of ``vehicle``'s flights, flown once per process (1–2 s on one core, 18 MB).

    Final pitch ``LIBRARY_PITCH_DEG`` × ideal velocity gain ``LIBRARY_DELTA_V``; the burn time of
    each is the simulator's rule applied to the flight's own burnout (fixed-point passes from a
    start at 80 % of the velocity gain), times each of ``LIBRARY_BURN_SCALE``: the rule takes the
    brief's range over the rotating Earth, which these flights lack, and the burn times they give
    are 1–4 % off the simulator's (most for long depressed flights).
    """
    pitch, delta_v = np.meshgrid(np.radians(LIBRARY_PITCH_DEG), LIBRARY_DELTA_V, indexing="ij")
    pitch, delta_v = pitch.ravel(), delta_v.ravel()
    burn = _burn_time(0.8 * delta_v)
    for _ in range(LIBRARY_BURN_ITERATIONS):
        _, x, y, vx, vy = _fly(delta_v, pitch, burn, vehicle, coast=False)
        speed = _brief_speed(x[:, -1], y[:, -1], vx[:, -1], vy[:, -1])
        burn = np.where(np.isfinite(speed), _burn_time(speed), burn)
    heights = _height_grid()
    grid = (LIBRARY_PITCH_DEG.size, LIBRARY_DELTA_V.size, LIBRARY_BURN_SCALE.size)
    tables = [np.empty((*grid, heights.size), np.float32) for _ in _TABLES]
    burns, burnout = np.empty(grid), np.empty((*grid, 4))
    for i, scale in enumerate(LIBRARY_BURN_SCALE):
        flights = _fly(delta_v, pitch, burn * scale, vehicle, coast=True)
        tabulated = _tabulate(*flights, heights)
        for table, values in zip(tables, tabulated, strict=True):
            values[~np.isfinite(speed)] = np.nan
            table[:, :, i] = values.reshape(*grid[:2], heights.size)
        _, x, y, vx, vy = (f[:, LIBRARY_BOOST_STEPS] for f in flights)
        r, v = np.hypot(x, y), np.hypot(vx, vy)
        state = np.stack([r - wgs84.A, wgs84.A * np.arctan2(x, y), v, np.arcsin((x * vx + y * vy) / (r * v))], 1)
        state[np.isnan(tabulated[0][:, 0])] = np.nan
        burnout[:, :, i] = state.reshape(*grid[:2], 4)
        burns[:, :, i] = (burn * scale).reshape(grid[:2])
    tau, downrange, v_h, v_v = tables  # in the order of _TABLES
    return FlightLibrary(
        np.radians(LIBRARY_PITCH_DEG), LIBRARY_DELTA_V.copy(), LIBRARY_BURN_SCALE.copy(), burns, heights,
        tau, downrange, v_h, v_v, burnout,
    )  # fmt: skip


# ----------------------------------------------------------------------------------- the average
@dataclass
class _Candidates:
    """Candidate flights (m,): the launch each gives and how well it explains the track."""

    point: NDArray  # (m, 2) launch point, east/north [m] in the estimate's frame
    along: NDArray  # (m, 2) unit direction of flight there
    time: NDArray  # (m,) launch time [Unix s]
    chi2: NDArray  # (m,) inf where a candidate cannot explain the track
    bridged: NDArray  # (m,) ground distance from the launch point to the track [m]
    cov: NDArray  # (m, 2, 2) of the launch point, from the track's errors [m²]
    time_var: NDArray  # (m,) of the launch time, from the track's errors [s²]
    burn: NDArray  # (m,) the flight's burn time [s]

    def take(self, mask: NDArray) -> _Candidates:
        return _Candidates(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))

    @staticmethod
    def join(parts: list[_Candidates]) -> _Candidates:
        fields = _Candidates.__dataclass_fields__
        return _Candidates(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))


@dataclass(frozen=True)
class Posterior:
    """The candidates averaged by likelihood: the launch and its errors before the model error."""

    point: NDArray  # (2,) east/north [m] in the frame at ``origin``
    origin: tuple[float, float]  # lat, lon [rad]
    cov_states: NDArray  # (2, 2) [m²]: the candidates' errors from the track (weighted)
    cov_between: NDArray  # (2, 2) [m²]: the weighted spread of the candidates' launch points
    time: float  # Unix s
    time_var_states: float  # s²
    time_var_between: float  # s²
    along: NDArray  # (2,) unit direction of flight (weighted)
    bridged: float  # m: weighted ground distance from the launch point to the track
    burn: float  # s: weighted burn time of the candidate flights

    def estimate(self, model: ModelError, method: str) -> LaunchEstimate:
        """The launch estimate: this plus the model error (:class:`ModelError`)."""
        across = np.array([-self.along[1], self.along[0]])
        cov = (
            model.state_share * self.cov_states
            + model.between_share * self.cov_between
            + (model.bridged_fraction * self.bridged) ** 2 * np.outer(self.along, self.along)
            + (model.cross_fraction * self.bridged) ** 2 * np.outer(across, across)
            + (model.floor_m**2 + (model.burn_fraction * self.burn) ** 2) * np.eye(2)
        )
        time_var = (
            model.state_share * self.time_var_states + model.between_share * self.time_var_between + model.time_s**2
        )
        ground = wgs84.enu_to_ecef(np.array([self.point[0], self.point[1], 0.0]), *self.origin, 0.0)
        lat, lon, _ = wgs84.ecef_to_geodetic(ground)
        return LaunchEstimate(self.time, math.sqrt(time_var), float(lat), float(lon), 0.5 * (cov + cov.T), method)


def _refined(values: tuple[NDArray, ...], best: tuple[int, ...]) -> tuple[tuple[NDArray, ...], NDArray, NDArray]:
    """Flights between the grid's around its best one, multilinear between the grid's flights.

    ``values``: tables over the grid, each (*grid, n).  The region is the grid cells of ``best`` and
    its neighbours (clipped at the grid's ends), with ``REFINE_SUBDIVISION[a]`` cell-centred points
    per cell along axis a.  Returns the points' values (each (m, n)), the grid flights they replace
    (a mask over the grid) and the share of a grid cell each point stands for.
    """
    grid = values[0].shape[:-1]
    axes, region = [], []
    for size, b, f in zip(grid, best, REFINE_SUBDIVISION, strict=True):
        lo, hi = max(b - 1, 0), min(b + 1, size - 1)
        region.append(slice(lo, hi + 1))
        points = lo - 0.5 + (np.arange((hi - lo + 1) * f) + 0.5) / f  # cell-centred, in grid steps
        axes.append(np.clip(points, 0.0, size - 1.0))
    replaced = np.zeros(grid, bool)
    replaced[tuple(region)] = True
    mesh = [g.ravel() for g in np.meshgrid(*axes, indexing="ij")]
    base = [np.clip(np.floor(g).astype(int), 0, max(size - 2, 0)) for g, size in zip(mesh, grid, strict=True)]
    frac = [g - b for g, b in zip(mesh, base, strict=True)]
    out = [np.zeros((mesh[0].size, v.shape[-1])) for v in values]
    for corner in np.ndindex(*(2,) * len(grid)):
        index = tuple(np.minimum(b + c, size - 1) for b, c, size in zip(base, corner, grid, strict=True))
        weight = np.prod([f if c else 1.0 - f for f, c in zip(frac, corner, strict=True)], axis=0)[:, None]
        for o, v in zip(out, values, strict=True):
            o += weight * v[index]
    return tuple(out), replaced, np.full(mesh[0].size, replaced.sum() / mesh[0].size)


def _average(
    candidates, tables: tuple[NDArray, ...], grid: tuple[int, ...], temper: float, origin: tuple[float, float]
) -> Posterior | None:
    """Score the grid's flights, refine around the best, and average by likelihood.

    ``candidates(values)`` scores flights given as their rows of ``tables`` (each (m, n)) and returns
    :class:`_Candidates`; ``temper`` divides every χ² (states that share their errors).
    """
    flat = tuple(t.reshape(-1, t.shape[-1]) for t in tables)
    usable = np.flatnonzero(np.all(np.isfinite(flat[0]), axis=1))  # flights that reach every state
    if usable.size == 0:
        return None
    coarse = candidates(tuple(f[usable] for f in flat))
    chi2 = np.full(flat[0].shape[0], np.inf)
    chi2[usable] = np.where(np.isfinite(coarse.chi2), coarse.chi2, np.inf)
    if not np.isfinite(chi2).any():
        return None
    best = tuple(int(i) for i in np.unravel_index(int(np.argmin(chi2)), grid))
    fine_values, replaced, fine_area = _refined(tables, best)
    keep = ~replaced.ravel()[usable]
    c = _Candidates.join([coarse.take(keep), candidates(fine_values)])
    area = np.concatenate([np.ones(int(keep.sum())), fine_area])
    ok = np.isfinite(c.chi2) & np.all(np.isfinite(c.point), axis=1)
    c, area = c.take(ok), area[ok]
    # Prior: uniform over the grid's parameters (each candidate weighs the share of a cell it stands for).
    log_w = -0.5 * (c.chi2 - c.chi2.min()) / temper + np.log(area)
    weight = np.exp(log_w - log_w.max())
    weight /= weight.sum()
    point = weight @ c.point
    spread = c.point - point
    time = float(weight @ c.time)
    along = weight @ c.along
    along /= max(float(np.linalg.norm(along)), 1e-9)
    return Posterior(
        point=point,
        origin=origin,
        cov_states=np.einsum("m,mij->ij", weight, c.cov),
        cov_between=np.einsum("m,mi,mj->ij", weight, spread, spread),
        time=time,
        time_var_states=float(weight @ c.time_var),
        time_var_between=float(weight @ (c.time - time) ** 2),
        along=along,
        bridged=float(weight @ c.bridged),
        burn=float(weight @ c.burn),
    )


# ------------------------------------------------------------------------------------ boost seen
@dataclass
class _States:
    """The fitted states (n,) in the east/north/up frame at the first one's ground point."""

    t: NDArray  # Unix s
    height: NDArray  # m (ellipsoidal)
    pos: NDArray  # (n, 2) east, north [m]
    vel: NDArray  # (n, 2) horizontal velocity, east, north [m/s]
    cov_pos: NDArray  # (n, 2, 2) horizontal position covariance [m²]
    cov_pos_h: NDArray  # (n, 2) covariance of the horizontal position with the height [m²]
    var_h: NDArray  # (n,) height variance [m²]
    var_vel: NDArray  # (n,) horizontal velocity variance per axis [m²/s²]
    origin: tuple[float, float]  # lat, lon [rad]


def _states(t: NDArray, x: NDArray, p: NDArray) -> _States:
    lat0, lon0, _ = wgs84.ecef_to_geodetic(x[0, :3])
    frame = wgs84.enu_basis(lat0, lon0)
    lat, lon, height = wgs84.ecef_to_geodetic(x[:, :3])
    local = wgs84.enu_basis(lat, lon)  # (n, 3, 3): each state's own east, north, up
    up = local[:, 2]
    v_up = np.einsum("ni,ni->n", x[:, 3:6], up)
    cov = np.einsum("nij,njk,nlk->nil", local, p[:, :3, :3], local)
    cov_v = np.einsum("nij,njk,nlk->nil", local, p[:, 3:6, 3:6], local)
    return _States(
        t=t,
        height=np.maximum(height, 0.0),
        pos=wgs84.ecef_to_enu(x[:, :3], lat0, lon0, 0.0)[:, :2],
        vel=(x[:, 3:6] - v_up[:, None] * up) @ frame[:2].T,
        cov_pos=cov[:, :2, :2],
        cov_pos_h=cov[:, :2, 2],
        var_h=cov[:, 2, 2],
        var_vel=0.5 * (cov_v[:, 0, 0] + cov_v[:, 1, 1]),
        origin=(float(lat0), float(lon0)),
    )


def _match_states(obs: _States, values: tuple[NDArray, ...]) -> _Candidates:
    """Candidate flights given as their (m, n) tau, downrange, v_h, v_v at the states' heights.

    Direction: least squares of the positions (launch point + ground distance × direction) and the
    horizontal velocities (horizontal speed × direction) over the states' variances.  Along it the
    launch point is the weighted mean of position − ground distance, each state's variance holding
    its height error times the flight's slope there (ground distance per height); across it the
    weighted mean of the positions; the launch time the weighted mean of time − time since launch.
    The launch point's error from the states is that of one state (they share it: see
    :class:`ModelError`), i.e. the weighted mean's variance × n.
    """
    tau, downrange, v_h, v_v, burn = values
    n = len(obs.t)
    var_pos = 0.5 * np.trace(obs.cov_pos, axis1=1, axis2=2) + STATE_MODEL_M**2
    w, q = 1.0 / var_pos, 1.0 / (obs.var_vel + (0.1 * STATE_MODEL_M) ** 2)
    # The 2 × 2 normal equations in (launch point, direction U), the same for east and north.
    sw, sws = w.sum(), downrange @ w
    rhs_point, rhs_dir = w @ obs.pos, (downrange * w) @ obs.pos + (v_h * q) @ obs.vel
    direction = sw * rhs_dir - sws[:, None] * rhs_point[None, :]  # ∝ U (the determinant is positive)
    direction /= np.maximum(np.linalg.norm(direction, axis=1, keepdims=True), 1e-9)
    normal = np.stack([direction[:, 1], -direction[:, 0]], axis=1)
    slope = v_h / np.maximum(v_v, 1.0)
    model = STATE_MODEL_M**2 + (STATE_MODEL_FRACTION * downrange) ** 2
    (de, dn), (ne, nn) = direction.T[:, :, None], normal.T[:, :, None]  # each (m, 1)
    pee, pen, pnn = obs.cov_pos[:, 0, 0], obs.cov_pos[:, 0, 1], obs.cov_pos[:, 1, 1]
    var_a = (
        de * de * pee + 2.0 * de * dn * pen + dn * dn * pnn
        + slope * (slope * obs.var_h - 2.0 * (de * obs.cov_pos_h[:, 0] + dn * obs.cov_pos_h[:, 1]))
        + model
    )  # fmt: skip
    var_c = ne * ne * pee + 2.0 * ne * nn * pen + nn * nn * pnn + model
    var_t = obs.var_h / np.maximum(v_v, 1.0) ** 2 + STATE_MODEL_S**2
    east, north = obs.pos[:, 0], obs.pos[:, 1]
    chi2 = np.zeros(len(tau))
    means = []
    for value, var in ((de * east + dn * north - downrange, var_a), (ne * east + nn * north, var_c),
                       (obs.t[None, :] - tau, var_t)):  # fmt: skip
        weight = 1.0 / var
        total = weight.sum(axis=1)
        mean = (weight * value).sum(axis=1) / total
        chi2 += (weight * (value - mean[:, None]) ** 2).sum(axis=1)
        means.append((mean, n / total))
    (a, var_along), (c, var_cross), (time, var_time) = means
    cov = (
        var_along[:, None, None] * direction[:, :, None] * direction[:, None, :]
        + var_cross[:, None, None] * normal[:, :, None] * normal[:, None, :]
    )
    bridged = downrange[:, int(np.argmin(obs.height))]
    point = a[:, None] * direction + c[:, None] * normal
    return _Candidates(point, direction, time, chi2, bridged, cov, var_time, burn[:, 0])


def boost_posterior(t: NDArray, x: NDArray, p: NDArray, lib: FlightLibrary | None = None) -> Posterior | None:
    """The boost match (module doc) over powered states: t (n,), ECEF x (n, 6), p (n, 6, 6).

    None when no flight of the library reaches the states' heights.
    """
    lib = flight_library() if lib is None else lib
    obs = _states(t, x, p)
    k = np.clip(np.searchsorted(lib.heights, obs.height, side="right") - 1, 0, lib.heights.size - 2)
    f = (obs.height - lib.heights[k]) / (lib.heights[k + 1] - lib.heights[k])
    tables = tuple((getattr(lib, name)[..., k] * (1.0 - f) + getattr(lib, name)[..., k + 1] * f) for name in _TABLES)
    tables += (np.broadcast_to(lib.burn[..., None], tables[0].shape),)
    # Consecutive states share their errors: about one independent look per STATE_CORRELATION_S, so
    # the evidence is tempered by how many states each look is.
    looks = 1.0 + float(t.max() - t.min()) / STATE_CORRELATION_S
    temper = max(1.0, len(t) / looks)
    return _average(lambda values: _match_states(obs, values), tables, lib.grid, temper, obs.origin)


# ------------------------------------------------------------------------------------ coast only
def coast_posterior(t: float, x: NDArray, p: NDArray, lib: FlightLibrary | None = None) -> Posterior | None:
    """The coast match (module doc) from one coasting state: Unix t, ECEF x (6,), p (6, 6).

    None when its arc does not come down to ``COAST_FLOOR_M``, or meets no flight's burnout.
    """
    lib = flight_library() if lib is None else lib
    points = impact.sigma_points(x[None], p[None])[0]
    beta = GENERIC_VEHICLE.beta_reentry
    hit, hit_t, paths = impact.fly_to_ground(
        points, np.full(13, t), direction=-1, beta=beta, paths=np.array([0]), floor=COAST_FLOOR_M
    )
    times, states = paths[0]
    if not np.isfinite(hit[0, 0]) or times.size < 2:
        return None
    # The arc in forward time, every second, from the floor up to its top (or the state).
    times, states = densify(times[::-1], states[::-1], 1.0)
    lat, lon, height = wgs84.ecef_to_geodetic(states[:, :3])
    stops = np.flatnonzero(np.diff(height) <= 0.0)
    end = stops[0] + 1 if stops.size else height.size
    if end < 2:
        return None
    times, states, lat, lon, height = times[:end], states[:end], lat[:end], np.unwrap(lon[:end]), height[:end]
    vel = np.einsum("nij,nj->ni", wgs84.enu_basis(lat, lon), states[:, 3:6])  # each sample's own e, n, u
    speed = np.linalg.norm(vel, axis=1)
    gamma = np.arcsin(np.clip(vel[:, 2] / np.maximum(speed, 1e-9), -1.0, 1.0))
    heading = np.unwrap(np.arctan2(vel[:, 0], vel[:, 1]))
    origin = (float(lat[0]), float(lon[0]))
    sigma_v = math.sqrt(max(float(np.trace(p[3:6, 3:6])) / 3.0, 0.0))
    # The arc's own error where it is lowest: its sigma points' spread at the floor.
    reached = np.all(np.isfinite(hit[:, 0]))
    ends = wgs84.ecef_to_enu(hit[:, :3], *origin, 0.0)[:, :2] if reached else np.zeros((13, 2))
    arc_cov = (ends[1:] - ends[0]).T @ (ends[1:] - ends[0]) / 12.0
    arc_time_var = float(np.sum((hit_t[1:] - hit_t[0]) ** 2) / 12.0) if reached else 0.0

    def candidates(values: tuple[NDArray, NDArray]) -> _Candidates:
        burnout, burn = values
        hb, sb, vb, gb = burnout.T
        inside = (hb >= height[0]) & (hb <= height[-1])
        at = np.where(inside, hb, height[0])
        arc_v, arc_g = np.interp(at, height, speed), np.interp(at, height, gamma)
        var_v = sigma_v**2 + (COAST_MODEL_SPEED_FRACTION * vb) ** 2
        var_g = (sigma_v / np.maximum(vb, 1.0)) ** 2 + COAST_MODEL_GAMMA_RAD**2
        chi2 = np.where(inside, (arc_v - vb) ** 2 / var_v + (arc_g - gb) ** 2 / var_g, np.inf)
        # Back along the ground track, a geodesic (over hundreds of km a flat frame's directions turn).
        lon_l, lat_l, back = _GEOD.fwd(
            np.degrees(np.interp(at, height, lon)),
            np.degrees(np.interp(at, height, lat)),
            np.degrees(np.interp(at, height, heading)) + 180.0,
            np.where(inside, sb, 0.0),
        )
        ground = wgs84.geodetic_to_ecef(np.radians(lat_l), np.radians(lon_l), 0.0)
        psi = np.radians(back) + np.pi  # the direction of flight at the launch point
        m = len(hb)
        return _Candidates(
            wgs84.ecef_to_enu(ground, *origin, 0.0)[:, :2],
            np.stack([np.sin(psi), np.cos(psi)], axis=1),
            np.interp(at, height, times) - burn[:, 0],
            chi2,
            sb,
            np.broadcast_to(arc_cov, (m, 2, 2)),
            np.full(m, arc_time_var),
            burn[:, 0],
        )

    return _average(candidates, (lib.burnout, lib.burn[..., None]), lib.grid, 1.0, origin)


# ---------------------------------------------------------------------------------------- estimate
def boost_states(t: NDArray, x: NDArray, p: NDArray, powered: NDArray) -> NDArray:
    """Indices of the states the boost fit uses (see :func:`estimate`); empty when too few."""
    pos_sigma = np.sqrt(np.trace(p[:, :3, :3], axis1=1, axis2=2) / 3.0)
    flagged = np.flatnonzero(powered)
    if flagged.size == 0:
        return flagged
    # From the first powered state to the last: an interacting-multiple-model tracker calls the first
    # states of a track coasting until its powered mode has won.
    # Up to the top of the arc only: a tracker may call a falling object powered again (drag in re-entry
    # looks like thrust against the motion), and descending states are no boost to fit.
    # Falling: the radial speed below zero by more than twice its σ (an early infrared track's velocity
    # is too loose to say).
    up = x[:, :3] / np.linalg.norm(x[:, :3], axis=1, keepdims=True)
    radial = np.einsum("ni,ni->n", up, x[:, 3:6])
    radial_sigma = np.sqrt(np.maximum(np.einsum("ni,nij,nj->n", up, p[:, 3:6, 3:6], up), 0.0))
    falling = np.flatnonzero((radial < -2.0 * radial_sigma) & (np.arange(len(t)) > flagged[0]))
    if falling.size:
        flagged = flagged[flagged < falling[0]]
    span = np.zeros(len(t), bool)
    span[flagged[0] : flagged[-1] + 1] = True
    good = np.flatnonzero(span & (pos_sigma < BOOST_MAX_POSITION_SIGMA))
    if good.size < BOOST_FIT_MIN_STATES:
        return good[:0]
    height = wgs84.ellipsoidal_height(x[good, :3])
    low = good[height < BOOST_FIT_CEILING]
    # Seen only higher up: the lowest few (the fit bridges more, and says so).
    use = low if low.size >= BOOST_FIT_MIN_STATES else good[np.argsort(height)[:BOOST_FIT_MIN_STATES]]
    if use.size > BOOST_FIT_MAX_STATES:
        use = use[np.round(np.linspace(0, use.size - 1, BOOST_FIT_MAX_STATES)).astype(int)]
    return np.sort(use)


def coast_state(p: NDArray, powered: NDArray) -> int | None:
    """Index of the state the coast match traces back: the first coasting one with velocity σ under
    ``COAST_MAX_VELOCITY_SIGMA`` (None if none)."""
    vel_sigma = np.sqrt(np.trace(p[:, 3:6, 3:6], axis1=1, axis2=2) / 3.0)
    settled = np.flatnonzero(~np.asarray(powered, bool) & (vel_sigma < COAST_MAX_VELOCITY_SIGMA))
    return int(settled[0]) if settled.size else None


def estimate(t: NDArray, x: NDArray, p: NDArray, boosting: NDArray | None) -> LaunchEstimate | None:
    """Launch estimate from a track history: times (n,), ECEF states (n, 6), covariances (n, 6, 6), powered flags.

    Boost seen: the boost match over the states from the first powered one to the last with position
    σ under ``BOOST_MAX_POSITION_SIGMA``, below ``BOOST_FIT_CEILING`` (at least
    ``BOOST_FIT_MIN_STATES`` of them).  Else the coast match of the first coasting state with
    velocity σ under ``COAST_MAX_VELOCITY_SIGMA``.  None when the history has neither.
    """
    powered = np.zeros(len(t), bool) if boosting is None else np.asarray(boosting, bool)
    use = boost_states(t, x, p, powered)
    if use.size:
        post = boost_posterior(t[use], x[use, :6], p[use, :6, :6])
        if post is not None:
            return post.estimate(BOOST_MODEL, "boost")
    k = coast_state(p, powered)
    if k is None:
        return None
    post = coast_posterior(float(t[k]), x[k, :6], p[k, :6, :6])
    return None if post is None else post.estimate(COAST_MODEL, "coast")
