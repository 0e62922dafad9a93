"""Track-to-track fusion: the intersection rules, the learned partner errors, association, and the gain.

The consistency properties of CI and split CI are checked against the error covariance computed
from an explicit joint covariance of the inputs (any admissible cross-correlation), never from the
module's own formulas: the fused estimate's gains are read off by feeding unit vectors.  The
association tests build synthetic reports of ballistic objects; the gain and consistency tests fuse
partners whose errors have known statistics (a shared process-noise part, each partner's own
anisotropic noise, a constant registration bias none of them reports).
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mwx.exchange.messages import TrackReport
from mwx.exercise import metrics
from mwx.exercise.metrics import chi2_bounds
from mwx.fuse import intersection, motion
from mwx.fuse.fusion import FusionCenter
from mwx.fuse.registration import PartnerErrors, firm_shrink
from mwx.geo import wgs84
from mwx.track import dynamics

T0 = 1.7e9  # Unix s


# ------------------------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------------------------


def random_spd(rng: np.random.Generator, d: int, scale: float = 1.0) -> np.ndarray:
    """A random symmetric positive definite matrix with condition number up to ~1e4."""
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return scale * (q * np.exp(rng.uniform(-4.6, 4.6, d))) @ q.T


def sqrtm(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(a)
    return (v * np.sqrt(np.maximum(w, 0.0))) @ v.T


def cross_covariance(rng: np.random.Generator, pa: np.ndarray, pb: np.ndarray, rho: float) -> np.ndarray:
    """P_ab = P_a^½ K P_b^½ with ‖K‖₂ = rho ≤ 1: every admissible cross-covariance has this form."""
    u, _, vt = np.linalg.svd(rng.normal(size=pa.shape))
    return sqrtm(pa) @ (rho * u @ vt) @ sqrtm(pb)


def correlated(rng: np.random.Generator, covariances: list[np.ndarray], rho: float) -> list[list[np.ndarray]]:
    """Joint covariance blocks of errors with these covariances and pairwise cross-covariances of norm ≤ rho.

    Admissible by construction: each error mixes one common and one own random rotation of its square root.
    """
    d = len(covariances[0])
    common = rng.normal(size=(d, d))
    factors = [
        sqrtm(c) @ np.linalg.qr(math.sqrt(rho) * common + math.sqrt(1 - rho) * rng.normal(size=(d, d)))[0]
        for c in covariances
    ]
    return [[fi @ fj.T for fj in factors] for fi in factors]


def gains(fuse, n: int, d: int) -> list[np.ndarray]:
    """The matrices W_i of a linear fusion x = Σ W_i x_i, read off by feeding unit vectors."""
    out = []
    for i in range(n):
        w = np.zeros((d, d))
        for k in range(d):
            x = np.zeros((n, d))
            x[i, k] = 1.0
            w[:, k] = fuse(x)
        out.append(w)
    return out


def error_covariance(w: list[np.ndarray], joint: list[list[np.ndarray]], ind: list[np.ndarray]) -> np.ndarray:
    """Cov(Σ Wᵢ eᵢ) of errors eᵢ = dᵢ + uᵢ, the dᵢ with joint covariance blocks ``joint``, the uᵢ independent."""
    n = len(w)
    dependent = sum(w[i] @ joint[i][j] @ w[j].T for i in range(n) for j in range(n))
    return dependent + sum(w[i] @ ind[i] @ w[i].T for i in range(n))


def assert_psd(a: np.ndarray, scale: float) -> None:
    assert np.linalg.eigvalsh(0.5 * (a + a.T)).min() >= -1e-9 * scale


def ballistic_state() -> np.ndarray:
    """A midcourse state: 400 km up over the Sea of Japan, 3.5 km/s east and a little up."""
    lat, lon = math.radians(40.0), math.radians(134.0)
    up = np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])
    east = np.array([-math.sin(lon), math.cos(lon), 0.0])
    return np.concatenate([(wgs84.A + 400e3) * up, 3500.0 * east + 300.0 * up])


def fly(x0: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Ballistic states (n, 6) at ``times`` from x0 at T0."""
    return dynamics.propagate(np.repeat(x0[None], len(times), axis=0), times - T0, max_step=5.0)


def later(state: np.ndarray, dt: float) -> np.ndarray:
    """A ballistic state (6,) moved by dt seconds."""
    return dynamics.propagate(state[None], dt)[0]


def report(
    sender: str,
    track_id: str,
    t: float,
    x: np.ndarray,
    p: np.ndarray,
    seq: int = 0,
    boosting: bool = False,
    independent: np.ndarray | None = None,
) -> TrackReport:
    return TrackReport(
        sender=sender,
        seq=seq,
        track_id=track_id,
        time=float(t),
        sent=float(t),
        state=[float(v) for v in x],
        covariance=[float(v) for v in np.asarray(p).ravel()],
        first_detection=float(t),
        boosting=boosting,
        independent_covariance=None if independent is None else [float(v) for v in np.asarray(independent).ravel()],
    )


P_GOOD = np.diag([50.0**2] * 3 + [2.0**2] * 3)


# ------------------------------------------------------------------------------------------------------------------
# intersection rules
# ------------------------------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 1.0), st.sampled_from([2, 3, 6]))
def test_ci_of_two_bounds_the_error_for_any_cross_correlation(seed: int, rho: float, d: int) -> None:
    rng = np.random.default_rng(seed)
    pa, pb = random_spd(rng, d), random_spd(rng, d, scale=rng.uniform(0.1, 10.0))
    pab = cross_covariance(rng, pa, pb, rho)
    for omega in (None, rng.uniform()):  # optimised, and any other weight
        _, fused, w = intersection.covariance_intersection(np.zeros((2, d)), np.array([pa, pb]), omega=omega)
        wa, wb = gains(lambda x, w=w: intersection.covariance_intersection(x, np.array([pa, pb]), omega=w)[0], 2, d)
        true = wa @ pa @ wa.T + wa @ pab @ wb.T + wb @ pab.T @ wa.T + wb @ pb @ wb.T
        assert_psd(fused - true, np.trace(pa) + np.trace(pb))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 4))
