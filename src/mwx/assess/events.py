"""Launch event reports: what the track histories of a partner say about each launch.

:func:`assess_track` turns one track's published states (a partner's own track,
or a fused system track), up to some instant, into the figures of a report:

* launch time and point with uncertainty (:mod:`mwx.assess.launch`);
* impact time, point, 95 % ellipse and the probability of impact in each
  protected area, from the Monte Carlo impact distribution of the last settled
  coasting state (:mod:`mwx.assess.distribution`);
* apogee (the highest point of the history and of the predicted path), range
  (launch point to impact point), flight time, maximum speed;
* class by the equivalent minimum-energy range (the range the same burnout
  energy gives on a minimum-energy path), the lofted flag, and the partners'
  territory the path passes over (when, with what probability).

:func:`launch_events` groups a partner's tracks into launches (the objects of
one missile — warhead-bearing body and spent stages — share the launch time and
point), reports each launch from its warhead-bearing track (the one that flies
furthest) with the number of objects, and repeats the assessment at fixed
times after the launch's first track so the report's evolution is kept.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import msgspec
import numpy as np
from numpy.typing import NDArray
from pyproj import Geod

from mwx import records
from mwx.assess import distribution, drag, failure, impact, kepler, lineage
from mwx.assess import launch as launch_estimation
from mwx.assess.kepler import inertial_velocity
from mwx.assess.reach import predict as predict_reach
from mwx.geo import regions, wgs84
from mwx.sim.flight import minimum_energy_apogee
from mwx.track import dynamics

_GEOD = Geod(ellps="WGS84")
SETTLED_VELOCITY_SIGMA = 200.0  # m/s
LOFTED_FACTOR = 1.5  # apogee over the minimum-energy apogee for the range
#: Seconds after a launch's first published track at which its report is recomputed (with the data
#: available then) and kept in the report's ``updates``.
UPDATE_OFFSETS_S = (10, 20, 30, 45, 60, 90, 120, 180, 240, 300, 450, 600, 900, 1200, 1800, 2400, 3000)
#: Two tracks are one launch when their launch estimates agree within this many σ plus a margin.
SAME_LAUNCH_SIGMAS = 3.0
SAME_LAUNCH_MARGIN_S = 5.0
SAME_LAUNCH_MARGIN_M = 20e3
COEXIST_GAP_S = 30.0
AIR_TOP_M = 100e3  # above this a coasting state's arc is free of drag
APOGEE_STATES = 16  # states flown to the top of the arc for the apogee (_apogee_of_arc)
APOGEE_STEP_S = 60.0  # RK4 step of that flight [s]
DEBRIS_CEILING_M = 50e3  # a track never above this and never powered cannot tell its launch
DEBRIS_WINDOW_S = 300.0
DEBRIS_RADIUS_M = 500e3
FINAL_MARGIN_S = 60.0
DROPPED_EVIDENCE_STATES = 3  # states of a burning object of its missile that show a coasting track was dropped
#: A track is shown to follow a re-entry body (:func:`body_since`) by this many σ of more energy than another
#: object of its missile, at this many states, the two within this speed [m/s] and distance [m] of each other.
BODY_SIGMAS, BODY_EVIDENCE_STATES, PAIR_SPEED_MPS, PAIR_DISTANCE_M = 3.0, 3, 30.0, 50e3


@dataclass
class History:
    """Published states of one track: times (n,), states (n, 6), covariances (n, 6, 6)."""

    track_id: str
    t: NDArray
    x: NDArray
    P: NDArray
    first_detection: float
    boosting: NDArray | None = None  # (n,) bool: powered flight at that state


def classify(equivalent_range_km: float) -> str:
    """Class by the equivalent minimum-energy range [km]: SRBM < 1000 ≤ MRBM < 3000 ≤ IRBM < 5500 ≤ ICBM."""
    if equivalent_range_km < 1000.0:
        return "SRBM"
    if equivalent_range_km < 3000.0:
        return "MRBM"
    if equivalent_range_km < 5500.0:
        return "IRBM"
    return "ICBM"


def inertial_speed(x: NDArray) -> NDArray:
    """Speed [m/s] in the inertial frame of ECEF states (..., 6): |v + ω × r|."""
    return np.linalg.norm(inertial_velocity(x), axis=-1)


def equivalent_range_km(x: NDArray) -> float:
    """Minimum-energy ground range [km] with the orbital energy of a coasting ECEF state.

    The specific energy ``v²/2 - μ/r`` (inertial speed) is conserved in
    vacuum; at the equatorial radius it gives the speed ``v``, and the
    minimum-energy arc with that speed spans the angle Ψ with
    ``sin(Ψ/2) = q / (2 - q)``, ``q = v² R / μ`` (Regan & Anandakrishnan 1993, §2.3).
    """
    r = float(np.linalg.norm(x[:3]))
    energy = 0.5 * float(inertial_speed(x)) ** 2 - wgs84.GM / r
    q = 2.0 * (energy + wgs84.GM / wgs84.A) * wgs84.A / wgs84.GM
    if q <= 0.0:
        return 0.0
    s = q / (2.0 - q)
    if s >= 1.0:
        return math.pi * wgs84.A / 1e3
    return 2.0 * math.asin(s) * wgs84.A / 1e3


def lofted(apogee_km: float, range_km: float) -> bool:
    """True when the apogee is well above the minimum-energy apogee for that range."""
    return range_km > 0 and apogee_km > LOFTED_FACTOR * minimum_energy_apogee(range_km * 1e3) / 1e3


def _apogee_of_arc(x: NDArray) -> float:
    """Median apogee height [m] of the arcs through ballistic states (n, 6) above the air.

    A track may lose its object before the top of a lofted arc and find it again on the way down: its
    states above the air still say how high it went.  The falling states when there are any: they come
    later, with more of the arc seen, and after a body and its spent stage have parted — in the climb a
    radar that does not resolve them follows the brighter stage, pushed back at separation, whose apogee
    is kilometres lower (a 4475 km lofted arc: 3 m/s less speed, 6–7 km lower; measured on the
    assessment set's lofted ICBM, docs/benchmarks.md).  Up to :data:`APOGEE_STATES` of them, evenly
    spread, are flown to the top with J2 (:func:`mwx.track.dynamics.propagate`, for the two-body time to
    apoapsis): the two-body apoapsis of a state 100 km up on a 4475 km arc is 2 km below the top, J2's
    doing, where the flown one is within tens of metres; what the flight misses of the top (its time
    is the two-body one) is made up from the vertical speed left, v²/2g.
    """
    high = x[wgs84.ellipsoidal_height(x[:, :3]) > AIR_TOP_M]
    radial = np.einsum("ij,ij->i", high[:, :3], high[:, 3:6])
    arcs = high[radial < 0.0] if np.any(radial < 0.0) else high[radial > 0.0]
    if not len(arcs):
        return -math.inf
    arcs = arcs[np.unique(np.linspace(0, len(arcs) - 1, min(len(arcs), APOGEE_STATES)).round().astype(int))]
    to_top = kepler.crossing(arcs, np.linalg.norm(arcs[:, :3], axis=1)).time_to_apoapsis
    arcs, to_top = arcs[np.isfinite(to_top)], to_top[np.isfinite(to_top)]
    if not len(arcs):
        return -math.inf
    top = dynamics.propagate(arcs, to_top, max_step=APOGEE_STEP_S)
    r = np.linalg.norm(top[:, :3], axis=1)
    vertical = np.einsum("ij,ij->i", top[:, :3], top[:, 3:6]) / r
    return float(np.median(wgs84.ellipsoidal_height(top[:, :3]) + vertical**2 * r * r / (2.0 * wgs84.GM)))


def _over_territory(
    areas: tuple[regions.ProtectedArea, ...],
    path_t: NDArray,
    path_lat: NDArray,
    path_lon: NDArray,
    now: float,
    sample_time: NDArray,
) -> list[dict]:
    """Territory the path passes over: when it enters and leaves, where it enters, and how likely.

    Path in degrees and Unix s.  The probability of an overflight still ahead is the share of
    impact samples that fall after the entry time (the cross-track spread of the samples, a few
    km, is neglected); one already flown has probability 1.
    """
    territories = tuple(a for a in areas if a.kind == "territory")
    out = []
    finite = sample_time[np.isfinite(sample_time)]
    for area, enter, leave in regions.path_crossings(territories, path_t, path_lat, path_lon):
        k = int(np.searchsorted(path_t, enter))
        k = min(max(k, 0), len(path_t) - 1)
        probability = 1.0 if enter <= now or finite.size == 0 else float(np.mean(finite > enter))
        out.append(
            {
                "partner": area.partner,
                "name": area.name,
                "enter": enter,
                "leave": leave,
                "lat": float(path_lat[k]),
                "lon": float(path_lon[k]),
                "probability": probability,
            }
        )
    return out


def assess_track(
    history: History,
    areas: tuple[regions.ProtectedArea, ...],
    rng: np.random.Generator,
    *,
    until: float | None = None,
    samples: int = distribution.DEFAULT_SAMPLES,
    dropped_since: float = math.inf,
    body_since: float = math.inf,
    launch: launch_estimation.LaunchEstimate | None = None,
) -> dict | None:
    """The report figures from ``history`` up to ``until`` (all of it by default); None if nothing settled yet.

    ``dropped_since`` [Unix s]: from when the track is known to follow an object its missile dropped
    while burning on (:func:`dropped_times`), which makes it a spent stage a priori (:func:`mwx.assess.drag.prior`).
    ``launch``: the track's launch estimate from the same states, where the caller has it (worked out
    here otherwise).  Units: times Unix s, angles degrees, distances km (``*_km``), speeds m/s.
    """
    keep = np.ones(len(history.t), bool) if until is None else history.t <= until
    if not keep.any():
        return None
    t, x, p = history.t[keep], history.x[keep, :6], history.P[keep, :6, :6]
    boosting = None if history.boosting is None else history.boosting[keep]
    vel_sigma = np.sqrt(np.trace(p[:, 3:, 3:], axis1=1, axis2=2) / 3.0)
    # A ballistic prediction from a powered state falls short: only states whose energy shows them
    # coasting say where it lands (a tracker's mode can call a weak or staging burn coasting).
    coasting_now = drag.coasting_and_thrusting(t, x, p)[0]
    if boosting is not None:
        coasting_now &= ~boosting
    settled = np.flatnonzero((vel_sigma < SETTLED_VELOCITY_SIGMA) & coasting_now)
    if launch is None:
        launch = launch_estimation.estimate(t, x, p, boosting)
    if settled.size == 0 or launch is None:
        return None
    last = int(settled[-1])
    _, _, hist_alt = wgs84.ecef_to_geodetic(x[:, :3])
    # Burnout energy from the coasting states near the top of the arc, where drag has taken least
    # (a depressed flight never leaves the air); the median resists a noisy state.
    high = (hist_alt >= 0.7 * float(np.max(hist_alt[settled]))) & (vel_sigma < SETTLED_VELOCITY_SIGMA) & coasting_now
    eq_range = float(np.median([equivalent_range_km(state) for state in x[np.flatnonzero(high)]]))
    # Re-entry body or spent stage: the energy the track has lost in the air so far weighs the two.
    dropped, body = dropped_since <= float(t[-1]), body_since <= float(t[-1])
    prior = drag.prior(eq_range, dropped=dropped, body=body)
    beta = drag.posterior(prior, drag.evidence(t[settled], x[settled], p[settled]))
    # With the lift a depressed body may still fly (mwx.assess.reach; exactly predict_mixture for any other).
    ahead = predict_reach(
        x[last : last + 1], p[last : last + 1], t[last : last + 1], rng, drag.usable(beta), samples=samples,
        history=(t[settled], x[settled], p[settled]),
    )  # fmt: skip
    if not math.isfinite(ahead.time[0]):
        return None
    impact_point = {"lat": math.degrees(ahead.lat[0]), "lon": math.degrees(ahead.lon[0])}
    launch_fields = _launch_fields(launch, impact_point)
    apogee_km = max(float(np.max(hist_alt)), float(ahead.apogee_alt[0]), _apogee_of_arc(x[settled])) / 1e3
    semi_major, semi_minor, orientation = ahead.ellipse_95(0)
    path_times, path_states = ahead.path(0)
    hist_lat, hist_lon, _ = wgs84.ecef_to_geodetic(x[: last + 1, :3])
    path_lat, path_lon, _ = wgs84.ecef_to_geodetic(path_states[:, :3])
    whole_t = np.concatenate([t[: last + 1], path_times[1:]])
    whole_lat = np.degrees(np.concatenate([hist_lat, path_lat[1:]]))
    whole_lon = np.degrees(np.concatenate([hist_lon, path_lon[1:]]))
    over = _over_territory(areas, whole_t, whole_lat, whole_lon, float(t[last]), ahead.sample_time[0])
    probability = ahead.probability_inside(areas)[0] if areas else np.zeros(0)
    by_area = {f"{a.partner} {a.kind}": float(pr) for a, pr in zip(areas, probability, strict=True)}
    # Where it falls: a territory likelier than not before the EEZ around it (which contains it),
    # else the likeliest area; none when no sample falls in any.
    ranked = sorted(
        range(len(areas)),
        key=lambda k: (probability[k] >= 0.5 and areas[k].kind == "territory", probability[k]),
        reverse=True,
    )
    if ranked and probability[ranked[0]] > 0.0:
        area = areas[ranked[0]]
        impact_area: dict[str, str | float | None] = {"partner": area.partner, "kind": area.kind, "name": area.name}
        impact_area["probability"] = float(probability[ranked[0]])
    else:
        impact_area = {"partner": None, "kind": None, "name": None, "probability": 0.0}
    # Settled states only: an infrared-initiated state's velocity can be a km/s off.
    settled_speed = inertial_speed(x[vel_sigma < SETTLED_VELOCITY_SIGMA])
    speeds = np.concatenate([settled_speed, inertial_speed(ahead.nominal_path[0][1])])
    return {
        "event_id": history.track_id,
        "first_detection": history.first_detection,
        **launch_fields,
        "apogee_km": apogee_km,
        "flight_time_s": float(ahead.time[0] - launch.time),
        "max_speed_mps": float(np.max(speeds)),
        "impact_time": float(ahead.time[0]),
        "impact_time_sigma_s": float(ahead.time_sigma[0]),
        "impact_point": impact_point,
        "impact_ellipse_95": _ellipse_km((semi_major, semi_minor, orientation)),
        "class": classify(eq_range),
        "lofted": lofted(apogee_km, launch_fields["range_km"]),
        "equivalent_range_km": eq_range,
        # How likely the track follows a spent stage rather than the re-entry body (mwx.assess.drag).
        "stage_probability": beta[drag.STAGE].weight,
        "overflights": over,
        "over_territory_of": sorted({o["partner"] for o in over if o["probability"] >= 0.5}),
        "impact_probability": by_area,
        "impact_area": impact_area,
        "inside_eez_of": sorted(
            {a.partner for a, pr in zip(areas, probability, strict=True) if a.kind == "eez" and pr >= 0.5}
        ),
        "number_of_objects": 1,
        "estimated_at": float(t[last]),
    }


def _same_launch(a: dict, b: dict) -> bool:
    """Whether two tracks' reports give one launch (launch time and point agree within their σ)."""
    dt = abs(a["launch_time"] - b["launch_time"])
    st = math.hypot(a["launch_time_sigma_s"], b["launch_time_sigma_s"])
    _, _, dist = _GEOD.inv(
        a["launch_point"]["lon"], a["launch_point"]["lat"], b["launch_point"]["lon"], b["launch_point"]["lat"]
    )
    sd = math.hypot(a["launch_point_sigma_km"], b["launch_point_sigma_km"]) * 1e3
    return (
        dt <= SAME_LAUNCH_SIGMAS * st + SAME_LAUNCH_MARGIN_S and dist <= SAME_LAUNCH_SIGMAS * sd + SAME_LAUNCH_MARGIN_M
    )


