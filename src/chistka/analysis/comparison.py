"""A run against the historical record: the compared figures, the run's summary, its directory.

`comparison` computes, for each record row a run can be compared with (see
`chistka.record.compared_observables`), the model's value beside the record's with the tolerance
and whether the model is inside it. `run_summary` adds the comparison to the run's own figures
(`Results.summary`), and `save_run` writes a run's directory with both (comparison.csv and the
summary in summary.json) beside the tables `Results.save` writes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from chistka.analysis.observables import ObservableOutOfRun, compute, is_share
from chistka.record import ComparedObservable, compared_observables, get
from chistka.results import Results


def comparison(results: Results) -> pd.DataFrame:
    """The run against the record rows it can be compared with (model, record, tolerance).

    `tolerance` is the tolerance as text (points for shares, a percentage for relative ones);
    `allowed` is the largest distance from the record, in its units, that counts as inside.
    """
    rows = []
    compare = results.provenance.get("parameters", {}).get("scenario", {}).get("compare")
    for spec in compared_observables():
        if compare is not None and spec.observable.split(":")[0] not in compare:
            continue
        try:
            model = compute(results, spec.observable)
        except ObservableOutOfRun:
            continue
        row = get(spec.record_id)
        record = float(row.value) if row.value is not None else math.nan
        rows.append(
            {
                "record_id": spec.record_id,
                "observable": spec.observable,
                "label": spec.label,
                "model": model,
                "record": record,
                "low": row.low,
                "high": row.high,
                "tolerance": tolerance_text(spec),
                "allowed": allowed_distance(spec, record),
                "inside": spec.inside(model, record),
                "verified": row.verified,
                "source": row.source,
            }
        )
    return pd.DataFrame(rows)


def tolerance_text(spec: ComparedObservable) -> str:
    """A tolerance as people read it: '±3 points' for a share, '±0.5' or '±10%' otherwise."""
    if spec.tolerance_kind != "absolute":
        return f"±{spec.tolerance:.0%}"
    if is_share(spec.observable):
        return f"±{spec.tolerance * 100:g} points"
    return f"±{spec.tolerance:g}"


def allowed_distance(spec: ComparedObservable, record: float) -> float:
    """The largest distance of the model from `record` inside the tolerance, in its units."""
    if spec.tolerance_kind == "absolute":
        return spec.tolerance
    return spec.tolerance * abs(record)


def run_summary(results: Results, table: pd.DataFrame | None = None) -> dict[str, Any]:
    """The run's key figures (`Results.summary`) with its comparison with the record.

    `table` is the run's `comparison` where the caller has it already.
    """
    table = comparison(results) if table is None else table
    summary = results.summary()
    provenance = summary.pop("provenance")
    return {
        **summary,
        "comparison": table.to_dict(orient="records"),
        "comparison_inside": int(table["inside"].sum()) if len(table) else 0,
        "comparison_rows": len(table),
        "provenance": provenance,
    }


def save_run(
    results: Results,
    out_dir: str | Path,
    *,
    extra: Callable[[Path], None] | None = None,
    force: bool = False,
) -> Path:
    """Write a run's directory atomically: `Results.save`'s files, comparison.csv, the summary.

    `extra(directory)` writes more files into the same directory before it is moved into place
    (the command line writes the report there).
    """
    table = comparison(results)

    def write_more(directory: Path) -> None:
        table.to_csv(directory / "comparison.csv", index=False)
        if extra is not None:
            extra(directory)

    return results.save(
        out_dir, summary=run_summary(results, table), extra=write_more, force=force
    )
