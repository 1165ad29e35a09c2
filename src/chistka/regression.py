"""Regression summaries: the figures of a run that a stored reference is compared against.

`scripts/refresh_regression.py` stores one summary per built-in scenario under
`tests/regression/` (the only way to change them); the regression tests recompute it and list
the differences. How figures are compared depends on what can move them:

- **Integers count agents** (events by kind, party statuses on 1 January). They change only
  when a decision changes (a draw, a comparison), that is when the results change, so they are
  compared exactly.
- **Floats are sums in persons and their ratios.** Their last bits depend on the order of the
  sums, which NumPy (pairwise summation, SIMD width) and numba (vectorisation, fastmath) may
  change between versions. They are compared with a relative tolerance of `RELATIVE_TOLERANCE`
  (1e-6): a million times the rounding of a double, about ten times that of a float32 running
  sum, yet below one citizen agent (20 persons at the default scale) in any figure under 2*10^7
  persons, so a change in results shows in the floats as well as in the counts.

A change in rounding could in principle flip one of a run's comparisons of a draw with a
probability; with ~10^8 comparisons a run, each within ~10^-16 of its threshold, that has a
chance of ~10^-8. What an upgrade can really change is a random stream itself: NumPy does not
promise that `Generator` methods give the same draws across versions (NEP 19). Then the results
do change, the test says which figures moved, and the summaries are refreshed with the script
after checking that the calibration rows still hold.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chistka.analysis.comparison import comparison
from chistka.people import Status
from chistka.results import Results
from chistka.state import EventKind

RELATIVE_TOLERANCE = 1e-6
"""Relative tolerance of the float figures of a summary (see the module docstring)."""


def regression_summary(results: Results) -> dict[str, Any]:
    """Observables compared with the record, campaign outcomes, yearly membership and counts.

    Floats are in persons (or shares); `events`, `events_by_kind` and `agents_1_january` are
    integers (agents).
    """
    membership = results.membership()
    yearly = membership[(membership.index.month == 1) & (membership.index.day == 1)]
    kinds = np.bincount(results.events["kind"].astype(np.int64), minlength=len(EventKind))
    by_status = results.counts.sum(axis=(2, 3))  # [day, status] agents
    dates = results.dates
    first_of_year = np.flatnonzero((dates.month == 1) & (dates.day == 1))
    return {
        "scenario": results.provenance["scenario"],
        "seed": results.provenance["seed"],
        "scale": results.scale,
        "observables": {
            row.observable: (None if math.isnan(row.model) else float(row.model))
            for row in comparison(results).itertuples()
        },
        "campaigns": {
            row["campaign"]: {k: float(v) for k, v in row.items() if k != "campaign"}
            for row in results.campaigns().to_dict(orient="records")
        },
        "membership_1_january": {
            str(date.date()): {k: float(v) for k, v in row.items()}
            for date, row in yearly.iterrows()
        },
        "events": int(len(results.events["day"])),
        "events_by_kind": {kind.name.lower(): int(kinds[kind]) for kind in EventKind},
        "agents_1_january": {
            str(dates[day].date()): {s.name.lower(): int(by_status[day, s]) for s in Status}
            for day in first_of_year
        },
    }


def differences(
    stored: Any, fresh: Any, rel: float = RELATIVE_TOLERANCE, path: str = ""
) -> list[str]:
    """Paths where two summaries differ: integers exactly, floats beyond `rel`, or structure."""
    found: list[str] = []
    if isinstance(stored, dict) and isinstance(fresh, dict):
        for key in sorted(set(stored) | set(fresh)):
            where = f"{path}.{key}" if path else str(key)
            if key not in stored or key not in fresh:
                found.append(f"{where}: only in {'fresh' if key in fresh else 'stored'}")
            else:
                found += differences(stored[key], fresh[key], rel, where)
    elif _is_integer(stored) and _is_integer(fresh):
        if stored != fresh:
            found.append(f"{path}: stored {stored!r}, fresh {fresh!r} (counts agree exactly)")
    elif isinstance(stored, float) and isinstance(fresh, float):
        if not (
            math.isclose(stored, fresh, rel_tol=rel, abs_tol=1e-12)
            or (math.isnan(stored) and math.isnan(fresh))
        ):
            found.append(f"{path}: stored {stored!r}, fresh {fresh!r}")
    elif type(stored) is not type(fresh) or stored != fresh:
        found.append(f"{path}: stored {stored!r}, fresh {fresh!r}")
    return found


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
