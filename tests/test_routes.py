"""Issue 11 mechanisms: the judging route decides death, the centre grants a share of requests,
the prosecutor's sanction after the halt, the review of mass-operation sentences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chistka.errors import ScenarioError
from chistka.mechanisms.arrest import CHANNEL
from chistka.mechanisms.operations import REPORT_DAYS
from chistka.mechanisms.sentencing import DeathAllotment
from chistka.people import Fate, RankTier, Role
from chistka.scenario.terror import CATEGORIES
from chistka.state import EventKind
from test_state_bugs import build, citizens

MASS = {
    "name": "order_00447",
    "kind": "category",
    "start": "1936-06-01",
    "end": "1937-06-30",
    "targets": ["kulak", "criminal"],
    "limit_shoot": 300,
    "limit_camp": 300,
    "planned_days": 60,
    "request_days": 30,
    "grant_share": 0.5,
    "grant_shoot_share": 0.8,
}
ALBUM = {
    "name": "polish",
    "kind": "national",
    "start": "1936-06-01",
    "end": "1937-06-30",
    "targets": ["polish"],
    "rate_per_year": 0.0,
}


def sentence_now(state, sentencing, ids, channel: str, operation: int = -1) -> None:
    """Arrest `ids` and sentence them today through the given channel and operation."""
    state.transition_fate(ids, Fate.ARRESTED, EventKind.ARRESTED)
    payload = ((operation + 1) << 8) | CHANNEL[channel]
    sentencing.due.add(np.full(len(ids), state.day), ids, np.full(len(ids), payload))
    sentencing.step(state)


def test_the_collegium_sentences_officers_to_death_at_its_share_and_the_special_board_never():
    state, mechanisms = build({"sentencing": {"collegium_death_share": 0.85, "dropped_share": 0}})
    sentencing = mechanisms["sentencing"]
    everyone = np.arange(len(state.people))
    officers = np.flatnonzero((state.people.role == Role.OFFICER) & state.free(everyone))
    officers = officers[~state.people.opposition[officers]][:300]
    plain = citizens(state, 300)
    sentence_now(state, sentencing, officers, "testimony")
    sentence_now(state, sentencing, plain, "denunciation")
    shot = state.people.fate == Fate.SHOT
    assert 0.75 < shot[officers].mean() < 0.95
    assert not shot[plain].any()  # the Special Board and the courts: death_share 0


def test_a_body_condemns_its_share_of_its_cases_give_or_take_one():
    """Before session 39 each case's verdict was its own draw: 1,000 cases at a share of 0.1
    gave 100 death sentences give or take 10 (binomial noise that the scale multiplies:
    docs/decisions.md 39.1)."""
    state, mechanisms = build({"sentencing": {"death_share": 0.1, "dropped_share": 0}})
    sentencing = mechanisms["sentencing"]
    people = citizens(state, 1000)
    state.transition_fate(people, Fate.ARRESTED, EventKind.ARRESTED)
    days = state.day + 1 + np.arange(len(people)) % 50  # 20 cases a day for 50 days
    sentencing.due.add(days, people, np.full(len(people), CHANNEL["denunciation"]))
    start = state.day
    for day in range(start + 1, start + 51):
        state.day = day
        sentencing.step(state)
    assert not np.any(state.people.fate[people] == Fate.ARRESTED)
    assert abs((state.people.fate[people] == Fate.SHOT).sum() - 100) <= 1


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    cases=st.lists(st.integers(0, 40), min_size=1, max_size=60),
    share=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_allotment_keeps_the_condemned_within_one_of_the_share(cases, share, seed):
    """Whatever the days' numbers of cases, the condemned so far stay within one case of the
    share of the cases so far, and each day's are the cases with the lowest draws."""
    rng = np.random.default_rng(seed)
    allotment = DeathAllotment(rng, 0)
    condemned_so_far = cases_so_far = 0
    for n in cases:
        u = rng.random(n + 3)
        judged = np.r_[np.ones(n, dtype=bool), np.zeros(3, dtype=bool)]  # 3 judged elsewhere
        condemned = allotment.condemn("court", judged, u, share)
        assert not condemned[n:].any()
        if condemned.any() and not condemned[:n].all():
            assert u[condemned].max() < u[:n][~condemned[:n]].min()
        condemned_so_far += int(condemned.sum())
        cases_so_far += n
        assert abs(condemned_so_far - share * cases_so_far) < 1 + 1e-9


