"""Scenarios: the TOML schema, the loader and the built-in scenarios shipped as package data.

The loader turns every way a scenario file can be malformed (not text, not UTF-8, not TOML, a key
given twice, nesting too deep, a value of the wrong type, out of range, not finite, a number too
large for the engine, a name that cannot name an output folder) into one `ScenarioError` whose
message names the file and the field, before anything is run or written.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from chistka.errors import ScenarioError, closest, read_text
from chistka.scenario.schema import EMPHASIS_FORMS, PolicyEvent, Scenario

__all__ = [
    "Scenario",
    "apply_overrides",
    "builtin_scenarios",
    "check_strata",
    "empty_strata",
    "load_scenario",
    "scenario_from_dict",
    "scenario_text",
    "with_scale",
]

MAX_FILE_BYTES = 10 * 2**20
"""Largest scenario file read (the built-in scenarios are a few tens of kilobytes)."""

MAX_DEPTH = 32
"""Deepest nesting of tables and arrays a scenario may have (the schema needs five levels)."""

MAX_PERSONS = 10_000_000_000
"""Largest count of persons a field may hold: more people than have ever been alive at once."""

INT64 = (-(2**63), 2**63 - 1)
"""Whole numbers must fit in 64 bits, as the engine's arrays hold them."""

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
"""A scenario name, which also names its output folder (out/NAME): letters, digits, '.', '_',
'-', at most 100 characters, starting with a letter or digit."""


def _builtin_dir() -> Any:
    return resources.files("chistka.scenario") / "builtin"


