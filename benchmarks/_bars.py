"""Bars for the benchmarks' headline figures: check each, print a PASS/FAIL line, exit 1 if any failed.

Usage in a benchmark's ``main``::

    bars = Bars()
    bars.check("measurements in under 10 s", elapsed < 10.0, f"{elapsed:.2f} s")
    ...
    bars.finish()  # prints the summary; exits with status 1 if a bar was missed

The bar each benchmark holds is documented next to its figure in docs/benchmarks.md.
"""

from __future__ import annotations

import sys


class Bars:
    """The bars checked so far and which of them failed."""

    def __init__(self) -> None:
        self.checked = 0
        self.failed: list[str] = []

    def check(self, bar: str, ok: bool, figure: str) -> bool:
        """Print ``PASS|FAIL  bar: figure`` and remember a failure; returns ``ok``."""
        self.checked += 1
        ok = bool(ok)
        if not ok:
            self.failed.append(bar)
        print(f"{'PASS' if ok else 'FAIL'}  {bar}: {figure}", flush=True)
        return ok

    def finish(self) -> None:
        """Print how many bars held, and exit with status 1 if any failed (else return)."""
        if self.failed:
            print(f"bars: {len(self.failed)} of {self.checked} FAILED: {'; '.join(self.failed)}", flush=True)
            sys.exit(1)
        print(f"bars: all {self.checked} PASS", flush=True)
