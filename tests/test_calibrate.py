"""Calibration (Optuna) and sensitivity analysis (SALib) on a tiny party-purges run."""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chistka import Sim
from chistka.analysis import observables
from chistka.analysis.calibrate import calibrate, ending, last_day_needed, trial_values
from chistka.analysis.fitted_file import write_fitted_scenario
from chistka.analysis.free import default_free_file, load_free, recorded_loss
from chistka.analysis.sensitivity import drivers, sensitivity
from chistka.analysis.validate import export_targets
from chistka.errors import ChistkaError
from chistka.report.calibration import write_calibration_report
from chistka.scenario import builtin_scenarios, load_scenario
from test_figures import assert_every_chart_has_its_numbers
from test_validate import write_targets

SCENARIO = "party-purges-1921-1936"
SCALE = 0.0005

# The defaults give about 28% expelled in 1921 and 1.36 M members in mid-1928: both targets
# are far off, so that the scenario's own values (the first trial) have a large loss.
TARGETS = """id,observable,value,low,high
purge1921,expelled_share:1921,0.6,0.55,0.65
total1928,party_total:1928-07-01,600000,,
"""

FREE = """
[[free]]
path = "review.noise_sd"
low = 0.3
high = 4.0
log = true

[[free]]
path = "exits.rate_per_year"
low = 0.0
high = 0.5
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    targets = tmp_path / "targets.csv"
    targets.write_text(TARGETS, encoding="utf-8")
    free = tmp_path / "free.toml"
    free.write_text(FREE, encoding="utf-8")
    return targets, free


@pytest.mark.slow
def test_calibration_improves_writes_and_resumes(files, tmp_path):
    targets, free = files
    storage = tmp_path / "out" / "study.db"
    kwargs = dict(seeds=(1,), scale=SCALE, free_path=free, storage=f"sqlite:///{storage}")
    result = calibrate(SCENARIO, targets, 6, study_name="t", **kwargs)
    first = result.trials[0]
    assert first.params == {"review.noise_sd": 1.0, "exits.rate_per_year": 0.03}  # as it stands
    assert len(result.trials) == 6
    assert math.isfinite(result.best_loss)
    assert result.best_loss < first.value
    assert result.best_loss == min(t.value for t in result.trials)
    assert storage.is_file()

    fitted = write_fitted_scenario(result, tmp_path / "out" / "fitted.toml")
    text = fitted.read_text(encoding="utf-8")
    assert "chistka calibrate" in text and "targets.csv" in text
    scenario = load_scenario(fitted)
    event = scenario.events[-1]
    assert event.date == scenario.scenario.start
    assert event.set == pytest.approx(result.best_params)
    from chistka.analysis.free import current_value

    for path, value in result.best_params.items():  # its own values too, as the trials ran it
        assert current_value(scenario, path) == value
    Sim(scenario, seed=1, scale=SCALE).run()
    report = write_calibration_report(result, tmp_path / "out" / "calibration.html")
    assert "Loss history" in report.read_text(encoding="utf-8")
    assert_every_chart_has_its_numbers(report.read_text(encoding="utf-8"))

    stored = [(t.params, t.value) for t in result.trials]
    again = calibrate(SCENARIO, targets, 2, study_name="t", **kwargs)
    assert len(again.trials) == 8
    # resumed, not restarted: the stored trials come back unchanged and two new ones follow
    assert [(t.params, t.value) for t in again.trials[:6]] == stored
    assert all(t.params not in [params for params, _ in stored] for t in again.trials[6:])


def test_resumed_study_must_match(files, tmp_path):
    targets, free = files
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    calibrate(SCENARIO, targets, 1, seeds=(1,), scale=SCALE, free_path=free, storage=storage)
    with pytest.raises(ChistkaError, match="another scenario, targets"):
        calibrate(SCENARIO, targets, 1, seeds=(2,), scale=SCALE, free_path=free, storage=storage)


def test_a_study_resumes_after_its_values_are_written_into_the_scenario(files, tmp_path):
    """scripts/fit_scenario.py writes the best values in place; the study must still resume."""
    from chistka.scenario import scenario_text

    targets, free = files
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    text = scenario_text(SCENARIO)
    calibrate(SCENARIO, targets, 1, seeds=(1,), scale=SCALE, free_path=free, storage=storage)
    written = tmp_path / "written.toml"
    assert "rate_per_year = 0.03 " in text  # [exits], a free parameter of FREE
    written.write_text(text.replace("rate_per_year = 0.03 ", "rate_per_year = 0.07 ", 1))
    again = calibrate(
        written,
        targets,
        1,
        seeds=(1,),
        scale=SCALE,
        free_path=free,
        storage=storage,
        study_name=SCENARIO,
    )
    assert len(again.trials) == 2
    other = tmp_path / "other.toml"
    assert "size = 80_000_000 " in text  # [population], not free
    other.write_text(text.replace("size = 80_000_000 ", "size = 70_000_000 ", 1))
    with pytest.raises(ChistkaError, match="another scenario, targets"):
        calibrate(
            other,
            targets,
            1,
            seeds=(1,),
            scale=SCALE,
            free_path=free,
            storage=storage,
            study_name=SCENARIO,
        )


@pytest.mark.parametrize(
    ("targets_text", "expected"),
    [
        ("id,observable,value\nx,expelled_share:1921,0.5\n", "lacks column"),
        ("id,observable,value,low,high\nx,expeled:1921,0.5,,\n", "unknown observable"),
        ("id,observable,value,low,high\nx,party_total:1950-01-01,5,,\n", "none of the targets"),
    ],
)
def test_bad_targets(files, tmp_path, targets_text, expected):
    _, free = files
    targets = tmp_path / "bad.csv"
    targets.write_text(targets_text, encoding="utf-8")
    with pytest.raises(ChistkaError, match=expected):
        calibrate(SCENARIO, targets, 1, seeds=(1,), scale=SCALE, free_path=free)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[free]]\npath = "review.nois_sd"\nlow = 0.1\nhigh = 1.0', "noise_sd"),
        (
            '[[free]]\npath = "review.noise_sd"\nlow = 0.0\nhigh = 1.0',
            r"free\[0\] \('review.noise_sd'\)",
        ),
        ('[[free]]\npath = "exits.rate_per_year"\nlow = 0.5\nhigh = 0.1', "must be below high"),
        (
            '[[free]]\npath = "exits.rate_per_year"\nlow = 0.0\nhigh = 0.1\nlog = true',
            "needs low > 0",
        ),
        ('[[free]]\npath = "exits.rate_per_year"\nlow = 0.0', "missing key 'high'"),
        (
            '[[free]]\npath = "exits.rate_per_year"\nlow = 0.0\nhigh = 0.1\nlg = 1',
            "unknown key 'lg'",
        ),
        ('[[free]]\npath = "promotion.enabled"\nlow = 0\nhigh = 1', "not a numeric parameter"),
        ('[[free]]\npath = "exits.rate_per_year"\nlow = true\nhigh = 1', "'low' must be a number"),
        # A [[fitted]] table beside valid free parameters is checked too.
        (
            FREE + '[[fitted]]\npath = "exits.rate_per_year"\ntargets = []\nby = "eye"',
            r"\[\[fitted\]\]: .*by = 'eye'",
        ),
        (
            FREE + '[[fitted]]\npath = "exits.rate_per_year"\ntargets = []\nwho = "me"',
            r"\[\[fitted\]\]: .*unknown key 'who'",
        ),
        (FREE + '[[fitted]]\ntargets = []\nby = "hand"', r"\[\[fitted\]\]: .*missing key 'path'"),
    ],
)
def test_bad_free_file(files, tmp_path, text, expected):
    targets, _ = files
    free = tmp_path / "bad.toml"
    free.write_text(f"{text}\n", encoding="utf-8")
    with pytest.raises(ChistkaError, match=expected):
        calibrate(SCENARIO, targets, 1, seeds=(1,), scale=SCALE, free_path=free)


def _two_trials_with_start(tmp_path, exits_rate: float) -> list[dict]:
    """The parameters of a new two-trial study whose free file starts at `exits_rate`."""
    targets = tmp_path / "targets.csv"
    targets.write_text(TARGETS, encoding="utf-8")
    free = tmp_path / "free.toml"
    start = f'[[start]]\nvalues = {{ "exits.rate_per_year" = {exits_rate} }}\nnote = "x"\n'
    free.write_text(FREE + start, encoding="utf-8")
    result = calibrate(SCENARIO, targets, 2, seeds=(1,), scale=SCALE, free_path=free)
    return [t.params for t in result.trials]


def test_a_new_study_tries_the_free_files_start_points_after_the_scenarios_values(tmp_path):
    assert _two_trials_with_start(tmp_path, 0.2) == [
        {"review.noise_sd": 1.0, "exits.rate_per_year": 0.03},
        {"review.noise_sd": 1.0, "exits.rate_per_year": 0.2},
    ]


def test_a_start_point_equal_to_the_scenarios_values_is_tried_once(tmp_path):
    """Session 35's local studies listed the fit as their start point; it ran twice before."""
    first, second = _two_trials_with_start(tmp_path, 0.03)
    assert first == {"review.noise_sd": 1.0, "exits.rate_per_year": 0.03}
    assert second != first


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (
            'values = { "exits.rate_per_yer" = 0.2 }',
            r"start\[0\]: 'exits.rate_per_yer' is not a free parameter",
        ),
        ('values = { "exits.rate_per_year" = 0.9 }', r"lies outside its range \[0, 0.5\]"),
        ('values = { "exits.rate_per_year" = "high" }', "must be a number"),
        ('value = { "exits.rate_per_year" = 0.2 }', "expected a table with 'values'"),
        ('values = {}\nwhy = "x"', "unknown key 'why'"),
    ],
)
def test_bad_start_point(files, tmp_path, start, expected):
    targets, _ = files
    free = tmp_path / "bad.toml"
    free.write_text(f"{FREE}\n[[start]]\n{start}\n", encoding="utf-8")
    with pytest.raises(ChistkaError, match=expected):
        calibrate(SCENARIO, targets, 1, seeds=(1,), scale=SCALE, free_path=free)


