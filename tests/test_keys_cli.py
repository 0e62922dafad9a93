"""`mwx keys generate` and the key files behind it (mwx.exchange.keys).

The CLI runs in-process (mwx.cli.main + capsys).
"""

from __future__ import annotations

import base64
import json
import stat
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mwx.cli import main
from mwx.errors import InputError
from mwx.exchange import envelope
from mwx.exchange.keys import Signer, Verifier, generate, load_key_ring
from mwx.exchange.messages import Heartbeat

T0 = 1_700_000_000.0


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("mwx: ") and err.count("\n") == 1, err
    return err


def load_public_keys(path: Path) -> dict[str, bytes]:
    """Partner → raw bytes of its one key, from a keys.json where each partner has a single key."""
    return {p: base64.b64decode(k.text) for p, (k,) in load_key_ring(path).items()}


def test_generate_writes_the_pair_and_keys_json(tmp_path, capsys):
    folder = tmp_path / "keys"
    assert main(["keys", "generate", "KR", "--dir", str(folder)]) == 0
    out = capsys.readouterr().out
    assert str(folder / "KR.key") in out and "0600" in out
    key, pub = folder / "KR.key", folder / "KR.pub"
    assert mode(key) == 0o600
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----\n")
    assert load_public_keys(folder / "keys.json") == {"KR": base64.b64decode(pub.read_text().strip())}
    assert len(base64.b64decode(pub.read_text().strip(), validate=True)) == 32

    assert main(["keys", "generate", "JP", "--dir", str(folder)]) == 0
    keys = load_public_keys(folder / "keys.json")
    assert sorted(keys) == ["JP", "KR"]
    assert list(json.loads((folder / "keys.json").read_text())) == ["JP", "KR"]  # sorted, stable diffs

    # What one partner signs with its .key, another verifies with keys.json.
    signer = Signer.from_file(key)
    assert signer.partner == "KR"
    data = envelope.seal(Heartbeat(sender="KR", time=T0), signer, seq=0, sent=T0)
    opened = envelope.unseal(data, Verifier.from_file(folder / "keys.json"), envelope.ReplayGuard(), T0)
    assert opened.sender == "KR"
    assert sorted(f.name for f in folder.iterdir()) == ["JP.key", "JP.pub", "KR.key", "KR.pub", "keys.json"]


def test_generate_never_replaces_a_private_key_without_force(tmp_path, capsys):
    assert main(["keys", "generate", "US", "--dir", str(tmp_path)]) == 0
    first_key = (tmp_path / "US.key").read_bytes()
    first_pub = load_public_keys(tmp_path / "keys.json")["US"]
    capsys.readouterr()
    assert main(["keys", "generate", "US", "--dir", str(tmp_path)]) == 2
    err = error_line(capsys)
    assert "US.key" in err and "--force" in err
    assert (tmp_path / "US.key").read_bytes() == first_key

    assert main(["keys", "generate", "US", "--dir", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "US.key").read_bytes() != first_key and mode(tmp_path / "US.key") == 0o600
    new_pub = load_public_keys(tmp_path / "keys.json")["US"]
    assert new_pub != first_pub
    assert Signer.from_file(tmp_path / "US.key").public_key_text() == base64.b64encode(new_pub).decode()


@pytest.mark.parametrize("partner", ["K", "K1", "TOOLONGNAME", "K R", "", "한국"])
def test_generate_refuses_a_bad_partner_code(tmp_path, capsys, partner):
    assert main(["keys", "generate", partner, "--dir", str(tmp_path / "k")]) == 2
    assert "partner code" in error_line(capsys)
    assert not (tmp_path / "k").exists()


def test_generate_refuses_a_bad_keys_json_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "keys.json").write_text("{not json")
    assert main(["keys", "generate", "KR", "--dir", str(tmp_path)]) == 2
    assert "keys.json" in error_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.json"]


def test_generate_reports_an_unwritable_folder(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["keys", "generate", "KR", "--dir", str(blocker / "keys")]) == 2
    error_line(capsys)


def test_keys_without_a_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["keys"])
    assert info.value.code == 2