def builtin_scenarios() -> dict[str, str]:
    """Names of the built-in scenarios with their one-line descriptions."""
    found: dict[str, str] = {}
    for entry in sorted(_builtin_dir().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            found[entry.name.removesuffix(".toml")] = data.get("scenario", {}).get(
                "description", ""
            )
    return found


def _format_location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _shown(value: Any) -> str:
    """A value as quoted in a message, cut short when it is long."""
    text = repr(value)
    if len(text) <= 80:
        return text
    return f"{text[:60]}... ({len(value) if isinstance(value, str) else len(text):,} characters)"


_UNION_MEMBER = re.compile(
    r"^(?:float|int|bool|str|(?:dict|list|literal)\[.*\]|function-[a-z-]+\[.*\])$"
)
"""How pydantic names the member of a union a value was tried against (a part of `loc`)."""


def format_validation_error(exc: ValidationError, origin: str) -> str:
    """One readable message per problem: the field as a dotted path, what is wrong, the value.

    A value that fits no member of a union (e.g. an event's value: a number, true/false or a
    table) is one problem, reported with the first member's complaint; a table that is refused
    for one of its items (an event's table with a bad number) is reported for that item alone.
    """
    lines = []
    reported: set[str] = set()
    errors = []
    for error in exc.errors(include_url=False):
        loc = tuple(part for part in error["loc"] if part not in EMPHASIS_FORMS)
        member = any(isinstance(part, str) and _UNION_MEMBER.match(part) for part in loc)
        loc = tuple(
            part for part in loc if not (isinstance(part, str) and _UNION_MEMBER.match(part))
        )
        errors.append((_format_location(loc), member, error))
    inside = [where for where, member, _ in errors if member]
    for where, member, error in errors:
        if member and any(other.startswith((f"{where}.", f"{where}[")) for other in inside):
            continue  # the complaint of a member the value is not (a number, for a table)
        if where in reported:
            continue
        reported.add(where)
        message = error["msg"]
        if error["type"] == "value_error":  # a validator's own words, without pydantic's prefix
            message = message.removeprefix("Value error, ")
        if error["type"] not in {"unknown_key", "missing"} and "input" in error:
            value = error["input"]
            if not isinstance(value, dict | list):
                message += f" (got {_shown(value)})"
        lines.append(f"{where}: {message}" if where else message)
    return f"invalid scenario {origin}:\n  " + "\n  ".join(lines)


def _check_raw(data: Mapping[str, Any], origin: str) -> None:
    """Reject what the schema cannot judge: nesting too deep and whole numbers beyond 64 bits.

    Walks the parsed file without recursion, so that no depth of nesting can overflow the stack.
    """
    stack: list[tuple[str, Any, int]] = [("", data, 0)]
    while stack:
        where, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            parts = re.findall(r"\.?[^.\[]+|\[\d+\]", where)
            field = "".join(parts[:3]) + "..."
            raise ScenarioError(
                f"invalid scenario {origin}:\n  {field}: nested more than {MAX_DEPTH} levels deep"
            )
        if isinstance(value, Mapping):
            for key, item in value.items():
                stack.append((f"{where}.{key}" if where else str(key), item, depth + 1))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                stack.append((f"{where}[{i}]", item, depth + 1))
        elif isinstance(value, int) and not isinstance(value, bool):
            if not INT64[0] <= value <= INT64[1]:
                raise ScenarioError(
                    f"invalid scenario {origin}:\n  {where}: whole number too large (got "
                    f"{_shown(value)}); numbers must be between -2**63 and 2**63 - 1"
                )


def _check_event_values(data: Mapping[str, Any], origin: str) -> None:
    """An event sets numbers, true/false or tables: a text would be read as true or false."""
    events = data.get("events")
    if not isinstance(events, list):
        return
    for i, event in enumerate(events):
        changes = event.get("set") if isinstance(event, Mapping) else None
        if not isinstance(changes, Mapping):
            continue
        for key, value in changes.items():
            if isinstance(value, str):
                raise ScenarioError(
                    f"invalid scenario {origin}:\n  events[{i}].set.{key}: a value must be a "
                    f"number, true/false or a table of numbers (got {_shown(value)})"
                )


def _unit(model: type[BaseModel], name: str) -> str:
    extra = model.model_fields[name].json_schema_extra
    return str(extra.get("unit", "")) if isinstance(extra, dict) else ""


def _check_sizes(node: BaseModel, where: str, lead: str) -> None:
    """Every count of persons at most `MAX_PERSONS` (the schema bounds them only from below).

    `lead` starts the message (it names the file, or the override).
    """
    for name in type(node).model_fields:
        value = getattr(node, name)
        path = f"{where}.{name}" if where else name
        if isinstance(value, BaseModel):
            _check_sizes(value, path, lead)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    _check_sizes(item, f"{path}[{i}]", lead)
        elif (
            _unit(type(node), name).startswith("persons")
            and isinstance(value, int | float)
            and value > MAX_PERSONS
        ):
            raise ScenarioError(
                f"{lead}{path}: {value:.4g} persons is more than {MAX_PERSONS:,} (more people "
                "than have ever lived at one time)"
            )


def _check_name(scenario: Scenario, origin: str) -> None:
    name = scenario.scenario.name
    if not NAME_PATTERN.match(name):
        raise ScenarioError(
            f"invalid scenario {origin}:\n  scenario.name: must be 1 to 100 letters, digits, '.', "
            f"'_' or '-', starting with a letter or digit (it names the output folder out/NAME; "
            f"got {_shown(name)})"
        )


def scenario_from_dict(data: dict[str, Any], origin: str = "<dict>") -> Scenario:
    """Validate a scenario given as a dictionary (the parsed TOML).

    Raises:
        ScenarioError: the data does not fit the schema; the message names each bad field.
    """
    if not isinstance(data, Mapping):
        raise ScenarioError(f"invalid scenario {origin}: expected a table of sections")
    _check_raw(data, origin)
    _check_event_values(data, origin)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, origin)) from None
    _check_name(scenario, origin)
    lead = f"invalid scenario {origin}:\n  "
    _check_sizes(scenario, "", lead)
    for i, event in enumerate(scenario.events):
        _check_sizes(scenario.with_parameters(event.set), "", f"{lead}events[{i}].set: ")
    return scenario


