"""The browser app's runs: each a scenario run in a process of its own, its state in a file.

A run submitted from the browser gets an id, a state file `RUNS/ID.json` and, when it is done,
the output folder `RUNS/ID/` that `chistka run --out` would write (`save_run`: written
atomically, so a failed run leaves no folder). The run itself is a child process
(`python -m chistka.web.worker`), so that the server stays responsive and a crash of the
simulation cannot take it down; the child writes its progress into the state file, which the
pages read. At most `max_running` runs go at once (on this 2-core machine one: a run takes both
cores' worth of memory bandwidth); the others wait, queued, in the order they came.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chistka.errors import ChistkaError

RUN_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")
"""A run id: the scenario's name, the seed, the time and a random suffix, in [a-z0-9-]."""

BUILDING = re.compile(
    r"^\.(?P<id>[a-z0-9][a-z0-9-]{0,80})\.(?:(?:seeds|variants|experiment)\.tmp|tmp-\w+|old-\w+)$"
)
"""The hidden folders a run's output is built in before it is moved into place (the worker's
`staged` ones and `outputs.atomic_directory`'s)."""

STOP_SECONDS = 30.0
"""How long a worker has to stop on SIGTERM before it is killed (`RunJobs.stop_all`)."""

STATES = ("queued", "running", "done", "failed")
"""A run's states, in the order it goes through them (failed may come from any other)."""


def is_set_of_runs(state: dict[str, Any]) -> bool:
    """Whether a run's state is an ensemble's or an experiment's, not a single run's."""
    return bool(state.get("experiment")) or (state.get("seeds") or 1) > 1


def no_run_under_way(state: dict[str, Any]) -> dict[str, None]:
    """The keys of a set of runs' state that name its run under way, cleared ({} for a run).

    ``run_seed``, ``run_days_done``, ``run_days_total`` and ``run_day_date`` (the simulated
    date of that day, ISO), an experiment's ``arm`` and, at
    values of a parameter, its ``value``: written at the submission, as each run ends and as
    the job ends, so that no key names a run that is not going (the arm named the next run's
    before it started, and the last run's after the job was done).
    """
    if not is_set_of_runs(state):
        return {}
    keys = ["run_seed", "run_days_done", "run_days_total", "run_day_date"]
    if state.get("experiment"):
        keys.append("arm")
    if state.get("vary"):
        keys.append("value")
    return dict.fromkeys(keys)


def write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    """Write `data` to `path` so that a reader sees the old file or the new one, never half."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
    os.replace(temporary, path)


def read_state(path: Path) -> dict[str, Any]:
    """A run's state file."""
    return json.loads(path.read_text(encoding="utf-8"))


def now() -> str:
    """The time in UTC, to the microsecond, with its zone (+00:00), for the state files.

    Runs submitted in one second keep their order; the pages show the time to the minute, in
    UTC (`run_pages.time_text`). It was the server's local time without a zone.
    """
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


