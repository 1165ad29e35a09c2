"""Global sensitivity analysis of observables to the free parameters, with SALib.

The design points are drawn by SALib over the free parameters' ranges (log-scaled parameters
are sampled uniformly in their logarithm) and each point is run with the same seed (common
random numbers). The runs are chaotic, so a point's change moves the observables by about their
seed-to-seed spread even with one seed: the scenario's own values are also run at a few seeds
(`noise_seeds`), and each index is compared with what that spread alone would give (`noise`,
`above_noise`). Two methods:

- ``morris`` (elementary effects; screening): ``n`` trajectories, ``n * (k + 1)`` runs for ``k``
  parameters; reports mu_star (mean absolute elementary effect, with its bootstrap confidence
  interval) and sigma (their spread: interactions and non-linearity);
- ``sobol`` (variance decomposition): ``n`` base samples (a power of 2), ``n * (k + 2)`` runs;
  reports the first-order (S1) and total (ST) indices with their confidence intervals.

The parameters are applied as in calibration: a policy event on the scenario's first day.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chistka.analysis.comparison import check_modelled
from chistka.analysis.ensemble import MAX_RUNS, check_jobs
from chistka.analysis.free import (
    FreeParameter,
    as_start_event,
    default_free_file,
    find_free_file,
    load_free,
    start_value,
)
from chistka.analysis.observables import ObservableOutOfRun, UnknownObservable, check_name
from chistka.errors import ChistkaError
from chistka.scenario import Scenario, load_scenario

METHODS = ("morris", "sobol")
"""Methods `sensitivity` knows."""

MORRIS_LEVELS = 4
"""Levels of the Morris grid."""

INDICES = {
    "morris": ("mu_star", "mu_star_conf", "sigma", "mu"),
    "sobol": ("S1", "S1_conf", "ST", "ST_conf"),
}
"""Columns of the table per method."""

RANK_BY = {"morris": "mu_star", "sobol": "ST"}
"""The index that ranks the parameters of each method."""

NOISE_SEEDS = 4
"""Runs of the scenario's own values, at seeds seed..seed+3, that measure the seed noise."""

MORRIS_STEP = MORRIS_LEVELS / (2 * (MORRIS_LEVELS - 1))
"""SALib's Morris step, as a share of a parameter's range: an elementary effect is the
observable's change divided by it."""

EXPLAINED = {
    "morris": "mu_star: the mean absolute change of the observable when a parameter moves over "
    "its whole range searched (in the logarithm for a log range), in the observable's own unit "
    "(a share as a fraction: 0.1 is 10 points); mu_star_conf: the half-width of its 95% "
    "bootstrap interval; sigma: the spread of those changes (interactions, curvature); mu: "
    "their signed mean (the direction). Rank 1 has the largest mu_star.",
    "sobol": "S1: the share of the observable's variance over the design that a parameter "
    "explains alone; ST: the share it explains with its interactions (total); S1_conf and "
    "ST_conf: the half-widths of their 95% bootstrap intervals. Rank 1 has the largest ST.",
}
"""What each method's indices mean, for the page and the command's output."""

TOLD_APART = {True: "yes", False: "no: the intervals overlap (more points: --n)"}
"""What "what drives each observable" says of `drivers`' told_apart, in the command's output
and on the page alike."""

FEWEST_POINTS = {"morris": 10, "sobol": 64}
"""Fewest trajectories (Morris) or base samples (Sobol) whose indices come without a warning.

Morris: 10 trajectories is the low end of the 10 to 20 that Campolongo, Cariboni and Saltelli
(2007) advise, and the command's default; with fewer, each parameter's mu_star is the mean of
that many elementary effects, and its bootstrap interval is drawn from as few, so a ranking
"told apart" may be the draws' (QA 45: --n 2 said "told apart: yes" with no warning). Sobol:
the bootstrap intervals of S1 and ST from fewer than 64 base samples are as wide as the indices
themselves for a few parameters (Saltelli et al. 2010 use hundreds to thousands).
"""

POINT_WORDS = {"morris": "trajectories", "sobol": "base samples"}