def apply_overrides(scenario: Scenario, overrides: Mapping[str, Any], where: str) -> Scenario:
    """The scenario with dotted parameters changed, e.g. ``{'review.noise_sd': 0.5}``.

    The one applier of ``section.field=value`` overrides (sweep ``--set``, free parameters,
    calibration trials): `Scenario.with_parameters` with its errors turned into a ScenarioError.
    A value given here holds from the first day: an event of the first day that sets the same
    parameter (the one `chistka calibrate` writes into fitted.toml) is followed by one that sets
    the value given, so that it cannot silently undo the change on that day
    (`_given_after_first_day`); an event of a later day still changes the value on its date.

    Args:
        scenario: the scenario to change.
        overrides: 'section.field' (or 'section.group.field', 'operations.NAME.field') -> value.
        where: how to name the place of the change in a message (e.g. '--set').

    Raises:
        ScenarioError: an unknown parameter or a value it does not allow; the message names the
            parameter once, what is allowed, and the value given.
    """
    try:
        changed = scenario.with_parameters(dict(overrides), where=where)
    except PydanticCustomError as exc:
        raise ScenarioError(exc.message()) from None
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, where)) from None
    _check_sizes(changed, "", f"{where}: ")
    return _given_after_first_day(changed, overrides)


GIVEN_NOTE = "values given for the run"
"""Note of the event `apply_overrides` adds on the first day after those that set its values."""