def test_the_allotment_is_unbiased_over_its_random_start():
    """The carries start at uniform draws, so the expected count is exactly the share of the
    cases (a start at zero would round every run down)."""
    totals = []
    for seed in range(400):
        allotment = DeathAllotment(np.random.default_rng(seed), 0)
        u = np.random.default_rng(10_000 + seed).random(7)
        totals.append(allotment.condemn("collegium", np.ones(7, dtype=bool), u, 0.05).sum())
    # 7 cases at 5%: 0.35 condemned on average (one with probability 0.35, else none)
    assert set(totals) <= {0, 1}
    assert 0.28 < np.mean(totals) < 0.42


@pytest.mark.parametrize("channel", ["denunciation", "self_protection", "expelled", "routine"])
def test_an_officer_charged_with_agitation_is_judged_like_any_agitator(channel):
    """Savitsky's memo of 4 Apr 1936: the military tribunals, not the Collegium, convicted the
    servicemen charged under art. 58-10. Before session 21 every officer went to the Collegium
    whatever his charge (85% shot in the scenario's 1935-36)."""
    state, mechanisms = build({"sentencing": {"collegium_death_share": 0.85, "dropped_share": 0}})
    everyone = np.arange(len(state.people))
    officers = np.flatnonzero(
        (state.people.role != Role.CIVILIAN)
        & state.free(everyone)
        & (state.people.elite == 0)
        & (state.people.rank < RankTier.REGIONAL)
    )
    officers = officers[~state.people.opposition[officers]][:200]
    sentence_now(state, mechanisms["sentencing"], officers, channel)
    assert not (state.people.fate[officers] == Fate.SHOT).any()


def test_officers_taken_in_the_army_purge_go_to_the_collegium():
    state, mechanisms = build({"sentencing": {"collegium_death_share": 1.0, "dropped_share": 0}})
    everyone = np.arange(len(state.people))
    officers = np.flatnonzero((state.people.role == Role.OFFICER) & state.free(everyone))[:100]
    sentence_now(state, mechanisms["sentencing"], officers, "army")
    assert np.all(state.people.fate[officers] == Fate.SHOT)


def test_espionage_and_terror_charges_of_ordinary_people_go_to_the_military_tribunals():
    state, mechanisms = build(
        {"sentencing": {"tribunal_death_share": 0.5, "death_share": 0.0, "dropped_share": 0}}
    )
    sentencing = mechanisms["sentencing"]
    named, spies, agitators = np.split(citizens(state, 900), 3)
    for ids, channel in ((named, "testimony"), (spies, "national"), (agitators, "routine")):
        sentence_now(state, sentencing, ids, channel)
    shot = state.people.fate == Fate.SHOT
    assert 0.4 < shot[named].mean() < 0.6  # named in a conspiracy: terror, art. 58-8
    assert 0.4 < shot[spies].mean() < 0.6  # espionage outside the album, art. 58-6
    assert not shot[agitators].any()  # the courts and the Special Board: death_share 0


def test_without_its_own_share_the_tribunal_takes_the_courts_death_share():
    state, mechanisms = build({"sentencing": {"death_share": 0.3, "dropped_share": 0}})
    sentencing = mechanisms["sentencing"]
    named = citizens(state, 400)
    sentence_now(state, sentencing, named, "testimony")
    assert 0.22 < (state.people.fate[named] == Fate.SHOT).mean() < 0.38


