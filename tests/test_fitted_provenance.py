"""Which values a run lists as fitted to the record (provenance.json's `fitted`).

The list is the built-in free file's for the scenario's name, less the values the run's scenario
changed: a user's file that keeps a built-in's name (an edited `chistka scenarios show` copy) is
no fit where it changed a fitted value, and the budget does not count that value.
"""

from __future__ import annotations

import html
import json

import pytest
from typer.testing import CliRunner

from chistka.analysis.comparison import budget_text, parameter_budget
from chistka.cli import app
from chistka.scenario import builtin_scenarios, load_scenario
from chistka.scenario import fitted as fitted_module
from chistka.scenario.fitted import fitted_parameters
from conftest import make_scenario

SCENARIO = "party-purges-1921-1936"


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "300"})


def shown_copy(name: str, tmp_path) -> str:
    """`chistka scenarios show NAME` written to a file, as a user starts an own scenario."""
    result = invoke("scenarios", "show", name)
    assert result.exit_code == 0, result.output
    path = tmp_path / f"{name}.toml"
    path.write_text(result.output, encoding="utf-8")
    return result.output


@pytest.mark.parametrize("name", list(builtin_scenarios()))
def test_a_builtin_and_its_unchanged_copy_keep_every_fitted_value(name, tmp_path):
    shown_copy(name, tmp_path)
    for scenario in (load_scenario(name), load_scenario(tmp_path / f"{name}.toml")):
        assert fitted_module.fitted_in(scenario) == (fitted_parameters(name), [])


def test_a_copy_with_a_changed_fitted_value_does_not_list_it_as_fitted(tmp_path):
    """The run of an edited copy under the built-in's name: the changed value is not fitted,
    not counted in the budget, and the printed budget, summary.json and the report say it was
    changed from the fit."""
    text = shown_copy(SCENARIO, tmp_path)
    fit = load_scenario(SCENARIO).review.threshold
    assert f"threshold = {fit!r}\n" in text
    path = tmp_path / f"{SCENARIO}.toml"
    path.write_text(text.replace(f"threshold = {fit!r}\n", "threshold = 3.0\n"), "utf-8")
    out = tmp_path / "run"
    result = invoke("run", str(path), "--scale", "0.0005", "--out", str(out))
    assert result.exit_code == 0, result.output
    provenance = json.loads((out / "provenance.json").read_text())
    declared = fitted_parameters(SCENARIO)
    assert [e["path"] for e in provenance["fitted"]] == [
        e["path"] for e in declared if e["path"] != "review.threshold"
    ]
    [changed] = provenance["fitted_changed"]
    assert changed["path"] == "review.threshold"
    assert (changed["value"], changed["fitted_value"]) == (3.0, fit)
    budget = json.loads((out / "summary.json").read_text())["parameter_budget"]
    assert budget["fitted"] == len(declared) - 1
    assert [entry["path"] for entry in budget["changed"]] == ["review.threshold"]
    words = "1 value changed from the fit, not counted: review.threshold (3 here, fitted 3.48166)"
    assert words in budget_text(budget)
    assert words in " ".join(result.output.split())
    assert html.escape(words) in (out / "report.html").read_text(encoding="utf-8")


def test_params_says_a_fitted_value_was_changed_from_the_fit(tmp_path):
    text = shown_copy(SCENARIO, tmp_path)
    fit = load_scenario(SCENARIO).review.threshold
    path = tmp_path / f"{SCENARIO}.toml"
    path.write_text(text.replace(f"threshold = {fit!r}\n", "threshold = 3.0\n"), "utf-8")
    changed = invoke("params", "review.threshold", "--scenario", str(path))
    assert changed.exit_code == 0, changed.output
    assert "changed from the value fitted" in changed.output
    assert "fitted to records.csv" not in changed.output
    kept = invoke("params", "review.threshold", "--scenario", SCENARIO)
    assert "fitted to records.csv" in kept.output


def test_a_dated_fitted_value_is_read_on_its_event_date():
    """A fitted entry with a date is the value the timeline sets on that day; one without is the
    scenario's own value and its value on the first day; a campaign's as 'campaigns.NAME.x'."""
    entries = [
        {"path": "admissions.rate_per_year", "date": "1926-01-01"},
        {"path": "admissions.rate_per_year", "date": None},
        {"path": "campaigns.c1.threshold", "date": None},
        {"path": "exits.rate_per_year", "date": "1927-01-01"},
    ]
    assert fitted_module.fitted_values(make_scenario(), entries) == [
        (30_000,),
        (10_000, 10_000),
        (1.5, 1.5),
        (0.1,),
    ]
    moved = make_scenario(
        {
            "events": [
                {"date": "1926-02-01", "set": {"admissions.rate_per_year": 30_000}},
                {"date": "1927-01-01", "set": {"exits.rate_per_year": 0.1}},
            ]
        }
    )
    assert fitted_module.fitted_values(moved, entries)[0] == (10_000,)
    assert fitted_module.fitted_values(moved, entries)[3] == (0.1,)