def test_ci_weights_lie_on_the_simplex_and_the_trace_is_never_above_the_best_input(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    P = np.array([random_spd(rng, 6, scale=rng.uniform(0.1, 10.0)) for _ in range(n)])
    for block in (slice(0, 3), slice(0, 6)):
        _, fused, w = intersection.covariance_intersection(rng.normal(size=(n, 6)), P, block=block)
        assert np.all((w >= 0.0) & (w <= 1.0)) and math.isclose(w.sum(), 1.0)
        best = min(np.trace(p[block, block]) for p in P)
        assert np.trace(fused[block, block]) <= best * (1 + 1e-12)
    _, fused, w = intersection.covariance_intersection(rng.normal(size=(n, 6)), P, criterion="det")
    assert np.linalg.det(fused) <= min(np.linalg.det(P)) * (1 + 1e-9)


def test_ci_weight_is_the_optimum_of_the_trace() -> None:
    rng = np.random.default_rng(5)
    pa, pb = random_spd(rng, 6), random_spd(rng, 6)
    _, fused, w = intersection.covariance_intersection(np.zeros((2, 6)), np.array([pa, pb]))
    grid = np.linspace(0.0, 1.0, 4001)
    traces = [np.trace(np.linalg.inv(a * np.linalg.inv(pa) + (1 - a) * np.linalg.inv(pb))[:3, :3]) for a in grid]
    assert abs(w[0] - grid[int(np.argmin(traces))]) < 3e-3
    assert np.trace(fused[:3, :3]) <= min(traces) * (1 + 1e-5)


def test_two_equal_independent_estimates_gain_nothing_under_ci_but_half_under_independence() -> None:
    p = np.diag([4.0, 1.0, 9.0])
    x = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    cx, cp, _ = intersection.covariance_intersection(x, np.array([p, p]))
    ix, ip, _ = intersection.information_fusion(x, np.array([p, p]))
    np.testing.assert_allclose(cx, [2.0, 2.0, 2.0])
    np.testing.assert_allclose(ix, [2.0, 2.0, 2.0])
    np.testing.assert_allclose(cp, p, rtol=1e-9)  # conservative: the true error covariance is p/2
    np.testing.assert_allclose(ip, p / 2, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 1.0))
def test_ici_is_never_looser_than_ci_at_the_same_weight(seed: int, omega: float) -> None:
    rng = np.random.default_rng(seed)
    P = np.array([random_spd(rng, 6), random_spd(rng, 6, scale=3.0)])
    _, ci, _ = intersection.covariance_intersection(np.zeros((2, 6)), P, omega=[omega, 1 - omega])
    _, ici, w = intersection.inverse_covariance_intersection(np.zeros((2, 6)), P, omega=omega)
    assert w[0] == omega
    assert_psd(ci - ici, np.trace(ci))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 1.0), st.integers(2, 3))
def test_split_ci_bounds_the_error_when_only_the_dependent_parts_correlate(seed: int, rho: float, n: int) -> None:
    rng = np.random.default_rng(seed)
    d = 6
    dep = [random_spd(rng, d, scale=rng.uniform(0.1, 10.0)) for _ in range(n)]
    ind = [random_spd(rng, d, scale=rng.uniform(0.1, 10.0)) for _ in range(n)]
    joint = correlated(rng, dep, rho)
    dep = [joint[i][i] for i in range(n)]
    _, fused, _ = intersection.split_covariance_intersection(np.zeros((n, d)), np.array(dep), np.array(ind))
    w = gains(lambda x: intersection.split_covariance_intersection(x, np.array(dep), np.array(ind))[0], n, d)
    true = error_covariance(w, joint, ind)
    assert_psd(fused - true, sum(np.trace(a) + np.trace(b) for a, b in zip(dep, ind, strict=True)))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 1.0), st.integers(2, 4))
def test_bounded_fusion_bounds_the_error_of_any_weights(seed: int, rho: float, n: int) -> None:
    rng = np.random.default_rng(seed)
    d = 6
    ind = [random_spd(rng, d, scale=rng.uniform(0.1, 10.0)) for _ in range(n)]
    joint = correlated(rng, [random_spd(rng, d, scale=rng.uniform(0.1, 10.0)) for _ in range(n)], rho)
    dep = np.array([joint[i][i] for i in range(n)])
    weights = np.array([random_spd(rng, d) for _ in range(n)])  # any weights at all
    _, fused, omega = intersection.bounded_fusion(np.zeros((n, d)), dep, np.array(ind), weights)
    assert np.all(omega >= 0.0) and math.isclose(omega.sum(), 1.0)
    w = gains(lambda x: intersection.bounded_fusion(x, dep, np.array(ind), weights)[0], n, d)
    np.testing.assert_allclose(sum(w), np.eye(d), atol=1e-9)  # unbiased: the weights sum to I
    true = error_covariance(w, joint, ind)
    assert_psd(fused - true, sum(np.trace(a) for a in dep) + sum(np.trace(b) for b in ind))


