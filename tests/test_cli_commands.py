"""The commands people reach for: --version, observables, scenarios show, params, run --set,
report, compare; provenance of the environment; progress; full-width tables off a terminal."""

from __future__ import annotations

import html
import io
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from rich.progress import TextColumn
from typer.testing import CliRunner

from chistka import __version__
from chistka.analysis.observables import (
    ARGUMENTS,
    MEANINGS,
    OBSERVABLES,
    is_share,
    title_pattern,
    unit,
)
from chistka.cli import app
from chistka.commands.catalogue import field_comments, scenario_toml
from chistka.commands.options import progress_bar
from chistka.scenario import builtin_scenarios, load_scenario, scenario_from_dict
from conftest import sweep_small_file
from narrow import at_80_columns
from test_figures import assert_every_chart_has_its_numbers, numbers_in_page

SCENARIO = "party-purges-1921-1936"
SCALE = "0.0005"
SMALL_SCALE = "0.01"
"""The scale of the runs of conftest's small scenario (`small_file`, 2,000 agents)."""
DOCS = Path(__file__).resolve().parents[1] / "docs"


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "300"})


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and result.output.strip() == f"chistka {__version__}"


def test_observables_lists_every_kind_with_its_meaning():
    assert set(MEANINGS) == set(OBSERVABLES)
    result = invoke("observables")
    assert result.exit_code == 0
    for kind in OBSERVABLES:
        assert f"{kind}:" in result.output, kind


@pytest.mark.parametrize("width", [80, 100])
def test_observables_gives_each_code_whole_with_its_unit_and_its_title_on_the_pages(
    width, monkeypatch
):
    """QA of session 41: the list gave codes and meanings alone, while the pages name an
    outcome by its title and unit; at 80 columns it folded codes (CHANNEL/YEA|R)."""
    from chistka.commands import catalogue

    out = io.StringIO()
    monkeypatch.setattr(catalogue, "console", Console(file=out, width=width))
    catalogue.observables_command()
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= width
    for kind in OBSERVABLES:
        at = next(i for i, x in enumerate(lines) if f" {kind}:{ARGUMENTS[kind]} " in x)
        counted = catalogue.SHARE_WORDS if is_share(kind) else unit(kind)
        assert lines[at + 1].split()[: len(counted.split())] == counted.split(), kind
        assert lines[at].split()[1] == title_pattern(kind).split()[0], kind
    assert title_pattern("arrests_by_channel") == "Arrests through CHANNEL, YEAR"
    assert sum("YYYY-MM-DD/YYYY-MM-DD" in line for line in lines) == 1  # each form once


def test_every_observable_with_share_in_its_kind_is_a_share_and_compare_writes_points():
    """party_share_of_political_convictions was read as a count: compare's difference was "0"."""
    from chistka.analysis.observables import difference_number

    shares = [kind for kind in OBSERVABLES if "share" in kind.split("_")]
    assert "party_share_of_political_convictions" in shares
    for kind in OBSERVABLES:
        assert is_share(f"{kind}:1937") == (kind in shares), kind
    assert difference_number(0.018, "party_share_of_political_convictions:1937") == "+1.8 points"


def test_the_commands_tables_read_a_share_as_observables_is_share_does():
    """observable_number and the run's comparison table had their own tests of a share: the
    word 'share' anywhere in the kind, or anywhere in the name (an operation's name too). The
    run's table now writes its numbers with observable_number too."""
    from chistka.analysis.observables import observable_number

    names = [f"{kind}:1937" for kind in OBSERVABLES]
    names += ["sharecropping:1930", "operation_arrested:share_of_the_kulaks"]
    for name in names:
        assert observable_number(0.25, name).endswith("%") == is_share(name), name


def test_a_count_under_ten_persons_is_written_whole_as_any_count():
    """QA of session 46: a model's count under 10 read with three significant figures ("3.46",
    a mean over seeds) in the commands' tables and in the ensemble's comparison, where a count
    of persons is whole; shares keep their percent."""
    from chistka.analysis.observables import observable_number
    from chistka.report.sections.comparison import _number

    assert observable_number(3.46, "army_officers_arrested:1937") == "3"
    assert observable_number(9.6, "death_sentences:1937") == "10"
    assert observable_number(0.0346, "expelled_share:1929") == "3.5%"
    assert _number(3.46, as_share=False) == "3"
    assert _number(0.0346, as_share=True) == "3.5%"


