"""Calibration: fit a scenario's free parameters to target figures with Optuna.

Each trial draws the free parameters (see `chistka.analysis.free`), runs the scenario once per
seed, with the same seeds in every trial (common random numbers, so that differences between
trials are not seed noise), and scores the runs against the targets (a CSV file in the format of
`chistka.analysis.validate`). The loss is the mean squared log error over the targets the runs
can compute, averaged over the seeds::

    loss = mean over seeds of  mean over targets of  (log(model + f) - log(target + f))**2

with a floor f = 1% of the target's value, so that a model value of zero costs a finite amount
(about 21 for a target missed entirely). The other loss, ``band``, scores what the fit is judged
by, each target inside its range (`chistka.analysis.validate.bounds`: blank low and high are
±20%): a target costs the distance, in log units, by which the model lies outside the range
shrunk to `BAND_MARGIN` of its width around the target, and nothing inside it::

    loss = mean over seeds of  mean over targets of  max(0, d - m * hi, m * lo - d)

with d = log(model + f) - log(target + f), lo and hi the range's ends in the same units and
m = `BAND_MARGIN`. The mean squared log error pulls every target towards its centre and weighs a
small row's relative miss like a large row's, so that its best fit can leave rows just outside
that another set of values would bring in; the band loss is indifferent inside the range and,
linear outside it, does not prefer spreading a miss over several rows, as a squared error does
(docs/decisions.md 20.2). The third, ``inside``, counts what the fit is finally judged by, each
target inside its whole range at every seed: the share of (target, seed) pairs outside the range,
plus the band loss, which only orders trials that leave the same share outside (one pair of 168
is 0.006, the band loss of a fit about 0.001)::

    loss = share of (seed, target) pairs with the model outside [lo, hi]  +  band loss

The band loss aims a quarter inside the ends so that seeds the fit did not run still fall inside;
the ``inside`` loss is for a fit over the very seeds it is judged at (docs/decisions.md 34.2).

Targets outside the run (a date before its start, a campaign it lacks) are skipped; a targets
file of which the run covers none is an error. A target inside the run for which a run gives no
number (a share of nothing) costs as much as one missed entirely, so that every trial is scored
on the same targets. Each run stops on the last day the
targets read (`last_day_needed`): a day depends only on the days before it, so the loss is the
same as with the whole run, for a third less time in purges-1921-1953 (its calibration rows end
in 1940, the scenario in 1953).

The study lives in an Optuna storage: in memory, a SQLite file, or any database URL Optuna
accepts (e.g. postgresql://...), so that several processes or machines can work on one study
(a study of the same name is resumed, from its last finished trial: a trial left running by a
process that was killed is marked failed, does not count, and its parameters are tried again,
see `recover_killed_trials`). The sampler is TPE, seeded for reproducibility; the
first trial of a new study runs the scenario's own values where they lie inside the ranges, so
the loss of the best trial can be read against the scenario as it stands.

The parameters are applied as a policy event on the scenario's first day, exactly as
`chistka.analysis.fitted_file.write_fitted_scenario` writes them into a fitted scenario file;
`chistka.report.calibration` writes calibration.html.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from chistka.analysis import observables
from chistka.analysis.free import FreeParameter, as_start_event, read_free_file, start_value
from chistka.analysis.validate import bounds, read_targets
from chistka.errors import ChistkaError
from chistka.scenario import Scenario, load_scenario
from chistka.scenario.fitted import FITTED_NOTE

if TYPE_CHECKING:
    import optuna

    from chistka.engine import PopulationCache
    from chistka.results import Results

CalibrationProgress = Callable[[int, int, float | None], None]
"""Called as progress(trials_done, trials_total, best_loss) after each trial of this call."""

OUTPUTS = ("fitted.toml", "calibration.html")
"""The files `chistka calibrate` writes in its output folder, from the study as a call leaves
it."""

SAMPLER_SEED = 1
"""Seed of the TPE sampler (offset by the trials already in the study when it is resumed)."""

PROCESS_ATTR = "process"
"""User attribute of a trial: 'host:pid' of the process that runs it (to find killed trials)."""

RETRIES = 2
"""How often the parameters of a trial whose process died are tried again."""

KILLED_ATTR = "chistka:killed_in"
"""System attribute of a queued trial: the numbers of the earlier trials of its parameters
whose processes died."""

FLOOR = 0.01
"""Floor of the log error, relative to the target's value."""

MISSED = float(np.log(FLOOR / (1 + FLOOR)) ** 2)
"""The error of a target missed entirely (model 0): the cost of a target a run gives no
number for."""

