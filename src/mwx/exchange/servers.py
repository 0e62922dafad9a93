"""Run the exchange's NATS servers (the hub's servers and one leaf per participant) as local processes.

:class:`NatsCluster` starts real ``nats-server`` processes from the configs and certificates of
:mod:`mwx.exchange.natsconf` (TLS on every link) for ``mwx run --bus nats`` and the tests, and lets a
test break things the way a real deployment breaks: kill one hub server, all of them, or a leaf
(SIGKILL) and start it again, or cut the network links between one leaf and the hub while all keep
running.  The link cut needs ``link_faults=True``: then a :class:`LinkProxy`, a small TCP forwarder,
sits between each leaf and each hub server's leaf port; while cut it drops every connection and
closes any new one at once, so the leaf keeps retrying (every second) until the link is restored.
Without it (the default) the leaves dial the hub servers directly, as in a deployment.

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
import ssl
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO

from mwx.errors import NatsUnavailable
from mwx.exchange.certs import OPERATOR, Pki, client_name
from mwx.exchange.natsconf import TLS_DIR, Topology, free_ports, hub_name, leaf_name, write_configs
from mwx.lifecycle import child_options

#: Where Debian puts nats-server, tried when it is not on PATH.
FALLBACK_BINARY = "/usr/sbin/nats-server"


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


def _with_monitoring(topology: Topology) -> Topology:
    """``topology`` with a free monitoring port for every server that has none (the readiness probes use them)."""
    t = topology
    missing = [p for p in t.participants if p not in t.leaf_http_ports]
    hub_missing = 0 if t.hub_http_ports else t.hub_servers
    if not missing and not hub_missing:
        return t
    ports = free_ports(hub_missing + len(missing))
    return dataclasses.replace(
        t,
        hub_http_ports=t.hub_http_ports or ports[:hub_missing],
        leaf_http_ports={**t.leaf_http_ports, **dict(zip(missing, ports[hub_missing:], strict=True))},
    )


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


def _monitor(http_port: int, path: str) -> dict:
    """The JSON a server's monitoring port serves at ``path`` (``{}`` if it does not answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}{path}", timeout=1.0) as resp:
            data = json.load(resp)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _leaf_connections(http_port: int) -> int:
    """How many leaf-node connections the server with this monitoring port reports (``/leafz``)."""
    try:
        return int(_monitor(http_port, "/leafz").get("leafnodes", 0))
    except (TypeError, ValueError):
        return 0


def _jetstream_answers(
    host: str, port: int, user: str, password: str, tls: ssl.SSLContext | None = None, timeout: float = 1.0
) -> bool:
    """Whether a ``$JS.API.INFO`` request sent to the server at ``host:port`` as ``user`` gets an answer.

    Speaks the NATS text protocol on a raw socket (no event loop needed): through a leaf this
    proves the link is up and the hub's JetStream API interest has reached the leaf.  nats-server 2.9
    sends its INFO in plain text; when it says ``tls_required``, the socket is wrapped with ``tls``
    (the server's name checked against ``host``, a client certificate presented) before CONNECT, as
    every NATS client does.  The request waits for the PONG that follows CONNECT: a PUB read in the
    same buffer as CONNECT skips the account's subject mappings in nats-server 2.9 (so a leaf would
    not map it into the hub's domain).
    """
    inbox = f"_INBOX.ready{secrets.token_hex(6)}".encode()
    connect = {"verbose": False, "pedantic": False, "protocol": 1, "user": user, "pass": password, "name": "mwx-probe"}
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            raw.settimeout(timeout)
            info = _info(raw, timeout)
            if info is None:
                return False
            if info.get("tls_required"):
                if tls is None:
                    return False
                with tls.wrap_socket(raw, server_hostname=host) as s:
                    return _ask_info(s, connect, inbox, timeout)
            return _ask_info(raw, connect, inbox, timeout)
    except OSError:  # ssl.SSLError included
        return False


def _info(s: socket.socket, timeout: float) -> dict | None:
    """The server's INFO (the first line it sends, in plain text), or None."""
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\r\n" not in buf and time.monotonic() < deadline:
        chunk = s.recv(4096)
        if not chunk:
            return None
        buf += chunk
    line = buf.split(b"\r\n", 1)[0]
    if not line.startswith(b"INFO "):
        return None
    try:
        info = json.loads(line[5:])
    except ValueError:
        return None
    return info if isinstance(info, dict) else None


