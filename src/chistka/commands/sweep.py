"""`chistka sweep`: an ensemble of runs over seeds and parameter values, locally or on Dask.

Registered in `chistka.cli` as ``chistka sweep SCENARIO --seeds N [--set param=v1,v2 ...]
[--out DIR] [--force] [--dask ADDRESS] [--resume] [--jobs N]``. Bad input is reported as one message
naming the field, with exit status 2 and no traceback.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from chistka.analysis.ensemble import MAX_RUNS, check_jobs
from chistka.commands.options import (
    SEEDS_METAVAR,
    ForceOption,
    JobsOption,
    ScaleOption,
    ScenarioArgument,
    counting_bar,
    fail,
    interrupted,
    output_console,
    parse_seeds,
    quiet_worker_restarts,
)
from chistka.commands.preflight import check_scale
from chistka.errors import ChistkaError

if TYPE_CHECKING:
    from chistka.analysis.ensemble import Placement
    from chistka.scenario import Scenario

console = output_console()

_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}


def parse_value(text: str) -> int | float | bool | str | list[Any]:
    """A --set value: a number, a bool, a bracketed list of those, or else a string.

    Bools are true/false, yes/no, on/off; a list is written ``[8,10]`` (a range of camp terms).
    """
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip()
        return [parse_value(item) for item in inner.split(",")] if inner else []
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


def split_values(values: str) -> list[str]:
    """The comma-separated values of one --set, a bracketed list counting as one value."""
    items, depth, current = [], 0, []
    for char in values:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        if char == "," and depth == 0:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    items.append("".join(current).strip())
    return items


def parse_set_options(
    options: list[str] | None, twice: str = "list all its values in one --set"
) -> dict[str, list[Any]]:
    """``['review.noise_sd=0.5,1', 'promotion.enabled=true']`` -> parameter -> values.

    A bracketed list is one value: ``sentencing.family_camp_years=[5,8],[8,10]`` gives two.
    `twice` is what to do about a parameter given twice: a command of one value per parameter
    says so (`single_values`) where a sweep asks for its values in one --set.

    Raises:
        ChistkaError: an option without '=', a parameter without values, an empty value, an
            unbalanced bracket, or a parameter given twice.
    """
    sets: dict[str, list[Any]] = {}
    for option in options or []:
        path, sep, values = option.partition("=")
        path = path.strip()
        if not sep or not path:
            raise ChistkaError(
                f"--set '{option}': expected PARAMETER=VALUE[,VALUE...], e.g. "
                "--set review.noise_sd=0.5,1.0"
            )
        if path in sets:
            raise ChistkaError(f"--set {path}: given twice ({twice})")
        if values.count("[") != values.count("]"):
            raise ChistkaError(f"--set {path}: unbalanced brackets in '{option}'")
        items = split_values(values)
        if not values.strip() or any(not item for item in items):
            raise ChistkaError(f"--set {path}: empty value in '{option}'")
        sets[path] = [parse_value(item) for item in items]
    return sets


def sweep_command(
    scenario: ScenarioArgument,
    seeds: Annotated[
        str,
        typer.Option(
            "--seeds",
            metavar=SEEDS_METAVAR,
            help="runs per parameter set: N seeds counted up from the scenario's seed, or the "
            "seeds A to B, e.g. 9-16",
        ),
    ] = "10",
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="PARAM=V1,V2",
            help="parameter values to sweep, e.g. review.noise_sd=0.5,1.0 or "
            "operations.NAME.field=...; repeat for more parameters (all combinations are run)",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="output directory (default: out/SCENARIO-sweep)")
    ] = None,
    dask: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            help="run on a Dask cluster, e.g. tcp://host:8786 (its workers must see --out)",
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="finish a stopped sweep: keep complete runs, redo the rest"),
    ] = False,
    n_jobs: JobsOption = -1,
    scale: ScaleOption = None,
    report: Annotated[bool, typer.Option(help="write ensemble.html")] = True,
    force: ForceOption = False,
) -> None:
    """Run a scenario over seeds and parameter values in parallel, and plot the ensemble."""
    from chistka.analysis.ensemble import plan, run_ensemble
    from chistka.engine import day_words

    quiet_worker_restarts()
    try:
        check_jobs(n_jobs)
        chosen = parse_seeds(seeds, most=MAX_RUNS, each="parameter set", limit="runs in one sweep")
        specs = plan(scenario, chosen, parse_set_options(set_), scale=scale)
        for spec in {spec.set_id: spec for spec in specs}.values():
            check_scale(spec.resolved_scenario(), spec.scale)
        name = specs[0].scenario.scenario.name
        target = out if out is not None else Path("out") / f"{name}-sweep"
        sets = len({spec.set_id for spec in specs})
        seed_values = list(dict.fromkeys(spec.seed for spec in specs))
        where = f"Dask at {dask}" if dask else _local(n_jobs)
        seeds_text = (
            f"1 seed, {seed_values[0]}"
            if len(seed_values) == 1
            else f"{len(seed_values)} seeds, {seed_values[0]}-{seed_values[-1]}"
        )
        console.print(
            f"{name}: {len(specs)} run{'s' * (len(specs) != 1)} ({sets} parameter "
            f"set{'s' * (sets != 1)} x {seeds_text}) on {where} -> {target}/",
            highlight=False,
        )
        with counting_bar("runs", console=console, remaining=True, field="last") as progress:
            task = progress.add_task(f"sweep {name}", total=len(specs), last="")

            def advance(done: int, total: int, run_id: str | None) -> None:
                last = f"skipped {done} complete" if run_id is None and done else run_id or ""
                progress.update(task, completed=done, total=total, last=last)

            dates = specs[0].scenario.scenario  # no --set changes the dates or the spin-up

            def day(run_id: str, days_done: int, days_total: int) -> None:
                at = day_words(dates.end, days_done, days_total, dates.spin_up_days, run_id)
                progress.update(task, last=at)

            placements: list[Placement] = []
            run_ensemble(
                specs,
                target,
                n_jobs=n_jobs,
                dask_address=dask,
                resume=resume,
                force=force,
                progress=advance,
                placed=placements.append,
                day_progress=day if n_jobs == 1 and dask is None else None,
            )
        if placements:
            console.print(
                where_they_ran(placements, dask=dask is not None), highlight=False, soft_wrap=True
            )
        written = ["plan.json"]
        if report:
            from chistka.report.ensemble import write_ensemble_report

            with console.status("writing ensemble.html"):
                write_ensemble_report(target)
            written.append("ensemble.html")
        folders = f"{len(specs)} run director{'ies' if len(specs) != 1 else 'y'}"
        console.print(f"wrote {target}/: {folders}, {', '.join(written)}")
    except ChistkaError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        interrupted(
            "complete runs are kept; run the same command with --resume to finish the sweep"
        )


def where_they_ran(placements: list[Placement], *, dask: bool = False) -> str:
    """One line saying where the runs were done, and how many runs each place did.

    On which machine or Dask workers, in how many processes (and threads, where a process ran
    several at once).

    Locally every run is placed on this machine's host name, so "1 worker" beside "2 processes"
    read as a contradiction (QA 44): the line names the machine and counts its processes.
    """
    by_worker: dict[str, list[Placement]] = {}
    for placement in placements:
        by_worker.setdefault(placement.worker, []).append(placement)
    parts = []
    for worker, runs in sorted(by_worker.items()):
        processes = len({p.pid for p in runs})
        threads = len({(p.pid, p.thread) for p in runs})
        done = (
            f"{len(runs)} run{'s' * (len(runs) != 1)} in {processes} "
            f"process{'es' * (processes != 1)}"
        )
        if dask or threads != processes:
            done += f", {threads} thread{'s' * (threads != 1)}"
        parts.append(f"{worker}: {done}" if dask else done)
    if dask:
        count = len(by_worker)
        return f"ran on {count} Dask worker{'s' * (count != 1)}: " + "; ".join(parts)
    hosts = ", ".join(sorted(by_worker))
    return f"ran on this machine ({hosts}): " + "; ".join(parts)


def _local(n_jobs: int) -> str:
    if n_jobs == 1:
        return "this process"
    if n_jobs < 0:
        return "all local cores" if n_jobs == -1 else f"all local cores but {-n_jobs - 1}"
    return f"{n_jobs} local processes"


def single_values(
    options: list[str] | None,
    command: str = "run",
    several: str = "use chistka sweep to run several",
) -> dict[str, Any]:
    """`--set PARAM=VALUE` options of a command that takes one value per parameter.

    Raises:
        ChistkaError: a malformed option or several values for one parameter.
    """
    overrides = {}
    twice = f"{command} takes one value per parameter: give it once"
    for path, values in parse_set_options(options, twice).items():
        if len(values) > 1:
            raise ChistkaError(
                f"--set {path}: {command} takes one value (got {len(values)}); {several}"
            )
        overrides[path] = values[0]
    return overrides


def set_notes(scenario: Scenario, paths: list[str]) -> list[str]:
    """For each path set for the run that a later event of the timeline sets again, a note.

    A value given with --set holds from the first day until the timeline's next change of it
    (docs/ensembles.md); the command says so, as calibrate's table does for a free parameter
    (QA 45: `run --set interrogation.torture=0.5` ran it until 5 Mar 1937 unsaid).
    """
    from chistka.analysis.free import reset_on

    notes = []
    for path in paths:
        date = reset_on(scenario, path)
        if date is not None:
            notes.append(f"note: --set {path} holds until {date} (the timeline sets it then)")
    return notes


def apply_set_options(loaded: Scenario, options: list[str] | None) -> Scenario:
    """The scenario with `run --set PARAM=VALUE` changes applied (one value per parameter).

    Raises:
        ChistkaError: a malformed option, several values for one parameter, an unknown parameter
            or a value it does not allow (the message names it).
    """
    from chistka.analysis.ensemble import format_value
    from chistka.scenario import apply_overrides

    overrides = single_values(options)
    if not overrides:
        return loaded
    where = "--set " + " ".join(f"{p}={format_value(v)}" for p, v in overrides.items())
    return apply_overrides(loaded, overrides, where=where)
