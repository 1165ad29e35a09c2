"""Ensembles: the plan, identical results serially / with joblib / on Dask, resume, CLI, report."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from chistka.analysis import ensemble
from chistka.analysis.comparison import COLUMNS
from chistka.analysis.ensemble import PLAN_FILE, plan, read_plan, run_ensemble, run_spec
from chistka.commands.sweep import parse_set_options, parse_value, sweep_command
from chistka.errors import ChistkaError
from chistka.report.common import FigureRenderer
from chistka.report.ensemble import TITLES, write_ensemble_report
from chistka.report.ensemble_runs import load_ensemble, record_markers_of
from chistka.report.sections import comparison, terror_record
from chistka.results import Results
from test_figures import (
    assert_every_chart_fits_any_width,
    assert_every_chart_has_its_numbers,
    numbers_in_page,
)

SCENARIO = "party-purges-1921-1936"
"""The built-in scenario whose plans are checked (plans load a scenario, they run nothing)."""
SCALE = 0.01
"""The scale of the runs of the small scenario (conftest's `small_file`, 2,000 agents)."""
SETS = {"review.noise_sd": [0.8, 1.2]}
SEEDS = 2
RUN_IDS = ["p000-s001", "p000-s002", "p001-s001", "p001-s002"]
FILES = ("daily.parquet", "events.parquet", "campaigns.parquet", "comparison.csv", "summary.json")


@pytest.fixture(scope="module")
def small_plan(small_file):
    """A maker of the plan of four runs of the small scenario (a fresh list each time)."""
    return lambda: plan(str(small_file), SEEDS, SETS, scale=SCALE)


def assert_same_runs(expected: Path, actual: Path, run_ids=RUN_IDS) -> None:
    """The runs' files are identical byte for byte (the tables are compared to show a diff)."""
    for run_id in run_ids:
        for name in FILES:
            old, new = expected / run_id / name, actual / run_id / name
            if new.read_bytes() == old.read_bytes():
                continue
            if name.endswith(".parquet"):
                pd.testing.assert_frame_equal(pd.read_parquet(new), pd.read_parquet(old))
            raise AssertionError(f"{run_id}/{name} differs")


@pytest.fixture(scope="module")
def serial(tmp_path_factory, small_plan):
    out = tmp_path_factory.mktemp("serial") / "sweep"
    calls = []
    paths = run_ensemble(small_plan(), out, n_jobs=1, progress=lambda *args: calls.append(args))
    return out, paths, calls


# --- the plan ----------------------------------------------------------------------------------


def test_plan_is_the_product_of_values_and_seeds():
    specs = plan(SCENARIO, 3, {"review.noise_sd": [0.8, 1.2], "promotion.enabled": [True, False]})
    assert len(specs) == 12
    assert [s.run_id for s in specs[:4]] == ["p000-s001", "p000-s002", "p000-s003", "p001-s001"]
    assert [s.seed for s in specs[:3]] == [1, 2, 3]  # counted up from the scenario's seed 1
    assert specs[0].overrides == {"review.noise_sd": 0.8, "promotion.enabled": True}
    assert specs[3].overrides == {"review.noise_sd": 0.8, "promotion.enabled": False}
    assert specs[-1].overrides == {"review.noise_sd": 1.2, "promotion.enabled": False}
    assert {s.set_id for s in specs} == {"p000", "p001", "p002", "p003"}
    assert all(s.scale is None for s in specs)
    # the same seeds for every parameter set (common random numbers)
    assert [s.seed for s in specs if s.set_id == "p003"] == [1, 2, 3]


def test_plan_without_sets_and_with_explicit_seeds():
    specs = plan(SCENARIO, [7, 42], scale=0.01)
    assert [(s.run_id, s.seed, s.overrides, s.scale) for s in specs] == [
        ("p000-s001", 7, {}, 0.01),
        ("p000-s002", 42, {}, 0.01),
    ]


@pytest.mark.parametrize(
    ("seeds", "sets", "scale", "expected"),
    [
        (0, {}, None, "--seeds must be from 1 to 100,000"),
        (10**11, {}, None, "--seeds must be from 1 to 100,000"),
        (50_001, {"review.noise_sd": [0.5, 1.0]}, None, "lay out 100,002 runs; at most 100,000"),
        ([3, 3], {}, None, "repeated"),
        (2, {"review.noise_sd": [0.5, -1]}, None, "noise_sd: Input should be greater than 0"),
        (2, {"review.threshhold": [1]}, None, "threshhold"),
        (2, {"nosuch.field": [1]}, None, "not a mechanism parameter"),
        (2, {"review.noise_sd": []}, None, "no values"),
        (2, {}, 1.5, "population.scale"),
    ],
)
def test_plan_rejects_bad_input(seeds, sets, scale, expected):
    with pytest.raises(ChistkaError, match=expected.replace(".", r"\.")):
        plan(SCENARIO, seeds, sets, scale=scale)


def test_specs_and_the_worker_function_pickle(small_plan):
    spec = small_plan()[0]
    again = pickle.loads(pickle.dumps(spec))
    assert again == spec and again.scenario == spec.scenario
    assert pickle.loads(pickle.dumps(run_spec)) is run_spec


# --- running -----------------------------------------------------------------------------------


def test_serial_sweep_writes_plan_and_complete_runs(serial):
    out, paths, calls = serial
    assert paths == [out.resolve() / run_id for run_id in RUN_IDS]
    document = read_plan(out)
    assert [r["run_id"] for r in document["runs"]] == RUN_IDS
    assert document["sets"] == {"p000": {"review.noise_sd": 0.8}, "p001": {"review.noise_sd": 1.2}}
    assert document["scenario"]["scenario"]["name"] == "small"
    assert calls[0] == (0, 4, None)
    assert [c[2] for c in calls[1:]] == RUN_IDS and calls[-1][:2] == (4, 4)
    for path in paths:
        for name in FILES:
            assert (path / name).is_file(), f"{path.name}/{name}"
    provenance = json.loads((out / "p001-s002" / "provenance.json").read_text())
    assert provenance["seed"] == 2 and provenance["scale"] == SCALE
    assert provenance["parameters"]["review"]["noise_sd"] == 1.2
    assert provenance["ensemble"] == {
        "run_id": "p001-s002",
        "set_id": "p001",
        "overrides": {"review.noise_sd": 1.2},
    }
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary leftovers


def test_joblib_processes_give_the_serial_results(serial, tmp_path, small_plan):
    out = tmp_path / "sweep"
    run_ensemble(small_plan(), out, n_jobs=2)
    assert_same_runs(serial[0], out)


def test_resume_redoes_only_missing_runs_and_removes_leftovers(serial, tmp_path, small_plan):
    out = tmp_path / "sweep"
    shutil.copytree(serial[0], out)
    shutil.rmtree(out / "p000-s002")
    leftover = out / ".p000-s002.tmp-xk2f9"  # what a killed run leaves behind
    leftover.mkdir()
    (leftover / "daily.parquet").write_bytes(b"partial")
    unrelated = out / ".notes"
    unrelated.mkdir()
    before = {r: (out / r / "summary.json").stat().st_mtime_ns for r in RUN_IDS if r != "p000-s002"}
    calls = []
    run_ensemble(small_plan(), out, n_jobs=1, resume=True, progress=lambda *a: calls.append(a))
    assert calls == [(3, 4, None), (4, 4, "p000-s002")]  # one run, not four
    after = {r: (out / r / "summary.json").stat().st_mtime_ns for r in before}
    assert after == before
    assert not leftover.exists()
    assert unrelated.exists()  # only a run's own temporary directories are removed
    assert_same_runs(serial[0], out)


def test_a_run_that_fails_while_writing_leaves_nothing_behind(
    serial, tmp_path, monkeypatch, small_plan
):
    out = tmp_path / "sweep"
    shutil.copytree(serial[0], out)
    shutil.rmtree(out / "p000-s002")

    def broken(self):
        raise RuntimeError("disk full")

    with monkeypatch.context() as patch:  # fails after daily.parquet has been written
        patch.setattr(Results, "events_frame", broken)
        with pytest.raises(RuntimeError, match="disk full"):
            run_ensemble(small_plan(), out, n_jobs=1, resume=True)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [PLAN_FILE, *(r for r in RUN_IDS if r != "p000-s002")]
    )
    run_ensemble(small_plan(), out, n_jobs=1, resume=True)
    assert_same_runs(serial[0], out)


