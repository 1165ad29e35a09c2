"""Bad input: every malformed scenario, targets file or --set gets one message naming the field.

Hypothesis writes the files a fuzzer would try (wrong types, huge numbers, NaN and infinity,
impossible dates, empty tables, deep nesting, very long strings, repeated keys, bytes that are
no text) and the loader must answer each with a ScenarioError whose message names the field;
a few of them go through the command line, which must exit 2 without a traceback and without
writing its output directory. The properties only load files (no simulation), so they are fast.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from chistka.analysis.ensemble import plan
from chistka.analysis.free import load_free
from chistka.analysis.validate import read_targets
from chistka.cli import app
from chistka.errors import ChistkaError, ScenarioError
from chistka.scenario import MAX_DEPTH, MAX_PERSONS, load_scenario
from conftest import SMALL
from tomltext import to_toml

FAST = settings(max_examples=40, deadline=None)
"""Property settings: modest example counts; the seed comes from the profile in conftest."""

MESSAGE_LIMIT = 2_000
"""A message stays short whatever the size of the bad value."""


def write(directory: Path, data: dict[str, Any] | str | bytes, name: str = "bad.toml") -> Path:
    path = directory / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data if isinstance(data, str) else to_toml(data), encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    """The loader's message for a file that must be refused."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "Traceback" not in message and len(message) < MESSAGE_LIMIT
    return message