LOSSES = {
    "msle": "mean squared log error",
    "band": "mean log distance outside the targets' ranges",
    "inside": "share of (target, seed) pairs outside their ranges, plus the band loss",
}
"""The losses `calibrate` can minimise (see the module's docstring), with their names in words."""

BAND_MARGIN = 0.75
"""Share of a target's range inside which the band loss is zero: the fit aims a quarter inside
the range's ends, so that seeds it did not run (and the seed noise of small rows) still fall
inside."""


NO_VALUE_ATTR = "no_value"
"""User attribute of a trial: the ids of the targets its runs cover but give no value for (NaN
at a seed), each costed as a miss by the loss; `fit_table` counts them outside."""

NO_VALUE_SEEDS_ATTR = "no_value_seeds"
"""User attribute of a trial: id -> the number of seeds without a value, for each target of
`NO_VALUE_ATTR`, so that the reports can give the mean over the other seeds (the trial's
"model" holds that mean) and say how many seeds gave none. Studies made before it lack it."""

IMPORTANCE_MIN_TRIALS = 20
"""Fewest complete trials whose parameter importances are drawn without a warning.

fANOVA splits the loss's variance over the trials by a random forest fitted to them; with few
trials each tree sees a handful of points and the shares follow which values the first draws
happened to take (TPE's first 10 trials are random draws, after the enqueued start points), so
two studies of the same scenario rank the parameters differently. Twice TPE's random start-up
is the least at which the ranking reflects the sampler's search; the floor rises to
`IMPORTANCE_TRIALS_PER_PARAMETER` per free parameter for a wide study (`importance_floor`).
"""

IMPORTANCE_TRIALS_PER_PARAMETER = 5
"""Complete trials per free parameter below which the importances are drawn with a warning."""


@dataclass
class CalibrationResult:
    """The outcome of `calibrate`.

    Attributes:
        best_params: free parameter path -> best value found.
        best_loss: the loss of the best trial (see the module's docstring).
        study: the Optuna study (with the trials of earlier calls where it was resumed).
        free: the free parameters.
        targets: the targets, as read by `read_targets`.
        scenario: the scenario before the fit.
        scenario_ref: the scenario's built-in name or file path.
        targets_path: the targets file, absolute (`calibrate` resolves it, so that fitted.toml
            and calibration.html name a file that can be found from any folder).
        seeds: the seeds of every trial.
        scale: agents per represented person (None: the scenario's).
        first_loss: the loss of the study's first complete trial (the scenario's own values
            where they are inside the ranges).
        runs_end: the day the trials' runs stopped, the last one the targets read
            (`last_day_needed`; None: the scenario's own end).
        loss: the loss minimised (a key of `LOSSES`).
        targets_given: the targets file as it was typed ('' where the same as `targets_path`).
        left_out: (id, observable, reason) of each target the scenario's runs cannot give,
            which the loss skips (set by the command, `chistka.commands.calibrate`; listed in
            calibration.html).
    """

    best_params: dict[str, float | int]
    best_loss: float
    study: optuna.Study
    free: list[FreeParameter]
    targets: pd.DataFrame
    scenario: Scenario
    scenario_ref: str
    targets_path: Path
    seeds: tuple[int, ...]
    scale: float | None
    first_loss: float = math.nan
    runs_end: dt.date | None = None
    loss: str = "msle"
    extra: dict[str, Any] = field(default_factory=dict)
    targets_given: str = ""
    left_out: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def trials(self) -> list[optuna.trial.FrozenTrial]:
        """The study's complete trials."""
        import optuna

        return self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))