# ----------------------------------------------------------------- key files
def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "keys.json"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = base64.b64encode(Signer.from_seed("KR").public_key.public_bytes_raw()).decode()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "not valid JSON"),
        ("[1, 2]", "expected an object"),
        (json.dumps({"K1": GOOD}), "partner code"),
        ('{"KR": 5}', "base64 string"),
        ('{"KR": "not base64!"}', "not base64"),
        (json.dumps({"KR": base64.b64encode(b"x" * 31).decode()}), "32 bytes"),
        (f'{{"KR": "{GOOD}", "KR": "{GOOD}"}}', "twice"),
        ('{"KR": []}', "no key"),
        (json.dumps({"KR": [{"until": "2026-12-05T23:00:00Z"}]}), '{"key"'),
        (json.dumps({"KR": [{"key": GOOD, "expires": "2026-12-05T23:00:00Z"}]}), '{"key"'),
        (json.dumps({"KR": [{"key": GOOD, "until": "tomorrow"}]}), "ISO 8601"),
        (json.dumps({"KR": [{"key": GOOD, "until": "2026-12-05T23:00:00"}]}), "with its zone"),
        (
            json.dumps({"KR": [{"key": GOOD, "from": "2026-12-05T23:00:00Z", "until": "2026-12-05T22:00:00Z"}]}),
            "before",
        ),
        (json.dumps({"KR": [{"key": GOOD, "revoked": "yes"}]}), "true or false"),
        (json.dumps({"KR": GOOD, "JP": [GOOD]}), "listed twice"),
    ],
)
def test_load_key_ring_explains_a_bad_file(tmp_path, text, problem):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_key_ring(path)
    assert problem in info.value.problem and info.value.source == str(path)


def test_load_key_ring_missing_and_binary_files(tmp_path):
    with pytest.raises(InputError, match="no such"):
        load_public_keys(tmp_path / "absent.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="UTF-8"):
        load_public_keys(tmp_path / "bin.json")


def test_load_key_ring_reads_several_partners(tmp_path):
    signers = [Signer.from_seed(p) for p in ("KR", "JP", "US")]
    path = write(tmp_path, json.dumps({s.partner: s.public_key_text() for s in signers}))
    verifier = Verifier.from_file(path)
    assert verifier.partners == ("JP", "KR", "US")
    assert verifier.verify("JP", signers[1].sign(b"x"), b"x")
    assert not verifier.verify("KR", signers[1].sign(b"x"), b"x")
    assert not verifier.verify("NZ", signers[1].sign(b"x"), b"x")
    assert not verifier.verify("JP", b"short", b"x")


def test_signer_from_file_errors(tmp_path):
    with pytest.raises(InputError, match="no such"):
        Signer.from_file(tmp_path / "KR.key")
    (tmp_path / "KR.key").write_text("hello")
    with pytest.raises(InputError, match="PEM"):
        Signer.from_file(tmp_path / "KR.key")
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "JP.key").write_bytes(ec_pem)
    with pytest.raises(InputError, match="not an Ed25519"):
        Signer.from_file(tmp_path / "JP.key")
    (tmp_path / "bad_name.key").write_bytes(Signer.from_seed("KR").private_pem())
    with pytest.raises(InputError, match="partner code"):
        Signer.from_file(tmp_path / "bad_name.key")
    assert Signer.from_file(tmp_path / "bad_name.key", partner="KR").partner == "KR"


def test_seeded_keys_are_deterministic_per_partner_and_seed():
    assert Signer.from_seed("KR", 1).public_key_text() == Signer.from_seed("KR", 1).public_key_text()
    assert Signer.from_seed("KR", 1).public_key_text() != Signer.from_seed("KR", 2).public_key_text()
    assert Signer.from_seed("KR", 1).public_key_text() != Signer.from_seed("JP", 1).public_key_text()
    assert Signer.from_seed("KR", b"1").public_key_text() == Signer.from_seed("KR", "1").public_key_text()


def test_generate_as_a_function_returns_the_paths(tmp_path):
    key, pub = generate("NZ", tmp_path / "a" / "b")
    assert (key.name, pub.name) == ("NZ.key", "NZ.pub") and mode(key) == 0o600
    with pytest.raises(InputError, match="exists"):
        generate("NZ", tmp_path / "a" / "b")


