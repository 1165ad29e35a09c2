"""Regression tests of the state bugs of issue 9 (section 4): each failed before its fix.

Mechanisms that act on people who are no longer in the state they assume, random streams shared
between mechanisms, and results that read the end of the run instead of the time of the event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from chistka import Sim
from chistka.analysis.comparison import comparison
from chistka.analysis.observables import compute
from chistka.engine import run_days
from chistka.mechanisms.camps import camp_input_rows, recorded_political_share
from chistka.people import Fate, RankTier, Role, Status, patron
from chistka.results import Results
from chistka.scenario import scenario_from_dict
from chistka.scenario.schema import COHORTS
from chistka.state import Calendar, EventKind
from conftest import deep_merge

TERROR_SMALL: dict[str, Any] = {
    "scenario": {"name": "state-bugs", "start": "1936-06-01", "end": "1937-12-31", "seed": 3},
    "population": {
        "size": 600_000,
        "scale": 0.01,
        "party_scale": 1.0,
        "regions": [1.0, 1.0],
        "expelled_before": 2_000,
        "recruitment_pool": 1_000,
        "army_officers": 500,
        "nkvd_officers": 100,
        "party": {"total": 6_000, "cohort": {"pre1917": 0.05, "civil_war": 0.45, "nep": 0.5}},
    },
    "network": {"workplace_persons": 300, "district_workplaces": 5},
    "camps": {"mortality_per_year": 0.0, "early_release_per_year": 0.0},
}
"""A small terror scenario: 6,000 agents of citizens at 1:100 and 9,600 at party scale."""


def build(changes: dict[str, Any] | None = None, seed: int = 1):
    """A freshly built state of the small terror scenario and its mechanisms by name."""
    scenario = scenario_from_dict(deep_merge(TERROR_SMALL, changes or {}))
    state, mechanisms = Sim(scenario, seed).build()
    return state, {m.name: m for m in mechanisms}


def citizens(state, k: int) -> np.ndarray:
    """K free non-party agents outside the party stratum."""
    ids = np.setdiff1d(np.arange(len(state.people)), state.stratum_ids())
    return ids[state.free(ids)][:k]


# --- 1. calendar entries are cancelled ------------------------------------------------------


def test_a_re_sentenced_prisoner_is_not_released_on_the_first_terms_date():
    state, mechanisms = build()
    camps = mechanisms["camps"]
    prisoners = citizens(state, 50)
    state.transition_fate(prisoners, Fate.ARRESTED, EventKind.ARRESTED)
    state.transition_fate(prisoners, Fate.CAMP, EventKind.SENTENCED_CAMP)
    camps.admit(state, prisoners, 0.1, camps.rng)  # short first terms (about 36 days)
    state.day = 1
    state.transition_fate(prisoners, Fate.FREE, EventKind.RELEASED)  # released early
    state.transition_fate(prisoners, Fate.ARRESTED, EventKind.ARRESTED)  # re-arrested
    state.transition_fate(prisoners, Fate.CAMP, EventKind.SENTENCED_CAMP)
    camps.admit(state, prisoners, 25.0, camps.rng)  # re-sentenced to long terms
    for day in range(2, 400):
        state.day = day
        camps.step(state)
    assert np.all(state.people.fate[prisoners] == Fate.CAMP)


def test_a_replacing_calendar_keeps_one_live_entry_per_person():
    calendar = Calendar(replace=True)
    calendar.add(np.array([10, 10, 20]), np.array([1, 2, 3]), np.array([7, 8, 9]))
    calendar.add(np.array([30, 10]), np.array([1, 2]), np.array([70, 80]))  # 1 moved, 2 again
    calendar.cancel(np.array([3]))
    people, values = calendar.pop(10)
    assert people.tolist() == [2] and values.tolist() == [80]
    assert len(calendar.pop(20)[0]) == 0
    assert calendar.pop(30)[0].tolist() == [1]


def test_a_replacing_calendar_tells_who_has_a_live_entry():
    """`Calendar.scheduled`: added and not yet popped or cancelled (promotion's waiting list)."""
    calendar = Calendar(replace=True)
    calendar.add(np.array([10, 20, 30]), np.array([1, 2, 3]))
    calendar.cancel(np.array([3]))
    calendar.pop(10)
    assert calendar.scheduled(np.array([1, 2, 3, 4])).tolist() == [False, True, False, False]
    with pytest.raises(ValueError, match="replace=True"):
        Calendar().scheduled(np.array([1]))


# --- 2. interrogation checks custody --------------------------------------------------------


def test_nobody_confesses_or_names_after_leaving_custody():
    state, mechanisms = build(
        {"interrogation": {"torture": 5.0, "names_mean": 3.0, "names_interrogator": 0.5}}
    )
    arrests, interrogation = mechanisms["arrest"], mechanisms["interrogation"]
    accused = citizens(state, 200)
    arrests.request(state, accused, "routine")
    arrests.step(state)
    assert np.all(state.people.fate[accused] == Fate.ARRESTED)
    shot, released = accused[:100], accused[100:]
    state.transition_fate(shot, Fate.SHOT, EventKind.SENTENCED_DEATH)
    state.transition_fate(released, Fate.FREE, EventKind.CASE_DROPPED)
    logged = state.log.size
    for day in range(0, 300):
        state.day = day
        interrogation.step(state)
    events = {k: v[logged:] for k, v in state.log.columns().items()}
    assert not np.isin(events["person"][events["kind"] == EventKind.CONFESSED], accused).any()
    assert not np.isin(events["cause"][events["kind"] == EventKind.NAMED], accused).any()
    assert len(mechanisms["sentencing"].due) == 0


# --- 3. an increase factor of zero ----------------------------------------------------------

MASS_OPERATION = {
    "name": "mass",
    "kind": "category",
    "start": "1936-07-01",
    "end": "1937-06-30",
    "targets": ["kulak", "criminal"],
    "limit_shoot": 200,
    "limit_camp": 400,
    "planned_days": 60,
    "request_days": 30,
    "grant_share": 1.0,
}


def test_a_grant_share_of_zero_grants_nothing_and_keeps_the_operation_going():
    state, mechanisms = build({"operations": [dict(MASS_OPERATION, grant_share=0.0)]})
    operations = mechanisms["operations"]
    ledger = operations.ledgers[0]
    start = (state.scenario.operations[0].start - state.start).days
    for day in range(start, start + 120):
        state.day = day
        operations.step(state)
    assert np.all(np.isfinite(ledger.limit_shoot)) and np.all(np.isfinite(ledger.limit_camp))
    assert np.allclose(ledger.limit_shoot, ledger.initial_shoot)
    assert np.allclose(ledger.limit_camp, ledger.initial_camp)
    assert ledger.opened.sum() > 0.7 * (ledger.initial_shoot + ledger.initial_camp).sum()


# --- 4., 5., 11. show trials ----------------------------------------------------------------


def hold_trial(changes: dict[str, Any], trial: dict[str, Any], seed: int = 1):
    """Build with one show trial; arrest its defendants and read the verdict.

    Returns the state, the mechanisms and the events of the verdict day.
    """
    state, mechanisms = build(deep_merge(changes, {"show_trials": [trial]}), seed)
    show_trials, arrests = mechanisms["show_trials"], mechanisms["arrest"]
    scheduled = state.scenario.show_trials[0]
    verdict = (scheduled.date - state.start).days
    state.day = verdict - scheduled.arrest_lead_days
    show_trials.step(state)
    arrests.step(state)
    state.day = verdict
    logged = state.log.size
    show_trials.step(state)
    return state, mechanisms, {k: v[logged:] for k, v in state.log.columns().items()}


def persons_of(state, events, kind: EventKind) -> float:
    """Persons with events of a kind."""
    people = events["person"][events["kind"] == kind]
    return float(state.people.weight[people].astype(np.float64).sum())


def test_show_trial_defendants_and_shot_are_counted_in_persons():
    trial = {"name": "t", "date": "1937-01-30", "defendants": 10, "shot": 6}
    state, _, events = hold_trial({"population": {"party_scale": 0.5}}, trial)
    assert state.party_weight == 2.0
    assert persons_of(state, events, EventKind.SENTENCED_DEATH) == 6
    assert persons_of(state, events, EventKind.SENTENCED_CAMP) == 4


def test_the_military_trial_tries_army_commanders():
    trial = {
        "name": "military",
        "date": "1937-06-11",
        "defendants": 8,
        "shot": 8,
        "arrest_lead_days": 30,
        "defendants_from": "army",
    }
    state, mechanisms, events = hold_trial({}, trial)
    accused = mechanisms["show_trials"].defendants[0]
    assert len(accused) == 8
    assert np.all(state.people.role[accused] == Role.OFFICER)
    assert persons_of(state, events, EventKind.SENTENCED_DEATH) == 8


# --- 6. denunciations from above ------------------------------------------------------------


def test_denunciations_from_above_go_to_subordinates():
    state, mechanisms = build({"denunciation": {"from_below": 0.0, "from_above": 1.0}})
    stratum = state.stratum_ids()
    leaders = stratum[state.people.rank[stratum] >= RankTier.CELL_SECRETARY]
    heads = leaders[state.people.rank[leaders] >= RankTier.DISTRICT]
    assert len(heads) > 20
    denouncers = np.repeat(leaders, 5)
    target = mechanisms["denunciation"].targets(state, denouncers)
    found = target >= 0
    assert found.mean() > 0.9
    boss = patron(state.people, state.network, state.leadership, target[found])
    assert np.array_equal(boss, denouncers[found])
    of_heads = found & np.isin(denouncers, heads)
    assert of_heads.sum() > 20
    assert np.all(state.people.rank[target[of_heads]] >= RankTier.CELL_SECRETARY)


# --- 7. common random numbers: each mechanism draws only from its own streams ---------------

STREAMS = {
    "scenario": {"end": "1937-06-30"},
    "admissions": {"rate_per_year": 2_000},
    "appeals": {"delay_days": 60},
    "climate": {"campaign": 2.0, "fear_per_arrest_rate": 0.5},
    "denunciation": {"rate_per_year": 0.002, "self_protection": 0.05, "arrest_probability": 0.2},
    "arrest": {
        "capacity_per_million": 150,
        "named_arrest_probability": 0.3,
        "expelled_risk_per_year": 0.05,
        "routine_rate_per_year": 1.0,
    },
    "interrogation": {"torture": 2.0, "names_mean": 2.0, "names_interrogator": 0.01},
    "sentencing": {"death_share": 0.3, "family_arrest_probability": 0.5, "camp_years": 25},
    "camps": {"mortality_per_year": 0.05, "initial_population": 0},
    "army": {"dismissal_rate_per_year": 0.1, "arrest_share": 0.4, "reinstate_days": 100},
    "show_trials": [{"name": "t", "date": "1937-01-30", "defendants": 5, "shot": 3}],
    "operations": [MASS_OPERATION],
    "campaigns": [{"name": "c", "start": "1936-07-01", "end": "1936-10-31", "threshold": 1.5}],
}
"""Every mechanism at work; the camps start empty and camp terms (25 years) outlast the run, so
the camps' own draws (deaths in camp) change nothing any other mechanism reads (prisoners already
in the camps on the first day would be released within the run, and could be arrested again)."""


class RecordedStream:
    """A mechanism's generator that records every draw, with the mechanism stepping at the time."""

    def __init__(self, rng: np.random.Generator, owner: str, active: list, record: list) -> None:
        self._rng, self._owner, self._active, self._record = rng, owner, active, record

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._rng, name)

        def draw(*args: Any, **kwargs: Any) -> Any:
            value = method(*args, **kwargs)
            self._record.append((self._owner, self._active[0], name, np.array(value, copy=True)))
            return value

        return draw


