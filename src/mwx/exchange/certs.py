"""The exchange's private certificate authority: TLS on every client, leaf and cluster link.

Why a private CA: the hub, the leaves and the nodes belong to one alliance, and nothing outside it
should be able to speak on its links.  :func:`create_pki` makes a CA and signs, with it,

* a **server certificate** per nats-server (each hub server, each participant's leaf), valid for
  the server's addresses (subject alternative names: its host, ``localhost``, ``127.0.0.1``) and
  usable both ways (``serverAuth`` and ``clientAuth``), because a leaf dialling the hub and a hub
  server dialling another for a cluster route present it as a client;
* a **client certificate** per participant's node (``clientAuth`` only), and one for the hub's
  operator (``operator``: the tools that create the inbox streams).

Every server runs with ``verify: true`` on every port, so a connection without a certificate signed
by this CA is refused during the handshake, before any password is read.  Passwords still decide who
a connection is (the accounts of :mod:`mwx.exchange.natsconf`); the certificates decide whether it
may speak at all.  Keys are ECDSA P-256 (quick handshakes, supported by Go's TLS and OpenSSL).

Files (all PEM) in the PKI folder (mode 0700): ``ca.pem`` (0644), ``ca.key`` (0600, never handed to
a node: whoever holds it can admit anyone), and ``<name>.pem`` / ``<name>.key`` (0600) per
certificate.  The certificates carry the extensions strict verifiers ask for (key identifiers, key
usage, a critical CA basic constraint), so OpenSSL 3 with ``X509_STRICT`` accepts them too.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mwx.errors import InputError
from mwx.exchange.keys import write_secret

#: Who the certificates say issued them.
ORGANIZATION = "mwx exchange"
#: How long a generated certificate is valid (a deployment renews by running ``mwx nats-config`` again).
VALID_DAYS = 825
#: Every server is also reachable on the loopback interface (its operator's own tools, the tests).
LOOPBACK_NAMES = ("localhost", "127.0.0.1")
#: The hub operator's client certificate (creates the inbox streams; no participant's).
OPERATOR = "operator"


def client_tls_context(
    ca_file: str | Path, cert_file: str | Path | None = None, key_file: str | Path | None = None
) -> ssl.SSLContext:
    """An :class:`ssl.SSLContext` for a client of the exchange's servers (nats-py's ``tls=``).

    It trusts only the exchange's CA (``ca_file``), checks the server's name against the URL's host, and
    presents ``cert_file``/``key_file`` (the servers run ``verify: true``: without one they refuse).
    """
    if (cert_file is None) != (key_file is None):
        raise InputError("a client certificate needs its key file, and a key its certificate")
    source = str(ca_file)
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=source)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if cert_file is not None:
            source = str(cert_file)
            context.load_cert_chain(source, str(key_file))
    except OSError as err:  # ssl.SSLError included: a file that is not PEM, a key that does not match
        raise InputError(f"cannot load TLS certificate or key: {err.strerror or err}", source=source) from None
    return context


@dataclass(frozen=True)
class Pki:
    """Where the exchange's certificates are (see the module doc); only paths, nothing is read."""

    dir: Path

    @property
    def ca(self) -> Path:
        """The CA certificate every server and client trusts."""
        return self.dir / "ca.pem"

    @property
    def ca_key(self) -> Path:
        """The CA's private key: stays with whoever runs ``mwx nats-config``."""
        return self.dir / "ca.key"

    def cert(self, name: str) -> Path:
        """The certificate of server or client ``name`` (``hub-1``, ``leaf-KR``, ``client-KR``, ...)."""
        return self.dir / f"{name}.pem"

    def key(self, name: str) -> Path:
        """The private key of ``name``'s certificate (mode 0600)."""
        return self.dir / f"{name}.key"

    def server_tls(self, name: str, *, verify: bool = True, timeout_s: int = 5) -> dict[str, object]:
        """A nats-server ``tls {}`` block presenting ``name``'s certificate and trusting only the CA.

        ``verify``: ask the peer for a certificate and refuse one the CA did not sign (every listening
        port).  ``timeout_s`` bounds the handshake: generous, for loaded hosts.
        """
        block: dict[str, object] = {
            "cert_file": str(self.cert(name)),
            "key_file": str(self.key(name)),
            "ca_file": str(self.ca),
        }
        if verify:
            block["verify"] = True
        block["timeout"] = timeout_s
        return block

    def client_context(self, name: str) -> ssl.SSLContext:
        """A client TLS context presenting ``name``'s certificate (see :func:`client_tls_context`)."""
        return client_tls_context(self.ca, self.cert(name), self.key(name))


def client_name(participant: str) -> str:
    """The certificate name of ``participant``'s node (its client certificate)."""
    return f"client-{participant}"


def create_pki(folder: Path | str, servers: Mapping[str, Iterable[str]], clients: Iterable[str]) -> Pki:
    """Make a CA in ``folder`` and sign a certificate for each server (name -> its hosts) and client.

    A CA already in ``folder`` is replaced: certificates of an earlier CA no longer verify, which is
    what regenerating a deployment's configs should mean.
    """
    pki = Pki(Path(folder))
    pki.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(pki.dir, 0o700)
    ca_key = _new_key()
    ca_cert = _ca_certificate(ca_key)
    _write_key(pki.ca_key, ca_key)
    _write_cert(pki.ca, ca_cert)
    for name, hosts in servers.items():
        key = _new_key()
        _write_key(pki.key(name), key)
        _write_cert(pki.cert(name), _leaf_certificate(ca_cert, ca_key, key, name, [*hosts, *LOOPBACK_NAMES], True))
    for name in clients:
        key = _new_key()
        _write_key(pki.key(name), key)
        _write_cert(pki.cert(name), _leaf_certificate(ca_cert, ca_key, key, name, [], False))
    return pki


# --------------------------------------------------------------------------- certificates
def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _validity(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    # An hour back: a peer whose clock is a little behind still accepts a certificate made just now.
    return builder.not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=VALID_DAYS))


def _ca_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = _name(f"{ORGANIZATION} CA")
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    return _validity(builder).sign(key, hashes.SHA256())


def _leaf_certificate(
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    key: ec.EllipticCurvePrivateKey,
    name: str,
    hosts: list[str],
    server: bool,
) -> x509.Certificate:
    """A certificate for ``name`` signed by the CA: a server's (valid for ``hosts``, both ways) or a client's."""
    public = key.public_key()
    usages = (
        [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
        if server
        else [ExtendedKeyUsageOID.CLIENT_AUTH]
    )
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(ca_cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
    )
    if hosts:
        builder = builder.add_extension(x509.SubjectAlternativeName(_alt_names(hosts)), critical=False)
    return _validity(builder).sign(ca_key, hashes.SHA256())


def _alt_names(hosts: Iterable[str]) -> list[x509.GeneralName]:
    """IP addresses as IP names, the rest as DNS names; wildcard listen addresses (0.0.0.0, ::) left out."""
    names: list[x509.GeneralName] = []
    seen: set[str] = set()
    for host in hosts:
        if host in seen or host in ("0.0.0.0", "::", ""):
            continue
        seen.add(host)
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


# --------------------------------------------------------------------------- files
def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    """Write ``key`` (PEM, unencrypted) readable by its owner only."""
    write_secret(
        path,
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.chmod(path, 0o644)


def copy_secret(source: Path, target: Path) -> None:
    """Copy a key or certificate file to ``target`` with mode 0600 (a node's own copy, in its own folder)."""
    write_secret(target, source.read_bytes())
