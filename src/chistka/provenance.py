"""Where and with what a run was made: timestamp, git commit, Python and package versions.

Recorded in every run's provenance.json under "environment" (and kept out of summary.json, so
that runs of the same scenario and seed stay identical file for file wherever they ran).
"""

from __future__ import annotations

import datetime as dt
import functools
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "chistka",
    "numpy",
    "numba",
    "pandas",
    "pyarrow",
    "pydantic",
    "scipy",
    "joblib",
    "plotly",
    "optuna",
    "SALib",
    "distributed",
)
"""Packages whose versions a run records (those not installed are left out)."""


def _git(*args: str) -> str | None:
    """A git command's output in the package's source directory, or None outside a checkout."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@functools.lru_cache(maxsize=1)
def _static() -> dict[str, Any]:
    """The parts that do not change within a process (computed once)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no", ".") if commit else None
    return {
        "git_commit": commit,
        "git_dirty": None if status is None else bool(status),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
    }


def environment() -> dict[str, Any]:
    """The run's environment: UTC timestamp, git commit (None outside a checkout), versions."""
    return {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **_static(),
    }