def test_bad_free_file_not_toml_or_missing(tmp_path):
    scenario = load_scenario(SCENARIO)
    bad = tmp_path / "bad.toml"
    bad.write_text("[[free]\n", encoding="utf-8")
    with pytest.raises(ChistkaError, match="not valid TOML"):
        load_free(bad, scenario)
    with pytest.raises(ChistkaError, match="cannot read"):
        load_free(tmp_path / "missing.toml", scenario)


@pytest.mark.parametrize("name", ["party-purges-1921-1936", "great-terror"])
def test_shipped_free_files_load(name):
    free = load_free(None, load_scenario(name), name)
    assert len(free) >= 4
    assert all(p.low < p.high for p in free)


LOCAL_FREE_FILES = sorted((Path(__file__).parent.parent / "scripts" / "free").glob("*.toml"))
"""The narrower free files of scripts/free/: they remake the local studies of docs/decisions.md."""


@pytest.mark.parametrize("file", LOCAL_FREE_FILES, ids=lambda file: file.stem)
def test_local_free_files_load_within_their_scenarios_bounds(file):
    """Each names its scenario in its file name, loads with its start points, and stays inside
    the ranges of the scenario's own free file."""
    from chistka.analysis.free import read_free_file

    name = next(n for n in builtin_scenarios() if file.stem.startswith(n + "-"))
    scenario = load_scenario(name)
    free, starts = read_free_file(file, scenario, name)
    assert free and starts
    bounds = {p.path: p for p in load_free(None, scenario, name)}
    for parameter in free:
        own = bounds[parameter.path]
        assert own.low <= parameter.low < parameter.high <= own.high, parameter


def test_operation_limits_cannot_be_free(tmp_path):
    free = tmp_path / "free.toml"
    free.write_text(
        '[[free]]\npath = "operations.order_00447.limit_shoot"\nlow = 1000\nhigh = 2000\n',
        encoding="utf-8",
    )
    with pytest.raises(ChistkaError, match="cannot be free"):
        load_free(free, load_scenario("great-terror"))


@pytest.mark.slow
def test_morris_sensitivity(files):
    _, free = files
    observables = ["expelled_share:1921", "party_total:1928-07-01"]
    result = sensitivity(
        SCENARIO, observables, method="morris", n=2, scale=SCALE, free_path=free, n_jobs=1
    )
    table = result.table
    assert len(table) == 4
    assert set(table["parameter"]) == {"review.noise_sd", "exits.rate_per_year"}
    assert set(table["observable"]) == set(observables)
    assert table["mu_star"].map(math.isfinite).all()
    assert (table["mu_star"] >= 0).all()
    assert list(drivers(result)["observable"]) == observables
    # QA 45: the result names the files analysed and its n, for the page and the warning
    assert (result.n, result.scenario_ref, result.free_file) == (2, SCENARIO, str(free))
    # QA 41 (L1): the scenario's own values at 4 seeds measure the noise each mu_star is
    # compared with: 2 sd / (sqrt(pi) step), the mean |effect| of a parameter with no effect
    from chistka.analysis.sensitivity import MORRIS_STEP

    assert result.noise_seeds == 4 and (result.noise_sd > 0).all()
    for j, name in enumerate(observables):
        rows = table[table["observable"] == name]
        floor = 2 * result.noise_sd[j] / (math.sqrt(math.pi) * MORRIS_STEP)
        assert rows["noise"].tolist() == pytest.approx([floor, floor])
        above = (rows["mu_star"] - rows["mu_star_conf"]) > floor
        assert rows["above_noise"].tolist() == above.tolist()


