"""Faults: a sweep or a calibration killed with SIGKILL goes on with --resume, losing nothing.

Each test starts the real command in a subprocess, waits for evidence that a run (or a trial) is
under way, kills the process with SIGKILL and runs the same command again with --resume (a
calibration resumes by its storage). A small driver, written by the test, can hold the process
at a chosen point (half of a run's files written, a trial started) so that the kill lands there
every time; it changes nothing else.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from chistka.analysis.ensemble import PLAN_FILE, plan, run_spec
from conftest import SMALL
from tomltext import to_toml

SEEDS = 4
RUN_IDS = [f"p000-s00{i}" for i in range(1, SEEDS + 1)]
COMPARED = ("daily.parquet", "events.parquet", "campaigns.parquet", "comparison.csv")
WAIT_S = 120
"""Longest wait for the evidence a test polls for (a run of the small scenario takes ~2 s)."""

DRIVER = """
import os, sys, time
from pathlib import Path

flag, point, nth = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
sys.argv = ["chistka", *sys.argv[4:]]
calls = 0


def hold():
    flag.write_text(str(os.getpid()))
    while True:  # until the test kills this process
        time.sleep(1)


if point == "writing":  # hold the nth run's save after its events table is written
    import pandas as pd

    to_parquet = pd.DataFrame.to_parquet

    def patched(self, path, *args, **kwargs):
        global calls
        result = to_parquet(self, path, *args, **kwargs)
        if Path(path).name == "events.parquet":
            calls += 1
            if calls == nth:
                hold()
        return result

    pd.DataFrame.to_parquet = patched
elif point == "trial":  # hold inside the nth trial, before its runs
    import chistka.analysis.calibrate as calibrate

    evaluate = calibrate.evaluate

    def patched(*args, **kwargs):
        global calls
        calls += 1
        if calls == nth:
            hold()
        return evaluate(*args, **kwargs)

    calibrate.evaluate = patched
from chistka.cli import main

main()
"""


def chistka(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chistka", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )


def start(args: list[str], cwd: Path, hold: tuple[str, int] | None = None) -> subprocess.Popen:
    """The command in a subprocess; with `hold`, held at that point (see DRIVER)."""
    if hold is None:
        command = [sys.executable, "-m", "chistka", *args]
    else:
        (cwd / "driver.py").write_text(DRIVER, encoding="utf-8")
        command = [sys.executable, "driver.py", str(cwd / "held"), hold[0], str(hold[1]), *args]
    return subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def kill_when(process: subprocess.Popen, evidence: Callable[[], bool]) -> None:
    """SIGKILL the process as soon as `evidence()` holds (polled); fail if it ends first."""
    deadline = time.monotonic() + WAIT_S
    while not evidence():
        if process.poll() is not None:
            pytest.fail(
                f"the command ended (exit {process.returncode}) before it was killed:\n"
                f"{process.stderr.read() if process.stderr else ''}"
            )
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("no evidence of a run under way")
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL


def complete(out: Path) -> list[str]:
    """The run directories holding a complete run (not the temporary ones being written)."""
    return [run_id for run_id in RUN_IDS if (out / run_id / "summary.json").is_file()]


def identity(run_dir: Path) -> tuple[int, int]:
    """What changes when a run directory is written again: its inode and its summary's mtime."""
    return run_dir.stat().st_ino, (run_dir / "summary.json").stat().st_mtime_ns


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(to_toml(SMALL), encoding="utf-8")
    return path


def check_resumed(out: Path, small_file: Path, kept: dict[str, tuple[int, int]]) -> None:
    """All runs complete, the runs kept from before the kill untouched, no leftovers, and the
    run that was interrupted the same as the same spec run afresh."""
    assert complete(out) == RUN_IDS
    assert sorted(p.name for p in out.iterdir()) == sorted([*RUN_IDS, PLAN_FILE])
    for run_id, before in kept.items():
        assert identity(out / run_id) == before, f"{run_id} was run again"
    reference = out.parent / "reference"
    interrupted = next(spec for spec in plan(str(small_file), SEEDS) if spec.run_id not in kept)
    run_spec(interrupted, str(reference))
    for name in COMPARED:
        new, old = out / interrupted.run_id / name, reference / interrupted.run_id / name
        assert new.read_bytes() == old.read_bytes(), f"{interrupted.run_id}/{name} differs"