def storage_url(storage: str | Path | None) -> str | None:
    """An Optuna storage URL: a URL as given, a file path as SQLite, None for in memory.

    The directory of a SQLite file is created.
    """
    if storage is None:
        return None
    text = str(storage)
    if text.startswith("sqlite:///") and text != "sqlite:///:memory:":
        Path(text.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if "://" in text:
        return text
    path = Path(text).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def log_error(model: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Squared log error of model values against target values (floor: 1% of the target)."""
    floor = np.maximum(FLOOR * np.abs(value), 1e-12)
    return (np.log(np.maximum(model, 0.0) + floor) - np.log(value + floor)) ** 2


def band_error(
    model: np.ndarray, value: np.ndarray, low: np.ndarray, high: np.ndarray
) -> np.ndarray:
    """Log distance of model values outside the targets' ranges shrunk to `BAND_MARGIN`.

    Zero inside; a model value of zero is kept finite by the floor of `log_error`, and a range
    whose low end is at or below zero has no lower end.
    """
    floor = np.maximum(FLOOR * np.abs(value), 1e-12)
    centre = np.log(value + floor)
    with np.errstate(divide="ignore"):
        below = np.where(
            low > 0, BAND_MARGIN * (np.log(np.maximum(low, 0.0) + floor) - centre), -np.inf
        )
    above = BAND_MARGIN * (np.log(high + floor) - centre)
    distance = np.log(np.maximum(model, 0.0) + floor) - centre
    return np.maximum(0.0, np.maximum(distance - above, below - distance))


def outside_error(model: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """1 where a model value lies outside its target's whole range [low, high], else 0.

    The ends are inside, as `chistka.analysis.validate` counts them; a value a run could not give
    (NaN) is outside.
    """
    with np.errstate(invalid="ignore"):
        inside = (model >= low) & (model <= high)
    return np.where(inside, 0.0, 1.0)


def target_ranges(targets: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Low and high ends of each target's accepted range (`bounds`: blanks are ±20%)."""
    ranges = [bounds(t.value, t.low, t.high) for t in targets.itertuples(index=False)]
    return np.array([r[0] for r in ranges]), np.array([r[1] for r in ranges])


def check_loss(loss: str) -> str:
    """The loss's name, checked against `LOSSES`.

    Raises:
        ChistkaError: an unknown loss (the message lists those allowed).
    """
    if loss not in LOSSES:
        raise ChistkaError(f"--loss must be one of {', '.join(LOSSES)} (got '{loss}')")
    return loss


def _fingerprint(
    scenario: Scenario,
    targets: pd.DataFrame,
    free: Sequence[FreeParameter],
    seeds,
    scale,
    loss: str = "msle",
) -> dict[str, str]:
    """What makes trials of a study comparable, for checking a resumed study.

    The scenario's own values of the free parameters are left out: every trial sets them, so a
    scenario into which a study's best values were written (scripts/fit_scenario.py) still
    resumes the study.
    """
    data = {
        "scenario": _without_free(scenario.model_dump(mode="json"), [p.path for p in free]),
        "targets": targets[["id", "observable", "value"]].to_dict(orient="list"),
        "free": [[p.path, p.low, p.high, p.log] for p in free],
        "seeds": list(seeds),
        "scale": scale,
    }
    if loss != "msle":  # studies made before the band loss keep their fingerprint
        data["loss"] = loss
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
    return {
        "fingerprint": digest[:16],
        "scenario_digest": scenario_digest(scenario, [p.path for p in free]),
        "targets": ", ".join(targets["id"].astype(str)),
        "free": ", ".join(p.path for p in free),
        "seeds": ", ".join(str(s) for s in seeds),
        "scale": _OWN_SCALE if scale is None else f"{scale:g}",
        "loss": loss,
    }


def scenario_digest(scenario: Scenario, free_paths: Sequence[str]) -> str:
    """A digest of the scenario without its free parameters' values (a study's `scenario_digest`).

    A study's trials are fits of this scenario: an experiment run at them (`chistka experiment
    run --fits`) checks that its own scenario has the same digest.
    """
    dump = _without_free(scenario.model_dump(mode="json"), free_paths)
    return hashlib.sha256(json.dumps(dump, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _without_free(dump: dict[str, Any], free_paths: Sequence[str]) -> dict[str, Any]:
    """A scenario's dump with the free parameters' values blanked (see `_fingerprint`)."""
    for path in free_paths:
        parts = path.split(".")
        node: Any = dump
        if parts[0] in ("operations", "campaigns"):
            items = [i for i in dump.get(parts[0]) or [] if i.get("name") == parts[1]]
            node, parts = (items[0] if items else None), parts[2:]
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and parts[-1] in node:
            node[parts[-1]] = None
    return dump


_OWN_SCALE = "scenario's"
"""How a study records that it runs at the scenario's own scale (no --scale)."""


def _scale_words(recorded: str) -> str:
    return "the scenario's own scale" if recorded == _OWN_SCALE else f"scale {recorded}"


def _suggest(trial: optuna.Trial, parameter: FreeParameter) -> float | int:
    if parameter.integer:
        return trial.suggest_int(
            parameter.path, int(parameter.low), int(parameter.high), log=parameter.log
        )
    return trial.suggest_float(parameter.path, parameter.low, parameter.high, log=parameter.log)


def this_process() -> str:
    """'host:pid' of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _dead(process: str) -> bool:
    """Whether a 'host:pid' names a process of this machine that no longer runs."""
    host, _, pid = process.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def recover_killed_trials(study: optuna.Study) -> list[int]:
    """Fail the trials left running by a killed process of this machine; queue them again.

    A process killed in a trial (SIGKILL, a crash) leaves it RUNNING in the storage for ever.
    Such a trial must neither count as finished nor be lost: it is marked FAIL and its
    parameters are queued (at most `RETRIES` times), so that the resumed study runs them first,
    the scenario's own values included. Trials of live processes (another calibration working
    on the same study) are left alone, and so are those of other machines, whose processes
    cannot be checked from here: such a trial stays RUNNING, which neither counts nor blocks.

    Returns:
        The numbers of the trials marked failed.
    """
    import optuna

    failed = []
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        process = trial.user_attrs.get(PROCESS_ATTR)
        if not isinstance(process, str) or not _dead(process):
            continue
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
        failed.append(trial.number)
        killed_in = [*trial.system_attrs.get(KILLED_ATTR, []), trial.number]
        if len(killed_in) > RETRIES:
            continue
        study.add_trial(
            optuna.trial.create_trial(
                state=optuna.trial.TrialState.WAITING,
                params=trial.params,
                distributions=trial.distributions,
                user_attrs={k: v for k, v in trial.user_attrs.items() if k != PROCESS_ATTR},
                system_attrs={**trial.system_attrs, KILLED_ATTR: killed_in},
            )
        )
    return failed


def keep_memory_in_worker() -> None:
    """Tell a joblib (loky) worker that the memory it keeps between tasks is no leak.

    loky ends a worker whose memory has grown by more than 300 MB since its first task, taking
    it for a leak, and starts a new one; the kept populations (`PopulationCache`, hundreds of
    MB a seed) are such growth by design, so each study's workers were replaced after a trial or
    two and synthesised every population again (the warning "A worker stopped while some jobs
    were given to the executor" in session 6 and 7's studies). The bound is loky's module
    constant `_MAX_MEMORY_LEAK_SIZE`, read by the worker after each task; this raises it in the
    calling process only. Without loky (another joblib version) it does nothing.
    """
    try:
        from joblib.externals.loky import process_executor
    except ImportError:
        return
    bound = getattr(process_executor, "_MAX_MEMORY_LEAK_SIZE", None)
    if bound is not None:
        process_executor._MAX_MEMORY_LEAK_SIZE = max(bound, 1 << 40)


_POPULATIONS: PopulationCache | None = None
"""This process's synthesised populations, reused by every trial's run of the same seed."""


def last_day_needed(scenario: Scenario, targets: pd.DataFrame) -> dt.date | None:
    """The day after which no target reads the runs, when it is before the scenario's end.

    None where a target reads the whole run (`observables.last_day_read`) or the last day read
    is the scenario's own end. A campaign, operation or show trial under way on that day is run
    to its end, so that the shortened scenario holds only whole items of its timeline.
    """
    days = [observables.last_day_read(name, scenario) for name in targets["observable"]]
    if any(day is None for day in days):
        return None
    last = max(days)
    items = [*scenario.campaigns, *scenario.operations, *scenario.show_trials]
    while True:
        under_way = [
            getattr(item, "end", None) or item.date
            for item in items
            if (getattr(item, "start", None) or item.date) <= last
        ]
        later = max(under_way, default=last)
        if later <= last:
            break
        last = later
    return last if last < scenario.scenario.end else None


def ending(scenario: Scenario, last: dt.date) -> Scenario:
    """The scenario run only to `last`.

    Its campaigns, operations, show trials and events that begin after that day are left out
    (their days would never be simulated).
    Each day's events depend only on the days before it, so the runs agree with the scenario's
    own runs up to `last`, day by day (tests/test_calibrate.py checks this on every built-in
    scenario's calibration rows).
    """
    data = scenario.model_dump()
    data["scenario"]["end"] = last
    data["events"] = [e for e in data["events"] if e["date"] <= last]
    for key in ("campaigns", "operations"):
        data[key] = [item for item in data[key] if item["start"] <= last]
    data["show_trials"] = [t for t in data["show_trials"] if t["date"] <= last]
    return type(scenario).model_validate(data)


def _seed_values(
    fitted: Scenario, seed: int, scale: float | None, name: str, targets: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """`trial_values` of one run of one seed (a top-level function for joblib).

    The trials run the same seeds (common random numbers) and fit no parameter of the
    population, so each process synthesises a seed's population once (`PopulationCache`; a
    free parameter that changes the population changes the cache's key).
    """
    global _POPULATIONS
    from chistka.engine import PopulationCache, Sim

    if _POPULATIONS is None:
        _POPULATIONS = PopulationCache()
        keep_memory_in_worker()
    sim = Sim(fitted, seed=seed, scale=scale, name=name, populations=_POPULATIONS)
    return trial_values(sim.run(), targets)


class Evaluation(NamedTuple):
    """What `evaluate` finds for one parameter set."""

    loss: float
    model: np.ndarray
    """each target's mean over the seeds (NaN where some seed gives no value)"""
    covered: np.ndarray
    """whether the runs cover each target (inside the run and modelled)"""
    seen_mean: np.ndarray
    """each covered target's mean over the seeds that give it a value (NaN where none does, or
    the target is not covered): what the reports show of a target the loss costs as a miss"""
    no_value_seeds: np.ndarray
    """for each covered target, the number of seeds that give it no value (0 where not covered)"""


def evaluate(
    scenario: Scenario,
    params: dict[str, Any],
    targets: pd.DataFrame,
    seeds: Sequence[int],
    scale: float | None,
    name: str,
    n_jobs: int = 1,
    loss: str = "msle",
) -> Evaluation:
    """A parameter set's loss, the targets' model values (means over the seeds), what is covered.

    `loss` is one of `LOSSES` (see the module's docstring). `covered` tells a covered target
    without a value (NaN at some seed), which the loss costs as a miss, from one the loss skips.

    The seeds run in `n_jobs` local processes (joblib; 1: one after the other). Each run
    depends only on its seed, so the loss is the same for any `n_jobs`.

    Raises:
        ChistkaError: none of the targets can be computed from the run, or a bad value.
    """
    fitted = as_start_event(scenario, params, note=FITTED_NOTE)
    if n_jobs == 1 or len(seeds) == 1:
        rows = [_seed_values(fitted, seed, scale, name, targets) for seed in seeds]
    else:
        from joblib import Parallel, delayed

        rows = Parallel(n_jobs=min(len(seeds), n_jobs) if n_jobs > 0 else n_jobs)(
            delayed(_seed_values)(fitted, seed, scale, name, targets) for seed in seeds
        )
    values = np.vstack([v for v, _ in rows])
    covered = ~np.vstack([outside for _, outside in rows]).any(axis=0)
    if not covered.any():
        raise ChistkaError(
            "none of the targets can be computed from the runs of "
            f"'{name}' ({scenario.scenario.start} to {scenario.scenario.end}): their dates, "
            "campaigns or operations lie outside the scenario"
        )
    target_values = targets["value"].to_numpy(dtype=np.float64)[covered]
    if loss in ("band", "inside"):
        low, high = (ends[covered] for ends in target_ranges(targets))
        model = np.where(np.isnan(values[:, covered]), 0.0, values[:, covered])
        errors = band_error(model, target_values, low, high)
        if loss == "inside":
            errors = errors + outside_error(values[:, covered], low, high)
    else:
        errors = log_error(values[:, covered], target_values)
        errors[np.isnan(errors)] = MISSED
    model = values.mean(axis=0)
    seen_mean, no_value_seeds = _seen_means(values, model, covered)
    return Evaluation(float(errors.mean(axis=1).mean()), model, covered, seen_mean, no_value_seeds)


def _seen_means(
    values: np.ndarray, model: np.ndarray, covered: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each covered target's mean over the seeds that give it a value, and how many give none.

    `values` is seeds x targets and `model` its mean over the seeds; a target with a value at
    every seed keeps `model` exactly. A value that is not finite counts as none, as the trial's
    "model" attribute always left such a mean out.
    """
    given = np.isfinite(values) & covered
    counts = given.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        partial = np.where(given, values, 0.0).sum(axis=0) / counts
    no_value_seeds = np.where(covered, len(values) - counts, 0)
    seen_mean = np.where(no_value_seeds == 0, model, np.where(counts > 0, partial, np.nan))
    return np.where(covered, seen_mean, np.nan), no_value_seeds


def trial_values(results: Results, targets: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The targets' observables in one run, and which of them lie outside the run.

    A target outside the run (ObservableOutOfRun: a date before its start, a campaign it lacks)
    or of a kind its scenario does not model (not in its `compare` list, as `validate` reads
    it) is skipped by the loss; one inside the run whose value is NaN is a failure of the trial.
    """
    from chistka.analysis.comparison import modelled_kinds

    kinds = modelled_kinds(results.provenance)
    values = np.full(len(targets), np.nan)
    outside = np.zeros(len(targets), dtype=bool)
    for i, target in enumerate(targets.itertuples(index=False)):
        if kinds is not None and target.observable.partition(":")[0] not in kinds:
            outside[i] = True  # not modelled: the run gives 0, its report says not modelled
            continue
        try:
            values[i] = float(observables.compute(results, target.observable))
        except observables.ObservableOutOfRun:
            outside[i] = True
        except observables.UnknownObservable as exc:
            raise ChistkaError(f"row {target.row}, id '{target.id}': {exc}") from None
    return values, outside


def _tried_points(study: optuna.Study) -> list[dict[str, float]]:
    """The parameters of every trial of a study, run or waiting in its queue."""
    import optuna

    points = []
    for trial in study.get_trials(deepcopy=False):
        if trial.state == optuna.trial.TrialState.WAITING:
            points.append(dict(trial.system_attrs.get("fixed_params", {})))
        else:
            points.append(dict(trial.params))
    return points


def _has_point(point: Mapping[str, float], trial: Mapping[str, float]) -> bool:
    """Whether a trial's parameters hold a start point's values (to storage's float precision).

    Only the point's own values count: the others come from the scenario, whose values a fit
    written back since may have changed.
    """
    return all(
        key in trial and math.isclose(float(value), float(trial[key]), rel_tol=1e-9, abs_tol=1e-12)
        for key, value in point.items()
    )


def calibrate(
    scenario_ref: str | Path,
    targets_path: str | Path,
    trials: int,
    *,
    seeds: Sequence[int] = (1, 2),
    storage: str | Path | None = None,
    study_name: str | None = None,
    scale: float | None = None,
    free_path: str | Path | None = None,
    progress: CalibrationProgress | None = None,
    n_jobs: int = 1,
    loss: str = "msle",
) -> CalibrationResult:
    """Fit the scenario's free parameters to the targets (see the module's docstring).

    Args:
        scenario_ref: a built-in scenario name or a scenario file.
        targets_path: CSV with columns id, observable, value, low, high.
        trials: trials to run in this call (added to those of a resumed study); 0 runs none
            and gives the stored study's result, for its report to be written again.
        seeds: the run seeds of every trial (common random numbers).
        storage: an Optuna storage URL (sqlite:///file.db, postgresql://...), a path to a SQLite
            file, or None to keep the study in memory.
        study_name: the study's name in the storage (default: the scenario's name); a study of
            that name is resumed.
        scale: agents per represented person, overriding the scenario's.
        free_path: the free-parameter file (default: see `chistka.analysis.free.load_free`);
            a new study tries its [[start]] points after the scenario's own values, a resumed
            one first those of its points it has not tried yet (added to the file since).
        progress: called after each trial.
        n_jobs: local processes for the seeds of each trial (-1: one per core). Trials stay
            one after the other, so the sampler sees the same history and the study is the same
            for any `n_jobs` (common random numbers: every trial runs the same seeds).
        loss: the loss to minimise, one of `LOSSES` (a study resumes only with the loss it
            was made with).

    Raises:
        ChistkaError: a bad scenario, targets file, free-parameter file, loss, number of trials or
            seeds, a storage that cannot be opened, a resumed study made with other settings,
            or targets of which the run covers none.
    """
    import optuna

    if trials < 0:
        raise ChistkaError(
            f"--trials must be at least 0 (got {trials}; 0 writes a stored study's report again)"
        )
    check_loss(loss)
    seeds = tuple(int(s) for s in seeds)
    if not seeds or any(s < 0 for s in seeds):
        raise ChistkaError(f"seeds must be one or more non-negative integers (got {seeds})")
    if scale is not None and not 0 < scale <= 1:
        raise ChistkaError(f"--scale must be in (0, 1] (got {scale})")
    scenario = load_scenario(scenario_ref)
    targets = read_targets(targets_path)
    if (targets["value"] < 0).any():
        bad = targets.loc[targets["value"] < 0, "id"].iloc[0]
        raise ChistkaError(f"{targets_path}: target '{bad}' is negative (the log error needs >= 0)")
    free, starts = read_free_file(free_path, scenario, scenario_ref)
    name = study_name or scenario.scenario.name
    attrs = _fingerprint(scenario, targets, free, seeds, scale, loss)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = storage_url(storage)
    try:
        study = optuna.create_study(
            storage=url,
            study_name=name,
            direction="minimize",
            load_if_exists=True,
            sampler=optuna.samplers.TPESampler(seed=SAMPLER_SEED),
        )
        recover_killed_trials(study)
        existing = len(study.trials)
        if existing:  # a resumed study: do not draw the first trials' values again
            study = optuna.load_study(
                study_name=name,
                storage=url,
                sampler=optuna.samplers.TPESampler(seed=SAMPLER_SEED + existing),
            )
    except Exception as exc:  # sqlalchemy and optuna raise many kinds
        raise ChistkaError(f"cannot open study '{name}' in storage '{storage}': {exc}") from None
    if study.user_attrs.get("fingerprint") not in (None, attrs["fingerprint"]):
        made = study.user_attrs.get("scale")
        if made not in (None, attrs["scale"]):
            hint = "without --scale" if made == _OWN_SCALE else f"with --scale {made}"
            raise ChistkaError(
                f"study '{name}' in '{storage}' was made at {_scale_words(made)}, not at "
                f"{_scale_words(attrs['scale'])}: run {hint} to resume it, or give another "
                "study name or storage"
            )
        raise ChistkaError(
            f"study '{name}' in '{storage}' was made with another scenario, targets, free "
            f"parameters, seeds, scale or loss ({study.user_attrs.get('free')}; seeds "
            f"{study.user_attrs.get('seeds')}; loss {study.user_attrs.get('loss', 'msle')}): "
            "give another study name or storage"
        )
    if trials == 0 and not existing:
        raise ChistkaError(
            f"--trials 0 writes the report of a study already stored, but '{storage}' holds no "
            f"study '{name}' with a trial: give --trials 1 or more to start one"
        )
    for key, value in attrs.items():
        if study.user_attrs.get(key) != value:
            study.set_user_attr(key, value)
    start = {p.path: start_value(scenario, p.path) for p in free}
    within = {p.path: p.value(min(max(start[p.path], p.low), p.high)) for p in free}
    if existing == 0:
        baseline = all(p.low <= start[p.path] <= p.high for p in free)
        if baseline:
            study.enqueue_trial(start, user_attrs={"baseline": True})
        for point in starts:  # the free file's start points, with the scenario's other values
            if baseline and within | point == start:
                continue  # the scenario's own values, tried first already: the same run again
            study.enqueue_trial(within | point, user_attrs={"start_point": True})
    elif trials:  # start points added to the free file since: tried first, each once
        tried = _tried_points(study)
        for point in starts:
            if not any(_has_point(point, seen) for seen in tried):
                study.enqueue_trial(within | point, user_attrs={"start_point": True})
                tried.append(within | point)
    ref = str(scenario_ref)
    runs_end = last_day_needed(scenario, targets)
    runs = scenario if runs_end is None else ending(scenario, runs_end)

    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr(PROCESS_ATTR, this_process())
        params = {p.path: _suggest(trial, p) for p in free}
        found = evaluate(runs, params, targets, seeds, scale, ref, n_jobs, loss)
        ids = [str(t) for t in targets["id"]]
        trial.set_user_attr(  # over the seeds that give a value: a miss in the loss if not all
            "model",
            {t: float(v) for t, v in zip(ids, found.seen_mean, strict=True) if math.isfinite(v)},
        )
        missing = {t: int(n) for t, n in zip(ids, found.no_value_seeds, strict=True) if n}
        trial.set_user_attr(NO_VALUE_ATTR, list(missing))  # covered, costed as a miss
        trial.set_user_attr(NO_VALUE_SEEDS_ATTR, missing)
        return found.loss

    done = 0

    def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            try:
                best = study.best_value
            except ValueError:
                best = None
            progress(done, trials, best)

    if trials:
        study.optimize(objective, n_trials=trials, callbacks=[callback])
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        raise ChistkaError(f"study '{name}' has no complete trial")
    best = study.best_trial
    best_params = {p.path: p.value(best.params[p.path]) for p in free}
    return CalibrationResult(
        best_params=best_params,
        best_loss=float(best.value),
        study=study,
        free=free,
        targets=targets,
        scenario=scenario,
        scenario_ref=ref,
        targets_path=Path(targets_path).resolve(),
        seeds=seeds,
        scale=scale,
        first_loss=float(complete[0].value),
        runs_end=runs_end,
        loss=loss,
        targets_given="" if Path(targets_path).is_absolute() else str(targets_path),
    )


# --- what the report and the command read from a study (calibration.html: report/calibration.py;
# the fitted scenario: analysis/fitted_file.py) ----------------------------------------------------


def importances(study: optuna.Study) -> dict[str, float]:
    """Optuna's parameter importances (empty with fewer than two complete trials or no spread)."""
    import optuna

    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(complete) < 2 or len({t.value for t in complete}) < 2:
        return {}
    try:
        return dict(optuna.importance.get_param_importances(study))
    except (RuntimeError, ValueError, ZeroDivisionError):
        return {}


def fit_table(result: CalibrationResult) -> pd.DataFrame:
    """Model (best trial, mean over the seeds) against target per target, with the range.

    `inside` judges the mean over the seeds; the ``inside`` loss counts each (target, seed) pair
    instead, so a mean inside may hide a seed outside. A target the runs cover but give no value
    for (NaN at a seed: a share of nothing) is costed by the loss as a miss, so it is outside
    here too (`inside` False, `status` 'no value'), whatever its mean over the other seeds:
    `model` is that mean, so that a reader sees how close they came (NaN where no seed gave a
    value, or the study was made before its trials recorded `NO_VALUE_SEEDS_ATTR`), and
    `no_value_seeds` the number of seeds without a value (0 for a target with a value at every
    seed or one the loss skips; None where a study made before `NO_VALUE_SEEDS_ATTR` did not
    record it). `inside` is None only for a target the loss skips (outside the run, or of a kind
    the scenario does not model), and for any target without a value in a study made before its
    trials recorded `NO_VALUE_ATTR`. `status` says which in words
    (`chistka.report.calibration.FIT_STATUSES`).
    """
    best = result.study.best_trial
    model = best.user_attrs.get("model", {})
    no_value = {str(t) for t in best.user_attrs.get(NO_VALUE_ATTR, [])}
    seeds_without = best.user_attrs.get(NO_VALUE_SEEDS_ATTR)
    labels = result.targets["label"] if "label" in result.targets else None
    rows = []
    for i, target in enumerate(result.targets.itertuples(index=False)):
        low, high = bounds(target.value, target.low, target.high)
        value = model.get(str(target.id), math.nan)
        label = "" if labels is None else labels.iloc[i]
        missing = (
            0
            if str(target.id) not in no_value
            else None
            if seeds_without is None or str(target.id) not in seeds_without
            else int(seeds_without[str(target.id)])
        )
        rows.append(
            {
                "id": target.id,
                "label": "" if not isinstance(label, str) else label,
                "observable": target.observable,
                "model": value,
                "no_value_seeds": missing,
                "value": target.value,
                "low": low,
                "high": high,
                "inside": (
                    False
                    if str(target.id) in no_value
                    else None
                    if math.isnan(value)
                    else bool(low <= value <= high)
                ),
                "status": (
                    "no value"
                    if str(target.id) in no_value
                    else "left out"
                    if math.isnan(value)
                    else "inside"
                    if low <= value <= high
                    else "outside"
                ),
            }
        )
    table = pd.DataFrame(rows)
    if len(table):
        for column in ("inside", "no_value_seeds"):
            table[column] = pd.Series([r[column] for r in rows], index=table.index, dtype=object)
    return table


def inside_text(table: pd.DataFrame) -> str:
    """How many targets' means over the seeds lie inside their ranges (`fit_table`).

    The count is over the targets the loss scores: a target without a value is one of them
    (outside, a miss), and the words say how many such there are, and that some had a value at
    other seeds where any did (their mean over those is in calibration.html).
    """
    covered = int(table["inside"].notna().sum())
    inside = int(table["inside"].dropna().astype(bool).sum())
    missing, some = 0, False
    if "status" in table:
        lacking = table["status"] == "no value"
        missing = int(lacking.sum())
        some = "model" in table and bool(table.loc[lacking, "model"].notna().any())
    where = " at one seed or more" if some else ""
    note = f"; {missing} of them with no value{where}, a miss" if missing else ""
    return f"{inside} of {covered} targets inside their range (the mean over the seeds{note})"


def importance_floor(result: CalibrationResult) -> int:
    """Fewest complete trials for importances without a warning (see `IMPORTANCE_MIN_TRIALS`)."""
    return max(IMPORTANCE_MIN_TRIALS, IMPORTANCE_TRIALS_PER_PARAMETER * len(result.free))


def importance_warning(result: CalibrationResult) -> str | None:
    """A warning that the parameter importances rest on too few trials.

    None where there are enough (`importance_floor`), or where `importances` draws none (under
    two trials, or all of one loss).
    """
    trials, floor = len(result.trials), importance_floor(result)
    if trials < 2 or trials >= floor or len({t.value for t in result.trials}) < 2:
        return None
    return (
        f"the parameter importances rest on {trials} trials, fewer than {floor} (at least "
        f"{IMPORTANCE_MIN_TRIALS}, and {IMPORTANCE_TRIALS_PER_PARAMETER} per free parameter): "
        "they follow the first draws more than the parameters' effects; read them as a hint, "
        "not a ranking"
    )


def first_trial_words(result: CalibrationResult) -> str:
    """What the study's first trial ran: the scenario's own values where they were in range."""
    trials = result.trials
    own = bool(trials) and bool(trials[0].user_attrs.get("baseline"))
    return "the scenario's own values" if own else "first trial"
