from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chistka.network import Network
from chistka.scenario.schema import NetworkParams

PARAMS = NetworkParams(household_size=4, workplace_size=20, district_workplaces=5, friends=6)
SIZES = np.array([1000, 537, 64, 3, 1, 250])


@pytest.fixture(scope="module")
def net() -> Network:
    return Network(SIZES, PARAMS, seed=42)


def all_ids(network: Network) -> np.ndarray:
    return np.arange(network.size)


def region_ranges(network: Network) -> list[tuple[int, int]]:
    start = network.layout.start
    return [(int(start[r]), int(start[r + 1])) for r in range(len(start) - 1)]


# --- regions --------------------------------------------------------------------------------


def test_regions_are_contiguous_blocks(net):
    assert net.size == SIZES.sum()
    for r, (a, b) in enumerate(region_ranges(net)):
        assert b - a == SIZES[r]
        assert np.all(net.region(np.arange(a, b)) == r)


# --- workplaces -----------------------------------------------------------------------------


def check_workplaces(network: Network) -> None:
    ids = all_ids(network)
    workplace = network.workplace(ids)
    assert workplace.min() >= 0 and workplace.max() < network.n_workplaces
    seen = np.zeros(network.size, dtype=np.int64)
    for w in range(network.n_workplaces):
        members = network.workplace_members(w)
        assert 1 <= len(members) <= network.params.workplace_size
        assert np.all(workplace[members] == w), f"a member of workplace {w} maps elsewhere"
        regions = network.region(members)
        assert np.all(regions == network.workplace_region(np.array([w]))[0])
        seen[members] += 1
    assert np.all(seen == 1), "workplaces do not partition the population"
    # each region's workplaces hold exactly that region's people
    for r, (a, b) in enumerate(region_ranges(network)):
        wp = np.unique(workplace[a:b])
        first, last = network.layout.workplace_start[r], network.layout.workplace_start[r + 1]
        assert np.array_equal(wp, np.arange(first, last))


def test_workplace_and_members_are_consistent(net):
    check_workplaces(net)


