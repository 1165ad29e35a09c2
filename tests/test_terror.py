"""Unit tests of the terror mechanisms on a small scenario with every mechanism switched on."""

import numpy as np
import pytest

from chistka import Sim
from chistka.mechanisms.arrest import CHANNEL, pack, unpack
from chistka.mechanisms.operations import Operations
from chistka.people import Fate
from chistka.scenario import scenario_from_dict
from chistka.state import EventKind
from test_state_bugs import build, citizens

TERROR = {
    "scenario": {"name": "small-terror", "start": "1936-06-01", "end": "1939-06-30", "seed": 5},
    "population": {
        "size": 3_000_000,
        "scale": 0.01,
        "party_scale": 1.0,
        "regions": [1.0, 1.0, 1.0, 1.0],
        "expelled_before": 8_000,
        "recruitment_pool": 5_000,
        "army_officers": 2_000,
        "nkvd_officers": 300,
        "party": {"total": 30_000, "cohort": {"pre1917": 0.05, "civil_war": 0.45, "nep": 0.5}},
        "elite": {"central_committee": 20, "congress_delegates": 150},
    },
    "climate": {"campaign": 2.0, "fear_per_arrest_rate": 0.5},
    "denunciation": {"rate_per_year": 0.002, "self_protection": 0.05, "arrest_probability": 0.2},
    "arrest": {
        "capacity_per_million": 150,
        "named_arrest_probability": 0.3,
        "expelled_risk_per_year": 0.05,
        "routine_rate_per_year": 1.0,
    },
    "interrogation": {"torture": 2.0, "names_mean": 2.0, "names_interrogator": 0.01},
    "sentencing": {"death_share": 0.4, "album_death_share": 0.7, "family_arrest_probability": 0.5},
    "army": {
        "dismissal_rate_per_year": 0.1,
        "arrest_share": 0.4,
        "reinstate_share": 0.5,
        "reinstate_days": 100,
    },
    "camps": {"early_release_per_year": 0.05},
    "show_trials": [{"name": "t", "date": "1937-01-30", "defendants": 5, "shot": 3}],
    "operations": [
        {
            "name": "mass",
            "kind": "category",
            "start": "1937-08-05",
            "end": "1938-11-16",
            "targets": ["kulak", "criminal"],
            "limit_shoot": 400,
            "limit_camp": 900,
            "planned_days": 120,
            "request_days": 30,
            "grant_share": 0.5,
        },
        {
            "name": "polish",
            "kind": "national",
            "start": "1937-08-11",
            "end": "1938-11-16",
            "targets": ["polish"],
            "rate_per_year": 0.3,
        },
    ],
    "events": [
        {
            "date": "1938-11-17",
            "set": {
                "arrest.named_arrest_probability": 0.0,
                "denunciation.arrest_probability": 0.0,
                "sentencing.death_share": 0.0,
            },
        },
    ],
}


@pytest.fixture(scope="module")
def terror_run(small_terror_run):
    return small_terror_run


@pytest.fixture(scope="module")
def log(terror_run):
    return terror_run[0].events


def person_events(log, kinds):
    mask = np.isin(log["kind"], [int(k) for k in kinds])
    order = np.lexsort((np.arange(mask.sum()), log["day"][mask], log["person"][mask]))
    return {k: log[k][mask][order] for k in ("person", "day", "kind", "cause", "channel")}


def test_every_channel_is_used(log):
    arrested = log["kind"] == EventKind.ARRESTED
    used = set(np.unique(log["channel"][arrested]).tolist())
    for channel in (
        "category",
        "national",
        "testimony",
        "denunciation",
        "self_protection",
        "expelled",
        "army",
        "family",
        "show_trial",
        "routine",
    ):
        assert CHANNEL[channel] in used, channel


def test_nobody_is_arrested_twice_while_in_custody(log):
    ev = person_events(
        log,
        [EventKind.ARRESTED, EventKind.RELEASED, EventKind.CASE_DROPPED, EventKind.SENTENCED_CAMP],
    )
    in_custody: dict[int, bool] = {}
    for person, kind in zip(ev["person"].tolist(), ev["kind"].tolist(), strict=True):
        if kind == EventKind.ARRESTED:
            assert not in_custody.get(person, False), f"person {person} arrested twice"
            in_custody[person] = True
        elif kind in (EventKind.RELEASED, EventKind.CASE_DROPPED):
            in_custody[person] = False


