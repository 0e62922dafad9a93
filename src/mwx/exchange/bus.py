"""The in-process bus: the default transport, deterministic, no server needed.

Two faces.  The byte face (:meth:`InMemoryBus.publish_bytes`,
:meth:`InMemoryBus.subscribe_bytes`) carries sealed envelopes between
endpoints (:class:`mwx.exchange.endpoint.Endpoint`): what the nodes of ``mwx run`` use.  The
message face (:meth:`InMemoryBus.publish`, :meth:`InMemoryBus.subscribe`) carries bare
:class:`~mwx.exchange.messages.TrackReport` objects, encoded and decoded for each recipient,
for tests of the codec.

Delivery is synchronous and in publication order, unless a scenario's link injects
(:mod:`mwx.sim.scenario`: ``link_down``, ``link_latency``, ``link_loss``) touch a message:
then it waits in a queue for its arrival time (the end of the outage, or ``latency_s``
later) and the run delivers it with :meth:`InMemoryBus.deliver_until`, or it is lost (a
seeded draw per message, so runs repeat exactly).  The in-process bus does not repair
losses: receivers' replay guards show the gaps (``metrics.json`` → ``exchange``); the NATS
transport repairs them (:mod:`mwx.node.service`).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence

import numpy as np

from mwx.exchange import messages
from mwx.sim.scenario import LinkDown, LinkInject, LinkLatency, LinkLoss

Handler = Callable[[messages.TrackReport], None]
BytesHandler = Callable[[bytes, float], None]


def arrival_time(
    links: Sequence[LinkInject], sender: str, recipient: str, sent: float, rng: np.random.Generator
) -> float | None:
    """When a message from ``sender`` to ``recipient`` sent at ``sent`` arrives [Unix s]; None if it is lost.

    Draws from ``rng`` only for messages inside a ``link_loss`` window, so the draws of one run
    do not depend on anything else.
    """
    at = sent
    for link in links:
        if not link.covers(sender, recipient, sent):
            continue
        if isinstance(link, LinkLoss):
            if rng.random() < link.probability:
                return None
        elif isinstance(link, LinkLatency):
            at += link.latency_s
        elif isinstance(link, LinkDown):
            at = max(at, link.end)
    return at


class InMemoryBus:
    """Publish to every other subscriber; count what went through.

    ``links``: the scenario's link injects; ``seed``: of the loss draws.
    """

    def __init__(self, links: Sequence[LinkInject] = (), seed: int = 0) -> None:
        self._subscribers: dict[str, Handler] = {}
        self._byte_subscribers: dict[str, BytesHandler] = {}
        self._links = list(links)
        self._rng = np.random.default_rng([seed, 0x11E7])
        self._queue: list[tuple[float, int, str, bytes]] = []  # (arrival, publication order, recipient, data)
        self._order = 0
        self.sent = 0
        self.delivered = 0
        self.bytes = 0
        self.lost = 0  # envelopes a link_loss inject dropped (one per recipient)
        self.held = 0  # envelopes a link_down or link_latency inject delayed

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
        """Deliver ``data`` sent at ``now`` (Unix s) to ``recipient``, or to every other one, as the links allow."""
        self.sent += 1
        self.bytes += len(data)
        self.deliver_until(now)  # what was held and is due arrives before what is sent now
        for partner in [recipient] if recipient is not None else self.recipients(sender):
            at = arrival_time(self._links, sender, partner, now, self._rng) if self._links else now
            if at is None:
                self.lost += 1
            elif at <= now:
                self._byte_subscribers[partner](data, now)
                self.delivered += 1
            else:
                self.held += 1
                heapq.heappush(self._queue, (at, self._order, partner, data))
                self._order += 1

    def deliver_until(self, t: float = math.inf) -> None:
        """Deliver every held envelope due at or before ``t``, in arrival (then publication) order."""
        while self._queue and self._queue[0][0] <= t:
            at, _, partner, data = heapq.heappop(self._queue)
            self._byte_subscribers[partner](data, at)
            self.delivered += 1
