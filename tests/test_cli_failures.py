"""Failures early and clean: every command checks its arguments before the first simulation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chistka.analysis.calibrate import calibrate
from chistka.cli import app
from chistka.commands.preflight import (
    check_observable,
    check_observable_form,
    check_strata,
    empty_strata,
    with_scale,
)
from chistka.engine import Sim
from chistka.errors import ChistkaError
from chistka.scenario import load_scenario
from conftest import sweep_small_file

SCENARIO = "party-purges-1921-1936"
SCALE = 0.0005
TARGETS = "id,observable,value,low,high\npurge1921,expelled_share:1921,0.6,0.55,0.65\n"
SMALL_SCALE = 0.01
"""The scale of the runs of conftest's small scenario (`small_file`, 2,000 agents)."""
SMALL_TARGETS = "id,observable,value,low,high\npurge_c1,expelled_share:c1,0.2,0.15,0.25\n"
"""A target of the small scenario's first campaign."""
FREE = '[[free]]\npath = "review.noise_sd"\nlow = 0.3\nhigh = 4.0\nlog = true\n'


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "300"})


def invoke_calibrate(scenario, targets, free, out, *extra: str, scale: float = SCALE):
    """`chistka calibrate` for one trial at a small scale (extra options before --scale)."""
    return invoke(
        "calibrate",
        str(scenario),
        *("--targets", str(targets), "--free", str(free), "--trials", "1", *extra),
        *("--scale", str(scale), "--out", str(out)),
    )


def invoke_sensitivity(observable: str, free, *extra: str):
    """`chistka sensitivity` of one observable with two samples at a small scale."""
    return invoke(
        "sensitivity",
        SCENARIO,
        *("--observable", observable, "--free", str(free), "--n", "2"),
        *("--scale", str(SCALE), *extra),
    )


@pytest.fixture
def no_simulation(monkeypatch):
    """Any simulation in this process fails the test: the command must refuse before one."""

    def refuse(self, *args, **kwargs):
        raise AssertionError("a simulation started before the arguments were checked")

    monkeypatch.setattr(Sim, "run", refuse)
    monkeypatch.setattr(Sim, "run_with_state", refuse)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    targets = tmp_path / "targets.csv"
    targets.write_text(TARGETS)
    free = tmp_path / "free.toml"
    free.write_text(FREE)
    return targets, free


@pytest.fixture
def small_files(tmp_path: Path) -> tuple[Path, Path]:
    """The targets and free-parameter files for runs of the small scenario."""
    targets = tmp_path / "small_targets.csv"
    targets.write_text(SMALL_TARGETS)
    free = tmp_path / "free.toml"
    free.write_text(FREE)
    return targets, free


def assert_clean_exit_2(result, *expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.output, (text, result.output)


# --- output paths ------------------------------------------------------------------------------


def test_calibrate_out_file_exits_2(files, tmp_path, no_simulation):
    targets, free = files
    out = tmp_path / "notes.txt"
    out.write_text("mine")
    result = invoke_calibrate(SCENARIO, targets, free, out)
    assert_clean_exit_2(result, "not a folder")
    assert out.read_text() == "mine"


def test_sensitivity_out_file_exits_2(files, tmp_path, no_simulation):
    _, free = files
    out = tmp_path / "notes.txt"
    out.write_text("mine")
    result = invoke_sensitivity("expelled_share:1921", free, "--out", str(out))
    assert_clean_exit_2(result, "not a folder")
    assert out.read_text() == "mine"


# --- observables ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("observable", "expected"),
    [
        ("expelled_share:1937", "no campaign '1937'"),
        ("arrests:1950", "not wholly inside the run"),
        ("arrests:19x7", "not a year"),
        ("party_total:1925-13-01", "not a date"),
        ("political_prisoners:1925-13-01", "not a date"),
        ("political_prisoners:1950-01-01", "outside the run"),
        ("operation_shot:polish", "no operation 'polish'"),
        ("order_00447_shot:1936-01-01", "no operation 'order_00447'"),
        ("shot_share:cc1934", "has no cc1934"),
        ("arrested", "unknown observable"),
    ],
)
def test_sensitivity_checks_observables_before_running(files, observable, expected, no_simulation):
    _, free = files
    result = invoke_sensitivity(observable, free)
    assert_clean_exit_2(result, expected)


def test_observables_inside_a_terror_scenario_pass():
    scenario = load_scenario("great-terror")
    for name in (
        "arrests:1937-1938",
        "order_00447_shot:1938-11-17",
        "shot_share:cc1934",
        "operation_shot:all_national",
        "party_total:1937-01-01",
    ):
        check_observable(name, scenario)


