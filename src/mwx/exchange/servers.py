"""Run the exchange's NATS servers (hub and one leaf per participant) as local processes, for tests.

:class:`NatsCluster` starts real ``nats-server`` processes from the configs of
:mod:`mwx.exchange.natsconf` and lets a test break things the way a real deployment breaks: kill
the hub or a leaf (SIGKILL) and start it again, or cut the network link between one leaf and the
hub while both keep running.  The link cut uses :class:`LinkProxy`, a small TCP forwarder that
sits between each leaf and the hub's leaf port: while cut it drops every connection and closes any
new one at once, so the leaf keeps retrying (every second) until the link is restored.

This is plain synchronous code with subprocesses and threads: process management is not the
exchange's hot path, and a sync API is easy to drive from any test, async or not.  Server logs go to
``<work_dir>/logs/<name>.log`` (appended across restarts); the configs to ``<work_dir>/conf``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO

from mwx.errors import NatsUnavailable
from mwx.exchange.natsconf import Topology, free_ports, write_configs

#: Where Debian puts nats-server, tried when it is not on PATH.
FALLBACK_BINARY = "/usr/sbin/nats-server"
HUB = "hub"


def find_nats_server() -> str:
    """The path of the ``nats-server`` binary (PATH, then /usr/sbin), or :class:`NatsUnavailable`."""
    found = shutil.which("nats-server")
    if found:
        return found
    if os.path.isfile(FALLBACK_BINARY) and os.access(FALLBACK_BINARY, os.X_OK):
        return FALLBACK_BINARY
    raise NatsUnavailable(
        "nats-server not found on PATH nor at /usr/sbin/nats-server (Debian/Ubuntu: apt install nats-server)"
    )


def have_nats_server() -> bool:
    """Whether :func:`find_nats_server` would find a binary (for ``pytest.mark.skipif``)."""
    try:
        find_nats_server()
    except NatsUnavailable:
        return False
    return True


# --------------------------------------------------------------------------- link proxy
class LinkProxy:
    """A TCP forwarder from a local port to ``target``, whose link can be cut and restored.

    One accept thread, two pump threads per connection.  :meth:`cut` closes every forwarded
    connection; while cut, new connections are accepted and closed at once (the dialling side sees
    the peer refuse).  :meth:`restore` lets new connections through again.
    """

    def __init__(self, target_host: str, target_port: int, listen_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((listen_host, 0))
        self._listener.listen(16)
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._cut = False
        self._closed = False
        self._thread = threading.Thread(target=self._accept_loop, name=f"link-proxy-{self.port}", daemon=True)
        self._thread.start()

    @property
    def is_cut(self) -> bool:
        """Whether the link is cut now."""
        return self._cut

    def cut(self) -> None:
        """Drop every forwarded connection and refuse new ones until :meth:`restore`."""
        with self._lock:
            self._cut = True
            conns, self._conns = self._conns, set()
        for s in conns:
            _close(s)

    def restore(self) -> None:
        """Forward new connections again."""
        with self._lock:
            self._cut = False

    def close(self) -> None:
        """Stop accepting and drop every connection."""
        self._closed = True
        self.cut()
        self._thread.join(timeout=2.0)
        _close(self._listener)

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._cut or self._closed:
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=2.0)
            except OSError:
                _close(client)
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                if self._cut:
                    _close(client)
                    _close(upstream)
                    continue
                self._conns.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._conns.discard(src)
                self._conns.discard(dst)
            _close(src)
            _close(dst)


def _close(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        s.close()


# --------------------------------------------------------------------------- readiness probes
def _accepts_tcp(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _leaf_connections(http_port: int) -> int:
    """How many leaf-node connections the server with this monitoring port reports (``/leafz``)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/leafz", timeout=1.0) as resp:
            return int(json.load(resp).get("leafnodes", 0))
    except (OSError, ValueError):
        return 0


def _jetstream_answers(host: str, port: int, user: str, password: str, timeout: float = 1.0) -> bool:
    """Whether a ``$JS.API.INFO`` request sent to the server at ``host:port`` as ``user`` gets an answer.

    Speaks the NATS text protocol on a raw socket (no event loop needed): through a leaf this
    proves the link is up and the hub's JetStream API interest has reached the leaf.  The request
    waits for the PONG that follows CONNECT: a PUB read in the same buffer as CONNECT skips the
    account's subject mappings in nats-server 2.9 (so a leaf would not map it into the hub's domain).
    """
    inbox = f"_INBOX.ready{secrets.token_hex(6)}".encode()
    connect = {"verbose": False, "pedantic": False, "protocol": 1, "user": user, "pass": password, "name": "mwx-probe"}
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(f"CONNECT {json.dumps(connect)}\r\nPING\r\n".encode())
            if not _read_until(s, lambda line: line == b"PONG", timeout):
                return False
            s.sendall(b"SUB " + inbox + b" 1\r\nPUB $JS.API.INFO " + inbox + b" 0\r\n\r\n")
            return _read_until(s, lambda line: line.startswith(b"MSG " + inbox + b" "), timeout)
    except OSError:
        return False


