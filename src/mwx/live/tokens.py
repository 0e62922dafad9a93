"""Console and API access tokens: one secret per partner, kept in a 0600 file that only its partner holds.

A token is 32 random bytes (URL-safe base64) from the operating system's source.  The API takes it as
``Authorization: Bearer <token>`` or, where a browser cannot set a header (``EventSource``, the page's own
address), as ``?token=<token>``.  A token opens its partner's picture only: a request for another partner's
is refused (403), so no partner's token ever returns what was withheld from it.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

from mwx.errors import InputError

TOKEN_BYTES = 32


def new_token() -> str:
    """A fresh token (43 URL-safe characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def write_token(path: Path, token: str) -> None:
    """Write a token to ``path`` readable by its owner only (0600, created so: never world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(token + "\n")
    os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT: set it


def read_token(path: Path) -> str:
    """The token in ``path``; an :class:`~mwx.errors.InputError` if it is missing, empty or open to others."""
    try:
        mode = path.stat().st_mode & 0o777
        text = path.read_text().strip()
    except OSError as err:
        raise InputError(f"cannot read the token file: {err.strerror}", source=str(path)) from None
    if mode & 0o077:
        raise InputError(f"token file is readable by others (mode {mode:o}); chmod 600 it", source=str(path))
    if len(text) < 16 or any(c.isspace() for c in text):
        raise InputError("not a token (one line of at least 16 characters, no spaces)", source=str(path))
    return text


def own_token(path: Path) -> str:
    """The token in ``path``, made and written there (0600) first if the file does not exist."""
    if not path.exists():
        write_token(path, new_token())
    return read_token(path)


class Tokens:
    """Which partner each token opens.  Lookups compare in constant time (no timing hint of a near miss)."""

    def __init__(self, by_partner: Mapping[str, str]) -> None:
        self.by_partner = dict(by_partner)

    @classmethod
    def generate(cls, partners: Iterable[str]) -> Tokens:
        return cls({partner: new_token() for partner in partners})

    def write(self, folder: Path) -> dict[str, Path]:
        """Each partner's token in ``folder/<partner>.token`` (0600); the paths by partner."""
        paths = {}
        for partner, token in self.by_partner.items():
            paths[partner] = folder / f"{partner}.token"
            write_token(paths[partner], token)
        return paths

    def partner_of(self, token: str | None) -> str | None:
        """The partner ``token`` opens, or None."""
        if not token:
            return None
        found = None
        for partner, known in self.by_partner.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                found = partner
        return found