def _sobol_result():
    """A SensitivityResult of two parameters and two observables, as `sensitivity` returns it."""
    from chistka.analysis.free import FreeParameter
    from chistka.analysis.sensitivity import SensitivityResult

    free = [
        FreeParameter(path="review.threshold", low=1.0, high=3.5, note="the commissions' bar"),
        FreeParameter(path="admissions.rate_per_year", low=20_000, high=400_000, log=True),
    ]
    names = ["expelled_share:1933", "party_total:1933-01-01"]
    rows = []
    for name in names:
        for rank, p in enumerate(free, start=1):
            rows.append(
                {
                    "observable": name,
                    "parameter": p.path,
                    "section": p.section,
                    "S1": 0.5 / rank,
                    "S1_conf": 0.1,
                    "ST": 0.6 / rank,
                    "ST_conf": 0.2 / rank,
                    "rank": rank,
                    "noise": 0.05,
                    "above_noise": 0.6 / rank - 0.2 / rank > 0.05,
                }
            )
    return SensitivityResult(
        table=pd.DataFrame(rows),
        method="sobol",
        free=free,
        observables=names,
        X=np.zeros((8, 2)),
        Y=np.zeros((8, 2)),
        scenario=load_scenario(SCENARIO),
        seed=3,
        scale=0.02,
        noise_sd=np.array([0.01, 5000.0]),
        noise_seeds=4,
    )


def test_the_sensitivity_report_gives_ranges_scale_units_and_every_interval(tmp_path):
    """QA 41: sensitivity.html listed the parameters without the ranges every index depends
    on, gave no scale, drew ST without its interval (S1 had one), labelled every axis 'index'
    (Morris's are in the observable's unit) and named its numbers chistka-sensitivity-figure-N,
    with nothing in them saying which observable they were."""
    import re

    from chistka.report.sensitivity import write_sensitivity_report
    from test_figures import assert_every_chart_has_its_numbers, numbers_in_page

    result = _sobol_result()
    text = write_sensitivity_report(result, tmp_path / "sensitivity.html").read_text("utf-8")
    body = re.sub(r"<script.*?</script>", "", text, flags=re.S)
    assert "8 runs, each with seed 3, at scale 0.02" in body
    assert "<td>review.threshold</td><td>1 to 3.5</td><td>linear</td>" in body
    assert "<td>admissions.rate_per_year</td><td>20000 to 400000</td><td>log</td>" in body
    assert "share of the observable&#x27;s variance" in body
    assert "own values were also run at seeds 3 to 6: the dashed line" in body  # QA 41, L1
    assert_every_chart_has_its_numbers(text)
    found = dict(numbers_in_page(text))
    assert set(found) == {
        "sensitivity-expelled_share-1933",
        "sensitivity-party_total-1933-01-01",
    }
    st = found["sensitivity-party_total-1933-01-01"].query("trace == 'ST'")
    assert st["error_x"].tolist() == [0.2, 0.1]
    axes = re.findall(r'"xaxis":\{"title":\{"text":"([^"]*)"', text)
    assert len(axes) == 2 and "index" not in axes


def test_the_sensitivity_charts_give_the_parameters_by_rank(tmp_path):
    """The charts listed the parameters in the free file's order, top to bottom, while the
    table beside them ranks them: where the file's second parameter ranks first, the chart
    drew it under the first. Each chart now gives them in the table's order, rank 1 on top."""
    from chistka.report.sensitivity import write_sensitivity_report
    from test_figures import plotted_figures

    result = _sobol_result()
    table = result.table
    second = table["observable"] == "party_total:1933-01-01"
    table.loc[second, "rank"] = 3 - table.loc[second, "rank"]  # the file's last ranks first
    table.loc[second, ["S1", "ST"]] = table.loc[second, ["S1", "ST"]].to_numpy()[::-1]
    text = write_sensitivity_report(result, tmp_path / "sensitivity.html").read_text("utf-8")
    charts = plotted_figures(text)
    assert len(charts) == 2
    for name, chart in zip(result.observables, charts, strict=True):
        ranked = table[table["observable"] == name].sort_values("rank")["parameter"].tolist()
        assert chart["layout"]["yaxis"]["autorange"] == "reversed"  # the first drawn on top
        for trace in chart["data"]:
            assert trace["y"] == ranked, (name, trace["name"], trace["y"])
    assert charts[1]["data"][0]["y"][0] == "admissions.rate_per_year"


def test_the_sensitivity_tables_write_large_effects_with_separators(tmp_path):
    """QA 41 (L3): Morris's mu_star is in the observable's unit (persons, up to millions), and
    the page's table wrote it as 2.643e+05."""
    from chistka.analysis.sensitivity import index_text
    from chistka.report.sensitivity import write_sensitivity_report

    assert index_text(264_300.4) == "264,300" and index_text(0.1534) == "0.1534"
    assert index_text(float("nan")) == "-"
    result = _sobol_result()
    result.table["ST"] = 264_300.4
    text = write_sensitivity_report(result, tmp_path / "sensitivity.html").read_text("utf-8")
    table = text[text.rindex("<table") :]
    assert "264,300" in table and "e+05" not in table


def _morris_result():
    """`_sobol_result` as Morris gives it, with the long names of party-purges' free file."""
    result = _sobol_result()
    table = result.table.rename(
        columns={"S1": "mu_star", "S1_conf": "mu_star_conf", "ST": "sigma", "ST_conf": "mu"}
    )
    table.loc[table["parameter"] == "admissions.rate_per_year", "parameter"] = (
        "review.criteria.origin_peasant"
    )
    result.table, result.method = table, "morris"
    return result


@pytest.mark.parametrize("make", [_morris_result, _sobol_result])
def test_the_sensitivity_tables_keep_every_name_whole_at_80_columns(make, monkeypatch, tmp_path):
    """QA 44 (6): at 80 columns the indices' table cut every name to "review…" (four rows
    alike) and the conclusion broke them mid-word ("review.thresho" / "ld"); each row now stacks
    its cells, as validate's and params' do. The legend spoke of rank 1 with no rank column."""
    import io

    from rich.console import Console
    from typer.testing import CliRunner

    import chistka.analysis.sensitivity as analysis
    import chistka.commands.sensitivity as command
    from chistka.analysis.sensitivity import TOLD_APART
    from chistka.cli import app

    result = make()
    monkeypatch.setattr(analysis, "sensitivity", lambda *args, **kwargs: result)
    told = {TOLD_APART[bool(apart)] for apart in drivers(result)["told_apart"]}
    for width in (80, 200):
        console = Console(width=width, record=True, file=io.StringIO())
        monkeypatch.setattr(command, "console", console)
        out = tmp_path / f"at-{width}"
        arguments = ["sensitivity", SCENARIO, "--observable", "expelled_share:1933", "--n", "2"]
        invoked = CliRunner().invoke(app, [*arguments, "--out", str(out)])
        assert invoked.exit_code == 0, invoked.output
        text = console.export_text()
        lines = [line for line in text.splitlines() if not line.startswith("wrote ")]
        assert "…" not in text and max(len(line) for line in lines) <= width
        for name in (*result.table["parameter"], *result.observables):
            assert any(name in line for line in lines), (width, name)
        assert "rank" in text
        assert all(words.partition(" (")[0] in text for words in told)
        if width == 80 and make is _morris_result:  # the rank beside its parameter
            assert ["2", "review.criteria.origin_peasant"] in [line.split()[:2] for line in lines]


