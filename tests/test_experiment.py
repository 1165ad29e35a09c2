"""Experiments (chistka.analysis.experiment, `chistka experiment`): arms against the baseline."""

from __future__ import annotations

import html
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from scipy.stats import t as student_t
from typer.testing import CliRunner

from chistka import Sim
from chistka.analysis.ensemble import PLAN_FILE, plan
from chistka.analysis.experiment import (
    BASELINE,
    builtin_experiments,
    in_arm,
    load_experiment,
    paired_effect,
    run_experiment,
)
from chistka.analysis.observables import (
    MEANINGS,
    OBSERVABLES,
    SHARE_UNIT,
    TITLES,
    UNITS,
    compute,
    is_share,
    title,
    unit,
)
from chistka.cli import app
from chistka.commands.preflight import check_observable
from chistka.errors import ChistkaError
from chistka.figures import file_name
from chistka.report.common import FigureRenderer
from chistka.report.experiment import (
    NO_CHANGE,
    _effects_table,
    _overview,
    few_seeds_note,
    no_change,
    outcome_meaning,
    overview_height,
    seeds_text,
)
from chistka.scenario import load_scenario, scenario_from_dict
from test_figures import (
    assert_every_chart_fits_any_width,
    assert_every_chart_has_its_numbers,
    numbers_in_page,
)
from test_terror import TERROR
from tomltext import to_toml

OUTCOMES = [
    "arrests:1937-1938",
    "political_convictions:1937-1938",
    "political_convictions:1936-06-01/1937-07-01",
    "operation_sentenced:mass",
]

DESIGN = """
[experiment]
name = "small"
title = "Small"
question = "What do the levers do?"
scenario = "small.toml"
seeds = 2
outcomes = {outcomes}

[[arms]]
name = "no-mass"
label = "No mass operation"
group = "centre"
without = ["operations.mass"]
why = "the operation never ordered"

[[arms]]
name = "no-names"
label = "No names"
group = "periphery"
set = {{ "interrogation.names_mean" = 0.0 }}
"""


def write_design(folder, text: str | None = None) -> str:
    (folder / "small.toml").write_text(to_toml(TERROR))
    path = folder / "design.toml"
    path.write_text(text if text is not None else DESIGN.format(outcomes=json.dumps(OUTCOMES)))
    return str(path)


def invoke(*arguments: str):
    return CliRunner().invoke(app, ["experiment", *arguments])


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """The small design run through the command line: (folder, outcomes, effects)."""
    folder = tmp_path_factory.mktemp("experiment")
    design = write_design(folder)
    out = folder / "out"
    result = invoke("run", design, "--out", str(out), "--jobs", "1")
    assert result.exit_code == 0, result.output
    return out, pd.read_csv(out / "outcomes.csv"), pd.read_csv(out / "effects.csv")


@pytest.mark.parametrize(("jobs", "given"), [("1", True), ("2", False)])
def test_an_experiment_in_this_process_shows_the_day_of_the_run_under_way(
    tmp_path, monkeypatch, jobs, given
):
    """`chistka experiment run --jobs 1` showed whole runs only (QA 43); runs in this process
    now give their arm, seed and day to the bar (as does a run at values of a parameter)."""
    import chistka.analysis.experiment as experiment_module

    seen: dict[str, object] = {}

    def record(*args, **kwargs):
        seen["day_progress"] = kwargs.get("day_progress")
        if kwargs.get("day_progress") is not None:
            kwargs["day_progress"]("baseline", 1, 400, 2222)
        raise KeyboardInterrupt  # nothing more to run

    monkeypatch.setattr(experiment_module, "run_experiment", record)
    design = write_design(tmp_path)
    invoke("run", design, "--out", str(tmp_path / "out"), "--jobs", jobs)
    assert (seen["day_progress"] is not None) is given


def test_every_arm_runs_at_the_same_seeds_and_writes_its_files(finished):
    out, outcomes, effects = finished
    for name in ("experiment.json", "outcomes.csv", "effects.csv", "fit.csv", "experiment.html"):
        assert (out / name).is_file()
    fit = pd.read_csv(out / "fit.csv")
    assert list(fit["arm"].unique()) == [BASELINE, "no-mass", "no-names"]
    summary = json.loads((out / BASELINE / "p000-s002" / "summary.json").read_text())
    second = fit[(fit["arm"] == BASELINE) & (fit["seed"] == 6)].iloc[0]
    assert second["validation_inside"] == summary["fit"]["validation"]["inside"]
    assert "Each arm against the record" in (out / "experiment.html").read_text()
    assert_every_chart_has_its_numbers((out / "experiment.html").read_text())
    assert_every_chart_fits_any_width((out / "experiment.html").read_text())
    for arm in (BASELINE, "no-mass", "no-names"):
        assert (out / arm / PLAN_FILE).is_file()
        assert sorted(outcomes[outcomes["arm"] == arm]["seed"].unique()) == [5, 6]
    assert len(outcomes) == 3 * 2 * len(OUTCOMES)
    assert len(effects) == 3 * len(OUTCOMES)


def test_the_baseline_is_the_scenario_as_it_stands(finished):
    out, outcomes, _ = finished
    results = Sim(scenario_from_dict(TERROR), seed=6).run()
    baseline = outcomes[(outcomes["arm"] == BASELINE) & (outcomes["seed"] == 6)]
    for row in baseline.itertuples(index=False):
        assert row.value == compute(results, row.outcome), row.outcome


