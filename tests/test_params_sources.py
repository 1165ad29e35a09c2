"""`chistka params --scenario NAME`: every value a built-in scenario changes shows its source."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from chistka.cli import app
from chistka.commands.catalogue import parameter_rows
from chistka.scenario import builtin_scenarios

LABELS = ("scenario.name", "scenario.description", "scenario.compare")
"""Labels and the choice of charts, not values of the model: they need no source."""

SOURCED = re.compile(
    r"records\.csv|docs/|https?://|assumption|fitted|calibrated|census|decree|resolution"
    r"|item's own source",
    re.IGNORECASE,
)
"""What a source names: the record, a document of docs/, a census or decision, each item's own
source, or the labels 'assumption', 'fitted' or 'calibrated'. The dated events that set a value
later do not count: its value before them needs a source too."""


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_every_changed_value_of_a_builtin_scenario_shows_its_source(name):
    rows = [row for row in parameter_rows(name) if row.changed and row.path not in LABELS]
    assert rows, "the scenario changes no default"
    unsourced = [
        (row.path, row.value)
        for row in rows
        if not SOURCED.search(row.source.split("set by the timeline")[0])
    ]
    assert unsourced == []


def test_fitted_values_are_labelled_from_the_free_file():
    rows = {row.path: row for row in parameter_rows("great-terror")}
    assert "death_or_camp_1935" in rows["arrest.routine_rate_per_year"].source
    assert "fitted" in rows["arrest.routine_rate_per_year"].source
    assert "each item's own source" in rows["operations[].limit_shoot"].source


def test_an_unchanged_value_is_not_marked_changed():
    rows = {row.path: row for row in parameter_rows("party-purges-1921-1936")}
    assert not rows["camps.initial_population"].changed  # None in the file and by default
    assert not rows["operations[].name"].changed  # no operations


def test_params_command_shows_the_sources():
    result = CliRunner().invoke(
        app, ["params", "population", "--scenario", "great-terror"], env={"COLUMNS": "400"}
    )
    assert result.exit_code == 0, result.output
    assert "the 1937 census" in result.output


def test_population_size_says_what_each_scenario_represents():
    """great-terror's 162,000,000 is the whole 1937 census, the others' 80 M are adults (QA 45).

    The schema once called every `size` "adults represented", untrue of great-terror's.
    """
    for name in sorted(builtin_scenarios()):
        row = {row.path: row for row in parameter_rows(name)}["population.size"]
        assert "adults represented" not in row.description
        assert "persons represented" in row.description
    terror = {row.path: row for row in parameter_rows("great-terror")}["population.size"]
    assert "whole population" in terror.source and "1937 census" in terror.source
    assert (
        "adults"
        in {r.path: r for r in parameter_rows("party-purges-1921-1936")}["population.size"].source
    )
