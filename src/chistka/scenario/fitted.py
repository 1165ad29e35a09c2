"""The values of a built-in scenario that were fitted to the record, from its free file.

Each built-in scenario's free-parameter file (``chistka/scenario/free/NAME.toml``) lists, besides
the ``[[free]]`` parameters `chistka calibrate` may vary, every value of the scenario that was
fitted to rows of the record, by hand or by a script, as ``[[fitted]]`` tables::

    [[fitted]]
    path = "sentencing.death_share"     # the parameter ('campaigns.NAME.threshold' for a campaign)
    date = 1938-03-01                   # the timeline event that sets it (absent: from day one)
    targets = ["death_sentences_1938"]  # the record rows it was fitted to
    by = "hand"                         # "calibrate" (the default) or "hand": chosen by hand
    note = "the earlier hand fit, not refitted"

Runs carry the list in provenance.json, so that a run says which of its values are fits, and the
parameter budget counts every one of them, by hand or not (`analysis.comparison.parameter_budget`).
The list is the file's for the scenario's name, less the values the run's scenario changed
(`fitted_in`): a scenario file that keeps a built-in's name but not its values is no fit. The
values a user's `chistka calibrate` fitted are fits too: its fitted.toml sets them again on the
first day by an event noted `FITTED_NOTE`, and the list names them, under any scenario name.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import tomllib
from importlib import resources
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from chistka.scenario.schema import LIST_SECTIONS

if TYPE_CHECKING:
    from chistka.scenario.schema import Scenario

FITTED_KEYS = ("path", "date", "targets", "by", "note")
"""Keys of a ``[[fitted]]`` table."""

FITTED_BY = ("calibrate", "hand")
"""Who fitted a value: `chistka calibrate` (through scripts/fit_scenario.py) or a person by hand."""

FITTED_NOTE = "parameters fitted by chistka calibrate"
"""Note of the policy event of the first day that sets the values `chistka calibrate` fitted
(in its trials and in the fitted.toml it writes)."""


FITTED_SCALE = re.compile(r"population\.scale (?P<scale>[0-9.eE+-]+)\s*$")
"""The scale a calibrate study fitted at, at the end of its event's source (as
`chistka.analysis.fitted_file` writes it: '..., seeds 1, 2, population.scale 0.02')."""


def fitted_scale(scenario: Scenario) -> float | None:
    """The population.scale of the fit of the values `chistka calibrate` wrote into the scenario.

    Read from the source of the first day's event noted `FITTED_NOTE` (the last such, as it
    holds). None for a scenario without one, or whose source does not say.
    """
    found = None
    for event in scenario.events:
        if event.date != scenario.scenario.start or event.note != FITTED_NOTE:
            continue
        match = FITTED_SCALE.search(event.source or "")
        if match is not None:
            try:
                found = float(match["scale"])
            except ValueError:
                continue
    return found


def fitted_parameters(scenario_name: str) -> list[dict[str, Any]]:
    """The fitted values declared for a scenario's name (empty for a scenario without a file)."""
    entry = resources.files("chistka.scenario") / "free" / f"{scenario_name}.toml"
    if not entry.is_file():
        return []
    return parse_fitted(tomllib.loads(entry.read_text(encoding="utf-8")), scenario_name)


def parse_fitted(data: dict[str, Any], scenario_name: str) -> list[dict[str, Any]]:
    """The ``[[fitted]]`` tables of a parsed free file, each with every key (defaults filled).

    Raises:
        ValueError: a table with a key not in `FITTED_KEYS` or a `by` not in `FITTED_BY`.
    """
    fitted = []
    for i, table in enumerate(data.get("fitted", [])):
        unknown = [key for key in table if key not in FITTED_KEYS]
        by = str(table.get("by", "calibrate"))
        if unknown or by not in FITTED_BY:
            problem = f"unknown key '{unknown[0]}'" if unknown else f"by = '{by}'"
            raise ValueError(
                f"free file of {scenario_name}: fitted[{i}]: {problem}; keys allowed: "
                f"{', '.join(FITTED_KEYS)}; by: {' or '.join(FITTED_BY)}"
            )
        date = table.get("date")
        fitted.append(
            {
                "path": str(table["path"]),
                "date": date.isoformat() if isinstance(date, dt.date) else None,
                "targets": [str(target) for target in table.get("targets", [])],
                "by": by,
                "note": str(table.get("note", "")),
            }
        )
    return fitted


def current_value(scenario: Scenario, path: str) -> Any:
    """The scenario's value of a parameter path (None where the path names nothing)."""
    parts = path.split(".")
    if parts[0] in LIST_SECTIONS:
        if len(parts) != 3:
            return None
        for item in getattr(scenario, parts[0]):
            if item.name == parts[1]:
                return getattr(item, parts[2], None)
        return None
    node: Any = scenario
    for part in parts:
        if not isinstance(node, BaseModel) or part not in type(node).model_fields:
            return None
        node = getattr(node, part)
    return node