def test_an_arm_is_its_scenario_without_its_decisions(finished):
    out, outcomes, _ = finished
    scenario = scenario_from_dict(TERROR)
    changed = scenario.with_parameters({"interrogation.names_mean": 0.0})
    results = Sim(changed, seed=5).run()
    arm = outcomes[(outcomes["arm"] == "no-names") & (outcomes["seed"] == 5)]
    for row in arm.itertuples(index=False):
        assert row.value == compute(results, row.outcome), row.outcome


def test_effects_are_the_paired_differences_with_students_interval(finished):
    _, outcomes, effects = finished
    outcome = "political_convictions:1937-1938"
    wide = outcomes[outcomes["outcome"] == outcome].pivot(
        index="seed", columns="arm", values="value"
    )
    paired = (wide["no-names"] - wide[BASELINE]).to_numpy()
    half = student_t.ppf(0.95, 1) * paired.std(ddof=1) / math.sqrt(2)
    row = effects[(effects["arm"] == "no-names") & (effects["outcome"] == outcome)].iloc[0]
    assert row["difference"] == pytest.approx(paired.mean())
    assert row["difference_low"] == pytest.approx(paired.mean() - half)
    assert row["difference_high"] == pytest.approx(paired.mean() + half)
    assert row["relative"] == pytest.approx(paired.mean() / wide[BASELINE].mean())
    assert row["seeds"] == 2


def test_an_arm_whose_lever_acts_later_leaves_the_earlier_months_exactly_as_they_were(finished):
    _, outcomes, effects = finished
    before = "political_convictions:1936-06-01/1937-07-01"
    row = effects[(effects["arm"] == "no-mass") & (effects["outcome"] == before)].iloc[0]
    assert row["difference"] == 0 and row["difference_low"] == 0 and row["difference_high"] == 0
    names = effects[(effects["arm"] == "no-names") & (effects["outcome"] == before)].iloc[0]
    assert names["difference"] < 0  # names act from the first day


def test_an_outcome_of_a_left_out_operation_is_missing_in_that_arm_not_zero(finished):
    _, outcomes, effects = finished
    gone = outcomes[
        (outcomes["arm"] == "no-mass") & (outcomes["outcome"] == "operation_sentenced:mass")
    ]
    assert gone["value"].isna().all()
    row = effects[
        (effects["arm"] == "no-mass") & (effects["outcome"] == "operation_sentenced:mass")
    ]
    assert row["seeds"].iloc[0] == 0 and math.isnan(row["difference"].iloc[0])


def test_the_page_shows_every_arm_and_links_the_data_behind_it(finished):
    out, _, _ = finished
    page = (out / "experiment.html").read_text()
    for text in (
        "No mass operation",
        "No names",
        "What do the levers do?",
        "the operation never ordered",
    ):
        assert text in page
    for link in (
        'href="outcomes.csv"',
        'href="effects.csv"',
        'href="experiment.json"',
        'href="no-mass/"',
    ):
        assert link in page
    (out / "experiment.html").unlink()
    result = invoke("report", str(out))
    assert result.exit_code == 0, result.output
    assert (out / "experiment.html").read_text() == page


def test_a_stopped_experiment_is_finished_with_resume_keeping_complete_runs(finished, tmp_path):
    out, outcomes, _ = finished
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(out, copy)
    shutil.rmtree(copy / "no-names" / "p000-s002")
    (copy / "effects.csv").unlink()
    kept = os.stat(copy / BASELINE / "p000-s001" / "summary.json").st_mtime_ns
    design = str(out.parent / "design.toml")
    refused = invoke("run", design, "--out", str(copy), "--jobs", "1")
    assert refused.exit_code == 2 and "--resume" in refused.output
    result = invoke("run", design, "--out", str(copy), "--jobs", "1", "--resume")
    assert result.exit_code == 0, result.output
    assert os.stat(copy / BASELINE / "p000-s001" / "summary.json").st_mtime_ns == kept
    pd.testing.assert_frame_equal(pd.read_csv(copy / "outcomes.csv"), outcomes)
    other = invoke("run", design, "--out", str(copy), "--seeds", "3", "--resume")
    assert other.exit_code == 2 and "seeds" in other.output


def test_experiment_seeds_take_a_span_as_sweep_does_and_name_both_forms_when_refused(
    finished, tmp_path, monkeypatch
):
    """`experiment run --seeds 1-2` was refused by typer ("Input should be a valid integer"),
    naming neither the value nor the fix; it takes a count N or a span A-B, as sweep's --seeds
    does (one parser, `chistka.commands.options.parse_seeds`), a span being exactly its seeds."""
    import shutil

    import chistka.analysis.experiment as experiment_module

    out, outcomes, _ = finished
    design = str(out.parent / "design.toml")
    assert experiment_module.seed_list(load_experiment(design), [7, 8]) == [7, 8]
    seen = {}

    def record(experiment, target, **kwargs):
        seen["seeds"] = experiment_module.seed_list(experiment, kwargs["seeds"])
        raise KeyboardInterrupt  # nothing to run

    with monkeypatch.context() as patched:
        patched.setattr(experiment_module, "run_experiment", record)
        result = invoke("run", design, "--out", str(tmp_path / "new"), "--seeds", "7-9")
    assert seen["seeds"] == [7, 8, 9] and "x 3 seeds (7-9) = 9 runs" in result.output
    copy = tmp_path / "copy"  # the fixture ran the design's 2 seeds from the scenario's, 5-6
    shutil.copytree(out, copy)
    kept = os.stat(copy / BASELINE / "p000-s002" / "summary.json").st_mtime_ns
    arguments = ["run", design, "--out", str(copy), "--jobs", "1", "--no-report", "--resume"]
    result = invoke(*arguments, "--seeds", "5-6")  # the same seeds: its runs are found
    assert result.exit_code == 0, result.output
    assert os.stat(copy / BASELINE / "p000-s002" / "summary.json").st_mtime_ns == kept
    pd.testing.assert_frame_equal(pd.read_csv(copy / "outcomes.csv"), outcomes)
    other = invoke(*arguments, "--seeds", "6-7")
    assert other.exit_code == 2 and "seeds differ" in other.output
    for seeds, words in (
        ("1-x", "'1-x' is neither a count nor a span"),
        ("5-2", "the span ends before it starts"),
        ("0", "at least 1 run per arm"),
        ("65", "at most 64 seeds per arm"),
        ("1-65", "65 seeds; at most 64 seeds per arm"),
    ):
        refused = invoke("run", design, "--out", str(tmp_path / "refused"), "--seeds", seeds)
        assert refused.exit_code == 2, seeds
        said = " ".join(refused.output.split())
        assert words in said and "--seeds" in said, seeds
        assert "A-B (the seeds A to B" in said or "at most" in said, seeds
        assert not (tmp_path / "refused").exists()