def small_sample_warning(result: SensitivityResult) -> str | None:
    """A warning that the indices rest on too few points (`FEWEST_POINTS`).

    In the words of calibrate's warning of importances over few trials; None where there are
    enough, or where `n` was not recorded.
    """
    fewest = FEWEST_POINTS.get(result.method, 0)
    if not result.n or result.n >= fewest:
        return None
    return (
        f"the indices rest on {result.n} {POINT_WORDS[result.method]} (--n), fewer than "
        f"{fewest}: their intervals, and whether they tell the parameters apart, follow the "
        "few draws more than the parameters' effects; read the ranking as a hint, not a "
        "finding"
    )


@dataclass
class SensitivityResult:
    """The outcome of `sensitivity`.

    Attributes:
        table: one row per observable and parameter: observable, parameter, section (the
            mechanism), the method's indices (see `INDICES`) and rank (1 = most influential).
        method: 'morris' or 'sobol'.
        free: the free parameters.
        observables: the observables.
        X: the design points (one row per run, parameter values as run).
        Y: the observables of each run (one column per observable).
        scenario: the scenario analysed.
        seed: the run seed of every point.
        scale: agents per represented person (None: the scenario's own).
        noise_sd: per observable, the standard deviation over `noise_seeds` runs of the
            scenario's own values (NaN where fewer than two were run).
        noise_seeds: how many such runs.
        n: the Morris trajectories or the Sobol base samples (0: not recorded).
        scenario_ref: the scenario as given (a name or a file).
        free_file: the free-parameter file whose ranges were drawn from ('' if not known).
    """

    table: pd.DataFrame
    method: str
    free: list[FreeParameter]
    observables: list[str]
    X: np.ndarray
    Y: np.ndarray
    scenario: Scenario
    seed: int
    scale: float | None = None
    noise_sd: np.ndarray | None = None
    noise_seeds: int = 0
    n: int = 0
    scenario_ref: str = ""
    free_file: str = ""


def _problem(free: Sequence[FreeParameter]) -> dict[str, Any]:
    """The SALib problem: log-scaled parameters are sampled in their natural logarithm."""
    return {
        "num_vars": len(free),
        "names": [p.path for p in free],
        "bounds": [[math.log(p.low), math.log(p.high)] if p.log else [p.low, p.high] for p in free],
    }


def _values(free: Sequence[FreeParameter], row: np.ndarray) -> dict[str, float | int]:
    """Parameter values of a design point (back from log scale, rounded for whole numbers)."""
    return {
        p.path: p.value(min(max(math.exp(x) if p.log else float(x), p.low), p.high))
        for p, x in zip(free, row, strict=True)
    }


def run_point(
    scenario: Scenario,
    params: dict[str, Any],
    observables: Sequence[str],
    seed: int,
    scale: float | None,
    name: str,
) -> list[float]:
    """The observables of one run with the parameters set on the first day (NaN outside it)."""
    from chistka.analysis.observables import compute
    from chistka.engine import Sim

    results = Sim(as_start_event(scenario, params), seed=seed, scale=scale, name=name).run()
    values = []
    for observable in observables:
        try:
            values.append(float(compute(results, observable)))
        except ObservableOutOfRun:
            values.append(math.nan)
    return values


def check_design(
    scenario: Scenario,
    scenario_ref: str | Path,
    observables: Sequence[str],
    *,
    method: str,
    n: int,
    noise_seeds: int,
    n_jobs: int,
    free_path: str | Path | None,
) -> list[FreeParameter]:
    """The free parameters an analysis varies, once what it cannot run is refused.

    `sensitivity` calls it, and the command before its progress bar, so that a refusal is one
    message before any run (a bar erased on a refusal left an empty line above it, QA 44).

    Raises:
        ChistkaError: an unknown method or observable, an observable the scenario does not
            model, a bad n, --noise-seeds or --jobs, a bad free-parameter file, or more runs
            than `MAX_RUNS`.
    """
    if method not in METHODS:
        raise ChistkaError(f"unknown method '{method}'; allowed: {', '.join(METHODS)}")
    if not observables:
        raise ChistkaError("give at least one observable (--observable NAME)")
    for name in observables:
        try:
            check_name(name)
        except UnknownObservable as exc:
            raise ChistkaError(f"--observable: {exc}") from None
    if method == "morris" and n < 2:
        raise ChistkaError(f"morris needs n >= 2 trajectories (got {n})")
    if method == "sobol" and (n < 2 or n & (n - 1)):
        raise ChistkaError(f"sobol needs n, the base samples, to be a power of 2 >= 2 (got {n})")
    if noise_seeds == 1 or noise_seeds < 0:
        raise ChistkaError(
            f"--noise-seeds must be 0 (no noise reference) or at least 2 (got {noise_seeds})"
        )
    check_jobs(n_jobs)
    for name in observables:
        check_modelled(name, scenario, "--observable")
    free = load_free(free_path, scenario, scenario_ref)
    runs = n * (len(free) + 1) if method == "morris" else n * (len(free) + 2)
    if runs > MAX_RUNS:
        raise ChistkaError(
            f"--n {n} lays out {runs:,} runs of {len(free)} free parameters; at most {MAX_RUNS:,}"
        )
    return free


