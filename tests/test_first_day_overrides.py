"""A value given for a run (--set, a sweep's set, a fit) holds from the first day.

`chistka calibrate` writes its fitted values into fitted.toml both on their lines and as an event
of the first day. Before session 45 that event was applied after a `--set` and silently put the
fitted value back: `chistka run fitted.toml --set PARAM=...` ran the fit, not the change.
"""

from __future__ import annotations

import datetime as dt

import pytest

from chistka.analysis.experiment import set_for_the_whole_run
from chistka.analysis.free import as_start_event, start_value
from chistka.commands.sweep import apply_set_options
from chistka.scenario import apply_overrides, load_scenario
from chistka.scenario.fitted import FITTED_NOTE
from chistka.scenario.schema import PolicyEvent


@pytest.fixture(scope="module")
def fitted():
    """great-terror as calibrate writes it: the fitted values also set on the first day."""
    return as_start_event(
        load_scenario("great-terror"),
        {"sentencing.death_share": 0.05, "interrogation.torture": 0.4},
        note=FITTED_NOTE,
    )


def test_a_set_value_is_the_value_of_the_first_day(fitted):
    changed = apply_set_options(fitted, ["sentencing.death_share=0.2"])
    assert start_value(changed, "sentencing.death_share") == 0.2
    assert start_value(changed, "interrogation.torture") == 0.4  # the fit's other value stays
    assert changed.sentencing.death_share == 0.2


def test_a_later_event_still_changes_the_value_on_its_date(fitted):
    later = fitted.model_copy(
        update={
            "events": [
                *fitted.events,
                PolicyEvent(date=dt.date(1936, 1, 1), set={"sentencing.death_share": 0.3}),
            ]
        }
    )
    changed = apply_overrides(later, {"sentencing.death_share": 0.2}, where="--set")
    kept = [e for e in changed.events if e.date == dt.date(1936, 1, 1)]
    assert kept[-1].set == {"sentencing.death_share": 0.3}


def test_a_field_of_a_table_the_first_day_sets_keeps_the_other_fields():
    base = load_scenario("great-terror")
    table = base.review.criteria.model_dump()
    table["origin_peasant"], table["origin_alien"] = 2.0, 3.0
    with_table = base.model_copy(
        update={
            "events": [
                PolicyEvent(date=base.scenario.start, set={"review.criteria": dict(table)}),
                *base.events,
            ]
        }
    )
    changed = apply_overrides(with_table, {"review.criteria.origin_peasant": 0.5}, where="--set")
    assert start_value(changed, "review.criteria") == {**table, "origin_peasant": 0.5}


def test_an_experiment_arm_may_change_a_value_the_first_day_sets(fitted):
    changed = set_for_the_whole_run(
        fitted, {"sentencing.death_share": 0.2}, "arm 'x': set", "experiment arm"
    )
    assert start_value(changed, "sentencing.death_share") == 0.2


def test_the_day_loop_runs_the_value_given(small_scenario):
    """End to end: the engine's parameters after the first day are the --set value's."""
    from chistka.engine import Sim

    fit = as_start_event(small_scenario, {"mortality.rate_per_year": 0.02}, note=FITTED_NOTE)
    changed = apply_set_options(fit, ["mortality.rate_per_year=0.2"])
    _, state, _ = Sim(changed, seed=3).run_with_state()
    assert state.scenario.mortality.rate_per_year == 0.2


def test_run_says_until_when_a_set_value_holds(tmp_path):
    """QA 45: `run --set interrogation.torture=0.5` ran the value until the timeline's event of
    5 Mar 1937 set it again, unsaid; calibrate's table says so for a free parameter."""
    from typer.testing import CliRunner

    from chistka.cli import app

    occupied = tmp_path / "a-file"
    occupied.write_text("not a folder")
    args = ["run", "great-terror", "--set", "interrogation.torture=0.5"]
    args += ["--set", "review.noise_sd=0.8", "--out", str(occupied)]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "--set interrogation.torture holds until 1937-03-05 (the timeline sets it then)" in said
    assert "review.noise_sd holds" not in said