def test_the_runs_under_way_give_their_arm_seed_and_days_and_the_same_outcomes(finished, tmp_path):
    """The browser's worker showed an experiment's progress in whole runs only: with
    `day_progress` (one process) each run gives its arm, seed and day; the outcomes stay."""
    import shutil

    out, outcomes, _ = finished
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    seeds = sorted(outcomes["seed"].unique())
    redone = [(BASELINE, seeds[1]), ("no-names", seeds[0])]
    for arm, seed in redone:
        shutil.rmtree(copy / arm / f"p000-s{seeds.index(seed) + 1:03d}")
    days = []
    experiment = load_experiment(str(out.parent / "design.toml"))
    run_experiment(experiment, copy, n_jobs=1, resume=True, day_progress=lambda *a: days.append(a))
    assert list(dict.fromkeys((arm, seed) for arm, seed, _, _ in days)) == redone
    for arm, seed in redone:
        done = [d for a, s, d, _ in days if (a, s) == (arm, seed)]
        assert done == sorted(set(done)) and done[0] == 1
        assert {t for a, s, _, t in days if (a, s) == (arm, seed)} == {done[-1]}
    pd.testing.assert_frame_equal(pd.read_csv(copy / "outcomes.csv"), outcomes)


def test_each_values_runs_give_their_folder_with_their_days(tmp_path, monkeypatch):
    """run_variants passes the day of the run under way on, naming the value's folder
    (run_experiment faked: the runs themselves are the test above's)."""
    import chistka.analysis.variants as variants

    seen = []

    def run(experiment, out_dir, *, day_progress, **_):
        day_progress("no-mass", 2, 31, 100)
        raise RuntimeError("stopped after the first value's first day")

    monkeypatch.setattr(variants, "run_experiment", run)
    experiments = variants.load_variants(
        write_design(tmp_path), "interrogation.names_mean", [1, 3], {}
    )
    axis = variants.vary_axis(experiments, "interrogation.names_mean")
    with pytest.raises(RuntimeError, match="stopped"):
        variants.run_variants(
            experiments, axis, tmp_path / "out", n_jobs=1, day_progress=lambda *a: seen.append(a)
        )
    assert seen == [("v01", "no-mass", 2, 31, 100)]


def test_day_progress_of_runs_in_other_processes_is_refused_before_anything_is_written(tmp_path):
    """Runs in worker processes cannot call back: refused (ValueError), not silently ignored."""
    from chistka.analysis.variants import load_variants, run_variants, vary_axis

    design = write_design(tmp_path)
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="day_progress needs the runs done in this process"):
        run_experiment(load_experiment(design), out, n_jobs=2, day_progress=lambda *a: None)
    experiments = load_variants(design, "interrogation.names_mean", [1, 3], {})
    axis = vary_axis(experiments, "interrogation.names_mean")
    with pytest.raises(ValueError, match="day_progress needs the runs done in this process"):
        run_variants(experiments, axis, out, day_progress=lambda *a: None)
    assert not out.exists()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('without = ["operations.mass"]', 'withut = ["operations.mass"]'),
            "arms[0]: unknown key 'withut'; did you mean 'without'",
        ),
        (('["operations.mass"]', '["operations.massive"]'), "not a decision"),
        (('"interrogation.names_mean"', '"interrogation.name_mean"'), "interrogation.name_mean"),
        (('"interrogation.names_mean" = 0.0', '"interrogation.names_mean" = -1.0'), "names_mean"),
        (
            ('"interrogation.names_mean" = 0.0', '"denunciation.arrest_probability" = 0.0'),
            "the timeline sets it again on 1938-11-17",
        ),
        (("seeds = 2", "seeds = 65"), "experiment.seeds: Input should be less than or equal to 64"),
        (('name = "no-mass"', 'name = "baseline"'), "not 'baseline'"),
        (('name = "no-names"', 'name = "no-mass"'), "arms[1].name: arm names must be unique"),
        # QA of session 42: two arms of one label were one column of the overview
        (
            ('label = "No names"', 'label = "No mass operation"'),
            "arms[1].label: arm labels must be unique, the report and the pages name each arm by "
            "it ('No mass operation' is arms[0].label's)",
        ),
        (('label = "No names"', 'label = " no mass  Operation"'), "arms[1].label: arm labels"),
        (
            ('label = "No names"', 'label = "small.toml as it stands"'),
            "is the baseline's ('small.toml as it stands')",
        ),
        (('label = "No names"', 'label = "  "'), "arms[1].label: must name the arm"),
        (('scenario = "small.toml"', 'scenario = "missing.toml"'), "missing.toml"),
    ],
)
def test_a_bad_design_is_refused_naming_the_field_and_nothing_is_written(
    tmp_path, change, expected
):
    text = DESIGN.format(outcomes=json.dumps(OUTCOMES)).replace(*change)
    design = write_design(tmp_path, text)
    out = tmp_path / "out"
    result = invoke("run", design, "--out", str(out))
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.output.split())
    assert "Value error," not in result.output  # pydantic's prefix (QA of session 39)
    assert not out.exists()