def test_the_sensitivity_page_has_the_conclusion_and_the_reports_style(tmp_path):
    """QA 44 (5): sensitivity.html was pandas' to_html in the browser's default style (border=1,
    True/False), ran past a 400 px window, and lacked the command's "what drives each
    observable"; it now has the conclusion, from the same `drivers` and words, in the shared
    style whose tables scroll inside the page."""
    import re

    from chistka.analysis.sensitivity import TOLD_APART, drivers
    from chistka.report.common import CSS
    from chistka.report.sensitivity import write_sensitivity_report

    result = _morris_result()
    text = write_sensitivity_report(result, tmp_path / "sensitivity.html").read_text("utf-8")
    body = re.sub(r"<script.*?</script>", "", text, flags=re.S)
    assert CSS in body and "border=" not in body
    assert "<h2>What drives each observable</h2>" in body
    for row in drivers(result).itertuples(index=False):
        assert (
            f"<tr><td>{row.observable}</td><td>{row.mechanism}</td><td>{row.parameter}</td>"
        ) in body
        assert f"<td>{TOLD_APART[bool(row.told_apart)]}</td>" in body
    tables = re.findall(r"<table.*?</table>", body, flags=re.S)
    assert tables and not any(re.search(r">\s*(True|False|nan)\s*<", t) for t in tables)
    assert "<th>rank</th>" in body and "<td>yes</td>" in body


def test_the_driver_is_named_as_told_apart_only_where_the_intervals_do_not_overlap():
    """QA 41 (L2): at n=2 Sobol named review.emphasis (ST 0.153 +- 0.355) the driver over
    review.threshold (0.127 +- 1.19), and Morris the other: a ranking the intervals do not
    resolve, given as a finding."""
    result = _sobol_result()  # ST 0.6 +- 0.2 against 0.3 +- 0.1: the intervals touch
    assert not drivers(result)["told_apart"].any()
    result.table["ST_conf"] = 0.05
    assert drivers(result)["told_apart"].all()


def test_morris_axes_say_the_observables_unit():
    from chistka.report.sensitivity import _axis_title

    assert "persons" in _axis_title("morris", "party_total:1933-01-01")
    assert "0.1 = 10 points" in _axis_title("morris", "expelled_share:1933")


def test_sensitivity_bad_input(files):
    _, free = files
    with pytest.raises(ChistkaError, match="unknown method"):
        sensitivity(SCENARIO, ["expelled_share:1921"], method="fast", free_path=free)
    with pytest.raises(ChistkaError, match="power of 2"):
        sensitivity(SCENARIO, ["expelled_share:1921"], method="sobol", n=3, free_path=free)
    with pytest.raises(ChistkaError, match="unknown observable"):
        sensitivity(SCENARIO, ["expeled:1921"], free_path=free)
    with pytest.raises(ChistkaError, match=r"--noise-seeds must be 0 .* at least 2 \(got 1\)"):
        sensitivity(SCENARIO, ["expelled_share:1921"], free_path=free, noise_seeds=1)


# --- runs stopped on the last day the targets read ---------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        ("party_total:1933-01-01", dt.date(1933, 1, 1)),
        ("death_sentences:1937", dt.date(1937, 12, 31)),
        ("political_convictions:1937-1938", dt.date(1938, 12, 31)),
        ("expelled_share:1921", "campaign end"),
        ("reinstated_share:1921", "after the appeals"),
        ("reinstated_share:1899", None),
        ("operation_shot:all_national", None),
        ("shot_share:cc1934", None),
    ],
)
def test_last_day_read(name, expected):
    scenario = load_scenario(SCENARIO)
    campaign = next(c for c in scenario.campaigns if c.name == "1921")
    day = observables.last_day_read(name, scenario)
    if expected == "campaign end":
        assert day == campaign.end
    elif expected == "after the appeals":
        delay = scenario.appeals.delay_days * observables.APPEAL_HORIZON
        assert day - campaign.end >= dt.timedelta(days=delay)
    else:
        assert day == expected


def test_last_day_read_bad_argument():
    with pytest.raises(ChistkaError, match="not a year"):
        observables.last_day_read("death_sentences:nineteen", load_scenario(SCENARIO))


def test_last_day_needed_runs_whole_items_and_never_past_the_end():
    scenario = load_scenario("great-terror")
    targets = pd.DataFrame({"observable": ["party_total:1937-09-01"]})
    last = last_day_needed(scenario, targets)
    order = next(o for o in scenario.operations if o.name == "order_00447")
    assert last is not None and last >= order.end  # under way on 1 Sep 1937: run to its end
    assert ending(scenario, last).scenario.end == last
    targets = pd.DataFrame({"observable": ["party_total:1937-09-01", "shot_share:cc1934"]})
    assert last_day_needed(scenario, targets) is None
    targets = pd.DataFrame({"observable": ["death_sentences:1940"]})
    assert last_day_needed(scenario, targets) is None  # the scenario's own end


@pytest.mark.parametrize(
    "name",
    [
        # two runs of 1921-1953 take about 110 s: the slow tier (the quick tier keeps 5 minutes)
        pytest.param("purges-1921-1953", marks=pytest.mark.slow),
        "party-purges-1921-1936",
        "great-terror",
    ],
)
def test_stopped_runs_give_the_same_calibration_values(name):
    """A run stopped on the last day the calibration rows read scores them as the whole run."""
    scenario = load_scenario(name)
    targets = export_targets("calibration", name)
    last = last_day_needed(scenario, targets)
    if last is None:
        assert name != "purges-1921-1953"  # its rows end in 1940, the scenario in 1953
        return
    whole, stopped = (
        trial_values(Sim(s, seed=3, scale=0.002, name=name).run(), targets)
        for s in (scenario, ending(scenario, last))
    )
    assert not whole[1].any() and not stopped[1].any()
    np.testing.assert_array_equal(stopped[0], whole[0])


@pytest.mark.slow  # 10-14 s of whole runs: the quick tier keeps under 5 minutes
def test_a_run_stopped_before_the_scenario_ends_scores_its_rows_as_the_whole_run():
    """The quick tier's stopped run: party-purges-1921-1936's rows of 1921-1929, read by mid-1930.

    (The built-in scenarios' own calibration rows read to their end, except purges-1921-1953's,
    whose check is in the slow tier.)
    """
    name = "party-purges-1921-1936"
    scenario = load_scenario(name)
    targets = export_targets("calibration", name)
    early = ["purge1921_share", "party_total_1928_07", "purge1929_share"]
    targets = targets[targets["id"].isin(early)]
    last = last_day_needed(scenario, targets)
    assert last is not None and last < scenario.scenario.end
    whole, stopped = (
        trial_values(Sim(s, seed=3, scale=0.002, name=name).run(), targets)
        for s in (scenario, ending(scenario, last))
    )
    assert not whole[1].any() and not stopped[1].any()
    np.testing.assert_array_equal(stopped[0], whole[0])


