"""Ensembles: many runs of one scenario over seeds and parameter values, run in parallel.

`plan` lays out the runs: the cartesian product of the parameter values (each product is a
*parameter set*, ``p000``, ``p001``, ...) times the seeds (``s001``, ``s002``, ...), every run
with a stable id such as ``p000-s001``. The same seeds are used for every parameter set (common
random numbers), so that differences between sets are not seed noise.

`run_ensemble` runs them on all local cores with joblib (loky processes by default), or on the
workers of an existing Dask cluster (submitted through its dask.distributed client), and writes
each run into its own directory of the output directory (atomically, by
`chistka.analysis.comparison.save_run`), with a ``plan.json`` at the top that records the
scenario and the runs. A run depends only on its scenario, parameters and seed, so the results
are the same whether the runs are done one after the other, in local processes or on a cluster.
A sweep that was stopped can be resumed: complete runs are kept, the others run again.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import math
import numbers
import os
import re
import shutil
import socket
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chistka import __version__
from chistka.errors import ChistkaError
from chistka.outputs import PLAN_FILE, SWEEP, check_out
from chistka.scenario import Scenario, apply_overrides, load_scenario

PLAN_FORMAT = 1
"""Version of the layout of plan.json."""

OBSERVABLES_FILE = "observables.csv"
"""A run's values of the observables its spec asked for (observable, value; empty: out of run)."""

COMPLETE_MARKER = "summary.json"
"""A run directory holding this file is complete (runs are written atomically)."""

DASK_CONNECT_TIMEOUT_S = 30
"""How long to try to reach a Dask scheduler."""

DASK_WAIT_FOR_WORKERS_S = 120
"""How long to wait for a Dask cluster without workers to get some before giving up."""

SweepProgress = Callable[[int, int, "str | None"], None]
"""Called as progress(runs_done, runs_total, run_id): once before the first run with the runs
already complete (run_id None), then after each finished run with its id."""

DayProgress = Callable[[str, int, int], None]
"""Called as day_progress(run_id, days_done, days_total) while a run's day loop goes (every 30
days and on its last day, as `chistka.engine.Sim.run`'s progress), for a run done in this
process."""

_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?:tmp|old)-[^/]*$")
"""Temporary directories that `atomic_directory` leaves behind when a process is killed."""


@dataclass(frozen=True)
class RunSpec:
    """One run of an ensemble: the scenario, the parameter overrides and the seed.

    Attributes:
        run_id: stable identifier, ``pNNN-sNNN``: parameter set and seed number; the name of
            the run's directory.
        set_id: the parameter set, ``pNNN`` (runs with the same overrides share it).
        seed: the run seed.
        overrides: 'section.field' (or 'operations.NAME.field') -> value, applied to the
            scenario with `Scenario.with_parameters`.
        scenario_ref: the scenario's built-in name or file path, recorded in the provenance.
        scenario: the scenario before the overrides.
        scale: agents per represented person, overriding the scenario's (None: keep it).
        observables: observables computed in the worker while the run is in memory and written
            to the run's `OBSERVABLES_FILE` (an experiment's outcomes: reading a saved run back
            costs more than the run's own writing).
    """

    run_id: str
    set_id: str
    seed: int
    overrides: dict[str, Any]
    scenario_ref: str
    scenario: Scenario = field(repr=False, compare=False)
    scale: float | None = None
    observables: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain JSON types, without the scenario (plan.json stores it once)."""
        spec: dict[str, Any] = {
            "run_id": self.run_id,
            "set_id": self.set_id,
            "seed": self.seed,
            "overrides": dict(self.overrides),
            "scale": self.scale,
        }
        if self.observables:
            spec["observables"] = list(self.observables)
        return spec

    def resolved_scenario(self) -> Scenario:
        """The scenario with this run's overrides applied."""
        if not self.overrides:
            return self.scenario
        return apply_overrides(self.scenario, self.overrides, where=f"run {self.run_id}")


def format_value(value: Any) -> str:
    """A parameter value as it would be written on the command line (true, 0.5, name)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ",".join(format_value(item) for item in value) + "]"
    return str(value)


def default_seeds(scenario: Scenario, count: int) -> list[int]:
    """`count` seeds counted up from the scenario's seed (1, 2, ... for the default seed 1)."""
    first = scenario.scenario.seed
    return [first + i for i in range(count)]