def test_a_shot_person_stays_dead(terror_run, log):
    _, state, _ = terror_run
    shot = log["person"][log["kind"] == EventKind.SENTENCED_DEATH]
    assert len(shot) > 0
    assert len(np.unique(shot)) == len(shot)
    assert np.all(state.people.fate[shot] == Fate.SHOT)
    day_shot = dict(
        zip(
            shot.tolist(),
            log["day"][log["kind"] == EventKind.SENTENCED_DEATH].tolist(),
            strict=True,
        )
    )
    for person, day, kind in zip(
        log["person"].tolist(), log["day"].tolist(), log["kind"].tolist(), strict=True
    ):
        if person in day_shot and day > day_shot[person]:
            pytest.fail(f"person {person} has event {EventKind(kind).name} after being shot")


def test_family_members_are_sentenced_only_after_the_head(log):
    family = (log["kind"] == EventKind.ARRESTED) & (log["channel"] == CHANNEL["family"])
    assert family.sum() > 0
    death_day = dict(
        zip(
            log["person"][log["kind"] == EventKind.SENTENCED_DEATH].tolist(),
            log["day"][log["kind"] == EventKind.SENTENCED_DEATH].tolist(),
            strict=True,
        )
    )
    for head, day in zip(log["cause"][family].tolist(), log["day"][family].tolist(), strict=True):
        assert head in death_day, "a family member arrested whose head was not sentenced"
        assert death_day[head] < day


def test_limits_are_never_exceeded_unless_an_increase_allows_it(terror_run):
    _, state, mechanisms = terror_run
    operations = next(m for m in mechanisms if isinstance(m, Operations))
    ledger = operations.ledgers[0]
    granted_shoot = np.zeros_like(ledger.initial_shoot)
    granted_camp = np.zeros_like(ledger.initial_camp)
    for request in operations.requests:
        granted_shoot[request.region] += request.shoot
        granted_camp[request.region] += request.camp
    assert np.allclose(ledger.limit_shoot, ledger.initial_shoot + granted_shoot)
    assert np.allclose(ledger.limit_camp, ledger.initial_camp + granted_camp)
    assert np.all(ledger.sentenced_shoot <= ledger.limit_shoot + 1e-9)
    assert np.all(ledger.sentenced_camp <= ledger.limit_camp + 1e-9)
    assert np.all(ledger.opened <= ledger.limit_shoot + ledger.limit_camp + 1e-9)
    assert len(operations.requests) > 0, "the scenario should make regions ask for more"
    assert all(r.shoot + r.camp <= 0.5 * r.requested + 1e-9 for r in operations.requests)
    assert ledger.sentenced_shoot.sum() > 0 and ledger.sentenced_camp.sum() > 0


def test_show_trial_verdicts_follow_the_scenario(log):
    """The trials sentence as many as the scenario says: an input, not a fit to the record."""
    channel = CHANNEL["show_trial"]
    shot = (log["kind"] == EventKind.SENTENCED_DEATH) & (log["channel"] == channel)
    camp = (log["kind"] == EventKind.SENTENCED_CAMP) & (log["channel"] == channel)
    assert shot.sum() == 3
    assert camp.sum() == 2


def test_capacity_binds_per_region_and_day(terror_run, log):
    _, state, _ = terror_run
    arrested = log["kind"] == EventKind.ARRESTED
    ordinary = arrested & (log["channel"] != CHANNEL["show_trial"])
    region = state.people.region[log["person"][ordinary]].astype(np.int64)
    weight = state.people.weight[log["person"][ordinary]].astype(np.float64)
    day = log["day"][ordinary].astype(np.int64)
    per_day = np.zeros((day.max() + 1, region.max() + 1))
    np.add.at(per_day, (day, region), weight)
    capacity = 150 * state.region_persons / 1e6
    assert np.all(per_day <= capacity[None, :] + weight.max() + 1e-9)


def test_arrests_expel_party_members(terror_run, log):
    _, state, _ = terror_run
    arrested = np.unique(log["person"][log["kind"] == EventKind.ARRESTED])
    status = state.people.status[arrested]
    assert not np.any((status == 1) | (status == 2)) or np.all(
        state.people.fate[arrested[(status == 1) | (status == 2)]] == Fate.FREE
    )


def test_named_people_cause_links_point_to_arrested_namers(log):
    named = log["kind"] == EventKind.NAMED
    arrested = set(log["person"][log["kind"] == EventKind.ARRESTED].tolist())
    assert named.sum() > 0
    assert set(log["cause"][named].tolist()) <= arrested


def test_counts_sum_to_the_population_every_day(terror_run):
    results, state, _ = terror_run
    assert np.all(results.counts.sum(axis=(1, 2, 3)) == len(state.people))
    assert np.allclose(
        results.persons.sum(axis=(1, 2, 3)), np.asarray(state.people.weight).sum(), rtol=1e-9
    )
    assert np.all(results.counts >= 0)


