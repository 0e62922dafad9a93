"""The small interfaces of the tracking roles, and the scan they consume.

As in Stone Soup, each role of a tracker is a component with one job:

* a :class:`MotionModel` moves states (and says how uncertain that is);
* a :class:`MeasurementModel` predicts what a sensor would measure of a state;
* an :class:`Initiator` turns an unexplained measurement into a new track.

Everything works on batches: ``x`` is (n, d), covariances (n, d, d), times
(n,), so one call serves one track or a thousand.  Concrete models live in
:mod:`mwx.track.motion`, :mod:`mwx.track.measurement` and
:mod:`mwx.track.initiation`; the tracker that wires them is
:mod:`mwx.track.tracker`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray


class MotionModel(Protocol):
    """How states evolve: x(t + dt) = f(x(t), dt) + w, w ~ N(0, Q(x, dt))."""

    def propagate(self, x: NDArray, dt: NDArray) -> NDArray:
        """States (n, d) moved by ``dt`` (n,) seconds (negative: backwards)."""
        ...

    def transition(self, x: NDArray, dt: NDArray) -> NDArray:
        """Jacobians ∂f/∂x (n, d, d) at ``x`` over ``dt``."""
        ...

    def noise(self, x: NDArray, dt: NDArray) -> NDArray:
        """Process noise covariances Q (n, d, d) accumulated over ``|dt|``."""
        ...


class MeasurementModel(Protocol):
    """What one sensor measures of a state: z = h(x) + v, v ~ N(0, R)."""

    @property
    def dim(self) -> int:
        """Size k of one measurement (a read-only property or a plain attribute)."""
        ...

    def predict(self, x: NDArray) -> tuple[NDArray, NDArray]:
        """Predicted measurements (n, k) and Jacobians ∂h/∂x (n, k, d) of states (n, d)."""
        ...

    def residual(self, z: NDArray, z_pred: NDArray) -> NDArray:
        """``z - z_pred`` (broadcast), with angles wrapped to (-π, π]."""
        ...


@dataclass
class Scan:
    """The reports of one sensor taken at one instant: what a tracker consumes.

    ``z`` (m, k) measurements, ``R`` (m, k, k) their noise covariances (as the
    sensor states them), ``model`` the measurement model of this sensor at
    this instant.  ``kind`` selects the initiator (``radar``, ``infrared``,
    ``position``); ``feature_db`` is an optional per-report echo strength in dB
    (radar: the RCS the radar equation gives, dBsm) used
    to keep the warhead-bearing body's track when objects separate.
    ``resolution`` (radar): the range [m] and angle [rad] within which the sensor
    cannot tell two objects apart (it reports one echo for both).
    """

    time: float
    sensor: int
    kind: str
    model: MeasurementModel
    z: NDArray
    R: NDArray
    feature_db: NDArray | None = None
    received: float = field(default=np.nan)
    resolution: tuple[float, float] | None = None

    def __len__(self) -> int:
        return int(self.z.shape[0])


class Initiator(Protocol):
    """Turns measurements that no track explains into tentative tracks."""

    def initiate(self, scan: Scan, rows: NDArray) -> tuple[NDArray, NDArray]:
        """Means (m, d) and covariances (m, d, d) of new tracks from ``scan.z[rows]``."""
        ...