def recorded_run(switched_off: str | None = None) -> list:
    """Run the STREAMS scenario with every stream recorded (and one mechanism switched off).

    Returns (stream owner, mechanism stepping, method, values) for every draw of the run.
    """
    scenario = scenario_from_dict(deep_merge(TERROR_SMALL, STREAMS))
    state, mechanisms = Sim(scenario, seed=4).build()
    active: list = [None]
    record: list = []
    for mechanism in mechanisms:
        for attribute, value in list(vars(mechanism).items()):
            if isinstance(value, np.random.Generator):
                setattr(mechanism, attribute, RecordedStream(value, mechanism.name, active, record))

        def stepping(state, step=mechanism.step, name=mechanism.name) -> None:
            active[0] = name
            step(state)
            active[0] = None

        mechanism.step = stepping
    running = [m for m in mechanisms if m.name != switched_off]
    run_days(state, running, scenario.events)
    return record


def draws_of(record: list, mechanism: str) -> list:
    """The values a mechanism drew while stepping, in order."""
    return [values for _, active, _, values in record if active == mechanism]


def test_every_draw_comes_from_the_stepping_mechanisms_own_stream():
    record = recorded_run()
    owners = {owner for owner, *_ in record}
    assert {"review", "appeals", "admissions", "interrogation", "sentencing", "camps"} <= owners
    foreign = {(owner, active) for owner, active, _, _ in record if owner != active}
    assert not foreign, f"(stream, drawn by) pairs: {sorted(map(str, foreign))}"


