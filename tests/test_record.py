"""The record: its figures, roles and grades, the per-scenario roles and the shipped targets."""

import pandas as pd
import pytest

from chistka import builtin_scenarios
from chistka.analysis.comparison import (
    budget_text,
    comparison,
    fit,
    parameter_budget,
    plan,
    run_summary,
    save_run,
)
from chistka.analysis.validate import calibration_targets, export_targets, read_targets
from chistka.commands.catalogue import field_comments
from chistka.mechanisms.camps import camp_input_rows
from chistka.record import (
    GRADES,
    MVD_TABLE_YEARS,
    RELIABLE_GRADES,
    ROLES,
    SCORED_ROLES,
    compared_observables,
    get,
    records,
    role_in,
    scenario_roles,
    table_rows,
)
from chistka.scenario import load_scenario, scenario_text
from chistka.scenario.fitted import fitted_parameters, parse_fitted


def _column(kind: str) -> float:
    return sum(get(f"{kind}_{year}").value or 0.0 for year in MVD_TABLE_YEARS)


# --- the 1953 MVD table ------------------------------------------------------------------------


def test_corrected_figures():
    assert get("death_sentences_1932").value == 2_728
    assert get("convicted_1948").value == 73_269


def test_mvd_table_years_sum_to_its_totals():
    """The yearly rows add up to the table's TOTAL line (data/README.md: what remains off)."""
    assert _column("convicted") == get("convicted_total_1921_1953").value
    assert abs(_column("death_sentences") - get("death_total_1921_1953").value) <= 10
    assert abs(_column("to_camps") - get("to_camps_total_1921_1953").value) <= 3_000


def test_each_year_has_no_more_death_and_camp_sentences_than_convictions():
    for year in MVD_TABLE_YEARS:
        death_or_camp = get(f"death_or_camp_{year}").value
        assert death_or_camp <= get(f"convicted_{year}").value, year
        assert (
            death_or_camp
            == (get(f"death_sentences_{year}").value or 0) + get(f"to_camps_{year}").value
        )


# --- roles and grades --------------------------------------------------------------------------


def test_rows_have_known_roles_and_grades():
    for row in records().values():
        assert row.role in ROLES, row.id
        assert row.grade in GRADES, row.id
        if not row.read_in_source:
            assert row.grade == "memory", f"{row.id}: not read, so not graded above memory"


def test_claims_are_never_reliable():
    claims = [row for row in records().values() if row.role == "claim"]
    assert any(row.id.startswith("seed_") for row in claims)
    for row in claims:
        assert not row.reliable, row.id
    for row in claims:
        if row.id.startswith("seed_"):
            assert row.grade not in RELIABLE_GRADES, row.id


@pytest.mark.parametrize("weak", ["party_total_1935_01", "party_total_1937_11", "purge1937_share"])
def test_weak_figures_are_not_calibration_targets(weak):
    assert get(weak).role == "claim"
    assert weak not in set(export_targets("calibration")["id"])
    for scenario in builtin_scenarios():
        assert role_in(weak, scenario).role in ("claim", "input"), scenario


def test_inputs_of_the_scenarios_are_inputs():
    for record_id in ("showtrial_1936_shot", "showtrial_1937_shot", "showtrial_1938_shot"):
        assert get(record_id).role == "input"
    assert role_in("party_total_1921_03", "party-purges-1921-1936").role == "input"
    assert role_in("party_total_1921_03", "purges-1921-1953").role == "input"
    # great-terror's first day is built from Rigby's party of 1 Jan 1935 (since 2026-12-03; from
    # Foreign Affairs' figure, a claim, before), so his members and candidates of that day are
    # inputs, not scored (scored until 2026-12-02: the members inside, the candidates outside)
    for record_id in ("rigby_full_1935", "rigby_cand_1935"):
        assert role_in(record_id, "great-terror").role == "input", record_id
    assert role_in("party_total_1935_01", "great-terror").role == "claim"


def test_builtin_scenarios_score_no_row_their_camps_start_from():
    """great-terror starts on 1 Dec 1934 with the camp population interpolated between the
    figures of 1 Jan 1934 and 1 Jan 1935, and the political share of 1 Jan 1935, so those rows
    are inputs there (gulag_camps_1935 was scored as a validation row until 2026-12-02)."""
    rows = ("gulag_camps_1934", "gulag_camps_1935", "gulag_camps_political_1935")
    assert camp_input_rows(load_scenario("great-terror")) == rows
    for scenario in builtin_scenarios():
        rows = set(camp_input_rows(load_scenario(scenario)))
        for role in SCORED_ROLES:
            assert not rows & set(export_targets(role, scenario)["id"]), (scenario, role)


