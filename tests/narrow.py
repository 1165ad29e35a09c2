"""A command run as a user runs it in an 80-column terminal (tests of the tables' narrow form)."""

from __future__ import annotations

import os
import subprocess
import sys


def at_80_columns(*args: str, whole: tuple[str, ...] = ()) -> str:
    """A command's output in an 80-column terminal (`at_columns`)."""
    return at_columns(80, *args, whole=whole)


def at_columns(columns: int, *args: str, whole: tuple[str, ...] = ()) -> str:
    """A command's output in a terminal of `columns` columns, checked to cut nothing ('…') and
    to keep every line within them, but lines starting with one of `whole` (the "wrote PATH"
    lines, which keep their paths whole to be copied).

    A process of its own, since the command's console reads COLUMNS when it is imported.
    """
    result = subprocess.run(
        [sys.executable, "-m", "chistka", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": str(columns)},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "…" not in result.stdout
    lines = [line for line in result.stdout.splitlines() if not line.startswith(whole or "\0")]
    assert max(len(line) for line in lines) <= columns
    return result.stdout