def test_a_node_signs_only_with_its_own_0600_key_that_keys_json_names(tmp_path):
    """A node's private key is refused if others may read it (any reader could sign as the partner), if
    keys.json holds another public key for the partner (a wrong or stale keys.json), or if it has none;
    a key derived from the scenario seed verifies against no generated keys.json."""
    from mwx.exchange.keys import own_signer, save_private_key, save_public_keys

    jp, kr = Signer.generate("JP"), Signer.generate("KR")
    save_public_keys({"JP": jp.public_key_text(), "KR": kr.public_key_text()}, tmp_path / "keys.json")
    verifier = Verifier.from_file(tmp_path / "keys.json")
    save_private_key(jp, tmp_path / "JP.key")
    assert stat.S_IMODE((tmp_path / "JP.key").stat().st_mode) == 0o600
    assert own_signer(tmp_path / "JP.key", "JP", verifier).public_key_text() == jp.public_key_text()
    (tmp_path / "JP.key").chmod(0o644)
    with pytest.raises(InputError, match="chmod 600"):
        own_signer(tmp_path / "JP.key", "JP", verifier)
    (tmp_path / "JP.key").chmod(0o600)
    with pytest.raises(InputError, match="another public key for KR"):
        own_signer(tmp_path / "JP.key", "KR", verifier)  # JP's key where KR's should be
    with pytest.raises(InputError, match="another public key for US"):
        own_signer(tmp_path / "JP.key", "US", verifier)  # no entry at all
    stolen = Signer.from_seed("JP", 7)  # what anyone holding the scenario (seed 7) could make
    assert not verifier.verify("JP", stolen.sign(b"forged"), b"forged")


# ----------------------------------------------------------------- rotation and revocation
def sealed_by(signer: Signer, sent: float, seq: int = 0) -> bytes:
    return envelope.seal(Heartbeat(sender=signer.partner, time=sent), signer, seq=seq, sent=sent)


def refusal(data: bytes, verifier: Verifier, now: float) -> str | None:
    """The reason ``data`` is refused at ``now`` by ``verifier``, or None if it is accepted."""
    try:
        envelope.unseal(data, verifier, envelope.ReplayGuard(), now)
    except envelope.Rejection as err:
        return str(err.reason)
    return None


def test_rotation_overlaps_the_old_key_then_ends_it(tmp_path, capsys):
    """After ``mwx keys rotate KR --at T --overlap 60``: envelopes KR sealed with its old key before T + 60 s
    verify (in flight, or sealed by its node before it was restarted), after it they do not; its new key
    verifies from T on, not before; the old private key is kept (0600) and the new one is what own_signer takes."""
    from mwx.exchange.keys import own_signer

    assert main(["keys", "generate", "KR", "--dir", str(tmp_path)]) == 0
    old = Signer.from_file(tmp_path / "KR.key")
    at = "2026-12-05T23:00:00Z"
    t = datetime.fromisoformat(at).timestamp()
    assert main(["keys", "rotate", "KR", "--dir", str(tmp_path), "--at", at, "--overlap", "60"]) == 0
    new = Signer.from_file(tmp_path / "KR.key")
    assert new.public_key_text() != old.public_key_text()
    assert Signer.from_file(tmp_path / "KR.key.retired", "KR").public_key_text() == old.public_key_text()
    assert mode(tmp_path / "KR.key.retired") == 0o600 and mode(tmp_path / "KR.key") == 0o600
    verifier = Verifier.from_file(tmp_path / "keys.json")
    assert refusal(sealed_by(old, t + 59.0), verifier, t + 59.0) is None
    assert refusal(sealed_by(old, t + 61.0), verifier, t + 61.0) == "bad-signature"
    assert refusal(sealed_by(new, t), verifier, t) is None
    assert refusal(sealed_by(new, t - 1.0), verifier, t - 1.0) == "bad-signature"
    assert own_signer(tmp_path / "KR.key", "KR", verifier, now=t + 61.0).public_key_text() == new.public_key_text()
    with pytest.raises(InputError, match="span"):
        own_signer(tmp_path / "KR.key.retired", "KR", verifier, now=t + 61.0)
    # The file says so in words an operator can check.
    entries = json.loads((tmp_path / "keys.json").read_text())["KR"]
    assert entries == [
        {"key": old.public_key_text(), "until": "2026-12-05T23:01:00Z"},
        {"key": new.public_key_text(), "from": "2026-12-05T23:00:00Z"},
    ]
    capsys.readouterr()
    assert main(["keys", "rotate", "JP", "--dir", str(tmp_path)]) == 2  # nothing to rotate
    assert "no key of JP" in error_line(capsys)
    assert main(["keys", "rotate", "KR", "--dir", str(tmp_path), "--at", "tomorrow"]) == 2
    assert "--at" in error_line(capsys)