def _ask_info(s: socket.socket, connect: dict, inbox: bytes, timeout: float) -> bool:
    s.sendall(f"CONNECT {json.dumps(connect)}\r\nPING\r\n".encode())
    if not _read_until(s, lambda line: line == b"PONG", timeout):
        return False
    s.sendall(b"SUB " + inbox + b" 1\r\nPUB $JS.API.INFO " + inbox + b" 0\r\n\r\n")
    return _read_until(s, lambda line: line.startswith(b"MSG " + inbox + b" "), timeout)


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


def _jetstream_settled(views: dict[str, dict]) -> bool:
    """From every running hub server's ``/jsz?accounts=true&streams=true`` (server name -> JSON): the JetStream
    cluster is usable and the servers agree.

    Every server answers and knows the same metadata leader; every stream has a leader; and each server that
    holds a copy of a stream (its leader and replicas, as the leader sees them) holds it up to the leader's
    last sequence: a server that returned has caught up.  (The ``current`` flag of a replica is not enough: it
    turns true while the last message may still be on its way.)  A hub of one server only needs to answer.
    """
    if not views or not all(views.values()):
        return False
    metas = [view.get("meta_cluster") for view in views.values()]
    if all(meta is None for meta in metas):
        return True
    leaders = {(meta or {}).get("leader") for meta in metas}
    if len(leaders) != 1 or not next(iter(leaders)):
        return False
    held: dict[tuple[str, str], dict[str, dict]] = {}  # (account, stream) -> server -> its stream detail
    for server, view in views.items():
        for account in view.get("account_details") or []:
            for stream in account.get("stream_detail") or []:
                held.setdefault((account.get("name", ""), stream.get("name", "")), {})[server] = stream
    for copies in held.values():
        leader = (next(iter(copies.values())).get("cluster") or {}).get("leader")
        if not leader or leader not in copies:  # none yet, or one that is not running: wait for a new one
            return False
        cluster = copies[leader].get("cluster") or {}
        holders = {leader, *(r.get("name") for r in cluster.get("replicas") or [])}
        last = (copies[leader].get("state") or {}).get("last_seq")
        for server in holders & set(views):
            if server not in copies or (copies[server].get("state") or {}).get("last_seq") != last:
                return False
    return True


