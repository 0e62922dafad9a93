"""What a run produces, as typed records: one msgspec struct per thing, from producer to file to reader.

The run folder (``docs/run-folder.md``) is these structs encoded as JSON (:func:`encode`) and read back
with :func:`read` (``decode(type=…)``): ``truth.json`` is :class:`TruthFile`, ``events.json``
:class:`EventsFile`, ``alerts.json`` :class:`AlertsFile`, ``metrics.json`` :class:`MetricsFile` and
``manifest.json`` :class:`Manifest`; a row of ``tracks.csv`` is a :class:`TrackState`, a row of
``measurements.csv`` a :class:`Measurement` (:func:`read_csv`).  The JSON Schemas in ``docs/schemas/`` are
generated from these structs (``scripts/export_schemas.py``), so file, schema and code cannot drift apart.

Conventions (SI inside, the run folder's units on the outside): times are UTC ``datetime`` (ISO 8601 with
``Z`` in the files); ``lat``/``lon`` geodetic degrees (WGS-84, longitudes in [-180, 180]); ``*_km`` km,
``*_m`` metres, ``*_s`` seconds, ``*_mps`` m/s, ``*_deg`` degrees; a value not known is ``None`` (JSON
``null``), never a sentinel number.  Fields the evaluation adds (matching to truth) say so.

A file that does not decode raises :class:`~mwx.errors.RecordError` (an :class:`~mwx.errors.InputError`):
one line naming the file and the field, for the CLI to print with exit status 2.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import msgspec
import numpy as np

from mwx.errors import RecordError
from mwx.geo.lon import wrap_lon

# ----------------------------------------------------------------- field types
UtcTime = Annotated[datetime, msgspec.Meta(tz=True, description="UTC, ISO 8601")]
Lat = Annotated[float, msgspec.Meta(ge=-90.0, le=90.0, description="geodetic latitude, degrees (WGS-84)")]
Lon = Annotated[float, msgspec.Meta(ge=-180.0, le=180.0, description="longitude, degrees in [-180, 180]")]
Km = Annotated[float, msgspec.Meta(ge=0.0, description="km")]
Seconds = Annotated[float, msgspec.Meta(description="s")]
Probability = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Share = Annotated[float, msgspec.Meta(ge=0.0, le=1.0, description="share of the whole, 0-1")]
Count = Annotated[int, msgspec.Meta(ge=0)]
Partner = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2,8}$", description="partner code (KR, JP, US) or fused")]
MissileClass = Literal["SRBM", "MRBM", "IRBM", "ICBM"]
AlertStatus = Literal["issued", "updated", "cancelled", "ended", "track-lost"]
AlertReason = Literal["overflight", "impact"]
AreaKind = Literal["territory", "eez"]


class Record(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Common config of every record: unknown fields are an error (a misspelt name is not silently lost)."""


class Point(Record):
    """A WGS-84 geodetic point on the ellipsoid, degrees."""

    lat: Lat
    lon: Lon


class Ellipse95(Record):
    """A 95 % ellipse on the ground: semi-axes [km], major axis azimuth [deg from north, in [0, 180)]."""

    semi_major_km: Km
    semi_minor_km: Km
    orientation_deg: Annotated[float, msgspec.Meta(ge=-360.0, le=360.0)]


class AreaRef(Record):
    """A partner's protected area: its territory or its EEZ (approximation)."""

    partner: Partner
    kind: AreaKind
    name: str


# ----------------------------------------------------------------- truth.json
class TruthObject(Record):
    """One object of a true flight: the warhead-bearing body (``warhead``), a spent stage (``stage``) or a piece
    of a body that broke up (``fragment``; the body's trajectory stops at the break-up)."""

    id: str
    kind: Literal["warhead", "stage", "fragment"]
    rcs_m2: Annotated[float, msgspec.Meta(ge=0.0)]
    #: [t (Unix s), x, y, z (m), vx, vy, vz (m/s)], ECEF, every 1 s plus burnout and impact
    trajectory: list[tuple[float, float, float, float, float, float, float]]


