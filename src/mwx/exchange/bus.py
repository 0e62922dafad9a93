"""The in-process bus: the default transport, deterministic, no server needed.

Every published message is encoded to its wire bytes and decoded again for
each recipient, so the embedded run exercises the same codec as a networked
one.  Delivery is synchronous and in publication order.
"""

from __future__ import annotations

from collections.abc import Callable

from mwx.exchange import messages

Handler = Callable[[messages.TrackReport], None]


class InMemoryBus:
    """Publish to every other subscriber; count what went through."""

    def __init__(self) -> None:
        self._subscribers: dict[str, Handler] = {}
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
