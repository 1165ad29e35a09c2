"""Every number of the scenario schema refuses the impossible, naming its field and what is allowed.

The audit walks the pydantic models from `Scenario` down (every section, group, list item,
table of weights, range of terms) and finds each field that holds a number. Each one is given
the values a fuzzer or a careless hand would put there: NaN and infinity, a number too large for
any meaning, text (even the text of a valid number: TOML tells them apart), a list, a table,
true/false, a fraction where a whole number is counted, a negative number unless the field's
meaning allows one (`MAY_BE_NEGATIVE`), and more than 1 in a share or a probability
(`Leaf.share`). The loader must refuse each with a message naming the field by its dotted path
and what it allows. The same values go through a timeline event's `set` (the message names
`events[i]` and the parameter) and through `chistka run --set`; a sample goes through the
command line, which must exit 2 and leave no output folder.

A field the walker does not know how to judge (a new kind of annotation) fails the audit, so
that a new field is audited as soon as it is added.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
import types
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from chistka.cli import app
from chistka.commands.sweep import apply_set_options
from chistka.errors import ChistkaError, ScenarioError
from chistka.scenario import load_scenario, scenario_from_dict
from chistka.scenario.schema import (
    FIRST_DAY_ONLY,
    LIST_SECTIONS,
    MECHANISM_SECTIONS,
    CriteriaWeights,
    PolicyEvent,
    Scenario,
)
from conftest import SMALL, deep_merge
from tomltext import to_toml

OPERATION = {
    "name": "op",
    "kind": "category",
    "start": "1926-01-01",
    "end": "1926-06-30",
    "targets": ["kulak"],
    "limit_shoot": 10,
    "limit_camp": 10,
}
BASE: dict[str, Any] = deep_merge(
    SMALL,
    {
        "operations": [OPERATION],
        "show_trials": [{"name": "trial", "date": "1926-03-01", "defendants": 3, "shot": 1}],
    },
)
"""The small scenario with one item in every list section (an operation, a show trial)."""

ITEM_NAMES = {"operations": "op", "campaigns": "c1"}
"""The item of each list section a timeline event or --set changes ('operations.op.field')."""

MAY_BE_NEGATIVE = re.compile(
    r"^(review\.criteria\.\w+|review\.threshold|campaigns\[0\]\.threshold)$"
)
"""Fields whose meaning allows a negative number: the weights of the purge criteria (merit
lowers the score) and the score thresholds."""

SHARE_WORDS = re.compile(r"^(share|chance|annual probability|yearly share)\b")
"""How the description of a share or a probability begins."""

RATES_ABOVE_ONE = {
    "denunciation.rate_per_year",
    "arrest.national_rate_per_year",
    "operations[0].rate_per_year",
}
"""Yearly rates that may exceed 1: the denunciations a person makes in a year (a count), and
the national operations' rates, described as a yearly share of a diaspora but used as a rate
(the day's quota is rate / 365.25 of the diaspora) and bounded by 10 (arguable; left so)."""

ALLOWED = re.compile(
    r"greater than|less than|finite number|a valid (number|integer)|a number|whole number|between|"
    r"more than [\d,]+|at most|true or false|'album'",
    re.IGNORECASE,
)
"""Ways a message says what the field allows."""


@dataclass(frozen=True)
class Leaf:
    """A number of the schema: where it lies in a scenario file and how the loader names it."""

    named: str
    """The field as the loader's message names it: campaigns[0].threshold."""
    location: tuple[str | int, ...]
    """Keys and indices of the value in the scenario dictionary."""
    parameter: str | None
    """The field as a timeline event or --set names it (None: neither can change it)."""
    integer: bool
    negative_allowed: bool
    share: bool
    template: Any = None
    """For an item of a table or list: the whole value, with `None` where the item goes."""

    def placed(self, value: Any) -> Any:
        """The value to write at `location`: the item inside its table or list, or itself."""
        if self.template is None:
            return value
        if isinstance(self.template, dict):
            return {k: value if v is None else v for k, v in self.template.items()}
        return [value if v is None else v for v in self.template]


def _members(annotation: Any) -> list[Any]:
    """The members of a union (without None), or the annotation itself."""
    if get_origin(annotation) in (Union, types.UnionType):
        return [a for a in get_args(annotation) if a is not type(None)]
    return [annotation]


def _bare(annotation: Any) -> Any:
    """An annotation without its Annotated metadata."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _holds_no_number(annotation: Any) -> bool:
    """Whether a field holds no number: text, a date, true/false, a choice, a list of names."""
    bare = _bare(annotation)
    if bare in (str, bool, dt.date):
        return True
    if get_origin(bare) is Literal:
        return True
    return get_origin(bare) is list and _bare(get_args(bare)[0]) is str


def _share(name: str, info: Any) -> bool:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    return (
        extra.get("unit") in ("fraction", "probability")
        or extra.get("unit") == "1/year"
        or name.endswith(("_share", "probability"))
        or bool(SHARE_WORDS.match(info.description or ""))
    )


def discover(
    model: type[BaseModel] = Scenario,
    named: str = "",
    location: tuple[str | int, ...] = (),
    parameter: str | None = None,
) -> list[Leaf]:
    """Every number of `model` and the models below it (see the module's docstring)."""
    leaves: list[Leaf] = []
    for name, info in model.model_fields.items():
        here = f"{named}.{name}" if named else name
        where = (*location, name)
        if model is Scenario:
            changeable = name in MECHANISM_SECTIONS or name in LIST_SECTIONS
            param = name if changeable else None
        else:
            param = f"{parameter}.{name}" if parameter else None
        if param in FIRST_DAY_ONLY:
            param = None
        if model is PolicyEvent and name == "set":
            continue  # audited through the parameters it names (test_an_event_*)
        members = [_bare(a) for a in _members(info.annotation)]
        models = [a for a in members if _is_model(a)]
        if models:
            leaves += discover(models[0], here, where, param)
            continue
        if len(members) == 1 and get_origin(members[0]) is list:
            item = _bare(get_args(members[0])[0])
            if _is_model(item):
                index_param = f"{name}.{ITEM_NAMES[name]}" if name in ITEM_NAMES else None
                leaves += discover(item, f"{here}[0]", (*where, 0), index_param)
                continue
        common = {
            "negative_allowed": bool(MAY_BE_NEGATIVE.match(here)),
            "share": _share(name, info) and here not in RATES_ABOVE_ONE,
        }
        numbers = [a for a in members if a in (int, float)]
        if numbers and all(a in (int, float) or get_origin(a) is Literal for a in members):
            integer = numbers == [int]
            leaves.append(Leaf(here, where, param, integer, **common))
            continue
        leaf = _container_leaves(here, where, param, members, common)
        if leaf is not None:
            leaves += leaf
            continue
        if all(_holds_no_number(a) for a in members):
            continue
        raise AssertionError(f"the audit does not know how to judge {here}: {info.annotation}")
    return leaves


def _container_leaves(
    here: str,
    where: tuple[str | int, ...],
    param: str | None,
    members: list[Any],
    common: dict[str, bool],
) -> list[Leaf] | None:
    """The numbers inside a list, a pair or a table of numbers (None: not such a field)."""
    kinds = [get_origin(a) for a in members]
    if kinds == [list] and _bare(get_args(members[0])[0]) is float:  # population.regions
        template = copy.deepcopy(BASE)
        for part in where:
            template = template[part]
        return [Leaf(f"{here}[1]", where, None, False, **common, template=[*template[:1], None])]
    if kinds == [tuple]:  # a range of camp terms [shortest, longest]
        return [
            Leaf(f"{here}[0]", where, None, False, **common, template=[None, 10.0]),
            Leaf(f"{here}[1]", where, None, False, **common, template=[0.5, None]),
        ]
    tables = [a for a in members if get_origin(a) is dict]
    if tables and all(get_origin(a) in (dict, list) for a in members):
        keys_type = get_args(tables[0])[0]
        keys = get_args(keys_type) if get_origin(keys_type) is Literal else ()
        if not keys:  # a campaign's emphasis: a multiplier per criterion
            keys = tuple(CriteriaWeights.model_fields)
        return [
            Leaf(
                f"{here}.{key}",
                where,
                param,
                False,
                **common,
                template={k: None if k == key else 1.0 for k in keys},
            )
            for key in keys
        ]
    return None


LEAVES = discover()
NUMBERED = {leaf.named: leaf for leaf in LEAVES}


def bad_values(leaf: Leaf, valid: Any) -> list[Any]:
    """The impossible values for a field; `valid` is a value it takes."""
    values: list[Any] = [
        math.nan,
        math.inf,
        -math.inf,
        1e300,
        -1e300,
        "abc",
        str(valid),
        [valid],
        {"a": valid},
        True,
    ]
    if leaf.integer:
        values.append(2.5)
    if not leaf.negative_allowed:
        values.append(-1)
    if leaf.share:
        values.append(1.5)
    return values


def valid_value(leaf: Leaf) -> Any:
    """A value the field takes in the base scenario (1 for a field left unset there)."""
    node: Any = scenario_from_dict(copy.deepcopy(BASE))
    for part in leaf.location:
        node = (
            node[part] if isinstance(part, int) or isinstance(node, dict) else getattr(node, part)
        )
    if leaf.template is not None:
        if isinstance(node, dict | list | tuple):
            return 1 if not node else next(iter(node.values() if isinstance(node, dict) else node))
        return 1
    return 1 if node is None or isinstance(node, bool) else node


def with_value(location: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    node: Any = data
    for part in location[:-1]:
        node = node.setdefault(part, {}) if isinstance(part, str) else node[part]
    node[location[-1]] = value
    return data


def refusal(action: Any) -> str | None:
    """The message `action` is refused with, or None where it is accepted."""
    try:
        action()
    except ChistkaError as exc:
        return str(exc)
    return None


def test_the_audit_finds_every_section():
    """The walker reaches the terror sections, the list items, the tables and the ranges."""
    for named in (
        "population.size",
        "population.regions[1]",
        "population.categories.kulak",
        "population.elite.central_committee",
        "population.party.cohort.nep",
        "review.criteria.passivity",
        "interrogation.layer_weights.household",
        "sentencing.family_camp_years[1]",
        "operations[0].troika_shoot_share",
        "operations[0].camp_years[0]",
        "show_trials[0].shot",
        "campaigns[0].emphasis.passivity",
        "campaigns[0].reviewed",
        "army.reinstate_days",
    ):
        assert named in NUMBERED, named
    assert len(LEAVES) > 150
    assert NUMBERED["arrest.sanction_share"].share and NUMBERED["camps.mortality_per_year"].share
    assert not NUMBERED["review.threshold"].share and NUMBERED["review.threshold"].negative_allowed


def test_the_base_scenario_loads():
    scenario = scenario_from_dict(copy.deepcopy(BASE))
    assert scenario.operations and scenario.show_trials and scenario.campaigns


# --- the scenario file ---------------------------------------------------------------------------


@pytest.mark.parametrize("named", list(NUMBERED))
def test_every_number_of_the_schema_refuses_the_impossible(named):
    """Each bad value refused by the loader, naming the field and what it allows."""
    leaf = NUMBERED[named]
    accepted, unnamed = [], []
    for value in bad_values(leaf, valid_value(leaf)):
        data = with_value(leaf.location, leaf.placed(value))
        message = refusal(lambda data=data: scenario_from_dict(data, "'bad.toml'"))
        if message is None:
            accepted.append(value)
        elif named not in message or not ALLOWED.search(message):
            unnamed.append((value, message))
    assert not accepted, f"{named} accepts {accepted}"
    assert not unnamed, f"{named}: the message does not name it and what it allows: {unnamed}"


@pytest.mark.parametrize(
    "named",
    ["exits.rate_per_year", "operations[0].grant_share", "interrogation.layer_weights.household"],
)
def test_a_file_with_an_impossible_value_is_refused_by_load_scenario(tmp_path, named):
    leaf = NUMBERED[named]
    for value in (math.nan, -1, 1.5 if leaf.share else 1e300):
        path = tmp_path / "bad.toml"
        path.write_text(to_toml(with_value(leaf.location, leaf.placed(value))), encoding="utf-8")
        with pytest.raises(ScenarioError, match=re.escape(named)):
            load_scenario(path)


# --- timeline events and --set ------------------------------------------------------------------

CHANGEABLE = [leaf for leaf in LEAVES if leaf.parameter is not None]


@pytest.mark.parametrize("named", [leaf.named for leaf in CHANGEABLE])
def test_an_event_setting_an_impossible_value_is_refused(named):
    """An event's `set` is judged as the section itself: the message names events[i] and the
    parameter."""
    leaf = NUMBERED[named]
    assert leaf.parameter is not None
    accepted, unnamed = [], []
    for value in bad_values(leaf, valid_value(leaf)):
        placed = leaf.placed(value)
        if isinstance(placed, str | list):  # refused by the event's own type (test_bad_input.py)
            continue
        data = copy.deepcopy(BASE)
        data["events"][1]["set"][leaf.parameter] = placed
        message = refusal(lambda data=data: scenario_from_dict(data, "'bad.toml'"))
        if message is None:
            accepted.append(value)
        elif "events[1]" not in message or leaf.parameter not in message:
            unnamed.append((value, message))
        elif not ALLOWED.search(message):
            unnamed.append((value, message))
    assert not accepted, f"events[1].set.{leaf.parameter} accepts {accepted}"
    assert not unnamed, f"events[1].set.{leaf.parameter}: {unnamed}"


SETTABLE = [leaf for leaf in CHANGEABLE if leaf.template is None]
"""Parameters --set gives one value (a table cannot be written on the command line)."""


@pytest.fixture(scope="module")
def base_scenario():
    return scenario_from_dict(copy.deepcopy(BASE))


@pytest.mark.parametrize("named", [leaf.named for leaf in SETTABLE])
def test_set_an_impossible_value_is_refused(base_scenario, named):
    """`chistka run --set PARAM=VALUE`: the function the command applies its options with."""
    leaf = NUMBERED[named]
    texts = ["nan", "inf", "-inf", "1e300", "-1e300", "abc", "[1]", "true"]
    texts += ["2.5"] if leaf.integer else []
    texts += [] if leaf.negative_allowed else ["-1"]
    texts += ["1.5"] if leaf.share else []
    accepted, unnamed = [], []
    for text in texts:
        option = [f"{leaf.parameter}={text}"]
        message = refusal(lambda option=option: apply_set_options(base_scenario, option))
        if message is None:
            accepted.append(text)
        elif leaf.parameter not in message or not ALLOWED.search(message):
            unnamed.append((text, message))
    assert not accepted, f"--set {leaf.parameter} accepts {accepted}"
    assert not unnamed, f"--set {leaf.parameter}: {unnamed}"


# --- the command line ----------------------------------------------------------------------------

CLI_CASES = {
    "a share above 1": (with_value(("exits", "rate_per_year"), 1.5), [], "exits.rate_per_year"),
    "a negative layer weight": (
        with_value(
            ("interrogation", "layer_weights"),
            NUMBERED["interrogation.layer_weights.household"].placed(-1.0),
        ),
        [],
        "interrogation.layer_weights.household",
    ),
    "an event's probability of 1.5": (
        with_value(("events", 0, "set"), {"denunciation.arrest_probability": 1.5}),
        [],
        "denunciation.arrest_probability",
    ),
    "--set a probability of 1.5": (BASE, ["--set", "review.speak_for=1.5"], "review.speak_for"),
}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_run_refuses_an_impossible_value_with_exit_2_and_writes_nothing(tmp_path, case):
    data, options, named = CLI_CASES[case]
    path = tmp_path / "bad.toml"
    path.write_text(to_toml(data), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(out), *options])
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert "error:" in message and named in message and "Traceback" not in message, message
    assert not out.exists()


def test_the_built_in_scenarios_still_load():
    """The bounds refuse nothing a built-in scenario gives."""
    from chistka.scenario import builtin_scenarios

    for name in builtin_scenarios():
        assert load_scenario(name).scenario.name == name


@pytest.mark.parametrize(
    ("parameter", "table", "expected"),
    [
        (
            "interrogation.layer_weights",
            {"household": "0.5"},
            "events[0].set.interrogation.layer_weights.household: Input should be a number, "
            "not text",
        ),
        (
            "admissions.origin_preference",
            {"worker": math.nan},
            "events[0].set.admissions.origin_preference.worker: Input should be a finite number",
        ),
    ],
)
def test_an_events_table_with_a_bad_item_names_the_item_alone(parameter, table, expected):
    """Not pydantic's names of the union's members ('dict[str,function-before[...]]'), nor the
    complaint that the table is not a number."""
    data = with_value(("events", 0, "set"), {parameter: table})
    message = refusal(lambda: scenario_from_dict(data, "'bad.toml'"))
    assert message is not None and expected in message, message
    assert "dict[" not in message and "valid number" not in message, message


def test_layers_all_of_weight_zero_are_refused():
    """The names are drawn in proportion to the weights: all 0 would draw from nothing."""
    data = with_value(("interrogation", "layer_weights"), {"household": 0.0, "workplace": 0})
    message = refusal(lambda: scenario_from_dict(data, "'bad.toml'"))
    assert message is not None and "interrogation.layer_weights: give at least one" in message