def test_album_cases_wait_while_the_album_is_closed_and_are_judged_when_it_reopens():
    state, mechanisms = build(
        {
            "operations": [ALBUM],
            "sentencing": {"album_death_share": 1.0, "album_open": False, "dropped_share": 0},
        }
    )
    sentencing = mechanisms["sentencing"]
    accused = citizens(state, 50)
    sentence_now(state, sentencing, accused, "national", operation=0)
    assert np.all(state.people.fate[accused] == Fate.ARRESTED)
    state.scenario = state.scenario.with_parameters({"sentencing.album_open": True})
    for day in range(1, 15):
        state.day = day
        sentencing.step(state)
    assert np.all(state.people.fate[accused] == Fate.SHOT)


def test_the_centre_approves_at_most_its_daily_album_capacity_and_the_rest_wait():
    state, mechanisms = build(
        {
            "operations": [ALBUM],
            "sentencing": {"album_death_share": 1.0, "album_per_day": 500, "dropped_share": 0},
        }
    )
    sentencing = mechanisms["sentencing"]
    accused = citizens(state, 20)  # 2,000 persons at 1:100, five agents a day
    sentence_now(state, sentencing, accused, "national", operation=0)
    judged = [int((state.people.fate[accused] == Fate.SHOT).sum())]
    for day in range(1, 6):
        state.day = day
        sentencing.step(state)
        judged.append(int((state.people.fate[accused] == Fate.SHOT).sum()))
    assert judged == [5, 10, 15, 20, 20, 20]


def test_without_a_daily_capacity_every_album_case_is_judged_at_once():
    state, mechanisms = build(
        {"operations": [ALBUM], "sentencing": {"album_death_share": 1.0, "dropped_share": 0}}
    )
    accused = citizens(state, 20)
    sentence_now(state, mechanisms["sentencing"], accused, "national", operation=0)
    assert np.all(state.people.fate[accused] == Fate.SHOT)


def test_the_troika_judges_other_cases_only_within_the_limits_and_counts_them():
    state, mechanisms = build({"operations": [MASS], "sentencing": {"dropped_share": 0}})
    sentencing, operations = mechanisms["sentencing"], mechanisms["operations"]
    ledger = operations.ledgers[0]
    room = ledger.limit_shoot + ledger.limit_camp
    accused = citizens(state, int(2 * room.sum() * state.scale) + 50)
    sentence_now(state, sentencing, accused, "denunciation")
    judged = ledger.sentenced_shoot + ledger.sentenced_camp
    weight = float(state.people.weight[accused].max())
    regions = np.unique(state.people.region[accused])
    assert np.all(judged <= room + 1e-9) and judged.sum() > 0
    # in the accused's regions no limit has room for one more agent
    assert np.all(ledger.limit_shoot[regions] - ledger.sentenced_shoot[regions] < weight)
    assert np.all(ledger.limit_camp[regions] - ledger.sentenced_camp[regions] < weight)
    assert np.allclose(ledger.opened, judged)  # the other channels' cases use the limits up
    condemned = np.isin(state.people.fate[accused], [Fate.SHOT, Fate.CAMP])
    assert condemned.all()  # those beyond the limits went to the Special Board (camps)


def test_regions_ask_near_the_end_of_their_limits_and_get_the_granted_share():
    state, mechanisms = build({"operations": [MASS]})
    operations = mechanisms["operations"]
    start = (state.scenario.operations[0].start - state.start).days
    for day in range(start, start + 90):
        state.day = day
        operations.step(state)
    assert operations.requests, "regions that used their limits up should ask for more"
    for request in operations.requests:
        granted = request.shoot + request.camp
        assert granted <= 0.5 * request.requested + 1e-9
        assert abs(request.shoot - 0.8 * granted) < 1e-9
        assert (request.day - start) % REPORT_DAYS == 0


JUDGING_TROIKA = {key: value for key, value in MASS.items() if key != "grant_shoot_share"} | {
    "troika_shoot_share": 0.7
}


def test_a_troika_with_its_own_share_shoots_that_share_while_its_first_limit_has_room():
    big = JUDGING_TROIKA | {"limit_shoot": 1_000_000, "limit_camp": 1_000_000}
    state, mechanisms = build({"operations": [big], "sentencing": {"dropped_share": 0}})
    sentencing = mechanisms["sentencing"]
    accused = citizens(state, 2000)
    sentence_now(state, sentencing, accused, "category", operation=0)
    shot = (state.people.fate[accused] == Fate.SHOT).mean()
    assert 0.65 < shot < 0.75  # the room's share would give one half


