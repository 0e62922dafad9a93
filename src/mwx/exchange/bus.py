"""The in-process bus: the default transport, deterministic, no server needed.

Two faces.  The byte face (:meth:`InMemoryBus.publish_bytes`,
:meth:`InMemoryBus.subscribe_bytes`) carries sealed envelopes between
endpoints (:class:`mwx.exchange.endpoint.Endpoint`): what the nodes of ``mwx run`` use.  The
message face (:meth:`InMemoryBus.publish`, :meth:`InMemoryBus.subscribe`) carries bare
:class:`~mwx.exchange.messages.TrackReport` objects, encoded and decoded for each recipient,
for tests of the codec.  Delivery is synchronous and in publication order.
"""

from __future__ import annotations

from collections.abc import Callable

from mwx.exchange import messages

Handler = Callable[[messages.TrackReport], None]
BytesHandler = Callable[[bytes, float], None]


class InMemoryBus:
    """Publish to every other subscriber; count what went through."""

    def __init__(self) -> None:
        self._subscribers: dict[str, Handler] = {}
        self._byte_subscribers: dict[str, BytesHandler] = {}
        self.sent = 0
        self.delivered = 0
        self.bytes = 0

    def subscribe(self, partner: str, handler: Handler) -> None:
        """Deliver every message not sent by ``partner`` to ``handler``."""
        self._subscribers[partner] = handler

    def publish(self, message: messages.TrackReport) -> None:
        data = messages.encode(message)
        self.sent += 1
        self.bytes += len(data)
        for partner, handler in self._subscribers.items():
            if partner != message.sender:
                handler(messages.decode(data))
                self.delivered += 1

    def subscribe_bytes(self, partner: str, handler: BytesHandler) -> None:
        """Deliver the bytes of every envelope not published by ``partner`` to ``handler(data, now)``."""
        self._byte_subscribers[partner] = handler

    def recipients(self, sender: str) -> list[str]:
        """Every byte subscriber but ``sender``, in subscription order."""
        return [partner for partner in self._byte_subscribers if partner != sender]

    def publish_bytes(self, sender: str, data: bytes, now: float, recipient: str | None = None) -> None:
        """Deliver ``data`` at ``now`` (Unix s: no delay in process) to ``recipient``, or to every other one."""
        self.sent += 1
        self.bytes += len(data)
        for partner in [recipient] if recipient is not None else self.recipients(sender):
            self._byte_subscribers[partner](data, now)
            self.delivered += 1
