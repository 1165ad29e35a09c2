"""End-to-end tests of the command line: `chistka run`, `chistka scenarios` and bad input.

Two tests start the real `python -m chistka` process (a run with all its outputs, the list of
scenarios); the checks of bad arguments and of the other commands run the same application in
this process (`invoke`), which spares a second of interpreter start-up each.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from chistka.cli import app
from chistka.results import atomic_directory
from narrow import at_80_columns, at_columns

SMALL = ["--scale", "0.002"]

CHISTKA_PROVENANCE = json.dumps(
    {"package_version": "0.1.0", "environment": {"packages": {"chistka": "0.1.0"}}}
)
"""The least of a provenance.json that chistka wrote (what marks an earlier run)."""


def chistka(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chistka", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def invoke(*args: str, columns: int | None = None) -> Result:
    """The command run in this process; an exception it does not handle fails the test."""
    env = {"COLUMNS": str(columns) if columns else None}
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


def test_scenarios_lists_builtin_with_description():
    result = chistka("scenarios")
    assert result.returncode == 0, result.stderr
    assert "party-purges-1921-1936" in result.stdout
    assert "five review campaigns" in result.stdout


def test_run_writes_all_outputs(tmp_path):
    out = tmp_path / "run"
    result = chistka("run", "party-purges-1921-1936", "--seed", "3", *SMALL, "--out", str(out))
    assert result.returncode == 0, result.stderr
    for name in (
        "daily.parquet",
        "events.parquet",
        "campaigns.parquet",
        "summary.json",
        "provenance.json",
        "report.html",
        "comparison.csv",
    ):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 3
    assert summary["scale"] == 0.002
    assert [c["campaign"] for c in summary["campaigns"]] == ["1921", "1929", "1933", "1935", "1936"]
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["package_version"]
    assert provenance["parameters"]["scenario"]["name"] == "party-purges-1921-1936"
    assert "Model against the record" in result.stdout
    assert "expelled" in result.stdout
    assert "purge1921_share" in result.stdout  # each figure with its record_id (QA 40 C10)
    import pandas as pd

    daily = pd.read_parquet(out / "daily.parquet")
    assert {"date", "status", "origin", "agents", "persons"} <= set(daily.columns)
    events = pd.read_parquet(out / "events.parquet")
    assert {"date", "person", "event", "campaign", "score"} <= set(events.columns)
    assert set(events["event"].unique()) >= {"admitted", "expelled", "kept", "reinstated"}


@pytest.mark.slow
def test_same_seed_same_outputs(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert (
            chistka(
                "run", "party-purges-1921-1936", *SMALL, "--out", str(out), "--no-report"
            ).returncode
            == 0
        )
    import pandas as pd

    pd.testing.assert_frame_equal(
        pd.read_parquet(a / "events.parquet"), pd.read_parquet(b / "events.parquet")
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(a / "daily.parquet"), pd.read_parquet(b / "daily.parquet")
    )


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    return path


GOOD = """
[scenario]
name = "tiny"
start = 1921-01-01
end = 1921-12-31