def test_runs_in_this_process_report_their_days_and_give_the_same_results(
    serial, tmp_path, small_plan
):
    """The browser's worker showed an ensemble's progress in whole runs only; with
    `day_progress` each run done here gives its days, and its results stay the same."""
    out = tmp_path / "sweep"
    shutil.copytree(serial[0], out)
    redone = ["p000-s002", "p001-s001"]
    for run_id in redone:
        shutil.rmtree(out / run_id)
    days = []
    run_ensemble(small_plan(), out, n_jobs=1, resume=True, day_progress=lambda *a: days.append(a))
    assert list(dict.fromkeys(run_id for run_id, _, _ in days)) == redone
    for run_id in redone:
        done = [d for r, d, _ in days if r == run_id]
        totals = {total for r, _, total in days if r == run_id}
        assert done == sorted(set(done)) and done[0] == 1 and totals == {done[-1]}
    assert_same_runs(serial[0], out)


@pytest.mark.parametrize(
    "where", [{"n_jobs": 2}, {"n_jobs": -1}, {"dask_address": "tcp://127.0.0.1:1"}]
)
def test_day_progress_of_runs_in_other_processes_is_refused_before_anything_is_written(
    tmp_path, small_plan, where
):
    """A run in a joblib or Dask worker cannot call back here: refused, not silently ignored."""
    out = tmp_path / "sweep"
    with pytest.raises(ValueError, match="day_progress needs the runs done in this process"):
        run_ensemble(small_plan(), out, day_progress=lambda *a: None, **where)
    assert not out.exists()


