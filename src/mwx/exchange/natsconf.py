"""The NATS JetStream topology of the exchange: names, server configs and the inbox streams.

Topology (mirrors a real deployment):

* One **hub** server, run by the US, with JetStream and one **account per participant** (the
  partners, e.g. KR, JP, US, and the listen-only observer ``fused``, which is simply one more
  participant).  In each account lives that participant's inbox stream ``INBOX_<P>``, capturing
  ``mwx.in.<P>.*`` (file storage, 120 s ``Nats-Msg-Id`` de-duplication window).
* One **leaf-node** server per participant, run by that participant, which dials the hub's leaf
  port with the participant's credentials and binds to the participant's account there.  The
  participant's node software connects only to its own leaf.

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
against nats-server 2.9.10.  Passwords are written in clear (hub.conf holds every participant's,
a leaf config its participant's): the files are written mode 0600.  A deployment may replace them
with bcrypt hashes (made with the ``nats`` CLI's ``nats server passwd``) in hub.conf.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mwx.errors import InputError

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
DEFAULT_FIRST_LEAF_PORT = 4223

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
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


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct TCP ports free on ``host`` right now (bound to port 0, then released).

    There is a small window in which another process could take one; good enough for tests.
    """
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class Topology:
    """Where every server of the exchange listens and with which credentials.

    ``host`` is the hub's address: it listens there and the leaves dial it.  Each leaf listens on
    ``leaf_host`` (default 127.0.0.1: a participant's node runs beside its leaf).
    ``leaf_ports`` missing a participant get consecutive ports from 4223 (skipping used ones);
    ``credentials`` missing a participant get a random user and password (``secrets``).  The
    monitoring ports (``hub_http_port``, ``leaf_http_ports``; HTTP on 127.0.0.1 only) are optional
    for a deployment; :class:`mwx.exchange.servers.NatsCluster` needs them and picks free ones.
    """

    participants: list[str]
    host: str = "127.0.0.1"
    hub_client_port: int = DEFAULT_HUB_CLIENT_PORT
    hub_leaf_port: int = DEFAULT_HUB_LEAF_PORT
    leaf_ports: dict[str, int] = field(default_factory=dict)
    store_dir: Path = Path("jetstream")
    credentials: dict[str, tuple[str, str]] = field(default_factory=dict)
    hub_http_port: int | None = None
    leaf_http_ports: dict[str, int] = field(default_factory=dict)
    leaf_host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        self.participants = [check_participant(p) for p in self.participants]
        if not self.participants:
            raise InputError("at least one participant is needed")
        if len(set(self.participants)) != len(self.participants):
            raise InputError(f"participants must be distinct, got {','.join(self.participants)}")
        unknown = (set(self.leaf_ports) | set(self.credentials) | set(self.leaf_http_ports)) - set(self.participants)
        if unknown:
            raise InputError(f"ports or credentials given for unknown participants: {', '.join(sorted(unknown))}")
        self.store_dir = Path(self.store_dir)
        self.leaf_ports = dict(self.leaf_ports)
        taken = {self.hub_client_port, self.hub_leaf_port, *self.leaf_ports.values()}
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
        ports = [
            self.hub_client_port,
            self.hub_leaf_port,
            *self.leaf_ports.values(),
            *([self.hub_http_port] if self.hub_http_port else []),
            *self.leaf_http_ports.values(),
        ]
        if any(not 0 < q < 65536 for q in ports):
            raise InputError(f"ports must be between 1 and 65535, got {sorted(ports)}")
        if len(set(ports)) != len(ports):
            raise InputError(f"every server port must be distinct, got {sorted(ports)}")

    @classmethod
    def local(cls, participants: list[str], store_dir: Path | str) -> Topology:
        """A topology on 127.0.0.1 with free ports for every server (and its monitoring), for tests."""
        n = len(participants)
        ports = free_ports(3 + 2 * n)
        return cls(
            participants=list(participants),
            host="127.0.0.1",
            hub_client_port=ports[0],
            hub_leaf_port=ports[1],
            leaf_ports=dict(zip(participants, ports[3 : 3 + n], strict=True)),
            store_dir=Path(store_dir),
            hub_http_port=ports[2],
            leaf_http_ports=dict(zip(participants, ports[3 + n :], strict=True)),
            leaf_host="127.0.0.1",
        )

    def url(self, participant: str) -> str:
        """``nats://user:pass@host:port`` of ``participant``'s leaf: what its node connects to."""
        user, password = self.credentials[participant]
        return f"nats://{user}:{password}@{self.leaf_host}:{self.leaf_ports[participant]}"

    def hub_url(self, participant: str) -> str:
        """``nats://user:pass@host:port`` of the hub's client port with ``participant``'s credentials."""
        user, password = self.credentials[participant]
        return f"nats://{user}:{password}@{self.host}:{self.hub_client_port}"


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