[population]
size = 100_000
"""

BAD_CASES = {
    "malformed TOML": (GOOD + "\n[population\n", "not valid TOML"),
    "unknown key": (GOOD.replace("size = 100_000", "sise = 100_000"), "did you mean 'size'"),
    "value out of range": (
        GOOD.replace("size = 100_000", "size = 100_000\nscale = 3"),
        "population.scale",
    ),
    "date outside the run": (
        GOOD + '\n[[events]]\ndate = 1925-01-01\nset = { "exits.rate_per_year" = 0.1 }\n',
        "outside the run",
    ),
    "unknown parameter in an event": (
        GOOD + '\n[[events]]\ndate = 1921-05-01\nset = { "exits.rate" = 0.1 }\n',
        "did you mean 'rate_per_year'",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_scenario_exits_2_with_clear_message_and_no_output(tmp_path, case):
    text, expected = BAD_CASES[case]
    path = _write(tmp_path, text)
    out = tmp_path / "out"
    result = invoke("run", str(path), "--out", str(out))
    assert result.exit_code == 2
    assert expected in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.toml"]


def test_missing_scenario_exits_2(tmp_path):
    result = invoke("run", "party-purges-1921", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "did you mean 'party-purges-1921-1936'" in result.stderr.lower().replace("\n", " ")
    missing = invoke("run", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o"))
    assert missing.exit_code == 2
    assert "not found" in missing.stderr
    assert not (tmp_path / "o").exists()


def test_bad_scale_and_seed_exit_2(tmp_path):
    result = invoke("run", "party-purges-1921-1936", "--scale", "0", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "population.scale" in result.stderr
    result = invoke("run", "party-purges-1921-1936", "--seed", "-1", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "--seed" in result.stderr
    assert not (tmp_path / "o").exists()


SENSITIVITY = ["--observable", "expelled_share:1921", "--n", "2", "--scale", "0.001"]


@pytest.mark.parametrize("seed", [str(2**63), str(2**64)])
def test_a_seed_beyond_the_largest_is_refused_before_the_run(tmp_path, seed):
    """QA of session 39: 2**64 overflowed in the run (a traceback), 2**63 ran, though a
    scenario file refuses any seed above 2**63 - 1."""
    out = str(tmp_path / "o")
    for arguments in (
        ["run", "party-purges-1921-1936", "--seed", seed, "--out", out],
        ["sensitivity", "party-purges-1921-1936", *SENSITIVITY, "--seed", seed, "--out", out],
        ["sensitivity", "party-purges-1921-1936", *SENSITIVITY, "--seed", "-1", "--out", out],
    ):
        result = invoke(*arguments)
        assert result.exit_code == 2, arguments
        assert "--seed: a seed must be a whole number from 0 to 2**63 - 1" in result.stderr
        assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_atomic_directory_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(RuntimeError), atomic_directory(target) as tmp:
        (tmp / "half.parquet").write_text("partial")
        raise RuntimeError("killed mid-write")
    assert list(tmp_path.iterdir()) == []


def test_atomic_directory_keeps_previous_output_on_failure(tmp_path):
    target = tmp_path / "out"
    with atomic_directory(target) as tmp:
        (tmp / "summary.json").write_text("{}")
        (tmp / "provenance.json").write_text(CHISTKA_PROVENANCE)  # marks an earlier run
    with pytest.raises(RuntimeError), atomic_directory(target) as tmp:
        (tmp / "summary.json").write_text("partial")
        raise RuntimeError("killed mid-write")
    assert (target / "summary.json").read_text() == "{}"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_params_lists_every_field_with_description():
    from chistka.scenario.reference import fields

    infos = list(fields())
    assert len(infos) > 100
    assert all(info.description for info in infos), [i.path for i in infos if not i.description]
    paths = {info.path for info in infos}
    assert {
        "population.scale",
        "arrest.capacity_per_million",
        "operations[].limit_shoot",
        "review.criteria.origin_alien",
    } <= paths
    result = invoke("params", "arrest")
    assert result.exit_code == 0
    assert "arrest.delay_days" in result.stdout
    assert invoke("params", "nosuchfield").exit_code == 2


def test_params_names_what_it_takes_for_an_unknown_field():
    """QA 42: the message said only 'no scenario field starts with ...'."""
    result = invoke("params", "nosuchfield")
    assert result.exit_code == 2
    assert "sections: " in result.output and "arrest," in result.output
    result = invoke("params", "arrest.nosuch")
    assert result.exit_code == 2
    assert "fields of 'arrest': " in result.output and "arrest.delay_days" in result.output


def test_record_lists_rows_with_sources_and_claims():
    result = invoke("record", "--role", "claim", columns=400)
    assert result.exit_code == 0
    assert "seed_4M_executed_1936_38" in result.stdout
    assert "681692" in result.stdout.replace(",", "")
    assert "journalism or blog" in result.stdout and "read in source" in result.stdout
    result = invoke("record", "--search", "cc17_size")
    assert result.exit_code == 0 and "139" in result.stdout
    assert invoke("record", "--role", "validation").exit_code == 0
    assert invoke("record", "--role", "nonsense").exit_code == 2
    assert invoke("record", "--search", "no-such-figure").exit_code == 2


def test_record_gives_each_rows_role_in_a_scenario_and_whether_it_is_compared():
    """QA 44: `record` printed the record's roles only, which a scenario may change
    (great-terror takes Rigby's party of 1 Jan 1935 as an input), and said nothing of which
    rows a scenario's runs are compared with."""
    plain = invoke("record", "--search", "rigby_full_1935", columns=400)
    assert "validation" in plain.stdout and "roles as the record gives them" in plain.stdout
    result = invoke(
        "record", "--scenario", "great-terror", "--search", "rigby_full_193", columns=400
    )
    assert result.exit_code == 0, result.output
    lines = {line.split()[1]: line for line in result.stdout.splitlines() if "rigby_full_" in line}
    assert lines["rigby_full_1935"].split()[3] == "input"
    assert lines["rigby_full_1937"].split()[3] == "validation"
    assert "rigby_full_1930" not in lines  # before the scenario's first day
    assert "not listed, as the scenario's runs are not compared with them: 5 outside" in (
        " ".join(result.stdout.split()).lower()
    )
    inputs = invoke("record", "--scenario", "great-terror", "--role", "input", columns=400)
    assert "rigby_full_1935" in inputs.stdout
    validation = invoke("record", "--scenario", "great-terror", "--role", "validation")
    assert "rigby_full_1935" not in validation.stdout
    assert "(23 rows)" in validation.stdout  # the rows its validation counts
    missing = invoke("record", "--scenario", "no-such-scenario")
    assert missing.exit_code == 2 and "--scenario" in missing.output
    nothing = invoke("record", "--search", "zzzz")
    assert nothing.exit_code == 2 and "--search 'zzzz'" in nothing.output
    assert "None" not in nothing.output


def test_record_gives_each_grade_as_its_code_with_its_words_as_the_reports_do():
    """QA of session 46: `record` gave a grade in words only ("scholarly secondary"), where the
    reports, comparison.csv and the other commands give its code ("scholarly", the words in a
    tooltip); it gives both now, at 80 columns too."""
    from chistka.record import GRADES, records

    (row,) = [row for row in records().values() if row.id == "proverka1935_share"]
    both = f"{row.grade} ({GRADES[row.grade]})"
    assert both == "scholarly (scholarly secondary)"
    wide = invoke("record", "--search", "proverka1935", columns=200)
    assert both in wide.stdout
    assert both in " ".join(at_80_columns("record", "--search", "proverka1935").split())


def test_record_counts_one_row_in_the_singular():
    """A helper's QA of session 46: `record --search` of one row said "(1 rows)"."""
    result = invoke("record", "--search", "proverka1935_share", columns=200)
    assert result.exit_code == 0 and "(1 row;" in result.stdout


def test_record_and_observables_give_shares_as_fractions_with_their_percentages():
    """QA 44: `observables` gave a share's unit as "share, %" while targets files need a
    fraction, and `record` printed 0.09 where the reports print 9.0%."""
    record = invoke("record", "--search", "proverka1935", columns=200)
    assert "0.09 (9.0%)" in record.stdout
    listed = invoke("observables", columns=200)
    line = listed.stdout.split("expelled_share:CAMPAIGN", 1)[1].splitlines()[1]
    assert "share: 0 to 1 (pages show %)" in line


def test_record_splits_no_id_at_a_middling_width():
    """QA 44: at 120 columns the boxed table split ids and quantities mid-word."""
    for columns in (100, 120, 140):
        shown = at_columns(columns, "record", "--search", "proverka1935")
        assert "proverka1935_share" in shown, columns
        assert "verification of party" in shown, columns


def test_params_writes_values_as_toml_and_a_reader_does_not_count_digits():
    """QA 44: `params` printed Python's None and False beside TOML's false, fitted values with
    17 digits and the largest seed as 9223372036854775807."""
    from chistka.commands.catalogue import parameter_rows

    rows = {row.path: row for row in parameter_rows("great-terror")}
    assert rows["operations[].grant_cap"].default == "none (the key left out)"
    assert rows["arrest.routine_follows_climate"].default == "false"
    fitted = rows["arrest.named_arrest_probability"].value
    assert fitted is not None and len(fitted.replace("0.", "")) <= 7, fitted
    assert rows["scenario.seed"].allowed == ">= 0, <= 2**63 - 1"
    assert not any("None" in row.default or "True" in row.default for row in rows.values())


def test_research_commands_are_registered():
    for command in ("sweep", "validate", "calibrate", "sensitivity", "record", "params"):
        result = invoke(command, "--help")
        assert result.exit_code == 0, command
    result = invoke(
        "calibrate", "party-purges-1921-1936", "--targets", "/no/such.csv", "--trials", "1"
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("calibrate", "TOML of [[free]] path/low/high/log entries, and [[start]] points"),
        ("sensitivity", "TOML of [[free]] path/low/high/log entries: the parameters varied"),
    ],
)
def test_the_free_file_help_names_its_tables(command, words):
    """QA of session 39: Rich read [[free]] and [[start]] as markup and printed '[]'. QA 43:
    sensitivity's help told of calibrate's start points and resumed studies."""
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0
    assert words in result.output
    if command == "sensitivity":
        assert "resumed study" not in result.output