def test_resume_of_a_complete_sweep_runs_nothing(serial, tmp_path, small_plan):
    out = tmp_path / "sweep"
    shutil.copytree(serial[0], out)
    calls = []
    run_ensemble(small_plan(), out, resume=True, progress=lambda *a: calls.append(a))
    assert calls == [(4, 4, None)]


def test_existing_sweep_needs_resume_and_the_same_plan(serial, tmp_path, small_plan, small_file):
    out = tmp_path / "sweep"
    shutil.copytree(serial[0], out)
    with pytest.raises(ChistkaError, match="--resume"):
        run_ensemble(small_plan(), out, n_jobs=1)
    other = plan(str(small_file), 3, SETS, scale=SCALE)
    with pytest.raises(ChistkaError, match="different sweep"):
        run_ensemble(other, out, n_jobs=1, resume=True)


@pytest.mark.slow
def test_dask_cluster_gives_the_serial_results(serial, tmp_path, small_plan):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        out = tmp_path / "sweep"
        calls = []
        run_ensemble(
            small_plan(),
            out,
            dask_address=cluster.scheduler_address,
            progress=lambda *a: calls.append(a),
        )
    assert sorted(c[2] for c in calls[1:]) == RUN_IDS
    assert_same_runs(serial[0], out)


def test_unreachable_dask_scheduler_is_a_clear_error(tmp_path, monkeypatch, small_plan):
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(ensemble, "DASK_CONNECT_TIMEOUT_S", 1)
    with pytest.raises(ChistkaError, match="cannot connect to the scheduler"):
        run_ensemble(small_plan()[:1], tmp_path / "sweep", dask_address="tcp://127.0.0.1:1")


# --- report ------------------------------------------------------------------------------------


def test_ensemble_report(serial, tmp_path):
    path = write_ensemble_report(serial[0], tmp_path / "ensemble.html")
    text = path.read_text()
    for key in ("sets", "membership", "expulsions", "comparison"):
        assert TITLES[key] in text, key
    assert "p001: review.noise_sd=1.2" in text
    assert "band: lowest-highest over 2 seeds" in text and "90% band" not in text
    assert_every_chart_has_its_numbers(text)
    assert_every_chart_fits_any_width(text)
    numbers = dict(numbers_in_page(text))
    band = numbers["membership"][numbers["membership"]["trace"].str.contains("band: lowest")]
    assert len(band) and (band["low"] <= band["high"]).all() and band["y"].isna().all()
    assert "record's range ± tolerance: low" in numbers["membership"].columns
    # QA of session 45: a served report named the server's folders ("Directory /tmp/...")
    assert f"<td>{serial[0].name}</td>" in text and str(serial[0].parent) not in text