@pytest.mark.parametrize("scenario", ["great-terror", "purges-1921-1953"])
def test_camp_totals_and_releases_are_not_scored_where_no_ordinary_convict_comes_in(scenario):
    """The record's camp population and the camps' releases of 1939 count every prisoner, most
    of them ordinary convicts; the terror scenarios' camps take only political convicts (and, in
    great-terror, the first day's prisoners), so both kinds are not modelled there (until
    2026-12-02 they were scored: the totals of 1936-39 matched great-terror by a coincidence and
    the releases were a calibration row). Their political prisoners are scored. An input stays
    an input where its kind is not modelled."""
    loaded = load_scenario(scenario)
    planned = {
        p.spec.record_id: p
        for p in plan(scenario, loaded.scenario.compare, camp_input_rows(loaded))
    }
    for record_id in ("gulag_camps_1938", "gulag_release_camps_1939"):
        assert planned[record_id].status(planned[record_id].row.value) == "not modelled"
    political = planned["gulag_camps_political_1938"]
    assert political.status(political.row.value) == "inside"
    for role in SCORED_ROLES:
        kinds = {o.split(":")[0] for o in export_targets(role, scenario)["observable"]}
        assert not kinds & {"gulag_population", "releases"}, (scenario, role)
    if scenario == "great-terror":
        first_day = planned["gulag_camps_1935"]
        assert first_day.status(first_day.row.value) == "input"


def test_convictions_are_compared_like_with_like():
    """The model's political_convictions (death and camp) against the table's death + camp, its
    political_sentences (with exile and other measures) against the table's whole count of the
    convicted; its arrests (political cases) against the NKVD's own count of its cases, not
    against the 1953 table's yearly arrests on all charges."""
    compared = {spec.observable: spec.record_id for spec in compared_observables()}
    assert compared["political_convictions:1937"] == "death_or_camp_1937"
    assert compared["political_sentences:1937"] == "convicted_1937"
    convicted = [s for s in compared_observables() if s.record_id.startswith("convicted_")]
    assert convicted and all(s.kind == "political_sentences" for s in convicted)
    for name in builtin_scenarios():  # only a scenario that exiles scores the whole count
        scenario = load_scenario(name)
        exiles = scenario.exile.exile_share + scenario.exile.other_share > 0
        assert ("political_sentences" in (scenario.scenario.compare or [])) == exiles, name
    arrests = {spec.record_id for spec in compared_observables() if spec.kind == "arrests"}
    assert arrests == {"arrested_nkvd_1936_10_to_1938_07", "arrested_nkvd_1936_10_to_1938_11"}
    assert compared["arrests:1936-10-01/1938-07-01"] == "arrested_nkvd_1936_10_to_1938_07"


def test_held_out_figures_are_not_compared():
    held_out = ("order_00447_", "operation_", "arrested_share:", "shot_share:", "army_officers_")
    held_out += ("party_share_of_political_convictions:",)
    for spec in compared_observables():
        assert not spec.observable.startswith(held_out), spec.observable


def test_scenario_roles_name_known_rows_and_scenarios():
    known = set(builtin_scenarios())
    compared = {spec.record_id for spec in compared_observables()}
    for entry in scenario_roles():
        assert entry.scenario in known, entry
        assert entry.record_id in compared, entry
        assert entry.role in ROLES, entry
        assert entry.reason, entry
        assert not entry.fitted_now or entry.role == "validation", entry


def test_every_builtin_scenario_has_calibration_and_validation_rows():
    for scenario in builtin_scenarios():
        compare = load_scenario(scenario).scenario.compare
        roles = {p.role for p in plan(scenario, compare) if p.modelled}
        assert {"calibration", "validation"} <= roles, scenario


@pytest.mark.parametrize("scenario", ["great-terror", "party-purges-1921-1936", "purges-1921-1953"])
def test_validation_rows_of_the_rebuilt_scenarios_were_never_fitted(scenario):
    planned = [p for p in plan(scenario, None) if p.role == "validation"]
    assert planned and not any(p.fitted_now for p in planned)


# --- the shipped targets -----------------------------------------------------------------------


def test_shipped_calibration_targets_are_the_record_export():
    """targets/calibration.csv is written by scripts/export_targets.py from the record."""
    shipped = pd.read_csv(calibration_targets(), keep_default_na=False)
    fresh = export_targets("calibration")
    assert list(shipped["id"]) == list(fresh["id"]), "run scripts/export_targets.py"
    for column in ("value", "low", "high"):
        assert shipped[column].astype(float).tolist() == pytest.approx(
            fresh[column].astype(float).tolist(), rel=1e-9
        ), column
    targets = read_targets(calibration_targets())
    assert (targets["low"] <= targets["value"]).all() and (
        targets["value"] <= targets["high"]
    ).all()
    assert set(targets["id"]) <= set(records())


# --- statuses on a small run -------------------------------------------------------------------


def test_statuses_of_a_small_run(builtin_results):
    table = comparison(builtin_results).set_index("record_id")
    assert table.loc["party_total_1921_03", "status"] == "input"
    assert pd.isna(table.loc["party_total_1921_03", "inside"])
    assert table.loc["death_sentences_1930", "status"] == "not modelled"
    assert table.loc["purge1937_share", "status"] == "claim"
    scored = table[table["status"].isin(["inside", "outside"])]
    assert set(scored["role"]) <= {"calibration", "validation"}
    summary = fit(table.reset_index())
    assert summary["calibration"]["rows"] == (scored["role"] == "calibration").sum()
    assert (
        summary["calibration"]["inside"]
        == (scored["status"] == "inside").sum()
        - ((scored["role"] == "validation") & (scored["status"] == "inside")).sum()
    )


