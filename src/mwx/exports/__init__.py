"""Standard exports of a run folder, for the tools analysts and operators already use (docs/exports.md).

``FORMATS`` names each format and its writer: ``geojson`` (``run.geojson``, RFC 7946), ``kml`` (``run.kml``,
OGC KML 2.2), ``czml`` (``run.czml``, Cesium) and ``cot`` (``cot/*.cot``, Cursor-on-Target events for TAK).
:func:`export` reads the run folder once (through :mod:`mwx.records`) and writes the chosen formats.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from mwx.errors import InputError
from mwx.exports import cot, czml, geojson, kml
from mwx.exports.common import RunData, load_run

Writer = Callable[[RunData, Path], list[Path]]

#: Format name → writer (run, out_dir) → the paths written.
FORMATS: dict[str, Writer] = {
    "geojson": geojson.write,
    "kml": kml.write,
    "czml": czml.write,
    "cot": cot.write,
}

__all__ = ["FORMATS", "export", "load_run"]


def export(run_dir: Path, formats: Iterable[str] = FORMATS, out_dir: Path | None = None) -> list[Path]:
    """Write the chosen formats of run folder ``run_dir`` into ``out_dir`` (default ``run_dir/exports``, created
    if missing); the paths written.  :class:`InputError` (one line) for an unknown format or a folder that is
    not a run folder; :class:`~mwx.errors.RecordError` for a run-folder file that does not decode."""
    chosen = list(dict.fromkeys(formats))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown:
        raise InputError(f"unknown format {unknown[0]!r} (known: {', '.join(FORMATS)})", where="--format")
    run = load_run(Path(run_dir))
    out = Path(out_dir) if out_dir is not None else Path(run_dir) / "exports"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot write: {err.strerror}", source=str(out)) from None
    written: list[Path] = []
    for name in chosen:
        written += FORMATS[name](run, out)
    return written
