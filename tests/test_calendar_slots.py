"""A replacing calendar keeps one live entry per person, over slots or in its hash table."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chistka.state import Calendar, IdDays, Slots, column_of
from test_state_bugs import build

PEOPLE = 12
"""People 0..11: few, so that entries for the same person (and the same day) are frequent."""


class Reference:
    """The replacing calendar's rules written plainly: a list of entries and a dict of live days."""

    def __init__(self) -> None:
        self.entries: list[tuple[int, int, int]] = []  # day, person, value in the order added
        self.live: dict[int, int] = {}

    def add(self, days, people, values) -> None:
        for day, person, value in zip(days, people, values, strict=True):
            self.entries.append((int(day), int(person), int(value)))
            self.live[int(person)] = int(day)

    def cancel(self, people) -> None:
        for person in people:
            self.live.pop(int(person), None)

    def pop(self, day: int) -> tuple[list[int], list[int]]:
        today = [(p, v) for d, p, v in self.entries if d == day]
        self.entries = [e for e in self.entries if e[0] != day]
        last = {p: i for i, (p, _) in enumerate(today)}
        kept = [
            (p, v) for i, (p, v) in enumerate(today) if last[p] == i and self.live.get(p) == day
        ]
        for p, _ in kept:
            del self.live[p]
        return [p for p, _ in kept], [v for _, v in kept]


operation = st.one_of(
    st.tuples(
        st.just("add"),
        st.lists(st.tuples(st.integers(0, 150), st.integers(0, PEOPLE - 1)), max_size=8),
    ),
    st.tuples(st.just("cancel"), st.lists(st.integers(0, PEOPLE - 1), max_size=4)),
    st.tuples(st.just("pop"), st.integers(1, 20)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(operation, max_size=40))
def test_hash_table_and_slots_follow_the_rules(operations):
    reference = Reference()
    by_ids = Calendar(replace=True)
    by_slots = Calendar(replace=True, slots=Slots(3 * PEOPLE, lambda ids: 2 * ids + 1))
    day, value = 0, 0
    for kind, argument in operations:
        if kind == "add":
            days = np.array([d for d, _ in argument], dtype=np.int64) + day
            people = np.array([p for _, p in argument], dtype=np.int64)
            values = np.arange(value, value + len(people))
            value += len(people)
            for calendar in (reference, by_ids, by_slots):
                calendar.add(days, people, values)
        elif kind == "cancel":
            for calendar in (reference, by_ids, by_slots):
                calendar.cancel(np.array(argument, dtype=np.int64))
        else:
            for _ in range(argument):
                expected = reference.pop(day)
                for calendar in (by_ids, by_slots):
                    people, values = calendar.pop(day)
                    assert (people.tolist(), values.tolist()) == expected
                day += 1
    assert len(by_ids) == len(by_slots) == len(reference.entries)


def test_the_hash_table_grows_and_forgets():
    rng = np.random.default_rng(2)
    table = IdDays()
    people = rng.choice(162_000_000, 50_000, replace=False)
    days = rng.integers(0, 3000, len(people))
    for part in np.array_split(np.arange(len(people)), 37):  # grows several times
        table.set(people[part], days[part])
    assert len(table) == len(people)
    assert np.array_equal(table.get(people, -5), days)
    table.drop(people[::2])
    table.drop(people[::2])  # dropping twice changes nothing
    assert len(table) == len(people) // 2
    assert np.all(table.get(people[::2], -5) == -5)
    assert np.array_equal(table.get(people[1::2], -5), days[1::2])
    table.set(people[::2], days[::2] + 1)  # the removed places are used again
    table.set(np.array([people[1], people[1]]), np.array([7, 8]))  # the later entry wins
    assert table.get(people[:2], -5).tolist() == [days[0] + 1, 8]
    assert len(table) == len(people)
    expected = days.copy()
    expected[::2] += 1
    expected[1] = 8
    order = np.argsort(people)
    ids, held = table.items()
    assert np.array_equal(ids, people[order]) and np.array_equal(held, expected[order])
    table.drop(people[:10])
    assert np.array_equal(table.items()[0], np.sort(people[10:]))


def test_stratum_slots_number_the_stratum_in_order():
    state, _ = build()
    slots = state.stratum_slots()
    stratum = state.stratum_ids()
    assert slots.size == len(stratum)
    assert np.array_equal(slots.of(stratum), np.arange(len(stratum)))
    outside = np.setdiff1d(np.arange(len(state.people)), stratum)[:3]
    with pytest.raises(ValueError, match="outside"):
        slots.of(outside)


def test_slots_need_a_replacing_calendar():
    with pytest.raises(ValueError, match="replace=True"):
        Calendar(slots=Slots(3, lambda ids: ids))
    with pytest.raises(ValueError, match="replace=True"):
        Calendar().cancel(np.array([1]))


def test_a_calendar_keeps_its_own_copy_of_what_is_added():
    """Changing the arrays given to `add` later changes nothing scheduled (one block or more)."""
    for days in (np.array([5, 6, 7]), np.array([5, 300, 900])):
        calendar = Calendar()
        people, values = np.array([1, 2, 3]), np.array([10, 20, 30])
        calendar.add(days, people, values)
        days_given = days.copy()
        people[:] = -9
        values[:] = -9
        days[:] = 0
        got = [calendar.pop(int(day)) for day in days_given]
        assert [(p.tolist(), v.tolist()) for p, v in got] == [([1], [10]), ([2], [20]), ([3], [30])]


def test_column_of_repeats_a_single_value_and_keeps_an_array_of_the_right_length():
    assert column_of(7, 3).tolist() == [7, 7, 7]
    assert column_of(np.array([5]), 2).tolist() == [5, 5]
    values = np.array([1, 2, 3], dtype=np.int64)
    assert column_of(values, 3) is values
    with pytest.raises(ValueError, match="expected 2 values"):
        column_of(values, 2)


def test_a_plain_calendar_returns_each_day_in_the_order_added_and_reuses_its_places():
    rng = np.random.default_rng(4)
    calendar, reference = Calendar(), Reference()
    value = 0
    for day in range(3000):  # past the first 1,024 days held
        people = rng.integers(0, 1000, rng.integers(0, 40))
        days = day + 1 + rng.integers(0, 90, len(people))
        values = np.arange(value, value + len(people))
        value += len(people)
        calendar.add(days, people, values)
        reference.entries += [
            (int(d), int(p), int(v)) for d, p, v in zip(days, people, values, strict=True)
        ]
        today = [(p, v) for d, p, v in reference.entries if d == day]
        reference.entries = [e for e in reference.entries if e[0] != day]
        people, values = calendar.pop(day)
        assert list(zip(people.tolist(), values.tolist(), strict=True)) == today
    assert len(calendar) == len(reference.entries)
    # about 90 days of about 20 entries wait at any time: the places of popped entries are used
    # again instead of growing with the 60,000 entries added
    assert len(calendar._lists[4]) <= 8192  # the people column of the entries
    assert calendar.pop(10**6)[0].tolist() == []
    with pytest.raises(ValueError, match="from 0"):
        calendar.add(np.array([-1]), np.array([5]))
