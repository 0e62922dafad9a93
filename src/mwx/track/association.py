"""Association of one scan's measurements to tracks: gate, cluster, assign.

1. Coarse gate: where measurements give a position (radar, Cartesian), a k-d
   tree finds for each track the measurements within ``√γ`` times a bound on
   the combined position standard deviation (trace of the predicted position
   covariance plus that of the measurement), so fine gating costs grow with
   the number of *close* pairs, not with all m × n.
2. Fine gate: the Mahalanobis distance ``d² = νᵀ S⁻¹ ν`` of each candidate
   pair against the χ²(k) quantile ``γ`` of the gate probability.
3. Clusters: connected components of the gated pairs (tracks sharing
   measurements); each is solved on its own by 2-D assignment
   (``linear_sum_assignment``) on the cost ``d² + ln det S`` — the negative
   log-likelihood up to a constant, so that a tight track is not outbid by a
   loose one (global nearest neighbour, Blackman & Popoli 1999, §6.5).  For
   an IMM track the gate is passed when any mode's d² is inside it (at
   burnout the boost mode's prediction runs ahead while the ballistic mode's
   is right), and the cost is that of the modes' mixture likelihood.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree


@dataclass
class Gated:
    """Candidate pairs that passed the gate: measurement rows, track rows, assignment cost.

    The cost is ``-2 ln`` of the pair's likelihood up to a constant: ``d² + ln det S``
    for one model, or the same of the mode-probability-weighted mixture of the
    modes' likelihoods for an IMM track.
    """

    meas: NDArray[np.int64]
    track: NDArray[np.int64]
    cost: NDArray[np.float64]


def candidate_pairs(
    n_meas: int,
    meas_pos: NDArray | None,
    meas_pos_var: NDArray | None,
    track_pos: NDArray,
    track_pos_var: NDArray,
    gate: float,
) -> tuple[NDArray, NDArray]:
    """(measurement, track) index pairs worth a fine gate; all pairs when measurements give no position.

    ``*_pos_var`` are traces of position covariances [m²] (bounds on any
    direction's variance).
    """
    n = len(track_pos)
    if n_meas == 0 or n == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    if meas_pos is None or meas_pos_var is None:
        return np.repeat(np.arange(n_meas), n), np.tile(np.arange(n), n_meas)
    radius = np.sqrt(gate * (track_pos_var + meas_pos_var.max())) * 1.01
    tree = cKDTree(meas_pos)
    hits = tree.query_ball_point(track_pos, r=radius)
    counts = np.fromiter((len(h) for h in hits), np.int64, n)
    tracks = np.repeat(np.arange(n), counts)
    meas = np.fromiter((i for h in hits for i in h), np.int64, int(counts.sum()))
    return meas, tracks


def assign(gated: Gated, n_meas: int, n_tracks: int) -> tuple[NDArray, NDArray]:
    """Global-nearest-neighbour pairs (measurement rows, track rows), cluster by cluster."""
    if gated.meas.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    # Fast path: every measurement and every track in at most one pair (objects far apart).
    if np.unique(gated.meas).size == gated.meas.size and np.unique(gated.track).size == gated.track.size:
        return gated.meas.copy(), gated.track.copy()
    # Bipartite graph: measurements are nodes 0..m-1, tracks m..m+n-1.
    graph = coo_matrix((np.ones(gated.meas.size), (gated.meas, n_meas + gated.track)), shape=(n_meas + n_tracks,) * 2)
    _, label = connected_components(graph, directed=False)
    pair_label = label[gated.meas]
    cost_all = gated.cost
    order = np.argsort(pair_label, kind="stable")
    bounds = np.flatnonzero(np.diff(pair_label[order])) + 1
    out_m, out_t = [], []
    for group in np.split(order, bounds):
        gm, gt, cost = gated.meas[group], gated.track[group], cost_all[group]
        if group.size == 1:
            out_m.append(gm)
            out_t.append(gt)
            continue
        um, mi = np.unique(gm, return_inverse=True)
        ut, ti = np.unique(gt, return_inverse=True)
        matrix = np.full((um.size, ut.size), np.inf)
        matrix[mi, ti] = cost
        big = np.nanmax(cost) + 1e6
        rows, cols = linear_sum_assignment(np.where(np.isfinite(matrix), matrix, big))
        ok = np.isfinite(matrix[rows, cols])
        out_m.append(um[rows[ok]])
        out_t.append(ut[cols[ok]])
    return np.concatenate(out_m), np.concatenate(out_t)
