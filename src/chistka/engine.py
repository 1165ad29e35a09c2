"""The engine: build the population, run the day loop between the scenario's dates, return Results.

Policy events change mechanism parameters on their dates; campaigns open on theirs. Every
mechanism draws from its own random stream derived from the run seed, so that switching one off
does not reshuffle the others (common random numbers).
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from chistka import __version__
from chistka.errors import ScenarioError
from chistka.mechanisms.base import Mechanism
from chistka.mechanisms.operations import Operations
from chistka.mechanisms.registry import assemble, used
from chistka.network import Network
from chistka.people import (
    Leadership,
    PartyDensity,
    People,
    empty_people,
    ids_in,
    stratum_ranges,
    synthesise,
)
from chistka.provenance import environment
from chistka.results import Results
from chistka.rng import normalise_seed, stream
from chistka.scenario import Scenario, check_strata, load_scenario, with_scale
from chistka.scenario.fitted import fitted_in
from chistka.state import SimState

ProgressCallback = Callable[[int, int], None]
"""Called as progress(days_done, days_total) during a run."""


def day_date(end: dt.date, days_done: int, days_total: int) -> dt.date:
    """The simulated date of day `days_done` of a run's `days_total` (a `Progress` call's).

    The day loop's last day is the scenario's end; its first is the start less the spin-up.
    """
    return end - dt.timedelta(days=days_total - days_done)


def day_words(
    end: dt.date, days_done: int, days_total: int, spin_up: int = 0, run: str = ""
) -> str:
    """'day 400 of 2,222 (5 Aug 1937)': a run's progress as the bars and pages give it.

    The day loop's days (a `Progress` call's) are dated from the scenario's `end`. With a
    spin-up (`spin_up` days run before the scenario's start, `RunInfo.spin_up_days`) its days
    say so and the days after it count from the start (`spin_up_words`).
    """
    return spin_up_words(days_done, days_total, spin_up, day_date(end, days_done, days_total), run)


def spin_up_words(
    done: int, total: int, spin_up: int | None, date: dt.date | None, run: str = ""
) -> str:
    """A run's day in words, e.g. 'day 400 of 2,222 (20 Apr 1923)', after the run it is of.

    With a spin-up its days say so, 'spin-up before the scenario's start: day 12 of 120 (14 Aug
    1934)', and the days after it count from the scenario's start: a bar and a page gave 'day 12
    of 2,343 (14 Aug 1934)' for a scenario that starts on 1 Dec 1934, a date before the start,
    unsaid. `run` names the run of a set ('seed 4'): 'seed 4 at day 400 of 2,222', 'seed 4 in
    the spin-up before the scenario's start: day 12 of 120'. No `date`: none is given.
    """
    spin_up = spin_up or 0
    when = f" ({date.day} {date:%b %Y})" if date is not None else ""  # %-d is glibc's only
    if done <= spin_up:
        where = f"{run} in the spin-up" if run else "spin-up"
        return f"{where} before the scenario's start: day {done:,} of {spin_up:,}{when}"
    at = f"{run} at " if run else ""
    return f"{at}day {done - spin_up:,} of {total - spin_up:,}{when}"


def madvise_hugepage_switch() -> Callable[[bool], bool] | None:
    """The switch of transparent huge pages for new numpy arrays, or None if numpy has none.

    The switch (`_set_madvise_hugepage(enabled) -> previous`) is private: numpy 2 keeps it in
    `numpy._core.multiarray`, numpy 1 in `numpy.core.multiarray`, and a later version may drop
    or move it, so it is looked up rather than imported.
    """
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):
        try:
            switch = getattr(importlib.import_module(module), "_set_madvise_hugepage", None)
        except ImportError:
            continue
        if callable(switch):
            return switch
    return None


@contextmanager
def small_pages() -> Iterator[None]:
    """Allocate numpy arrays on ordinary (4 KiB) pages for the duration, then restore the setting.

    numpy asks Linux for transparent huge pages for every large array (`madvise`), and where the
    kernel compacts memory on demand (`defrag=madvise`, as on this machine) the first write to a
    fresh gigabyte can stall for seconds: at full scale (162 million agents) filling the people's
    arrays took 1-5 s on huge pages against 0.5-1 s without, and random reads were no faster on
    huge pages (`bench/full_scale.py`, docs/scale.md). Results do not depend on it. With a numpy
    that has no such switch (`madvise_hugepage_switch`) this does nothing: the run is the same,
    only its synthesis may be slower.
    """
    switch = madvise_hugepage_switch()
    if switch is None:
        yield
        return
    previous = switch(False)
    try:
        yield
    finally:
        switch(previous)


def _split(agents: int, weights: np.ndarray) -> np.ndarray:
    sizes = np.floor(agents * weights / weights.sum()).astype(np.int64)
    sizes[: agents - int(sizes.sum())] += 1
    return sizes


def region_sizes(scenario: Scenario) -> tuple[np.ndarray, np.ndarray | None]:
    """Agents per region, and the party-scale stratum at the start of each region (or None).

    With `population.party_scale` different from `population.scale`, party members, former
    members, the recruitment pool and the officers are kept at party scale (one to one by
    default in the terror scenarios) and the rest of the population at the citizen scale.
    """
    pop = scenario.population
    weights = np.asarray(pop.regions, dtype=np.float64)
    if pop.party_scale is None:
        sizes = _split(max(1, int(round(pop.size * pop.scale))), weights)
        return np.maximum(sizes, 1), None
    stratum_persons = pop.party.total + pop.expelled_before + pop.recruitment_pool
    citizens = pop.size - stratum_persons
    if citizens < 0:
        raise ScenarioError(
            f"population.size ({pop.size:,}) is smaller than the party, former members and "
            f"recruitment pool together ({stratum_persons:,})"
        )
    stratum = _split(int(round(stratum_persons * pop.party_scale)), weights)
    sizes = stratum + _split(int(round(citizens * pop.scale)), weights)
    return np.maximum(sizes, 1), stratum


def run_days(
    state: SimState,
    mechanisms: list,
    events: list | tuple = (),
    progress: ProgressCallback | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The day loop: apply the day's policy events, then step every mechanism in order.

    `mechanisms` are objects with a `step(state)` method; `events` are dated parameter changes
    (`scenario.PolicyEvent`). Returns the counts of agents and of persons by [status, fate,
    origin] at the start of every day and after the last one. After a spin-up (the days before
    `state.first_day`), the people in custody are logged on the first day
    (`SimState.log_custody_at_start`).
    """
    events_by_day: dict[int, list] = {}
    for event in events:
        events_by_day.setdefault((event.date - state.start).days, []).append(event)
    daily = np.zeros((state.n_days + 1, *state.counts.shape), dtype=np.int64)
    daily_persons = np.zeros((state.n_days + 1, *state.counts.shape), dtype=np.float64)
    for day in range(state.n_days):
        state.day = day
        if day == state.first_day and day > 0:
            state.log_custody_at_start()
        daily[day] = state.counts
        daily_persons[day] = state.persons
        for event in events_by_day.get(day, []):
            state.scenario = state.scenario.with_parameters(event.set)
        for mechanism in mechanisms:
            mechanism.step(state)
        if progress is not None and (day % 30 == 0 or day == state.n_days - 1):
            progress(day + 1, state.n_days)
    daily[state.n_days] = state.counts
    daily_persons[state.n_days] = state.persons
    return daily, daily_persons


BUILD_OVERHEAD = 4.0
"""Peak memory of a build over the people's arrays (synthesis's index arrays and masks): 3.2
for great-terror at scale 0.01 and 3.5 for purges-1921-1953, measured with tracemalloc."""


def bytes_per_agent(scenario: Scenario) -> int:
    """Bytes one agent takes: the people's arrays and the arrays the scenario's mechanisms add."""
    base = sum(a.itemsize for a in empty_people(0).arrays())
    added = sum(np.dtype(a.dtype).itemsize for cls in used(scenario) for a in cls.attributes)
    return base + added


def available_memory() -> int | None:
    """Bytes of memory available now, or None if unknown.

    From psutil if installed, else Linux's MemAvailable (free memory plus what the page cache
    would give back), else the free physical pages (os.sysconf).
    """
    try:
        import psutil
    except ImportError:
        pass
    else:
        return int(psutil.virtual_memory().available)
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(scenario: Scenario, available: int | None = None) -> int:
    """Refuse a scenario whose population would not fit in memory; return the estimate in bytes.

    The estimate is the agents (`region_sizes`) times `bytes_per_agent` times `BUILD_OVERHEAD`.

    Raises:
        ScenarioError: the estimate exceeds `available` (default: `available_memory()`),
            naming population.size and population.scale (--scale).
    """
    agents = int(region_sizes(scenario)[0].sum())
    needed = int(agents * bytes_per_agent(scenario) * BUILD_OVERHEAD)
    free = available_memory() if available is None else available
    if free is not None and needed > free:
        pop = scenario.population
        raise ScenarioError(
            f"population.size ({pop.size:,}) at population.scale (--scale) {pop.scale:g} gives "
            f"{agents:,} agents, which need about {needed / 2**30:.1f} GiB of memory; "
            f"{free / 2**30:.1f} GiB is available: give a smaller --scale "
            f"(at most {pop.scale * free / needed:.2g})"
        )
    return needed


Population = tuple[np.ndarray, np.ndarray | None, Network, People, Leadership, PartyDensity]
"""What a run's population synthesis builds: agents per region, the party-scale stratum, the
network, the people, the leadership of each unit and the party density of each workplace."""


def synthesise_population(scenario: Scenario, seed: int) -> Population:
    """The population of a scenario on its first day (`people.synthesise` on its network).

    It depends only on the seed and on the scenario's `population`, `network` and the
    admissions' origin mix (`PopulationCache.key`), from the population's own random stream.
    """
    sizes, stratum = region_sizes(scenario)
    pop = scenario.population
    network = Network(
        sizes,
        scenario.network,
        seed,
        stratum,
        weights=(1.0 / (pop.party_scale or pop.scale), 1.0 / pop.scale),
    )
    people, leadership, density = synthesise(
        scenario, network, stream(seed, "population"), seed, stratum
    )
    return sizes, stratum, network, people, leadership, density


class PopulationCache:
    """Synthesised populations kept for reuse by later runs of the same seed (in one process).

    A calibration runs the same seeds in every trial (common random numbers) with parameters
    that leave the population alone, so each worker synthesises each seed's population once and
    gives every later run a fresh copy (a run changes its people and leadership). A copy gives
    exactly the arrays a new synthesis would. At most `size` populations are kept (the oldest
    is dropped).
    """

    def __init__(self, size: int = 8) -> None:
        """An empty cache holding at most `size` populations."""
        self.size = size
        self._kept: dict[tuple[int, str], Population] = {}

    @staticmethod
    def key(scenario: Scenario, seed: int) -> tuple[int, str]:
        """What a population depends on: the seed and the scenario sections synthesis reads."""
        parts = (
            scenario.population.model_dump_json(),
            scenario.network.model_dump_json(),
            scenario.admissions.origin_preference.model_dump_json(),
        )
        return seed, "\n".join(parts)

    def population(self, scenario: Scenario, seed: int) -> Population:
        """A copy of the seed's population, synthesised on the first call."""
        key = self.key(scenario, seed)
        if key not in self._kept:
            if len(self._kept) >= self.size:
                self._kept.pop(next(iter(self._kept)))
            self._kept[key] = synthesise_population(scenario, seed)
        return copy.deepcopy(self._kept[key])

    def __len__(self) -> int:
        """Number of populations kept."""
        return len(self._kept)


class Sim:
    """One simulation run of a scenario with a seed."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None | np.random.Generator = None,
        scale: float | None = None,
        name: str | None = None,
        populations: PopulationCache | None = None,
    ) -> None:
        """Prepare a run.

        Args:
            scenario: a validated scenario.
            seed: the run seed (int, None for a fresh one, or a Generator); defaults to the
                scenario's seed.
            scale: agents per represented person, overriding the scenario's.
            name: the scenario's name or path, recorded in the provenance.
            populations: synthesised populations to reuse (a calibration's workers); None
                synthesises afresh.

        Raises:
            ScenarioError: a scale outside (0, 1], a scale at which a stratum the scenario
                needs has no agent, or a population too large for the memory available.
        """
        scenario = with_scale(scenario, scale)
        check_strata(scenario)
        check_memory(scenario)
        self.scenario = scenario
        self.seed = normalise_seed(
            scenario.scenario.seed
            if seed is None and not isinstance(seed, np.random.Generator)
            else seed
        )
        self.name = name or scenario.scenario.name
        self.populations = populations
        self.timings: dict[str, float] = {}
        """Seconds spent in 'synthesis' and the 'day_loop' by the last run (not reproducible)."""

    @classmethod
    def from_scenario(
        cls, ref: str | Path, seed: int | None = None, scale: float | None = None
    ) -> Sim:
        """A run of a built-in scenario (by name) or of a scenario file."""
        return cls(load_scenario(ref), seed=seed, scale=scale, name=str(ref))

    def build(self) -> tuple[SimState, list[Mechanism]]:
        """Synthesise the population and assemble the mechanisms the scenario uses.

        The state starts `spin_up_days` before the scenario's start (`RunInfo.spin_up_days`):
        the population is the scenario's first day's, and the spin-up runs on its parameters.

        The mechanisms come in their daily order (`chistka.mechanisms.registry.ORDER`); those
        the scenario does not use are left out (see `Mechanism.used_by`).
        """
        scenario = self.scenario
        run = scenario.scenario
        if self.populations is None:
            population = synthesise_population(scenario, self.seed)
        else:
            population = self.populations.population(scenario, self.seed)
        _, stratum, network, people, leadership, density = population
        first = run.start - dt.timedelta(days=run.spin_up_days)
        state = SimState(
            scenario=scenario,
            start=first,
            n_days=(run.end - first).days + 1,
            seed=self.seed,
            scale=scenario.population.scale,
            people=people,
            network=network,
            leadership=leadership,
            party_density=density,
            party_stratum=None if stratum is None else ids_in(stratum_ranges(network, stratum)),
            first_day=run.spin_up_days,
        )
        return state, assemble(state)

    def run(self, progress: ProgressCallback | None = None) -> Results:
        """Run the day loop from the scenario's start to its end and collect the results."""
        return self.run_with_state(progress)[0]

    def run_with_state(
        self, progress: ProgressCallback | None = None
    ) -> tuple[Results, SimState, list[Mechanism]]:
        """Run, and also return the final state and the mechanisms (for tests and inspection)."""
        with small_pages():
            return self._run_with_state(progress)

    def _run_with_state(
        self, progress: ProgressCallback | None
    ) -> tuple[Results, SimState, list[Mechanism]]:
        started = time.perf_counter()
        state, mechanisms = self.build()
        built = time.perf_counter()
        daily, daily_persons = run_days(state, mechanisms, self.scenario.events, progress)
        fitted, changed = fitted_in(self.scenario)
        provenance: dict[str, Any] = {
            "scenario": self.name,
            "scenario_name": self.scenario.scenario.name,
            "seed": self.seed,
            "scale": self.scenario.population.scale,
            "package_version": __version__,
            "environment": environment(),
            "parameters": self.scenario.model_dump(mode="json"),
            "fitted": fitted,
        }
        if changed:
            provenance["fitted_changed"] = changed
        operations = next((m for m in mechanisms if isinstance(m, Operations)), None)
        results = Results.collect(state, daily, daily_persons, provenance)
        if operations is not None:
            results.operations = operations.summary(results.sentences_by_operation())
            results.limit_requests = operations.request_log(state)
        self.timings = {"synthesis": built - started, "day_loop": time.perf_counter() - built}
        return results, state, mechanisms