def test_an_origin_share_of_a_campaign_the_scenario_lacks_is_refused():
    scenario = load_scenario("party-purges-1921-1936")
    check_observable("expelled_origin_share:1921/peasant", scenario)
    with pytest.raises(ChistkaError, match="no campaign '1922'"):
        check_observable("expelled_origin_share:1922/peasant", scenario)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("arrests:37", "not a year"),
        ("arrests:1938-1937", "ends before it starts"),
        ("party_total:1937-1-1", "not a date"),
        ("shot_share:politburo", "unknown body"),
        ("arrests", "needs an argument"),
        ("expelled_origin_share:1921", "is not CAMPAIGN/ORIGIN"),
        ("expelled_origin_share:1921/kulak", "unknown origin 'kulak'"),
        ("expelled_origin_share:19 21/worker", "is not a name"),
    ],
)
def test_malformed_observables(name, expected):
    with pytest.raises(ChistkaError, match=expected):
        check_observable_form(name)


def test_validate_with_a_malformed_observable_exits_2(two_point_sweep, tmp_path):
    run = two_point_sweep / "p000-s001"
    targets = tmp_path / "t.csv"
    targets.write_text("id,observable,value,low,high\nx,arrests:37,5,,\n")
    result = invoke("validate", str(run), "--targets", str(targets))
    assert_clean_exit_2(result, "x", "'37' is not a year")


# --- scale ---------------------------------------------------------------------------------------


def test_a_scale_with_an_empty_stratum_is_refused_naming_it(tmp_path, no_simulation):
    assert empty_strata(with_scale(load_scenario(SCENARIO), 1e-3)) == []
    with pytest.raises(ChistkaError, match="the party"):
        check_strata(with_scale(load_scenario(SCENARIO), 1e-9))
    with pytest.raises(ChistkaError, match="beyond the party stratum"):
        check_strata(with_scale(load_scenario("great-terror"), 1e-9))
    out = tmp_path / "run"
    result = invoke("run", SCENARIO, "--scale", "1e-9", "--out", str(out))
    assert_clean_exit_2(result, "the party", "no agent", "at least")
    assert not out.exists()
    sweep = invoke("sweep", SCENARIO, "--seeds", "1", "--scale", "1e-9", "--out", str(out))
    assert_clean_exit_2(sweep, "the party")
    assert not out.exists()


# --- calibrate ---------------------------------------------------------------------------------


def test_calibrate_resume_at_another_scale_names_the_scale(small_file, small_files, tmp_path):
    targets, free = small_files
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    scenario = str(small_file)
    calibrate(scenario, targets, 1, seeds=(1,), scale=0.01, free_path=free, storage=storage)
    with pytest.raises(ChistkaError, match="made at scale 0.01, not at scale 0.005"):
        calibrate(scenario, targets, 1, seeds=(1,), scale=0.005, free_path=free, storage=storage)


def test_calibrate_checks_targets_before_running(files, tmp_path, no_simulation):
    _, free = files
    for name, row, message in [
        ("bad.csv", "x,arrests:37,5,,", "not a year"),
        ("outside.csv", "x,arrests:1950,5,,", "none of the targets"),
    ]:
        targets = tmp_path / name
        targets.write_text(f"id,observable,value,low,high\n{row}\n")
        result = invoke_calibrate(SCENARIO, targets, free, tmp_path / "c")
        assert_clean_exit_2(result, message)
    assert not (tmp_path / "c").exists()


def test_calibrate_refuses_an_unknown_loss_before_running(files, tmp_path, no_simulation):
    targets, free = files
    result = invoke_calibrate(SCENARIO, targets, free, tmp_path / "c", "--loss", "mse")
    assert_clean_exit_2(result, "--loss must be one of msle, band, inside (got 'mse')")
    assert not (tmp_path / "c").exists()


def test_a_study_resumes_only_with_the_loss_it_was_made_with(small_file, small_files, tmp_path):
    targets, free = small_files
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    kwargs = dict(seeds=(1,), scale=SMALL_SCALE, free_path=free, storage=storage)
    made = calibrate(str(small_file), targets, 1, loss="band", **kwargs)
    assert made.loss == "band" and made.study.user_attrs["loss"] == "band"
    with pytest.raises(ChistkaError, match="loss band"):
        calibrate(str(small_file), targets, 1, **kwargs)
    assert len(calibrate(str(small_file), targets, 1, loss="band", **kwargs).trials) == 2