def test_split_ci_averages_independent_parts_like_the_information_combination() -> None:
    # No dependent part: split CI is the independent combination of the independent parts.
    p = [np.diag([4.0, 1.0]), np.diag([1.0, 4.0])]
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    sx, sp, _ = intersection.split_covariance_intersection(x, np.zeros((2, 2, 2)) + 1e-12 * np.eye(2), np.array(p))
    ix, ip, _ = intersection.information_fusion(x, np.array(p))
    np.testing.assert_allclose(sx, ix, atol=1e-9)
    np.testing.assert_allclose(sp, ip, atol=1e-9)


# ------------------------------------------------------------------------------------------------------------------
# prediction and the learned partner errors
# ------------------------------------------------------------------------------------------------------------------


def test_taylor_step_agrees_with_rk4_to_centimetres() -> None:
    x = np.repeat(ballistic_state()[None], 3, axis=0)
    dt = np.array([0.5, 2.0, -4.0])
    taylor, _ = motion.predict(x, np.repeat(P_GOOD[None], 3, axis=0), dt)
    rk4 = dynamics.propagate(x, dt)
    assert np.abs(taylor - rk4)[:, :3].max() < 0.3 and np.abs(taylor - rk4)[:, 3:].max() < 0.1


def test_unmodelled_acceleration_learns_a_constant_thrust() -> None:
    thrust = np.array([20.0, -10.0, 30.0])
    x, a, s = ballistic_state(), np.zeros(3), motion.FIRST_ACCEL_SIGMA**2
    p = np.diag([100.0**2] * 3 + [5.0**2] * 3)
    for k in range(30):
        nxt = motion.predict(x[None], p[None], np.array([1.0]), thrust[None])[0][0]
        a, s = motion.unmodelled_acceleration(x, p, T0 + k, a, s, nxt, p, T0 + k + 1, True)
        x = nxt
    np.testing.assert_allclose(a, thrust, atol=1.0)


def test_partner_errors_find_the_partner_that_disagrees_and_its_offset() -> None:
    rng = np.random.default_rng(1)
    errors = PartnerErrors()
    bias = {"KR": np.zeros(3), "JP": np.array([1200.0, -900.0, 1300.0]), "US": np.zeros(3)}
    cov = np.diag([30.0**2] * 3 + [1.0**2] * 3)
    for k in range(200):
        noise = {p: rng.multivariate_normal(np.zeros(6), cov) for p in bias}
        for a, b in (("KR", "JP"), ("KR", "US"), ("JP", "US")):
            d = noise[a] - noise[b] + np.concatenate([bias[a] - bias[b], np.zeros(3)])
            errors.observe(a, b, T0 + k, d, 2 * cov)
    offsets, variances = errors.offsets(), errors.variances()
    np.testing.assert_allclose(offsets["JP"], bias["JP"], atol=60.0)
    assert np.linalg.norm(offsets["KR"]) == 0.0 and np.linalg.norm(offsets["US"]) == 0.0
    # Once the offset is out, JP errs no more than the others: all at the floor.
    assert all(math.sqrt(v[0]) < 60.0 for v in variances.values())


def test_firm_shrinkage_keeps_small_offsets_and_takes_large_ones_whole() -> None:
    assert np.all(firm_shrink(np.array([100.0, 0.0, 0.0]), 300.0) == 0.0)
    np.testing.assert_array_equal(firm_shrink(np.array([0.0, 700.0, 0.0]), 300.0), [0.0, 700.0, 0.0])
    np.testing.assert_allclose(firm_shrink(np.array([450.0, 0.0, 0.0]), 300.0), [300.0, 0.0, 0.0])


# ------------------------------------------------------------------------------------------------------------------
# association
# ------------------------------------------------------------------------------------------------------------------


def crossing_pair(times: np.ndarray, miss_m: float, dv_mps: float) -> tuple[np.ndarray, np.ndarray]:
    """Two ballistic objects that pass ``miss_m`` apart at the middle of ``times``, ``dv_mps`` apart in speed."""
    a = fly(ballistic_state(), times)
    mid = len(times) // 2
    b_mid = a[mid].copy()
    b_mid[:3] += [miss_m, 0.0, 0.0]
    b_mid[3:] += dv_mps * np.array([0.0, 0.6, 0.8])
    b = dynamics.propagate(np.repeat(b_mid[None], len(times), axis=0), times - times[mid], max_step=5.0)
    return a, b


def test_association_does_not_flicker_where_tracks_cross() -> None:
    rng = np.random.default_rng(3)
    times = T0 + np.arange(0.0, 120.0, 1.0)
    a, b = crossing_pair(times, miss_m=30.0, dv_mps=30.0)  # within the tracks' noise for ~20 s
    center = FusionCenter("X")
    held: dict[tuple[str, str], set[str]] = defaultdict(set)
    for k, t in enumerate(times):
        for sender, lag in (("KR", 0.0), ("JP", 0.4)):
            for track_id, truth in (("A", a), ("B", b)):
                x = later(truth[k], lag) + rng.multivariate_normal(np.zeros(6), P_GOOD)
                system = center.ingest(report(sender, f"{sender}-{track_id}", t + lag, x, P_GOOD))
                held[(sender, track_id)].add(system.id)
    assert all(len(ids) == 1 for ids in held.values()), held  # every track stayed in its system
    assert held[("KR", "A")] == held[("JP", "A")] and held[("KR", "B")] == held[("JP", "B")]
    assert held[("KR", "A")] != held[("KR", "B")]


def test_a_partner_that_swaps_identities_is_reassigned_without_flicker() -> None:
    rng = np.random.default_rng(4)
    times = T0 + np.arange(0.0, 160.0, 1.0)
    a, b = crossing_pair(times, miss_m=30.0, dv_mps=60.0)
    center = FusionCenter("X")
    history: dict[str, list[str]] = defaultdict(list)
    swap = len(times) // 2
    for k, t in enumerate(times):
        for sender, lag in (("KR", 0.0), ("JP", 0.4), ("US", 0.7)):
            for track_id, truth in (("A", a), ("B", b)):
                # JP's tracker swaps its two tracks' objects at the crossing.
                followed = {"A": b, "B": a}[track_id] if sender == "JP" and k >= swap else truth
                x = later(followed[k], lag) + rng.multivariate_normal(np.zeros(6), P_GOOD)
                system = center.ingest(report(sender, f"{sender}-{track_id}", t + lag, x, P_GOOD))
                history[f"{sender}-{track_id}"].append(system.id)
    kr_a, kr_b = history["KR-A"][-1], history["KR-B"][-1]
    assert set(history["KR-A"]) == {kr_a} and set(history["KR-B"]) == {kr_b}
    assert history["JP-A"][-1] == kr_b and history["JP-B"][-1] == kr_a  # JP's tracks followed their objects
    changes = sum(x != y for x, y in zip(history["JP-A"], history["JP-A"][1:], strict=False))
    assert changes == 1  # once, not back and forth


def test_a_renumbered_track_keeps_the_system_number_and_numbers_are_never_reused() -> None:
    times = T0 + np.arange(0.0, 90.0, 1.0)
    truth = fly(ballistic_state(), times)
    center = FusionCenter("X")
    ids = []
    for k, t in enumerate(times):
        ids.append(center.ingest(report("US", "US-T1", t + 0.5, later(truth[k], 0.5), P_GOOD)).id)
        if k < 30:  # KR's tracker drops its track T1 at 30 s ...
            ids.append(center.ingest(report("KR", "KR-T1", t, truth[k], P_GOOD)).id)
        elif k >= 36:  # ... and starts T2 on the same object 6 s later
            ids.append(center.ingest(report("KR", "KR-T2", t, truth[k], P_GOOD)).id)
    assert len(set(ids)) == 1
    assert center.system_of("KR", "KR-T2") == center.system_of("KR", "KR-T1") == ids[0]
    assert list(center.systems[ids[0]].members) == [("US", "US-T1"), ("KR", "KR-T2")]  # T1 superseded
    # Alone, too: a partner's only track renumbered keeps its system.
    alone = FusionCenter("Y")
    first = alone.ingest(report("JP", "JP-T1", times[0], truth[0], P_GOOD)).id
    again = alone.ingest(report("JP", "JP-T2", times[8], truth[8], P_GOOD)).id
    other = alone.ingest(report("JP", "JP-T3", times[8], truth[8] + [50e3, 0, 0, 0, 0, 0], P_GOOD)).id
    assert again == first and other != first
    numbers = [int(s.split("-F")[1]) for s in alone.systems]
    assert numbers == sorted(set(numbers))


def test_stale_members_are_left_out_and_a_system_of_stale_members_is_stale() -> None:
    times = T0 + np.arange(0.0, 60.0, 1.0)
    truth = fly(ballistic_state(), times)
    center = FusionCenter("X")
    for k, t in enumerate(times):
        if k <= 10:  # KR reports with a gross error, then stops
            center.ingest(report("KR", "KR-T1", t, truth[k] + [300.0, 0, 0, 0, 0, 0], P_GOOD))
        system = center.ingest(report("US", "US-T1", t + 0.2, later(truth[k], 0.2), P_GOOD))
    assert set(system.members) == {("KR", "KR-T1"), ("US", "US-T1")}
    t_end = times[-1] + 0.2
    x, _ = center.fused_state(system, t_end)
    assert np.linalg.norm(x[:3] - later(truth[-1], 0.2)[:3]) < 1.0  # US alone: KR's last report is 49 s old
    assert not center.is_stale(system, t_end)
    assert not center.is_stale(system, t_end + center.stale_s)
    assert center.is_stale(system, t_end + center.stale_s + 0.1)
    x_late, p_late = center.fused_state(system, t_end + 30.0)  # stale: the latest members, predicted
    assert np.all(np.isfinite(x_late)) and np.trace(p_late) > np.trace(P_GOOD)


def test_ingestion_is_deterministic() -> None:
    rng = np.random.default_rng(8)
    times = T0 + np.arange(0.0, 60.0, 1.0)
    a, b = crossing_pair(times, miss_m=200.0, dv_mps=40.0)
    reports = [
        report(s, f"{s}-{k}", t + lag, later(truth[i], lag) + rng.multivariate_normal(np.zeros(6), P_GOOD), P_GOOD)
        for i, t in enumerate(times)
        for s, lag in (("KR", 0.0), ("US", 0.3))
        for k, truth in (("A", a), ("B", b))
    ]

    def run() -> list:
        center = FusionCenter("X")
        out = []
        for r in reports:
            system = center.ingest(r)
            out.append((system.id, *center.fused_state(system, r.time)))
        return out

    first, second = run(), run()
    assert [o[0] for o in first] == [o[0] for o in second]
    for (_, x1, p1), (_, x2, p2) in zip(first, second, strict=True):
        assert np.array_equal(x1, x2) and np.array_equal(p1, p2)


