"""Sensor registration: a partner's radar biases estimated online, and carried in every track's covariance.

Each radar reports range, azimuth and elevation with a fixed registration error b_s (range offset
[m], azimuth and elevation offsets [rad]) on top of its noise: z = h(x) + C_s b + v, where b stacks
the biases of all the partner's radars and C_s picks radar s's three.  The partner knows each radar's
calibration accuracy (the prior σ of its b_s, the theater's ``bias_*``), not the offsets themselves.

Method: the two-stage ("separate-bias") Kalman filter of Friedland (1969), extended to many tracks
sharing the biases.  Every track runs the *bias-free* filter (its EKF as if b = 0, on the raw
measurements: the tracker's own filter, unchanged) and carries a sensitivity matrix V (d × n_b), the
response of its bias-free state to the biases:

    x_true ≈ x̃ + V b,
    predicted:  V⁻ = F V,
    updated:    V  = (I − K̃ H) V⁻ − K̃ C_s,
    initiated:  V₀ = −G C_s   (G = ∂position/∂(range, az, el) of the initiating report).

The bias-free innovation ν̃ = z − h(x̃⁻) then measures the biases, ν̃ = S b + ε, S = H V⁻ + C_s, with ε
the bias-free filter's own innovation error (covariance H P̃⁻ Hᵀ + R), white over time and
independent from track to track (each track holds other measurements).  So one small static
filter (:class:`Registration`, n_b = 3 per radar) takes every track's innovations, in information
form, and the best estimate of each track and its covariance are

    x̂ = x̃ + V b̂,   P = P̃ + V P_b Vᵀ,

which for linear models is exactly the augmented-state filter over all tracks and biases
(Friedland 1969; Ignagni 1981 for the equivalence; Lin, Bar-Shalom & Kirubarajan 2005 for biases
estimated from many targets of several sensors), at the cost of one d × n_b matrix per track.
The V P_b Vᵀ part is what is still unknown of the biases: it is reported apart (it is independent
of other partners' errors, whose radars are their own) and keeps every track's covariance honest
while the biases are not yet learned.

What the data can show (observability):

* one radar alone on ballistic objects: its biases only through the dynamics (a misplaced track
  feels the wrong gravity) — weakly, over minutes; its range bias hardly at all.  P_b stays near the
  prior in those directions and the tracks' covariances keep saying so;
* two own radars seeing one object: their *relative* registration at once (each one's reports
  against the track the other has built), the common part only through geometry diversity — two
  sites looking from different directions separate range from angle offsets (Helmick & Rice 1993);
* an infrared satellite carries no bias here (the simulator draws none), and a ship's radar holds
  station, so position errors of ships are not modelled.

Only confirmed tracks in ballistic flight feed the estimate: in boost the thrust model's errors
are far larger than the biases and correlated over time, which the innovations' whiteness assumes
away.  Units: range [m], angles [rad].
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from mwx.sim.theater import Radar as RadarSpec
from mwx.sim.theater import Sensor

BIASED = 3  # range, azimuth, elevation: the measured components a registration error offsets


class Registration:
    """The registration biases of one partner's radars: estimate ``b`` (n_b,) and covariance ``P`` (n_b, n_b).

    ``priors``: sensor index → prior σ of its (range [m], azimuth [rad], elevation [rad]) offsets;
    sensors with all three zero are left out (their columns would stay exactly zero).
    """

    def __init__(self, priors: Mapping[int, tuple[float, float, float]]) -> None:
        self.columns: dict[int, int] = {}
        sigma: list[float] = []
        for sensor, s in sorted(priors.items()):
            if any(v > 0.0 for v in s):
                self.columns[sensor] = len(sigma)
                sigma.extend(float(v) for v in s)
        self.prior_sigma = np.array(sigma)
        self.b = np.zeros(len(sigma))
        self.P = np.diag(self.prior_sigma**2)
        self.updates = 0  # innovations taken

    @classmethod
    def of(cls, sensors: Mapping[int, Sensor]) -> Registration:
        """The registration of a partner's sensors (theater index → sensor): its radars' bias priors."""
        return cls({i: s.bias_sigma for i, s in sensors.items() if isinstance(s, RadarSpec)})

    @property
    def size(self) -> int:
        return int(self.b.size)

    def selector(self, sensor: int, dim: int) -> NDArray:
        """C (dim, n_b): how the biases enter a ``dim``-component measurement of ``sensor`` (zero if unbiased)."""
        c = np.zeros((dim, self.size))
        first = self.columns.get(sensor)
        if first is not None:
            c[np.arange(BIASED), first + np.arange(BIASED)] = 1.0
        return c

    def sigma(self, sensor: int) -> NDArray:
        """Current 1σ of ``sensor``'s (range, azimuth, elevation) offsets (the prior until it learns)."""
        first = self.columns.get(sensor)
        if first is None:
            return np.zeros(BIASED)
        idx = first + np.arange(BIASED)
        return np.sqrt(np.diag(self.P)[idx])

    def estimate(self, sensor: int) -> NDArray:
        """Current estimate of ``sensor``'s (range [m], azimuth, elevation [rad]) offsets."""
        first = self.columns.get(sensor)
        return np.zeros(BIASED) if first is None else self.b[first : first + BIASED].copy()

    def update(self, s: NDArray, nu: NDArray, cov: NDArray) -> None:
        """Take bias-free innovations ``nu`` (m, k) = ``s`` (m, k, n_b) · b + ε, ε ~ N(0, ``cov`` (m, k, k)).

        Independent innovations add their information: P⁻¹ ← P⁻¹ + Σ Sᵀ Σ⁻¹ S, and b̂ moves by
        P Σ Sᵀ Σ⁻¹ (ν − S b̂) — one step for a whole scan.
        """
        if nu.shape[0] == 0 or self.size == 0:
            return
        w = np.linalg.solve(cov, s)  # Σ⁻¹ S (m, k, n_b)
        info = np.einsum("mki,mkj->ij", s, w)
        residual = nu - np.einsum("mkb,b->mk", s, self.b)
        gradient = np.einsum("mkb,mk->b", w, residual)
        prior_info = np.linalg.inv(self.P)
        posterior = np.linalg.inv(prior_info + info)
        self.P = 0.5 * (posterior + posterior.T)
        self.b = self.b + self.P @ gradient
        self.updates += int(nu.shape[0])
