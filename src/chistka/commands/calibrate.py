"""`chistka calibrate`: fit a scenario's free parameters to target figures with Optuna.

To be registered in `chistka.cli` as ``chistka calibrate SCENARIO --targets FILE --trials N
[--storage URL] [--study-name NAME] [--seeds 1,2] [--out DIR] [--scale S] [--free FILE]
[--jobs N] [--loss msle|band|inside] [--verbose] [--force]``.
Prints the targets it leaves out (a count per reason and the first few; --verbose: every one),
the best loss and parameters, and writes OUT/calibration.html and OUT/fitted.toml (the scenario
with an event that sets the fitted parameters on its first day; where the scenario's own values
stayed the best, the scenario with a comment that records the study and no event). The study is
kept in OUT/study.db unless --storage names another (any database URL Optuna accepts, so that
several machines can work on one study); running the command again resumes it. Bad input is
reported as one message with exit status 2, before any trial: among them an OUT that every
command would refuse (`outputs.check_out`: another command's output, or files chistka did not
write, unless --force).

calibration.html and fitted.toml describe the study as a call leaves it, so a call that adds a
trial to the study removes an earlier call's pair when its first trial ends (`remove_outputs`):
a call that stops before its end (Ctrl-C, a failed run, a killed process) would otherwise leave
them beside a study.db that holds more trials, read as its result. Both are written again from
the study at the end of a call. Where the fitted scenario cannot be written (a scenario file
whose layout the fit cannot extend), the report and the printed table still come out, without
fitted.toml, and the command fails (status 2) naming what failed and where the study is kept.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from chistka.analysis.calibrate import OUTPUTS
from chistka.analysis.ensemble import check_jobs
from chistka.commands.options import (
    NARROW,
    Fitting,
    ForceOption,
    FreeOption,
    ScaleOption,
    ScenarioArgument,
    counting_bar,
    fail,
    interrupted,
    output_console,
)
from chistka.commands.preflight import (
    LeftOut,
    check_observable_form,
    check_scale,
    check_seed,
    left_out_counts,
    left_out_lines,
    left_out_reason,
)
from chistka.errors import ChistkaError
from chistka.outputs import CALIBRATE, CALIBRATE_MARKS, STUDY_FILE, check_out
from chistka.scenario import Scenario

console = output_console()


def parse_seeds(text: str) -> list[int]:
    """``'1,2,3'`` -> [1, 2, 3].

    Raises:
        ChistkaError: an empty list, a value that is not a non-negative integer, or a repeat.
    """
    items = [item.strip() for item in text.split(",")]
    try:
        seeds = [int(item) for item in items]
    except ValueError:
        raise ChistkaError(f"--seeds: expected integers such as 1,2 (got '{text}')") from None
    if any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise ChistkaError(f"--seeds: expected distinct non-negative integers (got '{text}')")
    for seed in seeds:
        check_seed(seed, "--seeds")
    return seeds


def remove_outputs(folder: Path, names: tuple[str, ...] = OUTPUTS) -> None:
    """Remove an earlier call's outputs from `folder`: they no longer describe the study.

    Only files that chistka calibrate wrote (with their mark) are removed; another's file of the
    same name was refused before any trial (`check_out`) and is left alone here.
    """
    from chistka.outputs import check_output_file

    for name in names:
        path = folder / name
        try:
            check_output_file(path, CALIBRATE_MARKS[name], "chistka calibrate")
        except ChistkaError:
            continue
        path.unlink(missing_ok=True)


def made_here(target: Path, storage: str | None) -> list[Path]:
    """What a call refused before its first trial would leave behind, deepest first.

    The default storage, OUT/study.db, and OUT itself are created when the study is opened, so
    a call refused then (e.g. `--trials 0` with no study stored) left a study.db that every
    command then took for a calibration's output (QA of session 46).
    """
    made = []
    if storage is None and not (target / STUDY_FILE).exists():
        made.append(target / STUDY_FILE)
    if not target.exists():
        made.append(target)
    return made


def remove_made(made: list[Path]) -> None:
    """Remove what `made_here` listed: the study's file, and the folder if nothing else is in it."""
    for path in made:
        if path.is_dir():
            with contextlib.suppress(OSError):
                path.rmdir()
        else:
            path.unlink(missing_ok=True)


