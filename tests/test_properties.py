"""Properties of runs of random small scenarios, and of the built-in scenario at a small scale.

A developer's run (`make test`) tries 8 random scenarios per property; the slow tier tries 60
more, so that `.ci/run` searches further than either alone.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chistka import Sim
from chistka.people import Status
from chistka.scenario import scenario_from_dict
from chistka.scenario.schema import ORIGINS
from chistka.state import EventKind
from conftest import BUILTIN, end_of_day_counts, replay

SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
"""The quick tier's examples per property."""

MORE = settings(SETTINGS, max_examples=60)
"""The slow tier's examples per property."""


@st.composite
def small_scenarios(draw) -> dict:
    """Random small scenarios: up to 6,000 agents, up to 300 days, campaigns and events."""
    start = dt.date(draw(st.integers(1920, 1934)), draw(st.integers(1, 12)), 1)
    days = draw(st.integers(20, 300))
    end = start + dt.timedelta(days=days - 1)
    scale = draw(st.sampled_from([0.01, 0.02, 0.05]))
    agents = draw(st.integers(1_000, 6_000))
    size = int(agents / scale)
    total = int(size * draw(st.floats(0.05, 0.3)))
    rate = st.floats(0.0, 1.0)

    def date(offset: int) -> str:
        return str(start + dt.timedelta(days=offset))

    campaigns = []
    first = 0
    for i in range(draw(st.integers(0, 2))):
        # campaigns one after the other (same-day overlaps: see test_mechanisms)
        if first > days - 1:
            break
        first = draw(st.integers(first, days - 1))
        last = draw(st.integers(first, days - 1))
        campaigns.append(
            {
                "name": f"c{i}",
                "start": date(first),
                "end": date(last),
                "threshold": draw(st.floats(-1.0, 4.0)),
                "demote_band": draw(st.floats(0.0, 1.0)),
            }
        )
        first = last + 1
    events = []
    for _ in range(draw(st.integers(0, 3))):
        change = draw(
            st.sampled_from(
                [
                    {"admissions.rate_per_year": draw(st.floats(0, 0.5)) * total},
                    {"promotion.enabled": draw(st.booleans())},
                    {"exits.rate_per_year": draw(rate)},
                    {"appeals.reinstate_share": draw(rate)},
                ]
            )
        )
        events.append({"date": date(draw(st.integers(0, days - 1))), "set": change})
    return {
        "scenario": {"name": "random", "start": str(start), "end": str(end)},
        "population": {
            "size": size,
            "scale": scale,
            "regions": draw(st.lists(st.floats(0.2, 5.0), min_size=1, max_size=4)),
            "party": {"total": total, "candidate_share": draw(st.floats(0.0, 0.5))},
        },
        "network": {"workplace_size": draw(st.integers(5, 60))},
        "admissions": {"rate_per_year": draw(st.floats(0, 0.5)) * total},
        "promotion": {"stage_days": draw(st.floats(30, 400))},
        "exits": {"rate_per_year": draw(rate)},
        "mortality": {"rate_per_year": draw(st.floats(0, 0.5))},
        "appeals": {
            "appeal_share": draw(rate),
            "reinstate_share": draw(rate),
            "delay_days": draw(st.floats(1, 100)),
        },
        "campaigns": campaigns,
        "events": events,
    }


seeds = st.integers(0, 2**32)


def check_invariants(sim: Sim, results) -> None:
    state = sim.build()[0]
    n_agents, n_days = len(state.people), state.n_days
    counts = end_of_day_counts(results.counts, n_days)
    assert counts.shape == (n_days, len(Status), len(ORIGINS))
    # every person is in exactly one status every day, and counts are never negative
    assert np.all(counts >= 0)
    assert np.all(counts.sum(axis=(1, 2)) == n_agents)
    # origin is fixed for life
    by_origin = np.bincount(state.people.origin, minlength=len(ORIGINS))
    assert np.all(counts.sum(axis=1) == by_origin)
    # the log replays legally onto the initial population and gives the reported counts
    replayed, problems, final = replay(
        state.people.status, state.people.origin, results.events, n_days
    )
    assert problems == []
    assert np.array_equal(replayed, counts)
    # the absorbing or one-way statuses follow the cumulative events
    by_status = counts.sum(axis=2)
    cumulative = {}
    for kind in EventKind:
        per_day = np.bincount(
            results.events["day"][results.events["kind"] == kind], minlength=n_days
        )
        assert len(per_day) == n_days, kind  # no event logged after the run
        cumulative[kind] = np.cumsum(per_day)
    initial = np.bincount(state.people.status, minlength=len(Status))
    assert np.array_equal(
        by_status[:, Status.DEAD], initial[Status.DEAD] + cumulative[EventKind.DIED]
    )
    # non-party people leave it by admission or by death (citizens die too)
    admitted_out = initial[Status.NONPARTY] - cumulative[EventKind.ADMITTED]
    assert np.all(by_status[:, Status.NONPARTY] <= admitted_out)
    assert np.all(by_status[:, Status.NONPARTY] >= admitted_out - cumulative[EventKind.DIED])
    assert np.all(np.diff(by_status[:, Status.DEAD]) >= 0)
    assert np.all(np.diff(by_status[:, Status.NONPARTY]) <= 0)
    # every reinstatement answers an appeal, every appeal an expulsion
    assert (
        cumulative[EventKind.REINSTATED][-1] + cumulative[EventKind.APPEAL_REJECTED][-1]
        <= (cumulative[EventKind.APPEALED][-1])
    )
    assert cumulative[EventKind.APPEALED][-1] <= cumulative[EventKind.EXPELLED][-1]
    assert np.array_equal(np.bincount(final, minlength=len(Status)), by_status[-1])


