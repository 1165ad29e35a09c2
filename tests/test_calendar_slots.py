"""A replacing calendar over slots (an array of live days) behaves exactly like one over a dict."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chistka.state import Calendar, Slots
from test_state_bugs import build

PEOPLE = 12
"""People 0..11: few, so that entries for the same person (and the same day) are frequent."""

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
def test_slots_and_dict_give_the_same_entries(operations):
    by_dict = Calendar(replace=True)
    by_slots = Calendar(replace=True, slots=Slots(3 * PEOPLE, lambda ids: 2 * ids + 1))
    day, value = 0, 0
    for kind, argument in operations:
        if kind == "add":
            days = np.array([d for d, _ in argument], dtype=np.int64) + day
            people = np.array([p for _, p in argument], dtype=np.int64)
            values = np.arange(value, value + len(people))
            value += len(people)
            by_dict.add(days, people, values)
            by_slots.add(days, people, values)
        elif kind == "cancel":
            by_dict.cancel(np.array(argument, dtype=np.int64))
            by_slots.cancel(np.array(argument, dtype=np.int64))
        else:
            for _ in range(argument):
                expected, got = by_dict.pop(day), by_slots.pop(day)
                assert expected[0].tolist() == got[0].tolist()
                assert expected[1].tolist() == got[1].tolist()
                day += 1
    assert len(by_dict) == len(by_slots)


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