class TruthFailure(Record):
    """How a missile failed (the scenario's ``failure``) and the flight it was briefed to fly."""

    kind: Literal["thrust_termination", "breakup"]
    #: When the motor was cut or the body broke up.
    time: UtcTime
    intended_apogee_km: Km
    intended_range_km: Km
    intended_impact_time: UtcTime
    intended_impact_point: Point
    #: A break-up's pieces (objects of kind ``fragment``) and how many of them a radar can see; 0 otherwise.
    fragments: Count = 0
    visible_fragments: Count = 0


class TruthLaunch(Record, omit_defaults=True):
    """What really flew: one missile of the scenario (salvo members L1, L1.2, ...).

    For a missile that failed (``failure``), the figures are those of the flight as flown: a thrust
    termination's cut flight; a break-up's pieces (impact time of the last, impact point the centre of their
    impact points, apogee the highest of the body and its pieces, burnout the break-up where it came first).
    """

    id: str
    launch_time: UtcTime
    launch_point: Point
    azimuth_deg: float
    apogee_km: Km
    range_km: Km
    flight_time_s: Seconds
    burnout_time: UtcTime
    impact_time: UtcTime
    impact_point: Point
    max_speed_mps: float
    equivalent_range_km: Km
    missile_class: MissileClass = msgspec.field(name="class")
    objects: list[TruthObject]
    #: How it failed and what it was briefed to fly; None: it flew as briefed.
    failure: TruthFailure | None = None


class SensorBias(Record):
    """The registration bias drawn for one radar this run (added to every detection of that radar)."""

    range_m: float
    azimuth_mrad: float
    elevation_mrad: float


class TruthFile(Record):
    """``truth.json``: the simulator's truth."""

    scenario: str
    seed: int
    launches: list[TruthLaunch]
    sensor_biases: dict[str, SensorBias]


# ----------------------------------------------------------------- events.json
class ImpactArea(Record):
    """Where a prediction falls: a territory likelier than not, else the likeliest area (all None if none)."""

    partner: Partner | None
    kind: AreaKind | None
    name: str | None
    probability: Probability


class Overflight(Record):
    """A predicted crossing of a partner's territory: entry point, times and the chance it is still flying."""

    partner: Partner
    name: str
    enter: UtcTime
    leave: UtcTime
    lat: Lat
    lon: Lon
    probability: Probability


class EventUpdate(Record):
    """A launch event report as it stood at ``time`` (docs/run-folder.md, ``updates``)."""

    time: UtcTime
    launch_time: UtcTime
    launch_point: Point
    launch_ellipse_95: Ellipse95
    launch_method: Literal["boost", "coast"]
    apogee_km: Km
    range_km: Km
    impact_time: UtcTime
    impact_point: Point
    impact_ellipse_95: Ellipse95
    missile_class: MissileClass = msgspec.field(name="class")
    lofted: bool
    equivalent_range_km: Km
    stage_probability: Probability
    over_territory_of: list[Partner]
    inside_eez_of: list[Partner]
    number_of_objects: Count
    estimated_at: UtcTime


class FragmentImpact(Record):
    """Where one seen object of a failed launch falls, predicted from its own track: a break-up's piece."""

    track_id: str
    impact_time: UtcTime
    impact_point: Point
    impact_ellipse_95: Ellipse95


class LaunchFailure(Record, kw_only=True):
    """How a launch failed, as its tracks show it (:mod:`mwx.assess.failure`): a break-up into pieces, or a
    motor that stopped early."""

    kind: Literal["breakup", "thrust_termination"]
    #: When it failed as the tracks show it: a break-up's first sign (the body's track's end or the first
    #: piece's track, whichever came first); a thrust termination's burnout, by the energy.
    time: UtcTime
    #: When the evidence was complete (the pieces' tracks, the body's track's end; the motor's stop shown).
    recognised: UtcTime
    #: The track(s) of the body that failed.
    body_track_ids: list[str]
    #: A break-up's pieces seen: the most of their tracks alive at one instant; 0 for a thrust termination.
    fragments: Count = 0
    #: Each seen piece's predicted impact (its track, with a piece's drag), in the order the pieces were seen.
    fragment_impacts: list[FragmentImpact] = []
    #: A thrust termination's burn (launch to burnout) and the generic vehicle's for the burnout speed reached.
    burn_s: Seconds | None = None
    expected_burn_s: Seconds | None = None


