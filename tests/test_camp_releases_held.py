"""The war's hold of releases: NKVD/Procurator directive No. 221 of 22 Jun 1941 stopped the
releases of counter-revolutionaries from the camps; those whose terms ended stayed until the
NKVD let them go in April 1942 (docs/decisions.md 44.1).
"""

from __future__ import annotations

import numpy as np

from chistka.people import Fate
from chistka.state import EventKind
from test_state_bugs import build, citizens


def prisoners_with_terms(camps, state, k: int, mean_years: float) -> np.ndarray:
    """`k` citizens sent to the camps today for about `mean_years` each."""
    ids = citizens(state, k)
    state.transition_fate(ids, Fate.ARRESTED, EventKind.ARRESTED)
    state.transition_fate(ids, Fate.CAMP, EventKind.SENTENCED_CAMP)
    camps.admit(state, ids, mean_years, camps.rng)
    return ids


def run_days(state, camps, first: int, last: int) -> None:
    for day in range(first, last):
        state.day = day
        camps.step(state)


def test_terms_that_end_during_the_hold_are_served_until_it_ends_and_then_released_at_once():
    state, mechanisms = build({"camps": {"mortality_per_year": 0.0}})
    camps = mechanisms["camps"]
    prisoners = prisoners_with_terms(camps, state, 300, 0.5)
    state.scenario.camps.releases_held = True
    run_days(state, camps, 1, 1500)  # every term of about half a year has ended
    assert np.all(state.people.fate[prisoners] == Fate.CAMP)
    state.scenario.camps.releases_held = False
    run_days(state, camps, 1500, 1501)
    assert np.all(state.people.fate[prisoners] == Fate.FREE)


def test_no_early_release_or_review_during_the_hold_and_deaths_go_on():
    state, mechanisms = build(
        {
            "camps": {
                "mortality_per_year": 0.5,
                "early_release_per_year": 1.0,
                "post_halt_review": True,
                "review_release_per_year": 1.0,
                "releases_held": True,
            }
        }
    )
    camps = mechanisms["camps"]
    prisoners = prisoners_with_terms(camps, state, 400, 25.0)
    camps.reviewable.extend(prisoners)
    run_days(state, camps, 1, 366)
    fates = state.people.fate[prisoners]
    assert not np.any(fates == Fate.FREE)
    assert 0.2 < np.mean(fates == Fate.DIED) < 0.6


def test_those_who_die_during_the_hold_are_not_released_when_it_ends():
    state, mechanisms = build({"camps": {"mortality_per_year": 1.0, "releases_held": True}})
    camps = mechanisms["camps"]
    prisoners = prisoners_with_terms(camps, state, 300, 0.2)
    run_days(state, camps, 1, 700)
    died = state.people.fate[prisoners] == Fate.DIED
    assert died.any() and not died.all()
    state.scenario.camps.releases_held = False
    logged = state.log.size
    run_days(state, camps, 700, 701)
    assert np.all(state.people.fate[prisoners][died] == Fate.DIED)
    columns = state.log.columns()
    freed = columns["person"][logged:][columns["kind"][logged:] == EventKind.RELEASED]
    freed = freed[np.isin(freed, prisoners)]  # the first day's prisoners are held too
    np.testing.assert_array_equal(np.sort(freed), np.sort(prisoners[~died]))
