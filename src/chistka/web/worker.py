"""One browser-submitted run, in a process of its own: `python -m chistka.web.worker STATE_FILE`.

Runs the scenario the state file names, with its what-if (as `chistka run --without` and
`--set` do), or the experiment it names (as `chistka experiment run` does, with `--vary`'s
values when it has them), writes its progress into the state file while the day loop goes, and
at the end the output folder beside it (`save_run`, with the report) and the state `done`, or
`failed` with the reason (a bad scenario, change or scale, or an error of the program, whose
traceback goes to the run's log). Nothing of a failed run's outputs is left: `save_run` moves
the whole folder into place only when it is complete.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chistka.errors import ChistkaError
from chistka.web.jobs import (
    is_set_of_runs,
    no_run_under_way,
    now,
    read_state,
    write_json_atomically,
)

if TYPE_CHECKING:
    from chistka.scenario import Scenario

PROGRESS_SECONDS = 1.0
"""The state file's progress is written at most once a second."""


def throttled(record: Callable[..., None]) -> Callable[..., None]:
    """`record` for the day loop's progress, called as write(final, **changes).

    It records at most once every `PROGRESS_SECONDS`, but always when `final` (a run's last
    day, so that the page shows it): the loop reports every 30 days, many times a second at a
    small scale, and each record rewrites the state file.
    """
    last = 0.0

    def write(final: bool, **changes: object) -> None:
        nonlocal last
        if final or time.monotonic() - last >= PROGRESS_SECONDS:
            last = time.monotonic()
            record(**changes)

    return write


def day_date(scenario: Scenario, days_done: int, days_total: int) -> str:
    """The simulated date of day `days_done` of a run of `days_total` days, as ISO text.

    The day loop's last day is the scenario's end (its first is the start less the spin-up,
    which no `--set` changes, nor the dates: every arm and value of an experiment has them).
    The progress gave "day 781 of 2,343" and no date. The job's ``spin_up_days`` (the
    scenario's, recorded as the job starts) tell the page which of the days are the spin-up's:
    their dates precede the scenario's start.
    """
    from chistka.engine import day_date as date_of_day

    return date_of_day(scenario.scenario.end, days_done, days_total).isoformat()


def run_job(state_file: Path) -> int:
    """Run the job of `state_file`; its exit status (0 done, 1 failed)."""
    from chistka.analysis.comparison import save_run
    from chistka.cli import record_what_if
    from chistka.commands.preflight import check_scale
    from chistka.commands.sweep import apply_set_options
    from chistka.engine import Sim
    from chistka.report import write_report
    from chistka.scenario import load_scenario
    from chistka.scenario.whatif import without

    state = read_state(state_file)

    def record(**changes: object) -> None:
        state.update(changes)
        write_json_atomically(state_file, state)

    days = throttled(record)
    ended = no_run_under_way(state)
    try:
        if state.get("experiment"):
            run_experiment_job(state, state_file, record)
            record(status="done", finished=now(), **ended)
            return 0
        scenario = without(load_scenario(state["scenario"]), state.get("without") or [])
        loaded = apply_set_options(scenario, state.get("set") or None)
        check_scale(loaded, state["scale"])
        if is_set_of_runs(state):
            run_seeds(loaded, state, state_file, record)
        else:
            sim = Sim(loaded, seed=state["seed"], scale=state["scale"], name=state["scenario"])
            record(seed_used=sim.seed, spin_up_days=loaded.scenario.spin_up_days)
            results = sim.run(
                progress=lambda done, total: days(
                    done == total,
                    days_done=done,
                    days_total=total,
                    day_date=day_date(loaded, done, total),
                )
            )
            record_what_if(results, state.get("set"), state.get("without"))
            save_run(
                results,
                state_file.with_name(state["id"]),
                extra=lambda directory: write_report(results, directory / "report.html"),
            )
    except ChistkaError as exc:
        record(status="failed", error=str(exc), finished=now(), **ended)
        return 1
    except Exception as exc:  # any error of the program ends the run as failed, logged
        traceback.print_exc()
        record(
            status="failed",
            error=f"internal error: {type(exc).__name__}: {exc} (traceback in {state['id']}.log)",
            finished=now(),
            **ended,
        )
        return 1
    record(status="done", finished=now(), **ended)
    return 0


@contextlib.contextmanager
def staged(state_file: Path, run_id: str, kind: str) -> Iterator[Path]:
    """A folder beside the run's output folder to build it in, moved into place at the end.

    A failed build leaves nothing: the hidden folder is removed whatever happens.
    """
    building = state_file.with_name(f".{run_id}.{kind}.tmp")
    shutil.rmtree(building, ignore_errors=True)
    try:
        yield building
        os.replace(building, state_file.with_name(run_id))
    finally:
        shutil.rmtree(building, ignore_errors=True)