def test_tables_keep_full_names_when_not_a_terminal():
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    result = subprocess.run(
        [sys.executable, "-m", "chistka", "observables"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0
    line = next(x for x in result.stdout.splitlines() if "party_share_of_political" in x)
    assert "party_share_of_political_convictions:YEAR" in line
    assert MEANINGS["party_share_of_political_convictions"] in line  # not folded
    assert title_pattern("party_share_of_political_convictions") in line


@pytest.mark.parametrize("name", list(builtin_scenarios()))
def test_scenarios_show_prints_toml_that_loads_back_the_same(name):
    result = invoke("scenarios", "show", name)
    assert result.exit_code == 0, result.output
    assert scenario_from_dict(tomllib.loads(result.output), name) == load_scenario(name)


def test_scenarios_list_and_show_errors():
    assert "great-terror" in invoke("scenarios").output
    missing = invoke("scenarios", "show", "great-terro")
    assert missing.exit_code == 2 and "did you mean" in missing.output.lower()


def test_params_shows_a_scenarios_values_and_sources():
    result = invoke("params", "population", "--scenario", "great-terror")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "population.army_officers" in x)
    assert "137000" in line and "records.csv rkka_officer_strength_1937" in line
    line = next(x for x in result.output.splitlines() if "population.party.total " in x)
    assert "2358714" in line and "records.csv rigby_full_1935" in line
    assert invoke("params", "population", "--scenario", "nosuch").exit_code == 2
    timeline = invoke("params", "interrogation.torture", "--scenario", "great-terror")
    assert "set by the timeline on 1937-03-05" in timeline.output


def test_builtin_scenarios_cite_the_party_size_in_params():
    from chistka.scenario import scenario_text

    for name in builtin_scenarios():
        comments = field_comments(scenario_text(name))
        assert "records.csv party_total" in comments["population.party.total"], name


def test_field_comments_ignore_hashes_in_strings():
    text = '[a]\nx = "#1 not a comment"  # the source\ny = 2\n[[events]]\nz = 1  # item\n'
    assert field_comments(text) == {"a.x": "the source"}


def test_scenario_toml_quotes_dotted_keys():
    scenario = load_scenario(SCENARIO)
    assert '"admissions.drive_per_year" = ' in scenario_toml(scenario)


def test_run_set_changes_one_parameter(small_file, tmp_path):
    out = tmp_path / "run"
    result = invoke(
        "run",
        str(small_file),
        "--scale",
        SMALL_SCALE,
        "--set",
        "review.noise_sd=2.5",
        "--out",
        str(out),
        "--no-report",
    )
    assert result.exit_code == 0, result.output
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["parameters"]["review"]["noise_sd"] == 2.5
    two = invoke("run", SCENARIO, "--set", "review.noise_sd=1,2", "--out", str(tmp_path / "x"))
    assert two.exit_code == 2 and "use chistka sweep" in two.output
    bad = invoke("run", SCENARIO, "--set", "review.nois_sd=1", "--out", str(tmp_path / "x"))
    assert bad.exit_code == 2 and "noise_sd" in bad.output
    assert not (tmp_path / "x").exists()


def test_run_set_of_a_section_or_of_a_parameter_twice_says_what_run_takes(tmp_path):
    """QA of session 45: '--set sentencing=1' said "'sentencing' is not a mechanism parameter;
    did you mean 'sentencing'?", and a parameter given twice to run was told to list all its
    values in one --set, which run then refused as several values."""
    out = str(tmp_path / "x")
    section = invoke("run", SCENARIO, "--set", "sentencing=1", "--out", out)
    text = " ".join(section.output.split())
    assert section.exit_code == 2 and "did you mean" not in text, text
    assert "'sentencing' needs a field: 'sentencing.FIELD', one of " in text, text
    twice = ["--set", "review.noise_sd=1", "--set", "review.noise_sd=2"]
    text = " ".join(invoke("run", SCENARIO, *twice, "--out", out).output.split())
    assert "given twice (run takes one value per parameter: give it once)" in text, text
    assert "list all its values" not in text
    assert not (tmp_path / "x").exists()


def test_provenance_records_the_environment(small_file, tmp_path):
    out = tmp_path / "run"
    assert (
        invoke(
            "run", str(small_file), "--scale", SMALL_SCALE, "--out", str(out), "--no-report"
        ).exit_code
        == 0
    )
    environment = json.loads((out / "provenance.json").read_text())["environment"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$", environment["created"])
    assert environment["python"] == ".".join(map(str, sys.version_info[:3]))
    assert environment["packages"]["chistka"] == __version__
    assert {"numpy", "pandas", "pydantic"} <= set(environment["packages"])
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent
    )
    if head.returncode == 0:
        assert environment["git_commit"] == head.stdout.strip()
    summary = json.loads((out / "summary.json").read_text())
    assert "environment" not in summary["provenance"]  # runs stay identical file for file


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory, small_file):
    """Two sweeps of the small scenario, two seeds each: reviews with little and much noise."""
    root = tmp_path_factory.mktemp("compare")
    for name, value in (("a", "1.0"), ("b", "2.5")):
        result = sweep_small_file(small_file, root / name, f"review.noise_sd={value}")
        assert result.exit_code == 0, result.output
    return root


def test_report_draws_a_run_and_an_ensemble_again(sweeps):
    run = sweeps / "a" / "p000-s001"
    assert not (run / "report.html").exists()
    result = invoke("report", str(run))
    assert result.exit_code == 0, result.output
    assert "Provenance" in (run / "report.html").read_text()
    result = invoke("report", str(sweeps / "a"))
    assert result.exit_code == 0, result.output
    assert (sweeps / "a" / "ensemble.html").is_file()
    assert invoke("report", str(sweeps / "nothing")).exit_code == 2


