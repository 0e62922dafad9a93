"""Theaters: the partners, their sensors and their protected areas.

A theater is a YAML file under ``mwx/data/theaters``; ``korea-japan`` is built
in, and a scenario may override any sensor's settings, add sensors and take
sensors down for a while (:func:`with_changes`).  Degrees, km, mrad and µrad
are the file's units; the properties of :class:`Radar` and
:class:`InfraredSatellite` expose SI.  Protected areas (territory and an EEZ
approximation per partner) come from :mod:`mwx.geo.regions`.

Every performance value in the built-in theater is generic and notional —
chosen to give a plausible exercise, not a claim about any real system.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal

import msgspec
import numpy as np
from numpy.typing import NDArray

from mwx.errors import InputError
from mwx.geo import orbits, wgs84

_Positive = Annotated[float, msgspec.Meta(gt=0.0)]
_NonNegative = Annotated[float, msgspec.Meta(ge=0.0)]
SensorId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{1,32}\Z")]


class Site(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    lat: Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)]
    lon: Annotated[float, msgspec.Meta(ge=-180.0, le=360.0)]
    alt_m: Annotated[float, msgspec.Meta(ge=-500.0, le=9000.0)] = 0.0


class Partner(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    id: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2,8}\Z")]
    name: str


class Radar(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A radar measuring range, azimuth, elevation and, where it can, range rate.

    Detection (see :mod:`mwx.sim.sensors`): the signal-to-noise ratio follows
    the radar equation, ``SNR = SNR_ref · (σ / σ_ref) · (R_ref / R)⁴`` for a
    target of radar cross-section σ at range R, and a Swerling 1 target is
    detected with ``Pd = Pfa^(1 / (1 + SNR))``.  Noise standard deviations
    are given at the reference SNR and scale as ``√(SNR_ref / SNR)``.
    """

    id: SensorId
    partner: str
    site: Site
    revisit_s: _Positive
    ref_range_km: _Positive  # range at which a target of ref_rcs_m2 gives ref_snr_db
    max_range_km: _Positive  # instrumented range: nothing is reported beyond it
    sigma_range_m: _Positive  # noise standard deviations at the reference SNR
    sigma_az_mrad: _Positive
    sigma_el_mrad: _Positive
    platform: Literal["ground", "ship"] = "ground"
    boresight_deg: Annotated[float, msgspec.Meta(ge=-360.0, le=360.0)] = 0.0  # centre of the azimuth sector
    sector_deg: Annotated[float, msgspec.Meta(gt=0.0, le=360.0)] = 360.0  # width of the azimuth sector
    min_elevation_deg: Annotated[float, msgspec.Meta(ge=0.0, le=60.0)] = 0.5
    max_elevation_deg: Annotated[float, msgspec.Meta(gt=0.0, le=90.0)] = 85.0
    ref_rcs_m2: _Positive = 1.0
    ref_snr_db: Annotated[float, msgspec.Meta(ge=0.0, le=60.0)] = 20.0
    pfa: Annotated[float, msgspec.Meta(gt=0.0, lt=0.1)] = 1e-6
    sigma_range_rate_mps: _Positive | None = None  # None: the radar does not measure range rate
    false_alarms_per_scan: _NonNegative = 0.0  # Poisson mean over the field of regard
    bias_range_m: _NonNegative = 0.0  # standard deviations of the per-run registration bias
    bias_az_mrad: _NonNegative = 0.0
    bias_el_mrad: _NonNegative = 0.0
    latency_s: _NonNegative = 0.5  # processing plus transport
    latency_jitter_s: _NonNegative = 0.0  # mean of an exponential extra delay
    range_resolution_m: _Positive = 150.0  # objects closer in range than this ...
    beamwidth_mrad: _Positive = 10.0  # ... and in angle than this give one detection

    @property
    def kind(self) -> str:
        return "radar"

    @property
    def site_ecef(self) -> NDArray:
        """Site position, ECEF [m]."""
        return wgs84.geodetic_to_ecef(math.radians(self.site.lat), math.radians(self.site.lon), self.site.alt_m)

    @property
    def noise_sigma(self) -> tuple[float, float, float]:
        """Standard deviations of range [m], azimuth and elevation [rad] at the reference SNR."""
        return self.sigma_range_m, self.sigma_az_mrad * 1e-3, self.sigma_el_mrad * 1e-3

    @property
    def bias_sigma(self) -> tuple[float, float, float]:
        """Standard deviations of the registration bias in range [m], azimuth and elevation [rad]."""
        return self.bias_range_m, self.bias_az_mrad * 1e-3, self.bias_el_mrad * 1e-3

    @property
    def ref_snr(self) -> float:
        """Reference SNR as a power ratio."""
        return 10.0 ** (self.ref_snr_db / 10.0)