class LaunchEvent(Record, kw_only=True):
    """A partner's (or the fused picture's) launch event report: one ``events.json`` entry.

    For a launch recognised as failed (``outcome`` ``failed``, ``failure``), a break-up's impact figures are
    its pieces' region (:func:`mwx.assess.failure.region`: the centre of the seen pieces' predicted impact
    points, the 95 % ellipse of the pieces together, the last piece's impact time); a thrust termination's
    are the coasting body's, as for any launch.
    """

    partner: Partner
    event_id: str
    truth_id: str | None = None  # evaluation (filled in by the run, after the assessment)
    truth_object: str | None = None  # evaluation
    track_ids: list[str]
    grouped: dict[str, str]
    track_truth_ids: dict[str, str | None] = {}  # evaluation
    final: bool
    first_detection: UtcTime
    first_warning: UtcTime | None = None  # the alerts' (filled in by the run)
    launch_time: UtcTime
    launch_time_sigma_s: Seconds
    launch_point: Point
    launch_point_sigma_km: Km
    launch_ellipse_95: Ellipse95
    launch_method: Literal["boost", "coast"]
    apogee_km: Km
    range_km: Km
    flight_time_s: Seconds
    max_speed_mps: float
    impact_time: UtcTime
    impact_time_sigma_s: Seconds
    impact_point: Point
    impact_ellipse_95: Ellipse95
    impact_area: ImpactArea
    impact_probability: dict[str, Probability]
    missile_class: MissileClass = msgspec.field(name="class")
    lofted: bool
    equivalent_range_km: Km
    stage_probability: Probability
    overflights: list[Overflight]
    over_territory_of: list[Partner]
    inside_eez_of: list[Partner]
    number_of_objects: Count
    estimated_at: UtcTime
    updates: list[EventUpdate]
    #: ``failed`` when the tracks show the launch failed (:mod:`mwx.assess.failure`); None when they do not.
    outcome: Literal["failed"] | None = None
    failure: LaunchFailure | None = None


class EventsFile(Record):
    """``events.json``: every launch event report, sorted by truth_id (unmatched last), partner, event_id."""

    events: list[LaunchEvent]


# ----------------------------------------------------------------- alerts.json
class AlertChange(Record):
    """One change of an alert's lifecycle; level, reason, impact and times only in ``issued``/``updated``."""

    time: UtcTime
    status: AlertStatus
    why: list[str]
    level: Literal["warning", "advisory"] | None = None
    reason: AlertReason | None = None
    impact_point: Point | None = None
    impact_time: UtcTime | None = None
    crossing_time: UtcTime | None = None
    #: the probability of the threat at this change (the area's share of impact samples, or of paths crossing)
    probability: Probability | None = None
    #: the change's 95 % impact ellipse
    ellipse_95: Ellipse95 | None = None
    #: the change's alert area, the polygons of its CAP document's <area>: rings of [lon, lat] degrees
    alert_area: list[list[tuple[float, float]]] | None = None


class AlertRecord(Record, kw_only=True):
    """An alert a partner raised for one of its protected areas, one per threat and area, with its history."""

    alert_id: str
    partner: Partner
    area: AreaRef
    reason: AlertReason
    launch_id: str
    track_id: str
    level_changes: Count
    truth_id: str | None = None  # evaluation (filled in by the run)
    history: list[AlertChange]


class AlertsFile(Record):
    """``alerts.json``: every alert, sorted by issue time then alert_id."""

    alerts: list[AlertRecord]


# ----------------------------------------------------------------- metrics.json
class OverTime(Record):
    """One update of a partner's event judged against the truth."""

    after_first_detection_s: Seconds | None
    impact_error_km: Km | None
    launch_point_error_km: Km | None
    apogee_error_km: float | None
    range_error_km: float | None
    class_correct: bool
    inside_ellipse_95: bool
    inside_launch_ellipse_95: bool


