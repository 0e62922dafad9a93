"""The public API: what ``mwx.__all__`` promises resolves, the package is marked typed, and importing it is cheap."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

import mwx


def test_every_public_name_resolves_to_its_definition() -> None:
    from mwx.errors import MwxError, RecordError
    from mwx.exercise.run import run_scenario

    for name in mwx.__all__:
        assert getattr(mwx, name) is not None, name
    assert set(mwx.__all__) == {"__version__", *mwx._WHERE}  # each public name says where it lives
    assert mwx.run_scenario is run_scenario
    assert issubclass(mwx.RecordError, mwx.InputError) and mwx.RecordError is RecordError
    assert issubclass(mwx.InputError, MwxError)
    assert hasattr(mwx.records, "EventsFile")


def test_a_name_outside_the_api_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'tracker'"):
        _ = mwx.tracker  # type: ignore[attr-defined]


def test_the_package_ships_its_py_typed_marker() -> None:
    assert resources.files("mwx").joinpath("py.typed").is_file()


def test_importing_mwx_loads_none_of_the_heavy_modules() -> None:
    # The CLI imports mwx first; numpy, scipy and the simulation come only with what a command uses.
    code = "import sys, mwx; print(sorted(m for m in ('numpy', 'scipy', 'mwx.exercise.run') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_readme_example_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """README's "From Python" example, run on the small test scenario in a temporary folder."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    code = readme.split("## From Python", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "my-scenario.yaml").write_bytes(
        (Path(__file__).parent / "data" / "scenarios" / "small.yaml").read_bytes()
    )
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    assert "lat=" in capsys.readouterr().out and (tmp_path / "out" / "events.json").is_file()