def run_seeds(
    loaded: Scenario,
    state: dict[str, Any],
    state_file: Path,
    record: Callable[..., None],
) -> None:
    """Run the scenario at `seeds` seeds counted up from the first, as `chistka sweep` does.

    The ensemble, with its report, is built beside the output folder (`staged`). Its progress
    is the runs done and the day of the run under way, cleared as each run ends
    (`no_run_under_way`), so that its last day is not shown as the next one's.
    """
    from chistka.analysis.ensemble import plan, run_ensemble
    from chistka.report.ensemble import write_ensemble_report

    first = loaded.scenario.seed if state["seed"] is None else state["seed"]
    seeds = list(range(first, first + state["seeds"]))
    record(seed_used=first, spin_up_days=loaded.scenario.spin_up_days)
    specs = plan(loaded, seeds, scale=state["scale"], name=state["scenario"])
    seed_of = {spec.run_id: spec.seed for spec in specs}
    days = throttled(record)
    with staged(state_file, state["id"], "seeds") as building:
        run_ensemble(
            specs,
            building,
            n_jobs=1,
            progress=lambda done, total, _: record(
                runs_done=done, runs_total=total, **no_run_under_way(state)
            ),
            day_progress=lambda run_id, done, total: days(
                done == total,
                run_seed=seed_of[run_id],
                run_days_done=done,
                run_days_total=total,
                run_day_date=day_date(loaded, done, total),
            ),
        )
        write_ensemble_report(building, directory=state_file.with_name(state["id"]))


def arm_seeds(state: dict[str, Any]) -> int | list[int]:
    """The seeds an experiment's arms run at: a count (from the scenario's seed) or a span.

    A span A-B of the form (`chistka.web.forms.experiment_seeds_field`) is kept in the state as
    its first seed and its length.
    """
    if state["seed"] is None:
        return state["seeds"]
    return list(range(state["seed"], state["seed"] + state["seeds"]))


def run_experiment_job(
    state: dict[str, Any], state_file: Path, record: Callable[..., None]
) -> None:
    """Run the experiment of the state file, one run after another, as `chistka experiment run`.

    Every arm (and value) runs at the same `seeds` seeds counted up from the state's seed, or
    from the design's scenario's where it gives none (`arm_seeds`); the first is recorded as
    ``seed_used`` before the runs, as an ensemble's is (the state said no seed, so the page read
    "2 seeds per arm" and not which). With a `vary` line, the whole design once per value, as
    `experiment run --vary` does. The
    experiment's folder, with its report, is built beside the output folder (`staged`). Its
    progress is the runs done, the arm, for a value the value (as `vary_axis` writes it: the
    progress named the value's folder, 'v01/no-halt', which its page did not explain) and the
    day of the run under way, all cleared as each run ends (`no_run_under_way`: the arm named
    the next run's before it started).
    """
    from chistka.analysis.experiment import BASELINE, load_experiment, run_experiment, seed_list
    from chistka.commands.sweep import parse_set_options, single_values
    from chistka.report.experiment import write_experiment_report

    changes = single_values(state.get("set") or None)
    days = throttled(record)

    def runs(_arm: str, done: int, total: int) -> None:
        record(runs_done=done, runs_total=total, **no_run_under_way(state))

    def dated_days(baseline: Scenario) -> Callable[..., None]:
        """The record of the run under way's day, dated as `baseline` (every run's dates).

        Its spin-up (every run's too) is recorded once, as the job's.
        """
        record(spin_up_days=baseline.scenario.spin_up_days)

        def day(arm: str, seed: int, done: int, total: int, **value: str) -> None:
            days(
                done == total,
                arm=arm,
                **value,
                run_seed=seed,
                run_days_done=done,
                run_days_total=total,
                run_day_date=day_date(baseline, done, total),
            )

        return day

    if state.get("vary"):
        from chistka.analysis.variants import load_variants, run_variants, variant_folder, vary_axis
        from chistka.report.experiment import write_variants_report

        [(parameter, values)] = parse_set_options([state["vary"]]).items()
        experiments = load_variants(state["design"], parameter, values, changes)
        record(seed_used=seed_list(experiments[0], arm_seeds(state))[0])
        day = dated_days(experiments[0].scenarios[BASELINE])
        axis = vary_axis(experiments, parameter)
        value_of = {
            variant_folder(index): value for index, value in enumerate(axis["vary"][parameter])
        }
        with staged(state_file, state["id"], "variants") as building:
            run_variants(
                experiments,
                axis,
                building,
                seeds=arm_seeds(state),
                scale=state["scale"],
                n_jobs=1,
                progress=lambda _folder, arm, done, total: runs(arm, done, total),
                day_progress=lambda folder, arm, seed, done, total: day(
                    arm, seed, done, total, value=value_of[folder]
                ),
            )
            for index in range(len(experiments)):
                write_experiment_report(building / variant_folder(index))
            write_variants_report(building)
        return
    experiment = load_experiment(state["design"], changes)
    record(seed_used=seed_list(experiment, arm_seeds(state))[0])
    with staged(state_file, state["id"], "experiment") as building:
        run_experiment(
            experiment,
            building,
            seeds=arm_seeds(state),
            scale=state["scale"],
            n_jobs=1,
            progress=runs,
            day_progress=dated_days(experiment.scenarios[BASELINE]),
        )
        write_experiment_report(building)


def stop_on_terminate() -> None:
    """Turn SIGTERM (the server shutting down) into SystemExit, so that clean-ups run.

    Then `staged` and `outputs.atomic_directory` remove what they had half built.
    """
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


if __name__ == "__main__":
    stop_on_terminate()
    sys.exit(run_job(Path(sys.argv[1])))
