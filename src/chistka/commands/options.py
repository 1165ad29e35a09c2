"""Command-line options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ScaleOption = Annotated[float | None, typer.Option(help="agents per represented person, in (0, 1]")]
"""--scale: override the scenario's population scale."""

FreeOption = Annotated[
    Path | None,
    typer.Option(
        "--free",
        help="TOML of [[free]] path/low/high/log entries (default: SCENARIO.free.toml next "
        "to the scenario file, or the package's for a built-in scenario)",
    ),
]
"""--free: the file of free parameters and their ranges."""