def test_workplaces_are_full_except_last_of_region(net):
    sizes = np.bincount(net.workplace(all_ids(net)), minlength=net.n_workplaces)
    for r in range(len(SIZES)):
        first, last = net.layout.workplace_start[r], net.layout.workplace_start[r + 1]
        assert last - first == -(-SIZES[r] // PARAMS.workplace_size)
        assert np.all(sizes[first : last - 1] == PARAMS.workplace_size)


def test_workplaces_are_shuffled(net):
    # a workplace is not simply a block of consecutive ids
    members = np.sort(net.workplace_members(0))
    assert np.any(np.diff(members) > 1)


def test_districts_group_workplaces_within_regions(net):
    workplaces = np.arange(net.n_workplaces)
    district = net.district(workplaces)
    region = net.workplace_region(workplaces)
    assert np.all(np.diff(district) >= 0)
    for d in np.unique(district):
        in_d = district == d
        assert len(np.unique(region[in_d])) == 1, "a district crosses regions"
        assert in_d.sum() <= PARAMS.district_workplaces


def test_random_workmates_are_in_the_same_workplace(net):
    rng = np.random.default_rng(0)
    ids = rng.integers(0, net.size, size=500)
    mates = net.random_workmates(ids, 7, rng)
    assert mates.shape == (500, 7)
    workplace = net.workplace(ids)
    real = mates >= 0
    assert np.all(mates[~real] == -1)
    rows, cols = np.nonzero(real)
    assert np.all(net.workplace(mates[rows, cols]) == workplace[rows])
    assert np.all(mates[rows, cols] != ids[rows])
    # the person's own id is what gets replaced by -1
    assert real.mean() > 0.8


def test_random_workmates_cover_the_workplace(net):
    rng = np.random.default_rng(1)
    person = np.array([5])
    mates = net.random_workmates(np.repeat(person, 400), 5, rng)
    found = set(mates[mates >= 0].tolist())
    expected = set(net.workplace_members(int(net.workplace(person)[0])).tolist()) - {5}
    assert found == expected


# --- households -----------------------------------------------------------------------------


def test_households_are_consecutive_and_contain_the_person(net):
    seen = np.zeros(net.size, dtype=np.int64)
    for person in range(net.size):
        members = net.household_members(person)
        assert person in members
        assert 1 <= len(members) <= PARAMS.household_size
        assert np.all(np.diff(members) == 1)
        assert len(np.unique(net.region(members))) == 1
        if members[0] == person:
            seen[members] += 1
    assert np.all(seen == 1), "households do not partition the population"


# --- friendship -----------------------------------------------------------------------------


def check_friendship(network: Network) -> None:
    ids = all_ids(network)
    friends = network.friends(ids)
    k = network.params.friends
    assert friends.shape == (network.size, k)
    pairs = set()
    for i, row in enumerate(friends.tolist()):
        for j in row:
            if j >= 0:
                assert j != i, f"{i} is their own friend"
                pairs.add((i, j))
    for i, j in pairs:
        assert (j, i) in pairs, f"{j} is a friend of {i} but not the reverse"
    region = network.region(ids)
    rows, cols = np.nonzero(friends >= 0)
    assert np.all(region[friends[rows, cols]] == region[rows])


def test_friendship_is_symmetric(net):
    check_friendship(net)


def test_friends_are_distinct_in_large_regions(net):
    friends = net.friends(np.arange(1000))
    for row in friends:
        assert len(set(row.tolist())) == PARAMS.friends
        assert np.all(row >= 0)


def test_tiny_region_marks_missing_friends(net):
    alone = int(net.layout.start[4])  # the region of one person
    assert np.all(net.friends(np.array([alone])) == -1)
    assert len(net.contacts(alone, "friendship")) == 0
    assert len(net.contacts(alone, "workplace")) == 0


def test_no_friends_layer():
    params = NetworkParams(workplace_size=10, friends=0)
    network = Network(np.array([100]), params, seed=1)
    assert network.friends(np.arange(10)).shape == (10, 0)


# --- contacts -------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", ["household", "workplace", "friendship"])
def test_contacts_exclude_the_person(net, layer):
    for person in (0, 17, 999, 1200):
        contacts = net.contacts(person, layer)
        assert person not in contacts
        assert len(contacts) == len(np.unique(contacts))
        assert len(contacts) > 0


def test_contacts_match_layers(net):
    person = 123
    assert set(net.contacts(person, "household").tolist()) == set(
        net.household_members(person).tolist()
    ) - {person}
    workplace = int(net.workplace(np.array([person]))[0])
    assert set(net.contacts(person, "workplace").tolist()) == set(
        net.workplace_members(workplace).tolist()
    ) - {person}


def test_unknown_layer(net):
    with pytest.raises(ValueError, match="unknown layer 'church'"):
        net.contacts(0, "church")


# --- seeds ----------------------------------------------------------------------------------


def layout_of(network: Network) -> tuple[np.ndarray, np.ndarray]:
    ids = all_ids(network)
    return network.workplace(ids), network.friends(ids)


def test_same_seed_same_layout():
    a = layout_of(Network(SIZES, PARAMS, seed=7))
    b = layout_of(Network(SIZES, PARAMS, seed=7))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_different_seed_different_layout():
    a = layout_of(Network(SIZES, PARAMS, seed=7))
    b = layout_of(Network(SIZES, PARAMS, seed=8))
    assert not np.array_equal(a[0], b[0])
    assert not np.array_equal(a[1], b[1])


def test_layouts_of_nearby_seeds_are_unrelated():
    sizes = np.array([1000, 1000])
    a = Network(sizes, PARAMS, seed=10)
    b = Network(sizes, PARAMS, seed=11)
    assert not np.array_equal(b.layout.work_mult, a.layout.friend_mult)
    assert not np.array_equal(b.layout.work_shift, a.layout.friend_shift)


# --- nothing stored per person or per edge ----------------------------------------------------


def held_bytes(network: Network) -> int:
    arrays = [v for v in vars(network).values() if isinstance(v, np.ndarray)]
    arrays += [v for v in vars(network.layout).values() if isinstance(v, np.ndarray)]
    return sum(a.nbytes for a in arrays)


def test_no_edge_list_is_stored():
    regions = 8
    small = Network(np.full(regions, 1_000), PARAMS, seed=1)
    huge = Network(np.full(regions, 10_000_000), PARAMS, seed=1)
    assert huge.size == 80_000_000
    # only per-region arrays: the memory does not grow with the population
    assert held_bytes(huge) == held_bytes(small)
    for value in vars(huge.layout).values():
        assert len(value) <= regions + 1
    for value in vars(huge).values():
        assert not isinstance(value, np.ndarray | list | dict | set) or len(value) <= regions + 1
    # and contacts of a few people in the huge population are cheap and consistent
    ids = np.array([0, 12_345_678, 79_999_999])
    w = huge.workplace(ids)
    for person, workplace in zip(ids.tolist(), w.tolist(), strict=True):
        assert person in huge.workplace_members(workplace)
    friends = huge.friends(ids)
    for person, row in zip(ids.tolist(), friends, strict=True):
        for j in row:
            assert person in huge.friends(np.array([j]))[0]


# --- properties over random layouts -----------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 300), min_size=1, max_size=4),
    workplace_size=st.integers(5, 60),
    household_size=st.integers(1, 8),
    friends=st.integers(0, 6).map(lambda k: 2 * k),
    seed=st.integers(0, 2**63 - 1),
)
def test_layers_are_consistent_for_any_layout(sizes, workplace_size, household_size, friends, seed):
    params = NetworkParams(
        household_size=household_size,
        workplace_size=workplace_size,
        district_workplaces=3,
        friends=friends,
    )
    network = Network(np.array(sizes), params, seed)
    check_workplaces(network)
    check_friendship(network)
    for person in range(0, network.size, 7):
        members = network.household_members(person)
        assert person in members and np.all(np.diff(members) == 1)
        assert len(members) <= household_size


