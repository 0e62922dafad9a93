"""Messages partners exchange, as typed structs validated at the wire.

Six kinds, each a frozen msgspec Struct whose ``type`` tag names it on the wire
(MessagePack maps, fields by name, fields equal to their default left out):

* ``track`` — :class:`TrackReport`: one partner's track state, ECEF [m, m/s] with its 6×6
  covariance, optionally its quality, phase and assessed launch and impact;
* ``event`` — :class:`LaunchEventReport`: a partner's launch event report (docs/run-folder.md);
* ``alert`` — :class:`Alert`: one step of an alert's lifecycle for a protected area;
* ``heartbeat`` — :class:`Heartbeat`: alive, with the period to expect the next one;
* ``ack`` — :class:`Ack`: an envelope received and verified, by whom, when;
* ``note`` — :class:`OperatorNote`: a partner's assessment text on a shared event (consultation).

Every kind has ``sender`` (the partner that made it) and ``time`` (Unix s, UTC: the
measurement time it refers to; the envelope carries it as its ``time``).  Units follow
the run folder where a field has a name there: degrees for ``lat``/``lon``/``*_deg``,
km for ``*_km``, seconds for ``*_s`` and Unix s for times; track states are SI (m, m/s).

Two levels of checking:

* the **schema** (msgspec, at decode): types, required fields, no unknown fields, string
  lengths and patterns, numeric ranges (which also reject NaN and ±inf);
* the **content** (:func:`validate`): times plausible (2000-01-01 .. 2100-01-01), the
  covariance symmetric and positive semi-definite, ids printable, ellipse axes ordered.

:func:`decode_message` does both and raises :class:`~mwx.errors.MessageError` with a
machine-readable ``reason``.  :func:`encode` / :func:`decode` are the skeleton's
TrackReport codec, kept for the in-process bus: :func:`decode` checks the schema only and
raises msgspec's ``ValidationError`` / ``DecodeError``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Literal, cast, get_args

import msgspec

from mwx import records
from mwx.errors import MessageError

SCHEMA_VERSION = 1  # carried by every envelope; bump when a kind's meaning or layout changes

EARLIEST = 946_684_800.0  # 2000-01-01T00:00:00Z, Unix s: earliest plausible time on the wire
LATEST = 4_102_444_800.0  # 2100-01-01T00:00:00Z, Unix s: latest plausible time on the wire
SYMMETRY_RTOL = 1e-6  # |P_ij − P_ji| ≤ rtol·√(P_ii P_jj)
PSD_TOL = 1e-8  # smallest eigenvalue of the correlation matrix ≥ −tol·trace
#: What a ballistic missile's track can be (WGS-84 semi-axes 6 378 137 / 6 356 752 m): its geocentric
#: distance from 10 km under the poles' sea level to 10 000 km up (the highest lofted flights reach
#: about 7 700 km), its speed over the ground under 9 km/s (sub-orbital: under 7.9 km/s inertial, and the
#: Earth's turning adds at most 0.47 km/s).
RADIUS_RANGE_M = (6_346_752.0, 16_378_137.0)
MAX_SPEED_MPS = 9_000.0
#: What a track's covariance can be: per axis, the standard deviation left once the axes before it are
#: known (the Cholesky pivots, so a near-singular matrix counts as small) no less than the floor, and each
#: variance no more than the ceiling.  Published tracks of the assessment set (six seeds, every partner
#: and the fused picture) span 1.4 m to 32 km and 0.002 m/s to 1.9 km/s; a covariance of 0 or 10⁻²⁰ would
#: claim a certainty no sensor gives and make any alert area a point.
POSITION_SIGMA_M = (0.1, 300e3)
VELOCITY_SIGMA_MPS = (1e-4, 10e3)
MAX_NOTE_CHARS = 2000
MAX_LIST = 64  # track ids of an event
MAX_PARTNERS = 16  # partner lists of an event
MAX_RESEND = 1000  # sequence numbers one resend request may name

# ----------------------------------------------------------------- field types
_Finite = Annotated[float, msgspec.Meta(ge=-1e12, le=1e12)]
_WideTime = Annotated[float, msgspec.Meta(ge=0.0, le=1e10)]  # TrackReport's skeleton range; validate() narrows it
Partner = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2,8}\Z", description="partner code, e.g. KR")]
Id = Annotated[str, msgspec.Meta(pattern=r"^[!-~]{1,64}\Z", description="identifier: 1-64 printable ASCII, no space")]
MsgId = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Za-z]{2,8}-[0-9]{1,19}\Z", description="envelope message id: SENDER-SEQ")
]
UnixTime = Annotated[float, msgspec.Meta(ge=EARLIEST, le=LATEST, description="Unix s, UTC")]
Sigma_s = Annotated[float, msgspec.Meta(ge=0.0, le=1e6, description="1σ, s")]
Km = Annotated[float, msgspec.Meta(ge=0.0, le=1e5, description="km")]
Probability = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Seq = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
Held = Annotated[dict[Partner, Seq], msgspec.Meta(max_length=MAX_PARTNERS, description="per participant: a seq")]
# Free text a person reads: no control characters but tab and newline, no bidirectional
# overrides (text that displays differently from what it says).
_TEXT = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*\Z"
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=_TEXT)]
NoteText = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NOTE_CHARS, pattern=_TEXT)]


AreaKind = Literal["territory", "eez"]


class _Struct(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """Common config: immutable, strict on unknown fields, ``None`` defaults not sent.

    msgspec passes ``frozen`` on to subclasses, but type checkers follow PEP 681 (a subclass that does
    not say ``frozen=True`` is taken as mutable), so every subclass says it again.
    """


class GeoPoint(_Struct, frozen=True):
    """A WGS-84 geodetic point on the ellipsoid, degrees."""

    lat: Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)]
    lon: Annotated[float, msgspec.Meta(ge=-180.0, le=180.0)]


class Ellipse(_Struct, frozen=True):
    """A 95 % impact ellipse: semi-axes in km, major axis azimuth in degrees from north."""

    semi_major_km: Km
    semi_minor_km: Km
    orientation_deg: Annotated[float, msgspec.Meta(ge=-360.0, le=360.0)]


class Area(_Struct, frozen=True):
    """A partner's protected area: its territory or its EEZ (approximation)."""

    partner: Partner
    kind: AreaKind
    name: Name