def check_run_invariants(data: dict, seed: int) -> None:
    """The invariants of `check_invariants` in a run of the scenario."""
    sim = Sim(scenario_from_dict(data), seed=seed)
    check_invariants(sim, sim.run())


@SETTINGS
@given(data=small_scenarios(), seed=seeds)
def test_run_invariants(data, seed):
    check_run_invariants(data, seed)


@pytest.mark.slow
@MORE
@given(data=small_scenarios(), seed=seeds)
def test_run_invariants_on_more_examples(data, seed):
    check_run_invariants(data, seed)


@SETTINGS
@given(data=small_scenarios(), seed=seeds)
def test_same_seed_same_results_other_seed_other_results(data, seed):
    check_seed_decides(data, seed)


@pytest.mark.slow
@MORE
@given(data=small_scenarios(), seed=seeds)
def test_same_seed_same_results_other_seed_other_results_on_more_examples(data, seed):
    check_seed_decides(data, seed)


def check_seed_decides(data: dict, seed: int) -> None:
    """Two runs with one seed are identical; a run with the next seed differs."""
    scenario = scenario_from_dict(data)
    a = Sim(scenario, seed=seed).run()
    b = Sim(scenario, seed=seed).run()
    assert np.array_equal(a.counts, b.counts)
    assert a.events.keys() == b.events.keys()
    for name in a.events:
        assert np.array_equal(a.events[name], b.events[name], equal_nan=True), name
    c = Sim(scenario, seed=seed + 1).run()
    same_counts = np.array_equal(a.counts, c.counts)
    same_events = len(a.events["person"]) == len(c.events["person"]) and np.array_equal(
        a.events["person"], c.events["person"]
    )
    assert not (same_counts and same_events)


# --- the built-in scenario ------------------------------------------------------------------


def test_builtin_run_invariants(builtin_sim, builtin_results):
    check_invariants(builtin_sim, builtin_results)


def test_builtin_run_reviews_every_campaign(builtin_results):
    table = builtin_results.campaigns()
    assert list(table["campaign"]) == builtin_results.campaign_names
    assert len(table) >= 5
    assert np.all(table["reviewed"] > 0)
    assert np.all((table["expelled_share"] > 0) & (table["expelled_share"] < 0.6))


def test_builtin_run_starts_at_the_scenario_party_size(builtin_sim, builtin_results):
    total = builtin_sim.scenario.population.party.total
    first_day = builtin_results.membership()["total"].iloc[0]
    assert abs(first_day - total) / total < 0.01


def test_builtin_provenance(builtin_results):
    provenance = builtin_results.provenance
    assert provenance["scenario"] == BUILTIN
    assert provenance["seed"] == 1
    assert provenance["scale"] == 0.002
    assert provenance["parameters"]["scenario"]["name"] == BUILTIN


@pytest.mark.slow
def test_builtin_run_is_reproducible(builtin_results):
    """A second run of the built-in scenario (the quick tier checks the same seed on random small
    scenarios with the same mechanisms, above)."""
    again = Sim.from_scenario(BUILTIN, seed=1, scale=0.002).run()
    assert np.array_equal(again.counts, builtin_results.counts)
    assert np.array_equal(again.events["person"], builtin_results.events["person"])


def test_summary_end_is_the_scenario_end(builtin_sim, builtin_results):
    assert builtin_results.summary()["end"] == str(builtin_sim.scenario.scenario.end)


# --- the tables of a small run --------------------------------------------------------------


def test_tables_agree_with_counts(small_results, small_scenario):
    frame = small_results.to_frame()
    counts = small_results.counts
    n_rows = counts.shape[0]
    assert len(frame) % n_rows == 0 and len(frame) // n_rows <= counts[0].size
    assert frame["agents"].sum() == counts.sum()
    per_date = frame.groupby("date", observed=True)["agents"].sum().to_numpy()
    assert np.array_equal(per_date, counts.reshape(n_rows, -1).sum(axis=1))
    # one scale for everybody in this scenario
    assert np.allclose(frame["persons"], frame["agents"] / small_results.scale)
    membership = small_results.membership()
    assert len(membership) == n_rows
    assert membership.index[0].date() == small_scenario.scenario.start
    party = small_results.counts[:, [Status.CANDIDATE, Status.MEMBER]].reshape(n_rows, -1).sum(1)
    assert np.allclose(membership["total"], party / small_results.scale)
    events = small_results.events_frame()
    assert len(events) == len(small_results.events["person"])
    assert set(events["campaign"]) - {"none", ""} == set(small_results.campaign_names)
