"""Serving the consoles: uvicorn on a socket of our own, in a thread of its own or in the caller's loop.

:class:`ConsoleServer` binds its socket at once (port 0: a free one, read back from :attr:`port`), so the
address is known before anything is served; :meth:`~ConsoleServer.start` runs it in a background thread
(an embedded run or a replay, whose simulation owns the main thread), :meth:`~ConsoleServer.serve` in the
running loop (``mwx node``, whose loop is asyncio already).  Feeds that live beside the API (the CoT feed)
start in the same loop (``beside``).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import uvicorn

#: s: a server asked to stop closes its open push streams after this long
GRACEFUL_S = 1

Beside = Callable[[], Awaitable[Any]]


class ConsoleServer:
    """uvicorn serving ``app`` on ``host``:``port`` (bound at construction)."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, beside: Sequence[Beside] = ()) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.socket.bind((host, port))
        except OSError as err:
            self.socket.close()
            raise OSError(err.errno, f"cannot serve the consoles on {host}:{port}: {err.strerror}") from None
        self.socket.listen(128)
        self.host = host
        self.port: int = self.socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,  # the access log would keep tokens
            timeout_graceful_shutdown=GRACEFUL_S,
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        self.beside = list(beside)
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def serve(self) -> None:
        """Serve in the running loop until :meth:`stop` (or the task is cancelled)."""
        self.loop = asyncio.get_running_loop()
        for start in self.beside:
            await start()
        self._started.set()
        await self.server.serve(sockets=[self.socket])

    def start(self) -> ConsoleServer:
        """Serve in a daemon thread; returns once the server is accepting."""
        self._thread = threading.Thread(target=lambda: asyncio.run(self.serve()), name="mwx-console", daemon=True)
        self._thread.start()
        self._started.wait(10.0)
        for _ in range(200):
            if self.server.started:
                break
            threading.Event().wait(0.02)
        return self

    def call(self, coroutine: Awaitable[Any]) -> Any:
        """Run a coroutine in the server's loop from another thread and wait for its result."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10.0)  # type: ignore[arg-type]

    def stop(self) -> None:
        """Stop serving (open push streams are closed after :data:`GRACEFUL_S`) and wait for the thread."""
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(GRACEFUL_S + 5.0)
        with contextlib.suppress(OSError):
            self.socket.close()
