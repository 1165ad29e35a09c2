"""Issue 11's parameter budget in the quick tier, counted on the stored regression summaries.

The slow tier checks the budget on fresh default runs (`test_builtin_scenarios.py`) and that each
stored summary is what a fresh run gives (the regression tests). Here the calibration rows a run
scores (modelled kinds with a value in the run) are read from the stored summaries, so that a free
file that outgrows its rows fails in `make test` already.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chistka import builtin_scenarios
from chistka.analysis.comparison import parameter_budget, plan
from chistka.mechanisms.camps import camp_input_rows
from chistka.scenario import load_scenario
from chistka.scenario.fitted import fitted_parameters

REGRESSION = Path(__file__).parent / "regression"


def scored_calibration_rows(name: str) -> list[str]:
    """The calibration rows a default run of the built-in scenario scores (its stored summary)."""
    scenario = load_scenario(name)
    stored = json.loads((REGRESSION / f"{name}.json").read_text())["observables"]
    planned = plan(scenario.scenario.name, scenario.scenario.compare, camp_input_rows(scenario))
    scored = [row for row in planned if row.role == "calibration" and row.modelled]
    return [row.row.id for row in scored if stored.get(row.spec.observable) is not None]


@pytest.mark.parametrize("name", list(builtin_scenarios()))
def test_fitted_parameters_are_at_most_half_the_rows_the_stored_run_scores(name):
    rows = scored_calibration_rows(name)
    fitted = fitted_parameters(load_scenario(name).scenario.name)
    budget = parameter_budget(fitted, {"calibration": {"rows": len(rows)}})
    assert budget["calibration_rows"] > 0 and budget["fitted"] > 0
    assert budget["within"], budget


def test_the_count_follows_the_scenarios_compare_list():
    """great-terror scores the 1953 table's whole count of the convicted (six rows, 1935-40) only
    because its `compare` list names political_sentences (docs/decisions.md 20.1)."""
    rows = scored_calibration_rows("great-terror")
    assert {f"convicted_{year}" for year in range(1935, 1941)} <= set(rows)
    purges = scored_calibration_rows("purges-1921-1953")
    assert not any(row.startswith("convicted_") for row in purges)
