"""Setting a fitted value in a scenario file, in every layout TOML allows, keeping the rest."""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from typing import Any

import pytest
from typer.testing import CliRunner

from chistka.analysis.fitted_file import set_line, with_values
from chistka.analysis.free import current_value, load_free
from chistka.cli import app
from chistka.errors import ChistkaError
from chistka.scenario import builtin_scenarios, load_scenario, scenario_from_dict

FREE_FILES = sorted(
    p.name.removesuffix(".toml")
    for p in (resources.files("chistka.scenario") / "free").iterdir()
    if p.name.endswith(".toml")
)


def _shown(name: str) -> str:
    """`chistka scenarios show NAME`, as a user copies it to edit."""
    result = CliRunner().invoke(app, ["scenarios", "show", name], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


def _expected(text: str, keys: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = tomllib.loads(text)
    node: Any = data
    for key in keys[:-1]:
        node = node[key] if isinstance(key, int) else node.setdefault(key, {})
    node[keys[-1]] = value
    return data


def _moved(parameter: Any, own: Any) -> float | int:
    """A value of the parameter's range that is not the scenario's own."""
    value = parameter.low + 0.37 * (parameter.high - parameter.low)
    value = round(value) if parameter.integer else value
    return value if value != own else parameter.high


def test_the_built_in_free_files_are_those_of_the_built_in_scenarios():
    assert FREE_FILES and set(FREE_FILES) <= set(builtin_scenarios())


@pytest.mark.parametrize("name", FREE_FILES)
def test_every_free_value_is_written_into_a_scenarios_show_file_and_reads_back(name):
    """QA 43 B1: `scenarios show` writes review.criteria as an inline table, and the fitted file
    added `criteria.origin_peasant = ...` below `[review]`: a duplicate key, so calibrate failed
    after all its trials. Each free value must now read back, alone and all together, with every
    other value of the file unchanged."""
    from chistka.analysis.fitted_file import parameter_keys

    text = _shown(name)
    scenario = scenario_from_dict(tomllib.loads(text))
    free = load_free(resources.files("chistka.scenario") / "free" / f"{name}.toml", scenario)
    values = {p.path: _moved(p, current_value(scenario, p.path)) for p in free}
    for path, value in values.items():
        written = with_values(text, {path: value}, "fitted (chistka calibrate, 2026-12-04)")
        loaded = scenario_from_dict(tomllib.loads(written))
        assert current_value(loaded, path) == value, path
        assert tomllib.loads(written) == _expected(text, parameter_keys(text, path), value), path
    written = with_values(text, values, "fitted (chistka calibrate, 2026-12-04)")
    loaded = scenario_from_dict(tomllib.loads(written))
    assert {p: current_value(loaded, p) for p in values} == values
    assert "# The resolved scenario" in written.splitlines()[0]


def test_a_value_in_an_inline_table_is_replaced_there_and_its_line_says_so():
    text = (
        "[review]\n"
        "criteria = { origin_alien = 1.6, origin_peasant = 3.0, origin_employee = 1.0 }"
        "  # weights\n"
        "threshold = 2.0\n"
    )
    comment = "fitted (chistka calibrate, 2026-12-04)"
    values = {"review.criteria.origin_peasant": 2.5, "review.criteria.origin_employee": 0.5}
    written = with_values(text, values, comment)
    assert written.splitlines()[1] == (
        "criteria = { origin_alien = 1.6, origin_peasant = 2.5, origin_employee = 0.5 }  # "
        f"{comment} for review.criteria.origin_peasant, review.criteria.origin_employee; weights"
    )
    assert written.splitlines()[2] == "threshold = 2.0"
    again = with_values(written, {"review.criteria.origin_peasant": 1.5}, "fitted (later)")
    assert again.splitlines()[1].endswith(
        "  # fitted (later) for review.criteria.origin_peasant; weights"
    )
    assert tomllib.loads(again)["review"]["criteria"]["origin_employee"] == 0.5


LAYOUTS = {
    "key lines": "[review]\nthreshold = 2.0\n[review.criteria]\norigin_alien = 1.6\n",
    "dotted keys": "[review]\ncriteria.origin_alien = 1.6\nthreshold = 2.0\n",
    "inline table": "[review]\ncriteria = { origin_alien = 1.6 }\nthreshold = 2.0\n",
    "empty inline table": "[review]\ncriteria = {}\nthreshold = 2.0\n",
    "inline dotted": "[review]\ncriteria = { x.y = 1, origin_alien = 1.6 }\n",
    "root inline": "review = { criteria = { origin_alien = 1.6 }, threshold = 2.0 }\n[x]\n",
    "root dotted": "review.criteria.origin_alien = 1.6\nreview.threshold = 2.0\n[x]\na = 1\n",
    "root inline in dotted": "review.criteria = { origin_alien = 1.6 }\n[x]\na = 1\n",
    "sub-table only": "[review.criteria]\norigin_alien = 1.6\n",
    "no table": "[scenario]\nname = 'x'\n",
    "quoted and spaced": '[ "review" ]\n"criteria" . origin_alien = 1.6 # w\n',
    "strings that look like TOML": (
        "[scenario]\ndescription = '''\n[review]\ncriteria = 1\n'''\n"
        'note = "[review] criteria = { origin_alien = 1 }"\n'
        "[review]\ncriteria = { origin_alien = 1.6 } # w\n"
    ),
    "multi-line array before": (
        "[review]\nxs = [\n  1, # one\n  2,\n]\ncriteria.origin_alien = 1.6\n"
    ),
    "windows newlines": "[review]\r\ncriteria = { origin_alien = 1.6 }\r\nthreshold = 2.0\r\n",
    "no last newline": "[review]\ncriteria = { origin_alien = 1.6 }",
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize(
    "path", ["review.criteria.origin_alien", "review.criteria.origin_peasant", "review.threshold"]
)
def test_a_value_is_set_or_added_in_every_layout_keeping_the_rest(layout, path):
    text = LAYOUTS[layout]
    keys = tuple(path.split("."))
    written = with_values(text, {path: 2.75}, "fitted")
    assert tomllib.loads(written) == _expected(text, keys, 2.75)
    assert written.count("fitted") >= 1


@pytest.mark.parametrize("inline", [False, True])
def test_a_value_of_an_item_of_a_list_is_set_in_that_item(inline):
    if inline:
        text = (
            "campaigns = [\n"
            '  { name = "1921", reviewed = 100 },  # the first\n'
            '  { name = "1929", reviewed = 200 },\n'
            "]\n"
        )
    else:
        text = (
            '[[campaigns]]\nname = "1921"\nreviewed = 100\n\n'
            '[[campaigns]]\nname = "1929"\nreviewed = 200\n'
        )
    values = {"campaigns.1929.reviewed": 250, "campaigns.1921.emphasis": 1.5}
    written = with_values(text, values, "fitted")
    first, second = tomllib.loads(written)["campaigns"]
    assert first == {"name": "1921", "reviewed": 100, "emphasis": 1.5}
    assert second == {"name": "1929", "reviewed": 250}
    if inline:
        assert written.splitlines()[1].endswith("  # fitted for campaigns.1921.emphasis; the first")
    with pytest.raises(ChistkaError, match="no campaigns item '1930'"):
        with_values(text, {"campaigns.1930.reviewed": 1}, "fitted")


def test_set_line_refuses_a_value_the_file_does_not_write():
    with pytest.raises(ChistkaError, match="no line for 'review.threshold'"):
        set_line("[review]\ncriteria = { origin_alien = 1.6 }\n", "review.threshold", 2.0, "x")


def test_a_value_that_is_no_table_cannot_take_a_key():
    with pytest.raises(ChistkaError, match="'review.criteria' is a value there"):
        with_values("[review]\ncriteria = 1.0\n", {"review.criteria.origin_alien": 2.0}, "x")


def test_the_places_of_the_built_in_files_read_back_as_their_values():
    """Every value `toml_places` finds is the text tomllib reads as that value."""
    from chistka.analysis.toml_places import toml_places

    for name in builtin_scenarios():
        text = (resources.files("chistka.scenario") / "builtin" / f"{name}.toml").read_text(
            encoding="utf-8"
        )
        found = toml_places(text).places
        data = tomllib.loads(text)
        stack: list[tuple[tuple[Any, ...], Any]] = [((), data)]
        while stack:
            keys, node = stack.pop()
            items = (
                node.items()
                if isinstance(node, dict)
                else enumerate(node)
                if isinstance(node, list) and node and isinstance(node[0], dict)
                else None
            )
            if items is None:
                place = found[keys]
                assert tomllib.loads("v = " + text[place.start : place.end])["v"] == node
                continue
            stack += [((*keys, k), v) for k, v in items]


def test_a_refit_of_a_built_in_scenario_keeps_its_lines_as_before():
    """The built-in files write each free value on its own line: a fit replaces that line as it
    did (scripts/fit_scenario.py's stamps), and leaves every other line as it was."""
    text = (
        resources.files("chistka.scenario") / "builtin" / "party-purges-1921-1936.toml"
    ).read_text(encoding="utf-8")
    written = set_line(text, "review.criteria.origin_peasant", 2.5, "fitted (x, 2026-12-04)")
    before, after = text.splitlines(), written.splitlines()
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert len(changed) == 1
    line = after[changed[0]]
    assert line == (
        "criteria.origin_peasant = 2.5 # fitted (x, 2026-12-04): who the 1921 purge expelled by "
        "origin (Volkov; docs/decisions.md 28.3)"
    )
    data = copy.deepcopy(tomllib.loads(text))
    data["review"]["criteria"]["origin_peasant"] = 2.5
    assert tomllib.loads(written) == data
    load_scenario("party-purges-1921-1936")
