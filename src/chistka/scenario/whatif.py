"""What-if scenarios: a scenario without some of its documented decisions.

The project's questions are counterfactual (what if there had been no Order 00447, no halt?),
and a scenario's decisions are named parts of it, so a what-if removes them by name and leaves
everything else, the fitted values included, as it was:

- `operations.NAME`: an operation under limits (Order 00447, a national operation), and every
  setting of its fields by the timeline;
- `events.YYYY-MM-DD`: the timeline's decisions of that day (the halt: `events.1938-11-17`);
- `campaigns.NAME`: a purge campaign; `show_trials.NAME`: a show trial.

The scenario's description says what was left out, so that every output (the provenance, a
sweep's plan.json) carries it. What a removed decision would have been followed by is not
invented: an operation's end date is the halt's, so a run without the halt but with its
operations still has them end on the day the halt ended them unless the end is changed too
(`--set operations.NAME.end=...`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from chistka.errors import ScenarioError, closest, did_you_mean
from chistka.scenario.schema import Scenario

NAMED_SECTIONS = ("operations", "campaigns", "show_trials")
"""Sections whose items a what-if removes by name."""


def removable(scenario: Scenario) -> list[str]:
    """Every name `without` takes for this scenario, in the scenario's order."""
    names = [f"events.{day}" for day in sorted({event.date for event in scenario.events})]
    for section in NAMED_SECTIONS:
        names += [f"{section}.{item.name}" for item in getattr(scenario, section)]
    return names


def decision_notes(scenario: Scenario) -> dict[str, str]:
    """What each decision a what-if can leave out was, in words, by its name (`removable`).

    A date of the timeline: the notes of its events; an operation or a campaign: its label and
    dates; a show trial: its verdict's date and its defendants. Used by the web app's boxes
    and by `chistka scenarios show NAME --list-decisions`.
    """
    notes: dict[str, list[str]] = {}
    for event in scenario.events:
        if event.note:
            notes.setdefault(f"events.{event.date}", []).append(event.note)
    named = {name: "; ".join(texts) for name, texts in notes.items()}
    for section in ("operations", "campaigns"):
        for item in getattr(scenario, section, []):
            named[f"{section}.{item.name}"] = (
                f"{item.label or item.name}, {item.start} to {item.end}"
            )
    for trial in getattr(scenario, "show_trials", []):
        named[f"show_trials.{trial.name}"] = (
            f"show trial, verdict on {trial.date}: {trial.defendants} defendants, {trial.shot} shot"
        )
    return named


def _suggestion(name: str, allowed: list[str]) -> str:
    """'did you mean ...? ' for a decision: the closest of its kind, by the part after the kind.

    The kind ('operations.', 'events.', ...) is shared by every decision of that kind, so on the
    whole name any two of a kind looked alike ('operations.nope' was offered
    'operations.polish', QA 45).
    """
    kind, dot, rest = name.partition(".")
    same = [a.split(".", 1)[1] for a in allowed if a.startswith(kind + ".")]
    if not dot or not same:
        return did_you_mean(name, allowed)
    match = closest(rest, same)
    return f"did you mean '{kind}.{match}'? " if match else ""


def without(scenario: Scenario, names: Sequence[str], where: str = "--without") -> Scenario:
    """The scenario without the decisions `names` (see the module's docstring).

    Raises:
        ScenarioError: a name that is not one of `removable(scenario)` (the message lists them),
            or a scenario the removal leaves invalid (the message says why).
    """
    from chistka.scenario import scenario_from_dict

    if not names:
        return scenario
    allowed = removable(scenario)
    for name in names:
        if name not in allowed:
            raise ScenarioError(
                f"{where} {name!r}: not a decision of scenario {scenario.scenario.name!r}; "
                f"{_suggestion(name, allowed)}it has {', '.join(allowed) or 'none'}"
            )
    data: dict[str, Any] = scenario.model_dump(mode="json")
    dropped_days = {dt.date.fromisoformat(n.split(".", 1)[1]) for n in names if n[:7] == "events."}
    data["events"] = [
        event
        for event in data["events"]
        if dt.date.fromisoformat(event["date"]) not in dropped_days
    ]
    for section in NAMED_SECTIONS:
        gone = {n.split(".", 1)[1] for n in names if n.startswith(f"{section}.")}
        if not gone:
            continue
        data[section] = [item for item in data[section] if item["name"] not in gone]
        prefixes = tuple(f"{section}.{name}." for name in gone)
        for event in data["events"]:
            event["set"] = {k: v for k, v in event["set"].items() if not k.startswith(prefixes)}
    note = f"[what-if: without {', '.join(names)}]"
    description = data["scenario"].get("description") or ""
    data["scenario"]["description"] = f"{description} {note}".strip()
    return scenario_from_dict(data, f"{where} {' '.join(names)}")
