from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from chistka import Sim, kernels
from chistka.engine import region_sizes
from chistka.people import RangeConstant, RankTier, Status, patron, stratum_ranges
from chistka.scenario import scenario_from_dict
from chistka.scenario.schema import COHORTS, ORIGINS
from conftest import make_scenario
from test_terror import TERROR

PARTY_ORIGIN = {"worker": 0.5, "peasant": 0.2, "employee": 0.25, "alien": 0.05}
CHANGES = {
    "population": {
        "size": 400_000,
        "scale": 0.05,
        "party": {
            "total": 40_000,
            "candidate_share": 0.3,
            "origin": PARTY_ORIGIN,
            "cohort": {"pre1917": 0.1, "civil_war": 0.6, "nep": 0.3},
            "opposition_share": 0.1,
        },
    }
}
"""20,000 agents, 2,000 of them in the party."""


@pytest.fixture(scope="module")
def scenario():
    return make_scenario(CHANGES)


@pytest.fixture(scope="module")
def state(scenario):
    return Sim(scenario, seed=5).build()[0]


def party_mask(state) -> np.ndarray:
    status = state.people.status
    return (status == Status.CANDIDATE) | (status == Status.MEMBER)


def test_population_size_and_regions(state, scenario):
    pop = scenario.population
    assert len(state.people) == round(pop.size * pop.scale)
    sizes, _ = region_sizes(scenario)
    assert sizes.sum() == len(state.people)
    weights = np.array(pop.regions) / sum(pop.regions)
    assert np.allclose(sizes / sizes.sum(), weights, atol=1e-3)
    assert np.array_equal(np.bincount(state.people.region), sizes)
    assert np.array_equal(state.people.region, state.network.region(np.arange(len(state.people))))


def test_population_origin_shares(state, scenario):
    shares = np.bincount(state.people.origin, minlength=len(ORIGINS)) / len(state.people)
    expected = np.array(scenario.population.origin.as_array())
    # multinomial sd at 20,000 agents is below 0.004
    assert np.allclose(shares, expected, atol=0.02)


def test_initial_party_size(state, scenario):
    party = scenario.population.party
    target = party.total * scenario.population.scale
    assert abs(party_mask(state).sum() - target) <= len(ORIGINS)
    assert state.party_size() == party_mask(state).sum()


def test_initial_party_origin_shares(state, scenario):
    party = scenario.population.party
    target = party.total * scenario.population.scale
    origin = state.people.origin[party_mask(state)]
    counts = np.bincount(origin, minlength=len(ORIGINS))
    expected = np.array(party.origin.as_array()) * target
    assert np.all(np.abs(counts - expected) <= 1)


def test_initial_candidate_share(state, scenario):
    status = state.people.status[party_mask(state)]
    share = np.mean(status == Status.CANDIDATE)
    p = scenario.population.party.candidate_share
    sd = np.sqrt(p * (1 - p) / len(status))
    assert abs(share - p) < 5 * sd


def test_initial_cohorts_and_join_days(state, scenario):
    in_party = party_mask(state)
    people = state.people
    assert np.all(people.join_day[in_party] == 0)
    assert np.all(people.join_day[~in_party] == -1)
    assert np.all(people.cohort[~in_party] == -1)
    shares = scenario.population.party.cohort.model_dump()
    cohort = people.cohort[in_party]
    for name, share in shares.items():
        observed = np.mean(cohort == COHORTS.index(name))
        assert abs(observed - share) < 5 * np.sqrt(share * (1 - share) / len(cohort)) + 1e-9
    assert np.all(np.isin(cohort, [COHORTS.index(name) for name in shares]))


def test_opposition_only_in_party_and_share(state, scenario):
    people = state.people
    in_party = party_mask(state)
    assert not people.opposition[~in_party].any()
    p = scenario.population.party.opposition_share
    assert abs(people.opposition[in_party].mean() - p) < 5 * np.sqrt(p * (1 - p) / in_party.sum())


def test_nobody_starts_expelled_left_or_dead(state):
    assert np.all(np.isin(state.people.status, [Status.NONPARTY, Status.CANDIDATE, Status.MEMBER]))


def test_hidden_type_shares_and_signals(state, scenario):
    people, pop = state.people, scenario.population
    compromised = (people.origin == ORIGINS.index("alien")) | people.opposition
    assert abs(people.hostile[~compromised].mean() - pop.hostile_share) < 0.01
    assert abs(people.hostile[compromised].mean() - pop.hostile_share_compromised) < 0.05
    misconduct = people.misconduct.astype(np.float64)
    gap = misconduct[people.hostile].mean() - misconduct[~people.hostile].mean()
    assert abs(gap - pop.hostile_signal) < 0.25