# ----------------------------------------------------------------- kinds
class TrackReport(_Struct, tag="track", frozen=True):
    """One partner's track state: ECEF [m, m/s] with its 6×6 covariance (row-major, m², m²/s, m²/s²).

    ``seq`` and ``sent`` are the skeleton's own counters (the envelope's are authoritative).
    ``independent_covariance`` (same layout) is the part of ``covariance`` that the sender's own
    errors make — its sensors' noise and what is still unknown of their registration
    (:class:`mwx.track.tracker.Modes`) — and so is independent of every other partner's errors, which
    a fusing partner may use; absent means not known (all of it may be correlated).
    The optional fields are the sender's assessment of the object: ``quality`` (0–1, its
    confidence the track is a real object), ``phase`` of flight, and the launch and impact
    it predicts (names and units as in events.json).
    """

    sender: Partner
    seq: Annotated[int, msgspec.Meta(ge=0)]
    track_id: Annotated[str, msgspec.Meta(max_length=64)]
    time: _WideTime  # measurement time, Unix s
    sent: _WideTime  # send time, Unix s
    state: Annotated[list[_Finite], msgspec.Meta(min_length=6, max_length=6)]
    covariance: Annotated[list[_Finite], msgspec.Meta(min_length=36, max_length=36)]
    first_detection: _WideTime  # Unix s
    boosting: bool = False  # the sender judges the object under thrust (its energy rises)
    independent_covariance: Annotated[list[_Finite], msgspec.Meta(min_length=36, max_length=36)] | None = None
    quality: Probability | None = None
    phase: Literal["boost", "coast", "reentry"] | None = None
    launch_time: UnixTime | None = None
    launch_time_sigma_s: Sigma_s | None = None
    launch_point: GeoPoint | None = None
    launch_point_sigma_km: Km | None = None  # 1σ, worse axis
    impact_time: UnixTime | None = None
    impact_time_sigma_s: Sigma_s | None = None
    impact_point: GeoPoint | None = None
    impact_ellipse_95: Ellipse | None = None

    def __post_init__(self) -> None:
        if (
            any(math.isnan(v) for v in self.state)
            or any(math.isnan(v) for v in self.covariance)
            or any(math.isnan(v) for v in self.independent_covariance or ())
        ):
            raise ValueError("NaN in a track report")


