"""The compiled passes over everybody, the block calendar and the growing buffers.

The kernels must give the numbers of their numpy definitions, and the same results whatever the
number of threads (reproducible serial or parallel).
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chistka import Sim, kernels
from chistka.rng import hash_uniform, salt_key
from chistka.scenario import scenario_from_dict
from chistka.state import Calendar, EventLog, IdBuffer
from conftest import make_scenario
from test_terror import TERROR


def test_uniform_matches_hash_uniform():
    n = 20_000
    out = np.full(n + 10, 99, dtype=np.int8)
    ranges = np.array([[10, n + 10]], dtype=np.int64)
    cdf = np.linspace(0.1, 1.0, 10)
    kernels.fill_categorical(ranges, salt_key(5, 77), cdf, -1, out)
    expected = np.searchsorted(cdf, hash_uniform(5, 77, np.arange(10, n + 10)), side="right")
    assert np.array_equal(out[10:], expected.astype(np.int8))
    assert np.all(out[:10] == 99)  # ids outside the ranges are left alone


def test_categorical_shares_and_none_code():
    n = 200_000
    out = np.empty(n, dtype=np.int8)
    shares = np.array([0.2, 0.3, 0.5])
    kernels.fill_categorical(np.array([[0, n]]), salt_key(1, 3), np.cumsum(shares), 2, out)
    assert abs(np.mean(out == 0) - 0.2) < 0.01
    assert abs(np.mean(out == 1) - 0.3) < 0.01
    assert np.all(out[out >= 0] < 2) and abs(np.mean(out == -1) - 0.5) < 0.01


def test_group_by_code_lists_every_id_once_in_order():
    rng = np.random.default_rng(3)
    codes = rng.integers(-1, 4, size=100_003).astype(np.int8)
    ids, offsets = kernels.group_by_code(codes, 4)
    for code in range(4):
        assert np.array_equal(ids[offsets[code] : offsets[code + 1]], np.flatnonzero(codes == code))
    assert offsets[-1] == np.count_nonzero(codes >= 0)


@pytest.mark.parametrize("threads", [1, 2])
def test_population_does_not_depend_on_the_number_of_threads(threads):
    scenario = scenario_from_dict(TERROR)
    reference = Sim(scenario, seed=4).build()[0]
    previous = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        state = Sim(scenario, seed=4).build()[0]
    finally:
        numba.set_num_threads(previous)
    for name in ("origin", "hostile", "category", "diaspora", "status", "misconduct"):
        assert np.array_equal(getattr(state.people, name), getattr(reference.people, name))
    assert np.array_equal(state.counts, reference.counts)
    assert np.array_equal(state.persons, reference.persons)


def test_census_counts_everybody():
    state = Sim(make_scenario(), seed=2).build()[0]
    people = state.people
    assert state.counts.sum() == len(people)
    weight = np.asarray(people.weight, dtype=np.float64)
    assert state.persons.sum() == pytest.approx(weight.sum())
    expected = np.bincount(np.asarray(people.region), weights=weight)
    assert np.allclose(state.region_persons, expected)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 300), st.lists(st.integers(0, 400), max_size=30)),
        max_size=25,
    )
)
def test_calendar_pops_what_a_naive_calendar_pops(plan):
    """Adds at increasing days, pops every day: same people, same order as a per-day dict."""
    calendar, naive = Calendar(), {}
    rng = np.random.default_rng(0)
    plan = sorted(plan)
    for today in range(0, 400):
        for add_day, offsets in plan:
            if add_day == today and offsets:
                days = today + 1 + np.array(offsets)
                people = rng.integers(0, 1000, size=len(days))
                values = rng.integers(0, 9, size=len(days))
                calendar.add(days, people, values)
                for d, p, v in zip(days, people, values, strict=True):
                    naive.setdefault(int(d), []).append((int(p), int(v)))
        people, values = calendar.pop(today)
        expected = naive.pop(today, [])
        assert list(zip(people.tolist(), values.tolist(), strict=True)) == expected
    assert len(calendar) == sum(len(v) for v in naive.values())


def test_id_buffer_and_event_log_grow():
    buffer = IdBuffer()
    log = EventLog()
    for k in range(50):
        ids = np.arange(k * 100, k * 100 + 100)
        buffer.extend(ids)
        log.add(k, ids, kind=1, cause=ids - 1)
    assert np.array_equal(buffer.view(), np.arange(5000))
    columns = log.columns()
    assert np.array_equal(columns["person"], np.arange(5000))
    assert np.array_equal(columns["day"], np.repeat(np.arange(50), 100))
    assert np.array_equal(columns["cause"], np.arange(5000) - 1)
    assert np.all(np.isnan(columns["score"])) and np.all(columns["campaign"] == -1)
    log.add(49, np.arange(3), kind=1)  # the latest day again
    with pytest.raises(ValueError, match="day 48 after one on day 49"):
        log.add(48, np.arange(3), kind=1)
    assert log.size == 5003