def sensitivity(
    scenario_ref: str | Path,
    observables: Sequence[str],
    *,
    method: str = "morris",
    n: int = 10,
    seed: int = 1,
    scale: float | None = None,
    free_path: str | Path | None = None,
    n_jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    noise_seeds: int = NOISE_SEEDS,
) -> SensitivityResult:
    """Sensitivity indices of the observables to the free parameters (see the module).

    Args:
        scenario_ref: a built-in scenario name or a scenario file.
        observables: names of the observable catalogue, e.g. 'expelled_share:1921'.
        method: 'morris' or 'sobol'.
        n: Morris trajectories, or Sobol base samples (a power of 2).
        seed: the run seed of every design point, and the seed of the sampling.
        scale: agents per represented person, overriding the scenario's.
        free_path: the free-parameter file (default: see `chistka.analysis.free.load_free`).
        n_jobs: local processes for the runs (joblib; -1: one per core).
        progress: called as progress(runs_done, runs_total) before the first run and after
            each.
        noise_seeds: runs of the scenario's own values, at seeds seed, seed+1, ..., that
            measure the seed noise each index is compared with (0: none; else at least 2).

    Raises:
        ChistkaError: an unknown method or observable, a bad n, a bad free-parameter file, or
            an observable the scenario cannot compute.
    """
    from joblib import Parallel, delayed

    observables = list(dict.fromkeys(observables))
    scenario = load_scenario(scenario_ref)
    free = check_design(
        scenario,
        scenario_ref,
        observables,
        method=method,
        n=n,
        noise_seeds=noise_seeds,
        n_jobs=n_jobs,
        free_path=free_path,
    )
    problem = _problem(free)
    if method == "morris":
        from SALib.sample import morris as morris_sample

        X = morris_sample.sample(problem, n, num_levels=MORRIS_LEVELS, seed=seed)
    else:
        from SALib.sample import sobol as sobol_sample

        X = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
    points = [_values(free, row) for row in X]
    own = {p.path: start_value(scenario, p.path) for p in free}
    jobs = [(params, seed) for params in points]
    jobs += [(own, seed + k) for k in range(noise_seeds)]
    runs = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(run_point)(scenario, params, observables, run_seed, scale, str(scenario_ref))
        for params, run_seed in jobs
    )
    rows = []
    if progress is not None:
        progress(0, len(jobs))
    for row in runs:
        rows.append(row)
        if progress is not None:
            progress(len(rows), len(jobs))
    everything = np.asarray(rows, dtype=np.float64).reshape(len(jobs), len(observables))
    Y, own_runs = everything[: len(points)], everything[len(points) :]
    noise_sd = (
        np.std(own_runs, axis=0, ddof=1) if noise_seeds >= 2 else np.full(len(observables), np.nan)
    )
    for j, name in enumerate(observables):
        if np.isnan(Y[:, j]).any():
            raise ChistkaError(
                f"observable '{name}' cannot be computed from the runs of '{scenario_ref}' "
                f"({scenario.scenario.start} to {scenario.scenario.end})"
            )
    frames = []
    for j, name in enumerate(observables):
        if method == "morris":
            from SALib.analyze import morris as morris_analyze

            found = morris_analyze.analyze(
                problem, X, Y[:, j], num_levels=MORRIS_LEVELS, seed=seed, print_to_console=False
            )
        else:
            from SALib.analyze import sobol as sobol_analyze

            found = sobol_analyze.analyze(
                problem, Y[:, j], calc_second_order=False, seed=seed, print_to_console=False
            )
        frame = pd.DataFrame(
            {column: np.asarray(found[column], dtype=np.float64) for column in INDICES[method]}
        )
        frame.insert(0, "section", [p.section for p in free])
        frame.insert(0, "parameter", [p.path for p in free])
        frame.insert(0, "observable", name)
        frame["rank"] = (
            frame[RANK_BY[method]].rank(ascending=False, method="min", na_option="bottom")
        ).astype(int)
        noise = noise_level(method, float(noise_sd[j]), Y[:, j])
        index = RANK_BY[method]
        frame["noise"] = noise
        frame["above_noise"] = (
            None if math.isnan(noise) else (frame[index] - frame[f"{index}_conf"]) > noise
        )
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    X_run = np.array([[point[p.path] for p in free] for point in points], dtype=np.float64)
    return SensitivityResult(
        table,
        method,
        free,
        observables,
        X_run,
        Y,
        scenario,
        seed,
        scale,
        noise_sd,
        noise_seeds,
        n=n,
        scenario_ref=str(scenario_ref),
        free_file=free_file_name(scenario_ref, scenario, free_path),
    )