def test_halt_stops_operations_and_their_pending_cases(log, terror_run):
    results, _, _ = terror_run
    halt = (np.datetime64("1938-11-17") - np.datetime64(results.start)).astype(int)
    operation_arrest = (log["kind"] == EventKind.ARRESTED) & np.isin(
        log["channel"], [CHANNEL["category"], CHANNEL["national"]]
    )
    assert np.all(log["day"][operation_arrest] < halt)


def test_case_packing_round_trips():
    channel = np.array([0, 3, 9])
    cause = np.array([-1, 123456789, 0])
    operation = np.array([-1, 2, 5])
    assert all(
        np.array_equal(a, b)
        for a, b in zip(
            unpack(pack(channel, cause, operation, 3)), (channel, cause, operation), strict=True
        )
    )


@pytest.mark.slow
def test_same_seed_same_terror(terror_run):
    """A second run of the whole terror scenario (the quick tier checks the same seed on the small
    terror scenario in test_citizen_deaths and on every mechanism's draws in test_state_bugs)."""
    results, _, _ = terror_run
    again = Sim(scenario_from_dict(TERROR)).run()
    for key in ("day", "person", "kind", "cause", "channel"):
        assert np.array_equal(results.events[key], again.events[key])


def test_self_protective_exposures_follow_the_law_of_drawing_every_contact_first():
    """`Denunciation.expose` draws which slots denounce before it draws their contacts; the
    number exposed must be what drawing every contact and thinning them gives."""

    p = 0.2
    state, mechanisms = build({"denunciation": {"self_protection": p}}, seed=11)
    denunciation = mechanisms["denunciation"]
    arrested = citizens(state, 4000)
    denunciation.expose(state, state.day, arrested)
    exposed = len(denunciation.fearful)
    rng = np.random.default_rng(5)  # the old way: every contact, then thinning
    network = state.network
    acting = arrested[state.acts(arrested, rng)]
    whose = state.stand_ins(acting, rng)
    contacts = np.concatenate(
        [
            network.random_housemates(whose, rng)[:, None],
            network.random_workmates(whose, 2, rng),
            *[network.random_friends(whose, rng)[:, None] for _ in range(network.params.friends)],
        ],
        axis=1,
    )
    valid = (contacts >= 0) & (contacts != acting[:, None])
    expected = p * float(state.reach(contacts[valid]).sum())
    assert expected > 500 and abs(exposed - expected) < 4 * np.sqrt(expected)


def test_denunciation_arrests_follow_only_the_product_of_rate_and_arrest_probability():
    """docs/decisions.md 15.2: a denunciation that leads to no arrest acts on nothing, so the
    arrests follow rate_per_year x arrest_probability; arrest_probability, a convention, sets
    only how many denunciations come to nothing."""
    opened, denounced = {}, {}
    for rate, probability in ((0.08, 0.25), (0.02, 1.0)):
        denunciation = {"rate_per_year": rate, "arrest_probability": probability}
        # one agent per person: every act is one denunciation, so the counts are Poisson
        population = {"size": 60_000, "scale": 1.0}
        state, mechanisms = build({"denunciation": denunciation, "population": population})
        for day in range(120):
            state.day = day
            mechanisms["denunciation"].step(state)
        opened[probability] = len(mechanisms["arrest"].cases)
        denounced[probability] = int((state.log.columns()["kind"] == EventKind.DENOUNCED).sum())
    expected = (opened[0.25] + opened[1.0]) / 2
    assert expected > 300, opened
    assert abs(opened[0.25] - opened[1.0]) < 5 * np.sqrt(2 * expected), opened
    assert denounced[1.0] == opened[1.0]
    assert 3 < denounced[0.25] / denounced[1.0] < 5, denounced


def test_operations_csv_gives_each_operations_sentences_as_its_events_do(terror_run):
    """QA of session 40: operations.csv gave the national operations no sentences (their album
    books nothing against a limit) and wrote their absent limits as limits of 0."""
    results = terror_run[0]
    ev = results.events
    table = results.operations.set_index("operation")
    for index, name in enumerate(results.operation_names):
        for column, kind in (
            ("sentenced_shoot", EventKind.SENTENCED_DEATH),
            ("sentenced_camp", EventKind.SENTENCED_CAMP),
        ):
            mine = (ev["kind"] == kind) & (ev["campaign"] == index)
            persons = ev["weight"][mine].sum()
            assert table.loc[name, column] == pytest.approx(persons), (name, column)
    assert table.loc["polish", "sentenced_shoot"] > 0 and table.loc["polish", "sentenced_camp"] > 0
    assert table.loc["polish", ["initial_limit_shoot", "final_limit_camp"]].isna().all()
    assert table.loc["mass", "initial_limit_shoot"] == 400