class GeostationaryOrbit(msgspec.Struct, forbid_unknown_fields=True, frozen=True, tag="geo", tag_field="kind"):
    lon_deg: Annotated[float, msgspec.Meta(ge=-180.0, le=360.0)]


class KeplerOrbit(msgspec.Struct, forbid_unknown_fields=True, frozen=True, tag="kepler", tag_field="kind"):
    """Two-body elements at ``epoch`` in the mean equator and equinox of date."""

    epoch: Annotated[datetime, msgspec.Meta(tz=True)]
    a_km: Annotated[float, msgspec.Meta(gt=6600.0, lt=100000.0)]
    e: Annotated[float, msgspec.Meta(ge=0.0, lt=0.9)]
    i_deg: Annotated[float, msgspec.Meta(ge=0.0, le=180.0)]
    raan_deg: float
    argp_deg: float
    mean_anomaly_deg: float


class InfraredSatellite(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A space-based infrared sensor that sees burning motors above the clouds.

    It reports the line of sight to each plume as two angles in its nadir
    frame (:func:`mwx.sim.sensors.nadir_frame`) every ``frame_s`` seconds.
    """

    id: SensorId
    partner: str
    orbit: GeostationaryOrbit | KeplerOrbit
    frame_s: _Positive
    sigma_urad: _Positive
    pd: Annotated[float, msgspec.Meta(gt=0.0, le=1.0)] = 0.95
    cloud_top_km: _NonNegative = 10.0
    latency_s: _NonNegative = 2.0
    latency_jitter_s: _NonNegative = 0.0

    @property
    def kind(self) -> str:
        return "infrared"

    def position(self, t: NDArray | float) -> NDArray:
        """ECEF position [m] (n, 3) at Unix times ``t``."""
        o = self.orbit
        if isinstance(o, GeostationaryOrbit):
            return orbits.geostationary_ecef(o.lon_deg, t)
        return orbits.kepler_ecef(
            t,
            o.epoch.timestamp(),
            o.a_km * 1e3,
            o.e,
            math.radians(o.i_deg),
            math.radians(o.raan_deg),
            math.radians(o.argp_deg),
            math.radians(o.mean_anomaly_deg),
        )


Sensor = Radar | InfraredSatellite


class Theater(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    name: str
    partners: list[Partner]
    radars: list[Radar]
    infrared: list[InfraredSatellite] = []
    description: str = ""

    @property
    def partner_ids(self) -> list[str]:
        return [p.id for p in self.partners]

    @property
    def sensors(self) -> list[Sensor]:
        """Every sensor, radars first, in file order: the index used by measurements."""
        return [*self.radars, *self.infrared]

    def sensor(self, sensor_id: str) -> Sensor:
        for s in self.sensors:
            if s.id == sensor_id:
                return s
        raise KeyError(sensor_id)


def known_theaters() -> list[str]:
    """Names of the built-in theaters."""
    folder = resources.files("mwx") / "data" / "theaters"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def check_theater(theater: Theater, source: str, place: Callable[[str, int, Sensor], str] | None = None) -> Theater:
    """Cross-field checks: known partners, unique sensor ids, sane limits; raise :class:`InputError`.

    ``place(group, index, sensor)`` names a sensor's place in the file being
    checked (default ``radars[3]``).
    """
    partners = set(theater.partner_ids)
    seen: set[str] = set()
    groups: tuple[tuple[str, Sequence[Sensor]], ...] = (("radars", theater.radars), ("infrared", theater.infrared))
    for group, items in groups:
        for index, s in enumerate(items):
            where = place(group, index, s) if place else f"{group}[{index}]"
            if s.partner not in partners:
                raise InputError(f"unknown partner {s.partner!r}", source=source, where=f"{where}.partner")
            if s.id in seen:
                raise InputError(f"duplicate sensor id {s.id!r}", source=source, where=f"{where}.id")
            seen.add(s.id)
            if isinstance(s, Radar) and s.max_elevation_deg <= s.min_elevation_deg:
                raise InputError("must be above min_elevation_deg", source=source, where=f"{where}.max_elevation_deg")
    return theater


@cache
def load_theater(name: str = "korea-japan") -> Theater:
    """The built-in theater ``name``; :class:`InputError` if there is none."""
    if name not in known_theaters():
        raise InputError(f"unknown theater {name!r} (known: {', '.join(known_theaters())})")
    text = (resources.files("mwx") / "data" / "theaters" / f"{name}.yaml").read_bytes()
    return check_theater(msgspec.yaml.decode(text, type=Theater), f"{name}.yaml")


def scan_times(period: float, sensor_id: str, t_start: float, t_end: float) -> NDArray:
    """Scan (or frame) times in [t_start, t_end] on a grid of ``period`` with a per-sensor phase.

    The phase is a fixed fraction of the period derived from the sensor id, so
    sensors do not all look at the same instants and a run repeats exactly.
    """
    phase = (zlib.crc32(sensor_id.encode()) % 1000) / 1000.0 * period
    k0 = math.ceil((t_start - phase) / period)
    k1 = math.floor((t_end - phase) / period)
    return np.arange(k0, k1 + 1) * period + phase


def with_changes(
    theater: Theater,
    overrides: dict[str, dict[str, Any]],
    extra_radars: list[Radar],
    extra_infrared: list[InfraredSatellite],
    source: str,
) -> Theater:
    """The theater with some sensors' settings overridden and extra sensors added.

    ``overrides`` maps a sensor id to the fields to change (file units, as in
    the theater file); every changed sensor is validated again, and a problem
    names its place as ``sensor_overrides.<id>.<field>``.
    """
    by_id = {s.id: s for s in theater.sensors}
    changed_radars: dict[str, Radar] = {}
    changed_infrared: dict[str, InfraredSatellite] = {}
    for sensor_id, fields in overrides.items():
        where = f"sensor_overrides.{sensor_id}"
        if sensor_id not in by_id:
            raise InputError(f"no sensor {sensor_id!r} in theater {theater.name!r}", source=source, where=where)
        if "id" in fields:
            raise InputError("a sensor's id cannot be overridden", source=source, where=f"{where}.id")
        sensor = by_id[sensor_id]
        data = msgspec.to_builtins(sensor) | fields
        try:
            new = msgspec.convert(data, type(sensor))
        except msgspec.ValidationError as err:
            from mwx.sim.scenario import validation_error

            raise validation_error(err, source, prefix=where, root=type(sensor), data=data) from None
        if isinstance(new, Radar):
            changed_radars[sensor_id] = new
        else:
            changed_infrared[sensor_id] = new
    result = Theater(
        name=theater.name,
        partners=theater.partners,
        radars=[changed_radars.get(r.id, r) for r in theater.radars] + list(extra_radars),
        infrared=[changed_infrared.get(s.id, s) for s in theater.infrared] + list(extra_infrared),
        description=theater.description,
    )

    def place(group: str, index: int, sensor: Sensor) -> str:
        built_in = len(theater.radars) if group == "radars" else len(theater.infrared)
        if index >= built_in:
            return f"extra_{group}[{index - built_in}]"
        return f"sensor_overrides.{sensor.id}"

    return check_theater(result, source, place)