class LaunchEventReport(_Struct, tag="event", frozen=True):
    """A partner's launch event report: the wire form of one events.json entry (same names and units).

    ``time`` is the measurement time of the track state the report is made from (events.json
    ``estimated_at``).  Everything the assessment may not have yet is optional.
    """

    sender: Partner
    event_id: Id
    time: UnixTime
    first_detection: UnixTime
    final: bool = False
    track_ids: Annotated[list[Id], msgspec.Meta(max_length=MAX_LIST)] = []
    launch_time: UnixTime | None = None
    launch_time_sigma_s: Sigma_s | None = None
    launch_point: GeoPoint | None = None
    launch_point_sigma_km: Km | None = None  # 1σ, worse axis
    launch_ellipse_95: Ellipse | None = None
    launch_method: Literal["boost", "coast"] | None = None
    apogee_km: Km | None = None
    range_km: Km | None = None
    flight_time_s: Annotated[float, msgspec.Meta(ge=0.0, le=1e5)] | None = None
    max_speed_mps: Annotated[float, msgspec.Meta(ge=0.0, le=1e5)] | None = None
    impact_time: UnixTime | None = None
    impact_time_sigma_s: Sigma_s | None = None
    impact_point: GeoPoint | None = None
    impact_ellipse_95: Ellipse | None = None
    missile_class: Literal["SRBM", "MRBM", "IRBM", "ICBM"] | None = msgspec.field(default=None, name="class")
    lofted: bool | None = None
    equivalent_range_km: Km | None = None
    stage_probability: Probability | None = None
    over_territory_of: Annotated[list[Partner], msgspec.Meta(max_length=MAX_PARTNERS)] = []
    inside_eez_of: Annotated[list[Partner], msgspec.Meta(max_length=MAX_PARTNERS)] = []
    number_of_objects: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 1

    @classmethod
    def of(cls, event: records.LaunchEvent) -> LaunchEventReport:
        """The exchange form of a run's launch event record (:class:`mwx.records.LaunchEvent`): the same fields
        under the same names, times as Unix seconds, the report's ``time`` its ``estimated_at``; what only the
        evaluation knows (truth ids) and what the partner works out itself (impact areas, overflights, updates)
        stays home."""

        def point(p: records.Point) -> GeoPoint:
            return GeoPoint(lat=p.lat, lon=p.lon)

        def ellipse(e: records.Ellipse95) -> Ellipse:
            return Ellipse(
                semi_major_km=e.semi_major_km, semi_minor_km=e.semi_minor_km, orientation_deg=e.orientation_deg
            )

        return cls(
            sender=event.partner,
            event_id=event.event_id,
            time=records.unix(event.estimated_at),
            first_detection=records.unix(event.first_detection),
            final=event.final,
            track_ids=list(event.track_ids),
            launch_time=records.unix(event.launch_time),
            launch_time_sigma_s=event.launch_time_sigma_s,
            launch_point=point(event.launch_point),
            launch_point_sigma_km=event.launch_point_sigma_km,
            launch_ellipse_95=ellipse(event.launch_ellipse_95),
            launch_method=event.launch_method,
            apogee_km=event.apogee_km,
            range_km=event.range_km,
            flight_time_s=event.flight_time_s,
            max_speed_mps=event.max_speed_mps,
            impact_time=records.unix(event.impact_time),
            impact_time_sigma_s=event.impact_time_sigma_s,
            impact_point=point(event.impact_point),
            impact_ellipse_95=ellipse(event.impact_ellipse_95),
            missile_class=event.missile_class,
            lofted=event.lofted,
            equivalent_range_km=event.equivalent_range_km,
            stage_probability=event.stage_probability,
            over_territory_of=list(event.over_territory_of),
            inside_eez_of=list(event.inside_eez_of),
            number_of_objects=event.number_of_objects,
        )


#: Why an alert changed (see :mod:`mwx.warn.alerts`); ``restart``: a restarted sender bringing the alert in
#: line with its rebuilt picture (:meth:`mwx.warn.alerts.AlertManager.resume`); ``failed``: its launch was
#: recognised as failed and nothing left of it threatens the area (:meth:`mwx.warn.alerts.AlertManager.fail`).
AlertWhy = Literal["level", "reason", "area", "time", "regained", "lost", "merged", "restart", "failed"]