def _relation(a: History, b: History) -> str | None:
    """Whether two tracks are objects of one missile where they first coexist: "same", "apart", or None.

    Judged at the later track's first state settled enough to tell (:func:`mwx.assess.lineage.judgeable`)
    against the other's state nearest in time, within ``COEXIST_GAP_S`` (carried along a straight
    line: over seconds gravity bends it by less than the separation allowance), with
    :func:`mwx.assess.lineage.same_missile`; two tracks both under thrust there are one missile only
    if they hold one object.  A coasting state found apart is also flown back to the other's earlier
    states (:func:`mwx.assess.lineage.flown_back_d2`: a stage dropped in boost, or found long after it
    separated).  None: they never coexist, and only their launch estimates can say.
    """
    first, later = (a, b) if a.t[0] <= b.t[0] else (b, a)
    for k in range(len(later.t)):
        if not lineage.judgeable(later.P[k]):
            continue
        t0 = float(later.t[k])
        j = int(np.argmin(np.abs(first.t - t0)))
        gap = t0 - float(first.t[j])
        if abs(gap) > COEXIST_GAP_S:
            return None
        there = np.concatenate([first.x[j, :3] + gap * first.x[j, 3:6], first.x[j, 3:6]])
        powered = _powered(first, j) and _powered(later, k)
        if lineage.same_missile(later.x[k], later.P[k], there, first.P[j], powered=powered):
            return "same"
        # Flown back from its first judgeable coasting state: a track started on a stage just dropped
        # can carry its initiation's powered mode for a state or two.
        coasting = (
            i
            for i in range(k, len(later.t))
            if later.t[i] <= t0 + COEXIST_GAP_S
            and lineage.judgeable(later.P[i])
            and lineage.coasting_high(later.x[i], _powered(later, i))
        )
        i = next(coasting, None)
        if i is not None:
            ti = float(later.t[i])
            # The other's states up to then, one per HISTORY_STEP_S (as the online book keeps them).
            steps = np.floor((first.t - first.t[0]) / lineage.HISTORY_STEP_S)
            keep = np.flatnonzero(np.r_[True, np.diff(steps) > 0] & (first.t <= ti))
            back = lineage.flown_back_d2(later.x[i], later.P[i], ti, first.t[keep], first.x[keep, :6],
                                         first.P[keep, :6, :6])  # fmt: skip
            if back <= lineage.GATE:
                return "same"
        return "apart"
    return None


