"""Saved runs found on disk: one run's directory, or an ensemble's directory of runs.

A saved run is a directory that `Results.save` (or `chistka.analysis.comparison.save_run`)
wrote, with the files `chistka.results.REQUIRED_RUN_FILES`; `Results.load` reads one back. An
ensemble is a directory whose subdirectories each hold a saved run (`find_runs`).
"""

from __future__ import annotations

from pathlib import Path

from chistka.errors import ChistkaError
from chistka.results import REQUIRED_RUN_FILES


def is_run(path: Path) -> bool:
    """Whether `path` is a directory holding one saved run."""
    return path.is_dir() and all((path / name).is_file() for name in REQUIRED_RUN_FILES)


def find_runs(run_dir: str | Path) -> list[Path]:
    """The saved runs in `run_dir`: the directory itself, or its subdirectories (an ensemble).

    Raises:
        ChistkaError: `run_dir` does not exist, or holds no saved run.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ChistkaError(f"run directory '{run_dir}' does not exist")
    if is_run(run_dir):
        return [run_dir]
    runs = sorted(p for p in run_dir.iterdir() if not p.name.startswith(".") and is_run(p))
    if not runs:
        raise ChistkaError(
            f"'{run_dir}' holds no saved run: expected {', '.join(REQUIRED_RUN_FILES)} in it or "
            "in its subdirectories (one per run of an ensemble)"
        )
    return runs