def test_fitted_in_drops_a_dated_value_whose_event_the_scenario_changed(monkeypatch):
    """The entries and their fitted values as `_builtin_fits` gives them for a built-in."""
    entries = [
        {"path": "admissions.rate_per_year", "date": "1926-01-01", "by": "hand"},
        {"path": "campaigns.c1.threshold", "date": None, "by": "calibrate"},
    ]
    fits = tuple(zip(entries, fitted_module.fitted_values(make_scenario(), entries), strict=True))
    monkeypatch.setattr(fitted_module, "_builtin_fits", lambda name: fits)
    assert fitted_module.fitted_in(make_scenario()) == (entries, [])
    changed = make_scenario(
        {"events": [{"date": "1926-01-01", "set": {"admissions.rate_per_year": 20_000}}]}
    )
    kept, dropped = fitted_module.fitted_in(changed)
    assert kept == [entries[1]]
    assert dropped == [{**entries[0], "value": 20_000, "fitted_value": 30_000}]
    budget = parameter_budget(kept, {"calibration": {"rows": 4}}, dropped)
    assert budget["fitted"] == 1 and budget["by_hand"] == 0
    assert "admissions.rate_per_year on 1926-01-01 (20,000 here, fitted 30,000)" in budget_text(
        budget
    )


def test_the_web_runs_fit_names_the_values_changed_from_the_fit():
    from chistka.web.run_pages import fit_summary

    changed = [{"path": "review.threshold", "date": None, "value": 3.0, "fitted_value": 3.5}]
    budget = parameter_budget([], {"calibration": {"rows": 4}}, changed)
    text = fit_summary({"fit": {}, "parameter_budget": budget})
    assert "changed from the fit, not counted: review.threshold" in text


def test_the_values_a_users_calibration_fitted_are_listed_as_fitted():
    """calibrate's fitted.toml sets its values again on the first day, noted FITTED_NOTE: they
    are fits, counted in the budget, not "changed from the built-in's fit" (before session 45
    they were listed as changed and the budget left them out); a --set takes its value out."""
    from chistka.analysis.free import as_start_event
    from chistka.commands.sweep import apply_set_options
    from chistka.scenario.fitted import FITTED_NOTE, fitted_in

    builtin = load_scenario(SCENARIO)
    entries = fitted_parameters(SCENARIO)
    path = next(e["path"] for e in entries if not e["date"])
    fitted = as_start_event(
        builtin,
        {path: 1.01, "review.noise_sd": 0.9},
        note=FITTED_NOTE,
        source="chistka calibrate on 2026-12-06: targets t.csv",
    )
    kept, changed = fitted_in(fitted)
    paths = [entry["path"] for entry in kept]
    assert changed == []
    assert path in paths and "review.noise_sd" in paths and len(kept) == len(entries) + 1
    study = next(entry for entry in kept if entry["path"] == "review.noise_sd")
    assert study["by"] == "calibrate" and "2026-12-06" in study["note"]
    summary = {"calibration": {"rows": 100}}
    assert parameter_budget(kept, summary, changed)["fitted"] == len(entries) + 1

    kept, changed = fitted_in(apply_set_options(fitted, ["review.noise_sd=0.5", f"{path}=1.2"]))
    assert not {"review.noise_sd", path} & {entry["path"] for entry in kept}
    said = {entry["path"]: (entry["value"], entry["fitted_value"]) for entry in changed}
    assert said == {"review.noise_sd": (0.5, 0.9), path: (1.2, 1.01)}  # the study's, not 1.0x


def test_a_users_own_scenario_lists_what_its_calibration_fitted():
    from chistka.analysis.free import as_start_event
    from chistka.scenario.fitted import FITTED_NOTE, fitted_in

    own = as_start_event(make_scenario(), {"review.noise_sd": 0.9}, note=FITTED_NOTE)
    kept, changed = fitted_in(own)
    assert [entry["path"] for entry in kept] == ["review.noise_sd"] and changed == []