def check_calibration(
    scenario: str, targets: Path, scale: float | None
) -> tuple[Scenario, list[LeftOut]]:
    """The scenario, once the scale and the targets are checked, and the targets it leaves out.

    Each target left out comes with why it lies outside the scenario (`left_out_reason`: outside
    its dates or not wholly inside them, a campaign, operation or body it lacks, or a kind it
    does not model). Targets outside
    it are allowed, as a file of targets may serve several scenarios, but at least one must lie
    inside it; the command counts those it leaves out by reason and names the first few
    (`left_out_lines`), `--verbose` names every one and calibration.html lists them all, so that
    a misspelt one is not dropped unseen.

    Raises:
        ChistkaError: a scale at which a stratum is empty, a malformed target, or no target the
            scenario's runs could give (counted by reason, the first named).
    """
    from chistka.analysis.validate import read_targets
    from chistka.scenario import load_scenario

    loaded = load_scenario(scenario)
    check_scale(loaded, scale)
    table = read_targets(targets)
    left = []
    for row in table.itertuples(index=False):
        where = f"{targets}, id '{row.id}'"
        check_observable_form(row.observable, where)
        reason = left_out_reason(row.observable, loaded, where)
        if reason is not None:
            left.append(replace(reason, id=str(row.id)))
    if len(left) == len(table):
        raise ChistkaError(
            f"none of the targets of {targets} can come from the runs of {loaded.scenario.name}: "
            f"{left_out_counts(left)}; first: {left[0].message}"
        )
    return loaded, left


def calibrate_command(
    scenario: ScenarioArgument,
    targets: Annotated[
        Path,
        typer.Option(
            "--targets", help="CSV of targets: id, observable, value, low, high (as for validate)"
        ),
    ],
    trials: Annotated[
        int,
        typer.Option(
            "--trials",
            help="trials to run in this call; 0 runs none and writes a stored study's "
            "calibration.html and fitted.toml again",
        ),
    ] = 50,
    storage: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="Optuna storage: sqlite:///file.db, postgresql://..., or a file path "
            "(default: OUT/study.db); a study of the same name is resumed",
        ),
    ] = None,
    seeds: Annotated[
        str, typer.Option(help="run seeds of every trial, comma-separated (common random numbers)")
    ] = "1,2",
    out: Annotated[
        Path | None, typer.Option(help="output directory (default: out/SCENARIO-calibrate)")
    ] = None,
    scale: ScaleOption = None,
    free: FreeOption = None,
    study_name: Annotated[
        str | None, typer.Option(help="the study's name in the storage (default: scenario name)")
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            help="local processes for the seeds of each trial (-1: one per core); the study is "
            "the same for any number",
        ),
    ] = 1,
    loss: Annotated[
        str,
        typer.Option(
            "--loss",
            metavar="LOSS",
            help="msle: mean squared log error; band: log distance outside each target's range "
            "(shrunk to 3/4), nothing inside; inside: share of (target, seed) pairs outside the "
            "whole range, plus the band loss",
        ),
    ] = "msle",
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="name every target left out with its reason (default: a count per reason and "
            "the first few; calibration.html lists them all)",
        ),
    ] = False,
    force: ForceOption = False,
) -> None:
    """Fit a scenario's free parameters to target figures (Optuna TPE; msle, band or inside)."""
    from chistka.analysis.calibrate import (
        LOSSES,
        calibrate,
        check_loss,
        first_trial_words,
        fit_table,
        importance_warning,
        inside_text,
    )
    from chistka.analysis.fitted_file import (
        best_words,
        unchanged_parameters,
        write_fitted_scenario,
    )
    from chistka.analysis.free import reset_on
    from chistka.report.calibration import range_text, write_calibration_report

    made: list[Path] = []  # what a call refused before its first trial removes
    try:
        seed_list = parse_seeds(seeds)
        check_loss(loss)
        check_jobs(jobs)
        loaded, left_out = check_calibration(scenario, targets, scale)
        if verbose:
            lines = [f"left out, {item.reason}: {item.message}" for item in left_out]
        else:
            lines = left_out_lines(left_out, rest="--verbose or calibration.html lists them")
        for line in lines:
            console.print(escape(line), soft_wrap=True, highlight=False)
        default = Path("out") / f"{loaded.scenario.name}-calibrate"
        target = out if out is not None else default
        check_out(target, CALIBRATE, force=force, instead=default)
        made = made_here(target, storage)
        url = storage if storage is not None else f"sqlite:///{(target / STUDY_FILE).resolve()}"
        with counting_bar("trials", console=console, field="best") as progress:
            task = progress.add_task(f"calibrate {scenario}", total=trials, best="")

            def advance(done: int, total: int, best: float | None) -> None:
                if done == 1:  # the study has moved on from what an earlier call wrote
                    remove_outputs(target)
                    made.clear()  # a finished trial is kept, whatever happens next
                shown = "" if best is None else f"best loss {best:.4g}"
                progress.update(task, completed=done, total=total, best=shown)

            result = calibrate(
                scenario,
                targets,
                trials,
                seeds=seed_list,
                storage=url,
                study_name=study_name,
                scale=scale,
                free_path=free,
                progress=advance,
                n_jobs=jobs,
                loss=loss,
            )
        result.left_out = [(item.id, item.observable, item.reason) for item in left_out]
        fitted: Path | None = None
        not_written = ""
        try:
            fitted = write_fitted_scenario(result, target / "fitted.toml")
        except (ChistkaError, OSError) as exc:
            not_written = str(exc)
            remove_outputs(target, ("fitted.toml",))
        report = write_calibration_report(
            result, target / "calibration.html", fitted_error=not_written
        )
    except ChistkaError as exc:
        remove_made(made)
        fail(str(exc))
        return
    except KeyboardInterrupt:
        interrupted(
            "finished trials are kept in the storage; run the same command to resume the study "
            "(calibration.html and fitted.toml are written when its trials are done), or with "
            "--trials 0 to write them now from the trials kept"
        )
    unchanged = unchanged_parameters(result)
    rows = []
    for p in result.free:
        reset = reset_on(result.scenario, p.path)
        notes = ["the scenario's own value"] if p.path in unchanged else []
        if reset is not None:
            notes.append(f"acts until {reset} (the timeline sets it then)")
        rows.append(
            (
                p.path,
                f"{result.best_params[p.path]:.6g}",
                range_text(p.low, p.high, p.log),
                "; ".join(notes),
            )
        )
    console.print(
        best_parameters_view(f"best parameters ({len(result.trials)} complete trials)", rows)
    )
    console.print(
        f"best loss {result.best_loss:.6g} ({LOSSES[result.loss]}; {first_trial_words(result)} "
        f"{result.first_loss:.6g}); {inside_text(fit_table(result))}",
        highlight=False,
    )
    stayed = best_words(result)
    if stayed:
        written = "; fitted.toml records the study and sets nothing" if fitted is not None else ""
        console.print(f"{stayed}{written}", highlight=False)
    warning = importance_warning(result)
    if warning is not None:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    if result.runs_end is not None:
        console.print(
            f"each run stopped on {result.runs_end}, the last day the targets read "
            f"(the scenario ends on {result.scenario.scenario.end})",
            highlight=False,
        )
    console.print(f"study: {escape(url)} ({escape(result.study.study_name)})", highlight=False)
    if fitted is None:
        console.print(f"wrote {escape(str(report))}", highlight=False)
        fail(
            f"the fitted scenario {target / 'fitted.toml'} was not written: {not_written}. The "
            f"study is kept in {url} (study '{result.study.study_name}'): its best values are "
            "in the table above and in calibration.html"
        )
    console.print(f"wrote {escape(str(fitted))}, {escape(str(report))}", highlight=False)


