"""The spin-up (`[scenario] spin_up_days`): the day loop runs before the first day, so that a run
starts with cases under way; the results hold the scenario's own days only (docs/decisions.md
24.5)."""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pytest

from chistka import Sim
from chistka.analysis.observables import political_prisoners_by_day
from chistka.errors import ScenarioError
from chistka.scenario import scenario_from_dict
from chistka.state import EventKind
from test_terror import TERROR

SPIN_UP_DAYS = 90

SENTENCES = [int(EventKind.SENTENCED_DEATH), int(EventKind.SENTENCED_CAMP)]


def _run(spin_up_days: int):
    data = copy.deepcopy(TERROR)
    data["scenario"]["spin_up_days"] = spin_up_days
    return Sim(scenario_from_dict(data)).run_with_state()


@pytest.fixture(scope="module")
def spun_up():
    return _run(SPIN_UP_DAYS)


def test_the_results_start_on_the_scenario_start(spun_up, small_terror_run):
    results, state, _ = spun_up
    plain = small_terror_run[0]
    assert results.start == dt.date.fromisoformat(TERROR["scenario"]["start"])
    assert state.start == results.start - dt.timedelta(days=SPIN_UP_DAYS)
    assert results.counts.shape == plain.counts.shape
    assert results.events["day"].min() == 0
    assert results.events_frame()["date"].min() == plain.events_frame()["date"].min()


def test_the_results_hold_the_logs_events_from_the_first_day_on_without_a_copy(spun_up):
    results, state, _ = spun_up
    log = state.log.columns()
    kept = log["day"] >= SPIN_UP_DAYS
    assert 0 < kept.sum() < len(kept)
    for name, column in log.items():
        expected = column[kept] - SPIN_UP_DAYS if name == "day" else column[kept]
        np.testing.assert_array_equal(results.events[name], expected)
        if name != "day":
            assert np.shares_memory(results.events[name], column), name


def test_the_first_day_has_the_cases_a_run_under_way_has(spun_up, small_terror_run):
    """The bug it fixes: a run started with nobody under investigation, so its first months
    sentenced almost nobody (great-terror's death sentences of early 1935, decisions 24.4)."""
    early = {}
    for name, (results, _, _) in (("spun_up", spun_up), ("plain", small_terror_run)):
        ev = results.events
        early[name] = int((np.isin(ev["kind"], SENTENCES) & (ev["day"] < 60)).sum())
    assert early["spun_up"] >= 3 * early["plain"] > 0, early


def test_everyone_in_custody_on_the_first_day_is_logged(spun_up, small_terror_run):
    """Every sentence or dropped case follows an arrest in the results or a logged custody on
    the first day; the political prisoners in the camps on the first day are logged then, once
    each, and are of the order of those a run without spin-up starts with (the camps' own first
    day, interpolated to a date 90 days later; without the logging they would be none)."""
    results, state, _ = spun_up
    ev = results.events
    kind, person, day = ev["kind"], ev["person"], ev["day"]
    custody = person[kind == int(EventKind.IN_CUSTODY_AT_START)]
    assert len(custody) > 0 and (day[kind == int(EventKind.IN_CUSTODY_AT_START)] == 0).all()
    arrested = set(person[kind == int(EventKind.ARRESTED)]) | set(custody)
    judged = np.isin(
        kind,
        [*SENTENCES, int(EventKind.CASE_DROPPED), int(EventKind.CASE_DROPPED_ON_REVIEW)],
    )
    assert set(person[judged]) <= arrested
    at_start = kind == int(EventKind.IN_CAMP_AT_START)
    assert (day[at_start] == 0).all()
    assert len(np.unique(person[at_start])) == at_start.sum()
    weight = float(ev["weight"][at_start].astype(np.float64).sum())
    plain_first_day = political_prisoners_by_day(small_terror_run[0])[0]
    assert political_prisoners_by_day(results)[0] == pytest.approx(weight)
    assert weight > 0.5 * plain_first_day > 0


def test_without_spin_up_nobody_is_in_custody_on_the_first_day(small_terror_run):
    results, state, _ = small_terror_run
    assert not (results.events["kind"] == int(EventKind.IN_CUSTODY_AT_START)).any()
    assert state.first_day == 0


@pytest.mark.parametrize("days", [-1, 367])
def test_an_impossible_spin_up_is_refused(days):
    data = copy.deepcopy(TERROR)
    data["scenario"]["spin_up_days"] = days
    with pytest.raises(ScenarioError, match="spin_up_days"):
        scenario_from_dict(data)
