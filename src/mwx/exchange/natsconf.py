"""The NATS JetStream topology of the exchange: names, server configs and the inbox streams.

Topology (mirrors a real deployment):

* The **hub**, run by the US: three nats-servers (``hub-1``..``hub-3``; :attr:`Topology.hub_servers`)
  forming one JetStream cluster, with one **account per participant** (the partners, e.g. KR, JP,
  US, and the listen-only observer ``fused``, which is simply one more participant).  In each account
  lives that participant's inbox stream ``INBOX_<P>``, capturing ``mwx.in.<P>.*`` (file storage,
  120 s ``Nats-Msg-Id`` de-duplication window), kept on min(3, servers) of them: a publish is
  acknowledged once a majority holds it, and the stream goes on while a majority runs.
* One **leaf-node** server per participant, run by that participant, which dials the hub's leaf
  ports (every hub server's, so it fails over) with the participant's credentials and binds to the
  participant's account there.  The participant's node software connects only to its own leaf.
* **TLS on every link** (:mod:`mwx.exchange.certs`): every client port, leaf port and cluster port
  requires TLS and a certificate of the exchange's own CA (``verify: true``); client URLs are
  ``tls://``.  Hub servers also present a route password to each other, which no participant has.

Accounts, exports and imports.  Accounts are isolated, so a participant's JetStream API calls
(``$JS.API.>``) and its ``$JS.ACK`` acknowledgements only ever reach its *own* account's streams and
consumers: no permission is needed to keep KR off ``INBOX_JP`` -- from KR's account there is no
such stream.  For sending, every recipient R exports the *service* ``mwx.in.R.S`` to the single
account S (one export per sender, ``accounts: [S]``), and S imports it.  When S publishes
``mwx.in.R.S`` (with a reply subject, as ``js.publish`` does) the message crosses into R's account,
where ``INBOX_R`` stores it and answers the mapped reply: the PubAck flows back to S.  A service
import (not a stream import) is what makes this work: it moves messages *into* the exporter's
account and routes the single response back.  Since S is offered only ``mwx.in.R.S``, publishing
``mwx.in.R.T`` for another T from S's account reaches no one (no such import): a partner cannot
pose as another at the transport level even if its own permissions were wider.

Permissions.  Each participant's user (the same one on the hub and on its own leaf, see
:func:`user_permissions`) may publish only ``mwx.in.*.<P>`` (its own sender token), the JetStream
API calls that read its own stream, create/inspect/fetch from consumers on it, and acks on it
(``$JS.ACK.INBOX_<P>.>``); it may subscribe only to ``_INBOX.>`` (replies, PubAcks and pulled
messages).  Deleting or purging the inbox is not allowed: the inbox is the record of the run.
Subscribing to ``mwx.in.>`` is refused, so nobody listens to raw inbox traffic.  On the hub these
permissions apply to the leaf-node connection too (what the hub accepts from and sends to the
leaf; the hub also hands them to the leaf, which enforces them on the link), so they hold even
if a participant loosens its own leaf's config.

JetStream on leaves, and the domain.  The leaves run no JetStream.  nats-server 2.9 nevertheless
refuses plain ``$JS.API.>`` traffic (and ``$KV.>``, ``$OBJ.>``) on every leaf link of a non-system
account, on both sides ("JetStream Not Extended, adding deny" in the logs): plain-prefix JetStream
only crosses a leaf link when the *system* account is shared, which a participant must not get.  So
the hub's JetStream has the domain :data:`JS_DOMAIN` (``hub``): for each leaf-bound account the hub
maps ``$JS.hub.API.>`` to its own ``$JS.API.>``, and ``$JS.hub.API.>`` may cross.  Each leaf
sets ``default_js_domain: {P: hub}``, which maps its account's ``$JS.API.>`` to ``$JS.hub.API.>``,
so a node on a leaf uses ``nc.jetstream()`` as usual (``nc.jetstream(domain="hub")`` works too; on
the hub itself no domain is needed).  PubAcks and acks are not JetStream API subjects
(``mwx.in...`` with an ``_INBOX`` reply, ``$JS.ACK...``) and need no mapping.  nats-server warns
that ``default_js_domain`` is a "temporary backwards compatibility measure": if a later version
drops it, nodes must pass ``domain=JS_DOMAIN``.  Permission checks see the mapped subject, so the
API permissions list both prefixes.

Config files use nats-server's own format (``key: value``, quoted strings) and are checked
against nats-server 2.9.10.  Passwords are written in clear (each hub-N.conf holds every
participant's, a leaf config its participant's): the files are written mode 0600.  A deployment may
replace them with bcrypt hashes (made with the ``nats`` CLI's ``nats server passwd``) in the hub's.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mwx.errors import InputError
from mwx.exchange.certs import OPERATOR, Pki, client_name, create_pki
from mwx.exchange.keys import write_secret

if TYPE_CHECKING:
    from nats.js.api import StreamConfig

#: Subject prefix of every inbox subject: ``mwx.in.<recipient>.<sender>``.
INBOX_PREFIX = "mwx.in"
#: JetStream de-duplication window on ``Nats-Msg-Id``, seconds.
DUPLICATE_WINDOW_S = 120.0
#: JetStream domain of the hub; leaves map ``$JS.API`` into it (see the module doc).
JS_DOMAIN = "hub"
#: Upper bound on an inbox stream's size (ample for an exercise run).
STREAM_MAX_BYTES = 1 << 30

DEFAULT_HUB_CLIENT_PORT = 4222
DEFAULT_HUB_LEAF_PORT = 7422
DEFAULT_HUB_CLUSTER_PORT = 6222
DEFAULT_FIRST_LEAF_PORT = 4223
#: Servers of the hub by default: three, so a JetStream cluster keeps a quorum when one is lost.
DEFAULT_HUB_SERVERS = 3
MAX_HUB_SERVERS = 9
#: Copies of each inbox stream (JetStream replicas): 3 survives the loss of any one server.
MAX_REPLICAS = 3
#: The certificates' folder inside a config folder (see :func:`write_configs`).
TLS_DIR = "tls"
#: The hub's JetStream cluster name (the ``cluster { name }`` of every hub server).
CLUSTER_NAME = "mwx-hub"

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
_SYNC = re.compile(r"^(always|[1-9][0-9]*(ms|s|m|h))$")  # nats-server 2.10's sync_interval values
_SECRET = re.compile(r"^[A-Za-z0-9._~-]{1,128}$")  # URL-unreserved: safe in nats:// URLs and config strings


def inbox_subject(recipient: str, sender: str) -> str:
    """The subject ``sender`` publishes on (from its own account) to reach ``recipient``'s inbox."""
    return f"{INBOX_PREFIX}.{recipient}.{sender}"