def hub_config(topology: Topology, leaf_advertise: str | None = None) -> dict[str, Any]:
    """The hub's config: JetStream, one account per participant with its exports/imports, leaf port.

    ``leaf_advertise`` (``host:port``) is the leaf address the hub tells leaves about; by default
    its own.  nats-server 2.9 always sends one (``no_advertise`` does not suppress it) and a leaf
    adds it to the addresses it dials on reconnect.
    """
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
    config: dict[str, Any] = {
        "server_name": "mwx-hub",
        "host": t.host,
        "port": t.hub_client_port,
    }
    if t.hub_http_port:
        config["http"] = f"127.0.0.1:{t.hub_http_port}"
    config |= {
        "jetstream": {"store_dir": str(t.store_dir), "domain": JS_DOMAIN},
        "leafnodes": {"host": t.host, "port": t.hub_leaf_port},
        "accounts": accounts,
    }
    if leaf_advertise:
        config["leafnodes"]["advertise"] = leaf_advertise
    return config


def leaf_config(topology: Topology, participant: str, remote_port: int | None = None) -> dict[str, Any]:
    """``participant``'s leaf: one local account and user, dialling the hub's leaf port as that participant.

    ``remote_port`` replaces the hub's leaf port in the remote URL (e.g. a test proxy in between).
    """
    t = topology
    user, password = t.credentials[participant]
    port = remote_port if remote_port is not None else t.hub_leaf_port
    config: dict[str, Any] = {
        "server_name": f"mwx-leaf-{participant}",
        "host": t.leaf_host,
        "port": t.leaf_ports[participant],
    }
    if participant in t.leaf_http_ports:
        config["http"] = f"127.0.0.1:{t.leaf_http_ports[participant]}"
    config |= {
        # No JetStream here: the participant's JetStream API calls go to the hub's domain.
        "default_js_domain": {participant: JS_DOMAIN},
        "accounts": {
            participant: {"users": [{"user": user, "password": password, "permissions": user_permissions(participant)}]}
        },
        "leafnodes": {
            "reconnect": 1,
            "remotes": [{"url": f"nats-leaf://{user}:{password}@{t.host}:{port}", "account": participant}],
        },
    }
    return config


def _write_secret(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (it holds passwords)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)


def write_configs(
    topology: Topology,
    out_dir: Path | str,
    *,
    leaf_remote_ports: Mapping[str, int] | None = None,
    hub_leaf_advertise: str | None = None,
) -> dict[str, Path]:
    """Write ``hub.conf``, ``leaf-<P>.conf`` per participant and ``credentials.json`` to ``out_dir``.

    ``credentials.json`` maps each participant to ``{user, password, url}`` (``url`` is its leaf).
    ``leaf_remote_ports`` (participant -> port) makes those leaves dial that port on the hub's host
    instead of the hub's leaf port, and ``hub_leaf_advertise`` replaces the leaf address the hub
    advertises (see :func:`hub_config`): :class:`mwx.exchange.servers.NatsCluster` uses both to keep
    every leaf behind its link proxy.  Returns file name -> path.  Files are mode 0600: they contain passwords.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    remote = dict(leaf_remote_ports or {})
    written: dict[str, Path] = {}
    hub_path = out / "hub.conf"
    _write_secret(
        hub_path,
        render_config(
            hub_config(topology, hub_leaf_advertise),
            f"mwx exchange hub (nats-server 2.9+): one account and inbox stream per participant of "
            f"{','.join(topology.participants)}.\n"
            "Written by mwx.exchange.natsconf; contains every participant's password.",
        ),
    )
    written["hub.conf"] = hub_path
    for p in topology.participants:
        path = out / f"leaf-{p}.conf"
        _write_secret(
            path,
            render_config(
                leaf_config(topology, p, remote.get(p)),
                f"mwx exchange leaf node of {p} (nats-server 2.9+): {p}'s node connects here only.\n"
                f"Written by mwx.exchange.natsconf; contains {p}'s password.",
            ),
        )
        written[path.name] = path
    creds = {
        p: {"user": topology.credentials[p][0], "password": topology.credentials[p][1], "url": topology.url(p)}
        for p in topology.participants
    }
    creds_path = out / "credentials.json"
    _write_secret(creds_path, json.dumps(creds, indent=2) + "\n")
    written["credentials.json"] = creds_path
    return written


# --------------------------------------------------------------------------- streams
def stream_config(recipient: str) -> StreamConfig:
    """The :class:`nats.js.api.StreamConfig` of ``recipient``'s inbox stream."""
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
        num_replicas=1,
    )


async def ensure_streams(topology: Topology, *, timeout: float = 5.0) -> None:
    """Create every participant's inbox stream on the hub if it is absent (idempotent).

    Connects to the hub's client port as each participant in turn (its stream lives in its own
    account, so only its own user can create it).  An existing stream is left as it is.
    """
    import nats
    from nats.js.errors import NotFoundError

    for p in topology.participants:
        nc = await nats.connect(
            topology.hub_url(p), connect_timeout=timeout, max_reconnect_attempts=0, allow_reconnect=False
        )
        try:
            js = nc.jetstream(timeout=timeout)
            try:
                await js.stream_info(stream_name(p))
            except NotFoundError:
                await js.add_stream(config=stream_config(p))
        finally:
            await nc.close()
