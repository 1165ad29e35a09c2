"""Experiments: a scenario as it stands against arms that each take a lever away, over paired seeds.

The project's questions are comparative (was the scale of 1937-38 the centre's doing or the
periphery's? what if there had been no halt? how uncertain is the answer?). An experiment asks
one of them with a design written down before it is run: a scenario, the outcomes to read (any
observables, e.g. ``political_convictions:1937-1938``) and *arms*, each the scenario with some
documented decisions left out (``without``, as `chistka run --without`) and some mechanism
parameters changed (``set``, as `chistka run --set`). Every arm and the scenario as it stands
(the baseline) run at the same seeds (common random numbers), so an arm's effect on an outcome
is read seed by seed: the mean paired difference from the baseline with its 90% interval
(Student's t over the seeds), and the same relative to the baseline's mean. Nothing is fitted:
the fitted values of the scenario stay as they are in every arm.

An arm's change holds the whole run: a parameter it sets that the timeline changes again on
some day is refused (leave that day out with ``without``), so that "no denunciations" cannot
quietly come back on a later date.

A design is a TOML file (the built-in ones are in ``chistka/analysis/experiments/``)::

    [experiment]
    name = "centre-or-periphery"
    title = "..."
    question = "..."
    scenario = "great-terror"            # a built-in name, or a file beside the design
    seeds = 8                            # default number of seeds (1..64)
    outcomes = ["political_convictions:1937-1938", "death_sentences:1937-1938"]

    [[arms]]
    name = "no-order-00447"
    label = "No Order 00447"
    group = "centre"                     # how the report groups and colours the arms
    without = ["operations.order_00447"]
    why = "the mass operation never ordered: its lists, limits, troikas and requests"

    [[arms]]
    name = "no-denunciations"
    label = "No denunciations"
    group = "periphery"
    set = { "denunciation.rate_per_year" = 0.0, "denunciation.self_protection" = 0.0 }
    why = "..."

Layout of an experiment's folder: ``experiment.json`` (the design, seeds and scale: the folder's
plan), one ensemble folder per arm (``baseline/`` first; each is a `chistka sweep` folder that
`chistka report`, `compare` and `validate` read), ``outcomes.csv`` (every arm, seed and outcome)
and ``effects.csv`` (each arm's effect on each outcome). The outcomes are computed in the
workers while each run is in memory (`RunSpec.observables`).
"""

from __future__ import annotations

import json
import math
import numbers
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, field_validator, model_validator

from chistka import __version__
from chistka.analysis.ensemble import DayProgress, RunSpec, check_day_progress, check_jobs
from chistka.analysis.spread import spread
from chistka.errors import ChistkaError, ScenarioError, closest, read_text
from chistka.outputs import EXPERIMENT, EXPERIMENT_FILE, Output, check_out
from chistka.scenario import Scenario, apply_overrides, format_validation_error, load_scenario
from chistka.scenario.base import StrictModel
from chistka.scenario.whatif import without

OUTCOMES_FILE = "outcomes.csv"
EFFECTS_FILE = "effects.csv"
FIT_FILE = "fit.csv"
"""Each arm's runs against the record: calibration and validation rows inside, seed by seed."""

BASELINE = "baseline"
"""The name of the arm that is the scenario as it stands."""

MAX_SEEDS = 64
"""The most seeds an experiment runs per arm."""

INTERVAL = 0.90
"""The two-sided confidence of the interval of an arm's mean effect."""

