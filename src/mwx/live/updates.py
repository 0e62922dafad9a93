"""What a partner's console is told, as typed records: the updates of its live picture and the picture itself.

A node (or a replay of a run folder) turns what happens into :data:`Update` records — a track state, an
alert change, an operator's acknowledgement, a launch event report as it sharpens, the exchange's health,
the clock — appended in order to the partner's :class:`~mwx.live.picture.LivePicture`, which numbers them
(``seq``, from 1) and reduces them to a :class:`Snapshot`: the picture at an instant.  The console page
and the HTTP API (:mod:`mwx.live.app`) carry exactly these structs as JSON (``type`` tags the kind).

Units and frames as in :mod:`mwx.records`: UTC datetimes, geodetic degrees (WGS-84, longitudes in
[-180, 180]), ``*_km`` km, ``*_mps`` m/s, ``*_deg`` degrees.  Every snapshot and every batch of updates
says ``exercise: true``: all mwx data is exercise data.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from mwx import records
from mwx.exchange.messages import ConsultAct
from mwx.records import Lat, Lon, Partner, UtcTime

#: What every console and API answer says of its data: none of it is real-world warning.
EXERCISE_MARKING = "EXERCISE EXERCISE EXERCISE — simulated data, not a real-world warning"

TrackKind = Literal["own", "partner", "system"]


class Live(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Common config of the live records: unknown fields are an error."""


class Outline(Live, kw_only=True):
    """A closed outline on the ground: rings of [lon, lat] degrees (continuous across ±180°)."""

    rings: list[list[tuple[float, float]]]


class SensorInfo(Live, kw_only=True):
    """One sensor of the partner's picture: its site and the outline of the ground it covers (None for a
    space-based infrared sensor, whose view is a hemisphere)."""

    name: str
    partner: Partner
    kind: Literal["radar", "infrared"]
    lat: Lat | None
    lon: Lon | None
    coverage: Outline | None


class AreaInfo(Live, kw_only=True):
    """One of the partner's protected areas (the alerts are for these)."""

    name: str
    partner: Partner
    kind: Literal["territory", "eez"]
    outline: Outline


class Setup(Live, kw_only=True):
    """What does not change during a run: whose picture, the theater's window, sensors and protected areas."""

    partner: Partner
    partners: list[Partner]
    mode: Literal["live", "replay", "exercise"]
    scenario: str
    start: UtcTime
    end: UtcTime
    #: the map's window: [west, south, east, north] degrees (east may exceed 180: continuous longitude)
    bounds: tuple[float, float, float, float]
    sensors: list[SensorInfo]
    areas: list[AreaInfo]
    #: s: a track not updated for this long leaves the picture
    stale_s: float
    exercise: Literal[True] = True
    marking: str = EXERCISE_MARKING


class TrackUpdate(Live, tag="track", kw_only=True):
    """One state of a track in the partner's picture.

    ``kind``: ``own`` (the partner's tracker), ``partner`` (a report received from ``source`` over the
    exchange, after the sender's release policy), ``system`` (the partner's fused system track; ``members``
    its member tracks as ``SENDER/TRACK``).  ``uncertainty``: the 95 % horizontal position ellipse's outline.
    ``impact``: for a system track whose impact the node predicted, the mean point, time and 95 % ellipse.
    ``sigma_h_m`` / ``sigma_v_m``: 1σ horizontal (the major semi-axis of the 1σ ellipse) and vertical position
    errors [m] from the state's covariance, where the producer has it (CoT's ce and le; None: unknown).
    """

    seq: int = 0
    time: UtcTime
    kind: TrackKind
    source: Partner
    track_id: str
    lat: Lat
    lon: Lon
    alt_km: float
    speed_mps: float
    heading_deg: float
    boosting: bool
    uncertainty: Outline | None = None
    members: list[str] = []
    launch_id: str | None = None
    impact: Impact | None = None
    sigma_h_m: float | None = None
    sigma_v_m: float | None = None

    @property
    def key(self) -> str:
        """The track's identity in the picture: kind, source and id (``own/KR/KR-T3``)."""
        return f"{self.kind}/{self.source}/{self.track_id}"


class Impact(Live, kw_only=True):
    """A predicted impact: mean point, time, the 95 % ellipse and its outline."""

    time: UtcTime | None
    point: records.Point
    ellipse_95: records.Ellipse95
    outline: Outline


class AlertUpdate(Live, tag="alert", kw_only=True):
    """One change of an alert: the partner's own (``owner`` = the partner) or a partner's, received.

    ``msg_id``: for a received change, the id of the envelope that carried it, which the operator's
    acknowledgement names (``POST /api/{partner}/ack``); None for the partner's own alerts.
    """

    seq: int = 0
    time: UtcTime
    owner: Partner
    alert_id: str
    area: str
    area_kind: Literal["territory", "eez"] | None = None
    reason: records.AlertReason
    launch_id: str | None = None
    change_number: int | None = None
    change: records.AlertChange
    msg_id: str | None = None


