"""Command-line options and error reporting shared by the commands."""

from __future__ import annotations

import contextlib
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich import box
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.markup import escape
from rich.measure import Measurement
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from chistka.errors import ChistkaError

LOG_WIDTH = 1000
"""Width of tables written to a file or a log: wide enough that no name is cut or folded."""


NARROW: dict[str, Any] = {
    "box": box.SIMPLE_HEAD,
    "padding": (0, 0),
    "pad_edge": False,
    "show_edge": False,
}
"""A table's frame in an 80-column terminal: a rule under the header, one space between columns."""


class Fitting:
    """A table drawn wide where it fits, else in a narrow layout (an 80-column terminal).

    Rich squeezes a table that is too wide by cutting its cells ("1,406,…") or by giving a
    column no width at all; `narrow` lays the same cells out so that none is cut. The wide
    table fits where rich gives each of its columns at least what it needs (`fits`).
    """

    def __init__(self, wide: Any, narrow: Callable[[], Any]) -> None:
        self.wide = wide
        self.narrow = narrow

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.wide if fits(self.wide, console, options) else self.narrow()


RICH_TABLE_HELPERS = ("_extra_width", "_calculate_column_widths", "_measure_column")
"""The private parts of rich.table.Table that `fits` reads (rich 13.7 to 15 have them)."""


def fits(table: Any, console: Console, options: ConsoleOptions) -> bool:
    """Whether rich draws `table` within `options.max_width` without cutting a cell.

    A column needs its longest word where its cells wrap (or its `min_width`, if larger), and
    its longest cell, header included, where they do not (`no_wrap`). The table's measured
    minimum is not enough: rich measures a no_wrap column by its longest word, but keeps the
    column whole and squeezes the wrapping columns instead, below their longest word (QA 45:
    compare's figure names were cut to "membe…" in a table whose minimum "fitted"). So the
    widths rich gives the columns at this width are compared with what each needs.
    """
    measured_minimum = Measurement.get(console, options.update_width(LOG_WIDTH), table).minimum
    if not isinstance(table, Table) or not all(hasattr(table, h) for h in RICH_TABLE_HELPERS):
        # a rich without these private helpers: its measured minimum, the looser test
        return measured_minimum <= options.max_width
    # rich's own layout of the columns (private helpers of rich.table.Table, as in its render)
    extra = table._extra_width
    available = (table.width or options.max_width) - extra
    widths = table._calculate_column_widths(console, options.update_width(available))
    unbounded = options.update_width(LOG_WIDTH)
    for width, column in zip(widths, table.columns, strict=True):
        measured = table._measure_column(console, unbounded, column)
        if width < (measured.maximum if column.no_wrap else measured.minimum):
            return False
    return sum(widths) + extra <= options.max_width


def output_console() -> Console:
    """The console of a command's output, as wide as needed when it is not a terminal.

    The terminal's width, or `LOG_WIDTH` when the output goes to a file or a log (and COLUMNS
    does not say otherwise), so that tables keep full names.
    """
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        return Console(width=LOG_WIDTH)
    return console


class _Bar(Progress):
    """A rich `Progress` that, once its work failed, is erased and leaves nothing in its place.

    Rich ends a bar on a console that is not interactive (a file, a pipe, a test's runner) with
    an empty line, under the bar's last state; a failed bar prints no state (transient), so that
    line alone stood above "error:" of every command with a bar (QA 44, 21).

    `heading`, where given, is a line of plain text above the bars, wrapped at the terminal's
    width: what a bar's description cannot hold at 80 columns without squeezing the bar away.
    """

    failed = False
    heading = ""

    def get_renderables(self) -> Iterable[RenderableType]:
        if self.heading:
            yield Text(self.heading)
        yield from super().get_renderables()

    def stop(self) -> None:
        if not self.failed:
            super().stop()
        elif not self.disable:
            self.live.transient = True
            self.live.stop()


@contextlib.contextmanager
def progress_bar(
    *columns: str | ProgressColumn, console: Console, heading: str = ""
) -> Iterator[Progress]:
    """A rich progress bar that is erased, leaving no empty line, if the block fails.

    The error message that follows is then neither printed under a bar that looks as if the
    work went on nor after a stray empty line (on a terminal or not): every command's bar is
    made here, so that each failure under a bar reads the same. `heading`: a line of plain text
    above the bar (`_Bar`), erased with it.
    """
    progress = _Bar(*columns, console=console)
    progress.heading = heading
    with progress:
        try:
            yield progress
        except BaseException:
            progress.failed = True
            raise


def counting_bar(
    unit: str,
    *,
    console: Console,
    remaining: bool = False,
    field: str = "",
    heading: str = "",
) -> contextlib.AbstractContextManager[Progress]:
    """`progress_bar` of the commands that count their work: description, bar, done of total.

    `unit` names what is counted (days, runs, trials); `remaining` adds the time left (for work
    of a known size); `field` adds a task field shown last (e.g. the best trial so far);
    `heading` a line above the bar (e.g. the files a sensitivity analysis reads).
    """
    columns: list[ProgressColumn] = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
    ]
    if remaining:
        columns.append(TimeRemainingColumn())
    if field:
        columns.append(TextColumn(f"{{task.fields[{field}]}}"))
    return progress_bar(*columns, console=console, heading=heading)