def analysed_files(scenario_ref: str, free_file: str) -> str:
    """The files an analysis read, as its page and progress bar say them ('' if not known).

    "Scenario cal/fitted.toml; free parameters from chistka's own great-terror.toml." The page
    said only the scenario's name (QA 45), the progress bar only the scenario (QA 46).
    """
    if not scenario_ref:
        return ""
    return (
        f"Scenario {scenario_ref}"
        + (f"; free parameters from {free_file}" if free_file else "")
        + "."
    )


def free_file_name(
    scenario_ref: str | Path, scenario: Scenario, free_path: str | Path | None
) -> str:
    """The free-parameter file an analysis draws from, as its page and progress bar name it.

    The package's own file by its name, not its place in the installation ("chistka's own
    great-terror.toml"); '' where there is none.
    """
    try:
        given = free_path if free_path is not None else find_free_file(scenario_ref, scenario)
    except ChistkaError:
        return ""
    shipped = free_path is None and given == default_free_file(scenario.scenario.name)
    return f"chistka's own {Path(given).name}" if shipped else str(given)


def noise_level(method: str, sd: float, design: np.ndarray) -> float:
    """What the seed noise alone gives the ranking index (mu_star or ST) of a parameter.

    Morris: an elementary effect is the change between two runs over the step, so noise of
    standard deviation `sd` in each run gives a mean absolute effect of 2 sd / (sqrt(pi) step).
    Sobol: noise adds its share of the design's variance (sd^2 / var) to every total index.
    NaN where the noise was not measured.
    """
    if math.isnan(sd):
        return math.nan
    if method == "morris":
        return 2 * sd / (math.sqrt(math.pi) * MORRIS_STEP)
    variance = float(np.var(design, ddof=1))
    return sd**2 / variance if variance > 0 else math.inf


def index_text(value: float) -> str:
    """An index or effect as the tables write it: counts with separators, never 2.643e+05.

    Morris's mu_star and sigma are in the observable's own unit (persons, up to millions);
    Sobol's indices are shares of a variance.
    """
    if value is None or math.isnan(value):
        return "-"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def above_noise_text(value: bool | None) -> str:
    """Whether an index is above the seed noise, in words ("-" where no noise was measured)."""
    return {True: "yes", False: "no"}.get(value, "-")


def drivers(result: SensitivityResult) -> pd.DataFrame:
    """Per observable: the most influential parameter, its mechanism and its index.

    `told_apart` says whether the top's 95% interval lies above the next one's: with few design
    points the intervals overlap and the ranking between the two is not resolved (at n=2
    Sobol named one winner and Morris the other). `next` names the runner-up with its index;
    `next_parameter` and `next_value` are its name and index alone ("" and NaN where there is
    none).
    """
    index = RANK_BY[result.method]
    conf = f"{index}_conf"
    rows = []
    for name, group in result.table.groupby("observable", sort=False):
        ranked = group.sort_values(index, ascending=False, na_position="last")
        top = ranked.iloc[0]
        runner = ranked.iloc[1] if len(ranked) > 1 else None
        rows.append(
            {
                "observable": name,
                "mechanism": top["section"],
                "parameter": top["parameter"],
                index: float(top[index]),
                "next": (
                    ""
                    if runner is None
                    else f"{runner['parameter']} ({index} {index_text(runner[index])})"
                ),
                "next_parameter": "" if runner is None else runner["parameter"],
                "next_value": math.nan if runner is None else float(runner[index]),
                "told_apart": runner is None
                or bool(top[index] - top[conf] > runner[index] + runner[conf]),
            }
        )
    return pd.DataFrame(rows)
