"""The day loop's compiled kernels give exactly what the numpy code they replace gave."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chistka import kernels
from chistka.state import SimState

ids = st.lists(st.integers(0, 40), max_size=60)


@settings(max_examples=300, deadline=None)
@given(ids, ids)
def test_first_new_is_numpys_first_occurrences_less_the_taken(batch, taken):
    batch, taken = np.array(batch, dtype=np.int64), np.array(taken, dtype=np.int64)
    expected = batch[np.sort(np.unique(batch, return_index=True)[1])]
    expected = expected[~np.isin(expected, taken)]
    assert kernels.first_new(batch, taken).tolist() == expected.tolist()


def test_first_new_on_large_ids_and_batches():
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 162_000_000, 70_000)
    batch[::7] = batch[0]  # many repeats of one id
    taken = rng.choice(batch, 5_000)
    expected = batch[np.sort(np.unique(batch, return_index=True)[1])]
    expected = expected[~np.isin(expected, taken)]
    assert np.array_equal(kernels.first_new(batch, taken), expected)


def numpy_move(ids, new_status, new_fate, status, fate, origin, weight, counts, persons):
    """The numpy code `kernels.move` replaced (`SimState._move` before it)."""
    shape, size = counts.shape, counts.size
    old = np.ravel_multi_index((status[ids], fate[ids], origin[ids].astype(np.int64)), shape)
    new = np.ravel_multi_index((new_status, new_fate, origin[ids].astype(np.int64)), shape)
    w = weight[ids].astype(np.float64)
    counts -= np.bincount(old, minlength=size).reshape(shape)
    counts += np.bincount(new, minlength=size).reshape(shape)
    persons -= np.bincount(old, weights=w, minlength=size).reshape(shape)
    persons += np.bincount(new, weights=w, minlength=size).reshape(shape)
    status[ids] = new_status
    fate[ids] = new_fate


def numpy_new_cells(ids, new_status, new_fate, expel, status, fate):
    """The new status and fate of each id as `SimState` computed them before `kernels.move`."""
    to_status = status[ids].astype(np.int64) if new_status == kernels.KEEP else new_status
    to_status = np.broadcast_to(to_status, ids.shape).copy()
    if expel != kernels.KEEP:
        to_status[(to_status == 1) | (to_status == 2)] = expel
    to_fate = fate[ids].astype(np.int64) if new_fate == kernels.KEEP else new_fate
    return to_status, np.broadcast_to(to_fate, ids.shape).copy()


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(0, 50),
    st.integers(kernels.KEEP, 5),
    st.integers(kernels.KEEP, 4),
    st.booleans(),
)
def test_move_is_numpys_bincounts_bit_for_bit(seed, k, new_status, new_fate, expel):
    rng = np.random.default_rng(seed)
    n, shape = 30, (6, 5, 4)
    status = rng.integers(0, shape[0], n).astype(np.int8)
    fate = rng.integers(0, shape[1], n).astype(np.int8)
    origin = rng.integers(0, shape[2], n).astype(np.int8)
    weight = (rng.random(n) * 100).astype(np.float32)
    counts = np.zeros(shape, dtype=np.int64)
    np.add.at(counts, (status, fate, origin), 1)
    persons = rng.random(shape) * 1e7  # sums with rounding to get exactly right
    ids = rng.integers(0, n, k)  # repeated people included
    expel = 3 if expel else kernels.KEEP
    arrays = (status, fate, origin, weight, counts, persons)
    expected = [a.copy() for a in arrays]
    got = [a.copy() for a in arrays]
    cells = numpy_new_cells(ids, new_status, new_fate, expel, status, fate)
    numpy_move(ids, *cells, *expected)
    # a weight of its own for each person: one id range each (`people.RangeConstant`)
    edges = np.arange(n + 1, dtype=np.int64)
    kernels.move(ids, new_status, new_fate, expel, *got[:3], edges, *got[3:])
    for a, b in zip(expected, got, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)


@settings(max_examples=300, deadline=None)
@given(ids)
def test_last_occurrences_are_numpys(batch):
    batch = np.array(batch, dtype=np.int64)
    expected = np.zeros(len(batch), dtype=bool)
    expected[len(batch) - 1 - np.unique(batch[::-1], return_index=True)[1]] = True
    assert kernels.last_occurrences(batch).tolist() == expected.tolist()


def test_scatter_in_order_keeps_the_last_value_of_a_repeated_index():
    target = np.zeros(5, dtype=np.int64)
    kernels.scatter_in_order(target, np.array([1, 3, 1, 1, 4]), np.array([10, 30, 11, 12, 40]))
    assert target.tolist() == [0, 12, 0, 30, 40]


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 3_000),
    st.floats(0.0, 1.0),
    st.sampled_from([None, (100, 900), "among"]),
)
def test_a_pure_acceptance_judged_in_parts_gives_the_same_people(seed, k, share, where):
    state = SimpleNamespace(people=np.zeros(1_000))  # sample_people reads only the population size
    acceptable = np.random.default_rng(seed).random(1_000) < share
    among = np.arange(0, 1_000, 3) if where == "among" else None
    id_range = where if isinstance(where, tuple) else None

    def sample(pure: bool) -> tuple[list[int], float]:
        rng = np.random.default_rng(seed)
        ids = SimState.sample_people(
            state,
            rng,
            k,
            lambda ids, rng: acceptable[ids],
            id_range=id_range,
            among=among,
            give_up=5_000,
            max_draws=20_000,
            pure=pure,
        )
        return ids.tolist(), rng.random()  # the stream is left where it was, too

    assert sample(True) == sample(False)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 50))
def test_at_liberty_and_read_and_mark_are_numpys(seed, k):
    """`SimState.free` and `EventLog.add`'s reads, as the numpy code they replace gave them."""
    rng = np.random.default_rng(seed)
    n = 30
    fate = rng.integers(0, 5, n).astype(np.int8)
    status = rng.integers(0, 6, n).astype(np.int8)
    ids = rng.integers(0, n, k)  # repeated people included
    expected = (fate[ids] == 0) & (status[ids] != 5)
    assert np.array_equal(kernels.at_liberty(ids, fate, status, 0, 5), expected)
    cohort = rng.integers(-1, 9, n).astype(np.int8)
    rank = rng.integers(0, 5, n).astype(np.int8)
    opposition = rng.random(n) < 0.5
    flags = rng.integers(0, 256, n).astype(np.uint8)
    expected_flags = flags.copy()
    expected_flags[ids] |= np.uint8(8)
    out = [np.zeros(k, dtype=np.int8), np.zeros(k, dtype=np.int8), np.zeros(k, dtype=bool)]
    kernels.read_and_mark(ids, cohort, rank, opposition, flags, 8, *out)
    assert np.array_equal(flags, expected_flags)
    for got, attribute in zip(out, (cohort, rank, opposition), strict=True):
        assert np.array_equal(got, attribute[ids])


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 40), st.booleans())
def test_die_is_the_numpy_passes_it_replaces_bit_for_bit(seed, k, stratified):
    """`SimState.natural_deaths` in one pass: the move to DEAD, who is followed, the tally."""
    rng = np.random.default_rng(seed)
    n, shape, regions = 40, (6, 5, 4), 3
    dead, recorded = 5, 8
    region_start = np.array([0, 10, 25, n], dtype=np.int64)
    part_start = np.array([4, 18, 30], dtype=np.int64)
    status = rng.integers(0, 5, n).astype(np.int8)
    fate = rng.integers(0, shape[1], n).astype(np.int8)
    origin = rng.integers(0, shape[2], n).astype(np.int8)
    weight = (rng.random(n) * 100).astype(np.float32)
    flags = rng.integers(0, 256, n).astype(np.uint8)
    counts = np.zeros(shape, dtype=np.int64)
    np.add.at(counts, (status, fate, origin), 1)
    persons = rng.random(shape) * 1e7  # sums with rounding to get exactly right
    deaths = rng.integers(0, 5, (regions, shape[2]))
    death_persons = rng.random((regions, shape[2])) * 1e7
    ids = rng.choice(n, k, replace=False).astype(np.int64)  # the dead are distinct
    arrays = (status, fate, origin, weight, counts, persons)
    expected = [a.copy() for a in arrays]
    cells = numpy_new_cells(ids, dead, kernels.KEEP, kernels.KEEP, status, fate)
    numpy_move(ids, *cells, *expected)
    region = np.searchsorted(region_start, ids, side="right") - 1
    followed = ~np.full(k, stratified) | (ids < part_start[region]) | ((flags[ids] & recorded) > 0)
    citizens = ids[~followed]
    cell = np.ravel_multi_index((region[~followed], origin[citizens]), deaths.shape)
    size = deaths.size
    expected_deaths = deaths + np.bincount(cell, minlength=size).reshape(deaths.shape)
    expected_death_persons = death_persons + np.bincount(
        cell, weights=weight[citizens].astype(np.float64), minlength=size
    ).reshape(deaths.shape)
    got = [a.copy() for a in arrays]
    got_flags = flags.copy()
    got_followed = kernels.die(
        ids,
        dead,
        *got[:3],
        np.arange(n + 1, dtype=np.int64),  # a weight of its own for each person
        got[3],
        got_flags,
        recorded,
        region_start,
        part_start,
        not stratified,
        *got[4:],
        deaths,
        death_persons,
    )
    assert np.array_equal(got_followed, followed) and np.array_equal(got_flags, flags)
    for a, b in zip(expected, got, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert np.array_equal(deaths, expected_deaths)
    assert np.array_equal(death_persons, expected_death_persons)


def test_weighted_draws_have_the_law_of_accepting_uniform_draws_by_weight():
    """`sample_people(alias=...)`: each id in proportion to its weight, among the accepted.

    The admissions drew pool positions uniformly and kept them with probability density / 4;
    they now draw in proportion to density. The chance that each id is among k = 3 drawn, over
    4,000 samples each way, agrees within 5 standard errors.
    """
    state = SimpleNamespace(people=np.zeros(8))
    weight = np.array([0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0])
    eligible = np.array([True, True, True, False, True, True, True, True])
    rng = np.random.default_rng(5)
    repeats, k = 4_000, 3
    weighted, rejection = np.zeros(8), np.zeros(8)
    table = kernels.alias_table(weight)
    for _ in range(repeats):
        ids = SimState.sample_people(
            state, rng, k, lambda ids, rng: eligible[ids], alias=table, pure=True
        )
        weighted[ids] += 1
        ids = SimState.sample_people(
            state, rng, k, lambda ids, rng: eligible[ids] & (rng.random(len(ids)) < weight[ids])
        )
        rejection[ids] += 1
    assert weighted[0] == weighted[3] == rejection[0] == rejection[3] == 0
    p = (weighted + rejection) / (2 * repeats)
    standard_error = np.sqrt(2 * p * (1 - p) / repeats) + 1e-9
    assert np.all(np.abs(weighted - rejection) / repeats <= 5 * standard_error)
    with pytest.raises(ValueError, match="alias"):
        SimState.sample_people(
            state,
            rng,
            1,
            lambda ids, rng: eligible[ids],
            alias=kernels.alias_table(weight),
            id_range=(0, 4),
        )


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([0.0, 0.0, 0.01, 0.1, 0.25, 0.5, 1.0, 3.0, 7.5]), max_size=60))
def test_the_alias_table_gives_each_position_its_share_of_the_weight(weights):
    weights = np.array(weights, dtype=np.float64)
    threshold, alias = kernels.alias_table(weights)
    n = len(weights)
    if n == 0 or weights.sum() == 0:
        return
    # a uniform position keeps itself below its threshold, else goes to its alias
    implied = threshold.copy()
    np.add.at(implied, alias, 1.0 - threshold)
    assert np.allclose(implied / n, weights / weights.sum(), atol=1e-12)
    assert np.all(threshold[weights == 0] == 0) and np.all(weights[alias] > 0)
