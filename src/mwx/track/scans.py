"""Sensor reports as tracker scans: the bridge from :mod:`mwx.sim.sensors` to :mod:`mwx.track`.

A radar scan becomes range, azimuth, elevation (and range rate where the
radar measures it) with the covariances the radar states and the echo
strength as a feature: the RCS the radar equation gives from the SNR, the
range and the radar's own calibration [dBsm]; an infrared frame becomes the two
nadir-frame angles from the satellite's position at that instant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from mwx.sim.sensors import Measurements
from mwx.sim.theater import Radar as RadarSpec
from mwx.sim.theater import Sensor
from mwx.track.base import Scan
from mwx.track.measurement import Infrared, Radar


def _diag(sigma: NDArray) -> NDArray:
    return np.einsum("mi,ij->mij", np.square(sigma), np.eye(sigma.shape[1]))


@dataclass
class ScanBuilder:
    """Turns rows of :class:`Measurements` of one sensor and instant into a tracker :class:`Scan`."""

    sensors: dict[int, Sensor]
    #: Add each radar's registration-bias variance (its calibration accuracy, which its owner
    #: knows) to the noise it states: a bias the filter does not estimate is noise to it.
    bias_as_noise: bool = True
    _radars: dict[int, Radar] = field(default_factory=dict)
    _bias_var: dict[int, NDArray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for i, s in self.sensors.items():
            if isinstance(s, RadarSpec):
                self._radars[i] = Radar(
                    math.radians(s.site.lat), math.radians(s.site.lon), s.site.alt_m, s.sigma_range_rate_mps is not None
                )
                bias = np.square(np.array([*s.bias_sigma, 0.0])) if self.bias_as_noise else np.zeros(4)
                self._bias_var[i] = bias[: self._radars[i].dim]

    def __call__(self, m: Measurements, a: int, b: int) -> Scan:
        sensor, time = int(m.sensor[a]), float(m.time[a])
        if sensor in self._radars:
            model = self._radars[sensor]
            z = m.z[a:b, : model.dim]
            spec = self.sensors[sensor]
            assert isinstance(spec, RadarSpec)  # _radars holds the radars' models only
            # Echo strength as an RCS estimate [dBsm] from the radar equation with this radar's own
            # calibration (SNR_ref at R_ref for σ_ref): comparable across radars of different power.
            feature = (
                m.snr_db[a:b] - spec.ref_snr_db + 40.0 * np.log10(z[:, 0] / (spec.ref_range_km * 1e3))
                + 10.0 * np.log10(spec.ref_rcs_m2)
            )  # fmt: skip
            r = _diag(m.sigma[a:b, : model.dim]) + np.diag(self._bias_var[sensor])
            resolution = (spec.range_resolution_m, spec.beamwidth_mrad * 1e-3)
            return Scan(time, sensor, "radar", model, z, r, feature, float(m.received[a]), resolution)
        frame = Infrared(m.origin[a])
        return Scan(
            time, sensor, "infrared", frame, m.z[a:b, 1:3], _diag(m.sigma[a:b, 1:3]), None, float(m.received[a])
        )


def scans_in_arrival_order(m: Measurements) -> tuple[list[tuple[int, int]], Measurements]:
    """``m`` sorted by arrival, and the (start, stop) row ranges of its scans (same sensor, same time taken)."""
    ordered = m.take(np.lexsort((m.sensor, m.time, m.received)))
    if len(ordered) == 0:  # no scan at all (not one empty scan: a node whose radars see nothing)
        return [], ordered
    # Rows of one scan share the arrival time, so after sorting they are adjacent.
    cut = np.flatnonzero((np.diff(ordered.sensor) != 0) | (np.diff(ordered.time) != 0)) + 1
    starts = np.concatenate([[0], cut]).astype(int)
    stops = np.concatenate([cut, [len(ordered)]]).astype(int)
    return list(zip(starts.tolist(), stops.tolist(), strict=True)), ordered
