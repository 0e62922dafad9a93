"""Papercuts of the command line found by trying it as a new user would (issue 15), each fixed with a test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mwx import __version__
from mwx.cli import main


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_mwx_version_says_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"mwx {__version__}" and __version__[0].isdigit()


def test_theater_map_writes_png_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It once wrote PNG bytes into x.svg: a file a browser or an editor then refuses."""
    assert main(["theater", "map", "korea-japan", "--out", str(tmp_path / "x.svg")]) == 2
    assert "PNG image" in error_line(capsys) and not (tmp_path / "x.svg").exists()


@pytest.mark.parametrize("kind", ["file", "proc", "source folder"])
def test_run_refuses_an_out_it_must_not_write_before_any_simulation(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file, a place no one can write, or a folder of other things: one line, exit 2, nothing simulated."""
    scenario = Path(__file__).parent / "data" / "scenarios" / "small.yaml"
    if kind == "file":
        out = tmp_path / "notes.txt"
        out.write_text("mine")
    elif kind == "proc":
        out = Path("/proc") / str(os.getpid()) / "run"
    else:
        out = tmp_path / "src"
        out.mkdir()
        (out / "main.py").write_text("print('mine')\n")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert main(["run", str(scenario), "--out", str(out), "--quiet"]) == 2
    line = error_line(capsys)
    assert str(out) in line or str(out.parent) in line
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before  # untouched
    assert not (tmp_path / "src" / "events.json").exists()


def test_run_into_a_folder_of_other_things_goes_ahead_with_force(tmp_path: Path) -> None:
    from mwx.cli import check_out_folder

    out = tmp_path / "src"
    out.mkdir()
    (out / "main.py").write_text("print('mine')\n")
    check_out_folder(out, force=True)  # no error
    (out / "main.py").unlink()
    (out / "events.json").write_text("{}")  # a run folder (an earlier run's) is written over without --force
    check_out_folder(out, force=False)