@pytest.mark.slow
def test_sweep_killed_during_a_run_resumes(small_file, tmp_path):
    out = tmp_path / "sweep"
    args = ["sweep", small_file.name, "--seeds", str(SEEDS), "--jobs", "1", "--out", "sweep"]
    args.append("--no-report")
    process = start(args, tmp_path)
    kill_when(process, lambda: out.is_dir() and len(complete(out)) >= 1)
    kept = {run_id: identity(out / run_id) for run_id in complete(out)}
    assert 1 <= len(kept) < SEEDS

    again = chistka(*args, cwd=tmp_path)
    assert again.returncode == 2 and "--resume" in again.stderr
    resumed = chistka(*args, "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    check_resumed(out, small_file, kept)


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads processes from /proc")
def test_sweep_in_worker_processes_killed_leaves_no_worker_behind(small_file, tmp_path):
    out = tmp_path / "sweep"
    args = ["sweep", small_file.name, "--seeds", str(SEEDS), "--jobs", "2", "--out", "sweep"]
    args.append("--no-report")
    process = start(args, tmp_path)
    workers: list[int] = []

    def under_way() -> bool:
        workers[:] = children(process.pid)
        return out.is_dir() and len(complete(out)) >= 1

    kill_when(process, under_way)
    assert workers, "the sweep started no worker process"
    deadline = time.monotonic() + WAIT_S
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in workers if alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "worker processes of the killed sweep went on running"
    # a run being written when the sweep was killed may be finished, no further one is begun
    kept = {run_id: identity(out / run_id) for run_id in complete(out)}
    assert len(kept) < SEEDS, "the orphaned workers went on with the sweep"

    resumed = chistka(*args, "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    check_resumed(out, small_file, kept)


@pytest.mark.slow  # 12 s; the quick tier keeps the calibration killed during a trial
def test_sweep_killed_while_writing_a_run_resumes(small_file, tmp_path):
    out = tmp_path / "sweep"
    args = ["sweep", small_file.name, "--seeds", str(SEEDS), "--jobs", "1", "--out", "sweep"]
    args.append("--no-report")
    process = start(args, tmp_path, hold=("writing", 2))
    kill_when(process, (tmp_path / "held").is_file)
    half = [p for p in out.iterdir() if p.name.startswith(".p000-s002.tmp-")]
    assert len(half) == 1 and (half[0] / "events.parquet").is_file()
    assert not (out / "p000-s002").exists()
    kept = {run_id: identity(out / run_id) for run_id in complete(out)}
    assert list(kept) == ["p000-s001"]

    resumed = chistka(*args, "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert not half[0].exists()
    check_resumed(out, small_file, kept)


# --- calibrate ---------------------------------------------------------------------------------

TARGETS = """id,observable,value,low,high
purge_c1,expelled_share:c1,0.2,0.15,0.25
total1927,party_total:1927-01-01,30000,,
"""

FREE = """
[[free]]
path = "review.noise_sd"
low = 0.5
high = 3.0
log = true
"""


def trial_states(database: Path) -> list[tuple[int, str, bool]]:
    """(number, state, is the scenario's own values) of each trial in the study's SQLite file."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT trial_id, number, state FROM trials ORDER BY number")
        trials = rows.fetchall()
        baseline = {
            trial_id
            for (trial_id,) in connection.execute(
                "SELECT trial_id FROM trial_user_attributes WHERE key = 'baseline'"
            )
        }
    return [(number, state, trial_id in baseline) for trial_id, number, state in trials]


def trial_params(database: Path, number: int) -> dict[str, float]:
    """The parameters of a trial, by number, from the study's SQLite file."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT param_name, param_value FROM trial_params JOIN trials USING (trial_id) "
            "WHERE number = ?",
            (number,),
        )
        return dict(rows.fetchall())


@pytest.fixture
def calibration_args(small_file: Path, tmp_path: Path) -> list[str]:
    (tmp_path / "targets.csv").write_text(TARGETS, encoding="utf-8")
    (tmp_path / "free.toml").write_text(FREE, encoding="utf-8")
    return [
        "calibrate", small_file.name, "--targets", "targets.csv", "--free", "free.toml",
        "--seeds", "1", "--out", "cal",
    ]  # fmt: skip


@pytest.mark.parametrize("killed_in", [1, pytest.param(3, marks=pytest.mark.slow)])
def test_calibration_killed_during_a_trial_goes_on_from_its_last_finished_trial(
    calibration_args, tmp_path, killed_in
):
    database = tmp_path / "cal" / "study.db"
    process = start([*calibration_args, "--trials", "4"], tmp_path, hold=("trial", killed_in))
    kill_when(process, (tmp_path / "held").is_file)
    before = trial_states(database)
    finished = killed_in - 1
    assert [state for _, state, _ in before] == ["COMPLETE"] * finished + ["RUNNING"]

    resumed = chistka(*calibration_args, "--trials", "2", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    after = trial_states(database)
    assert after[:finished] == before[:finished]  # the finished trials are kept, not redone
    states = [state for _, state, _ in after]
    assert "RUNNING" not in states
    assert states.count("COMPLETE") == finished + 2
    assert states[finished] == "FAIL"  # the killed trial, which does not count
    assert states[finished + 1] == "COMPLETE"  # its parameters, tried again first
    assert trial_params(database, finished + 1) == trial_params(database, finished) != {}
    assert sum(baseline for _, state, baseline in after if state == "COMPLETE") == 1
    assert (tmp_path / "cal" / "fitted.toml").is_file()
