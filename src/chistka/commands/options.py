"""Command-line options and error reporting shared by the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

errors = Console(stderr=True)
"""Where errors and interruptions are reported (standard error)."""


def fail(message: str) -> NoReturn:
    """Print a user-facing error and exit with status 2."""
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def interrupted(what_is_kept: str) -> NoReturn:
    """Report a Ctrl-C (what was kept and how to go on) and exit with status 130."""
    errors.print(f"[bold red]interrupted:[/] {what_is_kept}", highlight=False)
    raise typer.Exit(code=130) from None


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
