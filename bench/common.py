"""Helpers shared by the benchmarks: the machine they ran on, medians, tables."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console(width=120)


def machine() -> str:
    """One line describing this machine (the figures hold for it only)."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{memory:.0f} GiB, Python {platform.python_version()}"
    )


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    """Wall seconds of one call, and its value."""
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def median(values: list[float]) -> float:
    """The median (the figure quoted: robust to a noisy neighbour)."""
    return statistics.median(values)


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    """Print a table."""
    out = Table(title=title)
    for column in columns:
        out.add_column(column, justify="right")
    for row in rows:
        out.add_row(*(str(value) for value in row))
    console.print(out)
