"""Partners' Ed25519 keys: key files, signing and verification.

Files (written by :func:`generate`, ``mwx keys generate PARTNER``):

* ``PARTNER.key`` — the private key, PEM (PKCS#8, unencrypted: ``-----BEGIN PRIVATE KEY-----``),
  file mode 0600.  Only its partner's node reads it.
* ``PARTNER.pub`` — the public key: one line, standard base64 of the 32 raw Ed25519 bytes.
* ``keys.json`` — every partner's public key, the file each node verifies with::

      {"JP": "<base64 of 32 bytes>", "KR": "...", "US": "..."}

  Keys are partner codes (2–8 letters); :func:`load_public_keys` refuses anything else,
  a duplicated partner included.

Keys from a seed (:meth:`Signer.from_seed`) are for tests and exercises only: anyone who
knows the seed can sign as that partner.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mwx.errors import InputError

PARTNER_PATTERN = re.compile(r"[A-Za-z]{2,8}")
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64
KEYS_FILE = "keys.json"


def check_partner(partner: str, *, where: str = "PARTNER") -> str:
    """``partner`` if it is a partner code (2–8 ASCII letters), else InputError."""
    if not PARTNER_PATTERN.fullmatch(partner):
        raise InputError(f"a partner code is 2 to 8 letters, got {partner!r}", where=where)
    return partner


def public_key_text(key: Ed25519PublicKey) -> str:
    """Standard base64 of the raw 32-byte public key (the form of ``.pub`` files and keys.json)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


class Signer:
    """One partner's private key: signs what that partner sends."""

    def __init__(self, partner: str, private_key: Ed25519PrivateKey) -> None:
        self.partner = check_partner(partner)
        self._key = private_key
        self.public_key = private_key.public_key()

    @classmethod
    def generate(cls, partner: str) -> Signer:
        """A fresh random key pair (the operating system's random source)."""
        return cls(partner, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, partner: str, seed: int | str | bytes = 0) -> Signer:
        """A key derived from ``seed`` and ``partner``: the same every time. FOR TESTS AND EXERCISES ONLY.

        The private key is SHA-256("mwx exercise key" ‖ 0 ‖ partner ‖ 0 ‖ seed); anyone who
        knows the seed can sign as the partner.
        """
        seed_bytes = seed if isinstance(seed, bytes) else str(seed).encode()
        digest = hashlib.sha256(b"mwx exercise key\0" + check_partner(partner).encode() + b"\0" + seed_bytes).digest()
        return cls(partner, Ed25519PrivateKey.from_private_bytes(digest))

    @classmethod
    def from_file(cls, path: str | Path, partner: str | None = None) -> Signer:
        """The private key of a ``PARTNER.key`` file (PEM, PKCS#8); the partner is the file's stem by default."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise InputError("no such key file", source=str(path)) from None
        except OSError as err:
            raise InputError(f"cannot read: {err.strerror}", source=str(path)) from None
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as err:
            raise InputError(f"not an unencrypted PEM private key ({err})", source=str(path)) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise InputError("not an Ed25519 private key", source=str(path))
        name = partner if partner is not None else path.stem
        try:
            return cls(name, key)
        except InputError as err:
            raise InputError(err.problem, source=str(path)) from None

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``data``."""
        return self._key.sign(data)

    def private_pem(self) -> bytes:
        """The private key as PEM (PKCS#8, unencrypted)."""
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def public_key_text(self) -> str:
        return public_key_text(self.public_key)


class Verifier:
    """Every known partner's public key: checks who signed what."""

    def __init__(self, public_keys: Mapping[str, bytes | Ed25519PublicKey]) -> None:
        self._keys: dict[str, Ed25519PublicKey] = {}
        for partner, key in public_keys.items():
            check_partner(partner, where=str(partner))
            self._keys[partner] = key if isinstance(key, Ed25519PublicKey) else _public_key(key, partner)

    @classmethod
    def from_file(cls, path: str | Path) -> Verifier:
        """The keys of a keys.json file (:func:`load_public_keys`)."""
        return cls(load_public_keys(path))

    @classmethod
    def of(cls, *signers: Signer) -> Verifier:
        """The verifier of these signers' partners (tests, exercises)."""
        return cls({s.partner: s.public_key for s in signers})

    @property
    def partners(self) -> tuple[str, ...]:
        return tuple(sorted(self._keys))

    def knows(self, partner: str) -> bool:
        return partner in self._keys

    def verify(self, partner: str, signature: bytes, data: bytes) -> bool:
        """Whether ``signature`` is ``partner``'s Ed25519 signature of ``data`` (False for an unknown partner)."""
        key = self._keys.get(partner)
        if key is None or len(signature) != SIGNATURE_BYTES:
            return False
        try:
            key.verify(signature, data)
        except InvalidSignature:
            return False
        return True