class Alert(_Struct, tag="alert", frozen=True):
    """One step of an alert's lifecycle, raised by ``sender`` for one of its protected areas.

    ``time`` is when the status changed (Unix s); ``crossing_time`` when the object is
    predicted to enter the area's airspace (overflight); ``probability`` that it falls in
    the area (impact), when known.  One alert is for one threat (``launch_id``: the sender's
    launch event, all its objects) and one area; ``why`` says what made the change.
    """

    sender: Partner
    alert_id: Id
    time: UnixTime
    status: Literal["issued", "updated", "cancelled", "ended", "track-lost"]
    area: Area
    reason: Literal["overflight", "impact"]
    track_id: Id
    impact_point: GeoPoint | None = None
    impact_time: UnixTime | None = None
    crossing_time: UnixTime | None = None
    probability: Probability | None = None
    change: Annotated[int, msgspec.Meta(ge=1, le=100_000)] | None = None  # the step's number in the alert's life
    level: Literal["warning", "advisory"] | None = None
    launch_id: Id | None = None  # the threat: the sender's launch event the alert is for
    why: Annotated[list[AlertWhy], msgspec.Meta(max_length=8)] = []  # what made this change


class Heartbeat(_Struct, tag="heartbeat", frozen=True):
    """The sender is alive at ``time``; expect the next heartbeat within ``interval_s``.

    Heartbeats travel in the sender's sequence like every other message, so a receiver that sees
    one knows the sender's latest sequence number and can ask for any gap below it (:class:`Resend`).
    ``final``: the sender will send nothing new after this (only repairs and acknowledgements).
    ``held``: per other participant, the highest of its sequence numbers the sender holds (accepted):
    a restarted node whose journal's outbox ends below what a peer holds from it lost part of its
    journal and must not number on (it would reuse numbers the peer holds).
    """

    sender: Partner
    time: UnixTime
    interval_s: Annotated[float, msgspec.Meta(gt=0.0, le=3600.0)] = 1.0
    final: bool = False
    held: Held | None = None


class Ack(_Struct, tag="ack", frozen=True):
    """``sender`` received and verified the envelope ``msg_id`` at ``time``."""

    sender: Partner
    time: UnixTime
    msg_id: MsgId


class Resend(_Struct, tag="resend", frozen=True):
    """``sender`` asks ``of`` to send again the envelopes ``seqs`` of its stream to ``sender`` (gap repair)."""

    sender: Partner
    time: UnixTime
    of: Partner
    seqs: Annotated[list[Annotated[int, msgspec.Meta(ge=0)]], msgspec.Meta(min_length=1, max_length=MAX_RESEND)]


#: What a consultation message does: ask the others for their assessment (``request``), give one (``share``),
#: agree or disagree with one, with reasons (``concur``, ``dissent``), say something (``text``), record what the
#: partners decided (``decision``), confirm or dispute that a launch happened (``confirm``, ``dispute``), or tell
#: the partners the sender issued a public warning (``warning``).
ConsultAct = Literal["request", "share", "concur", "dissent", "text", "decision", "confirm", "dispute", "warning"]


class OperatorNote(_Struct, tag="note", frozen=True):
    """A partner's message on the consultation channel, about a shared launch event or a consultation.

    ``event_id`` names what it is about: a launch event or the consultation's topic.  ``act`` says what the
    message does (:data:`ConsultAct`); ``to`` whom it is addressed (empty: every partner: the channel is
    trilateral, and every partner receives every message).  ``text`` is plain text, 1–2000 characters, no
    control characters but tab and newline.  ``in_reply_to`` names the envelope of the note it answers, if any.
    """

    sender: Partner
    time: UnixTime
    event_id: Id
    text: NoteText
    in_reply_to: MsgId | None = None
    act: ConsultAct = "text"
    to: Annotated[list[Partner], msgspec.Meta(max_length=MAX_PARTNERS)] = []


Message = TrackReport | LaunchEventReport | Alert | Heartbeat | Ack | Resend | OperatorNote
KINDS: dict[str, type[Message]] = {
    cast(str, cls.__struct_config__.tag): cls  # msgspec types a tag as str | int | None; these are all str
    for cls in (TrackReport, LaunchEventReport, Alert, Heartbeat, Ack, Resend, OperatorNote)
}
Kind = Literal["track", "event", "alert", "heartbeat", "ack", "resend", "note"]
#: The exchange's own control messages: a release policy never withholds them (no gap could be repaired).
CONTROL_KINDS = frozenset({"heartbeat", "ack", "resend"})
assert set(KINDS) == set(get_args(Kind))


def kind_of(message: Message) -> Kind:
    """The wire tag of a message's kind (``"track"``, ``"event"``, ...)."""
    # msgspec types a tag as str | int | None; every kind of Message is declared with one of Kind's.
    return cast(Kind, type(message).__struct_config__.tag)