def test_the_band_loss_is_zero_inside_the_shrunk_range_and_linear_outside():
    from chistka.analysis.calibrate import BAND_MARGIN, FLOOR, band_error

    value, low, high = np.array([1000.0]), np.array([800.0]), np.array([1200.0])
    edge_high = np.exp(BAND_MARGIN * np.log((1200 + 10) / (1000 + 10))) * 1010 - 10
    edge_low = np.exp(BAND_MARGIN * np.log((800 + 10) / (1000 + 10))) * 1010 - 10
    assert FLOOR * 1000 == 10
    for inside in (1000.0, edge_low + 0.01, edge_high - 0.01, 1100.0):
        assert band_error(np.array([inside]), value, low, high)[0] == 0.0
    # outside, the cost is the log distance past the shrunk range's end, on either side
    for factor in (1.1, 2.0):
        above = (edge_high + 10) * factor - 10
        below = (edge_low + 10) / factor - 10
        assert band_error(np.array([above]), value, low, high)[0] == pytest.approx(np.log(factor))
        assert band_error(np.array([below]), value, low, high)[0] == pytest.approx(np.log(factor))
    # a model of zero costs a finite amount; a range reaching below zero has no lower end
    assert np.isfinite(band_error(np.array([0.0]), value, low, high)[0])
    assert band_error(np.array([0.0]), value, np.array([-5.0]), high)[0] == 0.0


def test_the_band_loss_does_not_prefer_spreading_a_miss_over_two_rows():
    """What the fit is judged by is the rows inside their ranges (docs/decisions.md 20.2): the
    squared log error prefers two rows a little out to one row twice as far out, the band loss
    does not."""
    from chistka.analysis.calibrate import BAND_MARGIN, band_error, log_error

    value = np.array([1000.0, 1000.0])
    low, high = value * 0.8, value * 1.2
    edge = np.exp(BAND_MARGIN * np.log(1210 / 1010)) * 1010
    one_far = np.array([1000.0, edge * 1.2**2 - 10])
    two_near = np.array([edge * 1.2 - 10] * 2)
    band = [band_error(m, value, low, high).sum() for m in (one_far, two_near)]
    assert band[0] == pytest.approx(band[1])
    assert np.count_nonzero(band_error(one_far, value, low, high)) == 1
    assert log_error(one_far, value).sum() > log_error(two_near, value).sum()


def test_the_inside_loss_counts_pairs_outside_the_whole_range_first():
    """The inside loss (docs/decisions.md 34.2) ranks a trial with fewer (target, seed) pairs
    outside the whole range first, whatever their band loss; the band loss orders the rest."""
    from chistka.analysis.calibrate import band_error, outside_error

    value = np.array([1000.0, 1000.0])
    low, high = value * 0.8, value * 1.2
    ends = outside_error(np.array([800.0, 1200.0]), low, high)
    assert ends.tolist() == [0.0, 0.0]  # the ends are inside, as validate counts them
    assert outside_error(np.array([799.0, np.nan]), low, high).tolist() == [1.0, 1.0]

    def inside_loss(model: np.ndarray) -> float:
        return float((band_error(model, value, low, high) + outside_error(model, low, high)).mean())

    near_edges = np.array([[1190.0, 810.0], [1195.0, 805.0]])  # every pair inside, near the ends
    one_out = np.array([[1000.0, 1000.0], [1000.0, 1201.0]])  # one pair just outside
    assert inside_loss(near_edges) < inside_loss(one_out)
    assert band_error(near_edges, value, low, high).mean() > 0
    assert band_error(near_edges, value, low, high).mean() > (
        band_error(one_out, value, low, high).mean()
    )  # the band loss alone ranks them the other way


@pytest.mark.parametrize("loss", ["msle", "band", "inside"])
def test_evaluate_gives_the_mean_over_the_seeds_with_a_value_and_keeps_the_miss(monkeypatch, loss):
    """A target without a value at one seed of three read "no value" in every report, though the
    other two seeds gave numbers: `evaluate` now also gives the mean over those and counts the
    seeds without one, while the loss still costs the target as a miss at that seed."""
    import chistka.analysis.calibrate as calibrate_module
    from chistka.analysis.calibrate import (
        MISSED,
        band_error,
        evaluate,
        log_error,
        outside_error,
        target_ranges,
    )

    targets = pd.DataFrame(
        {
            "id": ["full", "some", "none", "outside"],
            "observable": [
                "expelled_share:1921",
                "party_total:1928-07-01",
                "party_total:1929-07-01",
                "party_total:1950-01-01",
            ],
            "value": [0.25, 1_000_000.0, 1_000_000.0, 1.0],
            "low": [0.2, 900_000.0, 900_000.0, math.nan],
            "high": [0.3, 1_100_000.0, 1_100_000.0, math.nan],
        }
    )
    nan = math.nan
    by_seed = {  # 'some' has no value at seed 2, 'none' at any seed; 'outside' is not covered
        1: [0.24, 1_050_000.0, nan, nan],
        2: [0.26, nan, nan, nan],
        3: [0.25, 1_150_000.0, nan, nan],
    }

    def fake(fitted, seed, scale, name, targets):
        return np.array(by_seed[seed]), np.array([False, False, False, True])

    monkeypatch.setattr(calibrate_module, "_seed_values", fake)
    found = evaluate(load_scenario(SCENARIO), {}, targets, (1, 2, 3), None, SCENARIO, loss=loss)
    values = np.array(list(by_seed.values()))[:, :3]
    value = targets["value"].to_numpy()[:3]
    low, high = (ends[:3] for ends in target_ranges(targets))
    if loss == "msle":
        errors = log_error(values, value)
        errors[np.isnan(errors)] = MISSED
    else:
        errors = band_error(np.nan_to_num(values, nan=0.0), value, low, high)
        if loss == "inside":
            errors = errors + outside_error(values, low, high)
    assert found.loss == pytest.approx(float(errors.mean(axis=1).mean()), rel=1e-12)
    model, covered = found.model, found.covered
    assert covered.tolist() == [True, True, True, False]
    assert model[0] == pytest.approx(0.25) and np.isnan(model[1:]).all()
    assert found.seen_mean[0] == model[0]
    assert found.seen_mean[1] == pytest.approx(1_100_000.0)  # seeds 1 and 3
    assert np.isnan(found.seen_mean[2]) and np.isnan(found.seen_mean[3])
    assert found.no_value_seeds.tolist() == [0, 1, 3, 0]


def test_the_loss_is_checked():
    from chistka.analysis.calibrate import LOSSES, check_loss

    assert set(LOSSES) == {"msle", "band", "inside"}
    assert check_loss("band") == "band" and check_loss("inside") == "inside"
    with pytest.raises(
        ChistkaError, match=r"--loss must be one of msle, band, inside \(got 'l2'\)"
    ):
        check_loss("l2")


