"""Partners' Ed25519 keys: key files, signing and verification.

Files (written by :func:`generate`, ``mwx keys generate PARTNER``):

* ``PARTNER.key`` — the private key, PEM (PKCS#8, unencrypted: ``-----BEGIN PRIVATE KEY-----``),
  file mode 0600.  Only its partner's node reads it.
* ``PARTNER.pub`` — the public key: one line, standard base64 of the 32 raw Ed25519 bytes.
* ``keys.json`` — every partner's public keys, the file each node verifies with::

      {"JP": "<base64 of 32 bytes>",
       "KR": [{"key": "<old>", "until": "2026-12-05T23:00:00Z", "revoked": true},
              {"key": "<new>", "from": "2026-12-05T22:50:00Z"}]}

  A partner has one key (a string: valid always) or a list of keys, each valid for the envelopes
  its partner sent from ``from`` (inclusive) to ``until`` (exclusive), ISO 8601 UTC, both optional:
  **rotation** is a new key whose ``from`` overlaps the old key's ``until`` (:func:`rotate`), so that
  envelopes sealed before the switch and still in flight verify; **revocation** is
  ``"revoked": true`` on a key (:func:`revoke`), which then verifies nothing whatever the envelope
  claims its send time was (a thief of the key can write any time).  A node re-reads the file
  when it changes (:class:`KeyRingWatch`), so a revocation takes effect without a restart.
  Keys are partner codes (2–8 letters); :func:`load_key_ring` refuses anything else, a
  duplicated partner, a key listed twice and a partner without a key that is not revoked.

Keys from a seed (:meth:`Signer.from_seed`) are for tests and exercises only: anyone who
knows the seed can sign as that partner.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import math
import os
import re
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
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


#: The exchange observer: the one participant whose code is lower case.
OBSERVER = "fused"


def check_partner_code(partner: str, *, where: str = "PARTNER") -> str:
    """``partner`` if it is a partner code as the theaters write it (2–8 upper-case letters) or the observer
    ``fused``; else InputError (one line) with the code it likely means: ``jp`` would be a partner beside ``JP``.
    For codes a person types (``mwx keys``); :func:`check_partner` accepts what files already hold."""
    check_partner(partner, where=where)
    meant = OBSERVER if partner.lower() == OBSERVER else partner.upper()
    if partner != meant:
        rule = f"the observer is {OBSERVER}" if meant == OBSERVER else "partner codes are upper case"
        raise InputError(f"{rule}: {partner!r} would be a partner apart from {meant} (did you mean {meant}?)",
                         where=where)  # fmt: skip
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


@dataclass(frozen=True)
class PublicKey:
    """One of a partner's public keys: the send times [Unix s] it signs for, and whether it is revoked.

    ``valid_from`` inclusive, ``valid_until`` exclusive; infinite when keys.json gives no bound.
    """

    key: Ed25519PublicKey
    valid_from: float = -math.inf
    valid_until: float = math.inf
    revoked: bool = False

    @property
    def text(self) -> str:
        """The key as keys.json writes it (base64 of the raw 32 bytes)."""
        return public_key_text(self.key)

    def covers(self, sent: float | None) -> bool:
        """Whether an envelope sent at ``sent`` may be signed with this key (None: at any time)."""
        return sent is None or self.valid_from <= sent < self.valid_until

    def signed(self, signature: bytes, data: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``data`` (revocation and validity aside)."""
        try:
            self.key.verify(signature, data)
        except InvalidSignature:
            return False
        return True


class KeyCheck(StrEnum):
    """What a signature turned out to be, against a partner's keys (:meth:`Verifier.check`)."""

    VALID = "valid"  # one of the partner's usable keys signed it
    REVOKED = "revoked"  # a key of the partner's that keys.json revokes signed it: a thief, or an old node
    OUT_OF_VALIDITY = "out-of-validity"  # a key of the partner's signed it, but for a send time outside its span
    INVALID = "invalid"  # no key of the partner's signed it (another key, or the data were altered)


KeyRing = Mapping[str, Sequence[PublicKey]]