def with_value(location: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """The small scenario with the value at a location (keys and list indices) replaced."""
    data = copy.deepcopy(SMALL)
    node: Any = data
    for part in location[:-1]:
        node = node[part]
    node[location[-1]] = value
    return data


def dotted(location: tuple[str | int, ...]) -> str:
    """A location as the loader names it: population.regions[1], campaigns[0].threshold."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + part
    return text


# --- the fields a fuzzer would corrupt and the values it would put there ----------------------

NUMBERS = [
    ("population", "size"),
    ("population", "scale"),
    ("population", "regions", 1),
    ("population", "party", "total"),
    ("network", "workplace_size"),
    ("admissions", "rate_per_year"),
    ("exits", "rate_per_year"),
    ("promotion", "stage_days"),
    ("appeals", "delay_days"),
    ("scenario", "seed"),
    ("campaigns", 1, "threshold"),
]
TEXTS = [("scenario", "name"), ("campaigns", 0, "name")]
DATES = [("scenario", "start"), ("campaigns", 0, "end"), ("events", 1, "date")]
EVENT_VALUES = [("events", 0, "set", "admissions.rate_per_year")]

non_finite = st.sampled_from([math.nan, math.inf, -math.inf])
beyond_64_bits = st.one_of(st.integers(min_value=2**63), st.integers(max_value=-(2**63) - 1))
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=30)
containers = st.one_of(
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 9), max_size=2),
    st.lists(st.integers(0, 9), min_size=1, max_size=3),
)
bad_number = st.one_of(non_finite, beyond_64_bits, words, containers, st.booleans())
bad_text = st.one_of(non_finite, beyond_64_bits, containers, st.integers(0, 10))
bad_date = st.one_of(non_finite, beyond_64_bits, words, containers)

corrupted = st.one_of(
    st.tuples(st.sampled_from(NUMBERS), bad_number),
    st.tuples(st.sampled_from(TEXTS), bad_text),
    st.tuples(st.sampled_from(DATES), bad_date),
    st.tuples(
        st.sampled_from(EVENT_VALUES), st.one_of(non_finite, beyond_64_bits, words, st.booleans())
    ),
)


@FAST
@given(case=corrupted)
def test_a_bad_value_in_any_field_is_named(tmp_path_factory, case):
    location, value = case
    path = write(tmp_path_factory.mktemp("bad"), with_value(location, value))
    message = load_error(path)
    if location[0] == "events" and location[2] == "set":
        assert "events[0]" in message and location[3] in message, message
    else:
        assert dotted(location) in message, message


@pytest.mark.parametrize("flag", [True, False])
def test_true_or_false_among_the_regions_is_refused_with_its_item(tmp_path, flag):
    message = load_error(write(tmp_path, with_value(("population", "regions", 1), flag)))
    assert "population.regions[1]" in message and "not true or false" in message, message


def test_true_or_false_as_a_campaigns_emphasis_is_refused(tmp_path):
    data = with_value(("campaigns", 0, "emphasis"), {"passivity": True})
    message = load_error(write(tmp_path, data))
    assert "campaigns[0].emphasis.passivity" in message and "not true or false" in message


@pytest.mark.parametrize("value", [1, 0, 2, 0.5])
def test_a_number_where_true_or_false_is_asked_is_refused(tmp_path, value):
    """QA of session 39: `promotion.enabled = 1` was read as true (pydantic is lax), 2 refused."""
    message = load_error(write(tmp_path, with_value(("promotion", "enabled"), value)))
    assert "promotion.enabled" in message and "true or false" in message, message


@pytest.mark.parametrize("value", [1, 0])
def test_a_number_where_an_event_sets_true_or_false_is_refused(tmp_path, value):
    data = with_value(("events", 1, "set", "promotion.enabled"), value)
    message = load_error(write(tmp_path, data))
    assert "events[1].set" in message and "promotion.enabled" in message, message
    assert "true or false" in message, message


def test_a_folder_given_as_the_scenario_file_is_named_as_a_folder(tmp_path):
    """QA of session 39: a folder was reported as 'scenario file not found'."""
    (tmp_path / "runs.toml").mkdir()
    for ref in (tmp_path, tmp_path / "runs.toml"):
        with pytest.raises(ScenarioError, match="is a folder; give the TOML file in it"):
            load_scenario(ref)


def test_an_unknown_kind_to_compare_is_refused_with_the_kinds_the_record_scores(tmp_path):
    """QA of session 39: compare = ["expeled_share"] scored no row, and the run said nothing."""
    message = load_error(write(tmp_path, with_value(("scenario", "compare"), ["expeled_share"])))
    assert "unknown kind 'expeled_share'" in message and "did you mean 'expelled_share'" in message
    assert "party_total" in message


@FAST
@given(persons=st.integers(min_value=MAX_PERSONS + 1, max_value=2**63 - 1))
def test_more_persons_than_ever_lived_are_refused(tmp_path_factory, persons):
    data = with_value(("population", "party", "total"), persons)
    message = load_error(write(tmp_path_factory.mktemp("huge"), data))
    assert "population.party.total" in message and "persons" in message


@FAST
@given(
    field=st.sampled_from([("population", "scale"), ("exits", "rate_per_year")]),
    value=st.floats(min_value=1.0001, max_value=1e308),
)
def test_huge_numbers_out_of_range_are_named_with_the_range(tmp_path_factory, field, value):
    message = load_error(write(tmp_path_factory.mktemp("range"), with_value(field, value)))
    assert dotted(field) in message and "less than or equal to 1" in message


@FAST
@given(depth=st.integers(min_value=MAX_DEPTH + 1, max_value=5_000), table=st.booleans())
def test_deep_nesting_is_refused(tmp_path_factory, depth, table):
    value = "{a = " * depth + "1" + "}" * depth if table else "[" * depth + "]" * depth
    text = to_toml(SMALL).replace('"regions" = [2.0, 1.0, 1.0]', f'"regions" = {value}')
    message = load_error(write(tmp_path_factory.mktemp("deep"), text))
    assert "nested" in message
    if depth < 200:  # the parser itself gives up on far deeper files, without a field
        assert "population.regions" in message


@FAST
@given(length=st.integers(min_value=101, max_value=200_000))
def test_a_very_long_name_is_refused_and_cut_short_in_the_message(tmp_path_factory, length):
    data = with_value(("scenario", "name"), "x" * length)
    message = load_error(write(tmp_path_factory.mktemp("long"), data))
    assert "scenario.name" in message and f"{length:,} characters" in message


def key_lines(text: str) -> list[int]:
    return [i for i, line in enumerate(text.splitlines()) if " = " in line]


@FAST
@given(data=st.data())
def test_a_repeated_key_is_named(tmp_path_factory, data):
    text = to_toml(SMALL)
    lines = text.splitlines()
    index = data.draw(st.sampled_from(key_lines(text)))
    repeated = lines[index].split(" = ")[0].strip('"')
    value = data.draw(st.sampled_from([lines[index].split(" = ", 1)[1], "1", '"x"']))
    lines.insert(index + 1, f'"{repeated}" = {value}')
    message = load_error(write(tmp_path_factory.mktemp("repeat"), "\n".join(lines) + "\n"))
    assert "given twice" in message and f"lines {index + 1} and {index + 2}" in message
    table = [line for line in lines[:index] if line.startswith("[")][-1].strip('[]"')
    assert f"'{table}.{repeated}'" in message, message


def test_a_repeated_table_is_named(tmp_path):
    text = to_toml(SMALL) + '["network"]\n"household_size" = 3\n'
    assert "table [network]" in load_error(write(tmp_path, text))


@FAST
@given(raw=st.binary(min_size=1, max_size=2_000))
def test_bytes_that_are_no_text_are_refused(tmp_path_factory, raw):
    message = load_error(write(tmp_path_factory.mktemp("bytes"), raw))
    if b"\x00" in raw:
        assert "not a text file" in message
    else:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            assert "not UTF-8" in message


@pytest.mark.parametrize(
    "date", ["1925-02-30", "0000-01-01", "1925-13-01", "1925-00-10", "10000-01-01"]
)
def test_an_impossible_date_is_refused_with_its_line(tmp_path, date):
    text = to_toml(SMALL).replace('"start" = "1925-01-01"', f'"start" = {date}')
    message = load_error(write(tmp_path, text))
    assert "not valid TOML" in message and '"start"' in message


@pytest.mark.parametrize(
    ("location", "value", "expected"),
    [
        (("events", 1, "date"), dt.date(1900, 1, 1), "events[1].date"),
        (("campaigns", 0, "start"), dt.date(2100, 1, 1), "campaigns[0]"),
        (("scenario", "end"), dt.date(1800, 1, 1), "before start"),
    ],
)
def test_a_date_outside_the_run_is_named(tmp_path, location, value, expected):
    assert expected in load_error(write(tmp_path, with_value(location, value)))


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        (("scenario",), "scenario.name: Field required"),
        (("campaigns", 0), "campaigns[0].name: Field required"),
        (("events", 0), "events[0].date: Field required"),
        (("events", 0, "set"), None),
    ],
)
def test_empty_tables(tmp_path, location, expected):
    path = write(tmp_path, with_value(location, {}))
    if expected is None:  # an event that changes nothing is allowed
        assert load_scenario(path).events[0].set == {}
    else:
        assert expected in load_error(path)


@pytest.mark.parametrize(
    ("location", "value", "expected"),
    [
        (("campaigns", 0, "reviewed"), 0, "campaigns[0].reviewed: Input should be greater than"),
        (
            ("campaigns", 0, "reviewed"),
            1.5,
            "campaigns[0].reviewed: Input should be a valid integer",
        ),
        (
            ("review",),
            {"flight": -0.5},
            "review.flight: Input should be greater than or equal to 0",
        ),
        (("review",), {"flight": 6}, "review.flight: Input should be less than or equal to 5"),
        (
            ("exits",),
            {"candidate_rate_per_year": -0.1},
            "exits.candidate_rate_per_year: Input should be greater than or equal to 0",
        ),
        (
            ("exits",),
            {"candidate_rate_per_year": 1.5},
            "exits.candidate_rate_per_year: Input should be less than or equal to 1",
        ),
    ],
)
def test_an_impossible_count_or_flight_is_named(tmp_path, location, value, expected):
    """The campaign's documented count, the flight from the review (session 27) and the
    candidates' drop-out rate (session 28)."""
    assert expected in load_error(write(tmp_path, with_value(location, value)))


def test_an_empty_section_takes_the_defaults(tmp_path):
    scenario = load_scenario(write(tmp_path, with_value(("network",), {})))
    assert scenario.network.workplace_size == type(scenario.network)().workplace_size


def test_a_number_of_thousands_of_digits_is_refused(tmp_path):
    text = to_toml(SMALL).replace('"seed" = 7', '"seed" = ' + "9" * 5000)
    assert "digits" in load_error(write(tmp_path, text))


def test_an_empty_file_names_the_missing_section(tmp_path):
    assert "scenario: Field required" in load_error(write(tmp_path, ""))


def test_a_name_that_is_a_path_is_refused(tmp_path):
    for name in ("../elsewhere", "/etc", ".", "a b"):
        path = write(tmp_path, with_value(("scenario", "name"), name))
        assert "scenario.name" in load_error(path)


# --- the command line -------------------------------------------------------------------------

CLI_CASES = {
    "binary": b"\x00\x01\x02\xff" * 64,
    "latin-1": to_toml(SMALL).replace("small", "m\u00e9lange").encode("latin-1"),
    "deep": to_toml(SMALL).replace("[2.0, 1.0, 1.0]", "[" * 3000 + "]" * 3000),
    "nan": to_toml(with_value(("exits", "rate_per_year"), math.nan)),
    "repeated key": to_toml(SMALL).replace('"seed" = 7', '"seed" = 7\n"seed" = 8'),
}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_run_refuses_a_malformed_file_with_exit_2_and_writes_nothing(tmp_path, case):
    path = write(tmp_path, CLI_CASES[case])
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_run_refuses_a_binary_file_in_a_real_process(tmp_path):
    path = write(tmp_path, CLI_CASES["binary"])
    result = subprocess.run(
        [sys.executable, "-m", "chistka", "run", str(path), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "not a text file" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


# --- targets files (validate, calibrate) ------------------------------------------------------

HEADER = "id,observable,value,low,high\n"
TOTAL = "t,party_total:1926-01-01"
GOOD_ROW = "total,party_total:1926-01-01,20000,,\n"

TARGET_CASES = {
    "empty": ("", "is empty"),
    "header only": (HEADER, "has no rows"),
    "missing columns": ("id,observable,value\nt,party_total:1926-01-01,1\n", "'low', 'high'"),
    "not a number": (HEADER + TOTAL + ",many,,\n", "column 'value' is not a number"),
    "nan": (HEADER + TOTAL + ",nan,,\n", "column 'value' is not a finite"),
    "infinite low": (HEADER + TOTAL + ",1,-inf,\n", "column 'low' is not a finite"),
    "huge": (HEADER + TOTAL + "," + "9" * 400 + ",,\n", "400 characters"),
    "no value": (HEADER + TOTAL + ",,1,2\n", "column 'value' is empty"),
    "low above high": (HEADER + TOTAL + ",5,9,1\n", "low (9) is above high"),
    "unknown observable": (HEADER + "t,no_such_thing,5,,\n", "unknown observable"),
    "ragged row": (HEADER + TOTAL + ",1,,,x,y\n", "7 cells for 5 columns"),
    "repeated id": (HEADER + GOOD_ROW + GOOD_ROW, "id 'total' is given twice"),
    "repeated column": ("id,id,observable,value,low,high\n", "'id' appears more than once"),
    "binary": (b"\x00\xff" * 50, "not a text file"),
    "latin-1": ((HEADER + "caf\u00e9,party_total:1926-01-01,1,,\n").encode("latin-1"), "UTF-8"),
    "huge cell": (HEADER + TOTAL + ",1,,," + "x" * 200_000 + "\n", "CSV"),
}


@pytest.mark.parametrize("case", list(TARGET_CASES))
def test_a_bad_targets_file_is_named(tmp_path, case):
    content, expected = TARGET_CASES[case]
    path = write(tmp_path, content, "targets.csv")
    with pytest.raises(ChistkaError) as info:
        read_targets(path)
    assert expected in str(info.value) and "targets.csv" in str(info.value)


@FAST
@given(raw=st.binary(max_size=2_000))
def test_any_bytes_as_targets_give_a_clean_error(tmp_path_factory, raw):
    path = write(tmp_path_factory.mktemp("targets"), raw, "targets.csv")
    with pytest.raises(ChistkaError):
        read_targets(path)


@FAST
@given(
    column=st.sampled_from(["value", "low", "high"]),
    cell=st.one_of(non_finite.map(str), words.filter(lambda w: w.strip() not in {"", "nan"})),
)
def test_a_bad_number_in_targets_names_its_column(tmp_path_factory, column, cell):
    row = {"id": "t", "observable": "party_total:1926-01-01", "value": "1", "low": "", "high": ""}
    row[column] = cell
    text = HEADER + ",".join(row.values()) + "\n"
    path = write(tmp_path_factory.mktemp("targets"), text, "targets.csv")
    with pytest.raises(ChistkaError, match=f"column '{column}'"):
        read_targets(path)


def test_validate_and_calibrate_refuse_a_bad_targets_file_with_exit_2(small_results, tmp_path):
    run = small_results.save(tmp_path / "run")
    targets = write(tmp_path, HEADER + TOTAL + ",nan,,\n", "targets.csv")
    result = CliRunner().invoke(app, ["validate", str(run), "--targets", str(targets)])
    assert result.exit_code == 2 and "not a finite number" in result.output, result.output
    scenario = write(tmp_path, SMALL, "small.toml")
    out = tmp_path / "cal"
    args = ["calibrate", str(scenario), "--targets", str(targets), "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "not a finite number" in result.output, result.output
    assert not out.exists()


# --- --set overrides (sweep) ------------------------------------------------------------------


def sweep(tmp_path: Path, *sets: str) -> tuple[int, str, Path]:
    """`chistka sweep` of the small scenario with --set options; exit code, output, --out."""
    scenario = tmp_path / "small.toml"
    if not scenario.exists():
        write(tmp_path, SMALL, "small.toml")
    out = tmp_path / "sweep"
    args = ["sweep", str(scenario), "--seeds", "1", "--jobs", "1", "--out", str(out)]
    for option in sets:
        args += ["--set", option]
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.output, out


def test_set_a_value_out_of_range_names_the_field_once(tmp_path):
    code, output, out = sweep(tmp_path, "review.noise_sd=-1")
    assert code == 2 and not out.exists()
    assert output.count("review.noise_sd") == 1, output
    assert "greater than 0" in output or "greater than or equal to" in output
    assert "(got -1)" in output


def test_set_an_operation_of_a_scenario_without_operations_is_a_full_sentence(tmp_path):
    code, output, out = sweep(tmp_path, "operations.x.y=1")
    assert code == 2 and not out.exists()
    message = " ".join(output.split())
    assert "'operations.x.y': this scenario has no operations to change" in message, message
    assert not message.rstrip().endswith((";", ":", "(none)"))


def test_set_an_unknown_operation_lists_the_operations():
    with pytest.raises(ChistkaError) as info:
        plan("great-terror", 1, {"operations.kulak.limit_shoot": [1]})
    message = str(info.value)
    assert message.startswith("--set: 'operations.kulak.limit_shoot' should be")
    assert message.endswith("order_00447"), message


SET_PATHS = ["review.noise_sd", "exits.rate_per_year", "admissions.rate_per_year", "promotion"]


@FAST
@given(
    path=st.sampled_from([*SET_PATHS, "nosuch.field", "review.nosuch", "review"]),
    value=st.sampled_from(["nan", "inf", "-1", "1e999", "abc", "-", "[1]", str(2**70)]),
)
def test_bad_set_options_exit_2_naming_the_parameter(tmp_path_factory, path, value):
    code, output, out = sweep(tmp_path_factory.mktemp("set"), f"{path}={value}")
    assert code == 2, output
    assert "error:" in output and "Traceback" not in output and not out.exists()
    assert path.split(".")[0] in output


# --- free-parameter files (calibrate, sensitivity) --------------------------------------------

FREE_CASES = {
    "binary": (b"\x00\x9f" * 40, "not a text file"),
    "latin-1": ('[[free]]\npath = "review.noise_sd"\nnote = "\u00e9"\n'.encode("latin-1"), "UTF-8"),
    "deep": ("x = " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply"),
    "nan bound": ('[[free]]\npath = "review.noise_sd"\nlow = nan\nhigh = 2\n', "'low' must be"),
    "repeated key": ('[[free]]\npath = "a"\npath = "b"\n', "not valid TOML"),
    "long number": ("x = " + "7" * 5000 + "\n", "digits"),
}


@pytest.mark.parametrize("case", list(FREE_CASES))
def test_a_bad_free_parameter_file_is_named(small_scenario, tmp_path, case):
    content, expected = FREE_CASES[case]
    path = write(tmp_path, content, "free.toml")
    with pytest.raises(ChistkaError) as info:
        load_free(path, small_scenario)
    assert expected in str(info.value) and "free.toml" in str(info.value)


def test_a_region_of_weight_zero_is_named_by_its_index(tmp_path):
    """Found by the fuzzer: the message named the list, not the region."""
    message = load_error(write(tmp_path, with_value(("population", "regions", 1), 0.0)))
    assert "population.regions[1]" in message and "greater than 0" in message


@pytest.mark.parametrize("name", ["pending_cases_sanctioned", "testimony_sanctioned"])
def test_a_sanction_switch_without_the_prosecutors_supervision_is_refused(tmp_path, name):
    """Before 2026-12-03 an event switching it on was accepted and did nothing (the review of
    session 22). A value in [arrest] stays allowed: it configures the sanction in advance, and
    chistka calibrate cuts runs short before the halt's event."""
    data = copy.deepcopy(SMALL)
    date = data["events"][0]["date"]
    data["events"].append({"date": date, "set": {f"arrest.{name}": True}})
    message = load_error(write(tmp_path, data))
    assert f"events[{len(data['events']) - 1}].set" in message
    assert f"arrest.{name}" in message and "arrest.procuracy_supervision" in message
    data["events"].append({"date": date, "set": {"arrest.procuracy_supervision": True}})
    load_scenario(write(tmp_path, data, "with_supervision.toml"))
    in_section = copy.deepcopy(SMALL)
    in_section.setdefault("arrest", {})[name] = True
    assert getattr(load_scenario(write(tmp_path, in_section, "in_section.toml")).arrest, name)