def test_a_refit_keeps_what_was_written_after_the_fit_stamp():
    """scripts/fit_scenario.py stamps each fitted line; a refit replaced the whole comment and so
    dropped the explanation written after the stamp (study pp14 of session 17 did)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "fit_scenario.py"
    spec = importlib.util.spec_from_file_location("fit_scenario", path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    old = "fitted (chistka calibrate, scripts/fit_scenario.py, 2026-12-01)"
    new = "fitted (chistka calibrate, scripts/fit_scenario.py, 2026-12-02)"
    text = (
        "[arrest]\n"
        f"named_arrest_probability = 0.075 # {old}: constant over the run (section 16.2)\n"
        "delay_days = 20 # assumption\n"
    )
    lines = script.set_value(text, "arrest.named_arrest_probability", 0.08, new).splitlines()
    assert lines[1] == (
        "named_arrest_probability = 0.08 # " + new + ": constant over the run (section 16.2)"
    )
    lines = script.set_value(text, "arrest.delay_days", 30, new).splitlines()
    assert lines[2] == "delay_days = 30".ljust(29) + " # " + new


def test_the_fit_script_reads_and_records_the_loss(tmp_path):
    """scripts/fit_scenario.py refits with the loss of the last fit unless told another."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "fit_scenario.py"
    spec = importlib.util.spec_from_file_location("fit_scenario", path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    free = tmp_path / "free.toml"
    free.write_text('[[free]]\npath = "review.threshold"\nlow = 1.0\nhigh = 2.0\n')
    assert script.recorded_loss(free) == "msle"
    table = script.calibration_table(
        {"review.threshold": 1.5},
        when=dt.date(2026, 12, 2),
        study="s",
        storage="sqlite:///s.db",
        trials=3,
        seeds=[1, 2],
        scale=None,
        loss=0.25,
        loss_kind="band",
    )
    free.write_text(free.read_text() + "\n" + table)
    assert script.recorded_loss(free) == "band"
    load_free(free, load_scenario("great-terror"))
    # bench/calibration.py times great-terror's fit with the loss its last fit recorded (band
    # from session 19, inside since session 34: docs/decisions.md 34.5)
    assert recorded_loss(default_free_file("great-terror")) == "inside"
    assert recorded_loss(None) == "msle"
    # the scale recorded is the one the study's runs used, not "nan" when --scale was not given
    assert script.study_scale("0.2", "great-terror") == 0.2
    scenario_scale = load_scenario("purges-1921-1953").population.scale
    assert script.study_scale("scenario's", "purges-1921-1953") == scenario_scale
    assert script.study_scale(None, "purges-1921-1953") == scenario_scale


def test_the_fit_script_records_no_path_of_the_machine_that_ran_the_study():
    """The free files recorded `sqlite:////work/cal/p53j.db`, a folder of the machine that ran
    the study, which no clone has; a file outside the repository is now recorded by its name."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "fit_scenario.py"
    spec = importlib.util.spec_from_file_location("fit_scenario", path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    outside = script.recorded_storage("sqlite:////work/cal/p53j.db")
    assert outside == "sqlite:///p53j.db (outside the repository)"
    inside = script.recorded_storage(f"sqlite:///{script.ROOT / 'out' / 'fit-x' / 'study.db'}")
    assert inside == "sqlite:///out/fit-x/study.db"
    assert script.recorded_storage("postgresql://host/db") == "postgresql://host/db"
    for free in sorted((script.SCENARIOS / "free").glob("*.toml")):
        storage = tomllib.loads(free.read_text())["calibration"]["storage"]
        assert not storage.startswith("sqlite:////"), (free.name, storage)


def test_the_fit_script_writes_the_trials_values_exactly():
    """scripts/fit_scenario.py wrote six significant digits, so the built-in scenario was not the
    study's best trial and its recorded loss not its own (docs/decisions.md 34.1); a value now
    reads back as the same float, in the scenario and in the [calibration] table."""
    import importlib.util
    import tomllib

    path = Path(__file__).resolve().parents[1] / "scripts" / "fit_scenario.py"
    spec = importlib.util.spec_from_file_location("fit_scenario", path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    trial_values = {"arrest.sanction_share": 0.30512345678901234, "review.threshold": 3.0}
    text = "[arrest]\nsanction_share = 0.28 # assumption\n[review]\nthreshold = 2.5\n"
    for key, value in trial_values.items():
        text = script.set_value(text, key, value, "fitted")
    written = tomllib.loads(text)
    assert written["arrest"]["sanction_share"] == trial_values["arrest.sanction_share"]
    assert written["review"]["threshold"] == 3.0
    table = script.calibration_table(
        trial_values,
        when=dt.date(2026, 12, 4),
        study="s",
        storage="sqlite:///s.db",
        trials=1,
        seeds=[1],
        scale=None,
        loss=0.1,
        loss_kind="band",
    )
    assert tomllib.loads(table)["calibration"]["values"] == trial_values


def test_free_values_hold_from_the_spin_up_as_in_a_scenario_they_are_written_into():
    """A trial set the free values by an event on the first day only, so the spin-up ran on the
    values before the fit and the trial was not the scenario scripts/fit_scenario.py writes
    (great-terror's death sentences of 1935 at seed 7: 1,104 in the study, 960 written;
    docs/decisions.md 34.3). The trial's run is now the run of the written scenario."""
    import copy

    from chistka.analysis.free import as_start_event
    from chistka.scenario import apply_overrides, scenario_from_dict
    from test_terror import TERROR

    data = copy.deepcopy(TERROR)
    data["scenario"]["spin_up_days"] = 60
    data["scenario"]["end"] = "1937-03-31"  # the spin-up's draws show within months
    data["operations"] = data["events"] = []  # they come after the end
    scenario = scenario_from_dict(data)
    values = {"arrest.routine_rate_per_year": 3.0, "arrest.named_arrest_probability": 0.6}
    trial = Sim(as_start_event(scenario, values)).run()
    written = Sim(apply_overrides(scenario, values, where="test")).run()
    assert trial.counts.tolist() == written.counts.tolist()
    before = Sim(scenario).run()
    assert trial.counts.tolist() != before.counts.tolist()


def test_fitted_values_are_written_on_their_lines_or_added_to_their_table():
    import tomllib

    from chistka.analysis.fitted_file import with_values

    text = (
        "[scenario]\nname = 'x'\n\n[arrest]\nroutine_rate_per_year = 1.0 # a reason\n\n"
        '[[operations]]\nname = "mass"\nplanned_days = 120\n\n'
        '[[operations]]\nname = "polish"\nrate_per_year = 0.3\n'
    )
    values = {
        "arrest.routine_rate_per_year": 1.2345678901234567,
        "arrest.sanction_share": 0.3,
        "operations.polish.rate_per_year": 0.25,
        "operations.mass.grant_cap": 2.5,
        "exile.exile_share": 0.125,
    }
    written = with_values(text, values, "fitted (chistka calibrate, 2026-12-04)")
    data = tomllib.loads(written)
    assert data["arrest"] == {"routine_rate_per_year": 1.2345678901234567, "sanction_share": 0.3}
    mass, polish = data["operations"]
    assert mass == {"name": "mass", "grant_cap": 2.5, "planned_days": 120}
    assert polish == {"name": "polish", "rate_per_year": 0.25}
    assert data["exile"] == {"exile_share": 0.125}
    assert "routine_rate_per_year = 1.2345678901234567" in written
    assert written.count("fitted (chistka calibrate, 2026-12-04)") == 5
    # a value below a table the file writes as a table of its own goes into that table
    nested = "[review]\nthreshold = 2.0\n\n[review.criteria]\norigin_peasant = 1.0\n"
    values = {"review.criteria.origin_peasant": 2.5, "review.criteria.origin_employee": 1.5}
    data = tomllib.loads(with_values(nested, values, "fitted"))
    assert data["review"]["criteria"] == {"origin_peasant": 2.5, "origin_employee": 1.5}
    dotted = "[review]\nthreshold = 2.0\ncriteria.origin_peasant = 1.0\n"
    data = tomllib.loads(with_values(dotted, values, "fitted"))
    assert data["review"] == {
        "threshold": 2.0,
        "criteria": {"origin_peasant": 2.5, "origin_employee": 1.5},
    }


def test_no_built_in_event_of_the_first_day_sets_a_free_value():
    """The fit's values are the scenario's own from the spin-up on and again on the first day; a
    built-in scenario gets them on their lines (scripts/fit_scenario.py), where an event of its
    first day setting one would override the fit: none does."""
    from chistka.analysis.free import load_free
    from chistka.scenario import builtin_scenarios

    for name in builtin_scenarios():
        scenario = load_scenario(name)
        try:
            free = {p.path for p in load_free(None, scenario, name)}
        except ChistkaError:
            continue
        for event in scenario.events:
            if event.date == scenario.scenario.start:
                clash = {p for p in free for k in event.set if p == k or p.startswith(k + ".")}
                assert not clash, (name, event.note, clash)


def test_fitted_values_go_among_a_sections_dotted_keys_at_the_top_of_the_file():
    """A section written only as dotted keys before any header gets no `[section]` header.

    Before: with_values appended a `[review]` table, which TOML refuses after `review.` keys.
    """
    import tomllib

    from chistka.analysis.fitted_file import with_values

    text = "review.threshold = 2.0\nreview.criteria.origin_peasant = 1.0\n\n[arrest]\nx = 1\n"
    values = {"review.threshold": 2.5, "review.criteria.origin_employee": 1.5}
    written = with_values(text, values, "fitted")
    data = tomllib.loads(written)
    assert data["review"] == {
        "threshold": 2.5,
        "criteria": {"origin_peasant": 1.0, "origin_employee": 1.5},
    }
    assert data["arrest"] == {"x": 1}
    assert "[review]" not in written


def test_a_resumed_study_tries_the_start_points_added_to_its_free_file(tmp_path):
    """Session 37 enqueued points into running studies by hand; a resume now takes them."""
    targets = tmp_path / "targets.csv"
    targets.write_text(TARGETS, encoding="utf-8")
    free = tmp_path / "free.toml"
    free.write_text(FREE, encoding="utf-8")
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    calibrate(SCENARIO, targets, 1, seeds=(1,), scale=SCALE, free_path=free, storage=storage)
    added = '[[start]]\nvalues = { "exits.rate_per_year" = 0.2 }\nnote = "added"\n'
    free.write_text(FREE + added, encoding="utf-8")
    result = calibrate(
        SCENARIO, targets, 2, seeds=(1,), scale=SCALE, free_path=free, storage=storage
    )
    params = [t.params for t in result.trials]
    assert params[1] == {"review.noise_sd": 1.0, "exits.rate_per_year": 0.2}
    assert params[2] != params[1]
    again = calibrate(
        SCENARIO, targets, 1, seeds=(1,), scale=SCALE, free_path=free, storage=storage
    )
    assert again.trials[3].params not in params[:2]


def test_a_start_point_tried_before_a_fit_was_written_back_is_not_tried_again(tmp_path):
    """A start point lists some values and takes the scenario's others: after a fit's values
    were written into the scenario, resuming must not count it as new (review of session 38)."""
    from importlib import resources

    from chistka.analysis.fitted_file import with_values

    targets = tmp_path / "targets.csv"
    targets.write_text(TARGETS, encoding="utf-8")
    free = tmp_path / "free.toml"
    start = '[[start]]\nvalues = { "exits.rate_per_year" = 0.2 }\nnote = "x"\n'
    free.write_text(FREE + start, encoding="utf-8")
    builtin = resources.files("chistka.scenario") / "builtin" / f"{SCENARIO}.toml"
    text = builtin.read_text(encoding="utf-8")
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(text, encoding="utf-8")
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    first = calibrate(
        scenario, targets, 2, seeds=(1,), scale=SCALE, free_path=free, storage=storage
    )
    assert first.trials[1].params == {"review.noise_sd": 1.0, "exits.rate_per_year": 0.2}
    scenario.write_text(with_values(text, {"review.noise_sd": 1.5}, "fitted"), encoding="utf-8")
    resumed = calibrate(
        scenario, targets, 1, seeds=(1,), scale=SCALE, free_path=free, storage=storage
    )
    assert resumed.trials[2].params["exits.rate_per_year"] != 0.2


def test_calibrate_names_the_targets_it_leaves_out(tmp_path):
    """QA of session 39: a misspelt campaign (192l) was left out of the fit without a word."""
    from chistka.commands.calibrate import check_calibration

    rows = [
        ("t1", "expelled_share:1921", 0.25, 0.2, 0.3),
        ("t2", "expelled_share:192l", 0.25, 0.2, 0.3),
    ]
    targets = write_targets(tmp_path / "typo.csv", rows)
    _, left_out = check_calibration(SCENARIO, targets, None)
    assert len(left_out) == 1
    assert "id 't2'" in left_out[0].message and "'192l'" in left_out[0].message
    assert left_out[0].reason == "naming a campaign, operation or body the scenario does not have"


def test_a_target_partly_outside_the_dates_or_naming_a_missing_campaign_says_so(tmp_path):
    """QA 43: arrests:1921 in a run from 1 Mar 1921 was left out as "outside the scenario's
    dates", and a file whose only target named a campaign the scenario lacks was refused as
    lying outside its dates."""
    from chistka.commands.calibrate import check_calibration
    from chistka.commands.preflight import left_out_lines

    rows = [
        ("ok", "expelled_share:1921", 0.25, 0.2, 0.3),
        ("late", "party_total:1950-01-01", 5, None, None),
        ("part", "arrests:1921", 5, None, None),
        ("span", "arrests:1936-10-01/1938-07-01", 5, None, None),
        ("camp", "expelled_share:1999", 0.3, None, None),
    ]
    targets = write_targets(tmp_path / "mixed.csv", rows)
    _, left = check_calibration(SCENARIO, targets, None)
    dates = "(1921-03-01 to 1936-12-31)"
    assert {item.id: item.reason for item in left} == {
        "late": f"outside the scenario's dates {dates}",
        "part": f"not wholly inside the scenario's dates {dates}",
        "span": f"not wholly inside the scenario's dates {dates}",
        "camp": "naming a campaign, operation or body the scenario does not have",
    }
    assert left_out_lines(left) == [
        f"left out, outside the scenario's dates {dates}: 1 target: late (party_total:1950-01-01)",
        f"left out, not wholly inside the scenario's dates {dates}: 2 targets: part "
        "(arrests:1921), span (arrests:1936-10-01/1938-07-01)",
        "left out, naming a campaign, operation or body the scenario does not have: 1 target: "
        "camp (expelled_share:1999)",
    ]
    only = write_targets(tmp_path / "badcamp.csv", [rows[4], rows[1], rows[2]])
    with pytest.raises(ChistkaError) as refused:
        check_calibration(SCENARIO, only, None)
    assert str(refused.value).startswith(
        f"none of the targets of {only} can come from the runs of {SCENARIO}: 1 naming a "
        f"campaign, operation or body the scenario does not have; 1 outside the scenario's dates "
        f"{dates}; 1 not wholly inside the scenario's dates {dates}; first: "
    )
    assert "the scenario has no campaign '1999'" in str(refused.value)


def test_calibrate_leaves_out_and_never_scores_a_kind_the_scenario_does_not_model(tmp_path):
    """QA 41: the README's `calibrate party-purges-1921-1936 --targets targets/calibration.csv`
    fitted 45 sentence rows of 1922-36 that the scenario does not model (its runs give 0) as
    misses, each a constant cost, and counted them outside; validate and the run's report call
    them not modelled."""
    from chistka.commands.calibrate import check_calibration

    rows = [
        ("share", "expelled_share:1921", 0.25, 0.2, 0.3),
        ("death", "death_sentences:1922", 1962, 1500, 2500),
    ]
    targets = write_targets(tmp_path / "mixed.csv", rows)
    _, left_out = check_calibration(SCENARIO, targets, None)
    assert len(left_out) == 1
    assert "id 'death'" in left_out[0].message
    assert "does not model death_sentences" in left_out[0].message
    results = Sim(ending(load_scenario(SCENARIO), dt.date(1922, 12, 31)), seed=1, scale=SCALE).run()
    table = pd.DataFrame(
        {
            "id": ["share", "death"],
            "observable": ["expelled_share:1921", "death_sentences:1922"],
            "value": [0.25, 1962.0],
            "row": [1, 2],
        }
    )
    values, outside = trial_values(results, table)
    assert outside.tolist() == [False, True]
    assert math.isfinite(values[0]) and math.isnan(values[1])


def test_sensitivity_refuses_a_kind_the_scenario_does_not_model(tmp_path):
    """QA 41: `sensitivity party-purges-1921-1936 --observable death_sentences:1922` ran every
    point and ranked the parameters on a figure that is 0 in every run."""
    from typer.testing import CliRunner

    from chistka.cli import app

    out = tmp_path / "sens"
    result = CliRunner().invoke(
        app,
        [
            "sensitivity",
            SCENARIO,
            "--observable",
            "death_sentences:1922",
            "--n",
            "2",
            "--jobs",
            "1",
            "--out",
            str(out),
        ],
        env={"COLUMNS": "300"},
    )
    assert result.exit_code == 2, result.output
    assert "does not model death_sentences" in result.output
    assert not out.exists()
    # the function refuses it too, for a caller that does not go through the command (QA 41, L9)
    with pytest.raises(ChistkaError, match="does not model death_sentences"):
        sensitivity(SCENARIO, ["death_sentences:1922"], n=2, noise_seeds=0)


def test_the_fit_script_keeps_the_line_of_a_value_the_study_left_as_it_was():
    """scripts/fit_scenario.py re-stamped every value as fitted that day, also those the study
    left as the scenario's own (QA 41 L4): only the moved values get the new stamp."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "fit_scenario.py"
    spec = importlib.util.spec_from_file_location("fit_scenario", path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    scenario = load_scenario("great-terror")
    text = (Path(script.SCENARIOS) / "builtin" / "great-terror.toml").read_text(encoding="utf-8")
    own = scenario.arrest.sanction_share
    best = {"arrest.sanction_share": own, "review.threshold": scenario.review.threshold + 0.1}
    written, kept = script.with_fitted_values(text, scenario, best, "fitted today")
    assert kept == ["arrest.sanction_share"]
    lines = {line.split("=")[0].strip(): line for line in written.splitlines() if "=" in line}
    assert "fitted today" not in lines["sanction_share"]
    assert "fitted today" in lines["threshold"]
    assert written.count("fitted today") == 1


def test_the_sensitivity_page_names_its_files_and_warns_of_few_points(tmp_path):
    """QA 45: sensitivity.html said only "Sensitivity of great-terror", not the scenario file
    and the free-parameter file analysed; and at --n 2 it said "told apart: yes" with no word
    that 2 trajectories are few, where calibrate warns of importances over few trials."""
    import dataclasses

    from chistka.analysis.sensitivity import FEWEST_POINTS
    from chistka.report.sensitivity import write_sensitivity_report

    files = {"scenario_ref": "cal/fitted.toml", "free_file": "small.free.toml"}
    for make, method in ((_morris_result, "morris"), (_sobol_result, "sobol")):
        few = dataclasses.replace(make(), n=2, **files)
        assert few.method == method
        text = write_sensitivity_report(few, tmp_path / "few.html").read_text("utf-8")
        assert "Scenario cal/fitted.toml; free parameters from small.free.toml." in text
        words = "trajectories" if method == "morris" else "base samples"
        assert f"<strong>Warning:</strong> the indices rest on 2 {words} (--n), fewer than " in (
            text
        )
        enough = dataclasses.replace(make(), n=FEWEST_POINTS[method], **files)
        text = write_sensitivity_report(enough, tmp_path / "enough.html").read_text("utf-8")
        assert "<strong>Warning:</strong>" not in text


def test_the_sensitivity_progress_bar_names_the_free_file_as_the_page_does(
    files, tmp_path, monkeypatch
):
    """QA of session 46: the progress bar named the scenario only, where sensitivity.html names
    the free-parameter file too (the package's own by its name)."""
    import io

    from rich.console import Console
    from typer.testing import CliRunner

    import chistka.analysis.sensitivity as analysis
    import chistka.commands.sensitivity as command
    from chistka.cli import app

    _, free = files
    monkeypatch.setattr(analysis, "sensitivity", lambda *args, **kw: _morris_result())
    for given, named in (
        ([], f"chistka's own {SCENARIO}.toml"),
        (["--free", str(free)], str(free)),
    ):
        console = Console(width=80, record=True, file=io.StringIO())
        monkeypatch.setattr(command, "console", console)
        out = tmp_path / f"out{len(given)}"
        arguments = ["sensitivity", SCENARIO, "--observable", "expelled_share:1933", *given]
        invoked = CliRunner().invoke(app, [*arguments, "--out", str(out)])
        assert invoked.exit_code == 0, invoked.output
        heading, bar = console.export_text().split("morris n=10", 1)
        assert " ".join(heading.split()) == (f"Scenario {SCENARIO}; free parameters from {named}.")
        assert " 0/? runs " in bar.splitlines()[0]  # the bar whole at 80 columns


def test_sensitivity_warns_of_few_trajectories(tmp_path, monkeypatch):
    """QA 45: `sensitivity --n 2` printed "told apart: yes" with no small-sample warning."""
    import dataclasses
    import io

    from rich.console import Console
    from typer.testing import CliRunner

    import chistka.analysis.sensitivity as analysis
    import chistka.commands.sensitivity as command
    from chistka.cli import app

    for n, warned in ((2, True), (10, False)):
        result = dataclasses.replace(_morris_result(), n=n)
        monkeypatch.setattr(analysis, "sensitivity", lambda *args, result=result, **kw: result)
        console = Console(width=80, record=True, file=io.StringIO())
        monkeypatch.setattr(command, "console", console)
        arguments = ["sensitivity", SCENARIO, "--observable", "expelled_share:1933", "--n", "2"]
        invoked = CliRunner().invoke(app, [*arguments, "--out", str(tmp_path / f"n{n}")])
        assert invoked.exit_code == 0, invoked.output
        text = " ".join(console.export_text().split())
        said = "warning: the indices rest on 2 trajectories (--n), fewer than 10" in text
        assert said is warned