def test_once_its_first_limit_is_used_up_the_troika_sends_cases_to_the_camps():
    small_first = JUDGING_TROIKA | {"limit_shoot": 1000, "limit_camp": 9000}
    state, mechanisms = build({"operations": [small_first], "sentencing": {"dropped_share": 0}})
    sentencing, ledger = mechanisms["sentencing"], mechanisms["operations"].ledgers[0]
    accused = citizens(state, 30)
    sentence_now(state, sentencing, accused, "denunciation")
    weight = float(state.people.weight[accused].max())
    regions = np.unique(state.people.region[accused])
    assert np.all(ledger.sentenced_shoot <= ledger.limit_shoot + 1e-9)
    assert np.all(ledger.sentenced_camp <= ledger.limit_camp + 1e-9)
    assert np.all(ledger.limit_shoot[regions] - ledger.sentenced_shoot[regions] < weight)
    camp = (state.people.fate[accused] == Fate.CAMP).mean()
    assert camp > 0.6  # the troika would choose camps for 30% with room in both


def test_regions_ask_for_the_category_their_troika_uses_up():
    state, mechanisms = build({"operations": [JUDGING_TROIKA], "sentencing": {"dropped_share": 0}})
    operations, sentencing = mechanisms["operations"], mechanisms["sentencing"]
    start = (state.scenario.operations[0].start - state.start).days
    for day in range(start, start + 90):
        state.day = day
        operations.step(state)
        arrested = np.flatnonzero(state.people.fate == Fate.ARRESTED)
        sentence_now(state, sentencing, arrested, "category", operation=0)
    assert operations.requests, "regions that used their limits up should ask for more"
    shoot = sum(r.shoot for r in operations.requests)
    camp = sum(r.camp for r in operations.requests)
    assert shoot > camp  # the troika shoots 70%: the first category runs out first
    for request in operations.requests:
        assert request.shoot + request.camp <= 0.5 * request.requested + 1e-9
        assert (request.day - start) % REPORT_DAYS == 0


def test_a_troika_as_the_album_shoots_at_the_albums_share():
    big = JUDGING_TROIKA | {
        "limit_shoot": 1_000_000,
        "limit_camp": 1_000_000,
        "troika_shoot_share": "album",
    }
    state, mechanisms = build(
        {"operations": [big], "sentencing": {"dropped_share": 0, "album_death_share": 0.2}}
    )
    accused = citizens(state, 2000)
    sentence_now(state, mechanisms["sentencing"], accused, "category", operation=0)
    shot = (state.people.fate[accused] == Fate.SHOT).mean()
    assert 0.15 < shot < 0.25


@pytest.mark.parametrize(
    "change",
    [
        {"grant_shoot_share": 0.5},
        {"death_share": 0.5, "limit_shoot": 0},
        {"troika_shoot_share": 1.5},
        {"troika_shoot_share": float("nan")},
        {"troika_shoot_share": "court"},
    ],
)
def test_a_troikas_own_share_is_refused_where_the_limits_decide_otherwise(change):
    with pytest.raises(ScenarioError, match="troika_shoot_share"):
        build({"operations": [JUDGING_TROIKA | change]})


def test_the_prosecutors_sanction_drops_cases_outside_the_operations_only():
    state, mechanisms = build({"arrest": {"procuracy_supervision": True, "sanction_share": 0.0}})
    arrests = mechanisms["arrest"]
    ordinary, listed = citizens(state, 100)[:50], citizens(state, 100)[50:]
    arrests.request(state, ordinary, "denunciation")
    arrests.request(state, listed, "category", operation=0)
    arrests.step(state)
    assert np.all(state.people.fate[ordinary] == Fate.FREE)