def _touches(key: str, paths: set[str]) -> bool:
    """Whether an event's key ('section.field', a group, 'campaigns.NAME.field') sets a path."""
    return any(path == key or path.startswith(key + ".") for path in paths)


def fitted_values(scenario: Scenario, entries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Each fitted entry's values in the scenario, what `fitted_in` compares.

    For an entry without a date: its own value (that of the spin-up) and its value on the first
    day, after that day's events; for one with a date: its value on that date, after the events
    of that day (those the timeline's `[[events]]` set it by). Events apply in date order, as
    the day loop applies them, and only those that set one of the entries' paths.
    """
    paths = {entry["path"] for entry in entries}
    events = sorted(
        (e for e in scenario.events if any(_touches(key, paths) for key in e.set)),
        key=lambda e: e.date,
    )
    dates = {scenario.scenario.start} | {
        dt.date.fromisoformat(entry["date"]) for entry in entries if entry.get("date")
    }
    on: dict[dt.date, Scenario] = {}
    current, done = scenario, 0
    for date in sorted(dates):
        while done < len(events) and events[done].date <= date:
            current = current.with_parameters(events[done].set, where="event")
            done += 1
        on[date] = current
    values = []
    for entry in entries:
        path, date = entry["path"], entry.get("date")
        if date:
            values.append((current_value(on[dt.date.fromisoformat(date)], path),))
        else:
            start = on[scenario.scenario.start]
            values.append((current_value(scenario, path), current_value(start, path)))
    return values


@functools.lru_cache(maxsize=8)
def _builtin_fits(name: str) -> tuple[tuple[dict[str, Any], tuple[Any, ...]], ...]:
    """The built-in scenario's fitted entries with their values in it (none without a file).

    Cached: the built-in's file does not change while a process runs, and sweeps build many
    runs of one scenario.
    """
    from chistka.scenario import _builtin_dir, builtin_scenarios, scenario_from_dict

    entries = fitted_parameters(name)
    if not entries or name not in builtin_scenarios():
        return tuple((entry, ()) for entry in entries)
    text = (_builtin_dir() / f"{name}.toml").read_text(encoding="utf-8")
    builtin = scenario_from_dict(tomllib.loads(text), f"'{name}' (built-in)")
    return tuple(zip(entries, fitted_values(builtin, entries), strict=True))


def calibrated_here(scenario: Scenario) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The values a `chistka calibrate` study fitted into this scenario, and those a run changed.

    They are what the scenario's first-day events noted `FITTED_NOTE` set, with the event's
    source (the study: its date, targets, loss, trials and seeds) as the note. Where a later event
    of the first day sets the path again (a value given for the run, `apply_overrides`), the
    value is no fit: it goes to the second list with the run's value and the study's.
    """
    start = scenario.scenario.start
    fitted: dict[str, dict[str, Any]] = {}
    changed: dict[str, dict[str, Any]] = {}
    for event in scenario.events:
        if event.date != start:
            continue
        for key, value in event.set.items():
            if event.note == FITTED_NOTE:
                changed.pop(key, None)
                fitted[key] = {
                    "path": key,
                    "date": None,
                    "targets": [],
                    "by": "calibrate",
                    "note": f"fitted in this scenario: {event.source}".rstrip(": "),
                    "fitted_value": value,
                }
                continue
            for path in [p for p in fitted if p == key or p.startswith(key + ".")]:
                entry = fitted.pop(path)
                changed[path] = {**entry, "value": current_value(scenario, path)}
    kept = [{k: v for k, v in entry.items() if k != "fitted_value"} for entry in fitted.values()]
    return kept, list(changed.values())


def fitted_in(scenario: Scenario) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The fitted values a run of the scenario has, and those its scenario changed.

    The entries are those of the built-in free file for the scenario's name; one is kept where
    the scenario has the built-in's value at its path (on its date, where it has one: see
    `fitted_values`), so that a run of the built-in, or of an unchanged copy of it, lists them
    all, and a user's file that keeps the name but changes a value, or a what-if's --set, does
    not call the value fitted. A changed entry adds `value`, the scenario's, and
    `fitted_value`, the built-in's (the first of `fitted_values`' that differs). The values a
    user's calibration fitted into the scenario (`calibrated_here`) are listed as fitted, in
    place of the built-in's entries for the same paths (from the first day on: an entry dated
    later keeps its own test), and a run's change of one of them as changed from the study's
    value.
    """
    study, study_changed = calibrated_here(scenario)
    refitted = {entry["path"] for entry in [*study, *study_changed]}
    fits = [
        (entry, values)
        for entry, values in _builtin_fits(scenario.scenario.name)
        if entry["path"] not in refitted or entry["date"]
    ]
    entries = [dict(entry) for entry, _ in fits]
    kept, changed = [], []
    for (entry, fitted), values in zip(fits, fitted_values(scenario, entries), strict=True):
        differ = [(v, f) for v, f in zip(values, fitted, strict=False) if v != f]
        if not fitted or not differ:
            kept.append(dict(entry))
        else:
            changed.append({**entry, "value": differ[0][0], "fitted_value": differ[0][1]})
    return kept + study, changed + study_changed