@pytest.mark.parametrize(
    ("command", "sentence"),
    [
        (["run"], "a folder that holds anything else is refused before the run starts"),
        (["validate"], "each group is reported apart, and runs of different scenarios"),
        (["record"], "Claims from popular texts are shown with what the archival record says"),
        (["observables"], "how each argument is written follows once"),
    ],
)
def test_a_commands_help_flows_its_paragraphs(command, sentence):
    """typer's rich help kept the docstrings' line breaks: 'any other existing target is' and
    'refused' printed on two lines of `run --help` however wide the terminal."""
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0
    assert sentence in result.output


@pytest.mark.parametrize(
    ("command", "flag", "option", "kind"),
    [
        (["validate"], "--json", "--targets", "<path>"),
        (["run"], "--force", "--seed", "<int>"),
        (["run"], "--report", "--out", "<path>"),
        (["record"], "--help", "--search", "<str>"),
    ],
)
def test_a_flags_help_gives_no_value_type(command, flag, option, kind):
    """typer wrote `<bool>` beside every flag (`--json <bool>`), as if it took a value; the
    options that take one keep their type, on their own line (an argument's type, as run's
    `scenario <str>`, does not stand in for it)."""
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0

    def line_of(name: str) -> str:
        return next(line for line in result.output.splitlines() if f"│ {name} " in line)

    assert "<" not in line_of(flag)
    assert "<bool>" not in result.output
    assert kind in line_of(option).split()


