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
"""

from __future__ import annotations

import datetime as dt
import tomllib
from importlib import resources
from typing import Any

FITTED_KEYS = ("path", "date", "targets", "by", "note")
"""Keys of a ``[[fitted]]`` table."""

FITTED_BY = ("calibrate", "hand")
"""Who fitted a value: `chistka calibrate` (through scripts/fit_scenario.py) or a person by hand."""


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
