"""The values of a built-in scenario that were fitted to the record, from its free file.

Each built-in scenario's free-parameter file (``chistka/scenario/free/NAME.toml``) lists, besides
the ``[[free]]`` parameters `chistka calibrate` may vary, every value of the scenario that was
fitted to rows of the record, by hand or by a script, as ``[[fitted]]`` tables::

    [[fitted]]
    path = "sentencing.death_share"     # the parameter ('campaigns.NAME.threshold' for a campaign)
    date = 1938-03-01                   # the timeline event that sets it (absent: from day one)
    targets = ["death_sentences_1938"]  # the record rows it was fitted to
    note = "by hand"

Runs carry the list in provenance.json, so that a run says which of its values are fits.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from importlib import resources
from typing import Any

FITTED_KEYS = ("path", "date", "targets", "note")
"""Keys of a ``[[fitted]]`` table."""


def fitted_parameters(scenario_name: str) -> list[dict[str, Any]]:
    """The fitted values declared for a scenario's name (empty for a scenario without a file)."""
    entry = resources.files("chistka.scenario") / "free" / f"{scenario_name}.toml"
    if not entry.is_file():
        return []
    data = tomllib.loads(entry.read_text(encoding="utf-8"))
    fitted = []
    for table in data.get("fitted", []):
        date = table.get("date")
        fitted.append(
            {
                "path": str(table["path"]),
                "date": date.isoformat() if isinstance(date, dt.date) else None,
                "targets": [str(target) for target in table.get("targets", [])],
                "note": str(table.get("note", "")),
            }
        )
    return fitted