def _powered(history: History, k: int) -> bool:
    return history.boosting is not None and bool(history.boosting[k])


def dropped_times(histories: list[History]) -> dict[str, float]:
    """Per track id, when the track is first shown to follow an object its missile dropped while burning on
    [Unix s]; inf if never.

    Shown by another track that is one missile with it (:func:`_relation`) and under thrust by its
    mode and its energy (:func:`mwx.assess.drag.coasting_and_thrusting`) at
    ``DROPPED_EVIDENCE_STATES`` states after the track's first coasting one: a first stage falling
    while the upper stage burns.  A missile sheds its re-entry body only after its last burn, so such
    an object is a spent stage, whatever its burnout energy says (an ICBM's first stage coasts like a
    short-range missile).  The lineage is judged on the whole histories (where the two tracks first
    coexist).
    """
    energy = [drag.coasting_and_thrusting(h.t, h.x, h.P) for h in histories]
    out = {}
    for history, (coasting, _) in zip(histories, energy, strict=True):
        boosting = np.zeros(len(history.t), bool) if history.boosting is None else history.boosting
        first = np.flatnonzero(coasting & ~boosting)
        out[history.track_id] = math.inf
        if first.size == 0:
            continue
        since = float(history.t[first[0]])
        for other, (_, thrusting) in zip(histories, energy, strict=True):
            if other is history or other.boosting is None:
                continue
            burning = other.t[thrusting & other.boosting & (other.t > since)]
            if burning.size >= DROPPED_EVIDENCE_STATES and _relation(history, other) == "same":
                out[history.track_id] = min(out[history.track_id], float(burning[DROPPED_EVIDENCE_STATES - 1]))
    return out