def test_switching_the_camps_off_leaves_every_other_mechanisms_draws_unchanged():
    full, without_camps = recorded_run(), recorded_run(switched_off="camps")
    assert draws_of(full, "camps") and not draws_of(without_camps, "camps")
    for mechanism in sorted({active for _, active, _, _ in full} - {"camps", None}):
        a, b = draws_of(full, mechanism), draws_of(without_camps, mechanism)
        assert len(a) == len(b), mechanism
        assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True)), mechanism


# --- 8. calibrate: a target without a number is a failure of the trial -----------------------


def test_a_target_nan_in_one_seed_counts_as_a_failure_of_the_trial(tmp_path, monkeypatch):
    from chistka import engine
    from chistka.analysis import calibrate, observables, validate
    from chistka.analysis.observables import ObservableOutOfRun

    path = tmp_path / "targets.csv"
    path.write_text(
        "id,observable,value,low,high\n"
        "a,political_convictions:1937,100,,\n"
        "b,death_sentences:1937,100,,\n"
        "c,political_convictions:1950,100,,\n"
    )
    targets = validate.read_targets(path)
    by_seed = {  # b has no number in seed 1 (e.g. a share of nothing); c lies outside the run
        1: {"political_convictions:1937": 100.0, "death_sentences:1937": float("nan")},
        2: {"political_convictions:1937": 100.0, "death_sentences:1937": 100.0},
    }

    class FakeRun:  # a run's results as trial_values reads them: no provenance, every kind
        def __init__(self, seed: int) -> None:
            self.seed, self.provenance = seed, None

    class FakeSim:
        def __init__(self, scenario, seed, scale, name, populations=None) -> None:
            self.seed = seed

        def run(self) -> FakeRun:
            return FakeRun(self.seed)

    def fake_compute(results: FakeRun, observable: str) -> float:
        if observable not in by_seed[results.seed]:
            raise ObservableOutOfRun("outside the run")
        return by_seed[results.seed][observable]

    monkeypatch.setattr(engine, "Sim", FakeSim)
    monkeypatch.setattr(observables, "compute", fake_compute)
    monkeypatch.setattr(validate, "compute", fake_compute)
    scenario = scenario_from_dict(TERROR_SMALL)
    loss, model, covered, *_ = calibrate.evaluate(scenario, {}, targets, (1, 2), None, "fake")
    assert covered.tolist() == [True, True, False]
    miss = float(calibrate.log_error(np.array([0.0]), np.array([100.0]))[0])
    assert loss == pytest.approx((0 + miss) / 2 / 2)  # seed 1: a hit, b missed; seed 2: hits
    assert model[0] == 100.0 and np.isnan(model[2])


