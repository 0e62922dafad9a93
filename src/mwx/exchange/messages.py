"""Messages partners exchange, as typed structs validated at the wire.

Skeleton schema (the exchange issue adds envelopes, signatures, versions and
the other message kinds).  MessagePack on the wire.
"""

from __future__ import annotations

import math
from typing import Annotated

import msgspec

SCHEMA_VERSION = 1

_Finite = Annotated[float, msgspec.Meta(ge=-1e12, le=1e12)]


class TrackReport(msgspec.Struct, forbid_unknown_fields=True, frozen=True, tag="track"):
    """One partner's track state: ECEF [m, m/s] with its 6×6 covariance (row-major)."""

    sender: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2,8}\Z")]
    seq: Annotated[int, msgspec.Meta(ge=0)]
    track_id: Annotated[str, msgspec.Meta(max_length=64)]
    time: Annotated[float, msgspec.Meta(ge=0.0, le=1e10)]  # measurement time, Unix s
    sent: Annotated[float, msgspec.Meta(ge=0.0, le=1e10)]  # send time, Unix s
    state: Annotated[list[_Finite], msgspec.Meta(min_length=6, max_length=6)]
    covariance: Annotated[list[_Finite], msgspec.Meta(min_length=36, max_length=36)]
    first_detection: Annotated[float, msgspec.Meta(ge=0.0, le=1e10)]
    boosting: bool = False  # the sender judges the object under thrust (its energy rises)

    def __post_init__(self) -> None:
        if any(math.isnan(v) for v in self.state) or any(math.isnan(v) for v in self.covariance):
            raise ValueError("NaN in a track report")


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(TrackReport)


def encode(message: TrackReport) -> bytes:
    """MessagePack bytes of a message."""
    return _encoder.encode(message)


def decode(data: bytes) -> TrackReport:
    """A message from MessagePack bytes; :class:`msgspec.ValidationError` or DecodeError if invalid."""
    return _decoder.decode(data)
