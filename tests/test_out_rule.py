"""The one rule of --out, command by command (`outputs.check_out`), checked before any run.

Every command that writes a folder takes a new path, an empty folder, or its own earlier
output (a sweep's or an experiment's with --resume), and refuses another command's output or
files chistka did not write (those with --force), with exit 2 and nothing written. Each command
is stopped where its work would start (`Reached`), so no scenario runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
from typer.testing import CliRunner

from chistka.cli import app
from chistka.outputs import CALIBRATE_MARKS, COMPARE_MARKS, SENSITIVITY_MARKS, atomic_directory

SCENARIO = "party-purges-1921-1936"
TARGETS = str(Path(__file__).resolve().parents[1] / "src/chistka/targets/calibration.csv")


class Reached(Exception):
    """Raised where the command's work would start: its --out was accepted."""


def reached(*_args: object, **_kwargs: object) -> None:
    raise Reached


COMMANDS = {
    "run": (["run", SCENARIO, "--scale", "0.0005", "--no-report"], ["chistka.cli.Sim"]),
    "sweep": (
        ["sweep", SCENARIO, "--seeds", "1", "--scale", "0.0005", "--jobs", "1", "--no-report"],
        ["chistka.analysis.ensemble.plan_document"],
    ),
    "experiment": (
        ["experiment", "run", "centre-or-periphery", "--seeds", "1", "--jobs", "1"],
        ["chistka.analysis.ensemble.plan", "chistka.analysis.experiment._same_plan"],
    ),
    "sensitivity": (
        ["sensitivity", SCENARIO, "--observable", "expelled_share:1921", "--n", "2"],
        ["chistka.analysis.sensitivity.sensitivity"],
    ),
    "compare": (["compare", "a", "b"], ["chistka.commands.compare.load_side"]),
    "calibrate": (
        ["calibrate", SCENARIO, "--targets", TARGETS, "--trials", "1"],
        ["chistka.analysis.calibrate.calibrate"],
    ),
}
"""Each command's arguments (but --out) and where its work starts (patched to `reached`)."""

WHOSE = {
    "run": "a run's output (chistka run)",
    "sweep": "an ensemble's output (chistka sweep)",
    "experiment": "an experiment's output (chistka experiment run)",
    "sensitivity": "a sensitivity analysis's output (chistka sensitivity)",
    "compare": "a comparison's output (chistka compare)",
    "calibrate": "a calibration's output (chistka calibrate)",
}

RESUMED = {"sweep", "experiment"}
"""Commands whose earlier output is finished with --resume rather than replaced."""


def write_output(command: str, folder: Path) -> None:
    """A small earlier output of `command` in `folder`, as chistka writes its marked files."""
    folder.mkdir(parents=True, exist_ok=True)
    plan = json.dumps({"format": 1, "package_version": "0.1.0"}, indent=2)
    if command == "run":
        provenance = {"package_version": "0.1.0", "environment": {"packages": {"chistka": "0"}}}
        (folder / "provenance.json").write_text(json.dumps(provenance))
        (folder / "summary.json").write_text("{}")
    elif command == "sweep":
        (folder / "plan.json").write_text(plan)
        (folder / "p000-s001").mkdir()
    elif command == "experiment":
        (folder / "experiment.json").write_text(plan)
        (folder / "baseline").mkdir()
    else:
        marks = {
            "sensitivity": SENSITIVITY_MARKS,
            "compare": COMPARE_MARKS,
            "calibrate": CALIBRATE_MARKS,
        }[command]
        for name, mark in marks.items():
            (folder / name).write_text(f"{mark}earlier\n")


def invoke(command: str, out: Path, monkeypatch: pytest.MonkeyPatch, *extra: str):
    arguments, starts = COMMANDS[command]
    for start in starts:
        monkeypatch.setattr(start, reached)
    return CliRunner().invoke(app, [*arguments, "--out", str(out), *extra], env={"COLUMNS": "300"})


def tree(path: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(path)): p.read_bytes() if p.is_file() else None
        for p in sorted(path.rglob("*"))
    }


def assert_accepted(result) -> None:
    assert isinstance(result.exception, Reached), result.output


def assert_refused(result, folder: Path, before: dict[str, bytes | None], *words: str) -> None:
    text = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert f"--out {folder}" in text and "Traceback" not in text, text
    for word in words:
        assert word in text, (word, text)
    assert tree(folder) == before  # nothing written, nothing removed
    assert sorted(p.name for p in folder.parent.iterdir()) == [folder.name]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_new_folder_is_taken(command, tmp_path, monkeypatch):
    assert_accepted(invoke(command, tmp_path / "new" / "out", monkeypatch))


