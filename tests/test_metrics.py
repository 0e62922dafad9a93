"""Tests of mwx.exercise.metrics against hand computations and independent references.

Expected values come from the definitions worked by hand (in the comments), from brute force over
permutations (GOSPA), from closed forms (χ²(2) quantiles, the scalar Riccati steady state) or from an
explicit batch least-squares information matrix (PCRLB), never from the module itself.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mwx.exercise import metrics
from mwx.exercise.metrics import Frame

C = 10e3  # cut-off used throughout [m]


# ------------------------------------------------------------------------------------------------------------------
# GOSPA
# ------------------------------------------------------------------------------------------------------------------


def test_gospa_of_identical_sets_is_zero_in_any_order():
    x = np.array([[0.0, 0.0, 0.0], [1e3, 2e3, 3e3], [-5e3, 0.0, 7e3]])
    g = metrics.gospa(x, x[::-1], c=C)
    assert g.distance == 0.0
    assert (g.n_missed, g.n_false) == (0, 0)


def test_gospa_of_two_empty_sets_is_zero():
    assert metrics.gospa(np.empty((0, 3)), np.empty((0, 3)), c=C).distance == 0.0


def test_one_missed_target_costs_c_over_root_two():
    # d² = c²/α with p = α = 2: d = c/√2, all of it "missed".
    truth = np.array([[1e3, 0.0, 0.0], [50e3, 0.0, 0.0]])
    track = np.array([[1e3, 0.0, 0.0]])
    g = metrics.gospa(truth, track, c=C)
    assert g.distance == pytest.approx(C / math.sqrt(2), rel=1e-12)
    assert g.missed == pytest.approx(C / math.sqrt(2), rel=1e-12)
    assert (g.localisation, g.false, g.n_missed, g.n_false) == (0.0, 0.0, 1, 0)
    # No track at all for a single object: the same.
    assert metrics.gospa(truth[:1], np.empty((0, 3)), c=C).distance == pytest.approx(C / math.sqrt(2), rel=1e-12)


def test_one_false_track_costs_c_over_root_two():
    truth = np.array([[1e3, 0.0, 0.0]])
    track = np.array([[1e3, 0.0, 0.0], [-40e3, 0.0, 0.0]])
    g = metrics.gospa(truth, track, c=C)
    assert g.distance == pytest.approx(C / math.sqrt(2), rel=1e-12)
    assert g.false == pytest.approx(C / math.sqrt(2), rel=1e-12)
    assert (g.localisation, g.missed, g.n_missed, g.n_false) == (0.0, 0.0, 0, 1)


def test_localisation_below_cutoff_is_the_euclidean_distance():
    # 3-4-5 triangle: 3 km east, 4 km north → 5 km.
    g = metrics.gospa([[0.0, 0.0, 100e3]], [[3e3, 4e3, 100e3]], c=C)
    assert g.distance == pytest.approx(5e3, rel=1e-12)
    assert g.localisation == pytest.approx(5e3, rel=1e-12)
    assert (g.n_missed, g.n_false) == (0, 0)


def test_pair_beyond_cutoff_counts_as_one_missed_and_one_false():
    # 20 km apart > c: c²/2 + c²/2 = c², so d = c.
    g = metrics.gospa([[0.0, 0.0, 0.0]], [[20e3, 0.0, 0.0]], c=C)
    assert g.distance == pytest.approx(C, rel=1e-12)
    assert (g.n_missed, g.n_false, g.localisation) == (1, 1, 0.0)


def test_assignment_is_optimal_not_greedy():
    # Greedy from truth 0 takes track 0 (1 km) and leaves truth 1 with track 1 at 7 km: 1² + 7² = 50 km².
    # Optimal: truth 0 ↔ track 1 (3 km), truth 1 ↔ track 0 (3 km): 3² + 3² = 18 km².
    truth = np.array([[0.0, 0.0, 0.0], [4e3, 0.0, 0.0]])
    track = np.array([[1e3, 0.0, 0.0], [-3e3, 0.0, 0.0]])  # |t0-k0| = 1, |t1-k0| = 3, |t0-k1| = 3, |t1-k1| = 7 km
    assert metrics.gospa(truth, track, c=C).distance == pytest.approx(math.sqrt(18e6), rel=1e-12)


def brute_gospa(x: np.ndarray, y: np.ndarray, c: float, p: float, alpha: float) -> float:
    """Definition 1 of Rahmathullah et al. (2017) by enumeration of all injections of the smaller set."""
    if len(x) > len(y):
        x, y = y, x
    n, m = len(x), len(y)
    best = 0.0 if n == 0 else math.inf
    for perm in itertools.permutations(range(m), n):
        cost = sum(min(float(np.linalg.norm(x[i] - y[j])), c) ** p for i, j in enumerate(perm))
        best = min(best, cost)
    return (best + c**p / alpha * (m - n)) ** (1 / p)


coordinate = st.floats(min_value=-25e3, max_value=25e3, allow_nan=False, allow_infinity=False)
point_sets = st.lists(st.tuples(coordinate, coordinate, coordinate), min_size=0, max_size=4).map(
    lambda pts: np.array(pts, dtype=float).reshape(-1, 3)
)


@settings(max_examples=150, deadline=None)
@given(point_sets, point_sets, st.sampled_from([1.0, 2.0]), st.sampled_from([1.0, 2.0]))
def test_gospa_matches_the_definition_by_brute_force(x, y, p, alpha):
    g = metrics.gospa(x, y, c=C, p=p, alpha=alpha)
    assert g.distance == pytest.approx(brute_gospa(x, y, C, p, alpha), rel=1e-9, abs=1e-6)
    assert g.distance**p == pytest.approx(g.localisation**p + g.missed**p + g.false**p, rel=1e-9, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(point_sets, point_sets, st.sampled_from([1.0, 2.0]))
def test_gospa_is_symmetric(x, y, p):
    a, b = metrics.gospa(x, y, c=C, p=p), metrics.gospa(y, x, c=C, p=p)
    assert a.distance == pytest.approx(b.distance, rel=1e-12, abs=1e-9)
    assert (a.n_missed, a.n_false) == (b.n_false, b.n_missed)


@settings(max_examples=200, deadline=None)
@given(point_sets, point_sets, point_sets, st.sampled_from([1.0, 2.0]))
def test_gospa_obeys_the_triangle_inequality(x, y, z, p):
    d = lambda a, b: metrics.gospa(a, b, c=C, p=p).distance  # noqa: E731
    assert d(x, z) <= d(x, y) + d(y, z) + 1e-6


def test_gospa_series_mean_squared():
    # Time 0: perfect (0). Time 1: one missed object (c²/2). Mean of squares: c²/4.
    truths = [np.array([[0.0, 0.0, 0.0]]), np.array([[0.0, 0.0, 0.0], [30e3, 0.0, 0.0]])]
    tracks = [np.array([[0.0, 0.0, 0.0]]), np.array([[0.0, 0.0, 0.0]])]
    s = metrics.gospa_series(truths, tracks, c=C)
    np.testing.assert_allclose(s.distance, [0.0, C / math.sqrt(2)], rtol=1e-12)
    np.testing.assert_array_equal(s.n_missed, [0, 1])
    assert s.mean_squared_distance == pytest.approx(C**2 / 4, rel=1e-12)
    assert s.mean_squared_missed == pytest.approx(C**2 / 4, rel=1e-12)
    assert s.mean_squared_localisation == 0.0
    assert s.rms_distance == pytest.approx(C / 2, rel=1e-12)


# ------------------------------------------------------------------------------------------------------------------
# Association and SIAP
# ------------------------------------------------------------------------------------------------------------------


def crossing_frames() -> list[Frame]:
    """Two objects 200 m apart climbing at 1 km/s; two tracks drift towards the other object (8 m/s each).

    Track k1 starts 60 m from A and ends at 140 m from A (60 m from B); k2 the mirror image.  Nearest-only
    association would swap them half-way.
    """
    frames = []
    for t in range(11):
        z = 1000.0 * t
        truth = np.array([[0.0, 0.0, z], [200.0, 0.0, z]])
        track = np.array([[60.0 + 8.0 * t, 5.0, z], [140.0 - 8.0 * t, -5.0, z]])
        frames.append(Frame(float(t), ["A", "B"], truth, ["k1", "k2"], track))
    return frames


def test_persistent_association_does_not_flip_between_close_objects():
    frames = crossing_frames()
    # The scenario is meaningful: at the end k1 is nearer B and k2 nearer A.
    last = frames[-1]
    k1, k2 = np.asarray(last.track_xyz)
    a, b = np.asarray(last.truth_xyz)
    assert np.linalg.norm(k1 - b) < np.linalg.norm(k1 - a)
    assert np.linalg.norm(k2 - a) < np.linalg.norm(k2 - b)

    assoc = metrics.associate(frames)
    assert all(m == {"k1": "A", "k2": "B"} for m in assoc)
    result = metrics.siap(frames, assoc)
    assert result.track_number_changes == {"A": 0, "B": 0}
    assert result.completeness == 1.0
    assert result.ambiguity == 1.0
    assert result.spuriousness == 0.0


def test_new_track_takes_the_nearest_object_and_far_tracks_drop():
    frames = crossing_frames()
    last = frames[-1]
    # A new track k3 appearing at the end next to B goes to B (nearest); k1 stays on A.
    track = np.vstack([np.asarray(last.track_xyz), [[190.0, 0.0, 10e3]]])
    frames[-1] = Frame(last.time, last.truth_ids, last.truth_xyz, ["k1", "k2", "k3"], track)
    # Then k1 jumps 15 km away from everything (beyond the 10 km gate): unassociated.
    far = track.copy()
    far[0] = [15e3, 0.0, 11e3]
    truth = np.array([[0.0, 0.0, 11e3], [200.0, 0.0, 11e3]])
    frames.append(Frame(11.0, ["A", "B"], truth, ["k1", "k2", "k3"], far))
    assoc = metrics.associate(frames, threshold=10e3)
    assert assoc[-2] == {"k1": "A", "k2": "B", "k3": "B"}
    assert "k1" not in assoc[-1]


def test_association_moves_on_when_the_object_leaves_the_gate():
    # Time 0: track next to A.  Time 1: A has gone 15 km away, C is 50 m from the track: the track takes C.
    frames = [
        Frame(0.0, ["A", "C"], [[0.0, 0.0, 0.0], [0.0, 30e3, 0.0]], ["k"], [[100.0, 0.0, 0.0]]),
        Frame(1.0, ["A", "C"], [[15e3, 0.0, 0.0], [150.0, 0.0, 0.0]], ["k"], [[100.0, 0.0, 0.0]]),
    ]
    assert metrics.associate(frames) == [{"k": "A"}, {"k": "C"}]


def hand_scenario() -> list[Frame]:
    """Five frames, 1 s apart.  Objects T1 (whole time, at the origin) and T2 (t = 2..4, 100 km east).

    Tracks: a on T1 at t = 0, 1 (+30 m); nothing on T1 at t = 2; b on T1 at t = 3, 4 (+40 m);
    c on T2 at t = 2, 3, 4 (+50 m); d also on T2 at t = 3 (+100 m); s spurious (500 km away) at t = 0, 4.
    Velocity errors: a 5, b 10, c 10, d 20 m/s.
    """
    t1, t2 = np.zeros(3), np.array([100e3, 0.0, 0.0])
    v = np.array([1000.0, 0.0, 0.0])
    off = {"a": (t1, [0, 30, 0], [3, 4, 0]), "b": (t1, [0, 40, 0], [0, 0, 10])}
    off |= {"c": (t2, [0, 50, 0], [6, 8, 0]), "d": (t2, [0, 100, 0], [0, 20, 0])}
    off |= {"s": (np.array([0.0, 500e3, 0.0]), [0, 0, 0], [0, 0, 0])}
    truths = [["T1"], ["T1"], ["T1", "T2"], ["T1", "T2"], ["T1", "T2"]]
    tracks = [["a", "s"], ["a"], ["c"], ["b", "c", "d"], ["b", "c", "s"]]
    where = {"T1": t1, "T2": t2}
    frames = []
    for k, (gs, ks) in enumerate(zip(truths, tracks, strict=True)):
        frames.append(
            Frame(
                time=float(k),
                truth_ids=gs,
                truth_xyz=np.array([where[g] for g in gs]),
                track_ids=ks,
                track_xyz=np.array([off[n][0] + off[n][1] for n in ks]),
                truth_vel=np.array([v for _ in gs]),
                track_vel=np.array([v + off[n][2] for n in ks]),
            )
        )
    return frames


def test_siap_on_a_hand_built_scenario():
    r = metrics.siap(hand_scenario())
    # J(t) = 1, 1, 2, 2, 2 (Σ 8); JT(t) = 1, 1, 1, 2, 2 (Σ 7: T1 uncovered at t = 2).
    np.testing.assert_array_equal(r.n_truths, [1, 1, 2, 2, 2])
    np.testing.assert_array_equal(r.n_covered, [1, 1, 1, 2, 2])
    assert r.completeness == pytest.approx(7 / 8)
    # NA(t) = 1 (a), 1 (a), 1 (c), 3 (b, c, d), 2 (b, c): Σ 8 → ambiguity 8/7.
    np.testing.assert_array_equal(r.n_associated, [1, 1, 1, 3, 2])
    assert r.ambiguity == pytest.approx(8 / 7)
    # N(t) = 2, 1, 1, 3, 3 (Σ 10); unassociated: s twice → spuriousness 2/10.
    np.testing.assert_array_equal(r.n_tracks, [2, 1, 1, 3, 3])
    assert r.spuriousness == pytest.approx(0.2)
    # Position errors: a 30 ×2, c 50 ×3, b 40 ×2, d 100 → 390 m over 8 pairs.
    assert r.position_accuracy == pytest.approx(390 / 8)
    # Velocity errors: a 5 ×2, b 10 ×2, c 10 ×3, d 20 → 80 m/s over 8 pairs.
    assert r.velocity_accuracy == pytest.approx(10.0)
    # T1: a, a, (gap), b, b → one change; T2: c, {c, d}, c → none (c persists).
    assert r.track_number_changes == {"T1": 1, "T2": 0}
    # Time tracked: T1 0→1 (a) and 3→4 (b) = 2 s; T2 2→3, 3→4 (c) = 2 s → 1 change / 4 s.
    assert r.rate_of_track_number_changes == pytest.approx(0.25)
    # Longest segments: T1 1 s (a or b), T2 2 s (c); lifetimes 4 s and 2 s → 3/6.
    assert r.longest_segment == {"T1": pytest.approx(1.0), "T2": pytest.approx(2.0)}
    assert r.longest_segment_fraction == pytest.approx(0.5)


@pytest.mark.parametrize(("after_gap", "changes"), [("a", 0), ("b", 1)])
def test_gaps_are_not_track_number_changes(after_gap, changes):
    # T1 tracked by a, then uncovered, then by a again (no change) or by b (one change).
    def frame(t, ids):
        return Frame(t, ["T1"], [[0.0, 0.0, 0.0]], ids, [[10.0, 0.0, 0.0]] * len(ids))

    r = metrics.siap([frame(0.0, ["a"]), frame(1.0, []), frame(2.0, [after_gap])])
    assert r.track_number_changes == {"T1": changes}
    assert math.isnan(r.velocity_accuracy)  # no velocities given


# ------------------------------------------------------------------------------------------------------------------
# RMSE, NEES, NIS
# ------------------------------------------------------------------------------------------------------------------


def test_rmse_over_runs():
    # t0: runs with errors (3, 4, 0) and (0, 0, 0): √((25 + 0)/2).  t1: (1, 0, 0) and (0, 2, 2): √((1 + 8)/2).
    e = np.array([[[3.0, 4.0, 0.0], [0.0, 0.0, 0.0]], [[1.0, 0.0, 0.0], [0.0, 2.0, 2.0]]])
    np.testing.assert_allclose(metrics.rmse(e), [math.sqrt(12.5), math.sqrt(4.5)], rtol=1e-12)
    np.testing.assert_allclose(metrics.component_rmse(e)[0], [math.sqrt(4.5), math.sqrt(8.0), 0.0], rtol=1e-12)


def test_nees_with_a_diagonal_covariance_is_the_sum_of_squared_sigmas():
    err = np.array([[30.0, -40.0, 10.0], [0.0, 0.0, 5.0]])
    P = np.diag([100.0, 400.0, 25.0])
    # (30/10)² + (40/20)² + (10/5)² = 9 + 4 + 4 = 17;  (5/5)² = 1.
    np.testing.assert_allclose(metrics.nees(err, P), [17.0, 1.0], rtol=1e-12)
    np.testing.assert_allclose(metrics.nis(err, np.broadcast_to(P, (2, 3, 3))), [17.0, 1.0], rtol=1e-12)


def test_chi2_bounds_match_the_closed_form_for_two_degrees_of_freedom():
    # χ²(2) is exponential with mean 2: its q-quantile is −2 ln(1 − q).
    low, high = metrics.chi2_bounds(dof=2, runs=1, confidence=0.95)
    assert low == pytest.approx(-2 * math.log(0.975), rel=1e-9)
    assert high == pytest.approx(-2 * math.log(0.025), rel=1e-9)
    # More runs: a narrower interval around the dimension.
    low50, high50 = metrics.chi2_bounds(dof=3, runs=50)
    assert low50 < 3 < high50 and high50 - low50 < 2


def random_covariances(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """Random well-conditioned SPD matrices (n, d, d), scale ~ (1 km)²."""
    a = rng.standard_normal((n, d, d))
    return 1e6 * (a @ np.swapaxes(a, -1, -2) + 0.5 * np.eye(d))


def test_nees_of_consistent_errors_is_inside_the_bounds_about_95_percent():
    rng = np.random.default_rng(20240611)
    steps, runs, d = 400, 50, 3
    P = random_covariances(rng, steps, d)
    L = np.linalg.cholesky(P)
    err = np.einsum("tij,tnj->tni", L, rng.standard_normal((steps, runs, d)))  # ε ~ N(0, P_t) per run
    values = metrics.nees(err, P[:, None])
    assert values.shape == (steps, runs)
    inside = metrics.fraction_consistent(values, dof=d, confidence=0.95)
    tol = 4 * math.sqrt(0.95 * 0.05 / steps)  # four binomial standard deviations
    assert abs(inside - 0.95) < tol
    # A filter claiming half the true covariance: averaged NEES ≈ 2d, far above the upper bound.
    optimistic = metrics.nees(err, 0.5 * P[:, None])
    assert metrics.fraction_consistent(optimistic, dof=d) < 0.05


# ------------------------------------------------------------------------------------------------------------------
# PCRLB
# ------------------------------------------------------------------------------------------------------------------


def cv_matrix(tau: float) -> np.ndarray:
    """3-D constant-velocity transition over τ seconds (state: position, velocity)."""
    return np.block([[np.eye(3), tau * np.eye(3)], [np.zeros((3, 3)), np.eye(3)]])


def test_pcrlb_without_process_noise_is_the_batch_information():
    times = np.cumsum([0.0, 1.0, 2.0, 0.5, 3.0, 1.0, 1.0, 4.0, 0.25, 2.0, 1.0, 1.5])
    x0 = np.array([1e6, 2e6, 3e6, 1e3, -2e3, 3e3])
    x_true = np.array([cv_matrix(t - times[0]) @ x0 for t in times])
    H = np.hstack([np.eye(3), np.zeros((3, 3))])
    R = np.diag([100.0, 400.0, 900.0])  # m²
    measured = [k for k in range(len(times)) if k % 3 != 1]  # steps 1, 4, 7, 10 have none
    J0 = np.diag([1e-6] * 3 + [1e-2] * 3)  # prior: 1 km, 10 m/s

    def transition(x, dt):
        F = np.broadcast_to(np.eye(6), (len(dt), 6, 6)).copy()
        F[:, :3, 3:] = dt[:, None, None] * np.eye(3)
        return F

    def no_noise(x, dt):
        return np.zeros((len(dt), 6, 6))

    def jacobians(k, xk):
        return [(H, R)] if k in measured else []

    bounds = metrics.pcrlb(x_true, times, transition, no_noise, jacobians, J0)

    # Batch: x_i = Φ(t_i − t_k) x_k, so the information on x_k is the prior and every measurement up to k
    # carried back along the deterministic motion.
    for k, tk in enumerate(times):
        A = cv_matrix(times[0] - tk)
        info = A.T @ J0 @ A
        for i in measured:
            if i <= k:
                G = H @ cv_matrix(times[i] - tk)
                info += G.T @ np.linalg.inv(R) @ G
        np.testing.assert_allclose(bounds[k], np.linalg.inv(info), rtol=1e-8, atol=1e-12)
        assert metrics.rms_bound(bounds)[k] == pytest.approx(math.sqrt(np.linalg.inv(info)[:3, :3].trace()))


def test_pcrlb_of_a_scalar_random_walk_reaches_the_riccati_steady_state():
    q, r, steps = 4.0, 25.0, 200  # process noise per second, measurement noise [m²]
    times = np.arange(steps, dtype=float)
    x_true = np.zeros((steps, 1))
    bounds = metrics.pcrlb(
        x_true,
        times,
        lambda x, dt: np.ones((len(dt), 1, 1)),
        lambda x, dt: q * dt[:, None, None],
        lambda k, xk: [(np.ones((1, 1)), np.full((1, 1), r))],
        J0=np.array([[1e-4]]),
    )
    # First step by hand: J₀ = 1e-4 + 1/r.
    assert bounds[0, 0, 0] == pytest.approx(1 / (1e-4 + 1 / r))
    # Kalman steady state: prior M = P + q, P = M r/(M + r) ⇒ M² − q M − q r = 0.
    M = (q + math.sqrt(q * q + 4 * q * r)) / 2
    assert bounds[-1, 0, 0] == pytest.approx(M * r / (M + r), rel=1e-10)


def test_wilson_interval_matches_the_textbook_and_covers_its_proportion() -> None:
    # Newcombe (1998), Statistics in Medicine 17, 857-872, table I: 81/263 → 0.2553–0.3662 (method 3).
    low, high = metrics.wilson(81, 263)
    assert low == pytest.approx(0.2553, abs=5e-5) and high == pytest.approx(0.3662, abs=5e-5)
    for k, n in ((0, 10), (10, 10), (950, 1000)):
        low, high = metrics.wilson(k, n)
        assert -1e-12 <= low <= k / n + 1e-12 and k / n - 1e-12 <= high <= 1.0 + 1e-12
    assert all(math.isnan(v) for v in metrics.wilson(0, 0))
