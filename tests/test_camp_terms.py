"""The camp term follows the body that passed the sentence, where its order set one.

Order 00447's category 2: 8-10 years; Order 00485's (the album): 5-10; Order 00486's wives before
the Special Board: 5-8 (docs/terror_sources.md sections 3 and 10). Every other route keeps the
gamma around `sentencing.camp_years`. Before session 25 every route drew that gamma (mean six
years), so a troika's prisoner could leave within a year.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chistka.errors import ScenarioError
from chistka.people import Fate
from chistka.scenario import scenario_from_dict
from test_routes import ALBUM, JUDGING_TROIKA, sentence_now
from test_state_bugs import TERROR_SMALL, build, citizens, deep_merge

YEAR = 365.25


def terms_in_years(camps, state, ids: np.ndarray) -> np.ndarray:
    """The term each of `ids` was given today, in years (from the camps' release calendar)."""
    release = camps.release_due._live.get(ids, -1)
    assert np.all(release > state.day), "every prisoner has a release day"
    return (release - state.day - 1) / YEAR


def sentenced_terms(changes: dict, channel: str, operation: int = -1, k: int = 600):
    """Sentence `k` citizens today by a channel and return the terms of those sent to camps."""
    state, mechanisms = build(deep_merge({"sentencing": {"dropped_share": 0}}, changes))
    accused = citizens(state, k)
    sentence_now(state, mechanisms["sentencing"], accused, channel, operation)
    prisoners = accused[state.people.fate[accused] == Fate.CAMP]
    assert len(prisoners) > k // 4
    return terms_in_years(mechanisms["camps"], state, prisoners)


BIG_TROIKA = JUDGING_TROIKA | {"limit_shoot": 1_000_000, "limit_camp": 1_000_000}


def test_order_00447s_troika_gives_its_category_two_eight_to_ten_years():
    terms = sentenced_terms(
        {"operations": [BIG_TROIKA | {"camp_years": [8, 10]}]}, "category", operation=0
    )
    assert terms.min() >= 8 - 1 / YEAR and terms.max() < 10
    assert 8.8 < terms.mean() < 9.2  # uniform between


def test_the_troika_gives_its_terms_to_the_cases_it_takes_from_other_channels():
    terms = sentenced_terms({"operations": [BIG_TROIKA | {"camp_years": [8, 10]}]}, "denunciation")
    assert terms.min() >= 8 - 1 / YEAR and terms.max() < 10


def test_the_album_gives_five_to_ten_years():
    album = ALBUM | {"camp_years": [5, 10]}
    terms = sentenced_terms(
        {"operations": [album], "sentencing": {"album_death_share": 0.3}}, "national", operation=0
    )
    assert terms.min() >= 5 - 1 / YEAR and terms.max() < 10


def test_the_special_board_gives_the_wives_of_traitors_five_to_eight_years():
    terms = sentenced_terms({"sentencing": {"family_camp_years": [5, 8]}}, "family")
    assert terms.min() >= 5 - 1 / YEAR and terms.max() < 8


def test_a_route_without_a_documented_term_keeps_the_gamma_around_the_mean():
    """The courts' case of the same scenario: terms spread on both sides of the range."""
    changes = {
        "operations": [BIG_TROIKA | {"camp_years": [8, 10]}],
        "sentencing": {"family_camp_years": [5, 8], "camp_years": 6.0},
    }
    state, mechanisms = build(deep_merge({"sentencing": {"dropped_share": 0}}, changes))
    state.day = (state.scenario.operations[0].end - state.start).days + 1  # the troika is closed
    accused = citizens(state, 600)
    sentence_now(state, mechanisms["sentencing"], accused, "denunciation")
    prisoners = accused[state.people.fate[accused] == Fate.CAMP]
    terms = terms_in_years(mechanisms["camps"], state, prisoners)
    assert 5.4 < terms.mean() < 6.6
    assert (terms < 5).mean() > 0.2 and (terms > 10).mean() > 0.02


def test_a_range_changes_no_other_prisoners_term():
    """The gamma is drawn for every prisoner first, so that the documented ranges take only
    their own prisoners' terms: the others' terms are the same to the day with or without."""
    state, mechanisms = build()
    camps = mechanisms["camps"]
    prisoners = citizens(state, 400)
    low = np.where(np.arange(400) % 3 == 0, 8.0, np.nan)
    high = np.where(np.arange(400) % 3 == 0, 10.0, np.nan)
    terms = {}
    for ranged in (False, True):
        rng = np.random.default_rng(7)
        camps.admit(state, prisoners, 6.0, rng, term_range=(low, high) if ranged else None)
        terms[ranged] = terms_in_years(camps, state, prisoners)
    plain = np.isnan(low)
    assert np.array_equal(terms[False][plain], terms[True][plain])
    assert np.all((terms[True][~plain] >= 8 - 1 / YEAR) & (terms[True][~plain] < 10))


@pytest.fixture(scope="module")
def small_camps():
    state, mechanisms = build()
    return state, mechanisms["camps"], citizens(state, 200)


@settings(max_examples=30, deadline=None)
@given(
    ends=st.tuples(st.floats(0.1, 25.0), st.floats(0.1, 25.0)).map(sorted),
    mean=st.floats(0.1, 25.0),
    ranged=st.lists(st.booleans(), min_size=200, max_size=200).map(np.array),
    seed=st.integers(0, 2**32 - 1),
)
def test_ranged_terms_stay_in_their_range_and_leave_the_others_alone(
    small_camps, ends, mean, ranged, seed
):
    state, camps, prisoners = small_camps
    low = np.where(ranged, ends[0], np.nan)
    high = np.where(ranged, ends[1], np.nan)
    camps.admit(state, prisoners, mean, np.random.default_rng(seed))
    plain = terms_in_years(camps, state, prisoners)
    camps.admit(state, prisoners, mean, np.random.default_rng(seed), term_range=(low, high))
    terms = terms_in_years(camps, state, prisoners)
    assert np.array_equal(terms[~ranged], plain[~ranged])
    one_day = 1 / YEAR
    assert np.all(terms[ranged] >= ends[0] - one_day) and np.all(terms[ranged] <= ends[1])


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sentencing": {"family_camp_years": [8, 5]}}, "sentencing.family_camp_years"),
        ({"sentencing": {"family_camp_years": [0, 5]}}, "family_camp_years"),
        ({"sentencing": {"family_camp_years": [5, 30]}}, "family_camp_years"),
        ({"sentencing": {"family_camp_years": [5]}}, "[shortest, longest] (got [5])"),
        ({"sentencing": {"family_camp_years": 5}}, "[shortest, longest] (got 5)"),
        ({"operations": [ALBUM | {"camp_years": [10, 5]}]}, "operation 'polish': camp_years"),
        ({"operations": [ALBUM | {"camp_years": [5, True]}]}, "camp_years"),
    ],
)
def test_an_impossible_range_of_terms_is_refused_with_its_field(changes, field):
    with pytest.raises(ScenarioError) as refused:
        scenario_from_dict(deep_merge(TERROR_SMALL, changes))
    assert field in str(refused.value)
