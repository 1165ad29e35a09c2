"""An experiment at several fits: how its answer moves across values that fit about as well.

An experiment's intervals are the seeds' only (`chistka.analysis.experiment`). Its answer also
rests on the fitted values, and the calibration rows do not pin them down one by one: a
calibration study (`chistka calibrate`) finds many sets of values whose loss is close to the
best. `chistka experiment run --fits STUDY` runs the whole design at the best distinct trials of
such a study, each trial's values in place of the scenario's fitted ones (in the baseline and in
every arm, an arm's own `set` winning), and puts the answers side by side as a set of variants
(`chistka.analysis.variants`), with each trial's loss and how many calibration rows its baseline
keeps inside at the experiment's seeds.

The spread of an arm's effect over the fits is the part of the answer's uncertainty that comes
from what the calibration cannot tell apart. It is not a posterior: the trials are the sampler's,
dense near the best, so the report gives their range, not an interval. A study is used only if
it was made from the experiment's own scenario (its `scenario_digest`: the scenario without the
values it fits).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chistka.analysis.experiment import BASELINE, Experiment, load_experiment
from chistka.analysis.variants import MAX_VALUES
from chistka.errors import ChistkaError

DEFAULT_COUNT = 5
"""How many of a study's best trials `--fits` runs when not told."""


def storage_of(study: str | Path) -> str:
    """The Optuna storage URL of `--fits`: a SQLite file (it must exist) or another URL.

    A SQLite file that is not there is refused rather than created empty.

    Raises:
        ChistkaError: a path (or sqlite:/// URL) that is not a file, or a file that holds no
            study (`check_study_file`).
    """
    text = str(study)
    if "://" in text and not text.startswith("sqlite:///"):
        return text
    path = Path(text.removeprefix("sqlite:///")).expanduser()
    if not path.is_file():
        raise ChistkaError(
            f"--fits {text}: no such file; give the study.db `chistka calibrate` wrote (in its "
            "--out folder, or its --storage), or a storage URL such as sqlite:///study.db"
        )
    check_study_file(path, text)
    return f"sqlite:///{path.resolve()}"


def check_study_file(path: Path, shown: str) -> None:
    """Refuse a file that holds no Optuna study, reading it only.

    Optuna, given an empty or foreign SQLite file, would write its tables into it.

    Raises:
        ChistkaError: not a SQLite database, or one without Optuna's studies.
    """
    import sqlite3

    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as connection:
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
    except sqlite3.DatabaseError:
        tables = None
    if not tables or "studies" not in tables:
        raise ChistkaError(
            f"--fits {shown}: holds no calibration study (not a study storage that `chistka "
            "calibrate` wrote); give its study.db"
        )