def test_ensemble_report_names_the_directory_it_is_moved_to(serial, tmp_path):
    """QA of session 42: the web app builds an ensemble in a hidden staging folder, and its
    report named that folder, gone once the ensemble was done."""
    path = write_ensemble_report(serial[0], tmp_path / "ensemble.html", directory="/runs/x-1")
    text = path.read_text()
    assert "<td>x-1</td>" in text and str(serial[0]) not in text and "/runs/" not in text
    assert TITLES["terror"] not in text  # the small scenario has no arrests


def compared(record_id: str, observable: str, role: str, status: str, model: float) -> dict:
    """One comparison.csv row as `compared_rows` takes it."""
    return {
        "record_id": record_id,
        "observable": observable,
        "role": role,
        "status": status,
        "model": model,
    }


def compared_rows(out: Path, runs: dict[str, list[dict]]) -> Path:
    """An ensemble directory whose runs hold only the given comparison.csv rows.

    Each row gives record_id, observable, role, status and model; the rest is filled in (a
    record of 100 within ±10%, inside where the status says so).
    """
    for run_id, rows in runs.items():
        run_dir = out / run_id
        run_dir.mkdir(parents=True)
        (run_dir / "summary.json").write_text("{}", encoding="utf-8")
        full = [
            {
                "label": f"label of {row['record_id']}",
                "inside": row["status"] == "inside"
                if row["status"] in ("inside", "outside")
                else None,
                "record": 100.0,
                "low": 90.0,
                "high": 110.0,
                "tolerance": "±10%",
                "allowed": 10.0,
                "read_in_source": True,
                "grade": "A",
                "fitted_now": False,
                "note": "",
                "source": "a source",
                **row,
            }
            for row in rows
        ]
        pd.DataFrame(full, columns=list(COLUMNS)).to_csv(run_dir / "comparison.csv", index=False)
    return out


def table_row(text: str, record_id: str) -> str:
    """The one table row of a page that shows a record row (by its label, see `compared_rows`)."""
    rows = [row for row in text.split("<tr>") if f">label of {record_id}<" in row]
    assert len(rows) == 1, (record_id, len(rows))
    return rows[0]


def test_rows_sharing_an_observable_keep_their_own_inside_count(tmp_path):
    """QA session 40 (A1): rows were keyed by observable, so the 17th Congress's candidates
    (calibration, inside in every run) showed Rigby's count of the same day (validation, inside
    in one run) and Rigby's row was missing."""

    def runs_with(rigby: str) -> list[dict]:
        observable = "party_candidates:1934-01-01"
        return [
            compared("cand_17congress", observable, "calibration", "inside", 100.0),
            compared("rigby_cand_1934", observable, "validation", rigby, 100.0),
        ]

    runs = {"p000-s001": runs_with("inside"), "p000-s002": runs_with("outside")}
    runs["p000-s003"] = runs_with("outside")
    ensemble = load_ensemble(compared_rows(tmp_path, runs))
    text = comparison.ensemble_section(ensemble, FigureRenderer())
    assert "3 of 3" in table_row(text, "cand_17congress")
    assert "1 of 3" in table_row(text, "rigby_cand_1934")


def test_the_spread_over_few_seeds_is_their_lowest_and_highest_and_says_so(tmp_path):
    """QA of session 45: with 2 seeds giving 1,193 and 988, the "5-95%" range read 998-1,183,
    leaving out both seeds (the quantiles interpolate between them)."""
    row = "death_sentences_1935", "death_sentences:1935", "calibration", "inside"
    runs = {"p000-s001": [compared(*row, 1193.0)], "p000-s002": [compared(*row, 988.0)]}
    ensemble = load_ensemble(compared_rows(tmp_path / "two", runs))
    text = comparison.ensemble_section(ensemble, FigureRenderer())
    assert "[988, 1,193]" in table_row(text, "death_sentences_1935")
    assert "median [lowest-highest over 2 seeds]" in text and "[5%, 95%]" not in text

    many = {f"p000-s{seed:03d}": [compared(*row, float(seed))] for seed in range(1, 21)}
    ensemble = load_ensemble(compared_rows(tmp_path / "twenty", many))
    text = comparison.ensemble_section(ensemble, FigureRenderer())
    assert "median [5-95% over 20 seeds]" in text
    # the quantiles 1.95 and 19.05, written whole as counts are (session 46), not 1 and 20
    assert "[2, 19]" in table_row(text, "death_sentences_1935")


