"""Natural deaths: logged for the people the log follows, counted for the other citizens.

At one agent per person the citizens' natural deaths were 11 of a run's 27 million events and
nothing read them one by one (issue 10, section 5); they are now counted by day, region and
origin (`SimState.natural_deaths`, `Results.citizen_deaths`) while the daily counts by status
are unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chistka import Sim
from chistka.outputs import RUN_FILES
from chistka.people import Fate, Flag, Status
from chistka.results import Results
from chistka.scenario import scenario_from_dict
from chistka.state import EventKind, EventLog
from conftest import deep_merge
from test_state_bugs import TERROR_SMALL, build, citizens

DEADLY = {"mortality": {"rate_per_year": 1.0}}
"""A death rate high enough for hundreds of deaths in a few weeks of the small scenario."""


def test_the_log_marks_the_people_it_writes_about():
    state, _ = build()
    ids = citizens(state, 5)
    assert not np.any(state.people.flags[ids] & Flag.RECORDED)
    state.log.add(state.day, ids[:3], EventKind.DENOUNCED)
    assert np.all(state.people.flags[ids[:3]] & Flag.RECORDED)
    assert not np.any(state.people.flags[ids[3:]] & Flag.RECORDED)
    assert not np.any(state.followed(ids[3:]))
    assert np.all(state.followed(ids[:3]))
    assert np.all(state.followed(state.stratum_ids()))
    EventLog().add(0, ids[3:], EventKind.DENOUNCED)  # a log on its own marks nobody
    assert not np.any(state.people.flags[ids[3:]] & Flag.RECORDED)


def test_citizens_without_a_record_die_in_the_counts_not_in_the_log():
    state, mechanisms = build(DEADLY)
    recorded = citizens(state, 300)
    state.log.add(state.day, recorded, EventKind.DENOUNCED)
    logged = state.log.size
    dead_before = state.counts[Status.DEAD].sum()
    persons_before = state.persons[Status.DEAD].sum()
    for day in range(60):
        state.day = day
        mechanisms["mortality"].step(state)
    died = state.log.columns()["person"][logged:]
    assert np.all(state.log.columns()["kind"][logged:] == EventKind.DIED)
    assert np.all(state.people.status[died] == Status.DEAD)
    stratum = np.isin(died, state.stratum_ids())
    assert stratum.any() and np.isin(died, recorded).any()
    assert np.all(stratum | np.isin(died, recorded))
    # every other death is counted, in its region and origin, in agents and in persons
    dead = np.flatnonzero(state.people.status == Status.DEAD)
    quiet = np.setdiff1d(dead, died)
    assert len(quiet) > 0 and not np.isin(quiet, state.stratum_ids()).any()
    assert state.citizen_deaths.sum() == len(quiet)
    assert state.counts[Status.DEAD].sum() - dead_before == len(died) + len(quiet)
    expected = np.zeros(state.citizen_deaths.shape[1:], dtype=np.int64)
    np.add.at(expected, (state.people.region[quiet], state.people.origin[quiet]), 1)
    assert np.array_equal(state.citizen_deaths.sum(axis=0), expected)
    assert state.citizen_death_persons.sum() == pytest.approx(
        state.persons[Status.DEAD].sum()
        - persons_before
        - state.people.weight[died].astype(np.float64).sum()
    )
    assert np.all(state.citizen_deaths[60:] == 0)


def test_without_a_stratum_every_death_is_logged(small_results):
    assert len(small_results.citizen_deaths) == 0
    died = (small_results.events["kind"] == EventKind.DIED).sum()
    dead = small_results.counts[:, Status.DEAD].sum(axis=(1, 2))
    assert died > 0 and dead[-1] - dead[0] == died


@pytest.fixture(scope="module")
def deadly_run():
    return Sim(scenario_from_dict(deep_merge(TERROR_SMALL, DEADLY)), seed=4).run_with_state()


def test_logged_and_counted_deaths_add_up_to_the_daily_counts(deadly_run):
    results, state, _ = deadly_run
    table = results.citizen_deaths
    assert len(table) > 0 and list(table.columns) == [
        "date",
        "region",
        "origin",
        "agents",
        "persons",
    ]
    assert table["agents"].sum() == state.citizen_deaths.sum()
    day = (
        (table["date"].to_numpy() - np.datetime64(results.start, "D"))
        .astype("timedelta64[D]")
        .astype(np.int64)
    )
    counted = np.bincount(day, weights=table["agents"], minlength=state.n_days)
    counted_persons = np.bincount(day, weights=table["persons"], minlength=state.n_days)
    died = results.events["kind"] == EventKind.DIED
    logged = np.bincount(results.events["day"][died], minlength=state.n_days)
    logged_persons = np.bincount(
        results.events["day"][died],
        weights=results.events["weight"][died].astype(np.float64),
        minlength=state.n_days,
    )
    dead = results.counts[:, Status.DEAD].sum(axis=(1, 2))
    dead_persons = results.persons[:, Status.DEAD].sum(axis=(1, 2))
    assert np.array_equal(np.diff(dead), logged + counted)
    assert np.allclose(np.diff(dead_persons), logged_persons + counted_persons)
    # nobody counted was ever in the log, and nobody at liberty in the stratum goes unlogged
    free_dead = (state.people.status == Status.DEAD) & (state.people.fate == Fate.FREE)
    unlogged = np.setdiff1d(np.flatnonzero(free_dead), results.events["person"])
    assert len(unlogged) == table["agents"].sum()
    assert not np.isin(unlogged, state.stratum_ids()).any()


def test_the_counted_deaths_are_saved_and_read_back(deadly_run, tmp_path):
    results = deadly_run[0]
    results.save(tmp_path / "run")
    # a file chistka does not know as its own would make the next run refuse the folder
    assert {p.name for p in (tmp_path / "run").iterdir()} <= RUN_FILES
    loaded = Results.load(tmp_path / "run")
    pd.testing.assert_frame_equal(loaded.citizen_deaths, results.citizen_deaths, check_dtype=False)
    (tmp_path / "run" / "citizen_deaths.parquet").unlink()  # a run saved before the table
    assert len(Results.load(tmp_path / "run").citizen_deaths) == 0


def test_the_same_seed_gives_the_same_counted_deaths(deadly_run):
    again = Sim(scenario_from_dict(deep_merge(TERROR_SMALL, DEADLY)), seed=4).run()
    pd.testing.assert_frame_equal(again.citizen_deaths, deadly_run[0].citizen_deaths)