# --- 9. event attributes are those at the time of the event ---------------------------------


def test_events_record_the_party_cohort_and_rank_held_at_the_time():
    state, _ = build()
    stratum = state.stratum_ids()
    joining = stratum[(state.people.status[stratum] == Status.NONPARTY) & state.free(stratum)][:10]
    state.day = 5
    state.log.add(state.day, joining, EventKind.DENOUNCED)
    state.day = 10
    state.people.cohort[joining] = COHORTS.index("post_freeze")
    state.people.opposition[joining] = True
    state.transition(joining, Status.CANDIDATE, EventKind.ADMITTED)
    counts = np.zeros((2, *state.counts.shape))
    events = Results.collect(state, counts.astype(np.int64), counts, {}).events
    before = events["kind"] == EventKind.DENOUNCED
    after = events["kind"] == EventKind.ADMITTED
    assert np.all(events["cohort"][before] == -1) and not events["opposition"][before].any()
    assert np.all(events["cohort"][after] == COHORTS.index("post_freeze"))
    assert events["opposition"][after].all()


# --- 10. monthly events stop at the end date ------------------------------------------------


def test_monthly_events_end_with_the_month_of_the_last_day():
    start, n_days = dt.date(1937, 1, 1), 365  # to 31 Dec 1937
    counts = np.zeros((n_days + 1, 6, 5, 4))
    events = {
        "day": np.array([0, 364], dtype=np.int32),
        "kind": np.array([EventKind.ARRESTED] * 2, dtype=np.int8),
        "weight": np.array([1.0, 2.0], dtype=np.float32),
    }
    results = Results(start, 1.0, counts.astype(np.int64), counts, events, [], [], {})
    monthly = results.monthly_events(("arrested",))
    assert monthly.index[0] == pd.Timestamp("1937-01-01")
    assert monthly.index[-1] == pd.Timestamp("1937-12-01")
    assert monthly.sum() == 3.0 and monthly.iloc[-1] == 2.0