def test_the_yearly_chart_leaves_out_figures_over_periods(tmp_path):
    """QA session 40 (A2): the NKVD's arrests of 1 Oct 1936 to mid-1938 were drawn at year 0
    (the axis ran from 0 to 1940) and named 'arrests on all charges'; they stay in the table."""
    period = "arrests:1936-10-01/1938-07-01"
    rows = [
        dict(
            record_id="nkvd_arrests",
            observable=period,
            role="calibration",
            status="inside",
            model=95.0,
        ),
        compared("death_1937", "death_sentences:1937", "calibration", "inside", 105.0),
        compared("death_1938", "death_sentences:1938", "calibration", "outside", 150.0),
    ]
    ensemble = load_ensemble(compared_rows(tmp_path, {"p000-s001": rows, "p000-s002": rows}))
    figures = FigureRenderer()
    chart = terror_record.ensemble_section(ensemble, figures)
    assert_every_chart_has_its_numbers(chart)
    [(_, numbers)] = numbers_in_page(chart)
    assert set(numbers["x"]) == {1937, 1938}
    assert "arrests on all charges" not in chart
    table = comparison.ensemble_section(ensemble, figures)
    assert period in table_row(table, "nkvd_arrests")


def test_rows_are_listed_by_role_and_not_modelled_rows_have_no_model_value(tmp_path):
    """QA session 40 (B3, B4): one table mixed every role, and inputs, claims and kinds not
    modelled showed as '0 [0, 0] | 0 of 0', with no count of the rows inside per role."""
    rows = [
        compared("cal_in", "party_total:1930-01-01", "calibration", "inside", 100.0),
        compared("val_out", "party_total:1931-01-01", "validation", "outside", 200.0),
        compared("val_in", "party_total:1932-01-01", "validation", "inside", 101.0),
        compared("first_day", "party_total:1921-03-01", "input", "input", 100.0),
        compared("weak", "party_total:1935-01-01", "claim", "claim", 120.0),
        compared("camps", "gulag_population:1934-01-01", "validation", "not modelled", 0.0),
    ]
    ensemble = load_ensemble(compared_rows(tmp_path, {"p000-s001": rows, "p000-s002": rows}))
    text = comparison.ensemble_section(ensemble, FigureRenderer())
    fit_row = text.split("<tr>")[2]
    assert "1 of 1" in fit_row and "1 of 2" in fit_row  # calibration, validation rows inside
    titles = dict(comparison.GROUPS)
    calibration = text.index(f"<h3>{titles['calibration']}</h3>")
    validation = text.index(f"<h3>{titles['validation']}</h3>")
    not_scored = text.index(f"<summary>{titles['not scored']}")
    assert calibration < text.index(">label of cal_in<") < validation
    assert validation < text.index(">label of val_out<") < not_scored
    assert not_scored < text.index(">label of camps<")
    camps = table_row(text, "camps")
    assert "not modelled" in camps and "0 [0, 0]" not in camps and "of 2" not in camps
    assert "<td>input</td>" in table_row(text, "first_day")
    assert "<td>claim</td>" in table_row(text, "weak")
    assert "120 [120, 120]" in table_row(text, "weak")


def test_report_of_an_empty_directory_is_an_error(tmp_path):
    with pytest.raises(ChistkaError, match="no complete run"):
        write_ensemble_report(tmp_path)


# --- command line ------------------------------------------------------------------------------


def sweep_app() -> typer.Typer:
    app = typer.Typer()
    app.command("sweep")(sweep_command)

    @app.callback()
    def main() -> None:
        """Test app."""

    return app


def test_parse_set_values():
    assert parse_set_options(["review.noise_sd=0.5, 1", "promotion.enabled=true,False"]) == {
        "review.noise_sd": [0.5, 1],
        "promotion.enabled": [True, False],
    }
    assert [parse_value(v) for v in ("3", "2.5", "1e3", "no", "abc")] == [
        3,
        2.5,
        1000.0,
        False,
        "abc",
    ]
    assert isinstance(parse_value("3"), int)


