"""mwx: a missile-warning exchange — simulate, track, share, fuse and warn.

The public API is what ``__all__`` lists; everything else is internal and may change.  A run, in code::

    import mwx

    scenario = mwx.load_scenario("my-scenario.yaml")
    result = mwx.run_scenario(scenario)
    mwx.write_run(result, Path("out"))
    events = mwx.records.read(Path("out/events.json"), mwx.records.EventsFile)

Names are imported on first use (``import mwx`` stays cheap and the CLI starts fast).  Every error mwx
raises on purpose derives from :class:`MwxError` (:mod:`mwx.errors`).
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("mwx")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

if TYPE_CHECKING:
    from mwx import records
    from mwx.errors import InputError, MessageError, MwxError, RecordError
    from mwx.exercise.outputs import write_run
    from mwx.exercise.report import write_report
    from mwx.exercise.run import RunResult, run_scenario
    from mwx.sim.scenario import Scenario, load_scenario, parse_scenario

#: public name → the module that defines it
_WHERE = {
    "records": "mwx.records",
    "MwxError": "mwx.errors",
    "InputError": "mwx.errors",
    "MessageError": "mwx.errors",
    "RecordError": "mwx.errors",
    "Scenario": "mwx.sim.scenario",
    "load_scenario": "mwx.sim.scenario",
    "parse_scenario": "mwx.sim.scenario",
    "RunResult": "mwx.exercise.run",
    "run_scenario": "mwx.exercise.run",
    "write_run": "mwx.exercise.outputs",
    "write_report": "mwx.exercise.report",
}

__all__ = [
    "InputError",
    "MessageError",
    "MwxError",
    "RecordError",
    "RunResult",
    "Scenario",
    "__version__",
    "load_scenario",
    "parse_scenario",
    "records",
    "run_scenario",
    "write_report",
    "write_run",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first use."""
    if name not in _WHERE:
        raise AttributeError(f"module 'mwx' has no attribute {name!r}")
    module = importlib.import_module(_WHERE[name])
    value = module if name == "records" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