# ----------------------------------------------------------------- codec
_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(TrackReport)
_any_decoder = msgspec.msgpack.Decoder(Message)
_kind_decoders = {tag: msgspec.msgpack.Decoder(cls) for tag, cls in KINDS.items()}


def encode(message: Message) -> bytes:
    """MessagePack bytes of a message (any kind)."""
    return _encoder.encode(message)


def decode(data: bytes) -> TrackReport:
    """A TrackReport from MessagePack bytes, schema checked only.

    :class:`msgspec.ValidationError` or DecodeError if invalid (the skeleton bus's codec;
    use :func:`decode_message` for the content checks).
    """
    return _decoder.decode(data)


def decode_message(data: bytes, kind: str | None = None) -> Message:
    """A message of any kind (or of ``kind`` only) from MessagePack bytes, schema and content checked.

    Raises :class:`~mwx.errors.MessageError`: reason ``"schema"`` for bytes that are not a
    message of the schema (or not of ``kind``), else the reason :func:`validate` gives.
    """
    decoder = _any_decoder if kind is None else _kind_decoders.get(kind)
    if decoder is None:
        raise MessageError("schema", f"unknown kind {kind!r}")
    try:
        message = decoder.decode(data)
    # ValidationError is a DecodeError; msgspec raises UnicodeDecodeError for a str that is not
    # UTF-8, and RecursionError for deeply nested input (even where it only skips it).
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as err:
        raise MessageError("schema", str(err)[:200]) from None
    validate(message)
    return message


# ----------------------------------------------------------------- content
def _times(where: str, *values: tuple[str, float | None]) -> None:
    for name, t in values:
        if t is not None and not (EARLIEST <= t <= LATEST):
            raise MessageError("time-implausible", f"{where}.{name} = {t!r} is not between 2000 and 2100")


def _ellipse(where: str, ellipse: Ellipse | None) -> None:
    if ellipse is not None and ellipse.semi_minor_km > ellipse.semi_major_km:
        raise MessageError("ellipse", f"{where}: semi_minor_km > semi_major_km")


def check_covariance(values: Sequence[float], n: int = 6) -> None:
    """Raise MessageError unless ``values`` (n×n row-major) are a symmetric positive semi-definite matrix.

    Symmetric: |P_ij − P_ji| ≤ 1e-6·√(P_ii P_jj).  PSD: the diagonal ≥ 0 and the smallest
    eigenvalue of the correlation matrix C = D^-½ P D^-½ ≥ −1e-8·trace C.  Scaling by the
    standard deviations keeps the signs of the eigenvalues (Sylvester) and makes the tolerance
    independent of units: position variances of 1e8 m² and velocity ones of 1 m²/s² in one
    matrix would otherwise hide a negative velocity eigenvalue in round-off.  The eigenvalue
    test is done as a Cholesky factorisation of C + tol·trace·I, which exists exactly when the
    smallest eigenvalue of C exceeds −tol·trace; in plain Python, because numpy's per-call
    overhead on a 6×6 matrix makes it three times slower (60 µs against 18 µs here).
    """
    if len(values) != n * n:
        raise MessageError("schema", f"covariance has {len(values)} values, expected {n * n}")
    isfinite, sqrt = math.isfinite, math.sqrt
    for v in values:
        if not isfinite(v):
            raise MessageError("not-finite", "covariance has NaN or inf")
    diag = values[:: n + 1]
    if min(diag) < 0.0:
        raise MessageError("covariance-not-psd", "negative variance")
    sd = [sqrt(v) for v in diag]
    inv_sd = [1.0 / s if s > 0.0 else 1.0 for s in sd]
    shift = PSD_TOL * max(sum(1 for s in sd if s > 0.0), 1)  # trace of C: 1 per non-zero variance
    chol: list[list[float]] = []  # rows of the lower Cholesky factor of C + shift·I
    for i in range(n):
        row: list[float] = []
        for j in range(i):
            a, b = values[i * n + j], values[j * n + i]
            if abs(a - b) > SYMMETRY_RTOL * sd[i] * sd[j]:
                raise MessageError("covariance-not-symmetric", f"covariance[{i}][{j}] != covariance[{j}][{i}]")
            c_ij = 0.5 * (a + b) * inv_sd[i] * inv_sd[j]
            row_j = chol[j]
            for k in range(j):
                c_ij -= row[k] * row_j[k]
            row.append(c_ij / row_j[j])
        pivot = diag[i] * inv_sd[i] * inv_sd[i] + shift
        for x in row:
            pivot -= x * x
        if not pivot > 0.0:
            raise MessageError("covariance-not-psd", "covariance has a negative eigenvalue")
        row.append(sqrt(pivot))
        chol.append(row)