# --------------------------------------------------------------------------- cluster
class NatsCluster:
    """The hub's servers and every participant's leaf as local nats-server processes.

    Use as a context manager (``with NatsCluster(topology, tmp_path) as cluster:``): it starts on
    entry and stops everything on exit, also on an exception.  Monitoring ports missing from the
    topology are picked free.  :attr:`configs` holds the written config files, :attr:`pki` the
    certificates (every link is TLS, :mod:`mwx.exchange.certs`).

    ``link_faults``: put a :class:`LinkProxy` between each leaf and each hub server, so that a test can
    cut a leaf off the whole hub while both keep running (:meth:`cut_link`).  Off by default: the
    proxies are threads of this process, so with them a leaf's link dies with whoever runs the
    cluster; without them the leaves dial the hub servers directly, as in a deployment.
    """

    def __init__(
        self, topology: Topology, work_dir: Path | str, *, ready_timeout: float = 20.0, link_faults: bool = False
    ) -> None:
        self.binary = find_nats_server()
        topology = _with_monitoring(topology)
        self.topology = topology
        self.work_dir = Path(work_dir)
        self.conf_dir = self.work_dir / "conf"
        self.log_dir = self.work_dir / "logs"
        self.ready_timeout = ready_timeout
        self.link_faults = link_faults
        self.configs: dict[str, Path] = {}
        self.pki: Pki | None = None
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: dict[str, IO[bytes]] = {}
        self._proxies: dict[str, list[LinkProxy]] = {}
        self._dead_end: socket.socket | None = None
        self._contexts: dict[str, ssl.SSLContext] = {}

    # ----------------------------------------------------------------- whole cluster
    def start(self) -> NatsCluster:
        """Start every hub server, then every leaf, and wait until each leaf reaches the hub's JetStream."""
        try:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            t = self.topology
            remote: dict[str, list[int]] | None = None
            advertise = None
            if self.link_faults:
                for p in t.participants:
                    self._proxies[p] = [
                        LinkProxy(host, port, listen_host=t.host)
                        for host, port in zip(t.hub_hosts, t.hub_leaf_ports, strict=True)
                    ]
                remote = {p: [proxy.port for proxy in proxies] for p, proxies in self._proxies.items()}
                # A port bound but never listening, so connecting to it is refused: every hub server advertises
                # it as its leaf address, because a leaf also dials the advertised addresses (its own server's
                # and, in a cluster, the others'), which would skip the proxies.
                self._dead_end = dead_end = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                dead_end.bind((t.host, 0))
                advertise = f"{t.host}:{dead_end.getsockname()[1]}"
            self.configs = write_configs(t, self.conf_dir, leaf_remote_ports=remote, hub_leaf_advertise=advertise)
            self.pki = Pki(self.configs[TLS_DIR])
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
        for proxies in self._proxies.values():
            for proxy in proxies:
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

    # ----------------------------------------------------------------- URLs and TLS
    def url(self, participant: str) -> str:
        """``tls://user:pass@127.0.0.1:port`` of ``participant``'s leaf (what its node uses)."""
        return self.topology.url(participant)

    def hub_url(self, participant: str, server: int = 0) -> str:
        """Hub server ``server``'s client URL with ``participant``'s credentials."""
        return self.topology.hub_url(participant, server)

    def hub_urls(self, participant: str) -> list[str]:
        """Every hub server's client URL with ``participant``'s credentials."""
        return self.topology.hub_urls(participant)

    def client_tls(self, participant: str | None = None) -> ssl.SSLContext:
        """A client TLS context with ``participant``'s node certificate (the operator's if None)."""
        if self.pki is None:
            raise NatsUnavailable("the cluster has not been started: no certificates yet")
        name = OPERATOR if participant is None else client_name(participant)
        if name not in self._contexts:
            self._contexts[name] = self.pki.client_context(name)
        return self._contexts[name]

    # ----------------------------------------------------------------- hub
    def hub_running(self, server: int) -> bool:
        """Whether hub server ``server`` (0-based) is running."""
        return self._running(hub_name(server))

    def start_hub(self, server: int | None = None, *, wait_links: bool = True) -> None:
        """Start hub server ``server`` (0-based; None: every hub server not running) and wait until it serves
        JetStream and the cluster has settled (a metadata leader, a leader for every stream, the returned
        server's copies caught up: :func:`_jetstream_settled`); then (``wait_links``) until every running
        leaf reaches the hub again."""
        t = self.topology
        servers = [i for i in range(t.hub_servers) if not self.hub_running(i)] if server is None else [server]
        for i in servers:
            self._spawn(hub_name(i), self.configs[f"{hub_name(i)}.conf"])
        user, password = t.credentials[t.participants[0]]
        for i in servers:
            host, port = t.hub_hosts[i], t.hub_client_ports[i]

            def serves(host: str = host, port: int = port, i: int = i) -> bool:
                return _accepts_tcp(host, t.hub_leaf_ports[i]) and _jetstream_answers(
                    host, port, user, password, self.client_tls()
                )

            self._wait([hub_name(i)], serves, "serve JetStream")
        self.wait_jetstream()
        if wait_links:
            for p in t.participants:
                if self._running(leaf_name(p)) and not self._is_cut(p):
                    self.wait_link(p)

    def wait_jetstream(self) -> None:
        """Wait until every running hub server sees a settled JetStream cluster (see :func:`_jetstream_settled`)."""
        t = self.topology
        running = [i for i in range(t.hub_servers) if self.hub_running(i)]

        def settled() -> bool:
            views = {hub_name(i): _monitor(t.hub_http_ports[i], "/jsz?accounts=true&streams=true") for i in running}
            return _jetstream_settled(views)

        self._wait([hub_name(i) for i in running], settled, "settle its JetStream cluster")

    def kill_hub(self, server: int | None = None) -> None:
        """SIGKILL hub server ``server`` (0-based; None: every hub server): no clean shutdown, what a crash does."""
        servers = range(self.topology.hub_servers) if server is None else [server]
        for i in servers:
            self._kill(hub_name(i))

    # ----------------------------------------------------------------- leaves
    def start_leaf(self, participant: str, *, wait_link: bool = True) -> None:
        """Start ``participant``'s leaf; wait until it accepts clients and (``wait_link``) reaches the hub."""
        name = leaf_name(participant)
        self._spawn(name, self.configs[f"{name}.conf"])
        self._wait(
            [name], lambda: _accepts_tcp(self.topology.leaf_host, self.topology.leaf_ports[participant]), "accept"
        )
        hub_up = any(self.hub_running(i) for i in range(self.topology.hub_servers))
        if wait_link and hub_up and not self._is_cut(participant):
            self.wait_link(participant)

    def kill_leaf(self, participant: str) -> None:
        """SIGKILL ``participant``'s leaf."""
        self._kill(leaf_name(participant))

    def wait_link(self, participant: str) -> None:
        """Wait until ``participant``'s leaf is connected to the hub and the hub's JetStream answers through it."""
        t = self.topology
        user, password = t.credentials[participant]
        http_port = t.leaf_http_ports[participant]
        tls = self.client_tls(participant)
        self._wait(
            [leaf_name(participant)],
            lambda: (
                _leaf_connections(http_port) > 0
                and _jetstream_answers(t.leaf_host, t.leaf_ports[participant], user, password, tls)
            ),
            "reach the hub",
        )

    # ----------------------------------------------------------------- link
    def link_ports(self, participant: str) -> list[int] | None:
        """The ports ``participant``'s leaf dials for the hub servers: its link proxies' (None without link faults)."""
        proxies = self._proxies.get(participant)
        return None if proxies is None else [proxy.port for proxy in proxies]

    def cut_link(self, participant: str) -> None:
        """Cut the link between ``participant``'s leaf and every hub server (all keep running); wait until
        the leaf sees it.  Needs ``link_faults=True``."""
        for proxy in self._link_proxies(participant, "cut"):
            proxy.cut()
        http_port = self.topology.leaf_http_ports[participant]
        deadline = time.monotonic() + self.ready_timeout
        while _leaf_connections(http_port) > 0 and time.monotonic() < deadline:
            time.sleep(0.05)

    def restore_link(self, participant: str, *, wait: bool = True) -> None:
        """Restore the link cut by :meth:`cut_link`; with ``wait``, until the leaf reaches the hub again."""
        for proxy in self._link_proxies(participant, "restore"):
            proxy.restore()
        hub_up = any(self.hub_running(i) for i in range(self.topology.hub_servers))
        if wait and hub_up and self._running(leaf_name(participant)):
            self.wait_link(participant)

    def _link_proxies(self, participant: str, what: str) -> list[LinkProxy]:
        if not self.link_faults:
            raise NatsUnavailable(
                f"cannot {what} {participant}'s link: this cluster runs without link proxies "
                "(NatsCluster(..., link_faults=True))"
            )
        return self._proxies[participant]

    def _is_cut(self, participant: str) -> bool:
        return any(proxy.is_cut for proxy in self._proxies.get(participant, []))

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
                [self.binary, "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                **child_options(),  # ends with the run, even one killed with SIGKILL (mwx.lifecycle)
            )
        except OSError as err:
            raise NatsUnavailable(f"cannot run {self.binary}: {err.strerror}") from None

    def _wait(self, names: list[str], ready: Callable[[], bool], what: str) -> None:
        """Poll ``ready()`` until true; raise :class:`NatsUnavailable` with the log tail when one of the
        servers ``names`` exits, or on timeout."""
        deadline = time.monotonic() + self.ready_timeout
        while True:
            for name in names:
                proc = self._procs.get(name)
                if proc is None or proc.poll() is not None:
                    code = None if proc is None else proc.returncode
                    raise NatsUnavailable(f"{name} exited (status {code}) before it could {what}{self._log_tail(name)}")
            if ready():
                return
            if time.monotonic() > deadline:
                who = " and ".join(names)
                raise NatsUnavailable(f"{who} did not {what} within {self.ready_timeout:g} s{self._log_tail(names[0])}")
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