def test_a_revoked_key_verifies_nothing_whatever_time_it_claims(tmp_path, capsys):
    """A key stolen from KR and revoked: what it signs is refused as revoked-key (journalled apart from a bad
    signature), whether it claims a send time before or after the revocation; KR's node refuses to sign with it;
    a node that re-reads keys.json takes the revocation without a restart, and keeps its keys if the new file is bad."""
    from mwx.exchange.keys import KeyRingWatch, own_signer

    assert main(["keys", "generate", "KR", "--dir", str(tmp_path)]) == 0
    assert main(["keys", "generate", "JP", "--dir", str(tmp_path)]) == 0
    stolen = Signer.from_file(tmp_path / "KR.key")
    keys_json = tmp_path / "keys.json"
    verifier = Verifier.from_file(keys_json)
    watch = KeyRingWatch(keys_json, verifier)
    assert watch.poll() is None  # unchanged
    assert refusal(sealed_by(stolen, T0), verifier, T0) is None
    capsys.readouterr()
    assert main(["keys", "revoke", "KR", "--key", str(tmp_path / "KR.pub"), "--keys", str(keys_json)]) == 0
    assert "revoked" in capsys.readouterr().out
    assert "re-read" in (watch.poll() or "")
    for claimed in (T0 - 3600.0, T0, T0 + 3600.0):
        assert refusal(sealed_by(stolen, claimed), verifier, claimed) == "revoked-key"
    jp = Signer.from_file(tmp_path / "JP.key")
    assert refusal(sealed_by(jp, T0), verifier, T0) is None  # the others' keys are untouched
    with pytest.raises(InputError, match="revokes"):
        own_signer(tmp_path / "KR.key", "KR", verifier)
    assert json.loads(keys_json.read_text())["KR"] == [{"key": stolen.public_key_text(), "revoked": True}]
    # A broken keys.json is not taken: the verifier keeps the revocation.
    keys_json.write_text("{not json")
    assert "not taken" in (watch.poll() or "")
    assert refusal(sealed_by(stolen, T0, seq=1), verifier, T0) == "revoked-key"
    assert refusal(sealed_by(jp, T0, seq=1), verifier, T0) is None
    # Revoking a key keys.json does not list is an error, not a silent no-op.
    keys_json.unlink()
    assert main(["keys", "generate", "KR", "--dir", str(tmp_path), "--force"]) == 0
    capsys.readouterr()
    other = Signer.generate("KR").public_key_text()
    assert main(["keys", "revoke", "KR", "--key", other, "--keys", str(keys_json)]) == 2
    assert "no such key" in error_line(capsys)


def test_the_embedded_run_derives_keys_from_the_seed_only_when_asked(tmp_path, capsys):
    """Whoever has a scenario knows its seed: by default an embedded run signs with fresh keys, not seeded ones;
    --exercise-keys (which says so loudly) gives the seeded ones; a NATS run refuses the flag before any work."""
    from mwx.cli import _demo_path
    from mwx.exercise.run import run_signers
    from mwx.sim.scenario import load_scenario

    scenario = load_scenario(_demo_path())
    fresh, again = run_signers(scenario, ["KR", "JP"]), run_signers(scenario, ["KR", "JP"])
    seeded = run_signers(scenario, ["KR", "JP"], exercise_keys=True)
    for p in ("KR", "JP"):
        stolen = Signer.from_seed(p, scenario.seed)
        assert fresh[p].public_key_text() not in {stolen.public_key_text(), again[p].public_key_text()}
        assert seeded[p].public_key_text() == stolen.public_key_text()
    out = tmp_path / "run"
    assert main(["run", str(_demo_path()), "--out", str(out), "--bus", "nats", "--exercise-keys"]) == 2
    assert "--exercise-keys" in error_line(capsys) and not out.exists()