# --- workplaces laid out in persons (a party-scale stratum) ----------------------------------
STRATUM_PARAMS = NetworkParams(
    household_size=4, workplace_size=20, workplace_persons=60, district_workplaces=5, friends=6
)
STRATUM_SIZES = np.array([3_000, 1_500])
STRATUM = np.array([300, 120])
WEIGHTS = (1.0, 10.0)


@pytest.fixture(scope="module")
def layered() -> Network:
    return Network(STRATUM_SIZES, STRATUM_PARAMS, seed=3, stratum=STRATUM, weights=WEIGHTS)


def test_persons_layout_has_one_workplace_per_workplace_persons(layered):
    persons = STRATUM * WEIGHTS[0] + (STRATUM_SIZES - STRATUM) * WEIGHTS[1]
    expected = np.round(persons / STRATUM_PARAMS.workplace_persons).astype(int)
    assert np.array_equal(np.diff(layered.layout.workplace_start), expected)


def test_persons_layout_shares_out_both_parts_evenly(layered):
    ids = all_ids(layered)
    workplace = layered.workplace(ids)
    in_stratum = layered.weight(ids) == WEIGHTS[0]
    for part in (in_stratum, ~in_stratum):
        counts = np.bincount(workplace[part], minlength=layered.n_workplaces)
        for r in range(len(STRATUM_SIZES)):
            block = counts[
                layered.layout.workplace_start[r] : layered.layout.workplace_start[r + 1]
            ]
            assert block.max() - block.min() <= 1
    for w in np.unique(workplace):
        members = layered.workplace_members(int(w))
        assert np.array_equal(members, np.flatnonzero(workplace == w))


def test_persons_layout_does_not_depend_on_the_citizens_scale():
    """The stratum's workplaces are the same when the others are modelled at another scale."""
    coarse = Network(STRATUM_SIZES, STRATUM_PARAMS, seed=3, stratum=STRATUM, weights=WEIGHTS)
    fine_sizes = STRATUM + (STRATUM_SIZES - STRATUM) * 10
    fine = Network(fine_sizes, STRATUM_PARAMS, seed=3, stratum=STRATUM, weights=(1.0, 1.0))
    assert coarse.n_workplaces == fine.n_workplaces
    for r in range(len(STRATUM)):
        coarse_ids = coarse.layout.start[r] + np.arange(STRATUM[r])
        fine_ids = fine.layout.start[r] + np.arange(STRATUM[r])
        assert np.array_equal(
            coarse.workplace(coarse_ids) - coarse.layout.workplace_start[r],
            fine.workplace(fine_ids) - fine.layout.workplace_start[r],
        )


def test_workmates_and_friends_are_drawn_by_persons(layered):
    rng = np.random.default_rng(0)
    ids = np.repeat(np.arange(STRATUM[0], STRATUM_SIZES[0]), 20)  # the others of region 0
    mates = layered.random_workmates(ids, 1, rng)[:, 0]
    mates = mates[mates >= 0]
    persons = STRATUM[0] * WEIGHTS[0] + (STRATUM_SIZES[0] - STRATUM[0]) * WEIGHTS[1]
    share = STRATUM[0] * WEIGHTS[0] / persons
    assert abs(np.mean(layered.weight(mates) == WEIGHTS[0]) - share) < 0.004
    friends = layered.random_friends(ids, rng)
    assert abs(np.mean(layered.weight(friends) == WEIGHTS[0]) - share) < 0.01


def test_workmates_share_the_workplace(layered):
    rng = np.random.default_rng(1)
    ids = all_ids(layered)
    mates = layered.random_workmates(ids, 3, rng)
    ok = mates >= 0
    assert np.array_equal(
        layered.workplace(mates[ok]),
        np.broadcast_to(layered.workplace(ids)[:, None], mates.shape)[ok],
    )


def test_households_stay_within_the_stratum(layered):
    rng = np.random.default_rng(2)
    ids = all_ids(layered)
    mates = layered.random_housemates(ids, rng)
    ok = mates >= 0
    assert np.array_equal(layered.weight(mates[ok]), layered.weight(ids[ok]))