EFFECT_COLUMNS = (
    "arm",
    "label",
    "group",
    "outcome",
    "seeds",
    "baseline_mean",
    "arm_mean",
    "arm_low",
    "arm_high",
    "difference",
    "difference_low",
    "difference_high",
    "relative",
    "relative_low",
    "relative_high",
)
"""Columns of effects.csv: the arm's mean and spread over the seeds (`chistka.analysis.spread`),
the mean paired difference from the baseline with its 90% interval, and the same divided by the
baseline's mean."""

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class Arm(StrictModel):
    """One arm: the scenario with some decisions left out and some parameters changed."""

    name: str = Field(..., description="identifier (lower case, digits and '-'); its folder")
    label: str = Field(..., min_length=1, description="how the report names the arm")
    group: str = Field("", description="how the report groups the arms (e.g. centre, periphery)")
    why: str = Field("", description="what the arm takes away, and why it answers the question")
    without: list[str] = Field(
        default_factory=list, description="decisions left out (as `chistka run --without`)"
    )
    set: dict[str, Any] = Field(
        default_factory=dict,
        description="parameters changed for the whole run (as `chistka run --set`)",
    )

    @field_validator("name")
    @classmethod
    def _a_folder_name(cls, value: str) -> str:
        if not _NAME.match(value) or value == BASELINE:
            raise ValueError(
                "must be lower-case letters, digits and '-' (at most 63), and not 'baseline' "
                f"(got {value!r})"
            )
        return value

    @field_validator("label")
    @classmethod
    def _a_visible_label(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name the arm, not be blank")
        return value

    @model_validator(mode="after")
    def _changes_something(self) -> Arm:
        if not self.without and not self.set:
            raise ValueError(f"arm '{self.name}' changes nothing: give `without` or `set`")
        return self


class Header(StrictModel):
    """What the experiment asks, of which scenario, read in which outcomes."""

    name: str = Field(..., description="identifier (lower case, digits and '-')")
    title: str = Field(..., min_length=1)
    question: str = Field(..., min_length=1, description="the question the arms answer")
    scenario: str = Field(..., min_length=1, description="built-in name or a file beside it")
    seeds: int = Field(8, ge=1, le=MAX_SEEDS, description="seeds per arm by default")
    outcomes: list[str] = Field(..., min_length=1, description="observables read in every run")
    note: str = Field("", description="caveats the report shows beside the answer")

    @field_validator("name")
    @classmethod
    def _a_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"must be lower-case letters, digits and '-' (got {value!r})")
        return value

    @field_validator("outcomes")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        repeated = sorted({o for o in value if value.count(o) > 1})
        if repeated:
            raise ValueError(f"an outcome is given twice: {', '.join(repeated)}")
        return value


class Design(StrictModel):
    """An experiment's design file: the header and its arms."""

    experiment: Header
    arms: list[Arm] = Field(..., min_length=1, max_length=32)

    @model_validator(mode="after")
    def _unique_arms(self) -> Design:
        """Each arm's name (its folder) and label (how the pages name it) its own.

        Two arms of one label were one column of the overview, one row of the effects' charts
        and one line of the seeds': the label is refused as the name is,
        also when only case or spacing tells it apart, or when it is the baseline's.
        """
        names: dict[str, int] = {}
        for index, arm in enumerate(self.arms):
            if arm.name in names:
                raise ValueError(
                    f"arms[{index}].name: arm names must be unique (repeated: {arm.name}, as in "
                    f"arms[{names[arm.name]}])"
                )
            names[arm.name] = index
        baseline = f"{self.experiment.scenario} as it stands"
        labels: dict[str, int] = {_label_key(baseline): -1}
        for index, arm in enumerate(self.arms):
            key = _label_key(arm.label)
            if key not in labels:
                labels[key] = index
                continue
            first = labels[key]
            same = f"the baseline's ({baseline!r})" if first < 0 else f"arms[{first}].label's"
            raise ValueError(
                f"arms[{index}].label: arm labels must be unique, the report and the pages name "
                f"each arm by it ({arm.label!r} is {same}); give the arm a label of its own"
            )
        return self


def _label_key(label: str) -> str:
    """A label as a reader tells it from another: without case or runs of spaces."""
    return " ".join(label.split()).casefold()


def _builtin_dir() -> Any:
    return resources.files("chistka.analysis") / "experiments"