def arrests_after_the_halt(share: float, testimony_sanctioned: bool, n: int):
    """Under the prosecutor's supervision, n/2 testimony cases and n/2 denunciations are
    requested and acted on today: (state, the named, the denounced)."""
    arrest = {
        "procuracy_supervision": True,
        "sanction_share": share,
        "testimony_sanctioned": testimony_sanctioned,
    }
    state, mechanisms = build({"arrest": arrest})
    arrests = mechanisms["arrest"]
    people = citizens(state, n)
    named, denounced = people[: n // 2], people[n // 2 :]
    arrests.request(state, named, "testimony")
    arrests.request(state, denounced, "denunciation")
    arrests.step(state)
    return state, named, denounced


def test_testimony_cases_get_the_sanction_when_the_scenario_says_so():
    state, named, denounced = arrests_after_the_halt(0.0, True, 100)
    assert np.all(state.people.fate[named] == Fate.ARRESTED)
    assert np.all(state.people.fate[denounced] == Fate.FREE)


def test_the_testimony_switch_leaves_the_other_cases_draws_unchanged():
    arrested = []
    for switch in (False, True):
        state, _, denounced = arrests_after_the_halt(0.5, switch, 400)
        arrested.append(state.people.fate[denounced] == Fate.ARRESTED)
    assert 0.3 < arrested[0].mean() < 0.7
    np.testing.assert_array_equal(arrested[0], arrested[1])


def pending_cases_judged(review: bool, share: float, n: int = 400, mechanisms_out=None):
    """Under the prosecutor's supervision (and with the review of pending cases if `review`),
    n/4 testimony and n/4 denounced cases arrested before the supervision and n/2 denounced
    cases arrested under it are judged: (state, before, named before, under). The mechanisms
    go into `mechanisms_out` (a dict) when one is given."""
    arrest = {
        "procuracy_supervision": True,
        "pending_cases_sanctioned": review,
        "sanction_share": share,
        "testimony_sanctioned": True,
    }
    # death at even odds on every route, so that the verdicts show which draws each case got
    verdicts = {"dropped_share": 0.0, "death_share": 0.5, "tribunal_death_share": 0.5}
    state, mechanisms = build({"arrest": arrest, "sentencing": verdicts})
    if mechanisms_out is not None:
        mechanisms_out.update(mechanisms)
    sentencing = mechanisms["sentencing"]
    people = citizens(state, n)
    before, named, under = people[: n // 4], people[n // 4 : n // 2], people[n // 2 :]
    state.transition_fate(people, Fate.ARRESTED, EventKind.ARRESTED)
    rng = np.random.default_rng(0)
    for ids, channel, supervised in ((before, "denunciation", 0), (named, "testimony", 0)):
        sentencing.schedule(state, ids, CHANNEL[channel], -1, state.day - 1, rng, supervised)
    sentencing.schedule(state, under, CHANNEL["denunciation"], -1, state.day - 1, rng, 1)
    start = state.day
    for day in range(start + 1, start + 2000):
        state.day = day
        sentencing.step(state)
    assert not np.any(state.people.fate[people] == Fate.ARRESTED)
    return state, before, named, under


def test_pending_cases_arrested_before_the_supervision_go_on_at_the_sanction_share():
    state, before, named, under = pending_cases_judged(True, 0.0)
    assert np.all(state.people.fate[before] == Fate.FREE)  # dropped, the accused released
    assert not np.any(state.people.fate[named] == Fate.FREE)  # testimony cases sanctioned
    assert not np.any(state.people.fate[under] == Fate.FREE)  # sanctioned when arrested
    state, before, _, _ = pending_cases_judged(True, 0.5)
    assert 0.35 < (state.people.fate[before] == Fate.FREE).mean() < 0.65


def test_a_dropped_case_is_logged_with_its_charge():
    state, before, _, _ = pending_cases_judged(True, 0.0)
    log = state.log.columns()
    dropped = log["kind"] == EventKind.CASE_DROPPED_ON_REVIEW
    assert set(log["person"][dropped]) == set(before)
    assert np.all(log["channel"][dropped] == CHANNEL["denunciation"])


def test_the_cases_the_review_dropped_are_told_from_the_usual_drops():
    """Before 2026-12-03 both were logged as CASE_DROPPED (the review of session 22)."""
    arrest = {"procuracy_supervision": True, "pending_cases_sanctioned": True}
    verdicts = {"dropped_share": 0.5, "death_share": 0.0}
    state, mechanisms = build({"arrest": arrest | {"sanction_share": 0.5}, "sentencing": verdicts})
    people = citizens(state, 400)
    state.transition_fate(people, Fate.ARRESTED, EventKind.ARRESTED)
    rng = np.random.default_rng(0)
    mechanisms["sentencing"].schedule(
        state, people, CHANNEL["denunciation"], -1, state.day - 1, rng, 0
    )
    for day in range(state.day + 1, state.day + 2000):
        state.day = day
        mechanisms["sentencing"].step(state)
    log = state.log.columns()
    usual = set(log["person"][log["kind"] == EventKind.CASE_DROPPED])
    on_review = set(log["person"][log["kind"] == EventKind.CASE_DROPPED_ON_REVIEW])
    assert usual and on_review and not usual & on_review
    released = set(people[state.people.fate[people] == Fate.FREE])
    assert usual | on_review == released
    assert 0.15 < len(usual) / len(people) < 0.35  # half of the half the review kept


def test_without_the_review_pending_cases_are_judged_as_before_with_the_same_draws():
    """The review draws from its own stream: the sentencing stream makes the same draws with it
    and without it, and the cases it keeps are condemned at the same share."""
    fates, draws = {}, {}
    for review in (False, True):
        mechanisms = {}
        state, before, named, under = pending_cases_judged(review, 0.5, mechanisms_out=mechanisms)
        fates[review] = state.people.fate[np.concatenate([before, named, under])]
        draws[review] = mechanisms["sentencing"].rng.random(8)
    assert not np.any(fates[False] == Fate.FREE)
    assert 0.3 < (fates[False] == Fate.SHOT).mean() < 0.7
    kept = fates[True] != Fate.FREE
    assert 0.3 < kept[: len(kept) // 4].mean() < 0.7
    np.testing.assert_array_equal(draws[True], draws[False])
    # each route condemns half its cases, give or take one (the court's and the tribunal's)
    assert abs((fates[True] == Fate.SHOT).sum() - kept.sum() / 2) <= 2


def test_the_interrogation_passes_on_whether_the_arrest_was_supervised(monkeypatch):
    for supervision in (False, True):
        state, mechanisms = build({"arrest": {"procuracy_supervision": supervision}})
        interrogation, sentencing = mechanisms["interrogation"], mechanisms["sentencing"]
        marks: list[np.ndarray] = []
        monkeypatch.setattr(
            sentencing, "schedule", lambda *args, marks=marks: marks.append(args[-1])
        )
        ids = citizens(state, 50)
        state.transition_fate(ids, Fate.ARRESTED, EventKind.ARRESTED)
        interrogation.schedule(state, ids, np.full(50, CHANNEL["denunciation"]), np.full(50, -1))
        state.scenario.arrest.procuracy_supervision = not supervision  # changed after the arrest
        for day in range(state.day, state.day + 400):
            state.day = day
            interrogation.step(state)
        interrogated = np.concatenate(marks)
        assert len(interrogated) == 50 and np.all(interrogated == supervision)


def test_the_review_after_the_halt_releases_only_mass_operation_prisoners_not_hostile():
    state, mechanisms = build({"camps": {"post_halt_review": True, "review_release_per_year": 1.0}})
    camps = mechanisms["camps"]
    prisoners = citizens(state, 400)
    state.transition_fate(prisoners, Fate.ARRESTED, EventKind.ARRESTED)
    state.transition_fate(prisoners, Fate.CAMP, EventKind.SENTENCED_CAMP)
    mass = np.arange(len(prisoners)) % 2 == 0
    camps.admit(state, prisoners, 25.0, camps.rng, reviewable=mass)
    for day in range(1, 366):
        state.day = day
        camps.review(state, 1.0)
    released = state.people.fate[prisoners] == Fate.FREE
    hostile = state.people.hostile[prisoners]
    assert not released[~mass].any()
    assert not released[mass & hostile].any()
    # one chance a day at 1.0 a year: 1 - exp(-1) = 63% released within the year
    assert 0.5 < released[mass & ~hostile].mean() < 0.75


def test_the_review_draws_each_entry_once_a_day_at_most():
    state, mechanisms = build({"camps": {"post_halt_review": True}})
    camps = mechanisms["camps"]
    prisoners = citizens(state, 300)
    prisoners = prisoners[~state.people.hostile[prisoners]]
    state.transition_fate(prisoners, Fate.ARRESTED, EventKind.ARRESTED)
    state.transition_fate(prisoners, Fate.CAMP, EventKind.SENTENCED_CAMP)
    reviewable = np.ones(len(prisoners), dtype=bool)
    camps.admit(state, prisoners, 25.0, camps.rng, reviewable=reviewable)
    camps.admit(state, prisoners, 25.0, camps.rng, reviewable=reviewable)  # listed twice
    state.day = 1
    logged = state.log.size
    camps.review(state, 365.25 * 0.999)  # nearly every entry comes up today
    released = state.people.fate[prisoners] == Fate.FREE
    assert released.mean() > 0.99
    columns = state.log.columns()
    kinds, persons = columns["kind"][logged:], columns["person"][logged:]
    freed = persons[kinds == EventKind.RELEASED]
    assert len(freed) == len(np.unique(freed)) == released.sum()  # each released once


KULAK = {
    "name": "kulak_1930",
    "kind": "category",
    "start": "1936-06-01",
    "end": "1937-06-30",
    "targets": ["kulak"],
    "limit_camp": 200_000,
    "death_share": 0.3,
}


def test_one_first_category_limit_is_judged_within_the_limit_at_the_operations_death_share():
    state, mechanisms = build({"operations": [KULAK], "sentencing": {"dropped_share": 0}})
    sentencing, ledger = mechanisms["sentencing"], mechanisms["operations"].ledgers[0]
    accused = citizens(state, 2_500)  # 250,000 persons at 1:100, beyond the limit
    sentence_now(state, sentencing, accused, "routine")
    judged = ledger.sentenced_camp
    regions = np.unique(state.people.region[accused])
    assert np.all(judged <= ledger.limit_camp + 1e-9)
    assert judged.sum() > 0.9 * ledger.limit_camp[regions].sum()
    assert ledger.sentenced_shoot.sum() == 0  # one limit: the shot count against it too
    shot = state.people.fate[accused] == Fate.SHOT
    shot_persons = state.people.weight[accused][shot].sum()
    assert 0.25 < shot_persons / judged.sum() < 0.35  # the courts beyond the limit shoot nobody


def test_an_operations_death_share_needs_one_limit():
    with pytest.raises(ScenarioError, match="death_share"):
        build({"operations": [{**KULAK, "limit_shoot": 100}]})


def test_without_the_death_penalty_no_route_sentences_to_death():
    shares = {"death_share": 1.0, "tribunal_death_share": 1.0, "collegium_death_share": 1.0}
    state, mechanisms = build(
        {"sentencing": {**shares, "dropped_share": 0, "death_penalty": False}}
    )
    accused = citizens(state, 200)
    sentence_now(state, mechanisms["sentencing"], accused, "testimony")
    assert np.all(state.people.fate[accused] == Fate.CAMP)


def test_restored_for_treason_death_is_left_to_the_tribunals_and_the_collegium():
    shares = {"death_share": 1.0, "tribunal_death_share": 1.0, "collegium_death_share": 1.0}
    state, mechanisms = build(
        {"sentencing": {**shares, "dropped_share": 0, "death_only_for_treason": True}}
    )
    sentencing = mechanisms["sentencing"]
    named, agitators = np.split(citizens(state, 400), 2)
    sentence_now(state, sentencing, named, "testimony")
    sentence_now(state, sentencing, agitators, "routine")
    assert np.all(state.people.fate[named] == Fate.SHOT)  # espionage, terror: tribunals
    assert np.all(state.people.fate[agitators] == Fate.CAMP)  # the courts: no death


def routine_cases(follows: bool, climate: float, days: int = 300) -> float:
    """Persons in the routine cases opened over `days` days at a fixed climate."""
    arrest = {"routine_rate_per_year": 30.0, "routine_follows_climate": follows}
    state, mechanisms = build({"arrest": arrest}, seed=5)
    arrests = mechanisms["arrest"]
    opened: list[float] = []
    arrests.request = lambda state, ids, channel, **_: opened.append(state.people.weight[ids].sum())
    for _ in range(days):
        state.climate = climate
        arrests.routine(state)
    return sum(opened)


def test_the_routine_caseload_follows_the_climate_only_when_asked():
    assert routine_cases(False, 3.0) == routine_cases(False, 1.0)
    calm, vigilant = routine_cases(True, 1.0), routine_cases(True, 3.0)
    expected = 30.0 / 1000 / 365.25 * float(state_persons()) * 300
    assert 0.8 < calm / expected < 1.2
    assert 2.5 < vigilant / calm < 3.5


def state_persons() -> float:
    """Persons the small terror scenario represents."""
    state, _ = build()
    return float(state.region_persons.sum())


def routine_by_category(
    take: bool,
    day: str,
    targets: tuple[str, ...] = ("kulak", "criminal"),
    rate: float = 30.0,
) -> np.ndarray:
    """Persons in the routine cases opened over 60 days from `day` at `rate` a year per 1,000,
    by registered category (the last entry: people in no category)."""
    arrest = {"routine_rate_per_year": rate, "operations_take_registered": take}
    operation = {**MASS, "targets": list(targets)}
    state, mechanisms = build({"arrest": arrest, "operations": [operation]}, seed=5)
    arrests = mechanisms["arrest"]
    opened: list[np.ndarray] = []
    arrests.request = lambda state, ids, channel, **_: opened.append(ids)
    first = (np.datetime64(day) - np.datetime64(state.start)).astype(int)
    for offset in range(60):
        state.day = int(first) + offset
        arrests.routine(state)
    ids = np.concatenate(opened)
    codes = np.where(state.people.category[ids] >= 0, state.people.category[ids], len(CATEGORIES))
    return np.bincount(codes, weights=state.people.weight[ids], minlength=len(CATEGORIES) + 1)


def test_order_00447_takes_the_registered_routine_cases_only_while_in_force_and_when_asked():
    during, before = "1936-08-01", "1936-03-01"  # MASS runs from 1936-06-01
    every = CATEGORIES
    taken = routine_by_category(True, during, every)
    assert taken[: len(CATEGORIES)].sum() == 0 and taken[-1] > 0
    assert routine_by_category(True, before, every)[: len(CATEGORIES)].sum() > 0
    assert routine_by_category(False, during, every)[: len(CATEGORIES)].sum() > 0


def test_an_operation_takes_only_the_routine_cases_of_the_categories_it_targets():
    """The kulak operation of 1930 took the kulaks' cases; the clergy's went on as before, at
    their own rate (a bug until session 30: every registered category was left out)."""
    during = "1936-08-01"
    targeted = [CATEGORIES.index("kulak"), CATEGORIES.index("criminal")]
    others = [code for code in range(len(CATEGORIES)) if code not in targeted]
    taken = routine_by_category(True, during, rate=1000.0)
    assert taken[targeted].sum() == 0
    assert (taken[others] > 0).all()
    untouched = routine_by_category(False, during, rate=1000.0)
    assert 0.75 < taken[others].sum() / untouched[others].sum() < 1.33


@settings(max_examples=8, deadline=None)
@given(targets=st.sets(st.sampled_from(CATEGORIES), min_size=1))
def test_the_routine_never_draws_a_targeted_category_and_always_the_others(targets):
    """Whatever categories an operation targets, their routine cases are its own while it is
    in force, and every other category keeps routine cases."""
    codes = [CATEGORIES.index(target) for target in targets]
    others = [code for code in range(len(CATEGORIES)) if code not in codes]
    drawn = routine_by_category(True, "1936-08-01", tuple(sorted(targets)), rate=1000.0)
    assert drawn[codes].sum() == 0
    assert (drawn[others] > 0).all()
    assert drawn[-1] > 0