def test_ingest_many_assigns_one_senders_new_tracks_jointly() -> None:
    # KR's loose tracks of two objects 2 km apart; JP's two precise new tracks at 900 m and 20 m from
    # the first.  Taken one by one, JP-1 takes the first object's system (it is nearer) and JP-2, told
    # apart from JP-1 by JP's own precision, is left the second; assigned jointly, each gets its own.
    loose = np.diag([500.0**2] * 3 + [20.0**2] * 3)
    x_a = ballistic_state()
    x_b = x_a + [2000.0, 0, 0, 0, 0, 0]
    jp = [
        report("JP", "JP-1", T0 + 1, x_a + [900.0, 0, 0, 0, 0, 0], P_GOOD),
        report("JP", "JP-2", T0 + 1, x_a + [20.0, 0, 0, 0, 0, 0], P_GOOD),
    ]
    jp = [report("JP", r.track_id, T0, np.array(r.state), P_GOOD) for r in jp]

    def center() -> FusionCenter:
        c = FusionCenter("X")
        c.ingest_many([report("KR", "KR-A", T0, x_a, loose), report("KR", "KR-B", T0, x_b, loose)])
        return c

    joint = center()
    out = joint.ingest_many(jp)
    assert [s.id for s in out] == [joint.system_of("KR", "KR-B"), joint.system_of("KR", "KR-A")]
    one_by_one = center()
    out = [one_by_one.ingest(r) for r in jp]
    assert [s.id for s in out] == [one_by_one.system_of("KR", "KR-A"), one_by_one.system_of("KR", "KR-B")]


def test_a_body_and_its_stage_one_partner_keeps_apart_stay_two_systems() -> None:
    # A re-entry body and its spent stage parting at 10 m/s.  From 30 s JP's radars resolve them (two
    # tracks, reported side by side) but JP's covariances (400 m: its registration errors, common to both
    # tracks) cannot tell them apart; from 100 s JP sees the weak body only now and then (gaps up to 25 s)
    # while it holds the stage all along.  US follows both precisely until 100 s.  Before, the fusion took
    # JP's two tracks for duplicates of one object: one system held body and stage, and at the end
    # followed the stage.
    rng = np.random.default_rng(21)
    times = T0 + np.arange(0.0, 240.0, 1.0)
    body = fly(ballistic_state(), times)
    x_stage = ballistic_state()
    x_stage[3:] += 10.0 * x_stage[3:] / np.linalg.norm(x_stage[3:])
    stage = fly(x_stage, times)
    loose = np.diag([400.0**2] * 3 + [8.0**2] * 3)
    bias = np.concatenate([rng.normal(0.0, 100.0, 3), np.zeros(3)])  # JP's registration error, one for both
    body_seen = set(range(30, 100)) | {100, 125, 150, 160, 185, 210, 230, 239}
    center = FusionCenter("X")
    holders: list[tuple[str | None, str | None]] = []
    us_noise, jp_noise = np.array([15.0] * 3 + [0.75] * 3), np.array([2.0] * 6)
    for k, t in enumerate(times):
        batch = []
        if k < 100:
            batch += [report("US", "US-B", t, body[k] + rng.normal(0, us_noise), P_GOOD)]
            batch += [report("US", "US-S", t, stage[k] + rng.normal(0, us_noise), P_GOOD)]
        if k in body_seen:
            batch.append(report("JP", "JP-B", t + 0.3, later(body[k], 0.3) + bias + rng.normal(0, jp_noise), loose))
        if k >= 30:
            batch.append(report("JP", "JP-S", t + 0.3, later(stage[k], 0.3) + bias + rng.normal(0, jp_noise), loose))
        center.ingest_many(batch)
        if k >= 45:
            holders.append((center.system_of("JP", "JP-B"), center.system_of("JP", "JP-S")))
    assert all(b != s for b, s in holders)  # never one system for both, once JP has kept them apart 10 s
    body_system = center.systems[center.system_of("JP", "JP-B")]
    assert ("US", "US-B") in body_system.members and ("JP", "JP-S") not in body_system.members
    x, _ = center.fused_state(body_system, times[-1] + 0.3)
    assert np.linalg.norm(x[:3] - later(body[-1], 0.3)[:3]) < np.linalg.norm(x[:3] - later(stage[-1], 0.3)[:3])


# ------------------------------------------------------------------------------------------------------------------
# gain and consistency on synthetic partners with known error statistics
# ------------------------------------------------------------------------------------------------------------------


def partner_noise(rng: np.random.Generator, axis: np.ndarray, range_m: float, cross_m: float) -> np.ndarray:
    """A radar-like covariance: precise along ``axis`` (range), loose across; velocity alike at 1/25."""
    u = axis / np.linalg.norm(axis)
    q, _ = np.linalg.qr(np.column_stack([u, rng.normal(size=(3, 2))]))
    pos = (q * np.array([range_m, cross_m, cross_m]) ** 2) @ q.T
    out = np.zeros((6, 6))
    out[:3, :3], out[3:, 3:] = pos, pos / 25.0**2
    return out


def _three_partners(runs: int, seed: int, shared_sd: tuple[float, float], bias_sd: float = 0.0, offset_m: float = 0.0):
    """Per run, per report: (sender, t, truth, error, own noise covariance, shared covariance).

    Three partners track one ballistic object; each one's error is a process-noise part shared by all
    (correlated, AR(1) in time, σ ``shared_sd`` in position and velocity), its own anisotropic noise
    (AR(1)), and, if ``bias_sd``, a constant registration bias of that σ per axis; JP's errors also carry
    a fixed ``offset_m`` offset.
    """
    rng = np.random.default_rng(seed)
    times = T0 + np.arange(0.0, 150.0, 1.0)
    truth = fly(ballistic_state(), times)
    shared = np.diag([shared_sd[0] ** 2] * 3 + [shared_sd[1] ** 2] * 3)
    lags = {"KR": 0.0, "JP": 0.35, "US": 0.7}
    axes = {"KR": np.array([1.0, 0.2, 0.0]), "JP": np.array([0.0, 1.0, 0.3]), "US": np.array([0.3, 0.0, 1.0])}
    rho = math.exp(-1.0 / 20.0)  # 20 s correlation time
    for _ in range(runs):
        own = {p: partner_noise(rng, axes[p], 30.0, 200.0) for p in lags}
        bias = {p: np.zeros(6) for p in lags}
        if bias_sd:
            bias = {p: np.concatenate([rng.normal(0.0, bias_sd, 3), rng.normal(0.0, 0.5, 3)]) for p in lags}
        bias["JP"][:3] += offset_m * np.array([0.6, -0.48, 0.64])
        c = rng.multivariate_normal(np.zeros(6), shared)
        n = {p: rng.multivariate_normal(np.zeros(6), own[p]) for p in lags}
        reports = []
        for k, t in enumerate(times):
            c = rho * c + math.sqrt(1 - rho**2) * rng.multivariate_normal(np.zeros(6), shared)
            for p, lag in lags.items():
                n[p] = rho * n[p] + math.sqrt(1 - rho**2) * rng.multivariate_normal(np.zeros(6), own[p])
                x_true = dynamics.propagate(truth[k : k + 1], lag)[0]
                reports.append((p, t + lag, x_true, c + n[p] + bias[p], own[p], shared))
        yield reports