def _public_key(raw: bytes, partner: str, source: str = "") -> Ed25519PublicKey:
    if len(raw) != PUBLIC_KEY_BYTES:
        raise InputError(f"an Ed25519 public key is 32 bytes, got {len(raw)}", source=source, where=partner)
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as err:
        raise InputError(f"not an Ed25519 public key ({err})", source=source, where=partner) from None


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            # Two keys for one partner: which one is meant cannot be guessed.
            raise InputError(f"partner {key!r} appears twice", where=key)
        out[key] = value
    return out


def load_public_keys(path: str | Path) -> dict[str, bytes]:
    """Partner → raw 32-byte Ed25519 public key, from a keys.json file; InputError naming the problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such public key file", source=str(path)) from None
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", source=str(path)) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", source=str(path)) from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as err:
        raise InputError(f"not valid JSON: {err.msg}", source=str(path), where=f"line {err.lineno}") from None
    except InputError as err:
        raise InputError(err.problem, source=str(path), where=err.where) from None
    if not isinstance(data, dict):
        raise InputError('expected an object {"PARTNER": "<base64 public key>", ...}', source=str(path))
    keys: dict[str, bytes] = {}
    for partner, value in data.items():
        if not PARTNER_PATTERN.fullmatch(partner):
            raise InputError("a partner code is 2 to 8 letters", source=str(path), where=repr(partner))
        if not isinstance(value, str):
            raise InputError("expected a base64 string", source=str(path), where=partner)
        try:
            raw = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise InputError("not base64", source=str(path), where=partner) from None
        _public_key(raw, partner, str(path))
        keys[partner] = raw
    return keys


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, created with ``mode``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_private_key(signer: Signer, path: str | Path) -> None:
    """Write ``signer``'s private key to ``path`` (PEM, PKCS#8), mode 0600 from its creation on."""
    _write_atomic(Path(path), signer.private_pem(), 0o600)


def save_public_keys(keys: Mapping[str, str], path: str | Path) -> None:
    """Write a keys.json file (partner → base64 public key, sorted), mode 0644: it holds no secret."""
    _write_atomic(Path(path), (json.dumps(dict(sorted(keys.items())), indent=2) + "\n").encode("ascii"), 0o644)


def own_signer(path: str | Path, partner: str, verifier: Verifier) -> Signer:
    """The node's own private key from ``path``, refused (InputError, one line) if the file is readable or
    writable by anyone but its owner (a secret must be 0600: any reader could sign as the partner), or if
    ``verifier`` (the run's keys.json) holds another public key for ``partner``."""
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        raise InputError("no such key file", source=str(path)) from None
    if mode & 0o077:
        raise InputError(f"a private key must be readable by its owner alone (mode {mode:04o}; chmod 600)",
                         source=str(path))  # fmt: skip
    signer = Signer.from_file(path, partner)
    if not verifier.knows(partner) or not verifier.verify(partner, signer.sign(b"mwx key check"), b"mwx key check"):
        raise InputError(f"keys.json holds another public key for {partner} (or none)", source=str(path))
    return signer


def generate(partner: str, directory: str | Path, *, overwrite: bool = False) -> tuple[Path, Path]:
    """Write a new key pair ``DIR/PARTNER.key`` (PEM, 0600) and ``DIR/PARTNER.pub`` and put the public key in keys.json.

    Refuses (InputError) to replace an existing private key unless ``overwrite``.  An existing
    ``DIR/keys.json`` must be valid; the partner's entry is added or replaced, the others kept.
    Returns the paths of the private and public key files.
    """
    check_partner(partner)
    folder = Path(directory)
    key_path, pub_path, keys_path = folder / f"{partner}.key", folder / f"{partner}.pub", folder / KEYS_FILE
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create: {err.strerror}", source=str(folder)) from None
    if key_path.exists() and not overwrite:
        raise InputError("exists: a private key is not replaced without --force", source=str(key_path))
    # Read keys.json before writing anything, so a bad one leaves the folder as it was.
    keys: dict[str, str] = {}
    if keys_path.exists():
        keys = {p: base64.b64encode(k).decode("ascii") for p, k in load_public_keys(keys_path).items()}
    signer = Signer.generate(partner)
    keys[partner] = signer.public_key_text()
    try:
        save_private_key(signer, key_path)
        _write_atomic(pub_path, (signer.public_key_text() + "\n").encode("ascii"), 0o644)
        save_public_keys(keys, keys_path)
    except OSError as err:
        raise InputError(f"cannot write: {err.strerror}", source=str(folder)) from None
    return key_path, pub_path