def quiet_worker_restarts() -> None:
    """Hide loky's warning when it replaces a worker whose memory grew over a run.

    loky starts a fresh worker process once one has grown by 300 MB since its first task (its
    guard against leaks); a run of great-terror keeps more than that with the allocator, so a
    sweep's workers are replaced now and then, which costs a few seconds and changes no result
    (each run depends only on its scenario and seed). The warning ("A worker stopped while some
    jobs were given to the executor") would read as a failure in the middle of the progress bar.
    """
    import warnings

    warnings.filterwarnings("ignore", message="A worker stopped while some jobs were given")


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


SEED_COUNT = re.compile(r"^\s*(\d+)\s*$", re.ASCII)
"""`--seeds N`: N seeds counted up from the scenario's."""

SEED_SPAN = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$", re.ASCII)
"""`--seeds A-B`: the seeds A to B, both included."""

SEEDS_METAVAR = "N or A-B"
"""How `--seeds` of `chistka sweep` and `chistka experiment run` is written in their help."""


def parse_seeds(text: str, *, most: int, each: str, limit: str) -> int | list[int]:
    """`--seeds`: a count N (seeds counted up from the scenario's) or a span A-B of seeds.

    The one parser of `chistka sweep --seeds` and `chistka experiment run --seeds`: `most` is
    the most seeds the command runs (a sweep's runs, an experiment's seeds per arm), `each` what
    a seed is run for ("parameter set", "arm") and `limit` what `most` counts ("runs in one
    sweep"). A span's length is checked before a list of it is made.

    Raises:
        ChistkaError: neither form, a span whose end comes before its start, a count below 1,
            more than `most` seeds, or a seed outside what a scenario allows (the message names
            --seeds and the forms).
    """
    from chistka.commands.preflight import check_seed

    forms = "give N (that many seeds from the scenario's) or A-B (the seeds A to B, e.g. 9-16)"
    if (counted := SEED_COUNT.match(text)) is not None:
        count = int(counted.group(1))
        if count < 1:
            raise ChistkaError(f"--seeds: at least 1 run per {each} (got {text}); {forms}")
        if count > most:
            raise ChistkaError(f"--seeds {text}: at most {most:,} {limit}; {forms}")
        return count
    span = SEED_SPAN.match(text)
    if span is None:
        raise ChistkaError(f"--seeds: '{text}' is neither a count nor a span; {forms}")
    first, last = int(span.group(1)), int(span.group(2))
    if last < first:
        raise ChistkaError(f"--seeds {text}: the span ends before it starts; {forms}")
    check_seed(last, "--seeds")
    if last - first + 1 > most:  # refused before a list of them is made
        raise ChistkaError(f"--seeds {text}: {last - first + 1:,} seeds; at most {most:,} {limit}")
    return list(range(first, last + 1))


ScenarioArgument = Annotated[
    str, typer.Argument(help="built-in scenario name or path to a TOML file")
]
"""The scenario a command runs: a built-in name or a TOML file."""

ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="write into an --out folder holding files chistka did not write, beside them "
        "(none of them is deleted or overwritten; another command's output is still refused)",
    ),
]
"""--force, the same in every command that writes a folder (`outputs.check_out`)."""

JobsOption = Annotated[
    int,
    typer.Option("--jobs", "-j", help="local processes (-1: one per core; 1: no parallelism)"),
]
"""--jobs: how many local worker processes run an ensemble's runs."""


def builtin_scales() -> dict[str, float]:
    """Each built-in scenario's own population.scale, read from its file, for --scale's help.

    Read with tomllib alone (a few milliseconds), not validated: the help is built as the
    command line is imported, and a scenario's errors are the loader's to report.
    """
    folder = resources.files("chistka.scenario") / "builtin"
    scales = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            scales[entry.name.removesuffix(".toml")] = data["population"]["scale"]
    return scales


BUILTIN_SCALES = builtin_scales()
"""Each built-in scenario's own population.scale, as --scale's help gives it."""

ScaleOption = Annotated[
    float | None,
    typer.Option(
        help="agents per represented person, in (0, 1]; default: the scenario's own "
        "population.scale ("
        + ", ".join(f"{name} {scale:g}" for name, scale in BUILTIN_SCALES.items())
        + "; `chistka scenarios show NAME` gives any scenario's)"
    ),
]
"""--scale: override the scenario's population scale."""

FreeOption = Annotated[
    Path | None,
    typer.Option(
        "--free",
        help="TOML of \\[\\[free]] path/low/high/log entries, and \\[\\[start]] points "
        "calibrate tries first (a resumed study: those it has not tried yet) (default: "
        "SCENARIO.free.toml next "
        "to the scenario file, or the package's for a built-in scenario)",
    ),
]
"""--free: the file of free parameters and their ranges (calibrate: and its start points)."""

FreeRangesOption = Annotated[
    Path | None,
    typer.Option(
        "--free",
        help="TOML of \\[\\[free]] path/low/high/log entries: the parameters varied and their "
        "ranges (a \\[\\[start]] table, calibrate's, is not used here) (default: "
        "SCENARIO.free.toml next to the scenario file, or the package's for a built-in "
        "scenario)",
    ),
]
"""--free of `chistka sensitivity`: the free parameters' ranges, which it samples."""

WithoutOption = Annotated[
    list[str] | None,
    typer.Option(
        "--without",
        metavar="DECISION",
        help="leave out one of the scenario's decisions, for a what-if: operations.NAME, "
        "events.YYYY-MM-DD (the timeline's decisions of that day), campaigns.NAME or "
        "show_trials.NAME; repeat for more (chistka scenarios show NAME --list-decisions)",
    ),
]
"""--without: documented decisions a what-if leaves out (`chistka.scenario.whatif`)."""