class PartnerLaunchFigures(Record, omit_defaults=True):
    """A partner's figures for one launch: from its final event; or, with no event of its own
    (``detected`` false, or true with ``grouped_with``), where its tracks of the launch went."""

    detected: bool = True
    first_detection_s: Seconds | None = None
    first_warning_s: Seconds | None = None
    first_warning_after_detection_s: Seconds | None = None
    impact_error_km: Km | None = None
    apogee_error_km: float | None = None
    range_error_km: float | None = None
    launch_point_error_km: Km | None = None
    launch_time_error_s: Seconds | None = None
    class_correct: bool | None = None
    lofted: bool | None = None
    number_of_objects: Count | None = None
    true_number_of_objects: Count | None = None
    reported_object: str | None = None
    inside_ellipse_95: bool | None = None
    inside_launch_ellipse_95: bool | None = None
    over_time: list[OverTime] = []
    grouped_with: str | None = None
    event_id: str | None = None
    why: list[str] = []

    @property
    def has_event(self) -> bool:
        """The partner has an event of its own for this launch (the figures are filled)."""
        return self.first_detection_s is not None


class WarningFigures(Record):
    """One alert of a launch: when it was issued after launch and its lead over the true event."""

    alert_id: str
    partner: Partner
    area: str
    reason: AlertReason
    issued_after_launch_s: Seconds | None
    true_event_after_launch_s: Seconds | None
    lead_s: Seconds | None
    changes: Count
    statuses: list[AlertStatus]


class ThreatenedArea(Record):
    """An area the true flight of the warhead-bearing body threatened, and how it was warned."""

    partner: Partner
    area: str
    reason: AlertReason
    warned: bool
    first_warning_after_launch_s: Seconds | None
    lead_s: Seconds | None
    alerts: list[str]
    changes_per_alert: list[Count]
    level_changes_per_alert: list[Count]


class LaunchFigures(Record):
    """One true launch judged: per partner, its alerts and the areas it threatened."""

    truth_id: str
    missile_class: MissileClass = msgspec.field(name="class")
    per_partner: dict[str, PartnerLaunchFigures]
    warnings: list[WarningFigures]
    alert_changes: Count
    threatened_areas: list[ThreatenedArea]


class Coverage(Record):
    """How many reports state a region, and the share whose region held the truth (None if none)."""

    reports: Count
    inside: Share | None


class AlertFigures(Record):
    """The alerts of the run judged against the truth (docs/run-folder.md, ``alerts``)."""

    issued: Count
    false: Count
    missed: Count
    near_misses: list[tuple[str | None, str, str, float | None]]  # [truth_id, partner, area, km]
    threatened: list[tuple[str, str, str, str]]  # [truth_id, partner, area, reason]
    most_alerts_per_threat_and_area: Count
    most_alerts_per_threatened_area: Count
    most_changes_per_alert: Count
    most_level_changes_per_alert: Count


class Latency(Record):
    """Sealing to verified delivery [ms] (None with no envelope)."""

    p50: float | None
    p99: float | None
    max: float | None


class TransportFigures(Record):
    """What a NATS node's transport did (``mwx run --bus nats`` only)."""

    published: Count
    publish_retries: Count
    resend_requests: Count
    resent: Count
    lost_by_link_injects: Count
    gaps_repaired: Count
    duplicates_dropped: Count
    redelivered: Count
    latency_ms: Latency


class ExchangeFigures(Record, omit_defaults=True):
    """Per endpoint: envelopes sealed and sent, accepted, refused by reason, bytes."""

    sent: Count
    received: Count
    rejected: dict[str, Count]
    rejected_total: Count
    bytes_sent: Count
    bytes_received: Count
    rejections_journalled: Count
    withheld: Count
    gaps_open: Count | None = None
    transport: TransportFigures | None = None


class TrackingFigures(Record):
    """A partner's published tracks against every truth object (SIAP, GOSPA, NEES)."""

    completeness: Share | None
    ambiguity: float | None
    spuriousness: Share | None
    position_accuracy_m: float | None
    max_track_number_changes: Count
    gospa_rms_m: float | None
    nees_median: float | None
    region_95_coverage: Share | None


class FusionPartner(Record):
    """Like for like: a partner's position error and the fused one at the same reports [m]."""

    reports: Count
    partner_rmse_m: float | None
    fused_rmse_m: float | None


class FusionFigures(Record, omit_defaults=True):
    """The fusion gain (empty when no object was held by two partners)."""

    per_partner: dict[str, FusionPartner] = {}
    fused_nees_median: float | None = None
    fused_region_95_coverage: Share | None = None


