"""What-if scenarios (chistka.scenario.whatif): a scenario without some of its decisions."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from chistka.cli import app
from chistka.errors import ScenarioError
from chistka.scenario import load_scenario, scenario_from_dict
from chistka.scenario.whatif import decision_notes, removable, without


@pytest.fixture(scope="module")
def terror():
    return load_scenario("great-terror")


def test_removable_names_every_day_of_the_timeline_and_every_named_item(terror):
    names = removable(terror)
    assert "events.1938-11-17" in names and "operations.order_00447" in names
    assert len(names) == (
        len({e.date for e in terror.events})
        + len(terror.operations)
        + len(terror.campaigns)
        + len(terror.show_trials)
    )


def test_an_operation_goes_with_the_timeline_settings_of_its_fields(terror):
    data = terror.model_dump(mode="json")
    day = data["events"][0]["date"]
    data["events"][0]["set"]["operations.polish.limit_camp"] = 1000
    data["events"][0]["set"]["operations.german.limit_camp"] = 2000
    changed = scenario_from_dict(data, "test")
    after = without(changed, ["operations.polish"])
    assert [o.name for o in after.operations] == [
        o.name for o in terror.operations if o.name != "polish"
    ]
    event = next(e for e in after.events if str(e.date) == day)
    assert "operations.polish.limit_camp" not in event.set
    assert event.set["operations.german.limit_camp"] == 2000  # the others' settings stay
    assert after.arrest == terror.arrest and after.sentencing == terror.sentencing


def test_a_day_of_the_timeline_goes_whole(terror):
    after = without(terror, ["events.1937-08-15", "show_trials.sixteen"])
    assert all(str(e.date) != "1937-08-15" for e in after.events)
    assert len(after.events) == len(terror.events) - 1
    assert [t.name for t in after.show_trials] == [
        t.name for t in terror.show_trials if t.name != "sixteen"
    ]


def test_the_description_says_what_was_left_out(terror):
    after = without(terror, ["operations.order_00447", "events.1937-08-15"])
    assert after.scenario.description.startswith(terror.scenario.description)
    assert after.scenario.description.endswith(
        "[what-if: without operations.order_00447, events.1937-08-15]"
    )


@pytest.mark.slow  # 10-14 s of whole runs: the quick tier keeps under 5 minutes
def test_a_what_if_run_says_so_in_its_provenance_and_report(tmp_path):
    out = tmp_path / "out"
    arguments = ["run", "party-purges-1921-1936", "--scale", "0.002", "--out", str(out)]
    extra = ["--without", "campaigns.1929", "--set", "review.threshold=2.0"]
    result = CliRunner().invoke(app, [*arguments, *extra])
    assert result.exit_code == 0, result.output
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["what_if"] == {"set": ["review.threshold=2.0"], "without": ["campaigns.1929"]}
    assert (
        "[what-if: without campaigns.1929]" in provenance["parameters"]["scenario"]["description"]
    )
    report = (out / "report.html").read_text()
    assert "review.threshold=2.0; without campaigns.1929" in report
    plain = tmp_path / "plain"
    assert CliRunner().invoke(app, [*arguments[:-1], str(plain), "--no-report"]).exit_code == 0
    assert "what_if" not in json.loads((plain / "provenance.json").read_text())


def test_nothing_to_remove_leaves_the_scenario(terror):
    assert without(terror, []) is terror


def test_an_unknown_decision_is_refused_with_those_there_are(terror):
    with pytest.raises(ScenarioError) as error:
        without(terror, ["operations.nope"])
    assert "'operations.nope': not a decision of scenario 'great-terror'" in str(error.value)
    assert "operations.order_00447" in str(error.value)


def test_a_misspelt_decision_is_refused_with_the_one_meant(terror):
    """QA 45: `--without operations.order00447` listed every decision but offered none, where a
    misspelt scenario or experiment gets "did you mean"."""
    with pytest.raises(ScenarioError) as error:
        without(terror, ["operations.order00447"])
    assert "did you mean 'operations.order_00447'? it has events." in str(error.value)


def test_a_decision_is_suggested_by_its_name_not_by_its_kind(terror):
    """QA 45: on the whole name any two operations looked alike, so 'operations.nope' was
    offered 'operations.polish'; the name after the kind decides."""
    with pytest.raises(ScenarioError) as error:
        without(terror, ["operations.nope"])
    assert "did you mean" not in str(error.value)
    with pytest.raises(ScenarioError) as error:
        without(terror, ["events.1938-11-71"])
    assert "did you mean 'events.1938-11-17'?" in str(error.value)


def test_a_field_an_operation_lacks_is_named_with_the_operation(terror):
    """QA 45: the message named the whole path as what lacked its last part."""
    from chistka.scenario import apply_overrides

    with pytest.raises(ScenarioError) as error:
        apply_overrides(terror, {"operations.polish.limt_camp": 1}, where="--set")
    message = str(error.value)
    assert "'operations.polish' has no field 'limt_camp'; did you mean 'limit_camp'?" in message


def test_a_removal_that_leaves_the_scenario_invalid_says_why(terror):
    """Without the halt, Order 00762's sanction of pending cases has no supervision to act in."""
    with pytest.raises(ScenarioError) as error:
        without(terror, ["events.1938-11-17"])
    assert "arrest.pending_cases_sanctioned" in str(error.value)
    assert without(terror, ["events.1938-11-17", "events.1938-11-26"]).events


def test_run_without_an_unknown_decision_exits_2_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["run", "great-terror", "--without", "operations.nope", "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "not a decision of scenario 'great-terror'" in result.output
    assert not out.exists()


def test_scenarios_show_writes_a_what_if_to_run_and_sweep(tmp_path):
    runner = CliRunner()
    listed = runner.invoke(app, ["scenarios", "show", "great-terror", "--list-decisions"])
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    scenario = load_scenario("great-terror")
    assert [line.split()[0].rstrip(":") for line in lines] == removable(scenario)
    # each decision with what it was, in the web app's words (QA 42: the names alone)
    notes = decision_notes(scenario)
    assert "events.1938-11-17: The halt" in listed.output
    for line in lines:
        name = line.split()[0].rstrip(":")
        assert line == (f"{name}: {notes[name]}" if notes.get(name) else name)
    shown = runner.invoke(
        app, ["scenarios", "show", "great-terror", "--without", "operations.order_00447"]
    )
    assert shown.exit_code == 0
    path = tmp_path / "no-00447.toml"
    path.write_text(shown.output)
    loaded = load_scenario(path)
    assert "order_00447" not in [o.name for o in loaded.operations]
    assert len(loaded.operations) == len(load_scenario("great-terror").operations) - 1