@dataclass
class RunJobs:
    """The runs under one folder: submit, list, look one up, start the queued ones."""

    folder: Path
    max_running: int = 1
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    """Held while a state file is written or runs are started: the server's request threads and
    its ticker would otherwise both start the same queued run."""

    def __post_init__(self) -> None:
        """Create the folder; mark failed the runs a stopped server left going.

        What such a run had half built is removed (`remove_half_built`).
        """
        if self.max_running < 1:
            raise ChistkaError(f"max_running must be at least 1 (got {self.max_running})")
        self.folder.mkdir(parents=True, exist_ok=True)
        for state in self.all():
            if state["status"] == "running":
                self.update(
                    state["id"],
                    status="failed",
                    error="the server stopped while this run was going; submit it again",
                    finished=now(),
                    **no_run_under_way(state),
                )
        self.remove_half_built()

    def remove_half_built(self) -> None:
        """Remove the hidden folders that runs (and comparisons) of a stopped server left.

        A worker stopped by a signal it cannot catch (SIGKILL, the kernel's out-of-memory
        killer) never runs its clean-up. Only folders named as a run of this folder builds them,
        for a run whose state file is here, are removed; the server has started none yet.
        """
        for path in self.folder.iterdir():
            match = BUILDING.match(path.name)
            if match and path.is_dir() and self.state_file(match["id"]).is_file():
                shutil.rmtree(path, ignore_errors=True)
        comparisons = self.folder / "compare"
        if comparisons.is_dir():
            for path in comparisons.glob(".*--*.tmp"):
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)

    def state_file(self, run_id: str) -> Path:
        """Where a run's state is kept."""
        return self.folder / f"{run_id}.json"

    def output(self, run_id: str) -> Path:
        """The run's output folder (there once it is done)."""
        return self.folder / run_id

    def submit(
        self,
        scenario: str,
        seed: int | None,
        scale: float | None,
        changes: list[str] | None = None,
        removed: list[str] | None = None,
        seeds: int = 1,
        experiment: tuple[str, str] | None = None,
        vary: str | None = None,
    ) -> dict[str, Any]:
        """Queue a run of a built-in scenario (checked by the caller); start it if it can.

        `experiment` (its name and design ref) makes the run an experiment of that design on
        `scenario` (`chistka.analysis.experiment`), with `seeds` seeds per arm counted up from
        `seed` (None: from the design's scenario's seed); `vary`
        (``PARAM=V1,V2,...``) runs it once per value (`chistka.analysis.variants`).

        A single run's progress is ``days_done``, ``days_total`` and ``day_date`` (the
        simulated date of that day, ISO); an ensemble's or an
        experiment's ``runs_done`` and ``runs_total`` and the run under way's keys
        (`no_run_under_way`). It carried a single run's ``"days_done": 0, "days_total": null``
        to its end, which read as no day done. The worker adds ``spin_up_days`` as the job
        starts (the scenario's spin-up, every run's): the days up to it precede the scenario's
        start.
        """
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        prefix = scenario if experiment is None else experiment[0]
        run_id = f"{prefix}-{'default' if seed is None else seed}-{stamp}-{secrets.token_hex(2)}"
        state = {
            "id": run_id,
            "scenario": scenario,
            "seed": seed,
            "scale": scale,
            "set": list(changes or []),
            "without": list(removed or []),
            "seeds": seeds,
            "status": "queued",
            "submitted": now(),
            "started": None,
            "finished": None,
            "error": None,
        }
        if experiment is not None:
            state["experiment"], state["design"] = experiment
        if vary:
            state["vary"] = vary
        if is_set_of_runs(state):
            state |= {"runs_done": 0, "runs_total": None, **no_run_under_way(state)}
        else:
            state |= {"days_done": 0, "days_total": None, "day_date": None}
        with self.lock:
            write_json_atomically(self.state_file(run_id), state)
        self.start_queued()
        return self.get(run_id)

    def get(self, run_id: str) -> dict[str, Any]:
        """A run's state (KeyError: no such run)."""
        if not RUN_ID.match(run_id) or not self.state_file(run_id).is_file():
            raise KeyError(run_id)
        self.start_queued()
        return read_state(self.state_file(run_id))

    def all(self) -> list[dict[str, Any]]:
        """Every run's state, the newest first."""
        states = []
        for path in self.folder.glob("*.json"):
            if not RUN_ID.match(path.stem):
                continue
            try:
                state = read_state(path)
            except (OSError, ValueError):
                continue  # not a run's state file: left alone
            if isinstance(state, dict) and {"id", "status", "submitted"} <= set(state):
                states.append(state)
        return sorted(states, key=lambda state: state["submitted"], reverse=True)

    def update(self, run_id: str, **changes: Any) -> None:
        """Change fields of a run's state."""
        with self.lock:
            path = self.state_file(run_id)
            write_json_atomically(path, {**read_state(path), **changes})

    def reap(self) -> None:
        """Mark failed the runs whose process ended without saying done or failed."""
        with self.lock:
            self._reap()

    def _reap(self) -> None:
        for run_id, process in list(self.processes.items()):
            code = process.poll()
            if code is None:
                continue
            del self.processes[run_id]
            state = read_state(self.state_file(run_id))
            if state["status"] == "running":
                self.update(
                    run_id,
                    status="failed",
                    error=f"the run's process stopped (exit status {code}); see {run_id}.log",
                    finished=now(),
                    **no_run_under_way(state),
                )

    def start_queued(self) -> None:
        """Start the oldest queued runs while fewer than `max_running` are going."""
        with self.lock:
            self._reap()
            queued = [state for state in reversed(self.all()) if state["status"] == "queued"]
            for state in queued[: max(0, self.max_running - len(self.processes))]:
                run_id = state["id"]
                self.update(run_id, status="running", started=now())
                with open(self.folder / f"{run_id}.log", "wb") as log:
                    self.processes[run_id] = subprocess.Popen(
                        [sys.executable, "-m", "chistka.web.worker", str(self.state_file(run_id))],
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )

    def stop_all(self) -> None:
        """Stop the runs still going (the server is shutting down).

        Each worker gets SIGTERM and cleans up as on an error. One that has not stopped within
        `STOP_SECONDS` (its signal handler waits for compiled code to return, e.g. numba
        compiling the kernels in a fresh clone) is killed, and what it half built is removed
        here (`remove_half_built`), as after any kill; its run is marked failed either way.
        """
        for process in self.processes.values():
            process.terminate()
        killed = False
        for process in self.processes.values():
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                killed = True
        if killed:
            self.remove_half_built()
        self.reap()
