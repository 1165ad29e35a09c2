"""Regression summaries: the figures of a run that a stored reference is compared against.

`scripts/refresh_regression.py` stores one summary per built-in scenario under
`tests/regression/`; the regression test recomputes it and compares with a tolerance.
"""

from __future__ import annotations

import math
from typing import Any

from chistka.analysis.comparison import comparison
from chistka.results import Results


def regression_summary(results: Results) -> dict[str, Any]:
    """Observables compared with the record, campaign outcomes and yearly membership."""
    membership = results.membership()
    yearly = membership[(membership.index.month == 1) & (membership.index.day == 1)]
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
    }


def differences(
    stored: dict[str, Any], fresh: dict[str, Any], rel: float = 1e-6, path: str = ""
) -> list[str]:
    """Paths where two summaries differ by more than `rel` (relative) or in structure."""
    found: list[str] = []
    if isinstance(stored, dict) and isinstance(fresh, dict):
        for key in sorted(set(stored) | set(fresh)):
            where = f"{path}.{key}" if path else str(key)
            if key not in stored or key not in fresh:
                found.append(f"{where}: only in {'fresh' if key in fresh else 'stored'}")
            else:
                found += differences(stored[key], fresh[key], rel, where)
    elif isinstance(stored, int | float) and isinstance(fresh, int | float):
        a, b = float(stored), float(fresh)
        if not (
            math.isclose(a, b, rel_tol=rel, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
        ):
            found.append(f"{path}: stored {a!r}, fresh {b!r}")
    elif stored != fresh:
        found.append(f"{path}: stored {stored!r}, fresh {fresh!r}")
    return found