class Verifier:
    """Every known partner's public keys: checks who signed what."""

    def __init__(self, public_keys: Mapping[str, bytes | Ed25519PublicKey | Sequence[PublicKey]]) -> None:
        self._keys: dict[str, tuple[PublicKey, ...]] = {}
        for partner, value in public_keys.items():
            check_partner(partner, where=str(partner))
            if isinstance(value, Ed25519PublicKey):
                self._keys[partner] = (PublicKey(value),)
            elif isinstance(value, bytes | bytearray):
                self._keys[partner] = (PublicKey(_public_key(bytes(value), partner)),)
            else:
                self._keys[partner] = tuple(value)

    @classmethod
    def from_file(cls, path: str | Path) -> Verifier:
        """The keys of a keys.json file (:func:`load_key_ring`)."""
        return cls(load_key_ring(path))

    @classmethod
    def of(cls, *signers: Signer) -> Verifier:
        """The verifier of these signers' partners (tests, exercises)."""
        return cls({s.partner: s.public_key for s in signers})

    @property
    def partners(self) -> tuple[str, ...]:
        return tuple(sorted(self._keys))

    def keys_of(self, partner: str) -> tuple[PublicKey, ...]:
        return self._keys.get(partner, ())

    def knows(self, partner: str) -> bool:
        return partner in self._keys

    def take_keys_of(self, other: Verifier) -> None:
        """Verify with ``other``'s keys from now on (a keys.json re-read: rotation or revocation)."""
        self._keys = dict(other._keys)

    def check(self, partner: str, signature: bytes, data: bytes, sent: float | None = None) -> KeyCheck:
        """Which of ``partner``'s keys, if any, made ``signature`` over ``data``, for an envelope sent at ``sent``.

        The usable keys are tried first (one, except while a rotation overlaps), so a valid envelope
        costs one verification; the others only for a signature that fails, to name the refusal.
        """
        ring = self._keys.get(partner, ())
        if len(signature) != SIGNATURE_BYTES:
            return KeyCheck.INVALID
        for k in ring:
            if not k.revoked and k.covers(sent) and k.signed(signature, data):
                return KeyCheck.VALID
        for k in ring:
            if (k.revoked or not k.covers(sent)) and k.signed(signature, data):
                return KeyCheck.REVOKED if k.revoked else KeyCheck.OUT_OF_VALIDITY
        return KeyCheck.INVALID

    def verify(self, partner: str, signature: bytes, data: bytes, sent: float | None = None) -> bool:
        """Whether ``signature`` is ``partner``'s valid signature of ``data`` (False for an unknown partner)."""
        return self.check(partner, signature, data, sent) is KeyCheck.VALID


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
            # Two entries for one partner (or one field): which one is meant cannot be guessed.
            raise InputError(f"{key!r} appears twice", where=key)
        out[key] = value
    return out


def _key_from_text(value: object, partner: str, source: str) -> Ed25519PublicKey:
    if not isinstance(value, str):
        raise InputError("expected a base64 string", source=source, where=partner)
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InputError("not base64", source=source, where=partner) from None
    return _public_key(raw, partner, source)


def parse_utc(text: object) -> float | None:
    """Unix s of an ISO 8601 time with its zone (``2026-12-05T23:00:00Z``); None for anything else."""
    try:
        when = dt.datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return None if when is None or when.tzinfo is None else when.timestamp()


def _time_of(value: object, what: str, partner: str, source: str) -> float:
    t = parse_utc(value)
    if t is None:
        raise InputError(f"{what!r} must be an ISO 8601 time with its zone, e.g. 2026-12-05T23:00:00Z, got {value!r}",
                         source=source, where=partner)  # fmt: skip
    return t


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat().replace("+00:00", "Z")


_ENTRY_FIELDS = {"key", "from", "until", "revoked"}


def _entry(item: object, partner: str, source: str) -> PublicKey:
    if isinstance(item, str):
        return PublicKey(_key_from_text(item, partner, source))
    if not isinstance(item, dict) or "key" not in item or set(item) - _ENTRY_FIELDS:
        raise InputError('expected a base64 string or {"key": "<base64>", "from"?, "until"?, "revoked"?}',
                         source=source, where=partner)  # fmt: skip
    revoked = item.get("revoked", False)
    if not isinstance(revoked, bool):
        raise InputError('"revoked" must be true or false', source=source, where=partner)
    entry = PublicKey(
        _key_from_text(item["key"], partner, source),
        _time_of(item["from"], "from", partner, source) if "from" in item else -math.inf,
        _time_of(item["until"], "until", partner, source) if "until" in item else math.inf,
        revoked,
    )
    if not entry.valid_from < entry.valid_until:
        raise InputError('"from" must come before "until"', source=source, where=partner)
    return entry