def test_fitted_scenario_names_the_band_loss(small_file, small_files, tmp_path):
    targets, free = small_files
    result = invoke_calibrate(
        small_file, targets, free, tmp_path / "c", "--seeds", "1", "--loss", "band",
        scale=SMALL_SCALE,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = (tmp_path / "c" / "fitted.toml").read_text()
    assert "mean log distance outside the targets' ranges" in text
    assert "mean log distance outside" in (tmp_path / "c" / "calibration.html").read_text()


def test_calibrate_jobs_gives_the_same_study(small_file, small_files, tmp_path):
    targets, free = small_files
    results = [
        calibrate(
            str(small_file),
            targets,
            2,
            seeds=(1, 2),
            scale=SMALL_SCALE,
            free_path=free,
            n_jobs=jobs,
        )
        for jobs in (1, 2)
    ]
    assert [t.value for t in results[0].trials] == [t.value for t in results[1].trials]
    assert results[0].best_params == results[1].best_params


def test_fitted_scenario_records_the_scale(small_file, small_files, tmp_path):
    targets, free = small_files
    result = invoke_calibrate(
        small_file, targets, free, tmp_path / "c", "--seeds", "1", scale=SMALL_SCALE
    )
    assert result.exit_code == 0, result.output
    text = (tmp_path / "c" / "fitted.toml").read_text()
    scale = f"{SMALL_SCALE:g}"
    assert f"population.scale = {scale}" in text
    # one trial, the scenario's own values: no event (QA 41 L4), the scale still in the comment;
    # a fit's event records it in its source too
    assert "The scenario's own values stayed the best" in text
    from chistka.analysis.fitted_file import fitted_event_text
    from chistka.scenario import load_scenario

    event = fitted_event_text(
        load_scenario(small_file),
        {"review.noise_sd": 2.0},
        targets_path=targets,
        loss=0.1,
        trials=1,
        seeds=(1,),
        scale=SMALL_SCALE,
    )
    assert f"population.scale = {scale}" in event and f"population.scale {scale}" in event


# --- validate: groups --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_point_sweep(tmp_path_factory, small_file):
    """A sweep of the small scenario: two seeds at each of two parameter points."""
    out = tmp_path_factory.mktemp("sweep") / "sweep"
    result = sweep_small_file(small_file, out, "review.noise_sd=0.5,3.0")
    assert result.exit_code == 0, result.output
    return out


def test_validate_reports_each_parameter_point_apart(two_point_sweep, tmp_path):
    from chistka.analysis.grouping import validate_groups

    targets = tmp_path / "t.csv"
    targets.write_text(SMALL_TARGETS)
    groups = validate_groups(two_point_sweep, targets)
    # each group with its own value, the first's too (QA of session 40: "p000" alone)
    assert [g.label for g, _ in groups] == [
        "p000, review.noise_sd=0.5",
        "p001, review.noise_sd=3.0",
    ]
    assert [len(g.paths) for g, _ in groups] == [2, 2]
    models = [table.loc[0, "model"] for _, table in groups]
    assert models[0] != models[1]
    result = invoke("validate", str(two_point_sweep), "--targets", str(targets), "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["group"], r["runs"]) for r in rows] == [(g.label, 2) for g, _ in groups]
    table = invoke("validate", str(two_point_sweep), "--targets", str(targets))
    assert "2 groups of runs" in table.output and "review.noise_sd=3.0" in table.output


def test_validate_refuses_to_pool_scenarios(two_point_sweep, tmp_path):
    mixed = tmp_path / "mixed"
    shutil.copytree(two_point_sweep / "p000-s001", mixed / "a")
    shutil.copytree(two_point_sweep / "p000-s002", mixed / "b")
    provenance = json.loads((mixed / "b" / "provenance.json").read_text())
    provenance["scenario_name"] = "great-terror"
    (mixed / "b" / "provenance.json").write_text(json.dumps(provenance))
    targets = tmp_path / "t.csv"
    targets.write_text(SMALL_TARGETS)
    result = invoke("validate", str(mixed), "--targets", str(targets))
    assert_clean_exit_2(result, "2 different scenarios", "great-terror")


def test_validate_strict_exits_1_when_a_target_is_outside(two_point_sweep, tmp_path):
    inside = tmp_path / "inside.csv"
    inside.write_text("id,observable,value,low,high\nx,expelled_share:c1,0.5,0,1\n")
    assert (
        invoke("validate", str(two_point_sweep), "--targets", str(inside), "--strict").exit_code
        == 0
    )
    outside = tmp_path / "outside.csv"
    outside.write_text("id,observable,value,low,high\nx,expelled_share:c1,0.99,0.98,1\n")
    result = invoke("validate", str(two_point_sweep), "--targets", str(outside), "--strict")
    assert result.exit_code == 1 and "outside their range" in result.output
    assert invoke("validate", str(two_point_sweep), "--targets", str(outside)).exit_code == 0


# --- sensitivity's output folder and refusals (QA 44) ------------------------------------------


@pytest.fixture
def analysed(monkeypatch):
    """`chistka sensitivity` gives a made-up analysis at once (the command's writing is tested,
    not the runs)."""
    import chistka.analysis.sensitivity as module
    from test_calibrate import _sobol_result

    monkeypatch.setattr(module, "sensitivity", lambda *args, **kwargs: _sobol_result())


def test_sensitivity_out_follows_runs_rules_for_a_folder_of_other_files(
    files, tmp_path, analysed, no_simulation
):
    """QA 44 (20): `sensitivity --out` wrote beside a user's unrelated files with no question,
    where `run --out` refuses such a folder unless --force."""
    _, free = files
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.csv").write_text("mine")
    result = invoke_sensitivity("expelled_share:1921", free, "--out", str(out))
    assert_clean_exit_2(result, "holds notes.csv, which chistka did not write", "--force")
    assert sorted(p.name for p in out.iterdir()) == ["notes.csv"]
    result = invoke_sensitivity("expelled_share:1921", free, "--out", str(out), "--force")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "notes.csv",
        "sensitivity.csv",
        "sensitivity.html",
    ]
    assert (out / "notes.csv").read_text() == "mine"
    again = tmp_path / "again"  # an earlier analysis alone is replaced, as an earlier run is
    assert invoke_sensitivity("expelled_share:1921", free, "--out", str(again)).exit_code == 0
    result = invoke_sensitivity("expelled_share:1921", free, "--out", str(again))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in again.iterdir()) == ["sensitivity.csv", "sensitivity.html"]


