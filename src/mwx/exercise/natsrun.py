"""``mwx run SCENARIO --bus nats``: the exercise over real NATS servers and one process per participant.

:class:`NatsExercise` does what the embedded run does in one process, with the real parts:

1. flies the missiles and simulates the sensors (:func:`mwx.exercise.run.prepare`) and writes
   the sensor feed ``nats/feed.npz`` every node reads its own sensors' reports from;
2. writes the configs of the hub's three servers and of every leaf, and the certificates of TLS on
   every link (:mod:`mwx.exchange.natsconf`, :mod:`mwx.exchange.certs`) into ``nats/conf/``, starts
   the servers (:class:`mwx.exchange.servers.NatsCluster`; the leaves dial the hub directly, through
   test proxies only with ``link_faults``) and creates the inbox streams (three copies each);
3. makes each participant a key pair (its private key ``nats/config/<P>/<P>.key``, 0600, in a folder of
   its own, 0700), writes every public key to ``nats/keys.json`` and each node's ``node.json`` (0600,
   its own credentials only) beside its key with its TLS files (the CA certificate and its own client
   certificate and key, 0600), and starts one ``mwx node`` process per partner and one
   for the observer ``fused``, all paced on a common clock (``speed`` scenario seconds per wall second);
4. waits until every node has finished the exchange (:mod:`mwx.node.service`), restarting from its
   journal a node that died on its own (up to :data:`NODE_RESTARTS` times; one that refused to start
   fails the run with its own last line), then gathers their outputs into a
   :class:`~mwx.exercise.run.RunResult` for the same run-folder writer.

Every server and node is a child bound to this process (:mod:`mwx.lifecycle`): SIGTERM or Ctrl-C stops
the nodes (they save what they hold) and then the servers, and even a SIGKILL of ``mwx run`` takes them
with it.

The fused event reports come from the observer's journal: every track report it accepted,
fused in the senders' order (:func:`mwx.exercise.run.canonical_order`), so a NATS run and an
embedded run of the same scenario and seed give the same fused reports whatever the order in
which the broker delivered them.  The fault tests drive the same class: :meth:`kill_node`,
:meth:`start_node`, and the cluster's hub and link controls.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import secrets
import signal
import subprocess
import sys
import time as wallclock
from collections import Counter
from pathlib import Path

import msgspec
import numpy as np

from mwx import records
from mwx.errors import MwxError
from mwx.exchange.certs import client_name, copy_secret
from mwx.exchange.envelope import trusted_message
from mwx.exchange.keys import KEYS_FILE, Signer, save_private_key, save_public_keys, write_secret
from mwx.exchange.messages import TrackReport
from mwx.exchange.natsconf import Topology, ensure_streams
from mwx.exchange.servers import NatsCluster
from mwx.exercise.run import (
    FUSED,
    FusedLog,
    Picture,
    Progress,
    RunResult,
    TrackLog,
    Traffic,
    canonical_order,
    partner_events,
    prepare,
)
from mwx.lifecycle import child_options
from mwx.node.journal import Journal
from mwx.node.service import CONFIG_NAME, NodeConfig, save_feed
from mwx.sim.scenario import load_scenario

STARTUP_S = 3.0  # wall s between writing the config and scenario time t0: the node processes start
NODE_RESTARTS = 3  # times wait() restarts a node that died on its own before the run gives up


class NodeFailed(MwxError):
    """A node process exited with an error (its log is in the run folder)."""


class NatsExercise:
    """One scenario run over NATS; use as a context manager so servers and processes are always stopped."""

    def __init__(
        self,
        scenario_path: str | Path,
        out: str | Path,
        *,
        speed: float = 20.0,
        policy_path: str | Path | None = None,
        progress: Progress | None = None,
        link_faults: bool = False,
        http: tuple[str, int] | None = None,
    ) -> None:
        """``http``: (host, port) to serve each partner node's console on, port + k for the k-th partner (0: free
        ones); each node makes its own token in its folder (``console.token``)."""
        self.http = http
        self.scenario_path = Path(scenario_path).resolve()
        self.scenario = load_scenario(self.scenario_path)
        self.out = Path(out).resolve()
        self.dir = self.out / "nats"
        self.speed = speed
        self.policy_path = str(Path(policy_path).resolve()) if policy_path else None
        self.say = progress or (lambda message, fraction: None)
        self.processes: dict[str, subprocess.Popen] = {}
        self.held_down: set[str] = set()  # nodes killed on purpose (kill_node): not restarted by wait()
        self.restarts: Counter[str] = Counter()  # restarts of nodes that died on their own
        self.cluster: NatsCluster | None = None
        #: Leaf links through test proxies that :meth:`NatsCluster.cut_link` can cut (tests only: the proxies
        #: are threads of this process, so a link would die with it).
        self.link_faults = link_faults

    def __enter__(self) -> NatsExercise:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- start
    def start(self) -> None:
        self.started = wallclock.perf_counter()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.prep = prepare(self.scenario, self.say)
        feed = self.dir / "feed.npz"
        save_feed(self.prep.measurements, feed)
        self.partners = list(self.prep.theater.partner_ids)
        participants = [*self.partners, FUSED]
        self.say("starting the NATS hub and leaf servers", None)
        topology = Topology.local(participants, self.dir / "jetstream")
        # The configs and certificates go to nats/conf (nats/conf/tls: the CA and its key stay there).
        self.cluster = NatsCluster(topology, self.dir, link_faults=self.link_faults)
        self.cluster.start()
        asyncio.run(ensure_streams(self.cluster.topology, tls=self.cluster.client_tls()))
        t0 = self.prep.t_start - 1.0
        self.run_id = secrets.token_hex(8)  # each node's journal belongs to this run only
        signers = {p: Signer.generate(p) for p in participants}  # the operating system's random source
        keys_path = self.dir / KEYS_FILE
        save_public_keys({p: s.public_key_text() for p, s in signers.items()}, keys_path)
        epoch = wallclock.time() + STARTUP_S
        for p in participants:
            folder = self.node_folder(p)
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            save_private_key(signers[p], folder / f"{p}.key")
            ca, cert, cert_key = self._copy_tls_files(p, folder)
            config = NodeConfig(
                scenario=str(self.scenario_path),
                feed=str(feed),
                participants=participants,
                senders=self.partners,
                url=self.cluster.url(p),
                key=str(folder / f"{p}.key"),
                keys=str(keys_path),
                epoch=epoch,
                t0=t0,
                t_end=self.prep.t_end,
                speed=self.speed,
                policy=self.policy_path,
                out=str(self.dir / "nodes"),
                ca=str(ca),
                cert=str(cert),
                cert_key=str(cert_key),
                run_id=self.run_id,
                http_host=self.http[0] if self.http else "127.0.0.1",
                http_port=self._console_port(p),
                token_file=str(folder / "console.token") if self._console_port(p) is not None else None,
            )
            write_secret(folder / CONFIG_NAME, msgspec.json.format(msgspec.json.encode(config)))
            self.config = config  # the clock and the span every node shares
        for p in participants:
            self.start_node(p)
        self.say(f"nodes running at {self.speed:g}× real time", None)

    def _console_port(self, participant: str) -> int | None:
        """The port of a partner node's console (the observer has none)."""
        if self.http is None or participant not in self.partners:
            return None
        return 0 if self.http[1] == 0 else self.http[1] + self.partners.index(participant)

    def node_folder(self, partner: str) -> Path:
        """Where ``partner``'s node keeps its secrets: its private key, its TLS files and its ``node.json``."""
        return self.dir / "config" / partner

    def _copy_tls_files(self, partner: str, folder: Path) -> tuple[Path, Path, Path]:
        """Copy the CA certificate and ``partner``'s own client certificate and key into its folder (0600 each):
        a node is handed no other participant's key, nor the CA's."""
        assert self.cluster is not None and self.cluster.pki is not None
        pki = self.cluster.pki
        files = (folder / "tls-ca.pem", folder / "tls-client.pem", folder / "tls-client.key")
        sources = (pki.ca, pki.cert(client_name(partner)), pki.key(client_name(partner)))
        for source, target in zip(sources, files, strict=True):
            copy_secret(source, target)
        return files

    def start_node(self, partner: str) -> None:
        """Start (or restart) ``partner``'s node process; its output goes to ``nats/<partner>.log``."""
        log = (self.dir / f"{partner}.log").open("ab")
        cmd = [
            sys.executable,
            "-m",
            "mwx.cli",
            "node",
            "--partner",
            partner,
            "--config",
            str(self.node_folder(partner)),
        ]
        env = os.environ | {"PYTHONUNBUFFERED": "1"}
        self.processes[partner] = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL, **child_options()
        )
        log.close()
        self.held_down.discard(partner)

    def kill_node(self, partner: str) -> None:
        """SIGKILL ``partner``'s node: no chance to flush or say goodbye (what a crash does).

        The node stays down until :meth:`start_node`: :meth:`wait` does not restart a node killed here.
        """
        self.held_down.add(partner)
        process = self.processes[partner]
        process.send_signal(signal.SIGKILL)
        process.wait()

    def scenario_time(self) -> float:
        return self.config.t0 + self.speed * (wallclock.time() - self.config.epoch)

    # ----------------------------------------------------------------- wait, gather
    def wait(self, timeout_s: float | None = None) -> None:
        """Wait until every node process has finished; raise NodeFailed if one fails or time runs out."""
        span = (self.prep.t_end - self.config.t0) / self.speed
        deadline = wallclock.monotonic() + (timeout_s if timeout_s is not None else span + STARTUP_S + 120.0)
        last = -1.0
        while True:
            codes = {p: proc.poll() for p, proc in self.processes.items()}
            for p, code in codes.items():
                if code not in (None, 0) and p not in self.held_down:
                    self._recover(p, code)
                    codes[p] = None
            if all(c == 0 for c in codes.values()):
                return
            if wallclock.monotonic() > deadline:
                running = [p for p, c in codes.items() if c is None]
                raise NodeFailed(f"nodes still running at the deadline: {', '.join(running)}")
            fraction = min(max((self.scenario_time() - self.config.t0) / (self.prep.t_end - self.config.t0), 0), 1)
            if fraction - last >= 0.05:
                self.say("tracking, sharing, fusing, warning (NATS)", fraction)
                last = fraction
            wallclock.sleep(0.2)

    def _recover(self, partner: str, code: int) -> None:
        """A node died on its own: start it again from its journal, up to :data:`NODE_RESTARTS` times.

        A node that refused to start (exit 2: bad configuration, or a journal that does not match the
        exchange) would refuse again: the run fails at once with the node's own last line.
        """
        log = self.dir / f"{partner}.log"
        last = (log.read_text(errors="replace").strip().splitlines() or [""])[-1] if log.exists() else ""
        if code == 2 or self.restarts[partner] >= NODE_RESTARTS:
            why = "refused to start" if code == 2 else f"exited with {code} after {NODE_RESTARTS} restarts"
            raise NodeFailed(f"node {partner} {why}: {last} (see {log})")
        self.restarts[partner] += 1
        self.say(f"node {partner} exited with {code}; restarting it from its journal "
                 f"({self.restarts[partner]} of {NODE_RESTARTS})", None)  # fmt: skip
        self.start_node(partner)

    def node_state(self, partner: str) -> dict:
        with (self.dir / "nodes" / partner / "state.pickle").open("rb") as f:
            return pickle.load(f)  # written by this run's own node processes

    def fused_reports(self) -> list[TrackReport]:
        """Every track report the observer accepted, from its journal, in the senders' order."""
        journal = Journal(self.dir / "nodes" / FUSED / "journal.sqlite")
        try:
            reports = [m for _, _, data in journal.inbox() if isinstance(m := trusted_message(data), TrackReport)]
        finally:
            journal.close()
        return canonical_order(reports, self.partners)

    def gather(self) -> RunResult:
        """The run's result, as the embedded run gives it, from the nodes' outputs and the observer's journal."""
        states = {p: self.node_state(p) for p in [*self.partners, FUSED]}
        log = TrackLog()
        for p in self.partners:
            log.rows += states[p]["log"].rows
            log.first_detection |= states[p]["log"].first_detection
        fused = FusedLog(log)
        for report in self.fused_reports():
            fused.take(report)
        pictures = {
            p: Picture.of(p, states[p]["fusion"], states[p]["launches"], states[p]["alerts"]) for p in self.partners
        }
        pictures[FUSED] = Picture.of(FUSED, fused.center)
        exchange = {}
        for p, s in states.items():
            lat = s["latencies_s"]
            exchange[p] = records.ExchangeFigures(
                **s["counters"].as_dict(),
                rejections_journalled=len(s["rejections"]),
                withheld=s["withheld"],
                transport=records.TransportFigures(
                    published=s["published"],
                    publish_retries=s["retries"],
                    resend_requests=s["resend_requests"],
                    resent=s["resent"],
                    lost_by_link_injects=s["lost_by_link_injects"],
                    gaps_repaired=s["gaps_repaired"],
                    duplicates_dropped=s["duplicates"],
                    redelivered=s.get("redelivered", 0),
                    latency_ms=records.Latency(
                        p50=float(np.percentile(lat, 50) * 1e3) if lat.size else None,
                        p99=float(np.percentile(lat, 99) * 1e3) if lat.size else None,
                        max=float(lat.max() * 1e3) if lat.size else None,
                    ),
                ),
            )
        sent = sum(s["counters"].sent for s in states.values())
        bytes_sent = sum(s["counters"].bytes_sent for s in states.values())
        prep = self.prep
        return RunResult(
            scenario=self.scenario,
            theater=prep.theater,
            truth=prep.truth,
            measurements=prep.measurements,
            biases=prep.sensor_run.biases,
            object_ids=[o.id for o in prep.objects],
            log=log,
            events=partner_events(log, prep.areas, self.scenario.seed, prep.t_end, fused.center),
            pictures=pictures,
            exchange=exchange,
            traffic=Traffic(sent, bytes_sent),
            wall_time_s=wallclock.perf_counter() - self.started,
            fusion_pairs=fused.pairs,
            bus_kind="nats",
        )

    def close(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.processes.values():
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None


def run_nats(
    scenario_path: str | Path,
    out: str | Path,
    *,
    speed: float = 20.0,
    policy_path: str | Path | None = None,
    progress: Progress | None = None,
    http: tuple[str, int] | None = None,
) -> RunResult:
    """Run ``scenario_path`` over NATS and return its result (the caller writes the run folder); ``http``: serve
    each partner node's console (:class:`NatsExercise`)."""
    with NatsExercise(scenario_path, out, speed=speed, policy_path=policy_path, progress=progress, http=http) as run:
        run.start()
        run.wait()
        return run.gather()