def load_key_ring(path: str | Path) -> dict[str, tuple[PublicKey, ...]]:
    """Partner → its public keys, from a keys.json file; InputError naming the file, partner and problem."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such public key file", source=source) from None
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", source=source) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", source=source) from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as err:
        raise InputError(f"not valid JSON: {err.msg}", source=source, where=f"line {err.lineno}") from None
    except InputError as err:
        raise InputError(err.problem, source=source, where=err.where) from None
    if not isinstance(data, dict):
        raise InputError('expected an object {"PARTNER": "<base64 public key>", ...}', source=source)
    ring: dict[str, tuple[PublicKey, ...]] = {}
    seen: dict[str, str] = {}
    for partner, value in data.items():
        if not PARTNER_PATTERN.fullmatch(partner):
            raise InputError("a partner code is 2 to 8 letters", source=source, where=repr(partner))
        items = value if isinstance(value, list) else [value]
        if not items:
            raise InputError("no key", source=source, where=partner)
        keys = tuple(_entry(item, partner, source) for item in items)
        for k in keys:
            if k.text in seen:  # one key signing as two partners, or listed twice: a mistake either way
                raise InputError(f"a key listed twice (also for {seen[k.text]})", source=source, where=partner)
            seen[k.text] = partner
        ring[partner] = keys
    return ring


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


def write_secret(path: str | Path, data: bytes) -> None:
    """Write a secret (a private key, a file with passwords) to ``path``: mode 0600 from its creation on, even where
    a file was (it is replaced, not rewritten in place), and on disk when this returns."""
    _write_atomic(Path(path), data, 0o600)


def save_private_key(signer: Signer, path: str | Path) -> None:
    """Write ``signer``'s private key to ``path`` (PEM, PKCS#8), mode 0600 from its creation on."""
    write_secret(path, signer.private_pem())


def save_public_keys(keys: Mapping[str, str], path: str | Path) -> None:
    """Write a keys.json file of one key per partner (partner → base64 public key, sorted), mode 0644."""
    save_key_ring({p: [PublicKey(_key_from_text(text, p, str(path)))] for p, text in keys.items()}, path)


def save_key_ring(ring: KeyRing, path: str | Path) -> None:
    """Write a keys.json file (partners sorted), mode 0644: it holds no secret.

    A partner's single key, unbounded and not revoked, is written as a string, as before rotations existed.
    """
    data: dict[str, object] = {}
    for partner, keys in sorted(ring.items()):
        entries: list[object] = []
        for k in keys:
            entry: dict[str, object] = {"key": k.text}
            if k.valid_from > -math.inf:
                entry["from"] = _iso(k.valid_from)
            if k.valid_until < math.inf:
                entry["until"] = _iso(k.valid_until)
            if k.revoked:
                entry["revoked"] = True
            entries.append(entry if len(entry) > 1 else k.text)
        data[partner] = entries[0] if len(entries) == 1 and isinstance(entries[0], str) else entries
    _write_atomic(Path(path), (json.dumps(data, indent=2) + "\n").encode("ascii"), 0o644)


def own_signer(path: str | Path, partner: str, verifier: Verifier, now: float | None = None) -> Signer:
    """The node's own private key from ``path``, refused (InputError, one line) if the file is readable or
    writable by anyone but its owner (a secret must be 0600: any reader could sign as the partner), or if
    ``verifier`` (the run's keys.json) does not hold it as one of ``partner``'s keys usable at ``now``
    (Unix s; default: the clock): another key, a revoked one, or one outside its span."""
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        raise InputError("no such key file", source=str(path)) from None
    if mode & 0o077:
        raise InputError(f"a private key must be readable by its owner alone (mode {mode:04o}; chmod 600)",
                         source=str(path))  # fmt: skip
    signer = Signer.from_file(path, partner)
    probe = b"mwx key check"
    check = verifier.check(partner, signer.sign(probe), probe, time.time() if now is None else now)
    if check is KeyCheck.REVOKED:
        raise InputError(f"keys.json revokes this key of {partner}: sign with a new one (mwx keys rotate)",
                         source=str(path))  # fmt: skip
    if check is KeyCheck.OUT_OF_VALIDITY:
        raise InputError(f"keys.json gives this key of {partner} a span that excludes now", source=str(path))
    if check is not KeyCheck.VALID:
        raise InputError(f"keys.json holds another public key for {partner} (or none)", source=str(path))
    return signer


def _key_files(partner: str, directory: str | Path) -> tuple[Path, Path, Path]:
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create: {err.strerror}", source=str(folder)) from None
    return folder / f"{partner}.key", folder / f"{partner}.pub", folder / KEYS_FILE


def _write_pair(signer: Signer, key_path: Path, pub_path: Path, ring: KeyRing, keys_path: Path) -> None:
    try:
        save_private_key(signer, key_path)
        _write_atomic(pub_path, (signer.public_key_text() + "\n").encode("ascii"), 0o644)
        save_key_ring(ring, keys_path)
    except OSError as err:
        raise InputError(f"cannot write: {err.strerror}", source=str(key_path.parent)) from None