def test_party_concentrated_in_dense_workplaces(state):
    workplace = state.network.workplace(np.arange(len(state.people)))
    density = state.party_density(workplace)
    assert density[party_mask(state)].mean() > 1.3 * density.mean()
    every_workplace = state.party_density(np.arange(state.network.n_workplaces))
    assert np.all(every_workplace <= 4.0) and np.all(every_workplace > 0)


def test_party_size_capped_by_population():
    scenario = make_scenario({"population": {"size": 1_000, "scale": 0.5, "party": {"total": 900}}})
    state = Sim(scenario, seed=1).build()[0]
    # 500 agents, 450 wanted in the party: each origin gives what it is asked for, or all it has
    party = scenario.population.party
    target = party.total * scenario.population.scale
    pool = np.bincount(state.people.origin, minlength=len(ORIGINS))
    taken = np.bincount(state.people.origin[party_mask(state)], minlength=len(ORIGINS))
    wanted = np.array([round(target * share) for share in party.origin.as_array()])
    assert np.any(wanted > pool)
    assert np.array_equal(taken, np.minimum(wanted, pool))


def test_synthesis_is_reproducible(scenario):
    a = Sim(scenario, seed=9).build()[0].people
    b = Sim(scenario, seed=9).build()[0].people
    c = Sim(scenario, seed=10).build()[0].people
    assert np.array_equal(a.status, b.status) and np.array_equal(a.misconduct, b.misconduct)
    assert not np.array_equal(a.status, c.status)


def test_people_arrays_are_narrow(state):
    people = state.people
    arrays = [a for a in vars(people).values() if isinstance(a, np.ndarray)]
    assert all(len(a) == len(people) for a in arrays)
    assert all(a.itemsize <= 4 for a in arrays)
    assert people.nbytes() == sum(a.nbytes for a in arrays)
    assert people.nbytes() / len(people) <= 48


def stored_region_and_weight(state) -> tuple[np.ndarray, np.ndarray]:
    """The region and weight arrays synthesis stored before they were derived (session h42g)."""
    layout, pop = state.network.layout, state.scenario.population
    region = np.repeat(np.arange(len(layout.start) - 1, dtype=np.int16), np.diff(layout.start))
    weight = np.full(len(state.people), 1.0 / pop.scale, dtype=np.float32)
    if state.party_stratum is not None:
        party_scale = pop.party_scale or pop.scale
        for a, b in stratum_ranges(state.network, layout.part_start - layout.start[:-1]):
            weight[a:b] = 1.0 / party_scale
    return region, weight


@pytest.mark.parametrize("stratified", [False, True])
def test_derived_region_and_weight_are_what_the_arrays_held(state, stratified):
    """Every id, however indexed, reads the value the stored array held, of its type."""
    if stratified:
        state = Sim(scenario_from_dict(TERROR), seed=3).build()[0]
        assert state.party_stratum is not None
        assert len(np.unique(np.asarray(state.people.weight))) == 2
    n = len(state.people)
    rng = np.random.default_rng(0)
    shuffled = rng.permutation(n)
    mask = rng.random(n) < 0.3
    for name, stored in zip(("region", "weight"), stored_region_and_weight(state), strict=True):
        derived = getattr(state.people, name)
        assert len(derived) == n and derived.dtype == stored.dtype
        assert np.asarray(derived).dtype == stored.dtype
        assert np.array_equal(np.asarray(derived), stored)
        for index in (np.arange(n), shuffled, shuffled.astype(np.int32), mask, slice(5, n, 7)):
            got = derived[index]
            assert got.dtype == stored.dtype and np.array_equal(got, stored[index])
        assert derived[n - 1] == stored[n - 1] and derived[-1] == stored[-1]
        assert derived[np.empty(0, dtype=np.int64)].dtype == stored.dtype
        for person in shuffled[:200]:
            assert kernels.ranged(derived.edges, derived.values, np.int64(person)) == stored[person]


def test_a_range_constant_skips_empty_ranges():
    """A region without a stratum has an empty first range: its ids read the range after it."""
    values = np.array([1, 2, 3, 4], dtype=np.int16)
    ranged = RangeConstant(np.array([0, 0, 3, 3, 5], dtype=np.int64), values)
    assert np.array_equal(ranged[np.arange(5)], [2, 2, 2, 4, 4])
    assert np.array_equal(np.asarray(ranged), [2, 2, 2, 4, 4])
    assert len(RangeConstant.constant(7, 0.5, np.float32)) == 7
    with pytest.raises(IndexError):
        ranged[np.array([5])]


# --- leadership -----------------------------------------------------------------------------