def plan(
    scenario_ref: str | Path | Scenario,
    seeds: int | Sequence[int],
    sets: Mapping[str, Sequence[Any]] | None = None,
    *,
    scale: float | None = None,
    name: str | None = None,
    observables: Sequence[str] = (),
) -> list[RunSpec]:
    """Lay out an ensemble: every combination of the parameter values, each with every seed.

    Args:
        scenario_ref: a built-in scenario name, a scenario file, or a loaded scenario.
        seeds: how many seeds (counted up from the scenario's seed: 1..N by default), or the
            seeds themselves.
        sets: parameter ('section.field' or 'operations.NAME.field') -> the values to try;
            None or empty for the scenario as it is.
        scale: agents per represented person for every run (None: the scenario's).
        name: how to name the scenario in the provenance (default: `scenario_ref`, or the
            scenario's name when a loaded scenario is given).
        observables: computed in each run's worker and written to its `OBSERVABLES_FILE`.

    Returns:
        The runs, parameter set by parameter set, seed by seed: ``p000-s001``, ``p000-s002``,
        ..., ``p001-s001``, ...

    Raises:
        ChistkaError: no seeds, a bad scale, an unknown parameter, a value out of range or a
            combination of values the scenario does not allow (the message names the field).
    """
    if isinstance(scenario_ref, Scenario):
        scenario = scenario_ref
        ref = name or scenario.scenario.name
    else:
        scenario = load_scenario(scenario_ref)
        ref = name or str(scenario_ref)
    seed_list = _seed_list(scenario, seeds)
    if scale is not None and not 0 < scale <= 1:
        raise ChistkaError(f"population.scale (--scale): must be in (0, 1] (got {scale})")
    sets = dict(sets or {})
    for path, values in sets.items():
        values = list(values)
        if not values:
            raise ChistkaError(f"--set {path}: no values given")
        for value in values:
            apply_overrides(scenario, {path: value}, where="--set")
        if len({_json_key(v) for v in values}) != len(values):
            raise ChistkaError(f"--set {path}: a value is repeated ({_join(values)})")
    paths = list(sets)
    runs = math.prod(len(list(values)) for values in sets.values()) * len(seed_list)
    if runs > MAX_RUNS:
        raise ChistkaError(
            f"--seeds and --set lay out {runs:,} runs; at most {MAX_RUNS:,} in one sweep"
        )
    combos = list(itertools.product(*(list(sets[p]) for p in paths)))
    set_width = max(3, len(str(len(combos) - 1)))
    seed_width = max(3, len(str(len(seed_list))))
    specs: list[RunSpec] = []
    for index, combo in enumerate(combos):
        overrides = dict(zip(paths, combo, strict=True))
        if len(overrides) > 1:
            where = "--set " + " ".join(f"{p}={format_value(v)}" for p, v in overrides.items())
            apply_overrides(scenario, overrides, where=where)
        set_id = f"p{index:0{set_width}d}"
        for number, seed in enumerate(seed_list, start=1):
            specs.append(
                RunSpec(
                    run_id=f"{set_id}-s{number:0{seed_width}d}",
                    set_id=set_id,
                    seed=seed,
                    overrides=overrides,
                    scenario_ref=ref,
                    scenario=scenario,
                    scale=scale,
                    observables=tuple(observables),
                )
            )
    return specs


MAX_RUNS = 100_000
"""The most runs one ensemble or design lays out (100,000 runs of the smallest built-in scenario
take days on this 2-core machine; the plan of 10**11 filled the memory)."""


def _seed_list(scenario: Scenario, seeds: int | Sequence[int]) -> list[int]:
    if isinstance(seeds, bool):
        raise ChistkaError(f"--seeds must be a number of seeds or a list of seeds (got {seeds})")
    if isinstance(seeds, numbers.Integral):
        seeds = int(seeds)
        if not 1 <= seeds <= MAX_RUNS:
            raise ChistkaError(f"--seeds must be from 1 to {MAX_RUNS:,} (got {seeds})")
        return default_seeds(scenario, seeds)
    seed_list = [int(s) for s in seeds]
    if not seed_list:
        raise ChistkaError("--seeds: no seeds given")
    if any(s < 0 or s > 2**63 - 1 for s in seed_list):
        raise ChistkaError(f"seeds must be in [0, 2**63 - 1] (got {_join(seed_list)})")
    if len(set(seed_list)) != len(seed_list):
        raise ChistkaError(f"a seed is repeated ({_join(seed_list)})")
    return seed_list


def _json_default(value: Any) -> Any:
    """JSON for numpy scalars (and text for anything else JSON cannot hold)."""
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


def _json_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=_json_default)


def _join(values: Sequence[Any]) -> str:
    return ", ".join(format_value(v) for v in values)


# --- running -----------------------------------------------------------------------------------


