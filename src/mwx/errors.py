"""The one exception tree of mwx.

Every error that mwx raises on purpose derives from :class:`MwxError`, so a
caller (the command line, a node, a test) can catch exactly mwx's own failures.
"""

from __future__ import annotations


class MwxError(Exception):
    """Base of every deliberate mwx error."""


class InputError(MwxError):
    """Bad user input: a scenario, a theater, a command-line value.

    ``source`` names the file (or ``"<string>"``), ``where`` the place inside
    it in the style ``launches[1].apogee_km`` (empty for the whole file).
    """

    def __init__(self, problem: str, *, source: str = "", where: str = "") -> None:
        self.problem = problem
        self.source = source
        self.where = where
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """``file: place: problem`` with empty parts left out."""
        return ": ".join(part for part in (self.source, self.where, self.problem) if part)


class UnreachableFlight(InputError):
    """No ballistic flight achieves the requested apogee and ground range."""