class AckUpdate(Live, tag="ack", kw_only=True):
    """An operator of ``by`` acknowledged change ``change_number`` of ``owner``'s alert ``alert_id``."""

    seq: int = 0
    time: UtcTime
    owner: Partner
    alert_id: str
    change_number: int | None
    by: Partner
    msg_id: str


class LaunchUpdate(Live, tag="launch", kw_only=True):
    """A launch event report of the partner's picture as it stands at ``time`` (it sharpens as tracks grow)."""

    seq: int = 0
    time: UtcTime
    event_id: str
    report: records.EventUpdate


class PeerHealth(Live, kw_only=True):
    """The exchange with one peer: when it was last heard from, whether it counts as connected, and the
    sequence numbers still missing from it (gaps being repaired)."""

    partner: Partner
    last_heard: UtcTime | None
    connected: bool
    gaps: int


class HealthUpdate(Live, tag="health", kw_only=True):
    """The exchange's health at ``time``: peers, envelopes accepted and sent, refusals by reason."""

    seq: int = 0
    time: UtcTime
    peers: list[PeerHealth]
    accepted: int
    sent: int
    refused: dict[str, int]
    withheld: int


class ClockUpdate(Live, tag="clock", kw_only=True):
    """Scenario time ``time`` reached; ``speed`` scenario seconds per wall second; ``state`` of the run."""

    seq: int = 0
    time: UtcTime
    speed: float
    state: Literal["running", "paused", "finished"]


class InjectUpdate(Live, tag="inject", kw_only=True):
    """An exercise's discussion inject reached this cell (a situation update, a question, a media report)."""

    seq: int = 0
    time: UtcTime
    inject_id: str
    kind: Literal["situation", "question", "media"]
    source: str  # who it is from: white (exercise control), media, or a cell
    text: str
    question: bool = False  # an answer is expected (POST /api/{cell}/answer)


class NoteUpdate(Live, tag="note", kw_only=True):
    """A message of the consultation channel this cell sent (``own``) or received over the exchange.

    ``msg_id`` is the envelope it travelled in (what a reply names in ``in_reply_to``); ``topic`` the launch
    event or consultation it is about; ``to`` whom it asks (empty: every partner)."""

    seq: int = 0
    time: UtcTime
    msg_id: str
    sender: Partner
    own: bool
    act: ConsultAct
    topic: str
    text: str
    to: list[Partner] = []
    in_reply_to: str | None = None


class WarningUpdate(Live, tag="warning", kw_only=True):
    """This cell's public warning (CAP, status Exercise): drafted, issued, or ended by an all-clear."""

    seq: int = 0
    time: UtcTime
    warning_id: str
    status: Literal["draft", "issued", "all-clear"]
    area: str
    text: str


class AnswerUpdate(Live, tag="answer", kw_only=True):
    """This cell's answer to an inject's question, as exercise control received it."""

    seq: int = 0
    time: UtcTime
    inject_id: str
    text: str


Update = (
    TrackUpdate
    | AlertUpdate
    | AckUpdate
    | LaunchUpdate
    | HealthUpdate
    | ClockUpdate
    | InjectUpdate
    | NoteUpdate
    | WarningUpdate
    | AnswerUpdate
)


class TrackView(Live, kw_only=True):
    """A track in a snapshot: its latest state and the path it has flown ([lon, lat] degrees, oldest first)."""

    state: TrackUpdate
    trail: list[tuple[float, float]]


class AlertView(Live, kw_only=True):
    """An alert in a snapshot: every change so far and who acknowledged which change."""

    owner: Partner
    alert_id: str
    area: str
    area_kind: Literal["territory", "eez"] | None
    reason: records.AlertReason
    launch_id: str | None
    changes: list[AlertUpdate]
    acks: list[AckUpdate]

    @property
    def status(self) -> records.AlertStatus:
        return self.changes[-1].change.status


class Snapshot(Live, kw_only=True):
    """The partner's picture at ``time``: what the console shows, reduced from updates 1..``seq``."""

    exercise: Literal[True] = True
    marking: str = EXERCISE_MARKING
    partner: Partner
    seq: int
    time: UtcTime | None
    clock: ClockUpdate | None
    setup: Setup
    tracks: list[TrackView]
    alerts: list[AlertView]
    launches: list[LaunchUpdate]
    health: HealthUpdate | None
    #: an exercise's: the injects that reached the cell, the consultation channel, its public warnings (the
    #: latest state of each) and its answers, oldest first
    injects: list[InjectUpdate] = []
    notes: list[NoteUpdate] = []
    warnings: list[WarningUpdate] = []
    answers: list[AnswerUpdate] = []


class UpdateBatch(Live, kw_only=True):
    """Updates after ``after`` up to ``seq``, as pushed (one server-sent event) or answered (history).

    ``emitted``: wall-clock Unix seconds at which the oldest update of the batch was appended, so that
    arrival time − ``emitted`` is the batch's worst push latency (from the node's step to the client)."""

    exercise: Literal[True] = True
    partner: Partner
    after: int
    seq: int
    emitted: float | None
    updates: list[Update]