def synthetic_runs(runs: int, offset_m: float = 0.0, seed: int = 11) -> list[list[tuple]]:
    """Reports of three partners tracking one ballistic object: per run, [(sender, t, x, P, truth)].

    The errors of :func:`_three_partners` with a registration bias of σ 60 m per axis that the
    reported covariance (shared + own) omits, and JP's fixed ``offset_m``.
    """
    return [
        [(p, t, x + e, shared + own, x) for p, t, x, e, own, shared in run]
        for run in _three_partners(runs, seed, (40.0, 1.5), bias_sd=60.0, offset_m=offset_m)
    ]


def split_runs(runs: int, seed: int = 12, scale: float = 1.0) -> list[list[tuple]]:
    """As :func:`synthetic_runs`, but the partners report everything they err by, and its split.

    Each error is the shared process-noise part plus the partner's own noise: P = shared + own, of
    which ``own`` independent (what mwx's trackers report).  As in midcourse, the own part (sensor noise
    and registration) dominates: the shared part is what a ballistic model leaves, 10 m and 0.2 m/s.
    ``scale`` multiplies both reported covariances (the errors stay as they are): 10 makes every
    partner ten times too cautious.
    """
    return [
        [(p, t, x + e, scale * (shared + own), x, scale * own) for p, t, x, e, own, shared in run]
        for run in _three_partners(runs, seed, (10.0, 0.2))
    ]


def fuse_runs(runs: list[list[tuple]], **options) -> list[tuple]:
    """Per report: (run, sender, flight time, partner squared error, fused squared error, fused NEES)."""
    samples = []
    for r, reports in enumerate(runs):
        center = FusionCenter("X", **options)
        for p, t, x, cov, truth, *independent in reports:
            system = center.ingest(report(p, f"{p}-1", t, x, cov, independent=(independent or [None])[0]))
            fx, fp = center.fused_state(system, t)
            e, ef = x - truth, fx - truth
            samples.append((r, p, t - T0, e[:3] @ e[:3], ef[:3] @ ef[:3], float(ef @ np.linalg.solve(fp, ef))))
    return samples