class RunFigures(Record):
    """The run itself: wall time, sizes, what link injects did."""

    wall_time_s: float | None
    measurements: Count
    track_reports: Count
    bus_bytes: Count
    lost_by_link_injects: Count
    held_by_link_injects: Count


class MetricsFile(Record):
    """``metrics.json``: the run judged against the truth."""

    launches: list[LaunchFigures]
    ellipse_95_coverage: Coverage
    launch_ellipse_95_coverage: Coverage
    alerts: AlertFigures
    tracking: dict[str, TrackingFigures]
    fusion: FusionFigures
    exchange: dict[str, ExchangeFigures]
    run: RunFigures


# ----------------------------------------------------------------- manifest.json
class Manifest(Record):
    """``manifest.json``: what made the run folder and what it holds (no wall-clock time: runs repeat)."""

    mwx_version: str
    scenario: str
    seed: int
    theater: str
    bus: Literal["embedded", "nats"]
    participants: list[Partner]
    start: UtcTime  # first launch
    end: UtcTime  # last impact
    files: list[str]


# ----------------------------------------------------------------- CSV rows
#: ``tracks.csv`` columns, units in the names.
TRACKS_COLUMNS = (
    "time_utc", "time_unix_s", "partner", "track_id", "lat_deg", "lon_deg", "alt_m",
    "x_m", "y_m", "z_m", "vx_mps", "vy_mps", "vz_mps",
    "var_x_m2", "var_y_m2", "var_z_m2", "var_vx_m2ps2", "var_vy_m2ps2", "var_vz_m2ps2",
)  # fmt: skip


class TrackState(Record):
    """One published track state (a row of ``tracks.csv``): ECEF state and the covariance's diagonal."""

    time_utc: UtcTime
    time_unix_s: float
    partner: Partner
    track_id: str
    lat_deg: Lat
    lon_deg: Lon
    alt_m: float
    x_m: float
    y_m: float
    z_m: float
    vx_mps: float
    vy_mps: float
    vz_mps: float
    var_x_m2: float
    var_y_m2: float
    var_z_m2: float
    var_vx_m2ps2: float
    var_vy_m2ps2: float
    var_vz_m2ps2: float


#: ``measurements.csv`` columns, units in the names.
MEASUREMENT_COLUMNS = (
    "sensor", "partner", "kind", "object", "time_taken", "time_received",
    "range_m", "azimuth_rad", "elevation_rad", "range_rate_mps", "alpha_rad", "beta_rad",
    "sigma_range_m", "sigma_azimuth_rad", "sigma_elevation_rad", "sigma_range_rate_mps", "sigma_angle_rad",
    "snr_db", "false_alarm",
)  # fmt: skip


class Measurement(Record):
    """One sensor report (a row of ``measurements.csv``); a value the sensor does not measure is None (empty).

    ``object``: the truth object it is of (None, an empty cell, for a false alarm; evaluation only); times
    Unix s (taken, and received = taken + the scan's latency); radar: slant range, azimuth, elevation, range
    rate and their stated standard deviations; infrared: the two line-of-sight angles in the satellite's
    nadir frame and their standard deviation.
    """

    sensor: str
    partner: Partner
    kind: Literal["radar", "infrared"]
    object: str | None
    time_taken: float
    time_received: float
    range_m: float | None
    azimuth_rad: float | None
    elevation_rad: float | None
    range_rate_mps: float | None
    alpha_rad: float | None
    beta_rad: float | None
    sigma_range_m: float | None
    sigma_azimuth_rad: float | None
    sigma_elevation_rad: float | None
    sigma_range_rate_mps: float | None
    sigma_angle_rad: float | None
    snr_db: float | None
    false_alarm: bool


# ----------------------------------------------------------------- codec
#: The run-folder JSON files and their record types.
RUN_FILES: dict[str, type[Record]] = {
    "truth.json": TruthFile,
    "events.json": EventsFile,
    "alerts.json": AlertsFile,
    "metrics.json": MetricsFile,
    "manifest.json": Manifest,
}

R = TypeVar("R", bound=Record)


def _enc_hook(obj: object) -> object:
    """NumPy scalars (``numpy.float64``, ``numpy.int64``, ``numpy.bool_``) as the Python numbers they hold."""
    if isinstance(obj, np.generic):
        return obj.item()
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


