"""Fit a built-in scenario's free parameters with `chistka calibrate` and write them in place.

The fit uses only the scenario's calibration rows (`export_targets('calibration', NAME)`: the
record's rows with the roles the scenario gives them), all the free parameters of
``src/chistka/scenario/free/NAME.toml`` together, and the same seeds in every trial (common
random numbers). The best values are written into ``src/chistka/scenario/builtin/NAME.toml``
on the lines that hold them (their comment says "fitted" and names the study), and the study's
settings, loss and values into the ``[calibration]`` table of the free file, so that the
built-in scenario is the output of this script and the script reproduces it. Only that table is
replaced: the free file's header comment, which tells how the current fit was made, is updated
by hand, and the study's history goes to docs/fit_history.md.

Usage:
    python scripts/fit_scenario.py NAME [--trials 100] [--seeds 1,2,3,4] [--jobs 2]
        [--storage sqlite:///out/fit-NAME/study.db] [--scale S] [--loss msle|band|inside]
        [--free FILE] [--dry-run]

A study of the same name in the storage is resumed (`--trials` more trials are added);
`--trials 0` adds none and writes the study's best trial back (for a fit spread over several
sessions; the study must have been made from the scenario as it stands, since the values are
written into it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

from chistka.analysis.fitted_file import is_own_value, set_line, value_text
from chistka.analysis.free import recorded_loss
from chistka.errors import ChistkaError
from chistka.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "src" / "chistka" / "scenario"


def _value_text(value: float | int) -> str:
    return value_text(value)


def set_value(text: str, path: str, value: float | int, comment: str) -> str:
    """The scenario TOML with the value of `path` replaced, and its comment (`set_line`).

    Exits when the line is not in the file: a built-in scenario gives every free value a line.
    """
    try:
        return set_line(text, path, value, comment)
    except ChistkaError as exc:
        sys.exit(f"fit_scenario: {exc}")


def with_fitted_values(
    text: str, scenario: Scenario, best: dict[str, float | int], comment: str
) -> tuple[str, list[str]]:
    """The scenario file with the study's best values stamped as fitted, and the paths kept.

    A value the study left as the scenario's own keeps its line and stamp: re-stamping it would
    record a fit that moved nothing (QA 41 L4, as `chistka calibrate`'s fitted.toml does).
    """
    kept = [path for path, value in best.items() if is_own_value(scenario, path, value)]
    for path, value in best.items():
        if path not in kept:
            text = set_value(text, path, value, comment)
    return text, kept


def calibration_table(
    best: dict[str, float | int],
    *,
    when: dt.date,
    study: str,
    storage: str,
    trials: int,
    seeds: list[int],
    scale: float | None,
    loss: float,
    loss_kind: str,
    free_file: str | None = None,
) -> str:
    """The ``[calibration]`` table of the free file: the study, its loss and the values.

    `free_file` is the free file the study used when it was not the scenario's own.
    """
    values = ", ".join(f'"{path}" = {_value_text(v)}' for path, v in best.items())
    return (
        "[calibration]\n"
        f"date = {when.isoformat()}\n"
        f'study = "{study}"\n'
        f'storage = "{storage}"\n'
        f"trials = {trials}\n"
        f"seeds = [{', '.join(str(s) for s in seeds)}]\n"
        f"scale = {scale if scale is not None else 'nan'}\n"
        f'loss_kind = "{loss_kind}"\n'
        + (f'free_file = "{free_file}"\n' if free_file else "")
        + f"loss = {loss:.6g}\n"
        f"values = {{ {values} }}\n"
    )


def study_scale(recorded: str | None, name: str) -> float:
    """The scale a study's runs used: its recorded `--scale`, else the built-in scenario's own
    (a study written back was made from the scenario as it stands)."""
    try:
        return float(recorded or "")
    except ValueError:
        return float(load_scenario(name).population.scale)


def best_of_study(name: str, storage: str) -> tuple[dict[str, float | int], float, int, list[int]]:
    """The best complete trial of a stored study: values, loss, trials, seeds."""
    import optuna

    study = optuna.load_study(study_name=name, storage=storage)
    complete = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        sys.exit(f"fit_scenario: study '{name}' in {storage} has no complete trial")
    best = min(complete, key=lambda t: t.value)
    seeds = [int(s) for s in str(study.user_attrs.get("seeds", "")).split(",") if s.strip()]
    return dict(best.params), float(best.value), len(complete), seeds


def study_attribute(name: str, storage: str, key: str) -> str | None:
    """One of the settings `chistka calibrate` recorded on a stored study (None if absent)."""
    import optuna

    value = optuna.load_study(study_name=name, storage=storage).user_attrs.get(key)
    return None if value is None else str(value)


def recorded_storage(storage: str) -> str:
    """A study's storage as the [calibration] table records it.

    A SQLite file inside the repository by its path from the root; one outside it by its file name
    and the words "outside the repository", since a full path names a folder of the machine that
    ran the study (`sqlite:////work/cal/p53j.db`), which a clone does not have. Other storages
    (a database server's URL) as given.
    """
    prefix = "sqlite:///"
    if not storage.startswith(prefix):
        return storage
    path = Path(storage.removeprefix(prefix))
    resolved = (path if path.is_absolute() else Path.cwd() / path).resolve()
    if resolved.is_relative_to(ROOT):
        return prefix + str(resolved.relative_to(ROOT))
    return f"{prefix}{resolved.name} (outside the repository)"


def _relative(path: str | None) -> str | None:
    """A free file's path as the [calibration] table records it (from the repository's root)."""
    if path is None:
        return None
    resolved = Path(path).resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(resolved)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="built-in scenario name")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seeds", default="1,2,3,4")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--storage", default=None)
    parser.add_argument("--scale", type=float, default=None)
    parser.add_argument(
        "--loss",
        choices=("msle", "band", "inside"),
        default=None,
        help="the loss (default: the free file's [calibration] loss_kind, else msle)",
    )
    parser.add_argument(
        "--free",
        default=None,
        help="a free file to fit with instead of the scenario's own (e.g. narrower bounds and "
        "start points: scripts/free/); recorded in the [calibration] table",
    )
    parser.add_argument("--dry-run", action="store_true", help="fit, but write nothing back")
    args = parser.parse_args(argv)

    from chistka.analysis.calibrate import calibrate
    from chistka.analysis.validate import export_targets

    out = ROOT / "out" / f"fit-{args.name}"
    out.mkdir(parents=True, exist_ok=True)
    targets = out / "targets.csv"
    export_targets("calibration", args.name).to_csv(targets, index=False, float_format="%.10g")
    storage = args.storage or f"sqlite:///{out / 'study.db'}"
    loss_kind = args.loss or recorded_loss(SCENARIOS / "free" / f"{args.name}.toml")

    def progress(done: int, total: int, best: float | None) -> None:
        print(f"trial {done}/{total}: best loss {best}", flush=True)

    if args.trials > 0:
        calibrate(
            args.name,
            targets,
            args.trials,
            seeds=[int(s) for s in args.seeds.split(",")],
            storage=storage,
            scale=args.scale,
            progress=progress,
            n_jobs=args.jobs,
            loss=loss_kind,
            free_path=args.free,
        )
    best, loss, trials, seeds = best_of_study(args.name, storage)
    scale = study_scale(study_attribute(args.name, storage, "scale"), args.name)
    print(f"best loss {loss:.4g} after {trials} trials")
    for path, value in best.items():
        print(f"  {path} = {_value_text(value)}")
    if args.dry_run:
        return
    when = dt.date.today()
    comment = f"fitted (chistka calibrate, scripts/fit_scenario.py, {when.isoformat()})"
    scenario_file = SCENARIOS / "builtin" / f"{args.name}.toml"
    text = scenario_file.read_text(encoding="utf-8")
    text, kept = with_fitted_values(text, load_scenario(args.name), best, comment)
    for path in kept:
        print(f"  {path}: the scenario's own value stayed the best; its line is kept")
    scenario_file.write_text(text, encoding="utf-8")
    free_file = SCENARIOS / "free" / f"{args.name}.toml"
    free = free_file.read_text(encoding="utf-8")
    free = re.sub(r"\n\[calibration\]\n(?:[^\[\n][^\n]*\n|\n)*", "\n", free).rstrip("\n")
    free += "\n\n" + calibration_table(
        best,
        when=when,
        study=args.name,
        storage=recorded_storage(storage),
        trials=trials,
        seeds=seeds or [int(s) for s in args.seeds.split(",")],
        scale=scale,
        loss=loss,
        loss_kind=loss_kind,
        free_file=_relative(args.free),
    )
    free_file.write_text(free, encoding="utf-8")
    print(f"wrote {scenario_file} and {free_file}")


if __name__ == "__main__":
    main()