@pytest.mark.parametrize(
    ("outcomes", "arguments", "expected"),
    [
        (["arrests:1941"], [], "outcomes[0] 'arrests:1941'"),
        (["arests:1937"], [], "unknown observable"),
        (["operation_sentenced:nowhere"], [], "no operation 'nowhere'"),
        (["arrests_by_channel:testimony/1941"], [], "not wholly inside the run"),
        (["arrests_by_channel:names/1937"], [], "unknown channel 'names'"),
        (OUTCOMES, ["--seeds", "0"], "--seeds"),
        (OUTCOMES, ["--scale", "2"], "scale"),
    ],
)
def test_bad_outcomes_and_options_are_refused_before_anything_runs(
    tmp_path, outcomes, arguments, expected
):
    design = write_design(tmp_path, DESIGN.format(outcomes=json.dumps(outcomes)))
    out = tmp_path / "out"
    result = invoke("run", design, "--out", str(out), *arguments)
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.output.split())
    assert not out.exists()


def test_a_folder_holding_something_else_is_refused_and_left_as_it_was(tmp_path):
    design = write_design(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = invoke("run", design, "--out", str(out))
    words = " ".join(result.output.split())
    assert result.exit_code == 2 and "holds notes.txt, which chistka did not write" in words
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    (tmp_path / "file").write_text("x")
    assert invoke("run", design, "--out", str(tmp_path / "file")).exit_code == 2


def test_an_unknown_experiment_is_named_with_the_built_in_ones():
    result = invoke("show", "centre-or-periphary")
    assert result.exit_code == 2
    assert "centre-or-periphery" in result.output


@pytest.mark.parametrize("name", sorted(builtin_experiments()))
def test_every_built_in_design_builds_its_arms_and_reads_outcomes_its_scenario_gives(name):
    experiment = load_experiment(name)
    baseline = experiment.scenarios[BASELINE]
    for outcome in experiment.design.experiment.outcomes:
        check_observable(outcome, baseline)
    for arm in experiment.arms:
        scenario = experiment.scenarios[arm.name]
        assert scenario != baseline, arm.name
        assert arm.why, arm.name
        assert all(in_arm(o, scenario) for o in experiment.design.experiment.outcomes)


def test_the_no_halt_arm_keeps_no_decision_of_the_halt_and_runs_the_operations_on():
    experiment = load_experiment("no-halt")
    scenario = experiment.scenarios["no-halt"]
    assert not any(str(e.date) in ("1938-11-17", "1938-11-26") for e in scenario.events)
    assert {str(o.end) for o in scenario.operations} == {"1940-12-31"}


def test_the_paired_interval_needs_two_seeds_and_skips_missing_ones():
    mean, low, high, seeds = paired_effect(np.array([1.0, np.nan]), np.array([3.0, 5.0]))
    assert (mean, seeds) == (2.0, 1) and math.isnan(low) and math.isnan(high)
    assert paired_effect(np.array([np.nan]), np.array([1.0]))[3] == 0


def test_a_sweep_without_outcomes_keeps_its_plan_as_before():
    specs = plan(load_scenario("party-purges-1921-1936"), 1)
    assert "observables" not in specs[0].to_dict()


def test_an_arm_that_changes_nothing_is_refused(tmp_path):
    text = DESIGN.format(outcomes=json.dumps(OUTCOMES)).replace('without = ["operations.mass"]', "")
    with pytest.raises(ChistkaError, match="changes nothing"):
        load_experiment(write_design(tmp_path, text))


def test_the_design_written_out_in_the_docs_loads_and_shows(tmp_path):
    text = (Path(__file__).resolve().parents[1] / "docs" / "experiments.md").read_text()
    match = re.search(r"<!-- example: (\S+) -->\n```toml\n(.*?)```", text, re.S)
    path = tmp_path / match[1]
    path.write_text(match[2])
    assert list(load_experiment(str(path)).scenarios) == [
        BASELINE,
        "milder",
        "no-1935-verification",
    ]
    result = invoke("show", str(path))
    assert result.exit_code == 0, result.output
    assert "campaigns.1933.threshold=1.8" in result.output


def test_report_refuses_a_folder_that_holds_no_finished_experiment(tmp_path, finished):
    result = invoke("report", str(tmp_path))
    assert result.exit_code == 2 and "not an experiment's folder" in result.output
    out, _, _ = finished
    import shutil

    copy = tmp_path / "unfinished"
    shutil.copytree(out, copy)
    (copy / "effects.csv").unlink()
    result = invoke("report", str(copy))
    assert result.exit_code == 2 and "--resume" in " ".join(result.output.split())


@pytest.mark.slow  # 11-12 s: the quick tier took 4 min 46 s in a fresh clone (session 45)
def test_a_variant_changes_the_baseline_and_every_arm_and_an_arms_own_setting_wins(tmp_path):
    design = write_design(tmp_path)
    variant = {"interrogation.names_mean": 3.0}
    experiment = load_experiment(design, variant)
    assert experiment.scenarios[BASELINE].interrogation.names_mean == 3.0
    assert experiment.scenarios["no-mass"].interrogation.names_mean == 3.0
    assert experiment.scenarios["no-names"].interrogation.names_mean == 0.0
    assert "[experiment variant: interrogation.names_mean=3.0]" in (
        experiment.scenarios[BASELINE].scenario.description
    )
    out = tmp_path / "out"
    arguments = ["run", design, "--out", str(out), "--jobs", "1", "--seeds", "1"]
    result = invoke(*arguments, "--set", "interrogation.names_mean=3")
    assert result.exit_code == 0, result.output
    document = json.loads((out / "experiment.json").read_text())
    assert document["set"] == {"interrogation.names_mean": "3"}
    assert "interrogation.names_mean=3" in (out / "experiment.html").read_text()
    plain = Sim(scenario_from_dict(TERROR).with_parameters(variant), seed=5).run()
    outcomes = pd.read_csv(out / "outcomes.csv")
    baseline = outcomes[outcomes["arm"] == BASELINE].set_index("outcome")["value"]
    assert baseline[OUTCOMES[0]] == compute(plain, OUTCOMES[0])
    other = invoke(*arguments, "--resume", "--set", "interrogation.names_mean=2")
    assert other.exit_code == 2 and "set" in other.output
    several = invoke(*arguments, "--set", "interrogation.names_mean=2,3")
    assert several.exit_code == 2 and "once per value" in " ".join(several.output.split())


@pytest.mark.slow
def test_centre_or_periphery_at_one_seed_keeps_what_each_arm_must(tmp_path):
    """The built-in design on great-terror itself (8 runs): structure, not figures.

    The arms whose lever acts from July 1937 give 1935-36 exactly as the scenario as it stands
    (each mechanism's own streams); an arm without an operation has no arrests from its lists.
    """
    out = tmp_path / "out"
    result = invoke("run", "centre-or-periphery", "--seeds", "1", "--out", str(out), "--jobs", "2")
    assert result.exit_code == 0, result.output
    outcomes = pd.read_csv(out / "outcomes.csv").set_index(["arm", "outcome"])["value"]
    early = "political_convictions:1935-1936"
    for arm in ("no-order-00447", "no-national-operations", "no-mass-operations"):
        assert outcomes[(arm, early)] == outcomes[(BASELINE, early)], arm
    assert outcomes[("initial-limits-only", early)] == outcomes[(BASELINE, early)]
    assert outcomes[("no-denunciations", early)] < outcomes[(BASELINE, early)]
    assert outcomes[("no-order-00447", "arrests_by_channel:category/1937-1938")] == 0
    assert outcomes[("no-national-operations", "arrests_by_channel:national/1937-1938")] == 0
    assert outcomes[("no-names", "arrests_by_channel:testimony/1937-1938")] == 0
    assert outcomes[("no-denunciations", "arrests_by_channel:denunciation/1937-1938")] == 0
    limited = outcomes[("initial-limits-only", "arrests_by_channel:category/1937-1938")]
    assert 0 < limited < outcomes[(BASELINE, "arrests_by_channel:category/1937-1938")]


def test_the_initial_limits_arm_says_the_regions_start_below_the_orders_limit():
    """QA of session 46: the arm gave the order's 75,950 as the limits it keeps, where the
    regions start from 65,950 (the 10,000 for the camps go to no region, as the limits chart
    says)."""
    from chistka.record.regions import regional_table

    table = regional_table("order_00447")
    (arm,) = [
        arm
        for arm in load_experiment("centre-or-periphery").arms
        if arm.name == "initial-limits-only"
    ]
    regions = f"the regions' {int(table.limit_cat1.sum()):,} in category 1"
    assert regions in arm.why and f"{int(table.limit_cat2.sum()):,} in category 2" in arm.why
    assert f"order's {table.total_cat1:,}" in arm.why
    assert f"{table.unassigned_cat1:,} it set for the NKVD camps" in arm.why


@pytest.mark.parametrize(
    ("option", "extra", "expected"),
    [
        ("interrogation.names_mean=1", [], "give 2 to 12 values"),
        ("interrogation.names_mean=1,1", [], "a value is repeated"),
        ("interrogation.names_mean=1,-1", [], "--vary interrogation.names_mean=-1"),
        ("interrogation.names_mean=1,2", ["--set", "interrogation.names_mean=3"], "one place"),
        ("denunciation.arrest_probability=0.1,0.2", [], "timeline sets it again"),
        ("interrogation.names_mean", [], "--vary 'interrogation.names_mean': expected"),
        ("interrogation.names_mean=", [], "--vary interrogation.names_mean: empty value"),
    ],
)
def test_bad_variants_are_refused_before_anything_runs(tmp_path, option, extra, expected):
    design = write_design(tmp_path)
    out = tmp_path / "out"
    result = invoke("run", design, "--out", str(out), "--vary", option, *extra)
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.output.split())
    assert not out.exists()