def test_each_cell_secretary_is_a_full_member_of_that_workplace(state):
    people, network, cell = state.people, state.network, state.leadership.cell
    assert len(cell) == network.n_workplaces
    headed = np.flatnonzero(cell >= 0)
    assert len(headed) > 0
    secretaries = cell[headed]
    assert np.all(people.status[secretaries] == Status.MEMBER)
    assert np.array_equal(network.workplace(secretaries), headed)
    assert len(np.unique(secretaries)) == len(secretaries)


def test_every_cell_with_a_full_member_has_a_secretary(state):
    people, network = state.people, state.network
    workplace = network.workplace(np.arange(len(people)))
    has_member = np.zeros(network.n_workplaces, dtype=bool)
    has_member[workplace[people.status == Status.MEMBER]] = True
    assert np.array_equal(state.leadership.cell >= 0, has_member)


def test_secretary_is_the_most_senior_member(state):
    people, network = state.people, state.network
    for w in np.flatnonzero(state.leadership.cell >= 0)[:300]:
        members = network.workplace_members(int(w))
        full = members[people.status[members] == Status.MEMBER]
        assert people.cohort[state.leadership.cell[w]] == people.cohort[full].min()


def test_ranks_follow_leadership(state):
    people, leadership, network = state.people, state.leadership, state.network
    cells = leadership.cell[leadership.cell >= 0]
    districts = leadership.district[leadership.district >= 0]
    regions = leadership.region[leadership.region >= 0]
    assert np.all(people.rank[regions] == RankTier.REGIONAL)
    assert np.all(np.isin(people.rank[districts], [RankTier.DISTRICT, RankTier.REGIONAL]))
    assert np.all(people.rank[cells] >= RankTier.CELL_SECRETARY)
    assert np.count_nonzero(people.rank > RankTier.RANK_AND_FILE) == len(cells)
    # district heads are secretaries of a cell in their district, region heads lead a district
    d_of_head = network.district(network.workplace(districts))
    assert np.array_equal(d_of_head, np.flatnonzero(leadership.district >= 0))
    assert np.all(np.isin(regions, districts))
    assert np.array_equal(people.region[regions], np.flatnonzero(leadership.region >= 0))


def test_patron_of_rank_and_file_member_is_cell_secretary(state):
    people, network = state.people, state.network
    ids = np.flatnonzero(party_mask(state) & (people.rank == RankTier.RANK_AND_FILE))
    assert len(ids) > 100
    expected = state.leadership.cell[network.workplace(ids)]
    assert np.array_equal(patron(people, network, state.leadership, ids), expected)
    assert np.mean(expected >= 0) > 0.9


def test_patron_chain_goes_up_the_tiers(state):
    people, network, leadership = state.people, state.network, state.leadership
    secretaries = np.flatnonzero(people.rank == RankTier.CELL_SECRETARY)
    district_of = network.district(network.workplace(secretaries))
    assert np.array_equal(
        patron(people, network, leadership, secretaries), leadership.district[district_of]
    )
    district_heads = np.flatnonzero(people.rank == RankTier.DISTRICT)
    assert np.array_equal(
        patron(people, network, leadership, district_heads),
        leadership.region[people.region[district_heads]],
    )
    regional = np.flatnonzero(people.rank == RankTier.REGIONAL)
    assert np.all(patron(people, network, leadership, regional) == -1)
    # nobody is their own patron
    everyone = np.arange(len(people))
    assert not np.any(patron(people, network, leadership, everyone) == everyone)


def test_patron_of_a_mixed_batch_is_each_ones_own(state):
    """Every tier in one call, shuffled and repeated, central tier included: as one at a time."""
    people, network = state.people, state.network
    leadership = dataclasses.replace(state.leadership, central=np.array([3, 5, 7]))
    rng = np.random.default_rng(3)
    ids = np.concatenate(
        [rng.integers(0, len(people), 400), np.flatnonzero(people.rank > RankTier.RANK_AND_FILE)]
    )
    ids = rng.permutation(np.concatenate([ids, ids[:50]]))
    batch = patron(people, network, leadership, ids)
    alone = np.array([patron(people, network, leadership, np.array([i]))[0] for i in ids])
    assert np.array_equal(batch, alone)
    regional = people.rank[ids] == RankTier.REGIONAL
    assert regional.any() and np.all(np.isin(batch[regional], [-1, 3, 5, 7]))


@pytest.mark.parametrize(
    "party", [{"total": 0}, {"candidate_share": 1.0}], ids=["empty-party", "all-candidates"]
)
def test_party_without_full_members_builds(party):
    state = Sim(make_scenario({"population": {"party": party}}), seed=1).build()[0]
    assert np.all(state.leadership.cell == -1)
    assert not np.any(state.people.status == Status.MEMBER)