def test_a_bracketed_list_is_one_value_of_a_set():
    """A range of camp terms is a pair: before session 25 its comma split it into two values."""
    assert parse_set_options(["sentencing.family_camp_years=[5, 8]"]) == {
        "sentencing.family_camp_years": [[5, 8]]
    }
    assert parse_set_options(["sentencing.family_camp_years=[5,8],[8,10]"]) == {
        "sentencing.family_camp_years": [[5, 8], [8, 10]]
    }
    assert parse_value("[]") == []


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("review.noise_sd=0.5,-1", "review.noise_sd: Input should be greater than 0 (got -1)"),
        ("review.threshhold=1", "has no field 'threshhold'"),
        ("review=1", "'review' needs a field: 'review.FIELD', one of "),
        ("review.noise_sd=1 --set review.noise_sd=2", "given twice (list all its values in one"),
        ("review.noise_sd", "expected PARAMETER=VALUE"),
        ("review.noise_sd=0.5,", "empty value"),
        ("promotion.enabled=maybe", "promotion.enabled"),
        ("operations.nosuch.limit=1", "this scenario has no operations to change"),
        ("sentencing.family_camp_years=[5,8", "unbalanced brackets"),
        ("sentencing.family_camp_years=[8,5]", "the shortest term (8.0) is longer"),
    ],
)
def test_bad_set_values_exit_2_with_the_field_named(option, expected, tmp_path):
    out = tmp_path / "sweep"
    sets = [word for one in option.split(" --set ") for word in ("--set", one)]
    result = CliRunner().invoke(sweep_app(), ["sweep", SCENARIO, *sets, "--out", str(out)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "error:" in text and expected in text
    assert "Traceback" not in result.output
    assert not out.exists()


def test_sweep_command_end_to_end(small_file, tmp_path):
    out = tmp_path / "sweep"
    args = ["sweep", str(small_file), "--seeds", "1", "--scale", str(SCALE), "--jobs", "1"]
    args += ["--set", "review.noise_sd=1.1", "--out", str(out)]
    result = CliRunner().invoke(sweep_app(), args)
    assert result.exit_code == 0, result.output
    assert (out / PLAN_FILE).is_file() and (out / "ensemble.html").is_file()
    assert (out / "p000-s001" / "summary.json").is_file()
    again = CliRunner().invoke(sweep_app(), args)
    assert again.exit_code == 2 and "--resume" in again.output
    resumed = CliRunner().invoke(sweep_app(), [*args, "--resume", "--no-report"])
    assert resumed.exit_code == 0, resumed.output


@pytest.mark.parametrize(("jobs", "given"), [("1", True), ("2", False)])
def test_a_sweep_in_this_process_shows_the_day_of_the_run_under_way(
    small_file, tmp_path, monkeypatch, jobs, given
):
    """`chistka sweep --jobs 1` showed whole runs only, a minute a run at the default scale
    without a sign of life (QA 43); runs in this process now give their day to the bar."""
    import chistka.analysis.ensemble as ensemble

    seen: dict[str, object] = {}

    def record(*args, **kwargs):
        seen["day_progress"] = kwargs.get("day_progress")
        if kwargs.get("day_progress") is not None:
            kwargs["day_progress"]("p000-s001", 400, 2222)
        return []

    monkeypatch.setattr(ensemble, "run_ensemble", record)
    args = ["sweep", str(small_file), "--seeds", "1", "--scale", str(SCALE), "--jobs", jobs]
    args += ["--out", str(tmp_path / "sweep"), "--no-report"]
    result = CliRunner().invoke(sweep_app(), args)
    assert result.exit_code == 0, result.output
    assert (seen["day_progress"] is not None) is given


def test_an_ensembles_record_markers_are_filled_as_a_runs_are():
    """QA of session 40: the ensemble filled every figure read in its source, a run's report
    only those read in a reliable one (Zemskov's counts, read in a popular book's reprint)."""
    point = {"record_id": "r", "label": "r", "record": 10.0, "low": None, "high": None}
    points = [
        {**point, "read_in_source": True, "grade": "journalism", "source": "a reprint"},
        {**point, "read_in_source": True, "grade": "archival", "source": "GARF"},
        {**point, "read_in_source": False, "grade": "archival", "source": "GARF"},
    ]
    trace = record_markers_of(points, [1, 2, 3], "record", "#000")
    assert list(trace.marker.symbol) == ["diamond-open", "diamond", "diamond-open"]