@pytest.mark.slow
def test_variants_run_the_experiment_at_each_value_side_by_side(tmp_path):
    """Two whole experiments (6 runs, about 30 s): in the slow tier, beside --fits's runs
    (tests/test_experiment_fits.py), which go through the same machinery; the refusals of
    --vary stay in the quick tier."""
    design = write_design(tmp_path)
    out = tmp_path / "out"
    arguments = ["run", design, "--out", str(out), "--seeds", "1", "--jobs", "1"]
    result = invoke(*arguments, "--vary", "interrogation.names_mean=1,3")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "variants.csv", dtype={"value": str})
    assert list(table["value"].unique()) == ["1", "3"]
    assert len(table) == 2 * 2 * len(OUTCOMES)
    scenario = scenario_from_dict(TERROR).with_parameters({"interrogation.names_mean": 3})
    results = Sim(scenario, seed=5).run()
    outcomes = pd.read_csv(out / "v02" / "outcomes.csv")
    baseline = outcomes[outcomes["arm"] == BASELINE].set_index("outcome")["value"]
    assert baseline[OUTCOMES[1]] == compute(results, OUTCOMES[1])
    effects = pd.read_csv(out / "v02" / "effects.csv")
    row = table[(table["value"] == "3") & (table["arm"] == "no-names")].iloc[1]
    same = effects[(effects["arm"] == "no-names") & (effects["outcome"] == row["outcome"])]
    assert row["relative"] == pytest.approx(same["relative"].iloc[0])
    page = (out / "variants.html").read_text()
    assert "interrogation.names_mean=3" in page and 'href="v01/experiment.html"' in page
    assert (out / "v01" / "experiment.html").is_file()
    (out / "variants.html").unlink()
    (out / "v02" / "experiment.html").unlink()
    redrawn = invoke("report", str(out))
    assert redrawn.exit_code == 0, redrawn.output
    assert (out / "variants.html").read_text() == page
    assert (out / "v02" / "experiment.html").is_file()
    other = invoke(*arguments, "--resume", "--vary", "interrogation.names_mean=1,2")
    assert other.exit_code == 2 and "vary" in other.output