def body_since(histories: list[History]) -> dict[str, float]:
    """Per track id, when the track is first shown to follow a re-entry body [Unix s]; inf if never.

    Shown by another track of its missile (within ``PAIR_SPEED_MPS`` of its velocity and ``PAIR_DISTANCE_M``
    of its position: a salvo's missiles seconds apart, or a stage dropped in boost, differ by hundreds of
    m/s) that carries less energy (the Jacobi integral, :func:`mwx.assess.drag.energy_change`) by
    ``BODY_SIGMAS`` standard deviations, at ``BODY_EVIDENCE_STATES`` coasting states of both above the air
    (``AIR_TOP_M``: lower down, the deeper of two has lost more to drag, whichever it is): a missile sheds its
    re-entry body after its last burn and pushes the spent stage back (the simulator's
    :data:`mwx.sim.truth.SEPARATION_SPEED`; retro rockets in real ones), and the air then takes the
    stage's energy first, so of the pair the body keeps more.  (Not which one is ahead: on a lofted arc
    the stage, lower, comes down first.)  The other track's state is the one nearest in time, within
    ``COEXIST_GAP_S`` (energy does not change in flight above the air).  While a radar does not resolve
    the pair its track's published covariance holds either piece (:meth:`mwx.track.tracker.Tracker.estimates`),
    so nothing is shown; two tracks of one object never show it.
    """
    out = {h.track_id: math.inf for h in histories}
    # Per track, its states that count: coasting, above the air.
    usable = [
        (np.ones(len(h.t), bool) if h.boosting is None else ~h.boosting)
        & (wgs84.ellipsoidal_height(h.x[:, :3]) > AIR_TOP_M)
        for h in histories
    ]
    for a, usable_a in zip(histories, usable, strict=True):
        for b, usable_b in zip(histories, usable, strict=True):
            if b is a or b.t[-1] < a.t[0] or b.t[0] > a.t[-1]:
                continue
            j = np.clip(np.searchsorted(b.t, a.t), 1, len(b.t) - 1)
            j = np.where(np.abs(b.t[j - 1] - a.t) <= np.abs(b.t[j] - a.t), j - 1, j)
            more, var = drag.energy_change(b.x[j, :6], b.P[j, :6, :6], a.x[:, :6], a.P[:, :6, :6])
            shown = (
                (np.abs(a.t - b.t[j]) <= COEXIST_GAP_S)
                & usable_a
                & usable_b[j]
                & (np.linalg.norm(a.x[:, 3:6] - b.x[j, 3:6], axis=1) <= PAIR_SPEED_MPS)
                & (np.linalg.norm(a.x[:, :3] - b.x[j, :3], axis=1) <= PAIR_DISTANCE_M)
                & (more >= BODY_SIGMAS * np.sqrt(np.maximum(var, 0.0)))
            )
            k = np.flatnonzero(shown)
            if k.size >= BODY_EVIDENCE_STATES:
                out[a.track_id] = min(out[a.track_id], float(a.t[k[BODY_EVIDENCE_STATES - 1]]))
    return out