def test_a_defendant_missing_on_the_verdict_day_is_sentenced_like_anyone_later():
    state, mechanisms = build(
        {"show_trials": [{"name": "t", "date": "1937-01-30", "defendants": 5, "shot": 3}]}
    )
    show_trials, arrests = mechanisms["show_trials"], mechanisms["arrest"]
    trial = state.scenario.show_trials[0]
    verdict = (trial.date - state.start).days
    state.day = verdict - trial.arrest_lead_days
    show_trials.step(state)
    arrests.step(state)
    accused = show_trials.defendants[0]
    missing = accused[:1]  # not in custody on the verdict day (released meanwhile)
    state.transition_fate(missing, Fate.FREE, EventKind.CASE_DROPPED)
    state.day = verdict
    show_trials.step(state)
    assert np.all(np.isin(state.people.fate[accused[1:]], [Fate.SHOT, Fate.CAMP]))
    state.day = verdict + 1
    arrests.request(state, missing, "routine")
    for day in range(verdict + 1, verdict + 400):
        state.day = day
        for name in ("arrest", "interrogation", "sentencing"):
            mechanisms[name].step(state)
    assert state.people.fate[missing[0]] in (Fate.SHOT, Fate.CAMP, Fate.FREE)
    sentenced = np.isin(
        state.log.columns()["kind"],
        [EventKind.SENTENCED_DEATH, EventKind.SENTENCED_CAMP, EventKind.CASE_DROPPED],
    )
    assert (state.log.columns()["person"][sentenced] == missing[0]).sum() == 2


# --- 12. the camps start with the recorded camp population ----------------------------------


def test_camps_start_with_the_recorded_camp_population():
    state, mechanisms = build()
    camps = mechanisms["camps"]
    # records.csv: 839,406 on 1 Jan 1936, 820,881 on 1 Jan 1937; the run starts on 1 Jun 1936
    # and represents 600,000 of the 162 million of the 1937 census
    ussr = 839_406 + (820_881 - 839_406) * 152 / 366
    expected = ussr * 600_000 / 162_000_000
    prisoners = float(state.persons[:, Fate.CAMP].sum())
    assert abs(prisoners - expected) <= 3 * 100  # agents of 100 persons, rounded stochastically
    assert state.population_summary["camp_persons"] == pytest.approx(expected)
    ids = camps.sentenced.view()
    assert np.all(state.people.fate[ids] == Fate.CAMP) and len(camps.release_due) == len(ids)
    # already there: not sentenced in the run; the record's political share of them is logged
    share, _ = recorded_political_share(dt.date(1936, 6, 1))  # 12.6% to 12.8%
    kinds = state.log.columns()["kind"]
    assert np.all(kinds == EventKind.IN_CAMP_AT_START)
    assert abs(len(kinds) - share * len(ids)) <= 3 * np.sqrt(share * len(ids))