def _given_after_first_day(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """The scenario whose first day ends its events by setting the `overrides` they touch.

    An event dated the scenario's start applies on the first day, after the scenario's own
    values: left alone, it would put back what an override had just changed. Where one sets an
    overridden path, a group holding it or a field of it, an event of the first day (noted
    `GIVEN_NOTE`) follows the scenario's own and sets the values given, so that they hold from
    the first day and the events keep what they set (`scenario.fitted.fitted_in` reads there
    which values a user's calibration fitted, and which a run changed).
    """
    start = scenario.scenario.start

    def touches(key: str, path: str) -> bool:
        return key == path or key.startswith(path + ".") or path.startswith(key + ".")

    touched = {
        path: value
        for path, value in overrides.items()
        if any(
            event.date == start and any(touches(key, path) for key in event.set)
            for event in scenario.events
        )
    }
    if not touched:
        return scenario
    given = PolicyEvent(date=start, set=touched, note=GIVEN_NOTE, source="")
    return scenario.model_copy(update={"events": [*scenario.events, given]})


_BARE_OR_QUOTED = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_KEY = re.compile(rf"^\s*({_BARE_OR_QUOTED}(?:\s*\.\s*{_BARE_OR_QUOTED})*)\s*=")
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")


def _dotted(text: str) -> str:
    """A TOML key or table name as plain dotted text (quotes removed): '"a". b' -> 'a.b'."""
    return ".".join(part.strip("\"'") for part in re.findall(_BARE_OR_QUOTED, text))


def _repeated_key(text: str) -> str | None:
    """The first key given twice in one table of a TOML text ('table.key', line numbers), if any.

    tomllib rejects a repeated key without naming it; this line-wise scan (of plain
    ``key = value`` lines and ``[table]`` headers) finds the key to name in the message.
    """
    seen: dict[str, int] = {}
    tables: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _dotted(header[2])
            if header[1] == "[[":
                inside = table + "."
                seen = {k: v for k, v in seen.items() if not k.startswith(inside)}
                tables = {k: v for k, v in tables.items() if not k.startswith(inside)}
            elif table in tables:
                return f"table [{table}] (lines {tables[table]} and {number})"
            else:
                tables[table] = number
            continue
        key = _KEY.match(line)
        if key:
            name = _dotted(key[1])
            full = f"{table}.{name}" if table else name
            if full in seen:
                return f"key '{full}' (lines {seen[full]} and {number})"
            seen[full] = number
    return None


def _with_line(message: str, text: str) -> str:
    """The parser's message with the line it points at quoted, so that the key is named."""
    found = re.search(r"at line (\d+)", message)
    lines = text.splitlines()
    if found is None or not 0 < int(found[1]) <= len(lines):
        return message
    line = lines[int(found[1]) - 1].strip()
    return f"{message}: {line if len(line) <= 80 else line[:60] + ' ...'}"


def load_scenario(ref: str | Path) -> Scenario:
    """Load a scenario by built-in name or from a TOML file path.

    Raises:
        ScenarioError: the file is missing, unreadable, not UTF-8 text, not valid TOML, or does
            not fit the schema (see the module's docstring).
    """
    text: str
    origin: str
    path = Path(ref)
    if path.suffix == ".toml" or path.exists():
        if path.is_dir():
            raise ScenarioError(f"scenario file {path} is a folder; give the TOML file in it")
        if not path.is_file():
            raise ScenarioError(f"scenario file not found: {path}")
        text = read_text(path, "scenario file", error=ScenarioError, max_bytes=MAX_FILE_BYTES)
        origin = f"'{path}'"
    else:
        names = builtin_scenarios()
        if str(ref) not in names:
            match = closest(str(ref), list(names))
            hint = f" Did you mean '{match}'?" if match else ""
            raise ScenarioError(
                f"no built-in scenario or file named '{ref}'.{hint} "
                f"Built-in scenarios: {', '.join(names)}"
            )
        text = (_builtin_dir() / f"{ref}.toml").read_text(encoding="utf-8")
        origin = f"'{ref}' (built-in)"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        repeated = _repeated_key(text) if "Cannot " in str(exc) else None
        detail = f"{repeated} is given twice" if repeated else _with_line(str(exc), text)
        raise ScenarioError(f"scenario {origin} is not valid TOML: {detail}") from None
    except RecursionError:
        raise ScenarioError(
            f"scenario {origin} is not a usable TOML file: arrays or tables nested too deeply "
            f"(a scenario needs at most {MAX_DEPTH} levels)"
        ) from None
    except ValueError as exc:  # a whole number of thousands of digits
        reason = str(exc).split(";")[0]
        raise ScenarioError(f"scenario {origin} is not a usable TOML file: {reason}") from None
    return scenario_from_dict(data, origin)


def with_scale(scenario: Scenario, scale: float | None) -> Scenario:
    """The scenario at `scale` (as `Sim` applies --scale), checked to lie in (0, 1].

    Raises:
        ScenarioError: a scale outside (0, 1].
    """
    if scale is None:
        return scenario
    if not 0 < scale <= 1:
        raise ScenarioError(f"population.scale (--scale): must be in (0, 1] (got {scale:g})")
    population = scenario.population.model_copy(update={"scale": scale})
    return scenario.model_copy(update={"population": population})


def empty_strata(scenario: Scenario) -> list[tuple[str, int, float]]:
    """The strata the scenario needs that would get no agent: (name, persons, their scale).

    A stratum is needed when the scenario gives it persons: the party, the population beyond
    the party stratum, the former members, and the army and NKVD officers. Agent counts are
    rounded as in `chistka.engine.region_sizes` and `chistka.people.synthesise`.
    """
    pop = scenario.population
    party_scale = pop.party_scale or pop.scale
    if pop.party_scale is None:
        beyond = ("the population", pop.size, pop.scale)
    else:
        stratum = pop.party.total + pop.expelled_before + pop.recruitment_pool
        beyond = ("the population beyond the party stratum", pop.size - stratum, pop.scale)
    strata = [
        ("the party", pop.party.total, party_scale),
        beyond,
        ("the army officers", pop.army_officers, party_scale),
        ("the NKVD officers", pop.nkvd_officers, party_scale),
    ]
    if pop.party_scale is not None:
        strata.append(("the former members", pop.expelled_before, party_scale))
    return [(name, n, s) for name, n, s in strata if n > 0 and round(n * s) < 1]


def check_strata(scenario: Scenario) -> None:
    """Refuse a scale at which a stratum the scenario needs would have no agent.

    Raises:
        ScenarioError: names the first empty stratum, its persons and the smallest scale that
            gives it one agent.
    """
    empty = empty_strata(scenario)
    if not empty:
        return
    name, persons, scale = empty[0]
    field = "population.party_scale" if scale != scenario.population.scale else "population.scale"
    raise ScenarioError(
        f"--scale {scenario.population.scale:g}: {name} ({persons:,} persons) would have no agent "
        f"at {field} = {scale:g}; give a scale of at least {1 / persons:.2g}"
        + (f" (also empty: {', '.join(e[0] for e in empty[1:])})" if len(empty) > 1 else "")
    )


def scenario_text(scenario_ref: str | Path) -> str:
    """The TOML text of a built-in scenario (by name) or of a scenario file."""
    path = Path(scenario_ref)
    if path.suffix == ".toml" or path.exists():
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(f"cannot read scenario '{path}': {exc.strerror or exc}") from None
    if str(scenario_ref) not in builtin_scenarios():
        load_scenario(scenario_ref)  # raises the loader's message
    entry = _builtin_dir() / f"{scenario_ref}.toml"
    return entry.read_text(encoding="utf-8")
