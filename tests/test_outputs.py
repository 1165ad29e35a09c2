"""No command deletes what chistka did not write: output targets, --force, `--out .`, Dask."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from chistka.analysis import ensemble
from chistka.analysis.comparison import save_run
from chistka.analysis.ensemble import plan, run_ensemble
from chistka.cli import app
from chistka.engine import Sim
from chistka.errors import ChistkaError
from chistka.outputs import atomic_directory, check_out
from chistka.scenario import load_scenario

SCENARIO = "party-purges-1921-1936"
TINY = ["--scale", "0.0005", "--no-report"]


def chistka(*args: str) -> Result:
    """The command run in this process (test_cli runs the real process); an exception it does
    not handle fails the test."""
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "300"}, catch_exceptions=False)


@pytest.fixture(scope="module")
def tiny_results():
    return Sim(load_scenario(SCENARIO), seed=1, scale=0.0005).run()


def tree(path: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }


# --- the check, before any simulation ------------------------------------------------------------


def test_run_refuses_an_existing_file_before_running(tmp_path):
    target = tmp_path / "thesis.docx"
    target.write_bytes(b"three years of work")
    result = chistka("run", SCENARIO, *TINY, "--out", str(target))
    assert result.exit_code == 2
    assert "not a folder" in result.stderr and "Traceback" not in result.output
    assert "days" not in result.stdout  # refused before the run started
    assert target.read_bytes() == b"three years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.docx"]
    forced = chistka("run", SCENARIO, *TINY, "--out", str(target), "--force")
    assert forced.exit_code == 2  # --force never replaces a file
    assert target.read_bytes() == b"three years of work"


def test_run_refuses_a_foreign_folder_and_force_writes_beside_it(tmp_path):
    project = tmp_path / "project"
    (project / "notes").mkdir(parents=True)
    (project / "notes" / "day1.md").write_text("interviews")
    (project / "data.csv").write_text("a,b\n1,2\n")
    before = tree(project)
    result = chistka("run", SCENARIO, *TINY, "--out", str(project))
    assert result.exit_code == 2
    assert "data.csv" in result.stderr and "--force" in result.stderr
    assert tree(project) == before
    forced = chistka("run", SCENARIO, *TINY, "--out", str(project), "--force")
    assert forced.exit_code == 0, forced.stderr
    after = tree(project)
    assert {name: after[name] for name in before} == before  # nothing of theirs touched
    assert "provenance.json" in after and "summary.json" in after
    assert not [p for p in project.iterdir() if p.name.startswith(".")]
    again = chistka("run", SCENARIO, *TINY, "--out", str(project), "--seed", "2")
    assert again.exit_code == 2  # a run with other things beside it is not replaced silently
    assert tree(project) == after


def test_a_folder_with_a_provenance_json_chistka_did_not_write_is_not_replaced(tmp_path):
    """QA of session 39: any file named provenance.json made the folder count as an earlier
    run, and `run --out` replaced the user's report.html, summary.json and comparison.csv."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "provenance.json").write_text('{"tool": "my-other-tool"}')
    (folder / "report.html").write_text("<h1>my hand-written report</h1>")
    (folder / "summary.json").write_text('{"my": "summary"}')
    before = tree(folder)
    result = chistka("run", SCENARIO, *TINY, "--out", str(folder))
    assert result.exit_code == 2
    assert "not written by chistka" in result.stderr and "Traceback" not in result.output
    assert tree(folder) == before
    forced = chistka("run", SCENARIO, *TINY, "--out", str(folder), "--force")
    assert forced.exit_code == 2  # a file of a run's name chistka did not write: never replaced
    assert tree(folder) == before


def test_force_never_overwrites_a_foreign_file_of_an_outputs_name(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "summary.json").write_text("my own summary")
    with pytest.raises(ChistkaError, match="summary.json"):
        check_out(folder, force=True)
    assert (folder / "summary.json").read_text() == "my own summary"


def test_out_dot_is_refused_cleanly_before_the_run(tmp_path, monkeypatch):
    (tmp_path / "keep.txt").write_text("keep")
    monkeypatch.chdir(tmp_path)
    result = chistka("run", SCENARIO, *TINY, "--out", ".")
    assert result.exit_code == 2
    assert "current directory" in result.stderr and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
    parent = chistka("run", SCENARIO, *TINY, "--out", "..", "--force")
    assert parent.exit_code == 2


def test_an_earlier_run_is_replaced(tiny_results, tmp_path):
    target = tmp_path / "run"
    save_run(tiny_results, target)  # what `chistka run --seed 1 --no-report` writes
    assert json.loads((target / "provenance.json").read_text())["seed"] == 1
    second = chistka("run", SCENARIO, *TINY, "--out", str(target), "--seed", "2")
    assert second.exit_code == 0, second.stderr
    assert json.loads((target / "provenance.json").read_text())["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_results_save_refuses_foreign_content(tiny_results, tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "notes.md").write_text("mine")
    with pytest.raises(ChistkaError, match="notes.md"):
        tiny_results.save(folder)
    assert [p.name for p in folder.iterdir()] == ["notes.md"]
    file = tmp_path / "file"
    file.write_text("mine")
    with pytest.raises(ChistkaError, match="not a folder"):
        tiny_results.save(file, force=True)
    assert file.read_text() == "mine"


def test_written_folders_are_readable_by_others(tiny_results, tmp_path):
    old = os.umask(0o022)
    try:
        path = tiny_results.save(tmp_path / "run")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o755


def test_a_link_is_never_replaced(tiny_results, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "data.csv").write_text("mine")
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(ChistkaError, match="is a link"):
        tiny_results.save(link, force=True)
    assert link.is_symlink() and (real / "data.csv").read_text() == "mine"


def test_atomic_directory_refuses_before_the_block(tmp_path):
    target = tmp_path / "x"
    target.write_text("mine")
    ran = []
    with pytest.raises(ChistkaError), atomic_directory(target):
        ran.append(True)
    assert not ran and target.read_text() == "mine"


# --- ensembles --------------------------------------------------------------------------------


def test_sweep_refuses_a_foreign_folder(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "notes.md").write_text("mine")
    with pytest.raises(ChistkaError, match="notes.md"):
        run_ensemble(plan(SCENARIO, 1, scale=0.0005), folder, n_jobs=1)
    assert [p.name for p in folder.iterdir()] == ["notes.md"]


def test_failed_dask_connection_leaves_nothing_behind(tmp_path, monkeypatch):
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(ensemble, "DASK_CONNECT_TIMEOUT_S", 1)
    target = tmp_path / "sweep"
    with pytest.raises(ChistkaError, match="cannot connect"):
        run_ensemble(plan(SCENARIO, 1, scale=0.0005), target, dask_address="tcp://127.0.0.1:1")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []
