"""Exile and other measures: shares of the ordinary sentences, terms, and off by default."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from chistka import Sim
from chistka.analysis import observables
from chistka.errors import ScenarioError
from chistka.mechanisms.arrest import CHANNEL
from chistka.mechanisms.exile import Exile
from chistka.mechanisms.registry import used
from chistka.people import Fate
from chistka.scenario import builtin_scenarios, load_scenario, scenario_from_dict
from chistka.state import EventKind
from conftest import deep_merge

WITH_EXILE: dict[str, Any] = {
    "scenario": {"name": "exile", "start": "1936-01-01", "end": "1937-12-31", "seed": 6},
    "population": {
        "size": 1_000_000,
        "scale": 0.01,
        "party_scale": 1.0,
        "regions": [1.0, 1.0],
        "expelled_before": 2_000,
        "recruitment_pool": 1_000,
        "party": {"total": 3_000},
    },
    "network": {"workplace_persons": 300, "district_workplaces": 5},
    "arrest": {"routine_rate_per_year": 3.0, "expelled_risk_per_year": 0.1},
    "sentencing": {"death_share": 0.2, "routine_death_share": 0.1, "dropped_share": 0.05},
    "camps": {"mortality_per_year": 0.0},
    "exile": {"exile_share": 0.5, "other_share": 0.2, "exile_years": 2.0},
    "operations": [
        {"name": "mass", "kind": "category", "start": "1937-08-05", "end": "1937-12-31",
         "targets": ["kulak", "criminal"], "limit_shoot": 300, "limit_camp": 600,
         "planned_days": 60},
    ],
}  # fmt: skip
"""A small scenario with routine political cases, an Order 00447-like operation, and exile on."""


@pytest.fixture(scope="module")
def exile_run():
    """The run's final state, its log and its exile mechanism."""
    _, state, mechanisms = Sim(scenario_from_dict(WITH_EXILE), seed=1).run_with_state()
    exile = next(m for m in mechanisms if isinstance(m, Exile))
    return state, state.log.columns(), exile


EXILING = {"great-terror"}
"""The built-in scenarios that sentence ordinary cases to exile and other measures, and so
compare the 1953 table's whole count of the convicted (docs/decisions.md 20.1)."""


def test_exile_is_on_only_where_the_whole_count_of_the_convicted_is_compared():
    for name in builtin_scenarios():
        scenario = load_scenario(name)
        exiles = "exile" in [cls.name for cls in used(scenario)]
        assert exiles == (name in EXILING), name
        assert ("political_sentences" in (scenario.scenario.compare or [])) == exiles, name
        if not exiles:
            assert scenario.exile.exile_share == 0 and scenario.exile.other_share == 0


def test_political_sentences_count_death_camps_exile_and_other_measures():
    """The observable compared with the 1953 table's convicted_YEAR: every kind of sentence."""
    results = Sim(scenario_from_dict(WITH_EXILE), seed=1).run()
    events = results.events
    start = dt.date(1936, 1, 1)  # the scenario's first day (day 0)
    for year in (1936, 1937):
        first, last = ((dt.date(y, 1, 1) - start).days for y in (year, year + 1))
        in_year = (events["day"] >= first) & (events["day"] < last)
        kinds = {
            kind: float(events["weight"][(events["kind"] == int(kind)) & in_year].sum())
            for kind in (
                EventKind.SENTENCED_DEATH,
                EventKind.SENTENCED_CAMP,
                EventKind.SENTENCED_EXILE,
                EventKind.SENTENCED_OTHER,
            )
        }
        assert kinds[EventKind.SENTENCED_EXILE] > 0 and kinds[EventKind.SENTENCED_OTHER] > 0
        whole = observables.compute(results, f"political_sentences:{year}")
        assert whole == pytest.approx(sum(kinds.values()))
        assert whole - observables.compute(results, f"political_convictions:{year}") == (
            pytest.approx(kinds[EventKind.SENTENCED_EXILE] + kinds[EventKind.SENTENCED_OTHER])
        )