def _read_until(s: socket.socket, wanted: Callable[[bytes], bool], timeout: float) -> bool:
    """Read protocol lines from ``s`` until one is ``wanted`` (True) or ``-ERR``, EOF or timeout (False)."""
    buf = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            return False
        buf += chunk
        *lines, buf = buf.split(b"\r\n")
        for line in lines:
            if wanted(line):
                return True
            if line.startswith(b"-ERR"):
                return False
    return False


# --------------------------------------------------------------------------- cluster
class NatsCluster:
    """The hub and every participant's leaf as local nats-server processes, with link proxies.

    Use as a context manager (``with NatsCluster(topology, tmp_path) as cluster:``): it starts on
    entry and stops everything on exit, also on an exception.  Monitoring ports missing from the
    topology are picked free.  :attr:`configs` holds the written config files.
    """

    def __init__(self, topology: Topology, work_dir: Path | str, *, ready_timeout: float = 20.0) -> None:
        self.binary = find_nats_server()
        missing = [p for p in topology.participants if p not in topology.leaf_http_ports]
        if topology.hub_http_port is None or missing:
            ports = free_ports(1 + len(missing))
            topology = dataclasses.replace(
                topology,
                hub_http_port=topology.hub_http_port or ports[0],
                leaf_http_ports={**topology.leaf_http_ports, **dict(zip(missing, ports[1:], strict=True))},
            )
        self.topology = topology
        self.work_dir = Path(work_dir)
        self.conf_dir = self.work_dir / "conf"
        self.log_dir = self.work_dir / "logs"
        self.ready_timeout = ready_timeout
        self.configs: dict[str, Path] = {}
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: dict[str, IO[bytes]] = {}
        self._proxies: dict[str, LinkProxy] = {}
        self._dead_end: socket.socket | None = None

    # ----------------------------------------------------------------- whole cluster
    def start(self) -> NatsCluster:
        """Start the hub, then every leaf, and wait until each leaf reaches the hub's JetStream."""
        try:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            t = self.topology
            for p in t.participants:
                self._proxies[p] = LinkProxy(t.host, t.hub_leaf_port, listen_host=t.host)
            # A port bound but never listening, so connecting to it is refused: the hub advertises it as
            # its leaf address, because a leaf also dials the advertised address, which would skip the proxy.
            self._dead_end = dead_end = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            dead_end.bind((t.host, 0))
            self.configs = write_configs(
                t,
                self.conf_dir,
                leaf_remote_ports={p: proxy.port for p, proxy in self._proxies.items()},
                hub_leaf_advertise=f"{t.host}:{dead_end.getsockname()[1]}",
            )
            self.start_hub(wait_links=False)
            for p in t.participants:
                self.start_leaf(p, wait_link=False)
            for p in t.participants:
                self.wait_link(p)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every server (SIGTERM, then SIGKILL after 5 s) and every proxy.  Safe to call twice."""
        for name in list(self._procs):
            self._terminate(name)
        for proxy in self._proxies.values():
            proxy.close()
        self._proxies.clear()
        if self._dead_end is not None:
            self._dead_end.close()
            self._dead_end = None

    def __enter__(self) -> NatsCluster:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ----------------------------------------------------------------- URLs
    def url(self, participant: str) -> str:
        """``nats://user:pass@127.0.0.1:port`` of ``participant``'s leaf (what its node uses)."""
        return self.topology.url(participant)

    def hub_url(self, participant: str) -> str:
        """The hub's client URL with ``participant``'s credentials."""
        return self.topology.hub_url(participant)

    # ----------------------------------------------------------------- hub
    def start_hub(self, *, wait_links: bool = True) -> None:
        """Start the hub and wait until it serves JetStream; then (``wait_links``) until running leaves rejoin."""
        t = self.topology
        self._spawn(HUB, self.configs["hub.conf"])
        user, password = t.credentials[t.participants[0]]
        self._wait(
            HUB,
            lambda: (
                _accepts_tcp(t.host, t.hub_leaf_port) and _jetstream_answers(t.host, t.hub_client_port, user, password)
            ),
            "serve JetStream",
        )
        if wait_links:
            for p in t.participants:
                if self._running(f"leaf-{p}") and not self._proxies[p].is_cut:
                    self.wait_link(p)

    def kill_hub(self) -> None:
        """SIGKILL the hub (no clean shutdown: what a crash or power loss does)."""
        self._kill(HUB)

    # ----------------------------------------------------------------- leaves
    def start_leaf(self, participant: str, *, wait_link: bool = True) -> None:
        """Start ``participant``'s leaf; wait until it accepts clients and (``wait_link``) reaches the hub."""
        name = f"leaf-{participant}"
        self._spawn(name, self.configs[f"{name}.conf"])
        self._wait(name, lambda: _accepts_tcp(self.topology.leaf_host, self.topology.leaf_ports[participant]), "accept")
        if wait_link and self._running(HUB) and not self._proxies[participant].is_cut:
            self.wait_link(participant)

    def kill_leaf(self, participant: str) -> None:
        """SIGKILL ``participant``'s leaf."""
        self._kill(f"leaf-{participant}")

    def wait_link(self, participant: str) -> None:
        """Wait until ``participant``'s leaf is connected to the hub and the hub's JetStream answers through it."""
        t = self.topology
        user, password = t.credentials[participant]
        http_port = t.leaf_http_ports[participant]
        self._wait(
            f"leaf-{participant}",
            lambda: (
                _leaf_connections(http_port) > 0
                and _jetstream_answers(t.leaf_host, t.leaf_ports[participant], user, password)
            ),
            "reach the hub",
        )

    # ----------------------------------------------------------------- link
    def link_port(self, participant: str) -> int:
        """The port ``participant``'s leaf dials for the hub: its link proxy's."""
        return self._proxies[participant].port

    def cut_link(self, participant: str) -> None:
        """Cut the link between ``participant``'s leaf and the hub (both keep running); wait until the leaf sees it."""
        self._proxies[participant].cut()
        http_port = self.topology.leaf_http_ports[participant]
        deadline = time.monotonic() + self.ready_timeout
        while _leaf_connections(http_port) > 0 and time.monotonic() < deadline:
            time.sleep(0.05)

    def restore_link(self, participant: str, *, wait: bool = True) -> None:
        """Restore the link cut by :meth:`cut_link`; with ``wait``, until the leaf reaches the hub again."""
        self._proxies[participant].restore()
        if wait and self._running(HUB) and self._running(f"leaf-{participant}"):
            self.wait_link(participant)

    # ----------------------------------------------------------------- processes
    def _running(self, name: str) -> bool:
        proc = self._procs.get(name)
        return proc is not None and proc.poll() is None

    def _spawn(self, name: str, conf: Path) -> None:
        if self._running(name):
            raise NatsUnavailable(f"{name} is already running")
        self._close_log(name)
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 (kept open for the process's life)
        log.write(f"==== mwx: starting {name} at {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        log.flush()
        self._logs[name] = log
        try:
            self._procs[name] = subprocess.Popen(
                [self.binary, "-c", str(conf)], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        except OSError as err:
            raise NatsUnavailable(f"cannot run {self.binary}: {err.strerror}") from None

    def _wait(self, name: str, ready: Callable[[], bool], what: str) -> None:
        """Poll ``ready()`` until true; raise :class:`NatsUnavailable` with the log tail on exit or timeout."""
        deadline = time.monotonic() + self.ready_timeout
        while True:
            proc = self._procs.get(name)
            if proc is None or proc.poll() is not None:
                code = None if proc is None else proc.returncode
                raise NatsUnavailable(f"{name} exited (status {code}) before it could {what}{self._log_tail(name)}")
            if ready():
                return
            if time.monotonic() > deadline:
                raise NatsUnavailable(f"{name} did not {what} within {self.ready_timeout:g} s{self._log_tail(name)}")
            time.sleep(0.05)

    def _log_tail(self, name: str, lines: int = 15) -> str:
        path = self.log_dir / f"{name}.log"
        try:
            tail = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return f"; last lines of {path}:\n" + "\n".join(tail)

    def _kill(self, name: str) -> None:
        proc = self._procs.get(name)
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        self._close_log(name)

    def _terminate(self, name: str) -> None:
        proc = self._procs.get(name)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self._close_log(name)

    def _close_log(self, name: str) -> None:
        log = self._logs.pop(name, None)
        if log is not None:
            log.close()