_ENCODER = msgspec.json.Encoder(decimal_format="number", enc_hook=_enc_hook)


def rounded(value: float | None, digits: int = 3) -> float | None:
    """``value`` to the run folder's precision (``digits`` decimals); None for None, NaN or an infinity."""
    return None if value is None or not math.isfinite(value) else round(float(value), digits)


def point(lat: float, lon: float) -> Point:
    """A point to the run folder's precision (1e-5 degrees, about 1 m), its longitude in [-180, 180)."""
    return Point(lat=round(lat, 5), lon=round(wrap_lon(lon), 5))


def utc(t: float) -> datetime:
    """A Unix time [s] as a UTC datetime, to the millisecond (the precision of the run folder)."""
    return datetime.fromtimestamp(round(t, 3), UTC)


def utc_or_none(t: float | None) -> datetime | None:
    """:func:`utc` of a time that may be unknown: None for None, NaN or an infinity (JSON ``null``)."""
    return None if t is None or not math.isfinite(t) else utc(t)


def unix(t: datetime) -> float:
    """A UTC datetime as Unix seconds."""
    return t.timestamp()


def encode(record: Record) -> bytes:
    """JSON bytes of a record, indented for people (one trailing newline)."""
    return msgspec.json.format(_ENCODER.encode(record), indent=1) + b"\n"


def decode(data: bytes | str, type: type[R], *, source: str = "input") -> R:
    """A record of ``type`` from JSON; :class:`~mwx.errors.RecordError` (one line) if it is not one.

    The error names ``source`` (the file) and says what is wrong where: ``Expected `float`, got `str` - at
    `$.events[0].launch_point.lat```, ``Object missing required field `apogee_km` - at `$.events[3]```.
    """
    try:
        return msgspec.json.decode(data, type=type)
    except msgspec.ValidationError as err:
        raise RecordError(_one_line(str(err)), source=source) from None
    except msgspec.DecodeError as err:
        raise RecordError(f"not valid JSON ({_one_line(str(err))})", source=source) from None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def read(path: Path, type: type[R]) -> R:
    """A run-folder file decoded as ``type``; :class:`~mwx.errors.RecordError` if missing or malformed."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RecordError("missing (not a run folder?)", source=str(path)) from None
    except OSError as err:
        raise RecordError(f"cannot read ({err.strerror or err})", source=str(path)) from None
    return decode(data, type, source=str(path))


def write(path: Path, record: Record) -> None:
    """Write a record as JSON (whole file replaced)."""
    path.write_bytes(encode(record))


def csv_row(row: dict[str, str], type: type[R], *, source: str = "input") -> R:
    """A record of ``type`` from one CSV row (column name → text; an empty cell is None); a
    :class:`~mwx.errors.RecordError` naming ``source`` and the column if it is not one."""
    try:
        return msgspec.convert({k: (v if v != "" else None) for k, v in row.items()}, type, strict=False)
    except msgspec.ValidationError as err:
        raise RecordError(_one_line(str(err)), source=source) from None


def read_csv(path: Path, type: type[R]) -> list[R]:
    """Every row of a run-folder CSV file (``tracks.csv``: :class:`TrackState`, ``measurements.csv``:
    :class:`Measurement`) as records; :class:`~mwx.errors.RecordError` (``file: row n: ...``) if one is not."""
    import csv

    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            header = tuple(reader.fieldnames or ())
    except FileNotFoundError:
        raise RecordError("missing (not a run folder?)", source=str(path)) from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise RecordError(f"cannot read ({_one_line(str(err))})", source=str(path)) from None
    columns = tuple(f.encode_name for f in msgspec.structs.fields(type))
    if header != columns:  # e.g. a run folder written before the columns had their units
        raise RecordError(f"columns {','.join(header)!r} are not those of {type.__name__} ({','.join(columns)})",
                          source=str(path))  # fmt: skip
    # Row n counts the header as row 1, as a spreadsheet shows the file.
    return [csv_row(row, type, source=f"{path}: row {n}") for n, row in enumerate(rows, start=2)]


def json_schema(type: type[Record]) -> dict:
    """The JSON Schema (draft 2020-12) of a run-folder file's record type."""
    schema = msgspec.json.schema(type)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