#: Why a track is in a launch event with others (``grouped`` of the event: track id → one of these).
GROUPED_ONE_MISSILE = "one missile where they coexist"
GROUPED_LAUNCH = "launch estimates agree"
GROUPED_DEBRIS = "falls with it"


def group_launches(members: list[tuple[History, dict]], why: dict[str, str] | None = None) -> list[list[int]]:
    """Indices of (history, report) pairs grouped by launch, in input order.

    Tracks that are one missile where they coexist (:func:`_relation`: a spent stage beside its body,
    one object held twice) are one launch.  Tracks that never coexist join when their launch
    estimates agree (:func:`_same_launch`) — a missile lost and found again — unless that would put
    two tracks found apart (a salvo's missiles) into one launch.  ``why``, if given, receives for
    each track that joined another the reason (:data:`GROUPED_ONE_MISSILE`, :data:`GROUPED_LAUNCH`).
    """
    why = {} if why is None else why
    n = len(members)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    relation = {(i, j): _relation(members[i][0], members[j][0]) for i in range(n) for j in range(i)}
    for (i, j), rel in relation.items():
        if rel == "same":
            parent[root(i)] = root(j)
            why.setdefault(members[i][0].track_id, GROUPED_ONE_MISSILE)
    apart = [(i, j) for (i, j), rel in relation.items() if rel == "apart"]
    for (i, j), rel in relation.items():
        if rel is None and root(i) != root(j) and _same_launch(members[i][1], members[j][1]):
            ri, rj = root(i), root(j)
            if not any({root(a), root(b)} == {ri, rj} for a, b in apart):
                parent[ri] = rj
                why.setdefault(members[i][0].track_id, GROUPED_LAUNCH)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _low_only(history: History) -> bool:
    """A track that never saw powered flight nor a state above ``DEBRIS_CEILING_M``: it cannot tell its launch."""
    powered = history.boosting is not None and bool(np.any(history.boosting))
    return not powered and float(np.max(wgs84.ellipsoidal_height(history.x[:, :3]))) < DEBRIS_CEILING_M