# --- fitted values -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", builtin_scenarios())
def test_fitted_values_are_declared_and_name_real_parameters(name):
    """Each built-in scenario's free file lists its fitted values (issue 9, section 2)."""
    from chistka.analysis.free import current_value, load_free

    scenario = load_scenario(name)
    assert load_free(None, scenario, name), "the free file still parses"
    fitted = fitted_parameters(name)
    assert fitted, f"{name} declares no fitted value"
    for entry in fitted:
        assert entry["targets"] and set(entry["targets"]) <= set(records()), entry
        if entry["date"]:
            assert any(
                event.date.isoformat() == entry["date"] and entry["path"] in event.set
                for event in scenario.events
            ), entry
        elif entry["path"].startswith("campaigns."):
            assert any(c.name == entry["path"].split(".")[1] for c in scenario.campaigns), entry
        else:
            assert current_value(scenario, entry["path"]) is not None, entry


def test_values_fitted_by_hand_count_in_the_parameter_budget():
    fitted = [
        {"path": "a", "date": None, "by": "calibrate"},
        {"path": "b", "date": None, "by": "hand"},
        {"path": "b", "date": None, "by": "hand"},
        {"path": "c", "date": "1938-03-01", "by": "hand"},
    ]
    budget = parameter_budget(fitted, {"calibration": {"rows": 5}})
    assert budget == {
        "fitted": 3,
        "by_hand": 2,
        "calibration_rows": 5,
        "at_most": 2,
        "within": False,
    }
    assert budget_text(budget) == (
        "3 fitted parameters (2 of them by hand, not refitted) for 5 calibration rows "
        "(at most 2 allowed): over the budget"
    )


def test_the_budget_of_one_parameter_for_one_row_is_in_the_singular():
    """QA of session 46: the web page, the report and `chistka run` read '1 fitted parameters
    for 1 calibration rows'."""
    budget = {"fitted": 1, "by_hand": 1, "calibration_rows": 1, "at_most": 0, "within": False}
    assert budget_text(budget) == (
        "1 fitted parameter (1 of them by hand, not refitted) for 1 calibration row "
        "(at most 0 allowed): over the budget"
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"path": "a", "targets": [], "by": "eye"}, "by = 'eye'; keys allowed"),
        ({"path": "a", "targets": [], "who": "me"}, "unknown key 'who'"),
    ],
)
def test_a_fitted_table_with_an_unknown_key_or_fitter_is_refused(table, message):
    with pytest.raises(ValueError, match=message):
        parse_fitted({"fitted": [table]}, "x")


@pytest.mark.parametrize("name", builtin_scenarios())
def test_every_value_a_scenario_calls_a_hand_fit_counts_as_fitted_by_hand(name):
    """Issue 11: a value chosen by hand against the record is a fit, in the budget like the rest."""
    comments = field_comments(scenario_text(name))
    by_hand = {path for path, text in comments.items() if "by hand" in text or "hand fit" in text}
    declared = {entry["path"] for entry in fitted_parameters(name) if entry["by"] == "hand"}
    assert by_hand <= declared, sorted(by_hand - declared)


def test_provenance_carries_the_fitted_values(builtin_results, tmp_path):
    import json

    results = builtin_results
    assert results.provenance["fitted"] == fitted_parameters("party-purges-1921-1936")
    save_run(results, tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "provenance.json").read_text())
    assert saved["fitted"] == results.provenance["fitted"]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["fit"] == run_summary(results)["fit"]
    assert summary["fit"]["calibration"]["rows"] > 0


def test_a_scenarios_targets_hold_only_the_kinds_of_figure_it_models():
    """party-purges-1921-1936 models no sentences: its fit must not count them as missed."""
    targets = export_targets("calibration", "party-purges-1921-1936")
    kinds = {observable.split(":")[0] for observable in targets["observable"]}
    assert kinds and "political_convictions" not in kinds and "death_sentences" not in kinds
    assert "political_convictions:1937" in set(
        export_targets("calibration", "great-terror")["observable"]
    )


@pytest.mark.parametrize(
    "text",
    ["a,b,note\n1,2,one, two\n", "a,b,note\n1,2\n"],
    ids=["an unquoted comma", "a short row"],
)
def test_a_row_with_more_or_fewer_cells_than_its_header_is_refused(text):
    """QA of session 40: an unquoted comma cut six reasons in scenario_roles.csv short."""
    with pytest.raises(ValueError, match=r"roles\.csv, line 2: 3 columns in the header"):
        table_rows(text, "roles.csv")


def test_every_reason_a_scenario_gives_a_role_is_whole():
    reasons = {entry.record_id: entry.reason for entry in scenario_roles()}
    assert reasons["party_cand_16congress"].endswith("not used by the scenario's fit")
