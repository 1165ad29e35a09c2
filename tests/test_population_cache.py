"""The calibration's population cache: a reused population gives exactly a fresh run's results."""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import pytest
from joblib.externals.loky import get_reusable_executor

from chistka import Sim
from chistka.analysis.calibrate import keep_memory_in_worker
from chistka.engine import PopulationCache
from chistka.scenario import scenario_from_dict
from conftest import deep_merge
from test_state_bugs import TERROR_SMALL


def run(changes=None, seed: int = 3, populations: PopulationCache | None = None):
    scenario = scenario_from_dict(deep_merge(TERROR_SMALL, changes or {}))
    return Sim(scenario, seed=seed, populations=populations).run()


def assert_same(a, b) -> None:
    pd.testing.assert_frame_equal(a.events_frame(), b.events_frame())
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.persons, b.persons)
    pd.testing.assert_frame_equal(a.operations, b.operations)
    assert a.summary() == b.summary()


def test_runs_from_a_kept_population_equal_fresh_runs_even_after_a_run_changed_it():
    populations = PopulationCache()
    first = run(populations=populations)
    second = run(populations=populations)  # the first run arrested, shot and expelled its copy
    assert len(populations) == 1
    fresh = run()
    assert_same(first, fresh)
    assert_same(second, fresh)


@pytest.mark.slow
def test_other_behaviour_reuses_the_population_and_gives_that_scenarios_results():
    populations = PopulationCache()
    run(populations=populations)
    harsher = {"denunciation": {"arrest_probability": 0.3}}
    assert_same(run(harsher, populations=populations), run(harsher))
    assert len(populations) == 1  # the population does not depend on denunciation


@pytest.mark.slow
def test_another_seed_or_population_is_synthesised_anew():
    populations = PopulationCache(size=2)
    run(populations=populations)
    run(seed=4, populations=populations)
    bigger_party = {"population": {"party": {"total": 8_000}}}
    assert_same(run(bigger_party, populations=populations), run(bigger_party))
    assert len(populations) == 2  # at most two kept: the oldest went


_KEPT: list[np.ndarray] = []


def _keep_memory(megabytes: int, told: bool) -> int:
    """Keep `megabytes` in this worker (as the population cache does); return its process id."""
    if told:
        keep_memory_in_worker()
    _KEPT.append(np.ones(megabytes << 20, dtype=np.uint8))
    return os.getpid()


def _pid() -> int:
    time.sleep(1.2)  # loky checks a worker's memory at most once a second
    return os.getpid()


def worker_survives(told: bool) -> bool:
    """Whether a loky worker keeping 400 MB between tasks is still the same process later."""
    executor = get_reusable_executor(max_workers=1, reuse=False)
    executor.submit(_keep_memory, 1, told).result()  # loky's reference size: after the 1st task
    first = executor.submit(_keep_memory, 400, told).result()
    later = [executor.submit(_pid).result() for _ in range(2)]
    executor.shutdown(wait=True)
    return all(pid == first for pid in later)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:A worker stopped")
def test_a_calibration_worker_keeps_its_populations_where_loky_would_replace_it():
    """loky replaced workers that grew by 300 MB (a "leak"), losing the kept populations."""
    assert not worker_survives(told=False)
    assert worker_survives(told=True)