def builtin_experiments() -> dict[str, str]:
    """Names of the built-in experiments with their titles."""
    found = {}
    for entry in sorted(_builtin_dir().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            found[entry.name.removesuffix(".toml")] = data.get("experiment", {}).get("title", "")
    return found


class Experiment:
    """A loaded design with each arm's scenario built and checked.

    Attributes:
        design: the design as read.
        ref: how it was named (a built-in name or a file path).
        scenario_ref: the scenario's built-in name or resolved file path (the provenance's).
        scenarios: arm name -> its scenario, the baseline first.
        text: the design file's text, kept in experiment.json.
        changes: parameters changed in the baseline and every arm (a variant of the design, to
            see how its answer depends on a value: `chistka experiment run --set`); an arm's own
            `set` of the same parameter wins.
        fit: the scenario's fitted values replaced by another fit's (`chistka experiment run
            --fits`: a calibration study's trial), set as the fitted scenario sets them, from
            the first day until the timeline changes them; an arm's own `set` wins.
        fit_label: how the report names that fit (e.g. 'trial 12').
    """

    def __init__(
        self,
        design: Design,
        ref: str,
        scenario_ref: str,
        text: str,
        changes: Mapping[str, Any] | None = None,
        fit: Mapping[str, Any] | None = None,
        fit_label: str = "",
    ) -> None:
        self.design = design
        self.ref = ref
        self.scenario_ref = scenario_ref
        self.text = text
        self.changes = dict(changes or {})
        self.fit = dict(fit or {})
        self.fit_label = fit_label
        base = load_scenario(scenario_ref)
        if self.fit:
            base = with_fit(base, self.fit, fit_label)
        if self.changes:
            base = set_for_the_whole_run(base, self.changes, "variant", "experiment variant")
        self.scenarios: dict[str, Scenario] = {BASELINE: base}
        for index, arm in enumerate(design.arms):
            self.scenarios[arm.name] = arm_scenario(base, arm, f"arms[{index}] '{arm.name}'")

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self.design.experiment.name

    @property
    def arms(self) -> list[Arm]:
        """The arms, without the baseline."""
        return list(self.design.arms)

    def label(self, arm: str) -> str:
        """How the report names an arm (the baseline: 'as it stands')."""
        if arm == BASELINE:
            return f"{self.design.experiment.scenario} as it stands"
        return next(a.label for a in self.design.arms if a.name == arm)

    def group(self, arm: str) -> str:
        """The arm's group ('' for the baseline)."""
        return "" if arm == BASELINE else next(a.group for a in self.design.arms if a.name == arm)


def load_experiment(
    ref: str | Path,
    changes: Mapping[str, Any] | None = None,
    fit: Mapping[str, Any] | None = None,
    fit_label: str = "",
) -> Experiment:
    """An experiment by built-in name or from a TOML design file, checked against its scenario.

    `changes` (parameter path -> value) are made in the baseline and every arm, and `fit`
    replaces the scenario's fitted values (`Experiment`).

    Raises:
        ChistkaError: a missing or malformed file, a field the design does not allow (the
            message names it), a decision or parameter the scenario does not have, or a
            parameter the arm sets that the timeline changes again.
    """
    path = Path(ref)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ChistkaError(f"experiment file not found: {path}")
        text = read_text(path, "experiment file", max_bytes=1 << 20)
        origin, folder = f"'{path}'", path.parent
    else:
        names = builtin_experiments()
        if str(ref) not in names:
            match = closest(str(ref), list(names))
            hint = f" Did you mean '{match}'?" if match else ""
            raise ChistkaError(
                f"no built-in experiment or file named '{ref}'.{hint} "
                f"Built-in experiments: {', '.join(names)}"
            )
        text = (_builtin_dir() / f"{ref}.toml").read_text(encoding="utf-8")
        origin, folder = f"'{ref}' (built-in)", None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ChistkaError(f"experiment {origin} is not valid TOML: {exc}") from None
    try:
        design = Design.model_validate(data)
    except ValidationError as exc:
        message = format_validation_error(exc, origin).replace(
            "invalid scenario", "invalid experiment"
        )
        raise ChistkaError(message) from None
    scenario_ref = design.experiment.scenario
    if folder is not None and scenario_ref.endswith(".toml"):
        scenario_ref = str((folder / scenario_ref).resolve())
    try:
        return Experiment(design, str(ref), scenario_ref, text, changes, fit, fit_label)
    except ScenarioError as exc:
        raise ChistkaError(f"experiment {origin}: {exc}") from None


def timeline_settings(scenario: Scenario) -> dict[str, list[str]]:
    """Parameter path -> the days after the first on which the scenario's timeline sets it.

    An event of the first day does not count: a value set for the whole run replaces what it
    sets (`apply_overrides`), as with the fitted values calibrate writes into fitted.toml.
    """
    days: dict[str, list[str]] = {}
    for event in scenario.events:
        if event.date == scenario.scenario.start:
            continue
        for path in event.set:
            days.setdefault(path, []).append(str(event.date))
    return days


def arm_scenario(base: Scenario, arm: Arm, where: str) -> Scenario:
    """The scenario of one arm: `base` without its decisions, with its parameters set.

    Raises:
        ScenarioError: an unknown decision or parameter, a value the parameter does not allow,
            or a parameter the remaining timeline sets again on some day.
    """
    changed = without(base, arm.without, where=f"{where}: without") if arm.without else base
    if not arm.set:
        return changed
    return set_for_the_whole_run(changed, arm.set, f"{where}: set", "experiment arm")


def set_for_the_whole_run(
    scenario: Scenario, changes: Mapping[str, Any], where: str, what: str
) -> Scenario:
    """The scenario with `changes` made for the whole run, said in its description.

    Raises:
        ScenarioError: an unknown parameter, a value it does not allow, or a parameter the
            timeline sets again on some day (the change would not hold the whole run).
    """
    settings = timeline_settings(scenario)
    for path in changes:
        if path in settings:
            days = ", ".join(settings[path])
            raise ScenarioError(
                f"{where} '{path}': the timeline sets it again on {days}, so the value would "
                "not hold the whole run; leave "
                + " and ".join(f"'events.{d}'" for d in settings[path])
                + " out with `without`, or change another parameter"
            )
    changed = apply_overrides(scenario, dict(changes), where=where)
    note = f"[{what}: " + ", ".join(f"{k}={shown_value(v)}" for k, v in changes.items()) + "]"
    data = changed.model_dump(mode="json")
    data["scenario"]["description"] = f"{changed.scenario.description} {note}".strip()
    from chistka.scenario import scenario_from_dict

    return scenario_from_dict(data, where)


def with_fit(scenario: Scenario, fit: Mapping[str, Any], label: str) -> Scenario:
    """The scenario with another fit's values in place of its fitted ones, said in its description.

    The values are set as `chistka calibrate` writes them into fitted.toml (`as_start_event`):
    the scenario's own, and again by an event of the first day noted as calibrate's, whose
    source names the trial; a later timeline event that sets one of them still does, as in the
    fit. A run then lists them as fitted (`scenario.fitted.calibrated_here`): written on their
    lines alone, they read as the built-in's fit changed, not counted (QA 45).

    Raises:
        ScenarioError: an unknown parameter or a value it does not allow.
    """
    from chistka.analysis.free import as_start_event
    from chistka.scenario.fitted import FITTED_NOTE

    source = f"chistka calibrate: the study's {label}, run by experiment --fits"
    changed = as_start_event(scenario, dict(fit), note=FITTED_NOTE, source=source)
    data = changed.model_dump(mode="json")
    data["scenario"]["description"] = f"{changed.scenario.description} [fit: {label}]".strip()
    from chistka.scenario import scenario_from_dict

    return scenario_from_dict(data, "fit")


def shown_value(value: Any) -> str:
    """A parameter value as the command line writes it (true, 0.5, 1940-12-31)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def seed_list(experiment: Experiment, seeds: int | Sequence[int] | None) -> list[int]:
    """The seeds every arm runs: `seeds` (or the design's) counted up from the scenario's seed.

    A list of seeds (`--seeds A-B`, `chistka.commands.options.parse_seeds`) is those seeds.

    Raises:
        ChistkaError: fewer than 1 or more than `MAX_SEEDS` seeds, or a list with a seed below 0
            or repeated.
    """
    if seeds is not None and not isinstance(seeds, numbers.Integral):
        chosen = [int(seed) for seed in seeds]
        if not 1 <= len(chosen) <= MAX_SEEDS:
            raise ChistkaError(f"--seeds: 1 to {MAX_SEEDS} seeds per arm (got {len(chosen)})")
        if min(chosen) < 0 or len(set(chosen)) != len(chosen):
            raise ChistkaError(f"--seeds: distinct seeds from 0 up (got {chosen})")
        return chosen
    count = experiment.design.experiment.seeds if seeds is None else seeds
    if isinstance(count, bool) or not 1 <= count <= MAX_SEEDS:
        raise ChistkaError(f"--seeds: must be in 1..{MAX_SEEDS} (got {count})")
    first = experiment.scenarios[BASELINE].scenario.seed
    return [first + i for i in range(count)]


def plan_document(experiment: Experiment, seeds: Sequence[int], scale: float | None) -> dict:
    """What experiment.json holds: the design (its text and parsed), the seeds and the scale."""
    return {
        "format": 1,
        "package_version": __version__,
        "experiment": experiment.name,
        "ref": experiment.ref,
        "scenario_ref": experiment.scenario_ref,
        "design": experiment.design.model_dump(mode="json"),
        "design_text": experiment.text,
        "arms": [BASELINE, *(arm.name for arm in experiment.arms)],
        "set": {key: shown_value(value) for key, value in experiment.changes.items()},
        **(
            {
                "fit": {key: shown_value(value) for key, value in experiment.fit.items()},
                "fit_label": experiment.fit_label,
            }
            if experiment.fit
            else {}
        ),
        "seeds": list(seeds),
        "scale": scale,
    }


PLAN_KEYS = ("design", "set", "vary", "fit", "fits", "seeds", "scale", "scenario_ref")
"""What must match for an experiment's (or a set of variants') folder to be resumed."""


def _same_plan(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [
        k
        for k in PLAN_KEYS
        if json.dumps(old.get(k), sort_keys=True) != json.dumps(new.get(k), sort_keys=True)
    ]


def check_target(
    out_dir: Path,
    document: dict[str, Any],
    resume: bool,
    output: Output = EXPERIMENT,
    force: bool = False,
) -> None:
    """Refuse an output folder the experiment must not write into (before anything runs).

    The folder is checked as every command's (`outputs.check_out`: with `resume`, one holding
    this command's output is finished); an experiment resumed must be this one.

    Raises:
        ChistkaError: the folder is refused by `check_out`, or holds another experiment.
    """
    check_out(out_dir, output, force=force, resume=resume)
    plan_file = output.keys[0]
    plan_path = out_dir / plan_file
    if not resume or not plan_path.is_file():
        return
    try:
        old = json.loads(plan_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ChistkaError(f"--resume: cannot read {plan_path}: {exc}") from None
    differs = _same_plan(old, document)
    if differs:
        raise ChistkaError(
            f"--resume: {out_dir} holds a different experiment ({', '.join(differs)} differ from "
            f"its {plan_file}); give the same design, --seeds, --set, --vary, --fits and "
            "--scale, or another --out"
        )


ExperimentProgress = Callable[[str, int, int], None]
"""Called as progress(arm, runs_done, runs_total) as the runs of the arms finish."""

ExperimentDayProgress = Callable[[str, int, int, int], None]
"""Called as day_progress(arm, seed, days_done, days_total) as the day loop of the run under way
goes (an experiment's run is named by its arm and seed, as in its outcomes)."""


def run_experiment(
    experiment: Experiment,
    out_dir: str | Path,
    *,
    seeds: int | Sequence[int] | None = None,
    scale: float | None = None,
    n_jobs: int = -1,
    resume: bool = False,
    force: bool = False,
    progress: ExperimentProgress | None = None,
    day_progress: ExperimentDayProgress | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every arm (the baseline first) at the same seeds; write and return the tables.

    Each arm is an ensemble (`chistka.analysis.ensemble.run_ensemble`) in ``out_dir/ARM``, its
    runs computing the design's outcomes in their workers. A stopped experiment is finished
    with `resume`: complete runs are kept; with `force` it goes beside files chistka did not
    write (`check_target`). `day_progress` (see `ExperimentDayProgress`) gives
    the day of the run under way; it needs ``n_jobs=1``, the runs done in this process.

    Returns:
        (outcomes, effects): every arm, seed and outcome; each arm's effect on each outcome
        (`effects`).

    Raises:
        ChistkaError: a bad number of seeds, scale or jobs, or an output folder it must not
            write into (`check_target`); nothing is written then.
        ValueError: `day_progress` with ``n_jobs`` other than 1 (`check_day_progress`); nothing
            is written then.
    """
    from chistka.analysis.ensemble import _write_json_atomic, plan, run_ensemble

    out_dir = Path(out_dir).expanduser()
    seed_values = seed_list(experiment, seeds)
    if scale is not None and not 0 < scale <= 1:
        raise ChistkaError(f"population.scale (--scale): must be in (0, 1] (got {scale})")
    check_jobs(n_jobs)
    check_day_progress(day_progress, n_jobs)
    document = plan_document(experiment, seed_values, scale)
    check_target(out_dir, document, resume, force=force)
    out_dir = out_dir.resolve()
    outcomes = experiment.design.experiment.outcomes
    specs = {
        arm: plan(
            scenario,
            seed_values,
            scale=scale,
            name=experiment.scenario_ref,
            observables=[o for o in outcomes if in_arm(o, scenario)],
        )
        for arm, scenario in experiment.scenarios.items()
    }
    _write_json_atomic(out_dir / EXPERIMENT_FILE, document)
    total = sum(len(s) for s in specs.values())
    before = 0
    for arm, arm_specs in specs.items():

        def advance(
            finished: int, _total: int, _run: str | None, arm: str = arm, before: int = before
        ) -> None:
            if progress is not None:
                progress(arm, before + finished, total)

        run_ensemble(
            arm_specs,
            out_dir / arm,
            n_jobs=n_jobs,
            resume=(out_dir / arm / "plan.json").is_file(),
            progress=advance,
            day_progress=None if day_progress is None else _arm_days(day_progress, arm, arm_specs),
        )
        before += len(arm_specs)
    table = read_outcomes(out_dir)
    effects = effect_table(experiment, table)
    table.to_csv(out_dir / OUTCOMES_FILE, index=False)
    effects.to_csv(out_dir / EFFECTS_FILE, index=False)
    read_fit(out_dir).to_csv(out_dir / FIT_FILE, index=False)
    return table, effects


def _arm_days(
    day_progress: ExperimentDayProgress, arm: str, specs: Sequence[RunSpec]
) -> DayProgress:
    """An arm's ensemble's day progress (by run id) as the experiment's (by arm and seed)."""
    seed_of = {spec.run_id: spec.seed for spec in specs}

    def days(run_id: str, done: int, total: int) -> None:
        day_progress(arm, seed_of[run_id], done, total)

    return days


def read_fit(out_dir: Path) -> pd.DataFrame:
    """Each arm's runs against the record (their summary.json), seed by seed.

    Only the baseline is meant to fit: the arms are what-ifs. With a variant the baseline's fit
    says whether the variant is still a fit of the calibration rows (nothing is refitted).
    Columns: arm, run_id, seed, then rows and inside for calibration and for validation.
    """
    from chistka.analysis.ensemble import read_plan

    document = read_document(out_dir)
    rows = []
    for arm in document["arms"]:
        plan = read_plan(out_dir / arm) or {"runs": []}
        for run in plan["runs"]:
            summary = json.loads(
                (out_dir / arm / run["run_id"] / "summary.json").read_text(encoding="utf-8")
            )
            fit = summary.get("fit", {})
            row = {"arm": arm, "run_id": run["run_id"], "seed": run["seed"]}
            for role in ("calibration", "validation"):
                row[f"{role}_rows"] = fit.get(role, {}).get("rows", 0)
                row[f"{role}_inside"] = fit.get(role, {}).get("inside", 0)
            rows.append(row)
    return pd.DataFrame(rows)


def in_arm(outcome: str, scenario: Scenario) -> bool:
    """Whether an arm's runs can give an outcome: not one of an operation or a campaign it left out.

    An arm without Order 00447 has no `order_00447_shot:...` and no `operation_sentenced:` of
    it; such an outcome is missing (NaN) in that arm, not zero, and has no effect.
    """
    from chistka.analysis.observables import ARGUMENTS, ORDER_00447, check_name

    kind = check_name(outcome)
    argument = outcome.partition(":")[2]
    operations = [o.name for o in scenario.operations]
    if kind.startswith("order_00447"):
        return ORDER_00447 in operations
    if ARGUMENTS[kind] == "OP":
        if argument == "all_national":
            return any(o.kind == "national" for o in scenario.operations)
        return argument in operations
    if ARGUMENTS[kind] in ("CAMPAIGN", "CAMPAIGN/ORIGIN"):
        return argument.partition("/")[0] in [c.name for c in scenario.campaigns]
    return True


def read_outcomes(out_dir: Path) -> pd.DataFrame:
    """Every arm's runs' outcomes: columns arm, run_id, seed, outcome, value.

    Raises:
        ChistkaError: no experiment.json, or an arm's run without its outcomes.
    """
    from chistka.analysis.ensemble import OBSERVABLES_FILE, read_plan

    document = read_document(out_dir)
    rows = []
    for arm in document["arms"]:
        plan = read_plan(out_dir / arm)
        if plan is None:
            raise ChistkaError(f"{out_dir / arm}: the arm '{arm}' has not run (no plan.json)")
        for run in plan["runs"]:
            path = out_dir / arm / run["run_id"] / OBSERVABLES_FILE
            if not path.is_file():
                raise ChistkaError(f"{path}: missing; finish the experiment with --resume")
            values = dict(pd.read_csv(path).itertuples(index=False, name=None))
            for outcome in document["design"]["experiment"]["outcomes"]:
                rows.append(
                    {
                        "arm": arm,
                        "run_id": run["run_id"],
                        "seed": run["seed"],
                        "outcome": outcome,
                        "value": float(values.get(outcome, math.nan)),
                    }
                )
    return pd.DataFrame(rows, columns=["arm", "run_id", "seed", "outcome", "value"])


def read_document(out_dir: Path) -> dict[str, Any]:
    """An experiment folder's experiment.json.

    Raises:
        ChistkaError: the folder holds no experiment.
    """
    path = Path(out_dir) / EXPERIMENT_FILE
    if not path.is_file():
        raise ChistkaError(f"{out_dir}: not an experiment's folder (no {EXPERIMENT_FILE})")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ChistkaError(f"cannot read {path}: {exc}") from None


def paired_effect(
    base: np.ndarray, arm: np.ndarray, confidence: float = INTERVAL
) -> tuple[float, float, float, int]:
    """Mean of arm - base over the seeds both have, and its interval (Student's t; `INTERVAL`).

    Returns (mean, low, high, seeds); the bounds are NaN with fewer than two seeds, all NaN
    with none.
    """
    from scipy.stats import t as student_t

    both = ~(np.isnan(base) | np.isnan(arm))
    paired = arm[both] - base[both]
    n = len(paired)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(paired.mean())
    if n == 1:
        return mean, math.nan, math.nan, 1
    half = (
        float(student_t.ppf(0.5 + confidence / 2, n - 1)) * float(paired.std(ddof=1)) / math.sqrt(n)
    )
    return mean, mean - half, mean + half, n


def seed_spread(values: np.ndarray) -> tuple[float, float, float]:
    """The mean over the seeds with a value and its spread (`chistka.analysis.spread`).

    The spread is the lowest and highest value under 20 seeds, else the 5-95% range; all NaN
    with no value.
    """
    values = values[~np.isnan(values)]
    if not len(values):
        return math.nan, math.nan, math.nan
    low, high = spread(values)
    return float(values.mean()), low, high


def effect_table(experiment: Experiment, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Each arm's effect on each outcome against the baseline, paired by seed (`EFFECT_COLUMNS`)."""
    rows = []
    wide = outcomes.pivot_table(
        index=["outcome", "seed"], columns="arm", values="value", dropna=False
    )
    for outcome in experiment.design.experiment.outcomes:
        if outcome not in wide.index.get_level_values(0):
            continue
        frame = wide.loc[outcome]
        base = frame[BASELINE].to_numpy(dtype=np.float64)
        base_mean = float(np.nanmean(base)) if np.any(~np.isnan(base)) else math.nan
        for arm in [BASELINE, *(a.name for a in experiment.arms)]:
            values = (
                frame[arm].to_numpy(dtype=np.float64)
                if arm in frame
                else np.full(len(base), math.nan)
            )
            mean, low, high = seed_spread(values)
            if arm == BASELINE:
                difference = (math.nan, math.nan, math.nan, int(np.sum(~np.isnan(base))))
            else:
                difference = paired_effect(base, values)
            scale = base_mean if base_mean else math.nan
            rows.append(
                {
                    "arm": arm,
                    "label": experiment.label(arm),
                    "group": experiment.group(arm),
                    "outcome": outcome,
                    "seeds": difference[3],
                    "baseline_mean": base_mean,
                    "arm_mean": mean,
                    "arm_low": low,
                    "arm_high": high,
                    "difference": difference[0],
                    "difference_low": difference[1],
                    "difference_high": difference[2],
                    "relative": difference[0] / scale,
                    "relative_low": difference[1] / scale,
                    "relative_high": difference[2] / scale,
                }
            )
    return pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))