def test_compare_ensembles_gives_intervals(sweeps, tmp_path):
    out = tmp_path / "cmp"
    result = invoke("compare", str(sweeps / "a"), str(sweeps / "b"), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "B - A" in result.output
    table = pd.read_csv(out / "differences.csv")
    row = table.set_index("observable").loc["party_members:1928-01-01"]
    assert row["b_mean"] < row["a_mean"]  # noisier reviews expel more: fewer members remain
    assert row["difference_low"] <= row["difference"] <= row["difference_high"]
    html = (out / "compare.html").read_text()
    assert html.count("chistka-compare-figure-") >= 2
    assert_every_chart_has_its_numbers(html)


def test_compare_keeps_every_figure_and_number_whole_at_80_columns(sweeps, tmp_path):
    """At 80 columns the figure's column was squeezed into one word a line beside the intervals
    (QA of session 42): the table is stacked there, A over B, the difference over its interval."""
    out = tmp_path / "cmp80"
    arguments = ["compare", str(sweeps / "a"), str(sweeps / "b"), "--out", str(out)]
    output = at_80_columns(*arguments, whole=("wrote ",))
    lines = output.splitlines()
    table = pd.read_csv(out / "differences.csv")
    words = set(output.split())
    for row in table.itertuples(index=False):
        means = [f"{row.a_mean:,.0f}", f"{row.b_mean:,.0f}"] if row.a_mean >= 10 else []
        assert all(mean in words for mean in means), (row.label, means)
        if len(row.label) <= 40:  # the figure's name on a line of its own, not a word a line
            assert any(row.label in line for line in lines), row.label
    wide = invoke(*arguments)
    assert "figure" in wide.output and "B - A (90% interval)" in wide.output


def test_compare_of_single_runs_cuts_no_figure_at_80_columns():
    """QA 45: two single runs (no intervals, narrower numbers) kept the wide table at 80
    columns, its minimum 'fitting' while the whole header of the differences' column squeezed
    the figures to 6 characters ("membe…", "candi…"); another pair was stacked."""
    from chistka.commands.compare import differences_view

    labels = [
        "Party members and candidates, March 1921",
        "1929-30 purge: share of the expelled reinstated on appeal",
        "Party members and candidates at the 16th Congress (Jun 1930)",
    ]
    rows = [
        {
            "observable": f"party_total:192{i}-03-01",
            "label": label,
            "record": 730_000.0,
            **{f"{side}_{end}": 1_361_550.0 for side in "ab" for end in ("mean", "low", "high")},
            **{f"{side}_modelled": True for side in "ab"},
            "difference": 4_950.0,
            "difference_low": np.nan,
            "difference_high": np.nan,
            "relative": 0.004,
        }
        for i, label in enumerate(labels)
    ]
    for columns in (80, 90, 100):
        console = Console(width=columns, file=io.StringIO(), record=True)
        console.print(differences_view(pd.DataFrame(rows), "B - A: b against a"))
        shown = console.export_text()
        assert "…" not in shown, columns
        words = set(shown.split())
        for label in labels:
            assert all(word in words for word in label.split()), (columns, label)


def test_a_difference_is_written_whole_and_zero_has_no_sign():
    """QA of session 45: differences of counts read "8.5" (a mean over two seeds; the counts
    are of persons) and tiny ones "-0.0 points" and "-0.0%"."""
    from types import SimpleNamespace

    from chistka.analysis.observables import difference_number
    from chistka.report.compare import table_cells

    assert difference_number(8.5, "party_candidates:1941-01-01") == "+8"
    assert difference_number(-0.4, "party_candidates:1941-01-01") == "0"
    assert difference_number(-1_532.0, "arrests:1937") == "-1,532"
    assert difference_number(-0.0004, "expelled_share:1929") == "0.0 points"
    assert difference_number(-0.012, "expelled_share:1929") == "-1.2 points"
    row = SimpleNamespace(
        observable="party_candidates:1941-01-01",
        label="Candidates, 1 Jan 1941",
        record=1_381_986.0,
        a_modelled=True,
        b_modelled=True,
        a_mean=102_184.0,
        a_low=102_184.0,
        a_high=102_184.0,
        b_mean=102_175.5,
        b_low=102_116.0,
        b_high=102_235.0,
        difference=-8.5,
        difference_low=np.nan,
        difference_high=np.nan,
        relative=-8.5 / 102_184.0,
    )
    cells = table_cells(row)
    assert cells[4:] == ("-8", "0.0%"), cells


def test_compare_writes_a_positive_difference_with_its_sign():
    """QA of session 46: a difference B - A above zero had no sign ("1,234" beside "-1,532"),
    printed and in compare.html, where the relative change had one ("+0.4%")."""
    from chistka.commands.compare import differences_view
    from chistka.report.compare import differences_html, table_cells

    row = {
        "observable": "arrests:1937",
        "label": "Arrests, 1937",
        "record": 936_750.0,
        **{f"a_{end}": 300_000.0 for end in ("mean", "low", "high")},
        **{f"b_{end}": 301_234.0 for end in ("mean", "low", "high")},
        **{f"{side}_modelled": True for side in "ab"},
        "difference": 1_234.0,
        "difference_low": -210.0,
        "difference_high": 2_678.0,
        "relative": 1_234.0 / 300_000.0,
    }
    table = pd.DataFrame([row])
    (cells,) = map(table_cells, table.itertuples(index=False))
    assert cells[4:] == ("+1,234 (-210 to +2,678)", "+0.4%"), cells
    assert "+1,234 (-210 to +2,678)" in differences_html(table)
    console = Console(width=120, file=io.StringIO(), record=True)
    console.print(differences_view(table, "B - A: b against a"))
    assert "+1,234 (-210 to +2,678)" in console.export_text()


def test_compare_never_overwrites_files_it_did_not_write(sweeps, tmp_path):
    """QA of session 39: compare --out overwrote a user's differences.csv and compare.html."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "differences.csv").write_text("MY OWN DATA\n")
    refused = invoke("compare", str(sweeps / "a"), str(sweeps / "b"), "--out", str(mine))
    assert refused.exit_code == 2 and "not written by chistka compare" in refused.output
    assert (mine / "differences.csv").read_text() == "MY OWN DATA\n"
    assert sorted(p.name for p in mine.iterdir()) == ["differences.csv"]
    ours = tmp_path / "ours"
    for _ in range(2):  # an earlier comparison is chistka's own: replaced
        done = invoke("compare", str(sweeps / "a"), str(sweeps / "b"), "--out", str(ours))
        assert done.exit_code == 0, done.output


@pytest.mark.parametrize(
    ("output", "text", "whose"),
    [
        ("run", "", "a run's output (chistka run)"),
        ("plan.json", '{"package_version": "0"}', "an ensemble's output (chistka sweep)"),
        ("experiment.json", '{"package_version": "0"}', "an experiment's"),
        ("fitted.toml", "# Fitted by chistka calibrate on 2026", "a calibration's output"),
        ("sensitivity.csv", "observable,parameter,mu", "a sensitivity analysis's output"),
    ],
)
def test_compare_refuses_an_out_folder_holding_another_commands_output(
    sweeps, tmp_path, output, text, whose
):
    """compare --out wrote compare.html and differences.csv among a run's files (or a sweep's,
    a calibration's ...), which run's own --out refuses: refused, with exit 2, nothing written.
    Another command's output is known by a file it wrote (`outputs.check_out`)."""
    import shutil

    folder = tmp_path / "other"
    if output == "run":
        shutil.copytree(sweeps / "a" / "p000-s001", folder)
    else:
        folder.mkdir()
        (folder / output).write_text(text + "\n")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    result = invoke("compare", str(sweeps / "a"), str(sweeps / "b"), "--out", str(folder))
    assert result.exit_code == 2, result.output
    words = " ".join(result.output.split())
    assert f"--out {folder}: holds" in words and whose in words
    assert "give a new or empty folder (e.g. --out out/compare-a-b)" in words
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_compare_leaves_nothing_partial_when_writing_fails(sweeps, tmp_path, monkeypatch):
    """compare.html was written before differences.csv: a failure between left half a
    comparison (a new folder with compare.html only). Both come out together or not at all."""
    earlier = tmp_path / "earlier"
    done = invoke("compare", str(sweeps / "a"), str(sweeps / "b"), "--out", str(earlier))
    assert done.exit_code == 0, done.output
    kept = {p.name: p.read_bytes() for p in earlier.iterdir()}

    to_csv = pd.DataFrame.to_csv

    def full(self, path=None, *args, **kwargs):
        if path is not None and Path(path).name == "differences.csv":
            raise OSError(28, "No space left on device")
        return to_csv(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    for out in (tmp_path / "new", earlier):
        failed = invoke("compare", str(sweeps / "b"), str(sweeps / "a"), "--out", str(out))
        assert failed.exit_code != 0 and isinstance(failed.exception, OSError)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["earlier"]
    assert {p.name: p.read_bytes() for p in earlier.iterdir()} == kept


@pytest.mark.parametrize("name", ["daily.parquet", "comparison.csv"])
def test_compare_says_which_file_it_cannot_read(sweeps, tmp_path, name):
    """QA of session 39: a truncated daily.parquet gave pyarrow's traceback."""
    import shutil

    damaged = tmp_path / "damaged"
    shutil.copytree(sweeps / "a" / "p000-s001", damaged)
    whole = (damaged / name).read_bytes()
    (damaged / name).write_bytes(whole[: len(whole) // 3] if name.endswith("parquet") else b"x\n1")
    result = invoke(
        "compare", str(sweeps / "a" / "p000-s001"), str(damaged), "--out", str(tmp_path / "o")
    )
    assert result.exit_code == 2, result.output
    assert f"cannot read {damaged / name}" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_an_out_folder_that_cannot_be_made_is_refused_before_anything_runs(sweeps, tmp_path):
    """QA of session 39: a file where the folder would go gave a traceback, after the run."""
    (tmp_path / "afile").write_text("data")
    out = str(tmp_path / "afile" / "sub")
    for arguments in (
        ["compare", str(sweeps / "a"), str(sweeps / "b"), "--out", out],
        ["run", "party-purges-1921-1936", "--scale", "0.001", "--out", out],
        ["sweep", "party-purges-1921-1936", "--scale", "0.001", "--seeds", "1", "--out", out],
    ):
        result = invoke(*arguments)
        assert result.exit_code == 2, (arguments[0], result.output)
        assert "is a file, so the folder cannot be made there" in result.output
        assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_compare_single_runs_has_no_interval_and_refuses_a_sweep_of_two_points(sweeps, tmp_path):
    out = tmp_path / "cmp"
    result = invoke(
        "compare",
        str(sweeps / "a" / "p000-s001"),
        str(sweeps / "b" / "p000-s001"),
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "differences.csv")
    assert table["difference_low"].isna().all()
    # QA of session 45: the column read "B - A (90% interval)" and held no interval; the charts'
    # titles and the page named the server's folders ("A: /tmp/.../p000-s001")
    text = " ".join(result.output.split())
    assert "(90% interval)" not in text and "no interval: one seed on a side" in text
    html = (out / "compare.html").read_text()
    assert "<th>B - A</th>" in html and "(90% interval)" not in html
    assert "no interval: one seed on a side" in html
    assert str(sweeps) not in html and "A: p000-s001" in html
    assert f"A: {sweeps / 'a' / 'p000-s001'}" in text  # the folders as given, once, printed
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for side in ("a", "b"):
        (mixed / side).symlink_to(sweeps / side / "p000-s001")
    refused = invoke("compare", str(mixed), str(sweeps / "a"), "--out", str(tmp_path / "x"))
    assert refused.exit_code == 2 and "parameter points" in refused.output


def test_the_interval_of_a_difference_is_students_with_few_seeds():
    """compare's 90% interval used the normal quantile (1.645) whatever the seeds: with two
    seeds a side it was 3.8 times narrower than Student's t gives (QA 43)."""
    from types import SimpleNamespace

    from scipy.stats import t as student_t

    from chistka.analysis.compare import _difference_interval

    a_values, b_values = np.array([10.0, 12.0]), np.array([13.0, 14.0])
    same = SimpleNamespace(seeds=[1, 2])
    mean, low, high = _difference_interval(same, same, a_values, b_values)
    paired_half = student_t.ppf(0.95, 1) * np.std([3.0, 2.0], ddof=1) / np.sqrt(2)
    assert mean == pytest.approx(2.5)
    assert (low, high) == pytest.approx((2.5 - paired_half, 2.5 + paired_half))
    other = SimpleNamespace(seeds=[3, 4])
    mean, low, high = _difference_interval(same, other, a_values, b_values)
    error = np.sqrt(2.0 / 2 + 0.5 / 2)
    freedom = (1.25**2) / (1.0**2 / 1 + 0.25**2 / 1)
    welch_half = student_t.ppf(0.95, freedom) * error
    assert (low, high) == pytest.approx((2.5 - welch_half, 2.5 + welch_half))
    assert welch_half > 2 * 1.6448536269514722 * error
    flat = _difference_interval(same, other, np.array([1.0, 1.0]), np.array([2.0, 2.0]))
    assert flat == (1.0, 1.0, 1.0)


def test_compare_takes_one_point_of_a_sweep_on_each_side(small_file, sweeps, tmp_path):
    """A sweep of several points was refused as a side, with no way to name one of its points
    (QA 42): --a-point and --b-point take one point each, from one sweep or two."""
    both = tmp_path / "both"
    result = sweep_small_file(small_file, both, "review.noise_sd=1.0,2.5")
    assert result.exit_code == 0, result.output
    refused = invoke("compare", str(both), str(sweeps / "a"), "--out", str(tmp_path / "x"))
    assert refused.exit_code == 2
    assert "--a-point" in refused.output and "p000" in refused.output
    out = tmp_path / "points"
    result = invoke(
        "compare",
        str(both),
        str(both),
        "--a-point",
        "p000",
        "--b-point",
        "p001",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    printed = " ".join(result.output.split())
    points = pd.read_csv(out / "differences.csv").set_index("observable")
    separate = tmp_path / "separate"
    result = invoke("compare", str(sweeps / "a"), str(sweeps / "b"), "--out", str(separate))
    assert result.exit_code == 0, result.output
    apart = pd.read_csv(separate / "differences.csv").set_index("observable")
    # the same two points (noise 1.0 and 2.5, seeds of the same numbers) as two sweeps of one
    pd.testing.assert_series_equal(points["difference"], apart["difference"])
    page = (out / "compare.html").read_text()
    # each side says what its point is, not only its name (QA 43), and that it is a set of runs
    assert "p000, review.noise_sd=1.0" in page and "p001, review.noise_sd=2.5" in page
    assert "Two sets of runs side by side" in page
    assert "review.noise_sd=2.5" in printed
    single = sweeps / "a" / "p000-s001"
    lone = invoke("compare", str(single), str(both), "--a-point", "p001", "--b-point", "p001")
    assert lone.exit_code == 2 and "it holds only p000" in lone.output
    plain = tmp_path / "plain"
    plain.symlink_to(single)  # a run's folder reached without its sweep's name
    assert invoke("compare", str(single), str(plain), "--out", str(tmp_path / "z")).exit_code == 0
    missing = invoke(
        "compare",
        str(both),
        str(both),
        "--a-point",
        "p007",
        "--b-point",
        "p001",
        "--out",
        str(tmp_path / "y"),
    )
    assert missing.exit_code == 2
    assert "--a-point" in missing.output and "p007" in missing.output
    assert not (tmp_path / "y").exists()


def test_sensitivity_help_gives_the_noise_seeds_default():
    """The option's default is read from NOISE_SEEDS when the command runs (the analysis is
    imported lazily), so the help writes it in words: they must agree."""
    from chistka.analysis.sensitivity import NOISE_SEEDS

    result = CliRunner().invoke(app, ["sensitivity", "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0
    assert f"(default: {NOISE_SEEDS})" in " ".join(result.output.split())


def test_sensitivity_reports_progress(small_file, tmp_path):
    from chistka.analysis.sensitivity import sensitivity

    free = tmp_path / "free.toml"
    free.write_text('[[free]]\npath = "review.noise_sd"\nlow = 0.5\nhigh = 2.0\n')
    calls = []
    sensitivity(
        str(small_file),
        ["expelled_share:c1"],
        n=2,
        scale=float(SMALL_SCALE),
        free_path=free,
        progress=lambda done, total: calls.append((done, total)),
    )  # 4 design points, then the scenario's own values at 4 seeds for the noise (QA 41, L1)
    assert calls == [(done, 8) for done in range(9)]


def test_a_failed_block_erases_its_progress_bar():
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=80)
    with pytest.raises(RuntimeError), progress_bar(TextColumn("work"), console=console) as bar:
        bar.add_task("work", total=3)
        raise RuntimeError("boom")
    assert bar.live.transient
    with progress_bar(TextColumn("work"), console=console) as bar:
        bar.add_task("work", total=3)
    assert not bar.live.transient  # a finished bar stays


def test_the_worked_example_of_docs_scenarios_loads_and_runs(tmp_path):
    text = (DOCS / "scenarios.md").read_text()
    match = re.search(r"<!-- example: (\S+) -->\n```toml\n(.*?)```", text, re.S)
    assert match is not None
    path = tmp_path / match[1]
    path.write_text(match[2])
    scenario = load_scenario(path)
    assert scenario.scenario.name == "purge-1921-strict"
    assert scenario.campaigns[0].threshold == 1.0
    result = invoke(
        "run", str(path), "--scale", SCALE, "--out", str(tmp_path / "out"), "--no-report"
    )
    assert result.exit_code == 0, result.output
    assert "1921 purge: share expelled" in result.output


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["--jobs", "100000"], "--jobs must be -1 (one process per core) or from 1 to 256"),
        (["--jobs", "-2"], "--jobs must be -1 (one process per core) or from 1 to 256"),
        (["--dask", "notanaddress"], "'notanaddress' is not a scheduler's address"),
    ],
)
def test_a_sweep_refuses_impossible_workers_at_once(
    small_file, tmp_path, arguments, words, monkeypatch
):
    """QA of session 39: --jobs 100000 hung with 100,000 processes starting and left plan.json;
    a malformed --dask address made a client that waited a minute to close, with a traceback.
    Refused before any worker, client or run is made (no timing: the brief keeps speed out of
    the tests)."""
    import dask.distributed
    import joblib

    from chistka.analysis import ensemble

    def made(*args, **kwargs):
        raise AssertionError("a worker pool, a client or a run was made before the refusal")

    monkeypatch.setattr(dask.distributed, "Client", made)
    monkeypatch.setattr(joblib, "Parallel", made)
    monkeypatch.setattr(ensemble, "run_spec", made)
    result = invoke(
        "sweep", str(small_file), "--seeds", "1", "--out", str(tmp_path / "o"), *arguments
    )
    assert result.exit_code == 2 and words in result.output, result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


@pytest.fixture(scope="module")
def edited_comparison(sweeps, tmp_path_factory):
    """`chistka compare` of the two sweeps with their comparison.csv edited as a longer scenario
    writes them: death sentences not modelled, a second record row of an observable (as the
    17th Congress and Rigby on 1 Jan 1934), and a share. Gives (the output, its folder)."""
    import shutil

    root = tmp_path_factory.mktemp("edited")
    shares = {"a": (0.20, 0.21), "b": (0.25, 0.27)}  # B - A: 5.5 points, +26.8% relative
    for side, values in shares.items():
        shutil.copytree(sweeps / side, root / side)
        for run, share in zip(sorted((root / side).glob("p000-s*")), values, strict=True):
            table = pd.read_csv(run / "comparison.csv")
            deaths = table["observable"].str.startswith("death_sentences:")
            table.loc[deaths, ["status", "model"]] = ["not modelled", 0.0]
            first = table.index[table["record_id"] == "rigby_full_1926"][0]
            second = table.loc[first].copy()
            second[["record_id", "label", "record"]] = ["other_full_1926", "Second source", 6e5]
            shared = table.loc[first].copy()
            shared[["record_id", "observable", "label"]] = ["share_1926", "x_share:1926", "A share"]
            shared[["model", "record"]] = [share, 0.25]
            pd.concat([table, pd.DataFrame([second, shared])]).to_csv(
                run / "comparison.csv", index=False
            )
    out = root / "cmp"
    result = invoke("compare", str(root / "a"), str(root / "b"), "--out", str(out))
    assert result.exit_code == 0, result.output
    return result.output, out


def test_compare_leaves_rows_not_modelled_out_of_the_chart_and_says_so(edited_comparison):
    """QA of session 40 (A5): rows a scenario does not model were charted and tabled as 0."""
    printed, out = edited_comparison
    table = pd.read_csv(out / "differences.csv").set_index("record_id")
    deaths = table[table["observable"].str.startswith("death_sentences:")]
    assert len(deaths) == 3 and not deaths[["a_modelled", "b_modelled"]].any(axis=None)
    assert deaths[["a_mean", "b_mean", "difference", "relative"]].isna().all(axis=None)
    assert table.drop(deaths.index)[["a_modelled", "b_modelled"]].all(axis=None)
    page = (out / "compare.html").read_text()
    # rows neither side models are left out of the tables with a line saying so (QA 43: half
    # of a party-purges comparison was such rows); differences.csv keeps them
    tables = html.unescape(page[page.index('id="differences"') :])
    for text in (" ".join(printed.split()), tables):
        assert "not modelled" not in text
        assert f"{len(deaths)} record rows that neither side's scenario models" in text
        assert not any(label in text for label in deaths["label"])
    (_, ratios) = numbers_in_page(page)[1]
    assert not ratios["y"].isin(deaths["label"]).any()
    assert len(ratios) == 2 * (len(table) - len(deaths))


def test_compare_keeps_each_record_row_of_a_shared_observable(edited_comparison):
    """QA of session 40 (A6): rows were matched by observable, so Rigby's of 1934 vanished."""
    printed, out = edited_comparison
    table = pd.read_csv(out / "differences.csv").set_index("record_id")
    rows = table.loc[["rigby_full_1926", "other_full_1926"]]
    assert list(rows["observable"]) == ["party_members:1926-01-01"] * 2
    assert list(rows["record"]) == [639652, 600000] and rows["a_mean"].nunique() == 1
    assert "Second source" in printed and "Second source" in (out / "compare.html").read_text()


def test_compare_html_writes_its_figures_as_the_printed_table_does(edited_comparison):
    """QA of session 40 (B1, C6): compare.html's table read 6.397e+05 and 0.25 for a share; a
    difference of shares read "5.5%" beside a relative change in %."""
    printed, out = edited_comparison
    html = (out / "compare.html").read_text()
    table = html[html.index('id="differences"') :]
    assert "639,652" in table and "e+0" not in table
    share_row = re.search(r"<tr><td>A share</td>(.*?)</tr>", table).group(1)
    cells = re.findall(r">([^<]*)</td>", share_row)
    assert cells[:3] == ["25.0%", "20.5% (20.0% to 21.0%)", "26.0% (25.0% to 27.0%)"]  # 2 seeds
    assert re.fullmatch(r"\+5\.5 points \([-+]?[\d.]+ points to \+[\d.]+ points\)", cells[3]), (
        cells[3]
    )
    assert cells[4] == "+26.8%"
    assert re.search(r"A share .*│ +\+5\.5 points \(.*\) │ +\+26\.8% │", printed)


def test_compare_charts_name_the_side_of_each_number(edited_comparison):
    """QA of session 40 (B2): both panels' traces were named alike ("party"), so the charts'
    numbers could not tell side A from side B."""
    _, out = edited_comparison
    for _, frame in numbers_in_page((out / "compare.html").read_text()):
        sides = frame["trace"].str[:3]
        assert set(sides) == {"A: ", "B: "}
        assert (sides == "A: ").sum() == (sides == "B: ").sum()


def test_sweep_takes_a_span_of_seeds_and_names_both_forms_when_refused(tmp_path):
    """QA 44: `--seeds 1-2` was refused with "Input should be a valid integer", naming neither
    the value nor the fix, though the README and the bench speak of seeds 9-16."""
    out = tmp_path / "span"
    result = invoke(
        "sweep", "party-purges-1921-1936", "--scale", "0.001", "--seeds", "3-4",
        "--jobs", "1", "--no-report", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads((out / "plan.json").read_text())["seeds"] == [3, 4]
    assert "2 seeds, 3-4" in result.output
    runs = sorted(p for p in out.iterdir() if p.is_dir())  # named by position: p000-s001, ...
    seeds = [json.loads((run / "provenance.json").read_text())["seed"] for run in runs]
    assert seeds == [3, 4]
    for seeds, words in (
        ("1-x", "'1-x' is neither a count nor a span"),
        ("5-2", "the span ends before it starts"),
        ("0", "at least 1 run"),
        ("²", "'²' is neither a count nor a span"),  # a digit to str.isdigit, not to int()
        ("1-9000000000", "9,000,000,000 seeds; at most 100,000 runs"),  # no list made first
    ):
        refused = invoke("sweep", "party-purges-1921-1936", "--seeds", seeds)
        assert refused.exit_code == 2, seeds
        assert words in refused.output, seeds
        assert "A-B (the seeds A to B" in refused.output or "at most" in refused.output, seeds


def test_the_bars_give_the_simulated_date_of_the_day_as_the_web_pages_do():
    """QA 44: the sweep's and the experiment's bars said "day 781 of 2,343" and no date; the
    web pages now give it, worked back from the scenario's end (the day loop's last day)."""
    import datetime as dt

    from chistka.engine import day_words

    assert day_words(dt.date(1927, 12, 31), 1, 1126) == "day 1 of 1,126 (1 Dec 1924)"
    assert day_words(dt.date(1927, 12, 31), 1126, 1126) == "day 1,126 of 1,126 (31 Dec 1927)"


def test_the_bars_say_a_spin_up_precedes_the_scenarios_start():
    """Session 45: the sweep's and the experiment's bars gave a spin-up's days as the run's
    ('p000-s001 at day 12 of 2,343 (14 Aug 1934)' for a scenario starting on 1 Dec 1934);
    they say so now, as the web pages do, and count the run's days from its start."""
    import datetime as dt

    from chistka.engine import day_words
    from chistka.scenario import load_scenario

    dates = load_scenario("great-terror").scenario
    total = (dates.end - dates.start).days + 1 + dates.spin_up_days
    assert dates.spin_up_days > 0
    assert day_words(dates.end, 12, total, dates.spin_up_days, "p000-s001") == (
        f"p000-s001 in the spin-up before the scenario's start: day 12 of "
        f"{dates.spin_up_days} (14 Aug 1934)"
    )
    first = day_words(dates.end, dates.spin_up_days + 1, total, dates.spin_up_days, "arm, seed 2")
    assert first == f"arm, seed 2 at day 1 of {total - dates.spin_up_days:,} (1 Dec 1934)"
    assert day_words(dt.date(1927, 12, 31), 5, 10, 0) == "day 5 of 10 (26 Dec 1927)"


def test_sweep_says_where_its_runs_ran_without_calling_the_machine_one_worker():
    """QA 44 (21): a local sweep printed "ran on 1 worker: vm: 2 runs in 2 processes, 2
    threads", one worker beside two processes; locally the line names the machine and counts
    its processes, on Dask its workers."""
    from chistka.analysis.ensemble import Placement
    from chistka.commands.sweep import where_they_ran

    local = [Placement("p000-s001", "vm", 11, 1), Placement("p000-s002", "vm", 12, 1)]
    assert where_they_ran(local) == "ran on this machine (vm): 2 runs in 2 processes"
    threaded = [Placement("p000-s001", "vm", 11, 1), Placement("p000-s002", "vm", 11, 2)]
    assert where_they_ran(threaded) == "ran on this machine (vm): 2 runs in 1 process, 2 threads"
    remote = [Placement("p000-s001", "tcp://a:1", 11, 1)]
    assert where_they_ran(remote, dask=True) == (
        "ran on 1 Dask worker: tcp://a:1: 1 run in 1 process, 1 thread"
    )


def test_compare_warns_where_the_sides_ran_at_different_scales(small_file, sweeps, tmp_path):
    """QA 45: compare never said that its two sides ran at different scales, whose
    differences are then partly the model's resolution."""
    coarse = tmp_path / "coarse"
    result = invoke("run", str(small_file), "--scale", "0.005", "--out", str(coarse), "--no-report")
    assert result.exit_code == 0, result.output
    out = tmp_path / "cmp"
    fine = sweeps / "a" / "p000-s001"  # at 0.01
    result = invoke("compare", str(fine), str(coarse), "--out", str(out))
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "warning: the two sides ran at different scales: A at 0.01, B at 0.005" in said
    page = html.unescape((out / "compare.html").read_text())
    assert "Warning:</strong> the two sides ran at different scales: A at 0.01, B at 0.005" in (
        page
    )
    assert "at scale 0.01," in page and "at scale 0.005," in page
    same = invoke("compare", str(fine), str(sweeps / "b" / "p000-s001"), "--out", str(out))
    assert same.exit_code == 0, same.output
    assert "different scales" not in same.output
    assert "different scales" not in (out / "compare.html").read_text()
