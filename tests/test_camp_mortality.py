"""The camps' yearly mortality from the record: the Gulag's certificate of mortality, 1930-1953
(records.csv gulag_camp_mortality_YEAR; docs/decisions.md 46.1). Until session 46 every year took
1937-38's 5.6%, where the record has 24.9% in 1942 and under 1% from 1950.
"""

from __future__ import annotations

import numpy as np
import pytest

from chistka.mechanisms.camps import recorded_mortality
from chistka.people import Fate
from test_camp_releases_held import prisoners_with_terms, run_days
from test_state_bugs import build


def test_the_record_gives_the_mortality_of_every_year_from_1930_to_1953():
    mortality = recorded_mortality()
    assert sorted(mortality) == list(range(1930, 1954))
    assert mortality[1933] == pytest.approx(0.153)
    assert mortality[1942] == pytest.approx(0.249)
    assert mortality[1952] == pytest.approx(0.0084)


def died_in_a_year(start: str, from_record: bool, constant: float = 0.0) -> float:
    """Share of 3,000 prisoners with long terms who die in the camps over the year from `start`."""
    state, mechanisms = build(
        {
            "scenario": {"start": start, "end": f"{int(start[:4]) + 1}-12-31"},
            "camps": {"mortality_per_year": constant, "mortality_from_record": from_record},
        }
    )
    camps = mechanisms["camps"]
    prisoners = prisoners_with_terms(camps, state, 3_000, 25.0)
    run_days(state, camps, 1, 366)
    return float(np.mean(state.people.fate[prisoners] == Fate.DIED))


def test_a_war_year_kills_at_the_records_rate_not_the_scenarios_constant():
    expected = 1 - np.exp(-0.249)  # 1942: a daily rate of 24.9% a year over the year
    assert died_in_a_year("1942-01-01", True) == pytest.approx(expected, abs=0.025)
    assert died_in_a_year("1942-01-01", False) == 0.0


def test_a_year_before_the_series_takes_the_scenarios_constant():
    expected = 1 - np.exp(-0.2)
    assert died_in_a_year("1925-01-01", True, 0.2) == pytest.approx(expected, abs=0.025)