def test_an_outcome_is_said_in_words_with_its_argument():
    """QA of session 40: an experiment's sections gave the observable's code alone."""
    assert outcome_meaning("death_sentences:1937-1938") == (
        "Death sentences in the year or period; here 1937-1938"
    )
    assert outcome_meaning("party_total:1937-01-01") == (
        "Candidates and full members at the start of DATE (persons); here 1937-01-01"
    )


def test_an_outcomes_words_give_no_unit_but_its_own():
    """A section's words said "(persons)" where its unit was arrests or sentences: the words
    gave units by hand; now `unit` gives them, so they cannot disagree."""
    words = {*UNITS.values(), "persons", "share", "%"}
    for kind in OBSERVABLES:
        name = f"{kind}:1937"
        said = re.findall(r"\(([^()]*)\)", outcome_meaning(name))
        assert all(text == unit(name) for text in said if text in words), (kind, said)
        assert not [text for text in re.findall(r"\(([^()]*)\)", MEANINGS[kind]) if text in words]
    assert "those of them" not in outcome_meaning("political_prisoners:1941-01-01")


def chart_titles(page: str) -> list[str]:
    """The chart titles of a page, the text above each chart (tags dropped, lines joined)."""
    return [
        html.unescape(re.sub(r"<br>", " | ", re.sub(r"<(?!br>)[^>]+>", "", text)))
        for text in re.findall(r'<p class="chart-title">(.*?)</p>', page)
    ]


def test_an_outcome_has_a_short_title_in_words():
    assert set(TITLES) == set(OBSERVABLES)
    assert title("arrests_by_channel:self_protection/1937-1938") == (
        "Arrests through self-protective denunciation, 1937-1938"
    )
    assert title("political_convictions:1936-06-01/1937-07-01") == (
        "Death and camp sentences, 1 June 1936 to 30 June 1937"
    )
    assert (
        title("political_prisoners:1941-01-01")
        == "Political prisoners in the camps on 1 January 1941"
    )
    assert title("shot_share:cc1934") == "Share of the 1934 Central Committee sentenced to death"
    assert title("arrests_by_channel:nowhere/1937") == "arrests_by_channel:nowhere/1937"


def test_the_charts_and_sections_name_each_outcome_in_words_and_keep_its_code(finished):
    """QA of session 40 (B9): the charts' titles were codes, 'arrests_by_channel:...: change'."""
    out, _, _ = finished
    page = (out / "experiment.html").read_text()
    titles = chart_titles(page)
    for outcome in OUTCOMES:
        assert f"<h2>{title(outcome)}</h2>" in page
        charts = [text for text in titles if text.endswith(f"in the files {outcome}")]
        assert len(charts) == 2, outcome
        assert not any(title(outcome) in text for text in charts), charts  # the heading says it
    assert f"{title(OUTCOMES[0])}<br><code>{OUTCOMES[0]}</code>" in page  # the effects table


SHARE = "party_share_of_political_convictions:1937-1938"
SHARE_EFFECTS = pd.DataFrame(
    [
        ("baseline", SHARE, 2, 0.176, 0.169, 0.182, *[math.nan] * 6),
        ("no-names", SHARE, 2, 0.196, 0.191, 0.202, 0.020, 0.012, 0.028, 0.115, 0.070, 0.161),
        ("baseline", "arrests:1937-1938", 2, 43355.5, 43129, 43582, *[math.nan] * 6),
        ("no-names", "arrests:1937-1938", 2, 28231.5, 27201, 29262, -15124, -23944, -6304)
        + (-0.349, -0.552, -0.145),
    ],
    columns=["arm", "outcome", "seeds", "arm_mean", "arm_low", "arm_high", "difference"]
    + ["difference_low", "difference_high", "relative", "relative_low", "relative_high"],
)
"""An experiment's effects with a share and a count (values of the small design)."""


def test_every_outcome_has_a_unit():
    for kind in OBSERVABLES:
        name = f"{kind}:1937"
        assert unit(name) == (SHARE_UNIT if is_share(name) else UNITS[kind]), kind
    assert unit("arrests_by_channel:testimony/1937") == "arrests"
    assert unit("death_sentences:1937") == "sentences"