def test_sensitivity_writes_both_files_or_neither(files, tmp_path, analysed, monkeypatch):
    """QA 44 (20): a failure while writing left sensitivity.html without its CSV, or half of
    it; the files are written in a folder beside and moved into place together."""
    import chistka.report.sensitivity as report

    def broken(result, path):
        Path(path).write_text("<title>chistka sensitivity: half")
        raise ChistkaError("the disk is full")

    monkeypatch.setattr(report, "write_sensitivity_report", broken)
    _, free = files
    out = tmp_path / "new" / "analysis"
    result = invoke_sensitivity("expelled_share:1921", free, "--out", str(out))
    assert_clean_exit_2(result, "the disk is full")
    assert not out.exists() and list((tmp_path / "new").iterdir()) == []


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (("--n", "0"), "morris needs n >= 2"),
        (("--method", "bogus"), "unknown method 'bogus'"),
        (("--jobs", "0"), "--jobs must be"),
        (("--noise-seeds", "1"), "--noise-seeds must be 0"),
    ],
)
def test_sensitivity_refusals_are_one_message_with_no_line_before_it(
    files, extra, expected, no_simulation
):
    """QA 44 (21): these were checked under the progress bar, whose erasure left an empty line
    above "error:"; they are checked before it."""
    _, free = files
    result = invoke_sensitivity("expelled_share:1921", free, *extra)
    assert_clean_exit_2(result, expected)
    assert result.output.startswith("error:"), repr(result.output)


def test_run_failing_under_its_bar_prints_no_line_before_the_error(
    small_file, tmp_path, monkeypatch
):
    """A failure after run's progress bar started: rich's Progress ends a bar on a non-terminal
    with an empty line, which stood above "error:" (sensitivity avoided it only by checking
    its refusals first); the bar of any command ends without it when the work fails."""

    def fail_on_day_two(self, progress=None):
        progress(1, 10)
        raise ChistkaError("the run failed on its second day")

    monkeypatch.setattr(Sim, "run", fail_on_day_two)
    result = invoke("run", str(small_file), "--scale", "0.01", "--out", str(tmp_path / "out"))
    assert_clean_exit_2(result, "the run failed on its second day")
    assert result.output.startswith("error:"), repr(result.output)


def test_sweep_refusing_its_out_under_the_bar_prints_no_line_before_the_error(small_file, tmp_path):
    """sweep checks --out in run_ensemble, under its progress bar: a file there is refused
    with the sweep's first line and then the error, and no empty line between them."""
    out = tmp_path / "a-file"
    out.write_text("not a folder\n")
    result = sweep_small_file(small_file, out, "review.noise_sd=0.5")
    assert_clean_exit_2(result, "exists and is not a folder")
    first, second, *rest = result.output.splitlines()
    assert first.startswith("small: 2 runs"), repr(result.output)
    assert second.startswith("error:"), repr(result.output)