NOTE_WIDTH = 30
"""The narrowest the wide table's note column may be (or its longest note, if shorter); below
it the notes were folded a few words a line, and the table is drawn stacked instead."""


def best_parameters_view(title: str, rows: list[tuple[str, str, str, str]]) -> Fitting:
    """The table of best parameters as printed: wide where it fits, else stacked (80 columns).

    `rows` are (path, best, range searched, note), as plain text. Wide, the path, the value and
    the range are each kept on one line and the note wraps in at least `NOTE_WIDTH` columns.
    Where that does not fit, each parameter takes two lines or more: its path over its note
    (wrapped at words in the width the path leaves), its best value over its range searched at
    the right, so that no path is split mid-word and the notes stay readable.
    """
    cells = [tuple(escape(cell) for cell in row) for row in rows]

    def widest(index: int) -> int:
        return max((len(row[index]) for row in cells), default=0)

    wide = Table(title=escape(title))
    wide.add_column("parameter", no_wrap=True, min_width=widest(0))
    wide.add_column("best", justify="right", no_wrap=True)
    wide.add_column("range searched", no_wrap=True)
    wide.add_column("note", min_width=min(widest(3), NOTE_WIDTH))
    for row in cells:
        wide.add_row(*row)

    def narrow() -> Table:
        view = Table(title=escape(title), show_lines=True, **NARROW)
        view.add_column("parameter\nnote", min_width=widest(0), overflow="fold")
        view.add_column("best\nrange searched", justify="right", no_wrap=True)
        for path, best, searched, note in cells:
            view.add_row(path + (f"\n[dim]{note}[/]" if note else ""), f"{best}\n{searched}")
        return view

    return Fitting(wide, narrow)