def test_the_effects_table_says_its_units_and_gives_a_change_of_shares_in_points():
    """QA of session 40 (B9): 'mean' and 'change' had no unit, and a share's mean showed '0'."""
    page = _effects_table(SHARE_EFFECTS, {})
    cells = [
        re.sub(r"<[^>]+>", " ", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", page)
    ]
    assert "<th>unit</th>" in page
    assert "share, % (change in points)" in cells and "arrests" in cells
    assert ["17.6%", "16.9% to 18.2%"] == cells[3:5]
    assert "+2.0 points" in cells and "+1.2 points to +2.8 points" in cells
    assert "-15,124" in cells and "28,232" in cells


def test_an_interval_past_minus_100_percent_is_read_as_too_few_seeds():
    """QA of session 42: at 2 seeds "-125.4% to +31.9%" (fewer sentences than none) stood in
    the effects table unexplained."""
    note = few_seeds_note(pd.Series([math.nan, -1.254, 0.1]), 2)
    assert "below -100% (fewer than none)" in note and "over 2 seeds" in note
    assert few_seeds_note(pd.Series([math.nan, -0.55, -1.0]), 8) == ""
    assert few_seeds_note(["", "-0.5"], 8) == ""


LATE_EFFECTS = pd.concat(
    [
        SHARE_EFFECTS,
        pd.DataFrame(
            [("late", "arrests:1937-1938", 2, 43355.5, 43129, 43582, *[0.0] * 6)],
            columns=SHARE_EFFECTS.columns,
        ),
    ],
    ignore_index=True,
)
"""SHARE_EFFECTS with an arm whose lever acts after the outcome's period: every seed's
difference is exactly zero."""


def test_an_arm_identical_to_the_baseline_reads_no_change_at_any_seed():
    """Review of session 42: an arm whose lever acts after the outcome's period showed
    "+0 (+0 to +0)" and "+0.0%", as if a measured effect rounded to nothing."""
    labels = {"late": "Late lever", "no-names": "No names"}
    page = _effects_table(LATE_EFFECTS, labels)
    late = page[page.index("Late lever") :]
    assert f'<td class="num" colspan="4">{NO_CHANGE}</td>' in late
    assert "+0" not in late and "+0.0%" not in late
    assert page.count(NO_CHANGE) == 1 and "-15,124" in page  # a real effect is as before
    arms = [{"name": "no-names", "label": "No names"}, {"name": "late", "label": "Late lever"}]
    (heat,) = _overview(LATE_EFFECTS, ["arrests:1937-1938"], arms).data
    assert list(heat.text[0]) == ["-34.9%", "no change"]


@pytest.mark.parametrize(
    ("difference", "low", "high", "expected"),
    [
        (0.0, 0.0, 0.0, True),  # every seed's difference zero
        (0.0, math.nan, math.nan, True),  # one seed, its difference zero
        ("0.0", "0.0", "-0.0", True),  # as effects.csv gives them
        (0.0, -12.5, 12.5, False),  # differences that cancel: a mean of 0 with a spread
        (0.4, 0.0, 0.8, False),
        (math.nan, math.nan, math.nan, False),  # no seed: missing, not no change
        ("", "", "", False),
    ],
)
def test_no_change_is_every_seeds_difference_exactly_zero(difference, low, high, expected):
    assert no_change(difference, low, high) is expected


def test_the_overview_gives_each_outcome_a_row_of_its_own_and_grows_with_them():
    """QA of session 41: the outcomes were the overview's columns, whose long labels crowded
    and squeezed the map at eleven outcomes (centre-or-periphery)."""
    outcomes = [f"arrests:{year}" for year in range(1927, 1938)]
    arms = [
        {"name": "no-order", "label": "No Order 00447"},
        {"name": "no-periphery", "label": "None of the periphery's channels"},
    ]
    effects = pd.DataFrame(
        [
            (arm["name"], outcome, sign * (i + 1) / 100, sign * i / 100, sign * (i + 2) / 100)
            for sign, arm in zip((1, -1), arms, strict=True)
            for i, outcome in enumerate(outcomes)
        ],
        columns=["arm", "outcome", "relative", "relative_low", "relative_high"],
    )
    figure = _overview(effects, outcomes, arms)
    (heat,) = figure.data
    assert list(heat.y) == [title(outcome) for outcome in outcomes]
    assert list(heat.x) == [arm["label"] for arm in arms]
    assert list(heat.z[3]) == [0.04, -0.04]
    assert [row[0][0] for row in heat.customdata] == outcomes and "%{customdata[0]}" in (
        heat.hovertemplate
    )
    from chistka.figures import responsive_layout

    laid_out = go.Figure(figure)
    responsive_layout(laid_out)
    assert "<br>" in laid_out.layout.xaxis.ticktext[1]  # a long arm's label wraps
    height = overview_height(len(outcomes))
    assert height >= 30 * len(outcomes) and height > overview_height(3)
    page = FigureRenderer().add(figure, "overview", height=height)
    assert f"height:{height}px" in page.replace(" ", "")
    ((_, numbers),) = numbers_in_page(page)
    cell = numbers[(numbers["x"] == arms[1]["label"]) & (numbers["y"] == title(outcomes[3]))]
    assert cell["z"].tolist() == [-0.04]
    # QA of session 42: the codes and units were in the hover only, not in the numbers
    assert cell[["outcome", "outcome_unit", "arm"]].values.tolist() == [
        [outcomes[3], "arrests", "no-periphery"]
    ]


def test_the_overviews_numbers_join_the_effects_on_arm_and_outcome(finished):
    """QA of session 42: the overview's CSV named the outcomes and arms in words only, while
    effects.csv and outcomes.csv key them by code and name."""
    out, _, effects = finished
    name, numbers = numbers_in_page((out / "experiment.html").read_text())[0]
    assert name == "small-overview"
    assert {"outcome", "outcome_unit", "arm"} <= set(numbers.columns)
    assert set(numbers["outcome"]) == set(OUTCOMES)
    assert numbers["outcome_unit"].tolist() == [unit(o) for o in numbers["outcome"]]
    joined = numbers.merge(effects, on=["arm", "outcome"], how="left", validate="one_to_one")
    assert len(joined) == len(numbers) == 2 * len(OUTCOMES)
    assert (joined["x"] == joined["label"]).all()
    np.testing.assert_allclose(joined["z"], joined["relative"])


def test_each_charts_numbers_are_named_by_its_outcome(finished):
    """QA of session 40 (B9): every outcome's download was chistka-experiment-N.csv."""
    out, _, _ = finished
    names = [name for name, _ in numbers_in_page((out / "experiment.html").read_text())]
    expected = [f"{file_name(o)}-{chart}" for o in OUTCOMES for chart in ("change", "seeds")]
    assert names == ["small-overview", *expected]


@pytest.mark.parametrize(
    ("seeds", "text"),
    [([5], "seed 5 (1 seed per arm)"), ([1, 2], "seeds 1, 2 (2 per arm)")],
)
def test_the_reports_seeds_are_listed_with_their_count(seeds, text):
    """QA of session 42: 'seeds (every arm) 5' read as a count of seeds."""
    assert seeds_text(seeds) == text
    assert seeds_text(seeds, "arm, every value").endswith("per arm, every value)")


def test_the_report_names_the_seeds_and_the_scenario_file_not_the_servers_path(finished):
    """QA of session 42: the report gave 'seeds (every arm) 5, 6', and a design's scenario file
    by its absolute path on the server ('scenario /tmp/.../small.toml')."""
    out, _, _ = finished
    page = (out / "experiment.html").read_text()
    assert "<td>seeds 5, 6 (2 per arm)</td>" in page
    assert "<td>small.toml (a scenario file the design names)</td>" in page
    assert str(out.parent) not in page


def test_the_printed_effects_say_why_a_change_has_no_interval(monkeypatch):
    """QA 44: at --seeds 1 the columns "change (90% interval)" held no interval, unexplained."""
    import io

    from rich.console import Console

    from chistka.commands import experiment as command

    def printed(effects: pd.DataFrame) -> str:
        out = io.StringIO()
        monkeypatch.setattr(command, "console", Console(file=out, width=200))
        command.print_effects(effects.assign(label=effects["arm"]))
        return out.getvalue()

    assert "--seeds 2 or more" not in printed(SHARE_EFFECTS)
    one_seed = SHARE_EFFECTS.assign(seeds=1)
    one_seed.loc[one_seed["arm"] != "baseline", ["difference_low", "difference_high"]] = math.nan
    one_seed.loc[one_seed["arm"] != "baseline", ["relative_low", "relative_high"]] = math.nan
    assert "none where a change rests on one seed (--seeds 2 or more)" in printed(one_seed)


QA45_OUTCOMES = (
    "political_convictions:1938",
    "political_convictions:1939",
    "political_convictions:1940",
    "death_sentences:1939-1940",
    "political_prisoners:1941-01-01",
)
QA45_ARMS = (
    ("baseline", "great-terror as it stands"),
    ("no-halt", "No halt, operations to the end of 1940"),
    ("no-order-00762", "The decree without Order 00762"),
)


def _printed_at(monkeypatch, columns: int, draw) -> str:
    import io

    from rich.console import Console

    from chistka.commands import experiment as command

    out = io.StringIO()
    monkeypatch.setattr(command, "console", Console(file=out, width=columns))
    draw(command)
    return out.getvalue()


def test_the_printed_effects_keep_the_outcomes_and_labels_whole_at_80_columns(monkeypatch):
    """QA 45: at 80 columns `experiment report` printed "political_…" for three outcomes and
    cut the baseline's label ("great-terr… as it stands")."""
    rows = []
    for outcome in QA45_OUTCOMES:
        rows.append(("baseline", QA45_ARMS[0][1], outcome, 581737.5, *[math.nan] * 6))
        for arm, label in QA45_ARMS[1:]:
            rows.append((arm, label, outcome, 4342.0, 391729, 379272, 404186, 90.64, 86.79, 92.49))
    effects = pd.DataFrame(
        rows,
        columns=["arm", "label", "outcome", "arm_mean", "difference", "difference_low"]
        + ["difference_high", "relative", "relative_low", "relative_high"],
    )
    for columns in (80, 200):
        text = _printed_at(monkeypatch, columns, lambda command: command.print_effects(effects))
        assert "…" not in text
        assert max(len(line) for line in text.splitlines()) <= columns
        for outcome in QA45_OUTCOMES:
            assert outcome in text
        for _, label in QA45_ARMS:
            assert label in text or columns == 80  # at 80 a label may wrap at its spaces
        assert "great-terror as it" in text
        assert "+9064.0%" in text


def test_the_printed_variants_keep_the_outcomes_whole_at_80_columns(monkeypatch):
    """QA 45: at 80 columns `experiment run --fits` printed "political_convic…" for three years."""
    rows = [
        ("fit", value, outcome, arm, label, 0.063, 17, 21)
        for value in ("trial 1", "trial 2")
        for outcome in QA45_OUTCOMES
        for arm, label in QA45_ARMS[1:]
    ]
    table = pd.DataFrame(
        rows,
        columns=["parameter", "value", "outcome", "arm", "label", "relative"]
        + ["baseline_calibration_inside", "calibration_rows"],
    )
    for columns in (60, 80, 200):
        text = _printed_at(monkeypatch, columns, lambda command: command.print_variants(table))
        assert "…" not in text
        assert max(len(line) for line in text.splitlines()) <= columns
        for outcome in QA45_OUTCOMES:
            assert outcome in text