@pytest.mark.parametrize("command", COMMANDS)
def test_an_empty_folder_is_taken(command, tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    assert_accepted(invoke(command, tmp_path / "empty", monkeypatch))


@pytest.mark.parametrize("command", COMMANDS)
def test_the_same_commands_earlier_output_is_taken(command, tmp_path, monkeypatch):
    """Replaced as a whole (run, sensitivity, compare, calibrate's files); a sweep's or an
    experiment's is finished with --resume, and without it refused (finished runs are kept)."""
    folder = tmp_path / "earlier"
    write_output(command, folder)
    before = tree(folder)
    if command in RESUMED:
        refused = invoke(command, folder, monkeypatch)
        assert_refused(refused, folder, before, "already holds", "--resume")
        assert_accepted(invoke(command, folder, monkeypatch, "--resume"))
    else:
        assert_accepted(invoke(command, folder, monkeypatch))
    assert tree(folder) == before  # the check itself deletes nothing


@pytest.mark.parametrize("command", COMMANDS)
def test_another_commands_output_is_refused_even_with_force(command, tmp_path, monkeypatch):
    """compare and calibrate refused it before, run, sweep, experiment and sensitivity called
    it files chistka did not write (and wrote beside it with --force): now all say whose it is."""
    names = list(COMMANDS)
    other = names[(names.index(command) + 1) % len(names)]
    folder = tmp_path / "other"
    write_output(other, folder)
    before = tree(folder)
    for extra in ([], ["--force"]):
        result = invoke(command, folder, monkeypatch, *extra)
        assert_refused(result, folder, before, WHOSE[other], "give a new or empty folder")


@pytest.mark.parametrize("command", COMMANDS)
def test_files_chistka_did_not_write_are_refused_but_with_force(command, tmp_path, monkeypatch):
    """compare and calibrate wrote among others' files unasked; sweep and experiment run had
    no --force. Now each refuses them and, with --force, writes beside them."""
    folder = tmp_path / "mine"
    (folder / "notes").mkdir(parents=True)
    (folder / "notes" / "day1.md").write_text("interviews")
    (folder / "data.csv").write_text("a,b\n1,2\n")
    before = tree(folder)
    refused = invoke(command, folder, monkeypatch)
    assert_refused(refused, folder, before, "data.csv, notes", "did not write", "--force")
    assert_accepted(invoke(command, folder, monkeypatch, "--force"))
    assert tree(folder) == before


def test_run_takes_an_older_runs_folder(tmp_path, monkeypatch):
    """provenance.json before the environment was recorded (up to 3c8468b): the folder was
    refused as files chistka did not write; it is an earlier run, and replaced."""
    folder = tmp_path / "old-run"
    folder.mkdir()
    provenance = {
        "scenario": SCENARIO,
        "scenario_name": SCENARIO,
        "seed": 7,
        "scale": 0.01,
        "package_version": "0.1.0",
        "parameters": {"scenario": {"name": SCENARIO}, "population": {"scale": 0.01}},
    }
    (folder / "provenance.json").write_text(json.dumps(provenance, indent=2))
    for name in ("daily.parquet", "events.parquet", "summary.json", "report.html"):
        (folder / name).write_bytes(b"earlier")
    assert_accepted(invoke("run", folder, monkeypatch))
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "provenance.json").write_text(json.dumps({**provenance, "parameters": {}}))
    refused = invoke("run", mine, monkeypatch)
    assert refused.exit_code == 2 and "not written by chistka run" in refused.output


def test_force_over_an_earlier_run_leaves_none_of_its_files(tmp_path):
    """QA of session 46: `run --force --no-report` into a folder holding an earlier run and a
    note of the user's kept the earlier run's report.html beside the new run's files."""
    folder = tmp_path / "runs"
    write_output("run", folder)
    (folder / "report.html").write_text("the earlier run's report")
    (folder / "note.txt").write_text("mine")
    provenance = {"package_version": "0.1.0", "environment": {"packages": {"chistka": "new"}}}
    with atomic_directory(folder, force=True) as staged:
        (staged / "provenance.json").write_text(json.dumps(provenance))
    assert sorted(path.name for path in folder.iterdir()) == ["note.txt", "provenance.json"]
    assert json.loads((folder / "provenance.json").read_text()) == provenance
    assert (folder / "note.txt").read_text() == "mine"


def test_a_file_named_study_db_is_a_calibrations_only_if_it_holds_a_study(tmp_path, monkeypatch):
    """QA of session 46: any file called study.db made its folder a calibration's output, by
    its name alone (and calibrate failed on a text file with a database error)."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "study.db").write_text("not a database")
    before = tree(folder)
    refused = invoke("calibrate", folder, monkeypatch, "--force")
    assert_refused(refused, folder, before, "study.db", "not written by chistka calibrate")
    assert_accepted(invoke("run", folder, monkeypatch, "--force"))
    (folder / "study.db").unlink()
    optuna.create_study(storage=f"sqlite:///{folder / 'study.db'}", study_name="a-study")
    refused = invoke("run", folder, monkeypatch, "--force")
    assert refused.exit_code == 2 and WHOSE["calibrate"] in " ".join(refused.output.split())


def test_calibrate_refused_before_its_first_trial_leaves_nothing(tmp_path):
    """QA of session 46: `calibrate --trials 0` into a new folder was refused (no study stored)
    but left the folder with an empty study.db, which every command then took for a
    calibration's output."""
    out = tmp_path / "cal0"
    arguments = ["calibrate", SCENARIO, "--targets", TARGETS, "--trials", "0", "--out", str(out)]
    result = CliRunner().invoke(app, arguments, env={"COLUMNS": "300"})
    assert result.exit_code == 2 and "--trials 0" in result.output, result.output
    assert not out.exists()


def test_a_sweep_of_one_run_says_so_in_the_singular(tmp_path, monkeypatch):
    """QA of session 46: a sweep of one seed printed "1 runs (1 parameter set x 1 seeds, 1-1)"."""
    result = invoke("sweep", tmp_path / "one", monkeypatch)
    assert "1 run (1 parameter set x 1 seed, 1)" in " ".join(result.output.split()), result.output