def _attach_debris(groups: list[list[tuple[History, dict]]], why: dict[str, str]) -> list[list[tuple[History, dict]]]:
    """Fold groups made only of low, late tracks into the launch whose objects fall with them.

    A spent stage or a re-entry body picked up only in its last tens of km has a launch estimate
    worth nothing (a back-trace through the atmosphere with an unknown drag), so it would make a
    launch of its own.  Objects of one missile fall within minutes and hundreds of km of each
    other: such a group joins the launch whose impact is nearest within ``DEBRIS_WINDOW_S`` and
    ``DEBRIS_RADIUS_M``, if any (``why`` records :data:`GROUPED_DEBRIS` for its tracks).
    """
    solid = [g for g in groups if not all(_low_only(h) for h, _ in g)]
    out = [list(g) for g in solid]
    for g in groups:
        if any(g is s for s in solid):
            continue
        falls = g[0][1]
        best, best_dist = None, math.inf
        for k, other in enumerate(solid):
            for _, r in other:
                _, _, dist = _GEOD.inv(
                    falls["impact_point"]["lon"], falls["impact_point"]["lat"],
                    r["impact_point"]["lon"], r["impact_point"]["lat"],
                )  # fmt: skip
                if abs(r["impact_time"] - falls["impact_time"]) <= DEBRIS_WINDOW_S and dist < min(
                    best_dist, DEBRIS_RADIUS_M
                ):
                    best, best_dist = k, dist
        if best is None:
            out.append(list(g))
        else:
            out[best].extend(g)
            why.update({h.track_id: GROUPED_DEBRIS for h, _ in g})
    return out


def count_objects(histories: list[History], until: float = math.inf) -> int:
    """Objects of one launch: the most of its tracks alive at one instant up to ``until``.

    A track that broke and resumed under a new number is one object, not two.
    """
    spans = [(float(h.t[0]), float(h.t[-1])) for h in histories if h.t[0] <= until]
    return max((sum(1 for a, b in spans if a <= start <= b) for start, _ in spans), default=0)


def _ellipse_km(axes: tuple[float, float, float]) -> dict:
    """A 95 % ellipse (semi-axes [m], major-axis azimuth [rad]) as the run folder writes it: km and degrees."""
    return {"semi_major_km": axes[0] / 1e3, "semi_minor_km": axes[1] / 1e3, "orientation_deg": math.degrees(axes[2])}


def _summary(report: dict, time: float) -> dict:
    """The figures of a report that its ``updates`` keep over time."""
    keys = ("launch_time", "launch_point", "launch_ellipse_95", "launch_method", "apogee_km", "range_km",
            "impact_time", "impact_point", "impact_ellipse_95", "class", "lofted", "equivalent_range_km",
            "stage_probability", "over_territory_of", "inside_eez_of", "number_of_objects", "estimated_at")  # fmt: skip
    return {"time": time, **{k: report[k] for k in keys}}


#: The figures of a report in the run folder's units (:mod:`mwx.records`), to its precision (1 ms, 1e-3 of the
#: unit, 1e-5 degrees): what :func:`published` rounds.
_TIMES = ("first_detection", "launch_time", "impact_time", "estimated_at", "time")
_FIGURES = ("launch_time_sigma_s", "launch_point_sigma_km", "apogee_km", "range_km", "flight_time_s", "max_speed_mps",
            "impact_time_sigma_s", "equivalent_range_km", "stage_probability")  # fmt: skip