def test_political_prisoners_are_those_sentenced_and_the_first_days_political_share():
    """`political_prisoners` counts the camps' prisoners at the end but the first day's
    prisoners the record does not count as political (unless sentenced again in the run)."""
    changes = {"scenario": {"end": "1937-06-30"}}
    first_day, mechanisms = build(changes)
    initial = mechanisms["camps"].sentenced.view().copy()
    political = first_day.log.columns()["person"][: first_day.log.size].copy()
    scenario = scenario_from_dict(deep_merge(TERROR_SMALL, changes))
    results, state, _ = Sim(scenario, 1).run_with_state()
    log = {name: column[: state.log.size] for name, column in state.log.columns().items()}
    sentenced = log["person"][log["kind"] == EventKind.SENTENCED_CAMP]
    others = np.setdiff1d(np.setdiff1d(initial, political), sentenced)
    in_camp = np.flatnonzero(state.people.fate == Fate.CAMP)
    expected = float(state.people.weight[np.setdiff1d(in_camp, others)].astype(np.float64).sum())
    assert len(np.intersect1d(in_camp, others)) > 0
    assert compute(results, "political_prisoners:1937-07-01") == pytest.approx(expected)
    on_the_first_morning = float(first_day.people.weight[political].astype(np.float64).sum())
    assert compute(results, "political_prisoners:1936-06-01") == pytest.approx(on_the_first_morning)


def test_the_rows_the_camps_start_from_are_inputs_not_fits():
    """The first day's camps are interpolated from gulag_camps_1936 and gulag_camps_1937: the
    run's comparison shows gulag_camps_1937 as an input (it was scored as validation before)."""
    scenario = scenario_from_dict(deep_merge(TERROR_SMALL, {"scenario": {"end": "1937-01-03"}}))
    assert camp_input_rows(scenario) == (
        "gulag_camps_1936",
        "gulag_camps_1937",
        "gulag_camps_political_1936",
        "gulag_camps_political_1937",
    )
    table = comparison(Sim(scenario, 1).run()).set_index("record_id")
    assert table.loc["gulag_camps_1937", ["role", "status"]].tolist() == ["input", "input"]
    assert table.loc["gulag_camps_political_1937", "status"] == "input"
    assert (
        not table.loc[table["status"].isin(["inside", "outside"])]
        .index.str.startswith("gulag_camps_")
        .any()
    )
    given = scenario_from_dict(deep_merge(TERROR_SMALL, {"camps": {"initial_population": 0}}))
    assert camp_input_rows(given) == ()


def test_an_explicit_initial_camp_population_overrides_the_record():
    state, _ = build({"camps": {"initial_population": 0}})
    assert state.persons[:, Fate.CAMP].sum() == 0


@pytest.mark.parametrize("scale", [0.01, 1.0])
def test_the_first_days_prisoners_are_citizens_outside_the_stratum_at_every_scale(scale):
    """At one agent per person the citizens weigh what the stratum does (one person each).

    The first day's prisoners were told from the stratum by their weight, so at scale 1 the
    recruitment pool and the non-party officers went to the camps too (about 1 in 5 of them
    here, as of the citizens); at any scale now none does.
    """
    state, _ = build({"population": {"scale": scale}, "camps": {"initial_population": 120_000}})
    stratum = state.stratum_ids()
    assert state.persons[:, Fate.CAMP].sum() == pytest.approx(120_000, rel=0.01)
    assert np.all(state.people.fate[stratum] != Fate.CAMP)


def test_the_initial_camp_population_cannot_be_set_by_a_timeline_event():
    from chistka.errors import ScenarioError

    event = {"date": "1937-01-01", "set": {"camps.initial_population": 5}}
    with pytest.raises(ScenarioError, match="first day only"):
        scenario_from_dict(deep_merge(TERROR_SMALL, {"events": [event]}))