def test_no_option_shows_a_python_type():
    """`sensitivity --observable` showed `<list[str]>` (QA 43): an option repeated for more
    names what it takes."""
    result = CliRunner().invoke(app, ["sensitivity", "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0
    assert "list[" not in result.output and "KIND:ARGUMENT" in result.output
    assert "METHOD" in result.output
    chosen = CliRunner().invoke(app, ["calibrate", "--help"], env={"COLUMNS": "300"})
    assert "LOSS" in chosen.output


def test_no_commands_help_tells_the_projects_history():
    """The observables command's help told the user about a QA of session 41."""

    def helps(commands):
        for command in commands.registered_commands:
            yield command.help or ""
        for group in commands.registered_groups:
            yield group.typer_instance.info.help or ""
            yield from helps(group.typer_instance)

    texts = list(helps(app))
    assert len(texts) >= 15
    assert not [text for text in texts if "session" in text.lower() or "QA " in text]


def test_runs_tables_keep_every_name_and_number_at_80_columns(tmp_path):
    """At 80 columns the tables lay out narrow, cutting nothing (QA 42: before, every
    figure's name had no width at all and the campaigns' counts were cut to '1,406,…')."""
    import pandas as pd

    out = tmp_path / "run"
    shown_80 = at_80_columns(
        "run", "party-purges-1921-1936", *SMALL, "--out", str(out), "--no-report"
    )
    campaigns = pd.read_parquet(out / "campaigns.parquet")
    for reviewed in campaigns["reviewed"]:
        assert f"{reviewed:,.0f}" in shown_80
    words = set(shown_80.split())  # each record_id whole (QA 45: a long one was folded)
    compared = pd.read_csv(out / "comparison.csv")
    for record_id in compared.loc[compared["status"] != "not modelled", "record_id"]:
        assert record_id in words
    assert "1921 purge: share" in shown_80


@pytest.mark.slow  # 10-14 s of whole runs: the quick tier keeps under 5 minutes
def test_validate_of_a_sweep_keeps_every_id_and_number_whole_at_80_columns(tmp_path):
    """At 80 columns a sweep's validation stacks each row's cells, cutting and splitting nothing
    (QA 42: before, numbers broke across lines, '1,357,4' over '00', and ids split mid-word)."""
    import json
    import os

    from chistka.analysis.observables import observable_number

    out = tmp_path / "sweep"
    sweep = [sys.executable, "-m", "chistka", "sweep", "party-purges-1921-1936", "--seeds", "2"]
    sweep += ["--set", "review.noise_sd=0.8,1.0", *SMALL, "--out", str(out), "--jobs", "1"]
    sweep += ["--no-report"]  # validate reads the runs, not ensemble.html
    made = subprocess.run(sweep, capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stderr
    env = {**os.environ, "COLUMNS": "80"}
    validate = [sys.executable, "-m", "chistka", "validate", str(out)]
    shown = subprocess.run(validate, capture_output=True, text=True, env=env, timeout=300)
    assert shown.returncode == 0, shown.stderr
    assert "…" not in shown.stdout
    assert max(len(line) for line in shown.stdout.splitlines()) <= 80
    words = set(shown.stdout.split())
    listed = subprocess.run([*validate, "--json"], capture_output=True, text=True, timeout=300)
    rows = json.loads(listed.stdout)
    assert len({row["group"] for row in rows}) == 2
    for row in rows:
        assert row["id"] in words
        assert row["observable"] in words
        for key in ("model", "value", "low", "high"):
            if row[key] is not None and row["status"] != "not modelled":
                assert observable_number(row[key], row["observable"]) in words, (row, key)


def test_record_search_keeps_ids_numbers_and_words_whole_at_80_columns():
    """QA 42: before, every cell was folded mid-word ('143,81' over '0', 'polish' over '_op_ar')."""
    from chistka.record import records

    shown = at_80_columns("record", "--search", "polish")
    words = {word.rstrip(",;") for word in shown.split()}
    matched = [row for row in records().values() if "polish" in row.id]
    assert matched
    for row in matched:
        assert row.id in words
        assert f"{row.value:,.0f}" in words
        for text in (row.quantity, row.source):
            assert all(word.rstrip(",;") in words for word in text.split()), text


def test_params_keeps_fields_and_descriptions_whole_at_80_columns():
    """QA 42: before, the description had some 8 characters of width and was folded mid-word."""
    from chistka.commands.catalogue import parameter_rows

    shown = at_80_columns("params", "arrest")
    starts = {line.split()[0] for line in shown.splitlines() if line.strip()}
    words = set(shown.split())
    for row in parameter_rows(None, "arrest"):
        assert row.path in starts  # whole, at the start of a line
        assert all(word in words for word in row.description.split()), row.description


def test_run_help_says_what_scale_defaults_to():
    """QA 45: --scale's help gave no default; the README's example then passed 0.02 to a
    scenario whose own scale is 0.01. The help names each built-in's own scale."""
    from chistka.commands.options import BUILTIN_SCALES
    from chistka.scenario import builtin_scenarios, load_scenario

    assert set(BUILTIN_SCALES) == set(builtin_scenarios())
    for name, scale in BUILTIN_SCALES.items():
        assert load_scenario(name).population.scale == scale
    result = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "400"})
    said = " ".join(result.output.replace("│", " ").split())
    assert "default: the scenario's own population.scale (great-terror 0.2, " in said
    assert "party-purges-1921-1936 0.01" in said


def test_experiment_show_keeps_every_arms_settings_whole_at_80_columns():
    """QA 45: at 80 columns what each arm changes was cut ("operations.order_00…",
    "interrogation.names…"), so that it could be neither read nor copied."""
    from chistka.analysis.experiment import load_experiment

    lines = ("question:", "scenario:", "note:")  # lines the terminal wraps (soft_wrap)
    shown = at_80_columns("experiment", "show", "centre-or-periphery", whole=lines)
    words = set(shown.split())
    for arm in load_experiment("centre-or-periphery").arms:
        assert arm.name in words
        assert all(name in words for name in arm.without), arm.name
        assert all(f"{key}={value}" in words for key, value in arm.set.items()), arm.name


def test_runs_comparison_splits_no_record_id_at_80_columns():
    """QA 45: at 80 columns great-terror's comparison folded its long ids mid-word,
    "arrested_nkvd_1936_10_to_1" over "938_07"; each id is now whole on a line of its own."""
    import io

    import pandas as pd
    from rich.console import Console

    from chistka.cli import comparison_table

    ids = ["arrested_nkvd_1936_10_to_1938_07", "seed_third_of_party_shot_or_camps", "p1935"]
    comparison = pd.DataFrame(
        {
            "record_id": ids,
            "observable": ["arrests:1936-10-01/1938-07-01", "arrests:1937", "party_total:1935"],
            "label": ["Arrests in the NKVD's cases, 1 Oct 1936 to 1 Jul 1938 (its count)"] * 3,
            "role": ["calibration", "validation", "claim"],
            "status": ["inside", "outside", "claim"],
            "model": [1_345_416.0, 12_345_678.0, 2_274_489.0],
            "record": [1_420_711.0, 1_548_366.0, 1_989_000.0],
            "tolerance": ["±20%", "±3 points", "±15%"],
            "read_in_source": [True, False, True],
            "grade": ["journalism", "scholarly", "memory"],
            "fitted_now": [False, False, False],
        }
    )
    console = Console(width=80, file=io.StringIO(), record=True)
    console.print(comparison_table(comparison))
    shown = console.export_text()
    assert "…" not in shown
    assert max(len(line) for line in shown.splitlines()) <= 80
    lines = {line.strip() for line in shown.splitlines()}
    for record_id in ids:
        assert record_id in lines, record_id
    assert {"1,345,416", "1,420,711", "12,345,678", "journalism"} <= set(shown.split())
    fitted = "Fit: calibration 1 of 1 inside (100%); validation 0 of 1 inside (0%)"
    assert fitted in " ".join(shown.split())  # QA 45: "Fit calibration: 1 of 1 inside ..."


def test_record_of_a_scenario_keeps_its_sources_urls_whole_at_80_columns():
    """QA 45: at 80 columns `record --scenario great-terror` cut its sources' URLs
    ("infogalactic.com/info/17th_Congr…"), so that a citation could not be followed; a URL
    longer than the column is folded over lines at its end."""
    import re

    wide = invoke("record", "--scenario", "great-terror", columns=1000).stdout
    urls = set(re.findall(r"[\w.-]+\.\w+/[^\s,;()]+", wide))  # a host/path, "https://" or not
    assert any("infogalactic.com/info/" in url for url in urls)
    shown = at_80_columns("record", "--scenario", "great-terror")
    lines = shown.splitlines()
    start = next(line.index("source / what") for line in lines if "source / what" in line)
    column = "".join("".join(line[start:].split()) for line in lines)
    for url in urls:
        assert url in column, url


def test_fitting_falls_back_where_rich_lacks_its_private_helpers(monkeypatch):
    """`fits` reads rich's column widths through private helpers of rich.table.Table; a rich
    without them must still draw a table (its measured minimum decides), not fail."""
    from rich.console import Console
    from rich.table import Table

    from chistka.commands import options
    from chistka.commands.options import fits

    table = Table("figure", "value")
    table.add_row("a figure with a long name", "1,234")
    console = Console(width=80)
    monkeypatch.setattr(options, "RICH_TABLE_HELPERS", ("_a_helper_rich_lacks",))
    assert fits(table, console, console.options) is True
    assert fits(table, console, console.options.update_width(10)) is False


def test_run_notes_a_scale_other_than_the_fits(tmp_path):
    """QA 45: `run fitted.toml --scale 0.03` of a study fitted at 0.02 gave no word that the
    fit was made at another scale (the scale is in the calibrate event's source)."""
    from importlib import resources

    builtin = resources.files("chistka.scenario") / "builtin" / "party-purges-1921-1936.toml"
    text = builtin.read_text(encoding="utf-8")
    path = tmp_path / "fitted.toml"
    path.write_text(
        text + '\n[[events]]\ndate = 1921-03-01\nset = { "review.noise_sd" = 1.0 }\n'
        'note = "parameters fitted by chistka calibrate"\n'
        'source = "chistka calibrate on 2026-01-01: targets t.csv, band 0.1, 3 trials, seeds 1, '
        'population.scale 0.002"\n',
        encoding="utf-8",
    )
    note = "note: the values calibrate fitted were fitted at population.scale 0.002; this run is"
    occupied = tmp_path / "a-file"  # the note comes before the output folder is checked
    occupied.write_text("not a folder")
    other = invoke("run", str(path), "--scale", "0.003", "--out", str(occupied))
    assert other.exit_code == 2, other.output
    assert f"{note} at 0.003" in " ".join(other.output.split())
    same = invoke("run", str(path), *SMALL, "--out", str(occupied))
    assert same.exit_code == 2, same.output
    assert "were fitted at population.scale" not in same.output