def _published_fields(report: dict) -> dict:
    """A report (or one of its updates) of the assessment's working form (Unix s, full precision) in the
    record's: UTC times, figures rounded to the run folder's precision, longitudes in [-180, 180)."""
    e = dict(report)
    for key in _TIMES:
        if key in e:
            e[key] = records.utc(e[key])
    for key in _FIGURES:
        if key in e:
            e[key] = records.rounded(e[key])
    for key in ("launch_point", "impact_point"):
        if key in e:
            e[key] = records.point(e[key]["lat"], e[key]["lon"])
    for key in ("impact_ellipse_95", "launch_ellipse_95"):
        if key in e:
            e[key] = {k: records.rounded(v) for k, v in e[key].items()}
    if "impact_area" in e:
        e["impact_area"] = {**e["impact_area"], "probability": records.rounded(e["impact_area"]["probability"])}
    if "impact_probability" in e:
        e["impact_probability"] = {k: records.rounded(v) for k, v in e["impact_probability"].items()}
    if "overflights" in e:
        e["overflights"] = [
            {**o, "enter": records.utc(o["enter"]), "leave": records.utc(o["leave"]),
             **msgspec.structs.asdict(records.point(o["lat"], o["lon"])),
             "probability": records.rounded(o["probability"])}
            for o in e["overflights"]
        ]  # fmt: skip
    return e


def published(report: dict, partner: str) -> records.LaunchEvent:
    """A launch event report of :func:`launch_events`' working form as the record it publishes
    (:class:`mwx.records.LaunchEvent`, what the run folder writes and the exchange carries); the fields only
    the run knows (the alerts' first warning, the evaluation's truth ids) are left to it."""
    event = _published_fields({k: v for k, v in report.items() if k in _EVENT_NAMES})
    event["updates"] = [_published_fields(u) for u in report["updates"]]
    return msgspec.convert({**event, "partner": partner}, records.LaunchEvent)


_EVENT_NAMES = frozenset(f.encode_name for f in msgspec.structs.fields(records.LaunchEvent))


def launch_events(
    histories: list[History],
    areas: tuple[regions.ProtectedArea, ...],
    seed: int,
    end_time: float,
    *,
    partner: str,
    samples: int = distribution.DEFAULT_SAMPLES,
) -> list[records.LaunchEvent]:
    """One report per launch from one partner's track histories, with its updates over time.

    ``seed`` seeds the impact samples (each track and instant draws from its own stream, so
    reports do not depend on the order of work); ``end_time`` [Unix s] is when the run's data end:
    a report whose predicted impact lies before it is final.  The reports are ``partner``'s records
    (:func:`published`); the assessment works on plain dicts of Unix times and full precision inside.
    """

    def rng(track_id: str, instant: float) -> np.random.Generator:
        return np.random.default_rng([seed, zlib.crc32(track_id.encode()), round(instant * 1000.0) % 2**32])

    dropped = dropped_times(histories)
    launches = _LaunchEstimates()
    finals, burning_only = [], []
    for h in histories:
        r = assess_track(h, areas, rng(h.track_id, float(h.t[-1])), samples=samples, dropped_since=dropped[h.track_id],
                         launch=launches.of(h, math.inf))  # fmt: skip
        if r is not None:
            finals.append((h, r))
        else:
            burning_only.append(h)
    events = []
    why: dict[str, str] = {}
    groups = _attach_debris([[finals[i] for i in group] for group in group_launches(finals, why)], why)
    burnings = _attach_burning(groups, burning_only, why)
    # A failed launch (mwx.assess.failure): a break-up's pieces join it, wherever the lineage put them.
    failures = failure.launch_failures(groups, burnings, why, lambda h: launches.of(h, math.inf))
    for members, burning, failed in zip(groups, burnings, failures, strict=True):
        objects = [h for h, _ in members] + burning
        best_launch = launches.best(objects, math.inf)
        origin = {"lat": math.degrees(best_launch.lat), "lon": math.degrees(best_launch.lon)}

        def reach(member: tuple[History, dict], origin: dict = origin) -> float:
            point = member[1]["impact_point"]
            return float(_GEOD.inv(origin["lon"], origin["lat"], point["lon"], point["lat"])[2])

        # The warhead-bearing body flies furthest: its spent stages fall short of it.
        history, report = failure.reported_from(failed, members, max(members, key=reach))
        bodies = body_since(objects)
        if bodies[history.track_id] <= float(history.t[-1]):  # known to be the body: its fall alone
            report = assess_track(history, areas, rng(history.track_id, float(history.t[-1])), samples=samples,
                                  dropped_since=dropped[history.track_id], body_since=bodies[history.track_id],
                                  launch=launches.of(history, math.inf)) or report  # fmt: skip
        start = min(float(h.t[0]) for h in objects)
        updates = []
        for offset in UPDATE_OFFSETS_S:
            instant = start + offset
            if instant >= float(history.t[-1]):
                break
            early = assess_track(history, areas, rng(history.track_id, instant), until=instant, samples=samples,
                                 dropped_since=dropped[history.track_id], body_since=bodies[history.track_id],
                                 launch=launches.of(history, instant))  # fmt: skip
            if early is not None:
                # The best launch estimate of the launch's objects then (a booster's track may have seen the boost).
                early.update(_launch_fields(launches.best(objects, instant), early["impact_point"]))
                early["number_of_objects"] = count_objects(objects, instant)
                updates.append(_summary(early, instant))
        event = dict(report)
        event.update(_launch_fields(best_launch, event["impact_point"]))
        if failed is not None:  # outcome and failure; a break-up's impact figures are its pieces' region
            event.update(failure.event_fields(failed, event, objects, areas, lambda h: rng(h.track_id, float(h.t[-1])),
                                              samples=samples))  # fmt: skip
        # The top of the arc may have been seen by another of the launch's tracks (one that broke).
        event["apogee_km"] = max(r["apogee_km"] for _, r in members)
        event["flight_time_s"] = event["impact_time"] - event["launch_time"]
        event["lofted"] = lofted(event["apogee_km"], event["range_km"])
        event["number_of_objects"] = count_objects(objects)
        event["track_ids"] = sorted(h.track_id for h in objects)
        # Which tracks were grouped into this launch besides the one it is reported from, and why.
        others = [h.track_id for h in objects if h is not history]
        event["grouped"] = {k: why.get(k, GROUPED_ONE_MISSILE) for k in sorted(others)}
        event["first_detection"] = min(h.first_detection for h in objects)
        # Final once the run's data reach past the predicted impact (within a minute: the last object to
        # fall ends the run, and its prediction may lie a little after the truth).
        event["final"] = bool(event["impact_time"] <= end_time + FINAL_MARGIN_S)
        event["updates"] = updates + [_summary(event, float(history.t[-1]))]
        events.append(published(event, partner))
    return events