def generate(partner: str, directory: str | Path, *, overwrite: bool = False) -> tuple[Path, Path]:
    """Write a new key pair ``DIR/PARTNER.key`` (PEM, 0600) and ``DIR/PARTNER.pub`` and put the public key in keys.json.

    Refuses (InputError) to replace an existing private key unless ``overwrite``.  An existing
    ``DIR/keys.json`` must be valid; the partner's entry is added or replaced, the others kept.
    Returns the paths of the private and public key files.
    """
    check_partner(partner)
    key_path, pub_path, keys_path = _key_files(partner, directory)
    if key_path.exists() and not overwrite:
        raise InputError("exists: a private key is not replaced without --force", source=str(key_path))
    # Read keys.json before writing anything, so a bad one leaves the folder as it was.
    ring = dict(load_key_ring(keys_path)) if keys_path.exists() else {}
    signer = Signer.generate(partner)
    ring[partner] = (PublicKey(signer.public_key),)
    _write_pair(signer, key_path, pub_path, ring, keys_path)
    return key_path, pub_path


#: How long a rotated-out key still signs by default [s]: the receivers' window for an envelope's send time
#: (``envelope.TRACK_TIME_BEHIND_S``), time enough to restart the node with its new key.
ROTATION_OVERLAP_S = 600.0


def rotate(partner: str, directory: str | Path, *, at: float | None = None,
           overlap_s: float = ROTATION_OVERLAP_S) -> tuple[Path, Path]:  # fmt: skip
    """Give ``partner`` a new key pair from ``at`` (Unix s; default now): ``DIR/PARTNER.key`` and ``.pub`` are the
    new pair, the old private key is kept as ``DIR/PARTNER.key.retired`` (0600), and in keys.json the
    partner's keys still open end at ``at + overlap_s`` while the new one starts at ``at``.

    Give every partner the new keys.json, then restart the partner's node with its new key within the
    overlap: envelopes it sealed with the old key before then still verify.  Returns the new key files.
    """
    check_partner(partner)
    key_path, pub_path, keys_path = _key_files(partner, directory)
    if not keys_path.exists() or partner not in (ring := dict(load_key_ring(keys_path))):
        raise InputError(f"no key of {partner} to rotate (mwx keys generate first)", source=str(keys_path))
    start = time.time() if at is None else at
    if not math.isfinite(overlap_s) or overlap_s < 0:
        raise InputError(f"the overlap must be a finite number of seconds >= 0, got {overlap_s}")
    ending = start + overlap_s
    kept = [replace(k, valid_until=min(k.valid_until, ending)) if k.valid_from < ending else k
            for k in ring[partner]]  # fmt: skip
    signer = Signer.generate(partner)
    ring[partner] = (*kept, PublicKey(signer.public_key, valid_from=start))
    if key_path.exists():
        os.replace(key_path, key_path.with_name(key_path.name + ".retired"))
    _write_pair(signer, key_path, pub_path, ring, keys_path)
    return key_path, pub_path


def revoke(partner: str, key_text: str, path: str | Path) -> None:
    """Mark ``partner``'s public key ``key_text`` (base64) revoked in the keys.json at ``path``.

    A revoked key verifies nothing from then on, whatever send time an envelope claims; receivers
    journal what it signed as ``revoked-key``.  InputError if keys.json does not list that key for the partner.
    """
    check_partner(partner)
    ring = dict(load_key_ring(path))
    wanted = public_key_text(_key_from_text(key_text, partner, "--key"))
    keys = ring.get(partner, ())
    if wanted not in {k.text for k in keys}:
        raise InputError(f"keys.json lists no such key for {partner}", source=str(path))
    ring[partner] = tuple(replace(k, revoked=True) if k.text == wanted else k for k in keys)
    try:
        save_key_ring(ring, path)
    except OSError as err:
        raise InputError(f"cannot write: {err.strerror}", source=str(path)) from None


class KeyRingWatch:
    """Keeps a :class:`Verifier` in step with its keys.json: :meth:`poll` re-reads the file when it changed.

    A node polls once a heartbeat, so a revocation or rotation given to it as a new keys.json takes
    effect within a second, without a restart.  A file that no longer loads is not taken: the verifier
    keeps the last good keys and :meth:`poll` says why (the node logs it).
    """

    def __init__(self, path: str | Path, verifier: Verifier) -> None:
        self.path = Path(path)
        self.verifier = verifier
        self._stamp = self._stat()

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def poll(self) -> str | None:
        """Re-read keys.json if it changed since the last look; a line saying what happened, or None."""
        stamp = self._stat()
        if stamp == self._stamp:
            return None
        self._stamp = stamp
        try:
            fresh = Verifier.from_file(self.path)
        except InputError as err:
            return f"keys.json changed but is not taken, the keys in use are kept: {err}"
        self.verifier.take_keys_of(fresh)
        return f"keys.json re-read: {', '.join(f'{p} ({len(fresh.keys_of(p))})' for p in fresh.partners)}"
