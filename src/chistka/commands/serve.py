"""`chistka serve`: the browser app on this machine (see `chistka.web`).

Open the address it prints, pick a built-in scenario, seed and scale, and run it; the page
follows the run and, when it is done, shows its fit against the record, its comparison row by
row, its report and the files behind every chart. Runs are kept under `--runs` (one state file
and one output folder each), so they outlive the server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chistka.commands.options import fail, output_console
from chistka.errors import ChistkaError

console = output_console()


def serve_command(
    runs: Annotated[
        Path, typer.Option(help="folder for the runs' state files and output folders")
    ] = Path("out/web"),
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on, 1-65535")] = 8000,
    max_running: Annotated[
        int, typer.Option(help="runs at once; the others wait in a queue (at least 1)")
    ] = 1,
    experiments: Annotated[
        Path | None,
        typer.Option(
            help="a folder of experiment designs (*.toml) offered beside the built-in"
            " (read again as its files change)"
        ),
    ] = None,
) -> None:
    """Serve the browser app: run scenarios, watch them, read their reports and data."""
    try:
        if not 1 <= port <= 65535:
            raise ChistkaError(f"--port must be in 1-65535 (got {port})")
        if max_running < 1:
            raise ChistkaError(f"--max-running must be at least 1 (got {max_running})")
        if runs.exists() and not runs.is_dir():
            raise ChistkaError(f"--runs '{runs}' is a file; give a folder (it is created if new)")
        if experiments is not None and not experiments.is_dir():
            raise ChistkaError(f"--experiments '{experiments}' is not a folder of designs")
        import uvicorn

        from chistka.web.app import create_app

        application = create_app(runs, max_running=max_running, experiments_folder=experiments)
    except ChistkaError as exc:
        fail(str(exc))
    console.print(f"chistka: serving on http://{host}:{port}/ (runs kept in {runs}/)")
    uvicorn.run(application, host=host, port=port, log_level="warning")