def _attach_burning(
    groups: list[list[tuple[History, dict]]], burning: list[History], why: dict[str, str]
) -> list[list[History]]:
    """Per group, the tracks of ``burning`` (tracks never seen coasting: no report of their own) that
    are one missile with one of its tracks (:func:`_relation`) — a booster held through its burn
    while a stage it dropped, or the body, was tracked coasting.  They count as objects and offer
    their launch estimates (a boost fit, where the coasting tracks have only a back-trace)."""
    out: list[list[History]] = [[] for _ in groups]
    for h in burning:
        for k, members in enumerate(groups):
            if any(_relation(h, m) == "same" for m, _ in members):
                out[k].append(h)
                why[h.track_id] = GROUPED_ONE_MISSILE
                break
    return out


class _LaunchEstimates:
    """Launch estimates of tracks from their states up to an instant, each worked out once."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, int], launch_estimation.LaunchEstimate | None] = {}

    def of(self, h: History, until: float) -> launch_estimation.LaunchEstimate | None:
        n = int(np.searchsorted(h.t, until, side="right"))
        key = (h.track_id, n)
        if key not in self._found:
            boosting = None if h.boosting is None else h.boosting[:n]
            self._found[key] = (
                launch_estimation.estimate(h.t[:n], h.x[:n, :6], h.P[:n, :6, :6], boosting) if n else None
            )
        return self._found[key]

    def best(self, histories: list[History], until: float) -> launch_estimation.LaunchEstimate:
        """The estimate with the smallest σ among ``histories``' up to ``until`` (one of them has one)."""
        found = [e for e in (self.of(h, until) for h in histories) if e is not None]
        return min(found, key=lambda e: e.sigma_km())


def _launch_fields(launch: launch_estimation.LaunchEstimate, impact_point: dict) -> dict:
    """A report's launch figures from ``launch``, and the range [km] from its point to ``impact_point`` [deg]."""
    launch_lat, launch_lon = math.degrees(launch.lat), math.degrees(launch.lon)
    _, _, range_m = _GEOD.inv(launch_lon, launch_lat, impact_point["lon"], impact_point["lat"])
    return {
        "launch_time": launch.time,
        "launch_time_sigma_s": launch.time_sigma,
        "launch_point": {"lat": launch_lat, "lon": launch_lon},
        "launch_point_sigma_km": launch.sigma_km(),
        "launch_ellipse_95": _ellipse_km(impact.ellipse_95(launch.cov_en)),
        "launch_method": launch.method,
        "range_km": range_m / 1e3,
    }
