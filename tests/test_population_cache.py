"""The calibration's population cache: a reused population gives exactly a fresh run's results."""

from __future__ import annotations

import numpy as np
import pandas as pd

from chistka import Sim
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


def test_other_behaviour_reuses_the_population_and_gives_that_scenarios_results():
    populations = PopulationCache()
    run(populations=populations)
    harsher = {"denunciation": {"arrest_probability": 0.3}}
    assert_same(run(harsher, populations=populations), run(harsher))
    assert len(populations) == 1  # the population does not depend on denunciation


def test_another_seed_or_population_is_synthesised_anew():
    populations = PopulationCache(size=2)
    run(populations=populations)
    run(seed=4, populations=populations)
    bigger_party = {"population": {"party": {"total": 8_000}}}
    assert_same(run(bigger_party, populations=populations), run(bigger_party))
    assert len(populations) == 2  # at most two kept: the oldest went