def test_ordinary_sentences_split_into_camps_exile_and_other_measures(exile_run):
    _, log, _ = exile_run
    ordinary = ~np.isin(log["channel"], [CHANNEL["category"], CHANNEL["national"]])
    counts = {
        kind: int(np.count_nonzero((log["kind"] == kind) & ordinary))
        for kind in (EventKind.SENTENCED_CAMP, EventKind.SENTENCED_EXILE, EventKind.SENTENCED_OTHER)
    }
    spared = sum(counts.values())
    assert spared > 400
    assert counts[EventKind.SENTENCED_EXILE] / spared == pytest.approx(0.5, abs=0.06)
    assert counts[EventKind.SENTENCED_OTHER] / spared == pytest.approx(0.2, abs=0.05)


def test_troika_cases_are_never_exiled(exile_run):
    _, log, _ = exile_run
    troika = log["channel"] == CHANNEL["category"]
    assert np.count_nonzero(troika & (log["kind"] == EventKind.SENTENCED_CAMP)) > 0
    measures = np.isin(log["kind"], [EventKind.SENTENCED_EXILE, EventKind.SENTENCED_OTHER])
    assert not np.any(troika & measures)


def test_the_exiled_leave_custody_for_a_fixed_term(exile_run):
    state, log, exile = exile_run
    exiled = log["kind"] == EventKind.SENTENCED_EXILE
    people, day = log["person"][exiled], log["day"][exiled]
    last = {int(p): int(d) for p, d in zip(people, day, strict=True)}  # the latest exile of each
    ids = np.array(sorted(last), dtype=np.int64)
    held, until = exile.until.items()
    np.testing.assert_array_equal(held, ids)  # the exiled, and nobody else, have a term
    sentenced = np.array([last[i] for i in ids.tolist()])
    assert np.all(until > sentenced)
    mean_term_years = float(np.mean(until - sentenced)) / 365.25
    assert mean_term_years == pytest.approx(2.0, rel=0.15)
    state.day = int(day.max())
    now = exile.in_exile(state)
    assert len(now) > 0
    assert np.all(np.diff(now) > 0)
    assert np.all(state.people.fate[now] == Fate.FREE)
    np.testing.assert_array_equal(now, held[(until > state.day) & state.free(held)])


def test_shares_of_zero_change_nothing_else():
    """Exile draws from its own stream: switched on with shares of 0, the run is unchanged."""
    off = deep_merge(WITH_EXILE, {"scenario": {"end": "1936-09-30"}})
    del off["exile"], off["operations"]
    zero = deep_merge(off, {"exile": {"exile_share": 0.0, "other_share": 0.0}})
    logs = []
    for data in (off, zero):
        _, state, mechanisms = Sim(scenario_from_dict(data), seed=2).run_with_state()
        logs.append(state.log.columns())
        assert ("exile" in [m.name for m in mechanisms]) == ("exile" in data)
    assert len(logs[0]["person"]) > 0
    for column in logs[0]:
        np.testing.assert_array_equal(logs[0][column], logs[1][column])


def test_a_timeline_event_can_start_exile():
    data = {k: v for k, v in WITH_EXILE.items() if k != "exile"}
    data["events"] = [{"date": "1936-06-01", "set": {"exile.exile_share": 0.3}}]
    scenario = scenario_from_dict(data)
    assert "exile" in [cls.name for cls in used(scenario)]
    assert scenario.with_parameters({"exile.other_share": 0.1}).exile.other_share == 0.1


def test_shares_above_one_are_rejected_with_the_field_named():
    data = deep_merge(WITH_EXILE, {"exile": {"exile_share": 0.7, "other_share": 0.4}})
    with pytest.raises(ScenarioError, match=r"exile.*exile_share \+ other_share must be at most 1"):
        scenario_from_dict(data)