def check_state(state: Sequence[float], covariance: Sequence[float]) -> None:
    """Raise MessageError unless an ECEF state [m, m/s] and its covariance (6×6 row-major, PSD) are a
    missile's: position and speed within :data:`RADIUS_RANGE_M` and :data:`MAX_SPEED_MPS` (reason
    ``"state-implausible"``), the covariance's position and velocity blocks within
    :data:`POSITION_SIGMA_M` and :data:`VELOCITY_SIGMA_MPS` (``"covariance-floor"``,
    ``"covariance-ceiling"``).  Plain Python: a few µs, on every track report received.
    """
    radius = math.sqrt(state[0] ** 2 + state[1] ** 2 + state[2] ** 2)
    if not RADIUS_RANGE_M[0] <= radius <= RADIUS_RANGE_M[1]:
        raise MessageError("state-implausible", f"{radius / 1e3:.0f} km from the Earth's centre")
    speed = math.sqrt(state[3] ** 2 + state[4] ** 2 + state[5] ** 2)
    if not speed <= MAX_SPEED_MPS:
        raise MessageError("state-implausible", f"speed {speed:.0f} m/s")
    for first, (floor, ceiling), unit in ((0, POSITION_SIGMA_M, "m"), (3, VELOCITY_SIGMA_MPS, "m/s")):
        block = [[covariance[(first + i) * 6 + first + j] for j in range(3)] for i in range(3)]
        if max(block[i][i] for i in range(3)) > ceiling * ceiling:
            raise MessageError("covariance-ceiling", f"a {unit} variance above ({ceiling:g} {unit})²")
        # Cholesky pivots of the block: each axis's variance given the ones before it.
        low: list[list[float]] = []
        for i in range(3):
            row: list[float] = []
            for j in range(i):
                row.append((block[i][j] - sum(row[k] * low[j][k] for k in range(j))) / low[j][j])
            pivot = block[i][i] - sum(x * x for x in row)
            if not pivot >= floor * floor:
                raise MessageError("covariance-floor", f"a {unit} standard deviation under {floor:g} {unit}")
            row.append(math.sqrt(pivot))
            low.append(row)


def validate(message: Message) -> None:
    """Raise :class:`~mwx.errors.MessageError` unless the message's content is plausible.

    Beyond the schema: every time between 2000-01-01 and 2100-01-01; a track's covariance
    symmetric PSD (:func:`check_covariance`), its registration part too and no larger than it,
    its state and covariance a missile's (:func:`check_state`), and its id printable; ellipse
    semi-minor ≤ semi-major.  Reasons: ``"time-implausible"``, ``"not-finite"``,
    ``"covariance-not-symmetric"``, ``"covariance-not-psd"``, ``"state-implausible"``,
    ``"covariance-floor"``, ``"covariance-ceiling"``, ``"id"``, ``"ellipse"``.
    """
    kind = kind_of(message)
    _times(kind, ("time", message.time))
    if isinstance(message, TrackReport):
        if not all(math.isfinite(v) for v in message.state):
            raise MessageError("not-finite", "state has NaN or inf")
        if not message.track_id or not all("!" <= c <= "~" for c in message.track_id):
            raise MessageError("id", "track_id is not 1-64 printable ASCII characters")
        _times(
            kind,
            ("sent", message.sent),
            ("first_detection", message.first_detection),
            ("launch_time", message.launch_time),
            ("impact_time", message.impact_time),
        )
        check_covariance(message.covariance)
        if message.independent_covariance is not None:
            # A part of the covariance: PSD itself, and what it leaves of the covariance PSD too.
            check_covariance(message.independent_covariance)
            rest = [a - b for a, b in zip(message.covariance, message.independent_covariance, strict=True)]
            try:
                check_covariance(rest)
            except MessageError as err:
                raise MessageError(err.reason, f"covariance less independent_covariance: {err.detail}") from None
        check_state(message.state, message.covariance)
        _ellipse(kind, message.impact_ellipse_95)
    elif isinstance(message, LaunchEventReport):
        _ellipse(kind, message.impact_ellipse_95)