def open_study(study: str | Path, study_name: str | None, scenario_name: str) -> Any:
    """The calibration study of `--fits` (read only).

    Without `study_name`, the storage's only study, or the one named after the scenario.

    Raises:
        ChistkaError: a storage that cannot be read, no study of that name, or several
            studies and none named after the scenario (the message lists them).
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = storage_of(study)
    try:
        names = optuna.get_all_study_names(storage=url)
    except Exception as exc:  # sqlalchemy and optuna raise many kinds
        raise ChistkaError(f"--fits {study}: cannot read the storage: {exc}") from None
    if not names:
        raise ChistkaError(f"--fits {study}: holds no study; give the study.db of a calibration")
    if study_name is None:
        if len(names) == 1:
            study_name = names[0]
        elif scenario_name in names:
            study_name = scenario_name
        else:
            listed = ", ".join(names) or "none"
            raise ChistkaError(
                f"--fits {study}: holds several studies and none named '{scenario_name}'; name "
                f"one with --fits-study (studies: {listed})"
            )
    if study_name not in names:
        raise ChistkaError(
            f"--fits-study {study_name}: no such study in {study} (studies: "
            f"{', '.join(names) or 'none'})"
        )
    return optuna.load_study(study_name=study_name, storage=url)


def best_trials(study: Any, count: int) -> list[Any]:
    """The study's `count` best complete trials with distinct values, best first.

    Raises:
        ChistkaError: `count` outside 2..`MAX_VALUES`, or fewer distinct complete trials.
    """
    import optuna

    if isinstance(count, bool) or not 2 <= count <= MAX_VALUES:
        raise ChistkaError(f"--fits-count: must be in 2..{MAX_VALUES} (got {count})")
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    chosen: list[Any] = []
    seen: set[tuple] = set()
    for trial in sorted(complete, key=lambda t: (t.value, t.number)):
        key = tuple(sorted(trial.params.items()))
        if key not in seen:
            seen.add(key)
            chosen.append(trial)
        if len(chosen) == count:
            return chosen
    raise ChistkaError(
        f"--fits: study '{study.study_name}' has {len(chosen)} complete trials with distinct "
        f"values, fewer than --fits-count {count}; run more trials with `chistka calibrate`, or "
        "ask for fewer"
    )


def check_study_scenario(study: Any, experiment: Experiment) -> list[str]:
    """The study's free parameters, once its scenario is checked to be the experiment's.

    Raises:
        ChistkaError: a study that does not record its scenario, or one made from another
            scenario (or another version of it) than the experiment's.
    """
    from chistka.analysis.calibrate import scenario_digest

    free = [p.strip() for p in str(study.user_attrs.get("free", "")).split(",") if p.strip()]
    recorded = study.user_attrs.get("scenario_digest")
    if recorded is None or not free:
        raise ChistkaError(
            f"--fits: study '{study.study_name}' does not record the scenario it fits (made by an "
            "earlier chistka); fit again with `chistka calibrate` into a new storage"
        )
    if recorded != scenario_digest(experiment.scenarios[BASELINE], free):
        raise ChistkaError(
            f"--fits: study '{study.study_name}' was made from another scenario than the "
            f"experiment's '{experiment.scenario_ref}', or from another version of it (beyond "
            f"the values it fits: {', '.join(free)}); its trials are not fits of this scenario"
        )
    return free


def load_fits(
    ref: str | Path, study: str | Path, study_name: str | None = None, count: int = DEFAULT_COUNT
) -> tuple[list[Experiment], dict[str, Any]]:
    """The design at each of a study's best trials, and what the set of fits records.

    Returns:
        (experiments, study): one experiment per trial (best first), and what variants.json
        records under `fits`: the study, its storage as given, its loss, seeds and scale, its
        complete trials, and per fit its label, trial number, loss and values.

    Raises:
        ChistkaError: see `open_study`, `best_trials` and `check_study_scenario`, or a design
            the trial's values do not fit (as `load_experiment`).
    """
    import optuna

    plain = load_experiment(ref)
    opened = open_study(study, study_name, plain.scenarios[BASELINE].scenario.name)
    check_study_scenario(opened, plain)
    trials = best_trials(opened, count)
    experiments = []
    for trial in trials:
        try:
            experiments.append(load_experiment(ref, fit=dict(trial.params), fit_label=label(trial)))
        except ChistkaError as exc:
            raise ChistkaError(f"--fits: {label(trial)}: {exc}") from None
    complete = opened.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    study_record = {
        "study": opened.study_name,
        "storage": str(study),
        "loss_kind": opened.user_attrs.get("loss", "msle"),
        "study_seeds": opened.user_attrs.get("seeds", ""),
        "study_scale": opened.user_attrs.get("scale", ""),
        "complete_trials": len(complete),
        "fits": [
            {
                "label": label(trial),
                "trial": trial.number,
                "loss": float(trial.value),
                "values": dict(trial.params),
            }
            for trial in trials
        ],
    }
    return experiments, study_record


def label(trial: Any) -> str:
    """How the report names a fit: its trial's number in the study."""
    return f"trial {trial.number}"