def test_fused_position_beats_every_partner_and_its_nees_is_not_optimistic() -> None:
    samples = fuse_runs(synthetic_runs(12))
    for p in ("KR", "JP", "US"):
        own = math.sqrt(np.mean([s[3] for s in samples if s[1] == p]))
        fused = math.sqrt(np.mean([s[4] for s in samples if s[1] == p]))
        assert fused < 0.8 * own, (p, own, fused)
    # Bar-Shalom's test per 10 s bin over the runs: conservative or consistent, not optimistic.
    bins: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for r, _, age, _, _, nees in samples:
        bins[int(age // 10)][r].append(nees)
    above = 0
    for by_run in bins.values():
        _, high = chi2_bounds(6, len(by_run))
        above += np.mean([np.mean(v) for v in by_run.values()]) > high
    assert above <= 1, above


def _bins_outside(samples: list[tuple]) -> tuple[float, float, float]:
    """Bar-Shalom's test per 10 s bin over the runs: (share of bins below, above the 95 % interval, mean NEES)."""
    bins: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for r, _, age, _, _, nees in samples:
        bins[int(age // 10)][r].append(nees)
    below = above = 0
    for by_run in bins.values():
        low, high = chi2_bounds(6, len(by_run))
        mean = np.mean([np.mean(v) for v in by_run.values()])
        below += mean < low
        above += mean > high
    return below / len(bins), above / len(bins), float(np.mean([s[5] for s in samples]))


def test_partners_reporting_the_split_are_fused_consistently() -> None:
    # Partners that report all they err by, and which part is their own: the fused covariance is the
    # error's, neither optimistic nor needlessly cautious (two-sided; mwx's trackers report so).
    # Measured: mean 4.5, 27 % of the bins below their interval and none above (the Birge ratio and the
    # bound on the shared part keep it a little on the cautious side).
    below, above, mean = _bins_outside(fuse_runs(split_runs(12)))
    assert below <= 0.5 and above <= 2 / 15, (below, above, mean)
    assert 3.5 < mean < 7.5, mean
    # The same errors reported ten times too cautiously: the fused NEES falls far below its interval.
    below, _, mean = _bins_outside(fuse_runs(split_runs(12, scale=10.0)))
    assert below > 0.8 and mean < 1.5, (below, mean)


def test_the_independent_combination_over_reported_covariances_is_optimistic() -> None:
    # The same partners fused as if independent and complete: NEES above its bound (the shared
    # process noise counted as independent, the biases not counted at all).
    samples = fuse_runs(synthetic_runs(6), method="independent", learn_errors=False)
    _, high = chi2_bounds(6, len(samples))
    assert np.mean([s[5] for s in samples]) > high


def averaged(runs: list[list[tuple]]) -> list[tuple]:
    """Per report: (run, sender, flight time, squared position error) of the information-weighted average of
    every partner's latest report, predicted to the time — what naive fusion of all three would give."""
    out = []
    for r, reports in enumerate(runs):
        latest: dict[str, tuple] = {}
        for p, t, x, cov, truth in reports:
            latest[p] = (t, x, cov)
            xs, ps = motion.predict(
                np.array([v[1] for v in latest.values()]),
                np.array([v[2] for v in latest.values()]),
                np.array([t - v[0] for v in latest.values()]),
            )
            fx, _, _ = intersection.information_fusion(xs, ps)
            out.append((r, p, t - T0, float((fx - truth)[:3] @ (fx - truth)[:3])))
    return out


def test_a_partner_two_kilometres_off_barely_moves_the_fused_position() -> None:
    runs = synthetic_runs(4, offset_m=2000.0)
    offset = fuse_runs(runs)
    clean = fuse_runs(synthetic_runs(4))

    def rms(samples: list[tuple], column: int, since: float = 0.0) -> float:
        return math.sqrt(np.mean([s[column] for s in samples if s[1] != "JP" and s[2] >= since]))

    # Averaging with it moves the fused position by ~2 km / 3.  The fusion keeps within a few hundred
    # metres while it learns the offset (~30 s); once it has taken it out, the fused position is nearly as
    # good as without it (the learned offset is relative to another partner, whose own registration
    # error JP's corrected track then shares).
    naive = rms(averaged(runs), 3)
    assert naive > 500.0
    assert rms(offset, 4) < 0.4 * naive
    assert rms(offset, 4, since=45.0) < rms(clean, 4, since=45.0) + 40.0
    # And JP's track is fused, not merely kept apart: its learned offset is the injected one.
    center = FusionCenter("X")
    for p, t, x, cov, _ in runs[0]:
        center.ingest(report(p, f"{p}-1", t, x, cov))
    assert center.system_of("JP", "JP-1") == center.system_of("KR", "KR-1") == center.system_of("US", "US-1")
    learned = center.errors.offsets()["JP"]
    assert np.linalg.norm(learned - 2000.0 * np.array([0.6, -0.48, 0.64])) < 250.0


# ------------------------------------------------------------------------------------------------------------------
# the default theater
# ------------------------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_on_the_demo_the_fused_track_beats_every_partner_in_every_phase() -> None:
    """The demo scenario (its own seed), the partners' published reports fused again offline.

    At every partner report of an object two or more partners hold (±2 s), the partner's position error
    against that of the fused state of its system at the same instant (each against its nearest object
    within 10 km); phases: boost while the motor burns, re-entry descending below 100 km, coast between.
    ``benchmarks/fusion_gain.py`` does the same over several seeds and methods.
    """
    from importlib import resources
    from pathlib import Path

    from mwx.exercise.run import FUSED, run_scenario
    from mwx.sim.scenario import load_scenario

    result = run_scenario(load_scenario(Path(str(resources.files("mwx") / "data" / "scenarios" / "demo.yaml"))))
    objects = [o for launch in result.truth for o in launch.objects]

    def nearest(t: float, x: np.ndarray) -> tuple | None:
        found = [(np.linalg.norm(s[:3] - x[:3]), o, s) for o in objects for s in o.states_at(np.array([t]))]
        found = [f for f in found if np.isfinite(f[0]) and f[0] <= 10e3]
        return min(found, key=lambda f: f[0])[1:] if found else None

    def phase(obj: object, t: float, s: np.ndarray) -> str:
        if obj.burning(np.array([t]))[0]:
            return "boost"
        low = wgs84.ellipsoidal_height(s[None, :3])[0] < 100e3
        return "reentry" if low and s[:3] @ s[3:] < 0 else "coast"

    rows = [r for r in result.log.rows if r[1] != FUSED]
    labels = [nearest(r[0], r[3]) for r in rows]
    held: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for r, label in zip(rows, labels, strict=True):
        if label is not None:
            held[label[0].id][r[1]].append(r[0])
    center = FusionCenter(FUSED)
    errors: dict[tuple[str, str], list] = defaultdict(list)
    for (t, p, track_id, x, P, boosting, own), label in zip(rows, labels, strict=True):
        system = center.ingest(report(p, track_id, t, x, P, boosting=boosting, independent=own))
        fx, fp = center.fused_state(system, t)
        fused_label = nearest(t, fx)
        if label is None or fused_label is None:
            continue
        obj, truth = label
        if sum(any(abs(u - t) <= 2.0 for u in ts) for ts in held[obj.id].values()) < 2:
            continue
        e, ef = (x - truth)[:3], fx - fused_label[1]
        # The fused state's NEES against the object it follows (a body and its stage are metres to a
        # kilometre apart while a partner still sees them as one: nearest in distance may be the other).
        truths = np.stack([o.states_at(np.array([t]))[0] for o in objects])[:, None, :]
        score = float(metrics.nearest_nees(fx[None], fp[None], truths)[0][0])
        errors[(phase(obj, t, truth), p)].append((e @ e, ef[:3] @ ef[:3], score))
    for ph in ("boost", "coast", "reentry"):
        nees = np.array([v[2] for (q, _), vs in errors.items() if q == ph for v in vs])
        nees = nees[np.isfinite(nees)]
        # Consistent or conservative: the χ²(6) median is 5.35, and 5 % of a consistent estimator's
        # states lie beyond its 95 % point (a few more here: one demo run, states a second apart).
        assert np.median(nees) < 6.0 and np.mean(nees > 12.59) < 0.08, (ph, np.median(nees), np.mean(nees > 12.59))
        rmse = {
            p: tuple(math.sqrt(np.mean([v[i] for v in errors[(ph, p)]])) for i in (0, 1))
            for p in ("KR", "JP", "US")
            if errors.get((ph, p))
        }
        best = min(own for own, _ in rmse.values())
        for p, (own, fused) in rmse.items():
            # Below every partner's at its own instants — but for a partner of a few metres in re-entry
            # (US's radars, registered: 5.4 m on this run), whose covariance says twice that: weighting
            # by it, the fused state comes within a quarter of it (6.7 m here; below it over seeds 1–3 of
            # benchmarks/fusion_gain.py, 5.4 against 5.9 m).
            if ph == "reentry" and own == best:
                assert fused < 1.25 * own, (ph, p, own, fused)
            else:
                assert fused < own, (ph, p, own, fused)


# ------------------------------------------------------------------------------------------------------------------
# allowances for what a partner's covariance cannot know
# ------------------------------------------------------------------------------------------------------------------

GATE_999 = 22.46  # χ²(6) at 0.999


def nees(x: np.ndarray, p: np.ndarray, truth: np.ndarray) -> float:
    e = x - truth
    return float(e @ np.linalg.solve(p, e))


def powered_flight(times: np.ndarray, thrust_mps2: float) -> np.ndarray:
    """States (n, 6) of an object under ``thrust_mps2`` along its velocity, from ballistic_state() at times[0]."""
    out = [ballistic_state()]
    for dt in np.diff(times):
        x = out[-1]
        accel = thrust_mps2 * x[3:] / np.linalg.norm(x[3:])
        out.append(motion.predict(x[None], np.eye(6)[None], np.array([dt]), accel[None])[0][0])
    return np.array(out)


def early_burnout_run(monkeypatch: pytest.MonkeyPatch, thrust_sigma: float) -> tuple[list[float], float]:
    """KR tracks a booster all along; JP calls burnout 10 s in and flies ballistic, claiming 50 m and 2 m/s.

    Returns the fused NEES of the system JP's reports go into, per report, and the fused position error of
    KR's system at the end.  Without learning the partners' errors, which would cover part of JP's in time.
    """
    monkeypatch.setattr("mwx.fuse.fusion.THRUST_SIGMA", thrust_sigma)
    times = T0 + np.arange(0.0, 40.0, 1.0)
    truth = powered_flight(times, 25.0)
    rng = np.random.default_rng(5)
    p_kr = np.diag([100.0**2] * 3 + [20.0**2] * 3)
    center = FusionCenter("X", learn_errors=False)
    jp_state, out = truth[0], []
    for k, t in enumerate(times):
        x_kr = truth[k] + rng.multivariate_normal(np.zeros(6), p_kr)
        kr_system = center.ingest(report("KR", "KR-T1", t, x_kr, p_kr, seq=k, boosting=True))
        if k > 0:
            jp_state = truth[k] if k <= 10 else later(jp_state, 1.0)  # no thrust in its model from 10 s on
        jp_system = center.ingest(report("JP", "JP-T1", t, jp_state, P_GOOD, seq=k, boosting=k <= 10))
        out.append(nees(*center.fused_state(jp_system, t), truth[k]))
    x, _ = center.fused_state(kr_system, times[-1])
    return out, float(np.linalg.norm(x[:3] - truth[-1][:3]))


def test_a_track_that_calls_burnout_early_is_allowed_the_thrust_it_misses(monkeypatch: pytest.MonkeyPatch) -> None:
    with_allowance, error_m = early_burnout_run(monkeypatch, 20.0)
    without, _ = early_burnout_run(monkeypatch, 0.0)
    assert max(with_allowance) < GATE_999, with_allowance
    assert max(without) > 10 * GATE_999  # the test can fail: JP's claim alone is far off by the end
    assert error_m < 300.0  # JP, 11 km off by then, does not pull KR's system


def test_a_new_track_that_guesses_powered_does_not_contradict_the_coasting_ones() -> None:
    times = T0 + np.arange(0.0, 40.0, 1.0)
    truth = fly(ballistic_state(), times)
    center = FusionCenter("X")
    for k, t in enumerate(times):
        system = center.ingest(report("KR", "KR-T1", t, truth[k], P_GOOD, seq=k))
        center.ingest(report("JP", "JP-T1", t + 0.3, later(truth[k], 0.3), P_GOOD, seq=k))
        if k >= 20:  # a fresh KR track of the same object, still guessing thrust: loose, and powered
            loose = np.diag([300.0**2] * 3 + [100.0**2] * 3)
            center.ingest(report("KR", "KR-T2", t + 0.5, later(truth[k], 0.5), loose, seq=1000 + k, boosting=True))
    assert not any(m.contradicted for m in system.members.values())
    _, p = center.fused_state(system, times[-1])
    assert math.sqrt(np.trace(p[:3, :3])) < 300.0


def test_fusion_never_moves_a_state_beyond_its_horizon() -> None:
    """A system asked for its state ten years after its members' reports refuses at once (a ValueError naming
    the horizon) instead of flying them ten years; within the horizon it answers."""
    import time as clock

    from mwx.fuse.fusion import HORIZON_S, FusionCenter

    center = FusionCenter("X")
    system = center.ingest(report("KR", "KR-T1", T0, ballistic_state(), P_GOOD))
    center.fused_state(system, T0 + HORIZON_S)
    started = clock.perf_counter()
    with pytest.raises(ValueError, match="fusion horizon"):
        center.fused_state(system, T0 + 10 * 3.156e7)
    assert clock.perf_counter() - started < 0.1