def run_spec(
    spec: RunSpec,
    out_dir: str,
    parent: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> str:
    """Run one spec and write its results to ``out_dir/run_id`` (atomically); return the run id.

    A top-level function of its arguments only, so that joblib and Dask can send it to worker
    processes on any machine (the output directory must be visible to them).

    Args:
        spec: the run.
        out_dir: the ensemble's directory.
        parent: the process id of the sweep, for a local worker process it started: a worker
            whose sweep was killed (its parent is gone) exits instead of starting or writing a
            run, so that it neither runs on unwatched nor races the resumed sweep.
        progress: called as progress(days_done, days_total) by the day loop (`Sim.run`); it
            draws no random numbers, so the results are the same with it or without.
    """
    from chistka.analysis.comparison import save_run
    from chistka.engine import Sim

    _exit_if_orphaned(parent)
    sim = Sim(spec.resolved_scenario(), seed=spec.seed, scale=spec.scale, name=spec.scenario_ref)
    results = sim.run(progress=progress)
    _exit_if_orphaned(parent)
    results.provenance["ensemble"] = {
        "run_id": spec.run_id,
        "set_id": spec.set_id,
        "overrides": dict(spec.overrides),
    }
    extra = None
    if spec.observables:
        values = observable_values(results, spec.observables)

        def extra(directory: Path) -> None:
            import pandas as pd

            frame = pd.DataFrame({"observable": list(values), "value": list(values.values())})
            frame.to_csv(directory / OBSERVABLES_FILE, index=False)

    save_run(results, Path(out_dir) / spec.run_id, extra=extra)
    return spec.run_id


def observable_values(results: Any, names: Sequence[str]) -> dict[str, float]:
    """The observables `names` of one run (NaN where the run cannot give one: out of the run)."""
    from chistka.analysis.observables import ObservableOutOfRun, compute

    values = {}
    for name in names:
        try:
            values[name] = float(compute(results, name))
        except ObservableOutOfRun:
            values[name] = math.nan
    return values


def _exit_if_orphaned(parent: int | None) -> None:
    """End a local worker process whose sweep process (its parent) has died."""
    if parent is not None and os.getpid() != parent and os.getppid() != parent:
        os._exit(1)


@dataclass(frozen=True)
class Placement:
    """Where a run was done: worker (a Dask worker's address, else the host), process, thread."""

    run_id: str
    worker: str
    pid: int
    thread: int


def run_placed(
    spec: RunSpec,
    out_dir: str,
    parent: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Placement:
    """`run_spec`, returning where it ran, so that a sweep can show which workers did the runs."""
    run_id = run_spec(spec, out_dir, parent, progress)
    try:
        from distributed import get_worker

        worker = str(get_worker().address)
    except (ImportError, ValueError):
        worker = socket.gethostname()
    return Placement(run_id, worker, os.getpid(), threading.get_ident())


def plan_document(specs: Sequence[RunSpec]) -> dict[str, Any]:
    """What plan.json holds: the scenario (before overrides), the parameter sets and the runs."""
    first = specs[0]
    sets: dict[str, dict[str, Any]] = {}
    for spec in specs:
        sets.setdefault(spec.set_id, dict(spec.overrides))
    return {
        "format": PLAN_FORMAT,
        "package_version": __version__,
        "scenario_ref": first.scenario_ref,
        "scenario": first.scenario.model_dump(mode="json"),
        "scale": first.scale,
        "seeds": list(dict.fromkeys(spec.seed for spec in specs)),
        "sets": sets,
        "runs": [spec.to_dict() for spec in specs],
    }


def read_plan(out_dir: str | Path) -> dict[str, Any] | None:
    """The plan.json of an ensemble directory, or None if it has none."""
    path = Path(out_dir) / PLAN_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ChistkaError(f"cannot read {path}: {exc}") from None


def is_complete(run_dir: Path) -> bool:
    """Whether a run directory holds a complete run."""
    return (run_dir / COMPLETE_MARKER).is_file()


def remove_leftovers(out_dir: Path, run_ids: Sequence[str]) -> list[Path]:
    """Remove the temporary directories that killed runs of these ids left behind."""
    wanted = set(run_ids) | {PLAN_FILE}
    removed = []
    if not out_dir.is_dir():
        return removed
    for entry in sorted(out_dir.iterdir()):
        match = _LEFTOVER.match(entry.name)
        if match is None or match["name"] not in wanted:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def run_ensemble(
    specs: Sequence[RunSpec],
    out_dir: str | Path,
    *,
    n_jobs: int = -1,
    dask_address: str | None = None,
    resume: bool = False,
    force: bool = False,
    progress: SweepProgress | None = None,
    placed: Callable[[Placement], None] | None = None,
    day_progress: DayProgress | None = None,
) -> list[Path]:
    """Run an ensemble's runs in parallel and write each to ``out_dir/RUN_ID``.

    Args:
        specs: the runs (from `plan`), all of the same scenario.
        out_dir: the ensemble's directory; plan.json goes at its top.
        n_jobs: local worker processes (-1: one per core; 1: one after the other in this
            process). Ignored with `dask_address`: Dask uses all its workers' threads.
        dask_address: the scheduler of a running Dask cluster (e.g. 'tcp://host:8786'); each
            run is submitted to its workers with the Dask client (none runs in this process).
            The workers need chistka installed and must see `out_dir` (a shared filesystem).
            The cluster is reached (with a worker) before anything is written, so a failed
            connection leaves nothing behind.
        resume: finish a sweep that was stopped: keep complete runs, run the others again.
            Without it, a directory that already holds a sweep is an error.
        force: write into a folder holding files chistka did not write, beside them
            (`outputs.check_out`, the rule of every command's --out).
        progress: called as progress(done, total, run_id), see `SweepProgress`.
        placed: called with each finished run's `Placement` (which worker, process and thread
            did it), to show where the runs went.
        day_progress: called as day_progress(run_id, days_done, days_total) as the run under
            way goes, see `DayProgress`; only with ``n_jobs=1`` and no `dask_address`
            (`check_day_progress`).

    Returns:
        The run directories, in the order of `specs`.

    Raises:
        ChistkaError: an empty or inconsistent list of runs, an output directory holding another
            sweep, a Dask cluster that cannot be reached or whose workers cannot write to
            `out_dir`.
        ValueError: `day_progress` with runs in other processes (nothing is written then).
    """
    specs = list(specs)
    _check_specs(specs)
    check_jobs(n_jobs)
    check_day_progress(day_progress, n_jobs, dask_address)
    check_out(out_dir, SWEEP, force=force, resume=resume)
    out_dir = Path(out_dir).expanduser().resolve()
    document = plan_document(specs)
    existing = read_plan(out_dir)
    if existing is not None:
        _check_same_plan(existing, document, out_dir)
    client = connect_dask(dask_address) if dask_address is not None else None
    with contextlib.ExitStack() as stack:
        if client is not None:
            stack.callback(client.close)
        run_ids = [spec.run_id for spec in specs]
        remove_leftovers(out_dir, run_ids)
        _write_json_atomic(out_dir / PLAN_FILE, document)
        todo = [s for s in specs if not (resume and is_complete(out_dir / s.run_id))]
        done = len(specs) - len(todo)
        if progress is not None:
            progress(done, len(specs), None)
        if todo:
            runs = _execute(todo, out_dir, n_jobs=n_jobs, client=client, day_progress=day_progress)
            with contextlib.closing(runs):
                for placement in runs:
                    run_id = placement.run_id
                    if not is_complete(out_dir / run_id):
                        raise ChistkaError(
                            f"run {run_id} finished but {out_dir / run_id} is missing here: the "
                            "workers must write to a filesystem this machine sees (give --out on "
                            "a shared disk)"
                        )
                    done += 1
                    if placed is not None:
                        placed(placement)
                    if progress is not None:
                        progress(done, len(specs), run_id)
    return [out_dir / run_id for run_id in run_ids]


def check_day_progress(
    day_progress: Callable[..., None] | None, n_jobs: int, dask_address: str | None = None
) -> None:
    """Refuse a day-level progress callback for runs done in other processes.

    Refused rather than ignored: a run in a joblib or Dask worker cannot call back into this
    process, and a caller that asked for the days and silently got none would show a sweep with
    no sign of life, the very thing the callback is for.

    Raises:
        ValueError: `day_progress` given with `n_jobs` other than 1, or with `dask_address` (a
            caller's mistake, not a user's input: no command passes it).
    """
    if day_progress is not None and (n_jobs != 1 or dask_address is not None):
        raise ValueError(
            "day_progress needs the runs done in this process (n_jobs=1, no dask_address); "
            f"got n_jobs={n_jobs}, dask_address={dask_address!r}"
        )


def _check_specs(specs: list[RunSpec]) -> None:
    if not specs:
        raise ChistkaError("nothing to run: the ensemble has no runs")
    ids = [spec.run_id for spec in specs]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ChistkaError(f"run ids must be unique (repeated: {', '.join(repeated)})")
    first = specs[0]
    for spec in specs[1:]:
        if spec.scenario_ref != first.scenario_ref or spec.scenario != first.scenario:
            raise ChistkaError(
                f"an ensemble runs one scenario (run {spec.run_id} has another than {first.run_id})"
            )
        if spec.scale != first.scale:
            raise ChistkaError(f"an ensemble runs at one scale (run {spec.run_id} differs)")


def _comparable(document: dict[str, Any]) -> dict[str, Any]:
    """The parts of a plan that must match for a sweep to be resumed (JSON-normalised)."""
    keys = ("scenario", "scale", "runs")
    return json.loads(json.dumps({k: document.get(k) for k in keys}, default=_json_default))


def _check_same_plan(existing: dict[str, Any], document: dict[str, Any], out_dir: Path) -> None:
    old, new = _comparable(existing), _comparable(document)
    if old == new:
        return
    differs = [key for key in old if old[key] != new[key]]
    raise ChistkaError(
        f"--resume: {out_dir} holds a different sweep ({', '.join(differs)} differ from its "
        f"{PLAN_FILE}); give the same scenario, --seeds, --set and --scale, or another --out"
    )


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=2, default=_json_default)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _execute(
    specs: list[RunSpec],
    out_dir: Path,
    *,
    n_jobs: int,
    client: Any | None,
    day_progress: DayProgress | None = None,
) -> Iterator[Placement]:
    """Run the specs; yield where each run was done as it is written (in the order they finish).

    `day_progress` is called only by runs done here (``n_jobs=1``); `check_day_progress` keeps
    it from the others.
    """
    target = str(out_dir)
    if client is not None:
        yield from _execute_dask(specs, target, client)
        return
    if n_jobs == 1:
        for spec in specs:
            days = None if day_progress is None else functools.partial(day_progress, spec.run_id)
            yield run_placed(spec, target, progress=days)
        return
    import joblib

    parallel = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered", batch_size=1)
    sweep = os.getpid()
    yield from parallel(joblib.delayed(run_placed)(spec, target, sweep) for spec in specs)


MAX_JOBS = 256
"""The most local worker processes a command starts (each holds a population in memory)."""


def check_jobs(n_jobs: int, option: str = "--jobs") -> None:
    """Refuse a number of local processes that cannot be: 0, below -1, or more than `MAX_JOBS`.

    Raises:
        ChistkaError: naming the option and what it allows.
    """
    if n_jobs == 0 or n_jobs < -1 or n_jobs > MAX_JOBS:
        raise ChistkaError(
            f"{option} must be -1 (one process per core) or from 1 to {MAX_JOBS} (got {n_jobs})"
        )


DASK_ADDRESS = re.compile(r"^(?:[a-z]+://)?[^\s:/]+:\d{1,5}$")
"""A scheduler's address: [protocol://]host:port."""


def connect_dask(address: str) -> Any:
    """A dask.distributed Client of the cluster at `address`, once it has at least one worker.

    Raises:
        ChistkaError: dask.distributed is not installed, the scheduler cannot be reached, or
            the cluster has no worker after `DASK_WAIT_FOR_WORKERS_S`.
    """
    try:
        from dask.distributed import Client
    except ImportError:
        raise ChistkaError(
            "--dask needs dask.distributed: pip install 'dask[distributed]'"
        ) from None
    if not DASK_ADDRESS.match(address):
        # checked before a Client exists: a half-made one waits a minute to close (QA, 39)
        raise ChistkaError(
            f"--dask: '{address}' is not a scheduler's address; expected [protocol://]host:port, "
            "e.g. tcp://127.0.0.1:8786"
        )
    try:
        client = Client(address, timeout=f"{DASK_CONNECT_TIMEOUT_S}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ChistkaError(f"--dask: cannot connect to the scheduler at {address}: {exc}") from None
    try:
        client.wait_for_workers(1, timeout=DASK_WAIT_FOR_WORKERS_S)
    except TimeoutError as exc:
        client.close()
        raise ChistkaError(
            f"--dask: the cluster at {address} has no workers after "
            f"{DASK_WAIT_FOR_WORKERS_S} s ({exc})"
        ) from None
    return client


def _execute_dask(specs: list[RunSpec], target: str, client: Any) -> Iterator[Placement]:
    """Submit every run to the cluster's workers (never run in this process) and yield each."""
    from dask.distributed import as_completed

    futures = [
        client.submit(run_placed, spec, target, key=f"chistka-{spec.run_id}-{uuid.uuid4().hex}")
        for spec in specs
    ]
    try:
        for future in as_completed(futures, loop=client.loop):
            yield future.result()
    finally:
        client.cancel([f for f in futures if not f.done()])