def stream_name(recipient: str) -> str:
    """The JetStream stream, in ``recipient``'s account on the hub, that is its inbox."""
    return f"INBOX_{recipient}"


def durable_name(recipient: str) -> str:
    """The durable pull consumer (explicit ack) ``recipient``'s node reads its inbox with."""
    return f"node_{recipient}"


def check_participant(name: str) -> str:
    """Return ``name`` if usable as a participant (a subject token, an account and stream name part).

    Letters, digits and ``_``, starting with a letter, at most 32 characters: no ``.``, ``*``,
    ``>`` or spaces, which would change the meaning of the subjects built from it.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise InputError(f"participant must be a letter then letters, digits or _ (at most 32), got {name!r}")
    return name


def _check_secret(value: str, what: str) -> str:
    if not isinstance(value, str) or not _SECRET.match(value):
        raise InputError(f"{what} must be 1 to 128 of A-Z a-z 0-9 . _ ~ -")
    return value


#: Where :func:`free_ports` looks when the kernel's ephemeral range cannot be read: below Linux's default one.
_LISTEN_PORTS = (20000, 32768)


def _listen_port_range() -> tuple[int, int]:
    """Ports [low, high) that the kernel never hands out on its own: from 20000 up to its ephemeral range."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return _LISTEN_PORTS
    return (20000, low) if low > 21000 else (low - 1000, low) if low > 2024 else _LISTEN_PORTS


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct TCP ports free on ``host`` right now, for servers that start a moment later.

    Drawn at random below the kernel's ephemeral port range, not from it (binding to port 0): a port the
    kernel picked as free is the kind it also hands to the next outgoing connection's source (a client, a
    leaf's link, another test's server), which then takes it before our server binds it ("address already
    in use").  Each is checked free by binding it; another process may still take one in the window, far
    less likely outside the ephemeral range.
    """
    low, high = _listen_port_range()
    draw = secrets.SystemRandom()
    sockets: list[socket.socket] = []
    try:
        for _ in range(100 * count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind((host, draw.randrange(low, high)))
            except OSError:  # taken (or one of ours already): draw again
                s.close()
                continue
            sockets.append(s)
            if len(sockets) == count:
                break
        if len(sockets) < count:
            raise OSError(f"no {count} free TCP ports on {host} between {low} and {high}")
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class Topology:
    """Where every server of the exchange listens and with which credentials.

    The hub is ``hub_servers`` nats-servers (default 3: a JetStream cluster whose inbox streams keep
    :attr:`replicas` copies, so the loss of one server costs nothing; 1 for small tests), named
    ``hub-1``, ``hub-2``, ...  Server i listens on ``hub_hosts[i]`` (default ``host`` for all) on
    ``hub_client_ports[i]`` (clients), ``hub_leaf_ports[i]`` (leaves) and ``hub_cluster_ports[i]``
    (routes to the other hub servers); lists left empty count up from ``hub_client_port``,
    ``hub_leaf_port`` and ``hub_cluster_port`` (4222, 4223, 4224 for clients...), which then name
    server 1's ports.  ``route_credentials`` (user, password; random by default) is what hub servers
    present to each other: a participant's certificate passes TLS on the cluster port, the route
    password keeps it from joining the cluster.

    ``sync_interval`` (e.g. ``always``) is written into every hub server's ``jetstream {}`` block: how often
    JetStream fsyncs its files (``always``: every write, before the PubAck).  nats-server 2.10 and later
    only: 2.9.10 refuses the key ("unknown field") and fsyncs on its own schedule, never per acknowledgement
    (docs/exchange.md); the default, None, writes nothing.

    Each leaf listens on ``leaf_host`` (default 127.0.0.1: a participant's node runs beside its leaf).
    ``leaf_ports`` missing a participant get consecutive ports from 4223 (skipping used ones);
    ``credentials`` missing a participant get a random user and password (``secrets``).  The
    monitoring ports (``hub_http_ports``, ``leaf_http_ports``; HTTP on 127.0.0.1 only) are optional
    for a deployment; :class:`mwx.exchange.servers.NatsCluster` needs them and picks free ones.
    """

    participants: list[str]
    host: str = "127.0.0.1"
    hub_client_port: int = DEFAULT_HUB_CLIENT_PORT
    hub_leaf_port: int = DEFAULT_HUB_LEAF_PORT
    leaf_ports: dict[str, int] = field(default_factory=dict)
    store_dir: Path = Path("jetstream")
    credentials: dict[str, tuple[str, str]] = field(default_factory=dict)
    leaf_http_ports: dict[str, int] = field(default_factory=dict)
    leaf_host: str = "127.0.0.1"
    hub_servers: int = DEFAULT_HUB_SERVERS
    hub_cluster_port: int = DEFAULT_HUB_CLUSTER_PORT
    hub_hosts: list[str] = field(default_factory=list)
    hub_client_ports: list[int] = field(default_factory=list)
    hub_leaf_ports: list[int] = field(default_factory=list)
    hub_cluster_ports: list[int] = field(default_factory=list)
    hub_http_ports: list[int] = field(default_factory=list)
    route_credentials: tuple[str, str] | None = None
    sync_interval: str | None = None

    def __post_init__(self) -> None:
        self.participants = [check_participant(p) for p in self.participants]
        if not self.participants:
            raise InputError("at least one participant is needed")
        if len(set(self.participants)) != len(self.participants):
            raise InputError(f"participants must be distinct, got {','.join(self.participants)}")
        unknown = (set(self.leaf_ports) | set(self.credentials) | set(self.leaf_http_ports)) - set(self.participants)
        if unknown:
            raise InputError(f"ports or credentials given for unknown participants: {', '.join(sorted(unknown))}")
        if not isinstance(self.hub_servers, int) or not 1 <= self.hub_servers <= MAX_HUB_SERVERS:
            raise InputError(f"the hub needs 1 to {MAX_HUB_SERVERS} servers, got {self.hub_servers!r}")
        self.store_dir = Path(self.store_dir)
        self._hub_lists()
        self.leaf_ports = dict(self.leaf_ports)
        taken = {*self.hub_client_ports, *self.hub_leaf_ports, *self.hub_cluster_ports, *self.leaf_ports.values()}
        port = DEFAULT_FIRST_LEAF_PORT
        for p in self.participants:
            if p not in self.leaf_ports:
                while port in taken:
                    port += 1
                self.leaf_ports[p] = port
                taken.add(port)
        self.credentials = dict(self.credentials)
        for p in self.participants:
            if p not in self.credentials:
                self.credentials[p] = (f"{p}-{secrets.token_hex(4)}", secrets.token_urlsafe(24))
            user, password = self.credentials[p]
            _check_secret(user, f"user of {p}")
            _check_secret(password, f"password of {p}")
        if self.route_credentials is None:
            self.route_credentials = (f"route-{secrets.token_hex(4)}", secrets.token_urlsafe(24))
        _check_secret(self.route_credentials[0], "route user")
        _check_secret(self.route_credentials[1], "route password")
        if self.sync_interval is not None and not _SYNC.match(self.sync_interval):
            raise InputError(f"sync interval must be 'always' or a duration such as 10s, got {self.sync_interval!r}")
        self._check_ports()

    def _hub_lists(self) -> None:
        """One host and one port of each kind per hub server; server 1's name the single-port fields."""
        n = self.hub_servers
        self.hub_hosts = list(self.hub_hosts) or [self.host] * n
        self.hub_client_ports = list(self.hub_client_ports) or [self.hub_client_port + i for i in range(n)]
        self.hub_leaf_ports = list(self.hub_leaf_ports) or [self.hub_leaf_port + i for i in range(n)]
        self.hub_cluster_ports = list(self.hub_cluster_ports) or [self.hub_cluster_port + i for i in range(n)]
        self.hub_http_ports = list(self.hub_http_ports)
        lists: dict[str, list[str] | list[int]] = {
            "hub_hosts": self.hub_hosts,
            "hub_client_ports": self.hub_client_ports,
            "hub_leaf_ports": self.hub_leaf_ports,
            "hub_cluster_ports": self.hub_cluster_ports,
        }
        if self.hub_http_ports:
            lists["hub_http_ports"] = self.hub_http_ports
        for what, values in lists.items():
            if len(values) != n:
                raise InputError(f"{what} must name one per hub server ({n}), got {len(values)}")
        self.host = self.hub_hosts[0]
        self.hub_client_port = self.hub_client_ports[0]
        self.hub_leaf_port = self.hub_leaf_ports[0]
        self.hub_cluster_port = self.hub_cluster_ports[0]

    def _check_ports(self) -> None:
        """Every port in range, and no two servers on one host listening on the same port."""
        bound: list[tuple[str, int]] = []
        for i in range(self.hub_servers):
            host = self.hub_hosts[i]
            bound += [(host, self.hub_client_ports[i]), (host, self.hub_leaf_ports[i])]
            if self.hub_servers > 1:
                bound.append((host, self.hub_cluster_ports[i]))
            if self.hub_http_ports:
                bound.append((host, self.hub_http_ports[i]))
        bound += [(self.leaf_host, q) for q in self.leaf_ports.values()]
        bound += [(self.leaf_host, q) for q in self.leaf_http_ports.values()]
        ports = sorted(q for _, q in bound)
        if any(not 0 < q < 65536 for q in ports):
            raise InputError(f"ports must be between 1 and 65535, got {ports}")
        if len(set(bound)) != len(bound):
            raise InputError(f"every server port on a host must be distinct, got {ports}")

    @classmethod
    def local(
        cls, participants: list[str], store_dir: Path | str, *, hub_servers: int = DEFAULT_HUB_SERVERS
    ) -> Topology:
        """A topology on 127.0.0.1 with free ports for every server (and its monitoring), for tests."""
        n, h = len(participants), hub_servers
        ports = free_ports(4 * h + 2 * n)
        return cls(
            participants=list(participants),
            host="127.0.0.1",
            hub_servers=h,
            hub_client_ports=ports[0:h],
            hub_leaf_ports=ports[h : 2 * h],
            hub_cluster_ports=ports[2 * h : 3 * h],
            hub_http_ports=ports[3 * h : 4 * h],
            leaf_ports=dict(zip(participants, ports[4 * h : 4 * h + n], strict=True)),
            store_dir=Path(store_dir),
            leaf_http_ports=dict(zip(participants, ports[4 * h + n :], strict=True)),
            leaf_host="127.0.0.1",
        )

    @property
    def hub_names(self) -> list[str]:
        """The hub servers' names: ``hub-1``, ``hub-2``, ... (server names, config and certificate names)."""
        return [hub_name(i) for i in range(self.hub_servers)]

    @property
    def replicas(self) -> int:
        """How many hub servers keep a copy of each inbox stream: min(3, hub servers)."""
        return min(MAX_REPLICAS, self.hub_servers)

    def url(self, participant: str) -> str:
        """``tls://user:pass@host:port`` of ``participant``'s leaf: what its node connects to."""
        user, password = self.credentials[participant]
        return f"tls://{user}:{password}@{self.leaf_host}:{self.leaf_ports[participant]}"

    def hub_url(self, participant: str, server: int = 0) -> str:
        """``tls://user:pass@host:port`` of hub server ``server``'s client port with ``participant``'s credentials."""
        user, password = self.credentials[participant]
        return f"tls://{user}:{password}@{self.hub_hosts[server]}:{self.hub_client_ports[server]}"

    def hub_urls(self, participant: str) -> list[str]:
        """Every hub server's client URL with ``participant``'s credentials (a client fails over among them)."""
        return [self.hub_url(participant, i) for i in range(self.hub_servers)]


def hub_name(server: int) -> str:
    """The name of hub server ``server`` (0-based): ``hub-1``, ``hub-2``, ..."""
    return f"hub-{server + 1}"


def leaf_name(participant: str) -> str:
    """The server (and certificate) name of ``participant``'s leaf."""
    return f"leaf-{participant}"


# --------------------------------------------------------------------------- permissions
def user_permissions(participant: str) -> dict[str, Any]:
    """What ``participant``'s user may publish and subscribe to, on the hub and on its own leaf.

    Publish: its own sender token on every inbox, the JetStream API on its own stream and its
    consumers (no delete or purge of the stream), acks and flow control on its own stream.
    Subscribe: reply inboxes only.
    """
    s = stream_name(participant)
    api_calls = [
        "INFO",
        "STREAM.NAMES",
        "STREAM.LIST",
        f"STREAM.INFO.{s}",
        f"STREAM.CREATE.{s}",
        f"STREAM.UPDATE.{s}",
        f"STREAM.MSG.GET.{s}",
        f"DIRECT.GET.{s}",
        f"DIRECT.GET.{s}.>",
        f"CONSUMER.CREATE.{s}",
        f"CONSUMER.CREATE.{s}.>",
        f"CONSUMER.DURABLE.CREATE.{s}.*",
        f"CONSUMER.INFO.{s}.*",
        f"CONSUMER.DELETE.{s}.*",
        f"CONSUMER.NAMES.{s}",
        f"CONSUMER.LIST.{s}",
        f"CONSUMER.MSG.NEXT.{s}.*",
    ]
    # Both API prefixes: a leaf maps $JS.API to $JS.<domain>.API, the hub maps it back (see module doc).
    prefixes = ["$JS.API", f"$JS.{JS_DOMAIN}.API"]
    return {
        "publish": {
            "allow": [
                f"{INBOX_PREFIX}.*.{participant}",
                *(f"{prefix}.{call}" for prefix in prefixes for call in api_calls),
                f"$JS.ACK.{s}.>",
                f"$JS.FC.{s}.>",
            ]
        },
        "subscribe": {"allow": ["_INBOX.>"]},
    }


# --------------------------------------------------------------------------- config rendering
_BARE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _render(value: Any, indent: int = 0) -> str:
    """``value`` in nats-server config syntax: maps as ``key: value`` blocks, strings always quoted.

    Quoting every string keeps ``$JS...`` subjects from being read as ``$variable`` references.
    """
    pad = "  " * (indent + 1)
    end = "  " * indent
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        lines = [f"{pad}{_key(k)}: {_render(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + "\n".join(lines) + f"\n{end}}}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        return "[\n" + "\n".join(f"{pad}{_render(v, indent + 1)}" for v in value) + f"\n{end}]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def render_config(config: Mapping[str, Any], comment: str = "") -> str:
    """A whole config file: top-level ``key: value`` lines after a ``#`` comment header."""
    head = "".join(f"# {line}\n".replace("# \n", "#\n") for line in comment.splitlines())
    body = "\n".join(f"{_key(k)}: {_render(v)}" for k, v in config.items())
    return head + body + "\n"


def hub_config(topology: Topology, server: int, pki: Pki, leaf_advertise: str | None = None) -> dict[str, Any]:
    """Hub server ``server``'s config: JetStream, one account per participant with its exports/imports, TLS.

    TLS with ``verify: true`` (a certificate of the exchange's CA required) on its client port, its leaf
    port and, with several hub servers, its cluster port (routes to every other hub server, with the
    route credentials).  ``leaf_advertise`` (``host:port``) is the leaf address the server tells leaves
    about; by default its own.  nats-server 2.9 always sends one (``no_advertise`` does not suppress
    it) and a leaf adds it to the addresses it dials on reconnect.
    """
    t = topology
    name = hub_name(server)
    host = t.hub_hosts[server]
    config: dict[str, Any] = {"server_name": name, "host": host, "port": t.hub_client_ports[server]}
    if t.hub_http_ports:
        config["http"] = f"127.0.0.1:{t.hub_http_ports[server]}"
    config |= {
        "tls": pki.server_tls(name),
        "jetstream": {"store_dir": str(t.store_dir / name), "domain": JS_DOMAIN}
        | ({"sync_interval": t.sync_interval} if t.sync_interval else {}),
        "leafnodes": {"host": host, "port": t.hub_leaf_ports[server], "tls": pki.server_tls(name)},
    }
    if leaf_advertise:
        config["leafnodes"]["advertise"] = leaf_advertise
    if t.hub_servers > 1:
        config["cluster"] = _cluster_block(t, server, pki)
    config["accounts"] = _accounts(t)
    return config


def _cluster_block(topology: Topology, server: int, pki: Pki) -> dict[str, Any]:
    """The routes between hub servers: mutual TLS, and the route password (which no participant has)."""
    t = topology
    assert t.route_credentials is not None
    user, password = t.route_credentials
    routes = [
        f"nats-route://{user}:{password}@{t.hub_hosts[i]}:{t.hub_cluster_ports[i]}"
        for i in range(t.hub_servers)
        if i != server
    ]
    return {
        "name": CLUSTER_NAME,
        "host": t.hub_hosts[server],
        "port": t.hub_cluster_ports[server],
        "authorization": {"user": user, "password": password, "timeout": 5},
        "routes": routes,
        "tls": pki.server_tls(hub_name(server)),
    }


def _accounts(topology: Topology) -> dict[str, Any]:
    """One account per participant: its user, and the service exports/imports that carry inbox traffic."""
    t = topology
    accounts: dict[str, Any] = {}
    for r in t.participants:
        user, password = t.credentials[r]
        senders = [s for s in t.participants if s != r]
        accounts[r] = {
            "jetstream": "enabled",
            "users": [{"user": user, "password": password, "permissions": user_permissions(r)}],
            # R's inbox takes mwx.in.R.S from account S only: one service export per sender.
            "exports": [{"service": inbox_subject(r, s), "accounts": [s]} for s in senders],
            "imports": [{"service": {"account": s, "subject": inbox_subject(s, r)}} for s in senders],
        }
    return accounts


def leaf_config(
    topology: Topology, participant: str, pki: Pki, remote_ports: Sequence[int] | None = None
) -> dict[str, Any]:
    """``participant``'s leaf: one local account and user, dialling every hub server's leaf port as that participant.

    TLS on its client port (``verify: true``: the node presents its client certificate) and on the link
    (the leaf presents its own certificate, and accepts a hub server only with one of the exchange's CA).
    The remote lists every hub server, so the leaf fails over when the one it is linked to goes.
    ``remote_ports`` (one per hub server) replaces the hub's leaf ports in the remote URLs, all on the
    first hub host (e.g. test proxies in between, see :class:`mwx.exchange.servers.NatsCluster`).
    """
    t = topology
    user, password = t.credentials[participant]
    name = leaf_name(participant)
    if remote_ports is None:
        targets = list(zip(t.hub_hosts, t.hub_leaf_ports, strict=True))
    else:
        targets = [(t.host, port) for port in remote_ports]
    config: dict[str, Any] = {"server_name": name, "host": t.leaf_host, "port": t.leaf_ports[participant]}
    if participant in t.leaf_http_ports:
        config["http"] = f"127.0.0.1:{t.leaf_http_ports[participant]}"
    config |= {
        "tls": pki.server_tls(name),
        # No JetStream here: the participant's JetStream API calls go to the hub's domain.
        "default_js_domain": {participant: JS_DOMAIN},
        "accounts": {
            participant: {"users": [{"user": user, "password": password, "permissions": user_permissions(participant)}]}
        },
        "leafnodes": {
            "reconnect": 1,
            "remotes": [
                {
                    "urls": [f"nats-leaf://{user}:{password}@{host}:{port}" for host, port in targets],
                    "account": participant,
                    "tls": pki.server_tls(name, verify=False),
                }
            ],
        },
    }
    return config


def _write_secret(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (it holds passwords)."""
    write_secret(path, text.encode("utf-8"))


def create_topology_pki(topology: Topology, folder: Path | str) -> Pki:
    """The exchange's CA and certificates for ``topology`` in ``folder``: every hub server and leaf, every
    participant's node and the hub's operator (see :mod:`mwx.exchange.certs`)."""
    t = topology
    servers = {hub_name(i): [t.hub_hosts[i]] for i in range(t.hub_servers)}
    servers |= {leaf_name(p): [t.leaf_host] for p in t.participants}
    return create_pki(folder, servers, [*(client_name(p) for p in t.participants), OPERATOR])


def write_configs(
    topology: Topology,
    out_dir: Path | str,
    *,
    leaf_remote_ports: Mapping[str, Sequence[int]] | None = None,
    hub_leaf_advertise: str | None = None,
) -> dict[str, Path]:
    """Write the certificates (``tls/``), ``hub-<i>.conf`` per hub server, ``leaf-<P>.conf`` per participant
    and ``credentials.json`` to ``out_dir``.

    ``tls/`` holds the CA (``ca.pem``; its key ``ca.key`` stays here, mode 0600) and each server's and
    client's certificate and key (see :func:`create_topology_pki`).  ``credentials.json`` maps each
    participant to ``{user, password, url, hub_urls, ca, cert, key}`` (``url`` is its leaf; ``cert`` and
    ``key`` its node's client certificate).  ``leaf_remote_ports`` (participant -> one port per hub
    server) makes those leaves dial those ports on the hub's host instead of the hub's leaf ports, and
    ``hub_leaf_advertise`` replaces the leaf address every hub server advertises (see :func:`hub_config`):
    :class:`mwx.exchange.servers.NatsCluster` uses both to keep every leaf behind its link proxies.
    Returns file name -> path, and ``"tls"`` -> the certificates' folder.  Config files are mode 0600:
    they contain passwords.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    remote = dict(leaf_remote_ports or {})
    pki = create_topology_pki(topology, out / TLS_DIR)
    written: dict[str, Path] = {TLS_DIR: pki.dir}
    for i, name in enumerate(topology.hub_names):
        path = out / f"{name}.conf"
        _write_secret(
            path,
            render_config(
                hub_config(topology, i, pki, hub_leaf_advertise),
                f"mwx exchange hub server {name} of {topology.hub_servers} (nats-server 2.9+): one account and "
                f"inbox stream per participant of {','.join(topology.participants)}.\n"
                "Written by mwx.exchange.natsconf; contains every participant's password.",
            ),
        )
        written[path.name] = path
    for p in topology.participants:
        path = out / f"{leaf_name(p)}.conf"
        _write_secret(
            path,
            render_config(
                leaf_config(topology, p, pki, remote.get(p)),
                f"mwx exchange leaf node of {p} (nats-server 2.9+): {p}'s node connects here only.\n"
                f"Written by mwx.exchange.natsconf; contains {p}'s password.",
            ),
        )
        written[path.name] = path
    creds = {
        p: {
            "user": topology.credentials[p][0],
            "password": topology.credentials[p][1],
            "url": topology.url(p),
            "hub_urls": topology.hub_urls(p),
            "ca": str(pki.ca),
            "cert": str(pki.cert(client_name(p))),
            "key": str(pki.key(client_name(p))),
        }
        for p in topology.participants
    }
    creds_path = out / "credentials.json"
    _write_secret(creds_path, json.dumps(creds, indent=2) + "\n")
    written["credentials.json"] = creds_path
    return written


# --------------------------------------------------------------------------- streams
def stream_config(recipient: str, replicas: int = 1) -> StreamConfig:
    """The :class:`nats.js.api.StreamConfig` of ``recipient``'s inbox stream, kept on ``replicas`` hub servers."""
    from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

    return StreamConfig(
        name=stream_name(recipient),
        subjects=[f"{INBOX_PREFIX}.{recipient}.*"],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_msgs=-1,
        max_bytes=STREAM_MAX_BYTES,
        duplicate_window=DUPLICATE_WINDOW_S,
        num_replicas=replicas,
    )


async def ensure_streams(topology: Topology, *, tls: ssl.SSLContext | None = None, timeout: float = 5.0) -> None:
    """Create every participant's inbox stream on the hub if it is absent (idempotent), R = ``topology.replicas``.

    Connects to the hub's client ports (any server that answers) as each participant in turn (its
    stream lives in its own account, so only its own user can create it), with the client TLS context
    ``tls`` (e.g. the operator's, :meth:`mwx.exchange.certs.Pki.client_context`): the hub refuses a
    client without a certificate.  An existing stream is left as it is.
    """
    import nats
    from nats.js.errors import NotFoundError

    for p in topology.participants:
        nc = await nats.connect(
            servers=topology.hub_urls(p),
            tls=tls,
            connect_timeout=timeout,
            max_reconnect_attempts=0,
            allow_reconnect=False,
        )
        try:
            js = nc.jetstream(timeout=timeout)
            try:
                await js.stream_info(stream_name(p))
            except NotFoundError:
                await js.add_stream(config=stream_config(p, topology.replicas))
        finally:
            await nc.close()
