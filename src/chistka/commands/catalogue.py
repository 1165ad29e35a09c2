"""Commands that describe what chistka offers: `observables`, `scenarios [show NAME]`, `params`.

`chistka scenarios show NAME` prints the resolved scenario (every field, defaults filled in) as
TOML that loads back to the same scenario, to copy and edit. `chistka params --scenario NAME`
puts a scenario's values beside the defaults, with the source of each value: the comment beside
the value in the scenario file (where the built-in scenarios cite the record or a document, or
say "calibrated" or "assumption"), else the schema's; the record's rows a value was fitted to
(the ``[[fitted]]`` tables of the scenario's free file); for a field of an array of tables (the
operations, show trials, campaigns, events), its items' own sources; and the dated timeline
events (with their sources) that change it during the run.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import re
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from chistka.commands.options import NARROW, Fitting, WithoutOption, fail, output_console
from chistka.errors import ChistkaError

console = output_console()

ARGUMENT_FORMS = {
    "DATE": "YYYY-MM-DD, inside the run",
    "YEAR": (
        "YYYY, a period YYYY-YYYY or a span of days YYYY-MM-DD/YYYY-MM-DD (the second day "
        "excluded), wholly inside the run"
    ),
    "CAMPAIGN": "a campaign name of the scenario (1921, 1929, ...)",
    "CAMPAIGN/ORIGIN": "a campaign name, '/', a social origin (worker, peasant, employee, alien)",
    "CHANNEL/YEAR": (
        "an arrest channel (category, national, denunciation, self_protection, testimony, "
        "expelled, army, family, show_trial, routine), '/', a YEAR as above"
    ),
    "OP": "german, polish, latvian, harbin, other_national, all_national or an operation name",
    "BODY": "cc1934 or congress17",
}
"""How each kind of argument is written."""


SHARE_WORDS = "share: 0 to 1 (pages show %)"
"""The unit `observables` gives a share: targets files and the record give it as a fraction."""


def observables_command() -> None:
    """List the observables: the names to give validate, calibrate and sensitivity.

    Each with its unit and the title the reports and the web pages give it; how each argument
    is written follows once, in a table of its own.
    """
    from chistka.analysis.observables import (
        ARGUMENTS,
        OBSERVABLES,
        is_share,
        meaning,
        title_pattern,
        unit,
    )

    table = Table(
        title="Observables (KIND:ARGUMENT; counts in represented persons)",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
    )
    table.add_column("observable, its unit", no_wrap=True)  # whole, so that it can be copied
    table.add_column("title on the pages: what it measures", overflow="fold")
    for kind in OBSERVABLES:
        counted = SHARE_WORDS if is_share(kind) else unit(kind)
        table.add_row(
            f"{escape(kind)}:{ARGUMENTS[kind]}\n[dim]{escape(counted)}[/]",
            f"[bold]{escape(title_pattern(kind))}[/]: {escape(meaning(kind, with_unit=False))}",
        )
    console.print(table)
    forms = Table(title="Arguments", box=box.SIMPLE_HEAD, padding=(0, 1))
    forms.add_column("argument", no_wrap=True)
    forms.add_column("written as", overflow="fold")
    for argument in dict.fromkeys(ARGUMENTS.values()):
        forms.add_row(escape(argument), escape(ARGUMENT_FORMS[argument]))
    console.print(forms)
    console.print("e.g. arrests:1937, expelled_share:1921, party_total:1937-01-01", highlight=False)


# --- TOML --------------------------------------------------------------------------------------

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def _scalar(value: Any) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_scalar(item) for item in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{_key(str(k))} = {_scalar(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    raise ChistkaError(f"cannot write {type(value).__name__} as TOML")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _write_table(lines: list[str], path: list[str], table: dict[str, Any], header: str) -> None:
    """A table: its header, its plain values, then its sub-tables and arrays of tables.

    Sections (the top level's tables and arrays of tables) get headers; deeper dictionaries are
    written inline, as the scenario files write them.
    """
    if header:
        lines.extend(["", header])
    nested = len(path) >= 1
    for key, value in table.items():
        if value is None:
            continue
        if isinstance(value, dict) and not nested or _is_table_array(value) and not nested:
            continue
        lines.append(f"{_key(key)} = {_scalar(value)}")
    if nested:
        return
    for key, value in table.items():
        if isinstance(value, dict):
            _write_table(lines, [*path, key], value, f"[{_key(key)}]")
        elif _is_table_array(value):
            for item in value:
                _write_table(lines, [*path, key], item, f"[[{_key(key)}]]")


def scenario_toml(scenario: Any) -> str:
    """A scenario as TOML: every field with its value (defaults filled in), loadable again."""
    data = scenario.model_dump(mode="python", exclude_none=True)
    lines = [f"# The resolved scenario '{scenario.scenario.name}' (chistka scenarios show)."]
    _write_table(lines, [], data, "")
    return "\n".join(lines).strip("\n") + "\n"


# --- scenarios -----------------------------------------------------------------------------------

scenarios_app = typer.Typer(
    help="List the built-in scenarios, or show one as TOML.", no_args_is_help=False
)


@scenarios_app.callback(invoke_without_command=True)
def scenarios_list(ctx: typer.Context) -> None:
    """List the built-in scenarios (`chistka scenarios show NAME` prints one as TOML)."""
    if ctx.invoked_subcommand is not None:
        return
    from chistka.scenario import builtin_scenarios

    table = Table(title="Built-in scenarios")
    table.add_column("name")
    table.add_column("description")
    for name, description in builtin_scenarios().items():
        table.add_row(name, description)
    console.print(table)


@scenarios_app.command("show")
def scenarios_show(
    name: Annotated[str, typer.Argument(help="built-in scenario name or path to a TOML file")],
    without_: WithoutOption = None,
    list_decisions: Annotated[
        bool,
        typer.Option(
            "--list-decisions",
            help="list the decisions --without takes (NAME: what it was), and stop",
        ),
    ] = False,
) -> None:
    """Print the resolved scenario as TOML (every field, defaults filled in) to copy and edit."""
    from chistka.scenario import load_scenario
    from chistka.scenario.whatif import decision_notes, removable, without

    try:
        scenario = load_scenario(name)
        if list_decisions:
            notes = decision_notes(scenario)
            typer.echo(
                "\n".join(
                    f"{name}: {notes[name]}" if notes.get(name) else name
                    for name in removable(scenario)
                )
            )
            return
        text = scenario_toml(without(scenario, without_ or []))
    except ChistkaError as exc:
        fail(str(exc))
    typer.echo(text, nl=False)


# --- params --------------------------------------------------------------------------------------

_HEADER = re.compile(r"^\[(?P<array>\[)?\s*(?P<name>[^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGNMENT = re.compile(r"^(?P<key>[A-Za-z0-9_.\"-]+)\s*=\s*(?P<rest>.*)$")


def _trailing_comment(rest: str) -> str:
    """The comment after a TOML value (a '#' outside quotes), without the '#'."""
    quote = ""
    for index, char in enumerate(rest):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            return rest[index + 1 :].strip()
    return ""


def field_comments(text: str) -> dict[str, str]:
    """'section.field' -> the comment beside the field's value in a scenario file.

    Values in arrays of tables ([[events]], [[operations]]) are left out: they belong to one
    item, not to the field.
    """
    comments: dict[str, str] = {}
    section, in_array = "", False
    for line in text.splitlines():
        stripped = line.strip()
        header = _HEADER.match(stripped)
        if header:
            section, in_array = header["name"], bool(header["array"])
            continue
        assignment = _ASSIGNMENT.match(stripped)
        if assignment is None or in_array:
            continue
        comment = _trailing_comment(assignment["rest"])
        if comment:
            key = assignment["key"].strip('"')
            comments[f"{section}.{key}" if section else key] = comment
    return comments


def _comment_for(comments: dict[str, str], path: str) -> str:
    """The comment on a field, or on the inline table that holds it (e.g. party.origin)."""
    parts = path.split(".")
    for end in range(len(parts), 1, -1):
        found = comments.get(".".join(parts[:end]))
        if found:
            return found
    return ""


def _value_at(data: dict[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if part.endswith("[]"):
            items = value.get(part[:-2]) if isinstance(value, dict) else None
            return f"({len(items or [])} items)"
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _shown(value: Any, *, rounded: bool = False) -> str:
    """A scenario value as `params` writes it, in TOML's spelling.

    `rounded`: 6 digits at most, since a fitted value's 17 say nothing to a reader (`scenarios
    show` keeps them all).
    """
    if value is None:
        return "-"
    if isinstance(value, dict):
        return "(table)"
    if rounded and isinstance(value, float) and math.isfinite(value):
        return f"{value:.6g}"
    return _scalar(value) if not isinstance(value, str) else value


_DEFAULT_SHOWN = {"None": "-", "True": "true", "False": "false"}
"""How `_shown` writes the defaults that `FieldInfo.default` gives in Python's spelling."""

_DEFAULT_WORDS = {**_DEFAULT_SHOWN, "None": "none (the key left out)"}
"""How `params` prints those defaults: TOML has no None; a field without one is left out."""


def _items_source(values: dict[str, Any], path: str) -> str:
    """For a field of an array of tables whose items all cite a source: where to find them."""
    name = path.partition("[]")[0]
    items = values.get(name) if "." not in name else None
    if (
        isinstance(items, list)
        and items
        and all(isinstance(item, dict) and item.get("source") for item in items)
    ):
        return f"each item's own source ({name}[].source)"
    return ""


def _same(value: str, default: str) -> bool:
    """Whether a shown value is the default (20.0 is 20)."""
    try:
        return float(value) == float(default)
    except ValueError:
        return value == default


@dataclass(frozen=True)
class ParameterRow:
    """One row of `chistka params`: a field, its default, a scenario's value and its source."""

    path: str
    default: str
    value: str | None
    changed: bool
    allowed: str
    description: str
    source: str


def parameter_rows(scenario: str | None = None, section: str | None = None) -> list[ParameterRow]:
    """The rows of `chistka params [SECTION] [--scenario NAME]`.

    The source of a scenario's value is the comment beside it in the scenario file (or beside
    the inline table holding it), else the schema's; fitted values (the ``[[fitted]]`` tables of
    the scenario's free file that the scenario keeps: `fitted_in`) say so, with the rows they
    were fitted to, and a fitted value the scenario changed says it was changed from the fit; a
    field of an array of
    tables points to its items' own sources; the dated events that set it are added.

    Raises:
        ChistkaError: the scenario does not load.
    """
    from chistka.scenario import load_scenario, scenario_text
    from chistka.scenario.fitted import fitted_in
    from chistka.scenario.reference import fields

    values: dict[str, Any] = {}
    comments: dict[str, str] = {}
    timeline: dict[str, list[str]] = {}
    fitted: dict[str, str] = {}
    changed_paths: set[str] = set()
    if scenario is not None:
        loaded = load_scenario(scenario)
        comments = field_comments(scenario_text(scenario))
        values = loaded.model_dump(mode="python")
        for event in loaded.events:
            for key in event.set:
                timeline.setdefault(key, []).append(
                    f"{event.date}" + (f" ({event.source})" if event.source else "")
                )
        kept, changed = fitted_in(loaded)
        changed_paths = {entry["path"] for entry in changed}
        for entry in kept:
            rows = ", ".join(entry["targets"])
            fitted[entry["path"]] = f"fitted to records.csv {rows}" if rows else "fitted"
        for entry in changed:
            fitted[entry["path"]] = (
                f"changed from the value fitted in the built-in {loaded.scenario.name} "
                f"({_shown(entry['fitted_value'])})"
            )
    rows: list[ParameterRow] = []
    for info in fields():
        if section and not info.path.startswith(section):
            continue
        source = _comment_for(comments, info.path) or info.source
        if info.path in fitted and (
            "fitted to" not in source.lower() or info.path in changed_paths
        ):
            source = "; ".join(filter(None, [source, fitted[info.path]]))
        if "[]" in info.path and not source:
            source = _items_source(values, info.path)
        if info.path in timeline:
            dates = timeline[info.path]
            more = f" and {len(dates) - 2} more" if len(dates) > 2 else ""
            source = "; ".join(
                filter(None, [source, "set by the timeline on " + "; ".join(dates[:2]) + more])
            )
        exact = _shown(_value_at(values, info.path)) if scenario else None
        value = _shown(_value_at(values, info.path), rounded=True) if scenario else None
        changed = (
            exact is not None
            and value is not None
            and not _same(exact, _DEFAULT_SHOWN.get(info.default, info.default))
            and value != "(table)"
            and not info.path.endswith("[]")
            and ("[]" not in info.path or not value.startswith("(0 items)"))
        )
        rows.append(
            ParameterRow(
                info.path,
                _DEFAULT_WORDS.get(info.default, info.default),
                value,
                changed,
                info.allowed,
                info.description,
                source,
            )
        )
    return rows


def _fields_near(section: str) -> str:
    """What `chistka params SECTION` takes, for a SECTION that no field starts with.

    The fields one level below the longest part of SECTION that some field starts with (the
    sections themselves for a typo in the first part).
    """
    from chistka.scenario.reference import fields

    paths = [info.path for info in fields()]
    parts = section.split(".")
    while parts:
        prefix = ".".join(parts[:-1])
        if not prefix or any(path.startswith(prefix + ".") for path in paths):
            break
        parts.pop()
    prefix = ".".join(parts[:-1])
    depth = prefix.count(".") + 1 if prefix else 0
    near = sorted(
        {
            ".".join(path.split(".")[: depth + 1])
            for path in paths
            if not prefix or path.startswith(prefix + ".")
        }
    )
    where = f"fields of '{prefix}'" if prefix else "sections"
    return f"{where}: {', '.join(near)}"


def params_command(
    section: Annotated[
        str | None, typer.Argument(help="only fields whose path starts with this, e.g. 'arrest'")
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario",
            help="built-in scenario name or TOML file: show its values beside the defaults, and "
            "the source its file gives for each",
        ),
    ] = None,
) -> None:
    """List every scenario field: default (and a scenario's value), unit or range, source."""
    try:
        rows = parameter_rows(scenario, section)
    except ChistkaError as exc:
        fail(str(exc))
    if not rows:
        fail(f"no scenario field starts with '{section}'; {_fields_near(section or '')}")
    title = "Scenario fields" + (f": {scenario} beside the defaults" if scenario else "")
    table = Table(title=escape(title))
    columns = ["field", "default"] + (["value"] if scenario else [])
    table.add_column("field", no_wrap=True)  # whole, so that a name can be found and copied
    for column in [*columns[1:], "unit / range", "description", "source"]:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*_parameter_cells(row))

    def narrow() -> Table:
        # the field on its own line and its description under it; the values beside
        stacked = Table(title=escape(title), show_lines=True, **NARROW)
        stacked.add_column(
            "field\ndescription; source",
            overflow="fold",
            min_width=max(len(row.path) for row in rows),
            ratio=3,
        )
        stacked.add_column(
            "default" + ("\nvalue" if scenario else "") + "\nunit / range", overflow="fold", ratio=1
        )
        for row in rows:
            path, default, *value, allowed, description, source = _parameter_cells(row)
            words = description + (f"\n[dim]source: {source}[/]" if source else "")
            stacked.add_row(
                f"[bold]{path}[/]" + (f"\n{words}" if words else ""),
                "\n".join(text for text in (default, *value, allowed) if text),
            )
        return stacked

    console.print(Fitting(table, narrow))


def _parameter_cells(row: ParameterRow) -> list[str]:
    """A row of `chistka params` as cells: field, default, [value,] range, description, source."""
    cells = [escape(row.path), escape(row.default)]
    if row.value is not None:
        cells.append(f"[bold]{escape(row.value)}[/]" if row.changed else escape(row.value))
    return [*cells, escape(row.allowed), escape(row.description), escape(row.source)]
